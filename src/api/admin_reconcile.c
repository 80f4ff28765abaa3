/*
 * admin_reconcile.c — the PSP reconciliation for finance staff (cashier.h,
 * pb_cashier_reconcile: what is compared, the classes, the period's edges):
 *
 *   POST /v1/admin/reconciliations {psp, from, to}          finance.adjust
 *        the PSP's report of [from, to) fetched by its adapter (report_fetch)
 *   POST /v1/admin/reconciliations/upload?psp=&from=&to=    finance.adjust
 *        the PSP's report file as the body (Content-Type text/csv, at most
 *        PB_PSP_REPORT_MAX_BYTES), parsed by its adapter (report_parse)
 *   GET  /v1/admin/reconciliations?limit=&cursor=           finance.read
 *   GET  /v1/admin/reconciliations/{id}?limit=&cursor=      finance.read
 *        the run and a page of its discrepancies (cursor: the last item's n)
 *   GET  /v1/admin/psps                                     finance.read
 *        the PSPs this server has, and which reports each can reconcile
 *        (report_fetch, report_parse): what the back office offers to run
 *
 * from / to are RFC 3339 date-times, from < to, at most 31 days apart. Both runs
 * answer 201 with the run as GET shows it. Refusals store nothing: an unknown psp
 * 404 PSP_NOT_FOUND; a PSP without that kind of report 422
 * SETTLEMENT_REPORT_UNSUPPORTED; a bad period 422 FIELD_INVALID naming from or to;
 * a report that cannot be read 422 SETTLEMENT_REPORT_INVALID naming the line; a
 * file too large 413 PAYLOAD_TOO_LARGE; another content type 415; a PSP that did
 * not answer 502 PSP_UNAVAILABLE.
 *
 * Permissions: running needs finance.adjust (finance and admin only: a run is
 * finance's control, though it moves no money); reading finance.read. A PSP report
 * spans brands: every finance.read member sees the runs and their counts, but a
 * brand-scoped member sees only the discrepancies of their brands (a missing_ours
 * item has no brand: only all-brands members see it).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/admin.h"
#include "api/admin_cashier.h"
#include "api/api.h"
#include "cashier/cashier.h"
#include "core/time.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

static json_t *run_json(const pb_store_recon *r)
{
    return json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I},s:o}", "id", r->id,
                     "psp", r->psp, "from", pb_admin_time_json(r->period_from), "to",
                     pb_admin_time_json(r->period_to), "source", r->source, "run_by", r->run_by,
                     "psp_rows", (json_int_t)r->psp_rows, "psp_rows_outside",
                     (json_int_t)r->psp_rows_outside, "counts", "matched", (json_int_t)r->matched,
                     "missing_ours", (json_int_t)r->missing_ours, "status_mismatch",
                     (json_int_t)r->status_mismatch, "amount_mismatch",
                     (json_int_t)r->amount_mismatch, "missing_psp", (json_int_t)r->missing_psp,
                     "created_at", pb_admin_time_json(r->created_at));
}

/* Our record's status now (a run stores it as the run saw it), into now (cap 20):
 * whether the discrepancy was since resolved, e.g. a deposit completed on the run's
 * evidence. "" when it cannot be read (gone: an erasure keeps cashier rows). */
static pb_err status_now(pb_store_conn *c, const pb_principal *p, const pb_store_recon_item *it,
                         char now[20])
{
    now[0] = 0;
    if (!it->has_ours)
        return PB_OK;
    pb_err e;
    if (strcmp(it->kind, "deposit") == 0) {
        pb_store_payment pay;
        e = pb_cashier_payment_get(c, &p->scope, it->our_id, &pay);
        if (e == PB_OK) {
            pb_cashier_deposit_view(c, &pay, pb_time_now_us());
            snprintf(now, 20, "%s", pay.status);
        }
    } else {
        pb_store_withdrawal w;
        e = pb_cashier_withdrawal_get(c, &p->scope, NULL, it->our_id, &w);
        if (e == PB_OK)
            snprintf(now, 20, "%s", w.status);
    }
    return e == PB_ERR_PAYMENT_NOT_FOUND || e == PB_ERR_WITHDRAWAL_NOT_FOUND ? PB_OK : e;
}

