/*
 * deposit_credit.c — a deposit completed by finance on a fetched reconciliation's
 * evidence (cashier.h, pb_cashier_deposit_credit): the PSP collected the money
 * (its report, fetched from it, lists the deposit settled) but our payment is
 * pending, expired or failed — the player paid and was never credited. The
 * completion is the one the PSP's deposit.succeeded makes (webhook.c,
 * cashier_deposit_settle), in one ledger command, audited payment.completed with
 * the staff member as actor and a reason naming the run. An uploaded report is
 * staff-supplied, not the PSP's word: it is no evidence here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cashier/cashier_internal.h"
#include "core/log.h"

#define ITEMS_PAGE 200

typedef struct credit_ctx {
    const pb_cashier_actor *a;
    const char *reason; /* the audit entry's */
    cashier_deposit_accounts acc;
    pb_store_payment p;
    pb_err result;
} credit_ctx;

static pb_err credit_command(pb_ledger_tx *tx, void *arg)
{
    credit_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    if (cashier_actor_check(tx, x->a, &x->result) != PB_OK)
        return PB_ERR_INTERNAL;
    if (x->result != PB_OK)
        return PB_OK;
    /* re-read here: a webhook or another member may have completed it meanwhile */
    if (pb_store_payment_get(c, x->p.id, &x->p) != PB_STORE_OK)
        return PB_ERR_INTERNAL; /* read before the command: it exists */
    if (strcmp(x->p.status, "pending") != 0 && strcmp(x->p.status, "failed") != 0) {
        x->result = PB_ERR_PAYMENT_STATE; /* completed already: nothing moves */
        return PB_OK;
    }
    return cashier_deposit_settle(tx, &x->p, true, &x->acc, x->a, x->reason, &x->result);
}

/* Whether run r has the status_mismatch deposit item that shows the PSP settled
 * payment p for its amount and currency (*found); a store failure otherwise. */
static pb_err evidence_find(pb_store_conn *c, const pb_store_recon *r, const pb_store_payment *p,
                            bool *found)
{
    *found = false;
    pb_store_recon_item *items = malloc(ITEMS_PAGE * sizeof *items);
    if (!items)
        return PB_ERR_INTERNAL;
    pb_err e = PB_OK;
    int64_t after = 0;
    for (;;) {
        size_t n = 0;
        if (pb_store_recon_items(c, r->seq, NULL, after, ITEMS_PAGE, items, &n) != PB_STORE_OK) {
            e = PB_ERR_STORE_UNAVAILABLE;
            break;
        }
        for (size_t i = 0; i < n && !*found; i++) {
            const pb_store_recon_item *it = &items[i];
            *found = strcmp(it->cls, "status_mismatch") == 0 && strcmp(it->kind, "deposit") == 0 &&
                     strcmp(it->reference, p->psp_reference) == 0 && it->has_psp &&
                     strcmp(it->psp_status, "settled") == 0 && it->psp_amount == p->amount &&
                     strcmp(it->psp_currency, p->currency) == 0;
        }
        if (*found || n < ITEMS_PAGE)
            break;
        after = items[n - 1].n;
    }
    free(items);
    return e;
}

pb_err pb_cashier_deposit_credit(pb_cashier *k, pb_store_conn *c, const pb_brand_scope *scope,
                                 const char *payment_id, const char *recon_id, const char *reason,
                                 const pb_cashier_actor *a, pb_store_payment *out, char *why,
                                 size_t whycap)
{
    why[0] = 0;
    credit_ctx x = {.a = a};
    pb_err e = pb_cashier_payment_get(c, scope, payment_id, &x.p);
    if (e != PB_OK)
        return e;
    pb_store_recon r;
    if ((e = pb_cashier_recon_get(c, recon_id, &r)) != PB_OK)
        return e;
    if (strcmp(r.source, "fetch") != 0) {
        snprintf(why, whycap,
                 "reconciliation %s was made from an uploaded file: only a report fetched from "
                 "the PSP is its word",
                 r.id);
        return PB_ERR_RECONCILIATION_NO_EVIDENCE;
    }
    bool found = false;
    if (strcmp(r.psp, x.p.psp) == 0 && (e = evidence_find(c, &r, &x.p, &found)) != PB_OK)
        return e;
    if (!found) {
        snprintf(why, whycap,
                 "reconciliation %s has no status_mismatch item of deposit %s settled at the "
                 "PSP for %lld %s",
                 r.id, x.p.psp_reference, (long long)x.p.amount, x.p.currency);
        return PB_ERR_RECONCILIATION_NO_EVIDENCE;
    }
    if (strcmp(x.p.status, "completed") == 0)
        return PB_ERR_PAYMENT_STATE; /* re-checked in the command */
    /* the accounts of the credit, made here, outside the command, as the webhook does */
    if ((e = cashier_deposit_accounts_of(k, c, &x.p, &x.acc)) != PB_OK)
        return e;
    char head[200], text[PB_AUDIT_REASON_MAX + 1];
    snprintf(head, sizeof head,
             "completed by finance on reconciliation %s (the PSP's fetched report lists it "
             "settled): ",
             r.id);
    x.reason = cashier_reason_join(text, sizeof text, head, reason);
    e = pb_ledger_command(k->ledger, credit_command, &x);
    if (e == PB_OK)
        e = x.result;
    if (e != PB_OK)
        return e;
    pb_log(PB_LOG_INFO, "cashier.deposit_credit",
           "payment=%s completed by staff %s on reconciliation %s: %lld %s", x.p.id, a->id, r.id,
           (long long)x.p.amount, x.p.currency);
    *out = x.p;
    return PB_OK;
}
