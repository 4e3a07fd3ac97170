/* merkle.c - RFC 9162 tree hashes and proofs over stored complete subtrees.
 *
 * Every range the RFC's recursive definitions visit, [lo, hi), starts at a
 * multiple of the largest power of two not above its length, so its hash is
 * a handful of stored complete subtrees folded right to left. Proof
 * generation walks the RFC recursion iteratively from the root, collecting
 * the off-path ranges top-down, and reverses them into the RFC's bottom-up
 * order. Verification follows RFC 9162 2.1.3.2 and 2.1.4.2 step by step.
 */
#include "tlog/merkle.h"

#include <sodium.h>
#include <string.h>

static unsigned floor_log2(uint64_t x)
{
    return 63u - (unsigned)__builtin_clzll(x);
}

/* The largest power of two strictly below n, for n >= 2: RFC 9162's k. */
static uint64_t split_point(uint64_t n)
{
    return UINT64_C(1) << floor_log2(n - 1);
}

void merkle_leaf_hash(const void *data, size_t len, merkle_hash *out)
{
    static const unsigned char prefix = 0x00;
    crypto_hash_sha256_state st;

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    if (len)
        crypto_hash_sha256_update(&st, data, len);
    crypto_hash_sha256_final(&st, out->b);
}

void merkle_node_hash(const merkle_hash *left, const merkle_hash *right, merkle_hash *out)
{
    unsigned char in[1 + 2 * MERKLE_HASH_SIZE];

    in[0] = 0x01;
    memcpy(in + 1, left->b, MERKLE_HASH_SIZE);
    memcpy(in + 1 + MERKLE_HASH_SIZE, right->b, MERKLE_HASH_SIZE);
    crypto_hash_sha256(out->b, in, sizeof(in));
}

void merkle_empty_root(merkle_hash *out)
{
    crypto_hash_sha256(out->b, NULL, 0);
}

bool merkle_hash_equal(const merkle_hash *a, const merkle_hash *b)
{
    return sodium_memcmp(a->b, b->b, MERKLE_HASH_SIZE) == 0;
}

merkle_rc merkle_append(const merkle_reader *r, uint64_t index, const merkle_hash *leaf,
                        merkle_hash *out, size_t *count)
{
    *count = 0;
    if (index == UINT64_MAX)
        return MERKLE_EINVAL;
    out[0] = *leaf;
    size_t n = 1;
    for (unsigned level = 0; (index >> level) & 1; level++) {
        merkle_hash left;
        if (r->hash_at(r->ctx, level, (index >> level) - 1, &left) != 0)
            return MERKLE_EREAD;
        merkle_node_hash(&left, &out[n - 1], &out[n]);
        n++;
    }
    *count = n;
    return MERKLE_OK;
}

uint64_t merkle_stored_index(unsigned level, uint64_t index)
{
    /* Level L's hash K is stored right after level L-1's hash 2K+1, so walk
     * down to the leaf that completes it; leaf n is preceded by n + n/2 +
     * n/4 + ... hashes. */
    for (unsigned l = level; l > 0; l--)
        index = 2 * index + 1;
    uint64_t at = 0;
    for (; index > 0; index >>= 1)
        at += index;
    return at + level;
}

/* Hash of leaves [lo, hi), lo < hi, from the complete subtrees covering it. */
static merkle_rc range_hash(const merkle_reader *r, uint64_t lo, uint64_t hi, merkle_hash *out)
{
    merkle_hash parts[64];
    size_t n = 0;

    if (lo >= hi)
        return MERKLE_EINVAL;
    while (lo < hi) {
        unsigned level = floor_log2(hi - lo);
        uint64_t width = UINT64_C(1) << level;
        if (lo & (width - 1))
            return MERKLE_EINVAL;
        if (r->hash_at(r->ctx, level, lo >> level, &parts[n]) != 0)
            return MERKLE_EREAD;
        n++;
        lo += width;
    }
    *out = parts[n - 1];
    for (size_t i = n - 1; i-- > 0;)
        merkle_node_hash(&parts[i], out, out);
    return MERKLE_OK;
}

merkle_rc merkle_root(const merkle_reader *r, uint64_t size, merkle_hash *out)
{
    if (size == 0) {
        merkle_empty_root(out);
        return MERKLE_OK;
    }
    return range_hash(r, 0, size, out);
}

static void root_of_leaves(const merkle_hash *leaves, size_t n, merkle_hash *out)
{
    if (n == 1) {
        *out = leaves[0];
        return;
    }
    size_t k = (size_t)split_point(n);
    merkle_hash left, right;
    root_of_leaves(leaves, k, &left);
    root_of_leaves(leaves + k, n - k, &right);
    merkle_node_hash(&left, &right, out);
}

