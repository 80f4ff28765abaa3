/*
 * test_metrics.c — the Prometheus rendering of the HTTP counters: one series
 * per (route, method, status), cumulative histogram buckets with _sum and
 * _count, the unmatched route, labels for unknown methods, the "other"
 * overflow status, gauges, and concurrent updates that lose nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/metrics.h"

static void h(pb_http_request *req, void *app)
{
    (void)req;
    (void)app;
}

static const pb_route routes[] = {
    {"GET", "/healthz", NULL, h, "healthz"},
    {"POST", "/v1/things", "things.write", h, "things.create"},
};

/* The value of the sample line that starts with `series ` in text, or -1. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

/* Renders m into a fresh string (caller frees). */
static char *render(pb_http_metrics *m)
{
    pb_http_buf b = {0};
    pb_http_metrics_render(m, &b);
    assert_false(b.failed);
    return b.data;
}

static void test_counters_and_histograms(void **state)
{
    (void)state;
    pb_http_metrics *m = pb_http_metrics_new(routes, 2);
    assert_non_null(m);
    size_t get = pb_http_method_index("GET"), post = pb_http_method_index("POST");
    pb_http_metrics_observe(m, 0, get, 200, 300);      /* 0.3 ms */
    pb_http_metrics_observe(m, 0, get, 200, 2000);     /* 2 ms */
    pb_http_metrics_observe(m, 0, get, 503, 20000000); /* 20 s: only +Inf */
    pb_http_metrics_observe(m, 1, post, 422, 1000);    /* exactly 1 ms: le="0.001" */
    pb_http_metrics_observe(m, 2, pb_http_method_index("BREW"), 404, 100);
    char *t = render(m);

    assert_true(
        sample(t, "pitboss_http_requests_total{route=\"healthz\",method=\"GET\",status=\"200\"}") ==
        2);
    assert_true(
        sample(t, "pitboss_http_requests_total{route=\"healthz\",method=\"GET\",status=\"503\"}") ==
        1);
    assert_true(
        sample(
            t,
            "pitboss_http_requests_total{route=\"things.create\",method=\"POST\",status=\"422\"}") ==
        1);
    assert_true(
        sample(
            t,
            "pitboss_http_requests_total{route=\"unmatched\",method=\"OTHER\",status=\"404\"}") ==
        1);

    const char *hb = "pitboss_http_request_duration_seconds_bucket{route=\"healthz\",le=";
    char s[160];
    snprintf(s, sizeof s, "%s\"0.0005\"}", hb);
    assert_true(sample(t, s) == 1);
    snprintf(s, sizeof s, "%s\"0.001\"}", hb);
    assert_true(sample(t, s) == 1);
    snprintf(s, sizeof s, "%s\"0.0025\"}", hb);
    assert_true(sample(t, s) == 2);
    snprintf(s, sizeof s, "%s\"10\"}", hb);
    assert_true(sample(t, s) == 2);
    snprintf(s, sizeof s, "%s\"+Inf\"}", hb);
    assert_true(sample(t, s) == 3);
    assert_true(sample(t, "pitboss_http_request_duration_seconds_count{route=\"healthz\"}") == 3);
    double sum = sample(t, "pitboss_http_request_duration_seconds_sum{route=\"healthz\"}");
    assert_true(sum > 20.0022 && sum < 20.0024);
    assert_true(
        sample(
            t,
            "pitboss_http_request_duration_seconds_bucket{route=\"things.create\",le=\"0.001\"}") ==
        1);
    assert_true(
        sample(
            t,
            "pitboss_http_request_duration_seconds_bucket{route=\"things.create\",le=\"0.0005\"}") ==
        0);
    assert_non_null(strstr(t, "# TYPE pitboss_http_requests_total counter\n"));
    assert_non_null(strstr(t, "# TYPE pitboss_http_request_duration_seconds histogram\n"));
    free(t);
    pb_http_metrics_free(m);
}

