/*
 * payout_settle.c — a withdrawal's payout settled (see cashier.h; payout.c sends
 * it, withdrawal.c has the state machine): the one finishing of a payout
 * (cashier_payout_settle: the hold posted, "paid", or voided, "failed"), for the
 * PSP's payout events, a staff resolve (payout.c) and a manual resolution
 * (manual.c) alike; the PSP's payout events (pb_cashier_payout_event),
 * contradicting and mismatched ones audited for an operator; and a paid payout
 * the PSP returned (payout.returned): its money credited back to the player's
 * cash, or, when it came before payout.paid, recorded and applied once paid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cashier/cashier_internal.h"
#include "core/log.h"
#include "core/time.h"
#include "events/events.h"
#include "identity/identity.h"

/* Settles a withdrawal whose payout the PSP paid (paid: hold posted, "paid") or
 * will never pay (hold voided, "failed": the money is back), in the caller's
 * command, which has re-read *w and checked its state: the one finishing of a
 * payout, for the PSP's webhook and for a staff resolve alike. The transfer's
 * key ("<id>:post" / "<id>:void") makes the money move once whatever runs it.
 * before: the row before (stolen); action/after_extra/reason: the audit entry
 * (after_extra's members join the row's; stolen). A manual resolution's statement
 * waiting on it is deleted: by its confirmation (manual), or dropped and named in
 * the entry. *refusal: the ledger's refusal (nothing written). INTERNAL only on a
 * store failure. */
static pb_err deferred_return_apply(pb_ledger_tx *tx, pb_store_withdrawal *w,
                                    const pb_cashier_actor *a);

pb_err cashier_payout_settle(pb_ledger_tx *tx, pb_store_withdrawal *w, bool paid,
                             const pb_cashier_actor *a, json_t *before, const char *action,
                             json_t *after_extra, const char *reason, bool manual, pb_err *refusal)
{
    pb_transfer t;
    cashier_hold_resolve(&t, w, paid, a->trace_id);
    pb_err e = cashier_submit1(tx, &t, refusal);
    if (e != PB_OK || *refusal != PB_OK) { /* a store failure, or the ledger refused */
        json_decref(before);
        json_decref(after_extra);
        return e;
    }
    /* the manual resolution's statement: taken by its confirmation (manual), or
     * left with nothing to settle: dropped, and named in the audit entry of what
     * settled it */
    pb_store_withdrawal_resolution *r = malloc(sizeof *r);
    pb_store_rc rc = r ? pb_store_withdrawal_resolution_get(pb_ledger_tx_conn(tx), w->id, r)
                       : PB_STORE_ERROR;
    if (rc == PB_STORE_OK && manual) {
        rc = pb_store_withdrawal_resolution_delete(pb_ledger_tx_conn(tx), w->id);
    } else if (rc == PB_STORE_OK) {
        if (!after_extra)
            after_extra = json_object();
        if (pb_store_withdrawal_resolution_delete(pb_ledger_tx_conn(tx), w->id) != PB_STORE_OK ||
            !after_extra ||
            json_object_set_new(after_extra, "manual_resolution_dropped",
                                json_pack("{s:s,s:s}", "outcome", r->outcome, "stated_by",
                                          r->staff_id)) != 0)
            rc = PB_STORE_ERROR;
    }
    free(r);
    if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND) {
        json_decref(before);
        json_decref(after_extra);
        return PB_ERR_INTERNAL;
    }
    snprintf(w->status, sizeof w->status, "%s", paid ? "paid" : "failed");
    w->updated_at = pb_ledger_tx_now(tx);
    if (pb_store_withdrawal_update(pb_ledger_tx_conn(tx), w) != PB_STORE_OK ||
        cashier_withdrawal_emit(tx, paid ? "withdrawal.paid" : "withdrawal.failed", w,
                                a->trace_id) != PB_OK) {
        json_decref(before);
        json_decref(after_extra);
        return PB_ERR_INTERNAL;
    }
    /* failed after the PSP had said returned (it contradicts itself): the money is
     * back by the void; the deferred return is named in the entry, never credited */
    pb_store_payment_event *dr = paid || !w->psp_reference[0] ? NULL : malloc(sizeof *dr);
    if (dr) {
        rc = pb_store_payment_event_deferred(pb_ledger_tx_conn(tx), w->psp, w->psp_reference, dr);
        if (rc == PB_STORE_OK && (after_extra || (after_extra = json_object())))
            json_object_set_new(after_extra, "deferred_return_dropped", json_string(dr->event_id));
        free(dr);
        if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND) {
            json_decref(before);
            json_decref(after_extra);
            return PB_ERR_INTERNAL;
        }
    }
    json_t *after = cashier_withdrawal_json(w, (size_t)w->approvals_required);
    if (after && after_extra)
        json_object_update(after, after_extra);
    json_decref(after_extra);
    pb_err e2 = pb_cashier_audit(tx, a, w->brand, action, "withdrawal", w->id, before, after,
                                 reason);
    return e2 == PB_OK && paid ? deferred_return_apply(tx, w, a) : e2;
}

