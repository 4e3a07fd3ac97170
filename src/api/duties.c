/* duties.c - update duties: the organisation's calendar, the worklist of
 * duties due and missed, compliance, and the helpers the case handlers use
 * to open and re-time duties (duties.h).
 */
#include "api/duties.h"

#include <stdlib.h>
#include <string.h>

#include "api/casework.h"
#include "api/handlers.h"
#include "api/json.h"
#include "domain/duty.h"
#include "domain/validate.h"
#include "embedded.h"

#define DEFAULT_CALENDAR "england-and-wales"
#define CUSTOM_CALENDAR "custom"
#define WORKLIST_DEFAULT 50
#define WORKLIST_MAX 200

/* The calendars that ship with the binary (src/domain/calendars/). */
static const struct shipped {
    const char *name;
    const char *text;
    const size_t *len;
} shipped[] = {
    {"england-and-wales", embedded_england_and_wales_txt, &embedded_england_and_wales_txt_len},
    {"scotland", embedded_scotland_txt, &embedded_scotland_txt_len},
    {"northern-ireland", embedded_northern_ireland_txt, &embedded_northern_ireland_txt_len},
};

static const struct shipped *shipped_find(const char *name)
{
    for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++)
        if (strcmp(shipped[i].name, name) == 0)
            return &shipped[i];
    return NULL;
}

/* The organisation's choice, defaulting to England and Wales, and its text. */
static bool calendar_choice(http_req *req, http_res *res, store_calendar *choice, const char **text,
                            size_t *len)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    store_rc rc = store_org_calendar_get(ap->store, &req->a, who->org_id, choice);
    if (rc == STORE_NOT_FOUND) {
        *choice = (store_calendar){.org_id = who->org_id, .calendar = DEFAULT_CALENDAR};
        rc = STORE_OK;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return false;
    }
    if (choice->holidays) {
        *text = choice->holidays;
        *len = strlen(choice->holidays);
        return true;
    }
    const struct shipped *sh = shipped_find(choice->calendar);
    if (!sh) {
        api_error(res, 500, "internal", NULL, "the organisation's calendar is not known");
        return false;
    }
    *text = sh->text;
    *len = *sh->len;
    return true;
}

bool duties_calendar(http_req *req, http_res *res, calendar *out)
{
    store_calendar choice;
    const char *text;
    size_t len;
    if (!calendar_choice(req, res, &choice, &text, &len))
        return false;
    cal_error err;
    if (calendar_parse(&req->a, text, len, out, &err) != 0) {
        api_error(res, 500, "internal", NULL, "the organisation's calendar cannot be read");
        return false;
    }
    return true;
}

bool duties_for_stage(http_req *req, http_res *res, const app_service *e, const char *stage,
                      bool enhanced, int64_t at, store_duty_new **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t count = duty_count_at(&e->duties, stage);
    if (count == 0)
        return true;
    calendar cal;
    if (!duties_calendar(req, res, &cal))
        return false;
    store_duty_new *arr = arena_calloc(&req->a, count, sizeof(*arr));
    if (!arr) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return false;
    }
    size_t j = 0;
    for (size_t i = 0; i < e->duties.n; i++) {
        const duty_def *d = &e->duties.items[i];
        if (strcmp(d->stage, stage) != 0)
            continue;
        int days = duty_days(d, enhanced);
        arr[j++] =
            (store_duty_new){.duty = d->code, .days = days, .due_at = duty_due_at(&cal, at, days)};
    }
    *out = arr;
    *n = count;
    return true;
}

bool duties_retime(http_req *req, http_res *res, const app_service *e, const store_duty *duties,
                   size_t n_duties, bool enhanced, int64_t now, store_duty_retime **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    store_duty_retime *arr = arena_calloc(&req->a, n_duties ? n_duties : 1, sizeof(*arr));
    if (!arr) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return false;
    }
    calendar cal;
    bool have_cal = false;
    size_t count = 0;
    for (size_t i = 0; i < n_duties; i++) {
        const store_duty *d = &duties[i];
        const duty_def *def = duty_find(&e->duties, d->duty);
        if (!def || !duty_retimes(d->due_at, d->met_at, now))
            continue;
        int days = duty_days(def, enhanced);
        if (days == d->days)
            continue;
        if (!have_cal && !duties_calendar(req, res, &cal))
            return false;
        have_cal = true;
        arr[count++] = (store_duty_retime){
            .id = d->id, .days = days, .due_at = duty_due_at(&cal, d->triggered_at, days)};
    }
    *out = arr;
    *n = count;
    return true;
}

