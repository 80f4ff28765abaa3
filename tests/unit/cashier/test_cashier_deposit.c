/*
 * test_cashier_deposit.c — the sandbox PSP's webhook verification (signature
 * over the raw bytes, header shapes, the tolerance window and its edges, event
 * parsing) and the deposit state machine on a real database and ledger:
 * pending → completed once whatever the deliveries (duplicates, failed after
 * succeeded, succeeded after failed), amount/currency mismatch moves nothing,
 * unknown references are not recorded, idempotent intents (also two requests
 * under one key racing past the pre-check), the brand's limits,
 * the player gate. Every test ends with `ledger verify` clean.
 */
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "cashier/cashier_internal.h" /* a second PSP registered by hand: the race test */
#include "core/time.h"
#include "store/sqlite/sqlite_internal.h" /* the connection's handle: the audit entry */
#include <sqlite3.h>

/* ---- verification (the PSP's webhook_verify, pure) ---- */

typedef struct hdr {
    const char *name, *value;
} hdr;

static const char *hdr_get(void *ctx, const char *name)
{
    hdr *h = ctx;
    return h->name && strcmp(h->name, name) == 0 ? h->value : NULL;
}

static pb_err verify(const char *body, const char *sig, int64_t now, pb_psp_event *ev)
{
    hdr h = {PB_PSP_SANDBOX_HEADER, sig};
    return C.psp->webhook_verify(C.psp, body, strlen(body), hdr_get, &h, now, ev);
}

static void test_verify_signature(void **state)
{
    (void)state;
    const int64_t now = 1700000000;
    char *body = pb_psp_sandbox_event_body("evt_1", "deposit.succeeded", "sbxp_a", 1234, "EUR",
                                           now);
    char sig[128], other[128];
    pb_psp_event ev;
    pb_psp_sandbox_sign(C.secret, body, strlen(body), now, sig, sizeof sig);
    assert_int_equal(verify(body, sig, now, &ev), PB_OK);
    assert_string_equal(ev.event_id, "evt_1");
    assert_int_equal(ev.type, PB_PSP_DEPOSIT_SUCCEEDED);
    assert_string_equal(ev.reference, "sbxp_a");
    assert_int_equal(ev.amount, 1234);
    assert_string_equal(ev.currency, "EUR");

    /* another secret, a changed byte, no header, no v1, a bad t */
    pb_psp_sandbox_sign("00000000000000000000000000000000000000000000000000000000000000000", body,
                        strlen(body), now, other, sizeof other);
    assert_int_equal(verify(body, other, now, &ev), PB_ERR_SIGNATURE_INVALID);
    char *tampered = strdup(body);
    tampered[strlen(tampered) - 3] ^= 1;
    assert_int_equal(verify(tampered, sig, now, &ev), PB_ERR_SIGNATURE_INVALID);
    hdr none = {NULL, NULL};
    assert_int_equal(C.psp->webhook_verify(C.psp, body, strlen(body), hdr_get, &none, now, &ev),
                     PB_ERR_SIGNATURE_INVALID);
    char buf[256];
    snprintf(buf, sizeof buf, "t=%lld", (long long)now);
    assert_int_equal(verify(body, buf, now, &ev), PB_ERR_SIGNATURE_INVALID);
    snprintf(buf, sizeof buf, "t=12a4,%s", strchr(sig, ',') + 1);
    assert_int_equal(verify(body, buf, now, &ev), PB_ERR_SIGNATURE_INVALID);
    snprintf(buf, sizeof buf, "t=%lld,v1=abcd", (long long)now);
    assert_int_equal(verify(body, buf, now, &ev), PB_ERR_SIGNATURE_INVALID);
    /* the signature covers t: the same v1 under another t fails */
    snprintf(buf, sizeof buf, "t=%lld,%s", (long long)now + 1, strchr(sig, ',') + 1);
    assert_int_equal(verify(body, buf, now, &ev), PB_ERR_SIGNATURE_INVALID);
    /* several v1 (key rotation): one must match; upper-case hex is the same MAC */
    snprintf(buf, sizeof buf, "%s,%s", other, strchr(sig, ',') + 1);
    assert_int_equal(verify(body, buf, now, &ev), PB_OK);
    for (char *p = buf; *p; p++) /* "t=" and "v1=" have no a-f */
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 32);
    assert_int_equal(verify(body, buf, now, &ev), PB_OK);
    free(tampered);
    free(body);
}