static json_t *event_json(const pb_psp_event *ev)
{
    return json_pack("{s:s,s:s,s:I,s:s}", "event_id", ev->event_id, "type", ev->type_name, "amount",
                     (json_int_t)ev->amount, "currency", ev->currency);
}

/* The money of a paid payout w that came back (payout.returned, event event_id)
 * goes back to the player's cash by a transfer from the account the hold was
 * posted to (the PSP clearing account, read from the post: the reverse of
 * "<id>:post"), keyed "<id>:return" so it moves once whatever delivers it; w
 * becomes "returned", final, announced and audited (deferred: the return had
 * come before the payout was paid, and is applied now). The player closed
 * (erased) since the payout was paid: the money goes to the brand's unclaimed
 * funds (unclaimed: that account, made by the caller outside the command), never
 * to the closed account, recorded as funds.unclaimed (audit entry and event, kind
 * "payout_returned"), as a closed player's late deposit is; unclaimed 0 then:
 * WITHDRAWAL_NOT_FOUND (nothing written; the PSP's retry finds the account made).
 * *refusal: the ledger's refusal (nothing written). INTERNAL only on a store
 * failure. */
static pb_err return_credit(pb_ledger_tx *tx, pb_store_withdrawal *w, const char *event_id,
                            bool deferred, const pb_cashier_actor *a, int64_t unclaimed,
                            pb_err *refusal)
{
    bool closed = false;
    if (cashier_player_closed(pb_ledger_tx_conn(tx), w->player, &closed) != PB_OK)
        return PB_ERR_INTERNAL;
    if (closed && unclaimed == 0) { /* closed since the look-up: the retry makes the account */
        *refusal = PB_ERR_WITHDRAWAL_NOT_FOUND;
        return PB_OK;
    }
    json_t *before = cashier_withdrawal_json(w, (size_t)w->approvals_required);
    /* the posted hold moved the amount player cash → PSP clearing: it goes back */
    char key[PB_LEDGER_KEY_MAX + 1];
    snprintf(key, sizeof key, "%s:post", w->id);
    pb_ledger_record *post = malloc(sizeof *post);
    pb_err e = post ? pb_ledger_transfer_by_key(pb_ledger_tx_conn(tx), PB_CASHIER_SCOPE_WITHDRAWAL,
                                                key, post)
                    : PB_ERR_INTERNAL;
    if (e != PB_OK) { /* "paid" always has its post: a store failure */
        pb_log(PB_LOG_ERROR, "cashier.payout", "withdrawal=%s: its post %s not read: %s", w->id,
               key, pb_err_code(e));
        free(post);
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    pb_transfer t = {0};
    snprintf(t.scope, sizeof t.scope, PB_CASHIER_SCOPE_WITHDRAWAL);
    snprintf(t.key, sizeof t.key, "%s:return", w->id);
    t.debit_account_id = post->credit_account_id;
    t.credit_account_id = closed ? unclaimed : post->debit_account_id;
    free(post);
    t.amount = w->amount;
    snprintf(t.currency, sizeof t.currency, "%s", w->currency);
    t.code = PB_CODE_WITHDRAWAL;
    snprintf(t.reference, sizeof t.reference, "%s", w->id);
    if (a->trace_id)
        snprintf(t.trace_id, sizeof t.trace_id, "%s", a->trace_id);
    e = cashier_submit1(tx, &t, refusal);
    if (e != PB_OK || *refusal != PB_OK) { /* a store failure, or the ledger refused */
        json_decref(before);
        return e;
    }
    /* "paid" is final but for this: its updated_at is when it was paid. The event
     * says so (paid_at), so a live dashboard takes it out of the window and the
     * minute that counted it, as the snapshot (status 'paid') no longer does. */
    char paid_at[40];
    if (pb_time_format(w->updated_at, paid_at, sizeof paid_at) < 0)
        paid_at[0] = '\0';
    snprintf(w->status, sizeof w->status, "returned");
    w->updated_at = pb_ledger_tx_now(tx);
    if (pb_store_withdrawal_update(pb_ledger_tx_conn(tx), w) != PB_STORE_OK ||
        pb_events_emit(pb_ledger_tx_conn(tx), "withdrawal.returned", w->brand, w->player,
                       a->trace_id, w->updated_at, PB_EV_STR("withdrawal_id", w->id),
                       PB_EV_STR("status", w->status), PB_EV_STR("psp", w->psp),
                       PB_EV_STR("requested_by", w->requested_by),
                       PB_EV_MONEY("amount", w->amount, w->currency),
                       PB_EV_STR("paid_at", paid_at)) != PB_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    pb_log(PB_LOG_WARN, "cashier.payout",
           "withdrawal=%s returned by the PSP (event %s%s): %lld %s back in the player's cash",
           w->id, event_id, deferred ? ", received before the payout was paid" : "",
           (long long)w->amount, w->currency);
    json_t *after = cashier_withdrawal_json(w, (size_t)w->approvals_required);
    if (after)
        json_object_set_new(after, "event_id", json_string(event_id));
    if (after && deferred)
        json_object_set_new(after, "deferred", json_true());
    if (after && closed)
        json_object_set_new(after, "unclaimed_account_id", json_integer(unclaimed));
    pb_err e2 = pb_cashier_audit(
        tx, a, w->brand, "withdrawal.returned", "withdrawal", w->id, before, after,
        closed     ? "the PSP returned the paid payout of a closed (erased) player: the money "
                     "is held as the brand's unclaimed funds"
        : deferred ? "the PSP returned the payout before reporting it paid: "
                     "paid now, the money is back in the player's cash"
                   : "the PSP returned the paid payout: the money is back in "
                     "the player's cash");
    if (e2 != PB_OK || !closed)
        return e2;
    /* the closed player's money, as the wallet and a late deposit record it */
    char tid[PB_ID_STR_LEN + 1];
    pb_id_to_string(&t.record.id, tid);
    e2 = pb_cashier_audit(
        tx, a, w->brand, "funds.unclaimed", "player", w->player, NULL,
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:s}", "kind", "payout_returned",
                  "withdrawal_id", w->id, "psp", w->psp, "player", w->player, "amount",
                  (json_int_t)w->amount, "currency", w->currency, "account",
                  PB_WALLET_KIND_UNCLAIMED, "account_id", (json_int_t)unclaimed, "transfer_id",
                  tid),
        "a paid payout of a closed (erased) player came back: held as unclaimed funds");
    if (e2 == PB_OK &&
        pb_events_emit(pb_ledger_tx_conn(tx), "funds.unclaimed", w->brand, w->player, a->trace_id,
                       pb_ledger_tx_now(tx), PB_EV_STR("kind", "payout_returned"),
                       PB_EV_STR("withdrawal_id", w->id), PB_EV_STR("psp", w->psp),
                       PB_EV_MONEY("amount", w->amount, w->currency),
                       PB_EV_STR("account", PB_WALLET_KIND_UNCLAIMED),
                       PB_EV_INT("account_id", unclaimed)) != PB_OK)
        e2 = PB_ERR_INTERNAL;
    if (e2 == PB_OK)
        pb_log(PB_LOG_WARN, "cashier.unclaimed",
               "withdrawal=%s: %lld %s returned for closed player %s held as unclaimed funds",
               w->id, (long long)w->amount, w->currency, w->player);
    return e2;
}

