/*
 * test_power_loss.c — power cuts at random points of a running ledger (issue 6 §2).
 *
 * Each cut starts from a copy of a template database (migrated, with a house
 * account and six player accounts), opens the store through the fault VFS
 * (faultvfs.h: "sqlite:PATH?vfs=pbfault"), starts the ledger with randomised
 * settings (deferred sync or sync in the writer, balance rows written back at
 * every commit, after 1-3 ms or after 1 s, WAL restarts every 8 or 64 pages or
 * rarely, checkpoints every 1-30 ms, the WAL reserved with zeros ahead of the
 * commits or not) and lets three threads submit deposits,
 * bets, linked bet+win chains, holds, posts, voids and batches of three. The
 * power is cut before a random tracked I/O operation (writes, truncations and
 * syncs of the database and the WAL, including the notifier's WAL sync): from
 * then on nothing reaches the disk. A submission counts as acknowledged only if
 * it returned before the cut. The ledger and the store are then closed (the
 * process goes on as if nothing happened; none of it survives), the files are
 * put back as a disk that lost power holds them (every unsynced write dropped;
 * or the last one torn; or a random half of them kept, the last torn), and the
 * database is opened again through the normal path. Checks:
 *  - the database is a prefix of what the process committed: a transfer is
 *    there iff the process saw it committed with a seq <= the number of
 *    transfers, and it is the same transfer (seq, accounts, amount, hash);
 *  - every acknowledged transfer is there; every acknowledged rejection is
 *    still remembered (a resubmission replays it); a linked chain is all there
 *    or not at all;
 *  - pb_ledger_verify finds no violation, before and after the ledger replays
 *    the balance rows that lagged (replay_tail), and every account's counters
 *    equal the sums of the transfers present, both read without a ledger (the
 *    reader replays the log) and with the reopened ledger;
 *  - resubmitting every acknowledged request changes nothing.
 * PB_POWER_CUTS (default 200) cuts; PB_TEST_SEED reproduces the choices (the
 * threads' interleaving is the machine's).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "store/sqlite/faultvfs.h"
#include "../ledger/fixture.h"

#define NPLAYERS 6
#define NTHREADS 3
#define OPS_PER_THREAD 40
#define MAX_OPS (NTHREADS * OPS_PER_THREAD * 3)

static uint64_t seed;
static char current[400]; /* the database of the cut under way, for failure messages */
static int current_mode;
static char settings[200];
static char template_path[300], template_dir[256];
static int64_t house, players[NPLAYERS];

static uint64_t rnd(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int64_t between(uint64_t *s, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd(s) % (uint64_t)(hi - lo + 1));
}

/* One transfer request as submitted and what the process saw of it. */
typedef struct op {
    pb_transfer req; /* before submission */
    pb_transfer res; /* after: result, replayed, record */
    int group;       /* the submission it belonged to (a chain is one submission) */
    bool chain;      /* part of a linked chain */
    bool acked;      /* the submission returned before the power cut */
} op;

typedef struct worker {
    pb_ledger *ledger;
    uint64_t rng;
    int id, cut_no;
    op ops[OPS_PER_THREAD * 3];
    size_t nops;
    int groups;
    pb_id holds[OPS_PER_THREAD];
    size_t nholds;
} worker;

static pb_transfer request(const worker *w, int64_t dr, int64_t cr, int64_t amount, uint32_t code)
{
    pb_transfer t;
    memset(&t, 0, sizeof t);
    snprintf(t.scope, sizeof t.scope, "test");
    snprintf(t.key, sizeof t.key, "c%d-t%d-%zu", w->cut_no, w->id, w->nops);
    t.debit_account_id = dr;
    t.credit_account_id = cr;
    t.amount = amount;
    t.code = code;
    snprintf(t.currency, sizeof t.currency, "EUR");
    return t;
}