static json_t *item_json(const pb_store_recon_item *it, const char *now)
{
    json_t *ours = it->has_ours
                       ? json_pack("{s:s,s:s,s:o*,s:s,s:s?}", "id", it->our_id, "status",
                                   it->our_status, "amount",
                                   pb_admin_amount_json(it->our_amount, it->our_currency),
                                   "currency", it->our_currency, "status_now", now[0] ? now : NULL)
                       : json_null();
    json_t *psp = it->has_psp ? json_pack("{s:s,s:o*,s:s,s:o}", "status", it->psp_status, "amount",
                                          pb_admin_amount_json(it->psp_amount, it->psp_currency),
                                          "currency", it->psp_currency, "settled_at",
                                          pb_admin_time_json(it->psp_settled_at))
                              : json_null();
    return json_pack("{s:I,s:s,s:s,s:s,s:s?,s:o*,s:o*}", "n", (json_int_t)it->n, "class", it->cls,
                     "kind", it->kind, "reference", it->reference, "brand",
                     it->brand_id ? it->brand : NULL, "ours", ours, "psp", psp);
}

/* The run with a page of its items in p's scope (after item `cursor`), or NULL. */
static json_t *detail_json(pb_http_request *req, pb_store_conn *c, const pb_principal *p,
                           const pb_store_recon *r, int64_t cursor, int64_t limit, pb_err *e)
{
    pb_store_recon_item *items = pb_http_alloc(req, (size_t)limit * sizeof *items);
    size_t n = 0;
    int64_t next = 0;
    *e = items ? pb_cashier_recon_items(c, r, &p->scope, cursor, (size_t)limit, items, &n, &next)
               : PB_ERR_INTERNAL;
    json_t *o = *e == PB_OK ? run_json(r) : NULL;
    json_t *arr = o ? json_array() : NULL;
    char now[20];
    for (size_t i = 0; arr && i < n; i++)
        if ((*e = status_now(c, p, &items[i], now)) != PB_OK ||
            json_array_append_new(arr, item_json(&items[i], now)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    if (!arr || json_object_set_new(o, "items", arr) != 0 ||
        json_object_set_new(o, "next_cursor", pb_admin_cursor_json(next)) != 0) {
        json_decref(o);
        if (*e == PB_OK)
            *e = PB_ERR_INTERNAL;
        return NULL;
    }
    return o;
}

/* Runs rq for the caller and answers 201 with the run, or the refusal. */
static void run(pb_http_request *req, pb_api_app *a, pb_cashier_recon_request *rq)
{
    const pb_principal *p = pb_api_principal(req);
    pb_store_conn *c = pb_http_conn(req);
    if (!c || !p) {
        pb_http_reply_error(req, c ? PB_ERR_UNAUTHENTICATED : PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    pb_cashier_actor actor = pb_admin_cashier_actor(req, p);
    pb_store_recon r;
    char why[200];
    pb_err e = pb_cashier_reconcile(a->cashier, c, rq, &actor, &r, why, sizeof why);
    if (e != PB_OK) {
        const char *field = e == PB_ERR_PSP_NOT_FOUND || e == PB_ERR_SETTLEMENT_REPORT_UNSUPPORTED
                                ? "psp"
                            : e == PB_ERR_FIELD_INVALID
                                ? (strncmp(why, "to:", 3) == 0 ? "to" : "from")
                            : e == PB_ERR_SETTLEMENT_REPORT_INVALID ? "report"
                                                                    : NULL;
        if (why[0])
            pb_http_reply_error_msg(req, e, field, why);
        else
            pb_admin_fail(req, e, field);
        return;
    }
    json_t *o = detail_json(req, c, p, &r, 0, PAGE_DEFAULT, &e);
    if (!o) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 201, o);
}

void pb_api_admin_reconciliation_run(pb_http_request *req, void *app)
{
    const char *psp = NULL;
    int64_t from = 0, to = 0;
    pb_json_field f[] = {
        {.name = "psp",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_STORE_CASHIER_PSP_MAX,
         .str = &psp},
        {.name = "from", .type = PB_JSON_TIME, .required = true, .i64 = &from},
        {.name = "to", .type = PB_JSON_TIME, .required = true, .i64 = &to},
    };
    if (!pb_http_parse_json(req, f, 3))
        return;
    pb_cashier_recon_request rq = {.psp = psp, .from = from, .to = to};
    run(req, app, &rq);
}

/* Whether the body is sent as text/csv (parameters such as charset allowed). */
static bool csv_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("text/csv");
    return strncasecmp(ct, "text/csv", n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

void pb_api_admin_reconciliation_upload(pb_http_request *req, void *app)
{
    const char *psp = NULL;
    int64_t from = 0, to = 0;
    if (!pb_admin_query_str(req, "psp", PB_STORE_CASHIER_PSP_MAX, &psp) ||
        !pb_admin_query_time(req, "from", &from) || !pb_admin_query_time(req, "to", &to))
        return;
    const char *missing = !psp ? "psp" : !from ? "from" : !to ? "to" : NULL;
    if (missing) {
        char msg[80];
        snprintf(msg, sizeof msg, "query parameter %s is required", missing);
        pb_http_reply_error_msg(req, PB_ERR_FIELD_MISSING, missing, msg);
        return;
    }
    if (!csv_type(pb_http_header(req, "Content-Type"))) {
        pb_http_reply_error_msg(req, PB_ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
                                "the report must be sent as Content-Type: text/csv");
        return;
    }
    size_t len = 0;
    const char *body = pb_http_body(req, &len);
    if (len > PB_PSP_REPORT_MAX_BYTES) {
        char msg[80];
        snprintf(msg, sizeof msg, "a report file of at most %d bytes", PB_PSP_REPORT_MAX_BYTES);
        pb_http_reply_error_msg(req, PB_ERR_PAYLOAD_TOO_LARGE, NULL, msg);
        return;
    }
    pb_cashier_recon_request rq = {
        .psp = psp, .from = from, .to = to, .report = body ? body : "", .report_len = len};
    run(req, app, &rq);
}

void pb_api_admin_reconciliations_list(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = NULL;
    pb_store_conn *c = NULL;
    int64_t limit = PAGE_DEFAULT, cursor = 0;
    if (!pb_admin_list_begin(req, &p, &c) ||
        !pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit) ||
        !pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor))
        return;
    pb_store_recon *rows = pb_http_alloc(req, (size_t)limit * sizeof *rows);
    size_t n = 0;
    int64_t next = 0;
    pb_err e = rows ? pb_cashier_recon_list(c, cursor, (size_t)limit, rows, &n, &next)
                    : PB_ERR_INTERNAL;
    json_t *items = e == PB_OK ? json_array() : NULL;
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(items, run_json(&rows[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    if (!items) {
        pb_http_reply_error(req, e != PB_OK ? e : PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:o}", "items", items, "next_cursor",
                                 pb_admin_cursor_json(next)));
}

void pb_api_admin_reconciliation_get(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = NULL;
    pb_store_conn *c = NULL;
    int64_t limit = PAGE_DEFAULT, cursor = 0;
    if (!pb_admin_list_begin(req, &p, &c) ||
        !pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit) ||
        !pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor))
        return;
    pb_store_recon r;
    pb_err e = pb_cashier_recon_get(c, pb_http_param(req, "id"), &r);
    json_t *o = e == PB_OK ? detail_json(req, c, p, &r, cursor, limit, &e) : NULL;
    if (!o) {
        pb_http_reply_error(req, e != PB_OK ? e : PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200, o);
}

void pb_api_admin_psps_list(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const pb_principal *p = NULL;
    pb_store_conn *c = NULL;
    if (!pb_admin_list_begin(req, &p, &c))
        return;
    json_t *arr = json_array();
    pb_psp *psp = NULL;
    for (size_t i = 0; arr && (psp = pb_cashier_psp_at(a->cashier, i)) != NULL; i++)
        if (json_array_append_new(arr, json_pack("{s:s,s:b,s:b}", "code", psp->code, "report_fetch",
                                                 psp->report_fetch != NULL, "report_parse",
                                                 psp->report_parse != NULL)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    if (!arr) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200, json_pack("{s:o}", "psps", arr));
}
