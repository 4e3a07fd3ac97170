/* combine.h - group commit: callers' writes made together, one batch at a time.
 *
 * A durable commit costs the same for one row as for fifty, so writes that
 * arrive together are worth committing together. Each caller submits one
 * item and blocks until a batch holding it has run. There is no timer: the
 * caller whose item heads the queue leads the next batch as soon as fewer
 * than max_running run, taking every item queued (up to max_batch), so a
 * lone caller waits for nothing but its own write, and under load items
 * pile up while batches run and are taken together by the next leader. A
 * batch's end wakes the callers it settled and the next leader, no one
 * else.
 *
 * The batch function runs on the leading caller's thread with no lock held.
 * It must settle every item it is given (each item's owner reads its own
 * result fields once combine_submit returns). Items are owned by their
 * submitters, who are blocked for as long as a batch may touch them.
 */
#ifndef OC_COMBINE_H
#define OC_COMBINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct combine_item {
    struct combine_item *next; /* the combiner's: the queue's link */
    pthread_cond_t wake;       /* the combiner's: its submitter's wake-up */
    bool done;                 /* the combiner's: a batch has settled it */
} combine_item;

/* Settles items[0..n), n >= 1, in submission order. */
typedef void (*combine_fn)(void *ctx, combine_item **items, size_t n);

typedef struct combiner {
    pthread_mutex_t mu; /* guards everything below, and the items queued */
    combine_item *head;
    combine_item **tail;
    int running;
    int max_running;
    size_t max_batch;
    combine_fn fn;
    void *ctx;
} combiner;

/* The most items one batch takes. */
#define COMBINE_BATCH_MAX 64

/* 1 <= max_batch <= COMBINE_BATCH_MAX, max_running >= 1; ctx is passed to fn. -1 when these are out
 * of range or the lock cannot be made. */
int combine_init(combiner *c, size_t max_batch, int max_running, combine_fn fn, void *ctx);
/* No caller may be inside combine_submit. */
void combine_destroy(combiner *c);

/* Queues it, and returns once a batch has settled it. */
void combine_submit(combiner *c, combine_item *it);

#endif
