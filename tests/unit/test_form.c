/* test_form.c - urlencoded bodies and query strings: decoding, repeated and
 * empty keys, malformed escapes and the field limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/form.h"

typedef struct fixture {
    arena a;
    form f;
} fixture;

static int setup(void **state)
{
    static fixture fx;
    arena_init(&fx.a);
    memset(&fx.f, 0, sizeof(fx.f));
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    arena_free(&fx->a);
    return 0;
}

static int parse(fixture *fx, const char *s)
{
    return form_parse(&fx->a, s, strlen(s), &fx->f);
}

static void test_empty(void **state)
{
    fixture *fx = *state;
    fx->f.n = 7;
    assert_int_equal(form_parse(&fx->a, NULL, 0, &fx->f), 0);
    assert_int_equal(fx->f.n, 0);
    assert_int_equal(parse(fx, ""), 0);
    assert_int_equal(fx->f.n, 0);
    assert_int_equal(parse(fx, "&&&"), 0);
    assert_int_equal(fx->f.n, 0);
    assert_null(form_get(&fx->f, "a"));
}

static void test_pairs(void **state)
{
    fixture *fx = *state;
    assert_int_equal(parse(fx, "reference=K7QM-2XPD-C&postcode=SW1A+1AA"), 0);
    assert_int_equal(fx->f.n, 2);
    assert_string_equal(fx->f.fields[0].key, "reference");
    assert_string_equal(fx->f.fields[0].value, "K7QM-2XPD-C");
    assert_int_equal(fx->f.fields[0].value_len, 11);
    assert_string_equal(fx->f.fields[1].key, "postcode");
    assert_string_equal(fx->f.fields[1].value, "SW1A 1AA");
    assert_string_equal(form_get(&fx->f, "postcode"), "SW1A 1AA");
    assert_null(form_get(&fx->f, "secret"));
    assert_null(form_get(&fx->f, "Postcode"));
}

static void test_decoding(void **state)
{
    fixture *fx = *state;
    assert_int_equal(parse(fx, "m=a%20b+c%2Bd%2bE&e=%E2%82%AC%e2%82%ac&k%5B%5D=x&amp=%26%3D"), 0);
    assert_int_equal(fx->f.n, 4);
    assert_string_equal(form_get(&fx->f, "m"), "a b c+d+E");
    assert_string_equal(form_get(&fx->f, "e"), "\xe2\x82\xac\xe2\x82\xac");
    assert_int_equal(fx->f.fields[1].value_len, 6);
    assert_string_equal(form_get(&fx->f, "k[]"), "x");
    assert_string_equal(form_get(&fx->f, "amp"), "&=");

    /* A split happens only at the first '='; later ones are value. */
    assert_int_equal(parse(fx, "a=b=c&d==&e"), 0);
    assert_int_equal(fx->f.n, 3);
    assert_string_equal(form_get(&fx->f, "a"), "b=c");
    assert_string_equal(form_get(&fx->f, "d"), "=");
    assert_string_equal(form_get(&fx->f, "e"), "");
    assert_int_equal(fx->f.fields[2].value_len, 0);

    /* Line breaks from a textarea arrive as %0D%0A. */
    assert_int_equal(parse(fx, "message=one%0D%0Atwo"), 0);
    assert_string_equal(form_get(&fx->f, "message"), "one\r\ntwo");
}

static void test_repeated_and_empty_keys(void **state)
{
    fixture *fx = *state;
    assert_int_equal(parse(fx, "a=1&b=2&a=3&&=4&a"), 0);
    assert_int_equal(fx->f.n, 5);
    assert_string_equal(form_get(&fx->f, "a"), "1"); /* the first wins */
    const char *keys[] = {"a", "b", "a", "", "a"};
    const char *values[] = {"1", "2", "3", "4", ""};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(fx->f.fields[i].key, keys[i]);
        assert_string_equal(fx->f.fields[i].value, values[i]);
    }
    assert_string_equal(form_get(&fx->f, ""), "4");
}

static void test_malformed_escapes(void **state)
{
    fixture *fx = *state;
    const char *bad[] = {
        "%",     "a=%",       "a=%4",     "a=%4&b=1", "a=%G1", "a=%1G",  "a=%%41",
        "a=1%",  "a%=1",      "a%2=1",    "%zz=1",    "a=%-1", "a=% 41", "a=1&b=%x",
        "a=%+1", "a=100%25%", "a=\xc3%A", "q=%u0041", "q=%%",  "a=1&%",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fx->f.n = 3;
        if (parse(fx, bad[i]) != -1)
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(fx->f.n, 0);
    }
    /* A well-formed %25 is a literal percent sign. */
    assert_int_equal(parse(fx, "a=100%25"), 0);
    assert_string_equal(form_get(&fx->f, "a"), "100%");
}

