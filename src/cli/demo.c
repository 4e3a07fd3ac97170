/* demo.c - loads the demonstration data; see demo.h.
 *
 * Everything that describes the demo (organisations, staff, services with
 * their workflows, and how cases move through them) is in demo.json; this
 * file only turns that description into rows. The simulation is driven by a
 * small seeded generator so that one seed always gives the same cases, while
 * references and tracking secrets come from libsodium like real ones: they
 * are credentials even in a demo, and must not be predictable from the seed.
 * Cases are written through store_case_import in large batches, one
 * transaction each, which is what makes a million cases load in minutes.
 */
#include "cli/demo.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/appeal.h"
#include "domain/duty.h"
#include "domain/open311.h"
#include "domain/ref.h"
#include "domain/workflow.h"
#include "embedded.h"
#include "util/token.h"

#define DEMO_BATCH 10000
#define DEMO_MAX_ORGS 8
#define DEMO_MAX_SERVICES 16
#define DEMO_MAX_EVENTS 1000 /* per case; keeps --events from exhausting memory */
#define DEMO_MAX_STEPS 24    /* stage changes in one walk, so loops end */
#define DEMO_WALK_TRIES 50
#define DAY 86400
#define YEAR (365 * DAY)
#define SECRET_CHARS 20
#define SECRET_LEN (SECRET_CHARS + SECRET_CHARS / 5 + 1)

/* ---- a small deterministic generator (SplitMix64) ---- */

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n); n > 0. */
static size_t rng_below(rng *r, size_t n)
{
    return (size_t)(rng_next(r) % n);
}

/* Uniform in [lo, hi), or lo when the range is empty. It draws even then, so
 * that how many draws a case makes does not depend on its dates. */
static int64_t rng_range(rng *r, int64_t lo, int64_t hi)
{
    uint64_t x = rng_next(r);
    return hi <= lo ? lo : lo + (int64_t)(x % (uint64_t)(hi - lo));
}

/* ---- the demo description, read from demo.json ---- */

typedef struct texts {
    const char **items;
    size_t n;
} texts;

typedef struct sim_stage {
    bool present;
    double days_min, days_max; /* a stage lasts a log-uniform number of days in this range */
    double hold;               /* chance that an open case rests here */
    size_t next[WF_MAX_STAGES];
    double weight[WF_MAX_STAGES];
    size_t n_next;
    double weight_total;
} sim_stage;

/* An appeal for witnesses, checked as a member of staff's would be, to be
 * linked to a case once the cases are written. */
typedef struct demo_appeal {
    store_appeal row; /* all but its case */
    bool published, closed;
    int64_t published_at, closed_at;
    const char *outcome;
    store_user by;          /* who drafted, published and closed it */
    const char *case_stage; /* the stage its case is best at, or NULL */
} demo_appeal;

typedef struct demo_org {
    const char *slug;
    const char *name;
    int64_t id;
    texts towns;
    texts postcode_areas;
    bool office_hours;
    texts actors; /* names of the staff who work on cases */
    /* Its appeals, linked to cases of this service; n_appeals 0: none. */
    const char *appeals_service;
    demo_appeal *appeals;
    size_t n_appeals;
} demo_org;

typedef struct demo_service {
    const demo_org *org;
    const char *code;
    int64_t id;
    bool generate; /* false when the stored service no longer matches the demo */
    workflow wf;
    sim_stage stages[WF_MAX_STAGES];
    double share, closed_share, feedback_share;
    texts summaries, public_notes, internal_notes, messages, feedback;
} demo_service;

typedef struct demo_people {
    texts given, family, streets;
    double email_share, phone_share;
} demo_people;

typedef struct demo_data {
    int64_t now; /* the demo's clock (demo_clock) */
    demo_org orgs[DEMO_MAX_ORGS];
    size_t n_orgs;
    demo_service services[DEMO_MAX_SERVICES];
    size_t n_services;
    demo_people people;
} demo_data;

/* Names a field of demo.json for a message, "organisations[0].staff[1]";
 * vsnprintf cuts a name that is too long, which only shortens the message. */
static void field_name(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void field_name(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, len, fmt, ap);
    va_end(ap);
}

static int bad(const char *where, const char *what)
{
    fprintf(stderr, "demo: demo.json: %s: %s\n", where, what);
    return -1;
}

static int get_string(const json_t *obj, const char *key, const char *where, const char **out)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || json_string_length(v) == 0) {
        char w[160];
        field_name(w, sizeof(w), "%s.%s", where, key);
        return bad(w, "expected a non-empty string");
    }
    *out = json_string_value(v);
    return 0;
}

static int get_number(const json_t *obj, const char *key, const char *where, double lo, double hi,
                      double *out)
{
    const json_t *v = json_object_get(obj, key);
    char w[160];
    field_name(w, sizeof(w), "%s.%s", where, key);
    if (!json_is_number(v))
        return bad(w, "expected a number");
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return bad(w, "number out of range");
    *out = d;
    return 0;
}

static int get_texts(arena *a, const json_t *obj, const char *key, const char *where, size_t min,
                     texts *out)
{
    const json_t *arr = json_object_get(obj, key);
    char w[160];
    field_name(w, sizeof(w), "%s.%s", where, key);
    if (!json_is_array(arr) || json_array_size(arr) < min)
        return bad(w, "expected an array of strings");
    out->n = json_array_size(arr);
    out->items = arena_calloc(a, out->n, sizeof(*out->items));
    if (!out->items)
        return bad(w, "out of memory");
    for (size_t i = 0; i < out->n; i++) {
        const json_t *s = json_array_get(arr, i);
        if (!json_is_string(s) || json_string_length(s) == 0)
            return bad(w, "expected only non-empty strings");
        out->items[i] = json_string_value(s);
    }
    return 0;
}

static int load_people(arena *a, const json_t *root, demo_people *p)
{
    const json_t *people = json_object_get(root, "people");
    if (!json_is_object(people))
        return bad("people", "expected an object");
    if (get_texts(a, people, "given_names", "people", 1, &p->given) ||
        get_texts(a, people, "family_names", "people", 1, &p->family) ||
        get_texts(a, people, "streets", "people", 1, &p->streets) ||
        get_number(people, "email_share", "people", 0, 1, &p->email_share) ||
        get_number(people, "phone_share", "people", 0, 1, &p->phone_share))
        return -1;
    return 0;
}

