/*
 * test_ledger_query.c — reading the ledger on the caller's connection
 * (src/ledger/query.c): an account's history newest first, walked through
 * next_cursor pages (25 transfers in pages of 10, 10, 5) past transfers of
 * other accounts, filtered by code and by a created_at window driven by the
 * fixture clock, its refusals (limit 0/1001, a missing account, a foreign or
 * unknown cursor, an empty window); and the point lookups
 * pb_ledger_transfer_get, pb_ledger_transfer_by_key, pb_ledger_account_get
 * and pb_ledger_account_find, with their NOT_FOUND codes; pb_ledger_key_answered
 * (a stored transfer or a remembered refusal under the key).
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

static pb_transfer xfer(fx *f, const char *key, int64_t dr, int64_t cr, int64_t amount,
                        uint32_t code)
{
    pb_transfer t = fx_transfer(key, dr, cr, amount, code);
    assert_err(fx_submit1(f, &t), PB_OK);
    return t;
}

static pb_ledger_history_query hq(int64_t account, size_t limit)
{
    pb_ledger_history_query q;
    memset(&q, 0, sizeof q);
    q.account_id = account;
    q.limit = limit;
    return q;
}

/* Runs a history query; out must hold q->limit records. */
static pb_err history(fx *f, const pb_ledger_history_query *q, pb_ledger_record *out, size_t *n,
                      int64_t *cursor)
{
    *n = 12345;
    *cursor = -1;
    return pb_ledger_account_history(f->conn, q, out, n, cursor);
}

/* ---- history ------------------------------------------------------------- */

static void test_history_pages(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    int64_t c = fx_account(f, "c", "cash", 0), d = fx_account(f, "d", "cash", 0);
    int64_t seqs[25]; /* a's transfers, oldest first */
    for (int i = 0; i < 25; i++) {
        char key[32];
        snprintf(key, sizeof key, "a%d", i);
        pb_transfer t = xfer(f, key, i % 2 ? b : a, i % 2 ? a : b, i + 1, PB_CODE_TRANSFER);
        seqs[i] = t.record.seq;
        snprintf(key, sizeof key, "c%d", i); /* noise between a's transfers */
        xfer(f, key, c, d, 1, PB_CODE_TRANSFER);
    }
    pb_ledger_record out[10];
    size_t n;
    int64_t cursor;
    pb_ledger_history_query q = hq(a, 10);
    const size_t want_n[3] = {10, 10, 5};
    int next = 24;
    for (int page = 0; page < 3; page++) {
        assert_err(history(f, &q, out, &n, &cursor), PB_OK);
        assert_int_equal(n, want_n[page]);
        for (size_t i = 0; i < n; i++, next--) {
            assert_int_equal(out[i].seq, seqs[next]);
            assert_int_equal(out[i].amount, next + 1);
            assert_true(out[i].debit_account_id == a || out[i].credit_account_id == a);
        }
        if (page < 2)
            assert_true(cursor > 0);
        else
            assert_int_equal(cursor, 0);
        q.cursor = cursor;
    }
    assert_int_equal(next, -1);
    /* one page holding everything ends with cursor 0 */
    pb_ledger_record all[30];
    q = hq(a, 30);
    assert_err(history(f, &q, all, &n, &cursor), PB_OK);
    assert_int_equal(n, 25);
    assert_int_equal(cursor, 0);
    /* exactly the page size: no further page */
    q = hq(a, 25);
    assert_err(history(f, &q, all, &n, &cursor), PB_OK);
    assert_int_equal(n, 25);
    assert_int_equal(cursor, 0);
    assert_int_equal(fx_verify(f), 0);
}

