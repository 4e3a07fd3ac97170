/* test_tile.c - tlog-tiles: the spec's path and width examples, paths that
 * have exactly one spelling, hash tiles whose upper levels are the tree
 * hashes of the full tiles below, and entry bundles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "testrng.h"

#include "tlog/tile.h"

static testrng rng = {0x3C6EF372FE94F82Bu};

static void assert_path(tile t, const char *want)
{
    char out[TILE_PATH_MAX];
    tile back;

    assert_int_equal(tile_path(&t, out), TILE_OK);
    assert_string_equal(out, want);
    assert_int_equal(tile_parse_path(want, strlen(want), &back), TILE_OK);
    assert_int_equal(back.entries, t.entries);
    assert_int_equal(back.level, t.level);
    assert_int_equal(back.index, t.index);
    assert_int_equal(back.width, t.width);
}

static void test_spec_paths(void **state)
{
    (void)state;
    assert_path((tile){false, 0, 1234067, 256}, "tile/0/x001/x234/067");
    assert_path((tile){false, 1, 1234067, 17}, "tile/1/x001/x234/067.p/17");
    assert_path((tile){true, 0, 1234067, 256}, "tile/entries/x001/x234/067");
    assert_path((tile){true, 0, 1234067, 255}, "tile/entries/x001/x234/067.p/255");
    assert_path((tile){false, 0, 0, 256}, "tile/0/000");
    assert_path((tile){false, 2, 0, 1}, "tile/2/000.p/1");
    assert_path((tile){false, 0, 5, 256}, "tile/0/005");
    assert_path((tile){false, 0, 999, 256}, "tile/0/999");
    assert_path((tile){false, 0, 1000, 256}, "tile/0/x001/000");
    assert_path((tile){false, 10, 67000, 256}, "tile/10/x067/000");
    assert_path((tile){false, 63, 1000000, 99}, "tile/63/x001/x000/000.p/99");
    assert_path((tile){false, 7, UINT64_MAX, 256}, "tile/7/x018/x446/x744/x073/x709/x551/615");
    assert_path((tile){true, 0, UINT64_MAX, 255},
                "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255");
}

static void test_path_rejections(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "tile",
        "tile/",
        "tile/0",
        "tile/0/",
        "Tile/0/000",
        "/tile/0/000",
        "tile//000",
        "tile/0//000",
        "tile/0/0",
        "tile/0/00",
        "tile/0/0000",
        "tile/0/1",
        "tile/0/01",
        "tile/0/x000/001",
        "tile/0/x000/000",
        "tile/0/x001",
        "tile/0/x001/",
        "tile/0/001/",
        "tile/0/x001/x002",
        "tile/0/x1/001",
        "tile/0/X001/001",
        "tile/0/x001/01",
        "tile/0/0a1",
        "tile/0/00 1",
        "tile/0/001 ",
        "tile/0/001\n",
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/100/000",
        "tile/-1/000",
        "tile/+1/000",
        "tile/a/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/010",
        "tile/0/000.p/00",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.",
        "tile/0/000.q/5",
        "tile/0/000.p/5/",
        "tile/0/000.p/1000",
        "tile/0/000.p/-1",
        "tile/0/000/.p/5",
        "tile/entries/0/000",
        "tile/entry/000",
        "tile/entries//000",
        "tile/entries/",
        "tile/data/000",
        /* Past 64 bits, with or without a zero group in front. */
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "tile/0/x100/x000/x000/x000/x000/x000/000",
        "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
    };
    tile t;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t.width = 77;
        assert_int_equal(tile_parse_path(bad[i], strlen(bad[i]), &t), TILE_EINVAL);
        assert_int_equal(t.width, 0);
    }
    /* Length, not NUL, ends the path. */
    assert_int_equal(tile_parse_path("tile/0/0001", 10, &t), TILE_OK);
    assert_int_equal(t.index, 0);

    char out[TILE_PATH_MAX] = "unchanged";
    assert_int_equal(tile_path(&(tile){false, 64, 0, 256}, out), TILE_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(tile_path(&(tile){false, 0, 0, 0}, out), TILE_EINVAL);
    assert_int_equal(tile_path(&(tile){false, 0, 0, 257}, out), TILE_EINVAL);
    assert_int_equal(tile_path(&(tile){true, 1, 0, 256}, out), TILE_EINVAL);
}

static uint64_t random_index(void)
{
    unsigned bits = (unsigned)(testrng_next(&rng) % 65);
    uint64_t v = testrng_next(&rng);
    return bits == 64 ? v : v & ((UINT64_C(1) << bits) - 1);
}

