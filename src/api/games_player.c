/*
 * games_player.c — the player's side of the in-house games ("originals";
 * permission "player"; the rules are in src/games/play.h):
 *
 *   GET  /v1/player/originals/seeds                    the active seed pair (commitment,
 *                                                      client seed, next nonce)
 *   POST /v1/player/originals/seeds/rotate             {client_seed?} reveal it, commit a new one
 *   PUT  /v1/player/originals/seeds/client-seed        {client_seed} the same: a chosen
 *                                                      client seed starts a new pair
 *   POST /v1/player/originals/{game}/bets              {amount, params} + Idempotency-Key
 *                                                      → 201 (200 on a retry); mines: start
 *   POST /v1/player/originals/mines/{id}/reveal        {tiles}
 *   POST /v1/player/originals/mines/{id}/cashout
 *   GET  /v1/player/originals/crash                    the current crash round and my bets in it
 *   POST /v1/player/originals/crash/bets               {amount, auto_cashout?} + Idempotency-Key
 *   POST /v1/player/originals/crash/bets/{id}/cashout
 *   GET  /v1/player/originals/rounds                   my rounds, newest first (?game, ?limit, ?cursor)
 *   GET  /v1/player/originals/rounds/{id}
 *
 * Also the handle's life in serve (pb_api_games_open/stop/close) and the JSON
 * views of rounds and crash rounds that games_public.c shares.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/api.h"
#include "api/games_json.h"
#include "core/log.h"
#include "core/time.h"
#include "games/play.h"
#include "wallet/wallet.h"

#define PAGE_DEFAULT 50
#define MY_CRASH_BETS 20 /* GET crash: the caller's first active bets in the round */

/* ---- life in serve ---- */