json_t *duties_instance_json(const store_duty *d, const duty_def *def, int64_t now)
{
    duty_state st = duty_state_at(d->due_at, d->met_at, now);
    return json_pack(
        "{s:I, s:s, s:s, s:o, s:s, s:o, s:b, s:o, s:o, s:i, s:o, s:o, s:s, s:o, s:o}", "id",
        (json_int_t)d->id, "case", d->reference, "service", d->service_code, "team",
        api_str(d->team), "duty", d->duty, "name", api_str(def ? def->name : NULL), "enhanced",
        d->enhanced, "triggered_at", api_time(d->triggered_at), "due_at", api_time(d->due_at),
        "days", d->days, "due_date", api_date(calendar_uk_day(d->due_at) * 86400), "met_at",
        api_time(d->met_at), "state", duty_state_name(st), "met_by", api_str(d->met_by),
        "met_event_id", d->met_event_id ? json_integer(d->met_event_id) : json_null());
}

/* ---- the organisation's calendar ---- */

static json_t *calendar_json(const store_calendar *choice, const calendar *cal)
{
    json_t *days = json_array();
    for (size_t i = 0; i < cal->n; i++)
        json_array_append_new(days,
                              json_pack("{s:o, s:s}", "date", api_date(cal->days[i].day * 86400),
                                        "name", cal->days[i].name));
    json_t *names = json_array();
    for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++)
        json_array_append_new(names, json_string(shipped[i].name));
    json_array_append_new(names, json_string(CUSTOM_CALENDAR));
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "calendar", choice->calendar,
                     "time_zone", "Europe/London", "first",
                     cal->n ? api_date(cal->days[0].day * 86400) : json_null(), "last",
                     cal->n ? api_date(cal->days[cal->n - 1].day * 86400) : json_null(), "holidays",
                     days, "available", names, "updated_at", api_time(choice->updated_at));
}

void calendar_get(http_req *req, http_res *res)
{
    store_calendar choice;
    const char *text;
    size_t len;
    calendar cal;
    cal_error err;
    if (!calendar_choice(req, res, &choice, &text, &len))
        return;
    if (calendar_parse(&req->a, text, len, &cal, &err) != 0) {
        api_error(res, 500, "internal", NULL, "the organisation's calendar cannot be read");
        return;
    }
    api_send(res, 200, calendar_json(&choice, &cal));
}

void calendar_put(http_req *req, http_res *res)
{
    static const char *const fields[] = {"calendar", "holidays", NULL};
    app *ap = req->ctx;
    const store_principal *who = req->who;
    store_calendar choice = {.org_id = who->org_id, .updated_at = app_now()};
    const char *name, *holidays;
    const char *text;
    size_t len;
    calendar cal;
    cal_error err;
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    if (!api_only_fields(res, body, "", fields) ||
        !api_string(res, body, "calendar", "calendar", true, 40, false, &name))
        goto out;
    json_t *h = json_object_get(body, "holidays");
    bool custom = strcmp(name, CUSTOM_CALENDAR) == 0;
    const struct shipped *sh = custom ? NULL : shipped_find(name);
    if (!custom && !sh) {
        api_error(res, 400, "invalid_field", "calendar",
                  "calendar must be england-and-wales, scotland, northern-ireland or custom");
        goto out;
    }
    if (!custom && h && !json_is_null(h)) {
        api_error(res, 400, "invalid_field", "holidays",
                  "holidays is given only with the calendar custom");
        goto out;
    }
    if (custom) {
        /* Empty text is a calendar with no holidays at all. */
        if (!h || !json_is_string(h)) {
            api_error(res, 400, h ? "invalid_field" : "missing_field", "holidays",
                      "a custom calendar needs holidays: its text, one holiday a line "
                      "(2026-12-25 Christmas Day)");
            goto out;
        }
        holidays = json_string_value(h);
        text = holidays;
        len = json_string_length(h);
        if (strlen(holidays) != len) {
            api_error(res, 400, "invalid_field", "holidays", "holidays holds a NUL character");
            goto out;
        }
        choice.holidays = holidays;
    } else {
        text = sh->text;
        len = *sh->len;
    }
    choice.calendar = custom ? CUSTOM_CALENDAR : sh->name;
    if (calendar_parse(&req->a, text, len, &cal, &err) != 0) {
        api_error(res, 400, "invalid_field", "holidays", "%s", err.message);
        goto out;
    }
    store_rc rc = store_org_calendar_set(ap->store, &choice);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    api_send(res, 200, calendar_json(&choice, &cal));
out:
    json_decref(body);
}

/* ---- the worklist ---- */

