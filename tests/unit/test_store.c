/* test_store.c - the SQLite store against real database files.
 *
 * Each test opens its own database in a temporary directory that the group
 * removes at the end, so the tests are independent and leave nothing behind.
 */
#include <dirent.h>
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
#include <sqlite3.h>

#include "store/store.h"
#include "util/arena.h"

/* Room for the sums of every table a copy covers (store_table_count()). */
#define TABLES_MAX 64

static char tmpdir[64];
static int db_counter;

/* A fresh database file name in the test directory. */
static void new_path(char *out, size_t len)
{
    snprintf(out, len, "%s/t%d.db", tmpdir, ++db_counter);
}

static store *open_store(int pool, char *path, size_t len)
{
    char local[128];
    if (!path) {
        path = local;
        len = sizeof(local);
    }
    new_path(path, len);
    store *s = NULL;
    char err[256];
    assert_int_equal(store_open(path, pool, &s, err, sizeof(err)), STORE_OK);
    assert_non_null(s);
    return s;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/opencase-store-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    return rmdir(tmpdir);
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

static int count_rows(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_open_migrates_once(void **state)
{
    (void)state;
    char path[128];
    store *s = open_store(2, path, sizeof(path));
    assert_int_equal(store_schema_latest(), 9);
    assert_int_equal(store_schema_version(s), store_schema_latest());
    store_close(s);

    char uri[160], err[256];
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    assert_int_equal(store_open(uri, 3, &s, err, sizeof(err)), STORE_OK);
    assert_int_equal(store_schema_version(s), store_schema_latest());
    store_close(s);

    assert_int_equal(count_rows(path, "SELECT count(*) FROM schema_migrations"),
                     store_schema_latest());
    assert_int_equal(count_rows(path, "SELECT count(*) FROM pragma_journal_mode"
                                      " WHERE journal_mode = 'wal'"),
                     1);
}

static void test_open_refuses(void **state)
{
    (void)state;
    store *s = (store *)&s;
    char err[256];
    /* A PostgreSQL URI goes to that backend; an unreachable server is
     * "unavailable", with a reason, and no store. */
    assert_int_equal(store_open("postgresql://db.invalid/opencase", 2, &s, err, sizeof(err)),
                     STORE_UNAVAILABLE);
    assert_null(s);
    assert_true(strlen(err) > 0);

    assert_int_not_equal(store_open("/nonexistent-dir/x/y.db", 2, &s, err, sizeof(err)), STORE_OK);
    assert_null(s);
    assert_true(strlen(err) > 0);

    char path[128];
    new_path(path, sizeof(path));
    assert_int_equal(store_open(path, 0, &s, err, sizeof(err)), STORE_ERROR);
    assert_null(s);
}

static void test_open_file_uri(void **state)
{
    (void)state;
    char path[128], uri[200], err[256];
    new_path(path, sizeof(path));
    snprintf(uri, sizeof(uri), "file:%s?mode=rwc", path);
    store *s = NULL;
    assert_int_equal(store_open(uri, 1, &s, err, sizeof(err)), STORE_OK);
    int64_t org;
    assert_int_equal(store_org_create(s, "uri", "Via a URI", &org), STORE_OK);
    store_close(s);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM orgs WHERE slug = 'uri'"), 1);
}

static void test_secret_key(void **state)
{
    (void)state;
    char path[128], err[256];
    store *s = open_store(2, path, sizeof(path));
    unsigned char k1[32], k2[32], k3[32], zero[32] = {0};
    assert_int_equal(store_secret_key(s, k1), STORE_OK);
    assert_memory_not_equal(k1, zero, 32);
    assert_int_equal(store_secret_key(s, k2), STORE_OK);
    assert_memory_equal(k1, k2, 32);

    /* Another instance sharing the file gets the same key. */
    store *other = NULL;
    assert_int_equal(store_open(path, 1, &other, err, sizeof(err)), STORE_OK);
    assert_int_equal(store_secret_key(other, k3), STORE_OK);
    assert_memory_equal(k1, k3, 32);
    store_close(other);
    store_close(s);

    store *s2 = open_store(1, NULL, 0);
    assert_int_equal(store_secret_key(s2, k3), STORE_OK);
    assert_memory_not_equal(k1, k3, 32);
    store_close(s2);
}

/* Another process holding the write lock past the busy timeout makes writes
 * answer STORE_UNAVAILABLE, while reads go on (WAL). */
static void test_busy_is_unavailable(void **state)
{
    (void)state;
    char path[128];
    store *s = open_store(2, path, sizeof(path));
    arena a;
    arena_init(&a);
    int64_t id = 0;
    assert_int_equal(store_org_create(s, "first", "First", &id), STORE_OK);

    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other,
                                  "BEGIN IMMEDIATE; INSERT INTO orgs (slug, name)"
                                  " VALUES ('held', 'Held');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_org_create(s, "second", "Second", &id), STORE_UNAVAILABLE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec >= 4);
    store_org o;
    assert_int_equal(store_org_by_slug(s, &a, "first", &o), STORE_OK);
    assert_int_equal(store_org_by_slug(s, &a, "held", &o), STORE_NOT_FOUND);

    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(store_org_create(s, "second", "Second", &id), STORE_OK);
    arena_free(&a);
    store_close(s);
}

/* ---- organisations, services, staff ---- */

static void test_orgs(void **state)
{
    (void)state;
    store *s = open_store(2, NULL, 0);
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
    store *s = open_store(2, NULL, 0);
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
    store *s = open_store(2, NULL, 0);
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
    store *s = open_store(2, NULL, 0);
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
    store *s = open_store(2, NULL, 0);
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
    store *s = open_store(2, NULL, 0);
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
    store *s = open_store(2, NULL, 0);
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
    store *s = open_store(1, NULL, 0);
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
    fx->s = open_store(2, NULL, 0);
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
    store *s = open_store(1, NULL, 0);
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
    store *s = open_store(2, NULL, 0);
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
    store *s = open_store(2, NULL, 0);
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
    char path[128];
    int64_t org_a, org_b, svc, user_a, key_a, user_b;
    store_case c;
} access_fixture;

static void access_fixture_open(access_fixture *fx, const char *reference)
{
    fx->s = open_store(2, fx->path, sizeof(fx->path));
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
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(fx.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER refuse BEFORE INSERT ON accesses"
                                  " BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    store_access ok = access_by(fx.c.id, fx.org_a, fx.user_a, 0, "Casey Worker", "read", 200);
    assert_int_equal(store_access_record(fx.s, &ok, 1), STORE_UNAVAILABLE);
    assert_int_equal(count_accesses(&fx, fx.c.id), 0);
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER refuse", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
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

    /* An event with its access; a stage change that loses leaves neither. */
    store_event note = event("internal_note", NULL, NULL, false, 600);
    assert_int_equal(store_event_append_access(fx.s, fx.c.id, &note, false, &seen), STORE_OK);
    assert_true(note.id > 0);
    assert_int_equal(count_accesses(&fx, fx.c.id), 1);
    store_event late = event("stage_change", "assessing", "done", true, 700);
    assert_int_equal(store_event_append_access(fx.s, fx.c.id, &late, true, &seen), STORE_CONFLICT);
    assert_int_equal(count_accesses(&fx, fx.c.id), 1);

    /* An access the database refuses undoes the write it came with. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(fx.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER refuse BEFORE INSERT ON accesses"
                                  " BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
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

    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER refuse", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
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
    r.s = open_store(4, NULL, 0);
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
    r.s = open_store(4, NULL, 0);
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

/* ---- group commit ---- */

enum { WRITERS = 16, PER_WRITER = 10 };

/* One writing thread: what it is to do and what it got back. The threads
 * only record; the test asserts once they have joined. */
typedef struct writer {
    store *s;
    pthread_barrier_t *start;
    int index;
    int64_t case_id;    /* its own case, when it has one */
    const void *shared; /* the test's common input */
    store_rc rc;
    store_rc rcs[2 * PER_WRITER];
    int64_t ids[2 * PER_WRITER];
    int64_t id;
    bool existed;
    char reference[24];
} writer;

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The commits in the database's WAL: the frames of the current generation
 * (their salts match the header's) that end a transaction (they carry the
 * database's size after the commit). */
static int wal_commits(const char *path)
{
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    FILE *f = fopen(wal, "rb");
    assert_non_null(f);
    unsigned char header[32], frame[24];
    assert_int_equal(fread(header, 1, sizeof(header), f), sizeof(header));
    uint32_t page_size = be32(header + 8);
    int commits = 0;
    while (fread(frame, 1, sizeof(frame), f) == sizeof(frame) &&
           memcmp(frame + 8, header + 16, 8) == 0) {
        if (be32(frame + 4) != 0)
            commits++;
        if (fseek(f, (long)page_size, SEEK_CUR) != 0)
            break;
    }
    fclose(f);
    return commits;
}

static void *blocked_write(void *p)
{
    writer *w = p;
    char slug[32];
    snprintf(slug, sizeof(slug), "blocker-%d", w->index);
    w->rc = store_org_create(w->s, slug, "Holds the first batch", &w->id);
    return NULL;
}

/* Runs fn in n threads, all started together. With a path, the writes are
 * made to meet in one batch: another connection holds the file's write
 * lock, so a first writer leads and waits in BEGIN while the threads queue
 * behind it; releasing the lock commits the first writer's batch, then the
 * queued writes in one more. */
static void run_writers(store *s, const char *path, writer *w, int n, void *(*fn)(void *))
{
    static int blockers;
    pthread_t threads[WRITERS], blocker_thread;
    pthread_barrier_t start;
    writer blocker = {.s = s, .index = ++blockers};
    sqlite3 *lock = NULL;
    assert_true(n <= WRITERS);
    if (path) {
        assert_int_equal(sqlite3_open(path, &lock), SQLITE_OK);
        assert_int_equal(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(pthread_create(&blocker_thread, NULL, blocked_write, &blocker), 0);
        sleep_ms(100);
    }
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)n), 0);
    for (int i = 0; i < n; i++) {
        w[i].s = s;
        w[i].start = &start;
        w[i].index = i;
        assert_int_equal(pthread_create(&threads[i], NULL, fn, &w[i]), 0);
    }
    if (path) {
        sleep_ms(400);
        assert_int_equal(sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    }
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&start);
    if (path) {
        assert_int_equal(pthread_join(blocker_thread, NULL), 0);
        assert_int_equal(blocker.rc, STORE_OK);
        assert_int_equal(sqlite3_close(lock), SQLITE_OK);
    }
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The ids of a case's events other than "opened", ascending. */
static size_t event_ids(store *s, arena *a, int64_t case_id, int64_t *ids, size_t cap)
{
    store_event *evs = NULL;
    size_t n = 0, k = 0;
    assert_int_equal(store_case_events(s, a, case_id, false, &evs, &n), STORE_OK);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(evs[i].type, "opened") == 0)
            continue;
        assert_true(k < cap);
        ids[k++] = evs[i].id;
    }
    return k;
}

/* Alternates notes on the writer's own case and on the shared one. */
static void *append_own_and_shared(void *p)
{
    writer *w = p;
    const int64_t *shared_case = w->shared;
    pthread_barrier_wait(w->start);
    for (int i = 0; i < 2 * PER_WRITER; i++) {
        store_event ev = event("internal_note", NULL, NULL, false, 1000 + i);
        w->rcs[i] = store_event_append(w->s, i % 2 ? *shared_case : w->case_id, &ev, false);
        w->ids[i] = ev.id;
    }
    return NULL;
}

/* Writers sharing commits each get their own result: every append counted
 * once, each id where its caller was told it is. */
static void test_group_commit_appends(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    store *s = open_store(4, NULL, 0);
    int64_t svc;
    int64_t org = make_org(s, "north", "permit", &svc);
    unsigned char h[32];
    fill_hash(h, 14);
    static writer w[WRITERS];
    memset(w, 0, sizeof(w));
    char ref[24];
    for (int i = 0; i < WRITERS; i++) {
        snprintf(ref, sizeof(ref), "OWN%d-0000-A", i);
        store_case_new in = case_input(org, svc, ref, h, 100);
        w[i].case_id = create_case(s, &a, &in).id;
    }
    store_case_new in = case_input(org, svc, "SHAR-0000-A", h, 100);
    int64_t shared_case = create_case(s, &a, &in).id;
    for (int i = 0; i < WRITERS; i++)
        w[i].shared = &shared_case;

    run_writers(s, NULL, w, WRITERS, append_own_and_shared);

    static int64_t told[WRITERS * PER_WRITER], stored[WRITERS * PER_WRITER + 1];
    size_t n_told = 0;
    for (int t = 0; t < WRITERS; t++) {
        int64_t own_told[PER_WRITER], own_stored[PER_WRITER + 1];
        size_t n_own = 0;
        for (int i = 0; i < 2 * PER_WRITER; i++) {
            assert_int_equal(w[t].rcs[i], STORE_OK);
            assert_true(w[t].ids[i] > 0);
            if (i % 2)
                told[n_told++] = w[t].ids[i];
            else
                own_told[n_own++] = w[t].ids[i];
        }
        assert_int_equal(event_ids(s, &a, w[t].case_id, own_stored, PER_WRITER + 1), PER_WRITER);
        assert_memory_equal(own_told, own_stored, sizeof(own_told));
    }
    assert_int_equal(event_ids(s, &a, shared_case, stored, WRITERS * PER_WRITER + 1),
                     WRITERS * PER_WRITER);
    qsort(told, n_told, sizeof(told[0]), cmp_id);
    assert_memory_equal(told, stored, sizeof(told));
    arena_free(&a);
    store_close(s);
}

enum { RACED_CASES = 4, MOVERS = 12 };

/* Writers 0..MOVERS-1 race to move case (index % RACED_CASES) from
 * "received" to a stage of their own; the rest add a note to it. */
static void *move_or_note(void *p)
{
    writer *w = p;
    const int64_t *cases = w->shared;
    char stage[24], actor[24];
    snprintf(stage, sizeof(stage), "stage-%d", w->index);
    snprintf(actor, sizeof(actor), "writer %d", w->index);
    pthread_barrier_wait(w->start);
    store_event ev = w->index < MOVERS ? event("stage_change", "received", stage, true, 200)
                                       : event("internal_note", NULL, NULL, false, 200);
    ev.actor = actor;
    w->rc = store_event_append(w->s, cases[w->index % RACED_CASES], &ev, false);
    w->id = ev.id;
    return NULL;
}

/* Stage changes that lose their race inside a shared batch leave nothing;
 * the winners and the notes around them are committed. */
static void test_group_commit_conflicts(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    char path[128];
    store *s = open_store(4, path, sizeof(path));
    int64_t svc;
    int64_t org = make_org(s, "north", "permit", &svc);
    unsigned char h[32];
    fill_hash(h, 15);
    int64_t cases[RACED_CASES];
    char refs[RACED_CASES][24];
    for (int k = 0; k < RACED_CASES; k++) {
        snprintf(refs[k], sizeof(refs[k]), "MOVE-000%d-A", k);
        store_case_new in = case_input(org, svc, refs[k], h, 100);
        cases[k] = create_case(s, &a, &in).id;
    }
    static writer w[WRITERS];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < WRITERS; i++)
        w[i].shared = cases;

    int commits = wal_commits(path);
    run_writers(s, path, w, WRITERS, move_or_note);
    /* The first writer's batch and one more: the writes shared a commit. */
    assert_in_range(wal_commits(path) - commits, 2, 3);

    for (int k = 0; k < RACED_CASES; k++) {
        int winner = -1;
        for (int t = k; t < WRITERS; t += RACED_CASES) {
            if (t >= MOVERS) {
                assert_int_equal(w[t].rc, STORE_OK);
                assert_true(w[t].id > 0);
            } else if (w[t].rc == STORE_OK) {
                assert_int_equal(winner, -1);
                winner = t;
            } else {
                assert_int_equal(w[t].rc, STORE_CONFLICT);
                assert_int_equal(w[t].id, 0);
            }
        }
        assert_true(winner >= 0);
        char stage[24], actor[24];
        snprintf(stage, sizeof(stage), "stage-%d", winner);
        snprintf(actor, sizeof(actor), "writer %d", winner);
        store_case got;
        assert_int_equal(store_case_get(s, &a, org, refs[k], &got), STORE_OK);
        assert_string_equal(got.stage, stage);

        store_event *evs = NULL;
        size_t n = 0;
        assert_int_equal(store_case_events(s, &a, cases[k], false, &evs, &n), STORE_OK);
        int moves = 0, notes = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(evs[i].type, "stage_change") == 0) {
                moves++;
                assert_int_equal(evs[i].id, w[winner].id);
                assert_string_equal(evs[i].actor, actor);
                assert_string_equal(evs[i].stage, stage);
            } else if (strcmp(evs[i].type, "internal_note") == 0) {
                notes++;
                assert_int_equal(evs[i].id, w[MOVERS + k].id);
            }
        }
        assert_int_equal(moves, 1);
        assert_int_equal(notes, (WRITERS - MOVERS) / RACED_CASES);
        assert_int_equal(n, 1 + moves + notes);
    }
    arena_free(&a);
    store_close(s);
}

