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
 * way (pb_adjust_mark_expired, admin_adjust_expire.c) by serve's sweep, audited as
 * the system, within --adjust-sweep-seconds (default 60) of its time. Until then the
 * list and GET compute the status as it reads now (pb_adjust_status_now), so a
 * request past its time shows "expired" (decided_at null) at once.
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

/* In the command: the request, pending past its time, marked expired
 * (pb_adjust_mark_expired, as the sweep marks one), audited as the caller whose
 * decision found it so. */
static pb_err mark_expired(pb_ledger_tx *tx, adjust_ctx *x)
{
    pb_audit_entry by;
    pb_admin_entry(x->req, x->p, "player.adjust_expire", &by);
    pb_err e = pb_adjust_mark_expired(tx, &x->row, x->expiry_us, &by);
    x->expired = e == PB_OK;
    return e;
}

/* The start of a decision in the ledger writer: the caller re-checked (a refusal
 * into x->refusal; a changed brand scope ends their session, as a changed role
 * does), and the request re-read (x->not_pending
 * when it was decided since; x->expired when it was pending past its time: marked
 * expired here). *go when the command goes on to decide. */
static pb_err decide_begin(pb_ledger_tx *tx, adjust_ctx *x, bool *go)
{
    bool ok = false;
    *go = false;
    pb_err e = pb_adjust_principal_ok(tx, x, &ok);
    if (e != PB_OK || !ok)
        return e;
    char id[sizeof x->row.public_id];
    memcpy(id, x->row.public_id, sizeof id);
    if (pb_store_adjustment_get(pb_ledger_tx_conn(tx), id, &x->row) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    x->not_pending = strcmp(x->row.status, "pending") != 0;
    if (!x->not_pending && pb_adjust_due(&x->row, x->expiry_us, pb_ledger_tx_now(tx)))
        return mark_expired(tx, x);
    *go = !x->not_pending;
    return PB_OK;
}

/* In the ledger writer: a request found past its time at the approval (before
 * anything is prepared for its transfer) marked expired, or whatever decide_begin
 * finds since. */
static pb_err expire_command(pb_ledger_tx *tx, void *arg)
{
    bool go = false;
    return decide_begin(tx, arg, &go);
}

/* The request decided (status) by the caller, now. */
static void mark_decided(pb_ledger_tx *tx, adjust_ctx *x, const char *status)
{
    pb_store_adjustment *r = &x->row;
    snprintf(r->status, sizeof r->status, "%s", status);
    snprintf(r->decided_by, sizeof r->decided_by, "%s", x->p->subject_public_id);
    r->decided_at = pb_ledger_tx_now(tx);
}

/* In the ledger writer: the approval and its transfer, or a refusal. */
static pb_err approve_command(pb_ledger_tx *tx, void *arg)
{
    adjust_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    bool go = false;
    pb_err e = decide_begin(tx, x, &go);
    if (e != PB_OK || !go)
        return e;
    if (strcmp(x->row.requested_by, x->p->subject_public_id) == 0) {
        x->refusal = PB_ERR_FOUR_EYES_VIOLATION;
        return PB_OK;
    }
    bool open = false;
    e = pb_adjust_player_open(tx, x, &open);
    if (e != PB_OK || !open) /* a closed player: PLAYER_ERASED in x->refusal */
        return e;
    /* a debit beyond the balance now: refused before the ledger sees it (a refused
     * transfer would spend the key), and the request stays pending */
    if (strcmp(x->direction, "debit") == 0 && debit_room(x) < x->amount) {
        x->refusal = PB_ERR_INSUFFICIENT_FUNDS;
        return PB_OK;
    }
    e = pb_ledger_tx_submit(tx, &x->t, 1);
    if (e != PB_OK)
        return e == PB_ERR_INTERNAL ? e : (x->refusal = e, PB_OK);
    pb_store_adjustment *r = &x->row;
    mark_decided(tx, x, x->t.result != PB_OK ? "failed" : "approved");
    pb_wallet_balance after = x->before;
    if (x->t.result != PB_OK) { /* refused for good: the key is spent, the request failed */
        snprintf(r->failure, sizeof r->failure, "%s", pb_err_code(x->t.result));
        x->refusal = x->t.result;
    } else {
        pb_id_to_string(&x->t.record.id, r->transfer_id);
        if (pb_adjust_balances_now(tx, x, &after) != PB_OK)
            return PB_ERR_INTERNAL;
    }
    if (pb_store_adjustment_decide(c, r) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    e = pb_adjust_audit(tx, x, "player.adjust_approve", &x->before,
                        json_pack("{s:o*,s:o*}", "balance",
                                  pb_api_wallet_balance_json(&after, x->cur), "adjustment",
                                  pb_adjust_request_json(r)),
                        r->reason);
    /* @backoffice: balance.adjusted, in the command's transaction with the money */
    if (e == PB_OK && x->t.result == PB_OK &&
        pb_events_emit(c, "balance.adjusted", x->brand, x->player.public_id,
                       pb_http_trace_id(x->req), pb_ledger_tx_now(tx),
                       PB_EV_STR("transfer_id", r->transfer_id), PB_EV_STR("balance", x->balance),
                       PB_EV_STR("direction", x->direction),
                       PB_EV_STR("staff_id", x->p->subject_public_id),
                       PB_EV_STR("requested_by", r->requested_by),
                       PB_EV_STR("adjustment_id", r->public_id),
                       PB_EV_MONEY("amount", x->amount, x->player.currency)) != PB_OK)
        e = PB_ERR_INTERNAL;
    return e;
}

/* In the ledger writer: the rejection (any member with finance.adjust, the
 * requester too: nothing moves). */
static pb_err reject_command(pb_ledger_tx *tx, void *arg)
{
    adjust_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    bool go = false;
    pb_err e = decide_begin(tx, x, &go);
    if (e != PB_OK || !go)
        return e;
    pb_store_adjustment *r = &x->row;
    mark_decided(tx, x, "rejected");
    snprintf(r->decision_reason, sizeof r->decision_reason, "%s", x->decision);
    if (pb_store_adjustment_decide(c, r) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    /* x->brand and x->player are the request's (request_visible) */
    e = pb_adjust_audit(tx, x, "player.adjust_reject", NULL, pb_adjust_request_json(r),
                        x->decision);
    /* @backoffice: balance.adjustment_rejected, with the status change (the queue's
     * pages follow it) */
    if (e == PB_OK &&
        pb_events_emit(c, "balance.adjustment_rejected", x->brand, x->player.public_id,
                       pb_http_trace_id(x->req), pb_ledger_tx_now(tx),
                       PB_EV_STR("adjustment_id", r->public_id), PB_EV_STR("balance", r->balance),
                       PB_EV_STR("direction", r->direction),
                       PB_EV_STR("staff_id", x->p->subject_public_id),
                       PB_EV_STR("requested_by", r->requested_by),
                       PB_EV_MONEY("amount", r->amount, r->currency)) != PB_OK)
        e = PB_ERR_INTERNAL;
    return e;
}

/* The request named by the route's {id} into *r, of a brand in p's scope (its row into
 * *b). A malformed id, an unknown one and one of a brand outside the scope are all
 * ADJUSTMENT_NOT_FOUND: the same answer, so a request's existence is not told across
 * brands (as for a withdrawal of another brand); STORE_UNAVAILABLE / INTERNAL. */
static pb_err request_in_scope(pb_http_request *req, pb_store_conn *c, const pb_principal *p,
                               pb_store_adjustment *r, pb_brand *b)
{
    const char *id = pb_http_param(req, "id");
    pb_store_rc rc = id && strlen(id) < sizeof r->public_id ? pb_store_adjustment_get(c, id, r)
                                                            : PB_STORE_NOT_FOUND;
    return pb_admin_request_in_scope(c, p, rc, r->brand, b, PB_ERR_ADJUSTMENT_NOT_FOUND);
}

/* The request named by {id} into x->row (request_in_scope), with its player
 * (x->player, x->brand). Replies and returns false on a failure. */
static bool request_visible(pb_http_request *req, pb_store_conn *c, adjust_ctx *x, pb_brand *b)
{
    pb_err e = request_in_scope(req, c, x->p, &x->row, b);
    if (e == PB_OK)
        e = pb_identity_player_get(c, &x->p->scope, x->row.player, &x->player);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return false;
    }
    snprintf(x->brand, sizeof x->brand, "%s", x->row.brand);
    x->brand_id = b->id;
    x->expiry_us = pb_tenancy_adjustment_expiry_us(b);
    x->balance = x->row.balance;
    x->direction = x->row.direction;
    x->amount = x->row.amount;
    x->reason = x->row.reason;
    x->key = x->row.idempotency_key;
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

/* Replies a decision's failure e: ADJUSTMENT_STATE saying so when the request
 * expired, INSUFFICIENT_FUNDS naming the amount. */
static void decision_fail(pb_http_request *req, const adjust_ctx *x, pb_err e)
{
    pb_admin_decision_fail(req, e,
                           e == PB_ERR_ADJUSTMENT_STATE &&
                               (x->expired || strcmp(x->row.status, "expired") == 0),
                           EXPIRED_MSG);
}

/* Whether the request (as the handler read it) is pending: else 409
 * ADJUSTMENT_STATE (saying so when it expired), replied. */
static bool decidable(pb_http_request *req, const adjust_ctx *x)
{
    if (strcmp(x->row.status, "pending") == 0)
        return true;
    decision_fail(req, x, PB_ERR_ADJUSTMENT_STATE);
    return false;
}

/* 200 {adjustment, replayed, balance (the player's now)}. */
static void answer_decided(pb_http_request *req, pb_store_conn *c, const adjust_ctx *x,
                           bool replayed)
{
    pb_wallet_balance now;
    pb_err e = pb_wallet_balance_get(c, x->brand, x->player.public_id, x->player.currency, &now);
    const pb_currency *cur = pb_currency_find(x->player.currency);
    if (e != PB_OK || !cur) {
        pb_admin_fail(req, e != PB_OK ? e : PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_admin_emails cache = {0};
    json_t *rec = pb_adjust_request_staff_json(c, &cache, &x->row);
    if (!rec) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:b,s:o*}", "adjustment", rec, "replayed", replayed,
                                 "balance", pb_api_wallet_balance_json(&now, cur)));
}

void pb_api_admin_adjustment_approve(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    pb_store_conn *c = NULL;
    pb_brand *b = NULL;
    adjust_ctx *x = decision_ctx(req, app, &c, &b);
    if (!x)
        return;
    if (!pb_admin_parse_empty(req) || !request_visible(req, c, x, b))
        return;
    if (strcmp(x->row.requested_by, x->p->subject_public_id) == 0) {
        pb_http_reply_error_msg(req, PB_ERR_FOUR_EYES_VIOLATION, NULL,
                                "the adjustment is approved by a member other than its requester");
        return;
    }
    if (!pb_adjust_not_own_account(req, c, x->p, &x->player))
        return;
    if (strcmp(x->row.status, "approved") == 0) {
        answer_decided(req, c, x, true);
        return;
    }
    if (!decidable(req, x))
        return;
    if (pb_adjust_due(&x->row, x->expiry_us, pb_time_now_us())) {
        /* past its time: marked expired, nothing prepared for a transfer */
        pb_err e = pb_ledger_command(a->ledger, expire_command, x);
        if (e == PB_OK && x->refusal != PB_OK)
            e = x->refusal;
        if (e == PB_OK && x->not_pending && strcmp(x->row.status, "approved") == 0) {
            answer_decided(req, c, x, true); /* approved just before its time */
            return;
        }
        if (e == PB_OK) /* expired now, or decided otherwise since */
            e = PB_ERR_ADJUSTMENT_STATE;
        decision_fail(req, x, e);
        return;
    }
    if (x->player.status == PB_PLAYER_CLOSED) { /* before any account is created */
        pb_admin_fail(req, PB_ERR_PLAYER_ERASED, NULL);
        return;
    }
    x->cur = pb_currency_find(x->player.currency);
    pb_err e = x->cur ? pb_adjust_prepare_transfer(a, c, x) : PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = pb_ledger_command(a->ledger, approve_command, x);
    if (e == PB_OK && x->not_pending) {
        if (strcmp(x->row.status, "approved") == 0) {
            answer_decided(req, c, x, true);
            return;
        }
        e = PB_ERR_ADJUSTMENT_STATE;
    }
    if (e == PB_OK && x->refusal != PB_OK)
        e = x->refusal;
    if (e == PB_OK && x->expired)
        e = PB_ERR_ADJUSTMENT_STATE;
    if (e != PB_OK) {
        decision_fail(req, x, e);
        return;
    }
    answer_decided(req, c, x, false);
}

void pb_api_admin_adjustment_reject(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    pb_store_conn *c = NULL;
    pb_brand *b = NULL;
    adjust_ctx *x = decision_ctx(req, app, &c, &b);
    if (!x)
        return;
    if (!pb_admin_parse_reason(req, x->p, "player.adjust_reject", 500, &x->decision) ||
        !request_visible(req, c, x, b))
        return;
    if (!decidable(req, x))
        return;
    /* a request past its time is marked expired by the command (decide_begin) */
    pb_err e = pb_ledger_command(a->ledger, reject_command, x);
    if (e == PB_OK && x->refusal != PB_OK)
        e = x->refusal;
    if (e == PB_OK && (x->not_pending || x->expired))
        e = PB_ERR_ADJUSTMENT_STATE;
    if (e != PB_OK) {
        decision_fail(req, x, e);
        return;
    }
    answer_decided(req, c, x, false);
}

/* One list item (pb_admin_request_page_reply). */
static json_t *item_json(pb_store_conn *c, pb_admin_emails *cache, const void *row)
{
    return pb_adjust_request_staff_json(c, cache, row);
}

void pb_api_admin_adjustments_list(pb_http_request *req, void *app)
{
    (void)app;
    pb_admin_request_query q;
    if (!pb_admin_request_list_begin(req, pb_tenancy_adjustment_expiry_us, &q))
        return;
    pb_store_adjustment *rows = pb_http_alloc(req, (size_t)q.limit * sizeof *rows);
    size_t n = 0;
    pb_store_rc rc = rows ? pb_store_adjustment_list(q.c, q.codes, pb_time_now_us(), q.status,
                                                     q.cursor, rows, (size_t)q.limit, &n)
                          : PB_STORE_ERROR;
    free(q.codes);
    pb_admin_request_page_reply(req, q.c, rc, rows, sizeof *rows, n, q.limit, item_json,
                                n ? rows[n - 1].id : 0);
}

void pb_api_admin_adjustment_get(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    pb_store_conn *c = pb_http_conn(req);
    if (!c) {
        pb_admin_fail(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    pb_store_adjustment *r = pb_http_alloc(req, sizeof *r);
    pb_brand *b = pb_http_alloc(req, sizeof *b);
    if (!r || !b) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_err e = request_in_scope(req, c, p, r, b);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_adjust_status_now(r, pb_tenancy_adjustment_expiry_us(b), pb_time_now_us());
    pb_admin_emails cache = {0};
    json_t *o = pb_adjust_request_staff_json(c, &cache, r);
    if (!o) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200, o);
}
