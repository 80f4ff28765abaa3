/*
 * test_cashier_model.c — deposits, withdrawals and the PSP's webhooks against a
 * model of the cashier's rules (cashier.h).
 *
 * A seeded random stream for two players of one brand: deposit intents (some
 * outside the brand's limits, some sent again under their key, as they were or
 * with another amount); the PSP's deposit.succeeded and deposit.failed events in
 * any order, for any payment, some naming another amount or an unknown
 * reference, some delivered twice under one event id; withdrawal requests by the
 * player or by a finance member on the player's behalf (some larger than the
 * withdrawable cash, some at or above the four-eyes threshold, keys sent again);
 * approvals by three finance members (the same one twice, the requester of the
 * withdrawal); cancels by the owner and by the other player; rejections;
 * payout.paid and payout.failed events in any order, twice, mismatched or for
 * unknown references; and cash put on the players in between.
 *
 * A model — each player's posted cash and held cash, each payment's and each
 * withdrawal's state, approvals and reference, and the event ids recorded —
 * predicts every call's result, replayed flag and webhook outcome; after every
 * call both players' balances and the state of what the call touched are read
 * back and compared. ledger verify runs at the end (cx_teardown).
 *
 * PB_TEST_SEED reproduces a run (printed), PB_MODEL_OPS sets its length
 * (default 1500).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

#define MAX_ITEMS 4096
#define THRESHOLD 5000 /* the brand's four-eyes threshold here */
#define DEPOSIT_MIN 100
#define DEPOSIT_MAX 50000

typedef enum { P_PENDING, P_COMPLETED, P_FAILED } pstate;
typedef enum {
    W_PENDING,
    W_PROCESSING,
    W_PAID,
    W_FAILED,
    W_CANCELLED,
    W_REJECTED,
    W_APPROVED /* the PSP did not take the payout (the sandbox's "17" knob) */
} wstate;
static const char *const WSTATE[] = {"pending_approval", "processing", "paid",    "failed",
                                     "cancelled",        "rejected",   "approved"};
static const char *const PSTATE[] = {"pending", "completed", "failed"};

typedef struct mpay {
    char id[PB_ID_STR_LEN + 1], ref[PB_STORE_CASHIER_REF_MAX + 1], key[32];
    int player;
    int64_t amount;
    pstate st;
} mpay;

typedef struct mwd {
    char id[PB_ID_STR_LEN + 1], ref[PB_STORE_CASHIER_REF_MAX + 1], key[32];
    int player;
    int requester; /* -1: the player; else the finance member */
    int64_t amount;
    int required;
    bool approved_by[3];
    wstate st;
} mwd;

typedef struct mevent { /* a delivery, to be sent again under its id */
    char id[32], type[24], ref[PB_STORE_CASHIER_REF_MAX + 1];
    int64_t amount;
    bool recorded;
} mevent;

typedef struct km {
    int64_t cash[2], held[2];
    mpay pay[MAX_ITEMS];
    int npay;
    mwd wd[MAX_ITEMS];
    int nwd;
    mevent ev[MAX_ITEMS];
    int nev;
    uint64_t rng;
    long counts[8]; /* per operation kind */
} km;

static km *M;
static const char *const STAFF[3] = {"0190a000-0000-7000-8000-00000000f001",
                                     "0190a000-0000-7000-8000-00000000f002",
                                     "0190a000-0000-7000-8000-00000000f003"};

static uint64_t rnd(void) { return fx_splitmix64(&M->rng); }

static int pick(int n) { return (int)(rnd() % (uint64_t)n); }
static bool chance(int percent) { return pick(100) < percent; }

#define expect_err(step, what, got, want)                                          \
    do {                                                                           \
        if ((got) != (want))                                                       \
            fail_msg("op %ld: %s: %s, the model %s", step, what, pb_err_code(got), \
                     pb_err_code(want));                                           \
    } while (0)