/* Builds the next submission into w->ops[w->nops..) and returns its size. */
static size_t next_submission(worker *w, pb_transfer *t)
{
    int64_t p = players[between(&w->rng, 0, NPLAYERS - 1)];
    int64_t q = players[between(&w->rng, 0, NPLAYERS - 1)];
    size_t base = w->nops;
    int kind = (int)between(&w->rng, 0, 99);
    size_t n = 1;
    if (kind < 30) {
        t[0] = request(w, house, p, between(&w->rng, 100, 5000), PB_CODE_DEPOSIT);
    } else if (kind < 55) {
        t[0] = request(w, p, house, between(&w->rng, 1, 3000), PB_CODE_BET);
    } else if (kind < 70) {
        t[0] = request(w, p, house, between(&w->rng, 1, 3000), PB_CODE_BET);
        t[0].flags = PB_TRANSFER_LINKED;
        w->nops++;
        t[1] = request(w, house, q, between(&w->rng, 1, 4000), PB_CODE_WIN);
        n = 2;
    } else if (kind < 80 || w->nholds == 0) {
        t[0] = request(w, p, house, between(&w->rng, 1, 2000), PB_CODE_BET);
        t[0].flags = PB_TRANSFER_PENDING;
    } else if (kind < 90) {
        size_t h = (size_t)between(&w->rng, 0, (int64_t)w->nholds - 1);
        t[0] = request(w, 0, 0, 0, 0);
        t[0].currency[0] = 0;
        t[0].flags = between(&w->rng, 0, 1) ? PB_TRANSFER_POST_PENDING : PB_TRANSFER_VOID_PENDING;
        t[0].pending_id = w->holds[h];
        w->holds[h] = w->holds[--w->nholds];
    } else {
        for (size_t i = 0; i < 3; i++, w->nops++)
            t[i] = between(&w->rng, 0, 1)
                       ? request(w, house, players[between(&w->rng, 0, NPLAYERS - 1)],
                                 between(&w->rng, 100, 3000), PB_CODE_DEPOSIT)
                       : request(w, players[between(&w->rng, 0, NPLAYERS - 1)], house,
                                 between(&w->rng, 1, 3000), PB_CODE_BET);
        w->nops = base;
        n = 3;
    }
    w->nops = base;
    return n;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < OPS_PER_THREAD && !pb_faultvfs_cut_happened(); i++) {
        pb_transfer t[3];
        size_t n = next_submission(w, t);
        bool chain = n == 2;
        for (size_t k = 0; k < n; k++)
            w->ops[w->nops + k].req = t[k];
        pb_err st = pb_ledger_submit(w->ledger, t, n);
        bool acked = st == PB_OK && !pb_faultvfs_cut_happened();
        for (size_t k = 0; k < n; k++) {
            op *o = &w->ops[w->nops + k];
            o->res = t[k];
            if (st != PB_OK)
                o->res.result = st;
            o->group = w->groups;
            o->chain = chain;
            o->acked = acked;
            if (st == PB_OK && t[k].result == PB_OK && (t[k].flags & PB_TRANSFER_PENDING))
                w->holds[w->nholds++] = t[k].record.id;
        }
        w->nops += n;
        w->groups++;
    }
    return NULL;
}

/* ---------------------------------------------------------------- the template */

