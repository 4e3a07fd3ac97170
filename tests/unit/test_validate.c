/* test_validate.c - text, codes, emails, postcodes and RFC 3339 times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "testrng.h"

#include "domain/validate.h"

static testrng rng = {0x2545F4914F6CDD1Du};

static uint64_t rng_next(void)
{
    return testrng_next(&rng);
}

static void test_text_utf8(void **state)
{
    (void)state;
    assert_true(valid_text("", 10, false));
    assert_true(valid_text("plain ascii", 100, false));
    assert_true(valid_text("caf\xc3\xa9", 100, false));      /* U+00E9 */
    assert_true(valid_text("\xe2\x82\xac 5", 100, false));   /* U+20AC */
    assert_true(valid_text("\xf0\x9f\x98\x80", 100, false)); /* U+1F600 */
    assert_true(valid_text("\xf4\x8f\xbf\xbf", 100, false)); /* U+10FFFF */
    assert_true(valid_text("\xed\x9f\xbf", 100, false));     /* U+D7FF */
    assert_true(valid_text("\xee\x80\x80", 100, false));     /* U+E000 */
    assert_false(valid_text(NULL, 100, false));

    /* Stray continuation bytes and bytes that never appear. */
    assert_false(valid_text("\x80", 100, false));
    assert_false(valid_text("a\xbf", 100, false));
    assert_false(valid_text("\xfe", 100, false));
    assert_false(valid_text("\xff", 100, false));
    assert_false(valid_text("\xf5\x80\x80\x80", 100, false));
    /* Truncated sequences, at the end and in the middle. */
    assert_false(valid_text("\xc3", 100, false));
    assert_false(valid_text("\xe2\x82", 100, false));
    assert_false(valid_text("\xf0\x9f\x98", 100, false));
    assert_false(valid_text("\xe2\x82x", 100, false));
    /* Overlong forms. */
    assert_false(valid_text("\xc0\xaf", 100, false));
    assert_false(valid_text("\xc1\xbf", 100, false));
    assert_false(valid_text("\xe0\x80\xaf", 100, false));
    assert_false(valid_text("\xe0\x9f\xbf", 100, false));
    assert_false(valid_text("\xf0\x80\x80\xaf", 100, false));
    assert_false(valid_text("\xf0\x8f\xbf\xbf", 100, false));
    /* Surrogates, encoded directly. */
    assert_false(valid_text("\xed\xa0\x80", 100, false));
    assert_false(valid_text("\xed\xbf\xbf", 100, false));
    /* Above U+10FFFF. */
    assert_false(valid_text("\xf4\x90\x80\x80", 100, false));
}

static void test_text_controls_and_length(void **state)
{
    (void)state;
    assert_false(valid_text("a\tb", 100, false));
    assert_false(valid_text("a\nb", 100, false));
    assert_true(valid_text("a\tb", 100, true));
    assert_true(valid_text("line one\nline two", 100, true));
    assert_true(valid_text("line one\r\nline two\r\n", 100, true));
    assert_false(valid_text("a\rb", 100, true)); /* a CR alone is not a line break */
    assert_false(valid_text("a\r", 100, true));
    assert_false(valid_text("a\x01", 100, true));
    assert_false(valid_text("a\x1b[31m", 100, true));
    assert_false(valid_text("a\x7f", 100, true));
    assert_false(valid_text("a\xc2\x85", 100, true)); /* U+0085, a C1 control */
    assert_true(valid_text("a\xc2\xa0", 100, true));  /* U+00A0 is not */

    assert_true(valid_text("12345", 5, false));
    assert_false(valid_text("123456", 5, false));
    assert_true(valid_text("\xc3\xa9\xc3\xa9", 4, false)); /* bytes, not characters */
    assert_false(valid_text("\xc3\xa9\xc3\xa9", 3, false));
    assert_true(valid_text("", 0, false));
    assert_false(valid_text("a", 0, false));
    assert_true(valid_text("anything", SIZE_MAX, false));
}

static void test_code(void **state)
{
    (void)state;
    assert_true(valid_code("pothole", 40));
    assert_true(valid_code("a", 1));
    assert_true(valid_code("0day", 40));
    assert_true(valid_code("missed-bin_2", 40));
    assert_false(valid_code("", 40));
    assert_false(valid_code(NULL, 40));
    assert_false(valid_code("-lead", 40));
    assert_false(valid_code("_lead", 40));
    assert_false(valid_code("Upper", 40));
    assert_false(valid_code("has space", 40));
    assert_false(valid_code("dot.ted", 40));
    assert_false(valid_code("caf\xc3\xa9", 40));
    assert_true(valid_code("abcde", 5));
    assert_false(valid_code("abcdef", 5));
    assert_false(valid_code("a", 0));
}

