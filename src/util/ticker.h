/* ticker.h - a thread that calls one function over and over.
 *
 * For a server's work that no request triggers (see api/background.h): the
 * function runs at once again while it reports work done, so a backlog
 * drains without waiting, and otherwise after interval_ms. Stopping waits
 * for a call in progress to return.
 */
#ifndef OC_TICKER_H
#define OC_TICKER_H

#include <stddef.h>

typedef struct ticker ticker;

/* How much work the call did; 0 (or a failure, which the function reports
 * itself) waits for the next interval. */
typedef size_t (*ticker_fn)(void *arg);

/* Starts the thread calling fn(arg); arg must outlive it. NULL when the
 * thread cannot be started. */
ticker *ticker_start(unsigned interval_ms, ticker_fn fn, void *arg);
/* Stops the thread and frees t; NULL is allowed. */
void ticker_stop(ticker *t);

#endif
