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
 * (hold untouched).
 *
 * Every lapse is audited and announced as withdrawal.approval_lapsed, whether the
 * withdrawal goes back from approved or stays pending_approval (a first of two
 * approvals lapsing, or one found lapsed at the next approval): staff watching the
 * approval queue see a counted approval vanish, not only a status change. The
 * event's payload says how many approvals still count ("approvals").
 *
 * And at the moment of the change itself: the admin staff route, in the write
 * transaction that disables a member, changes their role or their brand scope,
 * judges that member's standing approvals of withdrawals not yet sent again
 * (pb_cashier_staff_approvals_judge), so a member disabled and re-enabled before
 * the next look does not come back with their approval still counting. The two
 * looks above stay: they also catch a change made another way (a member's row
 * edited by the CLI, a role's permissions changed by an upgrade).
 *
 * How many approvals count as enough is judged at the same two looks (each
 * approval, the payout's send): the stricter of what the withdrawal needed when it
 * was requested (approvals_required on the row) and what the brand's
 * withdrawal_4eyes_thresholds ask for it today (cashier_approvals_required_now).
 * Compliance lowering a threshold (a fraud wave) thus reaches the withdrawals
 * already waiting between the new and the old one; raising it never relaxes one.
 * And at the change itself: the admin brand route, in the write transaction that
 * stores a change of the brand's withdrawal_4eyes_thresholds, judges the brand's
 * approved withdrawals not yet sent again (pb_cashier_brand_approvals_judge), so
 * one approved under the old threshold does not stay "approved" until its payout's
 * send (a payout held back by a PSP could wait there for long).
 * A requirement raised is written to the row (it never goes down again), and an
 * approved withdrawal left short goes back to pending_approval (hold kept) by the
 * lapse's own path: audited withdrawal.approval_lapsed, announced with the reason
 * "threshold_lowered" (PB_CASHIER_RAISE_THRESHOLD_LOWERED). The approvals already
 * given keep counting: the member who gave one cannot give the second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cashier/cashier_internal.h"
#include "events/events.h"
#include "identity/identity.h"
#include "tenancy/tenancy.h"

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

pb_err cashier_approvals_required_now(pb_store_conn *c, const pb_store_withdrawal *w, int *out)
{
    *out = w->approvals_required;
    pb_brand *b = malloc(sizeof *b);
    if (!b)
        return PB_ERR_INTERNAL;
    pb_err e = pb_tenancy_brand_get(c, w->brand_id, b);
    if (e == PB_OK) {
        /* fail-safe, as at the request: a currency without a threshold needs two */
        int64_t threshold = 0;
        bool has = pb_tenancy_setting_for_currency(b->settings, "withdrawal_4eyes_thresholds",
                                                   w->currency, &threshold);
        int today = !has || w->amount >= threshold ? 2 : 1;
        if (today > *out)
            *out = today;
    }
    free(b);
    return e == PB_OK ? PB_OK : PB_ERR_INTERNAL;
}

pb_err cashier_approvals_judge(pb_store_conn *c, const pb_store_withdrawal *w,
                               cashier_approvals *out)
{
    memset(out, 0, sizeof *out);
    if (cashier_approvals_required_now(c, w, &out->required) != PB_OK)
        return PB_ERR_INTERNAL;
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

pb_err cashier_approval_lapsed_emit(pb_store_conn *c, int64_t now, const pb_store_withdrawal *w,
                                    size_t standing, const char *reason, const char *trace_id)
{
    return pb_events_emit(c, "withdrawal.approval_lapsed", w->brand, w->player, trace_id, now,
                          PB_EV_STR("withdrawal_id", w->id), PB_EV_STR("status", w->status),
                          PB_EV_STR("psp", w->psp), PB_EV_STR("requested_by", w->requested_by),
                          PB_EV_MONEY("amount", w->amount, w->currency),
                          PB_EV_INT("approvals", (int64_t)standing),
                          PB_EV_INT("approvals_required", (int64_t)w->approvals_required),
                          PB_EV_STR("reason", reason)) == PB_OK
               ? PB_OK
               : PB_ERR_INTERNAL;
}

static pb_err approvals_lapse_at(pb_store_conn *c, int64_t now, cashier_approvals *j,
                                 json_t **lapsed)
{
    *lapsed = NULL;
    if (!j->lapsing)
        return PB_OK;
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

pb_err cashier_approvals_lapse(pb_ledger_tx *tx, cashier_approvals *j, json_t **lapsed)
{
    return approvals_lapse_at(pb_ledger_tx_conn(tx), pb_ledger_tx_now(tx), j, lapsed);
}

pb_err cashier_approvals_apply(pb_store_conn *c, int64_t now, pb_store_withdrawal *w,
                               cashier_approvals *j, const pb_cashier_actor *a, const char *when,
                               bool *back)
{
    *back = false;
    size_t given = j->standing + j->lapsing, n = j->standing;
    bool raised = j->required > w->approvals_required;
    json_t *lapsed = NULL;
    pb_err e = approvals_lapse_at(c, now, j, &lapsed);
    if (e != PB_OK || (!lapsed && !raised))
        return e;
    json_t *before = cashier_withdrawal_json(w, given);
    if (raised) /* never lowered again: the row keeps the stricter rule */
        w->approvals_required = j->required;
    *back = strcmp(w->status, "approved") == 0 && (int)n < w->approvals_required;
    if (*back)
        snprintf(w->status, sizeof w->status, "pending_approval");
    if (*back || raised)
        w->updated_at = now;
    /* announced whether it went back or stays pending_approval when an approval
     * lapsed (a counted approval vanished either way); a raised requirement alone
     * only when it sent the withdrawal back */
    if (((*back || raised) && pb_store_withdrawal_update(c, w) != PB_STORE_OK) ||
        ((lapsed || *back) &&
         cashier_approval_lapsed_emit(c, now, w, n,
                                      raised ? PB_CASHIER_RAISE_THRESHOLD_LOWERED
                                             : PB_CASHIER_LAPSE_APPROVER,
                                      a->trace_id) != PB_OK)) {
        json_decref(before);
        json_decref(lapsed);
        return PB_ERR_INTERNAL;
    }
    json_t *after = cashier_withdrawal_json(w, n);
    if (after && lapsed)
        json_object_set(after, "lapsed", lapsed);
    if (after && raised)
        json_object_set_new(after, "approvals_required_raised",
                            json_string(PB_CASHIER_RAISE_THRESHOLD_LOWERED));
    json_decref(lapsed);
    /* "approver lost the right <when>", "the brand's 4-eyes threshold was lowered since
     * the request: two approvals needed <when>", or both (one look found both) */
    static const char RAISED[] =
        "the brand's 4-eyes threshold was lowered since the request: two approvals needed";
    char reason[256];
    if (lapsed && raised)
        snprintf(reason, sizeof reason, "approver lost the right %s; %s%s", when, RAISED,
                 *back ? ": back to pending_approval" : "");
    else
        snprintf(reason, sizeof reason, "%s %s%s", lapsed ? "approver lost the right" : RAISED,
                 when, *back ? ": back to pending_approval" : "");
    return cashier_audit_at(c, now, a, w->brand, "withdrawal.approval_lapsed", "withdrawal", w->id,
                            before, after, reason);
}

/* One withdrawal judged again, its lapses applied (see
 * pb_cashier_staff_approvals_judge and pb_cashier_brand_approvals_judge): an
 * approver who lost the right lapses; with `threshold`, a requirement raised by
 * the brand's threshold today is applied too. *changed: something was applied;
 * *back: it went back from approved to pending_approval. */
static pb_err change_judge(pb_cashier *k, pb_store_conn *c, const char *withdrawal_id, int64_t now,
                           const pb_cashier_actor *a, bool threshold, const char *when,
                           bool *changed, bool *back)
{
    *changed = *back = false;
    pb_store_withdrawal *w = malloc(sizeof *w);
    cashier_approvals *j = malloc(sizeof *j);
    pb_err e = w && j ? PB_OK : PB_ERR_INTERNAL;
    if (e == PB_OK && pb_store_withdrawal_get(c, withdrawal_id, w) != PB_STORE_OK)
        e = PB_ERR_INTERNAL;
    /* an approved one whose payout a thread is sending now (its claim held) is left to
     * that send's re-check, which runs after this transaction (the ledger writer waits
     * for the store's write lock): past it, the PSP may have the payout already, and
     * pending_approval would let it be approved and sent again. One not claimed now
     * is sent only after a claim and a re-check that see this transaction's outcome. */
    bool skip = false;
    if (e == PB_OK && k && strcmp(w->status, "approved") == 0) {
        skip = !cashier_payout_claim(k, w->id);
        if (!skip)
            cashier_payout_release(k, w->id);
    }
    if (e == PB_OK && !skip)
        e = cashier_approvals_judge(c, w, j);
    if (e == PB_OK && !skip && (j->lapsing || (threshold && j->required > w->approvals_required))) {
        e = cashier_approvals_apply(c, now, w, j, a, when, back);
        *changed = e == PB_OK;
    }
    free(w);
    free(j);
    return e == PB_OK ? PB_OK : PB_ERR_INTERNAL;
}

pb_err pb_cashier_staff_approvals_judge(pb_cashier *k, pb_store_conn *c, const char *staff_id,
                                        int64_t now, const char *trace_id, size_t *n)
{
    *n = 0;
    pb_cashier_actor sys = {.kind = "system",
                            .id = PB_CASHIER_APPROVALS_ACTOR,
                            .trace_id = trace_id};
    enum { PAGE = 32 };
    pb_store_withdrawal_approval *page = calloc(PAGE, sizeof *page);
    if (!page)
        return PB_ERR_INTERNAL;
    char after[PB_ID_STR_LEN + 1] = "";
    pb_err e = PB_OK;
    for (size_t got = PAGE; e == PB_OK && got == PAGE;) {
        got = 0;
        if (pb_store_withdrawal_approvals_standing_by(c, staff_id, after, page, PAGE, &got) !=
            PB_STORE_OK) {
            e = PB_ERR_INTERNAL;
            break;
        }
        for (size_t i = 0; e == PB_OK && i < got; i++) {
            bool lapsed = false, back = false;
            e = change_judge(k, c, page[i].withdrawal_id, now, &sys, false,
                             "by a change of their staff account", &lapsed, &back);
            *n += lapsed;
        }
        if (got)
            snprintf(after, sizeof after, "%s", page[got - 1].withdrawal_id);
    }
    free(page);
    return e;
}

pb_err pb_cashier_brand_approvals_judge(pb_cashier *k, pb_store_conn *c, int64_t brand_id,
                                        int64_t now, const char *trace_id, size_t *n)
{
    *n = 0;
    pb_cashier_actor sys = {.kind = "system",
                            .id = PB_CASHIER_APPROVALS_ACTOR,
                            .trace_id = trace_id};
    enum { PAGE = 32 };
    pb_store_withdrawal *page = calloc(PAGE, sizeof *page);
    if (!page)
        return PB_ERR_INTERNAL;
    char brands[32];
    snprintf(brands, sizeof brands, "[%lld]", (long long)brand_id);
    pb_err e = PB_OK;
    /* the approved ones (sent back when now short), then those still waiting for
     * approvals (their row's requirement raised now, as the queue shows it: their next
     * approval would raise it anyway). Newest first by seq: a row sent back to
     * pending_approval by the first pass leaves the status's index behind the cursor
     * (no row met twice or skipped in a pass) and is judged again by the second, which
     * finds nothing more to apply. */
    static const char *const STATUSES[] = {"approved", "pending_approval"};
    for (size_t s = 0; s < 2 && e == PB_OK; s++) {
        pb_store_withdrawal_query q = {.brand_ids_json = brands,
                                       .status = STATUSES[s],
                                       .limit = PAGE};
        for (size_t got = PAGE; e == PB_OK && got == PAGE;) {
            got = PAGE;
            if (pb_store_withdrawal_list(c, &q, page, &got) != PB_STORE_OK) {
                e = PB_ERR_INTERNAL;
                break;
            }
            for (size_t i = 0; e == PB_OK && i < got; i++) {
                bool changed = false, back = false;
                e = change_judge(k, c, page[i].id, now, &sys, true,
                                 "at the change of the brand's settings", &changed, &back);
                *n += back;
            }
            if (got)
                q.before_seq = page[got - 1].seq;
        }
    }
    free(page);
    return e;
}
