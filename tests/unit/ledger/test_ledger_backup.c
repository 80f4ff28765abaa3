/*
 * test_ledger_backup.c — pb_store_backup: an online copy of the database.
 *
 * 1. test_backup_under_load: four threads keep submitting transfers while the
 *    copy is taken. The copy verifies clean (its ledger is a consistent state,
 *    its own balance rows lagging as a crash would leave them); its transfers
 *    are a prefix of the live ledger's (the copy's last transfer is, hash and
 *    all, the live one at that seq); the writer kept committing after the
 *    copy's moment; the copy is one file in rollback-journal mode with nothing
 *    beside it; the live ledger verifies clean at the end.
 * 2. test_backup_refuses_existing: an existing target is never overwritten
 *    (PB_STORE_CONFLICT, its bytes unchanged); a target in a missing directory
 *    fails and leaves nothing.
 * 3. test_backup_not_accepted: a copy its accept callback refuses leaves no
 *    file behind, neither at the target nor under the temporary name; the
 *    callback saw a copy it could open and verify.
 * 4. test_restore (pb_store_restore): into a new file, a verified copy of the
 *    backup, which is only read; over an existing file only when asked, never
 *    over a database in use (the live ledger goes on), and over a closed one
 *    whose WAL still holds frames: the old database kept beside with its WAL
 *    folded in, none of its WAL left beside the restored one; a file that is
 *    not a pitboss database and a copy its check refuses change nothing.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

#define NACCTS 40
#define NTHREADS 4

typedef struct load {
    fx *f;
    int64_t accts[NACCTS];
    atomic_bool stop;
    atomic_long ok;
    atomic_int failed; /* a submission that did not run (not a business refusal) */
} load;

typedef struct worker {
    load *ld;
    int idx;
} worker;

static void *submitter(void *arg)
{
    worker *w = arg;
    load *ld = w->ld;
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(w->idx + 1);
    for (long n = 0; !atomic_load(&ld->stop); n++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        int a = (int)(s % NACCTS), b = (int)((s >> 20) % NACCTS);
        if (a == b)
            b = (b + 1) % NACCTS;
        char key[64];
        snprintf(key, sizeof key, "load-%d-%ld", w->idx, n);
        pb_transfer t = fx_transfer(key, ld->accts[a], ld->accts[b], 1 + (int64_t)(s % 50), 1);
        if (pb_ledger_submit(ld->f->ledger, &t, 1) != PB_OK) {
            atomic_store(&ld->failed, 1);
            break;
        }
        if (t.result == PB_OK)
            atomic_fetch_add(&ld->ok, 1);
    }
    return NULL;
}

/* What accept_verify saw in the copy. */
typedef struct seen {
    bool opened;
    int64_t violations, transfers;
    pb_store_transfer last;
    bool keep;
} seen;

static bool accept_verify(void *ctx, const char *copy_path)
{
    seen *v = ctx;
    char err[256];
    pb_store *s = pb_store_open(copy_path, err, sizeof err);
    if (!s)
        return false;
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    if (c) {
        pb_ledger_verify_summary sum;
        if (pb_ledger_verify(c, NULL, NULL, &sum) == PB_OK &&
            pb_store_transfer_last(c, &v->last) == PB_STORE_OK) {
            v->opened = true;
            v->violations = sum.violations;
            v->transfers = sum.transfers;
        }
        pb_store_disconnect(c);
    }
    pb_store_close(s);
    return v->keep;
}

static bool exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* Files in dir whose name starts with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static void remove_files(const char *path)
{
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[400];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A house and a player account, and n transfers from the house to the player. */
static void seed(fx *f, int n, int64_t *house, int64_t *player)
{
    *house = fx_account(f, "house", "house", 0);
    *player = fx_account(f, "player:a", "player_cash", 0);
    for (int i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof key, "s%d", i);
        pb_transfer t = fx_transfer(key, *house, *player, 100 + i, 1);
        assert_int_equal(fx_submit1(f, &t), PB_OK);
    }
}

