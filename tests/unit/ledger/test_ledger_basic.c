/*
 * test_ledger_basic.c — accounts and single-phase transfers of the ledger
 * (src/ledger/ledger.c, engine.c): account creation and its refusals; the
 * counters a transfer moves; every business and stateless rejection of a
 * single-phase transfer, each checked to leave all counters and the transfer
 * table untouched; int64 overflow of a counter; linked chains (all-or-nothing,
 * LINKED_EVENT_FAILED, LINKED_CHAIN_OPEN) next to independent transfers in one
 * submission; batch limits and a 1000-transfer batch; the fields of a stored
 * record (seq, id, created_at, account-chain links, hash); and that state and
 * the hash chain survive a ledger restart; one ledger writer per database.
 * Each success test ends with verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"

#define assert_err(got, want) assert_string_equal(pb_err_code(got), pb_err_code(want))

#define DMNEC PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS
#define CMNED PB_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS

static void assert_account_equal(const pb_ledger_account *a, const pb_ledger_account *b)
{
    assert_int_equal(a->id, b->id);
    assert_string_equal(a->brand, b->brand);
    assert_string_equal(a->owner, b->owner);
    assert_string_equal(a->kind, b->kind);
    assert_string_equal(a->currency, b->currency);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->debits_pending, b->debits_pending);
    assert_int_equal(a->debits_posted, b->debits_posted);
    assert_int_equal(a->credits_pending, b->credits_pending);
    assert_int_equal(a->credits_posted, b->credits_posted);
    assert_int_equal(a->last_seq, b->last_seq);
}

static int64_t transfer_count(fx *f)
{
    pb_ledger_verify_summary s;
    assert_int_equal(pb_ledger_verify(f->conn, NULL, NULL, &s), PB_OK);
    assert_int_equal(s.violations, 0);
    return s.transfers;
}

static void assert_no_row(fx *f, const pb_transfer *t)
{
    pb_ledger_record r;
    assert_err(pb_ledger_transfer_by_key(f->conn, t->scope, t->key, &r), PB_ERR_TRANSFER_NOT_FOUND);
}

/* Snapshot of every account of a test, to prove a rejection changed nothing. */
typedef struct snap {
    pb_ledger_account a[8];
    size_t n;
    int64_t transfers;
} snap;

static snap take(fx *f, const int64_t *ids, size_t n)
{
    snap s;
    memset(&s, 0, sizeof s);
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        s.a[i] = fx_get(f, ids[i]);
    s.n = n;
    s.transfers = transfer_count(f);
    return s;
}

static void assert_unchanged(fx *f, const snap *s)
{
    for (size_t i = 0; i < s->n; i++) {
        pb_ledger_account now = fx_get(f, s->a[i].id);
        assert_account_equal(&s->a[i], &now);
    }
    assert_int_equal(transfer_count(f), s->transfers);
}

/* Submits t alone, expects `want`, and checks that nothing at all was written. */
static void expect_reject(fx *f, pb_transfer t, pb_err want, const int64_t *ids, size_t n)
{
    snap s = take(f, ids, n);
    pb_err got = fx_submit1(f, &t);
    if (got != want)
        print_error("key %s: got %s, want %s\n", t.key, pb_err_code(got), pb_err_code(want));
    assert_err(got, want);
    assert_false(t.replayed);
    assert_unchanged(f, &s);
    assert_no_row(f, &t);
}

static void fund(fx *f, const char *key, int64_t from, int64_t to, int64_t amount)
{
    pb_transfer t = fx_transfer(key, from, to, amount, PB_CODE_DEPOSIT);
    assert_err(fx_submit1(f, &t), PB_OK);
}

/* ---- accounts ----------------------------------------------------------- */

static pb_ledger_account acct_req(const char *owner, const char *kind, const char *cur,
                                  uint32_t flags)
{
    pb_ledger_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.brand, sizeof a.brand, "test");
    snprintf(a.owner, sizeof a.owner, "%s", owner);
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.currency, sizeof a.currency, "%s", cur);
    a.flags = flags;
    return a;
}

static void test_account_create_ok(void **state)
{
    fx *f = *state;
    pb_ledger_account a = acct_req("p1", "cash", "EUR", DMNEC);
    assert_err(pb_ledger_account_create(f->ledger, &a), PB_OK);
    assert_true(a.id > 0);
    assert_int_equal(a.created_at, f->clock_us);
    pb_ledger_account b = acct_req("p1", "cash", "USD", 0);
    assert_err(pb_ledger_account_create(f->ledger, &b), PB_OK);
    assert_true(b.id > 0 && b.id != a.id);

    pb_ledger_account got = fx_get(f, a.id);
    assert_account_equal(&got, &a);
    assert_string_equal(got.owner, "p1");
    assert_string_equal(got.currency, "EUR");
    assert_int_equal(got.flags, DMNEC);
    assert_int_equal(got.debits_pending + got.debits_posted + got.credits_pending +
                         got.credits_posted + got.last_seq,
                     0);
    assert_int_equal(fx_verify(f), 0);
}