static void test_email(void **state)
{
    (void)state;
    const char *good[] = {
        "a@b.co",
        "jo.bloggs@example.org.uk",
        "first+tag@example.com",
        "x_y-z@sub.do-main.io",
        "O'Brien@example.ie",
        "user@xn--80ak6aa92e.com",
        "a@b.xn--p1ai",
    };
    const char *bad[] = {
        "",
        "plainaddress",
        "@example.com",
        "user@",
        "user@localhost",
        "user@example",
        "user@@example.com",
        "us@er@example.com",
        "user name@example.com",
        "user@exa mple.com",
        " user@example.com",
        ".user@example.com",
        "user.@example.com",
        "us..er@example.com",
        "user@.example.com",
        "user@example..com",
        "user@example.com.",
        "user@-example.com",
        "user@example-.com",
        "user@example.c",
        "user@192.168.0.1",
        "user@exa_mple.com",
        "us(er)@example.com",
        "us\"er@example.com",
        "caf\xc3\xa9@example.com",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!valid_email(good[i]))
            fail_msg("rejected %s", good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (valid_email(bad[i]))
            fail_msg("accepted '%s'", bad[i]);
    }
    assert_false(valid_email(NULL));

    /* Length limits: 64 bytes of local part, 63 per label, 254 overall. */
    char s[300];
    memset(s, 'a', 64);
    memcpy(s + 64, "@example.com", 13);
    assert_true(valid_email(s));
    memset(s, 'a', 65);
    memcpy(s + 65, "@example.com", 13);
    assert_false(valid_email(s));

    memcpy(s, "a@", 2);
    memset(s + 2, 'b', 63);
    memcpy(s + 65, ".com", 5);
    assert_true(valid_email(s));
    memset(s + 2, 'b', 64);
    memcpy(s + 66, ".com", 5);
    assert_false(valid_email(s));

    /* 254 bytes exactly: "a@", four 61-byte labels with their dots, and a
     * four-byte top-level label. */
    size_t n = 2;
    memcpy(s, "a@", 2);
    for (int l = 0; l < 4; l++) {
        memset(s + n, 'c', 61);
        n += 61;
        s[n++] = '.';
    }
    memcpy(s + n, "abcd", 5);
    assert_int_equal(strlen(s), 254);
    assert_true(valid_email(s));
    memcpy(s + n, "abcde", 6);
    assert_false(valid_email(s));
}

static void test_email_normalise(void **state)
{
    (void)state;
    char out[64];
    assert_true(email_normalise("  Jo.Bloggs@Example.ORG \r\n", out, sizeof(out)));
    assert_string_equal(out, "jo.bloggs@example.org");
    assert_true(email_normalise("a@b.co", out, sizeof(out)));
    assert_string_equal(out, "a@b.co");
    assert_false(email_normalise("not an email", out, sizeof(out)));
    assert_string_equal(out, "");
    assert_false(email_normalise("   ", out, sizeof(out)));
    assert_false(email_normalise(NULL, out, sizeof(out)));
    assert_string_equal(out, "");

    /* The output must fit with its NUL. */
    char small[7];
    assert_true(email_normalise("A@B.CO", small, sizeof(small)));
    assert_string_equal(small, "a@b.co");
    assert_false(email_normalise("ab@c.de", small, sizeof(small)));
    assert_string_equal(small, "");
    assert_false(email_normalise("a@b.co", small, 0));
}

static void test_postcode(void **state)
{
    (void)state;
    const struct {
        const char *in, *out;
    } good[] = {
        {"SW1A 1AA", "SW1A 1AA"}, {"sw1a1aa", "SW1A 1AA"},  {" sw1a  1aa ", "SW1A 1AA"},
        {"M1 1AE", "M1 1AE"},     {"m11ae", "M1 1AE"},      {"B33 8TH", "B33 8TH"},
        {"CR2 6XH", "CR2 6XH"},   {"DN55 1PT", "DN55 1PT"}, {"W1A 0AX", "W1A 0AX"},
        {"EC1A 1BB", "EC1A 1BB"}, {"gir 0aa", "GIR 0AA"},   {"L1\t8JQ", "L1 8JQ"},
    };
    const char *bad[] = {
        "",         "   ",      "SW1A",      "SW1A 1A",  "SW1A 1AAA",       "1W1A 1AA",
        "SW1A AAA", "SWA 1AA",  "SW11A 1AA", "QA1 1AA",  "VA1 1AA",         "XA1 1AA",
        "AI1 1AA",  "AJ1 1AA",  "AZ1 1AA",   "SW1A 1CA", "SW1A 1AI",        "SW1A 1KK",
        "SW1A 1MO", "SW1A 1VV", "SW1A-1AA",  "ABCDEFGH", "S\xc3\2511A 1AA",
    };
    char out[16];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!postcode_normalise(good[i].in, out, sizeof(out)))
            fail_msg("rejected '%s'", good[i].in);
        assert_string_equal(out, good[i].out);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(out, "x", 2);
        if (postcode_normalise(bad[i], out, sizeof(out)))
            fail_msg("accepted '%s' as '%s'", bad[i], out);
        assert_string_equal(out, "");
    }
    assert_false(postcode_normalise(NULL, out, sizeof(out)));

    /* "SW1A 1AA" needs 9 bytes with its NUL. */
    char nine[9], eight[8];
    assert_true(postcode_normalise("sw1a1aa", nine, sizeof(nine)));
    assert_string_equal(nine, "SW1A 1AA");
    assert_false(postcode_normalise("sw1a1aa", eight, sizeof(eight)));
    assert_string_equal(eight, "");
    assert_false(postcode_normalise("sw1a1aa", eight, 0));
}

