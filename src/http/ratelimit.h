/* ratelimit.h - fixed-window failure counters, for slowing down guessing.
 *
 * Keys (a client address, a case reference) are hashed with a random key so
 * that an attacker cannot aim collisions. The table has a fixed size: when a
 * bucket is full the oldest window in it is forgotten, so memory stays
 * bounded under a flood of distinct keys. Counters live in this process;
 * each instance behind a load balancer counts on its own.
 * Thread-safe.
 */
#ifndef OC_RATELIMIT_H
#define OC_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ratelimit ratelimit;

typedef struct ratelimit_rule {
    const char *scope; /* prefixed to keys so that rules never share counters */
    unsigned limit;    /* failures allowed per window */
    unsigned window_s;
} ratelimit_rule;

ratelimit *ratelimit_new(void);
void ratelimit_free(ratelimit *rl);

/* True when `key` has used up its failures for the current window at `now`;
 * then *retry_after is the number of seconds until the window ends. */
bool ratelimit_blocked(ratelimit *rl, const ratelimit_rule *rule, const char *key, int64_t now,
                       unsigned *retry_after);

/* Counts one failure for `key`. */
void ratelimit_fail(ratelimit *rl, const ratelimit_rule *rule, const char *key, int64_t now);

#endif
