/*
 * test_cashier_withdrawal.c — the withdrawal state machine on a real database
 * and ledger: request (checks recorded, cash only, the hold), cancel and
 * reject (hold voided), one approval below the threshold, 4-eyes at and above
 * it (the same member twice, the requesting member), the payout sent
 * ("processing"), payout.paid (hold posted) and payout.failed (hold voided),
 * late and duplicate payout events, every wrong transition WITHDRAWAL_STATE.
 * The payout retry's passes, called one by one: a payout is sent again only when
 * found approved at two passes in a row, every page of approved withdrawals is
 * read, and a pass stops sending to a PSP that refused PB_CASHIER_PASS_REFUSALS in
 * a row; a pass leaves alone a payout that its approval is still sending (a
 * slow PSP: sent once, answered "processing"). The sandbox keys a payout by its
 * withdrawal (the same reference each time, across a restart too). An approval
 * asks the player gate again (a player blocked since the request: refused,
 * nothing written, rejected later). The payment and withdrawal lists' query
 * plans. Every test ends with `ledger verify` clean.
 */
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cashier/cashier_internal.h" /* the payout retry's pass, called directly */
#include "core/time.h"
#include "fixture.h"
#include "identity/identity.h"
#include "store/store_identity.h"
#include "store/sqlite/sqlite_internal.h" /* the connection's handle: for the query plans */
#include "../plans.h"
#include <sqlite3.h>

/* The ledger transfer of a withdrawal by its key suffix ("hold", "post", "void"). */
static pb_err wd_transfer(const char *id, const char *what, pb_ledger_record *out)
{
    char key[80];
    snprintf(key, sizeof key, "%s:%s", id, what);
    return pb_ledger_transfer_by_key(C.f->conn, "withdrawal", key, out);
}

static void test_request(void **state)
{
    (void)state;
    cx_fund(0, 10000, 5000);
    pb_store_withdrawal w;
    /* bonus money is never withdrawable */
    int64_t n = cx_transfers();
    assert_int_equal(cx_withdraw(0, 10001, NULL, &w), PB_ERR_INSUFFICIENT_FUNDS);
    assert_int_equal(cx_withdraw(1, 1, NULL, &w), PB_ERR_INSUFFICIENT_FUNDS);
    assert_int_equal(cx_transfers(), n);
    /* no accounts were created for the refused player either */
    pb_ledger_account acc;
    char owner[64];
    snprintf(owner, sizeof owner, "player:%s", C.players[1]);
    assert_int_equal(pb_ledger_account_find(C.f->conn, "alpha", owner, "player_cash", "EUR", &acc),
                     PB_ERR_ACCOUNT_NOT_FOUND);
    assert_int_equal(cx_withdraw(0, 4000, NULL, &w), PB_OK);
    assert_string_equal(w.status, "pending_approval");
    assert_int_equal(w.approvals_required, 1);
    char want[64];
    snprintf(want, sizeof want, "player:%s", C.players[0]);
    assert_string_equal(w.requested_by, want);
    assert_non_null(strstr(w.checks, "\"player_status\""));
    assert_non_null(strstr(w.checks, "\"bonus_wagering\""));
    assert_non_null(strstr(w.checks, "\"kyc\""));
    pb_wallet_balance b = cx_balance(0);
    assert_int_equal(b.cash, 10000);
    assert_int_equal(b.held, 4000);
    assert_int_equal(b.withdrawable, 6000);
    pb_ledger_record hold;
    assert_int_equal(wd_transfer(w.id, "hold", &hold), PB_OK);
    assert_true(hold.flags & PB_TRANSFER_PENDING);
    assert_int_equal(hold.timeout_s, 0);
    assert_int_equal(hold.code, PB_CODE_WITHDRAWAL);
    /* the held money is not withdrawable again */
    assert_int_equal(cx_withdraw(0, 6001, NULL, &w), PB_ERR_INSUFFICIENT_FUNDS);
    /* idempotent by key */
    pb_cashier_actor me = {.kind = "player", .id = C.players[0]};
    pb_store_withdrawal a1, a2;
    bool replayed;
    assert_int_equal(pb_cashier_withdrawal_request(C.k, C.f->conn, &C.pl[0], 100, "wk", &me, &a1,
                                                   &replayed),
                     PB_OK);
    assert_false(replayed);
    assert_int_equal(pb_cashier_withdrawal_request(C.k, C.f->conn, &C.pl[0], 100, "wk", &me, &a2,
                                                   &replayed),
                     PB_OK);
    assert_true(replayed);
    assert_string_equal(a1.id, a2.id);
    assert_int_equal(pb_cashier_withdrawal_request(C.k, C.f->conn, &C.pl[0], 101, "wk", &me, &a2,
                                                   &replayed),
                     PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(cx_balance(0).held, 4100);
    /* a blocked player cannot withdraw; a self-excluded one may take their money out */
    cx_status(0, "blocked");
    assert_int_equal(cx_withdraw(0, 100, NULL, &w), PB_ERR_PLAYER_BLOCKED);
    assert_int_equal(cx_balance(0).held, 4100);
    cx_status(0, "self_excluded");
    assert_int_equal(cx_withdraw(0, 100, NULL, &w), PB_OK);
    assert_int_equal(cx_balance(0).held, 4200);
}

static void test_cancel_and_reject(void **state)
{
    (void)state;
    cx_fund(0, 10000, 0);
    pb_store_withdrawal w, out;
    pb_cashier_actor me = {.kind = "player", .id = C.players[0]};
    pb_cashier_actor other = {.kind = "player", .id = C.players[1]};
    pb_cashier_actor fin = cx_staff("fin-1");
    assert_int_equal(cx_withdraw(0, 3000, NULL, &w), PB_OK);
    assert_int_equal(pb_cashier_withdrawal_cancel(C.k, C.players[1], w.id, &other, &out),
                     PB_ERR_WITHDRAWAL_NOT_FOUND);
    assert_int_equal(pb_cashier_withdrawal_cancel(C.k, C.players[0], "nope", &me, &out),
                     PB_ERR_WITHDRAWAL_NOT_FOUND);
    assert_int_equal(pb_cashier_withdrawal_cancel(C.k, C.players[0], w.id, &me, &out), PB_OK);
    assert_string_equal(out.status, "cancelled");
    assert_int_equal(cx_balance(0).held, 0);
    pb_ledger_record v;
    assert_int_equal(wd_transfer(w.id, "void", &v), PB_OK);
    assert_true(v.flags & PB_TRANSFER_VOID_PENDING);
    int64_t n = cx_transfers();
    assert_int_equal(pb_cashier_withdrawal_cancel(C.k, C.players[0], w.id, &me, &out),
                     PB_ERR_WITHDRAWAL_STATE);
    assert_int_equal(pb_cashier_withdrawal_reject(C.k, w.id, "late", &fin, &out),
                     PB_ERR_WITHDRAWAL_STATE);
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin, &out), PB_ERR_WITHDRAWAL_STATE);
    assert_int_equal(cx_transfers(), n);

    assert_int_equal(cx_withdraw(0, 2000, NULL, &w), PB_OK);
    assert_int_equal(pb_cashier_withdrawal_reject(C.k, w.id, "documents missing", &fin, &out),
                     PB_OK);
    assert_string_equal(out.status, "rejected");
    assert_string_equal(out.reason, "documents missing");
    assert_int_equal(cx_balance(0).held, 0);
    assert_int_equal(cx_balance(0).cash, 10000);
    assert_int_equal(pb_cashier_withdrawal_cancel(C.k, C.players[0], w.id, &me, &out),
                     PB_ERR_WITHDRAWAL_STATE);
}

