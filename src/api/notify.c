/* notify.c - staff endpoints for notifications: templates, webhooks, the
 * outbox's state, and the worklist of letters and calls.
 *
 * Templates and webhooks are an administrator's; the outbox list shows
 * administrators what is pending or failed, and why; any caseworker works
 * through the tasks. Each sees their own organisation's only. Messages to a
 * person carry their contact details, so showing them is an access to the
 * person's data, recorded first like any other (api/casework.h).
 */
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/casework.h"
#include "api/handlers.h"
#include "api/json.h"
#include "domain/notice.h"
#include "domain/validate.h"
#include "util/token.h"

#define SUBJECT_MAX 500
#define TEMPLATE_MAX 10000
#define URL_MAX 500
#define NOTICE_LIST_DEFAULT 50
#define NOTICE_LIST_MAX 200
#define WEBHOOK_SECRET_CHARS 40

static int64_t org_of(const http_req *req)
{
    const store_principal *who = req->who;
    return who->org_id;
}

/* The caller's organisation's service named in the path; false with the
 * error written. */
static bool path_service(http_req *req, http_res *res, store_service *svc)
{
    app *ap = req->ctx;
    const char *code = req->params[0];
    if (!valid_code(code, 40)) {
        api_error(res, 404, "not_found", NULL, "there is no such service");
        return false;
    }
    store_rc rc = store_service_get(ap->store, &req->a, org_of(req), code, svc);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 404, "not_found", NULL, "this organisation has no service %s", code);
        return false;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return false;
    }
    return true;
}

static json_t *template_json(notice_kind kind, const char *language, const char *subject,
                             const char *body, int64_t updated_at)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "kind", notice_kind_name(kind), "language",
                     language, "subject", subject, "body", body, "default", updated_at == 0,
                     "updated_at", api_time(updated_at));
}

/* GET /api/v1/services/{code}/templates: every kind in every language, the
 * service's own where it has one, else the built-in one. */
void notify_templates_list(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    static const char *const languages[NOTICE_LANGUAGES] = {"en", "cy"};
    store_service svc;
    store_template *own;
    size_t n;
    if (!path_service(req, res, &svc))
        return;
    store_rc rc = store_template_list(ap->store, &req->a, svc.id, &own, &n);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    json_t *list = json_array();
    for (int k = 0; k < NOTICE_KIND_COUNT; k++)
        for (int l = 0; l < NOTICE_LANGUAGES; l++) {
            const char *subject, *body;
            int64_t updated = 0;
            notice_default_template((notice_kind)k, languages[l], &subject, &body);
            for (size_t i = 0; i < n; i++)
                if (strcmp(own[i].kind, notice_kind_name((notice_kind)k)) == 0 &&
                    strcmp(own[i].language, languages[l]) == 0) {
                    subject = own[i].subject;
                    body = own[i].body;
                    updated = own[i].updated_at;
                }
            json_array_append_new(
                list, template_json((notice_kind)k, languages[l], subject, body, updated));
        }
    api_send(res, 200, json_pack("{s:s, s:o}", "service", svc.code, "templates", list));
}

/* A template text that notice_template_check accepts; false with a 400 that
 * names an unknown placeholder. */
static bool check_text(http_res *res, const char *field, const char *text)
{
    char bad[64];
    bool unknown = false;
    if (notice_template_check(text, bad, sizeof(bad), &unknown))
        return true;
    if (unknown)
        api_error(res, 400, "unknown_placeholder", field,
                  "%s uses the unknown placeholder {%s}; known ones are {reference}, {stage}, "
                  "{note}, {expected_date}, {team}, {tracking_link}, {organisation} and "
                  "{service}",
                  field, bad);
    else
        api_error(res, 400, "invalid_field", field, "%s has %s", field, bad);
    return false;
}

/* PUT /api/v1/services/{code}/templates/{kind}/{language} */
void notify_template_put(http_req *req, http_res *res)
{
    static const char *const fields[] = {"subject", "body", NULL};
    app *ap = req->ctx;
    store_service svc;
    notice_kind kind;
    const char *language = notice_language(req->params[2]);
    if (!notice_kind_parse(req->params[1], &kind) || !language) {
        api_error(res, 404, "not_found", NULL,
                  "templates are per kind (stage_reached, public_note, duty_reminder) and "
                  "language (en, cy)");
        return;
    }
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    store_template t = {.kind = notice_kind_name(kind), .language = language};
    if (!api_only_fields(res, body, "", fields) ||
        !api_string(res, body, "subject", "subject", true, SUBJECT_MAX, false, &t.subject) ||
        !api_string(res, body, "body", "body", true, TEMPLATE_MAX, true, &t.body) ||
        !check_text(res, "subject", t.subject) || !check_text(res, "body", t.body) ||
        !path_service(req, res, &svc))
        goto out;
    t.service_id = svc.id;
    t.updated_at = app_now();
    store_rc rc = store_template_set(ap->store, &t);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    api_send(res, 200,
             json_pack("{s:o}", "template",
                       template_json(kind, language, t.subject, t.body, t.updated_at)));
out:
    json_decref(body);
}

