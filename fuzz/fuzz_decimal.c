/* fuzz_decimal.c - parse_decimal on arbitrary text, as the public log's query
 * parameters reach it: whatever it accepts must print back to exactly the
 * same text, and whatever it refuses leaves zero. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[64], back[32];
    uint64_t n = 1;

    if (size >= sizeof(in))
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    if (!parse_decimal(in, UINT64_MAX, &n)) {
        if (n != 0)
            abort();
        return 0;
    }
    snprintf(back, sizeof(back), "%" PRIu64, n);
    if (strcmp(back, in) != 0)
        abort();
    if (n > 0 && parse_decimal(in, n - 1, &n))
        abort();
    return 0;
}
