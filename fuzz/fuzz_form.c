/* fuzz_form.c - form_parse on arbitrary bytes: whatever it accepts must be
 * well-formed, and encoding the fields again must parse to the same fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Percent-encodes every byte that is not unreserved; returns the new length. */
static size_t encode(char *out, size_t at, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[at++] = (char)c;
        } else {
            out[at++] = '%';
            out[at++] = hex[c >> 4];
            out[at++] = hex[c & 15];
        }
    }
    return at;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    form f, g;
    char *enc = NULL;

    arena_init(&a);
    if (form_parse(&a, (const char *)data, size, &f) != 0) {
        if (f.n != 0)
            abort();
        goto out;
    }
    if (f.n > FORM_MAX_FIELDS)
        abort();
    /* Decoding never lengthens, so three bytes per input byte, plus '=' and
     * '&' for each field, always suffice for the re-encoding. */
    enc = malloc(3 * size + 2 * f.n + 1);
    if (!enc)
        goto out;
    size_t len = 0;
    for (size_t i = 0; i < f.n; i++) {
        const form_field *fl = &f.fields[i];
        if (fl->value[fl->value_len] != '\0' || form_get(&f, fl->key) == NULL)
            abort();
        if (i)
            enc[len++] = '&';
        len = encode(enc, len, fl->key, strlen(fl->key));
        enc[len++] = '=';
        len = encode(enc, len, fl->value, fl->value_len);
    }
    if (form_parse(&a, enc, len, &g) != 0 || g.n != f.n)
        abort();
    for (size_t i = 0; i < f.n; i++) {
        if (strcmp(f.fields[i].key, g.fields[i].key) != 0 ||
            f.fields[i].value_len != g.fields[i].value_len ||
            memcmp(f.fields[i].value, g.fields[i].value, f.fields[i].value_len) != 0)
            abort();
    }
out:
    free(enc);
    arena_free(&a);
    return 0;
}