void merkle_root_of_leaves(const merkle_hash *leaves, size_t n, merkle_hash *out)
{
    if (n == 0)
        merkle_empty_root(out);
    else
        root_of_leaves(leaves, n, out);
}

static void reverse(merkle_hash *h, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        merkle_hash t = h[i];
        h[i] = h[n - 1 - i];
        h[n - 1 - i] = t;
    }
}

merkle_rc merkle_inclusion_proof(const merkle_reader *r, uint64_t index, uint64_t size,
                                 merkle_hash *proof, size_t *len)
{
    uint64_t lo = 0, hi = size;
    size_t n = 0;

    *len = 0;
    if (index >= size)
        return MERKLE_EINVAL;
    while (hi - lo > 1) {
        uint64_t mid = lo + split_point(hi - lo);
        merkle_rc rc;
        if (index < mid) {
            rc = range_hash(r, mid, hi, &proof[n]);
            hi = mid;
        } else {
            rc = range_hash(r, lo, mid, &proof[n]);
            lo = mid;
        }
        if (rc != MERKLE_OK)
            return rc;
        n++;
    }
    reverse(proof, n);
    *len = n;
    return MERKLE_OK;
}

merkle_rc merkle_verify_inclusion(const merkle_hash *leaf, uint64_t index, uint64_t size,
                                  const merkle_hash *proof, size_t len, const merkle_hash *root)
{
    if (index >= size || len > MERKLE_PROOF_MAX)
        return MERKLE_EPROOF;
    uint64_t fn = index, sn = size - 1;
    merkle_hash h = *leaf;
    for (size_t i = 0; i < len; i++) {
        if (sn == 0)
            return MERKLE_EPROOF;
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(&proof[i], &h, &h);
            while (fn != 0 && !(fn & 1)) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            merkle_node_hash(&h, &proof[i], &h);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !merkle_hash_equal(&h, root))
        return MERKLE_EPROOF;
    return MERKLE_OK;
}

merkle_rc merkle_consistency_proof(const merkle_reader *r, uint64_t m, uint64_t n,
                                   merkle_hash *proof, size_t *len)
{
    uint64_t lo = 0, hi = n;
    bool whole = true; /* RFC 9162's b: still on the old tree's left edge */
    size_t count = 0;

    *len = 0;
    if (m > n)
        return MERKLE_EINVAL;
    if (m == 0 || m == n)
        return MERKLE_OK;
    while (m != hi) {
        uint64_t mid = lo + split_point(hi - lo);
        merkle_rc rc;
        if (m <= mid) {
            rc = range_hash(r, mid, hi, &proof[count]);
            hi = mid;
        } else {
            rc = range_hash(r, lo, mid, &proof[count]);
            lo = mid;
            whole = false;
        }
        if (rc != MERKLE_OK)
            return rc;
        count++;
    }
    if (!whole) {
        merkle_rc rc = range_hash(r, lo, hi, &proof[count]);
        if (rc != MERKLE_OK)
            return rc;
        count++;
    }
    reverse(proof, count);
    *len = count;
    return MERKLE_OK;
}

merkle_rc merkle_verify_consistency(uint64_t m, uint64_t n, const merkle_hash *root_m,
                                    const merkle_hash *root_n, const merkle_hash *proof, size_t len)
{
    if (m > n || len > MERKLE_PROOF_MAX)
        return MERKLE_EPROOF;
    if (m == 0 || m == n) {
        merkle_hash empty;
        merkle_empty_root(&empty);
        if (len != 0 || (m == 0 && !merkle_hash_equal(root_m, &empty)) ||
            (m == n && !merkle_hash_equal(root_m, root_n)))
            return MERKLE_EPROOF;
        return MERKLE_OK;
    }
    if (len == 0)
        return MERKLE_EPROOF;

    /* When m is a power of two the old root is itself a node of the new
     * tree, and the proof leaves it out: the RFC prepends root_m. */
    size_t i = 0;
    const merkle_hash *first = &proof[0];
    if ((m & (m - 1)) == 0)
        first = root_m;
    else
        i = 1;

    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    merkle_hash fr = *first, sr = *first;
    for (; i < len; i++) {
        const merkle_hash *c = &proof[i];
        if (sn == 0)
            return MERKLE_EPROOF;
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(c, &fr, &fr);
            merkle_node_hash(c, &sr, &sr);
            while (fn != 0 && !(fn & 1)) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            merkle_node_hash(&sr, c, &sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !merkle_hash_equal(&fr, root_m) || !merkle_hash_equal(&sr, root_n))
        return MERKLE_EPROOF;
    return MERKLE_OK;
}
