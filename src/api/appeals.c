/* appeals.c - appeals for witnesses: staff drafting and publishing, the public
 * search (JSON and GeoJSON), answers from the public and their receipts.
 *
 * The true location of an appeal is written only by the staff handlers, from
 * a staff read of the appeal's own organisation; the public handlers read
 * through the store's public calls, which never select it. Appeal responses
 * are written with the streaming writer so that coordinates go out as the
 * exact decimals they are stored as, never through a binary double.
 */
#include "api/appeals.h"

#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/casework.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/notices.h"
#include "domain/appeal.h"
#include "domain/validate.h"
#include "util/jsonw.h"
#include "util/token.h"

#define TITLE_MAX 200
#define DESCRIPTION_MAX 5000
#define CONTACT_MAX 500
#define PURPOSE_MAX 200
#define PURPOSE_DEFAULT "reading answers to an appeal"
#define RECEIPT_SECRET_CHARS 20
#define RECEIPT_ATTEMPTS 8
#define STAFF_LIST_DEFAULT 50
#define ANSWERS_DEFAULT 50
#define ANSWERS_MAX 200
#define DAY_S 86400

/* Every answer recorded counts, so that the limit bounds what one address
 * can make staff read; failed look-ups of receipts count as for tracking. */
static const ratelimit_rule answers_per_client = {"appeal-answer", 10, 60 * 60};
static const ratelimit_rule receipts_per_client = {"appeal-receipt", 20, 15 * 60};

/* ---- writing appeals ---- */

static void jw_time(jsonw *w, int64_t t)
{
    if (!t) {
        jw_null(w);
        return;
    }
    char text[32];
    format_datetime(t, text, sizeof(text));
    jw_string(w, text);
}

static void jw_coord(jsonw *w, const char *key, int32_t v)
{
    char text[GEO_TEXT_LEN];
    geo_format(v, text);
    jw_key(w, key);
    jw_number(w, text);
}

/* The public location: a point and how precise it is. */
static void write_public_location(jsonw *w, const store_appeal *a)
{
    jw_object_begin(w);
    jw_coord(w, "lat", a->pub_lat);
    jw_coord(w, "lon", a->pub_lon);
    jw_key(w, "precision");
    jw_string(w, a->precision);
    jw_key(w, "cell_m");
    if (strcmp(a->precision, "grid") == 0)
        jw_int(w, a->cell_m);
    else
        jw_null(w);
    jw_object_end(w);
}

/* The fields staff and the public both see. */
static void write_common(jsonw *w, const store_appeal *a)
{
    const appeal_category *cat = appeal_category_find(a->category);
    jw_key(w, "id");
    jw_int(w, a->id);
    jw_key(w, "status");
    jw_string(w, a->status);
    jw_key(w, "title");
    jw_string(w, a->title);
    jw_key(w, "description");
    jw_string(w, a->description);
    jw_key(w, "category");
    jw_string(w, a->category);
    jw_key(w, "category_name");
    jw_string(w, cat ? cat->name : a->category);
    jw_key(w, "occurred_from");
    jw_time(w, a->occurred_from);
    jw_key(w, "occurred_to");
    jw_time(w, a->occurred_to);
    jw_key(w, "contact");
    jw_string(w, a->contact);
    jw_key(w, "anonymous_contact");
    jw_string(w, a->anonymous_contact);
    jw_key(w, "expires_at");
    jw_time(w, a->expires_at);
    jw_key(w, "outcome");
    jw_string(w, a->outcome);
    jw_key(w, "published_at");
    jw_time(w, a->published_at);
    jw_key(w, "closed_at");
    jw_time(w, a->closed_at);
}

/* An appeal as the public sees it: never the true location, never the case. */
static void write_public(jsonw *w, const store_appeal *a)
{
    char url[40];
    jw_object_begin(w);
    write_common(w, a);
    jw_key(w, "organisation");
    jw_object_begin(w);
    jw_key(w, "slug");
    jw_string(w, a->org_slug);
    jw_key(w, "name");
    jw_string(w, a->org_name);
    jw_object_end(w);
    jw_key(w, "location");
    write_public_location(w, a);
    snprintf(url, sizeof(url), "/appeals/%lld", (long long)a->id);
    jw_key(w, "url");
    jw_string(w, url);
    jw_object_end(w);
}

/* An appeal as its organisation's staff see it, true location and officer
 * included. */
static void write_staff(jsonw *w, const store_appeal *a)
{
    jw_object_begin(w);
    write_common(w, a);
    jw_key(w, "case");
    jw_string(w, a->case_reference);
    jw_key(w, "officer_id");
    if (a->officer_id)
        jw_int(w, a->officer_id);
    else
        jw_null(w);
    jw_key(w, "location");
    jw_object_begin(w);
    jw_coord(w, "lat", a->true_lat);
    jw_coord(w, "lon", a->true_lon);
    jw_object_end(w);
    jw_key(w, "public_location");
    write_public_location(w, a);
    jw_key(w, "answers");
    jw_int(w, a->answers);
    jw_key(w, "created_at");
    jw_time(w, a->created_at);
    jw_key(w, "updated_at");
    jw_time(w, a->updated_at);
    jw_object_end(w);
}

/* Ends a response written with the writer. */
static void send_written(http_res *res, int status, jsonw *w, const char *content_type,
                         const char *cache)
{
    if (!jw_finish(w)) {
        api_error(res, 500, "internal", NULL, "the response could not be written");
        return;
    }
    res->status = status;
    res->content_type = content_type;
    http_res_header(res, "Cache-Control", cache);
}

/* Starts a page of JSON: an object whose `items` array the caller fills,
 * then closes with send_page. */
static void begin_page(http_res *res, jsonw *w, const char *items)
{
    buf_reset(&res->body);
    jw_init(w, &res->body);
    jw_object_begin(w);
    jw_key(w, items);
    jw_array_begin(w);
}

/* The staff lists' cursor: the page goes on after row (created_at, id). */
static const char *created_cursor(http_req *req, int64_t created_at, int64_t id)
{
    return arena_printf(&req->a, "%lld.%lld", (long long)created_at, (long long)id);
}

/* Closes a page of `jw_array_begin` items opened inside an object, with the
 * cursor of the next page (NULL: the last page), and sends it. */
