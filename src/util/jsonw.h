/* jsonw.h - a streaming JSON writer into a buf, escaping by construction.
 *
 * Most responses are built as jansson trees. The public tracking response is
 * the hottest path in the server, and building and dumping a tree costs more
 * than everything else in that request together; this writer produces the
 * same JSON straight into the response buffer. Commas are placed by the
 * writer; every string, key or value, is escaped. Nesting is capped at
 * JSONW_MAX_DEPTH; misuse (too deep, or unbalanced) marks the buffer failed.
 */
#ifndef OC_JSONW_H
#define OC_JSONW_H

#include <stdbool.h>

#include "util/buf.h"

#define JSONW_MAX_DEPTH 32

typedef struct jsonw {
    buf *b;
    int depth;
    bool after_key;
    bool has_items[JSONW_MAX_DEPTH];
} jsonw;

void jw_init(jsonw *w, buf *b);
void jw_object_begin(jsonw *w);
void jw_object_end(jsonw *w);
void jw_array_begin(jsonw *w);
void jw_array_end(jsonw *w);
void jw_key(jsonw *w, const char *key);
/* A string, or null for NULL. */
void jw_string(jsonw *w, const char *s);
void jw_int(jsonw *w, long long n);
void jw_bool(jsonw *w, bool v);
void jw_null(jsonw *w);
/* A number already written in JSON's syntax ("51.5074"), copied as it is:
 * for decimals that must not pass through a binary double. */
void jw_number(jsonw *w, const char *literal);
/* True when the writer produced one complete, balanced value. */
bool jw_finish(jsonw *w);

#endif
