/*
 * cashier.c — the cashier's rules (see cashier.h): deposits, webhook events and
 * withdrawals, each state change one ledger command with its transfer and its
 * audit entry.
 *
 * Every command follows the ledger's rule "decide before writing": it re-reads
 * the row inside the writer's batch (so concurrent requests are serialised),
 * decides, submits its transfer, and only then writes its row and its audit
 * entry. A business refusal is kept in the command's ctx (x->result), not
 * returned: only a store failure is returned, and it rolls the batch back.
 */
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cashier/cashier.h"
#include "core/log.h"
#include "core/time.h"
#include "identity/identity.h"
#include "tenancy/tenancy.h"

#define MAX_PSPS 4
#define SCOPE_DEPOSIT "deposit"
#define SCOPE_WITHDRAWAL "withdrawal"

struct pb_cashier {
    pb_wallet *wallet;
    pb_ledger *ledger;
    pb_psp *psps[MAX_PSPS];
    size_t npsps;
};

pb_cashier *pb_cashier_open(pb_wallet *w, const char *keys_dir, bool sandbox, char *err,
                            size_t errcap)
{
    pb_cashier *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    k->wallet = w;
    k->ledger = pb_wallet_ledger(w);
    if (sandbox) {
        pb_psp *p = pb_psp_sandbox_new(keys_dir, err, errcap);
        if (!p) {
            free(k);
            return NULL;
        }
        p->cashier = k;
        k->psps[k->npsps++] = p;
    }
    return k;
}

void pb_cashier_close(pb_cashier *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->npsps; i++)
        k->psps[i]->free(k->psps[i]);
    free(k);
}

pb_psp *pb_cashier_psp(pb_cashier *k, const char *code)
{
    for (size_t i = 0; k && code && i < k->npsps; i++)
        if (strcmp(k->psps[i]->code, code) == 0)
            return k->psps[i];
    return NULL;
}

/* ---- shared pieces ---- */

static pb_err store_err(pb_store_rc rc)
{
    return rc == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
}

/* The audit entry of a cashier state change; before/after are malloc'd JSON (freed here). */
static pb_err audit(pb_ledger_tx *tx, const pb_cashier_actor *a, const char *brand,
                    const char *action, const char *target_kind, const char *target_id,
                    json_t *before, json_t *after, const char *reason)
{
    char *b = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *af = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(before);
    json_decref(after);
    pb_audit_entry e = {.actor_kind = a->kind, .actor_id = a->id, .role = a->role,
                        .brand = brand, .action = action, .target_kind = target_kind,
                        .target_id = target_id, .before = b, .after = af,
                        .reason = reason, .trace_id = a->trace_id, .ip = a->ip};
    pb_err r = (before && !b) || (after && !af)
                   ? PB_ERR_INTERNAL
                   : pb_audit_append(pb_ledger_tx_conn(tx), &e, pb_ledger_tx_now(tx));
    free(b);
    free(af);
    return r == PB_OK ? PB_OK : PB_ERR_INTERNAL;
}

static json_t *payment_json(const pb_store_payment *p)
{
    return json_pack("{s:s,s:I,s:s,s:s,s:s}", "status", p->status, "amount", (json_int_t)p->amount,
                     "currency", p->currency, "psp", p->psp, "psp_reference", p->psp_reference);
}

static json_t *withdrawal_json(const pb_store_withdrawal *w, size_t approvals)
{
    return json_pack("{s:s,s:I,s:s,s:i,s:i,s:s}", "status", w->status, "amount",
                     (json_int_t)w->amount, "currency", w->currency, "approvals",
                     (int)approvals, "approvals_required", w->approvals_required,
                     "psp_reference", w->psp_reference);
}

/* A transfer on the withdrawal's hold: post (paid) or void (money back). */
static void hold_resolve(pb_transfer *t, const pb_store_withdrawal *w, bool post,
                         const char *trace)
{
    memset(t, 0, sizeof *t);
    snprintf(t->scope, sizeof t->scope, SCOPE_WITHDRAWAL);
    snprintf(t->key, sizeof t->key, "%s:%s", w->id, post ? "post" : "void");
    t->flags = post ? PB_TRANSFER_POST_PENDING : PB_TRANSFER_VOID_PENDING;
    t->pending_id = w->hold_id;
    snprintf(t->reference, sizeof t->reference, "%s", w->id);
    if (trace)
        snprintf(t->trace_id, sizeof t->trace_id, "%s", trace);
}