/* Once w's payout is paid (status "paid", in the settling command): a
 * payout.returned recorded "deferred" for it (it came first) is applied now, so
 * the order the PSP's events arrive in does not matter. A ledger refusal of the
 * credit (not expected: it reverses the post just made) leaves w paid and is
 * audited for an operator; the paid payout stands. */
static pb_err deferred_return_apply(pb_ledger_tx *tx, pb_store_withdrawal *w,
                                    const pb_cashier_actor *a)
{
    if (!w->psp_reference[0])
        return PB_OK;
    pb_store_payment_event ev;
    pb_store_rc rc = pb_store_payment_event_deferred(pb_ledger_tx_conn(tx), w->psp,
                                                     w->psp_reference, &ev);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_OK;
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    pb_err refusal = PB_OK;
    /* not closed: an erasure waits while the payout is processing, and this runs as it is paid */
    pb_err e = return_credit(tx, w, ev.event_id, true, a, 0, &refusal);
    if (e != PB_OK || refusal == PB_OK)
        return e;
    pb_log(PB_LOG_ERROR, "cashier.payout",
           "withdrawal=%s: the PSP's earlier payout.returned %s not credited (%s): left for an "
           "operator",
           w->id, ev.event_id, pb_err_code(refusal));
    return pb_cashier_audit(
        tx, a, w->brand, "withdrawal.payout_conflict", "withdrawal", w->id,
        cashier_withdrawal_json(w, (size_t)w->approvals_required),
        json_pack("{s:s,s:s,s:s}", "event_id", ev.event_id, "type", ev.type, "refusal",
                  pb_err_code(refusal)),
        "the PSP returned this payout before reporting it paid, and the ledger refused the "
        "credit back: left for an operator");
}