static void send_page(http_res *res, jsonw *w, const char *next, const char *content_type,
                      const char *cache)
{
    jw_array_end(w);
    jw_key(w, "next_cursor");
    jw_string(w, next);
    jw_object_end(w);
    send_written(res, 200, w, content_type, cache);
}

static void send_staff(http_res *res, int status, const store_appeal *a)
{
    jsonw w;
    buf_reset(&res->body);
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "appeal");
    write_staff(&w, a);
    jw_object_end(&w);
    send_written(res, status, &w, "application/json", "no-store");
}

/* ---- reading staff input ---- */

/* The {id} of the path: a positive whole number. */
static bool path_id(http_req *req, http_res *res, int64_t *id)
{
    const char *s = req->params[0];
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 1 || s[0] == '+' || s[0] == ' ') {
        api_error(res, 400, "invalid_parameter", "id", "the appeal id must be a whole number");
        return false;
    }
    *id = v;
    return true;
}

static bool read_time(http_res *res, const json_t *body, const char *key, bool required,
                      int64_t *out)
{
    const char *text;
    long long t;
    *out = 0;
    if (!api_string(res, body, key, key, required, 40, false, &text))
        return false;
    if (!text)
        return true;
    if (!parse_datetime(text, &t)) {
        api_error(res, 400, "invalid_field", key,
                  "%s must be a date-time such as 2026-11-23T22:30:00Z", key);
        return false;
    }
    *out = t;
    return true;
}

/* A {lat, lon} object of decimal degrees; `fields` lists what else it may hold. */
static bool read_point(http_res *res, const json_t *obj, const char *name, bool required,
                       bool *present, geo_point *out)
{
    char field[64];
    json_t *lat = json_object_get(obj, "lat"), *lon = json_object_get(obj, "lon");
    *present = false;
    if (!lat && !lon) {
        if (required) {
            snprintf(field, sizeof(field), "%s.lat", name);
            api_error(res, 400, "missing_field", field, "%s needs lat and lon", name);
            return false;
        }
        return true;
    }
    if (!json_is_number(lat) || !json_is_number(lon) ||
        !geo_from_degrees(json_number_value(lat), json_number_value(lon), out)) {
        geo_point probe;
        bool lat_ok = json_is_number(lat) && geo_from_degrees(json_number_value(lat), 0, &probe);
        snprintf(field, sizeof(field), "%s.%s", name, lat_ok ? "lon" : "lat");
        api_error(res, 400, "invalid_field", field,
                  "%s needs lat from -90 to 90 and lon from -180 to 180, as numbers", name);
        return false;
    }
    *present = true;
    return true;
}

static bool read_object(http_res *res, const json_t *body, const char *key, bool required,
                        const char *const *fields, json_t **out)
{
    char prefix[64];
    *out = json_object_get(body, key);
    if (!*out || json_is_null(*out)) {
        *out = NULL;
        if (required)
            api_error(res, 400, "missing_field", key, "%s is required", key);
        return !required;
    }
    if (!json_is_object(*out)) {
        api_error(res, 400, "invalid_field", key, "%s must be an object", key);
        return false;
    }
    snprintf(prefix, sizeof(prefix), "%s.", key);
    return api_only_fields(res, *out, prefix, fields);
}

/* The editable fields of an appeal, from a create or replace body. */
static bool read_appeal(http_res *res, const json_t *body, store_appeal *a)
{
    static const char *const point_fields[] = {"lat", "lon", NULL};
    static const char *const public_fields[] = {"precision", "cell_m", "lat", "lon", NULL};
    json_t *loc, *pub;
    const char *precision_text;
    appeal_precision precision;
    geo_point truth, approved;
    bool has_truth, has_approved;
    long long cell = 0;
    if (!api_string(res, body, "title", "title", true, TITLE_MAX, false, &a->title) ||
        !api_string(res, body, "description", "description", true, DESCRIPTION_MAX, true,
                    &a->description) ||
        !api_string(res, body, "category", "category", true, 40, false, &a->category) ||
        !read_time(res, body, "occurred_from", true, &a->occurred_from) ||
        !read_time(res, body, "occurred_to", false, &a->occurred_to) ||
        !api_string(res, body, "contact", "contact", true, CONTACT_MAX, true, &a->contact) ||
        !api_string(res, body, "anonymous_contact", "anonymous_contact", false, CONTACT_MAX, true,
                    &a->anonymous_contact) ||
        !read_time(res, body, "expires_at", true, &a->expires_at) ||
        !read_object(res, body, "location", true, point_fields, &loc) ||
        !read_point(res, loc, "location", true, &has_truth, &truth) ||
        !read_object(res, body, "public_location", true, public_fields, &pub) ||
        !api_string(res, pub, "precision", "public_location.precision", true, 10, false,
                    &precision_text) ||
        !api_int(res, pub, "cell_m", "public_location.cell_m", false, GEO_CELL_MIN_M,
                 GEO_CELL_MAX_M, &cell, NULL) ||
        !read_point(res, pub, "public_location", false, &has_approved, &approved))
        return false;
    if (!appeal_category_find(a->category)) {
        api_error(res, 400, "invalid_field", "category",
                  "category must be one of the categories listed in the API description, such "
                  "as burglary or road-collision");
        return false;
    }
    if (a->occurred_to && a->occurred_to < a->occurred_from) {
        api_error(res, 400, "invalid_field", "occurred_to",
                  "occurred_to must not be before occurred_from");
        return false;
    }
    if (!appeal_precision_parse(precision_text, &precision)) {
        api_error(res, 400, "invalid_field", "public_location.precision",
                  "public_location.precision must be exact or grid");
        return false;
    }
    if ((precision == APPEAL_GRID) != (cell != 0)) {
        api_error(res, 400, "invalid_field", "public_location.cell_m",
                  "a grid precision needs cell_m (%d to %d metres), and only a grid takes it",
                  GEO_CELL_MIN_M, GEO_CELL_MAX_M);
        return false;
    }
    geo_point shown;
    if (!appeal_public_point(truth, has_approved ? &approved : NULL, precision, (int32_t)cell,
                             &shown)) {
        api_error(res, 400, "invalid_field", "public_location.cell_m",
                  "cell_m must be %d to %d metres", GEO_CELL_MIN_M, GEO_CELL_MAX_M);
        return false;
    }
    a->true_lat = truth.lat;
    a->true_lon = truth.lon;
    a->pub_lat = shown.lat;
    a->pub_lon = shown.lon;
    a->precision = appeal_precision_name(precision);
    a->cell_m = (int32_t)cell;
    return true;
}

