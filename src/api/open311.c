/* open311.c - the Open311 GeoReport v2 server, mounted at /open311/v2/.
 *
 * Reporting sites such as FixMyStreet post reports here and poll for what
 * happened to them. Every resource answers in XML (what FixMyStreet reads)
 * or JSON by its extension; both come from one tree (open311_render.h).
 * Parameters come as a query string or, for POSTs, as a form-urlencoded or
 * multipart body; an empty parameter counts as absent. `jurisdiction_id` is
 * an organisation's slug, and may be left out while the deployment has one
 * organisation. `api_key` is one of that organisation's API keys.
 *
 * A posted request is an ordinary case of the service: a reference (which
 * is the service_request_id), a tracking secret the reporter can replace
 * with their email address as the second factor, a person record for their
 * name, email and phone, the "opened" event. Open311 answers never carry
 * personal data, so reading them records no access. A case is visible here
 * when its service is offered through Open311, whoever opened it; its public
 * stage changes and public notes are its updates, each identified by its
 * event's id.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/app.h"
#include "api/auth.h"
#include "api/casework.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/open311_render.h"
#include "domain/open311.h"
#include "domain/ref.h"
#include "domain/validate.h"
#include "domain/workdays.h"
#include "http/form.h"
#include "util/token.h"

#define O311_PATH "/open311/v2/"
#define O311_SPEC "http://wiki.open311.org/GeoReport_v2"
#define O311_CHANGESET "2026-12-01T00:00:00+00:00"
#define IDS_MAX 50
#define DESCRIPTION_MAX 4000
#define PERSON_NAME_MAX 100
#define URL_MAX 2000
#define TOKEN_CHARS 20
#define SECRET_CHARS 20
#define SECRET_TEXT (SECRET_CHARS + SECRET_CHARS / 5)
#define REFERENCE_ATTEMPTS 8
/* The same body posted again within this many seconds is a retry. */
#define BODY_RETRY_S 600

/* One call: the format, the parameters, and who and for whom. */
typedef struct o311_call {
    http_req *req;
    http_res *res;
    bool xml;
    form body;
    bool has_body;
    store_org org;
    store_principal who;
} o311_call;

/* A service offered through Open311, with its workflow and metadata. */
typedef struct o311_svc {
    store_service svc;
    workflow wf;
    o311_service meta;
} o311_svc;

/* Anything but .xml and .json is not a resource here at all. */
static void unknown_format(http_res *res)
{
    res->status = 404;
    res->content_type = "text/plain; charset=utf-8";
    buf_reset(&res->body);
    buf_puts(&res->body, "Not found: Open311 resources end in .xml or .json\n");
}

/* Reads the format from the route's last capture: the format alone
 * ("services.{format}") or, when `id` is not NULL, an id and the format
 * ("services/{code}" holding "pothole.xml"), the id going to *id. */
