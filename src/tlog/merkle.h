/* merkle.h - the Merkle tree of the public log (RFC 6962 / RFC 9162, SHA-256).
 *
 * The log is a binary Merkle tree over its entries. A *complete subtree* at
 * level L and index K is the perfect subtree over leaves [K*2^L, (K+1)*2^L);
 * its hash never changes once the tree has grown past it, so a store keeps
 * exactly those hashes and serves them through a merkle_reader. Roots and
 * proofs for any tree size are built from at most a few dozen of them, which
 * is what lets the log answer without holding its leaves in memory.
 *
 * The empty tree's root is SHA-256 of the empty string, as RFC 9162 defines
 * it (Go's sumdb/tlog uses all zeroes instead; our checkpoints follow the RFC).
 * Pure computation: no I/O and no allocation. libsodium must be initialised
 * (sodium_init) before use.
 */
#ifndef OC_MERKLE_H
#define OC_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_SIZE 32
/* The longest proof for any tree size below 2^64: 64 levels, plus the one
 * extra hash a consistency proof may carry. */
#define MERKLE_PROOF_MAX 65
/* Levels above this cannot hold a complete subtree of a tree below 2^64. */
#define MERKLE_LEVEL_MAX 63

typedef struct merkle_hash {
    uint8_t b[MERKLE_HASH_SIZE];
} merkle_hash;

typedef enum {
    MERKLE_OK = 0,
    MERKLE_EINVAL, /* sizes or indexes out of range, or a proof too long */
    MERKLE_EREAD,  /* the reader failed to produce a hash */
    MERKLE_EPROOF, /* the proof does not prove the claim */
} merkle_rc;

/* Where stored hashes come from. hash_at writes the hash of the complete
 * subtree at (level, index) and returns 0, or returns -1 if it cannot (not
 * stored, I/O failure). Readers are only asked for subtrees that are complete
 * in the tree size the caller passed. */
typedef struct merkle_reader {
    int (*hash_at)(void *ctx, unsigned level, uint64_t index, merkle_hash *out);
    void *ctx;
} merkle_reader;

/* SHA-256(0x00 || data): the leaf hash of one entry. */
void merkle_leaf_hash(const void *data, size_t len, merkle_hash *out);
/* SHA-256(0x01 || left || right): an interior node. */
void merkle_node_hash(const merkle_hash *left, const merkle_hash *right, merkle_hash *out);
/* SHA-256 of nothing: the root of the empty tree. */
void merkle_empty_root(merkle_hash *out);
/* Constant-time equality. */
bool merkle_hash_equal(const merkle_hash *a, const merkle_hash *b);

/* Appending leaf `index` (the tree grows from index to index + 1 leaves)
 * completes the subtrees (0, index), (1, index >> 1), ... for as many levels
 * as index has trailing one bits. Writes their hashes to out[0..*count),
 * level by level from 0, reading the left siblings from r. out needs room for
 * MERKLE_LEVEL_MAX + 1 hashes. */
merkle_rc merkle_append(const merkle_reader *r, uint64_t index, const merkle_hash *leaf,
                        merkle_hash *out, size_t *count);

/* Position of the complete subtree (level, index) in a dense sequence that
 * lists every stored hash in the order merkle_append produces them (Go's
 * tlog.StoredHashIndex): a store can keep all hashes in one array or table.
 * The caller keeps (index << level) below 2^63. */
uint64_t merkle_stored_index(unsigned level, uint64_t index);

/* The Merkle Tree Hash of the first `size` leaves, from at most 64 reads. */
merkle_rc merkle_root(const merkle_reader *r, uint64_t size, merkle_hash *out);

/* The same from an array of leaf hashes, for callers that hold them all. */
void merkle_root_of_leaves(const merkle_hash *leaves, size_t n, merkle_hash *out);

/* The inclusion proof (RFC 9162 2.1.3.1, PATH) of leaf `index` in the tree of
 * `size` leaves: *len hashes, bottom-up, into proof[MERKLE_PROOF_MAX]. */
merkle_rc merkle_inclusion_proof(const merkle_reader *r, uint64_t index, uint64_t size,
                                 merkle_hash *proof, size_t *len);

/* Checks that `leaf` is leaf `index` of the tree of `size` leaves whose root
 * is `root` (RFC 9162 2.1.3.2). MERKLE_OK only if it is. */
merkle_rc merkle_verify_inclusion(const merkle_hash *leaf, uint64_t index, uint64_t size,
                                  const merkle_hash *proof, size_t len, const merkle_hash *root);

/* The consistency proof (RFC 9162 2.1.4.1, PROOF) that the tree of size m is
 * a prefix of the tree of size n, 0 <= m <= n. Empty when m == 0 or m == n. */
merkle_rc merkle_consistency_proof(const merkle_reader *r, uint64_t m, uint64_t n,
                                   merkle_hash *proof, size_t *len);

/* Checks that the tree of size m with root `root_m` is a prefix of the tree
 * of size n with root `root_n` (RFC 9162 2.1.4.2). With m == n the proof
 * must be empty and the roots equal; with m == 0 the proof must be empty and
 * root_m must be the empty root. */
merkle_rc merkle_verify_consistency(uint64_t m, uint64_t n, const merkle_hash *root_m,
                                    const merkle_hash *root_n, const merkle_hash *proof,
                                    size_t len);

#endif
