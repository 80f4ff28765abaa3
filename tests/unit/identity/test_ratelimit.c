/*
 * test_ratelimit.c — the token buckets: a burst then RATE_LIMITED with the exact
 * wait, refill with time, independent keys, bounded memory under a flood of
 * keys (full buckets swept, the quietest evicted), and exact counting under
 * concurrent threads.
 */
#include <pthread.h>

#include "fixture.h"

#define S 1000000LL

static void burst_then_limited_then_refill(void **state)
{
    (void)state;
    pb_ratelimit *rl = pb_ratelimit_new(5, 2 * S, 100);
    assert_non_null(rl);
    int64_t now = 1000 * S, retry = -1;
    for (int i = 0; i < 5; i++)
        assert_int_equal(pb_ratelimit_take(rl, "ip:1", now, &retry), PB_OK);
    assert_int_equal(pb_ratelimit_take(rl, "ip:1", now, &retry), PB_ERR_RATE_LIMITED);
    assert_int_equal(retry, 2 * S);
    assert_int_equal(pb_ratelimit_take(rl, "ip:1", now + S, &retry), PB_ERR_RATE_LIMITED);
    assert_int_equal(retry, S);
    /* another key is independent */
    assert_int_equal(pb_ratelimit_take(rl, "ip:2", now, &retry), PB_OK);
    /* one token per 2 s */
    assert_int_equal(pb_ratelimit_take(rl, "ip:1", now + 2 * S, &retry), PB_OK);
    assert_int_equal(pb_ratelimit_take(rl, "ip:1", now + 2 * S, &retry), PB_ERR_RATE_LIMITED);
    /* after a long pause the whole burst is back, not more */
    now += 3600 * S;
    for (int i = 0; i < 5; i++)
        assert_int_equal(pb_ratelimit_take(rl, "ip:1", now, NULL), PB_OK);
    assert_int_equal(pb_ratelimit_take(rl, "ip:1", now, NULL), PB_ERR_RATE_LIMITED);
    pb_ratelimit_free(rl);
    assert_null(pb_ratelimit_new(0, S, 10));
    assert_null(pb_ratelimit_new(1, 0, 10));
}

static void memory_is_bounded(void **state)
{
    (void)state;
    pb_ratelimit *rl = pb_ratelimit_new(3, S, 256);
    char key[32];
    int64_t now = 1000 * S;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "ip:%d", i);
        assert_int_equal(pb_ratelimit_take(rl, key, now + i, NULL), PB_OK);
        assert_true(pb_ratelimit_size(rl) <= 256);
    }
    /* a hot key keeps being limited while the flood goes on around it */
    for (int i = 0; i < 3; i++)
        assert_int_equal(pb_ratelimit_take(rl, "hot", now + 20000, NULL), PB_OK);
    assert_int_equal(pb_ratelimit_take(rl, "hot", now + 20000, NULL), PB_ERR_RATE_LIMITED);
    /* full buckets are dropped: later, everything is idle and swept on demand */
    now += 3600 * S;
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "late:%d", i);
        assert_int_equal(pb_ratelimit_take(rl, key, now, NULL), PB_OK);
    }
    assert_true(pb_ratelimit_size(rl) <= 256);
    pb_ratelimit_free(rl);
}

typedef struct worker {
    pb_ratelimit *rl;
    int allowed;
} worker;

static void *hammer(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 2000; i++)
        if (pb_ratelimit_take(w->rl, "shared", 5000 * S, NULL) == PB_OK)
            w->allowed++;
    return NULL;
}

static void exact_under_threads(void **state)
{
    (void)state;
    pb_ratelimit *rl = pb_ratelimit_new(100, S, 1000);
    pthread_t th[8];
    worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (worker){.rl = rl};
        pthread_create(&th[i], NULL, hammer, &w[i]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += w[i].allowed;
    }
    assert_int_equal(total, 100); /* exactly the burst at one instant */
    pb_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_limited_then_refill),
        cmocka_unit_test(memory_is_bounded),
        cmocka_unit_test(exact_under_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