/* A number from the environment within [min, max]; def when unset. -1 when bad. */
static int env_num(const char *name, double min, double max, double def, double *out, char *err,
                   size_t errcap)
{
    const char *s = getenv(name);
    *out = def;
    if (!s || !*s)
        return 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (!end || *end || !(v >= min && v <= max)) {
        snprintf(err, errcap, "%s must be a number in %g..%g", name, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int pb_api_games_open(pb_api_app *app, char *err, size_t errcap)
{
    double crash_on, betting, pause, growth, chain, abandon, retry;
    if (env_num("PITBOSS_CRASH", 0, 1, 1, &crash_on, err, errcap) != 0 ||
        env_num("PITBOSS_CRASH_BETTING_MS", 100, 600000, 5000, &betting, err, errcap) != 0 ||
        env_num("PITBOSS_CRASH_PAUSE_MS", 10, 600000, 3000, &pause, err, errcap) != 0 ||
        env_num("PITBOSS_CRASH_GROWTH", 1e-7, 1, 0.00006, &growth, err, errcap) != 0 ||
        env_num("PITBOSS_CRASH_CHAIN_LENGTH", 1, 10000000, 100000, &chain, err, errcap) != 0 ||
        /* a mines game untouched this long is cashed out (play.h, "Abandoned mines") */
        env_num("PITBOSS_MINES_ABANDON_S", 60, 90 * 86400, (double)PB_PLAY_MINES_ABANDON_S,
                &abandon, err, errcap) != 0 ||
        /* the sweeper's period (doubling up to 60 s while rounds fail); a round
         * moved this recently is left to its own driver */
        env_num("PITBOSS_GAMES_RETRY_MS", 100, 60000, 5000, &retry, err, errcap) != 0)
        return -1;
    /* active server seeds are sealed at rest under the keys directory's fair.key */
    uint8_t key[32];
    if (!app->identity) {
        snprintf(err, errcap, "games: the identity (keys directory) must be open first");
        return -1;
    }
    if (pb_identity_secret(app->identity, "fair.key", key, err, errcap) != PB_OK)
        return -1;
    pb_play_config cfg = {.crash = crash_on != 0,
                          .sweep = true, /* abandoned mines and stuck rounds: even without crash */
                          .crash_betting_ms = (int)betting,
                          .crash_pause_ms = (int)pause,
                          .crash_growth = growth,
                          .crash_chain_length = (int64_t)chain,
                          .mines_abandon_s = (int64_t)abandon,
                          .retry_ms = (int)retry,
                          .seal_key = key};
    app->play = pb_play_open(app->wallet, app->store, &cfg, err, errcap);
    sodium_memzero(key, sizeof key);
    return app->play ? 0 : -1;
}

void pb_api_games_stop(pb_api_app *app) { pb_play_stop(app->play); }

void pb_api_games_close(pb_api_app *app)
{
    pb_play_close(app->play);
    app->play = NULL;
}

/* ---- JSON views ---- */

void pb_api_games_reply(pb_http_request *req, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(body);
    if (!s) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_text(req, status, "application/json", s, strlen(s));
    free(s);
}

json_t *pb_api_games_money(int64_t minor, const char *currency)
{
    const pb_currency *cur = pb_currency_find(currency);
    char s[PB_MONEY_STR_MAX];
    return !cur || pb_money_format(minor, cur, s, sizeof s) < 0 ? NULL : json_string(s);
}

json_t *pb_api_games_multiplier(int64_t mult)
{
    char s[32];
    snprintf(s, sizeof s, "%" PRId64 ".%04" PRId64, mult / PB_MULT_ONE, mult % PB_MULT_ONE);
    return json_string(s);
}

json_t *pb_api_games_hundredths(int64_t h)
{
    char s[32];
    snprintf(s, sizeof s, "%" PRId64 ".%02" PRId64, h / 100, h % 100);
    return json_string(s);
}

static json_t *parse_text(const char *text)
{
    json_error_t je;
    json_t *j = text ? json_loads(text, 0, &je) : NULL;
    return j ? j : json_null();
}

json_t *pb_api_games_round_json(pb_store_conn *c, const pb_store_game_round *r)
{
    bool over = strcmp(r->state, "settling") == 0 || strcmp(r->state, "settled") == 0;
    bool mines = strcmp(r->game, "mines") == 0, crash = strcmp(r->game, "crash") == 0;
    json_t *fair = json_null();
    if (r->pair_id[0])
        fair = json_pack("{s:s,s:s,s:s,s:I,s:o}", "pair_id", r->pair_id, "server_seed_hash",
                         r->commitment, "client_seed", r->client_seed, "nonce",
                         (json_int_t)r->nonce, "server_seed",
                         r->revealed_seed[0] ? json_string(r->revealed_seed) : json_null());
    json_t *j = json_pack(
        "{s:s,s:s,s:s,s:o*,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", r->id, "game", r->game,
        "state", r->state, "amount", pb_api_games_money(r->amount, r->currency), "currency",
        r->currency, "params", parse_text(r->params), "payout",
        r->has_payout ? pb_api_games_money(r->payout, r->currency) : json_null(), "multiplier",
        r->has_multiplier ? pb_api_games_multiplier(r->multiplier) : json_null(), "rtp_bp",
        r->rtp_bp ? json_integer(r->rtp_bp) : json_null(), "fair", fair, "outcome",
        /* an active mines game keeps its mines to itself */
        (!mines || over) && r->outcome ? parse_text(r->outcome) : json_null(), "created_at",
        pb_admin_time_json(r->created_at), "settled_at", pb_admin_time_json(r->settled_at));
    /* void (a crash bet not accepted before its round started): why; its stake was given back */
    if (j)
        json_object_set_new(j, "void_reason",
                            r->void_reason[0] ? json_string(r->void_reason) : json_null());
    if (j && mines) {
        json_t *p = parse_text(r->params);
        json_object_set_new(j, "mines",
                            json_pack("{s:O*,s:o}", "mines", json_object_get(p, "mines"),
                                      "revealed",
                                      r->progress[0] ? parse_text(r->progress) : json_array()));
        json_decref(p);
    }
    if (j && crash) {
        pb_store_crash_round cr;
        json_t *cj = json_null();
        if (c && pb_store_crash_round_get(c, r->crash_round, &cr) == PB_STORE_OK)
            cj = pb_api_games_crash_json(&cr, 0);
        json_object_set_new(j, "crash", cj);
    }
    return j;
}

json_t *pb_api_games_crash_json(const pb_store_crash_round *r, int64_t multiplier_now)
{
    bool crashed = strcmp(r->state, "crashed") == 0;
    return json_pack("{s:s,s:s,s:I,s:s,s:s,s:o,s:o,s:o,s:I,s:o,s:o,s:o,s:o}", "id", r->id, "state",
                     r->state, "position", (json_int_t)r->position, "chain_commitment",
                     r->terminal_hash, "salt", r->salt, "game_hash",
                     crashed ? json_string(r->game_hash) : json_null(), "point",
                     crashed ? pb_api_games_hundredths(r->point) : json_null(), "multiplier",
                     multiplier_now ? pb_api_games_hundredths(multiplier_now) : json_null(),
                     "rtp_bp", (json_int_t)r->rtp_bp, "betting_ends_at",
                     pb_admin_time_json(r->betting_ends_at), "started_at",
                     pb_admin_time_json(r->started_at), "crashed_at",
                     pb_admin_time_json(r->crashed_at), "created_at",
                     pb_admin_time_json(r->created_at));
}

static json_t *pair_json(const pb_store_seed_pair *p, bool reveal)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:o}", "pair_id", p->id, "server_seed_hash",
                          p->commitment, "client_seed", p->client_seed, "next_nonce",
                          (json_int_t)p->next_nonce, "created_at",
                          pb_admin_time_json(p->created_at));
    if (j && reveal) {
        json_object_set_new(j, "server_seed", json_string(p->server_seed));
        json_object_set_new(j, "last_nonce",
                            p->next_nonce > 0 ? json_integer(p->next_nonce - 1) : json_null());
        json_object_set_new(j, "revealed_at", pb_admin_time_json(p->revealed_at));
    }
    return j;
}

