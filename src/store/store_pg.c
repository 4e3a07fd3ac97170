/* store_pg.c - the PostgreSQL backend of store.h.
 *
 * A store is a pool of libpq connections to one database. A call borrows a
 * connection, runs its statements (one transaction for a write of several
 * statements, autocommit for one) and gives the connection back. Each
 * connection prepares a statement the first time it needs it and keeps it,
 * so that the hot look-ups cost one round trip; the public look-up sends its
 * three statements together (libpq's pipeline mode), so it costs one too.
 * Parameters are always bound, never spliced into SQL.
 *
 * Durability is the server's: synchronous_commit is left as it is (on by
 * default), so a COMMIT returns once the WAL is flushed, and the server
 * shares one flush among concurrent commits itself.
 *
 * Concurrency is the database's: a stage change is a compare-and-set UPDATE
 * (READ COMMITTED re-checks the condition on the row a concurrent writer
 * left, so only one of two racing moves changes a row), and idempotency keys
 * and feedback are unique indexes; the loser of an idempotency race starts
 * over and finds the winner's case.
 *
 * A connection that fails (the server restarted, the network dropped) makes
 * the call answer STORE_UNAVAILABLE and is reset before its next use, so a
 * restarted server is picked up without restarting the application.
 *
 * Migrations are compiled in (embedded.h, generated from
 * migrations/postgresql/) and applied at open, one transaction each, under
 * an advisory lock so that instances starting together take turns.
 *
 * A copy of a whole deployment (store_copy) reads in one REPEATABLE READ,
 * READ ONLY transaction, row by row in binary, and writes with COPY in one
 * transaction, then moves each id sequence past the copied ids.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "embedded.h"
#include "store/store_int.h"
#include "util/buf.h"
#include "util/combine.h"
#include "util/log.h"

#define LIST_MAX 200
/* The advisory lock that serialises migrations across instances: any fixed
 * number that no other user of the database is likely to pick. */
#define MIGRATION_LOCK 0x6f70656e63617365LL
/* The most parameters one statement binds. */
#define PARAMS_MAX 32
/* The most statements one pipeline sends. */
#define PIPELINE_MAX 4
/* STORE_LOG_BATCH as a literal in ST_LOG_QUEUED: a statement without
 * parameters keeps its one generic plan, where a LIMIT parameter had
 * PostgreSQL plan the join again on every call (a millisecond each, on a
 * queue table full of dead rows). */
#define SQL_NUMBER_(n) #n
#define SQL_NUMBER(n) SQL_NUMBER_(n)
#define SEQ_BATCH SQL_NUMBER(STORE_LOG_BATCH)
/* The most plain moves one commit holds, and how many such groups may be
 * written at once. One: the next group gathers while one commits, and
 * measured, a second group in flight gained nothing and lengthened the
 * slowest answers. */
#define MOVE_GROUP_MAX 64
#define MOVE_GROUPS_RUNNING 1
/* The longest array literal of a group of moves' parameters. */
#define MOVE_ARRAY_MAX (1024 * 1024)
/* How much COPY data the bulk import gathers before sending it. */
#define COPY_CHUNK (256 * 1024)

/* Statements every connection may prepare, by number. */
enum {
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
    ST_EVENT_MOVE,
    ST_GENERIC_PLANS,
    ST_CASE_MOVES,
    ST_EVENT_ADD,
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
    ST_LOG_QUEUE,
    ST_LOG_LOCK,
    ST_LOG_LOCK_TRY,
    ST_LOG_QUEUED,
    ST_LOG_INSERT_MANY,
    ST_LOG_EVENT_INDEXES,
    ST_LOG_ACCESS_INDEXES,
    ST_LOG_DEQUEUE,
    ST_LOG_SIZE,
    ST_LOG_QUEUE_COUNT,
    ST_LOG_NODES,
    ST_LOG_ENTRIES,
    ST_LOG_CHECKPOINT_PUT,
    ST_LOG_CHECKPOINT_GET,
    ST_TRACK_EVENTS,
    ST_TRACK_ACCESSES,
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
 * is planned for its index; they follow the fixed statements. */
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

/* A case with its state (migrations/postgresql/0012_case_states.sql): cs
 * has its stage and the time of its last change. */
#define CASES_WITH_STATE " cases c JOIN case_states cs ON cs.case_id = c.id"

/* The columns read_case() expects, cases first, then the service code and
 * the person. */
#define CASE_SELECT                                                                                \
    "SELECT c.id, c.org_id, c.service_id, s.code, c.reference, cs.stage, c.summary,"               \
    " c.secret_hash, c.opened_at, cs.updated_at, c.closed_at, p.id, p.name, p.email, p.phone,"     \
    " p.address, p.postcode, c.enhanced, c.team"                                                   \
    " FROM" CASES_WITH_STATE " JOIN services s ON s.id = c.service_id"                             \
    " LEFT JOIN persons p ON p.id = c.person_id "

/* The columns read_duty() expects. */
#define DUTY_SELECT                                                                                \
    "SELECT d.id, d.case_id, c.reference, s.code, c.team, c.enhanced, d.duty, d.event_id,"         \
    " d.triggered_at, d.days, d.due_at, d.met_at, d.met_by, d.met_event_id, d.service_id"          \
    " FROM duty_instances d JOIN cases c ON c.id = d.case_id"                                      \
    " JOIN services s ON s.id = c.service_id "

#define EVENT_SELECT                                                                               \
    "SELECT id, case_id, type, from_stage, stage, body, rating, public, actor, created_at,"        \
    " log_index FROM events WHERE case_id = $1 "

/* The statement of an event write, around the UPDATE of its case's state,
 * which returns the case's id and stage, and `more`, further common table
 * expressions that follow it (each with a leading comma). Parameters:
 * $1 the case, $2 the time, $3 the stage it moves from, $4 to $8 the event's
 * type, body, rating, public flag and actor, $9 to $14 its log entry's kind,
 * actor kind, actor id, stages and rating, queued for the log
 * (migrations/postgresql/0008_log_queue.sql) with the event. */
#define EVENT_WRITE(state_update, more)                                                            \
    "WITH c AS (" state_update ")" more ","                                                        \
    " e AS (INSERT INTO events (case_id, type, from_stage, stage, body, rating, public, actor,"    \
    " created_at) SELECT id, $4::text, $3::text, stage, $5::text, $6::integer, $7::boolean,"       \
    " $8::text, $2::bigint FROM c RETURNING id),"                                                  \
    " q AS (INSERT INTO log_queue (kind, case_id, at, actor, actor_id, from_stage, stage, rating," \
    " event_id) SELECT $9::integer, $1::bigint, $2::bigint, $10::integer, $11::bigint, $12::text," \
    " $13::text, $14::integer, id FROM e)"                                                         \
    " SELECT (SELECT id FROM e), EXISTS (SELECT 1 FROM cases WHERE id = $1)"

/* The columns read_open311_case() expects. */
#define OPEN311_SELECT                                                                             \
    "SELECT c.id, c.service_id, c.reference, cs.stage, c.opened_at, cs.updated_at, c.closed_at,"   \
    " r.case_id, r.token, r.description, r.lat, r.long, r.address_string, r.address_id,"           \
    " r.media_url, r.attributes_json, r.device_id, r.account_id"                                   \
    " FROM" CASES_WITH_STATE " LEFT JOIN open311_requests r ON r.case_id = c.id "

static const char *const fixed_sql[ST_FIXED_COUNT] = {
    [ST_SETTING_INSERT] = "INSERT INTO settings (key, value) VALUES ($1, $2)"
                          " ON CONFLICT (key) DO NOTHING",
    [ST_SETTING_GET] = "SELECT value FROM settings WHERE key = $1",
    [ST_ORG_INSERT] = "INSERT INTO orgs (slug, name) VALUES ($1, $2) RETURNING id",
    [ST_ORG_BY_SLUG] = "SELECT id, slug, name FROM orgs WHERE slug = $1",
    [ST_ORG_BY_ID] = "SELECT id, slug, name FROM orgs WHERE id = $1",
    [ST_SERVICE_INSERT] = "INSERT INTO services (org_id, code, name, description, workflow_json,"
                          " target_days, created_at, updated_at, open311_json, duties_json)"
                          " VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) RETURNING id",
    [ST_SERVICE_UPDATE] = "UPDATE services SET name = $3, description = $4, workflow_json = $5,"
                          " target_days = $6, updated_at = $7, open311_json = $8, duties_json = $9"
                          " WHERE org_id = $1 AND code = $2",
    [ST_SERVICE_GET] = "SELECT " SERVICE_COLUMNS " FROM services WHERE org_id = $1 AND code = $2",
    [ST_SERVICE_BY_ID] = "SELECT " SERVICE_COLUMNS " FROM services WHERE id = $1",
    /* COLLATE "C": the byte order SQLite sorts by, whatever the database's
     * collation. */
    [ST_SERVICE_LIST] = "SELECT " SERVICE_COLUMNS " FROM services WHERE org_id = $1"
                        " ORDER BY code COLLATE \"C\"",
    [ST_USER_INSERT] = "INSERT INTO users (org_id, email, name, role, password_hash)"
                       " VALUES ($1, $2, $3, $4, $5) RETURNING id",
    [ST_USER_BY_EMAIL] = "SELECT id, org_id, email, name, role, password_hash FROM users"
                         " WHERE email = $1",
    [ST_USER_GET] = "SELECT id, org_id, email, name, role, NULL FROM users"
                    " WHERE id = $2 AND org_id = $1",
    [ST_USER_LIST] = "SELECT id, org_id, email, name, role, NULL FROM users"
                     " WHERE org_id = $1 AND ($2::text IS NULL OR role = $2) ORDER BY id",
    [ST_SESSION_PURGE] = "DELETE FROM sessions WHERE expires_at <= $1",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (token_hash, user_id, expires_at)"
                          " VALUES ($1, $2, $3)",
    [ST_SESSION_GET] = "SELECT u.org_id, u.id, u.role, u.name FROM sessions s"
                       " JOIN users u ON u.id = s.user_id"
                       " WHERE s.token_hash = $1 AND s.expires_at > $2",
    [ST_SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = $1",
    [ST_KEY_INSERT] = "INSERT INTO api_keys (org_id, label, role, key_hash)"
                      " VALUES ($1, $2, $3, $4) RETURNING id",
    [ST_KEY_GET] = "SELECT org_id, id, role, label FROM api_keys"
                   " WHERE key_hash = $1 AND revoked_at IS NULL",
    [ST_KEY_LIST] = "SELECT id, label, role, created_at, revoked_at FROM api_keys"
                    " WHERE org_id = $1 ORDER BY id",
    [ST_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3)"
                      " WHERE org_id = $1 AND id = $2",
    [ST_PERSON_INSERT] = "INSERT INTO persons (name, email, phone, address, postcode)"
                         " VALUES ($1, $2, $3, $4, $5) RETURNING id",
    [ST_CASE_INSERT] =
        "WITH c AS (INSERT INTO cases (org_id, service_id, reference, summary, secret_hash,"
        " person_id, opened_at, closed_at, idempotency_key, enhanced, team)"
        " VALUES ($1, $2, $3, $5, $6, $7, $8, NULL, $9, $10, $11) RETURNING id),"
        " s AS (INSERT INTO case_states (case_id, org_id, opened_at, stage, updated_at)"
        " SELECT id, $1, $8, $4::text, $8 FROM c)"
        " SELECT id FROM c",
    [ST_CASE_BY_IDEMPOTENCY] = "SELECT id FROM cases WHERE org_id = $1 AND idempotency_key = $2",
    [ST_CASE_BY_ID] = CASE_SELECT "WHERE c.id = $1",
    [ST_CASE_BY_REF] = CASE_SELECT "WHERE c.reference = $1 AND ($2::bigint = 0 OR c.org_id = $2)",
    /* An event, with the change to its case, in one statement, so in one
     * round trip and one commit. The case's state is changed first (for a
     * stage change, only while it is still at $3 and open: a compare-and-set,
     * which READ COMMITTED re-checks on the row a concurrent writer left;
     * closing changes the stage too, so a case closed meanwhile fails it);
     * the event is inserted only for the row changed, and records the case's
     * stage as that row has it. A move to a closing stage ($16 set) closes
     * the case as well. The answer: the event's id (NULL when no row
     * changed), and whether the case exists. */
    [ST_EVENT_MOVE] = EVENT_WRITE("UPDATE case_states cs SET stage = $15::text,"
                                  " updated_at = greatest(cs.updated_at, $2::bigint) FROM cases c"
                                  " WHERE cs.case_id = $1 AND cs.stage = $3::text"
                                  " AND c.id = cs.case_id AND c.closed_at IS NULL"
                                  " RETURNING cs.case_id AS id, cs.stage",
                                  ", closing AS (UPDATE cases SET closed_at = $16::bigint"
                                  " WHERE id = (SELECT id FROM c) AND $16::bigint IS NOT NULL)"),
    /* For the rest of the transaction, statements run with their generic
     * plan. PostgreSQL plans a statement with array parameters anew on each
     * call while that looks cheaper, as it does for a group of one; the
     * planning then costs more than the statement. */
    [ST_GENERIC_PLANS] = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)",
    /* store_case_move, for a group of moves at once: each case is found,
     * checked, moved, its event written and its entry queued, all in one
     * statement. $1..$9 are the moves, numbered from 1 in their order;
     * $10..$12 the (service, stage) pairs each may leave, by move number.
     * The result's columns are CASE_SELECT's, then the stage left, the
     * event's id and the move's number; a move not made has no row. The stage left is that of
     * the pair the state matched: should another transaction move the case
     * meanwhile, READ COMMITTED matches the pair again against the state it
     * left. Two moves of one case in one group match one state row, which
     * an UPDATE changes once: one of them is made. */
    [ST_CASE_MOVES] =
        "WITH r AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[],"
        " $5::text[], $6::text[], $7::integer[], $8::integer[], $9::bigint[]) WITH ORDINALITY"
        " AS r (reference, org_id, stage, at, body, actor, kind, actor_kind, actor_id, i)),"
        " c AS (UPDATE case_states cs SET stage = r.stage,"
        " updated_at = greatest(cs.updated_at, r.at)"
        " FROM r, cases k, unnest($10::integer[], $11::bigint[], $12::text[])"
        " AS f (i, service_id, stage)"
        " WHERE k.reference = r.reference AND k.org_id = r.org_id AND k.closed_at IS NULL"
        " AND cs.case_id = k.id AND f.i = r.i AND f.service_id = k.service_id"
        " AND f.stage = cs.stage"
        " RETURNING r.i, k.id, k.org_id, k.service_id, k.reference, cs.stage, k.summary,"
        " k.secret_hash, k.opened_at, cs.updated_at, k.closed_at, k.enhanced, k.team,"
        " f.stage AS from_stage, r.at, r.body, r.actor, r.kind, r.actor_kind, r.actor_id),"
        " e AS (INSERT INTO events (case_id, type, from_stage, stage, body, rating, public, actor,"
        " created_at) SELECT id, 'stage_change', from_stage, stage, body, 0, false, actor, at"
        " FROM c ORDER BY i RETURNING id, case_id),"
        " q AS (INSERT INTO log_queue (kind, case_id, at, actor, actor_id, from_stage, stage,"
        " rating, event_id) SELECT c.kind, c.id, c.at, c.actor_kind, c.actor_id, c.from_stage,"
        " c.stage, 0, e.id FROM c JOIN e ON e.case_id = c.id ORDER BY c.i)"
        " SELECT c.id, c.org_id, c.service_id, NULL, c.reference, c.stage, c.summary,"
        " c.secret_hash, c.opened_at, c.updated_at, c.closed_at, NULL, NULL, NULL, NULL, NULL,"
        " NULL, c.enhanced, c.team, c.from_stage, e.id, c.i FROM c JOIN e ON e.case_id = c.id",
    [ST_EVENT_ADD] =
        EVENT_WRITE("UPDATE case_states SET updated_at = greatest(updated_at, $2::bigint)"
                    " WHERE case_id = $1 RETURNING case_id AS id, stage",
                    ""),
    [ST_CASE_SET_SECRET] = "UPDATE cases SET secret_hash = $2 WHERE id = $1",
    [ST_EVENTS_ALL] = EVENT_SELECT "ORDER BY id",
    [ST_EVENTS_PUBLIC] = EVENT_SELECT "AND public ORDER BY id",
    /* The event records the case's stage as it stands after the event, read
     * in the same transaction, so that it cannot disagree with the case. */
    [ST_EVENT_INSERT] =
        "INSERT INTO events (case_id, type, from_stage, stage, body, rating,"
        " public, actor, created_at)"
        " VALUES ($1, $2, $3, coalesce($4, (SELECT stage FROM case_states WHERE case_id = $1)),"
        " $5, $6, $7, $8, $9) RETURNING id",
    [ST_DURATIONS] = "SELECT closed_at - opened_at FROM cases"
                     " WHERE service_id = $1 AND closed_at IS NOT NULL"
                     " ORDER BY closed_at DESC LIMIT $2",
    /* The case's organisation is read from the case, not trusted from the
     * caller; no row is inserted when there is no such case. */
    [ST_ACCESS_INSERT] = "INSERT INTO accesses (case_id, case_org_id, reader_org_id, user_id,"
                         " key_id, reader_name, role, action, purpose, at)"
                         " SELECT id, org_id, $2::bigint, $3::bigint, $4::bigint, $5::text,"
                         " $6::text, $7::text, $8::text, $9::bigint FROM cases WHERE id = $1"
                         " RETURNING id",
    [ST_ACCESSES_OF_CASE] =
        "SELECT a.id, a.case_id, a.case_org_id, a.reader_org_id, o.name,"
        " a.user_id, a.key_id, a.reader_name, a.role, a.action, a.purpose,"
        " a.at, a.log_index FROM accesses a JOIN orgs o ON o.id = a.reader_org_id"
        " WHERE a.case_id = $1 ORDER BY a.at DESC, a.id DESC",
    /* The public log: see migrations/postgresql/0003_log.sql. */
    [ST_LOG_RESERVE] = "UPDATE log_state SET size = size + $1 WHERE id = 1 RETURNING size - $1",
    [ST_LOG_HASHES] = "SELECT hashes FROM log_entries WHERE idx = $1",
    [ST_LOG_INSERT] = "INSERT INTO log_entries (idx, entry, hashes) VALUES ($1, $2, $3)",
    /* The queue and its sequencer: see migrations/postgresql/0008_log_queue.sql. */
    [ST_LOG_QUEUE] = "INSERT INTO log_queue (kind, case_id, at, actor, actor_id, actor_org_id,"
                     " reader_org_id, role, action, from_stage, stage, rating, event_id,"
                     " access_id, duty) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
                     " $12, $13, $14, $15)",
    [ST_LOG_LOCK] = "SELECT true FROM pg_advisory_xact_lock($1)",
    [ST_LOG_LOCK_TRY] = "SELECT pg_try_advisory_xact_lock($1)",
    /* Every committed row, in id order: a lower id may commit after a
     * higher one was sequenced, so nothing is skipped by a cursor. */
    [ST_LOG_QUEUED] = "SELECT q.id, q.kind, q.at, q.actor, q.actor_id,"
                      " coalesce(q.actor_org_id, c.org_id), r.slug, q.role, q.action,"
                      " q.from_stage, q.stage, q.rating, q.event_id, q.access_id, c.reference,"
                      " o.slug, s.code, q.duty FROM log_queue q JOIN cases c ON c.id = q.case_id"
                      " JOIN orgs o ON o.id = c.org_id JOIN services s ON s.id = c.service_id"
                      " LEFT JOIN orgs r ON r.id = q.reader_org_id ORDER BY q.id LIMIT " SEQ_BATCH,
    /* Entries are single lines of JSON, so a batch travels as lines. */
    [ST_LOG_INSERT_MANY] =
        "INSERT INTO log_entries (idx, entry, hashes)"
        " SELECT $1::bigint + t.o - 1, convert_to(t.e, 'UTF8'), decode(t.h, 'hex')"
        " FROM unnest(string_to_array($2::text, E'\\n'),"
        " string_to_array($3::text, E'\\n')) WITH ORDINALITY AS t (e, h, o)",
    [ST_LOG_EVENT_INDEXES] = "UPDATE events SET log_index = v.idx"
                             " FROM unnest($1::bigint[], $2::bigint[]) AS v (id, idx)"
                             " WHERE events.id = v.id",
    [ST_LOG_ACCESS_INDEXES] = "UPDATE accesses SET log_index = v.idx"
                              " FROM unnest($1::bigint[], $2::bigint[]) AS v (id, idx)"
                              " WHERE accesses.id = v.id",
    [ST_LOG_DEQUEUE] = "DELETE FROM log_queue WHERE id = ANY ($1::bigint[])",
    [ST_LOG_SIZE] = "SELECT size FROM log_state WHERE id = 1",
    [ST_LOG_QUEUE_COUNT] = "SELECT count(*) FROM log_queue",
    [ST_LOG_NODES] = "SELECT idx, hashes FROM log_entries WHERE idx = ANY ($1::bigint[])",
    [ST_LOG_ENTRIES] = "SELECT idx, entry, hashes FROM log_entries WHERE idx >= $1"
                       " ORDER BY idx LIMIT $2",
    [ST_LOG_CHECKPOINT_PUT] = "INSERT INTO log_checkpoints (size, note, signed_at)"
                              " VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING",
    [ST_LOG_CHECKPOINT_GET] = "SELECT size, note FROM log_checkpoints WHERE size <= $1"
                              " ORDER BY size DESC LIMIT 1",
    /* A public look-up sends these two with ST_CASE_BY_REF in one round
     * trip, so they find the case by its reference too. */
    [ST_TRACK_EVENTS] = "SELECT id, case_id, type, from_stage, stage, body, rating, public, actor,"
                        " created_at, log_index FROM events"
                        " WHERE case_id = (SELECT id FROM cases WHERE reference = $1) AND public"
                        " ORDER BY id",
    [ST_TRACK_ACCESSES] = "SELECT a.id, a.case_id, a.case_org_id, a.reader_org_id, o.name,"
                          " a.user_id, a.key_id, a.reader_name, a.role, a.action, a.purpose,"
                          " a.at, a.log_index FROM accesses a JOIN orgs o ON o.id = a.reader_org_id"
                          " WHERE a.case_id = (SELECT id FROM cases WHERE reference = $1)"
                          " ORDER BY a.at DESC, a.id DESC",
    /* Open311 */
    [ST_ORG_SOLE] = "SELECT id, slug, name FROM orgs ORDER BY id LIMIT 2",
    [ST_OPEN311_INSERT] = "INSERT INTO open311_requests (case_id, token, description, lat, long,"
                          " address_string, address_id, media_url, attributes_json, device_id,"
                          " account_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    [ST_OPEN311_CASES] =
        OPEN311_SELECT "WHERE c.org_id = $1 AND c.opened_at >= $2 AND c.opened_at < $3"
                       " AND (c.service_id::text || ':' || cs.stage) IN"
                       " (SELECT jsonb_array_elements_text($4::jsonb))"
                       " ORDER BY c.opened_at DESC, c.id DESC LIMIT $5",
    [ST_OPEN311_BY_REF] = OPEN311_SELECT "WHERE c.reference = $1 AND c.org_id = $2",
    [ST_OPEN311_BY_TOKEN] = OPEN311_SELECT "WHERE r.token = $1 AND c.org_id = $2",
    [ST_OPEN311_UPDATES] =
        "SELECT e.id, c.service_id, c.reference, e.type, e.stage, e.body, e.created_at"
        " FROM events e JOIN cases c ON c.id = e.case_id"
        " WHERE e.public AND e.type IN ('stage_change', 'public_note')"
        " AND e.created_at >= $2 AND e.created_at < $3 AND c.org_id = $1"
        " AND c.service_id IN (SELECT jsonb_array_elements_text($4::jsonb)::bigint)"
        " ORDER BY e.created_at, e.id LIMIT $5",
    /* ---- update duties ---- */
    /* The organisation and service come from the case, not the caller. */
    [ST_DUTY_INSERT] = "INSERT INTO duty_instances (case_id, org_id, service_id, duty, event_id,"
                       " triggered_at, days, due_at)"
                       " SELECT id, org_id, service_id, $2::text, $3::bigint, $4::bigint,"
                       " $5::integer, $6::bigint FROM cases WHERE id = $1",
    /* Each met duty's entry is queued by the statement that meets it. */
    [ST_DUTY_MEET] = "WITH m AS (UPDATE duty_instances SET met_at = $3, met_by = $4,"
                     " met_event_id = $5 WHERE case_id = $1 AND met_at IS NULL"
                     " AND event_id <= $2 RETURNING duty, due_at)"
                     " INSERT INTO log_queue (kind, case_id, at, actor, action, duty)"
                     " SELECT $6, $1, $3, $7, CASE WHEN $3 <= due_at THEN 'met' ELSE"
                     " 'met_late' END, duty FROM m",
    /* Due duties no sweep has logged, taken so that concurrent sweeps share
     * them, marked, and their entries queued, in one statement. */
    [ST_DUTY_SWEEP] = "WITH d AS (SELECT id FROM duty_instances WHERE met_at IS NULL"
                      " AND missed_at IS NULL AND due_at < $1 ORDER BY due_at, id LIMIT $2"
                      " FOR UPDATE SKIP LOCKED),"
                      " m AS (UPDATE duty_instances i SET missed_at = $1 FROM d WHERE i.id = d.id"
                      " RETURNING i.case_id, i.duty, i.due_at)"
                      " INSERT INTO log_queue (kind, case_id, at, actor, duty)"
                      " SELECT $3, case_id, due_at, $4, duty FROM m",
    [ST_DUTY_OF_CASE] = DUTY_SELECT "WHERE d.case_id = $1 ORDER BY d.id",
    [ST_DUTY_RETIME] = "UPDATE duty_instances SET days = $3, due_at = $4"
                       " WHERE id = $1 AND case_id = $2 AND met_at IS NULL",
    [ST_CASE_SET_FLAGS] = "WITH s AS (UPDATE case_states SET updated_at = greatest(updated_at, $4)"
                          " WHERE case_id = $1)"
                          " UPDATE cases SET enhanced = $2, team = $3 WHERE id = $1",
    [ST_DUTY_WORKLIST] = DUTY_SELECT "WHERE d.org_id = $1 AND d.met_at IS NULL"
                                     " AND (d.due_at, d.id) > ($2::bigint, $3::bigint)"
                                     " AND ($4::text IS NULL OR s.code = $4)"
                                     " AND ($5::text IS NULL OR c.team = $5)"
                                     " AND ($6::integer <> 1 OR d.due_at >= $7::bigint)"
                                     " AND ($6::integer <> 2 OR d.due_at < $7::bigint)"
                                     " ORDER BY d.due_at, d.id LIMIT $8",
    [ST_DUTY_COMPLIANCE] = "SELECT s.code,"
                           " count(*) FILTER (WHERE d.met_at IS NOT NULL AND d.met_at <= d.due_at),"
                           " count(*) FILTER (WHERE d.met_at IS NOT NULL AND d.met_at > d.due_at),"
                           " count(*) FILTER (WHERE d.met_at IS NULL)"
                           " FROM duty_instances d JOIN services s ON s.id = d.service_id"
                           " WHERE d.org_id = $1 AND d.due_at >= $2 AND d.due_at < $3"
                           " AND d.due_at < $4 AND ($5::text IS NULL OR s.code = $5)"
                           " GROUP BY s.code ORDER BY s.code COLLATE \"C\"",
    [ST_CALENDAR_GET] = "SELECT org_id, calendar, holidays, updated_at FROM org_calendars"
                        " WHERE org_id = $1",
    [ST_CALENDAR_SET] = "INSERT INTO org_calendars (org_id, calendar, holidays, updated_at)"
                        " VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE SET"
                        " calendar = excluded.calendar, holidays = excluded.holidays,"
                        " updated_at = excluded.updated_at",
};

/* Room for the appeals' statements, which live in a block of their own. */
#define APPEAL_STATEMENTS 24

typedef struct pconn {
    PGconn *pg;
    bool prepared[ST_COUNT];
    bool appeal_prepared[APPEAL_STATEMENTS];
    bool broken;            /* failed: reset before its next use */
    const uint8_t *log_key; /* the store's key for the log's pseudonyms */
} pconn;

typedef struct pg_store {
    pconn *conns;
    int nconns;
    pconn **idle; /* a stack of the connections not lent out */
    int nidle;
    pthread_mutex_t mu; /* guards idle, nidle, key and have_key */
    pthread_cond_t cv;
    int version;
    unsigned char key[32];
    bool have_key;
    uint8_t log_key[TLOG_KEY_SIZE]; /* derived from key at open */
    combiner moves;                 /* plain moves, committed in groups */
} pg_store;

/* Parameters in libpq's form: integers as decimal text, hashes as binary. */
typedef struct params {
    const char *values[PARAMS_MAX];
    int lengths[PARAMS_MAX];
    int formats[PARAMS_MAX];
    char numbers[PARAMS_MAX][24];
    int n;
} params;

/* ---- errors ---- */

static void set_err(char *err, size_t errlen, const char *msg, const char *detail)
{
    if (!err || errlen == 0)
        return;
    if (detail)
        snprintf(err, errlen, "%s: %s", msg, detail);
    else
        snprintf(err, errlen, "%s", msg);
}

/* Copies text for a log line, without its line breaks and with quotes made
 * apostrophes, so that the line stays parseable. */
static void log_clean(char *out, size_t len, const char *in)
{
    size_t j = 0;
    for (const char *m = in ? in : ""; *m && j + 1 < len; m++) {
        char ch = *m;
        if (ch == '"' || ch == '\\')
            ch = '\'';
        else if (ch == '\n' || ch == '\r' || ch == '\t')
            ch = ' ';
        out[j++] = ch;
    }
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
}

/* Logs what failed. The server's message is kept unless it is a data
 * exception (class 22), whose messages quote the offending value, so the log
 * holds no personal data. */
static void log_pg(bool warn, const char *what, PGconn *pg, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = PQerrorMessage(pg);
    if (state && strncmp(state, "22", 2) == 0)
        msg = "a value was refused";
    char detail[256];
    log_clean(detail, sizeof(detail), msg);
    if (warn)
        log_warn("msg=\"store: %s\" sqlstate=%s error=\"%s\"", what, state ? state : "none",
                 detail);
    else
        log_error("msg=\"store: %s\" sqlstate=%s error=\"%s\"", what, state ? state : "none",
                  detail);
}

/* Whether a failure's SQLSTATE means the connection can no longer be
 * trusted: it is gone, or the server is shutting down or restarting. A
 * failure without one never reached the server. */
static bool connection_lost(const char *state)
{
    return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
           strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

/* Maps a failed result (or none) to a store result, logging what is not an
 * expected outcome, and marks the connection for a reset when it failed. */
static store_rc fail(pconn *c, const PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state || PQstatus(c->pg) != CONNECTION_OK || connection_lost(state)) {
        c->broken = true;
        log_pg(true, what, c->pg, res);
        return STORE_UNAVAILABLE;
    }
    if (strcmp(state, "23505") == 0)
        return STORE_DUPLICATE;
    /* The organisation, service, user or case referred to is missing. */
    if (strcmp(state, "23503") == 0)
        return STORE_NOT_FOUND;
    /* Contention, a timeout, or a server short of resources: worth a retry. */
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 ||
        strcmp(state, "57014") == 0 || strncmp(state, "53", 2) == 0) {
        log_pg(true, what, c->pg, res);
        return STORE_UNAVAILABLE;
    }
    log_pg(false, what, c->pg, res);
    return STORE_ERROR;
}

