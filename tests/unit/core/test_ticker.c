/*
 * test_ticker.c — the periodic background thread (core/ticker.h): it starts,
 * passes come at the interval, a wake runs one at once, stop returns promptly
 * however long the interval, a pass at start when asked, and the backoff
 * doubles while passes fail up to its cap and resets after a good one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ticker.h"
#include "core/time.h"

#define MAXP 64

typedef struct rec {
    pthread_mutex_t mu;
    int n;               /* passes so far */
    int64_t at_ms[MAXP]; /* when each ran, ms since start */
    int64_t retry_ms[MAXP];
    int fail_first; /* the first fail_first passes fail */
    int64_t t0;
    bool entered, left;
    char name[16];
} rec;

static void rec_init(rec *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->t0 = pb_time_mono_us();
}

static bool on_pass(void *arg, int64_t retry_ms)
{
    rec *r = arg;
    pthread_mutex_lock(&r->mu);
    int i = r->n;
    if (i < MAXP) {
        r->at_ms[i] = (pb_time_mono_us() - r->t0) / 1000;
        r->retry_ms[i] = retry_ms;
    }
    r->n++;
    bool ok = i >= r->fail_first;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

static bool on_enter(void *arg)
{
    rec *r = arg;
    r->entered = true;
    pthread_getname_np(pthread_self(), r->name, sizeof r->name);
    return true;
}

static bool on_enter_fail(void *arg)
{
    ((rec *)arg)->entered = true;
    return false;
}

static void on_leave(void *arg) { ((rec *)arg)->left = true; }

static int passes(rec *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Waits up to ms for at least n passes; the count seen. */
static int wait_passes(rec *r, int n, int ms)
{
    int64_t end = pb_time_mono_us() + (int64_t)ms * 1000;
    while (passes(r) < n && pb_time_mono_us() < end)
        usleep(1000);
    return passes(r);
}

static void test_interval_and_name(void **state)
{
    (void)state;
    rec r;
    rec_init(&r);
    pb_ticker_spec s = {.name = "pb-test-tick",
                        .clock = CLOCK_MONOTONIC,
                        .interval_ms = 50,
                        .enter = on_enter,
                        .pass = on_pass,
                        .leave = on_leave,
                        .arg = &r};
    pb_ticker *t = pb_ticker_start(&s);
    assert_non_null(t);
    usleep(25000);
    /* the first pass after one interval: none yet, if this look came within it
     * (on a loaded machine the sleep may take longer; at_ms[0] below holds anyway) */
    int early = passes(&r);
    if (pb_time_mono_us() - r.t0 < 50000)
        assert_int_equal(early, 0);
    assert_true(wait_passes(&r, 3, 10000) >= 3);
    pb_ticker_stop(t);
    assert_true(r.entered);
    assert_true(r.left);
    assert_string_equal(r.name, "pb-test-tick");
    assert_true(r.at_ms[0] >= 50);
    assert_true(r.at_ms[1] - r.at_ms[0] >= 45); /* one interval apart, not sooner */
    assert_true(r.at_ms[2] - r.at_ms[1] >= 45);
    assert_int_equal(r.retry_ms[0], 50); /* no backoff: a failure waits the interval */
}

static void test_pass_at_start_realtime(void **state)
{
    (void)state;
    rec r;
    rec_init(&r);
    pb_ticker_spec s = {.clock = CLOCK_REALTIME,
                        .interval_ms = 60000,
                        .pass_at_start = true,
                        .pass = on_pass,
                        .arg = &r};
    pb_ticker *t = pb_ticker_start(&s);
    assert_non_null(t);
    assert_int_equal(wait_passes(&r, 1, 10000), 1);
    usleep(50000);
    assert_int_equal(passes(&r), 1); /* then none before the interval */
    pb_ticker_stop(t);
}

static void test_wake_runs_a_pass_at_once(void **state)
{
    (void)state;
    rec r;
    rec_init(&r);
    pb_ticker_spec s = {.clock = CLOCK_MONOTONIC, .interval_ms = 60000, .pass = on_pass, .arg = &r};
    pb_ticker *t = pb_ticker_start(&s);
    assert_non_null(t);
    usleep(20000);
    assert_int_equal(passes(&r), 0);
    int64_t t0 = pb_time_mono_us();
    pb_ticker_wake(t);
    assert_int_equal(wait_passes(&r, 1, 10000), 1);
    assert_true(pb_time_mono_us() - t0 <
                5000000); /* at once: not the 60 s interval (5 s: a loaded machine) */
    usleep(50000);
    assert_int_equal(passes(&r), 1); /* one pass per wake, then the interval again */
    pb_ticker_wake(t);
    assert_int_equal(wait_passes(&r, 2, 10000), 2);
    pb_ticker_stop(t);
}

static void test_stop_is_prompt(void **state)
{
    (void)state;
    rec r;
    rec_init(&r);
    pb_ticker_spec s = {.clock = CLOCK_MONOTONIC,
                        .interval_ms = 3600 * 1000,
                        .backoff_max_ms = 7200 * 1000,
                        .pass = on_pass,
                        .leave = on_leave,
                        .arg = &r};
    pb_ticker *t = pb_ticker_start(&s);
    assert_non_null(t);
    usleep(10000);
    int64_t t0 = pb_time_mono_us();
    pb_ticker_stop(t);
    assert_true(pb_time_mono_us() - t0 < 5000000); /* not the hour (5 s: a loaded machine) */
    assert_int_equal(passes(&r), 0);               /* stop runs no pass */
    assert_true(r.left);
}

static void test_enter_fails(void **state)
{
    (void)state;
    rec r;
    rec_init(&r);
    pb_ticker_spec s = {.clock = CLOCK_MONOTONIC,
                        .interval_ms = 10,
                        .pass_at_start = true,
                        .enter = on_enter_fail,
                        .pass = on_pass,
                        .leave = on_leave,
                        .arg = &r};
    pb_ticker *t = pb_ticker_start(&s);
    assert_non_null(t);
    usleep(50000);
    pb_ticker_stop(t);
    assert_true(r.entered);
    assert_int_equal(passes(&r), 0);
    assert_false(r.left);
}

static void test_backoff_doubles_to_cap_and_resets(void **state)
{
    (void)state;
    rec r;
    rec_init(&r);
    r.fail_first =
        5; /* waits: 20, then 40 80 160 160 160 after the failures, 20 after a good one */
    pb_ticker_spec s = {.clock = CLOCK_MONOTONIC,
                        .interval_ms = 20,
                        .backoff_max_ms = 160,
                        .pass = on_pass,
                        .arg = &r};
    pb_ticker *t = pb_ticker_start(&s);
    assert_non_null(t);
    assert_true(wait_passes(&r, 8, 10000) >= 8);
    pb_ticker_stop(t);
    static const int64_t retry[] = {40, 80, 160, 160, 160, 160, 40, 40};
    for (int i = 0; i < 8; i++)
        assert_int_equal(r.retry_ms[i], retry[i]);
    /* the gaps before passes 2..6 follow the failed passes' doubled waits */
    static const int64_t gap[] = {40, 80, 160, 160, 160, 20, 20};
    for (int i = 0; i < 7; i++) {
        int64_t d = r.at_ms[i + 1] - r.at_ms[i];
        assert_true(d >= gap[i] - 5);
        if (gap[i] == 160)
            assert_true(d < 160 * 2 + 500); /* capped: not 320, 640 */
    }
}

static void test_bad_spec(void **state)
{
    (void)state;
    pb_ticker_spec s = {.clock = CLOCK_MONOTONIC, .interval_ms = 0, .pass = on_pass};
    assert_null(pb_ticker_start(&s));
    s.interval_ms = 10;
    s.pass = NULL;
    assert_null(pb_ticker_start(&s));
    pb_ticker_stop(NULL);
    pb_ticker_wake(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interval_and_name),
        cmocka_unit_test(test_pass_at_start_realtime),
        cmocka_unit_test(test_wake_runs_a_pass_at_once),
        cmocka_unit_test(test_stop_is_prompt),
        cmocka_unit_test(test_enter_fails),
        cmocka_unit_test(test_backoff_doubles_to_cap_and_resets),
        cmocka_unit_test(test_bad_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
