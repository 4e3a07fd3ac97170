/* store_sqlite.c - the SQLite backend of store.h.
 *
 * A store is a pool of connections to one database file in WAL mode, so that
 * readers never wait for the writer. A read borrows one connection for its
 * transaction and gives it back. Each connection prepares a statement the
 * first time it needs it and keeps it, so that the hot look-ups cost a bind
 * and a step.
 *
 * Writes are durable (synchronous=FULL): every COMMIT waits for an fsync of
 * the WAL, which costs far more than the statements. So concurrent writers
 * share commits (group commit). A write is a job, a function run on whatever
 * connection it is handed, put in the store's queue; the writer that finds no
 * batch running leads: it takes the jobs waiting, runs them on its pooled
 * connection inside one BEGIN IMMEDIATE ... COMMIT, and wakes their callers
 * with their results. Each job runs in a savepoint of its own, so a write
 * that fails undoes only its own changes. Writers that arrive meanwhile form
 * the next batch: a lone writer starts at once, and a busy store pays one
 * fsync per batch rather than one per write. The bulk import queues the same
 * way but keeps a transaction of its own. The busy handler covers other
 * processes sharing the file.
 *
 * Migrations are compiled in (embedded.h, generated from migrations/sqlite/)
 * and applied at open, one transaction each, recorded in schema_migrations.
 *
 * A copy of a whole deployment (store_copy) reads in one deferred
 * transaction, a snapshot thanks to WAL, so a server may keep writing, and
 * writes in one BEGIN IMMEDIATE transaction with a statement per row.
 *
 * store.c reaches these functions through store_sqlite_ops (store_int.h) for
 * every URI that does not name a PostgreSQL server.
 */
#include "store/store_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "embedded.h"
#include "util/buf.h"
#include "util/log.h"

/* How long a call waits for the database to become free before it answers
 * STORE_UNAVAILABLE. */
#define BUSY_TIMEOUT_MS 5000
/* Page cache per connection, and the larger one a bulk import uses (KiB).
 * Reads go through a shared memory map of the file (MMAP_BYTES), so the
 * per-connection cache mostly serves writes and can stay small. */
#define CACHE_KIB 16384
#define MMAP_BYTES (2LL * 1024 * 1024 * 1024)
#define IMPORT_CACHE_KIB 524288
#define LIST_MAX 200
/* The most jobs one batch takes, so that a crowd of writers is committed in
 * several fsyncs rather than kept waiting behind one long transaction. */
#define BATCH_MAX 128

/* Statements every connection may prepare, by number. */
enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_SETTING_INSERT,
    ST_SETTING_GET,
    ST_ORG_INSERT,
    ST_ORG_BY_SLUG,
    ST_ORG_BY_ID,
    ST_SERVICE_INSERT,
    ST_SERVICE_UPDATE,
    ST_SERVICE_GET,
    ST_SERVICE_BY_ID,
    ST_SERVICE_LIST,
    ST_USER_INSERT,
    ST_USER_BY_EMAIL,
    ST_USER_GET,
    ST_USER_LIST,
    ST_SESSION_PURGE,
    ST_SESSION_INSERT,
    ST_SESSION_GET,
    ST_SESSION_DELETE,
    ST_KEY_INSERT,
    ST_KEY_GET,
    ST_KEY_LIST,
    ST_KEY_REVOKE,
    ST_PERSON_INSERT,
    ST_CASE_INSERT,
    ST_CASE_BY_IDEMPOTENCY,
    ST_CASE_BY_ID,
    ST_CASE_BY_REF,
    ST_CASE_EXISTS,
    ST_CASE_MOVE,
    ST_CASE_TOUCH,
    ST_CASE_SET_SECRET,
    ST_EVENTS_ALL,
    ST_EVENTS_PUBLIC,
    ST_EVENT_INSERT,
    ST_DURATIONS,
    ST_ACCESS_INSERT,
    ST_ACCESSES_OF_CASE,
    ST_LOG_RESERVE,
    ST_LOG_HASHES,
    ST_LOG_INSERT,
    ST_LOG_CASE,
    ST_LOG_EVENT_INDEX,
    ST_LOG_ACCESS_INDEX,
    ST_LOG_SIZE,
    ST_LOG_ENTRIES,
    ST_LOG_CHECKPOINT_PUT,
    ST_LOG_CHECKPOINT_GET,
    /* Open311 */
    ST_ORG_SOLE,
    ST_OPEN311_INSERT,
    ST_OPEN311_CASES,
    ST_OPEN311_BY_REF,
    ST_OPEN311_BY_TOKEN,
    ST_OPEN311_UPDATES,
    /* update duties */
    ST_DUTY_INSERT,
    ST_DUTY_MEET,
    ST_DUTY_UNSWEPT,
    ST_DUTY_SWEEP,
    ST_DUTY_OF_CASE,
    ST_DUTY_RETIME,
    ST_CASE_SET_FLAGS,
    ST_DUTY_WORKLIST,
    ST_DUTY_COMPLIANCE,
    ST_CALENDAR_GET,
    ST_CALENDAR_SET,
    ST_FIXED_COUNT
};

/* The case list is one statement per combination of filters, so that each
 * can use its index; they follow the fixed statements in the cache. */
enum {
    LIST_SERVICE = 1 << 0,
    LIST_STAGE = 1 << 1,
    LIST_FROM = 1 << 2,
    LIST_TO = 1 << 3,
    LIST_TEXT = 1 << 4,
    LIST_VARIANTS = 1 << 5
};
#define ST_COUNT (ST_FIXED_COUNT + LIST_VARIANTS)

#define SERVICE_COLUMNS                                                                            \
    "id, org_id, code, name, description, workflow_json, target_days, created_at, updated_at,"     \
    " open311_json, duties_json"

/* The columns read_case() expects, cases first, then the service code and
 * the person. CROSS JOIN keeps cases as the outer loop so that its indexes
 * drive the query. */
#define CASE_SELECT                                                                                \
    "SELECT c.id, c.org_id, c.service_id, s.code, c.reference, c.stage, c.summary,"                \
    " c.secret_hash, c.opened_at, c.updated_at, c.closed_at, p.id, p.name, p.email, p.phone,"      \
    " p.address, p.postcode, c.enhanced, c.team"                                                   \
    " FROM cases c CROSS JOIN services s ON s.id = c.service_id"                                   \
    " LEFT JOIN persons p ON p.id = c.person_id "

/* The columns read_duty() expects. */
#define DUTY_SELECT                                                                                \
    "SELECT d.id, d.case_id, c.reference, s.code, c.team, c.enhanced, d.duty, d.event_id,"         \
    " d.triggered_at, d.days, d.due_at, d.met_at, d.met_by, d.met_event_id, d.service_id"          \
    " FROM duty_instances d CROSS JOIN cases c ON c.id = d.case_id"                                \
    " CROSS JOIN services s ON s.id = c.service_id "

#define EVENT_SELECT                                                                               \
    "SELECT id, case_id, type, from_stage, stage, body, rating, public, actor, created_at,"        \
    " log_index FROM events WHERE case_id = ?1 "

/* The columns read_open311_case() expects. */
#define OPEN311_SELECT                                                                             \
    "SELECT c.id, c.service_id, c.reference, c.stage, c.opened_at, c.updated_at, c.closed_at,"     \
    " r.case_id, r.token, r.description, r.lat, r.long, r.address_string, r.address_id,"           \
    " r.media_url, r.attributes_json, r.device_id, r.account_id"                                   \
    " FROM cases c LEFT JOIN open311_requests r ON r.case_id = c.id "

static const char *const fixed_sql[ST_FIXED_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT job",
    [ST_RELEASE] = "RELEASE job",
    [ST_ROLLBACK_TO] = "ROLLBACK TO job",
    [ST_SETTING_INSERT] = "INSERT OR IGNORE INTO settings (key, value) VALUES (?1, ?2)",
    [ST_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
    [ST_ORG_INSERT] = "INSERT INTO orgs (slug, name) VALUES (?1, ?2)",
    [ST_ORG_BY_SLUG] = "SELECT id, slug, name FROM orgs WHERE slug = ?1",
    [ST_ORG_BY_ID] = "SELECT id, slug, name FROM orgs WHERE id = ?1",
    [ST_SERVICE_INSERT] = "INSERT INTO services (org_id, code, name, description, workflow_json,"
                          " target_days, created_at, updated_at, open311_json, duties_json)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_SERVICE_UPDATE] = "UPDATE services SET name = ?3, description = ?4, workflow_json = ?5,"
                          " target_days = ?6, updated_at = ?7, open311_json = ?9, duties_json = ?10"
                          " WHERE org_id = ?1 AND code = ?2",
    [ST_SERVICE_GET] = "SELECT " SERVICE_COLUMNS " FROM services WHERE org_id = ?1 AND code = ?2",
    [ST_SERVICE_BY_ID] = "SELECT " SERVICE_COLUMNS " FROM services WHERE id = ?1",
    [ST_SERVICE_LIST] = "SELECT " SERVICE_COLUMNS " FROM services WHERE org_id = ?1 ORDER BY code",
    [ST_USER_INSERT] = "INSERT INTO users (org_id, email, name, role, password_hash)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_USER_BY_EMAIL] = "SELECT id, org_id, email, name, role, password_hash FROM users"
                         " WHERE email = ?1",
    [ST_USER_GET] = "SELECT id, org_id, email, name, role, NULL FROM users"
                    " WHERE id = ?2 AND org_id = ?1",
    [ST_USER_LIST] = "SELECT id, org_id, email, name, role, NULL FROM users"
                     " WHERE org_id = ?1 AND (?2 IS NULL OR role = ?2) ORDER BY id",
    [ST_SESSION_PURGE] = "DELETE FROM sessions WHERE expires_at <= ?1",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (token_hash, user_id, expires_at)"
                          " VALUES (?1, ?2, ?3)",
    [ST_SESSION_GET] = "SELECT u.org_id, u.id, u.role, u.name FROM sessions s"
                       " JOIN users u ON u.id = s.user_id"
                       " WHERE s.token_hash = ?1 AND s.expires_at > ?2",
    [ST_SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = ?1",
    [ST_KEY_INSERT] =
        "INSERT INTO api_keys (org_id, label, role, key_hash) VALUES (?1, ?2, ?3, ?4)",
    [ST_KEY_GET] = "SELECT org_id, id, role, label FROM api_keys"
                   " WHERE key_hash = ?1 AND revoked_at IS NULL",
    [ST_KEY_LIST] = "SELECT id, label, role, created_at, revoked_at FROM api_keys"
                    " WHERE org_id = ?1 ORDER BY id",
    [ST_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?3)"
                      " WHERE org_id = ?1 AND id = ?2",
    [ST_PERSON_INSERT] = "INSERT INTO persons (name, email, phone, address, postcode)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_CASE_INSERT] = "INSERT INTO cases (org_id, service_id, reference, stage, summary,"
                       " secret_hash, person_id, opened_at, updated_at, closed_at, idempotency_key,"
                       " enhanced, team)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [ST_CASE_BY_IDEMPOTENCY] = "SELECT id FROM cases WHERE org_id = ?1 AND idempotency_key = ?2",
    [ST_CASE_BY_ID] = CASE_SELECT "WHERE c.id = ?1",
    [ST_CASE_BY_REF] = CASE_SELECT "WHERE c.reference = ?1 AND (?2 = 0 OR c.org_id = ?2)",
    [ST_CASE_EXISTS] = "SELECT 1 FROM cases WHERE id = ?1",
    [ST_CASE_MOVE] = "UPDATE cases SET stage = ?2, updated_at = max(updated_at, ?3),"
                     " closed_at = ?4 WHERE id = ?1 AND stage = ?5 AND closed_at IS NULL",
    [ST_CASE_TOUCH] = "UPDATE cases SET updated_at = max(updated_at, ?2) WHERE id = ?1",
    [ST_CASE_SET_SECRET] = "UPDATE cases SET secret_hash = ?2 WHERE id = ?1",
    [ST_EVENTS_ALL] = EVENT_SELECT "ORDER BY id",
    [ST_EVENTS_PUBLIC] = EVENT_SELECT "AND public = 1 ORDER BY id",
    /* The event records the case's stage as it stands after the event, read
     * in the same transaction, so that it cannot disagree with the case. */
    [ST_EVENT_INSERT] =
        "INSERT INTO events (case_id, type, from_stage, stage, body, rating,"
        " public, actor, created_at)"
        " VALUES (?1, ?2, ?3, coalesce(?4, (SELECT stage FROM cases WHERE id = ?1)),"
        " ?5, ?6, ?7, ?8, ?9)",
    [ST_DURATIONS] = "SELECT closed_at - opened_at FROM cases"
                     " WHERE service_id = ?1 AND closed_at IS NOT NULL"
                     " ORDER BY closed_at DESC LIMIT ?2",
    /* The case's organisation is read from the case, not trusted from the
     * caller; no row is inserted when there is no such case. */
    [ST_ACCESS_INSERT] = "INSERT INTO accesses (case_id, case_org_id, reader_org_id, user_id,"
                         " key_id, reader_name, role, action, purpose, at)"
                         " SELECT id, org_id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM cases"
                         " WHERE id = ?1",
    /* CROSS JOIN keeps accesses as the outer loop, walking accesses_case
     * backwards, so that no sort is needed. */
    [ST_ACCESSES_OF_CASE] = "SELECT a.id, a.case_id, a.case_org_id, a.reader_org_id, o.name,"
                            " a.user_id, a.key_id, a.reader_name, a.role, a.action, a.purpose,"
                            " a.at, a.log_index FROM accesses a"
                            " CROSS JOIN orgs o ON o.id = a.reader_org_id"
                            " WHERE a.case_id = ?1 ORDER BY a.at DESC, a.id DESC",
    /* The public log: see migrations/sqlite/0003_log.sql. */
    [ST_LOG_RESERVE] = "UPDATE log_state SET size = size + 1 WHERE id = 1 RETURNING size - 1",
    [ST_LOG_HASHES] = "SELECT hashes FROM log_entries WHERE idx = ?1",
    [ST_LOG_INSERT] = "INSERT INTO log_entries (idx, entry, hashes) VALUES (?1, ?2, ?3)",
    [ST_LOG_CASE] = "SELECT c.reference, o.slug, s.code, c.org_id FROM cases c"
                    " JOIN orgs o ON o.id = c.org_id JOIN services s ON s.id = c.service_id"
                    " WHERE c.id = ?1",
    [ST_LOG_EVENT_INDEX] = "UPDATE events SET log_index = ?2 WHERE id = ?1",
    [ST_LOG_ACCESS_INDEX] = "UPDATE accesses SET log_index = ?2 WHERE id = ?1",
    [ST_LOG_SIZE] = "SELECT size FROM log_state WHERE id = 1",
    [ST_LOG_ENTRIES] = "SELECT idx, entry, hashes FROM log_entries WHERE idx >= ?1"
                       " ORDER BY idx LIMIT ?2",
    [ST_LOG_CHECKPOINT_PUT] = "INSERT OR IGNORE INTO log_checkpoints (size, note, signed_at)"
                              " VALUES (?1, ?2, ?3)",
    [ST_LOG_CHECKPOINT_GET] = "SELECT size, note FROM log_checkpoints WHERE size <= ?1"
                              " ORDER BY size DESC LIMIT 1",
    /* Open311 */
    [ST_ORG_SOLE] = "SELECT id, slug, name FROM orgs ORDER BY id LIMIT 2",
    [ST_OPEN311_INSERT] = "INSERT INTO open311_requests (case_id, token, description, lat, long,"
                          " address_string, address_id, media_url, attributes_json, device_id,"
                          " account_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    /* cases_org, walked backwards, drives the window; the service and stage
     * pairs are a filter on each row. */
    [ST_OPEN311_CASES] =
        OPEN311_SELECT "WHERE c.org_id = ?1 AND c.opened_at >= ?2 AND c.opened_at < ?3"
                       " AND (c.service_id || ':' || c.stage) IN (SELECT value FROM json_each(?4))"
                       " ORDER BY c.opened_at DESC, c.id DESC LIMIT ?5",
    [ST_OPEN311_BY_REF] = OPEN311_SELECT "WHERE c.reference = ?1 AND c.org_id = ?2",
    [ST_OPEN311_BY_TOKEN] = OPEN311_SELECT "WHERE r.token = ?1 AND c.org_id = ?2",
    /* The terms of events_open311_updates' WHERE are repeated so that the
     * partial index serves the window. */
    [ST_OPEN311_UPDATES] =
        "SELECT e.id, c.service_id, c.reference, e.type, e.stage, e.body, e.created_at"
        " FROM events e CROSS JOIN cases c ON c.id = e.case_id"
        " WHERE e.public = 1 AND e.type IN ('stage_change', 'public_note')"
        " AND e.created_at >= ?2 AND e.created_at < ?3 AND c.org_id = ?1"
        " AND c.service_id IN (SELECT value FROM json_each(?4))"
        " ORDER BY e.created_at, e.id LIMIT ?5",
    /* ---- update duties ---- */
    /* The organisation and service come from the case, not the caller. */
    [ST_DUTY_INSERT] =
        "INSERT INTO duty_instances (case_id, org_id, service_id, duty, event_id,"
        " triggered_at, days, due_at)"
        " SELECT id, org_id, service_id, ?2, ?3, ?4, ?5, ?6 FROM cases WHERE id = ?1",
    [ST_DUTY_MEET] = "UPDATE duty_instances SET met_at = ?3, met_by = ?4, met_event_id = ?5"
                     " WHERE case_id = ?1 AND met_at IS NULL AND event_id <= ?2"
                     " RETURNING duty, due_at",
    [ST_DUTY_UNSWEPT] = "SELECT 1 FROM duty_instances WHERE met_at IS NULL"
                        " AND missed_at IS NULL AND due_at < ?1 LIMIT 1",
    [ST_DUTY_SWEEP] = "UPDATE duty_instances SET missed_at = ?1 WHERE id IN (SELECT id"
                      " FROM duty_instances WHERE met_at IS NULL AND missed_at IS NULL"
                      " AND due_at < ?1 ORDER BY due_at, id LIMIT ?2)"
                      " RETURNING case_id, duty, due_at",
    [ST_DUTY_OF_CASE] = DUTY_SELECT "WHERE d.case_id = ?1 ORDER BY d.id",
    [ST_DUTY_RETIME] = "UPDATE duty_instances SET days = ?3, due_at = ?4"
                       " WHERE id = ?1 AND case_id = ?2 AND met_at IS NULL",
    [ST_CASE_SET_FLAGS] = "UPDATE cases SET enhanced = ?2, team = ?3,"
                          " updated_at = max(updated_at, ?4) WHERE id = ?1",
    /* CROSS JOIN keeps the open-duty index as the outer loop, already in
     * the list's order. */
    [ST_DUTY_WORKLIST] = DUTY_SELECT "WHERE d.org_id = ?1 AND d.met_at IS NULL"
                                     " AND (d.due_at, d.id) > (?2, ?3)"
                                     " AND (?4 IS NULL OR s.code = ?4)"
                                     " AND (?5 IS NULL OR c.team = ?5)"
                                     " AND (?6 <> 1 OR d.due_at >= ?7)"
                                     " AND (?6 <> 2 OR d.due_at < ?7)"
                                     " ORDER BY d.due_at, d.id LIMIT ?8",
    [ST_DUTY_COMPLIANCE] = "SELECT s.code, sum(d.met_at IS NOT NULL AND d.met_at <= d.due_at),"
                           " sum(d.met_at IS NOT NULL AND d.met_at > d.due_at),"
                           " sum(d.met_at IS NULL)"
                           " FROM duty_instances d CROSS JOIN services s ON s.id = d.service_id"
                           " WHERE d.org_id = ?1 AND d.due_at >= ?2 AND d.due_at < ?3"
                           " AND d.due_at < ?4 AND (?5 IS NULL OR s.code = ?5)"
                           " GROUP BY s.code ORDER BY s.code",
    [ST_CALENDAR_GET] = "SELECT org_id, calendar, holidays, updated_at FROM org_calendars"
                        " WHERE org_id = ?1",
    [ST_CALENDAR_SET] = "INSERT INTO org_calendars (org_id, calendar, holidays, updated_at)"
                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (org_id) DO UPDATE SET"
                        " calendar = excluded.calendar, holidays = excluded.holidays,"
                        " updated_at = excluded.updated_at",
};

/* Room for the appeals' statements, which live in a block of their own. */
#define APPEAL_STATEMENTS 24

typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT];
    sqlite3_stmt *appeal_stmts[APPEAL_STATEMENTS];
    struct timespec busy_since; /* when the current wait for a lock began */
    const uint8_t *log_key;     /* the store's key for the log's pseudonyms */
} conn;

/* A write's statements, run on the connection of whoever leads its batch;
 * arg carries the inputs and receives the outputs. */
typedef store_rc (*write_fn)(conn *c, void *arg);

/* A write waiting for a batch or taking part in one; it lives on its
 * caller's stack until the caller sees `done`. */
typedef struct write_job write_job;
struct write_job {
    write_fn fn;
    void *arg;
    bool alone; /* a bulk write: a transaction of its own, no savepoint */
    bool taken; /* in a running batch, so its caller can no longer give up */
    bool lead;  /* its caller is to run the next batch */
    bool done;  /* rc is the final result */
    store_rc rc;
    pthread_cond_t cv; /* signalled when lead or done is set */
    write_job *next;
};

typedef struct sq_store sq_store;
struct sq_store {
    conn *conns;
    int nconns;
    conn **idle; /* a stack of the connections not lent out */
    int nidle;
    pthread_mutex_t mu; /* guards idle, nidle, key and have_key */
    pthread_cond_t cv;
    /* The writers' queue. Whenever it holds a job, a leader is running a
     * batch or has been named (the queue's head), so no job is forgotten. */
    pthread_mutex_t write_mu;         /* guards the queue, leading and every job's flags */
    pthread_condattr_t write_cv_attr; /* the monotonic clock, for timed waits */
    write_job *queue;
    write_job *queue_tail;
    bool leading;
    int version;
    unsigned char key[32];
    bool have_key;
    uint8_t log_key[TLOG_KEY_SIZE]; /* derived from key at open */
};

/* ---- errors ---- */

/* Logs what failed with SQLite's message, which names tables and columns but
 * never values, so the log holds no personal data. Quotes become apostrophes
 * to keep the line parseable. */
static void log_db(bool warn, const char *what, sqlite3 *db)
{
    char detail[256];
    size_t j = 0;
    for (const char *m = sqlite3_errmsg(db); *m && j + 1 < sizeof(detail); m++)
        detail[j++] = (char)(*m == '"' || *m == '\\' ? '\'' : *m);
    detail[j] = '\0';
    if (warn)
        log_warn("msg=\"store: %s\" error=\"%s\"", what, detail);
    else
        log_error("msg=\"store: %s\" error=\"%s\"", what, detail);
}

static void set_err(char *err, size_t errlen, const char *msg, const char *detail)
{
    if (!err || errlen == 0)
        return;
    if (detail)
        snprintf(err, errlen, "%s: %s", msg, detail);
    else
        snprintf(err, errlen, "%s", msg);
}

/* Maps an SQLite result to a store result, logging what is not an expected
 * outcome. */
static store_rc fail(conn *c, int r, const char *what)
{
    switch (r & 0xff) {
    case SQLITE_CONSTRAINT:
        if (r == SQLITE_CONSTRAINT_UNIQUE || r == SQLITE_CONSTRAINT_PRIMARYKEY)
            return STORE_DUPLICATE;
        /* The organisation, service, user or case referred to is missing. */
        if (r == SQLITE_CONSTRAINT_FOREIGNKEY)
            return STORE_NOT_FOUND;
        log_db(false, what, c->db);
        return STORE_ERROR;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
        log_db(true, what, c->db);
        return STORE_UNAVAILABLE;
    default:
        log_db(false, what, c->db);
        return STORE_ERROR;
    }
}

static store_rc out_of_memory(const char *what)
{
    log_error("msg=\"store: %s: out of memory\"", what);
    return STORE_ERROR;
}

/* ---- statements ---- */

static void list_sql(unsigned mask, char *out, size_t len)
{
    snprintf(out, len,
             CASE_SELECT "WHERE c.org_id = ?1 AND (c.opened_at, c.id) < (?9, ?2)%s%s%s%s%s "
                         "ORDER BY c.opened_at DESC, c.id DESC LIMIT ?3",
             (mask & LIST_SERVICE)
                 ? " AND c.service_id = (SELECT id FROM services WHERE org_id = ?1 AND code = ?4)"
                 : "",
             (mask & LIST_STAGE) ? " AND c.stage = ?5" : "",
             (mask & LIST_FROM) ? " AND c.opened_at >= ?6" : "",
             (mask & LIST_TO) ? " AND c.opened_at < ?7" : "",
             (mask & LIST_TEXT)
                 ? " AND (c.reference LIKE ?8 ESCAPE '\\' OR c.summary LIKE ?8 ESCAPE '\\')"
                 : "");
}

/* The connection's prepared statement number `id`, prepared on first use;
 * NULL (logged) on failure. The caller hands it back with stmt_done. */
static sqlite3_stmt *stmt(conn *c, int id)
{
    if (c->stmts[id])
        return c->stmts[id];
    char list[1024];
    const char *sql = list;
    if (id < ST_FIXED_COUNT)
        sql = fixed_sql[id];
    else
        list_sql((unsigned)(id - ST_FIXED_COUNT), list, sizeof(list));
    int r = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[id], NULL);
    if (r != SQLITE_OK) {
        log_db(false, "prepare a statement", c->db);
        c->stmts[id] = NULL;
    }
    return c->stmts[id];
}

