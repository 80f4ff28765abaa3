/*
 * cashier.c — the cashier's handle and deposits (see cashier.h); the PSPs'
 * webhook events are in webhook.c, withdrawals in withdrawal.c.
 *
 * Every command follows the ledger's rule "decide before writing": it re-reads
 * the row inside the writer's batch (so concurrent requests and deliveries are
 * serialised), decides, submits its transfer, and only then writes its row and
 * its audit entry. A business refusal is kept in the command's ctx, not
 * returned: only a store failure is returned, and it rolls the batch back.
 *
 * What runs outside a command only reads (the payment by key or reference, the
 * brand's settings) or creates ledger accounts (idempotent), so a failure there
 * leaves nothing half done.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "cashier/cashier_internal.h"
#include "core/log.h"
#include "core/ticker.h"
#include "core/time.h"
#include "events/events.h"
#include "identity/identity.h"

/* ---- the handle ---- */

/* Queues the sandbox's confirmation of every payout it had not confirmed when
 * the process stopped (a real PSP would deliver those webhooks again). */
static void requeue_payouts(pb_psp *psp, pb_store *store)
{
    char err[256];
    pb_store_conn *c = store ? pb_store_connect(store, err, sizeof err) : NULL;
    if (!c)
        return;
    pb_store_withdrawal *rows = calloc(64, sizeof *rows);
    int64_t before = 0;
    size_t n = 64, queued = 0;
    while (rows && n == 64) {
        pb_store_withdrawal_query q = {.status = "processing", .before_seq = before, .limit = 64};
        if (pb_store_withdrawal_list(c, &q, rows, &n) != PB_STORE_OK)
            break;
        for (size_t i = 0; i < n; i++) {
            before = rows[i].seq;
            if (strcmp(rows[i].psp, psp->code) == 0) {
                psp->payout_sent(psp, &rows[i]);
                queued++;
            }
        }
    }
    if (queued)
        pb_log(PB_LOG_INFO, "cashier.sandbox", "%zu unconfirmed payouts queued again", queued);
    free(rows);
    pb_store_disconnect(c);
}

/* The payout retry (a pb_ticker): on its own connection, opened on the thread
 * (if it cannot connect it logs and ends without a pass), a pass every retry_ms
 * (see pb_cashier_retry_payouts), none at start, until pb_cashier_close. */
static bool payout_retry_enter(void *arg)
{
    pb_cashier *k = arg;
    char err[256];
    k->retry_conn = pb_store_connect(k->store, err, sizeof err);
    if (!k->retry_conn) {
        pb_log(PB_LOG_ERROR, "cashier.payout", "payout retry: cannot connect: %s", err);
        return false;
    }
    return true;
}

static bool payout_retry_pass(void *arg, int64_t retry_ms)
{
    (void)retry_ms; /* no backoff: a PSP that refuses is tried again next interval */
    pb_cashier *k = arg;
    pb_cashier_retry_payouts(k, k->retry_conn, &k->seen);
    return true;
}

static void payout_retry_leave(void *arg)
{
    pb_cashier *k = arg;
    pb_store_disconnect(k->retry_conn);
    k->retry_conn = NULL;
}

