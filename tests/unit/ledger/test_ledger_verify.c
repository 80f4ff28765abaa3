/*
 * test_ledger_verify.c — pb_ledger_verify against a tampered database.
 *
 * Each case builds the same small ledger (house, psp and two players; deposits,
 * a hold posted, a hold voided, a win and a hold left open), closes the ledger
 * so nothing else writes, checks that verify is clean, then changes the SQLite
 * rows directly (as an attacker or a broken tool would) and asserts that verify
 * reports the right violation kinds, naming the right transfer or account.
 *
 * Every verify here also runs with the transfers read in chunks of 1 and 3
 * (run_verify); test_verify_holds_no_snapshot checks that between two chunks
 * no read transaction is held (a TRUNCATE checkpoint empties the WAL while the
 * ledger takes more transfers, which the verify does not count).
 *
 * The ledger built by build() (seqs are fixed):
 *   1 psp  -> alice 10000 deposit        5 post of 3 (full)
 *   2 psp  -> bob    5000 deposit        6 void of 4
 *   3 alice-> house  1000 hold           7 house -> alice 2000 win
 *   4 bob  -> house   500 hold           8 alice -> house 300 hold (stays open)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"
#include "ledger/ledger_internal.h" /* pb_ledger_txid_make: forging a valid id */

typedef fx_seen seen;

typedef fx_book book;

/* One verify with transfers read chunk_rows at a time (0: the default). */
static pb_ledger_verify_summary verify_chunked(fx *f, seen *s, size_t chunk_rows)
{
    pb_ledger_verify_summary sum;
    memset(s, 0, sizeof *s);
    pb_ledger_verify_tune(chunk_rows, NULL, NULL);
    pb_err e = pb_ledger_verify(f->conn, fx_collect, s, &sum);
    pb_ledger_verify_tune(0, NULL, NULL);
    assert_int_equal(e, PB_OK);
    return sum;
}

/* Runs verify on f->conn and collects every violation; asserts the summary agrees,
 * and that reading the transfers in chunks of 1 and 3 (each its own read
 * transaction) reports the same summary and the same violations in the same order. */
static pb_ledger_verify_summary run_verify(fx *f, seen *s)
{
    pb_ledger_verify_summary sum = verify_chunked(f, s, 0);
    assert_int_equal(sum.violations, s->n);
    for (int i = 0; i < s->n; i++)
        print_message("# violation %s: %s\n", s->kind[i], s->msg[i]);
    static const size_t chunks[] = {1, 3};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        seen *again = malloc(sizeof *again);
        assert_non_null(again);
        pb_ledger_verify_summary sum2 = verify_chunked(f, again, chunks[i]);
        assert_memory_equal(&sum2, &sum, sizeof sum);
        assert_memory_equal(again, s, sizeof *again);
        free(again);
    }
    return sum;
}

static int count_kind(const seen *s, const char *kind)
{
    int c = 0;
    for (int i = 0; i < s->n; i++)
        c += strcmp(s->kind[i], kind) == 0;
    return c;
}

/* Builds the ledger described at the top, closes it and checks verify is clean. */
static book build(fx *f)
{
    book b = fx_book_build(f);

    pb_ledger_close(f->ledger);
    f->ledger = NULL; /* fx_teardown closes it otherwise */

    seen s;
    pb_ledger_verify_summary sum = run_verify(f, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(sum.transfers, 8);
    assert_int_equal(sum.accounts, 4);
    assert_int_equal(sum.open_pendings, 1);
    pb_ledger_account a = fx_get(f, b.alice);
    assert_int_equal(a.credits_posted - a.debits_posted, 10000 - 1000 + 2000);
    assert_int_equal(a.debits_pending, 300);
    return b;
}

/* ---- the untampered ledger ------------------------------------------------ */

static void test_clean_ledger_verifies(void **state)
{
    fx *f = *state;
    build(f);
    /* verify is read-only and repeatable, and a NULL callback is allowed */
    assert_int_equal(fx_verify(f), 0);
    seen s;
    run_verify(f, &s);
    assert_int_equal(s.n, 0);
}

/* ---- transfers ------------------------------------------------------------ */

static void test_amount_changed(void **state)
{
    fx *f = *state;
    build(f);
    fx_sql(f, "UPDATE ledger_transfer SET amount=amount+1 WHERE seq=2");
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "hash_chain", "seq 2");
    /* only seq 2 was changed: its successor still links to its stored hash */
    assert_int_equal(count_kind(&s, "hash_chain"), 1);
    fx_assert_seen(&s, "balance_mismatch", NULL);
    assert_int_equal(count_kind(&s, "seq_gap"), 0);
}

