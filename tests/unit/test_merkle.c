/* test_merkle.c - the log's Merkle tree: the RFC 6962 test vectors published
 * with Certificate Transparency, generated proofs equal to a direct
 * transcription of the RFC's recursive definitions, every proof verifying,
 * and every corrupted proof failing. */
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

#include "tlog/merkle.h"

static testrng rng = {0x6A09E667F3BCC908u};

/* A store of complete subtree hashes, grown with merkle_append. */
#define TREE_MAX 700

typedef struct memtree {
    merkle_hash level[16][TREE_MAX];
    uint64_t count[16];
    merkle_hash dense[3 * TREE_MAX]; /* the same hashes in merkle_stored_index order */
    uint64_t ndense;
    uint64_t size;
    int fail_reads; /* hash_at fails when set: a store that lost its disk */
} memtree;

static int memtree_hash_at(void *ctx, unsigned level, uint64_t index, merkle_hash *out)
{
    const memtree *t = ctx;
    if (t->fail_reads || level >= 16 || index >= t->count[level])
        return -1;
    *out = t->level[level][index];
    return 0;
}

static merkle_reader memtree_reader(memtree *t)
{
    merkle_reader r = {memtree_hash_at, t};
    return r;
}

static void memtree_add(memtree *t, const merkle_hash *leaf)
{
    merkle_reader r = memtree_reader(t);
    merkle_hash out[MERKLE_LEVEL_MAX + 1];
    size_t n = 0;
    assert_int_equal(merkle_append(&r, t->size, leaf, out, &n), MERKLE_OK);
    for (size_t l = 0; l < n; l++) {
        assert_int_equal(t->count[l], t->size >> l);
        t->level[l][t->count[l]++] = out[l];
        assert_int_equal(merkle_stored_index((unsigned)l, t->size >> l), t->ndense);
        t->dense[t->ndense++] = out[l];
    }
    t->size++;
}

static memtree *memtree_random(uint64_t n)
{
    memtree *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v = testrng_next(&rng);
        merkle_hash leaf;
        merkle_leaf_hash(&v, sizeof(v), &leaf);
        memtree_add(t, &leaf);
    }
    return t;
}

static void from_hex(const char *hex, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(hex), 2 * n);
    size_t got = 0;
    assert_int_equal(sodium_hex2bin(out, n, hex, 2 * n, NULL, &got, NULL), 0);
    assert_int_equal(got, n);
}

static merkle_hash H(const char *hex)
{
    merkle_hash h = {{0}};
    from_hex(hex, h.b, MERKLE_HASH_SIZE);
    return h;
}

/* The RFC's definitions, transcribed directly over an array of leaf hashes. */
static uint64_t ref_k(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static merkle_hash ref_mth(const merkle_hash *d, uint64_t n)
{
    merkle_hash out;
    if (n == 0) {
        crypto_hash_sha256(out.b, NULL, 0);
        return out;
    }
    if (n == 1)
        return d[0];
    uint64_t k = ref_k(n);
    merkle_hash l = ref_mth(d, k), r = ref_mth(d + k, n - k);
    unsigned char in[65];
    in[0] = 1;
    memcpy(in + 1, l.b, 32);
    memcpy(in + 33, r.b, 32);
    crypto_hash_sha256(out.b, in, sizeof(in));
    return out;
}

static void ref_path(uint64_t m, const merkle_hash *d, uint64_t n, merkle_hash *p, size_t *len)
{
    if (n == 1)
        return;
    uint64_t k = ref_k(n);
    if (m < k) {
        ref_path(m, d, k, p, len);
        p[(*len)++] = ref_mth(d + k, n - k);
    } else {
        ref_path(m - k, d + k, n - k, p, len);
        p[(*len)++] = ref_mth(d, k);
    }
}

static void ref_subproof(uint64_t m, const merkle_hash *d, uint64_t n, int b, merkle_hash *p,
                         size_t *len)
{
    if (m == n) {
        if (!b)
            p[(*len)++] = ref_mth(d, n);
        return;
    }
    uint64_t k = ref_k(n);
    if (m <= k) {
        ref_subproof(m, d, k, b, p, len);
        p[(*len)++] = ref_mth(d + k, n - k);
    } else {
        ref_subproof(m - k, d + k, n - k, 0, p, len);
        p[(*len)++] = ref_mth(d, k);
    }
}

static int same_proof(const merkle_hash *a, size_t alen, const merkle_hash *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen * sizeof(*a)) == 0);
}

