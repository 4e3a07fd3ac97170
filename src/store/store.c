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
#include "util/log.h"

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

store_rc store_user_get(store *s, arena *a, int64_t org_id, int64_t id, store_user *out)
{
    return s->ops->user_get(s->impl, a, org_id, id, out);
}

store_rc store_user_list(store *s, arena *a, int64_t org_id, const char *role, store_user **out,
                         size_t *n)
{
    return s->ops->user_list(s->impl, a, org_id, role, out, n);
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

store_rc store_key_list(store *s, arena *a, int64_t org_id, store_key **out, size_t *n)
{
    return s->ops->key_list(s->impl, a, org_id, out, n);
}

store_rc store_key_revoke(store *s, int64_t org_id, int64_t id, int64_t at)
{
    return s->ops->key_revoke(s->impl, org_id, id, at);
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

static bool move_offered(const store_case *c, const store_move_from *from, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (from[i].service_id == c->service_id && strcmp(from[i].stage, c->stage) == 0)
            return true;
    return false;
}

store_rc store_case_move(store *s, arena *a, int64_t org_id, const char *reference,
                         const store_move_from *from, size_t n, store_event *ev, store_case *out)
{
    if (!ev->type || strcmp(ev->type, "stage_change") != 0 || !ev->stage || ev->public_ ||
        ev->n_notices > 0) {
        log_error("msg=\"store: only a stage change that is not public moves a case unread\"");
        return STORE_ERROR;
    }
    if (s->ops->case_move)
        return s->ops->case_move(s->impl, a, org_id, reference, from, n, ev, out);
    /* A backend in this process reads as cheaply as it writes: read, check,
     * and let the append's own check of the stage settle a race. */
    store_rc rc = s->ops->case_get(s->impl, a, org_id, reference, out);
    if (rc != STORE_OK)
        return rc;
    if (out->closed_at || !move_offered(out, from, n))
        return STORE_NOT_FOUND;
    ev->case_id = out->id;
    ev->from_stage = out->stage;
    rc = s->ops->event_append(s->impl, out->id, ev, false);
    if (rc == STORE_CONFLICT)
        return STORE_NOT_FOUND;
    if (rc != STORE_OK)
        return rc;
    out->stage = ev->stage;
    if (ev->created_at > out->updated_at)
        out->updated_at = ev->created_at;
    out->service_code = NULL;
    memset(&out->person, 0, sizeof(out->person));
    return STORE_OK;
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

store_rc store_case_tracking(store *s, arena *a, const char *reference, store_tracking *out)
{
    if (s->ops->case_tracking)
        return s->ops->case_tracking(s->impl, a, reference, out);
    memset(out, 0, sizeof(*out));
    store_rc rc = s->ops->case_get(s->impl, a, 0, reference, &out->c);
    if (rc == STORE_OK)
        rc = s->ops->case_events(s->impl, a, out->c.id, true, &out->events, &out->n_events);
    if (rc == STORE_OK)
        rc = s->ops->case_accesses(s->impl, a, out->c.id, &out->accesses, &out->n_accesses);
    if (rc != STORE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
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

/* Every table of the migrations; a table a later migration adds
 * must be added here, or copies refuse to start. */
const store_table store_tables[] = {
    {"settings", 2, {"key", "value"}, {T, X}, false, true},
    {"orgs", 4, {"id", "slug", "name", "created_at"}, {I, T, T, I}, true, false},
    {"services",
     11,
     {"id", "org_id", "code", "name", "description", "workflow_json", "target_days", "created_at",
      "updated_at", "open311_json", "duties_json"},
     {I, I, T, T, T, T, I, I, I, T, T},
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
     7,
     {"id", "org_id", "label", "role", "key_hash", "created_at", "revoked_at"},
     {I, I, T, T, X, I, I},
     true,
     false},
    {"persons",
     6,
     {"id", "name", "email", "phone", "address", "postcode"},
     {I, T, T, T, T, T},
     true,
     false},
    {"cases",
     14,
     {"id", "org_id", "service_id", "reference", "stage", "summary", "secret_hash", "person_id",
      "opened_at", "updated_at", "closed_at", "idempotency_key", "enhanced", "team"},
     {I, I, I, T, T, T, X, I, I, I, I, T, B, T},
     true,
     false},
    {"events",
     11,
     {"id", "case_id", "type", "from_stage", "stage", "body", "rating", "public", "actor",
      "created_at", "log_index"},
     {I, I, T, T, T, T, I, B, T, I, I},
     true,
     false},
    {"accesses",
     12,
     {"id", "case_id", "case_org_id", "reader_org_id", "user_id", "key_id", "reader_name", "role",
      "action", "purpose", "at", "log_index"},
     {I, I, I, I, I, I, T, T, T, T, I, I},
     true,
     false},
    /* The public log (0003): its counter starts at 0 in every new database,
     * and is replaced by the source's. */
    {"log_entries", 3, {"idx", "entry", "hashes"}, {I, X, X}, false, false},
    {"log_state", 2, {"id", "size"}, {I, I}, false, true},
    {"log_checkpoints", 3, {"size", "note", "signed_at"}, {I, T, I}, false, false},
    /* Entries queued on PostgreSQL (0008), which the target sequences. */
    {"log_queue",
     16,
     {"id", "kind", "case_id", "at", "actor", "actor_id", "actor_org_id", "reader_org_id", "role",
      "action", "from_stage", "stage", "rating", "event_id", "access_id", "duty"},
     {I, I, I, I, I, I, I, I, T, T, T, T, I, I, I, T},
     true,
     false},
    /* Open311 */
    {"open311_requests",
     11,
     {"case_id", "token", "description", "lat", "long", "address_string", "address_id", "media_url",
      "attributes_json", "device_id", "account_id"},
     {I, T, T, T, T, T, T, T, T, T, T},
     false,
     false},
    /* update duties (0003) */
    {"org_calendars",
     4,
     {"org_id", "calendar", "holidays", "updated_at"},
     {I, T, T, I},
     false,
     false},
    {"duty_instances",
     13,
     {"id", "case_id", "org_id", "service_id", "duty", "event_id", "triggered_at", "days", "due_at",
      "met_at", "met_by", "met_event_id", "missed_at"},
     {I, I, I, I, T, I, I, I, I, I, T, I, I},
     true,
     false},
    /* 0003: notifications. */
    {"notify_prefs",
     5,
     {"person_id", "channels", "language", "frequency", "updated_at"},
     {I, T, T, T, I},
     false,
     false},
    {"notify_templates",
     7,
     {"id", "service_id", "kind", "language", "subject", "body", "updated_at"},
     {I, I, T, T, T, T, I},
     true,
     false},
    {"webhooks",
     6,
     {"id", "org_id", "url", "secret", "active", "created_at"},
     {I, I, T, T, I, I},
     true,
     false},
    {"notifications",
     18,
     {"id", "org_id", "case_id", "webhook_id", "kind", "channel", "recipient", "subject", "body",
      "status", "attempts", "next_at", "lease_until", "created_at", "delivered_at", "last_error",
      "event_id", "to_staff"},
     {I, I, I, I, T, T, T, T, T, T, I, I, I, I, I, T, I, B},
     true,
     false},
    {"notify_attempts",
     5,
     {"id", "notification_id", "at", "outcome", "reason"},
     {I, I, I, T, T},
     true,
     false},
    /* appeals for witnesses (0007); their map index is derived, see below */
    {"appeals",
     24,
     {"id",          "org_id",       "case_id",           "status",
      "title",       "description",  "category",          "occurred_from",
      "occurred_to", "contact",      "anonymous_contact", "expires_at",
      "true_lat",    "true_lon",     "pub_lat",           "pub_lon",
      "precision",   "cell_m",       "outcome",           "created_at",
      "updated_at",  "published_at", "closed_at",         "officer_id"},
     {I, I, I, T, T, T, T, I, I, T, T, I, I, I, I, I, T, I, T, I, I, I, I, I},
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

bool store_event_meets_duties(const store_event *ev)
{
    return ev->public_ && ev->type &&
           (strcmp(ev->type, "stage_change") == 0 || strcmp(ev->type, "public_note") == 0);
}

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

/* ---- the public log ----
 *
 * Which hashes a root, a proof or a tile needs depends on sizes and indexes
 * alone, never on hash values. So each is computed twice: first with a
 * reader that only notes what is asked for, then, once the backend has read
 * all of those in one go, with a reader that answers from them. A proof is
 * one round trip to the database however deep the tree. */

/* Room for a tile (256 hashes) or a root and a proof (64 + 65). */
#define LOG_NODES_MAX 256

typedef struct log_nodes {
    size_t n;
    bool overflow;
    unsigned levels[LOG_NODES_MAX];
    uint64_t indexes[LOG_NODES_MAX];
    merkle_hash hashes[LOG_NODES_MAX];
} log_nodes;

static int note_node(void *arg, unsigned level, uint64_t index, merkle_hash *out)
{
    log_nodes *ns = arg;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < ns->n; i++)
        if (ns->levels[i] == level && ns->indexes[i] == index)
            return 0;
    if (ns->n == LOG_NODES_MAX) {
        ns->overflow = true;
        return -1;
    }
    ns->levels[ns->n] = level;
    ns->indexes[ns->n++] = index;
    return 0;
}

static int read_node(void *arg, unsigned level, uint64_t index, merkle_hash *out)
{
    const log_nodes *ns = arg;
    for (size_t i = 0; i < ns->n; i++) {
        if (ns->levels[i] == level && ns->indexes[i] == index) {
            *out = ns->hashes[i];
            return 0;
        }
    }
    return -1;
}

/* What to compute with the nodes: a root, a proof or a tile. */
typedef struct log_query {
    enum { Q_ROOT, Q_INCLUSION, Q_CONSISTENCY, Q_TILE } what;
    uint64_t a, b; /* size; index and size; m and n */
    const tile *t;
    merkle_hash *hashes; /* the root, or the proof */
    size_t *len;
    buf *out;
} log_query;

static int query_run(const log_query *q, const merkle_reader *r)
{
    switch (q->what) {
    case Q_ROOT:
        return merkle_root(r, q->a, q->hashes) == MERKLE_OK ? 0 : -1;
    case Q_INCLUSION:
        return merkle_inclusion_proof(r, q->a, q->b, q->hashes, q->len) == MERKLE_OK ? 0 : -1;
    case Q_CONSISTENCY:
        return merkle_consistency_proof(r, q->a, q->b, q->hashes, q->len) == MERKLE_OK ? 0 : -1;
    case Q_TILE:
        return tile_hashes(r, q->t, q->out) == TILE_OK ? 0 : -1;
    }
    return -1;
}

/* Runs q over the stored hashes, after checking that the log holds `need`
 * entries. */
static store_rc log_query_run(store *s, const log_query *q, uint64_t need)
{
    uint64_t size = 0;
    store_rc rc = s->ops->log_size(s->impl, &size);
    if (rc != STORE_OK)
        return rc;
    if (need > size)
        return STORE_NOT_FOUND;
    log_nodes *ns = calloc(1, sizeof(*ns));
    if (!ns)
        return STORE_ERROR;
    merkle_reader noting = {.hash_at = note_node, .ctx = ns};
    merkle_reader reading = {.hash_at = read_node, .ctx = ns};
    size_t mark = q->out ? q->out->len : 0;
    rc = STORE_ERROR;
    if (query_run(q, &noting) == 0 && !ns->overflow) {
        if (q->out) {
            q->out->len = mark;
            q->out->failed = false;
        }
        rc = ns->n ? s->ops->log_nodes(s->impl, ns->n, ns->levels, ns->indexes, ns->hashes)
                   : STORE_OK;
        if (rc == STORE_OK && query_run(q, &reading) != 0)
            rc = STORE_ERROR;
    } else if (!ns->overflow) {
        rc = STORE_NOT_FOUND; /* sizes or indexes out of range */
    }
    free(ns);
    return rc;
}

store_rc store_log_size(store *s, uint64_t *size)
{
    return s->ops->log_size(s->impl, size);
}

store_rc store_log_queued(store *s, uint64_t *n)
{
    *n = 0;
    return s->ops->log_queued ? s->ops->log_queued(s->impl, n) : STORE_OK;
}

store_rc store_log_root(store *s, uint64_t size, merkle_hash *root)
{
    log_query q = {.what = Q_ROOT, .a = size, .hashes = root};
    return log_query_run(s, &q, size);
}

store_rc store_log_inclusion(store *s, uint64_t index, uint64_t size, merkle_hash *proof,
                             size_t *len)
{
    *len = 0;
    log_query q = {.what = Q_INCLUSION, .a = index, .b = size, .hashes = proof, .len = len};
    return log_query_run(s, &q, size);
}

store_rc store_log_consistency(store *s, uint64_t m, uint64_t n, merkle_hash *proof, size_t *len)
{
    *len = 0;
    log_query q = {.what = Q_CONSISTENCY, .a = m, .b = n, .hashes = proof, .len = len};
    return log_query_run(s, &q, n);
}

store_rc store_log_tile(store *s, const tile *t, buf *out)
{
    if (t->entries || t->level >= TILE_LEVELS || t->width == 0 || t->width > TILE_WIDTH)
        return STORE_NOT_FOUND;
    /* The tile's last hash is complete once its last leaf is in. */
    unsigned shift = TILE_HEIGHT * t->level;
    if (shift + 1 >= 64 || t->index > (UINT64_MAX >> shift) / TILE_WIDTH - 1)
        return STORE_NOT_FOUND;
    uint64_t last = t->index * TILE_WIDTH + t->width; /* subtrees at the tile's level */
    log_query q = {.what = Q_TILE, .t = t, .out = out};
    return log_query_run(s, &q, last << shift);
}

store_rc store_log_entries(store *s, arena *a, uint64_t from, size_t limit, store_log_row **out,
                           size_t *n)
{
    return s->ops->log_entries(s->impl, a, from, limit, out, n);
}

store_rc store_log_import(store *s, const tlog_entry *entries, size_t n, uint64_t *first_index)
{
    return s->ops->log_import(s->impl, entries, n, first_index);
}

bool store_log_queues(store *s)
{
    return s->ops->log_sequence != NULL;
}

store_rc store_log_sequence(store *s, bool wait, size_t *n)
{
    *n = 0;
    return s->ops->log_sequence ? s->ops->log_sequence(s->impl, wait, n) : STORE_OK;
}

store_rc store_log_sequence_all(store *s)
{
    size_t n = 0;
    store_rc rc;
    do
        rc = store_log_sequence(s, true, &n);
    while (rc == STORE_OK && n > 0);
    return rc;
}

store_rc store_log_checkpoint_put(store *s, uint64_t size, const char *note, int64_t at)
{
    return s->ops->log_checkpoint_put(s->impl, size, note, at);
}

store_rc store_log_checkpoint_get(store *s, arena *a, uint64_t at_most, uint64_t *size,
                                  const char **note)
{
    return s->ops->log_checkpoint_get(s->impl, a, at_most, size, note);
}

/* ---- Open311 ---- */

store_rc store_org_sole(store *s, arena *a, store_org *out)
{
    return s->ops->org_sole(s->impl, a, out);
}

store_rc store_open311_cases(store *s, arena *a, const store_open311_filter *f,
                             store_open311_case **out, size_t *n)
{
    return s->ops->open311_cases(s->impl, a, f, out, n);
}

store_rc store_open311_case_get(store *s, arena *a, int64_t org_id, const char *reference,
                                const char *token, store_open311_case *out)
{
    return s->ops->open311_case_get(s->impl, a, org_id, reference, token, out);
}

store_rc store_open311_updates(store *s, arena *a, int64_t org_id, const char *service_ids_json,
                               int64_t from, int64_t to, int limit, store_open311_update **out,
                               size_t *n)
{
    return s->ops->open311_updates(s->impl, a, org_id, service_ids_json, from, to, limit, out, n);
}

/* ---- update duties ---- */

store_rc store_event_append_duties(store *s, int64_t case_id, store_event *ev, bool closes,
                                   const store_duty_new *duties, size_t n)
{
    return s->ops->event_append_duties(s->impl, case_id, ev, closes, duties, n);
}

store_rc store_case_duties(store *s, arena *a, int64_t case_id, store_duty **out, size_t *n)
{
    return s->ops->case_duties(s->impl, a, case_id, out, n);
}

store_rc store_case_set_flags(store *s, int64_t case_id, bool enhanced, const char *team,
                              const store_duty_retime *retimes, size_t n, int64_t at)
{
    return s->ops->case_set_flags(s->impl, case_id, enhanced, team, retimes, n, at);
}

store_rc store_duty_met_by_delivery(store *s, int64_t case_id, int64_t event_id, int64_t at)
{
    return s->ops->duty_met_by_delivery(s->impl, case_id, event_id, at);
}

store_rc store_duty_sweep(store *s, int64_t now, size_t max, size_t *n)
{
    *n = 0;
    return max ? s->ops->duty_sweep(s->impl, now, max, n) : STORE_OK;
}

store_rc store_duty_worklist(store *s, arena *a, const store_duty_filter *f, store_duty **out,
                             size_t *n, bool *more)
{
    return s->ops->duty_worklist(s->impl, a, f, out, n, more);
}

store_rc store_duty_compliance(store *s, arena *a, int64_t org_id, const char *service_code,
                               int64_t from, int64_t to, int64_t now, store_duty_count **out,
                               size_t *n)
{
    return s->ops->duty_compliance(s->impl, a, org_id, service_code, from, to, now, out, n);
}

store_rc store_org_calendar_get(store *s, arena *a, int64_t org_id, store_calendar *out)
{
    return s->ops->org_calendar_get(s->impl, a, org_id, out);
}

store_rc store_org_calendar_set(store *s, const store_calendar *c)
{
    return s->ops->org_calendar_set(s->impl, c);
}

/* ---- notifications ---- */

store_rc store_prefs_get(store *s, arena *a, int64_t case_id, store_prefs *out)
{
    return s->ops->prefs_get(s->impl, a, case_id, out);
}

store_rc store_prefs_set(store *s, int64_t case_id, const store_prefs *p)
{
    return s->ops->prefs_set(s->impl, case_id, p);
}

store_rc store_template_set(store *s, const store_template *t)
{
    return s->ops->template_set(s->impl, t);
}

store_rc store_template_get(store *s, arena *a, int64_t service_id, const char *kind,
                            const char *language, store_template *out)
{
    return s->ops->template_get(s->impl, a, service_id, kind, language, out);
}

store_rc store_template_list(store *s, arena *a, int64_t service_id, store_template **out,
                             size_t *n)
{
    return s->ops->template_list(s->impl, a, service_id, out, n);
}

store_rc store_webhook_create(store *s, store_webhook *w)
{
    return s->ops->webhook_create(s->impl, w);
}

store_rc store_webhook_list(store *s, arena *a, int64_t org_id, store_webhook **out, size_t *n)
{
    return s->ops->webhook_list(s->impl, a, org_id, out, n);
}

store_rc store_webhook_remove(store *s, int64_t org_id, int64_t id)
{
    return s->ops->webhook_remove(s->impl, org_id, id);
}

store_rc store_notice_add(store *s, const store_notice *notices, size_t n)
{
    return s->ops->notice_add(s->impl, notices, n);
}

store_rc store_notice_claim(store *s, arena *a, const char *channel, int64_t now, int lease_s,
                            int max, store_notice **out, size_t *n)
{
    return s->ops->notice_claim(s->impl, a, channel, now, lease_s, max, out, n);
}

store_rc store_notice_result(store *s, int64_t id, int attempt, store_outcome outcome,
                             const char *reason, int64_t now, int64_t next_at)
{
    return s->ops->notice_result(s->impl, id, attempt, outcome, reason, now, next_at);
}

store_rc store_notice_list(store *s, arena *a, int64_t org_id, const char *status,
                           int64_t before_id, int limit, store_notice **out, size_t *n)
{
    return s->ops->notice_list(s->impl, a, org_id, status, before_id, limit, out, n);
}

store_rc store_notice_get(store *s, arena *a, int64_t org_id, int64_t id, store_notice *out,
                          store_attempt **attempts, size_t *n)
{
    return s->ops->notice_get(s->impl, a, org_id, id, out, attempts, n);
}

store_rc store_task_done(store *s, int64_t org_id, int64_t id, int64_t now)
{
    return s->ops->task_done(s->impl, org_id, id, now);
}

store_rc store_notice_delivered(store *s, int64_t case_id, int64_t since, int64_t *at)
{
    return s->ops->notice_delivered(s->impl, case_id, since, at);
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

store_rc store_appeal_set_officer(store *s, int64_t org_id, int64_t id, int64_t officer_id,
                                  int64_t at)
{
    return s->ops->appeal_set_officer(s->impl, org_id, id, officer_id, at);
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

store_rc store_appeal_staff_get(store *s, arena *a, int64_t id, store_appeal_staff *out)
{
    return s->ops->appeal_staff_get(s->impl, a, id, out);
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
