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
            "accesses, events, case_states,"
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

static store *contract_store(int pool)
{
    return open_store(pool);
}

/* The server's database has no path of its own to keep. */
static store *contract_store_at(int pool, char *path, size_t len)
{
    if (len)
        path[0] = '\0';
    return open_store(pool);
}

static void contract_refuse_accesses(const char *path, bool on)
{
    (void)path;
    refuse_accesses(on);
}

#include "store_contract.h"

/* ---- opening ---- */

static void test_open_migrates_once(void **state)
{
    (void)state;
    store *s = open_store(2);
    assert_int_equal(store_schema_latest(), 12);
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

/* Migration 0012 moves each case's stage and last change into case_states:
 * a database made before it is rolled back to that shape here, with a case
 * moved on, and opening it again keeps every case as it was. */
static void test_case_states_migration(void **state)
{
    (void)state;
    store *s = open_store(1);
    arena a;
    arena_init(&a);
    int64_t service = 0;
    int64_t org = make_org(s, "northshire", "permits", &service);
    unsigned char h[32];
    fill_hash(h, 1);
    store_case_new first = case_input(org, service, "CASE-0000-A", h, 1000);
    store_case_new second = case_input(org, service, "CASE-0000-B", h, 2000);
    create_case(s, &a, &first);
    create_case(s, &a, &second);
    store_close(s);

    pg_exec("ALTER TABLE cases ADD COLUMN stage text, ADD COLUMN updated_at bigint;"
            " UPDATE cases c SET stage = cs.stage, updated_at = cs.updated_at"
            " FROM case_states cs WHERE cs.case_id = c.id;"
            " ALTER TABLE cases ALTER COLUMN stage SET NOT NULL,"
            " ALTER COLUMN updated_at SET NOT NULL;"
            " ALTER TABLE events DROP CONSTRAINT events_case_id_fkey;"
            " ALTER TABLE events ADD FOREIGN KEY (case_id) REFERENCES cases (id)"
            " ON DELETE CASCADE;"
            " DROP TABLE case_states; DROP INDEX cases_state_key;"
            " CREATE INDEX cases_org_stage ON cases (org_id, stage, opened_at, id);"
            " DELETE FROM schema_migrations WHERE version = 12;"
            " UPDATE cases SET stage = 'done', updated_at = 3000 WHERE reference = 'CASE-0000-B'");

    char err[256];
    assert_int_equal(store_open(pg_uri, 1, &s, err, sizeof(err)), STORE_OK);
    assert_int_equal(store_schema_version(s), 12);
    store_case c;
    assert_int_equal(store_case_get(s, &a, org, "CASE-0000-A", &c), STORE_OK);
    assert_string_equal(c.stage, "received");
    assert_int_equal(c.updated_at, 1000);
    assert_int_equal(store_case_get(s, &a, org, "CASE-0000-B", &c), STORE_OK);
    assert_string_equal(c.stage, "done");
    assert_int_equal(c.updated_at, 3000);

    store_case_filter f = {.org_id = org, .stage = "done", .limit = 10};
    store_case *list = NULL;
    size_t n = 0;
    bool more = true;
    assert_int_equal(store_case_list(s, &a, &f, &list, &n, &more), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].reference, "CASE-0000-B");

    store_event back = event("stage_change", "done", "received", false, 4000);
    assert_int_equal(store_event_append(s, c.id, &back, false), STORE_OK);
    assert_int_equal(store_case_get(s, &a, org, "CASE-0000-B", &c), STORE_OK);
    assert_string_equal(c.stage, "received");
    assert_int_equal(c.updated_at, 4000);
    assert_int_equal(
        pg_exec("SELECT count(*) FROM cases c JOIN case_states cs"
                " ON (cs.case_id, cs.org_id, cs.opened_at) = (c.id, c.org_id, c.opened_at)"),
        2);
    arena_free(&a);
    store_close(s);
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

#include "store_deployment.h"

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

/* ---- the public log's queue ---- */

/* How many entries wait in the queue. */
static uint64_t queued_count(store *s)
{
    uint64_t n = 99;
    assert_int_equal(store_log_queued(s, &n), STORE_OK);
    assert_int_equal(n, pg_exec("SELECT count(*) FROM log_queue"));
    return n;
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
    assert_int_equal(store_event_append(fx.s, fx.c.id, &move, false), STORE_OK);
    assert_int_equal(move.log_index, -1);
    assert_int_equal(store_access_record(fx.s, &acc, 1), STORE_OK);
    uint64_t size = 1;
    assert_int_equal(store_log_size(fx.s, &size), STORE_OK);
    assert_int_equal(size, 0);
    assert_int_equal(queued_count(fx.s), 3); /* opened, the move, the access */

    /* Another holder of the lock: a run that does not wait does nothing. */
    PGconn *other = PQconnectdb(pg_uri);
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    PGresult *res = PQexec(other, "BEGIN; SELECT pg_advisory_xact_lock(478409420647)");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    size_t n = 9;
    assert_int_equal(store_log_sequence(fx.s, false, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(queued_count(fx.s), 3);
    res = PQexec(other, "COMMIT");
    PQclear(res);
    PQfinish(other);

    assert_int_equal(store_log_sequence_all(fx.s), STORE_OK);
    assert_int_equal(queued_count(fx.s), 0);
    check_log(fx.s, 3);
    store_event *evs = NULL;
    assert_int_equal(store_case_events(fx.s, &fx.a, fx.c.id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 2);
    /* The access, recorded after the move, follows it. */
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
        cmocka_unit_test(test_case_states_migration),
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
        cmocka_unit_test(test_case_move),
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
        cmocka_unit_test(test_concurrent_unread_moves),
        cmocka_unit_test(test_concurrent_idempotency),
        cmocka_unit_test(test_copy_from_sqlite),
        cmocka_unit_test(test_copy_refused),
        cmocka_unit_test(test_open_readonly),
        cmocka_unit_test(test_duties),
        cmocka_unit_test(test_outbox),
        cmocka_unit_test(test_log_kinds),
        cmocka_unit_test(test_log_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
