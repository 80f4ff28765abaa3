/*
 * test_games_play.c — the money side of the in-house games (src/games/play*.c)
 * over a real store, the real ledger and the real wallet (play_fixture.h):
 * a bet settles exactly (balance, RTP in force, nonce) and is provably fair
 * once its seed is revealed; idempotency (also from two threads at once);
 * refusals leave nothing behind; mines (reveals, cash-out at the multiplier of
 * the tiles revealed, a mine settles at 0, closed rounds, two threads on one
 * game); the RTP per brand. Recovery and the crash game:
 * test_games_play_recovery.c; retries while running and voids:
 * test_games_play_void.c.
 * Every test ends with the ledger's verify finding nothing (the teardown).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/time.h"
#include "games/games.h"
#include "games/play_internal.h"
#include "play_fixture.h"
#include "store/sqlite/sqlite_internal.h" /* the connection's handle: the pass's plan and steps */
#include "../plans.h"                     /* after play_fixture.h, which brings cmocka */

/* ---- a dice bet settles ---- */

static void dice_bet_settles(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    int64_t before = gp_cash(0);
    pb_store_game_round r[2];
    memset(r, 0, sizeof r);
    for (int k = 0; k < 2; k++) {
        char key[16];
        snprintf(key, sizeof key, "dice-%d", k);
        bool replayed = true;
        assert_int_equal(gp_bet(0, "dice", DICE, 1000, key, &r[k], &replayed, NULL), PB_OK);
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
        assert_int_equal(gp_cash(0), before);
    }
    assert_int_equal(gp_next_nonce(0), 2);
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
        gp_assert_fair(&g, revealed.server_seed);
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
    gp_fund(0, FUND);
    pb_store_game_round a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    bool replayed = true;
    assert_int_equal(gp_bet(0, "dice", DICE, 500, "same", &a, &replayed, NULL), PB_OK);
    assert_false(replayed);
    int64_t after = gp_cash(0), n = gp_transfers(), nonce = gp_next_nonce(0);
    assert_int_equal(after, FUND - 500 + a.payout);
    /* the same request: the same round, no money */
    assert_int_equal(gp_bet(0, "dice", "{\"direction\": \"over\", \"target\": \"50.50\"}", 500,
                            "same", &b, &replayed, NULL),
                     PB_OK);
    assert_true(replayed);
    assert_string_equal(a.id, b.id);
    assert_int_equal(a.payout, b.payout);
    assert_int_equal(gp_cash(0), after);
    assert_int_equal(gp_transfers(), n);
    assert_int_equal(gp_next_nonce(0), nonce);
    /* the same key, another request: refused, nothing moved */
    pb_play_error err;
    assert_int_equal(gp_bet(0, "dice", DICE, 501, "same", &b, &replayed, &err),
                     PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(err.code, PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_string_equal(err.field, "idempotency_key");
    assert_int_equal(gp_bet(0, "dice", "{\"target\": 50.5, \"direction\": \"under\"}", 500, "same",
                            &b, &replayed, &err),
                     PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(gp_cash(0), after);
    assert_int_equal(gp_transfers(), n);
    assert_int_equal(gp_next_nonce(0), nonce);
    /* the key is the player's own: another player may use it */
    gp_fund(1, 1000);
    assert_int_equal(gp_bet(1, "dice", DICE, 500, "same", &b, &replayed, NULL), PB_OK);
    assert_false(replayed);
    assert_string_not_equal(a.id, b.id);
    pb_store_game_round_clear(&a);
    pb_store_game_round_clear(&b);
}

static void refusals_leave_nothing(void **state)
{
    (void)state;
    gp_fund(0, 10000); /* 100.00 */
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    /* a pair, nonce 1 */
    assert_int_equal(gp_bet(0, "dice", DICE, 100, "first", &r, NULL, NULL), PB_OK);
    pb_store_game_round_clear(&r);
    int64_t nonce = gp_next_nonce(0);
    assert_int_equal(nonce, 1);
    gp_refused(0, "dice", DICE, gp_cash(0) + 1, PB_ERR_INSUFFICIENT_FUNDS, "amount");
    gp_refused(1, "dice", DICE, 100, PB_ERR_INSUFFICIENT_FUNDS, "amount"); /* no money at all */
    gp_refused(0, "dice", DICE, 1000001, PB_ERR_BET_LIMIT, "amount");      /* over 10,000.00 */
    gp_refused(0, "dice", DICE, 0, PB_ERR_AMOUNT_INVALID, "amount");
    /* not on for alpha */
    gp_refused(0, "limbo", "{\"target\": 2}", 100, PB_ERR_GAME_DISABLED, NULL);
    gp_refused(0, "poker", "{}", 100, PB_ERR_GAME_NOT_FOUND, NULL);
    gp_refused(0, "dice", "{\"direction\": \"over\"}", 100, PB_ERR_FIELD_MISSING, "params");
    gp_refused(0, "dice", "{\"target\": 99.995, \"direction\": \"over\"}", 100,
               PB_ERR_FIELD_INVALID, "params.target");
    gp_refused(0, "dice", "{\"target\": 50, \"direction\": \"up\"}", 100, PB_ERR_FIELD_INVALID,
               "params.direction");
    gp_refused(0, "dice", "{\"target\": 50, \"direction\": \"over\", \"x\": 1}", 100,
               PB_ERR_UNKNOWN_FIELD, "params.x");
    gp_refused(0, "mines", "{\"mines\": 25}", 100, PB_ERR_FIELD_INVALID, "params.mines");
    /* a game switched off since: refused */
    gp_game_on("dice", false);
    gp_refused(0, "dice", DICE, 100, PB_ERR_GAME_DISABLED, NULL);
    gp_game_on("dice", true);
    /* a blocked player: the wallet's gate refuses, the pending round goes */
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_player_set_status(G.f->conn, G.player_rows[0], "blocked", "t", 2),
                     PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    gp_refused(0, "dice", DICE, 100, PB_ERR_PLAYER_BLOCKED, NULL);
    assert_int_equal(gp_next_nonce(0), nonce);
    /* a bad idempotency key */
    pb_play_bet b = {.game = "dice", .amount = 100, .idempotency_key = "a b"};
    bool replayed;
    pb_play_error err;
    assert_int_equal(pb_play_bet_place(G.p, G.f->conn, &G.who[0], &b, &r, &replayed, &err),
                     PB_ERR_IDEMPOTENCY_KEY_INVALID);
}

/* ---- mines ---- */

static void mines_cashout_and_hit(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_play_error err;
    bool is_mine[PB_MINES_TILES];
    uint8_t safe[PB_MINES_TILES];
    /* start, two safe tiles, cash out: the multiplier of two tiles */
    pb_store_game_round r = gp_mines_start(0, 3, 1000), o;
    memset(&o, 0, sizeof o);
    assert_int_equal(gp_mines_of(r.id, is_mine), 3);
    gp_safe_tiles(is_mine, 2, safe);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err),
                     PB_ERR_ROUND_STATE); /* nothing revealed yet */
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "active");
    uint8_t again[2] = {safe[0], safe[1]}; /* one already revealed: skipped */
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, again, 2, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "active");
    assert_int_equal(gp_cash(0), FUND - 1000);
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
    int64_t after = FUND - 1000 + pay, n = gp_transfers();
    assert_int_equal(gp_cash(0), after);
    /* after settlement: a reveal is refused, the cash-out answers its round again */
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_ERR_ROUND_CLOSED);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err), PB_OK);
    assert_int_equal(o.payout, pay);
    assert_int_equal(gp_cash(0), after);
    assert_int_equal(gp_transfers(), n);
    pb_store_game_round_clear(&r);

    /* a mine after a safe tile: settled at 0 */
    r = gp_mines_start(0, 5, 2000);
    gp_mines_of(r.id, is_mine);
    gp_safe_tiles(is_mine, 1, safe);
    uint8_t path[2] = {safe[0], gp_a_mine(is_mine)};
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, path, 2, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.payout, 0);
    assert_int_equal(o.multiplier, 0);
    after -= 2000;
    assert_int_equal(gp_cash(0), after);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err),
                     PB_ERR_ROUND_CLOSED);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_ERR_ROUND_CLOSED);
    assert_int_equal(gp_cash(0), after);
    pb_store_game_round_clear(&r);

    /* the last safe tile cashes out by itself */
    r = gp_mines_start(0, 24, 100);
    gp_mines_of(r.id, is_mine);
    gp_safe_tiles(is_mine, 1, safe);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.multiplier, pb_mines_multiplier(24, 1, 9900));
    assert_int_equal(pb_game_payout_of(100, o.multiplier, &pay), 0);
    assert_int_equal(o.payout, pay);
    assert_int_equal(gp_cash(0), after - 100 + pay);

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
    gp_fund(0, FUND);
    int64_t expect = FUND;
    int cashouts = 0, mines = 0;
    for (int k = 0; k < 8; k++) {
        pb_store_game_round r = gp_mines_start(0, 3, 1000), o;
        memset(&o, 0, sizeof o);
        expect -= 1000;
        bool is_mine[PB_MINES_TILES];
        uint8_t safe;
        gp_mines_of(r.id, is_mine);
        gp_safe_tiles(is_mine, 1, &safe);
        pb_play_error err;
        assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, &safe, 1, &o, &err),
                         PB_OK);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        racer a = {.go = &go, .round = r.id, .cashout = true};
        racer b = {.go = &go, .round = r.id, .tile = gp_a_mine(is_mine)};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, race, &a);
        pthread_create(&tb, NULL, race, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        assert_true((a.result == PB_OK) != (b.result == PB_OK));
        assert_int_equal(a.result == PB_OK ? b.result : a.result, PB_ERR_ROUND_CLOSED);
        pb_store_game_round_clear(&o);
        o = gp_stored(r.id);
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
        assert_int_equal(gp_cash(0), expect);
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
    gp_fund(0, FUND);
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
    assert_int_equal(gp_bet(0, "dice", DICE, 1000, "before", &a, NULL, NULL), PB_OK);
    assert_int_equal(a.rtp_bp, 9900);
    m = gp_mines_start(0, 3, 1000); /* a game in play keeps the RTP it started at */
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
    int64_t before = gp_cash(0);
    assert_int_equal(gp_bet(0, "dice", DICE, 1000, "after", &b, NULL, NULL), PB_OK);
    assert_int_equal(b.rtp_bp, 9000);
    int64_t mult = pb_dice_multiplier(&(pb_dice_params){.target = 5050, .over = true}, 9000);
    assert_true(b.payout == 0 || b.multiplier == mult);
    assert_int_equal(gp_cash(0), before - 1000 + b.payout);
    /* the settled round is as it was */
    pb_store_game_round s = gp_stored(a.id);
    assert_int_equal(s.rtp_bp, 9900);
    assert_int_equal(s.payout, a.payout);
    assert_int_equal(s.multiplier, a.multiplier);
    pb_store_game_round_clear(&s);
    /* the mines game started before pays at its own RTP */
    bool is_mine[PB_MINES_TILES];
    uint8_t safe;
    gp_mines_of(m.id, is_mine);
    gp_safe_tiles(is_mine, 1, &safe);
    pb_play_error err;
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], m.id, &safe, 1, &o, &err),
                     PB_OK);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], m.id, &o, &err), PB_OK);
    assert_int_equal(o.rtp_bp, 9900);
    assert_int_equal(o.multiplier, pb_mines_multiplier(3, 1, 9900));
    /* game control: the settled rounds per game, the RTP in force weighted by turnover */
    pb_play_control_line lines[8];
    size_t nl = 0;
    assert_int_equal(pb_play_control(G.f->conn, G.brand_id, 0, 0, lines, 8, &nl), PB_OK);
    assert_int_equal(nl, 2);
    pb_play_control_line *dl = strcmp(lines[0].t.game, "dice") == 0 ? &lines[0] : &lines[1];
    pb_play_control_line *ml = dl == &lines[0] ? &lines[1] : &lines[0];
    assert_string_equal(dl->t.game, "dice");
    assert_string_equal(ml->t.game, "mines");
    assert_int_equal(dl->t.rounds, 2);
    assert_int_equal(dl->t.turnover, 2000);
    assert_int_equal(dl->t.payout, a.payout + b.payout);
    assert_int_equal(dl->ggr, 2000 - a.payout - b.payout);
    assert_int_equal(dl->target_rtp_bp, 9000);
    assert_true(dl->expected_rtp > 0.9449 && dl->expected_rtp < 0.9451);
    assert_int_equal(ml->t.rounds, 1);
    assert_int_equal(ml->t.payout, o.payout);
    assert_int_equal(ml->target_rtp_bp, 8000);
    assert_true(ml->expected_rtp > 0.9899 && ml->expected_rtp < 0.9901);
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

