/*
 * crash_helpers.h — what the crash tests of the money side share
 * (test_games_play_recovery.c, test_games_play_void.c): waits on the brand's
 * crash round and on a bet's settlement, a crash bet placed, a round read as
 * stored. Over play_fixture.h's G; static inline, each file uses some.
 */
#ifndef PB_TEST_GAMES_CRASH_HELPERS_H
#define PB_TEST_GAMES_CRASH_HELPERS_H

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "play_fixture.h"
#include "core/time.h"
#include "games/play_internal.h"

static inline void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

/* The fast schedulers' timings (both files): a betting phase of
 * CRASH_BETTING_MS, CRASH_PAUSE_MS between a crash and the next round; a test
 * places its bets in a round still taking them for CRASH_BET_MARGIN_MS more
 * (betting_fit: tens of times what a bet takes, even under ASan). A round
 * comes and goes in under a second, and the waits on one with it. */
#define CRASH_BETTING_MS 800
#define CRASH_PAUSE_MS 50
#define CRASH_BET_MARGIN_MS 500

/* Waits (≤ 30 s) for the brand's crash round to satisfy pred; returns it. */
typedef bool (*crash_pred)(const pb_store_crash_round *r, void *ctx);
static inline pb_store_crash_round crash_wait(crash_pred pred, void *ctx)
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

/* The round as stored, opened: its game hash in the clear and its point (the
 * current round's view shows neither before the crash). */
static inline pb_store_crash_round crash_opened(const char *id)
{
    pb_store_crash_round r;
    assert_int_equal(pb_store_crash_round_get(G.f->conn, id, &r), PB_STORE_OK);
    assert_int_equal(play_crash_round_open(&r), PB_OK);
    return r;
}

/* A round's game_hash, point and state as the database holds them (one SQL read;
 * state may be NULL). */
static inline void crash_at_rest_state(const char *id, char hash[PB_STORE_SEED_STORED_MAX + 1],
                                       int64_t *point, char state[10])
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(G.f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT game_hash, point, state FROM crash_round "
                                        "WHERE id=?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(hash, PB_STORE_SEED_STORED_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
    *point = sqlite3_column_int64(st, 1);
    if (state)
        snprintf(state, 10, "%s", (const char *)sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Whether round r takes bets for ≥ CRASH_BET_MARGIN_MS more. */
static inline bool betting_for_a_while(const pb_store_crash_round *r)
{
    return strcmp(r->state, "betting") == 0 &&
           r->betting_ends_at - pb_time_now_us() > (int64_t)CRASH_BET_MARGIN_MS * 1000;
}

/* A round taking bets for ≥ CRASH_BET_MARGIN_MS more whose point leaves room
 * both sides of 1.01x. */
static inline bool betting_fit(const pb_store_crash_round *r, void *ctx)
{
    (void)ctx;
    if (!betting_for_a_while(r))
        return false;
    pb_store_crash_round o = crash_opened(r->id);
    return o.point >= 102 && o.point < 1000000;
}

static inline bool other_crashed(const pb_store_crash_round *r, void *ctx)
{
    return strcmp(r->id, ctx) != 0 && strcmp(r->state, "crashed") == 0;
}

static inline bool is_running(const pb_store_crash_round *r, void *ctx)
{
    return strcmp(r->id, ctx) == 0 && strcmp(r->state, "betting") != 0;
}

/* Waits (≤ 30 s) for a round to be settled; returns it. */
static inline pb_store_game_round settled_wait(const char *id)
{
    for (int i = 0; i < 3000; i++) {
        pb_store_game_round r = gp_stored(id);
        if (strcmp(r.state, "settled") == 0)
            return r;
        pb_store_game_round_clear(&r);
        sleep_ms(10);
    }
    fail_msg("round %s never settled", id);
    return (pb_store_game_round){0};
}

static inline pb_store_game_round crash_bet(int i, int64_t amount, int64_t auto_cashout,
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

/* Waits (≤ 30 s) for round id (the store's row) to be crashed; returns it. */
static inline pb_store_crash_round crashed_wait(const char *id)
{
    for (int i = 0; i < 3000; i++) {
        pb_store_crash_round r;
        assert_int_equal(pb_store_crash_round_get(G.f->conn, id, &r), PB_STORE_OK);
        if (strcmp(r.state, "crashed") == 0)
            return r;
        sleep_ms(10);
    }
    fail_msg("crash round %s never crashed", id);
    return (pb_store_crash_round){0};
}

#endif
