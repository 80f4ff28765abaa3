/*
 * admin_adjust_4eyes.c — the second approver of a large staff adjustment (the
 * 4-eyes of admin_adjust.c, described at its top; the context and helpers both
 * files use are in admin_adjust.h):
 *
 *   GET  /v1/admin/adjustments?status=&brand=&limit=&cursor=   finance.read, brand-scoped
 *   GET  /v1/admin/adjustments/{id}           finance.read, brand-scoped (404 outside)
 *   POST /v1/admin/adjustments/{id}/approve   finance.adjust, not the requester
 *   POST /v1/admin/adjustments/{id}/reject    finance.adjust, {reason}
 *
 * A decision is taken in a ledger command: the caller re-checked
 * (pb_identity_principal_check: a member disabled, with another role or another
 * brand scope than their session was opened with is refused) and the request
 * re-read there, so a decision committed since answers ADJUSTMENT_STATE
 * (or the approval again, replayed). An approval makes the transfer under the
 * request's key with the status change, its audit entry and balance.adjusted; a
 * rejection moves nothing.
 *
 * Expiry: a request pending longer than its brand's
 * settings.adjustment_request_expiry_hours (default 72) can no longer be decided.
 * The approval or rejection that finds it so marks it "expired" in its own ledger
 * command (decided_at the command's time, decided_by NULL), audited as
 * player.adjust_expire with the event balance.adjustment_expired, and answers 409
 * ADJUSTMENT_STATE saying it expired. A request nobody touches is marked the same
 * way (pb_admin_request_mark_expired, admin_4eyes.c) by serve's sweep
 * (admin_request_sweep.c), audited as the system (PB_API_ADJUST_SWEEP_ACTOR), within
 * --adjust-sweep-seconds (default 60) of its time. Until then the list and GET
 * compute the status as it reads now (pb_admin_request_status_now), so a request
 * past its time shows "expired" (decided_at null) at once.
 *
 * The steps every kind of 4-eyes request shares (the decision's start and outcome,
 * the expiry, the list and GET) are admin_4eyes.c's; what is the adjustments' own
 * (the transfer, the audit entries and events, the answer) is here, with the
 * kind's description for them (pb_admin_adjustment_requests).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_adjust.h"
#include "core/time.h"
#include "events/events.h"

#define EXPIRED_MSG                                                                         \
    "the adjustment request expired (pending longer than the brand's "                      \
    "settings.adjustment_request_expiry_hours) and can no longer be approved or rejected; " \
    "make a new request"

/* Available to debit from the adjusted balance at this point of the batch. */
static int64_t debit_room(const adjust_ctx *x)
{
    return strcmp(x->balance, "cash") == 0 ? x->before.withdrawable : x->before.bonus;
}

/* The approval's re-checks in its command: the player as the batch sees them
 * (PLAYER_ERASED when closed; their balances into x->before), and a debit beyond the
 * balance now (INSUFFICIENT_FUNDS). */
static pb_err approve_ready(pb_ledger_tx *tx, pb_admin_request_ctx *q)
{
    adjust_ctx *x = (adjust_ctx *)q;
    bool open = false;
    pb_err e = pb_adjust_player_open(tx, x, &open);
    if (e != PB_OK || !open) /* a closed player: PLAYER_ERASED in x->q.refusal */
        return e;
    if (strcmp(x->direction, "debit") == 0 && debit_room(x) < x->amount)
        x->q.refusal = PB_ERR_INSUFFICIENT_FUNDS;
    return PB_OK;
}

/* The approval's audit entry (its failure's too) and, when the money moved,
 * balance.adjusted. */
