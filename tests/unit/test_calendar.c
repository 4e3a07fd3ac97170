/* test_calendar.c - calendar parsing, working days across weekends and the
 * shipped bank holidays of each UK nation, and UK days around the clock
 * changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "domain/calendar.h"
#include "embedded.h"

#define DAY 86400
#define HOUR 3600

static int64_t day_of(int y, int m, int d)
{
    return calendar_day_from_civil(y, m, d);
}

static int parse(arena *a, const char *text, calendar *cal, cal_error *err)
{
    return calendar_parse(a, text, strlen(text), cal, err);
}

static void test_civil(void **state)
{
    (void)state;
    assert_int_equal(day_of(1970, 1, 1), 0);
    assert_int_equal(day_of(2026, 11, 23), 1795392000LL / DAY);
    assert_int_equal(day_of(2000, 3, 1) - day_of(2000, 2, 28), 2);
    assert_int_equal(day_of(1900, 3, 1) - day_of(1900, 2, 28), 1);
    for (int64_t d = -800000; d < 3000000; d += 997) {
        int y, m, dd;
        calendar_civil_from_day(d, &y, &m, &dd);
        assert_int_equal(day_of(y, m, dd), d);
    }
}

static void test_parse(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    calendar cal;
    cal_error err;
    const char *text = "# a comment\r\n"
                       "\n"
                       "2026-12-28 Boxing Day (substitute day)\r\n"
                       "   2026-12-25\tChristmas Day  \n"
                       "2027-01-01\n";
    assert_int_equal(parse(&a, text, &cal, &err), 0);
    assert_int_equal(cal.n, 3);
    assert_int_equal(cal.days[0].day, day_of(2026, 12, 25));
    assert_string_equal(cal.days[0].name, "Christmas Day");
    assert_string_equal(cal.days[1].name, "Boxing Day (substitute day)");
    assert_string_equal(cal.days[2].name, "");
    assert_true(calendar_is_holiday(&cal, day_of(2027, 1, 1)));
    assert_false(calendar_is_holiday(&cal, day_of(2026, 12, 26)));

    assert_int_equal(parse(&a, "", &cal, &err), 0);
    assert_int_equal(cal.n, 0);
    assert_int_equal(parse(&a, "# only comments\n\n", &cal, &err), 0);
    assert_int_equal(cal.n, 0);
    arena_free(&a);
}

static void expect_refusal(const char *text, size_t len, int line, const char *words)
{
    arena a;
    arena_init(&a);
    calendar cal;
    cal_error err;
    assert_int_equal(calendar_parse(&a, text, len, &cal, &err), -1);
    assert_null(cal.days);
    assert_int_equal(cal.n, 0);
    assert_int_equal(err.line, line);
    if (!strstr(err.message, words))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, words);
    arena_free(&a);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refusal("2026-02-29 Not a day\n", 21, 1, "does not exist");
    expect_refusal("1969-12-25 Too early\n", 21, 1, "does not exist");
    expect_refusal("2026-13-01\n", 11, 1, "does not exist");
    expect_refusal("\n25/12/2026 Christmas\n", 22, 2, "YYYY-MM-DD");
    expect_refusal("2026-12-25Christmas\n", 20, 1, "space");
    expect_refusal("2026-1-5 Short\n", 15, 1, "YYYY-MM-DD");
    expect_refusal("2026-12-25 A\n# x\n2026-12-25 B\n", 29, 3, "already on line 1");
    expect_refusal("2026-12-25 A\0B\n", 15, 1, "control");
    expect_refusal("2026-12-25 A\rB\n", 15, 1, "control");
    expect_refusal("2026-12-25 \xff\xfe\n", 14, 1, "UTF-8");

    char line[CAL_LINE_MAX + 2];
    memset(line, 'x', sizeof(line));
    memcpy(line, "2026-12-25 ", 11);
    line[sizeof(line) - 1] = '\n';
    expect_refusal(line, sizeof(line), 1, "at most");

    char name[11 + CAL_NAME_MAX + 2];
    memset(name, 'y', sizeof(name));
    memcpy(name, "2026-12-25 ", 11);
    name[sizeof(name) - 1] = '\n';
    expect_refusal(name, sizeof(name), 1, "name");

    /* One more date than a calendar may hold. */
    static char many[(CAL_MAX_DAYS + 1) * 11 + 1];
    size_t used = 0;
    for (int i = 0; i <= CAL_MAX_DAYS; i++) {
        int y, m, d;
        calendar_civil_from_day(day_of(2020, 1, 1) + i, &y, &m, &d);
        used += (size_t)snprintf(many + used, sizeof(many) - used, "%04d-%02d-%02d\n", y, m, d);
    }
    expect_refusal(many, used, CAL_MAX_DAYS + 1, "at most");
}