static bool o311_begin(http_req *req, http_res *res, o311_call *c, const char **id)
{
    memset(c, 0, sizeof(*c));
    c->req = req;
    c->res = res;
    const char *cap = req->n_params ? req->params[req->n_params - 1] : "";
    const char *ext = cap;
    if (id) {
        const char *dot = strrchr(cap, '.');
        if (!dot || dot == cap) {
            unknown_format(res);
            return false;
        }
        *id = arena_strndup(&req->a, cap, (size_t)(dot - cap));
        ext = dot + 1;
        if (!*id) {
            api_error(res, 500, "internal", NULL, "out of memory");
            return false;
        }
    }
    if (strcmp(ext, "xml") == 0) {
        c->xml = true;
    } else if (strcmp(ext, "json") != 0) {
        unknown_format(res);
        return false;
    }
    return true;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Reads a POST's parameters from its body. */
static bool o311_read_body(o311_call *c)
{
    http_req *req = c->req;
    const char *ct = http_header_get(req, "Content-Type");
    const char *data = req->body.data ? req->body.data : "";
    int rc;
    if (has_prefix(ct, "application/x-www-form-urlencoded")) {
        rc = form_parse(&req->a, data, req->body.len, &c->body);
    } else if (has_prefix(ct, "multipart/form-data")) {
        rc = form_parse_multipart(&req->a, ct, data, req->body.len, &c->body);
    } else {
        o311_error(c->res, c->xml, 400,
                   "send the parameters as application/x-www-form-urlencoded or "
                   "multipart/form-data");
        return false;
    }
    if (rc != 0) {
        o311_error(c->res, c->xml, 400, "the body is malformed or has more than %d parameters",
                   FORM_MAX_FIELDS);
        return false;
    }
    for (size_t i = 0; i < c->body.n; i++) {
        if (strlen(c->body.fields[i].value) != c->body.fields[i].value_len) {
            o311_error(c->res, c->xml, 400, "parameter values may not hold NUL bytes");
            return false;
        }
    }
    c->has_body = true;
    return true;
}

/* A parameter from the body, else from the query string; empty is absent. */
static const char *o311_param(const o311_call *c, const char *name)
{
    const char *v = c->has_body ? form_get(&c->body, name) : NULL;
    if (!v || !*v)
        v = http_query_get(c->req, name);
    return v && *v ? v : NULL;
}

/* A text parameter of at most `max` bytes; CRLF line breaks become LF when
 * `multiline`. Absent: *out = NULL, a 400 when `required`. */
static bool o311_text(o311_call *c, const char *name, bool required, size_t max, bool multiline,
                      const char **out)
{
    const char *v = o311_param(c, name);
    *out = NULL;
    if (!v) {
        if (required)
            o311_error(c->res, c->xml, 400, "%s is required", name);
        return !required;
    }
    char *copy = arena_strdup(&c->req->a, v);
    if (!copy) {
        api_error(c->res, 500, "internal", NULL, "out of memory");
        return false;
    }
    size_t o = 0;
    for (size_t i = 0; copy[i]; i++)
        if (!(multiline && copy[i] == '\r' && copy[i + 1] == '\n'))
            copy[o++] = copy[i];
    copy[o] = '\0';
    if (!valid_text(copy, max, multiline)) {
        o311_error(c->res, c->xml, 400, "%s must be at most %zu bytes of text%s", name, max,
                   multiline ? "" : " on one line");
        return false;
    }
    *out = copy;
    return true;
}

/* The organisation named by jurisdiction_id, or the only one. */
static bool o311_jurisdiction(o311_call *c)
{
    app *ap = c->req->ctx;
    const char *j = o311_param(c, "jurisdiction_id");
    store_rc rc;
    if (!j) {
        rc = store_org_sole(ap->store, &c->req->a, &c->org);
        if (rc == STORE_CONFLICT) {
            o311_error(c->res, c->xml, 400,
                       "jurisdiction_id is required: this server serves several organisations");
            return false;
        }
    } else {
        rc = valid_code(j, 64) ? store_org_by_slug(ap->store, &c->req->a, j, &c->org)
                               : STORE_NOT_FOUND;
    }
    if (rc == STORE_NOT_FOUND) {
        o311_error(c->res, c->xml, 404, "there is no such jurisdiction");
        return false;
    }
    if (rc != STORE_OK) {
        o311_error(c->res, c->xml, 503, "the database is busy; try again");
        return false;
    }
    return true;
}

/* The api_key: one of the jurisdiction's keys, with a role of `level`. */
static bool o311_key(o311_call *c, int level)
{
    const char *key = o311_param(c, "api_key");
    if (!key) {
        o311_error(c->res, c->xml, 400, "api_key is required");
        return false;
    }
    switch (auth_api_key(c->req, key, &c->who)) {
    case AUTH_OK:
        break;
    case AUTH_UNAVAILABLE:
        o311_error(c->res, c->xml, 503, "the database is busy; try again");
        return false;
    default:
        o311_error(c->res, c->xml, 403, "the api_key is not valid");
        return false;
    }
    if (c->who.org_id != c->org.id) {
        o311_error(c->res, c->xml, 403, "the api_key is not valid for this jurisdiction");
        return false;
    }
    if (!auth_role_allows(c->who.role, level)) {
        o311_error(c->res, c->xml, 403, "the api_key's role (%s) may not do this", c->who.role);
        return false;
    }
    return true;
}

/* ---- services ---- */

/* Loads a stored service's workflow and metadata; false (500 written) when
 * what is stored cannot be read, which validation on the way in prevents. */
static bool o311_svc_load(o311_call *c, const store_service *svc, o311_svc *out)
{
    wf_error err;
    json_t *wf = json_loads(svc->workflow_json, 0, NULL);
    json_t *meta = json_loads(svc->open311_json, 0, NULL);
    bool ok = wf && meta && workflow_parse(&c->req->a, wf, &out->wf, &err) == 0 &&
              o311_service_parse(&c->req->a, meta, &out->wf, &out->meta, &err) == 0;
    json_decref(wf);
    json_decref(meta);
    if (!ok) {
        o311_error(c->res, c->xml, 500, "the service %s cannot be read", svc->code);
        return false;
    }
    out->svc = *svc;
    return true;
}

/* The jurisdiction's services offered through Open311, by code. */
static bool o311_svc_list(o311_call *c, o311_svc **out, size_t *n)
{
    app *ap = c->req->ctx;
    store_service *svcs;
    size_t count;
    *out = NULL;
    *n = 0;
    store_rc rc = store_service_list(ap->store, &c->req->a, c->org.id, &svcs, &count);
    if (rc != STORE_OK) {
        o311_error(c->res, c->xml, 503, "the database is busy; try again");
        return false;
    }
    o311_svc *arr = arena_calloc(&c->req->a, count ? count : 1, sizeof(*arr));
    if (!arr) {
        api_error(c->res, 500, "internal", NULL, "out of memory");
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        if (!svcs[i].open311_json)
            continue;
        if (!o311_svc_load(c, &svcs[i], &arr[*n]))
            return false;
        (*n)++;
    }
    *out = arr;
    return true;
}

static const o311_svc *o311_svc_by_id(const o311_svc *svcs, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (svcs[i].svc.id == id)
            return &svcs[i];
    return NULL;
}

static const o311_svc *o311_svc_by_code(const o311_svc *svcs, size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(svcs[i].svc.code, code) == 0)
            return &svcs[i];
    return NULL;
}