static pb_err approved(pb_ledger_tx *tx, pb_admin_request_ctx *q, pb_err result)
{
    adjust_ctx *x = (adjust_ctx *)q;
    const pb_store_request *r = q->row;
    pb_wallet_balance after = x->before;
    if (result == PB_OK && pb_adjust_balances_now(tx, x, &after) != PB_OK)
        return PB_ERR_INTERNAL;
    pb_err e = pb_adjust_audit(tx, x, "player.adjust_approve", &x->before,
                               json_pack("{s:o*,s:o*}", "balance",
                                         pb_api_wallet_balance_json(&after, x->cur), "adjustment",
                                         pb_adjust_request_json(r)),
                               r->reason);
    /* @backoffice: balance.adjusted, in the command's transaction with the money */
    if (e == PB_OK && result == PB_OK &&
        pb_events_emit(pb_ledger_tx_conn(tx), "balance.adjusted", x->brand, x->player.public_id,
                       pb_http_trace_id(q->req), pb_ledger_tx_now(tx),
                       PB_EV_STR("transfer_id", r->transfer_id), PB_EV_STR("balance", x->balance),
                       PB_EV_STR("direction", x->direction),
                       PB_EV_STR("staff_id", q->p->subject_public_id),
                       PB_EV_STR("requested_by", r->requested_by),
                       PB_EV_STR("adjustment_id", r->public_id),
                       PB_EV_MONEY("amount", x->amount, x->player.currency)) != PB_OK)
        e = PB_ERR_INTERNAL;
    return e;
}

/* The rejection's audit entry (any member with finance.adjust may reject, the
 * requester too: nothing moves); x->brand and x->player are the request's
 * (request_visible). */
static pb_err rejected(pb_ledger_tx *tx, pb_admin_request_ctx *q)
{
    adjust_ctx *x = (adjust_ctx *)q;
    const pb_store_request *r = q->row;
    pb_err e = pb_adjust_audit(tx, x, "player.adjust_reject", NULL, pb_adjust_request_json(r),
                               q->decision);
    /* @backoffice: balance.adjustment_rejected, with the status change (the queue's
     * pages follow it) */
    if (e == PB_OK &&
        pb_events_emit(pb_ledger_tx_conn(tx), "balance.adjustment_rejected", x->brand,
                       x->player.public_id, pb_http_trace_id(q->req), pb_ledger_tx_now(tx),
                       PB_EV_STR("adjustment_id", r->public_id), PB_EV_STR("balance", x->balance),
                       PB_EV_STR("direction", x->direction),
                       PB_EV_STR("staff_id", q->p->subject_public_id),
                       PB_EV_STR("requested_by", r->requested_by),
                       PB_EV_MONEY("amount", r->amount, r->currency)) != PB_OK)
        e = PB_ERR_INTERNAL;
    return e;
}

/* The request named by {id} into x->row (pb_admin_request_in_scope), with its
 * player (x->player, x->brand). Replies and returns false on a failure. */
static bool request_visible(pb_http_request *req, pb_store_conn *c, adjust_ctx *x, pb_brand *b)
{
    pb_err e = pb_admin_request_in_scope(req, c, x->q.p, x->q.kind, &x->row.rq, b);
    if (e == PB_OK)
        e = pb_identity_player_get(c, &x->q.p->scope, x->row.player, &x->player);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return false;
    }
    snprintf(x->brand, sizeof x->brand, "%s", x->row.rq.brand);
    x->q.expiry_us = pb_tenancy_adjustment_expiry_us(b);
    x->balance = x->row.balance;
    x->direction = x->row.direction;
    x->amount = x->row.rq.amount;
    x->reason = x->row.rq.reason;
    x->key = x->row.rq.idempotency_key;
    return true;
}

/* A decision's context (pb_adjust_ctx_new), the request's connection into *c and
 * room for its brand into *b; NULL when replied (STORE_UNAVAILABLE, INTERNAL). */
static adjust_ctx *decision_ctx(pb_http_request *req, void *app, pb_store_conn **c, pb_brand **b)
{
    *c = pb_http_conn(req);
    if (!*c) {
        pb_admin_fail(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return NULL;
    }
    adjust_ctx *x = pb_adjust_ctx_new(req, app);
    *b = x ? pb_http_alloc(req, sizeof **b) : NULL;
    if (x && !*b) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return NULL;
    }
    return *b ? x : NULL;
}

/* A decision's answer's balance: the player's now. */
static pb_err answer_balance(pb_store_conn *c, const pb_admin_request_ctx *q, json_t **out)
{
    const adjust_ctx *x = (const adjust_ctx *)q;
    pb_wallet_balance now;
    pb_err e = pb_wallet_balance_get(c, x->brand, x->player.public_id, x->player.currency, &now);
    const pb_currency *cur = pb_currency_find(x->player.currency);
    if (e != PB_OK || !cur)
        return e != PB_OK ? e : PB_ERR_INTERNAL;
    *out = pb_api_wallet_balance_json(&now, cur);
    return PB_OK;
}