static void test_account_create_exists(void **state)
{
    fx *f = *state;
    pb_ledger_account a = acct_req("p1", "cash", "EUR", 0);
    assert_err(pb_ledger_account_create(f->ledger, &a), PB_OK);
    pb_ledger_account dup = acct_req("p1", "cash", "EUR", DMNEC); /* flags do not matter */
    assert_err(pb_ledger_account_create(f->ledger, &dup), PB_ERR_ACCOUNT_EXISTS);
    /* any differing part of (brand, owner, kind, currency) makes another account */
    pb_ledger_account k = acct_req("p1", "bonus", "EUR", 0);
    assert_err(pb_ledger_account_create(f->ledger, &k), PB_OK);
    pb_ledger_account o = acct_req("p2", "cash", "EUR", 0);
    assert_err(pb_ledger_account_create(f->ledger, &o), PB_OK);
    pb_ledger_account br = acct_req("p1", "cash", "EUR", 0);
    snprintf(br.brand, sizeof br.brand, "other");
    assert_err(pb_ledger_account_create(f->ledger, &br), PB_OK);
    pb_ledger_account stored = fx_get(f, a.id);
    assert_int_equal(stored.flags, 0);
    assert_int_equal(fx_verify(f), 0);
}

static void test_account_create_refusals(void **state)
{
    fx *f = *state;
    static const struct {
        const char *owner, *cur;
        uint32_t flags;
        pb_err want;
    } rows[] = {
        {"p", "XXX", 0, PB_ERR_CURRENCY_UNKNOWN},
        {"p", "eur", 0, PB_ERR_CURRENCY_UNKNOWN},
        {"p", "", 0, PB_ERR_CURRENCY_UNKNOWN},
        {"p", "EUR", DMNEC | CMNED, PB_ERR_ACCOUNT_FLAGS_INVALID},
        {"p", "EUR", 1u << 5, PB_ERR_ACCOUNT_FLAGS_INVALID},
        {"", "EUR", 0, PB_ERR_INVALID_REQUEST},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        pb_ledger_account a = acct_req(rows[i].owner, "cash", rows[i].cur, rows[i].flags);
        pb_err got = pb_ledger_account_create(f->ledger, &a);
        if (got != rows[i].want)
            print_error("row %zu: got %s\n", i, pb_err_code(got));
        assert_err(got, rows[i].want);
    }
    pb_ledger_account nob = acct_req("p", "cash", "EUR", 0);
    nob.brand[0] = 0;
    assert_err(pb_ledger_account_create(f->ledger, &nob), PB_ERR_INVALID_REQUEST);
    pb_ledger_account nok = acct_req("p", "", "EUR", 0);
    assert_err(pb_ledger_account_create(f->ledger, &nok), PB_ERR_INVALID_REQUEST);
    pb_ledger_account found;
    assert_err(pb_ledger_account_find(f->conn, "test", "p", "cash", "EUR", &found),
               PB_ERR_ACCOUNT_NOT_FOUND);
}

/* Accounts queued together: each stands alone (a refused one, stateless or
 * against the store, does not stop the others), ids follow the array order, and
 * every created account is stored as one made alone would be. */
static void test_accounts_create_many(void **state)
{
    fx *f = *state;
    pb_ledger_account a[6] = {
        acct_req("m0", "cash", "EUR", DMNEC), acct_req("m1", "cash", "EUR", 0),
        acct_req("m2", "cash", "ZZZ", 0),     acct_req("m0", "cash", "EUR", 0),
        acct_req("m3", "cash", "USD", CMNED), acct_req("", "cash", "EUR", 0),
    };
    pb_err r[6];
    assert_err(pb_ledger_accounts_create(f->ledger, a, 6, r), PB_OK);
    const pb_err want[6] = {PB_OK,
                            PB_OK,
                            PB_ERR_CURRENCY_UNKNOWN,
                            PB_ERR_ACCOUNT_EXISTS,
                            PB_OK,
                            PB_ERR_INVALID_REQUEST};
    for (size_t i = 0; i < 6; i++) {
        if (r[i] != want[i])
            print_error("account %zu: got %s\n", i, pb_err_code(r[i]));
        assert_err(r[i], want[i]);
    }
    assert_true(a[0].id > 0 && a[1].id > a[0].id && a[4].id > a[1].id);
    pb_ledger_account got = fx_get(f, a[4].id);
    assert_account_equal(&got, &a[4]);
    assert_string_equal(got.owner, "m3");
    assert_int_equal(got.flags, CMNED);
    got = fx_get(f, a[0].id);
    assert_int_equal(got.flags, DMNEC); /* the duplicate changed nothing */

    /* a thousand at once: consecutive ids (nothing else creates accounts here) */
    enum { N = 1000 };
    pb_ledger_account *many = calloc(N, sizeof *many);
    pb_err *res = calloc(N, sizeof *res);
    assert_non_null(many);
    assert_non_null(res);
    for (int i = 0; i < N; i++) {
        char owner[32];
        snprintf(owner, sizeof owner, "bulk%d", i);
        many[i] = acct_req(owner, "cash", "EUR", DMNEC);
    }
    assert_err(pb_ledger_accounts_create(f->ledger, many, N, res), PB_OK);
    for (int i = 0; i < N; i++) {
        assert_err(res[i], PB_OK);
        assert_int_equal(many[i].id, many[0].id + i);
    }
    free(many);
    free(res);
    assert_err(pb_ledger_accounts_create(f->ledger, a, 0, r), PB_ERR_INVALID_REQUEST);
    assert_err(pb_ledger_accounts_create(f->ledger, a, PB_LEDGER_MAX_SUBMIT + 1, r),
               PB_ERR_INVALID_REQUEST);
    assert_int_equal(fx_verify(f), 0);
}

