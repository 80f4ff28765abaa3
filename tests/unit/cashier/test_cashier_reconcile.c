/*
 * test_cashier_reconcile.c — the reconciliation's comparison on a real database
 * and ledger (cashier.h, pb_cashier_reconcile): deposits and payouts made through
 * the cashier and settled by the sandbox's signed events, then a report file (the
 * sandbox's CSV, written here so that its rows, statuses and times are the test's)
 * compared with them:
 *   - every class: matched, missing_ours, status_mismatch (a settled deposit we have
 *     pending or failed, a paid payout we have processing, a return we never
 *     booked), amount_mismatch, missing_psp — each item stored with both sides, the
 *     run audited and announced, nothing moved;
 *   - the period's edges: from included and to excluded for the PSP's rows, ours
 *     looked up by reference whatever their time, and only ours settled inside the
 *     period are missing_psp;
 *   - a brand-scoped read of the items;
 *   - refusals store nothing: unknown PSP, a PSP without report files, a reversed or
 *     too long period, an unreadable line (named), a reference twice.
 * Every test ends with `ledger verify` clean.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "core/time.h"
#include "store/sqlite/sqlite_internal.h" /* the connection's handle: counting rows */
#include <sqlite3.h>

#define HEADER "reference,kind,amount,currency,status,settled_at\n"

/* The ledger's clock (the fixture's): set to the wall clock at a test's start, so a
 * deposit's expiry (judged at the wall clock) reads as it would in serve, then moved
 * on by hand: every change of ours gets its own instant. */
static int64_t tick(void)
{
    if (C.f->clock_us < pb_time_now_us() - 60 * 1000000LL)
        C.f->clock_us = pb_time_now_us();
    return C.f->clock_us += 1000;
}

static int64_t count(const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(((sq_conn *)C.f->conn)->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Everything a run writes, summed as one figure per table. */
typedef struct stored {
    int64_t runs, items, audits, events, transfers;
} stored;

static stored stored_now(void)
{
    return (stored){count("SELECT count(*) FROM reconciliation"),
                    count("SELECT count(*) FROM reconciliation_item"),
                    count("SELECT count(*) FROM audit_entry"),
                    count("SELECT count(*) FROM event_outbox"), cx_transfers()};
}

static pb_store_payment completed(int i, int64_t amount)
{
    pb_store_payment p = cx_deposit(i, amount);
    pb_cashier_webhook_result r;
    tick();
    assert_int_equal(cx_event(NULL, "deposit.succeeded", p.psp_reference, amount, "EUR", 0, &r),
                     PB_OK);
    assert_string_equal(r.outcome, "applied");
    tick();
    assert_int_equal(pb_cashier_payment_get(C.f->conn, NULL, p.id, &p), PB_OK);
    assert_string_equal(p.status, "completed");
    return p;
}

/* A withdrawal of player 0 approved by fin-1: "processing" at the sandbox. */
static pb_store_withdrawal processing(int64_t amount)
{
    pb_store_withdrawal w, out;
    pb_cashier_actor fin = cx_staff("fin-1");
    tick();
    assert_int_equal(cx_withdraw(0, amount, NULL, &w), PB_OK);
    assert_int_equal(pb_cashier_withdrawal_approve(C.k, w.id, &fin, &out), PB_OK);
    assert_string_equal(out.status, "processing");
    return out;
}

static pb_store_withdrawal paid(int64_t amount)
{
    pb_store_withdrawal w = processing(amount);
    pb_cashier_webhook_result r;
    tick();
    assert_int_equal(cx_event(NULL, "payout.paid", w.psp_reference, amount, "EUR", 0, &r), PB_OK);
    w = cx_withdrawal(w.id);
    assert_string_equal(w.status, "paid");
    return w;
}

/* Appends a report line (time at µs). */
static void line(char *buf, size_t cap, const char *ref, const char *kind, int64_t amount,
                 const char *status, int64_t at)
{
    char t[40];
    assert_true(pb_time_format(at, t, sizeof t) > 0);
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s,%s,%lld,EUR,%s,%s\n", ref, kind, (long long)amount, status, t);
}

static pb_err reconcile(const char *csv, int64_t from, int64_t to, pb_store_recon *out, char *why)
{
    pb_cashier_actor fin = cx_staff("fin-1");
    pb_cashier_recon_request rq = {
        .psp = "sandbox", .from = from, .to = to, .report = csv, .report_len = strlen(csv)};
    return pb_cashier_reconcile(C.k, C.f->conn, &rq, &fin, out, why, 200);
}

static size_t items(const pb_store_recon *r, const pb_brand_scope *scope,
                    pb_store_recon_item out[16])
{
    size_t n = 0;
    int64_t next = 0;
    assert_int_equal(pb_cashier_recon_items(C.f->conn, r, scope, 0, 16, out, &n, &next), PB_OK);
    assert_int_equal(next, 0);
    return n;
}

static const pb_store_recon_item *item_of(const pb_store_recon_item *it, size_t n, const char *ref,
                                          const char *kind)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(it[i].reference, ref) == 0 && strcmp(it[i].kind, kind) == 0)
            return &it[i];
    fail_msg("no item for %s %s", kind, ref);
    return NULL;
}

