/* test_workdays.c - working-day arithmetic across weekends, against a
 * day-by-day count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#include <cmocka.h>

#include "testrng.h"

#include "domain/workdays.h"

#define DAY 86400
#define HOUR 3600
#define MON_2026_11_23 1795392000LL /* a Monday, midnight UTC */
#define MON_1969_12_29 (-259200LL)

static testrng rng = {0xD1B54A32D192ED03u};

static uint64_t rng_next(void)
{
    return testrng_next(&rng);
}

/* Day by day, the obvious way: 1970-01-01 was a Thursday. */
static int64_t slow_add(int64_t t, int days)
{
    int64_t day = t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY);
    int64_t tod = t - day * DAY;
    while (days > 0) {
        day++;
        int64_t wd = ((day % 7) + 7 + 3) % 7; /* 0 = Monday */
        if (wd < 5)
            days--;
    }
    return day * DAY + tod;
}

static void test_add_within_week(void **state)
{
    (void)state;
    int64_t mon10 = MON_2026_11_23 + 10 * HOUR;
    assert_int_equal(workdays_add(mon10, 1), mon10 + DAY);
    assert_int_equal(workdays_add(mon10, 4), mon10 + 4 * DAY);
    assert_int_equal(workdays_add(mon10, 5), mon10 + 7 * DAY);
    assert_int_equal(workdays_add(mon10, 10), mon10 + 14 * DAY);
    assert_int_equal(workdays_add(mon10, 6), mon10 + 8 * DAY);
}

static void test_add_across_weekend(void **state)
{
    (void)state;
    int64_t thu = MON_2026_11_23 + 3 * DAY + 9 * HOUR;
    int64_t fri = MON_2026_11_23 + 4 * DAY + 17 * HOUR;
    int64_t sat = MON_2026_11_23 + 5 * DAY + 12 * HOUR;
    int64_t sun = MON_2026_11_23 + 6 * DAY + 23 * HOUR;
    int64_t next_mon = MON_2026_11_23 + 7 * DAY;

    assert_int_equal(workdays_add(thu, 2), next_mon + 9 * HOUR);
    assert_int_equal(workdays_add(fri, 1), next_mon + 17 * HOUR);
    assert_int_equal(workdays_add(fri, 5), next_mon + 4 * DAY + 17 * HOUR);
    /* From the weekend the first working day is Monday. */
    assert_int_equal(workdays_add(sat, 1), next_mon + 12 * HOUR);
    assert_int_equal(workdays_add(sat, 5), next_mon + 4 * DAY + 12 * HOUR);
    assert_int_equal(workdays_add(sat, 6), next_mon + 7 * DAY + 12 * HOUR);
    assert_int_equal(workdays_add(sun, 1), next_mon + 23 * HOUR);
    assert_int_equal(workdays_add(sun, 10), next_mon + 11 * DAY + 23 * HOUR);
}

static void test_add_non_positive(void **state)
{
    (void)state;
    int64_t sat = MON_2026_11_23 + 5 * DAY;
    assert_int_equal(workdays_add(sat, 0), sat);
    assert_int_equal(workdays_add(sat, -3), sat);
    assert_int_equal(workdays_add(sat, INT_MIN), sat);
}

static void test_add_before_epoch(void **state)
{
    (void)state;
    /* Friday 1970-01-02 12:00 and the Friday before, 1969-12-26. */
    int64_t fri = MON_1969_12_29 - 3 * DAY + 12 * HOUR;
    assert_int_equal(workdays_add(fri, 1), MON_1969_12_29 + 12 * HOUR);
    assert_int_equal(workdays_add(MON_1969_12_29 - 1, 1), MON_1969_12_29 + DAY - 1);
    assert_int_equal(workdays_add(-1, 1), DAY - 1);     /* Wed 23:59:59 -> Thu */
    assert_int_equal(workdays_add(-1, 2), 2 * DAY - 1); /* -> Fri */
}

static void test_add_extremes(void **state)
{
    (void)state;
    int64_t r = workdays_add(MON_2026_11_23, INT_MAX);
    assert_true(r > MON_2026_11_23);
    assert_int_equal(r % DAY, 0);
    /* INT_MAX = 429496729 weeks and 2 days. */
    assert_int_equal(r, MON_2026_11_23 + (429496729LL * 7 + 2) * DAY);
    assert_int_equal(workdays_add(INT64_MAX - 10, 1), INT64_MAX);
    assert_true(workdays_add(INT64_MIN, 1) > INT64_MIN);
}

static void test_between(void **state)
{
    (void)state;
    int64_t mon10 = MON_2026_11_23 + 10 * HOUR;
    int64_t fri10 = mon10 + 4 * DAY;
    int64_t sat10 = mon10 + 5 * DAY;
    int64_t next_mon10 = mon10 + 7 * DAY;

    assert_int_equal(workdays_between(mon10, mon10), 0);
    assert_int_equal(workdays_between(mon10, mon10 - 1), 0);
    assert_int_equal(workdays_between(mon10, mon10 + DAY - 1), 0);
    assert_int_equal(workdays_between(mon10, mon10 + DAY), 1);
    assert_int_equal(workdays_between(mon10, fri10), 4);
    assert_int_equal(workdays_between(mon10, sat10), 4);
    assert_int_equal(workdays_between(mon10, next_mon10), 5);
    assert_int_equal(workdays_between(fri10, sat10 + 13 * HOUR), 0);
    assert_int_equal(workdays_between(fri10, next_mon10 - 1), 0);
    assert_int_equal(workdays_between(fri10, next_mon10), 1);
    assert_int_equal(workdays_between(sat10, next_mon10 - HOUR), 0);
    assert_int_equal(workdays_between(sat10, next_mon10), 1);
    assert_int_equal(workdays_between(sat10, next_mon10 + 4 * DAY), 5);
    assert_int_equal(workdays_between(mon10, mon10 + 28 * DAY), 20);
    assert_int_equal(workdays_between(INT64_MIN, INT64_MAX), INT_MAX);
}

static void test_against_day_by_day(void **state)
{
    (void)state;
    const int64_t span = 400LL * 365 * DAY;
    for (int i = 0; i < 20000; i++) {
        int64_t t = (int64_t)(rng_next() % (uint64_t)(2 * span)) - span;
        int k = (int)(rng_next() % 60);
        int64_t want = slow_add(t, k);
        int64_t got = workdays_add(t, k);
        if (got != want)
            fail_msg("workdays_add(%lld, %d) = %lld, want %lld", (long long)t, k, (long long)got,
                     (long long)want);
        /* The two functions agree: k days on is exactly k days between,
         * and one second short of it is k - 1. */
        assert_int_equal(workdays_between(t, got), k);
        if (k > 0)
            assert_int_equal(workdays_between(t, got - 1), k - 1);

        /* For an arbitrary end, `between` is the largest k that fits. */
        int64_t u = t + (int64_t)(rng_next() % (uint64_t)(90 * DAY));
        int n = workdays_between(t, u);
        assert_true(workdays_add(t, n) <= u);
        assert_true(workdays_add(t, n + 1) > u);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_within_week),    cmocka_unit_test(test_add_across_weekend),
        cmocka_unit_test(test_add_non_positive),   cmocka_unit_test(test_add_before_epoch),
        cmocka_unit_test(test_add_extremes),       cmocka_unit_test(test_between),
        cmocka_unit_test(test_against_day_by_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
