/*
 * admin_unclaimed_settle.c — settling a brand's unclaimed funds (the account
 * admin_unclaimed.c lists), with 4-eyes: money leaving the platform on one
 * member's say is a control weakness, so every settlement is a request that a
 * second member decides (as a large staff adjustment is, admin_adjust_4eyes.c;
 * the parts both kinds share are in admin_4eyes.c).
 *
 *   POST /v1/admin/unclaimed-funds/settlements              finance.adjust, brand-scoped
 *   {"brand","currency","amount":"10.00","destination":"remitted"|"house",
 *    "reference":"…","reason":"…","idempotency_key":"…"}
 *   GET  /v1/admin/unclaimed-funds/settlements?brand=&status=&limit=&cursor=  finance.read
 *   GET  /v1/admin/unclaimed-funds/settlements/{id}         finance.read (404 outside)
 *   POST /v1/admin/unclaimed-funds/settlements/{id}/approve finance.adjust, not the requester
 *   POST /v1/admin/unclaimed-funds/settlements/{id}/reject  finance.adjust, {reason}
 *
 * The request: remitted is paid out to an authority (escheatment): unclaimed_funds →
 * the brand's "remitted" account (only ever receives), reference (the authority's or
 * the remittance's, 1..128 printable ASCII) required. house: recognised by the
 * operator where the law lets it: unclaimed_funds → the brand's house account,
 * reference optional. Bad input, a brand out of scope and more than the account's
 * balance (no account in the currency: 0) are refused with nothing written. The
 * request is written in a ledger command (the caller and the balance re-checked
 * there; no money moves): unclaimed_settlement_request (0051) pending, its audit
 * entry funds.unclaimed_settle_request and event funds.unclaimed_settlement_requested;
 * 202 with it. Its idempotency key is one per brand: the same key and body answer the
 * request (200, replayed: true), another body under it is IDEMPOTENCY_CONFLICT, and so
 * is a key a settlement made before 4-eyes used (its ledger transfer has it).
 *
 * The approval, by a member other than the requester (FOUR_EYES_VIOLATION), is one
 * ledger command: the approver re-checked (pb_identity_principal_check), the request
 * re-read (decided since: SETTLEMENT_STATE, or the approval answered again), the
 * balance re-checked (short now: INSUFFICIENT_FUNDS, the request stays pending; the
 * unclaimed account carries no ledger flag, so the check is here, in the writer),
 * the transfer (scope "unclaimed:<brand>", the request's key, code
 * UNCLAIMED_SETTLEMENT; its ledger reference the SHA-256 of the settlement's
 * reference), the status approved, the audit entry funds.unclaimed_settled (actor
 * the approver, target the brand, before/after the account's balance, with
 * requested_by and approved_by) and the event funds.unclaimed_settled. An approval
 * of an approved request answers it again (200, replayed): nothing moves twice.
 * A rejection ({reason}) moves nothing: audited funds.unclaimed_settle_reject, event
 * funds.unclaimed_settlement_rejected. The requester may reject their own request
 * (withdraw it): nothing moves, so one member suffices.
 *
 * Expiry: a request pending longer than its brand's
 * settings.unclaimed_settlement_expiry_hours (default 72) can no longer be decided.
 * It is marked expired (decided_by NULL, audited funds.unclaimed_settle_expire, event
 * funds.unclaimed_settlement_expired; pb_admin_request_mark_expired, admin_4eyes.c)
 * by serve's sweep (admin_request_sweep.c, as the system) soon after its time, or by
 * the approval or rejection that finds it so first, in its own ledger command (as the
 * caller), which answers 409 SETTLEMENT_STATE saying so. The list and GET show a
 * request past its time as expired even before either marks it.
 * A malformed id, an unknown one and one of a brand outside the caller's scope are
 * all SETTLEMENT_NOT_FOUND: the same answer, so existence is not told across brands.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_unclaimed.h"
#include "core/log.h"
#include "core/money.h"
#include "core/sha256.h"
#include "core/time.h"
#include "events/events.h"
#include "ledger/ledger.h"
#include "wallet/wallet.h"

#define EXPIRED_MSG                                                                           \
    "the settlement request expired (pending longer than the brand's "                        \
    "settings.unclaimed_settlement_expiry_hours) and can no longer be approved or rejected; " \
    "make a new request"

/* One settlement request, or one decision on it, from the handler into its ledger
 * command and back. */
