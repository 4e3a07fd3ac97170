/* store.c - the store handle: picks the backend from the URI and forwards.
 *
 * A URI that starts postgresql:// or postgres:// opens PostgreSQL; anything
 * else is an SQLite database, exactly as before there was a choice. Both
 * backends keep the same numbered schema versions.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