static void test_history_filter_code(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    int64_t bets[10] = {0};
    int nbets = 0;
    for (int i = 0; i < 20; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", i);
        uint32_t code = i % 3 == 0 ? PB_CODE_BET : PB_CODE_WIN;
        pb_transfer t = xfer(f, key, a, b, 1, code);
        if (code == PB_CODE_BET)
            bets[nbets++] = t.record.seq;
    }
    pb_ledger_record out[20];
    size_t n;
    int64_t cursor;
    pb_ledger_history_query q = hq(a, 20);
    q.code = PB_CODE_BET;
    assert_err(history(f, &q, out, &n, &cursor), PB_OK);
    assert_int_equal(n, nbets);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i].code, PB_CODE_BET);
        assert_int_equal(out[i].seq, bets[nbets - 1 - (int)i]);
    }
    q.code = PB_CODE_DEPOSIT; /* none */
    assert_err(history(f, &q, out, &n, &cursor), PB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cursor, 0);
    /* the filter holds across pages */
    q = hq(b, 3);
    q.code = PB_CODE_BET;
    int seen = 0;
    do {
        assert_err(history(f, &q, out, &n, &cursor), PB_OK);
        for (size_t i = 0; i < n; i++, seen++)
            assert_int_equal(out[i].seq, bets[nbets - 1 - seen]);
        q.cursor = cursor;
    } while (cursor);
    assert_int_equal(seen, nbets);
}

