/*
 * webhook.c — the PSPs' webhook events (see cashier.h, pb_cashier_webhook):
 * verified by the PSP's adapter, recorded once by (psp, event id), and applied
 * to their deposit here or to their withdrawal's payout (payout_settle.c), in one
 * ledger command with the event's record. Split from cashier.c, unchanged.
 */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cashier/cashier_internal.h"
#include "core/log.h"
#include "core/time.h"
#include "events/events.h"
#include "identity/identity.h"

/* ---- webhooks ---- */

typedef struct event_ctx {
    const char *psp;
    const pb_psp_event *ev;
    uint8_t hash[32];
    int64_t cash, clearing; /* deposit events: the accounts */
    int64_t unclaimed;      /* the brand's unclaimed funds, when the player was closed (0: not):
                        * a deposit's credit, or a returned payout's */
    const char *outcome;
    pb_err result;
    pb_store_payment_event old; /* outcome "conflict": what the event id first said */
} event_ctx;

static void hex32(const uint8_t h[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* A second delivery of a recorded event id says the same as the first: the same
 * raw body, or a body re-serialised with everything the cashier acts on (type,
 * reference, amount, currency) unchanged — a PSP may rebuild the body for each
 * delivery attempt (the sandbox stamps "created" anew on every retry). */
static bool same_event(const pb_store_payment_event *old, const event_ctx *x)
{
    return memcmp(old->payload_hash, x->hash, sizeof x->hash) == 0 ||
           (strcmp(old->type, x->ev->type_name) == 0 &&
            strcmp(old->reference, x->ev->reference) == 0 && old->amount == x->ev->amount &&
            strcmp(old->currency, x->ev->currency) == 0);
}

/* The PSP reuses a recorded event id for other content: a PSP bug, or an altered
 * delivery signed with a leaked secret. Nothing moves and nothing is recorded in
 * payment_event (the first delivery stays the event); it is audited on what the
 * id first named (payment.event_conflict / withdrawal.event_conflict) with both
 * payload hashes, and answered 200 "conflict" like the other authentic events
 * that are refused (mismatch): a 4xx would only make the PSP retry it for days. */
static pb_err event_conflict(pb_ledger_tx *tx, event_ctx *x, const pb_cashier_actor *a)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    const pb_store_payment_event *old = &x->old;
    bool payout = strncmp(old->type, "payout.", 7) == 0;
    const char *brand = NULL, *target = old->reference;
    pb_store_payment p;
    pb_store_withdrawal w;
    pb_store_rc rc = payout ? pb_store_withdrawal_by_reference(c, old->psp, old->reference, &w)
                            : pb_store_payment_by_reference(c, old->psp, old->reference, &p);
    if (rc == PB_STORE_OK) {
        brand = payout ? w.brand : p.brand;
        target = payout ? w.id : p.id;
    } else if (rc != PB_STORE_NOT_FOUND) {
        return PB_ERR_INTERNAL;
    }
    char was[65], now[65];
    hex32(old->payload_hash, was);
    hex32(x->hash, now);
    x->outcome = "conflict";
    return pb_cashier_audit(
        tx, a, brand, payout ? "withdrawal.event_conflict" : "payment.event_conflict",
        payout ? "withdrawal" : "payment", target,
        json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "event_id", old->event_id, "type", old->type,
                  "reference", old->reference, "amount", (json_int_t)old->amount, "currency",
                  old->currency, "payload_hash", was, "outcome", old->outcome),
        json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "event_id", x->ev->event_id, "type",
                  x->ev->type_name, "reference", x->ev->reference, "amount",
                  (json_int_t)x->ev->amount, "currency", x->ev->currency, "payload_hash", now),
        "the PSP reused an event id with other content: nothing moved, the first delivery stands");
}

/* The event says another amount or currency than the row: nothing moves. */
static bool mismatched(const pb_psp_event *ev, int64_t amount, const char *currency)
{
    return ev->amount != amount || strcmp(ev->currency, currency) != 0;
}