static store_rc out_of_memory(const char *what)
{
    log_error("msg=\"store: %s: out of memory\"", what);
    return STORE_ERROR;
}

/* ---- parameters ---- */

static void p_text(params *p, const char *v)
{
    p->values[p->n] = v;
    p->lengths[p->n] = 0;
    p->formats[p->n] = 0;
    p->n++;
}

static void p_int(params *p, int64_t v)
{
    snprintf(p->numbers[p->n], sizeof(p->numbers[p->n]), "%lld", (long long)v);
    p_text(p, p->numbers[p->n]);
}

/* An id or time that is 0 when absent binds as NULL. */
static void p_or_null(params *p, int64_t v)
{
    if (v)
        p_int(p, v);
    else
        p_text(p, NULL);
}

static void p_hash(params *p, const unsigned char *h)
{
    p->values[p->n] = (const char *)h;
    p->lengths[p->n] = h ? 32 : 0;
    p->formats[p->n] = 1;
    p->n++;
}

static void p_bool(params *p, bool v)
{
    p_text(p, v ? "t" : "f");
}

/* ---- statements ---- */

/* The SQL of a case list variant. Parameters: $1 org, $2 and $3 the cursor
 * (opened_at, id), $4 the limit, then one per filter in the mask's order. A
 * list by stage is read from the case states' index by organisation and
 * stage, so its order and cursor are the state's copies of the case's. */
static void list_sql(unsigned mask, char *out, size_t len)
{
    const char *by = mask & LIST_STAGE ? "cs.org_id = $1 AND (cs.opened_at, cs.case_id)"
                                       : "c.org_id = $1 AND (c.opened_at, c.id)";
    const char *order =
        mask & LIST_STAGE ? "cs.opened_at DESC, cs.case_id DESC" : "c.opened_at DESC, c.id DESC";
    char filters[512];
    size_t used = 0;
    int next = 5;
    filters[0] = '\0';
    if (mask & LIST_SERVICE)
        used += (size_t)snprintf(filters + used, sizeof(filters) - used,
                                 " AND c.service_id = (SELECT id FROM services"
                                 " WHERE org_id = $1 AND code = $%d)",
                                 next++);
    if (mask & LIST_STAGE)
        used +=
            (size_t)snprintf(filters + used, sizeof(filters) - used, " AND cs.stage = $%d", next++);
    if (mask & LIST_FROM)
        used += (size_t)snprintf(filters + used, sizeof(filters) - used, " AND c.opened_at >= $%d",
                                 next++);
    if (mask & LIST_TO)
        used += (size_t)snprintf(filters + used, sizeof(filters) - used, " AND c.opened_at < $%d",
                                 next++);
    /* ILIKE: SQLite's LIKE ignores case too. */
    if (mask & LIST_TEXT)
        snprintf(filters + used, sizeof(filters) - used,
                 " AND (c.reference ILIKE $%d ESCAPE '\\' OR c.summary ILIKE $%d ESCAPE '\\')",
                 next, next);
    snprintf(out, len, CASE_SELECT "WHERE %s < ($2, $3)%s ORDER BY %s LIMIT $4", by, filters,
             order);
}

/* Prepares statement `id` on the connection unless it already is, and
 * writes its name into `name`. False, with the failed result (NULL when
 * libpq is out of memory) in *failed for the caller to clear, when it
 * cannot be prepared. */
static bool prepare_st(pconn *c, int id, int nparams, char name[16], PGresult **failed)
{
    *failed = NULL;
    snprintf(name, 16, "s%d", id);
    if (c->prepared[id])
        return true;
    char list[1024];
    const char *sql = list;
    if (id < ST_FIXED_COUNT)
        sql = fixed_sql[id];
    else
        list_sql((unsigned)(id - ST_FIXED_COUNT), list, sizeof(list));
    PGresult *res = PQprepare(c->pg, name, sql, nparams, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *failed = res;
        return false;
    }
    PQclear(res);
    c->prepared[id] = true;
    return true;
}

/* Runs statement `id` on the connection, preparing it on first use. The
 * result is the caller's to clear; NULL only when libpq is out of memory. */
static PGresult *exec_st(pconn *c, int id, const params *p)
{
    char name[16];
    PGresult *failed = NULL;
    if (!prepare_st(c, id, p->n, name, &failed))
        return failed;
    return PQexecPrepared(c->pg, name, p->n, p->values, p->lengths, p->formats, 0);
}

/* Runs the n statements ids[] with their parameters ps[] in one round trip
 * (libpq's pipeline mode, one sync at the end), preparing first those the
 * connection lacks. On STORE_OK, out[0..n) hold their results, to be cleared
 * by the caller; on failure nothing is left in out. */
static store_rc exec_pipeline(pconn *c, const int *ids, const params *const *ps, int n,
                              const char *what, PGresult **out)
{
    char names[PIPELINE_MAX][16];
    for (int i = 0; i < n; i++) {
        out[i] = NULL;
        PGresult *failed = NULL;
        if (!prepare_st(c, ids[i], ps[i]->n, names[i], &failed)) {
            store_rc rc = fail(c, failed, what);
            PQclear(failed);
            return rc;
        }
    }
    if (PQenterPipelineMode(c->pg) != 1)
        return fail(c, NULL, what);
    bool sent = true;
    for (int i = 0; i < n && sent; i++)
        sent = PQsendQueryPrepared(c->pg, names[i], ps[i]->n, ps[i]->values, ps[i]->lengths,
                                   ps[i]->formats, 0) == 1;
    sent = sent && PQpipelineSync(c->pg) == 1;
    /* Each statement's result is followed by a NULL, and the sync by its
     * own result; a statement after a failed one is answered as aborted. */
    bool complete = sent;
    for (int i = 0; i < n && complete; i++) {
        out[i] = PQgetResult(c->pg);
        PGresult *extra = out[i] ? PQgetResult(c->pg) : NULL;
        complete = out[i] && !extra;
        PQclear(extra);
    }
    PGresult *sync = complete ? PQgetResult(c->pg) : NULL;
    complete = complete && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    complete = complete && PQexitPipelineMode(c->pg) == 1;
    store_rc rc = STORE_OK;
    for (int i = 0; i < n && rc == STORE_OK && complete; i++)
        if (PQresultStatus(out[i]) != PGRES_TUPLES_OK)
            rc = fail(c, out[i], what);
    if (!complete) {
        /* Whatever is left unread makes the connection unusable: it is
         * reset (which leaves pipeline mode) before its next use. */
        rc = fail(c, NULL, what);
        c->broken = true;
    }
    if (rc != STORE_OK)
        for (int i = 0; i < n; i++) {
            PQclear(out[i]);
            out[i] = NULL;
        }
    return rc;
}

/* Runs a statement that returns no rows, or one row of interest (RETURNING),
 * and sets *changed to the rows it changed and *id to the first column of
 * its first row, when they are not NULL. */
static store_rc exec_write(pconn *c, int id, const params *p, const char *what, int64_t *row_id,
                           int *changed)
{
    PGresult *res = exec_st(c, id, p);
    ExecStatusType st = PQresultStatus(res);
    store_rc rc = STORE_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = fail(c, res, what);
    } else {
        if (changed)
            *changed = (int)strtol(PQcmdTuples(res), NULL, 10);
        if (row_id)
            *row_id = PQntuples(res) > 0 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    }
    PQclear(res);
    return rc;
}

/* Runs a query; on success *out holds the result, to be cleared by the
 * caller. */
static store_rc exec_read(pconn *c, int id, const params *p, const char *what, PGresult **out)
{
    *out = NULL;
    PGresult *res = exec_st(c, id, p);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        store_rc rc = fail(c, res, what);
        PQclear(res);
        return rc;
    }
    *out = res;
    return STORE_OK;
}

/* Runs SQL without parameters, such as BEGIN or COMMIT. */
static store_rc exec_plain(pconn *c, const char *sql, const char *what)
{
    PGresult *res = PQexec(c->pg, sql);
    store_rc rc = PQresultStatus(res) == PGRES_COMMAND_OK ? STORE_OK : fail(c, res, what);
    PQclear(res);
    return rc;
}

/* ---- reading rows into the arena ---- */

static int64_t col_int(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A text column copied into the arena; NULL for SQL NULL. Sets *oom when the
 * copy fails. */
static const char *col_text(arena *a, const PGresult *res, int row, int col, bool *oom)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    char *copy = arena_strndup(a, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
    if (!copy)
        *oom = true;
    return copy;
}

/* A bytea column of exactly 32 bytes; false when it is anything else. */
static bool col_hash(const PGresult *res, int row, int col, unsigned char out[32])
{
    if (PQgetisnull(res, row, col))
        return false;
    size_t len = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &len);
    bool ok = raw && len == 32;
    if (ok)
        memcpy(out, raw, 32);
    if (raw)
        PQfreemem(raw);
    return ok;
}

static void read_service(arena *a, const PGresult *res, int row, store_service *out, bool *oom)
{
    out->id = col_int(res, row, 0);
    out->org_id = col_int(res, row, 1);
    out->code = col_text(a, res, row, 2, oom);
    out->name = col_text(a, res, row, 3, oom);
    out->description = col_text(a, res, row, 4, oom);
    out->workflow_json = col_text(a, res, row, 5, oom);
    out->target_days = (int)col_int(res, row, 6);
    out->created_at = col_int(res, row, 7);
    out->updated_at = col_int(res, row, 8);
    out->open311_json = col_text(a, res, row, 9, oom);
    out->duties_json = col_text(a, res, row, 10, oom);
}

/* Reads a row of CASE_SELECT. */
static void read_case(arena *a, const PGresult *res, int row, store_case *out, bool *oom)
{
    out->id = col_int(res, row, 0);
    out->org_id = col_int(res, row, 1);
    out->service_id = col_int(res, row, 2);
    out->service_code = col_text(a, res, row, 3, oom);
    out->reference = col_text(a, res, row, 4, oom);
    out->stage = col_text(a, res, row, 5, oom);
    out->summary = col_text(a, res, row, 6, oom);
    if (!col_hash(res, row, 7, out->secret_hash))
        memset(out->secret_hash, 0, sizeof(out->secret_hash));
    out->opened_at = col_int(res, row, 8);
    out->updated_at = col_int(res, row, 9);
    out->closed_at = col_int(res, row, 10);
    out->person.id = col_int(res, row, 11);
    out->person.name = col_text(a, res, row, 12, oom);
    out->person.email = col_text(a, res, row, 13, oom);
    out->person.phone = col_text(a, res, row, 14, oom);
    out->person.address = col_text(a, res, row, 15, oom);
    out->person.postcode = col_text(a, res, row, 16, oom);
    out->enhanced = PQgetvalue(res, row, 17)[0] == 't';
    out->team = col_text(a, res, row, 18, oom);
}

static void read_event(arena *a, const PGresult *res, int row, store_event *out, bool *oom)
{
    out->id = col_int(res, row, 0);
    out->case_id = col_int(res, row, 1);
    out->type = col_text(a, res, row, 2, oom);
    out->from_stage = col_text(a, res, row, 3, oom);
    out->stage = col_text(a, res, row, 4, oom);
    out->body = col_text(a, res, row, 5, oom);
    out->rating = (int)col_int(res, row, 6);
    out->public_ = PQgetvalue(res, row, 7)[0] == 't';
    out->actor = col_text(a, res, row, 8, oom);
    out->created_at = col_int(res, row, 9);
    out->log_index = PQgetisnull(res, row, 10) ? -1 : col_int(res, row, 10);
}

static void read_access(arena *a, const PGresult *res, int row, store_access *out, bool *oom)
{
    out->id = col_int(res, row, 0);
    out->case_id = col_int(res, row, 1);
    out->case_org_id = col_int(res, row, 2);
    out->reader_org_id = col_int(res, row, 3);
    out->reader_org_name = col_text(a, res, row, 4, oom);
    out->user_id = col_int(res, row, 5);
    out->key_id = col_int(res, row, 6);
    out->reader_name = col_text(a, res, row, 7, oom);
    out->role = col_text(a, res, row, 8, oom);
    out->action = col_text(a, res, row, 9, oom);
    out->purpose = col_text(a, res, row, 10, oom);
    out->at = col_int(res, row, 11);
    out->log_index = PQgetisnull(res, row, 12) ? -1 : col_int(res, row, 12);
}

/* ---- the pool ---- */

/* Server notices (such as "already exists, skipping") are not errors and
 * would only clutter the standard error. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Takes a connection, first resetting it if it failed before, so that a
 * restarted server is picked up. NULL (the connection given back) when it
 * still cannot reach the server. */
static pconn *pool_take(pg_store *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->nidle == 0)
        pthread_cond_wait(&s->cv, &s->mu);
    pconn *c = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->mu);
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK) {
        PQreset(c->pg);
        memset(c->prepared, 0, sizeof(c->prepared));
        memset(c->appeal_prepared, 0, sizeof(c->appeal_prepared));
        c->broken = PQstatus(c->pg) != CONNECTION_OK;
        if (c->broken) {
            log_pg(true, "reconnect", c->pg, NULL);
            pthread_mutex_lock(&s->mu);
            s->idle[s->nidle++] = c;
            pthread_cond_signal(&s->cv);
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        log_info("msg=\"store: reconnected to the database\"");
    }
    return c;
}

static void pool_give(pg_store *s, pconn *c)
{
    /* A connection goes back with no transaction open, whatever happened. */
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
        PGresult *res = PQexec(c->pg, "ROLLBACK");
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            log_pg(false, "roll back", c->pg, res);
            c->broken = true;
        }
        PQclear(res);
    } else if (ts != PQTRANS_IDLE) {
        c->broken = true;
    }
    pthread_mutex_lock(&s->mu);
    s->idle[s->nidle++] = c;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* A write's statements, run on a borrowed connection; arg carries the inputs
 * and receives the outputs. */
typedef store_rc (*write_fn)(pconn *c, void *arg);

/* Runs fn on a pooled connection, inside BEGIN ... COMMIT when `tx` (a write
 * of several statements) or in autocommit (one statement). Returns once the
 * commit is durable, or the transaction is rolled back. */
static store_rc write_run(pg_store *s, write_fn fn, void *arg, bool tx)
{
    pconn *c = pool_take(s);
    if (!c)
        return STORE_UNAVAILABLE;
    store_rc rc = tx ? exec_plain(c, "BEGIN", "begin a write") : STORE_OK;
    if (rc == STORE_OK)
        rc = fn(c, arg);
    if (rc == STORE_OK && tx)
        rc = exec_plain(c, "COMMIT", "commit");
    pool_give(s, c);
    return rc;
}

/* ---- opening ---- */

static store_rc read_version(pconn *c, int *version, char *err, size_t errlen)
{
    PGresult *res = PQexec(c->pg, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    store_rc rc = STORE_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        set_err(err, errlen, "cannot read the schema version", PQerrorMessage(c->pg));
        rc = STORE_ERROR;
    } else {
        *version = (int)col_int(res, 0, 0);
    }
    PQclear(res);
    return rc;
}

/* Runs migration SQL (several statements, no parameters); false with err set
 * on failure. */
static bool migrate_exec(pconn *c, const char *sql, char *err, size_t errlen, const char *what)
{
    PGresult *res = PQexec(c->pg, sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) {
        char detail[256];
        log_clean(detail, sizeof(detail), PQerrorMessage(c->pg));
        set_err(err, errlen, what, detail);
    }
    PQclear(res);
    return ok;
}

/* Applies the embedded migrations the database lacks, each in its own
 * transaction. The advisory lock, taken again in each transaction, makes an
 * instance starting alongside wait, then read the version anew. */
static store_rc migrate(pconn *c, int *version, char *err, size_t errlen)
{
    int latest = (int)embedded_postgresql_migrations_count;
    PGresult *rec = PQexec(c->pg, "SELECT pg_is_in_recovery()");
    bool standby = PQresultStatus(rec) == PGRES_TUPLES_OK && PQntuples(rec) == 1 &&
                   PQgetvalue(rec, 0, 0)[0] == 't';
    PQclear(rec);
    if (standby) {
        /* A hot standby cannot be written: it gets its schema from the
         * primary, so it is only checked to be the one this build expects. */
        if (read_version(c, version, err, errlen) != STORE_OK)
            return PQstatus(c->pg) == CONNECTION_OK ? STORE_ERROR : STORE_UNAVAILABLE;
        if (*version != latest) {
            char msg[128];
            snprintf(msg, sizeof(msg),
                     "the standby has schema %d, this build needs %d: migrate the primary first",
                     *version, latest);
            set_err(err, errlen, msg, NULL);
            return STORE_ERROR;
        }
        return STORE_OK;
    }
    char lock[256];
    snprintf(lock, sizeof(lock),
             "BEGIN; SELECT pg_advisory_xact_lock(%lld);"
             " CREATE TABLE IF NOT EXISTS schema_migrations ("
             "version integer PRIMARY KEY, applied_at bigint NOT NULL)",
             MIGRATION_LOCK);
    for (;;) {
        if (!migrate_exec(c, lock, err, errlen, "cannot start migrating"))
            goto fail;
        if (read_version(c, version, err, errlen) != STORE_OK)
            goto fail;
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
        if (!migrate_exec(c, embedded_postgresql_migrations[next - 1], err, errlen, msg))
            goto fail;
        char record[128];
        snprintf(record, sizeof(record),
                 "INSERT INTO schema_migrations (version, applied_at) VALUES (%d, %lld)", next,
                 (long long)time(NULL));
        if (!migrate_exec(c, record, err, errlen, msg) ||
            !migrate_exec(c, "COMMIT", err, errlen, msg))
            goto fail;
    }
    if (!migrate_exec(c, "COMMIT", err, errlen, "cannot finish migrating"))
        goto fail;
    return STORE_OK;
fail:
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        PGresult *res = PQexec(c->pg, "ROLLBACK");
        PQclear(res);
    }
    return PQstatus(c->pg) == CONNECTION_OK ? STORE_ERROR : STORE_UNAVAILABLE;
}

static store_rc conn_open(pconn *c, const char *uri, char *err, size_t errlen)
{
    c->pg = PQconnectdb(uri);
    if (!c->pg) {
        set_err(err, errlen, "cannot open the database", "out of memory");
        return STORE_ERROR;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        char detail[256];
        log_clean(detail, sizeof(detail), PQerrorMessage(c->pg));
        set_err(err, errlen, "cannot open the database", detail);
        return STORE_UNAVAILABLE;
    }
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    return STORE_OK;
}

static void pg_close(void *impl);
static void move_groups(void *ctx, combine_item **batch, size_t n);
static store_rc pg_secret_key(void *impl, unsigned char key[32]);
static store_rc log_key_load(pg_store *s);

/* A store with room for pool_size connections, none open yet; NULL with err
 * set when memory or a lock cannot be had. pg_close frees it. */
static pg_store *pg_store_new(int pool_size, char *err, size_t errlen)
{
    pg_store *s = calloc(1, sizeof(*s));
    if (!s)
        goto fail;
    s->conns = calloc((size_t)pool_size, sizeof(*s->conns));
    s->idle = calloc((size_t)pool_size, sizeof(pconn *));
    if (!s->conns || !s->idle)
        goto fail;
    if (combine_init(&s->moves, MOVE_GROUP_MAX, MOVE_GROUPS_RUNNING, move_groups, s) != 0)
        goto fail;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
fail:
    if (s) {
        free(s->conns);
        free(s->idle);
    }
    free(s);
    set_err(err, errlen, "out of memory", NULL);
    return NULL;
}

static store_rc pg_open(const char *uri, int pool_size, void **out, char *err, size_t errlen)
{
    *out = NULL;
    set_err(err, errlen, "", NULL);
    if (pool_size < 1 || pool_size > 1024) {
        set_err(err, errlen, "the pool size must be 1 to 1024", NULL);
        return STORE_ERROR;
    }
    if (!PQisthreadsafe()) {
        set_err(err, errlen, "this libpq was built without thread support", NULL);
        return STORE_ERROR;
    }
    pg_store *s = pg_store_new(pool_size, err, errlen);
    if (!s)
        return STORE_ERROR;

    store_rc rc = STORE_OK;
    for (int i = 0; i < pool_size && rc == STORE_OK; i++) {
        s->nconns = i + 1;
        rc = conn_open(&s->conns[i], uri, err, errlen);
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
        pg_close(s);
        return rc;
    }
    *out = s;
    return STORE_OK;
}

static void pg_close(void *impl)
{
    pg_store *s = impl;
    if (!s)
        return;
    for (int i = 0; i < s->nconns; i++)
        PQfinish(s->conns[i].pg);
    combine_destroy(&s->moves);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    sodium_memzero(s->key, sizeof(s->key));
    free(s->idle);
    free(s->conns);
    free(s);
}

static int pg_schema_version(void *impl)
{
    pg_store *s = impl;
    return s->version;
}

/* ---- the secret key ---- */

typedef struct secret_write {
    const unsigned char *fresh;
    unsigned char key[32];
} secret_write;

/* Whoever inserts first wins; everyone then reads the same key. */
static store_rc secret_key_job(pconn *c, void *arg)
{
    secret_write *w = arg;
    params p = {0};
    p_text(&p, "secret_key");
    p_hash(&p, w->fresh);
    store_rc rc = exec_write(c, ST_SETTING_INSERT, &p, "create the secret key", NULL, NULL);
    if (rc != STORE_OK)
        return rc;
    params q = {0};
    p_text(&q, "secret_key");
    PGresult *res = NULL;
    rc = exec_read(c, ST_SETTING_GET, &q, "read the secret key", &res);
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(res) != 1 || !col_hash(res, 0, 0, w->key)) {
        log_error("msg=\"store: the stored secret key is missing or not 32 bytes\"");
        rc = STORE_ERROR;
    }
    PQclear(res);
    return rc;
}

