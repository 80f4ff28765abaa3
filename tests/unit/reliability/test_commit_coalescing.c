/*
 * test_commit_coalescing.c — the writer holds its commit back while the notifier
 * syncs (writer.c, "commit coalescing").
 *
 * The ledger runs on a store opened through the fault VFS (faultvfs.h), whose
 * sync gate keeps the notifier inside a sync for as long as the test wants.
 * Batches applied meanwhile stay in the writer's open transaction: none of them
 * is committed, none answered, until the sync ends; then all of them are
 * committed as one transaction, synced, and answered. Without it (the default)
 * every batch commits at once (the contrast). A store failure at that joint commit
 * fails every batch in it — none of them is in the ledger — and the same
 * requests succeed, once each, when the disk is back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "core/time.h"
#include "ledger/ledger.h"
#include "fault_env.h"
#include "store/sqlite/faultvfs.h"

#define assert_err(got, want) assert_string_equal(pb_err_code(got), pb_err_code(want))
#define WAIT_US (10 * 1000000) /* what "eventually" means here */

typedef struct call {
    pb_transfer t;
    sem_t done;
    pb_err status;
    int calls;
} call;

typedef struct env {
    fault_env f;
    /* here, not on a case's stack: a case that fails returns while they are in
     * flight, and the ledger answers them when teardown closes it */
    call c[4];
} env;

static void on_done(void *ctx, pb_err status)
{
    call *c = ctx;
    c->status = status;
    c->calls++;
    sem_post(&c->done);
}

static env *open_env(bool coalesce)
{
    env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    fault_env_init(&e->f, "/tmp/pbcoalesce.XXXXXX");
    /* every sync through the notifier (none by the writer itself), no timed
     * checkpoint during a case (the checkpointer's syncs would wait at the gate),
     * and no idle timer's empty batch (its commit would count) */
    pb_ledger_config cfg = {.checkpoint_ms = 600000,
                            .expiry_interval_ms = 600000,
                            .idle_sync_in_notifier = true,
                            .coalesce = coalesce,
                            .balance_flush_ms = 2};
    fault_env_open(&e->f, e->f.url, &cfg);
    fault_env_accounts(&e->f);
    return e;
}

static int teardown(void **state)
{
    env *e = *state;
    pb_faultvfs_hold_syncs(false);
    pb_faultvfs_fail_writes(0);
    fault_env_remove(&e->f); /* the ledger's close answers what is in flight */
    free(e);
    return 0;
}

static void deposit(const env *e, call *c, const char *key, int64_t amount)
{
    memset(c, 0, sizeof *c);
    snprintf(c->t.scope, sizeof c->t.scope, "test");
    snprintf(c->t.key, sizeof c->t.key, "%s", key);
    c->t.debit_account_id = e->f.house;
    c->t.credit_account_id = e->f.player;
    c->t.amount = amount;
    c->t.code = PB_CODE_DEPOSIT;
    snprintf(c->t.currency, sizeof c->t.currency, "EUR");
    sem_init(&c->done, 0, 0);
}

static void submit(env *e, call *c)
{
    assert_err(pb_ledger_submit_async(e->f.ledger, &c->t, 1, on_done, c), PB_OK);
}

static pb_ledger_stats stats(env *e)
{
    pb_ledger_stats s;
    pb_ledger_stats_get(e->f.ledger, &s);
    return s;
}

static void pause_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until the notifier waits in a sync at the gate. */
static void await_sync_held(void)
{
    int64_t until = pb_time_mono_us() + WAIT_US;
    while (pb_faultvfs_syncs_waiting() == 0) {
        if (pb_time_mono_us() > until)
            fail_msg("no sync reached the gate");
        pause_ms(1);
    }
}

/* Submits c and waits until the writer has applied it (one batch more). */
static void submit_applied(env *e, call *c)
{
    uint64_t batches = stats(e).batches;
    submit(e, c);
    int64_t until = pb_time_mono_us() + WAIT_US;
    while (stats(e).batches == batches) {
        if (pb_time_mono_us() > until)
            fail_msg("the writer did not apply %s", c->t.key);
        pause_ms(1);
    }
}

static void await_done(call *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_US / 1000000;
    if (sem_timedwait(&c->done, &ts) != 0)
        fail_msg("%s was not answered", c->t.key);
    assert_int_equal(c->calls, 1);
}

static int64_t balance(env *e)
{
    pb_ledger_account a;
    assert_err(pb_ledger_account_get(e->f.conn, e->f.player, &a), PB_OK);
    return pb_ledger_available(&a);
}

