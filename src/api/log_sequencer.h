/* log_sequencer.h - gives the public log's queued entries their indexes while
 * the server runs.
 *
 * On a store that queues log entries (store_log_queues: PostgreSQL), a thread
 * of the server calls store_log_sequence every LOG_SEQUENCER_INTERVAL_MS, and
 * at once again after a batch while entries keep coming, so an entry is in
 * the log within a fraction of a second of its change's commit and in a
 * signed checkpoint within about a second. Every instance runs one; the
 * store's lock lets one sequence at a time, and a failed run leaves the queue
 * as it was, to be tried again.
 */
#ifndef OC_LOG_SEQUENCER_H
#define OC_LOG_SEQUENCER_H

#include <stdbool.h>

#include "store/store.h"

#define LOG_SEQUENCER_INTERVAL_MS 50

typedef struct log_sequencer log_sequencer;

/* Starts the thread on s, which must outlive it. NULL when it cannot. */
log_sequencer *log_sequencer_start(store *s);
/* Stops the thread and frees q; NULL is allowed. */
void log_sequencer_stop(log_sequencer *q);

#endif