typedef struct settle_ctx {
    pb_admin_request_ctx q; /* first: the caller, the request (row), refusal, … */
    const char *brand, *currency, *destination, *reference, *reason, *key;
    int64_t amount;
    int64_t unclaimed;       /* the brand's unclaimed_funds account in currency */
    int64_t before, after;   /* its balance around the transfer (or at the request) */
    pb_transfer t;           /* the approval's transfer */
    pb_store_settlement row; /* the request: found under the key, written, or decided */
} settle_ctx;

static settle_ctx *settle_ctx_new(pb_http_request *req, void *app)
{
    settle_ctx *x = pb_admin_request_ctx_new(req, app, &pb_admin_settlement_requests, sizeof *x);
    if (x) {
        x->q.row = &x->row.rq;
        x->q.t = &x->t;
    }
    return x;
}

json_t *pb_settle_request_json(const pb_store_request *r)
{
    const pb_store_settlement *s = (const pb_store_settlement *)r;
    return json_pack("{s:s,s:s,s:s,s:o*,s:s,s:s?,s:s,s:s,s:s,s:o,s:s,s:s?,s:o,s:s?,s:s?,s:s?}",
                     "id", r->public_id, "brand", r->brand, "currency", r->currency, "amount",
                     pb_admin_amount_json(r->amount, r->currency), "destination", s->destination,
                     "reference", s->reference[0] ? s->reference : NULL, "reason", r->reason,
                     "idempotency_key", r->idempotency_key, "requested_by", r->requested_by,
                     "requested_at", pb_admin_time_json(r->requested_at), "status", r->status,
                     "decided_by", r->decided_by[0] ? r->decided_by : NULL, "decided_at",
                     pb_admin_time_json(r->decided_at), "decision_reason",
                     r->decision_reason[0] ? r->decision_reason : NULL, "transfer_id",
                     r->transfer_id[0] ? r->transfer_id : NULL, "failure",
                     r->failure[0] ? r->failure : NULL);
}

/* The unclaimed account's spendable balance at this point of the writer's batch. */
static pb_err balance_now(pb_ledger_tx *tx, const settle_ctx *x, int64_t *out)
{
    pb_ledger_account a;
    pb_err e = pb_ledger_tx_account(tx, x->unclaimed, &a);
    if (e != PB_OK)
        return e == PB_ERR_STORE_CORRUPT ? e : PB_ERR_INTERNAL;
    if (__builtin_sub_overflow(a.credits_posted, a.debits_posted, out) ||
        __builtin_sub_overflow(*out, a.debits_pending, out))
        return PB_ERR_INTERNAL;
    return PB_OK;
}

/* The same outside the writer (as committed): 0 without an account. */
static pb_err balance_committed(pb_store_conn *c, const settle_ctx *x, int64_t *out)
{
    *out = 0;
    if (!x->unclaimed)
        return PB_OK;
    pb_ledger_account a;
    if (pb_ledger_account_get(c, x->unclaimed, &a) != PB_OK ||
        __builtin_sub_overflow(a.credits_posted, a.debits_posted, out) ||
        __builtin_sub_overflow(*out, a.debits_pending, out))
        return PB_ERR_INTERNAL;
    return PB_OK;
}

static json_t *balance_json(const settle_ctx *x, int64_t balance)
{
    return json_pack("{s:s,s:s,s:o*}", "account", PB_WALLET_KIND_UNCLAIMED, "currency", x->currency,
                     "balance", pb_admin_amount_json(balance, x->currency));
}

