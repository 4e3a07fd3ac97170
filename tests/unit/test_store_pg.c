/* test_store_pg.c - the PostgreSQL store against a real server.
 *
 * OPENCASE_TEST_PG names a database given over to these tests
 * (postgresql://user@host:port/name); each test drops the store's tables and
 * opens the store afresh, so the tests are independent. Without the variable
 * the tests are skipped, so a machine without PostgreSQL stays green.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store/store.h"
#include "tlog/merkle.h"
#include "util/arena.h"

/* Room for the sums of every table a copy covers (store_table_count()). */
#define TABLES_MAX 64

static const char *pg_uri;

/* Runs SQL on a connection of the test's own; returns the first column of
 * the first row as a number (0 when there is none). */
static long long pg_exec(const char *sql)
{
    PGconn *pg = PQconnectdb(pg_uri);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fprintf(stderr, "# %s: %s", sql, PQerrorMessage(pg));
    assert_true(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
    long long v = 0;
    if (st == PGRES_TUPLES_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(pg);
    return v;
}

/* Drops everything the store made, so that the next open starts empty. */
static void reset_database(void)
{
    pg_exec("SET client_min_messages = warning;"
            " DROP TABLE IF EXISTS appeal_answer_reads, appeal_answers, appeals, notify_attempts, "
            "notifications, webhooks, notify_templates, "
            "notify_prefs, duty_instances, org_calendars, open311_requests, log_entries, "
            "log_state, log_checkpoints, log_queue, "
            "accesses, events,"
            " cases, persons, api_keys, sessions, users, services, orgs, settings,"
            " schema_migrations CASCADE;"
            " DROP FUNCTION IF EXISTS refuse_access()");
}

static store *open_store(int pool)
{
    reset_database();
    store *s = NULL;
    char err[256];
    store_rc rc = store_open(pg_uri, pool, &s, err, sizeof(err));
    if (rc != STORE_OK)
        fprintf(stderr, "# %s\n", err);
    assert_int_equal(rc, STORE_OK);
    assert_non_null(s);
    return s;
}

/* Makes the server refuse (or accept again) every access record, as a
 * database that cannot take the row would. */
static void refuse_accesses(bool on)
{
    if (on)
        pg_exec("CREATE FUNCTION refuse_access() RETURNS trigger LANGUAGE plpgsql"
                " AS $$BEGIN RAISE EXCEPTION 'refused'; END$$;"
                " CREATE TRIGGER refuse BEFORE INSERT ON accesses"
                " FOR EACH ROW EXECUTE FUNCTION refuse_access()");
    else
        pg_exec("DROP TRIGGER refuse ON accesses; DROP FUNCTION refuse_access()");
}

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

/* ---- opening ---- */

/* ---- opening ---- */

static void test_open_migrates_once(void **state)
{
    (void)state;
    store *s = open_store(2);
    assert_int_equal(store_schema_latest(), 9);
    assert_int_equal(store_schema_version(s), store_schema_latest());
    store_close(s);

    char err[256];
    assert_int_equal(store_open(pg_uri, 3, &s, err, sizeof(err)), STORE_OK);
    assert_int_equal(store_schema_version(s), store_schema_latest());
    store_close(s);
    assert_int_equal(pg_exec("SELECT count(*) FROM schema_migrations"), store_schema_latest());
    assert_int_equal(pg_exec("SELECT count(*) FROM information_schema.tables"
                             " WHERE table_name = 'accesses'"),
                     1);
}

enum { OPENERS = 4 };

typedef struct opener {
    pthread_barrier_t *start;
    store *s;
    store_rc rc;
} opener;

static void *open_together(void *p)
{
    opener *o = p;
    char err[256];
    pthread_barrier_wait(o->start);
    o->rc = store_open(pg_uri, 1, &o->s, err, sizeof(err));
    return NULL;
}

/* Instances starting at the same moment on an empty database take turns
 * migrating: every one opens, and each migration is applied once. */
static void test_open_together(void **state)
{
    (void)state;
    reset_database();
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, OPENERS), 0);
    pthread_t threads[OPENERS];
    opener o[OPENERS];
    for (int i = 0; i < OPENERS; i++) {
        o[i] = (opener){.start = &start};
        assert_int_equal(pthread_create(&threads[i], NULL, open_together, &o[i]), 0);
    }
    for (int i = 0; i < OPENERS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < OPENERS; i++) {
        assert_int_equal(o[i].rc, STORE_OK);
        assert_int_equal(store_schema_version(o[i].s), store_schema_latest());
        store_close(o[i].s);
    }
    assert_int_equal(pg_exec("SELECT count(*) FROM schema_migrations"), store_schema_latest());
}

