/* cases.c - staff work on cases: open, list, read, add events, close.
 *
 * Every response that shows a person's data to a reader is preceded by a
 * durable access record (store_access): who, for which organisation, in which
 * role, when and why. When the record cannot be written the data is not
 * shown: the response is 503, so that no read goes unrecorded.
 */
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/casework.h"
#include "api/duties.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/notices.h"
#include "domain/ref.h"
#include "domain/validate.h"
#include "domain/workdays.h"
#include "domain/workflow.h"
#include "util/token.h"

#define SUMMARY_MAX 2000
#define NOTE_MAX 5000
#define IDEMPOTENCY_KEY_MAX 100
#define SECRET_CHARS 20
#define SECRET_TEXT (SECRET_CHARS + SECRET_CHARS / 5)
#define LIST_DEFAULT 50
#define LIST_MAX 200
#define REFERENCE_ATTEMPTS 8

static json_t *person_json(const store_person *p)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "name", api_str(p->name), "email",
                     api_str(p->email), "phone", api_str(p->phone), "address", api_str(p->address),
                     "postcode", api_str(p->postcode));
}

static json_t *case_json(const store_case *c, const store_service *svc, const workflow *wf,
                         bool with_person)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "reference",
                          c->reference, "service", svc->code, "stage", c->stage, "stage_name",
                          casework_stage_name(wf, c->stage), "summary", api_str(c->summary),
                          "opened_at", api_time(c->opened_at), "updated_at",
                          api_time(c->updated_at), "closed_at", api_time(c->closed_at),
                          "target_date", api_date(workdays_add(c->opened_at, svc->target_days)));
    if (o) {
        json_object_set_new(o, "enhanced", json_boolean(c->enhanced));
        json_object_set_new(o, "team", api_str(c->team));
    }
    if (o && with_person)
        json_object_set_new(o, "person", person_json(&c->person));
    return o;
}

static json_t *event_json(const store_event *ev)
{
    return json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o}", "id", (json_int_t)ev->id,
                     "type", ev->type, "stage", api_str(ev->stage), "from_stage",
                     api_str(ev->from_stage), "note", api_str(ev->body), "rating",
                     ev->rating ? json_integer(ev->rating) : json_null(), "public", ev->public_,
                     "actor", api_str(ev->actor), "created_at", api_time(ev->created_at),
                     "log_index", ev->log_index < 0 ? json_null() : json_integer(ev->log_index));
}

/* Loads the caller's organisation's case `ref` (canonical, from casework_reference). */
static bool load_case(http_req *req, http_res *res, const char *ref, store_case *c)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    store_rc rc = store_case_get(ap->store, &req->a, who->org_id, ref, c);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 404, "not_found", NULL, "this organisation has no case %s", ref);
        return false;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return false;
    }
    return true;
}

/* Validates the optional person object; normalised values go into the arena. */
static bool read_person(http_req *req, http_res *res, const json_t *body, store_person *p)
{
    static const char *const fields[] = {"name", "email", "phone", "address", "postcode", NULL};
    memset(p, 0, sizeof(*p));
    json_t *obj = json_object_get(body, "person");
    if (!obj || json_is_null(obj))
        return true;
    if (!json_is_object(obj)) {
        api_error(res, 400, "invalid_field", "person", "person must be an object");
        return false;
    }
    const char *email, *postcode;
    if (!api_only_fields(res, obj, "person.", fields) ||
        !api_string(res, obj, "name", "person.name", false, 200, false, &p->name) ||
        !api_string(res, obj, "email", "person.email", false, 254, false, &email) ||
        !api_string(res, obj, "phone", "person.phone", false, 40, false, &p->phone) ||
        !api_string(res, obj, "address", "person.address", false, 500, true, &p->address) ||
        !api_string(res, obj, "postcode", "person.postcode", false, 16, false, &postcode))
        return false;
    if (p->phone && strspn(p->phone, "0123456789 +()-") != strlen(p->phone)) {
        api_error(res, 400, "invalid_field", "person.phone",
                  "person.phone may hold only digits, spaces and + ( ) -");
        return false;
    }
    char normal[256];
    if (email) {
        if (!email_normalise(email, normal, sizeof(normal))) {
            api_error(res, 400, "invalid_field", "person.email",
                      "person.email is not an email address");
            return false;
        }
        p->email = arena_strdup(&req->a, normal);
    }
    if (postcode) {
        if (!postcode_normalise(postcode, normal, sizeof(normal))) {
            api_error(res, 400, "invalid_field", "person.postcode",
                      "person.postcode is not a UK postcode");
            return false;
        }
        p->postcode = arena_strdup(&req->a, normal);
    }
    return true;
}

