/* open311.c - Open311 metadata, stage statuses and attribute checks; see
 * open311.h.
 *
 * o311_service_parse is the only way metadata gets in, so the renderers and
 * the request checks may assume it is consistent with its workflow.
 */
#include "domain/open311.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain/validate.h"

static const char *const datatype_names[] = {
    [O311_STRING] = "string",
    [O311_NUMBER] = "number",
    [O311_DATETIME] = "datetime",
    [O311_TEXT] = "text",
    [O311_SINGLEVALUELIST] = "singlevaluelist",
    [O311_MULTIVALUELIST] = "multivaluelist",
};

/* "open" and "closed", then the extension's statuses. */
static const char *const statuses[] = {
    "open",
    "closed",
    "in_progress",
    "action_scheduled",
    "investigating",
    "planned",
    "fixed",
    "duplicate",
    "not_councils_responsibility",
    "no_further_action",
    "internal_referral",
    "cancelled",
    "for_triage",
    "reopen",
};
#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0]))

const char *o311_datatype_name(o311_datatype t)
{
    return datatype_names[t];
}

const char *o311_status_canonical(const char *s)
{
    for (size_t i = 0; s && i < N_STATUSES; i++)
        if (strcasecmp(s, statuses[i]) == 0)
            return statuses[i];
    return NULL;
}

static int o311_fail(wf_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int o311_fail(wf_error *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    snprintf(err->field, sizeof(err->field), "%s", field);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* A string member of 1..max bytes of text; absent gives *out = NULL, which
 * fails only when `required`. */
static int o311_string(const json_t *obj, const char *key, bool required, size_t max,
                       bool multiline, const char *field, arena *a, const char **out, wf_error *err)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return o311_fail(err, field, "%s is required", field);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        !valid_text(json_string_value(v), max, multiline))
        return o311_fail(err, field, "%s must be 1 to %zu bytes of text", field, max);
    *out = arena_strdup(a, json_string_value(v));
    return *out ? 0 : o311_fail(err, field, "out of memory");
}

static int o311_bool(const json_t *obj, const char *key, bool dflt, const char *field, bool *out,
                     wf_error *err)
{
    const json_t *v = json_object_get(obj, key);
    *out = dflt;
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return o311_fail(err, field, "%s must be true or false", field);
    *out = json_is_true(v);
    return 0;
}

static int o311_only(const json_t *obj, const char *const *allowed, const char *path, wf_error *err)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok) {
            char field[96];
            snprintf(field, sizeof(field), "%s%s", path, valid_text(key, 40, false) ? key : "?");
            return o311_fail(err, field, "%s is not a known field", field);
        }
    }
    return 0;
}

/* An array of 0..O311_WORDS_MAX short strings. */
static int o311_words(arena *a, const json_t *def, const char *key, const char ***out, size_t *n,
                      wf_error *err)
{
    const json_t *arr = json_object_get(def, key);
    char field[96];
    snprintf(field, sizeof(field), "open311.%s", key);
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) > O311_WORDS_MAX)
        return o311_fail(err, field, "%s must be a list of at most %d strings", field,
                         O311_WORDS_MAX);
    *out = arena_calloc(a, json_array_size(arr) + 1, sizeof(**out));
    if (!*out)
        return o311_fail(err, field, "out of memory");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *w = json_array_get(arr, i);
        if (!json_is_string(w) || json_string_length(w) == 0 ||
            !valid_text(json_string_value(w), 100, false) || strchr(json_string_value(w), ','))
            return o311_fail(err, field, "%s must hold 1 to 100 bytes of text without commas",
                             field);
        (*out)[i] = arena_strdup(a, json_string_value(w));
    }
    *n = json_array_size(arr);
    return 0;
}

