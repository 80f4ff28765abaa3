/*
 * test_degradation.c — a disk that refuses writes, and one whose sync fails (issue 6 §6).
 *
 * The ledger runs on a store opened through the fault VFS (faultvfs.h). While
 * every write fails — with SQLITE_FULL (disk full), SQLITE_IOERR_WRITE (an I/O
 * error, e.g. EIO or a file system remounted read-only) or SQLITE_READONLY —
 * every submission and account creation answers STORE_UNAVAILABLE (HTTP 503,
 * src/core/error.h) and nothing of it happens; reads and ledger verify go on
 * working; nothing acknowledged before is lost. Once writes succeed again the
 * same ledger (no restart) accepts the very same requests, each exactly once,
 * and what it acknowledges survives a power cut right after. A failed sync of
 * the WAL by the notifier is different: what reached the disk is unknown, so
 * the process stops (abort, like PostgreSQL) before anyone is answered; a fork
 * shows it, and the database it leaves opens and verifies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../capture.h"
#include "ledger/ledger.h"
#include "fault_env.h"
#include "store/sqlite/faultvfs.h"

#define assert_err(got, want) assert_string_equal(pb_err_code(got), pb_err_code(want))

typedef fault_env env;

static void open_all(env *e, const char *url)
{
    pb_ledger_config cfg = {.checkpoint_ms = 5, .balance_flush_ms = 2};
    fault_env_open(e, url, &cfg);
}

static void close_all(env *e) { fault_env_close(e); }

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    fault_env_init(e, "/tmp/pbdegrade.XXXXXX");
    open_all(e, e->url);
    fault_env_accounts(e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    fault_env_remove(e);
    free(e);
    return 0;
}

static pb_transfer deposit(const env *e, const char *key, int64_t amount)
{
    pb_transfer t;
    memset(&t, 0, sizeof t);
    snprintf(t.scope, sizeof t.scope, "test");
    snprintf(t.key, sizeof t.key, "%s", key);
    t.debit_account_id = e->house;
    t.credit_account_id = e->player;
    t.amount = amount;
    t.code = PB_CODE_DEPOSIT;
    snprintf(t.currency, sizeof t.currency, "EUR");
    return t;
}

static int64_t balance(env *e)
{
    pb_ledger_account a;
    assert_err(pb_ledger_account_get(e->conn, e->player, &a), PB_OK);
    return pb_ledger_available(&a);
}

static pb_ledger_verify_summary verify(env *e)
{
    pb_ledger_verify_summary s;
    assert_err(pb_ledger_verify(e->conn, NULL, NULL, &s), PB_OK);
    assert_int_equal(s.violations, 0);
    return s;
}

/* One failing-disk episode: refused while it lasts, then the same requests, once. */
static void episode(env *e, int rc, const char *name)
{
    char k1[64], k2[64], k3[64];
    snprintf(k1, sizeof k1, "%s-before", name);
    snprintf(k2, sizeof k2, "%s-during", name);
    snprintf(k3, sizeof k3, "%s-batch", name);
    int64_t start = balance(e);
    pb_transfer t = deposit(e, k1, 500);
    assert_err(pb_ledger_submit(e->ledger, &t, 1), PB_OK);
    assert_err(t.result, PB_OK);
    int64_t transfers = verify(e).transfers;

    uint64_t before = pb_faultvfs_fail_writes(rc);
    for (int i = 0; i < 3; i++) { /* every attempt is refused, the writer goes on */
        pb_transfer d = deposit(e, k2, 70);
        assert_err(pb_ledger_submit(e->ledger, &d, 1), PB_ERR_STORE_UNAVAILABLE);
        pb_transfer b[2] = {deposit(e, k3, 5), deposit(e, k1, 500)};
        assert_err(pb_ledger_submit(e->ledger, b, 2), PB_ERR_STORE_UNAVAILABLE);
    }
    pb_ledger_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.brand, sizeof a.brand, "test");
    snprintf(a.owner, sizeof a.owner, "%s", name);
    snprintf(a.kind, sizeof a.kind, "cash");
    snprintf(a.currency, sizeof a.currency, "EUR");
    assert_err(pb_ledger_account_create(e->ledger, &a), PB_ERR_STORE_UNAVAILABLE);
    /* reads go on: nothing refused is there, nothing acknowledged is gone */
    assert_int_equal(balance(e), start + 500);
    pb_ledger_record r;
    assert_err(pb_ledger_transfer_by_key(e->conn, "test", k1, &r), PB_OK);
    assert_err(pb_ledger_transfer_by_key(e->conn, "test", k2, &r), PB_ERR_TRANSFER_NOT_FOUND);
    assert_int_equal(verify(e).transfers, transfers);
    uint64_t refused = pb_faultvfs_fail_writes(0) - before; /* the disk is back */
    assert_true(refused > 0);
    print_message("# %s: %llu writes refused, every submission answered STORE_UNAVAILABLE\n", name,
                  (unsigned long long)refused);

    /* the same ledger, no restart: the same requests take effect once */
    pb_transfer d = deposit(e, k2, 70);
    assert_err(pb_ledger_submit(e->ledger, &d, 1), PB_OK);
    assert_err(d.result, PB_OK);
    assert_false(d.replayed);
    pb_transfer b[2] = {deposit(e, k3, 5), deposit(e, k1, 500)};
    assert_err(pb_ledger_submit(e->ledger, b, 2), PB_OK);
    assert_err(b[0].result, PB_OK);
    assert_false(b[0].replayed);
    assert_err(b[1].result, PB_OK);
    assert_true(b[1].replayed);
    assert_err(pb_ledger_account_create(e->ledger, &a), PB_OK);
    assert_int_equal(balance(e), start + 575);
    assert_int_equal(verify(e).transfers, transfers + 2);
}

