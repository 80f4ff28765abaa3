/* play_fixture.c — see play_fixture.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "play_fixture.h"
#include "catalog/catalog.h"
#include "games/play_internal.h"
#include "tenancy/tenancy.h"

gx G;

/* ---- fixture ---- */

static void add_player(int i, const char *email)
{
    pb_store_player p;
    fx_player(G.f, G.brand_id, email, &p);
    snprintf(G.players[i], sizeof G.players[i], "%s", p.public_id);
    G.player_rows[i] = p.id;
    G.who[i] = (pb_play_player){
        .brand_id = G.brand_id, .brand = "alpha", .player = G.players[i], .currency = "EUR"};
}

/* Switches a pitboss game on or off for brand alpha. */
void gp_game_on(const char *code, bool on)
{
    pb_game g;
    assert_int_equal(pb_catalog_game_get(G.f->conn, PB_PLAY_PROVIDER, code, &g), PB_OK);
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_game_set_brand(G.f->conn, g.id, G.brand_id, on, 2), PB_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
}

void gp_play_open(const pb_play_config *cfg)
{
    char err[256];
    /* as in serve, active server seeds are sealed (a fixed key: the process's is set once) */
    static const uint8_t key[32] = {0x5e, 0xa1, 0xed, 0x5e, 0xed, 0x50, 0x17};
    pb_play_config c = cfg ? *cfg : (pb_play_config){0};
    if (!c.seal_key)
        c.seal_key = key;
    G.p = pb_play_open(G.w, G.f->store, &c, err, sizeof err);
    if (!G.p)
        fail_msg("play open: %s", err);
}

int gp_setup_cfg(void **state, const pb_play_config *cfg)
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
    pb_brand_spec spec = {
        .code = "alpha", .name = "Alpha", .default_currency = "EUR", .jurisdiction = "MT"};
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
    gp_play_open(cfg);
    assert_int_equal(pb_play_catalog_ensure(G.p), PB_OK);
    gp_game_on("dice", true);
    gp_game_on("mines", true);
    return 0;
}

int gp_setup(void **state) { return gp_setup_cfg(state, NULL); }

int gp_teardown(void **state)
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

void gp_fund(int i, int64_t cash)
{
    pb_wallet_accounts acc;
    assert_int_equal(pb_wallet_player_accounts(G.w, G.f->conn, "alpha", G.players[i], "EUR", &acc),
                     PB_OK);
    char key[32];
    snprintf(key, sizeof key, "fund-%d", G.n++);
    pb_transfer t = fx_transfer(key, G.house, acc.cash, cash, PB_CODE_ADJUSTMENT);
    assert_int_equal(fx_submit1(G.f, &t), PB_OK);
}

int64_t gp_cash(int i)
{
    pb_wallet_balance b;
    pb_err e = pb_wallet_balance_get(G.f->conn, "alpha", G.players[i], "EUR", &b);
    if (e == PB_ERR_ACCOUNT_NOT_FOUND || e == PB_ERR_PLAYER_NOT_FOUND)
        return 0;
    assert_int_equal(e, PB_OK);
    return b.cash + b.bonus;
}

int64_t gp_transfers(void)
{
    pb_ledger_verify_summary s;
    assert_int_equal(pb_ledger_verify(G.f->conn, NULL, NULL, &s), PB_OK);
    assert_int_equal(s.violations, 0);
    return s.transfers;
}

int64_t gp_next_nonce(int i)
{
    pb_store_seed_pair sp;
    pb_store_rc rc = pb_store_seed_pair_active(G.f->conn, G.players[i], &sp);
    if (rc == PB_STORE_NOT_FOUND)
        return 0;
    assert_int_equal(rc, PB_STORE_OK);
    return sp.next_nonce;
}

bool gp_round_of_key(int i, const char *key)
{
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_store_rc rc = pb_store_game_round_by_key(G.f->conn, G.players[i], key, &r);
    pb_store_game_round_clear(&r);
    assert_true(rc == PB_STORE_OK || rc == PB_STORE_NOT_FOUND);
    return rc == PB_STORE_OK;
}

/* A bet of player i: game, params JSON text, amount, key. */
pb_err gp_bet(int i, const char *game, const char *params, int64_t amount, const char *key,
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

pb_store_game_round gp_stored(const char *id)
{
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    assert_int_equal(pb_store_game_round_get(G.f->conn, id, &r), PB_STORE_OK);
    return r;
}

/* Recomputes the round from the revealed server seed with the rules alone and
 * asserts it is the stored one (outcome text, multiplier, payout). */
void gp_assert_fair(const pb_store_game_round *r, const char *server_seed)
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
    /* the public verification (`fair verify`'s inputs) says the same */
    json_t *vin = json_pack("{s:s,s:s,s:s,s:I,s:i,s:s,s:s,s:o}", "game", r->game, "server_seed",
                            server_seed, "client_seed", r->client_seed, "nonce",
                            (json_int_t)r->nonce, "rtp_bp", (int)r->rtp_bp, "currency", r->currency,
                            "commitment", r->commitment, "params", json_loads(r->params, 0, &je));
    assert_non_null(vin);
    json_t *vj = NULL;
    pb_play_error err;
    assert_int_equal(pb_play_verify(vin, &vj, &err), PB_OK);
    assert_true(json_equal(vj, rj));
    json_decref(vj);
    json_decref(vin);
    json_decref(rj);
}