/* Readies a statement for its next use; the bindings are cleared so that no
 * borrowed input outlives the call. */
static void stmt_done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

/* The error of a failed bind. */
static int bind_error(conn *c)
{
    int e = sqlite3_errcode(c->db);
    return e == SQLITE_OK || e == SQLITE_ROW || e == SQLITE_DONE ? SQLITE_ERROR : e;
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int bind_hash(sqlite3_stmt *st, int i, const unsigned char *h)
{
    return h ? sqlite3_bind_blob(st, i, h, 32, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* An id or time that is 0 when absent binds as NULL. */
static int bind_or_null(sqlite3_stmt *st, int i, int64_t v)
{
    return v ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows; the SQLite result. */
static int run(conn *c, int id)
{
    sqlite3_stmt *st = stmt(c, id);
    if (!st)
        return SQLITE_ERROR;
    int r = sqlite3_step(st);
    stmt_done(st);
    return r == SQLITE_DONE ? SQLITE_OK : r;
}

/* ---- reading rows into the arena ---- */

/* A text column copied into the arena; NULL for SQL NULL. Sets *oom when the
 * copy fails. */
static const char *col_text(arena *a, sqlite3_stmt *st, int i, bool *oom)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t) {
        *oom = true;
        return NULL;
    }
    char *copy = arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, i));
    if (!copy)
        *oom = true;
    return copy;
}

static void read_service(arena *a, sqlite3_stmt *st, store_service *out, bool *oom)
{
    out->id = sqlite3_column_int64(st, 0);
    out->org_id = sqlite3_column_int64(st, 1);
    out->code = col_text(a, st, 2, oom);
    out->name = col_text(a, st, 3, oom);
    out->description = col_text(a, st, 4, oom);
    out->workflow_json = col_text(a, st, 5, oom);
    out->target_days = sqlite3_column_int(st, 6);
    out->created_at = sqlite3_column_int64(st, 7);
    out->updated_at = sqlite3_column_int64(st, 8);
    out->open311_json = col_text(a, st, 9, oom);
    out->duties_json = col_text(a, st, 10, oom);
}

/* Reads a row of CASE_SELECT. */
static void read_case(arena *a, sqlite3_stmt *st, store_case *out, bool *oom)
{
    out->id = sqlite3_column_int64(st, 0);
    out->org_id = sqlite3_column_int64(st, 1);
    out->service_id = sqlite3_column_int64(st, 2);
    out->service_code = col_text(a, st, 3, oom);
    out->reference = col_text(a, st, 4, oom);
    out->stage = col_text(a, st, 5, oom);
    out->summary = col_text(a, st, 6, oom);
    const void *hash = sqlite3_column_blob(st, 7);
    if (hash && sqlite3_column_bytes(st, 7) == (int)sizeof(out->secret_hash))
        memcpy(out->secret_hash, hash, sizeof(out->secret_hash));
    out->opened_at = sqlite3_column_int64(st, 8);
    out->updated_at = sqlite3_column_int64(st, 9);
    out->closed_at = sqlite3_column_int64(st, 10);
    out->person.id = sqlite3_column_int64(st, 11);
    out->person.name = col_text(a, st, 12, oom);
    out->person.email = col_text(a, st, 13, oom);
    out->person.phone = col_text(a, st, 14, oom);
    out->person.address = col_text(a, st, 15, oom);
    out->person.postcode = col_text(a, st, 16, oom);
    out->enhanced = sqlite3_column_int(st, 17) != 0;
    out->team = col_text(a, st, 18, oom);
}

static void read_event(arena *a, sqlite3_stmt *st, store_event *out, bool *oom)
{
    out->id = sqlite3_column_int64(st, 0);
    out->case_id = sqlite3_column_int64(st, 1);
    out->type = col_text(a, st, 2, oom);
    out->from_stage = col_text(a, st, 3, oom);
    out->stage = col_text(a, st, 4, oom);
    out->body = col_text(a, st, 5, oom);
    out->rating = sqlite3_column_int(st, 6);
    out->public_ = sqlite3_column_int(st, 7) != 0;
    out->actor = col_text(a, st, 8, oom);
    out->created_at = sqlite3_column_int64(st, 9);
    out->log_index = sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 10);
}

static void read_access(arena *a, sqlite3_stmt *st, store_access *out, bool *oom)
{
    out->id = sqlite3_column_int64(st, 0);
    out->case_id = sqlite3_column_int64(st, 1);
    out->case_org_id = sqlite3_column_int64(st, 2);
    out->reader_org_id = sqlite3_column_int64(st, 3);
    out->reader_org_name = col_text(a, st, 4, oom);
    out->user_id = sqlite3_column_int64(st, 5);
    out->key_id = sqlite3_column_int64(st, 6);
    out->reader_name = col_text(a, st, 7, oom);
    out->role = col_text(a, st, 8, oom);
    out->action = col_text(a, st, 9, oom);
    out->purpose = col_text(a, st, 10, oom);
    out->at = sqlite3_column_int64(st, 11);
    out->log_index = sqlite3_column_type(st, 12) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 12);
}

/* Makes room for one more element in an arena array of *cap elements. */
static bool grow(arena *a, void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *bigger = arena_calloc(a, ncap, size);
    if (!bigger)
        return false;
    if (n)
        memcpy(bigger, *arr, n * size);
    *arr = bigger;
    *cap = ncap;
    return true;
}

/* ---- the pool ---- */

static conn *pool_take(sq_store *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->nidle == 0)
        pthread_cond_wait(&s->cv, &s->mu);
    conn *c = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->mu);
    return c;
}

static void pool_give(sq_store *s, conn *c)
{
    /* A connection goes back with no transaction open, whatever happened. */
    if (!sqlite3_get_autocommit(c->db) &&
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        log_db(false, "rollback", c->db);
    pthread_mutex_lock(&s->mu);
    s->idle[s->nidle++] = c;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Waits for another process's lock to go, a little longer each time, until
 * BUSY_TIMEOUT_MS have passed since the wait began. */
static int busy_wait(void *arg, int count)
{
    conn *c = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (count == 0)
        c->busy_since = now;
    int64_t waited_ms = (int64_t)(now.tv_sec - c->busy_since.tv_sec) * 1000 +
                        (now.tv_nsec - c->busy_since.tv_nsec) / 1000000;
    if (waited_ms >= BUSY_TIMEOUT_MS)
        return 0;
    long us = count < 10 ? 50 : count < 50 ? 500 : 5000;
    struct timespec pause = {0, us * 1000};
    nanosleep(&pause, NULL);
    return 1;
}

/* ---- group commit ---- */

/* Runs a job in a savepoint of its own, so that its failure undoes its own
 * changes and nobody else's. A job alone in its transaction needs none: its
 * failure rolls the transaction back. Sets *broken when the transaction may
 * now hold part of a failed job, or is gone, and so must not be committed. */
static store_rc job_run(conn *c, write_job *j, bool alone, bool *broken)
{
    if (alone)
        return j->fn(c, j->arg);
    int r = run(c, ST_SAVEPOINT);
    if (r != SQLITE_OK)
        return fail(c, r, "open a savepoint");
    store_rc rc = j->fn(c, j->arg);
    if (rc == STORE_OK) {
        r = run(c, ST_RELEASE);
        if (r == SQLITE_OK)
            return STORE_OK;
        rc = fail(c, r, "release a savepoint");
    }
    /* ROLLBACK TO keeps the savepoint open; RELEASE then closes it. An error
     * that made SQLite roll back the whole transaction lands here too, as
     * the savepoint no longer exists. */
    r = run(c, ST_ROLLBACK_TO);
    if (r == SQLITE_OK)
        r = run(c, ST_RELEASE);
    if (r != SQLITE_OK) {
        fail(c, r, "roll back a savepoint");
        *broken = true;
    }
    return rc;
}

/* Runs a batch of jobs in one transaction on a pooled connection and sets
 * each job's rc. The transaction commits when any job succeeded, so the batch
 * costs one fsync; when the transaction fails as a whole (BEGIN, COMMIT, or
 * an error that undid it), every job gets that failure and nothing of the
 * batch is written. */
static void batch_run(sq_store *s, write_job *batch)
{
    conn *c = pool_take(s);
    store_rc batch_rc = STORE_OK;
    bool broken = false, any_ok = false;
    int r = run(c, ST_BEGIN);
    if (r != SQLITE_OK)
        batch_rc = fail(c, r, "begin a write");
    for (write_job *j = batch; j && batch_rc == STORE_OK; j = j->next) {
        j->rc = job_run(c, j, j->alone || !batch->next, &broken);
        if (broken || sqlite3_get_autocommit(c->db)) {
            log_error("msg=\"store: a write batch was rolled back\"");
            batch_rc = j->rc != STORE_OK ? j->rc : STORE_ERROR;
        }
        any_ok = any_ok || j->rc == STORE_OK;
    }
    if (batch_rc == STORE_OK && any_ok) {
        r = run(c, ST_COMMIT);
        if (r != SQLITE_OK)
            batch_rc = fail(c, r, "commit");
    }
    if (batch_rc != STORE_OK)
        for (write_job *j = batch; j; j = j->next)
            j->rc = batch_rc;
    /* Nothing to keep, or a failed COMMIT: no fsync for a rollback. */
    if (!sqlite3_get_autocommit(c->db)) {
        r = run(c, ST_ROLLBACK);
        if (r != SQLITE_OK)
            fail(c, r, "roll back");
    }
    pool_give(s, c);
}

/* Detaches the next batch from the head of the queue: up to BATCH_MAX jobs,
 * or one job that must be alone; a batch stops before such a job. Called
 * with write_mu held. */
static write_job *batch_take(sq_store *s)
{
    write_job *first = s->queue, *last = first;
    first->taken = true;
    for (int n = 1; !first->alone && n < BATCH_MAX && last->next && !last->next->alone; n++) {
        last = last->next;
        last->taken = true;
    }
    s->queue = last->next;
    if (!s->queue)
        s->queue_tail = NULL;
    last->next = NULL;
    return first;
}

/* Wakes the batch's callers and names the queue's head, if any, to lead the
 * next batch. Called with write_mu held, so no caller returns (and takes its
 * job off the stack) before the mutex is released. */
static void batch_finish(sq_store *s, write_job *batch)
{
    for (write_job *j = batch, *next; j; j = next) {
        next = j->next;
        j->done = true;
        pthread_cond_signal(&j->cv);
    }
    if (s->queue) {
        s->queue->lead = true;
        pthread_cond_signal(&s->queue->cv);
    } else {
        s->leading = false;
    }
}

/* Queues a job; with no batch running, its caller leads at once rather than
 * wait for company. Called with write_mu held. */
static void queue_push(sq_store *s, write_job *job)
{
    if (s->queue_tail)
        s->queue_tail->next = job;
    else
        s->queue = job;
    s->queue_tail = job;
    if (!s->leading) {
        s->leading = true;
        job->lead = true;
    }
}

static void queue_remove(sq_store *s, write_job *job)
{
    write_job *prev = NULL;
    for (write_job *j = s->queue; j != job; j = j->next)
        prev = j;
    if (prev)
        prev->next = job->next;
    else
        s->queue = job->next;
    if (s->queue_tail == job)
        s->queue_tail = prev;
}

/* Runs fn(connection, arg) as a write, alone in its transaction or sharing it
 * with the writes queued alongside, and returns its result once that
 * transaction has committed or failed. The caller holds no pooled connection,
 * since it may have to lead. A writer still queued after the busy timeout
 * gives up with STORE_UNAVAILABLE, as one waiting for the file's lock does. */
static store_rc write_submit(sq_store *s, write_fn fn, void *arg, bool alone)
{
    write_job job = {.fn = fn, .arg = arg, .alone = alone, .rc = STORE_ERROR};
    int e = pthread_cond_init(&job.cv, &s->write_cv_attr);
    if (e != 0) {
        log_error("msg=\"store: cannot queue a write\" error=\"%s\"", strerror(e));
        return STORE_ERROR;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += BUSY_TIMEOUT_MS / 1000;

    pthread_mutex_lock(&s->write_mu);
    queue_push(s, &job);
    while (!job.done && !job.lead) {
        if (job.taken) {
            pthread_cond_wait(&job.cv, &s->write_mu);
            continue;
        }
        e = pthread_cond_timedwait(&job.cv, &s->write_mu, &until);
        if (e == ETIMEDOUT && !job.done && !job.lead && !job.taken) {
            queue_remove(s, &job);
            log_warn("msg=\"store: waiting to write\" error=\"%s\"", strerror(e));
            job.rc = STORE_UNAVAILABLE;
            job.done = true;
        }
    }
    if (!job.done) {
        /* A leader's job heads the queue, so its batch includes it. */
        write_job *batch = batch_take(s);
        pthread_mutex_unlock(&s->write_mu);
        batch_run(s, batch);
        pthread_mutex_lock(&s->write_mu);
        batch_finish(s, batch);
    }
    store_rc rc = job.rc;
    pthread_mutex_unlock(&s->write_mu);
    pthread_cond_destroy(&job.cv);
    return rc;
}

/* A write that shares its transaction (and fsync) with concurrent ones. */
static store_rc write_run(sq_store *s, write_fn fn, void *arg)
{
    return write_submit(s, fn, arg, false);
}

/* Steps a write statement whose binding returned `bound` (non-zero: failed)
 * and readies it again. Sets *id to the new row's id and *changes to the
 * number of rows changed, when they are not NULL. */
static store_rc write_step(conn *c, sqlite3_stmt *st, int bound, const char *what, int64_t *id,
                           int *changes)
{
    int r = bound ? bind_error(c) : sqlite3_step(st);
    store_rc rc = STORE_OK;
    if (r != SQLITE_DONE) {
        rc = fail(c, r, what);
    } else {
        if (id)
            *id = sqlite3_last_insert_rowid(c->db);
        if (changes)
            *changes = sqlite3_changes(c->db);
    }
    stmt_done(st);
    return rc;
}

/* ---- opening ---- */

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen, const char *what)
{
    int r = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (r != SQLITE_OK)
        set_err(err, errlen, what, sqlite3_errmsg(db));
    return r;
}

static store_rc conn_open(conn *c, const char *path, bool readonly, char *err, size_t errlen)
{
    int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
    int r = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (r != SQLITE_OK) {
        set_err(err, errlen, "cannot open the database",
                c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(r));
        return STORE_UNAVAILABLE;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_handler(c->db, busy_wait, c);
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA cache_size = -%d;"
             " PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = %d;"
             " PRAGMA mmap_size = %lld;",
             CACHE_KIB, 64 * 1024 * 1024, MMAP_BYTES);
    if (exec_sql(c->db, pragmas, err, errlen, "cannot configure the database") != SQLITE_OK)
        return STORE_ERROR;
    return STORE_OK;
}

/* Switches the file to WAL; the mode is kept in the file. */
static store_rc use_wal(conn *c, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    store_rc rc = STORE_ERROR;
    int r = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r != SQLITE_ROW) {
        set_err(err, errlen, "cannot use WAL mode", sqlite3_errmsg(c->db));
        rc = (r & 0xff) == SQLITE_BUSY ? STORE_UNAVAILABLE : STORE_ERROR;
        goto out;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || strcmp(mode, "wal") != 0) {
        set_err(err, errlen, "cannot use WAL mode", "the database refused it");
        goto out;
    }
    rc = STORE_OK;
out:
    sqlite3_finalize(st);
    return rc;
}

static int read_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                               &st, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *version = sqlite3_column_int(st, 0);
        r = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return r;
}

/* Applies the embedded migrations the database lacks, each in its own
 * transaction. Another instance may be migrating at the same moment, so the
 * version is read again under the write lock. */
static store_rc migrate(conn *c, int *version, char *err, size_t errlen)
{
    int latest = (int)embedded_sqlite_migrations_count;
    for (;;) {
        int r = exec_sql(c->db,
                         "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;",
                         err, errlen, "cannot start migrating");
        if (r != SQLITE_OK)
            return (r & 0xff) == SQLITE_BUSY ? STORE_UNAVAILABLE : STORE_ERROR;
        r = read_version(c->db, version);
        if (r != SQLITE_OK) {
            set_err(err, errlen, "cannot read the schema version", sqlite3_errmsg(c->db));
            goto fail;
        }
        if (*version > latest) {
            char msg[128];
            snprintf(msg, sizeof(msg), "the database has schema %d, newer than this build's %d",
                     *version, latest);
            set_err(err, errlen, msg, NULL);
            goto fail;
        }
        if (*version == latest)
            break;
        int next = *version + 1;
        char msg[64];
        snprintf(msg, sizeof(msg), "migration %04d failed", next);
        if (exec_sql(c->db, embedded_sqlite_migrations[next - 1], err, errlen, msg) != SQLITE_OK)
            goto fail;
        char record[128];
        snprintf(record, sizeof(record),
                 "INSERT INTO schema_migrations (version, applied_at) VALUES (%d, %lld)", next,
                 (long long)time(NULL));
        if (exec_sql(c->db, record, err, errlen, msg) != SQLITE_OK)
            goto fail;
        if (exec_sql(c->db, "COMMIT", err, errlen, msg) != SQLITE_OK)
            goto fail;
    }
    if (exec_sql(c->db, "COMMIT", err, errlen, "cannot finish migrating") != SQLITE_OK)
        goto fail;
    return STORE_OK;
fail:
    if (!sqlite3_get_autocommit(c->db) &&
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        log_db(false, "rollback a migration", c->db);
    return STORE_ERROR;
}

/* The SQLite file name in a store URI, or NULL (err set) when it names none. */
static const char *sqlite_path(const char *uri, char *err, size_t errlen)
{
    if (strncmp(uri, "sqlite://", 9) == 0)
        uri += 9;
    else if (strncmp(uri, "sqlite:", 7) == 0)
        uri += 7;
    if (*uri == '\0') {
        set_err(err, errlen, "no database file named", NULL);
        return NULL;
    }
    return uri;
}

/* Memory statistics take a global mutex on every allocation of every
 * connection; with more threads than cores, a holder that is preempted
 * stalls them all. Nothing here reads the statistics, so they are off. */
static void sqlite_configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void sqlite_close(void *impl);
static store_rc sqlite_secret_key(void *impl, unsigned char key[32]);
static store_rc log_key_load(sq_store *s);

/* A store with room for pool_size connections, none open; NULL when out of
 * memory. */
static sq_store *sq_alloc(int pool_size)
{
    sq_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->conns = calloc((size_t)pool_size, sizeof(*s->conns));
    s->idle = calloc((size_t)pool_size, sizeof(conn *));
    if (!s->conns || !s->idle) {
        free(s->conns);
        free(s->idle);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->write_mu, NULL);
    /* Writers time out on the monotonic clock, which a clock change cannot
     * stretch or cut short. */
    pthread_condattr_init(&s->write_cv_attr);
    pthread_condattr_setclock(&s->write_cv_attr, CLOCK_MONOTONIC);
    return s;
}

static store_rc sqlite_open(const char *uri, int pool_size, void **out, char *err, size_t errlen)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once(&configured, sqlite_configure);
    *out = NULL;
    set_err(err, errlen, "", NULL);
    if (!uri) {
        set_err(err, errlen, "no database named", NULL);
        return STORE_ERROR;
    }
    const char *path = sqlite_path(uri, err, errlen);
    if (!path)
        return STORE_ERROR;
    if (pool_size < 1 || pool_size > 1024) {
        set_err(err, errlen, "the pool size must be 1 to 1024", NULL);
        return STORE_ERROR;
    }
    if (!sqlite3_threadsafe()) {
        set_err(err, errlen, "this SQLite library was built without thread support", NULL);
        return STORE_ERROR;
    }

    sq_store *s = sq_alloc(pool_size);
    if (!s) {
        set_err(err, errlen, "out of memory", NULL);
        return STORE_ERROR;
    }
    store_rc rc = STORE_OK;
    for (int i = 0; i < pool_size && rc == STORE_OK; i++) {
        s->nconns = i + 1;
        rc = conn_open(&s->conns[i], path, false, err, errlen);
        /* The first connection sets the file up before the others join. */
        if (rc == STORE_OK && i == 0)
            rc = use_wal(&s->conns[0], err, errlen);
        if (rc == STORE_OK && i == 0)
            rc = migrate(&s->conns[0], &s->version, err, errlen);
        if (rc == STORE_OK)
            s->idle[s->nidle++] = &s->conns[i];
    }
    /* Every write may append to the public log, whose pseudonyms need the
     * deployment's key: made now, before any write needs it. */
    if (rc == STORE_OK && (rc = log_key_load(s)) != STORE_OK)
        set_err(err, errlen, "cannot read or create the deployment's secret key", NULL);
    if (rc != STORE_OK) {
        sqlite_close(s);
        return rc;
    }
    *out = s;
    return STORE_OK;
}

static void sqlite_close(void *impl)
{
    sq_store *s = impl;
    if (!s)
        return;
    for (int i = 0; i < s->nconns; i++) {
        conn *c = &s->conns[i];
        for (int j = 0; j < ST_COUNT; j++)
            sqlite3_finalize(c->stmts[j]);
        for (int j = 0; j < APPEAL_STATEMENTS; j++)
            sqlite3_finalize(c->appeal_stmts[j]);
        /* Keeps the planner's statistics fresh; failing it costs nothing. */
        if (i == 0 && c->db)
            (void)sqlite3_exec(c->db, "PRAGMA optimize", NULL, NULL, NULL);
        if (sqlite3_close(c->db) != SQLITE_OK)
            log_db(false, "close", c->db);
    }
    pthread_condattr_destroy(&s->write_cv_attr);
    pthread_mutex_destroy(&s->write_mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    sodium_memzero(s->key, sizeof(s->key));
    free(s->idle);
    free(s->conns);
    free(s);
}

/* One read-only connection; the file is neither created nor migrated, so a
 * running server's database is left as it is. */
static store_rc sqlite_open_readonly(const char *uri, void **out, char *err, size_t errlen)
{
    *out = NULL;
    set_err(err, errlen, "", NULL);
    const char *path = uri ? sqlite_path(uri, err, errlen) : NULL;
    if (!path) {
        if (!uri)
            set_err(err, errlen, "no database named", NULL);
        return STORE_ERROR;
    }
    sq_store *s = sq_alloc(1);
    if (!s) {
        set_err(err, errlen, "out of memory", NULL);
        return STORE_ERROR;
    }
    s->nconns = 1;
    store_rc rc = conn_open(&s->conns[0], path, true, err, errlen);
    if (rc == STORE_OK && read_version(s->conns[0].db, &s->version) != SQLITE_OK) {
        set_err(err, errlen, "not an opencase database", sqlite3_errmsg(s->conns[0].db));
        rc = STORE_ERROR;
    }
    if (rc == STORE_OK && s->version != (int)embedded_sqlite_migrations_count) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "the database has schema %d, but this build reads only schema %d: open it once"
                 " with a server of this build first",
                 s->version, (int)embedded_sqlite_migrations_count);
        set_err(err, errlen, msg, NULL);
        rc = STORE_ERROR;
    }
    if (rc != STORE_OK) {
        sqlite_close(s);
        return rc;
    }
    s->idle[s->nidle++] = &s->conns[0];
    *out = s;
    return STORE_OK;
}