/* Appends, in the command's transaction, the audit entry `action` on the brand:
 * before (NULL: none), after (taken; NULL: INTERNAL) and reason. */
static pb_err settle_audit(pb_ledger_tx *tx, const settle_ctx *x, const char *action,
                           json_t *before, json_t *after, const char *reason)
{
    pb_audit_entry en;
    pb_admin_entry(x->q.req, x->q.p, action, &en);
    en.brand = x->brand;
    en.target_kind = "brand";
    en.target_id = x->brand;
    en.before = before ? pb_admin_json_text(x->q.req, before) : NULL;
    en.after = pb_admin_json_text(x->q.req, after);
    en.reason = reason;
    if (!en.after || (before && !en.before))
        return PB_ERR_INTERNAL;
    return pb_audit_append(pb_ledger_tx_conn(tx), &en, pb_ledger_tx_now(tx));
}

/* Emits one of the request's events (the money fields from the request). */
static pb_err settle_event(pb_ledger_tx *tx, const settle_ctx *x, const char *type)
{
    const pb_store_request *r = &x->row.rq;
    return pb_events_emit(pb_ledger_tx_conn(tx), type, r->brand, x->q.p->subject_public_id,
                          pb_http_trace_id(x->q.req), pb_ledger_tx_now(tx),
                          PB_EV_STR("settlement_id", r->public_id),
                          PB_EV_STR("destination", x->row.destination),
                          PB_EV_STR("reference", x->row.reference),
                          PB_EV_STR("staff_id", x->q.p->subject_public_id),
                          PB_EV_STR("requested_by", r->requested_by),
                          PB_EV_MONEY("amount", r->amount, r->currency)) == PB_OK
               ? PB_OK
               : PB_ERR_INTERNAL;
}

/* ---- the request ---- */

/* In the ledger writer: the request written (no money moves), with its audit entry
 * and event; or the one under the key found (x->q.existing); or a refusal. */
static pb_err request_command(pb_ledger_tx *tx, void *arg)
{
    settle_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    bool go = false;
    pb_err e = pb_admin_request_begin(tx, &x->q, x->brand, x->key, &go);
    if (e != PB_OK || !go)
        return e;
    pb_ledger_record rec; /* a settlement made under the key before 4-eyes */
    e = pb_ledger_transfer_by_key(c, x->t.scope, x->t.key, &rec);
    if (e != PB_ERR_TRANSFER_NOT_FOUND) {
        if (e == PB_OK)
            x->q.refusal = PB_ERR_IDEMPOTENCY_CONFLICT;
        return e == PB_OK ? PB_OK : PB_ERR_INTERNAL;
    }
    if ((e = balance_now(tx, x, &x->before)) != PB_OK)
        return e;
    if (x->amount > x->before) {
        x->q.refusal = PB_ERR_INSUFFICIENT_FUNDS;
        return PB_OK;
    }
    pb_store_settlement *r = &x->row;
    pb_admin_request_fill(tx, &x->q, x->brand, x->amount, x->currency, x->reason, x->key);
    snprintf(r->destination, sizeof r->destination, "%s", x->destination);
    snprintf(r->reference, sizeof r->reference, "%s", x->reference ? x->reference : "");
    if (pb_store_request_insert(c, PB_STORE_REQUEST_SETTLEMENT, &r->rq) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    e = settle_audit(tx, x, "funds.unclaimed_settle_request", balance_json(x, x->before),
                     pb_settle_request_json(&r->rq), x->reason);
    /* @backoffice: funds.unclaimed_settlement_requested, with the request */
    if (e == PB_OK)
        e = settle_event(tx, x, "funds.unclaimed_settlement_requested");
    return e;
}

/* Answers a call whose key names a request: the request (202 new, 200 replayed)
 * when the call asks for the same settlement, else IDEMPOTENCY_CONFLICT. */
static void answer_request(pb_http_request *req, settle_ctx *x, bool replayed)
{
    const pb_store_settlement *r = &x->row;
    bool same = strcmp(r->rq.currency, x->currency) == 0 && r->rq.amount == x->amount &&
                strcmp(r->destination, x->destination) == 0 &&
                strcmp(r->reference, x->reference ? x->reference : "") == 0;
    pb_admin_request_answer(req, &x->q, same, replayed, replayed ? 200 : 202);
}

/* 1..max printable ASCII characters (no spaces at either end for a reference). */
static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* The body's destination, reference, currency and amount checked (replied and
 * false when bad); x->amount set. */