/* A cash-out whose payout floors to 0 (a one-cent stake, a multiplier under
 * 1x at a low RTP) is still a cash-out: asked again, it answers its round. */
static void mines_cashout_of_nothing(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    set_rtp(PB_GAME_MINES, 9500, PB_OK, 9900);
    pb_store_game_round r = gp_mines_start(0, 1, 1), o;
    memset(&o, 0, sizeof o);
    bool is_mine[PB_MINES_TILES];
    uint8_t safe;
    gp_mines_of(r.id, is_mine);
    gp_safe_tiles(is_mine, 1, &safe);
    pb_play_error err;
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, &safe, 1, &o, &err),
                     PB_OK);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err), PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.multiplier, pb_mines_multiplier(1, 1, 9500));
    assert_true(o.multiplier > 0 && o.multiplier < PB_MULT_ONE);
    assert_int_equal(o.payout, 0);
    int64_t n = gp_transfers();
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err), PB_OK);
    assert_string_equal(o.id, r.id);
    assert_int_equal(o.multiplier, pb_mines_multiplier(1, 1, 9500));
    assert_int_equal(gp_cash(0), FUND - 1);
    assert_int_equal(gp_transfers(), n);
    pb_store_game_round_clear(&r);
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
    gp_fund(0, FUND);
    for (int k = 0; k < 2; k++) {
        /* k = 0: the same request twice (one round, one stake); k = 1: another amount */
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        keyracer a = {.go = &go, .amount = 1000}, b = {.go = &go, .amount = k ? 1001 : 1000};
        int64_t before = gp_cash(0); /* k = 1: the key is k = 0's round's now */
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
            pb_store_game_round r = gp_stored(a.id);
            assert_string_equal(r.state, "settled");
            assert_int_equal(gp_cash(0), before - 1000 + r.payout);
            pb_store_game_round_clear(&r);
            assert_int_equal(gp_next_nonce(0), 1);
        } else {
            assert_int_equal(a.result, PB_OK);
            assert_true(a.replayed);
            assert_int_equal(b.result, PB_ERR_IDEMPOTENCY_CONFLICT);
            assert_int_equal(gp_cash(0), before);
            assert_int_equal(gp_next_nonce(0), 1);
        }
    }
}

