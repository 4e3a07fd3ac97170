/* test_log_store.c - the public log as the store keeps it (SQLite): entries
 * appended in the transactions of the changes they record, indexes without
 * gaps under concurrent writers, roots, proofs and tiles from the stored
 * hashes equal to those computed from the entries, and tampering caught by
 * the checkpoint signer and by `log verify`. */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "api/log_signer.h"
#include "cli/logverify.h"
#include "store/store.h"
#include "tlog/merkle.h"
#include "tlog/tile.h"

static char tmpdir[64];
static int db_counter;

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/opencase-log-XXXXXX");
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

static store *open_store(char *path, size_t len)
{
    snprintf(path, len, "%s/t%d.db", tmpdir, ++db_counter);
    store *s = NULL;
    char err[256];
    assert_int_equal(store_open(path, 4, &s, err, sizeof(err)), STORE_OK);
    return s;
}

static void sql(const char *path, const char *statement)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, statement, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

typedef struct fixture {
    store *s;
    int64_t org, service;
} fixture;

static void make_org(fixture *fx)
{
    assert_int_equal(store_org_create(fx->s, "northshire", "Northshire", &fx->org), STORE_OK);
    store_service svc = {.org_id = fx->org,
                         .code = "parking-permit",
                         .name = "Parking",
                         .description = "Permits",
                         .workflow_json =
                             "{\"stages\":[{\"code\":\"received\"},{\"code\":\"done\"}]}",
                         .target_days = 10};
    assert_int_equal(store_service_create(fx->s, &svc), STORE_OK);
    fx->service = svc.id;
}

static store_case make_case(fixture *fx, arena *a, const char *reference, const store_access *acc)
{
    unsigned char hash[32] = {1};
    store_case_new in = {.org_id = fx->org,
                         .service_id = fx->service,
                         .reference = reference,
                         .stage = "received",
                         .summary = "Private summary text",
                         .secret_hash = hash,
                         .actor = "Jane Officer",
                         .actor_user_id = 3,
                         .person = {.name = "Planted Person", .email = "planted@example.com"},
                         .now = 1764664200,
                         .access = acc};
    store_case c;
    bool existed = true;
    assert_int_equal(store_case_create(fx->s, a, &in, &c, &existed), STORE_OK);
    assert_false(existed);
    return c;
}

/* The entries of the whole log, and their leaf hashes. */
static size_t read_all(store *s, arena *a, store_log_row **rows)
{
    uint64_t size = 0;
    size_t n = 0;
    assert_int_equal(store_log_size(s, &size), STORE_OK);
    assert_int_equal(store_log_entries(s, a, 0, (size_t)size + 5, rows, &n), STORE_OK);
    assert_int_equal(n, size);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal((*rows)[i].index, i);
        merkle_hash leaf;
        merkle_leaf_hash((*rows)[i].entry, (*rows)[i].entry_len, &leaf);
        assert_memory_equal(leaf.b, (*rows)[i].hashes, 32);
    }
    return n;
}

