/* track.c - public tracking: the API handlers and the view they share with the page.
 *
 * Guessing is made infeasible twice over: secrets are 100 random bits, and
 * failed look-ups are limited per client address and per reference (the
 * second matters for the weaker postcode and email factors).
 */
#include "api/track.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/json.h"
#include "domain/validate.h"
#include "domain/workdays.h"
#include "util/jsonw.h"
#include "util/token.h"

#define MESSAGE_MAX 2000

static const ratelimit_rule per_client = {"track-client", 20, 15 * 60};
static const ratelimit_rule per_reference = {"track-reference", 10, 60 * 60};

/* Compares normalised values without leaking where they differ. */
static bool same_text(const char *a, const char *b)
{
    size_t n = strlen(a);
    return b && strlen(b) == n && sodium_memcmp(a, b, n) == 0;
}

static bool credential_matches(const app *ap, const store_case *c, const track_credential *cred)
{
    char normal[256];
    if (cred->secret) {
        unsigned char hash[TOKEN_HASH_BYTES];
        if (strlen(cred->secret) > 64)
            return false;
        token_hash(ap->key, cred->secret, hash);
        return token_hash_equal(hash, c->secret_hash);
    }
    if (cred->postcode)
        return postcode_normalise(cred->postcode, normal, sizeof(normal)) &&
               same_text(normal, c->person.postcode);
    if (cred->email)
        return email_normalise(cred->email, normal, sizeof(normal)) &&
               same_text(normal, c->person.email);
    return false;
}

/* Whether the request only reads, and so may be served from the replica: the
 * API's GET, and the page's POST /track, which posts only to keep the secret
 * out of addresses. A citizen's message or feedback reads from the primary
 * throughout, so that the page rendered after it shows it. */
static bool public_read(const http_req *req)
{
    return req->method == HTTP_GET || req->method == HTTP_HEAD ||
           (req->method == HTTP_POST && req->route && strcmp(req->route, "/track") == 0);
}

track_rc track_open(http_req *req, const char *reference, const track_credential *cred,
                    track_result *out)
{
    app *ap = req->ctx;
    char ref[REF_TEXT_LEN + 1];
    uint64_t value;
    int64_t now = app_now();
    memset(out, 0, sizeof(*out));

    out->why = ref_parse(reference, strlen(reference), &value);
    if (out->why != REF_OK)
        return TRACK_BAD_REFERENCE;
    ref_format(value, ref);
    if (!cred->secret && !cred->postcode && !cred->email)
        return TRACK_NO_CREDENTIAL;

    unsigned wait_client = 0, wait_ref = 0;
    bool client_blocked =
        ratelimit_blocked(ap->limits, &per_client, req->client, now, &wait_client);
    bool ref_blocked = ratelimit_blocked(ap->limits, &per_reference, ref, now, &wait_ref);
    if (client_blocked || ref_blocked) {
        out->retry_after = wait_client > wait_ref ? wait_client : wait_ref;
        return TRACK_LIMITED;
    }

    /* A case missing from the replica is looked for on the primary before the
     * look-up counts as failed: it may have been opened moments ago. */
    app_reader rd;
    store_rc rc;
    bool reading = public_read(req);
    store_tracking t;
    app_read_begin(ap, reading, &rd);
    do
        rc = reading ? store_case_tracking(rd.s, &req->a, ref, &t)
                     : store_case_get(rd.s, &req->a, 0, ref, &out->c);
    while (app_read_again(&rd, rc));
    if (reading && rc == STORE_OK) {
        out->c = t.c;
        out->have_timeline = true;
        out->from_replica = app_read_on_replica(&rd);
        out->events = t.events;
        out->n_events = t.n_events;
        out->accesses = t.accesses;
        out->n_accesses = t.n_accesses;
    }
    if (rc != STORE_OK && rc != STORE_NOT_FOUND)
        return TRACK_UNAVAILABLE;
    if (rc == STORE_NOT_FOUND || !credential_matches(ap, &out->c, cred)) {
        ratelimit_fail(ap->limits, &per_client, req->client, now);
        ratelimit_fail(ap->limits, &per_reference, ref, now);
        memset(out, 0, sizeof(*out));
        return TRACK_NOT_FOUND;
    }
    return TRACK_OK;
}