/* ---- single-phase transfers --------------------------------------------- */

static void test_transfer_moves_counters(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "bank", "cash", 0), b = fx_account(f, "p1", "cash", DMNEC);
    pb_transfer t = fx_transfer("t1", a, b, 500, PB_CODE_DEPOSIT);
    assert_err(fx_submit1(f, &t), PB_OK);
    assert_false(t.replayed);
    pb_ledger_account A = fx_get(f, a), B = fx_get(f, b);
    assert_int_equal(A.debits_posted, 500);
    assert_int_equal(A.credits_posted, 0);
    assert_int_equal(A.debits_pending + A.credits_pending, 0);
    assert_int_equal(B.credits_posted, 500);
    assert_int_equal(B.debits_posted, 0);
    assert_int_equal(B.debits_pending + B.credits_pending, 0);
    assert_int_equal(pb_ledger_available(&B), 500);

    pb_transfer back = fx_transfer("t2", b, a, 120, PB_CODE_WITHDRAWAL);
    assert_err(fx_submit1(f, &back), PB_OK);
    A = fx_get(f, a);
    B = fx_get(f, b);
    assert_int_equal(A.debits_posted, 500);
    assert_int_equal(A.credits_posted, 120);
    assert_int_equal(B.debits_posted, 120);
    assert_int_equal(B.credits_posted, 500);
    assert_int_equal(pb_ledger_available(&B), 380);
    assert_int_equal(A.last_seq, back.record.seq);
    assert_int_equal(fx_verify(f), 0);
}

static void test_insufficient_funds_boundary(void **state)
{
    fx *f = *state;
    int64_t bank = fx_account(f, "bank", "cash", 0), p = fx_account(f, "p1", "cash", DMNEC);
    int64_t house = fx_account(f, "house", "revenue", 0);
    int64_t ids[] = {bank, p, house};
    /* an empty player account cannot pay even 1 */
    expect_reject(f, fx_transfer("e1", p, house, 1, PB_CODE_BET), PB_ERR_INSUFFICIENT_FUNDS, ids,
                  3);
    fund(f, "f1", bank, p, 100);
    expect_reject(f, fx_transfer("b1", p, house, 101, PB_CODE_BET), PB_ERR_INSUFFICIENT_FUNDS, ids,
                  3);
    pb_transfer ok = fx_transfer("b2", p, house, 100, PB_CODE_BET); /* exactly the balance */
    assert_err(fx_submit1(f, &ok), PB_OK);
    pb_ledger_account P = fx_get(f, p);
    assert_int_equal(pb_ledger_available(&P), 0);
    expect_reject(f, fx_transfer("b3", p, house, 1, PB_CODE_BET), PB_ERR_INSUFFICIENT_FUNDS, ids,
                  3);
    /* the unflagged bank may go as negative as it likes */
    fund(f, "f2", bank, house, 1000000);
    assert_int_equal(fx_verify(f), 0);
}

static void test_exceeds_debits(void **state)
{
    fx *f = *state;
    int64_t x = fx_account(f, "liab", "settlement", CMNED), z = fx_account(f, "z", "cash", 0);
    int64_t ids[] = {x, z};
    expect_reject(f, fx_transfer("c1", z, x, 1, PB_CODE_TRANSFER), PB_ERR_EXCEEDS_DEBITS, ids, 2);
    fund(f, "d1", x, z, 50); /* x may be debited freely */
    fund(f, "c2", z, x, 50); /* credits == debits: allowed */
    expect_reject(f, fx_transfer("c3", z, x, 1, PB_CODE_TRANSFER), PB_ERR_EXCEEDS_DEBITS, ids, 2);
    pb_ledger_account X = fx_get(f, x);
    assert_int_equal(X.debits_posted, 50);
    assert_int_equal(X.credits_posted, 50);
    assert_int_equal(fx_verify(f), 0);
}

