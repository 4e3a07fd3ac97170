/* log_sequencer.c - the thread that sequences the public log; see
 * log_sequencer.h. */
#include "api/log_sequencer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct log_sequencer {
    store *s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool quit;
};

static void *run(void *arg)
{
    log_sequencer *q = arg;
    pthread_mutex_lock(&q->mu);
    while (!q->quit) {
        pthread_mutex_unlock(&q->mu);
        size_t n = 0;
        /* Failures were logged by the store; the rows wait for the next run. */
        store_rc rc = store_log_sequence(q->s, false, &n);
        pthread_mutex_lock(&q->mu);
        if (rc == STORE_OK && n > 0)
            continue;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)LOG_SEQUENCER_INTERVAL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!q->quit && pthread_cond_timedwait(&q->cv, &q->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

log_sequencer *log_sequencer_start(store *s)
{
    log_sequencer *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->s = s;
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&q->thread, NULL, run, q) != 0) {
        pthread_cond_destroy(&q->cv);
        pthread_mutex_destroy(&q->mu);
        free(q);
        return NULL;
    }
    return q;
}

void log_sequencer_stop(log_sequencer *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->quit = true;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
