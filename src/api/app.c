/* app.c - the shared application context and its caches. */
#include "api/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "util/log.h"
#include "util/token.h"

int app_init(app *a, store *s, bool cookie_secure)
{
    memset(a, 0, sizeof(*a));
    a->store = s;
    a->cookie_secure = cookie_secure;
    if (store_secret_key(s, a->key) != STORE_OK) {
        log_error("msg=\"cannot read the deployment key\"");
        return -1;
    }
    /* Any valid Argon2id hash with the same limits does; computing one at
     * start would cost every instance a second of CPU and 64 MiB. */
    snprintf(a->dummy_hash, sizeof(a->dummy_hash), "%s",
             "$argon2id$v=19$m=65536,t=2,p=1$Jfl0RogAWOLtNS0xc1mzPg$"
             "evSlmBNmFdXITiBMm1P0QYnAIF6v0Fw3eJu6IE4Eggi");
    a->limits = ratelimit_new();
    if (!a->limits)
        return -1;
    atomic_init(&a->replica_retry_at, 0);
    pthread_mutex_init(&a->history_lock, NULL);
    pthread_mutex_init(&a->services_lock, NULL);
    pthread_mutex_init(&a->keys_lock, NULL);
    pthread_mutex_init(&a->moves_lock, NULL);
    return 0;
}

static void service_free(app_service *e)
{
    arena_free(&e->mem);
    free(e);
}

void app_free(app *a)
{
    for (size_t i = 0; i < APP_SERVICE_SLOTS; i++)
        if (a->services[i])
            service_free(a->services[i]);
    pthread_mutex_destroy(&a->services_lock);
    pthread_mutex_destroy(&a->keys_lock);
    for (size_t i = 0; i < APP_MOVE_SLOTS; i++)
        free(a->moves[i].from);
    pthread_mutex_destroy(&a->moves_lock);
    for (size_t i = 0; i < APP_HISTORY_SLOTS; i++)
        free(a->history[i].durations);
    pthread_mutex_destroy(&a->history_lock);
    ratelimit_free(a->limits);
    memset(a, 0, sizeof(*a));
}

static const char *test_clock_path;

void app_use_test_clock(const char *path)
{
    test_clock_path = path;
}

int64_t app_now(void)
{
    if (test_clock_path) {
        char text[32] = "";
        FILE *f = fopen(test_clock_path, "r");
        bool got = f && fgets(text, sizeof(text), f) != NULL;
        if (f)
            fclose(f);
        char *end = text;
        long long t = got ? strtoll(text, &end, 10) : 0;
        if (end != text && t > 0)
            return (int64_t)t;
    }
    return (int64_t)time(NULL);
}

static long long now_ms(void)
{
    return (long long)(http_now_ns() / 1000000);
}

void app_read_begin(app *ap, bool public_read, app_reader *r)
{
    r->ap = ap;
    r->s = ap->store;
    if (public_read && ap->replica && now_ms() >= atomic_load(&ap->replica_retry_at))
        r->s = ap->replica;
}

bool app_read_again(app_reader *r, store_rc rc)
{
    app *ap = r->ap;
    if (r->s == ap->store)
        return false;
    /* Only the first failure and the first success after it are logged, so
     * that a standby that is down does not fill the log. */
    if (rc == STORE_OK || rc == STORE_NOT_FOUND) {
        if (atomic_load(&ap->replica_retry_at) != 0 &&
            atomic_exchange(&ap->replica_retry_at, 0) != 0)
            log_info("msg=\"reading from the replica again\"");
        if (rc == STORE_OK)
            return false;
    } else if (atomic_exchange(&ap->replica_retry_at, now_ms() + APP_REPLICA_RETRY_MS) == 0) {
        log_warn("msg=\"the replica failed; reading from the primary\"");
    }
    r->s = ap->store;
    return true;
}