/* Reads one stage's simulation and checks every move against the workflow,
 * so the demo can never write a case history the workflow forbids. */
static int load_sim_stage(const workflow *wf, const char *code, const json_t *def,
                          const char *where, sim_stage *st)
{
    const json_t *days = json_object_get(def, "days");
    if (!json_is_array(days) || json_array_size(days) != 2 ||
        !json_is_number(json_array_get(days, 0)) || !json_is_number(json_array_get(days, 1)))
        return bad(where, "days must be [min, max]");
    st->days_min = json_number_value(json_array_get(days, 0));
    st->days_max = json_number_value(json_array_get(days, 1));
    if (!(st->days_min > 0 && st->days_max >= st->days_min && st->days_max <= 3650))
        return bad(where, "days must satisfy 0 < min <= max <= 3650");
    if (get_number(def, "hold", where, 0, 1, &st->hold))
        return -1;
    const json_t *next = json_object_get(def, "next");
    if (!json_is_object(next) || json_object_size(next) == 0)
        return bad(where, "next must be an object of stage weights");
    const char *to;
    const json_t *w;
    json_object_foreach((json_t *)next, to, w)
    {
        if (!json_is_number(w) || json_number_value(w) <= 0)
            return bad(where, "next weights must be positive numbers");
        if (workflow_check_move(wf, code, to) != WF_OK)
            return bad(where, "next names a move the workflow does not allow");
        const wf_stage *target = workflow_stage(wf, to);
        st->next[st->n_next] = (size_t)(target - wf->stages);
        st->weight[st->n_next] = json_number_value(w);
        st->weight_total += st->weight[st->n_next];
        st->n_next++;
    }
    st->present = true;
    return 0;
}

static int load_simulation(arena *a, const json_t *def, const char *where, demo_service *svc)
{
    char w[160];
    field_name(w, sizeof(w), "%s.simulation", where);
    const json_t *sim = json_object_get(def, "simulation");
    if (!json_is_object(sim))
        return bad(w, "expected an object");
    if (get_number(sim, "share", w, 0, 1e6, &svc->share) ||
        get_number(sim, "closed_share", w, 0, 1, &svc->closed_share) ||
        get_number(sim, "feedback_share", w, 0, 1, &svc->feedback_share) ||
        get_texts(a, sim, "summaries", w, 1, &svc->summaries) ||
        get_texts(a, sim, "public_notes", w, 1, &svc->public_notes) ||
        get_texts(a, sim, "internal_notes", w, 1, &svc->internal_notes) ||
        get_texts(a, sim, "messages", w, 1, &svc->messages) ||
        get_texts(a, sim, "feedback", w, 1, &svc->feedback))
        return -1;
    if (svc->feedback.n != 5)
        return bad(w, "feedback needs one comment per rating, 1 to 5");
    const json_t *stages = json_object_get(sim, "stages");
    if (!json_is_object(stages))
        return bad(w, "stages must be an object");
    const char *code;
    const json_t *st;
    json_object_foreach((json_t *)stages, code, st)
    {
        char sw[200];
        field_name(sw, sizeof(sw), "%s.stages.%s", w, code);
        const wf_stage *ws = workflow_stage(&svc->wf, code);
        if (!ws || ws->terminal)
            return bad(sw, "not a non-terminal stage of the workflow");
        if (load_sim_stage(&svc->wf, code, st, sw, &svc->stages[ws - svc->wf.stages]))
            return -1;
    }
    for (size_t i = 0; i < svc->wf.n_stages; i++) {
        if (!svc->wf.stages[i].terminal && !svc->stages[i].present) {
            char sw[200];
            field_name(sw, sizeof(sw), "%s.stages.%s", w, svc->wf.stages[i].code);
            return bad(sw, "every non-terminal stage needs a simulation");
        }
    }
    return 0;
}

/* The demo's "now": the histories end at the start of this week, Monday
 * 00:00 UTC, rather than now. Office hours make times depend on the weekday
 * and the hour, so only an anchor on a week boundary lets one seed give the
 * same cases whenever it runs, shifted by whole weeks. */
static int64_t demo_clock(void)
{
    int64_t days = (int64_t)time(NULL) / DAY;
    return (days - (days + 3) % 7) * DAY; /* day 0, 1 January 1970, was a Thursday */
}

/* ---- appeals for witnesses ---- */

#define HOUR 3600

/* A whole number of demo.json in [lo, hi]. */
static int get_whole(const json_t *obj, const char *key, const char *where, double lo, double hi,
                     int64_t *out)
{
    double d;
    if (get_number(obj, key, where, lo, hi, &d))
        return -1;
    if (d != (double)(int64_t)d) {
        char w[160];
        field_name(w, sizeof(w), "%s.%s", where, key);
        return bad(w, "expected a whole number");
    }
    *out = (int64_t)d;
    return 0;
}

/* The appeal's location, its public point and its precision. */
static int load_appeal_place(const json_t *def, const char *where, store_appeal *row)
{
    const json_t *loc = json_object_get(def, "location");
    const json_t *pub = json_object_get(def, "public_location");
    char w[200];
    double lat, lon;
    int64_t cell = 0;
    const char *text;
    appeal_precision precision;
    geo_point truth, shown;
    field_name(w, sizeof(w), "%s.location", where);
    if (get_number(loc, "lat", w, -90, 90, &lat) || get_number(loc, "lon", w, -180, 180, &lon))
        return -1;
    if (!geo_from_degrees(lat, lon, &truth))
        return bad(w, "not a point");
    field_name(w, sizeof(w), "%s.public_location", where);
    if (get_string(pub, "precision", w, &text))
        return -1;
    if (!appeal_precision_parse(text, &precision))
        return bad(w, "precision must be exact or grid");
    if (precision == APPEAL_GRID &&
        get_whole(pub, "cell_m", w, GEO_CELL_MIN_M, GEO_CELL_MAX_M, &cell))
        return -1;
    if (!appeal_public_point(truth, NULL, precision, (int32_t)cell, &shown))
        return bad(w, "cell_m is not a size of grid cell");
    row->true_lat = truth.lat;
    row->true_lon = truth.lon;
    row->pub_lat = shown.lat;
    row->pub_lon = shown.lon;
    row->precision = appeal_precision_name(precision);
    row->cell_m = (int32_t)cell;
    return 0;
}

/* When it happened, was drafted, published, closed and expires: days and
 * hours before and after the demo's clock, `now`, which it must not pass. */