static void test_writes_append_entries(void **state)
{
    (void)state;
    char path[128];
    fixture fx = {.s = open_store(path, sizeof(path))};
    arena a;
    arena_init(&a);
    make_org(&fx);
    store_access acc = {.reader_org_id = fx.org,
                        .user_id = 0,
                        .key_id = 0,
                        .reader_name = "Jane Officer",
                        .role = "caseworker",
                        .action = "write",
                        .purpose = "private purpose text",
                        .at = 1764664200};
    /* A staff user id must exist for the access row: make one. */
    store_user u = {.org_id = fx.org,
                    .email = "jane@example.gov",
                    .name = "Jane Officer",
                    .role = "caseworker",
                    .password_hash = "x"};
    assert_int_equal(store_user_create(fx.s, &u), STORE_OK);
    acc.user_id = u.id;
    store_case c = make_case(&fx, &a, "K7QM-2XPD-C", &acc);

    store_event ev = {.type = "stage_change",
                      .from_stage = "received",
                      .stage = "done",
                      .body = "Private note text",
                      .public_ = true,
                      .actor = "Jane Officer",
                      .created_at = 1764664300,
                      .user_id = u.id};
    assert_int_equal(store_event_append(fx.s, c.id, &ev, true), STORE_OK);
    store_event memo = {.type = "internal_note",
                        .body = "Secret internal words",
                        .actor = "Jane Officer",
                        .created_at = 1764664400,
                        .user_id = u.id};
    assert_int_equal(store_event_append(fx.s, c.id, &memo, false), STORE_OK);
    store_event msg = {.type = "message",
                       .body = "Citizen free text",
                       .public_ = true,
                       .actor = "citizen",
                       .created_at = 1764664500};
    assert_int_equal(store_event_append(fx.s, c.id, &msg, false), STORE_OK);
    /* A move that loses its compare-and-set appends nothing. */
    store_event late = ev;
    assert_int_equal(store_event_append(fx.s, c.id, &late, false), STORE_CONFLICT);

    store_log_row *rows;
    size_t n = read_all(fx.s, &a, &rows);
    static const char *const kinds[] = {"\"kind\":\"case_opened\"", "\"kind\":\"record_accessed\"",
                                        "\"kind\":\"stage_changed\"", "\"kind\":\"internal_note\"",
                                        "\"kind\":\"message_received\""};
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        char text[1100];
        assert_true(rows[i].entry_len < sizeof(text));
        memcpy(text, rows[i].entry, rows[i].entry_len);
        text[rows[i].entry_len] = '\0';
        assert_non_null(strstr(text, kinds[i]));
        for (const char *planted = "Planted|planted@|Private|Secret|Citizen free|private purpose|"
                                   "Jane|K7QM";
             *planted;) {
            const char *bar = strchr(planted, '|');
            size_t len = bar ? (size_t)(bar - planted) : strlen(planted);
            char word[32];
            memcpy(word, planted, len);
            word[len] = '\0';
            assert_null(strstr(text, word));
            planted += len + (bar ? 1 : 0);
        }
    }
    assert_non_null(strstr((const char *)rows[2].entry, "\"from\":\"received\""));
    assert_non_null(strstr((const char *)rows[4].entry, "\"actor\":\"citizen\""));

    /* Each event and the access know their entry. */
    store_event *events;
    size_t ne;
    assert_int_equal(store_case_events(fx.s, &a, c.id, false, &events, &ne), STORE_OK);
    assert_int_equal(ne, 4);
    int64_t want[] = {0, 2, 3, 4};
    for (size_t i = 0; i < ne; i++)
        assert_int_equal(events[i].log_index, want[i]);
    store_access *accs;
    size_t na;
    assert_int_equal(store_case_accesses(fx.s, &a, c.id, &accs, &na), STORE_OK);
    assert_int_equal(na, 1);
    assert_int_equal(accs[0].log_index, 1);
    arena_free(&a);
    store_close(fx.s);
}

static tlog_entry bulk_entry(uint64_t i)
{
    static const char *const stages[] = {"received", "checking", "approved", "refused"};
    tlog_entry e = {.kind = i % 3 ? TLOG_STAGE_CHANGED : TLOG_CASE_OPENED,
                    .time = 1764664200 + (int64_t)i,
                    .org = "northshire",
                    .service = "parking-permit",
                    .reference = i % 2 ? "AAAA-BBBB-C" : "DDDD-EEEE-F",
                    .actor = TLOG_ACTOR_STAFF,
                    .actor_id = (int64_t)(i % 5),
                    .actor_org_id = 1,
                    .stage = stages[i % 4]};
    return e;
}

