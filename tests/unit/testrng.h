/* testrng.h - a fixed-seed generator for unit tests, so that failures reproduce.
 *
 * xorshift64: small and fast, and plenty for spreading test inputs. Each test
 * file seeds its own generator.
 */
#ifndef OC_TESTRNG_H
#define OC_TESTRNG_H

#include <stdint.h>

typedef struct testrng {
    uint64_t state; /* never 0 */
} testrng;

static inline uint64_t testrng_next(testrng *r)
{
    uint64_t x = r->state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->state = x;
    return x;
}

#endif