/* The Idempotency-Key header: absent, or 1..100 visible ASCII characters. */
static bool read_idempotency_key(http_req *req, http_res *res, const char **out)
{
    const char *key = http_header_get(req, "Idempotency-Key");
    *out = NULL;
    if (!key)
        return true;
    size_t n = strlen(key);
    bool ok = n >= 1 && n <= IDEMPOTENCY_KEY_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = key[i] > 0x20 && key[i] < 0x7f;
    if (!ok) {
        api_error(res, 400, "invalid_field", "Idempotency-Key",
                  "the Idempotency-Key header must be 1 to %d visible ASCII characters",
                  IDEMPOTENCY_KEY_MAX);
        return false;
    }
    *out = key;
    return true;
}

/* The optional flags a case carries for its duties: `enhanced`, a boolean,
 * and `team`, a code or null. Members absent leave *enhanced and *team as
 * they are, and *team_given false. */
static bool read_flags(http_res *res, const json_t *body, bool *enhanced, const char **team,
                       bool *team_given)
{
    json_t *v = json_object_get(body, "enhanced");
    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            api_error(res, 400, "invalid_field", "enhanced", "enhanced must be true or false");
            return false;
        }
        *enhanced = json_is_true(v);
    }
    *team_given = json_object_get(body, "team") != NULL;
    if (!*team_given)
        return true;
    const char *t;
    if (!api_string(res, body, "team", "team", false, 40, false, &t))
        return false;
    if (t && !valid_code(t, 40)) {
        api_error(res, 400, "invalid_field", "team",
                  "team must be 1 to 40 lower-case letters, digits, '-' or '_', starting with a "
                  "letter or digit");
        return false;
    }
    *team = t;
    return true;
}

