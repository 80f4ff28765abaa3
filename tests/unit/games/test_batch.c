/*
 * test_batch.c — the batch path of the games (pb_game_simulate: streams primed
 * several rounds at a time, nonces stepped in place with
 * pb_fair_stream_set_nonce, every multiplier looked up in tables made once by
 * pb_games_prepare) gives, round for round, what one round at a time gives
 * (pb_game_play → pb_game_payout, the money side's calls).
 *
 * For each game and several parameter sets (crash: the game hash is round 0
 * of the nonce as hex, the salt the client seed; every mine count's block count,
 * plinko 8..16 rows, keno 1 and 10 picks, roulette bets of every payout,
 * slot with its free spins), client seeds whose messages take one or two
 * SHA-256 blocks, and first nonces where the decimal nonce gains a digit or
 * wraps past UINT64_MAX, the simulation's totals (rounds, Σ payout, Σ payout²,
 * wins, buckets) equal the sums of pb_game_play + pb_game_payout over the
 * same nonces. tests/meson.build runs it under every PITBOSS_FAIR_SIMD path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "games/rules.h"
#include "games/sim.h"

#define SEED "77438bbb638b48da846d7ec31d36e807e0da02057ab6deb975d06ca8bbf97f5e"

static pb_game_params params_of(pb_game_kind kind, const char *json)
{
    pb_game_params p;
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    pb_game_error err;
    pb_err e = pb_game_params_from_json(kind, j, pb_currency_find("EUR"), &p, &err);
    json_decref(j);
    if (e != PB_OK)
        fail_msg("%s: %s", json, err.message);
    return p;
}

/* The simulation's totals equal the ones added up round by round. */
static void sims_equal(const pb_game_sim *acc, const pb_game_sim *want, int64_t stake)
{
    assert_int_equal(acc->rounds, want->rounds);
    assert_int_equal(acc->stake, stake);
    assert_true(acc->paid == want->paid);
    assert_true(acc->paid_sq == want->paid_sq);
    assert_int_equal(acc->wins, want->wins);
    assert_memory_equal(acc->buckets, want->buckets, sizeof acc->buckets);
}

/* The simulation of [first, first + n) against one round at a time. */
static void batch_equals_single(const pb_game_params *p, uint32_t rtp, const char *client,
                                uint64_t first, uint64_t n)
{
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    pb_game_sim *acc = calloc(1, sizeof *acc), *want = calloc(1, sizeof *want);
    assert_non_null(acc);
    assert_non_null(want);
    assert_int_equal(pb_game_simulate(p, rtp, &k, client, first, n, acc), PB_OK);
    int64_t stake = p->kind == PB_GAME_ROULETTE ? pb_game_stake_total(p) : PB_MULT_ONE;
    for (uint64_t i = 0; i < n; i++) {
        pb_game_input in = {.key = &k, .client_seed = client, .nonce = first + i};
        char hash[PB_FAIR_HASH_HEX_LEN + 1];
        if (p->kind == PB_GAME_CRASH) {
            /* the game hash: round 0 of the nonce, as hex; salt: client */
            uint8_t b[32];
            pb_fair_block(&k, client, strlen(client), first + i, 0, b);
            for (int j = 0; j < 32; j++)
                snprintf(hash + 2 * j, 3, "%02x", b[j]);
            in.crash_hash = hash;
            in.crash_salt = client;
        }
        pb_game_outcome o;
        int64_t payout;
        assert_int_equal(pb_game_play(p, &in, rtp, &o), PB_OK);
        assert_int_equal(pb_game_payout(p, &o, stake, &payout), PB_OK);
        want->rounds++;
        want->paid += (uint64_t)payout;
        want->paid_sq += (unsigned __int128)(uint64_t)payout * (uint64_t)payout;
        want->wins += payout > 0;
        want->buckets[pb_game_bucket_of(p, &o)]++;
    }
    sims_equal(acc, want, stake);
    free(acc);
    free(want);
}

