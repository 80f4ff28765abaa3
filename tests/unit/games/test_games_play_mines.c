/*
 * test_games_play_mines.c — a mines game in play keeps its mines out of the
 * database (play_bet.c, play_fixture.h): while it is active its row holds no
 * mine position (read with SQL, as a copy of the database would be); each reveal
 * and the cash-out draw them from the sealed seed, with the outcomes the seed
 * gives (safe tiles, a mine, the cash-out's multiplier); the end writes them in
 * the clear, equal to what the revealed seed recomputes. Games an older version
 * started with their mines stored in the clear play on from the stored ones, and
 * the next start removes them where the seed draws the same. Every test ends with
 * the ledger's verify finding nothing (the teardown).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "play_fixture.h"
#include "games/play_internal.h"

/* A round's outcome and progress columns as the database holds them (one SQL read
 * on a connection of its own); outcome "" when NULL (*has_outcome false). */
static void at_rest(const char *id, char *outcome, size_t cap, bool *has_outcome, char *progress,
                    size_t pcap)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(G.f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT outcome, progress FROM game_round WHERE id=?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    *has_outcome = sqlite3_column_type(st, 0) != SQLITE_NULL;
    snprintf(outcome, cap, "%s", *has_outcome ? (const char *)sqlite3_column_text(st, 0) : "");
    snprintf(progress, pcap, "%s",
             sqlite3_column_type(st, 1) != SQLITE_NULL ? (const char *)sqlite3_column_text(st, 1)
                                                       : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Asserts the row of an active game holds no mine: no outcome at all, and its
 * progress is the revealed tiles (safe ones, none of pos). */
static void assert_no_mines_at_rest(const char *id, const uint8_t *pos, size_t n)
{
    char outcome[256], progress[128];
    bool has = true;
    at_rest(id, outcome, sizeof outcome, &has, progress, sizeof progress);
    assert_false(has);
    json_error_t je;
    json_t *a = json_loads(progress, 0, &je);
    assert_true(json_is_array(a));
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        for (size_t k = 0; k < n; k++)
            assert_int_not_equal(json_integer_value(v), pos[k]);
    }
    json_decref(a);
}

/* Asserts a stored outcome is {"game":"mines","result":pos} (draw order). */
static void assert_outcome(const char *outcome, const uint8_t *pos, size_t n)
{
    json_error_t je;
    json_t *o = json_loads(outcome, 0, &je), *want = json_array();
    assert_non_null(o);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(want, json_integer(pos[i]));
    assert_string_equal(json_string_value(json_object_get(o, "game")), "mines");
    assert_true(json_equal(json_object_get(o, "result"), want));
    json_decref(want);
    json_decref(o);
}

/* The first safe tile of pos's board. */
static uint8_t first_safe(const uint8_t *pos, size_t n)
{
    bool is_mine[PB_MINES_TILES] = {false};
    for (size_t i = 0; i < n; i++)
        is_mine[pos[i]] = true;
    uint8_t t;
    gp_safe_tiles(is_mine, 1, &t);
    return t;
}

/* A game started now stores no mine while in play; reveals, the cash-out and a
 * mine give what its seed draws; the end writes the mines, and the revealed
 * seed recomputes them. */
static void mines_in_play_not_stored(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_play_error err;
    uint8_t pos[PB_MINES_MAX], pos2[PB_MINES_MAX];
    pb_store_game_round r = gp_mines_start(0, 5, 1000), o;
    memset(&o, 0, sizeof o);
    size_t n = gp_mines_drawn(r.id, pos);
    assert_int_equal(n, 5);
    assert_null(r.outcome);
    assert_no_mines_at_rest(r.id, pos, n);
    /* a safe tile: still in play, still nothing stored */
    uint8_t safe = first_safe(pos, n);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, &safe, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "active");
    assert_no_mines_at_rest(r.id, pos, n);
    /* the cash-out pays the multiplier of one safe tile and writes the mines */
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err), PB_OK);
    assert_string_equal(o.state, "settled");
    int64_t pay = 0;
    assert_int_equal(o.multiplier, pb_mines_multiplier(5, 1, 9900));
    assert_int_equal(pb_game_payout_of(1000, o.multiplier, &pay), 0);
    assert_int_equal(o.payout, pay);
    assert_int_equal(gp_cash(0), FUND - 1000 + pay);
    char outcome[256], progress[128];
    bool has = false;
    at_rest(r.id, outcome, sizeof outcome, &has, progress, sizeof progress);
    assert_true(has);
    assert_outcome(outcome, pos, n);

    /* a mine after a safe tile: lost, the mines written */
    pb_store_game_round r2 = gp_mines_start(0, 3, 500);
    size_t n2 = gp_mines_drawn(r2.id, pos2);
    assert_no_mines_at_rest(r2.id, pos2, n2);
    uint8_t path[2] = {first_safe(pos2, n2), pos2[1]};
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r2.id, path, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "active");
    assert_no_mines_at_rest(r2.id, pos2, n2);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r2.id, path + 1, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.multiplier, 0);
    assert_int_equal(o.payout, 0);
    assert_int_equal(gp_cash(0), FUND - 1000 + pay - 500);
    at_rest(r2.id, outcome, sizeof outcome, &has, progress, sizeof progress);
    assert_true(has);
    assert_outcome(outcome, pos2, n2);
    assert_string_equal(o.outcome, outcome);

    /* the revealed seed recomputes both games' mines (the public verification) */
    pb_store_seed_pair revealed, next;
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], NULL, &revealed, &next),
                     PB_OK);
    const char *ids[2] = {r.id, r2.id};
    for (int k = 0; k < 2; k++) {
        pb_store_game_round s = gp_stored(ids[k]);
        json_error_t je;
        json_t *in = json_pack("{s:s,s:s,s:s,s:I,s:o}", "game", "mines", "server_seed",
                               revealed.server_seed, "client_seed", s.client_seed, "nonce",
                               (json_int_t)s.nonce, "params", json_loads(s.params, 0, &je));
        json_t *out = NULL, *stored = json_loads(s.outcome, 0, &je);
        assert_int_equal(pb_play_verify(in, &out, &err), PB_OK);
        assert_true(json_equal(json_object_get(out, "result"), json_object_get(stored, "result")));
        json_decref(in);
        json_decref(out);
        json_decref(stored);
        pb_store_game_round_clear(&s);
    }
    pb_store_game_round_clear(&r);
    pb_store_game_round_clear(&r2);
    pb_store_game_round_clear(&o);
}

