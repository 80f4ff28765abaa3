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

#include "ledger/ledger.h"
#include "store/sqlite/faultvfs.h"

#define assert_err(got, want) assert_string_equal(pb_err_code(got), pb_err_code(want))

typedef struct env {
    char dir[256], path[300], url[400];
    pb_store *store;
    pb_store_conn *conn;
    pb_ledger *ledger;
    int64_t house, player;
} env;

static void open_all(env *e, const char *url)
{
    char err[256];
    e->store = pb_store_open(url, err, sizeof err);
    if (!e->store)
        fail_msg("store open: %s", err);
    assert_int_equal(pb_store_migrate(e->store, NULL, err, sizeof err), PB_STORE_OK);
    e->conn = pb_store_connect(e->store, err, sizeof err);
    assert_non_null(e->conn);
    pb_ledger_config cfg = {.checkpoint_ms = 5, .balance_flush_ms = 2};
    e->ledger = pb_ledger_open(e->store, &cfg, err, sizeof err);
    if (!e->ledger)
        fail_msg("ledger open: %s", err);
}

static void close_all(env *e)
{
    pb_ledger_close(e->ledger);
    pb_store_disconnect(e->conn);
    pb_store_close(e->store);
    e->ledger = NULL;
    e->conn = NULL;
    e->store = NULL;
}

static int64_t account(env *e, const char *owner, uint32_t flags)
{
    pb_ledger_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.brand, sizeof a.brand, "test");
    snprintf(a.owner, sizeof a.owner, "%s", owner);
    snprintf(a.kind, sizeof a.kind, "cash");
    snprintf(a.currency, sizeof a.currency, "EUR");
    a.flags = flags;
    assert_err(pb_ledger_account_create(e->ledger, &a), PB_OK);
    return a.id;
}

static int setup(void **state)
{
    assert_int_equal(pb_faultvfs_register("pbfault"), SQLITE_OK);
    pb_faultvfs_set_skip_disk_sync(true);
    pb_faultvfs_reset();
    env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    snprintf(e->dir, sizeof e->dir, "/tmp/pbdegrade.XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->path, sizeof e->path, "%s/ledger.db", e->dir);
    snprintf(e->url, sizeof e->url, "sqlite:%s?vfs=pbfault", e->path);
    open_all(e, e->url);
    e->house = account(e, "house", 0);
    e->player = account(e, "player", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    if (e->store)
        close_all(e);
    pb_faultvfs_reset();
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", e->path, suffix[i]);
        unlink(p);
    }
    rmdir(e->dir);
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
        cmocka_unit_test_setup_teardown(failed_sync_aborts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
