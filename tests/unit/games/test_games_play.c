/*
 * test_games_play.c — the money side of the in-house games (src/games/play*.c)
 * over a real store (SQLite in a temp dir), the real ledger and the real wallet:
 * bets settle exactly (balance, RTP, nonce) and are provably fair after the
 * seed's rotation; idempotency; refusals leave nothing behind; mines (reveal,
 * cash-out, mine hit, closed rounds, two threads on one game); the RTP per
 * brand; recovery of rounds left mid-way by a crash; the crash game with a
 * fast scheduler. Every test ends with the ledger's verify finding nothing.
 *
 * The ledger runs on the wall clock here (the crash scheduler compares the
 * writer's clock with the wall clock). Recovery tests put a round where a
 * crash would leave it by running the money side's own steps up to that point
 * (play_internal.h), then reopen the money side (pb_play_open drives it on).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ledger/fixture.h"
#include "catalog/catalog.h"
#include "core/time.h"
#include "games/play.h"
#include "games/play_internal.h"
#include "tenancy/tenancy.h"
#include "wallet/wallet.h"

#define FUND 1000000 /* 10,000.00 EUR */

typedef struct gx {
    fx *f;
    pb_wallet *w;
    pb_play *p;
    int64_t brand_id, house;
    char players[2][PB_ID_STR_LEN + 1];
    int64_t player_rows[2];
    pb_play_player who[2];
    int n;
} gx;

static gx G;

/* ---- fixture ---- */

static void add_player(int i, const char *email)
{
    pb_store_player p;
    memset(&p, 0, sizeof p);
    pb_id id;
    pb_id_new(&id);
    pb_id_to_string(&id, p.public_id);
    p.brand_id = G.brand_id;
    snprintf(p.currency, sizeof p.currency, "EUR");
    snprintf(p.password_hash, sizeof p.password_hash, "x");
    snprintf(p.status, sizeof p.status, "active");
    snprintf(p.email, sizeof p.email, "%s", email);
    snprintf(p.country, sizeof p.country, "MT");
    snprintf(p.date_of_birth, sizeof p.date_of_birth, "1990-01-01");
    p.created_at = p.updated_at = 1;
    assert_int_equal(pb_store_player_insert(G.f->conn, &p), PB_STORE_OK);
    snprintf(G.players[i], sizeof G.players[i], "%s", p.public_id);
    G.player_rows[i] = p.id;
    G.who[i] = (pb_play_player){.brand_id = G.brand_id, .brand = "alpha",
                                .player = G.players[i], .currency = "EUR"};
}

/* Switches a pitboss game on or off for brand alpha. */
static void game_on(const char *code, bool on)
{
    pb_game g;
    assert_int_equal(pb_catalog_game_get(G.f->conn, PB_PLAY_PROVIDER, code, &g), PB_OK);
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_game_set_brand(G.f->conn, g.id, G.brand_id, on, 2), PB_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
}

static void play_open(const pb_play_config *cfg)
{
    char err[256];
    G.p = pb_play_open(G.w, G.f->store, cfg, err, sizeof err);
    if (!G.p)
        fail_msg("play open: %s", err);
}

static int setup_cfg(void **state, const pb_play_config *cfg)
{
    fx_setup(state);
    memset(&G, 0, sizeof G);
    G.f = *state;
    /* the wall clock for the ledger (see the top of the file) */
    pb_ledger_close(G.f->ledger);
    char err[256];
    G.f->ledger = pb_ledger_open(G.f->store, NULL, err, sizeof err);
    assert_non_null(G.f->ledger);
    G.w = pb_wallet_open(G.f->ledger, G.f->store, err, sizeof err);
    assert_non_null(G.w);
    pb_brand_spec spec = {.code = "alpha", .name = "Alpha", .default_currency = "EUR",
                          .jurisdiction = "MT"};
    pb_brand b;
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_tenancy_brand_create(G.f->conn, &spec, 1, &b, NULL), PB_OK);
    G.brand_id = b.id;
    add_player(0, "p0@example.com");
    add_player(1, "p1@example.com");
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    assert_int_equal(pb_wallet_system_account(G.w, G.f->conn, "alpha", PB_WALLET_OWNER_HOUSE,
                                              PB_WALLET_KIND_HOUSE, "EUR", &G.house),
                     PB_OK);
    play_open(cfg);
    assert_int_equal(pb_play_catalog_ensure(G.p), PB_OK);
    game_on("dice", true);
    game_on("mines", true);
    return 0;
}

static int setup(void **state) { return setup_cfg(state, NULL); }

static int teardown(void **state)
{
    pb_play_stop(G.p);
    int64_t violations = fx_verify(G.f);
    pb_play_close(G.p);
    pb_wallet_close(G.w);
    fx_teardown(state);
    assert_int_equal(violations, 0);
    return 0;
}

/* ---- helpers ---- */

static void fund(int i, int64_t cash)
{
    pb_wallet_accounts acc;
    assert_int_equal(pb_wallet_player_accounts(G.w, G.f->conn, "alpha", G.players[i], "EUR", &acc),
                     PB_OK);
    char key[32];
    snprintf(key, sizeof key, "fund-%d", G.n++);
    pb_transfer t = fx_transfer(key, G.house, acc.cash, cash, PB_CODE_ADJUSTMENT);
    assert_int_equal(fx_submit1(G.f, &t), PB_OK);
}

static int64_t cash(int i)
{
    pb_wallet_balance b;
    pb_err e = pb_wallet_balance_get(G.f->conn, "alpha", G.players[i], "EUR", &b);
    if (e == PB_ERR_ACCOUNT_NOT_FOUND || e == PB_ERR_PLAYER_NOT_FOUND)
        return 0;
    assert_int_equal(e, PB_OK);
    return b.cash + b.bonus;
}

static int64_t transfers(void)
{
    pb_ledger_verify_summary s;
    assert_int_equal(pb_ledger_verify(G.f->conn, NULL, NULL, &s), PB_OK);
    assert_int_equal(s.violations, 0);
    return s.transfers;
}