/* The approval's transfer, in the handler (after the checks of
 * pb_admin_request_approve): none for a closed player (before any account is
 * created). */
static pb_err prepare(pb_store_conn *c, pb_admin_request_ctx *q)
{
    adjust_ctx *x = (adjust_ctx *)q;
    if (x->player.status == PB_PLAYER_CLOSED)
        return PB_ERR_PLAYER_ERASED;
    x->cur = pb_currency_find(x->player.currency);
    return x->cur ? pb_adjust_prepare_transfer(q->app, c, x) : PB_ERR_INTERNAL;
}

void pb_api_admin_adjustment_approve(pb_http_request *req, void *app)
{
    pb_store_conn *c = NULL;
    pb_brand *b = NULL;
    adjust_ctx *x = decision_ctx(req, app, &c, &b);
    if (!x)
        return;
    if (!pb_admin_parse_empty(req) || !request_visible(req, c, x, b))
        return;
    if (!pb_admin_request_not_requester(
            req, &x->q, "the adjustment is approved by a member other than its requester") ||
        !pb_adjust_not_own_account(req, c, x->q.p, &x->player))
        return;
    pb_admin_request_approve(req, c, &x->q);
}

void pb_api_admin_adjustment_reject(pb_http_request *req, void *app)
{
    pb_store_conn *c = NULL;
    pb_brand *b = NULL;
    adjust_ctx *x = decision_ctx(req, app, &c, &b);
    if (!x)
        return;
    if (!pb_admin_parse_reason(req, x->q.p, "player.adjust_reject", 500, &x->q.decision) ||
        !request_visible(req, c, x, b))
        return;
    pb_admin_request_reject(req, c, &x->q);
}

void pb_api_admin_adjustments_list(pb_http_request *req, void *app)
{
    (void)app;
    pb_admin_request_list_reply(req, &pb_admin_adjustment_requests);
}

void pb_api_admin_adjustment_get(pb_http_request *req, void *app)
{
    (void)app;
    pb_admin_request_get_reply(req, &pb_admin_adjustment_requests);
}

/* ---- the kind, for the 4-eyes machinery (admin_4eyes.h) */

/* The audit entries' target: the player. */
static void adjust_target(const pb_store_request *r, const char **kind, const char **id)
{
    *kind = "player";
    *id = ((const pb_store_adjustment *)r)->player;
}

/* @backoffice: balance.adjustment_expired, with the status change */
static pb_err adjust_expired_event(pb_store_conn *c, const pb_store_request *r,
                                   const pb_audit_entry *by, int64_t now)
{
    const pb_store_adjustment *a = (const pb_store_adjustment *)r;
    return pb_events_emit(c, "balance.adjustment_expired", r->brand, a->player, by->trace_id, now,
                          PB_EV_STR("adjustment_id", r->public_id),
                          PB_EV_STR("balance", a->balance), PB_EV_STR("direction", a->direction),
                          PB_EV_STR("requested_by", r->requested_by),
                          PB_EV_MONEY("amount", r->amount, r->currency));
}

const pb_admin_request_kind pb_admin_adjustment_requests = {
    .store = PB_STORE_REQUEST_ADJUSTMENT,
    .what = "adjustment",
    .expiry_us = pb_tenancy_adjustment_expiry_us,
    .not_found = PB_ERR_ADJUSTMENT_NOT_FOUND,
    .state = PB_ERR_ADJUSTMENT_STATE,
    .expired_msg = EXPIRED_MSG,
    .expire_action = "player.adjust_expire",
    .sweep_actor = PB_API_ADJUST_SWEEP_ACTOR,
    .json = pb_adjust_request_json,
    .target = adjust_target,
    .expired_event = adjust_expired_event,
    .answer_key = "adjustment",
    .balance_key = "balance",
    .balance_json = answer_balance,
    .prepare = prepare,
    .approve_ready = approve_ready,
    .approved = approved,
    .rejected = rejected,
};

pb_err pb_api_adjust_expire(pb_ledger *l, pb_store_adjustment *r, int64_t expiry_us, bool *marked)
{
    return pb_admin_request_expire(l, &pb_admin_adjustment_requests, &r->rq, expiry_us, marked);
}
