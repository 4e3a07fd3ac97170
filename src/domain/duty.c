/* duty.c - duty definitions, due times, states and compliance; see duty.h. */
#include "domain/duty.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "domain/validate.h"

static int fail(duty_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(duty_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

static void set_field(duty_error *err, size_t i, const char *key)
{
    snprintf(err->field, sizeof(err->field), "duties[%zu]%s%s", i, key ? "." : "", key ? key : "");
}

/* An integer member from 1 to DUTY_DAYS_MAX; absent is *present = false. */
static int read_days(const json_t *o, const char *key, size_t i, int *out, bool *present,
                     duty_error *err)
{
    json_t *v = json_object_get(o, key);
    *present = v != NULL && !json_is_null(v);
    if (!*present)
        return 0;
    set_field(err, i, key);
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > DUTY_DAYS_MAX)
        return fail(err, "%s must be a whole number of working days from 1 to %d", key,
                    DUTY_DAYS_MAX);
    *out = (int)json_integer_value(v);
    return 0;
}

static int read_text(const json_t *o, const char *key, size_t i, size_t max, const char **out,
                     duty_error *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    set_field(err, i, key);
    if (!v || json_is_null(v))
        return fail(err, "%s is required", key);
    if (!json_is_string(v) || !valid_text(json_string_value(v), max, false) ||
        json_string_length(v) == 0 || strlen(json_string_value(v)) != json_string_length(v))
        return fail(err, "%s must be 1 to %zu bytes of printable text", key, max);
    *out = json_string_value(v);
    return 0;
}

static int parse_one(arena *a, const json_t *o, size_t i, const workflow *wf, duty_def *d,
                     duty_error *err)
{
    static const char *const keys[] = {"code", "name", "stage", "days", "enhanced_days"};
    set_field(err, i, NULL);
    if (!json_is_object(o))
        return fail(err, "each duty is an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        bool known = false;
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            known = known || strcmp(key, keys[k]) == 0;
        if (!known) {
            bool echo = valid_text(key, 64, false);
            if (echo)
                set_field(err, i, key);
            return fail(err, "unknown field%s%s", echo ? " " : "", echo ? key : "");
        }
    }
    const char *code = NULL, *name = NULL, *stage = NULL;
    bool present;
    if (read_text(o, "code", i, DUTY_CODE_MAX, &code, err) != 0 || !code)
        return -1;
    if (!valid_code(code, DUTY_CODE_MAX))
        return fail(err,
                    "code must be 1 to %d lower-case letters, digits, '-' or '_', starting "
                    "with a letter or digit",
                    DUTY_CODE_MAX);
    if (read_text(o, "name", i, DUTY_NAME_MAX, &name, err) != 0 ||
        read_text(o, "stage", i, WF_CODE_MAX, &stage, err) != 0 || !name || !stage)
        return -1;
    const wf_stage *st = workflow_stage(wf, stage);
    if (!st)
        return fail(err, "the workflow has no stage %s", stage);
    if (read_days(o, "days", i, &d->days, &present, err) != 0)
        return -1;
    if (!present) {
        set_field(err, i, "days");
        return fail(err, "days is required");
    }
    d->enhanced_days = d->days;
    if (read_days(o, "enhanced_days", i, &d->enhanced_days, &present, err) != 0)
        return -1;
    d->code = arena_strdup(a, code);
    d->name = arena_strdup(a, name);
    d->stage = st->code;
    if (!d->code || !d->name) {
        set_field(err, i, NULL);
        return fail(err, "out of memory");
    }
    return 0;
}

int duty_parse(arena *a, const json_t *def, const workflow *wf, duty_list *out, duty_error *err)
{
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    snprintf(err->field, sizeof(err->field), "duties");
    if (!json_is_array(def))
        return fail(err, "duties must be a list");
    size_t n = json_array_size(def);
    if (n > DUTY_MAX)
        return fail(err, "a service has at most %d duties", DUTY_MAX);
    duty_def *items = n ? arena_calloc(a, n, sizeof(*items)) : NULL;
    if (n && !items)
        return fail(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (parse_one(a, json_array_get(def, i), i, wf, &items[i], err) != 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(items[j].code, items[i].code) == 0) {
                set_field(err, i, "code");
                return fail(err, "the duty %s is declared twice", items[i].code);
            }
        }
    }
    memset(err, 0, sizeof(*err));
    out->items = items;
    out->n = n;
    return 0;
}

const duty_def *duty_find(const duty_list *list, const char *code)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].code, code) == 0)
            return &list->items[i];
    return NULL;
}

size_t duty_count_at(const duty_list *list, const char *stage)
{
    size_t count = 0;
    for (size_t i = 0; i < list->n; i++)
        count += strcmp(list->items[i].stage, stage) == 0;
    return count;
}

int duty_days(const duty_def *d, bool enhanced)
{
    return enhanced ? d->enhanced_days : d->days;
}

int64_t duty_due_at(const calendar *cal, int64_t triggered_at, int days)
{
    int64_t day = calendar_add_workdays(cal, calendar_uk_day(triggered_at), days);
    return calendar_uk_day_end(day);
}

duty_state duty_state_at(int64_t due_at, int64_t met_at, int64_t now)
{
    if (met_at)
        return met_at <= due_at ? DUTY_MET : DUTY_MET_LATE;
    return now > due_at ? DUTY_MISSED : DUTY_DUE;
}

const char *duty_state_name(duty_state s)
{
    switch (s) {
    case DUTY_DUE:
        return "due";
    case DUTY_MISSED:
        return "missed";
    case DUTY_MET:
        return "met";
    case DUTY_MET_LATE:
        return "met_late";
    }
    return "due";
}

bool duty_retimes(int64_t due_at, int64_t met_at, int64_t now)
{
    return duty_state_at(due_at, met_at, now) == DUTY_DUE;
}

int64_t duty_tally_due(const duty_tally *t)
{
    return t->met + t->met_late + t->missed;
}

void duty_tally_add(duty_tally *t, const duty_tally *u)
{
    t->met += u->met;
    t->met_late += u->met_late;
    t->missed += u->missed;
}

bool duty_compliance(const duty_tally *t, double *rate)
{
    int64_t due = duty_tally_due(t);
    *rate = 0;
    if (due <= 0)
        return false;
    *rate = round((double)t->met / (double)due * 10000.0) / 10000.0;
    return true;
}