static mevent *event_by_id(const char *id)
{
    for (int i = 0; i < M->nev; i++)
        if (strcmp(M->ev[i].id, id) == 0)
            return &M->ev[i];
    return NULL;
}

/* ---------------------------------------------------------------- deposits */

static void op_deposit(long step)
{
    int p = pick(2);
    int64_t amount = DEPOSIT_MIN + pick(DEPOSIT_MAX - DEPOSIT_MIN + 1);
    char key[32];
    mpay *again = NULL;
    if (M->npay && chance(10)) { /* its key again, as it was or with another amount */
        again = &M->pay[pick(M->npay)];
        p = again->player;
        snprintf(key, sizeof key, "%s", again->key);
        amount = chance(60) ? again->amount : again->amount + 1;
    } else {
        cx_key(key, sizeof key);
        if (chance(5))
            amount = chance(50) ? DEPOSIT_MIN - 1 - pick(50) : DEPOSIT_MAX + 1 + pick(50);
    }
    pb_err want = again ? (amount == again->amount ? PB_OK : PB_ERR_IDEMPOTENCY_CONFLICT)
                  : amount < DEPOSIT_MIN || amount > DEPOSIT_MAX ? PB_ERR_AMOUNT_OUT_OF_RANGE
                                                                 : PB_OK;
    pb_cashier_actor a = {.kind = "player", .id = C.players[p]};
    pb_store_payment out;
    char url[PB_CASHIER_URL_MAX];
    bool replayed = false;
    pb_err got = pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[p], NULL, amount, key, &a, &out,
                                           url, &replayed);
    expect_err(step, "deposit", got, want);
    if (again) {
        assert_true(replayed);
        if (got == PB_OK)
            assert_string_equal(out.id, again->id);
        return;
    }
    if (got != PB_OK)
        return;
    assert_false(replayed);
    assert_true(M->npay < MAX_ITEMS);
    mpay *m = &M->pay[M->npay++];
    snprintf(m->id, sizeof m->id, "%s", out.id);
    snprintf(m->ref, sizeof m->ref, "%s", out.psp_reference);
    snprintf(m->key, sizeof m->key, "%s", key);
    m->player = p;
    m->amount = amount;
    m->st = P_PENDING;
}

/* ---------------------------------------------------------------- events */

/* Delivers an event and checks its result and outcome against the model's. */
static void deliver(long step, mevent *e, bool deposit)
{
    pb_err want = PB_OK;
    const char *outcome = "ignored";
    mevent *seen = event_by_id(e->id);
    mpay *pay = NULL;
    mwd *wd = NULL;
    for (int i = 0; deposit && i < M->npay; i++)
        if (strcmp(M->pay[i].ref, e->ref) == 0)
            pay = &M->pay[i];
    for (int i = 0; !deposit && i < M->nwd; i++)
        if (M->wd[i].ref[0] && strcmp(M->wd[i].ref, e->ref) == 0)
            wd = &M->wd[i];
    bool ok = strcmp(e->type, deposit ? "deposit.succeeded" : "payout.paid") == 0;
    if (deposit && ok && !pay) { /* the credit's accounts are looked up first */
        want = PB_ERR_PAYMENT_NOT_FOUND;
    } else if (seen && seen->recorded) {
        outcome = "duplicate";
    } else if (deposit && !pay) {
        want = PB_ERR_PAYMENT_NOT_FOUND;
    } else if (!deposit && !wd) {
        want = PB_ERR_WITHDRAWAL_NOT_FOUND;
    } else if (deposit) {
        if (pay->st == P_COMPLETED || (!ok && pay->st == P_FAILED)) {
            outcome = "ignored";
        } else if (e->amount != pay->amount) {
            outcome = "mismatch";
        } else {
            outcome = "applied";
            if (ok)
                M->cash[pay->player] += pay->amount;
            pay->st = ok ? P_COMPLETED : P_FAILED;
        }
    } else {
        if (wd->st != W_PROCESSING) {
            outcome = "ignored";
        } else if (e->amount != wd->amount) {
            outcome = "mismatch";
        } else {
            outcome = "applied";
            M->held[wd->player] -= wd->amount;
            if (ok)
                M->cash[wd->player] -= wd->amount;
            wd->st = ok ? W_PAID : W_FAILED;
        }
    }
    pb_cashier_webhook_result r;
    pb_err got = cx_event(e->id, e->type, e->ref, e->amount, "EUR", 0, &r);
    expect_err(step, e->type, got, want);
    if (got == PB_OK && strcmp(r.outcome, outcome) != 0)
        fail_msg("op %ld: %s %s (ref %s, amount %" PRId64 "): %s, the model %s", step, e->type,
                 e->id, e->ref, e->amount, r.outcome, outcome);
    if (!seen) {
        assert_true(M->nev < MAX_ITEMS);
        seen = &M->ev[M->nev++];
        *seen = *e;
    }
    seen->recorded |= got == PB_OK && strcmp(outcome, "duplicate") != 0;
    if (pay) {
        pb_store_payment now;
        assert_int_equal(pb_cashier_payment_get(C.f->conn, NULL, pay->id, &now), PB_OK);
        assert_string_equal(now.status, PSTATE[pay->st]);
    }
    if (wd)
        assert_string_equal(cx_withdrawal(wd->id).status, WSTATE[wd->st]);
}