static int sqlite_schema_version(void *impl)
{
    sq_store *s = impl;
    return s->version;
}

/* ---- the secret key ---- */

typedef struct secret_write {
    const unsigned char *fresh;
    unsigned char key[32];
} secret_write;

/* Whoever inserts first wins; everyone then reads the same key. */
static store_rc secret_key_job(conn *c, void *arg)
{
    secret_write *w = arg;
    sqlite3_stmt *st = stmt(c, ST_SETTING_INSERT);
    int r = st ? SQLITE_OK : SQLITE_ERROR;
    if (r == SQLITE_OK && (bind_text(st, 1, "secret_key") || bind_hash(st, 2, w->fresh)))
        r = bind_error(c);
    if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_DONE)
        r = SQLITE_OK;
    store_rc rc = r == SQLITE_OK ? STORE_OK : fail(c, r, "create the secret key");
    stmt_done(st);
    if (rc != STORE_OK)
        return rc;
    st = stmt(c, ST_SETTING_GET);
    r = st ? bind_text(st, 1, "secret_key") : SQLITE_ERROR;
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        rc = fail(c, r, "read the secret key");
    } else if (r == SQLITE_DONE || sqlite3_column_bytes(st, 0) != 32 ||
               !sqlite3_column_blob(st, 0)) {
        log_error("msg=\"store: the stored secret key is missing or not 32 bytes\"");
        rc = STORE_ERROR;
    } else {
        memcpy(w->key, sqlite3_column_blob(st, 0), 32);
    }
    stmt_done(st);
    return rc;
}

static store_rc sqlite_secret_key(void *impl, unsigned char key[32])
{
    sq_store *s = impl;
    pthread_mutex_lock(&s->mu);
    bool have = s->have_key;
    if (have)
        memcpy(key, s->key, 32);
    pthread_mutex_unlock(&s->mu);
    if (have)
        return STORE_OK;

    unsigned char fresh[32];
    randombytes_buf(fresh, sizeof(fresh));
    secret_write w = {.fresh = fresh};
    store_rc rc = write_run(s, secret_key_job, &w);
    if (rc == STORE_OK) {
        pthread_mutex_lock(&s->mu);
        memcpy(s->key, w.key, 32);
        s->have_key = true;
        memcpy(key, s->key, 32);
        pthread_mutex_unlock(&s->mu);
    } else {
        sodium_memzero(key, 32);
    }
    sodium_memzero(fresh, sizeof(fresh));
    sodium_memzero(w.key, sizeof(w.key));
    return rc;
}

/* ---- organisations ---- */

typedef struct org_write {
    const char *slug;
    const char *name;
    int64_t id;
} org_write;

static store_rc org_create_job(conn *c, void *arg)
{
    org_write *w = arg;
    sqlite3_stmt *st = stmt(c, ST_ORG_INSERT);
    if (!st)
        return STORE_ERROR;
    int bound = bind_text(st, 1, w->slug) || bind_text(st, 2, w->name);
    return write_step(c, st, bound, "create an organisation", &w->id, NULL);
}

static store_rc sqlite_org_create(void *impl, const char *slug, const char *name, int64_t *id)
{
    sq_store *s = impl;
    org_write w = {.slug = slug, .name = name};
    store_rc rc = write_run(s, org_create_job, &w);
    *id = rc == STORE_OK ? w.id : 0;
    return rc;
}

static store_rc org_get(sq_store *s, arena *a, int which, const char *slug, int64_t id,
                        store_org *out)
{
    memset(out, 0, sizeof(*out));
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, which);
    if (!st)
        goto out;
    int r = which == ST_ORG_BY_SLUG ? bind_text(st, 1, slug) : sqlite3_bind_int64(st, 1, id);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        bool oom = false;
        out->id = sqlite3_column_int64(st, 0);
        out->slug = col_text(a, st, 1, &oom);
        out->name = col_text(a, st, 2, &oom);
        rc = oom ? out_of_memory("read an organisation") : STORE_OK;
    } else {
        rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read an organisation");
    }
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc sqlite_org_by_slug(void *impl, arena *a, const char *slug, store_org *out)
{
    sq_store *s = impl;
    return org_get(s, a, ST_ORG_BY_SLUG, slug, 0, out);
}

static store_rc sqlite_org_by_id(void *impl, arena *a, int64_t id, store_org *out)
{
    sq_store *s = impl;
    return org_get(s, a, ST_ORG_BY_ID, NULL, id, out);
}

/* ---- services ---- */

static int64_t now_or(int64_t t)
{
    return t > 0 ? t : (int64_t)time(NULL);
}

/* A service to create or update, with the time to stamp it with. */
typedef struct service_write {
    const store_service *svc;
    int64_t now;
    int64_t id;
} service_write;

static int bind_service(sqlite3_stmt *st, const service_write *w)
{
    const store_service *svc = w->svc;
    return sqlite3_bind_int64(st, 1, svc->org_id) || bind_text(st, 2, svc->code) ||
           bind_text(st, 3, svc->name) || bind_text(st, 4, svc->description) ||
           bind_text(st, 5, svc->workflow_json) || sqlite3_bind_int(st, 6, svc->target_days) ||
           sqlite3_bind_int64(st, 7, w->now) || bind_text(st, 9, svc->open311_json) ||
           bind_text(st, 10, svc->duties_json ? svc->duties_json : "[]");
}

static store_rc service_create_job(conn *c, void *arg)
{
    service_write *w = arg;
    sqlite3_stmt *st = stmt(c, ST_SERVICE_INSERT);
    if (!st)
        return STORE_ERROR;
    int bound = bind_service(st, w) || sqlite3_bind_int64(st, 8, w->now);
    return write_step(c, st, bound, "create a service", &w->id, NULL);
}

static store_rc sqlite_service_create(void *impl, store_service *svc)
{
    sq_store *s = impl;
    service_write w = {.svc = svc, .now = now_or(svc->created_at)};
    store_rc rc = write_run(s, service_create_job, &w);
    if (rc == STORE_OK) {
        svc->id = w.id;
        svc->created_at = w.now;
        svc->updated_at = w.now;
    }
    return rc;
}

static store_rc service_update_job(conn *c, void *arg)
{
    service_write *w = arg;
    sqlite3_stmt *st = stmt(c, ST_SERVICE_UPDATE);
    if (!st)
        return STORE_ERROR;
    int changes = 0;
    store_rc rc = write_step(c, st, bind_service(st, w), "update a service", NULL, &changes);
    return rc == STORE_OK && changes == 0 ? STORE_NOT_FOUND : rc;
}

static store_rc sqlite_service_update(void *impl, const store_service *svc)
{
    sq_store *s = impl;
    service_write w = {.svc = svc, .now = now_or(svc->updated_at)};
    return write_run(s, service_update_job, &w);
}

static store_rc service_get(sq_store *s, arena *a, int which, int64_t key, const char *code,
                            store_service *out)
{
    memset(out, 0, sizeof(*out));
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, which);
    if (!st)
        goto out;
    int r = sqlite3_bind_int64(st, 1, key);
    if (r == SQLITE_OK && which == ST_SERVICE_GET)
        r = bind_text(st, 2, code);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        bool oom = false;
        read_service(a, st, out, &oom);
        rc = oom ? out_of_memory("read a service") : STORE_OK;
    } else {
        rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read a service");
    }
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc sqlite_service_get(void *impl, arena *a, int64_t org_id, const char *code,
                                   store_service *out)
{
    sq_store *s = impl;
    return service_get(s, a, ST_SERVICE_GET, org_id, code, out);
}

static store_rc sqlite_service_by_id(void *impl, arena *a, int64_t id, store_service *out)
{
    sq_store *s = impl;
    return service_get(s, a, ST_SERVICE_BY_ID, id, NULL, out);
}

static store_rc sqlite_service_list(void *impl, arena *a, int64_t org_id, store_service **out,
                                    size_t *n)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    store_service *arr = NULL;
    size_t cap = 0, count = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_SERVICE_LIST);
    if (!st)
        goto out;
    int r = sqlite3_bind_int64(st, 1, org_id);
    bool oom = false;
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        read_service(a, st, &arr[count++], &oom);
        if (oom)
            break;
        r = SQLITE_OK;
    }
    if (oom)
        rc = out_of_memory("list services");
    else if (r != SQLITE_DONE)
        rc = fail(c, r, "list services");
    else
        rc = STORE_OK;
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return rc;
}

/* ---- staff, sessions and keys ---- */

typedef struct user_write {
    const store_user *u;
    int64_t id;
} user_write;

static store_rc user_create_job(conn *c, void *arg)
{
    user_write *w = arg;
    sqlite3_stmt *st = stmt(c, ST_USER_INSERT);
    if (!st)
        return STORE_ERROR;
    int bound = sqlite3_bind_int64(st, 1, w->u->org_id) || bind_text(st, 2, w->u->email) ||
                bind_text(st, 3, w->u->name) || bind_text(st, 4, w->u->role) ||
                bind_text(st, 5, w->u->password_hash);
    return write_step(c, st, bound, "create a user", &w->id, NULL);
}

static store_rc sqlite_user_create(void *impl, store_user *u)
{
    sq_store *s = impl;
    user_write w = {.u = u};
    store_rc rc = write_run(s, user_create_job, &w);
    if (rc == STORE_OK)
        u->id = w.id;
    return rc;
}

/* The columns of the ST_USER_* statements. */
static void read_user(arena *a, sqlite3_stmt *st, store_user *out, bool *oom)
{
    out->id = sqlite3_column_int64(st, 0);
    out->org_id = sqlite3_column_int64(st, 1);
    out->email = col_text(a, st, 2, oom);
    out->name = col_text(a, st, 3, oom);
    out->role = col_text(a, st, 4, oom);
    out->password_hash = col_text(a, st, 5, oom);
}

/* One user by statement `which`, bound to (key, or org_id and id). */
static store_rc user_one(sq_store *s, arena *a, int which, const char *email, int64_t org_id,
                         int64_t id, store_user *out)
{
    memset(out, 0, sizeof(*out));
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, which);
    if (!st)
        goto out;
    int r = which == ST_USER_BY_EMAIL ? bind_text(st, 1, email)
            : sqlite3_bind_int64(st, 1, org_id) || sqlite3_bind_int64(st, 2, id) ? bind_error(c)
                                                                                 : SQLITE_OK;
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        bool oom = false;
        read_user(a, st, out, &oom);
        rc = oom ? out_of_memory("read a user") : STORE_OK;
    } else {
        rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read a user");
    }
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc sqlite_user_by_email(void *impl, arena *a, const char *email, store_user *out)
{
    return user_one(impl, a, ST_USER_BY_EMAIL, email, 0, 0, out);
}

static store_rc sqlite_user_get(void *impl, arena *a, int64_t org_id, int64_t id, store_user *out)
{
    return user_one(impl, a, ST_USER_GET, NULL, org_id, id, out);
}

static store_rc sqlite_user_list(void *impl, arena *a, int64_t org_id, const char *role,
                                 store_user **out, size_t *n)
{
    sq_store *s = impl;
    store_user *arr = NULL;
    size_t cap = 0, count = 0;
    bool oom = false;
    *out = NULL;
    *n = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_USER_LIST);
    if (!st)
        goto out;
    int r = sqlite3_bind_int64(st, 1, org_id) || bind_text(st, 2, role) ? bind_error(c) : SQLITE_OK;
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        read_user(a, st, &arr[count++], &oom);
        if (oom)
            break;
        r = SQLITE_OK;
    }
    rc = oom ? out_of_memory("list users") : r != SQLITE_DONE ? fail(c, r, "list users") : STORE_OK;
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
out:
    stmt_done(st);
    pool_give(s, c);
    return rc;
}

typedef struct session_write {
    const unsigned char *hash;
    int64_t user_id;
    int64_t expires_at;
    int64_t now;
} session_write;

static store_rc session_create_job(conn *c, void *arg)
{
    session_write *w = arg;
    /* Expired sessions are swept here, where the table is written anyway. */
    sqlite3_stmt *purge = stmt(c, ST_SESSION_PURGE);
    if (!purge)
        return STORE_ERROR;
    store_rc rc = write_step(c, purge, sqlite3_bind_int64(purge, 1, w->now),
                             "purge expired sessions", NULL, NULL);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = stmt(c, ST_SESSION_INSERT);
    if (!st)
        return STORE_ERROR;
    int bound = bind_hash(st, 1, w->hash) || sqlite3_bind_int64(st, 2, w->user_id) ||
                sqlite3_bind_int64(st, 3, w->expires_at);
    return write_step(c, st, bound, "create a session", NULL, NULL);
}

static store_rc sqlite_session_create(void *impl, const unsigned char hash[32], int64_t user_id,
                                      int64_t expires_at)
{
    sq_store *s = impl;
    session_write w = {
        .hash = hash, .user_id = user_id, .expires_at = expires_at, .now = (int64_t)time(NULL)};
    return write_run(s, session_create_job, &w);
}

/* Reads a principal row: org_id, user or key id, role, name. */
static store_rc principal_get(sq_store *s, arena *a, int which, const unsigned char hash[32],
                              int64_t now, store_principal *out)
{
    memset(out, 0, sizeof(*out));
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, which);
    if (!st)
        goto out;
    int r = bind_hash(st, 1, hash);
    if (r == SQLITE_OK && which == ST_SESSION_GET)
        r = sqlite3_bind_int64(st, 2, now);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        bool oom = false;
        out->org_id = sqlite3_column_int64(st, 0);
        if (which == ST_SESSION_GET)
            out->user_id = sqlite3_column_int64(st, 1);
        else
            out->key_id = sqlite3_column_int64(st, 1);
        out->role = col_text(a, st, 2, &oom);
        out->name = col_text(a, st, 3, &oom);
        rc = oom ? out_of_memory("read a principal") : STORE_OK;
    } else {
        rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read a principal");
    }
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc sqlite_session_get(void *impl, arena *a, const unsigned char hash[32], int64_t now,
                                   store_principal *out)
{
    sq_store *s = impl;
    return principal_get(s, a, ST_SESSION_GET, hash, now, out);
}

static store_rc session_delete_job(conn *c, void *arg)
{
    session_write *w = arg;
    sqlite3_stmt *st = stmt(c, ST_SESSION_DELETE);
    if (!st)
        return STORE_ERROR;
    int changes = 0;
    store_rc rc = write_step(c, st, bind_hash(st, 1, w->hash), "delete a session", NULL, &changes);
    return rc == STORE_OK && changes == 0 ? STORE_NOT_FOUND : rc;
}

static store_rc sqlite_session_delete(void *impl, const unsigned char hash[32])
{
    sq_store *s = impl;
    session_write w = {.hash = hash};
    return write_run(s, session_delete_job, &w);
}

typedef struct key_write {
    int64_t org_id;
    const char *label;
    const char *role;
    const unsigned char *hash;
    int64_t id;
} key_write;

static store_rc key_create_job(conn *c, void *arg)
{
    key_write *w = arg;
    sqlite3_stmt *st = stmt(c, ST_KEY_INSERT);
    if (!st)
        return STORE_ERROR;
    int bound = sqlite3_bind_int64(st, 1, w->org_id) || bind_text(st, 2, w->label) ||
                bind_text(st, 3, w->role) || bind_hash(st, 4, w->hash);
    return write_step(c, st, bound, "create an API key", &w->id, NULL);
}

static store_rc sqlite_key_create(void *impl, int64_t org_id, const char *label, const char *role,
                                  const unsigned char hash[32], int64_t *id)
{
    sq_store *s = impl;
    key_write w = {.org_id = org_id, .label = label, .role = role, .hash = hash};
    store_rc rc = write_run(s, key_create_job, &w);
    *id = rc == STORE_OK ? w.id : 0;
    return rc;
}

static store_rc sqlite_key_get(void *impl, arena *a, const unsigned char hash[32],
                               store_principal *out)
{
    sq_store *s = impl;
    return principal_get(s, a, ST_KEY_GET, hash, 0, out);
}

static store_rc sqlite_key_list(void *impl, arena *a, int64_t org_id, store_key **out, size_t *n)
{
    sq_store *s = impl;
    store_key *arr = NULL;
    size_t cap = 0, count = 0;
    bool oom = false;
    *out = NULL;
    *n = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_KEY_LIST);
    if (!st)
        goto out;
    int r = sqlite3_bind_int64(st, 1, org_id) ? bind_error(c) : SQLITE_OK;
    while (r == SQLITE_OK && !oom && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        store_key *k = &arr[count++];
        k->id = sqlite3_column_int64(st, 0);
        k->label = col_text(a, st, 1, &oom);
        k->role = col_text(a, st, 2, &oom);
        k->created_at = sqlite3_column_int64(st, 3);
        k->revoked_at = sqlite3_column_int64(st, 4);
        r = SQLITE_OK;
    }
    rc = oom                ? out_of_memory("list API keys")
         : r != SQLITE_DONE ? fail(c, r, "list API keys")
                            : STORE_OK;
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
out:
    stmt_done(st);
    pool_give(s, c);
    return rc;
}

typedef struct key_revocation {
    int64_t org_id;
    int64_t id;
    int64_t at;
    int changed;
} key_revocation;

static store_rc key_revoke_job(conn *c, void *arg)
{
    key_revocation *w = arg;
    sqlite3_stmt *st = stmt(c, ST_KEY_REVOKE);
    if (!st)
        return STORE_ERROR;
    int bound = sqlite3_bind_int64(st, 1, w->org_id) || sqlite3_bind_int64(st, 2, w->id) ||
                sqlite3_bind_int64(st, 3, w->at);
    return write_step(c, st, bound, "revoke an API key", NULL, &w->changed);
}

static store_rc sqlite_key_revoke(void *impl, int64_t org_id, int64_t id, int64_t at)
{
    key_revocation w = {.org_id = org_id, .id = id, .at = at};
    store_rc rc = write_run(impl, key_revoke_job, &w);
    return rc == STORE_OK && w.changed == 0 ? STORE_NOT_FOUND : rc;
}

/* ---- cases ---- */

/* The public log's entries for an event and an access, in the caller's
 * transaction (defined with the log, at the end of this file). */
static store_rc log_event(conn *c, int64_t case_id, const store_event *ev, int64_t event_id,
                          int64_t *logged);
static store_rc log_access(conn *c, int64_t case_id, const store_access *acc, int64_t access_id);
/* Update duties, written in the transactions of the cases' events. */
static store_rc duties_open(conn *c, int64_t case_id, int64_t event_id, int64_t at,
                            const store_duty_new *duties, size_t n);
static store_rc duties_on_event(conn *c, int64_t case_id, const store_event *ev, int64_t event_id,
                                const store_duty_new *duties, size_t n);

/* Inserts the person, if any field is given; *person_id is 0 otherwise. */
static int insert_person(conn *c, const store_person *p, int64_t *person_id)
{
    *person_id = 0;
    if (!p->name && !p->email && !p->phone && !p->address && !p->postcode)
        return SQLITE_OK;
    sqlite3_stmt *st = stmt(c, ST_PERSON_INSERT);
    if (!st)
        return SQLITE_ERROR;
    int r = SQLITE_OK;
    if (bind_text(st, 1, p->name) || bind_text(st, 2, p->email) || bind_text(st, 3, p->phone) ||
        bind_text(st, 4, p->address) || bind_text(st, 5, p->postcode))
        r = bind_error(c);
    if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_DONE) {
        r = SQLITE_OK;
        *person_id = sqlite3_last_insert_rowid(c->db);
    }
    stmt_done(st);
    return r;
}

static int insert_case(conn *c, const store_case_new *in, int64_t person_id, int64_t updated_at,
                       int64_t closed_at, int64_t *case_id)
{
    sqlite3_stmt *st = stmt(c, ST_CASE_INSERT);
    if (!st)
        return SQLITE_ERROR;
    int r = SQLITE_OK;
    if (sqlite3_bind_int64(st, 1, in->org_id) || sqlite3_bind_int64(st, 2, in->service_id) ||
        bind_text(st, 3, in->reference) || bind_text(st, 4, in->stage) ||
        bind_text(st, 5, in->summary) || bind_hash(st, 6, in->secret_hash) ||
        bind_or_null(st, 7, person_id) || sqlite3_bind_int64(st, 8, in->now) ||
        sqlite3_bind_int64(st, 9, updated_at) || bind_or_null(st, 10, closed_at) ||
        bind_text(st, 11, in->idempotency_key) || sqlite3_bind_int(st, 12, in->enhanced ? 1 : 0) ||
        bind_text(st, 13, in->team))
        r = bind_error(c);
    if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_DONE) {
        r = SQLITE_OK;
        *case_id = sqlite3_last_insert_rowid(c->db);
    }
    stmt_done(st);
    return r;
}

/* Inserts an event of case_id. A NULL ev->stage records the case's stage. */
static int insert_event(conn *c, int64_t case_id, const store_event *ev, int64_t *event_id)
{
    sqlite3_stmt *st = stmt(c, ST_EVENT_INSERT);
    if (!st)
        return SQLITE_ERROR;
    int r = SQLITE_OK;
    if (sqlite3_bind_int64(st, 1, case_id) || bind_text(st, 2, ev->type) ||
        bind_text(st, 3, ev->from_stage) || bind_text(st, 4, ev->stage) ||
        bind_text(st, 5, ev->body) || sqlite3_bind_int(st, 6, ev->rating) ||
        sqlite3_bind_int(st, 7, ev->public_ ? 1 : 0) || bind_text(st, 8, ev->actor) ||
        sqlite3_bind_int64(st, 9, ev->created_at))
        r = bind_error(c);
    if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_DONE) {
        r = SQLITE_OK;
        if (event_id)
            *event_id = sqlite3_last_insert_rowid(c->db);
    }
    stmt_done(st);
    return r;
}

/* Records an access to case_id (acc->case_id is not used) and sets *id when
 * id is not NULL. STORE_NOT_FOUND when there is no such case; any other
 * failure is STORE_UNAVAILABLE, as store.h promises. */
static store_rc insert_access(conn *c, int64_t case_id, const store_access *acc, int64_t *id)
{
    sqlite3_stmt *st = stmt(c, ST_ACCESS_INSERT);
    if (!st)
        return STORE_UNAVAILABLE;
    int changes = 0;
    int bound = sqlite3_bind_int64(st, 1, case_id) ||
                sqlite3_bind_int64(st, 2, acc->reader_org_id) ||
                bind_or_null(st, 3, acc->user_id) || bind_or_null(st, 4, acc->key_id) ||
                bind_text(st, 5, acc->reader_name) || bind_text(st, 6, acc->role) ||
                bind_text(st, 7, acc->action) || bind_text(st, 8, acc->purpose) ||
                sqlite3_bind_int64(st, 9, acc->at);
    int64_t row_id = 0;
    store_rc rc = write_step(c, st, bound, "record an access", &row_id, &changes);
    if (rc != STORE_OK)
        return STORE_UNAVAILABLE;
    if (changes != 1)
        return STORE_NOT_FOUND;
    if (id)
        *id = row_id;
    return log_access(c, case_id, acc, row_id) == STORE_OK ? STORE_OK : STORE_UNAVAILABLE;
}

/* Reads one case by a statement of CASE_SELECT bound to (key, org_id). */
static store_rc case_read(conn *c, arena *a, int which, int64_t id, const char *reference,
                          int64_t org_id, store_case *out)
{
    sqlite3_stmt *st = stmt(c, which);
    if (!st)
        return STORE_ERROR;
    store_rc rc;
    int r = which == ST_CASE_BY_REF ? bind_text(st, 1, reference) : sqlite3_bind_int64(st, 1, id);
    if (r == SQLITE_OK && which == ST_CASE_BY_REF)
        r = sqlite3_bind_int64(st, 2, org_id);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        bool oom = false;
        read_case(a, st, out, &oom);
        rc = oom ? out_of_memory("read a case") : STORE_OK;
    } else {
        rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read a case");
    }
    stmt_done(st);
    return rc;
}