typedef struct idem_input {
    int64_t org, service;
    const unsigned char *hash;
    const char *key;
} idem_input;

/* Each writer creates a case of its own reference under the same key. */
static void *create_same_key(void *p)
{
    writer *w = p;
    const idem_input *idem = w->shared;
    char ref[24];
    snprintf(ref, sizeof(ref), "IDEM-%04d-A", w->index);
    store_case_new in = case_input(idem->org, idem->service, ref, idem->hash, 300);
    in.idempotency_key = idem->key;
    arena a;
    arena_init(&a);
    store_case c;
    pthread_barrier_wait(w->start);
    w->rc = store_case_create(w->s, &a, &in, &c, &w->existed);
    w->id = c.id;
    if (c.reference)
        snprintf(w->reference, sizeof(w->reference), "%s", c.reference);
    arena_free(&a);
    return NULL;
}

static void check_one_case(writer *w, store *s, arena *a, int64_t org)
{
    int fresh = -1;
    for (int t = 0; t < WRITERS; t++) {
        assert_int_equal(w[t].rc, STORE_OK);
        if (!w[t].existed) {
            assert_int_equal(fresh, -1);
            fresh = t;
        }
    }
    assert_true(fresh >= 0);
    char ref[24];
    snprintf(ref, sizeof(ref), "IDEM-%04d-A", fresh);
    for (int t = 0; t < WRITERS; t++) {
        assert_int_equal(w[t].id, w[fresh].id);
        assert_string_equal(w[t].reference, ref);
    }
    store_case_filter f = {.org_id = org, .text = "IDEM-", .limit = 200};
    store_case *cs = NULL;
    size_t n = 0;
    bool more = true;
    assert_int_equal(store_case_list(s, a, &f, &cs, &n, &more), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(cs[0].id, w[fresh].id);
    store_event *evs = NULL;
    assert_int_equal(store_case_events(s, a, cs[0].id, false, &evs, &n), STORE_OK);
    assert_int_equal(n, 1);
}

/* Many callers with one idempotency key get one case between them, whether
 * they meet in one batch (where the first job's case is seen by the next)
 * or run freely. */
static void test_group_commit_idempotency(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    static writer w[WRITERS];
    unsigned char h[32];
    fill_hash(h, 16);
    for (int round = 0; round < 2; round++) {
        char path[128];
        store *s = open_store(4, path, sizeof(path));
        int64_t svc;
        int64_t org = make_org(s, "north", "permit", &svc);
        idem_input idem = {.org = org, .service = svc, .hash = h, .key = "same-request"};
        memset(w, 0, sizeof(w));
        for (int i = 0; i < WRITERS; i++)
            w[i].shared = &idem;
        int commits = round == 0 ? wal_commits(path) : 0;
        run_writers(s, round == 0 ? path : NULL, w, WRITERS, create_same_key);
        if (round == 0)
            assert_in_range(wal_commits(path) - commits, 2, 3);
        check_one_case(w, s, &a, org);
        store_close(s);
    }
    arena_free(&a);
}

enum { SAME_SLUG = 4, OWN_SLUG = 8, SAME_REF = 2 };

/* Writers 0..3 create one slug, 4..11 slugs of their own, 12 and 13 cases
 * with one reference (and a person each), the rest add a note. */
static void *mixed_writes(void *p)
{
    writer *w = p;
    const idem_input *in = w->shared;
    int i = w->index;
    char slug[24];
    snprintf(slug, sizeof(slug), i < SAME_SLUG ? "same-slug" : "own-slug-%d", i);
    store_case_new c = case_input(in->org, in->service, "DUPE-0000-A", in->hash, 400);
    c.person = (store_person){.name = "Pat Citizen", .postcode = "AB1 2CD"};
    store_event ev = event("public_note", NULL, NULL, true, 400);
    arena a;
    arena_init(&a);
    store_case got;
    pthread_barrier_wait(w->start);
    if (i < SAME_SLUG + OWN_SLUG) {
        w->rc = store_org_create(w->s, slug, "An organisation", &w->id);
    } else if (i < SAME_SLUG + OWN_SLUG + SAME_REF) {
        w->rc = store_case_create(w->s, &a, &c, &got, &w->existed);
        w->id = got.id;
    } else {
        w->rc = store_event_append(w->s, w->case_id, &ev, false);
        w->id = ev.id;
    }
    arena_free(&a);
    return NULL;
}

/* Duplicates inside a batch fail alone, and leave nothing behind: not even
 * the person a failed case creation had already inserted. */
static void test_group_commit_duplicates(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    char path[128];
    store *s = open_store(4, path, sizeof(path));
    int64_t svc;
    int64_t org = make_org(s, "north", "permit", &svc);
    unsigned char h[32];
    fill_hash(h, 17);
    store_case_new in = case_input(org, svc, "NOTE-0000-A", h, 100);
    int64_t noted = create_case(s, &a, &in).id;
    idem_input shared = {.org = org, .service = svc, .hash = h};
    static writer w[WRITERS];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < WRITERS; i++) {
        w[i].shared = &shared;
        w[i].case_id = noted;
    }
    int persons = count_rows(path, "SELECT count(*) FROM persons");
    int commits = wal_commits(path);
    run_writers(s, path, w, WRITERS, mixed_writes);
    assert_in_range(wal_commits(path) - commits, 2, 3);

    int same_ok = 0;
    for (int t = 0; t < SAME_SLUG; t++) {
        if (w[t].rc == STORE_OK) {
            same_ok++;
            assert_true(w[t].id > 0);
        } else {
            assert_int_equal(w[t].rc, STORE_DUPLICATE);
            assert_int_equal(w[t].id, 0);
        }
    }
    assert_int_equal(same_ok, 1);
    store_org o;
    for (int t = SAME_SLUG; t < SAME_SLUG + OWN_SLUG; t++) {
        assert_int_equal(w[t].rc, STORE_OK);
        char slug[24];
        snprintf(slug, sizeof(slug), "own-slug-%d", t);
        assert_int_equal(store_org_by_slug(s, &a, slug, &o), STORE_OK);
        assert_int_equal(o.id, w[t].id);
    }
    int ref_ok = 0;
    for (int t = SAME_SLUG + OWN_SLUG; t < SAME_SLUG + OWN_SLUG + SAME_REF; t++) {
        if (w[t].rc == STORE_OK)
            ref_ok++;
        else
            assert_int_equal(w[t].rc, STORE_DUPLICATE);
    }
    assert_int_equal(ref_ok, 1);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM persons"), persons + 1);
    int64_t ids[WRITERS];
    size_t n_notes = WRITERS - SAME_SLUG - OWN_SLUG - SAME_REF;
    for (size_t t = 0; t < n_notes; t++) {
        assert_int_equal(w[WRITERS - n_notes + t].rc, STORE_OK);
        ids[t] = w[WRITERS - n_notes + t].id;
    }
    qsort(ids, n_notes, sizeof(ids[0]), cmp_id);
    int64_t stored[WRITERS];
    assert_int_equal(event_ids(s, &a, noted, stored, WRITERS), n_notes);
    assert_memory_equal(ids, stored, n_notes * sizeof(ids[0]));
    arena_free(&a);
    store_close(s);
}