/* The eight leaves of the Certificate Transparency test tree. */
static const char *const ct_leaves[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

static const char *const ct_roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* Every complete subtree of the eight-leaf tree, by level. */
static const char *const ct_nodes[4][8] = {
    {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"},
    {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"},
    {"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
    {"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"},
};

typedef struct vector {
    uint64_t a, b; /* (leaf index, size) or (m, n) */
    const char *proof[3];
    size_t len;
} vector;

static const vector ct_inclusion[] = {
    {0, 1, {NULL}, 0},
    {0, 2, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"}, 1},
    {1, 2, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"}, 1},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}, 1},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"},
     3},
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
     3},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
     3},
};

static const vector ct_consistency[] = {
    {1, 1, {NULL}, 0},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
     3},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
     3},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"},
     2},
    {6,
     7,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
     3},
};

static memtree *ct_tree(void)
{
    memtree *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    for (size_t i = 0; i < 8; i++) {
        uint8_t data[16];
        size_t n = strlen(ct_leaves[i]) / 2;
        from_hex(ct_leaves[i], data, n);
        merkle_hash leaf;
        merkle_leaf_hash(data, n, &leaf);
        memtree_add(t, &leaf);
    }
    return t;
}

static void test_hash_primitives(void **state)
{
    (void)state;
    merkle_hash h, l, r, want;

    merkle_empty_root(&h);
    want = H(ct_roots[0]);
    assert_true(merkle_hash_equal(&h, &want));
    merkle_leaf_hash(NULL, 0, &h);
    want = H(ct_nodes[0][0]);
    assert_true(merkle_hash_equal(&h, &want));
    l = H(ct_nodes[0][0]);
    r = H(ct_nodes[0][1]);
    merkle_node_hash(&l, &r, &h);
    want = H(ct_nodes[1][0]);
    assert_true(merkle_hash_equal(&h, &want));
    /* The output may alias an input: proofs fold in place. */
    merkle_node_hash(&l, &r, &l);
    assert_true(merkle_hash_equal(&l, &want));
    assert_false(merkle_hash_equal(&l, &r));
}

static void test_ct_tree_nodes_and_roots(void **state)
{
    (void)state;
    memtree *t = ct_tree();
    merkle_reader rd = memtree_reader(t);

    for (unsigned level = 0; level < 4; level++) {
        assert_int_equal(t->count[level], 8u >> level);
        for (uint64_t i = 0; i < t->count[level]; i++) {
            merkle_hash want = H(ct_nodes[level][i]);
            assert_memory_equal(t->level[level][i].b, want.b, MERKLE_HASH_SIZE);
        }
    }
    for (uint64_t n = 0; n <= 8; n++) {
        merkle_hash got, want = H(ct_roots[n]);
        assert_int_equal(merkle_root(&rd, n, &got), MERKLE_OK);
        assert_memory_equal(got.b, want.b, MERKLE_HASH_SIZE);
        merkle_root_of_leaves(t->level[0], (size_t)n, &got);
        assert_memory_equal(got.b, want.b, MERKLE_HASH_SIZE);
    }
    free(t);
}

static void load_vector(const vector *v, merkle_hash *proof)
{
    for (size_t i = 0; i < v->len; i++)
        proof[i] = H(v->proof[i]);
}

static void test_ct_inclusion_vectors(void **state)
{
    (void)state;
    memtree *t = ct_tree();
    merkle_reader rd = memtree_reader(t);

    for (size_t i = 0; i < sizeof(ct_inclusion) / sizeof(ct_inclusion[0]); i++) {
        const vector *v = &ct_inclusion[i];
        merkle_hash want[3], got[MERKLE_PROOF_MAX], root = H(ct_roots[v->b]);
        size_t len = 99;
        load_vector(v, want);
        assert_int_equal(merkle_inclusion_proof(&rd, v->a, v->b, got, &len), MERKLE_OK);
        assert_true(same_proof(got, len, want, v->len));
        assert_int_equal(
            merkle_verify_inclusion(&t->level[0][v->a], v->a, v->b, want, v->len, &root),
            MERKLE_OK);
    }
    free(t);
}