static void test_verify_window(void **state)
{
    (void)state;
    const int64_t now = 1700000000;
    const int64_t ts[] = {now - PB_PSP_SANDBOX_TOLERANCE_S, now + PB_PSP_SANDBOX_TOLERANCE_S,
                          now - PB_PSP_SANDBOX_TOLERANCE_S - 1,
                          now + PB_PSP_SANDBOX_TOLERANCE_S + 1};
    const pb_err want[] = {PB_OK, PB_OK, PB_ERR_TIMESTAMP_STALE, PB_ERR_TIMESTAMP_STALE};
    for (size_t i = 0; i < 4; i++) {
        char *body = pb_psp_sandbox_event_body(NULL, "payout.paid", "sbxo_a", 5, "EUR", ts[i]);
        char sig[128];
        pb_psp_sandbox_sign(C.secret, body, strlen(body), ts[i], sig, sizeof sig);
        pb_psp_event ev;
        assert_int_equal(verify(body, sig, now, &ev), want[i]);
        free(body);
    }
    /* a stale forgery is SIGNATURE_INVALID: the signature is checked first */
    char *body = pb_psp_sandbox_event_body(NULL, "payout.paid", "sbxo_a", 5, "EUR", now - 1000);
    char sig[128];
    pb_psp_sandbox_sign("x", body, strlen(body), now - 1000, sig, sizeof sig);
    pb_psp_event ev;
    assert_int_equal(verify(body, sig, now, &ev), PB_ERR_SIGNATURE_INVALID);
    free(body);
}

static void test_verify_body(void **state)
{
    (void)state;
    const int64_t now = 1700000000;
    static const char *const bad[] = {
        "not json",
        "[]",
        "{\"id\":\"e\",\"type\":\"deposit.succeeded\"}",
        "{\"id\":\"e\",\"type\":\"deposit.succeeded\",\"data\":{\"reference\":\"r\",\"currency\":\"EUR\"}}",
        "{\"id\":\"e\",\"type\":\"deposit.succeeded\",\"data\":{\"reference\":\"r\",\"amount\":\"5\",\"currency\":\"EUR\"}}",
        "{\"id\":\"e\",\"type\":\"deposit.succeeded\",\"data\":{\"reference\":\"r\",\"amount\":-5,\"currency\":\"EUR\"}}",
        "{\"id\":\"e\",\"type\":\"deposit.succeeded\",\"data\":{\"reference\":\"r\",\"amount\":5}}",
        "{\"id\":\"\",\"type\":\"deposit.succeeded\",\"data\":{\"reference\":\"r\",\"amount\":5,\"currency\":\"EUR\"}}",
        "{\"id\":\"a b\",\"type\":\"deposit.succeeded\",\"data\":{\"reference\":\"r\",\"amount\":5,\"currency\":\"EUR\"}}",
        "{\"id\":\"e\",\"id\":\"f\",\"type\":\"deposit.succeeded\",\"data\":{\"reference\":\"r\",\"amount\":5,\"currency\":\"EUR\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char sig[128];
        pb_psp_sandbox_sign(C.secret, bad[i], strlen(bad[i]), now, sig, sizeof sig);
        pb_psp_event ev;
        assert_int_equal(verify(bad[i], sig, now, &ev), PB_ERR_INVALID_REQUEST);
    }
    /* a type the cashier does not act on: verified, acknowledged, ignored */
    char *body = pb_psp_sandbox_event_body("evt_x", "charge.refunded", "r", 5, "EUR", now);
    char sig[128];
    pb_psp_sandbox_sign(C.secret, body, strlen(body), now, sig, sizeof sig);
    pb_psp_event ev;
    assert_int_equal(verify(body, sig, now, &ev), PB_OK);
    assert_int_equal(ev.type, PB_PSP_EVENT_UNKNOWN);
    free(body);
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event(NULL, "charge.refunded", "r", 5, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "ignored");
}

/* ---- deposits ---- */