static int64_t next_nonce(int i)
{
    pb_store_seed_pair sp;
    pb_store_rc rc = pb_store_seed_pair_active(G.f->conn, G.players[i], &sp);
    if (rc == PB_STORE_NOT_FOUND)
        return 0;
    assert_int_equal(rc, PB_STORE_OK);
    return sp.next_nonce;
}

static bool round_of_key(int i, const char *key)
{
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_store_rc rc = pb_store_game_round_by_key(G.f->conn, G.players[i], key, &r);
    pb_store_game_round_clear(&r);
    assert_true(rc == PB_STORE_OK || rc == PB_STORE_NOT_FOUND);
    return rc == PB_STORE_OK;
}

/* A bet of player i: game, params JSON text, amount, key. */
static pb_err bet(int i, const char *game, const char *params, int64_t amount, const char *key,
                  pb_store_game_round *out, bool *replayed, pb_play_error *err)
{
    json_error_t je;
    json_t *j = params ? json_loads(params, 0, &je) : NULL;
    assert_true(!params || j);
    pb_play_bet b = {.game = game, .params = j, .amount = amount, .idempotency_key = key};
    bool rp = false;
    pb_play_error e2;
    pb_err e = pb_play_bet_place(G.p, G.f->conn, &G.who[i], &b, out, replayed ? replayed : &rp,
                                 err ? err : &e2);
    json_decref(j);
    return e;
}

static pb_store_game_round stored(const char *id)
{
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    assert_int_equal(pb_store_game_round_get(G.f->conn, id, &r), PB_STORE_OK);
    return r;
}

/* Recomputes the round from the revealed server seed with the rules alone and
 * asserts it is the stored one (outcome text, multiplier, payout). */
static void assert_fair(const pb_store_game_round *r, const char *server_seed)
{
    assert_true(pb_fair_commitment_matches(server_seed, r->commitment));
    pb_game_params gp;
    pb_game_error ge;
    json_error_t je;
    json_t *pj = json_loads(r->params, 0, &je);
    assert_non_null(pj);
    assert_int_equal(pb_game_params_from_json(pb_game_parse(r->game), pj,
                                              pb_currency_find(r->currency), &gp, &ge),
                     PB_OK);
    json_decref(pj);
    pb_fair_key key;
    pb_fair_key_init(&key, server_seed, strlen(server_seed));
    pb_game_input in = {.key = &key, .client_seed = r->client_seed, .nonce = (uint64_t)r->nonce};
    pb_game_outcome o;
    assert_int_equal(pb_game_play(&gp, &in, (uint32_t)r->rtp_bp, &o), PB_OK);
    int64_t payout;
    assert_int_equal(pb_game_payout(&gp, &o, r->amount, &payout), PB_OK);
    assert_int_equal(o.multiplier, r->multiplier);
    assert_int_equal(payout, r->payout);
    json_t *oj = pb_game_outcome_json(&gp, &o);
    json_t *rj = json_loads(r->outcome, 0, &je);
    assert_non_null(oj);
    assert_true(json_equal(oj, rj));
    json_decref(oj);
    json_decref(rj);
}

#define DICE "{\"target\": 50.5, \"direction\": \"over\"}"

/* ---- a dice bet settles ---- */

static void dice_bet_settles(void **state)
{
    (void)state;
    fund(0, FUND);
    int64_t before = cash(0);
    pb_store_game_round r[2];
    memset(r, 0, sizeof r);
    for (int k = 0; k < 2; k++) {
        char key[16];
        snprintf(key, sizeof key, "dice-%d", k);
        bool replayed = true;
        assert_int_equal(bet(0, "dice", DICE, 1000, key, &r[k], &replayed, NULL), PB_OK);
        assert_false(replayed);
        assert_string_equal(r[k].state, "settled");
        assert_int_equal(r[k].rtp_bp, 9900);
        assert_true(r[k].has_nonce && r[k].has_payout && r[k].has_multiplier);
        assert_int_equal(r[k].nonce, k);
        /* the payout is the multiplier of the RTP in force (a win), or nothing */
        int64_t m = pb_dice_multiplier(&(pb_dice_params){.target = 5050, .over = true}, 9900);
        assert_true(r[k].payout == 0 || r[k].multiplier == m);
        assert_int_equal(r[k].payout, r[k].multiplier * 1000 / PB_MULT_ONE);
        before += r[k].payout - 1000;
        assert_int_equal(cash(0), before);
    }
    assert_int_equal(next_nonce(0), 2);
    /* provably fair: the revealed seed recomputes both rounds */
    pb_store_seed_pair revealed, next;
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], NULL, &revealed, &next),
                     PB_OK);
    assert_string_equal(revealed.id, r[0].pair_id);
    assert_int_equal(revealed.next_nonce, 2);
    assert_int_equal(next.next_nonce, 0);
    for (int k = 0; k < 2; k++) {
        pb_store_game_round g;
        memset(&g, 0, sizeof g);
        assert_int_equal(pb_play_round_get(G.f->conn, G.players[0], r[k].id, &g), PB_OK);
        assert_string_equal(g.revealed_seed, revealed.server_seed);
        assert_fair(&g, revealed.server_seed);
        pb_store_game_round_clear(&g);
        pb_store_game_round_clear(&r[k]);
    }
    /* another player's round is not theirs */
    pb_store_game_round g;
    memset(&g, 0, sizeof g);
    assert_int_equal(pb_play_round_get(G.f->conn, G.players[1], r[0].id, &g),
                     PB_ERR_ROUND_NOT_FOUND);
}

/* ---- idempotency ---- */

