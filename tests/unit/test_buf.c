/* test_buf.c - the capped growable buffer and the per-request arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/arena.h"
#include "util/buf.h"

static void test_buf_append(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 1024);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_false(b.failed);

    assert_true(buf_append(&b, "abc", 3));
    assert_true(buf_puts(&b, "def"));
    assert_true(buf_putc(&b, 'g'));
    assert_true(buf_printf(&b, "-%d-%s", 42, "x"));
    assert_int_equal(b.len, 12);
    assert_string_equal(b.data, "abcdefg-42-x");
    assert_true(buf_append(&b, NULL, 0));
    assert_int_equal(b.len, 12);
    /* Bytes, not strings: a NUL can be appended and is counted. */
    assert_true(buf_append(&b, "\0z", 2));
    assert_int_equal(b.len, 14);
    assert_memory_equal(b.data + 12, "\0z\0", 3);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 1024);
}

static void test_buf_empty_append_terminates(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 16);
    assert_true(buf_append(&b, "", 0));
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    buf_free(&b);
}

static void test_buf_grows(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        assert_true(buf_putc(&b, (char)('a' + i % 26)));
    assert_int_equal(b.len, 10000);
    assert_true(b.cap > b.len);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    assert_int_equal(b.data[10000], '\0');

    /* A single printf longer than the initial capacity. */
    buf_reset(&b);
    assert_true(buf_printf(&b, "%0600d|%s", 7, "end"));
    assert_int_equal(b.len, 604);
    assert_int_equal(b.data[599], '7');
    assert_string_equal(b.data + 600, "|end");
    buf_free(&b);
}

static void test_buf_cap_is_exact_and_sticky(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 10);
    assert_true(buf_puts(&b, "0123456789")); /* exactly the maximum */
    assert_int_equal(b.len, 10);
    assert_true(b.cap <= 11);
    assert_false(b.failed);
    assert_false(buf_putc(&b, 'x'));
    assert_true(b.failed);
    assert_string_equal(b.data, "0123456789");

    /* Once failed, even what would fit is refused. */
    buf_reset(&b);
    assert_false(b.failed);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_true(buf_puts(&b, "01234"));
    assert_false(buf_puts(&b, "567890"));
    assert_true(b.failed);
    assert_false(buf_puts(&b, "5"));
    assert_false(buf_putc(&b, '5'));
    assert_false(buf_append(&b, "", 0));
    assert_false(buf_printf(&b, "%d", 5));
    assert_false(buf_put_html(&b, "5"));
    assert_false(buf_put_html(&b, NULL));
    assert_string_equal(b.data, "01234");
    assert_int_equal(b.len, 5);

    buf_reset(&b);
    assert_false(buf_printf(&b, "%s", "this is far too long"));
    assert_true(b.failed);
    assert_int_equal(b.len, 0);
    buf_free(&b);

    buf_init(&b, 0);
    assert_true(buf_append(&b, "", 0));
    assert_false(buf_putc(&b, 'a'));
    buf_free(&b);
}

static void test_buf_steal(void **state)
{
    (void)state;
    buf b;
    size_t len = 99;
    buf_init(&b, 100);
    assert_null(buf_steal(&b, &len));
    assert_int_equal(len, 0);

    assert_true(buf_puts(&b, "owned"));
    char *p = buf_steal(&b, &len);
    assert_string_equal(p, "owned");
    assert_int_equal(len, 5);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    free(p);

    /* The emptied buffer is usable again. */
    assert_true(buf_puts(&b, "again"));
    p = buf_steal(&b, NULL);
    assert_string_equal(p, "again");
    free(p);
    buf_free(&b);
}

static void test_buf_html(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 1024);
    assert_true(buf_put_html(&b, "<a href=\"x\">Tom & Jerry's</a>"));
    assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
    buf_reset(&b);
    assert_true(buf_put_html(&b, "plain caf\xc3\xa9"));
    assert_string_equal(b.data, "plain caf\xc3\xa9");
    buf_reset(&b);
    assert_true(buf_put_html(&b, "&&"));
    assert_string_equal(b.data, "&amp;&amp;");
    buf_reset(&b);
    assert_true(buf_put_html(&b, ""));
    assert_true(buf_put_html(&b, NULL));
    assert_int_equal(b.len, 0);
    buf_free(&b);

    /* Escaping that runs past the cap fails as a whole. */
    buf_init(&b, 8);
    assert_false(buf_put_html(&b, "a<b>"));
    assert_true(b.failed);
    buf_free(&b);
}

static void test_arena_alignment_and_separation(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    unsigned char *prev = NULL;
    size_t prev_n = 0;
    for (size_t i = 0; i < 3000; i++) {
        size_t n = 1 + i % 97;
        unsigned char *p = arena_alloc(&a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, (int)(i & 0xFF), n);
        if (prev) {
            /* The previous allocation was not overwritten. */
            for (size_t j = 0; j < prev_n; j++)
                assert_int_equal(prev[j], (i - 1) & 0xFF);
        }
        prev = p;
        prev_n = n;
    }
    assert_true(a.total >= 3000 * 16);
    arena_free(&a);
    assert_null(a.head);
    assert_int_equal(a.total, 0);

    /* Usable again after arena_free. */
    assert_non_null(arena_alloc(&a, 0));
    assert_int_equal(a.total, 16);
    arena_free(&a);
}