pb_cashier *pb_cashier_open(pb_wallet *w, pb_store *store, const pb_cashier_config *cfg, char *err,
                            size_t errcap)
{
    pb_cashier *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    k->wallet = w;
    k->ledger = pb_wallet_ledger(w);
    pthread_mutex_init(&k->claims_mu, NULL); /* before the first payout: at start-up */
    pthread_mutex_init(&k->recon_mu, NULL);
    k->recon_minute = -1;
    if (cfg && cfg->sandbox) {
        pb_psp_sandbox_config sc = {.keys_dir = cfg->keys_dir,
                                    .self_url = cfg->self_url,
                                    .self_url_ctx = cfg->self_url_ctx,
                                    .payout_delay_ms = cfg->payout_delay_ms > 0
                                                           ? cfg->payout_delay_ms
                                                           : PB_CASHIER_DEFAULT_PAYOUT_DELAY_MS,
                                    .stuck_knobs = cfg->sandbox_stuck_knobs};
        pb_psp *p = pb_psp_sandbox_new(&sc, err, errcap);
        if (!p) {
            pthread_mutex_destroy(&k->claims_mu);
            pthread_mutex_destroy(&k->recon_mu);
            free(k);
            return NULL;
        }
        p->cashier = k;
        k->psps[k->npsps++] = p;
        if (cfg->self_url)
            requeue_payouts(p, store);
    }
    pb_cashier_resume_payouts(k, store);
    k->store = store;
    k->retry_ms = cfg && cfg->payout_retry_ms ? cfg->payout_retry_ms
                                              : PB_CASHIER_DEFAULT_PAYOUT_RETRY_MS;
    if (store && k->retry_ms > 0) {
        pb_ticker_spec spec = {.name = "pb-payout-retry",
                               .clock = CLOCK_REALTIME,
                               .interval_ms = k->retry_ms,
                               .enter = payout_retry_enter,
                               .pass = payout_retry_pass,
                               .leave = payout_retry_leave,
                               .arg = k};
        if (!(k->retry = pb_ticker_start(&spec))) {
            snprintf(err, errcap, "cannot start the payout retry: %s", strerror(errno));
            pb_cashier_close(k);
            return NULL;
        }
    }
    if (store && cfg && cfg->reconcile_daily &&
        cashier_reconcile_daily_start(k, cfg->reconcile_at_minute, err, errcap) != 0) {
        pb_cashier_close(k);
        return NULL;
    }
    return k;
}

void pb_cashier_stop_retry(pb_cashier *k)
{
    if (!k)
        return;
    pb_ticker_stop(k->retry); /* a pass under way finishes first */
    k->retry = NULL;
    pb_ticker_stop(k->recon_ticker);
    k->recon_ticker = NULL;
}

void pb_cashier_close(pb_cashier *k)
{
    if (!k)
        return;
    pb_cashier_stop_retry(k);
    free(k->seen.seq);
    pthread_mutex_destroy(&k->claims_mu);
    pthread_mutex_destroy(&k->recon_mu);
    free(k->claims.id);
    free(k->gate_held.e);
    for (size_t i = 0; i < k->npsps; i++)
        k->psps[i]->free(k->psps[i]);
    free(k);
}

void pb_cashier_stats_get(pb_cashier *k, pb_cashier_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!k)
        return;
    out->payouts_refused = atomic_load_explicit(&k->payouts_refused, memory_order_relaxed);
    out->payouts_resent = atomic_load_explicit(&k->payouts_resent, memory_order_relaxed);
    out->payouts_waiting = atomic_load_explicit(&k->payouts_waiting, memory_order_relaxed);
}

pb_psp *pb_cashier_psp(pb_cashier *k, const char *code)
{
    for (size_t i = 0; k && code && i < k->npsps; i++)
        if (strcmp(k->psps[i]->code, code) == 0)
            return k->psps[i];
    return NULL;
}

pb_psp *pb_cashier_psp_at(pb_cashier *k, size_t i) { return k && i < k->npsps ? k->psps[i] : NULL; }

/* ---- shared pieces ---- */

pb_err pb_cashier_audit(pb_ledger_tx *tx, const pb_cashier_actor *a, const char *brand,
                        const char *action, const char *target_kind, const char *target_id,
                        json_t *before, json_t *after, const char *reason)
{
    return cashier_audit_at(pb_ledger_tx_conn(tx), pb_ledger_tx_now(tx), a, brand, action,
                            target_kind, target_id, before, after, reason);
}

pb_err cashier_audit_at(pb_store_conn *c, int64_t now, const pb_cashier_actor *a, const char *brand,
                        const char *action, const char *target_kind, const char *target_id,
                        json_t *before, json_t *after, const char *reason)
{
    char *b = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *af = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(before);
    json_decref(after);
    pb_audit_entry e = {.actor_kind = a->kind,
                        .actor_id = a->id,
                        .role = a->role,
                        .brand = brand,
                        .action = action,
                        .target_kind = target_kind,
                        .target_id = target_id,
                        .before = b,
                        .after = af,
                        .reason = reason && *reason ? reason : NULL,
                        .trace_id = a->trace_id,
                        .ip = a->ip};
    pb_err r = (before && !b) || (after && !af) ? PB_ERR_INTERNAL : pb_audit_append(c, &e, now);
    free(b);
    free(af);
    return r == PB_OK ? PB_OK : PB_ERR_INTERNAL;
}

