/*
 * test_games.c — every game's mapping and payout edges (src/games/ game files):
 * dice at 0.00 / 100.00 and its chance limits, limbo and crash minimum 1.00x
 * and their caps, mines with 1 and 24 mines, keno and plinko tables, every
 * roulette bet type on the real layout, the slot's line evaluation, payouts
 * (floors, overflow), strict parameter parsing and the outcome JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "games/games.h"

#define SEED "77438bbb638b48da846d7ec31d36e807e0da02057ab6deb975d06ca8bbf97f5e"

static pb_game_params parse(pb_game_kind kind, const char *json)
{
    pb_game_params p;
    pb_game_error err;
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    pb_err e = pb_game_params_from_json(kind, j, pb_currency_find("EUR"), &p, &err);
    if (e != PB_OK)
        fprintf(stderr, "# %s: %s %s\n", json, err.field, err.message);
    assert_int_equal(e, PB_OK);
    json_decref(j);
    return p;
}

static void refused(pb_game_kind kind, const char *json, pb_err code, const char *field)
{
    pb_game_params p;
    pb_game_error err = {0};
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    assert_int_equal(pb_game_params_from_json(kind, j, pb_currency_find("EUR"), &p, &err), code);
    assert_string_equal(err.field, field);
    json_decref(j);
}

static void names_and_ranges(void **state)
{
    (void)state;
    static const char *names[] = {"dice", "limbo",  "crash",    "mines",
                                  "keno", "plinko", "roulette", "slot"};
    for (int i = 0; i < 8; i++) {
        pb_game_kind k = pb_game_parse(names[i]);
        assert_int_equal(k, i + 1);
        assert_string_equal(pb_game_name(k), names[i]);
        const pb_game_info *info = pb_game_info_of(k);
        assert_true(info->min_rtp_bp <= info->default_rtp_bp &&
                    info->default_rtp_bp <= info->max_rtp_bp);
        assert_true(pb_game_rtp_allowed(k, info->default_rtp_bp));
        assert_false(pb_game_rtp_allowed(k, info->max_rtp_bp + 1));
        assert_false(pb_game_rtp_allowed(k, info->min_rtp_bp - 1));
    }
    assert_int_equal(pb_game_parse("Dice"), PB_GAME_NONE);
    assert_int_equal(pb_game_parse(NULL), PB_GAME_NONE);
    assert_null(pb_game_name(PB_GAME_COUNT_));
    assert_true(pb_game_info_of(PB_GAME_MINES)->multi_step);
    assert_true(pb_game_info_of(PB_GAME_CRASH)->uses_hash_chain);
    /* roulette: fixed by the wheel */
    const pb_game_info *r = pb_game_info_of(PB_GAME_ROULETTE);
    assert_int_equal(r->min_rtp_bp, r->max_rtp_bp);
}

static void payouts(void **state)
{
    (void)state;
    int64_t out = -1;
    assert_int_equal(pb_game_payout_of(100, 19800, &out), 0);
    assert_int_equal(out, 198);
    assert_int_equal(pb_game_payout_of(1, 19999, &out), 0);
    assert_int_equal(out, 1); /* 1.9999 floored: the house's favour */
    assert_int_equal(pb_game_payout_of(3, 3333, &out), 0);
    assert_int_equal(out, 0);
    assert_int_equal(pb_game_payout_of(0, 10000000, &out), 0);
    assert_int_equal(out, 0);
    assert_int_equal(pb_game_payout_of(INT64_MAX, PB_MULT_ONE, &out), 0); /* 128-bit path */
    assert_int_equal(out, INT64_MAX);
    out = 7;
    assert_int_equal(pb_game_payout_of(INT64_MAX, PB_MULT_ONE + 1, &out), -1);
    assert_int_equal(out, 7); /* untouched */
    assert_int_equal(pb_game_payout_of(INT64_MAX / 2, 2 * PB_MULT_ONE, &out), 0);
    assert_int_equal(out, INT64_MAX - 1);
    assert_int_equal(pb_game_payout_of(-1, PB_MULT_ONE, &out), -1);
    assert_int_equal(pb_game_payout_of(1, -1, &out), -1);
}

