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
    unsigned char key[crypto_generichash_KEYBYTES];
    pthread_mutex_t locks[RL_SHARDS];
    rl_slot slots[RL_BUCKETS][RL_SLOTS];
};

ratelimit *ratelimit_new(void)
{
    ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    crypto_generichash_keygen(rl->key);
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
    crypto_generichash_state st;
    unsigned char out[crypto_generichash_BYTES_MIN];
    /* The scope and key are joined with a NUL so "a"+"bc" differs from "ab"+"c". */
    crypto_generichash_init(&st, rl->key, sizeof(rl->key), sizeof(out));
    crypto_generichash_update(&st, (const unsigned char *)rule->scope, strlen(rule->scope) + 1);
    crypto_generichash_update(&st, (const unsigned char *)key, strlen(key));
    crypto_generichash_final(&st, out, sizeof(out));
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