static void test_nul_bytes(void **state)
{
    fixture *fx = *state;
    assert_int_equal(parse(fx, "a=x%00y"), 0);
    assert_int_equal(fx->f.fields[0].value_len, 3);
    assert_memory_equal(fx->f.fields[0].value, "x\0y", 4);
    /* In a key a NUL would hide the rest of it from every comparison. */
    assert_int_equal(parse(fx, "a%00b=1"), -1);
    assert_int_equal(fx->f.n, 0);
}

static void test_length_is_respected(void **state)
{
    fixture *fx = *state;
    /* Only `len` bytes are read, even where they end inside an escape. */
    const char *s = "a=1&b=2%41";
    assert_int_equal(form_parse(&fx->a, s, 7, &fx->f), 0);
    assert_int_equal(fx->f.n, 2);
    assert_string_equal(form_get(&fx->f, "b"), "2");
    assert_int_equal(form_parse(&fx->a, s, 9, &fx->f), -1);
    assert_int_equal(form_parse(&fx->a, s, 10, &fx->f), 0);
    assert_string_equal(form_get(&fx->f, "b"), "2A");
    /* Bytes past the end are not read even when they are not NUL. */
    char raw[5] = {'k', '=', 'v', '%', '4'};
    assert_int_equal(form_parse(&fx->a, raw, 3, &fx->f), 0);
    assert_string_equal(form_get(&fx->f, "k"), "v");
}

static void test_field_limit(void **state)
{
    fixture *fx = *state;
    char s[1024];
    size_t n = 0;
    for (int i = 0; i < FORM_MAX_FIELDS; i++)
        n += (size_t)snprintf(s + n, sizeof(s) - n, "%sk%d=%d", i ? "&" : "", i, i);
    assert_int_equal(form_parse(&fx->a, s, n, &fx->f), 0);
    assert_int_equal(fx->f.n, FORM_MAX_FIELDS);
    assert_string_equal(form_get(&fx->f, "k63"), "63");
    /* Empty pairs do not count towards the limit. */
    n += (size_t)snprintf(s + n, sizeof(s) - n, "&&");
    assert_int_equal(form_parse(&fx->a, s, n, &fx->f), 0);
    n += (size_t)snprintf(s + n, sizeof(s) - n, "x=1");
    assert_int_equal(form_parse(&fx->a, s, n, &fx->f), -1);
    assert_int_equal(fx->f.n, 0);
}

static void test_large_values(void **state)
{
    fixture *fx = *state;
    /* Values larger than an arena block decode intact. */
    enum { LEN = 30000 };
    static char s[2 + 3 * LEN + 1];
    memcpy(s, "v=", 2);
    for (size_t i = 0; i < LEN; i++)
        memcpy(s + 2 + 3 * i, "%41", 3);
    s[2 + 3 * LEN] = '\0';
    assert_int_equal(parse(fx, s), 0);
    assert_int_equal(fx->f.fields[0].value_len, LEN);
    const char *v = form_get(&fx->f, "v");
    for (size_t i = 0; i < LEN; i++)
        assert_int_equal(v[i], 'A');
    assert_int_equal(v[LEN], '\0');
}

static int parse_multipart(fixture *fx, const char *ct, const char *s)
{
    return form_parse_multipart(&fx->a, ct, s, strlen(s), &fx->f);
}

static void test_multipart(void **state)
{
    fixture *fx = *state;
    const char *ct = "multipart/form-data; charset=utf-8; boundary=XyZ";
    assert_int_equal(
        parse_multipart(fx, ct,
                        "preamble\r\n--XyZ\r\n"
                        "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
                        "one\r\ntwo\r\n--XyZ\r\n"
                        "content-disposition: form-data; name=\"f\"; filename=\"x.jpg\"\r\n"
                        "Content-Type: image/jpeg\r\n\r\n\xff\xd8\r\n--XyZ\r\n"
                        "Content-Disposition: form-data; name=a\r\n\r\n\r\n--XyZ--\r\n"),
        0);
    assert_int_equal(fx->f.n, 2);
    assert_string_equal(fx->f.fields[0].key, "a");
    assert_string_equal(fx->f.fields[0].value, "one\r\ntwo");
    assert_string_equal(fx->f.fields[1].value, "");
    /* LF line breaks and a quoted boundary. */
    assert_int_equal(
        parse_multipart(fx, "multipart/form-data; boundary=\"a b\"",
                        "--a b\nContent-Disposition: form-data; name=\"x\"\n\n1\n--a b--\n"),
        0);
    assert_int_equal(fx->f.n, 1);
    assert_string_equal(form_get(&fx->f, "x"), "1");
}

static void test_multipart_malformed(void **state)
{
    fixture *fx = *state;
    static const char *const bodies[] = {
        "",
        "--XyZ\r\n",
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end",
        "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--",
        "--XyZx\r\n",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(parse_multipart(fx, "multipart/form-data; boundary=XyZ", bodies[i]), -1);
        assert_int_equal(fx->f.n, 0);
    }
    assert_int_equal(parse_multipart(fx, "multipart/form-data", "--XyZ--"), -1);
    assert_int_equal(parse_multipart(fx, "multipart/form-data; boundary=", "----"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_and_empty_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_length_is_respected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipart_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