/* ---- the caller ---- */

typedef struct who_t {
    const pb_principal *p;
    pb_store_conn *c;
    pb_player pl;
    pb_play_player w;
} who_t;

/* The calling player; replies and returns false on failure. */
static bool who(pb_http_request *req, pb_api_app *a, who_t *w)
{
    w->p = pb_api_principal(req);
    if (!w->p || w->p->kind != PB_SUBJECT_PLAYER) {
        pb_http_reply_error(req, PB_ERR_UNAUTHENTICATED, NULL);
        return false;
    }
    pb_err e = a->play ? pb_play_catalog_ensure(a->play) : PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return false;
    }
    w->c = pb_http_conn(req);
    if (!w->c) {
        pb_http_reply_error(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return false;
    }
    e = pb_identity_player_get(w->c, NULL, w->p->subject_public_id, &w->pl);
    if (e == PB_OK && !pb_currency_find(w->pl.currency))
        e = PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return false;
    }
    w->w = (pb_play_player){.brand_id = w->pl.brand_id,
                            .brand = w->p->brand_code,
                            .player = w->pl.public_id,
                            .currency = w->pl.currency};
    return true;
}

static void fail(pb_http_request *req, pb_err e, const pb_play_error *err)
{
    if (err && err->code == e && err->message[0])
        pb_http_reply_error_msg(req, e, err->field[0] ? err->field : NULL, err->message);
    else
        pb_http_reply_error(req, e, err && err->code == e && err->field[0] ? err->field : NULL);
}

