/*
 * test_ledger_pending.c — two-phase transfers (src/ledger/engine.c): a PENDING
 * hold moves only the pending counters and reduces the available balance; a
 * post in full (amount 0) or in part releases the rest; a void releases all;
 * every refusal of a post/void (POST_EXCEEDS_PENDING, PENDING_NOT_FOUND,
 * PENDING_ALREADY_POSTED/VOIDED, PENDING_MISMATCH) leaves the counters alone;
 * holds count against the balance; expiry by the writer's sweep (driven by the
 * fixture clock) and at submit time, holds without a timeout never expiring;
 * a post and a void of one hold in one linked chain; and holds surviving a
 * ledger restart. Each success path ends with ledger verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define assert_err(got, want) assert_string_equal(pb_err_code(got), pb_err_code(want))
#define SEC INT64_C(1000000)

typedef struct ids {
    int64_t bank, player, house;
} ids;

/* A bank, a player who may not overdraw (funded with `funds`) and the house. */
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

static pb_transfer hold_req(const char *key, int64_t dr, int64_t cr, int64_t amount,
                            int64_t timeout_s)
{
    pb_transfer t = fx_transfer(key, dr, cr, amount, PB_CODE_BET);
    t.flags = PB_TRANSFER_PENDING;
    t.timeout_s = timeout_s;
    return t;
}

/* Places a hold; asserts it succeeded; returns its id. */
static pb_id hold(fx *f, const char *key, int64_t dr, int64_t cr, int64_t amount, int64_t timeout_s)
{
    pb_transfer t = hold_req(key, dr, cr, amount, timeout_s);
    assert_err(fx_submit1(f, &t), PB_OK);
    assert_int_equal(t.record.flags, PB_TRANSFER_PENDING);
    return t.record.id;
}

/* A post (or void) leaving accounts, currency and code to the pending. */
static pb_transfer resolve_req(const char *key, uint32_t flag, const pb_id *pending, int64_t amount)
{
    pb_transfer t = fx_transfer(key, 0, 0, amount, 0);
    t.currency[0] = 0;
    t.flags = flag;
    t.pending_id = *pending;
    return t;
}

static pb_err resolve(fx *f, const char *key, uint32_t flag, const pb_id *pending, int64_t amount)
{
    pb_transfer t = resolve_req(key, flag, pending, amount);
    return fx_submit1(f, &t);
}

static void assert_counters(fx *f, int64_t id, int64_t dp, int64_t dpo, int64_t cp, int64_t cpo)
{
    pb_ledger_account a = fx_get(f, id);
    if (a.debits_pending != dp || a.debits_posted != dpo || a.credits_pending != cp ||
        a.credits_posted != cpo)
        print_error("account %lld: %lld %lld %lld %lld, want %lld %lld %lld %lld\n", (long long)id,
                    (long long)a.debits_pending, (long long)a.debits_posted,
                    (long long)a.credits_pending, (long long)a.credits_posted, (long long)dp,
                    (long long)dpo, (long long)cp, (long long)cpo);
    assert_int_equal(a.debits_pending, dp);
    assert_int_equal(a.debits_posted, dpo);
    assert_int_equal(a.credits_pending, cp);
    assert_int_equal(a.credits_posted, cpo);
}

static int64_t available(fx *f, int64_t id)
{
    pb_ledger_account a = fx_get(f, id);
    return pb_ledger_available(&a);
}

/* A refused post/void: the result, and no row under its key. */
static void expect_refused(fx *f, pb_transfer t, pb_err want)
{
    pb_err got = fx_submit1(f, &t);
    if (got != want)
        print_error("key %s: got %s, want %s\n", t.key, pb_err_code(got), pb_err_code(want));
    assert_err(got, want);
    pb_ledger_record r;
    assert_err(pb_ledger_transfer_by_key(f->conn, t.scope, t.key, &r), PB_ERR_TRANSFER_NOT_FOUND);
}

/* ---- holds, posts and voids --------------------------------------------- */