static void test_deposit_once(void **state)
{
    (void)state;
    pb_store_payment p = cx_deposit(0, 5000);
    assert_int_equal(strncmp(p.psp_reference, "sbxp_", 5), 0);
    assert_int_equal(cx_balance(0).cash, 0);
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event("e1", "deposit.succeeded", p.psp_reference, 5000, "EUR", 0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "applied");
    assert_int_equal(cx_balance(0).cash, 5000);
    int64_t n = cx_transfers();
    /* the same event again, a new event saying the same, then a late failure */
    assert_int_equal(cx_event("e1", "deposit.succeeded", p.psp_reference, 5000, "EUR", 0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "duplicate");
    assert_int_equal(cx_event("e2", "deposit.succeeded", p.psp_reference, 5000, "EUR", 0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "ignored");
    assert_int_equal(cx_event("e3", "deposit.failed", p.psp_reference, 5000, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "ignored");
    assert_int_equal(cx_transfers(), n);
    /* the late failure is audited (the PSP as actor, with its event), the late
     * success that only repeats what happened is not */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(((sq_conn *)C.f->conn)->db,
                                        "SELECT action, actor_kind, actor_id, reason, "
                                        "json_extract(after, '$.event_id') FROM audit_entry "
                                        "WHERE target_id=?1 AND action<>'payment.create' "
                                        "AND action<>'payment.completed' ORDER BY seq",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, p.id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "payment.failure_ignored");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "system");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "psp:sandbox");
    assert_non_null(strstr((const char *)sqlite3_column_text(st, 3),
                           "after the deposit completed"));
    assert_string_equal((const char *)sqlite3_column_text(st, 4), "e3");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    assert_int_equal(cx_balance(0).cash, 5000);
    pb_store_payment now;
    assert_int_equal(pb_cashier_deposit_get(C.f->conn, C.players[0], p.id, &now), PB_OK);
    assert_string_equal(now.status, "completed");
    assert_true(now.has_transfer);
    pb_ledger_record t;
    assert_int_equal(pb_ledger_transfer_by_key(C.f->conn, "deposit", p.id, &t), PB_OK);
    assert_int_equal(t.amount, 5000);
    assert_int_equal(t.code, PB_CODE_DEPOSIT);
    assert_memory_equal(t.id.b, now.transfer_id.b, sizeof t.id.b);
    /* the other player cannot see it */
    assert_int_equal(pb_cashier_deposit_get(C.f->conn, C.players[1], p.id, &now),
                     PB_ERR_PAYMENT_NOT_FOUND);
}

/* A deposit intent expires: pending past the brand's deposit_expiry_minutes (default
 * 24 h) it reads "expired", with no checkout link; the PSP's success arriving after
 * that still credits the player (the money was captured), audited as a late
 * completion. */
static void test_deposit_expiry(void **state)
{
    (void)state;
    pb_store_payment p = cx_deposit(0, 900), v;
    const int64_t H = 3600LL * 1000000;
    v = p;
    pb_cashier_deposit_view(C.f->conn, &v, p.created_at + 24 * H - 1);
    assert_string_equal(v.status, "pending");
    v = p;
    pb_cashier_deposit_view(C.f->conn, &v, p.created_at + 24 * H);
    assert_string_equal(v.status, "expired");
    char url[PB_CASHIER_URL_MAX];
    pb_cashier_checkout_url(C.k, &v, url);
    assert_string_equal(url, "");
    cx_settings("{\"withdrawal_4eyes_thresholds\":{\"EUR\":100000},"
                "\"deposit_expiry_minutes\":10}");
    v = p;
    pb_cashier_deposit_view(C.f->conn, &v, p.created_at + 10 * 60 * 1000000LL);
    assert_string_equal(v.status, "expired");
    /* the success after the expiry: credited, the row completed, a late completion */
    C.f->clock_us += H;
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event(NULL, "deposit.succeeded", p.psp_reference, 900, "EUR", 0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "applied");
    assert_int_equal(cx_balance(0).cash, 900);
    assert_int_equal(pb_cashier_deposit_get(C.f->conn, C.players[0], p.id, &v), PB_OK);
    pb_cashier_deposit_view(C.f->conn, &v, C.f->clock_us);
    assert_string_equal(v.status, "completed");
    assert_true(v.completed_late); /* stored with the completion (0055) */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(((sq_conn *)C.f->conn)->db,
                                        "SELECT reason FROM audit_entry WHERE "
                                        "action='payment.completed' AND target_id=?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, p.id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *why = (const char *)sqlite3_column_text(st, 0);
    assert_non_null(why);
    assert_non_null(strstr(why, "late completion"));
    sqlite3_finalize(st);
    /* one within its time is no late completion */
    pb_store_payment q = cx_deposit(0, 800);
    assert_int_equal(cx_event(NULL, "deposit.succeeded", q.psp_reference, 800, "EUR", 0, &r),
                     PB_OK);
    assert_int_equal(cx_balance(0).cash, 1700);
    assert_int_equal(pb_cashier_deposit_get(C.f->conn, C.players[0], q.id, &v), PB_OK);
    assert_string_equal(v.status, "completed");
    assert_false(v.completed_late);
    /* the setting changed since: what was decided stays (the rows are read as stored) */
    cx_settings("{\"withdrawal_4eyes_thresholds\":{\"EUR\":100000},"
                "\"deposit_expiry_minutes\":525600}");
    assert_int_equal(pb_cashier_deposit_get(C.f->conn, C.players[0], p.id, &v), PB_OK);
    assert_true(v.completed_late);
    cx_settings("{\"withdrawal_4eyes_thresholds\":{\"EUR\":100000},"
                "\"deposit_expiry_minutes\":10}"); /* as the tests after this expect */
}

/* A late success for a closed (erased) player: the erasure does not wait for an
 * expired intent, so the money the PSP captured is credited to the brand's
 * unclaimed funds (the liability owed to closed players), never to the closed
 * account; the deposit completes, recorded as funds.unclaimed (audit and event). */
static void test_deposit_closed_player_unclaimed(void **state)
{
    (void)state;
    pb_store_payment p = cx_deposit(0, 700), v;
    C.f->clock_us += 25 * 3600LL * 1000000; /* expired */
    cx_status(0, "closed");
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event(NULL, "deposit.succeeded", p.psp_reference, 700, "EUR", 0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "applied");
    assert_int_equal(cx_balance(0).cash, 0);
    assert_int_equal(pb_cashier_deposit_get(C.f->conn, C.players[0], p.id, &v), PB_OK);
    assert_string_equal(v.status, "completed");
    pb_ledger_account u;
    assert_int_equal(pb_ledger_account_find(C.f->conn, "alpha", PB_WALLET_OWNER_HOUSE,
                                            PB_WALLET_KIND_UNCLAIMED, "EUR", &u),
                     PB_OK);
    assert_int_equal(u.credits_posted - u.debits_posted, 700);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(((sq_conn *)C.f->conn)->db,
                                        "SELECT (SELECT count(*) FROM audit_entry WHERE "
                                        "action='funds.unclaimed' AND target_id=?1), "
                                        "(SELECT json_extract(payload,'$.kind')||'|'||"
                                        "json_extract(payload,'$.payment_id')||'|'||"
                                        "json_extract(payload,'$.amount') FROM event_outbox "
                                        "WHERE type='funds.unclaimed' AND subject=?1)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, C.players[0], -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    char want[128];
    snprintf(want, sizeof want, "deposit|%s|7.00", p.id);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), want);
    sqlite3_finalize(st);
    /* an active player's deposit is theirs as before */
    pb_store_payment q = cx_deposit(1, 300);
    assert_int_equal(cx_event(NULL, "deposit.succeeded", q.psp_reference, 300, "EUR", 0, &r),
                     PB_OK);
    assert_int_equal(cx_balance(1).cash, 300);
}

/* The staff list's computed statuses: "expired" lists the intents pending past the
 * brand's deposit_expiry_minutes, "pending" only the others, each with its
 * expires_at, a page at a time (the cursor goes on past the rows of the other
 * kind); a settled one has no expiry. */
static void test_deposit_list_expired(void **state)
{
    (void)state;
    cx_settings("{\"withdrawal_4eyes_thresholds\":{\"EUR\":100000},"
                "\"deposit_expiry_minutes\":10}");
    pb_store_payment d[5];
    for (int i = 0; i < 5; i++) {
        C.f->clock_us += 60 * 1000000LL; /* one a minute */
        d[i] = cx_deposit(0, 1000 + i);
    }
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event(NULL, "deposit.succeeded", d[1].psp_reference, 1001, "EUR", 0, &r),
                     PB_OK);
    /* now: d[0] .. d[2] were made 10 minutes ago or more (d[1] is completed) */
    int64_t now = d[2].created_at + 10 * 60 * 1000000LL;
    for (int i = 0; i < 5; i++)
        assert_true((d[i].created_at + 10 * 60 * 1000000LL <= now) == (i <= 2));
    pb_store_payment rows[2];
    int64_t exp[2], next = -1;
    size_t n = 9;
    pb_store_payment_query q = {.player = C.players[0], .status = "expired", .limit = 2};
    assert_int_equal(pb_cashier_deposit_list(C.f->conn, &q, now, rows, exp, &n, &next), PB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, d[2].id);
    assert_string_equal(rows[1].id, d[0].id);
    assert_string_equal(rows[0].status, "expired");
    assert_string_equal(rows[1].status, "expired");
    assert_int_equal(exp[0], d[2].created_at + 10 * 60 * 1000000LL);
    assert_int_equal(exp[1], d[0].created_at + 10 * 60 * 1000000LL);
    q.before_seq = next;
    assert_int_equal(pb_cashier_deposit_list(C.f->conn, &q, now, rows, exp, &n, &next), PB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(next, 0);
    /* pending: the two not expired yet, one a page */
    q = (pb_store_payment_query){.player = C.players[0], .status = "pending", .limit = 1};
    const char *want[] = {d[4].id, d[3].id};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pb_cashier_deposit_list(C.f->conn, &q, now, rows, exp, &n, &next), PB_OK);
        assert_int_equal(n, 1);
        assert_string_equal(rows[0].id, want[i]);
        assert_string_equal(rows[0].status, "pending");
        assert_true(exp[0] > now);
        assert_true(next > 0);
        q.before_seq = next;
    }
    assert_int_equal(pb_cashier_deposit_list(C.f->conn, &q, now, rows, exp, &n, &next), PB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(next, 0);
    /* no status: as stored, the expired ones shown so; the completed one without expiry */
    pb_store_payment all[5];
    int64_t all_exp[5];
    q = (pb_store_payment_query){.player = C.players[0], .limit = 5};
    assert_int_equal(pb_cashier_deposit_list(C.f->conn, &q, now, all, all_exp, &n, &next), PB_OK);
    assert_int_equal(n, 5);
    const char *st[] = {"pending", "pending", "expired", "completed", "expired"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(all[i].status, st[i]);
    assert_int_equal(all_exp[3], 0);
    /* the stored rows are unchanged: still pending */
    pb_store_payment back;
    assert_int_equal(pb_cashier_payment_get(C.f->conn, NULL, d[0].id, &back), PB_OK);
    assert_string_equal(back.status, "pending");
}

/* The "pending" and "expired" staff lists decide the expiry in the query, so a
 * page is full until the last: 5,000 expired intents lie between three groups of
 * 30 fresh ones (made out of order: created_at does not follow seq), more than
 * the 2,000 rows a call used to read, which answered a short page with a cursor.
 * Paged 25 at a time, by player and by brand scope: every page but the last
 * full, each fresh intent once, none missing; "expired" likewise. */
static void test_deposit_list_pages_full(void **state)
{
    (void)state;
    cx_settings("{\"withdrawal_4eyes_thresholds\":{\"EUR\":100000},"
                "\"deposit_expiry_minutes\":10}");
    pb_store_payment d = cx_deposit(0, 1000);
    int64_t now = d.created_at + 60 * 1000000LL; /* d is fresh */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5090) "
             "INSERT INTO payment(id,brand_id,brand,player,currency,amount,idempotency_key,psp,"
             "psp_reference,status,created_at,updated_at) SELECT 'gen-' || i, p.brand_id, "
             "p.brand, p.player, p.currency, 1000, 'gk-' || i, p.psp, 'gref-' || i, 'pending', "
             "CASE WHEN (i - 1) %% 2530 < 30 THEN %lld ELSE %lld END, 1 FROM n, "
             "(SELECT * FROM payment WHERE id='%s') p ORDER BY i",
             (long long)(now - 60 * 1000000LL), (long long)(now - 3600 * 1000000LL), d.id);
    assert_int_equal(pb_store_exec_raw(C.f->conn, sql), PB_STORE_OK);
    char scope[64];
    snprintf(scope, sizeof scope, "[%lld]", (long long)d.brand_id);
    for (int by_player = 0; by_player < 2; by_player++)
        for (int expired = 0; expired < 2; expired++) {
            size_t want = expired ? 5000 : 91; /* 90 generated + d */
            size_t limit = expired ? 700 : 25;
            pb_store_payment_query q = {.player = by_player ? C.players[0] : NULL,
                                        .brand_ids_json = by_player ? NULL : scope,
                                        .status = expired ? "expired" : "pending",
                                        .limit = limit};
            pb_store_payment *rows = malloc(limit * sizeof *rows);
            int64_t *exp = malloc(limit * sizeof *exp);
            assert_non_null(rows);
            assert_non_null(exp);
            size_t total = 0, n = 0;
            int64_t next = 0, last_seq = INT64_MAX;
            do {
                assert_int_equal(pb_cashier_deposit_list(C.f->conn, &q, now, rows, exp, &n, &next),
                                 PB_OK);
                if (next) /* not the last page: full */
                    assert_int_equal(n, limit);
                for (size_t i = 0; i < n; i++) {
                    assert_true(rows[i].seq < last_seq); /* newest first, none twice */
                    last_seq = rows[i].seq;
                    assert_string_equal(rows[i].status, expired ? "expired" : "pending");
                    assert_true((exp[i] <= now) == (expired == 1));
                }
                total += n;
                q.before_seq = next;
            } while (next);
            assert_int_equal(total, want); /* none missing */
            free(rows);
            free(exp);
        }
}