/* The round and the player's balance after it. */
static void reply_round(pb_http_request *req, who_t *w, int status, pb_store_game_round *r)
{
    pb_wallet_balance b;
    json_t *bal = json_null();
    if (pb_wallet_balance_get(w->c, w->w.brand, w->w.player, w->w.currency, &b) == PB_OK)
        bal = pb_api_games_money(b.total, w->w.currency);
    json_t *body = json_pack("{s:o,s:o}", "round", pb_api_games_round_json(w->c, r), "balance",
                             bal ? bal : json_null());
    pb_store_game_round_clear(r);
    pb_api_games_reply(req, status, body);
}

/* ---- seeds ---- */

void pb_api_player_originals_seeds(pb_http_request *req, void *app)
{
    who_t w;
    if (!pb_admin_parse_empty(req) || !who(req, app, &w))
        return;
    pb_store_seed_pair pair;
    pb_err e = pb_play_seeds_get(((pb_api_app *)app)->play, w.c, &w.w, &pair);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    pb_api_games_reply(req, 200, json_pack("{s:o}", "active", pair_json(&pair, false)));
}

static void rotate(pb_http_request *req, pb_api_app *a, bool required)
{
    const char *client_seed = NULL;
    pb_json_field f[] = {
        {.name = "client_seed",
         .type = PB_JSON_STRING,
         .required = required,
         .min_len = 1,
         .max_len = PB_FAIR_CLIENT_SEED_MAX,
         .str = &client_seed},
    };
    who_t w;
    if (!pb_http_parse_json(req, f, 1) || !who(req, a, &w))
        return;
    if (client_seed && !pb_fair_client_seed_valid(client_seed)) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "client_seed",
                                "client_seed: 1..64 printable ASCII characters, no ':'");
        return;
    }
    pb_store_seed_pair old, next;
    pb_err e = pb_play_seeds_rotate(a->play, w.c, &w.w, client_seed, &old, &next);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, e == PB_ERR_FIELD_INVALID ? "client_seed" : NULL);
        return;
    }
    pb_api_games_reply(req, 200,
                       json_pack("{s:o,s:o}", "revealed", pair_json(&old, true), "active",
                                 pair_json(&next, false)));
}

void pb_api_player_originals_rotate(pb_http_request *req, void *app) { rotate(req, app, false); }

void pb_api_player_originals_client_seed(pb_http_request *req, void *app)
{
    rotate(req, app, true);
}

/* ---- bets ---- */

/* The Idempotency-Key header; replies and returns NULL when missing or bad. */
static const char *idem_key(pb_http_request *req)
{
    const char *k = pb_http_header(req, "Idempotency-Key");
    size_t n = k ? strlen(k) : 0;
    bool ok = n > 0 && n <= PB_PLAY_KEY_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)k[i] >= 0x21 && (unsigned char)k[i] <= 0x7e;
    if (!ok) {
        pb_http_reply_error_msg(req, PB_ERR_IDEMPOTENCY_KEY_INVALID, "Idempotency-Key",
                                "the Idempotency-Key header: 1..100 printable ASCII characters");
        return NULL;
    }
    return k;
}

/* An amount in the player's currency; 0 when absent and optional. */
static bool parse_amount(pb_http_request *req, const char *s, const who_t *w, int64_t *out)
{
    *out = 0;
    if (!s)
        return true;
    if (pb_money_parse(s, strlen(s), pb_currency_find(w->w.currency), out) != PB_MONEY_OK ||
        *out <= 0) {
        pb_http_reply_error(req, PB_ERR_AMOUNT_INVALID, "amount");
        return false;
    }
    return true;
}