static void test_arena_large_keeps_block(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    char *small1 = arena_alloc(&a, 16);
    char *big = arena_alloc(&a, 100000);
    char *small2 = arena_alloc(&a, 16);
    assert_non_null(small1);
    assert_non_null(big);
    assert_non_null(small2);
    memset(big, 'B', 100000);
    /* The small allocations share the first block. */
    assert_ptr_equal(small2, small1 + 16);
    assert_int_equal(a.total, 16 + 100000 + 16);
    memset(small2, 'S', 16);
    assert_int_equal(big[0], 'B');
    assert_int_equal(big[99999], 'B');
    /* A large allocation as the very first one. */
    arena_free(&a);
    big = arena_alloc(&a, 50000);
    assert_non_null(big);
    memset(big, 1, 50000);
    assert_non_null(arena_alloc(&a, 1));
    arena_free(&a);
}

static void test_arena_calloc(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    /* Dirty a block, release it, and check calloc still zeroes. */
    for (int i = 0; i < 4; i++)
        memset(arena_alloc(&a, 4000), 0xFF, 4000);
    int *v = arena_calloc(&a, 1000, sizeof(int));
    assert_non_null(v);
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(v[i], 0);
    assert_null(arena_calloc(&a, SIZE_MAX / 2 + 1, 2));
    assert_null(arena_calloc(&a, 2, SIZE_MAX / 2 + 1));
    assert_non_null(arena_calloc(&a, 0, 8));
    arena_free(&a);
}

static void test_arena_huge_request_fails(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    assert_null(arena_alloc(&a, SIZE_MAX));
    assert_null(arena_alloc(&a, SIZE_MAX - 15));
    /* Rounded up and with the block header, this does not fit either. */
    assert_null(arena_alloc(&a, SIZE_MAX - 16));
    assert_null(a.head);
    arena_free(&a);
}

static char defer_log[8];
static size_t defer_n;

static void defer_record(void *arg)
{
    if (defer_n + 1 < sizeof(defer_log))
        defer_log[defer_n++] = *(const char *)arg;
}

static void test_arena_defer(void **state)
{
    (void)state;
    static const char a1 = 'a', a2 = 'b', a3 = 'c';
    arena a;
    arena_init(&a);
    defer_n = 0;
    assert_int_equal(arena_defer(&a, defer_record, (void *)&a1), 0);
    assert_non_null(arena_alloc(&a, 20000));
    assert_int_equal(arena_defer(&a, defer_record, (void *)&a2), 0);
    assert_int_equal(arena_defer(&a, defer_record, (void *)&a3), 0);
    assert_int_equal(defer_n, 0);
    arena_free(&a);
    /* Newest first, each exactly once. */
    assert_int_equal(defer_n, 3);
    assert_memory_equal(defer_log, "cba", 3);
    arena_free(&a);
    assert_int_equal(defer_n, 3);
}

static void test_arena_strings(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    assert_null(arena_strdup(&a, NULL));
    assert_null(arena_strndup(&a, NULL, 5));
    char *s = arena_strdup(&a, "hello");
    assert_string_equal(s, "hello");
    char *t = arena_strndup(&a, "hello world", 5);
    assert_string_equal(t, "hello");
    assert_ptr_not_equal(s, t);
    char *e = arena_strndup(&a, "abc", 0);
    assert_string_equal(e, "");
    char *z = arena_strndup(&a, "a\0b", 3);
    assert_memory_equal(z, "a\0b\0", 4);

    char *p = arena_printf(&a, "%s-%05d-%c", "ref", 42, 'Z');
    assert_string_equal(p, "ref-00042-Z");
    char longer[20000];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    p = arena_printf(&a, "[%s]", longer);
    assert_non_null(p);
    assert_int_equal(strlen(p), sizeof(longer) + 1);
    assert_int_equal(p[0], '[');
    assert_int_equal(p[sizeof(longer)], ']');
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append),
        cmocka_unit_test(test_buf_empty_append_terminates),
        cmocka_unit_test(test_buf_grows),
        cmocka_unit_test(test_buf_cap_is_exact_and_sticky),
        cmocka_unit_test(test_buf_steal),
        cmocka_unit_test(test_buf_html),
        cmocka_unit_test(test_arena_alignment_and_separation),
        cmocka_unit_test(test_arena_large_keeps_block),
        cmocka_unit_test(test_arena_calloc),
        cmocka_unit_test(test_arena_huge_request_fails),
        cmocka_unit_test(test_arena_defer),
        cmocka_unit_test(test_arena_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