/* The officer_id of a body: *given is false when it is absent, and an
 * explicit null is given as no officer (0). An officer reads the answers,
 * so must be an administrator or caseworker of the caller's organisation. */
static bool read_officer(http_req *req, http_res *res, const json_t *body, bool *given,
                         int64_t *out)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    const json_t *v = json_object_get(body, "officer_id");
    long long id;
    store_user u;
    *given = v != NULL;
    *out = 0;
    if (!v || json_is_null(v))
        return true;
    if (!api_int(res, body, "officer_id", "officer_id", false, 1, INT64_MAX, &id, NULL))
        return false;
    store_rc rc = store_user_get(ap->store, &req->a, who->org_id, id, &u);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 400, "invalid_field", "officer_id",
                  "officer_id must be the id of a member of staff of this organisation");
        return false;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return false;
    }
    if (strcmp(u.role, "analyst") == 0) {
        api_error(res, 400, "invalid_field", "officer_id",
                  "officer_id names an analyst, who cannot read answers; name an administrator "
                  "or caseworker");
        return false;
    }
    *out = id;
    return true;
}

/* Loads the caller's organisation's appeal of the path. */
static bool load_staff_appeal(http_req *req, http_res *res, int64_t id, store_appeal *a)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    store_rc rc = store_appeal_get(ap->store, &req->a, who->org_id, id, a);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 404, "not_found", NULL, "this organisation has no appeal %lld",
                  (long long)id);
        return false;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return false;
    }
    return true;
}

/* ---- staff handlers ---- */

void appeals_create(http_req *req, http_res *res)
{
    static const char *const fields[] = {"case",
                                         "title",
                                         "description",
                                         "category",
                                         "occurred_from",
                                         "occurred_to",
                                         "contact",
                                         "anonymous_contact",
                                         "expires_at",
                                         "location",
                                         "public_location",
                                         "officer_id",
                                         NULL};
    app *ap = req->ctx;
    const store_principal *who = req->who;
    const char *case_text;
    char ref[REF_TEXT_LEN + 1];
    bool officer_given;
    store_case c;
    store_appeal a = {.org_id = who->org_id, .created_at = app_now()};
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) ||
        !api_string(res, body, "case", "case", true, 64, false, &case_text) ||
        !casework_reference(res, case_text, ref) || !read_appeal(res, body, &a) ||
        !read_officer(req, res, body, &officer_given, &a.officer_id))
        goto out;
    /* Staff who draft an appeal are its officer unless they name another;
     * a system has no one to stand for. */
    if (!officer_given)
        a.officer_id = who->user_id;
    store_rc rc = store_case_get(ap->store, &req->a, who->org_id, ref, &c);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 400, "invalid_field", "case", "this organisation has no case %s", ref);
        goto out;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    a.case_id = c.id;
    rc = store_appeal_create(ap->store, &a);
    if (rc == STORE_OK)
        rc = store_appeal_get(ap->store, &req->a, who->org_id, a.id, &a);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    send_staff(res, 201, &a);
    http_res_header(res, "Location",
                    arena_printf(&req->a, "/api/v1/appeals/%lld", (long long)a.id));
out:
    json_decref(body);
}

/* Answers a change to appeal `id` that the store answered with rc: the
 * appeal as it now is, or 409 with `conflict` when its status refused it. */
static void answer_changed(http_req *req, http_res *res, int64_t id, store_rc rc,
                           const char *conflict)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    store_appeal a;
    if (rc == STORE_CONFLICT) {
        api_error(res, 409, "conflict", NULL, "%s", conflict);
        return;
    }
    if (rc == STORE_OK)
        rc = store_appeal_get(ap->store, &req->a, who->org_id, id, &a);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    send_staff(res, 200, &a);
}

void appeals_update(http_req *req, http_res *res)
{
    static const char *const fields[] = {
        "title",       "description",     "category",          "occurred_from",
        "occurred_to", "contact",         "anonymous_contact", "expires_at",
        "location",    "public_location", "officer_id",        NULL};
    app *ap = req->ctx;
    const store_principal *who = req->who;
    int64_t id, officer;
    bool officer_given;
    store_appeal a, now;
    if (!path_id(req, res, &id))
        return;
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) || !load_staff_appeal(req, res, id, &now))
        goto out;
    const char *why = appeal_check(now.status, now.expires_at, app_now(), APPEAL_EDIT);
    if (why) {
        api_error(res, 409, "conflict", NULL, "%s; this one is %s", why, now.status);
        goto out;
    }
    a = (store_appeal){.id = id, .org_id = who->org_id, .updated_at = app_now()};
    if (!read_appeal(res, body, &a) || !read_officer(req, res, body, &officer_given, &officer))
        goto out;
    /* A replacement that leaves the officer out keeps the one it has. */
    a.officer_id = officer_given ? officer : now.officer_id;
    answer_changed(req, res, id, store_appeal_update(ap->store, &a),
                   "only a draft appeal can be edited");
out:
    json_decref(body);
}

/* Hands the appeal to another officer (or none), while it is a draft or
 * published: the officer changes when an appeal is already out, and the
 * answers still to come must reach the new one. */
void appeals_set_officer(http_req *req, http_res *res)
{
    static const char *const fields[] = {"officer_id", NULL};
    app *ap = req->ctx;
    const store_principal *who = req->who;
    int64_t id, officer;
    bool given;
    if (!path_id(req, res, &id))
        return;
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) || !read_officer(req, res, body, &given, &officer))
        goto out;
    if (!given) {
        api_error(res, 400, "missing_field", "officer_id",
                  "officer_id is the new officer's user id, or null for none");
        goto out;
    }
    answer_changed(req, res, id,
                   store_appeal_set_officer(ap->store, who->org_id, id, officer, app_now()),
                   "a closed appeal keeps its officer");
out:
    json_decref(body);
}

void appeals_get(http_req *req, http_res *res)
{
    int64_t id;
    store_appeal a;
    if (!path_id(req, res, &id) || !load_staff_appeal(req, res, id, &a))
        return;
    send_staff(res, 200, &a);
}

