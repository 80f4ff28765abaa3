/*
 * withdrawal.c — withdrawals (see cashier.h): request with its checks and its
 * hold, cancel and reject (hold voided), approvals with the 4-eyes rule; the
 * payout sent to the PSP, its retry and a staff resolve are payout.c's, the
 * PSP's payout events (hold posted or voided) payout_settle.c's.
 *
 * State machine (every arrow one ledger command with its transfer and audit):
 *
 *   request ─► pending_approval ─┬─ cancel (player) ─► cancelled   hold voided
 *                                ├─ reject (staff)  ─► rejected    hold voided
 *                                └─ approve × needed ─► approved    player gate at each
 *   approved ─ an approver lost the right, or the brand's 4-eyes threshold was
 *              lowered past it (checked just before the send) ─►
 *                                   pending_approval   hold kept (approvals.c)
 *   approved ─ payout sent ─► processing ─┬─ payout.paid   ─► paid     hold posted
 *                                         └─ payout.failed ─► failed   hold voided
 *   approved | processing ─ resolve (staff asks the PSP) ─┬─ paid ─► paid      hold posted
 *                                       failed / not taken ─┴────► failed    hold voided
 *   approved | processing ─ manual (PSP cannot say): stated, confirmed by a 2nd member ─►
 *                                          paid (hold posted) / failed (hold voided)
 *
 * The ledger keys make each money movement happen once whatever is retried:
 * scope "withdrawal", keys "<id>:hold", "<id>:post", "<id>:void". A payout is
 * sent by one thread at a time (the approval, or the retry's pass): the send
 * claims the withdrawal (pb_cashier.claims) from before the PSP is called until
 * "processing" is committed, and the PSP keys the payout by the withdrawal. A
 * staff resolve holds the same claim while it asks the PSP and records the
 * answer, and settles through payout_settle, the webhook's own finishing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cashier/cashier_internal.h"
#include "core/log.h"
#include "core/time.h"
#include "events/events.h"
#include "identity/identity.h"

/* The checks a request passes, as recorded on the row. The player gate (blocked,
 * self-excluded, closed) decides now; bonus wagering and KYC are named so the
 * queue shows them, and pass until the bonus and KYC issues fill them in. */
static const char CHECKS_PASSED[] =
    "[{\"check\":\"player_status\",\"result\":\"pass\"},"
    "{\"check\":\"bonus_wagering\",\"result\":\"pass\",\"note\":\"no wagering rules yet\"},"
    "{\"check\":\"kyc\",\"result\":\"pass\",\"note\":\"not required yet\"}]";

json_t *cashier_withdrawal_json(const pb_store_withdrawal *w, size_t approvals)
{
    return json_pack("{s:s,s:I,s:s,s:i,s:i,s:s}", "status", w->status, "amount",
                     (json_int_t)w->amount, "currency", w->currency, "approvals", (int)approvals,
                     "approvals_required", w->approvals_required, "psp_reference",
                     w->psp_reference);
}

/* A transfer on the withdrawal's hold: post (paid) or void (money back). */
void cashier_hold_resolve(pb_transfer *t, const pb_store_withdrawal *w, bool post,
                          const char *trace)
{
    memset(t, 0, sizeof *t);
    snprintf(t->scope, sizeof t->scope, PB_CASHIER_SCOPE_WITHDRAWAL);
    snprintf(t->key, sizeof t->key, "%s:%s", w->id, post ? "post" : "void");
    t->flags = post ? PB_TRANSFER_POST_PENDING : PB_TRANSFER_VOID_PENDING;
    t->pending_id = w->hold_id;
    snprintf(t->reference, sizeof t->reference, "%s", w->id);
    if (trace)
        snprintf(t->trace_id, sizeof t->trace_id, "%s", trace);
}

/* Submits one transfer in the command: PB_OK with *refusal set on a business
 * refusal, INTERNAL on a store failure. */
/* @events: announces the withdrawal's new state, in the command's transaction
 * (one call at each change below). */
pb_err cashier_withdrawal_emit(pb_ledger_tx *tx, const char *type, const pb_store_withdrawal *w,
                               const char *trace_id)
{
    return cashier_withdrawal_emit_at(pb_ledger_tx_conn(tx), pb_ledger_tx_now(tx), type, w,
                                      trace_id);
}