/* A chain's games played in bulk (pb_game_simulate_chain, the points from
 * pb_fair_crash_h_hex_many) against one game at a time through pb_game_play
 * and pb_game_payout with the chain's hash and salt: the same totals, for
 * chain lengths around the kernel's groups and salts of one and two blocks
 * (a chain's salt is 64 hex characters); and only crash is played. */
static void chain_equals_single(void **state)
{
    (void)state;
    enum { N = 1000 };
    char(*chain)[PB_FAIR_HASH_HEX_LEN + 1] = malloc(N * sizeof *chain);
    assert_non_null(chain);
    pb_crash_chain_generate(SEED, N, chain);
    static const char *const salts[] = {
        "0000000000000000000fa3b65e43e4240d71762a5bf397d5304b2596d116859c", "s"};
    static const size_t lens[] = {1, 2, 15, 16, 17, 33, N};
    static const struct {
        const char *params;
        uint32_t rtp;
    } crash[] = {{"{\"cashout\":2}", 9900}, {"{\"cashout\":1.01}", 8500}};
    for (size_t c = 0; c < sizeof crash / sizeof crash[0]; c++)
        for (size_t si = 0; si < sizeof salts / sizeof salts[0]; si++)
            for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                pb_game_params p = params_of(PB_GAME_CRASH, crash[c].params);
                size_t n = lens[li];
                pb_game_sim *acc = calloc(1, sizeof *acc), *want = calloc(1, sizeof *want);
                assert_non_null(acc);
                assert_non_null(want);
                assert_int_equal(pb_game_simulate_chain(&p, crash[c].rtp, (const char(*)[65])chain,
                                                        n, salts[si], acc),
                                 PB_OK);
                for (size_t i = 0; i < n; i++) {
                    pb_game_input in = {.crash_hash = chain[i], .crash_salt = salts[si]};
                    pb_game_outcome o;
                    int64_t payout;
                    assert_int_equal(pb_game_play(&p, &in, crash[c].rtp, &o), PB_OK);
                    assert_int_equal(pb_game_payout(&p, &o, PB_MULT_ONE, &payout), PB_OK);
                    want->rounds++;
                    want->paid += (uint64_t)payout;
                    want->paid_sq += (unsigned __int128)(uint64_t)payout * (uint64_t)payout;
                    want->wins += payout > 0;
                    want->buckets[pb_game_bucket_of(&p, &o)]++;
                }
                assert_int_equal(acc->rounds, n);
                sims_equal(acc, want, PB_MULT_ONE);
                free(acc);
                free(want);
            }
    /* only crash, at an allowed RTP */
    pb_game_sim acc;
    memset(&acc, 0, sizeof acc);
    pb_game_params dice = params_of(PB_GAME_DICE, "{\"target\":50.5,\"direction\":\"over\"}");
    pb_game_params crash2 = params_of(PB_GAME_CRASH, "{\"cashout\":2}");
    const char(*cc)[65] = (const char(*)[65])chain;
    assert_int_equal(pb_game_simulate_chain(&dice, 9900, cc, 10, "s", &acc), PB_ERR_FIELD_INVALID);
    assert_int_equal(pb_game_simulate_chain(&crash2, 5000, cc, 10, "s", &acc),
                     PB_ERR_FIELD_INVALID);
    assert_int_equal(pb_game_simulate_chain(&crash2, 9900, cc, 10, NULL, &acc),
                     PB_ERR_FIELD_INVALID);
    assert_int_equal(acc.rounds, 0);
    free(chain);
}

/* The chain made and played segment by segment over threads
 * (pb_game_simulate_chain_threads, what `sim rtp --game crash` runs) against the
 * whole chain made at once (pb_crash_chain_generate) and played in one call: the
 * same totals for lengths below, at and across its 65,536-hash segments, on 1 to
 * 3 threads; and its refusals. */
