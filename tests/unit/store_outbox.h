/* store_outbox.h - the outbox's contract (store.h, "notifications"), checked
 * the same way on each backend: included by test_store.c and
 * test_store_pg.c after their make_org, case_input and create_case. */
#ifndef OC_TEST_STORE_OUTBOX_H
#define OC_TEST_STORE_OUTBOX_H

#define OUTBOX_T0 1800000000

/* Notifications written with the case and with an event, in their
 * transactions; claims leased and fenced by attempt; outcomes recorded;
 * tasks; webhooks removed; the delivery time duties read. */
static void check_outbox(store *s)
{
    arena a;
    arena_init(&a);
    int64_t service, other_service;
    int64_t org = make_org(s, "outbox", "bins", &service);
    int64_t other = make_org(s, "elsewhere", "roads", &other_service);
    unsigned char hash[32] = {1};

    store_prefs prefs = {
        .channels = "email,phone", .language = "cy", .frequency = "every", .updated_at = OUTBOX_T0};
    store_notice opened[2] = {{.org_id = org,
                               .kind = "stage_reached",
                               .channel = "email",
                               .recipient = "a@example.org",
                               .subject = "S",
                               .body = "B",
                               .created_at = OUTBOX_T0},
                              {.org_id = org,
                               .kind = "stage_reached",
                               .channel = "phone",
                               .recipient = "A\n0161",
                               .body = "B",
                               .created_at = OUTBOX_T0}};
    store_case_new in = case_input(org, service, "OUT-0001", hash, OUTBOX_T0);
    in.person = (store_person){.name = "A", .email = "a@example.org", .phone = "0161"};
    in.prefs = &prefs;
    in.notices = opened;
    in.n_notices = 2;
    store_case c = create_case(s, &a, &in);

    store_prefs got;
    assert_int_equal(store_prefs_get(s, &a, c.id, &got), STORE_OK);
    assert_string_equal(got.channels, "email,phone");
    assert_string_equal(got.language, "cy");

    /* A case without a person has no preferences to hold. */
    store_case_new bare = case_input(org, service, "OUT-0002", hash, OUTBOX_T0);
    store_case b = create_case(s, &a, &bare);
    assert_int_equal(store_prefs_get(s, &a, b.id, &got), STORE_NOT_FOUND);
    assert_int_equal(store_prefs_set(s, b.id, &prefs), STORE_NOT_FOUND);

    /* The phone call is a task, not for the worker. */
    store_notice *rows;
    size_t n;
    assert_int_equal(store_notice_list(s, &a, org, "open", 0, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].channel, "phone");
    assert_string_equal(rows[0].reference, "OUT-0001");
    int64_t task = rows[0].id;

    /* Claimed once: a second claim within the lease finds nothing. */
    assert_int_equal(store_notice_claim(s, &a, "email", OUTBOX_T0, 30, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    store_notice first = rows[0];
    assert_int_equal(first.attempts, 1);
    assert_string_equal(first.reference, "OUT-0001");
    assert_int_equal(store_notice_claim(s, &a, "email", OUTBOX_T0 + 29, 30, 10, &rows, &n),
                     STORE_OK);
    assert_int_equal(n, 0);
    /* The lease runs out (a crashed worker): claimed again, a new attempt. */
    assert_int_equal(store_notice_claim(s, &a, "email", OUTBOX_T0 + 30, 30, 10, &rows, &n),
                     STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, first.id);
    assert_int_equal(rows[0].attempts, 2);
    /* The first worker's late answer is recorded but settles nothing. */
    assert_int_equal(store_notice_result(s, first.id, 1, NOTICE_DELIVERED, NULL, OUTBOX_T0 + 31, 0),
                     STORE_CONFLICT);
    assert_int_equal(store_notice_result(s, first.id, 2, NOTICE_RETRY, "SMTP: timed out",
                                         OUTBOX_T0 + 32, OUTBOX_T0 + 40),
                     STORE_OK);
    /* Not due before its time; a claim on another channel never sees it. */
    assert_int_equal(store_notice_claim(s, &a, "email", OUTBOX_T0 + 39, 30, 10, &rows, &n),
                     STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_notice_claim(s, &a, "sms", OUTBOX_T0 + 40, 30, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_notice_delivered(s, c.id, OUTBOX_T0, &got.updated_at), STORE_NOT_FOUND);
    assert_int_equal(store_notice_claim(s, &a, "email", OUTBOX_T0 + 40, 30, 10, &rows, &n),
                     STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(
        store_notice_result(s, first.id, 3, NOTICE_DELIVERED, "ignored", OUTBOX_T0 + 41, 0),
        STORE_OK);

    store_notice one;
    store_attempt *attempts;
    assert_int_equal(store_notice_get(s, &a, org, first.id, &one, &attempts, &n), STORE_OK);
    assert_string_equal(one.status, "delivered");
    assert_int_equal(one.delivered_at, OUTBOX_T0 + 41);
    assert_null(one.last_error);
    assert_int_equal(n, 3);
    assert_string_equal(attempts[0].outcome, "delivered");
    assert_string_equal(attempts[1].outcome, "retry");
    assert_string_equal(attempts[1].reason, "SMTP: timed out");
    assert_string_equal(attempts[2].outcome, "delivered");
    assert_null(attempts[2].reason);
    assert_int_equal(store_notice_get(s, &a, other, first.id, &one, &attempts, &n),
                     STORE_NOT_FOUND);

    /* The duty hook: delivered at or after a time. */
    int64_t at = 0;
    assert_int_equal(store_notice_delivered(s, c.id, OUTBOX_T0, &at), STORE_OK);
    assert_int_equal(at, OUTBOX_T0 + 41);
    assert_int_equal(store_notice_delivered(s, c.id, OUTBOX_T0 + 42, &at), STORE_NOT_FOUND);

    /* A task done counts as delivered, once, by its own organisation. */
    assert_int_equal(store_task_done(s, other, task, OUTBOX_T0 + 50), STORE_NOT_FOUND);
    assert_int_equal(store_task_done(s, org, task, OUTBOX_T0 + 50), STORE_OK);
    assert_int_equal(store_task_done(s, org, task, OUTBOX_T0 + 51), STORE_NOT_FOUND);
    assert_int_equal(store_notice_delivered(s, c.id, OUTBOX_T0 + 42, &at), STORE_OK);
    assert_int_equal(at, OUTBOX_T0 + 50);

    /* An event's notifications are written with it; a failure is final. */
    store_webhook hook = {
        .org_id = org, .url = "https://x.example/h", .secret = "k", .created_at = OUTBOX_T0};
    assert_int_equal(store_webhook_create(s, &hook), STORE_OK);
    store_notice note[1] = {{.org_id = org,
                             .webhook_id = hook.id,
                             .kind = "case.public_note",
                             .channel = "webhook",
                             .recipient = hook.url,
                             .body = "{}",
                             .created_at = OUTBOX_T0 + 60}};
    store_event ev = {.type = "public_note",
                      .body = "N",
                      .public_ = true,
                      .actor = "W",
                      .created_at = OUTBOX_T0 + 60,
                      .notices = note,
                      .n_notices = 1};
    assert_int_equal(store_event_append(s, c.id, &ev, false), STORE_OK);
    assert_int_equal(store_notice_claim(s, &a, "webhook", OUTBOX_T0 + 60, 30, 10, &rows, &n),
                     STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].secret, "k");
    assert_int_equal(rows[0].case_id, c.id);
    assert_int_equal(
        store_notice_result(s, rows[0].id, 1, NOTICE_FAILED, "HTTP 410", OUTBOX_T0 + 61, 0),
        STORE_OK);
    assert_int_equal(store_notice_list(s, &a, org, "failed", 0, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].last_error, "HTTP 410");
    /* Webhook deliveries do not count as telling the person. */
    assert_int_equal(store_notice_delivered(s, c.id, OUTBOX_T0 + 51, &at), STORE_NOT_FOUND);

    /* Removing a subscription fails what it still had to send. */
    store_notice later = note[0];
    later.created_at = OUTBOX_T0 + 70;
    assert_int_equal(store_notice_add(s, &later, 1), STORE_OK);
    assert_int_equal(store_webhook_remove(s, other, hook.id), STORE_NOT_FOUND);
    assert_int_equal(store_webhook_remove(s, org, hook.id), STORE_OK);
    assert_int_equal(store_webhook_remove(s, org, hook.id), STORE_NOT_FOUND);
    store_webhook *hooks;
    assert_int_equal(store_webhook_list(s, &a, org, &hooks, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_notice_list(s, &a, org, "failed", 0, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].last_error, "the subscription was removed");
    assert_int_equal(store_notice_list(s, &a, org, "pending", 0, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 0);

    /* Templates: one per kind and language, replaced in place. */
    store_template t = {.service_id = service,
                        .kind = "public_note",
                        .language = "cy",
                        .subject = "S1",
                        .body = "B1",
                        .updated_at = OUTBOX_T0};
    assert_int_equal(store_template_set(s, &t), STORE_OK);
    t.subject = "S2";
    assert_int_equal(store_template_set(s, &t), STORE_OK);
    store_template tg;
    assert_int_equal(store_template_get(s, &a, service, "public_note", "cy", &tg), STORE_OK);
    assert_string_equal(tg.subject, "S2");
    assert_int_equal(store_template_get(s, &a, service, "public_note", "en", &tg), STORE_NOT_FOUND);
    store_template *ts;
    assert_int_equal(store_template_list(s, &a, service, &ts, &n), STORE_OK);
    assert_int_equal(n, 1);
    arena_free(&a);
}

/* A notification delivered to the person meets the duties its event (or an
 * earlier one) triggered, in the transaction that records the delivery, as
 * met by "delivery"; a webhook's or a failed one meets none. */
static void check_outbox_duties(store *s)
{
    arena a;
    arena_init(&a);
    int64_t service;
    int64_t org = make_org(s, "outbox-duties", "bins", &service);
    unsigned char hash[32] = {2};
    const int64_t t0 = OUTBOX_T0;

    store_notice told = {.org_id = org,
                         .kind = "stage_reached",
                         .channel = "email",
                         .recipient = "v@example.org",
                         .subject = "S",
                         .body = "B",
                         .created_at = t0};
    store_duty_new ack = {.duty = "ack", .days = 2, .due_at = t0 + 1000};
    store_case_new in = case_input(org, service, "OUT-0101", hash, t0);
    in.person = (store_person){.name = "V", .email = "v@example.org"};
    in.duties = &ack;
    in.n_duties = 1;
    in.notices = &told;
    in.n_notices = 1;
    store_case c = create_case(s, &a, &in);

    /* The email about the opening, delivered in time, meets the opening's
     * duty. */
    store_notice *rows;
    size_t n;
    assert_int_equal(store_notice_claim(s, &a, "email", t0, 30, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_notice_result(s, rows[0].id, 1, NOTICE_DELIVERED, NULL, t0 + 5, 0),
                     STORE_OK);
    store_duty *d;
    assert_int_equal(store_case_duties(s, &a, c.id, &d, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].met_at, t0 + 5);
    assert_true(d[0].met_at <= d[0].due_at);
    assert_string_equal(d[0].met_by, "delivery");
    assert_int_equal(d[0].met_event_id, d[0].event_id);
    int64_t opened = d[0].event_id;

    /* The move triggers a duty and, in its transaction, the messages about
     * it: an email, a phone call and a webhook. */
    store_webhook hook = {
        .org_id = org, .url = "https://x.example/d", .secret = "k", .created_at = t0};
    assert_int_equal(store_webhook_create(s, &hook), STORE_OK);
    store_notice about[3] = {told, told, told};
    about[1].channel = "phone";
    about[1].recipient = "V\n0161";
    about[2].webhook_id = hook.id;
    about[2].kind = "case.stage_reached";
    about[2].channel = "webhook";
    about[2].recipient = hook.url;
    for (size_t i = 0; i < 3; i++)
        about[i].created_at = t0 + 100;
    store_duty_new tell = {.duty = "tell", .days = 5, .due_at = t0 + 5000};
    store_event move = {.type = "stage_change",
                        .from_stage = "received",
                        .stage = "done",
                        .public_ = true,
                        .actor = "W",
                        .created_at = t0 + 100,
                        .notices = about,
                        .n_notices = 3};
    assert_int_equal(store_event_append_duties(s, c.id, &move, false, &tell, 1), STORE_OK);

    /* The webhook tells a system, and a failed email nobody: still unmet. */
    assert_int_equal(store_notice_claim(s, &a, "webhook", t0 + 100, 30, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_notice_result(s, rows[0].id, 1, NOTICE_DELIVERED, NULL, t0 + 101, 0),
                     STORE_OK);
    assert_int_equal(store_notice_claim(s, &a, "email", t0 + 100, 30, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_notice_result(s, rows[0].id, 1, NOTICE_FAILED, "SMTP: 550", t0 + 102, 0),
                     STORE_OK);
    assert_int_equal(store_case_duties(s, &a, c.id, &d, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(d[1].duty, "tell");
    assert_int_equal(d[1].event_id, move.id);
    assert_int_equal(d[1].met_at, 0);
    assert_null(d[1].met_by);

    /* The phone call, done after the duty fell due, meets it late; the
     * opening's duty keeps its earlier delivery. */
    assert_int_equal(store_notice_list(s, &a, org, "open", 0, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_task_done(s, org, rows[0].id, t0 + 6000), STORE_OK);
    assert_int_equal(store_case_duties(s, &a, c.id, &d, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(d[0].met_at, t0 + 5);
    assert_int_equal(d[0].met_event_id, opened);
    assert_int_equal(d[1].met_at, t0 + 6000);
    assert_true(d[1].met_at > d[1].due_at);
    assert_string_equal(d[1].met_by, "delivery");
    assert_int_equal(d[1].met_event_id, move.id);
    arena_free(&a);
}

/* An answer to an appeal is told to staff in the answer's transaction: the
 * appeal's officer (a user of its organisation) read back with it, the
 * messages written with the answer or not at all, and an email to staff
 * that, delivered, tells the case's person nothing and meets no duty. */
static void check_outbox_appeal_answer(store *s)
{
    arena a;
    arena_init(&a);
    int64_t service, other_service;
    int64_t org = make_org(s, "outbox-appeals", "burglary", &service);
    int64_t other = make_org(s, "outbox-appeals-2", "theft", &other_service);
    unsigned char hash[32] = {3};
    const int64_t t0 = OUTBOX_T0 + 100000;

    store_user officer = {.org_id = org,
                          .email = "officer@appeals.example",
                          .name = "DC Officer",
                          .role = "caseworker",
                          .password_hash = "x"};
    store_user admin = {.org_id = org,
                        .email = "admin@appeals.example",
                        .name = "Admin",
                        .role = "administrator",
                        .password_hash = "x"};
    store_user stranger = {.org_id = other,
                           .email = "admin@elsewhere.example",
                           .name = "Other",
                           .role = "administrator",
                           .password_hash = "x"};
    assert_int_equal(store_user_create(s, &officer), STORE_OK);
    assert_int_equal(store_user_create(s, &admin), STORE_OK);
    assert_int_equal(store_user_create(s, &stranger), STORE_OK);
    store_user u;
    assert_int_equal(store_user_get(s, &a, org, officer.id, &u), STORE_OK);
    assert_string_equal(u.email, "officer@appeals.example");
    assert_string_equal(u.role, "caseworker");
    assert_null(u.password_hash);
    assert_int_equal(store_user_get(s, &a, org, stranger.id, &u), STORE_NOT_FOUND);
    store_user *users;
    size_t n;
    assert_int_equal(store_user_list(s, &a, org, "administrator", &users, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(users[0].id, admin.id);
    assert_null(users[0].password_hash);
    /* Without a role: every account of the organisation, by id. */
    assert_int_equal(store_user_list(s, &a, org, NULL, &users, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(users[0].id, officer.id);
    assert_int_equal(users[1].id, admin.id);

    /* The case owes its person an update: a delivery to them would meet it. */
    store_duty_new ack = {.duty = "ack", .days = 2, .due_at = t0 + 100000};
    store_case_new in = case_input(org, service, "OUT-0201", hash, t0);
    in.person = (store_person){.name = "Victim", .email = "victim@example.org"};
    in.duties = &ack;
    in.n_duties = 1;
    store_case c = create_case(s, &a, &in);

    store_appeal ap = {.org_id = org,
                       .case_id = c.id,
                       .title = "Witnesses sought",
                       .description = "A burglary",
                       .category = "burglary",
                       .occurred_from = t0 - 3600,
                       .contact = "Call 101",
                       .expires_at = t0 + 86400,
                       .true_lat = 507150000,
                       .true_lon = -24370000,
                       .pub_lat = 507150000,
                       .pub_lon = -24370000,
                       .precision = "exact",
                       .created_at = t0,
                       .officer_id = officer.id};
    assert_int_equal(store_appeal_create(s, &ap), STORE_OK);
    store_appeal got;
    assert_int_equal(store_appeal_get(s, &a, org, ap.id, &got), STORE_OK);
    assert_int_equal(got.officer_id, officer.id);
    /* A draft takes no answers, and has no staff side to read. */
    store_appeal_staff staff;
    assert_int_equal(store_appeal_staff_get(s, &a, ap.id, &staff), STORE_NOT_FOUND);
    ap.officer_id = 0;
    ap.updated_at = t0 + 1;
    assert_int_equal(store_appeal_update(s, &ap), STORE_OK);
    assert_int_equal(store_appeal_get(s, &a, org, ap.id, &got), STORE_OK);
    assert_int_equal(got.officer_id, 0);
    ap.officer_id = officer.id;
    ap.updated_at = t0 + 2;
    assert_int_equal(store_appeal_update(s, &ap), STORE_OK);
    store_event published = {.type = "appeal_published", .actor = "W", .created_at = t0 + 10};
    assert_int_equal(store_appeal_transition(s, org, ap.id, "draft", "published", NULL, &published),
                     STORE_OK);
    /* Published, it can be handed to another officer, or none, and back;
     * not by another organisation. */
    assert_int_equal(store_appeal_set_officer(s, org, ap.id, admin.id, t0 + 11), STORE_OK);
    assert_int_equal(store_appeal_get(s, &a, org, ap.id, &got), STORE_OK);
    assert_int_equal(got.officer_id, admin.id);
    assert_int_equal(got.updated_at, t0 + 11);
    assert_int_equal(store_appeal_set_officer(s, org, ap.id, 0, t0 + 12), STORE_OK);
    assert_int_equal(store_appeal_get(s, &a, org, ap.id, &got), STORE_OK);
    assert_int_equal(got.officer_id, 0);
    assert_int_equal(store_appeal_set_officer(s, other, ap.id, 0, t0 + 12), STORE_NOT_FOUND);
    assert_int_equal(store_appeal_set_officer(s, org, ap.id + 999, 0, t0 + 12), STORE_NOT_FOUND);
    assert_int_equal(store_appeal_set_officer(s, org, ap.id, officer.id, t0 + 13), STORE_OK);
    /* The public never reads the officer. */
    assert_int_equal(store_appeal_public_get(s, &a, ap.id, &got), STORE_OK);
    assert_int_equal(got.officer_id, 0);
    assert_int_equal(store_appeal_staff_get(s, &a, ap.id, &staff), STORE_OK);
    assert_int_equal(staff.org_id, org);
    assert_int_equal(staff.case_id, c.id);
    assert_string_equal(staff.case_reference, "OUT-0201");
    assert_string_equal(staff.service_code, "burglary");
    assert_string_equal(staff.title, "Witnesses sought");
    assert_int_equal(staff.officer.id, officer.id);
    assert_string_equal(staff.officer.email, "officer@appeals.example");

    store_webhook hook = {
        .org_id = org, .url = "https://x.example/a", .secret = "k", .created_at = t0};
    assert_int_equal(store_webhook_create(s, &hook), STORE_OK);
    store_notice told[2] = {{.org_id = org,
                             .case_id = c.id,
                             .kind = "appeal_answer",
                             .channel = "email",
                             .recipient = "officer@appeals.example",
                             .subject = "New answer",
                             .body = "Read it in opencase",
                             .to_staff = true,
                             .created_at = t0 + 20},
                            {.org_id = org,
                             .case_id = c.id,
                             .webhook_id = hook.id,
                             .kind = "appeal.answered",
                             .channel = "webhook",
                             .recipient = hook.url,
                             .body = "{}",
                             .created_at = t0 + 20}};
    store_answer ans = {.appeal_id = ap.id,
                        .receipt = "RCPT-0001",
                        .saw = "A van",
                        .anonymous = true,
                        .created_at = t0 + 20};
    store_event answered = {.type = "appeal_answer",
                            .body = "Answer RCPT-0001",
                            .actor = "public",
                            .created_at = t0 + 20,
                            .notices = told,
                            .n_notices = 2};
    assert_int_equal(store_answer_create(s, &ans, &answered), STORE_OK);
    store_notice *rows;
    assert_int_equal(store_notice_list(s, &a, org, "pending", 0, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].kind, "appeal.answered");
    assert_false(rows[0].to_staff);
    assert_string_equal(rows[1].kind, "appeal_answer");
    assert_string_equal(rows[1].recipient, "officer@appeals.example");
    assert_string_equal(rows[1].reference, "OUT-0201");
    assert_true(rows[1].to_staff);

    /* An answer that is not recorded tells no one: a receipt taken, or an
     * appeal that has expired. */
    store_answer again = ans;
    answered.id = 0;
    assert_int_equal(store_answer_create(s, &again, &answered), STORE_DUPLICATE);
    again.receipt = "RCPT-0002";
    again.created_at = ap.expires_at;
    assert_int_equal(store_answer_create(s, &again, &answered), STORE_CONFLICT);
    assert_int_equal(store_notice_list(s, &a, org, "pending", 0, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 2);
    /* And a message that cannot be written undoes the answer with it. */
    store_notice bad = told[0];
    bad.channel = "pigeon";
    again.created_at = t0 + 30;
    answered.notices = &bad;
    answered.n_notices = 1;
    assert_int_not_equal(store_answer_create(s, &again, &answered), STORE_OK);
    store_answer lost;
    assert_int_equal(store_answer_by_receipt(s, &a, "RCPT-0002", &lost), STORE_NOT_FOUND);
    store_event *events;
    assert_int_equal(store_case_events(s, &a, c.id, false, &events, &n), STORE_OK);
    assert_int_equal(n, 3); /* opened, published, the one answer */

    /* The officer's email, delivered, is not an update to the victim. */
    assert_int_equal(store_notice_claim(s, &a, "email", t0 + 20, 30, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_true(rows[0].to_staff);
    assert_int_equal(store_notice_result(s, rows[0].id, 1, NOTICE_DELIVERED, NULL, t0 + 21, 0),
                     STORE_OK);
    int64_t at = 0;
    assert_int_equal(store_notice_delivered(s, c.id, t0, &at), STORE_NOT_FOUND);
    store_duty *d;
    assert_int_equal(store_case_duties(s, &a, c.id, &d, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].met_at, 0);
    arena_free(&a);
}

#endif