static void test_debit_account_changed(void **state)
{
    fx *f = *state;
    book b = build(f);
    char acct[48];
    fx_sql(f, "UPDATE ledger_transfer SET debit_account_id=%lld WHERE seq=7", (long long)b.psp);
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "hash_chain", "seq 7");
    assert_int_equal(count_kind(&s, "hash_chain"), 1);
    /* the money now seems to come from psp: both house's and psp's counters disagree */
    snprintf(acct, sizeof acct, "account %lld", (long long)b.house);
    fx_assert_seen(&s, "balance_mismatch", acct);
    /* psp's row (at its transfer 2) now misses "its" transfer 7, which the
     * balance mark says every row holds */
    snprintf(acct, sizeof acct, "account %lld", (long long)b.psp);
    fx_assert_seen(&s, "balance_stale", acct);
    fx_assert_seen(&s, "account_chain", "seq 7");
}

/* Ids carry their seq: an id copied from another transfer names the wrong one
 * (and there is no unique index on id that would have refused the copy). */
static void test_id_copied(void **state)
{
    fx *f = *state;
    build(f);
    fx_sql(
        f,
        "UPDATE ledger_transfer SET id=(SELECT id FROM ledger_transfer WHERE seq=2) WHERE seq=3");
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "transfer_id", "seq 3");
    assert_int_equal(count_kind(&s, "transfer_id"), 1);
    fx_assert_seen(&s, "hash_chain", "seq 3");
}

static void test_id_wrong_length(void **state)
{
    fx *f = *state;
    build(f);
    /* a 2-byte id: the row is malformed, which verify says before anything else
     * (the writer refuses STORE_CORRUPT what needs it: test_ledger_damaged) */
    fx_sql(f, "UPDATE ledger_transfer SET id=x'0102' WHERE seq=8");
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "malformed_row", "seq 8");
    assert_true(strstr(s.msg[0], "column id") != NULL);
    fx_assert_seen(&s, "hash_chain", "seq 8");
    fx_assert_seen(&s, "transfer_id", "seq 8");
    assert_int_equal(s.n, 3);
}

static void test_amount_not_a_number(void **state)
{
    fx *f = *state;
    build(f);
    fx_sql(f, "UPDATE ledger_transfer SET amount='lots' WHERE seq=7");
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "malformed_row", "seq 7");
    assert_true(strstr(s.msg[0], "column amount") != NULL);
    fx_assert_seen(&s, "hash_chain", "seq 7");
}

static void test_hash_zeroed(void **state)
{
    fx *f = *state;
    build(f);
    fx_sql(f, "UPDATE ledger_transfer SET hash=zeroblob(32) WHERE seq=4");
    seen s;
    run_verify(f, &s);
    /* seq 4 no longer matches, and seq 5 was chained to the real hash of seq 4 */
    fx_assert_seen(&s, "hash_chain", "seq 4");
    fx_assert_seen(&s, "hash_chain", "seq 5");
    assert_int_equal(count_kind(&s, "hash_chain"), 2);
    assert_int_equal(s.n, 2); /* no money moved */
}

static void test_every_hash_zeroed(void **state)
{
    fx *f = *state;
    build(f);
    fx_sql(f, "UPDATE ledger_transfer SET hash=zeroblob(32)");
    seen s;
    run_verify(f, &s);
    assert_int_equal(count_kind(&s, "hash_chain"), 8);
    for (int seq = 1; seq <= 8; seq++) {
        char n[16];
        snprintf(n, sizeof n, "seq %d", seq);
        fx_assert_seen(&s, "hash_chain", n);
    }
}

