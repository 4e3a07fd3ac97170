/* services.c - an organisation's services and their workflows. */
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/json.h"
#include "domain/open311.h"
#include "domain/duty.h"
#include "domain/validate.h"
#include "domain/workflow.h"

#define SERVICE_NAME_MAX 200
#define SERVICE_DESCRIPTION_MAX 5000
#define TARGET_DAYS_MAX 3650

static json_t *service_json(const store_service *svc)
{
    json_t *wf = json_loads(svc->workflow_json, 0, NULL);
    json_t *o311 = svc->open311_json ? json_loads(svc->open311_json, 0, NULL) : NULL;
    json_t *duties = json_loads(svc->duties_json ? svc->duties_json : "[]", 0, NULL);
    return json_pack("{s:s, s:s, s:o, s:i, s:o, s:o, s:o, s:o, s:o}", "code", svc->code, "name",
                     svc->name, "description", api_str(svc->description), "target_days",
                     svc->target_days, "workflow", wf ? wf : json_null(), "open311",
                     o311 ? o311 : json_null(), "duties", duties ? duties : json_array(),
                     "created_at", api_time(svc->created_at), "updated_at",
                     api_time(svc->updated_at));
}

/* The JSON text of a definition as stored: compact, keys sorted. */
static const char *stored_json(http_req *req, http_res *res, const json_t *def)
{
    char *text = json_dumps(def, JSON_COMPACT | JSON_SORT_KEYS);
    const char *copy = text ? arena_strdup(&req->a, text) : NULL;
    free(text);
    if (!copy)
        api_error(res, 500, "internal", NULL, "out of memory");
    return copy;
}

void services_list(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    store_service *svcs;
    size_t n;
    store_rc rc = store_service_list(ap->store, &req->a, who->org_id, &svcs, &n);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, service_json(&svcs[i]));
    api_send(res, 200, json_pack("{s:o}", "services", list));
}

/* The caller's organisation's service named by the path; false with the
 * error written when there is none. */
static bool load_service(http_req *req, http_res *res, store_service *svc)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    store_rc rc = store_service_get(ap->store, &req->a, who->org_id, req->params[0], svc);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 404, "not_found", NULL, "this organisation has no service with that code");
        return false;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return false;
    }
    return true;
}

void services_get(http_req *req, http_res *res)
{
    store_service svc;
    if (load_service(req, res, &svc))
        api_send(res, 200, service_json(&svc));
}

/* Reads and validates the fields shared by create and update into *svc. */
static bool read_service(http_req *req, http_res *res, const json_t *body, store_service *svc)
{
    long long target;
    const char *name, *description;
    if (!api_string(res, body, "name", "name", true, SERVICE_NAME_MAX, false, &name) ||
        !api_string(res, body, "description", "description", false, SERVICE_DESCRIPTION_MAX, true,
                    &description) ||
        !api_int(res, body, "target_days", "target_days", true, 1, TARGET_DAYS_MAX, &target, NULL))
        return false;
    json_t *def = json_object_get(body, "workflow");
    if (!def || json_is_null(def)) {
        api_error(res, 400, "missing_field", "workflow", "workflow is required");
        return false;
    }
    workflow wf;
    wf_error err;
    if (workflow_parse(&req->a, def, &wf, &err) != 0) {
        api_error(res, 400, "invalid_field", err.field, "%s", err.message);
        return false;
    }
    /* Open311 metadata and duties refer to the workflow's stages, so they are
     * checked against the workflow they are stored with. */
    const json_t *o311 = json_object_get(body, "open311");
    svc->open311_json = NULL;
    if (o311 && !json_is_null(o311)) {
        o311_service meta;
        if (o311_service_parse(&req->a, o311, &wf, &meta, &err) != 0) {
            api_error(res, 400, "invalid_field", err.field, "%s", err.message);
            return false;
        }
        svc->open311_json = stored_json(req, res, o311);
        if (!svc->open311_json)
            return false;
    }
    /* Duties name the workflow's stages, so they are checked against it;
     * absent, the service has none. */
    json_t *duties = json_object_get(body, "duties");
    duty_list list;
    duty_error derr;
    if (duties && !json_is_null(duties) && duty_parse(&req->a, duties, &wf, &list, &derr) != 0) {
        api_error(res, 400, "invalid_field", derr.field, "%s", derr.message);
        return false;
    }
    svc->workflow_json = stored_json(req, res, def);
    if (!svc->workflow_json)
        return false;
    svc->duties_json = duties && !json_is_null(duties) ? stored_json(req, res, duties) : "[]";
    svc->name = name;
    svc->description = description;
    svc->target_days = (int)target;
    return svc->duties_json != NULL;
}

void services_create(http_req *req, http_res *res)
{
    static const char *const fields[] = {"code",     "name",    "description", "target_days",
                                         "workflow", "open311", "duties",      NULL};
    app *ap = req->ctx;
    const store_principal *who = req->who;
    store_service svc = {.org_id = who->org_id};
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) ||
        !api_string(res, body, "code", "code", true, 40, false, &svc.code))
        goto out;
    if (!valid_code(svc.code, 40)) {
        api_error(res, 400, "invalid_field", "code",
                  "code must be 1 to 40 lower-case letters, digits, '-' or '_', starting with a "
                  "letter or digit");
        goto out;
    }
    if (!read_service(req, res, body, &svc))
        goto out;
    store_rc rc = store_service_create(ap->store, &svc);
    if (rc == STORE_DUPLICATE) {
        api_error(res, 409, "conflict", "code", "this organisation already has a service %s",
                  svc.code);
        goto out;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    api_send(res, 201, service_json(&svc));
    http_res_header(res, "Location", arena_printf(&req->a, "/api/v1/services/%s", svc.code));
out:
    json_decref(body);
}

void services_update(http_req *req, http_res *res)
{
    static const char *const fields[] = {"name",    "description", "target_days", "workflow",
                                         "open311", "duties",      NULL};
    app *ap = req->ctx;
    const store_principal *who = req->who;
    store_service svc;
    if (!load_service(req, res, &svc))
        return;
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) || !read_service(req, res, body, &svc))
        goto out;
    store_rc rc = store_service_update(ap->store, &svc);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    app_service_forget(ap, svc.id);
    rc = store_service_get(ap->store, &req->a, who->org_id, svc.code, &svc);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    api_send(res, 200, service_json(&svc));
out:
    json_decref(body);
}
