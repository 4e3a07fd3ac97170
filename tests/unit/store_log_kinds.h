/* store_log_kinds.h - the public log's entries for what is not an event or
 * an access: consent changed, notification sent, duty met and duty missed
 * (store.h), checked the same way on each backend. Included by
 * test_store.c and test_store_pg.c after their make_org, case_input and
 * create_case. */
#ifndef OC_TEST_STORE_LOG_KINDS_H
#define OC_TEST_STORE_LOG_KINDS_H

#include <string.h>

#define LOG_KINDS_T0 1800000000

/* The entries appended since *from, once the queue is sequenced, must be
 * `n` in number, the i-th holding each of the substrings in want[i] (a
 * NULL-terminated list); *from moves past them. */
static void expect_entries(store *s, uint64_t *from, size_t n, const char *const want[][4])
{
    arena a;
    arena_init(&a);
    assert_int_equal(store_log_sequence_all(s), STORE_OK);
    uint64_t queued = 1;
    assert_int_equal(store_log_queued(s, &queued), STORE_OK);
    assert_int_equal(queued, 0);
    store_log_row *rows;
    size_t got;
    assert_int_equal(store_log_entries(s, &a, *from, n + 1, &rows, &got), STORE_OK);
    if (got != n)
        for (size_t i = 0; i < got; i++)
            fprintf(stderr, "# entry %llu: %.*s\n", (unsigned long long)rows[i].index,
                    (int)rows[i].entry_len, (const char *)rows[i].entry);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++) {
        char *text = arena_alloc(&a, rows[i].entry_len + 1);
        assert_non_null(text);
        memcpy(text, rows[i].entry, rows[i].entry_len);
        text[rows[i].entry_len] = '\0';
        for (size_t j = 0; j < 4; j++) {
            const char *needle = want[i][j];
            if (!needle)
                break;
            if (!strstr(text, needle))
                fprintf(stderr, "# entry %.*s lacks %s\n", (int)rows[i].entry_len,
                        (const char *)rows[i].entry, needle);
            assert_non_null(strstr(text, needle));
        }
        /* Nothing personal reaches the log. */
        assert_null(strstr(text, "example.org"));
        assert_null(strstr(text, "0161"));
    }
    *from += n;
    arena_free(&a);
}

