/* background.h - the work a server does that no request triggers.
 *
 * - On a store that queues log entries (store_log_queues: PostgreSQL), the
 *   log's sequencer: store_log_sequence every BACKGROUND_SEQUENCE_MS, and at
 *   once again after a full batch (STORE_LOG_BATCH), so an entry is in
 *   the log within a fraction of a second of its change's commit and in a
 *   signed checkpoint within about a second. Every instance runs one; the
 *   store's lock lets one sequence at a time, and a failed run leaves the
 *   queue as it was, to be tried again.
 * - The duty sweeper: store_duty_sweep every BACKGROUND_SWEEP_MS at the
 *   application's clock (app_now), so a duty that falls due unmet is in the
 *   public log as missed within a few seconds. Every instance runs one; the
 *   store logs each duty once.
 *
 * Each runs on its own thread (util/ticker.h) with its own connection.
 */
#ifndef OC_BACKGROUND_H
#define OC_BACKGROUND_H

#include "store/store.h"

#define BACKGROUND_SEQUENCE_MS 50
#define BACKGROUND_SWEEP_MS 2000
/* The most duties one sweep logs; a longer backlog takes more sweeps, run
 * back to back. */
#define BACKGROUND_SWEEP_BATCH 256
/* The store connections the threads use. */
#define BACKGROUND_CONNECTIONS 2

typedef struct background background;

/* Starts the threads on s, which must outlive them. NULL when one cannot be
 * started (none is left running). */
background *background_start(store *s);
/* Stops the threads and frees b; NULL is allowed. */
void background_stop(background *b);

#endif
