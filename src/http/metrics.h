/*
 * metrics.h — the HTTP server's counters and latency histograms (internal to
 * src/http; exposed to its unit test). Every update is a relaxed atomic
 * increment: nothing on the request path takes a lock.
 */
#ifndef PB_HTTP_METRICS_H
#define PB_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

typedef struct pb_http_metrics pb_http_metrics;

/* The method labels; anything else is counted as "OTHER". */
enum { PB_HTTP_METHOD_OTHER = 7, PB_HTTP_METHOD_COUNT = 8 };
/* The label index of a method ("GET" → 0, …, unknown → PB_HTTP_METHOD_OTHER). */
size_t pb_http_method_index(const char *method);
const char *pb_http_method_label(size_t idx);

/* Counters for routes[0..n) plus one "unmatched" slot at index n. NULL on OOM. */
pb_http_metrics *pb_http_metrics_new(const pb_route *routes, size_t n);
void pb_http_metrics_free(pb_http_metrics *m);

/* Counts one answered request: route index (n = unmatched), method label,
 * status and the time from the request line to the end of the response. */
void pb_http_metrics_observe(pb_http_metrics *m, size_t route, size_t method, int status,
                             int64_t latency_us);
/* Open connections (+1 when accepted, -1 when closed) and requests in flight. */
void pb_http_metrics_connections(pb_http_metrics *m, int delta);
void pb_http_metrics_inflight(pb_http_metrics *m, int delta);

/* Appends everything in Prometheus text format 0.0.4. */
void pb_http_metrics_render(pb_http_metrics *m, pb_http_buf *out);

#endif