static void op_event(long step, bool deposit)
{
    mevent e;
    memset(&e, 0, sizeof e);
    if (M->nev && chance(12)) { /* one delivered before, again under its id */
        e = M->ev[pick(M->nev)];
        deliver(step, &e, strncmp(e.type, "deposit", 7) == 0);
        return;
    }
    snprintf(e.id, sizeof e.id, "evt-%ld", step);
    if (deposit) {
        snprintf(e.type, sizeof e.type, chance(65) ? "deposit.succeeded" : "deposit.failed");
        if (M->npay && !chance(5)) {
            const mpay *p = &M->pay[M->npay - 1 - pick(M->npay < 6 ? M->npay : 6)];
            snprintf(e.ref, sizeof e.ref, "%s", p->ref);
            e.amount = chance(8) ? p->amount + 1 : p->amount;
        } else {
            snprintf(e.ref, sizeof e.ref, "dep-unknown-%ld", step);
            e.amount = 1000;
        }
    } else {
        snprintf(e.type, sizeof e.type, chance(70) ? "payout.paid" : "payout.failed");
        int with_ref[MAX_ITEMS], n = 0;
        for (int i = 0; i < M->nwd; i++)
            if (M->wd[i].ref[0])
                with_ref[n++] = i;
        if (n && !chance(5)) {
            const mwd *w = &M->wd[with_ref[n - 1 - pick(n < 4 ? n : 4)]];
            snprintf(e.ref, sizeof e.ref, "%s", w->ref);
            e.amount = chance(8) ? w->amount - 1 : w->amount;
        } else {
            snprintf(e.ref, sizeof e.ref, "pay-unknown-%ld", step);
            e.amount = 1000;
        }
    }
    deliver(step, &e, deposit);
}

/* ---------------------------------------------------------------- withdrawals */

static int64_t withdrawable(int p) { return M->cash[p] - M->held[p]; }