static void test_path_round_trips(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        tile t = {testrng_next(&rng) % 4 == 0, 0, random_index(),
                  1 + (unsigned)(testrng_next(&rng) % 256)};
        if (!t.entries)
            t.level = (unsigned)(testrng_next(&rng) % 64);
        if (testrng_next(&rng) % 2)
            t.width = 256;
        char out[TILE_PATH_MAX], again[TILE_PATH_MAX];
        tile back;
        assert_int_equal(tile_path(&t, out), TILE_OK);
        assert_true(strlen(out) < TILE_PATH_MAX);
        assert_int_equal(tile_parse_path(out, strlen(out), &back), TILE_OK);
        assert_int_equal(back.entries, t.entries);
        assert_int_equal(back.level, t.level);
        assert_int_equal(back.index, t.index);
        assert_int_equal(back.width, t.width);

        /* Any one-character change that still parses must be the canonical
         * spelling of what it parses to. */
        size_t len = strlen(out);
        size_t at = (size_t)(testrng_next(&rng) % len);
        const char alphabet[] = "0123456789x/.ptile";
        out[at] = alphabet[testrng_next(&rng) % (sizeof(alphabet) - 1)];
        size_t cut = testrng_next(&rng) % 3 == 0 ? (size_t)(testrng_next(&rng) % len) : len;
        if (tile_parse_path(out, cut, &back) == TILE_OK) {
            assert_int_equal(tile_path(&back, again), TILE_OK);
            assert_int_equal(strlen(again), cut);
            assert_memory_equal(again, out, cut);
        }
    }
}

static void test_widths(void **state)
{
    (void)state;
    /* The spec's example: 70,000 entries. */
    assert_int_equal(tile_levels(70000), 3);
    assert_int_equal(tile_count(70000, 0), 274);
    assert_int_equal(tile_width(70000, 0, 272), 256);
    assert_int_equal(tile_width(70000, 0, 273), 112);
    assert_int_equal(tile_width(70000, 0, 274), 0);
    assert_int_equal(tile_count(70000, 1), 2);
    assert_int_equal(tile_width(70000, 1, 0), 256);
    assert_int_equal(tile_width(70000, 1, 1), 17);
    assert_int_equal(tile_count(70000, 2), 1);
    assert_int_equal(tile_width(70000, 2, 0), 1);
    assert_int_equal(tile_count(70000, 3), 0);

    /* And "a tree of size 256": a full level 0 tile, level 1 of width 1. */
    assert_int_equal(tile_levels(256), 2);
    assert_int_equal(tile_width(256, 0, 0), 256);
    assert_int_equal(tile_width(256, 0, 1), 0);
    assert_int_equal(tile_width(256, 1, 0), 1);

    assert_int_equal(tile_levels(0), 0);
    assert_int_equal(tile_count(0, 0), 0);
    assert_int_equal(tile_width(0, 0, 0), 0);
    assert_int_equal(tile_levels(1), 1);
    assert_int_equal(tile_width(1, 0, 0), 1);
    assert_int_equal(tile_levels(255), 1);
    assert_int_equal(tile_width(255, 0, 0), 255);
    assert_int_equal(tile_width(255, 1, 0), 0);
    assert_int_equal(tile_width(257, 0, 1), 1);
    assert_int_equal(tile_width(257, 1, 0), 1);
    assert_int_equal(tile_count(257, 0), 2);

    assert_int_equal(tile_levels(65535), 2);
    assert_int_equal(tile_count(65535, 0), 256);
    assert_int_equal(tile_width(65535, 0, 254), 256);
    assert_int_equal(tile_width(65535, 0, 255), 255);
    assert_int_equal(tile_width(65535, 1, 0), 255);
    assert_int_equal(tile_levels(65536), 3);
    assert_int_equal(tile_width(65536, 0, 255), 256);
    assert_int_equal(tile_width(65536, 0, 256), 0);
    assert_int_equal(tile_width(65536, 1, 0), 256);
    assert_int_equal(tile_width(65536, 1, 1), 0);
    assert_int_equal(tile_width(65536, 2, 0), 1);
    assert_int_equal(tile_width(65537, 0, 256), 1);
    assert_int_equal(tile_width(65537, 1, 0), 256);

    assert_int_equal(tile_levels(UINT64_MAX), TILE_LEVELS);
    assert_int_equal(tile_width(UINT64_MAX, 7, 0), 255);
    assert_int_equal(tile_width(UINT64_MAX, 8, 0), 0);
    assert_int_equal(tile_width(UINT64_MAX, 63, 0), 0);
    assert_int_equal(tile_count(UINT64_MAX, 0), (UINT64_MAX >> 8) + 1);
    assert_int_equal(tile_width(UINT64_MAX, 0, UINT64_MAX >> 8), 255);

    /* Every level's widths add up to the hashes the level holds. */
    const uint64_t sizes[] = {1,     2,     255,   256,   257,      511,      512,
                              65535, 65536, 65537, 70000, 16777216, 16777217, 123456789};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint64_t n = sizes[k];
        for (unsigned level = 0; level < TILE_LEVELS + 2; level++) {
            uint64_t sum = 0, count = tile_count(n, level);
            for (uint64_t i = 0; i < count; i++) {
                unsigned w = tile_width(n, level, i);
                assert_true(w >= 1 && w <= TILE_WIDTH);
                assert_true(w == TILE_WIDTH || i == count - 1);
                sum += w;
            }
            assert_int_equal(tile_width(n, level, count), 0);
            assert_int_equal(sum, level < TILE_LEVELS ? n >> (8 * level) : 0);
            assert_int_equal(count > 0, level < tile_levels(n));
        }
    }
}

