/* ratelimit.c - bounded, keyed-hash failure counters; see ratelimit.h. */
#include "http/ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define RL_BUCKETS 4096
#define RL_SLOTS 8
#define RL_SHARDS 16

typedef struct rl_slot {
    uint64_t hash;
    int64_t window_start;
    unsigned count;
} rl_slot;

struct ratelimit {
    unsigned char key[crypto_shorthash_KEYBYTES];
    pthread_mutex_t locks[RL_SHARDS];
    rl_slot slots[RL_BUCKETS][RL_SLOTS];
};

ratelimit *ratelimit_new(void)
{
    ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    crypto_shorthash_keygen(rl->key);
    for (size_t i = 0; i < RL_SHARDS; i++)
        pthread_mutex_init(&rl->locks[i], NULL);
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < RL_SHARDS; i++)
        pthread_mutex_destroy(&rl->locks[i]);
    free(rl);
}

static uint64_t rl_hash(const ratelimit *rl, const ratelimit_rule *rule, const char *key)
{
    /* SipHash over "scope NUL key": keyed, so collisions cannot be aimed, and
     * cheap enough for a check on every look-up. Long keys are cut: the ones
     * used here (addresses, references) are far shorter. */
    unsigned char msg[160];
    size_t sl = strlen(rule->scope), kl = strlen(key);
    if (sl > 31)
        sl = 31;
    if (kl > sizeof(msg) - sl - 1)
        kl = sizeof(msg) - sl - 1;
    memcpy(msg, rule->scope, sl);
    msg[sl] = '\0';
    memcpy(msg + sl + 1, key, kl);
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, msg, sl + 1 + kl, rl->key);
    uint64_t h;
    memcpy(&h, out, sizeof(h));
    return h ? h : 1; /* 0 marks an empty slot */
}

/* The slot for `h`, or NULL; with `create`, claims an empty or the stalest slot. */
static rl_slot *rl_find(rl_slot *bucket, uint64_t h, bool create)
{
    rl_slot *victim = &bucket[0];
    for (size_t i = 0; i < RL_SLOTS; i++) {
        if (bucket[i].hash == h)
            return &bucket[i];
        if (bucket[i].hash == 0 || bucket[i].window_start < victim->window_start)
            victim = &bucket[i];
        if (bucket[i].hash == 0)
            break;
    }
    if (!create)
        return NULL;
    victim->hash = h;
    victim->window_start = 0;
    victim->count = 0;
    return victim;
}

bool ratelimit_blocked(ratelimit *rl, const ratelimit_rule *rule, const char *key, int64_t now,
                       unsigned *retry_after)
{
    uint64_t h = rl_hash(rl, rule, key);
    size_t b = h % RL_BUCKETS;
    pthread_mutex_t *lock = &rl->locks[b % RL_SHARDS];
    bool blocked = false;
    pthread_mutex_lock(lock);
    rl_slot *s = rl_find(rl->slots[b], h, false);
    if (s && now < s->window_start + rule->window_s && s->count >= rule->limit) {
        blocked = true;
        *retry_after = (unsigned)(s->window_start + rule->window_s - now);
        if (*retry_after == 0)
            *retry_after = 1;
    }
    pthread_mutex_unlock(lock);
    return blocked;
}

void ratelimit_fail(ratelimit *rl, const ratelimit_rule *rule, const char *key, int64_t now)
{
    uint64_t h = rl_hash(rl, rule, key);
    size_t b = h % RL_BUCKETS;
    pthread_mutex_t *lock = &rl->locks[b % RL_SHARDS];
    pthread_mutex_lock(lock);
    rl_slot *s = rl_find(rl->slots[b], h, true);
    if (now >= s->window_start + rule->window_s) {
        s->window_start = now;
        s->count = 0;
    }
    s->count++;
    pthread_mutex_unlock(lock);
}
