/*
 * test_ledger_properties.c — the ledger's invariants after every operation (issue 6 §4).
 *
 * A long seeded random sequence of submissions against a real ledger (the
 * ledger fixture: a fresh SQLite database, the writer thread, a test clock):
 * single transfers, holds with and without timeouts, posts (full, partial,
 * too large), voids, linked chains of two or three legs, batches of independent
 * transfers, idempotent replays, key conflicts, requests refused before the
 * writer (zero amount, same accounts, an open chain), transfers touching an
 * unknown account or another currency, clock jumps that expire holds (the
 * writer's sweep), and ledger restarts (balance rows replayed from the log),
 * half of them crashes (the ledger goes on from a copy of its files taken while
 * it runs); a second run writes balance rows back 5 ms after a change instead
 * of 1 s, so that a crash finds them at many different seqs.
 * A model of the ledger — accounts with four counters, holds with their state,
 * the outcome stored under each key — predicts every result.
 *
 * After EVERY step: each transfer's result and replayed flag are the model's;
 * each account's counters equal the model's (so every balance is the sum of its
 * transfers) and none is negative, no player account is overdrawn; debits =
 * credits per currency, posted and pending; the pending counters add up to the
 * open holds, and verify counts as many open holds and transfers as the model;
 * pb_ledger_verify finds no violation; and a step the ledger refused entirely
 * changed nothing at all. PB_TEST_SEED reproduces a run (printed);
 * PB_PROPERTY_STEPS sets its length (default 1000).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "../ledger/fixture.h"
#include "store/sqlite/faultvfs.h"

#define NACCT 7
#define MAX_KEYS 12000
#define MAX_PENDINGS 4000
#define SEC INT64_C(1000000)

enum { DP, DPO, CP, CPO }; /* debits_pending, debits_posted, credits_pending, credits_posted */
enum { OPEN, POSTED, VOIDED, EXPIRED };

typedef struct macct {
    int64_t id;
    uint32_t flags;
    const char *cur;
    int64_t c[4];
} macct;

typedef struct mpend {
    pb_id id;
    int64_t dr, cr, amount, expires_at;
    uint32_t code;
    int state;
} mpend;

typedef struct mkey { /* what the ledger stores under a key */
    pb_transfer req;
    pb_err result; /* PB_OK: a transfer; else a remembered rejection */
    int64_t seq;
} mkey;

typedef struct model {
    macct a[NACCT];
    mpend p[MAX_PENDINGS];
    size_t np;
    int64_t transfers, next_seq;
} model;

static model M;
static mkey *keys;
static size_t nkeys;
static uint64_t rng;
static long stat_ok, stat_rejected, stat_replayed, stat_conflicts, stat_expired, stat_restarts;
static long stat_crashes, stat_lagging; /* restarts from a copy; rows behind the log in them */
static long stat_disk_refused;          /* steps whose batch the disk refused */

static uint64_t rnd(void) { return fx_splitmix64(&rng); }