/* Whether a reporting site must ask the reporter anything. */
static bool has_metadata(const o311_service *meta)
{
    for (size_t i = 0; i < meta->n_attrs; i++)
        if (meta->attrs[i].variable)
            return true;
    return false;
}

static json_t *words_json(const char *const *words, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(words[i]));
    return arr;
}

/* The spec's keywords: one comma-separated string. */
static json_t *keywords_json(const o311_service *meta)
{
    buf b;
    buf_init(&b, 8192);
    for (size_t i = 0; i < meta->n_keywords; i++) {
        if (i)
            buf_putc(&b, ',');
        buf_puts(&b, meta->keywords[i]);
    }
    json_t *out = b.failed || !b.len ? json_null() : json_string(b.data);
    buf_free(&b);
    return out;
}

static json_t *service_json(const o311_svc *s)
{
    const o311_service *m = &s->meta;
    return json_pack("{s:s, s:s, s:o, s:b, s:s, s:o, s:o, s:o}", "service_code", s->svc.code,
                     "service_name", s->svc.name, "description", api_str(s->svc.description),
                     "metadata", has_metadata(m), "type", "realtime", "keywords", keywords_json(m),
                     "group", api_str(m->n_groups ? m->groups[0] : NULL), "groups",
                     words_json(m->groups, m->n_groups));
}

void o311_discovery(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    o311_call c;
    if (!o311_begin(req, res, &c, NULL))
        return;
    const char *host = http_header_get(req, "Host");
    if (!host || !valid_text(host, 255, false) || strpbrk(host, " /\\\"<>"))
        host = "localhost";
    const char *url =
        arena_printf(&req->a, "%s://%s" O311_PATH, ap->cookie_secure ? "https" : "http", host);
    json_t *endpoint = json_pack("{s:s, s:s, s:s, s:s, s:[s, s]}", "specification", O311_SPEC,
                                 "url", url, "changeset", O311_CHANGESET, "type", "production",
                                 "formats", "text/xml", "application/json");
    o311_render(res, c.xml, 200,
                json_pack("{s:s, s:s, s:s, s:[o]}", "changeset", O311_CHANGESET, "contact",
                          "Each jurisdiction's own contact details are on its public pages.",
                          "key_service",
                          "API keys are issued by each jurisdiction's administrators.", "endpoints",
                          endpoint),
                "discovery", NULL);
}

void o311_services(http_req *req, http_res *res)
{
    o311_call c;
    o311_svc *svcs;
    size_t n;
    if (!o311_begin(req, res, &c, NULL) || !o311_jurisdiction(&c) || !o311_svc_list(&c, &svcs, &n))
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, service_json(&svcs[i]));
    o311_render(res, c.xml, 200, list, "services", "service");
}

static int attr_order(const void *a, const void *b)
{
    const o311_attr *x = a, *y = b;
    return (x->order > y->order) - (x->order < y->order);
}

void o311_service_definition(http_req *req, http_res *res)
{
    o311_call c;
    o311_svc *svcs;
    size_t n;
    const char *code;
    if (!o311_begin(req, res, &c, &code) || !o311_jurisdiction(&c) || !o311_svc_list(&c, &svcs, &n))
        return;
    const o311_svc *s = o311_svc_by_code(svcs, n, code);
    if (!s) {
        o311_error(res, c.xml, 404, "there is no service with that service_code");
        return;
    }
    size_t na = s->meta.n_attrs;
    o311_attr *sorted = arena_calloc(&req->a, na ? na : 1, sizeof(*sorted));
    if (!sorted) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    if (na)
        memcpy(sorted, s->meta.attrs, na * sizeof(*sorted));
    qsort(sorted, na, sizeof(*sorted), attr_order);
    json_t *attrs = json_array();
    for (size_t i = 0; i < na; i++) {
        const o311_attr *at = &sorted[i];
        json_t *o =
            json_pack("{s:b, s:s, s:s, s:b, s:o, s:i, s:s}", "variable", at->variable, "code",
                      at->code, "datatype", o311_datatype_name(at->datatype), "required",
                      at->required, "datatype_description", api_str(at->datatype_description),
                      "order", at->order, "description", at->description);
        if (at->automated)
            json_object_set_new(o, "automated", json_string(at->automated));
        if (at->n_values) {
            json_t *values = json_array();
            for (size_t k = 0; k < at->n_values; k++)
                json_array_append_new(values, json_pack("{s:s, s:s}", "key", at->values[k].key,
                                                        "name", at->values[k].name));
            json_object_set_new(o, "values", values);
        }
        json_array_append_new(attrs, o);
    }
    o311_render(res, c.xml, 200,
                json_pack("{s:s, s:o}", "service_code", s->svc.code, "attributes", attrs),
                "service_definition", NULL);
}

