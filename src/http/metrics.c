/*
 * metrics.c — request counters and latency histograms per route, rendered in
 * Prometheus text format 0.0.4.
 *
 * Layout: one route_stats per route plus one for unmatched paths. A route's
 * request counters live in a small open-addressed table keyed by (method,
 * status): a slot is claimed once with a compare-and-swap of its key from 0,
 * then only incremented. A route answers with a handful of statuses, so the
 * table never fills in practice; if it did, further (method, status) pairs
 * are counted under status "other". Histogram buckets are fixed, with integer
 * µs bounds; each holds the count of its own interval and rendering
 * accumulates them. All updates are relaxed atomics: a scrape may see a
 * request in the counter and not yet in the histogram, which Prometheus
 * tolerates.
 */
#include "http/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 32
/* Bucket upper bounds, in µs (compared exactly) and as Prometheus "le" labels. */
static const int64_t bucket_us[] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
static const char *const bucket_le[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01",
                                        "0.025",  "0.05",  "0.1",    "0.25",  "0.5",
                                        "1",      "2.5",   "5",      "10"};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])

static const char *const method_labels[PB_HTTP_METHOD_COUNT] = {"GET",     "HEAD",  "POST",
                                                                "PUT",     "PATCH", "DELETE",
                                                                "OPTIONS", "OTHER"};

typedef struct {
    _Atomic uint32_t key; /* method << 16 | status; 0 = free */
    _Atomic uint64_t count;
} slot_t;

typedef struct {
    slot_t slots[SLOTS];
    _Atomic uint64_t overflow[PB_HTTP_METHOD_COUNT];
    _Atomic uint64_t buckets[NBUCKETS + 1]; /* the last one is +Inf */
    _Atomic uint64_t sum_us;
    _Atomic uint64_t count;
} route_stats;

struct pb_http_metrics {
    const pb_route *routes;
    size_t n;
    route_stats *stats; /* n + 1 */
    _Atomic int64_t connections;
    _Atomic int64_t inflight;
};

size_t pb_http_method_index(const char *method)
{
    for (size_t i = 0; i < PB_HTTP_METHOD_OTHER; i++)
        if (method && strcmp(method, method_labels[i]) == 0)
            return i;
    return PB_HTTP_METHOD_OTHER;
}

const char *pb_http_method_label(size_t idx)
{
    return method_labels[idx < PB_HTTP_METHOD_COUNT ? idx : PB_HTTP_METHOD_OTHER];
}

pb_http_metrics *pb_http_metrics_new(const pb_route *routes, size_t n)
{
    pb_http_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->stats = calloc(n + 1, sizeof *m->stats);
    if (!m->stats) {
        free(m);
        return NULL;
    }
    m->routes = routes;
    m->n = n;
    return m;
}

void pb_http_metrics_free(pb_http_metrics *m)
{
    if (!m)
        return;
    free(m->stats);
    free(m);
}

/* Finds or claims the slot for key; NULL when the table is full. */
static slot_t *slot_for(route_stats *rs, uint32_t key)
{
    size_t h = (key * 2654435761u) % SLOTS;
    for (size_t i = 0; i < SLOTS; i++) {
        slot_t *s = &rs->slots[(h + i) % SLOTS];
        uint32_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == key)
            return s;
        if (k == 0) {
            uint32_t expected = 0;
            if (atomic_compare_exchange_strong_explicit(&s->key, &expected, key,
                                                        memory_order_acq_rel,
                                                        memory_order_acquire) ||
                expected == key)
                return s;
        }
    }
    return NULL;
}

void pb_http_metrics_observe(pb_http_metrics *m, size_t route, size_t method, int status,
                             int64_t latency_us)
{
    if (!m)
        return;
    if (route > m->n)
        route = m->n;
    if (method >= PB_HTTP_METHOD_COUNT)
        method = PB_HTTP_METHOD_OTHER;
    if (status < 100 || status > 999)
        status = 999;
    if (latency_us < 0)
        latency_us = 0;
    route_stats *rs = &m->stats[route];
    slot_t *s = slot_for(rs, (uint32_t)method << 16 | (uint32_t)status);
    if (s)
        atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&rs->overflow[method], 1, memory_order_relaxed);

    size_t b = 0;
    while (b < NBUCKETS && latency_us > bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&rs->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rs->sum_us, (uint64_t)latency_us, memory_order_relaxed);
    atomic_fetch_add_explicit(&rs->count, 1, memory_order_relaxed);
}

