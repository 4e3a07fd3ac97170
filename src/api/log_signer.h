/* log_signer.h - signs the public log's checkpoints while the server runs.
 *
 * A thread of the server looks at the log's size every LOG_SIGNER_INTERVAL_MS
 * and, when entries have arrived since the checkpoint it last signed, signs
 * a new one (C2SP tlog-checkpoint in a signed note) and saves it, so a
 * checkpoint covers every entry within about a second of its commit; when
 * nothing changed, nothing is signed.
 *
 * Before signing it proves, from the stored hashes, that the new tree extends
 * the last one it signed (or, at start, the latest checkpoint saved, whose
 * signature it checks first): the root of the old size recomputed from the
 * store must equal the signed one, and an RFC 9162 consistency proof read
 * from the store must verify between the two roots. If either fails, the
 * stored log was rewritten: it logs an error and signs nothing more until
 * restarted, so a rewritten history never gets a valid signature.
 */
#ifndef OC_LOG_SIGNER_H
#define OC_LOG_SIGNER_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "tlog/note.h"

#define LOG_SIGNER_INTERVAL_MS 1000

typedef struct log_signer log_signer;

typedef enum {
    LOG_SIGNER_SIGNED,       /* a new checkpoint was saved */
    LOG_SIGNER_UNCHANGED,    /* nothing new to sign */
    LOG_SIGNER_RETRY,        /* the database failed; try again later */
    LOG_SIGNER_INCONSISTENT, /* the stored log does not extend what was signed: stopped */
} log_signer_rc;

/* A signer for store s with key k (copied). NULL when out of memory. */
log_signer *log_signer_new(store *s, const note_signer *k);
/* One look at the log, as the thread does each interval. Once it has
 * answered LOG_SIGNER_INCONSISTENT it always does. */
log_signer_rc log_signer_step(log_signer *g);
/* Runs steps on a thread of its own until log_signer_free. */
bool log_signer_start(log_signer *g);
/* Stops the thread, if started, and frees g (the key is wiped). */
void log_signer_free(log_signer *g);

#endif