static void idempotency(void **state)
{
    (void)state;
    fund(0, FUND);
    pb_store_game_round a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    bool replayed = true;
    assert_int_equal(bet(0, "dice", DICE, 500, "same", &a, &replayed, NULL), PB_OK);
    assert_false(replayed);
    int64_t after = cash(0), n = transfers(), nonce = next_nonce(0);
    assert_int_equal(after, FUND - 500 + a.payout);
    /* the same request: the same round, no money */
    assert_int_equal(bet(0, "dice", "{\"direction\": \"over\", \"target\": \"50.50\"}", 500,
                         "same", &b, &replayed, NULL),
                     PB_OK);
    assert_true(replayed);
    assert_string_equal(a.id, b.id);
    assert_int_equal(a.payout, b.payout);
    assert_int_equal(cash(0), after);
    assert_int_equal(transfers(), n);
    assert_int_equal(next_nonce(0), nonce);
    /* the same key, another request: refused, nothing moved */
    pb_play_error err;
    assert_int_equal(bet(0, "dice", DICE, 501, "same", &b, &replayed, &err),
                     PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(err.code, PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_string_equal(err.field, "idempotency_key");
    assert_int_equal(bet(0, "dice", "{\"target\": 50.5, \"direction\": \"under\"}", 500, "same",
                         &b, &replayed, &err),
                     PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(cash(0), after);
    assert_int_equal(transfers(), n);
    assert_int_equal(next_nonce(0), nonce);
    /* the key is the player's own: another player may use it */
    fund(1, 1000);
    assert_int_equal(bet(1, "dice", DICE, 500, "same", &b, &replayed, NULL), PB_OK);
    assert_false(replayed);
    assert_string_not_equal(a.id, b.id);
    pb_store_game_round_clear(&a);
    pb_store_game_round_clear(&b);
}

/* ---- refusals leave nothing behind ---- */

static void refused(int i, const char *game, const char *params, int64_t amount, pb_err want,
                    const char *field)
{
    char key[32];
    snprintf(key, sizeof key, "refused-%d", G.n++);
    int64_t money = cash(i), n = transfers(), nonce = next_nonce(i);
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_play_error err;
    memset(&err, 0, sizeof err);
    pb_err e = bet(i, game, params, amount, key, &r, NULL, &err);
    if (e != want)
        fail_msg("%s %s: %s, wanted %s", game, params, pb_err_code(e), pb_err_code(want));
    assert_int_equal(err.code, want);
    if (field)
        assert_string_equal(err.field, field);
    pb_store_game_round_clear(&r);
    assert_false(round_of_key(i, key));
    assert_int_equal(cash(i), money);
    assert_int_equal(transfers(), n);
    assert_int_equal(next_nonce(i), nonce);
}

static void refusals_leave_nothing(void **state)
{
    (void)state;
    fund(0, 10000); /* 100.00 */
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    assert_int_equal(bet(0, "dice", DICE, 100, "first", &r, NULL, NULL), PB_OK); /* a pair, nonce 1 */
    pb_store_game_round_clear(&r);
    int64_t nonce = next_nonce(0);
    assert_int_equal(nonce, 1);
    refused(0, "dice", DICE, cash(0) + 1, PB_ERR_INSUFFICIENT_FUNDS, "amount");
    refused(1, "dice", DICE, 100, PB_ERR_INSUFFICIENT_FUNDS, "amount"); /* no money at all */
    refused(0, "dice", DICE, 1000001, PB_ERR_BET_LIMIT, "amount");      /* over 10,000.00 */
    refused(0, "dice", DICE, 0, PB_ERR_AMOUNT_INVALID, "amount");
    refused(0, "limbo", "{\"target\": 2}", 100, PB_ERR_GAME_DISABLED, NULL); /* not on for alpha */
    refused(0, "poker", "{}", 100, PB_ERR_GAME_NOT_FOUND, NULL);
    refused(0, "dice", "{\"direction\": \"over\"}", 100, PB_ERR_FIELD_MISSING, "params");
    refused(0, "dice", "{\"target\": 99.995, \"direction\": \"over\"}", 100, PB_ERR_FIELD_INVALID,
            "params.target");
    refused(0, "dice", "{\"target\": 50, \"direction\": \"up\"}", 100, PB_ERR_FIELD_INVALID,
            "params.direction");
    refused(0, "dice", "{\"target\": 50, \"direction\": \"over\", \"x\": 1}", 100,
            PB_ERR_UNKNOWN_FIELD, "params.x");
    refused(0, "mines", "{\"mines\": 25}", 100, PB_ERR_FIELD_INVALID, "params.mines");
    /* a game switched off since: refused */
    game_on("dice", false);
    refused(0, "dice", DICE, 100, PB_ERR_GAME_DISABLED, NULL);
    game_on("dice", true);
    /* a blocked player: the wallet's gate refuses, the pending round goes */
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_player_set_status(G.f->conn, G.player_rows[0], "blocked", "t", 2),
                     PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    refused(0, "dice", DICE, 100, PB_ERR_PLAYER_BLOCKED, NULL);
    assert_int_equal(next_nonce(0), nonce);
    /* a bad idempotency key */
    pb_play_bet b = {.game = "dice", .amount = 100, .idempotency_key = "a b"};
    bool replayed;
    pb_play_error err;
    assert_int_equal(pb_play_bet_place(G.p, G.f->conn, &G.who[0], &b, &r, &replayed, &err),
                     PB_ERR_IDEMPOTENCY_KEY_INVALID);
}

/* ---- mines ---- */

/* The mines of a stored round (draw order); marks them in is_mine. */
static size_t mines_of(const char *round_id, bool is_mine[PB_MINES_TILES])
{
    pb_store_game_round r = stored(round_id);
    json_error_t je;
    json_t *o = json_loads(r.outcome, 0, &je);
    assert_non_null(o);
    json_t *a = json_object_get(o, "result");
    assert_true(json_is_array(a));
    memset(is_mine, 0, PB_MINES_TILES);
    size_t i, n = json_array_size(a);
    json_t *v;
    json_array_foreach(a, i, v) is_mine[json_integer_value(v)] = true;
    json_decref(o);
    pb_store_game_round_clear(&r);
    return n;
}

/* The first k safe tiles (k ≤ 25 − mines) into out. */
static void safe_tiles(const bool is_mine[PB_MINES_TILES], size_t k, uint8_t *out)
{
    size_t n = 0;
    for (uint8_t t = 0; t < PB_MINES_TILES && n < k; t++)
        if (!is_mine[t])
            out[n++] = t;
    assert_int_equal(n, k);
}

static uint8_t a_mine(const bool is_mine[PB_MINES_TILES])
{
    for (uint8_t t = 0; t < PB_MINES_TILES; t++)
        if (is_mine[t])
            return t;
    fail_msg("no mine");
    return 0;
}

/* Starts a mines game of player i; asserts it rests active with the stake taken. */
static pb_store_game_round mines_start(int i, unsigned mines, int64_t amount)
{
    char key[32], params[32];
    snprintf(key, sizeof key, "mines-%d", G.n++);
    snprintf(params, sizeof params, "{\"mines\": %u}", mines);
    int64_t before = cash(i);
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    assert_int_equal(bet(i, "mines", params, amount, key, &r, NULL, NULL), PB_OK);
    assert_string_equal(r.state, "active");
    assert_false(r.has_payout);
    assert_int_equal(cash(i), before - amount);
    return r;
}

static void mines_cashout_and_hit(void **state)
{
    (void)state;
    fund(0, FUND);
    pb_play_error err;
    bool is_mine[PB_MINES_TILES];
    uint8_t safe[PB_MINES_TILES];
    /* start, two safe tiles, cash out: the multiplier of two tiles */
    pb_store_game_round r = mines_start(0, 3, 1000), o;
    memset(&o, 0, sizeof o);
    assert_int_equal(mines_of(r.id, is_mine), 3);
    safe_tiles(is_mine, 2, safe);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err),
                     PB_ERR_ROUND_STATE); /* nothing revealed yet */
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "active");
    uint8_t again[2] = {safe[0], safe[1]}; /* one already revealed: skipped */
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, again, 2, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "active");
    assert_int_equal(cash(0), FUND - 1000);
    /* another player cannot touch it; a bad tile is refused */
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[1], r.id, &o, &err),
                     PB_ERR_ROUND_NOT_FOUND);
    uint8_t bad = 25;
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, &bad, 1, &o, &err),
                     PB_ERR_FIELD_INVALID);
    assert_string_equal(err.field, "tiles");
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err), PB_OK);
    assert_string_equal(o.state, "settled");
    int64_t mult = pb_mines_multiplier(3, 2, 9900), pay;
    assert_true(mult > PB_MULT_ONE);
    assert_int_equal(pb_game_payout_of(1000, mult, &pay), 0);
    assert_int_equal(o.multiplier, mult);
    assert_int_equal(o.payout, pay);
    int64_t after = FUND - 1000 + pay, n = transfers();
    assert_int_equal(cash(0), after);
    /* after settlement: a reveal is refused, the cash-out answers its round again */
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o,
                                          &err),
                     PB_ERR_ROUND_CLOSED);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err), PB_OK);
    assert_int_equal(o.payout, pay);
    assert_int_equal(cash(0), after);
    assert_int_equal(transfers(), n);
    pb_store_game_round_clear(&r);

    /* a mine after a safe tile: settled at 0 */
    r = mines_start(0, 5, 2000);
    mines_of(r.id, is_mine);
    safe_tiles(is_mine, 1, safe);
    uint8_t path[2] = {safe[0], a_mine(is_mine)};
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, path, 2, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.payout, 0);
    assert_int_equal(o.multiplier, 0);
    after -= 2000;
    assert_int_equal(cash(0), after);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err),
                     PB_ERR_ROUND_CLOSED);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_ERR_ROUND_CLOSED);
    assert_int_equal(cash(0), after);
    pb_store_game_round_clear(&r);

    /* the last safe tile cashes out by itself */
    r = mines_start(0, 24, 100);
    mines_of(r.id, is_mine);
    safe_tiles(is_mine, 1, safe);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.multiplier, pb_mines_multiplier(24, 1, 9900));
    assert_int_equal(pb_game_payout_of(100, o.multiplier, &pay), 0);
    assert_int_equal(o.payout, pay);
    assert_int_equal(cash(0), after - 100 + pay);

    /* provably fair: the mines are those of the revealed seed */
    pb_store_seed_pair revealed, next;
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], NULL, &revealed, &next),
                     PB_OK);
    assert_int_equal(revealed.next_nonce, 3);
    assert_int_equal(o.nonce, 2);
    pb_fair_key key;
    pb_fair_key_init(&key, revealed.server_seed, strlen(revealed.server_seed));
    pb_fair_stream fs;
    pb_fair_stream_init(&fs, &key, revealed.client_seed, (uint64_t)o.nonce);
    uint8_t pos[PB_MINES_MAX];
    pb_mines_positions(&fs, 24, pos);
    bool expect[PB_MINES_TILES] = {false};
    for (int i = 0; i < 24; i++)
        expect[pos[i]] = true;
    assert_memory_equal(expect, is_mine, sizeof expect);
    pb_store_game_round_clear(&r);
    pb_store_game_round_clear(&o);
}

