/* fuzz_template.c - notice_template_check and notice_render on arbitrary
 * text: they agree on what is a template, a rejected placeholder is named
 * from the input, and rendering never writes past its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/notice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char bad[64];
    bool unknown = false;
    bool valid = notice_template_check(text, bad, sizeof(bad), &unknown);
    if (unknown && (valid || (*bad && !strstr(text, bad))))
        abort();
    notice_values v = {.reference = "K7QM-2XPD-C", .stage = "{stage}", .note = "}{"};
    buf b;
    buf_init(&b, 4096);
    bool rendered = notice_render(text, &v, &b);
    if (rendered && !valid)
        abort();
    if (valid && !rendered && !b.failed)
        abort();
    if (b.len > 4096)
        abort();
    buf_free(&b);

    unsigned channels;
    char name[16];
    if (notice_channels_parse(text, &channels, name, sizeof(name))) {
        char again[64];
        unsigned back;
        notice_channels_format(channels, again, sizeof(again));
        if (!notice_channels_parse(again, &back, NULL, 0) || back != channels)
            abort();
    }
    free(text);
    return 0;
}
