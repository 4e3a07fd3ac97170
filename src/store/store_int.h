/* store_int.h - the table each storage backend fills in, private to src/store.
 *
 * store.c owns the store handle and forwards every public call through the
 * backend's table, so that one binary serves either database and the choice
 * is the database URI's alone. Each function has the meaning and the
 * ownership rules of its store.h namesake; `impl` is what the backend's open
 * returned.
 */
#ifndef OC_STORE_INT_H
#define OC_STORE_INT_H

#include "store/store.h"

/* The tables a copy covers, in dependency order, each with its columns in
 * the canonical order of store_table_sum; the first column is the primary
 * key, by which rows are read. Integer ids are kept by the copy. */
typedef enum { STORE_COL_INT, STORE_COL_BOOL, STORE_COL_TEXT, STORE_COL_BLOB } store_col_kind;

#define STORE_COLUMNS_MAX 24

typedef struct store_table {
    const char *name;
    size_t ncolumns;
    const char *columns[STORE_COLUMNS_MAX];
    store_col_kind kinds[STORE_COLUMNS_MAX];
    bool identity; /* the key is an id drawn from a sequence */
    /* The target may hold rows here before a copy (`opencase init` makes the
     * secret key): while every other table is empty, nothing was derived
     * from them, and the copy replaces them with the source's. */
    bool replace;
} store_table;

extern const store_table store_tables[];
extern const size_t store_tables_count;

/* One column's value: `null`, else `i` (INT, BOOL as 0 or 1) or the `len`
 * bytes at `p` (TEXT, BLOB), borrowed for the duration of the callback. */
typedef struct store_value {
    bool null;
    int64_t i;
    const void *p;
    size_t len;
} store_value;

typedef store_rc (*store_row_fn)(void *ctx, const store_value *row);

/* Whether `name` is one of store_tables or the backend's version table. */
bool store_table_known(const char *name);

/* Whether ev is a public update (a public move or note): what meets a case's
 * open duties, in every backend. */
bool store_event_meets_duties(const store_event *ev);

