/* calendar.c - bank-holiday calendars and UK days; see calendar.h.
 *
 * Dates are day numbers since 1970-01-01, converted with the proleptic
 * Gregorian algorithms of Howard Hinnant's "chrono-compatible low-level date
 * algorithms", which need no tables and no loops.
 */
#include "domain/calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/validate.h"

#define DAY_SECONDS 86400
#define HOUR_SECONDS 3600
#define YEAR_MIN 1970
#define YEAR_MAX 9999

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t calendar_day_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = floor_div(yy, 400);
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void calendar_civil_from_day(int64_t day, int *y, int *m, int *d)
{
    int64_t z = day + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

/* 0 for Monday to 6 for Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t day)
{
    int64_t r = (day + 3) % 7;
    return (int)(r < 0 ? r + 7 : r);
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* ---- parsing ---- */

typedef struct entry {
    int64_t day;
    const char *name;
    int line;
} entry;

static int fail(cal_error *err, int line, const char *msg)
{
    err->line = line;
    if (line > 0)
        snprintf(err->message, sizeof(err->message), "line %d: %s", line, msg);
    else
        snprintf(err->message, sizeof(err->message), "%s", msg);
    return -1;
}

static bool digits(const char *p, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* A date YYYY-MM-DD at p (at least 10 bytes), or -1 with the reason. */
static int parse_date(const char *p, int64_t *day, const char **why)
{
    int y, m, d;
    if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &m) || p[7] != '-' ||
        !digits(p + 8, 2, &d)) {
        *why = "a holiday line starts with a date written YYYY-MM-DD";
        return -1;
    }
    if (y < YEAR_MIN || y > YEAR_MAX || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
        *why = "the date does not exist (or is before 1970)";
        return -1;
    }
    *day = calendar_day_from_civil(y, m, d);
    return 0;
}

static int cmp_entry(const void *x, const void *y)
{
    const entry *a = x, *b = y;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return (a->line > b->line) - (a->line < b->line);
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

int calendar_parse(arena *a, const char *text, size_t len, calendar *out, cal_error *err)
{
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    entry *entries = NULL;
    size_t n = 0, cap = 0;
    size_t pos = 0;
    int line = 0;
    while (pos < len) {
        const char *p = text + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - p) : len - pos;
        pos += llen + (nl ? 1 : 0);
        if (line == INT32_MAX)
            return fail(err, 0, "the calendar has too many lines");
        line++;
        if (llen > 0 && p[llen - 1] == '\r')
            llen--;
        if (llen > CAL_LINE_MAX) {
            char msg[64];
            snprintf(msg, sizeof(msg), "a line may hold at most %d bytes", CAL_LINE_MAX);
            return fail(err, line, msg);
        }
        if (memchr(p, '\0', llen) || memchr(p, '\r', llen))
            return fail(err, line, "the line holds a control character");
        while (llen > 0 && blank(p[0])) {
            p++;
            llen--;
        }
        while (llen > 0 && blank(p[llen - 1]))
            llen--;
        if (llen == 0 || p[0] == '#')
            continue;

        int64_t day;
        const char *why = "a holiday line starts with a date written YYYY-MM-DD";
        if (llen < 10 || parse_date(p, &day, &why) != 0)
            return fail(err, line, why);
        const char *rest = p + 10;
        size_t rlen = llen - 10;
        if (rlen > 0 && !blank(rest[0]))
            return fail(err, line, "put a space between the date and the holiday's name");
        while (rlen > 0 && blank(rest[0])) {
            rest++;
            rlen--;
        }
        char *name = arena_strndup(a, rest, rlen);
        if (!name)
            return fail(err, 0, "out of memory");
        if (!valid_text(name, CAL_NAME_MAX, false)) {
            char msg[96];
            snprintf(msg, sizeof(msg),
                     "the holiday's name must be at most %d bytes of printable UTF-8",
                     CAL_NAME_MAX);
            return fail(err, line, msg);
        }
        if (n == CAL_MAX_DAYS) {
            char msg[64];
            snprintf(msg, sizeof(msg), "a calendar holds at most %d holidays", CAL_MAX_DAYS);
            return fail(err, line, msg);
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            entry *bigger = arena_calloc(a, ncap, sizeof(*bigger));
            if (!bigger)
                return fail(err, 0, "out of memory");
            if (n)
                memcpy(bigger, entries, n * sizeof(*entries));
            entries = bigger;
            cap = ncap;
        }
        entries[n++] = (entry){.day = day, .name = name, .line = line};
    }
    if (n > 1)
        qsort(entries, n, sizeof(*entries), cmp_entry);
    for (size_t i = 1; i < n; i++) {
        if (entries[i].day == entries[i - 1].day) {
            char msg[96];
            int y, m, d;
            calendar_civil_from_day(entries[i].day, &y, &m, &d);
            snprintf(msg, sizeof(msg), "%04d-%02d-%02d is already on line %d", y, m, d,
                     entries[i - 1].line);
            return fail(err, entries[i].line, msg);
        }
    }
    cal_holiday *days = n ? arena_calloc(a, n, sizeof(*days)) : NULL;
    if (n && !days)
        return fail(err, 0, "out of memory");
    for (size_t i = 0; i < n; i++)
        days[i] = (cal_holiday){.day = entries[i].day, .name = entries[i].name};
    out->days = days;
    out->n = n;
    return 0;
}

/* ---- working days ---- */

bool calendar_is_holiday(const calendar *cal, int64_t day)
{
    size_t lo = 0, hi = cal->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->days[mid].day == day)
            return true;
        if (cal->days[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool calendar_is_workday(const calendar *cal, int64_t day)
{
    return weekday(day) < 5 && !calendar_is_holiday(cal, day);
}

int64_t calendar_add_workdays(const calendar *cal, int64_t day, int n)
{
    for (int left = n; left > 0;) {
        day++;
        if (calendar_is_workday(cal, day))
            left--;
    }
    return day;
}

/* ---- UK time ---- */

/* The last Sunday of month m (March or October) of year y. */
static int64_t last_sunday(int y, int m)
{
    int64_t last = calendar_day_from_civil(y, m, 31);
    return last - (weekday(last) + 1) % 7;
}

bool calendar_uk_summer(int64_t t)
{
    int y, m, d;
    calendar_civil_from_day(floor_div(t, DAY_SECONDS), &y, &m, &d);
    int64_t start = last_sunday(y, 3) * DAY_SECONDS + HOUR_SECONDS;
    int64_t end = last_sunday(y, 10) * DAY_SECONDS + HOUR_SECONDS;
    return t >= start && t < end;
}

int64_t calendar_uk_day(int64_t t)
{
    return floor_div(t + (calendar_uk_summer(t) ? HOUR_SECONDS : 0), DAY_SECONDS);
}

int64_t calendar_uk_day_end(int64_t day)
{
    /* Clocks change at 01:00 UTC, so the midnight that ends the day is on
     * BST exactly when the next day lies after March's last Sunday and no
     * later than October's. */
    int64_t next = day + 1;
    int y, m, d;
    calendar_civil_from_day(next, &y, &m, &d);
    bool summer = next > last_sunday(y, 3) && next <= last_sunday(y, 10);
    return next * DAY_SECONDS - (summer ? HOUR_SECONDS : 0) - 1;
}
