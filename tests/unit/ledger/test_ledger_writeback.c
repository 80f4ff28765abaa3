/*
 * test_ledger_writeback.c — balance rows are written back lazily; nothing else lags.
 *
 * The writer keeps counters in memory and writes an account's ledger_balance row
 * back once it has lagged for balance_flush_ms. These tests pin down what that
 * must never change: readers in the writer's process and in another process
 * (another pb_store on the same file) see every committed transfer; verify
 * passes while rows lag; a crash (a copy of the files taken while the ledger
 * runs, which is what the disk holds after a kill) loses nothing: opening the
 * ledger on it replays the tail, and its decisions (insufficient funds) use the
 * replayed counters, not the stale rows; a clean stop writes every row back.
 */
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

#define HOUR_MS 3600000

typedef struct book {
    int64_t house, alice, bob;
} book;

static pb_store_account raw_row(pb_store_conn *c, int64_t id)
{
    pb_store_account a;
    assert_int_equal(pb_store_account_get(c, id, &a), PB_STORE_OK);
    return a;
}

static pb_transfer hold(const char *key, int64_t debit, int64_t credit, int64_t amount)
{
    pb_transfer t = fx_transfer(key, debit, credit, amount, 2);
    t.flags = PB_TRANSFER_PENDING;
    return t;
}

static pb_transfer resolve(const char *key, const pb_transfer *pending, uint32_t flag,
                           int64_t amount)
{
    pb_transfer t;
    memset(&t, 0, sizeof t);
    snprintf(t.scope, sizeof t.scope, "test");
    snprintf(t.key, sizeof t.key, "%s", key);
    t.flags = flag;
    t.pending_id = pending->record.id;
    t.amount = amount;
    return t;
}

/* house funds alice 1000 and bob 500; alice holds 300 for bob, 200 of it posted;
 * alice holds 100 more, voided. alice: credits 1000, debits 200; bob: 500 + 200. */
