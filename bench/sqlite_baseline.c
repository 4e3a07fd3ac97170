/* sqlite_baseline.c - the machine's own limit for durable stage changes.
 *
 * Performs, directly on a copy of a demo database, the writes the server does
 * for one stage-change event: one transaction per event that moves a case
 * from `investigating` to `awaiting_forensics` and inserts the event, with the
 * server's settings (WAL, synchronous=FULL, foreign keys on). No HTTP, no JSON,
 * no authentication: the benchmark divides the server's rate by this one.
 *
 *   sqlite_baseline DB SECONDS [MAX_ROWS]
 *
 * Prints "rows=N seconds=S rows_per_s=R" on success.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The same statements as the server's store (store_sqlite.c). */
static const char move_sql[] =
    "UPDATE cases SET stage = ?2, updated_at = max(updated_at, ?3), closed_at = ?4"
    " WHERE id = ?1 AND stage = ?5 AND closed_at IS NULL";
static const char event_sql[] =
    "INSERT INTO events (case_id, type, from_stage, stage, body, rating, public, actor,"
    " created_at) VALUES (?1, ?2, ?3, coalesce(?4, (SELECT stage FROM cases WHERE id = ?1)),"
    " ?5, ?6, ?7, ?8, ?9)";
static const char cases_sql[] =
    "SELECT c.id FROM cases c JOIN services s ON s.id = c.service_id"
    " JOIN orgs o ON o.id = c.org_id"
    " WHERE o.slug = 'wessex-police' AND s.code = 'burglary' AND c.stage = 'investigating'"
    " AND c.closed_at IS NULL ORDER BY c.id";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_long(const char *s, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int exec(sqlite3 *db, const char *sql)
{
    int r = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (r != SQLITE_OK)
        fprintf(stderr, "sqlite_baseline: %s: %s\n", sql, sqlite3_errmsg(db));
    return r;
}

/* Reads the ids of the cases that can take the stage change. */
static int64_t *load_cases(sqlite3 *db, size_t *n)
{
    sqlite3_stmt *st = NULL;
    int64_t *ids = NULL;
    size_t cap = 0;
    *n = 0;
    if (sqlite3_prepare_v2(db, cases_sql, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4096;
            int64_t *grown = realloc(ids, cap * sizeof(*ids));
            if (!grown)
                goto fail;
            ids = grown;
        }
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (r != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    return ids;
fail:
    fprintf(stderr, "sqlite_baseline: reading cases: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    free(ids);
    *n = 0;
    return NULL;
}

/* One event: the transaction the server runs for a stage change. */
static int write_event(sqlite3 *db, sqlite3_stmt *move, sqlite3_stmt *event, int64_t case_id)
{
    int64_t at = (int64_t)time(NULL);
    if (exec(db, "BEGIN IMMEDIATE") != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(move, 1, case_id);
    sqlite3_bind_text(move, 2, "awaiting_forensics", -1, SQLITE_STATIC);
    sqlite3_bind_int64(move, 3, at);
    sqlite3_bind_null(move, 4);
    sqlite3_bind_text(move, 5, "investigating", -1, SQLITE_STATIC);
    int r = sqlite3_step(move);
    sqlite3_reset(move);
    if (r != SQLITE_DONE || sqlite3_changes(db) != 1)
        goto fail;
    sqlite3_bind_int64(event, 1, case_id);
    sqlite3_bind_text(event, 2, "stage_change", -1, SQLITE_STATIC);
    sqlite3_bind_text(event, 3, "investigating", -1, SQLITE_STATIC);
    sqlite3_bind_text(event, 4, "awaiting_forensics", -1, SQLITE_STATIC);
    sqlite3_bind_null(event, 5);
    sqlite3_bind_int(event, 6, 0);
    sqlite3_bind_int(event, 7, 0);
    sqlite3_bind_text(event, 8, "bench", -1, SQLITE_STATIC);
    sqlite3_bind_int64(event, 9, at);
    r = sqlite3_step(event);
    sqlite3_reset(event);
    if (r != SQLITE_DONE)
        goto fail;
    return exec(db, "COMMIT") == SQLITE_OK ? 0 : -1;
fail:
    fprintf(stderr, "sqlite_baseline: case %lld: %s\n", (long long)case_id, sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int main(int argc, char **argv)
{
    long seconds, max_rows = 0;
    if (argc < 3 || argc > 4 || parse_long(argv[2], &seconds) != 0 || seconds == 0 ||
        (argc == 4 && parse_long(argv[3], &max_rows) != 0)) {
        fprintf(stderr, "usage: sqlite_baseline DB SECONDS [MAX_ROWS]\n");
        return 2;
    }
    int ret = 1;
    sqlite3 *db = NULL;
    sqlite3_stmt *move = NULL, *event = NULL;
    int64_t *ids = NULL;
    size_t n_ids = 0;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite_baseline: cannot open %s\n", argv[1]);
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    if (exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                 " PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;") != SQLITE_OK)
        goto out;
    if (sqlite3_prepare_v2(db, move_sql, -1, &move, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, event_sql, -1, &event, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite_baseline: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    ids = load_cases(db, &n_ids);
    if (!ids || n_ids == 0) {
        fprintf(stderr, "sqlite_baseline: no burglary case at stage investigating\n");
        goto out;
    }
    size_t limit = max_rows > 0 && (size_t)max_rows < n_ids ? (size_t)max_rows : n_ids;
    size_t rows = 0;
    double start = now_s(), elapsed = 0;
    while (rows < limit && elapsed < (double)seconds) {
        if (write_event(db, move, event, ids[rows]) != 0)
            goto out;
        rows++;
        elapsed = now_s() - start;
    }
    elapsed = now_s() - start;
    printf("rows=%zu seconds=%.3f rows_per_s=%.1f%s\n", rows, elapsed, (double)rows / elapsed,
           rows == n_ids ? " exhausted=1" : "");
    ret = 0;
out:
    sqlite3_finalize(move);
    sqlite3_finalize(event);
    sqlite3_close(db);
    free(ids);
    return ret;
}