static void dice_edges(void **state)
{
    (void)state;
    pb_dice_params over = {.target = 5000, .over = true};
    assert_int_equal(pb_dice_chance(&over), 5000);
    assert_int_equal(pb_dice_multiplier(&over, 9900), 19800); /* 1.98x */
    assert_false(pb_dice_wins(&over, 5000));
    assert_true(pb_dice_wins(&over, 5001));
    assert_true(pb_dice_wins(&over, 10000));             /* 100.00 is a possible roll */
    pb_dice_params under = {.target = 1, .over = false}; /* only 0.00 wins */
    assert_int_equal(pb_dice_chance(&under), 1);
    assert_int_equal(pb_dice_multiplier(&under, 9900), 99000000); /* 9900x: the cap */
    assert_true(pb_dice_wins(&under, 0));
    assert_false(pb_dice_wins(&under, 1));
    pb_dice_params top = {.target = 9999, .over = true}; /* only 100.00 wins */
    assert_int_equal(pb_dice_chance(&top), 1);
    assert_true(pb_dice_wins(&top, 10000));
    assert_false(pb_dice_wins(&top, 9999));
    /* the chance limits: 0.01% .. 98.00% */
    pb_dice_params bad[] = {{0, false}, {9801, false}, {199, true}, {10000, true}, {0, true}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(pb_dice_chance(&bad[i]), 0);
        assert_int_equal(pb_dice_multiplier(&bad[i], 9900), 0);
    }
    pb_dice_params max = {.target = 9800, .over = false};
    assert_int_equal(pb_dice_multiplier(&max, 9900), 10102); /* 1.0102x, floored from 1.010204… */
    /* the roll's mapping: u = 0 → 0.00, u = 2^32 − 1 → 100.00 */
    assert_int_equal(pb_fair_scale(0, PB_DICE_ROLL_MAX + 1), 0);
    assert_int_equal(pb_fair_scale(UINT32_MAX, PB_DICE_ROLL_MAX + 1), 10000);
    refused(PB_GAME_DICE, "{\"target\":50.5,\"direction\":\"sideways\"}", PB_ERR_FIELD_INVALID,
            "direction");
    refused(PB_GAME_DICE, "{\"target\":50.555}", PB_ERR_FIELD_INVALID, "target");
    refused(PB_GAME_DICE, "{\"target\":\"1.5\",\"direction\":\"over\"}", PB_ERR_FIELD_INVALID,
            "target"); /* 98.50% */
    refused(PB_GAME_DICE, "{\"target\":\"2.5\",\"direction\":\"over\"}", PB_OK, "");
    refused(PB_GAME_DICE, "{\"target\":99,\"direction\":\"over\"}", PB_OK, "");
    refused(PB_GAME_DICE, "{\"target\":99.5,\"direction\":\"under\",\"x\":1}", PB_ERR_UNKNOWN_FIELD,
            "x");
    refused(PB_GAME_DICE, "{\"target\":98.01,\"direction\":\"under\"}", PB_ERR_FIELD_INVALID,
            "target");
    refused(PB_GAME_DICE, "{\"target\":true}", PB_ERR_FIELD_INVALID, "target");
    refused(PB_GAME_DICE, "{\"target\":\"01.5\"}", PB_ERR_FIELD_INVALID, "target");
    pb_game_params p = parse(PB_GAME_DICE, "{\"target\":\"50.50\",\"direction\":\"under\"}");
    assert_int_equal(p.u.dice.target, 5050);
    assert_false(p.u.dice.over);
}

