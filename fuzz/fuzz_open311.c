/* fuzz_open311.c - the Open311 rules on arbitrary input: a parameter name as
 * an attribute key, a coordinate, a status, and metadata as JSON checked
 * against a fixed workflow. Whatever is accepted keeps open311.h's promises;
 * a refusal names a field under "open311". */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/open311.h"
#include "domain/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char workflow_def[] =
    "{\"stages\": [{\"code\": \"new\", \"name\": \"New\", \"milestone\": true},"
    " {\"code\": \"done\", \"name\": \"Done\", \"milestone\": true, \"terminal\": true}],"
    " \"transitions\": {\"new\": [\"done\"]}}";

static void check_metadata(arena *a, const workflow *wf, const char *text, size_t len)
{
    json_t *def = json_loadb(text, len, 0, NULL);
    o311_service svc;
    wf_error err;
    if (!def)
        return;
    if (o311_service_parse(a, def, wf, &svc, &err) != 0) {
        if (strncmp(err.field, "open311", 7) != 0 || !err.message[0])
            abort();
        json_decref(def);
        return;
    }
    for (size_t i = 0; i < svc.n_attrs; i++) {
        const o311_attr *at = &svc.attrs[i];
        bool list = at->datatype == O311_SINGLEVALUELIST || at->datatype == O311_MULTIVALUELIST;
        if (!at->code[0] || strpbrk(at->code, "[]") || list != (at->n_values > 0))
            abort();
    }
    for (size_t i = 0; i < svc.n_stages; i++)
        if (!workflow_stage(wf, svc.stages[i].code))
            abort();
    /* Checking the stages' statuses and an empty submission cannot fail
     * other than by a required attribute. */
    o311_stage st = o311_stage_status(&svc, wf, "done");
    if (!st.code)
        abort();
    const char *bad;
    char msg[256];
    if (!o311_check_attributes(&svc, NULL, 0, &bad, msg, sizeof(msg)) && !bad)
        abort();
    json_decref(def);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    workflow wf;
    wf_error err;
    arena_init(&a);
    char *text = arena_strndup(&a, (const char *)data, size);
    json_t *wdef = json_loads(workflow_def, 0, NULL);
    if (!text || !wdef || workflow_parse(&a, wdef, &wf, &err) != 0)
        abort();
    json_decref(wdef);

    char code[O311_CODE_MAX + 1];
    if (o311_attribute_key(text, code) &&
        (!code[0] || strlen(code) > O311_CODE_MAX || strpbrk(code, "[]")))
        abort();
    if (o311_coordinate(text, 180) && fabs(strtod(text, NULL)) > 180)
        abort();
    const char *status = o311_status_canonical(text);
    if (status && o311_status_canonical(status) != status)
        abort();
    check_metadata(&a, &wf, (const char *)data, size);
    arena_free(&a);
    return 0;
}