static void test_one_approval_paid(void **state)
{
    (void)state;
    cx_fund(0, 10000, 0);
    pb_store_withdrawal w, out;
    pb_cashier_actor fin = cx_staff("fin-1"), fin2 = cx_staff("fin-2");
    assert_int_equal(cx_withdraw(0, 5000, NULL, &w), PB_OK);
    assert_int_equal(w.approvals_required, 1);
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin, &out), PB_OK);
    assert_string_equal(out.status, "processing");
    assert_int_equal(strncmp(out.psp_reference, "sbxo_", 5), 0);
    assert_int_equal(cx_balance(0).held, 5000); /* still held while the PSP pays */
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin2, &out),
                     PB_ERR_WITHDRAWAL_STATE);
    assert_int_equal(pb_cashier_withdrawal_reject(C.k, w.id, "x", &fin2, &out),
                     PB_ERR_WITHDRAWAL_STATE);
    pb_store_withdrawal_approval ap[PB_CASHIER_MAX_APPROVALS];
    size_t n = 0;
    assert_int_equal(pb_cashier_withdrawal_approvals(C.f->conn, w.id, ap, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ap[0].staff_id, "fin-1");
    assert_string_equal(ap[0].role, "finance");
    pb_store_withdrawal now = cx_withdrawal(w.id);
    pb_cashier_webhook_result r;
    /* another amount: nothing moves */
    assert_int_equal(cx_event(NULL, "payout.paid", now.psp_reference, 4999, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "mismatch");
    assert_string_equal(cx_withdrawal(w.id).status, "processing");
    assert_int_equal(cx_event("p1", "payout.paid", now.psp_reference, 5000, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "applied");
    assert_string_equal(cx_withdrawal(w.id).status, "paid");
    pb_wallet_balance b = cx_balance(0);
    assert_int_equal(b.cash, 5000);
    assert_int_equal(b.held, 0);
    pb_ledger_record post;
    assert_int_equal(wd_transfer(w.id, "post", &post), PB_OK);
    assert_true(post.flags & PB_TRANSFER_POST_PENDING);
    int64_t t = cx_transfers();
    assert_int_equal(cx_event("p1", "payout.paid", now.psp_reference, 5000, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "duplicate");
    assert_int_equal(cx_event(NULL, "payout.failed", now.psp_reference, 5000, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "ignored");
    assert_int_equal(cx_transfers(), t);
    assert_int_equal(cx_balance(0).cash, 5000);
}

static pb_store_withdrawal approved(int i, int64_t amount);

/* How many audit entries of action there are on withdrawal id. */
static int audits(const char *action, const char *id)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(((sq_conn *)C.f->conn)->db,
                                        "SELECT count(*) FROM audit_entry WHERE action=?1 AND "
                                        "target_id=?2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The payload field key of the one event of type for withdrawal id ("" if none). */
static void event_field(const char *type, const char *id, const char *key, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(((sq_conn *)C.f->conn)->db,
                           "SELECT json_extract(payload, '$.' || ?3) FROM event_outbox "
                           "WHERE type=?1 AND json_extract(payload, "
                           "'$.withdrawal_id')=?2",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

/* A paid payout the PSP reports returned (payout.returned, sent by the sandbox
 * signed like its other webhooks): the amount goes back to the player's cash by
 * one transfer from the account the hold was posted to, "returned", audited and
 * announced, once whatever delivers it. One for a withdrawal sent but not yet
 * paid is deferred and applied when it is paid (here by a staff resolve); one of
 * another amount moves nothing and is audited; a plain payout.failed after
 * "paid" stays a conflict for an operator. */
static void test_payout_returned(void **state)
{
    (void)state;
    cx_fund(0, 10000, 0);
    pb_store_withdrawal w = approved(0, 4000), q = approved(0, 1500), out;
    assert_string_equal(w.status, "processing");
    pb_cashier_webhook_result r;
    /* sent, not reported paid yet (the PSP's events out of order): nothing moves,
     * recorded "deferred" and audited; applied once the payout is paid (below) */
    int64_t n = cx_transfers();
    assert_int_equal(cx_event(NULL, "payout.returned", q.psp_reference, 1500, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "deferred");
    assert_string_equal(cx_withdrawal(q.id).status, "processing");
    assert_int_equal(audits("withdrawal.payout_return_deferred", q.id), 1);
    assert_int_equal(audits("withdrawal.payout_conflict", q.id), 0);
    assert_int_equal(cx_transfers(), n);
    assert_int_equal(cx_event(NULL, "payout.paid", w.psp_reference, 4000, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "applied");
    int64_t paid_at = cx_withdrawal(w.id).updated_at;
    pb_wallet_balance b = cx_balance(0);
    assert_int_equal(b.cash, 6000);
    assert_int_equal(b.held, 1500);
    /* a plain failure after paid: still only a conflict, nothing moves */
    n = cx_transfers();
    assert_int_equal(cx_event(NULL, "payout.failed", w.psp_reference, 4000, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "ignored");
    assert_string_equal(cx_withdrawal(w.id).status, "paid");
    assert_int_equal(audits("withdrawal.payout_conflict", w.id), 1);
    /* another amount: mismatch, nothing moves */
    assert_int_equal(cx_event(NULL, "payout.returned", w.psp_reference, 3999, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "mismatch");
    assert_int_equal(cx_event(NULL, "payout.returned", w.psp_reference, 4000, "USD", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "mismatch");
    assert_int_equal(cx_transfers(), n);
    assert_string_equal(cx_withdrawal(w.id).status, "paid");
    assert_int_equal(cx_balance(0).cash, 6000);
    /* the sandbox's signed payout.returned: the money back */
    assert_int_equal(pb_psp_sandbox_payout_returned(C.psp, C.f->conn, w.psp_reference, &r), PB_OK);
    assert_string_equal(r.outcome, "applied");
    assert_string_equal(r.event.type_name, "payout.returned");
    out = cx_withdrawal(w.id);
    assert_string_equal(out.status, "returned");
    b = cx_balance(0);
    assert_int_equal(b.cash, 10000);
    assert_int_equal(b.held, 1500);
    assert_int_equal(cx_transfers(), n + 1);
    pb_ledger_record post, back;
    assert_int_equal(wd_transfer(w.id, "post", &post), PB_OK);
    assert_int_equal(wd_transfer(w.id, "return", &back), PB_OK);
    assert_int_equal(back.debit_account_id, post.credit_account_id); /* the PSP clearing */
    assert_int_equal(back.credit_account_id, post.debit_account_id); /* the player's cash */
    assert_int_equal(back.amount, 4000);
    assert_int_equal(back.flags, 0);
    assert_int_equal(audits("withdrawal.returned", w.id), 1);
    /* the event says when it was paid (a live dashboard takes it out of that minute) */
    char got[40], want[40];
    assert_true(pb_time_format(paid_at, want, sizeof want) > 0);
    event_field("withdrawal.returned", w.id, "paid_at", got, sizeof got);
    assert_string_equal(got, want);
    event_field("withdrawal.returned", w.id, "amount", got, sizeof got);
    assert_string_equal(got, "40.00");
    /* the same event again: duplicate; another return event: ignored; nothing moves */
    n = cx_transfers();
    char eid[sizeof r.event.event_id];
    snprintf(eid, sizeof eid, "%s", r.event.event_id);
    assert_int_equal(cx_event(eid, "payout.returned", w.psp_reference, 4000, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "duplicate");
    assert_int_equal(cx_event(NULL, "payout.returned", w.psp_reference, 4000, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "ignored");
    assert_int_equal(cx_event(NULL, "payout.paid", w.psp_reference, 4000, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "ignored");
    assert_int_equal(cx_transfers(), n);
    assert_int_equal(cx_balance(0).cash, 10000);
    assert_string_equal(cx_withdrawal(w.id).status, "returned");
    assert_int_equal(audits("withdrawal.returned", w.id), 1);
    /* a final state: nothing else applies to it */
    pb_cashier_actor fin = cx_staff("fin-2");
    pb_psp_payout_state st;
    assert_int_equal(pb_cashier_withdrawal_resolve(C.k, C.f->conn, w.id, "x", &fin, &out, &st),
                     PB_ERR_WITHDRAWAL_STATE);
    /* an unknown reference: not found, nothing recorded */
    assert_int_equal(pb_psp_sandbox_payout_returned(C.psp, C.f->conn, "sbxo_nope", &r),
                     PB_ERR_WITHDRAWAL_NOT_FOUND);
    /* q's deferred return: a staff resolve (the PSP says paid) posts the hold and
     * applies the return in the same step: "returned", the money back once */
    n = cx_transfers();
    assert_int_equal(pb_cashier_withdrawal_resolve(C.k, C.f->conn, q.id, "x", &fin, &out, &st),
                     PB_OK);
    assert_string_equal(out.status, "returned");
    assert_string_equal(cx_withdrawal(q.id).status, "returned");
    assert_int_equal(cx_transfers(), n + 2); /* post, return */
    b = cx_balance(0);
    assert_int_equal(b.cash, 10000);
    assert_int_equal(b.held, 0);
    assert_int_equal(audits("withdrawal.returned", q.id), 1);
    assert_int_equal(cx_event(NULL, "payout.paid", q.psp_reference, 1500, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "ignored");
    assert_int_equal(cx_transfers(), n + 2);
}

/* The sandbox refuses the first payout of an amount ending in 17, as a PSP that is
 * down would: the withdrawal stays "approved", its money held, and the cashier's
 * payout retry sends it again (here every 100 ms) until the PSP takes it. A
 * withdrawal approved meanwhile is sent once, by its approval. */
static void test_refused_payout_is_sent_again(void **state)
{
    (void)state;
    pb_cashier_close(C.k);
    char err[256];
    pb_cashier_config cfg = {.keys_dir = C.f->dir, .sandbox = true, .payout_retry_ms = 100};
    C.k = pb_cashier_open(C.w, C.f->store, &cfg, err, sizeof err);
    assert_non_null(C.k);
    cx_fund(0, 10000, 0);
    pb_store_withdrawal w, out, plain;
    pb_cashier_actor fin = cx_staff("fin-1");
    assert_int_equal(cx_withdraw(0, 1017, NULL, &w), PB_OK);
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin, &out), PB_OK);
    assert_string_equal(out.status, "approved"); /* the PSP did not take it */
    assert_string_equal(out.psp_reference, "");
    char got[64];
    event_field("withdrawal.payout_sent", w.id, "status", got, sizeof got);
    assert_string_equal(got, ""); /* not sent: nothing announced */
    assert_int_equal(cx_balance(0).held, 1017);
    assert_int_equal(cx_withdraw(0, 2000, NULL, &plain), PB_OK);
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, plain.id, &fin, &out), PB_OK);
    assert_string_equal(out.status, "processing");
    char plain_ref[sizeof out.psp_reference];
    snprintf(plain_ref, sizeof plain_ref, "%s", out.psp_reference);
    /* the retry thread records the payout, then counts it: wait for both */
    pb_store_withdrawal now = cx_withdrawal(w.id);
    pb_cashier_stats st;
    pb_cashier_stats_get(C.k, &st);
    for (int i = 0; i < 1000 && (strcmp(now.status, "approved") == 0 || st.payouts_resent == 0);
         i++) {
        usleep(10000);
        now = cx_withdrawal(w.id);
        pb_cashier_stats_get(C.k, &st);
    }
    assert_string_equal(now.status, "processing"); /* sent again, and taken */
    assert_int_equal(strncmp(now.psp_reference, "sbxo_", 5), 0);
    assert_int_equal(st.payouts_refused, 1);
    assert_int_equal(st.payouts_resent, 1);
    usleep(300000); /* three more passes: nothing is sent again, nothing waits */
    pb_cashier_stats_get(C.k, &st);
    assert_int_equal(st.payouts_resent, 1);
    assert_int_equal(st.payouts_waiting, 0);
    assert_string_equal(cx_withdrawal(w.id).psp_reference, now.psp_reference);
    assert_string_equal(cx_withdrawal(plain.id).psp_reference, plain_ref);
    /* each payout sent is announced once, "processing", with its withdrawal's
     * amount: by the approval that sent it, and by the retry's send */
    const char *ids[2] = {plain.id, w.id}, *amounts[2] = {"20.00", "10.17"};
    for (int i = 0; i < 2; i++) {
        event_field("withdrawal.payout_sent", ids[i], "status", got, sizeof got);
        assert_string_equal(got, "processing");
        event_field("withdrawal.payout_sent", ids[i], "amount", got, sizeof got);
        assert_string_equal(got, amounts[i]);
        /* with the PSP's reference, which its webhooks name the payout by */
        event_field("withdrawal.payout_sent", ids[i], "psp_reference", got, sizeof got);
        assert_string_equal(got, cx_withdrawal(ids[i]).psp_reference);
        assert_int_equal(strncmp(got, "sbxo_", 5), 0);
    }
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event(NULL, "payout.paid", now.psp_reference, 1017, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "applied");
    pb_wallet_balance b = cx_balance(0);
    assert_int_equal(b.cash, 10000 - 1017);
    assert_int_equal(b.held, 2000);
}

/* The threshold is per currency: another currency's number is not this one's (100000
 * minor units are 1,000.00 EUR but 100,000 JPY), and a currency with none of its own
 * needs two approvals (fail-safe). */
static void test_four_eyes_per_currency(void **state)
{
    (void)state;
    cx_fund(0, 10000, 0);
    pb_store_withdrawal w;
    cx_settings("{\"withdrawal_4eyes_thresholds\":{\"JPY\":100000}}");
    assert_int_equal(cx_withdraw(0, 1, NULL, &w), PB_OK);
    assert_int_equal(w.approvals_required, 2); /* no EUR threshold: two approvals */
    cx_settings("{\"withdrawal_4eyes_thresholds\":{\"EUR\":3000,\"JPY\":100}}");
    assert_int_equal(cx_withdraw(0, 2999, NULL, &w), PB_OK);
    assert_int_equal(w.approvals_required, 1); /* EUR's own, not JPY's 100 */
    assert_int_equal(cx_withdraw(0, 3000, NULL, &w), PB_OK);
    assert_int_equal(w.approvals_required, 2);
    cx_settings("{}");
    assert_int_equal(cx_withdraw(0, 1, NULL, &w), PB_OK);
    assert_int_equal(w.approvals_required, 2); /* none at all: two approvals */
}

static void test_four_eyes(void **state)
{
    (void)state;
    cx_settings("{\"withdrawal_4eyes_thresholds\":{\"EUR\":3000}}");
    cx_fund(0, 10000, 0);
    pb_store_withdrawal below, at, out;
    pb_cashier_actor fin1 = cx_staff("fin-1"), fin2 = cx_staff("fin-2");
    assert_int_equal(cx_withdraw(0, 2999, NULL, &below), PB_OK);
    assert_int_equal(below.approvals_required, 1);
    assert_int_equal(cx_withdraw(0, 3000, NULL, &at), PB_OK);
    assert_int_equal(at.approvals_required, 2);
    /* the threshold is fixed at the request: lowering it later changes nothing */
    cx_settings("{\"withdrawal_4eyes_thresholds\":{\"EUR\":100000}}");
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, at.id, &fin1, &out), PB_OK);
    assert_string_equal(out.status, "pending_approval");
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, at.id, &fin1, &out),
                     PB_ERR_FOUR_EYES_VIOLATION);
    assert_string_equal(cx_withdrawal(at.id).status, "pending_approval");
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, at.id, &fin2, &out), PB_OK);
    assert_string_equal(out.status, "processing");
    pb_store_withdrawal_approval ap[PB_CASHIER_MAX_APPROVALS];
    size_t n = 0;
    assert_int_equal(pb_cashier_withdrawal_approvals(C.f->conn, at.id, ap, &n), PB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ap[0].staff_id, "fin-1");
    assert_string_equal(ap[1].staff_id, "fin-2");
    /* the payout fails: the money is back */
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event(NULL, "payout.failed", cx_withdrawal(at.id).psp_reference, 3000,
                              "EUR", 0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "applied");
    assert_string_equal(cx_withdrawal(at.id).status, "failed");
    assert_int_equal(cx_balance(0).held, 2999);
    assert_int_equal(cx_balance(0).cash, 10000);
    pb_ledger_record v;
    assert_int_equal(wd_transfer(at.id, "void", &v), PB_OK);
    assert_int_equal(cx_event(NULL, "payout.paid", cx_withdrawal(at.id).psp_reference, 3000, "EUR",
                              0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "ignored");
    assert_int_equal(cx_balance(0).cash, 10000);
    /* below the threshold one approval is enough */
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, below.id, &fin1, &out), PB_OK);
    assert_string_equal(out.status, "processing");
}

static void test_staff_requested(void **state)
{
    (void)state;
    cx_fund(1, 5000, 0);
    pb_cashier_actor agent = cx_staff("fin-agent"), fin = cx_staff("fin-1");
    pb_store_withdrawal w, out;
    assert_int_equal(cx_withdraw(1, 1000, &agent, &w), PB_OK);
    assert_string_equal(w.requested_by, "staff:fin-agent");
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &agent, &out),
                     PB_ERR_FOUR_EYES_VIOLATION);
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin, &out), PB_OK);
    assert_string_equal(out.status, "processing");
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event(NULL, "payout.paid", out.psp_reference, 1000, "EUR", 0, &r), PB_OK);
    assert_int_equal(cx_balance(1).cash, 4000);
    /* lookups by scope and player */
    pb_brand_scope none = {.all = false, .n = 0};
    pb_store_withdrawal got;
    assert_int_equal(pb_cashier_withdrawal_get(C.f->conn, &none, NULL, w.id, &got),
                     PB_ERR_WITHDRAWAL_NOT_FOUND);
    assert_int_equal(pb_cashier_withdrawal_get(C.f->conn, NULL, C.players[0], w.id, &got),
                     PB_ERR_WITHDRAWAL_NOT_FOUND);
    assert_int_equal(pb_cashier_withdrawal_get(C.f->conn, NULL, C.players[1], w.id, &got), PB_OK);
    char buf[64];
    assert_null(pb_cashier_scope_json(NULL, buf, sizeof buf));
    pb_brand_scope two = {.n = 2, .brand_ids = {3, 14}};
    assert_string_equal(pb_cashier_scope_json(&two, buf, sizeof buf), "[3,14]");
}