/* The estimate for a case still open after `elapsed` seconds: taken from the
 * closed cases that lasted at least that long, so that a case already past
 * the typical time is not promised a date in the past. */
static void estimate_for(int64_t *sorted, size_t n, int64_t elapsed, estimate *e)
{
    size_t first = 0;
    while (first < n && sorted[first] < elapsed)
        first++;
    estimate_compute(n ? sorted + first : NULL, n - first, e);
    if (!e->available && n >= ESTIMATE_MIN_SAMPLE)
        e->reason = "This case has already taken longer than most cases of its kind, so no "
                    "reliable date can be given.";
}

/* The accesses to the case's person, as the citizen may see them: those read
 * with the case, or else read now. */
static int track_accesses_load(http_req *req, http_res *res, const track_result *r, bool replica,
                               track_view *v)
{
    app *ap = req->ctx;
    store_access *rows = r->accesses;
    size_t n = r->n_accesses;
    if (!r->have_timeline) {
        app_reader rd;
        store_rc rc;
        app_read_begin(ap, replica, &rd);
        do
            rc = store_case_accesses(rd.s, &req->a, r->c.id, &rows, &n);
        while (app_read_again(&rd, rc));
        if (rc != STORE_OK) {
            api_store_error(res, rc == STORE_NOT_FOUND ? STORE_ERROR : rc);
            return -1;
        }
    }
    v->officers_shown = ap->show_officer_names;
    v->accesses = arena_calloc(&req->a, n ? n : 1, sizeof(track_access));
    if (!v->accesses) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        track_access *t = &v->accesses[i];
        t->at = rows[i].at;
        t->organisation = rows[i].reader_org_name;
        t->role = rows[i].role;
        t->purpose = rows[i].purpose;
        t->officer = v->officers_shown ? rows[i].reader_name : NULL;
        t->log_index = rows[i].log_index;
    }
    v->n_accesses = n;
    return 0;
}