static void test_hold_moves_pending_only(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_transfer t = hold_req("h1", x.player, x.house, 300, 0);
    assert_err(fx_submit1(f, &t), PB_OK);
    assert_int_equal(t.record.flags, PB_TRANSFER_PENDING);
    assert_int_equal(t.record.expires_at, 0);
    assert_counters(f, x.player, 300, 0, 0, 1000);
    assert_counters(f, x.house, 0, 0, 300, 0);
    assert_int_equal(available(f, x.player), 700);
    /* a timeout is recorded as an absolute expiry on the ledger's clock */
    pb_transfer t2 = hold_req("h2", x.player, x.house, 100, 90);
    assert_err(fx_submit1(f, &t2), PB_OK);
    assert_int_equal(t2.record.timeout_s, 90);
    assert_int_equal(t2.record.expires_at, f->clock_us + 90 * SEC);
    assert_int_equal(available(f, x.player), 600);
    /* a single-phase transfer sees the held money as spent */
    pb_transfer over = fx_transfer("s1", x.player, x.house, 601, PB_CODE_BET);
    assert_err(fx_submit1(f, &over), PB_ERR_INSUFFICIENT_FUNDS);
    pb_transfer fits = fx_transfer("s2", x.player, x.house, 600, PB_CODE_BET);
    assert_err(fx_submit1(f, &fits), PB_OK);
    assert_int_equal(available(f, x.player), 0);
    assert_int_equal(fx_verify(f), 0);
}

static void test_post_full(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_id h = hold(f, "h", x.player, x.house, 300, 0);
    pb_transfer p = resolve_req("p", PB_TRANSFER_POST_PENDING, &h, 0);
    assert_err(fx_submit1(f, &p), PB_OK);
    /* the post takes everything it left open from the pending */
    assert_int_equal(p.record.amount, 300);
    assert_int_equal(p.record.debit_account_id, x.player);
    assert_int_equal(p.record.credit_account_id, x.house);
    assert_string_equal(p.record.currency, "EUR");
    assert_int_equal(p.record.code, PB_CODE_BET);
    assert_true(p.record.has_pending_id);
    assert_memory_equal(p.record.pending_id.b, h.b, 16);
    assert_int_equal(p.record.flags, PB_TRANSFER_POST_PENDING);
    assert_counters(f, x.player, 0, 300, 0, 1000);
    assert_counters(f, x.house, 0, 0, 0, 300);
    assert_int_equal(available(f, x.player), 700);
    pb_store_transfer r;
    assert_int_equal(pb_store_transfer_by_pending(f->conn, &h, &r), PB_STORE_OK);
    assert_int_equal(r.seq, p.record.seq);
    assert_int_equal(fx_verify(f), 0);
}

static void test_post_partial_releases_rest(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_id h = hold(f, "h", x.player, x.house, 300, 0);
    pb_transfer p = resolve_req("p", PB_TRANSFER_POST_PENDING, &h, 120);
    assert_err(fx_submit1(f, &p), PB_OK);
    assert_int_equal(p.record.amount, 120);
    assert_counters(f, x.player, 0, 120, 0, 1000);
    assert_counters(f, x.house, 0, 0, 0, 120);
    assert_int_equal(available(f, x.player), 880);
    /* exactly the pending amount is a full post */
    pb_id h2 = hold(f, "h2", x.player, x.house, 80, 0);
    assert_err(resolve(f, "p2", PB_TRANSFER_POST_PENDING, &h2, 80), PB_OK);
    assert_counters(f, x.player, 0, 200, 0, 1000);
    assert_int_equal(fx_verify(f), 0);
}

