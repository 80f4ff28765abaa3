/*
 * admin_adjust.c — manual adjustments of a player's money by finance staff:
 *
 *   POST /v1/admin/players/{id}/adjustments   finance.adjust, brand-scoped
 *   {"balance":"cash"|"bonus","direction":"credit"|"debit","amount":"10.00",
 *    "reason":"…","idempotency_key":"…"}
 *
 * One ledger transfer between the player's cash or bonus account and the
 * brand's house account, in the player's currency, and its audit entry — both
 * in one ledger command, so they commit together or not at all. The staff
 * member's idempotency key makes a retry safe: the same key and request answer
 * the original transfer (replayed: true, no second audit entry); the same key
 * with another request is IDEMPOTENCY_CONFLICT. A debit beyond the balance is
 * INSUFFICIENT_FUNDS and changes nothing.
 *
 * Refused, nothing written:
 * - FOUR_EYES_VIOLATION: the staff member's e-mail is the player's (one person
 *   through two accounts, as the cashier refuses their own withdrawal's
 *   approval): their own money is adjusted by someone else;
 * - PLAYER_ERASED: the player is closed (erased). Nobody can withdraw from a
 *   closed account, so nothing may land in it (its money after the closure goes
 *   to the brand's unclaimed funds, wallet.h "Closed players"), and it holds
 *   nothing to debit. Decided again inside the ledger command, so an erasure
 *   committed just before is seen. The retry of an adjustment made before the
 *   erasure still gets its answer (replayed), as any retry does.
 * - SESSION_REVOKED / FORBIDDEN: the caller's session ended or the member was
 *   disabled or given another role after the authorizer ran: re-checked inside
 *   the ledger command (pb_identity_principal_check, as pb_admin_write does), so
 *   a change committed while the request waited for the writer is seen.
 * A blocked or self-excluded player stays adjustable: a correction or a refund
 * owed to them is staff's to make.
 *
 * Large adjustments (4-eyes; the second approver's routes are in
 * admin_adjust_4eyes.c, the context and helpers both files use in admin_adjust.h):
 *   GET  /v1/admin/adjustments?status=&brand=    finance.read, brand-scoped
 *   POST /v1/admin/adjustments/{id}/approve      finance.adjust, not the requester
 *   POST /v1/admin/adjustments/{id}/reject       finance.adjust, {reason}
 * When the brand's settings.adjustment_4eyes_thresholds has an entry for the
 * player's currency and the amount is at or above it, the adjustment is not
 * applied: request_command records it (adjustment_request, status pending, with
 * its audit entry and balance.adjustment_requested) and the answer is 202. The
 * key stays one key per brand across both paths: a request under it answers a
 * retry (202, replayed) or calls another body a conflict, whichever path the
 * retry would take (adjust_command looks for one first); a transfer made under it
 * below the threshold, or a refusal the ledger remembered under it (a debit beyond
 * the balance), is the ledger's to replay or call a conflict, so no request is
 * written under a key whose approval could only fail. approve_command
 * makes the transfer under the request's key together with the status change,
 * audit entry and balance.adjusted, after re-checking the approver
 * (pb_identity_principal_check), the requester (FOUR_EYES_VIOLATION) and the
 * player (PLAYER_ERASED). A debit beyond the balance is refused before the ledger
 * sees it (a refused transfer would spend the key) and the request stays pending;
 * a ledger refusal all the same marks it failed (failure: its code; audited
 * player.adjust_approve, no event: nothing moved) — with the checks above none is
 * known to be reachable but a damaged row of the house account (STORE_CORRUPT) or
 * an int64 overflow of its counters. Without an entry for the
 * currency (the default) every adjustment is applied at once.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_adjust.h"
#include "events/events.h"
#include "core/time.h"

adjust_ctx *pb_adjust_ctx_new(pb_http_request *req, void *app)
{
    adjust_ctx *x = pb_admin_request_ctx_new(req, app, &pb_admin_adjustment_requests, sizeof *x);
    if (x) {
        x->q.row = &x->row.rq;
        x->q.t = &x->t;
    }
    return x;
}

/* Whether the adjustment is refused because the player is closed: closed, and
 * no adjustment under its key exists to be answered again (a retry of one made
 * before the erasure is the ledger's to replay, or to call a conflict). */
