/*
 * test_ledger_idempotency.c — the ledger's idempotency contract (ledger.h,
 * engine.c): a replay returns the original record (replayed = true) and writes
 * nothing; the same key with any different request field is
 * IDEMPOTENCY_CONFLICT; scope is part of the key; a business rejection is
 * remembered and replayed even after the cause is gone, while a stateless
 * refusal is not remembered; replays of post/void where 0/"" mean "the
 * pending's"; one key twice in a linked chain or twice in one submission; a
 * whole chain replayed; replays after a restart; and eight threads racing
 * with one key producing exactly one transfer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "fixture.h"

#define assert_err(got, want) assert_string_equal(pb_err_code(got), pb_err_code(want))

typedef struct ids {
    int64_t bank, player, house;
} ids;

static ids setup_accounts(fx *f, int64_t funds)
{
    ids x;
    x.bank = fx_account(f, "bank", "cash", 0);
    x.player = fx_account(f, "player", "cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    x.house = fx_account(f, "house", "revenue", 0);
    if (funds) {
        pb_transfer t = fx_transfer("fund", x.bank, x.player, funds, PB_CODE_DEPOSIT);
        assert_err(fx_submit1(f, &t), PB_OK);
    }
    return x;
}

static int64_t transfer_count(fx *f)
{
    pb_ledger_verify_summary s;
    assert_int_equal(pb_ledger_verify(f->conn, NULL, NULL, &s), PB_OK);
    assert_int_equal(s.violations, 0);
    return s.transfers;
}

static void assert_record_equal(const pb_ledger_record *a, const pb_ledger_record *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_memory_equal(a->id.b, b->id.b, 16);
    assert_string_equal(a->scope, b->scope);
    assert_string_equal(a->ikey, b->ikey);
    assert_int_equal(a->debit_account_id, b->debit_account_id);
    assert_int_equal(a->credit_account_id, b->credit_account_id);
    assert_int_equal(a->amount, b->amount);
    assert_string_equal(a->currency, b->currency);
    assert_int_equal(a->code, b->code);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->has_pending_id, b->has_pending_id);
    assert_memory_equal(a->pending_id.b, b->pending_id.b, 16);
    assert_int_equal(a->timeout_s, b->timeout_s);
    assert_int_equal(a->expires_at, b->expires_at);
    assert_string_equal(a->reference, b->reference);
    assert_int_equal(a->debit_prev_seq, b->debit_prev_seq);
    assert_int_equal(a->credit_prev_seq, b->credit_prev_seq);
    assert_int_equal(a->created_at, b->created_at);
    assert_memory_equal(a->hash, b->hash, 32);
}

/* The four counters and last_seq of the three accounts, as one comparable value. */
typedef struct state3 {
    int64_t v[3][5];
    int64_t transfers;
} state3;

static state3 state_of(fx *f, const ids *x)
{
    state3 s = {0};
    int64_t id[3] = {x->bank, x->player, x->house};
    for (int i = 0; i < 3; i++) {
        pb_ledger_account a = fx_get(f, id[i]);
        int64_t v[5] = {a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted,
                        a.last_seq};
        memcpy(s.v[i], v, sizeof v);
    }
    s.transfers = transfer_count(f);
    return s;
}

static void assert_state_equal(const state3 *a, const state3 *b)
{
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 5; k++)
            assert_int_equal(a->v[i][k], b->v[i][k]);
    assert_int_equal(a->transfers, b->transfers);
}

static pb_transfer resolve_req(const char *key, uint32_t flag, const pb_id *pending, int64_t amount)
{
    pb_transfer t = fx_transfer(key, 0, 0, amount, 0);
    t.currency[0] = 0;
    t.flags = flag;
    t.pending_id = *pending;
    return t;
}

/* ---- replays and conflicts ---------------------------------------------- */

static void test_replay_returns_original(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_transfer t = fx_transfer("bet-1", x.player, x.house, 100, PB_CODE_BET);
    snprintf(t.reference, sizeof t.reference, "round-7");
    assert_err(fx_submit1(f, &t), PB_OK);
    assert_false(t.replayed);
    state3 before = state_of(f, &x);
    f->clock_us += 5000000; /* a later retry */
    pb_transfer again = fx_transfer("bet-1", x.player, x.house, 100, PB_CODE_BET);
    snprintf(again.reference, sizeof again.reference, "round-7");
    assert_err(fx_submit1(f, &again), PB_OK);
    assert_true(again.replayed);
    assert_record_equal(&again.record, &t.record);
    state3 after = state_of(f, &x);
    assert_state_equal(&before, &after);
    /* and once more, to show a replay does not turn into anything else */
    assert_err(fx_submit1(f, &again), PB_OK);
    assert_true(again.replayed);
    assert_record_equal(&again.record, &t.record);
    assert_int_equal(fx_verify(f), 0);
}