/* The cashier again, with the payout retry's thread off (the tests run its passes). */
static void reopen_without_retry(void)
{
    pb_cashier_close(C.k);
    char err[256];
    pb_cashier_config cfg = {.keys_dir = C.f->dir, .sandbox = true, .payout_retry_ms = -1};
    C.k = pb_cashier_open(C.w, C.f->store, &cfg, err, sizeof err);
    assert_non_null(C.k);
    C.psp = pb_cashier_psp(C.k, "sandbox");
    assert_non_null(C.psp);
}

/* A withdrawal of amount for player i, approved by fin-1; its status after. */
static pb_store_withdrawal approved(int i, int64_t amount)
{
    pb_store_withdrawal w, out;
    pb_cashier_actor fin = cx_staff("fin-1");
    assert_int_equal(cx_withdraw(i, amount, NULL, &w), PB_OK);
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin, &out), PB_OK);
    return out;
}

/* A paid payout returned after its player was closed (erased: the erasure waits
 * for open withdrawals, not for a paid one the bank may still send back): the
 * money goes to the brand's unclaimed funds, as a closed player's late deposit
 * and game wins do, never to the closed account; "returned", recorded as
 * funds.unclaimed (audit and event, kind "payout_returned"), once. */
static void test_payout_returned_closed_player(void **state)
{
    (void)state;
    cx_fund(0, 5000, 0);
    pb_store_withdrawal w = approved(0, 5000);
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event(NULL, "payout.paid", w.psp_reference, 5000, "EUR", 0, &r), PB_OK);
    assert_string_equal(cx_withdrawal(w.id).status, "paid");
    cx_status(0, "closed");
    char eid[64];
    snprintf(eid, sizeof eid, "evt_closed_return");
    for (int i = 0; i < 2; i++) { /* a second delivery: duplicate, nothing more */
        assert_int_equal(cx_event(eid, "payout.returned", w.psp_reference, 5000, "EUR", 0, &r),
                         PB_OK);
        assert_string_equal(r.outcome, i ? "duplicate" : "applied");
    }
    assert_string_equal(cx_withdrawal(w.id).status, "returned");
    pb_wallet_balance b = cx_balance(0);
    assert_int_equal(b.cash, 0);
    assert_int_equal(b.held, 0);
    pb_ledger_account u;
    assert_int_equal(pb_ledger_account_find(C.f->conn, "alpha", PB_WALLET_OWNER_HOUSE,
                                            PB_WALLET_KIND_UNCLAIMED, "EUR", &u),
                     PB_OK);
    assert_int_equal(u.credits_posted - u.debits_posted, 5000);
    assert_int_equal(audits("withdrawal.returned", w.id), 1);
    assert_int_equal(audits("funds.unclaimed", C.players[0]), 1);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(((sq_conn *)C.f->conn)->db,
                                        "SELECT json_extract(payload,'$.kind')||'|'||"
                                        "json_extract(payload,'$.withdrawal_id')||'|'||"
                                        "json_extract(payload,'$.amount') FROM event_outbox "
                                        "WHERE type='funds.unclaimed' AND subject=?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, C.players[0], -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char want[128];
    snprintf(want, sizeof want, "payout_returned|%s|50.00", w.id);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

/* How many lines of the file at path hold needle. */
static int lines_with(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, fp))
        n += strstr(line, needle) != NULL;
    fclose(fp);
    return n;
}