static int o311_values(arena *a, const json_t *def, const char *field, o311_attr *at, wf_error *err)
{
    static const char *const fields[] = {"key", "name", NULL};
    const json_t *arr = json_object_get(def, "values");
    bool is_list = at->datatype == O311_SINGLEVALUELIST || at->datatype == O311_MULTIVALUELIST;
    char path[96];
    snprintf(path, sizeof(path), "%.60s.values", field);
    if (!arr || json_is_null(arr)) {
        if (is_list)
            return o311_fail(err, path, "a %s needs values", o311_datatype_name(at->datatype));
        return 0;
    }
    if (!is_list)
        return o311_fail(err, path, "only list datatypes take values");
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > O311_VALUES_MAX)
        return o311_fail(err, path, "values must be a list of 1 to %d {key, name} objects",
                         O311_VALUES_MAX);
    at->n_values = json_array_size(arr);
    at->values = arena_calloc(a, at->n_values, sizeof(*at->values));
    if (!at->values)
        return o311_fail(err, path, "out of memory");
    for (size_t i = 0; i < at->n_values; i++) {
        const json_t *v = json_array_get(arr, i);
        char vpath[96];
        snprintf(vpath, sizeof(vpath), "%.70s[%zu].", path, i);
        if (!json_is_object(v))
            return o311_fail(err, path, "values must be {key, name} objects");
        if (o311_only(v, fields, vpath, err) ||
            o311_string(v, "key", true, 100, false, vpath, a, &at->values[i].key, err) ||
            o311_string(v, "name", true, 200, false, vpath, a, &at->values[i].name, err))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(at->values[j].key, at->values[i].key) == 0)
                return o311_fail(err, vpath, "the key %s is given twice", at->values[i].key);
    }
    return 0;
}

static int o311_attr_parse(arena *a, const json_t *def, size_t i, o311_attr *at,
                           const o311_attr *earlier, wf_error *err)
{
    static const char *const fields[] = {
        "code",      "variable", "datatype",    "datatype_description",
        "required",  "order",    "description", "values",
        "automated", NULL};
    char path[48], field[96];
    snprintf(path, sizeof(path), "open311.attributes[%zu].", i);
    if (!json_is_object(def))
        return o311_fail(err, path, "each attribute must be an object");
    const char *datatype;
    snprintf(field, sizeof(field), "%scode", path);
    if (o311_only(def, fields, path, err) ||
        o311_string(def, "code", true, O311_CODE_MAX, false, field, a, &at->code, err) || !at->code)
        return -1;
    if (strpbrk(at->code, "[]"))
        return o311_fail(err, field, "an attribute code may not hold [ or ]");
    for (size_t j = 0; j < i; j++)
        if (strcmp(earlier[j].code, at->code) == 0)
            return o311_fail(err, field, "the attribute %s is defined twice", at->code);
    snprintf(field, sizeof(field), "%sdatatype", path);
    if (o311_string(def, "datatype", true, 40, false, field, a, &datatype, err) || !datatype)
        return -1;
    size_t t = 0;
    while (t < sizeof(datatype_names) / sizeof(datatype_names[0]) &&
           strcmp(datatype_names[t], datatype) != 0)
        t++;
    if (t == sizeof(datatype_names) / sizeof(datatype_names[0]))
        return o311_fail(err, field,
                         "datatype must be string, number, datetime, text, singlevaluelist or "
                         "multivaluelist");
    at->datatype = (o311_datatype)t;
    snprintf(field, sizeof(field), "%sdescription", path);
    if (o311_string(def, "description", true, 2000, true, field, a, &at->description, err))
        return -1;
    snprintf(field, sizeof(field), "%sdatatype_description", path);
    if (o311_string(def, "datatype_description", false, 500, false, field, a,
                    &at->datatype_description, err))
        return -1;
    snprintf(field, sizeof(field), "%sautomated", path);
    if (o311_string(def, "automated", false, 20, false, field, a, &at->automated, err))
        return -1;
    if (at->automated && strcmp(at->automated, "server_set") != 0 &&
        strcmp(at->automated, "hidden_field") != 0)
        return o311_fail(err, field, "%s must be server_set or hidden_field", field);
    snprintf(field, sizeof(field), "%svariable", path);
    if (o311_bool(def, "variable", true, field, &at->variable, err))
        return -1;
    snprintf(field, sizeof(field), "%srequired", path);
    if (o311_bool(def, "required", false, field, &at->required, err))
        return -1;
    const json_t *order = json_object_get(def, "order");
    at->order = (int)i + 1;
    if (order) {
        snprintf(field, sizeof(field), "%sorder", path);
        if (!json_is_integer(order) || json_integer_value(order) < 1 ||
            json_integer_value(order) > 1000)
            return o311_fail(err, field, "%s must be a whole number from 1 to 1000", field);
        at->order = (int)json_integer_value(order);
    }
    snprintf(field, sizeof(field), "open311.attributes[%zu]", i);
    return o311_values(a, def, field, at, err);
}