/* ---- requests ---- */

static json_t *time_json(int64_t t)
{
    char text[32];
    if (!t)
        return json_null();
    o311_format_datetime(t, text, sizeof(text));
    return json_string(text);
}

static json_t *request_json(const o311_call *c, const o311_svc *s, const store_open311_case *k)
{
    o311_stage st = o311_stage_status(&s->meta, &s->wf, k->stage);
    const store_open311_request *r = &k->request;
    json_t *lat = r->lat ? json_real(strtod(r->lat, NULL)) : json_null();
    json_t *lon = r->lon ? json_real(strtod(r->lon, NULL)) : json_null();
    return json_pack(
        "{s:s, s:s, s:o, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:o, s:o}",
        "service_request_id", k->reference, "status", st.closed ? "closed" : "open", "status_notes",
        api_str(casework_stage_name(&s->wf, k->stage)), "service_name", s->svc.name, "service_code",
        s->svc.code, "description", api_str(r->description), "agency_responsible", c->org.name,
        "service_notice", json_null(), "requested_datetime", time_json(k->opened_at),
        "updated_datetime", time_json(k->updated_at), "expected_datetime",
        k->closed_at ? json_null() : time_json(workdays_add(k->opened_at, s->svc.target_days)),
        "address", api_str(r->address_string), "address_id", api_str(r->address_id), "zipcode",
        json_null(), "lat", lat, "long", lon, "media_url", api_str(r->media_url));
}

/* A W3C date-time parameter; absent leaves *out alone. */
static bool o311_time(o311_call *c, const char *name, int64_t *out)
{
    const char *v = o311_param(c, name);
    long long t;
    if (!v)
        return true;
    if (!parse_datetime(v, &t)) {
        o311_error(c->res, c->xml, 400,
                   "%s must be a W3C date-time such as 2026-11-23T10:00:00Z or "
                   "2026-11-23T10:00:00+01:00",
                   name);
        return false;
    }
    *out = t;
    return true;
}

/* start_date and end_date: at most 90 days apart, the last 90 days when
 * both are absent; [from, to) is the window, to being end_date inclusive. */
static bool o311_window(o311_call *c, int64_t *from, int64_t *to)
{
    int64_t start = INT64_MIN, end = INT64_MIN;
    if (!o311_time(c, "start_date", &start) || !o311_time(c, "end_date", &end))
        return false;
    if (end == INT64_MIN)
        end = start == INT64_MIN ? app_now() : start + O311_WINDOW_MAX_S;
    if (start == INT64_MIN)
        start = end - O311_WINDOW_MAX_S;
    if (start > end) {
        o311_error(c->res, c->xml, 400, "start_date is after end_date");
        return false;
    }
    if (end - start > O311_WINDOW_MAX_S) {
        o311_error(c->res, c->xml, 400, "start_date and end_date may be at most 90 days apart");
        return false;
    }
    *from = start;
    *to = end + 1;
    return true;
}

/* GET requests with service_request_id: those of the listed ids that exist. */
static void requests_by_id(o311_call *c, const o311_svc *svcs, size_t n, const char *ids)
{
    app *ap = c->req->ctx;
    json_t *list = json_array();
    size_t count = 0;
    const char *p = ids;
    while (*p) {
        size_t len = strcspn(p, ",");
        char ref[REF_TEXT_LEN + 1];
        uint64_t value;
        if (++count > IDS_MAX) {
            json_decref(list);
            o311_error(c->res, c->xml, 400, "service_request_id may list at most %d ids", IDS_MAX);
            return;
        }
        if (ref_parse(p, len, &value) == REF_OK) {
            store_open311_case k;
            ref_format(value, ref);
            store_rc rc = store_open311_case_get(ap->store, &c->req->a, c->org.id, ref, NULL, &k);
            const o311_svc *s = rc == STORE_OK ? o311_svc_by_id(svcs, n, k.service_id) : NULL;
            if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
                json_decref(list);
                o311_error(c->res, c->xml, 503, "the database is busy; try again");
                return;
            }
            if (s)
                json_array_append_new(list, request_json(c, s, &k));
        }
        p += len;
        if (*p == ',')
            p++;
    }
    o311_render(c->res, c->xml, 200, list, "service_requests", "request");
}

/* Appends "<service id>:<stage>" for each stage of s whose core status is
 * `status` (NULL: every stage). */
