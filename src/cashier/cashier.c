/*
 * cashier.c — the cashier's handle, deposits and webhook events (see
 * cashier.h); withdrawals are in withdrawal.c.
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
#include <openssl/sha.h>
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
    return k;
}

void pb_cashier_close(pb_cashier *k)
{
    if (!k)
        return;
    pb_ticker_stop(k->retry); /* a pass under way finishes first */
    free(k->seen.seq);
    pthread_mutex_destroy(&k->claims_mu);
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

/* ---- shared pieces ---- */

pb_err pb_cashier_audit(pb_ledger_tx *tx, const pb_cashier_actor *a, const char *brand,
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
    pb_err r = (before && !b) || (after && !af)
                   ? PB_ERR_INTERNAL
                   : pb_audit_append(pb_ledger_tx_conn(tx), &e, pb_ledger_tx_now(tx));
    free(b);
    free(af);
    return r == PB_OK ? PB_OK : PB_ERR_INTERNAL;
}

int64_t pb_cashier_brand_setting(pb_store_conn *c, int64_t brand_id, const char *name, int64_t dflt)
{
    pb_brand *b = malloc(sizeof *b);
    if (!b || pb_tenancy_brand_get(c, brand_id, b) != PB_OK) {
        free(b);
        return dflt;
    }
    json_t *s = json_loads(b->settings, 0, NULL);
    json_t *v = s ? json_object_get(s, name) : NULL;
    int64_t r = json_is_integer(v) && json_integer_value(v) > 0 ? (int64_t)json_integer_value(v)
                                                                : dflt;
    json_decref(s);
    free(b);
    return r;
}

