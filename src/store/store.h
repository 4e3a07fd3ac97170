/* store.h - the storage interface: the only door to the database.
 *
 * All SQL lives behind this header, in one file per backend: store_sqlite.c
 * (the default) and store_pg.c (a postgresql:// URI), chosen by store_open
 * in store.c. Each call is atomic and uses connections from the store's
 * pool, so any thread may call any function concurrently. A call that
 * returns STORE_OK for a write has committed durably before it returns; on
 * SQLite, concurrent writes may share one transaction (group commit), each
 * isolated in its own savepoint.
 *
 * Ownership: every string, array and record a call returns is allocated in
 * the arena passed to it and lives as long as that arena. Inputs are borrowed
 * for the duration of the call. On failure, out-parameters are left zeroed.
 *
 * Times are seconds since the Unix epoch, UTC.
 */
#ifndef OC_STORE_H
#define OC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlog/entry.h"
#include "tlog/merkle.h"
#include "tlog/tile.h"
#include "util/arena.h"

typedef enum {
    STORE_OK = 0,
    STORE_NOT_FOUND,   /* no such row (or not visible to this organisation) */
    STORE_CONFLICT,    /* a concurrent change won: e.g. the stage moved meanwhile */
    STORE_DUPLICATE,   /* a unique value (slug, code, email, reference) is taken */
    STORE_UNAVAILABLE, /* the database is busy or unreachable; retrying may work */
    STORE_ERROR,       /* anything else; details went to the log */
} store_rc;

typedef struct store store;

/* Opens the database named by `uri` (a file path for SQLite) with a pool of
 * `pool_size` connections, and applies pending migrations. On failure returns
 * non-OK and writes a sentence into err. */
store_rc store_open(const char *uri, int pool_size, store **out, char *err, size_t errlen);
void store_close(store *s);

/* The schema version after migration, and the newest one this build knows. */
int store_schema_version(store *s);
int store_schema_latest(void);

/* The deployment's secret key for keyed hashes, created on first use so that
 * every instance sharing the database shares it. */
store_rc store_secret_key(store *s, unsigned char key[32]);

/* ---- organisations ---- */
typedef struct store_org {
    int64_t id;
    const char *slug;
    const char *name;
} store_org;

store_rc store_org_create(store *s, const char *slug, const char *name, int64_t *id);
store_rc store_org_by_slug(store *s, arena *a, const char *slug, store_org *out);
store_rc store_org_by_id(store *s, arena *a, int64_t id, store_org *out);

/* ---- services ---- */
typedef struct store_service {
    int64_t id;
    int64_t org_id;
    const char *code;
    const char *name;
    const char *description;
    const char *workflow_json; /* validated by the domain before it is stored */
    const char *duties_json;   /* the same; NULL is stored as no duties, "[]" */
    int target_days;           /* working days, end to end */
    int64_t created_at;
    int64_t updated_at;
    /* Open311 metadata, validated by domain/open311.h before it is stored;
     * NULL when the service is not offered through Open311. */
    const char *open311_json;
} store_service;

/* Creates a service (id, created_at, updated_at are set). */
store_rc store_service_create(store *s, store_service *svc);
/* Updates name, description, workflow, duties and target of (org_id, code). */
store_rc store_service_update(store *s, const store_service *svc);
store_rc store_service_get(store *s, arena *a, int64_t org_id, const char *code,
                           store_service *out);
store_rc store_service_by_id(store *s, arena *a, int64_t id, store_service *out);
/* All services of an organisation, by code. */
store_rc store_service_list(store *s, arena *a, int64_t org_id, store_service **out, size_t *n);

/* ---- staff, sessions and API keys ---- */
typedef struct store_user {
    int64_t id;
    int64_t org_id;
    const char *email; /* normalised, unique across the deployment */
    const char *name;
    const char *role; /* "administrator", "caseworker" or "analyst" */
    const char *password_hash;
} store_user;

/* Who is calling: a staff user (user_id > 0) or a system (key_id > 0). */
typedef struct store_principal {
    int64_t org_id;
    int64_t user_id;
    int64_t key_id;
    const char *role;
    const char *name; /* the user's name or the key's label */
} store_principal;

store_rc store_user_create(store *s, store_user *u); /* sets u->id */
store_rc store_user_by_email(store *s, arena *a, const char *email, store_user *out);
/* A user of org_id (another organisation's is STORE_NOT_FOUND); without the
 * password hash. */
store_rc store_user_get(store *s, arena *a, int64_t org_id, int64_t id, store_user *out);
/* The organisation's users in `role` ("administrator", ...), or in every
 * role when it is NULL, by id; without their password hashes. */
store_rc store_user_list(store *s, arena *a, int64_t org_id, const char *role, store_user **out,
                         size_t *n);

store_rc store_session_create(store *s, const unsigned char hash[32], int64_t user_id,
                              int64_t expires_at);
/* The session's principal if it exists and has not expired at `now`. */
store_rc store_session_get(store *s, arena *a, const unsigned char hash[32], int64_t now,
                           store_principal *out);
store_rc store_session_delete(store *s, const unsigned char hash[32]);

typedef struct store_key {
    int64_t id;
    const char *label;
    const char *role;
    int64_t created_at;
    int64_t revoked_at; /* 0 while the key is valid */
} store_key;

