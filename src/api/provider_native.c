/*
 * provider_native.c — the pitboss native seamless wallet protocol over HTTP
 * (the wire contract: src/provider/native.h):
 *
 *   POST /v1/providers/{provider}/session        public (HMAC-signed)
 *   POST /v1/providers/{provider}/balance        public (HMAC-signed)
 *   POST /v1/providers/{provider}/bet            public (HMAC-signed)
 *   POST /v1/providers/{provider}/win            public (HMAC-signed)
 *   POST /v1/providers/{provider}/rollback       public (HMAC-signed)
 *   POST /v1/providers/{provider}/round/close    public (HMAC-signed)
 *
 * One flow for every call: the provider (its secret, window and status) from a
 * small in-memory cache with a short TTL → the timestamp and HMAC over the raw
 * body, before anything of the body is read → strict parsing (native.c) → the
 * launch token (catalog; live for session, balance and bet; for a win or a
 * rollback whose launch was pruned, the bet's player as the wallet knows it,
 * when the token is the one the wallet recorded with the bet;
 * for a round close, the round's player when the token is one recorded with
 * its bets: launch_from_round) →
 * currency = the launch's → for a bet, the game playable on the brand with the
 * amount within its limits (catalog) and the launched one (GAME_MISMATCH) →
 * the wallet core (pb_wallet_game_submit_async), which
 * answers from its done callback once the operation is durable. Every answer
 * of a known provider carries X-Pitboss-Signature over its body; a duplicate
 * gets the stored body, hence the same signature.
 *
 * The in-house games' provider (PB_PLAY_PROVIDER, "pitboss": a native provider
 * of the catalog) is refused outright, as an unknown provider is, before its
 * secret or anything of the body is looked at: its rounds' wallet operations
 * come from the games in this process only, never over HTTP.
 *
 * A disabled provider is refused sessions, balances and bets; its wins,
 * rollbacks and round closes are still taken: that money is owed. The rule is
 * the wallet's provider gate (pb_wallet_provider_gate), the Hub88 adapter's too;
 * a refused bet of a known player is stored like the other final refusals.
 *
 * Launches come from the catalog's launch cache (pb_catalog_launch_resolve_cached:
 * kept 1 s; a live call checks the expiry on each call, cached or not).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "catalog/catalog.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/str.h"
#include "core/time.h"
#include "games/play.h"
#include "provider/native.h"
#include "wallet/wallet.h"

#define CACHE_SLOTS 32

/* ---- the provider cache ------------------------------------------------- */

typedef struct native_provider {
    char code[PB_PROVIDER_CODE_MAX + 1];
    bool native;     /* found, protocol "native" */
    char status[16]; /* the catalog's: what pb_wallet_provider_gate lets through */
    uint8_t secret[PB_PROVIDER_SECRET_MAX];
    size_t secret_len;
    int32_t window_s;
    int64_t loaded_us; /* monotonic; 0 = empty slot */
    uint64_t gen;      /* pb_catalog_provider_cache_guard's when it was read */
} native_provider;

struct pb_api_native {
    pthread_mutex_t mu;
    native_provider slot[CACHE_SLOTS];
};

int pb_api_native_open(pb_api_app *app, char *err, size_t errcap)
{
    pb_api_native *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    pthread_mutex_init(&n->mu, NULL);
    app->native = n;
    return 0;
}

void pb_api_native_close(pb_api_app *app)
{
    pb_api_native *n = app->native;
    if (!n)
        return;
    pthread_mutex_destroy(&n->mu);
    sodium_memzero(n->slot, sizeof n->slot);
    free(n);
    app->native = NULL;
}

/* The provider, from the cache when fresh (pb_catalog_provider_cache_guard: a
 * change through this process is seen at once, another process's within 1 s).
 * PB_OK, STORE_UNAVAILABLE or INTERNAL; out->native false when there is no native
 * provider of that code. */