static int load_appeal_times(const json_t *def, const char *where, int64_t now, demo_appeal *x)
{
    const json_t *occurred = json_object_get(def, "occurred");
    char w[200];
    int64_t days_ago, hour, hours, expires, closed_after = 0;
    field_name(w, sizeof(w), "%s.occurred", where);
    if (get_whole(occurred, "days_ago", w, 2, 365, &days_ago) ||
        get_whole(occurred, "hour", w, 0, 23, &hour) ||
        get_whole(occurred, "hours", w, 0, 12, &hours) ||
        get_whole(def, "expires_in_days", where, 14, 365, &expires) ||
        (x->closed && get_whole(def, "closed_after_days", where, 1, 365, &closed_after)))
        return -1;
    store_appeal *row = &x->row;
    row->occurred_from = now - days_ago * DAY + hour * HOUR;
    row->occurred_to = hours ? row->occurred_from + hours * HOUR : 0;
    /* Drafted the next morning, or so, and published soon after. */
    row->created_at = row->occurred_from + hours * HOUR + 12 * HOUR;
    row->expires_at = now + expires * DAY;
    x->published_at = x->published ? row->created_at + 2 * HOUR : 0;
    x->closed_at = x->closed ? x->published_at + closed_after * DAY : 0;
    int64_t last = x->closed ? x->closed_at : x->published ? x->published_at : row->created_at;
    if (last > now)
        return bad(where, "happens after the demo's clock: make it longer ago");
    return 0;
}

/* One appeal of list[i]. */
static int load_appeal(store *s, arena *a, const demo_org *org, const json_t *def,
                       const char *where, const char *contact, const char *anonymous_contact,
                       int64_t now, demo_appeal *x)
{
    store_appeal *row = &x->row;
    const char *status, *by;
    *row = (store_appeal){
        .org_id = org->id, .contact = contact, .anonymous_contact = anonymous_contact};
    if (get_string(def, "title", where, &row->title) ||
        get_string(def, "description", where, &row->description) ||
        get_string(def, "category", where, &row->category) ||
        get_string(def, "status", where, &status) || get_string(def, "drafted_by", where, &by))
        return -1;
    if (!appeal_category_find(row->category))
        return bad(where, "category is not a category of appeal");
    x->closed = strcmp(status, "closed") == 0;
    x->published = x->closed || strcmp(status, "published") == 0;
    if (!x->published && strcmp(status, "draft") != 0)
        return bad(where, "status must be draft, published or closed");
    if (x->closed ? get_string(def, "outcome", where, &x->outcome) != 0
                  : json_object_get(def, "outcome") != NULL)
        return x->closed ? -1 : bad(where, "only a closed appeal has an outcome");
    if (load_appeal_place(def, where, row) || load_appeal_times(def, where, now, x))
        return -1;
    if (store_user_by_email(s, a, by, &x->by) != STORE_OK || x->by.org_id != org->id ||
        strcmp(x->by.role, "analyst") == 0)
        return bad(where, "drafted_by must be an administrator or caseworker of the organisation");
    /* Whoever drafts an appeal is its officer unless it says otherwise. */
    row->officer_id = json_is_false(json_object_get(def, "officer")) ? 0 : x->by.id;
    x->case_stage = json_string_value(json_object_get(def, "case_stage"));
    return 0;
}

static int load_appeals(store *s, arena *a, demo_org *org, const json_t *def, const char *where,
                        int64_t now)
{
    const char *contact, *anonymous_contact;
    const json_t *list = json_object_get(def, "list");
    if (get_string(def, "service", where, &org->appeals_service) ||
        get_string(def, "contact", where, &contact) ||
        get_string(def, "anonymous_contact", where, &anonymous_contact))
        return -1;
    if (!json_is_array(list))
        return bad(where, "list must be an array");
    org->appeals = arena_calloc(a, json_array_size(list) + 1, sizeof(*org->appeals));
    if (!org->appeals)
        return bad(where, "out of memory");
    for (size_t i = 0; i < json_array_size(list); i++) {
        char w[200];
        field_name(w, sizeof(w), "%s.list[%zu]", where, i);
        if (load_appeal(s, a, org, json_array_get(list, i), w, contact, anonymous_contact, now,
                        &org->appeals[i]))
            return -1;
    }
    org->n_appeals = json_array_size(list);
    return 0;
}

/* ---- writing the organisations, staff and services ---- */

static int ensure_org(store *s, arena *a, demo_org *org)
{
    store_rc rc = store_org_create(s, org->slug, org->name, &org->id);
    if (rc == STORE_DUPLICATE) {
        store_org existing;
        rc = store_org_by_slug(s, a, org->slug, &existing);
        org->id = existing.id;
    }
    if (rc != STORE_OK) {
        fprintf(stderr, "demo: cannot create organisation %s\n", org->slug);
        return -1;
    }
    return 0;
}

static int ensure_user(store *s, arena *a, const demo_org *org, const json_t *def,
                       const char *where, const char *password)
{
    store_user u = {.org_id = org->id};
    if (get_string(def, "email", where, &u.email) || get_string(def, "name", where, &u.name) ||
        get_string(def, "role", where, &u.role))
        return -1;
    store_user existing;
    store_rc rc = store_user_by_email(s, a, u.email, &existing);
    if (rc == STORE_OK)
        return 0;
    if (rc != STORE_NOT_FOUND) {
        fprintf(stderr, "demo: cannot look up user %s\n", u.email);
        return -1;
    }
    char hash[PASSWORD_HASH_MAX];
    if (!password_hash(password, hash)) {
        fprintf(stderr, "demo: cannot hash the password (out of memory)\n");
        return -1;
    }
    u.password_hash = hash;
    rc = store_user_create(s, &u);
    if (rc != STORE_OK && rc != STORE_DUPLICATE) {
        fprintf(stderr, "demo: cannot create user %s\n", u.email);
        return -1;
    }
    return 0;
}

/* Creates the service, or finds it; an existing service whose workflow an
 * administrator has since changed gets no new demo cases, because the walk
 * follows the demo workflow and would write stages the service no longer has. */
