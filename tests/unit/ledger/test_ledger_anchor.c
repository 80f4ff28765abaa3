/*
 * test_ledger_anchor.c — signed ledger anchors (src/ledger/anchor.c) against a
 * database rewritten by someone who can write it but does not hold the key.
 *
 * The hash chain alone has no key: a transfer rewritten with every later hash
 * recomputed, or the newest transfers removed with the balance rows, marks and
 * projection fixed to match, verify clean without anchors (each case shows
 * that), and account rows are not in the chain at all. The ledger (seqs fixed):
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
#include <sodium.h>

#include "fixture.h"
#include "ledger/ledger_internal.h"

typedef fx_seen seen;

typedef fx_book book;

typedef struct keypair {
    uint8_t pk[32], sk[64];
} keypair;

static keypair server_key, forger_key;

static void sign_with(void *ctx, const uint8_t *msg, size_t n, uint8_t sig[64])
{
    crypto_sign_detached(sig, NULL, msg, n, ((keypair *)ctx)->sk);
}

static pb_ledger_signer signer(keypair *k)
{
    pb_ledger_signer s = {.sign = sign_with, .ctx = k};
    memcpy(s.public_key, k->pk, 32);
    return s;
}

/* Verify trusting the server's key (check true) or without keys; the same again
 * with the transfers read one per chunk must agree. */
static pb_ledger_verify_summary run_verify(fx *f, seen *s, bool check)
{
    const uint8_t(*trusted)[32] = (const uint8_t(*)[32])server_key.pk;
    pb_ledger_verify_keys keys = {.trusted = trusted, .ntrusted = 1, .check_signatures = check};
    pb_ledger_verify_summary sum, sum1;
    memset(s, 0, sizeof *s);
    assert_int_equal(pb_ledger_verify_anchored(f->conn, &keys, fx_collect, s, &sum), PB_OK);
    assert_int_equal(sum.violations, s->n);
    for (int i = 0; i < s->n; i++)
        print_message("# violation %s: %s\n", s->kind[i], s->msg[i]);
    pb_ledger_verify_tune(1, NULL, NULL);
    pb_err e = pb_ledger_verify_anchored(f->conn, &keys, NULL, NULL, &sum1);
    pb_ledger_verify_tune(0, NULL, NULL);
    assert_int_equal(e, PB_OK);
    assert_memory_equal(&sum, &sum1, sizeof sum);
    return sum;
}

static void anchor(fx *f, keypair *k, bool expect_written)
{
    pb_ledger_signer s = signer(k);
    bool written = !expect_written;
    assert_int_equal(pb_ledger_anchor(f->conn, &s, f->clock_us, NULL, &written), PB_OK);
    assert_int_equal(written, expect_written);
}

/* The ledger above, anchored by the server's key once it is closed. */
static book build(fx *f)
{
    book b = fx_book_build(f);
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    anchor(f, &server_key, true);
    anchor(f, &server_key, false); /* nothing new: no second anchor */
    seen s;
    pb_ledger_verify_summary sum = run_verify(f, &s, true);
    assert_int_equal(s.n, 0);
    assert_int_equal(sum.anchors, 1);
    assert_int_equal(sum.anchored_seq, 8);
    assert_true(sum.signatures_checked);
    return b;
}

/* Every transfer from `from` on read, `edit` applied to seq `from`, and every
 * hash from there recomputed and written back: a consistent forged chain. */
static void rewrite_chain(fx *f, int64_t from, int64_t new_created_at)
{
    pb_store_transfer t, prev;
    assert_int_equal(pb_store_transfer_by_seq(f->conn, from - 1, &prev), PB_STORE_OK);
    uint8_t h[32];
    memcpy(h, prev.hash, 32);
    for (int64_t seq = from;; seq++) {
        pb_store_rc rc = pb_store_transfer_by_seq(f->conn, seq, &t);
        if (rc == PB_STORE_NOT_FOUND)
            break;
        assert_int_equal(rc, PB_STORE_OK);
        if (seq == from)
            t.created_at = new_created_at;
        pb_ledger_hash(&t, h, t.hash);
        memcpy(h, t.hash, 32);
        char hex[65];
        sodium_bin2hex(hex, sizeof hex, t.hash, 32);
        fx_sql(f, "UPDATE ledger_transfer SET created_at=%lld, hash=X'%s' WHERE seq=%lld",
               (long long)t.created_at, hex, (long long)seq);
    }
}