static void expect_time(const char *s, long long want)
{
    long long t = 12345;
    if (!parse_datetime(s, &t))
        fail_msg("rejected '%s'", s);
    if (t != want)
        fail_msg("'%s' gave %lld, want %lld", s, t, want);
}

static void expect_invalid(const char *s)
{
    long long t = 12345;
    if (parse_datetime(s, &t))
        fail_msg("accepted '%s' as %lld", s, t);
    assert_int_equal(t, 0);
}

static void test_parse_datetime_valid(void **state)
{
    (void)state;
    expect_time("1970-01-01", 0);
    expect_time("1970-01-01T00:00:00Z", 0);
    expect_time("2026-11-23T10:00:00Z", 1795428000LL);
    expect_time("2026-11-23", 1795428000LL - 10 * 3600);
    expect_time("2024-02-29", 1709164800LL);
    expect_time("2000-02-29T12:34:56Z", 951827696LL);
    expect_time("1969-12-31T23:59:59Z", -1);
    expect_time("1900-03-01", -2203891200LL);
    expect_time("0000-01-01T00:00:00Z", -62167219200LL);
    expect_time("9999-12-31T23:59:59Z", 253402300799LL);
    /* Lower-case separators, fractions (dropped), and offsets. */
    expect_time("2026-11-23t10:00:00z", 1795428000LL);
    expect_time("2026-11-23T10:00:00.5Z", 1795428000LL);
    expect_time("2026-11-23T10:00:00.999999999Z", 1795428000LL);
    expect_time("2026-11-23T11:00:00+01:00", 1795428000LL);
    expect_time("2026-11-23T10:00:00+00:00", 1795428000LL);
    expect_time("2026-11-23T10:00:00-00:00", 1795428000LL);
    expect_time("2026-11-23T04:30:00-05:30", 1795428000LL);
    expect_time("2026-11-24T00:30:00+14:30", 1795428000LL);
    /* An offset may move the instant into another day, month or year. */
    expect_time("2027-01-01T00:30:00+01:00", 1798759800LL);
    expect_time("2026-12-31T23:30:00-01:00", 1798763400LL);
}

static void test_parse_datetime_invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "2026",
        "2026-11",
        "2026-1-01",
        "26-11-23",
        "2026/11/23",
        "2026-02-29",
        "1900-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-01-00",
        "2026-01-32",
        "2026-04-31",
        "2026-06-31",
        "2026-11-23T",
        "2026-11-23T10:00Z",
        "2026-11-23T10:00:00",
        "2026-11-23T24:00:00Z",
        "2026-11-23T23:60:00Z",
        "2026-11-23T23:59:60Z",
        "2026-11-23T10:00:00+0100",
        "2026-11-23T10:00:00+01",
        "2026-11-23T10:00:00+24:00",
        "2026-11-23T10:00:00+01:60",
        "2026-11-23 10:00:00Z",
        "2026-11-23T10:00:00.Z",
        "2026-11-23T10:00:00Zjunk",
        "2026-11-23junk",
        "2026-11-23T1:00:00Z",
        "+2026-11-23",
        " 2026-11-23",
        "2026-11-23 ",
        "２０２６-11-23",
        "0000-01-01T00:00:00+00:01",
        "9999-12-31T23:59:59-00:01",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_invalid(bad[i]);
    long long t = 5;
    assert_false(parse_datetime(NULL, &t));
    assert_int_equal(t, 0);
}

