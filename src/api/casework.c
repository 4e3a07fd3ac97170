/* casework.c - reference parsing and service loading shared by handlers. */
#include "api/casework.h"

#include <string.h>

#include "api/app.h"
#include "api/json.h"
#include "util/log.h"

bool casework_reference(http_res *res, const char *text, char out[REF_TEXT_LEN + 1])
{
    uint64_t value;
    ref_rc rc = ref_parse(text, strlen(text), &value);
    if (rc != REF_OK) {
        api_error(res, 400, "invalid_reference", "reference", "%s", ref_error_message(rc));
        return false;
    }
    ref_format(value, out);
    return true;
}

bool casework_service(http_req *req, http_res *res, int64_t service_id, store_service *svc,
                      workflow *wf)
{
    app *ap = req->ctx;
    store_rc rc = store_service_by_id(ap->store, &req->a, service_id, svc);
    if (rc != STORE_OK) {
        api_store_error(res, rc == STORE_NOT_FOUND ? STORE_ERROR : rc);
        return false;
    }
    json_t *def = json_loads(svc->workflow_json, 0, NULL);
    wf_error err;
    int parsed = def ? workflow_parse(&req->a, def, wf, &err) : -1;
    json_decref(def);
    if (parsed != 0) {
        log_error("msg=\"stored workflow is invalid\" service_id=%lld", (long long)service_id);
        api_error(res, 500, "internal", NULL, "the service's workflow cannot be read");
        return false;
    }
    return true;
}

const char *casework_stage_name(const workflow *wf, const char *code)
{
    const wf_stage *st = code ? workflow_stage(wf, code) : NULL;
    return st ? st->name : code;
}