pb_err cashier_player_closed(pb_store_conn *c, const char *player, bool *closed)
{
    pb_player_status st = PB_PLAYER_ACTIVE;
    pb_err e = pb_identity_player_status(c, player, &st);
    *closed = false;
    if (e != PB_OK && e != PB_ERR_PLAYER_NOT_FOUND)
        return PB_ERR_INTERNAL;
    *closed = e == PB_OK && st == PB_PLAYER_CLOSED;
    return PB_OK;
}

/* Whether the payment's player is closed (erased), as the batch sees it. */
static pb_err payer_closed(pb_store_conn *c, const pb_store_payment *p, bool *closed)
{
    return cashier_player_closed(c, p->player, closed);
}

/* A late deposit's money for a closed (erased) player, credited to the brand's
 * unclaimed funds: the audit entry and the event "funds.unclaimed" (kind
 * "deposit"), as the wallet records a closed player's win (wallet.h). */
static pb_err deposit_unclaimed_record(pb_ledger_tx *tx, const pb_store_payment *p,
                                       int64_t unclaimed, const pb_cashier_actor *a)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    char tid[PB_ID_STR_LEN + 1];
    pb_id_to_string(&p->transfer_id, tid);
    json_t *after = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:s}", "kind", "deposit",
                              "payment_id", p->id, "psp", p->psp, "player", p->player, "amount",
                              (json_int_t)p->amount, "currency", p->currency, "account",
                              PB_WALLET_KIND_UNCLAIMED, "account_id", (json_int_t)unclaimed,
                              "transfer_id", tid);
    pb_err e = pb_cashier_audit(tx, a, p->brand, "funds.unclaimed", "player", p->player, NULL,
                                after,
                                "a deposit completed for a closed (erased) player: the PSP "
                                "captured the money, held as unclaimed funds");
    if (e == PB_OK &&
        pb_events_emit(c, "funds.unclaimed", p->brand, p->player, a->trace_id, pb_ledger_tx_now(tx),
                       PB_EV_STR("kind", "deposit"), PB_EV_STR("payment_id", p->id),
                       PB_EV_STR("psp", p->psp), PB_EV_MONEY("amount", p->amount, p->currency),
                       PB_EV_STR("account", PB_WALLET_KIND_UNCLAIMED),
                       PB_EV_INT("account_id", unclaimed)) != PB_OK)
        e = PB_ERR_INTERNAL;
    if (e == PB_OK)
        pb_log(PB_LOG_WARN, "cashier.unclaimed",
               "payment=%s: %lld %s for closed player %s held as unclaimed funds", p->id,
               (long long)p->amount, p->currency, p->player);
    return e;
}

static pb_err deposit_event(pb_ledger_tx *tx, event_ctx *x, pb_store_payment *p,
                            const pb_cashier_actor *a)
{
    bool ok = x->ev->type == PB_PSP_DEPOSIT_SUCCEEDED;
    if (strcmp(p->status, "completed") == 0 || (!ok && strcmp(p->status, "failed") == 0)) {
        x->outcome = "ignored"; /* too late or already so: recorded, nothing changes */
        if (ok || strcmp(p->status, "completed") != 0)
            return PB_OK;
        /* the PSP says failed for money it already said it captured and we credited:
         * nothing is taken back (a reversal is a chargeback, handled by hand), but
         * finance must see the contradiction, so it is audited (the PSP as actor) */
        return pb_cashier_audit(
            tx, a, p->brand, "payment.failure_ignored", "payment", p->id, cashier_payment_json(p),
            json_pack("{s:s,s:s,s:I,s:s,s:s}", "event_id", x->ev->event_id, "type",
                      x->ev->type_name, "amount", (json_int_t)x->ev->amount, "currency",
                      x->ev->currency, "outcome", "ignored"),
            "deposit.failed after the deposit completed: ignored, the credit stands; check "
            "with the PSP (a reversal is a chargeback)");
    }
    if (mismatched(x->ev, p->amount, p->currency)) {
        x->outcome = "mismatch";
        return pb_cashier_audit(
            tx, a, p->brand, "payment.mismatch", "payment", p->id, cashier_payment_json(p),
            json_pack("{s:s,s:s,s:I,s:s}", "event_id", x->ev->event_id, "type", x->ev->type_name,
                      "amount", (json_int_t)x->ev->amount, "currency", x->ev->currency),
            "the PSP's event names another amount or currency: nothing credited");
    }
    cashier_deposit_accounts acc = {.cash = x->cash,
                                    .clearing = x->clearing,
                                    .unclaimed = x->unclaimed};
    pb_err e = cashier_deposit_settle(tx, p, ok, &acc, a, NULL, &x->result);
    if (e == PB_OK && x->result == PB_OK)
        x->outcome = "applied";
    return e;
}