bool app_read_on_replica(const app_reader *r)
{
    return r->s != r->ap->store;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Loads a service's durations from the store into heap memory, sorted. */
static int history_load(app *ap, int64_t service_id, bool public_read, int64_t **out, size_t *n)
{
    arena tmp;
    arena_init(&tmp);
    int64_t *rows = NULL;
    size_t count = 0;
    int rc = -1;
    app_reader rd;
    store_rc src;
    app_read_begin(ap, public_read, &rd);
    do
        src = store_service_durations(rd.s, &tmp, service_id, APP_HISTORY_CASES, &rows, &count);
    while (app_read_again(&rd, src));
    if (src != STORE_OK)
        goto out;
    *out = count ? malloc(count * sizeof(int64_t)) : NULL;
    if (count && !*out)
        goto out;
    if (count)
        memcpy(*out, rows, count * sizeof(int64_t));
    if (count > 1)
        qsort(*out, count, sizeof(int64_t), cmp_i64);
    *n = count;
    rc = 0;
out:
    arena_free(&tmp);
    return rc;
}

int app_service_history(app *ap, arena *a, int64_t service_id, bool public_read, int64_t **out,
                        size_t *n)
{
    int64_t now = app_now();
    *out = NULL;
    *n = 0;
    size_t slot = (size_t)service_id % APP_HISTORY_SLOTS;

    pthread_mutex_lock(&ap->history_lock);
    app_history *h = &ap->history[slot];
    if (h->service_id == service_id && now - h->loaded_at < APP_HISTORY_TTL_S) {
        *out = h->n ? arena_alloc(a, h->n * sizeof(int64_t)) : NULL;
        if (h->n && !*out) {
            pthread_mutex_unlock(&ap->history_lock);
            return -1;
        }
        if (h->n)
            memcpy(*out, h->durations, h->n * sizeof(int64_t));
        *n = h->n;
        pthread_mutex_unlock(&ap->history_lock);
        return 0;
    }
    pthread_mutex_unlock(&ap->history_lock);

    /* Loaded outside the lock so that one slow query does not stall every
     * look-up; two threads may load at once, and the later one wins. */
    int64_t *fresh = NULL;
    size_t count = 0;
    if (history_load(ap, service_id, public_read, &fresh, &count) != 0)
        return -1;
    *out = count ? arena_alloc(a, count * sizeof(int64_t)) : NULL;
    if (count && !*out) {
        free(fresh);
        return -1;
    }
    if (count)
        memcpy(*out, fresh, count * sizeof(int64_t));
    *n = count;

    pthread_mutex_lock(&ap->history_lock);
    free(h->durations);
    h->service_id = service_id;
    h->loaded_at = now;
    h->durations = fresh;
    h->n = count;
    pthread_mutex_unlock(&ap->history_lock);
    return 0;
}

void app_history_forget(app *ap, int64_t service_id)
{
    size_t slot = (size_t)service_id % APP_HISTORY_SLOTS;
    pthread_mutex_lock(&ap->history_lock);
    if (ap->history[slot].service_id == service_id)
        ap->history[slot].loaded_at = 0;
    pthread_mutex_unlock(&ap->history_lock);
}

/* Reads a service, its workflow and its organisation's name into a new entry. */
static store_rc service_load(app *ap, int64_t service_id, bool public_read, app_service **out)
{
    app_service *e = calloc(1, sizeof(*e));
    if (!e)
        return STORE_ERROR;
    arena_init(&e->mem);
    store_org org;
    app_reader rd;
    store_rc rc;
    app_read_begin(ap, public_read, &rd);
    do {
        rc = store_service_by_id(rd.s, &e->mem, service_id, &e->svc);
        if (rc == STORE_OK)
            rc = store_org_by_id(rd.s, &e->mem, e->svc.org_id, &org);
    } while (app_read_again(&rd, rc));
    e->from_replica = app_read_on_replica(&rd);
    if (rc == STORE_OK) {
        json_t *def = json_loads(e->svc.workflow_json, 0, NULL);
        json_t *duties = json_loads(e->svc.duties_json ? e->svc.duties_json : "[]", 0, NULL);
        wf_error err;
        duty_error derr;
        if (!def || workflow_parse(&e->mem, def, &e->wf, &err) != 0) {
            log_error("msg=\"stored workflow is invalid\" service_id=%lld", (long long)service_id);
            rc = STORE_ERROR;
        } else if (!duties || duty_parse(&e->mem, duties, &e->wf, &e->duties, &derr) != 0) {
            log_error("msg=\"stored duties are invalid\" service_id=%lld", (long long)service_id);
            rc = STORE_ERROR;
        }
        json_decref(duties);
        json_decref(def);
    }
    if (rc != STORE_OK) {
        service_free(e);
        return rc;
    }
    e->org_name = org.name;
    e->loaded_at = app_now();
    *out = e;
    return STORE_OK;
}

typedef struct service_hold {
    app *ap;
    app_service *e;
} service_hold;

static void service_release(void *arg)
{
    service_hold *h = arg;
    pthread_mutex_lock(&h->ap->services_lock);
    bool last = --h->e->refs == 0;
    pthread_mutex_unlock(&h->ap->services_lock);
    if (last)
        service_free(h->e);
}

/* Takes a reference for the request; the cache itself holds one too. */
static store_rc service_hand_out(app *ap, arena *a, app_service *e, const app_service **out)
{
    service_hold *h = arena_alloc(a, sizeof(*h));
    if (!h)
        return STORE_ERROR;
    h->ap = ap;
    h->e = e;
    if (arena_defer(a, service_release, h) != 0)
        return STORE_ERROR;
    *out = e;
    return STORE_OK;
}

store_rc app_service_get(app *ap, arena *a, int64_t service_id, const app_service **out)
{
    return app_service_read(ap, a, service_id, false, out);
}

store_rc app_service_read(app *ap, arena *a, int64_t service_id, bool public_read,
                          const app_service **out)
{
    size_t slot = (size_t)service_id % APP_SERVICE_SLOTS;
    int64_t now = app_now();
    app_service *e, *old = NULL;
    *out = NULL;

    pthread_mutex_lock(&ap->services_lock);
    e = ap->services[slot];
    /* A staff read passes over an entry read from the replica, which may not
     * show the caseworker's own latest change. */
    if (e && e->svc.id == service_id && now - e->loaded_at < APP_SERVICE_TTL_S &&
        (public_read || !e->from_replica)) {
        e->refs++;
        pthread_mutex_unlock(&ap->services_lock);
        store_rc rc = service_hand_out(ap, a, e, out);
        if (rc != STORE_OK) {
            service_hold h = {ap, e};
            service_release(&h);
        }
        return rc;
    }
    pthread_mutex_unlock(&ap->services_lock);

    store_rc rc = service_load(ap, service_id, public_read, &e);
    if (rc != STORE_OK)
        return rc;
    e->refs = 2; /* the cache's and this request's */
    pthread_mutex_lock(&ap->services_lock);
    old = ap->services[slot];
    ap->services[slot] = e;
    bool free_old = old && --old->refs == 0;
    pthread_mutex_unlock(&ap->services_lock);
    if (free_old)
        service_free(old);
    rc = service_hand_out(ap, a, e, out);
    if (rc != STORE_OK) {
        service_hold h = {ap, e};
        service_release(&h);
    }
    return rc;
}

static void moves_forget_all(app *ap);

void app_service_forget(app *ap, int64_t service_id)
{
    size_t slot = (size_t)service_id % APP_SERVICE_SLOTS;
    app_service *old = NULL;
    pthread_mutex_lock(&ap->services_lock);
    if (ap->services[slot] && ap->services[slot]->svc.id == service_id) {
        old = ap->services[slot];
        ap->services[slot] = NULL;
        if (--old->refs != 0)
            old = NULL;
    }
    pthread_mutex_unlock(&ap->services_lock);
    if (old)
        service_free(old);
    /* After the service: moves worked out from here read it anew. */
    moves_forget_all(ap);
}

/* ---- plain moves ---- */

static size_t moves_slot(int64_t org_id, const char *to)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)org_id;
    for (const char *c = to; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    return (size_t)(h % APP_MOVE_SLOTS);
}