static pb_err provider_find(pb_api_app *a, pb_http_request *req, const char *code,
                            native_provider *out)
{
    pb_api_native *n = a->native;
    pb_cache_guard *g = pb_catalog_provider_cache_guard();
    int64_t now = pb_time_mono_us();
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        native_provider *s = &n->slot[i];
        if (s->loaded_us && strcmp(s->code, code) == 0 &&
            pb_cache_guard_fresh(g, s->gen, s->loaded_us, now)) {
            *out = *s;
            pthread_mutex_unlock(&n->mu);
            return PB_OK;
        }
    }
    pthread_mutex_unlock(&n->mu);
    uint64_t gen = 0;
    bool keep = pb_cache_guard_snapshot(g, &gen); /* before the read */

    pb_store_conn *c = pb_http_conn(req);
    if (!c)
        return PB_ERR_STORE_UNAVAILABLE;
    pb_provider *p = malloc(sizeof *p);
    if (!p)
        return PB_ERR_INTERNAL;
    memset(out, 0, sizeof *out);
    snprintf(out->code, sizeof out->code, "%s", code);
    pb_err e = pb_catalog_provider_get(c, code, p);
    if (e == PB_OK && strcmp(p->protocol, "native") == 0) {
        out->native = true;
        PB_STRCPY(out->status, p->status);
        memcpy(out->secret, p->secret, p->secret_len);
        out->secret_len = p->secret_len;
        out->window_s = p->timestamp_window_s;
        if (p->secret_unavailable) /* no key: every signature is refused */
            pb_catalog_secret_log_unavailable(p->code);
    } else if (e == PB_ERR_PROVIDER_NOT_FOUND) {
        e = PB_OK; /* remembered as "not a native provider" */
    }
    sodium_memzero(p, sizeof *p);
    free(p);
    if (e != PB_OK)
        return e;
    out->loaded_us = pb_time_mono_us();
    out->gen = gen;
    if (!keep) /* a provider write too recent: what was read may be the old row */
        return PB_OK;
    pthread_mutex_lock(&n->mu);
    native_provider *victim = &n->slot[0];
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        native_provider *s = &n->slot[i];
        if (s->loaded_us && strcmp(s->code, code) == 0) {
            victim = s;
            break;
        }
        if (s->loaded_us < victim->loaded_us)
            victim = s;
    }
    *victim = *out;
    pthread_mutex_unlock(&n->mu);
    return PB_OK;
}

/* ---- replies ------------------------------------------------------------ */