static void test_ct_consistency_vectors(void **state)
{
    (void)state;
    memtree *t = ct_tree();
    merkle_reader rd = memtree_reader(t);

    for (size_t i = 0; i < sizeof(ct_consistency) / sizeof(ct_consistency[0]); i++) {
        const vector *v = &ct_consistency[i];
        merkle_hash want[3], got[MERKLE_PROOF_MAX];
        merkle_hash rm = H(ct_roots[v->a]), rn = H(ct_roots[v->b]);
        size_t len = 99;
        load_vector(v, want);
        assert_int_equal(merkle_consistency_proof(&rd, v->a, v->b, got, &len), MERKLE_OK);
        assert_true(same_proof(got, len, want, v->len));
        assert_int_equal(merkle_verify_consistency(v->a, v->b, &rm, &rn, want, v->len), MERKLE_OK);
        if (v->len > 0) {
            /* Swapped roots, and the empty proof, must not pass. */
            assert_int_equal(merkle_verify_consistency(v->a, v->b, &rn, &rm, want, v->len),
                             MERKLE_EPROOF);
            assert_int_equal(merkle_verify_consistency(v->a, v->b, &rm, &rn, want, 0),
                             MERKLE_EPROOF);
        }
    }
    free(t);
}

static void test_stored_index_layout(void **state)
{
    (void)state;
    /* Go's tlog.StoredHashIndex: leaf 0, leaf 1, node (1,0), leaf 2, ... */
    assert_int_equal(merkle_stored_index(0, 0), 0);
    assert_int_equal(merkle_stored_index(0, 1), 1);
    assert_int_equal(merkle_stored_index(1, 0), 2);
    assert_int_equal(merkle_stored_index(0, 2), 3);
    assert_int_equal(merkle_stored_index(0, 3), 4);
    assert_int_equal(merkle_stored_index(1, 1), 5);
    assert_int_equal(merkle_stored_index(2, 0), 6);
    assert_int_equal(merkle_stored_index(0, 4), 7);
    /* memtree_add checks every appended hash lands at the next dense slot;
     * here the dense copy must answer exactly like the per-level one. */
    memtree *t = memtree_random(TREE_MAX);
    assert_int_equal(t->ndense, 2 * TREE_MAX - (uint64_t)__builtin_popcountll(TREE_MAX));
    for (unsigned l = 0; l < 16; l++)
        for (uint64_t i = 0; i < t->count[l]; i++)
            assert_memory_equal(t->dense[merkle_stored_index(l, i)].b, t->level[l][i].b,
                                MERKLE_HASH_SIZE);
    free(t);
}

static void test_roots_match_reference(void **state)
{
    (void)state;
    memtree *t = memtree_random(TREE_MAX);
    merkle_reader rd = memtree_reader(t);

    for (uint64_t n = 0; n <= TREE_MAX; n++) {
        merkle_hash got, arr, want = ref_mth(t->level[0], n);
        assert_int_equal(merkle_root(&rd, n, &got), MERKLE_OK);
        merkle_root_of_leaves(t->level[0], (size_t)n, &arr);
        assert_memory_equal(got.b, want.b, MERKLE_HASH_SIZE);
        assert_memory_equal(arr.b, want.b, MERKLE_HASH_SIZE);
        /* A perfect tree's root is its stored top node. */
        if (n && (n & (n - 1)) == 0) {
            unsigned level = (unsigned)__builtin_ctzll(n);
            assert_memory_equal(got.b, t->level[level][0].b, MERKLE_HASH_SIZE);
        }
    }
    free(t);
}

