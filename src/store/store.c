/* store.c - the store handle: picks the backend from the URI and forwards.
 *
 * A URI that starts postgresql:// or postgres:// opens PostgreSQL; anything
 * else is an SQLite database, exactly as before there was a choice. Both
 * backends keep the same numbered schema versions.
 *
 * It also copies a whole deployment from one store to another (store_copy),
 * backend to backend: it knows the tables and hashes the rows, and each
 * backend only reads and writes rows in the shape store_int.h gives them.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "embedded.h"
#include "store/store_int.h"

struct store {
    const store_ops *ops;
    void *impl;
};

static bool is_postgresql(const char *uri)
{
    return strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0;
}

store_rc store_open(const char *uri, int pool_size, store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!uri) {
        if (err && errlen)
            snprintf(err, errlen, "no database named");
        return STORE_ERROR;
    }
    store *s = calloc(1, sizeof(*s));
    if (!s) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return STORE_ERROR;
    }
    s->ops = is_postgresql(uri) ? &store_pg_ops : &store_sqlite_ops;
    store_rc rc = s->ops->open(uri, pool_size, &s->impl, err, errlen);
    if (rc != STORE_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return STORE_OK;
}

void store_close(store *s)
{
    if (!s)
        return;
    s->ops->close(s->impl);
    free(s);
}

int store_schema_version(store *s)
{
    return s->ops->schema_version(s->impl);
}

int store_schema_latest(void)
{
    return (int)embedded_sqlite_migrations_count;
}

store_rc store_secret_key(store *s, unsigned char key[32])
{
    return s->ops->secret_key(s->impl, key);
}

store_rc store_org_create(store *s, const char *slug, const char *name, int64_t *id)
{
    return s->ops->org_create(s->impl, slug, name, id);
}

store_rc store_org_by_slug(store *s, arena *a, const char *slug, store_org *out)
{
    return s->ops->org_by_slug(s->impl, a, slug, out);
}

store_rc store_org_by_id(store *s, arena *a, int64_t id, store_org *out)
{
    return s->ops->org_by_id(s->impl, a, id, out);
}

store_rc store_service_create(store *s, store_service *svc)
{
    return s->ops->service_create(s->impl, svc);
}

store_rc store_service_update(store *s, const store_service *svc)
{
    return s->ops->service_update(s->impl, svc);
}

store_rc store_service_get(store *s, arena *a, int64_t org_id, const char *code, store_service *out)
{
    return s->ops->service_get(s->impl, a, org_id, code, out);
}

store_rc store_service_by_id(store *s, arena *a, int64_t id, store_service *out)
{
    return s->ops->service_by_id(s->impl, a, id, out);
}

store_rc store_service_list(store *s, arena *a, int64_t org_id, store_service **out, size_t *n)
{
    return s->ops->service_list(s->impl, a, org_id, out, n);
}

store_rc store_user_create(store *s, store_user *u)
{
    return s->ops->user_create(s->impl, u);
}

store_rc store_user_by_email(store *s, arena *a, const char *email, store_user *out)
{
    return s->ops->user_by_email(s->impl, a, email, out);
}

store_rc store_session_create(store *s, const unsigned char hash[32], int64_t user_id,
                              int64_t expires_at)
{
    return s->ops->session_create(s->impl, hash, user_id, expires_at);
}

store_rc store_session_get(store *s, arena *a, const unsigned char hash[32], int64_t now,
                           store_principal *out)
{
    return s->ops->session_get(s->impl, a, hash, now, out);
}

store_rc store_session_delete(store *s, const unsigned char hash[32])
{
    return s->ops->session_delete(s->impl, hash);
}

store_rc store_key_create(store *s, int64_t org_id, const char *label, const char *role,
                          const unsigned char hash[32], int64_t *id)
{
    return s->ops->key_create(s->impl, org_id, label, role, hash, id);
}

store_rc store_key_get(store *s, arena *a, const unsigned char hash[32], store_principal *out)
{
    return s->ops->key_get(s->impl, a, hash, out);
}

store_rc store_case_create(store *s, arena *a, const store_case_new *in, store_case *out,
                           bool *existed)
{
    return s->ops->case_create(s->impl, a, in, out, existed);
}

store_rc store_case_get(store *s, arena *a, int64_t org_id, const char *reference, store_case *out)
{
    return s->ops->case_get(s->impl, a, org_id, reference, out);
}

store_rc store_case_events(store *s, arena *a, int64_t case_id, bool public_only, store_event **out,
                           size_t *n)
{
    return s->ops->case_events(s->impl, a, case_id, public_only, out, n);
}

store_rc store_case_list(store *s, arena *a, const store_case_filter *f, store_case **out,
                         size_t *n, bool *more)
{
    return s->ops->case_list(s->impl, a, f, out, n, more);
}

store_rc store_event_append(store *s, int64_t case_id, store_event *ev, bool closes)
{
    return s->ops->event_append(s->impl, case_id, ev, closes);
}

store_rc store_event_append_access(store *s, int64_t case_id, store_event *ev, bool closes,
                                   const store_access *access)
{
    return s->ops->event_append_access(s->impl, case_id, ev, closes, access);
}

store_rc store_case_set_secret(store *s, int64_t case_id, const unsigned char hash[32])
{
    return s->ops->case_set_secret(s->impl, case_id, hash);
}

store_rc store_service_durations(store *s, arena *a, int64_t service_id, int limit, int64_t **out,
                                 size_t *n)
{
    return s->ops->service_durations(s->impl, a, service_id, limit, out, n);
}

store_rc store_access_record(store *s, store_access *accesses, size_t n)
{
    return s->ops->access_record(s->impl, accesses, n);
}

store_rc store_case_accesses(store *s, arena *a, int64_t case_id, store_access **out, size_t *n)
{
    return s->ops->case_accesses(s->impl, a, case_id, out, n);
}

store_rc store_case_import(store *s, const store_case_new *cases, const store_event *const *events,
                           const size_t *n_events, const int64_t *closed_at, size_t n)
{
    return s->ops->case_import(s->impl, cases, events, n_events, closed_at, n);
}

/* ---- copying a deployment ---- */