/* A player blocked while a mines game is in play can no longer bet, but the
 * game's cash-out is paid (the gate is for stakes). */
static void blocked_mid_game(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_store_game_round r = gp_mines_start(0, 3, 1000), o;
    memset(&o, 0, sizeof o);
    bool is_mine[PB_MINES_TILES];
    uint8_t safe;
    gp_mines_of(r.id, is_mine);
    gp_safe_tiles(is_mine, 1, &safe);
    pb_play_error err;
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, &safe, 1, &o, &err),
                     PB_OK);
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_player_set_status(G.f->conn, G.player_rows[0], "blocked", "t", 2),
                     PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    gp_refused(0, "dice", DICE, 100, PB_ERR_PLAYER_BLOCKED, NULL);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err), PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.multiplier, pb_mines_multiplier(3, 1, 9900));
    assert_int_equal(gp_cash(0), FUND - 1000 + o.payout);
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

/* Seeds stored in the clear before sealing existed (an upgraded database) are sealed
 * when the games open with a key: the active pair's and a crash chain's; each opens to
 * the same seed, and play goes on from it. */
static void legacy_seeds_sealed_on_open(void **state)
{
    (void)state;
    pb_store_seed_pair p, row;
    assert_int_equal(pb_play_seeds_get(G.p, G.f->conn, &G.who[0], &p), PB_OK);
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_seed_pair_set_seed(G.f->conn, p.id, p.server_seed), PB_STORE_OK);
    pb_store_crash_chain ch = {.brand_id = G.brand_id, .length = 10};
    snprintf(ch.brand, sizeof ch.brand, "alpha");
    pb_fair_server_seed_new(ch.seed);
    pb_fair_server_seed_new(ch.salt);
    pb_fair_sha256_hex(ch.seed, 64, ch.terminal_hash); /* any public hash will do here */
    char clear[65];
    memcpy(clear, ch.seed, sizeof clear);
    assert_int_equal(pb_store_crash_chain_insert(G.f->conn, &ch), PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    assert_int_equal(pb_store_seed_pair_active(G.f->conn, G.players[0], &row), PB_STORE_OK);
    assert_string_equal(row.server_seed, p.server_seed); /* in the clear, as before sealing */

    int64_t sealed = 0;
    char err[256];
    assert_int_equal(play_seal_existing(G.f->store, &sealed, err, sizeof err), 0);
    assert_true(sealed >= 2);
    assert_int_equal(pb_store_seed_pair_active(G.f->conn, G.players[0], &row), PB_STORE_OK);
    assert_int_equal(strncmp(row.server_seed, "s1:", 3), 0);
    assert_int_equal(play_seed_open(row.id, row.server_seed, sizeof row.server_seed), PB_OK);
    assert_string_equal(row.server_seed, p.server_seed);
    pb_store_crash_chain got;
    assert_int_equal(pb_store_crash_chain_get(G.f->conn, ch.id, &got), PB_STORE_OK);
    assert_int_equal(strncmp(got.seed, "s1:", 3), 0);
    char ad[80];
    play_chain_ad(&got, ad, sizeof ad);
    assert_int_equal(play_seed_open(ad, got.seed, sizeof got.seed), PB_OK);
    assert_string_equal(got.seed, clear);
    /* nothing left in the clear: a second pass seals nothing */
    assert_int_equal(play_seal_existing(G.f->store, &sealed, err, sizeof err), 0);
    assert_int_equal(sealed, 0);
    /* and the pair plays on from the same seed */
    pb_store_seed_pair again;
    assert_int_equal(pb_play_seeds_get(G.p, G.f->conn, &G.who[0], &again), PB_OK);
    assert_string_equal(again.server_seed, p.server_seed);
}

