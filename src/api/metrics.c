/* metrics.c - Prometheus counters for the server; see metrics.h. */
#include "api/metrics.h"

#include <stdatomic.h>

/* Upper bounds of the latency buckets, in seconds, as Prometheus expects. */
static const double bucket_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define N_BUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))
#define SLOTS (METRICS_ROUTES_MAX + 1) /* the last is "no route" */

typedef struct route_stats {
    _Atomic uint64_t by_class[6]; /* status / 100: 1xx..5xx */
    _Atomic uint64_t buckets[N_BUCKETS];
    _Atomic uint64_t count;
    _Atomic uint64_t sum_ns;
} route_stats;

static route_stats stats[SLOTS];

void metrics_observe(int route_index, int status, int64_t duration_ns)
{
    int slot = route_index >= 0 && route_index < METRICS_ROUTES_MAX ? route_index : SLOTS - 1;
    route_stats *s = &stats[slot];
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add_explicit(&s->by_class[cls], 1, memory_order_relaxed);
    double seconds = (double)duration_ns / 1e9;
    for (size_t i = 0; i < N_BUCKETS; i++)
        if (seconds <= bucket_le[i]) {
            atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
            break;
        }
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_ns, duration_ns > 0 ? (uint64_t)duration_ns : 0,
                              memory_order_relaxed);
}

static uint64_t load(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

void metrics_write(buf *b, const char *const *patterns, const char *const *methods, int n_routes)
{
    if (n_routes > METRICS_ROUTES_MAX)
        n_routes = METRICS_ROUTES_MAX;
    buf_puts(b, "# HELP opencase_http_requests_total Requests answered, by route and status "
                "class.\n# TYPE opencase_http_requests_total counter\n");
    for (int r = 0; r <= n_routes; r++) {
        route_stats *s = &stats[r == n_routes ? SLOTS - 1 : r];
        const char *route = r == n_routes ? "unmatched" : patterns[r];
        const char *method = r == n_routes ? "" : methods[r];
        for (int cls = 1; cls <= 5; cls++) {
            uint64_t v = load(&s->by_class[cls]);
            if (v)
                buf_printf(b,
                           "opencase_http_requests_total{route=\"%s\",method=\"%s\",code=\"%dxx\"} "
                           "%llu\n",
                           route, method, cls, (unsigned long long)v);
        }
    }
    buf_puts(b, "# HELP opencase_http_request_duration_seconds Time to build a response, by "
                "route.\n# TYPE opencase_http_request_duration_seconds histogram\n");
    for (int r = 0; r <= n_routes; r++) {
        route_stats *s = &stats[r == n_routes ? SLOTS - 1 : r];
        uint64_t count = load(&s->count);
        if (!count)
            continue;
        const char *route = r == n_routes ? "unmatched" : patterns[r];
        const char *method = r == n_routes ? "" : methods[r];
        uint64_t cumulative = 0;
        for (size_t i = 0; i < N_BUCKETS; i++) {
            cumulative += load(&s->buckets[i]);
            buf_printf(b,
                       "opencase_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                       "le=\"%g\"} %llu\n",
                       route, method, bucket_le[i], (unsigned long long)cumulative);
        }
        buf_printf(b,
                   "opencase_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                   "le=\"+Inf\"} %llu\n"
                   "opencase_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n"
                   "opencase_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} "
                   "%llu\n",
                   route, method, (unsigned long long)count, route, method,
                   (double)load(&s->sum_ns) / 1e9, route, method, (unsigned long long)count);
    }
}

void metrics_write_log(buf *b, uint64_t entries, uint64_t queued)
{
    buf_printf(b,
               "# HELP opencase_log_entries Entries in the public log.\n"
               "# TYPE opencase_log_entries gauge\n"
               "opencase_log_entries %llu\n"
               "# HELP opencase_log_queued_entries Changes committed whose log entries are "
               "still to be appended.\n"
               "# TYPE opencase_log_queued_entries gauge\n"
               "opencase_log_queued_entries %llu\n",
               (unsigned long long)entries, (unsigned long long)queued);
}