/* Publishes or closes the appeal of the path, with its event on the case. */
static void transition(http_req *req, http_res *res, appeal_action action, const char *outcome)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    int64_t id;
    store_appeal a;
    if (!path_id(req, res, &id) || !load_staff_appeal(req, res, id, &a))
        return;
    int64_t now = app_now();
    const char *why = appeal_check(a.status, a.expires_at, now, action);
    if (why) {
        api_error(res, 409, "conflict", NULL, "%s; this one is %s", why, a.status);
        return;
    }
    bool publish = action == APPEAL_PUBLISH;
    char note[APPEAL_NOTE_MAX];
    appeal_move_note(action, id, publish ? a.title : outcome, note, sizeof(note));
    store_event ev = {
        .type = publish ? "appeal_published" : "appeal_closed",
        .body = note,
        .actor = who->name,
        .user_id = who->user_id,
        .key_id = who->key_id,
        .created_at = now,
    };
    store_rc rc = store_appeal_transition(ap->store, who->org_id, id, a.status,
                                          publish ? "published" : "closed", outcome, &ev);
    if (rc == STORE_CONFLICT) {
        api_error(res, 409, "conflict", NULL,
                  "the appeal changed while this request was made; read it again");
        return;
    }
    if (rc == STORE_OK)
        rc = store_appeal_get(ap->store, &req->a, who->org_id, id, &a);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    send_staff(res, 200, &a);
}

void appeals_publish(http_req *req, http_res *res)
{
    static const char *const none[] = {NULL};
    json_t *body = api_body_object(req, res, true);
    if (!body)
        return;
    if (api_only_fields(res, body, "", none))
        transition(req, res, APPEAL_PUBLISH, NULL);
    json_decref(body);
}

void appeals_close(http_req *req, http_res *res)
{
    static const char *const fields[] = {"outcome", NULL};
    const char *outcome;
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (api_only_fields(res, body, "", fields) &&
        api_string(res, body, "outcome", "outcome", true, APPEAL_OUTCOME_MAX, true, &outcome))
        transition(req, res, APPEAL_CLOSE, outcome);
    json_decref(body);
}

/* limit, from 1 to max; absent, the default. */
static bool query_limit(http_req *req, int def, int max, int *out, appeals_bad *bad)
{
    const char *v = http_query_get(req, "limit");
    *out = def;
    if (!v)
        return true;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < 1 || n > max) {
        bad->field = "limit";
        snprintf(bad->message, sizeof(bad->message), "limit must be a whole number from 1 to %d",
                 max);
        return false;
    }
    *out = (int)n;
    return true;
}

/* A cursor "<time>.<id>"; absent, the first page (id 0). */
static bool query_cursor(http_req *req, int64_t *t, int64_t *id, appeals_bad *bad)
{
    const char *v = http_query_get(req, "cursor");
    *t = 0;
    *id = 0;
    if (!v)
        return true;
    char *dot, *end = NULL;
    long long tv = strtoll(v, &dot, 10);
    long long idv = *dot == '.' ? strtoll(dot + 1, &end, 10) : 0;
    if (dot == v || *dot != '.' || end == dot + 1 || *end || idv < 1) {
        bad->field = "cursor";
        snprintf(bad->message, sizeof(bad->message),
                 "cursor must be the next_cursor of a previous page");
        return false;
    }
    *t = tv;
    *id = idv;
    return true;
}

static void bad_parameter(http_res *res, const appeals_bad *bad)
{
    api_error(res, 400, "invalid_parameter", bad->field, "%s", bad->message);
}

void appeals_list(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    store_appeal_staff_filter f = {.org_id = who->org_id};
    appeals_bad bad = {0};
    f.status = http_query_get(req, "status");
    if (f.status && strcmp(f.status, "draft") != 0 && strcmp(f.status, "published") != 0 &&
        strcmp(f.status, "closed") != 0) {
        api_error(res, 400, "invalid_parameter", "status",
                  "status must be draft, published or closed");
        return;
    }
    if (!query_limit(req, STAFF_LIST_DEFAULT, APPEALS_PAGE_MAX, &f.limit, &bad) ||
        !query_cursor(req, &f.before_created_at, &f.before_id, &bad)) {
        bad_parameter(res, &bad);
        return;
    }
    store_appeal *list;
    size_t n;
    bool more;
    store_rc rc = store_appeal_staff_list(ap->store, &req->a, &f, &list, &n, &more);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    jsonw w;
    begin_page(res, &w, "appeals");
    for (size_t i = 0; i < n; i++)
        write_staff(&w, &list[i]);
    send_page(res, &w,
              more && n ? created_cursor(req, list[n - 1].created_at, list[n - 1].id) : NULL,
              "application/json", "no-store");
}

/* The X-Access-Purpose header, as for cases. */
static bool read_purpose(http_req *req, http_res *res, const char **out)
{
    const char *purpose = http_header_get(req, "X-Access-Purpose");
    *out = PURPOSE_DEFAULT;
    if (!purpose)
        return true;
    if (!*purpose || !valid_text(purpose, 4 * PURPOSE_MAX, false) ||
        strlen(purpose) > 4 * PURPOSE_MAX) {
        api_error(res, 400, "invalid_field", "X-Access-Purpose",
                  "the X-Access-Purpose header must be 1 to %d characters of plain text",
                  PURPOSE_MAX);
        return false;
    }
    size_t chars = 0;
    for (const char *p = purpose; *p; p++)
        chars += ((unsigned char)*p & 0xc0) != 0x80;
    if (chars > PURPOSE_MAX) {
        api_error(res, 400, "invalid_field", "X-Access-Purpose",
                  "the X-Access-Purpose header must be 1 to %d characters of plain text",
                  PURPOSE_MAX);
        return false;
    }
    *out = purpose;
    return true;
}

