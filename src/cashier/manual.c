/*
 * manual.c — the manual resolution of a payout the PSP cannot report on
 * (cashier.h): one finance member states the outcome with evidence, a second
 * confirms it (4-eyes) and the payout is settled as a PSP event would settle it
 * (cashier_payout_settle, payout_settle.c); the author may withdraw the statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cashier/cashier_internal.h"
#include "core/log.h"
#include "core/time.h"
#include "events/events.h"

typedef enum { MANUAL_STATE, MANUAL_CONFIRM, MANUAL_WITHDRAW } manual_op;

typedef struct manual_ctx {
    manual_op op;
    const pb_cashier_actor *a;
    bool paid;
    const char *reason, *evidence;
    char seen[sizeof((pb_store_withdrawal *)0)->status]; /* the status the PSP was asked about */
    pb_store_withdrawal w;
    pb_store_withdrawal_resolution r; /* the statement waiting (read, or written) */
    pb_err result;
} manual_ctx;

static json_t *statement_json(const pb_store_withdrawal_resolution *r)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "outcome", r->outcome, "stated_by", r->staff_id,
                     "role", r->role, "evidence", r->evidence, "from_status", r->from_status);
}

static pb_err manual_command(pb_ledger_tx *tx, void *arg)
{
    manual_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    if (cashier_actor_check(tx, x->a, &x->result) != PB_OK)
        return PB_ERR_INTERNAL;
    if (x->result != PB_OK)
        return PB_OK;
    if (pb_store_withdrawal_get(c, x->w.id, &x->w) != PB_STORE_OK)
        return PB_ERR_INTERNAL; /* read before the command: it exists */
    pb_store_withdrawal_resolution r;
    pb_store_rc rc = pb_store_withdrawal_resolution_get(c, x->w.id, &r);
    if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    bool waiting = rc == PB_STORE_OK;
    if (waiting)
        x->r = r;
    json_t *before = NULL;
    if (x->op == MANUAL_WITHDRAW) { /* only by the member who stated it */
        x->result = !waiting                            ? PB_ERR_MANUAL_RESOLUTION_NOT_FOUND
                    : strcmp(r.staff_id, x->a->id) != 0 ? PB_ERR_FORBIDDEN
                                                        : PB_OK;
        if (x->result != PB_OK)
            return PB_OK;
        if (pb_store_withdrawal_resolution_delete(c, x->w.id) != PB_STORE_OK)
            return PB_ERR_INTERNAL;
        if (cashier_withdrawal_emit(tx, "withdrawal.manual_resolution_withdrawn", &x->w,
                                    x->a->trace_id) != PB_OK)
            return PB_ERR_INTERNAL;
        json_t *after = cashier_withdrawal_json(&x->w, (size_t)x->w.approvals_required);
        before = json_deep_copy(after);
        if (before)
            json_object_set_new(before, "manual_resolution", statement_json(&r));
        return pb_cashier_audit(tx, x->a, x->w.brand, "withdrawal.manual_resolution_withdraw",
                                "withdrawal", x->w.id, before, after, x->reason);
    }
    if (strcmp(x->w.status, x->seen) != 0) { /* settled (or sent) since the PSP was asked */
        x->result = PB_ERR_WITHDRAWAL_STATE;
        return PB_OK;
    }
    /* the 4-eyes rules of an approval, for both members: not the member who asked
     * for it on the player's behalf, not the player through a staff account */
    char me[PB_STORE_CASHIER_ACTOR_MAX + 1];
    snprintf(me, sizeof me, "staff:%s", x->a->id);
    bool self = false;
    if (cashier_staff_is_player(c, x->a->id, x->w.player, &self) != PB_OK)
        return PB_ERR_INTERNAL;
    if (self || strcmp(x->w.requested_by, me) == 0 ||
        (x->op == MANUAL_CONFIRM && waiting && strcmp(r.staff_id, x->a->id) == 0)) {
        x->result = PB_ERR_FOUR_EYES_VIOLATION;
        return PB_OK;
    }
    if (x->op == MANUAL_STATE) {
        if (waiting) {
            x->result = PB_ERR_MANUAL_RESOLUTION_EXISTS;
            return PB_OK;
        }
        pb_store_withdrawal_resolution *n = &x->r;
        memset(n, 0, sizeof *n);
        snprintf(n->withdrawal_id, sizeof n->withdrawal_id, "%s", x->w.id);
        snprintf(n->outcome, sizeof n->outcome, "%s", x->paid ? "paid" : "failed");
        snprintf(n->reason, sizeof n->reason, "%s", x->reason);
        snprintf(n->evidence, sizeof n->evidence, "%s", x->evidence);
        snprintf(n->staff_id, sizeof n->staff_id, "%s", x->a->id);
        snprintf(n->role, sizeof n->role, "%s", x->a->role ? x->a->role : "");
        snprintf(n->from_status, sizeof n->from_status, "%s", x->w.status);
        n->stated_at = pb_ledger_tx_now(tx);
        if (pb_store_withdrawal_resolution_insert(c, n) != PB_STORE_OK ||
            cashier_withdrawal_emit(tx, "withdrawal.manual_resolution_stated", &x->w,
                                    x->a->trace_id) != PB_OK)
            return PB_ERR_INTERNAL;
        x->result = PB_OK;
        before = cashier_withdrawal_json(&x->w, (size_t)x->w.approvals_required);
        json_t *after = json_deep_copy(before);
        if (after)
            json_object_set_new(after, "manual_resolution", statement_json(n));
        return pb_cashier_audit(tx, x->a, x->w.brand, "withdrawal.manual_resolution_state",
                                "withdrawal", x->w.id, before, after, x->reason);
    }
    /* MANUAL_CONFIRM */
    if (!waiting) {
        x->result = PB_ERR_MANUAL_RESOLUTION_NOT_FOUND;
        return PB_OK;
    }
    if (strcmp(r.outcome, x->paid ? "paid" : "failed") != 0) { /* the statement stays */
        x->result = PB_ERR_MANUAL_RESOLUTION_CONFLICT;
        return PB_OK;
    }
    /* the confirmation and its effect: one audit entry, one commit; payout_settle
     * deletes the statement once the ledger took the transfer */
    before = cashier_withdrawal_json(&x->w, (size_t)x->w.approvals_required);
    json_t *extra = json_pack("{s:s,s:o}", "resolved_from", x->seen, "manual_resolution",
                              json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "outcome", r.outcome,
                                        "stated_by", r.staff_id, "stated_reason", r.reason,
                                        "evidence", r.evidence, "confirmed_by", x->a->id,
                                        "confirmer_role", x->a->role ? x->a->role : ""));
    snprintf(x->w.reason, sizeof x->w.reason, "%s", x->reason);
    return cashier_payout_settle(tx, &x->w, x->paid, x->a, before, "withdrawal.manual_resolve",
                                 extra, x->reason, true, &x->result);
}

