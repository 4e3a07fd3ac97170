/* estimate.c - median and 10th-90th percentile range of past durations.
 *
 * Percentiles use the nearest-rank method: the value at rank ceil(p/100 * n)
 * of the sorted sample. Every figure is then a duration a real case took,
 * never an interpolation between two. See estimate.h.
 */
#include "domain/estimate.h"

#include <stdbool.h>
#include <stdlib.h>

static const char estimate_none[] =
    "No similar cases have been completed yet, so there is no history to estimate a date from.";
static const char estimate_thin[] = "Fewer than 10 similar cases have been completed, so there is "
                                    "not yet enough history to estimate a date.";
_Static_assert(ESTIMATE_MIN_SAMPLE == 10, "the sentence above names the minimum sample");

static int estimate_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile `p` (1..100) of sorted values v[0..n-1], n > 0. */
static int64_t estimate_percentile(const int64_t *v, size_t n, unsigned p)
{
    /* ceil(p * n / 100), split so that p * n cannot overflow. */
    size_t rank = n / 100 * p + (n % 100 * p + 99) / 100;
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

void estimate_compute(int64_t *durations_s, size_t n, estimate *out)
{
    out->available = false;
    out->sample = 0;
    out->median_s = 0;
    out->low_s = 0;
    out->high_s = 0;
    out->reason = NULL;

    /* Callers often hand over an already sorted history: check before sorting. */
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = durations_s[i - 1] <= durations_s[i];
    if (!sorted)
        qsort(durations_s, n, sizeof(*durations_s), estimate_cmp);
    size_t first = 0;
    while (first < n && durations_s[first] < 0)
        first++;
    size_t usable = n - first;

    out->sample = usable;
    if (usable == 0) {
        out->reason = estimate_none;
        return;
    }
    if (usable < ESTIMATE_MIN_SAMPLE) {
        out->reason = estimate_thin;
        return;
    }
    const int64_t *v = durations_s + first;
    out->available = true;
    out->median_s = estimate_percentile(v, usable, 50);
    out->low_s = estimate_percentile(v, usable, 10);
    out->high_s = estimate_percentile(v, usable, 90);
}