/* Writes round id's outcome as an older version stored it when the game started:
 * {"game":"mines","result":pos} in the clear. */
static void store_in_clear(const char *id, const uint8_t *pos, size_t n)
{
    char sql[256];
    size_t used = (size_t)snprintf(
        sql, sizeof sql, "UPDATE game_round SET outcome='{\"game\":\"mines\",\"result\":[");
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(sql + used, sizeof sql - used, "%s%u", i ? "," : "", pos[i]);
    snprintf(sql + used, sizeof sql - used, "]}' WHERE id='%s' AND state='active'", id);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(G.f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
}

/* Games an older version started hold their mines in the clear: they play on
 * from the stored mines; at the next start those the seed draws again are
 * removed from the row (the game plays on from the seed, same outcomes), those it
 * does not (a damaged row) stay as the game's mines. */
static void mines_stored_by_older_version(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_play_error err;
    uint8_t pos[PB_MINES_MAX], pos2[PB_MINES_MAX];
    pb_store_game_round a = gp_mines_start(0, 4, 1000), b = gp_mines_start(0, 4, 1000), o;
    memset(&o, 0, sizeof o);
    size_t n = gp_mines_drawn(a.id, pos), n2 = gp_mines_drawn(b.id, pos2);
    store_in_clear(a.id, pos, n);
    /* b's stored mines are not its seed's: its first safe tile is one of them */
    uint8_t other[PB_MINES_MAX], safe_b = first_safe(pos2, n2);
    memcpy(other, pos2, n2);
    other[0] = safe_b;
    store_in_clear(b.id, other, n2);
    /* a reveal on a game stored so: as before, from the stored mines */
    uint8_t safe = first_safe(pos, n);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], a.id, &safe, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "active");

    /* the next start removes a's mines (its seed draws the same), keeps b's */
    pb_play_close(G.p);
    G.p = NULL;
    gp_play_open(NULL);
    char outcome[256], progress[128];
    bool has = true;
    assert_no_mines_at_rest(a.id, pos, n);
    at_rest(a.id, outcome, sizeof outcome, &has, progress, sizeof progress);
    char want[16];
    snprintf(want, sizeof want, "[%u]", safe);
    assert_string_equal(progress, want);
    at_rest(b.id, outcome, sizeof outcome, &has, progress, sizeof progress);
    assert_true(has);
    assert_outcome(outcome, other, n2);

    /* a plays on from its seed: one more safe tile, the cash-out at two tiles */
    bool is_mine[PB_MINES_TILES] = {false};
    for (size_t i = 0; i < n; i++)
        is_mine[pos[i]] = true;
    uint8_t two[2];
    gp_safe_tiles(is_mine, 2, two);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], a.id, two, 2, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "active");
    assert_no_mines_at_rest(a.id, pos, n);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], a.id, &o, &err), PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.multiplier, pb_mines_multiplier(4, 2, 9900));
    assert_outcome(o.outcome, pos, n);
    /* b plays from its stored mines: its seed's first safe tile is a mine there */
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], b.id, &safe_b, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.payout, 0);
    assert_outcome(o.outcome, other, n2);
    pb_store_game_round_clear(&a);
    pb_store_game_round_clear(&b);
    pb_store_game_round_clear(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(mines_in_play_not_stored, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(mines_stored_by_older_version, gp_setup, gp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