static store_rc pg_secret_key(void *impl, unsigned char key[32])
{
    pg_store *s = impl;
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
    store_rc rc = write_run(s, secret_key_job, &w, true);
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

/* ---- reading one row ---- */

/* Runs a query expected to return at most one row; STORE_NOT_FOUND for
 * none. On STORE_OK, *out holds the result for the caller to clear. */
static store_rc read_one(pg_store *s, int id, const params *p, const char *what, PGresult **out)
{
    *out = NULL;
    pconn *c = pool_take(s);
    if (!c)
        return STORE_UNAVAILABLE;
    PGresult *res = NULL;
    store_rc rc = exec_read(c, id, p, what, &res);
    pool_give(s, c);
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return STORE_NOT_FOUND;
    }
    *out = res;
    return STORE_OK;
}

/* An arena array for a result's rows, whose number is known up front. */
static void *rows_alloc(arena *a, int rows, size_t size)
{
    return arena_calloc(a, rows > 0 ? (size_t)rows : 1, size);
}

/* ---- organisations ---- */

typedef struct org_write {
    const char *slug;
    const char *name;
    int64_t id;
} org_write;

static store_rc org_create_job(pconn *c, void *arg)
{
    org_write *w = arg;
    params p = {0};
    p_text(&p, w->slug);
    p_text(&p, w->name);
    return exec_write(c, ST_ORG_INSERT, &p, "create an organisation", &w->id, NULL);
}

static store_rc pg_org_create(void *impl, const char *slug, const char *name, int64_t *id)
{
    org_write w = {.slug = slug, .name = name};
    store_rc rc = write_run(impl, org_create_job, &w, false);
    *id = rc == STORE_OK ? w.id : 0;
    return rc;
}

static store_rc org_get(pg_store *s, arena *a, int which, const params *p, store_org *out)
{
    memset(out, 0, sizeof(*out));
    PGresult *res = NULL;
    store_rc rc = read_one(s, which, p, "read an organisation", &res);
    if (rc != STORE_OK)
        return rc;
    bool oom = false;
    out->id = col_int(res, 0, 0);
    out->slug = col_text(a, res, 0, 1, &oom);
    out->name = col_text(a, res, 0, 2, &oom);
    PQclear(res);
    if (oom) {
        memset(out, 0, sizeof(*out));
        return out_of_memory("read an organisation");
    }
    return STORE_OK;
}

static store_rc pg_org_by_slug(void *impl, arena *a, const char *slug, store_org *out)
{
    params p = {0};
    p_text(&p, slug);
    return org_get(impl, a, ST_ORG_BY_SLUG, &p, out);
}

static store_rc pg_org_by_id(void *impl, arena *a, int64_t id, store_org *out)
{
    params p = {0};
    p_int(&p, id);
    return org_get(impl, a, ST_ORG_BY_ID, &p, out);
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

static void bind_service(params *p, const service_write *w)
{
    const store_service *svc = w->svc;
    p_int(p, svc->org_id);
    p_text(p, svc->code);
    p_text(p, svc->name);
    p_text(p, svc->description);
    p_text(p, svc->workflow_json);
    p_int(p, svc->target_days);
    p_int(p, w->now);
    p_text(p, svc->open311_json);
    p_text(p, svc->duties_json ? svc->duties_json : "[]");
}

static store_rc service_create_job(pconn *c, void *arg)
{
    service_write *w = arg;
    params p = {0};
    bind_service(&p, w);
    return exec_write(c, ST_SERVICE_INSERT, &p, "create a service", &w->id, NULL);
}

static store_rc pg_service_create(void *impl, store_service *svc)
{
    service_write w = {.svc = svc, .now = now_or(svc->created_at)};
    store_rc rc = write_run(impl, service_create_job, &w, false);
    if (rc == STORE_OK) {
        svc->id = w.id;
        svc->created_at = w.now;
        svc->updated_at = w.now;
    }
    return rc;
}

static store_rc service_update_job(pconn *c, void *arg)
{
    service_write *w = arg;
    params p = {0};
    bind_service(&p, w);
    int changed = 0;
    store_rc rc = exec_write(c, ST_SERVICE_UPDATE, &p, "update a service", NULL, &changed);
    return rc == STORE_OK && changed == 0 ? STORE_NOT_FOUND : rc;
}

static store_rc pg_service_update(void *impl, const store_service *svc)
{
    service_write w = {.svc = svc, .now = now_or(svc->updated_at)};
    return write_run(impl, service_update_job, &w, false);
}

static store_rc service_get(pg_store *s, arena *a, int which, const params *p, store_service *out)
{
    memset(out, 0, sizeof(*out));
    PGresult *res = NULL;
    store_rc rc = read_one(s, which, p, "read a service", &res);
    if (rc != STORE_OK)
        return rc;
    bool oom = false;
    read_service(a, res, 0, out, &oom);
    PQclear(res);
    if (oom) {
        memset(out, 0, sizeof(*out));
        return out_of_memory("read a service");
    }
    return STORE_OK;
}

static store_rc pg_service_get(void *impl, arena *a, int64_t org_id, const char *code,
                               store_service *out)
{
    params p = {0};
    p_int(&p, org_id);
    p_text(&p, code);
    return service_get(impl, a, ST_SERVICE_GET, &p, out);
}

static store_rc pg_service_by_id(void *impl, arena *a, int64_t id, store_service *out)
{
    params p = {0};
    p_int(&p, id);
    return service_get(impl, a, ST_SERVICE_BY_ID, &p, out);
}

/* Runs a query of many rows on a pooled connection; *out is the result for
 * the caller to clear. */
static store_rc read_rows(pg_store *s, int id, const params *p, const char *what, PGresult **out)
{
    pconn *c = pool_take(s);
    if (!c) {
        *out = NULL;
        return STORE_UNAVAILABLE;
    }
    store_rc rc = exec_read(c, id, p, what, out);
    pool_give(s, c);
    return rc;
}

static store_rc pg_service_list(void *impl, arena *a, int64_t org_id, store_service **out,
                                size_t *n)
{
    *out = NULL;
    *n = 0;
    params p = {0};
    p_int(&p, org_id);
    PGresult *res = NULL;
    store_rc rc = read_rows(impl, ST_SERVICE_LIST, &p, "list services", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_service *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++)
        read_service(a, res, i, &arr[i], &oom);
    PQclear(res);
    if (oom)
        return out_of_memory("list services");
    *out = rows ? arr : NULL;
    *n = (size_t)rows;
    return STORE_OK;
}

/* ---- staff, sessions and keys ---- */

typedef struct user_write {
    const store_user *u;
    int64_t id;
} user_write;

static store_rc user_create_job(pconn *c, void *arg)
{
    user_write *w = arg;
    params p = {0};
    p_int(&p, w->u->org_id);
    p_text(&p, w->u->email);
    p_text(&p, w->u->name);
    p_text(&p, w->u->role);
    p_text(&p, w->u->password_hash);
    return exec_write(c, ST_USER_INSERT, &p, "create a user", &w->id, NULL);
}

static store_rc pg_user_create(void *impl, store_user *u)
{
    user_write w = {.u = u};
    store_rc rc = write_run(impl, user_create_job, &w, false);
    if (rc == STORE_OK)
        u->id = w.id;
    return rc;
}

/* The columns of the ST_USER_* statements, from row `row`. */
static void read_user(arena *a, const PGresult *res, int row, store_user *out, bool *oom)
{
    out->id = col_int(res, row, 0);
    out->org_id = col_int(res, row, 1);
    out->email = col_text(a, res, row, 2, oom);
    out->name = col_text(a, res, row, 3, oom);
    out->role = col_text(a, res, row, 4, oom);
    out->password_hash = col_text(a, res, row, 5, oom);
}

/* One user by statement `which` with parameters p. */
static store_rc user_one(pg_store *s, arena *a, int which, const params *p, store_user *out)
{
    memset(out, 0, sizeof(*out));
    PGresult *res = NULL;
    store_rc rc = read_one(s, which, p, "read a user", &res);
    if (rc != STORE_OK)
        return rc;
    bool oom = false;
    read_user(a, res, 0, out, &oom);
    PQclear(res);
    if (oom) {
        memset(out, 0, sizeof(*out));
        return out_of_memory("read a user");
    }
    return STORE_OK;
}

static store_rc pg_user_by_email(void *impl, arena *a, const char *email, store_user *out)
{
    params p = {0};
    p_text(&p, email);
    return user_one(impl, a, ST_USER_BY_EMAIL, &p, out);
}

static store_rc pg_user_get(void *impl, arena *a, int64_t org_id, int64_t id, store_user *out)
{
    params p = {0};
    p_int(&p, org_id);
    p_int(&p, id);
    return user_one(impl, a, ST_USER_GET, &p, out);
}

static store_rc pg_user_list(void *impl, arena *a, int64_t org_id, const char *role,
                             store_user **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    params p = {0};
    p_int(&p, org_id);
    p_text(&p, role);
    PGresult *res = NULL;
    store_rc rc = read_rows(impl, ST_USER_LIST, &p, "list users", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_user *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++)
        read_user(a, res, i, &arr[i], &oom);
    PQclear(res);
    if (oom)
        return out_of_memory("list users");
    *out = rows ? arr : NULL;
    *n = (size_t)rows;
    return STORE_OK;
}

typedef struct session_write {
    const unsigned char *hash;
    int64_t user_id;
    int64_t expires_at;
    int64_t now;
} session_write;

static store_rc session_create_job(pconn *c, void *arg)
{
    session_write *w = arg;
    /* Expired sessions are swept here, where the table is written anyway. */
    params p = {0};
    p_int(&p, w->now);
    store_rc rc = exec_write(c, ST_SESSION_PURGE, &p, "purge expired sessions", NULL, NULL);
    if (rc != STORE_OK)
        return rc;
    params q = {0};
    p_hash(&q, w->hash);
    p_int(&q, w->user_id);
    p_int(&q, w->expires_at);
    return exec_write(c, ST_SESSION_INSERT, &q, "create a session", NULL, NULL);
}

static store_rc pg_session_create(void *impl, const unsigned char hash[32], int64_t user_id,
                                  int64_t expires_at)
{
    session_write w = {
        .hash = hash, .user_id = user_id, .expires_at = expires_at, .now = (int64_t)time(NULL)};
    return write_run(impl, session_create_job, &w, true);
}

/* Reads a principal row: org_id, user or key id, role, name. */
static store_rc principal_get(pg_store *s, arena *a, int which, const unsigned char hash[32],
                              int64_t now, store_principal *out)
{
    memset(out, 0, sizeof(*out));
    params p = {0};
    p_hash(&p, hash);
    if (which == ST_SESSION_GET)
        p_int(&p, now);
    PGresult *res = NULL;
    store_rc rc = read_one(s, which, &p, "read a principal", &res);
    if (rc != STORE_OK)
        return rc;
    bool oom = false;
    out->org_id = col_int(res, 0, 0);
    if (which == ST_SESSION_GET)
        out->user_id = col_int(res, 0, 1);
    else
        out->key_id = col_int(res, 0, 1);
    out->role = col_text(a, res, 0, 2, &oom);
    out->name = col_text(a, res, 0, 3, &oom);
    PQclear(res);
    if (oom) {
        memset(out, 0, sizeof(*out));
        return out_of_memory("read a principal");
    }
    return STORE_OK;
}

static store_rc pg_session_get(void *impl, arena *a, const unsigned char hash[32], int64_t now,
                               store_principal *out)
{
    return principal_get(impl, a, ST_SESSION_GET, hash, now, out);
}

static store_rc session_delete_job(pconn *c, void *arg)
{
    session_write *w = arg;
    params p = {0};
    p_hash(&p, w->hash);
    int changed = 0;
    store_rc rc = exec_write(c, ST_SESSION_DELETE, &p, "delete a session", NULL, &changed);
    return rc == STORE_OK && changed == 0 ? STORE_NOT_FOUND : rc;
}

static store_rc pg_session_delete(void *impl, const unsigned char hash[32])
{
    session_write w = {.hash = hash};
    return write_run(impl, session_delete_job, &w, false);
}

typedef struct key_write {
    int64_t org_id;
    const char *label;
    const char *role;
    const unsigned char *hash;
    int64_t id;
} key_write;

static store_rc key_create_job(pconn *c, void *arg)
{
    key_write *w = arg;
    params p = {0};
    p_int(&p, w->org_id);
    p_text(&p, w->label);
    p_text(&p, w->role);
    p_hash(&p, w->hash);
    return exec_write(c, ST_KEY_INSERT, &p, "create an API key", &w->id, NULL);
}

static store_rc pg_key_create(void *impl, int64_t org_id, const char *label, const char *role,
                              const unsigned char hash[32], int64_t *id)
{
    key_write w = {.org_id = org_id, .label = label, .role = role, .hash = hash};
    store_rc rc = write_run(impl, key_create_job, &w, false);
    *id = rc == STORE_OK ? w.id : 0;
    return rc;
}

static store_rc pg_key_get(void *impl, arena *a, const unsigned char hash[32], store_principal *out)
{
    return principal_get(impl, a, ST_KEY_GET, hash, 0, out);
}

static store_rc pg_key_list(void *impl, arena *a, int64_t org_id, store_key **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    params p = {0};
    p_int(&p, org_id);
    PGresult *res = NULL;
    store_rc rc = read_rows(impl, ST_KEY_LIST, &p, "list API keys", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_key *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++) {
        arr[i].id = col_int(res, i, 0);
        arr[i].label = col_text(a, res, i, 1, &oom);
        arr[i].role = col_text(a, res, i, 2, &oom);
        arr[i].created_at = col_int(res, i, 3);
        arr[i].revoked_at = col_int(res, i, 4);
    }
    PQclear(res);
    if (oom)
        return out_of_memory("list API keys");
    *out = rows ? arr : NULL;
    *n = (size_t)rows;
    return STORE_OK;
}

typedef struct key_revocation {
    int64_t org_id;
    int64_t id;
    int64_t at;
    int changed;
} key_revocation;

static store_rc key_revoke_job(pconn *c, void *arg)
{
    key_revocation *w = arg;
    params p = {0};
    p_int(&p, w->org_id);
    p_int(&p, w->id);
    p_int(&p, w->at);
    return exec_write(c, ST_KEY_REVOKE, &p, "revoke an API key", NULL, &w->changed);
}

static store_rc pg_key_revoke(void *impl, int64_t org_id, int64_t id, int64_t at)
{
    key_revocation w = {.org_id = org_id, .id = id, .at = at};
    store_rc rc = write_run(impl, key_revoke_job, &w, false);
    return rc == STORE_OK && w.changed == 0 ? STORE_NOT_FOUND : rc;
}

/* ---- cases ---- */

/* Queues the public log's entries for an event and an access, in the
 * caller's transaction (defined with the log, at the end of this file). */
static store_rc log_event(pconn *c, int64_t case_id, const store_event *ev, int64_t event_id);
static store_rc log_access(pconn *c, int64_t case_id, const store_access *acc, int64_t access_id);
/* Update duties, written in the transactions of the cases' events. */
static store_rc duties_open(pconn *c, int64_t case_id, int64_t event_id, int64_t at,
                            const store_duty_new *duties, size_t n);
static store_rc duties_on_event(pconn *c, int64_t case_id, const store_event *ev, int64_t event_id,
                                const store_duty_new *duties, size_t n);

static bool has_person(const store_person *p)
{
    return p->name || p->email || p->phone || p->address || p->postcode;
}

/* Inserts the person, if any field is given; *person_id is 0 otherwise. */
static store_rc insert_person(pconn *c, const store_person *person, int64_t *person_id)
{
    *person_id = 0;
    if (!has_person(person))
        return STORE_OK;
    params p = {0};
    p_text(&p, person->name);
    p_text(&p, person->email);
    p_text(&p, person->phone);
    p_text(&p, person->address);
    p_text(&p, person->postcode);
    return exec_write(c, ST_PERSON_INSERT, &p, "create a case", person_id, NULL);
}

/* Inserts an event of case_id. A NULL ev->stage records the case's stage. */
static store_rc insert_event(pconn *c, int64_t case_id, const store_event *ev, int64_t *event_id)
{
    params p = {0};
    p_int(&p, case_id);
    p_text(&p, ev->type);
    p_text(&p, ev->from_stage);
    p_text(&p, ev->stage);
    p_text(&p, ev->body);
    p_int(&p, ev->rating);
    p_bool(&p, ev->public_);
    p_text(&p, ev->actor);
    p_int(&p, ev->created_at);
    return exec_write(c, ST_EVENT_INSERT, &p, "append an event", event_id, NULL);
}

/* Records an access to case_id (acc->case_id is not used) and sets *id when
 * id is not NULL. STORE_NOT_FOUND when there is no such case; any other
 * failure is STORE_UNAVAILABLE, as store.h promises. */
static store_rc insert_access(pconn *c, int64_t case_id, const store_access *acc, int64_t *id)
{
    params p = {0};
    p_int(&p, case_id);
    p_int(&p, acc->reader_org_id);
    p_or_null(&p, acc->user_id);
    p_or_null(&p, acc->key_id);
    p_text(&p, acc->reader_name);
    p_text(&p, acc->role);
    p_text(&p, acc->action);
    p_text(&p, acc->purpose);
    p_int(&p, acc->at);
    int changed = 0;
    int64_t row_id = 0;
    store_rc rc = exec_write(c, ST_ACCESS_INSERT, &p, "record an access", &row_id, &changed);
    if (rc != STORE_OK)
        return STORE_UNAVAILABLE;
    if (changed != 1)
        return STORE_NOT_FOUND;
    if (id)
        *id = row_id;
    return log_access(c, case_id, acc, row_id) == STORE_OK ? STORE_OK : STORE_UNAVAILABLE;
}

/* Reads one case by a statement whose first columns are CASE_SELECT's. With
 * `rest`, a found case's result is left there for the caller to read the
 * further columns of, and clear. */
static store_rc case_row(pconn *c, arena *a, int which, const params *p, const char *what,
                         store_case *out, PGresult **rest)
{
    PGresult *res = NULL;
    store_rc rc = exec_read(c, which, p, what, &res);
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(res) == 0) {
        rc = STORE_NOT_FOUND;
    } else {
        bool oom = false;
        read_case(a, res, 0, out, &oom);
        rc = oom ? out_of_memory(what) : STORE_OK;
    }
    if (rc == STORE_OK && rest)
        *rest = res;
    else
        PQclear(res);
    return rc;
}

static store_rc case_read(pconn *c, arena *a, int which, const params *p, store_case *out)
{
    return case_row(c, a, which, p, "read a case", out, NULL);
}

/* The id of the organisation's case made with this idempotency key, or 0. */
static store_rc find_idempotent(pconn *c, int64_t org_id, const char *key, int64_t *id)
{
    *id = 0;
    params p = {0};
    p_int(&p, org_id);
    p_text(&p, key);
    PGresult *res = NULL;
    store_rc rc = exec_read(c, ST_CASE_BY_IDEMPOTENCY, &p, "create a case", &res);
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(res) > 0)
        *id = col_int(res, 0, 0);
    PQclear(res);
    return STORE_OK;
}

/* Inserts what an Open311 request carries besides case_id. */
static store_rc insert_open311(pconn *c, int64_t case_id, const store_open311_request *o)
{
    params p = {0};
    p_int(&p, case_id);
    p_text(&p, o->token);
    p_text(&p, o->description);
    p_text(&p, o->lat);
    p_text(&p, o->lon);
    p_text(&p, o->address_string);
    p_text(&p, o->address_id);
    p_text(&p, o->media_url);
    p_text(&p, o->attributes_json);
    p_text(&p, o->device_id);
    p_text(&p, o->account_id);
    return exec_write(c, ST_OPEN311_INSERT, &p, "create a case", NULL, NULL);
}

/* Notifications (below): written in the transaction of the event that
 * causes them. */
static store_rc notices_insert(pconn *c, int64_t case_id, int64_t event_id,
                               const store_notice *notices, size_t n);
static store_rc prefs_write(pconn *c, int64_t case_id, const store_prefs *pr, int *changed);

typedef struct case_write {
    const store_case_new *in;
    arena *a;
    store_case *out;
    bool existed;
    bool key_taken; /* the insert lost a race for the idempotency key */
} case_write;

static store_rc insert_case(pconn *c, const store_case_new *in, int64_t person_id, int64_t *case_id,
                            bool *key_taken)
{
    params p = {0};
    p_int(&p, in->org_id);
    p_int(&p, in->service_id);
    p_text(&p, in->reference);
    p_text(&p, in->stage);
    p_text(&p, in->summary);
    p_hash(&p, in->secret_hash);
    p_or_null(&p, person_id);
    p_int(&p, in->now);
    p_text(&p, in->idempotency_key);
    p_bool(&p, in->enhanced);
    p_text(&p, in->team);
    PGresult *res = exec_st(c, ST_CASE_INSERT, &p);
    store_rc rc = STORE_OK;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        *case_id = col_int(res, 0, 0);
    } else {
        rc = fail(c, res, "create a case");
        const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
        *key_taken =
            rc == STORE_DUPLICATE && constraint && strcmp(constraint, "cases_idempotency") == 0;
    }
    PQclear(res);
    return rc;
}

static store_rc case_create_job(pconn *c, void *arg)
{
    case_write *w = arg;
    const store_case_new *in = w->in;
    int64_t case_id = 0, person_id = 0;
    store_rc rc = STORE_OK;
    w->existed = false;
    w->key_taken = false;
    if (in->idempotency_key)
        rc = find_idempotent(c, in->org_id, in->idempotency_key, &case_id);
    if (rc == STORE_OK && case_id) {
        w->existed = true;
    } else {
        if (rc == STORE_OK)
            rc = insert_person(c, &in->person, &person_id);
        if (rc == STORE_OK)
            rc = insert_case(c, in, person_id, &case_id, &w->key_taken);
        store_event opened = {.type = "opened",
                              .stage = in->stage,
                              .public_ = true,
                              .actor = in->actor,
                              .created_at = in->now,
                              .user_id = in->actor_user_id,
                              .key_id = in->actor_key_id};
        int64_t event_id = 0;
        if (rc == STORE_OK)
            rc = insert_event(c, case_id, &opened, &event_id);
        if (rc == STORE_OK)
            rc = log_event(c, case_id, &opened, event_id);
        if (rc == STORE_OK && in->open311)
            rc = insert_open311(c, case_id, in->open311);
        if (rc == STORE_OK && in->n_duties)
            rc = duties_open(c, case_id, event_id, in->now, in->duties, in->n_duties);
        if (rc == STORE_OK && in->prefs)
            rc = prefs_write(c, case_id, in->prefs, NULL);
        if (rc == STORE_OK)
            rc = notices_insert(c, case_id, event_id, in->notices, in->n_notices);
    }
    if (rc != STORE_OK)
        return rc;
    params p = {0};
    p_int(&p, case_id);
    rc = case_read(c, w->a, ST_CASE_BY_ID, &p, w->out);
    /* An earlier case found by its key may hold a person this request did
     * not send, so what is recorded follows the case returned. */
    if (rc == STORE_OK && in->access && w->out->person.id)
        rc = insert_access(c, case_id, in->access, NULL);
    return rc;
}

