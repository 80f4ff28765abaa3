/*
 * test_ledger_command.c — ledger commands (pb_ledger_command[_async]): the
 * function runs on the writer inside the batch, sees the counters of the
 * batch so far, its transfers follow the usual rules, its own rows commit with
 * them, and a command that reports a store failure rolls the whole batch back
 * (its transfers and its rows with it) so the caller sees nothing happened.
 */
#include <errno.h>
#include <unistd.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

#include "core/time.h"
#include "fixture.h"
#include "ledger/ledger_internal.h" /* the blocked callers' wake-up tree, driven by hand */

typedef struct cmd_ctx {
    int64_t from, to, amount;
    const char *key;
    bool fail_store; /* return INTERNAL after the transfer (a store failure) */
    bool write_row;  /* write a row of its own through the writer's connection */
    pb_err transfer_result;
    int64_t seen_before; /* from's available balance the command saw */
    pthread_t thread;
} cmd_ctx;

static pb_err command(pb_ledger_tx *tx, void *arg)
{
    cmd_ctx *c = arg;
    c->thread = pthread_self();
    pb_ledger_account a;
    assert_int_equal(pb_ledger_tx_account(tx, c->from, &a), PB_OK);
    c->seen_before = pb_ledger_available(&a);
    pb_transfer t = fx_transfer(c->key, c->from, c->to, c->amount, PB_CODE_TRANSFER);
    pb_err e = pb_ledger_tx_submit(tx, &t, 1);
    if (e != PB_OK)
        return e;
    c->transfer_result = t.result;
    if (c->write_row &&
        pb_store_exec_raw(pb_ledger_tx_conn(tx), "CREATE TABLE IF NOT EXISTS cmd_probe(x INTEGER);"
                                                 "INSERT INTO cmd_probe VALUES (1)") != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    return c->fail_store ? PB_ERR_INTERNAL : PB_OK;
}

static int64_t probe_rows(fx *f)
{
    /* counts the command's rows through a second command (the reader cannot see a missing table) */
    return pb_store_exec_raw(f->conn, "SELECT count(*) FROM cmd_probe") == PB_STORE_OK ? 1 : 0;
}

static void test_command_moves_money_and_writes_rows_atomically(void **state)
{
    fx *f = *state;
    int64_t psp = fx_account(f, "psp", "psp_clearing", 0);
    int64_t p = fx_account(f, "player:1", "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_transfer dep = fx_transfer("dep", psp, p, 1000, PB_CODE_DEPOSIT);
    assert_int_equal(fx_submit1(f, &dep), PB_OK);
    cmd_ctx c = {.from = p, .to = psp, .amount = 400, .key = "c1", .write_row = true};
    assert_int_equal(pb_ledger_command(f->ledger, command, &c), PB_OK);
    assert_false(pthread_equal(c.thread, pthread_self())); /* ran on the writer */
    assert_int_equal(c.seen_before, 1000);
    assert_int_equal(c.transfer_result, PB_OK);
    assert_int_equal(fx_get(f, p).debits_posted, 400);
    assert_int_equal(probe_rows(f), 1);
    /* the same key again inside a command replays, as anywhere else */
    cmd_ctx again = {.from = p, .to = psp, .amount = 400, .key = "c1"};
    assert_int_equal(pb_ledger_command(f->ledger, command, &again), PB_OK);
    assert_int_equal(again.transfer_result, PB_OK);
    assert_int_equal(again.seen_before, 600);
    assert_int_equal(fx_get(f, p).debits_posted, 400);
    /* a business refusal is the command's outcome, not a batch failure */
    cmd_ctx over = {.from = p, .to = psp, .amount = 601, .key = "c2"};
    assert_int_equal(pb_ledger_command(f->ledger, command, &over), PB_OK);
    assert_int_equal(over.transfer_result, PB_ERR_INSUFFICIENT_FUNDS);
    assert_int_equal(fx_verify(f), 0);
}

static void test_failed_command_rolls_back_its_batch(void **state)
{
    fx *f = *state;
    int64_t psp = fx_account(f, "psp", "psp_clearing", 0);
    int64_t p = fx_account(f, "player:1", "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_transfer dep = fx_transfer("dep", psp, p, 1000, PB_CODE_DEPOSIT);
    assert_int_equal(fx_submit1(f, &dep), PB_OK);
    cmd_ctx c = {
        .from = p, .to = psp, .amount = 300, .key = "c1", .fail_store = true, .write_row = true};
    assert_int_equal(pb_ledger_command(f->ledger, command, &c), PB_ERR_INTERNAL);
    assert_int_equal(c.transfer_result, PB_OK);      /* it was applied inside the batch ... */
    assert_int_equal(fx_get(f, p).debits_posted, 0); /* ... and rolled back with it */
    assert_int_equal(probe_rows(f), 0);
    /* the writer recovered: the same key now succeeds for real */
    cmd_ctx retry = {.from = p, .to = psp, .amount = 300, .key = "c1"};
    assert_int_equal(pb_ledger_command(f->ledger, command, &retry), PB_OK);
    assert_int_equal(retry.seen_before, 1000);
    assert_int_equal(fx_get(f, p).debits_posted, 300);
    assert_int_equal(fx_verify(f), 0);
}

typedef struct waiter {
    sem_t done;
    pb_err status;
} waiter;

static void on_done(void *ctx, pb_err status)
{
    waiter *w = ctx;
    w->status = status;
    sem_post(&w->done);
}

static void test_async_commands_in_flight(void **state)
{
    fx *f = *state;
    int64_t psp = fx_account(f, "psp", "psp_clearing", 0);
    int64_t p = fx_account(f, "player:1", "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_transfer dep = fx_transfer("dep", psp, p, 100, PB_CODE_DEPOSIT);
    assert_int_equal(fx_submit1(f, &dep), PB_OK);
    enum { N = 50 };
    cmd_ctx c[N];
    waiter w[N];
    char keys[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        c[i] = (cmd_ctx){.from = p, .to = psp, .amount = 3, .key = keys[i]};
        sem_init(&w[i].done, 0, 0);
        assert_int_equal(pb_ledger_command_async(f->ledger, command, &c[i], on_done, &w[i]), PB_OK);
    }
    int ok = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        sem_wait(&w[i].done);
        assert_int_equal(w[i].status, PB_OK);
        ok += c[i].transfer_result == PB_OK;
        refused += c[i].transfer_result == PB_ERR_INSUFFICIENT_FUNDS;
        sem_destroy(&w[i].done);
    }
    assert_int_equal(ok, 33); /* 33 × 3 = 99 ≤ 100: serialised, never overdrawn */
    assert_int_equal(refused, N - 33);
    assert_int_equal(fx_get(f, p).debits_posted, 99);
    assert_int_equal(fx_verify(f), 0);
}

static pb_err hold_writer(pb_ledger_tx *tx, void *arg)
{
    (void)tx;
    sem_post(arg);      /* the writer is in here: the test queues its jobs now */
    usleep(100 * 1000); /* the jobs below queue up meanwhile: one batch, one sync */
    return PB_OK;
}

static pb_err noop(pb_ledger_tx *tx, void *arg)
{
    (void)tx;
    (void)arg;
    return PB_OK;
}

static void held_done(void *ctx, pb_err status)
{
    assert_int_equal(status, PB_OK);
    sem_post(ctx);
}

/* Blocked callers are woken as a tree (writer.c): the notifier posts the first
 * few and each woken caller the next ones. A caller that does not pass its
 * wake-up on (preempted, here: not yet) must not hold up the ones after it: the
 * notifier posts whoever still waits once it has nothing to sync. Nine callers of
 * one sync that never relay all wake within the bound; relaying late changes
 * nothing and lets go of the group (ASan: nothing leaks). */
static void test_blocked_callers_woken_without_relays(void **state)
{
    fx *f = *state;
    enum { N = 9 };
    sem_t held, holding;
    sem_init(&held, 0, 0);
    sem_init(&holding, 0, 0);
    assert_int_equal(pb_ledger_command_async(f->ledger, hold_writer, &holding, held_done, &held),
                     PB_OK);
    /* the writer is in hold_writer (waited for, not slept: on a loaded machine the
     * writer may not have picked it up after any fixed time) */
    while (sem_wait(&holding) != 0)
        ;
    ledger_job jobs[N];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < N; i++) {
        jobs[i].kind = JOB_COMMAND;
        jobs[i].fn = noop;
        jobs[i].relay = true; /* a blocked caller, as pb_ledger_enqueue makes it */
        sem_init(&jobs[i].done, 0, 0);
        pb_ledger_enqueue_async(f->ledger, &jobs[i]);
    }
    for (int i = 0; i < N; i++) {
        struct timespec ts;
        pb_time_deadline(CLOCK_REALTIME, 10000, &ts);
        int rc;
        while ((rc = sem_timedwait(&jobs[i].done, &ts)) != 0 && errno == EINTR)
            ;
        assert_int_equal(rc, 0); /* woken, though no caller before it relayed */
        assert_int_equal(jobs[i].status, PB_OK);
    }
    for (int i = 0; i < N; i++) {
        pb_ledger_job_relay(&jobs[i]); /* late: posts nobody twice */
        sem_destroy(&jobs[i].done);
    }
    while (sem_wait(&held) != 0)
        ;
    sem_destroy(&held);
    sem_destroy(&holding); /* hold_writer is done with it */
}

/* What a command or a callback on a ledger thread got from the blocking calls. */
typedef struct reentry {
    int64_t from, to;
    pb_err submit, submit_result, command, account, accounts, accounts_result;
    pb_err inner; /* the command's own transfer, through pb_ledger_tx_submit */
    sem_t done;
    pb_err status;
} reentry;

static pb_err never_run(pb_ledger_tx *tx, void *arg)
{
    (void)tx;
    *(bool *)arg = true;
    return PB_OK;
}

static bool never_ran;

/* Makes every blocking call the ledger has, from wherever it runs. */
static void call_blocking(reentry *r, pb_ledger *l, const char *key)
{
    pb_transfer t = fx_transfer(key, r->from, r->to, 1, PB_CODE_TRANSFER);
    r->submit = pb_ledger_submit(l, &t, 1);
    r->submit_result = t.result;
    r->command = pb_ledger_command(l, never_run, &never_ran);
    pb_ledger_account a = {.flags = 0};
    snprintf(a.brand, sizeof a.brand, "b1");
    snprintf(a.owner, sizeof a.owner, "reentrant");
    snprintf(a.kind, sizeof a.kind, "house_revenue");
    snprintf(a.currency, sizeof a.currency, "EUR");
    r->account = pb_ledger_account_create(l, &a);
    pb_err res = PB_OK;
    r->accounts = pb_ledger_accounts_create(l, &a, 1, &res);
    r->accounts_result = res;
}

static pb_ledger *reentry_ledger;

static pb_err reentrant_command(pb_ledger_tx *tx, void *arg)
{
    reentry *r = arg;
    call_blocking(r, reentry_ledger, "inside-command");
    pb_transfer t = fx_transfer("inner", r->from, r->to, 5, PB_CODE_TRANSFER);
    pb_err e = pb_ledger_tx_submit(tx, &t, 1);
    r->inner = e == PB_OK ? t.result : e;
    return PB_OK;
}

static void on_done_reentry(void *ctx, pb_err status)
{
    reentry *r = ctx;
    r->status = status;
    sem_post(&r->done);
}

static void reentrant_done(void *ctx, pb_err status)
{
    reentry *r = ctx;
    r->status = status;
    call_blocking(r, reentry_ledger, "inside-callback"); /* on the writer or the notifier */
    sem_post(&r->done);
}

static void wait_or_die(sem_t *s, const char *what)
{
    struct timespec ts;
    pb_time_deadline(CLOCK_REALTIME, 10000, &ts);
    int rc;
    while ((rc = sem_timedwait(s, &ts)) != 0 && errno == EINTR)
        ;
    if (rc != 0) { /* the writer is deadlocked: nothing can close the ledger */
        fprintf(stderr, "FAIL: %s never finished: the ledger thread deadlocked\n", what);
        _exit(1);
    }
}

static void assert_refused(const reentry *r)
{
    assert_int_equal(r->submit, PB_ERR_LEDGER_REENTRANT);
    assert_int_equal(r->submit_result, PB_ERR_LEDGER_REENTRANT);
    assert_int_equal(r->command, PB_ERR_LEDGER_REENTRANT);
    assert_int_equal(r->account, PB_ERR_LEDGER_REENTRANT);
    assert_int_equal(r->accounts, PB_ERR_LEDGER_REENTRANT);
    assert_int_equal(r->accounts_result, PB_ERR_LEDGER_REENTRANT);
}

/* A command (on the writer) or an async callback (on the writer or the notifier)
 * that makes a blocking ledger call would wait for its own thread forever. Each
 * such call is refused with LEDGER_REENTRANT, nothing of it happens, and the
 * writer goes on serving; the command's own pb_ledger_tx_submit still works. */
static void test_blocking_call_on_ledger_thread_refused(void **state)
{
    fx *f = *state;
    reentry_ledger = f->ledger;
    int64_t psp = fx_account(f, "psp", "psp_clearing", 0);
    int64_t p = fx_account(f, "player:1", "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_transfer dep = fx_transfer("dep", psp, p, 100, PB_CODE_DEPOSIT);
    assert_int_equal(fx_submit1(f, &dep), PB_OK);

    reentry in_cmd = {.from = p, .to = psp};
    sem_init(&in_cmd.done, 0, 0);
    assert_int_equal(pb_ledger_command_async(f->ledger, reentrant_command, &in_cmd, on_done_reentry,
                                             &in_cmd),
                     PB_OK);
    wait_or_die(&in_cmd.done, "a command making blocking ledger calls");
    sem_destroy(&in_cmd.done);
    assert_int_equal(in_cmd.status, PB_OK);
    assert_refused(&in_cmd);
    assert_int_equal(in_cmd.inner, PB_OK);

    /* a callback: the transfer's is answered on a ledger thread */
    reentry in_cb = {.from = p, .to = psp};
    sem_init(&in_cb.done, 0, 0);
    pb_transfer t = fx_transfer("async", p, psp, 7, PB_CODE_TRANSFER);
    assert_int_equal(pb_ledger_submit_async(f->ledger, &t, 1, reentrant_done, &in_cb), PB_OK);
    wait_or_die(&in_cb.done, "a callback making blocking ledger calls");
    sem_destroy(&in_cb.done);
    assert_int_equal(in_cb.status, PB_OK);
    assert_int_equal(t.result, PB_OK);
    assert_refused(&in_cb);

    /* nothing of the refused calls happened, and the writer still serves */
    assert_false(never_ran);
    pb_ledger_account acc;
    assert_int_equal(pb_ledger_account_find(f->conn, "b1", "reentrant", "house_revenue", "EUR",
                                            &acc),
                     PB_ERR_ACCOUNT_NOT_FOUND);
    pb_ledger_record rec;
    assert_int_equal(pb_ledger_transfer_by_key(f->conn, "test", "inside-command", &rec),
                     PB_ERR_TRANSFER_NOT_FOUND);
    assert_int_equal(pb_ledger_transfer_by_key(f->conn, "test", "inside-callback", &rec),
                     PB_ERR_TRANSFER_NOT_FOUND);
    pb_transfer after = fx_transfer("after", p, psp, 1, PB_CODE_TRANSFER);
    assert_int_equal(fx_submit1(f, &after), PB_OK);
    assert_int_equal(fx_get(f, p).debits_posted, 5 + 7 + 1);
    assert_int_equal(fx_verify(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_command_moves_money_and_writes_rows_atomically,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_failed_command_rolls_back_its_batch, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_async_commands_in_flight, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_blocking_call_on_ledger_thread_refused, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_blocked_callers_woken_without_relays, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