static bool request_valid(pb_http_request *req, settle_ctx *x, const char *amount_s)
{
    bool remitted = strcmp(x->destination, "remitted") == 0;
    if (!remitted && strcmp(x->destination, "house") != 0) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "destination",
                                "destination: remitted or house");
        return false;
    }
    if (x->reference && !x->reference[0])
        x->reference = NULL; /* "" is no reference */
    if (remitted && !x->reference) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "reference",
                                "reference: required for a remittance (the authority's or the "
                                "remittance's reference)");
        return false;
    }
    if (x->reference && (!printable(x->reference) || x->reference[0] == ' ' ||
                         x->reference[strlen(x->reference) - 1] == ' ')) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "reference",
                                "reference: 1..128 printable ASCII characters, no spaces at "
                                "either end");
        return false;
    }
    const pb_currency *cur = pb_currency_find(x->currency);
    if (!cur) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "currency",
                                "currency: not a supported currency");
        return false;
    }
    if (pb_money_parse(amount_s, strlen(amount_s), cur, &x->amount) != PB_MONEY_OK ||
        x->amount <= 0) {
        pb_http_reply_error(req, PB_ERR_AMOUNT_INVALID, "amount");
        return false;
    }
    return pb_admin_reason_ok(req, x->q.p, "funds.unclaimed_settle_request", x->reason) &&
           pb_admin_key_ok(req, x->key);
}

static void request_fail(pb_http_request *req, pb_err e)
{
    if (e == PB_ERR_INTERNAL)
        pb_log(PB_LOG_ERROR, "unclaimed.settle", "failed (trace %s)", pb_http_trace_id(req));
    pb_admin_fail(req, e,
                  e == PB_ERR_INSUFFICIENT_FUNDS     ? "amount"
                  : e == PB_ERR_IDEMPOTENCY_CONFLICT ? "idempotency_key"
                  : e == PB_ERR_BRAND_FORBIDDEN      ? "brand"
                                                     : NULL);
}

void pb_api_admin_unclaimed_settle(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    settle_ctx *x = settle_ctx_new(req, app);
    if (!x)
        return;
    const char *amount_s = NULL;
    pb_json_field f[] = {
        {.name = "brand",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_BRAND_CODE_MAX,
         .str = &x->brand},
        {.name = "currency",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 7,
         .str = &x->currency},
        {.name = "amount",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 40,
         .str = &amount_s},
        {.name = "destination",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 8,
         .str = &x->destination},
        {.name = "reference", .type = PB_JSON_STRING, .max_len = 128, .str = &x->reference},
        PB_ADMIN_FIELD_REASON(&x->reason),
        PB_ADMIN_FIELD_KEY(&x->key),
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]) || !request_valid(req, x, amount_s))
        return;
    pb_store_conn *c = pb_http_conn(req);
    pb_brand *b = pb_http_alloc(req, sizeof *b);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !b ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK) /* out of scope or unknown: BRAND_FORBIDDEN, as the list answers */
        e = pb_admin_brand_in_scope(c, x->q.p, x->brand, b);
    if (e != PB_OK) {
        request_fail(req, e);
        return;
    }
    x->q.expiry_us = pb_tenancy_settlement_expiry_us(b);
    pb_store_rc rc = pb_store_request_by_key(c, PB_STORE_REQUEST_SETTLEMENT, x->brand, x->key,
                                             &x->row.rq);
    if (rc == PB_STORE_OK) { /* a request under the key answers (before any balance) */
        answer_request(req, x, true);
        return;
    }
    e = rc == PB_STORE_NOT_FOUND ? PB_OK : PB_ERR_INTERNAL;
    snprintf(x->t.scope, sizeof x->t.scope, "unclaimed:%s", x->brand);
    snprintf(x->t.key, sizeof x->t.key, "%s", x->key);
    if (e == PB_OK)
        e = pb_wallet_system_account_find(a->wallet, c, x->brand, PB_WALLET_OWNER_HOUSE,
                                          PB_WALLET_KIND_UNCLAIMED, x->currency, &x->unclaimed);
    int64_t have = 0;
    if (e == PB_OK)
        e = balance_committed(c, x, &have);
    if (e == PB_OK && x->amount > have) /* refused here: the command checks it again */
        e = PB_ERR_INSUFFICIENT_FUNDS;
    if (e == PB_OK)
        e = pb_ledger_command(a->ledger, request_command, x);
    if (e == PB_OK && x->q.refusal != PB_OK)
        e = x->q.refusal;
    if (e != PB_OK) {
        request_fail(req, e);
        return;
    }
    answer_request(req, x, x->q.existing);
}