static store_rc pg_case_create(void *impl, arena *a, const store_case_new *in, store_case *out,
                               bool *existed)
{
    memset(out, 0, sizeof(*out));
    case_write w = {.in = in, .a = a, .out = out};
    store_rc rc = write_run(impl, case_create_job, &w, true);
    /* A concurrent request with the same key committed first: its
     * transaction was rolled back, and the next one finds that case. */
    if (rc == STORE_DUPLICATE && w.key_taken) {
        memset(out, 0, sizeof(*out));
        rc = write_run(impl, case_create_job, &w, true);
    }
    *existed = rc == STORE_OK && w.existed;
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc pg_case_get(void *impl, arena *a, int64_t org_id, const char *reference,
                            store_case *out)
{
    pg_store *s = impl;
    memset(out, 0, sizeof(*out));
    pconn *c = pool_take(s);
    if (!c)
        return STORE_UNAVAILABLE;
    params p = {0};
    p_text(&p, reference);
    p_int(&p, org_id);
    store_rc rc = case_read(c, a, ST_CASE_BY_REF, &p, out);
    pool_give(s, c);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static store_rc pg_case_events(void *impl, arena *a, int64_t case_id, bool public_only,
                               store_event **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    params p = {0};
    p_int(&p, case_id);
    PGresult *res = NULL;
    store_rc rc =
        read_rows(impl, public_only ? ST_EVENTS_PUBLIC : ST_EVENTS_ALL, &p, "read events", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_event *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++)
        read_event(a, res, i, &arr[i], &oom);
    PQclear(res);
    if (oom)
        return out_of_memory("read events");
    *out = rows ? arr : NULL;
    *n = (size_t)rows;
    return STORE_OK;
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

static store_rc pg_case_list(void *impl, arena *a, const store_case_filter *f, store_case **out,
                             size_t *n, bool *more)
{
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

    params p = {0};
    p_int(&p, f->org_id);
    p_int(&p, f->before_id > 0 ? f->before_opened_at : INT64_MAX);
    p_int(&p, f->before_id > 0 ? f->before_id : INT64_MAX);
    p_int(&p, limit + 1);
    if (mask & LIST_SERVICE)
        p_text(&p, f->service_code);
    if (mask & LIST_STAGE)
        p_text(&p, f->stage);
    if (mask & LIST_FROM)
        p_int(&p, f->opened_from);
    if (mask & LIST_TO)
        p_int(&p, f->opened_to);
    if (mask & LIST_TEXT)
        p_text(&p, pattern);
    PGresult *res = NULL;
    store_rc rc = read_rows(impl, ST_FIXED_COUNT + (int)mask, &p, "list cases", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    size_t count = rows > limit ? (size_t)limit : (size_t)rows;
    bool oom = false;
    for (size_t i = 0; i < count && !oom; i++)
        read_case(a, res, (int)i, &arr[i], &oom);
    PQclear(res);
    if (oom)
        return out_of_memory("list cases");
    *out = arr;
    *n = count;
    *more = rows > limit;
    return STORE_OK;
}

typedef struct event_write {
    int64_t case_id;
    const store_event *ev;
    bool stage_change;
    bool closes;
    const store_duty_new *duties;
    size_t n_duties;
    int64_t id;
} event_write;

/* The event, its case's change and its queued log entry are one statement
 * (EVENT_WRITE). Other events than a stage change record the
 * stage the case is at, whatever the caller last saw. STORE_CONFLICT when a
 * stage change found the case no longer at ev->from_stage or closed,
 * STORE_NOT_FOUND when there is no such case. */
static store_rc event_append_job(pconn *c, void *arg)
{
    event_write *w = arg;
    const store_event *ev = w->ev;
    /* Other events than a stage change publish no stage. */
    store_event row = *ev;
    if (!w->stage_change)
        row.stage = NULL;
    tlog_entry entry;
    if (!log_event_entry(&row, 0, &entry)) {
        log_error("msg=\"store: an event of a type the log does not know\"");
        return STORE_ERROR;
    }
    params p = {0};
    p_int(&p, w->case_id);
    p_int(&p, ev->created_at);
    p_text(&p, ev->from_stage);
    p_text(&p, ev->type);
    p_text(&p, ev->body);
    p_int(&p, ev->rating);
    p_bool(&p, ev->public_);
    p_text(&p, ev->actor);
    p_int(&p, entry.kind);
    p_int(&p, entry.actor);
    p_or_null(&p, entry.actor_id);
    p_text(&p, entry.from_stage);
    p_text(&p, entry.stage);
    p_int(&p, entry.rating);
    if (w->stage_change) {
        p_text(&p, ev->stage);
        p_or_null(&p, w->closes ? ev->created_at : 0);
    }
    PGresult *res = NULL;
    store_rc rc =
        exec_read(c, w->stage_change ? ST_EVENT_MOVE : ST_EVENT_ADD, &p, "append an event", &res);
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(res) != 1) {
        log_error("msg=\"store: appending an event returned no row\"");
        rc = STORE_ERROR;
    } else if (PQgetisnull(res, 0, 0)) {
        rc = w->stage_change && PQgetvalue(res, 0, 1)[0] == 't' ? STORE_CONFLICT : STORE_NOT_FOUND;
    } else {
        w->id = col_int(res, 0, 0);
    }
    PQclear(res);
    if (rc == STORE_OK)
        rc = duties_on_event(c, w->case_id, ev, w->id, w->duties, w->n_duties);
    if (rc == STORE_OK)
        rc = notices_insert(c, w->case_id, w->id, ev->notices, ev->n_notices);
    return rc;
}

static store_rc pg_event_append_duties(void *impl, int64_t case_id, store_event *ev, bool closes,
                                       const store_duty_new *duties, size_t n)
{
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
    /* The event and its log entry are one statement, which
     * needs no transaction around it unless duties or notifications follow
     * (a public update meets duties): BEGIN and COMMIT would be two more
     * round trips for every plain move or note. */
    bool tx = store_event_meets_duties(ev) || n > 0 || ev->n_notices > 0;
    store_rc rc = write_run(impl, event_append_job, &w, tx);
    /* Its entry is queued: the sequencer gives it an index after commit. */
    ev->log_index = -1;
    if (rc == STORE_OK)
        ev->id = w.id;
    return rc;
}

/* Plain moves are committed in groups (see util/combine.h): a durable
 * commit and a statement's start cost about what the move itself does, and
 * callers who arrive while a group is written share the next. Each caller
 * is answered only once the group holding its move has committed. */

/* One caller's plain move, waiting for its group. */
typedef struct move_item {
    combine_item link; /* first, so that a batch's items are move_items */
    arena *a;
    int64_t org_id;
    const char *reference;
    const store_move_from *from;
    size_t n_from;
    store_event *ev;
    tlog_entry entry;
    store_case *out;
    store_rc rc;
} move_item;

/* The statement's array parameters, as PostgreSQL array literals. */
enum {
    MA_REFERENCE,
    MA_ORG,
    MA_STAGE,
    MA_AT,
    MA_BODY,
    MA_ACTOR,
    MA_KIND,
    MA_ACTOR_KIND,
    MA_ACTOR_ID,
    MA_FROM_ITEM,
    MA_FROM_SERVICE,
    MA_FROM_STAGE,
    MA_COUNT
};

static void array_sep(buf *b)
{
    buf_putc(b, b->len == 0 ? '{' : ',');
}

/* NULL is the array's NULL; anything else is quoted. */
static void array_text(buf *b, const char *v)
{
    array_sep(b);
    if (!v) {
        buf_puts(b, "NULL");
        return;
    }
    buf_putc(b, '"');
    for (const char *ch = v; *ch; ch++) {
        if (*ch == '"' || *ch == '\\')
            buf_putc(b, '\\');
        buf_putc(b, *ch);
    }
    buf_putc(b, '"');
}

static void array_int(buf *b, int64_t v)
{
    array_sep(b);
    buf_printf(b, "%lld", (long long)v);
}

/* 0 binds as NULL, as p_or_null does. */
static void array_int_or_null(buf *b, int64_t v)
{
    if (v)
        array_int(b, v);
    else
        array_text(b, NULL);
}

/* Fills arrays[] with items[0..n)'s moves; false when they would pass
 * MOVE_ARRAY_MAX or memory runs out. */
static bool move_arrays(move_item *const *items, size_t n, buf arrays[MA_COUNT])
{
    for (size_t i = 0; i < n; i++) {
        const move_item *m = items[i];
        array_text(&arrays[MA_REFERENCE], m->reference);
        array_int(&arrays[MA_ORG], m->org_id);
        array_text(&arrays[MA_STAGE], m->ev->stage);
        array_int(&arrays[MA_AT], m->ev->created_at);
        array_text(&arrays[MA_BODY], m->ev->body);
        array_text(&arrays[MA_ACTOR], m->ev->actor);
        array_int(&arrays[MA_KIND], m->entry.kind);
        array_int(&arrays[MA_ACTOR_KIND], m->entry.actor);
        array_int_or_null(&arrays[MA_ACTOR_ID], m->entry.actor_id);
        for (size_t f = 0; f < m->n_from; f++) {
            array_int(&arrays[MA_FROM_ITEM], (int64_t)i + 1);
            array_int(&arrays[MA_FROM_SERVICE], m->from[f].service_id);
            array_text(&arrays[MA_FROM_STAGE], m->from[f].stage);
        }
    }
    bool ok = true;
    for (int k = 0; k < MA_COUNT; k++) {
        if (arrays[k].len == 0)
            buf_putc(&arrays[k], '{');
        buf_putc(&arrays[k], '}');
        ok = ok && !arrays[k].failed;
    }
    return ok;
}

typedef struct move_batch {
    move_item *const *items;
    size_t n;
    const params *p;
    bool lost; /* the connection failed: whether the group committed is unknown */
} move_batch;

/* Settles the moves the statement made; those it did not make are left
 * STORE_NOT_FOUND. */
static store_rc case_moves_job(pconn *c, void *arg)
{
    move_batch *b = arg;
    /* One round trip, one transaction: the two statements before the sync. */
    static const int ids[] = {ST_GENERIC_PLANS, ST_CASE_MOVES};
    const params none = {0};
    const params *const ps[] = {&none, b->p};
    PGresult *out[2] = {NULL, NULL};
    store_rc rc = exec_pipeline(c, ids, ps, 2, "move cases", out);
    if (rc != STORE_OK) {
        b->lost = c->broken;
        return rc;
    }
    PQclear(out[0]);
    PGresult *res = out[1];
    for (int row = 0; row < PQntuples(res); row++) {
        int64_t number = col_int(res, row, 21);
        if (number < 1 || (size_t)number > b->n)
            continue;
        move_item *m = b->items[number - 1];
        bool oom = false;
        read_case(m->a, res, row, m->out, &oom);
        m->ev->from_stage = col_text(m->a, res, row, 19, &oom);
        m->ev->id = col_int(res, row, 20);
        m->ev->case_id = m->out->id;
        m->rc = oom ? out_of_memory("move cases") : STORE_OK;
    }
    PQclear(res);
    return STORE_OK;
}

/* Makes items[0..n)'s moves in one statement, so one commit. *lost as in
 * move_batch. */
static store_rc move_group(pg_store *s, move_item *const *items, size_t n, bool *lost)
{
    for (size_t i = 0; i < n; i++)
        items[i]->rc = STORE_NOT_FOUND;
    buf arrays[MA_COUNT];
    for (int k = 0; k < MA_COUNT; k++)
        buf_init(&arrays[k], MOVE_ARRAY_MAX);
    store_rc rc = STORE_ERROR;
    if (move_arrays(items, n, arrays)) {
        params p = {0};
        for (int k = 0; k < MA_COUNT; k++)
            p_text(&p, arrays[k].data);
        move_batch b = {.items = items, .n = n, .p = &p};
        rc = write_run(s, case_moves_job, &b, false);
        *lost = b.lost;
    } else {
        log_error("msg=\"store: a group of moves is too large to send\"");
    }
    for (int k = 0; k < MA_COUNT; k++)
        buf_free(&arrays[k]);
    return rc;
}

static int move_order(const void *x, const void *y)
{
    const move_item *a = *(move_item *const *)x;
    const move_item *b = *(move_item *const *)y;
    return strcmp(a->reference, b->reference);
}

/* combine_fn for plain moves. A group refused by the database (a deadlock
 * with another group, a value refused) is tried again one move at a time,
 * so that one move's failure is not every caller's. A group whose
 * connection failed is not: it may have committed, and its callers are told
 * the database is unavailable, as a single move's would be. */
static void move_groups(void *ctx, combine_item **batch, size_t n)
{
    pg_store *s = ctx;
    move_item *items[COMBINE_BATCH_MAX] = {0};
    for (size_t i = 0; i < n; i++)
        items[i] = (move_item *)(void *)batch[i];
    /* The statement takes the moves in order, locking their cases as it
     * goes: in the order of their references, groups on other instances
     * lock in the same order rather than deadlock (the retry below settles
     * it should a plan differ). */
    qsort(items, n, sizeof(move_item *), move_order);
    bool lost = false;
    store_rc rc = move_group(s, items, n, &lost);
    if (rc == STORE_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        store_rc one = n > 1 && !lost ? move_group(s, &items[i], 1, &lost) : rc;
        if (one != STORE_OK)
            items[i]->rc = one;
    }
}

static store_rc pg_case_move(void *impl, arena *a, int64_t org_id, const char *reference,
                             const store_move_from *from, size_t n, store_event *ev,
                             store_case *out)
{
    pg_store *s = impl;
    memset(out, 0, sizeof(*out));
    ev->id = 0;
    ev->log_index = -1;
    if (n == 0)
        return STORE_NOT_FOUND;
    move_item m = {.a = a,
                   .org_id = org_id,
                   .reference = reference,
                   .from = from,
                   .n_from = n,
                   .ev = ev,
                   .out = out};
    if (!log_event_entry(ev, 0, &m.entry))
        return STORE_ERROR;
    combine_submit(&s->moves, &m.link);
    if (m.rc != STORE_OK) {
        memset(out, 0, sizeof(*out));
        return m.rc;
    }
    /* The event's log entry is queued: the sequencer gives it an index. */
    return STORE_OK;
}

static store_rc pg_event_append(void *impl, int64_t case_id, store_event *ev, bool closes)
{
    return pg_event_append_duties(impl, case_id, ev, closes, NULL, 0);
}

typedef struct secret_change {
    int64_t case_id;
    const unsigned char *hash;
} secret_change;

static store_rc set_secret_job(pconn *c, void *arg)
{
    secret_change *w = arg;
    params p = {0};
    p_int(&p, w->case_id);
    p_hash(&p, w->hash);
    int changed = 0;
    store_rc rc =
        exec_write(c, ST_CASE_SET_SECRET, &p, "replace a tracking secret", NULL, &changed);
    return rc == STORE_OK && changed == 0 ? STORE_NOT_FOUND : rc;
}

static store_rc pg_case_set_secret(void *impl, int64_t case_id, const unsigned char hash[32])
{
    secret_change w = {.case_id = case_id, .hash = hash};
    return write_run(impl, set_secret_job, &w, false);
}

static store_rc pg_service_durations(void *impl, arena *a, int64_t service_id, int limit,
                                     int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (limit <= 0)
        return STORE_OK;
    int64_t *arr = arena_calloc(a, (size_t)limit, sizeof(*arr));
    if (!arr)
        return out_of_memory("read durations");
    params p = {0};
    p_int(&p, service_id);
    p_int(&p, limit);
    PGresult *res = NULL;
    store_rc rc = read_rows(impl, ST_DURATIONS, &p, "read durations", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    size_t count = rows > limit ? (size_t)limit : (size_t)rows;
    for (size_t i = 0; i < count; i++)
        arr[i] = col_int(res, (int)i, 0);
    PQclear(res);
    *out = arr;
    *n = count;
    return STORE_OK;
}

/* ---- access records ---- */

typedef struct access_write {
    store_access *accesses;
    size_t n;
} access_write;

static store_rc access_record_job(pconn *c, void *arg)
{
    access_write *w = arg;
    store_rc rc = STORE_OK;
    for (size_t i = 0; i < w->n && rc == STORE_OK; i++)
        rc = insert_access(c, w->accesses[i].case_id, &w->accesses[i], &w->accesses[i].id);
    return rc;
}

static store_rc pg_access_record(void *impl, store_access *accesses, size_t n)
{
    if (n == 0)
        return STORE_OK;
    access_write w = {.accesses = accesses, .n = n};
    /* Always a transaction: each access appends to the log as well. */
    store_rc rc = write_run(impl, access_record_job, &w, true);
    /* A failed transaction may have set ids of rows it then rolled back. */
    if (rc != STORE_OK) {
        for (size_t i = 0; i < n; i++)
            accesses[i].id = 0;
        if (rc != STORE_NOT_FOUND)
            rc = STORE_UNAVAILABLE;
    }
    return rc;
}

static store_rc pg_case_accesses(void *impl, arena *a, int64_t case_id, store_access **out,
                                 size_t *n)
{
    *out = NULL;
    *n = 0;
    params p = {0};
    p_int(&p, case_id);
    PGresult *res = NULL;
    store_rc rc = read_rows(impl, ST_ACCESSES_OF_CASE, &p, "read accesses", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_access *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++)
        read_access(a, res, i, &arr[i], &oom);
    PQclear(res);
    if (oom)
        return out_of_memory("read accesses");
    *out = rows ? arr : NULL;
    *n = (size_t)rows;
    return STORE_OK;
}

/* ---- public tracking ---- */

/* The case, its public events and its accesses: three statements sent in
 * one round trip. */
static store_rc pg_case_tracking(void *impl, arena *a, const char *reference, store_tracking *out)
{
    pg_store *s = impl;
    memset(out, 0, sizeof(*out));
    params by_ref = {0};
    p_text(&by_ref, reference);
    p_int(&by_ref, 0);
    params ref_only = {0};
    p_text(&ref_only, reference);
    const int ids[] = {ST_CASE_BY_REF, ST_TRACK_EVENTS, ST_TRACK_ACCESSES};
    const params *const ps[] = {&by_ref, &ref_only, &ref_only};
    PGresult *res[3] = {NULL, NULL, NULL};
    pconn *c = pool_take(s);
    if (!c)
        return STORE_UNAVAILABLE;
    store_rc rc = exec_pipeline(c, ids, ps, 3, "read a case for tracking", res);
    pool_give(s, c);
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(res[0]) == 0) {
        rc = STORE_NOT_FOUND;
    } else {
        bool oom = false;
        read_case(a, res[0], 0, &out->c, &oom);
        int n_events = PQntuples(res[1]);
        int n_accesses = PQntuples(res[2]);
        store_event *events = rows_alloc(a, n_events, sizeof(*events));
        store_access *accesses = rows_alloc(a, n_accesses, sizeof(*accesses));
        oom = oom || !events || !accesses;
        for (int i = 0; i < n_events && !oom; i++)
            read_event(a, res[1], i, &events[i], &oom);
        for (int i = 0; i < n_accesses && !oom; i++)
            read_access(a, res[2], i, &accesses[i], &oom);
        out->events = n_events ? events : NULL;
        out->n_events = (size_t)n_events;
        out->accesses = n_accesses ? accesses : NULL;
        out->n_accesses = (size_t)n_accesses;
        if (oom)
            rc = out_of_memory("read a case for tracking");
    }
    for (int i = 0; i < 3; i++)
        PQclear(res[i]);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- bulk import ---- */

/* The bulk import streams rows with COPY into staging tables, numbered by
 * case, then gives them ids and moves them into place with a few INSERT ...
 * SELECT statements, all in one transaction: a million cases load in a
 * fraction of the time a statement per row would take. */

typedef struct copy_out {
    pconn *c;
    char *buf;
    size_t len;
    bool failed;
} copy_out;

static void copy_flush(copy_out *o)
{
    if (!o->failed && o->len > 0 && PQputCopyData(o->c->pg, o->buf, (int)o->len) != 1)
        o->failed = true;
    o->len = 0;
}

static void copy_byte(copy_out *o, char ch)
{
    if (o->len == COPY_CHUNK)
        copy_flush(o);
    o->buf[o->len++] = ch;
}

static void copy_raw(copy_out *o, const char *s)
{
    for (; *s; s++)
        copy_byte(o, *s);
}

/* A text field in COPY's text format: \N for NULL, and the characters COPY
 * gives a meaning to escaped. `sep` ends it: a tab or a line break. */
static void copy_text(copy_out *o, const char *v, char sep)
{
    if (!v) {
        copy_raw(o, "\\N");
    } else {
        for (; *v; v++) {
            switch (*v) {
            case '\\':
                copy_raw(o, "\\\\");
                break;
            case '\n':
                copy_raw(o, "\\n");
                break;
            case '\r':
                copy_raw(o, "\\r");
                break;
            case '\t':
                copy_raw(o, "\\t");
                break;
            default:
                copy_byte(o, *v);
            }
        }
    }
    copy_byte(o, sep);
}

static void copy_int(copy_out *o, int64_t v, bool null_if_zero, char sep)
{
    char num[24];
    snprintf(num, sizeof(num), "%lld", (long long)v);
    copy_text(o, null_if_zero && v == 0 ? NULL : num, sep);
}

/* A 32-byte hash as bytea's hex input, its backslash escaped for COPY. */
static void copy_hash(copy_out *o, const unsigned char *h, char sep)
{
    if (!h) {
        copy_text(o, NULL, sep);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    copy_raw(o, "\\\\x");
    for (int i = 0; i < 32; i++) {
        copy_byte(o, hex[h[i] >> 4]);
        copy_byte(o, hex[h[i] & 15]);
    }
    copy_byte(o, sep);
}

/* Ends a COPY, sending what is left; the store result of the whole COPY. */
static store_rc copy_finish(copy_out *o, const char *what)
{
    copy_flush(o);
    if (PQputCopyEnd(o->c->pg, o->failed ? "the import could not send its rows" : NULL) != 1)
        o->failed = true;
    store_rc rc = STORE_OK;
    PGresult *res;
    while ((res = PQgetResult(o->c->pg)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == STORE_OK)
            rc = fail(o->c, res, what);
        PQclear(res);
    }
    if (rc == STORE_OK && o->failed)
        rc = fail(o->c, NULL, what);
    return rc;
}

static store_rc copy_start(copy_out *o, const char *sql, const char *what)
{
    PGresult *res = PQexec(o->c->pg, sql);
    store_rc rc = PQresultStatus(res) == PGRES_COPY_IN ? STORE_OK : fail(o->c, res, what);
    PQclear(res);
    o->len = 0;
    o->failed = false;
    return rc;
}

typedef struct import_write {
    const store_case_new *cases;
    const store_event *const *events;
    const size_t *n_events;
    const int64_t *closed_at;
    size_t n;
} import_write;

static store_rc import_copy_cases(copy_out *o, const import_write *w)
{
    store_rc rc = copy_start(o,
                             "COPY import_cases (n, org_id, service_id, reference, stage, summary,"
                             " secret_hash, opened_at, updated_at, closed_at, idempotency_key,"
                             " has_person, name, email, phone, address, postcode) FROM STDIN",
                             "import cases");
    for (size_t i = 0; i < w->n && rc == STORE_OK && !o->failed; i++) {
        const store_case_new *in = &w->cases[i];
        int64_t updated_at = in->now;
        for (size_t j = 0; j < w->n_events[i]; j++)
            if (w->events[i][j].created_at > updated_at)
                updated_at = w->events[i][j].created_at;
        copy_int(o, (int64_t)i, false, '\t');
        copy_int(o, in->org_id, false, '\t');
        copy_int(o, in->service_id, false, '\t');
        copy_text(o, in->reference, '\t');
        copy_text(o, in->stage, '\t');
        copy_text(o, in->summary, '\t');
        copy_hash(o, in->secret_hash, '\t');
        copy_int(o, in->now, false, '\t');
        copy_int(o, updated_at, false, '\t');
        copy_int(o, w->closed_at ? w->closed_at[i] : 0, true, '\t');
        copy_text(o, in->idempotency_key, '\t');
        copy_text(o, has_person(&in->person) ? "t" : "f", '\t');
        copy_text(o, in->person.name, '\t');
        copy_text(o, in->person.email, '\t');
        copy_text(o, in->person.phone, '\t');
        copy_text(o, in->person.address, '\t');
        copy_text(o, in->person.postcode, '\n');
    }
    return rc == STORE_OK ? copy_finish(o, "import cases") : rc;
}

static store_rc import_copy_events(copy_out *o, const import_write *w)
{
    store_rc rc = copy_start(o,
                             "COPY import_events (n, seq, type, from_stage, stage, body, rating,"
                             " public, actor, created_at) FROM STDIN",
                             "import events");
    for (size_t i = 0; i < w->n && rc == STORE_OK && !o->failed; i++) {
        for (size_t j = 0; j < w->n_events[i]; j++) {
            const store_event *ev = &w->events[i][j];
            copy_int(o, (int64_t)i, false, '\t');
            copy_int(o, (int64_t)j, false, '\t');
            copy_text(o, ev->type, '\t');
            copy_text(o, ev->from_stage, '\t');
            copy_text(o, ev->stage, '\t');
            copy_text(o, ev->body, '\t');
            copy_int(o, ev->rating, false, '\t');
            copy_text(o, ev->public_ ? "t" : "f", '\t');
            copy_text(o, ev->actor, '\t');
            copy_int(o, ev->created_at, false, '\n');
        }
    }
    return rc == STORE_OK ? copy_finish(o, "import events") : rc;
}

/* The statements that set the staging tables up, and those that move their
 * rows into place. Ids come from the tables' own sequences, so rows written
 * meanwhile by others keep theirs. Events are inserted in case and then
 * event order, so that their ids keep each case's order. */
static const char import_setup_sql[] =
    "CREATE TEMPORARY TABLE import_cases (n bigint PRIMARY KEY, org_id bigint,"
    " service_id bigint, reference text, stage text, summary text, secret_hash bytea,"
    " opened_at bigint, updated_at bigint, closed_at bigint, idempotency_key text,"
    " has_person boolean, name text, email text, phone text, address text, postcode text,"
    " case_id bigint, person_id bigint) ON COMMIT DROP;"
    "CREATE TEMPORARY TABLE import_events (n bigint, seq bigint, type text, from_stage text,"
    " stage text, body text, rating integer, public boolean, actor text, created_at bigint)"
    " ON COMMIT DROP";

static const char *const import_move_sql[] = {
    "UPDATE import_cases SET case_id = nextval(pg_get_serial_sequence('cases', 'id')),"
    " person_id = CASE WHEN has_person"
    " THEN nextval(pg_get_serial_sequence('persons', 'id')) END",
    "ANALYZE import_cases",
    "INSERT INTO persons (id, name, email, phone, address, postcode)"
    " SELECT person_id, name, email, phone, address, postcode FROM import_cases"
    " WHERE has_person ORDER BY n",
    "INSERT INTO cases (id, org_id, service_id, reference, summary, secret_hash, person_id,"
    " opened_at, closed_at, idempotency_key)"
    " SELECT case_id, org_id, service_id, reference, summary, secret_hash, person_id,"
    " opened_at, closed_at, idempotency_key FROM import_cases ORDER BY n",
    "INSERT INTO case_states (case_id, org_id, opened_at, stage, updated_at)"
    " SELECT case_id, org_id, opened_at, stage, updated_at FROM import_cases ORDER BY n",
    "INSERT INTO events (case_id, type, from_stage, stage, body, rating, public, actor,"
    " created_at)"
    " SELECT c.case_id, e.type, e.from_stage, coalesce(e.stage, c.stage), e.body, e.rating,"
    " e.public, e.actor, e.created_at FROM import_events e JOIN import_cases c ON c.n = e.n"
    " ORDER BY e.n, e.seq",
};

static store_rc import_job(pconn *c, void *arg)
{
    import_write *w = arg;
    copy_out o = {.c = c, .buf = malloc(COPY_CHUNK)};
    if (!o.buf)
        return out_of_memory("import cases");
    store_rc rc = exec_plain(c, import_setup_sql, "import cases");
    if (rc == STORE_OK)
        rc = import_copy_cases(&o, w);
    if (rc == STORE_OK)
        rc = import_copy_events(&o, w);
    free(o.buf);
    for (size_t i = 0; i < sizeof(import_move_sql) / sizeof(import_move_sql[0]) && rc == STORE_OK;
         i++)
        rc = exec_plain(c, import_move_sql[i], "import cases");
    return rc;
}

static store_rc pg_case_import(void *impl, const store_case_new *cases,
                               const store_event *const *events, const size_t *n_events,
                               const int64_t *closed_at, size_t n)
{
    if (n == 0)
        return STORE_OK;
    import_write w = {
        .cases = cases, .events = events, .n_events = n_events, .closed_at = closed_at, .n = n};
    return write_run(impl, import_job, &w, true);
}

/* ---- copying a deployment ---- */

/* One read-only connection, not migrated; its transactions are read-only
 * too, so nothing it runs can change the database. */
static store_rc pg_open_readonly(const char *uri, void **out, char *err, size_t errlen)
{
    *out = NULL;
    set_err(err, errlen, "", NULL);
    pg_store *s = pg_store_new(1, err, errlen);
    if (!s)
        return STORE_ERROR;
    s->nconns = 1;
    pconn *c = &s->conns[0];
    store_rc rc = conn_open(c, uri, err, errlen);
    if (rc == STORE_OK && !migrate_exec(c, "SET default_transaction_read_only = on", err, errlen,
                                        "cannot make the connection read-only"))
        rc = STORE_ERROR;
    if (rc == STORE_OK)
        rc = read_version(c, &s->version, err, errlen);
    if (rc == STORE_OK && s->version != (int)embedded_postgresql_migrations_count) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "the database has schema %d, but this build reads only schema %d: open it once"
                 " with a server of this build first",
                 s->version, (int)embedded_postgresql_migrations_count);
        set_err(err, errlen, msg, NULL);
        rc = STORE_ERROR;
    }
    if (rc != STORE_OK) {
        pg_close(s);
        return rc;
    }
    s->idle[s->nidle++] = c;
    *out = s;
    return STORE_OK;
}

/* A copy's read snapshot or write transaction, on a connection of its own. */
typedef struct pg_copy {
    pg_store *s;
    pconn *c;
    const store_table *t;
    copy_out o;   /* the current table's COPY, while loading */
    bool copying; /* o has a COPY open */
    bool staged;  /* ...into split_stage_sql's table, to be moved on */
} pg_copy;

/* The one table of the copy that is two here: a case's stage and last change
 * are kept in case_states (migrations/postgresql/0012_case_states.sql). A
 * copy reads each case whole from both, and loads the cases into a staging
 * table whose rows then go to each. */
#define SPLIT_TABLE "cases"
#define SPLIT_PART "case_states"
#define SPLIT_STAGING "load_cases"
static const char split_source[] =
    "(SELECT c.*, cs.stage, cs.updated_at FROM" CASES_WITH_STATE ") AS cases";
static const char split_stage_sql[] = "CREATE TEMPORARY TABLE " SPLIT_STAGING " (LIKE cases,"
                                      " stage text NOT NULL, updated_at bigint NOT NULL)"
                                      " ON COMMIT DROP";
static const char split_move_sql[] =
    "INSERT INTO cases (id, org_id, service_id, reference, summary, secret_hash, person_id,"
    " opened_at, closed_at, idempotency_key, enhanced, team)"
    " SELECT id, org_id, service_id, reference, summary, secret_hash, person_id, opened_at,"
    " closed_at, idempotency_key, enhanced, team FROM " SPLIT_STAGING ";"
    "INSERT INTO case_states (case_id, org_id, opened_at, stage, updated_at)"
    " SELECT id, org_id, opened_at, stage, updated_at FROM " SPLIT_STAGING ";"
    "DROP TABLE " SPLIT_STAGING;

/* Refuses a database holding a table the copy does not know. */
static store_rc check_tables(pconn *c, char *err, size_t errlen)
{
    PGresult *res = PQexec(c->pg, "SELECT table_name::text FROM information_schema.tables"
                                  " WHERE table_schema = current_schema()"
                                  " AND table_type = 'BASE TABLE' ORDER BY 1");
    store_rc rc = STORE_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = fail(c, res, "list the tables");
        set_err(err, errlen, "cannot list the tables", NULL);
    }
    for (int i = 0; rc == STORE_OK && i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0);
        if (strcmp(name, SPLIT_PART) != 0 && !store_table_known(name)) {
            set_err(err, errlen, "the copy does not know the table", name);
            rc = STORE_ERROR;
        }
    }
    PQclear(res);
    return rc;
}

/* STORE_CONFLICT, with err naming the table, when any table holds a row;
 * else empties the tables whose rows a copy replaces. */
static store_rc target_ready(pconn *c, char *err, size_t errlen)
{
    store_rc rc = STORE_OK;
    for (size_t i = 0; i < store_tables_count && rc == STORE_OK; i++) {
        if (store_tables[i].replace)
            continue;
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT 1 FROM %s LIMIT 1", store_tables[i].name);
        PGresult *res = PQexec(c->pg, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            rc = fail(c, res, "check the target is empty");
            set_err(err, errlen, "cannot read the target database", NULL);
        } else if (PQntuples(res) > 0) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "the target database is not empty (table %s has rows); copy only into a"
                     " freshly created database",
                     store_tables[i].name);
            set_err(err, errlen, msg, NULL);
            rc = STORE_CONFLICT;
        }
        PQclear(res);
    }
    for (size_t i = 0; i < store_tables_count && rc == STORE_OK; i++) {
        if (!store_tables[i].replace)
            continue;
        char sql[128];
        snprintf(sql, sizeof(sql), "DELETE FROM %s", store_tables[i].name);
        rc = exec_plain(c, sql, "empty a table before a copy");
        if (rc != STORE_OK)
            set_err(err, errlen, "cannot prepare the target database", NULL);
    }
    return rc;
}

