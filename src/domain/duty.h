/* duty.h - statutory update duties: their definitions, due times, states
 * and compliance.
 *
 * A service declares its duties as JSON, beside its workflow:
 *
 *   [ { "code": "tell-charge", "name": "Tell the victim about the charge",
 *       "stage": "charged", "days": 5, "enhanced_days": 1 } ]
 *
 * Each time a case reaches `stage`, an instance of the duty falls due at the
 * end (UK time) of the `days`th working day after the day it got there, or of
 * the `enhanced_days`th when the case is flagged enhanced. An instance is met
 * by the first public update (or delivered notification) that follows the
 * move: on time at or before its due time, late after it. Pure functions: no
 * I/O. Everything duty_parse returns is allocated in the arena it is given.
 */
#ifndef OC_DUTY_H
#define OC_DUTY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/calendar.h"
#include "domain/workflow.h"
#include "util/arena.h"

#define DUTY_MAX 32
#define DUTY_CODE_MAX 40
#define DUTY_NAME_MAX 200
#define DUTY_DAYS_MAX 365

typedef struct duty_def {
    const char *code;
    const char *name;
    const char *stage; /* a stage of the service's workflow */
    int days;          /* working days, 1..DUTY_DAYS_MAX */
    int enhanced_days; /* the same for an enhanced case; `days` when not given */
} duty_def;

typedef struct duty_list {
    duty_def *items;
    size_t n;
} duty_list;

/* A refusal: the JSON path of the offending field and a sentence. */
typedef struct duty_error {
    char field[96];
    char message[256];
} duty_error;

/* Validates a service's duties against its workflow. `def` is an array of at
 * most DUTY_MAX objects with exactly the keys above (enhanced_days
 * optional); codes are [a-z0-9_-] starting with a letter or digit, unique;
 * names 1..DUTY_NAME_MAX bytes of printable UTF-8; stages exist in `wf`.
 * Returns 0, or -1 with *err filled and *out zeroed. */
int duty_parse(arena *a, const json_t *def, const workflow *wf, duty_list *out, duty_error *err);

/* The duty with this code, or NULL. */
const duty_def *duty_find(const duty_list *list, const char *code);

/* How many of the duties open when a case enters `stage`. */
size_t duty_count_at(const duty_list *list, const char *stage);

/* The working days a duty allows a case. */
int duty_days(const duty_def *d, bool enhanced);

/* When a duty falls due: the last second, UK time, of the `days`th working
 * day of `cal` after the UK day of `triggered_at`. */
int64_t duty_due_at(const calendar *cal, int64_t triggered_at, int days);

typedef enum {
    DUTY_DUE,      /* not met, and its due time has not passed */
    DUTY_MISSED,   /* not met, and its due time has passed */
    DUTY_MET,      /* met at or before its due time */
    DUTY_MET_LATE, /* met after its due time: counted as missed */
} duty_state;

/* The state at `now` of an instance due at `due_at` and met at `met_at` (0
 * when not met). The due time itself is still in time. */
duty_state duty_state_at(int64_t due_at, int64_t met_at, int64_t now);
/* "due", "missed", "met" or "met_late". */
const char *duty_state_name(duty_state s);

/* Whether an instance is re-timed when its case's enhanced flag changes at
 * `now`: only while it is neither met nor missed, so that a change of flag
 * never rewrites a duty's outcome. */
bool duty_retimes(int64_t due_at, int64_t met_at, int64_t now);

/* Instances whose due time has passed, by outcome. */
typedef struct duty_tally {
    int64_t met;      /* on time */
    int64_t met_late; /* after the due time */
    int64_t missed;   /* never met */
} duty_tally;

/* Instances that fell due: met + met_late + missed. */
int64_t duty_tally_due(const duty_tally *t);
/* Adds u into t. */
void duty_tally_add(duty_tally *t, const duty_tally *u);
/* Compliance, met on time over fallen due, rounded to four decimal places;
 * false when nothing fell due, for which there is no rate. */
bool duty_compliance(const duty_tally *t, double *rate);

#endif