/* Everything served from the stored hashes equals what the leaves give. */
static void test_proofs_and_tiles(void **state)
{
    (void)state;
    char path[128];
    store *s = open_store(path, sizeof(path));
    enum { N = 1100 };
    tlog_entry *entries = calloc(N, sizeof(*entries));
    assert_non_null(entries);
    for (uint64_t i = 0; i < N; i++)
        entries[i] = bulk_entry(i);
    uint64_t first = 99;
    assert_int_equal(store_log_import(s, entries, 600, &first), STORE_OK);
    assert_int_equal(first, 0);
    assert_int_equal(store_log_import(s, entries + 600, N - 600, &first), STORE_OK);
    assert_int_equal(first, 600);

    arena a;
    arena_init(&a);
    store_log_row *rows;
    assert_int_equal(read_all(s, &a, &rows), N);
    merkle_hash *leaves = calloc(N, sizeof(*leaves));
    assert_non_null(leaves);
    for (size_t i = 0; i < N; i++)
        memcpy(leaves[i].b, rows[i].hashes, 32);

    static const uint64_t sizes[] = {1, 2, 3, 7, 8, 255, 256, 257, 512, 1023, 1024, 1025, N};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint64_t size = sizes[k];
        merkle_hash root, want, proof[MERKLE_PROOF_MAX];
        size_t len;
        merkle_root_of_leaves(leaves, size, &want);
        assert_int_equal(store_log_root(s, size, &root), STORE_OK);
        assert_true(merkle_hash_equal(&root, &want));
        for (uint64_t i = 0; i < size; i += size / 7 + 1) {
            assert_int_equal(store_log_inclusion(s, i, size, proof, &len), STORE_OK);
            assert_int_equal(merkle_verify_inclusion(&leaves[i], i, size, proof, len, &root),
                             MERKLE_OK);
        }
        for (size_t j = 0; j <= k; j++) {
            merkle_hash old;
            merkle_root_of_leaves(leaves, sizes[j], &old);
            assert_int_equal(store_log_consistency(s, sizes[j], size, proof, &len), STORE_OK);
            assert_int_equal(merkle_verify_consistency(sizes[j], size, &old, &root, proof, len),
                             MERKLE_OK);
        }
    }
    merkle_hash root, proof[MERKLE_PROOF_MAX];
    size_t len;
    assert_int_equal(store_log_root(s, N + 1, &root), STORE_NOT_FOUND);
    assert_int_equal(store_log_inclusion(s, 0, N + 1, proof, &len), STORE_NOT_FOUND);
    assert_int_equal(store_log_consistency(s, 1, N + 1, proof, &len), STORE_NOT_FOUND);

    /* Level-0 tiles are leaf hashes; the level-1 tile holds the roots of the
     * full level-0 tiles. */
    buf b;
    buf_init(&b, 1 << 16);
    tile t0 = {.level = 0, .index = 4, .width = N % 256};
    assert_int_equal(store_log_tile(s, &t0, &b), STORE_OK);
    assert_int_equal(b.len, (N % 256) * 32);
    assert_memory_equal(b.data, leaves[1024].b, 32);
    buf_reset(&b);
    tile t1 = {.level = 1, .index = 0, .width = 4};
    assert_int_equal(store_log_tile(s, &t1, &b), STORE_OK);
    for (size_t i = 0; i < 4; i++) {
        merkle_hash full;
        merkle_root_of_leaves(leaves + 256 * i, 256, &full);
        assert_memory_equal(b.data + 32 * i, full.b, 32);
    }
    buf_reset(&b);
    tile too_wide = {.level = 1, .index = 0, .width = 5};
    assert_int_equal(store_log_tile(s, &too_wide, &b), STORE_NOT_FOUND);
    buf_free(&b);

    free(leaves);
    free(entries);
    arena_free(&a);
    store_close(s);
}

typedef struct writer {
    fixture *fx;
    int64_t case_id;
    int moves;
} writer;

static void *write_notes(void *arg)
{
    writer *w = arg;
    for (int i = 0; i < w->moves; i++) {
        store_event ev = {.type = "public_note",
                          .body = "note",
                          .public_ = true,
                          .actor = "A",
                          .created_at = 1764664200 + i};
        assert_int_equal(store_event_append(w->fx->s, w->case_id, &ev, false), STORE_OK);
    }
    return NULL;
}

/* Concurrent writers share commits; the log still has one entry per write,
 * at consecutive indexes. */
static void test_concurrent_appends(void **state)
{
    (void)state;
    char path[128];
    fixture fx = {.s = open_store(path, sizeof(path))};
    arena a;
    arena_init(&a);
    make_org(&fx);
    enum { THREADS = 6, MOVES = 40 };
    pthread_t threads[THREADS];
    writer w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        char ref[16];
        snprintf(ref, sizeof(ref), "AAAA-BBB%d-C", i);
        store_case c = make_case(&fx, &a, ref, NULL);
        w[i] = (writer){.fx = &fx, .case_id = c.id, .moves = MOVES};
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, write_notes, &w[i]), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    store_log_row *rows;
    assert_int_equal(read_all(fx.s, &a, &rows), THREADS * (MOVES + 1));
    arena_free(&a);
    store_close(fx.s);
}

