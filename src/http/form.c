/* form.c - decoding application/x-www-form-urlencoded data; see form.h.
 *
 * Pairs are separated by '&' and split at their first '='; a pair without
 * '=' is a key with an empty value, and empty pairs ("a=1&&b=2") are skipped
 * as browsers produce them. A decoded NUL in a key is refused because keys
 * are compared as C strings.
 */
#include "http/form.h"

#include <stdbool.h>
#include <string.h>

static int form_hex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes `len` bytes of `s` into a new NUL-terminated arena string and its
 * decoded length. NULL when an escape is malformed or memory runs out. */
static char *form_decode(arena *a, const char *s, size_t len, size_t *out_len)
{
    char *out = arena_alloc(a, len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            out[o++] = ' ';
        } else if (c == '%') {
            if (len - i < 3)
                return NULL;
            int hi = form_hex((unsigned char)s[i + 1]);
            int lo = form_hex((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

int form_parse(arena *a, const char *data, size_t len, form *out)
{
    size_t pos = 0;

    out->n = 0;
    while (pos < len) {
        const char *pair = data + pos;
        const char *amp = memchr(pair, '&', len - pos);
        size_t pair_len = amp ? (size_t)(amp - pair) : len - pos;
        pos += pair_len + 1;
        if (pair_len == 0)
            continue;
        if (out->n == FORM_MAX_FIELDS)
            goto fail;

        const char *eq = memchr(pair, '=', pair_len);
        size_t key_len = eq ? (size_t)(eq - pair) : pair_len;
        size_t key_decoded, value_len = 0;
        char *key = form_decode(a, pair, key_len, &key_decoded);
        char *value = eq ? form_decode(a, eq + 1, pair_len - key_len - 1, &value_len)
                         : arena_strndup(a, "", 0);
        if (!key || !value || strlen(key) != key_decoded)
            goto fail;
        out->fields[out->n].key = key;
        out->fields[out->n].value = value;
        out->fields[out->n].value_len = value_len;
        out->n++;
    }
    return 0;

fail:
    out->n = 0;
    return -1;
}

const char *form_get(const form *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->fields[i].key, key) == 0)
            return f->fields[i].value;
    }
    return NULL;
}