/* A payout held back at every pass because its player was blocked (then closed:
 * the same answer) since the approval is logged (WARN) once, not at every pass;
 * still "approved" and held, and sent by the first pass after the block is lifted. */
static void test_held_back_logged_once(void **state)
{
    (void)state;
    reopen_without_retry();
    cx_fund(0, 100000, 0);
    payout_seen seen = {0};
    pb_store_withdrawal a = approved(0, 1017); /* "17": the PSP refuses its first attempt */
    assert_string_equal(a.status, "approved");
    cx_status(0, "blocked");
    char logpath[400], needle[128];
    snprintf(logpath, sizeof logpath, "%s/held.log", C.f->dir);
    snprintf(needle, sizeof needle, "withdrawal=%s payout held back", a.id);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    /* no assertion while stderr is redirected: a failure would leave it so */
    size_t sent = 0;
    for (int i = 0; i < 5; i++)
        sent += pb_cashier_retry_payouts(C.k, C.f->conn, &seen);
    fflush(stderr);
    int blocked_lines = lines_with(logpath, needle);
    cx_status(0, "closed");
    for (int i = 0; i < 3; i++)
        sent += pb_cashier_retry_payouts(C.k, C.f->conn, &seen);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(sent, 0);
    assert_int_equal(blocked_lines, 1);                          /* 5 passes, one line */
    assert_int_equal(lines_with(logpath, needle), 1);            /* closed: PLAYER_BLOCKED still */
    assert_string_equal(cx_withdrawal(a.id).status, "approved"); /* still held */
    assert_int_equal(cx_balance(0).held, 1017);
    cx_status(0, "active");
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 1);
    assert_string_equal(cx_withdrawal(a.id).status, "processing");
    free(seen.seq);
}

/* A payout the PSP refused is sent again at the second pass that finds it approved,
 * not the first: an approval still sending its payout is at most at one pass. */
static void test_retry_waits_for_two_passes(void **state)
{
    (void)state;
    reopen_without_retry();
    cx_fund(0, 100000, 0);
    payout_seen seen = {0};
    pb_store_withdrawal a = approved(0, 1017); /* "17": the PSP refuses its first attempt */
    assert_string_equal(a.status, "approved");
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 0); /* first sight */
    assert_string_equal(cx_withdrawal(a.id).status, "approved");
    assert_int_equal(seen.n, 1);
    pb_store_withdrawal b = approved(0, 2017); /* approved between two passes */
    assert_string_equal(b.status, "approved");
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 1);
    assert_string_equal(cx_withdrawal(a.id).status, "processing");
    assert_string_equal(cx_withdrawal(b.id).status, "approved"); /* seen once so far */
    pb_cashier_stats st;
    pb_cashier_stats_get(C.k, &st);
    assert_int_equal(st.payouts_resent, 1);
    assert_int_equal(st.payouts_waiting, 1);
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 1);
    assert_string_equal(cx_withdrawal(b.id).status, "processing");
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 0); /* nothing left */
    pb_cashier_stats_get(C.k, &st);
    assert_int_equal(st.payouts_refused, 2);
    assert_int_equal(st.payouts_resent, 2);
    assert_int_equal(st.payouts_waiting, 0);
    assert_int_equal(cx_balance(0).held, 1017 + 2017);
    free(seen.seq);
}

/* More approved withdrawals than one page of the pass (64): every one is found and
 * sent; none twice. */
static void test_retry_reads_every_page(void **state)
{
    (void)state;
    reopen_without_retry();
    enum { N = 150 };
    cx_fund(0, 1000000, 0);
    cx_fund(1, 1000000, 0);
    char ids[N][PB_ID_STR_LEN + 1];
    for (int i = 0; i < N; i++) {
        pb_store_withdrawal w = approved(i % 2, 100 * (i + 1) + 17);
        assert_string_equal(w.status, "approved");
        snprintf(ids[i], sizeof ids[i], "%s", w.id);
    }
    payout_seen seen = {0};
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 0);
    assert_int_equal(seen.n, N);
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), N);
    assert_int_equal(seen.n, 0);
    for (int i = 0; i < N; i++)
        assert_string_equal(cx_withdrawal(ids[i]).status, "processing");
    pb_cashier_stats st;
    pb_cashier_stats_get(C.k, &st);
    assert_int_equal(st.payouts_refused, N);
    assert_int_equal(st.payouts_resent, N);
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 0);
    free(seen.seq);
}

/* A PSP that refuses PB_CASHIER_PASS_REFUSALS payouts in a row gets no more in that
 * pass: the rest stay approved and go at a later pass. The sandbox refuses the first
 * attempt of a "17" withdrawal in each process, so after a restart the start-up pass
 * meets a refusal at each one. */
static void test_pass_stops_at_a_refusing_psp(void **state)
{
    (void)state;
    enum { N = PB_CASHIER_PASS_REFUSALS + 3 };
    reopen_without_retry();
    cx_fund(0, 1000000, 0);
    char ids[N][PB_ID_STR_LEN + 1];
    for (int i = 0; i < N; i++) {
        pb_store_withdrawal w = approved(0, 1000 + 100 * i + 17);
        assert_string_equal(w.status, "approved");
        snprintf(ids[i], sizeof ids[i], "%s", w.id);
    }
    reopen_without_retry(); /* the start-up pass: a first attempt for each, refused */
    pb_cashier_stats st;
    pb_cashier_stats_get(C.k, &st);
    assert_int_equal(st.payouts_refused, PB_CASHIER_PASS_REFUSALS); /* not N */
    payout_seen seen = {0};
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 0);
    assert_int_equal(seen.n, N);
    /* the second pass: the refused ones are taken now, the 3 held back refused once */
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), PB_CASHIER_PASS_REFUSALS);
    assert_int_equal(seen.n, 3);
    for (int i = 0; i < N; i++) /* newest first: the 3 oldest were held back */
        assert_string_equal(cx_withdrawal(ids[i]).status, i < 3 ? "approved" : "processing");
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 3);
    for (int i = 0; i < N; i++)
        assert_string_equal(cx_withdrawal(ids[i]).status, "processing");
    pb_cashier_stats_get(C.k, &st);
    assert_int_equal(st.payouts_refused, PB_CASHIER_PASS_REFUSALS + 3);
    assert_int_equal(st.payouts_resent, N);
    free(seen.seq);
}

/* ---- one payout, one send ---- */