/* The statement and the confirmation: claimed like a resolve, the withdrawal
 * "approved" or "processing", and the PSP asked first (outside any command) —
 * only when it cannot say (or is not configured any more) may finance settle
 * the payout by hand. */
static pb_err manual_run(pb_cashier *k, pb_store_conn *c, manual_ctx *x, const char *id,
                         pb_store_withdrawal *out)
{
    memset(out, 0, sizeof *out);
    if (!id || strlen(id) > PB_ID_STR_LEN)
        return PB_ERR_WITHDRAWAL_NOT_FOUND;
    snprintf(x->w.id, sizeof x->w.id, "%s", id);
    bool claimed = x->op != MANUAL_WITHDRAW;
    if (claimed && !cashier_payout_claim(k, x->w.id))
        return PB_ERR_WITHDRAWAL_BUSY;
    pb_store_rc rc = pb_store_withdrawal_get(c, x->w.id, &x->w);
    pb_err e = rc == PB_STORE_OK          ? PB_OK
               : rc == PB_STORE_NOT_FOUND ? PB_ERR_WITHDRAWAL_NOT_FOUND
                                          : PB_ERR_STORE_UNAVAILABLE;
    if (e == PB_OK && claimed) {
        if (strcmp(x->w.status, "approved") != 0 && strcmp(x->w.status, "processing") != 0)
            e = PB_ERR_WITHDRAWAL_STATE;
        pb_psp_payout_status st;
        if (e == PB_OK) {
            snprintf(x->seen, sizeof x->seen, "%s", x->w.status);
            pb_err q = cashier_ask_psp(k, &x->w, &st);
            e = q == PB_ERR_PAYOUT_STATUS_UNKNOWN ? PB_OK
                : q == PB_OK                      ? PB_ERR_PAYOUT_STATUS_KNOWN
                                                  : q;
        }
    }
    if (e == PB_OK) {
        e = pb_ledger_command(k->ledger, manual_command, x);
        if (e == PB_OK)
            e = x->result;
    }
    if (claimed)
        cashier_payout_release(k, x->w.id);
    if (e == PB_OK)
        pb_log(PB_LOG_INFO, "cashier.payout", "withdrawal=%s manual resolution %s by staff %s: %s",
               x->w.id,
               x->op == MANUAL_STATE     ? "stated"
               : x->op == MANUAL_CONFIRM ? "confirmed"
                                         : "withdrawn",
               x->a->id, x->w.status);
    *out = x->w;
    return e;
}

pb_err pb_cashier_withdrawal_manual_state(pb_cashier *k, pb_store_conn *c, const char *id,
                                          bool paid, const char *reason, const char *evidence,
                                          const pb_cashier_actor *a, pb_store_withdrawal *out)
{
    manual_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return PB_ERR_INTERNAL;
    *x = (manual_ctx){.op = MANUAL_STATE,
                      .a = a,
                      .paid = paid,
                      .reason = reason ? reason : "",
                      .evidence = evidence ? evidence : ""};
    pb_err e = manual_run(k, c, x, id, out);
    free(x);
    return e;
}

pb_err pb_cashier_withdrawal_manual_confirm(pb_cashier *k, pb_store_conn *c, const char *id,
                                            bool paid, const char *reason,
                                            const pb_cashier_actor *a, pb_store_withdrawal *out)
{
    manual_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return PB_ERR_INTERNAL;
    *x = (manual_ctx){.op = MANUAL_CONFIRM, .a = a, .paid = paid, .reason = reason ? reason : ""};
    pb_err e = manual_run(k, c, x, id, out);
    free(x);
    return e;
}

pb_err pb_cashier_withdrawal_manual_withdraw(pb_cashier *k, pb_store_conn *c, const char *id,
                                             const char *reason, const pb_cashier_actor *a,
                                             pb_store_withdrawal *out)
{
    manual_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return PB_ERR_INTERNAL;
    *x = (manual_ctx){.op = MANUAL_WITHDRAW, .a = a, .reason = reason ? reason : ""};
    pb_err e = manual_run(k, c, x, id, out);
    free(x);
    return e;
}

pb_err pb_cashier_withdrawal_manual_get(pb_store_conn *c, const char *id,
                                        pb_store_withdrawal_resolution *out, bool *waiting)
{
    pb_store_rc rc = pb_store_withdrawal_resolution_get(c, id, out);
    *waiting = rc == PB_STORE_OK;
    return rc == PB_STORE_OK || rc == PB_STORE_NOT_FOUND ? PB_OK : PB_ERR_STORE_UNAVAILABLE;
}
