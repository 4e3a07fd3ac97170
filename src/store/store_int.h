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
    store_rc (*session_create)(void *impl, const unsigned char hash[32], int64_t user_id,
                               int64_t expires_at);
    store_rc (*session_get)(void *impl, arena *a, const unsigned char hash[32], int64_t now,
                            store_principal *out);
    store_rc (*session_delete)(void *impl, const unsigned char hash[32]);
    store_rc (*key_create)(void *impl, int64_t org_id, const char *label, const char *role,
                           const unsigned char hash[32], int64_t *id);
    store_rc (*key_get)(void *impl, arena *a, const unsigned char hash[32], store_principal *out);

    store_rc (*case_create)(void *impl, arena *a, const store_case_new *in, store_case *out,
                            bool *existed);
    store_rc (*case_get)(void *impl, arena *a, int64_t org_id, const char *reference,
                         store_case *out);
    store_rc (*case_events)(void *impl, arena *a, int64_t case_id, bool public_only,
                            store_event **out, size_t *n);
    store_rc (*case_list)(void *impl, arena *a, const store_case_filter *f, store_case **out,
                          size_t *n, bool *more);
    store_rc (*event_append)(void *impl, int64_t case_id, store_event *ev, bool closes);
    store_rc (*event_append_access)(void *impl, int64_t case_id, store_event *ev, bool closes,
                                    const store_access *access);
    store_rc (*case_set_secret)(void *impl, int64_t case_id, const unsigned char hash[32]);
    store_rc (*service_durations)(void *impl, arena *a, int64_t service_id, int limit,
                                  int64_t **out, size_t *n);

    store_rc (*access_record)(void *impl, store_access *accesses, size_t n);
    store_rc (*case_accesses)(void *impl, arena *a, int64_t case_id, store_access **out, size_t *n);

    store_rc (*case_import)(void *impl, const store_case_new *cases,
                            const store_event *const *events, const size_t *n_events,
                            const int64_t *closed_at, size_t n);

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

    /* appeals for witnesses */
    store_rc (*appeal_create)(void *impl, store_appeal *a);
    store_rc (*appeal_update)(void *impl, store_appeal *a);
    store_rc (*appeal_get)(void *impl, arena *a, int64_t org_id, int64_t id, store_appeal *out);
    store_rc (*appeal_public_get)(void *impl, arena *a, int64_t id, store_appeal *out);
    store_rc (*appeal_transition)(void *impl, int64_t org_id, int64_t id, const char *from,
                                  const char *to, const char *outcome, store_event *ev);
    store_rc (*appeal_staff_list)(void *impl, arena *a, const store_appeal_staff_filter *f,
                                  store_appeal **out, size_t *n, bool *more);
    store_rc (*appeal_search)(void *impl, arena *a, const store_appeal_search_filter *f,
                              store_appeal **out, size_t *n, bool *more);
    store_rc (*answer_create)(void *impl, store_answer *ans, store_event *ev);
    store_rc (*answer_list)(void *impl, arena *a, int64_t org_id, int64_t appeal_id,
                            int64_t before_id, int limit, const store_access *reader,
                            store_answer **out, size_t *n, bool *more);
    store_rc (*answer_by_receipt)(void *impl, arena *a, const char *receipt, store_answer *out);
    store_rc (*answer_reads)(void *impl, arena *a, int64_t answer_id, store_access **out,
                             size_t *n);
    store_rc (*appeal_orgs)(void *impl, arena *a, store_org **out, size_t *n);
} store_ops;

extern const store_ops store_sqlite_ops;
extern const store_ops store_pg_ops;

#endif
