/* metrics.h - request counters and latency histograms in Prometheus format.
 *
 * One slot per route of the route table (plus one for requests that matched
 * none), counted with relaxed atomics so that the hot path takes no lock.
 * Counts and timings only: no path, reference or client address is kept.
 * Beside them, two gauges of the public log, read from the store per scrape.
 */
#ifndef OC_METRICS_H
#define OC_METRICS_H

#include <stdint.h>

#include "http/http.h"

#define METRICS_ROUTES_MAX 128

/* Counts one answered request of route `route_index` (-1: none matched). */
void metrics_observe(int route_index, int status, int64_t duration_ns);

/* Writes every series in the Prometheus text format (version 0.0.4); the
 * route names come from `patterns`/`methods` in route-table order. */
void metrics_write(buf *b, const char *const *patterns, const char *const *methods, int n_routes);

/* Writes the public log's gauges: its entries, and the changes committed
 * whose entries the sequencer has still to append (store_log_queued). */
void metrics_write_log(buf *b, uint64_t entries, uint64_t queued);

#endif
