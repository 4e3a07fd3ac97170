/* calendar.h - bank-holiday calendars and working days in UK time.
 *
 * A calendar is data, one holiday a line, the same text whether it ships
 * with the binary (the files in calendars/), or an administrator uploads it:
 *
 *   # comments and blank lines are ignored
 *   2026-12-25 Christmas Day
 *   2026-12-28 Boxing Day (substitute day)
 *
 * A working day is Monday to Friday and not a holiday of the calendar. Days
 * are counted in UK time (Europe/London: GMT, and BST from 01:00 UTC on the
 * last Sunday of March to 01:00 UTC on the last Sunday of October), since
 * every calendar here is a UK one. Pure functions: no I/O. Everything
 * calendar_parse returns is allocated in the arena it is given.
 */
#ifndef OC_CALENDAR_H
#define OC_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

#define CAL_MAX_DAYS 2000
#define CAL_NAME_MAX 100
#define CAL_LINE_MAX 200

typedef struct cal_holiday {
    int64_t day;      /* days since 1970-01-01 */
    const char *name; /* may be empty, never NULL */
} cal_holiday;

typedef struct calendar {
    cal_holiday *days; /* ascending, no day twice */
    size_t n;
} calendar;

/* A refusal: the line (1-based; 0 when not about one line) and a sentence. */
typedef struct cal_error {
    int line;
    char message[160];
} cal_error;

/* Parses `len` bytes of calendar text. Each line that is not blank or a
 * comment is a date YYYY-MM-DD (a real date, 1970 to 9999), then optionally
 * spaces or tabs and a name of at most CAL_NAME_MAX bytes of printable
 * UTF-8. Lines end with LF or CRLF and hold at most CAL_LINE_MAX bytes;
 * dates may come in any order but not twice; at most CAL_MAX_DAYS dates.
 * Returns 0, or -1 with *err filled and *out zeroed. */
int calendar_parse(arena *a, const char *text, size_t len, calendar *out, cal_error *err);

/* Whether `day` (days since the epoch) is a holiday of `cal`. */
bool calendar_is_holiday(const calendar *cal, int64_t day);
/* Monday to Friday and not a holiday. */
bool calendar_is_workday(const calendar *cal, int64_t day);
/* The `n`th working day after `day` (day itself never counts); day for n <= 0. */
int64_t calendar_add_workdays(const calendar *cal, int64_t day, int n);

/* The UK day (days since the epoch) that the UTC time t falls on. */
int64_t calendar_uk_day(int64_t t);
/* The last second of the UK day `day`, as a UTC time. */
int64_t calendar_uk_day_end(int64_t day);
/* Whether UK clocks show BST at the UTC time t. */
bool calendar_uk_summer(int64_t t);

/* Days since the epoch of a civil date, and back. */
int64_t calendar_day_from_civil(int y, int m, int d);
void calendar_civil_from_day(int64_t day, int *y, int *m, int *d);

#endif