void cases_create(http_req *req, http_res *res)
{
    static const char *const fields[] = {"service", "summary",     "person", "enhanced",
                                         "team",    "preferences", NULL};
    app *ap = req->ctx;
    const store_principal *who = req->who;
    const char *service_code, *idem, *purpose;
    store_service svc;
    const app_service *e;
    store_access access;
    store_case_new in = {.org_id = who->org_id,
                         .actor = who->name,
                         .actor_user_id = who->user_id,
                         .actor_key_id = who->key_id,
                         .now = app_now()};
    if (!read_idempotency_key(req, res, &idem) || !casework_purpose(req, res, &purpose))
        return;
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) ||
        !api_string(res, body, "service", "service", true, 40, false, &service_code) ||
        !api_string(res, body, "summary", "summary", true, SUMMARY_MAX, true, &in.summary) ||
        !read_person(req, res, body, &in.person))
        goto out;
    bool team_given;
    if (!read_flags(res, body, &in.enhanced, &in.team, &team_given))
        goto out;
    notice_prefs prefs =
        notice_default_prefs(in.person.email != NULL, in.person.phone && *in.person.phone);
    store_prefs stated;
    const json_t *prefs_obj = json_object_get(body, "preferences");
    if (prefs_obj && !json_is_null(prefs_obj)) {
        if (!notices_prefs_read(req, res, prefs_obj, "preferences", &prefs))
            goto out;
        stated = notices_prefs_store(&req->a, &prefs, in.now);
        in.prefs = &stated;
    }

    store_rc rc = store_service_get(ap->store, &req->a, who->org_id, service_code, &svc);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 400, "invalid_field", "service", "this organisation has no service %s",
                  service_code);
        goto out;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    e = casework_service(req, res, svc.id);
    if (!e)
        goto out;

    char ref[REF_TEXT_LEN + 1];
    char secret[SECRET_TEXT + 1];
    unsigned char hash[TOKEN_HASH_BYTES];
    token_random_grouped(secret, SECRET_CHARS);
    token_hash(ap->key, secret, hash);
    in.service_id = svc.id;
    in.stage = e->wf.stages[e->wf.initial].code;
    in.secret_hash = hash;
    in.idempotency_key = idem;
    in.access = casework_access(req, 0, "write", purpose, &access);
    store_duty_new *duties;
    if (!duties_for_stage(req, res, e, in.stage, in.enhanced, in.now, &duties, &in.n_duties))
        goto out;
    in.duties = duties;

    store_case c;
    bool existed = false;
    rc = STORE_DUPLICATE;
    /* 40-bit references collide rarely; a collision just draws again. */
    for (int attempt = 0; attempt < REFERENCE_ATTEMPTS && rc == STORE_DUPLICATE; attempt++) {
        casework_new_reference(ref);
        in.reference = ref;
        /* The opening is told like any milestone, in the case's transaction. */
        store_case draft = {.org_id = in.org_id,
                            .service_id = in.service_id,
                            .reference = ref,
                            .stage = in.stage,
                            .opened_at = in.now,
                            .person = in.person};
        draft.person.id = in.person.name || in.person.email || in.person.phone ||
                          in.person.address || in.person.postcode;
        store_notice *notices;
        rc = notices_build(req, &draft, e, &prefs, NOTICES_OPENED, in.stage, NULL, in.now, &notices,
                           &in.n_notices);
        in.notices = notices;
        if (rc == STORE_OK)
            rc = store_case_create(ap->store, &req->a, &in, &c, &existed);
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    if (!existed)
        notices_written(ap, in.n_notices);
    json_t *out =
        json_pack("{s:o}", "case", case_json(&c, &e->svc, &e->wf, casework_may_see_person(who)));
    if (existed) {
        api_send(res, 200, out);
        http_res_header(res, "Idempotent-Replayed", "true");
    } else {
        json_object_set_new(out, "tracking_secret", json_string(secret));
        api_send(res, 201, out);
    }
    http_res_header(res, "Location", arena_printf(&req->a, "/api/v1/cases/%s", c.reference));
    http_res_header(res, "Cache-Control", "no-store");
out:
    json_decref(body);
}

/* The cursor is "<opened_at>.<id>" of the last case of the previous page. */
static bool query_cursor(http_req *req, http_res *res, store_case_filter *f)
{
    const char *v = http_query_get(req, "cursor");
    if (!v)
        return true;
    char *dot, *end = NULL;
    long long opened = strtoll(v, &dot, 10);
    long long id = *dot == '.' ? strtoll(dot + 1, &end, 10) : 0;
    if (dot == v || *dot != '.' || end == dot + 1 || *end || id < 1) {
        api_error(res, 400, "invalid_parameter", "cursor",
                  "cursor must be the next_cursor of a previous page");
        return false;
    }
    f->before_opened_at = opened;
    f->before_id = id;
    return true;
}