static pb_err closed_refused(pb_store_conn *c, const adjust_ctx *x, bool closed, bool *refused)
{
    *refused = false;
    if (!closed)
        return PB_OK;
    pb_store_adjustment *row = malloc(sizeof *row);
    if (!row)
        return PB_ERR_INTERNAL;
    pb_store_rc rc = pb_store_request_by_key(c, PB_STORE_REQUEST_ADJUSTMENT, x->brand, x->key,
                                             &row->rq);
    free(row);
    if (rc == PB_STORE_OK)
        return PB_OK; /* a request under the key: answered as it stands */
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    pb_ledger_record r;
    pb_err e = pb_ledger_transfer_by_key(c, x->t.scope, x->t.key, &r);
    if (e == PB_ERR_TRANSFER_NOT_FOUND) {
        *refused = true;
        return PB_OK;
    }
    return e == PB_OK ? PB_OK : PB_ERR_INTERNAL;
}

pb_err pb_adjust_balances_now(pb_ledger_tx *tx, const adjust_ctx *x, pb_wallet_balance *b)
{
    pb_ledger_account cash, bonus;
    pb_err e = pb_ledger_tx_account(tx, x->acc.cash, &cash);
    if (e == PB_OK)
        e = pb_ledger_tx_account(tx, x->acc.bonus, &bonus);
    if (e != PB_OK) /* a damaged account fails this command only, not the batch */
        return e == PB_ERR_STORE_CORRUPT ? e : PB_ERR_INTERNAL;
    memset(b, 0, sizeof *b);
    snprintf(b->currency, sizeof b->currency, "%s", x->player.currency);
    b->cash = cash.credits_posted - cash.debits_posted;
    b->held = cash.debits_pending;
    b->bonus = bonus.credits_posted - bonus.debits_posted - bonus.debits_pending;
    b->withdrawable = b->cash - b->held;
    b->total = b->withdrawable + b->bonus;
    return PB_OK;
}

pb_err pb_adjust_player_open(pb_ledger_tx *tx, adjust_ctx *x, bool *open)
{
    *open = false;
    pb_player_status st = PB_PLAYER_ACTIVE;
    if (pb_identity_player_status(pb_ledger_tx_conn(tx), x->player.public_id, &st) != PB_OK)
        return PB_ERR_INTERNAL;
    if (st == PB_PLAYER_CLOSED) {
        x->q.refusal = PB_ERR_PLAYER_ERASED;
        return PB_OK;
    }
    pb_err e = pb_adjust_balances_now(tx, x, &x->before); /* nothing written yet */
    if (e != PB_OK)
        return e; /* STORE_CORRUPT (a damaged account) fails this command only */
    *open = true;
    return PB_OK;
}

pb_err pb_adjust_audit(pb_ledger_tx *tx, const adjust_ctx *x, const char *action,
                       const pb_wallet_balance *before, json_t *after, const char *reason)
{
    pb_audit_entry en;
    pb_admin_entry(x->q.req, x->q.p, action, &en);
    en.brand = x->brand;
    en.target_kind = "player";
    en.target_id = x->player.public_id;
    en.after = pb_admin_json_text(x->q.req, after);
    en.before = before ? pb_admin_json_text(x->q.req, pb_api_wallet_balance_json(before, x->cur))
                       : NULL;
    en.reason = reason;
    if (!en.after || (before && !en.before))
        return PB_ERR_INTERNAL;
    return pb_audit_append(pb_ledger_tx_conn(tx), &en, pb_ledger_tx_now(tx));
}

/* In the ledger writer: the transfer, then (when it is new) its audit entry with
 * the exact balances before and after. */
