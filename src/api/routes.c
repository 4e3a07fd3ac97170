/* routes.c - the route table and the dispatcher in front of every handler.
 *
 * Reading order for a request: router_match finds the route, the dispatcher
 * rejects oversized bodies, authenticates the caller for the route's access
 * level (401 without credentials, 403 for a role that may not), checks that
 * cookie-authenticated writes come from our own pages, then calls the handler.
 */
#include <string.h>

#include "api/app.h"
#include "api/auth.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/metrics.h"
#include "domain/validate.h"
#include "embedded.h"
#include "http/router.h"

/* clang-format off */
static const char *const case_filters[] = {"service", "stage", "opened_from", "opened_to", "q",
                                           "limit", "cursor", NULL};
static const char *const asset_query[] = {"v", NULL};
static const char *const duty_filters[] = {"status", "service", "team", "limit", "cursor", NULL};
static const char *const compliance_filters[] = {"service", "from", "to", NULL};
static const char *const notice_filters[] = {"status", "limit", "before", NULL};
static const char *const page_filters[] = {"limit", "before", NULL};
static const char *const user_filters[] = {"role", NULL};
#define PAGE ROUTE_QUERY_ANY
static const char *const inclusion_query[] = {"index", "size", NULL};
static const char *const consistency_query[] = {"from", "to", NULL};
static const char *const feed_query[] = {"cursor", "limit", NULL};
/* appeals for witnesses */
static const char *const appeal_staff_filters[] = {"status", "limit", "cursor", NULL};
static const char *const appeal_answer_filters[] = {"limit", "cursor", NULL};
static const char *const appeal_search[] = {"bbox", "near", "radius", "org", "category", "since",
                                            "until", "cursor", "limit", NULL};