static void op_request(long step)
{
    int p = pick(2);
    int requester = chance(20) ? pick(3) : -1;
    int64_t amount = 1 + (int64_t)(rnd() % (uint64_t)(withdrawable(p) * 6 / 5 + 500));
    char key[32];
    mwd *again = NULL;
    if (M->nwd && chance(8)) {
        again = &M->wd[pick(M->nwd)];
        p = again->player;
        snprintf(key, sizeof key, "%s", again->key);
        amount = chance(60) ? again->amount : again->amount + 1;
    } else {
        cx_key(key, sizeof key);
        if (chance(10))
            amount = THRESHOLD - 1 + pick(2); /* either side of the four-eyes line */
        else if (chance(5))
            amount = amount / 100 * 100 + 17; /* a payout the sandbox refuses */
    }
    pb_err want = again ? (amount == again->amount ? PB_OK : PB_ERR_IDEMPOTENCY_CONFLICT)
                  : amount > withdrawable(p) ? PB_ERR_INSUFFICIENT_FUNDS
                                             : PB_OK;
    pb_cashier_actor me = {.kind = "player", .id = C.players[p]};
    pb_cashier_actor staff = cx_staff(requester >= 0 ? STAFF[requester] : STAFF[0]);
    pb_store_withdrawal out;
    bool replayed = false;
    pb_err got = pb_cashier_withdrawal_request(C.k, C.f->conn, &C.pl[p], amount, key,
                                               requester >= 0 ? &staff : &me, &out, &replayed);
    expect_err(step, "withdrawal request", got, want);
    if (again) {
        assert_true(replayed);
        assert_string_equal(out.id, again->id);
        return;
    }
    if (got != PB_OK)
        return;
    assert_false(replayed);
    assert_true(M->nwd < MAX_ITEMS);
    mwd *w = &M->wd[M->nwd++];
    memset(w, 0, sizeof *w);
    snprintf(w->id, sizeof w->id, "%s", out.id);
    snprintf(w->key, sizeof w->key, "%s", key);
    w->player = p;
    w->requester = requester;
    w->amount = amount;
    w->required = amount >= THRESHOLD ? 2 : 1;
    w->st = W_PENDING;
    M->held[p] += amount;
    assert_int_equal(out.approvals_required, w->required);
    assert_string_equal(out.status, WSTATE[W_PENDING]);
}

static mwd *some_withdrawal(void)
{
    if (!M->nwd)
        return NULL;
    return &M->wd[chance(70) ? M->nwd - 1 - pick(M->nwd < 5 ? M->nwd : 5) : pick(M->nwd)];
}

static void op_void(long step)
{
    mwd *w = some_withdrawal();
    if (!w)
        return;
    bool reject = chance(40);
    int who = chance(10) ? 1 - w->player : w->player; /* a cancel by the other player */
    pb_err want = !reject && who != w->player ? PB_ERR_WITHDRAWAL_NOT_FOUND
                  : w->st != W_PENDING        ? PB_ERR_WITHDRAWAL_STATE
                                              : PB_OK;
    pb_store_withdrawal out;
    pb_cashier_actor me = {.kind = "player", .id = C.players[who]};
    pb_cashier_actor staff = cx_staff(STAFF[pick(3)]);
    pb_err got = reject ? pb_cashier_withdrawal_reject(C.k, w->id, "model", &staff, &out)
                        : pb_cashier_withdrawal_cancel(C.k, C.players[who], w->id, &me, &out);
    expect_err(step, reject ? "reject" : "cancel", got, want);
    if (got == PB_OK) {
        w->st = reject ? W_REJECTED : W_CANCELLED;
        M->held[w->player] -= w->amount;
    }
    assert_string_equal(cx_withdrawal(w->id).status, WSTATE[w->st]);
}

static void op_approve(long step)
{
    mwd *w = some_withdrawal();
    if (!w)
        return;
    int s = pick(3);
    int given = 0;
    for (int i = 0; i < 3; i++)
        given += w->approved_by[i];
    pb_err want = w->st != W_PENDING                       ? PB_ERR_WITHDRAWAL_STATE
                  : w->requester == s || w->approved_by[s] ? PB_ERR_FOUR_EYES_VIOLATION
                                                           : PB_OK;
    pb_cashier_actor staff = cx_staff(STAFF[s]);
    pb_store_withdrawal out;
    pb_err got = pb_cashier_withdrawal_approve(C.k, w->id, &staff, &out);
    expect_err(step, "approve", got, want);
    if (got == PB_OK) {
        w->approved_by[s] = true;
        if (given + 1 >= w->required && w->amount % 100 == 17) {
            w->st = W_APPROVED;                /* the sandbox refuses it; no retry runs here */
        } else if (given + 1 >= w->required) { /* the last one: the payout is sent */
            w->st = W_PROCESSING;
            assert_true(out.psp_reference[0] != 0);
            snprintf(w->ref, sizeof w->ref, "%s", out.psp_reference);
        }
    }
    assert_string_equal(cx_withdrawal(w->id).status, WSTATE[w->st]);
}