static void test_currency_mismatch(void **state)
{
    fx *f = *state;
    int64_t e1 = fx_account(f, "a", "cash", 0), e2 = fx_account(f, "b", "cash", 0);
    int64_t u1 = fx_account_cur(f, "c", "cash", 0, "USD");
    int64_t ids[] = {e1, e2, u1};
    pb_transfer t = fx_transfer("m1", e1, e2, 10, PB_CODE_TRANSFER);
    snprintf(t.currency, sizeof t.currency, "USD"); /* known, but not the accounts' */
    expect_reject(f, t, PB_ERR_CURRENCY_MISMATCH, ids, 3);
    expect_reject(f, fx_transfer("m2", e1, u1, 10, PB_CODE_TRANSFER), PB_ERR_CURRENCY_MISMATCH, ids,
                  3);
    pb_transfer u = fx_transfer("m3", e1, u1, 10, PB_CODE_TRANSFER);
    snprintf(u.currency, sizeof u.currency, "USD");
    expect_reject(f, u, PB_ERR_CURRENCY_MISMATCH, ids, 3);
    expect_reject(f, fx_transfer("m4", u1, e2, 10, PB_CODE_TRANSFER), PB_ERR_CURRENCY_MISMATCH, ids,
                  3);
    assert_int_equal(fx_verify(f), 0);
}

static void test_account_not_found(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0);
    int64_t ids[] = {a};
    expect_reject(f, fx_transfer("n1", a, 999999, 10, 1), PB_ERR_ACCOUNT_NOT_FOUND, ids, 1);
    expect_reject(f, fx_transfer("n2", 999999, a, 10, 1), PB_ERR_ACCOUNT_NOT_FOUND, ids, 1);
    expect_reject(f, fx_transfer("n3", 0, a, 10, 1), PB_ERR_ACCOUNT_NOT_FOUND, ids, 1);
    expect_reject(f, fx_transfer("n4", a, 0, 10, 1), PB_ERR_ACCOUNT_NOT_FOUND, ids, 1);
    expect_reject(f, fx_transfer("n5", -3, a, 10, 1), PB_ERR_ACCOUNT_NOT_FOUND, ids, 1);
    assert_int_equal(fx_verify(f), 0);
}

static void test_stateless_rejections(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    int64_t ids[] = {a, b};
    enum { AMOUNT, CUR, FLAGS, TIMEOUT, KEY, SCOPE, CODE, DEBIT, PENDING_ID };
    static const struct {
        int what;
        int64_t v;
        const char *s;
        pb_err want;
    } rows[] = {
        {DEBIT, 0, NULL, PB_ERR_ACCOUNTS_MUST_DIFFER}, /* debit := credit */
        {AMOUNT, 0, NULL, PB_ERR_AMOUNT_INVALID},
        {AMOUNT, -5, NULL, PB_ERR_AMOUNT_INVALID},
        {AMOUNT, INT64_MIN, NULL, PB_ERR_AMOUNT_INVALID},
        {CUR, 0, "XYZ", PB_ERR_CURRENCY_UNKNOWN},
        {CUR, 0, "", PB_ERR_CURRENCY_UNKNOWN},
        {FLAGS, 1u << 7, NULL, PB_ERR_FLAGS_INVALID},
        {FLAGS, PB_TRANSFER_EXPIRED, NULL, PB_ERR_FLAGS_INVALID}, /* only the ledger sets it */
        {FLAGS, PB_TRANSFER_PENDING | PB_TRANSFER_POST_PENDING, NULL, PB_ERR_FLAGS_INVALID},
        {FLAGS, PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING, NULL, PB_ERR_FLAGS_INVALID},
        {TIMEOUT, 10, NULL, PB_ERR_TIMEOUT_INVALID},
        {TIMEOUT, -1, NULL, PB_ERR_TIMEOUT_INVALID},
        {KEY, 0, "", PB_ERR_IDEMPOTENCY_KEY_INVALID},
        {SCOPE, 0, "", PB_ERR_IDEMPOTENCY_KEY_INVALID},
        {SCOPE, 0, "ledger", PB_ERR_IDEMPOTENCY_KEY_INVALID},
        {CODE, 0, NULL, PB_ERR_INVALID_REQUEST},
        {PENDING_ID, 0, NULL, PB_ERR_INVALID_REQUEST}, /* a pending id on a single-phase */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "s%zu", i);
        pb_transfer t = fx_transfer(key, a, b, 10, PB_CODE_TRANSFER);
        switch (rows[i].what) {
        case AMOUNT: t.amount = rows[i].v; break;
        case CUR: snprintf(t.currency, sizeof t.currency, "%s", rows[i].s); break;
        case FLAGS: t.flags = (uint32_t)rows[i].v; break;
        case TIMEOUT: t.timeout_s = rows[i].v; break;
        case KEY: snprintf(t.key, sizeof t.key, "%s", rows[i].s); break;
        case SCOPE: snprintf(t.scope, sizeof t.scope, "%s", rows[i].s); break;
        case CODE: t.code = 0; break;
        case DEBIT: t.debit_account_id = b; break;
        case PENDING_ID: pb_id_new(&t.pending_id); break;
        }
        expect_reject(f, t, rows[i].want, ids, 2);
    }
    /* a stateless refusal is not remembered: the fixed request succeeds under the same key */
    pb_transfer t = fx_transfer("s1", a, b, 10, PB_CODE_TRANSFER);
    assert_err(fx_submit1(f, &t), PB_OK);
    assert_false(t.replayed);
    assert_int_equal(fx_verify(f), 0);
}