static void test_created_at_changed(void **state)
{
    fx *f = *state;
    build(f);
    fx_sql(f, "UPDATE ledger_transfer SET created_at=created_at-1 WHERE seq=6");
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "hash_chain", "seq 6");
    assert_int_equal(s.n, 1);
}

static void test_transfer_deleted(void **state)
{
    fx *f = *state;
    book b = build(f);
    fx_sql(f, "DELETE FROM ledger_transfer WHERE seq=7");
    seen s;
    pb_ledger_verify_summary sum = run_verify(f, &s);
    assert_int_equal(sum.transfers, 7);
    fx_assert_seen(&s, "seq_gap", "seq 7");
    assert_int_equal(count_kind(&s, "seq_gap"), 1);
    /* seq 8 was chained to the deleted row's hash and to alice's seq 7 */
    fx_assert_seen(&s, "hash_chain", "seq 8");
    fx_assert_seen(&s, "account_chain", "seq 8");
    char acct[48];
    snprintf(acct, sizeof acct, "account %lld", (long long)b.alice);
    fx_assert_seen(&s, "balance_mismatch", acct);
}

static void test_last_transfer_deleted(void **state)
{
    fx *f = *state;
    build(f);
    /* the newest row has no successor whose hash could notice: the balances and
     * the open-pending projection must */
    fx_sql(f, "DELETE FROM ledger_transfer WHERE seq=8");
    seen s;
    run_verify(f, &s);
    assert_true(s.n > 0);
    fx_assert_seen(&s, "balance_mark", "transfer 8"); /* the mark names a transfer that is gone */
    fx_assert_seen(&s, "account_chain", "stored last transfer 8"); /* so do two balance rows */
    fx_assert_seen(&s, "pending_projection", "seq 8");
}

/* A forged transfer with a correct hash and consistent balances that overdraws a
 * player: only the account flags can catch it. */
static void test_forged_overdraft(void **state)
{
    fx *f = *state;
    book b = build(f);
    pb_ledger_account alice = fx_get(f, b.alice), house = fx_get(f, b.house);
    pb_store_transfer last, t;
    assert_int_equal(pb_store_transfer_last(f->conn, &last), PB_STORE_OK);
    assert_int_equal(last.seq, 8);
    memset(&t, 0, sizeof t);
    t.seq = 9;
    /* the forger reads the id key from the database, so the id is a good one */
    uint8_t key[16];
    int64_t legacy_below;
    assert_int_equal(pb_store_ledger_ids(f->conn, key, &legacy_below), PB_STORE_OK);
    pb_ledger_txid_make(key, t.seq, last.created_at, &t.id);
    snprintf(t.scope, sizeof t.scope, "forge");
    snprintf(t.ikey, sizeof t.ikey, "overdraft");
    t.debit_account_id = b.alice;
    t.credit_account_id = b.house;
    t.amount = pb_ledger_available(&alice) + 1;
    snprintf(t.currency, sizeof t.currency, "EUR");
    t.code = PB_CODE_BET;
    t.debit_prev_seq = alice.last_seq;
    t.credit_prev_seq = house.last_seq;
    t.created_at = last.created_at;
    pb_ledger_hash(&t, last.hash, t.hash);
    assert_int_equal(pb_store_transfer_insert(f->conn, &t), PB_STORE_OK);
    fx_sql(f,
           "UPDATE ledger_balance SET debits_posted=debits_posted+%lld, last_seq=9 "
           "WHERE account_id=%lld",
           (long long)t.amount, (long long)b.alice);
    fx_sql(f,
           "UPDATE ledger_balance SET credits_posted=credits_posted+%lld, last_seq=9 "
           "WHERE account_id=%lld",
           (long long)t.amount, (long long)b.house);
    seen s;
    run_verify(f, &s);
    char acct[48];
    snprintf(acct, sizeof acct, "account %lld", (long long)b.alice);
    /* once while replaying (naming the transfer), once on the stored counters */
    assert_int_equal(count_kind(&s, "negative_balance"), 2);
    fx_assert_seen(&s, "negative_balance", "seq 9");
    fx_assert_seen(&s, "negative_balance", acct);
    assert_int_equal(s.n, 2);
}