static int ensure_service(store *s, arena *a, demo_service *svc, const json_t *def,
                          const json_t *wf_def, const char *where, FILE *out)
{
    store_service row = {.org_id = svc->org->id, .code = svc->code};
    const json_t *duties = json_object_get(def, "duties");
    double target;
    if (get_string(def, "name", where, &row.name) ||
        get_string(def, "description", where, &row.description) ||
        get_number(def, "target_days", where, 1, 3650, &target))
        return -1;
    row.target_days = (int)target;
    char *wf_text = json_dumps(wf_def, JSON_COMPACT);
    if (!wf_text)
        return bad(where, "cannot serialise the workflow");
    row.workflow_json = wf_text;
    const json_t *o311 = json_object_get(def, "open311");
    char *o311_text = o311 ? json_dumps(o311, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (o311 && !o311_text) {
        free(wf_text);
        return bad(where, "cannot serialise the Open311 metadata");
    }
    row.open311_json = o311_text;
    char *duties_text = duties ? json_dumps(duties, JSON_COMPACT) : NULL;
    if (duties && !duties_text) {
        free(wf_text);
        free(o311_text);
        return bad(where, "cannot serialise the duties");
    }
    row.duties_json = duties_text;
    store_rc rc = store_service_create(s, &row);
    free(duties_text);
    free(wf_text);
    free(o311_text);
    svc->id = row.id;
    svc->generate = true;
    if (rc == STORE_DUPLICATE) {
        store_service existing;
        rc = store_service_get(s, a, svc->org->id, svc->code, &existing);
        if (rc == STORE_OK) {
            svc->id = existing.id;
            json_t *stored = json_loads(existing.workflow_json, 0, NULL);
            svc->generate = stored && json_equal(stored, wf_def);
            json_decref(stored);
            if (!svc->generate)
                fprintf(out, "Service %s/%s has a changed workflow; no demo cases added to it.\n",
                        svc->org->slug, svc->code);
        }
    }
    if (rc != STORE_OK) {
        fprintf(stderr, "demo: cannot create service %s/%s\n", svc->org->slug, svc->code);
        return -1;
    }
    return 0;
}

static int load_service(store *s, arena *a, demo_data *d, demo_org *org, const json_t *def,
                        const char *where, FILE *out)
{
    if (d->n_services == sizeof(d->services) / sizeof(d->services[0]))
        return bad(where, "too many services");
    demo_service *svc = &d->services[d->n_services];
    memset(svc, 0, sizeof(*svc));
    svc->org = org;
    if (get_string(def, "code", where, &svc->code))
        return -1;
    const json_t *wf_def = json_object_get(def, "workflow");
    wf_error err;
    if (workflow_parse(a, wf_def, &svc->wf, &err) != 0) {
        char w[260];
        field_name(w, sizeof(w), "%s.%s", where, err.field);
        return bad(w, err.message);
    }
    const json_t *o311 = json_object_get(def, "open311");
    o311_service meta;
    if (o311 && o311_service_parse(a, o311, &svc->wf, &meta, &err) != 0) {
        char w[260];
        field_name(w, sizeof(w), "%s.%s", where, err.field);
        return bad(w, err.message);
    }
    /* The demo's duties are checked as an administrator's would be. */
    const json_t *duties = json_object_get(def, "duties");
    duty_list list;
    duty_error derr;
    if (duties && duty_parse(a, duties, &svc->wf, &list, &derr) != 0) {
        char w[260];
        field_name(w, sizeof(w), "%s.%s", where, derr.field);
        return bad(w, derr.message);
    }
    if (load_simulation(a, def, where, svc) || ensure_service(s, a, svc, def, wf_def, where, out))
        return -1;
    d->n_services++;
    return 0;
}

static int load_org(store *s, arena *a, demo_data *d, const json_t *def, const char *where,
                    const demo_options *o, FILE *out)
{
    if (d->n_orgs == sizeof(d->orgs) / sizeof(d->orgs[0]))
        return bad(where, "too many organisations");
    demo_org *org = &d->orgs[d->n_orgs++];
    memset(org, 0, sizeof(*org));
    if (get_string(def, "slug", where, &org->slug) || get_string(def, "name", where, &org->name) ||
        get_texts(a, def, "towns", where, 1, &org->towns) ||
        get_texts(a, def, "postcode_areas", where, 1, &org->postcode_areas))
        return -1;
    org->office_hours = json_is_true(json_object_get(def, "office_hours"));
    if (ensure_org(s, a, org))
        return -1;

    const json_t *staff = json_object_get(def, "staff");
    if (!json_is_array(staff) || json_array_size(staff) == 0)
        return bad(where, "staff must be a non-empty array");
    org->actors.items = arena_calloc(a, json_array_size(staff), sizeof(char *));
    if (!org->actors.items)
        return bad(where, "out of memory");
    for (size_t i = 0; i < json_array_size(staff); i++) {
        const json_t *u = json_array_get(staff, i);
        char w[160];
        field_name(w, sizeof(w), "%s.staff[%zu]", where, i);
        if (ensure_user(s, a, org, u, w, o->password))
            return -1;
        const char *role = json_string_value(json_object_get(u, "role"));
        if (strcmp(role, "analyst") != 0)
            org->actors.items[org->actors.n++] = json_string_value(json_object_get(u, "name"));
    }
    if (org->actors.n == 0)
        return bad(where, "needs at least one member of staff who works on cases");
    const json_t *appeals = json_object_get(def, "appeals");
    if (appeals) {
        char w[160];
        field_name(w, sizeof(w), "%s.appeals", where);
        if (load_appeals(s, a, org, appeals, w, d->now))
            return -1;
    }

    const json_t *services = json_object_get(def, "services");
    if (!json_is_array(services))
        return bad(where, "services must be an array");
    for (size_t i = 0; i < json_array_size(services); i++) {
        char w[160];
        field_name(w, sizeof(w), "%s.services[%zu]", where, i);
        if (load_service(s, a, d, org, json_array_get(services, i), w, out))
            return -1;
    }
    return 0;
}

/* ---- unique references ---- */

/* An open-addressing set of issued reference values (stored plus one, so
 * that zero marks an empty slot). */
typedef struct ref_set {
    uint64_t *slots;
    size_t cap;
    size_t used;
} ref_set;

static size_t ref_slot(uint64_t v, size_t cap)
{
    return (size_t)((v * UINT64_C(0x9E3779B97F4A7C15)) >> 17) & (cap - 1);
}

/* 1 when added, 0 when already present, -1 when out of memory. */
static int ref_set_add(ref_set *rs, uint64_t value)
{
    if ((rs->used + 1) * 2 > rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 1 << 16;
        uint64_t *slots = calloc(cap, sizeof(*slots));
        if (!slots)
            return -1;
        for (size_t i = 0; i < rs->cap; i++) {
            if (!rs->slots[i])
                continue;
            size_t j = ref_slot(rs->slots[i], cap);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = rs->slots[i];
        }
        free(rs->slots);
        rs->slots = slots;
        rs->cap = cap;
    }
    uint64_t key = value + 1;
    size_t j = ref_slot(key, rs->cap);
    while (rs->slots[j]) {
        if (rs->slots[j] == key)
            return 0;
        j = (j + 1) & (rs->cap - 1);
    }
    rs->slots[j] = key;
    rs->used++;
    return 1;
}

static int new_reference(ref_set *rs, char out[REF_TEXT_LEN + 1])
{
    for (;;) {
        uint64_t bits, value;
        randombytes_buf(&bits, sizeof(bits));
        if (!ref_from_random(bits & REF_VALUE_MAX, &value))
            continue;
        int r = ref_set_add(rs, value);
        if (r < 0)
            return -1;
        if (r == 1) {
            ref_format(value, out);
            return 0;
        }
    }
}

/* ---- generating cases ---- */

/* One case of a batch, with what the credentials file needs. */
typedef struct gen_case {
    const demo_service *svc;
    char reference[REF_TEXT_LEN + 1];
    char secret[SECRET_LEN];
} gen_case;

typedef struct walk {
    size_t stage[DEMO_MAX_STEPS + 1]; /* stage[0] is the initial stage */
    int64_t at[DEMO_MAX_STEPS + 1];   /* when each stage was entered */
    size_t n_changes;
} walk;

static size_t pick_next(rng *r, const sim_stage *st)
{
    double x = rng_unit(r) * st->weight_total;
    for (size_t i = 0; i < st->n_next; i++) {
        if (x < st->weight[i])
            return st->next[i];
        x -= st->weight[i];
    }
    return st->next[st->n_next - 1];
}

static int64_t stage_seconds(rng *r, const sim_stage *st)
{
    double lo = log(st->days_min), hi = log(st->days_max);
    return (int64_t)(exp(lo + (hi - lo) * rng_unit(r)) * DAY);
}

/* Walks the workflow: a closed case until it reaches a terminal stage, an
 * open one until it rests at a stage (by that stage's `hold`). Durations are
 * stored as offsets from the opening in w->at. */
static void walk_workflow(rng *r, const demo_service *svc, bool closed, walk *w)
{
    for (int attempt = 0; attempt < DEMO_WALK_TRIES; attempt++) {
        size_t cur = svc->wf.initial;
        w->stage[0] = cur;
        w->at[0] = 0;
        w->n_changes = 0;
        for (;;) {
            const sim_stage *st = &svc->stages[cur];
            if (svc->wf.stages[cur].terminal)
                return; /* an open walk never gets here: it starts again instead */
            if (!closed && rng_unit(r) < st->hold)
                return;
            if (w->n_changes == DEMO_MAX_STEPS) {
                if (!closed)
                    return;
                break;
            }
            size_t next = pick_next(r, st);
            if (!closed && svc->wf.stages[next].terminal)
                break;
            int64_t t = w->at[w->n_changes] + stage_seconds(r, st);
            w->n_changes++;
            w->stage[w->n_changes] = next;
            w->at[w->n_changes] = t;
            cur = next;
        }
    }
    /* An unlucky run of walks: the case stays where it started. Never seen with
     * the demo's weights, but a closed walk must not be left half-done. */
    w->n_changes = 0;
    w->stage[0] = svc->wf.initial;
    w->at[0] = 0;
}

/* Moves a time staff act at into the working week, 08:00-18:00 UTC: to the
 * next working moment, or with `back` to the last one before it. */
static int64_t office_time(rng *r, int64_t t, bool back)
{
    int64_t jitter = rng_range(r, 0, 2 * 3600);
    int64_t day = t / DAY * DAY;
    int64_t sec = t - day;
    if (back) {
        if (sec < 8 * 3600)
            t = day - DAY + 16 * 3600 + jitter;
        else if (sec >= 18 * 3600)
            t = day + 16 * 3600 + jitter;
    } else {
        if (sec < 8 * 3600)
            t = day + 8 * 3600 + jitter;
        else if (sec >= 18 * 3600)
            t = day + DAY + 8 * 3600 + jitter;
    }
    /* Day 0, 1 January 1970, was a Thursday: (day + 4) % 7 is 0 on Sunday, 6 on Saturday. */
    for (int dow = (int)((t / DAY + 4) % 7); dow == 0 || dow == 6; dow = (int)((t / DAY + 4) % 7))
        t += back ? -DAY : DAY;
    return t;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static const char *pick(rng *r, const texts *t)
{
    return t->items[rng_below(r, t->n)];
}

static int make_person(rng *r, arena *a, const demo_people *p, const demo_org *org,
                       store_person *out)
{
    const char *given = pick(r, &p->given), *family = pick(r, &p->family);
    out->name = arena_printf(a, "%s %s", given, family);
    out->address = arena_printf(a, "%d %s, %s", (int)rng_range(r, 1, 180), pick(r, &p->streets),
                                pick(r, &org->towns));
    /* Inward codes never use C, I, K, M, O or V. */
    static const char inward[] = "ABDEFGHJLNPQRSTUWXYZ";
    out->postcode =
        arena_printf(a, "%s%d %d%c%c", pick(r, &org->postcode_areas), (int)rng_range(r, 1, 30),
                     (int)rng_range(r, 0, 10), inward[rng_below(r, sizeof(inward) - 1)],
                     inward[rng_below(r, sizeof(inward) - 1)]);
    if (!out->name || !out->address || !out->postcode)
        return -1;
    if (rng_unit(r) < p->email_share) {
        char *email =
            arena_printf(a, "%s.%s%d@example.com", given, family, (int)rng_range(r, 1, 1000));
        if (!email)
            return -1;
        for (char *c = email; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        out->email = email;
    }
    if (rng_unit(r) < p->phone_share) {
        /* 07700 900000-900999 is the range set aside for drama and examples. */
        out->phone = arena_printf(a, "07700 900%03d", (int)rng_range(r, 0, 1000));
        if (!out->phone)
            return -1;
    }
    return 0;
}

/* Picks a feedback rating: most people who answer are content. */
static int pick_rating(rng *r)
{
    static const double cumulative[5] = {0.08, 0.18, 0.38, 0.70, 1.0};
    double x = rng_unit(r);
    for (int i = 0; i < 5; i++) {
        if (x < cumulative[i])
            return i + 1;
    }
    return 5;
}

/* Dates a walk: fills w->at with times and returns the end of the case's
 * history, its closing or, while open, `now`. A closed case opened at any time
 * in the past year that leaves room for its history; an open one is somewhere
 * inside its current stage, so most open cases are on track, as in a service
 * that keeps up. */
static int64_t date_walk(rng *r, const demo_service *svc, bool closed, int64_t now, walk *w)
{
    int64_t span = w->at[w->n_changes];
    int64_t opened;
    if (closed) {
        opened = now - rng_range(r, span + 3600, YEAR > span + 7200 ? YEAR : span + 7200);
    } else {
        const sim_stage *current = &svc->stages[w->stage[w->n_changes]];
        int64_t dwell = (int64_t)(rng_unit(r) * (double)stage_seconds(r, current));
        opened = now - span - dwell - 3600;
    }
    int64_t prev_offset = 0;
    w->at[0] = opened;
    for (size_t i = 1; i <= w->n_changes; i++) {
        int64_t t = w->at[i - 1] + (w->at[i] - prev_offset);
        prev_offset = w->at[i];
        w->at[i] = svc->org->office_hours ? office_time(r, t, false) : t;
    }
    int64_t last = w->at[w->n_changes];
    if (last > now - 60) {
        /* Office hours pushed the history past its end: slide it back by whole
         * weeks, which keeps every step within the working week. */
        int64_t shift = (last - now + 3600 + 7 * DAY - 1) / (7 * DAY) * (7 * DAY);
        for (size_t i = 0; i <= w->n_changes; i++)
            w->at[i] -= shift;
    }
    return closed ? w->at[w->n_changes] : now;
}

/* Draws up to n moments in (opened, end) for notes and messages, sorted, and
 * returns how many. */
static int draw_extra_times(rng *r, bool office, int64_t opened, int64_t end, int64_t *at, int n)
{
    int kept = 0;
    for (int i = 0; i < n; i++) {
        int64_t t = rng_range(r, opened + 1, end);
        if (office) {
            /* A case opened at the weekend has no working moment yet: nothing
             * has happened to it, so the event is left out. */
            int64_t later = office_time(r, t, false), earlier = office_time(r, t, true);
            if (later < end)
                t = later;
            else if (earlier > opened)
                t = earlier;
            else
                continue;
        }
        at[kept++] = t;
    }
    qsort(at, (size_t)kept, sizeof(*at), cmp_i64);
    return kept;
}

/* Fills one case and its events. The walk fixes the stage changes; notes and
 * citizen messages fill the case up to the target number of events at random
 * moments in its life, and some closed cases get feedback afterwards. */
static int generate_case(rng *r, arena *a, const demo_data *d, const demo_service *svc,
                         int events_target, int64_t now, store_case_new *c,
                         const store_event **events_out, size_t *n_events, int64_t *closed_at)
{
    const wf_stage *stages = svc->wf.stages;
    bool closed = rng_unit(r) < svc->closed_share;
    walk w;
    walk_workflow(r, svc, closed, &w);
    closed = stages[w.stage[w.n_changes]].terminal;
    int64_t end = date_walk(r, svc, closed, now, &w);
    int64_t opened = w.at[0];

    bool feedback = closed && rng_unit(r) < svc->feedback_share && end + 2 * 3600 < now;
    int extras = events_target - 1 - (int)w.n_changes - (feedback ? 1 : 0);
    if (extras < 0)
        extras = 0;
    size_t total = 1 + w.n_changes + (size_t)extras + (feedback ? 1 : 0);
    store_event *ev = arena_calloc(a, total, sizeof(*ev));
    int64_t *extra_at = arena_calloc(a, (size_t)extras + 1, sizeof(*extra_at));
    if (!ev || !extra_at)
        return -1;
    extras = draw_extra_times(r, svc->org->office_hours, opened, end, extra_at, extras);

    const char *opener = pick(r, &svc->org->actors);
    const char *officer = pick(r, &svc->org->actors);
    size_t n = 0, change = 1;
    int extra = 0;
    ev[n++] = (store_event){.type = "opened",
                            .stage = stages[w.stage[0]].code,
                            .public_ = stages[w.stage[0]].milestone,
                            .actor = opener,
                            .created_at = opened};
    size_t cur = w.stage[0];
    while (change <= w.n_changes || extra < extras) {
        store_event *e = &ev[n++];
        if (change <= w.n_changes && (extra == extras || w.at[change] <= extra_at[extra])) {
            size_t to = w.stage[change];
            *e = (store_event){.type = "stage_change",
                               .from_stage = stages[cur].code,
                               .stage = stages[to].code,
                               .public_ = stages[to].milestone,
                               .actor = officer,
                               .created_at = w.at[change]};
            if (stages[to].milestone && rng_unit(r) < 0.3)
                e->body = pick(r, &svc->public_notes);
            cur = to;
            change++;
            continue;
        }
        double kind = rng_unit(r);
        *e = (store_event){.stage = stages[cur].code, .created_at = extra_at[extra++]};
        if (kind < 0.2) {
            e->type = "message";
            e->body = pick(r, &svc->messages);
            e->public_ = true;
            e->actor = "citizen";
        } else if (kind < 0.55) {
            e->type = "public_note";
            e->body = pick(r, &svc->public_notes);
            e->public_ = true;
            e->actor = officer;
        } else {
            e->type = "internal_note";
            e->body = pick(r, &svc->internal_notes);
            e->actor = officer;
        }
    }
    if (feedback) {
        int rating = pick_rating(r);
        int64_t t = end + rng_range(r, 2 * 3600, 7 * DAY);
        ev[n++] = (store_event){.type = "feedback",
                                .stage = stages[cur].code,
                                .body = rng_unit(r) < 0.6 ? svc->feedback.items[rating - 1] : NULL,
                                .rating = rating,
                                .public_ = true,
                                .actor = "citizen",
                                .created_at = t < now ? t : now};
    }

    memset(c, 0, sizeof(*c));
    c->org_id = svc->org->id;
    c->service_id = svc->id;
    c->stage = stages[cur].code;
    c->summary = pick(r, &svc->summaries);
    c->actor = opener;
    c->now = opened;
    if (make_person(r, a, &d->people, svc->org, &c->person))
        return -1;
    *events_out = ev;
    *n_events = n;
    *closed_at = closed ? end : 0;
    return 0;
}

/* What every batch needs while the cases are written. */
typedef struct loader {
    store *s;
    const demo_data *d;
    const demo_service *svcs[DEMO_MAX_SERVICES];
    size_t n_svcs;
    double share_total;
    int events;
    int64_t now;
    unsigned char key[TOKEN_KEY_BYTES];
    rng r;
    ref_set refs;
    FILE *creds;
} loader;

static const demo_service *pick_service(loader *l)
{
    double x = rng_unit(&l->r) * l->share_total;
    for (size_t i = 0; i < l->n_svcs; i++) {
        if (x < l->svcs[i]->share)
            return l->svcs[i];
        x -= l->svcs[i]->share;
    }
    return l->svcs[l->n_svcs - 1];
}

/* Gives every case of a batch a fresh reference and secret. */
static int assign_credentials(loader *l, arena *a, gen_case *g, store_case_new *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (new_reference(&l->refs, g[i].reference))
            return -1;
        token_random_grouped(g[i].secret, SECRET_CHARS);
        unsigned char *hash = arena_alloc(a, TOKEN_HASH_BYTES);
        if (!hash)
            return -1;
        token_hash(l->key, g[i].secret, hash);
        cases[i].reference = g[i].reference;
        cases[i].secret_hash = hash;
    }
    return 0;
}

/* Generates and writes one batch. A reference already in the database (from
 * an earlier run) fails the whole transaction, so the batch is retried with
 * new references; the cases themselves stay as generated. */
static int write_batch(loader *l, size_t n)
{
    int ret = -1;
    store_rc rc = STORE_DUPLICATE;
    arena a;
    arena_init(&a);
    store_case_new *cases = arena_calloc(&a, n, sizeof(*cases));
    const store_event **events =
        arena_calloc(&a, n, sizeof(*events)); // NOLINT: an array of pointers
    size_t *n_events = arena_calloc(&a, n, sizeof(*n_events));
    int64_t *closed_at = arena_calloc(&a, n, sizeof(*closed_at));
    gen_case *g = arena_calloc(&a, n, sizeof(*g));
    if (!cases || !events || !n_events || !closed_at || !g)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        /* Each case draws from its own stream, seeded from the main one. */
        g[i].svc = pick_service(l);
        rng cr = {.state = rng_next(&l->r)};
        if (generate_case(&cr, &a, l->d, g[i].svc, l->events, l->now, &cases[i], &events[i],
                          &n_events[i], &closed_at[i]))
            goto oom;
    }
    for (int attempt = 0; attempt < 5 && rc == STORE_DUPLICATE; attempt++) {
        if (assign_credentials(l, &a, g, cases, n))
            goto oom;
        rc = store_case_import(l->s, cases, events, n_events, closed_at, n);
    }
    if (rc != STORE_OK) {
        fprintf(stderr, "demo: writing cases failed (store error %d)\n", (int)rc);
        goto out;
    }
    if (l->creds) {
        for (size_t i = 0; i < n; i++)
            fprintf(l->creds, "%s %s %s %s\n", g[i].reference, g[i].secret, cases[i].stage,
                    g[i].svc->code);
    }
    ret = 0;
    goto out;
oom:
    fprintf(stderr, "demo: out of memory\n");
out:
    arena_free(&a);
    return ret;
}

static int write_cases(store *s, const demo_data *d, const demo_options *o, FILE *out)
{
    int ret = -1;
    loader *l = calloc(1, sizeof(*l));
    if (!l) {
        fprintf(stderr, "demo: out of memory\n");
        return -1;
    }
    l->s = s;
    l->d = d;
    l->events = o->events;
    l->r.state = o->seed;
    l->now = d->now;
    for (size_t i = 0; i < d->n_services; i++) {
        if (d->services[i].generate && d->services[i].share > 0) {
            l->svcs[l->n_svcs++] = &d->services[i];
            l->share_total += d->services[i].share;
        }
    }
    if (o->cases > 0 && l->n_svcs == 0) {
        fprintf(stderr, "demo: no service to add cases to\n");
        goto out;
    }
    if (store_secret_key(s, l->key) != STORE_OK) {
        fprintf(stderr, "demo: cannot read the deployment's secret key\n");
        goto out;
    }
    if (o->credentials_path) {
        l->creds = fopen(o->credentials_path, "w");
        if (!l->creds) {
            fprintf(stderr, "demo: cannot write %s\n", o->credentials_path);
            goto out;
        }
    }
    long done = 0, reported = 0;
    while (done < o->cases) {
        size_t n = (size_t)(o->cases - done < DEMO_BATCH ? o->cases - done : DEMO_BATCH);
        if (write_batch(l, n))
            goto out;
        done += (long)n;
        if (done == o->cases || done - reported >= o->cases / 10) {
            fprintf(out, "Cases: %ld of %ld\n", done, o->cases);
            fflush(out);
            reported = done;
        }
    }
    ret = 0;
out:
    if (l->creds && fclose(l->creds) != 0 && ret == 0) {
        fprintf(stderr, "demo: cannot write %s\n", o->credentials_path);
        ret = -1;
    }
    sodium_memzero(l->key, sizeof(l->key));
    free(l->refs.slots);
    free(l);
    return ret;
}

/* The cases an organisation's appeals may be linked to: its cases of one
 * service, newest first, and which of them already have an appeal. */
typedef struct case_pool {
    const store_case *cases;
    bool *linked;
    size_t n;
} case_pool;

/* The newest case opened before `before` that has no appeal yet and is at
 * `stage` (when not NULL), or failing that still open; failing those, the
 * newest without an appeal, or the newest at all. NULL when no case was
 * opened before it. */
static const store_case *pick_case(case_pool *p, int64_t before, const char *stage)
{
    size_t best = p->n;
    int best_rank = 0;
    for (size_t i = 0; i < p->n; i++) {
        const store_case *c = &p->cases[i];
        if (c->opened_at >= before)
            continue;
        int rank = p->linked[i]                            ? 1
                   : stage && strcmp(c->stage, stage) == 0 ? 4
                   : c->closed_at                          ? 2
                                                           : 3;
        if (rank > best_rank) {
            best = i;
            best_rank = rank;
        }
    }
    if (best == p->n)
        return NULL;
    p->linked[best] = true;
    return &p->cases[best];
}

/* Publishes (APPEAL_PUBLISH) or closes (APPEAL_CLOSE) the appeal at `at`,
 * an event on its case by the demo's officer, as staff would. */
static store_rc move_appeal(store *s, const demo_org *org, const demo_appeal *x,
                            appeal_action action, int64_t at)
{
    bool publish = action == APPEAL_PUBLISH;
    char note[APPEAL_NOTE_MAX];
    appeal_move_note(action, x->row.id, publish ? x->row.title : x->outcome, note, sizeof(note));
    store_event ev = {.type = publish ? "appeal_published" : "appeal_closed",
                      .body = note,
                      .actor = x->by.name,
                      .user_id = x->by.id,
                      .created_at = at};
    return store_appeal_transition(s, org->id, x->row.id, publish ? "draft" : "published",
                                   publish ? "published" : "closed", publish ? NULL : x->outcome,
                                   &ev);
}

/* Writes one appeal on its case, then publishes and closes it. */
static store_rc write_appeal(store *s, const demo_org *org, demo_appeal *x)
{
    store_rc rc = store_appeal_create(s, &x->row);
    if (rc == STORE_OK && x->published)
        rc = move_appeal(s, org, x, APPEAL_PUBLISH, x->published_at);
    if (rc == STORE_OK && x->closed)
        rc = move_appeal(s, org, x, APPEAL_CLOSE, x->closed_at);
    return rc;
}

/* Links each organisation's appeals to its cases and writes them; an
 * organisation that already has appeals (an earlier demo) gets no more. */
static int write_appeals(store *s, const demo_data *d, FILE *out)
{
    int ret = 0;
    for (size_t i = 0; i < d->n_orgs && ret == 0; i++) {
        const demo_org *org = &d->orgs[i];
        if (!org->n_appeals)
            continue;
        arena a;
        arena_init(&a);
        store_appeal_staff_filter existing = {.org_id = org->id, .limit = 1};
        store_case_filter f = {
            .org_id = org->id, .service_code = org->appeals_service, .limit = 200};
        store_appeal *found;
        store_case *cases = NULL;
        size_t n, written = 0;
        bool more;
        store_rc rc = store_appeal_staff_list(s, &a, &existing, &found, &n, &more);
        if (rc == STORE_OK && n) {
            fprintf(out, "%s already has appeals; no demo appeals added.\n", org->name);
            arena_free(&a);
            continue;
        }
        if (rc == STORE_OK)
            rc = store_case_list(s, &a, &f, &cases, &n, &more);
        case_pool pool = {.cases = cases, .n = rc == STORE_OK ? n : 0};
        pool.linked = arena_calloc(&a, pool.n + 1, sizeof(*pool.linked));
        if (rc == STORE_OK && !pool.linked)
            rc = STORE_ERROR;
        for (size_t j = 0; j < org->n_appeals && rc == STORE_OK; j++) {
            demo_appeal x = org->appeals[j];
            const store_case *c = pick_case(&pool, x.row.created_at, x.case_stage);
            if (!c)
                continue;
            x.row.case_id = c->id;
            rc = write_appeal(s, org, &x);
            written += rc == STORE_OK;
        }
        if (rc != STORE_OK) {
            fprintf(stderr, "demo: writing the appeals of %s failed (store error %d)\n", org->slug,
                    (int)rc);
            ret = -1;
        } else {
            fprintf(out, "Appeals: %zu of %zu for %s%s\n", written, org->n_appeals, org->name,
                    written < org->n_appeals ? " (the others had no case to link to)" : "");
        }
        arena_free(&a);
    }
    return ret;
}

static void print_logins(const json_t *root, const demo_options *o, FILE *out)
{
    fprintf(out, "Demo staff (password: %s):\n", o->password);
    const json_t *orgs = json_object_get(root, "organisations");
    for (size_t i = 0; i < json_array_size(orgs); i++) {
        const json_t *org = json_array_get(orgs, i);
        const json_t *staff = json_object_get(org, "staff");
        for (size_t j = 0; j < json_array_size(staff); j++) {
            const json_t *u = json_array_get(staff, j);
            fprintf(out, "  %-32s %-14s %s\n", json_string_value(json_object_get(u, "email")),
                    json_string_value(json_object_get(u, "role")),
                    json_string_value(json_object_get(org, "name")));
        }
    }
}

int demo_load(store *s, const demo_options *o, FILE *out)
{
    int ret = -1;
    arena a;
    arena_init(&a);
    json_t *root = NULL;
    demo_data *d = NULL;
    demo_options opts = *o;
    json_error_t jerr;
    const json_t *orgs;
    if (o->cases < 0 || !o->password || o->password[0] == '\0') {
        fprintf(stderr,
                "demo: the number of cases must not be negative and a password is needed\n");
        goto out;
    }
    if (opts.events < 1)
        opts.events = 1;
    if (opts.events > DEMO_MAX_EVENTS) {
        fprintf(stderr, "demo: at most %d events per case\n", DEMO_MAX_EVENTS);
        goto out;
    }
    if (!token_init()) {
        fprintf(stderr, "demo: cannot initialise libsodium\n");
        goto out;
    }
    root = json_loadb(embedded_demo_json, embedded_demo_json_len, 0, &jerr);
    if (!root) {
        fprintf(stderr, "demo: demo.json line %d: %s\n", jerr.line, jerr.text);
        goto out;
    }
    d = calloc(1, sizeof(*d));
    if (!d) {
        fprintf(stderr, "demo: out of memory\n");
        goto out;
    }
    d->now = demo_clock();
    if (load_people(&a, root, &d->people))
        goto out;
    orgs = json_object_get(root, "organisations");
    if (!json_is_array(orgs) || json_array_size(orgs) == 0) {
        bad("organisations", "expected a non-empty array");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(orgs); i++) {
        char w[64];
        field_name(w, sizeof(w), "organisations[%zu]", i);
        if (load_org(s, &a, d, json_array_get(orgs, i), w, &opts, out))
            goto out;
    }
    if (write_cases(s, d, &opts, out) || write_appeals(s, d, out))
        goto out;
    print_logins(root, &opts, out);
    ret = 0;
out:
    free(d);
    json_decref(root);
    arena_free(&a);
    return ret;
}