/* Begins a copy's transaction; on failure the connection goes back. */
static store_rc copy_begin(pg_store *s, bool write, pg_copy **out, char *err, size_t errlen)
{
    *out = NULL;
    pg_copy *x = calloc(1, sizeof(*x));
    if (x && write)
        x->o.buf = malloc(COPY_CHUNK);
    if (!x || (write && !x->o.buf)) {
        free(x);
        set_err(err, errlen, "out of memory", NULL);
        return STORE_ERROR;
    }
    x->s = s;
    x->c = pool_take(s);
    if (!x->c) {
        free(x->o.buf);
        free(x);
        set_err(err, errlen, "the database is unreachable", NULL);
        return STORE_UNAVAILABLE;
    }
    x->o.c = x->c;
    /* REPEATABLE READ: every table is read in the snapshot of the first. */
    store_rc rc = exec_plain(
        x->c, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", "begin a copy");
    if (rc != STORE_OK)
        set_err(err, errlen, "cannot begin a transaction", NULL);
    if (rc == STORE_OK)
        rc = check_tables(x->c, err, errlen);
    if (rc == STORE_OK && write)
        rc = target_ready(x->c, err, errlen);
    if (rc != STORE_OK) {
        pool_give(s, x->c);
        free(x->o.buf);
        free(x);
        return rc;
    }
    *out = x;
    return STORE_OK;
}

static store_rc pg_read_begin(void *impl, void **tx, char *err, size_t errlen)
{
    return copy_begin(impl, false, (pg_copy **)tx, err, errlen);
}

static int64_t be_int(const char *p, int len)
{
    uint64_t v = 0;
    for (int i = 0; i < len; i++)
        v = (v << 8) | (unsigned char)p[i];
    return (int64_t)v;
}

/* Reads the table in binary, one row at a time, so that a table of any size
 * streams through: integers come as eight big-endian bytes (booleans cast
 * to them), text and bytea as their bytes. Text keys order by bytes, as
 * SQLite orders them. */
static store_rc pg_read_rows(void *tx, const store_table *t, store_row_fn fn, void *ctx)
{
    pg_copy *x = tx;
    char sql[1024];
    size_t used = (size_t)snprintf(sql, sizeof(sql), "SELECT ");
    for (size_t i = 0; i < t->ncolumns && used < sizeof(sql); i++) {
        const char *cast = t->kinds[i] == STORE_COL_INT    ? "::bigint"
                           : t->kinds[i] == STORE_COL_BOOL ? "::integer::bigint"
                                                           : "";
        int w =
            snprintf(sql + used, sizeof(sql) - used, "%s%s%s", i ? ", " : "", t->columns[i], cast);
        used += w > 0 ? (size_t)w : 0;
    }
    if (used < sizeof(sql))
        snprintf(sql + used, sizeof(sql) - used, " FROM %s ORDER BY %s%s",
                 strcmp(t->name, SPLIT_TABLE) == 0 ? split_source : t->name, t->columns[0],
                 t->kinds[0] == STORE_COL_TEXT ? " COLLATE \"C\"" : "");
    if (!PQsendQueryParams(x->c->pg, sql, 0, NULL, NULL, NULL, NULL, 1) ||
        !PQsetSingleRowMode(x->c->pg))
        return fail(x->c, NULL, "read rows to copy");
    store_rc rc = STORE_OK;
    PGresult *res;
    while ((res = PQgetResult(x->c->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE && rc == STORE_OK) {
            store_value row[STORE_COLUMNS_MAX] = {0};
            for (size_t i = 0; i < t->ncolumns; i++) {
                int col = (int)i;
                row[i].null = PQgetisnull(res, 0, col);
                if (row[i].null)
                    continue;
                const char *v = PQgetvalue(res, 0, col);
                int len = PQgetlength(res, 0, col);
                if (t->kinds[i] == STORE_COL_INT || t->kinds[i] == STORE_COL_BOOL) {
                    row[i].i = be_int(v, len);
                } else {
                    row[i].p = v;
                    row[i].len = (size_t)len;
                }
            }
            rc = fn(ctx, row);
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && rc == STORE_OK) {
            rc = fail(x->c, res, "read rows to copy");
        }
        PQclear(res);
    }
    return rc;
}

static void pg_read_end(void *tx)
{
    pg_copy *x = tx;
    if (!x)
        return;
    pool_give(x->s, x->c);
    free(x);
}

static store_rc pg_load_begin(void *impl, void **tx, char *err, size_t errlen)
{
    return copy_begin(impl, true, (pg_copy **)tx, err, errlen);
}

/* Ends the current table's COPY, if one is open. */
static store_rc load_finish(pg_copy *x)
{
    if (!x->copying)
        return STORE_OK;
    x->copying = false;
    store_rc rc = copy_finish(&x->o, "write copied rows");
    if (rc == STORE_OK && x->staged)
        rc = exec_plain(x->c, split_move_sql, "write copied rows");
    x->staged = false;
    return rc;
}

static store_rc pg_load_table(void *tx, const store_table *t)
{
    pg_copy *x = tx;
    store_rc rc = load_finish(x);
    if (rc != STORE_OK || !t)
        return rc;
    x->t = t;
    if (strcmp(t->name, SPLIT_TABLE) == 0) {
        rc = exec_plain(x->c, split_stage_sql, "write copied rows");
        if (rc != STORE_OK)
            return rc;
        x->staged = true;
    }
    char sql[1024];
    size_t used =
        (size_t)snprintf(sql, sizeof(sql), "COPY %s (", x->staged ? SPLIT_STAGING : t->name);
    for (size_t i = 0; i < t->ncolumns && used < sizeof(sql); i++) {
        int w = snprintf(sql + used, sizeof(sql) - used, "%s%s", i ? ", " : "", t->columns[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    if (used < sizeof(sql))
        snprintf(sql + used, sizeof(sql) - used, ") FROM STDIN");
    rc = copy_start(&x->o, sql, "write copied rows");
    x->copying = rc == STORE_OK;
    return rc;
}

/* A text field of known length in COPY's text format. */
static void copy_bytes(copy_out *o, const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (v[i]) {
        case '\\':
            copy_raw(o, "\\\\");
            break;
        case '\n':
            copy_raw(o, "\\n");
            break;
        case '\r':
            copy_raw(o, "\\r");
            break;
        case '\t':
            copy_raw(o, "\\t");
            break;
        default:
            copy_byte(o, v[i]);
        }
    }
}

static store_rc pg_load_row(void *tx, const store_value *row)
{
    pg_copy *x = tx;
    const store_table *t = x->t;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < t->ncolumns; i++) {
        const store_value *v = &row[i];
        char sep = i + 1 == t->ncolumns ? '\n' : '\t';
        if (v->null) {
            copy_text(&x->o, NULL, sep);
        } else if (t->kinds[i] == STORE_COL_INT) {
            copy_int(&x->o, v->i, false, sep);
        } else if (t->kinds[i] == STORE_COL_BOOL) {
            copy_text(&x->o, v->i ? "t" : "f", sep);
        } else if (t->kinds[i] == STORE_COL_TEXT) {
            copy_bytes(&x->o, v->p, v->len);
            copy_byte(&x->o, sep);
        } else {
            /* bytea's hex input, its backslash escaped for COPY. */
            const unsigned char *b = v->p;
            copy_raw(&x->o, "\\\\x");
            for (size_t j = 0; j < v->len; j++) {
                copy_byte(&x->o, hex[b[j] >> 4]);
                copy_byte(&x->o, hex[b[j] & 15]);
            }
            copy_byte(&x->o, sep);
        }
    }
    return x->o.failed ? fail(x->c, NULL, "write copied rows") : STORE_OK;
}

/* The ids were given, not drawn, so each sequence is moved past them: the
 * next row inserted gets the largest copied id plus one. */
static store_rc move_sequences(pconn *c)
{
    store_rc rc = STORE_OK;
    for (size_t i = 0; i < store_tables_count && rc == STORE_OK; i++) {
        const store_table *t = &store_tables[i];
        if (!t->identity)
            continue;
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1,"
                 " false) FROM %s",
                 t->name, t->columns[0], t->columns[0], t->name);
        PGresult *res = PQexec(c->pg, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            rc = fail(c, res, "move a sequence past the copied ids");
        PQclear(res);
    }
    return rc;
}

static store_rc pg_load_end(void *tx, bool commit)
{
    pg_copy *x = tx;
    store_rc rc = load_finish(x);
    if (commit && rc == STORE_OK)
        rc = move_sequences(x->c);
    if (commit && rc == STORE_OK)
        rc = exec_plain(x->c, "COMMIT", "commit a copy");
    pool_give(x->s, x->c);
    /* The copy replaced the secret key this store had made. */
    if (commit && rc == STORE_OK)
        rc = log_key_load(x->s);
    free(x->o.buf);
    free(x);
    return rc;
}

/* ---- the public log ---- */

/* (Re)reads the deployment's secret key and derives the log's key from it,
 * for every connection. */
static store_rc log_key_load(pg_store *s)
{
    unsigned char secret[32];
    bool found = false;
    pthread_mutex_lock(&s->mu);
    s->have_key = false;
    pthread_mutex_unlock(&s->mu);
    /* Read first: only a database without a key is written to, so that a
     * read-only standby opens too. */
    params p = {0};
    p_text(&p, "secret_key");
    PGresult *res = NULL;
    store_rc rc = read_one(s, ST_SETTING_GET, &p, "read the secret key", &res);
    if (rc == STORE_OK) {
        found = col_hash(res, 0, 0, secret);
        PQclear(res);
    }
    if (rc != STORE_OK && rc != STORE_NOT_FOUND)
        return rc;
    rc = found ? STORE_OK : pg_secret_key(s, secret);
    if (rc == STORE_OK) {
        tlog_log_key(secret, s->log_key);
        for (int i = 0; i < s->nconns; i++)
            s->conns[i].log_key = s->log_key;
    }
    sodium_memzero(secret, sizeof(secret));
    return rc;
}

static void p_bytes(params *p, const void *v, size_t len)
{
    p->values[p->n] = v;
    p->lengths[p->n] = (int)len;
    p->formats[p->n] = 1;
    p->n++;
}

/* A bytea column, unescaped into the arena; NULL (with *oom set when the
 * copy failed) otherwise. */
static uint8_t *col_bytes(arena *a, const PGresult *res, int row, int col, size_t *len, bool *oom)
{
    *len = 0;
    if (PQgetisnull(res, row, col))
        return NULL;
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &n);
    uint8_t *copy = raw ? arena_alloc(a, n + 1) : NULL;
    if (copy) {
        memcpy(copy, raw, n);
        *len = n;
    } else {
        *oom = true;
    }
    if (raw)
        PQfreemem(raw);
    return copy;
}

/* Copies the hash at `level` from a row's hashes column; false when the row
 * holds no such level. */
static bool col_node(const PGresult *res, int row, int col, unsigned level, merkle_hash *out)
{
    if (PQgetisnull(res, row, col))
        return false;
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &n);
    bool ok = raw && n >= ((size_t)level + 1) * MERKLE_HASH_SIZE;
    if (ok)
        memcpy(out->b, raw + (size_t)level * MERKLE_HASH_SIZE, MERKLE_HASH_SIZE);
    if (raw)
        PQfreemem(raw);
    return ok;
}

static store_rc pg_log_reserve(void *arg, uint64_t *index)
{
    pconn *c = arg;
    params p = {0};
    p_int(&p, 1);
    int64_t at = 0;
    int changed = 0;
    store_rc rc = exec_write(c, ST_LOG_RESERVE, &p, "take a log index", &at, &changed);
    if (rc == STORE_OK && changed != 1) {
        log_error("msg=\"store: the log's counter row is missing\"");
        rc = STORE_ERROR;
    }
    *index = rc == STORE_OK ? (uint64_t)at : 0;
    return rc;
}

/* The row whose leaf completed node (level, index). */
static uint64_t node_row(unsigned level, uint64_t index)
{
    return ((index + 1) << level) - 1;
}

static int pg_log_hash_at(void *arg, unsigned level, uint64_t index, merkle_hash *out)
{
    pconn *c = arg;
    params p = {0};
    p_int(&p, (int64_t)node_row(level, index));
    PGresult *res = NULL;
    if (exec_read(c, ST_LOG_HASHES, &p, "read the log's hashes", &res) != STORE_OK)
        return -1;
    int ok = PQntuples(res) == 1 && col_node(res, 0, 0, level, out) ? 0 : -1;
    PQclear(res);
    return ok;
}

static store_rc pg_log_read_failure(void *arg)
{
    const pconn *c = arg;
    return PQstatus(c->pg) == CONNECTION_OK ? STORE_ERROR : STORE_UNAVAILABLE;
}

static store_rc pg_log_insert(void *arg, uint64_t index, const void *entry, size_t len,
                              const merkle_hash *hashes, size_t nhashes)
{
    pconn *c = arg;
    params p = {0};
    p_int(&p, (int64_t)index);
    p_bytes(&p, entry, len);
    p_bytes(&p, hashes, nhashes * sizeof(*hashes));
    return exec_write(c, ST_LOG_INSERT, &p, "append to the log", NULL, NULL);
}

/* Appends e in the connection's transaction: the one way this backend
 * writes to the log (store_int.h). */
static store_rc log_append(pconn *c, const tlog_entry *e, uint64_t *index)
{
    log_io io = {.conn = c,
                 .reserve = pg_log_reserve,
                 .hash_at = pg_log_hash_at,
                 .read_failure = pg_log_read_failure,
                 .insert = pg_log_insert};
    return log_append_with(&io, c->log_key, e, index);
}

/* Queues e (kind, time, actor, stages, rating) about case_id for the
 * sequencer, with the event or access it describes (0 for none) and the
 * reader organisation to name (0 for none). */
static store_rc log_queue(pconn *c, int64_t case_id, const tlog_entry *e, int64_t reader_org_id,
                          int64_t event_id, int64_t access_id)
{
    params p = {0};
    p_int(&p, e->kind);
    p_int(&p, case_id);
    p_int(&p, e->time);
    p_int(&p, e->actor);
    p_or_null(&p, e->actor_id);
    p_or_null(&p, e->actor_org_id);
    p_or_null(&p, reader_org_id);
    p_text(&p, e->role);
    p_text(&p, e->action);
    p_text(&p, e->from_stage);
    p_text(&p, e->stage);
    p_int(&p, e->rating);
    p_or_null(&p, event_id);
    p_or_null(&p, access_id);
    p_text(&p, e->duty);
    return exec_write(c, ST_LOG_QUEUE, &p, "queue a log entry", NULL, NULL);
}

static store_rc log_event(pconn *c, int64_t case_id, const store_event *ev, int64_t event_id)
{
    tlog_entry e;
    if (!log_event_entry(ev, 0, &e)) {
        log_error("msg=\"store: an event of a type the log does not know\"");
        return STORE_ERROR;
    }
    return log_queue(c, case_id, &e, 0, event_id, 0);
}

/* The reader's organisation is named in the entry. */
static store_rc log_access(pconn *c, int64_t case_id, const store_access *acc, int64_t access_id)
{
    tlog_entry e;
    log_access_entry(acc, &e);
    return log_queue(c, case_id, &e, acc->reader_org_id, 0, access_id);
}

/* ---- the sequencer ---- */

/* Its advisory lock ("oclog"; 478409420647): one instance sequences at a
 * time. */
#define SEQ_LOCK_KEY 0x6f636c6f67LL
/* Stored hashes the batch's appends read, kept so each is read once. */
#define SEQ_CACHE 128

typedef struct seq_row {
    int64_t event_id, access_id;
    merkle_hash hashes[MERKLE_LEVEL_MAX + 1];
    size_t nhashes;
} seq_row;

typedef struct seq_batch {
    pconn *c;
    uint64_t first; /* the index of rows[0] */
    size_t n;       /* rows appended so far */
    seq_row *rows;
    size_t ncache;
    unsigned cache_level[SEQ_CACHE];
    uint64_t cache_index[SEQ_CACHE];
    merkle_hash cache[SEQ_CACHE];
} seq_batch;

/* merkle_reader.hash_at: nodes completed by this batch from memory, older
 * ones from the store, each read once. */
static int seq_hash_at(void *ctx, unsigned level, uint64_t index, merkle_hash *out)
{
    seq_batch *b = ctx;
    uint64_t row = node_row(level, index);
    if (row >= b->first) {
        const seq_row *r = row - b->first < b->n ? &b->rows[row - b->first] : NULL;
        if (!r || r->nhashes <= level)
            return -1;
        *out = r->hashes[level];
        return 0;
    }
    for (size_t i = 0; i < b->ncache; i++)
        if (b->cache_level[i] == level && b->cache_index[i] == index) {
            *out = b->cache[i];
            return 0;
        }
    if (pg_log_hash_at(b->c, level, index, out) != 0)
        return -1;
    if (b->ncache < SEQ_CACHE) {
        b->cache_level[b->ncache] = level;
        b->cache_index[b->ncache] = index;
        b->cache[b->ncache++] = *out;
    }
    return 0;
}

static const char *col_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* The entry of queued row i of ST_LOG_QUEUED; its strings point into res. */
static void seq_entry(const PGresult *res, int i, tlog_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->kind = (tlog_kind)col_int(res, i, 1);
    e->time = col_int(res, i, 2);
    e->actor = (tlog_actor_kind)col_int(res, i, 3);
    e->actor_id = col_int(res, i, 4);
    e->actor_org_id = col_int(res, i, 5);
    e->actor_org = col_or_null(res, i, 6);
    e->role = col_or_null(res, i, 7);
    e->action = col_or_null(res, i, 8);
    e->from_stage = col_or_null(res, i, 9);
    e->stage = col_or_null(res, i, 10);
    e->rating = (int)col_int(res, i, 11);
    e->reference = col_or_null(res, i, 14);
    e->org = col_or_null(res, i, 15);
    e->service = col_or_null(res, i, 16);
    e->duty = col_or_null(res, i, 17);
}

/* Appends "{a,b,...}", the array literal of the ids taken by pick (0: left
 * out), and the indexes they get when idx is set. */
static void seq_array(buf *out, const seq_batch *b, bool access, bool idx)
{
    buf_putc(out, '{');
    bool any = false;
    for (size_t i = 0; i < b->n; i++) {
        int64_t id = access ? b->rows[i].access_id : b->rows[i].event_id;
        if (!id)
            continue;
        buf_printf(out, "%s%lld", any ? "," : "", idx ? (long long)(b->first + i) : (long long)id);
        any = true;
    }
    buf_putc(out, '}');
}

/* Sets the log_index of the batch's events (or accesses). */
static store_rc seq_set_indexes(pconn *c, const seq_batch *b, bool access)
{
    buf ids, idx;
    buf_init(&ids, 64 * 1024);
    buf_init(&idx, 64 * 1024);
    seq_array(&ids, b, access, false);
    seq_array(&idx, b, access, true);
    store_rc rc = STORE_OK;
    if (ids.failed || idx.failed) {
        rc = out_of_memory("sequence the log");
    } else if (ids.len > 2) {
        params p = {0};
        p_text(&p, ids.data);
        p_text(&p, idx.data);
        rc = exec_write(c, access ? ST_LOG_ACCESS_INDEXES : ST_LOG_EVENT_INDEXES, &p,
                        "note log indexes", NULL, NULL);
    }
    buf_free(&ids);
    buf_free(&idx);
    return rc;
}

typedef struct seq_write {
    bool wait;
    size_t n;
} seq_write;

/* Encodes and hashes the queued rows of res, in order, into b, appending
 * each entry as a line to entries and its hashes in hex to hashes. */
static store_rc seq_build(seq_batch *b, const PGresult *res, const uint8_t *key, buf *entries,
                          buf *hashes)
{
    buf one;
    buf_init(&one, TLOG_ENTRY_MAX);
    store_rc rc = STORE_OK;
    merkle_reader r = {.hash_at = seq_hash_at, .ctx = b};
    int rows = PQntuples(res);
    for (int i = 0; i < rows && rc == STORE_OK; i++) {
        tlog_entry e;
        seq_entry(res, i, &e);
        buf_reset(&one);
        if (!tlog_entry_encode(&e, key, &one)) {
            log_error("msg=\"store: a queued log entry was refused by its encoder\" queued=%lld",
                      (long long)col_int(res, i, 0));
            rc = STORE_ERROR;
            break;
        }
        seq_row *row = &b->rows[i];
        row->event_id = col_int(res, i, 12);
        row->access_id = col_int(res, i, 13);
        merkle_hash leaf;
        merkle_leaf_hash(one.data, one.len, &leaf);
        uint64_t index = b->first + (uint64_t)i;
        if (merkle_append(&r, index, &leaf, row->hashes, &row->nhashes) != MERKLE_OK) {
            rc = pg_log_read_failure(b->c);
            if (rc != STORE_UNAVAILABLE)
                log_error("msg=\"store: the log's stored hashes cannot be read\" index=%llu",
                          (unsigned long long)index);
            break;
        }
        b->n++;
        buf_printf(entries, "%s%.*s", i ? "\n" : "", (int)one.len, one.data);
        if (i)
            buf_putc(hashes, '\n');
        for (size_t h = 0; h < row->nhashes; h++)
            for (size_t k = 0; k < MERKLE_HASH_SIZE; k++)
                buf_printf(hashes, "%02x", row->hashes[h].b[k]);
    }
    buf_free(&one);
    if (rc == STORE_OK && (entries->failed || hashes->failed))
        rc = out_of_memory("sequence the log");
    return rc;
}

/* Writes the built batch: its entries, the indexes of its events and
 * accesses, and the queue rows' removal. */
static store_rc seq_write_batch(pconn *c, const seq_batch *b, const PGresult *res,
                                const buf *entries, const buf *hashes)
{
    params p = {0};
    p_int(&p, (int64_t)b->first);
    p_text(&p, entries->data);
    p_text(&p, hashes->data);
    store_rc rc = exec_write(c, ST_LOG_INSERT_MANY, &p, "append to the log", NULL, NULL);
    if (rc == STORE_OK)
        rc = seq_set_indexes(c, b, false);
    if (rc == STORE_OK)
        rc = seq_set_indexes(c, b, true);
    if (rc != STORE_OK)
        return rc;
    buf ids;
    buf_init(&ids, 64 * 1024);
    buf_putc(&ids, '{');
    for (int i = 0; i < PQntuples(res); i++)
        buf_printf(&ids, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
    buf_putc(&ids, '}');
    if (ids.failed) {
        rc = out_of_memory("sequence the log");
    } else {
        params q = {0};
        p_text(&q, ids.data);
        rc = exec_write(c, ST_LOG_DEQUEUE, &q, "dequeue log entries", NULL, NULL);
    }
    buf_free(&ids);
    return rc;
}

static store_rc seq_job(pconn *c, void *arg)
{
    seq_write *w = arg;
    w->n = 0;
    params p = {0};
    p_int(&p, SEQ_LOCK_KEY);
    PGresult *res = NULL;
    store_rc rc =
        exec_read(c, w->wait ? ST_LOG_LOCK : ST_LOG_LOCK_TRY, &p, "lock the log's queue", &res);
    if (rc != STORE_OK)
        return rc;
    bool locked = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!locked)
        return STORE_OK; /* another instance is sequencing */
    params none = {0};
    rc = exec_read(c, ST_LOG_QUEUED, &none, "read the log's queue", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        return STORE_OK;
    }
    seq_batch *b = calloc(1, sizeof(*b));
    seq_row *arr = calloc((size_t)rows, sizeof(*arr));
    buf entries, hashes;
    buf_init(&entries, (size_t)rows * TLOG_ENTRY_MAX + 1);
    buf_init(&hashes, (size_t)rows * 2 * MERKLE_HASH_SIZE * (MERKLE_LEVEL_MAX + 2));
    if (!b || !arr) {
        rc = out_of_memory("sequence the log");
        goto out;
    }
    b->c = c;
    b->rows = arr;
    params r = {0};
    p_int(&r, rows);
    int64_t first = 0;
    int changed = 0;
    rc = exec_write(c, ST_LOG_RESERVE, &r, "take log indexes", &first, &changed);
    if (rc == STORE_OK && changed != 1) {
        log_error("msg=\"store: the log's counter row is missing\"");
        rc = STORE_ERROR;
    }
    if (rc != STORE_OK)
        goto out;
    b->first = (uint64_t)first;
    rc = seq_build(b, res, c->log_key, &entries, &hashes);
    if (rc == STORE_OK)
        rc = seq_write_batch(c, b, res, &entries, &hashes);
    if (rc == STORE_OK)
        w->n = (size_t)rows;
out:
    buf_free(&entries);
    buf_free(&hashes);
    free(arr);
    free(b);
    PQclear(res);
    return rc;
}

static store_rc pg_log_sequence(void *impl, bool wait, size_t *n)
{
    seq_write w = {.wait = wait};
    store_rc rc = write_run(impl, seq_job, &w, true);
    *n = rc == STORE_OK ? w.n : 0;
    return rc;
}

static store_rc pg_log_size(void *impl, uint64_t *size)
{
    *size = 0;
    params p = {0};
    PGresult *res = NULL;
    store_rc rc = read_one(impl, ST_LOG_SIZE, &p, "read the log's size", &res);
    if (rc == STORE_NOT_FOUND) {
        log_error("msg=\"store: the log's counter row is missing\"");
        return STORE_ERROR;
    }
    if (rc != STORE_OK)
        return rc;
    *size = (uint64_t)col_int(res, 0, 0);
    PQclear(res);
    return STORE_OK;
}

static store_rc pg_log_queued(void *impl, uint64_t *n)
{
    params p = {0};
    PGresult *res = NULL;
    store_rc rc = read_one(impl, ST_LOG_QUEUE_COUNT, &p, "count the log's queue", &res);
    if (rc != STORE_OK)
        return rc;
    *n = (uint64_t)col_int(res, 0, 0);
    PQclear(res);
    return STORE_OK;
}

/* Every node in one query: their rows as an array literal. */
static store_rc pg_log_nodes(void *impl, size_t n, const unsigned *levels, const uint64_t *indexes,
                             merkle_hash *out)
{
    buf list;
    buf_init(&list, 64 * 1024);
    buf_putc(&list, '{');
    for (size_t i = 0; i < n; i++)
        buf_printf(&list, "%s%llu", i ? "," : "",
                   (unsigned long long)node_row(levels[i], indexes[i]));
    buf_putc(&list, '}');
    if (list.failed) {
        buf_free(&list);
        return out_of_memory("read the log's hashes");
    }
    params p = {0};
    p_text(&p, list.data);
    PGresult *res = NULL;
    store_rc rc = read_rows(impl, ST_LOG_NODES, &p, "read the log's hashes", &res);
    buf_free(&list);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        uint64_t want = node_row(levels[i], indexes[i]);
        int r = 0;
        while (r < rows && (uint64_t)col_int(res, r, 0) != want)
            r++;
        if (r == rows || !col_node(res, r, 1, levels[i], &out[i]))
            rc = STORE_NOT_FOUND;
    }
    PQclear(res);
    return rc;
}

