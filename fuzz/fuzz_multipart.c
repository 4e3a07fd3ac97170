/* fuzz_multipart.c - form_parse_multipart on arbitrary bytes, the first line
 * being the Content-Type header: whatever it accepts must be well-formed
 * fields, and a refusal leaves no field behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    form f;
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    size_t ct_len = nl ? (size_t)(nl - text) : size;

    arena_init(&a);
    char *ct = arena_strndup(&a, text, ct_len);
    const char *body = nl ? nl + 1 : text + size;
    size_t body_len = size - (size_t)(body - text);
    if (!ct)
        goto out;
    if (form_parse_multipart(&a, ct, body, body_len, &f) != 0) {
        if (f.n != 0)
            abort();
        goto out;
    }
    if (f.n > FORM_MAX_FIELDS)
        abort();
    for (size_t i = 0; i < f.n; i++) {
        const form_field *fl = &f.fields[i];
        if (!fl->key || !fl->value || fl->value[fl->value_len] != '\0' ||
            fl->value_len > body_len || form_get(&f, fl->key) == NULL)
            abort();
    }
out:
    arena_free(&a);
    return 0;
}