static void add_stage_keys(json_t *keys, const o311_svc *s, const char *status)
{
    for (size_t i = 0; i < s->wf.n_stages; i++) {
        o311_stage st = o311_stage_status(&s->meta, &s->wf, s->wf.stages[i].code);
        if (status && strcmp(status, st.closed ? "closed" : "open") != 0)
            continue;
        json_array_append_new(keys,
                              json_sprintf("%lld:%s", (long long)s->svc.id, s->wf.stages[i].code));
    }
}

void o311_requests_list(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    o311_call c;
    o311_svc *svcs;
    size_t n;
    if (!o311_begin(req, res, &c, NULL) || !o311_jurisdiction(&c) || !o311_svc_list(&c, &svcs, &n))
        return;
    const char *ids = o311_param(&c, "service_request_id");
    if (ids) {
        requests_by_id(&c, svcs, n, ids);
        return;
    }
    store_open311_filter f = {.org_id = c.org.id, .limit = STORE_OPEN311_MAX};
    const char *code = o311_param(&c, "service_code");
    const char *status = o311_param(&c, "status");
    if (!o311_window(&c, &f.opened_from, &f.opened_to))
        return;
    if (status && strcmp(status, "open") != 0 && strcmp(status, "closed") != 0) {
        o311_error(res, c.xml, 400, "status must be open or closed");
        return;
    }
    const o311_svc *only = NULL;
    if (code && !(only = o311_svc_by_code(svcs, n, code))) {
        o311_error(res, c.xml, 400, "there is no service with that service_code");
        return;
    }
    json_t *keys = json_array();
    for (size_t i = 0; i < n; i++)
        if (!only || only == &svcs[i])
            add_stage_keys(keys, &svcs[i], status);
    char *keys_text = json_dumps(keys, JSON_COMPACT);
    json_decref(keys);
    f.service_stages_json = keys_text ? arena_strdup(&req->a, keys_text) : NULL;
    free(keys_text);
    if (!f.service_stages_json) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    store_open311_case *cases;
    size_t count;
    store_rc rc = store_open311_cases(ap->store, &req->a, &f, &cases, &count);
    if (rc != STORE_OK) {
        o311_error(res, c.xml, 503, "the database is busy; try again");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        const o311_svc *s = o311_svc_by_id(svcs, n, cases[i].service_id);
        if (s)
            json_array_append_new(list, request_json(&c, s, &cases[i]));
    }
    o311_render(res, c.xml, 200, list, "service_requests", "request");
}

void o311_request_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    o311_call c;
    o311_svc *svcs;
    size_t n;
    const char *id;
    if (!o311_begin(req, res, &c, &id) || !o311_jurisdiction(&c) || !o311_svc_list(&c, &svcs, &n))
        return;
    uint64_t value;
    char ref[REF_TEXT_LEN + 1];
    store_open311_case k;
    store_rc rc = STORE_NOT_FOUND;
    if (ref_parse(id, strlen(id), &value) == REF_OK) {
        ref_format(value, ref);
        rc = store_open311_case_get(ap->store, &req->a, c.org.id, ref, NULL, &k);
    }
    const o311_svc *s = rc == STORE_OK ? o311_svc_by_id(svcs, n, k.service_id) : NULL;
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        o311_error(res, c.xml, 503, "the database is busy; try again");
        return;
    }
    if (!s) {
        o311_error(res, c.xml, 404, "there is no service request with that id");
        return;
    }
    json_t *list = json_array();
    json_array_append_new(list, request_json(&c, s, &k));
    o311_render(res, c.xml, 200, list, "service_requests", "request");
}

void o311_token_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    o311_call c;
    const char *token;
    if (!o311_begin(req, res, &c, &token) || !o311_jurisdiction(&c))
        return;
    store_open311_case k;
    /* Tokens are Crockford Base32 (token_random). */
    bool plausible = strlen(token) == TOKEN_CHARS &&
                     strspn(token, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") == TOKEN_CHARS;
    store_rc rc = plausible ? store_open311_case_get(ap->store, &req->a, c.org.id, NULL, token, &k)
                            : STORE_NOT_FOUND;
    if (rc == STORE_NOT_FOUND) {
        o311_error(res, c.xml, 404, "there is no request with that token");
        return;
    }
    if (rc != STORE_OK) {
        o311_error(res, c.xml, 503, "the database is busy; try again");
        return;
    }
    o311_render(res, c.xml, 200,
                json_pack("[{s:s, s:s}]", "service_request_id", k.reference, "token", token),
                "service_requests", "request");
}

/* ---- posting a request ---- */

