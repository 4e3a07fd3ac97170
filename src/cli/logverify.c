/* logverify.c - `opencase log verify`; see logverify.h.
 *
 * One pass over the entries rebuilds the tree the way the store built it,
 * keeping only its right edge: the last complete subtree at each level,
 * which is every left sibling the next leaf can need, and every subtree a
 * root of the current size is made of. So memory stays small at any size.
 */
#include "cli/logverify.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "util/arena.h"

#define CHUNK 4096
#define INCLUSION_SAMPLES 64
#define CHECKPOINT_SAMPLES 16

/* A size at which the recomputed root is compared with a signed one. */
typedef struct signed_root {
    uint64_t size;
    merkle_hash root;
} signed_root;

typedef struct verify_state {
    merkle_hash edge[MERKLE_LEVEL_MAX + 1]; /* the last complete subtree per level */
    uint64_t inclusion[INCLUSION_SAMPLES];  /* sampled indexes, and their leaves */
    merkle_hash leaves[INCLUSION_SAMPLES];
    size_t ninclusion;
    signed_root roots[CHECKPOINT_SAMPLES + 1]; /* the latest is roots[0] */
    size_t nroots;
} verify_state;

static int edge_at(void *arg, unsigned level, uint64_t index, merkle_hash *out)
{
    (void)index;
    const verify_state *v = arg;
    *out = v->edge[level];
    return 0;
}

/* Opens a saved checkpoint; false (reported) when it is not one of ours. */
static bool open_checkpoint(const char *text, uint64_t size, const note_verifier *key,
                            signed_root *out, FILE *err)
{
    note n;
    note_checkpoint cp;
    note_rc rc = note_open(text, strlen(text), key, 1, &n);
    if (rc != NOTE_OK) {
        fprintf(err, "log verify: the checkpoint of size %llu is %s\n", (unsigned long long)size,
                rc == NOTE_EBAD_SIG ? "signed with a signature that does not verify"
                                    : "not signed by the log's key");
        return false;
    }
    if (note_checkpoint_parse(n.text, n.text_len, &cp) != NOTE_OK || cp.size != size ||
        cp.origin_len != strlen(key->name) || memcmp(cp.origin, key->name, cp.origin_len) != 0) {
        fprintf(err, "log verify: the checkpoint saved for size %llu is malformed\n",
                (unsigned long long)size);
        return false;
    }
    out->size = cp.size;
    out->root = cp.root;
    return true;
}

/* The latest checkpoint, then a sample of earlier ones. */
static int load_checkpoints(store *s, const note_verifier *key, verify_state *v, FILE *err)
{
    arena a;
    arena_init(&a);
    int rc = 1;
    uint64_t size = 0;
    const char *text = NULL;
    store_rc src = store_log_checkpoint_get(s, &a, UINT64_MAX, &size, &text);
    if (src != STORE_OK) {
        fprintf(err, "log verify: %s\n",
                src == STORE_NOT_FOUND ? "no checkpoint has been signed yet"
                                       : "the checkpoints cannot be read");
        goto out;
    }
    if (!open_checkpoint(text, size, key, &v->roots[0], err))
        goto out;
    v->nroots = 1;
    for (int i = 0; i < CHECKPOINT_SAMPLES && v->roots[0].size > 0; i++) {
        uint64_t at =
            ((uint64_t)randombytes_random() << 32 | randombytes_random()) % v->roots[0].size;
        src = store_log_checkpoint_get(s, &a, at, &size, &text);
        if (src == STORE_NOT_FOUND)
            continue;
        if (src != STORE_OK) {
            fprintf(err, "log verify: the checkpoints cannot be read\n");
            goto out;
        }
        if (!open_checkpoint(text, size, key, &v->roots[v->nroots], err))
            goto out;
        v->nroots++;
    }
    rc = 0;
out:
    arena_free(&a);
    return rc;
}

static bool same_hash(const uint8_t *stored, const merkle_hash *h)
{
    return sodium_memcmp(stored, h->b, MERKLE_HASH_SIZE) == 0;
}

/* Recomputes one entry's hashes and compares them with the stored ones. */
static int check_row(verify_state *v, const store_log_row *row, uint64_t want, FILE *err)
{
    if (row->index != want) {
        fprintf(err, "log verify: entry %llu is missing\n", (unsigned long long)want);
        return 1;
    }
    json_t *j = json_loadb((const char *)row->entry, row->entry_len, 0, NULL);
    bool object = json_is_object(j) && json_is_string(json_object_get(j, "kind"));
    json_decref(j);
    if (!object) {
        fprintf(err, "log verify: entry %llu is not a JSON object with a kind\n",
                (unsigned long long)want);
        return 1;
    }
    merkle_hash leaf, hashes[MERKLE_LEVEL_MAX + 1];
    size_t n = 0;
    merkle_reader r = {.hash_at = edge_at, .ctx = v};
    merkle_leaf_hash(row->entry, row->entry_len, &leaf);
    if (merkle_append(&r, want, &leaf, hashes, &n) != MERKLE_OK)
        return 1;
    if (n != row->nhashes) {
        fprintf(err, "log verify: entry %llu has %zu stored hashes, %zu expected\n",
                (unsigned long long)want, row->nhashes, n);
        return 1;
    }
    for (size_t l = 0; l < n; l++) {
        if (!same_hash(row->hashes + l * MERKLE_HASH_SIZE, &hashes[l])) {
            fprintf(err,
                    "log verify: entry %llu: the stored hash at level %zu is not the one its "
                    "entries give%s\n",
                    (unsigned long long)want, l,
                    l == 0 ? " (the entry or its leaf hash was changed)" : "");
            return 1;
        }
        v->edge[l] = hashes[l];
    }
    for (size_t i = 0; i < v->ninclusion; i++)
        if (v->inclusion[i] == want)
            v->leaves[i] = leaf;
    return 0;
}