void pb_api_player_originals_bet(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *amount_s = NULL;
    json_t *params = NULL;
    const char *game = pb_http_param(req, "game");
    bool roulette = game && strcmp(game, "roulette") == 0;
    pb_json_field f[] = {
        {.name = "amount",
         .type = PB_JSON_STRING,
         .required = !roulette,
         .max_len = 40,
         .str = &amount_s},
        {.name = "params", .type = PB_JSON_OBJECT, .json = &params},
    };
    who_t w;
    const char *key;
    int64_t amount;
    if (!pb_http_parse_json(req, f, 2) || !who(req, a, &w) || !(key = idem_key(req)) ||
        !parse_amount(req, amount_s, &w, &amount))
        return;
    pb_play_bet bet = {.game = game,
                       .params = params,
                       .amount = amount,
                       .idempotency_key = key,
                       .trace_id = pb_http_trace_id(req)};
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    bool replayed = false;
    pb_play_error err;
    pb_err e = pb_play_bet_place(a->play, w.c, &w.w, &bet, &r, &replayed, &err);
    if (e != PB_OK) {
        pb_store_game_round_clear(&r);
        fail(req, e, &err);
        return;
    }
    reply_round(req, &w, replayed ? 200 : 201, &r);
}

/* ---- mines ---- */

void pb_api_player_originals_mines_reveal(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    json_t *tiles = NULL;
    pb_json_field f[] = {
        {.name = "tiles",
         .type = PB_JSON_ARRAY,
         .required = true,
         .min_len = 1,
         .max_len = 25,
         .json = &tiles},
    };
    who_t w;
    if (!pb_http_parse_json(req, f, 1) || !who(req, a, &w))
        return;
    uint8_t t[25];
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(tiles, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 24) {
            pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "tiles", "tiles: integers 0..24");
            return;
        }
        t[n++] = (uint8_t)json_integer_value(v);
    }
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_play_error err;
    pb_err e = pb_play_mines_reveal(a->play, w.c, &w.w, pb_http_param(req, "id"), t, n, &r, &err);
    if (e != PB_OK) {
        pb_store_game_round_clear(&r);
        fail(req, e, &err);
        return;
    }
    reply_round(req, &w, 200, &r);
}

void pb_api_player_originals_mines_cashout(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    who_t w;
    if (!pb_admin_parse_empty(req) || !who(req, a, &w))
        return;
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_play_error err;
    pb_err e = pb_play_mines_cashout(a->play, w.c, &w.w, pb_http_param(req, "id"), &r, &err);
    if (e != PB_OK) {
        pb_store_game_round_clear(&r);
        fail(req, e, &err);
        return;
    }
    reply_round(req, &w, 200, &r);
}

/* ---- crash ---- */

void pb_api_player_originals_crash(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    who_t w;
    if (!pb_admin_parse_empty(req) || !who(req, a, &w))
        return;
    pb_store_crash_round cr;
    int64_t m = 0;
    pb_err e = pb_play_crash_current(a->play, w.c, w.w.brand_id, &cr, &m);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    /* the caller's own bets, read by player (not filtered out of everyone's) */
    pb_store_game_round *bets = pb_http_alloc(req, MY_CRASH_BETS * sizeof *bets);
    size_t n = 0;
    pb_store_rc rc = bets ? pb_store_game_round_of_crash_player(w.c, cr.id, w.w.player, "active",
                                                                bets, MY_CRASH_BETS, &n)
                          : PB_STORE_ERROR;
    if (rc != PB_STORE_OK) { /* an empty list would say the caller has no bet in play */
        pb_http_reply_error(req, rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL,
                            NULL);
        return;
    }
    json_t *mine = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(mine, pb_api_games_round_json(NULL, &bets[i]));
        pb_store_game_round_clear(&bets[i]);
    }
    pb_api_games_reply(req, 200,
                       json_pack("{s:o,s:o,s:f,s:o,s:o}", "round", pb_api_games_crash_json(&cr, m),
                                 "my_active_bets", mine ? mine : json_array(), "growth_per_ms",
                                 pb_play_crash_growth(a->play), "multiplier_max",
                                 pb_api_games_hundredths(PB_CRASH_TARGET_MAX), "server_time",
                                 pb_admin_time_json(pb_time_now_us())));
}