static void write_answer(jsonw *w, const store_answer *x)
{
    jw_object_begin(w);
    jw_key(w, "id");
    jw_int(w, x->id);
    jw_key(w, "receipt");
    jw_string(w, x->receipt);
    jw_key(w, "saw");
    jw_string(w, x->saw);
    jw_key(w, "when");
    jw_string(w, x->seen_when);
    jw_key(w, "location");
    if (x->has_point) {
        jw_object_begin(w);
        jw_coord(w, "lat", x->seen_lat);
        jw_coord(w, "lon", x->seen_lon);
        jw_object_end(w);
    } else {
        jw_null(w);
    }
    jw_key(w, "anonymous");
    jw_bool(w, x->anonymous);
    jw_key(w, "contact");
    if (x->anonymous) {
        jw_null(w);
    } else {
        jw_object_begin(w);
        jw_key(w, "name");
        jw_string(w, x->person.name);
        jw_key(w, "email");
        jw_string(w, x->person.email);
        jw_key(w, "phone");
        jw_string(w, x->person.phone);
        jw_key(w, "preferred");
        jw_string(w, x->channel);
        jw_object_end(w);
    }
    jw_key(w, "submitted_at");
    jw_time(w, x->created_at);
    jw_key(w, "first_read_at");
    jw_time(w, x->first_read_at);
    jw_object_end(w);
}

/* The answers to one of the organisation's appeals. Every named answerer
 * shown is recorded as read by the caller, durably, before the response;
 * if that cannot be done nothing is shown. */
void appeals_answers(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    int64_t id, ignored, before = 0;
    int limit;
    const char *purpose;
    appeals_bad bad = {0};
    if (!path_id(req, res, &id) || !read_purpose(req, res, &purpose))
        return;
    if (!query_limit(req, ANSWERS_DEFAULT, ANSWERS_MAX, &limit, &bad) ||
        !query_cursor(req, &ignored, &before, &bad)) {
        bad_parameter(res, &bad);
        return;
    }
    store_access reader = {.reader_org_id = who->org_id,
                           .user_id = who->user_id,
                           .key_id = who->key_id,
                           .reader_name = who->name,
                           .role = who->role,
                           .action = "read",
                           .purpose = purpose,
                           .at = app_now()};
    store_answer *list;
    size_t n;
    bool more;
    store_rc rc = store_answer_list(ap->store, &req->a, who->org_id, id, before, limit, &reader,
                                    &list, &n, &more);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 404, "not_found", NULL, "this organisation has no appeal %lld",
                  (long long)id);
        return;
    }
    if (rc != STORE_OK) {
        api_error(res, 503, "unavailable", NULL,
                  "the reading of these answers could not be recorded, so they are not shown; "
                  "try again");
        http_res_header(res, "Retry-After", "1");
        return;
    }
    jsonw w;
    begin_page(res, &w, "answers");
    for (size_t i = 0; i < n; i++)
        write_answer(&w, &list[i]);
    send_page(res, &w,
              more && n ? created_cursor(req, list[n - 1].created_at, list[n - 1].id) : NULL,
              "application/json", "no-store");
}

/* ---- the public search ---- */

/* A date or date-time query parameter; a bare date as `until` means the end
 * of that day. */
static const char *query_param(http_req *req, const char *name);

static bool query_date(http_req *req, const char *name, bool end_of_day, int64_t *out,
                       appeals_bad *bad)
{
    const char *v = query_param(req, name);
    long long t;
    *out = 0;
    if (!v)
        return true;
    if (!parse_datetime(v, &t)) {
        bad->field = name;
        snprintf(bad->message, sizeof(bad->message),
                 "%s must be a date (2026-11-23) or a date-time (2026-11-23T10:00:00Z)", name);
        return false;
    }
    *out = t + (end_of_day && strlen(v) == 10 ? DAY_S : 0);
    return true;
}

static bool geo_bad(appeals_bad *bad, const char *field, const char *what, geo_rc rc)
{
    bad->field = field;
    snprintf(bad->message, sizeof(bad->message), "%s %s", what, geo_message(rc));
    return false;
}

/* A query parameter, or NULL when it is absent or empty: the list page's
 * filter form sends every field, filled in or not. */
static const char *query_param(http_req *req, const char *name)
{
    const char *v = http_query_get(req, name);
    return v && *v ? v : NULL;
}

bool appeals_query(http_req *req, store_appeal_search_filter *f, int limit_default, int limit_max,
                   appeals_bad *bad)
{
    app *ap = req->ctx;
    const char *bbox = query_param(req, "bbox"), *near = query_param(req, "near");
    const char *radius = query_param(req, "radius"), *org = query_param(req, "org");
    memset(f, 0, sizeof(*f));
    memset(bad, 0, sizeof(*bad));
    f->now = app_now();
    f->category = query_param(req, "category");
    if (bbox && near) {
        bad->field = "near";
        snprintf(bad->message, sizeof(bad->message),
                 "give either bbox or near with radius, not both");
        return false;
    }
    if (bbox) {
        geo_box b;
        geo_rc rc = geo_parse_bbox(bbox, &b);
        if (rc == GEO_SYNTAX)
            return geo_bad(bad, "bbox", "bbox must be minLon,minLat,maxLon,maxLat, and", rc);
        if (rc != GEO_OK)
            return geo_bad(bad, "bbox", "bbox", rc);
        f->has_box = true;
        f->min_lon = b.min_lon;
        f->min_lat = b.min_lat;
        f->max_lon = b.max_lon;
        f->max_lat = b.max_lat;
    }
    if (near || radius) {
        geo_point c;
        int32_t metres;
        geo_rc rc = near ? geo_parse_point(near, &c) : GEO_SYNTAX;
        if (!near) {
            bad->field = "near";
            snprintf(bad->message, sizeof(bad->message), "radius needs near=lat,lon");
            return false;
        }
        if (rc == GEO_SYNTAX)
            return geo_bad(bad, "near", "near must be lat,lon, and", rc);
        if (rc != GEO_OK)
            return geo_bad(bad, "near", "near", rc);
        rc = geo_parse_radius(radius, &metres);
        if (rc != GEO_OK)
            return geo_bad(bad, "radius", "radius", rc);
        geo_box b;
        geo_circle_box(c, metres, &b);
        f->has_box = true;
        f->min_lon = b.min_lon;
        f->min_lat = b.min_lat;
        f->max_lon = b.max_lon;
        f->max_lat = b.max_lat;
        f->has_circle = true;
        f->centre_lat = c.lat;
        f->centre_lon = c.lon;
        f->radius_m = metres;
    }
    if (f->category && !appeal_category_find(f->category)) {
        bad->field = "category";
        snprintf(bad->message, sizeof(bad->message), "category names no category of appeal");
        return false;
    }
    if (org) {
        store_org o;
        store_rc rc =
            valid_code(org, 64) ? store_org_by_slug(ap->store, &req->a, org, &o) : STORE_NOT_FOUND;
        if (rc != STORE_OK) {
            bad->field = "org";
            snprintf(bad->message, sizeof(bad->message), "%s",
                     rc == STORE_NOT_FOUND ? "org names no organisation"
                                           : "the organisation could not be looked up; try again");
            return false;
        }
        f->org_id = o.id;
    }
    if (!query_date(req, "since", false, &f->published_from, bad) ||
        !query_date(req, "until", true, &f->published_to, bad))
        return false;
    if (f->published_to && f->published_to <= f->published_from) {
        bad->field = "until";
        snprintf(bad->message, sizeof(bad->message), "until must be after since");
        return false;
    }
    return query_limit(req, limit_default, limit_max, &f->limit, bad) &&
           query_cursor(req, &f->before_published_at, &f->before_id, bad);
}

