/* worker.c - delivery threads over the outbox. */
#include "notify/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "notify/send.h"
#include "util/arena.h"
#include "util/log.h"

/* How many notifications one claim takes, per channel: enough to spread a
 * claim's write over several sends, few enough to finish well within the
 * lease. */
#define BATCH 8
#define CHANNELS_MAX 6

struct notify_worker {
    store *s;
    const notify_config *c;
    const char *channels[CHANNELS_MAX];
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    bool stopping;     /* guarded by mu */
    atomic_bool quit;  /* the same, read between sends without the lock */
    unsigned wakes;    /* guarded by mu: counts notify_worker_wake calls */
};

int64_t notify_backoff_ms(const notify_config *c, int attempt, double random)
{
    double delay = c->retry_base_ms;
    for (int i = 1; i < attempt && delay < c->retry_max_ms; i++)
        delay *= 2;
    if (delay > c->retry_max_ms)
        delay = c->retry_max_ms;
    return (int64_t)(delay / 2 + delay / 2 * random);
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static void record(notify_worker *w, const store_notice *n, send_rc sent, const char *reason,
                   int64_t now)
{
    store_outcome outcome = NOTICE_DELIVERED;
    int64_t next_at = 0;
    if (sent != SEND_OK) {
        bool last = sent == SEND_FAIL || n->attempts >= w->c->max_attempts;
        outcome = last ? NOTICE_FAILED : NOTICE_RETRY;
        double r = (double)randombytes_uniform(1000000) / 1e6;
        int64_t ms = notify_backoff_ms(w->c, n->attempts, r);
        /* The outbox counts in seconds: a delay rounds up to the next one. */
        next_at = now + (ms + 999) / 1000;
    }
    store_rc rc = store_notice_result(w->s, n->id, n->attempts, outcome, reason, now, next_at);
    if (rc == STORE_CONFLICT)
        log_warn("msg=\"notification settled by a later attempt\" id=%lld", (long long)n->id);
    else if (rc != STORE_OK)
        log_error("msg=\"cannot record a delivery attempt; it will be made again\" id=%lld",
                  (long long)n->id);
    if (outcome == NOTICE_FAILED)
        log_warn("msg=\"notification failed\" id=%lld channel=%s attempts=%d", (long long)n->id,
                 n->channel, n->attempts);
}

/* Claims and sends a batch from each channel in turn; the number claimed,
 * or -1 when the store could not be asked. */
static int run_batch(notify_worker *w, send_conn *sc)
{
    int claimed = 0;
    for (size_t c = 0; w->channels[c] && !atomic_load(&w->quit); c++) {
        arena a;
        arena_init(&a);
        store_notice *batch;
        size_t n;
        store_rc rc =
            store_notice_claim(w->s, &a, w->channels[c], now_s(), w->c->lease_s, BATCH, &batch, &n);
        if (rc != STORE_OK) {
            arena_free(&a);
            return -1;
        }
        claimed += (int)n;
        /* A stop leaves the rest to the lease: they are sent after it ends. */
        for (size_t i = 0; i < n && !atomic_load(&w->quit); i++) {
            char reason[512];
            send_rc sent = send_notice(w->c, sc, &batch[i], now_s(), reason, sizeof(reason));
            record(w, &batch[i], sent, sent == SEND_OK ? NULL : reason, now_s());
        }
        arena_free(&a);
    }
    return claimed;
}

static void *worker_main(void *arg)
{
    notify_worker *w = arg;
    send_conn *sc = send_conn_new();
    if (!sc) {
        log_error("msg=\"a delivery thread is out of memory\"");
        return NULL;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        unsigned seen = w->wakes;
        pthread_mutex_unlock(&w->mu);
        int claimed = run_batch(w, sc);
        pthread_mutex_lock(&w->mu);
        /* Work found suggests more is waiting: go again at once. */
        if (claimed > 0 || w->stopping || w->wakes != seen)
            continue;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + (int64_t)w->c->poll_ms * 1000000;
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        while (!w->stopping && w->wakes == seen) {
            if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&w->mu);
    send_conn_free(sc);
    return NULL;
}

notify_worker *notify_worker_start(store *s, const notify_config *c)
{
    if (c->workers <= 0)
        return NULL;
    notify_worker *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->s = s;
    w->c = c;
    size_t k = 0;
    w->channels[k++] = "webhook";
    if (notify_email_configured(c))
        w->channels[k++] = "email";
    if (notify_sms_configured(c))
        w->channels[k++] = "sms";
    if (notify_letters_configured(c))
        w->channels[k++] = "post";
    w->channels[k] = NULL;
    pthread_condattr_t attr;
    bool mu_ok = false, cv_ok = false;
    if (pthread_mutex_init(&w->mu, NULL) != 0)
        goto fail;
    mu_ok = true;
    if (pthread_condattr_init(&attr) != 0)
        goto fail;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    cv_ok = pthread_cond_init(&w->cv, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!cv_ok)
        goto fail;
    w->threads = calloc((size_t)c->workers, sizeof(*w->threads));
    if (!w->threads)
        goto fail;
    for (int i = 0; i < c->workers; i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0) {
            log_error("msg=\"cannot start a delivery thread\"");
            break;
        }
        w->nthreads++;
    }
    if (w->nthreads == 0)
        goto fail;
    log_info("msg=\"delivering notifications\" threads=%d email=%s sms=%s letters=%s", w->nthreads,
             notify_email_configured(c) ? "yes" : "no", notify_sms_configured(c) ? "yes" : "no",
             notify_letters_configured(c) ? "yes" : "no");
    return w;
fail:
    free(w->threads);
    if (cv_ok)
        pthread_cond_destroy(&w->cv);
    if (mu_ok)
        pthread_mutex_destroy(&w->mu);
    free(w);
    return NULL;
}

void notify_worker_wake(notify_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->wakes++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void notify_worker_stop(notify_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    atomic_store(&w->quit, true);
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    free(w->threads);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