store_rc store_key_create(store *s, int64_t org_id, const char *label, const char *role,
                          const unsigned char hash[32], int64_t *id);
/* The principal of a key that has not been revoked; STORE_NOT_FOUND for an
 * unknown or revoked key. */
store_rc store_key_get(store *s, arena *a, const unsigned char hash[32], store_principal *out);
/* An organisation's keys, oldest first, revoked ones too. */
store_rc store_key_list(store *s, arena *a, int64_t org_id, store_key **out, size_t *n);
/* Revokes key id of org_id at `at` (a key revoked before keeps its time).
 * STORE_NOT_FOUND when the organisation has no such key. */
store_rc store_key_revoke(store *s, int64_t org_id, int64_t id, int64_t at);

/* ---- cases and their events ---- */

/* Personal data: kept in its own table, apart from the case. */
typedef struct store_person {
    int64_t id;
    const char *name;
    const char *email; /* normalised, may be NULL */
    const char *phone;
    const char *address;
    const char *postcode; /* normalised, may be NULL */
} store_person;

typedef struct store_case {
    int64_t id;
    int64_t org_id;
    int64_t service_id;
    const char *service_code;
    const char *reference; /* canonical text, see ref.h */
    const char *stage;
    const char *summary; /* staff-facing description; never public */
    unsigned char secret_hash[32];
    int64_t opened_at;
    int64_t updated_at;
    int64_t closed_at; /* 0 while open */
    bool enhanced;     /* the victim is entitled to the shorter duties */
    const char *team;  /* the team working the case, or NULL */
    store_person person;
} store_case;

typedef struct store_event {
    int64_t id;
    int64_t case_id;
    /* "opened", "stage_change", "public_note", "internal_note", "message", "feedback" */
    const char *type;
    const char *from_stage; /* stage_change only */
    const char *stage;      /* the case's stage after the event */
    const char *body;       /* note, message or feedback comment; may be NULL */
    int rating;             /* feedback 1..5, else 0 */
    bool public_;           /* shown on the citizen's timeline */
    const char *actor;      /* staff name, key label or "citizen" */
    int64_t created_at;
    /* Who did it, for the public log's pseudonym: a staff user or an API
     * key (0 for the citizen or the platform). Written, never read back. */
    int64_t user_id;
    int64_t key_id;
    int64_t log_index; /* set by the append, and read back: its entry in the public log, or -1 */
    /* Input only: notifications the event causes, written in its
     * transaction (see store_notice below). */
    const struct store_notice *notices;
    size_t n_notices;
} store_event;

/* One showing of a person's data to a reader, through their case: written
 * before the data leaves the server and never changed. The reader's
 * organisation is kept apart from the case's, so that a read of another
 * organisation's case (a shared case, with its purpose) fits as it is. */
typedef struct store_access {
    int64_t id;
    int64_t case_id;
    int64_t case_org_id;         /* set by the store, from the case */
    int64_t reader_org_id;       /* the reader's organisation */
    const char *reader_org_name; /* read back only */
    int64_t user_id;             /* a staff user, or 0 */
    int64_t key_id;              /* a system's API key, or 0; exactly one of the two is set */
    const char *reader_name;     /* the user's name or the key's label, as it was */
    const char *role;            /* the reader's role */
    const char *action;          /* "read", "list" or "write" (a write's response) */
    const char *purpose;         /* 1..200 characters */
    int64_t at;
    int64_t log_index; /* read back: the access's entry in the public log, or -1 */
} store_access;

/* What a request posted through Open311 carries besides the case; every
 * field but token and attributes_json may be NULL. */
typedef struct store_open311_request {
    const char *token; /* unique across the deployment */
    const char *description;
    const char *lat; /* validated decimal text */
    const char *lon;
    const char *address_string;
    const char *address_id;
    const char *media_url;
    const char *attributes_json; /* an object: attribute code -> string or array */
    const char *device_id;
    const char *account_id;
} store_open311_request;

/* A new case. `idempotency_key` may be NULL; when set and already used by the
 * same organisation, no case is made and the earlier case is returned with
 * *existed = true. The "opened" event is written in the same transaction, and
 * so is `access` when it is not NULL and the case returned, new or earlier,
 * has a person (its case_id is ignored). STORE_UNAVAILABLE when only the
 * access could not be written. */
typedef struct store_case_new {
    int64_t org_id;
    int64_t service_id;
    const char *reference;
    const char *stage;
    const char *summary;
    const unsigned char *secret_hash; /* 32 bytes */
    const char *idempotency_key;
    const char *actor;
    int64_t actor_user_id; /* who opened it, for the public log: a user, */
    int64_t actor_key_id;  /* or an API key, or neither (0, 0) */
    store_person person;
    int64_t now;
    const store_access *access; /* NULL: none; store_case_import ignores it */
    /* Written with a new case (not with an earlier one found by its key);
     * NULL: none. store_case_import ignores it. */
    const store_open311_request *open311;
    bool enhanced;
    const char *team; /* NULL: none */
    /* Duties the initial stage triggers, opened with the "opened" event;
     * ignored when the case existed, and by store_case_import. */
    const struct store_duty_new *duties;
    size_t n_duties;
    /* The person's notification preferences and the notifications the
     * opening causes, written in the case's transaction when the case is
     * new; NULL / 0 for none. store_case_import ignores them. */
    const struct store_prefs *prefs;
    const struct store_notice *notices;
    size_t n_notices;
} store_case_new;