static void test_deposit_reordered(void **state)
{
    (void)state;
    pb_cashier_webhook_result r;
    pb_store_payment p = cx_deposit(0, 700);
    assert_int_equal(cx_event(NULL, "deposit.failed", p.psp_reference, 700, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "applied");
    assert_int_equal(cx_event(NULL, "deposit.failed", p.psp_reference, 700, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "ignored");
    assert_int_equal(cx_balance(0).cash, 0);
    /* the late success credits: the PSP holds the money */
    assert_int_equal(cx_event(NULL, "deposit.succeeded", p.psp_reference, 700, "EUR", 0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "applied");
    assert_int_equal(cx_balance(0).cash, 700);
    pb_store_payment now;
    assert_int_equal(pb_cashier_deposit_get(C.f->conn, C.players[0], p.id, &now), PB_OK);
    assert_string_equal(now.status, "completed");
}

static void test_deposit_mismatch_and_unknown(void **state)
{
    (void)state;
    pb_cashier_webhook_result r;
    pb_store_payment p = cx_deposit(1, 1000);
    int64_t n = cx_transfers();
    assert_int_equal(cx_event(NULL, "deposit.succeeded", p.psp_reference, 1001, "EUR", 0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "mismatch");
    assert_int_equal(cx_event(NULL, "deposit.succeeded", p.psp_reference, 1000, "USD", 0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "mismatch");
    assert_int_equal(cx_event(NULL, "deposit.failed", p.psp_reference, 999, "EUR", 0, &r), PB_OK);
    assert_string_equal(r.outcome, "mismatch");
    assert_int_equal(cx_transfers(), n);
    pb_store_payment now;
    assert_int_equal(pb_cashier_deposit_get(C.f->conn, C.players[1], p.id, &now), PB_OK);
    assert_string_equal(now.status, "pending");
    /* an unknown reference is refused and NOT recorded: the same event id works later */
    assert_int_equal(cx_event("late", "deposit.succeeded", "sbxp_none", 1000, "EUR", 0, &r),
                     PB_ERR_PAYMENT_NOT_FOUND);
    pb_store_payment_event ev;
    assert_int_equal(pb_store_payment_event_get(C.f->conn, "sandbox", "late", &ev),
                     PB_STORE_NOT_FOUND);
    assert_int_equal(cx_event("late", "deposit.succeeded", p.psp_reference, 1000, "EUR", 0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "applied");
    assert_int_equal(cx_balance(1).cash, 1000);
    /* refusals before the command write nothing either */
    assert_int_equal(cx_event(NULL, "deposit.succeeded", p.psp_reference, 1000, "EUR",
                              pb_time_now_us() / 1000000 - 3600, &r),
                     PB_ERR_TIMESTAMP_STALE);
    assert_int_equal(pb_cashier_webhook(C.k, C.f->conn, "stripe", "{}", 2, hdr_get, &(hdr){0}, &r),
                     PB_ERR_PSP_NOT_FOUND);
}

static void test_deposit_intents(void **state)
{
    (void)state;
    pb_cashier_actor a = {.kind = "player", .id = C.players[0]};
    pb_store_payment p, q;
    char url[PB_CASHIER_URL_MAX];
    bool replayed;
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], NULL, 2500, "dep-a", &a,
                                               &p, url, &replayed),
                     PB_OK);
    assert_false(replayed);
    char want[200];
    snprintf(want, sizeof want, "/v1/sandbox-psp/payments/%s/complete", p.psp_reference);
    assert_string_equal(url, want);
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], "sandbox", 2500, "dep-a",
                                               &a, &q, url, &replayed),
                     PB_OK);
    assert_true(replayed);
    assert_string_equal(q.id, p.id);
    assert_string_equal(q.psp_reference, p.psp_reference); /* no second intent at the PSP */
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], NULL, 2600, "dep-a", &a,
                                               &q, url, &replayed),
                     PB_ERR_IDEMPOTENCY_CONFLICT);
    /* the same key of another player is another payment */
    pb_cashier_actor b = {.kind = "player", .id = C.players[1]};
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[1], NULL, 2600, "dep-a", &b,
                                               &q, url, &replayed),
                     PB_OK);
    assert_false(replayed);
    assert_string_not_equal(q.id, p.id);
    int64_t n = cx_transfers();
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], "stripe", 2500, "dep-b",
                                               &a, &q, url, &replayed),
                     PB_ERR_PSP_NOT_FOUND);
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], NULL, 0, "dep-b", &a, &q,
                                               url, &replayed),
                     PB_ERR_AMOUNT_INVALID);
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], NULL, 100, "bad key", &a,
                                               &q, url, &replayed),
                     PB_ERR_FIELD_INVALID);
    assert_int_equal(cx_transfers(), n);
}

