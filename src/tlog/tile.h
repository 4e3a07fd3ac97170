/* tile.h - the log as static tiles (C2SP tlog-tiles).
 *
 * The log serves its Merkle tree as immutable files: tile (L, N) holds the
 * hashes of up to 256 consecutive complete subtrees of 256^L leaves each, so
 * a level-0 tile holds leaf hashes and every level above holds the hashes of
 * full tiles below. Entry bundles hold the entries of the matching level-0
 * tile. Paths, relative to the log's URL prefix:
 *
 *     tile/<L>/<N>[.p/<W>]        tile/entries/<N>[.p/<W>]
 *
 * with N written in three-digit groups, all but the last prefixed "x"
 * (1234067 is x001/x234/067), and ".p/<W>" marking a partial tile of W
 * hashes (1 to 255). Pure computation: no I/O; the hashes come through a
 * merkle_reader. After TILE_EREAD or TILE_ESPACE an output buf may hold a
 * partial tile, which the caller discards.
 */
#ifndef OC_TILE_H
#define OC_TILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlog/merkle.h"
#include "util/buf.h"

#define TILE_HEIGHT 8
#define TILE_WIDTH 256 /* hashes in a full tile */
#define TILE_LEVEL_MAX 63
/* Levels that can hold a hash for some tree size below 2^64. */
#define TILE_LEVELS ((64 + TILE_HEIGHT - 1) / TILE_HEIGHT)
/* "tile/entries/" or "tile/63/", seven groups for a 64-bit N, ".p/255", NUL. */
#define TILE_PATH_MAX 64
#define TILE_ENTRY_MAX 65535 /* bytes in one bundled entry */

typedef enum {
    TILE_OK = 0,
    TILE_EINVAL, /* not a canonical tile path, or a tile that cannot exist */
    TILE_EREAD,  /* the hash reader failed */
    TILE_ESPACE, /* output too small, or out of memory */
} tile_rc;

typedef struct tile {
    bool entries;   /* an entry bundle rather than a hash tile; level is 0 */
    unsigned level; /* 0..TILE_LEVEL_MAX */
    uint64_t index;
    unsigned width; /* 1..TILE_WIDTH; TILE_WIDTH is a full tile */
} tile;

/* Writes t's path and a NUL into out. */
tile_rc tile_path(const tile *t, char out[TILE_PATH_MAX]);
/* Parses a request path such as "tile/0/x001/234.p/7", rejecting every
 * non-canonical spelling (leading zeros, empty or extra groups, width 0 or
 * 256 after ".p/"). */
tile_rc tile_parse_path(const char *path, size_t len, tile *out);

/* Width of tile (level, index) in the tree of `size` leaves: 256 when full,
 * 1..255 when partial, 0 when the tree has no such tile. */
unsigned tile_width(uint64_t size, unsigned level, uint64_t index);
/* Number of tiles, full and partial, at `level` in the tree of `size` leaves
 * (the last may be partial). Entry bundles match level 0. */
uint64_t tile_count(uint64_t size, unsigned level);
/* Number of levels holding at least one tile (0 for the empty tree). */
unsigned tile_levels(uint64_t size);

/* Appends the bytes of hash tile t: its width's hashes, 32 bytes each, read
 * through r. The reader must hold every complete subtree the tile covers. */
tile_rc tile_hashes(const merkle_reader *r, const tile *t, buf *out);

/* Entry bundles: each entry as a big-endian uint16 length, then its bytes. */
tile_rc tile_bundle_append(buf *out, const void *entry, size_t len);
/* Reads the entry at *pos (< len) and advances past it; the entry points
 * into the bundle. TILE_EINVAL if the bundle ends inside the entry. */
tile_rc tile_bundle_next(const void *bundle, size_t len, size_t *pos, const uint8_t **entry,
                         size_t *entry_len);

#endif
