/* store_deployment.h - a small deployment with a row in nearly every table,
 * for the copy and checksum tests of each backend: included by test_store.c
 * and test_store_pg.c after their make_org, case_input and fill_hash. */
#ifndef OC_TEST_STORE_DEPLOYMENT_H
#define OC_TEST_STORE_DEPLOYMENT_H

/* What fill_deployment made, to look for in a copy. */
typedef struct deployment {
    int64_t org, other_org, service, user, key;
    unsigned char session[32], key_hash[32], secret[32], new_secret[32];
    char reference[32];
    int64_t case_id;
} deployment;

/* Text with every character COPY and the checksum must get right. */
static const char *AWKWARD =
    "tab\there, line\nbreak, cr\r, back\\slash, quote' \" and \xc3\xa9t\xc3\xa9";

/* Two organisations with staff, a session, an API key, cases with and
 * without a person, events of each kind, access records and a replaced
 * tracking secret. */
static void fill_deployment(store *s, deployment *d)
{
    arena a;
    arena_init(&a);
    memset(d, 0, sizeof(*d));
    unsigned char key[32];
    assert_int_equal(store_secret_key(s, key), STORE_OK);
    d->org = make_org(s, "north", "bins", &d->service);
    int64_t other_service;
    d->other_org = make_org(s, "south", "roads", &other_service);
    store_user u = {.org_id = d->org,
                    .email = "worker@north.example",
                    .name = AWKWARD,
                    .role = "caseworker",
                    .password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"};
    assert_int_equal(store_user_create(s, &u), STORE_OK);
    d->user = u.id;
    fill_hash(d->session, 7);
    assert_int_equal(store_session_create(s, d->session, d->user, (int64_t)time(NULL) + 3600),
                     STORE_OK);
    fill_hash(d->key_hash, 8);
    /* A hash with a zero byte and a byte that is a tab, kept as bytes. */
    d->key_hash[3] = 0;
    d->key_hash[4] = '\t';
    assert_int_equal(
        store_key_create(s, d->org, "Intake system", "caseworker", d->key_hash, &d->key), STORE_OK);
    fill_hash(d->secret, 9);
    fill_hash(d->new_secret, 10);
    for (int i = 0; i < 5; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "NOR-%04d", i + 1);
        store_case_new in =
            case_input(i == 4 ? d->other_org : d->org, i == 4 ? other_service : d->service, ref,
                       d->secret, 1700000000 + i * 100);
        if (i % 2 == 0)
            in.person = (store_person){.name = AWKWARD, .email = "pat@example.org", .phone = ""};
        in.summary = i == 0 ? AWKWARD : "A summary";
        in.idempotency_key = i == 1 ? "idem-1" : NULL;
        /* One case came through Open311, with some fields left out. */
        store_open311_request o311 = {.token = "TOKEN0000000000000001",
                                      .description = AWKWARD,
                                      .lat = "-0.5",
                                      .lon = "51.25",
                                      .media_url = "https://example.org/a.jpeg",
                                      .attributes_json = "{\"depth\":[\"a\",\"b\"]}",
                                      .device_id = ""};
        in.open311 = i == 3 ? &o311 : NULL;
        /* Two cases with a duty opened as they open: the first one's is
         * met by the public note below, the third's stays open. */
        store_duty_new duty = {.duty = "acknowledge", .days = 2, .due_at = in.now + 172800};
        if (i == 0 || i == 2) {
            in.duties = &duty;
            in.n_duties = 1;
            in.enhanced = i == 2;
            in.team = i == 0 ? AWKWARD : NULL;
        }
        store_case c = create_case(s, &a, &in);
        if (i == 0) {
            d->case_id = c.id;
            memcpy(d->reference, ref, sizeof(ref));
        }
    }
    store_calendar cal = {.org_id = d->org,
                          .calendar = "custom",
                          .holidays = "2026-12-25 Christmas Day\n",
                          .updated_at = 1700000400};
    assert_int_equal(store_org_calendar_set(s, &cal), STORE_OK);
    store_event ev = event("public_note", NULL, NULL, true, 1700000500);
    ev.body = AWKWARD;
    assert_int_equal(store_event_append(s, d->case_id, &ev, false), STORE_OK);
    ev = event("stage_change", "received", "done", true, 1700000600);
    assert_int_equal(store_event_append(s, d->case_id, &ev, true), STORE_OK);
    ev = event("internal_note", NULL, NULL, false, 1700000700);
    ev.body = NULL;
    assert_int_equal(store_event_append(s, d->case_id, &ev, false), STORE_OK);
    ev = event("feedback", NULL, NULL, true, 1700000800);
    ev.rating = 4;
    ev.actor = "citizen";
    assert_int_equal(store_event_append(s, d->case_id, &ev, false), STORE_OK);
    store_access acc[2] = {
        {.case_id = d->case_id,
         .reader_org_id = d->org,
         .user_id = d->user,
         .reader_name = AWKWARD,
         .role = "caseworker",
         .action = "read",
         .purpose = "case work",
         .at = 1700000900},
        {.case_id = d->case_id,
         .reader_org_id = d->org,
         .key_id = d->key,
         .reader_name = "Intake system",
         .role = "caseworker",
         .action = "list",
         .purpose = "nightly sync",
         .at = 1700000950},
    };
    assert_int_equal(store_access_record(s, acc, 2), STORE_OK);
    /* Notifications: a preference, a template, a webhook, an email sent
     * once and failed, and a task. */
    store_prefs prefs = {
        .channels = "email,post", .language = "cy", .frequency = "every", .updated_at = 1700001000};
    assert_int_equal(store_prefs_set(s, d->case_id, &prefs), STORE_OK);
    store_template tpl = {.service_id = d->service,
                          .kind = "public_note",
                          .language = "cy",
                          .subject = AWKWARD,
                          .body = "Diweddariad: {note}",
                          .updated_at = 1700001000};
    assert_int_equal(store_template_set(s, &tpl), STORE_OK);
    store_webhook hook = {.org_id = d->org,
                          .url = "https://charity.example/hook",
                          .secret = "whsec_test",
                          .created_at = 1700001000};
    assert_int_equal(store_webhook_create(s, &hook), STORE_OK);
    store_notice notes[2] = {{.org_id = d->org,
                              .case_id = d->case_id,
                              .kind = "public_note",
                              .channel = "email",
                              .recipient = "pat@example.org",
                              .subject = AWKWARD,
                              .body = AWKWARD,
                              .created_at = 1700001000},
                             {.org_id = d->org,
                              .case_id = d->case_id,
                              .kind = "public_note",
                              .channel = "post",
                              .recipient = "Pat\n1 High Street",
                              .body = "Diweddariad",
                              .created_at = 1700001000}};
    assert_int_equal(store_notice_add(s, notes, 2), STORE_OK);
    store_notice *claimed;
    size_t nclaimed;
    assert_int_equal(store_notice_claim(s, &a, "email", 1700001001, 60, 10, &claimed, &nclaimed),
                     STORE_OK);
    assert_int_equal(nclaimed, 1);
    assert_int_equal(store_notice_result(s, claimed[0].id, claimed[0].attempts, NOTICE_FAILED,
                                         "550 mailbox unavailable", 1700001002, 0),
                     STORE_OK);
    assert_int_equal(store_case_set_secret(s, d->case_id, d->new_secret), STORE_OK);
    arena_free(&a);
}