store_rc store_case_create(store *s, arena *a, const store_case_new *in, store_case *out,
                           bool *existed);

/* A case by reference. org_id > 0 restricts to that organisation (a case of
 * another organisation is STORE_NOT_FOUND); org_id == 0 is the public look-up. */
store_rc store_case_get(store *s, arena *a, int64_t org_id, const char *reference, store_case *out);

/* A case's events, oldest first; only public ones when public_only. */
store_rc store_case_events(store *s, arena *a, int64_t case_id, bool public_only, store_event **out,
                           size_t *n);

typedef struct store_case_filter {
    int64_t org_id;           /* required */
    const char *service_code; /* NULL: any */
    const char *stage;        /* NULL: any */
    int64_t opened_from;      /* 0: unbounded; inclusive */
    int64_t opened_to;        /* 0: unbounded; exclusive */
    const char *text;         /* NULL: any; matched in reference and summary */
    /* The cursor: only cases after (opened_at, id) = (before_opened_at,
     * before_id) in the list's order; before_id == 0 is the first page. */
    int64_t before_opened_at;
    int64_t before_id;
    int limit; /* 1..200 */
} store_case_filter;

/* Most recently opened first (ties by id). *more is true when another page exists after the last
 * row. */
store_rc store_case_list(store *s, arena *a, const store_case_filter *f, store_case **out,
                         size_t *n, bool *more);

/* Appends an event to a case. When ev->type is "stage_change", the case moves
 * from ev->from_stage to ev->stage only if it is still at ev->from_stage
 * (STORE_CONFLICT otherwise), and `closes` sets closed_at = ev->created_at.
 * A public stage change or public note meets, in the same transaction, every
 * duty of the case still unmet (see store_event_append_duties). Sets ev->id. */
store_rc store_event_append(store *s, int64_t case_id, store_event *ev, bool closes);

/* One stage a case may be moved from, in one service: see store_case_move. */
typedef struct store_move_from {
    int64_t service_id;
    const char *stage;
} store_move_from;

/* A stage change made without reading the case first, so in one round trip
 * where the database is across a network: the open case `reference` of
 * organisation org_id moves to ev->stage, as store_event_append would move
 * it, if its service and stage are one of from[0..n). The caller offers
 * only moves that need nothing else written: ev is a stage change that is
 * not public, closes nothing and opens no duty (STORE_ERROR otherwise).
 * Sets ev->case_id, ev->from_stage (the stage left, in `a`) and ev->id, and
 * *out to the case after the move without its service code or person.
 * STORE_NOT_FOUND when no such case stood at one of those stages: read it to
 * learn why. A backend may commit the moves of callers who arrive together
 * in one transaction; each call returns once its own move is durable. */
store_rc store_case_move(store *s, arena *a, int64_t org_id, const char *reference,
                         const store_move_from *from, size_t n, store_event *ev, store_case *out);

/* Replaces the tracking secret's hash (the citizen lost the secret). */
store_rc store_case_set_secret(store *s, int64_t case_id, const unsigned char hash[32]);

/* Durations (closed_at - opened_at) of the `limit` most recently closed cases
 * of a service. */
store_rc store_service_durations(store *s, arena *a, int64_t service_id, int limit, int64_t **out,
                                 size_t *n);

/* ---- access records ---- */

/* Records accesses[0..n) in one transaction: all of them or none, and sets
 * their ids. STORE_NOT_FOUND when a case_id names no case; any other failure
 * is STORE_UNAVAILABLE, whatever its cause, because a caller that cannot
 * record an access must withhold the data. */
store_rc store_access_record(store *s, store_access *accesses, size_t n);

/* The accesses of a case, newest first (by time, then by id), with the
 * reader's organisation's name; one indexed query. */
store_rc store_case_accesses(store *s, arena *a, int64_t case_id, store_access **out, size_t *n);

/* ---- public tracking ---- */

/* What a public look-up reads: the case (as store_case_get with org_id ==
 * 0), its public events oldest first (store_case_events) and its accesses
 * newest first (store_case_accesses), in one call, so that a backend with a
 * network between it and the data can fetch them in one round trip. */
typedef struct store_tracking {
    store_case c;
    store_event *events;
    size_t n_events;
    store_access *accesses;
    size_t n_accesses;
} store_tracking;

store_rc store_case_tracking(store *s, arena *a, const char *reference, store_tracking *out);

/* Bulk import for demo data, benchmarks and migrations: writes whole cases
 * with their events in one transaction. Each case's events are in
 * events[i][0..n_events[i]); event case ids are ignored. */
store_rc store_case_import(store *s, const store_case_new *cases, const store_event *const *events,
                           const size_t *n_events, const int64_t *closed_at, size_t n);

/* ---- copying a deployment ---- */

/* A row count and a SHA-256 over every row of one table, ordered by its
 * primary key. Each row is rendered canonically, column by column in a fixed
 * order: 'N' for NULL, 'i' and eight big-endian bytes for an integer (a
 * boolean is 0 or 1), 't' or 'b' and an eight-byte big-endian length before
 * the bytes of a text or a blob; so equal sums mean equal rows whichever
 * database holds them. */