/* ---- the decisions ---- */

/* The approval's audit entry and event, the money moved (x->before, x->after). */
static pb_err settled_records(pb_ledger_tx *tx, settle_ctx *x)
{
    const pb_store_request *r = &x->row.rq;
    json_t *after = json_pack("{s:s,s:s,s:o*,s:s,s:s,s:s?,s:o*,s:s,s:s,s:s}", "account",
                              PB_WALLET_KIND_UNCLAIMED, "currency", r->currency, "balance",
                              pb_admin_amount_json(x->after, r->currency), "transfer_id",
                              r->transfer_id, "destination", x->row.destination, "reference",
                              x->row.reference[0] ? x->row.reference : NULL, "amount",
                              pb_admin_amount_json(r->amount, r->currency), "settlement_id",
                              r->public_id, "requested_by", r->requested_by, "approved_by",
                              x->q.p->subject_public_id);
    pb_err e = settle_audit(tx, x, "funds.unclaimed_settled", balance_json(x, x->before), after,
                            r->reason);
    /* @backoffice: funds.unclaimed_settled, in the command's transaction with the money */
    if (e == PB_OK && pb_events_emit(pb_ledger_tx_conn(tx), "funds.unclaimed_settled", r->brand,
                                     x->q.p->subject_public_id, pb_http_trace_id(x->q.req),
                                     pb_ledger_tx_now(tx), PB_EV_STR("transfer_id", r->transfer_id),
                                     PB_EV_STR("destination", x->row.destination),
                                     PB_EV_STR("reference", x->row.reference),
                                     PB_EV_STR("staff_id", x->q.p->subject_public_id),
                                     PB_EV_STR("requested_by", r->requested_by),
                                     PB_EV_STR("settlement_id", r->public_id),
                                     PB_EV_MONEY("amount", r->amount, r->currency),
                                     PB_EV_MONEY("balance", x->after, r->currency)) != PB_OK)
        e = PB_ERR_INTERNAL;
    return e;
}

/* The approval's re-check in its command: the unclaimed account's balance now
 * (x->before; short: INSUFFICIENT_FUNDS; the account carries no ledger flag, so the
 * check is here, in the writer). */
static pb_err approve_ready(pb_ledger_tx *tx, pb_admin_request_ctx *q)
{
    settle_ctx *x = (settle_ctx *)q;
    pb_err e = balance_now(tx, x, &x->before);
    if (e == PB_OK && x->amount > x->before)
        q->refusal = PB_ERR_INSUFFICIENT_FUNDS;
    return e;
}

/* The approval's audit entry and event (settled_records), or its failure's entry
 * (funds.unclaimed_settle_fail: the failure is the row's, nothing moved). */
