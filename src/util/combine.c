/* combine.c - group commit: see combine.h. */
#include "util/combine.h"

int combine_init(combiner *c, size_t max_batch, int max_running, combine_fn fn, void *ctx)
{
    if (max_batch < 1 || max_batch > COMBINE_BATCH_MAX || max_running < 1)
        return -1;
    if (pthread_mutex_init(&c->mu, NULL) != 0)
        return -1;
    c->head = NULL;
    c->tail = &c->head;
    c->running = 0;
    c->max_running = max_running;
    c->max_batch = max_batch;
    c->fn = fn;
    c->ctx = ctx;
    return 0;
}

void combine_destroy(combiner *c)
{
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
    return n;
}

/* Wakes the caller whose item heads the queue, if a batch may start: that
 * caller leads the next one. */
static void wake_next_leader(combiner *c)
{
    if (c->head && c->running < c->max_running)
        pthread_cond_signal(&c->head->wake);
}

void combine_submit(combiner *c, combine_item *it)
{
    it->next = NULL;
    it->done = false;
    pthread_cond_init(&it->wake, NULL);
    combine_item *batch[COMBINE_BATCH_MAX];
    pthread_mutex_lock(&c->mu);
    *c->tail = it;
    c->tail = &it->next;
    /* Only the caller at the queue's head leads, so a batch always holds its
     * leader's item, and a batch's end wakes its own callers and the next
     * leader rather than every caller waiting. */
    while (!it->done && (c->head != it || c->running >= c->max_running))
        pthread_cond_wait(&it->wake, &c->mu);
    if (!it->done) {
        size_t n = take_batch(c, batch);
        c->running++;
        wake_next_leader(c);
        pthread_mutex_unlock(&c->mu);
        c->fn(c->ctx, batch, n);
        pthread_mutex_lock(&c->mu);
        c->running--;
        for (size_t i = 0; i < n; i++) {
            batch[i]->done = true;
            if (batch[i] != it)
                pthread_cond_signal(&batch[i]->wake);
        }
        wake_next_leader(c);
    }
    pthread_mutex_unlock(&c->mu);
    pthread_cond_destroy(&it->wake);
}