/* payout.returned: the PSP paid the payout and the money came back to it later
 * (the bank returned it, the account was closed). For a "paid" withdrawal of
 * the event's amount and currency: return_credit, "returned". Returned already:
 * an agreeing late event, ignored. "processing" (the PSP's payout.paid has not
 * arrived yet: webhooks come in any order): nothing moves now, the event is
 * recorded "deferred" (audited) and applied when the payout is paid
 * (deferred_return_apply). Any other state (not sent, or given back): nothing
 * moves, audited for an operator; another amount or currency: mismatch,
 * audited. */
static pb_err payout_returned(pb_ledger_tx *tx, const pb_psp_event *ev, pb_store_withdrawal *w,
                              const pb_cashier_actor *a, int64_t unclaimed, const char **outcome,
                              pb_err *refusal)
{
    bool processing = strcmp(w->status, "processing") == 0;
    if (strcmp(w->status, "paid") != 0 && !processing) {
        *outcome = "ignored";
        if (strcmp(w->status, "returned") == 0)
            return PB_OK;
        pb_log(PB_LOG_WARN, "cashier.payout",
               "withdrawal=%s is %s but the PSP's event %s says %s: nothing credited, left for "
               "an operator",
               w->id, w->status, ev->event_id, ev->type_name);
        return pb_cashier_audit(
            tx, a, w->brand, "withdrawal.payout_conflict", "withdrawal", w->id,
            cashier_withdrawal_json(w, (size_t)w->approvals_required), event_json(ev),
            "the PSP says a payout was returned that is not paid here: nothing credited");
    }
    if (ev->amount != w->amount || strcmp(ev->currency, w->currency) != 0) {
        *outcome = "mismatch";
        return pb_cashier_audit(tx, a, w->brand, "withdrawal.payout_mismatch", "withdrawal", w->id,
                                cashier_withdrawal_json(w, (size_t)w->approvals_required),
                                event_json(ev),
                                "the PSP's return names another amount or currency: nothing "
                                "credited");
    }
    if (processing) {
        *outcome = "deferred";
        pb_log(PB_LOG_WARN, "cashier.payout",
               "withdrawal=%s is processing and the PSP's event %s says %s before its payout.paid: "
               "recorded, credited back once the payout is paid",
               w->id, ev->event_id, ev->type_name);
        return pb_cashier_audit(tx, a, w->brand, "withdrawal.payout_return_deferred", "withdrawal",
                                w->id, cashier_withdrawal_json(w, (size_t)w->approvals_required),
                                event_json(ev),
                                "the PSP says the payout was returned before saying it was paid: "
                                "recorded, the money goes back to the player once it is paid");
    }
    pb_err e = return_credit(tx, w, ev->event_id, false, a, unclaimed, refusal);
    if (e == PB_OK && *refusal == PB_OK)
        *outcome = "applied";
    return e;
}