void cases_list(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    long long limit = LIST_DEFAULT;
    store_case_filter f = {.org_id = who->org_id};
    const char *purpose;
    if (!casework_purpose(req, res, &purpose))
        return;
    f.service_code = http_query_get(req, "service");
    f.stage = http_query_get(req, "stage");
    f.text = http_query_get(req, "q");
    if ((f.service_code && !valid_code(f.service_code, 40)) ||
        (f.stage && !valid_code(f.stage, 40))) {
        api_error(res, 400, "invalid_parameter", f.service_code ? "service" : "stage",
                  "service and stage take a code such as parking-permit");
        return;
    }
    if (f.text && (!valid_text(f.text, 200, false) || !*f.text)) {
        api_error(res, 400, "invalid_parameter", "q", "q must be 1 to 200 characters of text");
        return;
    }
    if (!casework_query_time(req, res, "opened_from", &f.opened_from) ||
        !casework_query_time(req, res, "opened_to", &f.opened_to) ||
        !casework_query_int(req, res, "limit", 1, LIST_MAX, &limit) || !query_cursor(req, res, &f))
        return;
    f.limit = (int)limit;

    store_case *cases;
    size_t n;
    bool more;
    store_rc rc = store_case_list(ap->store, &req->a, &f, &cases, &n, &more);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    /* The page's accesses go in one transaction: all recorded, or none and
     * nothing shown. */
    store_access *accesses = arena_calloc(&req->a, n ? n : 1, sizeof(*accesses));
    size_t n_accesses = 0;
    if (!accesses) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const app_service *e = casework_service(req, res, cases[i].service_id);
        if (!e) {
            json_decref(list);
            return;
        }
        if (cases[i].person.id &&
            casework_access(req, cases[i].id, "list", purpose, &accesses[n_accesses]))
            n_accesses++;
        json_array_append_new(list,
                              case_json(&cases[i], &e->svc, &e->wf, casework_may_see_person(who)));
    }
    if (store_access_record(ap->store, accesses, n_accesses) != STORE_OK) {
        json_decref(list);
        casework_access_refused(res);
        return;
    }
    json_t *next = more && n ? json_sprintf("%lld.%lld", (long long)cases[n - 1].opened_at,
                                            (long long)cases[n - 1].id)
                             : json_null();
    api_send(res, 200, json_pack("{s:o, s:o}", "cases", list, "next_cursor", next));
    http_res_header(res, "Cache-Control", "no-store");
}

static json_t *case_duties_json(const app_service *e, const store_duty *duties, size_t n)
{
    int64_t now = app_now();
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            list, duties_instance_json(&duties[i], duty_find(&e->duties, duties[i].duty), now));
    return list;
}

void cases_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    store_case c;
    const app_service *e;
    store_event *events;
    size_t n;
    char ref[REF_TEXT_LEN + 1];
    const char *purpose;
    store_access access;
    if (!casework_reference(res, req->params[0], ref) || !casework_purpose(req, res, &purpose) ||
        !load_case(req, res, ref, &c) || !(e = casework_service(req, res, c.service_id)))
        return;
    store_duty *duties;
    size_t n_duties;
    store_rc rc = store_case_events(ap->store, &req->a, c.id, false, &events, &n);
    if (rc == STORE_OK)
        rc = store_case_duties(ap->store, &req->a, c.id, &duties, &n_duties);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    if (c.person.id && casework_access(req, c.id, "read", purpose, &access) &&
        store_access_record(ap->store, &access, 1) != STORE_OK) {
        casework_access_refused(res);
        return;
    }
    notice_prefs prefs;
    bool stated;
    rc = notices_prefs(ap, &req->a, &c, &prefs, &stated);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, event_json(&events[i]));
    json_t *out = json_pack("{s:o, s:o, s:o}", "case",
                            case_json(&c, &e->svc, &e->wf, casework_may_see_person(who)), "events",
                            list, "duties", case_duties_json(e, duties, n_duties));
    if (out && c.person.id && casework_may_see_person(who))
        json_object_set_new(out, "preferences", notices_prefs_json(&prefs, stated));
    api_send(res, 200, out);
    http_res_header(res, "Cache-Control", "no-store");
}

/* Who makes the event, and when. */
static void stamp_event(http_req *req, store_event *ev)
{
    const store_principal *who = req->who;
    ev->actor = who->name;
    ev->user_id = who->user_id;
    ev->key_id = who->key_id;
    ev->created_at = app_now();
}

static void send_event(http_res *res, int status, const store_event *ev, const store_case *c,
                       const app_service *e)
{
    api_send(res, status,
             json_pack("{s:o, s:o}", "event", event_json(ev), "case",
                       case_json(c, &e->svc, &e->wf, false)));
}

/* Appends `ev` (type, stage and note set by the caller) and answers with the
 * event and the case as it now is. The answer leaves out the case's person:
 * moving a case or adding a note needs no one's personal details, and so
 * shows none, and there is no access to record; reading the case shows
 * them, and records that. */