static pb_err adjust_command(pb_ledger_tx *tx, void *arg)
{
    adjust_ctx *x = arg;
    /* the caller as the batch sees them, as pb_admin_write re-checks it: the
     * authorizer ran on an earlier snapshot, and a disable, role change or logout
     * committed since (while this command waited for the writer) refuses it
     * (SESSION_REVOKED, FORBIDDEN: nothing submitted); a request waiting (or
     * decided) under the key answers instead */
    bool go = false;
    pb_err e = pb_admin_request_begin(tx, &x->q, x->brand, x->key, &go);
    if (e != PB_OK || !go)
        return e;
    /* the player as the batch sees them: after an erasure committed before it */
    pb_player_status st = PB_PLAYER_ACTIVE;
    bool refused = false;
    e = pb_identity_player_status(pb_ledger_tx_conn(tx), x->player.public_id, &st);
    if (e != PB_OK ||
        closed_refused(pb_ledger_tx_conn(tx), x, st == PB_PLAYER_CLOSED, &refused) != PB_OK)
        return PB_ERR_INTERNAL;
    if (refused) {
        x->q.refusal = PB_ERR_PLAYER_ERASED;
        return PB_OK;
    }
    if ((e = pb_adjust_balances_now(tx, x, &x->before)) != PB_OK)
        return e; /* nothing written yet: STORE_CORRUPT fails this command only */
    e = pb_ledger_tx_submit(tx, &x->t, 1);
    if (e != PB_OK || x->t.result != PB_OK || x->t.replayed)
        return e == PB_ERR_INTERNAL ? e : PB_OK;
    pb_wallet_balance after;
    if (pb_adjust_balances_now(tx, x, &after) != PB_OK)
        return PB_ERR_INTERNAL;
    char tid[PB_ID_STR_LEN + 1];
    pb_id_to_string(&x->t.record.id, tid);
    e = pb_adjust_audit(tx, x, "player.adjust", &x->before,
                        json_pack("{s:o*,s:s,s:s,s:s}", "balance",
                                  pb_api_wallet_balance_json(&after, x->cur), "transfer_id", tid,
                                  "adjusted", x->balance, "direction", x->direction),
                        x->reason);
    /* @backoffice: balance.adjusted, in the command's transaction with the money */
    if (e == PB_OK &&
        pb_events_emit(pb_ledger_tx_conn(tx), "balance.adjusted", x->brand, x->player.public_id,
                       pb_http_trace_id(x->q.req), pb_ledger_tx_now(tx),
                       PB_EV_STR("transfer_id", tid), PB_EV_STR("balance", x->balance),
                       PB_EV_STR("direction", x->direction),
                       PB_EV_STR("staff_id", x->q.p->subject_public_id),
                       PB_EV_MONEY("amount", x->amount, x->player.currency)) != PB_OK)
        e = PB_ERR_INTERNAL;
    return e;
}

/* The brand's 4-eyes threshold for currency (settings "adjustment_4eyes_thresholds",
 * minor units); false when the brand has none for it (no 4-eyes). */
static bool adjust_threshold(const pb_brand *b, const char *currency, int64_t *out)
{
    return pb_tenancy_setting_for_currency(b->settings, "adjustment_4eyes_thresholds", currency,
                                           out);
}

bool pb_adjust_not_own_account(pb_http_request *req, pb_store_conn *c, const pb_principal *p,
                               const pb_player *pl)
{
    pb_staff *me = pb_http_alloc(req, sizeof *me);
    pb_err e = me ? pb_identity_staff_get(c, p->subject_public_id, me) : PB_ERR_INTERNAL;
    if (e != PB_OK && e != PB_ERR_STAFF_NOT_FOUND) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return false;
    }
    if (e == PB_OK && me->email[0] && strcmp(me->email, pl->email) == 0) {
        pb_http_reply_error_msg(req, PB_ERR_FOUR_EYES_VIOLATION, NULL,
                                "a staff member's own player account is adjusted by another "
                                "staff member");
        return false;
    }
    return true;
}

pb_err pb_adjust_prepare_transfer(pb_api_app *a, pb_store_conn *c, adjust_ctx *x)
{
    pb_transfer *t = &x->t;
    snprintf(t->scope, sizeof t->scope, "adjustment:%s", x->brand);
    snprintf(t->key, sizeof t->key, "%s", x->key);
    pb_wallet_accounts acc;
    int64_t house = 0;
    pb_err e = pb_wallet_player_accounts(a->wallet, c, x->brand, x->player.public_id,
                                         x->player.currency, &acc);
    x->acc = acc;
    if (e == PB_OK)
        e = pb_wallet_system_account(a->wallet, c, x->brand, PB_WALLET_OWNER_HOUSE,
                                     PB_WALLET_KIND_HOUSE, x->player.currency, &house);
    if (e != PB_OK)
        return e;
    int64_t mine = strcmp(x->balance, "cash") == 0 ? acc.cash : acc.bonus;
    bool credit = strcmp(x->direction, "credit") == 0;
    t->debit_account_id = credit ? house : mine;
    t->credit_account_id = credit ? mine : house;
    t->amount = x->amount;
    snprintf(t->currency, sizeof t->currency, "%s", x->player.currency);
    t->code = strcmp(x->balance, "bonus") == 0 && credit ? PB_CODE_BONUS_GRANT : PB_CODE_ADJUSTMENT;
    snprintf(t->reference, sizeof t->reference, "player:%.40s", x->player.public_id);
    snprintf(t->trace_id, sizeof t->trace_id, "%s", pb_http_trace_id(x->q.req));
    return PB_OK;
}