static void test_void(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_id h1 = hold(f, "h1", x.player, x.house, 300, 0);
    pb_id h2 = hold(f, "h2", x.player, x.house, 200, 0);
    assert_counters(f, x.player, 500, 0, 0, 1000);
    pb_transfer v = resolve_req("v1", PB_TRANSFER_VOID_PENDING, &h1, 0);
    assert_err(fx_submit1(f, &v), PB_OK);
    assert_int_equal(v.record.amount, 300);
    assert_int_equal(v.record.flags, PB_TRANSFER_VOID_PENDING);
    assert_counters(f, x.player, 200, 0, 0, 1000);
    assert_counters(f, x.house, 0, 0, 200, 0);
    /* a void names 0 or the whole pending amount, nothing else */
    expect_refused(f, resolve_req("v2", PB_TRANSFER_VOID_PENDING, &h2, 199),
                   PB_ERR_PENDING_MISMATCH);
    expect_refused(f, resolve_req("v3", PB_TRANSFER_VOID_PENDING, &h2, 201),
                   PB_ERR_PENDING_MISMATCH);
    assert_counters(f, x.player, 200, 0, 0, 1000);
    assert_err(resolve(f, "v4", PB_TRANSFER_VOID_PENDING, &h2, 200), PB_OK);
    assert_counters(f, x.player, 0, 0, 0, 1000);
    assert_counters(f, x.house, 0, 0, 0, 0);
    assert_int_equal(available(f, x.player), 1000);
    assert_int_equal(fx_verify(f), 0);
}

static void test_post_exceeds_pending(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_id h = hold(f, "h", x.player, x.house, 300, 0);
    expect_refused(f, resolve_req("p1", PB_TRANSFER_POST_PENDING, &h, 301),
                   PB_ERR_POST_EXCEEDS_PENDING);
    expect_refused(f, resolve_req("p2", PB_TRANSFER_POST_PENDING, &h, -1), PB_ERR_AMOUNT_INVALID);
    assert_counters(f, x.player, 300, 0, 0, 1000);
    assert_err(resolve(f, "p3", PB_TRANSFER_POST_PENDING, &h, 300), PB_OK);
    assert_int_equal(fx_verify(f), 0);
}

static void test_pending_not_found(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_id random_id, zero;
    pb_id_new(&random_id);
    memset(&zero, 0, sizeof zero);
    pb_transfer single = fx_transfer("single", x.player, x.house, 10, PB_CODE_BET);
    assert_err(fx_submit1(f, &single), PB_OK);
    pb_id h = hold(f, "h", x.player, x.house, 50, 0);
    pb_transfer post = resolve_req("post", PB_TRANSFER_POST_PENDING, &h, 20);
    assert_err(fx_submit1(f, &post), PB_OK);
    static const uint32_t kinds[] = {PB_TRANSFER_POST_PENDING, PB_TRANSFER_VOID_PENDING};
    for (int k = 0; k < 2; k++) {
        const pb_id *bad[] = {&random_id, &single.record.id, &post.record.id, &zero};
        for (int i = 0; i < 4; i++) {
            char key[32];
            snprintf(key, sizeof key, "nf%d.%d", k, i);
            expect_refused(f, resolve_req(key, kinds[k], bad[i], 0), PB_ERR_PENDING_NOT_FOUND);
        }
    }
    assert_counters(f, x.player, 0, 30, 0, 1000);
    assert_int_equal(fx_verify(f), 0);
}

static void test_already_posted_and_voided(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_id h1 = hold(f, "h1", x.player, x.house, 100, 0);
    assert_err(resolve(f, "p1", PB_TRANSFER_POST_PENDING, &h1, 40), PB_OK);
    expect_refused(f, resolve_req("p1b", PB_TRANSFER_POST_PENDING, &h1, 0),
                   PB_ERR_PENDING_ALREADY_POSTED);
    expect_refused(f, resolve_req("p1c", PB_TRANSFER_POST_PENDING, &h1, 60),
                   PB_ERR_PENDING_ALREADY_POSTED); /* not even the released rest */
    expect_refused(f, resolve_req("v1", PB_TRANSFER_VOID_PENDING, &h1, 0),
                   PB_ERR_PENDING_ALREADY_POSTED);
    pb_id h2 = hold(f, "h2", x.player, x.house, 100, 0);
    assert_err(resolve(f, "v2", PB_TRANSFER_VOID_PENDING, &h2, 0), PB_OK);
    expect_refused(f, resolve_req("p2", PB_TRANSFER_POST_PENDING, &h2, 0),
                   PB_ERR_PENDING_ALREADY_VOIDED);
    expect_refused(f, resolve_req("v2b", PB_TRANSFER_VOID_PENDING, &h2, 0),
                   PB_ERR_PENDING_ALREADY_VOIDED);
    assert_counters(f, x.player, 0, 40, 0, 1000);
    assert_counters(f, x.house, 0, 0, 0, 40);
    assert_int_equal(fx_verify(f), 0);
}