/* The ledger first applies a new-looking transfer and lets the key's unique index
 * catch a replay: a replay the current balance could no longer pay must still be
 * the original success, and must not be remembered as a refusal. */
static void test_replay_when_funds_are_gone(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_transfer t = fx_transfer("bet-1", x.player, x.house, 600, PB_CODE_BET);
    assert_err(fx_submit1(f, &t), PB_OK);
    pb_transfer rest = fx_transfer("bet-2", x.player, x.house, 400, PB_CODE_BET);
    assert_err(fx_submit1(f, &rest), PB_OK); /* the player has 0 now */
    state3 before = state_of(f, &x);
    for (int i = 0; i < 2; i++) {
        pb_transfer again = fx_transfer("bet-1", x.player, x.house, 600, PB_CODE_BET);
        assert_err(fx_submit1(f, &again), PB_OK);
        assert_true(again.replayed);
        assert_record_equal(&again.record, &t.record);
    }
    /* the same key asking for something else is still a conflict, not a refusal */
    pb_transfer other = fx_transfer("bet-1", x.player, x.house, 601, PB_CODE_BET);
    assert_err(fx_submit1(f, &other), PB_ERR_IDEMPOTENCY_CONFLICT);
    state3 after = state_of(f, &x);
    assert_state_equal(&before, &after);
    pb_transfer fresh = fx_transfer("bet-3", x.player, x.house, 1, PB_CODE_BET);
    assert_err(fx_submit1(f, &fresh), PB_ERR_INSUFFICIENT_FUNDS);
    assert_int_equal(fx_verify(f), 0);
}

static void test_same_key_different_request_conflicts(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_transfer orig = fx_transfer("k", x.player, x.house, 100, PB_CODE_BET);
    snprintf(orig.reference, sizeof orig.reference, "r1");
    assert_err(fx_submit1(f, &orig), PB_OK);
    state3 before = state_of(f, &x);
    for (int i = 0; i < 7; i++) {
        pb_transfer t = orig;
        switch (i) {
        case 0: t.amount = 101; break;
        case 1: t.debit_account_id = x.bank; break;
        case 2: t.credit_account_id = x.bank; break;
        case 3: t.code = PB_CODE_WIN; break;
        case 4: snprintf(t.reference, sizeof t.reference, "r2"); break;
        case 5: t.flags = PB_TRANSFER_PENDING; break;
        case 6: snprintf(t.currency, sizeof t.currency, "USD"); break;
        }
        pb_err got = fx_submit1(f, &t);
        if (got != PB_ERR_IDEMPOTENCY_CONFLICT)
            print_error("variant %d: %s\n", i, pb_err_code(got));
        assert_err(got, PB_ERR_IDEMPOTENCY_CONFLICT);
        assert_false(t.replayed);
    }
    state3 after = state_of(f, &x);
    assert_state_equal(&before, &after);
    pb_ledger_record r;
    assert_err(pb_ledger_transfer_by_key(f->conn, "test", "k", &r), PB_OK);
    assert_record_equal(&r, &orig.record); /* the original stands */
}