static void limbo_and_crash_edges(void **state)
{
    (void)state;
    /* the largest float gives the smallest result: 2^24·0.99/2^24 = 0.99 → shown 1.00 */
    assert_int_equal(pb_limbo_result_u(UINT32_MAX, 9900), 100);
    assert_int_equal(pb_limbo_result_u(0, 9900), 16777216ull * 99); /* v = 0: 16,609,443.84x */
    assert_int_equal(pb_limbo_result_u(0x00000100, 9900), 16777216ull * 99 / 2); /* v = 1 */
    assert_int_equal(pb_limbo_result_u(0x80000000, 9900), 197); /* 2^24·0.99/(2^23 + 1): 1.97 */
    assert_int_equal(pb_limbo_result_u(0x7fffff00, 9900), 198); /* v + 1 = 2^23: 1.98 */
    /* crash: h = 2^32 − 1 → 0.99 → at least 1.00; h = 0 → the top */
    assert_int_equal(pb_crash_point_h(UINT32_MAX, 9900), 100);
    assert_int_equal(pb_crash_point_h(0, 9900), 4294967296ull * 99);
    assert_int_equal(pb_crash_point_h(0x7fffffff, 9900), 198);
    assert_int_equal(pb_crash_point_h(0x7fffffff, 9000), 180);
    /* caps: targets 1.01 .. 1,000,000.00 */
    refused(PB_GAME_LIMBO, "{\"target\":1}", PB_ERR_FIELD_INVALID, "target");
    refused(PB_GAME_LIMBO, "{\"target\":1000000.01}", PB_ERR_FIELD_INVALID, "target");
    refused(PB_GAME_CRASH, "{\"cashout\":\"1.00\"}", PB_ERR_FIELD_INVALID, "cashout");
    pb_game_params p = parse(PB_GAME_LIMBO, "{\"target\":1000000}");
    assert_int_equal(pb_game_max_multiplier(&p, 9900), 10000000000ll);
    p = parse(PB_GAME_LIMBO, "{\"target\":\"1.01\"}");
    assert_int_equal(p.u.limbo.target, 101);
    /* play: win when result ≥ target, the multiplier is the target */
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    pb_game_input in = {.key = &k, .client_seed = "player-1", .nonce = 0};
    pb_game_outcome o;
    p = parse(PB_GAME_LIMBO, "{\"target\":1.08}");
    assert_int_equal(pb_game_play(&p, &in, 9900, &o), PB_OK);
    assert_int_equal(o.u.limbo.result, 108);
    assert_true(o.win);
    assert_int_equal(o.multiplier, 10800);
    p = parse(PB_GAME_LIMBO, "{\"target\":1.09}");
    assert_int_equal(pb_game_play(&p, &in, 9900, &o), PB_OK);
    assert_false(o.win);
    assert_int_equal(o.multiplier, 0);
    /* crash through the dispatcher: hash and salt, not the seed pair */
    p = parse(PB_GAME_CRASH, "{\"cashout\":1.21}");
    pb_game_input ci = {.crash_hash = SEED, .crash_salt = "salt-0000"};
    assert_int_equal(pb_game_play(&p, &ci, 9900, &o), PB_OK);
    assert_int_equal(o.u.crash.point, 121);
    assert_int_equal(o.multiplier, 12100);
    assert_int_equal(pb_game_play(&p, &in, 9900, &o), PB_ERR_FIELD_INVALID); /* no hash */
    assert_int_equal(pb_game_play(&p, &ci, 9950, &o), PB_ERR_FIELD_INVALID); /* RTP out of range */
}