/* ---- balances ------------------------------------------------------------- */

static void test_balance_credit_inflated(void **state)
{
    fx *f = *state;
    book b = build(f);
    fx_sql(f, "UPDATE ledger_balance SET credits_posted=credits_posted+100 WHERE account_id=%lld",
           (long long)b.bob);
    seen s;
    run_verify(f, &s);
    char acct[48];
    snprintf(acct, sizeof acct, "account %lld", (long long)b.bob);
    fx_assert_seen(&s, "balance_mismatch", acct);
    assert_int_equal(count_kind(&s, "balance_mismatch"), 1);
    fx_assert_seen(&s, "currency_imbalance", "EUR");
    assert_int_equal(count_kind(&s, "hash_chain"), 0);
}

static void test_balance_negative(void **state)
{
    fx *f = *state;
    book b = build(f);
    fx_sql(f, "UPDATE ledger_balance SET debits_posted=credits_posted+1 WHERE account_id=%lld",
           (long long)b.bob);
    seen s;
    run_verify(f, &s);
    char acct[48];
    snprintf(acct, sizeof acct, "account %lld", (long long)b.bob);
    fx_assert_seen(&s, "negative_balance", acct);
    fx_assert_seen(&s, "balance_mismatch", acct);
    fx_assert_seen(&s, "currency_imbalance", "EUR");
}

static void test_balance_last_seq_changed(void **state)
{
    fx *f = *state;
    book b = build(f);
    fx_sql(f, "UPDATE ledger_balance SET last_seq=2 WHERE account_id=%lld", (long long)b.alice);
    seen s;
    run_verify(f, &s);
    char acct[48];
    snprintf(acct, sizeof acct, "account %lld", (long long)b.alice);
    fx_assert_seen(&s, "account_chain", acct);
    assert_int_equal(s.n, 1);
}

static void test_balance_row_deleted(void **state)
{
    fx *f = *state;
    book b = build(f);
    fx_sql(f, "DELETE FROM ledger_balance WHERE account_id=%lld", (long long)b.bob);
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "balance_orphan", NULL);
    assert_int_equal(count_kind(&s, "balance_orphan"), 1);
}

/* An owner or kind longer than the account's field was read cut short, so a value
 * rewritten past it (keeping the first 64 bytes) passed unnoticed; now each is an
 * account_malformed naming the account and the column. */
static void test_account_text_too_long(void **state)
{
    fx *f = *state;
    book b = build(f);
    fx_sql(f, "UPDATE ledger_account SET owner=owner||'%065d' WHERE id=%lld", 0,
           (long long)b.alice);
    fx_sql(f, "UPDATE ledger_account SET kind=printf('%%.40c', 'k') WHERE id=%lld",
           (long long)b.bob);
    seen s;
    run_verify(f, &s);
    char needle[96];
    snprintf(needle, sizeof needle, "account %lld is damaged: column owner", (long long)b.alice);
    fx_assert_seen(&s, "account_malformed", needle);
    snprintf(needle, sizeof needle, "account %lld is damaged: column kind", (long long)b.bob);
    fx_assert_seen(&s, "account_malformed", needle);
    assert_int_equal(count_kind(&s, "account_malformed"), 2);
}

/*
 * store_ledger.h: accounts lacking a balance row "are reported by account_scan
 * with the missing side zeroed". So verify should still check the account
 * (counting it, and finding its stored counters, now zero, differ from its
 * transfers) rather than treat it as missing.
 */
static void test_balance_row_deleted_account_still_checked(void **state)
{
    fx *f = *state;
    book b = build(f);
    fx_sql(f, "DELETE FROM ledger_balance WHERE account_id=%lld", (long long)b.bob);
    seen s;
    pb_ledger_verify_summary sum = run_verify(f, &s);
    char acct[48];
    snprintf(acct, sizeof acct, "account %lld", (long long)b.bob);
    fx_assert_seen(&s, "balance_orphan", NULL);
    if (sum.accounts != 4 || count_kind(&s, "unknown_account") != 0)
        fail_msg("verify checked %lld of 4 accounts and reported %d transfer(s) naming a "
                 "\"missing\" account: pb_store_account_scan dropped account %lld instead of "
                 "reporting it with zeroed counters",
                 (long long)sum.accounts, count_kind(&s, "unknown_account"), (long long)b.bob);
    fx_assert_seen(&s, "balance_stale", acct); /* its zeroed row misses its transfers */
}