static void test_proofs_match_rfc_recursion(void **state)
{
    (void)state;
    memtree *t = memtree_random(64);
    merkle_reader rd = memtree_reader(t);

    for (uint64_t n = 1; n <= 64; n++) {
        for (uint64_t i = 0; i < n; i++) {
            merkle_hash got[MERKLE_PROOF_MAX], want[MERKLE_PROOF_MAX];
            size_t glen = 0, wlen = 0;
            assert_int_equal(merkle_inclusion_proof(&rd, i, n, got, &glen), MERKLE_OK);
            ref_path(i, t->level[0], n, want, &wlen);
            assert_true(same_proof(got, glen, want, wlen));
        }
        for (uint64_t m = 1; m <= n; m++) {
            merkle_hash got[MERKLE_PROOF_MAX], want[MERKLE_PROOF_MAX];
            size_t glen = 0, wlen = 0;
            assert_int_equal(merkle_consistency_proof(&rd, m, n, got, &glen), MERKLE_OK);
            ref_subproof(m, t->level[0], n, 1, want, &wlen);
            assert_true(same_proof(got, glen, want, wlen));
        }
    }
    free(t);
}

/* Flips every bit of every proof hash when `all` is set, otherwise one
 * random bit of each hash; every variant must fail. */
static void flip_inclusion(const merkle_hash *leaf, uint64_t i, uint64_t n, merkle_hash *proof,
                           size_t len, const merkle_hash *root, int all)
{
    for (size_t h = 0; h < len; h++) {
        unsigned pick = (unsigned)(testrng_next(&rng) % 256);
        for (unsigned bit = 0; bit < 256; bit++) {
            if (!all && bit != pick)
                continue;
            proof[h].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(merkle_verify_inclusion(leaf, i, n, proof, len, root), MERKLE_EPROOF);
            proof[h].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    }
}

static void test_every_inclusion_proof(void **state)
{
    (void)state;
    enum { N = 2 * 300 + 1 };
    memtree *t = memtree_random(N);
    merkle_reader rd = memtree_reader(t);
    merkle_hash roots[N + 1];

    for (uint64_t n = 0; n <= N; n++)
        assert_int_equal(merkle_root(&rd, n, &roots[n]), MERKLE_OK);

    for (uint64_t n = 1; n <= 300; n++) {
        for (uint64_t i = 0; i < n; i++) {
            merkle_hash proof[MERKLE_PROOF_MAX + 1], other[MERKLE_PROOF_MAX];
            size_t len = 0, olen = 0;
            const merkle_hash *leaf = &t->level[0][i];
            assert_int_equal(merkle_inclusion_proof(&rd, i, n, proof, &len), MERKLE_OK);
            assert_int_equal(merkle_verify_inclusion(leaf, i, n, proof, len, &roots[n]), MERKLE_OK);
            /* Every proof verifies; the corruptions below run on all small
             * trees and on a spread of the larger ones, to keep the test fast. */
            if (n > 64 && (i * 7 + n) % 5 != 0)
                continue;

            /* Another leaf, another index, the wrong root. */
            assert_int_equal(
                merkle_verify_inclusion(&t->level[0][i + 1], i, n, proof, len, &roots[n]),
                MERKLE_EPROOF);
            assert_int_equal(merkle_verify_inclusion(leaf, i, n, proof, len, &roots[n + 1]),
                             MERKLE_EPROOF);
            const uint64_t idx[] = {i + 1, i - 1, i ^ 1, i ^ 2, i + 2, n, UINT64_MAX};
            for (size_t k = 0; k < sizeof(idx) / sizeof(idx[0]); k++)
                if (idx[k] != i)
                    assert_int_equal(
                        merkle_verify_inclusion(leaf, idx[k], n, proof, len, &roots[n]),
                        MERKLE_EPROOF);

            /* Another size with that size's root: the proof passes only if
             * it is, byte for byte, the proof for that size. */
            const uint64_t sizes[] = {n - 1, n + 1, 2 * n, n / 2};
            for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
                uint64_t s = sizes[k];
                merkle_rc want = MERKLE_EPROOF;
                if (s == n)
                    continue;
                if (i < s) {
                    assert_int_equal(merkle_inclusion_proof(&rd, i, s, other, &olen), MERKLE_OK);
                    if (same_proof(other, olen, proof, len))
                        want = MERKLE_OK;
                }
                assert_int_equal(merkle_verify_inclusion(leaf, i, s, proof, len, &roots[s]), want);
            }

            /* Truncated, extended at either end, one hash replaced. */
            if (len > 0)
                assert_int_equal(merkle_verify_inclusion(leaf, i, n, proof, len - 1, &roots[n]),
                                 MERKLE_EPROOF);
            proof[len] = roots[n];
            assert_int_equal(merkle_verify_inclusion(leaf, i, n, proof, len + 1, &roots[n]),
                             MERKLE_EPROOF);
            memmove(proof + 1, proof, len * sizeof(*proof));
            proof[0] = *leaf;
            assert_int_equal(merkle_verify_inclusion(leaf, i, n, proof, len + 1, &roots[n]),
                             MERKLE_EPROOF);
            memmove(proof, proof + 1, len * sizeof(*proof));

            flip_inclusion(leaf, i, n, proof, len, &roots[n], n < 20 || i == n / 3);
        }
    }
    free(t);
}