static void chain_threads_equals_chain(void **state)
{
    (void)state;
    enum { N = 2 * 65536 + 17 };
    char(*chain)[PB_FAIR_HASH_HEX_LEN + 1] = malloc(N * sizeof *chain);
    assert_non_null(chain);
    pb_crash_chain_generate(SEED, N, chain);
    pb_game_params p = params_of(PB_GAME_CRASH, "{\"cashout\":1.5}");
    static const size_t lens[] = {1, 2, 65535, 65536, 65537, N};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        pb_game_sim *want = calloc(1, sizeof *want);
        assert_non_null(want);
        assert_int_equal(pb_game_simulate_chain(&p, 9700, (const char(*)[65])chain, lens[li],
                                                "salt-x", want),
                         PB_OK);
        for (unsigned threads = 1; threads <= 3; threads++) {
            pb_game_sim *acc = calloc(1, sizeof *acc);
            assert_non_null(acc);
            acc->rounds = 99; /* zeroed first */
            assert_int_equal(pb_game_simulate_chain_threads(&p, 9700, SEED, lens[li], "salt-x",
                                                            threads, acc),
                             PB_OK);
            sims_equal(acc, want, PB_MULT_ONE);
            free(acc);
        }
        free(want);
    }
    pb_game_sim acc;
    pb_game_params dice = params_of(PB_GAME_DICE, "{\"target\":50.5,\"direction\":\"over\"}");
    assert_int_equal(pb_game_simulate_chain_threads(&dice, 9900, SEED, 10, "s", 1, &acc),
                     PB_ERR_FIELD_INVALID);
    assert_int_equal(pb_game_simulate_chain_threads(&p, 9700, "abc", 10, "s", 1, &acc),
                     PB_ERR_FIELD_INVALID);
    assert_int_equal(pb_game_simulate_chain_threads(&p, 9700, SEED, 10, "s", 0, &acc),
                     PB_ERR_FIELD_INVALID);
    assert_int_equal(pb_game_simulate_chain_threads(&p, 9700, SEED, 10, NULL, 1, &acc),
                     PB_ERR_FIELD_INVALID);
    free(chain);
}

static const struct {
    pb_game_kind kind;
    const char *params;
    uint32_t rtp;
} cases[] = {
    {PB_GAME_DICE, "{\"target\":50.5,\"direction\":\"over\"}", 9900},
    {PB_GAME_DICE, "{\"target\":1.5,\"direction\":\"under\"}", 8000},
    {PB_GAME_CRASH, "{\"cashout\":2}", 9900},
    {PB_GAME_CRASH, "{\"cashout\":1.01}", 8500},
    {PB_GAME_LIMBO, "{\"target\":2}", 9900},
    {PB_GAME_LIMBO, "{\"target\":1.01}", 9500},
    {PB_GAME_MINES, "{\"mines\":3,\"tiles\":[0,1,2,3,4]}", 9900},
    {PB_GAME_MINES, "{\"mines\":9,\"tiles\":[24,1]}", 9900},
    {PB_GAME_MINES, "{\"mines\":17,\"tiles\":[5]}", 9000},
    {PB_GAME_MINES, "{\"mines\":24,\"tiles\":[12]}", 9900},
    {PB_GAME_KENO, "{\"risk\":\"medium\",\"picks\":[3,11,19,27,35]}", 9900},
    {PB_GAME_KENO, "{\"risk\":\"high\",\"picks\":[1,2,3,4,5,6,7,8,9,40]}", 9800},
    {PB_GAME_KENO, "{\"risk\":\"low\",\"picks\":[40]}", 8000},
    {PB_GAME_PLINKO, "{\"rows\":8,\"risk\":\"high\"}", 9900},
    {PB_GAME_PLINKO, "{\"rows\":9,\"risk\":\"low\"}", 9900},
    {PB_GAME_PLINKO, "{\"rows\":12,\"risk\":\"high\"}", 9900},
    {PB_GAME_PLINKO, "{\"rows\":15,\"risk\":\"low\"}", 8800},
    {PB_GAME_PLINKO, "{\"rows\":16,\"risk\":\"medium\"}", 9900},
    {PB_GAME_ROULETTE,
     "{\"bets\":[{\"type\":\"straight\",\"numbers\":[17],\"amount\":\"1.00\"},"
     "{\"type\":\"red\",\"amount\":\"2.50\"},{\"type\":\"dozen\",\"numbers\":[2],\"amount\":\"0.10\"},"
     "{\"type\":\"corner\",\"numbers\":[1,2,4,5],\"amount\":\"3.00\"},"
     "{\"type\":\"first_four\",\"amount\":\"1.00\",\"numbers\":[0,1,2,3]},"
     "{\"type\":\"six_line\",\"numbers\":[31,32,33,34,35,36],\"amount\":\"0.01\"}]}",
     9729},
    {PB_GAME_SLOT, "{}", 9600},
    {PB_GAME_SLOT, "{}", 8000},
};