/* Gathers the attribute[...] parameters by code, in the order first seen. */
static bool read_attributes(o311_call *c, o311_input **out, size_t *n)
{
    arena *a = &c->req->a;
    o311_input *in = arena_calloc(a, FORM_MAX_FIELDS, sizeof(*in));
    *out = in;
    *n = 0;
    if (!in)
        return false;
    for (size_t i = 0; i < c->body.n; i++) {
        char code[O311_CODE_MAX + 1];
        const form_field *f = &c->body.fields[i];
        if (!o311_attribute_key(f->key, code))
            continue;
        o311_input *x = NULL;
        for (size_t j = 0; j < *n && !x; j++)
            if (strcmp(in[j].code, code) == 0)
                x = &in[j];
        if (!x) {
            x = &in[(*n)++];
            x->code = arena_strdup(a, code);
            x->values = arena_calloc(a, FORM_MAX_FIELDS, sizeof(*x->values));
            if (!x->code || !x->values)
                return false;
        }
        if (*f->value)
            x->values[x->n_values++] = f->value;
    }
    return true;
}

/* The attributes as stored: code -> value, or a list when several. */
static char *attributes_text(arena *a, const o311_input *in, size_t n)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < n; i++) {
        if (in[i].n_values == 0)
            continue;
        if (in[i].n_values == 1) {
            json_object_set_new(obj, in[i].code, json_string(in[i].values[0]));
            continue;
        }
        json_t *arr = json_array();
        for (size_t k = 0; k < in[i].n_values; k++)
            json_array_append_new(arr, json_string(in[i].values[k]));
        json_object_set_new(obj, in[i].code, arr);
    }
    char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(obj);
    char *out = text ? arena_strdup(a, text) : NULL;
    free(text);
    return out;
}

static const char *input_value(const o311_input *in, size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(in[i].code, code) == 0 && in[i].n_values)
            return in[i].values[0];
    return NULL;
}

/* A link to a photo: http or https, on one line. */
static bool valid_url(const char *s)
{
    return (has_prefix(s, "http://") || has_prefix(s, "https://")) &&
           valid_text(s, URL_MAX, false) && !strpbrk(s, " <>\"");
}

/* The reporter: name, normalised email and phone into the person record. */
static bool read_reporter(o311_call *c, store_person *p)
{
    const char *first, *last, *email, *phone;
    memset(p, 0, sizeof(*p));
    if (!o311_text(c, "first_name", false, PERSON_NAME_MAX, false, &first) ||
        !o311_text(c, "last_name", false, PERSON_NAME_MAX, false, &last) ||
        !o311_text(c, "email", false, 254, false, &email) ||
        !o311_text(c, "phone", false, 40, false, &phone))
        return false;
    if (first || last)
        p->name = arena_printf(&c->req->a, "%s%s%s", first ? first : "", first && last ? " " : "",
                               last ? last : "");
    if (email) {
        char normal[256];
        if (!email_normalise(email, normal, sizeof(normal))) {
            o311_error(c->res, c->xml, 400, "email is not an email address");
            return false;
        }
        p->email = arena_strdup(&c->req->a, normal);
    }
    if (phone && strspn(phone, "0123456789 +()-") != strlen(phone)) {
        o311_error(c->res, c->xml, 400, "phone may hold only digits, spaces and + ( ) -");
        return false;
    }
    p->phone = phone;
    return true;
}

/* The location: lat and long together, or an address. */
static bool read_location(o311_call *c, store_open311_request *r)
{
    const char *lat = o311_param(c, "lat"), *lon = o311_param(c, "long");
    if (!o311_text(c, "address_string", false, 500, false, &r->address_string) ||
        !o311_text(c, "address_id", false, 100, false, &r->address_id))
        return false;
    if ((lat != NULL) != (lon != NULL)) {
        o311_error(c->res, c->xml, 400, "lat and long go together");
        return false;
    }
    if (lat && (!o311_coordinate(lat, 90) || !o311_coordinate(lon, 180))) {
        o311_error(c->res, c->xml, 400,
                   "lat and long must be decimal degrees (WGS84) within -90..90 and -180..180");
        return false;
    }
    if (!lat && !r->address_string && !r->address_id) {
        o311_error(c->res, c->xml, 400,
                   "a location is required: lat and long, address_string or address_id");
        return false;
    }
    r->lat = lat;
    r->lon = lon;
    return true;
}

/* What makes a retry find the first request's case: the reporting site's
 * own id when it sends one, else the whole body within BODY_RETRY_S. */
static const char *retry_key(o311_call *c, const o311_input *in, size_t n)
{
    const char *site_id = input_value(in, n, "fixmystreet_id");
    if (site_id && valid_text(site_id, 60, false))
        return arena_printf(&c->req->a, "open311:fixmystreet:%s", site_id);
    unsigned char hash[16];
    char hex[2 * sizeof(hash) + 1];
    crypto_generichash(hash, sizeof(hash), (const unsigned char *)c->req->body.data,
                       c->req->body.len, NULL, 0);
    sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
    return arena_printf(&c->req->a, "open311:body:%s:%lld", hex,
                        (long long)(app_now() / BODY_RETRY_S));
}