typedef struct store_ops {
    store_rc (*open)(const char *uri, int pool_size, void **impl, char *err, size_t errlen);
    void (*close)(void *impl);
    int (*schema_version)(void *impl);
    store_rc (*secret_key)(void *impl, unsigned char key[32]);

    store_rc (*org_create)(void *impl, const char *slug, const char *name, int64_t *id);
    store_rc (*org_by_slug)(void *impl, arena *a, const char *slug, store_org *out);
    store_rc (*org_by_id)(void *impl, arena *a, int64_t id, store_org *out);

    store_rc (*service_create)(void *impl, store_service *svc);
    store_rc (*service_update)(void *impl, const store_service *svc);
    store_rc (*service_get)(void *impl, arena *a, int64_t org_id, const char *code,
                            store_service *out);
    store_rc (*service_by_id)(void *impl, arena *a, int64_t id, store_service *out);
    store_rc (*service_list)(void *impl, arena *a, int64_t org_id, store_service **out, size_t *n);

    store_rc (*user_create)(void *impl, store_user *u);
    store_rc (*user_by_email)(void *impl, arena *a, const char *email, store_user *out);
    store_rc (*user_get)(void *impl, arena *a, int64_t org_id, int64_t id, store_user *out);
    store_rc (*user_list)(void *impl, arena *a, int64_t org_id, const char *role, store_user **out,
                          size_t *n);
    store_rc (*session_create)(void *impl, const unsigned char hash[32], int64_t user_id,
                               int64_t expires_at);
    store_rc (*session_get)(void *impl, arena *a, const unsigned char hash[32], int64_t now,
                            store_principal *out);
    store_rc (*session_delete)(void *impl, const unsigned char hash[32]);
    store_rc (*key_create)(void *impl, int64_t org_id, const char *label, const char *role,
                           const unsigned char hash[32], int64_t *id);
    store_rc (*key_get)(void *impl, arena *a, const unsigned char hash[32], store_principal *out);
    store_rc (*key_list)(void *impl, arena *a, int64_t org_id, store_key **out, size_t *n);
    store_rc (*key_revoke)(void *impl, int64_t org_id, int64_t id, int64_t at);

    store_rc (*case_create)(void *impl, arena *a, const store_case_new *in, store_case *out,
                            bool *existed);
    store_rc (*case_get)(void *impl, arena *a, int64_t org_id, const char *reference,
                         store_case *out);
    store_rc (*case_events)(void *impl, arena *a, int64_t case_id, bool public_only,
                            store_event **out, size_t *n);
    store_rc (*case_list)(void *impl, arena *a, const store_case_filter *f, store_case **out,
                          size_t *n, bool *more);
    store_rc (*event_append)(void *impl, int64_t case_id, store_event *ev, bool closes);
    /* NULL: store.c reads the case, checks it and appends the event. */
    store_rc (*case_move)(void *impl, arena *a, int64_t org_id, const char *reference,
                          const store_move_from *from, size_t n, store_event *ev, store_case *out);
    store_rc (*case_set_secret)(void *impl, int64_t case_id, const unsigned char hash[32]);
    store_rc (*service_durations)(void *impl, arena *a, int64_t service_id, int limit,
                                  int64_t **out, size_t *n);

    store_rc (*access_record)(void *impl, store_access *accesses, size_t n);
    store_rc (*case_accesses)(void *impl, arena *a, int64_t case_id, store_access **out, size_t *n);
    /* Optional: without it, store_case_tracking makes the three calls it
     * stands for. */
    store_rc (*case_tracking)(void *impl, arena *a, const char *reference, store_tracking *out);

    store_rc (*case_import)(void *impl, const store_case_new *cases,
                            const store_event *const *events, const size_t *n_events,
                            const int64_t *closed_at, size_t n);

    /* Open311 */
    store_rc (*org_sole)(void *impl, arena *a, store_org *out);
    store_rc (*open311_cases)(void *impl, arena *a, const store_open311_filter *f,
                              store_open311_case **out, size_t *n);
    store_rc (*open311_case_get)(void *impl, arena *a, int64_t org_id, const char *reference,
                                 const char *token, store_open311_case *out);
    store_rc (*open311_updates)(void *impl, arena *a, int64_t org_id, const char *service_ids_json,
                                int64_t from, int64_t to, int limit, store_open311_update **out,
                                size_t *n);

    /* Copying (store_copy): open_readonly opens one connection without
     * migrating. read_begin starts a read-only snapshot on a connection of
     * its own, first checking that every table of the database is one of
     * store_tables (err names the one that is not); read_rows streams a
     * table's rows in primary key order to `fn`, stopping at its first
     * non-OK result. load_begin starts the write transaction, after the same
     * check and a check that no table holds a row (STORE_CONFLICT, err names
     * it), and deletes the rows of the tables marked `replace`. load_table
     * starts a table (NULL ends the current one, so that a failure is the
     * table's), load_row writes one row of it, and load_end commits (or
     * rolls back when !commit), moving id sequences past the copied ids
     * first. read_end and load_end free the handle. */
    store_rc (*open_readonly)(const char *uri, void **impl, char *err, size_t errlen);
    store_rc (*read_begin)(void *impl, void **tx, char *err, size_t errlen);
    store_rc (*read_rows)(void *tx, const store_table *t, store_row_fn fn, void *ctx);
    void (*read_end)(void *tx);
    store_rc (*load_begin)(void *impl, void **tx, char *err, size_t errlen);
    store_rc (*load_table)(void *tx, const store_table *t);
    store_rc (*load_row)(void *tx, const store_value *row);
    store_rc (*load_end)(void *tx, bool commit);

    /* The public log (store.h). log_nodes reads the hashes of n complete
     * subtrees (levels[i], indexes[i]) into out[i]; STORE_NOT_FOUND when one
     * is not stored. */
    store_rc (*log_size)(void *impl, uint64_t *size);
    /* NULL: entries are appended inline, so none waits. */
    store_rc (*log_queued)(void *impl, uint64_t *n);
    store_rc (*log_nodes)(void *impl, size_t n, const unsigned *levels, const uint64_t *indexes,
                          merkle_hash *out);
    store_rc (*log_entries)(void *impl, arena *a, uint64_t from, size_t limit, store_log_row **out,
                            size_t *n);
    store_rc (*log_import)(void *impl, const tlog_entry *entries, size_t n, uint64_t *first_index);
    store_rc (*log_checkpoint_put)(void *impl, uint64_t size, const char *note, int64_t at);
    store_rc (*log_checkpoint_get)(void *impl, arena *a, uint64_t at_most, uint64_t *size,
                                   const char **note);
    /* Optional: a backend that queues its entries (store_log_sequence). */
    store_rc (*log_sequence)(void *impl, bool wait, size_t *n);
    /* Update duties. */
    store_rc (*event_append_duties)(void *impl, int64_t case_id, store_event *ev, bool closes,
                                    const store_duty_new *duties, size_t n);
    store_rc (*case_duties)(void *impl, arena *a, int64_t case_id, store_duty **out, size_t *n);
    store_rc (*case_set_flags)(void *impl, int64_t case_id, bool enhanced, const char *team,
                               const store_duty_retime *retimes, size_t n, int64_t at);
    store_rc (*duty_met_by_delivery)(void *impl, int64_t case_id, int64_t event_id, int64_t at);
    store_rc (*duty_sweep)(void *impl, int64_t now, size_t max, size_t *n);
    store_rc (*duty_worklist)(void *impl, arena *a, const store_duty_filter *f, store_duty **out,
                              size_t *n, bool *more);
    store_rc (*duty_compliance)(void *impl, arena *a, int64_t org_id, const char *service_code,
                                int64_t from, int64_t to, int64_t now, store_duty_count **out,
                                size_t *n);
    store_rc (*org_calendar_get)(void *impl, arena *a, int64_t org_id, store_calendar *out);
    store_rc (*org_calendar_set)(void *impl, const store_calendar *c);

    /* Notifications (store.h, "notifications"). */
    store_rc (*prefs_get)(void *impl, arena *a, int64_t case_id, store_prefs *out);
    store_rc (*prefs_set)(void *impl, int64_t case_id, const store_prefs *p);
    store_rc (*template_set)(void *impl, const store_template *t);
    store_rc (*template_get)(void *impl, arena *a, int64_t service_id, const char *kind,
                             const char *language, store_template *out);
    store_rc (*template_list)(void *impl, arena *a, int64_t service_id, store_template **out,
                              size_t *n);
    store_rc (*webhook_create)(void *impl, store_webhook *w);
    store_rc (*webhook_list)(void *impl, arena *a, int64_t org_id, store_webhook **out, size_t *n);
    store_rc (*webhook_remove)(void *impl, int64_t org_id, int64_t id);
    store_rc (*notice_add)(void *impl, const store_notice *notices, size_t n);
    store_rc (*notice_claim)(void *impl, arena *a, const char *channel, int64_t now, int lease_s,
                             int max, store_notice **out, size_t *n);
    store_rc (*notice_result)(void *impl, int64_t id, int attempt, store_outcome outcome,
                              const char *reason, int64_t now, int64_t next_at);
    store_rc (*notice_list)(void *impl, arena *a, int64_t org_id, const char *status,
                            int64_t before_id, int limit, store_notice **out, size_t *n);
    store_rc (*notice_get)(void *impl, arena *a, int64_t org_id, int64_t id, store_notice *out,
                           store_attempt **attempts, size_t *n);
    store_rc (*task_done)(void *impl, int64_t org_id, int64_t id, int64_t now);
    store_rc (*notice_delivered)(void *impl, int64_t case_id, int64_t since, int64_t *at);

    /* appeals for witnesses */
    store_rc (*appeal_create)(void *impl, store_appeal *a);
    store_rc (*appeal_update)(void *impl, store_appeal *a);
    store_rc (*appeal_set_officer)(void *impl, int64_t org_id, int64_t id, int64_t officer_id,
                                   int64_t at);
    store_rc (*appeal_get)(void *impl, arena *a, int64_t org_id, int64_t id, store_appeal *out);
    store_rc (*appeal_public_get)(void *impl, arena *a, int64_t id, store_appeal *out);
    store_rc (*appeal_transition)(void *impl, int64_t org_id, int64_t id, const char *from,
                                  const char *to, const char *outcome, store_event *ev);
    store_rc (*appeal_staff_list)(void *impl, arena *a, const store_appeal_staff_filter *f,
                                  store_appeal **out, size_t *n, bool *more);
    store_rc (*appeal_search)(void *impl, arena *a, const store_appeal_search_filter *f,
                              store_appeal **out, size_t *n, bool *more);
    store_rc (*appeal_staff_get)(void *impl, arena *a, int64_t id, store_appeal_staff *out);
    store_rc (*answer_create)(void *impl, store_answer *ans, store_event *ev);
    store_rc (*answer_list)(void *impl, arena *a, int64_t org_id, int64_t appeal_id,
                            int64_t before_id, int limit, const store_access *reader,
                            store_answer **out, size_t *n, bool *more);
    store_rc (*answer_by_receipt)(void *impl, arena *a, const char *receipt, store_answer *out);
    store_rc (*answer_reads)(void *impl, arena *a, int64_t answer_id, store_access **out,
                             size_t *n);
    store_rc (*appeal_orgs)(void *impl, arena *a, store_org **out, size_t *n);
} store_ops;