static void test_balance_row_without_account(void **state)
{
    fx *f = *state;
    build(f);
    fx_sql(f, "INSERT INTO ledger_balance (account_id) VALUES (999)");
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "balance_orphan", NULL);
    assert_int_equal(s.n, 1);
}

/* ---- pendings ------------------------------------------------------------- */

static void test_pending_projection_deleted(void **state)
{
    fx *f = *state;
    build(f);
    fx_sql(f, "DELETE FROM ledger_pending_open");
    seen s;
    pb_ledger_verify_summary sum = run_verify(f, &s);
    fx_assert_seen(&s, "pending_projection", "seq 8");
    assert_int_equal(s.n, 1);
    assert_int_equal(sum.open_pendings, 1); /* rebuilt from the transfers */
}

static void test_pending_projection_extra_row(void **state)
{
    fx *f = *state;
    build(f);
    /* seq 3 was posted by seq 5: it is not open */
    fx_sql(f, "INSERT INTO ledger_pending_open (transfer_seq, expires_at) VALUES (3, 0)");
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "pending_projection", "seq 3");
    assert_int_equal(s.n, 1);
}

static void test_pending_projection_expiry_changed(void **state)
{
    fx *f = *state;
    build(f);
    fx_sql(f, "UPDATE ledger_pending_open SET expires_at=expires_at+1 WHERE transfer_seq=8");
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "pending_projection", "seq 8");
    assert_int_equal(s.n, 1);
}

#define COPY_POST                                                                    \
    "INSERT INTO ledger_transfer (seq, id, scope, ikey, debit_account_id, "          \
    "credit_account_id, amount, currency, code, flags, pending_id, timeout_s, "      \
    "expires_at, reference, trace_id, debit_prev_seq, credit_prev_seq, created_at, " \
    "hash) SELECT 9, randomblob(16), scope, ikey || ':again', debit_account_id, "    \
    "credit_account_id, amount, currency, code, flags, pending_id, timeout_s, "      \
    "expires_at, reference, trace_id, 7, 8, created_at, hash "                       \
    "FROM ledger_transfer WHERE seq=5"

static void test_pending_resolved_twice(void **state)
{
    fx *f = *state;
    build(f);
    /* the schema itself refuses a second resolution of one pending transfer */
    assert_int_equal(pb_store_exec_raw(f->conn, COPY_POST), PB_STORE_CONFLICT);
    fx_sql(f, "DROP INDEX ledger_transfer_pending");
    fx_sql(f, COPY_POST);
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "pending_resolved_twice", "seq 9");
    fx_assert_seen(&s, "pending_resolved_twice", "seq 3");
    assert_int_equal(count_kind(&s, "pending_resolved_twice"), 1);
    fx_assert_seen(&s, "hash_chain", "seq 9");
}

static void test_pending_resolution_amount_changed(void **state)
{
    fx *f = *state;
    build(f);
    /* the void of seq 4 (500) claims to release 499 */
    fx_sql(f, "UPDATE ledger_transfer SET amount=499 WHERE seq=6");
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "hash_chain", "seq 6");
    fx_assert_seen(&s, "pending_amount", "seq 6");
    assert_int_equal(s.n, 2); /* a void releases the whole hold whatever it claims */
}

static void test_pending_flag_removed(void **state)
{
    fx *f = *state;
    build(f);
    /* the hold seq 3 turned into a single-phase transfer: its post resolves nothing */
    fx_sql(f, "UPDATE ledger_transfer SET flags=0 WHERE seq=3");
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "hash_chain", "seq 3");
    fx_assert_seen(&s, "pending_unknown", "seq 5");
    /* the counters come out the same either way: only the hash and the chain of
     * resolutions notice */
    assert_int_equal(s.n, 2);
}