typedef struct page_input {
    int64_t cases[2];
    int64_t org, user;
} page_input;

/* Each writer records a page of accesses; every third names a missing case
 * in its page. */
static void *record_page(void *p)
{
    writer *w = p;
    const page_input *in = w->shared;
    store_access page[PER_WRITER];
    for (int i = 0; i < PER_WRITER; i++)
        page[i] = access_by(in->cases[i % 2], in->org, in->user, 0, "Casey Worker", "list",
                            100 + w->index);
    if (w->index % 3 == 0)
        page[PER_WRITER - 1].case_id = in->cases[1] + 1000;
    pthread_barrier_wait(w->start);
    w->rc = store_access_record(w->s, page, PER_WRITER);
    for (int i = 0; i < PER_WRITER; i++)
        w->ids[i] = page[i].id;
    return NULL;
}

/* Pages of accesses sharing a commit are each recorded whole or not at all. */
static void test_group_commit_accesses(void **state)
{
    (void)state;
    access_fixture fx;
    access_fixture_open(&fx, "GRPA-0000-A");
    unsigned char h[32];
    fill_hash(h, 42);
    store_case_new in = case_input(fx.org_a, fx.svc, "GRPA-1111-A", h, 100);
    in.person = (store_person){.name = "Lee Citizen"};
    page_input pages = {
        .cases = {fx.c.id, create_case(fx.s, &fx.a, &in).id}, .org = fx.org_a, .user = fx.user_a};
    static writer w[WRITERS];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < WRITERS; i++)
        w[i].shared = &pages;

    int commits = wal_commits(fx.path);
    run_writers(fx.s, fx.path, w, WRITERS, record_page);
    assert_in_range(wal_commits(fx.path) - commits, 2, 3);

    size_t recorded = 0;
    for (int t = 0; t < WRITERS; t++) {
        if (t % 3 == 0) {
            assert_int_equal(w[t].rc, STORE_NOT_FOUND);
            for (int i = 0; i < PER_WRITER; i++)
                assert_int_equal(w[t].ids[i], 0);
            continue;
        }
        assert_int_equal(w[t].rc, STORE_OK);
        for (int i = 0; i < PER_WRITER; i++)
            assert_true(w[t].ids[i] > 0);
        recorded += PER_WRITER;
    }
    assert_int_equal(count_accesses(&fx, pages.cases[0]) + count_accesses(&fx, pages.cases[1]),
                     recorded);
    assert_int_equal(count_rows(fx.path, "SELECT count(*) FROM accesses"), (int)recorded);
    access_fixture_close(&fx);
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
static const int64_t DEPLOYMENT_ROWS[] = {1, 2, 2, 1, 1, 1, 3, 5, 9, 2, 11, 1, 0,
                                          0, 1, 1, 2, 1, 1, 1, 2, 1, 0, 0,  0};

