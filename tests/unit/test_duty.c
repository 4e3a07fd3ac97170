/* test_duty.c - duty definitions, due times over weekends, bank holidays,
 * Christmas and the clock changes, in England and in Scotland, for normal
 * and enhanced cases; states at the edges of the due time; compliance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "domain/duty.h"
#include "embedded.h"

#define DAY 86400
#define HOUR 3600

static arena a;
static workflow wf;
static calendar ew, sc;

static int64_t at(int y, int m, int d, int hour_utc)
{
    return calendar_day_from_civil(y, m, d) * DAY + (int64_t)hour_utc * HOUR;
}

/* 23:59:59 on London's clock on that day, in GMT or BST as given. */
static int64_t end_of(int y, int m, int d, bool bst)
{
    return calendar_day_from_civil(y, m, d + 1) * DAY - (bst ? HOUR : 0) - 1;
}

static int setup(void **state)
{
    (void)state;
    arena_init(&a);
    json_t *def =
        json_loads("{\"initial\": \"reported\", \"stages\": ["
                   "{\"code\": \"reported\", \"name\": \"Reported\", \"milestone\": true},"
                   "{\"code\": \"charged\", \"name\": \"Charged\", \"milestone\": true},"
                   "{\"code\": \"closed\", \"name\": \"Closed\", \"terminal\": true}],"
                   "\"transitions\": {\"reported\": [\"charged\"],"
                   " \"charged\": [\"closed\"]}}",
                   0, NULL);
    wf_error werr;
    cal_error cerr;
    if (!def || workflow_parse(&a, def, &wf, &werr) != 0 ||
        calendar_parse(&a, embedded_england_and_wales_txt, embedded_england_and_wales_txt_len, &ew,
                       &cerr) != 0 ||
        calendar_parse(&a, embedded_scotland_txt, embedded_scotland_txt_len, &sc, &cerr) != 0)
        return -1;
    json_decref(def);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(&a);
    return 0;
}

static int parse(const char *text, duty_list *out, duty_error *err)
{
    json_t *def = json_loads(text, 0, NULL);
    if (!def)
        fail_msg("test JSON does not parse: %s", text);
    int rc = duty_parse(&a, def, &wf, out, err);
    json_decref(def);
    return rc;
}

static void test_parse(void **state)
{
    (void)state;
    duty_list list;
    duty_error err;
    assert_int_equal(
        parse("[{\"code\": \"tell-charge\", \"name\": \"Tell the victim\","
              " \"stage\": \"charged\", \"days\": 5, \"enhanced_days\": 1},"
              " {\"code\": \"ack\", \"name\": \"Acknowledge\", \"stage\": \"reported\","
              " \"days\": 2, \"enhanced_days\": null}]",
              &list, &err),
        0);
    assert_int_equal(list.n, 2);
    assert_string_equal(list.items[0].stage, "charged");
    assert_int_equal(duty_days(&list.items[0], false), 5);
    assert_int_equal(duty_days(&list.items[0], true), 1);
    /* Without enhanced_days an enhanced case gets the same days. */
    assert_int_equal(duty_days(&list.items[1], true), 2);
    assert_ptr_equal(duty_find(&list, "ack"), &list.items[1]);
    assert_null(duty_find(&list, "nope"));
    assert_int_equal(parse("[]", &list, &err), 0);
    assert_int_equal(list.n, 0);
}

