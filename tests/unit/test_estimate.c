/* test_estimate.c - nearest-rank median and 10th-90th percentiles, and the
 * refusal to estimate from too little history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testrng.h"

#include "domain/estimate.h"

static testrng rng = {0xA0761D6478BD642Fu};

static uint64_t rng_next(void)
{
    return testrng_next(&rng);
}

static void shuffle(int64_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rng_next() % i);
        int64_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* The nearest-rank percentile by its definition: the smallest sample value
 * with at least p per cent of the sample at or below it. */
static int64_t by_definition(const int64_t *v, size_t n, unsigned p)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < 0)
            continue;
        size_t usable = 0, at_or_below = 0;
        for (size_t j = 0; j < n; j++) {
            if (v[j] < 0)
                continue;
            usable++;
            if (v[j] <= v[i])
                at_or_below++;
        }
        if (at_or_below * 100 >= p * usable && v[i] < best)
            best = v[i];
    }
    return best;
}

static void test_no_history(void **state)
{
    (void)state;
    estimate e;
    memset(&e, 0xAB, sizeof(e));
    estimate_compute(NULL, 0, &e);
    assert_false(e.available);
    assert_int_equal(e.sample, 0);
    assert_int_equal(e.median_s, 0);
    assert_int_equal(e.low_s, 0);
    assert_int_equal(e.high_s, 0);
    assert_non_null(e.reason);
    assert_true(strlen(e.reason) > 20);
}

static void test_nine_is_too_few(void **state)
{
    (void)state;
    int64_t v[9] = {5, 1, 9, 3, 7, 2, 8, 4, 6};
    estimate e;
    estimate_compute(v, 9, &e);
    assert_false(e.available);
    assert_int_equal(e.sample, 9);
    assert_int_equal(e.median_s, 0);
    assert_non_null(e.reason);
    assert_non_null(strstr(e.reason, "10"));
    /* The array is sorted in place even so. */
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(v[i], (int64_t)i + 1);
}

static void test_ten_is_enough(void **state)
{
    (void)state;
    int64_t v[10];
    for (size_t i = 0; i < 10; i++)
        v[i] = ((int64_t)i + 1) * 86400;
    shuffle(v, 10);
    estimate e;
    estimate_compute(v, 10, &e);
    assert_true(e.available);
    assert_null(e.reason);
    assert_int_equal(e.sample, 10);
    /* Ranks ceil(0.5 * 10) = 5, ceil(0.1 * 10) = 1, ceil(0.9 * 10) = 9. */
    assert_int_equal(e.median_s, 5 * 86400);
    assert_int_equal(e.low_s, 1 * 86400);
    assert_int_equal(e.high_s, 9 * 86400);
    for (size_t i = 1; i < 10; i++)
        assert_true(v[i - 1] <= v[i]);
}

static void test_negative_values_ignored(void **state)
{
    (void)state;
    int64_t v[14] = {-5, 3, 0, -1, 9, 1, -100, 4, 2, INT64_MIN, 6, 5, 8, 7};
    estimate e;
    estimate_compute(v, 14, &e);
    assert_int_equal(e.sample, 10);
    assert_true(e.available);
    assert_int_equal(e.low_s, 0);
    assert_int_equal(e.median_s, 4);
    assert_int_equal(e.high_s, 8);

    int64_t few[12] = {-1, -2, -3, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    estimate_compute(few, 12, &e);
    assert_false(e.available);
    assert_int_equal(e.sample, 9);
    assert_non_null(e.reason);

    int64_t none[3] = {-1, -2, -3};
    estimate_compute(none, 3, &e);
    assert_false(e.available);
    assert_int_equal(e.sample, 0);
    assert_non_null(e.reason);
}

static void test_many(void **state)
{
    (void)state;
    enum { N = 1001 };
    static int64_t v[N];
    estimate e;

    for (size_t i = 0; i < 1000; i++)
        v[i] = (int64_t)i + 1;
    shuffle(v, 1000);
    estimate_compute(v, 1000, &e);
    assert_true(e.available);
    assert_int_equal(e.sample, 1000);
    assert_int_equal(e.median_s, 500);
    assert_int_equal(e.low_s, 100);
    assert_int_equal(e.high_s, 900);

    for (size_t i = 0; i < N; i++)
        v[i] = (int64_t)i + 1;
    shuffle(v, N);
    estimate_compute(v, N, &e);
    assert_int_equal(e.median_s, 501);
    assert_int_equal(e.low_s, 101);
    assert_int_equal(e.high_s, 901);

    /* All the same: every figure is that value. */
    for (size_t i = 0; i < N; i++)
        v[i] = 3600;
    estimate_compute(v, N, &e);
    assert_int_equal(e.median_s, 3600);
    assert_int_equal(e.low_s, 3600);
    assert_int_equal(e.high_s, 3600);
}

static void test_against_definition(void **state)
{
    (void)state;
    int64_t v[300], copy[300];
    for (int round = 0; round < 500; round++) {
        size_t n = (size_t)(rng_next() % 300);
        for (size_t i = 0; i < n; i++) {
            /* A few negatives and many duplicates. */
            v[i] = (int64_t)(rng_next() % 50) - 5;
        }
        memcpy(copy, v, n * sizeof(v[0]));
        estimate e;
        estimate_compute(v, n, &e);
        size_t usable = 0;
        for (size_t i = 0; i < n; i++)
            usable += copy[i] >= 0;
        assert_int_equal(e.sample, usable);
        assert_int_equal(e.available, usable >= ESTIMATE_MIN_SAMPLE);
        if (!e.available) {
            assert_non_null(e.reason);
            continue;
        }
        assert_int_equal(e.median_s, by_definition(copy, n, 50));
        assert_int_equal(e.low_s, by_definition(copy, n, 10));
        assert_int_equal(e.high_s, by_definition(copy, n, 90));
        assert_true(e.low_s <= e.median_s && e.median_s <= e.high_s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_history),    cmocka_unit_test(test_nine_is_too_few),
        cmocka_unit_test(test_ten_is_enough), cmocka_unit_test(test_negative_values_ignored),
        cmocka_unit_test(test_many),          cmocka_unit_test(test_against_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
