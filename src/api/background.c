/* background.c - the server's threads that no request triggers; see
 * background.h. */
#include "api/background.h"

#include <stdlib.h>

#include "api/app.h"
#include "util/ticker.h"

struct background {
    ticker *sequencer; /* NULL on a store that appends inline */
    ticker *sweeper;
};

/* Failures were logged by the store; the work waits for the next run. Only
 * a full batch runs the next at once: a batch costs one commit and a few
 * statements whatever its size, so while writes keep coming their entries
 * gather for an interval rather than go a few at a time. */
static size_t sequence_log(void *arg)
{
    size_t n = 0;
    if (store_log_sequence(arg, false, &n) != STORE_OK || n < STORE_LOG_BATCH)
        return 0;
    return n;
}

static size_t sweep_duties(void *arg)
{
    size_t n = 0;
    return store_duty_sweep(arg, app_now(), BACKGROUND_SWEEP_BATCH, &n) == STORE_OK ? n : 0;
}

background *background_start(store *s)
{
    background *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    if (store_log_queues(s) &&
        !(b->sequencer = ticker_start(BACKGROUND_SEQUENCE_MS, sequence_log, s)))
        goto fail;
    if (!(b->sweeper = ticker_start(BACKGROUND_SWEEP_MS, sweep_duties, s)))
        goto fail;
    return b;
fail:
    background_stop(b);
    return NULL;
}

void background_stop(background *b)
{
    if (!b)
        return;
    ticker_stop(b->sweeper);
    ticker_stop(b->sequencer);
    free(b);
}