/* A forged resolution of the open hold 8 (alice -> house 300, expiring an hour
 * after it was placed), with a correct id, hash and account chain, consistent
 * balances and projection, stamped at `at` (µs) with `flags`: only the hold's
 * expiry can tell whether the writer could have made it. With neither POST nor
 * VOID in flags, a single-phase alice -> house 100 as seq 9 instead (the hold
 * left open), equally consistent. */
static void forge_resolution(fx *f, const book *b, uint32_t flags, int64_t at)
{
    pb_ledger_account alice = fx_get(f, b->alice), house = fx_get(f, b->house);
    pb_store_transfer last, t;
    assert_int_equal(pb_store_transfer_last(f->conn, &last), PB_STORE_OK);
    assert_int_equal(last.seq, 8);
    bool resolves = flags & (PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING);
    assert_true(!resolves || last.expires_at > 0); /* seq 8 is the open hold */
    memset(&t, 0, sizeof t);
    t.seq = 9;
    uint8_t key[16];
    int64_t legacy_below;
    assert_int_equal(pb_store_ledger_ids(f->conn, key, &legacy_below), PB_STORE_OK);
    t.created_at = !resolves || at < last.expires_at ? last.created_at + 1 : last.expires_at;
    pb_ledger_txid_make(key, t.seq, t.created_at, &t.id);
    snprintf(t.scope, sizeof t.scope, "%s", (flags & PB_TRANSFER_EXPIRED) ? "ledger" : "forge");
    snprintf(t.ikey, sizeof t.ikey, "resolve-8");
    t.debit_account_id = b->alice;
    t.credit_account_id = b->house;
    t.amount = resolves ? last.amount : 100;
    snprintf(t.currency, sizeof t.currency, "EUR");
    t.code = last.code;
    t.flags = flags;
    t.has_pending_id = resolves;
    if (resolves)
        t.pending_id = last.id;
    t.debit_prev_seq = alice.last_seq;
    t.credit_prev_seq = house.last_seq;
    pb_ledger_hash(&t, last.hash, t.hash);
    assert_int_equal(pb_store_transfer_insert(f->conn, &t), PB_STORE_OK);
    /* the counters as the transfer moves them: a resolution releases the hold
     * (and a post posts it), a single-phase transfer posts its amount */
    long long pending = resolves ? (long long)last.amount : 0;
    long long posted = !resolves || (flags & PB_TRANSFER_POST_PENDING) ? (long long)t.amount : 0;
    fx_sql(f,
           "UPDATE ledger_balance SET debits_pending=debits_pending-%lld, "
           "debits_posted=debits_posted+%lld, last_seq=9 WHERE account_id=%lld",
           pending, posted, (long long)b->alice);
    fx_sql(f,
           "UPDATE ledger_balance SET credits_pending=credits_pending-%lld, "
           "credits_posted=credits_posted+%lld, last_seq=9 WHERE account_id=%lld",
           pending, posted, (long long)b->house);
    if (resolves)
        fx_sql(f, "DELETE FROM ledger_pending_open WHERE transfer_seq=8");
}

/* Forges seq 9 (forge_resolution) and expects exactly one pending_expiry, on it. */
static void expect_expiry_violation(fx *f, uint32_t flags, int64_t at)
{
    book b = build(f);
    forge_resolution(f, &b, flags, at);
    seen s;
    run_verify(f, &s);
    fx_assert_seen(&s, "pending_expiry", "seq 9");
    assert_int_equal(s.n, 1);
}

static void test_post_after_expiry(void **state)
{
    expect_expiry_violation(*state, PB_TRANSFER_POST_PENDING, INT64_MAX);
}

static void test_void_after_expiry_not_flagged(void **state)
{
    expect_expiry_violation(*state, PB_TRANSFER_VOID_PENDING, INT64_MAX);
}

static void test_expired_before_expiry(void **state)
{
    expect_expiry_violation(*state, PB_TRANSFER_VOID_PENDING | PB_TRANSFER_EXPIRED, 0);
}

/* A single-phase transfer flagged EXPIRED: only the ledger's expiry void of a
 * hold carries that flag, so it is reported even with every other check passing. */
static void test_expired_without_hold(void **state)
{
    expect_expiry_violation(*state, PB_TRANSFER_EXPIRED, 0);
}