static store_rc pg_log_entries(void *impl, arena *a, uint64_t from, size_t limit,
                               store_log_row **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    params p = {0};
    p_int(&p, (int64_t)from);
    p_int(&p, (int64_t)limit);
    PGresult *res = NULL;
    store_rc rc = read_rows(impl, ST_LOG_ENTRIES, &p, "read log entries", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_log_row *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom && rc == STORE_OK; i++) {
        size_t hlen = 0;
        arr[i].index = (uint64_t)col_int(res, i, 0);
        arr[i].entry = col_bytes(a, res, i, 1, &arr[i].entry_len, &oom);
        arr[i].hashes = col_bytes(a, res, i, 2, &hlen, &oom);
        arr[i].nhashes = hlen / MERKLE_HASH_SIZE;
        if (!oom && (hlen < MERKLE_HASH_SIZE || hlen % MERKLE_HASH_SIZE)) {
            log_error("msg=\"store: a log row's hashes are malformed\"");
            rc = STORE_ERROR;
        }
    }
    PQclear(res);
    if (oom)
        return out_of_memory("read log entries");
    if (rc == STORE_OK) {
        *out = arr;
        *n = (size_t)rows;
    }
    return rc;
}

typedef struct log_import_write {
    const tlog_entry *entries;
    size_t n;
    uint64_t first;
} log_import_write;

static store_rc log_import_job(pconn *c, void *arg)
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

static store_rc pg_log_import(void *impl, const tlog_entry *entries, size_t n,
                              uint64_t *first_index)
{
    log_import_write w = {.entries = entries, .n = n};
    store_rc rc = n ? write_run(impl, log_import_job, &w, true) : STORE_OK;
    if (first_index)
        *first_index = rc == STORE_OK ? w.first : 0;
    return rc;
}

typedef struct checkpoint_write {
    uint64_t size;
    const char *note;
    int64_t at;
} checkpoint_write;

static store_rc checkpoint_put_job(pconn *c, void *arg)
{
    checkpoint_write *w = arg;
    params p = {0};
    p_int(&p, (int64_t)w->size);
    p_text(&p, w->note);
    p_int(&p, w->at);
    return exec_write(c, ST_LOG_CHECKPOINT_PUT, &p, "save a checkpoint", NULL, NULL);
}

static store_rc pg_log_checkpoint_put(void *impl, uint64_t size, const char *note, int64_t at)
{
    checkpoint_write w = {.size = size, .note = note, .at = at};
    return write_run(impl, checkpoint_put_job, &w, false);
}

static store_rc pg_log_checkpoint_get(void *impl, arena *a, uint64_t at_most, uint64_t *size,
                                      const char **note)
{
    *size = 0;
    *note = NULL;
    params p = {0};
    p_int(&p, at_most > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)at_most);
    PGresult *res = NULL;
    store_rc rc = read_one(impl, ST_LOG_CHECKPOINT_GET, &p, "read a checkpoint", &res);
    if (rc != STORE_OK)
        return rc;
    bool oom = false;
    const char *text = col_text(a, res, 0, 1, &oom);
    uint64_t at = (uint64_t)col_int(res, 0, 0);
    PQclear(res);
    if (oom || !text)
        return out_of_memory("read a checkpoint");
    *size = at;
    *note = text;
    return STORE_OK;
}

/* ---- Open311 ---- */