typedef struct racer {
    pthread_barrier_t *go;
    const char *round;
    bool cashout;
    uint8_t tile;
    pb_err result;
} racer;

static void *race(void *arg)
{
    racer *x = arg;
    char err[256];
    pb_store_conn *c = pb_store_connect(G.f->store, err, sizeof err);
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    pb_play_error pe;
    pthread_barrier_wait(x->go);
    x->result = x->cashout
                    ? pb_play_mines_cashout(G.p, c, &G.who[0], x->round, &o, &pe)
                    : pb_play_mines_reveal(G.p, c, &G.who[0], x->round, &x->tile, 1, &o, &pe);
    pb_store_game_round_clear(&o);
    pb_store_disconnect(c);
    return NULL;
}

/* Two threads on one game: a cash-out against a mine. Exactly one wins and the
 * money says which. */
static void mines_concurrent(void **state)
{
    (void)state;
    fund(0, FUND);
    int64_t expect = FUND;
    int cashouts = 0, mines = 0;
    for (int k = 0; k < 8; k++) {
        pb_store_game_round r = mines_start(0, 3, 1000), o;
        memset(&o, 0, sizeof o);
        expect -= 1000;
        bool is_mine[PB_MINES_TILES];
        uint8_t safe;
        mines_of(r.id, is_mine);
        safe_tiles(is_mine, 1, &safe);
        pb_play_error err;
        assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, &safe, 1, &o, &err),
                         PB_OK);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        racer a = {.go = &go, .round = r.id, .cashout = true};
        racer b = {.go = &go, .round = r.id, .tile = a_mine(is_mine)};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, race, &a);
        pthread_create(&tb, NULL, race, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        assert_true((a.result == PB_OK) != (b.result == PB_OK));
        assert_int_equal(a.result == PB_OK ? b.result : a.result, PB_ERR_ROUND_CLOSED);
        pb_store_game_round_clear(&o);
        o = stored(r.id);
        assert_string_equal(o.state, "settled");
        if (a.result == PB_OK) {
            cashouts++;
            assert_int_equal(o.multiplier, pb_mines_multiplier(3, 1, 9900));
            assert_true(o.payout > 0);
        } else {
            mines++;
            assert_int_equal(o.payout, 0);
        }
        expect += o.payout;
        assert_int_equal(cash(0), expect);
        pb_store_game_round_clear(&o);
        pb_store_game_round_clear(&r);
    }
    assert_int_equal(cashouts + mines, 8);
}

