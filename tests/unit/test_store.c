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

static store *contract_store(int pool)
{
    return open_store(pool, NULL, 0);
}

/* A store whose file's path is kept in path, for checks that open it. */
static store *contract_store_at(int pool, char *path, size_t len)
{
    return open_store(pool, path, len);
}

/* Makes the database refuse (or accept again) every access record, as a
 * database that cannot take the row would. */
static void contract_refuse_accesses(const char *path, bool on)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  on ? "CREATE TRIGGER refuse BEFORE INSERT ON accesses"
                                       " BEGIN SELECT RAISE(ABORT, 'refused'); END"
                                     : "DROP TRIGGER refuse",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

#include "store_contract.h"
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
    assert_int_equal(store_schema_latest(), 12);
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

#include "store_deployment.h"

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
        cmocka_unit_test(test_case_move),
        cmocka_unit_test(test_closing_and_feedback),
        cmocka_unit_test(test_set_secret),
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_list_paging),
        cmocka_unit_test(test_list_orders_by_opening_time),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_import),
        cmocka_unit_test(test_concurrent_appends),
        cmocka_unit_test(test_concurrent_stage_race),
        cmocka_unit_test(test_concurrent_unread_moves),
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
        cmocka_unit_test(test_log_kinds),
        cmocka_unit_test(test_checksum_sees_changes),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