static void test_pending_mismatch(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    int64_t other = fx_account(f, "other", "cash", 0);
    pb_id h = hold(f, "h", x.player, x.house, 100, 0);
    pb_transfer t = resolve_req("m1", PB_TRANSFER_POST_PENDING, &h, 0);
    t.debit_account_id = other;
    expect_refused(f, t, PB_ERR_PENDING_MISMATCH);
    t = resolve_req("m2", PB_TRANSFER_POST_PENDING, &h, 0);
    t.credit_account_id = other;
    expect_refused(f, t, PB_ERR_PENDING_MISMATCH);
    t = resolve_req("m3", PB_TRANSFER_POST_PENDING, &h, 0);
    snprintf(t.currency, sizeof t.currency, "USD");
    expect_refused(f, t, PB_ERR_PENDING_MISMATCH);
    t = resolve_req("m4", PB_TRANSFER_VOID_PENDING, &h, 0);
    t.code = PB_CODE_WIN;
    expect_refused(f, t, PB_ERR_PENDING_MISMATCH);
    t = resolve_req("m5", PB_TRANSFER_POST_PENDING, &h, 0); /* swapped sides */
    t.debit_account_id = x.house;
    t.credit_account_id = x.player;
    expect_refused(f, t, PB_ERR_PENDING_MISMATCH);
    assert_counters(f, x.player, 100, 0, 0, 1000);
    /* naming exactly the pending's fields is fine */
    t = resolve_req("m6", PB_TRANSFER_POST_PENDING, &h, 0);
    t.debit_account_id = x.player;
    t.credit_account_id = x.house;
    snprintf(t.currency, sizeof t.currency, "EUR");
    t.code = PB_CODE_BET;
    assert_err(fx_submit1(f, &t), PB_OK);
    assert_counters(f, x.player, 0, 100, 0, 1000);
    assert_int_equal(fx_verify(f), 0);
}

static void test_holds_count_against_balance(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 100);
    hold(f, "h1", x.player, x.house, 60, 0);
    pb_transfer h2 = hold_req("h2", x.player, x.house, 41, 0);
    expect_refused(f, h2, PB_ERR_INSUFFICIENT_FUNDS);
    assert_counters(f, x.player, 60, 0, 0, 100);
    hold(f, "h3", x.player, x.house, 40, 0); /* exactly what is left */
    expect_refused(f, hold_req("h4", x.player, x.house, 1, 0), PB_ERR_INSUFFICIENT_FUNDS);
    assert_int_equal(available(f, x.player), 0);
    assert_int_equal(fx_verify(f), 0);
}

/* ---- expiry -------------------------------------------------------------- */

static void test_expiry_sweep(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    int64_t t0 = f->clock_us;
    pb_id early = hold(f, "early", x.player, x.house, 100, 10);
    pb_id h = hold(f, "h", x.player, x.house, 300, 10);
    f->clock_us = t0 + 9 * SEC;
    fx_sync(f);
    assert_counters(f, x.player, 400, 0, 0, 1000); /* not yet */
    assert_err(resolve(f, "post-early", PB_TRANSFER_POST_PENDING, &early, 0), PB_OK);
    f->clock_us = t0 + 11 * SEC;
    fx_sync(f);
    assert_counters(f, x.player, 0, 100, 0, 1000);
    assert_counters(f, x.house, 0, 0, 0, 100);
    assert_int_equal(available(f, x.player), 900);

    pb_store_transfer e;
    assert_int_equal(pb_store_transfer_by_pending(f->conn, &h, &e), PB_STORE_OK);
    assert_int_equal(e.flags, PB_TRANSFER_VOID_PENDING | PB_TRANSFER_EXPIRED);
    assert_int_equal(e.amount, 300);
    assert_int_equal(e.debit_account_id, x.player);
    assert_int_equal(e.credit_account_id, x.house);
    assert_int_equal(e.code, PB_CODE_BET);
    assert_int_equal(e.created_at, t0 + 11 * SEC);
    assert_string_equal(e.scope, "ledger");
    char key[PB_LEDGER_KEY_MAX + 1], idstr[PB_ID_STR_LEN + 1];
    pb_id_to_string(&h, idstr);
    snprintf(key, sizeof key, "expire:%s", idstr);
    assert_string_equal(e.ikey, key);
    assert_int_equal(pb_store_transfer_by_pending(f->conn, &early, &e), PB_STORE_OK);
    assert_int_equal(e.flags, PB_TRANSFER_POST_PENDING); /* the posted one was not expired */

    expect_refused(f, resolve_req("late-post", PB_TRANSFER_POST_PENDING, &h, 0),
                   PB_ERR_PENDING_EXPIRED);
    expect_refused(f, resolve_req("late-void", PB_TRANSFER_VOID_PENDING, &h, 0),
                   PB_ERR_PENDING_EXPIRED);
    assert_counters(f, x.player, 0, 100, 0, 1000);
    pb_ledger_verify_summary s;
    assert_int_equal(pb_ledger_verify(f->conn, NULL, NULL, &s), PB_OK);
    assert_int_equal(s.violations, 0);
    assert_int_equal(s.open_pendings, 0);
}