static void check_log_kinds(store *s)
{
    arena a;
    arena_init(&a);
    int64_t service;
    int64_t org = make_org(s, "log-kinds", "bins", &service);
    unsigned char hash[32] = {7};
    const int64_t t0 = LOG_KINDS_T0;
    uint64_t from = 0;
    assert_int_equal(store_log_sequence_all(s), STORE_OK);
    assert_int_equal(store_log_size(s, &from), STORE_OK);

    store_notice told = {.org_id = org,
                         .kind = "stage_reached",
                         .channel = "email",
                         .recipient = "w@example.org",
                         .subject = "S",
                         .body = "B",
                         .created_at = t0};
    store_duty_new ack = {.duty = "ack", .days = 2, .due_at = t0 + 1000};
    store_case_new in = case_input(org, service, "LOG-0001", hash, t0);
    in.person = (store_person){.name = "W", .email = "w@example.org", .phone = "0161"};
    in.duties = &ack;
    in.n_duties = 1;
    in.notices = &told;
    in.n_notices = 1;
    store_case c = create_case(s, &a, &in);
    const char *const opened[][4] = {{"\"kind\":\"case_opened\"", "\"org\":\"log-kinds\""}};
    expect_entries(s, &from, 1, opened);

    /* The person changes how they are told: consent, by the citizen. */
    store_prefs prefs = {
        .channels = "email", .language = "en", .frequency = "every", .updated_at = t0 + 1};
    assert_int_equal(store_prefs_set(s, c.id, &prefs), STORE_OK);
    const char *const consent[][4] = {
        {"\"kind\":\"consent_changed\"", "\"actor\":\"citizen\"", "2027-01-15T08:00:01Z"}};
    expect_entries(s, &from, 1, consent);

    /* The email is delivered in time: sent, then the opening's duty met. */
    store_notice *rows;
    size_t n;
    assert_int_equal(store_notice_claim(s, &a, "email", t0 + 5, 30, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_notice_result(s, rows[0].id, 1, NOTICE_DELIVERED, NULL, t0 + 5, 0),
                     STORE_OK);
    const char *const delivered[][4] = {
        {"\"kind\":\"notification_sent\"", "\"action\":\"email\"", "\"actor\":\"system\""},
        {"\"kind\":\"duty_met\"", "\"action\":\"met\"", "\"duty\":\"ack\""}};
    expect_entries(s, &from, 2, delivered);

    /* A move triggers a duty, with a phone call and a webhook about it. */
    store_webhook hook = {
        .org_id = org, .url = "https://x.example/k", .secret = "k", .created_at = t0};
    assert_int_equal(store_webhook_create(s, &hook), STORE_OK);
    store_notice about[2] = {told, told};
    about[0].channel = "phone";
    about[0].recipient = "W\n0161";
    about[1].webhook_id = hook.id;
    about[1].kind = "case.stage_reached";
    about[1].channel = "webhook";
    about[1].recipient = hook.url;
    about[0].created_at = about[1].created_at = t0 + 100;
    store_duty_new tell = {.duty = "tell", .days = 1, .due_at = t0 + 500};
    store_event move = {.type = "stage_change",
                        .from_stage = "received",
                        .stage = "done",
                        .public_ = false,
                        .actor = "W",
                        .created_at = t0 + 100,
                        .notices = about,
                        .n_notices = 2};
    assert_int_equal(store_event_append_duties(s, c.id, &move, false, &tell, 1), STORE_OK);
    const char *const moved[][4] = {{"\"kind\":\"stage_changed\""}};
    expect_entries(s, &from, 1, moved);

    /* A webhook tells a system, and an email to staff the organisation,
     * not the person: neither is a notification sent. */
    assert_int_equal(store_notice_claim(s, &a, "webhook", t0 + 100, 30, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_notice_result(s, rows[0].id, 1, NOTICE_DELIVERED, NULL, t0 + 101, 0),
                     STORE_OK);
    store_notice staff = told;
    staff.recipient = "officer@example.org";
    staff.to_staff = true;
    staff.created_at = t0 + 102;
    store_event internal = {.type = "internal_note",
                            .stage = "done",
                            .body = "x",
                            .actor = "W",
                            .created_at = t0 + 102,
                            .notices = &staff,
                            .n_notices = 1};
    assert_int_equal(store_event_append(s, c.id, &internal, false), STORE_OK);
    const char *const noted_first[][4] = {{"\"kind\":\"internal_note\""}};
    expect_entries(s, &from, 1, noted_first);
    assert_int_equal(store_notice_claim(s, &a, "email", t0 + 102, 30, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_notice_result(s, rows[0].id, 1, NOTICE_DELIVERED, NULL, t0 + 103, 0),
                     STORE_OK);
    const char *const nothing[1][4] = {{NULL}};
    expect_entries(s, &from, 0, nothing);

    /* Before its due time the duty is not swept; after it, once, at the
     * due time. */
    size_t swept = 99;
    assert_int_equal(store_duty_sweep(s, t0 + 500, 10, &swept), STORE_OK);
    assert_int_equal(swept, 0);
    assert_int_equal(store_duty_sweep(s, t0 + 501, 10, &swept), STORE_OK);
    assert_int_equal(swept, 1);
    assert_int_equal(store_duty_sweep(s, t0 + 9000, 10, &swept), STORE_OK);
    assert_int_equal(swept, 0);
    const char *const missed[][4] = {{"\"kind\":\"duty_missed\"", "\"duty\":\"tell\"",
                                      "\"actor\":\"system\"", "2027-01-15T08:08:20Z"}};
    expect_entries(s, &from, 1, missed);

    /* The call, made late, is a notification sent and meets the duty late. */
    assert_int_equal(store_notice_list(s, &a, org, "open", 0, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_task_done(s, org, rows[0].id, t0 + 6000), STORE_OK);
    const char *const late[][4] = {
        {"\"kind\":\"notification_sent\"", "\"action\":\"phone\""},
        {"\"kind\":\"duty_met\"", "\"action\":\"met_late\"", "\"duty\":\"tell\""}};
    expect_entries(s, &from, 2, late);

    /* A sweep with nothing due logs nothing; a sweep of a batch stops at
     * its size and the next takes the rest. */
    store_duty_new three[3] = {{.duty = "a", .days = 1, .due_at = t0 + 7000},
                               {.duty = "b", .days = 1, .due_at = t0 + 7001},
                               {.duty = "c", .days = 1, .due_at = t0 + 7002}};
    store_event note = {.type = "internal_note",
                        .stage = "done",
                        .body = "x",
                        .actor = "W",
                        .created_at = t0 + 6500};
    assert_int_equal(store_event_append_duties(s, c.id, &note, false, three, 3), STORE_OK);
    const char *const noted[][4] = {{"\"kind\":\"internal_note\""}};
    expect_entries(s, &from, 1, noted);
    assert_int_equal(store_duty_sweep(s, t0 + 8000, 2, &swept), STORE_OK);
    assert_int_equal(swept, 2);
    assert_int_equal(store_duty_sweep(s, t0 + 8000, 2, &swept), STORE_OK);
    assert_int_equal(swept, 1);
    const char *const three_missed[][4] = {
        {"\"kind\":\"duty_missed\""}, {"\"kind\":\"duty_missed\""}, {"\"kind\":\"duty_missed\""}};
    expect_entries(s, &from, 3, three_missed);
    arena_free(&a);
}

#endif