/* The start-up pass that seals seeds stored in the clear reads only those: with
 * hundreds of active pairs already sealed (one per player who has played), its
 * query walks the partial index of the unsealed ones (0021), not every active pair,
 * and still finds a pair written in the clear among them. */
static bool unsealed_statement(const char *sql, void *ctx)
{
    (void)ctx;
    return strstr(sql, "fair_seed_pair_unsealed") != NULL;
}

static void unsealed_plan_line(const char *sql, const char *detail, void *ctx)
{
    (void)sql;
    if (detail)
        *(bool *)ctx |= strstr(detail, "USING INDEX fair_seed_pair_unsealed") != NULL;
}

static int unsealed_vm_steps(size_t *n, pb_store_seed_pair *out)
{
    assert_int_equal(pb_store_seed_pair_unsealed(G.f->conn, out, 4, n), PB_STORE_OK);
    sqlite3 *db = ((sq_conn *)G.f->conn)->db;
    for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st; st = sqlite3_next_stmt(db, st))
        if (sqlite3_sql(st) && unsealed_statement(sqlite3_sql(st), NULL))
            return sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
    fail_msg("the unsealed pairs' statement is not prepared");
    return -1;
}

static void unsealed_pass_reads_only_unsealed(void **state)
{
    (void)state;
    sqlite3 *db = ((sq_conn *)G.f->conn)->db;
    /* 400 players' active pairs, sealed ("s1:…": any text but 64 hex characters) */
    assert_int_equal(sqlite3_exec(db,
                                  "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM k "
                                  "WHERE i<400) INSERT INTO fair_seed_pair (id, brand_id, brand, "
                                  "player, server_seed, commitment, client_seed, next_nonce, "
                                  "active, created_at) SELECT 'pair-'||i, 1, 'alpha', "
                                  "'player-'||i, 's1:sealed-'||i, 'c', 'x', 0, 1, 0 FROM k",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    pb_store_seed_pair out[4];
    size_t n = 99;
    unsealed_vm_steps(&n, out); /* prepares it; the counter starts at the next run */
    int steps = unsealed_vm_steps(&n, out);
    assert_int_equal(n, 0);
    /* a full walk of the 400 active pairs takes several steps each */
    assert_true(steps < 50);
    bool uses = false;
    assert_int_equal(plans_each(db, unsealed_statement, unsealed_plan_line, &uses), 1);
    assert_true(uses);
    /* one of them back in the clear, as a database from before sealing has it: found,
     * and sealed by the pass */
    assert_int_equal(
        sqlite3_exec(db,
                     "UPDATE fair_seed_pair SET server_seed="
                     "'0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' "
                     "WHERE id='pair-200'",
                     NULL, NULL, NULL),
        SQLITE_OK);
    steps = unsealed_vm_steps(&n, out);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].id, "pair-200");
    assert_true(steps < 50);
    int64_t sealed = 0;
    char err[256];
    assert_int_equal(play_seal_existing(G.f->store, &sealed, err, sizeof err), 0);
    assert_int_equal(sealed, 1);
    unsealed_vm_steps(&n, out);
    assert_int_equal(n, 0);
}