bool app_move_is_plain(const app_service *e, const char *from, const char *to)
{
    const wf_stage *target = workflow_stage(&e->wf, to);
    return target && !target->milestone && !target->terminal &&
           duty_count_at(&e->duties, to) == 0 && workflow_check_move(&e->wf, from, to) == WF_OK;
}

/* Reads the organisation's services and works out their plain moves to `to`.
 * A service that cannot be read offers none: its cases take the usual path. */
static store_rc moves_load(app *ap, arena *a, int64_t org_id, const char *to, store_move_from **out,
                           size_t *n)
{
    store_service *svcs;
    size_t count;
    *out = NULL;
    *n = 0;
    store_rc rc = store_service_list(ap->store, a, org_id, &svcs, &count);
    if (rc != STORE_OK)
        return rc;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    const app_service **found = arena_calloc(a, count ? count : 1, sizeof(*found));
    if (!found)
        return STORE_ERROR;
    size_t most = 0;
    for (size_t i = 0; i < count; i++) {
        if (app_service_get(ap, a, svcs[i].id, &found[i]) != STORE_OK) {
            found[i] = NULL;
            continue;
        }
        most += found[i]->wf.n_stages;
    }
    store_move_from *from = arena_calloc(a, most ? most : 1, sizeof(*from));
    if (!from)
        return STORE_ERROR;
    for (size_t i = 0; i < count; i++) {
        if (!found[i])
            continue;
        const workflow *wf = &found[i]->wf;
        for (size_t j = 0; j < wf->n_stages; j++)
            if (app_move_is_plain(found[i], wf->stages[j].code, to))
                from[(*n)++] = (store_move_from){found[i]->svc.id, wf->stages[j].code};
    }
    *out = from;
    return STORE_OK;
}

