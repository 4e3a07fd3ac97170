/* form.h - application/x-www-form-urlencoded bodies and query strings, and
 * multipart/form-data bodies.
 *
 * Decodes '+' and %XX; a malformed escape makes the whole input invalid
 * rather than passing a half-decoded value on. Keys may repeat; order is kept.
 * Results live in the arena.
 */
#ifndef OC_FORM_H
#define OC_FORM_H

#include <stddef.h>

#include "util/arena.h"

#define FORM_MAX_FIELDS 64

typedef struct form_field {
    const char *key;
    const char *value;
    size_t value_len; /* values may hold decoded NUL bytes; validators reject them */
} form_field;

typedef struct form {
    form_field fields[FORM_MAX_FIELDS];
    size_t n;
} form;

/* Returns 0, or -1 when the input is malformed, has more than
 * FORM_MAX_FIELDS fields, or memory runs out. */
int form_parse(arena *a, const char *data, size_t len, form *out);

/* A multipart/form-data body, its boundary read from `content_type` (the
 * Content-Type header). Each part with a name becomes a field; parts that
 * carry a file (a filename) are skipped, since files are not kept. Line
 * breaks may be CRLF or LF. Same results as form_parse. */
int form_parse_multipart(arena *a, const char *content_type, const char *data, size_t len,
                         form *out);

/* The first value for `key`, or NULL. */
const char *form_get(const form *f, const char *key);

#endif