const char *appeals_cursor(http_req *req, const store_appeal *last)
{
    return arena_printf(&req->a, "%lld.%lld", (long long)last->published_at, (long long)last->id);
}

/* Runs the search of the request's query, or answers 400 or 503. */
static bool search(http_req *req, http_res *res, int def, int max, store_appeal **list, size_t *n,
                   bool *more)
{
    app *ap = req->ctx;
    store_appeal_search_filter f;
    appeals_bad bad;
    if (!appeals_query(req, &f, def, max, &bad)) {
        bad_parameter(res, &bad);
        return false;
    }
    app_reader rd;
    store_rc rc;
    app_read_begin(ap, true, &rd);
    do
        rc = store_appeal_search(rd.s, &req->a, &f, list, n, more);
    while (app_read_again(&rd, rc));
    if (rc != STORE_OK) {
        api_store_error(res, rc == STORE_NOT_FOUND ? STORE_ERROR : rc);
        return false;
    }
    return true;
}

/* A short while, so that a busy map is served by caches in front. */
#define PUBLIC_CACHE "public, max-age=60"

void public_appeals_list(http_req *req, http_res *res)
{
    store_appeal *list;
    size_t n;
    bool more;
    if (!search(req, res, APPEALS_PAGE_DEFAULT, APPEALS_PAGE_MAX, &list, &n, &more))
        return;
    jsonw w;
    begin_page(res, &w, "appeals");
    for (size_t i = 0; i < n; i++)
        write_public(&w, &list[i]);
    send_page(res, &w, more && n ? appeals_cursor(req, &list[n - 1]) : NULL, "application/json",
              PUBLIC_CACHE);
}

/* RFC 7946: a FeatureCollection of Points at the public location, [lon, lat]. */
void public_appeals_geojson(http_req *req, http_res *res)
{
    store_appeal *list;
    size_t n;
    bool more;
    char url[40], pos[GEO_TEXT_LEN];
    if (!search(req, res, APPEALS_FEED_DEFAULT, APPEALS_FEED_MAX, &list, &n, &more))
        return;
    jsonw w;
    buf_reset(&res->body);
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "type");
    jw_string(&w, "FeatureCollection");
    jw_key(&w, "features");
    jw_array_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const store_appeal *a = &list[i];
        jw_object_begin(&w);
        jw_key(&w, "type");
        jw_string(&w, "Feature");
        jw_key(&w, "id");
        jw_int(&w, a->id);
        jw_key(&w, "geometry");
        jw_object_begin(&w);
        jw_key(&w, "type");
        jw_string(&w, "Point");
        jw_key(&w, "coordinates");
        jw_array_begin(&w);
        geo_format(a->pub_lon, pos);
        jw_number(&w, pos);
        geo_format(a->pub_lat, pos);
        jw_number(&w, pos);
        jw_array_end(&w);
        jw_object_end(&w);
        jw_key(&w, "properties");
        jw_object_begin(&w);
        jw_key(&w, "id");
        jw_int(&w, a->id);
        jw_key(&w, "title");
        jw_string(&w, a->title);
        jw_key(&w, "category");
        jw_string(&w, a->category);
        jw_key(&w, "organisation");
        jw_string(&w, a->org_name);
        jw_key(&w, "published_at");
        jw_time(&w, a->published_at);
        snprintf(url, sizeof(url), "/appeals/%lld", (long long)a->id);
        jw_key(&w, "url");
        jw_string(&w, url);
        jw_object_end(&w);
        jw_object_end(&w);
    }
    send_page(res, &w, more && n ? appeals_cursor(req, &list[n - 1]) : NULL, "application/geo+json",
              PUBLIC_CACHE);
}

void public_appeal_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    int64_t id;
    store_appeal a;
    if (!path_id(req, res, &id))
        return;
    app_reader rd;
    store_rc rc;
    app_read_begin(ap, true, &rd);
    do
        rc = store_appeal_public_get(rd.s, &req->a, id, &a);
    while (app_read_again(&rd, rc));
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 404, "not_found", NULL, "there is no published appeal %lld", (long long)id);
        return;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    jsonw w;
    buf_reset(&res->body);
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "appeal");
    write_public(&w, &a);
    jw_key(&w, "taking_answers");
    jw_bool(&w, appeal_check(a.status, a.expires_at, app_now(), APPEAL_ANSWER) == NULL);
    jw_object_end(&w);
    send_written(res, 200, &w, "application/json", PUBLIC_CACHE);
}

/* ---- answers ---- */

static appeals_answer_rc invalid(appeals_answer_out *out, const char *field, const char *message)
{
    out->bad.field = field;
    snprintf(out->bad.message, sizeof(out->bad.message), "%s", message);
    return APPEALS_ANSWER_INVALID;
}

