/*
 * provider_hub88.c — the Hub88-compatible operator wallet over HTTP: the
 * callback base URL an operator gives Hub88 is
 * https://<host>/v1/providers/<code>/hub88, where <code> is a catalog provider
 * whose protocol is "hub88".
 *
 *   POST /v1/providers/{provider}/hub88/user/info             public (RSA-signed)
 *   POST /v1/providers/{provider}/hub88/user/balance          public (RSA-signed)
 *   POST /v1/providers/{provider}/hub88/transaction/bet       public (RSA-signed)
 *   POST /v1/providers/{provider}/hub88/transaction/win       public (RSA-signed)
 *   POST /v1/providers/{provider}/hub88/transaction/rollback  public (RSA-signed)
 *
 * One flow for every call: the provider (and its parsed RSA key) from a small
 * in-memory cache with a short TTL → X-Hub88-Signature over the raw body →
 * strict parsing (hub88.c) → the launch token (catalog; for a win or a
 * rollback whose launch was pruned, the bet's player as the wallet knows it,
 * who must be the request's user, with the token recorded with the bet) → the call:
 *   info     the player (identity): country, brand code;
 *   balance  the player's balances (wallet), token must be live;
 *   bet      provider active (the wallet's provider gate), token live,
 *            currency = the launch's, game playable for the brand with the
 *            amount within its limits (catalog) and the launched one (a live
 *            lobby's tables excepted: same_game), then the wallet;
 *   win      currency = the launch's, the game known, then the wallet (which
 *            refuses a game_code other than the bet's: GAME_MISMATCH);
 *   rollback the wallet (never refused for an expired token or a game).
 * Money calls are submitted to the wallet core (pb_wallet_game_submit_async)
 * and answered from its done callback, durable first; the worker does not wait.
 *
 * Answers are HTTP 200 with a Hub88 status in the body (see hub88.c for the
 * mapping and the decisions taken where the public reference is silent). A
 * provider code that is not a Hub88 provider is 404 PROVIDER_NOT_FOUND in the
 * pitboss envelope: that URL is no Hub88 endpoint, and the call is retried by
 * Hub88 until the operator fixes the configuration. The in-house games'
 * provider (PB_PLAY_PROVIDER) gets that answer too, whatever its protocol.
 *
 * The request context lives in pb_http_alloc() memory; the parsed document is
 * freed, and the wallet op released, right before the one reply.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "catalog/catalog.h"
#include "core/log.h"
#include "core/str.h"
#include "core/time.h"
#include "games/play.h"
#include "provider/hub88.h"
#include "tenancy/tenancy.h"
#include "wallet/wallet.h"

#define CACHE_SLOTS 32

/* ---- the provider cache ------------------------------------------------- */

typedef struct cached_provider {
    char code[PB_PROVIDER_CODE_MAX + 1];
    bool hub88;        /* found, protocol "hub88" */
    pb_hub88_key *key; /* NULL when the stored PEM is not a usable key */
    char status[16];   /* the catalog's: what pb_wallet_provider_gate lets through */
    int64_t loaded_us; /* monotonic; 0 = empty slot */
    uint64_t gen;      /* pb_catalog_provider_cache_guard's when it was read */
} cached_provider;

struct pb_api_hub88 {
    pthread_mutex_t mu;
    cached_provider slot[CACHE_SLOTS];
};

int pb_api_hub88_open(pb_api_app *app, char *err, size_t errcap)
{
    pb_api_hub88 *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    pthread_mutex_init(&h->mu, NULL);
    app->hub88 = h;
    return 0;
}

void pb_api_hub88_close(pb_api_app *app)
{
    pb_api_hub88 *h = app->hub88;
    if (!h)
        return;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        pb_hub88_key_unref(h->slot[i].key);
    pthread_mutex_destroy(&h->mu);
    free(h);
    app->hub88 = NULL;
}

/* What a request needs to know about its provider. */
typedef struct provider_view {
    bool hub88;
    pb_hub88_key *key; /* a reference of the caller's (unref when done) */
    char status[16];   /* the catalog's */
} provider_view;