typedef struct store_table_sum {
    const char *table;
    int64_t rows;
    unsigned char sha256[32];
} store_table_sum;

/* The tables a copy covers, in the order their references need. */
size_t store_table_count(void);
const char *store_table_name(size_t i);

/* Opens a database to read only: one connection, no migration. A database
 * whose schema is not this build's latest is refused (err says why), since
 * its tables would not be the ones the copy knows. */
store_rc store_open_readonly(const char *uri, store **out, char *err, size_t errlen);

/* Copies every table of `from` into `to`, keeping ids. `from` is read in one
 * snapshot, so a server may keep writing to it meanwhile; `to` is written in
 * one transaction, all of it or nothing, and its id sequences are moved past
 * the copied ids. `to` must hold no rows but settings (the secret key `opencase init`
 * makes, replaced by the source's): STORE_CONFLICT otherwise. A table
 * in either database that the copy does not know is refused too, so that
 * nothing is left behind. sums[0..store_table_count()) receive the sums of
 * the rows read. On failure err holds a sentence. */
store_rc store_copy(store *from, store *to, store_table_sum *sums, char *err, size_t errlen);

/* The sums of every table of `s`, read in one snapshot. */
store_rc store_checksum(store *s, store_table_sum *sums, char *err, size_t errlen);

/* ---- the public log ----
 *
 * Every write above that records a transaction appends its entries to the
 * public log (tlog/entry.h): the opened event, each event, each access. On
 * SQLite the entry is appended in the write's own transaction. On PostgreSQL
 * the write queues it, in its own transaction, and the sequencer
 * (store_log_sequence) appends it after commit, so no writer waits for
 * another's append; until then the event's or access's log_index is -1.
 * Entries get consecutive indexes, across every instance sharing the
 * database. Node hashes of the Merkle tree are stored as entries are
 * appended, so the reads below cost a few indexed reads whatever the log's
 * size.
 */

/* Whether this backend queues entries, so that store_log_sequence must run
 * (a server runs it on a thread: api/background.h). */
bool store_log_queues(store *s);
/* The most entries one store_log_sequence appends. */
#define STORE_LOG_BATCH 512

/* Appends up to a batch of queued entries, in queue order, in one transaction
 * under a database-wide lock, so one instance sequences at a time; sets *n to
 * how many. With `wait`, waits for another instance's sequencing to end;
 * without, sets *n to 0 at once when another holds the lock. 0 on a backend
 * that does not queue. */
store_rc store_log_sequence(store *s, bool wait, size_t *n);
/* Sequences until the queue is empty: every entry of a change committed
 * before the call has an index when it returns STORE_OK. */
store_rc store_log_sequence_all(store *s);

/* The number of entries committed. */
store_rc store_log_size(store *s, uint64_t *size);
/* How many changes are committed whose entries the sequencer has still to
 * append; always 0 on a backend that appends them inline. A count that
 * keeps growing means no instance is sequencing. */
store_rc store_log_queued(store *s, uint64_t *n);

/* The root of the first `size` entries (size <= the log's size). */
store_rc store_log_root(store *s, uint64_t size, merkle_hash *root);
/* Proofs from the stored hashes (merkle.h); STORE_NOT_FOUND when a size is
 * beyond the log. proof needs room for MERKLE_PROOF_MAX hashes. */
store_rc store_log_inclusion(store *s, uint64_t index, uint64_t size, merkle_hash *proof,
                             size_t *len);
store_rc store_log_consistency(store *s, uint64_t m, uint64_t n, merkle_hash *proof, size_t *len);
/* Appends the hashes of hash tile t, which must exist in the log as it is
 * (tile_width of the log's size at least t->width); STORE_NOT_FOUND if not. */
store_rc store_log_tile(store *s, const tile *t, buf *out);

typedef struct store_log_row {
    uint64_t index;
    const uint8_t *entry; /* the canonical JSON, not NUL-terminated */
    size_t entry_len;
    const uint8_t *hashes; /* the leaf hash, then the subtrees it completed */
    size_t nhashes;        /* 32-byte hashes at `hashes`, at least 1 */
} store_log_row;

/* Up to `limit` entries from index `from` on, in order. */
store_rc store_log_entries(store *s, arena *a, uint64_t from, size_t limit, store_log_row **out,
                           size_t *n);

/* Appends entries[0..n) in one transaction of their own: for bulk loads
 * (benchmarks, imports) and for writes that have nothing else to record.
 * Sets first_index to the first one's index when not NULL. */
store_rc store_log_import(store *s, const tlog_entry *entries, size_t n, uint64_t *first_index);

/* Signed checkpoints (a signed note's text), one per tree size. Saving a size
 * already saved keeps the first (signatures are deterministic, so instances
 * with the same key sign the same note). */
store_rc store_log_checkpoint_put(store *s, uint64_t size, const char *note, int64_t at);
/* The checkpoint of the largest size <= at_most; STORE_NOT_FOUND if none. */
store_rc store_log_checkpoint_get(store *s, arena *a, uint64_t at_most, uint64_t *size,
                                  const char **note);

/* ---- Open311 ---- */

/* The only organisation of the deployment: STORE_NOT_FOUND when there is
 * none, STORE_CONFLICT when there are several. */
