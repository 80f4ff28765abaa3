/*
 * approvals.c — which approvals of a withdrawal count (see withdrawal.c for the
 * state machine and the 4-eyes rule).
 *
 * An approval counts towards approvals_required only while its member could give
 * it now: the member is active, their role grants finance.withdrawals.approve and
 * their scope holds the withdrawal's brand. A member disabled, demoted or
 * re-scoped after approving no longer vouches for the withdrawal, so their
 * approval lapses: the row is kept and marked (lapsed_at, lapsed_reason), never
 * deleted, and stops counting; the member, given the right back, must approve
 * again (a new row).
 *
 * Judged inside a ledger command, on the writer's transaction, at the two points
 * that rely on the count: each approval (approve_command, withdrawal.c, before it
 * counts the approvals already given) and the payout's send (recheck_command,
 * payout.c, just before the PSP is called — also before each resend by the retry
 * pass). Recording "processing" would be too late: the PSP has the payout by then.
 * When too few remain at the send, the withdrawal goes back to pending_approval
 * (hold untouched), announced and audited as withdrawal.approval_lapsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cashier/cashier_internal.h"
#include "identity/identity.h"

pb_err cashier_approver_lapse(pb_store_conn *c, const char *staff_id, int64_t brand_id,
                              const char **why)
{
    *why = NULL;
    pb_staff *st = malloc(sizeof *st);
    if (!st)
        return PB_ERR_INTERNAL;
    pb_err e = pb_identity_staff_get(c, staff_id, st);
    if (e == PB_ERR_STAFF_NOT_FOUND)
        *why = PB_CASHIER_LAPSE_STAFF_NOT_FOUND; /* fail closed: nobody vouches for it */
    else if (e != PB_OK)
        e = PB_ERR_INTERNAL;
    else if (!st->active)
        *why = PB_CASHIER_LAPSE_STAFF_DISABLED;
    else if (!pb_rbac_allows(st->role, PB_PERM_FINANCE_WITHDRAWALS_APPROVE))
        *why = PB_CASHIER_LAPSE_PERMISSION_REVOKED;
    else if (!pb_brand_scope_allows(&st->scope, brand_id))
        *why = PB_CASHIER_LAPSE_BRAND_OUT_OF_SCOPE;
    free(st);
    return e == PB_ERR_STAFF_NOT_FOUND ? PB_OK : e;
}

pb_err cashier_approvals_judge(pb_store_conn *c, const pb_store_withdrawal *w,
                               cashier_approvals *out)
{
    memset(out, 0, sizeof *out);
    if (pb_store_withdrawal_approval_list(c, w->id, out->ap, PB_CASHIER_MAX_APPROVALS, &out->n) !=
        PB_STORE_OK)
        return PB_ERR_INTERNAL;
    for (size_t i = 0; i < out->n; i++) {
        if (out->ap[i].lapsed_at)
            continue; /* lapsed before: never counts again */
        if (cashier_approver_lapse(c, out->ap[i].staff_id, w->brand_id, &out->why[i]) != PB_OK)
            return PB_ERR_INTERNAL;
        if (out->why[i])
            out->lapsing++;
        else
            out->standing++;
    }
    return PB_OK;
}

pb_err cashier_approvals_lapse(pb_ledger_tx *tx, cashier_approvals *j, json_t **lapsed)
{
    *lapsed = NULL;
    if (!j->lapsing)
        return PB_OK;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    json_t *arr = json_array();
    if (!arr)
        return PB_ERR_INTERNAL;
    for (size_t i = 0; i < j->n; i++) {
        if (!j->why[i])
            continue;
        pb_store_withdrawal_approval *a = &j->ap[i];
        if (pb_store_withdrawal_approval_lapse(c, a->withdrawal_id, a->staff_id, now, j->why[i]) !=
                PB_STORE_OK ||
            json_array_append_new(arr,
                                  json_pack("{s:s,s:s,s:I,s:s}", "staff_id", a->staff_id, "role",
                                            a->role, "approved_at", (json_int_t)a->approved_at,
                                            "lapsed_reason", j->why[i])) != 0) {
            json_decref(arr);
            return PB_ERR_INTERNAL;
        }
        a->lapsed_at = now;
        snprintf(a->lapsed_reason, sizeof a->lapsed_reason, "%s", j->why[i]);
    }
    *lapsed = arr;
    return PB_OK;
}