void o311_request_post(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    o311_call c;
    o311_svc *svcs;
    size_t n, n_in;
    const char *code;
    o311_input *in;
    store_open311_request r = {0};
    store_case_new nc = {.now = app_now()};
    if (!o311_begin(req, res, &c, NULL) || !o311_read_body(&c) || !o311_jurisdiction(&c) ||
        !o311_key(&c, ACCESS_WRITER) || !o311_svc_list(&c, &svcs, &n))
        return;
    if (!o311_text(&c, "service_code", true, 40, false, &code))
        return;
    const o311_svc *s = o311_svc_by_code(svcs, n, code);
    if (!s) {
        o311_error(res, c.xml, 400, "service_code %s is not a service of this jurisdiction",
                   valid_code(code, 40) ? code : "given");
        return;
    }
    if (!read_location(&c, &r) || !read_reporter(&c, &nc.person) ||
        !o311_text(&c, "description", false, DESCRIPTION_MAX, true, &r.description) ||
        !o311_text(&c, "account_id", false, 100, false, &r.account_id))
        return;
    r.device_id =
        o311_param(&c, "device_id") ? o311_param(&c, "device_id") : o311_param(&c, "deviceid");
    if (r.device_id && !valid_text(r.device_id, 100, false)) {
        o311_error(res, c.xml, 400, "device_id must be at most 100 bytes of text");
        return;
    }
    r.media_url = o311_param(&c, "media_url");
    if (r.media_url && !valid_url(r.media_url)) {
        o311_error(res, c.xml, 400, "media_url must be an http or https URL");
        return;
    }
    if (!read_attributes(&c, &in, &n_in)) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    const char *bad;
    char msg[256];
    if (!o311_check_attributes(&s->meta, in, n_in, &bad, msg, sizeof(msg))) {
        o311_error(res, c.xml, 400, "%s", msg);
        return;
    }
    for (size_t i = 0; i < n_in; i++)
        for (size_t k = 0; k < in[i].n_values; k++)
            if (!valid_text(in[i].values[k], O311_TEXT_MAX, true)) {
                o311_error(res, c.xml, 400, "attribute[%s] must be text", in[i].code);
                return;
            }
    r.attributes_json = attributes_text(&req->a, in, n_in);
    char token[TOKEN_CHARS + 1], secret[SECRET_TEXT + 1], ref[REF_TEXT_LEN + 1];
    unsigned char hash[TOKEN_HASH_BYTES];
    token_random(token, TOKEN_CHARS);
    token_random_grouped(secret, SECRET_CHARS);
    token_hash(ap->key, secret, hash);
    r.token = token;
    nc.org_id = c.org.id;
    nc.service_id = s->svc.id;
    nc.stage = s->wf.stages[s->wf.initial].code;
    nc.summary = r.description ? r.description : s->svc.name;
    nc.secret_hash = hash;
    nc.idempotency_key = retry_key(&c, in, n_in);
    nc.actor = c.who.name;
    nc.open311 = &r;
    if (!r.attributes_json || !nc.idempotency_key) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return;
    }

    store_case out;
    bool existed = false;
    store_rc rc = STORE_DUPLICATE;
    /* A reference or token that collides just draws again. */
    for (int attempt = 0; attempt < REFERENCE_ATTEMPTS && rc == STORE_DUPLICATE; attempt++) {
        casework_new_reference(ref);
        nc.reference = ref;
        if (attempt)
            token_random(token, TOKEN_CHARS);
        rc = store_case_create(ap->store, &req->a, &nc, &out, &existed);
    }
    if (rc != STORE_OK) {
        o311_error(res, c.xml, rc == STORE_UNAVAILABLE ? 503 : 500,
                   "the request could not be saved; try again");
        return;
    }
    store_open311_case k;
    rc = store_open311_case_get(ap->store, &req->a, c.org.id, out.reference, NULL, &k);
    if (rc != STORE_OK) {
        o311_error(res, c.xml, 503, "the request was saved but cannot be read; try again");
        return;
    }
    json_t *notice = nc.person.email && !existed
                         ? json_sprintf("Track it at /track with the reference %s and your "
                                        "email address.",
                                        out.reference)
                         : json_null();
    o311_render(res, c.xml, 200,
                json_pack("[{s:s, s:o, s:o, s:o}]", "service_request_id", out.reference, "token",
                          api_str(k.request.token), "service_notice", notice, "account_id",
                          api_str(k.request.account_id)),
                "service_requests", "request");
    if (existed)
        http_res_header(res, "Idempotent-Replayed", "true");
}

/* ---- request updates ---- */

