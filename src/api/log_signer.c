/* log_signer.c - the checkpoint signer; see log_signer.h. */
#include "api/log_signer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/log.h"

#define NOTE_MAX 4096

struct log_signer {
    store *s;
    note_signer key;
    note_verifier verifier;
    bool have_last; /* last_size and last_root hold a signed checkpoint */
    uint64_t last_size;
    merkle_hash last_root;
    bool stopped; /* inconsistent: never signs again */
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool quit;
};

log_signer *log_signer_new(store *s, const note_signer *k)
{
    log_signer *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->s = s;
    g->key = *k;
    note_verifier_from_signer(&g->key, &g->verifier);
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &attr);
    pthread_condattr_destroy(&attr);
    return g;
}

static log_signer_rc inconsistent(log_signer *g, const char *why, uint64_t size)
{
    g->stopped = true;
    log_error("msg=\"the stored log does not extend the last signed checkpoint; no more "
              "checkpoints will be signed\" reason=\"%s\" signed_size=%llu size=%llu",
              why, (unsigned long long)g->last_size, (unsigned long long)size);
    return LOG_SIGNER_INCONSISTENT;
}

/* Takes the latest saved checkpoint as the last signed one, once its
 * signature checks out. */
static log_signer_rc load_last(log_signer *g)
{
    arena a;
    arena_init(&a);
    uint64_t size = 0;
    const char *text = NULL;
    log_signer_rc rc = LOG_SIGNER_UNCHANGED;
    store_rc src = store_log_checkpoint_get(g->s, &a, UINT64_MAX, &size, &text);
    if (src == STORE_NOT_FOUND)
        goto out;
    if (src != STORE_OK) {
        rc = LOG_SIGNER_RETRY;
        goto out;
    }
    note n;
    note_checkpoint cp;
    if (note_open(text, strlen(text), &g->verifier, 1, &n) != NOTE_OK ||
        note_checkpoint_parse(n.text, n.text_len, &cp) != NOTE_OK || cp.size != size) {
        rc =
            inconsistent(g, "the latest saved checkpoint is not signed by this server's key", size);
        goto out;
    }
    g->have_last = true;
    g->last_size = cp.size;
    g->last_root = cp.root;
out:
    arena_free(&a);
    return rc;
}

/* Signs and saves the checkpoint of `size` with `root`. */
static log_signer_rc sign(log_signer *g, uint64_t size, const merkle_hash *root)
{
    buf body, out;
    buf_init(&body, NOTE_MAX);
    buf_init(&out, NOTE_MAX);
    log_signer_rc rc = LOG_SIGNER_RETRY;
    note_checkpoint cp = {
        .origin = g->key.name, .origin_len = strlen(g->key.name), .size = size, .root = *root};
    if (note_checkpoint_format(&cp, &body) != NOTE_OK ||
        note_sign(body.data, body.len, &g->key, 1, &out) != NOTE_OK) {
        log_error("msg=\"cannot sign a checkpoint\"");
        goto out;
    }
    if (store_log_checkpoint_put(g->s, size, out.data, (int64_t)time(NULL)) != STORE_OK)
        goto out;
    g->have_last = true;
    g->last_size = size;
    g->last_root = *root;
    rc = LOG_SIGNER_SIGNED;
out:
    buf_free(&body);
    buf_free(&out);
    return rc;
}

log_signer_rc log_signer_step(log_signer *g)
{
    if (g->stopped)
        return LOG_SIGNER_INCONSISTENT;
    if (!g->have_last) {
        log_signer_rc rc = load_last(g);
        if (rc != LOG_SIGNER_UNCHANGED)
            return rc;
    }
    /* What a change committed has queued is signed now, not a step later;
     * when another instance is sequencing, it is signed at the next step. */
    size_t sequenced = 0;
    if (store_log_sequence(g->s, false, &sequenced) != STORE_OK)
        return LOG_SIGNER_RETRY;
    uint64_t size = 0;
    merkle_hash root;
    if (store_log_size(g->s, &size) != STORE_OK)
        return LOG_SIGNER_RETRY;
    if (g->have_last && size == g->last_size)
        return LOG_SIGNER_UNCHANGED;
    if (g->have_last && size < g->last_size)
        return inconsistent(g, "the log is shorter than the last checkpoint", size);
    if (store_log_root(g->s, size, &root) != STORE_OK)
        return LOG_SIGNER_RETRY;
    if (g->have_last) {
        merkle_hash old_root, proof[MERKLE_PROOF_MAX];
        size_t len = 0;
        if (store_log_root(g->s, g->last_size, &old_root) != STORE_OK ||
            store_log_consistency(g->s, g->last_size, size, proof, &len) != STORE_OK)
            return LOG_SIGNER_RETRY;
        if (!merkle_hash_equal(&old_root, &g->last_root))
            return inconsistent(g, "the stored hashes give another root for the signed size", size);
        if (merkle_verify_consistency(g->last_size, size, &g->last_root, &root, proof, len) !=
            MERKLE_OK)
            return inconsistent(g, "the consistency proof does not verify", size);
    }
    return sign(g, size, &root);
}

static void *run(void *arg)
{
    log_signer *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->quit) {
        pthread_mutex_unlock(&g->mu);
        log_signer_step(g);
        pthread_mutex_lock(&g->mu);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)LOG_SIGNER_INTERVAL_MS % 1000 * 1000000L;
        until.tv_sec += LOG_SIGNER_INTERVAL_MS / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!g->quit && pthread_cond_timedwait(&g->cv, &g->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

bool log_signer_start(log_signer *g)
{
    g->running = pthread_create(&g->thread, NULL, run, g) == 0;
    return g->running;
}

void log_signer_free(log_signer *g)
{
    if (!g)
        return;
    if (g->running) {
        pthread_mutex_lock(&g->mu);
        g->quit = true;
        pthread_cond_signal(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    note_signer_wipe(&g->key);
    free(g);
}