/* Complete subtree hashes of a real tree, level by level. */
typedef struct store {
    merkle_hash *level[20];
    uint64_t count[20];
    int fail;
} store;

static int store_hash_at(void *ctx, unsigned level, uint64_t index, merkle_hash *out)
{
    const store *s = ctx;
    if (s->fail || level >= 20 || index >= s->count[level])
        return -1;
    *out = s->level[level][index];
    return 0;
}

static void store_build(store *s, uint64_t n)
{
    merkle_reader r = {store_hash_at, s};
    memset(s, 0, sizeof(*s));
    for (unsigned l = 0; l < 20; l++) {
        s->level[l] = malloc(sizeof(merkle_hash) * (size_t)((n >> l) + 1));
        assert_non_null(s->level[l]);
    }
    for (uint64_t i = 0; i < n; i++) {
        merkle_hash leaf, out[MERKLE_LEVEL_MAX + 1];
        size_t count = 0;
        merkle_leaf_hash(&i, sizeof(i), &leaf);
        assert_int_equal(merkle_append(&r, i, &leaf, out, &count), MERKLE_OK);
        for (size_t l = 0; l < count; l++)
            s->level[l][s->count[l]++] = out[l];
    }
}

static void store_free(store *s)
{
    for (unsigned l = 0; l < 20; l++)
        free(s->level[l]);
}

static void test_hash_tiles(void **state)
{
    (void)state;
    const uint64_t n = 65536 + 300;
    store *s = malloc(sizeof(*s));
    assert_non_null(s);
    store_build(s, n);
    merkle_reader r = {store_hash_at, s};
    buf b;
    buf_init(&b, 1 << 20);

    /* Level 0: the leaf hashes themselves. */
    for (uint64_t i = 0; i < tile_count(n, 0); i++) {
        tile t = {false, 0, i, tile_width(n, 0, i)};
        buf_reset(&b);
        assert_int_equal(tile_hashes(&r, &t, &b), TILE_OK);
        assert_int_equal(b.len, t.width * 32u);
        assert_memory_equal(b.data, s->level[0][i * 256].b, b.len);
    }
    assert_int_equal(tile_width(n, 0, 256), 256);
    assert_int_equal(tile_width(n, 0, 257), 300 - 256);

    /* Level 1: hash i is the tree hash of full level-0 tile i. */
    tile t1 = {false, 1, 0, tile_width(n, 1, 0)};
    assert_int_equal(t1.width, 256);
    buf_reset(&b);
    assert_int_equal(tile_hashes(&r, &t1, &b), TILE_OK);
    assert_int_equal(b.len, 256 * 32);
    for (unsigned i = 0; i < 256; i++) {
        merkle_hash want;
        merkle_root_of_leaves(&s->level[0][i * 256], 256, &want);
        assert_memory_equal(b.data + 32 * i, want.b, 32);
    }
    /* Its partial neighbour holds the one full tile past 65,536 leaves. */
    tile t1p = {false, 1, 1, tile_width(n, 1, 1)};
    assert_int_equal(t1p.width, 1);
    buf_reset(&b);
    assert_int_equal(tile_hashes(&r, &t1p, &b), TILE_OK);
    merkle_hash want;
    merkle_root_of_leaves(&s->level[0][65536], 256, &want);
    assert_memory_equal(b.data, want.b, 32);

    /* Level 2, width 1: the tree hash of the first 65,536 leaves, which is
     * also the tree hash of the level-1 tile's hashes. */
    tile t2 = {false, 2, 0, tile_width(n, 2, 0)};
    assert_int_equal(t2.width, 1);
    buf_reset(&b);
    assert_int_equal(tile_hashes(&r, &t2, &b), TILE_OK);
    merkle_root(&r, 65536, &want);
    assert_memory_equal(b.data, want.b, 32);
    merkle_hash level1[256];
    buf c;
    buf_init(&c, 1 << 20);
    assert_int_equal(tile_hashes(&r, &t1, &c), TILE_OK);
    memcpy(level1, c.data, sizeof(level1));
    merkle_root_of_leaves(level1, 256, &want);
    assert_memory_equal(b.data, want.b, 32);
    buf_free(&c);

    /* Tiles that cannot be hash tiles, a failing store, a full buffer. */
    buf_reset(&b);
    assert_int_equal(tile_hashes(&r, &(tile){true, 0, 0, 256}, &b), TILE_EINVAL);
    assert_int_equal(tile_hashes(&r, &(tile){false, 0, 0, 0}, &b), TILE_EINVAL);
    assert_int_equal(tile_hashes(&r, &(tile){false, 8, 0, 1}, &b), TILE_EINVAL);
    assert_int_equal(tile_hashes(&r, &(tile){false, 7, 0, 256}, &b), TILE_EINVAL);
    assert_int_equal(tile_hashes(&r, &(tile){false, 0, UINT64_MAX >> 8, 256}, &b), TILE_EINVAL);
    assert_int_equal(tile_hashes(&r, &(tile){false, 0, 5000, 256}, &b), TILE_EREAD);
    s->fail = 1;
    assert_int_equal(tile_hashes(&r, &(tile){false, 0, 0, 1}, &b), TILE_EREAD);
    s->fail = 0;
    buf_free(&b);
    buf_init(&b, 1000);
    assert_int_equal(tile_hashes(&r, &(tile){false, 0, 0, 256}, &b), TILE_ESPACE);
    buf_free(&b);
    store_free(s);
    free(s);
}