static void test_open_refuses(void **state)
{
    (void)state;
    store *s = (store *)&s;
    char err[256];
    /* Nothing listens on port 1. */
    assert_int_equal(store_open("postgresql://opencase@127.0.0.1:1/none", 2, &s, err, sizeof(err)),
                     STORE_UNAVAILABLE);
    assert_null(s);
    assert_true(strlen(err) > 0);
    assert_int_equal(store_open(pg_uri, 0, &s, err, sizeof(err)), STORE_ERROR);
    assert_null(s);

    /* A database newer than this build is left alone. */
    s = open_store(1);
    store_close(s);
    pg_exec("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");
    assert_int_equal(store_open(pg_uri, 1, &s, err, sizeof(err)), STORE_ERROR);
    assert_null(s);
    assert_non_null(strstr(err, "newer"));
}

static void test_secret_key(void **state)
{
    (void)state;
    char err[256];
    store *s = open_store(2);
    unsigned char k1[32], k2[32], k3[32], zero[32] = {0};
    assert_int_equal(store_secret_key(s, k1), STORE_OK);
    assert_memory_not_equal(k1, zero, 32);
    assert_int_equal(store_secret_key(s, k2), STORE_OK);
    assert_memory_equal(k1, k2, 32);

    /* Another instance sharing the database gets the same key. */
    store *other = NULL;
    assert_int_equal(store_open(pg_uri, 1, &other, err, sizeof(err)), STORE_OK);
    assert_int_equal(store_secret_key(other, k3), STORE_OK);
    assert_memory_equal(k1, k3, 32);
    store_close(other);
    store_close(s);

    store *s2 = open_store(1);
    assert_int_equal(store_secret_key(s2, k3), STORE_OK);
    assert_memory_not_equal(k1, k3, 32);
    store_close(s2);
}

/* A connection the server drops answers STORE_UNAVAILABLE once, and the next
 * call reconnects by itself. */