static pb_err approved(pb_ledger_tx *tx, pb_admin_request_ctx *q, pb_err result)
{
    settle_ctx *x = (settle_ctx *)q;
    if (result != PB_OK)
        return settle_audit(tx, x, "funds.unclaimed_settle_fail", NULL,
                            pb_settle_request_json(q->row), q->row->reason);
    if (balance_now(tx, x, &x->after) != PB_OK)
        return PB_ERR_INTERNAL;
    return settled_records(tx, x);
}

/* The rejection's audit entry and event (the requester may reject their own
 * request, withdraw it: nothing moves, so one member suffices). */
static pb_err rejected(pb_ledger_tx *tx, pb_admin_request_ctx *q)
{
    settle_ctx *x = (settle_ctx *)q;
    pb_err e = settle_audit(tx, x, "funds.unclaimed_settle_reject", NULL,
                            pb_settle_request_json(q->row), q->decision);
    /* @backoffice: funds.unclaimed_settlement_rejected, with the status change */
    if (e == PB_OK)
        e = settle_event(tx, x, "funds.unclaimed_settlement_rejected");
    return e;
}

/* A decision's context with the request named by {id} (request_in_scope) and its
 * brand's unclaimed account; NULL when replied. */
static settle_ctx *decision_ctx(pb_http_request *req, void *app, pb_store_conn **c)
{
    pb_api_app *a = app;
    settle_ctx *x = settle_ctx_new(req, app);
    pb_brand *b = x ? pb_http_alloc(req, sizeof *b) : NULL;
    *c = pb_http_conn(req);
    if (!x)
        return NULL;
    pb_err e = !*c ? PB_ERR_STORE_UNAVAILABLE : !b ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK)
        e = pb_admin_request_in_scope(req, *c, x->q.p, x->q.kind, &x->row.rq, b);
    if (e == PB_OK)
        e = pb_wallet_system_account_find(a->wallet, *c, x->row.rq.brand, PB_WALLET_OWNER_HOUSE,
                                          PB_WALLET_KIND_UNCLAIMED, x->row.rq.currency,
                                          &x->unclaimed);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return NULL;
    }
    x->brand = x->row.rq.brand;
    x->currency = x->row.rq.currency;
    x->destination = x->row.destination;
    x->reference = x->row.reference[0] ? x->row.reference : NULL;
    x->amount = x->row.rq.amount;
    x->key = x->row.rq.idempotency_key;
    x->q.expiry_us = pb_tenancy_settlement_expiry_us(b);
    return x;
}

/* A decision's answer's balance: the unclaimed account's now. */
static pb_err answer_balance(pb_store_conn *c, const pb_admin_request_ctx *q, json_t **out)
{
    const settle_ctx *x = (const settle_ctx *)q;
    int64_t now = 0;
    if (balance_committed(c, x, &now) != PB_OK)
        return PB_ERR_INTERNAL;
    *out = pb_admin_amount_json(now, x->currency);
    return PB_OK;
}

/* The approval's transfer into x->t (the destination account created when missing). */
static pb_err prepare(pb_store_conn *c, pb_admin_request_ctx *q)
{
    settle_ctx *x = (settle_ctx *)q;
    pb_transfer *t = &x->t;
    int64_t dest = 0;
    if (!x->unclaimed) /* no account in the currency: nothing to settle */
        return PB_ERR_INSUFFICIENT_FUNDS;
    pb_err e = pb_wallet_system_account(x->q.app->wallet, c, x->brand, PB_WALLET_OWNER_HOUSE,
                                        strcmp(x->destination, "remitted") == 0
                                            ? PB_WALLET_KIND_REMITTED
                                            : PB_WALLET_KIND_HOUSE,
                                        x->currency, &dest);
    if (e != PB_OK)
        return e;
    snprintf(t->scope, sizeof t->scope, "unclaimed:%s", x->brand);
    snprintf(t->key, sizeof t->key, "%s", x->key);
    t->debit_account_id = x->unclaimed;
    t->credit_account_id = dest;
    t->amount = x->amount;
    snprintf(t->currency, sizeof t->currency, "%s", x->currency);
    t->code = PB_CODE_UNCLAIMED_SETTLEMENT;
    if (x->reference) { /* the full reference is the request's; the ledger compares its hash */
        uint8_t h[PB_SHA256_LEN];
        pb_sha256(x->reference, strlen(x->reference), h);
        for (size_t i = 0; i < PB_SHA256_LEN && 2 * i + 2 < sizeof t->reference; i++)
            snprintf(t->reference + 2 * i, 3, "%02x", h[i]);
    }
    snprintf(t->trace_id, sizeof t->trace_id, "%s", pb_http_trace_id(x->q.req));
    return PB_OK;
}