/* The id of the organisation's case made with this idempotency key, or 0. */
static int find_idempotent(conn *c, int64_t org_id, const char *key, int64_t *id)
{
    *id = 0;
    sqlite3_stmt *st = stmt(c, ST_CASE_BY_IDEMPOTENCY);
    if (!st)
        return SQLITE_ERROR;
    int r = SQLITE_OK;
    if (sqlite3_bind_int64(st, 1, org_id) || bind_text(st, 2, key))
        r = bind_error(c);
    if (r == SQLITE_OK) {
        r = sqlite3_step(st);
        if (r == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
        if (r == SQLITE_ROW || r == SQLITE_DONE)
            r = SQLITE_OK;
    }
    stmt_done(st);
    return r;
}

/* Inserts what an Open311 request carries besides case_id. */
static int insert_open311(conn *c, int64_t case_id, const store_open311_request *o)
{
    sqlite3_stmt *st = stmt(c, ST_OPEN311_INSERT);
    if (!st)
        return SQLITE_ERROR;
    int r = SQLITE_OK;
    if (sqlite3_bind_int64(st, 1, case_id) || bind_text(st, 2, o->token) ||
        bind_text(st, 3, o->description) || bind_text(st, 4, o->lat) || bind_text(st, 5, o->lon) ||
        bind_text(st, 6, o->address_string) || bind_text(st, 7, o->address_id) ||
        bind_text(st, 8, o->media_url) || bind_text(st, 9, o->attributes_json) ||
        bind_text(st, 10, o->device_id) || bind_text(st, 11, o->account_id))
        r = bind_error(c);
    if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_DONE)
        r = SQLITE_OK;
    stmt_done(st);
    return r;
}

/* Notifications (below): written in the transaction of the event that
 * causes them. */
static store_rc notices_insert(conn *c, int64_t case_id, int64_t event_id,
                               const store_notice *notices, size_t n);
static store_rc prefs_write(conn *c, int64_t case_id, const store_prefs *p, int *changes);

typedef struct case_write {
    const store_case_new *in;
    arena *a;
    store_case *out;
    bool existed;
} case_write;

/* An idempotency key already used, even by a job earlier in the same batch,
 * finds that case: the batch's jobs run one after another on one
 * connection and see each other's changes. */
static store_rc case_create_job(conn *c, void *arg)
{
    case_write *w = arg;
    const store_case_new *in = w->in;
    int64_t case_id = 0, person_id = 0, event_id = 0;
    int r = SQLITE_OK;
    w->existed = false;
    if (in->idempotency_key)
        r = find_idempotent(c, in->org_id, in->idempotency_key, &case_id);
    if (r == SQLITE_OK && case_id) {
        w->existed = true;
    } else {
        if (r == SQLITE_OK)
            r = insert_person(c, &in->person, &person_id);
        if (r == SQLITE_OK)
            r = insert_case(c, in, person_id, in->now, 0, &case_id);
        store_event opened = {.type = "opened",
                              .stage = in->stage,
                              .public_ = true,
                              .actor = in->actor,
                              .created_at = in->now,
                              .user_id = in->actor_user_id,
                              .key_id = in->actor_key_id};
        if (r == SQLITE_OK)
            r = insert_event(c, case_id, &opened, &event_id);
        if (r == SQLITE_OK && in->open311)
            r = insert_open311(c, case_id, in->open311);
        if (r == SQLITE_OK) {
            store_rc logged = log_event(c, case_id, &opened, event_id, NULL);
            if (logged != STORE_OK)
                return logged;
        }
        if (r == SQLITE_OK && in->n_duties) {
            store_rc drc = duties_open(c, case_id, event_id, in->now, in->duties, in->n_duties);
            if (drc != STORE_OK)
                return drc;
        }
    }
    if (r != SQLITE_OK)
        return fail(c, r, "create a case");
    store_rc rc = STORE_OK;
    if (!w->existed && in->prefs)
        rc = prefs_write(c, case_id, in->prefs, NULL);
    if (rc == STORE_OK && !w->existed)
        rc = notices_insert(c, case_id, event_id, in->notices, in->n_notices);
    if (rc != STORE_OK)
        return rc;
    rc = case_read(c, w->a, ST_CASE_BY_ID, case_id, NULL, 0, w->out);
    /* An earlier case found by its key may hold a person this request did
     * not send, so what is recorded follows the case returned. */
    if (rc == STORE_OK && in->access && w->out->person.id)
        rc = insert_access(c, case_id, in->access, NULL);
    return rc;
}

static store_rc sqlite_case_create(void *impl, arena *a, const store_case_new *in, store_case *out,
                                   bool *existed)
{
    sq_store *s = impl;
    memset(out, 0, sizeof(*out));
    case_write w = {.in = in, .a = a, .out = out};
    store_rc rc = write_run(s, case_create_job, &w);
    *existed = rc == STORE_OK && w.existed;
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc sqlite_case_get(void *impl, arena *a, int64_t org_id, const char *reference,
                                store_case *out)
{
    sq_store *s = impl;
    memset(out, 0, sizeof(*out));
    conn *c = pool_take(s);
    store_rc rc = case_read(c, a, ST_CASE_BY_REF, 0, reference, org_id, out);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc sqlite_case_events(void *impl, arena *a, int64_t case_id, bool public_only,
                                   store_event **out, size_t *n)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    store_event *arr = NULL;
    size_t cap = 0, count = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, public_only ? ST_EVENTS_PUBLIC : ST_EVENTS_ALL);
    if (!st)
        goto out;
    int r = sqlite3_bind_int64(st, 1, case_id);
    bool oom = false;
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        read_event(a, st, &arr[count++], &oom);
        if (oom)
            break;
        r = SQLITE_OK;
    }
    if (oom)
        rc = out_of_memory("read events");
    else if (r != SQLITE_DONE)
        rc = fail(c, r, "read events");
    else
        rc = STORE_OK;
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return rc;
}

/* The LIKE pattern that finds `text` anywhere, with the user's % and _ (and
 * the escape character itself) taken literally. */
static char *like_pattern(arena *a, const char *text)
{
    size_t len = strlen(text);
    if (len > (SIZE_MAX - 3) / 2)
        return NULL;
    char *p = arena_alloc(a, 2 * len + 3);
    if (!p)
        return NULL;
    size_t j = 0;
    p[j++] = '%';
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '%' || text[i] == '_' || text[i] == '\\')
            p[j++] = '\\';
        p[j++] = text[i];
    }
    p[j++] = '%';
    p[j] = '\0';
    return p;
}

static store_rc sqlite_case_list(void *impl, arena *a, const store_case_filter *f, store_case **out,
                                 size_t *n, bool *more)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    *more = false;
    int limit = f->limit < 1 ? 1 : f->limit > LIST_MAX ? LIST_MAX : f->limit;
    unsigned mask = (f->service_code ? LIST_SERVICE : 0) | (f->stage ? LIST_STAGE : 0) |
                    (f->opened_from ? LIST_FROM : 0) | (f->opened_to ? LIST_TO : 0) |
                    (f->text ? LIST_TEXT : 0);
    char *pattern = f->text ? like_pattern(a, f->text) : NULL;
    store_case *arr = arena_calloc(a, (size_t)limit, sizeof(*arr));
    if (!arr || (f->text && !pattern))
        return out_of_memory("list cases");

    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    size_t count = 0;
    sqlite3_stmt *st = stmt(c, ST_FIXED_COUNT + (int)mask);
    if (!st)
        goto out;
    int r = SQLITE_OK;
    if (sqlite3_bind_int64(st, 1, f->org_id) ||
        sqlite3_bind_int64(st, 2, f->before_id > 0 ? f->before_id : INT64_MAX) ||
        sqlite3_bind_int64(st, 9, f->before_id > 0 ? f->before_opened_at : INT64_MAX) ||
        sqlite3_bind_int(st, 3, limit + 1) ||
        ((mask & LIST_SERVICE) && bind_text(st, 4, f->service_code)) ||
        ((mask & LIST_STAGE) && bind_text(st, 5, f->stage)) ||
        ((mask & LIST_FROM) && sqlite3_bind_int64(st, 6, f->opened_from)) ||
        ((mask & LIST_TO) && sqlite3_bind_int64(st, 7, f->opened_to)) ||
        ((mask & LIST_TEXT) && bind_text(st, 8, pattern)))
        r = bind_error(c);
    bool oom = false;
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == (size_t)limit) {
            *more = true;
            r = SQLITE_DONE;
            break;
        }
        read_case(a, st, &arr[count++], &oom);
        if (oom)
            break;
        r = SQLITE_OK;
    }
    if (oom)
        rc = out_of_memory("list cases");
    else if (r != SQLITE_DONE)
        rc = fail(c, r, "list cases");
    else
        rc = STORE_OK;
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    } else {
        *more = false;
    }
    return rc;
}

/* Moves the case for a stage change; STORE_CONFLICT when it is no longer at
 * ev->from_stage or is closed, STORE_NOT_FOUND when there is no such case. */
static store_rc case_move(conn *c, int64_t case_id, const store_event *ev, bool closes)
{
    sqlite3_stmt *st = stmt(c, ST_CASE_MOVE);
    if (!st)
        return STORE_ERROR;
    int r = SQLITE_OK;
    if (sqlite3_bind_int64(st, 1, case_id) || bind_text(st, 2, ev->stage) ||
        sqlite3_bind_int64(st, 3, ev->created_at) ||
        (closes ? sqlite3_bind_int64(st, 4, ev->created_at) : sqlite3_bind_null(st, 4)) ||
        bind_text(st, 5, ev->from_stage))
        r = bind_error(c);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    stmt_done(st);
    if (r != SQLITE_DONE)
        return fail(c, r, "change a case's stage");
    if (sqlite3_changes(c->db) == 1)
        return STORE_OK;

    st = stmt(c, ST_CASE_EXISTS);
    if (!st)
        return STORE_ERROR;
    r = sqlite3_bind_int64(st, 1, case_id);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    stmt_done(st);
    if (r == SQLITE_ROW)
        return STORE_CONFLICT;
    return r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "change a case's stage");
}

/* Marks the case as updated by another kind of event; STORE_NOT_FOUND when
 * there is no such case. */
static store_rc case_touch(conn *c, int64_t case_id, int64_t at)
{
    sqlite3_stmt *st = stmt(c, ST_CASE_TOUCH);
    if (!st)
        return STORE_ERROR;
    int r = sqlite3_bind_int64(st, 1, case_id);
    if (r == SQLITE_OK)
        r = sqlite3_bind_int64(st, 2, at);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    stmt_done(st);
    if (r != SQLITE_DONE)
        return fail(c, r, "update a case");
    return sqlite3_changes(c->db) == 1 ? STORE_OK : STORE_NOT_FOUND;
}

typedef struct event_write {
    int64_t case_id;
    const store_event *ev;
    bool stage_change;
    bool closes;
    const store_duty_new *duties;
    size_t n_duties;
    int64_t id;
    int64_t log_index;
} event_write;

static store_rc event_append_job(conn *c, void *arg)
{
    event_write *w = arg;
    store_rc rc = w->stage_change ? case_move(c, w->case_id, w->ev, w->closes)
                                  : case_touch(c, w->case_id, w->ev->created_at);
    if (rc != STORE_OK)
        return rc;
    /* Other events record the stage the case is at, whatever the caller
     * last saw. */
    store_event row = *w->ev;
    if (!w->stage_change)
        row.stage = NULL;
    int r = insert_event(c, w->case_id, &row, &w->id);
    if (r != SQLITE_OK)
        return fail(c, r, "append an event");
    rc = log_event(c, w->case_id, &row, w->id, &w->log_index);
    if (rc == STORE_OK)
        rc = duties_on_event(c, w->case_id, w->ev, w->id, w->duties, w->n_duties);
    if (rc == STORE_OK)
        rc = notices_insert(c, w->case_id, w->id, w->ev->notices, w->ev->n_notices);
    return rc;
}

static store_rc sqlite_event_append_duties(void *impl, int64_t case_id, store_event *ev,
                                           bool closes, const store_duty_new *duties, size_t n)
{
    sq_store *s = impl;
    ev->id = 0;
    bool stage_change = ev->type && strcmp(ev->type, "stage_change") == 0;
    if (stage_change ? !ev->from_stage || !ev->stage : closes) {
        log_error("msg=\"store: a stage change needs both stages, and only a stage change "
                  "closes a case\"");
        return STORE_ERROR;
    }
    event_write w = {.case_id = case_id,
                     .ev = ev,
                     .stage_change = stage_change,
                     .closes = closes,
                     .duties = duties,
                     .n_duties = n};
    store_rc rc = write_run(s, event_append_job, &w);
    ev->log_index = -1;
    if (rc == STORE_OK) {
        ev->id = w.id;
        ev->log_index = w.log_index;
    }
    return rc;
}

static store_rc sqlite_event_append(void *impl, int64_t case_id, store_event *ev, bool closes)
{
    return sqlite_event_append_duties(impl, case_id, ev, closes, NULL, 0);
}

typedef struct secret_change {
    int64_t case_id;
    const unsigned char *hash;
} secret_change;

static store_rc set_secret_job(conn *c, void *arg)
{
    secret_change *w = arg;
    sqlite3_stmt *st = stmt(c, ST_CASE_SET_SECRET);
    if (!st)
        return STORE_ERROR;
    int changes = 0;
    int bound = sqlite3_bind_int64(st, 1, w->case_id) || bind_hash(st, 2, w->hash);
    store_rc rc = write_step(c, st, bound, "replace a tracking secret", NULL, &changes);
    return rc == STORE_OK && changes == 0 ? STORE_NOT_FOUND : rc;
}

static store_rc sqlite_case_set_secret(void *impl, int64_t case_id, const unsigned char hash[32])
{
    sq_store *s = impl;
    secret_change w = {.case_id = case_id, .hash = hash};
    return write_run(s, set_secret_job, &w);
}

static store_rc sqlite_service_durations(void *impl, arena *a, int64_t service_id, int limit,
                                         int64_t **out, size_t *n)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    if (limit <= 0)
        return STORE_OK;
    int64_t *arr = arena_calloc(a, (size_t)limit, sizeof(*arr));
    if (!arr)
        return out_of_memory("read durations");
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    size_t count = 0;
    sqlite3_stmt *st = stmt(c, ST_DURATIONS);
    if (!st)
        goto out;
    int r = sqlite3_bind_int64(st, 1, service_id);
    if (r == SQLITE_OK)
        r = sqlite3_bind_int(st, 2, limit);
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (count < (size_t)limit)
            arr[count++] = sqlite3_column_int64(st, 0);
        r = SQLITE_OK;
    }
    rc = r == SQLITE_DONE ? STORE_OK : fail(c, r, "read durations");
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return rc;
}

/* ---- access records ---- */

typedef struct access_write {
    store_access *accesses;
    size_t n;
} access_write;

static store_rc access_record_job(conn *c, void *arg)
{
    access_write *w = arg;
    store_rc rc = STORE_OK;
    for (size_t i = 0; i < w->n && rc == STORE_OK; i++)
        rc = insert_access(c, w->accesses[i].case_id, &w->accesses[i], &w->accesses[i].id);
    return rc;
}

static store_rc sqlite_access_record(void *impl, store_access *accesses, size_t n)
{
    sq_store *s = impl;
    if (n == 0)
        return STORE_OK;
    access_write w = {.accesses = accesses, .n = n};
    store_rc rc = write_run(s, access_record_job, &w);
    /* A failed batch may have set ids of rows it then rolled back. */
    if (rc != STORE_OK) {
        for (size_t i = 0; i < n; i++)
            accesses[i].id = 0;
        if (rc != STORE_NOT_FOUND)
            rc = STORE_UNAVAILABLE;
    }
    return rc;
}

static store_rc sqlite_case_accesses(void *impl, arena *a, int64_t case_id, store_access **out,
                                     size_t *n)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    store_access *arr = NULL;
    size_t cap = 0, count = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_ACCESSES_OF_CASE);
    if (!st)
        goto out;
    int r = sqlite3_bind_int64(st, 1, case_id);
    bool oom = false;
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        read_access(a, st, &arr[count++], &oom);
        if (oom)
            break;
        r = SQLITE_OK;
    }
    if (oom)
        rc = out_of_memory("read accesses");
    else if (r != SQLITE_DONE)
        rc = fail(c, r, "read accesses");
    else
        rc = STORE_OK;
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return rc;
}

/* ---- bulk import ---- */

static int set_cache(conn *c, int kib)
{
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA cache_size = -%d", kib);
    return sqlite3_exec(c->db, pragma, NULL, NULL, NULL);
}

typedef struct import_write {
    const store_case_new *cases;
    const store_event *const *events;
    const size_t *n_events;
    const int64_t *closed_at;
    size_t n;
} import_write;

static store_rc import_job(conn *c, void *arg)
{
    import_write *w = arg;
    /* A million cases touch far more pages than the usual cache holds. */
    int r = set_cache(c, IMPORT_CACHE_KIB);
    for (size_t i = 0; i < w->n && r == SQLITE_OK; i++) {
        const store_case_new *in = &w->cases[i];
        int64_t updated_at = in->now, person_id = 0, case_id = 0;
        for (size_t j = 0; j < w->n_events[i]; j++)
            if (w->events[i][j].created_at > updated_at)
                updated_at = w->events[i][j].created_at;
        int64_t closed = w->closed_at ? w->closed_at[i] : 0;
        r = insert_person(c, &in->person, &person_id);
        if (r == SQLITE_OK)
            r = insert_case(c, in, person_id, updated_at, closed, &case_id);
        for (size_t j = 0; j < w->n_events[i] && r == SQLITE_OK; j++)
            r = insert_event(c, case_id, &w->events[i][j], NULL);
    }
    store_rc rc = r == SQLITE_OK ? STORE_OK : fail(c, r, "import cases");
    if (set_cache(c, CACHE_KIB) != SQLITE_OK)
        log_db(false, "restore the cache size after an import", c->db);
    return rc;
}

/* The import is a transaction of its own, queued with the other writes: a
 * savepoint over a whole import would only add to its cost, and its size
 * gives nothing to share. */
static store_rc sqlite_case_import(void *impl, const store_case_new *cases,
                                   const store_event *const *events, const size_t *n_events,
                                   const int64_t *closed_at, size_t n)
{
    sq_store *s = impl;
    import_write w = {
        .cases = cases, .events = events, .n_events = n_events, .closed_at = closed_at, .n = n};
    return write_submit(s, import_job, &w, true);
}

/* ---- copying a deployment ---- */

/* A copy's read snapshot or write transaction, on a connection of its own. */
typedef struct sq_copy {
    sq_store *s;
    conn *c;
    const store_table *t;
    sqlite3_stmt *insert; /* the current table's INSERT, while loading */
} sq_copy;

/* Refuses a database holding a table the copy does not know. */
static store_rc check_tables(conn *c, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(c->db,
                               "SELECT name FROM sqlite_schema WHERE type = 'table'"
                               " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                               -1, &st, NULL);
    store_rc rc = STORE_OK;
    while (r == SQLITE_OK && rc == STORE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name && !store_table_known(name)) {
            set_err(err, errlen, "the copy does not know the table", name);
            rc = STORE_ERROR;
        }
        r = SQLITE_OK;
    }
    if (rc == STORE_OK && r != SQLITE_DONE) {
        set_err(err, errlen, "cannot list the tables", sqlite3_errmsg(c->db));
        rc = fail(c, r, "list the tables");
    }
    sqlite3_finalize(st);
    return rc;
}

/* STORE_CONFLICT, with err naming the table, when any table holds a row;
 * else empties the tables whose rows a copy replaces. */
static store_rc target_ready(conn *c, char *err, size_t errlen)
{
    store_rc rc = STORE_OK;
    for (size_t i = 0; i < store_tables_count && rc == STORE_OK; i++) {
        if (store_tables[i].replace)
            continue;
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT 1 FROM %s LIMIT 1", store_tables[i].name);
        sqlite3_stmt *st = NULL;
        int r = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
        if (r == SQLITE_OK)
            r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "the target database is not empty (table %s has rows); copy only into a"
                     " freshly created database",
                     store_tables[i].name);
            set_err(err, errlen, msg, NULL);
            rc = STORE_CONFLICT;
        } else if (r != SQLITE_DONE) {
            set_err(err, errlen, "cannot read the target database", sqlite3_errmsg(c->db));
            rc = fail(c, r, "check the target is empty");
        }
        sqlite3_finalize(st);
    }
    for (size_t i = 0; i < store_tables_count && rc == STORE_OK; i++) {
        if (!store_tables[i].replace)
            continue;
        char sql[128];
        snprintf(sql, sizeof(sql), "DELETE FROM %s", store_tables[i].name);
        int r = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
        if (r != SQLITE_OK) {
            set_err(err, errlen, "cannot prepare the target database", sqlite3_errmsg(c->db));
            rc = fail(c, r, "empty a table before a copy");
        }
    }
    return rc;
}

/* Begins a copy's transaction; on failure the connection goes back. */
static store_rc copy_begin(sq_store *s, bool write, sq_copy **out, char *err, size_t errlen)
{
    *out = NULL;
    sq_copy *x = calloc(1, sizeof(*x));
    if (!x) {
        set_err(err, errlen, "out of memory", NULL);
        return STORE_ERROR;
    }
    x->s = s;
    x->c = pool_take(s);
    /* A read transaction's snapshot is taken by its first read, the table
     * list, and holds for every table after it. */
    int r = sqlite3_exec(x->c->db, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL);
    store_rc rc = r == SQLITE_OK ? STORE_OK : fail(x->c, r, "begin a copy");
    if (rc != STORE_OK)
        set_err(err, errlen, "cannot begin a transaction", sqlite3_errmsg(x->c->db));
    if (rc == STORE_OK)
        rc = check_tables(x->c, err, errlen);
    if (rc == STORE_OK && write)
        rc = target_ready(x->c, err, errlen);
    if (rc != STORE_OK) {
        pool_give(s, x->c);
        free(x);
        return rc;
    }
    *out = x;
    return STORE_OK;
}

static store_rc sqlite_read_begin(void *impl, void **tx, char *err, size_t errlen)
{
    return copy_begin(impl, false, (sq_copy **)tx, err, errlen);
}

/* The table's columns, comma-separated, in store_tables order. */
static void column_list(const store_table *t, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < t->ncolumns && used < len; i++) {
        int w = snprintf(out + used, len - used, "%s%s", i ? ", " : "", t->columns[i]);
        used += w > 0 ? (size_t)w : 0;
    }
}

static store_rc sqlite_read_rows(void *tx, const store_table *t, store_row_fn fn, void *ctx)
{
    sq_copy *x = tx;
    char cols[512], sql[768];
    column_list(t, cols, sizeof(cols));
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY %s", cols, t->name, t->columns[0]);
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(x->c->db, sql, -1, &st, NULL);
    store_rc rc = STORE_OK;
    while (r == SQLITE_OK && rc == STORE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        store_value row[STORE_COLUMNS_MAX] = {0};
        for (size_t i = 0; i < t->ncolumns; i++) {
            int col = (int)i;
            row[i].null = sqlite3_column_type(st, col) == SQLITE_NULL;
            if (row[i].null)
                continue;
            if (t->kinds[i] == STORE_COL_INT || t->kinds[i] == STORE_COL_BOOL) {
                row[i].i = sqlite3_column_int64(st, col);
                continue;
            }
            row[i].p = t->kinds[i] == STORE_COL_TEXT ? (const void *)sqlite3_column_text(st, col)
                                                     : sqlite3_column_blob(st, col);
            row[i].len = (size_t)sqlite3_column_bytes(st, col);
            if (!row[i].p && row[i].len > 0)
                rc = out_of_memory("read a row to copy");
        }
        if (rc == STORE_OK)
            rc = fn(ctx, row);
        r = SQLITE_OK;
    }
    if (rc == STORE_OK && r != SQLITE_DONE)
        rc = fail(x->c, r, "read rows to copy");
    sqlite3_finalize(st);
    return rc;
}

static void sqlite_read_end(void *tx)
{
    sq_copy *x = tx;
    if (!x)
        return;
    pool_give(x->s, x->c);
    free(x);
}

static store_rc sqlite_load_begin(void *impl, void **tx, char *err, size_t errlen)
{
    return copy_begin(impl, true, (sq_copy **)tx, err, errlen);
}

static store_rc sqlite_load_table(void *tx, const store_table *t)
{
    sq_copy *x = tx;
    sqlite3_finalize(x->insert);
    x->insert = NULL;
    x->t = t;
    if (!t)
        return STORE_OK;
    char cols[512], marks[128], sql[768];
    column_list(t, cols, sizeof(cols));
    size_t used = 0;
    for (size_t i = 0; i < t->ncolumns; i++) {
        int w = snprintf(marks + used, sizeof(marks) - used, "%s?", i ? ", " : "");
        used += w > 0 ? (size_t)w : 0;
    }
    snprintf(sql, sizeof(sql), "INSERT INTO %s (%s) VALUES (%s)", t->name, cols, marks);
    int r = sqlite3_prepare_v2(x->c->db, sql, -1, &x->insert, NULL);
    return r == SQLITE_OK ? STORE_OK : fail(x->c, r, "prepare a copy's insert");
}