static store_rc pg_org_sole(void *impl, arena *a, store_org *out)
{
    memset(out, 0, sizeof(*out));
    params p = {0};
    PGresult *res = NULL;
    store_rc rc = read_rows(impl, ST_ORG_SOLE, &p, "read the organisation", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    bool oom = false;
    if (rows == 1) {
        out->id = col_int(res, 0, 0);
        out->slug = col_text(a, res, 0, 1, &oom);
        out->name = col_text(a, res, 0, 2, &oom);
    }
    PQclear(res);
    if (oom)
        rc = out_of_memory("read the organisation");
    else
        rc = rows == 0 ? STORE_NOT_FOUND : rows > 1 ? STORE_CONFLICT : STORE_OK;
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* Reads a row of OPEN311_SELECT. */
static void read_open311_case(arena *a, const PGresult *res, int row, store_open311_case *out,
                              bool *oom)
{
    store_open311_request *r = &out->request;
    out->id = col_int(res, row, 0);
    out->service_id = col_int(res, row, 1);
    out->reference = col_text(a, res, row, 2, oom);
    out->stage = col_text(a, res, row, 3, oom);
    out->opened_at = col_int(res, row, 4);
    out->updated_at = col_int(res, row, 5);
    out->closed_at = col_int(res, row, 6);
    out->has_request = !PQgetisnull(res, row, 7);
    r->token = col_text(a, res, row, 8, oom);
    r->description = col_text(a, res, row, 9, oom);
    r->lat = col_text(a, res, row, 10, oom);
    r->lon = col_text(a, res, row, 11, oom);
    r->address_string = col_text(a, res, row, 12, oom);
    r->address_id = col_text(a, res, row, 13, oom);
    r->media_url = col_text(a, res, row, 14, oom);
    r->attributes_json = col_text(a, res, row, 15, oom);
    r->device_id = col_text(a, res, row, 16, oom);
    r->account_id = col_text(a, res, row, 17, oom);
}

static store_rc pg_open311_cases(void *impl, arena *a, const store_open311_filter *f,
                                 store_open311_case **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int limit = f->limit < 1 ? 1 : f->limit > STORE_OPEN311_MAX ? STORE_OPEN311_MAX : f->limit;
    params p = {0};
    p_int(&p, f->org_id);
    p_int(&p, f->opened_from);
    p_int(&p, f->opened_to);
    p_text(&p, f->service_stages_json);
    p_int(&p, limit);
    PGresult *res = NULL;
    store_rc rc = read_rows(impl, ST_OPEN311_CASES, &p, "list Open311 requests", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_open311_case *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++)
        read_open311_case(a, res, i, &arr[i], &oom);
    PQclear(res);
    if (oom)
        return out_of_memory("list Open311 requests");
    *out = rows ? arr : NULL;
    *n = (size_t)rows;
    return STORE_OK;
}

static store_rc pg_open311_case_get(void *impl, arena *a, int64_t org_id, const char *reference,
                                    const char *token, store_open311_case *out)
{
    memset(out, 0, sizeof(*out));
    params p = {0};
    p_text(&p, token ? token : reference);
    p_int(&p, org_id);
    PGresult *res = NULL;
    store_rc rc = read_one(impl, token ? ST_OPEN311_BY_TOKEN : ST_OPEN311_BY_REF, &p,
                           "read an Open311 request", &res);
    if (rc != STORE_OK)
        return rc;
    bool oom = false;
    read_open311_case(a, res, 0, out, &oom);
    PQclear(res);
    if (oom) {
        memset(out, 0, sizeof(*out));
        return out_of_memory("read an Open311 request");
    }
    return STORE_OK;
}

static store_rc pg_open311_updates(void *impl, arena *a, int64_t org_id,
                                   const char *service_ids_json, int64_t from, int64_t to,
                                   int limit, store_open311_update **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    limit = limit < 1 ? 1 : limit > STORE_OPEN311_MAX ? STORE_OPEN311_MAX : limit;
    params p = {0};
    p_int(&p, org_id);
    p_int(&p, from);
    p_int(&p, to);
    p_text(&p, service_ids_json);
    p_int(&p, limit);
    PGresult *res = NULL;
    store_rc rc = read_rows(impl, ST_OPEN311_UPDATES, &p, "list Open311 updates", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_open311_update *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++) {
        store_open311_update *u = &arr[i];
        u->id = col_int(res, i, 0);
        u->service_id = col_int(res, i, 1);
        u->reference = col_text(a, res, i, 2, &oom);
        u->type = col_text(a, res, i, 3, &oom);
        u->stage = col_text(a, res, i, 4, &oom);
        u->body = col_text(a, res, i, 5, &oom);
        u->created_at = col_int(res, i, 6);
    }
    PQclear(res);
    if (oom)
        return out_of_memory("list Open311 updates");
    *out = rows ? arr : NULL;
    *n = (size_t)rows;
    return STORE_OK;
}

/* ---- update duties ---- */

static void read_duty(arena *a, const PGresult *res, int row, store_duty *out, bool *oom)
{
    out->id = col_int(res, row, 0);
    out->case_id = col_int(res, row, 1);
    out->reference = col_text(a, res, row, 2, oom);
    out->service_code = col_text(a, res, row, 3, oom);
    out->team = col_text(a, res, row, 4, oom);
    out->enhanced = PQgetvalue(res, row, 5)[0] == 't';
    out->duty = col_text(a, res, row, 6, oom);
    out->event_id = col_int(res, row, 7);
    out->triggered_at = col_int(res, row, 8);
    out->days = (int)col_int(res, row, 9);
    out->due_at = col_int(res, row, 10);
    out->met_at = col_int(res, row, 11);
    out->met_by = col_text(a, res, row, 12, oom);
    out->met_event_id = col_int(res, row, 13);
    out->service_id = col_int(res, row, 14);
}

/* Opens duties[0..n) of the case, triggered by event_id at `at`;
 * STORE_NOT_FOUND when there is no such case. */
static store_rc duties_open(pconn *c, int64_t case_id, int64_t event_id, int64_t at,
                            const store_duty_new *duties, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        params p = {0};
        p_int(&p, case_id);
        p_text(&p, duties[i].duty);
        p_int(&p, event_id);
        p_int(&p, at);
        p_int(&p, duties[i].days);
        p_int(&p, duties[i].due_at);
        int changed = 0;
        store_rc rc = exec_write(c, ST_DUTY_INSERT, &p, "open a duty", NULL, &changed);
        if (rc != STORE_OK)
            return rc;
        if (changed != 1)
            return STORE_NOT_FOUND;
    }
    return STORE_OK;
}

/* Meets, at `at` and by `by` ("update" or "delivery"), every unmet duty of
 * the case triggered by event `upto` or an earlier one, naming `met_event`
 * as what met them. It runs inside the caller's transaction, so that
 * whatever meets a duty (the outbox recording a delivery, say) does it in
 * its own write. */
static store_rc duties_meet(pconn *c, int64_t case_id, int64_t upto, int64_t at, const char *by,
                            int64_t met_event)
{
    params p = {0};
    p_int(&p, case_id);
    p_int(&p, upto);
    p_int(&p, at);
    p_text(&p, by);
    p_int(&p, met_event);
    p_int(&p, TLOG_DUTY_MET);
    p_int(&p, TLOG_ACTOR_NONE);
    return exec_write(c, ST_DUTY_MEET, &p, "meet duties", NULL, NULL);
}

/* What an event just written does to the case's duties: a public update
 * meets those open before it, then the duties it triggers open. */
static store_rc duties_on_event(pconn *c, int64_t case_id, const store_event *ev, int64_t event_id,
                                const store_duty_new *duties, size_t n)
{
    store_rc rc = STORE_OK;
    if (store_event_meets_duties(ev))
        rc = duties_meet(c, case_id, event_id, ev->created_at, "update", event_id);
    if (rc == STORE_OK && n)
        rc = duties_open(c, case_id, event_id, ev->created_at, duties, n);
    return rc;
}

/* Reads a DUTY_SELECT result into an arena array: at most `limit` rows when
 * limit > 0, with *more set when another row followed. */
static store_rc duty_rows(const PGresult *res, arena *a, size_t limit, store_duty **out, size_t *n,
                          bool *more)
{
    size_t rows = (size_t)PQntuples(res);
    if (limit && rows > limit) {
        rows = limit;
        if (more)
            *more = true;
    }
    store_duty *arr = rows_alloc(a, (int)rows, sizeof(*arr));
    if (!arr)
        return out_of_memory("read duties");
    bool oom = false;
    for (size_t i = 0; i < rows && !oom; i++)
        read_duty(a, res, (int)i, &arr[i], &oom);
    if (oom)
        return out_of_memory("read duties");
    *out = arr;
    *n = rows;
    return STORE_OK;
}

/* Runs a read on a pooled connection; *res is the caller's to clear. */
static store_rc pooled_read(pg_store *s, int id, const params *p, const char *what, PGresult **res)
{
    pconn *c = pool_take(s);
    if (!c)
        return STORE_UNAVAILABLE;
    store_rc rc = exec_read(c, id, p, what, res);
    pool_give(s, c);
    return rc;
}

static store_rc pg_case_duties(void *impl, arena *a, int64_t case_id, store_duty **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    params p = {0};
    p_int(&p, case_id);
    PGresult *res = NULL;
    store_rc rc = pooled_read(impl, ST_DUTY_OF_CASE, &p, "read duties", &res);
    if (rc == STORE_OK)
        rc = duty_rows(res, a, 0, out, n, NULL);
    PQclear(res);
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

static store_rc set_flags_job(pconn *c, void *arg)
{
    flags_write *w = arg;
    params p = {0};
    p_int(&p, w->case_id);
    p_bool(&p, w->enhanced);
    p_text(&p, w->team);
    p_int(&p, w->at);
    int changed = 0;
    store_rc rc = exec_write(c, ST_CASE_SET_FLAGS, &p, "change a case's flags", NULL, &changed);
    if (rc == STORE_OK && changed == 0)
        rc = STORE_NOT_FOUND;
    for (size_t i = 0; i < w->n && rc == STORE_OK; i++) {
        params q = {0};
        p_int(&q, w->retimes[i].id);
        p_int(&q, w->case_id);
        p_int(&q, w->retimes[i].days);
        p_int(&q, w->retimes[i].due_at);
        rc = exec_write(c, ST_DUTY_RETIME, &q, "re-time a duty", NULL, NULL);
    }
    return rc;
}

static store_rc pg_case_set_flags(void *impl, int64_t case_id, bool enhanced, const char *team,
                                  const store_duty_retime *retimes, size_t n, int64_t at)
{
    flags_write w = {.case_id = case_id,
                     .enhanced = enhanced,
                     .team = team,
                     .retimes = retimes,
                     .n = n,
                     .at = at};
    return write_run(impl, set_flags_job, &w, true);
}

typedef struct delivery_write {
    int64_t case_id;
    int64_t event_id;
    int64_t at;
} delivery_write;

static store_rc met_by_delivery_job(pconn *c, void *arg)
{
    delivery_write *w = arg;
    return duties_meet(c, w->case_id, w->event_id, w->at, "delivery", w->event_id);
}

static store_rc pg_duty_sweep(void *impl, int64_t now, size_t max, size_t *n)
{
    pg_store *s = impl;
    pconn *c = pool_take(s);
    if (!c)
        return STORE_UNAVAILABLE;
    params p = {0};
    p_int(&p, now);
    p_int(&p, (int64_t)max);
    p_int(&p, TLOG_DUTY_MISSED);
    p_int(&p, TLOG_ACTOR_NONE);
    int swept = 0;
    store_rc rc = exec_write(c, ST_DUTY_SWEEP, &p, "sweep missed duties", NULL, &swept);
    pool_give(s, c);
    *n = rc == STORE_OK ? (size_t)swept : 0;
    return rc;
}

static store_rc pg_duty_met_by_delivery(void *impl, int64_t case_id, int64_t event_id, int64_t at)
{
    delivery_write w = {.case_id = case_id, .event_id = event_id, .at = at};
    return write_run(impl, met_by_delivery_job, &w, false);
}

static store_rc pg_duty_worklist(void *impl, arena *a, const store_duty_filter *f, store_duty **out,
                                 size_t *n, bool *more)
{
    *out = NULL;
    *n = 0;
    *more = false;
    int limit = f->limit < 1 ? 1 : f->limit > LIST_MAX ? LIST_MAX : f->limit;
    bool first = f->after_id <= 0;
    params p = {0};
    p_int(&p, f->org_id);
    p_int(&p, first ? INT64_MIN : f->after_due_at);
    p_int(&p, first ? 0 : f->after_id);
    p_text(&p, f->service_code);
    p_text(&p, f->team);
    p_int(&p, (int64_t)f->which);
    p_int(&p, f->now);
    p_int(&p, limit + 1);
    PGresult *res = NULL;
    store_rc rc = pooled_read(impl, ST_DUTY_WORKLIST, &p, "list duties", &res);
    if (rc == STORE_OK)
        rc = duty_rows(res, a, (size_t)limit, out, n, more);
    PQclear(res);
    if (rc != STORE_OK)
        *more = false;
    return rc;
}

static store_rc pg_duty_compliance(void *impl, arena *a, int64_t org_id, const char *service_code,
                                   int64_t from, int64_t to, int64_t now, store_duty_count **out,
                                   size_t *n)
{
    *out = NULL;
    *n = 0;
    params p = {0};
    p_int(&p, org_id);
    p_int(&p, from);
    p_int(&p, to);
    p_int(&p, now);
    p_text(&p, service_code);
    PGresult *res = NULL;
    store_rc rc = pooled_read(impl, ST_DUTY_COMPLIANCE, &p, "count duties", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_duty_count *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++) {
        arr[i].service_code = col_text(a, res, i, 0, &oom);
        arr[i].met = col_int(res, i, 1);
        arr[i].met_late = col_int(res, i, 2);
        arr[i].missed = col_int(res, i, 3);
    }
    PQclear(res);
    if (oom)
        return out_of_memory("count duties");
    *out = arr;
    *n = (size_t)rows;
    return STORE_OK;
}

static store_rc pg_org_calendar_get(void *impl, arena *a, int64_t org_id, store_calendar *out)
{
    memset(out, 0, sizeof(*out));
    params p = {0};
    p_int(&p, org_id);
    PGresult *res = NULL;
    store_rc rc = read_one(impl, ST_CALENDAR_GET, &p, "read a calendar", &res);
    if (rc != STORE_OK)
        return rc;
    bool oom = false;
    out->org_id = col_int(res, 0, 0);
    out->calendar = col_text(a, res, 0, 1, &oom);
    out->holidays = col_text(a, res, 0, 2, &oom);
    out->updated_at = col_int(res, 0, 3);
    PQclear(res);
    if (oom) {
        memset(out, 0, sizeof(*out));
        return out_of_memory("read a calendar");
    }
    return STORE_OK;
}

static store_rc calendar_set_job(pconn *c, void *arg)
{
    const store_calendar *cal = arg;
    params p = {0};
    p_int(&p, cal->org_id);
    p_text(&p, cal->calendar);
    p_text(&p, cal->holidays);
    p_int(&p, cal->updated_at);
    return exec_write(c, ST_CALENDAR_SET, &p, "set a calendar", NULL, NULL);
}

static store_rc pg_org_calendar_set(void *impl, const store_calendar *c)
{
    store_calendar w = *c;
    return write_run(impl, calendar_set_job, &w, false);
}

/* ---- notifications (0003) ----
 *
 * Preferences, templates, webhooks and the outbox. These statements are sent
 * unprepared: none is on a path where a round trip for a plan counts beside
 * the write's commit. Workers of several instances claim rows with FOR
 * UPDATE SKIP LOCKED, so that two never take the same row at once. */

/* Runs `sql` with p; *out holds the result (rows or none) for the caller to
 * clear. */
static store_rc nt_exec(pconn *c, const char *sql, const params *p, const char *what,
                        PGresult **out)
{
    *out = NULL;
    PGresult *res = PQexecParams(c->pg, sql, p->n, NULL, p->values, p->lengths, p->formats, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        store_rc rc = fail(c, res, what);
        PQclear(res);
        return rc;
    }
    *out = res;
    return STORE_OK;
}

/* A statement without rows of interest; *changed gets the rows changed. */
static store_rc nt_run(pconn *c, const char *sql, const params *p, const char *what, int *changed)
{
    PGresult *res;
    store_rc rc = nt_exec(c, sql, p, what, &res);
    if (rc == STORE_OK && changed)
        *changed = (int)strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rc;
}

/* A query on a pooled connection. */
static store_rc nt_read(pg_store *s, const char *sql, const params *p, const char *what,
                        PGresult **out)
{
    *out = NULL;
    pconn *c = pool_take(s);
    if (!c)
        return STORE_UNAVAILABLE;
    store_rc rc = nt_exec(c, sql, p, what, out);
    pool_give(s, c);
    return rc;
}

#define NT_NOTICE_COLUMNS                                                                          \
    "n.id, n.org_id, n.case_id, n.webhook_id, n.kind, n.channel, n.recipient, n.subject, n.body,"  \
    " n.status, n.attempts, n.next_at, n.created_at, n.delivered_at, n.last_error, n.to_staff"

static void nt_read_notice(arena *a, const PGresult *res, int row, store_notice *out, bool *oom)
{
    memset(out, 0, sizeof(*out));
    out->id = col_int(res, row, 0);
    out->org_id = col_int(res, row, 1);
    out->case_id = col_int(res, row, 2);
    out->webhook_id = col_int(res, row, 3);
    out->kind = col_text(a, res, row, 4, oom);
    out->channel = col_text(a, res, row, 5, oom);
    out->recipient = col_text(a, res, row, 6, oom);
    out->subject = col_text(a, res, row, 7, oom);
    out->body = col_text(a, res, row, 8, oom);
    out->status = col_text(a, res, row, 9, oom);
    out->attempts = (int)col_int(res, row, 10);
    out->next_at = col_int(res, row, 11);
    out->created_at = col_int(res, row, 12);
    out->delivered_at = col_int(res, row, 13);
    out->last_error = col_text(a, res, row, 14, oom);
    out->to_staff = strcmp(PQgetvalue(res, row, 15), "t") == 0;
    out->reference = col_text(a, res, row, 16, oom);
    out->secret = col_text(a, res, row, 17, oom);
}

/* Every row of res as notices in the arena; clears res. */
static store_rc nt_notices(arena *a, PGresult *res, store_notice **out, size_t *n, const char *what)
{
    int rows = PQntuples(res);
    store_notice *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++)
        nt_read_notice(a, res, i, &arr[i], &oom);
    PQclear(res);
    if (oom)
        return out_of_memory(what);
    *out = arr;
    *n = (size_t)rows;
    return STORE_OK;
}

/* Inserts notices for case_id (when not 0, it overrides theirs), caused by
 * event_id (0: none). */
static store_rc notices_insert(pconn *c, int64_t case_id, int64_t event_id,
                               const store_notice *notices, size_t n)
{
    static const char sql[] =
        "INSERT INTO notifications (org_id, case_id, webhook_id, kind, channel, recipient,"
        " subject, body, status, next_at, created_at, event_id, to_staff) VALUES ($1, $2, $3,"
        " $4, $5::text, $6, $7, $8, coalesce($10::text, CASE WHEN $5::text IN ('post', 'phone')"
        " THEN 'open' ELSE 'pending' END), $9, $9, $11, $12)";
    for (size_t i = 0; i < n; i++) {
        const store_notice *x = &notices[i];
        params p = {0};
        p_int(&p, x->org_id);
        p_or_null(&p, case_id ? case_id : x->case_id);
        p_or_null(&p, x->webhook_id);
        p_text(&p, x->kind);
        p_text(&p, x->channel);
        p_text(&p, x->recipient);
        p_text(&p, x->subject);
        p_text(&p, x->body);
        p_int(&p, x->created_at);
        p_text(&p, x->status);
        p_or_null(&p, event_id);
        p_bool(&p, x->to_staff);
        store_rc rc = nt_run(c, sql, &p, "write a notification", NULL);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

static store_rc prefs_write(pconn *c, int64_t case_id, const store_prefs *pr, int *changed)
{
    params p = {0};
    p_int(&p, case_id);
    p_text(&p, pr->channels);
    p_text(&p, pr->language);
    p_text(&p, pr->frequency);
    p_int(&p, pr->updated_at);
    return nt_run(c,
                  "INSERT INTO notify_prefs (person_id, channels, language, frequency, updated_at)"
                  " SELECT person_id, $2, $3, $4, $5 FROM cases"
                  " WHERE id = $1 AND person_id IS NOT NULL"
                  " ON CONFLICT (person_id) DO UPDATE SET channels = EXCLUDED.channels,"
                  " language = EXCLUDED.language, frequency = EXCLUDED.frequency,"
                  " updated_at = EXCLUDED.updated_at",
                  &p, "write preferences", changed);
}

static store_rc pg_prefs_get(void *impl, arena *a, int64_t case_id, store_prefs *out)
{
    params p = {0};
    PGresult *res;
    memset(out, 0, sizeof(*out));
    p_int(&p, case_id);
    store_rc rc = nt_read(impl,
                          "SELECT pr.channels, pr.language, pr.frequency, pr.updated_at"
                          " FROM cases c JOIN notify_prefs pr ON pr.person_id = c.person_id"
                          " WHERE c.id = $1",
                          &p, "read preferences", &res);
    if (rc != STORE_OK)
        return rc;
    bool oom = false;
    if (PQntuples(res) == 0) {
        rc = STORE_NOT_FOUND;
    } else {
        out->channels = col_text(a, res, 0, 0, &oom);
        out->language = col_text(a, res, 0, 1, &oom);
        out->frequency = col_text(a, res, 0, 2, &oom);
        out->updated_at = col_int(res, 0, 3);
        if (oom)
            rc = out_of_memory("read preferences");
    }
    PQclear(res);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

typedef struct prefs_job_arg {
    int64_t case_id;
    const store_prefs *p;
    int changed;
} prefs_job_arg;

/* Preferences are the person's consent to be contacted, and only they
 * change them (at the timeline), so the log names the citizen. */
static store_rc prefs_set_job(pconn *c, void *arg)
{
    prefs_job_arg *w = arg;
    store_rc rc = prefs_write(c, w->case_id, w->p, &w->changed);
    if (rc != STORE_OK || w->changed == 0)
        return rc;
    tlog_entry e = {
        .kind = TLOG_CONSENT_CHANGED, .time = w->p->updated_at, .actor = TLOG_ACTOR_CITIZEN};
    return log_queue(c, w->case_id, &e, 0, 0, 0);
}

static store_rc pg_prefs_set(void *impl, int64_t case_id, const store_prefs *pr)
{
    prefs_job_arg w = {.case_id = case_id, .p = pr};
    store_rc rc = write_run(impl, prefs_set_job, &w, true);
    return rc == STORE_OK && w.changed == 0 ? STORE_NOT_FOUND : rc;
}

static store_rc template_set_job(pconn *c, void *arg)
{
    const store_template *t = arg;
    params p = {0};
    p_int(&p, t->service_id);
    p_text(&p, t->kind);
    p_text(&p, t->language);
    p_text(&p, t->subject);
    p_text(&p, t->body);
    p_int(&p, t->updated_at);
    return nt_run(c,
                  "INSERT INTO notify_templates (service_id, kind, language, subject, body,"
                  " updated_at) VALUES ($1, $2, $3, $4, $5, $6)"
                  " ON CONFLICT (service_id, kind, language) DO UPDATE SET"
                  " subject = EXCLUDED.subject, body = EXCLUDED.body,"
                  " updated_at = EXCLUDED.updated_at",
                  &p, "write a template", NULL);
}

static store_rc pg_template_set(void *impl, const store_template *t)
{
    return write_run(impl, template_set_job, (void *)t, false);
}

#define NT_TEMPLATE_SELECT                                                                         \
    "SELECT service_id, kind, language, subject, body, updated_at FROM notify_templates"           \
    " WHERE service_id = $1 "

static store_rc nt_templates(arena *a, PGresult *res, store_template **out, size_t *n)
{
    int rows = PQntuples(res);
    store_template *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++) {
        arr[i].service_id = col_int(res, i, 0);
        arr[i].kind = col_text(a, res, i, 1, &oom);
        arr[i].language = col_text(a, res, i, 2, &oom);
        arr[i].subject = col_text(a, res, i, 3, &oom);
        arr[i].body = col_text(a, res, i, 4, &oom);
        arr[i].updated_at = col_int(res, i, 5);
    }
    PQclear(res);
    if (oom)
        return out_of_memory("read templates");
    *out = arr;
    *n = (size_t)rows;
    return STORE_OK;
}

static store_rc pg_template_get(void *impl, arena *a, int64_t service_id, const char *kind,
                                const char *language, store_template *out)
{
    params p = {0};
    PGresult *res;
    store_template *rows = NULL;
    size_t n = 0;
    memset(out, 0, sizeof(*out));
    p_int(&p, service_id);
    p_text(&p, kind);
    p_text(&p, language);
    store_rc rc = nt_read(impl, NT_TEMPLATE_SELECT "AND kind = $2 AND language = $3", &p,
                          "read a template", &res);
    if (rc == STORE_OK)
        rc = nt_templates(a, res, &rows, &n);
    if (rc == STORE_OK && n == 0)
        rc = STORE_NOT_FOUND;
    if (rc == STORE_OK)
        *out = rows[0];
    return rc;
}

static store_rc pg_template_list(void *impl, arena *a, int64_t service_id, store_template **out,
                                 size_t *n)
{
    params p = {0};
    PGresult *res;
    *out = NULL;
    *n = 0;
    p_int(&p, service_id);
    store_rc rc = nt_read(impl, NT_TEMPLATE_SELECT "ORDER BY kind COLLATE \"C\", language", &p,
                          "list templates", &res);
    return rc == STORE_OK ? nt_templates(a, res, out, n) : rc;
}

typedef struct webhook_job_arg {
    store_webhook *w;
    int64_t id;
} webhook_job_arg;

static store_rc webhook_create_job(pconn *c, void *arg)
{
    webhook_job_arg *j = arg;
    params p = {0};
    PGresult *res;
    p_int(&p, j->w->org_id);
    p_text(&p, j->w->url);
    p_text(&p, j->w->secret);
    p_int(&p, j->w->created_at);
    store_rc rc = nt_exec(c,
                          "INSERT INTO webhooks (org_id, url, secret, created_at)"
                          " VALUES ($1, $2, $3, $4) RETURNING id",
                          &p, "add a webhook", &res);
    if (rc == STORE_OK) {
        j->id = PQntuples(res) == 1 ? col_int(res, 0, 0) : 0;
        PQclear(res);
    }
    return rc;
}

static store_rc pg_webhook_create(void *impl, store_webhook *w)
{
    webhook_job_arg j = {.w = w};
    store_rc rc = write_run(impl, webhook_create_job, &j, false);
    w->id = rc == STORE_OK ? j.id : 0;
    return rc;
}

static store_rc pg_webhook_list(void *impl, arena *a, int64_t org_id, store_webhook **out,
                                size_t *n)
{
    params p = {0};
    PGresult *res;
    *out = NULL;
    *n = 0;
    p_int(&p, org_id);
    store_rc rc = nt_read(impl,
                          "SELECT id, org_id, url, secret, created_at FROM webhooks"
                          " WHERE org_id = $1 AND active = 1 ORDER BY id",
                          &p, "list webhooks", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_webhook *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++) {
        arr[i].id = col_int(res, i, 0);
        arr[i].org_id = col_int(res, i, 1);
        arr[i].url = col_text(a, res, i, 2, &oom);
        arr[i].secret = col_text(a, res, i, 3, &oom);
        arr[i].created_at = col_int(res, i, 4);
    }
    PQclear(res);
    if (oom)
        return out_of_memory("list webhooks");
    *out = arr;
    *n = (size_t)rows;
    return STORE_OK;
}

typedef struct webhook_remove_arg {
    int64_t org_id, id;
    int changed;
} webhook_remove_arg;

static store_rc webhook_remove_job(pconn *c, void *arg)
{
    webhook_remove_arg *w = arg;
    params p = {0};
    p_int(&p, w->org_id);
    p_int(&p, w->id);
    store_rc rc = nt_run(c,
                         "UPDATE webhooks SET active = 0 WHERE org_id = $1 AND id = $2"
                         " AND active = 1",
                         &p, "remove a webhook", &w->changed);
    if (rc != STORE_OK || w->changed == 0)
        return rc;
    return nt_run(c,
                  "UPDATE notifications SET status = 'failed', lease_until = NULL,"
                  " last_error = 'the subscription was removed' WHERE org_id = $1"
                  " AND webhook_id = $2 AND status = 'pending'",
                  &p, "remove a webhook", NULL);
}

static store_rc pg_webhook_remove(void *impl, int64_t org_id, int64_t id)
{
    webhook_remove_arg w = {.org_id = org_id, .id = id};
    store_rc rc = write_run(impl, webhook_remove_job, &w, true);
    return rc == STORE_OK && w.changed == 0 ? STORE_NOT_FOUND : rc;
}

typedef struct notice_add_arg {
    const store_notice *notices;
    size_t n;
} notice_add_arg;

static store_rc notice_add_job(pconn *c, void *arg)
{
    notice_add_arg *w = arg;
    return notices_insert(c, 0, 0, w->notices, w->n);
}

static store_rc pg_notice_add(void *impl, const store_notice *notices, size_t n)
{
    notice_add_arg w = {.notices = notices, .n = n};
    return n ? write_run(impl, notice_add_job, &w, true) : STORE_OK;
}

static store_rc pg_notice_claim(void *impl, arena *a, const char *channel, int64_t now, int lease_s,
                                int max, store_notice **out, size_t *n)
{
    params p = {0};
    PGresult *res;
    *out = NULL;
    *n = 0;
    p_int(&p, now);
    p_text(&p, channel);
    p_int(&p, now + lease_s);
    p_int(&p, max);
    store_rc rc = nt_read(
        impl,
        "UPDATE notifications n SET lease_until = $3, attempts = n.attempts + 1"
        " FROM (SELECT id FROM notifications WHERE status = 'pending' AND channel = $2"
        " AND next_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)"
        " ORDER BY next_at LIMIT $4 FOR UPDATE SKIP LOCKED) due WHERE n.id = due.id"
        " RETURNING " NT_NOTICE_COLUMNS ", (SELECT reference FROM cases WHERE id = n.case_id),"
        " (SELECT secret FROM webhooks WHERE id = n.webhook_id)",
        &p, "claim notifications", &res);
    return rc == STORE_OK ? nt_notices(a, res, out, n, "claim notifications") : rc;
}

/* Notification `id` reached its person at `at` (or its letter was posted,
 * its call made): the public log is told (queued), and the duties its event
 * (or an earlier one) triggered are met. A webhook tells a system, and a
 * message to staff the organisation itself, not the person: neither is
 * logged as a notification nor meets a duty. */
static store_rc delivery_settled(pconn *c, int64_t id, int64_t at)
{
    params p = {0};
    PGresult *res;
    p_int(&p, id);
    p_int(&p, at);
    p_int(&p, TLOG_NOTIFICATION_SENT);
    p_int(&p, TLOG_ACTOR_NONE);
    store_rc rc = nt_exec(c,
                          "WITH n AS (SELECT case_id, event_id, channel FROM notifications"
                          " WHERE id = $1 AND channel <> 'webhook' AND NOT to_staff"
                          " AND case_id IS NOT NULL),"
                          " q AS (INSERT INTO log_queue (kind, case_id, at, actor, action)"
                          " SELECT $3, case_id, $2, $4, channel FROM n)"
                          " SELECT case_id, event_id FROM n WHERE event_id IS NOT NULL",
                          &p, "settle a delivered notification", &res);
    if (rc != STORE_OK)
        return rc;
    int64_t case_id = PQntuples(res) == 1 ? col_int(res, 0, 0) : 0;
    int64_t event_id = PQntuples(res) == 1 ? col_int(res, 0, 1) : 0;
    PQclear(res);
    return case_id ? duties_meet(c, case_id, event_id, at, "delivery", event_id) : STORE_OK;
}

typedef struct result_arg {
    int64_t id;
    int attempt;
    const char *outcome;
    const char *reason;
    int64_t now, next_at;
    int changed;
} result_arg;

static store_rc result_job(pconn *c, void *arg)
{
    result_arg *w = arg;
    params a = {0};
    p_int(&a, w->id);
    p_int(&a, w->now);
    p_text(&a, w->outcome);
    p_text(&a, w->reason);
    store_rc rc = nt_run(c,
                         "INSERT INTO notify_attempts (notification_id, at, outcome, reason)"
                         " VALUES ($1, $2, $3, $4)",
                         &a, "record a delivery attempt", NULL);
    if (rc != STORE_OK)
        return rc;
    /* Only the holder of the latest claim settles the row; a worker whose
     * lease ran out and was overtaken leaves it to the newer attempt. */
    params p = {0};
    p_int(&p, w->id);
    p_int(&p, w->attempt);
    p_text(&p, w->outcome);
    p_int(&p, w->next_at);
    p_int(&p, w->now);
    p_text(&p, w->reason);
    rc = nt_run(c,
                "UPDATE notifications SET lease_until = NULL, last_error = $6::text,"
                " status = CASE $3::text WHEN 'retry' THEN 'pending' ELSE $3::text END,"
                " next_at = CASE $3::text WHEN 'retry' THEN $4::bigint ELSE next_at END,"
                " delivered_at = CASE $3::text WHEN 'delivered' THEN $5::bigint END"
                " WHERE id = $1 AND attempts = $2 AND status = 'pending'",
                &p, "settle a notification", &w->changed);
    if (rc == STORE_OK && w->changed && strcmp(w->outcome, "delivered") == 0)
        rc = delivery_settled(c, w->id, w->now);
    return rc;
}

static store_rc pg_notice_result(void *impl, int64_t id, int attempt, store_outcome outcome,
                                 const char *reason, int64_t now, int64_t next_at)
{
    result_arg w = {.id = id,
                    .attempt = attempt,
                    .outcome = outcome == NOTICE_DELIVERED ? "delivered"
                               : outcome == NOTICE_RETRY   ? "retry"
                                                           : "failed",
                    .reason = outcome == NOTICE_DELIVERED ? NULL : reason,
                    .now = now,
                    .next_at = next_at};
    store_rc rc = write_run(impl, result_job, &w, true);
    return rc == STORE_OK && w.changed == 0 ? STORE_CONFLICT : rc;
}

static store_rc pg_notice_list(void *impl, arena *a, int64_t org_id, const char *status,
                               int64_t before_id, int limit, store_notice **out, size_t *n)
{
    params p = {0};
    PGresult *res;
    *out = NULL;
    *n = 0;
    p_int(&p, org_id);
    p_text(&p, status);
    p_int(&p, before_id);
    p_int(&p, limit);
    store_rc rc = nt_read(impl,
                          "SELECT " NT_NOTICE_COLUMNS ", c.reference, NULL FROM notifications n"
                          " LEFT JOIN cases c ON c.id = n.case_id"
                          " WHERE n.org_id = $1 AND n.status = $2"
                          " AND ($3::bigint = 0 OR n.id < $3::bigint) ORDER BY n.id DESC LIMIT $4",
                          &p, "list notifications", &res);
    return rc == STORE_OK ? nt_notices(a, res, out, n, "list notifications") : rc;
}

static store_rc pg_notice_get(void *impl, arena *a, int64_t org_id, int64_t id, store_notice *out,
                              store_attempt **attempts, size_t *n)
{
    params p = {0};
    PGresult *res;
    store_notice *rows = NULL;
    size_t found = 0;
    memset(out, 0, sizeof(*out));
    *attempts = NULL;
    *n = 0;
    p_int(&p, org_id);
    p_int(&p, id);
    store_rc rc = nt_read(impl,
                          "SELECT " NT_NOTICE_COLUMNS ", c.reference, NULL FROM notifications n"
                          " LEFT JOIN cases c ON c.id = n.case_id"
                          " WHERE n.org_id = $1 AND n.id = $2",
                          &p, "read a notification", &res);
    if (rc == STORE_OK)
        rc = nt_notices(a, res, &rows, &found, "read a notification");
    if (rc == STORE_OK && found == 0)
        return STORE_NOT_FOUND;
    if (rc != STORE_OK)
        return rc;
    params q = {0};
    p_int(&q, id);
    rc = nt_read(impl,
                 "SELECT at, outcome, reason FROM notify_attempts WHERE notification_id = $1"
                 " ORDER BY id",
                 &q, "read delivery attempts", &res);
    if (rc != STORE_OK)
        return rc;
    int count = PQntuples(res);
    store_attempt *arr = rows_alloc(a, count, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < count && !oom; i++) {
        arr[i].at = col_int(res, i, 0);
        arr[i].outcome = col_text(a, res, i, 1, &oom);
        arr[i].reason = col_text(a, res, i, 2, &oom);
    }
    PQclear(res);
    if (oom)
        return out_of_memory("read delivery attempts");
    *out = rows[0];
    *attempts = arr;
    *n = (size_t)count;
    return STORE_OK;
}

typedef struct task_arg {
    int64_t org_id, id, now;
    int changed;
} task_arg;

static store_rc task_done_job(pconn *c, void *arg)
{
    task_arg *w = arg;
    params p = {0};
    p_int(&p, w->org_id);
    p_int(&p, w->id);
    p_int(&p, w->now);
    store_rc rc = nt_run(c,
                         "UPDATE notifications SET status = 'done', delivered_at = $3"
                         " WHERE org_id = $1 AND id = $2 AND status = 'open'",
                         &p, "mark a task done", &w->changed);
    return rc == STORE_OK && w->changed ? delivery_settled(c, w->id, w->now) : rc;
}

static store_rc pg_task_done(void *impl, int64_t org_id, int64_t id, int64_t now)
{
    task_arg w = {.org_id = org_id, .id = id, .now = now};
    store_rc rc = write_run(impl, task_done_job, &w, true);
    return rc == STORE_OK && w.changed == 0 ? STORE_NOT_FOUND : rc;
}

static store_rc pg_notice_delivered(void *impl, int64_t case_id, int64_t since, int64_t *at)
{
    params p = {0};
    PGresult *res;
    *at = 0;
    p_int(&p, case_id);
    p_int(&p, since);
    store_rc rc = nt_read(impl,
                          "SELECT min(delivered_at) FROM notifications WHERE case_id = $1"
                          " AND channel <> 'webhook' AND NOT to_staff AND delivered_at >= $2",
                          &p, "read deliveries", &res);
    if (rc != STORE_OK)
        return rc;
    *at = PQntuples(res) == 1 ? col_int(res, 0, 0) : 0;
    PQclear(res);
    return *at == 0 ? STORE_NOT_FOUND : STORE_OK;
}

/* ---- appeals for witnesses ----
 *
 * Statements of their own, prepared per connection on first use like the
 * others (named a0, a1, ...). The public statements select constants in
 * place of the true location, so no public read can carry it. The map search
 * uses the partial GiST index on point(pub_lon, pub_lat) with <@ box, then
 * the exact great-circle distance for a radius: the same query shape as the
 * SQLite backend's R*Tree. */

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
                        " a.officer_id FROM appeals a JOIN orgs o ON o.id = a.org_id"              \
                        " JOIN cases c ON c.id = a.case_id "
#define APPEAL_PUBLIC_COLUMNS                                                                      \
    APPEAL_COLUMNS_HEAD "NULL," APPEAL_COLUMNS_BODY "0, 0," APPEAL_COLUMNS_TAIL "0, NULL"
#define APPEAL_SEARCH_WHERE                                                                        \
    " a.status = 'published' AND a.expires_at > $5::bigint"                                        \
    " AND ($6::bigint = 0 OR a.org_id = $6::bigint)"                                               \
    " AND ($7::text IS NULL OR a.category = $7::text) AND a.published_at >= $8::bigint"            \
    " AND a.published_at < $9::bigint AND (a.published_at, a.id) < ($10::bigint, $11::bigint)"     \
    " AND ($12::int = 0 OR 2 * 6371008.8 * asin(least(1, sqrt(power(sin(radians("                  \
    "(a.pub_lat::bigint - $13::bigint) / 1e7::float8) / 2), 2) + cos(radians($13::bigint"          \
    " / 1e7::float8)) * cos(radians(a.pub_lat / 1e7::float8)) * power(sin(radians("                \
    "(a.pub_lon::bigint - $14::bigint) / 1e7::float8) / 2), 2)))) <= $12::int)"                    \
    " ORDER BY a.published_at DESC, a.id DESC LIMIT $15::int"
#define ANSWER_COLUMNS                                                                             \
    "SELECT x.id, x.appeal_id, %s, x.receipt, x.secret_hash, x.saw, x.seen_when, x.seen_lat,"      \
    " x.seen_lon, x.anonymous, x.channel, %s, x.created_at, x.first_read_at FROM appeal_answers "  \
    "x "

static const char *const appeal_sql[AP_COUNT] = {
    [AP_INSERT] = "INSERT INTO appeals (org_id, case_id, status, title, description, category,"
                  " occurred_from, occurred_to, contact, anonymous_contact, expires_at, true_lat,"
                  " true_lon, pub_lat, pub_lon, precision, cell_m, created_at, updated_at,"
                  " officer_id) SELECT $1::bigint, id, 'draft', $3::text, $4::text, $5::text,"
                  " $6::bigint, $7::bigint, $8::text, $9::text, $10::bigint, $11::int, $12::int,"
                  " $13::int, $14::int, $15::text, $16::int, $17::bigint, $17::bigint,"
                  " $18::bigint FROM cases WHERE id = $2::bigint AND org_id = $1::bigint"
                  " RETURNING id",
    [AP_UPDATE] = "UPDATE appeals SET title = $3::text, description = $4::text,"
                  " category = $5::text, occurred_from = $6::bigint, occurred_to = $7::bigint,"
                  " contact = $8::text, anonymous_contact = $9::text, expires_at = $10::bigint,"
                  " true_lat = $11::int, true_lon = $12::int, pub_lat = $13::int,"
                  " pub_lon = $14::int, precision = $15::text, cell_m = $16::int,"
                  " updated_at = $17::bigint, officer_id = $18::bigint"
                  " WHERE org_id = $1::bigint AND id = $2::bigint AND status = 'draft'",
    [AP_SET_OFFICER] = "UPDATE appeals SET officer_id = $3::bigint, updated_at = $4::bigint"
                       " WHERE org_id = $1::bigint AND id = $2::bigint AND status <> 'closed'",
    [AP_STATUS] = "SELECT status, case_id, expires_at FROM appeals WHERE id = $1::bigint"
                  " AND ($2::bigint = 0 OR org_id = $2::bigint)",
    [AP_GET] = APPEAL_STAFF_SELECT "WHERE a.id = $1::bigint AND a.org_id = $2::bigint",
    [AP_PUBLIC_GET] = APPEAL_PUBLIC_COLUMNS " FROM appeals a JOIN orgs o ON o.id = a.org_id"
                                            " WHERE a.id = $1::bigint AND a.status <> 'draft'",
    [AP_TRANSITION] =
        "UPDATE appeals SET status = $3::text, updated_at = $5::bigint,"
        " published_at = CASE WHEN $3::text = 'published' THEN $5::bigint ELSE published_at END,"
        " closed_at = CASE WHEN $3::text = 'closed' THEN $5::bigint ELSE closed_at END,"
        " outcome = coalesce($6::text, outcome)"
        " WHERE id = $1::bigint AND org_id = $2::bigint AND status = $4::text",
    [AP_STAFF_LIST] = APPEAL_STAFF_SELECT
    "WHERE a.org_id = $1::bigint AND ($2::text IS NULL OR a.status = $2::text)"
    " AND (a.created_at, a.id) < ($3::bigint, $4::bigint)"
    " ORDER BY a.created_at DESC, a.id DESC LIMIT $5::int",
    [AP_SEARCH_MAP] = APPEAL_PUBLIC_COLUMNS
    " FROM appeals a JOIN orgs o ON o.id = a.org_id"
    " WHERE point(a.pub_lon, a.pub_lat) <@ box(point($1::int, $3::int), point($2::int, $4::int))"
    " AND a.pub_lon BETWEEN $1::int AND $2::int AND a.pub_lat BETWEEN $3::int AND $4::int"
    " AND" APPEAL_SEARCH_WHERE,
    [AP_SEARCH_ALL] = APPEAL_PUBLIC_COLUMNS
    " FROM appeals a JOIN orgs o ON o.id = a.org_id"
    " WHERE $1::int = $1::int AND $2::int = $2::int AND $3::int = $3::int AND $4::int = $4::int"
    " AND" APPEAL_SEARCH_WHERE,
    [AP_ANSWER_INSERT] = "INSERT INTO appeal_answers (appeal_id, receipt, secret_hash, saw,"
                         " seen_when, seen_lat, seen_lon, person_id, channel, anonymous,"
                         " created_at) VALUES ($1::bigint, $2::text, $3::bytea, $4::text,"
                         " $5::text, $6::int, $7::int, $8::bigint, $9::text, $10::boolean,"
                         " $11::bigint) RETURNING id",
    [AP_ANSWER_LIST] = NULL, /* built by answer_sql() */
    [AP_ANSWER_MARK] = "UPDATE appeal_answers SET first_read_at = $2::bigint"
                       " WHERE id = $1::bigint AND first_read_at IS NULL",
    [AP_READ_INSERT] = "INSERT INTO appeal_answer_reads (answer_id, reader_org_id, user_id,"
                       " key_id, reader_name, role, purpose, at) VALUES ($1::bigint, $2::bigint,"
                       " $3::bigint, $4::bigint, $5::text, $6::text, $7::text, $8::bigint)",
    [AP_BY_RECEIPT] = NULL, /* built by answer_sql() */
    [AP_READS] = "SELECT r.id, 0, 0, r.reader_org_id, o.name, r.user_id, r.key_id,"
                 " r.reader_name, r.role, 'read', r.purpose, r.at FROM appeal_answer_reads r"
                 " JOIN orgs o ON o.id = r.reader_org_id WHERE r.answer_id = $1::bigint"
                 " ORDER BY r.at DESC, r.id DESC",
    [AP_ORGS] = "SELECT id, slug, name FROM orgs ORDER BY name, id",
    [AP_STAFF_GET] = "SELECT a.id, a.org_id, o.name, a.title, a.case_id, c.reference, s.code,"
                     " u.id, u.org_id, u.email, u.name, u.role FROM appeals a"
                     " JOIN orgs o ON o.id = a.org_id JOIN cases c ON c.id = a.case_id"
                     " JOIN services s ON s.id = c.service_id"
                     " LEFT JOIN users u ON u.id = a.officer_id"
                     " WHERE a.id = $1::bigint AND a.status <> 'draft'",
};

static void answer_sql(int id, char *out, size_t len)
{
    char head[512];
    if (id == AP_ANSWER_LIST) {
        snprintf(head, sizeof(head), ANSWER_COLUMNS, "NULL",
                 "p.id, p.name, p.email, p.phone, p.address, p.postcode");
        snprintf(out, len,
                 "%sLEFT JOIN persons p ON p.id = x.person_id WHERE x.appeal_id = $1::bigint"
                 " AND x.id < $2::bigint ORDER BY x.id DESC LIMIT $3::int",
                 head);
    } else {
        snprintf(head, sizeof(head), ANSWER_COLUMNS, "a.title",
                 "NULL, NULL, NULL, NULL, NULL, NULL");
        snprintf(out, len, "%sJOIN appeals a ON a.id = x.appeal_id WHERE x.receipt = $1::text",
                 head);
    }
}

/* Runs appeal statement `id`, preparing it on first use; the result is the
 * caller's to clear. */
static PGresult *ap_exec(pconn *c, int id, const params *p)
{
    char name[16];
    snprintf(name, sizeof(name), "a%d", id);
    if (!c->appeal_prepared[id]) {
        char built[1024];
        const char *sql = appeal_sql[id];
        if (!sql) {
            answer_sql(id, built, sizeof(built));
            sql = built;
        }
        PGresult *res = PQprepare(c->pg, name, sql, p->n, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            return res;
        PQclear(res);
        c->appeal_prepared[id] = true;
    }
    return PQexecPrepared(c->pg, name, p->n, p->values, p->lengths, p->formats, 0);
}

/* As exec_write, for an appeal statement. */
static store_rc ap_write(pconn *c, int id, const params *p, const char *what, int64_t *row_id,
                         int *changed)
{
    PGresult *res = ap_exec(c, id, p);
    ExecStatusType st = PQresultStatus(res);
    store_rc rc = STORE_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = fail(c, res, what);
    } else {
        if (changed)
            *changed = (int)strtol(PQcmdTuples(res), NULL, 10);
        if (row_id)
            *row_id = PQntuples(res) > 0 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    }
    PQclear(res);
    return rc;
}

/* As exec_read, for an appeal statement. */
static store_rc ap_read(pconn *c, int id, const params *p, const char *what, PGresult **out)
{
    *out = NULL;
    PGresult *res = ap_exec(c, id, p);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        store_rc rc = fail(c, res, what);
        PQclear(res);
        return rc;
    }
    *out = res;
    return STORE_OK;
}

/* Runs an appeal query on a pooled connection. */
static store_rc ap_read_pooled(pg_store *s, int id, const params *p, const char *what,
                               PGresult **out)
{
    *out = NULL;
    pconn *c = pool_take(s);
    if (!c)
        return STORE_UNAVAILABLE;
    store_rc rc = ap_read(c, id, p, what, out);
    pool_give(s, c);
    return rc;
}

static void read_appeal(arena *a, const PGresult *res, int row, store_appeal *out, bool *oom)
{
    out->id = col_int(res, row, 0);
    out->org_id = col_int(res, row, 1);
    out->org_slug = col_text(a, res, row, 2, oom);
    out->org_name = col_text(a, res, row, 3, oom);
    out->case_id = col_int(res, row, 4);
    out->case_reference = col_text(a, res, row, 5, oom);
    out->status = col_text(a, res, row, 6, oom);
    out->title = col_text(a, res, row, 7, oom);
    out->description = col_text(a, res, row, 8, oom);
    out->category = col_text(a, res, row, 9, oom);
    out->occurred_from = col_int(res, row, 10);
    out->occurred_to = col_int(res, row, 11);
    out->contact = col_text(a, res, row, 12, oom);
    out->anonymous_contact = col_text(a, res, row, 13, oom);
    out->expires_at = col_int(res, row, 14);
    out->true_lat = (int32_t)col_int(res, row, 15);
    out->true_lon = (int32_t)col_int(res, row, 16);
    out->pub_lat = (int32_t)col_int(res, row, 17);
    out->pub_lon = (int32_t)col_int(res, row, 18);
    out->precision = col_text(a, res, row, 19, oom);
    out->cell_m = (int32_t)col_int(res, row, 20);
    out->outcome = col_text(a, res, row, 21, oom);
    out->created_at = col_int(res, row, 22);
    out->updated_at = col_int(res, row, 23);
    out->published_at = col_int(res, row, 24);
    out->closed_at = col_int(res, row, 25);
    out->answers = col_int(res, row, 26);
    out->officer_id = col_int(res, row, 27);
}

static void read_answer(arena *a, const PGresult *res, int row, store_answer *out, bool *oom)
{
    out->id = col_int(res, row, 0);
    out->appeal_id = col_int(res, row, 1);
    out->appeal_title = col_text(a, res, row, 2, oom);
    out->receipt = col_text(a, res, row, 3, oom);
    if (!col_hash(res, row, 4, out->secret_hash))
        memset(out->secret_hash, 0, sizeof(out->secret_hash));
    out->saw = col_text(a, res, row, 5, oom);
    out->seen_when = col_text(a, res, row, 6, oom);
    out->has_point = !PQgetisnull(res, row, 7);
    out->seen_lat = (int32_t)col_int(res, row, 7);
    out->seen_lon = (int32_t)col_int(res, row, 8);
    out->anonymous = strcmp(PQgetvalue(res, row, 9), "t") == 0;
    out->channel = col_text(a, res, row, 10, oom);
    out->person.id = col_int(res, row, 11);
    out->person.name = col_text(a, res, row, 12, oom);
    out->person.email = col_text(a, res, row, 13, oom);
    out->person.phone = col_text(a, res, row, 14, oom);
    out->person.address = col_text(a, res, row, 15, oom);
    out->person.postcode = col_text(a, res, row, 16, oom);
    out->created_at = col_int(res, row, 17);
    out->first_read_at = col_int(res, row, 18);
}

/* The fields an appeal's insert and update share, $1..$18 ($2 by the caller). */
static void bind_appeal(params *p, const store_appeal *a, int64_t second)
{
    p_int(p, a->org_id);
    p_int(p, second);
    p_text(p, a->title);
    p_text(p, a->description);
    p_text(p, a->category);
    p_int(p, a->occurred_from);
    p_or_null(p, a->occurred_to);
    p_text(p, a->contact);
    p_text(p, a->anonymous_contact);
    p_int(p, a->expires_at);
    p_int(p, a->true_lat);
    p_int(p, a->true_lon);
    p_int(p, a->pub_lat);
    p_int(p, a->pub_lon);
    p_text(p, a->precision);
    p_int(p, a->cell_m);
    p_int(p, a->updated_at);
    p_or_null(p, a->officer_id);
}

static store_rc appeal_status(pconn *c, int64_t id, int64_t org_id, char status[16],
                              int64_t *case_id, int64_t *expires_at)
{
    params p = {0};
    p_int(&p, id);
    p_int(&p, org_id);
    PGresult *res = NULL;
    store_rc rc = ap_read(c, AP_STATUS, &p, "read an appeal's status", &res);
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return STORE_NOT_FOUND;
    }
    snprintf(status, 16, "%s", PQgetvalue(res, 0, 0));
    *case_id = col_int(res, 0, 1);
    *expires_at = col_int(res, 0, 2);
    PQclear(res);
    return STORE_OK;
}

/* Why a write of (org_id, id) changed no row: STORE_NOT_FOUND when there is
 * no such appeal, STORE_CONFLICT when its status refused the change. */
static store_rc appeal_unchanged(pconn *c, int64_t id, int64_t org_id)
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

static store_rc appeal_write_job(pconn *c, void *arg)
{
    appeal_write *w = arg;
    params p = {0};
    bind_appeal(&p, w->a, w->create ? w->a->case_id : w->a->id);
    int changed = 0;
    store_rc rc = ap_write(c, w->create ? AP_INSERT : AP_UPDATE, &p,
                           w->create ? "create an appeal" : "update an appeal", &w->id, &changed);
    if (rc != STORE_OK || changed == 1)
        return rc;
    return w->create ? STORE_NOT_FOUND : appeal_unchanged(c, w->a->id, w->a->org_id);
}

static store_rc pg_appeal_create(void *impl, store_appeal *a)
{
    a->created_at = a->updated_at = now_or(a->created_at);
    a->status = "draft";
    appeal_write w = {.a = a, .create = true};
    store_rc rc = write_run(impl, appeal_write_job, &w, false);
    a->id = rc == STORE_OK ? w.id : 0;
    return rc;
}

static store_rc pg_appeal_update(void *impl, store_appeal *a)
{
    a->updated_at = now_or(a->updated_at);
    appeal_write w = {.a = a};
    return write_run(impl, appeal_write_job, &w, true);
}

typedef struct officer_change {
    int64_t org_id, id, officer_id, at;
} officer_change;

static store_rc appeal_officer_job(pconn *c, void *arg)
{
    officer_change *w = arg;
    params p = {0};
    p_int(&p, w->org_id);
    p_int(&p, w->id);
    p_or_null(&p, w->officer_id);
    p_int(&p, w->at);
    int changed = 0;
    store_rc rc = ap_write(c, AP_SET_OFFICER, &p, "change an appeal's officer", NULL, &changed);
    if (rc != STORE_OK || changed == 1)
        return rc;
    return appeal_unchanged(c, w->id, w->org_id);
}

static store_rc pg_appeal_set_officer(void *impl, int64_t org_id, int64_t id, int64_t officer_id,
                                      int64_t at)
{
    officer_change w = {.org_id = org_id, .id = id, .officer_id = officer_id, .at = at};
    return write_run(impl, appeal_officer_job, &w, true);
}

static store_rc appeal_one(pg_store *s, arena *a, int which, int64_t id, int64_t org_id,
                           store_appeal *out)
{
    memset(out, 0, sizeof(*out));
    params p = {0};
    p_int(&p, id);
    if (which == AP_GET)
        p_int(&p, org_id);
    PGresult *res = NULL;
    store_rc rc = ap_read_pooled(s, which, &p, "read an appeal", &res);
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return STORE_NOT_FOUND;
    }
    bool oom = false;
    read_appeal(a, res, 0, out, &oom);
    PQclear(res);
    if (oom) {
        memset(out, 0, sizeof(*out));
        return out_of_memory("read an appeal");
    }
    return STORE_OK;
}