/* ---- refusals leave nothing behind ---- */

void gp_refused(int i, const char *game, const char *params, int64_t amount, pb_err want,
                const char *field)
{
    char key[32];
    snprintf(key, sizeof key, "refused-%d", G.n++);
    int64_t money = gp_cash(i), n = gp_transfers(), nonce = gp_next_nonce(i);
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_play_error err;
    memset(&err, 0, sizeof err);
    pb_err e = gp_bet(i, game, params, amount, key, &r, NULL, &err);
    if (e != want)
        fail_msg("%s %s: %s, wanted %s", game, params, pb_err_code(e), pb_err_code(want));
    assert_int_equal(err.code, want);
    if (field)
        assert_string_equal(err.field, field);
    pb_store_game_round_clear(&r);
    assert_false(gp_round_of_key(i, key));
    assert_int_equal(gp_cash(i), money);
    assert_int_equal(gp_transfers(), n);
    assert_int_equal(gp_next_nonce(i), nonce);
}

/* ---- mines ---- */

/* The mines of a stored round (draw order) into pos, drawn from its seed pair's
 * server seed as stored (sealed while active: opened here); returns their count. */
size_t gp_mines_drawn(const char *round_id, uint8_t pos[PB_MINES_MAX])
{
    pb_store_game_round r = gp_stored(round_id);
    pb_store_seed_pair p;
    assert_int_equal(pb_store_seed_pair_get(G.f->conn, r.pair_id, &p), PB_STORE_OK);
    assert_int_equal(play_seed_open(p.id, p.server_seed, sizeof p.server_seed), PB_OK);
    json_error_t je;
    json_t *params = json_loads(r.params, 0, &je);
    assert_non_null(params);
    size_t n = (size_t)json_integer_value(json_object_get(params, "mines"));
    json_decref(params);
    assert_true(n >= PB_MINES_MIN && n <= PB_MINES_MAX);
    pb_fair_key key;
    pb_fair_key_init(&key, p.server_seed, strlen(p.server_seed));
    pb_fair_stream s;
    pb_fair_stream_init(&s, &key, r.client_seed, (uint64_t)r.nonce);
    pb_mines_positions(&s, (unsigned)n, pos);
    pb_store_game_round_clear(&r);
    return n;
}

size_t gp_mines_of(const char *round_id, bool is_mine[PB_MINES_TILES])
{
    uint8_t pos[PB_MINES_MAX];
    size_t n = gp_mines_drawn(round_id, pos);
    memset(is_mine, 0, PB_MINES_TILES);
    for (size_t i = 0; i < n; i++)
        is_mine[pos[i]] = true;
    return n;
}

/* The first k safe tiles (k ≤ 25 − mines) into out. */
void gp_safe_tiles(const bool is_mine[PB_MINES_TILES], size_t k, uint8_t *out)
{
    size_t n = 0;
    for (uint8_t t = 0; t < PB_MINES_TILES && n < k; t++)
        if (!is_mine[t])
            out[n++] = t;
    assert_int_equal(n, k);
}

uint8_t gp_a_mine(const bool is_mine[PB_MINES_TILES])
{
    for (uint8_t t = 0; t < PB_MINES_TILES; t++)
        if (is_mine[t])
            return t;
    fail_msg("no mine");
    return 0;
}

/* Starts a mines game of player i; asserts it rests active with the stake taken. */
pb_store_game_round gp_mines_start(int i, unsigned mines, int64_t amount)
{
    char key[32], params[32];
    snprintf(key, sizeof key, "mines-%d", G.n++);
    snprintf(params, sizeof params, "{\"mines\": %u}", mines);
    int64_t before = gp_cash(i);
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    assert_int_equal(gp_bet(i, "mines", params, amount, key, &r, NULL, NULL), PB_OK);
    assert_string_equal(r.state, "active");
    assert_false(r.has_payout);
    assert_int_equal(gp_cash(i), before - amount);
    return r;
}

/* ---- a round driven step by step, as the money side drives it ---- */

pb_store_game_round gp_record_pending(int i, const char *params, int64_t amount, const char *key)
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

void gp_stake(const pb_store_game_round *r)
{
    pb_wallet_op op;
    play_wallet_op(&op, r, false, NULL);
    assert_int_equal(pb_wallet_game_submit(G.w, G.f->conn, &op), PB_OK);
    pb_wallet_op_release(&op);
}

pb_err gp_decide_cmd(pb_ledger_tx *tx, void *v)
{
    pb_store_game_round *r = v;
    char id[PB_ID_STR_LEN + 1];
    snprintf(id, sizeof id, "%s", r->id);
    pb_store_game_round_clear(r);
    if (pb_store_game_round_get(pb_ledger_tx_conn(tx), id, r) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    pb_err result = PB_OK;
    pb_err e = play_decide_seeded(tx, r, &result);
    return e != PB_OK ? e : result;
}

void gp_reopen(void)
{
    pb_play_close(G.p);
    G.p = NULL;
    gp_play_open(NULL);
}