static store_rc sqlite_load_row(void *tx, const store_value *row)
{
    sq_copy *x = tx;
    sqlite3_stmt *st = x->insert;
    int r = SQLITE_OK;
    for (size_t i = 0; i < x->t->ncolumns && r == SQLITE_OK; i++) {
        int col = (int)i + 1;
        const store_value *v = &row[i];
        if (v->null)
            r = sqlite3_bind_null(st, col);
        else if (x->t->kinds[i] == STORE_COL_INT || x->t->kinds[i] == STORE_COL_BOOL)
            r = sqlite3_bind_int64(st, col, v->i);
        else if (x->t->kinds[i] == STORE_COL_TEXT)
            r = sqlite3_bind_text64(st, col, v->p, v->len, SQLITE_STATIC, SQLITE_UTF8);
        else
            r = sqlite3_bind_blob64(st, col, v->len ? v->p : "", v->len, SQLITE_STATIC);
    }
    if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_DONE)
        r = SQLITE_OK;
    store_rc rc = r == SQLITE_OK ? STORE_OK : fail(x->c, r, "write a copied row");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Row ids here are the largest id plus one, so no sequence needs moving. */
static store_rc sqlite_load_end(void *tx, bool commit)
{
    sq_copy *x = tx;
    sqlite3_finalize(x->insert);
    store_rc rc = STORE_OK;
    if (commit) {
        int r = sqlite3_exec(x->c->db, "COMMIT", NULL, NULL, NULL);
        rc = r == SQLITE_OK ? STORE_OK : fail(x->c, r, "commit a copy");
    }
    pool_give(x->s, x->c);
    /* The copy replaced the secret key this store had made. */
    if (commit && rc == STORE_OK)
        rc = log_key_load(x->s);
    free(x);
    return rc;
}

/* ---- the public log ---- */

/* (Re)reads the deployment's secret key and derives the log's key from it,
 * for every connection. */
static store_rc log_key_load(sq_store *s)
{
    unsigned char secret[32];
    bool found = false;
    pthread_mutex_lock(&s->mu);
    s->have_key = false;
    pthread_mutex_unlock(&s->mu);
    /* Read first: only a database without a key is written to. */
    conn *c = pool_take(s);
    sqlite3_stmt *st = stmt(c, ST_SETTING_GET);
    if (st && bind_text(st, 1, "secret_key") == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_bytes(st, 0) == 32 && sqlite3_column_blob(st, 0)) {
        memcpy(secret, sqlite3_column_blob(st, 0), 32);
        found = true;
    }
    stmt_done(st);
    pool_give(s, c);
    store_rc rc = found ? STORE_OK : sqlite_secret_key(s, secret);
    if (rc == STORE_OK) {
        tlog_log_key(secret, s->log_key);
        for (int i = 0; i < s->nconns; i++)
            s->conns[i].log_key = s->log_key;
    }
    sodium_memzero(secret, sizeof(secret));
    return rc;
}

static store_rc sq_log_reserve(void *arg, uint64_t *index)
{
    conn *c = arg;
    sqlite3_stmt *st = stmt(c, ST_LOG_RESERVE);
    if (!st)
        return STORE_ERROR;
    int r = sqlite3_step(st);
    store_rc rc = STORE_OK;
    if (r == SQLITE_ROW) {
        *index = (uint64_t)sqlite3_column_int64(st, 0);
    } else if (r == SQLITE_DONE) {
        log_error("msg=\"store: the log's counter row is missing\"");
        rc = STORE_ERROR;
    } else {
        rc = fail(c, r, "take a log index");
    }
    stmt_done(st);
    return rc;
}

/* Node (level, index) is in the row of the leaf that completed it. */
static int sq_log_hash_at(void *arg, unsigned level, uint64_t index, merkle_hash *out)
{
    conn *c = arg;
    sqlite3_stmt *st = stmt(c, ST_LOG_HASHES);
    if (!st)
        return -1;
    int ok = -1;
    uint64_t row = ((index + 1) << level) - 1;
    if (sqlite3_bind_int64(st, 1, (int64_t)row) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const uint8_t *h = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (h && len >= ((size_t)level + 1) * MERKLE_HASH_SIZE) {
            memcpy(out->b, h + (size_t)level * MERKLE_HASH_SIZE, MERKLE_HASH_SIZE);
            ok = 0;
        }
    }
    stmt_done(st);
    return ok;
}

static store_rc sq_log_insert(void *arg, uint64_t index, const void *entry, size_t len,
                              const merkle_hash *hashes, size_t nhashes)
{
    conn *c = arg;
    sqlite3_stmt *st = stmt(c, ST_LOG_INSERT);
    if (!st)
        return STORE_ERROR;
    int bound = sqlite3_bind_int64(st, 1, (int64_t)index) ||
                sqlite3_bind_blob(st, 2, entry, (int)len, SQLITE_STATIC) ||
                sqlite3_bind_blob(st, 3, hashes, (int)(nhashes * sizeof(*hashes)), SQLITE_STATIC);
    return write_step(c, st, bound, "append to the log", NULL, NULL);
}

/* Appends e in the connection's transaction: the one way this backend
 * writes to the log (store_int.h). */
static store_rc log_append(conn *c, const tlog_entry *e, uint64_t *index)
{
    log_io io = {
        .conn = c, .reserve = sq_log_reserve, .hash_at = sq_log_hash_at, .insert = sq_log_insert};
    return log_append_with(&io, c->log_key, e, index);
}

/* A code read from a row, copied so that it outlives the statement; empty
 * (which the encoder refuses) when it is too long to be one. */
static void copy_code(sqlite3_stmt *st, int col, char out[TLOG_CODE_MAX + 1])
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
    if (n > TLOG_CODE_MAX)
        n = 0;
    if (n)
        memcpy(out, t, n);
    out[n] = '\0';
}

/* Appends e about case_id, filling its organisation, service and case; an
 * actor without an organisation is of the case's. */
static store_rc log_case_append(conn *c, int64_t case_id, tlog_entry *e, uint64_t *index)
{
    char reference[TLOG_CODE_MAX + 1], org[TLOG_CODE_MAX + 1], service[TLOG_CODE_MAX + 1];
    int64_t org_id = 0;
    sqlite3_stmt *st = stmt(c, ST_LOG_CASE);
    if (!st)
        return STORE_ERROR;
    int r = sqlite3_bind_int64(st, 1, case_id);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        copy_code(st, 0, reference);
        copy_code(st, 1, org);
        copy_code(st, 2, service);
        org_id = sqlite3_column_int64(st, 3);
    }
    stmt_done(st);
    if (r != SQLITE_ROW)
        return r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read a case for the log");
    e->reference = reference;
    e->org = org;
    e->service = service;
    if (!e->actor_org_id)
        e->actor_org_id = org_id;
    return log_append(c, e, index);
}

static store_rc log_set_index(conn *c, int which, int64_t id, uint64_t index)
{
    sqlite3_stmt *st = stmt(c, which);
    if (!st)
        return STORE_ERROR;
    int bound = sqlite3_bind_int64(st, 1, id) || sqlite3_bind_int64(st, 2, (int64_t)index);
    return write_step(c, st, bound, "note a log index", NULL, NULL);
}

static store_rc log_event(conn *c, int64_t case_id, const store_event *ev, int64_t event_id,
                          int64_t *logged)
{
    tlog_entry e;
    uint64_t index = 0;
    if (!log_event_entry(ev, 0, &e)) {
        log_error("msg=\"store: an event of a type the log does not know\"");
        return STORE_ERROR;
    }
    store_rc rc = log_case_append(c, case_id, &e, &index);
    if (rc == STORE_OK && logged)
        *logged = (int64_t)index;
    return rc == STORE_OK ? log_set_index(c, ST_LOG_EVENT_INDEX, event_id, index) : rc;
}

/* The reader's organisation is named when it is not the case's. */
static store_rc log_access(conn *c, int64_t case_id, const store_access *acc, int64_t access_id)
{
    tlog_entry e;
    uint64_t index = 0;
    char reader_org[TLOG_CODE_MAX + 1];
    log_access_entry(acc, &e);
    sqlite3_stmt *st = stmt(c, ST_ORG_BY_ID);
    if (!st)
        return STORE_ERROR;
    int r = sqlite3_bind_int64(st, 1, acc->reader_org_id);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        copy_code(st, 1, reader_org);
    stmt_done(st);
    if (r != SQLITE_ROW)
        return r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read an organisation for the log");
    e.actor_org = reader_org;
    store_rc rc = log_case_append(c, case_id, &e, &index);
    return rc == STORE_OK ? log_set_index(c, ST_LOG_ACCESS_INDEX, access_id, index) : rc;
}

static store_rc sqlite_log_size(void *impl, uint64_t *size)
{
    sq_store *s = impl;
    *size = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_LOG_SIZE);
    if (st) {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            *size = (uint64_t)sqlite3_column_int64(st, 0);
            rc = STORE_OK;
        } else {
            rc = r == SQLITE_DONE ? STORE_ERROR : fail(c, r, "read the log's size");
        }
    }
    stmt_done(st);
    pool_give(s, c);
    return rc;
}

static store_rc sqlite_log_nodes(void *impl, size_t n, const unsigned *levels,
                                 const uint64_t *indexes, merkle_hash *out)
{
    sq_store *s = impl;
    conn *c = pool_take(s);
    store_rc rc = STORE_OK;
    for (size_t i = 0; i < n && rc == STORE_OK; i++)
        if (sq_log_hash_at(c, levels[i], indexes[i], &out[i]) != 0)
            rc = STORE_NOT_FOUND;
    pool_give(s, c);
    return rc;
}

static store_rc sqlite_log_entries(void *impl, arena *a, uint64_t from, size_t limit,
                                   store_log_row **out, size_t *n)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    store_log_row *arr = limit ? arena_calloc(a, limit, sizeof(*arr)) : NULL;
    if (limit && !arr)
        return out_of_memory("read log entries");
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    size_t count = 0;
    sqlite3_stmt *st = stmt(c, ST_LOG_ENTRIES);
    if (!st)
        goto out;
    int r = sqlite3_bind_int64(st, 1, (int64_t)from);
    if (r == SQLITE_OK)
        r = sqlite3_bind_int64(st, 2, (int64_t)limit);
    while (r == SQLITE_OK && count < limit && (r = sqlite3_step(st)) == SQLITE_ROW) {
        store_log_row *row = &arr[count];
        size_t elen = (size_t)sqlite3_column_bytes(st, 1);
        size_t hlen = (size_t)sqlite3_column_bytes(st, 2);
        uint8_t *entry = arena_alloc(a, elen + 1);
        uint8_t *hashes = arena_alloc(a, hlen + 1);
        if (!entry || !hashes || hlen < MERKLE_HASH_SIZE || hlen % MERKLE_HASH_SIZE) {
            rc = entry && hashes ? STORE_ERROR : out_of_memory("read log entries");
            if (entry && hashes)
                log_error("msg=\"store: a log row's hashes are malformed\"");
            goto out;
        }
        if (elen)
            memcpy(entry, sqlite3_column_blob(st, 1), elen);
        memcpy(hashes, sqlite3_column_blob(st, 2), hlen);
        row->index = (uint64_t)sqlite3_column_int64(st, 0);
        row->entry = entry;
        row->entry_len = elen;
        row->hashes = hashes;
        row->nhashes = hlen / MERKLE_HASH_SIZE;
        count++;
        r = SQLITE_OK;
    }
    rc = r == SQLITE_DONE || r == SQLITE_OK ? STORE_OK : fail(c, r, "read log entries");
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return rc;
}

typedef struct log_import_write {
    const tlog_entry *entries;
    size_t n;
    uint64_t first;
} log_import_write;

static store_rc log_import_job(conn *c, void *arg)
{
    log_import_write *w = arg;
    store_rc rc = STORE_OK;
    for (size_t i = 0; i < w->n && rc == STORE_OK; i++) {
        uint64_t index = 0;
        rc = log_append(c, &w->entries[i], &index);
        if (i == 0)
            w->first = index;
    }
    return rc;
}

static store_rc sqlite_log_import(void *impl, const tlog_entry *entries, size_t n,
                                  uint64_t *first_index)
{
    log_import_write w = {.entries = entries, .n = n};
    store_rc rc = n ? write_submit(impl, log_import_job, &w, true) : STORE_OK;
    if (first_index)
        *first_index = rc == STORE_OK ? w.first : 0;
    return rc;
}

typedef struct checkpoint_write {
    uint64_t size;
    const char *note;
    int64_t at;
} checkpoint_write;

static store_rc checkpoint_put_job(conn *c, void *arg)
{
    checkpoint_write *w = arg;
    sqlite3_stmt *st = stmt(c, ST_LOG_CHECKPOINT_PUT);
    if (!st)
        return STORE_ERROR;
    int bound = sqlite3_bind_int64(st, 1, (int64_t)w->size) || bind_text(st, 2, w->note) ||
                sqlite3_bind_int64(st, 3, w->at);
    return write_step(c, st, bound, "save a checkpoint", NULL, NULL);
}

static store_rc sqlite_log_checkpoint_put(void *impl, uint64_t size, const char *note, int64_t at)
{
    checkpoint_write w = {.size = size, .note = note, .at = at};
    return write_run(impl, checkpoint_put_job, &w);
}

static store_rc sqlite_log_checkpoint_get(void *impl, arena *a, uint64_t at_most, uint64_t *size,
                                          const char **note)
{
    sq_store *s = impl;
    *size = 0;
    *note = NULL;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_LOG_CHECKPOINT_GET);
    if (st) {
        int64_t bound = at_most > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)at_most;
        int r = sqlite3_bind_int64(st, 1, bound);
        if (r == SQLITE_OK)
            r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            bool oom = false;
            *size = (uint64_t)sqlite3_column_int64(st, 0);
            *note = col_text(a, st, 1, &oom);
            rc = oom || !*note ? out_of_memory("read a checkpoint") : STORE_OK;
        } else {
            rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read a checkpoint");
        }
    }
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK) {
        *size = 0;
        *note = NULL;
    }
    return rc;
}

/* ---- Open311 ---- */

static store_rc sqlite_org_sole(void *impl, arena *a, store_org *out)
{
    sq_store *s = impl;
    memset(out, 0, sizeof(*out));
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    int rows = 0, r = SQLITE_ERROR;
    bool oom = false;
    sqlite3_stmt *st = stmt(c, ST_ORG_SOLE);
    if (!st)
        goto out;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (++rows > 1)
            break;
        out->id = sqlite3_column_int64(st, 0);
        out->slug = col_text(a, st, 1, &oom);
        out->name = col_text(a, st, 2, &oom);
    }
    if (oom)
        rc = out_of_memory("read the organisation");
    else if (r != SQLITE_DONE && r != SQLITE_ROW)
        rc = fail(c, r, "read the organisation");
    else
        rc = rows == 0 ? STORE_NOT_FOUND : rows > 1 ? STORE_CONFLICT : STORE_OK;
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* Reads a row of OPEN311_SELECT. */
static void read_open311_case(arena *a, sqlite3_stmt *st, store_open311_case *out, bool *oom)
{
    store_open311_request *r = &out->request;
    out->id = sqlite3_column_int64(st, 0);
    out->service_id = sqlite3_column_int64(st, 1);
    out->reference = col_text(a, st, 2, oom);
    out->stage = col_text(a, st, 3, oom);
    out->opened_at = sqlite3_column_int64(st, 4);
    out->updated_at = sqlite3_column_int64(st, 5);
    out->closed_at = sqlite3_column_int64(st, 6);
    out->has_request = sqlite3_column_type(st, 7) != SQLITE_NULL;
    r->token = col_text(a, st, 8, oom);
    r->description = col_text(a, st, 9, oom);
    r->lat = col_text(a, st, 10, oom);
    r->lon = col_text(a, st, 11, oom);
    r->address_string = col_text(a, st, 12, oom);
    r->address_id = col_text(a, st, 13, oom);
    r->media_url = col_text(a, st, 14, oom);
    r->attributes_json = col_text(a, st, 15, oom);
    r->device_id = col_text(a, st, 16, oom);
    r->account_id = col_text(a, st, 17, oom);
}

static store_rc sqlite_open311_cases(void *impl, arena *a, const store_open311_filter *f,
                                     store_open311_case **out, size_t *n)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    int limit = f->limit < 1 ? 1 : f->limit > STORE_OPEN311_MAX ? STORE_OPEN311_MAX : f->limit;
    store_open311_case *arr = NULL;
    size_t cap = 0, count = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_OPEN311_CASES);
    if (!st)
        goto out;
    int r = SQLITE_OK;
    if (sqlite3_bind_int64(st, 1, f->org_id) || sqlite3_bind_int64(st, 2, f->opened_from) ||
        sqlite3_bind_int64(st, 3, f->opened_to) || bind_text(st, 4, f->service_stages_json) ||
        sqlite3_bind_int(st, 5, limit))
        r = bind_error(c);
    bool oom = false;
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        read_open311_case(a, st, &arr[count++], &oom);
        if (oom)
            break;
        r = SQLITE_OK;
    }
    if (oom)
        rc = out_of_memory("list Open311 requests");
    else if (r != SQLITE_DONE)
        rc = fail(c, r, "list Open311 requests");
    else
        rc = STORE_OK;
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return rc;
}

static store_rc sqlite_open311_case_get(void *impl, arena *a, int64_t org_id, const char *reference,
                                        const char *token, store_open311_case *out)
{
    sq_store *s = impl;
    memset(out, 0, sizeof(*out));
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, token ? ST_OPEN311_BY_TOKEN : ST_OPEN311_BY_REF);
    if (!st)
        goto out;
    int r = SQLITE_OK;
    if (bind_text(st, 1, token ? token : reference) || sqlite3_bind_int64(st, 2, org_id))
        r = bind_error(c);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        bool oom = false;
        read_open311_case(a, st, out, &oom);
        rc = oom ? out_of_memory("read an Open311 request") : STORE_OK;
    } else {
        rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read an Open311 request");
    }
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc sqlite_open311_updates(void *impl, arena *a, int64_t org_id,
                                       const char *service_ids_json, int64_t from, int64_t to,
                                       int limit, store_open311_update **out, size_t *n)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    limit = limit < 1 ? 1 : limit > STORE_OPEN311_MAX ? STORE_OPEN311_MAX : limit;
    store_open311_update *arr = NULL;
    size_t cap = 0, count = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_OPEN311_UPDATES);
    if (!st)
        goto out;
    int r = SQLITE_OK;
    if (sqlite3_bind_int64(st, 1, org_id) || sqlite3_bind_int64(st, 2, from) ||
        sqlite3_bind_int64(st, 3, to) || bind_text(st, 4, service_ids_json) ||
        sqlite3_bind_int(st, 5, limit))
        r = bind_error(c);
    bool oom = false;
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        store_open311_update *u = &arr[count++];
        u->id = sqlite3_column_int64(st, 0);
        u->service_id = sqlite3_column_int64(st, 1);
        u->reference = col_text(a, st, 2, &oom);
        u->type = col_text(a, st, 3, &oom);
        u->stage = col_text(a, st, 4, &oom);
        u->body = col_text(a, st, 5, &oom);
        u->created_at = sqlite3_column_int64(st, 6);
        if (oom)
            break;
        r = SQLITE_OK;
    }
    if (oom)
        rc = out_of_memory("list Open311 updates");
    else if (r != SQLITE_DONE)
        rc = fail(c, r, "list Open311 updates");
    else
        rc = STORE_OK;
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return rc;
}

/* ---- update duties ---- */

static void read_duty(arena *a, sqlite3_stmt *st, store_duty *out, bool *oom)
{
    out->id = sqlite3_column_int64(st, 0);
    out->case_id = sqlite3_column_int64(st, 1);
    out->reference = col_text(a, st, 2, oom);
    out->service_code = col_text(a, st, 3, oom);
    out->team = col_text(a, st, 4, oom);
    out->enhanced = sqlite3_column_int(st, 5) != 0;
    out->duty = col_text(a, st, 6, oom);
    out->event_id = sqlite3_column_int64(st, 7);
    out->triggered_at = sqlite3_column_int64(st, 8);
    out->days = sqlite3_column_int(st, 9);
    out->due_at = sqlite3_column_int64(st, 10);
    out->met_at = sqlite3_column_int64(st, 11);
    out->met_by = col_text(a, st, 12, oom);
    out->met_event_id = sqlite3_column_int64(st, 13);
    out->service_id = sqlite3_column_int64(st, 14);
}

/* Opens duties[0..n) of the case, triggered by event_id at `at`;
 * STORE_NOT_FOUND when there is no such case. */
static store_rc duties_open(conn *c, int64_t case_id, int64_t event_id, int64_t at,
                            const store_duty_new *duties, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = stmt(c, ST_DUTY_INSERT);
        if (!st)
            return STORE_ERROR;
        int changes = 0;
        int bound = sqlite3_bind_int64(st, 1, case_id) || bind_text(st, 2, duties[i].duty) ||
                    sqlite3_bind_int64(st, 3, event_id) || sqlite3_bind_int64(st, 4, at) ||
                    sqlite3_bind_int(st, 5, duties[i].days) ||
                    sqlite3_bind_int64(st, 6, duties[i].due_at);
        store_rc rc = write_step(c, st, bound, "open a duty", NULL, &changes);
        if (rc != STORE_OK)
            return rc;
        if (changes != 1)
            return STORE_NOT_FOUND;
    }
    return STORE_OK;
}

/* Meets, at `at` and by `by` ("update" or "delivery"), every unmet duty of
 * the case triggered by event `upto` or an earlier one, naming `met_event`
 * as what met them. It runs inside the caller's write, so that whatever
 * meets a duty (the outbox recording a delivery, say) does it in its own
 * transaction. */
static store_rc duties_meet(conn *c, int64_t case_id, int64_t upto, int64_t at, const char *by,
                            int64_t met_event)
{
    sqlite3_stmt *st = stmt(c, ST_DUTY_MEET);
    if (!st)
        return STORE_ERROR;
    int r = sqlite3_bind_int64(st, 1, case_id);
    if (r == SQLITE_OK)
        r = sqlite3_bind_int64(st, 2, upto);
    if (r == SQLITE_OK)
        r = sqlite3_bind_int64(st, 3, at);
    if (r == SQLITE_OK)
        r = bind_text(st, 4, by);
    if (r == SQLITE_OK)
        r = sqlite3_bind_int64(st, 5, met_event);
    /* SQLite makes every change at the first step and hands the RETURNING
     * rows over afterwards, so each met duty's entry is appended as its row
     * is read. */
    store_rc rc = STORE_OK;
    while (rc == STORE_OK && r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        char duty[TLOG_CODE_MAX + 1];
        copy_code(st, 0, duty);
        tlog_entry e = {.kind = TLOG_DUTY_MET,
                        .time = at,
                        .action = at <= sqlite3_column_int64(st, 1) ? "met" : "met_late",
                        .duty = duty};
        uint64_t index = 0;
        rc = log_case_append(c, case_id, &e, &index);
        r = SQLITE_OK;
    }
    stmt_done(st);
    if (rc == STORE_OK && r != SQLITE_DONE)
        rc = fail(c, r, "meet duties");
    return rc;
}

/* What an event just written does to the case's duties: a public update
 * meets those open before it, then the duties it triggers open. */
static store_rc duties_on_event(conn *c, int64_t case_id, const store_event *ev, int64_t event_id,
                                const store_duty_new *duties, size_t n)
{
    store_rc rc = STORE_OK;
    if (store_event_meets_duties(ev))
        rc = duties_meet(c, case_id, event_id, ev->created_at, "update", event_id);
    if (rc == STORE_OK && n)
        rc = duties_open(c, case_id, event_id, ev->created_at, duties, n);
    return rc;
}

/* Reads the rows of a DUTY_SELECT statement, bound by the caller, into an
 * arena array; at most `limit` rows when limit > 0, with *more set when
 * another row followed. */
static store_rc duty_rows(conn *c, sqlite3_stmt *st, arena *a, size_t limit, store_duty **out,
                          size_t *n, bool *more)
{
    store_duty *arr = NULL;
    size_t cap = 0, count = 0;
    bool oom = false;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (limit && count == limit) {
            if (more)
                *more = true;
            r = SQLITE_DONE;
            break;
        }
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        read_duty(a, st, &arr[count++], &oom);
        if (oom)
            break;
    }
    store_rc rc = oom                ? out_of_memory("read duties")
                  : r != SQLITE_DONE ? fail(c, r, "read duties")
                                     : STORE_OK;
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return rc;
}

