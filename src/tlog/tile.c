/* tile.c - tile paths, tile widths for a tree size, hash tiles and entry
 * bundles, per C2SP tlog-tiles with tiles of height 8.
 *
 * A path has exactly one spelling: tile_parse_path accepts only what
 * tile_path writes, so a cache or file system keyed on the path never holds
 * one tile twice.
 */
#include "tlog/tile.h"

#include <stdio.h>
#include <string.h>

/* Number of complete subtrees of 256^level leaves in a tree of `size`. */
static uint64_t level_count(uint64_t size, unsigned level)
{
    return level < TILE_LEVELS ? size >> (TILE_HEIGHT * level) : 0;
}

unsigned tile_width(uint64_t size, unsigned level, uint64_t index)
{
    uint64_t count = level_count(size, level), full = count / TILE_WIDTH;

    if (index < full)
        return TILE_WIDTH;
    if (index == full)
        return (unsigned)(count % TILE_WIDTH);
    return 0;
}

uint64_t tile_count(uint64_t size, unsigned level)
{
    uint64_t count = level_count(size, level);
    return count / TILE_WIDTH + (count % TILE_WIDTH != 0);
}

unsigned tile_levels(uint64_t size)
{
    unsigned n = 0;
    while (n < TILE_LEVELS && level_count(size, n) > 0)
        n++;
    return n;
}

tile_rc tile_path(const tile *t, char out[TILE_PATH_MAX])
{
    size_t at;
    uint64_t scale = 1;

    out[0] = '\0';
    if (t->level > TILE_LEVEL_MAX || (t->entries && t->level != 0) || t->width == 0 ||
        t->width > TILE_WIDTH)
        return TILE_EINVAL;
    if (t->entries)
        at = (size_t)snprintf(out, TILE_PATH_MAX, "tile/entries/");
    else
        at = (size_t)snprintf(out, TILE_PATH_MAX, "tile/%u/", t->level);

    /* Three-digit groups from the most significant; all but the last "x". */
    while (t->index / scale >= 1000)
        scale *= 1000;
    for (; scale > 1; scale /= 1000)
        at += (size_t)snprintf(out + at, TILE_PATH_MAX - at, "x%03u/",
                               (unsigned)(t->index / scale % 1000));
    at += (size_t)snprintf(out + at, TILE_PATH_MAX - at, "%03u", (unsigned)(t->index % 1000));
    if (t->width < TILE_WIDTH)
        snprintf(out + at, TILE_PATH_MAX - at, ".p/%u", t->width);
    return TILE_OK;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A decimal in [1, max] without leading zeros, or "0" when zero_ok. */
static bool parse_small(const char *s, size_t len, unsigned max, bool zero_ok, unsigned *out)
{
    unsigned v = 0;

    if (len == 0 || len > 3 || (s[0] == '0' && (len > 1 || !zero_ok)))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

tile_rc tile_parse_path(const char *path, size_t len, tile *out)
{
    const char *p = path, *end = path + len;
    tile t = {false, 0, 0, TILE_WIDTH};

    memset(out, 0, sizeof(*out));
    if (len < 5 || memcmp(p, "tile/", 5) != 0)
        return TILE_EINVAL;
    p += 5;
    if ((size_t)(end - p) >= 8 && memcmp(p, "entries/", 8) == 0) {
        t.entries = true;
        p += 8;
    } else {
        const char *slash = p;
        while (slash < end && *slash != '/')
            slash++;
        if (slash == end || !parse_small(p, (size_t)(slash - p), TILE_LEVEL_MAX, true, &t.level))
            return TILE_EINVAL;
        p = slash + 1;
    }

    /* Groups "xDDD/" and then a last "DDD"; the first group of several must
     * not be zero, or the index would have two spellings. */
    for (int groups = 0;; groups++) {
        bool more = p < end && *p == 'x';
        if (more)
            p++;
        if (end - p < 3 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]))
            return TILE_EINVAL;
        unsigned g = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
        p += 3;
        if (groups == 0 && more && g == 0)
            return TILE_EINVAL;
        if (t.index > (UINT64_MAX - g) / 1000)
            return TILE_EINVAL;
        t.index = t.index * 1000 + g;
        if (!more)
            break;
        if (p == end || *p != '/')
            return TILE_EINVAL;
        p++;
    }

    if (p != end) {
        if (end - p < 4 || memcmp(p, ".p/", 3) != 0 ||
            !parse_small(p + 3, (size_t)(end - p - 3), TILE_WIDTH - 1, false, &t.width))
            return TILE_EINVAL;
    }
    *out = t;
    return TILE_OK;
}

tile_rc tile_hashes(const merkle_reader *r, const tile *t, buf *out)
{
    if (t->entries || t->level >= TILE_LEVELS || t->width == 0 || t->width > TILE_WIDTH)
        return TILE_EINVAL;
    unsigned level = TILE_HEIGHT * t->level;
    /* Every hash must be a complete subtree of some tree below 2^64 leaves. */
    uint64_t most = UINT64_MAX >> level;
    if (t->width > most || t->index > (most - t->width) / TILE_WIDTH)
        return TILE_EINVAL;

    uint64_t first = t->index * TILE_WIDTH;
    for (unsigned i = 0; i < t->width; i++) {
        merkle_hash h;
        if (r->hash_at(r->ctx, level, first + i, &h) != 0)
            return TILE_EREAD;
        buf_append(out, h.b, sizeof(h.b));
    }
    return out->failed ? TILE_ESPACE : TILE_OK;
}

tile_rc tile_bundle_append(buf *out, const void *entry, size_t len)
{
    if (len > TILE_ENTRY_MAX)
        return TILE_EINVAL;
    unsigned char prefix[2] = {(unsigned char)(len >> 8), (unsigned char)len};
    buf_append(out, prefix, sizeof(prefix));
    buf_append(out, entry, len);
    return out->failed ? TILE_ESPACE : TILE_OK;
}

tile_rc tile_bundle_next(const void *bundle, size_t len, size_t *pos, const uint8_t **entry,
                         size_t *entry_len)
{
    const uint8_t *b = bundle;
    size_t at = *pos;

    *entry = NULL;
    *entry_len = 0;
    if (at >= len || len - at < 2)
        return TILE_EINVAL;
    size_t n = (size_t)b[at] << 8 | b[at + 1];
    if (len - at - 2 < n)
        return TILE_EINVAL;
    *entry = b + at + 2;
    *entry_len = n;
    *pos = at + 2 + n;
    return TILE_OK;
}