/* ---- appending to the public log, inside a backend's transaction ----
 *
 * The one way anything is appended. A backend's write job that records a
 * transaction fills a tlog_entry and calls its backend's append (in
 * store_sqlite.c and store_pg.c: log_append(conn, entry, &index), and
 * log_case_append(conn, case_id, entry, &index), which first fills the
 * entry's organisation, service and case from the case row), as the LAST
 * statements touching shared rows in its transaction: on PostgreSQL the
 * append locks the log's counter until commit, and a transaction holding it
 * must not then wait for another's row lock. Both land here, with the
 * backend's statements as a log_io on the transaction's connection. */
typedef struct log_io {
    void *conn;
    /* Takes the next index: increments the stored size in the transaction. */
    store_rc (*reserve)(void *conn, uint64_t *index);
    /* merkle_reader.hash_at over the stored rows, in the same transaction. */
    int (*hash_at)(void *conn, unsigned level, uint64_t index, merkle_hash *out);
    /* Why hash_at failed: STORE_UNAVAILABLE when the connection was lost, so
     * the caller answers 503 rather than 500. NULL: always STORE_ERROR. */
    store_rc (*read_failure)(void *conn);
    store_rc (*insert)(void *conn, uint64_t index, const void *entry, size_t len,
                       const merkle_hash *hashes, size_t nhashes);
} log_io;

/* Encodes e with the log's pseudonym key and appends it; sets *index. A
 * malformed entry (tlog_entry_encode refused it) is STORE_ERROR, logged. */
store_rc log_append_with(const log_io *io, const uint8_t key[TLOG_KEY_SIZE], const tlog_entry *e,
                         uint64_t *index);

/* The entry of a case event: kind, time, actor and stages from ev; the
 * organisation, service and case are the caller's to fill. False for an
 * event type the log does not know. */
bool log_event_entry(const store_event *ev, int64_t org_id, tlog_entry *e);
/* The entry of an access record, the same way. */
void log_access_entry(const store_access *acc, tlog_entry *e);

extern const store_ops store_sqlite_ops;
extern const store_ops store_pg_ops;

#endif