static const route routes[] = {
    /* method    pattern                            handler              who            query */
    {HTTP_GET,  "/healthz",                         health_get,          ACCESS_PUBLIC, NULL},
    {HTTP_GET,  "/metrics",                         metrics_get,         ACCESS_PUBLIC, NULL},
    {HTTP_GET,  "/api/v1/openapi.json",             openapi_get,         ACCESS_PUBLIC, NULL},
    {HTTP_POST, "/api/v1/auth/login",               auth_login,          ACCESS_PUBLIC, NULL},
    {HTTP_POST, "/api/v1/auth/logout",              auth_logout,         ACCESS_PUBLIC, NULL},
    {HTTP_GET,  "/api/v1/me",                       auth_me,             ACCESS_STAFF,  NULL},
    {HTTP_GET,  "/api/v1/users",                    auth_users,          ACCESS_STAFF,  user_filters},
    {HTTP_GET,  "/api/v1/services",                 services_list,       ACCESS_STAFF,  NULL},
    {HTTP_POST, "/api/v1/services",                 services_create,     ACCESS_ADMIN,  NULL},
    {HTTP_GET,  "/api/v1/services/{code}",          services_get,        ACCESS_STAFF,  NULL},
    {HTTP_PUT,  "/api/v1/services/{code}",          services_update,     ACCESS_ADMIN,  NULL},
    {HTTP_GET,  "/api/v1/cases",                    cases_list,          ACCESS_STAFF,  case_filters},
    {HTTP_POST, "/api/v1/cases",                    cases_create,        ACCESS_WRITER, NULL},
    {HTTP_GET,  "/api/v1/cases/{ref}",              cases_get,           ACCESS_STAFF,  NULL},
    {HTTP_POST, "/api/v1/cases/{ref}/events",       cases_add_event,     ACCESS_WRITER, NULL},
    {HTTP_POST, "/api/v1/cases/{ref}/close",        cases_close,         ACCESS_WRITER, NULL},
    {HTTP_POST, "/api/v1/cases/{ref}/secret",       cases_new_secret,    ACCESS_WRITER, NULL},
    {HTTP_GET,  "/api/v1/cases/{ref}/accesses",     cases_accesses,      ACCESS_STAFF,  NULL},
    /* update duties */
    {HTTP_PATCH, "/api/v1/cases/{ref}",             cases_update,        ACCESS_WRITER, NULL},
    {HTTP_GET,  "/api/v1/duties",                   duties_list,         ACCESS_STAFF,  duty_filters},
    {HTTP_GET,  "/api/v1/compliance",               compliance_get,      ACCESS_STAFF,  compliance_filters},
    {HTTP_GET,  "/api/v1/calendar",                 calendar_get,        ACCESS_STAFF,  NULL},
    {HTTP_PUT,  "/api/v1/calendar",                 calendar_put,        ACCESS_ADMIN,  NULL},
    {HTTP_GET,  "/api/v1/track/{ref}",              track_get,           ACCESS_PUBLIC, NULL},
    {HTTP_POST, "/api/v1/track/{ref}/messages",     track_message,       ACCESS_PUBLIC, NULL},
    {HTTP_POST, "/api/v1/track/{ref}/feedback",     track_feedback,      ACCESS_PUBLIC, NULL},
    /* notifications */
    {HTTP_GET,  "/api/v1/services/{code}/templates", notify_templates_list, ACCESS_ADMIN, NULL},
    {HTTP_PUT,  "/api/v1/services/{code}/templates/{kind}/{language}", notify_template_put, ACCESS_ADMIN, NULL},
    {HTTP_GET,  "/api/v1/webhooks",                 notify_webhooks_list, ACCESS_ADMIN, NULL},
    {HTTP_POST, "/api/v1/webhooks",                 notify_webhook_create, ACCESS_ADMIN, NULL},
    {HTTP_DELETE, "/api/v1/webhooks/{id}",          notify_webhook_delete, ACCESS_ADMIN, NULL},
    {HTTP_GET,  "/api/v1/notifications",            notify_notices_list, ACCESS_ADMIN, notice_filters},
    {HTTP_GET,  "/api/v1/notifications/{id}",       notify_notice_get,   ACCESS_ADMIN, NULL},
    {HTTP_GET,  "/api/v1/tasks",                    notify_tasks_list,   ACCESS_WRITER, page_filters},
    {HTTP_POST, "/api/v1/tasks/{id}/done",          notify_task_done,    ACCESS_WRITER, NULL},
    {HTTP_GET,  "/api/v1/track/{ref}/preferences",  track_prefs_get,     ACCESS_PUBLIC, NULL},
    {HTTP_PUT,  "/api/v1/track/{ref}/preferences",  track_prefs_put,     ACCESS_PUBLIC, NULL},
    {HTTP_POST, "/track/preferences",               page_track_preferences, ACCESS_PUBLIC, PAGE},
    {HTTP_GET,  "/",                                page_home,           ACCESS_PUBLIC, PAGE},
    {HTTP_GET,  "/assets/{file}",                   assets_get,          ACCESS_PUBLIC, asset_query},
    {HTTP_GET,  "/assets/{dir}/{file}",             assets_get,          ACCESS_PUBLIC, asset_query},
    {HTTP_GET,  "/assets/{dir}/{sub}/{file}",       assets_get,          ACCESS_PUBLIC, asset_query},
    {HTTP_GET,  "/track",                           page_track_form,     ACCESS_PUBLIC, PAGE},
    {HTTP_POST, "/track",                           page_track_show,     ACCESS_PUBLIC, PAGE},
    {HTTP_POST, "/track/message",                   page_track_message,  ACCESS_PUBLIC, PAGE},
    {HTTP_POST, "/track/feedback",                  page_track_feedback, ACCESS_PUBLIC, PAGE},
    /* The public log */
    {HTTP_GET,  "/log/checkpoint",                  log_checkpoint_get,  ACCESS_PUBLIC, NULL},
    {HTTP_GET,  "/log/tile/{tile*}",                log_tile_get,        ACCESS_PUBLIC, NULL},
    {HTTP_GET,  "/log/proof/inclusion",             log_inclusion_get,   ACCESS_PUBLIC, inclusion_query},
    {HTTP_GET,  "/log/proof/consistency",           log_consistency_get, ACCESS_PUBLIC, consistency_query},
    {HTTP_GET,  "/log/entries",                     log_entries_get,     ACCESS_PUBLIC, feed_query},
    /* Open311 GeoReport v2: api_key and jurisdiction_id are parameters, checked by the
     * handlers; clients add parameters of their own, so none is refused. */
    {HTTP_GET,  "/open311/v2/discovery.{format}",   o311_discovery,      ACCESS_PUBLIC, PAGE},
    {HTTP_GET,  "/open311/v2/services.{format}",    o311_services,       ACCESS_PUBLIC, PAGE},
    {HTTP_GET,  "/open311/v2/services/{code}",      o311_service_definition, ACCESS_PUBLIC, PAGE},
    {HTTP_GET,  "/open311/v2/requests.{format}",    o311_requests_list,  ACCESS_PUBLIC, PAGE},
    {HTTP_POST, "/open311/v2/requests.{format}",    o311_request_post,   ACCESS_PUBLIC, PAGE},
    {HTTP_GET,  "/open311/v2/requests/{id}",        o311_request_get,    ACCESS_PUBLIC, PAGE},
    {HTTP_GET,  "/open311/v2/tokens/{token}",       o311_token_get,      ACCESS_PUBLIC, PAGE},
    {HTTP_GET,  "/open311/v2/servicerequestupdates.{format}", o311_updates_list, ACCESS_PUBLIC, PAGE},
    {HTTP_POST, "/open311/v2/servicerequestupdates.{format}", o311_update_post, ACCESS_PUBLIC, PAGE},
    /* appeals for witnesses */
    {HTTP_GET,  "/api/v1/appeals",                  appeals_list,        ACCESS_STAFF,  appeal_staff_filters},
    {HTTP_POST, "/api/v1/appeals",                  appeals_create,      ACCESS_WRITER, NULL},
    {HTTP_GET,  "/api/v1/appeals/{id}",             appeals_get,         ACCESS_STAFF,  NULL},
    {HTTP_PUT,  "/api/v1/appeals/{id}",             appeals_update,      ACCESS_WRITER, NULL},
    {HTTP_PUT,  "/api/v1/appeals/{id}/officer",     appeals_set_officer, ACCESS_WRITER, NULL},
    {HTTP_POST, "/api/v1/appeals/{id}/publish",     appeals_publish,     ACCESS_WRITER, NULL},
    {HTTP_POST, "/api/v1/appeals/{id}/close",       appeals_close,       ACCESS_WRITER, NULL},
    {HTTP_GET,  "/api/v1/appeals/{id}/answers",     appeals_answers,     ACCESS_WRITER, appeal_answer_filters},
    {HTTP_GET,  "/api/v1/public/appeals",           public_appeals_list, ACCESS_PUBLIC, appeal_search},
    {HTTP_GET,  "/api/v1/public/appeals.geojson",   public_appeals_geojson, ACCESS_PUBLIC, appeal_search},
    {HTTP_GET,  "/api/v1/public/appeals/{id}",      public_appeal_get,   ACCESS_PUBLIC, NULL},
    {HTTP_POST, "/api/v1/public/appeals/{id}/answers", public_answer_create, ACCESS_PUBLIC, NULL},
    {HTTP_GET,  "/api/v1/public/receipts/{receipt}", public_receipt_get, ACCESS_PUBLIC, NULL},
    {HTTP_GET,  "/appeals",                         page_appeals_list,   ACCESS_PUBLIC, PAGE},
    {HTTP_GET,  "/appeals/receipt",                 page_receipt_form,   ACCESS_PUBLIC, PAGE},
    {HTTP_POST, "/appeals/receipt",                 page_receipt_show,   ACCESS_PUBLIC, PAGE},
    {HTTP_GET,  "/appeals/{id}",                    page_appeal_show,    ACCESS_PUBLIC, PAGE},
    {HTTP_POST, "/appeals/{id}",                    page_appeal_answer,  ACCESS_PUBLIC, PAGE},
};
/* clang-format on */

