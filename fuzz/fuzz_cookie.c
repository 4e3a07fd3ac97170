/* Fuzz target: the Cookie header parser. Whatever it returns must be a copy
 * of bytes that stood after "name=" in the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header = malloc(size + 1);
    if (!header)
        return 0;
    memcpy(header, data, size);
    header[size] = '\0';
    arena a;
    arena_init(&a);
    const char *v = http_cookie_get(&a, header, "opencase_session");
    if (v && !strstr(header, v))
        abort();
    arena_free(&a);
    free(header);
    return 0;
}
