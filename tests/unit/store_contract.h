/* store_contract.h - the store's contract (store.h), checked the same way on
 * each backend: test_store.c and test_store_pg.c each define
 * contract_store(pool), which opens a fresh, empty store of theirs with that
 * many connections, then include this file and list its tests in their own
 * main(). What only one backend has (SQLite's group commit, PostgreSQL's
 * reconnection and log queue) stays in its own file. */
#ifndef OC_TEST_STORE_CONTRACT_H
#define OC_TEST_STORE_CONTRACT_H

static void fill_hash(unsigned char h[32], int seed)
{
    for (int i = 0; i < 32; i++)
        h[i] = (unsigned char)(seed * 31 + i);
}

static const char *WORKFLOW = "{\"stages\":[{\"code\":\"received\"},{\"code\":\"done\"}]}";

/* An organisation with one service; returns the org id and sets *service. */
static int64_t make_org(store *s, const char *slug, const char *code, int64_t *service)
{
    int64_t org = 0;
    assert_int_equal(store_org_create(s, slug, "An organisation", &org), STORE_OK);
    store_service svc = {.org_id = org,
                         .code = code,
                         .name = "A service",
                         .description = "What it does",
                         .workflow_json = WORKFLOW,
                         .target_days = 10};
    assert_int_equal(store_service_create(s, &svc), STORE_OK);
    *service = svc.id;
    return org;
}

static store_case_new case_input(int64_t org, int64_t service, const char *reference,
                                 const unsigned char *hash, int64_t now)
{
    store_case_new in = {.org_id = org,
                         .service_id = service,
                         .reference = reference,
                         .stage = "received",
                         .summary = "A summary",
                         .secret_hash = hash,
                         .actor = "Case Worker",
                         .now = now};
    return in;
}

static store_case create_case(store *s, arena *a, store_case_new *in)
{
    store_case c;
    bool existed = true;
    assert_int_equal(store_case_create(s, a, in, &c, &existed), STORE_OK);
    assert_false(existed);
    return c;
}

static store_event event(const char *type, const char *from, const char *to, bool public_,
                         int64_t at)
{
    store_event ev = {.type = type,
                      .from_stage = from,
                      .stage = to,
                      .body = "A note",
                      .public_ = public_,
                      .actor = "Case Worker",
                      .created_at = at};
    return ev;
}

static void test_orgs(void **state)
{
    (void)state;
    store *s = contract_store(2);
    arena a;
    arena_init(&a);
    int64_t id = 0, id2 = 0;
    assert_int_equal(store_org_create(s, "northshire", "Northshire Council", &id), STORE_OK);
    assert_true(id > 0);
    assert_int_equal(store_org_create(s, "northshire", "Again", &id2), STORE_DUPLICATE);
    assert_int_equal(id2, 0);

    store_org o;
    assert_int_equal(store_org_by_slug(s, &a, "northshire", &o), STORE_OK);
    assert_int_equal(o.id, id);
    assert_string_equal(o.name, "Northshire Council");
    assert_int_equal(store_org_by_id(s, &a, id, &o), STORE_OK);
    assert_string_equal(o.slug, "northshire");
    assert_int_equal(store_org_by_slug(s, &a, "nowhere", &o), STORE_NOT_FOUND);
    assert_null(o.slug);
    assert_int_equal(store_org_by_id(s, &a, id + 100, &o), STORE_NOT_FOUND);
    arena_free(&a);
    store_close(s);
}

static void test_services(void **state)
{
    (void)state;
    store *s = contract_store(2);
    arena a;
    arena_init(&a);
    int64_t permit = 0, other_permit = 0;
    int64_t org = make_org(s, "north", "permit", &permit);
    int64_t other = make_org(s, "south", "permit", &other_permit);
    assert_int_not_equal(permit, other_permit);

    store_service svc = {.org_id = org,
                         .code = "bins",
                         .name = "Bins",
                         .workflow_json = WORKFLOW,
                         .target_days = 5,
                         .created_at = 1000};
    assert_int_equal(store_service_create(s, &svc), STORE_OK);
    assert_int_equal(svc.created_at, 1000);
    assert_int_equal(svc.updated_at, 1000);
    store_service dup = svc;
    dup.id = 0;
    assert_int_equal(store_service_create(s, &dup), STORE_DUPLICATE);
    store_service orphan = svc;
    orphan.org_id = other + 100;
    orphan.code = "orphan";
    assert_int_equal(store_service_create(s, &orphan), STORE_NOT_FOUND);

    store_service got;
    assert_int_equal(store_service_get(s, &a, org, "bins", &got), STORE_OK);
    assert_int_equal(got.id, svc.id);
    assert_string_equal(got.name, "Bins");
    assert_null(got.description);
    assert_string_equal(got.workflow_json, WORKFLOW);
    assert_int_equal(got.target_days, 5);
    assert_int_equal(store_service_get(s, &a, other, "bins", &got), STORE_NOT_FOUND);
    assert_int_equal(store_service_by_id(s, &a, permit, &got), STORE_OK);
    assert_string_equal(got.code, "permit");
    assert_int_equal(got.org_id, org);
    assert_true(got.created_at > 1600000000);

    store_service upd = {.org_id = org,
                         .code = "bins",
                         .name = "Bin collections",
                         .description = "Missed bins",
                         .workflow_json = "{}",
                         .target_days = 7,
                         .updated_at = 2000};
    assert_int_equal(store_service_update(s, &upd), STORE_OK);
    assert_int_equal(store_service_get(s, &a, org, "bins", &got), STORE_OK);
    assert_string_equal(got.name, "Bin collections");
    assert_string_equal(got.description, "Missed bins");
    assert_int_equal(got.target_days, 7);
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.updated_at, 2000);
    upd.code = "nope";
    assert_int_equal(store_service_update(s, &upd), STORE_NOT_FOUND);

    store_service *list = NULL;
    size_t n = 0;
    assert_int_equal(store_service_list(s, &a, org, &list, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].code, "bins");
    assert_string_equal(list[1].code, "permit");
    assert_int_equal(store_service_list(s, &a, other + 100, &list, &n), STORE_OK);
    assert_int_equal(n, 0);
    arena_free(&a);
    store_close(s);
}