/* Checks the answer; on success fills the person and its channel. */
static appeals_answer_rc check_answer(const appeals_answer_in *in, store_answer *ans, char *email,
                                      size_t email_len, appeals_answer_out *out)
{
    if (!in->saw || !*in->saw || !valid_text(in->saw, APPEALS_SAW_MAX, true))
        return invalid(out, "saw", "say what you saw, in up to 5000 characters of plain text");
    if (in->when && (!*in->when || !valid_text(in->when, APPEALS_WHEN_MAX, false)))
        return invalid(out, "when", "when must be up to 200 characters of plain text");
    ans->saw = in->saw;
    ans->seen_when = in->when;
    ans->has_point = in->has_point;
    ans->seen_lat = in->point.lat;
    ans->seen_lon = in->point.lon;
    ans->anonymous = in->anonymous;
    if (in->anonymous) {
        if (in->name || in->email || in->phone || in->channel)
            return invalid(out, "contact",
                           "an anonymous answer carries no contact details; leave them out, or "
                           "choose not to stay anonymous");
        return APPEALS_ANSWER_OK;
    }
    if (!appeal_channel_valid(in->channel))
        return invalid(out, "contact.preferred",
                       "choose how you would like to be contacted: email or phone");
    if (in->name && (!*in->name || !valid_text(in->name, APPEALS_NAME_MAX, false)))
        return invalid(out, "contact.name", "your name must be up to 200 characters");
    if (in->email && !email_normalise(in->email, email, email_len))
        return invalid(out, "contact.email", "enter an email address like name@example.com");
    if (in->phone && (!*in->phone || strlen(in->phone) > APPEALS_PHONE_MAX ||
                      strspn(in->phone, "0123456789 +()-") != strlen(in->phone)))
        return invalid(out, "contact.phone",
                       "enter a phone number of digits, spaces and + ( ) - only");
    bool by_email = strcmp(in->channel, "email") == 0;
    if (by_email && !in->email)
        return invalid(out, "contact.email", "enter the email address to contact you at");
    if (!by_email && !in->phone)
        return invalid(out, "contact.phone", "enter the phone number to contact you on");
    ans->channel = by_email ? "email" : "phone";
    ans->person.name = in->name;
    ans->person.email = in->email ? email : NULL;
    ans->person.phone = in->phone;
    return APPEALS_ANSWER_OK;
}

appeals_answer_rc appeals_answer(http_req *req, int64_t appeal_id, const appeals_answer_in *in,
                                 appeals_answer_out *out)
{
    app *ap = req->ctx;
    char email[256];
    unsigned char hash[TOKEN_HASH_BYTES];
    int64_t now = app_now();
    store_answer ans = {.appeal_id = appeal_id, .created_at = now};
    memset(out, 0, sizeof(*out));
    appeals_answer_rc arc = check_answer(in, &ans, email, sizeof(email), out);
    if (arc != APPEALS_ANSWER_OK)
        return arc;
    if (ratelimit_blocked(ap->limits, &answers_per_client, req->client, now, &out->retry_after))
        return APPEALS_ANSWER_LIMITED;
    /* Staff are told in the answer's transaction, so that no answer is
     * recorded untold; whom to tell is read first, as for a case's events. */
    notices_appeal told;
    store_rc rc = notices_appeal_read(req, appeal_id, &told);
    if (rc == STORE_NOT_FOUND)
        return APPEALS_ANSWER_NOT_FOUND;
    if (rc != STORE_OK)
        return APPEALS_ANSWER_UNAVAILABLE;
    if (!in->anonymous) {
        token_random_grouped(out->secret, RECEIPT_SECRET_CHARS);
        token_hash(ap->key, out->secret, hash);
        memcpy(ans.secret_hash, hash, sizeof(hash));
    }
    store_notice *notices;
    size_t n_told = 0;
    rc = STORE_DUPLICATE;
    for (int attempt = 0; attempt < RECEIPT_ATTEMPTS && rc == STORE_DUPLICATE; attempt++) {
        casework_new_reference(out->receipt);
        ans.receipt = out->receipt;
        store_event ev = {
            .type = "appeal_answer",
            .body = arena_printf(
                &req->a, "Answer %s to appeal %lld, %s", out->receipt, (long long)appeal_id,
                in->anonymous                       ? "anonymous"
                : strcmp(ans.channel, "email") == 0 ? "named, to be contacted by email"
                                                    : "named, to be contacted by phone"),
            .actor = "public",
            .created_at = now,
        };
        if (!ev.body)
            return APPEALS_ANSWER_UNAVAILABLE;
        rc = notices_appeal_answer(req, &told, out->receipt, in->anonymous, now, &notices, &n_told);
        ev.notices = notices;
        ev.n_notices = n_told;
        if (rc == STORE_OK)
            rc = store_answer_create(ap->store, &ans, &ev);
    }
    if (rc != STORE_OK)
        memset(out->secret, 0, sizeof(out->secret));
    switch (rc) {
    case STORE_OK:
        ratelimit_fail(ap->limits, &answers_per_client, req->client, now);
        notices_written(ap, n_told);
        return APPEALS_ANSWER_OK;
    case STORE_NOT_FOUND:
        return APPEALS_ANSWER_NOT_FOUND;
    case STORE_CONFLICT:
        return APPEALS_ANSWER_CLOSED;
    default:
        return APPEALS_ANSWER_UNAVAILABLE;
    }
}

/* The JSON body of an answer. */
static bool read_answer_body(http_res *res, const json_t *body, appeals_answer_in *in)
{
    static const char *const fields[] = {"saw", "when", "location", "anonymous", "contact", NULL};
    static const char *const point_fields[] = {"lat", "lon", NULL};
    static const char *const contact_fields[] = {"name", "email", "phone", "preferred", NULL};
    json_t *loc, *contact;
    memset(in, 0, sizeof(*in));
    if (!api_only_fields(res, body, "", fields) ||
        !api_string(res, body, "saw", "saw", true, APPEALS_SAW_MAX, true, &in->saw) ||
        !api_string(res, body, "when", "when", false, APPEALS_WHEN_MAX, false, &in->when) ||
        !read_object(res, body, "location", false, point_fields, &loc) ||
        (loc && !read_point(res, loc, "location", true, &in->has_point, &in->point)) ||
        !read_object(res, body, "contact", false, contact_fields, &contact))
        return false;
    json_t *anonymous = json_object_get(body, "anonymous");
    if (!json_is_boolean(anonymous)) {
        api_error(res, 400, anonymous ? "invalid_field" : "missing_field", "anonymous",
                  "anonymous must be true (no contact details) or false (with contact details)");
        return false;
    }
    in->anonymous = json_is_true(anonymous);
    if (contact && in->anonymous) {
        api_error(res, 400, "invalid_field", "contact",
                  "an anonymous answer carries no contact details");
        return false;
    }
    if (!contact && !in->anonymous) {
        api_error(res, 400, "missing_field", "contact",
                  "contact is required unless the answer is anonymous");
        return false;
    }
    return !contact ||
           (api_string(res, contact, "name", "contact.name", false, APPEALS_NAME_MAX, false,
                       &in->name) &&
            api_string(res, contact, "email", "contact.email", false, 254, false, &in->email) &&
            api_string(res, contact, "phone", "contact.phone", false, APPEALS_PHONE_MAX, false,
                       &in->phone) &&
            api_string(res, contact, "preferred", "contact.preferred", true, 10, false,
                       &in->channel));
}