store_rc store_org_sole(store *s, arena *a, store_org *out);

/* A case as Open311 shows it: no personal data. `has_request` tells whether
 * it was posted through Open311 and `request` holds what was posted. */
typedef struct store_open311_case {
    int64_t id;
    int64_t service_id;
    const char *reference;
    const char *stage;
    int64_t opened_at;
    int64_t updated_at;
    int64_t closed_at;
    bool has_request;
    store_open311_request request;
} store_open311_case;

typedef struct store_open311_filter {
    int64_t org_id;
    /* A JSON array of "<service id>:<stage code>" strings: only cases of
     * those services at those stages. */
    const char *service_stages_json;
    int64_t opened_from; /* inclusive */
    int64_t opened_to;   /* exclusive */
    int limit;           /* 1..STORE_OPEN311_MAX */
} store_open311_filter;

#define STORE_OPEN311_MAX 1000

/* Most recently opened first (ties by id). */
store_rc store_open311_cases(store *s, arena *a, const store_open311_filter *f,
                             store_open311_case **out, size_t *n);
/* The organisation's case by its reference, or by the token of its Open311
 * request when `token` is not NULL (reference is then ignored). */
store_rc store_open311_case_get(store *s, arena *a, int64_t org_id, const char *reference,
                                const char *token, store_open311_case *out);

/* A public event of a case as the request-updates extension shows it. */
typedef struct store_open311_update {
    int64_t id;
    int64_t service_id;
    const char *reference;
    const char *type; /* "stage_change" or "public_note" */
    const char *stage;
    const char *body; /* may be NULL */
    int64_t created_at;
} store_open311_update;

/* The public stage changes and notes of the organisation's cases of the
 * services in `service_ids_json` (a JSON array of ids) made in [from, to),
 * oldest first (ties by id), at most `limit` (1..STORE_OPEN311_MAX). */
store_rc store_open311_updates(store *s, arena *a, int64_t org_id, const char *service_ids_json,
                               int64_t from, int64_t to, int limit, store_open311_update **out,
                               size_t *n);

/* ---- update duties ---- */

/* A duty instance to open: its code, the working days it allows and when it
 * falls due, worked out by the domain (duty.h). */
typedef struct store_duty_new {
    const char *duty;
    int days;
    int64_t due_at;
} store_duty_new;

/* An instance of a service's duty on a case. */
typedef struct store_duty {
    int64_t id;
    int64_t case_id;
    const char *reference; /* the case's */
    int64_t service_id;
    const char *service_code; /* the case's service */
    const char *team;         /* the case's team, or NULL */
    bool enhanced;            /* the case's flag, as it is now */
    const char *duty;
    int64_t event_id; /* the move that triggered it */
    int64_t triggered_at;
    int days;
    int64_t due_at;
    int64_t met_at;       /* 0 while unmet */
    const char *met_by;   /* "update" or "delivery"; NULL while unmet */
    int64_t met_event_id; /* the update, or the event whose notification was delivered */
} store_duty;

/* store_event_append, opening duties[0..n) triggered by the event in
 * its transaction (each with the event's id and time, and the case's
 * organisation and service). Before they are opened, a public stage change
 * or public note meets every unmet duty of the case, at ev->created_at, as
 * met by "update": so the move that triggers a duty never meets it itself. */
store_rc store_event_append_duties(store *s, int64_t case_id, store_event *ev, bool closes,
                                   const store_duty_new *duties, size_t n);

/* A case's duty instances, oldest first. */
store_rc store_case_duties(store *s, arena *a, int64_t case_id, store_duty **out, size_t *n);

/* A new due time for an unmet instance, after the case's flag changed. */
typedef struct store_duty_retime {
    int64_t id;
    int days;
    int64_t due_at;
} store_duty_retime;

/* Sets the case's enhanced flag and team (NULL: none) and, in the same
 * transaction, re-times the instances of retimes[0..n) of this case that are
 * still unmet. STORE_NOT_FOUND when there is no such case. */
store_rc store_case_set_flags(store *s, int64_t case_id, bool enhanced, const char *team,
                              const store_duty_retime *retimes, size_t n, int64_t at);

/* A notification about event `event_id` of the case was delivered at `at`:
 * meets, as by "delivery", every unmet duty of the case triggered by that
 * event or an earlier one. Backends also offer this inside another write's
 * transaction (duties_meet in store_sqlite.c and store_pg.c) for the outbox
 * to call when it records a delivery. */
store_rc store_duty_met_by_delivery(store *s, int64_t case_id, int64_t event_id, int64_t at);

/* The public log's "duty missed": up to `max` duties whose due time is
 * before `now` and that are still unmet and not yet swept are marked and
 * logged as duty_missed (at their due time), in one transaction; *n says how
 * many. Nothing else writes when a due time passes, so a server sweeps
 * every few seconds (api/background.h). Sweeps of several instances may
 * overlap: each duty is logged once. A duty met late afterwards is logged
 * again as met_late. */
store_rc store_duty_sweep(store *s, int64_t now, size_t max, size_t *n);

/* Which unmet duties a worklist shows, at `now`. */
typedef enum {
    STORE_DUTIES_OPEN,   /* every unmet duty */
    STORE_DUTIES_DUE,    /* unmet, due time not passed */
    STORE_DUTIES_MISSED, /* unmet, due time passed */
} store_duty_which;