static void test_every_consistency_proof(void **state)
{
    (void)state;
    enum { N = 300 };
    memtree *t = memtree_random(N);
    merkle_reader rd = memtree_reader(t);
    merkle_hash roots[N + 1], empty;

    merkle_empty_root(&empty);
    for (uint64_t n = 0; n <= N; n++)
        assert_int_equal(merkle_root(&rd, n, &roots[n]), MERKLE_OK);

    for (uint64_t n = 0; n <= N; n++) {
        for (uint64_t m = 0; m <= n; m++) {
            merkle_hash proof[MERKLE_PROOF_MAX + 1], other[MERKLE_PROOF_MAX];
            size_t len = 99, olen = 0;
            assert_int_equal(merkle_consistency_proof(&rd, m, n, proof, &len), MERKLE_OK);
            assert_int_equal(merkle_verify_consistency(m, n, &roots[m], &roots[n], proof, len),
                             MERKLE_OK);
            if (m == 0 || m == n) {
                assert_int_equal(len, 0);
                continue;
            }
            assert_true(len > 0);
            if (n > 64 && (m * 7 + n) % 5 != 0)
                continue;

            /* Roots from another history, or swapped. */
            assert_int_equal(merkle_verify_consistency(m, n, &roots[m - 1], &roots[n], proof, len),
                             MERKLE_EPROOF);
            assert_int_equal(merkle_verify_consistency(m, n, &roots[m], &roots[n - 1], proof, len),
                             MERKLE_EPROOF);
            assert_int_equal(merkle_verify_consistency(m, n, &roots[n], &roots[m], proof, len),
                             MERKLE_EPROOF);

            /* Other sizes with their own roots pass only with identical proofs. */
            const uint64_t ms[] = {m - 1, m + 1, m ^ 2, m, m};
            const uint64_t ns[] = {n, n, n, n - 1, n + 1 <= N ? n + 1 : n / 2};
            for (size_t k = 0; k < sizeof(ms) / sizeof(ms[0]); k++) {
                uint64_t a = ms[k], b = ns[k];
                merkle_rc want = MERKLE_EPROOF;
                if ((a == m && b == n) || a > N || b > N)
                    continue;
                if (a <= b) {
                    assert_int_equal(merkle_consistency_proof(&rd, a, b, other, &olen), MERKLE_OK);
                    if (same_proof(other, olen, proof, len))
                        want = MERKLE_OK;
                }
                assert_int_equal(merkle_verify_consistency(a, b, &roots[a], &roots[b], proof, len),
                                 want);
            }

            /* Empty, truncated, extended, prefixed. */
            assert_int_equal(merkle_verify_consistency(m, n, &roots[m], &roots[n], proof, 0),
                             MERKLE_EPROOF);
            assert_int_equal(merkle_verify_consistency(m, n, &roots[m], &roots[n], proof, len - 1),
                             MERKLE_EPROOF);
            proof[len] = roots[n];
            assert_int_equal(merkle_verify_consistency(m, n, &roots[m], &roots[n], proof, len + 1),
                             MERKLE_EPROOF);
            memmove(proof + 1, proof, len * sizeof(*proof));
            proof[0] = proof[1];
            assert_int_equal(merkle_verify_consistency(m, n, &roots[m], &roots[n], proof, len + 1),
                             MERKLE_EPROOF);
            memmove(proof, proof + 1, len * sizeof(*proof));

            /* Every bit of every hash for small trees, one random bit of
             * each hash otherwise. */
            int all = n < 24;
            for (size_t h = 0; h < len; h++) {
                unsigned pick = (unsigned)(testrng_next(&rng) % 256);
                for (unsigned bit = 0; bit < 256; bit++) {
                    if (!all && bit != pick)
                        continue;
                    proof[h].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    assert_int_equal(
                        merkle_verify_consistency(m, n, &roots[m], &roots[n], proof, len),
                        MERKLE_EPROOF);
                    proof[h].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                }
            }
        }
    }

    /* Size 0 is consistent with everything, through the true empty root. */
    assert_int_equal(merkle_verify_consistency(0, 5, &empty, &roots[5], NULL, 0), MERKLE_OK);
    assert_int_equal(merkle_verify_consistency(0, 5, &roots[1], &roots[5], NULL, 0), MERKLE_EPROOF);
    assert_int_equal(merkle_verify_consistency(0, 5, &empty, &roots[5], roots, 1), MERKLE_EPROOF);
    assert_int_equal(merkle_verify_consistency(0, 0, &empty, &roots[5], NULL, 0), MERKLE_EPROOF);
    /* No going back in time. */
    assert_int_equal(merkle_verify_consistency(5, 4, &roots[5], &roots[4], NULL, 0), MERKLE_EPROOF);
    free(t);
}