/* See cashier_internal.h. */
pb_err cashier_deposit_accounts_of(pb_cashier *k, pb_store_conn *c, const pb_store_payment *p,
                                   cashier_deposit_accounts *acc)
{
    memset(acc, 0, sizeof *acc);
    pb_wallet_accounts wa;
    pb_err e = pb_wallet_player_accounts(k->wallet, c, p->brand, p->player, p->currency, &wa);
    if (e != PB_OK ||
        (e = pb_cashier_clearing(k, c, p->brand, p->psp, p->currency, &acc->clearing)) != PB_OK)
        return e;
    acc->cash = wa.cash;
    bool closed = false;
    if (payer_closed(c, p, &closed) != PB_OK)
        return PB_ERR_STORE_UNAVAILABLE;
    return closed ? pb_wallet_system_account(k->wallet, c, p->brand, PB_WALLET_OWNER_HOUSE,
                                             PB_WALLET_KIND_UNCLAIMED, p->currency, &acc->unclaimed)
                  : PB_OK;
}

/* See cashier_internal.h. */
const char *cashier_reason_join(char *buf, size_t cap, const char *a, const char *b)
{
    int n = snprintf(buf, cap, "%s%s", a, b);
    if (n >= 0 && (size_t)n >= cap) { /* cut: not inside a UTF-8 sequence */
        size_t end = cap - 1;
        while (end > 0 && ((unsigned char)buf[end] & 0xC0) == 0x80)
            end--;
        buf[end] = 0;
    }
    return buf;
}