static void test_copy_round_trip(void **state)
{
    (void)state;
    deployment d;
    char path[128];
    store *w = open_store(2, path, sizeof(path));
    fill_deployment(w, &d);
    store_close(w);

    store *src = NULL, *dst = open_store(2, NULL, 0);
    char err[256];
    assert_int_equal(store_open_readonly(path, &src, err, sizeof(err)), STORE_OK);
    size_t n = store_table_count();
    assert_int_equal(n, sizeof(DEPLOYMENT_ROWS) / sizeof(DEPLOYMENT_ROWS[0]));
    store_table_sum *sums = calloc(n, sizeof(*sums));
    assert_non_null(sums);
    assert_int_equal(store_copy(src, dst, sums, err, sizeof(err)), STORE_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sums[i].rows, DEPLOYMENT_ROWS[i]);
    check_sums(src, dst, sums);
    /* The source can still be read after the copy; it was not written. */
    store_close(src);
    w = NULL;
    assert_int_equal(store_open(path, 1, &w, err, sizeof(err)), STORE_OK);
    check_copy(w, dst, &d);
    free(sums);
    store_close(w);
    store_close(dst);
}

/* Dependency order: every table comes after the tables it refers to. */
static void test_copy_table_order(void **state)
{
    (void)state;
    static const char *const order[] = {"settings",
                                        "orgs",
                                        "services",
                                        "users",
                                        "sessions",
                                        "api_keys",
                                        "persons",
                                        "cases",
                                        "events",
                                        "accesses",
                                        "log_entries",
                                        "log_state",
                                        "log_checkpoints",
                                        "log_queue",
                                        "open311_requests",
                                        "org_calendars",
                                        "duty_instances",
                                        "notify_prefs",
                                        "notify_templates",
                                        "webhooks",
                                        "notifications",
                                        "notify_attempts",
                                        "appeals",
                                        "appeal_answers",
                                        "appeal_answer_reads"};
    assert_int_equal(store_table_count(), sizeof(order) / sizeof(order[0]));
    for (size_t i = 0; i < store_table_count(); i++)
        assert_string_equal(store_table_name(i), order[i]);
    assert_null(store_table_name(store_table_count()));
}