static void append_event(http_req *req, http_res *res, store_case *c, const app_service *e,
                         store_event *ev, bool closes, int status)
{
    app *ap = req->ctx;
    ev->case_id = c->id;
    stamp_event(req, ev);
    /* The duties the move triggers are opened in its transaction, and so
     * are the notifications it causes. */
    store_duty_new *duties = NULL;
    size_t n_duties = 0;
    if (strcmp(ev->type, "stage_change") == 0 &&
        !duties_for_stage(req, res, e, ev->stage, c->enhanced, ev->created_at, &duties, &n_duties))
        return;
    notice_prefs prefs;
    bool stated;
    store_notice *notices = NULL;
    store_rc rc = STORE_OK;
    if (ev->public_) {
        const char *what = strcmp(ev->type, "public_note") == 0 ? NOTICES_NOTE : NOTICES_STAGE;
        rc = notices_prefs(ap, &req->a, c, &prefs, &stated);
        if (rc == STORE_OK)
            rc = notices_build(req, c, e, &prefs, what, ev->stage, ev->body, ev->created_at,
                               &notices, &ev->n_notices);
        ev->notices = notices;
    }
    if (rc == STORE_OK)
        rc = store_event_append_duties(ap->store, c->id, ev, closes, duties, n_duties);
    if (rc == STORE_CONFLICT) {
        api_error(res, 409, "conflict", NULL,
                  "the case changed while this request was made (it is no longer at stage %s "
                  "or was closed); read it again",
                  ev->from_stage ? ev->from_stage : c->stage);
        return;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    notices_written(ap, ev->n_notices);
    c->stage = ev->stage;
    c->updated_at = ev->created_at;
    if (closes) {
        c->closed_at = ev->created_at;
        app_history_forget(ap, e->svc.id);
    }
    send_event(res, status, ev, c, e);
}

/* Checks a move to stage `to` and appends it; `note` is public. */
static void change_stage(http_req *req, http_res *res, store_case *c, const app_service *e,
                         const char *to, const char *note, int status)
{
    const workflow *wf = &e->wf;
    const wf_stage *target = workflow_stage(wf, to);
    if (!target) {
        api_error(res, 400, "invalid_field", "stage", "the service %s has no stage %s", e->svc.code,
                  to);
        return;
    }
    wf_rc check = workflow_check_move(wf, c->stage, to);
    if (check != WF_OK) {
        char next[512];
        workflow_describe_next(wf, c->stage, next, sizeof(next));
        api_error(res, 409, "invalid_transition", "stage",
                  "cannot move from '%s' to '%s'; allowed next stages: %s", c->stage, to, next);
        return;
    }
    store_event ev = {
        .type = "stage_change",
        .from_stage = c->stage,
        .stage = target->code,
        .body = note,
        .public_ = target->milestone || note != NULL,
    };
    append_event(req, res, c, e, &ev, target->terminal, status);
}

/* A plain move (app_plain_moves) is made without reading the case first,
 * which saves a round trip to the database. False when no move was made,
 * whatever the reason: the caller then takes the usual path, reading the
 * case, which also tells why. */
static bool move_unread(http_req *req, http_res *res, const char *ref, const char *to)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    const store_move_from *from;
    const app_service **services;
    size_t n;
    if (app_plain_moves(ap, &req->a, who->org_id, to, &from, &services, &n) != STORE_OK || n == 0)
        return false;
    store_case c;
    store_event ev = {.type = "stage_change", .stage = to};
    stamp_event(req, &ev);
    store_rc rc = store_case_move(ap->store, &req->a, who->org_id, ref, from, n, &ev, &c);
    if (rc == STORE_NOT_FOUND)
        return false;
    /* The case's service is among those held: nothing is read after the
     * write, so a committed move is always answered as one. */
    size_t i = 0;
    while (rc == STORE_OK && i < n && services[i]->svc.id != c.service_id)
        i++;
    if (rc == STORE_OK && i < n)
        send_event(res, 201, &ev, &c, services[i]);
    else
        api_store_error(res, rc == STORE_OK ? STORE_ERROR : rc);
    return true;
}

static bool refuse_if_closed(http_res *res, const store_case *c)
{
    if (!c->closed_at)
        return false;
    api_error(res, 409, "conflict", NULL, "the case %s is closed; nothing more can be added",
              c->reference);
    return true;
}