void public_answer_create(http_req *req, http_res *res)
{
    int64_t id;
    appeals_answer_in in;
    appeals_answer_out out;
    if (!path_id(req, res, &id))
        return;
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!read_answer_body(res, body, &in))
        goto out;
    switch (appeals_answer(req, id, &in, &out)) {
    case APPEALS_ANSWER_OK: {
        jsonw w;
        buf_reset(&res->body);
        jw_init(&w, &res->body);
        jw_object_begin(&w);
        jw_key(&w, "receipt");
        jw_string(&w, out.receipt);
        jw_key(&w, "receipt_secret");
        jw_string(&w, in.anonymous ? NULL : out.secret);
        jw_key(&w, "message");
        jw_string(&w, in.anonymous
                          ? "Thank you. Your answer has reached the investigating team. Quote "
                            "the receipt if you contact them."
                          : "Thank you. Your answer will go to the investigating team; look the "
                            "receipt up with its secret to see when they have read it.");
        jw_object_end(&w);
        send_written(res, 201, &w, "application/json", "no-store");
        break;
    }
    case APPEALS_ANSWER_INVALID:
        api_error(res, 400, "invalid_field", out.bad.field, "%s", out.bad.message);
        break;
    case APPEALS_ANSWER_LIMITED:
        api_error(res, 429, "rate_limited", NULL,
                  "too many answers from this address; try again later");
        http_res_header(res, "Retry-After", arena_printf(&req->a, "%u", out.retry_after));
        break;
    case APPEALS_ANSWER_NOT_FOUND:
        api_error(res, 404, "not_found", NULL, "there is no published appeal %lld", (long long)id);
        break;
    case APPEALS_ANSWER_CLOSED:
        api_error(res, 409, "conflict", NULL, "this appeal is closed or has expired");
        break;
    case APPEALS_ANSWER_UNAVAILABLE:
        api_store_error(res, STORE_UNAVAILABLE);
        break;
    }
out:
    json_decref(body);
}

/* ---- receipts ---- */

appeals_receipt_rc appeals_receipt_open(http_req *req, const char *receipt, const char *secret,
                                        appeals_receipt *out)
{
    app *ap = req->ctx;
    int64_t now = app_now();
    uint64_t value;
    memset(out, 0, sizeof(*out));
    if (!receipt || ref_parse(receipt, strlen(receipt), &value) != REF_OK)
        return APPEALS_RECEIPT_BAD_REFERENCE;
    ref_format(value, out->receipt);
    if (ratelimit_blocked(ap->limits, &receipts_per_client, req->client, now, &out->retry_after))
        return APPEALS_RECEIPT_LIMITED;
    store_rc rc = store_answer_by_receipt(ap->store, &req->a, out->receipt, &out->answer);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND)
        return APPEALS_RECEIPT_UNAVAILABLE;
    unsigned char hash[TOKEN_HASH_BYTES];
    bool ok = rc == STORE_OK && !out->answer.anonymous && secret && strlen(secret) <= 64;
    if (ok) {
        token_hash(ap->key, secret, hash);
        ok = token_hash_equal(hash, out->answer.secret_hash);
    }
    if (!ok) {
        ratelimit_fail(ap->limits, &receipts_per_client, req->client, now);
        memset(&out->answer, 0, sizeof(out->answer));
        return APPEALS_RECEIPT_NOT_FOUND;
    }
    rc = store_answer_reads(ap->store, &req->a, out->answer.id, &out->reads, &out->n_reads);
    return rc == STORE_OK ? APPEALS_RECEIPT_OK : APPEALS_RECEIPT_UNAVAILABLE;
}

void public_receipt_get(http_req *req, http_res *res)
{
    appeals_receipt r;
    switch (
        appeals_receipt_open(req, req->params[0], http_header_get(req, "X-Receipt-Secret"), &r)) {
    case APPEALS_RECEIPT_OK:
        break;
    case APPEALS_RECEIPT_BAD_REFERENCE:
        api_error(res, 400, "invalid_reference", "receipt",
                  "the receipt is not a reference like K7QM-2XPD-C, or has a typing mistake");
        return;
    case APPEALS_RECEIPT_NOT_FOUND:
        api_error(res, 404, "not_found", NULL,
                  "no answer matches that receipt and secret (anonymous answers cannot be "
                  "looked up)");
        return;
    case APPEALS_RECEIPT_LIMITED:
        api_error(res, 429, "rate_limited", NULL, "too many failed look-ups; try again later");
        http_res_header(res, "Retry-After", arena_printf(&req->a, "%u", r.retry_after));
        return;
    case APPEALS_RECEIPT_UNAVAILABLE:
        api_store_error(res, STORE_UNAVAILABLE);
        return;
    }
    jsonw w;
    buf_reset(&res->body);
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "receipt");
    jw_string(&w, r.receipt);
    jw_key(&w, "appeal");
    jw_object_begin(&w);
    jw_key(&w, "id");
    jw_int(&w, r.answer.appeal_id);
    jw_key(&w, "title");
    jw_string(&w, r.answer.appeal_title);
    jw_object_end(&w);
    jw_key(&w, "submitted_at");
    jw_time(&w, r.answer.created_at);
    jw_key(&w, "received");
    jw_bool(&w, r.answer.first_read_at != 0);
    jw_key(&w, "received_at");
    jw_time(&w, r.answer.first_read_at);
    jw_key(&w, "reads");
    jw_array_begin(&w);
    for (size_t i = 0; i < r.n_reads; i++) {
        jw_object_begin(&w);
        jw_key(&w, "at");
        jw_time(&w, r.reads[i].at);
        jw_key(&w, "organisation");
        jw_string(&w, r.reads[i].reader_org_name);
        jw_key(&w, "role");
        jw_string(&w, r.reads[i].role);
        jw_key(&w, "purpose");
        jw_string(&w, r.reads[i].purpose);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    send_written(res, 200, &w, "application/json", "no-store");
}
