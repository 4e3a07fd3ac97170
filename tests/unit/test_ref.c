/* test_ref.c - case references: format, forgiving parse, and every kind of
 * typo the check symbol is there to catch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testrng.h"

#include "domain/ref.h"

#define CHECK_ALPHABET "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U"

static testrng rng = {0x9E3779B97F4A7C15u};

static uint64_t rng_next(void)
{
    return testrng_next(&rng);
}

static ref_rc parse_str(const char *s, uint64_t *v)
{
    return ref_parse(s, strlen(s), v);
}

static void test_format_known_values(void **state)
{
    (void)state;
    char out[REF_TEXT_LEN + 1];

    ref_format(0, out);
    assert_string_equal(out, "0000-0000-0");
    ref_format(1, out);
    assert_string_equal(out, "0000-0001-1");
    ref_format(36, out); /* 36 = "14" in base 32; 36 mod 37 = 36 -> U */
    assert_string_equal(out, "0000-0014-U");
    ref_format(37, out);
    assert_string_equal(out, "0000-0015-0");
    /* 2^40 - 1 is all 'Z'; 1099511627775 mod 37 = 15 -> F */
    ref_format(REF_VALUE_MAX, out);
    assert_string_equal(out, "ZZZZ-ZZZZ-F");
    assert_int_equal(strlen(out), REF_TEXT_LEN);
}

static void test_parse_known_values(void **state)
{
    (void)state;
    uint64_t v = 99;

    assert_int_equal(parse_str("0000-0014-U", &v), REF_OK);
    assert_int_equal(v, 36);
    assert_int_equal(parse_str("ZZZZ-ZZZZ-F", &v), REF_OK);
    assert_int_equal(v, REF_VALUE_MAX);
    assert_int_equal(parse_str("0000-0000-0", &v), REF_OK);
    assert_int_equal(v, 0);
}

static void test_round_trip_random(void **state)
{
    (void)state;
    char out[REF_TEXT_LEN + 1];
    for (int i = 0; i < 100000; i++) {
        uint64_t v = rng_next() & REF_VALUE_MAX, back = 0;
        ref_format(v, out);
        assert_int_equal(strlen(out), REF_TEXT_LEN);
        assert_int_equal(out[4], '-');
        assert_int_equal(out[9], '-');
        assert_int_equal(ref_parse(out, REF_TEXT_LEN, &back), REF_OK);
        assert_int_equal(back, v);
    }
}

static void test_forgiving_input(void **state)
{
    (void)state;
    char canon[REF_TEXT_LEN + 1];
    uint64_t v = 0, want = 0x12345ABCDEu;
    ref_format(want, canon);

    char lower[REF_TEXT_LEN + 1], bare[10], spaced[64];
    for (size_t i = 0; i <= REF_TEXT_LEN; i++)
        lower[i] = (canon[i] >= 'A' && canon[i] <= 'Z') ? (char)(canon[i] - 'A' + 'a') : canon[i];
    size_t b = 0, s = 0;
    spaced[s++] = ' ';
    spaced[s++] = '-';
    for (size_t i = 0; i < REF_TEXT_LEN; i++) {
        if (canon[i] == '-')
            continue;
        bare[b++] = canon[i];
        spaced[s++] = canon[i];
        spaced[s++] = (i % 2) ? ' ' : '-';
    }
    bare[b] = '\0';
    spaced[s] = '\0';
    /* Lower case, no separators, and separators after every symbol. */
    const char *variants[] = {lower, bare, spaced};
    for (size_t i = 0; i < 3; i++) {
        v = 0;
        assert_int_equal(parse_str(variants[i], &v), REF_OK);
        assert_int_equal(v, want);
    }
}

static void test_lookalike_letters(void **state)
{
    (void)state;
    char s[REF_TEXT_LEN + 1];
    uint64_t v = 0, want = 0;
    /* A value whose symbols include 0 and 1 in several places. */
    want = (UINT64_C(1) << 35) | (UINT64_C(0) << 30) | (UINT64_C(1) << 5) | 1;
    ref_format(want, s);
    assert_string_equal(s, "1000-0011-F"); /* 34359738401 mod 37 = 15 -> F */

    assert_int_equal(parse_str("IOOO-OOLL-F", &v), REF_OK);
    assert_int_equal(v, want);
    assert_int_equal(parse_str("iooo-ooll-f", &v), REF_OK);
    assert_int_equal(v, want);
    assert_int_equal(parse_str("lOoO 0Oil f", &v), REF_OK);
    assert_int_equal(v, want);
}