/* The active pair's server seed is stored sealed ("s1:", fair.key, the pair id bound
 * to it): it opens to the seed its commitment names, not under another pair's id,
 * not once changed; a seed stored in the clear (written before sealing) reads as is.
 * Rotation stores the revealed seed in the clear and seals the next one. */
static void seeds_sealed_at_rest(void **state)
{
    (void)state;
    assert_true(play_seal_enabled());
    pb_store_seed_pair p, row, revealed, next;
    assert_int_equal(pb_play_seeds_get(G.p, G.f->conn, &G.who[0], &p), PB_OK);
    assert_int_equal(strlen(p.server_seed), 64);
    assert_int_equal(pb_store_seed_pair_active(G.f->conn, G.players[0], &row), PB_STORE_OK);
    assert_int_equal(strncmp(row.server_seed, "s1:", 3), 0);
    assert_int_equal(strlen(row.server_seed), 3 + 2 * (24 + 32 + 16));
    assert_null(strstr(row.server_seed, p.server_seed));
    char s[PB_STORE_SEED_STORED_MAX + 1], hash[65];
    memcpy(s, row.server_seed, sizeof s);
    assert_int_equal(play_seed_open(row.id, s, sizeof s), PB_OK);
    assert_string_equal(s, p.server_seed);
    pb_fair_sha256_hex(s, strlen(s), hash);
    assert_string_equal(hash, row.commitment);
    memcpy(s, row.server_seed, sizeof s);
    assert_int_equal(play_seed_open(G.players[1], s, sizeof s), PB_ERR_INTERNAL); /* another id */
    memcpy(s, row.server_seed, sizeof s);
    s[60] = s[60] == '0' ? '1' : '0';
    assert_int_equal(play_seed_open(row.id, s, sizeof s), PB_ERR_INTERNAL); /* changed */
    memcpy(s, p.server_seed, 65);
    assert_int_equal(play_seed_open(row.id, s, sizeof s), PB_OK); /* in the clear */
    assert_string_equal(s, p.server_seed);

    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], NULL, &revealed, &next),
                     PB_OK);
    assert_string_equal(revealed.server_seed, p.server_seed);
    assert_int_equal(pb_store_seed_pair_get(G.f->conn, p.id, &row), PB_STORE_OK);
    assert_false(row.active);
    assert_string_equal(row.server_seed, p.server_seed); /* revealed: in the clear */
    assert_int_equal(pb_store_seed_pair_get(G.f->conn, next.id, &row), PB_STORE_OK);
    assert_int_equal(strncmp(row.server_seed, "s1:", 3), 0);
    assert_int_equal(play_seed_open(row.id, row.server_seed, sizeof row.server_seed), PB_OK);
    assert_string_equal(row.server_seed, next.server_seed);
}

