/* workflow.c - loading, checking and querying service workflows.
 *
 * workflow_parse is the only way in: it refuses any definition that breaks a
 * rule of workflow.h and names the offending field by its JSON path, so an
 * administrator can find the mistake. The queries after it may then assume a
 * consistent workflow. See workflow.h.
 */
#include "domain/workflow.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "domain/validate.h"

/* After snprintf has cut a string short, drops a UTF-8 sequence left
 * incomplete at the end, so that the text stays valid for JSON output. */
static void wf_trim_utf8(char *s)
{
    size_t len = strlen(s);
    size_t start = len;
    while (start > 0 && len - start < 4 && ((unsigned char)s[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0)
        return;
    unsigned char lead = (unsigned char)s[start - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (start - 1) < need)
        s[start - 1] = '\0';
}

/* Field paths and messages quote keys and codes from the definition; a
 * control character in one (C0, DEL or C1) becomes '?', so the error can be
 * shown anywhere. */
static void wf_replace_controls(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7F) {
            *p = '?';
        } else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            p[0] = '?';
            p[1] = '?';
            p++;
        }
    }
}

static void wf_vformat(char *dst, size_t n, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void wf_vformat(char *dst, size_t n, const char *fmt, va_list ap)
{
    int w = vsnprintf(dst, n, fmt, ap);
    if (w < 0)
        dst[0] = '\0';
    else if ((size_t)w >= n)
        wf_trim_utf8(dst);
    wf_replace_controls(dst);
}

/* Records the path of the offending field; call wf_fail next. */
static void wf_field(wf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wf_field(wf_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wf_vformat(err->field, sizeof(err->field), fmt, ap);
    va_end(ap);
}

/* Records the sentence explaining the failure and returns -1. */
static int wf_fail(wf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int wf_fail(wf_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wf_vformat(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* A JSON string's text when it holds no NUL byte, else NULL: an embedded NUL
 * would make two different strings compare equal as C strings. */
static const char *wf_string(const json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    return strlen(s) == json_string_length(v) ? s : NULL;
}

/* True when `key` (of `len` bytes) is one of the NULL-terminated `allowed`. */
static bool wf_key_known(const char *key, size_t len, const char *const *allowed)
{
    if (strlen(key) != len)
        return false;
    for (size_t i = 0; allowed[i]; i++) {
        if (strcmp(key, allowed[i]) == 0)
            return true;
    }
    return false;
}

static bool wf_valid_code(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= WF_CODE_MAX || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return n > 0;
}

static long wf_find(const wf_stage *stages, size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(stages[i].code, code) == 0)
            return (long)i;
    }
    return -1;
}

static const char *const wf_top_keys[] = {"initial", "stages", "transitions", NULL};
static const char *const wf_stage_keys[] = {"code", "name", "milestone", "terminal", NULL};

static int wf_parse_stage(arena *a, const json_t *def, wf_stage *stages, size_t i, wf_error *err)
{
    const char *key;
    size_t key_len;
    json_t *v;

    if (!json_is_object(def)) {
        wf_field(err, "workflow.stages[%zu]", i);
        return wf_fail(err, "Each stage must be an object with a code and a name.");
    }
    json_object_keylen_foreach((json_t *)def, key, key_len, v)
    {
        if (!wf_key_known(key, key_len, wf_stage_keys)) {
            wf_field(err, "workflow.stages[%zu].%s", i, key);
            return wf_fail(err, "Unknown field: a stage has code, name, milestone and terminal.");
        }
    }

    const char *code = wf_string(json_object_get(def, "code"));
    if (!code || !wf_valid_code(code)) {
        wf_field(err, "workflow.stages[%zu].code", i);
        return wf_fail(err, "A stage code is 1 to %d lower-case letters, digits or underscores.",
                       WF_CODE_MAX);
    }
    long dup = wf_find(stages, i, code);
    if (dup >= 0) {
        wf_field(err, "workflow.stages[%zu].code", i);
        return wf_fail(err, "The code '%s' is already used by stages[%ld].", code, dup);
    }

    const char *name = wf_string(json_object_get(def, "name"));
    if (!name || !name[0] || !valid_text(name, WF_NAME_MAX, false)) {
        wf_field(err, "workflow.stages[%zu].name", i);
        return wf_fail(err, "A stage name is 1 to %d bytes of text without control characters.",
                       WF_NAME_MAX);
    }

    static const char *const flags[] = {"milestone", "terminal"};
    bool values[2] = {false, false};
    for (size_t f = 0; f < 2; f++) {
        v = json_object_get(def, flags[f]);
        if (v && !json_is_boolean(v)) {
            wf_field(err, "workflow.stages[%zu].%s", i, flags[f]);
            return wf_fail(err, "Must be true or false.");
        }
        values[f] = json_is_true(v);
    }

    stages[i].code = arena_strdup(a, code);
    stages[i].name = arena_strdup(a, name);
    if (!stages[i].code || !stages[i].name) {
        wf_field(err, "workflow");
        return wf_fail(err, "Out of memory while loading the workflow.");
    }
    stages[i].milestone = values[0];
    stages[i].terminal = values[1];
    return 0;
}

/* Fills the `next` list of stage `from` from the array `list`. */
static int wf_parse_moves(arena *a, wf_stage *stages, size_t n, size_t from, const json_t *list,
                          wf_error *err)
{
    wf_stage *st = &stages[from];
    wf_field(err, "workflow.transitions.%s", st->code);
    if (!json_is_array(list))
        return wf_fail(err, "Must be a list of the stage codes that may follow '%s'.", st->code);
    size_t count = json_array_size(list);
    if (count == 0)
        return 0;
    if (st->terminal)
        return wf_fail(err, "'%s' is a terminal stage: nothing may follow it.", st->code);
    if (count > n)
        return wf_fail(err, "Lists more stages than the workflow has.");
    st->next = arena_calloc(a, count, sizeof(*st->next));
    if (!st->next)
        return wf_fail(err, "Out of memory while loading the workflow.");

    for (size_t j = 0; j < count; j++) {
        const char *to = wf_string(json_array_get(list, j));
        if (!to)
            return wf_fail(err, "Item %zu is not a stage code.", j);
        long k = wf_find(stages, n, to);
        if (k < 0)
            return wf_fail(err, "'%s' is not a stage of this workflow.", to);
        for (size_t m = 0; m < st->n_next; m++) {
            if (st->next[m] == (size_t)k)
                return wf_fail(err, "'%s' is listed twice.", to);
        }
        st->next[st->n_next++] = (size_t)k;
    }
    return 0;
}

static int wf_parse_transitions(arena *a, const json_t *def, wf_stage *stages, size_t n,
                                wf_error *err)
{
    const char *key;
    size_t key_len;
    json_t *v;

    if (!json_is_object(def)) {
        wf_field(err, "workflow.transitions");
        return wf_fail(err, "Must be an object giving, for each stage, the stages that may "
                            "follow it.");
    }
    json_object_keylen_foreach((json_t *)def, key, key_len, v)
    {
        long from = strlen(key) == key_len ? wf_find(stages, n, key) : -1;
        if (from < 0) {
            wf_field(err, "workflow.transitions.%s", key);
            return wf_fail(err, "'%s' is not a stage of this workflow.", key);
        }
        if (wf_parse_moves(a, stages, n, (size_t)from, v, err) != 0)
            return -1;
    }
    return 0;
}

static int wf_parse_initial(const json_t *def, const wf_stage *stages, size_t n, size_t *initial,
                            wf_error *err)
{
    wf_field(err, "workflow.initial");
    if (!def || json_is_null(def)) {
        if (stages[0].terminal)
            return wf_fail(err,
                           "The first stage, '%s', is terminal, so name a non-terminal "
                           "initial stage.",
                           stages[0].code);
        *initial = 0;
        return 0;
    }
    const char *code = wf_string(def);
    if (!code)
        return wf_fail(err, "Must be the code of a stage.");
    long k = wf_find(stages, n, code);
    if (k < 0)
        return wf_fail(err, "'%s' is not a stage of this workflow.", code);
    if (stages[k].terminal)
        return wf_fail(err, "'%s' is a terminal stage, so a case could not start there.", code);
    *initial = (size_t)k;
    return 0;
}

int workflow_parse(arena *a, const json_t *def, workflow *out, wf_error *err)
{
    const char *key;
    size_t key_len;
    json_t *v;
    wf_stage *stages = NULL;
    size_t n = 0, initial = 0;

    memset(out, 0, sizeof(*out));
    err->field[0] = '\0';
    err->message[0] = '\0';

    if (!json_is_object(def)) {
        wf_field(err, "workflow");
        return wf_fail(err, "The workflow must be an object with stages and transitions.");
    }
    json_object_keylen_foreach((json_t *)def, key, key_len, v)
    {
        if (!wf_key_known(key, key_len, wf_top_keys)) {
            wf_field(err, "workflow.%s", key);
            return wf_fail(err, "Unknown field: a workflow has initial, stages and transitions.");
        }
    }

    const json_t *list = json_object_get(def, "stages");
    n = json_array_size(list);
    if (!json_is_array(list) || n == 0 || n > WF_MAX_STAGES) {
        wf_field(err, "workflow.stages");
        return wf_fail(err, "Must be a list of 1 to %d stages.", WF_MAX_STAGES);
    }
    stages = arena_calloc(a, n, sizeof(*stages));
    if (!stages) {
        wf_field(err, "workflow");
        return wf_fail(err, "Out of memory while loading the workflow.");
    }
    for (size_t i = 0; i < n; i++) {
        if (wf_parse_stage(a, json_array_get(list, i), stages, i, err) != 0)
            return -1;
    }

    const json_t *moves = json_object_get(def, "transitions");
    if (!moves) {
        wf_field(err, "workflow.transitions");
        return wf_fail(err, "Required: without transitions no case could ever move on.");
    }
    if (wf_parse_transitions(a, moves, stages, n, err) != 0)
        return -1;
    if (wf_parse_initial(json_object_get(def, "initial"), stages, n, &initial, err) != 0)
        return -1;

    bool any_terminal = false;
    for (size_t i = 0; i < n; i++)
        any_terminal = any_terminal || stages[i].terminal;
    if (!any_terminal) {
        wf_field(err, "workflow.stages");
        return wf_fail(err, "At least one stage must be terminal, so that cases can close.");
    }

    err->field[0] = '\0';
    out->stages = stages;
    out->n_stages = n;
    out->initial = initial;
    return 0;
}

const wf_stage *workflow_stage(const workflow *wf, const char *code)
{
    if (!code)
        return NULL;
    long k = wf_find(wf->stages, wf->n_stages, code);
    return k < 0 ? NULL : &wf->stages[k];
}

wf_rc workflow_check_move(const workflow *wf, const char *from, const char *to)
{
    const wf_stage *f = workflow_stage(wf, from);
    if (!f)
        return WF_UNKNOWN_STAGE;
    /* A closed case is reported as closed whatever stage was asked for. */
    if (f->terminal)
        return WF_FROM_TERMINAL;
    const wf_stage *t = workflow_stage(wf, to);
    if (!t)
        return WF_UNKNOWN_STAGE;
    for (size_t i = 0; i < f->n_next; i++) {
        if (&wf->stages[f->next[i]] == t)
            return WF_OK;
    }
    return WF_NOT_ALLOWED;
}

void workflow_describe_next(const workflow *wf, const char *from, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    const wf_stage *f = workflow_stage(wf, from);
    if (!f || f->n_next == 0) {
        snprintf(out, outlen, "none");
        return;
    }
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < f->n_next && used < outlen; i++) {
        const char *sep = i == 0 ? "" : i + 1 == f->n_next ? " or " : ", ";
        int w = snprintf(out + used, outlen - used, "%s%s", sep, wf->stages[f->next[i]].code);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}