int track_view_build(http_req *req, http_res *res, const track_result *r, track_view *v)
{
    app *ap = req->ctx;
    const store_case *c = &r->c;
    store_event *events = r->events;
    size_t n = r->n_events;
    const app_service *e;
    bool replica = r->have_timeline ? r->from_replica : public_read(req);
    memset(v, 0, sizeof(*v));
    store_rc rc = app_service_read(ap, &req->a, c->service_id, replica, &e);
    if (rc != STORE_OK) {
        api_store_error(res, rc == STORE_NOT_FOUND ? STORE_ERROR : rc);
        return -1;
    }
    const workflow *wf = &e->wf;
    /* Every case has its "opened" event, so none means the case came from the
     * primary and has not reached the replica yet: the rest of the view is
     * read from the primary too. */
    if (!r->have_timeline) {
        app_reader rd;
        app_read_begin(ap, replica, &rd);
        do {
            rc = store_case_events(rd.s, &req->a, c->id, true, &events, &n);
            if (rc == STORE_OK && n == 0 && app_read_on_replica(&rd))
                rc = STORE_NOT_FOUND;
        } while (app_read_again(&rd, rc));
        replica = app_read_on_replica(&rd);
        if (rc != STORE_OK) {
            api_store_error(res, rc == STORE_NOT_FOUND ? STORE_ERROR : rc);
            return -1;
        }
    }

    v->reference = c->reference;
    uint8_t log_key[TLOG_KEY_SIZE];
    tlog_log_key(ap->key, log_key);
    tlog_case_pseudonym(log_key, c->reference, v->pseudonym);
    sodium_memzero(log_key, sizeof(log_key));
    v->org_name = e->org_name;
    v->service_code = e->svc.code;
    v->service_name = e->svc.name;
    v->closed = c->closed_at != 0;
    v->opened_at = c->opened_at;
    v->closed_at = c->closed_at;
    v->target_date = workdays_add(c->opened_at, e->svc.target_days);
    v->timeline = arena_calloc(&req->a, n ? n : 1, sizeof(track_entry));
    if (!v->timeline) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return -1;
    }

    for (size_t i = 0; i < n; i++) {
        const store_event *ev = &events[i];
        const wf_stage *st = ev->stage ? workflow_stage(wf, ev->stage) : NULL;
        bool moved = strcmp(ev->type, "opened") == 0 || strcmp(ev->type, "stage_change") == 0;
        track_entry *t = &v->timeline[v->n_timeline];
        t->at = ev->created_at;
        t->log_index = ev->log_index;
        if (moved && st && st->milestone) {
            v->stage = st->code;
            v->stage_name = st->name;
            t->type = "milestone";
            t->stage = st->code;
            t->stage_name = st->name;
            t->note = ev->body;
        } else if (moved || strcmp(ev->type, "public_note") == 0) {
            /* A note on a move to an internal stage is shown without the stage. */
            if (!ev->body)
                continue;
            t->type = "update";
            t->note = ev->body;
        } else if (strcmp(ev->type, "message") == 0) {
            t->type = "message";
            t->note = ev->body;
        } else if (strcmp(ev->type, "feedback") == 0) {
            t->type = "feedback";
            t->note = ev->body;
            t->rating = ev->rating;
            v->feedback_given = true;
        } else {
            continue;
        }
        v->n_timeline++;
    }
    if (track_accesses_load(req, res, r, replica, v) != 0)
        return -1;
    if (!v->stage) {
        const wf_stage *first = &wf->stages[wf->initial];
        v->stage = first->code;
        v->stage_name = first->name;
    }

    if (v->closed) {
        v->expected.reason = "This case is closed.";
    } else {
        int64_t *history;
        size_t count;
        if (app_service_history(ap, &req->a, e->svc.id, replica, &history, &count) != 0) {
            api_store_error(res, STORE_UNAVAILABLE);
            return -1;
        }
        estimate_for(history, count, app_now() - c->opened_at, &v->expected);
    }
    return 0;
}

/* Writes a time, or null when t == 0; `date_only` drops the time of day. */
static void jw_time(jsonw *w, int64_t t, bool date_only)
{
    char text[32];
    if (t == 0) {
        jw_null(w);
        return;
    }
    if (date_only)
        format_date(t, text, sizeof(text));
    else
        format_datetime(t, text, sizeof(text));
    jw_string(w, text);
}

/* "key": {"code": ..., "name": ...} */
/* "log_index": the entry's index in the public log, or null for a row
 * older than the log. */
static void jw_log_index(jsonw *w, int64_t index)
{
    jw_key(w, "log_index");
    if (index < 0)
        jw_null(w);
    else
        jw_int(w, (long long)index);
}

static void jw_code_and_name(jsonw *w, const char *key, const char *code, const char *name)
{
    jw_key(w, key);
    jw_object_begin(w);
    jw_key(w, "code");
    jw_string(w, code);
    jw_key(w, "name");
    jw_string(w, name);
    jw_object_end(w);
}