/* A PSP for the overlap test, put in the sandbox's place: it takes every payout it
 * is sent and mints a new reference at each call (as a PSP that does not key
 * payouts by withdrawal would: each call pays), and its first call waits until
 * the test lets it go, so the approval's send is still under way while the test
 * runs the retry's passes. */
static struct {
    sem_t entered, go;
    atomic_int calls; /* payouts minted */
} slow;

static pb_err slow_payout_send(pb_psp *psp, const pb_store_withdrawal *w,
                               char ref[PB_STORE_CASHIER_REF_MAX + 1])
{
    (void)psp;
    int n = atomic_fetch_add(&slow.calls, 1) + 1;
    if (n == 1) {
        sem_post(&slow.entered);
        sem_wait(&slow.go);
    }
    snprintf(ref, PB_STORE_CASHIER_REF_MAX + 1, "slow_%d_%s", n, w->id);
    return PB_OK;
}

typedef struct approval_run {
    const char *id;
    pb_err e;
    pb_store_withdrawal out;
} approval_run;

static void *approve_main(void *arg)
{
    approval_run *r = arg;
    pb_cashier_actor fin = cx_staff("fin-1");
    r->e = pb_cashier_withdrawal_approve(C.k, r->id, &fin, &r->out);
    return NULL;
}

/* The approval's send of a payout takes longer than the retry's two passes (a
 * slow PSP or disk): the passes find the withdrawal "approved" twice, but it is
 * being sent, so they leave it alone and do not count it in payouts_waiting. The
 * PSP is called once; the withdrawal is "processing" with that call's reference,
 * which the approval answers. */
static void test_payout_sent_once_while_slow(void **state)
{
    (void)state;
    reopen_without_retry();
    assert_int_equal(sem_init(&slow.entered, 0, 0), 0);
    assert_int_equal(sem_init(&slow.go, 0, 0), 0);
    atomic_store(&slow.calls, 0);
    C.psp->payout_send = slow_payout_send;
    cx_fund(0, 10000, 0);
    pb_store_withdrawal w;
    assert_int_equal(cx_withdraw(0, 4000, NULL, &w), PB_OK);
    approval_run run = {.id = w.id};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, approve_main, &run), 0);
    sem_wait(&slow.entered); /* committed "approved", and its payout is at the PSP */
    assert_string_equal(cx_withdrawal(w.id).status, "approved");
    payout_seen seen = {0};
    pb_cashier_stats st;
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 0); /* first sight */
    /* being sent by its approval: approved, but not waiting on the retry */
    pb_cashier_stats_get(C.k, &st);
    assert_int_equal(st.payouts_waiting, 0);
    assert_int_equal(seen.n, 1); /* remembered all the same: a refused send goes next pass */
    size_t second = pb_cashier_retry_payouts(C.k, C.f->conn, &seen); /* would resend it */
    pb_cashier_stats_get(C.k, &st);
    assert_int_equal(st.payouts_waiting, 0); /* skipped (claimed): not counted either */
    assert_int_equal(st.payouts_refused, 0);
    sem_post(&slow.go);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(atomic_load(&slow.calls), 1); /* one payout minted at the PSP */
    assert_int_equal(second, 0);
    char want[PB_STORE_CASHIER_REF_MAX + 1];
    snprintf(want, sizeof want, "slow_1_%s", w.id);
    assert_int_equal(run.e, PB_OK);
    assert_string_equal(run.out.status, "processing");
    assert_string_equal(run.out.psp_reference, want);
    pb_store_withdrawal now = cx_withdrawal(w.id);
    assert_string_equal(now.status, "processing");
    assert_string_equal(now.psp_reference, want);
    /* nothing is left for a later pass */
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 0);
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 0);
    assert_int_equal(atomic_load(&slow.calls), 1);
    assert_int_equal(cx_balance(0).held, 4000);
    free(seen.seq);
    sem_destroy(&slow.entered);
    sem_destroy(&slow.go);
}

/* A payout sent again after another send recorded it (another process's send that
 * reached the PSP first): the PSP answers the same reference, which is success,
 * with the stored row and nothing written. Since the send's approval re-check
 * (recheck_command), a sender that finds the row "processing" already stops before
 * the PSP (WITHDRAWAL_STATE); the other process's record lands here while this
 * sender is at the PSP, after its re-check. */
static struct {
    pb_store_withdrawal done; /* the row as the other process recorded it */
    pb_err (*inner)(pb_psp *, const pb_store_withdrawal *, char *);
} late;