static book build(fx *f)
{
    book b;
    b.house = fx_account(f, "house", "house", 0);
    b.alice = fx_account(f, "player:alice", "player_cash",
                         PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    b.bob = fx_account(f, "player:bob", "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_transfer t = fx_transfer("fund-a", b.house, b.alice, 1000, 1);
    assert_int_equal(fx_submit1(f, &t), PB_OK);
    t = fx_transfer("fund-b", b.house, b.bob, 500, 1);
    assert_int_equal(fx_submit1(f, &t), PB_OK);
    pb_transfer h1 = hold("hold-1", b.alice, b.bob, 300);
    assert_int_equal(fx_submit1(f, &h1), PB_OK);
    t = resolve("post-1", &h1, PB_TRANSFER_POST_PENDING, 200);
    assert_int_equal(fx_submit1(f, &t), PB_OK);
    pb_transfer h2 = hold("hold-2", b.alice, b.bob, 100);
    assert_int_equal(fx_submit1(f, &h2), PB_OK);
    t = resolve("void-2", &h2, PB_TRANSFER_VOID_PENDING, 0);
    assert_int_equal(fx_submit1(f, &t), PB_OK);
    t = fx_transfer("too-much", b.alice, b.bob, 801, 3); /* 1000 - 200 = 800 left */
    assert_int_equal(fx_submit1(f, &t), PB_ERR_INSUFFICIENT_FUNDS);
    return b;
}

static void assert_counters(const pb_ledger_account *a, int64_t dp, int64_t dpo, int64_t cp,
                            int64_t cpo)
{
    assert_int_equal(a->debits_pending, dp);
    assert_int_equal(a->debits_posted, dpo);
    assert_int_equal(a->credits_pending, cp);
    assert_int_equal(a->credits_posted, cpo);
}

static void assert_built(pb_store_conn *c, const book *b)
{
    pb_ledger_account a;
    assert_int_equal(pb_ledger_account_get(c, b->alice, &a), PB_OK);
    assert_counters(&a, 0, 200, 0, 1000);
    assert_int_equal(pb_ledger_account_get(c, b->bob, &a), PB_OK);
    assert_counters(&a, 0, 0, 0, 700);
    assert_int_equal(pb_ledger_account_get(c, b->house, &a), PB_OK);
    assert_counters(&a, 0, 1500, 0, 0);
    assert_int_equal(a.last_seq, 2);
}

static pb_ledger_verify_summary verify(pb_store_conn *c)
{
    pb_ledger_verify_summary s;
    assert_int_equal(pb_ledger_verify(c, NULL, NULL, &s), PB_OK);
    return s;
}

static pb_store *open_store(const char *path, pb_store_conn **conn)
{
    char err[256];
    pb_store *s = pb_store_open(path, err, sizeof err);
    if (!s)
        fail_msg("open %s: %s", path, err);
    *conn = pb_store_connect(s, err, sizeof err);
    assert_non_null(*conn);
    return s;
}

/* Rows lag while the ledger runs, and no reader can tell. */
static void test_readers_see_committed_counters(void **state)
{
    fx *f = *state;
    f->balance_flush_ms = HOUR_MS;
    fx_restart(f);
    book b = build(f);

    /* the rows are behind: alice's row has not even seen her funding */
    pb_store_account row = raw_row(f->conn, b.alice);
    assert_int_equal(row.credits_posted, 0);
    assert_int_equal(row.last_seq, 0);

    /* a reader in the writer's process: the writer's published counters */
    assert_built(f->conn, &b);

    /* a reader in "another process" (its own pb_store: no writer registered on it)
     * replays the tail from the file */
    pb_store_conn *c2;
    pb_store *s2 = open_store(f->path, &c2);
    unsigned ticket;
    assert_null(pb_store_ledger_live(c2, &ticket));
    pb_store_ledger_live_done(c2, ticket);
    assert_built(c2, &b);
    pb_ledger_account found;
    assert_int_equal(pb_ledger_account_find(c2, "test", "player:bob", "player_cash", "EUR", &found),
                     PB_OK);
    assert_counters(&found, 0, 0, 0, 700);

    /* history starts at the newest transfer, not at the row's stale last_seq */
    pb_ledger_history_query q = {.account_id = b.bob, .limit = 10};
    pb_ledger_record recs[10];
    size_t n = 0;
    int64_t next = 0;
    assert_int_equal(pb_ledger_account_history(c2, &q, recs, &n, &next), PB_OK);
    assert_int_equal(n, 5); /* fund, hold, post, hold, void */
    assert_string_equal(recs[0].ikey, "void-2");
    assert_int_equal(pb_ledger_account_history(f->conn, &q, recs, &n, &next), PB_OK);
    assert_int_equal(n, 5);

    /* verify passes on the running database and says rows lag */
    pb_ledger_verify_summary s = verify(c2);
    assert_int_equal(s.violations, 0);
    assert_int_equal(s.lagging_rows, 3);
    assert_int_equal(s.balances_seq, 0);
    pb_store_disconnect(c2);
    pb_store_close(s2);

    /* a clean stop writes every row back */
    fx_restart(f);
    row = raw_row(f->conn, b.alice);
    assert_int_equal(row.credits_posted, 1000);
    assert_int_equal(row.debits_posted, 200);
    s = verify(f->conn);
    assert_int_equal(s.violations, 0);
    assert_int_equal(s.lagging_rows, 0);
    assert_int_equal(s.balances_seq, 6);
}

/* With the default delay, a busy writer writes rows back about once a second. */
static void test_rows_written_back_by_age(void **state)
{
    fx *f = *state;
    book b = build(f);
    for (int i = 0; i < 300; i++) { /* the writer's idle sweep runs every 20 ms here */
        pb_store_account row = raw_row(f->conn, b.bob);
        int64_t mark = -1;
        assert_int_equal(pb_store_balances_mark_get(f->conn, &mark), PB_STORE_OK);
        if (row.credits_posted == 700 && mark == 6) {
            pb_ledger_verify_summary s = verify(f->conn);
            assert_int_equal(s.violations, 0);
            assert_int_equal(s.lagging_rows, 0);
            return;
        }
        usleep(20000);
    }
    fail_msg("bob's balance row was not written back within 6 s");
}

/* balance_flush_ms < 0: every commit writes its rows (the eager mode). */
static void test_eager_mode(void **state)
{
    fx *f = *state;
    f->balance_flush_ms = -1;
    fx_restart(f);
    book b = build(f);
    pb_store_account row = raw_row(f->conn, b.bob);
    assert_int_equal(row.credits_posted, 700);
    int64_t mark = -1;
    assert_int_equal(pb_store_balances_mark_get(f->conn, &mark), PB_STORE_OK);
    assert_int_equal(mark, 6);
}

/* What a kill -9 leaves: a copy of the files taken while the ledger runs idle
 * (every acknowledged commit is in the log). path receives the copy's database. */
static void crash_copy(fx *f, char *dir, size_t dircap, char *path, size_t pathcap)
{
    char from[320], to[340];
    fx_sync(f); /* idle: no commit in flight while the files are copied */
    snprintf(dir, dircap, "/tmp/pbcrash.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, pathcap, "%s/ledger.db", dir);
    fx_copy_file(f->path, path, false);
    snprintf(from, sizeof from, "%s-wal", f->path);
    snprintf(to, sizeof to, "%s-wal", path);
    fx_copy_file(from, to, true); /* no -wal: nothing to copy */
}

/* What a kill -9 leaves: the files as they are while the ledger runs (every
 * acknowledged commit is in the log, the rows lag). Opening a ledger on them
 * replays the tail; its first decisions use the true counters. */
static void test_crash_loses_nothing(void **state)
{
    fx *f = *state;
    f->balance_flush_ms = HOUR_MS;
    fx_restart(f);
    book b = build(f);
    char dir[256], path[300];
    crash_copy(f, dir, sizeof dir, path, sizeof path);

    pb_store_conn *c2;
    pb_store *s2 = open_store(path, &c2);
    pb_ledger_verify_summary s = verify(c2);
    assert_int_equal(s.violations, 0);
    assert_int_equal(s.lagging_rows, 3);
    assert_int_equal(pb_store_account_get(c2, b.alice, &(pb_store_account){0}), PB_STORE_OK);
    assert_int_equal(raw_row(c2, b.alice).credits_posted, 0); /* stale on disk */

    char err[256];
    pb_ledger_config cfg = {.balance_flush_ms = HOUR_MS};
    pb_ledger *l2 = pb_ledger_open(s2, &cfg, err, sizeof err);
    if (!l2)
        fail_msg("ledger open on the crashed copy: %s", err);
    assert_built(c2, &b);

    /* alice has 800: 801 is refused although her stale row says 0 debits, and 800
     * passes although the row says 0 credits */
    pb_transfer t = fx_transfer("after-801", b.alice, b.bob, 801, 3);
    assert_int_equal(pb_ledger_submit(l2, &t, 1), PB_OK);
    assert_int_equal(t.result, PB_ERR_INSUFFICIENT_FUNDS);
    t = fx_transfer("after-800", b.alice, b.bob, 800, 3);
    assert_int_equal(pb_ledger_submit(l2, &t, 1), PB_OK);
    assert_int_equal(t.result, PB_OK);
    assert_int_equal(t.record.seq, 7);
    assert_int_equal(t.record.debit_prev_seq, 6); /* the account chain continues from the log */

    pb_ledger_close(l2); /* writes every row back */
    s = verify(c2);
    assert_int_equal(s.violations, 0);
    assert_int_equal(s.lagging_rows, 0);
    pb_store_account row = raw_row(c2, b.alice);
    assert_int_equal(row.debits_posted, 1000);
    assert_int_equal(row.credits_posted, 1000);
    assert_int_equal(raw_row(c2, b.bob).credits_posted, 1500);
    pb_store_disconnect(c2);
    pb_store_close(s2);
    fx_remove_db(dir, path);
}

/* ---- the open-pending projection (ledger_pending_open) lags the same way ---- */

static int count_row(void *ctx, int64_t seq, int64_t expires_at)
{
    (void)seq;
    (void)expires_at;
    (*(int *)ctx)++;
    return 0;
}

static int listed(pb_store_conn *c)
{
    int n = 0;
    assert_int_equal(pb_store_pending_open_scan(c, count_row, &n), PB_STORE_OK);
    return n;
}

static int64_t pending_mark(pb_store_conn *c)
{
    int64_t m = -1;
    assert_int_equal(pb_store_pending_mark_get(c, &m), PB_STORE_OK);
    return m;
}

/* the copy's clock: moved by the test while the copy's writer reads it */
static _Atomic int64_t g_copy_clock;
static int64_t copy_clock(void *ctx)
{
    (void)ctx;
    return atomic_load(&g_copy_clock);
}

/* A hold posted or voided within balance_flush_ms never reaches
 * ledger_pending_open; one still open stays in the writer's memory, above the
 * pending mark, and verify counts it as not yet listed. A crash loses none of
 * them: the ledger opened on the files finds them again (post, void, expire
 * them, refuse a second resolution), and its clean stop lists exactly the ones
 * still open. */
static void test_holds_lazily_listed_survive_a_crash(void **state)
{
    fx *f = *state;
    f->balance_flush_ms = HOUR_MS;
    fx_restart(f);
    book b = build(f); /* hold-1 posted, hold-2 voided: seqs 3..6 */
    pb_transfer h3 = hold("hold-3", b.alice, b.bob, 50);
    assert_int_equal(fx_submit1(f, &h3), PB_OK);
    pb_transfer h4 = hold("hold-4", b.alice, b.bob, 60);
    h4.timeout_s = 60;
    assert_int_equal(fx_submit1(f, &h4), PB_OK);
    pb_transfer h5 = hold("hold-5", b.alice, b.bob, 70);
    assert_int_equal(fx_submit1(f, &h5), PB_OK);
    assert_int_equal(listed(f->conn), 0); /* nothing written: all five in memory */
    pb_ledger_verify_summary s = verify(f->conn);
    assert_int_equal(s.violations, 0);
    assert_int_equal(s.open_pendings, 3);
    assert_int_equal(s.unlisted_pendings, 3);
    assert_true(s.pending_seq < h3.record.seq);

    char dir[256], path[300];
    crash_copy(f, dir, sizeof dir, path, sizeof path);
    pb_store_conn *c2;
    pb_store *s2 = open_store(path, &c2);
    char err[256];
    atomic_store(&g_copy_clock, f->clock_us);
    pb_ledger_config cfg = {.balance_flush_ms = HOUR_MS,
                            .now_us = copy_clock,
                            .expiry_interval_ms = 20};
    pb_ledger *l2 = pb_ledger_open(s2, &cfg, err, sizeof err);
    if (!l2)
        fail_msg("ledger open on the crashed copy: %s", err);
    /* the reopened writer holds them: alice has 800 - 50 - 60 - 70 = 620 free */
    pb_transfer t = fx_transfer("after-621", b.alice, b.bob, 621, 3);
    assert_int_equal(pb_ledger_submit(l2, &t, 1), PB_OK);
    assert_int_equal(t.result, PB_ERR_INSUFFICIENT_FUNDS);
    t = resolve("post-3", &h3, PB_TRANSFER_POST_PENDING, 0);
    assert_int_equal(pb_ledger_submit(l2, &t, 1), PB_OK);
    assert_int_equal(t.result, PB_OK);
    t = resolve("void-3", &h3, PB_TRANSFER_VOID_PENDING, 0);
    assert_int_equal(pb_ledger_submit(l2, &t, 1), PB_OK);
    assert_int_equal(t.result, PB_ERR_PENDING_ALREADY_POSTED);
    /* hold-4 expires on the copy's clock, found in memory, not in the table */
    atomic_fetch_add(&g_copy_clock, INT64_C(61) * 1000000);
    pb_ledger_account a = {0};
    for (int i = 0; i < 300 && a.debits_pending != 70; i++) {
        usleep(20000);
        assert_int_equal(pb_ledger_account_get(c2, b.alice, &a), PB_OK);
    }
    assert_int_equal(a.debits_pending, 70); /* hold-4's 60 went back */
    t = resolve("post-4", &h4, PB_TRANSFER_POST_PENDING, 0);
    assert_int_equal(pb_ledger_submit(l2, &t, 1), PB_OK);
    assert_int_equal(t.result, PB_ERR_PENDING_EXPIRED);
    s = verify(c2);
    assert_int_equal(s.violations, 0);
    assert_int_equal(s.open_pendings, 1);
    pb_ledger_close(l2); /* writes hold-5 to the table */
    s = verify(c2);
    assert_int_equal(s.violations, 0);
    assert_int_equal(s.open_pendings, 1);
    assert_int_equal(s.unlisted_pendings, 0);
    assert_int_equal(listed(c2), 1);
    int64_t exp;
    assert_int_equal(pb_store_pending_open_get(c2, h5.record.seq, &exp), PB_STORE_OK);
    assert_int_equal(pending_mark(c2), s.transfers);
    pb_store_disconnect(c2);
    pb_store_close(s2);
    fx_remove_db(dir, path);

    /* the original, stopped cleanly, lists its three open holds */
    fx_restart(f);
    assert_int_equal(listed(f->conn), 3);
    assert_int_equal(verify(f->conn).violations, 0);
}

/* A hold still open after balance_flush_ms is written to the table by the
 * writer's next pass, and the pending mark moves past it; a hold resolved
 * first never is. Eager mode (balance_flush_ms < 0) lists every hold at once. */
static void test_holds_listed_by_age(void **state)
{
    fx *f = *state;
    f->balance_flush_ms = 200;
    fx_restart(f);
    book b = build(f);
    pb_transfer h = hold("hold-open", b.alice, b.bob, 50);
    assert_int_equal(fx_submit1(f, &h), PB_OK);
    int i = 0;
    for (; i < 300 && (listed(f->conn) < 1 || pending_mark(f->conn) < h.record.seq); i++)
        usleep(20000);
    assert_true(i < 300);
    assert_int_equal(listed(f->conn), 1);
    pb_ledger_verify_summary s = verify(f->conn);
    assert_int_equal(s.violations, 0);
    assert_int_equal(s.unlisted_pendings, 0);
    /* resolving a listed hold deletes its row in the same commit */
    pb_transfer t = resolve("void-open", &h, PB_TRANSFER_VOID_PENDING, 0);
    assert_int_equal(fx_submit1(f, &t), PB_OK);
    assert_int_equal(listed(f->conn), 0);

    f->balance_flush_ms = -1;
    fx_restart(f);
    pb_transfer e = hold("hold-eager", b.alice, b.bob, 40);
    assert_int_equal(fx_submit1(f, &e), PB_OK);
    assert_int_equal(listed(f->conn), 1);
    assert_int_equal(pending_mark(f->conn), e.record.seq);
    assert_int_equal(fx_verify(f), 0);
}

/* The checkpointer is asked for a checkpoint as the writer's commits fill the
 * WAL towards its restart, not only on its timer (here ten minutes away): the
 * writer's restart then copies only what is left (writer.c). */
static void test_checkpointer_asked_as_the_wal_fills(void **state)
{
    fx *f = *state;
    f->checkpoint_ms = 600000;
    f->wal_restart_frames = 400;
    fx_restart(f);
    int64_t house = fx_account(f, "house", "house", 0);
    int64_t alice = fx_account(f, "alice", "player", 0);
    pb_ledger_stats st;
    pb_ledger_stats_get(f->ledger, &st);
    assert_int_equal(st.checkpoints, 0);
    /* one transfer per commit: each writes a few pages, so 300 of them pass the
     * half (200 pages) and three quarters (300) of the restart many times over */
    for (int i = 0; i < 300; i++) {
        char key[32];
        snprintf(key, sizeof key, "fill-%d", i);
        pb_transfer t = fx_transfer(key, house, alice, 1, 1);
        assert_int_equal(fx_submit1(f, &t), PB_OK);
    }
    for (int i = 0; i < 500; i++) { /* the checkpointer runs on its own thread */
        pb_ledger_stats_get(f->ledger, &st);
        if (st.checkpoints >= 2)
            break;
        usleep(10 * 1000);
    }
    assert_true(st.checkpoints >= 2);
    assert_int_equal(fx_get(f, alice).credits_posted, 300);
    assert_int_equal(fx_verify(f), 0);
}

/* The syncs are counted (pb_ledger_stats: syncs, sync_us_total, syncs_inline, shown
 * in /metrics and `bench ledger`): a caller who waits for each transfer to be durable
 * before sending the next gets one sync per transfer, never a sync shared with
 * another and never none. Such a lone caller's batches are synced by the writer
 * itself (nothing else queued, the notifier idle: writer.c), unless
 * idle_sync_in_notifier sends every batch through the notifier. */
static void lone_caller_syncs(fx *f, const char *tag, bool inline_expected)
{
    char owner[2][32];
    snprintf(owner[0], sizeof owner[0], "house-%s", tag);
    snprintf(owner[1], sizeof owner[1], "alice-%s", tag);
    int64_t house = fx_account(f, owner[0], "house", 0);
    int64_t alice = fx_account(f, owner[1], "player", 0);
    pb_ledger_stats before, after;
    pb_ledger_stats_get(f->ledger, &before);
    for (int i = 0; i < 20; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s-%d", tag, i);
        pb_transfer t = fx_transfer(key, house, alice, 1, 1);
        assert_int_equal(fx_submit1(f, &t), PB_OK);
    }
    /* the notifier counts a sync before it answers, but the writer counts a batch
     * after it has handed it to the notifier: the last one may not be counted yet */
    for (int i = 0; i < 500; i++) {
        pb_ledger_stats_get(f->ledger, &after);
        if (after.batches - before.batches >= 20)
            break;
        usleep(10 * 1000);
    }
    assert_int_equal(after.syncs - before.syncs, 20);
    assert_int_equal(after.syncs_inline - before.syncs_inline, inline_expected ? 20 : 0);
    assert_true(after.sync_us_total >= before.sync_us_total);
    assert_true(after.batches - before.batches >= 20);
    assert_int_equal(fx_get(f, alice).credits_posted, 20);
}

static void test_syncs_counted(void **state)
{
    fx *f = *state;
    lone_caller_syncs(f, "inline", true);
    assert_int_equal(fx_verify(f), 0);
    f->idle_sync_in_notifier = true;
    fx_restart(f);
    lone_caller_syncs(f, "notifier", false);
    assert_int_equal(fx_verify(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_readers_see_committed_counters, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rows_written_back_by_age, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_eager_mode, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_crash_loses_nothing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_holds_lazily_listed_survive_a_crash, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_holds_listed_by_age, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_checkpointer_asked_as_the_wal_fills, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_syncs_counted, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