/* ---- the same key raced in (two requests past the pre-check at once) ---- */

/* The writer held by a command that waits (the ledger's public command API). */
static sem_t writer_holding, writer_release, writer_done, passed;
static pb_err writer_done_status;
static pb_err (*sandbox_deposit_create)(pb_psp *, const pb_store_payment *,
                                        char[PB_STORE_CASHIER_REF_MAX + 1]);

static pb_err hold_writer(pb_ledger_tx *tx, void *arg)
{
    (void)tx;
    (void)arg;
    sem_post(&writer_holding);
    while (sem_wait(&writer_release) != 0)
        ;
    return PB_OK;
}

static void writer_released(void *ctx, pb_err status)
{
    (void)ctx;
    writer_done_status = status;
    sem_post(&writer_done);
}

/* The PSP's deposit_create is called after the pre-check found no payment under
 * the key and before the command is queued: its caller has passed the pre-check. */
static pb_err counting_deposit_create(pb_psp *psp, const pb_store_payment *p,
                                      char ref[PB_STORE_CASHIER_REF_MAX + 1])
{
    pb_err e = sandbox_deposit_create(psp, p, ref);
    sem_post(&passed);
    return e;
}

typedef struct racer {
    const char *psp, *key;
    int64_t amount;
    pb_err e;
    bool replayed;
    pb_store_payment p;
    char url[PB_CASHIER_URL_MAX];
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    char err[256];
    pb_store_conn *c = pb_store_connect(C.f->store, err, sizeof err);
    if (!c) {
        r->e = PB_ERR_STORE_UNAVAILABLE;
        return NULL;
    }
    pb_cashier_actor a = {.kind = "player", .id = C.players[0]};
    r->e = pb_cashier_deposit_create(C.k, c, &C.pl[0], r->psp, r->amount, r->key, &a, &r->p, r->url,
                                     &r->replayed);
    pb_store_disconnect(c);
    return NULL;
}