static void test_reconnects(void **state)
{
    (void)state;
    store *s = open_store(1);
    arena a;
    arena_init(&a);
    int64_t id = 0;
    assert_int_equal(store_org_create(s, "first", "First", &id), STORE_OK);
    assert_int_equal(pg_exec("SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                             " WHERE datname = current_database() AND pid <> pg_backend_pid()"),
                     1);
    store_org o;
    assert_int_equal(store_org_by_slug(s, &a, "first", &o), STORE_UNAVAILABLE);
    assert_null(o.slug);
    assert_int_equal(store_org_by_slug(s, &a, "first", &o), STORE_OK);
    assert_int_equal(o.id, id);

    /* The same for a write in a transaction, and nothing of it is kept. */
    assert_int_equal(pg_exec("SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                             " WHERE datname = current_database() AND pid <> pg_backend_pid()"),
                     1);
    unsigned char h[32] = {1};
    assert_int_equal(store_session_create(s, h, 1, 4000000000), STORE_UNAVAILABLE);
    assert_int_equal(store_org_create(s, "second", "Second", &id), STORE_OK);
    assert_int_equal(pg_exec("SELECT count(*) FROM sessions"), 0);

    /* And for the public look-up's pipeline of statements. */
    assert_int_equal(pg_exec("SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                             " WHERE datname = current_database() AND pid <> pg_backend_pid()"),
                     1);
    store_tracking t;
    assert_int_equal(store_case_tracking(s, &a, "NONE-0000-A", &t), STORE_UNAVAILABLE);
    assert_int_equal(store_case_tracking(s, &a, "NONE-0000-A", &t), STORE_NOT_FOUND);
    assert_int_equal(store_org_by_slug(s, &a, "second", &o), STORE_OK);
    arena_free(&a);
    store_close(s);
}

/* Text that COPY and LIKE treat specially goes in and comes out unchanged. */
static void test_awkward_text(void **state)
{
    (void)state;
    store *s = open_store(1);
    arena a;
    arena_init(&a);
    int64_t svc;
    int64_t org = make_org(s, "north", "permit", &svc);
    unsigned char h[32];
    fill_hash(h, 50);
    const char *summary = "tab\there\nnew line \\N back\\slash \r 'quote\" caf\xc3\xa9";
    store_case_new in = case_input(org, svc, "AWKW-0000-A", h, 100);
    in.summary = summary;
    store_case made = create_case(s, &a, &in);
    assert_string_equal(made.summary, summary);

    store_event ev = event("opened", NULL, "received", true, 100);
    ev.body = summary;
    const store_event *evp = &ev;
    size_t one = 1;
    store_case_new imp = case_input(org, svc, "AWKW-1111-A", h, 200);
    imp.summary = summary;
    imp.person = (store_person){.name = summary, .email = NULL, .phone = "\\"};
    assert_int_equal(store_case_import(s, &imp, &evp, &one, NULL, 1), STORE_OK);
    store_case got;
    assert_int_equal(store_case_get(s, &a, org, "AWKW-1111-A", &got), STORE_OK);
    assert_string_equal(got.summary, summary);
    assert_string_equal(got.person.name, summary);
    assert_string_equal(got.person.phone, "\\");
    assert_null(got.person.email);
    assert_memory_equal(got.secret_hash, h, 32);
    store_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_case_events(s, &a, got.id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(evs[0].body, summary);

    store_case_filter f = {.org_id = org, .text = "BACK\\SLASH", .limit = 10};
    store_case *cs = NULL;
    bool more = true;
    assert_int_equal(store_case_list(s, &a, &f, &cs, &n, &more), STORE_OK);
    assert_int_equal(n, 2);
    arena_free(&a);
    store_close(s);
}

static void test_orgs(void **state)
{
    (void)state;
    store *s = open_store(2);
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
    store *s = open_store(2);
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
    store *s = open_store(2);
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
    arena_free(&a);
    store_close(s);
}

/* ---- cases ---- */

static void test_case_create_and_idempotency(void **state)
{
    (void)state;
    store *s = open_store(2);
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
    store *s = open_store(2);
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
    store *s = open_store(2);
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

static void test_closing_and_feedback(void **state)
{
    (void)state;
    store *s = open_store(2);
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
    store *s = open_store(1);
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
    fx->s = open_store(2);
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
    store *s = open_store(1);
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
    store *s = open_store(2);
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
    store *s = open_store(2);
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
    int64_t org_a, org_b, svc, user_a, key_a, user_b;
    store_case c;
} access_fixture;

static void access_fixture_open(access_fixture *fx, const char *reference)
{
    fx->s = open_store(2);
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
    refuse_accesses(true);
    store_access ok = access_by(fx.c.id, fx.org_a, fx.user_a, 0, "Casey Worker", "read", 200);
    assert_int_equal(store_access_record(fx.s, &ok, 1), STORE_UNAVAILABLE);
    assert_int_equal(count_accesses(&fx, fx.c.id), 0);
    refuse_accesses(false);
    assert_int_equal(store_access_record(fx.s, &ok, 1), STORE_OK);
    assert_int_equal(count_accesses(&fx, fx.c.id), 1);
    access_fixture_close(&fx);
}

/* The public look-up's one call: the case, its public events oldest first
 * and its accesses newest first, as the three calls it stands for give them. */
static void test_case_tracking(void **state)
{
    (void)state;
    access_fixture fx;
    access_fixture_open(&fx, "TRAK-0000-A");
    store_event note = event("public_note", NULL, NULL, true, 200);
    store_event internal = event("internal_note", NULL, NULL, false, 300);
    store_event move = event("stage_change", "received", "done", true, 400);
    assert_int_equal(store_event_append(fx.s, fx.c.id, &note, false), STORE_OK);
    assert_int_equal(store_event_append(fx.s, fx.c.id, &internal, false), STORE_OK);
    assert_int_equal(store_event_append(fx.s, fx.c.id, &move, true), STORE_OK);
    store_access seen[2] = {
        access_by(fx.c.id, fx.org_a, fx.user_a, 0, "Casey Worker", "read", 500),
        access_by(fx.c.id, fx.org_b, fx.user_b, 0, "Olive Officer", "read", 600),
    };
    assert_int_equal(store_access_record(fx.s, seen, 2), STORE_OK);

    store_tracking t;
    assert_int_equal(store_case_tracking(fx.s, &fx.a, "TRAK-0000-A", &t), STORE_OK);
    assert_int_equal(t.c.id, fx.c.id);
    assert_string_equal(t.c.stage, "done");
    assert_int_equal(t.c.closed_at, 400);
    assert_string_equal(t.c.person.postcode, "AB1 2CD");
    assert_memory_equal(t.c.secret_hash, fx.c.secret_hash, 32);
    assert_int_equal(t.n_events, 3);
    assert_string_equal(t.events[0].type, "opened");
    assert_string_equal(t.events[1].type, "public_note");
    assert_string_equal(t.events[2].type, "stage_change");
    assert_string_equal(t.events[2].stage, "done");
    assert_int_equal(t.n_accesses, 2);
    assert_int_equal(t.accesses[0].at, 600);
    assert_string_equal(t.accesses[0].reader_org_name, "South Police");
    assert_string_equal(t.accesses[1].reader_name, "Casey Worker");

    assert_int_equal(store_case_tracking(fx.s, &fx.a, "TRAK-9999-Z", &t), STORE_NOT_FOUND);
    assert_int_equal(t.c.id, 0);
    assert_null(t.events);
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

    /* An event with its access; a stage change that loses leaves neither. */
    store_event note = event("internal_note", NULL, NULL, false, 600);
    assert_int_equal(store_event_append_access(fx.s, fx.c.id, &note, false, &seen), STORE_OK);
    assert_true(note.id > 0);
    assert_int_equal(count_accesses(&fx, fx.c.id), 1);
    store_event late = event("stage_change", "assessing", "done", true, 700);
    assert_int_equal(store_event_append_access(fx.s, fx.c.id, &late, true, &seen), STORE_CONFLICT);
    assert_int_equal(count_accesses(&fx, fx.c.id), 1);

    /* An access the database refuses undoes the write it came with. */
    refuse_accesses(true);
    store_event closing = event("stage_change", "received", "done", true, 800);
    assert_int_equal(store_event_append_access(fx.s, fx.c.id, &closing, true, &seen),
                     STORE_UNAVAILABLE);
    assert_int_equal(closing.id, 0);
    store_case got;
    assert_int_equal(store_case_get(fx.s, &fx.a, fx.org_a, fx.c.reference, &got), STORE_OK);
    assert_string_equal(got.stage, "received");
    assert_int_equal(got.closed_at, 0);
    store_event *evs = NULL;
    assert_int_equal(store_case_events(fx.s, &fx.a, fx.c.id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 2);

    store_case_new refused = case_input(fx.org_a, fx.svc, "ACCS-6666-A", h, 900);
    refused.person = (store_person){.name = "Kim Citizen"};
    refused.access = &seen;
    assert_int_equal(store_case_create(fx.s, &fx.a, &refused, &got, &existed), STORE_UNAVAILABLE);
    assert_int_equal(got.id, 0);
    assert_int_equal(store_case_get(fx.s, &fx.a, 0, "ACCS-6666-A", &got), STORE_NOT_FOUND);
    /* Writes that show no one go on. */
    store_event plain = event("internal_note", NULL, NULL, false, 900);
    assert_int_equal(store_event_append(fx.s, fx.c.id, &plain, false), STORE_OK);

    refuse_accesses(false);
    assert_int_equal(store_event_append_access(fx.s, fx.c.id, &closing, true, &seen), STORE_OK);
    assert_int_equal(count_accesses(&fx, fx.c.id), 2);
    access_fixture_close(&fx);
}

/* ---- concurrency ---- */

enum { THREADS = 8, APPENDS = 25 };

typedef struct race {
    store *s;
    int64_t case_id;
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

static void test_concurrent_appends(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    static race r;
    memset(&r, 0, sizeof(r));
    r.s = open_store(4);
    int64_t svc;
    int64_t org = make_org(r.s, "north", "permit", &svc);
    unsigned char h[32];
    fill_hash(h, 12);
    store_case_new in = case_input(org, svc, "RACE-0000-A", h, 100);
    r.case_id = create_case(r.s, &a, &in).id;

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
    memset(&r, 0, sizeof(r));
    r.s = open_store(4);
    int64_t svc;
    int64_t org = make_org(r.s, "north", "permit", &svc);
    unsigned char h[32];
    fill_hash(h, 13);
    store_case_new in = case_input(org, svc, "RACE-1111-A", h, 100);
    r.case_id = create_case(r.s, &a, &in).id;

    run_race(&r, change_stage);
    int ok = 0, conflict = 0;
    for (int t = 0; t < THREADS; t++) {
        if (r.results[t][0] == STORE_OK)
            ok++;
        else if (r.results[t][0] == STORE_CONFLICT)
            conflict++;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(conflict, THREADS - 1);
    store_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_case_events(r.s, &a, r.case_id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(evs[1].stage, "assessing");
    arena_free(&a);
    store_close(r.s);
}

/* ---- idempotency under concurrency ---- */

typedef struct idem_race {
    store *s;
    int64_t org, service;
    const unsigned char *hash;
    pthread_barrier_t start;
    store_rc rc[THREADS];
    bool existed[THREADS];
    int64_t id[THREADS];
} idem_race;

typedef struct idem_arg {
    idem_race *r;
    int index;
} idem_arg;

/* Each thread creates a case of its own reference under the same key. */
static void *create_same_key(void *p)
{
    idem_arg *arg = p;
    idem_race *r = arg->r;
    char ref[24];
    snprintf(ref, sizeof(ref), "IDEM-%04d-A", arg->index);
    store_case_new in = case_input(r->org, r->service, ref, r->hash, 300);
    in.idempotency_key = "same-request";
    in.person = (store_person){.name = "Pat Citizen"};
    arena a;
    arena_init(&a);
    store_case c;
    pthread_barrier_wait(&r->start);
    r->rc[arg->index] = store_case_create(r->s, &a, &in, &c, &r->existed[arg->index]);
    r->id[arg->index] = c.id;
    arena_free(&a);
    return NULL;
}

static void test_concurrent_idempotency(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    static idem_race r;
    memset(&r, 0, sizeof(r));
    r.s = open_store(THREADS);
    r.org = make_org(r.s, "north", "permit", &r.service);
    unsigned char h[32];
    fill_hash(h, 14);
    r.hash = h;
    pthread_t threads[THREADS];
    idem_arg args[THREADS];
    assert_int_equal(pthread_barrier_init(&r.start, NULL, THREADS), 0);
    for (int i = 0; i < THREADS; i++) {
        args[i] = (idem_arg){&r, i};
        assert_int_equal(pthread_create(&threads[i], NULL, create_same_key, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&r.start);

    int fresh = 0;
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(r.rc[i], STORE_OK);
        assert_int_equal(r.id[i], r.id[0]);
        fresh += !r.existed[i];
    }
    assert_int_equal(fresh, 1);
    assert_int_equal(pg_exec("SELECT count(*) FROM cases"), 1);
    assert_int_equal(pg_exec("SELECT count(*) FROM persons"), 1);
    assert_int_equal(pg_exec("SELECT count(*) FROM events"), 1);
    arena_free(&a);
    store_close(r.s);
}

/* ---- copying a deployment ---- */

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
                                      .description = "A hole",
                                      .lat = "-0.5",
                                      .lon = "51.25",
                                      .attributes_json = "{}",
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
static const int64_t DEPLOYMENT_ROWS[] = {1, 2, 2, 1, 1, 1, 3, 5, 9, 2, 11, 1, 0,
                                          0, 1, 1, 2, 1, 1, 1, 2, 1, 0, 0,  0};

/* A deployment in a fresh SQLite file under dir (made here); its path. */
static store *sqlite_deployment(char *dir, size_t dirlen, char *path, size_t len, deployment *d)
{
    snprintf(dir, dirlen, "/tmp/opencase-copy-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, len, "%s/source.db", dir);
    store *s = NULL;
    char err[256];
    assert_int_equal(store_open(path, 2, &s, err, sizeof(err)), STORE_OK);
    fill_deployment(s, d);
    return s;
}

static void remove_deployment(const char *dir, const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char file[256];
        snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
        unlink(file);
    }
    rmdir(dir);
}

/* SQLite to PostgreSQL: the same rows, the same sums on both sides, ids and
 * hashes kept, sequences past the copied ids. */
static void test_copy_from_sqlite(void **state)
{
    (void)state;
    deployment d;
    char dir[64], path[128], err[256];
    store *w = sqlite_deployment(dir, sizeof(dir), path, sizeof(path), &d);
    store *src = NULL;
    assert_int_equal(store_open_readonly(path, &src, err, sizeof(err)), STORE_OK);
    store *dst = open_store(2);
    /* What `opencase init` leaves: the target's own secret key, replaced. */
    unsigned char k[32];
    assert_int_equal(store_secret_key(dst, k), STORE_OK);
    size_t n = store_table_count();
    store_table_sum *sums = calloc(n, sizeof(*sums));
    assert_non_null(sums);
    store_rc rc = store_copy(src, dst, sums, err, sizeof(err));
    if (rc != STORE_OK)
        fprintf(stderr, "# %s\n", err);
    assert_int_equal(rc, STORE_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sums[i].rows, DEPLOYMENT_ROWS[i]);
    check_sums(src, dst, sums);
    store_close(dst);
    /* Reopened, so that the secret key is read from the database. */
    dst = NULL;
    assert_int_equal(store_open(pg_uri, 2, &dst, err, sizeof(err)), STORE_OK);
    check_copy(w, dst, &d);
    free(sums);
    store_close(dst);
    store_close(src);
    store_close(w);
    remove_deployment(dir, path);
}

/* A target with rows is refused and left as it was, and the copy is all or
 * nothing: a row the target refuses leaves no table written. */
static void test_copy_refused(void **state)
{
    (void)state;
    deployment d;
    char dir[64], path[128], err[256];
    store *src = sqlite_deployment(dir, sizeof(dir), path, sizeof(path), &d);
    store *dst = open_store(1);
    int64_t id;
    assert_int_equal(store_org_create(dst, "west", "West", &id), STORE_OK);
    store_table_sum sums[TABLES_MAX];
    assert_int_equal(store_copy(src, dst, sums, err, sizeof(err)), STORE_CONFLICT);
    assert_non_null(strstr(err, "not empty"));
    assert_non_null(strstr(err, "orgs"));
    assert_int_equal(pg_exec("SELECT count(*) FROM orgs"), 1);
    /* Only the secret key that opening made. */
    assert_int_equal(pg_exec("SELECT count(*) FROM settings"), 1);
    store_close(dst);

    dst = open_store(1);
    pg_exec("ALTER TABLE events ADD CONSTRAINT no_feedback CHECK (type <> 'feedback')");
    assert_int_not_equal(store_copy(src, dst, sums, err, sizeof(err)), STORE_OK);
    assert_non_null(strstr(err, "events"));
    assert_int_equal(pg_exec("SELECT count(*) FROM orgs"), 0);
    assert_int_equal(pg_exec("SELECT count(*) FROM cases"), 0);
    assert_int_equal(pg_exec("SELECT count(*) FROM settings"), 1);
    store_close(dst);

    /* A table the copy does not know stops it before it starts. */
    dst = open_store(1);
    pg_exec("CREATE TABLE notes (id bigint PRIMARY KEY)");
    assert_int_equal(store_copy(src, dst, sums, err, sizeof(err)), STORE_ERROR);
    assert_non_null(strstr(err, "notes"));
    pg_exec("DROP TABLE notes");
    store_close(dst);
    store_close(src);
    remove_deployment(dir, path);
}

/* PostgreSQL opened to read: not migrated, and refuses writes. */
static void test_open_readonly(void **state)
{
    (void)state;
    char err[256];
    store *s = NULL;
    reset_database();
    assert_int_not_equal(store_open_readonly(pg_uri, &s, err, sizeof(err)), STORE_OK);
    assert_null(s);
    assert_int_equal(pg_exec("SELECT count(*) FROM information_schema.tables"
                             " WHERE table_schema = current_schema()"),
                     0);
    store *w = open_store(1);
    assert_int_equal(store_open_readonly(pg_uri, &s, err, sizeof(err)), STORE_OK);
    int64_t id = 0;
    assert_int_not_equal(store_org_create(s, "north", "North", &id), STORE_OK);
    assert_int_equal(store_org_create(w, "north", "North", &id), STORE_OK);
    store_table_sum sums[TABLES_MAX];
    assert_int_equal(store_checksum(s, sums, err, sizeof(err)), STORE_OK);
    assert_int_equal(sums[1].rows, 1);
    store_close(s);
    store_close(w);
}

/* ---- update duties ---- */

/* Duties open with the event that triggers them; a public update meets those
 * open before it, a delivery those up to its event; the worklist, the
 * re-timing of a case's flags and compliance see the same rows. */
static void test_duties(void **state)
{
    (void)state;
    store *s = open_store(2);
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
    assert_int_equal(store_event_append_duties(s, c.id, &move, false, NULL, opened, 2), STORE_OK);
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

static void test_outbox(void **state)
{
    (void)state;
    store *s = open_store(2);
    check_outbox(s);
    check_outbox_duties(s);
    check_outbox_appeal_answer(s);
    store_close(s);
}

/* ---- the public log's queue ---- */

/* How many entries wait in the queue. */
static long long queued_count(void)
{
    return pg_exec("SELECT count(*) FROM log_queue");
}

/* Checks that every entry of the log is in the tree the stored hashes make,
 * and that the events' and accesses' indexes name distinct entries. */
static void check_log(store *s, uint64_t size)
{
    arena a;
    arena_init(&a);
    uint64_t got = 0;
    assert_int_equal(store_log_size(s, &got), STORE_OK);
    assert_int_equal(got, size);
    store_log_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_log_entries(s, &a, 0, 1000, &rows, &n), STORE_OK);
    assert_int_equal(n, size);
    merkle_hash *leaves = calloc(size, sizeof(*leaves));
    assert_non_null(leaves);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rows[i].index, i);
        merkle_leaf_hash(rows[i].entry, rows[i].entry_len, &leaves[i]);
        assert_memory_equal(rows[i].hashes, leaves[i].b, MERKLE_HASH_SIZE);
    }
    merkle_hash want, root;
    merkle_root_of_leaves(leaves, size, &want);
    assert_int_equal(store_log_root(s, size, &root), STORE_OK);
    assert_true(merkle_hash_equal(&want, &root));
    free(leaves);
    assert_int_equal(pg_exec("SELECT count(*) FROM (SELECT log_index FROM events"
                             " UNION ALL SELECT log_index FROM accesses) x"
                             " WHERE log_index IS NOT NULL"),
                     size);
    assert_int_equal(pg_exec("SELECT count(DISTINCT i) FROM (SELECT log_index FROM events"
                             " UNION ALL SELECT log_index FROM accesses) x (i)"),
                     size);
    arena_free(&a);
}

/* Writes queue their entries; nothing has an index until the sequencer runs,
 * which appends them in batches that extend the stored tree, and which waits
 * for (or, not waiting, leaves to) another holder of its lock. */
static void test_log_queue(void **state)
{
    (void)state;
    access_fixture fx;
    access_fixture_open(&fx, "LOGQ-1111-A");
    store_access acc = access_by(fx.c.id, fx.org_b, fx.user_b, 0, "Pat Officer", "read", 200);
    store_event move = event("stage_change", "received", "assessing", true, 210);
    assert_int_equal(store_event_append_access(fx.s, fx.c.id, &move, false, &acc), STORE_OK);
    assert_int_equal(move.log_index, -1);
    uint64_t size = 1;
    assert_int_equal(store_log_size(fx.s, &size), STORE_OK);
    assert_int_equal(size, 0);
    assert_int_equal(queued_count(), 3); /* opened, the move, the access */

    /* Another holder of the lock: a run that does not wait does nothing. */
    PGconn *other = PQconnectdb(pg_uri);
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    PGresult *res = PQexec(other, "BEGIN; SELECT pg_advisory_xact_lock(478409420647)");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    size_t n = 9;
    assert_int_equal(store_log_sequence(fx.s, false, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(queued_count(), 3);
    res = PQexec(other, "COMMIT");
    PQclear(res);
    PQfinish(other);

    assert_int_equal(store_log_sequence_all(fx.s), STORE_OK);
    assert_int_equal(queued_count(), 0);
    check_log(fx.s, 3);
    store_event *evs = NULL;
    assert_int_equal(store_case_events(fx.s, &fx.a, fx.c.id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 2);
    /* The move's access follows it. */
    assert_int_equal(evs[0].log_index, 0);
    assert_int_equal(evs[1].log_index, 1);

    /* A second batch, of an odd size, extends the tree from stored hashes. */
    for (int i = 0; i < 6; i++) {
        store_event note = event("public_note", NULL, NULL, true, 220 + i);
        assert_int_equal(store_event_append(fx.s, fx.c.id, &note, false), STORE_OK);
    }
    store_access more[2] = {
        access_by(fx.c.id, fx.org_a, fx.user_a, 0, "Casey Worker", "list", 230),
        access_by(fx.c.id, fx.org_a, 0, fx.key_a, "Importer", "write", 231),
    };
    assert_int_equal(store_access_record(fx.s, more, 2), STORE_OK);
    assert_int_equal(store_log_sequence(fx.s, true, &n), STORE_OK);
    assert_int_equal(n, 8);
    check_log(fx.s, 11);
    assert_int_equal(store_log_sequence(fx.s, true, &n), STORE_OK);
    assert_int_equal(n, 0);
    access_fixture_close(&fx);
}

int main(void)
{
    pg_uri = getenv("OPENCASE_TEST_PG");
    /* An empty TAP plan with SKIP: what the test runner counts as skipped.
     * (cmocka's skip() reports "not ok ... # SKIP", which it counts as a
     * failure.) */
    if (!pg_uri || !*pg_uri) {
        printf("1..0 # SKIP OPENCASE_TEST_PG is not set: no PostgreSQL server to test against\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_migrates_once),
        cmocka_unit_test(test_open_together),
        cmocka_unit_test(test_open_refuses),
        cmocka_unit_test(test_secret_key),
        cmocka_unit_test(test_reconnects),
        cmocka_unit_test(test_orgs),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_users_sessions_keys),
        cmocka_unit_test(test_case_create_and_idempotency),
        cmocka_unit_test(test_case_get_isolation),
        cmocka_unit_test(test_events_and_stages),
        cmocka_unit_test(test_closing_and_feedback),
        cmocka_unit_test(test_set_secret),
        cmocka_unit_test(test_awkward_text),
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_list_paging),
        cmocka_unit_test(test_list_orders_by_opening_time),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_import),
        cmocka_unit_test(test_access_record_and_read),
        cmocka_unit_test(test_access_all_or_none),
        cmocka_unit_test(test_case_tracking),
        cmocka_unit_test(test_access_with_writes),
        cmocka_unit_test(test_concurrent_appends),
        cmocka_unit_test(test_concurrent_stage_race),
        cmocka_unit_test(test_concurrent_idempotency),
        cmocka_unit_test(test_copy_from_sqlite),
        cmocka_unit_test(test_copy_refused),
        cmocka_unit_test(test_open_readonly),
        cmocka_unit_test(test_duties),
        cmocka_unit_test(test_outbox),
        cmocka_unit_test(test_log_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