/* ---- RTP per brand ---- */

static void set_rtp(pb_game_kind kind, uint32_t rtp, pb_err want, uint32_t want_before)
{
    uint32_t before = 0;
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_play_rtp_set(G.f->conn, G.brand_id, kind, rtp, "staff-1", 5, &before);
    assert_int_equal(e, want);
    if (e == PB_OK) {
        assert_int_equal(before, want_before);
        assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    } else {
        pb_store_rollback(G.f->conn);
    }
}

static void rtp_per_brand(void **state)
{
    (void)state;
    fund(0, FUND);
    uint32_t rtp;
    bool configured = true;
    assert_int_equal(pb_play_rtp_get(G.f->conn, G.brand_id, PB_GAME_DICE, &rtp, &configured),
                     PB_OK);
    assert_int_equal(rtp, 9900);
    assert_false(configured);
    pb_store_game_round a, m, b, o;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&o, 0, sizeof o);
    assert_int_equal(bet(0, "dice", DICE, 1000, "before", &a, NULL, NULL), PB_OK);
    assert_int_equal(a.rtp_bp, 9900);
    m = mines_start(0, 3, 1000); /* a game in play keeps the RTP it started at */
    assert_int_equal(m.rtp_bp, 9900);
    /* out of range: refused, nothing changed */
    set_rtp(PB_GAME_DICE, 7999, PB_ERR_FIELD_INVALID, 0);
    set_rtp(PB_GAME_DICE, 9901, PB_ERR_FIELD_INVALID, 0);
    set_rtp(PB_GAME_ROULETTE, 9728, PB_ERR_FIELD_INVALID, 0);
    assert_int_equal(pb_play_rtp_get(G.f->conn, G.brand_id, PB_GAME_DICE, &rtp, &configured),
                     PB_OK);
    assert_int_equal(rtp, 9900);
    assert_false(configured);
    /* in range: the next rounds */
    set_rtp(PB_GAME_DICE, 9000, PB_OK, 9900);
    set_rtp(PB_GAME_MINES, 8000, PB_OK, 9900);
    assert_int_equal(pb_play_rtp_get(G.f->conn, G.brand_id, PB_GAME_DICE, &rtp, &configured),
                     PB_OK);
    assert_int_equal(rtp, 9000);
    assert_true(configured);
    int64_t before = cash(0);
    assert_int_equal(bet(0, "dice", DICE, 1000, "after", &b, NULL, NULL), PB_OK);
    assert_int_equal(b.rtp_bp, 9000);
    int64_t mult = pb_dice_multiplier(&(pb_dice_params){.target = 5050, .over = true}, 9000);
    assert_true(b.payout == 0 || b.multiplier == mult);
    assert_int_equal(cash(0), before - 1000 + b.payout);
    /* the settled round is as it was */
    pb_store_game_round s = stored(a.id);
    assert_int_equal(s.rtp_bp, 9900);
    assert_int_equal(s.payout, a.payout);
    assert_int_equal(s.multiplier, a.multiplier);
    pb_store_game_round_clear(&s);
    /* the mines game started before pays at its own RTP */
    bool is_mine[PB_MINES_TILES];
    uint8_t safe;
    mines_of(m.id, is_mine);
    safe_tiles(is_mine, 1, &safe);
    pb_play_error err;
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], m.id, &safe, 1, &o, &err),
                     PB_OK);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], m.id, &o, &err), PB_OK);
    assert_int_equal(o.rtp_bp, 9900);
    assert_int_equal(o.multiplier, pb_mines_multiplier(3, 1, 9900));
    /* another game and another brand are untouched */
    assert_int_equal(pb_play_rtp_get(G.f->conn, G.brand_id, PB_GAME_LIMBO, &rtp, &configured),
                     PB_OK);
    assert_int_equal(rtp, 9900);
    assert_int_equal(pb_play_rtp_get(G.f->conn, G.brand_id + 1, PB_GAME_DICE, &rtp, &configured),
                     PB_OK);
    assert_int_equal(rtp, 9900);
    pb_store_game_round_clear(&a);
    pb_store_game_round_clear(&b);
    pb_store_game_round_clear(&m);
    pb_store_game_round_clear(&o);
}

/* ---- the same key from two threads ---- */

typedef struct keyracer {
    pthread_barrier_t *go;
    int64_t amount;
    pb_err result;
    bool replayed;
    char id[PB_ID_STR_LEN + 1];
} keyracer;