static void test_scope_is_part_of_the_key(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_transfer a = fx_transfer("tx-1", x.player, x.house, 10, PB_CODE_BET);
    pb_transfer b = a;
    snprintf(b.scope, sizeof b.scope, "provider:hub88");
    assert_err(fx_submit1(f, &a), PB_OK);
    assert_err(fx_submit1(f, &b), PB_OK);
    assert_false(b.replayed);
    assert_true(pb_id_cmp(&a.record.id, &b.record.id) != 0);
    assert_string_equal(b.record.scope, "provider:hub88");
    b.amount = 20; /* a different request in the other scope conflicts only there */
    assert_err(fx_submit1(f, &b), PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(fx_get(f, x.player).debits_posted, 20);
    assert_int_equal(fx_verify(f), 0);
}

static void test_rejection_is_remembered(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 50);
    pb_transfer t = fx_transfer("w1", x.player, x.house, 100, PB_CODE_WITHDRAWAL);
    assert_err(fx_submit1(f, &t), PB_ERR_INSUFFICIENT_FUNDS);
    assert_false(t.replayed);
    pb_transfer topup = fx_transfer("topup", x.bank, x.player, 1000, PB_CODE_DEPOSIT);
    assert_err(fx_submit1(f, &topup), PB_OK);
    state3 before = state_of(f, &x);
    pb_transfer again = fx_transfer("w1", x.player, x.house, 100, PB_CODE_WITHDRAWAL);
    assert_err(fx_submit1(f, &again), PB_ERR_INSUFFICIENT_FUNDS); /* funded now: still no */
    assert_true(again.replayed);
    pb_transfer other = fx_transfer("w1", x.player, x.house, 40, PB_CODE_WITHDRAWAL);
    assert_err(fx_submit1(f, &other), PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_false(other.replayed);
    state3 after = state_of(f, &x);
    assert_state_equal(&before, &after);
    pb_ledger_record r;
    assert_err(pb_ledger_transfer_by_key(f->conn, "test", "w1", &r), PB_ERR_TRANSFER_NOT_FOUND);
    pb_transfer fresh = fx_transfer("w2", x.player, x.house, 100, PB_CODE_WITHDRAWAL);
    assert_err(fx_submit1(f, &fresh), PB_OK);
    assert_false(fresh.replayed);
    assert_int_equal(fx_verify(f), 0);
}

static void test_stateless_refusal_not_remembered(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_transfer t = fx_transfer("fixme", x.player, x.house, 0, PB_CODE_BET);
    assert_err(fx_submit1(f, &t), PB_ERR_AMOUNT_INVALID);
    t = fx_transfer("fixme", x.player, x.player, 5, PB_CODE_BET);
    assert_err(fx_submit1(f, &t), PB_ERR_ACCOUNTS_MUST_DIFFER);
    t = fx_transfer("fixme", x.player, x.house, 5, PB_CODE_BET);
    assert_err(fx_submit1(f, &t), PB_OK);
    assert_false(t.replayed);
    assert_int_equal(t.record.amount, 5);
    assert_int_equal(fx_verify(f), 0);
}

static void test_post_void_replays(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_transfer h1 = fx_transfer("h1", x.player, x.house, 300, PB_CODE_BET);
    h1.flags = PB_TRANSFER_PENDING;
    h1.timeout_s = 60;
    assert_err(fx_submit1(f, &h1), PB_OK);
    pb_transfer h1r = h1; /* the hold itself replays, timeout included */
    assert_err(fx_submit1(f, &h1r), PB_OK);
    assert_true(h1r.replayed);
    assert_record_equal(&h1r.record, &h1.record);
    pb_transfer h2 = fx_transfer("h2", x.player, x.house, 200, PB_CODE_BET);
    h2.flags = PB_TRANSFER_PENDING;
    assert_err(fx_submit1(f, &h2), PB_OK);

    pb_transfer p = resolve_req("p", PB_TRANSFER_POST_PENDING, &h1.record.id, 0);
    assert_err(fx_submit1(f, &p), PB_OK);
    pb_transfer v = resolve_req("v", PB_TRANSFER_VOID_PENDING, &h2.record.id, 0);
    assert_err(fx_submit1(f, &v), PB_OK);
    state3 before = state_of(f, &x);

    pb_transfer pr = resolve_req("p", PB_TRANSFER_POST_PENDING, &h1.record.id, 0);
    assert_err(fx_submit1(f, &pr), PB_OK);
    assert_true(pr.replayed);
    assert_record_equal(&pr.record, &p.record);
    /* spelling out what the pending supplied is the same request */
    pb_transfer full = resolve_req("p", PB_TRANSFER_POST_PENDING, &h1.record.id, 300);
    full.debit_account_id = x.player;
    full.credit_account_id = x.house;
    snprintf(full.currency, sizeof full.currency, "EUR");
    full.code = PB_CODE_BET;
    assert_err(fx_submit1(f, &full), PB_OK);
    assert_true(full.replayed);
    assert_record_equal(&full.record, &p.record);
    pb_transfer vr = resolve_req("v", PB_TRANSFER_VOID_PENDING, &h2.record.id, 200);
    assert_err(fx_submit1(f, &vr), PB_OK);
    assert_true(vr.replayed);
    assert_record_equal(&vr.record, &v.record);

    pb_transfer less = resolve_req("p", PB_TRANSFER_POST_PENDING, &h1.record.id, 299);
    assert_err(fx_submit1(f, &less), PB_ERR_IDEMPOTENCY_CONFLICT);
    pb_transfer other = resolve_req("p", PB_TRANSFER_POST_PENDING, &h2.record.id, 0);
    assert_err(fx_submit1(f, &other), PB_ERR_IDEMPOTENCY_CONFLICT);
    pb_transfer asvoid = resolve_req("p", PB_TRANSFER_VOID_PENDING, &h1.record.id, 0);
    assert_err(fx_submit1(f, &asvoid), PB_ERR_IDEMPOTENCY_CONFLICT);
    /* a remembered refusal of a post replays too */
    pb_transfer twice = resolve_req("p-again", PB_TRANSFER_POST_PENDING, &h1.record.id, 0);
    assert_err(fx_submit1(f, &twice), PB_ERR_PENDING_ALREADY_POSTED);
    assert_false(twice.replayed);
    assert_err(fx_submit1(f, &twice), PB_ERR_PENDING_ALREADY_POSTED);
    assert_true(twice.replayed);
    state3 after = state_of(f, &x);
    assert_state_equal(&before, &after);
    assert_int_equal(fx_verify(f), 0);
}

/*
 * A post of part of a hold, retried under its key as "post in full" (amount
 * 0 = the full pending amount), asks for something else and must conflict.
 */
static void test_partial_post_key_reused_for_full_post(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_transfer h = fx_transfer("h", x.player, x.house, 300, PB_CODE_BET);
    h.flags = PB_TRANSFER_PENDING;
    assert_err(fx_submit1(f, &h), PB_OK);
    pb_transfer part = resolve_req("settle", PB_TRANSFER_POST_PENDING, &h.record.id, 120);
    assert_err(fx_submit1(f, &part), PB_OK);
    assert_int_equal(part.record.amount, 120);
    pb_transfer full = resolve_req("settle", PB_TRANSFER_POST_PENDING, &h.record.id, 0);
    pb_err got = fx_submit1(f, &full);
    if (got == PB_OK)
        print_error("post of 0 (= all 300) replayed the partial post of %lld (replayed=%d)\n",
                    (long long)full.record.amount, full.replayed);
    assert_err(got, PB_ERR_IDEMPOTENCY_CONFLICT);
}

/* ---- keys inside one submission ----------------------------------------- */

static void test_duplicate_key_in_chain(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    state3 before = state_of(f, &x);
    pb_transfer t[2] = {fx_transfer("dup", x.player, x.house, 10, PB_CODE_BET),
                        fx_transfer("dup", x.player, x.house, 10, PB_CODE_BET)};
    t[0].flags = PB_TRANSFER_LINKED;
    assert_err(pb_ledger_submit(f->ledger, t, 2), PB_OK);
    assert_err(t[0].result, PB_ERR_LINKED_EVENT_FAILED);
    assert_err(t[1].result, PB_ERR_IDEMPOTENCY_CONFLICT);
    state3 after = state_of(f, &x);
    assert_state_equal(&before, &after);
    pb_transfer alone = fx_transfer("dup", x.player, x.house, 10, PB_CODE_BET);
    assert_err(fx_submit1(f, &alone), PB_OK); /* the key was not used up */
    assert_false(alone.replayed);
}

static void test_duplicate_key_in_one_submission(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_transfer t[4] = {fx_transfer("a", x.player, x.house, 10, PB_CODE_BET),
                        fx_transfer("a", x.player, x.house, 10, PB_CODE_BET),
                        fx_transfer("b", x.player, x.house, 20, PB_CODE_BET),
                        fx_transfer("b", x.player, x.house, 21, PB_CODE_BET)};
    assert_err(pb_ledger_submit(f->ledger, t, 4), PB_OK);
    assert_err(t[0].result, PB_OK);
    assert_false(t[0].replayed);
    assert_err(t[1].result, PB_OK);
    assert_true(t[1].replayed);
    assert_record_equal(&t[1].record, &t[0].record);
    assert_err(t[2].result, PB_OK);
    assert_err(t[3].result, PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(fx_get(f, x.player).debits_posted, 30);
    assert_int_equal(transfer_count(f), 3); /* fund, a, b */
}

static void test_chain_replayed_whole(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_transfer t[3] = {fx_transfer("c1", x.player, x.house, 10, PB_CODE_BET),
                        fx_transfer("c2", x.house, x.player, 25, PB_CODE_WIN),
                        fx_transfer("c3", x.bank, x.house, 5, PB_CODE_ADJUSTMENT)};
    t[0].flags = t[1].flags = PB_TRANSFER_LINKED;
    pb_transfer copy[3];
    memcpy(copy, t, sizeof copy);
    assert_err(pb_ledger_submit(f->ledger, t, 3), PB_OK);
    state3 before = state_of(f, &x);
    assert_err(pb_ledger_submit(f->ledger, copy, 3), PB_OK);
    for (int i = 0; i < 3; i++) {
        assert_err(copy[i].result, PB_OK);
        assert_true(copy[i].replayed);
        assert_record_equal(&copy[i].record, &t[i].record);
    }
    state3 after = state_of(f, &x);
    assert_state_equal(&before, &after);
}

static void test_replays_after_restart(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 100);
    pb_transfer ok = fx_transfer("ok", x.player, x.house, 60, PB_CODE_BET);
    pb_transfer no = fx_transfer("no", x.player, x.house, 41, PB_CODE_BET);
    assert_err(fx_submit1(f, &ok), PB_OK);
    assert_err(fx_submit1(f, &no), PB_ERR_INSUFFICIENT_FUNDS);
    fx_restart(f);
    state3 before = state_of(f, &x);
    pb_transfer ok2 = fx_transfer("ok", x.player, x.house, 60, PB_CODE_BET);
    pb_transfer no2 = fx_transfer("no", x.player, x.house, 41, PB_CODE_BET);
    assert_err(fx_submit1(f, &ok2), PB_OK);
    assert_true(ok2.replayed);
    assert_record_equal(&ok2.record, &ok.record);
    assert_err(fx_submit1(f, &no2), PB_ERR_INSUFFICIENT_FUNDS);
    assert_true(no2.replayed);
    ok2.amount = 61;
    assert_err(fx_submit1(f, &ok2), PB_ERR_IDEMPOTENCY_CONFLICT);
    state3 after = state_of(f, &x);
    assert_state_equal(&before, &after);
}

/* ---- concurrency --------------------------------------------------------- */

#define NTHREADS 8

typedef struct racer {
    pb_ledger *ledger;
    pthread_barrier_t *start;
    pb_transfer t;
    pb_err submit;
} racer;

static void *race(void *p)
{
    racer *r = p;
    pthread_barrier_wait(r->start);
    r->submit = pb_ledger_submit(r->ledger, &r->t, 1);
    return NULL;
}

static void test_concurrent_same_key(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    for (int round = 0; round < 5; round++) {
        char key[32];
        snprintf(key, sizeof key, "race-%d", round);
        pthread_barrier_t start;
        assert_int_equal(pthread_barrier_init(&start, NULL, NTHREADS), 0);
        racer r[NTHREADS];
        pthread_t th[NTHREADS];
        for (int i = 0; i < NTHREADS; i++) {
            r[i].ledger = f->ledger;
            r[i].start = &start;
            r[i].t = fx_transfer(key, x.player, x.house, 7, PB_CODE_BET);
            snprintf(r[i].t.trace_id, sizeof r[i].t.trace_id, "trace%d", i);
            r[i].submit = PB_ERR_INTERNAL;
            assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
        }
        for (int i = 0; i < NTHREADS; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        pthread_barrier_destroy(&start);
        int fresh = 0;
        for (int i = 0; i < NTHREADS; i++) {
            assert_err(r[i].submit, PB_OK);
            assert_err(r[i].t.result, PB_OK);
            assert_memory_equal(r[i].t.record.id.b, r[0].t.record.id.b, 16);
            assert_int_equal(r[i].t.record.seq, r[0].t.record.seq);
            fresh += !r[i].t.replayed;
        }
        assert_int_equal(fresh, 1);
        assert_int_equal(transfer_count(f), 2 + round); /* fund + one per round */
    }
    assert_int_equal(fx_get(f, x.player).debits_posted, 5 * 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
        T(test_replay_returns_original),
        T(test_replay_when_funds_are_gone),
        T(test_same_key_different_request_conflicts),
        T(test_scope_is_part_of_the_key),
        T(test_rejection_is_remembered),
        T(test_stateless_refusal_not_remembered),
        T(test_post_void_replays),
        T(test_partial_post_key_reused_for_full_post),
        T(test_duplicate_key_in_chain),
        T(test_duplicate_key_in_one_submission),
        T(test_chain_replayed_whole),
        T(test_replays_after_restart),
        T(test_concurrent_same_key),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