static void load(arena *a, const char *text, size_t len, calendar *cal)
{
    cal_error err;
    if (calendar_parse(a, text, len, cal, &err) != 0)
        fail_msg("shipped calendar refused: %s", err.message);
}

/* Every shipped calendar parses, covers 2024 to 2028, and holds only
 * weekdays: a substitute day is never a Saturday or Sunday. */
static void test_shipped(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    calendar ew, sc, ni;
    load(&a, embedded_england_and_wales_txt, embedded_england_and_wales_txt_len, &ew);
    load(&a, embedded_scotland_txt, embedded_scotland_txt_len, &sc);
    load(&a, embedded_northern_ireland_txt, embedded_northern_ireland_txt_len, &ni);
    assert_int_equal(ew.n, 5 * 8);
    assert_int_equal(sc.n, 5 * 9);
    assert_int_equal(ni.n, 5 * 10);
    const calendar *all[] = {&ew, &sc, &ni};
    for (size_t c = 0; c < 3; c++) {
        int y, m, d;
        calendar_civil_from_day(all[c]->days[0].day, &y, &m, &d);
        assert_int_equal(y, 2024);
        calendar_civil_from_day(all[c]->days[all[c]->n - 1].day, &y, &m, &d);
        assert_int_equal(y, 2028);
        for (size_t i = 0; i < all[c]->n; i++)
            assert_true(calendar_is_workday(&(calendar){0}, all[c]->days[i].day));
    }
    /* Easter Monday is not a bank holiday in Scotland; St Andrew's Day,
     * 2 January and the first Monday of August are; St Patrick's Day and
     * the Twelfth only in Northern Ireland. */
    assert_true(calendar_is_holiday(&ew, day_of(2026, 4, 6)));
    assert_false(calendar_is_holiday(&sc, day_of(2026, 4, 6)));
    assert_true(calendar_is_holiday(&sc, day_of(2026, 11, 30)));
    assert_false(calendar_is_holiday(&ew, day_of(2026, 11, 30)));
    assert_true(calendar_is_holiday(&sc, day_of(2026, 1, 2)));
    assert_true(calendar_is_holiday(&sc, day_of(2026, 8, 3)));
    assert_false(calendar_is_holiday(&sc, day_of(2026, 8, 31)));
    assert_true(calendar_is_holiday(&ni, day_of(2026, 3, 17)));
    assert_true(calendar_is_holiday(&ni, day_of(2026, 7, 13)));
    assert_false(calendar_is_holiday(&ew, day_of(2026, 7, 13)));
    arena_free(&a);
}