static void *key_race(void *arg)
{
    keyracer *x = arg;
    char err[256];
    pb_store_conn *c = pb_store_connect(G.f->store, err, sizeof err);
    json_error_t je;
    json_t *j = json_loads(DICE, 0, &je);
    pb_play_bet b = {.game = "dice", .params = j, .amount = x->amount, .idempotency_key = "twin"};
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    pb_play_error pe;
    pthread_barrier_wait(x->go);
    x->result = pb_play_bet_place(G.p, c, &G.who[0], &b, &o, &x->replayed, &pe);
    snprintf(x->id, sizeof x->id, "%s", o.id);
    pb_store_game_round_clear(&o);
    json_decref(j);
    pb_store_disconnect(c);
    return NULL;
}

static void same_key_concurrently(void **state)
{
    (void)state;
    fund(0, FUND);
    for (int k = 0; k < 2; k++) {
        /* k = 0: the same request twice (one round, one stake); k = 1: another amount */
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        keyracer a = {.go = &go, .amount = 1000}, b = {.go = &go, .amount = k ? 1001 : 1000};
        int64_t before = cash(0); /* k = 1: the key is k = 0's round's now */
        pthread_t ta, tb;
        pthread_create(&ta, NULL, key_race, &a);
        pthread_create(&tb, NULL, key_race, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        if (k == 0) {
            assert_int_equal(a.result, PB_OK);
            assert_int_equal(b.result, PB_OK);
            assert_string_equal(a.id, b.id);
            assert_true(a.replayed != b.replayed);
            pb_store_game_round r = stored(a.id);
            assert_string_equal(r.state, "settled");
            assert_int_equal(cash(0), before - 1000 + r.payout);
            pb_store_game_round_clear(&r);
            assert_int_equal(next_nonce(0), 1);
        } else {
            assert_int_equal(a.result, PB_OK);
            assert_true(a.replayed);
            assert_int_equal(b.result, PB_ERR_IDEMPOTENCY_CONFLICT);
            assert_int_equal(cash(0), before);
            assert_int_equal(next_nonce(0), 1);
        }
    }
}

/* A player blocked while a mines game is in play can no longer bet, but the
 * game's cash-out is paid (the gate is for stakes). */
static void blocked_mid_game(void **state)
{
    (void)state;
    fund(0, FUND);
    pb_store_game_round r = mines_start(0, 3, 1000), o;
    memset(&o, 0, sizeof o);
    bool is_mine[PB_MINES_TILES];
    uint8_t safe;
    mines_of(r.id, is_mine);
    safe_tiles(is_mine, 1, &safe);
    pb_play_error err;
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, &safe, 1, &o, &err),
                     PB_OK);
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_player_set_status(G.f->conn, G.player_rows[0], "blocked", "t", 2),
                     PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    refused(0, "dice", DICE, 100, PB_ERR_PLAYER_BLOCKED, NULL);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err), PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.multiplier, pb_mines_multiplier(3, 1, 9900));
    assert_int_equal(cash(0), FUND - 1000 + o.payout);
    /* a client seed that is not one is refused, the pair stays */
    pb_store_seed_pair before, revealed, next;
    assert_int_equal(pb_play_seeds_get(G.p, G.f->conn, &G.who[0], &before), PB_OK);
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], "", &revealed, &next),
                     PB_ERR_FIELD_INVALID);
    pb_store_seed_pair now;
    assert_int_equal(pb_play_seeds_get(G.p, G.f->conn, &G.who[0], &now), PB_OK);
    assert_string_equal(now.id, before.id);
    assert_int_equal(now.next_nonce, 1);
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], "my-seed", &revealed, &next),
                     PB_OK);
    assert_string_equal(revealed.id, before.id);
    assert_string_equal(next.client_seed, "my-seed");
    assert_int_equal(next.next_nonce, 0);
    pb_store_game_round_clear(&r);
    pb_store_game_round_clear(&o);
}

/* ---- recovery: rounds a crash left mid-way ---- */

/* Records a dice round of player i as the money side does (step 1: "pending"). */
static pb_store_game_round record_pending(int i, const char *params, int64_t amount,
                                          const char *key)
{
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    play_new_id(r.id);
    r.brand_id = G.brand_id;
    snprintf(r.brand, sizeof r.brand, "alpha");
    snprintf(r.player, sizeof r.player, "%s", G.players[i]);
    snprintf(r.currency, sizeof r.currency, "EUR");
    snprintf(r.game, sizeof r.game, "dice");
    snprintf(r.idempotency_key, sizeof r.idempotency_key, "%s", key);
    json_error_t je;
    json_t *j = json_loads(params, 0, &je);
    pb_game_params gp;
    pb_game_error ge;
    const pb_currency *cur = pb_currency_find("EUR");
    assert_int_equal(pb_game_params_from_json(PB_GAME_DICE, j, cur, &gp, &ge), PB_OK);
    json_decref(j);
    r.params = play_json_text(pb_game_params_to_json(&gp, cur));
    assert_non_null(r.params);
    r.amount = amount;
    play_request_hash(r.game, amount, r.params, r.request_hash);
    bool existing = true;
    assert_int_equal(play_round_record(G.p, &r, &existing), PB_OK);
    assert_false(existing);
    pb_store_game_round_clear(&r);
    pb_store_game_round s;
    memset(&s, 0, sizeof s);
    assert_int_equal(pb_store_game_round_by_key(G.f->conn, G.players[i], key, &s), PB_STORE_OK);
    assert_string_equal(s.state, "pending");
    return s;
}

/* Step 2: the stake through the wallet, as the driver does it. */
static void stake(const pb_store_game_round *r)
{
    pb_wallet_op op;
    play_wallet_op(&op, r, false, NULL);
    assert_int_equal(pb_wallet_game_submit(G.w, G.f->conn, &op), PB_OK);
    pb_wallet_op_release(&op);
}