static void test_overflow(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    int64_t c = fx_account(f, "c", "cash", 0);
    int64_t ids[] = {a, b, c};
    fund(f, "big", a, b, INT64_MAX - 10);
    pb_transfer edge = fx_transfer("edge", c, b, 10, PB_CODE_TRANSFER); /* exactly INT64_MAX */
    assert_err(fx_submit1(f, &edge), PB_OK);
    assert_int_equal(fx_get(f, b).credits_posted, INT64_MAX);
    /* credit side overflows (c's debits would not) */
    expect_reject(f, fx_transfer("o1", c, b, 1, PB_CODE_TRANSFER), PB_ERR_OVERFLOW, ids, 3);
    /* debit side overflows: a has debited INT64_MAX - 10 */
    expect_reject(f, fx_transfer("o2", a, c, 11, PB_CODE_TRANSFER), PB_ERR_OVERFLOW, ids, 3);
    pb_transfer fits = fx_transfer("o3", a, c, 10, PB_CODE_TRANSFER);
    assert_err(fx_submit1(f, &fits), PB_OK);
    assert_int_equal(fx_get(f, a).debits_posted, INT64_MAX);
    /* a single-phase transfer may not leave an open hold unpostable: posted + pending
     * must fit on both sides, as a new hold's must */
    int64_t d = fx_account(f, "d", "cash", 0), e = fx_account(f, "e", "cash", 0);
    int64_t ids2[] = {d, e};
    pb_transfer hold = fx_transfer("h", d, e, 100, PB_CODE_TRANSFER);
    hold.flags = PB_TRANSFER_PENDING;
    assert_err(fx_submit1(f, &hold), PB_OK);
    expect_reject(f, fx_transfer("o4", d, e, INT64_MAX - 99, PB_CODE_TRANSFER), PB_ERR_OVERFLOW,
                  ids2, 2);
    pb_transfer most = fx_transfer("o5", d, e, INT64_MAX - 100, PB_CODE_TRANSFER);
    assert_err(fx_submit1(f, &most), PB_OK);
    pb_transfer post;
    memset(&post, 0, sizeof post);
    snprintf(post.scope, sizeof post.scope, "test");
    snprintf(post.key, sizeof post.key, "h-post");
    post.flags = PB_TRANSFER_POST_PENDING;
    post.pending_id = hold.record.id;
    assert_err(fx_submit1(f, &post), PB_OK);
    assert_int_equal(fx_get(f, d).debits_posted, INT64_MAX);
    assert_int_equal(fx_get(f, e).credits_posted, INT64_MAX);
    assert_int_equal(fx_verify(f), 0);
}

/* ---- linked chains ------------------------------------------------------ */

static void test_chain_all_succeed(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    int64_t c = fx_account(f, "c", "cash", 0);
    pb_transfer t[3] = {fx_transfer("l1", a, b, 10, 40), fx_transfer("l2", b, c, 7, 40),
                        fx_transfer("l3", c, a, 3, 40)};
    t[0].flags = t[1].flags = PB_TRANSFER_LINKED;
    assert_err(pb_ledger_submit(f->ledger, t, 3), PB_OK);
    for (int i = 0; i < 3; i++) {
        assert_err(t[i].result, PB_OK);
        assert_int_equal(t[i].record.seq, i + 1);
    }
    assert_int_equal(t[0].record.flags, PB_TRANSFER_LINKED);
    assert_int_equal(t[2].record.flags, 0);
    pb_ledger_account A = fx_get(f, a), B = fx_get(f, b), C = fx_get(f, c);
    assert_int_equal(A.debits_posted, 10);
    assert_int_equal(A.credits_posted, 3);
    assert_int_equal(B.credits_posted, 10);
    assert_int_equal(B.debits_posted, 7);
    assert_int_equal(C.credits_posted, 7);
    assert_int_equal(C.debits_posted, 3);
    assert_int_equal(fx_verify(f), 0);
}

static void test_chain_business_failure_rolls_back(void **state)
{
    fx *f = *state;
    int64_t bank = fx_account(f, "bank", "cash", 0), p = fx_account(f, "p", "cash", DMNEC);
    int64_t h = fx_account(f, "h", "revenue", 0);
    fund(f, "f", bank, p, 50);
    int64_t ids[] = {bank, p, h};
    snap s = take(f, ids, 3);
    pb_transfer t[3] = {fx_transfer("c1", bank, p, 10, 40), fx_transfer("c2", p, h, 61, 40),
                        fx_transfer("c3", h, bank, 5, 40)};
    t[0].flags = t[1].flags = PB_TRANSFER_LINKED; /* c2 needs 61 of the 60 c1 would give */
    assert_err(pb_ledger_submit(f->ledger, t, 3), PB_OK);
    assert_err(t[0].result, PB_ERR_LINKED_EVENT_FAILED);
    assert_err(t[1].result, PB_ERR_INSUFFICIENT_FUNDS);
    assert_err(t[2].result, PB_ERR_LINKED_EVENT_FAILED);
    assert_unchanged(f, &s);
    for (int i = 0; i < 3; i++)
        assert_no_row(f, &t[i]);
    /* the same chain with 60 passes: c1's credit counts for c2 inside the chain */
    pb_transfer u[3] = {fx_transfer("d1", bank, p, 10, 40), fx_transfer("d2", p, h, 60, 40),
                        fx_transfer("d3", h, bank, 5, 40)};
    u[0].flags = u[1].flags = PB_TRANSFER_LINKED;
    assert_err(pb_ledger_submit(f->ledger, u, 3), PB_OK);
    for (int i = 0; i < 3; i++)
        assert_err(u[i].result, PB_OK);
    pb_ledger_account P = fx_get(f, p);
    assert_int_equal(pb_ledger_available(&P), 0);
    assert_int_equal(fx_verify(f), 0);
}