static store_rc sqlite_case_duties(void *impl, arena *a, int64_t case_id, store_duty **out,
                                   size_t *n)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_DUTY_OF_CASE);
    if (st) {
        int r = sqlite3_bind_int64(st, 1, case_id);
        rc = r == SQLITE_OK ? duty_rows(c, st, a, 0, out, n, NULL) : fail(c, r, "read duties");
    }
    stmt_done(st);
    pool_give(s, c);
    return rc;
}

typedef struct flags_write {
    int64_t case_id;
    bool enhanced;
    const char *team;
    const store_duty_retime *retimes;
    size_t n;
    int64_t at;
} flags_write;

static store_rc set_flags_job(conn *c, void *arg)
{
    flags_write *w = arg;
    sqlite3_stmt *st = stmt(c, ST_CASE_SET_FLAGS);
    if (!st)
        return STORE_ERROR;
    int changes = 0;
    int bound = sqlite3_bind_int64(st, 1, w->case_id) ||
                sqlite3_bind_int(st, 2, w->enhanced ? 1 : 0) || bind_text(st, 3, w->team) ||
                sqlite3_bind_int64(st, 4, w->at);
    store_rc rc = write_step(c, st, bound, "change a case's flags", NULL, &changes);
    if (rc == STORE_OK && changes == 0)
        rc = STORE_NOT_FOUND;
    for (size_t i = 0; i < w->n && rc == STORE_OK; i++) {
        st = stmt(c, ST_DUTY_RETIME);
        if (!st)
            return STORE_ERROR;
        bound = sqlite3_bind_int64(st, 1, w->retimes[i].id) ||
                sqlite3_bind_int64(st, 2, w->case_id) ||
                sqlite3_bind_int(st, 3, w->retimes[i].days) ||
                sqlite3_bind_int64(st, 4, w->retimes[i].due_at);
        rc = write_step(c, st, bound, "re-time a duty", NULL, NULL);
    }
    return rc;
}

static store_rc sqlite_case_set_flags(void *impl, int64_t case_id, bool enhanced, const char *team,
                                      const store_duty_retime *retimes, size_t n, int64_t at)
{
    flags_write w = {.case_id = case_id,
                     .enhanced = enhanced,
                     .team = team,
                     .retimes = retimes,
                     .n = n,
                     .at = at};
    return write_run(impl, set_flags_job, &w);
}

typedef struct delivery_write {
    int64_t case_id;
    int64_t event_id;
    int64_t at;
} delivery_write;

static store_rc met_by_delivery_job(conn *c, void *arg)
{
    delivery_write *w = arg;
    return duties_meet(c, w->case_id, w->event_id, w->at, "delivery", w->event_id);
}

static store_rc sqlite_duty_met_by_delivery(void *impl, int64_t case_id, int64_t event_id,
                                            int64_t at)
{
    delivery_write w = {.case_id = case_id, .event_id = event_id, .at = at};
    return write_run(impl, met_by_delivery_job, &w);
}

typedef struct sweep_write {
    int64_t now;
    size_t max;
    size_t n;
} sweep_write;

static store_rc sweep_job(conn *c, void *arg)
{
    sweep_write *w = arg;
    w->n = 0;
    sqlite3_stmt *st = stmt(c, ST_DUTY_SWEEP);
    if (!st)
        return STORE_ERROR;
    int r = sqlite3_bind_int64(st, 1, w->now);
    if (r == SQLITE_OK)
        r = sqlite3_bind_int64(st, 2, (int64_t)w->max);
    /* As in duties_meet: the changes are made, the rows then read. */
    store_rc rc = STORE_OK;
    while (rc == STORE_OK && r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        char duty[TLOG_CODE_MAX + 1];
        copy_code(st, 1, duty);
        tlog_entry e = {
            .kind = TLOG_DUTY_MISSED, .time = sqlite3_column_int64(st, 2), .duty = duty};
        uint64_t index = 0;
        rc = log_case_append(c, sqlite3_column_int64(st, 0), &e, &index);
        w->n++;
        r = SQLITE_OK;
    }
    stmt_done(st);
    if (rc == STORE_OK && r != SQLITE_DONE)
        rc = fail(c, r, "sweep missed duties");
    return rc;
}

static store_rc sqlite_duty_sweep(void *impl, int64_t now, size_t max, size_t *n)
{
    sq_store *s = impl;
    *n = 0;
    /* A read first, so that a sweep with nothing due costs no write. */
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    int r = SQLITE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_DUTY_UNSWEPT);
    if (st) {
        r = sqlite3_bind_int64(st, 1, now);
        if (r == SQLITE_OK)
            r = sqlite3_step(st);
        rc = r == SQLITE_ROW || r == SQLITE_DONE ? STORE_OK : fail(c, r, "look for missed duties");
    }
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK || r == SQLITE_DONE)
        return rc;
    sweep_write w = {.now = now, .max = max};
    rc = write_run(impl, sweep_job, &w);
    *n = rc == STORE_OK ? w.n : 0;
    return rc;
}

static store_rc sqlite_duty_worklist(void *impl, arena *a, const store_duty_filter *f,
                                     store_duty **out, size_t *n, bool *more)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    *more = false;
    int limit = f->limit < 1 ? 1 : f->limit > LIST_MAX ? LIST_MAX : f->limit;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_DUTY_WORKLIST);
    if (st) {
        bool first = f->after_id <= 0;
        int r = SQLITE_OK;
        if (sqlite3_bind_int64(st, 1, f->org_id) ||
            sqlite3_bind_int64(st, 2, first ? INT64_MIN : f->after_due_at) ||
            sqlite3_bind_int64(st, 3, first ? 0 : f->after_id) ||
            bind_text(st, 4, f->service_code) || bind_text(st, 5, f->team) ||
            sqlite3_bind_int(st, 6, (int)f->which) || sqlite3_bind_int64(st, 7, f->now) ||
            sqlite3_bind_int(st, 8, limit + 1))
            r = bind_error(c);
        rc = r == SQLITE_OK ? duty_rows(c, st, a, (size_t)limit, out, n, more)
                            : fail(c, r, "list duties");
    }
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK)
        *more = false;
    return rc;
}

static store_rc sqlite_duty_compliance(void *impl, arena *a, int64_t org_id,
                                       const char *service_code, int64_t from, int64_t to,
                                       int64_t now, store_duty_count **out, size_t *n)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    store_duty_count *arr = NULL;
    size_t cap = 0, count = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_DUTY_COMPLIANCE);
    if (!st)
        goto out;
    int r = SQLITE_OK;
    if (sqlite3_bind_int64(st, 1, org_id) || sqlite3_bind_int64(st, 2, from) ||
        sqlite3_bind_int64(st, 3, to) || sqlite3_bind_int64(st, 4, now) ||
        bind_text(st, 5, service_code))
        r = bind_error(c);
    bool oom = false;
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        store_duty_count *row = &arr[count++];
        row->service_code = col_text(a, st, 0, &oom);
        row->met = sqlite3_column_int64(st, 1);
        row->met_late = sqlite3_column_int64(st, 2);
        row->missed = sqlite3_column_int64(st, 3);
        if (oom)
            break;
        r = SQLITE_OK;
    }
    rc = oom                ? out_of_memory("count duties")
         : r != SQLITE_DONE ? fail(c, r, "count duties")
                            : STORE_OK;
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return rc;
}

static store_rc sqlite_org_calendar_get(void *impl, arena *a, int64_t org_id, store_calendar *out)
{
    sq_store *s = impl;
    memset(out, 0, sizeof(*out));
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = stmt(c, ST_CALENDAR_GET);
    if (st) {
        int r = sqlite3_bind_int64(st, 1, org_id);
        if (r == SQLITE_OK)
            r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            bool oom = false;
            out->org_id = sqlite3_column_int64(st, 0);
            out->calendar = col_text(a, st, 1, &oom);
            out->holidays = col_text(a, st, 2, &oom);
            out->updated_at = sqlite3_column_int64(st, 3);
            rc = oom ? out_of_memory("read a calendar") : STORE_OK;
        } else {
            rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read a calendar");
        }
    }
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc calendar_set_job(conn *c, void *arg)
{
    const store_calendar *cal = arg;
    sqlite3_stmt *st = stmt(c, ST_CALENDAR_SET);
    if (!st)
        return STORE_ERROR;
    int bound = sqlite3_bind_int64(st, 1, cal->org_id) || bind_text(st, 2, cal->calendar) ||
                bind_text(st, 3, cal->holidays) || sqlite3_bind_int64(st, 4, cal->updated_at);
    return write_step(c, st, bound, "set a calendar", NULL, NULL);
}

static store_rc sqlite_org_calendar_set(void *impl, const store_calendar *c)
{
    store_calendar w = *c;
    return write_run(impl, calendar_set_job, &w);
}

/* ---- notifications (0003) ----
 *
 * Preferences, templates, webhooks and the outbox. These statements are
 * prepared on each use rather than kept per connection: none is on a path
 * where a prepare counts beside the write's fsync. */

/* One bound value: an integer, an integer that is NULL when 0, or text
 * (NULL for SQL NULL). */
typedef struct nt_arg {
    char kind; /* 'i', 'z' or 's' */
    int64_t i;
    const char *s;
} nt_arg;

#define NT_I(v) ((nt_arg){'i', (v), NULL})
#define NT_Z(v) ((nt_arg){'z', (v), NULL})
#define NT_S(v) ((nt_arg){'s', 0, (v)})