static void every_game(void **state)
{
    (void)state;
    static const char *const clients[] = {
        "batch", "0123456789012345678901234567890123456789012345",
        "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"};
    static const uint64_t firsts[] = {0, 99990, UINT64_MAX - 700};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        pb_game_params p = params_of(cases[c].kind, cases[c].params);
        for (size_t s = 0; s < 3; s++)
            for (size_t f = 0; f < 3; f++)
                batch_equals_single(&p, cases[c].rtp, clients[s], firsts[f],
                                    cases[c].kind == PB_GAME_SLOT ? 3001 : 1003);
    }
}

/* The multiplier of an outcome by the games' own exported rules, computed
 * here without the prepared round: hits counted pick by pick, roulette's
 * return summed bet by bet. */
static int64_t rules_multiplier(const pb_game_params *p, const pb_game_outcome *o, uint32_t rtp)
{
    switch (p->kind) {
    case PB_GAME_DICE:
        return pb_dice_wins(&p->u.dice, o->u.dice.roll) ? pb_dice_multiplier(&p->u.dice, rtp) : 0;
    case PB_GAME_LIMBO:
        return o->u.limbo.result >= p->u.limbo.target ? (int64_t)p->u.limbo.target * 100 : 0;
    case PB_GAME_MINES: {
        unsigned safe = 0;
        for (unsigned i = 0; i < p->u.mines.picks; i++) {
            for (unsigned m = 0; m < p->u.mines.mines; m++)
                if (o->u.mines.positions[m] == p->u.mines.tiles[i])
                    return 0;
            safe++;
        }
        return pb_mines_multiplier(p->u.mines.mines, safe, rtp);
    }
    case PB_GAME_KENO: {
        unsigned hits = 0;
        for (unsigned i = 0; i < p->u.keno.count; i++)
            for (unsigned d = 0; d < PB_KENO_DRAWN; d++)
                hits += o->u.keno.drawn[d] == p->u.keno.picks[i];
        assert_int_equal(o->u.keno.hits, hits);
        return pb_keno_multiplier(p->u.keno.risk, p->u.keno.count, hits, rtp);
    }
    case PB_GAME_PLINKO:
        return pb_plinko_multiplier(p->u.plinko.rows, p->u.plinko.risk, o->u.plinko.bucket, rtp);
    case PB_GAME_ROULETTE: {
        int64_t ret = 0, stake = 0;
        for (size_t i = 0; i < p->u.roulette.count; i++) {
            const pb_roulette_bet *b = &p->u.roulette.bets[i];
            stake += b->amount;
            if (b->mask >> o->u.roulette.pocket & 1)
                ret += b->amount * (int64_t)(pb_roulette_pays(b->type) + 1);
        }
        assert_true(stake > 0); /* the rules refuse a play without bets */
        return stake > 0 ? ret * PB_MULT_ONE / stake : -1;
    }
    default: return o->multiplier; /* slot: its own spins (slot_lines in test_games.c) */
    }
}

/* The prepared round with tables equals the single round, outcome field by
 * field, and the multiplier the games' rules give; the refusals too (plinko
 * without params, crash, an RTP out of range). */
