/* workdays.c - working-day arithmetic in UTC; see workdays.h.
 *
 * Both functions rest on one definition: workdays_between(t, u) is the
 * largest k with workdays_add(t, k) <= u, so the two always agree. Any seven
 * consecutive days hold exactly five working days, which lets whole weeks be
 * counted without a loop.
 */
#include "domain/workdays.h"

#include <limits.h>

#define DAY_SECONDS 86400
#define WEEK_DAYS 7
#define WEEK_WORKDAYS 5
/* 1970-01-05, the first Monday of the epoch, as a day number. */
#define EPOCH_MONDAY 4

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Seconds since midnight; computed from the remainder so that it cannot
 * overflow even for the earliest representable time. */
static int64_t time_of_day(int64_t t)
{
    int64_t r = t % DAY_SECONDS;
    return r < 0 ? r + DAY_SECONDS : r;
}

/* 0 for Monday to 6 for Sunday. */
static int64_t weekday(int64_t day)
{
    return day - EPOCH_MONDAY - floor_div(day - EPOCH_MONDAY, WEEK_DAYS) * WEEK_DAYS;
}

/* Working days from EPOCH_MONDAY up to and including `day`, as an offset
 * that only ever appears in differences. */
static int64_t workdays_upto(int64_t day)
{
    int64_t weeks = floor_div(day - EPOCH_MONDAY, WEEK_DAYS);
    int64_t wd = weekday(day);
    return weeks * WEEK_WORKDAYS + (wd < WEEK_WORKDAYS ? wd + 1 : WEEK_WORKDAYS);
}

int64_t workdays_add(int64_t t, int days)
{
    if (days <= 0)
        return t;
    int64_t start = floor_div(t, DAY_SECONDS);
    int64_t day = start;

    /* From a Saturday or Sunday the next working day is Monday, as it is from
     * Friday; starting from Friday keeps whole weeks landing on a weekday. */
    int64_t wd = weekday(day);
    if (wd >= WEEK_WORKDAYS)
        day -= wd - (WEEK_WORKDAYS - 1);
    day += (int64_t)(days / WEEK_WORKDAYS) * WEEK_DAYS;
    for (int left = days % WEEK_WORKDAYS; left > 0;) {
        day++;
        if (weekday(day) < WEEK_WORKDAYS)
            left--;
    }
    /* The day reached is always later than the start; saturate rather than
     * wrap for times at the very end of the range. */
    int64_t r;
    if (__builtin_mul_overflow(day - start, (int64_t)DAY_SECONDS, &r) ||
        __builtin_add_overflow(t, r, &r))
        return INT64_MAX;
    return r;
}

int workdays_between(int64_t from, int64_t to)
{
    if (to <= from)
        return 0;
    int64_t from_day = floor_div(from, DAY_SECONDS);
    int64_t to_day = floor_div(to, DAY_SECONDS);
    int64_t from_tod = time_of_day(from);
    int64_t to_tod = time_of_day(to);

    /* The day `to` falls on counts only once its time of day reaches the
     * time of day of `from`. */
    int64_t last = to_tod >= from_tod ? to_day : to_day - 1;
    int64_t n = workdays_upto(last) - workdays_upto(from_day);
    if (n < 0)
        return 0;
    return n > INT_MAX ? INT_MAX : (int)n;
}