static void test_users_sessions_keys(void **state)
{
    (void)state;
    store *s = contract_store(2);
    arena a;
    arena_init(&a);
    int64_t svc;
    int64_t org = make_org(s, "north", "permit", &svc);

    store_user u = {.org_id = org,
                    .email = "admin@north.example",
                    .name = "Ada Admin",
                    .role = "administrator",
                    .password_hash = "$argon2id$v=19$stub"};
    assert_int_equal(store_user_create(s, &u), STORE_OK);
    assert_true(u.id > 0);
    store_user again = u;
    again.name = "Someone else";
    assert_int_equal(store_user_create(s, &again), STORE_DUPLICATE);

    store_user got;
    assert_int_equal(store_user_by_email(s, &a, "admin@north.example", &got), STORE_OK);
    assert_int_equal(got.id, u.id);
    assert_int_equal(got.org_id, org);
    assert_string_equal(got.role, "administrator");
    assert_string_equal(got.password_hash, "$argon2id$v=19$stub");
    assert_int_equal(store_user_by_email(s, &a, "nobody@north.example", &got), STORE_NOT_FOUND);

    unsigned char h[32], h2[32];
    fill_hash(h, 1);
    fill_hash(h2, 2);
    int64_t now = 4000000000;
    assert_int_equal(store_session_create(s, h, u.id, now + 100), STORE_OK);
    assert_int_equal(store_session_create(s, h, u.id, now + 100), STORE_DUPLICATE);
    assert_int_equal(store_session_create(s, h2, u.id + 99, now + 100), STORE_NOT_FOUND);
    store_principal p;
    assert_int_equal(store_session_get(s, &a, h, now, &p), STORE_OK);
    assert_int_equal(p.org_id, org);
    assert_int_equal(p.user_id, u.id);
    assert_int_equal(p.key_id, 0);
    assert_string_equal(p.role, "administrator");
    assert_string_equal(p.name, "Ada Admin");
    assert_int_equal(store_session_get(s, &a, h, now + 99, &p), STORE_OK);
    assert_int_equal(store_session_get(s, &a, h, now + 100, &p), STORE_NOT_FOUND);
    assert_int_equal(p.user_id, 0);
    assert_int_equal(store_session_get(s, &a, h2, now, &p), STORE_NOT_FOUND);
    assert_int_equal(store_session_delete(s, h), STORE_OK);
    assert_int_equal(store_session_get(s, &a, h, now, &p), STORE_NOT_FOUND);
    assert_int_equal(store_session_delete(s, h), STORE_NOT_FOUND);

    int64_t key = 0, key2 = 0;
    assert_int_equal(store_key_create(s, org, "Case system", "caseworker", h2, &key), STORE_OK);
    assert_true(key > 0);
    assert_int_equal(store_key_create(s, org, "Copy", "caseworker", h2, &key2), STORE_DUPLICATE);
    assert_int_equal(store_key_get(s, &a, h2, &p), STORE_OK);
    assert_int_equal(p.org_id, org);
    assert_int_equal(p.key_id, key);
    assert_int_equal(p.user_id, 0);
    assert_string_equal(p.role, "caseworker");
    assert_string_equal(p.name, "Case system");
    assert_int_equal(store_key_get(s, &a, h, &p), STORE_NOT_FOUND);

    /* Revoking: only the organisation's own key, once for good; the list
     * keeps it, with the first revocation's time. */
    unsigned char h3[32];
    fill_hash(h3, 3);
    assert_int_equal(store_key_create(s, org, "Reporting", "analyst", h3, &key2), STORE_OK);
    assert_int_equal(store_key_revoke(s, org + 1, key, now), STORE_NOT_FOUND);
    assert_int_equal(store_key_revoke(s, org, key2 + 1, now), STORE_NOT_FOUND);
    assert_int_equal(store_key_get(s, &a, h2, &p), STORE_OK);
    assert_int_equal(store_key_revoke(s, org, key, now), STORE_OK);
    assert_int_equal(store_key_get(s, &a, h2, &p), STORE_NOT_FOUND);
    assert_int_equal(store_key_revoke(s, org, key, now + 5), STORE_OK);
    assert_int_equal(store_key_get(s, &a, h3, &p), STORE_OK);
    store_key *keys = NULL;
    size_t n = 0;
    assert_int_equal(store_key_list(s, &a, org, &keys, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(keys[0].id, key);
    assert_string_equal(keys[0].label, "Case system");
    assert_string_equal(keys[0].role, "caseworker");
    assert_true(keys[0].created_at > 0);
    assert_int_equal(keys[0].revoked_at, now);
    assert_int_equal(keys[1].id, key2);
    assert_string_equal(keys[1].role, "analyst");
    assert_int_equal(keys[1].revoked_at, 0);
    assert_int_equal(store_key_list(s, &a, org + 1, &keys, &n), STORE_OK);
    assert_int_equal(n, 0);
    arena_free(&a);
    store_close(s);
}

/* ---- cases ---- */

static void test_case_create_and_idempotency(void **state)
{
    (void)state;
    store *s = contract_store(2);
    arena a;
    arena_init(&a);
    int64_t svc_a, svc_b;
    int64_t org_a = make_org(s, "north", "permit", &svc_a);
    int64_t org_b = make_org(s, "south", "permit", &svc_b);
    unsigned char h[32];
    fill_hash(h, 3);

    store_case_new in = case_input(org_a, svc_a, "AAAA-AAAA-A", h, 5000);
    in.idempotency_key = "req-1";
    in.person =
        (store_person){.name = "Pat Citizen", .email = "pat@example.org", .postcode = "AB1 2CD"};
    store_case c1 = create_case(s, &a, &in);
    assert_true(c1.id > 0);
    assert_int_equal(c1.org_id, org_a);
    assert_string_equal(c1.service_code, "permit");
    assert_string_equal(c1.reference, "AAAA-AAAA-A");
    assert_string_equal(c1.stage, "received");
    assert_memory_equal(c1.secret_hash, h, 32);
    assert_int_equal(c1.opened_at, 5000);
    assert_int_equal(c1.updated_at, 5000);
    assert_int_equal(c1.closed_at, 0);
    assert_true(c1.person.id > 0);
    assert_string_equal(c1.person.name, "Pat Citizen");
    assert_string_equal(c1.person.postcode, "AB1 2CD");
    assert_null(c1.person.phone);

    /* The same key again: nothing new, the first case back. */
    store_case_new replay = in;
    replay.reference = "BBBB-BBBB-B";
    replay.summary = "Different";
    store_case c2;
    bool existed = false;
    assert_int_equal(store_case_create(s, &a, &replay, &c2, &existed), STORE_OK);
    assert_true(existed);
    assert_int_equal(c2.id, c1.id);
    assert_string_equal(c2.reference, "AAAA-AAAA-A");
    assert_string_equal(c2.summary, "A summary");
    assert_int_equal(store_case_get(s, &a, 0, "BBBB-BBBB-B", &c2), STORE_NOT_FOUND);

    /* The same key in another organisation is another case. */
    store_case_new other = case_input(org_b, svc_b, "CCCC-CCCC-C", h, 5000);
    other.idempotency_key = "req-1";
    store_case c3 = create_case(s, &a, &other);
    assert_int_not_equal(c3.id, c1.id);
    assert_int_equal(c3.person.id, 0);
    assert_null(c3.person.name);

    /* A taken reference, and a service of another organisation. */
    store_case_new taken = case_input(org_b, svc_b, "AAAA-AAAA-A", h, 5000);
    assert_int_equal(store_case_create(s, &a, &taken, &c2, &existed), STORE_DUPLICATE);
    assert_false(existed);
    assert_int_equal(c2.id, 0);
    store_case_new crossed = case_input(org_b, svc_a, "DDDD-DDDD-D", h, 5000);
    assert_int_equal(store_case_create(s, &a, &crossed, &c2, &existed), STORE_NOT_FOUND);

    /* Without a key every call makes a case; the "opened" event comes with it. */
    store_case_new plain = case_input(org_a, svc_a, "EEEE-EEEE-E", h, 6000);
    store_case c4 = create_case(s, &a, &plain);
    store_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_case_events(s, &a, c4.id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(evs[0].type, "opened");
    assert_string_equal(evs[0].stage, "received");
    assert_true(evs[0].public_);
    assert_string_equal(evs[0].actor, "Case Worker");
    assert_int_equal(evs[0].created_at, 6000);
    assert_int_equal(evs[0].case_id, c4.id);
    arena_free(&a);
    store_close(s);
}

static void test_case_get_isolation(void **state)
{
    (void)state;
    store *s = contract_store(2);
    arena a;
    arena_init(&a);
    int64_t svc_a, svc_b;
    int64_t org_a = make_org(s, "north", "permit", &svc_a);
    int64_t org_b = make_org(s, "south", "burglary", &svc_b);
    unsigned char h[32];
    fill_hash(h, 4);
    store_case_new in = case_input(org_a, svc_a, "K7QM-2XPD-C", h, 100);
    store_case made = create_case(s, &a, &in);

    store_case c;
    assert_int_equal(store_case_get(s, &a, org_a, "K7QM-2XPD-C", &c), STORE_OK);
    assert_int_equal(c.id, made.id);
    assert_string_equal(c.service_code, "permit");
    assert_int_equal(store_case_get(s, &a, 0, "K7QM-2XPD-C", &c), STORE_OK);
    assert_int_equal(c.id, made.id);
    assert_int_equal(store_case_get(s, &a, org_b, "K7QM-2XPD-C", &c), STORE_NOT_FOUND);
    assert_int_equal(c.id, 0);
    assert_null(c.reference);
    assert_int_equal(store_case_get(s, &a, org_a, "ZZZZ-ZZZZ-Z", &c), STORE_NOT_FOUND);
    arena_free(&a);
    store_close(s);
}

static void test_events_and_stages(void **state)
{
    (void)state;
    store *s = contract_store(2);
    arena a;
    arena_init(&a);
    int64_t svc;
    int64_t org = make_org(s, "north", "permit", &svc);
    unsigned char h[32];
    fill_hash(h, 5);
    store_case_new in = case_input(org, svc, "AAAA-0000-A", h, 100);
    store_case c = create_case(s, &a, &in);

    store_event note = event("public_note", NULL, "stale", true, 110);
    assert_int_equal(store_event_append(s, c.id, &note, false), STORE_OK);
    assert_true(note.id > 0);
    store_event internal = event("internal_note", NULL, NULL, false, 120);
    assert_int_equal(store_event_append(s, c.id, &internal, false), STORE_OK);
    store_event move = event("stage_change", "received", "assessing", true, 130);
    assert_int_equal(store_event_append(s, c.id, &move, false), STORE_OK);
    store_event late = event("stage_change", "received", "approved", true, 140);
    assert_int_equal(store_event_append(s, c.id, &late, false), STORE_CONFLICT);
    assert_int_equal(late.id, 0);
    store_event nowhere = event("stage_change", "received", "assessing", true, 140);
    assert_int_equal(store_event_append(s, c.id + 1000, &nowhere, false), STORE_NOT_FOUND);
    store_event orphan = event("public_note", NULL, NULL, true, 140);
    assert_int_equal(store_event_append(s, c.id + 1000, &orphan, false), STORE_NOT_FOUND);
    store_event message = event("message", NULL, NULL, true, 150);
    message.actor = "citizen";
    assert_int_equal(store_event_append(s, c.id, &message, false), STORE_OK);

    store_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_case_events(s, &a, c.id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 5);
    const char *types[] = {"opened", "public_note", "internal_note", "stage_change", "message"};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(evs[i].type, types[i]);
        if (i > 0)
            assert_true(evs[i].id > evs[i - 1].id);
    }
    /* Other events carry the case's stage, not what the caller passed. */
    assert_string_equal(evs[1].stage, "received");
    assert_null(evs[1].from_stage);
    assert_string_equal(evs[1].body, "A note");
    assert_string_equal(evs[3].from_stage, "received");
    assert_string_equal(evs[3].stage, "assessing");
    assert_string_equal(evs[4].stage, "assessing");
    assert_string_equal(evs[4].actor, "citizen");

    assert_int_equal(store_case_events(s, &a, c.id, true, &evs, &n), STORE_OK);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_true(evs[i].public_);
        assert_string_not_equal(evs[i].type, "internal_note");
    }
    assert_int_equal(store_case_events(s, &a, c.id + 1000, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 0);

    store_case got;
    assert_int_equal(store_case_get(s, &a, org, "AAAA-0000-A", &got), STORE_OK);
    assert_string_equal(got.stage, "assessing");
    assert_int_equal(got.updated_at, 150);
    assert_int_equal(got.closed_at, 0);

    /* Only a stage change closes, and it needs both stages. */
    store_event bad = event("public_note", NULL, NULL, true, 160);
    assert_int_equal(store_event_append(s, c.id, &bad, true), STORE_ERROR);
    store_event half = event("stage_change", NULL, "approved", true, 160);
    assert_int_equal(store_event_append(s, c.id, &half, false), STORE_ERROR);
    arena_free(&a);
    store_close(s);
}

/* A move made unread (store_case_move) checks what the caller would have. */
static void test_case_move(void **state)
{
    (void)state;
    store *s = contract_store(2);
    arena a;
    arena_init(&a);
    int64_t svc, other_svc;
    int64_t org = make_org(s, "north", "permit", &svc);
    int64_t other = make_org(s, "south", "permit", &other_svc);
    unsigned char h[32];
    fill_hash(h, 6);
    store_case_new in = case_input(org, svc, "MOVE-0000-A", h, 100);
    store_case c = create_case(s, &a, &in);
    store_move_from from[] = {{other_svc, "received"}, {svc, "received"}};
    store_case got;

    store_event move = event("stage_change", NULL, "assessing", false, 130);
    move.body = NULL;
    assert_int_equal(store_case_move(s, &a, org, "MOVE-0000-A", from, 2, &move, &got), STORE_OK);
    assert_true(move.id > 0);
    assert_int_equal(move.case_id, c.id);
    assert_string_equal(move.from_stage, "received");
    assert_int_equal(got.id, c.id);
    assert_int_equal(got.org_id, org);
    assert_int_equal(got.service_id, svc);
    assert_string_equal(got.reference, "MOVE-0000-A");
    assert_string_equal(got.stage, "assessing");
    assert_string_equal(got.summary, "A summary");
    assert_memory_equal(got.secret_hash, h, 32);
    assert_int_equal(got.opened_at, 100);
    assert_int_equal(got.updated_at, 130);
    assert_int_equal(got.closed_at, 0);

    /* Not at an offered stage, of another service or organisation, unknown,
     * or nothing offered: no move, and nothing written. */
    store_event again = event("stage_change", NULL, "done", false, 140);
    again.body = NULL;
    assert_int_equal(store_case_move(s, &a, org, "MOVE-0000-A", from, 2, &again, &got),
                     STORE_NOT_FOUND);
    store_move_from assessing_elsewhere[] = {{other_svc, "assessing"}};
    assert_int_equal(
        store_case_move(s, &a, org, "MOVE-0000-A", assessing_elsewhere, 1, &again, &got),
        STORE_NOT_FOUND);
    store_move_from assessing[] = {{svc, "assessing"}};
    assert_int_equal(store_case_move(s, &a, other, "MOVE-0000-A", assessing, 1, &again, &got),
                     STORE_NOT_FOUND);
    assert_int_equal(store_case_move(s, &a, org, "MOVE-9999-A", assessing, 1, &again, &got),
                     STORE_NOT_FOUND);
    assert_int_equal(store_case_move(s, &a, org, "MOVE-0000-A", assessing, 0, &again, &got),
                     STORE_NOT_FOUND);
    /* Only a move that is not public is made unread. */
    store_event told = event("stage_change", NULL, "done", true, 140);
    assert_int_equal(store_case_move(s, &a, org, "MOVE-0000-A", assessing, 1, &told, &got),
                     STORE_ERROR);

    store_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_case_events(s, &a, c.id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(evs[1].type, "stage_change");
    assert_string_equal(evs[1].from_stage, "received");
    assert_string_equal(evs[1].stage, "assessing");
    assert_false(evs[1].public_);
    assert_null(evs[1].body);
    assert_string_equal(evs[1].actor, "Case Worker");

    /* Its entry in the public log, as any move's: the opening, then the move. */
    assert_int_equal(store_log_sequence_all(s), STORE_OK);
    store_log_row *rows = NULL;
    assert_int_equal(store_log_entries(s, &a, 0, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 2);
    char *entry = arena_alloc(&a, rows[1].entry_len + 1);
    assert_non_null(entry);
    memcpy(entry, rows[1].entry, rows[1].entry_len);
    entry[rows[1].entry_len] = '\0';
    assert_non_null(strstr(entry, "\"stage_changed\""));
    assert_non_null(strstr(entry, "\"from\":\"received\""));
    assert_non_null(strstr(entry, "\"stage\":\"assessing\""));
    assert_non_null(strstr(entry, "\"org\":\"north\""));
    assert_non_null(strstr(entry, "\"service\":\"permit\""));
    assert_null(strstr(entry, "MOVE-0000-A"));

    /* A closed case is not moved. */
    store_event close = event("stage_change", "assessing", "done", true, 150);
    assert_int_equal(store_event_append(s, c.id, &close, true), STORE_OK);
    store_move_from done[] = {{svc, "done"}};
    store_event reopen = event("stage_change", NULL, "assessing", false, 160);
    reopen.body = NULL;
    assert_int_equal(store_case_move(s, &a, org, "MOVE-0000-A", done, 1, &reopen, &got),
                     STORE_NOT_FOUND);
    arena_free(&a);
    store_close(s);
}

static void test_closing_and_feedback(void **state)
{
    (void)state;
    store *s = contract_store(2);
    arena a;
    arena_init(&a);
    int64_t svc;
    int64_t org = make_org(s, "north", "permit", &svc);
    unsigned char h[32];
    fill_hash(h, 6);
    store_case_new in = case_input(org, svc, "AAAA-1111-A", h, 100);
    store_case c = create_case(s, &a, &in);

    store_event close = event("stage_change", "received", "done", true, 500);
    assert_int_equal(store_event_append(s, c.id, &close, true), STORE_OK);
    store_case got;
    assert_int_equal(store_case_get(s, &a, org, "AAAA-1111-A", &got), STORE_OK);
    assert_string_equal(got.stage, "done");
    assert_int_equal(got.closed_at, 500);
    assert_int_equal(got.updated_at, 500);

    /* A closed case moves no further, even from its own stage. */
    store_event reopen = event("stage_change", "done", "received", true, 600);
    assert_int_equal(store_event_append(s, c.id, &reopen, false), STORE_CONFLICT);
    store_event twice = event("stage_change", "done", "done", true, 600);
    assert_int_equal(store_event_append(s, c.id, &twice, true), STORE_CONFLICT);

    store_event fb = event("feedback", NULL, NULL, true, 700);
    fb.rating = 4;
    fb.actor = "citizen";
    assert_int_equal(store_event_append(s, c.id, &fb, false), STORE_OK);
    store_event fb2 = fb;
    assert_int_equal(store_event_append(s, c.id, &fb2, false), STORE_DUPLICATE);
    store_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_case_events(s, &a, c.id, true, &evs, &n), STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(evs[2].type, "feedback");
    assert_int_equal(evs[2].rating, 4);
    assert_string_equal(evs[2].stage, "done");
    assert_int_equal(store_case_get(s, &a, org, "AAAA-1111-A", &got), STORE_OK);
    assert_int_equal(got.closed_at, 500);
    assert_int_equal(got.updated_at, 700);
    arena_free(&a);
    store_close(s);
}

static void test_set_secret(void **state)
{
    (void)state;
    store *s = contract_store(1);
    arena a;
    arena_init(&a);
    int64_t svc;
    int64_t org = make_org(s, "north", "permit", &svc);
    unsigned char h[32], h2[32];
    fill_hash(h, 7);
    fill_hash(h2, 8);
    store_case_new in = case_input(org, svc, "AAAA-2222-A", h, 100);
    store_case c = create_case(s, &a, &in);
    assert_int_equal(store_case_set_secret(s, c.id, h2), STORE_OK);
    store_case got;
    assert_int_equal(store_case_get(s, &a, 0, "AAAA-2222-A", &got), STORE_OK);
    assert_memory_equal(got.secret_hash, h2, 32);
    assert_int_equal(store_case_set_secret(s, c.id + 1000, h), STORE_NOT_FOUND);
    arena_free(&a);
    store_close(s);
}

/* ---- listing ---- */

/* 30 cases in org A (ids ascending with i): service "permit" for even i,
 * "bins" for odd; stage "assessing" when i % 3 == 0; opened at 1000 + 10 i;
 * summaries "case i", with "100% sure_thing" in case 7. Three cases in org B. */
typedef struct list_fixture {
    store *s;
    int64_t org_a, org_b;
    int64_t ids[30];
} list_fixture;

static void make_list_fixture(list_fixture *fx, arena *a)
{
    fx->s = contract_store(2);
    int64_t permit, bins, other;
    fx->org_a = make_org(fx->s, "north", "permit", &permit);
    fx->org_b = make_org(fx->s, "south", "permit", &other);
    store_service svc = {.org_id = fx->org_a,
                         .code = "bins",
                         .name = "Bins",
                         .workflow_json = WORKFLOW,
                         .target_days = 3};
    assert_int_equal(store_service_create(fx->s, &svc), STORE_OK);
    bins = svc.id;
    unsigned char h[32];
    fill_hash(h, 9);
    for (int i = 0; i < 30; i++) {
        char ref[24], summary[64];
        snprintf(ref, sizeof(ref), "LIST-%04d-A", i);
        snprintf(summary, sizeof(summary), i == 7 ? "case %d: 100%% sure_thing" : "case %d", i);
        store_case_new in = case_input(fx->org_a, i % 2 ? bins : permit, ref, h, 1000 + 10 * i);
        in.summary = summary;
        store_case c = create_case(fx->s, a, &in);
        fx->ids[i] = c.id;
        if (i % 3 == 0) {
            store_event ev = event("stage_change", "received", "assessing", true, 2000);
            assert_int_equal(store_event_append(fx->s, c.id, &ev, false), STORE_OK);
        }
    }
    for (int i = 0; i < 3; i++) {
        char ref[24];
        snprintf(ref, sizeof(ref), "SOUT-%04d-B", i);
        store_case_new in = case_input(fx->org_b, other, ref, h, 1000 + 10 * i);
        create_case(fx->s, a, &in);
    }
}

static size_t list(list_fixture *fx, arena *a, store_case_filter f, store_case **out, bool *more)
{
    size_t n = 0;
    assert_int_equal(store_case_list(fx->s, a, &f, out, &n, more), STORE_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal((*out)[i].org_id, f.org_id);
        if (i > 0)
            assert_true((*out)[i].opened_at < (*out)[i - 1].opened_at ||
                        ((*out)[i].opened_at == (*out)[i - 1].opened_at &&
                         (*out)[i].id < (*out)[i - 1].id));
    }
    return n;
}

static void test_list_filters(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    list_fixture fx;
    make_list_fixture(&fx, &a);
    store_case *cs = NULL;
    bool more = true;

    store_case_filter all = {.org_id = fx.org_a, .limit = 200};
    assert_int_equal(list(&fx, &a, all, &cs, &more), 30);
    assert_false(more);
    assert_int_equal(cs[0].id, fx.ids[29]);
    assert_string_equal(cs[0].service_code, "bins");

    store_case_filter f = all;
    f.service_code = "permit";
    assert_int_equal(list(&fx, &a, f, &cs, &more), 15);
    for (int i = 0; i < 15; i++)
        assert_string_equal(cs[i].service_code, "permit");
    f.service_code = "unknown";
    assert_int_equal(list(&fx, &a, f, &cs, &more), 0);

    f = all;
    f.stage = "assessing";
    assert_int_equal(list(&fx, &a, f, &cs, &more), 10);
    assert_string_equal(cs[0].stage, "assessing");
    f.service_code = "bins"; /* odd i with i % 3 == 0: 3, 9, 15, 21, 27 */
    assert_int_equal(list(&fx, &a, f, &cs, &more), 5);
    assert_int_equal(cs[0].id, fx.ids[27]);

    f = all;
    f.opened_from = 1100; /* i >= 10 */
    f.opened_to = 1200;   /* i < 20 */
    assert_int_equal(list(&fx, &a, f, &cs, &more), 10);
    assert_int_equal(cs[0].id, fx.ids[19]);
    assert_int_equal(cs[9].id, fx.ids[10]);
    f.opened_to = 0;
    assert_int_equal(list(&fx, &a, f, &cs, &more), 20);

    f = all;
    f.text = "LIST-0012";
    assert_int_equal(list(&fx, &a, f, &cs, &more), 1);
    assert_int_equal(cs[0].id, fx.ids[12]);
    f.text = "list-001"; /* any case, part of a reference: 10..19 */
    assert_int_equal(list(&fx, &a, f, &cs, &more), 10);
    f.text = "case 2"; /* summaries: 2, 20..29 */
    assert_int_equal(list(&fx, &a, f, &cs, &more), 11);
    /* % and _ are literal characters, not wildcards. */
    f.text = "100% sure_";
    assert_int_equal(list(&fx, &a, f, &cs, &more), 1);
    assert_int_equal(cs[0].id, fx.ids[7]);
    f.text = "0%";
    assert_int_equal(list(&fx, &a, f, &cs, &more), 1);
    f.text = "_";
    assert_int_equal(list(&fx, &a, f, &cs, &more), 1);
    f.text = "SOUT";
    assert_int_equal(list(&fx, &a, f, &cs, &more), 0);

    store_case_filter b = {.org_id = fx.org_b, .limit = 50};
    assert_int_equal(list(&fx, &a, b, &cs, &more), 3);
    assert_string_equal(cs[0].reference, "SOUT-0002-B");
    arena_free(&a);
    store_close(fx.s);
}

static void test_list_paging(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    list_fixture fx;
    make_list_fixture(&fx, &a);
    store_case *cs = NULL;
    bool more = false;

    /* 30 cases in pages of 7: 7, 7, 7, 7, 2. */
    store_case_filter f = {.org_id = fx.org_a, .limit = 7};
    int seen = 0, pages = 0;
    for (;;) {
        size_t n = list(&fx, &a, f, &cs, &more);
        pages++;
        for (size_t i = 0; i < n; i++, seen++)
            assert_int_equal(cs[i].id, fx.ids[29 - seen]);
        if (!more)
            break;
        assert_int_equal(n, 7);
        f.before_opened_at = cs[n - 1].opened_at;
        f.before_id = cs[n - 1].id;
    }
    assert_int_equal(seen, 30);
    assert_int_equal(pages, 5);

    /* A filter pages the same way; an exact fit says there is no more. */
    store_case_filter g = {.org_id = fx.org_a, .stage = "assessing", .limit = 5};
    assert_int_equal(list(&fx, &a, g, &cs, &more), 5);
    assert_true(more);
    g.before_opened_at = cs[4].opened_at;
    g.before_id = cs[4].id;
    assert_int_equal(list(&fx, &a, g, &cs, &more), 5);
    assert_false(more);
    assert_int_equal(cs[4].id, fx.ids[0]);
    arena_free(&a);
    store_close(fx.s);
}

static void test_list_orders_by_opening_time(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    store *s = contract_store(1);
    int64_t svc;
    int64_t org = make_org(s, "east", "permit", &svc);
    unsigned char h[32];
    fill_hash(h, 3);
    /* Imported history arrives after newer cases: the list still shows the
     * most recently opened first, and a cursor in the middle of equal
     * opening times loses nothing. */
    const int64_t opened[] = {5000, 9000, 1000, 9000, 3000};
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        char ref[24];
        snprintf(ref, sizeof(ref), "ORDR-%04d-A", i);
        store_case_new in = case_input(org, svc, ref, h, opened[i]);
        ids[i] = create_case(s, &a, &in).id;
    }
    const int64_t want[] = {ids[3], ids[1], ids[0], ids[4], ids[2]};
    store_case_filter f = {.org_id = org, .limit = 2};
    store_case *cs;
    size_t n, seen = 0;
    bool more;
    do {
        assert_int_equal(store_case_list(s, &a, &f, &cs, &n, &more), STORE_OK);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(cs[i].id, want[seen++]);
        f.before_opened_at = cs[n - 1].opened_at;
        f.before_id = cs[n - 1].id;
    } while (more);
    assert_int_equal(seen, 5);
    arena_free(&a);
    store_close(s);
}

static void test_durations(void **state)
{
    (void)state;
    store *s = contract_store(2);
    arena a;
    arena_init(&a);
    int64_t svc, other;
    int64_t org = make_org(s, "north", "permit", &svc);
    make_org(s, "south", "permit", &other);
    unsigned char h[32];
    fill_hash(h, 10);
    /* Case i opens at 1000 i; case 2 closes last, case 3 first. */
    const int64_t closes[] = {9000, 8000, 99000, 7000};
    for (int i = 0; i < 4; i++) {
        char ref[24];
        snprintf(ref, sizeof(ref), "DURA-%04d-A", i);
        store_case_new in = case_input(org, svc, ref, h, 1000 * i);
        store_case c = create_case(s, &a, &in);
        store_event ev = event("stage_change", "received", "done", true, closes[i]);
        assert_int_equal(store_event_append(s, c.id, &ev, true), STORE_OK);
    }
    store_case_new open = case_input(org, svc, "DURA-OPEN-A", h, 50);
    create_case(s, &a, &open);

    int64_t *d = NULL;
    size_t n = 0;
    assert_int_equal(store_service_durations(s, &a, svc, 10, &d, &n), STORE_OK);
    assert_int_equal(n, 4);
    assert_int_equal(d[0], 99000 - 2000);
    assert_int_equal(d[1], 9000 - 0);
    assert_int_equal(d[2], 8000 - 1000);
    assert_int_equal(d[3], 7000 - 3000);
    assert_int_equal(store_service_durations(s, &a, svc, 2, &d, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(d[1], 9000);
    assert_int_equal(store_service_durations(s, &a, other, 10, &d, &n), STORE_OK);
    assert_int_equal(n, 0);
    arena_free(&a);
    store_close(s);
}

/* ---- import ---- */

static void test_import(void **state)
{
    (void)state;
    store *s = contract_store(2);
    arena a;
    arena_init(&a);
    int64_t svc;
    int64_t org = make_org(s, "north", "permit", &svc);
    enum { N = 200, E = 5 };
    static store_case_new cases[N];
    static store_event evs[N][E];
    static const store_event *ev_ptrs[N];
    static size_t n_events[N];
    static int64_t closed_at[N];
    static char refs[N][24];
    unsigned char h[32];
    fill_hash(h, 11);
    for (int i = 0; i < N; i++) {
        snprintf(refs[i], sizeof(refs[i]), "IMPO-%04d-A", i);
        bool closed = i % 4 == 0;
        cases[i] = case_input(org, svc, refs[i], h, 10000 + i);
        cases[i].stage = closed ? "done" : "assessing";
        if (i % 2)
            cases[i].person = (store_person){.name = "Imported Person", .postcode = "ZZ1 1ZZ"};
        evs[i][0] = event("opened", NULL, "received", true, 10000 + i);
        evs[i][1] = event("internal_note", NULL, "received", false, 10100 + i);
        evs[i][2] = event("stage_change", "received", "assessing", true, 10200 + i);
        evs[i][3] = event("public_note", NULL, "assessing", true, 10300 + i);
        evs[i][4] = closed ? event("stage_change", "assessing", "done", true, 20000 + i)
                           : event("message", NULL, "assessing", true, 10400 + i);
        ev_ptrs[i] = evs[i];
        n_events[i] = E;
        closed_at[i] = closed ? 20000 + i : 0;
    }
    assert_int_equal(store_case_import(s, cases, ev_ptrs, n_events, closed_at, N), STORE_OK);

    store_case c;
    assert_int_equal(store_case_get(s, &a, org, "IMPO-0004-A", &c), STORE_OK);
    assert_string_equal(c.stage, "done");
    assert_int_equal(c.opened_at, 10004);
    assert_int_equal(c.closed_at, 20004);
    assert_int_equal(c.updated_at, 20004);
    assert_null(c.person.name);
    assert_int_equal(store_case_get(s, &a, org, "IMPO-0005-A", &c), STORE_OK);
    assert_int_equal(c.closed_at, 0);
    assert_int_equal(c.updated_at, 10405);
    assert_string_equal(c.person.name, "Imported Person");
    store_event *got = NULL;
    size_t n = 0;
    assert_int_equal(store_case_events(s, &a, c.id, false, &got, &n), STORE_OK);
    assert_int_equal(n, E);
    assert_string_equal(got[0].type, "opened");
    assert_string_equal(got[2].from_stage, "received");
    assert_string_equal(got[4].type, "message");
    assert_int_equal(store_case_events(s, &a, c.id, true, &got, &n), STORE_OK);
    assert_int_equal(n, E - 1);

    int64_t *d = NULL;
    assert_int_equal(store_service_durations(s, &a, svc, 100, &d, &n), STORE_OK);
    assert_int_equal(n, N / 4);
    assert_int_equal(d[0], 20000 + 196 - (10000 + 196));

    store_case_filter f = {.org_id = org, .limit = 200, .stage = "done"};
    store_case *cs = NULL;
    bool more = true;
    assert_int_equal(store_case_list(s, &a, &f, &cs, &n, &more), STORE_OK);
    assert_int_equal(n, N / 4);
    assert_false(more);

    /* One bad case rolls the whole import back. */
    cases[0].reference = "FRESH-0000";
    cases[1].reference = "FRESH-0000";
    assert_int_equal(store_case_import(s, cases, ev_ptrs, n_events, NULL, 2), STORE_DUPLICATE);
    assert_int_equal(store_case_get(s, &a, 0, "FRESH-0000", &c), STORE_NOT_FOUND);
    arena_free(&a);
    store_close(s);
}

/* ---- concurrency ---- */

enum { THREADS = 8, APPENDS = 25 };

typedef struct race {
    store *s;
    int64_t org_id;
    int64_t service_id;
    int64_t case_id; /* of the case RACE-1111-A, for the stage races */
    pthread_barrier_t start;
    store_rc results[THREADS][APPENDS];
} race;

typedef struct race_arg {
    race *r;
    int index;
} race_arg;

static void *append_notes(void *p)
{
    race_arg *arg = p;
    pthread_barrier_wait(&arg->r->start);
    for (int i = 0; i < APPENDS; i++) {
        store_event ev = event("internal_note", NULL, NULL, false, 1000 + i);
        arg->r->results[arg->index][i] = store_event_append(arg->r->s, arg->r->case_id, &ev, false);
    }
    return NULL;
}

static void *change_stage(void *p)
{
    race_arg *arg = p;
    pthread_barrier_wait(&arg->r->start);
    store_event ev = event("stage_change", "received", "assessing", true, 2000 + arg->index);
    arg->r->results[arg->index][0] = store_event_append(arg->r->s, arg->r->case_id, &ev, false);
    return NULL;
}

static void *move_unread(void *p)
{
    race_arg *arg = p;
    arena a;
    arena_init(&a);
    store_move_from from[] = {{arg->r->service_id, "received"}};
    store_event ev = event("stage_change", NULL, "assessing", false, 3000 + arg->index);
    ev.body = NULL;
    store_case got;
    pthread_barrier_wait(&arg->r->start);
    arg->r->results[arg->index][0] =
        store_case_move(arg->r->s, &a, arg->r->org_id, "RACE-1111-A", from, 1, &ev, &got);
    arena_free(&a);
    return NULL;
}

static void run_race(race *r, void *(*fn)(void *))
{
    pthread_t threads[THREADS];
    race_arg args[THREADS];
    assert_int_equal(pthread_barrier_init(&r->start, NULL, THREADS), 0);
    for (int i = 0; i < THREADS; i++) {
        args[i] = (race_arg){r, i};
        assert_int_equal(pthread_create(&threads[i], NULL, fn, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&r->start);
}

/* A fresh store with `pool` connections, an organisation and one case
 * `reference` for the threads to race on. */
static void race_open(race *r, arena *a, int pool, const char *reference, int seed)
{
    memset(r, 0, sizeof(*r));
    r->s = contract_store(pool);
    r->org_id = make_org(r->s, "north", "permit", &r->service_id);
    unsigned char h[32];
    fill_hash(h, seed);
    store_case_new in = case_input(r->org_id, r->service_id, reference, h, 100);
    r->case_id = create_case(r->s, a, &in).id;
}

static void test_concurrent_appends(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    static race r;
    race_open(&r, &a, 4, "RACE-0000-A", 12);

    run_race(&r, append_notes);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < APPENDS; i++)
            assert_int_equal(r.results[t][i], STORE_OK);
    store_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_case_events(r.s, &a, r.case_id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 1 + THREADS * APPENDS);
    arena_free(&a);
    store_close(r.s);
}

static void test_concurrent_stage_race(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    static race r;
    race_open(&r, &a, 4, "RACE-1111-A", 13);

    /* Moves appended after a read, then moves made unread: one of each wins. */
    static const struct {
        void *(*fn)(void *);
        store_rc lost;
    } rounds[] = {{change_stage, STORE_CONFLICT}, {move_unread, STORE_NOT_FOUND}};
    for (size_t round = 0; round < 2; round++) {
        if (round == 1) {
            store_event back = event("stage_change", "assessing", "received", false, 2500);
            assert_int_equal(store_event_append(r.s, r.case_id, &back, false), STORE_OK);
        }
        run_race(&r, rounds[round].fn);
        int ok = 0, lost = 0;
        for (int t = 0; t < THREADS; t++) {
            if (r.results[t][0] == STORE_OK)
                ok++;
            else if (r.results[t][0] == rounds[round].lost)
                lost++;
        }
        assert_int_equal(ok, 1);
        assert_int_equal(lost, THREADS - 1);
    }
    store_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_case_events(r.s, &a, r.case_id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 4);
    assert_string_equal(evs[1].stage, "assessing");
    assert_string_equal(evs[3].from_stage, "received");
    assert_string_equal(evs[3].stage, "assessing");
    arena_free(&a);
    store_close(r.s);
}

/* Unread moves between three stages, each offered from the other two, race
 * on one case: each event must leave the stage the one before it reached. */
static const char *const CYCLE[] = {"received", "assessing", "done"};

static void *move_around(void *p)
{
    race_arg *arg = p;
    arena a;
    arena_init(&a);
    pthread_barrier_wait(&arg->r->start);
    for (int i = 0; i < APPENDS; i++) {
        int to = (arg->index + i) % 3;
        store_move_from from[] = {{arg->r->service_id, CYCLE[(to + 1) % 3]},
                                  {arg->r->service_id, CYCLE[(to + 2) % 3]}};
        store_event ev = event("stage_change", NULL, CYCLE[to], false, 4000 + i);
        ev.body = NULL;
        store_case got;
        arg->r->results[arg->index][i] =
            store_case_move(arg->r->s, &a, arg->r->org_id, "RACE-2222-A", from, 2, &ev, &got);
    }
    arena_free(&a);
    return NULL;
}

static void test_concurrent_unread_moves(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    static race r;
    race_open(&r, &a, THREADS, "RACE-2222-A", 14);

    run_race(&r, move_around);
    size_t moved = 0;
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < APPENDS; i++) {
            assert_true(r.results[t][i] == STORE_OK || r.results[t][i] == STORE_NOT_FOUND);
            moved += r.results[t][i] == STORE_OK;
        }
    assert_true(moved > 0);
    store_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_case_events(r.s, &a, r.case_id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 1 + moved);
    for (size_t i = 1; i < n; i++) {
        assert_string_equal(evs[i].from_stage, evs[i - 1].stage);
        assert_string_not_equal(evs[i].stage, evs[i].from_stage);
    }
    store_case got;
    assert_int_equal(store_case_get(r.s, &a, r.org_id, "RACE-2222-A", &got), STORE_OK);
    assert_string_equal(got.stage, evs[n - 1].stage);
    arena_free(&a);
    store_close(r.s);
}

/* ---- update duties ---- */

/* Duties open with the event that triggers them; a public update meets those
 * open before it, a delivery those up to its event; the worklist, the
 * re-timing of a case's flags and compliance see the same rows. */
static void test_duties(void **state)
{
    (void)state;
    store *s = contract_store(2);
    arena a;
    arena_init(&a);
    int64_t svc, other_svc;
    int64_t org = make_org(s, "north", "bins", &svc);
    int64_t other = make_org(s, "south", "roads", &other_svc);
    unsigned char hash[32];
    fill_hash(hash, 3);
    const int64_t t0 = 1800000000;

    store_case_new in = case_input(org, svc, "DUT-0001", hash, t0);
    store_duty_new ack = {.duty = "ack", .days = 2, .due_at = t0 + 1000};
    in.duties = &ack;
    in.n_duties = 1;
    in.team = "north-cid";
    store_case c = create_case(s, &a, &in);
    assert_string_equal(c.team, "north-cid");
    assert_false(c.enhanced);

    /* An internal note meets nothing; the move opens two duties. */
    store_event note = event("internal_note", NULL, NULL, false, t0 + 10);
    assert_int_equal(store_event_append(s, c.id, &note, false), STORE_OK);
    store_duty_new opened[2] = {{.duty = "tell", .days = 5, .due_at = t0 + 5000},
                                {.duty = "call", .days = 1, .due_at = t0 + 500}};
    store_event move = event("stage_change", "received", "done", false, t0 + 20);
    assert_int_equal(store_event_append_duties(s, c.id, &move, false, opened, 2), STORE_OK);
    store_duty *d;
    size_t n;
    assert_int_equal(store_case_duties(s, &a, c.id, &d, &n), STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(d[0].duty, "ack");
    assert_int_equal(d[0].met_at, 0);
    assert_string_equal(d[1].duty, "tell");
    assert_int_equal(d[1].event_id, move.id);
    assert_int_equal(d[1].triggered_at, t0 + 20);
    assert_int_equal(d[1].days, 5);
    assert_int_equal(d[1].service_id, svc);
    assert_string_equal(d[1].reference, "DUT-0001");
    assert_string_equal(d[1].team, "north-cid");

    /* The worklist: unmet, soonest first; due or missed at `now`. */
    store_duty_filter f = {.org_id = org, .now = t0 + 800, .limit = 2};
    bool more;
    assert_int_equal(store_duty_worklist(s, &a, &f, &d, &n, &more), STORE_OK);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_string_equal(d[0].duty, "call");
    assert_string_equal(d[1].duty, "ack");
    f.after_due_at = d[1].due_at;
    f.after_id = d[1].id;
    assert_int_equal(store_duty_worklist(s, &a, &f, &d, &n, &more), STORE_OK);
    assert_int_equal(n, 1);
    assert_false(more);
    assert_string_equal(d[0].duty, "tell");
    store_duty_filter missed = {
        .org_id = org, .now = t0 + 800, .which = STORE_DUTIES_MISSED, .limit = 10};
    assert_int_equal(store_duty_worklist(s, &a, &missed, &d, &n, &more), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].duty, "call");
    store_duty_filter due = missed;
    due.which = STORE_DUTIES_DUE;
    due.team = "south-cid";
    assert_int_equal(store_duty_worklist(s, &a, &due, &d, &n, &more), STORE_OK);
    assert_int_equal(n, 0);
    store_duty_filter theirs = {.org_id = other, .now = t0, .limit = 10};
    assert_int_equal(store_duty_worklist(s, &a, &theirs, &d, &n, &more), STORE_OK);
    assert_int_equal(n, 0);

    /* Flagged enhanced: the duty given a new time moves; a met one cannot. */
    assert_int_equal(store_case_duties(s, &a, c.id, &d, &n), STORE_OK);
    store_duty_retime rt = {.id = d[1].id, .days = 1, .due_at = t0 + 300};
    assert_int_equal(store_case_set_flags(s, c.id, true, NULL, &rt, 1, t0 + 30), STORE_OK);
    assert_int_equal(store_case_set_flags(s, 999999, true, NULL, NULL, 0, t0), STORE_NOT_FOUND);
    assert_int_equal(store_case_duties(s, &a, c.id, &d, &n), STORE_OK);
    assert_int_equal(d[1].due_at, t0 + 300);
    assert_int_equal(d[1].days, 1);
    assert_true(d[1].enhanced);
    assert_null(d[1].team);

    /* A delivery of the notice about the opening meets only the duty the
     * opening triggered. */
    assert_int_equal(store_duty_met_by_delivery(s, c.id, d[0].event_id, t0 + 600), STORE_OK);
    assert_int_equal(store_case_duties(s, &a, c.id, &d, &n), STORE_OK);
    assert_int_equal(d[0].met_at, t0 + 600);
    assert_string_equal(d[0].met_by, "delivery");
    assert_int_equal(d[1].met_at, 0);
    assert_null(d[1].met_by);

    /* A public note meets the rest, late or on time; a second one changes
     * nothing. */
    store_event pub = event("public_note", NULL, NULL, true, t0 + 700);
    assert_int_equal(store_event_append(s, c.id, &pub, false), STORE_OK);
    store_event again = event("public_note", NULL, NULL, true, t0 + 900);
    assert_int_equal(store_event_append(s, c.id, &again, false), STORE_OK);
    assert_int_equal(store_case_duties(s, &a, c.id, &d, &n), STORE_OK);
    for (size_t i = 1; i < 3; i++) {
        assert_int_equal(d[i].met_at, t0 + 700);
        assert_string_equal(d[i].met_by, "update");
        assert_int_equal(d[i].met_event_id, pub.id);
    }
    assert_int_equal(d[0].met_at, t0 + 600);

    /* Compliance at t0 + 10000, all three fell due: ack on time (600 <=
     * 1000), tell late re-timed to 300 but met at 700, call late (500). */
    store_duty_count *counts;
    assert_int_equal(
        store_duty_compliance(s, &a, org, NULL, INT64_MIN, INT64_MAX, t0 + 10000, &counts, &n),
        STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(counts[0].service_code, "bins");
    assert_int_equal(counts[0].met, 1);
    assert_int_equal(counts[0].met_late, 2);
    assert_int_equal(counts[0].missed, 0);
    /* Only what fell due before `now`, inside [from, to). */
    assert_int_equal(
        store_duty_compliance(s, &a, org, "bins", t0, t0 + 400, t0 + 10000, &counts, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(counts[0].met_late, 1);
    assert_int_equal(
        store_duty_compliance(s, &a, org, NULL, INT64_MIN, INT64_MAX, t0 + 400, &counts, &n),
        STORE_OK);
    assert_int_equal(counts[0].met + counts[0].met_late + counts[0].missed, 1);
    assert_int_equal(
        store_duty_compliance(s, &a, other, NULL, INT64_MIN, INT64_MAX, t0 + 10000, &counts, &n),
        STORE_OK);
    assert_int_equal(n, 0);

    /* The calendar: none chosen, then one, then replaced. */
    store_calendar cal;
    assert_int_equal(store_org_calendar_get(s, &a, org, &cal), STORE_NOT_FOUND);
    store_calendar set = {.org_id = org, .calendar = "scotland", .updated_at = t0};
    assert_int_equal(store_org_calendar_set(s, &set), STORE_OK);
    set = (store_calendar){
        .org_id = org, .calendar = "custom", .holidays = "2030-01-02 A\n", .updated_at = t0 + 1};
    assert_int_equal(store_org_calendar_set(s, &set), STORE_OK);
    assert_int_equal(store_org_calendar_get(s, &a, org, &cal), STORE_OK);
    assert_string_equal(cal.calendar, "custom");
    assert_string_equal(cal.holidays, "2030-01-02 A\n");
    assert_int_equal(cal.updated_at, t0 + 1);
    assert_int_equal(store_org_calendar_get(s, &a, other, &cal), STORE_NOT_FOUND);

    arena_free(&a);
    store_close(s);
}

#include "store_outbox.h"
#include "store_log_kinds.h"

static void test_outbox(void **state)
{
    (void)state;
    store *s = contract_store(2);
    check_outbox(s);
    check_outbox_duties(s);
    check_outbox_appeal_answer(s);
    store_close(s);
}

static void test_log_kinds(void **state)
{
    (void)state;
    store *s = contract_store(2);
    check_log_kinds(s);
    store_close(s);
}

/* ---- access records ---- */

/* A reader's access to case_id: a user when user > 0, else the key. */
static store_access access_by(int64_t case_id, int64_t org, int64_t user, int64_t key,
                              const char *name, const char *action, int64_t at)
{
    store_access x = {.case_id = case_id,
                      .reader_org_id = org,
                      .user_id = user,
                      .key_id = key,
                      .reader_name = name,
                      .role = "caseworker",
                      .action = action,
                      .purpose = "case work",
                      .at = at};
    return x;
}

/* Two organisations, a user and a key in the first and a user in the
 * second, and a case with a person in the first. */
typedef struct access_fixture {
    store *s;
    arena a;
    char path[128];
    int64_t org_a, org_b, svc, user_a, key_a, user_b;
    store_case c;
} access_fixture;

static void access_fixture_open(access_fixture *fx, const char *reference)
{
    fx->s = contract_store_at(2, fx->path, sizeof(fx->path));
    arena_init(&fx->a);
    fx->org_a = make_org(fx->s, "north", "permit", &fx->svc);
    assert_int_equal(store_org_create(fx->s, "south", "South Police", &fx->org_b), STORE_OK);
    store_user u = {.org_id = fx->org_a,
                    .email = "cw@north.example",
                    .name = "Casey Worker",
                    .role = "caseworker",
                    .password_hash = "$argon2id$v=19$stub"};
    assert_int_equal(store_user_create(fx->s, &u), STORE_OK);
    fx->user_a = u.id;
    store_user other = {.org_id = fx->org_b,
                        .email = "officer@south.example",
                        .name = "Olive Officer",
                        .role = "caseworker",
                        .password_hash = "$argon2id$v=19$stub"};
    assert_int_equal(store_user_create(fx->s, &other), STORE_OK);
    fx->user_b = other.id;
    unsigned char h[32];
    fill_hash(h, 40);
    assert_int_equal(store_key_create(fx->s, fx->org_a, "Case system", "caseworker", h, &fx->key_a),
                     STORE_OK);
    store_case_new in = case_input(fx->org_a, fx->svc, reference, h, 100);
    in.person = (store_person){.name = "Pat Citizen", .postcode = "AB1 2CD"};
    fx->c = create_case(fx->s, &fx->a, &in);
}

static void access_fixture_close(access_fixture *fx)
{
    arena_free(&fx->a);
    store_close(fx->s);
}

static size_t count_accesses(access_fixture *fx, int64_t case_id)
{
    store_access *xs = NULL;
    size_t n = 99;
    assert_int_equal(store_case_accesses(fx->s, &fx->a, case_id, &xs, &n), STORE_OK);
    return n;
}

static void test_access_record_and_read(void **state)
{
    (void)state;
    access_fixture fx;
    access_fixture_open(&fx, "ACCS-0000-A");
    assert_int_equal(count_accesses(&fx, fx.c.id), 0);

    /* One call, three records: a user, a key, and another organisation's
     * officer reading a shared case with a purpose of their own. */
    store_access batch[3] = {
        access_by(fx.c.id, fx.org_a, fx.user_a, 0, "Casey Worker", "read", 200),
        access_by(fx.c.id, fx.org_a, 0, fx.key_a, "Case system", "list", 300),
        access_by(fx.c.id, fx.org_b, fx.user_b, 0, "Olive Officer", "read", 200),
    };
    batch[2].purpose = "Investigating a related burglary";
    batch[2].role = "administrator";
    assert_int_equal(store_access_record(fx.s, batch, 3), STORE_OK);
    for (int i = 0; i < 3; i++)
        assert_true(batch[i].id > 0);
    assert_true(batch[2].id > batch[0].id);

    store_access *xs = NULL;
    size_t n = 0;
    assert_int_equal(store_case_accesses(fx.s, &fx.a, fx.c.id, &xs, &n), STORE_OK);
    assert_int_equal(n, 3);
    /* Newest first: by time, then by id. */
    assert_int_equal(xs[0].id, batch[1].id);
    assert_int_equal(xs[1].id, batch[2].id);
    assert_int_equal(xs[2].id, batch[0].id);

    assert_int_equal(xs[0].at, 300);
    assert_int_equal(xs[0].key_id, fx.key_a);
    assert_int_equal(xs[0].user_id, 0);
    assert_string_equal(xs[0].reader_name, "Case system");
    assert_string_equal(xs[0].action, "list");
    assert_string_equal(xs[0].reader_org_name, "An organisation");

    assert_int_equal(xs[1].case_id, fx.c.id);
    assert_int_equal(xs[1].case_org_id, fx.org_a);
    assert_int_equal(xs[1].reader_org_id, fx.org_b);
    assert_string_equal(xs[1].reader_org_name, "South Police");
    assert_int_equal(xs[1].user_id, fx.user_b);
    assert_int_equal(xs[1].key_id, 0);
    assert_string_equal(xs[1].reader_name, "Olive Officer");
    assert_string_equal(xs[1].role, "administrator");
    assert_string_equal(xs[1].action, "read");
    assert_string_equal(xs[1].purpose, "Investigating a related burglary");

    assert_int_equal(xs[2].case_org_id, fx.org_a);
    assert_int_equal(xs[2].user_id, fx.user_a);
    assert_string_equal(xs[2].purpose, "case work");

    /* Nothing to record is no write at all. */
    assert_int_equal(store_access_record(fx.s, NULL, 0), STORE_OK);
    /* Another case has none. */
    assert_int_equal(count_accesses(&fx, fx.c.id + 1000), 0);
    access_fixture_close(&fx);
}

/* A call records all its accesses or none of them. */
static void test_access_all_or_none(void **state)
{
    (void)state;
    access_fixture fx;
    access_fixture_open(&fx, "ACCS-1111-A");

    store_access missing[2] = {
        access_by(fx.c.id, fx.org_a, fx.user_a, 0, "Casey Worker", "list", 200),
        access_by(fx.c.id + 1000, fx.org_a, fx.user_a, 0, "Casey Worker", "list", 200),
    };
    assert_int_equal(store_access_record(fx.s, missing, 2), STORE_NOT_FOUND);
    assert_int_equal(missing[0].id, 0);
    assert_int_equal(missing[1].id, 0);
    assert_int_equal(count_accesses(&fx, fx.c.id), 0);

    /* What the schema refuses (no purpose, both a user and a key, an unknown
     * action) is a failure to record: the caller must withhold the data. */
    store_access bad[3] = {
        access_by(fx.c.id, fx.org_a, fx.user_a, 0, "Casey Worker", "read", 200),
        access_by(fx.c.id, fx.org_a, fx.user_a, fx.key_a, "Casey Worker", "read", 200),
        access_by(fx.c.id, fx.org_a, fx.user_a, 0, "Casey Worker", "peek", 200),
    };
    bad[0].purpose = "";
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_access_record(fx.s, &bad[i], 1), STORE_UNAVAILABLE);
        assert_int_equal(bad[i].id, 0);
    }
    assert_int_equal(count_accesses(&fx, fx.c.id), 0);

    /* The database refusing the rows, as a trigger does here, is the same. */
    contract_refuse_accesses(fx.path, true);
    store_access ok = access_by(fx.c.id, fx.org_a, fx.user_a, 0, "Casey Worker", "read", 200);
    assert_int_equal(store_access_record(fx.s, &ok, 1), STORE_UNAVAILABLE);
    assert_int_equal(count_accesses(&fx, fx.c.id), 0);
    contract_refuse_accesses(fx.path, false);
    assert_int_equal(store_access_record(fx.s, &ok, 1), STORE_OK);
    assert_int_equal(count_accesses(&fx, fx.c.id), 1);
    access_fixture_close(&fx);
}

/* A write's response that shows the person is recorded in the write's own
 * transaction: both happen or neither does. */
static void test_access_with_writes(void **state)
{
    (void)state;
    access_fixture fx;
    access_fixture_open(&fx, "ACCS-2222-A");
    unsigned char h[32];
    fill_hash(h, 41);
    store_access seen = access_by(0, fx.org_a, fx.user_a, 0, "Casey Worker", "write", 500);

    /* A new case with a person, then the same key again: each shows it. */
    store_case_new in = case_input(fx.org_a, fx.svc, "ACCS-3333-A", h, 500);
    in.person = (store_person){.name = "Sam Citizen"};
    in.idempotency_key = "with-person";
    in.access = &seen;
    store_case made = create_case(fx.s, &fx.a, &in);
    assert_int_equal(count_accesses(&fx, made.id), 1);
    store_case again;
    bool existed = false;
    store_case_new replay = in;
    replay.reference = "ACCS-4444-A";
    replay.person = (store_person){0};
    assert_int_equal(store_case_create(fx.s, &fx.a, &replay, &again, &existed), STORE_OK);
    assert_true(existed);
    assert_int_equal(again.id, made.id);
    assert_int_equal(count_accesses(&fx, made.id), 2);
    store_access *xs = NULL;
    size_t n = 0;
    assert_int_equal(store_case_accesses(fx.s, &fx.a, made.id, &xs, &n), STORE_OK);
    assert_string_equal(xs[0].action, "write");
    assert_int_equal(xs[0].case_org_id, fx.org_a);

    /* A case without a person shows nobody, so nothing is recorded. */
    store_case_new nobody = case_input(fx.org_a, fx.svc, "ACCS-5555-A", h, 500);
    nobody.access = &seen;
    store_case empty = create_case(fx.s, &fx.a, &nobody);
    assert_int_equal(count_accesses(&fx, empty.id), 0);

    /* An event shows no one: it records no access. */
    store_event note = event("internal_note", NULL, NULL, false, 600);
    assert_int_equal(store_event_append(fx.s, fx.c.id, &note, false), STORE_OK);
    assert_true(note.id > 0);
    assert_int_equal(count_accesses(&fx, fx.c.id), 0);

    /* An access the database refuses undoes the write it came with. */
    contract_refuse_accesses(fx.path, true);
    store_case got;
    store_case_new refused = case_input(fx.org_a, fx.svc, "ACCS-6666-A", h, 900);
    refused.person = (store_person){.name = "Kim Citizen"};
    refused.access = &seen;
    assert_int_equal(store_case_create(fx.s, &fx.a, &refused, &got, &existed), STORE_UNAVAILABLE);
    assert_int_equal(got.id, 0);
    assert_int_equal(store_case_get(fx.s, &fx.a, 0, "ACCS-6666-A", &got), STORE_NOT_FOUND);
    /* Writes that show no one go on. */
    store_event plain = event("internal_note", NULL, NULL, false, 900);
    assert_int_equal(store_event_append(fx.s, fx.c.id, &plain, false), STORE_OK);

    contract_refuse_accesses(fx.path, false);
    assert_int_equal(store_case_create(fx.s, &fx.a, &refused, &got, &existed), STORE_OK);
    assert_int_equal(count_accesses(&fx, got.id), 1);
    assert_int_equal(count_accesses(&fx, fx.c.id), 0);
    access_fixture_close(&fx);
}

#endif