/* Every table the migrations make is copied: the copy's list and the
 * schema's tables are the same set. */
static void test_copy_covers_schema(void **state)
{
    (void)state;
    char path[128];
    store *s = open_store(1, path, sizeof(path));
    store_close(s);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT name FROM sqlite_schema WHERE type = 'table'"
                                        " AND name <> 'schema_migrations'"
                                        " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                                        /* the appeals map's R*Tree, rebuilt by triggers */
                                        " AND name NOT LIKE 'appeals\\_map%' ESCAPE '\\'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    size_t found = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        bool listed = false;
        for (size_t i = 0; i < store_table_count(); i++)
            listed = listed || strcmp(name, store_table_name(i)) == 0;
        if (!listed)
            fprintf(stderr, "# table %s is not copied\n", name);
        assert_true(listed);
        found++;
    }
    assert_int_equal(found, store_table_count());
    sqlite3_finalize(st);
    assert_true(store_table_count() <= TABLES_MAX);

    /* A table the copy does not know stops it before it starts. */
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE notes (id INTEGER PRIMARY KEY)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    store *src = NULL, *dst = open_store(1, NULL, 0);
    char err[256];
    assert_int_equal(store_open_readonly(path, &src, err, sizeof(err)), STORE_OK);
    store_table_sum sums[TABLES_MAX];
    assert_int_equal(store_copy(src, dst, sums, err, sizeof(err)), STORE_ERROR);
    assert_non_null(strstr(err, "notes"));
    store_close(src);
    store_close(dst);
}