static int64_t payments_under(const char *key)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(((sq_conn *)C.f->conn)->db,
                           "SELECT count(*) FROM payment WHERE player = ? AND idempotency_key = ?",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, C.players[0], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Two deposit requests under one key, both past the pre-check (no payment under
 * the key yet) while the writer is held, then let into their commands: the one
 * that comes second meets the first's payment in the command and must be decided
 * as the pre-check decides a retry (psp and amount). */
static void race_two(racer *r0, racer *r1)
{
    sem_init(&writer_holding, 0, 0);
    sem_init(&writer_release, 0, 0);
    sem_init(&writer_done, 0, 0);
    sem_init(&passed, 0, 0);
    assert_int_equal(pb_ledger_command_async(C.f->ledger, hold_writer, NULL, writer_released, NULL),
                     PB_OK);
    while (sem_wait(&writer_holding) != 0)
        ;
    pthread_t t0, t1;
    assert_int_equal(pthread_create(&t0, NULL, race, r0), 0);
    assert_int_equal(pthread_create(&t1, NULL, race, r1), 0);
    for (int i = 0; i < 2; i++) /* both past the pre-check, none in its command yet */
        while (sem_wait(&passed) != 0)
            ;
    assert_int_equal(payments_under(r0->key), 0);
    sem_post(&writer_release);
    pthread_join(t0, NULL);
    pthread_join(t1, NULL);
    while (sem_wait(&writer_done) != 0)
        ;
    assert_int_equal(writer_done_status, PB_OK);
    sem_destroy(&writer_holding);
    sem_destroy(&writer_release);
    sem_destroy(&writer_done);
    sem_destroy(&passed);
}

static void test_deposit_key_raced(void **state)
{
    (void)state;
    /* a second PSP (a sandbox under another code), registered as the cashier does */
    char err[256];
    pb_psp_sandbox_config sc = {.keys_dir = C.f->dir};
    pb_psp *other = pb_psp_sandbox_new(&sc, err, sizeof err);
    assert_non_null(other);
    snprintf(other->code, sizeof other->code, "sandbox2");
    other->cashier = C.k;
    assert_true(C.k->npsps < PB_CASHIER_MAX_PSPS);
    C.k->psps[C.k->npsps++] = other; /* freed by pb_cashier_close */
    sandbox_deposit_create = C.psp->deposit_create;
    C.psp->deposit_create = counting_deposit_create;
    other->deposit_create = counting_deposit_create;

    /* another PSP, the same amount: one payment, the other request a conflict */
    racer a = {.psp = "sandbox", .key = "race-1", .amount = 2500};
    racer b = {.psp = "sandbox2", .key = "race-1", .amount = 2500};
    race_two(&a, &b);
    assert_int_equal(payments_under("race-1"), 1);
    racer *won = a.e == PB_OK ? &a : &b, *lost = a.e == PB_OK ? &b : &a;
    assert_int_equal(won->e, PB_OK);
    assert_false(won->replayed);
    assert_string_equal(won->p.psp, won->psp);
    assert_int_not_equal(won->url[0], 0);
    assert_int_equal(lost->e, PB_ERR_IDEMPOTENCY_CONFLICT); /* not a replay of another PSP's */
    assert_int_equal(lost->url[0], 0);
    pb_store_payment stored;
    assert_int_equal(pb_store_payment_by_key(C.f->conn, C.players[0], "race-1", &stored),
                     PB_STORE_OK);
    assert_string_equal(stored.id, won->p.id);
    assert_string_equal(stored.psp, won->psp);
    /* the pre-check says the same to a later retry of either */
    pb_cashier_actor pa = {.kind = "player", .id = C.players[0]};
    pb_store_payment q;
    char url[PB_CASHIER_URL_MAX];
    bool replayed;
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], lost->psp, 2500, "race-1",
                                               &pa, &q, url, &replayed),
                     PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], won->psp, 2500, "race-1",
                                               &pa, &q, url, &replayed),
                     PB_OK);
    assert_true(replayed);

    /* the same PSP, another amount: a conflict as before */
    racer c = {.psp = "sandbox", .key = "race-2", .amount = 2500};
    racer d = {.psp = "sandbox", .key = "race-2", .amount = 2600};
    race_two(&c, &d);
    assert_int_equal(payments_under("race-2"), 1);
    assert_true((c.e == PB_OK) != (d.e == PB_OK));
    assert_int_equal(c.e == PB_OK ? d.e : c.e, PB_ERR_IDEMPOTENCY_CONFLICT);

    /* the same PSP and amount: both succeed, the second a replay of the first */
    racer e = {.psp = "sandbox2", .key = "race-3", .amount = 3000};
    racer f = {.psp = "sandbox2", .key = "race-3", .amount = 3000};
    race_two(&e, &f);
    assert_int_equal(payments_under("race-3"), 1);
    assert_int_equal(e.e, PB_OK);
    assert_int_equal(f.e, PB_OK);
    assert_true(e.replayed != f.replayed);
    assert_string_equal(e.p.id, f.p.id);
    assert_string_equal(e.p.psp_reference, f.p.psp_reference); /* the winner's intent */
    assert_string_equal(e.url, f.url);
    assert_int_not_equal(e.url[0], 0);
    C.psp->deposit_create = sandbox_deposit_create;
    other->deposit_create = sandbox_deposit_create;
}

