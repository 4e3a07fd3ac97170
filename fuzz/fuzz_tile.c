/* Fuzz target: tile paths and entry bundles, both read from outside.
 * A path that parses must format back to the same bytes; walking a bundle
 * must never read past its end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tile t;
    if (tile_parse_path((const char *)data, size, &t) == TILE_OK) {
        char again[TILE_PATH_MAX];
        if (tile_path(&t, again) != TILE_OK || strlen(again) != size ||
            memcmp(again, data, size) != 0)
            abort();
    }

    size_t pos = 0;
    const uint8_t *entry;
    size_t len;
    while (pos < size && tile_bundle_next(data, size, &pos, &entry, &len) == TILE_OK) {
        if (entry < data || entry + len > data + size)
            abort();
    }
    return 0;
}