/* A target holding rows is refused and left as it was; one holding only the
 * secret key `init` made takes the source's. */
static void test_copy_refuses_non_empty(void **state)
{
    (void)state;
    deployment d;
    char path[128], target[128], err[256];
    store *src = open_store(1, path, sizeof(path));
    fill_deployment(src, &d);
    store_table_sum sums[TABLES_MAX];

    store *dst = open_store(1, target, sizeof(target));
    int64_t id;
    assert_int_equal(store_org_create(dst, "west", "West", &id), STORE_OK);
    assert_int_equal(store_copy(src, dst, sums, err, sizeof(err)), STORE_CONFLICT);
    assert_non_null(strstr(err, "not empty"));
    assert_non_null(strstr(err, "orgs"));
    assert_int_equal(count_rows(target, "SELECT count(*) FROM orgs"), 1);
    assert_int_equal(count_rows(target, "SELECT count(*) FROM cases"), 0);
    store_close(dst);

    dst = open_store(1, target, sizeof(target));
    unsigned char k1[32], k2[32];
    assert_int_equal(store_secret_key(dst, k2), STORE_OK);
    assert_int_equal(store_secret_key(src, k1), STORE_OK);
    assert_memory_not_equal(k1, k2, 32);
    assert_int_equal(store_copy(src, dst, sums, err, sizeof(err)), STORE_OK);
    store_close(dst);
    dst = NULL;
    assert_int_equal(store_open(target, 1, &dst, err, sizeof(err)), STORE_OK);
    assert_int_equal(store_secret_key(dst, k2), STORE_OK);
    assert_memory_equal(k1, k2, 32);
    store_close(dst);
    store_close(src);
}