static void mines_edges(void **state)
{
    (void)state;
    /* multiplier after k safe reveals: floor(rtp · C(25,k)/C(25−m,k)) */
    assert_int_equal(pb_mines_multiplier(1, 1, 9900), 9900 * 25 / 24);
    assert_int_equal(pb_mines_multiplier(1, 24, 9900), 9900 * 25); /* every safe tile: 24.75x */
    assert_int_equal(pb_mines_multiplier(24, 1, 9900), 9900 * 25); /* the one safe tile */
    assert_int_equal(pb_mines_multiplier(24, 2, 9900), 0);         /* impossible */
    assert_int_equal(pb_mines_multiplier(3, 0, 9900), 9900);
    assert_int_equal(pb_mines_multiplier(0, 1, 9900), 0);
    assert_int_equal(pb_mines_multiplier(25, 0, 9900), 0);
    assert_int_equal(pb_mines_multiplier(3, 5, 9900), 9900ll * 53130 / 26334); /* C(25,5)/C(22,5) */
    assert_int_equal(pb_mines_multiplier(12, 13, 9900), 9900ll * 5200300 / 1);
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    for (unsigned m = 1; m <= 24; m++)
        for (uint64_t nonce = 0; nonce < 20; nonce++) {
            pb_fair_stream s;
            uint8_t pos[PB_MINES_MAX];
            pb_fair_stream_init(&s, &k, "mines", nonce);
            pb_mines_positions(&s, m, pos);
            uint32_t seen = 0;
            for (unsigned i = 0; i < m; i++) {
                assert_true(pos[i] < 25);
                assert_false(seen >> pos[i] & 1);
                seen |= 1u << pos[i];
            }
        }
    /* one-shot play: reveal the tiles in order, stop at a mine */
    pb_game_input in = {.key = &k, .client_seed = "player-1", .nonce = 0}; /* mines 22, 5, 20 */
    pb_game_outcome o;
    pb_game_params p = parse(PB_GAME_MINES, "{\"mines\":3,\"tiles\":[0,1,2]}");
    assert_int_equal(pb_game_play(&p, &in, 9900, &o), PB_OK);
    assert_false(o.u.mines.hit);
    assert_int_equal(o.u.mines.safe, 3);
    assert_int_equal(o.multiplier, pb_mines_multiplier(3, 3, 9900));
    p = parse(PB_GAME_MINES, "{\"mines\":3,\"tiles\":[0,5,2]}");
    assert_int_equal(pb_game_play(&p, &in, 9900, &o), PB_OK);
    assert_true(o.u.mines.hit);
    assert_int_equal(o.u.mines.safe, 1);
    assert_int_equal(o.multiplier, 0);
    /* 24 mines: one tile; 1 mine: up to 24 tiles */
    p = parse(PB_GAME_MINES, "{\"mines\":24,\"tiles\":[3]}");
    assert_int_equal(pb_game_max_multiplier(&p, 9900), 247500);
    refused(PB_GAME_MINES, "{\"mines\":24,\"tiles\":[3,4]}", PB_ERR_FIELD_INVALID, "tiles");
    refused(PB_GAME_MINES, "{\"mines\":0}", PB_ERR_FIELD_INVALID, "mines");
    refused(PB_GAME_MINES, "{\"mines\":25}", PB_ERR_FIELD_INVALID, "mines");
    refused(PB_GAME_MINES, "{}", PB_ERR_FIELD_MISSING, "mines");
    refused(PB_GAME_MINES, "{\"mines\":2,\"tiles\":[1,1]}", PB_ERR_FIELD_INVALID, "tiles");
    refused(PB_GAME_MINES, "{\"mines\":2,\"tiles\":[25]}", PB_ERR_FIELD_INVALID, "tiles");
    p = parse(
        PB_GAME_MINES,
        "{\"mines\":1,\"tiles\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23]}");
    assert_int_equal(p.u.mines.picks, 24);
    assert_int_equal(pb_game_max_multiplier(&p, 9900), 247500);
}