/* Sends a rendered body signed with the provider's secret (and frees it). */
static void send_signed(pb_http_request *req, const native_provider *p, int rc,
                        pb_wallet_response *r)
{
    if (rc != 0 || !r->body) {
        free(r->body);
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    char sig[PB_NATIVE_SIGNATURE_BUF];
    pb_native_sign(p->secret, p->secret_len, NULL, r->body, r->body_len, sig);
    pb_http_add_header(req, PB_NATIVE_HEADER_SIGNATURE, sig);
    pb_http_reply_text(req, r->status, "application/json", r->body, r->body_len);
    free(r->body);
}

/* An error envelope, with the player's balance when bal is not NULL. */
static void reply_error(pb_http_request *req, const native_provider *p, pb_err e, const char *field,
                        const char *message, const pb_native_balance *bal)
{
    pb_wallet_response out = {0};
    int rc = pb_native_render_error(e, field, message, pb_http_trace_id(req), bal, &out);
    /* a 401 (SIGNATURE_INVALID, TIMESTAMP_STALE, or the launch token's TOKEN_*)
     * carries the challenge of the scheme this protocol authenticates with */
    if (pb_err_http_status(e) == 401)
        pb_api_challenge(req, PB_ERR_SIGNATURE_INVALID);
    send_signed(req, p, rc, &out);
}

/* ---- money calls: the wallet answers later ------------------------------ */

typedef struct money_call {
    pb_http_request *req;
    native_provider provider;
    pb_native_call call;
    pb_native_request r; /* parsed on the worker and freed there once op holds it */
    pb_wallet_op op;
    atomic_int state; /* 0: submitting; 1: the handler has suspended; 2: the wallet is done */
} money_call;

/* The player's committed balances as the protocol shows them; false when they
 * cannot be read (then a refusal goes out without them). */
static bool balance_read(pb_store_conn *c, const char *brand, const char *player,
                         const char *currency, pb_wallet_balance *wb, pb_native_balance *out)
{
    if (!c || pb_wallet_balance_get(c, brand, player, currency, wb) != PB_OK)
        return false;
    *out = (pb_native_balance){
        .currency = currency, .cash = wb->cash, .bonus = wb->bonus, .held = wb->held};
    return true;
}

/* Sends the wallet's answer: the stored/rendered response, or a refusal the
 * wallet did not store, rendered here with the balances the writer read (in
 * the same batch) or, for a refusal before the writer (the player gate), read
 * on c (NULL: none to show). */
static void money_reply(money_call *m, pb_store_conn *c)
{
    pb_http_request *req = m->req;
    pb_wallet_response out = m->op.response;
    memset(&m->op.response, 0, sizeof m->op.response);
    int rc = 0;
    if (!out.status) {
        pb_err e = m->op.result;
        pb_native_balance bal = {.currency = m->op.currency,
                                 .cash = m->op.outcome.cash,
                                 .bonus = m->op.outcome.bonus,
                                 .held = m->op.outcome.held};
        pb_wallet_balance wb;
        bool have;
        if (pb_err_transient(e)) {
            pb_log(PB_LOG_ERROR, "native.wallet", "%s %s failed: %s (trace %s)",
                   pb_native_call_path(m->call), m->op.tx_id, pb_err_code(e),
                   pb_http_trace_id(req));
            have = false;
        } else if (m->op.outcome.created_at != 0) {
            have = true; /* decided in the writer's batch, balances read there */
        } else {
            have = balance_read(c, m->op.brand, m->op.player, m->op.currency, &wb, &bal);
        }
        rc = pb_native_render_error(e, NULL, NULL, pb_http_trace_id(req), have ? &bal : NULL, &out);
    }
    pb_wallet_op_release(&m->op);
    pb_native_request_free(&m->r);
    native_provider p = m->provider; /* m lives in the request's memory */
    send_signed(req, &p, rc, &out);
    sodium_memzero(&p, sizeof p);
}

/* money_reply on the connection's worker (pb_http_reply_later). */
static void money_reply_later(void *ctx) { money_reply(ctx, NULL); }

static void money_done(void *ctx, pb_wallet_op *op)
{
    (void)op;
    money_call *m = ctx;
    /* on a ledger thread, which also syncs the disk: the reply (the writer read the
     * balances) is rendered, signed and sent by the connection's worker */
    if (atomic_exchange(&m->state, 2) == 1)
        pb_http_reply_later(m->req, money_reply_later, m);
}

/* Submits m->op on c; the reply comes from money_done or from here. */
static void money_submit(pb_api_app *a, money_call *m, pb_store_conn *c)
{
    pb_http_request *req = m->req;
    if (pb_wallet_game_submit_async(a->wallet, c, &m->op, money_done, m) != PB_OK) {
        m->op.result = PB_ERR_INTERNAL; /* done will not be called */
        money_reply(m, NULL);
        return;
    }
    /* refused before the writer (done ran on this thread), or already durable */
    if (atomic_load(&m->state) == 2) {
        money_reply(m, c);
        return;
    }
    /* give the connection back and let the worker go; the wallet may be done by now */
    pb_http_suspend(req);
    if (atomic_exchange(&m->state, 1) == 2)
        money_reply(m, NULL);
}

/* ---- the handler -------------------------------------------------------- */

/* A win or rollback whose token the catalog no longer knows (launches are
 * pruned 30 days after they expire): the player is the one of the bet it names,
 * or of the operation itself when it is stored (its retry), as the wallet knows
 * them, when the token is the one recorded with the bet (or with the
 * operation's earlier attempt; pb_wallet_owner_get). TOKEN_INVALID when the
 * wallet knows neither (the token alone says nothing then); ROUND_MISMATCH
 * (with *message) when the token is not the recorded one: what a token of
 * another player gets while its launch is there (the wallet refuses a bet of
 * another player than the token's), as the player of a token no launch
 * names any more cannot be told; STORE_UNAVAILABLE / INTERNAL. */
static pb_err launch_from_bet(pb_store_conn *c, const char *provider, const pb_native_request *r,
                              pb_launch *l, const char **message)
{
    pb_wallet_owner o;
    pb_err e = pb_wallet_owner_get(c, provider, r->transaction_id, r->bet_transaction_id, r->token,
                                   &o);
    if (e == PB_ERR_TOKEN_INVALID) {
        *message = "launch token is unknown and is not the one the bet was placed with: "
                   "once a launch is pruned, its bets settle with their own token";
        return PB_ERR_ROUND_MISMATCH;
    }
    if (e != PB_OK)
        return e == PB_ERR_BET_NOT_FOUND ? PB_ERR_TOKEN_INVALID : e;
    memset(l, 0, sizeof *l);
    PB_STRCPY(l->provider_code, provider);
    PB_STRCPY(l->game_code, o.game);
    PB_STRCPY(l->brand_code, o.brand);
    PB_STRCPY(l->player_public_id, o.player);
    PB_STRCPY(l->currency, o.currency);
    return PB_OK; /* expires_at 0: long expired (wins and rollbacks do not ask) */
}

/* The wallet operation a call drives, 0 for session and balance (the provider gate's kinds). */
static int op_kind_of(pb_native_call call)
{
    switch (call) {
    case PB_NATIVE_BET: return PB_WALLET_BET;
    case PB_NATIVE_WIN: return PB_WALLET_WIN;
    case PB_NATIVE_ROLLBACK: return PB_WALLET_ROLLBACK;
    case PB_NATIVE_ROUND_CLOSE: return PB_WALLET_ROUND_CLOSE;
    default: return 0;
    }
}

/* A round close whose token the catalog no longer knows: it names no bet, so the
 * player is the one of the close itself when it is stored (its retry), else
 * the one player with accepted bets on that round id (the wallet's rows), when
 * the token is one recorded with that player's bets of the round (or with the
 * close's earlier attempt; pb_wallet_round_owner_get). TOKEN_INVALID when the
 * wallet knows neither, and also when several players have bets on that round
 * id (rounds are per player: a live table gives them all the same id, and
 * without the token nothing says whose round to close; *message says so);
 * ROUND_MISMATCH (with *message) when the token is not a recorded one: what a
 * win or rollback with such a token gets (launch_from_bet);
 * STORE_UNAVAILABLE / INTERNAL. */
static pb_err launch_from_round(pb_store_conn *c, const char *provider, const pb_native_request *r,
                                pb_launch *l, const char **message)
{
    pb_wallet_owner o;
    pb_err e = pb_wallet_round_owner_get(c, provider, r->transaction_id, r->round_id, r->token, &o);
    if (e == PB_ERR_TOKEN_INVALID) {
        *message = "launch token is unknown and is not one the round's bets were placed with: "
                   "once a launch is pruned, its rounds close with their own token";
        return PB_ERR_ROUND_MISMATCH;
    }
    if (e == PB_ERR_ROUND_MISMATCH)
        *message = "launch token is unknown, and several players have bets on this round "
                   "id: the token is needed to say whose round to close";
    if (e == PB_ERR_ROUND_NOT_FOUND || e == PB_ERR_ROUND_MISMATCH)
        return PB_ERR_TOKEN_INVALID;
    if (e != PB_OK)
        return e;
    memset(l, 0, sizeof *l);
    PB_STRCPY(l->provider_code, provider);
    PB_STRCPY(l->game_code, o.game);
    PB_STRCPY(l->brand_code, o.brand);
    PB_STRCPY(l->player_public_id, o.player);
    PB_STRCPY(l->currency, o.currency);
    return PB_OK; /* expires_at 0: long expired (a round close does not ask) */
}

static void handle(pb_http_request *req, void *app, pb_native_call call)
{
    pb_api_app *a = app;
    const char *code = pb_http_param(req, "provider");
    /* the in-house games' provider moves money from this process only: over
     * HTTP it is an unknown provider (the same answer, before its secret is
     * looked at), whoever holds its secret */
    if (!code || strlen(code) > PB_PROVIDER_CODE_MAX || pb_play_provider_is_house(code)) {
        pb_http_reply_error(req, PB_ERR_PROVIDER_NOT_FOUND, NULL);
        return;
    }
    money_call *m = pb_http_alloc(req, sizeof *m);
    pb_launch *l = pb_http_alloc(req, sizeof *l);
    if (!m || !l) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    m->req = req;
    native_provider *p = &m->provider;
    pb_err e = provider_find(a, req, code, p);
    if (e != PB_OK || !p->native) {
        pb_http_reply_error(req, e != PB_OK ? e : PB_ERR_PROVIDER_NOT_FOUND, NULL);
        return;
    }
    /* the signature over the raw body, before anything of the body is read */
    size_t len;
    const char *body = pb_http_body(req, &len);
    e = pb_native_verify(p->secret, p->secret_len, p->window_s, pb_time_now_us() / 1000000,
                         pb_http_header(req, PB_NATIVE_HEADER_TIMESTAMP),
                         pb_http_header(req, PB_NATIVE_HEADER_SIGNATURE), body, len);
    if (e != PB_OK) {
        reply_error(req, p, e, NULL, NULL, NULL);
        return;
    }
    /* the provider's status (the wallet's provider gate): a session or balance is
     * refused here; a bet of a known player goes to the wallet with the refusal
     * (stored, so the retry of a bet taken before still gets its answer); wins,
     * rollbacks and round closes settle */
    pb_err gate = pb_wallet_provider_gate(p->status, op_kind_of(call));
    if (gate != PB_OK && (call == PB_NATIVE_SESSION || call == PB_NATIVE_BALANCE)) {
        reply_error(req, p, gate, NULL, NULL, NULL);
        return;
    }
    pb_json_error jerr;
    const char *ct = pb_http_header(req, "Content-Type");
    e = pb_native_parse(call, body, len, ct ? ct : "", &m->r, &jerr);
    if (e != PB_OK) {
        reply_error(req, p, jerr.code, jerr.field, jerr.message[0] ? jerr.message : NULL, NULL);
        return;
    }
    pb_native_request *r = &m->r;
    pb_store_conn *c = pb_http_conn(req);
    e = pb_catalog_launch_resolve_cached(c, code, r->token, l);
    const char *message = NULL; /* the refusal's, when not the registry's */
    if (e == PB_ERR_TOKEN_INVALID && (call == PB_NATIVE_WIN || call == PB_NATIVE_ROLLBACK))
        e = launch_from_bet(c, code, r, l, &message);
    else if (e == PB_ERR_TOKEN_INVALID && call == PB_NATIVE_ROUND_CLOSE)
        e = launch_from_round(c, code, r, l, &message);
    pb_err message_for = e;  /* message goes with that refusal only */
    bool known = e == PB_OK; /* from here on refusals carry the player's balance */
    if (gate != PB_OK && (e == PB_OK || e == PB_ERR_TOKEN_INVALID))
        e = gate; /* a switched-off provider's bet: that first (no player: not stored) */
    if (e == PB_OK && pb_native_call_needs_live_token(call) && l->expires_at <= pb_time_now_us())
        e = PB_ERR_TOKEN_EXPIRED;
    if (e == PB_OK && r->currency && strcmp(r->currency, l->currency) != 0)
        e = PB_ERR_CURRENCY_MISMATCH;
    if (e == PB_OK && call == PB_NATIVE_BET)
        e = pb_catalog_game_playable(c, code, r->game, l->brand_code, l->currency, r->amount, NULL);
    /* the token was issued for one game: a bet is for that game */
    if (e == PB_OK && call == PB_NATIVE_BET && strcmp(r->game, l->game_code) != 0)
        e = PB_ERR_GAME_MISMATCH;
    pb_native_player who = {.brand = l->brand_code,
                            .player = l->player_public_id,
                            .currency = l->currency,
                            .game = l->game_code};
    /* a money call of a known player goes to the wallet even when refused here:
     * the refusal applies after its duplicate check, so the retry of an accepted
     * call still gets the stored answer (the token may have expired since, the
     * game been switched off, its limits changed) */
    bool deferrable = known && !pb_err_transient(e);
    if ((e == PB_OK || deferrable) && call != PB_NATIVE_SESSION && call != PB_NATIVE_BALANCE) {
        pb_err refusal = e;
        e = pb_native_to_op(r, code, &who, pb_http_trace_id(req), &m->op);
        if (e == PB_OK) {
            /* the operation holds copies of what it needs: the document goes back
             * to this thread's allocator now, not to the one that answers */
            m->call = call;
            pb_native_request_free(r);
            m->op.refusal = refusal;
            money_submit(a, m, c);
            return;
        }
    }
    /* session / balance, or a refusal before the wallet */
    pb_wallet_balance wb;
    pb_native_balance bal;
    bool have = known &&
                balance_read(c, l->brand_code, l->player_public_id, l->currency, &wb, &bal);
    pb_native_request_free(r);
    if (e == PB_OK && !have)
        e = PB_ERR_INTERNAL;
    if (e != PB_OK) {
        reply_error(req, p, e, NULL, e == message_for ? message : NULL, have ? &bal : NULL);
        return;
    }
    pb_wallet_response out = {0};
    int rc = pb_native_render_session(&who, &bal, &out);
    send_signed(req, p, rc, &out);
}

void pb_api_native_session(pb_http_request *req, void *app) { handle(req, app, PB_NATIVE_SESSION); }

void pb_api_native_balance(pb_http_request *req, void *app) { handle(req, app, PB_NATIVE_BALANCE); }

void pb_api_native_bet(pb_http_request *req, void *app) { handle(req, app, PB_NATIVE_BET); }

void pb_api_native_win(pb_http_request *req, void *app) { handle(req, app, PB_NATIVE_WIN); }

void pb_api_native_rollback(pb_http_request *req, void *app)
{
    handle(req, app, PB_NATIVE_ROLLBACK);
}

void pb_api_native_round_close(pb_http_request *req, void *app)
{
    handle(req, app, PB_NATIVE_ROUND_CLOSE);
}