static void test_backup_under_load(void **state)
{
    fx *f = *state;
    load ld;
    memset(&ld, 0, sizeof ld);
    ld.f = f;
    int64_t house = fx_account(f, "house", "house", 0);
    for (int i = 0; i < NACCTS; i++) {
        char owner[32];
        snprintf(owner, sizeof owner, "player:p%d", i);
        ld.accts[i] = fx_account(f, owner, "player_cash",
                                 PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
        char key[32];
        snprintf(key, sizeof key, "fund-%d", i);
        pb_transfer t = fx_transfer(key, house, ld.accts[i], 100000, 1);
        assert_int_equal(fx_submit1(f, &t), PB_OK);
    }
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker){&ld, i};
        assert_int_equal(pthread_create(&th[i], NULL, submitter, &w[i]), 0);
    }
    sleep_ms(300);
    /* the load is on before the copy: a loaded machine may not have let the
     * submitters commit within those 300 ms (≤ 10 s more) */
    for (int i = 0; i < 1000 && atomic_load(&ld.ok) == 0 && !atomic_load(&ld.failed); i++)
        sleep_ms(10);
    long before = atomic_load(&ld.ok);

    char path[400], err[256];
    snprintf(path, sizeof path, "%s/copy.db", f->dir);
    pb_store_conn *c = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(c);
    seen v = {.keep = true};
    pb_store_backup_info info;
    pb_store_rc r = pb_store_backup(c, path, true, accept_verify, &v, &info);
    pb_store_disconnect(c);
    /* the load goes on until the submitters have committed more than the copy
     * holds (≤ 10 s): the copy is of a moment, not of the end */
    for (int i = 0;
         i < 1000 && atomic_load(&ld.ok) <= v.transfers - NACCTS && !atomic_load(&ld.failed); i++)
        sleep_ms(10);
    atomic_store(&ld.stop, true);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    long total = atomic_load(&ld.ok);

    assert_int_equal(r, PB_STORE_OK);
    assert_int_equal(atomic_load(&ld.failed), 0);
    assert_true(before > 0);
    assert_true(info.pages > 0);
    assert_true(info.bytes >= info.pages * 1024);
    /* the copy: consistent, clean, and a prefix of the live ledger */
    assert_true(v.opened);
    assert_int_equal(v.violations, 0);
    assert_true(v.transfers >= NACCTS + before);
    assert_true(v.transfers < NACCTS + total); /* the writer went on after the copy's moment */
    assert_int_equal(v.last.seq, v.transfers);
    pb_store_transfer live;
    assert_int_equal(pb_store_transfer_by_seq(f->conn, v.last.seq, &live), PB_STORE_OK);
    assert_memory_equal(live.hash, v.last.hash, sizeof live.hash);
    assert_memory_equal(live.id.b, v.last.id.b, sizeof live.id.b);
    /* one file: a rollback journal (header bytes 18 and 19 are 1), nothing beside it */
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    unsigned char hdr[20];
    assert_int_equal(fread(hdr, 1, sizeof hdr, fp), sizeof hdr);
    fclose(fp);
    assert_int_equal(hdr[18], 1);
    assert_int_equal(hdr[19], 1);
    assert_int_equal(count_prefixed(f->dir, "copy.db"), 1);
    /* the live ledger is intact and holds everything answered */
    assert_int_equal(fx_verify(f), 0);
    remove_files(path);
}