static void refused_writes_then_recovery(void **state)
{
    env *e = *state;
    episode(e, SQLITE_FULL, "full");
    episode(e, SQLITE_IOERR_WRITE, "ioerr");
    episode(e, SQLITE_READONLY, "readonly");
    /* what was acknowledged after recovery is durable: cut the power, reopen */
    int64_t bal = balance(e);
    close_all(e);
    pb_faultvfs_cut_now();
    assert_true(pb_faultvfs_power_loss(PB_FAULTVFS_RANDOM, 42) >= 0);
    open_all(e, e->path);
    assert_int_equal(balance(e), bal);
    assert_int_equal(verify(e).transfers, 9); /* three per episode, each once */
}

/* A disk failing for a moment: the writer's batches fail and it keeps going. */
static void intermittent_failures(void **state)
{
    env *e = *state;
    int64_t start = balance(e), acked = 0;
    for (int i = 0; i < 60; i++) {
        pb_faultvfs_fail_writes(i % 3 == 1 ? SQLITE_IOERR_WRITE : 0);
        char key[32];
        snprintf(key, sizeof key, "flaky-%d", i);
        pb_transfer t = deposit(e, key, 10);
        pb_err st = pb_ledger_submit(e->ledger, &t, 1);
        if (st == PB_OK) {
            assert_err(t.result, PB_OK);
            acked += 10;
        } else {
            assert_err(st, PB_ERR_STORE_UNAVAILABLE);
        }
    }
    pb_faultvfs_fail_writes(0);
    assert_true(acked >= 400 && acked < 600);
    assert_int_equal(balance(e), start + acked);
    verify(e);
}

/* A failing disk that fails the batch's reads as well: the reload of the writer's
 * state after the rolled-back batch fails too. No batch may run on what is left
 * of that state (accounts taken from rows that lag their transfers, the chain
 * head of a rolled-back transfer, the write-back queue and the open holds gone);
 * once the disk is back the writer reloads and goes on exactly. */