/* A mines game in play keeps its pair's server seed secret: rotating (or
 * choosing a client seed, which rotates) would reveal the seed its mines were
 * drawn from, and the player could then reveal every safe tile. Refused
 * (ROUND_STATE) while the game is active, the pair unchanged; allowed again
 * once it is over. */
static void no_rotation_while_mines_in_play(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_store_game_round r = gp_mines_start(0, 12, 100), o;
    memset(&o, 0, sizeof o);
    pb_store_seed_pair before, revealed, next, now;
    memset(&revealed, 0, sizeof revealed);
    assert_int_equal(pb_play_seeds_get(G.p, G.f->conn, &G.who[0], &before), PB_OK);
    assert_string_equal(before.id, r.pair_id);
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], NULL, &revealed, &next),
                     PB_ERR_ROUND_STATE);
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], "mine", &revealed, &next),
                     PB_ERR_ROUND_STATE);
    assert_int_equal(pb_play_seeds_get(G.p, G.f->conn, &G.who[0], &now), PB_OK);
    assert_string_equal(now.id, before.id);
    assert_true(now.active);
    /* the round does not show the seed either */
    assert_int_equal(pb_play_round_get(G.f->conn, G.players[0], r.id, &o), PB_OK);
    assert_string_equal(o.revealed_seed, "");
    /* another player's rotation is not held up */
    pb_store_seed_pair rv1, nx1;
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[1], NULL, &rv1, &nx1), PB_OK);
    /* over: rotation works and recomputes the game */
    bool is_mine[PB_MINES_TILES];
    gp_mines_of(r.id, is_mine);
    uint8_t mine = gp_a_mine(is_mine);
    pb_play_error err;
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, &mine, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], NULL, &revealed, &next),
                     PB_OK);
    assert_string_equal(revealed.id, before.id);
    pb_store_game_round_clear(&r);
    pb_store_game_round_clear(&o);
}