/* Prepares `sql` and binds args; NULL (logged, *r set) on failure. */
static sqlite3_stmt *nt_prepare(conn *c, const char *sql, const nt_arg *args, int nargs, int *r)
{
    sqlite3_stmt *st = NULL;
    *r = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (*r != SQLITE_OK) {
        log_db(false, "prepare a notification statement", c->db);
        return NULL;
    }
    for (int i = 0; i < nargs && *r == SQLITE_OK; i++) {
        const nt_arg *a = &args[i];
        if (a->kind == 's')
            *r = bind_text(st, i + 1, a->s);
        else if (a->kind == 'z')
            *r = bind_or_null(st, i + 1, a->i);
        else
            *r = sqlite3_bind_int64(st, i + 1, a->i);
    }
    if (*r != SQLITE_OK) {
        *r = bind_error(c);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Runs a statement that returns no rows; *changes gets the rows changed. */
static store_rc nt_run(conn *c, const char *sql, const nt_arg *args, int nargs, int *changes,
                       const char *what)
{
    int r;
    sqlite3_stmt *st = nt_prepare(c, sql, args, nargs, &r);
    if (st) {
        r = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    if (r != SQLITE_DONE)
        return fail(c, r, what);
    if (changes)
        *changes = sqlite3_changes(c->db);
    return STORE_OK;
}

#define NT_NOTICE_COLUMNS                                                                          \
    "n.id, n.org_id, n.case_id, n.webhook_id, n.kind, n.channel, n.recipient, n.subject, n.body,"  \
    " n.status, n.attempts, n.next_at, n.created_at, n.delivered_at, n.last_error, n.to_staff"

static void nt_read_notice(arena *a, sqlite3_stmt *st, store_notice *out, bool *oom)
{
    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(st, 0);
    out->org_id = sqlite3_column_int64(st, 1);
    out->case_id = sqlite3_column_int64(st, 2);
    out->webhook_id = sqlite3_column_int64(st, 3);
    out->kind = col_text(a, st, 4, oom);
    out->channel = col_text(a, st, 5, oom);
    out->recipient = col_text(a, st, 6, oom);
    out->subject = col_text(a, st, 7, oom);
    out->body = col_text(a, st, 8, oom);
    out->status = col_text(a, st, 9, oom);
    out->attempts = sqlite3_column_int(st, 10);
    out->next_at = sqlite3_column_int64(st, 11);
    out->created_at = sqlite3_column_int64(st, 12);
    out->delivered_at = sqlite3_column_int64(st, 13);
    out->last_error = col_text(a, st, 14, oom);
    out->to_staff = sqlite3_column_int(st, 15) != 0;
    out->reference = col_text(a, st, 16, oom);
    out->secret = col_text(a, st, 17, oom);
}

/* Reads every row of a prepared query with `read` into an arena array. */
typedef void (*nt_reader)(arena *a, sqlite3_stmt *st, void *row, bool *oom);

static store_rc nt_rows(conn *c, arena *a, sqlite3_stmt *st, size_t size, nt_reader read,
                        void **out, size_t *n, const char *what)
{
    void *arr = NULL;
    size_t cap = 0, count = 0;
    bool oom = false;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!grow(a, &arr, &cap, count, size)) {
            oom = true;
            break;
        }
        read(a, st, (char *)arr + count * size, &oom);
        count++;
        if (oom)
            break;
    }
    sqlite3_finalize(st);
    if (oom)
        return out_of_memory(what);
    if (r != SQLITE_DONE)
        return fail(c, r, what);
    *out = arr;
    *n = count;
    return STORE_OK;
}

static void nt_notice_row(arena *a, sqlite3_stmt *st, void *row, bool *oom)
{
    nt_read_notice(a, st, row, oom);
}

/* A read on a pooled connection: prepares, hands the statement to `fn`. */
static store_rc nt_read(sq_store *s, arena *a, const char *sql, const nt_arg *args, int nargs,
                        size_t size, nt_reader read, void **out, size_t *n, const char *what)
{
    conn *c = pool_take(s);
    int r;
    store_rc rc;
    sqlite3_stmt *st = nt_prepare(c, sql, args, nargs, &r);
    rc = st ? nt_rows(c, a, st, size, read, out, n, what) : fail(c, r, what);
    pool_give(s, c);
    return rc;
}

/* Inserts notices for case_id (when not 0, it overrides theirs), caused by
 * event_id (0: none). */
static store_rc notices_insert(conn *c, int64_t case_id, int64_t event_id,
                               const store_notice *notices, size_t n)
{
    static const char sql[] =
        "INSERT INTO notifications (org_id, case_id, webhook_id, kind, channel, recipient,"
        " subject, body, status, next_at, created_at, event_id, to_staff) VALUES (?1, ?2, ?3, ?4,"
        " ?5, ?6, ?7, ?8, coalesce(?10, CASE WHEN ?5 IN ('post', 'phone') THEN 'open'"
        " ELSE 'pending' END), ?9, ?9, ?11, ?12)";
    for (size_t i = 0; i < n; i++) {
        const store_notice *x = &notices[i];
        nt_arg args[] = {NT_I(x->org_id),     NT_Z(case_id ? case_id : x->case_id),
                         NT_Z(x->webhook_id), NT_S(x->kind),
                         NT_S(x->channel),    NT_S(x->recipient),
                         NT_S(x->subject),    NT_S(x->body),
                         NT_I(x->created_at), NT_S(x->status),
                         NT_Z(event_id),      NT_I(x->to_staff)};
        store_rc rc = nt_run(c, sql, args, 12, NULL, "write a notification");
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

static store_rc prefs_write(conn *c, int64_t case_id, const store_prefs *p, int *changes)
{
    nt_arg args[] = {NT_I(case_id), NT_S(p->channels), NT_S(p->language), NT_S(p->frequency),
                     NT_I(p->updated_at)};
    return nt_run(c,
                  "INSERT INTO notify_prefs (person_id, channels, language, frequency, updated_at)"
                  " SELECT person_id, ?2, ?3, ?4, ?5 FROM cases"
                  " WHERE id = ?1 AND person_id IS NOT NULL"
                  " ON CONFLICT (person_id) DO UPDATE SET channels = excluded.channels,"
                  " language = excluded.language, frequency = excluded.frequency,"
                  " updated_at = excluded.updated_at",
                  args, 5, changes, "write preferences");
}

static void nt_prefs_row(arena *a, sqlite3_stmt *st, void *row, bool *oom)
{
    store_prefs *p = row;
    p->channels = col_text(a, st, 0, oom);
    p->language = col_text(a, st, 1, oom);
    p->frequency = col_text(a, st, 2, oom);
    p->updated_at = sqlite3_column_int64(st, 3);
}

static store_rc sqlite_prefs_get(void *impl, arena *a, int64_t case_id, store_prefs *out)
{
    nt_arg args[] = {NT_I(case_id)};
    store_prefs *rows = NULL;
    size_t n = 0;
    memset(out, 0, sizeof(*out));
    store_rc rc =
        nt_read(impl, a,
                "SELECT p.channels, p.language, p.frequency, p.updated_at FROM cases c"
                " JOIN notify_prefs p ON p.person_id = c.person_id WHERE c.id = ?1",
                args, 1, sizeof(*rows), nt_prefs_row, (void **)&rows, &n, "read preferences");
    if (rc == STORE_OK && n == 0)
        rc = STORE_NOT_FOUND;
    if (rc == STORE_OK)
        *out = rows[0];
    return rc;
}

typedef struct prefs_job_arg {
    int64_t case_id;
    const store_prefs *p;
    int changes;
} prefs_job_arg;

/* Preferences are the person's consent to be contacted, and only they
 * change them (at the timeline), so the log names the citizen. */
static store_rc prefs_set_job(conn *c, void *arg)
{
    prefs_job_arg *w = arg;
    store_rc rc = prefs_write(c, w->case_id, w->p, &w->changes);
    if (rc != STORE_OK || w->changes == 0)
        return rc;
    tlog_entry e = {
        .kind = TLOG_CONSENT_CHANGED, .time = w->p->updated_at, .actor = TLOG_ACTOR_CITIZEN};
    uint64_t index = 0;
    return log_case_append(c, w->case_id, &e, &index);
}

static store_rc sqlite_prefs_set(void *impl, int64_t case_id, const store_prefs *p)
{
    prefs_job_arg w = {.case_id = case_id, .p = p};
    store_rc rc = write_run(impl, prefs_set_job, &w);
    return rc == STORE_OK && w.changes == 0 ? STORE_NOT_FOUND : rc;
}

static store_rc template_set_job(conn *c, void *arg)
{
    const store_template *t = arg;
    nt_arg args[] = {NT_I(t->service_id), NT_S(t->kind), NT_S(t->language),
                     NT_S(t->subject),    NT_S(t->body), NT_I(t->updated_at)};
    return nt_run(c,
                  "INSERT INTO notify_templates (service_id, kind, language, subject, body,"
                  " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                  " ON CONFLICT (service_id, kind, language) DO UPDATE SET"
                  " subject = excluded.subject, body = excluded.body,"
                  " updated_at = excluded.updated_at",
                  args, 6, NULL, "write a template");
}

static store_rc sqlite_template_set(void *impl, const store_template *t)
{
    return write_run(impl, template_set_job, (void *)t);
}

static void nt_template_row(arena *a, sqlite3_stmt *st, void *row, bool *oom)
{
    store_template *t = row;
    t->service_id = sqlite3_column_int64(st, 0);
    t->kind = col_text(a, st, 1, oom);
    t->language = col_text(a, st, 2, oom);
    t->subject = col_text(a, st, 3, oom);
    t->body = col_text(a, st, 4, oom);
    t->updated_at = sqlite3_column_int64(st, 5);
}

#define NT_TEMPLATE_SELECT                                                                         \
    "SELECT service_id, kind, language, subject, body, updated_at FROM notify_templates"           \
    " WHERE service_id = ?1 "

static store_rc sqlite_template_get(void *impl, arena *a, int64_t service_id, const char *kind,
                                    const char *language, store_template *out)
{
    nt_arg args[] = {NT_I(service_id), NT_S(kind), NT_S(language)};
    store_template *rows = NULL;
    size_t n = 0;
    memset(out, 0, sizeof(*out));
    store_rc rc = nt_read(impl, a, NT_TEMPLATE_SELECT "AND kind = ?2 AND language = ?3", args, 3,
                          sizeof(*rows), nt_template_row, (void **)&rows, &n, "read a template");
    if (rc == STORE_OK && n == 0)
        rc = STORE_NOT_FOUND;
    if (rc == STORE_OK)
        *out = rows[0];
    return rc;
}

static store_rc sqlite_template_list(void *impl, arena *a, int64_t service_id, store_template **out,
                                     size_t *n)
{
    nt_arg args[] = {NT_I(service_id)};
    *out = NULL;
    *n = 0;
    return nt_read(impl, a, NT_TEMPLATE_SELECT "ORDER BY kind, language", args, 1, sizeof(**out),
                   nt_template_row, (void **)out, n, "list templates");
}

typedef struct webhook_job_arg {
    store_webhook *w;
    int64_t id;
} webhook_job_arg;

static store_rc webhook_create_job(conn *c, void *arg)
{
    webhook_job_arg *j = arg;
    nt_arg args[] = {NT_I(j->w->org_id), NT_S(j->w->url), NT_S(j->w->secret),
                     NT_I(j->w->created_at)};
    store_rc rc = nt_run(c,
                         "INSERT INTO webhooks (org_id, url, secret, created_at)"
                         " VALUES (?1, ?2, ?3, ?4)",
                         args, 4, NULL, "add a webhook");
    if (rc == STORE_OK)
        j->id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

static store_rc sqlite_webhook_create(void *impl, store_webhook *w)
{
    webhook_job_arg j = {.w = w};
    store_rc rc = write_run(impl, webhook_create_job, &j);
    w->id = rc == STORE_OK ? j.id : 0;
    return rc;
}

static void nt_webhook_row(arena *a, sqlite3_stmt *st, void *row, bool *oom)
{
    store_webhook *w = row;
    w->id = sqlite3_column_int64(st, 0);
    w->org_id = sqlite3_column_int64(st, 1);
    w->url = col_text(a, st, 2, oom);
    w->secret = col_text(a, st, 3, oom);
    w->created_at = sqlite3_column_int64(st, 4);
}

static store_rc sqlite_webhook_list(void *impl, arena *a, int64_t org_id, store_webhook **out,
                                    size_t *n)
{
    nt_arg args[] = {NT_I(org_id)};
    *out = NULL;
    *n = 0;
    return nt_read(impl, a,
                   "SELECT id, org_id, url, secret, created_at FROM webhooks"
                   " WHERE org_id = ?1 AND active = 1 ORDER BY id",
                   args, 1, sizeof(**out), nt_webhook_row, (void **)out, n, "list webhooks");
}

typedef struct webhook_remove_arg {
    int64_t org_id, id;
    int changes;
} webhook_remove_arg;

static store_rc webhook_remove_job(conn *c, void *arg)
{
    webhook_remove_arg *w = arg;
    nt_arg args[] = {NT_I(w->org_id), NT_I(w->id)};
    store_rc rc =
        nt_run(c, "UPDATE webhooks SET active = 0 WHERE org_id = ?1 AND id = ?2 AND active = 1",
               args, 2, &w->changes, "remove a webhook");
    if (rc != STORE_OK || w->changes == 0)
        return rc;
    return nt_run(c,
                  "UPDATE notifications SET status = 'failed', lease_until = NULL,"
                  " last_error = 'the subscription was removed' WHERE org_id = ?1"
                  " AND webhook_id = ?2 AND status = 'pending'",
                  args, 2, NULL, "remove a webhook");
}

static store_rc sqlite_webhook_remove(void *impl, int64_t org_id, int64_t id)
{
    webhook_remove_arg w = {.org_id = org_id, .id = id};
    store_rc rc = write_run(impl, webhook_remove_job, &w);
    return rc == STORE_OK && w.changes == 0 ? STORE_NOT_FOUND : rc;
}

typedef struct notice_add_arg {
    const store_notice *notices;
    size_t n;
} notice_add_arg;

static store_rc notice_add_job(conn *c, void *arg)
{
    notice_add_arg *w = arg;
    return notices_insert(c, 0, 0, w->notices, w->n);
}

static store_rc sqlite_notice_add(void *impl, const store_notice *notices, size_t n)
{
    notice_add_arg w = {.notices = notices, .n = n};
    return n ? write_run(impl, notice_add_job, &w) : STORE_OK;
}

/* Due on channel ?2 at ?1: a range of notifications_due. */
#define NT_DUE                                                                                     \
    "status = 'pending' AND channel = ?2 AND next_at <= ?1"                                        \
    " AND (lease_until IS NULL OR lease_until <= ?1)"

typedef struct claim_arg {
    arena *a;
    nt_arg args[4];
    store_notice *rows;
    size_t n;
} claim_arg;

static store_rc claim_job(conn *c, void *arg)
{
    claim_arg *w = arg;
    int r;
    sqlite3_stmt *st = nt_prepare(
        c,
        "UPDATE notifications SET lease_until = ?3, attempts = attempts + 1"
        " WHERE id IN (SELECT id FROM notifications WHERE " NT_DUE " ORDER BY next_at"
        " LIMIT ?4) RETURNING id, org_id, case_id, webhook_id, kind, channel, recipient,"
        " subject, body, status, attempts, next_at, created_at, delivered_at, last_error,"
        " to_staff, (SELECT c.reference FROM cases c WHERE c.id = notifications.case_id),"
        " (SELECT w.secret FROM webhooks w WHERE w.id = notifications.webhook_id)",
        w->args, 4, &r);
    if (!st)
        return fail(c, r, "claim notifications");
    return nt_rows(c, w->a, st, sizeof(*w->rows), nt_notice_row, (void **)&w->rows, &w->n,
                   "claim notifications");
}

static store_rc sqlite_notice_claim(void *impl, arena *a, const char *channel, int64_t now,
                                    int lease_s, int max, store_notice **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    /* A read first, so that an idle worker costs no write transaction. */
    nt_arg probe[] = {NT_I(now), NT_S(channel)};
    store_notice *due = NULL;
    size_t ndue = 0;
    store_rc rc = nt_read(impl, a,
                          "SELECT " NT_NOTICE_COLUMNS ", NULL, NULL FROM notifications n"
                          " WHERE " NT_DUE " LIMIT 1",
                          probe, 2, sizeof(*due), nt_notice_row, (void **)&due, &ndue,
                          "look for due notifications");
    if (rc != STORE_OK || ndue == 0)
        return rc;
    claim_arg w = {.a = a, .args = {NT_I(now), NT_S(channel), NT_I(now + lease_s), NT_I(max)}};
    rc = write_run(impl, claim_job, &w);
    if (rc == STORE_OK) {
        *out = w.rows;
        *n = w.n;
    }
    return rc;
}

/* Notification `id` reached its person at `at` (or its letter was posted,
 * its call made): the public log says so, and the duties its event (or an
 * earlier one) triggered are met. A webhook tells a system, and a message to
 * staff the organisation itself, not the person: neither is logged as a
 * notification nor meets a duty. */
static store_rc delivery_settled(conn *c, int64_t id, int64_t at)
{
    nt_arg args[] = {NT_I(id)};
    int r;
    sqlite3_stmt *st = nt_prepare(c,
                                  "SELECT case_id, event_id, channel FROM notifications"
                                  " WHERE id = ?1 AND channel <> 'webhook' AND to_staff = 0"
                                  " AND case_id IS NOT NULL",
                                  args, 1, &r);
    if (!st)
        return fail(c, r, "read a delivered notification");
    r = sqlite3_step(st);
    int64_t case_id = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int64_t event_id = r == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    char channel[TLOG_CODE_MAX + 1] = "";
    if (r == SQLITE_ROW)
        copy_code(st, 2, channel);
    sqlite3_finalize(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return fail(c, r, "read a delivered notification");
    if (!case_id)
        return STORE_OK;
    tlog_entry e = {.kind = TLOG_NOTIFICATION_SENT, .time = at, .action = channel};
    uint64_t index = 0;
    store_rc rc = log_case_append(c, case_id, &e, &index);
    if (rc == STORE_OK && event_id)
        rc = duties_meet(c, case_id, event_id, at, "delivery", event_id);
    return rc;
}

typedef struct result_arg {
    int64_t id;
    int attempt;
    const char *outcome;
    const char *reason;
    int64_t now, next_at;
    int changes;
} result_arg;

static store_rc result_job(conn *c, void *arg)
{
    result_arg *w = arg;
    nt_arg attempt[] = {NT_I(w->id), NT_I(w->now), NT_S(w->outcome), NT_S(w->reason)};
    store_rc rc = nt_run(c,
                         "INSERT INTO notify_attempts (notification_id, at, outcome, reason)"
                         " VALUES (?1, ?2, ?3, ?4)",
                         attempt, 4, NULL, "record a delivery attempt");
    if (rc != STORE_OK)
        return rc;
    /* Only the holder of the latest claim settles the row; a worker whose
     * lease ran out and was overtaken leaves it to the newer attempt. */
    nt_arg args[] = {NT_I(w->id),      NT_I(w->attempt), NT_S(w->outcome),
                     NT_I(w->next_at), NT_I(w->now),     NT_S(w->reason)};
    rc = nt_run(c,
                "UPDATE notifications SET lease_until = NULL, last_error = ?6,"
                " status = CASE ?3 WHEN 'retry' THEN 'pending' ELSE ?3 END,"
                " next_at = CASE ?3 WHEN 'retry' THEN ?4 ELSE next_at END,"
                " delivered_at = CASE ?3 WHEN 'delivered' THEN ?5 END"
                " WHERE id = ?1 AND attempts = ?2 AND status = 'pending'",
                args, 6, &w->changes, "settle a notification");
    if (rc == STORE_OK && w->changes && strcmp(w->outcome, "delivered") == 0)
        rc = delivery_settled(c, w->id, w->now);
    return rc;
}

static const char *outcome_name(store_outcome o)
{
    return o == NOTICE_DELIVERED ? "delivered" : o == NOTICE_RETRY ? "retry" : "failed";
}

static store_rc sqlite_notice_result(void *impl, int64_t id, int attempt, store_outcome outcome,
                                     const char *reason, int64_t now, int64_t next_at)
{
    result_arg w = {.id = id,
                    .attempt = attempt,
                    .outcome = outcome_name(outcome),
                    .reason = outcome == NOTICE_DELIVERED ? NULL : reason,
                    .now = now,
                    .next_at = next_at};
    store_rc rc = write_run(impl, result_job, &w);
    return rc == STORE_OK && w.changes == 0 ? STORE_CONFLICT : rc;
}

static store_rc sqlite_notice_list(void *impl, arena *a, int64_t org_id, const char *status,
                                   int64_t before_id, int limit, store_notice **out, size_t *n)
{
    nt_arg args[] = {NT_I(org_id), NT_S(status), NT_I(before_id), NT_I(limit)};
    *out = NULL;
    *n = 0;
    return nt_read(impl, a,
                   "SELECT " NT_NOTICE_COLUMNS ", c.reference, NULL FROM notifications n"
                   " LEFT JOIN cases c ON c.id = n.case_id WHERE n.org_id = ?1 AND n.status = ?2"
                   " AND (?3 = 0 OR n.id < ?3) ORDER BY n.id DESC LIMIT ?4",
                   args, 4, sizeof(**out), nt_notice_row, (void **)out, n, "list notifications");
}

static void nt_attempt_row(arena *a, sqlite3_stmt *st, void *row, bool *oom)
{
    store_attempt *x = row;
    x->at = sqlite3_column_int64(st, 0);
    x->outcome = col_text(a, st, 1, oom);
    x->reason = col_text(a, st, 2, oom);
}

static store_rc sqlite_notice_get(void *impl, arena *a, int64_t org_id, int64_t id,
                                  store_notice *out, store_attempt **attempts, size_t *n)
{
    nt_arg args[] = {NT_I(org_id), NT_I(id)};
    store_notice *rows = NULL;
    size_t found = 0;
    memset(out, 0, sizeof(*out));
    *attempts = NULL;
    *n = 0;
    store_rc rc = nt_read(impl, a,
                          "SELECT " NT_NOTICE_COLUMNS ", c.reference, NULL FROM notifications n"
                          " LEFT JOIN cases c ON c.id = n.case_id"
                          " WHERE n.org_id = ?1 AND n.id = ?2",
                          args, 2, sizeof(*rows), nt_notice_row, (void **)&rows, &found,
                          "read a notification");
    if (rc == STORE_OK && found == 0)
        return STORE_NOT_FOUND;
    nt_arg of[] = {NT_I(id)};
    if (rc == STORE_OK)
        rc = nt_read(impl, a,
                     "SELECT at, outcome, reason FROM notify_attempts"
                     " WHERE notification_id = ?1 ORDER BY id",
                     of, 1, sizeof(**attempts), nt_attempt_row, (void **)attempts, n,
                     "read delivery attempts");
    if (rc == STORE_OK)
        *out = rows[0];
    return rc;
}

typedef struct task_arg {
    int64_t org_id, id, now;
    int changes;
} task_arg;

static store_rc task_done_job(conn *c, void *arg)
{
    task_arg *w = arg;
    nt_arg args[] = {NT_I(w->org_id), NT_I(w->id), NT_I(w->now)};
    store_rc rc = nt_run(c,
                         "UPDATE notifications SET status = 'done', delivered_at = ?3"
                         " WHERE org_id = ?1 AND id = ?2 AND status = 'open'",
                         args, 3, &w->changes, "mark a task done");
    return rc == STORE_OK && w->changes ? delivery_settled(c, w->id, w->now) : rc;
}

static store_rc sqlite_task_done(void *impl, int64_t org_id, int64_t id, int64_t now)
{
    task_arg w = {.org_id = org_id, .id = id, .now = now};
    store_rc rc = write_run(impl, task_done_job, &w);
    return rc == STORE_OK && w.changes == 0 ? STORE_NOT_FOUND : rc;
}

static void nt_time_row(arena *a, sqlite3_stmt *st, void *row, bool *oom)
{
    (void)a;
    (void)oom;
    *(int64_t *)row = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 0);
}

static store_rc sqlite_notice_delivered(void *impl, int64_t case_id, int64_t since, int64_t *at)
{
    nt_arg args[] = {NT_I(case_id), NT_I(since)};
    arena a;
    int64_t *rows = NULL;
    size_t n = 0;
    *at = 0;
    arena_init(&a);
    store_rc rc =
        nt_read(impl, &a,
                "SELECT min(delivered_at) FROM notifications WHERE case_id = ?1"
                " AND channel <> 'webhook' AND to_staff = 0 AND delivered_at >= ?2",
                args, 2, sizeof(*rows), nt_time_row, (void **)&rows, &n, "read deliveries");
    if (rc == STORE_OK)
        *at = n ? rows[0] : 0;
    arena_free(&a);
    return rc == STORE_OK && *at == 0 ? STORE_NOT_FOUND : rc;
}

/* ---- appeals for witnesses ----
 *
 * Statements of their own, prepared per connection on first use like the
 * others. The public statements select constants in place of the true
 * location, so no public read can carry it whatever its caller does. The map
 * search is driven by the R*Tree (appeals_map, of published appeals only);
 * a radius is a box around the circle in the R*Tree, then the exact
 * great-circle distance, with SQLite's math functions. */

enum {
    AP_INSERT,
    AP_UPDATE,
    AP_SET_OFFICER,
    AP_STATUS,
    AP_GET,
    AP_PUBLIC_GET,
    AP_TRANSITION,
    AP_STAFF_LIST,
    AP_SEARCH_MAP,
    AP_SEARCH_ALL,
    AP_ANSWER_INSERT,
    AP_ANSWER_LIST,
    AP_ANSWER_MARK,
    AP_READ_INSERT,
    AP_BY_RECEIPT,
    AP_READS,
    AP_ORGS,
    AP_STAFF_GET,
    AP_COUNT
};
_Static_assert(AP_COUNT <= APPEAL_STATEMENTS, "too many appeal statements");

/* The columns read_appeal() expects; the public list swaps the restricted
 * ones for constants. */
#define APPEAL_COLUMNS_HEAD "SELECT a.id, a.org_id, o.slug, o.name, a.case_id, "
#define APPEAL_COLUMNS_BODY                                                                        \
    " a.status, a.title, a.description, a.category, a.occurred_from, a.occurred_to, a.contact,"    \
    " a.anonymous_contact, a.expires_at, "
#define APPEAL_COLUMNS_TAIL                                                                        \
    " a.pub_lat, a.pub_lon, a.precision, a.cell_m, a.outcome, a.created_at, a.updated_at,"         \
    " a.published_at, a.closed_at, "
#define APPEAL_STAFF_SELECT                                                                        \
    APPEAL_COLUMNS_HEAD "c.reference," APPEAL_COLUMNS_BODY                                         \
                        "a.true_lat, a.true_lon," APPEAL_COLUMNS_TAIL                              \
                        "(SELECT count(*) FROM appeal_answers x WHERE x.appeal_id = a.id),"        \
                        " a.officer_id FROM appeals a CROSS JOIN orgs o ON o.id = a.org_id"        \
                        " JOIN cases c ON c.id = a.case_id "
#define APPEAL_PUBLIC_COLUMNS                                                                      \
    APPEAL_COLUMNS_HEAD "NULL," APPEAL_COLUMNS_BODY "0, 0," APPEAL_COLUMNS_TAIL "0, NULL"
/* The public search's conditions and order; ?5 onwards. */
#define APPEAL_SEARCH_WHERE                                                                        \
    " a.status = 'published' AND a.expires_at > ?5 AND (?6 = 0 OR a.org_id = ?6)"                  \
    " AND (?7 IS NULL OR a.category = ?7) AND a.published_at >= ?8 AND a.published_at < ?9"        \
    " AND (a.published_at, a.id) < (?10, ?11) AND (?12 = 0 OR 2 * 6371008.8 * asin(min(1,"         \
    " sqrt(pow(sin(radians((a.pub_lat - ?13) / 1e7) / 2), 2) + cos(radians(?13 / 1e7))"            \
    " * cos(radians(a.pub_lat / 1e7)) * pow(sin(radians((a.pub_lon - ?14) / 1e7) / 2), 2))))"      \
    " <= ?12) ORDER BY a.published_at DESC, a.id DESC LIMIT ?15"
#define ANSWER_COLUMNS                                                                             \
    "SELECT x.id, x.appeal_id, %s, x.receipt, x.secret_hash, x.saw, x.seen_when, x.seen_lat,"      \
    " x.seen_lon, x.anonymous, x.channel, %s, x.created_at, x.first_read_at FROM appeal_answers "  \
    "x "

static const char *const appeal_sql[AP_COUNT] = {
    /* The case must be the organisation's: no row is inserted otherwise. */
    [AP_INSERT] = "INSERT INTO appeals (org_id, case_id, status, title, description, category,"
                  " occurred_from, occurred_to, contact, anonymous_contact, expires_at, true_lat,"
                  " true_lon, pub_lat, pub_lon, precision, cell_m, created_at, updated_at,"
                  " officer_id) SELECT ?1, id, 'draft', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                  " ?13, ?14, ?15, ?16, ?17, ?17, ?18 FROM cases WHERE id = ?2 AND org_id = ?1",
    [AP_UPDATE] = "UPDATE appeals SET title = ?3, description = ?4, category = ?5,"
                  " occurred_from = ?6, occurred_to = ?7, contact = ?8, anonymous_contact = ?9,"
                  " expires_at = ?10, true_lat = ?11, true_lon = ?12, pub_lat = ?13,"
                  " pub_lon = ?14, precision = ?15, cell_m = ?16, updated_at = ?17,"
                  " officer_id = ?18 WHERE org_id = ?1 AND id = ?2 AND status = 'draft'",
    [AP_SET_OFFICER] = "UPDATE appeals SET officer_id = ?3, updated_at = ?4"
                       " WHERE org_id = ?1 AND id = ?2 AND status <> 'closed'",
    [AP_STATUS] = "SELECT status, case_id, expires_at FROM appeals WHERE id = ?1"
                  " AND (?2 = 0 OR org_id = ?2)",
    [AP_GET] = APPEAL_STAFF_SELECT "WHERE a.id = ?1 AND a.org_id = ?2",
    [AP_PUBLIC_GET] = APPEAL_PUBLIC_COLUMNS " FROM appeals a CROSS JOIN orgs o ON o.id = a.org_id"
                                            " WHERE a.id = ?1 AND a.status <> 'draft'",
    [AP_TRANSITION] = "UPDATE appeals SET status = ?3, updated_at = ?5,"
                      " published_at = CASE WHEN ?3 = 'published' THEN ?5 ELSE published_at END,"
                      " closed_at = CASE WHEN ?3 = 'closed' THEN ?5 ELSE closed_at END,"
                      " outcome = coalesce(?6, outcome)"
                      " WHERE id = ?1 AND org_id = ?2 AND status = ?4",
    [AP_STAFF_LIST] = APPEAL_STAFF_SELECT
    "WHERE a.org_id = ?1 AND (?2 IS NULL OR a.status = ?2) AND (a.created_at, a.id) < (?3, ?4)"
    " ORDER BY a.created_at DESC, a.id DESC LIMIT ?5",
    /* CROSS JOIN keeps the R*Tree as the outer loop. */
    [AP_SEARCH_MAP] = APPEAL_PUBLIC_COLUMNS
    " FROM appeals_map m CROSS JOIN appeals a ON a.id = m.id CROSS JOIN orgs o ON o.id = a.org_id"
    " WHERE m.max_lon >= ?1 AND m.min_lon <= ?2 AND m.max_lat >= ?3 AND m.min_lat <= ?4"
    " AND a.pub_lon BETWEEN ?1 AND ?2 AND a.pub_lat BETWEEN ?3 AND ?4 AND" APPEAL_SEARCH_WHERE,
    [AP_SEARCH_ALL] = APPEAL_PUBLIC_COLUMNS
    " FROM appeals a CROSS JOIN orgs o ON o.id = a.org_id"
    " WHERE ?1 = ?1 AND ?2 = ?2 AND ?3 = ?3 AND ?4 = ?4 AND" APPEAL_SEARCH_WHERE,
    [AP_ANSWER_INSERT] = "INSERT INTO appeal_answers (appeal_id, receipt, secret_hash, saw,"
                         " seen_when, seen_lat, seen_lon, person_id, channel, anonymous,"
                         " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [AP_ANSWER_LIST] = NULL, /* built by answer_sql() */
    [AP_ANSWER_MARK] = "UPDATE appeal_answers SET first_read_at = ?2"
                       " WHERE id = ?1 AND first_read_at IS NULL",
    [AP_READ_INSERT] = "INSERT INTO appeal_answer_reads (answer_id, reader_org_id, user_id,"
                       " key_id, reader_name, role, purpose, at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [AP_BY_RECEIPT] = NULL, /* built by answer_sql() */
    /* The columns of read_access(). */
    [AP_READS] = "SELECT r.id, 0, 0, r.reader_org_id, o.name, r.user_id, r.key_id,"
                 " r.reader_name, r.role, 'read', r.purpose, r.at FROM appeal_answer_reads r"
                 " CROSS JOIN orgs o ON o.id = r.reader_org_id WHERE r.answer_id = ?1"
                 " ORDER BY r.at DESC, r.id DESC",
    [AP_ORGS] = "SELECT id, slug, name FROM orgs ORDER BY name, id",
    /* The columns of read_appeal_staff(). */
    [AP_STAFF_GET] = "SELECT a.id, a.org_id, o.name, a.title, a.case_id, c.reference, s.code,"
                     " u.id, u.org_id, u.email, u.name, u.role FROM appeals a"
                     " CROSS JOIN orgs o ON o.id = a.org_id JOIN cases c ON c.id = a.case_id"
                     " JOIN services s ON s.id = c.service_id"
                     " LEFT JOIN users u ON u.id = a.officer_id"
                     " WHERE a.id = ?1 AND a.status <> 'draft'",
};

/* The answer statements share their columns: the staff list with the
 * person, the receipt look-up with the appeal's title and no person. */
static void answer_sql(int id, char *out, size_t len)
{
    char head[512];
    if (id == AP_ANSWER_LIST) {
        snprintf(head, sizeof(head), ANSWER_COLUMNS, "NULL",
                 "p.id, p.name, p.email, p.phone, p.address, p.postcode");
        snprintf(out, len,
                 "%sLEFT JOIN persons p ON p.id = x.person_id WHERE x.appeal_id = ?1"
                 " AND x.id < ?2 ORDER BY x.id DESC LIMIT ?3",
                 head);
    } else {
        snprintf(head, sizeof(head), ANSWER_COLUMNS, "a.title",
                 "NULL, NULL, NULL, NULL, NULL, NULL");
        snprintf(out, len, "%sJOIN appeals a ON a.id = x.appeal_id WHERE x.receipt = ?1", head);
    }
}

static sqlite3_stmt *ap_stmt(conn *c, int id)
{
    if (c->appeal_stmts[id])
        return c->appeal_stmts[id];
    char built[1024];
    const char *sql = appeal_sql[id];
    if (!sql) {
        answer_sql(id, built, sizeof(built));
        sql = built;
    }
    int r =
        sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->appeal_stmts[id], NULL);
    if (r != SQLITE_OK) {
        log_db(false, "prepare an appeal statement", c->db);
        c->appeal_stmts[id] = NULL;
    }
    return c->appeal_stmts[id];
}

static void read_appeal(arena *a, sqlite3_stmt *st, store_appeal *out, bool *oom)
{
    out->id = sqlite3_column_int64(st, 0);
    out->org_id = sqlite3_column_int64(st, 1);
    out->org_slug = col_text(a, st, 2, oom);
    out->org_name = col_text(a, st, 3, oom);
    out->case_id = sqlite3_column_int64(st, 4);
    out->case_reference = col_text(a, st, 5, oom);
    out->status = col_text(a, st, 6, oom);
    out->title = col_text(a, st, 7, oom);
    out->description = col_text(a, st, 8, oom);
    out->category = col_text(a, st, 9, oom);
    out->occurred_from = sqlite3_column_int64(st, 10);
    out->occurred_to = sqlite3_column_int64(st, 11);
    out->contact = col_text(a, st, 12, oom);
    out->anonymous_contact = col_text(a, st, 13, oom);
    out->expires_at = sqlite3_column_int64(st, 14);
    out->true_lat = sqlite3_column_int(st, 15);
    out->true_lon = sqlite3_column_int(st, 16);
    out->pub_lat = sqlite3_column_int(st, 17);
    out->pub_lon = sqlite3_column_int(st, 18);
    out->precision = col_text(a, st, 19, oom);
    out->cell_m = sqlite3_column_int(st, 20);
    out->outcome = col_text(a, st, 21, oom);
    out->created_at = sqlite3_column_int64(st, 22);
    out->updated_at = sqlite3_column_int64(st, 23);
    out->published_at = sqlite3_column_int64(st, 24);
    out->closed_at = sqlite3_column_int64(st, 25);
    out->answers = sqlite3_column_int64(st, 26);
    out->officer_id = sqlite3_column_int64(st, 27);
}

static void read_answer(arena *a, sqlite3_stmt *st, store_answer *out, bool *oom)
{
    out->id = sqlite3_column_int64(st, 0);
    out->appeal_id = sqlite3_column_int64(st, 1);
    out->appeal_title = col_text(a, st, 2, oom);
    out->receipt = col_text(a, st, 3, oom);
    const void *hash = sqlite3_column_blob(st, 4);
    if (hash && sqlite3_column_bytes(st, 4) == (int)sizeof(out->secret_hash))
        memcpy(out->secret_hash, hash, sizeof(out->secret_hash));
    out->saw = col_text(a, st, 5, oom);
    out->seen_when = col_text(a, st, 6, oom);
    out->has_point = sqlite3_column_type(st, 7) != SQLITE_NULL;
    out->seen_lat = sqlite3_column_int(st, 7);
    out->seen_lon = sqlite3_column_int(st, 8);
    out->anonymous = sqlite3_column_int(st, 9) != 0;
    out->channel = col_text(a, st, 10, oom);
    out->person.id = sqlite3_column_int64(st, 11);
    out->person.name = col_text(a, st, 12, oom);
    out->person.email = col_text(a, st, 13, oom);
    out->person.phone = col_text(a, st, 14, oom);
    out->person.address = col_text(a, st, 15, oom);
    out->person.postcode = col_text(a, st, 16, oom);
    out->created_at = sqlite3_column_int64(st, 17);
    out->first_read_at = sqlite3_column_int64(st, 18);
}

/* Binds the fields an appeal's insert and update share, ?1 and ?3..?18. */
static int bind_appeal(sqlite3_stmt *st, const store_appeal *a)
{
    return sqlite3_bind_int64(st, 1, a->org_id) || bind_text(st, 3, a->title) ||
           bind_text(st, 4, a->description) || bind_text(st, 5, a->category) ||
           sqlite3_bind_int64(st, 6, a->occurred_from) || bind_or_null(st, 7, a->occurred_to) ||
           bind_text(st, 8, a->contact) || bind_text(st, 9, a->anonymous_contact) ||
           sqlite3_bind_int64(st, 10, a->expires_at) || sqlite3_bind_int(st, 11, a->true_lat) ||
           sqlite3_bind_int(st, 12, a->true_lon) || sqlite3_bind_int(st, 13, a->pub_lat) ||
           sqlite3_bind_int(st, 14, a->pub_lon) || bind_text(st, 15, a->precision) ||
           sqlite3_bind_int(st, 16, a->cell_m) || sqlite3_bind_int64(st, 17, a->updated_at) ||
           bind_or_null(st, 18, a->officer_id);
}

/* The status, case and expiry of an appeal (of org_id, unless 0). */
static store_rc appeal_status(conn *c, int64_t id, int64_t org_id, char status[16],
                              int64_t *case_id, int64_t *expires_at)
{
    sqlite3_stmt *st = ap_stmt(c, AP_STATUS);
    if (!st)
        return STORE_ERROR;
    int r = sqlite3_bind_int64(st, 1, id);
    if (r == SQLITE_OK)
        r = sqlite3_bind_int64(st, 2, org_id);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    store_rc rc = STORE_OK;
    if (r == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(status, 16, "%s", t ? (const char *)t : "");
        *case_id = sqlite3_column_int64(st, 1);
        *expires_at = sqlite3_column_int64(st, 2);
    } else {
        rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read an appeal's status");
    }
    stmt_done(st);
    return rc;
}

/* Why a write of (org_id, id) changed no row: STORE_NOT_FOUND when there is
 * no such appeal, STORE_CONFLICT when its status refused the change. */
static store_rc appeal_unchanged(conn *c, int64_t id, int64_t org_id)
{
    char status[16];
    int64_t case_id, expires;
    store_rc rc = appeal_status(c, id, org_id, status, &case_id, &expires);
    return rc == STORE_OK ? STORE_CONFLICT : rc;
}

typedef struct appeal_write {
    store_appeal *a;
    bool create;
    int64_t id;
} appeal_write;

static store_rc appeal_write_job(conn *c, void *arg)
{
    appeal_write *w = arg;
    sqlite3_stmt *st = ap_stmt(c, w->create ? AP_INSERT : AP_UPDATE);
    if (!st)
        return STORE_ERROR;
    int changes = 0;
    int bound =
        bind_appeal(st, w->a) || sqlite3_bind_int64(st, 2, w->create ? w->a->case_id : w->a->id);
    store_rc rc = write_step(c, st, bound, w->create ? "create an appeal" : "update an appeal",
                             &w->id, &changes);
    if (rc != STORE_OK || changes == 1)
        return rc;
    return w->create ? STORE_NOT_FOUND : appeal_unchanged(c, w->a->id, w->a->org_id);
}

static store_rc sqlite_appeal_create(void *impl, store_appeal *a)
{
    a->created_at = a->updated_at = now_or(a->created_at);
    a->status = "draft";
    appeal_write w = {.a = a, .create = true};
    store_rc rc = write_run(impl, appeal_write_job, &w);
    a->id = rc == STORE_OK ? w.id : 0;
    return rc;
}

static store_rc sqlite_appeal_update(void *impl, store_appeal *a)
{
    a->updated_at = now_or(a->updated_at);
    appeal_write w = {.a = a};
    return write_run(impl, appeal_write_job, &w);
}

typedef struct officer_change {
    int64_t org_id, id, officer_id, at;
} officer_change;

static store_rc appeal_officer_job(conn *c, void *arg)
{
    officer_change *w = arg;
    sqlite3_stmt *st = ap_stmt(c, AP_SET_OFFICER);
    if (!st)
        return STORE_ERROR;
    int changes = 0;
    int bound =
        sqlite3_bind_int64(st, 1, w->org_id) || sqlite3_bind_int64(st, 2, w->id) ||
        (w->officer_id ? sqlite3_bind_int64(st, 3, w->officer_id) : sqlite3_bind_null(st, 3)) ||
        sqlite3_bind_int64(st, 4, w->at);
    store_rc rc = write_step(c, st, bound, "change an appeal's officer", NULL, &changes);
    if (rc != STORE_OK || changes == 1)
        return rc;
    return appeal_unchanged(c, w->id, w->org_id);
}

static store_rc sqlite_appeal_set_officer(void *impl, int64_t org_id, int64_t id,
                                          int64_t officer_id, int64_t at)
{
    officer_change w = {.org_id = org_id, .id = id, .officer_id = officer_id, .at = at};
    return write_run(impl, appeal_officer_job, &w);
}

static store_rc appeal_read(sq_store *s, arena *a, int which, int64_t id, int64_t org_id,
                            store_appeal *out)
{
    memset(out, 0, sizeof(*out));
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = ap_stmt(c, which);
    if (!st)
        goto out;
    int r = sqlite3_bind_int64(st, 1, id);
    if (r == SQLITE_OK && which == AP_GET)
        r = sqlite3_bind_int64(st, 2, org_id);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        bool oom = false;
        read_appeal(a, st, out, &oom);
        rc = oom ? out_of_memory("read an appeal") : STORE_OK;
    } else {
        rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read an appeal");
    }
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc sqlite_appeal_get(void *impl, arena *a, int64_t org_id, int64_t id,
                                  store_appeal *out)
{
    return appeal_read(impl, a, AP_GET, id, org_id, out);
}

static store_rc sqlite_appeal_public_get(void *impl, arena *a, int64_t id, store_appeal *out)
{
    return appeal_read(impl, a, AP_PUBLIC_GET, id, 0, out);
}

static store_rc sqlite_appeal_staff_get(void *impl, arena *a, int64_t id, store_appeal_staff *out)
{
    sq_store *s = impl;
    memset(out, 0, sizeof(*out));
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = ap_stmt(c, AP_STAFF_GET);
    if (!st)
        goto out;
    int r = sqlite3_bind_int64(st, 1, id);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        bool oom = false;
        out->id = sqlite3_column_int64(st, 0);
        out->org_id = sqlite3_column_int64(st, 1);
        out->org_name = col_text(a, st, 2, &oom);
        out->title = col_text(a, st, 3, &oom);
        out->case_id = sqlite3_column_int64(st, 4);
        out->case_reference = col_text(a, st, 5, &oom);
        out->service_code = col_text(a, st, 6, &oom);
        out->officer.id = sqlite3_column_int64(st, 7);
        out->officer.org_id = sqlite3_column_int64(st, 8);
        out->officer.email = col_text(a, st, 9, &oom);
        out->officer.name = col_text(a, st, 10, &oom);
        out->officer.role = col_text(a, st, 11, &oom);
        rc = oom ? out_of_memory("read an appeal's staff") : STORE_OK;
    } else {
        rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read an appeal's staff");
    }
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

typedef struct transition_write {
    int64_t org_id;
    int64_t id;
    const char *from;
    const char *to;
    const char *outcome;
    store_event *ev;
} transition_write;

static store_rc transition_job(conn *c, void *arg)
{
    transition_write *w = arg;
    char status[16];
    int64_t case_id = 0, expires;
    store_rc rc = appeal_status(c, w->id, w->org_id, status, &case_id, &expires);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = ap_stmt(c, AP_TRANSITION);
    if (!st)
        return STORE_ERROR;
    int changes = 0;
    int bound = sqlite3_bind_int64(st, 1, w->id) || sqlite3_bind_int64(st, 2, w->org_id) ||
                bind_text(st, 3, w->to) || bind_text(st, 4, w->from) ||
                sqlite3_bind_int64(st, 5, w->ev->created_at) || bind_text(st, 6, w->outcome);
    rc = write_step(c, st, bound, "change an appeal's status", NULL, &changes);
    if (rc != STORE_OK)
        return rc;
    if (changes != 1)
        return STORE_CONFLICT;
    event_write ew = {.case_id = case_id, .ev = w->ev};
    rc = event_append_job(c, &ew);
    w->ev->id = rc == STORE_OK ? ew.id : 0;
    return rc;
}

static store_rc sqlite_appeal_transition(void *impl, int64_t org_id, int64_t id, const char *from,
                                         const char *to, const char *outcome, store_event *ev)
{
    transition_write w = {
        .org_id = org_id, .id = id, .from = from, .to = to, .outcome = outcome, .ev = ev};
    ev->id = 0;
    store_rc rc = write_run(impl, transition_job, &w);
    if (rc != STORE_OK)
        ev->id = 0;
    return rc;
}

/* Steps a bound list statement into an arena array of appeals, one more
 * than `limit` telling whether another page exists. */
static store_rc appeal_rows(conn *c, arena *a, sqlite3_stmt *st, int r, int limit,
                            store_appeal **out, size_t *n, bool *more)
{
    store_appeal *arr = NULL;
    size_t cap = 0, count = 0;
    bool oom = false;
    *more = false;
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == (size_t)limit) {
            *more = true;
            r = SQLITE_DONE;
            break;
        }
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        read_appeal(a, st, &arr[count++], &oom);
        if (oom)
            break;
        r = SQLITE_OK;
    }
    store_rc rc = oom                ? out_of_memory("list appeals")
                  : r != SQLITE_DONE ? fail(c, r, "list appeals")
                                     : STORE_OK;
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    } else {
        *more = false;
    }
    return rc;
}