#define I STORE_COL_INT
#define B STORE_COL_BOOL
#define T STORE_COL_TEXT
#define X STORE_COL_BLOB

/* Every table of migrations 0001 to 0003; a table a later migration adds
 * must be added here, or copies refuse to start. */
const store_table store_tables[] = {
    {"settings", 2, {"key", "value"}, {T, X}, false, true},
    {"orgs", 4, {"id", "slug", "name", "created_at"}, {I, T, T, I}, true, false},
    {"services",
     9,
     {"id", "org_id", "code", "name", "description", "workflow_json", "target_days", "created_at",
      "updated_at"},
     {I, I, T, T, T, T, I, I, I},
     true,
     false},
    {"users",
     7,
     {"id", "org_id", "email", "name", "role", "password_hash", "created_at"},
     {I, I, T, T, T, T, I},
     true,
     false},
    {"sessions", 3, {"token_hash", "user_id", "expires_at"}, {X, I, I}, false, false},
    {"api_keys",
     6,
     {"id", "org_id", "label", "role", "key_hash", "created_at"},
     {I, I, T, T, X, I},
     true,
     false},
    {"persons",
     6,
     {"id", "name", "email", "phone", "address", "postcode"},
     {I, T, T, T, T, T},
     true,
     false},
    {"cases",
     12,
     {"id", "org_id", "service_id", "reference", "stage", "summary", "secret_hash", "person_id",
      "opened_at", "updated_at", "closed_at", "idempotency_key"},
     {I, I, I, T, T, T, X, I, I, I, I, T},
     true,
     false},
    {"events",
     10,
     {"id", "case_id", "type", "from_stage", "stage", "body", "rating", "public", "actor",
      "created_at"},
     {I, I, T, T, T, T, I, B, T, I},
     true,
     false},
    {"accesses",
     11,
     {"id", "case_id", "case_org_id", "reader_org_id", "user_id", "key_id", "reader_name", "role",
      "action", "purpose", "at"},
     {I, I, I, I, I, I, T, T, T, T, I},
     true,
     false},
    /* appeals for witnesses (0003); their map index is derived, see below */
    {"appeals",
     23,
     {"id",          "org_id",       "case_id",           "status",
      "title",       "description",  "category",          "occurred_from",
      "occurred_to", "contact",      "anonymous_contact", "expires_at",
      "true_lat",    "true_lon",     "pub_lat",           "pub_lon",
      "precision",   "cell_m",       "outcome",           "created_at",
      "updated_at",  "published_at", "closed_at"},
     {I, I, I, T, T, T, T, I, I, T, T, I, I, I, I, I, T, I, T, I, I, I, I},
     true,
     false},
    {"appeal_answers",
     13,
     {"id", "appeal_id", "receipt", "secret_hash", "saw", "seen_when", "seen_lat", "seen_lon",
      "person_id", "channel", "anonymous", "created_at", "first_read_at"},
     {I, I, T, X, T, T, I, I, I, T, B, I, I},
     true,
     false},
    {"appeal_answer_reads",
     9,
     {"id", "answer_id", "reader_org_id", "user_id", "key_id", "reader_name", "role", "purpose",
      "at"},
     {I, I, I, I, I, T, T, T, I},
     true,
     false},
};