static int o311_stages_parse(arena *a, const json_t *def, const workflow *wf, o311_service *out,
                             wf_error *err)
{
    static const char *const fields[] = {"status", "extended_status", "external_status_code", NULL};
    const json_t *obj = json_object_get(def, "stages");
    if (!obj)
        return 0;
    if (!json_is_object(obj))
        return o311_fail(err, "open311.stages", "stages must map stage codes to statuses");
    out->stages = arena_calloc(a, json_object_size(obj) + 1, sizeof(*out->stages));
    if (!out->stages)
        return o311_fail(err, "open311.stages", "out of memory");
    const char *code;
    const json_t *v;
    json_object_foreach((json_t *)obj, code, v)
    {
        char path[128], field[160];
        const wf_stage *ws = workflow_stage(wf, code);
        snprintf(path, sizeof(path), "open311.stages.%s",
                 valid_code(code, WF_CODE_MAX) ? code : "?");
        if (!ws)
            return o311_fail(err, path, "the workflow has no stage %s", path + 15);
        if (!json_is_object(v))
            return o311_fail(err, path, "%s must be an object with a status", path);
        snprintf(field, sizeof(field), "%s.", path);
        o311_stage *st = &out->stages[out->n_stages];
        const char *status, *extended;
        if (o311_only(v, fields, field, err))
            return -1;
        snprintf(field, sizeof(field), "%s.status", path);
        if (o311_string(v, "status", true, 10, false, field, a, &status, err) || !status)
            return -1;
        if (strcmp(status, "open") != 0 && strcmp(status, "closed") != 0)
            return o311_fail(err, field, "%s must be open or closed", field);
        snprintf(field, sizeof(field), "%s.extended_status", path);
        if (o311_string(v, "extended_status", false, 40, false, field, a, &extended, err))
            return -1;
        if (extended && (!o311_status_canonical(extended) || strcmp(extended, "open") == 0 ||
                         strcmp(extended, "closed") == 0 ||
                         strcmp(o311_status_canonical(extended), extended) != 0))
            return o311_fail(err, field,
                             "%s must be one of in_progress, action_scheduled, investigating, "
                             "planned, fixed, duplicate, not_councils_responsibility, "
                             "no_further_action, internal_referral, cancelled, for_triage, reopen",
                             field);
        snprintf(field, sizeof(field), "%s.external_status_code", path);
        if (o311_string(v, "external_status_code", false, 100, false, field, a,
                        &st->external_status_code, err))
            return -1;
        st->code = ws->code;
        st->closed = strcmp(status, "closed") == 0;
        st->extended_status = extended;
        out->n_stages++;
    }
    return 0;
}