static void keno_and_plinko(void **state)
{
    (void)state;
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    for (uint64_t nonce = 0; nonce < 50; nonce++) {
        pb_fair_stream s;
        uint8_t d[PB_KENO_DRAWN];
        pb_fair_stream_init(&s, &k, "keno", nonce);
        pb_keno_draw(&s, d);
        uint64_t seen = 0;
        for (int i = 0; i < PB_KENO_DRAWN; i++) {
            assert_true(d[i] >= 1 && d[i] <= 40);
            assert_false(seen >> d[i] & 1);
            seen |= 1ull << d[i];
        }
    }
    /* hits against the known draw 37 9 35 14 21 22 16 36 2 4 */
    pb_game_input in = {.key = &k, .client_seed = "player-1", .nonce = 0};
    pb_game_outcome o;
    pb_game_params p = parse(PB_GAME_KENO, "{\"risk\":\"high\",\"picks\":[37,9,35,1,40]}");
    assert_int_equal(pb_game_play(&p, &in, 9900, &o), PB_OK);
    assert_int_equal(o.u.keno.hits, 3);
    assert_int_equal(o.multiplier, pb_keno_multiplier(PB_RISK_HIGH, 5, 3, 9900));
    assert_true(o.multiplier > 0);
    /* tables: more hits never pay less; scaling to a lower RTP never pays more */
    for (int r = 0; r < PB_RISK_COUNT_; r++)
        for (unsigned c = 1; c <= 10; c++)
            for (unsigned h = 1; h <= c; h++) {
                assert_true(pb_keno_multiplier(r, c, h, 9900) >=
                            pb_keno_multiplier(r, c, h - 1, 9900));
                assert_true(pb_keno_multiplier(r, c, h, 8000) <= pb_keno_multiplier(r, c, h, 9900));
            }
    assert_int_equal(pb_keno_multiplier(PB_RISK_LOW, 11, 0, 9900), 0);
    assert_int_equal(pb_keno_multiplier(3, 5, 0, 9900), 0);
    refused(PB_GAME_KENO, "{\"picks\":[1,2]}", PB_ERR_FIELD_MISSING, "risk");
    refused(PB_GAME_KENO, "{\"risk\":\"low\",\"picks\":[0]}", PB_ERR_FIELD_INVALID, "picks");
    refused(PB_GAME_KENO, "{\"risk\":\"low\",\"picks\":[1,2,3,4,5,6,7,8,9,10,11]}",
            PB_ERR_FIELD_INVALID, "picks");
    refused(PB_GAME_KENO, "{\"risk\":\"extreme\",\"picks\":[1]}", PB_ERR_FIELD_INVALID, "risk");
    /* plinko: bucket = number of rights, symmetric tables, edges pay most */
    for (unsigned rows = 8; rows <= 16; rows++)
        for (int r = 0; r < PB_RISK_COUNT_; r++) {
            for (unsigned b = 0; b <= rows; b++)
                assert_int_equal(pb_plinko_multiplier(rows, r, b, 9900),
                                 pb_plinko_multiplier(rows, r, rows - b, 9900));
            pb_game_params pp = {.kind = PB_GAME_PLINKO, .u.plinko = {(uint8_t)rows, (uint8_t)r}};
            assert_int_equal(pb_game_max_multiplier(&pp, 9900),
                             pb_plinko_multiplier(rows, r, 0, 9900));
        }
    for (uint64_t nonce = 0; nonce < 30; nonce++) {
        pb_fair_stream s;
        uint32_t path;
        pb_fair_stream_init(&s, &k, "plinko", nonce);
        unsigned b = pb_plinko_drop(&s, 16, &path);
        assert_int_equal(b, (unsigned)__builtin_popcount(path));
    }
    assert_int_equal(pb_plinko_multiplier(7, 0, 0, 9900), 0);
    assert_int_equal(pb_plinko_multiplier(8, 0, 9, 9900), 0);
    refused(PB_GAME_PLINKO, "{\"rows\":17,\"risk\":\"low\"}", PB_ERR_FIELD_INVALID, "rows");
    refused(PB_GAME_PLINKO, "{\"rows\":8}", PB_ERR_FIELD_MISSING, "risk");
}

/* Every pocket's return for one bet equals what the bet covers × (pays + 1). */
static void roulette_bet_covers(int type, const uint8_t *nums, size_t n, const char *covered,
                                unsigned pays)
{
    pb_roulette_bet b;
    assert_int_equal(pb_roulette_bet_make(type, nums, n, 100, &b), 0);
    assert_int_equal(pb_roulette_pays(type), pays);
    uint64_t want = 0;
    for (const char *p = covered; *p;) {
        char *end;
        want |= 1ull << strtoul(p, &end, 10);
        p = *end ? end + 1 : end;
    }
    assert_int_equal(b.mask, want);
    pb_game_params p = {.kind = PB_GAME_ROULETTE, .u.roulette = {.count = 1}};
    p.u.roulette.bets[0] = b;
    pb_rtp r;
    assert_int_equal(pb_game_rtp(&p, 9729, &r), PB_OK);
    assert_int_equal(r.num, 36); /* every bet: 36/37 */
    assert_int_equal(r.den, 37);
    for (unsigned pocket = 0; pocket < 37; pocket++) {
        pb_game_outcome o = {.kind = PB_GAME_ROULETTE, .u.roulette.pocket = (uint8_t)pocket};
        int64_t payout = -1;
        assert_int_equal(pb_game_payout(&p, &o, 100, &payout), PB_OK);
        assert_int_equal(payout, (want >> pocket & 1) ? 100 * (pays + 1) : 0);
    }
}

static int bet_ok(int type, const uint8_t *nums, size_t n)
{
    pb_roulette_bet b;
    return pb_roulette_bet_make(type, nums, n, 1, &b);
}