/* Reads the provider from the catalog into a slot (the lock is not held). */
static pb_err load_provider(pb_store_conn *c, const char *code, cached_provider *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->code, sizeof out->code, "%s", code);
    pb_provider *p = malloc(sizeof *p);
    if (!p)
        return PB_ERR_INTERNAL;
    pb_err e = pb_catalog_provider_get(c, code, p);
    if (e == PB_OK && strcmp(p->protocol, "hub88") == 0) {
        out->hub88 = true;
        PB_STRCPY(out->status, p->status);
        pb_err ke = pb_hub88_key_load(p->public_key_pem, strlen(p->public_key_pem), &out->key);
        if (ke != PB_OK)
            pb_log(PB_LOG_WARN, "hub88.key", "provider %s: its public key is not a usable RSA key",
                   code);
        if (ke == PB_ERR_INTERNAL)
            e = ke;
    } else if (e == PB_ERR_PROVIDER_NOT_FOUND) {
        e = PB_OK; /* remembered as "not a Hub88 provider" */
    }
    free(p);
    out->loaded_us = pb_time_mono_us();
    return e;
}

/* The provider, from the cache when fresh (pb_catalog_provider_cache_guard: a
 * change through this process is seen at once, another process's within 1 s).
 * PB_OK, STORE_UNAVAILABLE or INTERNAL. */
static pb_err provider_find(pb_api_app *a, pb_http_request *req, const char *code,
                            provider_view *out)
{
    memset(out, 0, sizeof *out);
    pb_api_hub88 *h = a->hub88;
    pb_cache_guard *g = pb_catalog_provider_cache_guard();
    int64_t now = pb_time_mono_us();
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        cached_provider *s = &h->slot[i];
        if (s->loaded_us && strcmp(s->code, code) == 0 &&
            pb_cache_guard_fresh(g, s->gen, s->loaded_us, now)) {
            out->hub88 = s->hub88;
            out->key = pb_hub88_key_ref(s->key);
            PB_STRCPY(out->status, s->status);
            pthread_mutex_unlock(&h->mu);
            return PB_OK;
        }
    }
    pthread_mutex_unlock(&h->mu);

    pb_store_conn *c = pb_http_conn(req);
    if (!c)
        return PB_ERR_STORE_UNAVAILABLE;
    uint64_t gen = 0;
    bool keep = pb_cache_guard_snapshot(g, &gen); /* before the read */
    cached_provider fresh;
    pb_err e = load_provider(c, code, &fresh);
    if (e != PB_OK)
        return e;
    fresh.gen = gen;
    out->hub88 = fresh.hub88;
    out->key = pb_hub88_key_ref(fresh.key);
    PB_STRCPY(out->status, fresh.status);
    if (!keep) { /* a provider write too recent: what was read may be the old row */
        pb_hub88_key_unref(fresh.key);
        return PB_OK;
    }

    /* keep it: the same code's slot, else an empty or the oldest one */
    pthread_mutex_lock(&h->mu);
    cached_provider *victim = &h->slot[0];
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        cached_provider *s = &h->slot[i];
        if (s->loaded_us && strcmp(s->code, code) == 0) {
            victim = s;
            break;
        }
        if (s->loaded_us < victim->loaded_us)
            victim = s;
    }
    pb_hub88_key *old = victim->key;
    *victim = fresh;
    pthread_mutex_unlock(&h->mu);
    pb_hub88_key_unref(old);
    return PB_OK;
}

/* ---- replies ------------------------------------------------------------ */