static void test_every_class(void **state)
{
    (void)state;
    int64_t from = tick();
    cx_fund(0, 100000, 0);
    pb_store_payment ok = completed(0, 1000), off = completed(0, 1500), gone = completed(1, 1700);
    pb_store_payment pend = cx_deposit(0, 2000), fail = cx_deposit(1, 3000);
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event(NULL, "deposit.failed", fail.psp_reference, 3000, "EUR", 0, &r),
                     PB_OK);
    pb_store_withdrawal wp = paid(500), wproc = processing(600);
    int64_t at = tick(), to = tick();
    char csv[4096] = HEADER;
    line(csv, sizeof csv, ok.psp_reference, "deposit", 1000, "settled", at);      /* matched */
    line(csv, sizeof csv, off.psp_reference, "deposit", 1501, "settled", at);     /* amount */
    line(csv, sizeof csv, pend.psp_reference, "deposit", 2000, "settled", at);    /* status */
    line(csv, sizeof csv, fail.psp_reference, "deposit", 3000, "settled", at);    /* status */
    line(csv, sizeof csv, "sbxp_not-ours", "deposit", 999, "settled", at);        /* ours? */
    line(csv, sizeof csv, wp.psp_reference, "payout", 500, "settled", at);        /* matched */
    line(csv, sizeof csv, wproc.psp_reference, "payout", 600, "settled", at);     /* status */
    line(csv, sizeof csv, wp.psp_reference, "payout_return", 500, "settled", at); /* status */
    stored before = stored_now();
    pb_store_recon run;
    char why[200];
    assert_int_equal(reconcile(csv, from, to, &run, why), PB_OK);
    assert_int_equal(run.psp_rows, 8);
    assert_int_equal(run.psp_rows_outside, 0);
    assert_int_equal(run.matched, 2);
    assert_int_equal(run.amount_mismatch, 1);
    assert_int_equal(run.status_mismatch, 4);
    assert_int_equal(run.missing_ours, 1);
    assert_int_equal(run.missing_psp, 1); /* gone: completed in the period, not reported */
    assert_string_equal(run.source, "upload");
    assert_string_equal(run.run_by, "fin-1");

    pb_store_recon got;
    assert_int_equal(pb_cashier_recon_get(C.f->conn, run.id, &got), PB_OK);
    assert_int_equal(got.status_mismatch, 4);
    pb_store_recon_item it[16];
    size_t n = items(&got, NULL, it);
    assert_int_equal(n, 7);
    const pb_store_recon_item *x = item_of(it, n, off.psp_reference, "deposit");
    assert_string_equal(x->cls, "amount_mismatch");
    assert_int_equal(x->our_amount, 1500);
    assert_int_equal(x->psp_amount, 1501);
    assert_string_equal(x->our_id, off.id);
    x = item_of(it, n, pend.psp_reference, "deposit");
    assert_string_equal(x->cls, "status_mismatch");
    assert_string_equal(x->our_status, "pending");
    assert_string_equal(x->psp_status, "settled");
    x = item_of(it, n, fail.psp_reference, "deposit");
    assert_string_equal(x->our_status, "failed");
    x = item_of(it, n, "sbxp_not-ours", "deposit");
    assert_string_equal(x->cls, "missing_ours");
    assert_false(x->has_ours);
    assert_int_equal(x->brand_id, 0);
    x = item_of(it, n, wproc.psp_reference, "payout");
    assert_string_equal(x->cls, "status_mismatch");
    assert_string_equal(x->our_status, "processing");
    x = item_of(it, n, wp.psp_reference, "payout_return");
    assert_string_equal(x->cls, "status_mismatch");
    assert_string_equal(x->our_status, "paid");
    x = item_of(it, n, gone.psp_reference, "deposit");
    assert_string_equal(x->cls, "missing_psp");
    assert_false(x->has_psp);
    assert_string_equal(x->our_status, "completed");
    assert_string_equal(x->brand, "alpha");

    /* one run, its 7 items, one audit entry and one event; no money moved */
    stored after = stored_now();
    assert_int_equal(after.runs, before.runs + 1);
    assert_int_equal(after.items, before.items + 7);
    assert_int_equal(after.audits, before.audits + 1);
    assert_int_equal(after.events, before.events + 1);
    assert_int_equal(after.transfers, before.transfers);
    assert_int_equal(count("SELECT count(*) FROM audit_entry WHERE action='reconciliation.run' "
                           "AND json_extract(after, '$.counts.status_mismatch')=4"),
                     1);
    assert_int_equal(count("SELECT count(*) FROM event_outbox WHERE "
                           "type='reconciliation.completed' AND "
                           "json_extract(payload, '$.counts.missing_ours')=1"),
                     1);

    /* the books agreeing: a failed payout failed here, a pending one processing, a
     * failed deposit failed here, a return booked returned */
    pb_store_withdrawal wf = processing(713);
    assert_int_equal(cx_event(NULL, "payout.failed", wf.psp_reference, 713, "EUR", 0, &r), PB_OK);
    assert_int_equal(cx_event(NULL, "payout.returned", wp.psp_reference, 500, "EUR", 0, &r), PB_OK);
    assert_string_equal(cx_withdrawal(wp.id).status, "returned");
    at = tick();
    char agree[4096] = HEADER;
    line(agree, sizeof agree, wf.psp_reference, "payout", 713, "failed", at);
    line(agree, sizeof agree, wproc.psp_reference, "payout", 600, "pending", at);
    line(agree, sizeof agree, fail.psp_reference, "deposit", 3000, "failed", at);
    line(agree, sizeof agree, wp.psp_reference, "payout", 500, "settled", at);
    line(agree, sizeof agree, wp.psp_reference, "payout_return", 500, "settled", at);
    line(agree, sizeof agree, ok.psp_reference, "deposit", 1000, "failed", at); /* but credited */
    assert_int_equal(reconcile(agree, at, at + 1, &run, why), PB_OK); /* nothing of ours in it */
    assert_int_equal(run.matched, 5);
    assert_int_equal(run.status_mismatch, 1);
    assert_int_equal(run.missing_psp, 0);
    n = items(&run, NULL, it);
    assert_int_equal(n, 1);
    assert_string_equal(it[0].reference, ok.psp_reference);
    assert_string_equal(it[0].our_status, "completed");
    assert_string_equal(it[0].psp_status, "failed");
}