static void roulette_every_bet(void **state)
{
    (void)state;
    roulette_bet_covers(PB_RBET_STRAIGHT, (uint8_t[]){0}, 1, "0", 35);
    roulette_bet_covers(PB_RBET_STRAIGHT, (uint8_t[]){36}, 1, "36", 35);
    roulette_bet_covers(PB_RBET_SPLIT, (uint8_t[]){17, 20}, 2, "17,20", 17); /* vertical */
    roulette_bet_covers(PB_RBET_SPLIT, (uint8_t[]){18, 17}, 2, "17,18", 17); /* horizontal */
    roulette_bet_covers(PB_RBET_SPLIT, (uint8_t[]){0, 2}, 2, "0,2", 17);     /* with zero */
    roulette_bet_covers(PB_RBET_STREET, (uint8_t[]){34, 35, 36}, 3, "34,35,36", 11);
    roulette_bet_covers(PB_RBET_TRIO, (uint8_t[]){0, 1, 2}, 3, "0,1,2", 11);
    roulette_bet_covers(PB_RBET_TRIO, (uint8_t[]){3, 2, 0}, 3, "0,2,3", 11);
    roulette_bet_covers(PB_RBET_CORNER, (uint8_t[]){32, 33, 35, 36}, 4, "32,33,35,36", 8);
    roulette_bet_covers(PB_RBET_FIRST_FOUR, (uint8_t[]){0, 1, 2, 3}, 4, "0,1,2,3", 8);
    roulette_bet_covers(PB_RBET_SIX_LINE, (uint8_t[]){31, 32, 33, 34, 35, 36}, 6,
                        "31,32,33,34,35,36", 5);
    roulette_bet_covers(PB_RBET_DOZEN, (uint8_t[]){2}, 1, "13,14,15,16,17,18,19,20,21,22,23,24", 2);
    roulette_bet_covers(PB_RBET_COLUMN, (uint8_t[]){3}, 1, "3,6,9,12,15,18,21,24,27,30,33,36", 2);
    roulette_bet_covers(PB_RBET_COLUMN, (uint8_t[]){1}, 1, "1,4,7,10,13,16,19,22,25,28,31,34", 2);
    roulette_bet_covers(PB_RBET_RED, NULL, 0, "1,3,5,7,9,12,14,16,18,19,21,23,25,27,30,32,34,36",
                        1);
    roulette_bet_covers(PB_RBET_BLACK, NULL, 0, "2,4,6,8,10,11,13,15,17,20,22,24,26,28,29,31,33,35",
                        1);
    roulette_bet_covers(PB_RBET_ODD, NULL, 0, "1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31,33,35",
                        1);
    roulette_bet_covers(PB_RBET_EVEN, NULL, 0, "2,4,6,8,10,12,14,16,18,20,22,24,26,28,30,32,34,36",
                        1);
    roulette_bet_covers(PB_RBET_LOW, NULL, 0, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18", 1);
    roulette_bet_covers(PB_RBET_HIGH, NULL, 0,
                        "19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36", 1);
    /* shapes that are not on the layout */
    assert_int_equal(bet_ok(PB_RBET_STRAIGHT, (uint8_t[]){37}, 1), -1);
    assert_int_equal(bet_ok(PB_RBET_SPLIT, (uint8_t[]){3, 4}, 2), -1); /* row end to next row */
    assert_int_equal(bet_ok(PB_RBET_SPLIT, (uint8_t[]){1, 5}, 2), -1); /* diagonal */
    assert_int_equal(bet_ok(PB_RBET_SPLIT, (uint8_t[]){0, 4}, 2), -1);
    assert_int_equal(bet_ok(PB_RBET_SPLIT, (uint8_t[]){7, 7}, 2), -1);
    assert_int_equal(bet_ok(PB_RBET_STREET, (uint8_t[]){2, 3, 4}, 3), -1);
    assert_int_equal(bet_ok(PB_RBET_TRIO, (uint8_t[]){0, 1, 3}, 3), -1);
    assert_int_equal(bet_ok(PB_RBET_CORNER, (uint8_t[]){3, 4, 6, 7}, 4), -1);
    assert_int_equal(bet_ok(PB_RBET_CORNER, (uint8_t[]){34, 35, 37, 38}, 4), -1);
    assert_int_equal(bet_ok(PB_RBET_SIX_LINE, (uint8_t[]){2, 3, 4, 5, 6, 7}, 6), -1);
    assert_int_equal(bet_ok(PB_RBET_DOZEN, (uint8_t[]){4}, 1), -1);
    assert_int_equal(bet_ok(PB_RBET_COLUMN, (uint8_t[]){0}, 1), -1);
    assert_int_equal(bet_ok(PB_RBET_RED, (uint8_t[]){1}, 1), -1);
    assert_int_equal(bet_ok(PB_RBET_STRAIGHT, (uint8_t[]){1, 2}, 2), -1);
    pb_roulette_bet b;
    assert_int_equal(pb_roulette_bet_make(PB_RBET_RED, NULL, 0, 0, &b), -1); /* no stake */
    assert_int_equal(pb_roulette_bet_parse("first_four"), PB_RBET_FIRST_FOUR);
    assert_int_equal(pb_roulette_bet_parse("basket"), -1);
    /* several bets per spin, stakes in the currency */
    pb_game_params p = parse(
        PB_GAME_ROULETTE, "{\"bets\":[{\"type\":\"straight\",\"numbers\":[33],\"amount\":\"2.50\"},"
                          "{\"type\":\"black\",\"amount\":\"10.00\"},"
                          "{\"type\":\"dozen\",\"numbers\":[1],\"amount\":\"1.00\"}]}");
    assert_int_equal(pb_game_stake_total(&p), 1350);
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    pb_game_input in = {.key = &k, .client_seed = "player-1", .nonce = 0}; /* pocket 33, black */
    pb_game_outcome o;
    assert_int_equal(pb_game_play(&p, &in, 9729, &o), PB_OK);
    assert_int_equal(o.u.roulette.pocket, 33);
    int64_t payout;
    assert_int_equal(pb_game_payout(&p, &o, 1350, &payout), PB_OK);
    assert_int_equal(payout, 250 * 36 + 1000 * 2); /* straight and black win, the dozen loses */
    assert_int_equal(o.multiplier, (int64_t)(11000 * 10000ll / 1350));
    assert_int_equal(pb_game_payout(&p, &o, 1349, &payout), PB_ERR_FIELD_INVALID);
    refused(PB_GAME_ROULETTE,
            "{\"bets\":[{\"type\":\"split\",\"numbers\":[1,5],\"amount\":\"1.00\"}]}",
            PB_ERR_FIELD_INVALID, "bets[0].numbers");
    refused(PB_GAME_ROULETTE, "{\"bets\":[{\"type\":\"red\",\"amount\":\"1.001\"}]}",
            PB_ERR_AMOUNT_INVALID, "bets[0].amount");
    refused(PB_GAME_ROULETTE, "{\"bets\":[{\"type\":\"red\"}]}", PB_ERR_FIELD_MISSING,
            "bets[0].amount");
    refused(PB_GAME_ROULETTE, "{\"bets\":[{\"type\":\"red\",\"amount\":\"1\",\"odds\":2}]}",
            PB_ERR_UNKNOWN_FIELD, "bets[0].odds");
    refused(PB_GAME_ROULETTE, "{\"bets\":[]}", PB_ERR_FIELD_INVALID, "bets");
    refused(PB_GAME_ROULETTE,
            "{\"bets\":[{\"type\":\"red\",\"amount\":\"92233720368547758.07\"},"
            "{\"type\":\"black\",\"amount\":\"1.00\"}]}",
            PB_ERR_OVERFLOW, "bets");
}

static void slot_lines(void **state)
{
    (void)state;
    /* symbols have names; free spins 8/10/15 for 3/4/5 scatters */
    assert_string_equal(pb_slot_symbol_name(0), "wild");
    assert_string_equal(pb_slot_symbol_name(9), "scatter");
    assert_null(pb_slot_symbol_name(10));
    assert_int_equal(pb_slot_free_spins(2), 0);
    assert_int_equal(pb_slot_free_spins(3), 8);
    assert_int_equal(pb_slot_free_spins(5), 15);
    /* a round's multiplier is the paid spin plus 3 × each free spin; the grid
     * shows strip[(stop + row) mod 20] and a spin's win is its winning lines' */
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    pb_game_params p = {.kind = PB_GAME_SLOT};
    int free_rounds = 0;
    for (uint64_t nonce = 0; nonce < 3000; nonce++) {
        pb_game_input in = {.key = &k, .client_seed = "slot", .nonce = nonce};
        pb_game_outcome o;
        assert_int_equal(pb_game_play(&p, &in, 9600, &o), PB_OK);
        int64_t total = 0;
        for (unsigned i = 0; i < o.u.slot.nspins; i++) {
            const pb_slot_spin *s = &o.u.slot.spins[i];
            total += i ? s->win * PB_SLOT_FREE_MULT : s->win;
            unsigned sc = 0;
            for (int r = 0; r < PB_SLOT_ROWS; r++)
                for (int c = 0; c < PB_SLOT_REELS; c++)
                    sc += s->grid[r][c] == 9;
            assert_int_equal(sc, s->scatters);
            assert_true(s->win >= 0);
            if (!s->line_mask && s->scatters < 3)
                assert_int_equal(s->win, 0);
        }
        assert_int_equal(o.u.slot.nspins, 1 + pb_slot_free_spins(o.u.slot.spins[0].scatters));
        assert_int_equal(o.multiplier, total);
        assert_true(o.multiplier <= pb_game_max_multiplier(&p, 9600));
        free_rounds += o.u.slot.nspins > 1;
    }
    assert_true(free_rounds > 0); /* 3+ scatters come up (about 2.6% of spins) */
}

static void outcome_json(void **state)
{
    (void)state;
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    pb_game_input in = {.key = &k, .client_seed = "player-1", .nonce = 0};
    pb_game_outcome o;
    struct {
        pb_game_kind kind;
        const char *params, *want;
    } cases[] = {
        {PB_GAME_DICE, "{}", "{\"game\":\"dice\",\"result\":91.29}"},
        {PB_GAME_DICE, "{\"target\":50,\"direction\":\"over\"}",
         "{\"game\":\"dice\",\"result\":91.29,\"multiplier\":1.98,\"win\":true}"},
        {PB_GAME_LIMBO, "{}", "{\"game\":\"limbo\",\"result\":1.08}"},
        {PB_GAME_MINES, "{\"mines\":3}", "{\"game\":\"mines\",\"result\":[22,5,20]}"},
        {PB_GAME_KENO, "{}", "{\"game\":\"keno\",\"result\":[37,9,35,14,21,22,16,36,2,4]}"},
        {PB_GAME_ROULETTE, "{}", "{\"game\":\"roulette\",\"result\":33,\"color\":\"black\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_game_params p = parse(cases[i].kind, cases[i].params);
        assert_int_equal(pb_game_play(&p, &in, 9900 - (cases[i].kind == PB_GAME_ROULETTE ? 171 : 0),
                                      &o),
                         PB_OK);
        json_t *j = pb_game_outcome_json(&p, &o);
        char *s = pb_game_json_dumps(j);
        assert_string_equal(s, cases[i].want);
        free(s);
        json_decref(j);
    }
    pb_game_params p = parse(PB_GAME_PLINKO, "{\"rows\":8,\"risk\":\"low\"}");
    assert_int_equal(pb_game_play(&p, &in, 9900, &o), PB_OK);
    json_t *j = pb_game_outcome_json(&p, &o);
    assert_int_equal(json_integer_value(json_object_get(j, "bucket")), 5);
    assert_true(json_real_value(json_object_get(j, "multiplier")) * 10000 ==
                (double)pb_plinko_multiplier(8, PB_RISK_LOW, 5, 9900));
    json_decref(j);
    /* params round-trip through JSON */
    p = parse(PB_GAME_ROULETTE,
              "{\"bets\":[{\"type\":\"corner\",\"numbers\":[5,1,2,4],\"amount\":\"1.50\"}]}");
    j = pb_game_params_to_json(&p, pb_currency_find("EUR"));
    char *s = pb_game_json_dumps(j);
    assert_string_equal(
        s, "{\"bets\":[{\"type\":\"corner\",\"numbers\":[1,2,4,5],\"amount\":\"1.50\"}]}");
    free(s);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_ranges),   cmocka_unit_test(payouts),
        cmocka_unit_test(dice_edges),         cmocka_unit_test(limbo_and_crash_edges),
        cmocka_unit_test(mines_edges),        cmocka_unit_test(keno_and_plinko),
        cmocka_unit_test(roulette_every_bet), cmocka_unit_test(slot_lines),
        cmocka_unit_test(outcome_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