void track_view_write(const track_view *v, buf *b)
{
    jsonw w;
    jw_init(&w, b);
    jw_object_begin(&w);
    jw_key(&w, "reference");
    jw_string(&w, v->reference);
    jw_key(&w, "log_pseudonym");
    jw_string(&w, v->pseudonym);
    jw_key(&w, "organisation");
    jw_object_begin(&w);
    jw_key(&w, "name");
    jw_string(&w, v->org_name);
    jw_object_end(&w);
    jw_code_and_name(&w, "service", v->service_code, v->service_name);
    jw_code_and_name(&w, "stage", v->stage, v->stage_name);
    jw_key(&w, "closed");
    jw_bool(&w, v->closed);
    jw_key(&w, "opened_at");
    jw_time(&w, v->opened_at, false);
    jw_key(&w, "closed_at");
    jw_time(&w, v->closed_at, false);
    jw_key(&w, "target_date");
    jw_time(&w, v->target_date, true);

    jw_key(&w, "expected_completion");
    jw_object_begin(&w);
    jw_key(&w, "available");
    jw_bool(&w, v->expected.available);
    if (v->expected.available) {
        jw_key(&w, "date");
        jw_time(&w, v->opened_at + v->expected.median_s, true);
        jw_key(&w, "earliest");
        jw_time(&w, v->opened_at + v->expected.low_s, true);
        jw_key(&w, "latest");
        jw_time(&w, v->opened_at + v->expected.high_s, true);
        jw_key(&w, "based_on");
        jw_int(&w, (long long)v->expected.sample);
    } else {
        jw_key(&w, "reason");
        jw_string(&w, v->expected.reason ? v->expected.reason : "No estimate is available.");
    }
    jw_object_end(&w);

    jw_key(&w, "timeline");
    jw_array_begin(&w);
    for (size_t i = 0; i < v->n_timeline; i++) {
        const track_entry *t = &v->timeline[i];
        jw_object_begin(&w);
        jw_key(&w, "at");
        jw_time(&w, t->at, false);
        jw_key(&w, "type");
        jw_string(&w, t->type);
        jw_key(&w, "stage");
        jw_string(&w, t->stage);
        jw_key(&w, "stage_name");
        jw_string(&w, t->stage_name);
        jw_key(&w, "note");
        jw_string(&w, t->note);
        if (t->rating) {
            jw_key(&w, "rating");
            jw_int(&w, t->rating);
        }
        jw_log_index(&w, t->log_index);
        jw_object_end(&w);
    }
    jw_array_end(&w);

    jw_key(&w, "accesses");
    jw_array_begin(&w);
    for (size_t i = 0; i < v->n_accesses; i++) {
        const track_access *x = &v->accesses[i];
        jw_object_begin(&w);
        jw_key(&w, "at");
        jw_time(&w, x->at, false);
        jw_key(&w, "organisation");
        jw_string(&w, x->organisation);
        jw_key(&w, "role");
        jw_string(&w, x->role);
        jw_key(&w, "purpose");
        jw_string(&w, x->purpose);
        jw_key(&w, "officer");
        jw_string(&w, x->officer);
        jw_log_index(&w, x->log_index);
        jw_object_end(&w);
    }
    jw_array_end(&w);

    jw_key(&w, "feedback");
    jw_object_begin(&w);
    jw_key(&w, "allowed");
    jw_bool(&w, v->closed && !v->feedback_given);
    jw_key(&w, "given");
    jw_bool(&w, v->feedback_given);
    jw_object_end(&w);
    jw_object_end(&w);
    if (!jw_finish(&w))
        b->failed = true;
}

static store_rc add_citizen_event(http_req *req, const store_case *c, store_event *ev)
{
    app *ap = req->ctx;
    ev->case_id = c->id;
    ev->stage = c->stage;
    ev->public_ = true;
    ev->actor = "citizen";
    ev->created_at = app_now();
    return store_event_append(ap->store, c->id, ev, false);
}

store_rc track_add_message(http_req *req, const store_case *c, const char *text)
{
    store_event ev = {.type = "message", .body = text};
    return add_citizen_event(req, c, &ev);
}