/* ---------------------------------------------------------------- the run */

static void check_balances(long step)
{
    for (int p = 0; p < 2; p++) {
        pb_wallet_balance b = cx_balance(p);
        if (b.cash != M->cash[p] || b.held != M->held[p])
            fail_msg("op %ld: player %d has cash %" PRId64 " held %" PRId64 ", the model %" PRId64
                     " / %" PRId64,
                     step, p, b.cash, b.held, M->cash[p], M->held[p]);
    }
}

static void cashier_follows_the_model(void **state)
{
    (void)state;
    M = calloc(1, sizeof *M);
    assert_non_null(M);
    for (size_t i = 0; i < 3; i++)
        (void)cx_finance_member(STAFF[i]);
    /* the cashier without its payout retry: what the PSP refused stays "approved" */
    pb_cashier_close(C.k);
    char err[256];
    pb_cashier_config cfg = {.keys_dir = C.f->dir, .sandbox = true, .payout_retry_ms = -1};
    C.k = pb_cashier_open(C.w, C.f->store, &cfg, err, sizeof err);
    assert_non_null(C.k);
    char settings[200];
    snprintf(settings, sizeof settings,
             "{\"withdrawal_4eyes_thresholds\":{\"EUR\":%d},\"deposit_mins\":{\"EUR\":%d},"
             "\"deposit_maxes\":{\"EUR\":%d}}",
             THRESHOLD, DEPOSIT_MIN, DEPOSIT_MAX);
    cx_settings(settings);
    const char *env = getenv("PB_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    env = getenv("PB_MODEL_OPS");
    long ops = env ? atol(env) : 1500;
    print_message("# cashier model: PB_TEST_SEED=%" PRIu64 ", %ld operations\n", seed, ops);
    M->rng = seed;
    for (long step = 1;
         step <= ops && M->npay < MAX_ITEMS - 2 && M->nwd < MAX_ITEMS - 2 && M->nev < MAX_ITEMS - 2;
         step++) {
        int r = pick(100);
        int kind = r < 20 ? 0 : r < 42 ? 1 : r < 60 ? 2 : r < 70 ? 3 : r < 85 ? 4 : r < 95 ? 5 : 6;
        switch (kind) {
        case 0: op_deposit(step); break;
        case 1: op_event(step, true); break;
        case 2: op_request(step); break;
        case 3: op_void(step); break;
        case 4: op_approve(step); break;
        case 5: op_event(step, false); break;
        default: {
            int p = pick(2);
            int64_t cash = 1 + pick(4000);
            cx_fund(p, cash, 0);
            M->cash[p] += cash;
        }
        }
        M->counts[kind]++;
        check_balances(step);
    }
    long st[7] = {0}, ps[3] = {0};
    for (int i = 0; i < M->nwd; i++)
        st[M->wd[i].st]++;
    for (int i = 0; i < M->npay; i++)
        ps[M->pay[i].st]++;
    print_message("# cashier model: payments %ld pending, %ld completed, %ld failed; withdrawals "
                  "%ld pending, %ld processing, %ld paid, %ld failed, %ld cancelled, %ld "
                  "rejected, %ld approved but refused by the PSP; %d events\n",
                  ps[0], ps[1], ps[2], st[0], st[1], st[2], st[3], st[4], st[5], st[6], M->nev);
    if (ops >= 1000)
        assert_true(ps[1] > 0 && ps[2] > 0 && st[0] > 0 && st[1] + st[2] + st[3] > 0 && st[2] > 0 &&
                    st[3] > 0 && st[4] > 0 && st[5] > 0);
    free(M);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(cashier_follows_the_model, cx_setup, cx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