static int64_t or_max(int64_t v)
{
    return v ? v : INT64_MAX;
}

static store_rc sqlite_appeal_staff_list(void *impl, arena *a, const store_appeal_staff_filter *f,
                                         store_appeal **out, size_t *n, bool *more)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    *more = false;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = ap_stmt(c, AP_STAFF_LIST);
    if (st) {
        int r = SQLITE_OK;
        if (sqlite3_bind_int64(st, 1, f->org_id) || bind_text(st, 2, f->status) ||
            sqlite3_bind_int64(st, 3, f->before_id ? f->before_created_at : INT64_MAX) ||
            sqlite3_bind_int64(st, 4, or_max(f->before_id)) ||
            sqlite3_bind_int(st, 5, f->limit + 1))
            r = bind_error(c);
        rc = appeal_rows(c, a, st, r, f->limit, out, n, more);
    }
    stmt_done(st);
    pool_give(s, c);
    return rc;
}

static store_rc sqlite_appeal_search(void *impl, arena *a, const store_appeal_search_filter *f,
                                     store_appeal **out, size_t *n, bool *more)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    *more = false;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = ap_stmt(c, f->has_box ? AP_SEARCH_MAP : AP_SEARCH_ALL);
    if (st) {
        int r = SQLITE_OK;
        if (sqlite3_bind_int(st, 1, f->min_lon) || sqlite3_bind_int(st, 2, f->max_lon) ||
            sqlite3_bind_int(st, 3, f->min_lat) || sqlite3_bind_int(st, 4, f->max_lat) ||
            sqlite3_bind_int64(st, 5, f->now) || sqlite3_bind_int64(st, 6, f->org_id) ||
            bind_text(st, 7, f->category) || sqlite3_bind_int64(st, 8, f->published_from) ||
            sqlite3_bind_int64(st, 9, or_max(f->published_to)) ||
            sqlite3_bind_int64(st, 10, f->before_id ? f->before_published_at : INT64_MAX) ||
            sqlite3_bind_int64(st, 11, or_max(f->before_id)) ||
            sqlite3_bind_int(st, 12, f->has_circle ? f->radius_m : 0) ||
            sqlite3_bind_int(st, 13, f->centre_lat) || sqlite3_bind_int(st, 14, f->centre_lon) ||
            sqlite3_bind_int(st, 15, f->limit + 1))
            r = bind_error(c);
        rc = appeal_rows(c, a, st, r, f->limit, out, n, more);
    }
    stmt_done(st);
    pool_give(s, c);
    return rc;
}

typedef struct answer_write {
    store_answer *ans;
    store_event *ev;
} answer_write;

static store_rc answer_create_job(conn *c, void *arg)
{
    answer_write *w = arg;
    store_answer *ans = w->ans;
    char status[16];
    int64_t case_id = 0, expires = 0, person_id = 0;
    store_rc rc = appeal_status(c, ans->appeal_id, 0, status, &case_id, &expires);
    if (rc != STORE_OK)
        return rc;
    if (strcmp(status, "draft") == 0)
        return STORE_NOT_FOUND;
    if (strcmp(status, "published") != 0 || expires <= ans->created_at)
        return STORE_CONFLICT;
    int r = ans->anonymous ? SQLITE_OK : insert_person(c, &ans->person, &person_id);
    if (r != SQLITE_OK)
        return fail(c, r, "record an answer's person");
    sqlite3_stmt *st = ap_stmt(c, AP_ANSWER_INSERT);
    if (!st)
        return STORE_ERROR;
    int bound =
        sqlite3_bind_int64(st, 1, ans->appeal_id) || bind_text(st, 2, ans->receipt) ||
        bind_hash(st, 3, ans->anonymous ? NULL : ans->secret_hash) || bind_text(st, 4, ans->saw) ||
        bind_text(st, 5, ans->seen_when) ||
        (ans->has_point
             ? sqlite3_bind_int(st, 6, ans->seen_lat) || sqlite3_bind_int(st, 7, ans->seen_lon)
             : sqlite3_bind_null(st, 6) || sqlite3_bind_null(st, 7)) ||
        bind_or_null(st, 8, person_id) || bind_text(st, 9, ans->anonymous ? NULL : ans->channel) ||
        sqlite3_bind_int(st, 10, ans->anonymous ? 1 : 0) ||
        sqlite3_bind_int64(st, 11, ans->created_at);
    rc = write_step(c, st, bound, "record an answer", &ans->id, NULL);
    if (rc != STORE_OK)
        return rc;
    ans->person.id = person_id;
    event_write ew = {.case_id = case_id, .ev = w->ev};
    rc = event_append_job(c, &ew);
    w->ev->id = rc == STORE_OK ? ew.id : 0;
    return rc;
}

static store_rc sqlite_answer_create(void *impl, store_answer *ans, store_event *ev)
{
    answer_write w = {.ans = ans, .ev = ev};
    store_rc rc = write_run(impl, answer_create_job, &w);
    if (rc != STORE_OK) {
        ans->id = 0;
        ans->person.id = 0;
        ev->id = 0;
    }
    return rc;
}

typedef struct answer_read {
    arena *a;
    int64_t org_id;
    int64_t appeal_id;
    int64_t before_id;
    int limit;
    const store_access *reader;
    store_answer *arr;
    size_t n;
    bool more;
} answer_read;

/* Records the reader's read of a named answer and stamps every answer shown
 * as read. */
static store_rc answer_mark(conn *c, const store_answer *ans, const store_access *reader)
{
    if (reader && !ans->anonymous) {
        sqlite3_stmt *st = ap_stmt(c, AP_READ_INSERT);
        if (!st)
            return STORE_ERROR;
        int bound = sqlite3_bind_int64(st, 1, ans->id) ||
                    sqlite3_bind_int64(st, 2, reader->reader_org_id) ||
                    bind_or_null(st, 3, reader->user_id) || bind_or_null(st, 4, reader->key_id) ||
                    bind_text(st, 5, reader->reader_name) || bind_text(st, 6, reader->role) ||
                    bind_text(st, 7, reader->purpose) || sqlite3_bind_int64(st, 8, reader->at);
        store_rc rc = write_step(c, st, bound, "record a read of an answer", NULL, NULL);
        if (rc != STORE_OK)
            return rc;
    }
    if (ans->first_read_at)
        return STORE_OK;
    sqlite3_stmt *st = ap_stmt(c, AP_ANSWER_MARK);
    if (!st)
        return STORE_ERROR;
    int bound = sqlite3_bind_int64(st, 1, ans->id) ||
                sqlite3_bind_int64(st, 2, reader ? reader->at : (int64_t)time(NULL));
    return write_step(c, st, bound, "mark an answer read", NULL, NULL);
}

static store_rc answer_list_job(conn *c, void *arg)
{
    answer_read *w = arg;
    char status[16];
    int64_t case_id, expires;
    w->arr = NULL;
    w->n = 0;
    w->more = false;
    store_rc rc = appeal_status(c, w->appeal_id, w->org_id, status, &case_id, &expires);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = ap_stmt(c, AP_ANSWER_LIST);
    if (!st)
        return STORE_ERROR;
    size_t cap = 0;
    bool oom = false;
    int r = SQLITE_OK;
    if (sqlite3_bind_int64(st, 1, w->appeal_id) ||
        sqlite3_bind_int64(st, 2, or_max(w->before_id)) || sqlite3_bind_int(st, 3, w->limit + 1))
        r = bind_error(c);
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (w->n == (size_t)w->limit) {
            w->more = true;
            r = SQLITE_DONE;
            break;
        }
        if (!grow(w->a, (void **)&w->arr, &cap, w->n, sizeof(*w->arr))) {
            oom = true;
            break;
        }
        read_answer(w->a, st, &w->arr[w->n++], &oom);
        if (oom)
            break;
        r = SQLITE_OK;
    }
    rc = oom                ? out_of_memory("list answers")
         : r != SQLITE_DONE ? fail(c, r, "list answers")
                            : STORE_OK;
    stmt_done(st);
    for (size_t i = 0; i < w->n && rc == STORE_OK; i++) {
        rc = answer_mark(c, &w->arr[i], w->reader);
        if (rc == STORE_OK && !w->arr[i].first_read_at)
            w->arr[i].first_read_at = w->reader ? w->reader->at : (int64_t)time(NULL);
    }
    return rc;
}

static store_rc sqlite_answer_list(void *impl, arena *a, int64_t org_id, int64_t appeal_id,
                                   int64_t before_id, int limit, const store_access *reader,
                                   store_answer **out, size_t *n, bool *more)
{
    answer_read w = {.a = a,
                     .org_id = org_id,
                     .appeal_id = appeal_id,
                     .before_id = before_id,
                     .limit = limit,
                     .reader = reader};
    *out = NULL;
    *n = 0;
    *more = false;
    store_rc rc = write_run(impl, answer_list_job, &w);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? rc : STORE_UNAVAILABLE;
    *out = w.arr;
    *n = w.n;
    *more = w.more;
    return STORE_OK;
}

static store_rc sqlite_answer_by_receipt(void *impl, arena *a, const char *receipt,
                                         store_answer *out)
{
    sq_store *s = impl;
    memset(out, 0, sizeof(*out));
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = ap_stmt(c, AP_BY_RECEIPT);
    if (!st)
        goto out;
    int r = bind_text(st, 1, receipt);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        bool oom = false;
        read_answer(a, st, out, &oom);
        rc = oom ? out_of_memory("read an answer") : STORE_OK;
    } else {
        rc = r == SQLITE_DONE ? STORE_NOT_FOUND : fail(c, r, "read an answer");
    }
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc sqlite_answer_reads(void *impl, arena *a, int64_t answer_id, store_access **out,
                                    size_t *n)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    store_access *arr = NULL;
    size_t cap = 0, count = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = ap_stmt(c, AP_READS);
    if (!st)
        goto out;
    int r = sqlite3_bind_int64(st, 1, answer_id);
    bool oom = false;
    while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        read_access(a, st, &arr[count++], &oom);
        if (oom)
            break;
        r = SQLITE_OK;
    }
    rc = oom                ? out_of_memory("read an answer's reads")
         : r != SQLITE_DONE ? fail(c, r, "read an answer's reads")
                            : STORE_OK;
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return rc;
}

static store_rc sqlite_appeal_orgs(void *impl, arena *a, store_org **out, size_t *n)
{
    sq_store *s = impl;
    *out = NULL;
    *n = 0;
    store_org *arr = NULL;
    size_t cap = 0, count = 0;
    conn *c = pool_take(s);
    store_rc rc = STORE_ERROR;
    sqlite3_stmt *st = ap_stmt(c, AP_ORGS);
    if (!st)
        goto out;
    int r;
    bool oom = false;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!grow(a, (void **)&arr, &cap, count, sizeof(*arr))) {
            oom = true;
            break;
        }
        arr[count].id = sqlite3_column_int64(st, 0);
        arr[count].slug = col_text(a, st, 1, &oom);
        arr[count].name = col_text(a, st, 2, &oom);
        count++;
        if (oom)
            break;
    }
    rc = oom                ? out_of_memory("list organisations")
         : r != SQLITE_DONE ? fail(c, r, "list organisations")
                            : STORE_OK;
out:
    stmt_done(st);
    pool_give(s, c);
    if (rc == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return rc;
}

const store_ops store_sqlite_ops = {
    .open = sqlite_open,
    .close = sqlite_close,
    .schema_version = sqlite_schema_version,
    .secret_key = sqlite_secret_key,
    .org_create = sqlite_org_create,
    .org_by_slug = sqlite_org_by_slug,
    .org_by_id = sqlite_org_by_id,
    .service_create = sqlite_service_create,
    .service_update = sqlite_service_update,
    .service_get = sqlite_service_get,
    .service_by_id = sqlite_service_by_id,
    .service_list = sqlite_service_list,
    .user_create = sqlite_user_create,
    .user_by_email = sqlite_user_by_email,
    .user_get = sqlite_user_get,
    .user_list = sqlite_user_list,
    .session_create = sqlite_session_create,
    .session_get = sqlite_session_get,
    .session_delete = sqlite_session_delete,
    .key_create = sqlite_key_create,
    .key_get = sqlite_key_get,
    .key_list = sqlite_key_list,
    .key_revoke = sqlite_key_revoke,
    .case_create = sqlite_case_create,
    .case_get = sqlite_case_get,
    .case_events = sqlite_case_events,
    .case_list = sqlite_case_list,
    .event_append = sqlite_event_append,
    .case_set_secret = sqlite_case_set_secret,
    .service_durations = sqlite_service_durations,
    .access_record = sqlite_access_record,
    .case_accesses = sqlite_case_accesses,
    .case_import = sqlite_case_import,
    .org_sole = sqlite_org_sole,
    .open311_cases = sqlite_open311_cases,
    .open311_case_get = sqlite_open311_case_get,
    .open311_updates = sqlite_open311_updates,
    .open_readonly = sqlite_open_readonly,
    .read_begin = sqlite_read_begin,
    .read_rows = sqlite_read_rows,
    .read_end = sqlite_read_end,
    .load_begin = sqlite_load_begin,
    .load_table = sqlite_load_table,
    .load_row = sqlite_load_row,
    .load_end = sqlite_load_end,
    .log_size = sqlite_log_size,
    .log_nodes = sqlite_log_nodes,
    .log_entries = sqlite_log_entries,
    .log_import = sqlite_log_import,
    .log_checkpoint_put = sqlite_log_checkpoint_put,
    .log_checkpoint_get = sqlite_log_checkpoint_get,
    .event_append_duties = sqlite_event_append_duties,
    .case_duties = sqlite_case_duties,
    .case_set_flags = sqlite_case_set_flags,
    .duty_met_by_delivery = sqlite_duty_met_by_delivery,
    .duty_sweep = sqlite_duty_sweep,
    .duty_worklist = sqlite_duty_worklist,
    .duty_compliance = sqlite_duty_compliance,
    .org_calendar_get = sqlite_org_calendar_get,
    .org_calendar_set = sqlite_org_calendar_set,
    .prefs_get = sqlite_prefs_get,
    .prefs_set = sqlite_prefs_set,
    .template_set = sqlite_template_set,
    .template_get = sqlite_template_get,
    .template_list = sqlite_template_list,
    .webhook_create = sqlite_webhook_create,
    .webhook_list = sqlite_webhook_list,
    .webhook_remove = sqlite_webhook_remove,
    .notice_add = sqlite_notice_add,
    .notice_claim = sqlite_notice_claim,
    .notice_result = sqlite_notice_result,
    .notice_list = sqlite_notice_list,
    .notice_get = sqlite_notice_get,
    .task_done = sqlite_task_done,
    .notice_delivered = sqlite_notice_delivered,
    .appeal_create = sqlite_appeal_create,
    .appeal_update = sqlite_appeal_update,
    .appeal_set_officer = sqlite_appeal_set_officer,
    .appeal_get = sqlite_appeal_get,
    .appeal_public_get = sqlite_appeal_public_get,
    .appeal_transition = sqlite_appeal_transition,
    .appeal_staff_list = sqlite_appeal_staff_list,
    .appeal_search = sqlite_appeal_search,
    .appeal_staff_get = sqlite_appeal_staff_get,
    .answer_create = sqlite_answer_create,
    .answer_list = sqlite_answer_list,
    .answer_by_receipt = sqlite_answer_by_receipt,
    .answer_reads = sqlite_answer_reads,
    .appeal_orgs = sqlite_appeal_orgs,
};
