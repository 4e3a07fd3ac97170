/* app.c - the shared application context and its caches. */
#include "api/app.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    if (!password_hash("no account has this password", a->dummy_hash))
        return -1;
    a->limits = ratelimit_new();
    if (!a->limits)
        return -1;
    pthread_mutex_init(&a->history_lock, NULL);
    return 0;
}

void app_free(app *a)
{
    for (size_t i = 0; i < APP_HISTORY_SLOTS; i++)
        free(a->history[i].durations);
    pthread_mutex_destroy(&a->history_lock);
    ratelimit_free(a->limits);
    memset(a, 0, sizeof(*a));
}

int64_t app_now(void)
{
    return (int64_t)time(NULL);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Loads a service's durations from the store into heap memory, sorted. */
static int history_load(app *ap, int64_t service_id, int64_t **out, size_t *n)
{
    arena tmp;
    arena_init(&tmp);
    int64_t *rows = NULL;
    size_t count = 0;
    int rc = -1;
    if (store_service_durations(ap->store, &tmp, service_id, APP_HISTORY_CASES, &rows, &count) !=
        STORE_OK)
        goto out;
    *out = count ? malloc(count * sizeof(int64_t)) : NULL;
    if (count && !*out)
        goto out;
    if (count)
        memcpy(*out, rows, count * sizeof(int64_t));
    qsort(*out, count, sizeof(int64_t), cmp_i64);
    *n = count;
    rc = 0;
out:
    arena_free(&tmp);
    return rc;
}

int app_service_history(app *ap, arena *a, int64_t service_id, int64_t **out, size_t *n)
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
    if (history_load(ap, service_id, &fresh, &count) != 0)
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