static void test_invalid_requests(void **state)
{
    (void)state;
    memtree *t = memtree_random(10);
    merkle_reader rd = memtree_reader(t);
    merkle_hash proof[MERKLE_PROOF_MAX], out[MERKLE_LEVEL_MAX + 1], root;
    size_t len = 7;

    assert_int_equal(merkle_inclusion_proof(&rd, 0, 0, proof, &len), MERKLE_EINVAL);
    assert_int_equal(len, 0);
    assert_int_equal(merkle_inclusion_proof(&rd, 10, 10, proof, &len), MERKLE_EINVAL);
    assert_int_equal(merkle_consistency_proof(&rd, 6, 5, proof, &len), MERKLE_EINVAL);
    assert_int_equal(merkle_append(&rd, UINT64_MAX, &t->level[0][0], out, &len), MERKLE_EINVAL);
    assert_int_equal(merkle_verify_inclusion(&root, 0, 0, proof, 0, &root), MERKLE_EPROOF);
    assert_int_equal(merkle_verify_inclusion(&t->level[0][0], 0, 1, proof, MERKLE_PROOF_MAX + 1,
                                             &t->level[0][0]),
                     MERKLE_EPROOF);

    /* A store that cannot read fails every operation that needs it. */
    t->fail_reads = 1;
    assert_int_equal(merkle_root(&rd, 10, &root), MERKLE_EREAD);
    assert_int_equal(merkle_inclusion_proof(&rd, 3, 10, proof, &len), MERKLE_EREAD);
    assert_int_equal(len, 0);
    assert_int_equal(merkle_consistency_proof(&rd, 3, 10, proof, &len), MERKLE_EREAD);
    assert_int_equal(merkle_append(&rd, 9, &t->level[0][0], out, &len), MERKLE_EREAD);
    assert_int_equal(len, 0);
    /* ... but not the ones that do not read at all. */
    assert_int_equal(merkle_root(&rd, 0, &root), MERKLE_OK);
    assert_int_equal(merkle_inclusion_proof(&rd, 0, 1, proof, &len), MERKLE_OK);
    assert_int_equal(len, 0);
    assert_int_equal(merkle_append(&rd, 10, &t->level[0][0], out, &len), MERKLE_OK);
    assert_int_equal(len, 1);
    free(t);
}

/* A tree of any size in which every leaf is the same except leaf `odd`: its
 * complete subtree hashes are known without building it, so proofs for
 * trees near 2^64 can be generated and checked. */
typedef struct uniform_tree {
    uint64_t odd;
    merkle_hash plain[MERKLE_LEVEL_MAX + 1]; /* subtrees without the odd leaf */
    merkle_hash path[MERKLE_LEVEL_MAX + 1];  /* the subtree holding it, by level */
} uniform_tree;

