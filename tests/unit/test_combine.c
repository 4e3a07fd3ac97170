/* test_combine.c - group commit: every item settled once, in batches that
 * respect their limits, and callers who wait together served together. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/combine.h"

#define CALLERS 12

typedef struct item {
    combine_item link; /* first: a batch's items are items */
    int settled;       /* how many batches settled it */
    size_t batch_size; /* the size of the batch that did */
} item;

/* What the batches saw. Batch functions write it under mu; a batch
 * function runs with the combiner's lock released, so `hold` can keep the
 * first batch running while the other callers queue behind it. */
typedef struct record {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t sizes[CALLERS];
    size_t batches;
    size_t settled; /* items settled by batches that have ended */
    int running, most_running;
    bool hold; /* the first batch waits until released */
    bool released;
    combiner *c;
} record;

static void settle(void *ctx, combine_item **items, size_t n)
{
    record *r = ctx;
    pthread_mutex_lock(&r->mu);
    bool first = r->batches == 0;
    r->sizes[r->batches++] = n;
    r->running++;
    if (r->running > r->most_running)
        r->most_running = r->running;
    while (first && r->hold && !r->released)
        pthread_cond_wait(&r->cv, &r->mu);
    r->running--;
    r->settled += n;
    pthread_mutex_unlock(&r->mu);
    for (size_t i = 0; i < n; i++) {
        item *it = (item *)items[i];
        it->settled++;
        it->batch_size = n;
    }
}

static void *submit(void *arg)
{
    void **pair = arg;
    combine_submit(pair[0], pair[1]);
    return NULL;
}

static void record_init(record *r, combiner *c, bool hold)
{
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->batches = r->settled = 0;
    r->running = r->most_running = 0;
    r->hold = hold;
    r->released = false;
    r->c = c;
}

/* Items queued, and items whose batch has ended. */
static size_t accounted(record *r, combiner *c, size_t *batches)
{
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    for (const combine_item *it = c->head; it; it = it->next)
        n++;
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_lock(&r->mu);
    n += r->settled;
    *batches = r->batches;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Starts CALLERS submitters and returns once all have been answered. When
 * r->hold, the first caller's batch runs alone and is held until every
 * other caller is queued or answered. */
static void run_callers(record *r, combiner *c, item *items)
{
    pthread_t threads[CALLERS];
    void *pairs[CALLERS][2];
    size_t batches = 0;
    for (int i = 0; i < CALLERS; i++) {
        pairs[i][0] = c;
        pairs[i][1] = &items[i].link;
        assert_int_equal(pthread_create(&threads[i], NULL, submit, pairs[i]), 0);
        while (r->hold && i == 0 && (accounted(r, c, &batches), batches == 0))
            sched_yield();
    }
    while (r->hold && accounted(r, c, &batches) < CALLERS - 1)
        sched_yield();
    pthread_mutex_lock(&r->mu);
    r->released = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < CALLERS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
}

static void test_alone(void **state)
{
    (void)state;
    combiner c;
    record r;
    record_init(&r, &c, false);
    assert_int_equal(combine_init(&c, 8, 1, settle, &r), 0);
    item it = {0};
    combine_submit(&c, &it.link);
    assert_int_equal(it.settled, 1);
    assert_int_equal(it.batch_size, 1);
    assert_int_equal(r.batches, 1);
    combine_destroy(&c);
}

static void test_limits(void **state)
{
    (void)state;
    assert_int_equal(combine_init(&(combiner){0}, 0, 1, settle, NULL), -1);
    assert_int_equal(combine_init(&(combiner){0}, COMBINE_BATCH_MAX + 1, 1, settle, NULL), -1);
    assert_int_equal(combine_init(&(combiner){0}, 8, 0, settle, NULL), -1);
}

/* The callers who queue while a batch runs are all taken by the next. */
static void test_waiting_callers_share_a_batch(void **state)
{
    (void)state;
    combiner c;
    record r;
    record_init(&r, &c, true);
    assert_int_equal(combine_init(&c, COMBINE_BATCH_MAX, 1, settle, &r), 0);
    item items[CALLERS] = {0};
    run_callers(&r, &c, items);
    assert_int_equal(r.batches, 2);
    assert_int_equal(r.sizes[0], 1);
    assert_int_equal(r.sizes[1], CALLERS - 1);
    for (int i = 0; i < CALLERS; i++)
        assert_int_equal(items[i].settled, 1);
    assert_int_equal(items[0].batch_size, 1);
    combine_destroy(&c);
}

/* No batch passes max_batch, and no more than max_running run at once. */
static void test_batch_and_running_limits(void **state)
{
    (void)state;
    combiner c;
    record r;
    record_init(&r, &c, true);
    assert_int_equal(combine_init(&c, 4, 2, settle, &r), 0);
    item items[CALLERS] = {0};
    run_callers(&r, &c, items);
    size_t total = 0;
    for (size_t b = 0; b < r.batches; b++) {
        assert_true(r.sizes[b] >= 1 && r.sizes[b] <= 4);
        total += r.sizes[b];
    }
    assert_int_equal(total, CALLERS);
    /* While the first batch is held, other leaders take the rest. */
    assert_int_equal(r.most_running, 2);
    assert_true(r.batches >= 1 + (CALLERS - 1 + 3) / 4);
    for (int i = 0; i < CALLERS; i++)
        assert_int_equal(items[i].settled, 1);
    combine_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alone),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_waiting_callers_share_a_batch),
        cmocka_unit_test(test_batch_and_running_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