json_t *pb_adjust_request_json(const pb_store_request *rq)
{
    const pb_store_adjustment *a = (const pb_store_adjustment *)rq;
    const pb_store_request *r = rq;
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o*,s:s,s:s,s:s,s:s,s:o,s:s,s:s?,s:o,s:s?,s:s?,s:s?}",
                     "id", r->public_id, "brand", r->brand, "player_id", a->player, "balance",
                     a->balance, "direction", a->direction, "amount",
                     pb_admin_amount_json(r->amount, r->currency), "currency", r->currency,
                     "reason", r->reason, "idempotency_key", r->idempotency_key, "requested_by",
                     r->requested_by, "requested_at", pb_admin_time_json(r->requested_at), "status",
                     r->status, "decided_by", r->decided_by[0] ? r->decided_by : NULL, "decided_at",
                     pb_admin_time_json(r->decided_at), "decision_reason",
                     r->decision_reason[0] ? r->decision_reason : NULL, "transfer_id",
                     r->transfer_id[0] ? r->transfer_id : NULL, "failure",
                     r->failure[0] ? r->failure : NULL);
}

/* In the ledger writer: an adjustment at or above the threshold becomes a pending
 * request (no money moves), with its audit entry and event. */
static pb_err request_command(pb_ledger_tx *tx, void *arg)
{
    adjust_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    bool go = false;
    pb_err e = pb_admin_request_begin(tx, &x->q, x->brand, x->key, &go);
    if (e != PB_OK || !go)
        return e;
    /* a transfer made under the key (below the threshold, or before it was set), or
     * a refusal the ledger remembered under it (a debit beyond the balance below
     * the threshold): the ledger replays it or calls the key's reuse a conflict. A
     * request written under such a key could only fail at its approval, whatever
     * the balance by then: the ledger would answer the key the same way there. */
    bool answered = false;
    e = pb_ledger_key_answered(c, x->t.scope, x->t.key, &answered);
    if (e != PB_OK)
        return e == PB_ERR_STORE_CORRUPT ? e : PB_ERR_INTERNAL;
    if (answered) {
        x->direct = true;
        return PB_OK;
    }
    bool open = false;
    e = pb_adjust_player_open(tx, x, &open);
    if (e != PB_OK || !open) /* a closed player: PLAYER_ERASED in x->q.refusal */
        return e;
    pb_store_adjustment *r = &x->row;
    pb_admin_request_fill(tx, &x->q, x->brand, x->amount, x->player.currency, x->reason, x->key);
    snprintf(r->player, sizeof r->player, "%s", x->player.public_id);
    snprintf(r->balance, sizeof r->balance, "%s", x->balance);
    snprintf(r->direction, sizeof r->direction, "%s", x->direction);
    if (pb_store_request_insert(c, PB_STORE_REQUEST_ADJUSTMENT, &r->rq) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    e = pb_adjust_audit(tx, x, "player.adjust_request", &x->before, pb_adjust_request_json(&r->rq),
                        x->reason);
    /* @backoffice: balance.adjustment_requested, with the request in its transaction */
    if (e == PB_OK &&
        pb_events_emit(c, "balance.adjustment_requested", x->brand, x->player.public_id,
                       pb_http_trace_id(x->q.req), pb_ledger_tx_now(tx),
                       PB_EV_STR("adjustment_id", r->rq.public_id),
                       PB_EV_STR("balance", x->balance), PB_EV_STR("direction", x->direction),
                       PB_EV_STR("staff_id", x->q.p->subject_public_id),
                       PB_EV_MONEY("amount", x->amount, x->player.currency)) != PB_OK)
        e = PB_ERR_INTERNAL;
    return e;
}

/* Answers a call whose key names a request: 202 with it when the call asks for
 * the same adjustment (player, balance, direction, amount), else
 * IDEMPOTENCY_CONFLICT. */
static void answer_request(pb_http_request *req, adjust_ctx *x, bool replayed)
{
    const pb_store_adjustment *r = &x->row;
    bool same = strcmp(r->player, x->player.public_id) == 0 &&
                strcmp(r->balance, x->balance) == 0 && strcmp(r->direction, x->direction) == 0 &&
                r->rq.amount == x->amount;
    pb_admin_request_answer(req, &x->q, same, replayed, 202);
}

void pb_api_admin_player_adjust(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    adjust_ctx *x = pb_adjust_ctx_new(req, app);
    if (!x)
        return;
    const char *amount_s = NULL;
    pb_json_field f[] = {
        {.name = "balance",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 8,
         .str = &x->balance},
        {.name = "direction",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 8,
         .str = &x->direction},
        {.name = "amount",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 40,
         .str = &amount_s},
        PB_ADMIN_FIELD_REASON(&x->reason),
        PB_ADMIN_FIELD_KEY(&x->key),
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]))
        return;
    if (strcmp(x->balance, "cash") != 0 && strcmp(x->balance, "bonus") != 0) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "balance", "balance: cash or bonus");
        return;
    }
    if (strcmp(x->direction, "credit") != 0 && strcmp(x->direction, "debit") != 0) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "direction",
                                "direction: credit or debit");
        return;
    }
    if (!pb_admin_reason_ok(req, x->q.p, "player.adjust", x->reason))
        return;
    if (!pb_admin_key_ok(req, x->key))
        return;
    pb_store_conn *c = pb_http_conn(req);
    pb_err e = c ? pb_identity_player_get(c, &x->q.p->scope, pb_http_param(req, "id"), &x->player)
                 : PB_ERR_STORE_UNAVAILABLE;
    pb_brand *b = e == PB_OK ? pb_http_alloc(req, sizeof *b) : NULL;
    if (e == PB_OK && !b)
        e = PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = pb_tenancy_brand_get(c, x->player.brand_id, b);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    snprintf(x->brand, sizeof x->brand, "%s", b->code);
    x->q.expiry_us = pb_tenancy_adjustment_expiry_us(b);
    /* the staff member's own player account (both e-mails normalised when stored) */
    if (!pb_adjust_not_own_account(req, c, x->q.p, &x->player))
        return;
    x->cur = pb_currency_find(x->player.currency);
    if (!x->cur) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    if (pb_money_parse(amount_s, strlen(amount_s), x->cur, &x->amount) != PB_MONEY_OK ||
        x->amount <= 0) {
        pb_http_reply_error(req, PB_ERR_AMOUNT_INVALID, "amount");
        return;
    }
    pb_transfer *t = &x->t;
    snprintf(t->scope, sizeof t->scope, "adjustment:%s", x->brand);
    snprintf(t->key, sizeof t->key, "%s", x->key);
    bool refused = false; /* before any account is created for a closed player */
    e = closed_refused(c, x, x->player.status == PB_PLAYER_CLOSED, &refused);
    if (e == PB_OK && refused)
        e = PB_ERR_PLAYER_ERASED;
    if (e == PB_OK)
        e = pb_adjust_prepare_transfer(a, c, x);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    /* 4-eyes: at or above the brand's threshold for the currency, a request */
    int64_t threshold = 0;
    if (adjust_threshold(b, x->player.currency, &threshold) && x->amount >= threshold) {
        e = pb_ledger_command(a->ledger, request_command, x);
        if (e == PB_OK && x->q.refusal != PB_OK)
            e = x->q.refusal;
        if (e != PB_OK) {
            pb_admin_fail(req, e, NULL);
            return;
        }
        if (!x->direct) {
            answer_request(req, x, x->q.existing);
            return;
        }
        /* a transfer exists under the key: the ledger answers, as below */
    }
    e = pb_ledger_command(a->ledger, adjust_command, x);
    if (e == PB_OK && x->q.refusal != PB_OK)
        e = x->q.refusal;
    else if (e == PB_OK && x->q.existing) {
        answer_request(req, x, true);
        return;
    } else if (e == PB_OK && t->result != PB_OK)
        e = t->result;
    if (e != PB_OK) {
        pb_admin_fail(req, e, e == PB_ERR_INSUFFICIENT_FUNDS ? "amount" : NULL);
        return;
    }
    pb_wallet_balance now;
    e = pb_wallet_balance_get(c, x->brand, x->player.public_id, x->player.currency, &now);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    char tid[PB_ID_STR_LEN + 1];
    pb_id_to_string(&t->record.id, tid);
    pb_http_reply_json(req, t->replayed ? 200 : 201,
                       json_pack("{s:s,s:b,s:o*}", "transfer_id", tid, "replayed", t->replayed,
                                 "balance", pb_api_wallet_balance_json(&now, x->cur)));
}