bool pb_cashier_4eyes_threshold(pb_store_conn *c, int64_t brand_id, const char *currency,
                                int64_t *out)
{
    pb_brand *b = malloc(sizeof *b);
    if (!b || pb_tenancy_brand_get(c, brand_id, b) != PB_OK) {
        free(b);
        return false;
    }
    json_t *s = json_loads(b->settings, 0, NULL);
    json_t *m = s ? json_object_get(s, "withdrawal_4eyes_thresholds") : NULL;
    json_t *v = json_is_object(m) ? json_object_get(m, currency) : NULL;
    bool found = json_is_integer(v) && json_integer_value(v) > 0;
    if (found)
        *out = (int64_t)json_integer_value(v);
    json_decref(s);
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

static json_t *payment_json(const pb_store_payment *p)
{
    return json_pack("{s:s,s:I,s:s,s:s,s:s}", "status", p->status, "amount", (json_int_t)p->amount,
                     "currency", p->currency, "psp", p->psp, "psp_reference", p->psp_reference);
}

static pb_err store_read(pb_store_rc rc, pb_err not_found)
{
    return rc == PB_STORE_OK          ? PB_OK
           : rc == PB_STORE_NOT_FOUND ? not_found
                                      : PB_ERR_STORE_UNAVAILABLE;
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
    if (rc == PB_STORE_OK) { /* the same key raced in: the first one wins */
        x->result = old.amount == x->p.amount ? PB_OK : PB_ERR_IDEMPOTENCY_CONFLICT;
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
    return pb_cashier_audit(tx, x->a, x->pl->brand, "payment.create", "payment", x->p.id, NULL,
                            payment_json(&x->p), NULL);
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
        bool same = x.p.amount == amount && strcmp(psp->code, x.p.psp) == 0;
        if (same)
            pb_cashier_checkout_url(k, out, url);
        return same ? PB_OK : PB_ERR_IDEMPOTENCY_CONFLICT;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_STORE_UNAVAILABLE;
    if (amount < pb_cashier_brand_setting(c, pl->brand_id, "deposit_min",
                                          PB_CASHIER_DEFAULT_DEPOSIT_MIN) ||
        amount > pb_cashier_brand_setting(c, pl->brand_id, "deposit_max",
                                          PB_CASHIER_DEFAULT_DEPOSIT_MAX))
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
    e = pb_ledger_command(k->ledger, deposit_command, &x);
    if (e == PB_OK)
        e = x.result;
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
 * and is audited as a late completion (payment.completed with that reason).
 */
static int64_t deposit_expiry_minutes(pb_store_conn *c, int64_t brand_id)
{
    pb_brand *b = malloc(sizeof *b);
    int64_t min = pb_cashier_deposit_expiry_minutes(
        b && pb_tenancy_brand_get(c, brand_id, b) == PB_OK ? b->settings : NULL);
    free(b);
    return min;
}

static int64_t deposit_expires_at(pb_store_conn *c, const pb_store_payment *p)
{
    return pb_cashier_deposit_expires_at(p->created_at, deposit_expiry_minutes(c, p->brand_id));
}

int64_t pb_cashier_deposit_view(pb_store_conn *c, pb_store_payment *p, int64_t now)
{
    if (strcmp(p->status, "pending") != 0)
        return 0;
    int64_t at = deposit_expires_at(c, p);
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
        pb_err e = store_read(pb_store_payment_list(c, q, out, n), PB_ERR_STORE_UNAVAILABLE);
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
    e = store_read(pb_store_payment_list(c, &sq, out, n), PB_ERR_STORE_UNAVAILABLE);
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
    pb_err e = store_read(pb_store_payment_get(c, id, out), PB_ERR_PAYMENT_NOT_FOUND);
    return e == PB_OK && strcmp(out->player, player) != 0 ? PB_ERR_PAYMENT_NOT_FOUND : e;
}

pb_err pb_cashier_payment_get(pb_store_conn *c, const pb_brand_scope *scope, const char *id,
                              pb_store_payment *out)
{
    if (!id || strlen(id) > PB_ID_STR_LEN)
        return PB_ERR_PAYMENT_NOT_FOUND;
    pb_err e = store_read(pb_store_payment_get(c, id, out), PB_ERR_PAYMENT_NOT_FOUND);
    return e == PB_OK && !pb_brand_scope_allows(scope, out->brand_id) ? PB_ERR_PAYMENT_NOT_FOUND
                                                                      : e;
}

pb_err pb_cashier_payment_list(pb_store_conn *c, const pb_store_payment_query *q,
                               pb_store_payment *out, size_t *n)
{
    return store_read(pb_store_payment_list(c, q, out, n), PB_ERR_STORE_UNAVAILABLE);
}

/* ---- webhooks ---- */

typedef struct event_ctx {
    const char *psp;
    const pb_psp_event *ev;
    uint8_t hash[32];
    int64_t cash, clearing; /* deposit events: the accounts */
    int64_t unclaimed;      /* the brand's unclaimed funds, when the player was closed (0: not) */
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

/* Whether the payment's player is closed (erased), as the batch sees it. */
static pb_err payer_closed(pb_store_conn *c, const pb_store_payment *p, bool *closed)
{
    pb_player_status st = PB_PLAYER_ACTIVE;
    pb_err e = pb_identity_player_status(c, p->player, &st);
    if (e != PB_OK && e != PB_ERR_PLAYER_NOT_FOUND)
        return PB_ERR_INTERNAL;
    *closed = e == PB_OK && st == PB_PLAYER_CLOSED;
    return PB_OK;
}

/* A late deposit's money for a closed (erased) player, credited to the brand's
 * unclaimed funds: the audit entry and the event "funds.unclaimed" (kind
 * "deposit"), as the wallet records a closed player's win (wallet.h). */
static pb_err deposit_unclaimed_record(pb_ledger_tx *tx, const pb_store_payment *p,
                                       const event_ctx *x, const pb_cashier_actor *a)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    char tid[PB_ID_STR_LEN + 1];
    pb_id_to_string(&p->transfer_id, tid);
    json_t *after = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:s}", "kind", "deposit",
                              "payment_id", p->id, "psp", p->psp, "player", p->player, "amount",
                              (json_int_t)p->amount, "currency", p->currency, "account",
                              PB_WALLET_KIND_UNCLAIMED, "account_id", (json_int_t)x->unclaimed,
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
                       PB_EV_INT("account_id", x->unclaimed)) != PB_OK)
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
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    bool ok = x->ev->type == PB_PSP_DEPOSIT_SUCCEEDED;
    if (strcmp(p->status, "completed") == 0 || (!ok && strcmp(p->status, "failed") == 0)) {
        x->outcome = "ignored"; /* too late or already so: recorded, nothing changes */
        return PB_OK;
    }
    if (mismatched(x->ev, p->amount, p->currency)) {
        x->outcome = "mismatch";
        return pb_cashier_audit(
            tx, a, p->brand, "payment.mismatch", "payment", p->id, payment_json(p),
            json_pack("{s:s,s:s,s:I,s:s}", "event_id", x->ev->event_id, "type", x->ev->type_name,
                      "amount", (json_int_t)x->ev->amount, "currency", x->ev->currency),
            "the PSP's event names another amount or currency: nothing credited");
    }
    json_t *before = payment_json(p);
    const char *why = strcmp(p->status, "failed") == 0
                          ? "deposit.succeeded after deposit.failed: the PSP holds the money"
                          : NULL;
    if (ok && !why && pb_ledger_tx_now(tx) >= deposit_expires_at(c, p))
        why = "late completion: deposit.succeeded after the deposit intent expired; the PSP "
              "captured the money, credited";
    /* a closed (erased) player's money goes to the brand's unclaimed funds, never to
     * the closed account (the erasure does not wait for an expired or failed intent) */
    bool closed = false;
    if (ok && payer_closed(c, p, &closed) != PB_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    if (closed && x->unclaimed == 0) { /* erased since the look-up: the retry finds it */
        json_decref(before);
        x->result = PB_ERR_PAYMENT_NOT_FOUND;
        return PB_OK;
    }
    if (ok) {
        pb_transfer t = {0};
        snprintf(t.scope, sizeof t.scope, PB_CASHIER_SCOPE_DEPOSIT);
        snprintf(t.key, sizeof t.key, "%s", p->id);
        t.debit_account_id = x->clearing;
        t.credit_account_id = closed ? x->unclaimed : x->cash;
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
    if (pb_store_payment_update(c, p) != PB_STORE_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    x->outcome = "applied";
    /* @events: in the command's transaction, so it commits with the deposit */
    if (pb_events_emit(c, ok ? "deposit.completed" : "deposit.failed", p->brand, p->player,
                       a->trace_id, p->updated_at, PB_EV_STR("payment_id", p->id),
                       PB_EV_STR("psp", p->psp),
                       PB_EV_MONEY("amount", p->amount, p->currency)) != PB_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    pb_err e = pb_cashier_audit(tx, a, p->brand, ok ? "payment.completed" : "payment.failed",
                                "payment", p->id, before, payment_json(p), why);
    return e == PB_OK && closed ? deposit_unclaimed_record(tx, p, x, a) : e;
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
        e = pb_cashier_payout_event(tx, x->ev, &w, &a, &x->outcome, &x->result);
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
            return store_read(rc, PB_ERR_PAYMENT_NOT_FOUND);
        /* an unknown reference is answered in the command (404), after the event
         * id's check: a recorded id reused with an unknown reference is a conflict */
        pb_wallet_accounts acc;
        if (rc == PB_STORE_OK &&
            ((e = pb_wallet_player_accounts(k->wallet, c, p.brand, p.player, p.currency, &acc)) !=
                 PB_OK ||
             (e = pb_cashier_clearing(k, c, p.brand, psp->code, p.currency, &x.clearing)) != PB_OK))
            return e;
        x.cash = rc == PB_STORE_OK ? acc.cash : 0;
        bool closed = false;
        if (rc == PB_STORE_OK && payer_closed(c, &p, &closed) != PB_OK)
            return PB_ERR_STORE_UNAVAILABLE;
        if (closed && (e = pb_wallet_system_account(k->wallet, c, p.brand, PB_WALLET_OWNER_HOUSE,
                                                    PB_WALLET_KIND_UNCLAIMED, p.currency,
                                                    &x.unclaimed)) != PB_OK)
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