pb_err cashier_withdrawal_emit_at(pb_store_conn *c, int64_t now, const char *type,
                                  const pb_store_withdrawal *w, const char *trace_id)
{
    return pb_events_emit(c, type, w->brand, w->player, trace_id, now,
                          PB_EV_STR("withdrawal_id", w->id), PB_EV_STR("status", w->status),
                          PB_EV_STR("psp", w->psp), PB_EV_STR("requested_by", w->requested_by),
                          PB_EV_MONEY("amount", w->amount, w->currency)) == PB_OK
               ? PB_OK
               : PB_ERR_INTERNAL;
}

pb_err cashier_actor_check(pb_ledger_tx *tx, const pb_cashier_actor *a, pb_err *refusal)
{
    *refusal = PB_OK;
    if (!a->principal)
        return PB_OK;
    /* the clock pb_admin_write judges a session's end by, not the ledger's */
    pb_err e = pb_identity_principal_check(pb_ledger_tx_conn(tx), a->principal, pb_time_now_us());
    if (e == PB_ERR_INTERNAL || e == PB_ERR_STORE_UNAVAILABLE)
        return PB_ERR_INTERNAL;
    *refusal = e;
    return PB_OK;
}

pb_err cashier_submit1(pb_ledger_tx *tx, pb_transfer *t, pb_err *refusal)
{
    pb_err e = pb_ledger_tx_submit(tx, t, 1);
    if (e == PB_ERR_INTERNAL)
        return e;
    *refusal = e != PB_OK ? e : t->result;
    return PB_OK;
}

/* ---- request ---- */