/* Sends a rendered response (and frees it); 500 INTERNAL when rendering failed. */
static void send(pb_http_request *req, int rc, pb_wallet_response *r)
{
    if (rc != 0 || !r->body) {
        free(r->body);
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_text(req, r->status, "application/json", r->body, r->body_len);
    free(r->body);
}

/* Renders {"user"?,"status","request_uuid"?} for a refusal without a balance:
 * HTTP 200, but 500 / 503 when nothing could be decided. */
static int render_refusal(pb_err e, const char *user, const char *request_uuid,
                          pb_wallet_response *out)
{
    int status = !pb_err_transient(e) ? 200 : e == PB_ERR_STORE_UNAVAILABLE ? 503 : 500;
    return pb_hub88_render_status(status, pb_hub88_status_for(e), user, request_uuid, NULL, 0, out);
}

/* Replies with a refusal. */
static void reply_status(pb_http_request *req, pb_err e, const char *user, const char *request_uuid)
{
    pb_wallet_response r = {0};
    send(req, render_refusal(e, user, request_uuid, &r), &r);
}

/* ---- money calls: the wallet answers later ------------------------------ */

typedef struct money_call {
    pb_http_request *req;
    pb_hub88_call call;
    char request_uuid[PB_HUB88_REQUEST_UUID_MAX + 1];
    pb_hub88_request r; /* parsed on the worker and freed there once op holds it */
    pb_wallet_op op;
    atomic_int state; /* 0: submitting; 1: the handler has suspended; 2: the wallet is done */
} money_call;

/* Renders the answer, frees what the call holds, replies. */
static void money_reply(money_call *m)
{
    pb_wallet_response out;
    int rc = pb_hub88_answer(&m->op, m->request_uuid, &out);
    if (m->op.result == PB_ERR_INTERNAL)
        pb_log(PB_LOG_ERROR, "hub88.wallet", "%s %s failed (trace %s)", pb_hub88_call_path(m->call),
               m->op.tx_id, pb_http_trace_id(m->req));
    pb_http_request *req = m->req;
    pb_wallet_op_release(&m->op);
    pb_hub88_request_free(&m->r);
    send(req, rc, &out); /* m lives in the request's memory: not touched after this */
}

/* money_reply on the connection's worker (pb_http_reply_later). */
static void money_reply_later(void *ctx) { money_reply(ctx); }

/* The wallet's done callback: whoever comes second (this or the handler) replies.
 * On a ledger thread, which also syncs the disk: the answer is rendered and signed
 * by the connection's worker. */
static void money_done(void *ctx, pb_wallet_op *op)
{
    (void)op;
    money_call *m = ctx;
    if (atomic_exchange(&m->state, 2) == 1)
        pb_http_reply_later(m->req, money_reply_later, m);
}

/* Submits m->op; the reply comes from money_done or right here. */
static void money_submit(pb_api_app *a, money_call *m)
{
    pb_http_request *req = m->req;
    pb_store_conn *c = pb_http_conn(req);
    if (!c) {
        m->op.result = PB_ERR_STORE_UNAVAILABLE;
        money_reply(m);
        return;
    }
    if (pb_wallet_game_submit_async(a->wallet, c, &m->op, money_done, m) != PB_OK) {
        m->op.result = PB_ERR_INTERNAL; /* done will not be called */
        money_reply(m);
        return;
    }
    /* the synchronous part (player gate, accounts) is over: give the connection
     * back and let the worker go; the wallet may already be done */
    pb_http_suspend(req);
    if (atomic_exchange(&m->state, 1) == 2)
        money_reply(m);
}

/* ---- the handler -------------------------------------------------------- */

/* A win or rollback whose token the catalog no longer knows (launches are
 * pruned 30 days after they expire): the player of the bet it names, or of the
 * operation itself when it is stored (its retry), as the wallet knows them,
 * when that is the request's user and the token is the one the wallet
 * recorded with the bet (or with the operation's earlier attempt;
 * pb_wallet_owner_get). TOKEN_INVALID otherwise (the token alone says nothing
 * then; a token of another user gets it too while its launch is there),
 * STORE_UNAVAILABLE / INTERNAL. */
static pb_err launch_from_bet(pb_store_conn *c, const char *provider, const pb_hub88_request *r,
                              pb_launch *l)
{
    pb_wallet_owner o;
    pb_err e = pb_wallet_owner_get(c, provider, r->transaction_uuid, r->reference_transaction_uuid,
                                   r->token, &o);
    if (e != PB_OK)
        return e == PB_ERR_BET_NOT_FOUND ? PB_ERR_TOKEN_INVALID : e;
    memset(l, 0, sizeof *l);
    PB_STRCPY(l->provider_code, provider);
    PB_STRCPY(l->game_code, o.game);
    PB_STRCPY(l->brand_code, o.brand);
    PB_STRCPY(l->player_public_id, o.player);
    PB_STRCPY(l->currency, o.currency);
    return PB_OK; /* expires_at 0: long expired (wins and rollbacks do not ask); check_launch
                     compares the user */
}

/* Refuses a launch that does not belong to the request's user or has expired. */
static pb_err check_launch(const pb_hub88_request *r, const pb_launch *l)
{
    if (strcmp(r->user, l->player_public_id) != 0)
        return PB_ERR_TOKEN_INVALID; /* a token of another user */
    if (pb_hub88_call_needs_live_token(r->call) && l->expires_at <= pb_time_now_us())
        return PB_ERR_TOKEN_EXPIRED;
    return PB_OK;
}

/* user/info: the player and their brand. Renders into out. */
static int user_info(pb_http_request *req, const pb_hub88_request *r, pb_wallet_response *out)
{
    pb_store_conn *c = pb_http_conn(req);
    pb_player *p = pb_http_alloc(req, sizeof *p);
    pb_brand *b = pb_http_alloc(req, sizeof *b);
    pb_err e = !c         ? PB_ERR_STORE_UNAVAILABLE
               : !p || !b ? PB_ERR_INTERNAL
                          : pb_identity_player_get(c, NULL, r->user, p);
    if (e == PB_OK)
        e = pb_tenancy_brand_get(c, p->brand_id, b);
    if (e != PB_OK)
        return render_refusal(e, e == PB_ERR_PLAYER_NOT_FOUND ? NULL : r->user, r->request_uuid,
                              out);
    return pb_hub88_render_info(r->user, r->request_uuid, p->country, b->code, out);
}

/* user/balance: what the player can stake. Renders into out. */
static int user_balance(pb_http_request *req, const pb_hub88_request *r, const pb_launch *l,
                        pb_wallet_response *out)
{
    pb_store_conn *c = pb_http_conn(req);
    pb_wallet_balance bal;
    pb_err e = c ? pb_wallet_balance_get(c, l->brand_code, l->player_public_id, l->currency, &bal)
                 : PB_ERR_STORE_UNAVAILABLE;
    const pb_currency *cur = pb_currency_find(l->currency);
    if (e == PB_OK && !cur)
        e = PB_ERR_INTERNAL;
    if (e != PB_OK)
        return render_refusal(e, r->user, r->request_uuid, out);
    return pb_hub88_render_status(200, PB_HUB88_RS_OK, r->user, r->request_uuid, cur,
                                  pb_hub88_balance(bal.cash, bal.held, bal.bonus, cur), out);
}

/* Whether a bet's game (bet, playable on the brand) may be played on a launch of
 * the game `launched`: the token was issued for one game, so a bet names that
 * one (GAME_MISMATCH, RS_ERROR_INVALID_GAME, as the native protocol's bets),
 * except in a live lobby: Hub88 documents that with a supplier of live
 * dealers "user can switch games within one game session" and game_code then
 * names the table played, so on a launch of a game of category "live", a bet
 * on another live game of the same provider is taken (it passed the same
 * playable check for the brand and its limits). scratch receives the launched
 * game. */
static pb_err same_game(pb_store_conn *c, const char *provider, const char *launched,
                        const pb_game *bet, pb_game *scratch)
{
    if (strcmp(bet->code, launched) == 0)
        return PB_OK;
    if (strcmp(bet->category, "live") != 0)
        return PB_ERR_GAME_MISMATCH;
    pb_err e = pb_catalog_game_get(c, provider, launched, scratch);
    if (e == PB_ERR_GAME_NOT_FOUND)
        return PB_ERR_GAME_MISMATCH;
    if (e != PB_OK)
        return e;
    return strcmp(scratch->category, "live") == 0 ? PB_OK : PB_ERR_GAME_MISMATCH;
}

/* The catalog's checks of a bet or a win before the wallet sees it. */
static pb_err money_checks(pb_store_conn *c, const char *provider, const pb_hub88_request *r,
                           const pb_launch *l)
{
    if (r->call == PB_HUB88_ROLLBACK)
        return PB_OK; /* a rollback must always be able to give the money back */
    if (strcmp(r->currency, l->currency) != 0)
        return PB_ERR_CURRENCY_MISMATCH;
    if (r->call == PB_HUB88_WIN) {
        /* the game exists; whether it is still offered does not matter to a win */
        pb_game *g = malloc(sizeof *g);
        if (!g)
            return PB_ERR_INTERNAL;
        pb_err e = pb_catalog_game_get(c, provider, r->game_code, g);
        free(g);
        /* a supplier's promotional win pays what no stake funded: not supported */
        return e == PB_OK && r->is_supplier_promo ? PB_ERR_FORBIDDEN : e;
    }
    /* free bets (Hub88 rewards; a supplier's promotion is one) are not supported:
     * RS_ERROR_UNKNOWN */
    if (r->is_free || r->is_supplier_promo)
        return PB_ERR_FORBIDDEN;
    pb_game *g = malloc(2 * sizeof *g);
    if (!g)
        return PB_ERR_INTERNAL;
    pb_err e = pb_catalog_game_playable(c, provider, r->game_code, l->brand_code, l->currency,
                                        r->amount_minor, &g[0]);
    if (e == PB_OK)
        e = same_game(c, provider, l->game_code, &g[0], &g[1]);
    free(g);
    return e;
}

/* The wallet operation a call drives, 0 for user/info and user/balance (the
 * provider gate's kinds). */
static int op_kind_of(pb_hub88_call call)
{
    switch (call) {
    case PB_HUB88_BET: return PB_WALLET_BET;
    case PB_HUB88_WIN: return PB_WALLET_WIN;
    case PB_HUB88_ROLLBACK: return PB_WALLET_ROLLBACK;
    default: return 0;
    }
}

static void handle(pb_http_request *req, void *app, pb_hub88_call call)
{
    pb_api_app *a = app;
    const char *code = pb_http_param(req, "provider");
    size_t len;
    const char *body = pb_http_body(req, &len);
    char request_uuid[PB_HUB88_REQUEST_UUID_MAX + 1];

    /* zeroed: a code longer than any provider's skips provider_find, and the
     * refusal below still releases pv.key (NULL: nothing) */
    provider_view pv = {0};
    /* the in-house games' provider is never one over HTTP (provider_native.c):
     * not looked up, so it gets the unknown provider's answer below */
    bool lookup = code && strlen(code) <= PB_PROVIDER_CODE_MAX && !pb_play_provider_is_house(code);
    pb_err e = lookup ? provider_find(a, req, code, &pv) : PB_OK;
    if (e != PB_OK) {
        pb_hub88_peek_request_uuid(body, len, request_uuid);
        reply_status(req, e, NULL, request_uuid);
        return;
    }
    if (!lookup || !pv.hub88) {
        pb_hub88_key_unref(pv.key);
        pb_http_reply_error(req, PB_ERR_PROVIDER_NOT_FOUND, NULL);
        return;
    }
    e = pb_hub88_verify(pv.key, pb_http_header(req, PB_HUB88_HEADER_SIGNATURE), body, len);
    pb_hub88_key_unref(pv.key);
    /* the provider's status (the wallet's provider gate, as for the native protocol):
     * info and balance refused, a bet refused and stored, wins and rollbacks settle */
    pb_err gate = pb_wallet_provider_gate(pv.status, op_kind_of(call));
    if (e != PB_OK) {
        pb_hub88_peek_request_uuid(body, len, request_uuid);
        reply_status(req, e, NULL, request_uuid);
        return;
    }

    money_call *m = pb_http_alloc(req, sizeof *m);
    if (!m) {
        pb_hub88_peek_request_uuid(body, len, request_uuid);
        reply_status(req, PB_ERR_INTERNAL, NULL, request_uuid);
        return;
    }
    m->req = req;
    pb_json_error jerr;
    const char *ct = pb_http_header(req, "Content-Type");
    if ((e = pb_hub88_parse(call, body, len, ct ? ct : "", &m->r, &jerr)) != PB_OK) {
        pb_hub88_peek_request_uuid(body, len, request_uuid);
        reply_status(req, e, NULL, request_uuid);
        return;
    }
    pb_hub88_request *r = &m->r;
    snprintf(request_uuid, sizeof request_uuid, "%s", r->request_uuid);
    pb_wallet_response out = {0};
    int rc;
    if (call == PB_HUB88_USER_INFO) {
        rc = gate != PB_OK ? render_refusal(gate, r->user, request_uuid, &out)
                           : user_info(req, r, &out);
        pb_hub88_request_free(r); /* before the reply: r lives in the request's memory */
        send(req, rc, &out);
        return;
    }

    pb_store_conn *c = pb_http_conn(req);
    pb_launch *l = pb_http_alloc(req, sizeof *l);
    e = !c   ? PB_ERR_STORE_UNAVAILABLE
        : !l ? PB_ERR_INTERNAL
             : pb_catalog_launch_resolve_cached(c, code, r->token, l);
    if (e == PB_ERR_TOKEN_INVALID && (call == PB_HUB88_WIN || call == PB_HUB88_ROLLBACK))
        e = launch_from_bet(c, code, r, l);
    if (e == PB_OK)
        e = check_launch(r, l);
    if (e == PB_OK && call == PB_HUB88_USER_BALANCE) {
        rc = gate != PB_OK ? render_refusal(gate, r->user, request_uuid, &out)
                           : user_balance(req, r, l, &out);
        pb_hub88_request_free(r);
        send(req, rc, &out);
        return;
    }
    /* The launch is this user's: refusals from here on (an expired token, the
     * currency, the game, its limits) travel with the operation and apply after
     * the wallet's duplicate check, so a retry of an accepted call still gets
     * its stored answer. */
    pb_err deferred = PB_OK;
    if (e == PB_ERR_TOKEN_EXPIRED && call != PB_HUB88_USER_BALANCE) {
        deferred = e;
        e = PB_OK;
    }
    /* the token has shown the user is who they say */
    bool user_known = e != PB_ERR_TOKEN_INVALID && e != PB_ERR_STORE_UNAVAILABLE &&
                      e != PB_ERR_INTERNAL;
    if (gate != PB_OK && (e == PB_OK || e == PB_ERR_TOKEN_INVALID)) {
        if (e == PB_OK)
            deferred = gate; /* the provider's status first */
        else
            e = gate; /* no player to store it for */
    }
    if (e == PB_OK && deferred == PB_OK) {
        pb_err mc = money_checks(c, code, r, l);
        if (pb_err_transient(mc))
            e = mc;
        else
            deferred = mc;
    }
    if (e == PB_OK) {
        pb_hub88_player who = {.brand = l->brand_code,
                               .player = l->player_public_id,
                               .currency = l->currency};
        e = pb_hub88_to_op(r, code, &who, pb_http_trace_id(req), &m->op);
        m->op.refusal = deferred;
    }
    if (e != PB_OK) {
        /* the user is echoed only once the token has shown it is who they say */
        bool known = user_known && !pb_err_transient(e);
        rc = render_refusal(e, known ? r->user : NULL, request_uuid, &out);
        pb_hub88_request_free(r);
        send(req, rc, &out);
        return;
    }
    /* the operation holds copies of what it needs: the document goes back to this
     * thread's allocator now, not to the one that answers (as the native adapter) */
    m->call = call;
    snprintf(m->request_uuid, sizeof m->request_uuid, "%s", r->request_uuid);
    m->op.render_ctx = m->request_uuid; /* the renderer's request_uuid, in r until now */
    pb_hub88_request_free(r);
    money_submit(a, m);
}

void pb_api_hub88_user_info(pb_http_request *req, void *app)
{
    handle(req, app, PB_HUB88_USER_INFO);
}

void pb_api_hub88_user_balance(pb_http_request *req, void *app)
{
    handle(req, app, PB_HUB88_USER_BALANCE);
}

void pb_api_hub88_bet(pb_http_request *req, void *app) { handle(req, app, PB_HUB88_BET); }

void pb_api_hub88_win(pb_http_request *req, void *app) { handle(req, app, PB_HUB88_WIN); }

void pb_api_hub88_rollback(pb_http_request *req, void *app) { handle(req, app, PB_HUB88_ROLLBACK); }
