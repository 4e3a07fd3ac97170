/* fuzz_workflow.c - workflow_parse on arbitrary JSON: a refusal must name a
 * field and give a sentence in valid UTF-8; an accepted workflow must keep
 * every promise of workflow.h, and the queries must agree with it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/validate.h"
#include "domain/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(const wf_error *err)
{
    if (strncmp(err->field, "workflow", 8) != 0 || err->message[0] == '\0' ||
        !valid_text(err->field, sizeof(err->field) - 1, false) ||
        !valid_text(err->message, sizeof(err->message) - 1, false))
        abort();
}

/* [a-z0-9_]{1,WF_CODE_MAX}, as workflow.h promises. */
static bool code_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= WF_CODE_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static void check_stage(const workflow *wf, size_t i)
{
    const wf_stage *s = &wf->stages[i];
    if (!code_ok(s->code) || !s->name[0] || !valid_text(s->name, WF_NAME_MAX, false) ||
        workflow_stage(wf, s->code) != s)
        abort();
    if (s->terminal && s->n_next != 0)
        abort();
    for (size_t j = 0; j < s->n_next; j++) {
        if (s->next[j] >= wf->n_stages)
            abort();
        for (size_t k = 0; k < j; k++) {
            if (s->next[k] == s->next[j])
                abort();
        }
    }
    /* check_move agrees with the lists, for every pair of stages. */
    for (size_t t = 0; t < wf->n_stages; t++) {
        wf_rc rc = workflow_check_move(wf, s->code, wf->stages[t].code);
        bool listed = false;
        for (size_t j = 0; j < s->n_next; j++)
            listed = listed || s->next[j] == t;
        wf_rc want = s->terminal ? WF_FROM_TERMINAL : listed ? WF_OK : WF_NOT_ALLOWED;
        if (rc != want)
            abort();
    }
    char next[64];
    workflow_describe_next(wf, s->code, next, sizeof(next));
    if (strlen(next) >= sizeof(next) || (s->n_next == 0 && strcmp(next, "none") != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *def = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!def)
        return 0;

    arena a;
    workflow wf;
    wf_error err;
    arena_init(&a);
    if (workflow_parse(&a, def, &wf, &err) != 0) {
        check_refusal(&err);
        if (wf.stages || wf.n_stages)
            abort();
        goto out;
    }
    if (wf.n_stages == 0 || wf.n_stages > WF_MAX_STAGES || wf.initial >= wf.n_stages ||
        wf.stages[wf.initial].terminal)
        abort();
    bool any_terminal = false;
    for (size_t i = 0; i < wf.n_stages; i++) {
        check_stage(&wf, i);
        any_terminal = any_terminal || wf.stages[i].terminal;
    }
    if (!any_terminal)
        abort();
out:
    arena_free(&a);
    json_decref(def);
    return 0;
}