void health_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    store_org org;
    store_rc rc = store_org_by_id(ap->store, &req->a, 1, &org);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        api_error(res, 503, "unavailable", NULL, "the database cannot be read");
        return;
    }
    api_send(res, 200, json_pack("{s:s}", "status", "ok"));
}

void openapi_get(http_req *req, http_res *res)
{
    (void)req;
    res->status = 200;
    res->content_type = "application/json";
    buf_append(&res->body, embedded_openapi_json, embedded_openapi_json_len);
}

/* A browser sends Origin on cross-site POSTs; a cookie caller's write must
 * come from a page of this host. SameSite=Strict already stops most of it. */
static bool same_origin(http_req *req)
{
    const char *origin = http_header_get(req, "Origin");
    const char *host = http_header_get(req, "Host");
    if (!origin)
        return true;
    if (!host)
        return false;
    const char *p = strstr(origin, "://");
    return p && strcmp(p + 3, host) == 0;
}

#define N_ROUTES ((int)(sizeof(routes) / sizeof(routes[0])))
_Static_assert(sizeof(routes) / sizeof(routes[0]) <= METRICS_ROUTES_MAX, "too many routes");

void metrics_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const char *patterns[N_ROUTES], *methods[N_ROUTES];
    for (int i = 0; i < N_ROUTES; i++) {
        patterns[i] = routes[i].pattern;
        methods[i] = http_method_name((http_method)routes[i].methods);
    }
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    metrics_write(&res->body, patterns, methods, N_ROUTES);
    /* The request counters answer even while the database does not. */
    uint64_t entries, queued;
    if (store_log_size(ap->store, &entries) == STORE_OK &&
        store_log_queued(ap->store, &queued) == STORE_OK)
        metrics_write_log(&res->body, entries, queued);
}