typedef struct store_duty_filter {
    int64_t org_id;           /* required */
    const char *service_code; /* NULL: any */
    const char *team;         /* NULL: any */
    store_duty_which which;
    int64_t now;
    /* The cursor: only duties after (due_at, id) = (after_due_at, after_id)
     * in the list's order; after_id == 0 is the first page. */
    int64_t after_due_at;
    int64_t after_id;
    int limit; /* 1..200 */
} store_duty_filter;

/* Unmet duties, soonest due first (ties by id); *more when another page
 * exists after the last row. */
store_rc store_duty_worklist(store *s, arena *a, const store_duty_filter *f, store_duty **out,
                             size_t *n, bool *more);

/* Duties of one service that fell due in a window, by outcome. */
typedef struct store_duty_count {
    const char *service_code;
    int64_t met;      /* met_at <= due_at */
    int64_t met_late; /* met_at > due_at */
    int64_t missed;   /* unmet */
} store_duty_count;

/* For each service of the organisation (or only `service_code` when not
 * NULL) with duties due in [from, to) and before `now`, their counts; by
 * service code. */
store_rc store_duty_compliance(store *s, arena *a, int64_t org_id, const char *service_code,
                               int64_t from, int64_t to, int64_t now, store_duty_count **out,
                               size_t *n);

/* An organisation's choice of bank-holiday calendar. */
typedef struct store_calendar {
    int64_t org_id;
    const char *calendar; /* the name of one that ships, or "custom" */
    const char *holidays; /* the text of a custom calendar; NULL otherwise */
    int64_t updated_at;
} store_calendar;

/* STORE_NOT_FOUND when the organisation has not chosen one. */
store_rc store_org_calendar_get(store *s, arena *a, int64_t org_id, store_calendar *out);
/* Replaces the organisation's choice (updated_at is the caller's). */
store_rc store_org_calendar_set(store *s, const store_calendar *c);
/* ---- appeals for witnesses ---- */

/* An appeal. The true location (true_lat, true_lon) is restricted to the
 * organisation's staff: the public reads (store_appeal_public_get,
 * store_appeal_search) never select it and leave it zero. Coordinates are
 * in 1e-7 degree (geo.h). */
typedef struct store_appeal {
    int64_t id;
    int64_t org_id;
    const char *org_slug; /* read back only */
    const char *org_name; /* read back only */
    int64_t case_id;
    const char *case_reference; /* read back only, staff reads */
    const char *status;         /* "draft", "published" or "closed" */
    const char *title;
    const char *description;
    const char *category;
    int64_t occurred_from;
    int64_t occurred_to; /* 0: a moment */
    const char *contact;
    const char *anonymous_contact; /* may be NULL */
    int64_t expires_at;
    int32_t true_lat;
    int32_t true_lon;
    int32_t pub_lat;
    int32_t pub_lon;
    const char *precision; /* "exact" or "grid" */
    int32_t cell_m;        /* grid only, else 0 */
    const char *outcome;   /* closed only */
    int64_t created_at;
    int64_t updated_at;
    int64_t published_at;
    int64_t closed_at;
    int64_t answers; /* the number of answers, staff reads only */
    /* The member of staff answers are told to, a user of the organisation;
     * 0: none, and the organisation's administrators are told. Staff reads
     * only, like the true location. */
    int64_t officer_id;
} store_appeal;

/* A new draft of a case of a->org_id (STORE_NOT_FOUND when the case is not
 * that organisation's); sets id, status, created_at and updated_at. */
store_rc store_appeal_create(store *s, store_appeal *a);
/* Replaces the editable fields, officer_id among them, of (org_id, id) while
 * it is a draft: STORE_NOT_FOUND when there is no such appeal, STORE_CONFLICT
 * when it is no longer a draft. Sets updated_at. */
store_rc store_appeal_update(store *s, store_appeal *a);
/* Hands (org_id, id), a draft or published appeal, to officer_id (0: none)
 * at `at`: STORE_NOT_FOUND when there is no such appeal, STORE_CONFLICT when
 * it is closed. */
store_rc store_appeal_set_officer(store *s, int64_t org_id, int64_t id, int64_t officer_id,
                                  int64_t at);
/* An appeal of org_id, with its true location. */
store_rc store_appeal_get(store *s, arena *a, int64_t org_id, int64_t id, store_appeal *out);
/* A published or closed appeal, without the true location; drafts are
 * STORE_NOT_FOUND. */
store_rc store_appeal_public_get(store *s, arena *a, int64_t id, store_appeal *out);

/* Moves (org_id, id) from status `from` to `to` at ev->created_at, setting
 * published_at or closed_at and, when closing, `outcome`; and appends `ev`
 * to the appeal's case in the same transaction. STORE_CONFLICT when the
 * appeal is no longer at `from`. Sets ev->id. */
store_rc store_appeal_transition(store *s, int64_t org_id, int64_t id, const char *from,
                                 const char *to, const char *outcome, store_event *ev);

/* The organisation's appeals, drafts included, newest first (by created_at,
 * then id); `status` NULL for any. The cursor is the last row's
 * (created_at, id); before_id == 0 starts. */
