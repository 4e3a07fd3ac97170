/* Tests for the streaming JSON writer: commas, escaping, nesting, misuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "util/jsonw.h"

static void test_object_with_everything(void **state)
{
    (void)state;
    buf b;
    jsonw w;
    buf_init(&b, 4096);
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "s");
    jw_string(&w, "a\"b\\c\n\t\x01<>");
    jw_key(&w, "n");
    jw_int(&w, -42);
    jw_key(&w, "t");
    jw_bool(&w, true);
    jw_key(&w, "z");
    jw_string(&w, NULL);
    jw_key(&w, "list");
    jw_array_begin(&w);
    jw_int(&w, 1);
    jw_object_begin(&w);
    jw_object_end(&w);
    jw_array_begin(&w);
    jw_array_end(&w);
    jw_string(&w, "\xc3\xa9");
    jw_array_end(&w);
    jw_object_end(&w);
    assert_true(jw_finish(&w));
    assert_string_equal(b.data, "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001<>\",\"n\":-42,\"t\":true,"
                                "\"z\":null,\"list\":[1,{},[],\"\xc3\xa9\"]}");

    /* What we write, a JSON parser reads back the same. */
    json_error_t err;
    json_t *parsed = json_loads(b.data, 0, &err);
    assert_non_null(parsed);
    assert_string_equal(json_string_value(json_object_get(parsed, "s")), "a\"b\\c\n\t\x01<>");
    json_decref(parsed);
    buf_free(&b);
}

static void test_unbalanced_is_caught(void **state)
{
    (void)state;
    buf b;
    jsonw w;
    buf_init(&b, 4096);
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "k");
    assert_false(jw_finish(&w));
    jw_object_end(&w); /* a key without a value */
    assert_true(b.failed);
    buf_free(&b);

    buf_init(&b, 4096);
    jw_init(&w, &b);
    jw_array_end(&w);
    assert_true(b.failed);
    buf_free(&b);
}

static void test_depth_cap(void **state)
{
    (void)state;
    buf b;
    jsonw w;
    buf_init(&b, 4096);
    jw_init(&w, &b);
    for (int i = 0; i < JSONW_MAX_DEPTH; i++)
        jw_array_begin(&w);
    assert_false(b.failed);
    jw_array_begin(&w);
    assert_true(b.failed);
    buf_free(&b);
}

static void test_buffer_cap_fails_cleanly(void **state)
{
    (void)state;
    buf b;
    jsonw w;
    buf_init(&b, 8);
    jw_init(&w, &b);
    jw_string(&w, "a string longer than eight bytes");
    assert_false(jw_finish(&w));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_with_everything),
        cmocka_unit_test(test_unbalanced_is_caught),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_buffer_cap_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
