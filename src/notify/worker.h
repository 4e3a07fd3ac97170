/* worker.h - the delivery worker: threads that empty the outbox.
 *
 * Each thread claims a batch of due notifications from each configured
 * channel in turn (store_notice_claim leases them, so several threads and several
 * instances on one database never take the same row at once), sends them
 * one by one (notify/send.h) and records each attempt's outcome. A failed
 * attempt is retried after an exponential back-off with jitter, up to the
 * configured number of attempts; then the notification is failed, with the
 * last reason, for administrators to see. A worker killed mid-batch leaves
 * its lease to expire, after which the batch is sent again: at least once.
 *
 * Idle threads look for work every poll interval, or at once when woken
 * after this instance wrote a notification.
 */
#ifndef OC_NOTIFY_WORKER_H
#define OC_NOTIFY_WORKER_H

#include <stdint.h>

#include "notify/config.h"
#include "store/store.h"

typedef struct notify_worker notify_worker;

/* Starts c->workers threads on s (which must outlive the worker); NULL on
 * failure or when c->workers is 0. `c` is borrowed until the stop. */
notify_worker *notify_worker_start(store *s, const notify_config *c);

/* Tells idle threads that a notification was written. NULL is allowed. */
void notify_worker_wake(notify_worker *w);

/* Stops: each thread finishes the attempt it is making (bounded by the
 * timeout); what it had claimed and not sent waits for the lease to end. */
void notify_worker_stop(notify_worker *w);

/* The delay before retry number `attempt` (1 for the first retry), in
 * milliseconds: base * 2^(attempt-1), capped, then drawn uniformly from its
 * upper half (`random` in [0, 1)). */
int64_t notify_backoff_ms(const notify_config *c, int attempt, double random);

#endif
