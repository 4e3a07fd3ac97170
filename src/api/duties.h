/* duties.h - update duties for the case handlers: which duties a move
 * triggers, when they fall due, and how they are shown.
 *
 * The due times are worked out here from the caller's organisation's
 * calendar (one that ships, or its own) and the domain's rules (duty.h), so
 * that the store only writes them, in the transaction of the move.
 */
#ifndef OC_API_DUTIES_H
#define OC_API_DUTIES_H

#include <jansson.h>
#include <stdbool.h>

#include "api/app.h"
#include "domain/calendar.h"
#include "http/http.h"
#include "store/store.h"

/* The caller's organisation's calendar, parsed into the request's arena;
 * false with the error written. */
bool duties_calendar(http_req *req, http_res *res, calendar *out);

/* The instances of the service's duties that reaching `stage` at `at`
 * opens, for a case flagged `enhanced` or not (*n may be 0); false with the
 * error written. */
bool duties_for_stage(http_req *req, http_res *res, const app_service *e, const char *stage,
                      bool enhanced, int64_t at, store_duty_new **out, size_t *n);

/* The new due times of a case's instances after its enhanced flag becomes
 * `enhanced` at `now`: only instances still due, of duties the service still
 * declares, whose working days change (*n may be 0); false with the error
 * written. */
bool duties_retime(http_req *req, http_res *res, const app_service *e, const store_duty *duties,
                   size_t n_duties, bool enhanced, int64_t now, store_duty_retime **out, size_t *n);

/* One instance as the API shows it, its state at `now`; `def` (may be NULL
 * when the service no longer declares it) gives its name. */
json_t *duties_instance_json(const store_duty *d, const duty_def *def, int64_t now);

#endif