static void test_backup_refuses_existing(void **state)
{
    fx *f = *state;
    int64_t house, p;
    seed(f, 1, &house, &p);

    char path[400], err[256];
    snprintf(path, sizeof path, "%s/taken.db", f->dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("not a database, and it stays so", fp);
    fclose(fp);
    pb_store_conn *c = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(c);
    pb_store_backup_info info;
    assert_int_equal(pb_store_backup(c, path, true, NULL, NULL, &info), PB_STORE_CONFLICT);
    assert_non_null(strstr(pb_store_errmsg(c), "already exists"));
    char buf[64] = {0};
    fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_true(fread(buf, 1, sizeof buf - 1, fp) > 0);
    fclose(fp);
    assert_string_equal(buf, "not a database, and it stays so");
    assert_int_equal(count_prefixed(f->dir, "taken.db"), 1);
    unlink(path);

    char missing[400];
    snprintf(missing, sizeof missing, "%s/no-such-dir/copy.db", f->dir);
    assert_int_equal(pb_store_backup(c, missing, true, NULL, NULL, &info), PB_STORE_ERROR);
    assert_false(exists(missing));

    /* and with the way clear, a copy without an accept callback works */
    assert_int_equal(pb_store_backup(c, path, true, NULL, NULL, &info), PB_STORE_OK);
    assert_true(info.check_us > 0);
    pb_store_disconnect(c);
    assert_int_equal(count_prefixed(f->dir, "taken.db"), 1);
    remove_files(path);
}

static void test_backup_not_accepted(void **state)
{
    fx *f = *state;
    int64_t house, p;
    seed(f, 10, &house, &p);
    char path[400], err[256];
    snprintf(path, sizeof path, "%s/refused.db", f->dir);
    pb_store_conn *c = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(c);
    seen v = {.keep = false};
    pb_store_backup_info info;
    assert_int_equal(pb_store_backup(c, path, false, accept_verify, &v, &info), PB_STORE_ERROR);
    assert_non_null(strstr(pb_store_errmsg(c), "not accepted"));
    pb_store_disconnect(c);
    assert_true(v.opened); /* the callback had a real copy to check */
    assert_int_equal(v.violations, 0);
    assert_int_equal(v.transfers, 10);
    assert_int_equal(info.check_us, 0);
    assert_false(exists(path));
    assert_int_equal(count_prefixed(f->dir, "refused.db"), 0);
}

/* What a process opening the database being replaced gets while the restore
 * runs (accept is called with the new copy before it takes the old one's name):
 * the old database stays locked until then. */
typedef struct locked_probe {
    const char *path;
    int read_rc, write_rc; /* a read and a write of the old database during the restore */
} locked_probe;

static bool accept_while_locked(void *ctx, const char *copy_path)
{
    (void)copy_path;
    locked_probe *p = ctx;
    sqlite3 *db = NULL;
    p->read_rc = p->write_rc = sqlite3_open_v2(p->path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (p->read_rc == SQLITE_OK) {
        p->read_rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
        p->write_rc = sqlite3_exec(db, "CREATE TABLE probe_during_restore (x)", NULL, NULL, NULL);
    }
    sqlite3_close(db);
    return true;
}

/* Through a store opened on path: -1 when table is missing; else, for
 * ledger_transfer, the transfers of a clean ledger verify (0 when it is not
 * clean), and 0 for any other table. */
static int64_t probe_table(const char *path, const char *table)
{
    char err[256], sql[128];
    pb_store *s = pb_store_open(path, err, sizeof err);
    assert_non_null(s);
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    assert_non_null(c);
    int64_t n = -1;
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s LIMIT 0", table);
    if (pb_store_exec_raw(c, sql) == PB_STORE_OK) {
        pb_ledger_verify_summary sum;
        n = strcmp(table, "ledger_transfer") == 0 &&
                    pb_ledger_verify(c, NULL, NULL, &sum) == PB_OK && sum.violations == 0
                ? sum.transfers
                : 0;
    }
    pb_store_disconnect(c);
    pb_store_close(s);
    return n;
}

static void test_restore(void **state)
{
    fx *f = *state;
    int64_t house, p;
    seed(f, 12, &house, &p);
    char copy[400], fresh[400], old[400], side[420], err[512];
    snprintf(copy, sizeof copy, "%s/copy.db", f->dir);
    snprintf(fresh, sizeof fresh, "%s/fresh.db", f->dir);
    snprintf(old, sizeof old, "%s/old.db", f->dir);
    pb_store_conn *c = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(c);
    pb_store_backup_info info;
    assert_int_equal(pb_store_backup(c, copy, true, NULL, NULL, &info), PB_STORE_OK);
    pb_store_disconnect(c);

    /* 1. into a new file: a verified copy, nothing beside it, nothing replaced */
    seen v = {.keep = true};
    assert_int_equal(pb_store_restore(fresh, copy, false, accept_verify, &v, &info, err,
                                      sizeof err),
                     PB_STORE_OK);
    assert_true(v.opened);
    assert_int_equal(v.violations, 0);
    assert_int_equal(v.transfers, 12);
    assert_string_equal(info.previous, "");
    assert_true(info.check_us > 0);
    assert_int_equal(count_prefixed(f->dir, "fresh.db"), 1);
    assert_int_equal(count_prefixed(f->dir, "copy.db"), 1); /* the backup is only read */
    assert_int_equal(probe_table(fresh, "ledger_transfer"), 12);

    /* 2. over an existing file only when asked */
    assert_int_equal(pb_store_restore(fresh, copy, false, NULL, NULL, &info, err, sizeof err),
                     PB_STORE_CONFLICT);
    assert_non_null(strstr(err, "already exists"));

    /* 3. never over a database in use: the fixture's ledger has f->path open */
    assert_int_equal(pb_store_restore(f->path, copy, true, NULL, NULL, &info, err, sizeof err),
                     PB_STORE_BUSY);
    assert_non_null(strstr(err, "in use"));
    pb_transfer t = fx_transfer("after-refusal", house, p, 1, 1);
    assert_int_equal(fx_submit1(f, &t), PB_OK); /* the live ledger did not notice */
    assert_int_equal(count_prefixed(f->dir, "ledger.db.re"), 0);

    /* 4. over a closed database whose WAL still holds frames: the old one is kept
     * (its WAL folded in), the new one has no WAL of the old beside it */
    {
        pb_store *s = pb_store_open(old, err, sizeof err);
        assert_non_null(s);
        pb_store_conn *oc = pb_store_connect(s, err, sizeof err);
        assert_non_null(oc);
        assert_int_equal(pb_store_exec_raw(oc, "CREATE TABLE only_in_old (x); "
                                               "INSERT INTO only_in_old VALUES (1)"),
                         PB_STORE_OK);
        pb_store_disconnect(oc);
        pb_store_close(s);
    }
    snprintf(side, sizeof side, "%s-wal", old);
    assert_true(exists(side)); /* kept by SQLITE_FCNTL_PERSIST_WAL */
    locked_probe lp = {.path = old, .read_rc = SQLITE_OK, .write_rc = SQLITE_OK};
    assert_int_equal(pb_store_restore(old, copy, true, accept_while_locked, &lp, &info, err,
                                      sizeof err),
                     PB_STORE_OK);
    /* meanwhile the old database could be neither read nor written */
    assert_int_equal(lp.read_rc, SQLITE_BUSY);
    assert_int_equal(lp.write_rc, SQLITE_BUSY);
    assert_false(exists(side));
    assert_non_null(strstr(info.previous, "/old.db.replaced-"));
    assert_true(exists(info.previous));
    assert_int_equal(probe_table(old, "only_in_old"), -1);
    assert_int_equal(probe_table(old, "ledger_transfer"), 12);
    assert_int_equal(probe_table(info.previous, "only_in_old"), 0);
    assert_int_equal(probe_table(info.previous, "probe_during_restore"), -1);
    assert_int_equal(probe_table(old, "probe_during_restore"), -1);
    remove_files(info.previous);

    /* 5. a file that is not a pitboss database, and a copy its check refuses:
     * nothing changes */
    assert_int_equal(pb_store_restore(fresh, f->dir, true, NULL, NULL, &info, err, sizeof err),
                     PB_STORE_ERROR);
    v = (seen){.keep = false};
    assert_int_equal(pb_store_restore(fresh, copy, true, accept_verify, &v, &info, err, sizeof err),
                     PB_STORE_ERROR);
    assert_non_null(strstr(err, "not accepted"));
    assert_true(v.opened);
    assert_int_equal(probe_table(fresh, "ledger_transfer"), 12);
    assert_int_equal(count_prefixed(f->dir, "fresh.db.re"), 0); /* nothing replaced, no copy left */
    assert_string_equal(info.previous, "");

    const char *gone[] = {copy, fresh, old};
    for (size_t i = 0; i < 3; i++)
        remove_files(gone[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backup_under_load, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_backup_refuses_existing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_backup_not_accepted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_restore, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