static pb_err late_payout_send(pb_psp *psp, const pb_store_withdrawal *w,
                               char ref[PB_STORE_CASHIER_REF_MAX + 1])
{
    pb_err e = late.inner(psp, w, ref);
    assert_int_equal(pb_store_begin(C.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_withdrawal_update(C.f->conn, &late.done), PB_STORE_OK);
    assert_int_equal(pb_store_commit(C.f->conn), PB_STORE_OK);
    return e;
}

static void test_payout_recorded_already(void **state)
{
    (void)state;
    reopen_without_retry();
    cx_fund(0, 10000, 0);
    pb_store_withdrawal w = approved(0, 3000);
    assert_string_equal(w.status, "processing");
    pb_store_audit_head head, after;
    /* as it stood before the other send recorded it */
    pb_store_withdrawal again = w;
    snprintf(again.status, sizeof again.status, "approved");
    again.psp_reference[0] = '\0';
    /* a sender that finds it recorded does not call the PSP */
    assert_int_equal(pb_store_audit_head_get(C.f->conn, &head), PB_STORE_OK);
    pb_store_withdrawal stale = again;
    assert_int_equal(pb_cashier_payout_send(C.k, &stale), PB_ERR_WITHDRAWAL_STATE);
    /* one that passed its re-check while it was approved (the row as it was then) */
    assert_int_equal(pb_store_withdrawal_update(C.f->conn, &again), PB_STORE_OK);
    late.done = w;
    late.inner = C.psp->payout_send;
    C.psp->payout_send = late_payout_send;
    assert_int_equal(pb_cashier_payout_send(C.k, &again), PB_OK);
    C.psp->payout_send = late.inner;
    assert_string_equal(again.status, "processing");
    assert_string_equal(again.psp_reference, w.psp_reference);
    assert_int_equal(pb_store_audit_head_get(C.f->conn, &after), PB_STORE_OK);
    assert_int_equal(after.seq, head.seq); /* no second withdrawal.payout_sent */
    char got[64];
    event_field("withdrawal.payout_sent", w.id, "status", got, sizeof got); /* one, asserted */
    assert_string_equal(got, "processing");
    assert_string_equal(cx_withdrawal(w.id).psp_reference, w.psp_reference);
}

/* The sandbox keys a payout by its withdrawal: the same withdrawal sent again
 * (by this sandbox, or by another one after a restart) gets the same reference,
 * "sbxo_<withdrawal id>", and another withdrawal another one. The "17" knob still
 * refuses the first attempt only. */
static void test_sandbox_payout_keyed_by_withdrawal(void **state)
{
    (void)state;
    pb_store_withdrawal w = {.amount = 500}, v = {.amount = 500}, k17 = {.amount = 1017};
    snprintf(w.id, sizeof w.id, "0190aaaa-0000-7000-8000-000000000001");
    snprintf(v.id, sizeof v.id, "0190aaaa-0000-7000-8000-000000000002");
    snprintf(k17.id, sizeof k17.id, "0190aaaa-0000-7000-8000-000000000003");
    char r1[PB_STORE_CASHIER_REF_MAX + 1], r2[PB_STORE_CASHIER_REF_MAX + 1];
    char r3[PB_STORE_CASHIER_REF_MAX + 1];
    assert_int_equal(C.psp->payout_send(C.psp, &w, r1), PB_OK);
    assert_int_equal(C.psp->payout_send(C.psp, &w, r2), PB_OK);
    assert_string_equal(r1, r2);
    assert_string_equal(r1, "sbxo_0190aaaa-0000-7000-8000-000000000001");
    assert_int_equal(C.psp->payout_send(C.psp, &v, r3), PB_OK);
    assert_string_not_equal(r1, r3);
    /* another sandbox (a restart) gives the same withdrawal the same reference */
    char err[256];
    pb_psp_sandbox_config sc = {.keys_dir = C.f->dir};
    pb_psp *other = pb_psp_sandbox_new(&sc, err, sizeof err);
    assert_non_null(other);
    assert_int_equal(other->payout_send(other, &w, r2), PB_OK);
    assert_string_equal(r1, r2);
    other->free(other);
    /* "17": the first attempt refused, the next one taken under the withdrawal's reference */
    assert_int_equal(C.psp->payout_send(C.psp, &k17, r3), PB_ERR_PSP_UNAVAILABLE);
    assert_int_equal(C.psp->payout_send(C.psp, &k17, r3), PB_OK);
    assert_string_equal(r3, "sbxo_0190aaaa-0000-7000-8000-000000000003");
}

/* ---- resolving a stuck payout ---- */

/* The cashier with the sandbox's stuck-payout knobs on and the retry off. */
static void reopen_stuck(void)
{
    pb_cashier_close(C.k);
    char err[256];
    pb_cashier_config cfg = {
        .keys_dir = C.f->dir, .sandbox = true, .payout_retry_ms = -1, .sandbox_stuck_knobs = true};
    C.k = pb_cashier_open(C.w, C.f->store, &cfg, err, sizeof err);
    assert_non_null(C.k);
    C.psp = pb_cashier_psp(C.k, "sandbox");
}

static pb_err resolve(const char *id, pb_store_withdrawal *out, pb_psp_payout_state *st)
{
    pb_cashier_actor fin = cx_staff("fin-2");
    return pb_cashier_withdrawal_resolve(C.k, C.f->conn, id, "stuck", &fin, out, st);
}

/* A payout the sandbox never took is closed by the status query: resolved
 * "failed" with the money back, and no later send (the retry, a restart's) is
 * taken — the sandbox's records outlive the process. */
static void test_resolve_closes_the_payout(void **state)
{
    (void)state;
    reopen_stuck();
    cx_fund(0, 10000, 0);
    pb_store_withdrawal w = approved(0, 1019), out;
    assert_string_equal(w.status, "approved");
    pb_psp_payout_state st;
    assert_int_equal(resolve(w.id, &out, &st), PB_OK);
    assert_int_equal(st, PB_PSP_PAYOUT_IS_NOT_TAKEN);
    assert_string_equal(out.status, "failed");
    assert_string_equal(out.reason, "stuck");
    pb_ledger_record v;
    assert_int_equal(wd_transfer(w.id, "void", &v), PB_OK);
    assert_int_equal(cx_balance(0).held, 0);
    /* the PSP said it will never pay it: a send (even without the knob) is refused */
    pb_store_withdrawal again = out;
    again.amount = 1000;
    char ref[PB_STORE_CASHIER_REF_MAX + 1];
    assert_int_equal(C.psp->payout_send(C.psp, &again, ref), PB_ERR_PSP_UNAVAILABLE);
    reopen_stuck(); /* a restart: the records are read again */
    assert_int_equal(C.psp->payout_send(C.psp, &again, ref), PB_ERR_PSP_UNAVAILABLE);
    pb_psp_payout_status ps;
    C.psp->payout_status(C.psp, &again, &ps);
    assert_int_equal(ps.state, PB_PSP_PAYOUT_IS_NOT_TAKEN);
    /* a payout it took is still "paid" after the restart */
    pb_store_withdrawal paid = approved(0, 2000);
    assert_string_equal(paid.status, "processing");
    reopen_stuck();
    C.psp->payout_status(C.psp, &paid, &ps);
    assert_int_equal(ps.state, PB_PSP_PAYOUT_IS_PAID);
    assert_string_equal(ps.reference, paid.psp_reference);
    assert_int_equal(ps.amount, 2000);
}

/* A "processing" withdrawal whose webhook never came: resolved "paid" (hold
 * posted), and the webhook when it comes changes nothing. The other way round,
 * the webhook first: the resolve is WITHDRAWAL_STATE, nothing written twice. */
static void test_resolve_and_the_webhook(void **state)
{
    (void)state;
    reopen_stuck();
    cx_fund(0, 10000, 0);
    pb_store_withdrawal a = approved(0, 1000), b = approved(0, 1113), out;
    assert_string_equal(a.status, "processing");
    pb_psp_payout_state st;
    assert_int_equal(resolve(a.id, &out, &st), PB_OK);
    assert_int_equal(st, PB_PSP_PAYOUT_IS_PAID);
    assert_string_equal(out.status, "paid");
    int64_t n = cx_transfers();
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event(NULL, "payout.paid", a.psp_reference, 1000, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "ignored");
    assert_int_equal(cx_transfers(), n);
    /* b (13: the payout fails): the webhook first, then the resolve */
    assert_int_equal(cx_event(NULL, "payout.failed", b.psp_reference, 1113, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "applied");
    n = cx_transfers();
    assert_int_equal(resolve(b.id, &out, &st), PB_ERR_WITHDRAWAL_STATE);
    assert_int_equal(cx_transfers(), n);
    assert_string_equal(cx_withdrawal(b.id).status, "failed");
    pb_wallet_balance bal = cx_balance(0);
    assert_int_equal(bal.cash, 9000);
    assert_int_equal(bal.held, 0);
    /* pending and unknown: refused, nothing written */
    pb_store_withdrawal p = approved(0, 1029), u = approved(0, 1031);
    n = cx_transfers();
    assert_int_equal(resolve(p.id, &out, &st), PB_ERR_PAYOUT_PENDING);
    assert_int_equal(st, PB_PSP_PAYOUT_IS_PENDING);
    assert_int_equal(resolve(u.id, &out, &st), PB_ERR_PAYOUT_STATUS_UNKNOWN);
    assert_int_equal(cx_transfers(), n);
    assert_string_equal(cx_withdrawal(p.id).status, "approved");
    assert_string_equal(cx_withdrawal(u.id).status, "approved");
}

typedef struct resolve_run {
    const char *id;
    pb_err e;
} resolve_run;

/* While an approval's send holds the withdrawal's claim (the slow PSP), a resolve
 * is WITHDRAWAL_BUSY with nothing done: the PSP is not asked, the send is not
 * raced. */
static void test_resolve_waits_for_the_send(void **state)
{
    (void)state;
    reopen_without_retry();
    assert_int_equal(sem_init(&slow.entered, 0, 0), 0);
    assert_int_equal(sem_init(&slow.go, 0, 0), 0);
    atomic_store(&slow.calls, 0);
    C.psp->payout_send = slow_payout_send;
    cx_fund(0, 10000, 0);
    pb_store_withdrawal w, out;
    assert_int_equal(cx_withdraw(0, 4000, NULL, &w), PB_OK);
    approval_run run = {.id = w.id};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, approve_main, &run), 0);
    sem_wait(&slow.entered); /* "approved", its payout at the PSP, the claim held */
    int64_t n = cx_transfers();
    pb_psp_payout_state st;
    assert_int_equal(resolve(w.id, &out, &st), PB_ERR_WITHDRAWAL_BUSY);
    assert_int_equal(cx_transfers(), n);
    sem_post(&slow.go);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_string_equal(run.out.status, "processing");
    assert_int_equal(cx_balance(0).held, 4000);
    sem_destroy(&slow.entered);
    sem_destroy(&slow.go);
}

/* ---- the player gate at approval ---- */

/* A player blocked after asking for a withdrawal: no approval is given (the first
 * of two, or the last), nothing is written, and the withdrawal waits for finance to
 * reject it, which gives the money back. A self-excluded player's withdrawal is
 * approved: they may take their money out. */
static void test_approval_rechecks_the_player(void **state)
{
    (void)state;
    cx_settings("{\"withdrawal_4eyes_thresholds\":{\"EUR\":3000}}");
    cx_fund(0, 10000, 0);
    pb_store_withdrawal one, two, out;
    pb_cashier_actor fin1 = cx_staff("fin-1"), fin2 = cx_staff("fin-2");
    assert_int_equal(cx_withdraw(0, 1000, NULL, &one), PB_OK);
    assert_int_equal(cx_withdraw(0, 5000, NULL, &two), PB_OK);
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, two.id, &fin1, &out), PB_OK);
    assert_string_equal(out.status, "pending_approval");
    cx_status(0, "blocked");
    int64_t n = cx_transfers();
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, one.id, &fin1, &out),
                     PB_ERR_PLAYER_BLOCKED);
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, two.id, &fin2, &out),
                     PB_ERR_PLAYER_BLOCKED);
    assert_string_equal(cx_withdrawal(one.id).status, "pending_approval");
    assert_string_equal(cx_withdrawal(two.id).status, "pending_approval");
    pb_store_withdrawal_approval ap[PB_CASHIER_MAX_APPROVALS];
    size_t na = 9;
    assert_int_equal(pb_cashier_withdrawal_approvals(C.f->conn, one.id, ap, &na), PB_OK);
    assert_int_equal(na, 0);
    assert_int_equal(pb_cashier_withdrawal_approvals(C.f->conn, two.id, ap, &na), PB_OK);
    assert_int_equal(na, 1);
    assert_int_equal(cx_transfers(), n);
    assert_int_equal(cx_balance(0).held, 6000);
    /* finance rejects: the money is back */
    assert_int_equal(pb_cashier_withdrawal_reject(C.k, two.id, "fraud block", &fin2, &out), PB_OK);
    assert_string_equal(out.status, "rejected");
    assert_int_equal(cx_balance(0).held, 1000);
    /* self-excluded: may still take their money out */
    cx_status(0, "self_excluded");
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, one.id, &fin1, &out), PB_OK);
    assert_string_equal(out.status, "processing");
}

/* The payment and withdrawal lists' statements, one per filter set. */
static bool list_statement(const char *sql, void *ctx)
{
    (void)ctx;
    return strstr(sql, "ORDER BY seq DESC LIMIT ?5") &&
           (strstr(sql, "FROM payment") || strstr(sql, "FROM withdrawal"));
}