static json_t *update_json(const o311_svc *s, const store_open311_update *u)
{
    o311_stage st = o311_stage_status(&s->meta, &s->wf, u->stage);
    const char *description = u->body ? u->body : casework_stage_name(&s->wf, u->stage);
    json_t *o = json_pack("{s:o, s:s, s:s, s:o, s:s, s:s}", "update_id",
                          json_sprintf("%lld", (long long)u->id), "service_request_id",
                          u->reference, "status",
                          st.extended_status ? st.extended_status : (st.closed ? "closed" : "open"),
                          "updated_datetime", time_json(u->created_at), "description",
                          description ? description : "", "media_url", "");
    if (o && st.external_status_code)
        json_object_set_new(o, "external_status_code", json_string(st.external_status_code));
    return o;
}

void o311_updates_list(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    o311_call c;
    o311_svc *svcs;
    size_t n;
    int64_t from, to;
    if (!o311_begin(req, res, &c, NULL) || !o311_jurisdiction(&c) || !o311_key(&c, ACCESS_STAFF) ||
        !o311_svc_list(&c, &svcs, &n) || !o311_window(&c, &from, &to))
        return;
    json_t *ids = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(ids, json_integer(svcs[i].svc.id));
    char *ids_text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    const char *ids_json = ids_text ? arena_strdup(&req->a, ids_text) : NULL;
    free(ids_text);
    if (!ids_json) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    store_open311_update *ups;
    size_t count;
    store_rc rc = store_open311_updates(ap->store, &req->a, c.org.id, ids_json, from, to,
                                        STORE_OPEN311_MAX, &ups, &count);
    if (rc != STORE_OK) {
        o311_error(res, c.xml, 503, "the database is busy; try again");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        const o311_svc *s = o311_svc_by_id(svcs, n, ups[i].service_id);
        if (s)
            json_array_append_new(list, update_json(s, &ups[i]));
    }
    o311_render(res, c.xml, 200, list, "service_requests_updates", "request_update");
}

void o311_update_post(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    o311_call c;
    o311_svc *svcs;
    size_t n;
    const char *id, *description, *status_text, *canonical = NULL;
    int64_t when = 0;
    if (!o311_begin(req, res, &c, NULL) || !o311_read_body(&c) || !o311_jurisdiction(&c) ||
        !o311_key(&c, ACCESS_WRITER) || !o311_svc_list(&c, &svcs, &n) ||
        !o311_text(&c, "service_request_id", true, 40, false, &id) ||
        !o311_text(&c, "description", false, DESCRIPTION_MAX, true, &description) ||
        !o311_text(&c, "status", false, 40, false, &status_text) ||
        !o311_time(&c, "updated_datetime", &when))
        return;
    if (status_text && !(canonical = o311_status_canonical(status_text))) {
        o311_error(res, c.xml, 400, "status must be open, closed or an extended status");
        return;
    }
    if (!description && !canonical) {
        o311_error(res, c.xml, 400, "description is required");
        return;
    }
    const char *media = o311_param(&c, "media_url");
    if (media && !valid_url(media)) {
        o311_error(res, c.xml, 400, "media_url must be an http or https URL");
        return;
    }
    uint64_t value;
    char ref[REF_TEXT_LEN + 1];
    store_case k;
    store_rc rc = STORE_NOT_FOUND;
    if (ref_parse(id, strlen(id), &value) == REF_OK) {
        ref_format(value, ref);
        rc = store_case_get(ap->store, &req->a, c.org.id, ref, &k);
    }
    if (rc == STORE_OK && !o311_svc_by_id(svcs, n, k.service_id))
        rc = STORE_NOT_FOUND;
    if (rc != STORE_OK) {
        o311_error(res, c.xml, rc == STORE_NOT_FOUND ? 404 : 503,
                   rc == STORE_NOT_FOUND ? "there is no service request with that id"
                                         : "the database is busy; try again");
        return;
    }
    /* The reporter's words go to the officer as a message; a status they ask
     * for is a request, for the officer to act on. */
    buf b;
    buf_init(&b, DESCRIPTION_MAX + URL_MAX + 256);
    if (description)
        buf_puts(&b, description);
    if (canonical)
        buf_printf(&b, "%sThe reporter asks for the status: %s.", description ? "\n\n" : "",
                   canonical);
    if (media)
        buf_printf(&b, "\n\nPhoto: %s", media);
    const char *text = b.failed ? NULL : arena_strdup(&req->a, b.data);
    buf_free(&b);
    if (!text) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    store_event ev = {.type = "message",
                      .stage = k.stage,
                      .body = text,
                      .public_ = true,
                      .actor = "citizen",
                      .created_at = app_now()};
    rc = store_event_append(ap->store, k.id, &ev, false);
    if (rc != STORE_OK) {
        o311_error(res, c.xml, 503, "the update could not be saved; try again");
        return;
    }
    o311_render(res, c.xml, 200,
                json_pack("[{s:o}]", "update_id", json_sprintf("%lld", (long long)ev.id)),
                "service_requests_updates", "request_update");
}