static void dispatch(http_req *req, http_res *res, const route **matched)
{
    const route *r;
    unsigned allowed = 0;
    switch (router_match(routes, sizeof(routes) / sizeof(routes[0]), req, &r, &allowed)) {
    case ROUTE_NO_PATH:
        api_error(res, 404, "not_found", NULL, "there is nothing at this address");
        return;
    case ROUTE_NO_METHOD:
        api_error(res, 405, "method_not_allowed", NULL, "%s is not allowed here",
                  http_method_name(req->method));
        http_res_header(res, "Allow", router_allow_header(&req->a, allowed));
        return;
    case ROUTE_FOUND:
        *matched = r;
        break;
    }
    if (req->body_too_large) {
        api_error(res, 413, "too_large", NULL, "the request body is larger than %d bytes",
                  HTTP_BODY_MAX);
        return;
    }
    if (r->access != ACCESS_PUBLIC) {
        store_principal *who = arena_calloc(&req->a, 1, sizeof(*who));
        bool by_cookie = false;
        if (!who) {
            api_error(res, 500, "internal", NULL, "out of memory");
            return;
        }
        switch (auth_resolve(req, who, &by_cookie)) {
        case AUTH_NONE:
            api_error(res, 401, "unauthorized", NULL,
                      "log in, or send an API key as Authorization: Bearer <key>");
            http_res_header(res, "WWW-Authenticate", "Bearer");
            return;
        case AUTH_INVALID:
            api_error(res, 401, "unauthorized", NULL,
                      "the session has expired or the API key is not valid");
            http_res_header(res, "WWW-Authenticate", "Bearer");
            return;
        case AUTH_UNAVAILABLE:
            api_error(res, 503, "unavailable", NULL, "the database is busy; try again");
            http_res_header(res, "Retry-After", "1");
            return;
        case AUTH_OK:
            break;
        }
        if (!auth_role_allows(who->role, r->access)) {
            api_error(res, 403, "forbidden", NULL, "the role %s may not do this", who->role);
            return;
        }
        if (by_cookie && req->method != HTTP_GET && req->method != HTTP_HEAD && !same_origin(req)) {
            api_error(res, 403, "forbidden", NULL, "cross-site requests are not accepted");
            return;
        }
        req->who = who;
    }
    const char *unknown = router_unknown_query(r, req);
    if (unknown) {
        bool echo = valid_text(unknown, 64, false);
        api_error(res, 400, "invalid_parameter", echo ? unknown : NULL,
                  "unknown query parameter%s%s", echo ? " " : "", echo ? unknown : "");
        return;
    }
    r->handler(req, res);
}

void app_dispatch(void *ctx, http_req *req, http_res *res)
{
    (void)ctx;
    const route *matched = NULL;
    dispatch(req, res, &matched);
    metrics_observe(matched ? (int)(matched - routes) : -1, res->status,
                    http_now_ns() - req->started_ns);
}