/* Step 3: the decision, in a ledger command (pending → settling). */
static pb_err decide_cmd(pb_ledger_tx *tx, void *v)
{
    pb_store_game_round *r = v;
    pb_store_game_round_clear(r);
    char id[PB_ID_STR_LEN + 1];
    snprintf(id, sizeof id, "%s", r->id);
    if (pb_store_game_round_get(pb_ledger_tx_conn(tx), id, r) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    pb_err result = PB_OK;
    pb_err e = play_decide_seeded(tx, r, &result);
    return e != PB_OK ? e : result;
}

/* The process "restarts": the money side is closed and opened again. */
static void reopen(void)
{
    pb_play_close(G.p);
    G.p = NULL;
    play_open(NULL);
}

#define SURE "{\"target\": 2, \"direction\": \"over\"}" /* 98% */

static void recovery(void **state)
{
    (void)state;
    fund(0, FUND);
    /* (a) recorded, nothing staked; (b) staked, not decided; (c) decided, not paid */
    pb_store_game_round a = record_pending(0, SURE, 1000, "rec-a");
    pb_store_game_round b = record_pending(0, SURE, 2000, "rec-b");
    stake(&b);
    pb_store_game_round c = record_pending(0, SURE, 3000, "rec-c");
    stake(&c);
    assert_int_equal(pb_ledger_command(G.f->ledger, decide_cmd, &c), PB_OK);
    assert_string_equal(c.state, "settling");
    assert_true(c.has_payout);
    /* (d) a pending round the wallet will refuse: player 1 has nothing */
    pb_store_game_round d = record_pending(1, SURE, 500, "rec-d");
    assert_int_equal(cash(0), FUND - 5000);
    assert_int_equal(next_nonce(0), 1); /* c took nonce 0 */

    reopen();

    int64_t expect = FUND;
    const char *ids[3] = {a.id, b.id, c.id};
    int64_t nonces[3] = {-1, -1, 0};
    for (int k = 0; k < 3; k++) {
        pb_store_game_round r = stored(ids[k]);
        assert_string_equal(r.state, "settled");
        assert_true(r.has_payout && r.has_nonce);
        if (nonces[k] >= 0)
            assert_int_equal(r.nonce, nonces[k]);
        assert_int_equal(r.rtp_bp, 9900);
        expect += r.payout - r.amount;
        pb_store_game_round_clear(&r);
    }
    pb_store_game_round r = stored(c.id);
    assert_int_equal(r.payout, c.payout); /* decided once: the payout of (c) as decided */
    pb_store_game_round_clear(&r);
    assert_int_equal(cash(0), expect); /* each staked once, paid once */
    assert_int_equal(next_nonce(0), 3);
    assert_false(round_of_key(1, "rec-d")); /* refused: gone */
    assert_int_equal(cash(1), 0);

    /* again: nothing more happens */
    int64_t n = transfers();
    reopen();
    assert_int_equal(cash(0), expect);
    assert_int_equal(transfers(), n);
    assert_int_equal(next_nonce(0), 3);

    /* the player's retry is answered from the round, no money */
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    bool replayed = false;
    assert_int_equal(bet(0, "dice", SURE, 2000, "rec-b", &o, &replayed, NULL), PB_OK);
    assert_true(replayed);
    assert_string_equal(o.id, b.id);
    assert_int_equal(cash(0), expect);
    assert_int_equal(transfers(), n);
    pb_store_game_round_clear(&o);
    pb_store_game_round_clear(&a);
    pb_store_game_round_clear(&b);
    pb_store_game_round_clear(&c);
    pb_store_game_round_clear(&d);
}

/* A retry by the player (not a restart) drives a round left mid-way too. */
static void retry_drives_on(void **state)
{
    (void)state;
    fund(0, FUND);
    pb_store_game_round b = record_pending(0, SURE, 2000, "retry-b");
    stake(&b);
    assert_int_equal(cash(0), FUND - 2000);
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    bool replayed = false;
    assert_int_equal(bet(0, "dice", SURE, 2000, "retry-b", &o, &replayed, NULL), PB_OK);
    assert_true(replayed);
    assert_string_equal(o.id, b.id);
    assert_string_equal(o.state, "settled");
    assert_int_equal(cash(0), FUND - 2000 + o.payout);
    assert_int_equal(next_nonce(0), 1);
    pb_store_game_round_clear(&o);
    pb_store_game_round_clear(&b);
}

/* ---- crash, with a fast scheduler ---- */

static int setup_crash(void **state)
{
    pb_play_config cfg = {.crash = true, .crash_betting_ms = 600, .crash_pause_ms = 50,
                          .crash_growth = 0.01, .crash_chain_length = 200};
    setup_cfg(state, &cfg);
    game_on("crash", true);
    return 0;
}

static void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

/* Waits (≤ 30 s) for the brand's crash round to satisfy pred; returns it. */
typedef bool (*crash_pred)(const pb_store_crash_round *r, void *ctx);
static pb_store_crash_round crash_wait(crash_pred pred, void *ctx)
{
    for (int i = 0; i < 3000; i++) {
        pb_store_crash_round r;
        int64_t m;
        pb_err e = pb_play_crash_current(G.p, G.f->conn, G.brand_id, &r, &m);
        assert_true(e == PB_OK || e == PB_ERR_ROUND_NOT_FOUND);
        if (e == PB_OK && pred(&r, ctx))
            return r;
        sleep_ms(10);
    }
    fail_msg("the crash round never came");
    return (pb_store_crash_round){0};
}

/* A round taking bets for ≥ 300 ms more whose point leaves room both sides of 1.01x. */
static bool betting_fit(const pb_store_crash_round *r, void *ctx)
{
    (void)ctx;
    return strcmp(r->state, "betting") == 0 && r->point >= 102 && r->point < 1000000 &&
           r->betting_ends_at - pb_time_now_us() > 300000;
}

static bool other_crashed(const pb_store_crash_round *r, void *ctx)
{
    return strcmp(r->id, ctx) != 0 && strcmp(r->state, "crashed") == 0;
}

static bool is_running(const pb_store_crash_round *r, void *ctx)
{
    return strcmp(r->id, ctx) == 0 && strcmp(r->state, "betting") != 0;
}

/* Waits (≤ 30 s) for a round to be settled; returns it. */
static pb_store_game_round settled_wait(const char *id)
{
    for (int i = 0; i < 3000; i++) {
        pb_store_game_round r = stored(id);
        if (strcmp(r.state, "settled") == 0)
            return r;
        pb_store_game_round_clear(&r);
        sleep_ms(10);
    }
    fail_msg("round %s never settled", id);
    return (pb_store_game_round){0};
}

static pb_store_game_round crash_bet(int i, int64_t amount, int64_t auto_cashout,
                                     const char *key, pb_err want)
{
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    bool replayed = true;
    pb_play_error err;
    pb_err e = pb_play_crash_bet(G.p, G.f->conn, &G.who[i], amount, auto_cashout, key, NULL, &r,
                                 &replayed, &err);
    if (e != want)
        fail_msg("crash bet %s: %s, wanted %s", key, pb_err_code(e), pb_err_code(want));
    if (e == PB_OK) {
        assert_false(replayed);
        assert_string_equal(r.state, "active");
    }
    return r;
}

static void crash_rounds(void **state)
{
    (void)state;
    fund(0, FUND);
    fund(1, FUND);
    pb_store_crash_round cr = crash_wait(betting_fit, NULL);
    /* provably fair: the point is the hash's at the RTP in force */
    assert_int_equal(cr.rtp_bp, 9900);
    assert_int_equal((int64_t)pb_crash_point(cr.game_hash, cr.salt, 9900), cr.point);
    /* below the point: paid bet × target; above: lost; none: lost; a manual cash-out */
    pb_store_game_round win = crash_bet(0, 1000, 101, "c-win", PB_OK);
    pb_store_game_round lose = crash_bet(1, 1000, cr.point + 1, "c-lose", PB_OK);
    pb_store_game_round none = crash_bet(0, 700, 0, "c-none", PB_OK);
    pb_store_game_round man = crash_bet(1, 500, 0, "c-manual", PB_OK);
    assert_string_equal(win.crash_round, cr.id);
    assert_int_equal(cash(0), FUND - 1700);
    assert_int_equal(cash(1), FUND - 1500);
    /* bad requests leave nothing */
    pb_store_game_round x = crash_bet(0, 100, 100, "c-bad", PB_ERR_FIELD_INVALID);
    assert_false(round_of_key(0, "c-bad"));
    x = crash_bet(0, 0, 0, "c-bad", PB_ERR_AMOUNT_INVALID);
    /* a cash-out while taking bets: too early */
    pb_play_error err;
    assert_int_equal(pb_play_crash_cashout(G.p, G.f->conn, &G.who[1], man.id, &x, &err),
                     PB_ERR_ROUND_STATE);
    pb_store_game_round_clear(&x);
    /* running: a bet is refused and leaves nothing; the manual cash-out goes in */
    crash_wait(is_running, cr.id);
    x = crash_bet(0, 100, 0, "c-late", PB_ERR_ROUND_CLOSED);
    assert_false(round_of_key(0, "c-late"));
    pb_err me = pb_play_crash_cashout(G.p, G.f->conn, &G.who[1], man.id, &x, &err);
    assert_true(me == PB_OK || me == PB_ERR_ROUND_CLOSED);
    int64_t man_mult = me == PB_OK ? x.multiplier : 0;
    if (me == PB_OK)
        assert_true(man_mult >= PB_MULT_ONE && man_mult < cr.point * (PB_MULT_ONE / 100));
    pb_store_game_round_clear(&x);

    pb_store_game_round w = settled_wait(win.id), l = settled_wait(lose.id),
                        n = settled_wait(none.id), m = settled_wait(man.id);
    assert_int_equal(w.multiplier, 101 * (PB_MULT_ONE / 100));
    assert_int_equal(w.payout, 1010);
    assert_int_equal(l.payout, 0);
    assert_int_equal(n.payout, 0);
    assert_int_equal(m.multiplier, man_mult);
    int64_t man_pay = 0;
    assert_int_equal(pb_game_payout_of(500, man_mult, &man_pay), 0);
    assert_int_equal(m.payout, man_pay);
    assert_int_equal(w.rtp_bp, 9900);
    int64_t c0 = FUND - 1700 + 1010, c1 = FUND - 1500 + man_pay;
    assert_int_equal(cash(0), c0);
    assert_int_equal(cash(1), c1);
    /* settled once: another round comes and goes, nothing more moves */
    crash_wait(other_crashed, cr.id);
    sleep_ms(100);
    assert_int_equal(cash(0), c0);
    assert_int_equal(cash(1), c1);
    pb_store_game_round again = stored(win.id);
    assert_int_equal(again.settled_at, w.settled_at);
    /* the retry of a settled bet is its round */
    bool replayed = false;
    pb_store_game_round_clear(&x);
    assert_int_equal(pb_play_crash_bet(G.p, G.f->conn, &G.who[0], 1000, 101, "c-win", NULL, &x,
                                       &replayed, &err),
                     PB_OK);
    assert_true(replayed);
    assert_string_equal(x.id, win.id);
    assert_int_equal(cash(0), c0);
    pb_store_game_round *all[] = {&win, &lose, &none, &man, &w, &l, &n, &m, &again, &x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_store_game_round_clear(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(dice_bet_settles, setup, teardown),
        cmocka_unit_test_setup_teardown(idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals_leave_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(mines_cashout_and_hit, setup, teardown),
        cmocka_unit_test_setup_teardown(mines_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(rtp_per_brand, setup, teardown),
        cmocka_unit_test_setup_teardown(same_key_concurrently, setup, teardown),
        cmocka_unit_test_setup_teardown(blocked_mid_game, setup, teardown),
        cmocka_unit_test_setup_teardown(recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(retry_drives_on, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_rounds, setup_crash, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