/* See cashier_internal.h. */
pb_err cashier_deposit_settle(pb_ledger_tx *tx, pb_store_payment *p, bool ok,
                              const cashier_deposit_accounts *acc, const pb_cashier_actor *a,
                              const char *reason, pb_err *refusal)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    *refusal = PB_OK;
    json_t *before = cashier_payment_json(p);
    bool was_failed = strcmp(p->status, "failed") == 0;
    const char *why = was_failed ? "deposit.succeeded after deposit.failed: the PSP holds the money"
                                 : NULL;
    /* decided now, under the brand's setting as it is now, and stored with the
     * completion (payment.completed_late, 0055): a later change of the setting
     * does not move it */
    bool late = ok && !was_failed && pb_ledger_tx_now(tx) >= cashier_deposit_expires_at(c, p);
    if (late)
        why = "late completion: deposit.succeeded after the deposit intent expired; the PSP "
              "captured the money, credited";
    char staff_why[PB_AUDIT_REASON_MAX + 1];
    if (reason) /* the caller's reason, and whether it was late (the same rule) */
        why = cashier_reason_join(staff_why, sizeof staff_why, reason,
                                  late ? "; late completion: after the deposit intent expired"
                                       : "");
    /* a closed (erased) player's money goes to the brand's unclaimed funds, never to
     * the closed account (the erasure does not wait for an expired or failed intent) */
    bool closed = false;
    if (ok && payer_closed(c, p, &closed) != PB_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    if (closed && acc->unclaimed == 0) { /* erased since the look-up: the retry finds it */
        json_decref(before);
        *refusal = PB_ERR_PAYMENT_NOT_FOUND;
        return PB_OK;
    }
    if (ok) {
        pb_transfer t = {0};
        snprintf(t.scope, sizeof t.scope, PB_CASHIER_SCOPE_DEPOSIT);
        snprintf(t.key, sizeof t.key, "%s", p->id);
        t.debit_account_id = acc->clearing;
        t.credit_account_id = closed ? acc->unclaimed : acc->cash;
        t.amount = p->amount;
        snprintf(t.currency, sizeof t.currency, "%s", p->currency);
        t.code = PB_CODE_DEPOSIT;
        snprintf(t.reference, sizeof t.reference, "%s", p->id);
        pb_err e = pb_ledger_tx_submit(tx, &t, 1);
        if (e != PB_OK || t.result != PB_OK) {
            json_decref(before);
            if (e == PB_ERR_INTERNAL)
                return e;
            *refusal = e != PB_OK ? e : t.result;
            return PB_OK;
        }
        p->has_transfer = true;
        p->transfer_id = t.record.id;
    }
    snprintf(p->status, sizeof p->status, "%s", ok ? "completed" : "failed");
    p->completed_late = late;
    p->updated_at = pb_ledger_tx_now(tx);
    if (pb_store_payment_update(c, p) != PB_STORE_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    /* @events: in the command's transaction, so it commits with the deposit */
    if (pb_events_emit(c, ok ? "deposit.completed" : "deposit.failed", p->brand, p->player,
                       a->trace_id, p->updated_at, PB_EV_STR("payment_id", p->id),
                       PB_EV_STR("psp", p->psp),
                       PB_EV_MONEY("amount", p->amount, p->currency)) != PB_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    pb_err e = pb_cashier_audit(tx, a, p->brand, ok ? "payment.completed" : "payment.failed",
                                "payment", p->id, before, cashier_payment_json(p), why);
    return e == PB_OK && closed ? deposit_unclaimed_record(tx, p, acc->unclaimed, a) : e;
}

static pb_err event_command(pb_ledger_tx *tx, void *arg)
{
    event_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    x->result = PB_OK;
    x->outcome = "ignored";
    char actor_id[48];
    snprintf(actor_id, sizeof actor_id, PB_WALLET_OWNER_PSP "%s", x->psp);
    pb_cashier_actor a = {.kind = "system", .id = actor_id};
    pb_store_rc rc = pb_store_payment_event_get(c, x->psp, x->ev->event_id, &x->old);
    if (rc == PB_STORE_OK) {
        if (same_event(&x->old, x))
            x->outcome = "duplicate";
        else
            return event_conflict(tx, x, &a);
        return PB_OK;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
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
        if (x->ev->type == PB_PSP_DEPOSIT_SUCCEEDED && (x->cash == 0 || x->clearing == 0)) {
            x->result = PB_ERR_PAYMENT_NOT_FOUND; /* created since the look-up: the retry works */
            return PB_OK;
        }
        e = deposit_event(tx, x, &p, &a);
    } else if (x->ev->type == PB_PSP_PAYOUT_PAID || x->ev->type == PB_PSP_PAYOUT_FAILED ||
               x->ev->type == PB_PSP_PAYOUT_RETURNED) {
        pb_store_withdrawal w;
        rc = pb_store_withdrawal_by_reference(c, x->psp, x->ev->reference, &w);
        if (rc == PB_STORE_NOT_FOUND) {
            x->result = PB_ERR_WITHDRAWAL_NOT_FOUND;
            return PB_OK;
        }
        if (rc != PB_STORE_OK)
            return PB_ERR_INTERNAL;
        e = pb_cashier_payout_event(tx, x->ev, &w, &a, x->unclaimed, &x->outcome, &x->result);
    }
    if (e != PB_OK || x->result != PB_OK)
        return e;
    pb_store_payment_event ev = {0};
    snprintf(ev.psp, sizeof ev.psp, "%s", x->psp);
    snprintf(ev.event_id, sizeof ev.event_id, "%s", x->ev->event_id);
    snprintf(ev.type, sizeof ev.type, "%s", x->ev->type_name);
    snprintf(ev.reference, sizeof ev.reference, "%s", x->ev->reference);
    ev.amount = x->ev->amount;
    snprintf(ev.currency, sizeof ev.currency, "%s", x->ev->currency);
    memcpy(ev.payload_hash, x->hash, sizeof ev.payload_hash);
    snprintf(ev.outcome, sizeof ev.outcome, "%s", x->outcome);
    ev.received_at = pb_ledger_tx_now(tx);
    return pb_store_payment_event_insert(c, &ev) == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
}

pb_err pb_cashier_webhook(pb_cashier *k, pb_store_conn *c, const char *psp_code, const char *body,
                          size_t len, pb_psp_header_fn header, void *hctx,
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
    event_ctx x = {.psp = psp->code, .ev = &out->event};
    SHA256((const unsigned char *)body, len, x.hash);
    if (out->event.type == PB_PSP_EVENT_UNKNOWN) {
        out->outcome = "ignored";
        return PB_OK;
    }
    if (out->event.type == PB_PSP_DEPOSIT_SUCCEEDED) {
        /* the accounts of the credit (a payment's player and currency never change) */
        pb_store_payment p;
        pb_store_rc rc = pb_store_payment_by_reference(c, psp->code, out->event.reference, &p);
        if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
            return cashier_store_read(rc, PB_ERR_PAYMENT_NOT_FOUND);
        /* an unknown reference is answered in the command (404), after the event
         * id's check: a recorded id reused with an unknown reference is a conflict */
        cashier_deposit_accounts acc = {0};
        if (rc == PB_STORE_OK && (e = cashier_deposit_accounts_of(k, c, &p, &acc)) != PB_OK)
            return e;
        x.cash = acc.cash;
        x.clearing = acc.clearing;
        x.unclaimed = acc.unclaimed;
    }
    if (out->event.type == PB_PSP_PAYOUT_RETURNED) {
        /* a closed (erased) player's returned payout goes to the brand's unclaimed
         * funds: that account made here, outside the command (the command decides) */
        pb_store_withdrawal *w = malloc(sizeof *w);
        pb_store_rc rc = w ? pb_store_withdrawal_by_reference(c, psp->code, out->event.reference, w)
                           : PB_STORE_ERROR;
        bool closed = false;
        if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
            e = cashier_store_read(rc, PB_ERR_WITHDRAWAL_NOT_FOUND);
        else if (rc == PB_STORE_OK && cashier_player_closed(c, w->player, &closed) != PB_OK)
            e = PB_ERR_STORE_UNAVAILABLE;
        else if (closed)
            e = pb_wallet_system_account(k->wallet, c, w->brand, PB_WALLET_OWNER_HOUSE,
                                         PB_WALLET_KIND_UNCLAIMED, w->currency, &x.unclaimed);
        free(w);
        if (e != PB_OK)
            return e;
    }
    e = pb_ledger_command(k->ledger, event_command, &x);
    if (e == PB_OK)
        e = x.result;
    out->outcome = x.outcome;
    if (e == PB_OK && strcmp(x.outcome, "conflict") == 0) {
        char was[65], now[65];
        hex32(x.old.payload_hash, was);
        hex32(x.hash, now);
        pb_log(PB_LOG_WARN, "cashier.webhook",
               "psp=%s event=%s reused with other content: was type=%s reference=%s amount=%lld "
               "currency=%s hash=%s, now type=%s reference=%s amount=%lld currency=%s hash=%s "
               "outcome=conflict (nothing moved, audited)",
               psp->code, out->event.event_id, x.old.type, x.old.reference, (long long)x.old.amount,
               x.old.currency, was, out->event.type_name, out->event.reference,
               (long long)out->event.amount, out->event.currency, now);
    } else if (e == PB_OK)
        pb_log(strcmp(x.outcome, "mismatch") == 0 ? PB_LOG_WARN : PB_LOG_INFO, "cashier.webhook",
               "psp=%s event=%s type=%s reference=%s outcome=%s", psp->code, out->event.event_id,
               out->event.type_name, out->event.reference, out->outcome);
    return e;
}
