/*
 * reconcile.c — the reconciliation of a PSP's settlement report with our books
 * (cashier.h, pb_cashier_reconcile: what is compared and how each row is
 * classified; psp.h: the report's rows).
 *
 * A run: the report is fetched from the PSP (report_fetch) or parsed from the
 * file finance uploaded (report_parse); its rows inside [from, to) are indexed by
 * (kind, reference) (a reference twice for one kind: the report is refused); our
 * side is read on the caller's connection in one read transaction (a consistent
 * snapshot: a webhook landing meanwhile is either wholly seen or not at all):
 * each PSP row's payment or withdrawal by reference, then the payments completed
 * and the withdrawals paid or returned inside the period (missing_psp). Only then
 * one ledger command writes the run, its discrepancies, the audit entry
 * reconciliation.run and the event reconciliation.completed — together or not at
 * all, the caller re-checked in it. Nothing here moves money: staff fix what a run
 * finds with the existing tools (adjustments, a withdrawal's resolve or manual
 * resolution).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cashier/cashier_internal.h"
#include "core/time.h"
#include "events/events.h"

#define PAGE 256

typedef struct recon_ctx {
    pb_store_conn *c;
    pb_psp *psp;
    const pb_cashier_recon_request *rq;
    const pb_cashier_actor *a;
    pb_psp_report report;
    size_t *order; /* the in-period rows' indices, by (kind, reference) */
    size_t nin;
    pb_store_recon_item *items;
    size_t nitems, cap;
    pb_store_recon run;
    int64_t now; /* for a deposit's expiry as we show it */
    pb_err result;
} recon_ctx;

static int key_cmp(const pb_psp_settlement_row *a, pb_psp_row_kind kind, const char *ref)
{
    if (a->kind != kind)
        return a->kind < kind ? -1 : 1;
    return strcmp(a->reference, ref);
}

static int order_cmp(const void *a, const void *b, void *rows)
{
    const pb_psp_settlement_row *r = rows, *y = &r[*(const size_t *)b];
    return key_cmp(&r[*(const size_t *)a], y->kind, y->reference);
}