static void test_clean_ledger_with_anchors_verifies(void **state)
{
    fx *f = *state;
    build(f);
    /* more accounts later: a second anchor covering only them */
    fx_restart(f);
    int64_t carol = fx_account(f, "player:carol", "player_cash", 0);
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    anchor(f, &server_key, true);
    seen s;
    pb_ledger_verify_summary sum = run_verify(f, &s, true);
    assert_int_equal(s.n, 0);
    assert_int_equal(sum.anchors, 2);
    pb_store_ledger_anchor last;
    assert_int_equal(pb_store_ledger_anchor_last(f->conn, &last), PB_STORE_OK);
    assert_int_equal(last.id, 2);
    assert_int_equal(last.accounts_after, 4);
    assert_int_equal(last.account_upto, carol);
    assert_int_equal(last.transfer_seq, 8);
    /* without keys: checked against the ledger, signatures not */
    sum = run_verify(f, &s, false);
    assert_int_equal(s.n, 0);
    assert_false(sum.signatures_checked);
}

static void test_history_rewritten_and_rehashed(void **state)
{
    fx *f = *state;
    build(f);
    rewrite_chain(f, 3, 12345);
    seen s;
    run_verify(f, &s, false);
    fx_assert_seen(&s, "anchor_transfer", "anchor 1 signs transfer seq 8 with another hash");
    assert_int_equal(s.n, 1); /* the chain itself is consistent again */
    /* without the anchor the rewrite is invisible: what anchors are for */
    fx_sql(f, "DELETE FROM ledger_anchor");
    run_verify(f, &s, false);
    assert_int_equal(s.n, 0);
}

static void test_newest_transfers_deleted(void **state)
{
    fx *f = *state;
    book b = build(f);
    /* remove seq 8 (alice's open 300 hold) and make every projection agree */
    fx_sql(f, "DELETE FROM ledger_transfer WHERE seq=8");
    fx_sql(f, "DELETE FROM ledger_pending_open WHERE transfer_seq=8");
    fx_sql(f,
           "UPDATE ledger_balance SET debits_pending=debits_pending-300, last_seq=7 "
           "WHERE account_id=%lld",
           (long long)b.alice);
    fx_sql(f,
           "UPDATE ledger_balance SET credits_pending=credits_pending-300, last_seq=7 "
           "WHERE account_id=%lld",
           (long long)b.house);
    fx_sql(f, "UPDATE ledger_state SET balances_seq=min(balances_seq,7), "
              "pending_seq=min(pending_seq,7)");
    seen s;
    run_verify(f, &s, false);
    fx_assert_seen(&s, "anchor_transfer", "anchor 1 signs transfer seq 8, which is missing");
    assert_int_equal(s.n, 1);
    fx_sql(f, "DELETE FROM ledger_anchor");
    run_verify(f, &s, false);
    assert_int_equal(s.n, 0);
}

static void test_account_owner_changed(void **state)
{
    fx *f = *state;
    book b = build(f);
    fx_sql(f, "UPDATE ledger_account SET owner='player:mallory' WHERE id=%lld", (long long)b.bob);
    seen s;
    run_verify(f, &s, false);
    fx_assert_seen(&s, "anchor_accounts", "anchor 1: the accounts with ids 1..4");
    assert_int_equal(s.n, 1);
}