static void test_history_time_window(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    int64_t t0 = f->clock_us;
    static const int per_second[3] = {3, 4, 5};
    int k = 0;
    for (int s = 0; s < 3; s++) {
        f->clock_us = t0 + s * SEC;
        for (int i = 0; i < per_second[s]; i++) {
            char key[32];
            snprintf(key, sizeof key, "t%d", k++);
            xfer(f, key, a, b, s + 1, PB_CODE_TRANSFER);
        }
    }
    pb_ledger_record out[20];
    size_t n;
    int64_t cursor;
    pb_ledger_history_query q = hq(a, 20);
    q.from_us = t0 + SEC;
    q.to_us = t0 + 2 * SEC;
    assert_err(history(f, &q, out, &n, &cursor), PB_OK);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(out[i].created_at, t0 + SEC);
    assert_int_equal(cursor, 0);

    q.to_us = 0; /* from only: the newest two seconds */
    assert_err(history(f, &q, out, &n, &cursor), PB_OK);
    assert_int_equal(n, 9);
    assert_int_equal(out[0].created_at, t0 + 2 * SEC);
    assert_int_equal(out[8].created_at, t0 + SEC);

    q.from_us = 0;
    q.to_us = t0 + SEC; /* to only, exclusive */
    assert_err(history(f, &q, out, &n, &cursor), PB_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(out[i].created_at, t0);

    q = hq(a, 5); /* a window spanning pages */
    q.from_us = t0 + SEC;
    assert_err(history(f, &q, out, &n, &cursor), PB_OK);
    assert_int_equal(n, 5);
    assert_true(cursor > 0);
    q.cursor = cursor;
    assert_err(history(f, &q, out, &n, &cursor), PB_OK);
    assert_int_equal(n, 4);
    assert_int_equal(cursor, 0);

    q = hq(a, 20);
    q.from_us = t0 + 3 * SEC; /* after everything */
    assert_err(history(f, &q, out, &n, &cursor), PB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cursor, 0);
    q.from_us = q.to_us = t0 + SEC; /* empty window */
    assert_err(history(f, &q, out, &n, &cursor), PB_ERR_INVALID_REQUEST);
    q.from_us = t0 + 2 * SEC;
    q.to_us = t0 + SEC;
    assert_err(history(f, &q, out, &n, &cursor), PB_ERR_INVALID_REQUEST);
}

static void test_history_refusals(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    int64_t c = fx_account(f, "c", "cash", 0), d = fx_account(f, "d", "cash", 0);
    xfer(f, "ab", a, b, 1, PB_CODE_TRANSFER);
    pb_transfer cd = xfer(f, "cd", c, d, 1, PB_CODE_TRANSFER);
    xfer(f, "ab2", a, b, 1, PB_CODE_TRANSFER);
    pb_ledger_record *out = calloc(1001, sizeof *out);
    assert_non_null(out);
    size_t n;
    int64_t cursor;
    pb_ledger_history_query q = hq(a, 0);
    assert_err(history(f, &q, out, &n, &cursor), PB_ERR_INVALID_REQUEST);
    assert_int_equal(n, 0);
    q.limit = 1001;
    assert_err(history(f, &q, out, &n, &cursor), PB_ERR_INVALID_REQUEST);
    q.limit = 1000;
    assert_err(history(f, &q, out, &n, &cursor), PB_OK);
    assert_int_equal(n, 2);
    q = hq(987654, 10);
    assert_err(history(f, &q, out, &n, &cursor), PB_ERR_ACCOUNT_NOT_FOUND);
    assert_int_equal(n, 0);
    q = hq(a, 10);
    q.cursor = cd.record.seq; /* a seq of c's and d's history, not a's */
    assert_err(history(f, &q, out, &n, &cursor), PB_ERR_INVALID_REQUEST);
    assert_int_equal(n, 0);
    q.cursor = -1;
    assert_err(history(f, &q, out, &n, &cursor), PB_ERR_INVALID_REQUEST);
    /* an account without transfers has an empty history */
    int64_t e = fx_account(f, "e", "cash", 0);
    q = hq(e, 10);
    assert_err(history(f, &q, out, &n, &cursor), PB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cursor, 0);
    free(out);
}

/* A cursor naming no transfer at all (a made-up or stale value from a client)
 * is a malformed request like a foreign cursor, not an internal error. */
static void test_history_unknown_cursor(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    xfer(f, "ab", a, b, 1, PB_CODE_TRANSFER);
    pb_ledger_record out[4];
    size_t n;
    int64_t cursor;
    pb_ledger_history_query q = hq(a, 4);
    q.cursor = 1000000;
    pb_err got = history(f, &q, out, &n, &cursor);
    assert_int_equal(n, 0);
    assert_err(got, PB_ERR_INVALID_REQUEST);
}

/*
 * The ledger stamps created_at from its clock (the wall clock in production,
 * which NTP may step back). Whatever created_at a transfer got, a from_us
 * filter must return exactly the transfers whose stored created_at >= from_us.
 */
static void test_history_from_with_clock_stepping_back(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    int64_t t0 = f->clock_us;
    static const int64_t at[] = {0, 20, 10, 30}; /* seconds after t0; the third steps back */
    for (int i = 0; i < 4; i++) {
        char key[16];
        snprintf(key, sizeof key, "x%d", i);
        f->clock_us = t0 + at[i] * SEC;
        xfer(f, key, a, b, 1, PB_CODE_TRANSFER);
    }
    pb_ledger_record all[8], got[8];
    size_t nall, n;
    int64_t cursor;
    pb_ledger_history_query q = hq(a, 8);
    assert_err(history(f, &q, all, &nall, &cursor), PB_OK);
    assert_int_equal(nall, 4);
    q.from_us = t0 + 20 * SEC;
    assert_err(history(f, &q, got, &n, &cursor), PB_OK);
    size_t want = 0;
    for (size_t i = 0; i < nall; i++) {
        if (all[i].created_at < q.from_us)
            continue;
        if (want >= n)
            print_error("transfer seq %lld (created_at t0%+llds) is missing\n",
                        (long long)all[i].seq, (long long)((all[i].created_at - t0) / SEC));
        assert_true(want < n);
        assert_int_equal(got[want].seq, all[i].seq);
        want++;
    }
    assert_int_equal(n, want);
}

static void test_history_includes_two_phase(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    pb_transfer h = fx_transfer("h", a, b, 50, PB_CODE_BET);
    h.flags = PB_TRANSFER_PENDING;
    assert_err(fx_submit1(f, &h), PB_OK);
    pb_transfer p = fx_transfer("p", 0, 0, 0, 0);
    p.currency[0] = 0;
    p.flags = PB_TRANSFER_POST_PENDING;
    p.pending_id = h.record.id;
    assert_err(fx_submit1(f, &p), PB_OK);
    pb_ledger_record out[4];
    size_t n;
    int64_t cursor;
    for (int side = 0; side < 2; side++) {
        pb_ledger_history_query q = hq(side ? b : a, 4);
        assert_err(history(f, &q, out, &n, &cursor), PB_OK);
        assert_int_equal(n, 2);
        assert_int_equal(out[0].flags, PB_TRANSFER_POST_PENDING);
        assert_int_equal(out[1].flags, PB_TRANSFER_PENDING);
        assert_memory_equal(out[0].pending_id.b, out[1].id.b, 16);
    }
}

/* ---- point lookups ------------------------------------------------------- */

static void test_transfer_lookups(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "a", "cash", 0), b = fx_account(f, "b", "cash", 0);
    pb_transfer t1 = xfer(f, "k1", a, b, 11, PB_CODE_BET);
    pb_transfer t2 = fx_transfer("k1", a, b, 22, PB_CODE_WIN);
    snprintf(t2.scope, sizeof t2.scope, "provider:x");
    assert_err(fx_submit1(f, &t2), PB_OK);

    pb_ledger_record r;
    assert_err(pb_ledger_transfer_get(f->conn, &t1.record.id, &r), PB_OK);
    assert_int_equal(r.seq, t1.record.seq);
    assert_int_equal(r.amount, 11);
    assert_memory_equal(r.hash, t1.record.hash, 32);
    assert_err(pb_ledger_transfer_get(f->conn, &t2.record.id, &r), PB_OK);
    assert_int_equal(r.amount, 22);
    pb_id missing;
    pb_id_new(&missing);
    assert_err(pb_ledger_transfer_get(f->conn, &missing, &r), PB_ERR_TRANSFER_NOT_FOUND);
    /* an id that names t2's seq under another key is not t2's */
    pb_id forged = t2.record.id;
    forged.b[15] ^= 0x04; /* a zero bit of the scheme set: not one of ours */
    assert_err(pb_ledger_transfer_get(f->conn, &forged, &r), PB_ERR_TRANSFER_NOT_FOUND);
    forged = t2.record.id;
    forged.b[3] ^= 0x01; /* another millisecond, the same enciphered seq */
    assert_err(pb_ledger_transfer_get(f->conn, &forged, &r), PB_ERR_TRANSFER_NOT_FOUND);

    assert_err(pb_ledger_transfer_by_key(f->conn, "test", "k1", &r), PB_OK);
    assert_memory_equal(r.id.b, t1.record.id.b, 16);
    assert_err(pb_ledger_transfer_by_key(f->conn, "provider:x", "k1", &r), PB_OK);
    assert_memory_equal(r.id.b, t2.record.id.b, 16);
    assert_err(pb_ledger_transfer_by_key(f->conn, "provider:y", "k1", &r),
               PB_ERR_TRANSFER_NOT_FOUND);
    assert_err(pb_ledger_transfer_by_key(f->conn, "test", "k2", &r), PB_ERR_TRANSFER_NOT_FOUND);
    assert_err(pb_ledger_transfer_by_key(f->conn, "test", "K1", &r), PB_ERR_TRANSFER_NOT_FOUND);

    /* a database from before ids carried their seq: its random ids are found in
     * the legacy range (a scan of the transfers below legacy_ids_below) */
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE ledger_transfer SET id=x'0190f1c27a4c7abc8def0123456789ab' WHERE seq=%lld;"
             "UPDATE ledger_state SET legacy_ids_below=%lld",
             (long long)t1.record.seq, (long long)t2.record.seq);
    assert_int_equal(pb_store_exec_raw(f->conn, sql), PB_STORE_OK);
    pb_id legacy;
    assert_int_equal(pb_id_parse("0190f1c2-7a4c-7abc-8def-0123456789ab", 36, &legacy), 0);
    assert_err(pb_ledger_transfer_get(f->conn, &legacy, &r), PB_OK);
    assert_int_equal(r.seq, t1.record.seq);
    assert_err(pb_ledger_transfer_get(f->conn, &t2.record.id, &r), PB_OK); /* and new ones */
    assert_int_equal(r.seq, t2.record.seq);
}