static void verify_clean(env *e, int64_t transfers)
{
    pb_ledger_verify_summary s;
    assert_err(pb_ledger_verify(e->f.conn, NULL, NULL, &s), PB_OK);
    assert_int_equal(s.violations, 0);
    assert_int_equal(s.transfers, transfers);
}

/*
 * A is committed and its sync held; B, C and D are applied as three batches
 * meanwhile. Returns the commits counted while the sync was held (after A's).
 */
static uint64_t three_batches_during_a_sync(env *e, call c[4])
{
    const char *keys[4] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++)
        deposit(e, &c[i], keys[i], 10 + i);
    pb_faultvfs_hold_syncs(true);
    uint64_t commits0 = stats(e).commits;
    submit(e, &c[0]);
    await_sync_held();
    assert_int_equal(stats(e).commits, commits0 + 1); /* A's commit, waiting for its sync */
    for (int i = 1; i < 4; i++)
        submit_applied(e, &c[i]);
    pause_ms(20); /* room for a commit the writer should not make */
    for (int i = 0; i < 4; i++)
        assert_int_equal(c[i].calls, 0); /* nobody answered before the sync */
    return stats(e).commits - commits0 - 1;
}

static void batches_during_a_sync_commit_together(void **state)
{
    env *e = *state = open_env(true);
    call *c = e->c;
    uint64_t held = three_batches_during_a_sync(e, c);
    assert_int_equal(held, 0); /* B, C and D wait in the open transaction */
    /* nothing of them is committed: a reader does not see them yet */
    pb_ledger_record r;
    assert_err(pb_ledger_transfer_by_key(e->f.conn, "test", "b", &r), PB_ERR_TRANSFER_NOT_FOUND);
    uint64_t commits = stats(e).commits;
    pb_faultvfs_hold_syncs(false);
    for (int i = 0; i < 4; i++) {
        await_done(&c[i]);
        assert_err(c[i].status, PB_OK);
        assert_err(c[i].t.result, PB_OK);
    }
    assert_int_equal(stats(e).commits, commits + 1); /* one commit for the three batches */
    assert_int_equal(balance(e), 10 + 11 + 12 + 13);
    verify_clean(e, 4);
}

static void without_coalescing_each_batch_commits(void **state)
{
    env *e = *state = open_env(false);
    call *c = e->c;
    uint64_t held = three_batches_during_a_sync(e, c);
    assert_int_equal(held, 3);
    pb_faultvfs_hold_syncs(false);
    for (int i = 0; i < 4; i++) {
        await_done(&c[i]);
        assert_err(c[i].t.result, PB_OK);
    }
    assert_int_equal(balance(e), 10 + 11 + 12 + 13);
    verify_clean(e, 4);
}

static void a_failed_joint_commit_fails_every_batch_in_it(void **state)
{
    env *e = *state = open_env(true);
    call *c = e->c;
    assert_int_equal(three_batches_during_a_sync(e, c), 0);
    uint64_t before = pb_faultvfs_fail_writes(SQLITE_IOERR_WRITE);
    pb_faultvfs_hold_syncs(false);
    await_done(&c[0]); /* committed before the disk failed */
    assert_err(c[0].status, PB_OK);
    for (int i = 1; i < 4; i++) {
        await_done(&c[i]);
        assert_true(c[i].status == PB_ERR_STORE_UNAVAILABLE || c[i].status == PB_ERR_INTERNAL);
    }
    assert_true(pb_faultvfs_fail_writes(0) > before);
    pb_ledger_record r;
    assert_err(pb_ledger_transfer_by_key(e->f.conn, "test", "a", &r), PB_OK);
    for (int i = 1; i < 4; i++)
        assert_err(pb_ledger_transfer_by_key(e->f.conn, "test", c[i].t.key, &r),
                   PB_ERR_TRANSFER_NOT_FOUND);
    assert_int_equal(balance(e), 10);
    verify_clean(e, 1);
    /* the disk is back: the same requests take effect, once each */
    for (int i = 1; i < 4; i++) {
        pb_transfer t = c[i].t;
        t.result = PB_OK;
        t.replayed = false;
        assert_err(pb_ledger_submit(e->f.ledger, &t, 1), PB_OK);
        assert_err(t.result, PB_OK);
        assert_false(t.replayed);
    }
    assert_int_equal(balance(e), 10 + 11 + 12 + 13);
    verify_clean(e, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(batches_during_a_sync_commit_together, teardown),
        cmocka_unit_test_teardown(without_coalescing_each_batch_commits, teardown),
        cmocka_unit_test_teardown(a_failed_joint_commit_fails_every_batch_in_it, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