static bool valid_key(const char *key)
{
    if (!key || !*key || strlen(key) > PB_STORE_CASHIER_KEY_MAX)
        return false;
    for (const char *s = key; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* ---- deposits ---- */

typedef struct deposit_ctx {
    const pb_cashier_player *pl;
    const pb_cashier_actor *a;
    pb_store_payment p; /* prepared; the stored one on replay */
    bool replayed;
    pb_err result;
} deposit_ctx;

static pb_err deposit_command(pb_ledger_tx *tx, void *arg)
{
    deposit_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    pb_store_payment old;
    pb_store_rc rc = pb_store_payment_by_key(c, x->pl->player, x->p.idempotency_key, &old);
    if (rc == PB_STORE_OK) {
        x->result = old.amount == x->p.amount ? PB_OK : PB_ERR_IDEMPOTENCY_CONFLICT;
        x->replayed = true;
        x->p = old;
        return PB_OK;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    pb_err g = pb_wallet_gate(c, x->pl->player, PB_WALLET_ACTION_DEPOSIT);
    if (g != PB_OK) {
        x->result = g == PB_ERR_INTERNAL || g == PB_ERR_STORE_UNAVAILABLE ? PB_ERR_INTERNAL : g;
        return x->result == PB_ERR_INTERNAL ? PB_ERR_INTERNAL : PB_OK;
    }
    x->p.created_at = x->p.updated_at = pb_ledger_tx_now(tx);
    if (pb_store_payment_insert(c, &x->p) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    x->result = PB_OK;
    return audit(tx, x->a, x->pl->brand, "payment.create", "payment", x->p.id, NULL,
                 payment_json(&x->p), NULL);
}

pb_err pb_cashier_deposit_create(pb_cashier *k, pb_store_conn *c, const pb_cashier_player *pl,
                                 int64_t amount, const char *key, const pb_cashier_actor *a,
                                 pb_store_payment *out, char url[PB_CASHIER_URL_MAX],
                                 bool *replayed)
{
    *replayed = false;
    url[0] = 0;
    if (amount <= 0)
        return PB_ERR_AMOUNT_INVALID;
    if (!valid_key(key))
        return PB_ERR_FIELD_INVALID;
    pb_psp *psp = k->npsps ? k->psps[0] : NULL;
    deposit_ctx x = {.pl = pl, .a = a};
    pb_store_rc rc = pb_store_payment_by_key(c, pl->player, key, &x.p);
    if (rc == PB_STORE_OK) { /* a retry: no second intent at the PSP */
        *out = x.p;
        *replayed = true;
        psp = pb_cashier_psp(k, x.p.psp);
        if (psp)
            psp->checkout_url(psp, out, url, PB_CASHIER_URL_MAX);
        return x.p.amount == amount ? PB_OK : PB_ERR_IDEMPOTENCY_CONFLICT;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_STORE_UNAVAILABLE;
    if (!psp)
        return PB_ERR_PSP_NOT_FOUND;
    pb_err e = pb_wallet_gate(c, pl->player, PB_WALLET_ACTION_DEPOSIT);
    if (e != PB_OK)
        return e;
    pb_id id;
    pb_id_new(&id);
    pb_id_to_string(&id, x.p.id);
    x.p.brand_id = pl->brand_id;
    snprintf(x.p.brand, sizeof x.p.brand, "%s", pl->brand);
    snprintf(x.p.player, sizeof x.p.player, "%s", pl->player);
    snprintf(x.p.currency, sizeof x.p.currency, "%s", pl->currency);
    x.p.amount = amount;
    snprintf(x.p.idempotency_key, sizeof x.p.idempotency_key, "%s", key);
    snprintf(x.p.psp, sizeof x.p.psp, "%s", psp->code);
    snprintf(x.p.status, sizeof x.p.status, "pending");
    if ((e = psp->deposit_create(psp, &x.p, x.p.psp_reference)) != PB_OK)
        return e;
    /* the accounts exist before any webhook needs them */
    pb_wallet_accounts acc;
    int64_t clearing;
    char owner[PB_LEDGER_OWNER_MAX + 1];
    snprintf(owner, sizeof owner, PB_WALLET_OWNER_PSP "%s", psp->code);
    if ((e = pb_wallet_player_accounts(k->wallet, c, pl->brand, pl->player, pl->currency,
                                       &acc)) != PB_OK ||
        (e = pb_wallet_system_account(k->wallet, c, pl->brand, owner, PB_WALLET_KIND_PSP,
                                      pl->currency, &clearing)) != PB_OK)
        return e;
    e = pb_ledger_command(k->ledger, deposit_command, &x);
    if (e == PB_OK)
        e = x.result;
    *out = x.p;
    *replayed = x.replayed;
    if (e == PB_OK && (psp = pb_cashier_psp(k, out->psp)))
        psp->checkout_url(psp, out, url, PB_CASHIER_URL_MAX);
    return e;
}

pb_err pb_cashier_deposit_get(pb_store_conn *c, const char *player, const char *id,
                              pb_store_payment *out)
{
    pb_store_rc rc = pb_store_payment_get(c, id, out);
    if (rc == PB_STORE_NOT_FOUND || (rc == PB_STORE_OK && strcmp(out->player, player) != 0))
        return PB_ERR_PAYMENT_NOT_FOUND;
    return rc == PB_STORE_OK ? PB_OK : PB_ERR_STORE_UNAVAILABLE;
}

/* ---- webhooks ---- */

typedef struct event_ctx {
    pb_cashier *k;
    const char *psp;
    const pb_psp_event *ev;
    uint8_t hash[32];
    int64_t cash, clearing; /* deposit events: the accounts */
    const char *outcome;
    pb_err result;
} event_ctx;

static pb_err deposit_event(pb_ledger_tx *tx, event_ctx *x, pb_store_payment *p,
                            const pb_cashier_actor *a)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    bool ok = x->ev->type == PB_PSP_DEPOSIT_SUCCEEDED;
    if (strcmp(p->status, "completed") == 0 || (!ok && strcmp(p->status, "failed") == 0)) {
        x->outcome = "ignored"; /* too late or already so: recorded, nothing changes */
        return PB_OK;
    }
    json_t *before = payment_json(p);
    const char *was = strcmp(p->status, "failed") == 0 ? "after a failure" : NULL;
    if (ok) {
        pb_transfer t = {0};
        snprintf(t.scope, sizeof t.scope, SCOPE_DEPOSIT);
        snprintf(t.key, sizeof t.key, "%s", p->id);
        t.debit_account_id = x->clearing;
        t.credit_account_id = x->cash;
        t.amount = p->amount;
        snprintf(t.currency, sizeof t.currency, "%s", p->currency);
        t.code = PB_CODE_DEPOSIT;
        snprintf(t.reference, sizeof t.reference, "%s", p->id);
        pb_err e = pb_ledger_tx_submit(tx, &t, 1);
        if (e != PB_OK || t.result != PB_OK) {
            json_decref(before);
            if (e == PB_ERR_INTERNAL)
                return e;
            x->result = e != PB_OK ? e : t.result;
            return PB_OK;
        }
        p->has_transfer = true;
        p->transfer_id = t.record.id;
    }
    snprintf(p->status, sizeof p->status, "%s", ok ? "completed" : "failed");
    p->updated_at = pb_ledger_tx_now(tx);
    if (store_err(pb_store_payment_update(c, p)) != PB_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    x->outcome = "applied";
    return audit(tx, a, p->brand, ok ? "payment.completed" : "payment.failed", "payment", p->id,
                 before, payment_json(p), was);
}

static pb_err payout_event(pb_ledger_tx *tx, event_ctx *x, pb_store_withdrawal *w,
                           const pb_cashier_actor *a)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    if (strcmp(w->status, "processing") != 0) {
        x->outcome = "ignored";
        return PB_OK;
    }
    bool paid = x->ev->type == PB_PSP_PAYOUT_PAID;
    pb_transfer t;
    hold_resolve(&t, w, paid, NULL);
    pb_err e = pb_ledger_tx_submit(tx, &t, 1);
    if (e != PB_OK || t.result != PB_OK) {
        if (e == PB_ERR_INTERNAL)
            return e;
        x->result = e != PB_OK ? e : t.result;
        return PB_OK;
    }
    json_t *before = withdrawal_json(w, (size_t)w->approvals_required);
    snprintf(w->status, sizeof w->status, "%s", paid ? "paid" : "failed");
    w->updated_at = pb_ledger_tx_now(tx);
    if (store_err(pb_store_withdrawal_update(c, w)) != PB_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    x->outcome = "applied";
    return audit(tx, a, w->brand, paid ? "withdrawal.paid" : "withdrawal.payout_failed",
                 "withdrawal", w->id, before, withdrawal_json(w, (size_t)w->approvals_required),
                 NULL);
}

static pb_err event_command(pb_ledger_tx *tx, void *arg)
{
    event_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    x->result = PB_OK;
    x->outcome = "ignored";
    pb_store_payment_event old;
    pb_store_rc rc = pb_store_payment_event_get(c, x->psp, x->ev->event_id, &old);
    if (rc == PB_STORE_OK) {
        x->outcome = "duplicate";
        return PB_OK;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    char actor_id[48];
    snprintf(actor_id, sizeof actor_id, PB_WALLET_OWNER_PSP "%s", x->psp);
    pb_cashier_actor a = {.kind = "system", .id = actor_id};
    pb_err e = PB_OK;
    if (x->ev->type == PB_PSP_DEPOSIT_SUCCEEDED || x->ev->type == PB_PSP_DEPOSIT_FAILED) {
        pb_store_payment p;
        rc = pb_store_payment_by_reference(c, x->psp, x->ev->reference, &p);
        if (rc == PB_STORE_NOT_FOUND) {
            x->result = PB_ERR_PAYMENT_NOT_FOUND;
            return PB_OK;
        }
        if (rc != PB_STORE_OK)
            return PB_ERR_INTERNAL;
        e = deposit_event(tx, x, &p, &a);
    } else if (x->ev->type == PB_PSP_PAYOUT_PAID || x->ev->type == PB_PSP_PAYOUT_FAILED) {
        pb_store_withdrawal w;
        rc = pb_store_withdrawal_by_reference(c, x->psp, x->ev->reference, &w);
        if (rc == PB_STORE_NOT_FOUND) {
            x->result = PB_ERR_WITHDRAWAL_NOT_FOUND;
            return PB_OK;
        }
        if (rc != PB_STORE_OK)
            return PB_ERR_INTERNAL;
        e = payout_event(tx, x, &w, &a);
    }
    if (e != PB_OK || x->result != PB_OK)
        return e;
    pb_store_payment_event ev = {0};
    snprintf(ev.psp, sizeof ev.psp, "%s", x->psp);
    snprintf(ev.event_id, sizeof ev.event_id, "%s", x->ev->event_id);
    snprintf(ev.type, sizeof ev.type, "%s", x->ev->type_name);
    snprintf(ev.reference, sizeof ev.reference, "%s", x->ev->reference);
    memcpy(ev.payload_hash, x->hash, sizeof ev.payload_hash);
    snprintf(ev.outcome, sizeof ev.outcome, "%s", x->outcome);
    ev.received_at = pb_ledger_tx_now(tx);
    return store_err(pb_store_payment_event_insert(c, &ev));
}

pb_err pb_cashier_webhook(pb_cashier *k, pb_store_conn *c, const char *psp_code,
                          const char *body, size_t len, pb_psp_header_fn header, void *hctx,
                          pb_cashier_webhook_result *out)
{
    memset(out, 0, sizeof *out);
    pb_psp *psp = pb_cashier_psp(k, psp_code);
    if (!psp)
        return PB_ERR_PSP_NOT_FOUND;
    pb_err e = psp->webhook_verify(psp, body, len, header, hctx, pb_time_now_us() / 1000000,
                                   &out->event);
    if (e != PB_OK)
        return e;
    event_ctx x = {.k = k, .psp = psp->code, .ev = &out->event};
    SHA256((const unsigned char *)body, len, x.hash);
    if (out->event.type == PB_PSP_EVENT_UNKNOWN) {
        out->outcome = "ignored";
        return PB_OK;
    }
    if (out->event.type == PB_PSP_DEPOSIT_SUCCEEDED) {
        /* the accounts of the credit (a payment's player and currency never change) */
        pb_store_payment p;
        pb_store_rc rc = pb_store_payment_by_reference(c, psp->code, out->event.reference, &p);
        if (rc == PB_STORE_NOT_FOUND) {
            pb_store_payment_event old;
            if (pb_store_payment_event_get(c, psp->code, out->event.event_id, &old) ==
                PB_STORE_OK) {
                out->outcome = "duplicate";
                return PB_OK;
            }
            return PB_ERR_PAYMENT_NOT_FOUND;
        }
        if (rc != PB_STORE_OK)
            return PB_ERR_STORE_UNAVAILABLE;
        pb_wallet_accounts acc;
        char owner[PB_LEDGER_OWNER_MAX + 1];
        snprintf(owner, sizeof owner, PB_WALLET_OWNER_PSP "%s", psp->code);
        if ((e = pb_wallet_player_accounts(k->wallet, c, p.brand, p.player, p.currency, &acc)) !=
                PB_OK ||
            (e = pb_wallet_system_account(k->wallet, c, p.brand, owner, PB_WALLET_KIND_PSP,
                                          p.currency, &x.clearing)) != PB_OK)
            return e;
        x.cash = acc.cash;
    }
    e = pb_ledger_command(k->ledger, event_command, &x);
    if (e == PB_OK)
        e = x.result;
    out->outcome = x.outcome;
    if (e == PB_OK)
        pb_log(PB_LOG_INFO, "cashier.webhook", "psp=%s event=%s type=%s reference=%s outcome=%s",
               psp->code, out->event.event_id, out->event.type_name, out->event.reference,
               out->outcome);
    return e;
}

/* ---- withdrawals ---- */

/* The brand's 4-eyes threshold (minor units) from its settings. */
static int64_t threshold_of(pb_store_conn *c, int64_t brand_id)
{
    pb_brand b;
    if (pb_tenancy_brand_get(c, brand_id, &b) != PB_OK)
        return PB_CASHIER_DEFAULT_4EYES_THRESHOLD;
    json_t *s = json_loads(b.settings, 0, NULL);
    json_t *v = s ? json_object_get(s, "withdrawal_4eyes_threshold") : NULL;
    int64_t t = json_is_integer(v) && json_integer_value(v) > 0 ? (int64_t)json_integer_value(v)
                                                                 : PB_CASHIER_DEFAULT_4EYES_THRESHOLD;
    json_decref(s);
    return t;
}

typedef struct wd_ctx {
    pb_cashier *k;
    const pb_cashier_player *pl;
    const pb_cashier_actor *a;
    const char *player; /* cancel: the owner */
    const char *reason; /* reject */
    pb_store_withdrawal w;
    int64_t cash, clearing;
    bool replayed;
    bool approved; /* approve: that was the last approval needed */
    pb_err result;
} wd_ctx;

static pb_err request_command(pb_ledger_tx *tx, void *arg)
{
    wd_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    pb_store_withdrawal old;
    pb_store_rc rc = pb_store_withdrawal_by_key(c, x->pl->player, x->w.idempotency_key, &old);
    if (rc == PB_STORE_OK) {
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
    pb_ledger_account cash;
    if (pb_ledger_tx_account(tx, x->cash, &cash) != PB_OK)
        return PB_ERR_INTERNAL;
    if (x->w.amount > pb_ledger_available(&cash)) {
        x->result = PB_ERR_INSUFFICIENT_FUNDS;
        return PB_OK;
    }
    x->w.approvals_required = x->w.amount >= threshold_of(c, x->pl->brand_id) ? 2 : 1;
    pb_transfer t = {0};
    snprintf(t.scope, sizeof t.scope, SCOPE_WITHDRAWAL);
    snprintf(t.key, sizeof t.key, "%s:hold", x->w.id);
    t.debit_account_id = x->cash;
    t.credit_account_id = x->clearing;
    t.amount = x->w.amount;
    snprintf(t.currency, sizeof t.currency, "%s", x->w.currency);
    t.code = PB_CODE_WITHDRAWAL;
    t.flags = PB_TRANSFER_PENDING;
    snprintf(t.reference, sizeof t.reference, "%s", x->w.id);
    if (x->a->trace_id)
        snprintf(t.trace_id, sizeof t.trace_id, "%s", x->a->trace_id);
    pb_err e = pb_ledger_tx_submit(tx, &t, 1);
    if (e == PB_ERR_INTERNAL)
        return e;
    if (e != PB_OK || t.result != PB_OK) {
        x->result = e != PB_OK ? e : t.result;
        return PB_OK;
    }
    x->w.hold_id = t.record.id;
    x->w.created_at = x->w.updated_at = pb_ledger_tx_now(tx);
    if (pb_store_withdrawal_insert(c, &x->w) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    x->result = PB_OK;
    return audit(tx, x->a, x->w.brand, "withdrawal.request", "withdrawal", x->w.id, NULL,
                 withdrawal_json(&x->w, 0), NULL);
}

pb_err pb_cashier_withdrawal_request(pb_cashier *k, pb_store_conn *c,
                                     const pb_cashier_player *pl, int64_t amount,
                                     const char *key, const pb_cashier_actor *a,
                                     pb_store_withdrawal *out, bool *replayed)
{
    *replayed = false;
    if (amount <= 0)
        return PB_ERR_AMOUNT_INVALID;
    if (!valid_key(key))
        return PB_ERR_FIELD_INVALID;
    pb_psp *psp = k->npsps ? k->psps[0] : NULL;
    wd_ctx x = {.k = k, .pl = pl, .a = a};
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
    pb_wallet_accounts acc;
    char owner[PB_LEDGER_OWNER_MAX + 1];
    snprintf(owner, sizeof owner, PB_WALLET_OWNER_PSP "%s", psp->code);
    pb_err e;
    if ((e = pb_wallet_player_accounts(k->wallet, c, pl->brand, pl->player, pl->currency,
                                       &acc)) != PB_OK ||
        (e = pb_wallet_system_account(k->wallet, c, pl->brand, owner, PB_WALLET_KIND_PSP,
                                      pl->currency, &x.clearing)) != PB_OK)
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
    e = pb_ledger_command(k->ledger, request_command, &x);
    if (e == PB_OK)
        e = x.result;
    *out = x.w;
    *replayed = x.replayed;
    return e;
}

/* Cancel (player) or reject (staff): a withdrawal waiting for approval, hold voided. */
static pb_err void_command(pb_ledger_tx *tx, void *arg)
{
    wd_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    pb_store_rc rc = pb_store_withdrawal_get(c, x->w.id, &x->w);
    if (rc == PB_STORE_NOT_FOUND || (rc == PB_STORE_OK && x->player &&
                                     strcmp(x->w.player, x->player) != 0)) {
        x->result = PB_ERR_WITHDRAWAL_NOT_FOUND;
        return PB_OK;
    }
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (strcmp(x->w.status, "pending_approval") != 0) {
        x->result = PB_ERR_WITHDRAWAL_STATE;
        return PB_OK;
    }
    pb_transfer t;
    hold_resolve(&t, &x->w, false, x->a->trace_id);
    pb_err e = pb_ledger_tx_submit(tx, &t, 1);
    if (e == PB_ERR_INTERNAL)
        return e;
    if (e != PB_OK || t.result != PB_OK) {
        x->result = e != PB_OK ? e : t.result;
        return PB_OK;
    }
    json_t *before = withdrawal_json(&x->w, 0);
    bool reject = x->reason != NULL;
    snprintf(x->w.status, sizeof x->w.status, "%s", reject ? "rejected" : "cancelled");
    if (reject)
        snprintf(x->w.reason, sizeof x->w.reason, "%s", x->reason);
    x->w.updated_at = pb_ledger_tx_now(tx);
    if (pb_store_withdrawal_update(c, &x->w) != PB_STORE_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    x->result = PB_OK;
    return audit(tx, x->a, x->w.brand, reject ? "withdrawal.reject" : "withdrawal.cancel",
                 "withdrawal", x->w.id, before, withdrawal_json(&x->w, 0), x->reason);
}

static pb_err run_void(pb_cashier *k, const char *player, const char *id, const char *reason,
                       const pb_cashier_actor *a, pb_store_withdrawal *out)
{
    if (strlen(id) > PB_ID_STR_LEN)
        return PB_ERR_WITHDRAWAL_NOT_FOUND;
    wd_ctx x = {.k = k, .a = a, .player = player, .reason = reason};
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

static pb_err approve_command(pb_ledger_tx *tx, void *arg)
{
    wd_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
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
    pb_store_withdrawal_approval ap[4];
    size_t n = 0;
    if (pb_store_withdrawal_approval_list(c, x->w.id, ap, 4, &n) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(ap[i].staff_id, x->a->id) == 0) {
            x->result = PB_ERR_FOUR_EYES_VIOLATION;
            return PB_OK;
        }
    pb_store_withdrawal_approval mine = {0};
    snprintf(mine.withdrawal_id, sizeof mine.withdrawal_id, "%s", x->w.id);
    snprintf(mine.staff_id, sizeof mine.staff_id, "%s", x->a->id);
    snprintf(mine.role, sizeof mine.role, "%s", x->a->role ? x->a->role : "");
    mine.approved_at = pb_ledger_tx_now(tx);
    if (pb_store_withdrawal_approval_insert(c, &mine) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    json_t *before = withdrawal_json(&x->w, n);
    x->approved = (int)(n + 1) >= x->w.approvals_required;
    if (x->approved) {
        snprintf(x->w.status, sizeof x->w.status, "approved");
        x->w.updated_at = pb_ledger_tx_now(tx);
        if (pb_store_withdrawal_update(c, &x->w) != PB_STORE_OK) {
            json_decref(before);
            return PB_ERR_INTERNAL;
        }
    }
    x->result = PB_OK;
    return audit(tx, x->a, x->w.brand, "withdrawal.approve", "withdrawal", x->w.id, before,
                 withdrawal_json(&x->w, n + 1), NULL);
}

static pb_err sent_command(pb_ledger_tx *tx, void *arg)
{
    wd_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    char ref[sizeof x->w.psp_reference];
    snprintf(ref, sizeof ref, "%s", x->w.psp_reference);
    if (pb_store_withdrawal_get(c, x->w.id, &x->w) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (strcmp(x->w.status, "approved") != 0) {
        x->result = PB_ERR_WITHDRAWAL_STATE;
        return PB_OK;
    }
    json_t *before = withdrawal_json(&x->w, (size_t)x->w.approvals_required);
    snprintf(x->w.status, sizeof x->w.status, "processing");
    snprintf(x->w.psp_reference, sizeof x->w.psp_reference, "%s", ref);
    x->w.updated_at = pb_ledger_tx_now(tx);
    if (pb_store_withdrawal_update(c, &x->w) != PB_STORE_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    x->result = PB_OK;
    return audit(tx, x->a, x->w.brand, "withdrawal.payout_sent", "withdrawal", x->w.id, before,
                 withdrawal_json(&x->w, (size_t)x->w.approvals_required), NULL);
}

pb_err pb_cashier_withdrawal_approve(pb_cashier *k, pb_store_conn *c, const char *id,
                                     const pb_cashier_actor *a, pb_store_withdrawal *out)
{
    if (strlen(id) > PB_ID_STR_LEN)
        return PB_ERR_WITHDRAWAL_NOT_FOUND;
    wd_ctx x = {.k = k, .a = a};
    snprintf(x.w.id, sizeof x.w.id, "%s", id);
    pb_err e = pb_ledger_command(k->ledger, approve_command, &x);
    if (e == PB_OK)
        e = x.result;
    *out = x.w;
    if (e != PB_OK || !x.approved)
        return e;
    /* fully approved: send the payout (after the commit: no I/O inside a command) */
    pb_psp *psp = pb_cashier_psp(k, x.w.psp);
    char ref[PB_STORE_CASHIER_REF_MAX + 1] = "";
    pb_err se = psp ? psp->payout_send(psp, &x.w, ref) : PB_ERR_PSP_NOT_FOUND;
    if (se != PB_OK) { /* stays "approved" for an operator to resend or reject */
        pb_log(PB_LOG_ERROR, "cashier.payout", "withdrawal=%s payout not sent: %s", x.w.id,
               pb_err_code(se));
        return PB_OK;
    }
    char sys_id[48];
    snprintf(sys_id, sizeof sys_id, PB_WALLET_OWNER_PSP "%s", x.w.psp);
    pb_cashier_actor sys = {.kind = "system", .id = sys_id, .trace_id = a->trace_id};
    wd_ctx s = {.k = k, .a = &sys};
    snprintf(s.w.id, sizeof s.w.id, "%s", x.w.id);
    snprintf(s.w.psp_reference, sizeof s.w.psp_reference, "%s", ref);
    e = pb_ledger_command(k->ledger, sent_command, &s);
    if (e == PB_OK)
        e = s.result;
    if (e != PB_OK) {
        pb_log(PB_LOG_ERROR, "cashier.payout", "withdrawal=%s reference %s not stored: %s",
               x.w.id, ref, pb_err_code(e));
        return PB_OK;
    }
    if (psp->payout_sent)
        psp->payout_sent(psp, c, &s.w);
    if (pb_store_withdrawal_get(c, x.w.id, out) != PB_STORE_OK)
        *out = s.w;
    return PB_OK;
}