static int uniform_hash_at(void *ctx, unsigned level, uint64_t index, merkle_hash *out)
{
    const uniform_tree *u = ctx;
    *out = index == u->odd >> level ? u->path[level] : u->plain[level];
    return 0;
}

static void uniform_init(uniform_tree *u, uint64_t odd)
{
    u->odd = odd;
    merkle_leaf_hash("same", 4, &u->plain[0]);
    merkle_leaf_hash("odd", 3, &u->path[0]);
    for (unsigned l = 1; l <= MERKLE_LEVEL_MAX; l++) {
        merkle_node_hash(&u->plain[l - 1], &u->plain[l - 1], &u->plain[l]);
        if ((odd >> (l - 1)) & 1)
            merkle_node_hash(&u->plain[l - 1], &u->path[l - 1], &u->path[l]);
        else
            merkle_node_hash(&u->path[l - 1], &u->plain[l - 1], &u->path[l]);
    }
}

static void test_large_sizes(void **state)
{
    (void)state;
    const uint64_t sizes[] = {UINT64_C(1) << 40, (UINT64_C(1) << 40) + 1,
                              (UINT64_C(1) << 62) + 12345, UINT64_MAX - 1, UINT64_MAX};
    uniform_tree *u = malloc(sizeof(*u));
    assert_non_null(u);
    merkle_reader rd = {uniform_hash_at, u};

    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint64_t n = sizes[k];
        for (int j = 0; j < 10; j++) {
            uint64_t odd = j == 0 ? n - 1 : testrng_next(&rng) % n;
            merkle_hash proof[MERKLE_PROOF_MAX], root, root_m;
            size_t len = 0;
            uniform_init(u, odd);
            assert_int_equal(merkle_root(&rd, n, &root), MERKLE_OK);

            assert_int_equal(merkle_inclusion_proof(&rd, odd, n, proof, &len), MERKLE_OK);
            assert_true(len <= 64);
            if ((n & (n - 1)) == 0)
                assert_int_equal(len, __builtin_ctzll(n));
            assert_int_equal(merkle_verify_inclusion(&u->path[0], odd, n, proof, len, &root),
                             MERKLE_OK);
            assert_int_equal(merkle_verify_inclusion(&u->plain[0], odd, n, proof, len, &root),
                             MERKLE_EPROOF);
            assert_int_equal(merkle_verify_inclusion(&u->path[0], odd ^ 1, n, proof, len, &root),
                             MERKLE_EPROOF);

            /* An old size that still holds the odd leaf, and one just past it. */
            const uint64_t ms[] = {odd + 1 + testrng_next(&rng) % (n - odd), odd + 1, n - 1, 1};
            for (size_t q = 0; q < sizeof(ms) / sizeof(ms[0]); q++) {
                uint64_t m = ms[q];
                assert_int_equal(merkle_root(&rd, m, &root_m), MERKLE_OK);
                assert_int_equal(merkle_consistency_proof(&rd, m, n, proof, &len), MERKLE_OK);
                assert_true(len <= MERKLE_PROOF_MAX);
                assert_int_equal(merkle_verify_consistency(m, n, &root_m, &root, proof, len),
                                 MERKLE_OK);
                if (len > 0) {
                    proof[len - 1].b[5] ^= 0x40;
                    assert_int_equal(merkle_verify_consistency(m, n, &root_m, &root, proof, len),
                                     MERKLE_EPROOF);
                }
            }
        }
    }
    free(u);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_primitives),
        cmocka_unit_test(test_ct_tree_nodes_and_roots),
        cmocka_unit_test(test_ct_inclusion_vectors),
        cmocka_unit_test(test_ct_consistency_vectors),
        cmocka_unit_test(test_stored_index_layout),
        cmocka_unit_test(test_roots_match_reference),
        cmocka_unit_test(test_proofs_match_rfc_recursion),
        cmocka_unit_test(test_every_inclusion_proof),
        cmocka_unit_test(test_every_consistency_proof),
        cmocka_unit_test(test_invalid_requests),
        cmocka_unit_test(test_large_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