static void test_account_flag_dropped(void **state)
{
    fx *f = *state;
    build(f);
    /* a player account anchored on its own (anchor 2), its flag dropped */
    fx_restart(f);
    int64_t carol = fx_account(f, "player:carol", "player_cash",
                               PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    anchor(f, &server_key, true);
    fx_sql(f, "UPDATE ledger_account SET flags=0 WHERE id=%lld", (long long)carol);
    seen s;
    run_verify(f, &s, false);
    char acct[64];
    snprintf(acct, sizeof acct, "anchor 2: account %lld (player:carol", (long long)carol);
    fx_assert_seen(&s, "anchor_accounts", acct);
    assert_int_equal(s.n, 1);
    /* and its currency */
    fx_sql(f, "UPDATE ledger_account SET flags=%u, currency='USD' WHERE id=%lld",
           (unsigned)PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS, (long long)carol);
    run_verify(f, &s, false);
    fx_assert_seen(&s, "anchor_accounts", acct);
    assert_int_equal(s.n, 1);
}

/* Two refusals after build() (bob and alice each ask for more than they have),
 * anchored as rejections 1..2 by anchor 2. */
static void refuse_two(fx *f, const book *b)
{
    fx_restart(f);
    pb_transfer big = fx_transfer("bet:bob:big", b->bob, b->house, 999999, PB_CODE_BET);
    assert_int_equal(fx_submit1(f, &big), PB_ERR_INSUFFICIENT_FUNDS);
    pb_transfer big2 = fx_transfer("bet:alice:big", b->alice, b->house, 999999, PB_CODE_BET);
    assert_int_equal(fx_submit1(f, &big2), PB_ERR_INSUFFICIENT_FUNDS);
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    anchor(f, &server_key, true);
    anchor(f, &server_key, false); /* nothing new */
    pb_store_ledger_anchor last;
    assert_int_equal(pb_store_ledger_anchor_last(f->conn, &last), PB_STORE_OK);
    assert_true(last.has_rejections);
    assert_int_equal(last.rejections_after, 0);
    assert_int_equal(last.rejection_upto, 2);
    seen s;
    run_verify(f, &s, true);
    assert_int_equal(s.n, 0);
}

/* A remembered refusal deleted by SQL: the once-refused key would succeed on its
 * next try (after a deposit), and nothing but the anchor remembers it. */
static void test_rejection_deleted(void **state)
{
    fx *f = *state;
    book b = build(f);
    refuse_two(f, &b);
    fx_sql(f, "DELETE FROM ledger_rejection WHERE ikey='bet:bob:big'");
    seen s;
    run_verify(f, &s, true);
    fx_assert_seen(&s, "anchor_rejections",
                   "anchor 2: the rejections with seq 1..2 (1 found) are not as they were");
    assert_int_equal(s.n, 1);
    /* and the key now does what was refused once it can be paid */
    fx_restart(f);
    pb_transfer dep = fx_transfer("dep:bob:2", b.psp, b.bob, 999999, PB_CODE_DEPOSIT);
    assert_int_equal(fx_submit1(f, &dep), PB_OK);
    pb_transfer big = fx_transfer("bet:bob:big", b.bob, b.house, 999999, PB_CODE_BET);
    assert_int_equal(fx_submit1(f, &big), PB_OK);
}

static void test_rejection_changed_or_inserted(void **state)
{
    fx *f = *state;
    book b = build(f);
    refuse_two(f, &b);
    /* one column of one: named when the range holds just it (anchor 3 covers seq 3) */
    fx_restart(f);
    pb_transfer big = fx_transfer("bet:bob:big3", b.bob, b.house, 888888, PB_CODE_BET);
    assert_int_equal(fx_submit1(f, &big), PB_ERR_INSUFFICIENT_FUNDS);
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    anchor(f, &server_key, true);
    fx_sql(f, "UPDATE ledger_rejection SET amount=1 WHERE seq=3");
    seen s;
    run_verify(f, &s, true);
    fx_assert_seen(&s, "anchor_rejections",
                   "anchor 3: rejection seq 3 (test/bet:bob:big3) is not as it was");
    assert_int_equal(s.n, 1);
    fx_sql(f, "UPDATE ledger_rejection SET amount=888888 WHERE seq=3");
    run_verify(f, &s, true);
    assert_int_equal(s.n, 0);
    /* a refusal slipped in under anchor 2's range (seq 2 moved up, a forged one in
     * its place) */
    fx_sql(f, "UPDATE ledger_rejection SET seq=10 WHERE seq=2");
    fx_sql(f, "INSERT INTO ledger_rejection (seq, scope, ikey, debit_account_id, "
              "credit_account_id, amount, currency, code, flags, timeout_s, reference, error, "
              "created_at) SELECT 2, scope, 'forged', debit_account_id, credit_account_id, "
              "amount, currency, code, flags, timeout_s, reference, error, created_at "
              "FROM ledger_rejection WHERE seq=10");
    run_verify(f, &s, true);
    fx_assert_seen(&s, "anchor_rejections", "anchor 2: the rejections with seq 1..2 (2 found)");
    assert_int_equal(s.n, 1);
}

/* A damaged rejection no anchor covers yet: verify names it, and the anchorer
 * refuses to sign it rather than a value it could not read whole. */
static void test_rejection_damaged_above_anchors(void **state)
{
    fx *f = *state;
    book b = build(f);
    refuse_two(f, &b);
    fx_restart(f);
    pb_transfer big = fx_transfer("bet:bob:big3", b.bob, b.house, 888888, PB_CODE_BET);
    assert_int_equal(fx_submit1(f, &big), PB_ERR_INSUFFICIENT_FUNDS);
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    fx_sql(f, "UPDATE ledger_rejection SET amount='lots' WHERE seq=3");
    seen s;
    run_verify(f, &s, true);
    fx_assert_seen(&s, "malformed_row",
                   "rejection seq 3 (test/bet:bob:big3) is damaged: column amount");
    assert_int_equal(s.n, 1);
    pb_ledger_signer sg = signer(&server_key);
    bool written = true;
    assert_int_equal(pb_ledger_anchor(f->conn, &sg, f->clock_us, NULL, &written), PB_ERR_INTERNAL);
    assert_false(written);
}

/* An anchor written before migration 0045 (its rejection columns NULL) keeps
 * verifying; the next anchor covers every rejection from seq 1. */
static void test_anchor_before_rejections(void **state)
{
    fx *f = *state;
    book b = build(f);
    /* anchor 1 as an older pitboss wrote it: the v1 message, re-signed */
    pb_store_ledger_anchor a;
    assert_int_equal(pb_store_ledger_anchor_last(f->conn, &a), PB_STORE_OK);
    a.has_rejections = false;
    uint8_t msg[PB_LEDGER_ANCHOR_MSG_LEN];
    size_t n = pb_ledger_anchor_message(&a, msg);
    assert_int_equal(n, 160);
    crypto_sign_detached(a.signature, NULL, msg, n, server_key.sk);
    fx_sql(f, "DELETE FROM ledger_anchor");
    assert_int_equal(pb_store_ledger_anchor_insert(f->conn, &a), PB_STORE_OK);
    seen s;
    run_verify(f, &s, true);
    assert_int_equal(s.n, 0);
    refuse_two(f, &b); /* anchor 2 covers rejections 1..2 after the old anchor */
    fx_sql(f, "DELETE FROM ledger_rejection WHERE seq=1");
    run_verify(f, &s, true);
    fx_assert_seen(&s, "anchor_rejections", "anchor 2: the rejections with seq 1..2 (1 found)");
    assert_int_equal(s.n, 1);
}

/* The forger rewrites history and re-signs the anchor with a key of their own. */
static void test_forged_anchor(void **state)
{
    fx *f = *state;
    build(f);
    rewrite_chain(f, 3, 12345);
    fx_sql(f, "DELETE FROM ledger_anchor");
    anchor(f, &forger_key, true);
    seen s;
    pb_ledger_verify_summary sum = run_verify(f, &s, false);
    assert_int_equal(s.n, 0); /* consistent: only the signature can tell */
    assert_false(sum.signatures_checked);
    run_verify(f, &s, true);
    fx_assert_seen(&s, "anchor_untrusted", "anchor 1 (transfer seq 8) is signed by key");
    assert_int_equal(s.n, 1);
    /* the forger writes the server's public key beside their own signature */
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, server_key.pk, 32);
    char id[17];
    pb_ledger_anchor_key_id(server_key.pk, id);
    fx_sql(f, "UPDATE ledger_anchor SET public_key=X'%s', key_id='%s'", hex, id);
    run_verify(f, &s, true);
    fx_assert_seen(&s, "anchor_signature", "anchor 1 (transfer seq 8");
    assert_int_equal(s.n, 1);
}