/* The pairs and their stages' text in one heap block, or NULL. */
static store_move_from *moves_keep(const store_move_from *from, size_t n)
{
    size_t size = n * sizeof(*from);
    for (size_t i = 0; i < n; i++)
        size += strlen(from[i].stage) + 1;
    store_move_from *kept = malloc(size ? size : 1);
    if (!kept)
        return NULL;
    char *text = (char *)(kept + n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(from[i].stage) + 1;
        memcpy(text, from[i].stage, len);
        kept[i] = (store_move_from){from[i].service_id, text};
        text += len;
    }
    return kept;
}

static void moves_forget_all(app *ap)
{
    pthread_mutex_lock(&ap->moves_lock);
    for (size_t i = 0; i < APP_MOVE_SLOTS; i++) {
        free(ap->moves[i].from);
        memset(&ap->moves[i], 0, sizeof(ap->moves[i]));
    }
    pthread_mutex_unlock(&ap->moves_lock);
}

/* The pairs copied into `a`, or NULL. */
static store_move_from *moves_in(arena *a, const store_move_from *from, size_t n)
{
    store_move_from *copy = arena_calloc(a, n ? n : 1, sizeof(*copy));
    for (size_t i = 0; copy && i < n; i++) {
        copy[i] = (store_move_from){from[i].service_id, arena_strdup(a, from[i].stage)};
        if (!copy[i].stage)
            copy = NULL;
    }
    return copy;
}

/* Keeps, in place, the pairs still plain by the services as cached now, and
 * holds those services in `a` for the caller: so a remembered set is never
 * staler than the services themselves. */
static store_rc moves_check(app *ap, arena *a, const char *to, store_move_from *from, size_t *n,
                            const app_service ***services)
{
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    *services = arena_calloc(a, *n ? *n : 1, sizeof(**services));
    if (!*services)
        return STORE_ERROR;
    const app_service *e = NULL;
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        /* A service's pairs are next to each other. */
        if ((!e || e->svc.id != from[i].service_id) &&
            app_service_get(ap, a, from[i].service_id, &e) != STORE_OK)
            return STORE_UNAVAILABLE;
        if (app_move_is_plain(e, from[i].stage, to)) {
            from[kept] = from[i];
            (*services)[kept++] = e;
        }
    }
    *n = kept;
    return STORE_OK;
}

store_rc app_plain_moves(app *ap, arena *a, int64_t org_id, const char *to,
                         const store_move_from **from, const app_service ***services, size_t *n)
{
    *from = NULL;
    *services = NULL;
    *n = 0;
    if (strlen(to) > WF_CODE_MAX)
        return STORE_OK;
    app_moves *m = &ap->moves[moves_slot(org_id, to)];
    int64_t now = app_now();
    store_move_from *pairs = NULL;
    pthread_mutex_lock(&ap->moves_lock);
    bool hit =
        m->org_id == org_id && strcmp(m->stage, to) == 0 && now - m->loaded_at < APP_SERVICE_TTL_S;
    if (hit) {
        pairs = moves_in(a, m->from, m->n);
        *n = m->n;
    }
    pthread_mutex_unlock(&ap->moves_lock);
    if (hit && !pairs)
        return STORE_ERROR;
    if (!hit) {
        store_rc rc = moves_load(ap, a, org_id, to, &pairs, n);
        if (rc != STORE_OK)
            return rc;
        store_move_from *kept = moves_keep(pairs, *n);
        if (kept) { /* otherwise answered, just not remembered */
            pthread_mutex_lock(&ap->moves_lock);
            free(m->from);
            *m = (app_moves){.org_id = org_id, .loaded_at = now, .from = kept, .n = *n};
            snprintf(m->stage, sizeof(m->stage), "%s", to);
            pthread_mutex_unlock(&ap->moves_lock);
        }
    }
    *from = pairs;
    return moves_check(ap, a, to, pairs, n, services);
}