/* The in-period row of (kind, ref), or NULL. */
static const pb_psp_settlement_row *report_find(const recon_ctx *x, pb_psp_row_kind kind,
                                                const char *ref)
{
    size_t lo = 0, hi = x->nin;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = key_cmp(&x->report.rows[x->order[mid]], kind, ref);
        if (d == 0)
            return &x->report.rows[x->order[mid]];
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A new discrepancy (NULL out of memory), numbered, counted in its class. */
static pb_store_recon_item *item_new(recon_ctx *x, const char *cls, pb_psp_row_kind kind,
                                     const char *reference)
{
    if (x->nitems == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 32;
        void *p = realloc(x->items, cap * sizeof *x->items);
        if (!p)
            return NULL;
        x->items = p;
        x->cap = cap;
    }
    pb_store_recon_item *it = &x->items[x->nitems++];
    memset(it, 0, sizeof *it);
    it->n = (int64_t)x->nitems;
    snprintf(it->cls, sizeof it->cls, "%s", cls);
    snprintf(it->kind, sizeof it->kind, "%s", pb_psp_row_kind_name(kind));
    snprintf(it->reference, sizeof it->reference, "%s", reference);
    if (strcmp(cls, "missing_ours") == 0)
        x->run.missing_ours++;
    else if (strcmp(cls, "status_mismatch") == 0)
        x->run.status_mismatch++;
    else if (strcmp(cls, "amount_mismatch") == 0)
        x->run.amount_mismatch++;
    else
        x->run.missing_psp++;
    return it;
}

static void item_psp(pb_store_recon_item *it, const pb_psp_settlement_row *row)
{
    it->has_psp = true;
    snprintf(it->psp_status, sizeof it->psp_status, "%s", pb_psp_row_status_name(row->status));
    it->psp_amount = row->amount;
    snprintf(it->psp_currency, sizeof it->psp_currency, "%s", row->currency);
    it->psp_settled_at = row->settled_at;
}

static void item_ours(pb_store_recon_item *it, int64_t brand_id, const char *brand, const char *id,
                      const char *status, int64_t amount, const char *currency)
{
    it->brand_id = brand_id;
    snprintf(it->brand, sizeof it->brand, "%s", brand);
    it->has_ours = true;
    snprintf(it->our_id, sizeof it->our_id, "%s", id);
    snprintf(it->our_status, sizeof it->our_status, "%s", status);
    it->our_amount = amount;
    snprintf(it->our_currency, sizeof it->our_currency, "%s", currency);
}

/* Our record of a PSP row's reference, as an item shows it. */
typedef struct ours_rec {
    int64_t brand_id;
    const char *brand, *id, *status;
    int64_t amount;
    const char *currency;
} ours_rec;

/* Records the outcome of one PSP row against our record o (NULL: none), whose status
 * agrees with the PSP's or not. */
static pb_err judge(recon_ctx *x, const pb_psp_settlement_row *row, const ours_rec *o, bool agree)
{
    const char *cls = NULL;
    if (!o)
        cls = "missing_ours";
    else if (o->amount != row->amount || strcmp(o->currency, row->currency) != 0)
        cls = "amount_mismatch";
    else if (!agree)
        cls = "status_mismatch";
    if (!cls) {
        x->run.matched++;
        return PB_OK;
    }
    pb_store_recon_item *it = item_new(x, cls, row->kind, row->reference);
    if (!it)
        return PB_ERR_INTERNAL;
    item_psp(it, row);
    if (o)
        item_ours(it, o->brand_id, o->brand, o->id, o->status, o->amount, o->currency);
    return PB_OK;
}

/* The status of a payment as staff see it: "expired" for a pending intent past its time. */
static void payment_status(recon_ctx *x, const pb_store_payment *p, char out[16])
{
    snprintf(out, 16, "%s", p->status);
    if (strcmp(p->status, "pending") == 0 && x->now >= cashier_deposit_expires_at(x->c, p))
        snprintf(out, 16, "expired");
}

static pb_err deposit_row(recon_ctx *x, const pb_psp_settlement_row *row)
{
    pb_store_payment p;
    pb_store_rc rc = pb_store_payment_by_reference(x->c, x->psp->code, row->reference, &p);
    if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    if (rc == PB_STORE_NOT_FOUND)
        return judge(x, row, NULL, false);
    char status[16];
    payment_status(x, &p, status);
    bool completed = strcmp(p.status, "completed") == 0;
    /* settled at the PSP ⇔ credited here; failed or pending there: nothing credited */
    bool agree = row->status == PB_PSP_ROW_SETTLED ? completed : !completed;
    ours_rec o = {p.brand_id, p.brand, p.id, status, p.amount, p.currency};
    return judge(x, row, &o, agree);
}

static pb_err payout_row(recon_ctx *x, const pb_psp_settlement_row *row)
{
    pb_store_withdrawal w;
    pb_store_rc rc = pb_store_withdrawal_by_reference(x->c, x->psp->code, row->reference, &w);
    if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    if (rc == PB_STORE_NOT_FOUND)
        return judge(x, row, NULL, false);
    bool paid = strcmp(w.status, "paid") == 0 || strcmp(w.status, "returned") == 0;
    bool returned = strcmp(w.status, "returned") == 0;
    bool agree;
    if (row->kind == PB_PSP_ROW_PAYOUT_RETURN) /* the money came back ⇔ booked returned */
        agree = row->status == PB_PSP_ROW_SETTLED ? returned : !returned;
    else if (row->status == PB_PSP_ROW_SETTLED) /* paid there ⇔ paid (or since returned) here */
        agree = paid;
    else if (row->status == PB_PSP_ROW_FAILED) /* failed there ⇔ failed here, the hold voided */
        agree = strcmp(w.status, "failed") == 0;
    else /* pending there ⇔ still processing here */
        agree = strcmp(w.status, "processing") == 0;
    ours_rec o = {w.brand_id, w.brand, w.id, w.status, w.amount, w.currency};
    return judge(x, row, &o, agree);
}

/* Our rows settled inside the period that the report lacks. */
static pb_err missing_psp(recon_ctx *x)
{
    pb_store_payment *pay = malloc(PAGE * sizeof *pay);
    pb_store_withdrawal *wd = malloc(PAGE * sizeof *wd);
    pb_err e = pay && wd ? PB_OK : PB_ERR_INTERNAL;
    size_t n = PAGE;
    for (int64_t after = 0; e == PB_OK && n == PAGE;) {
        if (pb_store_payment_settled_in(x->c, x->psp->code, x->rq->from, x->rq->to, after, PAGE,
                                        pay, &n) != PB_STORE_OK) {
            e = PB_ERR_INTERNAL;
            break;
        }
        for (size_t i = 0; e == PB_OK && i < n; i++) {
            after = pay[i].seq;
            if (report_find(x, PB_PSP_ROW_DEPOSIT, pay[i].psp_reference))
                continue;
            pb_store_recon_item *it = item_new(x, "missing_psp", PB_PSP_ROW_DEPOSIT,
                                               pay[i].psp_reference);
            if (!it)
                e = PB_ERR_INTERNAL;
            else
                item_ours(it, pay[i].brand_id, pay[i].brand, pay[i].id, pay[i].status,
                          pay[i].amount, pay[i].currency);
        }
    }
    n = PAGE;
    for (int64_t after = 0; e == PB_OK && n == PAGE;) {
        if (pb_store_withdrawal_settled_in(x->c, x->psp->code, x->rq->from, x->rq->to, after, PAGE,
                                           wd, &n) != PB_STORE_OK) {
            e = PB_ERR_INTERNAL;
            break;
        }
        for (size_t i = 0; e == PB_OK && i < n; i++) {
            after = wd[i].seq;
            /* paid in the period: its payout; returned in it: its return (the payout
             * itself may be in an earlier period) */
            pb_psp_row_kind kind = strcmp(wd[i].status, "returned") == 0 ? PB_PSP_ROW_PAYOUT_RETURN
                                                                         : PB_PSP_ROW_PAYOUT;
            if (report_find(x, kind, wd[i].psp_reference))
                continue;
            pb_store_recon_item *it = item_new(x, "missing_psp", kind, wd[i].psp_reference);
            if (!it)
                e = PB_ERR_INTERNAL;
            else
                item_ours(it, wd[i].brand_id, wd[i].brand, wd[i].id, wd[i].status, wd[i].amount,
                          wd[i].currency);
        }
    }
    free(pay);
    free(wd);
    return e;
}

/* The report's rows inside the period, indexed; a duplicate key refuses it. */
static pb_err index_rows(recon_ctx *x, char *why, size_t whycap)
{
    x->order = malloc((x->report.n ? x->report.n : 1) * sizeof *x->order);
    if (!x->order)
        return PB_ERR_INTERNAL;
    for (size_t i = 0; i < x->report.n; i++) {
        int64_t at = x->report.rows[i].settled_at;
        if (at >= x->rq->from && at < x->rq->to)
            x->order[x->nin++] = i;
        else
            x->run.psp_rows_outside++;
    }
    x->run.psp_rows = (int64_t)x->nin;
    qsort_r(x->order, x->nin, sizeof *x->order, order_cmp, x->report.rows);
    for (size_t i = 1; i < x->nin; i++) {
        const pb_psp_settlement_row *a = &x->report.rows[x->order[i - 1]];
        const pb_psp_settlement_row *b = &x->report.rows[x->order[i]];
        if (key_cmp(a, b->kind, b->reference) == 0) {
            snprintf(why, whycap, "reference %s is listed twice as a %s", b->reference,
                     pb_psp_row_kind_name(b->kind));
            return PB_ERR_SETTLEMENT_REPORT_INVALID;
        }
    }
    return PB_OK;
}

/* Our side, read in one snapshot: every PSP row (in the report's order), then ours. */
static pb_err compare(recon_ctx *x)
{
    if (pb_store_begin(x->c, PB_STORE_READ) != PB_STORE_OK)
        return PB_ERR_STORE_UNAVAILABLE;
    pb_err e = PB_OK;
    for (size_t i = 0; e == PB_OK && i < x->report.n; i++) {
        const pb_psp_settlement_row *row = &x->report.rows[i];
        if (row->settled_at < x->rq->from || row->settled_at >= x->rq->to)
            continue;
        e = row->kind == PB_PSP_ROW_DEPOSIT ? deposit_row(x, row) : payout_row(x, row);
    }
    if (e == PB_OK)
        e = missing_psp(x);
    pb_store_rollback(x->c);
    return e;
}

static pb_err write_command(pb_ledger_tx *tx, void *arg)
{
    recon_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    if (cashier_actor_check(tx, x->a, &x->result) != PB_OK)
        return PB_ERR_INTERNAL;
    if (x->result != PB_OK)
        return PB_OK;
    x->run.created_at = pb_ledger_tx_now(tx);
    if (pb_store_recon_insert(c, &x->run, &x->run.seq) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    for (size_t i = 0; i < x->nitems; i++)
        if (pb_store_recon_item_insert(c, x->run.seq, &x->items[i]) != PB_STORE_OK)
            return PB_ERR_INTERNAL;
    const pb_store_recon *r = &x->run;
    char from[40], to[40];
    pb_time_format(r->period_from, from, sizeof from);
    pb_time_format(r->period_to, to, sizeof to);
    json_t *counts = json_pack("{s:I,s:I,s:I,s:I,s:I}", "matched", (json_int_t)r->matched,
                               "missing_ours", (json_int_t)r->missing_ours, "status_mismatch",
                               (json_int_t)r->status_mismatch, "amount_mismatch",
                               (json_int_t)r->amount_mismatch, "missing_psp",
                               (json_int_t)r->missing_psp);
    char *counts_text = counts ? json_dumps(counts, JSON_COMPACT) : NULL;
    json_t *after = counts ? json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:O}", "psp", r->psp, "from", from,
                                       "to", to, "source", r->source, "psp_rows",
                                       (json_int_t)r->psp_rows, "psp_rows_outside",
                                       (json_int_t)r->psp_rows_outside, "counts", counts)
                           : NULL;
    json_decref(counts);
    pb_err e = counts_text && after ? PB_OK : PB_ERR_INTERNAL;
    /* @events: in the run's transaction, so it commits with its rows */
    if (e == PB_OK &&
        pb_events_emit(c, "reconciliation.completed", NULL, NULL, x->a->trace_id, r->created_at,
                       PB_EV_STR("reconciliation_id", r->id), PB_EV_STR("psp", r->psp),
                       PB_EV_STR("from", from), PB_EV_STR("to", to), PB_EV_STR("source", r->source),
                       PB_EV_JSON("counts", counts_text)) != PB_OK)
        e = PB_ERR_INTERNAL;
    free(counts_text);
    if (e != PB_OK) {
        json_decref(after);
        return e;
    }
    return pb_cashier_audit(tx, x->a, NULL, "reconciliation.run", "reconciliation", r->id, NULL,
                            after, NULL);
}