static void test_parse_datetime_ignores_tz(void **state)
{
    (void)state;
    const char *old = getenv("TZ");
    char saved[64] = "";
    if (old)
        snprintf(saved, sizeof(saved), "%s", old);
    setenv("TZ", "America/New_York", 1);
    tzset();
    expect_time("2026-06-01T12:00:00Z", 1780315200LL);
    expect_time("2026-06-01", 1780272000LL);
    if (old)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
}

static void test_format(void **state)
{
    (void)state;
    char out[32];
    format_datetime(0, out, sizeof(out));
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    format_datetime(1795428000LL, out, sizeof(out));
    assert_string_equal(out, "2026-11-23T10:00:00Z");
    format_datetime(-1, out, sizeof(out));
    assert_string_equal(out, "1969-12-31T23:59:59Z");
    format_datetime(951827696LL, out, sizeof(out));
    assert_string_equal(out, "2000-02-29T12:34:56Z");
    format_datetime(-62167219200LL, out, sizeof(out));
    assert_string_equal(out, "0000-01-01T00:00:00Z");
    format_datetime(253402300799LL, out, sizeof(out));
    assert_string_equal(out, "9999-12-31T23:59:59Z");

    format_date(1795428000LL, out, sizeof(out));
    assert_string_equal(out, "2026-11-23");
    format_date(-1, out, sizeof(out));
    assert_string_equal(out, "1969-12-31");

    /* Exactly the documented sizes, and less: always terminated. */
    char dt[21], d[11], tiny[5];
    format_datetime(1795428000LL, dt, sizeof(dt));
    assert_string_equal(dt, "2026-11-23T10:00:00Z");
    format_date(1795428000LL, d, sizeof(d));
    assert_string_equal(d, "2026-11-23");
    format_datetime(1795428000LL, tiny, sizeof(tiny));
    assert_string_equal(tiny, "2026");
    format_datetime(1795428000LL, tiny, 0);
    assert_string_equal(tiny, "2026");

    /* Extreme values must not overflow or crash; they just print long. */
    format_datetime(INT64_MIN, out, sizeof(out));
    format_datetime(INT64_MAX, out, sizeof(out));
    format_date(INT64_MIN, out, sizeof(out));
}

static void test_round_trip_random(void **state)
{
    (void)state;
    const long long lo = -62167219200LL, hi = 253402300799LL;
    for (int i = 0; i < 200000; i++) {
        long long t = lo + (long long)(rng_next() % (uint64_t)(hi - lo + 1)), back = 0;
        char s[32], d[16];
        format_datetime(t, s, sizeof(s));
        assert_int_equal(strlen(s), 20);
        if (!parse_datetime(s, &back) || back != t)
            fail_msg("%lld formatted as %s parsed back as %lld", t, s, back);

        /* Cross-check the calendar arithmetic against the C library for
         * the years it handles. */
        if (t >= 0) {
            time_t tt = (time_t)t;
            struct tm tm;
            char lib[32];
            assert_non_null(gmtime_r(&tt, &tm));
            strftime(lib, sizeof(lib), "%Y-%m-%dT%H:%M:%SZ", &tm);
            assert_string_equal(s, lib);
        }

        format_date(t, d, sizeof(d));
        assert_int_equal(strlen(d), 10);
        assert_memory_equal(d, s, 10);
        assert_true(parse_datetime(d, &back));
        assert_true(back <= t && t - back < 86400);
        assert_int_equal(((back % 86400) + 86400) % 86400, 0);
    }
}

static void test_parse_decimal(void **state)
{
    (void)state;
    uint64_t n = 7;
    assert_true(parse_decimal("0", 10, &n));
    assert_int_equal(n, 0);
    assert_true(parse_decimal("10", 10, &n));
    assert_int_equal(n, 10);
    assert_true(parse_decimal("18446744073709551615", UINT64_MAX, &n));
    assert_true(n == UINT64_MAX);
    static const char *const bad[] = {"",
                                      "11",
                                      "01",
                                      "00",
                                      "-1",
                                      "+1",
                                      " 1",
                                      "1 ",
                                      "1e3",
                                      "0x1",
                                      "1.0",
                                      "18446744073709551616",
                                      "99999999999999999999",
                                      "123456789012345678901"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 7;
        assert_false(parse_decimal(bad[i], i == 1 ? 10 : UINT64_MAX, &n)); /* "11" is over 10 */
        assert_int_equal(n, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_utf8),
        cmocka_unit_test(test_text_controls_and_length),
        cmocka_unit_test(test_code),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_email_normalise),
        cmocka_unit_test(test_postcode),
        cmocka_unit_test(test_parse_datetime_valid),
        cmocka_unit_test(test_parse_datetime_invalid),
        cmocka_unit_test(test_parse_datetime_ignores_tz),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_parse_decimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