int o311_service_parse(arena *a, const json_t *def, const workflow *wf, o311_service *out,
                       wf_error *err)
{
    static const char *const fields[] = {"keywords", "groups", "attributes", "stages", NULL};
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    if (!json_is_object(def))
        return o311_fail(err, "open311", "open311 must be an object");
    if (o311_only(def, fields, "open311.", err) ||
        o311_words(a, def, "keywords", &out->keywords, &out->n_keywords, err) ||
        o311_words(a, def, "groups", &out->groups, &out->n_groups, err))
        goto fail;
    const json_t *attrs = json_object_get(def, "attributes");
    if (attrs) {
        if (!json_is_array(attrs) || json_array_size(attrs) > O311_ATTRS_MAX) {
            o311_fail(err, "open311.attributes", "attributes must be a list of at most %d",
                      O311_ATTRS_MAX);
            goto fail;
        }
        out->attrs = arena_calloc(a, json_array_size(attrs) + 1, sizeof(*out->attrs));
        if (!out->attrs) {
            o311_fail(err, "open311.attributes", "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < json_array_size(attrs); i++) {
            if (o311_attr_parse(a, json_array_get(attrs, i), i, &out->attrs[i], out->attrs, err))
                goto fail;
            out->n_attrs++;
        }
    }
    if (o311_stages_parse(a, def, wf, out, err))
        goto fail;
    return 0;
fail:
    memset(out, 0, sizeof(*out));
    return -1;
}

o311_stage o311_stage_status(const o311_service *svc, const workflow *wf, const char *stage)
{
    for (size_t i = 0; i < svc->n_stages; i++)
        if (strcmp(svc->stages[i].code, stage) == 0)
            return svc->stages[i];
    const wf_stage *ws = workflow_stage(wf, stage);
    return (o311_stage){.code = stage, .closed = ws && ws->terminal};
}

bool o311_attribute_key(const char *key, char *code)
{
    static const char prefix[] = "attribute[";
    if (strncmp(key, prefix, sizeof(prefix) - 1) != 0)
        return false;
    const char *start = key + sizeof(prefix) - 1;
    const char *close = strchr(start, ']');
    if (!close || close == start || (size_t)(close - start) > O311_CODE_MAX)
        return false;
    for (const char *p = start; p < close; p++)
        if (*p == '[')
            return false;
    if (strcmp(close + 1, "") != 0 && strcmp(close + 1, "[]") != 0)
        return false;
    memcpy(code, start, (size_t)(close - start));
    code[close - start] = '\0';
    return true;
}

static bool o311_number(const char *s)
{
    char *end;
    if (!*s || strlen(s) > 40 || strspn(s, "0123456789+-.eE") != strlen(s))
        return false;
    double d = strtod(s, &end);
    return *end == '\0' && isfinite(d);
}

static bool o311_in_list(const o311_attr *at, const char *v)
{
    for (size_t i = 0; i < at->n_values; i++)
        if (strcmp(at->values[i].key, v) == 0)
            return true;
    return false;
}

/* Checks one value of `at`; false with msg written. */
static bool o311_check_value(const o311_attr *at, const char *v, char *msg, size_t msglen)
{
    long long t;
    switch (at->datatype) {
    case O311_STRING:
        if (valid_text(v, O311_STRING_MAX, false))
            return true;
        snprintf(msg, msglen, "attribute[%s] must be at most %d bytes of text on one line",
                 at->code, O311_STRING_MAX);
        return false;
    case O311_TEXT:
        if (valid_text(v, O311_TEXT_MAX, true))
            return true;
        snprintf(msg, msglen, "attribute[%s] must be at most %d bytes of text", at->code,
                 O311_TEXT_MAX);
        return false;
    case O311_NUMBER:
        if (o311_number(v))
            return true;
        snprintf(msg, msglen, "attribute[%s] must be a number", at->code);
        return false;
    case O311_DATETIME:
        if (parse_datetime(v, &t))
            return true;
        snprintf(msg, msglen, "attribute[%s] must be a W3C date-time such as 2026-11-23T10:00:00Z",
                 at->code);
        return false;
    case O311_SINGLEVALUELIST:
    case O311_MULTIVALUELIST:
        if (o311_in_list(at, v))
            return true;
        snprintf(msg, msglen, "attribute[%s] must be the key of one of its values", at->code);
        return false;
    }
    return false;
}

bool o311_check_attributes(const o311_service *svc, const o311_input *in, size_t n,
                           const char **bad, char *msg, size_t msglen)
{
    *bad = NULL;
    for (size_t i = 0; i < svc->n_attrs; i++) {
        const o311_attr *at = &svc->attrs[i];
        const o311_input *got = NULL;
        if (!at->variable)
            continue;
        for (size_t j = 0; j < n && !got; j++)
            if (strcmp(in[j].code, at->code) == 0)
                got = &in[j];
        *bad = at->code;
        if (!got || got->n_values == 0) {
            if (!at->required)
                continue;
            snprintf(msg, msglen, "attribute[%s] is required", at->code);
            return false;
        }
        if (got->n_values > 1 && at->datatype != O311_MULTIVALUELIST) {
            snprintf(msg, msglen, "attribute[%s] takes one value", at->code);
            return false;
        }
        for (size_t k = 0; k < got->n_values; k++)
            if (!o311_check_value(at, got->values[k], msg, msglen))
                return false;
    }
    *bad = NULL;
    return true;
}

bool o311_coordinate(const char *s, double limit)
{
    size_t len = strlen(s);
    const char *p = s + (*s == '-' || *s == '+');
    size_t digits = strspn(p, "0123456789");
    if (len == 0 || len > 24 || digits == 0)
        return false;
    p += digits;
    if (*p == '.') {
        p++;
        if (strspn(p, "0123456789") == 0)
            return false;
        p += strspn(p, "0123456789");
    }
    if (*p)
        return false;
    double d = strtod(s, NULL);
    return d >= -limit && d <= limit;
}

void o311_format_datetime(int64_t t, char *out, size_t outlen)
{
    char z[32];
    format_datetime(t, z, sizeof(z));
    size_t len = strlen(z);
    if (len && z[len - 1] == 'Z')
        z[len - 1] = '\0';
    snprintf(out, outlen, "%s+00:00", z);
}