static void test_unobserved_and_gauges(void **state)
{
    (void)state;
    pb_http_metrics *m = pb_http_metrics_new(routes, 2);
    char *t = render(m);
    /* declared routes always have a histogram (zeros); unmatched only once seen */
    assert_true(sample(t, "pitboss_http_request_duration_seconds_count{route=\"healthz\"}") == 0);
    assert_null(strstr(t, "route=\"unmatched\""));
    assert_null(strstr(t, "pitboss_http_requests_total{"));
    assert_true(sample(t, "pitboss_http_open_connections") == 0);
    free(t);

    pb_http_metrics_connections(m, 1);
    pb_http_metrics_connections(m, 1);
    pb_http_metrics_connections(m, -1);
    pb_http_metrics_inflight(m, 3);
    t = render(m);
    assert_true(sample(t, "pitboss_http_open_connections") == 1);
    assert_true(sample(t, "pitboss_http_requests_in_flight") == 3);
    free(t);
    pb_http_metrics_free(m);
}

static void test_overflow_status(void **state)
{
    (void)state;
    pb_http_metrics *m = pb_http_metrics_new(routes, 2);
    /* more distinct (method, status) pairs than slots: the rest lands in "other" */
    size_t get = pb_http_method_index("GET");
    int total = 0;
    for (int st = 200; st < 260; st++, total++)
        pb_http_metrics_observe(m, 0, get, st, 10);
    char *t = render(m);
    double other =
        sample(t, "pitboss_http_requests_total{route=\"healthz\",method=\"GET\",status=\"other\"}");
    assert_true(other > 0);
    int counted = (int)other;
    for (int st = 200; st < 260; st++) {
        char s[128];
        snprintf(s, sizeof s,
                 "pitboss_http_requests_total{route=\"healthz\",method=\"GET\",status=\"%d\"}", st);
        if (sample(t, s) == 1)
            counted++;
    }
    assert_int_equal(counted, total);
    free(t);
    pb_http_metrics_free(m);
}

typedef struct {
    pb_http_metrics *m;
} worker_arg;

static void *hammer(void *p)
{
    worker_arg *a = p;
    for (int i = 0; i < 20000; i++)
        pb_http_metrics_observe(a->m, (size_t)(i % 2), pb_http_method_index(i % 2 ? "POST" : "GET"),
                                i % 3 ? 200 : 500, i % 5000);
    return NULL;
}

static void test_concurrent_updates(void **state)
{
    (void)state;
    pb_http_metrics *m = pb_http_metrics_new(routes, 2);
    pthread_t th[4];
    worker_arg a = {m};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &a), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *t = render(m);
    double c0 = sample(t, "pitboss_http_request_duration_seconds_count{route=\"healthz\"}");
    double c1 = sample(t, "pitboss_http_request_duration_seconds_count{route=\"things.create\"}");
    assert_true(c0 == 40000 && c1 == 40000);
    double ok =
        sample(t, "pitboss_http_requests_total{route=\"healthz\",method=\"GET\",status=\"200\"}");
    double bad =
        sample(t, "pitboss_http_requests_total{route=\"healthz\",method=\"GET\",status=\"500\"}");
    assert_true(ok + bad == 40000);
    free(t);
    pb_http_metrics_free(m);
}

static void test_method_labels(void **state)
{
    (void)state;
    assert_string_equal(pb_http_method_label(pb_http_method_index("GET")), "GET");
    assert_string_equal(pb_http_method_label(pb_http_method_index("DELETE")), "DELETE");
    assert_string_equal(pb_http_method_label(pb_http_method_index("get")), "OTHER");
    assert_string_equal(pb_http_method_label(pb_http_method_index(NULL)), "OTHER");
    assert_string_equal(pb_http_method_label(99), "OTHER");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_and_histograms),
        cmocka_unit_test(test_unobserved_and_gauges),
        cmocka_unit_test(test_overflow_status),
        cmocka_unit_test(test_concurrent_updates),
        cmocka_unit_test(test_method_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