static void test_chain_stateless_failure(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    int64_t ids[] = {a, b};
    snap s = take(f, ids, 2);
    pb_transfer t[3] = {fx_transfer("z1", a, b, 10, 40), fx_transfer("z2", a, b, 0, 40),
                        fx_transfer("z3", b, a, 5, 40)};
    t[0].flags = t[1].flags = PB_TRANSFER_LINKED;
    assert_err(pb_ledger_submit(f->ledger, t, 3), PB_OK);
    assert_err(t[0].result, PB_ERR_LINKED_EVENT_FAILED);
    assert_err(t[1].result, PB_ERR_AMOUNT_INVALID);
    assert_err(t[2].result, PB_ERR_LINKED_EVENT_FAILED);
    assert_unchanged(f, &s);
    for (int i = 0; i < 3; i++)
        assert_no_row(f, &t[i]);
}

static void test_chain_open(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    int64_t ids[] = {a, b};
    snap s = take(f, ids, 2);
    pb_transfer t[3] = {fx_transfer("o1", a, b, 10, 40), fx_transfer("o2", a, b, 10, 40),
                        fx_transfer("o3", a, b, 10, 40)};
    t[2].flags = PB_TRANSFER_LINKED; /* o1 and o2 are fine on their own: still nothing runs */
    assert_err(pb_ledger_submit(f->ledger, t, 3), PB_ERR_LINKED_CHAIN_OPEN);
    assert_unchanged(f, &s);
    for (int i = 0; i < 3; i++)
        assert_no_row(f, &t[i]);
    pb_transfer one = fx_transfer("o4", a, b, 1, 40);
    one.flags = PB_TRANSFER_LINKED;
    assert_err(pb_ledger_submit(f->ledger, &one, 1), PB_ERR_LINKED_CHAIN_OPEN);
    assert_unchanged(f, &s);
}

static void test_chain_next_to_independents(void **state)
{
    fx *f = *state;
    int64_t bank = fx_account(f, "bank", "cash", 0), p = fx_account(f, "p", "cash", DMNEC);
    int64_t h = fx_account(f, "h", "revenue", 0);
    pb_transfer t[5] = {
        fx_transfer("i1", bank, p, 30, 1),                                  /* independent */
        fx_transfer("k1", bank, h, 5, 40), fx_transfer("k2", p, h, 31, 10), /* chain: fails */
        fx_transfer("i2", p, h, 30, 10),                                    /* independent */
        fx_transfer("i3", p, h, 1, 10),                                     /* independent: fails */
    };
    t[1].flags = PB_TRANSFER_LINKED;
    assert_err(pb_ledger_submit(f->ledger, t, 5), PB_OK);
    assert_err(t[0].result, PB_OK);
    assert_err(t[1].result, PB_ERR_LINKED_EVENT_FAILED);
    assert_err(t[2].result, PB_ERR_INSUFFICIENT_FUNDS);
    assert_err(t[3].result, PB_OK);
    assert_err(t[4].result, PB_ERR_INSUFFICIENT_FUNDS);
    assert_int_equal(t[3].record.seq, t[0].record.seq + 1); /* no seq was burnt by the chain */
    pb_ledger_account P = fx_get(f, p), H = fx_get(f, h);
    assert_int_equal(P.credits_posted, 30);
    assert_int_equal(P.debits_posted, 30);
    assert_int_equal(H.credits_posted, 30);
    assert_no_row(f, &t[1]);
    assert_no_row(f, &t[2]);
    assert_int_equal(transfer_count(f), 2);
}

static void test_batch_limits(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    size_t n = PB_LEDGER_MAX_SUBMIT + 1;
    pb_transfer *t = calloc(n, sizeof *t);
    assert_non_null(t);
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "big%zu", i);
        t[i] = fx_transfer(key, a, b, 1, 40);
    }
    assert_err(pb_ledger_submit(f->ledger, t, n), PB_ERR_BATCH_TOO_LARGE);
    assert_err(pb_ledger_submit(f->ledger, t, 0), PB_ERR_INVALID_REQUEST);
    assert_int_equal(transfer_count(f), 0);
    assert_int_equal(fx_get(f, a).debits_posted, 0);
    assert_no_row(f, &t[0]);
    free(t);
}