/* The period's checks: why names the field. */
static pb_err period_ok(const pb_cashier_recon_request *rq, char *why, size_t whycap)
{
    if (rq->from <= 0) {
        snprintf(why, whycap, "from: an RFC 3339 date-time after 1970");
        return PB_ERR_FIELD_INVALID;
    }
    if (rq->to <= rq->from) {
        snprintf(why, whycap, "to: must be after from");
        return PB_ERR_FIELD_INVALID;
    }
    if (rq->to - rq->from > PB_CASHIER_RECON_MAX_PERIOD_US) {
        snprintf(why, whycap, "to: a period of at most 31 days");
        return PB_ERR_FIELD_INVALID;
    }
    return PB_OK;
}

pb_err pb_cashier_reconcile(pb_cashier *k, pb_store_conn *c, const pb_cashier_recon_request *rq,
                            const pb_cashier_actor *a, pb_store_recon *out, char *why,
                            size_t whycap)
{
    why[0] = 0;
    memset(out, 0, sizeof *out);
    recon_ctx x = {.c = c, .rq = rq, .a = a, .now = pb_time_now_us()};
    x.psp = rq->psp ? pb_cashier_psp(k, rq->psp) : NULL;
    if (!x.psp) {
        snprintf(why, whycap, "psp: no such payment provider");
        return PB_ERR_PSP_NOT_FOUND;
    }
    pb_err e = period_ok(rq, why, whycap);
    if (e != PB_OK)
        return e;
    bool upload = rq->report != NULL;
    if (upload ? !x.psp->report_parse : !x.psp->report_fetch) {
        snprintf(why, whycap, "psp: %s offers no report %s", x.psp->code,
                 upload ? "file to upload" : "to fetch");
        return PB_ERR_SETTLEMENT_REPORT_UNSUPPORTED;
    }
    e = upload ? x.psp->report_parse(x.psp, rq->report, rq->report_len, &x.report, why, whycap)
               : x.psp->report_fetch(x.psp, rq->from, rq->to, &x.report, why, whycap);
    pb_id id;
    pb_id_new(&id);
    pb_id_to_string(&id, x.run.id);
    snprintf(x.run.psp, sizeof x.run.psp, "%s", x.psp->code);
    x.run.period_from = rq->from;
    x.run.period_to = rq->to;
    snprintf(x.run.source, sizeof x.run.source, "%s", upload ? "upload" : "fetch");
    snprintf(x.run.run_by, sizeof x.run.run_by, "%s", a->id ? a->id : "");
    if (e == PB_OK)
        e = index_rows(&x, why, whycap);
    if (e == PB_OK)
        e = compare(&x);
    if (e == PB_OK)
        e = pb_ledger_command(k->ledger, write_command, &x);
    if (e == PB_OK)
        e = x.result;
    if (e == PB_OK)
        *out = x.run;
    pb_psp_report_free(&x.report);
    free(x.order);
    free(x.items);
    return e;
}