typedef struct list_plan {
    bool searched; /* the statement's plan so far searched an index of its table */
} list_plan;

/* A filtered list searches an index (the player's when a player is given: the
 * narrowest) and scans nothing; an unfiltered one walks the table. */
static void list_plan_line(const char *sql, const char *d, void *ctx)
{
    list_plan *lp = ctx;
    bool by_player = strstr(sql, "player=?2") != NULL;
    bool filtered = by_player || strstr(sql, "status=?3");
    if (!d) { /* the statement's plan is done */
        assert_true(lp->searched == filtered);
        lp->searched = false;
        return;
    }
    if (strstr(d, "json_each"))
        return;
    if (strncmp(d, "SEARCH payment USING INDEX", 26) == 0 ||
        strncmp(d, "SEARCH withdrawal USING INDEX", 29) == 0) {
        lp->searched = true;
        if (by_player && !strstr(d, "_player (player=?)")) {
            print_error("not the player's index: %s\n  in %s\n", d, sql);
            fail();
        }
    }
    if (filtered && plan_is_scan(d, NULL)) {
        print_error("a full scan: %s\n  in %s\n", d, sql);
        fail();
    }
}

/* A finance member with a live session (a staff row and a session row) and the
 * principal the authorizer would have found for it: the re-check inside the
 * cashier's staff commands (cashier_actor_check) judges it as the store is now. */
typedef struct member {
    pb_store_staff st;
    pb_principal p;
    pb_cashier_actor a;
} member;

static void member_new(member *m, const char *public_id)
{
    memset(m, 0, sizeof *m);
    m->st.id = cx_finance_member(public_id);
    assert_int_equal(pb_store_staff_by_public_id(C.f->conn, public_id, &m->st), PB_STORE_OK);
    pb_store_session s;
    memset(&s, 0, sizeof s);
    snprintf(s.public_id, sizeof s.public_id, "session-%s", public_id);
    snprintf(s.subject_kind, sizeof s.subject_kind, "staff");
    snprintf(s.scope, sizeof s.scope, "full");
    s.subject_id = m->st.id;
    s.created_at = s.last_seen_at = pb_time_now_us();
    s.idle_s = 1800;
    s.expires_at = s.created_at + 3600 * 1000000LL;
    assert_int_equal(pb_store_session_insert(C.f->conn, &s), PB_STORE_OK);
    m->p.kind = PB_SUBJECT_STAFF;
    m->p.subject_id = m->st.id;
    snprintf(m->p.subject_public_id, sizeof m->p.subject_public_id, "%s", public_id);
    m->p.role = PB_ROLE_FINANCE;
    m->p.session_id = s.id;
    /* the brand scope as the session's authentication reads it (identity.c, load_scope):
     * a scope other than the stored one is a stale session */
    m->p.scope.all = m->st.all_brands;
    if (!m->p.scope.all)
        assert_int_equal(pb_store_staff_brands_get(C.f->conn, m->st.id, m->p.scope.brand_ids,
                                                   PB_SCOPE_MAX_BRANDS, &m->p.scope.n),
                         PB_STORE_OK);
    m->a = cx_staff(m->st.public_id);
    m->a.principal = &m->p;
}

static void member_status(member *m, const char *status)
{
    snprintf(m->st.status, sizeof m->st.status, "%s", status);
    assert_int_equal(pb_store_staff_update(C.f->conn, &m->st), PB_STORE_OK);
}

/* The request authorized a finance member; then an admin disabled them before the
 * cashier's command ran (the write is what the command sees, as the ledger writer
 * serialises it): approve and reject are refused FORBIDDEN inside the
 * command, with nothing written (no approval, no status change, no transfer, no
 * audit entry); enabled again, the same principal approves. A role change ends the
 * session: SESSION_REVOKED. */
static void test_staff_commands_recheck_the_member(void **state)
{
    (void)state;
    cx_fund(0, 10000, 0);
    member m;
    member_new(&m, "fin-live");
    pb_store_withdrawal w, out;
    assert_int_equal(cx_withdraw(0, 1000, NULL, &w), PB_OK);
    int64_t n = cx_transfers();
    member_status(&m, "disabled");
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &m.a, &out), PB_ERR_FORBIDDEN);
    assert_int_equal(pb_cashier_withdrawal_reject(C.k, w.id, "no", &m.a, &out), PB_ERR_FORBIDDEN);
    pb_store_withdrawal_approval ap[PB_CASHIER_MAX_APPROVALS];
    size_t na = 9;
    assert_int_equal(pb_cashier_withdrawal_approvals(C.f->conn, w.id, ap, &na), PB_OK);
    assert_int_equal(na, 0);
    assert_string_equal(cx_withdrawal(w.id).status, "pending_approval");
    assert_int_equal(cx_transfers(), n);
    assert_int_equal(cx_balance(0).held, 1000);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(((sq_conn *)C.f->conn)->db,
                                        "SELECT count(*) FROM audit_entry WHERE actor_id=?1", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, m.st.public_id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    /* a role change (the session is stale) */
    member_status(&m, "active");
    snprintf(m.st.role, sizeof m.st.role, "support");
    assert_int_equal(pb_store_staff_update(C.f->conn, &m.st), PB_STORE_OK);
    assert_int_equal(pb_cashier_withdrawal_reject(C.k, w.id, "no", &m.a, &out),
                     PB_ERR_SESSION_REVOKED);
    assert_string_equal(cx_withdrawal(w.id).status, "pending_approval");
    /* the member as authorized: the command runs */
    snprintf(m.st.role, sizeof m.st.role, "finance");
    assert_int_equal(pb_store_staff_update(C.f->conn, &m.st), PB_STORE_OK);
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &m.a, &out), PB_OK);
    assert_string_equal(out.status, "processing");
}

/* The player's request and cancel re-check the player in their ledger command: a
 * session revoked (or the player blocked) after the HTTP check moves nothing. */
static void test_player_commands_recheck_the_player(void **state)
{
    (void)state;
    cx_fund(0, 10000, 0);
    pb_principal p;
    int64_t sid;
    cx_player_principal(0, "session-player-0", &p, &sid);
    pb_cashier_actor me = {.kind = "player", .id = C.players[0], .principal = &p};
    pb_store_withdrawal w, out;
    assert_int_equal(cx_withdraw(0, 1000, &me, &w), PB_OK); /* the session is live */
    assert_int_equal(cx_balance(0).held, 1000);
    int64_t n = cx_transfers();
    assert_int_equal(pb_store_session_revoke(C.f->conn, sid, pb_time_now_us(), "logout"),
                     PB_STORE_OK);
    assert_int_equal(pb_cashier_withdrawal_cancel(C.k, C.players[0], w.id, &me, &out),
                     PB_ERR_SESSION_REVOKED);
    assert_string_equal(cx_withdrawal(w.id).status, "pending_approval");
    pb_store_withdrawal w2;
    assert_int_equal(cx_withdraw(0, 500, &me, &w2), PB_ERR_SESSION_REVOKED);
    assert_int_equal(cx_transfers(), n);
    assert_int_equal(cx_balance(0).held, 1000);
    /* a new session, then the player blocked: PLAYER_BLOCKED, nothing moves */
    cx_player_principal(0, "session-player-0b", &p, &sid);
    assert_int_equal(pb_store_player_set_status(C.f->conn, C.player_rows[0], "blocked", "test",
                                                pb_time_now_us()),
                     PB_STORE_OK);
    assert_int_equal(pb_cashier_withdrawal_cancel(C.k, C.players[0], w.id, &me, &out),
                     PB_ERR_PLAYER_BLOCKED);
    assert_int_equal(cx_transfers(), n);
    /* active again: the cancel goes through */
    assert_int_equal(pb_store_player_set_status(C.f->conn, C.player_rows[0], "active", "test",
                                                pb_time_now_us()),
                     PB_STORE_OK);
    assert_int_equal(pb_cashier_withdrawal_cancel(C.k, C.players[0], w.id, &me, &out), PB_OK);
    assert_string_equal(out.status, "cancelled");
    assert_int_equal(cx_balance(0).held, 0);
}

/* Finance member id changed as an admin would: status ("active" | "disabled"), role,
 * and whether brand "alpha" is in its scope. */
static void staff_set(const char *id, const char *status, const char *role, bool alpha)
{
    pb_store_staff st;
    assert_int_equal(pb_store_staff_by_public_id(C.f->conn, id, &st), PB_STORE_OK);
    snprintf(st.status, sizeof st.status, "%s", status);
    snprintf(st.role, sizeof st.role, "%s", role);
    assert_int_equal(pb_store_staff_update(C.f->conn, &st), PB_STORE_OK);
    assert_int_equal(pb_store_staff_brands_set(C.f->conn, st.id, &C.brand_id, alpha ? 1 : 0),
                     PB_STORE_OK);
}