static void test_expired_at_submit(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_id h = hold(f, "h", x.player, x.house, 300, 10);
    pb_id v = hold(f, "v", x.player, x.house, 200, 10);
    f->clock_us += 11 * SEC;
    /* no fx_sync: the post is checked against the clock when it is applied */
    pb_transfer t[2] = {resolve_req("p", PB_TRANSFER_POST_PENDING, &h, 0),
                        resolve_req("vv", PB_TRANSFER_VOID_PENDING, &v, 0)};
    assert_err(pb_ledger_submit(f->ledger, t, 2), PB_OK);
    assert_err(t[0].result, PB_ERR_PENDING_EXPIRED);
    assert_err(t[1].result, PB_ERR_PENDING_EXPIRED);
    assert_false(t[0].replayed);
    assert_counters(f, x.player, 0, 0, 0, 1000);
    assert_int_equal(fx_verify(f), 0);
}

/* The writer sweeps at most 256 holds per batch. With more expired holds than
 * two sweeps can clear, the last one is still open in the projection when its
 * post is applied: the check against the clock at submit time must refuse it. */
static void test_expired_beyond_sweep_cap(void **state)
{
    fx *f = *state;
    enum { N = 600 };
    ids x = setup_accounts(f, N);
    pb_transfer *t = calloc(N, sizeof *t);
    assert_non_null(t);
    for (int i = 0; i < N; i++) {
        char key[32];
        snprintf(key, sizeof key, "h%d", i);
        t[i] = hold_req(key, x.player, x.house, 1, 10);
    }
    assert_err(pb_ledger_submit(f->ledger, t, N), PB_OK);
    for (int i = 0; i < N; i++)
        assert_err(t[i].result, PB_OK);
    pb_id last = t[N - 1].record.id; /* swept last: same expiry, highest seq */
    f->clock_us += 11 * SEC;
    pb_transfer p = resolve_req("late", PB_TRANSFER_POST_PENDING, &last, 0);
    assert_err(fx_submit1(f, &p), PB_ERR_PENDING_EXPIRED);
    for (int i = 0; i < 10 && fx_get(f, x.player).debits_pending > 0; i++)
        fx_sync(f);
    assert_counters(f, x.player, 0, 0, 0, N);
    pb_store_transfer e;
    assert_int_equal(pb_store_transfer_by_pending(f->conn, &last, &e), PB_STORE_OK);
    assert_int_equal(e.flags, PB_TRANSFER_VOID_PENDING | PB_TRANSFER_EXPIRED);
    assert_int_equal(fx_verify(f), 0);
    free(t);
}

static void test_no_timeout_never_expires(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_id h = hold(f, "h", x.player, x.house, 300, 0);
    f->clock_us += INT64_C(10) * 365 * 86400 * SEC;
    fx_sync(f);
    assert_counters(f, x.player, 300, 0, 0, 1000);
    pb_ledger_verify_summary s;
    assert_int_equal(pb_ledger_verify(f->conn, NULL, NULL, &s), PB_OK);
    assert_int_equal(s.open_pendings, 1);
    assert_err(resolve(f, "p", PB_TRANSFER_POST_PENDING, &h, 0), PB_OK);
    assert_counters(f, x.player, 0, 300, 0, 1000);
    assert_int_equal(fx_verify(f), 0);
}