static void test_batch_of_1000(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    size_t n = 1000;
    pb_transfer *t = calloc(n, sizeof *t);
    assert_non_null(t);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%zu", i);
        t[i] = fx_transfer(key, i % 2 ? b : a, i % 2 ? a : b, (int64_t)i + 1, 40);
        sum += i % 2 ? 0 : (int64_t)i + 1;
    }
    assert_err(pb_ledger_submit(f->ledger, t, n), PB_OK);
    for (size_t i = 0; i < n; i++) {
        assert_err(t[i].result, PB_OK);
        assert_int_equal(t[i].record.seq, (int64_t)i + 1);
        assert_int_equal(t[i].record.amount, (int64_t)i + 1);
        /* every id is a UUIDv7 of the batch's millisecond that names its own
         * transfer (it carries the seq, enciphered: ids are unique, and found
         * by a primary-key read) */
        assert_int_equal(pb_id_unix_ms(&t[i].record.id), t[i].record.created_at / 1000);
        pb_ledger_record back;
        assert_err(pb_ledger_transfer_get(f->conn, &t[i].record.id, &back), PB_OK);
        assert_int_equal(back.seq, t[i].record.seq);
        if (i)
            assert_true(pb_id_cmp(&t[i - 1].record.id, &t[i].record.id) != 0);
    }
    pb_ledger_account A = fx_get(f, a);
    assert_int_equal(A.debits_posted, sum);
    assert_int_equal(A.credits_posted, 500 * 1001 - sum); /* 1 + ... + 1000 = 500500 */
    assert_int_equal(A.last_seq, 1000);
    assert_int_equal(transfer_count(f), 1000);
    free(t);
}

/* ---- stored records and restart ---------------------------------------- */

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
    assert_int_equal(a->timeout_s, b->timeout_s);
    assert_int_equal(a->expires_at, b->expires_at);
    assert_string_equal(a->reference, b->reference);
    assert_string_equal(a->trace_id, b->trace_id);
    assert_int_equal(a->debit_prev_seq, b->debit_prev_seq);
    assert_int_equal(a->credit_prev_seq, b->credit_prev_seq);
    assert_int_equal(a->created_at, b->created_at);
    assert_memory_equal(a->hash, b->hash, 32);
}

