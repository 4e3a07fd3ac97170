/* fuzz_ref.c - ref_parse on arbitrary bytes: whatever it accepts must format
 * to a canonical reference that parses back to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t v = 1, back = 1;
    char text[REF_TEXT_LEN + 1];

    ref_rc rc = ref_parse((const char *)data, size, &v);
    if (!ref_error_message(rc))
        abort();
    if (rc != REF_OK) {
        if (v != 0)
            abort();
        return 0;
    }
    if (v > REF_VALUE_MAX)
        abort();
    ref_format(v, text);
    if (strlen(text) != REF_TEXT_LEN || ref_parse(text, REF_TEXT_LEN, &back) != REF_OK || back != v)
        abort();
    return 0;
}