#undef I
#undef B
#undef T
#undef X

const size_t store_tables_count = sizeof(store_tables) / sizeof(store_tables[0]);

size_t store_table_count(void)
{
    return store_tables_count;
}

const char *store_table_name(size_t i)
{
    return i < store_tables_count ? store_tables[i].name : NULL;
}

/* Tables derived from the copied ones, which the target rebuilds itself:
 * SQLite's R*Tree of the appeals map and its shadow tables, filled by the
 * appeals table's triggers as its rows are copied in. */
static const char *const derived_tables[] = {"appeals_map", "appeals_map_node",
                                             "appeals_map_parent", "appeals_map_rowid"};

bool store_table_known(const char *name)
{
    if (strcmp(name, "schema_migrations") == 0)
        return true;
    for (size_t i = 0; i < sizeof(derived_tables) / sizeof(derived_tables[0]); i++)
        if (strcmp(name, derived_tables[i]) == 0)
            return true;
    for (size_t i = 0; i < store_tables_count; i++)
        if (strcmp(name, store_tables[i].name) == 0)
            return true;
    return false;
}

store_rc store_open_readonly(const char *uri, store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!uri) {
        if (err && errlen)
            snprintf(err, errlen, "no database named");
        return STORE_ERROR;
    }
    store *s = calloc(1, sizeof(*s));
    if (!s) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return STORE_ERROR;
    }
    s->ops = is_postgresql(uri) ? &store_pg_ops : &store_sqlite_ops;
    store_rc rc = s->ops->open_readonly(uri, &s->impl, err, errlen);
    if (rc != STORE_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return STORE_OK;
}

static void put_u64(crypto_hash_sha256_state *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    crypto_hash_sha256_update(h, b, sizeof(b));
}

/* One row in the canonical rendering store.h describes. */
static void hash_row(crypto_hash_sha256_state *h, const store_table *t, const store_value *row)
{
    for (size_t i = 0; i < t->ncolumns; i++) {
        const store_value *v = &row[i];
        unsigned char tag;
        if (v->null)
            tag = 'N';
        else if (t->kinds[i] == STORE_COL_INT || t->kinds[i] == STORE_COL_BOOL)
            tag = 'i';
        else
            tag = t->kinds[i] == STORE_COL_TEXT ? 't' : 'b';
        crypto_hash_sha256_update(h, &tag, 1);
        if (v->null)
            continue;
        if (tag == 'i') {
            put_u64(h, (uint64_t)v->i);
        } else {
            put_u64(h, (uint64_t)v->len);
            if (v->len)
                crypto_hash_sha256_update(h, v->p, v->len);
        }
    }
}

/* What the row callback needs: the table being read, its running sum, and
 * the load to write each row into (NULL when only summing). */
typedef struct copy_ctx {
    const store *to;
    void *load;
    const store_table *t;
    crypto_hash_sha256_state h;
    int64_t rows;
} copy_ctx;

static store_rc copy_row(void *arg, const store_value *row)
{
    copy_ctx *c = arg;
    hash_row(&c->h, c->t, row);
    c->rows++;
    return c->load ? c->to->ops->load_row(c->load, row) : STORE_OK;
}

static void set_msg(char *err, size_t errlen, const char *what, const char *table, store_rc rc)
{
    if (!err || !errlen || err[0])
        return;
    snprintf(err, errlen, "%s %s failed (%s)", what, table,
             rc == STORE_UNAVAILABLE ? "the database is busy or unreachable"
             : rc == STORE_DUPLICATE ? "a duplicate row"
             : rc == STORE_NOT_FOUND ? "a row refers to a missing row"
                                     : "see the log");
}

/* Reads every table in one snapshot of `from`, summing it into sums and,
 * when `to` is set, writing each row into the load `load` of `to`. */