void pb_cashier_deposit_limits(pb_store_conn *c, int64_t brand_id, const char *currency,
                               int64_t *min, int64_t *max)
{
    *min = PB_CASHIER_DEFAULT_DEPOSIT_MIN;
    *max = PB_CASHIER_DEFAULT_DEPOSIT_MAX;
    pb_brand *b = malloc(sizeof *b);
    if (!b || pb_tenancy_brand_get(c, brand_id, b) != PB_OK) {
        free(b);
        return;
    }
    pb_tenancy_setting_for_currency(b->settings, "deposit_mins", currency, min);
    pb_tenancy_setting_for_currency(b->settings, "deposit_maxes", currency, max);
    free(b);
}

bool pb_cashier_4eyes_threshold(pb_store_conn *c, int64_t brand_id, const char *currency,
                                int64_t *out)
{
    pb_brand *b = malloc(sizeof *b);
    if (!b || pb_tenancy_brand_get(c, brand_id, b) != PB_OK) {
        free(b);
        return false;
    }
    bool found = pb_tenancy_setting_for_currency(b->settings, "withdrawal_4eyes_thresholds",
                                                 currency, out);
    free(b);
    return found;
}

bool pb_cashier_key_valid(const char *key)
{
    if (!key || !*key || strlen(key) > PB_STORE_CASHIER_KEY_MAX)
        return false;
    for (const char *s = key; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

pb_err pb_cashier_clearing(pb_cashier *k, pb_store_conn *c, const char *brand, const char *psp,
                           const char *currency, int64_t *id)
{
    char owner[PB_LEDGER_OWNER_MAX + 1];
    snprintf(owner, sizeof owner, PB_WALLET_OWNER_PSP "%s", psp);
    return pb_wallet_system_account(k->wallet, c, brand, owner, PB_WALLET_KIND_PSP, currency, id);
}

const char *pb_cashier_scope_json(const pb_brand_scope *scope, char *buf, size_t cap)
{
    if (!scope || scope->all)
        return NULL;
    size_t off = (size_t)snprintf(buf, cap, "[");
    for (size_t i = 0; i < scope->n && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%lld", i ? "," : "",
                                (long long)scope->brand_ids[i]);
    if (off < cap)
        off += (size_t)snprintf(buf + off, cap - off, "]");
    return off < cap ? buf : "[]"; /* too many to write: show nothing rather than too much */
}

json_t *cashier_payment_json(const pb_store_payment *p)
{
    return json_pack("{s:s,s:I,s:s,s:s,s:s}", "status", p->status, "amount", (json_int_t)p->amount,
                     "currency", p->currency, "psp", p->psp, "psp_reference", p->psp_reference);
}

pb_err cashier_store_read(pb_store_rc rc, pb_err not_found)
{
    return rc == PB_STORE_OK          ? PB_OK
           : rc == PB_STORE_NOT_FOUND ? not_found
                                      : PB_ERR_STORE_UNAVAILABLE;
}

/* ---- deposits ---- */

/* Whether a deposit request for amount at psp under a key the player already used
 * is a retry of the payment stored under it (answered with that payment): the
 * same amount at the same PSP. Anything else under the key is
 * IDEMPOTENCY_CONFLICT. The one rule of the pre-check and of the command (a
 * request that raced in past the pre-check), so both decide alike. The currency
 * is the player's, which never changes, so it cannot differ. */
static bool deposit_retries(const pb_store_payment *old, int64_t amount, const char *psp)
{
    return old->amount == amount && strcmp(old->psp, psp) == 0;
}

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
    /* the player re-checked here: a session revoked after the HTTP check makes no intent */
    if (cashier_actor_check(tx, x->a, &x->result) != PB_OK)
        return PB_ERR_INTERNAL;
    if (x->result != PB_OK)
        return PB_OK;
    pb_store_payment old;
    pb_store_rc rc = pb_store_payment_by_key(c, x->pl->player, x->p.idempotency_key, &old);
    if (rc == PB_STORE_OK) { /* the same key raced in: the first one wins */
        x->result = deposit_retries(&old, x->p.amount, x->p.psp) ? PB_OK
                                                                 : PB_ERR_IDEMPOTENCY_CONFLICT;
        x->replayed = true;
        x->p = old;
        return PB_OK;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    pb_err g = pb_wallet_gate(c, x->pl->player, PB_WALLET_ACTION_DEPOSIT);
    if (g == PB_ERR_INTERNAL || g == PB_ERR_STORE_UNAVAILABLE)
        return PB_ERR_INTERNAL;
    if (g != PB_OK) {
        x->result = g;
        return PB_OK;
    }
    x->p.created_at = x->p.updated_at = pb_ledger_tx_now(tx);
    if (pb_store_payment_insert(c, &x->p) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    x->result = PB_OK;
    /* @events: in the command's transaction, so it commits with the intent (the
     * back office's Payments page announces it; payload as deposit.completed's) */
    if (pb_events_emit(c, "deposit.created", x->pl->brand, x->pl->player, x->a->trace_id,
                       x->p.created_at, PB_EV_STR("payment_id", x->p.id),
                       PB_EV_STR("psp", x->p.psp),
                       PB_EV_MONEY("amount", x->p.amount, x->p.currency)) != PB_OK)
        return PB_ERR_INTERNAL;
    return pb_cashier_audit(tx, x->a, x->pl->brand, "payment.create", "payment", x->p.id, NULL,
                            cashier_payment_json(&x->p), NULL);
}

pb_err pb_cashier_deposit_create(pb_cashier *k, pb_store_conn *c, const pb_cashier_player *pl,
                                 const char *psp_code, int64_t amount, const char *key,
                                 const pb_cashier_actor *a, pb_store_payment *out,
                                 char url[PB_CASHIER_URL_MAX], bool *replayed)
{
    *replayed = false;
    url[0] = 0;
    if (amount <= 0)
        return PB_ERR_AMOUNT_INVALID;
    if (!pb_cashier_key_valid(key))
        return PB_ERR_FIELD_INVALID;
    pb_psp *psp = psp_code ? pb_cashier_psp(k, psp_code) : k->npsps ? k->psps[0] : NULL;
    if (!psp)
        return PB_ERR_PSP_NOT_FOUND;
    deposit_ctx x = {.pl = pl, .a = a};
    pb_store_rc rc = pb_store_payment_by_key(c, pl->player, key, &x.p);
    if (rc == PB_STORE_OK) { /* a retry: no second intent at the PSP */
        *out = x.p;
        *replayed = true;
        bool same = deposit_retries(&x.p, amount, psp->code);
        if (same)
            pb_cashier_checkout_url(k, out, url);
        return same ? PB_OK : PB_ERR_IDEMPOTENCY_CONFLICT;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_STORE_UNAVAILABLE;
    int64_t lo, hi; /* the brand's limits for the deposit's currency, minor units of it */
    pb_cashier_deposit_limits(c, pl->brand_id, pl->currency, &lo, &hi);
    if (amount < lo || amount > hi)
        return PB_ERR_AMOUNT_OUT_OF_RANGE;
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
    if ((e = pb_wallet_player_accounts(k->wallet, c, pl->brand, pl->player, pl->currency, &acc)) !=
            PB_OK ||
        (e = pb_cashier_clearing(k, c, pl->brand, psp->code, pl->currency, &clearing)) != PB_OK)
        return e;
    char intent[PB_STORE_CASHIER_REF_MAX + 1];
    snprintf(intent, sizeof intent, "%s", x.p.psp_reference);
    e = pb_ledger_command(k->ledger, deposit_command, &x);
    if (e == PB_OK)
        e = x.result;
    /* Raced in (another request under the key stored its payment first): the intent
     * made above belongs to no payment. The PSP interface has no way to cancel one;
     * nobody is sent to pay it (its checkout link is never given out) and a payment
     * for it would arrive as a webhook of an unknown reference (PAYMENT_NOT_FOUND,
     * not recorded). Logged
     * for the operator's reconciliation with the PSP. */
    if (x.replayed && (e == PB_OK || e == PB_ERR_IDEMPOTENCY_CONFLICT))
        pb_log(PB_LOG_WARN, "cashier.deposit",
               "psp=%s reference=%s unused: key raced, payment %s (psp=%s) answered (%s)",
               psp->code, intent, x.p.id, x.p.psp, e == PB_OK ? "replay" : "conflict");
    *out = x.p;
    *replayed = x.replayed;
    if (e == PB_OK)
        pb_cashier_checkout_url(k, out, url);
    return e;
}

void pb_cashier_checkout_url(pb_cashier *k, const pb_store_payment *p, char url[PB_CASHIER_URL_MAX])
{
    url[0] = 0;
    pb_psp *psp = pb_cashier_psp(k, p->psp);
    if (psp && strcmp(p->status, "pending") == 0)
        psp->checkout_url(psp, p, url, PB_CASHIER_URL_MAX);
}

/*
 * A deposit intent expires: "pending" for longer than the brand's
 * deposit_expiry_minutes (default 24 h) after it was made, it reads as "expired"
 * (player and staff; no checkout link any more). The row itself stays "pending":
 * expiry is a view, not a state change, because the PSP may still have captured
 * the money — its success webhook arriving later credits the player all the same
 * and is audited as a late completion (payment.completed with that reason), the
 * row's completed_late set in the same transaction (webhook.c): the record of
 * what happened, which a later change of the setting does not move.
 */
static int64_t deposit_expiry_minutes(pb_store_conn *c, int64_t brand_id)
{
    pb_brand *b = malloc(sizeof *b);
    int64_t min = pb_cashier_deposit_expiry_minutes(
        b && pb_tenancy_brand_get(c, brand_id, b) == PB_OK ? b->settings : NULL);
    free(b);
    return min;
}

int64_t cashier_deposit_expires_at(pb_store_conn *c, const pb_store_payment *p)
{
    return pb_cashier_deposit_expires_at(p->created_at, deposit_expiry_minutes(c, p->brand_id));
}

int64_t pb_cashier_deposit_view(pb_store_conn *c, pb_store_payment *p, int64_t now)
{
    if (strcmp(p->status, "pending") != 0)
        return 0;
    int64_t at = cashier_deposit_expires_at(c, p);
    if (now >= at)
        snprintf(p->status, sizeof p->status, "expired");
    return at;
}

/* The brands' deposit_expiry_minutes met by one list call, each read once. */
typedef struct expiry_cache {
    size_t n;
    struct {
        int64_t brand_id, minutes;
    } e[16];
} expiry_cache;

static int64_t cached_expires_at(pb_store_conn *c, expiry_cache *k, const pb_store_payment *p)
{
    size_t i = 0;
    while (i < k->n && k->e[i].brand_id != p->brand_id)
        i++;
    int64_t min;
    if (i < k->n) {
        min = k->e[i].minutes;
    } else {
        min = deposit_expiry_minutes(c, p->brand_id);
        if (k->n < sizeof k->e / sizeof k->e[0]) {
            k->e[k->n].brand_id = p->brand_id;
            k->e[k->n++].minutes = min;
        }
    }
    return pb_cashier_deposit_expires_at(p->created_at, min);
}

pb_err pb_cashier_deposit_list(pb_store_conn *c, const pb_store_payment_query *q, int64_t now,
                               pb_store_payment *out, int64_t *expires_at, size_t *n, int64_t *next)
{
    *n = 0;
    *next = 0;
    expiry_cache cache = {0};
    bool want_expired = q->status && strcmp(q->status, "expired") == 0;
    if (!want_expired && !(q->status && strcmp(q->status, "pending") == 0)) {
        pb_err e = cashier_store_read(pb_store_payment_list(c, q, out, n),
                                      PB_ERR_STORE_UNAVAILABLE);
        for (size_t i = 0; e == PB_OK && i < *n; i++) {
            bool pending = strcmp(out[i].status, "pending") == 0;
            expires_at[i] = pending ? cached_expires_at(c, &cache, &out[i]) : 0;
            if (pending && now >= expires_at[i])
                snprintf(out[i].status, sizeof out[i].status, "expired");
        }
        if (e == PB_OK && *n == q->limit && *n > 0)
            *next = out[*n - 1].seq;
        return e;
    }
    /* both are stored "pending": the query keeps the ones on the asked side of
     * their brand's expiry (each brand's cutoff from its settings, by the rule of
     * deposit_expiry.h), so a page is full unless the rows ran out */
    if (q->limit == 0)
        return PB_OK;
    json_t *cutoffs = json_object();
    pb_brand *brands = malloc(64 * sizeof *brands);
    pb_err e = cutoffs && brands ? PB_OK : PB_ERR_INTERNAL;
    size_t got = 64;
    for (int64_t after = 0; e == PB_OK && got == 64;) {
        e = pb_tenancy_brand_list(c, NULL, after, brands, 64, &got);
        for (size_t i = 0; e == PB_OK && i < got; i++) {
            char id[24];
            snprintf(id, sizeof id, "%lld", (long long)brands[i].id);
            int64_t min = pb_cashier_deposit_expiry_minutes(brands[i].settings);
            if (json_object_set_new(cutoffs, id,
                                    json_integer(pb_cashier_deposit_expiry_cutoff(now, min))) != 0)
                e = PB_ERR_INTERNAL;
            after = brands[i].id;
        }
    }
    free(brands);
    char *cut = e == PB_OK ? json_dumps(cutoffs, JSON_COMPACT) : NULL;
    json_decref(cutoffs);
    if (e == PB_OK && !cut)
        e = PB_ERR_INTERNAL;
    if (e != PB_OK) {
        free(cut);
        return e == PB_ERR_INTERNAL ? e : PB_ERR_STORE_UNAVAILABLE;
    }
    pb_store_payment_query sq = *q;
    sq.status = "pending";
    sq.expiry = want_expired ? PB_STORE_EXPIRED : PB_STORE_NOT_EXPIRED;
    sq.expiry_cutoffs_json = cut;
    /* a brand created since: its intents by the default rule */
    sq.expiry_default_cutoff =
        pb_cashier_deposit_expiry_cutoff(now, PB_CASHIER_DEFAULT_DEPOSIT_EXPIRY_MINUTES);
    e = cashier_store_read(pb_store_payment_list(c, &sq, out, n), PB_ERR_STORE_UNAVAILABLE);
    free(cut);
    for (size_t i = 0; e == PB_OK && i < *n; i++) {
        expires_at[i] = cached_expires_at(c, &cache, &out[i]);
        if (want_expired)
            snprintf(out[i].status, sizeof out[i].status, "expired");
    }
    if (e != PB_OK)
        *n = 0;
    else if (*n == q->limit && *n > 0)
        *next = out[*n - 1].seq;
    return e;
}

pb_err pb_cashier_deposit_get(pb_store_conn *c, const char *player, const char *id,
                              pb_store_payment *out)
{
    if (!id || strlen(id) > PB_ID_STR_LEN)
        return PB_ERR_PAYMENT_NOT_FOUND;
    pb_err e = cashier_store_read(pb_store_payment_get(c, id, out), PB_ERR_PAYMENT_NOT_FOUND);
    return e == PB_OK && strcmp(out->player, player) != 0 ? PB_ERR_PAYMENT_NOT_FOUND : e;
}

pb_err pb_cashier_payment_get(pb_store_conn *c, const pb_brand_scope *scope, const char *id,
                              pb_store_payment *out)
{
    if (!id || strlen(id) > PB_ID_STR_LEN)
        return PB_ERR_PAYMENT_NOT_FOUND;
    pb_err e = cashier_store_read(pb_store_payment_get(c, id, out), PB_ERR_PAYMENT_NOT_FOUND);
    return e == PB_OK && !pb_brand_scope_allows(scope, out->brand_id) ? PB_ERR_PAYMENT_NOT_FOUND
                                                                      : e;
}

pb_err pb_cashier_payment_by_reference(pb_cashier *k, pb_store_conn *c, const pb_brand_scope *scope,
                                       const char *reference, pb_store_payment *out)
{
    if (!reference || strlen(reference) > PB_STORE_CASHIER_REF_MAX)
        return PB_ERR_PAYMENT_NOT_FOUND;
    for (size_t i = 0; i < k->npsps; i++) {
        pb_err e = cashier_store_read(pb_store_payment_by_reference(c, k->psps[i]->code, reference,
                                                                    out),
                                      PB_ERR_PAYMENT_NOT_FOUND);
        if (e != PB_ERR_PAYMENT_NOT_FOUND)
            return e == PB_OK && !pb_brand_scope_allows(scope, out->brand_id)
                       ? PB_ERR_PAYMENT_NOT_FOUND
                       : e;
    }
    return PB_ERR_PAYMENT_NOT_FOUND;
}

pb_err pb_cashier_payment_list(pb_store_conn *c, const pb_store_payment_query *q,
                               pb_store_payment *out, size_t *n)
{
    return cashier_store_read(pb_store_payment_list(c, q, out, n), PB_ERR_STORE_UNAVAILABLE);
}