static void prepared_outcomes(void **state)
{
    (void)state;
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        if (cases[c].kind == PB_GAME_CRASH)
            continue; /* no stream: its batch is in every_game */
        pb_game_params p = params_of(cases[c].kind, cases[c].params);
        pb_games_prep pp;
        assert_int_equal(pb_games_prepare(&p, cases[c].rtp, true, &pp), PB_OK);
        for (uint64_t nonce = 0; nonce < 2000; nonce++) {
            pb_fair_stream a, b;
            pb_fair_stream_init(&a, &k, "prep", nonce);
            pb_fair_stream_init(&b, &k, "prep", nonce);
            pb_game_outcome oa, ob;
            memset(&oa, 0, sizeof oa);
            memset(&ob, 0, sizeof ob);
            assert_int_equal(pb_games_play_prepared(&pp, &a, &oa), PB_OK);
            assert_int_equal(pb_game_play_stream(&p, &b, cases[c].rtp, &ob), PB_OK);
            assert_memory_equal(&oa, &ob, sizeof oa);
            assert_int_equal(oa.multiplier, rules_multiplier(&p, &oa, cases[c].rtp));
            int64_t pa, pbo, stake = p.kind == PB_GAME_ROULETTE ? pb_game_stake_total(&p) : 777;
            assert_int_equal(pb_games_payout_prepared(&pp, &oa, stake, &pa), PB_OK);
            assert_int_equal(pb_game_payout(&p, &ob, stake, &pbo), PB_OK);
            assert_int_equal(pa, pbo);
        }
    }
    pb_game_params plinko = {.kind = PB_GAME_PLINKO};
    pb_games_prep pp;
    assert_int_equal(pb_games_prepare(&plinko, 9900, true, &pp), PB_OK);
    pb_fair_stream s;
    pb_fair_stream_init(&s, &k, "prep", 0);
    pb_game_outcome o;
    assert_int_equal(pb_games_play_prepared(&pp, &s, &o), PB_ERR_FIELD_INVALID);
    pb_game_params crash = {.kind = PB_GAME_CRASH};
    assert_int_equal(pb_games_prepare(&crash, 9900, true, &pp), PB_ERR_FIELD_INVALID);
    pb_game_params dice = params_of(PB_GAME_DICE, "{\"target\":50.5}");
    assert_int_equal(pb_games_prepare(&dice, 9950, true, &pp), PB_ERR_FIELD_INVALID);
}

/* Known answers from before the batch path existed: the outcome JSON of
 * nonces 0..199 (client seed "known") per game, one line each, hashed with
 * SHA-256 — the digests of `pitboss fair verify` output made by the build of
 * commit 88d9c6c (before the bulk priming, the bit-mask draws, the slot's
 * window tables and the prepared round). Played one round at a time and
 * through the batch (pb_fair_stream_prime of pb_game_blocks rounds, then
 * the prepared round with tables). */