typedef struct store_appeal_staff_filter {
    int64_t org_id;
    const char *status;
    int64_t before_created_at;
    int64_t before_id;
    int limit; /* 1..200 */
} store_appeal_staff_filter;

store_rc store_appeal_staff_list(store *s, arena *a, const store_appeal_staff_filter *f,
                                 store_appeal **out, size_t *n, bool *more);

/* The public search: published appeals that have not expired at `now`,
 * newest first (by published_at, then id). */
typedef struct store_appeal_search_filter {
    int64_t now;
    bool has_box; /* the public location within the box, edges included */
    int32_t min_lon, min_lat, max_lon, max_lat;
    bool has_circle; /* and within radius_m metres of the centre */
    int32_t centre_lat, centre_lon;
    int32_t radius_m;
    int64_t org_id;         /* 0: any */
    const char *category;   /* NULL: any */
    int64_t published_from; /* inclusive; 0: unbounded */
    int64_t published_to;   /* exclusive; 0: unbounded */
    int64_t before_published_at;
    int64_t before_id; /* 0: the first page */
    int limit;         /* 1..2000 */
} store_appeal_search_filter;

store_rc store_appeal_search(store *s, arena *a, const store_appeal_search_filter *f,
                             store_appeal **out, size_t *n, bool *more);

/* An answer to an appeal. A named answerer has a person and a secret (its
 * hash) to look the receipt up with; an anonymous one has neither. */
typedef struct store_answer {
    int64_t id;
    int64_t appeal_id;
    const char *appeal_title; /* read back only */
    const char *receipt;      /* canonical reference text, unique */
    unsigned char secret_hash[32];
    const char *saw;
    const char *seen_when; /* may be NULL */
    bool has_point;
    int32_t seen_lat;
    int32_t seen_lon;
    bool anonymous;
    const char *channel; /* "email" or "phone"; named answers only */
    store_person person; /* named answers only */
    int64_t created_at;
    int64_t first_read_at; /* 0 until staff of the organisation read it */
} store_answer;

/* What telling staff of an answer to an appeal needs: the appeal's
 * organisation, title and case, and its officer. No location, and nothing of
 * any answer. */
typedef struct store_appeal_staff {
    int64_t id;
    int64_t org_id;
    const char *org_name;
    const char *title;
    int64_t case_id;
    const char *case_reference;
    const char *service_code; /* the case's service */
    store_user officer;       /* id 0: none; no password hash */
} store_appeal_staff;

/* The staff side of a published or closed appeal, for the handler that
 * records an answer to it; drafts are STORE_NOT_FOUND, as for the public. */
store_rc store_appeal_staff_get(store *s, arena *a, int64_t id, store_appeal_staff *out);

/* Records an answer to an appeal that is published and unexpired at
 * ans->created_at, with its person, and appends `ev` to the appeal's case,
 * all in one transaction; so are ev->notices, the notifications that tell
 * staff of it (see store_notice). STORE_NOT_FOUND: no such published appeal;
 * STORE_CONFLICT: it is closed or expired; STORE_DUPLICATE: the receipt is
 * taken (draw another). Sets ans->id and ev->id. */
store_rc store_answer_create(store *s, store_answer *ans, store_event *ev);

/* The answers to (org_id, appeal_id), newest first, after before_id when it
 * is not 0, at most `limit`; a write, since it records `reader` (its
 * case_id and action are ignored) as a read of every named answer returned
 * and stamps first_read_at on those unread, durably before returning. Any
 * failure to record is STORE_UNAVAILABLE; STORE_NOT_FOUND when the appeal
 * is not the organisation's. */
store_rc store_answer_list(store *s, arena *a, int64_t org_id, int64_t appeal_id, int64_t before_id,
                           int limit, const store_access *reader, store_answer **out, size_t *n,
                           bool *more);

/* The answer with this receipt, with its appeal's title; no person. */
store_rc store_answer_by_receipt(store *s, arena *a, const char *receipt, store_answer *out);

/* Every organisation, by name: what the public list of appeals can be
 * filtered by. */
store_rc store_appeal_orgs(store *s, arena *a, store_org **out, size_t *n);

/* The reads of a named answer, newest first, as access records (case_id 0,
 * action "read"), with the reader's organisation's name. */
store_rc store_answer_reads(store *s, arena *a, int64_t answer_id, store_access **out, size_t *n);

/* ---- notifications ---- */

/* A person's notification preferences (domain/notice.h gives the meaning). */
typedef struct store_prefs {
    const char *channels;  /* comma-separated: email, sms, post, phone; "" for none */
    const char *language;  /* "en" or "cy" */
    const char *frequency; /* "every", "milestones" or "none" */
    int64_t updated_at;
} store_prefs;

/* The preferences of a case's person: STORE_NOT_FOUND when none were stated
 * (or the case has no person). */
store_rc store_prefs_get(store *s, arena *a, int64_t case_id, store_prefs *out);
/* Sets them, as the person's own choice (only they change them after the
 * case is opened), appending consent_changed by the citizen to the public
 * log in the same transaction; STORE_NOT_FOUND when the case has no
 * person. */
store_rc store_prefs_set(store *s, int64_t case_id, const store_prefs *p);

/* A service's template for a kind ("stage_reached", "public_note",
 * "duty_reminder") and language; checked by the domain before it is stored. */