store_rc track_add_feedback(http_req *req, const store_case *c, int rating, const char *comment)
{
    app *ap = req->ctx;
    store_event *events;
    size_t n;
    if (!c->closed_at)
        return STORE_CONFLICT;
    store_rc rc = store_case_events(ap->store, &req->a, c->id, true, &events, &n);
    if (rc != STORE_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (strcmp(events[i].type, "feedback") == 0)
            return STORE_CONFLICT;
    store_event ev = {.type = "feedback", .body = comment, .rating = rating};
    rc = add_citizen_event(req, c, &ev);
    /* The database allows one feedback per case; a racing second one lands here. */
    return rc == STORE_DUPLICATE ? STORE_CONFLICT : rc;
}

/* ---- the JSON API ---- */

static bool api_track_open(http_req *req, http_res *res, track_result *out)
{
    track_credential cred = {
        .secret = http_header_get(req, "X-Tracking-Secret"),
        .postcode = http_header_get(req, "X-Tracking-Postcode"),
        .email = http_header_get(req, "X-Tracking-Email"),
    };
    switch (track_open(req, req->params[0], &cred, out)) {
    case TRACK_OK:
        return true;
    case TRACK_BAD_REFERENCE:
        api_error(res, 400, "invalid_reference", "reference", "%s", ref_error_message(out->why));
        return false;
    case TRACK_NO_CREDENTIAL:
        api_error(res, 401, "unauthorized", NULL,
                  "send the tracking secret in X-Tracking-Secret, or the postcode or email on "
                  "the case in X-Tracking-Postcode or X-Tracking-Email");
        return false;
    case TRACK_NOT_FOUND:
        api_error(res, 404, "not_found", NULL,
                  "no case matches that reference and secret, postcode or email");
        return false;
    case TRACK_LIMITED:
        api_error(res, 429, "rate_limited", NULL,
                  "too many failed look-ups; try again in %u seconds", out->retry_after);
        http_res_header(res, "Retry-After", arena_printf(&req->a, "%u", out->retry_after));
        return false;
    case TRACK_UNAVAILABLE:
        api_store_error(res, STORE_UNAVAILABLE);
        return false;
    }
    return false;
}

void track_get(http_req *req, http_res *res)
{
    track_result r;
    track_view v;
    if (!api_track_open(req, res, &r) || track_view_build(req, res, &r, &v) != 0)
        return;
    res->status = 200;
    res->content_type = "application/json";
    track_view_write(&v, &res->body);
    http_res_header(res, "Cache-Control", "no-store");
}

void track_message(http_req *req, http_res *res)
{
    static const char *const fields[] = {"message", NULL};
    track_result r;
    const char *text;
    json_t *body = NULL;
    if (!api_track_open(req, res, &r))
        return;
    body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) ||
        !api_string(res, body, "message", "message", true, MESSAGE_MAX, true, &text))
        goto out;
    store_rc rc = track_add_message(req, &r.c, text);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    api_send(res, 201,
             json_pack("{s:{s:s, s:o}}", "event", "type", "message", "at", api_time(app_now())));
out:
    json_decref(body);
}

void track_feedback(http_req *req, http_res *res)
{
    static const char *const fields[] = {"rating", "comment", NULL};
    track_result r;
    const char *comment;
    long long rating;
    json_t *body = NULL;
    if (!api_track_open(req, res, &r))
        return;
    body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) ||
        !api_int(res, body, "rating", "rating", true, 1, 5, &rating, NULL) ||
        !api_string(res, body, "comment", "comment", false, MESSAGE_MAX, true, &comment))
        goto out;
    store_rc rc = track_add_feedback(req, &r.c, (int)rating, comment);
    if (rc == STORE_CONFLICT) {
        api_error(res, 409, "conflict", NULL,
                  r.c.closed_at ? "feedback has already been given for this case"
                                : "feedback can be given once the case is closed");
        goto out;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    api_send(res, 201,
             json_pack("{s:{s:s, s:o}}", "event", "type", "feedback", "at", api_time(app_now())));
out:
    json_decref(body);
}
