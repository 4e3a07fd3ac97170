/* notices.h - the notifications an event causes, for the handlers that write it.
 *
 * A public event on a case (opened at a milestone, a milestone reached, a
 * public note) is told to the case's person on each channel their
 * preferences accept, in their language, with the service's template or the
 * built-in one; and to each webhook subscription of the organisation. The
 * handler passes what notices_build returns to the store with the event, so
 * that both are written in one transaction, then calls notices_written.
 *
 * An answer to an appeal is told to the organisation's staff instead: an
 * email to the appeal's officer or, when it has none, to every administrator
 * of the organisation, and an event to each webhook subscription. Neither
 * carries the answer or anything of who gave it; staff read those where the
 * reading is recorded.
 *
 * Preferences travel in JSON as {"channels": ["email", ...], "language":
 * "en"|"cy", "frequency": "every"|"milestones"|"none"}.
 */
#ifndef OC_NOTICES_H
#define OC_NOTICES_H

#include <jansson.h>
#include <stdbool.h>

#include "api/app.h"
#include "domain/notice.h"
#include "http/http.h"
#include "store/store.h"

/* What happened: names of webhook events. */
#define NOTICES_OPENED "case.opened"
#define NOTICES_STAGE "case.stage_changed"
#define NOTICES_NOTE "case.public_note"
#define NOTICES_ANSWERED "appeal.answered"

/* The kind of the email that tells staff of an answer. */
#define NOTICES_ANSWER_KIND "appeal_answer"

/* The case's preferences: the stated ones (*stated = true) or the defaults
 * for its contact details. */
store_rc notices_prefs(app *ap, arena *a, const store_case *c, notice_prefs *out, bool *stated);

/* The notifications of event `event` (one of NOTICES_*) on case c of
 * service e, at stage `stage` (its code), with the public note `note` (may
 * be NULL), at time now, into the request's arena. *n may be 0. */
store_rc notices_build(http_req *req, const store_case *c, const app_service *e,
                       const notice_prefs *prefs, const char *event, const char *stage,
                       const char *note, int64_t now, store_notice **out, size_t *n);

/* Whom answers to an appeal are told to: the appeal's staff side, the
 * members of staff emailed (its officer, else the organisation's
 * administrators) and the organisation's webhook subscriptions. */
typedef struct notices_appeal {
    store_appeal_staff appeal;
    const store_user *staff;
    size_t n_staff;
    const store_webhook *hooks;
    size_t n_hooks;
} notices_appeal;

/* Reads whom answers to appeal `id` are told to, into the request's arena;
 * STORE_NOT_FOUND when it is a draft or there is no such appeal. */
store_rc notices_appeal_read(http_req *req, int64_t id, notices_appeal *out);

/* The notifications of the answer with `receipt` (anonymous or not) to that
 * appeal, given at now, into the request's arena; *n may be 0. */
store_rc notices_appeal_answer(http_req *req, const notices_appeal *to, const char *receipt,
                               bool anonymous, int64_t now, store_notice **out, size_t *n);

/* Wakes the delivery worker after n notifications were written. */
void notices_written(app *ap, size_t n);

/* Preferences as JSON (a new reference). */
json_t *notices_prefs_json(const notice_prefs *p, bool stated);

/* Reads a preferences object (the value of `field`) into out, strings in
 * the request's arena; false with a 400 written when it is not valid.
 * Members left out keep out's values. */
bool notices_prefs_read(http_req *req, http_res *res, const json_t *obj, const char *field,
                        notice_prefs *out);

/* The store's form of preferences, in the arena. */
store_prefs notices_prefs_store(arena *a, const notice_prefs *p, int64_t now);

#endif
