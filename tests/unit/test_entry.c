/* test_entry.c - public log entries: the canonical JSON, pseudonyms that
 * depend on the key and nothing else, and an encoder that refuses anything
 * that is not a code, so that free text cannot reach the log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "tlog/entry.h"

static const uint8_t KEY[TLOG_KEY_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static tlog_entry move(void)
{
    tlog_entry e = {.kind = TLOG_STAGE_CHANGED,
                    .time = 1764664200, /* 2025-12-02T08:30:00Z */
                    .org = "northshire",
                    .service = "parking-permit",
                    .reference = "K7QM-2XPD-C",
                    .actor = TLOG_ACTOR_STAFF,
                    .actor_org_id = 1,
                    .actor_id = 7,
                    .from_stage = "received",
                    .stage = "checking"};
    return e;
}

static void encode_ok(const tlog_entry *e, buf *b)
{
    buf_init(b, TLOG_ENTRY_MAX);
    assert_true(tlog_entry_encode(e, KEY, b));
    assert_false(b->failed);
}

static void test_canonical_json(void **state)
{
    (void)state;
    tlog_entry e = move();
    char c[TLOG_PSEUDONYM_MAX], want[1024];
    tlog_case_pseudonym(KEY, "K7QM-2XPD-C", c);
    buf b;
    encode_ok(&e, &b);
    /* The staff pseudonym is checked below; cut it out of the comparison. */
    const char *actor = strstr(b.data, "\"actor\":\"s-");
    assert_non_null(actor);
    snprintf(want, sizeof(want),
             "{\"kind\":\"stage_changed\",\"time\":\"2025-12-02T08:30:00Z\",\"org\":\"northshire\","
             "\"service\":\"parking-permit\",\"case\":\"%s\",\"actor\":\"%.34s\","
             "\"from\":\"received\",\"stage\":\"checking\"}",
             c, actor + 9);
    assert_string_equal(b.data, want);
    json_t *j = json_loads(b.data, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "stage_changed");
    json_decref(j);

    /* The same entry always has the same bytes. */
    buf again;
    encode_ok(&e, &again);
    assert_string_equal(again.data, b.data);
    buf_free(&again);
    buf_free(&b);
}

static void test_every_kind_and_actor(void **state)
{
    (void)state;
    static const char *const names[TLOG_KIND_COUNT] = {
        "case_opened",      "stage_changed",  "public_update",   "internal_note",
        "message_received", "feedback",       "record_accessed", "notification_sent",
        "duty_met",         "duty_missed",    "consent_changed", "appeal_published",
        "appeal_closed",    "appeal_answered"};
    for (int k = 0; k < TLOG_KIND_COUNT; k++)
        assert_string_equal(tlog_kind_name((tlog_kind)k), names[k]);
    assert_null(tlog_kind_name(TLOG_KIND_COUNT));
    assert_null(tlog_kind_name((tlog_kind)-1));

    tlog_entry e = {
        .kind = TLOG_FEEDBACK, .time = 0, .org = "o", .actor = TLOG_ACTOR_CITIZEN, .rating = 5};
    buf b;
    encode_ok(&e, &b);
    assert_string_equal(b.data, "{\"kind\":\"feedback\",\"time\":\"1970-01-01T00:00:00Z\","
                                "\"org\":\"o\",\"actor\":\"citizen\",\"rating\":5}");
    buf_free(&b);
    e.actor = TLOG_ACTOR_NONE;
    e.rating = 0;
    e.kind = TLOG_DUTY_MISSED;
    e.duty = "first-update";
    encode_ok(&e, &b);
    assert_string_equal(b.data, "{\"kind\":\"duty_missed\",\"time\":\"1970-01-01T00:00:00Z\","
                                "\"org\":\"o\",\"actor\":\"system\",\"duty\":\"first-update\"}");
    buf_free(&b);
    /* A duty's code is a code like any other. */
    e.duty = "First update";
    buf_init(&b, 64);
    assert_false(tlog_entry_encode(&e, KEY, &b));
    buf_free(&b);
}

/* Pseudonyms: fixed per key and input, different across keys, kinds of
 * actor and organisations, and never the reference itself. */
static void test_pseudonyms(void **state)
{
    (void)state;
    uint8_t other[TLOG_KEY_SIZE] = {9};
    char a[TLOG_PSEUDONYM_MAX], b[TLOG_PSEUDONYM_MAX];
    tlog_case_pseudonym(KEY, "K7QM-2XPD-C", a);
    tlog_case_pseudonym(KEY, "K7QM-2XPD-C", b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    tlog_case_pseudonym(other, "K7QM-2XPD-C", b);
    assert_string_not_equal(a, b);
    tlog_case_pseudonym(KEY, "K7QM-2XPD-D", b);
    assert_string_not_equal(a, b);

    tlog_entry e = move();
    buf one, two;
    encode_ok(&e, &one);
    assert_null(strstr(one.data, "K7QM"));
    e.actor_org_id = 2; /* the same user id in another organisation */
    encode_ok(&e, &two);
    assert_string_not_equal(one.data, two.data);
    buf_free(&two);
    e.actor_org_id = 1;
    e.actor = TLOG_ACTOR_KEY; /* the same id as an API key */
    encode_ok(&e, &two);
    assert_non_null(strstr(two.data, "\"actor\":\"k-"));
    assert_string_not_equal(one.data, two.data);
    buf_free(&two);
    buf_free(&one);

    /* The log's key is not the deployment's, and depends on it. */
    uint8_t secret[32] = {42}, k1[TLOG_KEY_SIZE], k2[TLOG_KEY_SIZE];
    tlog_log_key(secret, k1);
    assert_memory_not_equal(k1, secret, 32);
    secret[31] = 1;
    tlog_log_key(secret, k2);
    assert_memory_not_equal(k1, k2, 32);
}

/* Anything that is not a code is refused, and nothing is written. */
static void test_refuses_free_text(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Jane Smith",
        "jane@example.com",
        "12 High Street",
        "SW1A 1AA",
        "a\"b",
        "a\\b",
        "caf\xc3\xa9",
        "UPPER",
        "",
        "a\nb",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 65 */};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (int field = 0; field < 6; field++) {
            tlog_entry e = move();
            const char **f[] = {&e.org, &e.service, &e.stage, &e.from_stage, &e.role, &e.action};
            *f[field] = bad[i];
            buf b;
            buf_init(&b, TLOG_ENTRY_MAX);
            buf_puts(&b, "x");
            assert_false(tlog_entry_encode(&e, KEY, &b));
            assert_string_equal(b.data, "x");
            buf_free(&b);
        }
    }
    tlog_entry e = move();
    buf b;
    buf_init(&b, TLOG_ENTRY_MAX);
    e.org = NULL;
    assert_false(tlog_entry_encode(&e, KEY, &b));
    e = move();
    e.kind = TLOG_KIND_COUNT;
    assert_false(tlog_entry_encode(&e, KEY, &b));
    e = move();
    e.rating = 6;
    assert_false(tlog_entry_encode(&e, KEY, &b));
    e = move();
    e.time = -1;
    assert_false(tlog_entry_encode(&e, KEY, &b));
    e = move();
    e.reference = "";
    assert_false(tlog_entry_encode(&e, KEY, &b));
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_json),
        cmocka_unit_test(test_every_kind_and_actor),
        cmocka_unit_test(test_pseudonyms),
        cmocka_unit_test(test_refuses_free_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