void cases_add_event(http_req *req, http_res *res)
{
    static const char *const fields[] = {"type", "stage", "note", NULL};
    store_case c;
    const app_service *e;
    const char *type, *stage, *note;
    char ref[REF_TEXT_LEN + 1];
    if (!casework_reference(res, req->params[0], ref))
        return;
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) ||
        !api_string(res, body, "type", "type", true, 40, false, &type) ||
        !api_string(res, body, "stage", "stage", false, 40, false, &stage) ||
        !api_string(res, body, "note", "note", false, NOTE_MAX, true, &note))
        goto out;
    bool is_stage = strcmp(type, "stage_change") == 0;
    bool is_public = strcmp(type, "public_note") == 0;
    bool is_internal = strcmp(type, "internal_note") == 0;
    if (!is_stage && !is_public && !is_internal) {
        api_error(res, 400, "invalid_field", "type",
                  "type must be stage_change, public_note or internal_note");
        goto out;
    }
    if (is_stage && !stage) {
        api_error(res, 400, "missing_field", "stage", "a stage_change needs a stage");
        goto out;
    }
    if (!is_stage && stage) {
        api_error(res, 400, "invalid_field", "stage", "only a stage_change takes a stage");
        goto out;
    }
    if (!is_stage && !note) {
        api_error(res, 400, "missing_field", "note", "a %s needs a note", type);
        goto out;
    }
    if (is_stage && !note && move_unread(req, res, ref, stage))
        goto out;
    if (!load_case(req, res, ref, &c) || refuse_if_closed(res, &c) ||
        !(e = casework_service(req, res, c.service_id)))
        goto out;
    if (is_stage) {
        change_stage(req, res, &c, e, stage, note, 201);
    } else {
        store_event ev = {.type = type, .stage = c.stage, .body = note, .public_ = is_public};
        append_event(req, res, &c, e, &ev, false, 201);
    }
out:
    json_decref(body);
}

void cases_close(http_req *req, http_res *res)
{
    static const char *const fields[] = {"stage", "note", NULL};
    store_case c;
    const app_service *e;
    const char *stage, *note;
    char ref[REF_TEXT_LEN + 1];
    if (!casework_reference(res, req->params[0], ref))
        return;
    json_t *body = api_body_object(req, res, true);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) ||
        !api_string(res, body, "stage", "stage", false, 40, false, &stage) ||
        !api_string(res, body, "note", "note", false, NOTE_MAX, true, &note) ||
        !load_case(req, res, ref, &c) || refuse_if_closed(res, &c) ||
        !(e = casework_service(req, res, c.service_id)))
        goto out;
    const workflow *wf = &e->wf;
    if (stage) {
        const wf_stage *st = workflow_stage(wf, stage);
        if (st && !st->terminal) {
            api_error(res, 400, "invalid_field", "stage",
                      "%s is not a closing stage of the service %s", stage, e->svc.code);
            goto out;
        }
    } else {
        /* Without a stage, close to the one closing stage reachable from here. */
        const wf_stage *from = workflow_stage(wf, c.stage);
        size_t found = 0;
        char names[512] = "";
        size_t used = 0;
        for (size_t i = 0; from && i < from->n_next; i++) {
            const wf_stage *next = &wf->stages[from->next[i]];
            if (!next->terminal)
                continue;
            stage = next->code;
            int w =
                snprintf(names + used, sizeof(names) - used, "%s%s", found ? ", " : "", next->code);
            if (w > 0 && (size_t)w < sizeof(names) - used)
                used += (size_t)w;
            found++;
        }
        if (found == 0) {
            char next[512];
            workflow_describe_next(wf, c.stage, next, sizeof(next));
            api_error(res, 409, "invalid_transition", "stage",
                      "the case cannot be closed from stage '%s'; allowed next stages: %s", c.stage,
                      next);
            goto out;
        }
        if (found > 1) {
            api_error(res, 400, "missing_field", "stage", "say which closing stage: one of %s",
                      names);
            goto out;
        }
    }
    change_stage(req, res, &c, e, stage, note, 200);