static void test_check_symbols_u_and_specials(void **state)
{
    (void)state;
    uint64_t v = 0;
    /* Each special check symbol parses only in the check position. */
    for (uint64_t value = 32; value <= 36; value++) {
        char s[REF_TEXT_LEN + 1];
        ref_format(value, s);
        assert_int_equal(s[REF_TEXT_LEN - 1], CHECK_ALPHABET[value]);
        assert_int_equal(parse_str(s, &v), REF_OK);
        assert_int_equal(v, value);
    }
    assert_int_equal(parse_str("0000-0014-u", &v), REF_OK);
    assert_int_equal(v, 36);
    /* U, *, ~, $ and = are not data symbols. */
    assert_int_equal(parse_str("U000-0014-U", &v), REF_BAD_CHAR);
    assert_int_equal(parse_str("*000-0014-U", &v), REF_BAD_CHAR);
    assert_int_equal(parse_str("000=-0014-U", &v), REF_BAD_CHAR);
    assert_int_equal(v, 0);
}

static void test_every_substitution_caught(void **state)
{
    (void)state;
    for (int round = 0; round < 200; round++) {
        char s[REF_TEXT_LEN + 1];
        uint64_t v = rng_next() & REF_VALUE_MAX, got = 0;
        ref_format(v, s);
        for (size_t pos = 0; pos < REF_TEXT_LEN; pos++) {
            if (s[pos] == '-')
                continue;
            bool check = pos == REF_TEXT_LEN - 1;
            size_t symbols = check ? 37 : 32;
            for (size_t k = 0; k < symbols; k++) {
                char t[REF_TEXT_LEN + 1];
                memcpy(t, s, sizeof(t));
                if (t[pos] == CHECK_ALPHABET[k])
                    continue;
                t[pos] = CHECK_ALPHABET[k];
                assert_int_equal(ref_parse(t, REF_TEXT_LEN, &got), REF_BAD_CHECK);
                assert_int_equal(got, 0);
            }
        }
    }
}

static void test_every_adjacent_transposition_caught(void **state)
{
    (void)state;
    for (int round = 0; round < 2000; round++) {
        char s[REF_TEXT_LEN + 1], bare[10];
        uint64_t v = rng_next() & REF_VALUE_MAX, got = 0;
        ref_format(v, s);
        size_t b = 0;
        for (size_t i = 0; i < REF_TEXT_LEN; i++) {
            if (s[i] != '-')
                bare[b++] = s[i];
        }
        bare[b] = '\0';
        /* Swaps among the data symbols are always caught. */
        for (size_t i = 0; i + 1 < REF_DATA_SYMBOLS; i++) {
            if (bare[i] == bare[i + 1])
                continue;
            char t[10];
            memcpy(t, bare, sizeof(t));
            t[i] = bare[i + 1];
            t[i + 1] = bare[i];
            assert_int_equal(ref_parse(t, 9, &got), REF_BAD_CHECK);
        }
    }
}

static void test_wrong_length(void **state)
{
    (void)state;
    uint64_t v = 5;
    assert_int_equal(parse_str("K7QM-2XPD", &v), REF_BAD_LENGTH);
    assert_int_equal(v, 0);
    assert_int_equal(parse_str("K7QM-2XP-C", &v), REF_BAD_LENGTH);
    assert_int_equal(parse_str("K7QM-2XPDD-C", &v), REF_BAD_LENGTH);
    assert_int_equal(parse_str("0", &v), REF_BAD_LENGTH);
    assert_int_equal(parse_str("0000-0000-0-0000-0000-0", &v), REF_BAD_LENGTH);

    /* Dropping or doubling any one symbol of a valid reference. */
    char s[REF_TEXT_LEN + 1], t[REF_TEXT_LEN + 2];
    ref_format(0x0F1E2D3C4Bu, s);
    for (size_t pos = 0; pos < REF_TEXT_LEN; pos++) {
        if (s[pos] == '-')
            continue;
        memcpy(t, s, pos);
        memcpy(t + pos, s + pos + 1, REF_TEXT_LEN - pos);
        assert_int_equal(ref_parse(t, REF_TEXT_LEN - 1, &v), REF_BAD_LENGTH);
        memcpy(t, s, pos + 1);
        memcpy(t + pos + 1, s + pos, REF_TEXT_LEN - pos + 1);
        assert_int_equal(ref_parse(t, REF_TEXT_LEN + 1, &v), REF_BAD_LENGTH);
    }
}

