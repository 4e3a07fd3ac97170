/* fuzz_datetime.c - parse_datetime on arbitrary text: whatever it accepts
 * must format and parse back to the same instant, and its date part must
 * parse to the midnight before it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[128], text[32], again[32], date[16];
    long long t, back, day;

    if (size >= sizeof(in))
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    if (!parse_datetime(in, &t)) {
        if (t != 0)
            abort();
        return 0;
    }
    format_datetime(t, text, sizeof(text));
    if (strlen(text) != 20 || !parse_datetime(text, &back) || back != t)
        abort();
    format_datetime(back, again, sizeof(again));
    if (strcmp(text, again) != 0)
        abort();
    format_date(t, date, sizeof(date));
    if (strlen(date) != 10 || memcmp(date, text, 10) != 0 || !parse_datetime(date, &day) ||
        day > t || t - day >= 86400)
        abort();
    return 0;
}