static void test_period_edges(void **state)
{
    (void)state;
    pb_store_payment before_from = completed(0, 1100), early = completed(0, 1200);
    int64_t from = tick();
    pb_store_payment inside = completed(0, 1300);
    int64_t to = tick();
    char csv[4096] = HEADER;
    /* at from (included): compared, and matched though ours completed before the period */
    line(csv, sizeof csv, early.psp_reference, "deposit", 1200, "settled", from);
    /* at to (excluded) and before from: not compared, however wrong */
    line(csv, sizeof csv, "sbxp_at-to", "deposit", 5, "settled", to);
    line(csv, sizeof csv, "sbxp_before", "deposit", 5, "settled", from - 1);
    pb_store_recon run;
    char why[200];
    assert_int_equal(reconcile(csv, from, to, &run, why), PB_OK);
    assert_int_equal(run.psp_rows, 1);
    assert_int_equal(run.psp_rows_outside, 2);
    assert_int_equal(run.matched, 1);
    assert_int_equal(run.missing_ours, 0);
    /* ours completed before from and not reported (before_from) is not missing_psp;
     * inside is */
    assert_int_equal(run.missing_psp, 1);
    pb_store_recon_item it[16];
    assert_int_equal(items(&run, NULL, it), 1);
    assert_string_equal(it[0].reference, inside.psp_reference);
    (void)before_from;
    /* a period that ends at inside's completion leaves it out */
    pb_store_payment p;
    assert_int_equal(pb_cashier_payment_get(C.f->conn, NULL, inside.id, &p), PB_OK);
    assert_int_equal(reconcile(HEADER, from, p.updated_at, &run, why), PB_OK);
    assert_int_equal(run.missing_psp, 0);
    assert_int_equal(reconcile(HEADER, p.updated_at, p.updated_at + 1, &run, why), PB_OK);
    assert_int_equal(run.missing_psp, 1);
}