static void test_empty(void **state)
{
    (void)state;
    uint64_t v = 5;
    assert_int_equal(ref_parse("", 0, &v), REF_EMPTY);
    assert_int_equal(v, 0);
    assert_int_equal(parse_str(" - -  ", &v), REF_EMPTY);
    assert_int_equal(ref_parse(NULL, 0, &v), REF_EMPTY);
}

static void test_bad_chars(void **state)
{
    (void)state;
    uint64_t v = 5;
    assert_int_equal(parse_str("K7QM_2XPD-C", &v), REF_BAD_CHAR);
    assert_int_equal(v, 0);
    assert_int_equal(parse_str("K7QM.2XPD.C", &v), REF_BAD_CHAR);
    assert_int_equal(parse_str("K7QM-2XPD-C\n", &v), REF_BAD_CHAR);
    assert_int_equal(parse_str("K7QM\t2XPD-C", &v), REF_BAD_CHAR);
    assert_int_equal(parse_str("K7QM-2XPD-#", &v), REF_BAD_CHAR);
    assert_int_equal(parse_str("K7QM-2XPD-\xc3\xa9", &v), REF_BAD_CHAR);
    /* A bad character is reported even when the length is also wrong. */
    assert_int_equal(parse_str("K7!", &v), REF_BAD_CHAR);
    /* An embedded NUL counts: the length given is what is parsed. */
    assert_int_equal(ref_parse("0000-0\0"
                               "00-0",
                               11, &v),
                     REF_BAD_CHAR);
    /* Only `len` bytes are read. */
    assert_int_equal(ref_parse("0000-0000-0garbage", 11, &v), REF_OK);
}

static void test_from_random(void **state)
{
    (void)state;
    size_t accepted = 0, rejected = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = rng_next(), v = 12345;
        if (ref_from_random(bits, &v)) {
            char s[REF_TEXT_LEN + 1];
            accepted++;
            assert_true(v <= REF_VALUE_MAX);
            assert_int_equal(v, bits & REF_VALUE_MAX);
            ref_format(v, s);
            char c = s[REF_TEXT_LEN - 1];
            assert_true((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'));
            assert_true(c != 'U');
        } else {
            rejected++;
            assert_true((bits & REF_VALUE_MAX) % 37 >= 32);
            assert_int_equal(v, 0);
        }
    }
    /* About 5 in 37 draws are refused. */
    assert_in_range(rejected, 100000 * 5 / 37 - 2000, 100000 * 5 / 37 + 2000);
    assert_int_equal(accepted + rejected, 100000);

    uint64_t v;
    assert_true(ref_from_random(0, &v));
    assert_false(ref_from_random(32, &v));
    assert_false(ref_from_random(36, &v));
    assert_true(ref_from_random(37, &v));
    assert_true(ref_from_random(UINT64_C(1) << 40, &v)); /* high bits are dropped */
    assert_int_equal(v, 0);
}

static void test_error_messages(void **state)
{
    (void)state;
    const ref_rc rcs[] = {REF_OK, REF_EMPTY, REF_BAD_LENGTH, REF_BAD_CHAR, REF_BAD_CHECK};
    for (size_t i = 0; i < sizeof(rcs) / sizeof(rcs[0]); i++) {
        const char *m = ref_error_message(rcs[i]);
        assert_non_null(m);
        assert_true(strlen(m) > 10);
        assert_int_equal(m[strlen(m) - 1], '.');
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(m, ref_error_message(rcs[j]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_known_values),
        cmocka_unit_test(test_parse_known_values),
        cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_forgiving_input),
        cmocka_unit_test(test_lookalike_letters),
        cmocka_unit_test(test_check_symbols_u_and_specials),
        cmocka_unit_test(test_every_substitution_caught),
        cmocka_unit_test(test_every_adjacent_transposition_caught),
        cmocka_unit_test(test_wrong_length),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_bad_chars),
        cmocka_unit_test(test_from_random),
        cmocka_unit_test(test_error_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