/* The same resolutions as the writer makes them verify clean. */
static void test_expiry_void_verifies(void **state)
{
    fx *f = *state;
    book b = build(f);
    forge_resolution(f, &b, PB_TRANSFER_VOID_PENDING | PB_TRANSFER_EXPIRED, INT64_MAX);
    seen s;
    run_verify(f, &s);
    assert_int_equal(s.n, 0);
}

static void test_post_before_expiry_verifies(void **state)
{
    fx *f = *state;
    book b = build(f);
    forge_resolution(f, &b, PB_TRANSFER_POST_PENDING, 0);
    seen s;
    run_verify(f, &s);
    assert_int_equal(s.n, 0);
}

/* Between two chunks of a verify: one more transfer, then a TRUNCATE checkpoint
 * from a connection of its own (busy = 1 while any read transaction is held). */
typedef struct wal_probe {
    fx *f;
    sqlite3 *db;
    int64_t from, to;
    int pauses, refused;
} wal_probe;

static void wal_between(void *ctx)
{
    wal_probe *p = ctx;
    char key[32];
    snprintf(key, sizeof key, "more:%d", p->pauses);
    pb_transfer t = fx_transfer(key, p->from, p->to, 1, PB_CODE_DEPOSIT);
    assert_int_equal(fx_submit1(p->f, &t), PB_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(p->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, NULL),
                     SQLITE_OK);
    int rc = sqlite3_step(st);
    p->refused += !(rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 0 &&
                    sqlite3_column_int(st, 1) == 0);
    sqlite3_finalize(st);
    p->pauses++;
}

static void test_verify_holds_no_snapshot(void **state)
{
    fx *f = *state;
    int64_t psp = fx_account(f, "psp", "psp_clearing", 0);
    int64_t alice = fx_account(f, "player:alice", "player_cash",
                               PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    for (int i = 0; i < 20; i++) {
        char key[32];
        snprintf(key, sizeof key, "dep:%d", i);
        pb_transfer t = fx_transfer(key, psp, alice, 100 + i, PB_CODE_DEPOSIT);
        assert_int_equal(fx_submit1(f, &t), PB_OK);
    }
    wal_probe p = {.f = f, .from = psp, .to = alice};
    assert_int_equal(sqlite3_open_v2(f->path, &p.db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(p.db, 5000); /* the ledger's own checkpointer may hold the lock */
    pb_ledger_verify_tune(4, wal_between, &p);
    pb_ledger_verify_summary sum;
    pb_err e = pb_ledger_verify(f->conn, NULL, NULL, &sum);
    pb_ledger_verify_tune(0, NULL, NULL);
    sqlite3_close(p.db);
    assert_int_equal(e, PB_OK);
    assert_int_equal(p.pauses, 4); /* 20 transfers in chunks of 4: 4 pauses */
    if (p.refused)
        fail_msg("%d of %d TRUNCATE checkpoints during verify could not empty the WAL: a read "
                 "transaction was held across the chunks",
                 p.refused, p.pauses);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.transfers, 20); /* as of its start: not the 4 taken since */
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    seen s;
    pb_ledger_verify_summary after = run_verify(f, &s);
    assert_int_equal(after.violations, 0);
    assert_int_equal(after.transfers, 24);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_ledger_verifies, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_verify_holds_no_snapshot, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_amount_changed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_debit_account_changed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_hash_zeroed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_id_wrong_length, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_amount_not_a_number, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_id_copied, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_every_hash_zeroed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_created_at_changed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_transfer_deleted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_last_transfer_deleted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_forged_overdraft, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_balance_credit_inflated, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_balance_negative, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_balance_last_seq_changed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_balance_row_deleted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_balance_row_deleted_account_still_checked, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_balance_row_without_account, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_account_text_too_long, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pending_projection_deleted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pending_projection_extra_row, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pending_projection_expiry_changed, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_pending_resolved_twice, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pending_resolution_amount_changed, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_pending_flag_removed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_post_after_expiry, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_void_after_expiry_not_flagged, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expired_before_expiry, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expired_without_hold, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expiry_void_verifies, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_post_before_expiry_verifies, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