/* Opening to read neither creates, migrates nor writes. */
static void test_open_readonly(void **state)
{
    (void)state;
    char path[128], err[256];
    new_path(path, sizeof(path));
    store *s = NULL;
    assert_int_not_equal(store_open_readonly(path, &s, err, sizeof(err)), STORE_OK);
    assert_null(s);
    assert_int_not_equal(access(path, F_OK), 0);

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_not_equal(store_open_readonly(path, &s, err, sizeof(err)), STORE_OK);
    assert_non_null(strstr(err, "not an opencase database"));

    s = open_store(1, path, sizeof(path));
    store_close(s);
    s = NULL;
    assert_int_equal(store_open_readonly(path, &s, err, sizeof(err)), STORE_OK);
    assert_int_equal(store_schema_version(s), store_schema_latest());
    int64_t id = 0;
    assert_int_not_equal(store_org_create(s, "north", "North", &id), STORE_OK);
    store_close(s);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM orgs"), 0);

    /* An older schema is refused rather than read with the wrong tables. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char older[128], expected[32];
    snprintf(older, sizeof(older), "DELETE FROM schema_migrations WHERE version = %d",
             store_schema_latest());
    snprintf(expected, sizeof(expected), "schema %d", store_schema_latest() - 1);
    assert_int_equal(sqlite3_exec(db, older, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_not_equal(store_open_readonly(path, &s, err, sizeof(err)), STORE_OK);
    assert_non_null(strstr(err, expected));
}

/* A change to one value, even NULL to an empty text, changes that table's
 * sum and no other. */
static void test_checksum_sees_changes(void **state)
{
    (void)state;
    deployment d;
    char path[128], err[256];
    store *s = open_store(1, path, sizeof(path));
    fill_deployment(s, &d);
    size_t n = store_table_count();
    store_table_sum before[TABLES_MAX], after[TABLES_MAX];
    assert_true(n <= TABLES_MAX);
    assert_int_equal(store_checksum(s, before, err, sizeof(err)), STORE_OK);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE persons SET postcode = '' WHERE id ="
                                  " (SELECT min(id) FROM persons)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_checksum(s, after, err, sizeof(err)), STORE_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(before[i].rows, after[i].rows);
        bool same = memcmp(before[i].sha256, after[i].sha256, 32) == 0;
        assert_true(same == (strcmp(store_table_name(i), "persons") != 0));
    }
    store_close(s);
}