static void test_deposit_limits_and_gate(void **state)
{
    (void)state;
    pb_cashier_actor a = {.kind = "player", .id = C.players[0]};
    pb_store_payment p;
    char url[PB_CASHIER_URL_MAX], key[32];
    bool replayed;
    /* defaults: 1.00 .. 1,000,000.00 */
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], NULL, 99,
                                               cx_key(key, sizeof key), &a, &p, url, &replayed),
                     PB_ERR_AMOUNT_OUT_OF_RANGE);
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], NULL, 100000001,
                                               cx_key(key, sizeof key), &a, &p, url, &replayed),
                     PB_ERR_AMOUNT_OUT_OF_RANGE);
    cx_settings("{\"deposit_mins\":{\"EUR\":1000},\"deposit_maxes\":{\"EUR\":5000}}");
    const int64_t amounts[] = {999, 1000, 5000, 5001};
    const pb_err want[] = {PB_ERR_AMOUNT_OUT_OF_RANGE, PB_OK, PB_OK, PB_ERR_AMOUNT_OUT_OF_RANGE};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], NULL, amounts[i],
                                                   cx_key(key, sizeof key), &a, &p, url, &replayed),
                         want[i]);
    cx_status(0, "blocked");
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], NULL, 2000,
                                               cx_key(key, sizeof key), &a, &p, url, &replayed),
                     PB_ERR_PLAYER_BLOCKED);
    cx_status(0, "self_excluded");
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], NULL, 2000,
                                               cx_key(key, sizeof key), &a, &p, url, &replayed),
                     PB_ERR_PLAYER_SELF_EXCLUDED);
    pb_store_payment_query q = {.player = C.players[0], .limit = 10};
    pb_store_payment rows[10];
    size_t n = 0;
    assert_int_equal(pb_cashier_payment_list(C.f->conn, &q, rows, &n), PB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].amount, 5000); /* newest first */
}