static void test_signer_and_verify_catch_tampering(void **state)
{
    (void)state;
    char path[128];
    store *s = open_store(path, sizeof(path));
    note_signer key;
    note_verifier verifier;
    assert_int_equal(note_generate("example.gov.uk/log", &key, &verifier), NOTE_OK);
    FILE *sink = fopen("/dev/null", "w");
    assert_non_null(sink);

    log_signer *g = log_signer_new(s, &key);
    assert_non_null(g);
    assert_int_equal(log_verify(s, &verifier, sink, sink), 1); /* nothing signed yet */
    assert_int_equal(log_signer_step(g), LOG_SIGNER_SIGNED);   /* the empty log */
    assert_int_equal(log_signer_step(g), LOG_SIGNER_UNCHANGED);
    tlog_entry e[40];
    for (uint64_t i = 0; i < 40; i++)
        e[i] = bulk_entry(i);
    assert_int_equal(store_log_import(s, e, 10, NULL), STORE_OK);
    assert_int_equal(log_signer_step(g), LOG_SIGNER_SIGNED);
    assert_int_equal(log_signer_step(g), LOG_SIGNER_UNCHANGED);
    assert_int_equal(store_log_import(s, e + 10, 13, NULL), STORE_OK);
    assert_int_equal(log_signer_step(g), LOG_SIGNER_SIGNED);
    assert_int_equal(log_verify(s, &verifier, sink, sink), 0);

    arena a;
    arena_init(&a);
    uint64_t size = 0;
    const char *text = NULL;
    assert_int_equal(store_log_checkpoint_get(s, &a, UINT64_MAX, &size, &text), STORE_OK);
    assert_int_equal(size, 23);
    note n;
    assert_int_equal(note_open(text, strlen(text), &verifier, 1, &n), NOTE_OK);
    assert_int_equal(store_log_checkpoint_get(s, &a, 22, &size, &text), STORE_OK);
    assert_int_equal(size, 10);

    /* A new signer (a restart) picks up the last checkpoint. */
    log_signer_free(g);
    g = log_signer_new(s, &key);
    assert_int_equal(log_signer_step(g), LOG_SIGNER_UNCHANGED);

    /* Rewrite an entry: verify notices at once. */
    sql(path, "UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'checking',"
              " 'approved') AS BLOB) WHERE idx = 5");
    assert_int_equal(log_verify(s, &verifier, sink, sink), 1);
    sql(path, "UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'approved',"
              " 'checking') AS BLOB) WHERE idx = 5");
    assert_int_equal(log_verify(s, &verifier, sink, sink), 0);

    /* Rewrite stored hashes, leaf and subtrees, consistently with a changed
     * entry: the signer will not sign a tree that does not extend its last. */
    sql(path, "UPDATE log_entries SET hashes = zeroblob(length(hashes)) WHERE idx = 22");
    assert_int_equal(store_log_import(s, e + 23, 5, NULL), STORE_OK);
    assert_int_equal(log_signer_step(g), LOG_SIGNER_INCONSISTENT);
    assert_int_equal(log_signer_step(g), LOG_SIGNER_INCONSISTENT);
    assert_int_equal(store_log_checkpoint_get(s, &a, UINT64_MAX, &size, &text), STORE_OK);
    assert_int_equal(size, 23);
    assert_int_equal(log_verify(s, &verifier, sink, sink), 1);

    /* A checkpoint signed by another key is refused too. */
    note_signer other;
    note_verifier other_v;
    assert_int_equal(note_generate("example.gov.uk/log", &other, &other_v), NOTE_OK);
    log_signer *h = log_signer_new(s, &other);
    assert_int_equal(log_signer_step(h), LOG_SIGNER_INCONSISTENT);
    log_signer_free(h);

    note_signer_wipe(&other);
    note_signer_wipe(&key);
    log_signer_free(g);
    fclose(sink);
    arena_free(&a);
    store_close(s);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_append_entries),
        cmocka_unit_test(test_proofs_and_tiles),
        cmocka_unit_test(test_concurrent_appends),
        cmocka_unit_test(test_signer_and_verify_catch_tampering),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