/* The cursor is "<due_at>.<id>" of the last duty of the previous page. */
static bool query_cursor(http_req *req, http_res *res, store_duty_filter *f)
{
    const char *v = http_query_get(req, "cursor");
    if (!v)
        return true;
    char *dot, *end = NULL;
    long long due = strtoll(v, &dot, 10);
    long long id = *dot == '.' ? strtoll(dot + 1, &end, 10) : 0;
    if (dot == v || *dot != '.' || end == dot + 1 || *end || id < 1) {
        api_error(res, 400, "invalid_parameter", "cursor",
                  "cursor must be the next_cursor of a previous page");
        return false;
    }
    f->after_due_at = due;
    f->after_id = id;
    return true;
}

void duties_list(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    long long limit = WORKLIST_DEFAULT;
    store_duty_filter f = {.org_id = who->org_id, .now = app_now()};
    const char *status = http_query_get(req, "status");
    f.service_code = http_query_get(req, "service");
    f.team = http_query_get(req, "team");
    if ((f.service_code && !valid_code(f.service_code, 40)) ||
        (f.team && !valid_code(f.team, 40))) {
        api_error(res, 400, "invalid_parameter", f.service_code ? "service" : "team",
                  "service and team take a code such as parking-permit");
        return;
    }
    if (!status)
        f.which = STORE_DUTIES_OPEN;
    else if (strcmp(status, "due") == 0)
        f.which = STORE_DUTIES_DUE;
    else if (strcmp(status, "missed") == 0)
        f.which = STORE_DUTIES_MISSED;
    else {
        api_error(res, 400, "invalid_parameter", "status", "status must be due or missed");
        return;
    }
    if (!casework_query_int(req, res, "limit", 1, WORKLIST_MAX, &limit) ||
        !query_cursor(req, res, &f))
        return;
    f.limit = (int)limit;
    store_duty *rows;
    size_t n;
    bool more;
    store_rc rc = store_duty_worklist(ap->store, &req->a, &f, &rows, &n, &more);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        /* The duty's name comes from the service, cached. */
        const app_service *e = casework_service(req, res, rows[i].service_id);
        if (!e) {
            json_decref(list);
            return;
        }
        json_array_append_new(
            list, duties_instance_json(&rows[i], duty_find(&e->duties, rows[i].duty), f.now));
    }
    json_t *next = more && n ? json_sprintf("%lld.%lld", (long long)rows[n - 1].due_at,
                                            (long long)rows[n - 1].id)
                             : json_null();
    api_send(res, 200,
             json_pack("{s:o, s:o, s:o}", "duties", list, "next_cursor", next, "as_of",
                       api_time(f.now)));
    http_res_header(res, "Cache-Control", "no-store");
}

/* ---- compliance ---- */

static json_t *tally_json(const duty_tally *t)
{
    double rate;
    bool has_rate = duty_compliance(t, &rate);
    return json_pack("{s:I, s:I, s:I, s:I, s:o}", "due", (json_int_t)duty_tally_due(t), "met",
                     (json_int_t)t->met, "met_late", (json_int_t)t->met_late, "missed",
                     (json_int_t)t->missed, "compliance", has_rate ? json_real(rate) : json_null());
}

void compliance_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    /* Compliance is for those who answer for the service, not casework. */
    if (strcmp(who->role, "caseworker") == 0) {
        api_error(res, 403, "forbidden", NULL, "the role caseworker may not do this");
        return;
    }
    int64_t now = app_now();
    int64_t from = 0, to = 0;
    const char *service = http_query_get(req, "service");
    if (service && !valid_code(service, 40)) {
        api_error(res, 400, "invalid_parameter", "service",
                  "service takes a code such as parking-permit");
        return;
    }
    if (!casework_query_time(req, res, "from", &from) || !casework_query_time(req, res, "to", &to))
        return;
    if (from && to && to <= from) {
        api_error(res, 400, "invalid_parameter", "to", "to must be later than from");
        return;
    }
    store_org org;
    store_rc rc = store_org_by_id(ap->store, &req->a, who->org_id, &org);
    store_duty_count *rows = NULL;
    size_t n = 0;
    if (rc == STORE_OK)
        rc = store_duty_compliance(ap->store, &req->a, who->org_id, service,
                                   from ? from : INT64_MIN, to ? to : INT64_MAX, now, &rows, &n);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    duty_tally total = {0};
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        duty_tally t = {.met = rows[i].met, .met_late = rows[i].met_late, .missed = rows[i].missed};
        duty_tally_add(&total, &t);
        json_t *o = tally_json(&t);
        json_object_set_new(o, "service", json_string(rows[i].service_code));
        json_array_append_new(list, o);
    }
    json_t *body = tally_json(&total);
    json_object_set_new(body, "organisation", json_string(org.slug));
    json_object_set_new(body, "from", api_time(from));
    json_object_set_new(body, "to", api_time(to));
    json_object_set_new(body, "as_of", api_time(now));
    json_object_set_new(body, "services", list);
    api_send(res, 200, body);
    http_res_header(res, "Cache-Control", "no-store");
}