out:
    json_decref(body);
}

void cases_new_secret(http_req *req, http_res *res)
{
    static const char *const none[] = {NULL};
    app *ap = req->ctx;
    store_case c;
    char ref[REF_TEXT_LEN + 1];
    if (!casework_reference(res, req->params[0], ref))
        return;
    json_t *body = api_body_object(req, res, true);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", none) || !load_case(req, res, ref, &c))
        goto out;
    char secret[SECRET_TEXT + 1];
    unsigned char hash[TOKEN_HASH_BYTES];
    token_random_grouped(secret, SECRET_CHARS);
    token_hash(ap->key, secret, hash);
    store_rc rc = store_case_set_secret(ap->store, c.id, hash);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    api_send(res, 200, json_pack("{s:s}", "tracking_secret", secret));
    http_res_header(res, "Cache-Control", "no-store");
out:
    json_decref(body);
}

/* Who has been shown the case's person, for the case's own organisation. */
void cases_accesses(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    store_case c;
    store_access *accesses;
    size_t n;
    char ref[REF_TEXT_LEN + 1];
    if (!casework_reference(res, req->params[0], ref) || !load_case(req, res, ref, &c))
        return;
    store_rc rc = store_case_accesses(ap->store, &req->a, c.id, &accesses, &n);
    if (rc != STORE_OK) {
        api_store_error(res, rc == STORE_NOT_FOUND ? STORE_ERROR : rc);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const store_access *x = &accesses[i];
        json_array_append_new(
            list, json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "at", api_time(x->at),
                            "action", x->action, "organisation", x->reader_org_name, "role",
                            x->role, "purpose", x->purpose, "officer", x->reader_name,
                            "officer_kind", x->user_id ? "user" : "key", "log_index",
                            x->log_index < 0 ? json_null() : json_integer(x->log_index)));
    }
    api_send(res, 200, json_pack("{s:o}", "accesses", list));
    http_res_header(res, "Cache-Control", "no-store");
}

/* Changes a case's enhanced flag or team. Duties still due are re-timed to
 * the working days the new flag allows, counted from when they were
 * triggered, in the same transaction; met and missed duties keep their
 * outcome. The answer carries the case without its person, and its duties,
 * so no access is recorded. */
void cases_update(http_req *req, http_res *res)
{
    static const char *const fields[] = {"enhanced", "team", NULL};
    app *ap = req->ctx;
    store_case c;
    const app_service *e;
    char ref[REF_TEXT_LEN + 1];
    store_duty *duties;
    size_t n_duties;
    store_duty_retime *retimes;
    size_t n_retimes;
    if (!casework_reference(res, req->params[0], ref))
        return;
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields))
        goto out;
    if (json_object_size(body) == 0) {
        api_error(res, 400, "missing_field", NULL, "give enhanced, team or both");
        goto out;
    }
    if (!load_case(req, res, ref, &c) || !(e = casework_service(req, res, c.service_id)))
        goto out;
    bool enhanced = c.enhanced, team_given;
    const char *team = c.team;
    if (!read_flags(res, body, &enhanced, &team, &team_given))
        goto out;
    int64_t now = app_now();
    store_rc rc = store_case_duties(ap->store, &req->a, c.id, &duties, &n_duties);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    if (!duties_retime(req, res, e, duties, n_duties, enhanced, now, &retimes, &n_retimes))
        goto out;
    rc = store_case_set_flags(ap->store, c.id, enhanced, team, retimes, n_retimes, now);
    if (rc == STORE_OK)
        rc = load_case(req, res, ref, &c) ? STORE_OK : STORE_ERROR;
    else
        api_store_error(res, rc);
    if (rc != STORE_OK)
        goto out;
    rc = store_case_duties(ap->store, &req->a, c.id, &duties, &n_duties);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    api_send(res, 200,
             json_pack("{s:o, s:o}", "case", case_json(&c, &e->svc, &e->wf, false), "duties",
                       case_duties_json(e, duties, n_duties)));
    http_res_header(res, "Cache-Control", "no-store");
out:
    json_decref(body);
}