/* ---- update duties ---- */

/* Duties open with the event that triggers them; a public update meets those
 * open before it, a delivery those up to its event; the worklist, the
 * re-timing of a case's flags and compliance see the same rows. */
static void test_duties(void **state)
{
    (void)state;
    store *s = open_store(2, NULL, 0);
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
    store *s = open_store(2, NULL, 0);
    check_outbox(s);
    check_outbox_duties(s);
    check_outbox_appeal_answer(s);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_migrates_once),
        cmocka_unit_test(test_open_refuses),
        cmocka_unit_test(test_open_file_uri),
        cmocka_unit_test(test_secret_key),
        cmocka_unit_test(test_busy_is_unavailable),
        cmocka_unit_test(test_orgs),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_users_sessions_keys),
        cmocka_unit_test(test_case_create_and_idempotency),
        cmocka_unit_test(test_case_get_isolation),
        cmocka_unit_test(test_events_and_stages),
        cmocka_unit_test(test_closing_and_feedback),
        cmocka_unit_test(test_set_secret),
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_list_paging),
        cmocka_unit_test(test_list_orders_by_opening_time),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_import),
        cmocka_unit_test(test_concurrent_appends),
        cmocka_unit_test(test_concurrent_stage_race),
        cmocka_unit_test(test_group_commit_appends),
        cmocka_unit_test(test_group_commit_conflicts),
        cmocka_unit_test(test_group_commit_idempotency),
        cmocka_unit_test(test_group_commit_duplicates),
        cmocka_unit_test(test_access_record_and_read),
        cmocka_unit_test(test_access_all_or_none),
        cmocka_unit_test(test_access_with_writes),
        cmocka_unit_test(test_group_commit_accesses),
        cmocka_unit_test(test_copy_round_trip),
        cmocka_unit_test(test_copy_table_order),
        cmocka_unit_test(test_copy_covers_schema),
        cmocka_unit_test(test_copy_refuses_non_empty),
        cmocka_unit_test(test_open_readonly),
        cmocka_unit_test(test_duties),
        cmocka_unit_test(test_outbox),
        cmocka_unit_test(test_checksum_sees_changes),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