static void test_brand_scope(void **state)
{
    (void)state;
    pb_brand_spec spec = {
        .code = "beta", .name = "Beta", .default_currency = "EUR", .jurisdiction = "MT"};
    pb_brand b;
    assert_int_equal(pb_store_begin(C.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_tenancy_brand_create(C.f->conn, &spec, 1, &b, NULL), PB_OK);
    pb_store_player pl;
    fx_player(C.f, b.id, "beta@example.com", &pl);
    assert_int_equal(pb_store_commit(C.f->conn), PB_STORE_OK);
    int64_t from = tick();
    pb_store_payment alpha = completed(0, 1000);
    pb_cashier_player bp = {
        .brand_id = b.id, .brand = "beta", .player = pl.public_id, .currency = "EUR"};
    pb_cashier_actor a = {.kind = "player", .id = pl.public_id};
    pb_store_payment beta;
    char url[PB_CASHIER_URL_MAX];
    bool replayed;
    assert_int_equal(pb_cashier_deposit_create(C.k, C.f->conn, &bp, NULL, 2000, "kb", &a, &beta,
                                               url, &replayed),
                     PB_OK);
    pb_cashier_webhook_result r;
    assert_int_equal(cx_event(NULL, "deposit.succeeded", beta.psp_reference, 2000, "EUR", 0, &r),
                     PB_OK);
    char csv[1024] = HEADER;
    tick();
    line(csv, sizeof csv, "sbxp_foreign", "deposit", 7, "settled", tick());
    pb_store_recon run;
    char why[200];
    assert_int_equal(reconcile(csv, from, tick(), &run, why), PB_OK);
    assert_int_equal(run.missing_psp, 2);
    assert_int_equal(run.missing_ours, 1);
    pb_store_recon_item it[16];
    assert_int_equal(items(&run, NULL, it), 3);
    pb_brand_scope all = {.all = true};
    assert_int_equal(items(&run, &all, it), 3);
    pb_brand_scope only_alpha = {.n = 1, .brand_ids = {C.brand_id}};
    assert_int_equal(items(&run, &only_alpha, it), 1);
    assert_string_equal(it[0].reference, alpha.psp_reference);
    pb_brand_scope only_beta = {.n = 1, .brand_ids = {b.id}};
    assert_int_equal(items(&run, &only_beta, it), 1);
    assert_string_equal(it[0].reference, beta.psp_reference);
    assert_string_equal(it[0].brand, "beta");
}

static void test_refusals_store_nothing(void **state)
{
    (void)state;
    pb_store_payment p = completed(0, 1000);
    int64_t now = tick(), day = 24LL * 3600 * 1000000;
    stored before = stored_now();
    pb_cashier_actor fin = cx_staff("fin-1");
    pb_store_recon run;
    char why[200];
    pb_cashier_recon_request rq = {.psp = "nope", .from = now - day, .to = now};
    assert_int_equal(pb_cashier_reconcile(C.k, C.f->conn, &rq, &fin, &run, why, sizeof why),
                     PB_ERR_PSP_NOT_FOUND);
    assert_int_equal(reconcile(HEADER, now, now - 1, &run, why), PB_ERR_FIELD_INVALID);
    assert_int_equal(strncmp(why, "to:", 3), 0);
    assert_int_equal(reconcile(HEADER, now - 31 * day - 1, now, &run, why), PB_ERR_FIELD_INVALID);
    char csv[1024] = HEADER;
    line(csv, sizeof csv, p.psp_reference, "deposit", 1000, "settled", now - 1);
    strcat(csv, "sbxp_b,deposit,10,EUR,paid,2026-01-01T00:00:00Z\n");
    assert_int_equal(reconcile(csv, now - day, now, &run, why), PB_ERR_SETTLEMENT_REPORT_INVALID);
    assert_string_equal(why, "line 3: status: settled, failed or pending");
    assert_int_equal(reconcile("ref,kind\n", now - day, now, &run, why),
                     PB_ERR_SETTLEMENT_REPORT_INVALID);
    assert_int_equal(strncmp(why, "line 1:", 7), 0);
    char twice[1024] = HEADER;
    line(twice, sizeof twice, p.psp_reference, "deposit", 1000, "settled", now - 2);
    line(twice, sizeof twice, p.psp_reference, "deposit", 1000, "settled", now - 1);
    assert_int_equal(reconcile(twice, now - day, now, &run, why), PB_ERR_SETTLEMENT_REPORT_INVALID);
    assert_non_null(strstr(why, "listed twice"));
    /* a PSP that offers no report files (or no fetch) */
    pb_err (*parse)(pb_psp *, const char *, size_t, pb_psp_report *, char *,
                    size_t) = C.psp->report_parse;
    C.psp->report_parse = NULL;
    assert_int_equal(reconcile(HEADER, now - day, now, &run, why),
                     PB_ERR_SETTLEMENT_REPORT_UNSUPPORTED);
    C.psp->report_parse = parse;
    pb_err (*fetch)(pb_psp *, int64_t, int64_t, pb_psp_report *, char *,
                    size_t) = C.psp->report_fetch;
    C.psp->report_fetch = NULL;
    rq = (pb_cashier_recon_request){.psp = "sandbox", .from = now - day, .to = now};
    assert_int_equal(pb_cashier_reconcile(C.k, C.f->conn, &rq, &fin, &run, why, sizeof why),
                     PB_ERR_SETTLEMENT_REPORT_UNSUPPORTED);
    C.psp->report_fetch = fetch;
    stored after = stored_now();
    assert_memory_equal(&before, &after, sizeof before);
    assert_int_equal(pb_cashier_recon_get(C.f->conn, "not-an-id", &run),
                     PB_ERR_RECONCILIATION_NOT_FOUND);
}

/* The sandbox's report file read back (report_parse, pure): what it accepts, and each
 * refusal naming its line. */
static void test_report_parse(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        pb_err want;
        size_t rows;
        const char *why; /* the start of the reason */
    } cases[] = {
        {HEADER, PB_OK, 0, NULL},
        {"reference,kind,amount,currency,status,settled_at", PB_OK, 0, NULL}, /* no final LF */
        {HEADER "a,deposit,1,EUR,settled,2026-01-01T00:00:00Z", PB_OK, 1, NULL},
        {HEADER "a,payout,1,EUR,failed,2026-01-01T00:00:00+01:00\r\n"
                "b,payout_return,999999999999999999,JPY,pending,2026-01-01T00:00:00.5Z\r\n",
         PB_OK, 2, NULL},
        {"", PB_ERR_SETTLEMENT_REPORT_INVALID, 0, "line 1: want the header"},
        {"reference,kind,amount,currency,status\n", PB_ERR_SETTLEMENT_REPORT_INVALID, 0,
         "line 1: want the header"},
        {HEADER "\na,deposit,1,EUR,settled,2026-01-01T00:00:00Z\n",
         PB_ERR_SETTLEMENT_REPORT_INVALID, 0, "line 2: an empty line"},
        {HEADER "a,deposit,1,EUR,settled\n", PB_ERR_SETTLEMENT_REPORT_INVALID, 0,
         "line 2: want 6 fields"},
        {HEADER "a,deposit,1,EUR,settled,2026-01-01T00:00:00Z,x\n",
         PB_ERR_SETTLEMENT_REPORT_INVALID, 0, "line 2: want 6 fields"},
        {HEADER "a b,deposit,1,EUR,settled,2026-01-01T00:00:00Z\n",
         PB_ERR_SETTLEMENT_REPORT_INVALID, 0, "line 2: reference"},
        {HEADER "a,refund,1,EUR,settled,2026-01-01T00:00:00Z\n", PB_ERR_SETTLEMENT_REPORT_INVALID,
         0, "line 2: kind"},
        {HEADER "a,deposit,0,EUR,settled,2026-01-01T00:00:00Z\n", PB_ERR_SETTLEMENT_REPORT_INVALID,
         0, "line 2: amount"},
        {HEADER "a,deposit,-5,EUR,settled,2026-01-01T00:00:00Z\n", PB_ERR_SETTLEMENT_REPORT_INVALID,
         0, "line 2: amount"},
        {HEADER "a,deposit,1.50,EUR,settled,2026-01-01T00:00:00Z\n",
         PB_ERR_SETTLEMENT_REPORT_INVALID, 0, "line 2: amount"},
        {HEADER "a,deposit,9999999999999999999,EUR,settled,2026-01-01T00:00:00Z\n",
         PB_ERR_SETTLEMENT_REPORT_INVALID, 0, "line 2: amount"},
        {HEADER "a,deposit,1,eur,settled,2026-01-01T00:00:00Z\n", PB_ERR_SETTLEMENT_REPORT_INVALID,
         0, "line 2: currency"},
        {HEADER "a,deposit,1,EUR,paid,2026-01-01T00:00:00Z\n", PB_ERR_SETTLEMENT_REPORT_INVALID, 0,
         "line 2: status"},
        {HEADER "a,deposit,1,EUR,settled,2026-13-01T00:00:00Z\n", PB_ERR_SETTLEMENT_REPORT_INVALID,
         0, "line 2: settled_at"},
        {HEADER "a,deposit,1,EUR,settled,2026-01-01T00:00:00Z\n"
                "b,deposit,1,EUR,settled,yesterday\n",
         PB_ERR_SETTLEMENT_REPORT_INVALID, 0, "line 3: settled_at"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_psp_report r = {0};
        char why[200] = "";
        pb_err e = C.psp->report_parse(C.psp, cases[i].body, strlen(cases[i].body), &r, why,
                                       sizeof why);
        if (e != cases[i].want || (e == PB_OK && r.n != cases[i].rows) ||
            (cases[i].why && strncmp(why, cases[i].why, strlen(cases[i].why)) != 0))
            fail_msg("case %zu: got %s (%zu rows, \"%s\"), want %s", i, pb_err_code(e), r.n, why,
                     pb_err_code(cases[i].want));
        pb_psp_report_free(&r);
    }
    /* what a row reads as */
    pb_psp_report r = {0};
    char why[200];
    const char *one = HEADER "b,payout_return,1234,JPY,pending,2026-01-01T01:00:00+01:00\n";
    assert_int_equal(C.psp->report_parse(C.psp, one, strlen(one), &r, why, sizeof why), PB_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.rows[0].reference, "b");
    assert_int_equal(r.rows[0].kind, PB_PSP_ROW_PAYOUT_RETURN);
    assert_int_equal(r.rows[0].amount, 1234);
    assert_string_equal(r.rows[0].currency, "JPY");
    assert_int_equal(r.rows[0].status, PB_PSP_ROW_PENDING);
    int64_t want;
    assert_int_equal(pb_time_parse("2026-01-01T00:00:00Z", 20, &want), 0);
    assert_int_equal(r.rows[0].settled_at, want);
    pb_psp_report_free(&r);
    /* the sandbox's own file, written and read back: the rows its fetch answers */
    pb_store_payment p = cx_deposit(0, 1000);
    pb_cashier_webhook_result res;
    tick();
    assert_int_equal(pb_psp_sandbox_deposit_event(C.psp, C.f->conn, p.psp_reference, true, &res),
                     PB_OK); /* the payer pays: the sandbox books it, then notifies */
    assert_string_equal(res.outcome, "applied");
    cx_fund(0, 10000, 0);
    pb_store_withdrawal w = processing(513);
    char *csv = NULL;
    size_t len = 0;
    assert_int_equal(pb_psp_sandbox_report_csv(C.psp, 1, INT64_MAX / 2, &csv, &len), PB_OK);
    assert_int_equal(C.psp->report_parse(C.psp, csv, len, &r, why, sizeof why), PB_OK);
    free(csv);
    pb_psp_report f = {0};
    assert_int_equal(C.psp->report_fetch(C.psp, 1, INT64_MAX / 2, &f, why, sizeof why), PB_OK);
    assert_int_equal(r.n, 2);
    assert_int_equal(f.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(r.rows[i].reference, f.rows[i].reference);
        assert_int_equal(r.rows[i].kind, f.rows[i].kind);
        assert_int_equal(r.rows[i].amount, f.rows[i].amount);
        assert_string_equal(r.rows[i].currency, f.rows[i].currency);
        assert_int_equal(r.rows[i].status, f.rows[i].status);
        assert_int_equal(r.rows[i].settled_at, f.rows[i].settled_at);
    }
    assert_string_equal(f.rows[0].reference, p.psp_reference); /* in settled_at order */
    assert_int_equal(f.rows[0].kind, PB_PSP_ROW_DEPOSIT);
    assert_string_equal(f.rows[1].reference, w.psp_reference);
    assert_int_equal(f.rows[1].status, PB_PSP_ROW_FAILED); /* the 13 knob */
    pb_psp_report_free(&r);
    pb_psp_report_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_class, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_period_edges, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_brand_scope, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_refusals_store_nothing, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_report_parse, cx_setup, cx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