static void failed_reload_then_recovery(void **state)
{
    env *e = *state;
    pb_transfer t = deposit(e, "reload-fund", 100);
    assert_err(pb_ledger_submit(e->ledger, &t, 1), PB_OK);
    assert_err(t.result, PB_OK);
    pb_transfer h = deposit(e, "reload-hold", 30);
    h.debit_account_id = e->player; /* a hold of 30 on the player's 100 */
    h.credit_account_id = e->house;
    h.code = PB_CODE_BET;
    h.flags = PB_TRANSFER_PENDING;
    h.timeout_s = 3600;
    assert_err(pb_ledger_submit(e->ledger, &h, 1), PB_OK);
    assert_err(h.result, PB_OK);
    int64_t start = balance(e);
    assert_int_equal(start, 70);

    capture cap;
    capture_begin(&cap);
    uint64_t reads0 = pb_faultvfs_fail_reads(SQLITE_IOERR_READ);
    pb_faultvfs_fail_writes(SQLITE_IOERR_WRITE);
    pb_transfer d = deposit(e, "reload-during", 5);
    pb_err st = pb_ledger_submit(e->ledger, &d, 1);
    pb_faultvfs_fail_writes(0);
    pb_transfer d2 = deposit(e, "reload-reads-fail", 5); /* writes back, reads not yet */
    pb_err st2 = pb_ledger_submit(e->ledger, &d2, 1);
    uint64_t reads = pb_faultvfs_fail_reads(0) - reads0; /* the disk is back */
    const char *log = capture_end(&cap);
    /* refused, nothing done: INTERNAL when the batch itself met the failed read,
     * STORE_UNAVAILABLE when it found the reload still pending */
    assert_true(st == PB_ERR_INTERNAL || st == PB_ERR_STORE_UNAVAILABLE);
    assert_err(st2, PB_ERR_STORE_UNAVAILABLE); /* not run on the half-reloaded state */
    assert_true(reads > 0);
    assert_non_null(strstr(log, "ledger.reset_failed"));
    print_message("# reads and writes refused: the batch and the reload after it failed "
                  "(%llu reads refused); nothing ran until the reload succeeded\n",
                  (unsigned long long)reads);

    /* the player's 70 are all there: a bet of 60, a deposit, the hold posted */
    pb_transfer bet = deposit(e, "reload-bet", 60);
    bet.debit_account_id = e->player;
    bet.credit_account_id = e->house;
    bet.code = PB_CODE_BET;
    assert_err(pb_ledger_submit(e->ledger, &bet, 1), PB_OK);
    assert_err(bet.result, PB_OK);
    pb_transfer more = deposit(e, "reload-more", 10);
    assert_err(pb_ledger_submit(e->ledger, &more, 1), PB_OK);
    assert_err(more.result, PB_OK);
    pb_transfer post;
    memset(&post, 0, sizeof post);
    snprintf(post.scope, sizeof post.scope, "test");
    snprintf(post.key, sizeof post.key, "reload-post");
    post.flags = PB_TRANSFER_POST_PENDING;
    post.pending_id = h.record.id;
    assert_err(pb_ledger_submit(e->ledger, &post, 1), PB_OK);
    assert_err(post.result, PB_OK);
    assert_int_equal(balance(e), 20);
    assert_int_equal(verify(e).transfers, 5);
    close_all(e); /* and as the database rests */
    open_all(e, e->url);
    assert_int_equal(balance(e), 20);
    verify(e);
}

/* A failed sync of the WAL stops the process before anyone is answered. */
static void failed_sync_aborts(void **state)
{
    env *e = *state;
    pb_transfer t = deposit(e, "sync-before", 100);
    assert_err(pb_ledger_submit(e->ledger, &t, 1), PB_OK);
    close_all(e);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        pb_store *s = pb_store_open(e->url, err, sizeof err);
        pb_ledger *l = s ? pb_ledger_open(s, NULL, err, sizeof err) : NULL;
        if (!l)
            _exit(3);
        pb_faultvfs_fail_syncs(true);
        pb_transfer d = deposit(e, "sync-failed", 100);
        pb_err st = pb_ledger_submit(l, &d, 1); /* must not return */
        _exit(st == PB_OK ? 0 : 4);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("the child should abort on a failed sync; it %s %d",
                 WIFSIGNALED(status) ? "died of signal" : "exited with",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    print_message("# failed WAL sync: the process aborted (SIGABRT) before answering\n");
    open_all(e, e->path); /* the normal path recovers what the disk has */
    pb_ledger_record r;
    assert_err(pb_ledger_transfer_by_key(e->conn, "test", "sync-before", &r), PB_OK);
    verify(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(refused_writes_then_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(intermittent_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_reload_then_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_sync_aborts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
