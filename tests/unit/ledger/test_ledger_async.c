/*
 * test_ledger_async.c — pb_ledger_submit_async(): the callback runs exactly
 * once with the submission's status, each transfer holds its outcome, a
 * submission refused by the stateless checks calls back at once, and many
 * submissions in flight from one thread all complete (the shape the HTTP
 * server uses: suspend the request, resume it from the callback).
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

typedef struct waiter {
    sem_t done;
    pb_err status;
    int calls;
    pthread_t thread;
} waiter;

static void on_done(void *ctx, pb_err status)
{
    waiter *w = ctx;
    w->status = status;
    w->calls++;
    w->thread = pthread_self();
    sem_post(&w->done);
}

static void test_async_commits_and_calls_back(void **state)
{
    fx *f = *state;
    int64_t psp = fx_account(f, "psp", "psp_clearing", 0);
    int64_t p = fx_account(f, "player:1", "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_transfer t = fx_transfer("dep-1", psp, p, 500, PB_CODE_DEPOSIT);
    waiter w = {.calls = 0};
    sem_init(&w.done, 0, 0);
    assert_int_equal(pb_ledger_submit_async(f->ledger, &t, 1, on_done, &w), PB_OK);
    sem_wait(&w.done);
    assert_int_equal(w.status, PB_OK);
    assert_int_equal(w.calls, 1);
    assert_false(pthread_equal(w.thread, pthread_self())); /* called from a ledger thread */
    assert_int_equal(t.result, PB_OK);
    assert_int_equal(fx_get(f, p).credits_posted, 500); /* durable and visible when called */
    sem_destroy(&w.done);
}

static void test_async_business_rejection(void **state)
{
    fx *f = *state;
    int64_t h = fx_account(f, "house", "house_revenue", 0);
    int64_t p = fx_account(f, "player:1", "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_transfer t = fx_transfer("bet-1", p, h, 1, PB_CODE_BET);
    waiter w = {.calls = 0};
    sem_init(&w.done, 0, 0);
    assert_int_equal(pb_ledger_submit_async(f->ledger, &t, 1, on_done, &w), PB_OK);
    sem_wait(&w.done);
    assert_int_equal(w.status, PB_OK);
    assert_int_equal(t.result, PB_ERR_INSUFFICIENT_FUNDS);
    sem_destroy(&w.done);
}

static void test_async_refused_calls_back_at_once(void **state)
{
    fx *f = *state;
    int64_t h = fx_account(f, "house", "house_revenue", 0);
    int64_t p = fx_account(f, "player:1", "player_cash", 0);
    pb_transfer t = fx_transfer("bad", p, h, 0, PB_CODE_BET); /* amount 0 */
    waiter w = {.calls = 0};
    sem_init(&w.done, 0, 0);
    assert_int_equal(pb_ledger_submit_async(f->ledger, &t, 1, on_done, &w), PB_OK);
    assert_int_equal(w.calls, 1); /* before returning, on this thread */
    assert_true(pthread_equal(w.thread, pthread_self()));
    assert_int_equal(w.status, PB_OK);
    assert_int_equal(t.result, PB_ERR_AMOUNT_INVALID);

    pb_transfer open_chain = fx_transfer("open", p, h, 1, PB_CODE_BET);
    open_chain.flags = PB_TRANSFER_LINKED;
    assert_int_equal(pb_ledger_submit_async(f->ledger, &open_chain, 1, on_done, &w), PB_OK);
    assert_int_equal(w.calls, 2);
    assert_int_equal(w.status, PB_ERR_LINKED_CHAIN_OPEN);
    sem_destroy(&w.done);
}

static void test_async_many_in_flight(void **state)
{
    fx *f = *state;
    enum { N = 200 };
    int64_t psp = fx_account(f, "psp", "psp_clearing", 0);
    int64_t p = fx_account(f, "player:1", "player_cash", 0);
    static pb_transfer t[N];
    static waiter w[N];
    for (int i = 0; i < N; i++) {
        char key[32];
        snprintf(key, sizeof key, "dep-%d", i);
        t[i] = fx_transfer(key, psp, p, i + 1, PB_CODE_DEPOSIT);
        w[i].calls = 0;
        sem_init(&w[i].done, 0, 0);
        assert_int_equal(pb_ledger_submit_async(f->ledger, &t[i], 1, on_done, &w[i]), PB_OK);
    }
    int64_t sum = 0;
    for (int i = 0; i < N; i++) {
        sem_wait(&w[i].done);
        assert_int_equal(w[i].calls, 1);
        assert_int_equal(t[i].result, PB_OK);
        sum += i + 1;
        sem_destroy(&w[i].done);
    }
    assert_int_equal(fx_get(f, p).credits_posted, sum);
    assert_int_equal(fx_verify(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_async_commits_and_calls_back, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_async_business_rejection, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_async_refused_calls_back_at_once, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_async_many_in_flight, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