pb_err pb_cashier_recon_get(pb_store_conn *c, const char *id, pb_store_recon *out)
{
    pb_id parsed;
    if (!id || pb_id_parse(id, strlen(id), &parsed) != 0)
        return PB_ERR_RECONCILIATION_NOT_FOUND;
    return cashier_store_read(pb_store_recon_get(c, id, out), PB_ERR_RECONCILIATION_NOT_FOUND);
}

pb_err pb_cashier_recon_list(pb_store_conn *c, int64_t cursor, size_t limit, pb_store_recon *out,
                             size_t *n, int64_t *next)
{
    *next = 0;
    pb_store_rc rc = pb_store_recon_list(c, cursor, limit, out, n);
    if (rc != PB_STORE_OK)
        return cashier_store_read(rc, PB_ERR_INTERNAL);
    if (*n == limit && limit)
        *next = out[*n - 1].seq;
    return PB_OK;
}

pb_err pb_cashier_recon_items(pb_store_conn *c, const pb_store_recon *r,
                              const pb_brand_scope *scope, int64_t after_n, size_t limit,
                              pb_store_recon_item *out, size_t *n, int64_t *next)
{
    char buf[PB_SCOPE_MAX_BRANDS * 24];
    *next = 0;
    pb_store_rc rc = pb_store_recon_items(c, r->seq, pb_cashier_scope_json(scope, buf, sizeof buf),
                                          after_n, limit, out, n);
    if (rc != PB_STORE_OK)
        return cashier_store_read(rc, PB_ERR_INTERNAL);
    if (*n == limit && limit)
        *next = out[*n - 1].n;
    return PB_OK;
}