static int make_template(void **state)
{
    (void)state;
    const char *env = getenv("PB_TEST_SEED");
    seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    printf("# power loss: PB_TEST_SEED=%" PRIu64 "\n", seed);
    assert_int_equal(pb_faultvfs_register("pbfault"), SQLITE_OK);
    pb_faultvfs_set_skip_disk_sync(true);
    snprintf(template_dir, sizeof template_dir, "/tmp/pbpower.XXXXXX");
    assert_non_null(mkdtemp(template_dir));
    snprintf(template_path, sizeof template_path, "%s/template.db", template_dir);
    char err[256];
    pb_store *s = pb_store_open(template_path, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(pb_store_migrate(s, NULL, err, sizeof err), PB_STORE_OK);
    pb_ledger *l = pb_ledger_open(s, NULL, err, sizeof err);
    assert_non_null(l);
    for (int i = 0; i <= NPLAYERS; i++) {
        pb_ledger_account a;
        memset(&a, 0, sizeof a);
        snprintf(a.brand, sizeof a.brand, "test");
        snprintf(a.owner, sizeof a.owner, i ? "player%d" : "house", i);
        snprintf(a.kind, sizeof a.kind, "cash");
        snprintf(a.currency, sizeof a.currency, "EUR");
        a.flags = i ? PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS : 0;
        assert_int_equal(pb_ledger_account_create(l, &a), PB_OK);
        if (i)
            players[i - 1] = a.id;
        else
            house = a.id;
    }
    pb_ledger_close(l);
    pb_store_close(s); /* the last connection: the WAL is checkpointed and deleted */
    assert_int_equal(access(template_path, F_OK), 0);
    return 0;
}

static int drop_template(void **state)
{
    (void)state;
    unlink(template_path);
    rmdir(template_dir);
    return 0;
}

/* ---------------------------------------------------------------- one cut */

typedef struct totals {
    long cuts, acked, unacked, unacked_present, dropped, lagging_cuts, after_close, rejections;
    long modes[3];
    uint64_t ops_max;
} totals;

/* The counters the present transfers add up to, from what the process saw. */
static void model_counters(op **all, size_t n, int64_t top_seq, int64_t id, int64_t c[4])
{
    memset(c, 0, 4 * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        const pb_ledger_record *r = &all[i]->res.record;
        if (all[i]->res.result != PB_OK || r->seq > top_seq)
            continue;
        if (r->debit_account_id != id && r->credit_account_id != id)
            continue;
        bool debit = r->debit_account_id == id;
        int64_t *pending = debit ? &c[0] : &c[2], *posted = debit ? &c[1] : &c[3];
        if (r->flags & PB_TRANSFER_PENDING) {
            *pending += r->amount;
        } else if (r->flags & (PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING)) {
            int64_t held = -1;
            for (size_t k = 0; k < n; k++)
                if (all[k]->res.result == PB_OK &&
                    pb_id_cmp(&all[k]->res.record.id, &r->pending_id) == 0)
                    held = all[k]->res.record.amount;
            assert_true(held >= 0);
            *pending -= held;
            if (r->flags & PB_TRANSFER_POST_PENDING)
                *posted += r->amount;
        } else {
            *posted += r->amount;
        }
    }
}

static void check_counters(pb_store_conn *c, op **all, size_t n, int64_t top_seq)
{
    for (int i = 0; i <= NPLAYERS; i++) {
        int64_t id = i ? players[i - 1] : house, want[4];
        model_counters(all, n, top_seq, id, want);
        pb_ledger_account a;
        assert_int_equal(pb_ledger_account_get(c, id, &a), PB_OK);
        if (a.debits_pending != want[0] || a.debits_posted != want[1] ||
            a.credits_pending != want[2] || a.credits_posted != want[3])
            fail_msg("account %" PRId64 ": counters %" PRId64 "/%" PRId64 "/%" PRId64 "/%" PRId64
                     ", the transfers present add up to %" PRId64 "/%" PRId64 "/%" PRId64
                     "/%" PRId64,
                     id, a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted,
                     want[0], want[1], want[2], want[3]);
        assert_false(i && pb_ledger_available(&a) < 0);
    }
}

static void print_violation(void *ctx, const char *kind, const char *message)
{
    (void)ctx;
    printf("# violation %s: %s\n", kind, message);
}

static pb_ledger_verify_summary verify_ok(pb_store_conn *c)
{
    pb_ledger_verify_summary s;
    if (pb_ledger_verify(c, print_violation, NULL, &s) != PB_OK)
        fail_msg("ledger verify could not run on %s (mode %d, %s): %s", current, current_mode,
                 settings, pb_store_errmsg(c));
    if (s.violations)
        fail_msg("ledger verify: %" PRId64 " violations in %s (mode %d, %s)", s.violations, current,
                 current_mode, settings);
    return s;
}

/* Runs the workload with the power cut before tracked I/O op `cut_at` (0: never,
 * and the number of ops is returned for calibration). */
static uint64_t run_cut(int cut_no, uint64_t cut_at, uint64_t *rng, totals *tot)
{
    char dir[256], path[300], url[400], err[256];
    snprintf(dir, sizeof dir, "/tmp/pbcut.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    snprintf(url, sizeof url, "sqlite:%s?vfs=pbfault", path);
    fx_copy_file(template_path, path, false);

    pb_faultvfs_reset();
    pb_store *s = pb_store_open(url, err, sizeof err);
    assert_non_null(s);
    static const int flush[] = {-1, 1, 3, 0};
    static const int restart[] = {8, 64, 0};
    pb_ledger_config cfg = {
        .checkpoint_ms = (int)between(rng, 1, 30),
        .wal_restart_frames = restart[between(rng, 0, 2)],
        .balance_flush_ms = flush[between(rng, 0, 3)],
        .sync_in_writer = between(rng, 0, 3) == 0,
    };
    /* the WAL reserved ahead (zeros after its end) — where the restarts keep it small */
    cfg.wal_reserve = cfg.wal_restart_frames != 0 && between(rng, 0, 1) == 1;
    snprintf(settings, sizeof settings,
             "checkpoint_ms %d, wal_restart_frames %d, balance_flush_ms %d, sync_in_writer %d, "
             "wal_reserve %d, cut before I/O op %" PRIu64,
             cfg.checkpoint_ms, cfg.wal_restart_frames, cfg.balance_flush_ms, cfg.sync_in_writer,
             cfg.wal_reserve, cut_at);
    pb_ledger *l = pb_ledger_open(s, &cfg, err, sizeof err);
    if (!l)
        fail_msg("ledger open: %s", err);
    if (cut_at)
        pb_faultvfs_arm_cut(cut_at);

    static worker w[NTHREADS];
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].ledger = l;
        w[i].id = i;
        w[i].cut_no = cut_no;
        w[i].rng = rnd(rng);
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    pb_ledger_close(l);
    pb_store_close(s);
    uint64_t ops = pb_faultvfs_ops();
    if (!cut_at) {
        pb_faultvfs_reset();
        fx_remove_db(dir, path);
        return ops;
    }
    if (!pb_faultvfs_cut_happened())
        tot->after_close++; /* the cut falls after a clean shutdown */
    pb_faultvfs_cut_now();
    pb_faultvfs_mode mode = (pb_faultvfs_mode)between(rng, 0, 2);
    long dropped = pb_faultvfs_power_loss(mode, rnd(rng));
    snprintf(current, sizeof current, "%s", path);
    current_mode = (int)mode;
    assert_true(dropped >= 0);
    tot->dropped += dropped;
    tot->modes[mode]++;

    /* the normal path: no fault VFS */
    s = pb_store_open(path, err, sizeof err);
    assert_non_null(s);
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    assert_non_null(c);
    pb_ledger_verify_summary vs = verify_ok(c);
    if (vs.lagging_rows > 0)
        tot->lagging_cuts++;
    int64_t top = vs.transfers; /* seqs are contiguous from 1 (verify checks it) */

    op *all[MAX_OPS] = {0};
    size_t n = 0;
    for (int i = 0; i < NTHREADS; i++)
        for (size_t k = 0; k < w[i].nops; k++)
            all[n++] = &w[i].ops[k];
    int64_t committed = 0;
    for (size_t i = 0; i < n; i++) {
        op *o = all[i];
        pb_ledger_record rec;
        pb_err got = pb_ledger_transfer_by_key(c, "test", o->req.key, &rec);
        assert_true(got == PB_OK || got == PB_ERR_TRANSFER_NOT_FOUND);
        bool ok = o->res.result == PB_OK;
        bool want = ok && o->res.record.seq <= top;
        if ((got == PB_OK) != want)
            fail_msg("cut %d: %s is %s after the power loss but the process saw %s (seq %" PRId64
                     ", %" PRId64 " transfers kept, acknowledged: %s)",
                     cut_no, o->req.key, got == PB_OK ? "there" : "missing",
                     pb_err_code(o->res.result), o->res.record.seq, top, o->acked ? "yes" : "no");
        if (o->acked && ok && got != PB_OK)
            fail_msg("cut %d: %s (seq %" PRId64 ") was acknowledged and is lost: %" PRId64
                     " transfers kept (database %s, mode %d, settings %s)",
                     cut_no, o->req.key, o->res.record.seq, top, current, current_mode, settings);
        if (got == PB_OK) {
            assert_int_equal(rec.seq, o->res.record.seq);
            assert_int_equal(rec.amount, o->res.record.amount);
            assert_int_equal(rec.debit_account_id, o->res.record.debit_account_id);
            assert_int_equal(rec.credit_account_id, o->res.record.credit_account_id);
            assert_memory_equal(rec.hash, o->res.record.hash, 32);
            committed++;
        }
        if (o->acked)
            tot->acked++;
        else {
            tot->unacked++;
            tot->unacked_present += got == PB_OK;
        }
    }
    assert_int_equal(committed, top);    /* nothing there that the process did not commit */
    for (size_t i = 0; i + 1 < n; i++) { /* a chain (two adjacent legs) is all there or none */
        if (!all[i]->chain || !(all[i]->req.flags & PB_TRANSFER_LINKED))
            continue;
        pb_ledger_record r1, r2;
        assert_int_equal(pb_ledger_transfer_by_key(c, "test", all[i]->req.key, &r1) == PB_OK,
                         pb_ledger_transfer_by_key(c, "test", all[i + 1]->req.key, &r2) == PB_OK);
    }
    check_counters(c, all, n, top); /* without a ledger: the reader replays the log */

    pb_ledger_config cfg2 = {.balance_flush_ms = 1000};
    l = pb_ledger_open(s, &cfg2, err, sizeof err); /* replays the lagging rows */
    if (!l)
        fail_msg("ledger reopen after the power loss: %s", err);
    check_counters(c, all, n, top);
    /* every acknowledged submission again: replayed, nothing written */
    for (size_t i = 0; i < n; i++) {
        op *o = all[i];
        if (!o->acked || (o->chain && !(o->req.flags & PB_TRANSFER_LINKED)))
            continue; /* a chain's second leg goes with its first */
        size_t len = o->chain ? 2 : 1;
        pb_transfer t[2];
        for (size_t k = 0; k < len; k++)
            t[k] = all[i + k]->req;
        assert_int_equal(pb_ledger_submit(l, t, len), PB_OK);
        for (size_t k = 0; k < len; k++) {
            const op *x = all[i + k];
            if (t[k].result != x->res.result ||
                (x->res.result != PB_ERR_LINKED_EVENT_FAILED && !t[k].replayed))
                fail_msg("cut %d: %s acknowledged %s, resubmitted after the power loss: %s%s "
                         "(database %s, mode %d)",
                         cut_no, x->req.key, pb_err_code(x->res.result), pb_err_code(t[k].result),
                         t[k].replayed ? " (replayed)" : "", current, current_mode);
            if (x->res.result == PB_OK) {
                assert_true(t[k].replayed);
                assert_int_equal(t[k].record.seq, x->res.record.seq);
            } else if (x->res.result != PB_ERR_LINKED_EVENT_FAILED) {
                assert_true(t[k].replayed); /* the rejection was remembered durably */
                tot->rejections++;
            }
        }
    }
    pb_ledger_close(l);
    pb_ledger_verify_summary after = verify_ok(c);
    assert_int_equal(after.transfers, top);
    check_counters(c, all, n, top);
    pb_store_disconnect(c);
    pb_store_close(s);
    fx_remove_db(dir, path);
    tot->cuts++;
    if (cut_at > tot->ops_max)
        tot->ops_max = cut_at;
    return cut_at;
}

static void power_cuts(void **state)
{
    (void)state;
    const char *env = getenv("PB_POWER_CUTS");
    long cuts = env ? atol(env) : 200;
    uint64_t rng = seed;
    totals tot = {0};
    /* calibration: how many tracked I/O operations a whole run makes */
    uint64_t span = run_cut(0, 0, &rng, &tot);
    assert_true(span > 10);
    for (long i = 1; i <= cuts; i++)
        run_cut((int)i, 1 + rnd(&rng) % span, &rng, &tot);
    printf("# power loss: %ld cut points tried (I/O ops 1..%" PRIu64 " of a run of %" PRIu64
           "), %ld after a clean shutdown; modes drop-all %ld, torn-last %ld, random-half %ld; "
           "%ld unsynced writes lost; %ld acknowledged transfers/rejections all kept (%ld "
           "rejections replayed); %ld not acknowledged, %ld of them kept; balance rows lagged "
           "the log (replayed at open) in %ld cuts\n",
           tot.cuts, tot.ops_max, span, tot.after_close, tot.modes[0], tot.modes[1], tot.modes[2],
           tot.dropped, tot.acked, tot.rejections, tot.unacked, tot.unacked_present,
           tot.lagging_cuts);
    assert_int_equal(tot.cuts, cuts);
    if (cuts >= 50) { /* the test must have cut into real work */
        assert_true(tot.dropped > 0);
        assert_true(tot.acked > 0);
        assert_true(tot.lagging_cuts > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(power_cuts),
    };
    return cmocka_run_group_tests(tests, make_template, drop_template);
}