static void known_outcome_digests(void **state)
{
    (void)state;
    static const struct {
        pb_game_kind kind;
        const char *params, *digest;
    } known[] = {
        {PB_GAME_DICE, "{\"target\":50.5,\"direction\":\"over\"}",
         "e079bc63b8c9542e8752da777797187b5f0e531c5a929bf39fb4744cf5a6be6d"},
        {PB_GAME_LIMBO, "{\"target\":2}",
         "5d931ebedb350d1a7672f2c16e169141a88495a4f8f665cd55ed44ab0abf004d"},
        {PB_GAME_MINES, "{\"mines\":3,\"tiles\":[0,1,2,3,4]}",
         "6b5262a5620b60e95c72eafdde8f57b131b63754f0f6c0b8cb24faaeef23bfaf"},
        {PB_GAME_MINES, "{\"mines\":24,\"tiles\":[7]}",
         "e3afde5adc792747d42d503ff4b9afe169fb22159ab491bd6c5a22b25d28ce39"},
        {PB_GAME_KENO, "{\"risk\":\"high\",\"picks\":[1,5,9,13,17,21,25,29,33,37]}",
         "9d18e9669e0de0560945ae3fd91f61d791ea4541e152a19fa4ccdede6b6f0f33"},
        {PB_GAME_PLINKO, "{\"rows\":16,\"risk\":\"medium\"}",
         "e8e817238fb47e40005cfc925cff737ae5cc654cd35473a959511bf5d3073e71"},
        {PB_GAME_PLINKO, "{\"rows\":11,\"risk\":\"low\"}",
         "7d57f7a6a3fc67de847833a487ca913dbc2d17f2b684a6495fdf61cdb7f5c612"},
        {PB_GAME_ROULETTE,
         "{\"bets\":[{\"type\":\"straight\",\"numbers\":[17],\"amount\":\"1.00\"},"
         "{\"type\":\"red\",\"amount\":\"2.00\"}]}",
         "cdc6edb4c08984eb9f3ebbd9209de9c10a3c3b27bcb52e84517962e6fd743fc7"},
        {PB_GAME_SLOT, "{}", "5aa93edc361117e31746a377aa35291468b2ea97e41db6feed0bf3489f82d30c"},
    };
    enum { N = 200 };
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    for (size_t g = 0; g < sizeof known / sizeof known[0]; g++) {
        pb_game_params p = params_of(known[g].kind, known[g].params);
        uint32_t rtp = pb_game_info_of(p.kind)->default_rtp_bp;
        pb_games_prep pp;
        assert_int_equal(pb_games_prepare(&p, rtp, true, &pp), PB_OK);
        for (int batch = 0; batch < 2; batch++) {
            size_t cap = 1 << 20, len = 0;
            char *text = malloc(cap);
            assert_non_null(text);
            pb_fair_stream s[16];
            for (uint64_t n = 0; n < N; n++) {
                pb_game_outcome o;
                if (!batch) {
                    pb_game_input in = {.key = &k, .client_seed = "known", .nonce = n};
                    assert_int_equal(pb_game_play(&p, &in, rtp, &o), PB_OK);
                } else {
                    if (n % 16 == 0) {
                        for (size_t i = 0; i < 16; i++)
                            pb_fair_stream_init(&s[i], &k, "known", n + i);
                        pb_fair_stream_prime(s, 16, pb_game_blocks(&p));
                    }
                    assert_int_equal(pb_games_play_prepared(&pp, &s[n % 16], &o), PB_OK);
                }
                json_t *j = pb_game_outcome_json(&p, &o);
                char *line = pb_game_json_dumps(j);
                json_decref(j);
                size_t l = strlen(line);
                assert_true(len + l + 1 < cap);
                memcpy(text + len, line, l);
                text[len + l] = '\n';
                len += l + 1;
                free(line);
            }
            char digest[PB_FAIR_HASH_HEX_LEN + 1];
            pb_fair_sha256_hex(text, len, digest);
            assert_string_equal(digest, known[g].digest);
            free(text);
        }
    }
}

/* pb_game_blocks: the rounds of 8 floats a game reads (the primed ones). */
static void blocks_per_game(void **state)
{
    (void)state;
    assert_int_equal(pb_game_blocks(&(pb_game_params){.kind = PB_GAME_DICE}), 1);
    assert_int_equal(pb_game_blocks(&(pb_game_params){.kind = PB_GAME_SLOT}), 1);
    assert_int_equal(pb_game_blocks(&(pb_game_params){.kind = PB_GAME_KENO}), 2);
    pb_game_params p = {.kind = PB_GAME_PLINKO};
    for (unsigned rows = 8; rows <= 16; rows++) {
        p.u.plinko.rows = (uint8_t)rows;
        assert_int_equal(pb_game_blocks(&p), (rows + 7) / 8);
    }
    p.kind = PB_GAME_MINES;
    for (unsigned m = 1; m <= 24; m++) {
        p.u.mines.mines = (uint8_t)m;
        assert_int_equal(pb_game_blocks(&p), (m + 7) / 8);
    }
    p.u.mines.mines = 200; /* invalid: never more than the stream holds */
    assert_int_equal(pb_game_blocks(&p), PB_FAIR_STREAM_BLOCKS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_game),
        cmocka_unit_test(chain_equals_single),
        cmocka_unit_test(chain_threads_equals_chain),
        cmocka_unit_test(prepared_outcomes),
        cmocka_unit_test(known_outcome_digests),
        cmocka_unit_test(blocks_per_game),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