static void test_entry_bundles(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 1 << 20);

    assert_int_equal(tile_bundle_append(&b, "a", 1), TILE_OK);
    assert_int_equal(tile_bundle_append(&b, NULL, 0), TILE_OK);
    assert_int_equal(tile_bundle_append(&b, "bc", 2), TILE_OK);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data,
                        "\x00\x01"
                        "a"
                        "\x00\x00"
                        "\x00\x02"
                        "bc",
                        9);
    buf_reset(&b);

    /* Entries of every awkward length come back out unchanged. */
    static uint8_t data[65536 + 16];
    randombytes_buf(data, sizeof(data));
    const size_t lens[] = {0, 1, 2, 255, 256, 257, 4096, 65534, 65535};
    const size_t count = sizeof(lens) / sizeof(lens[0]);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(tile_bundle_append(&b, data + i, lens[i]), TILE_OK);
    assert_int_equal(tile_bundle_append(&b, data, 65536), TILE_EINVAL);

    size_t pos = 0, total = b.len;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *e;
        size_t n;
        assert_int_equal((uint8_t)b.data[pos], lens[i] >> 8);
        assert_int_equal((uint8_t)b.data[pos + 1], lens[i] & 0xff);
        assert_int_equal(tile_bundle_next(b.data, total, &pos, &e, &n), TILE_OK);
        assert_int_equal(n, lens[i]);
        if (n)
            assert_memory_equal(e, data + i, n);
    }
    assert_int_equal(pos, total);

    /* A bundle cut anywhere inside an entry is refused there. */
    for (size_t cut = 0; cut < 600; cut++) {
        size_t at = 0, ok = 0;
        const uint8_t *e;
        size_t n;
        while (at < cut && tile_bundle_next(b.data, cut, &at, &e, &n) == TILE_OK)
            ok++;
        size_t boundary = 0, whole = 0;
        while (whole < count && boundary + 2 + lens[whole] <= cut)
            boundary += 2 + lens[whole++];
        assert_int_equal(ok, whole);
        if (at < cut) {
            assert_int_equal(at, boundary);
            assert_int_equal(tile_bundle_next(b.data, cut, &at, &e, &n), TILE_EINVAL);
            assert_null(e);
        }
    }
    buf_free(&b);

    buf_init(&b, 10);
    assert_int_equal(tile_bundle_append(&b, data, 100), TILE_ESPACE);
    buf_free(&b);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_paths),       cmocka_unit_test(test_path_rejections),
        cmocka_unit_test(test_path_round_trips), cmocka_unit_test(test_widths),
        cmocka_unit_test(test_hash_tiles),       cmocka_unit_test(test_entry_bundles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
