/* test_appeal.c - categories, public locations and the life of an appeal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/appeal.h"

static void test_categories(void **state)
{
    (void)state;
    assert_non_null(appeal_category_find("burglary"));
    assert_string_equal(appeal_category_find("road-collision")->name, "Road collision");
    assert_null(appeal_category_find("Burglary"));
    assert_null(appeal_category_find(""));
    assert_null(appeal_category_find(NULL));
    for (size_t i = 0; i < appeal_categories_count; i++)
        assert_ptr_equal(appeal_category_find(appeal_categories[i].code), &appeal_categories[i]);
}

static void test_public_point(void **state)
{
    (void)state;
    geo_point home = {.lat = 515012345, .lon = -1212345},
              corner = {.lat = 515020000, .lon = -1210000};
    geo_point out;
    appeal_precision p;
    assert_true(appeal_precision_parse("exact", &p));
    assert_int_equal(p, APPEAL_EXACT);
    assert_true(appeal_precision_parse("grid", &p));
    assert_int_equal(p, APPEAL_GRID);
    assert_false(appeal_precision_parse("fuzzy", &p));
    assert_false(appeal_precision_parse(NULL, &p));
    assert_string_equal(appeal_precision_name(APPEAL_GRID), "grid");

    /* Exact without an approved point is the true location; with one, that point. */
    assert_true(appeal_public_point(home, NULL, APPEAL_EXACT, 0, &out));
    assert_memory_equal(&out, &home, sizeof(out));
    assert_true(appeal_public_point(home, &corner, APPEAL_EXACT, 0, &out));
    assert_memory_equal(&out, &corner, sizeof(out));
    /* Grid moves the point to its cell's centre. */
    assert_true(appeal_public_point(home, NULL, APPEAL_GRID, 1000, &out));
    assert_true(out.lat != home.lat || out.lon != home.lon);
    geo_point snapped;
    assert_true(geo_snap(home, 1000, &snapped));
    assert_memory_equal(&out, &snapped, sizeof(out));
    assert_false(appeal_public_point(home, NULL, APPEAL_GRID, 10, &out));
}

static void test_life(void **state)
{
    (void)state;
    int64_t now = 1000000, later = now + 3600, earlier = now - 1;
    assert_null(appeal_check("draft", later, now, APPEAL_EDIT));
    assert_non_null(appeal_check("published", later, now, APPEAL_EDIT));
    assert_non_null(appeal_check("closed", later, now, APPEAL_EDIT));

    assert_null(appeal_check("draft", later, now, APPEAL_PUBLISH));
    assert_non_null(appeal_check("draft", earlier, now, APPEAL_PUBLISH));
    assert_non_null(appeal_check("draft", now, now, APPEAL_PUBLISH));
    assert_non_null(appeal_check("published", later, now, APPEAL_PUBLISH));

    assert_null(appeal_check("published", later, now, APPEAL_CLOSE));
    assert_null(appeal_check("published", earlier, now, APPEAL_CLOSE));
    assert_non_null(appeal_check("draft", later, now, APPEAL_CLOSE));
    assert_non_null(appeal_check("closed", later, now, APPEAL_CLOSE));

    assert_null(appeal_check("published", later, now, APPEAL_ANSWER));
    assert_non_null(appeal_check("published", earlier, now, APPEAL_ANSWER));
    assert_non_null(appeal_check("closed", later, now, APPEAL_ANSWER));
    assert_non_null(appeal_check("draft", later, now, APPEAL_ANSWER));

    assert_true(appeal_channel_valid("email"));
    assert_true(appeal_channel_valid("phone"));
    assert_false(appeal_channel_valid("post"));
    assert_false(appeal_channel_valid(NULL));
}

/* The email to staff names the appeal, the case, the receipt and where to
 * read the answer, and says whether its answerer can be contacted; a buffer
 * too small for it fails rather than sending half. */
static void test_answer_message(void **state)
{
    (void)state;
    appeal_answer_facts f = {.appeal_id = 42,
                             .title = "Burglary on Mill Lane",
                             .case_reference = "K7QM-2XPD-C",
                             .receipt = "ABCD-EFGH-J",
                             .anonymous = true,
                             .answers_url = "https://x.example/api/v1/appeals/42/answers"};
    buf subject, body;
    buf_init(&subject, 1024);
    buf_init(&body, 4096);
    assert_true(appeal_answer_message(&f, &subject, &body));
    assert_string_equal(subject.data, "New answer to appeal 42: Burglary on Mill Lane");
    assert_non_null(strstr(body.data, "Appeal 42, \"Burglary on Mill Lane\", on case K7QM-2XPD-C"));
    assert_non_null(strstr(body.data, "Receipt: ABCD-EFGH-J\n"));
    assert_non_null(strstr(body.data, "The answer is anonymous."));
    assert_non_null(strstr(body.data, "GET https://x.example/api/v1/appeals/42/answers\n"));
    buf_reset(&subject);
    buf_reset(&body);
    f.anonymous = false;
    assert_true(appeal_answer_message(&f, &subject, &body));
    assert_non_null(strstr(body.data, "The answerer left contact details."));
    buf_free(&body);
    buf_init(&body, 32);
    buf_reset(&subject);
    assert_false(appeal_answer_message(&f, &subject, &body));
    buf_free(&subject);
    buf_free(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_public_point),
        cmocka_unit_test(test_life),
        cmocka_unit_test(test_answer_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
