/* combine.c - group commit: see combine.h. */
#include "util/combine.h"

int combine_init(combiner *c, size_t max_batch, int max_running, combine_fn fn, void *ctx)
{
    if (max_batch < 1 || max_batch > COMBINE_BATCH_MAX || max_running < 1)
        return -1;
    if (pthread_mutex_init(&c->mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&c->cv, NULL) != 0) {
        pthread_mutex_destroy(&c->mu);
        return -1;
    }
    c->head = NULL;
    c->tail = &c->head;
    c->queued = 0;
    c->running = 0;
    c->max_running = max_running;
    c->max_batch = max_batch;
    c->fn = fn;
    c->ctx = ctx;
    return 0;
}

void combine_destroy(combiner *c)
{
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

/* Unlinks up to max_batch items from the queue's head into batch[]. */
static size_t take_batch(combiner *c, combine_item **batch)
{
    size_t n = 0;
    while (c->head && n < c->max_batch) {
        combine_item *it = c->head;
        c->head = it->next;
        it->next = NULL;
        batch[n++] = it;
    }
    if (!c->head)
        c->tail = &c->head;
    c->queued -= n;
    return n;
}

void combine_submit(combiner *c, combine_item *it)
{
    it->next = NULL;
    it->done = false;
    combine_item *batch[COMBINE_BATCH_MAX];
    pthread_mutex_lock(&c->mu);
    *c->tail = it;
    c->tail = &it->next;
    c->queued++;
    while (!it->done) {
        if (c->running >= c->max_running || c->queued == 0) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        /* Lead a batch: it may not hold this caller's own item when more
         * than max_batch wait, in which case the loop leads or waits again. */
        size_t n = take_batch(c, batch);
        c->running++;
        pthread_mutex_unlock(&c->mu);
        c->fn(c->ctx, batch, n);
        pthread_mutex_lock(&c->mu);
        c->running--;
        for (size_t i = 0; i < n; i++)
            batch[i]->done = true;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
}