/* pb_ledger_key_answered: a key with a stored transfer or a remembered business
 * refusal is answered (in its scope only); a key never submitted, or refused only
 * by the stateless checks (nothing remembered), is not. */
static void test_key_answered(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "p1", "cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    int64_t bank = fx_account(f, "bank", "cash", 0);
    xfer(f, "fund", bank, a, 70, PB_CODE_DEPOSIT);
    pb_transfer t = fx_transfer("short", a, bank, 71, PB_CODE_ADJUSTMENT);
    assert_err(fx_submit1(f, &t), PB_ERR_INSUFFICIENT_FUNDS); /* remembered under its key */
    t = fx_transfer("invalid", a, bank, 0, PB_CODE_ADJUSTMENT);
    assert_err(fx_submit1(f, &t), PB_ERR_AMOUNT_INVALID); /* never reached the writer */
    static const struct {
        const char *scope, *key;
        bool answered;
    } cases[] = {
        {"test", "fund", true},   {"test", "short", true},  {"test", "invalid", false},
        {"test", "never", false}, {"other", "fund", false}, {"other", "short", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool answered = !cases[i].answered;
        assert_err(pb_ledger_key_answered(f->conn, cases[i].scope, cases[i].key, &answered), PB_OK);
        if (answered != cases[i].answered)
            fail_msg("%s/%s: answered %d", cases[i].scope, cases[i].key, answered);
    }
}

static void test_account_lookups(void **state)
{
    fx *f = *state;
    int64_t a = fx_account(f, "p1", "cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    int64_t u = fx_account_cur(f, "p1", "cash", 0, "USD");
    int64_t bank = fx_account(f, "bank", "cash", 0);
    xfer(f, "fund", bank, a, 70, PB_CODE_DEPOSIT);
    pb_ledger_account got;
    assert_err(pb_ledger_account_find(f->conn, "test", "p1", "cash", "EUR", &got), PB_OK);
    assert_int_equal(got.id, a);
    assert_string_equal(got.brand, "test");
    assert_string_equal(got.owner, "p1");
    assert_string_equal(got.kind, "cash");
    assert_string_equal(got.currency, "EUR");
    assert_int_equal(got.flags, PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    assert_int_equal(got.credits_posted, 70);
    assert_int_equal(got.last_seq, 1);
    assert_err(pb_ledger_account_find(f->conn, "test", "p1", "cash", "USD", &got), PB_OK);
    assert_int_equal(got.id, u);
    assert_err(pb_ledger_account_find(f->conn, "test", "p1", "cash", "GBP", &got),
               PB_ERR_ACCOUNT_NOT_FOUND);
    assert_err(pb_ledger_account_find(f->conn, "test", "p1", "bonus", "EUR", &got),
               PB_ERR_ACCOUNT_NOT_FOUND);
    assert_err(pb_ledger_account_find(f->conn, "other", "p1", "cash", "EUR", &got),
               PB_ERR_ACCOUNT_NOT_FOUND);
    assert_err(pb_ledger_account_find(f->conn, "test", "p2", "cash", "EUR", &got),
               PB_ERR_ACCOUNT_NOT_FOUND);
    assert_err(pb_ledger_account_get(f->conn, a, &got), PB_OK);
    assert_string_equal(got.owner, "p1");
    assert_err(pb_ledger_account_get(f->conn, 424242, &got), PB_ERR_ACCOUNT_NOT_FOUND);
    assert_err(pb_ledger_account_get(f->conn, 0, &got), PB_ERR_ACCOUNT_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
        T(test_history_pages),
        T(test_history_filter_code),
        T(test_history_time_window),
        T(test_history_refusals),
        T(test_history_unknown_cursor),
        T(test_history_from_with_clock_stepping_back),
        T(test_history_includes_two_phase),
        T(test_transfer_lookups),
        T(test_key_answered),
        T(test_account_lookups),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