static pb_err request_command(pb_ledger_tx *tx, void *arg)
{
    wd_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    if (cashier_actor_check(tx, x->a, &x->result) != PB_OK)
        return PB_ERR_INTERNAL;
    if (x->result != PB_OK)
        return PB_OK;
    pb_store_withdrawal old;
    pb_store_rc rc = pb_store_withdrawal_by_key(c, x->pl->player, x->w.idempotency_key, &old);
    if (rc == PB_STORE_OK) { /* the same key raced in: the first one wins */
        x->result = old.amount == x->w.amount ? PB_OK : PB_ERR_IDEMPOTENCY_CONFLICT;
        x->replayed = true;
        x->w = old;
        return PB_OK;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    pb_err g = pb_wallet_gate(c, x->pl->player, PB_WALLET_ACTION_WITHDRAW);
    if (g == PB_ERR_INTERNAL || g == PB_ERR_STORE_UNAVAILABLE)
        return PB_ERR_INTERNAL;
    if (g != PB_OK) {
        x->result = g;
        return PB_OK;
    }
    /* cash only: the bonus account is never touched, so bonus money cannot leave */
    pb_ledger_account cash;
    pb_err e = pb_ledger_tx_account(tx, x->cash, &cash);
    if (e != PB_OK) /* a damaged account fails this command only, not the batch */
        return e == PB_ERR_STORE_CORRUPT ? e : PB_ERR_INTERNAL;
    if (x->w.amount > pb_ledger_available(&cash)) {
        x->result = PB_ERR_INSUFFICIENT_FUNDS;
        return PB_OK;
    }
    /* fail-safe: a currency without a threshold of its own needs two approvals */
    int64_t threshold = 0;
    bool has_threshold = pb_cashier_4eyes_threshold(c, x->pl->brand_id, x->w.currency, &threshold);
    x->w.approvals_required = !has_threshold || x->w.amount >= threshold ? 2 : 1;
    snprintf(x->w.checks, sizeof x->w.checks, "%s", CHECKS_PASSED);
    pb_transfer t = {0};
    snprintf(t.scope, sizeof t.scope, PB_CASHIER_SCOPE_WITHDRAWAL);
    snprintf(t.key, sizeof t.key, "%s:hold", x->w.id);
    t.debit_account_id = x->cash;
    t.credit_account_id = x->clearing;
    t.amount = x->w.amount;
    snprintf(t.currency, sizeof t.currency, "%s", x->w.currency);
    t.code = PB_CODE_WITHDRAWAL;
    t.flags = PB_TRANSFER_PENDING; /* no timeout: held until paid, failed, rejected, cancelled */
    snprintf(t.reference, sizeof t.reference, "%s", x->w.id);
    if (x->a->trace_id)
        snprintf(t.trace_id, sizeof t.trace_id, "%s", x->a->trace_id);
    if (cashier_submit1(tx, &t, &x->result) != PB_OK)
        return PB_ERR_INTERNAL;
    if (x->result != PB_OK)
        return PB_OK;
    x->w.hold_id = t.record.id;
    x->w.created_at = x->w.updated_at = pb_ledger_tx_now(tx);
    if (pb_store_withdrawal_insert(c, &x->w) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    json_t *after = cashier_withdrawal_json(&x->w, 0);
    json_t *checks = json_loads(x->w.checks, 0, NULL);
    if (after && checks)
        json_object_set_new(after, "checks", checks);
    else
        json_decref(checks);
    if (cashier_withdrawal_emit(tx, "withdrawal.requested", &x->w, x->a->trace_id) != PB_OK) {
        json_decref(after);
        return PB_ERR_INTERNAL;
    }
    return pb_cashier_audit(tx, x->a, x->w.brand, "withdrawal.request", "withdrawal", x->w.id, NULL,
                            after, NULL);
}

pb_err pb_cashier_withdrawal_request(pb_cashier *k, pb_store_conn *c, const pb_cashier_player *pl,
                                     int64_t amount, const char *key, const pb_cashier_actor *a,
                                     pb_store_withdrawal *out, bool *replayed)
{
    *replayed = false;
    if (amount <= 0)
        return PB_ERR_AMOUNT_INVALID;
    if (!pb_cashier_key_valid(key))
        return PB_ERR_FIELD_INVALID;
    pb_psp *psp = k->npsps ? k->psps[0] : NULL;
    wd_ctx x = {.pl = pl, .a = a};
    pb_store_rc rc = pb_store_withdrawal_by_key(c, pl->player, key, &x.w);
    if (rc == PB_STORE_OK) {
        *out = x.w;
        *replayed = true;
        return x.w.amount == amount ? PB_OK : PB_ERR_IDEMPOTENCY_CONFLICT;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_STORE_UNAVAILABLE;
    if (!psp)
        return PB_ERR_PSP_NOT_FOUND;
    /* decided again inside the command; checked here first so that a refusal
     * does not even create the player's accounts */
    pb_wallet_balance bal;
    pb_err e = pb_wallet_gate(c, pl->player, PB_WALLET_ACTION_WITHDRAW);
    if (e == PB_OK)
        e = pb_wallet_balance_get(c, pl->brand, pl->player, pl->currency, &bal);
    if (e == PB_OK && amount > bal.withdrawable)
        e = PB_ERR_INSUFFICIENT_FUNDS;
    if (e != PB_OK)
        return e;
    pb_wallet_accounts acc;
    if ((e = pb_wallet_player_accounts(k->wallet, c, pl->brand, pl->player, pl->currency, &acc)) !=
            PB_OK ||
        (e = pb_cashier_clearing(k, c, pl->brand, psp->code, pl->currency, &x.clearing)) != PB_OK)
        return e;
    x.cash = acc.cash;
    pb_id id;
    pb_id_new(&id);
    pb_id_to_string(&id, x.w.id);
    x.w.brand_id = pl->brand_id;
    snprintf(x.w.brand, sizeof x.w.brand, "%s", pl->brand);
    snprintf(x.w.player, sizeof x.w.player, "%s", pl->player);
    snprintf(x.w.currency, sizeof x.w.currency, "%s", pl->currency);
    x.w.amount = amount;
    snprintf(x.w.idempotency_key, sizeof x.w.idempotency_key, "%s", key);
    snprintf(x.w.status, sizeof x.w.status, "pending_approval");
    snprintf(x.w.psp, sizeof x.w.psp, "%s", psp->code);
    snprintf(x.w.requested_by, sizeof x.w.requested_by, "%s:%s",
             strcmp(a->kind, "staff") == 0 ? "staff" : "player",
             strcmp(a->kind, "staff") == 0 ? a->id : pl->player);
    e = pb_ledger_command(k->ledger, request_command, &x);
    if (e == PB_OK)
        e = x.result;
    *out = x.w;
    *replayed = x.replayed;
    return e;
}

/* ---- cancel and reject ---- */

/* Cancel (player) or reject (staff): a withdrawal waiting for approval, hold voided. */
static pb_err void_command(pb_ledger_tx *tx, void *arg)
{
    wd_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    if (cashier_actor_check(tx, x->a, &x->result) != PB_OK)
        return PB_ERR_INTERNAL;
    if (x->result != PB_OK)
        return PB_OK;
    pb_store_rc rc = pb_store_withdrawal_get(c, x->w.id, &x->w);
    if (rc == PB_STORE_NOT_FOUND ||
        (rc == PB_STORE_OK && x->player && strcmp(x->w.player, x->player) != 0)) {
        x->result = PB_ERR_WITHDRAWAL_NOT_FOUND;
        return PB_OK;
    }
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (strcmp(x->w.status, "pending_approval") != 0) {
        x->result = PB_ERR_WITHDRAWAL_STATE;
        return PB_OK;
    }
    size_t rows = 0, n = 0; /* n: the standing approvals (the audit's count) */
    pb_store_withdrawal_approval ap[PB_CASHIER_MAX_APPROVALS];
    if (pb_store_withdrawal_approval_list(c, x->w.id, ap, PB_CASHIER_MAX_APPROVALS, &rows) !=
        PB_STORE_OK)
        return PB_ERR_INTERNAL;
    for (size_t i = 0; i < rows; i++)
        n += ap[i].lapsed_at == 0;
    pb_transfer t;
    cashier_hold_resolve(&t, &x->w, false, x->a->trace_id);
    if (cashier_submit1(tx, &t, &x->result) != PB_OK)
        return PB_ERR_INTERNAL;
    if (x->result != PB_OK)
        return PB_OK;
    json_t *before = cashier_withdrawal_json(&x->w, n);
    bool reject = x->reason != NULL;
    snprintf(x->w.status, sizeof x->w.status, "%s", reject ? "rejected" : "cancelled");
    if (reject)
        snprintf(x->w.reason, sizeof x->w.reason, "%s", x->reason);
    x->w.updated_at = pb_ledger_tx_now(tx);
    if (pb_store_withdrawal_update(c, &x->w) != PB_STORE_OK ||
        cashier_withdrawal_emit(tx, reject ? "withdrawal.rejected" : "withdrawal.cancelled", &x->w,
                                x->a->trace_id) != PB_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    return pb_cashier_audit(tx, x->a, x->w.brand,
                            reject ? "withdrawal.reject" : "withdrawal.cancel", "withdrawal",
                            x->w.id, before, cashier_withdrawal_json(&x->w, n), x->reason);
}

static pb_err run_void(pb_cashier *k, const char *player, const char *id, const char *reason,
                       const pb_cashier_actor *a, pb_store_withdrawal *out)
{
    if (!id || strlen(id) > PB_ID_STR_LEN)
        return PB_ERR_WITHDRAWAL_NOT_FOUND;
    wd_ctx x = {.a = a, .player = player, .reason = reason};
    snprintf(x.w.id, sizeof x.w.id, "%s", id);
    pb_err e = pb_ledger_command(k->ledger, void_command, &x);
    if (e == PB_OK)
        e = x.result;
    *out = x.w;
    return e;
}

pb_err pb_cashier_withdrawal_cancel(pb_cashier *k, const char *player, const char *id,
                                    const pb_cashier_actor *a, pb_store_withdrawal *out)
{
    return run_void(k, player, id, NULL, a, out);
}

pb_err pb_cashier_withdrawal_reject(pb_cashier *k, const char *id, const char *reason,
                                    const pb_cashier_actor *a, pb_store_withdrawal *out)
{
    return run_void(k, NULL, id, reason ? reason : "", a, out);
}

/* ---- approvals and the payout ---- */

/* Whether staff member staff_id (public id) has the e-mail of player (public
 * id): *self. A staff id that names no staff member (a system actor) is not the
 * player. INTERNAL on a store failure. */
pb_err cashier_staff_is_player(pb_store_conn *c, const char *staff_id, const char *player,
                               bool *self)
{
    *self = false;
    pb_staff *st = malloc(sizeof *st);
    pb_player *pl = malloc(sizeof *pl);
    pb_err e = st && pl ? pb_identity_staff_get(c, staff_id, st) : PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = pb_identity_player_get(c, NULL, player, pl);
    if (e == PB_OK)
        *self = st->email[0] && strcmp(st->email, pl->email) == 0;
    free(st);
    free(pl);
    return e == PB_OK || e == PB_ERR_STAFF_NOT_FOUND || e == PB_ERR_PLAYER_NOT_FOUND
               ? PB_OK
               : PB_ERR_INTERNAL;
}

static pb_err approve_command(pb_ledger_tx *tx, void *arg)
{
    wd_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    if (cashier_actor_check(tx, x->a, &x->result) != PB_OK)
        return PB_ERR_INTERNAL;
    if (x->result != PB_OK)
        return PB_OK;
    pb_store_rc rc = pb_store_withdrawal_get(c, x->w.id, &x->w);
    if (rc == PB_STORE_NOT_FOUND) {
        x->result = PB_ERR_WITHDRAWAL_NOT_FOUND;
        return PB_OK;
    }
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (strcmp(x->w.status, "pending_approval") != 0) {
        x->result = PB_ERR_WITHDRAWAL_STATE;
        return PB_OK;
    }
    /* the player gate again, as it stands now: a player blocked or closed since
     * the request gets no approval (nothing written); the withdrawal waits for
     * finance to reject it, which gives the money back */
    pb_err g = pb_wallet_gate(c, x->w.player, PB_WALLET_ACTION_WITHDRAW);
    if (g == PB_ERR_INTERNAL || g == PB_ERR_STORE_UNAVAILABLE)
        return PB_ERR_INTERNAL;
    if (g != PB_OK) {
        x->result = g;
        return PB_OK;
    }
    char me[PB_STORE_CASHIER_ACTOR_MAX + 1];
    snprintf(me, sizeof me, "staff:%s", x->a->id);
    if (strcmp(x->w.requested_by, me) == 0) {
        /* asked on the player's behalf: not theirs to approve */
        x->result = PB_ERR_FOUR_EYES_VIOLATION;
        return PB_OK;
    }
    /* the player's own money: a staff member whose e-mail is the player's (both
     * normalised when stored) is the same person through two accounts */
    bool self = false;
    pb_err se = cashier_staff_is_player(c, x->a->id, x->w.player, &self);
    if (se != PB_OK)
        return se;
    if (self) {
        x->result = PB_ERR_FOUR_EYES_VIOLATION;
        return PB_OK;
    }
    /* the approver's own right, as the approvals already given are judged below: a
     * principal's check (above) does not see the brand scope, and an actor without
     * one is judged by its staff row */
    const char *why = NULL;
    if (cashier_approver_lapse(c, x->a->id, x->w.brand_id, &why) != PB_OK)
        return PB_ERR_INTERNAL;
    if (why) {
        x->result = PB_ERR_FORBIDDEN;
        return PB_OK;
    }
    /* the approvals given already count only while their members still could give
     * them: one whose member lost the right lapses now (approvals.c) */
    cashier_approvals *j = malloc(sizeof *j);
    if (!j || cashier_approvals_judge(c, &x->w, j) != PB_OK) {
        free(j);
        return PB_ERR_INTERNAL;
    }
    for (size_t i = 0; i < j->n; i++)
        if (!j->ap[i].lapsed_at && strcmp(j->ap[i].staff_id, x->a->id) == 0) {
            free(j);
            x->result = PB_ERR_FOUR_EYES_VIOLATION;
            return PB_OK;
        }
    size_t given = j->standing + j->lapsing, n = j->standing;
    int required = j->required; /* the stricter of the request's and today's rule */
    json_t *lapsed = NULL;
    pb_err e = cashier_approvals_lapse(tx, j, &lapsed);
    free(j);
    if (e != PB_OK)
        return e;
    if (lapsed) {
        pb_cashier_actor sys = {.kind = "system",
                                .id = PB_CASHIER_APPROVALS_ACTOR,
                                .trace_id = x->a->trace_id};
        json_t *after = cashier_withdrawal_json(&x->w, n);
        if (after)
            json_object_set(after, "lapsed", lapsed);
        json_decref(lapsed);
        if (pb_cashier_audit(tx, &sys, x->w.brand, "withdrawal.approval_lapsed", "withdrawal",
                             x->w.id, cashier_withdrawal_json(&x->w, given), after,
                             "approver lost the right before the approval was complete") != PB_OK ||
            /* announced too, before this approval's own event (approvals.c) */
            cashier_approval_lapsed_emit(c, pb_ledger_tx_now(tx), &x->w, n,
                                         PB_CASHIER_LAPSE_APPROVER, x->a->trace_id) != PB_OK)
            return PB_ERR_INTERNAL;
    }
    pb_store_withdrawal_approval mine = {0};
    snprintf(mine.withdrawal_id, sizeof mine.withdrawal_id, "%s", x->w.id);
    snprintf(mine.staff_id, sizeof mine.staff_id, "%s", x->a->id);
    snprintf(mine.role, sizeof mine.role, "%s", x->a->role ? x->a->role : "");
    mine.approved_at = pb_ledger_tx_now(tx);
    if (pb_store_withdrawal_approval_insert(c, &mine) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    json_t *before = cashier_withdrawal_json(&x->w, n);
    /* the brand's threshold lowered since the request: more approvals now, written to
     * the row (never lowered again) and said in this approval's audit entry */
    char why_raised[96] = "";
    if (required > x->w.approvals_required) {
        snprintf(why_raised, sizeof why_raised,
                 "approvals_required raised from %d to %d: " PB_CASHIER_RAISE_THRESHOLD_LOWERED,
                 x->w.approvals_required, required);
        x->w.approvals_required = required;
    }
    x->approved = (int)(n + 1) >= x->w.approvals_required;
    if (x->approved)
        snprintf(x->w.status, sizeof x->w.status, "approved");
    if (x->approved || why_raised[0]) {
        x->w.updated_at = pb_ledger_tx_now(tx);
        if (pb_store_withdrawal_update(c, &x->w) != PB_STORE_OK) {
            json_decref(before);
            return PB_ERR_INTERNAL;
        }
    }
    /* still pending_approval: the other finance staff's pages learn of it live */
    if (cashier_withdrawal_emit(tx,
                                x->approved ? "withdrawal.approved"
                                            : "withdrawal.approval_recorded",
                                &x->w, x->a->trace_id) != PB_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    x->result = PB_OK;
    return pb_cashier_audit(tx, x->a, x->w.brand, "withdrawal.approve", "withdrawal", x->w.id,
                            before, cashier_withdrawal_json(&x->w, n + 1),
                            why_raised[0] ? why_raised : NULL);
}

pb_err pb_cashier_withdrawal_approve(pb_cashier *k, const char *id, const pb_cashier_actor *a,
                                     pb_store_withdrawal *out)
{
    if (!id || strlen(id) > PB_ID_STR_LEN)
        return PB_ERR_WITHDRAWAL_NOT_FOUND;
    wd_ctx x = {.a = a};
    snprintf(x.w.id, sizeof x.w.id, "%s", id);
    /* claimed before the command: its "approved" is visible to the retry's passes
     * before the commit is durable and this call answered, and until the payout is
     * sent; they leave it alone. Not claimed (another approval of the same
     * withdrawal holds it): the send below claims it if it can, else the retry
     * sends it. */
    bool claimed = cashier_payout_claim(k, x.w.id);
    pb_err e = pb_ledger_command(k->ledger, approve_command, &x);
    if (e == PB_OK)
        e = x.result;
    if (e == PB_OK && x.approved) /* refused, or sent by the retry: "approved" */
        cashier_payout_after_approval(k, &x.w, claimed, a->trace_id);
    if (claimed)
        cashier_payout_release(k, x.w.id);
    *out = x.w;
    return e;
}

/* ---- reading ---- */

pb_err pb_cashier_withdrawal_get(pb_store_conn *c, const pb_brand_scope *scope, const char *player,
                                 const char *id, pb_store_withdrawal *out)
{
    if (!id || strlen(id) > PB_ID_STR_LEN)
        return PB_ERR_WITHDRAWAL_NOT_FOUND;
    pb_store_rc rc = pb_store_withdrawal_get(c, id, out);
    if (rc == PB_STORE_OK && (!pb_brand_scope_allows(scope, out->brand_id) ||
                              (player && strcmp(out->player, player) != 0)))
        rc = PB_STORE_NOT_FOUND;
    return rc == PB_STORE_OK          ? PB_OK
           : rc == PB_STORE_NOT_FOUND ? PB_ERR_WITHDRAWAL_NOT_FOUND
                                      : PB_ERR_STORE_UNAVAILABLE;
}

pb_err pb_cashier_withdrawal_list(pb_store_conn *c, const pb_store_withdrawal_query *q,
                                  pb_store_withdrawal *out, size_t *n)
{
    return pb_store_withdrawal_list(c, q, out, n) == PB_STORE_OK ? PB_OK : PB_ERR_STORE_UNAVAILABLE;
}

pb_err pb_cashier_withdrawal_approvals(pb_store_conn *c, const char *id,
                                       pb_store_withdrawal_approval out[PB_CASHIER_MAX_APPROVALS],
                                       size_t *n)
{
    return pb_store_withdrawal_approval_list(c, id, out, PB_CASHIER_MAX_APPROVALS, n) == PB_STORE_OK
               ? PB_OK
               : PB_ERR_STORE_UNAVAILABLE;
}