/* The rotation's scan of the unfinished rounds (every player's) runs off the
 * ledger's writer: with 20,000 rounds of another player in play the writer's CPU
 * time for a rotation is a small part of what one scan of them costs (the writer
 * only re-reads the pair and the games found in play on it). And the decision
 * stays exact: a mines game in play on the pair still refuses it. */
static void rotation_scan_off_writer(void **state)
{
    (void)state;
    enum { OPEN = 20000 };
    int64_t now = pb_time_now_us();
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    for (int i = 0; i < OPEN; i++) {
        pb_store_game_round r;
        memset(&r, 0, sizeof r);
        play_new_id(r.id);
        r.brand_id = G.brand_id;
        snprintf(r.brand, sizeof r.brand, "alpha");
        snprintf(r.player, sizeof r.player, "%s", G.players[1]);
        snprintf(r.currency, sizeof r.currency, "EUR");
        snprintf(r.game, sizeof r.game, "crash");
        snprintf(r.idempotency_key, sizeof r.idempotency_key, "open-%d", i);
        r.params = "{}";
        r.amount = 100;
        snprintf(r.state, sizeof r.state, "active");
        r.created_at = r.updated_at = now;
        assert_int_equal(pb_store_game_round_insert(G.f->conn, &r), PB_STORE_OK);
    }
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);

    /* what one scan of them costs here (CPU of this thread) */
    struct timespec c0, c1;
    pb_store_game_round *rows = calloc(64, sizeof *rows);
    assert_non_null(rows);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    int64_t after = 0, seen = 0;
    size_t n = 64;
    while (n == 64) {
        assert_int_equal(pb_store_game_round_open(G.f->conn, after, rows, 64, &n), PB_STORE_OK);
        for (size_t i = 0; i < n; i++) {
            after = rows[i].seq;
            pb_store_game_round_clear(&rows[i]);
        }
        seen += (int64_t)n;
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    free(rows);
    assert_int_equal(seen, OPEN);
    int64_t scan_us = (c1.tv_sec - c0.tv_sec) * 1000000 + (c1.tv_nsec - c0.tv_nsec) / 1000;

    pb_store_seed_pair first, revealed, next;
    assert_int_equal(pb_play_seeds_get(G.p, G.f->conn, &G.who[0], &first), PB_OK);
    pb_ledger_stats s0, s1;
    struct timespec ms = {.tv_nsec = 1000000};
    pb_ledger_stats_get(G.f->ledger, &s0);
    for (int i = 0; i < 2000; i++) { /* the batches before counted (seeds_get's) */
        nanosleep(&ms, NULL);
        pb_ledger_stats_get(G.f->ledger, &s1);
        if (s1.batches == s0.batches && i >= 5)
            break;
        s0 = s1;
    }
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], NULL, &revealed, &next),
                     PB_OK);
    /* the writer counts a batch's time after it answers: wait for the count */
    for (int i = 0; i < 2000; i++) {
        pb_ledger_stats_get(G.f->ledger, &s1);
        if (s1.batches > s0.batches)
            break;
        nanosleep(&ms, NULL);
    }
    assert_true(s1.batches > s0.batches);
    assert_string_equal(revealed.id, first.id);
    int64_t writer_us = (int64_t)(s1.cpu_us_total - s0.cpu_us_total);
    print_message(
        "# one scan of %d open rounds: %lld us CPU; the rotation on the writer: %lld us\n", OPEN,
        (long long)scan_us, (long long)writer_us);
    assert_true(writer_us * 4 < scan_us);

    /* still exact: a mines game in play on the new pair refuses the rotation */
    gp_fund(0, FUND);
    pb_store_game_round m = gp_mines_start(0, 3, 100);
    assert_string_equal(m.pair_id, next.id);
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], NULL, &revealed, &next),
                     PB_ERR_ROUND_STATE);
    pb_store_game_round_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(dice_bet_settles, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(idempotency, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(refusals_leave_nothing, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(mines_cashout_and_hit, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(mines_concurrent, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(rtp_per_brand, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(mines_cashout_of_nothing, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(same_key_concurrently, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(blocked_mid_game, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(no_rotation_while_mines_in_play, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(rotation_scan_off_writer, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(seeds_sealed_at_rest, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(legacy_seeds_sealed_on_open, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(unsealed_pass_reads_only_unsealed, gp_setup, gp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