/* The approval of staff_id on withdrawal id among ap[0..n) (the standing one if any). */
static const pb_store_withdrawal_approval *approval_of(const pb_store_withdrawal_approval *ap,
                                                       size_t n, const char *staff_id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ap[i].staff_id, staff_id) == 0)
            return &ap[i];
    fail_msg("no approval by %s", staff_id);
    return NULL;
}

/* 4-eyes: fin-1 approves, then is disabled. fin-2's approval does not complete the
 * pair: fin-1's lapses (kept, marked staff_disabled, audited), the withdrawal stays
 * pending_approval with no payout and its hold, and needs another eligible member.
 * fin-1 enabled again: the lapsed approval still does not count (the withdrawal is
 * unchanged); fin-1 approves again (a new row) and that completes it. */
static void test_approval_lapses_before_the_second(void **state)
{
    (void)state;
    cx_fund(0, 300000, 0);
    pb_store_withdrawal w, out;
    pb_cashier_actor fin1 = cx_staff("fin-1"), fin2 = cx_staff("fin-2");
    assert_int_equal(cx_withdraw(0, 150000, NULL, &w), PB_OK);
    assert_int_equal(w.approvals_required, 2);
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin1, &out), PB_OK);
    assert_string_equal(out.status, "pending_approval");
    staff_set("fin-1", "disabled", "finance", true);
    int64_t transfers = cx_transfers();
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin2, &out), PB_OK);
    assert_string_equal(out.status, "pending_approval"); /* fin-1's no longer counts */
    assert_string_equal(cx_withdrawal(w.id).status, "pending_approval");
    assert_string_equal(cx_withdrawal(w.id).psp_reference, "");
    assert_int_equal(cx_transfers(), transfers); /* no money moved: the hold stays */
    assert_int_equal(cx_balance(0).held, 150000);
    assert_int_equal(audits("withdrawal.approval_lapsed", w.id), 1);
    pb_store_withdrawal_approval ap[PB_CASHIER_MAX_APPROVALS];
    size_t n = 0;
    assert_int_equal(pb_cashier_withdrawal_approvals(C.f->conn, w.id, ap, &n), PB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(approval_of(ap, n, "fin-2")->lapsed_at, 0);
    assert_true(approval_of(ap, n, "fin-1")->lapsed_at > 0);
    assert_string_equal(approval_of(ap, n, "fin-1")->lapsed_reason, "staff_disabled");
    /* fin-2 cannot complete it alone */
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin2, &out),
                     PB_ERR_FOUR_EYES_VIOLATION);
    /* a disabled member cannot approve */
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin1, &out), PB_ERR_FORBIDDEN);
    /* re-enabled: the old approval stays lapsed; a new one is needed, and counts */
    staff_set("fin-1", "active", "finance", true);
    assert_string_equal(cx_withdrawal(w.id).status, "pending_approval");
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin1, &out), PB_OK);
    assert_string_equal(out.status, "processing");
    assert_int_equal(pb_cashier_withdrawal_approvals(C.f->conn, w.id, ap, &n), PB_OK);
    assert_int_equal(n, 3); /* fin-2, fin-1 again (standing), fin-1 (lapsed) */
    assert_string_equal(ap[0].staff_id, "fin-2");
    assert_string_equal(ap[1].staff_id, "fin-1");
    assert_int_equal(ap[1].lapsed_at, 0);
    assert_string_equal(ap[2].staff_id, "fin-1");
    assert_string_equal(ap[2].lapsed_reason, "staff_disabled");
    assert_int_equal(audits("withdrawal.approval_lapsed", w.id), 1);
}

/* Fully approved, the payout refused by the PSP (amounts ending in 17: the first
 * send only), then the approver loses the right before the retry resends it: no
 * payout, back to pending_approval (hold kept, no transfer), audited and announced
 * as withdrawal.approval_lapsed with the reason; the same for a member demoted and
 * one whose scope lost the brand. Another member's approval then sends it. */
static void test_approval_lapses_before_the_payout(void **state)
{
    (void)state;
    reopen_without_retry();
    cx_fund(0, 100000, 0);
    const char *who[3] = {"fin-1", "fin-2", "fin-agent"};
    const char *why[3] = {"staff_disabled", "permission_revoked", "brand_out_of_scope"};
    pb_store_withdrawal w[3], out;
    for (int i = 0; i < 3; i++) {
        pb_cashier_actor a = cx_staff(who[i]);
        assert_int_equal(cx_withdraw(0, 1017 + 1000 * i, NULL, &w[i]), PB_OK);
        assert_int_equal(pb_cashier_withdrawal_approve(C.k, w[i].id, &a, &out), PB_OK);
        assert_string_equal(out.status, "approved"); /* the PSP did not take it */
    }
    staff_set("fin-1", "disabled", "finance", true);
    staff_set("fin-2", "active", "support", true);
    staff_set("fin-agent", "active", "finance", false);
    int64_t transfers = cx_transfers();
    payout_seen seen = {0};
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 0); /* first sight */
    assert_int_equal(pb_cashier_retry_payouts(C.k, C.f->conn, &seen), 0); /* lapsed, none sent */
    for (int i = 0; i < 3; i++) {
        pb_store_withdrawal now = cx_withdrawal(w[i].id);
        assert_string_equal(now.status, "pending_approval");
        assert_string_equal(now.psp_reference, "");
        assert_int_equal(audits("withdrawal.approval_lapsed", w[i].id), 1);
        char got[64];
        event_field("withdrawal.approval_lapsed", w[i].id, "status", got, sizeof got);
        assert_string_equal(got, "pending_approval");
        event_field("withdrawal.payout_sent", w[i].id, "status", got, sizeof got);
        assert_string_equal(got, "");
        pb_store_withdrawal_approval ap[PB_CASHIER_MAX_APPROVALS];
        size_t n = 0;
        assert_int_equal(pb_cashier_withdrawal_approvals(C.f->conn, w[i].id, ap, &n), PB_OK);
        assert_int_equal(n, 1);
        assert_string_equal(ap[0].lapsed_reason, why[i]);
    }
    assert_int_equal(cx_transfers(), transfers);
    assert_int_equal(cx_balance(0).held, 1017 + 2017 + 3017);
    /* another eligible member approves: sent (the 17 knob refused the first send only) */
    (void)cx_finance_member("fin-3");
    pb_cashier_actor fin3 = cx_staff("fin-3");
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w[0].id, &fin3, &out), PB_OK);
    assert_string_equal(out.status, "processing");
    free(seen.seq);
}

/* The payment and withdrawal lists filtered by player or status walk an index (no
 * full scan of the table); unfiltered, they read the table newest first. Also
 * checks what each returns. */
static void test_list_plans(void **state)
{
    (void)state;
    cx_fund(0, 100000, 0);
    (void)cx_deposit(0, 1500);
    (void)cx_deposit(1, 2500);
    pb_store_withdrawal w;
    assert_int_equal(cx_withdraw(0, 1000, NULL, &w), PB_OK);
    const char *players[] = {NULL, C.players[0], NULL, C.players[1]};
    const char *statuses[] = {NULL, NULL, "pending_approval", "pending_approval"};
    const size_t want_wd[] = {1, 1, 1, 0}, want_pay[] = {2, 1, 0, 0};
    for (size_t v = 0; v < 4; v++) {
        pb_store_withdrawal wr[4];
        pb_store_payment pr[4];
        size_t n = 99;
        pb_store_withdrawal_query wq = {.player = players[v], .status = statuses[v], .limit = 4};
        assert_int_equal(pb_store_withdrawal_list(C.f->conn, &wq, wr, &n), PB_STORE_OK);
        assert_int_equal(n, want_wd[v]);
        pb_store_payment_query pq = {.player = players[v],
                                     .status = v >= 2 ? "pending" : NULL,
                                     .limit = 4};
        assert_int_equal(pb_store_payment_list(C.f->conn, &pq, pr, &n), PB_STORE_OK);
        assert_int_equal(n, v == 2 ? 2 : v == 3 ? 1 : want_pay[v]);
    }
    list_plan lp = {0};
    int checked = plans_each(((sq_conn *)C.f->conn)->db, list_statement, list_plan_line, &lp);
    assert_int_equal(checked, 8); /* four filter sets × two tables */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_reject, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_one_approval_paid, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_payout_returned, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_payout_returned_closed_player, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_refused_payout_is_sent_again, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_held_back_logged_once, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_four_eyes_per_currency, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_four_eyes, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_staff_requested, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_retry_waits_for_two_passes, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_retry_reads_every_page, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_pass_stops_at_a_refusing_psp, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_payout_sent_once_while_slow, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_player_commands_recheck_the_player, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_staff_commands_recheck_the_member, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_payout_recorded_already, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_payout_keyed_by_withdrawal, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_closes_the_payout, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_and_the_webhook, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_waits_for_the_send, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_approval_rechecks_the_player, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_approval_lapses_before_the_second, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_approval_lapses_before_the_payout, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_list_plans, cx_setup, cx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
