/* estimate.h - the expected completion date, from an organisation's own history.
 *
 * Given how long recent closed cases of the same service took, the estimate
 * is their median with the 10th-90th percentile as the range. With fewer than
 * ESTIMATE_MIN_SAMPLE cases there is no estimate, and `reason` says so: the
 * citizen is told the history is too thin rather than handed a guess.
 * Pure functions: no I/O, no allocation.
 */
#ifndef OC_ESTIMATE_H
#define OC_ESTIMATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESTIMATE_MIN_SAMPLE 10

typedef struct estimate {
    bool available;
    size_t sample;      /* closed cases the figures rest on */
    int64_t median_s;   /* durations in seconds */
    int64_t low_s;      /* 10th percentile */
    int64_t high_s;     /* 90th percentile */
    const char *reason; /* static sentence when !available, else NULL */
} estimate;

/* Sorts `durations_s` in place (negative values are ignored) and fills *out. */
void estimate_compute(int64_t *durations_s, size_t n, estimate *out);

#endif