typedef struct store_template {
    int64_t service_id;
    const char *kind;
    const char *language;
    const char *subject;
    const char *body;
    int64_t updated_at;
} store_template;

/* Creates or replaces (service_id, kind, language). */
store_rc store_template_set(store *s, const store_template *t);
store_rc store_template_get(store *s, arena *a, int64_t service_id, const char *kind,
                            const char *language, store_template *out);
/* A service's templates by kind, then language. */
store_rc store_template_list(store *s, arena *a, int64_t service_id, store_template **out,
                             size_t *n);

/* A system subscribed to an organisation's events. */
typedef struct store_webhook {
    int64_t id;
    int64_t org_id;
    const char *url;
    const char *secret; /* the signing secret */
    int64_t created_at;
} store_webhook;

/* Sets w->id. */
store_rc store_webhook_create(store *s, store_webhook *w);
/* The organisation's active subscriptions, by id. */
store_rc store_webhook_list(store *s, arena *a, int64_t org_id, store_webhook **out, size_t *n);
/* Ends a subscription; its undelivered notifications fail with that reason.
 * STORE_NOT_FOUND when the organisation has no such active subscription. */
store_rc store_webhook_remove(store *s, int64_t org_id, int64_t id);

/* One notification: a message in the outbox, or a task for staff. */
typedef struct store_notice {
    int64_t id;
    int64_t org_id;
    int64_t case_id;       /* 0: none */
    int64_t webhook_id;    /* the subscription, for the "webhook" channel */
    const char *kind;      /* a template kind, appeal_answer, or the webhook's event */
    const char *channel;   /* "email", "sms", "post", "phone" or "webhook" */
    const char *recipient; /* address, number, postal address or URL */
    const char *subject;   /* may be NULL */
    const char *body;
    /* "pending", "delivered", "failed"; a task (post, phone) is "open", then
     * "done". On insert, NULL is "open" for post and phone, else "pending". */
    const char *status;
    int attempts;
    int64_t next_at;
    int64_t created_at;
    int64_t delivered_at; /* 0 until delivered or done */
    const char *last_error;
    /* A message to the organisation's own staff (an answer to an appeal, say)
     * rather than to the case's person: it carries none of the person's data
     * and tells them nothing, so showing it is no access to their data and
     * delivering it meets no duty (store_notice_result and
     * store_notice_delivered). */
    bool to_staff;
    /* Read back only. */
    const char *reference; /* the case's, when there is one */
    const char *secret;    /* the webhook's signing secret, for the worker */
} store_notice;

/* Writes notices[0..n) on their own (a reminder, not an event's). */
store_rc store_notice_add(store *s, const store_notice *notices, size_t n);

/* Claims up to `max` pending notifications on `channel` due at `now`, the
 * longest due first, leasing them until now + lease_s: no other caller (in
 * this or another process) claims them before the lease ends, and an
 * expired lease (a crashed worker) makes them claimable again. Each claim
 * counts an attempt; out[i].attempts is the attempt being made. One indexed
 * look-up, however many notifications wait on other channels. */
store_rc store_notice_claim(store *s, arena *a, const char *channel, int64_t now, int lease_s,
                            int max, store_notice **out, size_t *n);

typedef enum { NOTICE_DELIVERED, NOTICE_RETRY, NOTICE_FAILED } store_outcome;

/* Records the outcome of attempt `attempt` of notification `id` and its
 * reason (NULL when delivered): delivered and failed are final; a retry is
 * due again at next_at. STORE_CONFLICT when the lease was lost (the row was
 * claimed again meanwhile): the attempt is still recorded. A delivery to the
 * person (not a webhook, not to staff) of a notification an event caused
 * meets, in the same transaction and at `now`, the case's duties that event
 * or an earlier one triggered (as store_duty_met_by_delivery), and appends
 * notification_sent (its channel) and duty_met entries to the public log. */
store_rc store_notice_result(store *s, int64_t id, int attempt, store_outcome outcome,
                             const char *reason, int64_t now, int64_t next_at);

/* An organisation's notifications in one state ("pending", "failed",
 * "delivered", "open" or "done"), newest first, at most `limit`; with
 * before_id > 0 only those with a smaller id. */
store_rc store_notice_list(store *s, arena *a, int64_t org_id, const char *status,
                           int64_t before_id, int limit, store_notice **out, size_t *n);

typedef struct store_attempt {
    int64_t at;
    const char *outcome; /* "delivered", "retry" or "failed" */
    const char *reason;  /* NULL when delivered */
} store_attempt;

/* One notification of the organisation with its attempts, oldest first. */
store_rc store_notice_get(store *s, arena *a, int64_t org_id, int64_t id, store_notice *out,
                          store_attempt **attempts, size_t *n);

/* Marks an open task of the organisation done at `now`, meeting duties and
 * logging as a delivery does (store_notice_result); STORE_NOT_FOUND when there is no such
 * open task. */
store_rc store_task_done(store *s, int64_t org_id, int64_t id, int64_t now);

/* For update duties: the first time at or after `since` that a notification
 * to the case's person (any channel but webhooks; not to staff) was
 * delivered, or its task done; STORE_NOT_FOUND when none was. */
store_rc store_notice_delivered(store *s, int64_t case_id, int64_t since, int64_t *at);

#endif
