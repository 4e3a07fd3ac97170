/* buf.h - an owned, capped, growable byte buffer with a sticky error flag.
 *
 * Used to build response bodies and pages. Appends never overflow: once the
 * cap is reached or an allocation fails, the buffer stops growing, sets
 * `failed`, and later appends do nothing, so callers check once at the end.
 * The buffer owns `data` (heap memory) until buf_free or buf_steal.
 */
#ifndef OC_BUF_H
#define OC_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct buf {
    char *data; /* always NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    size_t max;
    bool failed;
} buf;

void buf_init(buf *b, size_t max);
void buf_free(buf *b);
/* Hands ownership of the bytes to the caller (free with free()); the buffer is emptied. */
char *buf_steal(buf *b, size_t *len);
void buf_reset(buf *b);

bool buf_append_slow(buf *b, const void *data, size_t n);

/* Appends are on every response's hot path: the common case, room to spare,
 * is inline; growing and failing are not. */
static inline bool buf_append(buf *b, const void *data, size_t n)
{
    if (!b->failed && b->cap - b->len > n) {
        if (n)
            memcpy(b->data + b->len, data, n);
        b->len += n;
        b->data[b->len] = '\0';
        return true;
    }
    return buf_append_slow(b, data, n);
}

static inline bool buf_putc(buf *b, char c)
{
    return buf_append(b, &c, 1);
}

static inline bool buf_puts(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

bool buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` escaped for HTML text and attribute values. */
bool buf_put_html(buf *b, const char *s);

#endif