static json_t *webhook_json(const store_webhook *w)
{
    return json_pack("{s:I, s:s, s:o}", "id", (json_int_t)w->id, "url", w->url, "created_at",
                     api_time(w->created_at));
}

/* GET /api/v1/webhooks */
void notify_webhooks_list(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    store_webhook *hooks;
    size_t n;
    store_rc rc = store_webhook_list(ap->store, &req->a, org_of(req), &hooks, &n);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, webhook_json(&hooks[i]));
    api_send(res, 200, json_pack("{s:o}", "webhooks", list));
}

static bool url_usable(const char *url)
{
    size_t scheme = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    return scheme && url[scheme] && url[scheme] != '/' &&
           strcspn(url, " \t\r\n\"<>\\") == strlen(url);
}

/* POST /api/v1/webhooks {url}: the signing secret is shown once. */
void notify_webhook_create(http_req *req, http_res *res)
{
    static const char *const fields[] = {"url", NULL};
    app *ap = req->ctx;
    store_webhook w = {.org_id = org_of(req), .created_at = app_now()};
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) ||
        !api_string(res, body, "url", "url", true, URL_MAX, false, &w.url))
        goto out;
    if (!url_usable(w.url)) {
        api_error(res, 400, "invalid_field", "url", "url must be an http:// or https:// address");
        goto out;
    }
    char secret[WEBHOOK_SECRET_CHARS + 8];
    /* "whsec_" marks the string as a signing secret for secret scanners. */
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): token_random ends it
    memcpy(secret, "whsec_", 6);
    token_random(secret + 6, WEBHOOK_SECRET_CHARS);
    w.secret = secret;
    store_rc rc = store_webhook_create(ap->store, &w);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    api_send(res, 201, json_pack("{s:o, s:s}", "webhook", webhook_json(&w), "secret", secret));
    http_res_header(res, "Cache-Control", "no-store");
out:
    json_decref(body);
}

/* A positive id from the path; false with a 404 written. */
static bool path_id(http_res *res, const char *text, int64_t *id)
{
    char *end;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || v < 1) {
        api_error(res, 404, "not_found", NULL, "there is nothing at this address");
        return false;
    }
    *id = v;
    return true;
}

/* DELETE /api/v1/webhooks/{id} */
void notify_webhook_delete(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    int64_t id;
    if (!path_id(res, req->params[0], &id))
        return;
    store_rc rc = store_webhook_remove(ap->store, org_of(req), id);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 404, "not_found", NULL, "this organisation has no webhook %lld",
                  (long long)id);
        return;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    res->status = 204;
}

static json_t *notice_json(const store_notice *n)
{
    json_t *o =
        json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:o}", "id",
                  (json_int_t)n->id, "reference", api_str(n->reference), "kind", n->kind, "channel",
                  n->channel, "recipient", n->recipient, "status", n->status, "attempts",
                  n->attempts, "created_at", api_time(n->created_at), "next_attempt_at",
                  api_time(strcmp(n->status, "pending") == 0 ? n->next_at : 0), "delivered_at",
                  api_time(n->delivered_at), "last_error", api_str(n->last_error));
    if (o) {
        json_object_set_new(o, "subject", api_str(n->subject));
        json_object_set_new(o, "body", json_string(n->body));
    }
    return o;
}

/* Records the caller's access, for `purpose`, to the person of each case
 * among notices[0..n) that a message to a person names (webhooks and
 * messages to staff carry no personal data); false with a 503 written when
 * it cannot be recorded. */