static void test_record_fields(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    int64_t c = fx_account(f, "c", "cash", 0);
    pb_transfer t1 = fx_transfer("r1", a, b, 11, PB_CODE_BET);
    snprintf(t1.reference, sizeof t1.reference, "round-42");
    snprintf(t1.trace_id, sizeof t1.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_err(fx_submit1(f, &t1), PB_OK);
    f->clock_us += 1500000;
    pb_transfer t2 = fx_transfer("r2", c, a, 22, PB_CODE_WIN);
    assert_err(fx_submit1(f, &t2), PB_OK);
    pb_transfer t3 = fx_transfer("r3", b, c, 33, PB_CODE_WIN);
    assert_err(fx_submit1(f, &t3), PB_OK);

    const pb_ledger_record *r1 = &t1.record, *r2 = &t2.record, *r3 = &t3.record;
    assert_int_equal(r1->seq, 1);
    assert_int_equal(r2->seq, 2);
    assert_int_equal(r3->seq, 3);
    assert_false(pb_id_is_zero(&r1->id));
    /* ids order by millisecond (UUIDv7); within one, seq is the order */
    assert_true(pb_id_cmp(&r1->id, &r2->id) != 0 && pb_id_cmp(&r2->id, &r3->id) != 0 &&
                pb_id_cmp(&r1->id, &r3->id) != 0);
    assert_true(pb_id_unix_ms(&r1->id) <= pb_id_unix_ms(&r3->id));
    assert_int_equal(r1->created_at, f->clock_us - 1500000);
    assert_int_equal(r2->created_at, f->clock_us);
    assert_string_equal(r1->scope, "test");
    assert_string_equal(r1->ikey, "r1");
    assert_string_equal(r1->reference, "round-42");
    assert_string_equal(r1->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(r1->currency, "EUR");
    assert_int_equal(r1->code, PB_CODE_BET);
    assert_false(r1->has_pending_id);
    assert_int_equal(r1->timeout_s, 0);
    assert_int_equal(r1->expires_at, 0);
    /* account chains: each side names that account's previous transfer */
    assert_int_equal(r1->debit_prev_seq, 0);
    assert_int_equal(r1->credit_prev_seq, 0);
    assert_int_equal(r2->debit_prev_seq, 0);  /* c's first */
    assert_int_equal(r2->credit_prev_seq, 1); /* a's previous: r1 */
    assert_int_equal(r3->debit_prev_seq, 1);  /* b's previous: r1 */
    assert_int_equal(r3->credit_prev_seq, 2); /* c's previous: r2 */
    /* the hash chain */
    uint8_t zero[32] = {0}, h[32];
    pb_ledger_hash(r1, zero, h);
    assert_memory_equal(h, r1->hash, 32);
    pb_ledger_hash(r2, r1->hash, h);
    assert_memory_equal(h, r2->hash, 32);
    /* the stored rows equal the returned records */
    pb_ledger_record got;
    assert_err(pb_ledger_transfer_get(f->conn, &r2->id, &got), PB_OK);
    assert_record_equal(&got, r2);
    assert_err(pb_ledger_transfer_by_key(f->conn, "test", "r1", &got), PB_OK);
    assert_record_equal(&got, r1);
    assert_int_equal(fx_get(f, a).last_seq, 2);
    assert_int_equal(fx_get(f, c).last_seq, 3);
    assert_int_equal(fx_verify(f), 0);
}

static void test_survives_restart(void **state)
{
    fx *f = *state;
    int64_t bank = fx_account(f, "bank", "cash", 0), p = fx_account(f, "p", "cash", DMNEC);
    pb_transfer t1 = fx_transfer("a1", bank, p, 100, 1), t2 = fx_transfer("a2", bank, p, 50, 1);
    assert_err(fx_submit1(f, &t1), PB_OK);
    assert_err(fx_submit1(f, &t2), PB_OK);
    fx_restart(f);
    pb_ledger_account P = fx_get(f, p);
    assert_int_equal(P.credits_posted, 150);
    /* the restarted writer knows the balance: 151 is still refused */
    pb_transfer no = fx_transfer("a3", p, bank, 151, 2);
    assert_err(fx_submit1(f, &no), PB_ERR_INSUFFICIENT_FUNDS);
    pb_transfer t3 = fx_transfer("a4", p, bank, 150, 2);
    assert_err(fx_submit1(f, &t3), PB_OK);
    assert_int_equal(t3.record.seq, 3);
    assert_int_equal(t3.record.debit_prev_seq, 2);
    assert_int_equal(t3.record.credit_prev_seq, 2);
    uint8_t h[32];
    pb_ledger_hash(&t3.record, t2.record.hash, h);
    assert_memory_equal(h, t3.record.hash, 32);
    pb_ledger_account a = acct_req("p", "cash", "EUR", 0); /* accounts survive too */
    assert_err(pb_ledger_account_create(f->ledger, &a), PB_ERR_ACCOUNT_EXISTS);
    fx_restart(f);
    assert_int_equal(fx_get(f, p).debits_posted, 150);
    assert_int_equal(transfer_count(f), 3);
}

/* One ledger writer per database: a second one, in this process or another, is
 * refused while the first runs (its counters would miss the first's transfers),
 * and taken once the first has closed. */
static void test_one_writer_per_database(void **state)
{
    fx *f = *state;
    int64_t bank = fx_account(f, "bank", "cash", 0);
    int64_t p = fx_account(f, "p", "cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_transfer t = fx_transfer("w1", bank, p, 100, 1);
    assert_err(fx_submit1(f, &t), PB_OK);
    char err[256] = "";
    assert_null(pb_ledger_open(f->store, NULL, err, sizeof err));
    assert_non_null(strstr(err, "already open in this process"));
    pb_store *other = pb_store_open(f->path, err, sizeof err);
    assert_non_null(other);
    err[0] = '\0';
    assert_null(pb_ledger_open(other, NULL, err, sizeof err));
    assert_non_null(strstr(err, "open in another process"));
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* another process: refused, the holder's pid named */
        char e2[256] = "", want[64];
        pb_store *s = pb_store_open(f->path, e2, sizeof e2);
        pb_ledger *l = s ? pb_ledger_open(s, NULL, e2, sizeof e2) : NULL;
        snprintf(want, sizeof want, "(pid %ld)", (long)getppid());
        _exit(!s ? 3 : l ? 4 : strstr(e2, "open in another process") && strstr(e2, want) ? 0 : 5);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* the first one closes: the other store's ledger may open, and sees its money */
    pb_ledger_close(f->ledger);
    f->ledger = pb_ledger_open(other, NULL, err, sizeof err);
    if (!f->ledger)
        fail_msg("ledger open after the first closed: %s", err);
    pb_transfer t2 = fx_transfer("w2", p, bank, 100, 2);
    assert_err(pb_ledger_submit(f->ledger, &t2, 1), PB_OK);
    assert_err(t2.result, PB_OK);
    pb_ledger_close(f->ledger);
    pb_store_close(other);
    f->ledger = pb_ledger_open(f->store, NULL, err, sizeof err); /* for the teardown */
    if (!f->ledger)
        fail_msg("ledger reopen: %s", err);
    assert_int_equal(fx_get(f, p).debits_posted, 100);
    assert_int_equal(fx_verify(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
        T(test_account_create_ok),
        T(test_account_create_exists),
        T(test_account_create_refusals),
        T(test_accounts_create_many),
        T(test_transfer_moves_counters),
        T(test_insufficient_funds_boundary),
        T(test_exceeds_debits),
        T(test_currency_mismatch),
        T(test_account_not_found),
        T(test_stateless_rejections),
        T(test_overflow),
        T(test_chain_all_succeed),
        T(test_chain_business_failure_rolls_back),
        T(test_chain_stateless_failure),
        T(test_chain_open),
        T(test_chain_next_to_independents),
        T(test_batch_limits),
        T(test_batch_of_1000),
        T(test_record_fields),
        T(test_survives_restart),
        T(test_one_writer_per_database),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