static void expect_refusal(const char *text, const char *field, const char *words)
{
    duty_list list;
    duty_error err;
    assert_int_equal(parse(text, &list, &err), -1);
    assert_null(list.items);
    assert_string_equal(err.field, field);
    if (!strstr(err.message, words))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, words);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refusal("{}", "duties", "list");
    expect_refusal("[1]", "duties[0]", "object");
    expect_refusal("[{\"code\": \"a\", \"name\": \"A\", \"stage\": \"charged\", \"days\": 1,"
                   " \"weeks\": 2}]",
                   "duties[0].weeks", "unknown field weeks");
    expect_refusal("[{\"name\": \"A\", \"stage\": \"charged\", \"days\": 1}]", "duties[0].code",
                   "required");
    expect_refusal(
        "[{\"code\": \"Bad Code\", \"name\": \"A\", \"stage\": \"charged\", \"days\": 1}]",
        "duties[0].code", "lower-case");
    expect_refusal("[{\"code\": \"a\", \"name\": \"\", \"stage\": \"charged\", \"days\": 1}]",
                   "duties[0].name", "printable");
    expect_refusal("[{\"code\": \"a\", \"name\": \"A\", \"stage\": \"arrested\", \"days\": 1}]",
                   "duties[0].stage", "no stage arrested");
    expect_refusal("[{\"code\": \"a\", \"name\": \"A\", \"stage\": \"charged\"}]", "duties[0].days",
                   "required");
    expect_refusal("[{\"code\": \"a\", \"name\": \"A\", \"stage\": \"charged\", \"days\": 0}]",
                   "duties[0].days", "from 1 to 365");
    expect_refusal("[{\"code\": \"a\", \"name\": \"A\", \"stage\": \"charged\", \"days\": 366}]",
                   "duties[0].days", "from 1 to 365");
    expect_refusal("[{\"code\": \"a\", \"name\": \"A\", \"stage\": \"charged\", \"days\": 1.5}]",
                   "duties[0].days", "whole number");
    expect_refusal("[{\"code\": \"a\", \"name\": \"A\", \"stage\": \"charged\", \"days\": 1,"
                   " \"enhanced_days\": \"1\"}]",
                   "duties[0].enhanced_days", "whole number");
    expect_refusal("[{\"code\": \"a\", \"name\": \"A\", \"stage\": \"charged\", \"days\": 1},"
                   " {\"code\": \"a\", \"name\": \"B\", \"stage\": \"reported\", \"days\": 2}]",
                   "duties[1].code", "twice");
    char many[4096] = "[";
    for (int i = 0; i <= DUTY_MAX; i++) {
        char one[96];
        snprintf(one, sizeof(one),
                 "%s{\"code\": \"d%d\", \"name\": \"D\", \"stage\": \"charged\","
                 " \"days\": 1}",
                 i ? "," : "", i);
        strncat(many, one, sizeof(many) - strlen(many) - 1);
    }
    strncat(many, "]", sizeof(many) - strlen(many) - 1);
    expect_refusal(many, "duties", "at most");
}

/* "When the case reaches stage charged, tell the victim within 5 working
 * days (1 if enhanced)", charged on Friday 18 December 2026 at 15:00. */
static void test_due_over_christmas(void **state)
{
    (void)state;
    int64_t charged = at(2026, 12, 18, 15);
    /* Mon 21, Tue 22, Wed 23, Thu 24, then Christmas (Fri 25), the weekend,
     * Boxing Day's substitute (Mon 28): the fifth is Tuesday 29. */
    assert_int_equal(duty_due_at(&ew, charged, 5), end_of(2026, 12, 29, false));
    assert_int_equal(duty_due_at(&ew, charged, 1), end_of(2026, 12, 21, false));
    /* Over New Year: from Wednesday 30 December, 2 working days are Thursday
     * 31 and Monday 4 January in England, but Tuesday 5 in Scotland, whose
     * 2 January (a Saturday) moves to the Monday. */
    assert_int_equal(duty_due_at(&ew, at(2026, 12, 30, 9), 2), end_of(2027, 1, 4, false));
    assert_int_equal(duty_due_at(&sc, at(2026, 12, 30, 9), 2), end_of(2027, 1, 5, false));
}