static void test_workdays(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    calendar ew, sc, none = {0};
    load(&a, embedded_england_and_wales_txt, embedded_england_and_wales_txt_len, &ew);
    load(&a, embedded_scotland_txt, embedded_scotland_txt_len, &sc);

    /* A plain week: Monday 2026-11-23. */
    int64_t mon = day_of(2026, 11, 23);
    assert_true(calendar_is_workday(&ew, mon));
    assert_false(calendar_is_workday(&ew, mon + 5));
    assert_int_equal(calendar_add_workdays(&ew, mon, 0), mon);
    assert_int_equal(calendar_add_workdays(&ew, mon, 4), mon + 4);
    assert_int_equal(calendar_add_workdays(&ew, mon, 5), mon + 7);
    /* From a Saturday the first working day is Monday. */
    assert_int_equal(calendar_add_workdays(&ew, mon + 5, 1), mon + 7);

    /* Christmas and New Year 2026: Friday 25 and Monday 28 (Boxing Day's
     * substitute) are holidays, then 1 January. */
    int64_t thu24 = day_of(2026, 12, 24);
    assert_int_equal(calendar_add_workdays(&ew, thu24, 1), day_of(2026, 12, 29));
    assert_int_equal(calendar_add_workdays(&ew, thu24, 3), day_of(2026, 12, 31));
    assert_int_equal(calendar_add_workdays(&ew, thu24, 4), day_of(2027, 1, 4));
    assert_int_equal(calendar_add_workdays(&none, thu24, 4), day_of(2026, 12, 30));

    /* Scotland keeps 2 January too: in 2027 it falls on a Saturday and
     * Monday 4 January is its substitute. */
    int64_t thu31 = day_of(2026, 12, 31);
    assert_int_equal(calendar_add_workdays(&ew, thu31, 1), day_of(2027, 1, 4));
    assert_int_equal(calendar_add_workdays(&sc, thu31, 1), day_of(2027, 1, 5));

    /* Easter 2026: Good Friday everywhere, Easter Monday not in Scotland. */
    int64_t thu2 = day_of(2026, 4, 2);
    assert_int_equal(calendar_add_workdays(&ew, thu2, 1), day_of(2026, 4, 7));
    assert_int_equal(calendar_add_workdays(&sc, thu2, 1), day_of(2026, 4, 6));
    arena_free(&a);
}

static void test_uk_time(void **state)
{
    (void)state;
    /* BST 2026: 01:00 UTC on 29 March to 01:00 UTC on 25 October. */
    int64_t spring = day_of(2026, 3, 29) * DAY + HOUR;
    int64_t autumn = day_of(2026, 10, 25) * DAY + HOUR;
    assert_false(calendar_uk_summer(spring - 1));
    assert_true(calendar_uk_summer(spring));
    assert_true(calendar_uk_summer(autumn - 1));
    assert_false(calendar_uk_summer(autumn));

    /* 23:30 UTC in June is 00:30 the next day in London; in December it is
     * still the same day. */
    assert_int_equal(calendar_uk_day(day_of(2026, 6, 10) * DAY + 23 * HOUR + 1800),
                     day_of(2026, 6, 11));
    assert_int_equal(calendar_uk_day(day_of(2026, 12, 10) * DAY + 23 * HOUR + 1800),
                     day_of(2026, 12, 10));

    /* The end of a day is 23:59:59 on London's clock. */
    assert_int_equal(calendar_uk_day_end(day_of(2026, 6, 10)),
                     day_of(2026, 6, 10) * DAY + 23 * HOUR - 1);
    assert_int_equal(calendar_uk_day_end(day_of(2026, 12, 10)), day_of(2026, 12, 11) * DAY - 1);
    /* The days the clocks change: the Saturday before BST ends in GMT, the
     * Sunday it starts ends in BST; the Sunday it ends, in GMT. */
    assert_int_equal(calendar_uk_day_end(day_of(2026, 3, 28)), day_of(2026, 3, 29) * DAY - 1);
    assert_int_equal(calendar_uk_day_end(day_of(2026, 3, 29)),
                     day_of(2026, 3, 30) * DAY - HOUR - 1);
    assert_int_equal(calendar_uk_day_end(day_of(2026, 10, 24)),
                     day_of(2026, 10, 25) * DAY - HOUR - 1);
    assert_int_equal(calendar_uk_day_end(day_of(2026, 10, 25)), day_of(2026, 10, 26) * DAY - 1);
    /* And the end of a day is on that day. */
    for (int64_t d = day_of(2024, 1, 1); d < day_of(2029, 1, 1); d++) {
        assert_int_equal(calendar_uk_day(calendar_uk_day_end(d)), d);
        assert_int_equal(calendar_uk_day(calendar_uk_day_end(d) + 1), d + 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil),    cmocka_unit_test(test_parse),
        cmocka_unit_test(test_refusals), cmocka_unit_test(test_shipped),
        cmocka_unit_test(test_workdays), cmocka_unit_test(test_uk_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