void pb_api_player_originals_crash_bet(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *amount_s = NULL, *auto_s = NULL;
    pb_json_field f[] = {
        {.name = "amount",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 40,
         .str = &amount_s},
        {.name = "auto_cashout",
         .type = PB_JSON_STRING,
         .nullable = true,
         .min_len = 1,
         .max_len = 16,
         .str = &auto_s},
    };
    who_t w;
    const char *key;
    int64_t amount;
    if (!pb_http_parse_json(req, f, 2) || !who(req, a, &w) || !(key = idem_key(req)) ||
        !parse_amount(req, amount_s, &w, &amount))
        return;
    int64_t auto_h = 0;
    if (auto_s) {
        /* a multiplier with at most 2 decimals, as hundredths */
        static const pb_currency two = {"X", 2};
        if (pb_money_parse(auto_s, strlen(auto_s), &two, &auto_h) != PB_MONEY_OK ||
            auto_h < PB_CRASH_TARGET_MIN || auto_h > PB_CRASH_TARGET_MAX) {
            pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "auto_cashout",
                                    "auto_cashout: a multiplier 1.01 .. 1000000.00");
            return;
        }
    }
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    bool replayed = false;
    pb_play_error err;
    pb_err e = pb_play_crash_bet(a->play, w.c, &w.w, amount, auto_h, key, pb_http_trace_id(req), &r,
                                 &replayed, &err);
    if (e != PB_OK) {
        pb_store_game_round_clear(&r);
        fail(req, e, &err);
        return;
    }
    reply_round(req, &w, replayed ? 200 : 201, &r);
}

void pb_api_player_originals_crash_cashout(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    who_t w;
    if (!pb_admin_parse_empty(req) || !who(req, a, &w))
        return;
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_play_error err;
    pb_err e = pb_play_crash_cashout(a->play, w.c, &w.w, pb_http_param(req, "id"), &r, &err);
    if (e != PB_OK) {
        pb_store_game_round_clear(&r);
        fail(req, e, &err);
        return;
    }
    reply_round(req, &w, 200, &r);
}

/* ---- history ---- */

void pb_api_player_originals_rounds(pb_http_request *req, void *app)
{
    who_t w;
    if (!pb_admin_parse_empty(req) || !who(req, app, &w))
        return;
    int64_t limit = PAGE_DEFAULT, cursor = 0;
    const char *game = NULL;
    if (!pb_admin_query_int(req, "limit", 1, PB_PLAY_PAGE_MAX, &limit) ||
        !pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor) ||
        !pb_admin_query_str(req, "game", 32, &game))
        return;
    if (game && pb_game_parse(game) == PB_GAME_NONE) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "game", "game: an in-house game");
        return;
    }
    pb_store_game_round *rows = pb_http_alloc(req, (size_t)limit * sizeof *rows);
    size_t n = 0;
    pb_store_game_round_query q = {
        .player = w.w.player, .game = game, .before_seq = cursor, .limit = (size_t)limit};
    if (!rows || pb_store_game_round_list(w.c, &q, rows, &n) != PB_STORE_OK) {
        for (size_t i = 0; rows && i < n; i++)
            pb_store_game_round_clear(&rows[i]);
        pb_http_reply_error(req, rows ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL, NULL);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        if (items && json_array_append_new(items, pb_api_games_round_json(w.c, &rows[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
        pb_store_game_round_clear(&rows[i]);
    }
    if (!items) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_api_games_reply(req, 200,
                       json_pack("{s:o,s:o}", "items", items, "next_cursor",
                                 pb_admin_cursor_json(n == (size_t)limit ? rows[n - 1].seq : 0)));
}

void pb_api_player_originals_round(pb_http_request *req, void *app)
{
    who_t w;
    if (!pb_admin_parse_empty(req) || !who(req, app, &w))
        return;
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_err e = pb_play_round_get(w.c, w.w.player, pb_http_param(req, "id"), &r);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    json_t *body = pb_api_games_round_json(w.c, &r);
    pb_store_game_round_clear(&r);
    pb_api_games_reply(req, 200, body);
}