static bool record_accesses(http_req *req, http_res *res, const store_notice *notices, size_t n,
                            const char *action, const char *purpose)
{
    app *ap = req->ctx;
    store_access *accesses = arena_calloc(&req->a, n ? n : 1, sizeof(*accesses));
    size_t count = 0;
    if (!accesses) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        bool seen = !notices[i].case_id || notices[i].to_staff ||
                    strcmp(notices[i].channel, "webhook") == 0;
        for (size_t j = 0; j < count && !seen; j++)
            seen = accesses[j].case_id == notices[i].case_id;
        if (!seen && casework_access(req, notices[i].case_id, action, purpose, &accesses[count]))
            count++;
    }
    if (store_access_record(ap->store, accesses, count) != STORE_OK) {
        casework_access_refused(res);
        return false;
    }
    return true;
}

/* The organisation's notifications in `status`, a page at a time. */
static void list_notices(http_req *req, http_res *res, const char *status, const char *key)
{
    app *ap = req->ctx;
    const char *purpose;
    if (!casework_purpose(req, res, &purpose))
        return;
    const char *limit_text = http_query_get(req, "limit");
    const char *before_text = http_query_get(req, "before");
    long long limit = NOTICE_LIST_DEFAULT, before = 0;
    char *end;
    if (limit_text) {
        limit = strtoll(limit_text, &end, 10);
        if (!*limit_text || *end || limit < 1 || limit > NOTICE_LIST_MAX) {
            api_error(res, 400, "invalid_parameter", "limit",
                      "limit must be a whole number from 1 to %d", NOTICE_LIST_MAX);
            return;
        }
    }
    if (before_text) {
        before = strtoll(before_text, &end, 10);
        if (!*before_text || *end || before < 1) {
            api_error(res, 400, "invalid_parameter", "before",
                      "before must be the next_before of a previous page");
            return;
        }
    }
    store_notice *list;
    size_t n;
    store_rc rc =
        store_notice_list(ap->store, &req->a, org_of(req), status, before, (int)limit, &list, &n);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    if (!record_accesses(req, res, list, n, "list", purpose))
        return;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, notice_json(&list[i]));
    json_t *next = n == (size_t)limit ? json_integer((json_int_t)list[n - 1].id) : json_null();
    api_send(res, 200, json_pack("{s:o, s:o}", key, arr, "next_before", next));
    http_res_header(res, "Cache-Control", "no-store");
}

/* GET /api/v1/notifications?status=pending|failed|delivered */
void notify_notices_list(http_req *req, http_res *res)
{
    const char *status = http_query_get(req, "status");
    if (!status)
        status = "failed";
    if (strcmp(status, "pending") != 0 && strcmp(status, "failed") != 0 &&
        strcmp(status, "delivered") != 0) {
        api_error(res, 400, "invalid_parameter", "status",
                  "status must be pending, failed or delivered");
        return;
    }
    list_notices(req, res, status, "notifications");
}

/* GET /api/v1/notifications/{id}: with every attempt and its outcome. */
void notify_notice_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    int64_t id;
    store_notice n;
    store_attempt *attempts;
    size_t count;
    const char *purpose;
    if (!path_id(res, req->params[0], &id) || !casework_purpose(req, res, &purpose))
        return;
    store_rc rc = store_notice_get(ap->store, &req->a, org_of(req), id, &n, &attempts, &count);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 404, "not_found", NULL, "this organisation has no notification %lld",
                  (long long)id);
        return;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    if (!record_accesses(req, res, &n, 1, "read", purpose))
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(list, json_pack("{s:o, s:s, s:o}", "at", api_time(attempts[i].at),
                                              "outcome", attempts[i].outcome, "reason",
                                              api_str(attempts[i].reason)));
    api_send(res, 200, json_pack("{s:o, s:o}", "notification", notice_json(&n), "attempts", list));
    http_res_header(res, "Cache-Control", "no-store");
}

/* GET /api/v1/tasks: letters to send and calls to make. */
void notify_tasks_list(http_req *req, http_res *res)
{
    list_notices(req, res, "open", "tasks");
}

/* POST /api/v1/tasks/{id}/done */
void notify_task_done(http_req *req, http_res *res)
{
    static const char *const none[] = {NULL};
    app *ap = req->ctx;
    int64_t id;
    if (!path_id(res, req->params[0], &id))
        return;
    json_t *body = api_body_object(req, res, true);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", none))
        goto out;
    int64_t now = app_now();
    store_rc rc = store_task_done(ap->store, org_of(req), id, now);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 404, "not_found", NULL, "this organisation has no open task %lld",
                  (long long)id);
        goto out;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    api_send(res, 200,
             json_pack("{s:{s:I, s:s, s:o}}", "task", "id", (json_int_t)id, "status", "done",
                       "done_at", api_time(now)));
out:
    json_decref(body);
}
