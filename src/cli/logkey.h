/* logkey.h - the file holding the public log's signing key.
 *
 * `opencase init` creates it; the server reads it to sign checkpoints;
 * `opencase log key` prints the verifier key that anyone checks them with.
 * The file holds one line, the signer key in note form
 * ("PRIVATE+KEY+name+hex8+base64", tlog/note.h). The key's name is the log's
 * origin, the first line of every checkpoint, fixed when the key is made.
 *
 * The file is created readable and writable by its owner only (0600), and
 * refused when the group or others may read it, so a key that leaked through
 * careless permissions is not used.
 */
#ifndef OC_LOGKEY_H
#define OC_LOGKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "tlog/note.h"

#define LOGKEY_PATH_MAX 4096

/* The key file's path when none is set: beside an SQLite database
 * ("<db>.logkey"). False for a PostgreSQL URI, which has no "beside" (the
 * key must then be named), and when the path does not fit. */
bool logkey_default_path(const char *db, char *out, size_t len);

/* The default origin for a server listening on `host`: "<host>/log", with
 * the machine's name for a wildcard or empty host. */
void logkey_default_origin(const char *host, char *out, size_t len);

typedef enum {
    LOGKEY_OK,
    LOGKEY_EXISTS,  /* logkey_create: a key file is already there; it was kept */
    LOGKEY_MISSING, /* logkey_load: no file at the path */
    LOGKEY_EXPOSED, /* logkey_load: the group or others may read the file */
    LOGKEY_INVALID, /* not a key file, or an invalid origin */
    LOGKEY_IO,      /* the file could not be read or written */
} logkey_rc;

/* Creates a key named `origin` at path, unless a file is already there. */
logkey_rc logkey_create(const char *path, const char *origin, char *err, size_t errlen);

/* Reads the signer key at path into *out (wipe it with note_signer_wipe). */
logkey_rc logkey_load(const char *path, note_signer *out, char *err, size_t errlen);

#endif