void pb_http_metrics_connections(pb_http_metrics *m, int delta)
{
    if (m)
        atomic_fetch_add_explicit(&m->connections, delta, memory_order_relaxed);
}

void pb_http_metrics_inflight(pb_http_metrics *m, int delta)
{
    if (m)
        atomic_fetch_add_explicit(&m->inflight, delta, memory_order_relaxed);
}

/* The label of route i (route names are validated to need no escaping). */
static const char *route_name(const pb_http_metrics *m, size_t i)
{
    return i < m->n ? m->routes[i].name : "unmatched";
}

/* The request counters of every route. */
static void render_counters(pb_http_metrics *m, pb_http_buf *out)
{
    pb_http_buf_puts(out, "# HELP pitboss_http_requests_total HTTP requests answered, by route, "
                          "method and status.\n"
                          "# TYPE pitboss_http_requests_total counter\n");
    for (size_t r = 0; r <= m->n; r++) {
        route_stats *rs = &m->stats[r];
        for (size_t i = 0; i < SLOTS; i++) {
            uint32_t key = atomic_load_explicit(&rs->slots[i].key, memory_order_acquire);
            if (key == 0)
                continue;
            pb_http_buf_printf(out,
                               "pitboss_http_requests_total{route=\"%s\",method=\"%s\","
                               "status=\"%u\"} %llu\n",
                               route_name(m, r), pb_http_method_label(key >> 16), key & 0xFFFFu,
                               (unsigned long long)atomic_load_explicit(&rs->slots[i].count,
                                                                        memory_order_relaxed));
        }
        for (size_t k = 0; k < PB_HTTP_METHOD_COUNT; k++) {
            uint64_t v = atomic_load_explicit(&rs->overflow[k], memory_order_relaxed);
            if (v)
                pb_http_buf_printf(out,
                                   "pitboss_http_requests_total{route=\"%s\",method=\"%s\","
                                   "status=\"other\"} %llu\n",
                                   route_name(m, r), pb_http_method_label(k),
                                   (unsigned long long)v);
        }
    }
}

/* The latency histogram of every route (unmatched paths only once seen). */
static void render_histograms(pb_http_metrics *m, pb_http_buf *out)
{
    pb_http_buf_puts(out, "# HELP pitboss_http_request_duration_seconds Time from the request "
                          "line to the end of the response, by route.\n"
                          "# TYPE pitboss_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= m->n; r++) {
        route_stats *rs = &m->stats[r];
        uint64_t count = atomic_load_explicit(&rs->count, memory_order_relaxed);
        if (r == m->n && count == 0)
            continue;
        const char *name = route_name(m, r);
        uint64_t cum = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) {
            cum += atomic_load_explicit(&rs->buckets[b], memory_order_relaxed);
            if (b < NBUCKETS)
                pb_http_buf_printf(out,
                                   "pitboss_http_request_duration_seconds_bucket{route=\"%s\","
                                   "le=\"%s\"} %llu\n",
                                   name, bucket_le[b], (unsigned long long)cum);
            else
                pb_http_buf_printf(out,
                                   "pitboss_http_request_duration_seconds_bucket{route=\"%s\","
                                   "le=\"+Inf\"} %llu\n",
                                   name, (unsigned long long)cum);
        }
        uint64_t sum_us = atomic_load_explicit(&rs->sum_us, memory_order_relaxed);
        pb_http_buf_printf(out,
                           "pitboss_http_request_duration_seconds_sum{route=\"%s\"} %llu.%06llu\n"
                           "pitboss_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                           name, (unsigned long long)(sum_us / 1000000),
                           (unsigned long long)(sum_us % 1000000), name, (unsigned long long)cum);
    }
}

void pb_http_metrics_render(pb_http_metrics *m, pb_http_buf *out)
{
    if (!m)
        return;
    render_counters(m, out);
    render_histograms(m, out);
    pb_http_buf_printf(out,
                       "# HELP pitboss_http_open_connections Client connections open now.\n"
                       "# TYPE pitboss_http_open_connections gauge\n"
                       "pitboss_http_open_connections %lld\n"
                       "# HELP pitboss_http_requests_in_flight Requests received and not yet "
                       "answered (suspended ones included).\n"
                       "# TYPE pitboss_http_requests_in_flight gauge\n"
                       "pitboss_http_requests_in_flight %lld\n",
                       (long long)atomic_load_explicit(&m->connections, memory_order_relaxed),
                       (long long)atomic_load_explicit(&m->inflight, memory_order_relaxed));
}