pb_err pb_cashier_payout_event(pb_ledger_tx *tx, const pb_psp_event *ev, pb_store_withdrawal *w,
                               const pb_cashier_actor *a, int64_t unclaimed, const char **outcome,
                               pb_err *refusal)
{
    if (ev->type == PB_PSP_PAYOUT_RETURNED)
        return payout_returned(tx, ev, w, a, unclaimed, outcome, refusal);
    bool paid = ev->type == PB_PSP_PAYOUT_PAID;
    if (strcmp(w->status, "processing") != 0) { /* settled already: recorded, nothing changes */
        *outcome = "ignored";
        /* but one that contradicts the settlement is money out twice (paid after the
         * money was given back) or money lost (failed, e.g. returned by the bank, after
         * the hold was posted): audited for an operator, not silently dropped */
        if (!(paid && strcmp(w->status, "failed") == 0) &&
            !(!paid && strcmp(w->status, "paid") == 0))
            return PB_OK;
        pb_log(PB_LOG_WARN, "cashier.payout",
               "withdrawal=%s is %s but the PSP's event %s says %s: left for an operator", w->id,
               w->status, ev->event_id, ev->type_name);
        return pb_cashier_audit(
            tx, a, w->brand, "withdrawal.payout_conflict", "withdrawal", w->id,
            cashier_withdrawal_json(w, (size_t)w->approvals_required),
            json_pack("{s:s,s:s,s:I,s:s}", "event_id", ev->event_id, "type", ev->type_name,
                      "amount", (json_int_t)ev->amount, "currency", ev->currency),
            paid ? "the PSP says it paid a payout whose money was given back: paid twice"
                 : "the PSP says a paid payout failed: the player has not got the money");
    }
    json_t *before = cashier_withdrawal_json(w, (size_t)w->approvals_required);
    if (ev->amount != w->amount || strcmp(ev->currency, w->currency) != 0) {
        *outcome = "mismatch";
        return pb_cashier_audit(tx, a, w->brand, "withdrawal.payout_mismatch", "withdrawal", w->id,
                                before,
                                json_pack("{s:s,s:s,s:I,s:s}", "event_id", ev->event_id, "type",
                                          ev->type_name, "amount", (json_int_t)ev->amount,
                                          "currency", ev->currency),
                                "the PSP's event names another amount or currency: the hold stays");
    }
    pb_err e = cashier_payout_settle(tx, w, paid, a, before,
                                     paid ? "withdrawal.paid" : "withdrawal.payout_failed", NULL,
                                     paid ? NULL : "the PSP could not pay out: the money is back",
                                     false, refusal);
    if (e == PB_OK && *refusal == PB_OK)
        *outcome = "applied";
    return e;
}