static void test_anchor_removed_from_the_middle(void **state)
{
    fx *f = *state;
    build(f);
    fx_restart(f);
    fx_account(f, "player:carol", "player_cash", 0);
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    anchor(f, &server_key, true);
    fx_sql(f, "DELETE FROM ledger_anchor WHERE id=1");
    seen s;
    run_verify(f, &s, true);
    fx_assert_seen(&s, "anchor_chain", "anchor 2 follows anchor 0");
    fx_assert_seen(&s, "anchor_chain", "anchor 2 covers accounts 5..5");
}

/* Keys in rotation order (a --keys-dir: retired oldest first, the key in use
 * last) bar an older key after a newer one signed; keys named without an order
 * (--trust-key: nunordered) are trusted for any anchor, as audit verify does. */
static void test_key_order_and_unordered_keys(void **state)
{
    fx *f = *state;
    build(f); /* anchor 1: server_key */
    fx_restart(f);
    fx_account(f, "player:carol", "player_cash", 0);
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    anchor(f, &forger_key, true); /* anchor 2: the key listed as the older one */
    uint8_t trusted[2][32];
    memcpy(trusted[0], forger_key.pk, 32);
    memcpy(trusted[1], server_key.pk, 32);
    pb_ledger_verify_keys keys = {.trusted = (const uint8_t(*)[32])trusted,
                                  .ntrusted = 2,
                                  .check_signatures = true};
    seen s;
    pb_ledger_verify_summary sum;
    memset(&s, 0, sizeof s);
    assert_int_equal(pb_ledger_verify_anchored(f->conn, &keys, fx_collect, &s, &sum), PB_OK);
    fx_assert_seen(&s, "anchor_untrusted", "anchor 2 is signed by the retired key");
    assert_int_equal(s.n, 1);
    keys.nunordered = 2; /* both named by the verifier */
    memset(&s, 0, sizeof s);
    assert_int_equal(pb_ledger_verify_anchored(f->conn, &keys, fx_collect, &s, &sum), PB_OK);
    assert_int_equal(s.n, 0);
    assert_true(sum.signatures_checked);
    keys.nunordered = 1; /* the key in use named, the older one from the directory */
    memset(&s, 0, sizeof s);
    assert_int_equal(pb_ledger_verify_anchored(f->conn, &keys, fx_collect, &s, &sum), PB_OK);
    assert_int_equal(s.n, 0);
    keys.ntrusted = 1; /* only the older key: anchor 1's is not trusted */
    memset(&s, 0, sizeof s);
    assert_int_equal(pb_ledger_verify_anchored(f->conn, &keys, fx_collect, &s, &sum), PB_OK);
    fx_assert_seen(&s, "anchor_untrusted", "anchor 1 (transfer seq 8) is signed by key");
    assert_int_equal(s.n, 1);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    crypto_sign_keypair(server_key.pk, server_key.sk);
    crypto_sign_keypair(forger_key.pk, forger_key.sk);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_ledger_with_anchors_verifies, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_history_rewritten_and_rehashed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_newest_transfers_deleted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_account_owner_changed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_account_flag_dropped, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rejection_deleted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rejection_changed_or_inserted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_anchor_before_rejections, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rejection_damaged_above_anchors, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_forged_anchor, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_anchor_removed_from_the_middle, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_key_order_and_unordered_keys, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