static store_rc pg_appeal_get(void *impl, arena *a, int64_t org_id, int64_t id, store_appeal *out)
{
    return appeal_one(impl, a, AP_GET, id, org_id, out);
}

static store_rc pg_appeal_public_get(void *impl, arena *a, int64_t id, store_appeal *out)
{
    return appeal_one(impl, a, AP_PUBLIC_GET, id, 0, out);
}

static store_rc pg_appeal_staff_get(void *impl, arena *a, int64_t id, store_appeal_staff *out)
{
    memset(out, 0, sizeof(*out));
    params p = {0};
    p_int(&p, id);
    PGresult *res;
    store_rc rc = ap_read_pooled(impl, AP_STAFF_GET, &p, "read an appeal's staff", &res);
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return STORE_NOT_FOUND;
    }
    bool oom = false;
    out->id = col_int(res, 0, 0);
    out->org_id = col_int(res, 0, 1);
    out->org_name = col_text(a, res, 0, 2, &oom);
    out->title = col_text(a, res, 0, 3, &oom);
    out->case_id = col_int(res, 0, 4);
    out->case_reference = col_text(a, res, 0, 5, &oom);
    out->service_code = col_text(a, res, 0, 6, &oom);
    out->officer.id = col_int(res, 0, 7);
    out->officer.org_id = col_int(res, 0, 8);
    out->officer.email = col_text(a, res, 0, 9, &oom);
    out->officer.name = col_text(a, res, 0, 10, &oom);
    out->officer.role = col_text(a, res, 0, 11, &oom);
    PQclear(res);
    if (oom) {
        memset(out, 0, sizeof(*out));
        return out_of_memory("read an appeal's staff");
    }
    return STORE_OK;
}

typedef struct transition_write {
    int64_t org_id;
    int64_t id;
    const char *from;
    const char *to;
    const char *outcome;
    store_event *ev;
} transition_write;

static store_rc transition_job(pconn *c, void *arg)
{
    transition_write *w = arg;
    char status[16];
    int64_t case_id = 0, expires;
    store_rc rc = appeal_status(c, w->id, w->org_id, status, &case_id, &expires);
    if (rc != STORE_OK)
        return rc;
    params p = {0};
    p_int(&p, w->id);
    p_int(&p, w->org_id);
    p_text(&p, w->to);
    p_text(&p, w->from);
    p_int(&p, w->ev->created_at);
    p_text(&p, w->outcome);
    int changed = 0;
    rc = ap_write(c, AP_TRANSITION, &p, "change an appeal's status", NULL, &changed);
    if (rc != STORE_OK)
        return rc;
    if (changed != 1)
        return STORE_CONFLICT;
    event_write ew = {.case_id = case_id, .ev = w->ev};
    rc = event_append_job(c, &ew);
    w->ev->id = rc == STORE_OK ? ew.id : 0;
    return rc;
}

static store_rc pg_appeal_transition(void *impl, int64_t org_id, int64_t id, const char *from,
                                     const char *to, const char *outcome, store_event *ev)
{
    transition_write w = {
        .org_id = org_id, .id = id, .from = from, .to = to, .outcome = outcome, .ev = ev};
    ev->id = 0;
    store_rc rc = write_run(impl, transition_job, &w, true);
    if (rc != STORE_OK)
        ev->id = 0;
    return rc;
}

/* The rows of a list query, one more than `limit` telling whether another
 * page exists. Clears res. */
static store_rc appeal_rows(arena *a, PGresult *res, int limit, store_appeal **out, size_t *n,
                            bool *more)
{
    int rows = PQntuples(res);
    *more = rows > limit;
    if (*more)
        rows = limit;
    store_appeal *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++)
        read_appeal(a, res, i, &arr[i], &oom);
    PQclear(res);
    if (oom) {
        *more = false;
        return out_of_memory("list appeals");
    }
    *out = rows ? arr : NULL;
    *n = (size_t)rows;
    return STORE_OK;
}

static int64_t or_max(int64_t v)
{
    return v ? v : INT64_MAX;
}

static store_rc pg_appeal_staff_list(void *impl, arena *a, const store_appeal_staff_filter *f,
                                     store_appeal **out, size_t *n, bool *more)
{
    *out = NULL;
    *n = 0;
    *more = false;
    params p = {0};
    p_int(&p, f->org_id);
    p_text(&p, f->status);
    p_int(&p, f->before_id ? f->before_created_at : INT64_MAX);
    p_int(&p, or_max(f->before_id));
    p_int(&p, f->limit + 1);
    PGresult *res = NULL;
    store_rc rc = ap_read_pooled(impl, AP_STAFF_LIST, &p, "list appeals", &res);
    return rc == STORE_OK ? appeal_rows(a, res, f->limit, out, n, more) : rc;
}

static store_rc pg_appeal_search(void *impl, arena *a, const store_appeal_search_filter *f,
                                 store_appeal **out, size_t *n, bool *more)
{
    *out = NULL;
    *n = 0;
    *more = false;
    params p = {0};
    p_int(&p, f->min_lon);
    p_int(&p, f->max_lon);
    p_int(&p, f->min_lat);
    p_int(&p, f->max_lat);
    p_int(&p, f->now);
    p_int(&p, f->org_id);
    p_text(&p, f->category);
    p_int(&p, f->published_from);
    p_int(&p, or_max(f->published_to));
    p_int(&p, f->before_id ? f->before_published_at : INT64_MAX);
    p_int(&p, or_max(f->before_id));
    p_int(&p, f->has_circle ? f->radius_m : 0);
    p_int(&p, f->centre_lat);
    p_int(&p, f->centre_lon);
    p_int(&p, f->limit + 1);
    PGresult *res = NULL;
    store_rc rc = ap_read_pooled(impl, f->has_box ? AP_SEARCH_MAP : AP_SEARCH_ALL, &p,
                                 "search appeals", &res);
    return rc == STORE_OK ? appeal_rows(a, res, f->limit, out, n, more) : rc;
}

typedef struct answer_write {
    store_answer *ans;
    store_event *ev;
} answer_write;

static store_rc answer_create_job(pconn *c, void *arg)
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
    if (!ans->anonymous)
        rc = insert_person(c, &ans->person, &person_id);
    if (rc != STORE_OK)
        return rc;
    params p = {0};
    p_int(&p, ans->appeal_id);
    p_text(&p, ans->receipt);
    p_hash(&p, ans->anonymous ? NULL : ans->secret_hash);
    p_text(&p, ans->saw);
    p_text(&p, ans->seen_when);
    if (ans->has_point) {
        p_int(&p, ans->seen_lat);
        p_int(&p, ans->seen_lon);
    } else {
        p_text(&p, NULL);
        p_text(&p, NULL);
    }
    p_or_null(&p, person_id);
    p_text(&p, ans->anonymous ? NULL : ans->channel);
    p_bool(&p, ans->anonymous);
    p_int(&p, ans->created_at);
    rc = ap_write(c, AP_ANSWER_INSERT, &p, "record an answer", &ans->id, NULL);
    if (rc != STORE_OK)
        return rc;
    ans->person.id = person_id;
    event_write ew = {.case_id = case_id, .ev = w->ev};
    rc = event_append_job(c, &ew);
    w->ev->id = rc == STORE_OK ? ew.id : 0;
    return rc;
}

static store_rc pg_answer_create(void *impl, store_answer *ans, store_event *ev)
{
    answer_write w = {.ans = ans, .ev = ev};
    store_rc rc = write_run(impl, answer_create_job, &w, true);
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

static store_rc answer_mark(pconn *c, const store_answer *ans, const store_access *reader,
                            int64_t at)
{
    if (reader && !ans->anonymous) {
        params p = {0};
        p_int(&p, ans->id);
        p_int(&p, reader->reader_org_id);
        p_or_null(&p, reader->user_id);
        p_or_null(&p, reader->key_id);
        p_text(&p, reader->reader_name);
        p_text(&p, reader->role);
        p_text(&p, reader->purpose);
        p_int(&p, reader->at);
        store_rc rc = ap_write(c, AP_READ_INSERT, &p, "record a read of an answer", NULL, NULL);
        if (rc != STORE_OK)
            return rc;
    }
    if (ans->first_read_at)
        return STORE_OK;
    params q = {0};
    p_int(&q, ans->id);
    p_int(&q, at);
    return ap_write(c, AP_ANSWER_MARK, &q, "mark an answer read", NULL, NULL);
}

static store_rc answer_list_job(pconn *c, void *arg)
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
    params p = {0};
    p_int(&p, w->appeal_id);
    p_int(&p, or_max(w->before_id));
    p_int(&p, w->limit + 1);
    PGresult *res = NULL;
    rc = ap_read(c, AP_ANSWER_LIST, &p, "list answers", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    w->more = rows > w->limit;
    if (w->more)
        rows = w->limit;
    w->arr = rows_alloc(w->a, rows, sizeof(*w->arr));
    bool oom = !w->arr;
    for (int i = 0; i < rows && !oom; i++)
        read_answer(w->a, res, i, &w->arr[i], &oom);
    PQclear(res);
    if (oom)
        return out_of_memory("list answers");
    w->n = (size_t)rows;
    int64_t at = w->reader ? w->reader->at : (int64_t)time(NULL);
    for (size_t i = 0; i < w->n && rc == STORE_OK; i++) {
        rc = answer_mark(c, &w->arr[i], w->reader, at);
        if (rc == STORE_OK && !w->arr[i].first_read_at)
            w->arr[i].first_read_at = at;
    }
    return rc;
}

static store_rc pg_answer_list(void *impl, arena *a, int64_t org_id, int64_t appeal_id,
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
    store_rc rc = write_run(impl, answer_list_job, &w, true);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? rc : STORE_UNAVAILABLE;
    *out = w.n ? w.arr : NULL;
    *n = w.n;
    *more = w.more;
    return STORE_OK;
}

static store_rc pg_answer_by_receipt(void *impl, arena *a, const char *receipt, store_answer *out)
{
    memset(out, 0, sizeof(*out));
    params p = {0};
    p_text(&p, receipt);
    PGresult *res = NULL;
    store_rc rc = ap_read_pooled(impl, AP_BY_RECEIPT, &p, "read an answer", &res);
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return STORE_NOT_FOUND;
    }
    bool oom = false;
    read_answer(a, res, 0, out, &oom);
    PQclear(res);
    if (oom) {
        memset(out, 0, sizeof(*out));
        return out_of_memory("read an answer");
    }
    return STORE_OK;
}

static store_rc pg_answer_reads(void *impl, arena *a, int64_t answer_id, store_access **out,
                                size_t *n)
{
    *out = NULL;
    *n = 0;
    params p = {0};
    p_int(&p, answer_id);
    PGresult *res = NULL;
    store_rc rc = ap_read_pooled(impl, AP_READS, &p, "read an answer's reads", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_access *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++)
        read_access(a, res, i, &arr[i], &oom);
    PQclear(res);
    if (oom)
        return out_of_memory("read an answer's reads");
    *out = rows ? arr : NULL;
    *n = (size_t)rows;
    return STORE_OK;
}

static store_rc pg_appeal_orgs(void *impl, arena *a, store_org **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    params p = {0};
    PGresult *res = NULL;
    store_rc rc = ap_read_pooled(impl, AP_ORGS, &p, "list organisations", &res);
    if (rc != STORE_OK)
        return rc;
    int rows = PQntuples(res);
    store_org *arr = rows_alloc(a, rows, sizeof(*arr));
    bool oom = !arr;
    for (int i = 0; i < rows && !oom; i++) {
        arr[i].id = col_int(res, i, 0);
        arr[i].slug = col_text(a, res, i, 1, &oom);
        arr[i].name = col_text(a, res, i, 2, &oom);
    }
    PQclear(res);
    if (oom)
        return out_of_memory("list organisations");
    *out = rows ? arr : NULL;
    *n = (size_t)rows;
    return STORE_OK;
}

const store_ops store_pg_ops = {
    .open = pg_open,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .secret_key = pg_secret_key,
    .org_create = pg_org_create,
    .org_by_slug = pg_org_by_slug,
    .org_by_id = pg_org_by_id,
    .service_create = pg_service_create,
    .service_update = pg_service_update,
    .service_get = pg_service_get,
    .service_by_id = pg_service_by_id,
    .service_list = pg_service_list,
    .user_create = pg_user_create,
    .user_by_email = pg_user_by_email,
    .user_get = pg_user_get,
    .user_list = pg_user_list,
    .session_create = pg_session_create,
    .session_get = pg_session_get,
    .session_delete = pg_session_delete,
    .key_create = pg_key_create,
    .key_get = pg_key_get,
    .key_list = pg_key_list,
    .key_revoke = pg_key_revoke,
    .case_create = pg_case_create,
    .case_get = pg_case_get,
    .case_events = pg_case_events,
    .case_list = pg_case_list,
    .event_append = pg_event_append,
    .case_set_secret = pg_case_set_secret,
    .service_durations = pg_service_durations,
    .access_record = pg_access_record,
    .case_accesses = pg_case_accesses,
    .case_tracking = pg_case_tracking,
    .case_import = pg_case_import,
    .org_sole = pg_org_sole,
    .open311_cases = pg_open311_cases,
    .open311_case_get = pg_open311_case_get,
    .open311_updates = pg_open311_updates,
    .open_readonly = pg_open_readonly,
    .read_begin = pg_read_begin,
    .read_rows = pg_read_rows,
    .read_end = pg_read_end,
    .load_begin = pg_load_begin,
    .load_table = pg_load_table,
    .load_row = pg_load_row,
    .load_end = pg_load_end,
    .log_size = pg_log_size,
    .log_queued = pg_log_queued,
    .log_nodes = pg_log_nodes,
    .log_entries = pg_log_entries,
    .log_import = pg_log_import,
    .log_checkpoint_put = pg_log_checkpoint_put,
    .log_checkpoint_get = pg_log_checkpoint_get,
    .log_sequence = pg_log_sequence,
    .event_append_duties = pg_event_append_duties,
    .case_move = pg_case_move,
    .case_duties = pg_case_duties,
    .case_set_flags = pg_case_set_flags,
    .duty_met_by_delivery = pg_duty_met_by_delivery,
    .duty_sweep = pg_duty_sweep,
    .duty_worklist = pg_duty_worklist,
    .duty_compliance = pg_duty_compliance,
    .org_calendar_get = pg_org_calendar_get,
    .org_calendar_set = pg_org_calendar_set,
    .prefs_get = pg_prefs_get,
    .prefs_set = pg_prefs_set,
    .template_set = pg_template_set,
    .template_get = pg_template_get,
    .template_list = pg_template_list,
    .webhook_create = pg_webhook_create,
    .webhook_list = pg_webhook_list,
    .webhook_remove = pg_webhook_remove,
    .notice_add = pg_notice_add,
    .notice_claim = pg_notice_claim,
    .notice_result = pg_notice_result,
    .notice_list = pg_notice_list,
    .notice_get = pg_notice_get,
    .task_done = pg_task_done,
    .notice_delivered = pg_notice_delivered,
    .appeal_create = pg_appeal_create,
    .appeal_update = pg_appeal_update,
    .appeal_set_officer = pg_appeal_set_officer,
    .appeal_get = pg_appeal_get,
    .appeal_public_get = pg_appeal_public_get,
    .appeal_transition = pg_appeal_transition,
    .appeal_staff_list = pg_appeal_staff_list,
    .appeal_search = pg_appeal_search,
    .appeal_staff_get = pg_appeal_staff_get,
    .answer_create = pg_answer_create,
    .answer_list = pg_answer_list,
    .answer_by_receipt = pg_answer_by_receipt,
    .answer_reads = pg_answer_reads,
    .appeal_orgs = pg_appeal_orgs,
};