/* The copy serves what the source served, and keeps its secret key. */
static void check_copy(store *src, store *dst, const deployment *d)
{
    arena a;
    arena_init(&a);
    unsigned char k1[32], k2[32];
    assert_int_equal(store_secret_key(src, k1), STORE_OK);
    assert_int_equal(store_secret_key(dst, k2), STORE_OK);
    assert_memory_equal(k1, k2, 32);

    store_case c1, c2;
    assert_int_equal(store_case_get(src, &a, d->org, d->reference, &c1), STORE_OK);
    assert_int_equal(store_case_get(dst, &a, d->org, d->reference, &c2), STORE_OK);
    assert_int_equal(c1.id, c2.id);
    assert_string_equal(c2.summary, AWKWARD);
    assert_string_equal(c2.person.name, AWKWARD);
    assert_string_equal(c2.person.phone, "");
    assert_null(c2.person.postcode);
    assert_string_equal(c2.stage, "done");
    assert_int_equal(c2.closed_at, 1700000600);
    assert_memory_equal(c2.secret_hash, d->new_secret, 32);

    store_event *e1, *e2;
    size_t n1, n2;
    assert_int_equal(store_case_events(src, &a, c1.id, false, &e1, &n1), STORE_OK);
    assert_int_equal(store_case_events(dst, &a, c2.id, false, &e2, &n2), STORE_OK);
    assert_int_equal(n1, 5);
    assert_int_equal(n2, n1);
    int64_t last_event = e1[n1 - 1].id;
    for (size_t i = 0; i < n1; i++) {
        assert_int_equal(e1[i].id, e2[i].id);
        assert_string_equal(e1[i].type, e2[i].type);
        assert_int_equal(e1[i].public_, e2[i].public_);
        assert_int_equal(e1[i].rating, e2[i].rating);
        assert_true((e1[i].body == NULL) == (e2[i].body == NULL));
        if (e1[i].body)
            assert_string_equal(e1[i].body, e2[i].body);
    }
    store_access *x1, *x2;
    assert_int_equal(store_case_accesses(src, &a, c1.id, &x1, &n1), STORE_OK);
    assert_int_equal(store_case_accesses(dst, &a, c2.id, &x2, &n2), STORE_OK);
    assert_int_equal(n1, 2);
    assert_int_equal(n2, n1);
    for (size_t i = 0; i < n1; i++) {
        assert_int_equal(x1[i].id, x2[i].id);
        assert_int_equal(x1[i].key_id, x2[i].key_id);
        assert_string_equal(x1[i].reader_name, x2[i].reader_name);
    }

    store_principal p;
    assert_int_equal(store_key_get(dst, &a, d->key_hash, &p), STORE_OK);
    assert_int_equal(p.key_id, d->key);
    assert_int_equal(store_session_get(dst, &a, d->session, (int64_t)time(NULL), &p), STORE_OK);
    assert_int_equal(p.user_id, d->user);

    /* An idempotency key still finds its case. */
    unsigned char h[32];
    fill_hash(h, 11);
    store_case_new again = case_input(d->org, d->service, "NOR-9999", h, 1700009999);
    again.idempotency_key = "idem-1";
    bool existed = false;
    assert_int_equal(store_case_create(dst, &a, &again, &c2, &existed), STORE_OK);
    assert_true(existed);
    assert_string_equal(c2.reference, "NOR-0002");

    /* New rows get ids past the copied ones. */
    int64_t org = 0;
    assert_int_equal(store_org_create(dst, "east", "East", &org), STORE_OK);
    assert_int_equal(org, d->other_org + 1);
    store_event ev = event("public_note", NULL, NULL, true, 1700001000);
    assert_int_equal(store_event_append(dst, d->case_id, &ev, false), STORE_OK);
    assert_int_equal(ev.id, last_event + 1);
    arena_free(&a);
}

/* The sums of the copy's source, read again, and of its target agree with
 * what the copy reported. */
static void check_sums(store *src, store *dst, const store_table_sum *copied)
{
    size_t n = store_table_count();
    store_table_sum *a = calloc(n, sizeof(*a));
    store_table_sum *b = calloc(n, sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    char err[256];
    assert_int_equal(store_checksum(src, a, err, sizeof(err)), STORE_OK);
    assert_int_equal(store_checksum(dst, b, err, sizeof(err)), STORE_OK);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(copied[i].table, store_table_name(i));
        assert_int_equal(a[i].rows, copied[i].rows);
        assert_int_equal(b[i].rows, copied[i].rows);
        assert_memory_equal(a[i].sha256, copied[i].sha256, 32);
        assert_memory_equal(b[i].sha256, copied[i].sha256, 32);
    }
    free(a);
    free(b);
}

/* The rows fill_deployment makes, table by table, in store_table order. */
static const int64_t DEPLOYMENT_ROWS[] = {1, 2, 2, 1, 1, 1, 3, 5, 9, 2, 13, 1, 0,
                                          0, 1, 1, 2, 1, 1, 1, 2, 1, 0, 0,  0};

#endif