/* Compares the recomputed root of the first `size` entries with every
 * signed root of that size. */
static int check_roots(verify_state *v, uint64_t size, FILE *err)
{
    for (size_t i = 0; i < v->nroots; i++) {
        if (v->roots[i].size != size)
            continue;
        merkle_hash root;
        merkle_reader r = {.hash_at = edge_at, .ctx = v};
        if (merkle_root(&r, size, &root) != MERKLE_OK ||
            !merkle_hash_equal(&root, &v->roots[i].root)) {
            fprintf(err,
                    "log verify: the signed checkpoint of size %llu does not match the "
                    "entries: the log was rewritten\n",
                    (unsigned long long)size);
            return 1;
        }
    }
    return 0;
}

static int check_proofs(store *s, verify_state *v, FILE *err)
{
    const signed_root *latest = &v->roots[0];
    merkle_hash proof[MERKLE_PROOF_MAX];
    size_t len = 0;
    for (size_t i = 0; i < v->ninclusion; i++) {
        if (store_log_inclusion(s, v->inclusion[i], latest->size, proof, &len) != STORE_OK ||
            merkle_verify_inclusion(&v->leaves[i], v->inclusion[i], latest->size, proof, len,
                                    &latest->root) != MERKLE_OK) {
            fprintf(err, "log verify: the inclusion proof of entry %llu does not verify\n",
                    (unsigned long long)v->inclusion[i]);
            return 1;
        }
    }
    for (size_t i = 1; i < v->nroots; i++) {
        if (store_log_consistency(s, v->roots[i].size, latest->size, proof, &len) != STORE_OK ||
            merkle_verify_consistency(v->roots[i].size, latest->size, &v->roots[i].root,
                                      &latest->root, proof, len) != MERKLE_OK) {
            fprintf(err,
                    "log verify: the consistency proof from size %llu to %llu does not verify\n",
                    (unsigned long long)v->roots[i].size, (unsigned long long)latest->size);
            return 1;
        }
    }
    return 0;
}

int log_verify(store *s, const note_verifier *key, FILE *out, FILE *err)
{
    verify_state *v = calloc(1, sizeof(*v));
    arena a;
    arena_init(&a);
    int rc = 1;
    uint64_t size = 0;
    if (!v || load_checkpoints(s, key, v, err) != 0)
        goto out;
    if (store_log_size(s, &size) != STORE_OK) {
        fprintf(err, "log verify: the log's size cannot be read\n");
        goto out;
    }
    if (size < v->roots[0].size) {
        fprintf(err, "log verify: the log holds %llu entries, fewer than its checkpoint's %llu\n",
                (unsigned long long)size, (unsigned long long)v->roots[0].size);
        goto out;
    }
    for (size_t i = 0; i < INCLUSION_SAMPLES && v->roots[0].size > 0; i++)
        v->inclusion[v->ninclusion++] =
            ((uint64_t)randombytes_random() << 32 | randombytes_random()) % v->roots[0].size;
    if (check_roots(v, 0, err) != 0)
        goto out;
    for (uint64_t at = 0; at < size;) {
        store_log_row *rows = NULL;
        size_t n = 0;
        arena_free(&a);
        arena_init(&a);
        if (store_log_entries(s, &a, at, CHUNK, &rows, &n) != STORE_OK) {
            fprintf(err, "log verify: the entries cannot be read\n");
            goto out;
        }
        if (n == 0) {
            fprintf(err, "log verify: entry %llu is missing\n", (unsigned long long)at);
            goto out;
        }
        for (size_t i = 0; i < n && at < size; i++, at++)
            if (check_row(v, &rows[i], at, err) != 0 || check_roots(v, at + 1, err) != 0)
                goto out;
    }
    if (check_proofs(s, v, err) != 0)
        goto out;
    fprintf(out,
            "log verified: %llu entries and every stored hash recomputed; checkpoint of size "
            "%llu signed by %s; %zu inclusion and %zu consistency proofs checked\n",
            (unsigned long long)size, (unsigned long long)v->roots[0].size, key->name,
            v->ninclusion, v->nroots - 1);
    uint64_t queued = 0;
    if (store_log_queued(s, &queued) == STORE_OK && queued > 0)
        fprintf(out,
                "log verify: %llu committed changes still wait for their entries; a running "
                "server appends them\n",
                (unsigned long long)queued);
    rc = 0;
out:
    arena_free(&a);
    free(v);
    return rc;
}