static store_rc read_all(store *from, const store *to, void *load, store_table_sum *sums, char *err,
                         size_t errlen)
{
    void *tx = NULL;
    store_rc rc = from->ops->read_begin(from->impl, &tx, err, errlen);
    if (rc != STORE_OK)
        return rc;
    for (size_t i = 0; i < store_tables_count && rc == STORE_OK; i++) {
        const store_table *t = &store_tables[i];
        copy_ctx c = {.to = to, .load = load, .t = t};
        crypto_hash_sha256_init(&c.h);
        if (load) {
            rc = to->ops->load_table(load, t);
            if (rc != STORE_OK) {
                set_msg(err, errlen, "writing", t->name, rc);
                break;
            }
        }
        rc = from->ops->read_rows(tx, t, copy_row, &c);
        if (rc == STORE_OK && load)
            rc = to->ops->load_table(load, NULL);
        if (rc != STORE_OK) {
            set_msg(err, errlen, "copying", t->name, rc);
            break;
        }
        sums[i].table = t->name;
        sums[i].rows = c.rows;
        crypto_hash_sha256_final(&c.h, sums[i].sha256);
    }
    from->ops->read_end(tx);
    return rc;
}

store_rc store_copy(store *from, store *to, store_table_sum *sums, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    memset(sums, 0, store_tables_count * sizeof(*sums));
    void *load = NULL;
    store_rc rc = to->ops->load_begin(to->impl, &load, err, errlen);
    if (rc != STORE_OK)
        return rc;
    rc = read_all(from, to, load, sums, err, errlen);
    store_rc end = to->ops->load_end(load, rc == STORE_OK);
    if (rc == STORE_OK && end != STORE_OK) {
        set_msg(err, errlen, "committing", "the copy", end);
        rc = end;
    }
    return rc;
}

store_rc store_checksum(store *s, store_table_sum *sums, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    memset(sums, 0, store_tables_count * sizeof(*sums));
    return read_all(s, NULL, NULL, sums, err, errlen);
}

/* ---- appeals for witnesses ---- */

store_rc store_appeal_create(store *s, store_appeal *a)
{
    return s->ops->appeal_create(s->impl, a);
}

store_rc store_appeal_update(store *s, store_appeal *a)
{
    return s->ops->appeal_update(s->impl, a);
}

store_rc store_appeal_get(store *s, arena *a, int64_t org_id, int64_t id, store_appeal *out)
{
    return s->ops->appeal_get(s->impl, a, org_id, id, out);
}

store_rc store_appeal_public_get(store *s, arena *a, int64_t id, store_appeal *out)
{
    return s->ops->appeal_public_get(s->impl, a, id, out);
}

store_rc store_appeal_transition(store *s, int64_t org_id, int64_t id, const char *from,
                                 const char *to, const char *outcome, store_event *ev)
{
    return s->ops->appeal_transition(s->impl, org_id, id, from, to, outcome, ev);
}

store_rc store_appeal_staff_list(store *s, arena *a, const store_appeal_staff_filter *f,
                                 store_appeal **out, size_t *n, bool *more)
{
    return s->ops->appeal_staff_list(s->impl, a, f, out, n, more);
}

store_rc store_appeal_search(store *s, arena *a, const store_appeal_search_filter *f,
                             store_appeal **out, size_t *n, bool *more)
{
    return s->ops->appeal_search(s->impl, a, f, out, n, more);
}

store_rc store_answer_create(store *s, store_answer *ans, store_event *ev)
{
    return s->ops->answer_create(s->impl, ans, ev);
}

store_rc store_answer_list(store *s, arena *a, int64_t org_id, int64_t appeal_id, int64_t before_id,
                           int limit, const store_access *reader, store_answer **out, size_t *n,
                           bool *more)
{
    return s->ops->answer_list(s->impl, a, org_id, appeal_id, before_id, limit, reader, out, n,
                               more);
}

store_rc store_answer_by_receipt(store *s, arena *a, const char *receipt, store_answer *out)
{
    return s->ops->answer_by_receipt(s->impl, a, receipt, out);
}

store_rc store_answer_reads(store *s, arena *a, int64_t answer_id, store_access **out, size_t *n)
{
    return s->ops->answer_reads(s->impl, a, answer_id, out, n);
}

store_rc store_appeal_orgs(store *s, arena *a, store_org **out, size_t *n)
{
    return s->ops->appeal_orgs(s->impl, a, out, n);
}