/* ---- chains and restart ------------------------------------------------- */

static void test_post_and_void_in_one_chain(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_id h = hold(f, "h", x.player, x.house, 300, 0);
    pb_transfer t[2] = {resolve_req("c-post", PB_TRANSFER_POST_PENDING, &h, 0),
                        resolve_req("c-void", PB_TRANSFER_VOID_PENDING, &h, 0)};
    t[0].flags |= PB_TRANSFER_LINKED;
    assert_err(pb_ledger_submit(f->ledger, t, 2), PB_OK);
    assert_err(t[0].result, PB_ERR_LINKED_EVENT_FAILED);
    assert_err(t[1].result, PB_ERR_PENDING_ALREADY_POSTED);
    assert_counters(f, x.player, 300, 0, 0, 1000);
    assert_counters(f, x.house, 0, 0, 300, 0);
    pb_store_transfer r;
    assert_int_equal(pb_store_transfer_by_pending(f->conn, &h, &r), PB_STORE_NOT_FOUND);
    pb_ledger_verify_summary s; /* the hold is still open, by its transfers */
    assert_int_equal(pb_ledger_verify(f->conn, NULL, NULL, &s), PB_OK);
    assert_int_equal(s.open_pendings, 1);
    assert_int_equal(s.violations, 0);
    /* the other order is refused the same way */
    pb_transfer u[2] = {resolve_req("d-void", PB_TRANSFER_VOID_PENDING, &h, 0),
                        resolve_req("d-post", PB_TRANSFER_POST_PENDING, &h, 0)};
    u[0].flags |= PB_TRANSFER_LINKED;
    assert_err(pb_ledger_submit(f->ledger, u, 2), PB_OK);
    assert_err(u[0].result, PB_ERR_LINKED_EVENT_FAILED);
    assert_err(u[1].result, PB_ERR_PENDING_ALREADY_VOIDED);
    /* still open: the post goes through (its key was not used up by the failed chain) */
    assert_err(resolve(f, "c-post", PB_TRANSFER_POST_PENDING, &h, 0), PB_OK);
    assert_counters(f, x.player, 0, 300, 0, 1000);
    assert_int_equal(fx_verify(f), 0);
}

static void test_holds_survive_restart(void **state)
{
    fx *f = *state;
    ids x = setup_accounts(f, 1000);
    pb_id h = hold(f, "h", x.player, x.house, 300, 0);
    pb_id t = hold(f, "t", x.player, x.house, 200, 60);
    fx_restart(f);
    assert_counters(f, x.player, 500, 0, 0, 1000);
    /* the restarted writer still counts the holds */
    expect_refused(f, hold_req("too-much", x.player, x.house, 501, 0), PB_ERR_INSUFFICIENT_FUNDS);
    assert_err(resolve(f, "p", PB_TRANSFER_POST_PENDING, &h, 100), PB_OK);
    assert_counters(f, x.player, 200, 100, 0, 1000);
    fx_restart(f);
    f->clock_us += 61 * SEC;
    fx_sync(f);
    assert_counters(f, x.player, 0, 100, 0, 1000);
    expect_refused(f, resolve_req("late", PB_TRANSFER_POST_PENDING, &t, 0), PB_ERR_PENDING_EXPIRED);
    assert_int_equal(fx_verify(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
        T(test_hold_moves_pending_only),     T(test_post_full),
        T(test_post_partial_releases_rest),  T(test_void),
        T(test_post_exceeds_pending),        T(test_pending_not_found),
        T(test_already_posted_and_voided),   T(test_pending_mismatch),
        T(test_holds_count_against_balance), T(test_expiry_sweep),
        T(test_expired_at_submit),           T(test_expired_beyond_sweep_cap),
        T(test_no_timeout_never_expires),    T(test_post_and_void_in_one_chain),
        T(test_holds_survive_restart),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