/* Across Easter, a bank-holiday weekend in BST. */
static void test_due_over_easter(void **state)
{
    (void)state;
    /* Thursday 2 April 2026 10:00 BST. England: Good Friday, the weekend and
     * Easter Monday pass, then Tuesday 7 and Wednesday 8. Scotland works on
     * Easter Monday. */
    int64_t t = at(2026, 4, 2, 9);
    assert_int_equal(duty_due_at(&ew, t, 2), end_of(2026, 4, 8, true));
    assert_int_equal(duty_due_at(&sc, t, 2), end_of(2026, 4, 7, true));
    /* St Andrew's Day: Friday 27 November 2026 + 1 working day. */
    assert_int_equal(duty_due_at(&ew, at(2026, 11, 27, 12), 1), end_of(2026, 11, 30, false));
    assert_int_equal(duty_due_at(&sc, at(2026, 11, 27, 12), 1), end_of(2026, 12, 1, false));
}

/* The day a duty starts from is London's: 23:30 UTC in summer is already
 * the next day. */
static void test_due_uk_day(void **state)
{
    (void)state;
    /* Wednesday 10 June 2026 23:30 UTC = Thursday 11 June 00:30 BST. */
    int64_t late = at(2026, 6, 10, 23) + 1800;
    assert_int_equal(duty_due_at(&ew, late, 1), end_of(2026, 6, 12, true));
    /* In winter 23:30 UTC is the same day in London. */
    int64_t winter = at(2026, 12, 9, 23) + 1800;
    assert_int_equal(duty_due_at(&ew, winter, 1), end_of(2026, 12, 10, false));
    /* From a Saturday, the first working day is Monday. */
    assert_int_equal(duty_due_at(&ew, at(2026, 11, 28, 10), 1), end_of(2026, 11, 30, false));
}

static void test_states(void **state)
{
    (void)state;
    int64_t due = end_of(2026, 12, 29, false);
    assert_int_equal(duty_state_at(due, 0, due - 100), DUTY_DUE);
    assert_int_equal(duty_state_at(due, 0, due), DUTY_DUE);
    assert_int_equal(duty_state_at(due, 0, due + 1), DUTY_MISSED);
    /* Met exactly at the due time is on time; a second later is late. */
    assert_int_equal(duty_state_at(due, due, due + 1000), DUTY_MET);
    assert_int_equal(duty_state_at(due, due - 5000, due - 1000), DUTY_MET);
    assert_int_equal(duty_state_at(due, due + 1, due + 1000), DUTY_MET_LATE);
    assert_string_equal(duty_state_name(DUTY_DUE), "due");
    assert_string_equal(duty_state_name(DUTY_MISSED), "missed");
    assert_string_equal(duty_state_name(DUTY_MET), "met");
    assert_string_equal(duty_state_name(DUTY_MET_LATE), "met_late");
    /* Only a duty still due is re-timed when the case's flag changes. */
    assert_true(duty_retimes(due, 0, due));
    assert_false(duty_retimes(due, 0, due + 1));
    assert_false(duty_retimes(due, due - 10, due - 5));
}

static void test_compliance(void **state)
{
    (void)state;
    double rate = -1;
    duty_tally t = {0};
    assert_false(duty_compliance(&t, &rate));
    assert_true(rate == 0);
    duty_tally a1 = {.met = 3, .met_late = 1, .missed = 1};
    duty_tally a2 = {.met = 0, .met_late = 0, .missed = 1};
    duty_tally_add(&t, &a1);
    duty_tally_add(&t, &a2);
    assert_int_equal(duty_tally_due(&t), 6);
    assert_true(duty_compliance(&a1, &rate));
    assert_true(rate == 0.6);
    /* Met late counts against compliance, as missed does. */
    assert_true(duty_compliance(&t, &rate));
    assert_true(rate == 0.5);
    duty_tally third = {.met = 2, .missed = 1};
    assert_true(duty_compliance(&third, &rate));
    assert_true(rate == 0.6667);
    duty_tally none_met = {.met_late = 4};
    assert_true(duty_compliance(&none_met, &rate));
    assert_true(rate == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_due_over_christmas),
        cmocka_unit_test(test_due_over_easter),
        cmocka_unit_test(test_due_uk_day),
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_compliance),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