static int64_t between(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static macct *m_acct(model *m, int64_t id)
{
    for (int i = 0; i < NACCT; i++)
        if (m->a[i].id == id)
            return &m->a[i];
    return NULL;
}

static mpend *pend(model *m, const pb_id *id)
{
    for (size_t i = 0; i < m->np; i++)
        if (pb_id_cmp(&m->p[i].id, id) == 0)
            return &m->p[i];
    return NULL;
}

static mkey *key_find(const char *key)
{
    for (size_t i = nkeys; i-- > 0;)
        if (strcmp(keys[i].req.key, key) == 0)
            return &keys[i];
    return NULL;
}

static bool is_resolution(uint32_t f)
{
    return f & (PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING);
}

static bool remembered(pb_err e)
{
    return e == PB_ERR_INSUFFICIENT_FUNDS || e == PB_ERR_EXCEEDS_DEBITS ||
           e == PB_ERR_ACCOUNT_NOT_FOUND || e == PB_ERR_CURRENCY_MISMATCH || e == PB_ERR_OVERFLOW ||
           e == PB_ERR_PENDING_NOT_FOUND || e == PB_ERR_PENDING_ALREADY_POSTED ||
           e == PB_ERR_PENDING_ALREADY_VOIDED || e == PB_ERR_PENDING_EXPIRED ||
           e == PB_ERR_PENDING_MISMATCH || e == PB_ERR_POST_EXCEEDS_PENDING;
}

/* The same request as the stored one? (A replay: every field as first sent.) */
static bool same_request(const pb_transfer *a, const pb_transfer *b)
{
    return (a->flags & ~(uint32_t)PB_TRANSFER_LINKED) ==
               (b->flags & ~(uint32_t)PB_TRANSFER_LINKED) &&
           a->debit_account_id == b->debit_account_id &&
           a->credit_account_id == b->credit_account_id && a->amount == b->amount &&
           strcmp(a->currency, b->currency) == 0 && a->code == b->code &&
           pb_id_cmp(&a->pending_id, &b->pending_id) == 0 && a->timeout_s == b->timeout_s &&
           strcmp(a->reference, b->reference) == 0;
}

static pb_err check_limits(const macct *dr, const macct *cr, int64_t amount)
{
    if ((dr->flags & PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
        dr->c[DP] + dr->c[DPO] + amount > dr->c[CPO])
        return PB_ERR_INSUFFICIENT_FUNDS;
    if ((cr->flags & PB_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
        cr->c[CP] + cr->c[CPO] + amount > cr->c[DPO])
        return PB_ERR_EXCEEDS_DEBITS;
    return PB_OK;
}

/* Applies leg k of chain t[] to m (a scratch copy); the business outcome. */
static pb_err model_leg(model *m, const pb_transfer *t, size_t k, int64_t now, int64_t *amount)
{
    const pb_transfer *x = &t[k];
    int64_t dr_id = x->debit_account_id, cr_id = x->credit_account_id;
    const char *cur = x->currency;
    *amount = x->amount;
    mpend *p = NULL;
    if (is_resolution(x->flags)) {
        for (size_t i = 0; i < k; i++)
            if (is_resolution(t[i].flags) && pb_id_cmp(&t[i].pending_id, &x->pending_id) == 0)
                return (t[i].flags & PB_TRANSFER_POST_PENDING) ? PB_ERR_PENDING_ALREADY_POSTED
                                                               : PB_ERR_PENDING_ALREADY_VOIDED;
        p = pend(m, &x->pending_id);
        if (!p)
            return PB_ERR_PENDING_NOT_FOUND;
        if (p->state == POSTED)
            return PB_ERR_PENDING_ALREADY_POSTED;
        if (p->state == VOIDED)
            return PB_ERR_PENDING_ALREADY_VOIDED;
        if (p->state == EXPIRED || (p->expires_at > 0 && p->expires_at <= now))
            return PB_ERR_PENDING_EXPIRED;
        if ((dr_id && dr_id != p->dr) || (cr_id && cr_id != p->cr) ||
            (cur[0] && strcmp(cur, "EUR") != 0) || (x->code && x->code != p->code))
            return PB_ERR_PENDING_MISMATCH;
        if (x->flags & PB_TRANSFER_POST_PENDING) {
            if (x->amount > p->amount)
                return PB_ERR_POST_EXCEEDS_PENDING;
            *amount = x->amount ? x->amount : p->amount;
        } else {
            if (x->amount != 0 && x->amount != p->amount)
                return PB_ERR_PENDING_MISMATCH;
            *amount = p->amount;
        }
        dr_id = p->dr;
        cr_id = p->cr;
        cur = "EUR"; /* every hold of this test is in EUR */
    }
    macct *dr = m_acct(m, dr_id), *cr = m_acct(m, cr_id);
    if (!dr || !cr)
        return PB_ERR_ACCOUNT_NOT_FOUND;
    if (strcmp(dr->cur, cur) != 0 || strcmp(cr->cur, cur) != 0)
        return PB_ERR_CURRENCY_MISMATCH;
    pb_err e;
    if (x->flags & PB_TRANSFER_PENDING) {
        if ((e = check_limits(dr, cr, *amount)) != PB_OK)
            return e;
        dr->c[DP] += *amount;
        cr->c[CP] += *amount;
    } else if (p) {
        dr->c[DP] -= p->amount;
        cr->c[CP] -= p->amount;
        if (x->flags & PB_TRANSFER_POST_PENDING) {
            dr->c[DPO] += *amount;
            cr->c[CPO] += *amount;
        }
        p->state = (x->flags & PB_TRANSFER_POST_PENDING) ? POSTED : VOIDED;
    } else {
        if ((e = check_limits(dr, cr, *amount)) != PB_OK)
            return e;
        dr->c[DPO] += *amount;
        cr->c[CPO] += *amount;
    }
    return PB_OK;
}

/* What the ledger must answer for one chain; updates the model when it passes. */
static void model_chain(const pb_transfer *t, size_t n, int64_t now, pb_err *res, bool *replayed,
                        int64_t *seq, int64_t *amount)
{
    static model scratch;
    scratch = M;
    size_t failed = n;
    bool fresh[8] = {false}, remember = false;
    for (size_t k = 0; k < n && failed == n; k++) {
        replayed[k] = false;
        bool conflict = false;
        for (size_t i = 0; i < k; i++)
            conflict |= strcmp(t[i].key, t[k].key) == 0;
        mkey *s = conflict ? NULL : key_find(t[k].key);
        if (conflict || (s && !same_request(&s->req, &t[k]))) {
            res[k] = PB_ERR_IDEMPOTENCY_CONFLICT;
            failed = k;
            continue;
        }
        if (s) {
            replayed[k] = true;
            res[k] = s->result;
            seq[k] = s->seq;
            if (s->result != PB_OK)
                failed = k;
            continue;
        }
        res[k] = model_leg(&scratch, t, k, now, &amount[k]);
        if (res[k] != PB_OK) {
            failed = k;
            remember = remembered(res[k]);
            continue;
        }
        fresh[k] = true;
        seq[k] = scratch.next_seq++;
        if (t[k].flags & PB_TRANSFER_PENDING) {
            assert_true(scratch.np < MAX_PENDINGS);
            mpend *p = &scratch.p[scratch.np++]; /* its id is known after the submission */
            memset(p, 0, sizeof *p);
            p->dr = t[k].debit_account_id;
            p->cr = t[k].credit_account_id;
            p->amount = amount[k];
            p->code = t[k].code;
            p->expires_at = t[k].timeout_s ? now + t[k].timeout_s * SEC : 0;
        }
    }
    if (failed == n) {
        M = scratch;
        for (size_t k = 0; k < n; k++)
            if (fresh[k]) {
                assert_true(nkeys < MAX_KEYS);
                keys[nkeys++] = (mkey){.req = t[k], .result = PB_OK, .seq = seq[k]};
                M.transfers++;
            }
        return;
    }
    for (size_t k = 0; k < n; k++)
        if (k != failed) {
            res[k] = PB_ERR_LINKED_EVENT_FAILED;
            replayed[k] = false;
        }
    if (remember) {
        assert_true(nkeys < MAX_KEYS);
        keys[nkeys++] = (mkey){.req = t[failed], .result = res[failed]};
    }
}

/* ---------------------------------------------------------------- checks */

typedef struct snapshot {
    pb_ledger_account a[NACCT];
    pb_ledger_verify_summary v;
} snapshot;

static void print_violation(void *ctx, const char *kind, const char *message)
{
    (void)ctx;
    print_message("# violation %s: %s\n", kind, message);
}

static void take(fx *f, snapshot *s)
{
    for (int i = 0; i < NACCT; i++)
        assert_int_equal(pb_ledger_account_get(f->conn, M.a[i].id, &s->a[i]), PB_OK);
    assert_int_equal(pb_ledger_verify(f->conn, print_violation, NULL, &s->v), PB_OK);
}

static void check_invariants(fx *f, long step, snapshot *s)
{
    take(f, s);
    if (s->v.violations)
        fail_msg("step %ld: verify found %" PRId64 " violations", step, s->v.violations);
    int64_t sum[2][4] = {{0}}, held = 0, open = 0;
    for (int i = 0; i < NACCT; i++) {
        const pb_ledger_account *a = &s->a[i];
        int64_t got[4] = {a->debits_pending, a->debits_posted, a->credits_pending,
                          a->credits_posted};
        for (int c = 0; c < 4; c++) {
            if (got[c] != M.a[i].c[c])
                fail_msg("step %ld: account %" PRId64 " counter %d is %" PRId64
                         ", the transfers add up to %" PRId64,
                         step, a->id, c, got[c], M.a[i].c[c]);
            assert_true(got[c] >= 0);
            sum[strcmp(M.a[i].cur, "EUR") != 0][c] += got[c];
        }
        if (a->flags & PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS)
            assert_true(a->debits_posted + a->debits_pending <= a->credits_posted);
        if (a->flags & PB_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS)
            assert_true(a->credits_posted + a->credits_pending <= a->debits_posted);
        held += a->debits_pending;
    }
    for (int cur = 0; cur < 2; cur++) {
        assert_int_equal(sum[cur][DPO], sum[cur][CPO]); /* debits = credits */
        assert_int_equal(sum[cur][DP], sum[cur][CP]);
    }
    int64_t want_held = 0;
    for (size_t i = 0; i < M.np; i++)
        if (M.p[i].state == OPEN) {
            want_held += M.p[i].amount;
            open++;
        }
    assert_int_equal(held, want_held); /* holds = the open pendings */
    assert_int_equal(s->v.open_pendings, open);
    assert_int_equal(s->v.transfers, M.transfers);
}

/* ---------------------------------------------------------------- generation */

static int64_t any_account(void)
{
    int r = (int)between(0, 99);
    if (r < 2)
        return 999999; /* no such account */
    return M.a[r < 8 ? between(5, 6) : between(0, 4)].id;
}

static pb_transfer new_request(long step, size_t leg)
{
    pb_transfer t;
    memset(&t, 0, sizeof t);
    snprintf(t.scope, sizeof t.scope, "prop");
    snprintf(t.key, sizeof t.key, "s%ld-%zu", step, leg);
    t.code = (uint32_t)between(1, 3) * 10;
    snprintf(t.currency, sizeof t.currency, "EUR");
    int kind = (int)between(0, 99);
    if (kind < 45 || (kind >= 65 && M.np == 0)) {
        t.debit_account_id = any_account();
        t.credit_account_id = any_account();
        if (t.debit_account_id == t.credit_account_id)
            t.credit_account_id = M.a[0].id == t.debit_account_id ? M.a[1].id : M.a[0].id;
        t.amount = between(1, 5000);
        if (kind < 25) { /* money in: from the house to a player or the liability */
            t.debit_account_id = M.a[0].id;
            t.credit_account_id = M.a[between(1, 4)].id;
        }
    } else if (kind < 65) {
        t.flags = PB_TRANSFER_PENDING;
        t.debit_account_id = M.a[between(1, 3)].id;
        t.credit_account_id = M.a[0].id;
        t.amount = between(1, 3000);
        t.timeout_s = between(0, 2) ? 0 : between(1, 120);
    } else {
        const mpend *p = &M.p[between(0, (int64_t)M.np - 1)];
        t.flags = between(0, 1) ? PB_TRANSFER_POST_PENDING : PB_TRANSFER_VOID_PENDING;
        t.pending_id = p->id;
        t.code = 0;
        t.currency[0] = 0;
        int how = (int)between(0, 9);
        if (how < 5)
            t.amount = 0;
        else if (how < 8)
            t.amount = between(1, p->amount + 50); /* partial, exact or too much */
        else
            t.code = 99; /* a mismatch */
    }
    return t;
}

/* Builds the submission of one step into t[]; returns its size. */
static size_t make_step(long step, pb_transfer *t, int *kind)
{
    int r = (int)between(0, 99);
    if (r < 45) {
        *kind = 0;
        t[0] = new_request(step, 0);
        return 1;
    }
    if (r < 60) { /* a linked chain */
        *kind = 1;
        size_t n = (size_t)between(2, 3);
        for (size_t k = 0; k < n; k++) {
            t[k] = new_request(step, k);
            if (k + 1 < n)
                t[k].flags |= PB_TRANSFER_LINKED;
        }
        return n;
    }
    if (r < 68) { /* a batch of independent transfers */
        *kind = 2;
        size_t n = (size_t)between(2, 4);
        for (size_t k = 0; k < n; k++)
            t[k] = new_request(step, k);
        return n;
    }
    if (r < 82 && nkeys > 0) { /* an idempotent replay */
        *kind = 3;
        t[0] = keys[between(0, (int64_t)nkeys - 1)].req;
        t[0].flags &= ~(uint32_t)PB_TRANSFER_LINKED;
        return 1;
    }
    if (r < 88 && nkeys > 0) { /* the same key, another request */
        *kind = 4;
        t[0] = keys[between(0, (int64_t)nkeys - 1)].req;
        t[0].flags &= ~(uint32_t)PB_TRANSFER_LINKED;
        if (is_resolution(t[0].flags))
            t[0].code = 77;
        else
            t[0].amount += 1;
        return 1;
    }
    *kind = 5; /* refused before the writer */
    t[0] = new_request(step, 0);
    t[0].flags &= ~(uint32_t)(PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING);
    memset(&t[0].pending_id, 0, sizeof t[0].pending_id);
    t[0].debit_account_id = M.a[0].id;
    t[0].credit_account_id = M.a[1].id;
    t[0].currency[0] = 0;
    snprintf(t[0].currency, sizeof t[0].currency, "EUR");
    t[0].code = 10;
    int how = (int)between(0, 2);
    if (how == 0)
        t[0].amount = 0;
    else if (how == 1)
        t[0].credit_account_id = t[0].debit_account_id;
    else
        t[0].flags |= PB_TRANSFER_LINKED; /* the submission ends inside a chain */
    if (how != 0 && t[0].amount <= 0)
        t[0].amount = 1;
    return 1;
}

/* The stateless refusals, as pb_ledger_submit makes them before queueing. */
static pb_err precheck(const pb_transfer *t, pb_err *res)
{
    if (t[0].flags & PB_TRANSFER_LINKED)
        return PB_ERR_LINKED_CHAIN_OPEN; /* only one-leg submissions are made open */
    if (!is_resolution(t[0].flags) && t[0].amount <= 0) {
        res[0] = PB_ERR_AMOUNT_INVALID;
        return PB_OK;
    }
    if (t[0].debit_account_id == t[0].credit_account_id && t[0].debit_account_id) {
        res[0] = PB_ERR_ACCOUNTS_MUST_DIFFER;
        return PB_OK;
    }
    return PB_OK;
}

/* Expires, in the model, what the writer's sweep expires at `now`. */
static void model_expire(int64_t now)
{
    for (size_t i = 0; i < M.np; i++) {
        mpend *p = &M.p[i];
        if (p->state != OPEN || !p->expires_at || p->expires_at > now)
            continue;
        macct *dr = m_acct(&M, p->dr), *cr = m_acct(&M, p->cr);
        dr->c[DP] -= p->amount;
        cr->c[CP] -= p->amount;
        p->state = EXPIRED;
        M.transfers++;
        M.next_seq++;
        stat_expired++;
    }
}

/* The ledger fixture, its database reopened through the fault VFS. */
static int setup(void **state)
{
    assert_int_equal(pb_faultvfs_register("pbfault"), SQLITE_OK);
    pb_faultvfs_set_skip_disk_sync(true); /* the crashes here are the process's */
    pb_faultvfs_reset();
    fx_setup(state);
    fx *f = *state;
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    pb_store_disconnect(f->conn);
    pb_store_close(f->store);
    fx_open_store(f, "pbfault");
    fx_restart(f);
    return 0;
}

static void run_step(fx *f, long step)
{
    snapshot before, after;
    take(f, &before);
    int r = (int)between(0, 999);
    if (r < 30) { /* the clock jumps: due holds expire in the writer's sweep */
        f->clock_us += between(1, 90) * SEC;
        model_expire(f->clock_us);
        fx_sync(f);
        check_invariants(f, step, &after);
        return;
    }
    if (r < 35) { /* a restart, every other one a crash: lagging balance rows are
                   * replayed from the log */
        if (stat_restarts++ % 2) {
            stat_lagging += fx_crash(f, "pbfault");
            stat_crashes++;
        } else {
            fx_restart(f);
        }
        check_invariants(f, step, &after);
        assert_memory_equal(&before.a, &after.a, sizeof before.a);
        return;
    }
    /* 1%: the disk refuses every write during the step. A batch that needs the
     * writer fails whole, at its commit, after the writer applied all of it in
     * memory: it answers STORE_UNAVAILABLE, rolls back and rebuilds its state
     * from the store (counters, holds, rejection filter, seqs and hash chain),
     * and nothing of it may remain */
    bool disk_fails = r < 45;
    static model saved;
    size_t saved_nkeys = nkeys;
    if (disk_fails)
        memcpy(&saved, &M, sizeof M);
    pb_transfer t[4];
    int kind;
    size_t n = make_step(step, t, &kind);
    pb_err want[4], got_status;
    bool want_replayed[4] = {false};
    int64_t want_seq[4] = {0}, want_amount[4] = {0};
    for (size_t k = 0; k < n; k++)
        want[k] = PB_OK;
    pb_err want_status = kind == 5 ? precheck(t, want) : PB_OK;
    pb_transfer req[4];
    memcpy(req, t, sizeof req);
    int64_t created_before = M.next_seq;
    bool writer = false; /* some chain gets past the stateless checks */
    if (want_status == PB_OK) {
        size_t start = 0;
        for (size_t i = 0; i < n; i++) {
            if (t[i].flags & PB_TRANSFER_LINKED)
                continue;
            writer |= want[start] == PB_OK;
            if (want[start] == PB_OK)
                model_chain(req + start, i - start + 1, f->clock_us, want + start,
                            want_replayed + start, want_seq + start, want_amount + start);
            start = i + 1;
        }
    }
    if (disk_fails)
        pb_faultvfs_fail_writes(SQLITE_IOERR_WRITE);
    got_status = pb_ledger_submit(f->ledger, t, n);
    if (disk_fails) {
        pb_faultvfs_fail_writes(0);
        /* a batch that stores nothing (replays, conflicts) may still commit: it
         * fails only if it writes balance rows back */
        bool writes = M.next_seq != saved.next_seq || nkeys != saved_nkeys;
        if (writer && got_status == PB_ERR_STORE_UNAVAILABLE) {
            memcpy(&M, &saved, sizeof M); /* none of it happened */
            nkeys = saved_nkeys;
            stat_disk_refused++;
            check_invariants(f, step, &after);
            assert_memory_equal(&before.a, &after.a, sizeof before.a);
            assert_int_equal(before.v.transfers, after.v.transfers);
            assert_int_equal(before.v.open_pendings, after.v.open_pendings);
            return;
        }
        if (writes)
            fail_msg("step %ld: with the disk refusing writes, submission %s", step,
                     pb_err_code(got_status));
    }
    bool changed = false;
    for (size_t k = 0; k < n && want_status == PB_OK; k++) {
        if (t[k].result != want[k] || t[k].replayed != want_replayed[k])
            fail_msg("step %ld (kind %d) leg %zu %s: %s%s, the model says %s%s", step, kind, k,
                     t[k].key, pb_err_code(t[k].result), t[k].replayed ? " (replayed)" : "",
                     pb_err_code(want[k]), want_replayed[k] ? " (replayed)" : "");
        if (want[k] == PB_OK)
            assert_int_equal(t[k].record.seq, want_seq[k]);
        if (want[k] == PB_OK && !want_replayed[k]) {
            assert_int_equal(t[k].record.amount, want_amount[k]);
            changed = true;
            stat_ok++;
            if (t[k].flags & PB_TRANSFER_PENDING) { /* the model learns the hold's id */
                for (size_t i = 0; i < M.np; i++)
                    if (pb_id_is_zero(&M.p[i].id) && M.p[i].dr == t[k].debit_account_id &&
                        M.p[i].amount == t[k].record.amount) {
                        M.p[i].id = t[k].record.id;
                        break;
                    }
            }
        } else if (want_replayed[k]) {
            stat_replayed++;
        } else if (want[k] == PB_ERR_IDEMPOTENCY_CONFLICT) {
            stat_conflicts++;
        } else {
            stat_rejected++;
        }
    }
    if (want_status != PB_OK)
        stat_rejected++;
    check_invariants(f, step, &after);
    assert_int_equal(M.next_seq - created_before, after.v.transfers - before.v.transfers);
    if (!changed) { /* refused or replayed: nothing at all changed */
        assert_memory_equal(&before.a, &after.a, sizeof before.a);
        assert_int_equal(before.v.transfers, after.v.transfers);
        assert_int_equal(before.v.open_pendings, after.v.open_pendings);
    }
}

static void run(fx *f)
{
    const char *env = getenv("PB_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    env = getenv("PB_PROPERTY_STEPS");
    long steps = env ? atol(env) : 1000;
    print_message("# ledger properties: PB_TEST_SEED=%" PRIu64 ", %ld steps\n", seed, steps);
    rng = seed;
    keys = calloc(MAX_KEYS, sizeof *keys);
    assert_non_null(keys);
    nkeys = 0;
    stat_ok = stat_rejected = stat_replayed = stat_conflicts = stat_expired = stat_restarts = 0;
    stat_crashes = stat_lagging = stat_disk_refused = 0;
    memset(&M, 0, sizeof M);
    static const struct {
        const char *owner, *cur;
        uint32_t flags;
    } spec[NACCT] = {
        {"house", "EUR", 0},
        {"p1", "EUR", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
        {"p2", "EUR", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
        {"p3", "EUR", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
        {"liability", "EUR", PB_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS},
        {"house", "USD", 0},
        {"p1", "USD", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
    };
    for (int i = 0; i < NACCT; i++) {
        M.a[i].id = fx_account_cur(f, spec[i].owner, "cash", spec[i].flags, spec[i].cur);
        M.a[i].flags = spec[i].flags;
        M.a[i].cur = spec[i].cur;
    }
    M.next_seq = 1;
    snapshot s;
    check_invariants(f, 0, &s);
    for (long step = 1; step <= steps; step++)
        run_step(f, step);
    print_message("# ledger properties: %ld steps, %" PRId64 " transfers; %ld applied, %ld "
                  "rejected, %ld replayed, %ld key conflicts, %ld holds expired, %ld restarts "
                  "(%ld of them crashes, %ld balance rows lagging in their copies), %ld "
                  "batches the disk refused; invariants held after every step\n",
                  steps, M.transfers, stat_ok, stat_rejected, stat_replayed, stat_conflicts,
                  stat_expired, stat_restarts, stat_crashes, stat_lagging, stat_disk_refused);
    assert_true(steps < 200 || (stat_ok > 0 && stat_rejected > 0 && stat_replayed > 0 &&
                                stat_conflicts > 0 && stat_expired > 0));
    free(keys);
}

/* Balance rows written back a second after a change (the default): a crash's
 * copy has rows behind the log. */
static void invariants_after_every_step(void **state)
{
    fx *f = *state;
    run(f);
    assert_true(stat_crashes == 0 || stat_lagging > 0);
}

/* Rows written back 5 ms after a change: when a crash comes, rows stand at many
 * different seqs, most of them past the balance mark, and the open's replay
 * must skip, in each row, the transfers it already holds. */
static void invariants_with_rows_written_back_at_once(void **state)
{
    fx *f = *state;
    f->balance_flush_ms = 5;
    fx_restart(f);
    run(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(invariants_after_every_step, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(invariants_with_rows_written_back_at_once, setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