void pb_api_admin_unclaimed_settlement_approve(pb_http_request *req, void *app)
{
    pb_store_conn *c = NULL;
    if (!pb_admin_parse_empty(req))
        return;
    settle_ctx *x = decision_ctx(req, app, &c);
    if (!x)
        return;
    if (!pb_admin_request_not_requester(
            req, &x->q, "the settlement is approved by a member other than its requester"))
        return;
    pb_admin_request_approve(req, c, &x->q);
}

void pb_api_admin_unclaimed_settlement_reject(pb_http_request *req, void *app)
{
    pb_store_conn *c = NULL;
    const char *reason = NULL;
    if (!pb_admin_parse_reason(req, pb_api_principal(req), "funds.unclaimed_settle_reject", 500,
                               &reason))
        return;
    settle_ctx *x = decision_ctx(req, app, &c);
    if (!x)
        return;
    x->q.decision = reason;
    pb_admin_request_reject(req, c, &x->q);
}

/* ---- the kind, for the 4-eyes machinery (admin_4eyes.h) */

/* The audit entries' target: the brand. */
static void settle_target(const pb_store_request *r, const char **kind, const char **id)
{
    *kind = "brand";
    *id = r->brand;
}

/* The event of a request marked expired: a member who found it so is its subject and
 * staff_id; the sweep: none. */
static pb_err settle_expired_event(pb_store_conn *c, const pb_store_request *r,
                                   const pb_audit_entry *by, int64_t now)
{
    const pb_store_settlement *s = (const pb_store_settlement *)r;
    const char *staff = strcmp(by->actor_kind, "staff") == 0 ? by->actor_id : NULL;
    /* @backoffice: funds.unclaimed_settlement_expired, with the status change */
    return pb_events_emit(c, "funds.unclaimed_settlement_expired", r->brand, staff ? staff : "",
                          by->trace_id, now, PB_EV_STR("settlement_id", r->public_id),
                          PB_EV_STR("destination", s->destination),
                          PB_EV_STR("reference", s->reference), PB_EV_STR("staff_id", staff),
                          PB_EV_STR("requested_by", r->requested_by),
                          PB_EV_MONEY("amount", r->amount, r->currency));
}

const pb_admin_request_kind pb_admin_settlement_requests = {
    .store = PB_STORE_REQUEST_SETTLEMENT,
    .what = "settlement",
    .expiry_us = pb_tenancy_settlement_expiry_us,
    .not_found = PB_ERR_SETTLEMENT_NOT_FOUND,
    .state = PB_ERR_SETTLEMENT_STATE,
    .expired_msg = EXPIRED_MSG,
    .decide_log = "unclaimed.decide",
    .expire_action = "funds.unclaimed_settle_expire",
    .sweep_actor = PB_API_SETTLE_SWEEP_ACTOR,
    .json = pb_settle_request_json,
    .target = settle_target,
    .expired_event = settle_expired_event,
    .answer_key = "settlement",
    .balance_key = "unclaimed_balance",
    .balance_json = answer_balance,
    .prepare = prepare,
    .approve_ready = approve_ready,
    .approved = approved,
    .rejected = rejected,
};

pb_err pb_api_settle_expire(pb_ledger *l, pb_store_settlement *r, int64_t expiry_us, bool *marked)
{
    return pb_admin_request_expire(l, &pb_admin_settlement_requests, &r->rq, expiry_us, marked);
}
