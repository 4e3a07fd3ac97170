/* logverify.h - `opencase log verify`: checks the public log against itself.
 *
 * Reads the latest checkpoint and checks its signature with the log's key;
 * recomputes every stored hash (the hashes the tiles are made of) from the
 * entries, in one pass, and compares; checks that the checkpoint's root is
 * the root of the entries; then checks a random sample of inclusion proofs
 * and of consistency proofs between earlier saved checkpoints and the latest,
 * as the server serves them, against roots computed from the entries.
 */
#ifndef OC_LOGVERIFY_H
#define OC_LOGVERIFY_H

#include <stdio.h>

#include "store/store.h"
#include "tlog/note.h"

/* Prints what was checked to out, and each failure to err. Returns 0 when
 * everything verified, 1 on the first mismatch (or a database failure). */
int log_verify(store *s, const note_verifier *key, FILE *out, FILE *err);

#endif