/* The deposit intent re-checks the player in its ledger command, as the withdrawal's
 * request does: a session revoked after the HTTP check makes no intent (and no audit
 * entry); with a live session it is made. */
static void test_deposit_rechecks_the_session(void **state)
{
    (void)state;
    pb_principal p;
    int64_t sid;
    cx_player_principal(0, "session-deposit-0", &p, &sid);
    pb_cashier_actor me = {.kind = "player", .id = C.players[0], .principal = &p};
    pb_store_payment pay;
    char url[PB_CASHIER_URL_MAX], key[32];
    bool replayed;
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], NULL, 2000,
                                               cx_key(key, sizeof key), &me, &pay, url, &replayed),
                     PB_OK);
    assert_int_equal(pb_store_session_revoke(C.f->conn, sid, pb_time_now_us(), "logout"),
                     PB_STORE_OK);
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &C.pl[0], NULL, 3000,
                                               cx_key(key, sizeof key), &me, &pay, url, &replayed),
                     PB_ERR_SESSION_REVOKED);
    pb_store_payment_query q = {.player = C.players[0], .limit = 10};
    pb_store_payment rows[10];
    size_t n = 0;
    assert_int_equal(pb_cashier_payment_list(C.f->conn, &q, rows, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].amount, 2000);
}

/* The deposit limits are per currency, in minor units of the deposit's own
 * currency: JPY (no decimals) and KWD (three) each hit their own minimum and
 * maximum, and neither is EUR's. A currency without an entry of its own (KWD's
 * minimum, BTC's both) gets the built-in limits, 100 .. 100000000 minor units,
 * as before per-currency limits. */
static void test_deposit_limits_per_currency(void **state)
{
    (void)state;
    pb_cashier_actor a = {.kind = "player", .id = C.players[1]};
    pb_store_payment p;
    char url[PB_CASHIER_URL_MAX], key[32];
    bool replayed;
    cx_settings("{\"deposit_mins\":{\"EUR\":1000,\"JPY\":500},"
                "\"deposit_maxes\":{\"EUR\":20000,\"JPY\":30000,\"KWD\":150000}}");
    static const struct {
        const char *currency;
        int64_t amount;
        pb_err want;
    } cases[] = {
        /* EUR: 10.00 .. 200.00 */
        {"EUR", 999, PB_ERR_AMOUNT_OUT_OF_RANGE},
        {"EUR", 1000, PB_OK},
        {"EUR", 20000, PB_OK},
        {"EUR", 20001, PB_ERR_AMOUNT_OUT_OF_RANGE},
        /* JPY: 500 .. 30,000 yen, not EUR's 1000 .. 20000 */
        {"JPY", 499, PB_ERR_AMOUNT_OUT_OF_RANGE},
        {"JPY", 500, PB_OK},
        {"JPY", 30000, PB_OK},
        {"JPY", 30001, PB_ERR_AMOUNT_OUT_OF_RANGE},
        /* KWD: the built-in minimum (0.100) .. its own maximum 150.000 */
        {"KWD", 99, PB_ERR_AMOUNT_OUT_OF_RANGE},
        {"KWD", 100, PB_OK},
        {"KWD", 150000, PB_OK},
        {"KWD", 150001, PB_ERR_AMOUNT_OUT_OF_RANGE},
        /* BTC: no entry, the built-in limits */
        {"BTC", 99, PB_ERR_AMOUNT_OUT_OF_RANGE},
        {"BTC", 100000000, PB_OK},
        {"BTC", 100000001, PB_ERR_AMOUNT_OUT_OF_RANGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_cashier_player pl = C.pl[1];
        pl.currency = cases[i].currency;
        pb_err e = pb_cashier_deposit_create(C.k, C.f->conn, &pl, NULL, cases[i].amount,
                                             cx_key(key, sizeof key), &a, &p, url, &replayed);
        if (e != cases[i].want)
            fail_msg("case %zu: %s %" PRId64 ": got %s, want %s", i, cases[i].currency,
                     cases[i].amount, pb_err_code(e), pb_err_code(cases[i].want));
        if (e == PB_OK)
            assert_string_equal(p.currency, cases[i].currency);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify_signature, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_closed_player_unclaimed, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_verify_window, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_verify_body, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_once, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_expiry, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_list_expired, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_list_pages_full, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_reordered, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_mismatch_and_unknown, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_intents, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_key_raced, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_limits_and_gate, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_limits_per_currency, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_deposit_rechecks_the_session, cx_setup, cx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
