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
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "play_fixture.h"
#include "audit/audit.h"
#include "core/time.h"
#include "games/play_internal.h"
#include "store/embedded.h"
#include "store/store_wallet.h"

/* the migrations compiled into the store (build/migrations_sqlite.c) */
extern const pb_embedded_file pb_migrations_sqlite[];

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

/* ---- abandoned games: cashed out by the retry pass after the time limit ---- */

/* count(*) of a query with one text parameter, on a connection of its own */
static int64_t count_of(const char *q, const char *arg)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(G.f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The wallet operations of a round's step ("<id>:win"). */
static int64_t round_ops(const char *id, const char *step)
{
    char tx[PB_ID_STR_LEN + 8];
    snprintf(tx, sizeof tx, "%s:%s", id, step);
    return count_of("SELECT count(*) FROM wallet_op WHERE tx_id=?1", tx);
}

/* round.settled events of a round */
static int64_t settled_events(const char *id)
{
    return count_of("SELECT count(*) FROM event_outbox WHERE type='round.settled' AND "
                    "json_extract(payload,'$.round_id')=?1",
                    id);
}

static bool wallet_round_closed(int i, const char *id)
{
    pb_store_wallet_round wr;
    pb_store_rc rc = pb_store_wallet_round_get(G.f->conn, PB_PLAY_PROVIDER, id, G.players[i], &wr);
    assert_true(rc == PB_STORE_OK || rc == PB_STORE_NOT_FOUND);
    return rc == PB_STORE_OK && wr.closed && wr.has_win;
}

/* One retry pass that takes games untouched before abandoned_before as abandoned
 * (nothing else is unfinished here); returns the rounds it drove. */
static size_t pass(int64_t abandoned_before)
{
    size_t driven = 0, failed = 0, abandoned = 0;
    play_retry_unfinished(G.p, G.f->conn, 0, abandoned_before, &driven, &failed, &abandoned);
    assert_int_equal(failed, 0);
    assert_int_equal(driven, 0);
    return abandoned;
}

/* The system's cash-out of round id is on the audit log once, with its figures. */
static void assert_abandon_audited(const pb_store_game_round *r, int64_t revealed)
{
    pb_audit_filter f = {.target_kind = "game_round", .target_id = r->id, .limit = 10};
    pb_audit_page pg = {0};
    assert_int_equal(pb_audit_query(G.f->conn, &f, &pg), PB_OK);
    assert_int_equal(pg.n, 1);
    const pb_audit_record *a = &pg.entries[0];
    assert_string_equal(a->action, PB_PLAY_AUDIT_ABANDONED);
    assert_string_equal(a->actor_kind, "system");
    assert_string_equal(a->actor_id, "provider:pitboss");
    assert_string_equal(a->brand, "alpha");
    json_error_t je;
    json_t *j = json_loads(a->after, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "end_reason")), "abandoned");
    assert_int_equal(json_integer_value(json_object_get(j, "revealed")), revealed);
    assert_int_equal(json_integer_value(json_object_get(j, "multiplier")), r->multiplier);
    assert_int_equal(json_integer_value(json_object_get(j, "payout")), r->payout);
    assert_int_equal(json_integer_value(json_object_get(j, "abandon_after_s")),
                     PB_PLAY_MINES_ABANDON_S);
    json_decref(j);
    pb_audit_page_free(&pg);
    pb_audit_verify_summary vs;
    assert_int_equal(pb_audit_verify(G.f->conn, NULL, 0, NULL, NULL, &vs), PB_OK);
    assert_int_equal(vs.violations, 0);
}

/* A game left after two safe reveals is not touched before the limit, and is
 * cashed out once it passed: the same money as the player's own cash-out after
 * two reveals (a twin game cashed out by hand), paid by the keyed "<id>:win" that
 * closes its wallet round and emits round.settled, audited once; a later pass, the
 * player's cash-out (answered with the round) and reveal (ROUND_CLOSED) move
 * nothing. The ledger verifies (teardown). */
static void mines_abandoned_cashed_out(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_play_error err;
    bool is_mine[PB_MINES_TILES];
    uint8_t safe[2];
    pb_store_game_round o;
    memset(&o, 0, sizeof o);

    /* the twin, cashed out by the player after two safe reveals */
    pb_store_game_round m = gp_mines_start(0, 5, 1000);
    gp_mines_of(m.id, is_mine);
    gp_safe_tiles(is_mine, 2, safe);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], m.id, safe, 2, &o, &err),
                     PB_OK);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], m.id, &o, &err), PB_OK);
    int64_t manual = o.payout;
    assert_true(manual > 1000);

    pb_store_game_round r = gp_mines_start(0, 5, 1000);
    gp_mines_of(r.id, is_mine);
    gp_safe_tiles(is_mine, 2, safe);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 2, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "active");
    int64_t last = o.updated_at, cash = gp_cash(0), transfers = gp_transfers();

    /* not before the limit: its last action is not older than the cut-off */
    assert_int_equal(pass(last), 0);
    pb_store_game_round s = gp_stored(r.id);
    assert_string_equal(s.state, "active");
    pb_store_game_round_clear(&s);
    assert_int_equal(gp_cash(0), cash);
    assert_int_equal(gp_transfers(), transfers);
    assert_int_equal(round_ops(r.id, "win"), 0);
    assert_false(wallet_round_closed(0, r.id));

    /* past it: cashed out as the player would have */
    assert_int_equal(pass(last + 1), 1);
    s = gp_stored(r.id);
    assert_string_equal(s.state, "settled");
    assert_int_equal(s.multiplier, pb_mines_multiplier(5, 2, 9900));
    assert_int_equal(s.payout, manual);
    assert_string_equal(s.progress, o.progress);
    assert_non_null(s.outcome); /* the mines in the clear, as any ended game */
    assert_int_equal(gp_cash(0), cash + manual);
    assert_int_equal(round_ops(r.id, "win"), 1);
    assert_true(wallet_round_closed(0, r.id));
    assert_int_equal(settled_events(r.id), 1);
    assert_abandon_audited(&s, 2);

    /* nothing moves again */
    transfers = gp_transfers();
    assert_int_equal(pass(pb_time_now_us()), 0);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err), PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.payout, manual);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_ERR_ROUND_CLOSED);
    assert_int_equal(gp_transfers(), transfers);
    assert_int_equal(gp_cash(0), cash + manual);
    assert_int_equal(round_ops(r.id, "win"), 1);
    assert_int_equal(settled_events(r.id), 1);
    assert_abandon_audited(&s, 2);
    pb_store_game_round_clear(&s);
    pb_store_game_round_clear(&o);
    pb_store_game_round_clear(&r);
    pb_store_game_round_clear(&m);
}

/* The crash game off (no crash scheduler): the sweeper still cashes an abandoned
 * game out, on its own, and counts it. Abandoned after 1 s, passes every 100 ms. */
static int setup_sweep_no_crash(void **state)
{
    pb_play_config cfg = {.crash = false, .sweep = true, .retry_ms = 100, .mines_abandon_s = 1};
    return gp_setup_cfg(state, &cfg);
}

static void mines_abandoned_without_crash(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_play_error err;
    bool is_mine[PB_MINES_TILES];
    uint8_t safe[1];
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    pb_store_game_round r = gp_mines_start(0, 5, 1000);
    gp_mines_of(r.id, is_mine);
    gp_safe_tiles(is_mine, 1, safe);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_OK);
    int64_t cash = gp_cash(0), pay = 0;
    assert_int_equal(pb_game_payout_of(1000, pb_mines_multiplier(5, 1, 9900), &pay), 0);
    pb_play_stats st;
    pb_play_stats_get(G.p, &st);
    assert_int_equal(st.mines_abandoned, 0);
    /* untouched: cashed out by the sweeper 1 s after the reveal (at most ~10 s here) */
    pb_store_game_round s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < 1000; i++) {
        pb_store_game_round_clear(&s);
        s = gp_stored(r.id);
        if (strcmp(s.state, "settled") == 0)
            break;
        usleep(10000);
    }
    assert_string_equal(s.state, "settled");
    assert_int_equal(s.payout, pay);
    assert_int_equal(gp_cash(0), cash + pay);
    assert_int_equal(round_ops(r.id, "win"), 1);
    for (int i = 0; i < 500 && st.mines_abandoned == 0; i++) { /* counted after the pass */
        usleep(10000);
        pb_play_stats_get(G.p, &st);
    }
    assert_int_equal(st.mines_abandoned, 1);
    pb_store_game_round_clear(&s);
    pb_store_game_round_clear(&o);
    pb_store_game_round_clear(&r);
}

/* A game left with nothing revealed: the player may not cash it out (the rules:
 * it would pay < 1x), but the system ends it at the rules' value of that game,
 * multiplier(mines, 0) = the RTP: 1000 × 0.99 = 990. Its seed pair can then be
 * rotated (no game in play on it any more). */
static void mines_abandoned_unrevealed(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_play_error err;
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    pb_store_game_round r = gp_mines_start(0, 3, 1000);
    assert_int_equal(pb_play_mines_cashout(G.p, G.f->conn, &G.who[0], r.id, &o, &err),
                     PB_ERR_ROUND_STATE);
    pb_store_game_round s = gp_stored(r.id);
    int64_t cash = gp_cash(0);
    assert_int_equal(pass(s.updated_at + 1), 1);
    pb_store_game_round_clear(&s);
    s = gp_stored(r.id);
    assert_string_equal(s.state, "settled");
    assert_int_equal(s.multiplier, pb_mines_multiplier(3, 0, 9900));
    assert_int_equal(s.multiplier, 9900);
    assert_int_equal(s.payout, 990);
    assert_int_equal(gp_cash(0), cash + 990);
    assert_true(wallet_round_closed(0, r.id));
    assert_abandon_audited(&s, 0);
    pb_store_seed_pair old, next;
    assert_int_equal(pb_play_seeds_rotate(G.p, G.f->conn, &G.who[0], NULL, &old, &next), PB_OK);
    pb_store_game_round_clear(&s);
    pb_store_game_round_clear(&o);
    pb_store_game_round_clear(&r);
}

/* The pass read the game before the player moved it: its cash-out step re-reads
 * the round and leaves it (the player's reveal is newer than the cut-off). */
static void mines_abandon_sees_player_move(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_play_error err;
    bool is_mine[PB_MINES_TILES];
    uint8_t safe[1];
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    pb_store_game_round r = gp_mines_start(0, 5, 1000);
    pb_store_game_round s = gp_stored(r.id);
    int64_t cutoff = s.updated_at + 1; /* the game as the pass saw it: abandoned */
    pb_store_game_round_clear(&s);
    gp_mines_of(r.id, is_mine);
    gp_safe_tiles(is_mine, 1, safe);
    usleep(2000);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_OK);
    int64_t cash = gp_cash(0);
    bool settled = true;
    assert_int_equal(play_mines_abandon(G.p, G.f->conn, r.id, cutoff, &settled), PB_OK);
    assert_false(settled);
    s = gp_stored(r.id);
    assert_string_equal(s.state, "active");
    assert_int_equal(gp_cash(0), cash);
    assert_int_equal(round_ops(r.id, "win"), 0);
    pb_store_game_round_clear(&s);
    pb_store_game_round_clear(&o);
    pb_store_game_round_clear(&r);
}

typedef struct racer {
    const char *id;
    pb_err e;
    pb_store_game_round o;
} racer;

static void *player_cashout(void *v)
{
    racer *x = v;
    char err[128];
    pb_store_conn *c = pb_store_connect(G.f->store, err, sizeof err);
    assert_non_null(c);
    pb_play_error pe;
    x->e = pb_play_mines_cashout(G.p, c, &G.who[0], x->id, &x->o, &pe);
    pb_store_disconnect(c);
    return NULL;
}

/* The player's cash-out and the system's, at the same time, on games past the
 * limit: whichever ends each game, it is paid once ("<id>:win" once, one
 * round.settled), at the same value (one safe reveal), and the player's request
 * is answered with the settled round either way. */
static void mines_abandon_races_player(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    enum { N = 8 };
    pb_store_game_round r[N];
    racer x[N];
    memset(x, 0, sizeof x);
    pb_play_error err;
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    for (int i = 0; i < N; i++) {
        bool is_mine[PB_MINES_TILES];
        uint8_t safe[1];
        r[i] = gp_mines_start(0, 4, 1000);
        gp_mines_of(r[i].id, is_mine);
        gp_safe_tiles(is_mine, 1, safe);
        assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r[i].id, safe, 1, &o,
                                              &err),
                         PB_OK);
        x[i].id = r[i].id;
    }
    int64_t cash = gp_cash(0), pay = 0;
    assert_int_equal(pb_game_payout_of(1000, pb_mines_multiplier(4, 1, 9900), &pay), 0);
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, player_cashout, &x[i]), 0);
    size_t driven = 0, failed = 0, abandoned = 0;
    play_retry_unfinished(G.p, G.f->conn, 0, pb_time_now_us() + 1000000, &driven, &failed,
                          &abandoned);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(failed, 0);
    assert_true(abandoned <= N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(x[i].e, PB_OK);
        assert_string_equal(x[i].o.state, "settled");
        assert_int_equal(x[i].o.payout, pay);
        pb_store_game_round s = gp_stored(r[i].id);
        assert_string_equal(s.state, "settled");
        assert_int_equal(s.payout, pay);
        pb_store_game_round_clear(&s);
        assert_int_equal(round_ops(r[i].id, "win"), 1);
        assert_int_equal(settled_events(r[i].id), 1);
        assert_true(wallet_round_closed(0, r[i].id));
        pb_store_game_round_clear(&x[i].o);
        pb_store_game_round_clear(&r[i]);
    }
    assert_int_equal(gp_cash(0), cash + N * pay);
    pb_store_game_round_clear(&o);
}

/* ---- void by staff (pb_play_round_void) ---- */

/* A mines game left open after a reveal is void by staff: its stake back through
 * the same wallet rollback "<id>:void" and close "<id>:close" as every void, the
 * round "void" (void_reason "staff"), audited once as game_round.voided with the
 * staff actor and reason; the player's reveal / cash-out then find it closed; a
 * second void, or one of a settled round, is ROUND_CLOSED and moves nothing;
 * another player's round is ROUND_NOT_FOUND. The ledger verifies (teardown). */
static void mines_void_by_staff(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_play_error err;
    bool is_mine[PB_MINES_TILES];
    uint8_t safe[1];
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    int64_t cash0 = gp_cash(0);
    pb_store_game_round r = gp_mines_start(0, 5, 1000);
    gp_mines_of(r.id, is_mine);
    gp_safe_tiles(is_mine, 1, safe);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "active");
    assert_int_equal(gp_cash(0), cash0 - 1000);

    pb_audit_entry who = {.actor_kind = "staff",
                          .actor_id = "0190aaaa-0000-7000-8000-000000000001",
                          .role = "support",
                          .reason = "player left the game open; erasure requested",
                          .trace_id = "trace-staff-void"};
    pb_store_game_round v;
    memset(&v, 0, sizeof v);
    /* not the other player's */
    assert_int_equal(pb_play_round_void(G.p, G.f->conn, G.players[1], r.id, &who, &v),
                     PB_ERR_ROUND_NOT_FOUND);
    assert_int_equal(gp_cash(0), cash0 - 1000);
    assert_int_equal(pb_play_round_void(G.p, G.f->conn, G.players[0], r.id, &who, &v), PB_OK);
    assert_string_equal(v.state, "void");
    assert_string_equal(v.void_reason, PB_PLAY_VOID_STAFF);
    assert_int_equal(gp_cash(0), cash0);
    assert_int_equal(round_ops(r.id, "void"), 1);
    assert_int_equal(round_ops(r.id, "close"), 1);
    assert_int_equal(round_ops(r.id, "win"), 0);
    pb_store_wallet_round wr;
    assert_int_equal(pb_store_wallet_round_get(G.f->conn, PB_PLAY_PROVIDER, r.id, G.players[0],
                                               &wr),
                     PB_STORE_OK);
    assert_true(wr.closed);
    pb_store_game_round s = gp_stored(r.id);
    assert_string_equal(s.state, "void");
    pb_store_game_round_clear(&s);

    pb_audit_filter f = {.target_kind = "game_round", .target_id = r.id, .limit = 10};
    pb_audit_page pg = {0};
    assert_int_equal(pb_audit_query(G.f->conn, &f, &pg), PB_OK);
    assert_int_equal(pg.n, 1);
    assert_string_equal(pg.entries[0].action, PB_PLAY_AUDIT_VOID);
    assert_string_equal(pg.entries[0].actor_kind, "staff");
    assert_string_equal(pg.entries[0].actor_id, who.actor_id);
    assert_string_equal(pg.entries[0].reason, who.reason);
    pb_audit_page_free(&pg);

    /* over: the player's moves and a second void change nothing */
    int64_t transfers = gp_transfers();
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 1, &o, &err),
                     PB_ERR_ROUND_CLOSED);
    pb_store_game_round_clear(&v);
    memset(&v, 0, sizeof v);
    assert_int_equal(pb_play_round_void(G.p, G.f->conn, G.players[0], r.id, &who, &v),
                     PB_ERR_ROUND_CLOSED);
    /* a settled round neither */
    pb_store_game_round_clear(&v);
    memset(&v, 0, sizeof v);
    pb_store_game_round m;
    memset(&m, 0, sizeof m);
    assert_int_equal(gp_bet(0, "dice", DICE, 1000, "staff-void-dice", &m, NULL, NULL), PB_OK);
    assert_string_equal(m.state, "settled");
    transfers = gp_transfers();
    assert_int_equal(pb_play_round_void(G.p, G.f->conn, G.players[0], m.id, &who, &v),
                     PB_ERR_ROUND_CLOSED);
    assert_int_equal(gp_transfers(), transfers);
    pg = (pb_audit_page){0};
    f.target_id = r.id;
    assert_int_equal(pb_audit_query(G.f->conn, &f, &pg), PB_OK);
    assert_int_equal(pg.n, 1);
    pb_audit_page_free(&pg);
    pb_audit_verify_summary vs;
    assert_int_equal(pb_audit_verify(G.f->conn, NULL, 0, NULL, NULL, &vs), PB_OK);
    assert_int_equal(vs.violations, 0);
    pb_store_game_round_clear(&v);
    pb_store_game_round_clear(&o);
    pb_store_game_round_clear(&r);
    pb_store_game_round_clear(&m);
}

/* ---- voids from before 0035: the wallet round left open, no audit entry ---- */

/* Runs the migration named *suffix on the fixture's database (as the runner
 * would on a database upgraded from before it). */
static void run_migration(const char *suffix)
{
    const pb_embedded_file *m = pb_migrations_sqlite;
    for (; m->name; m++) {
        size_t n = strlen(m->name), k = strlen(suffix);
        if (n >= k && strcmp(m->name + n - k, suffix) == 0)
            break;
    }
    assert_non_null(m->name);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(G.f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, m->data, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* A void as the code between 0029 and the wallet round's close made it: the
 * stake given back by the rollback "<id>:void" of "<id>:bet", the round void
 * (void_reason crash_round_started, settled_at its time), but no "<id>:close"
 * (no closed wallet_round row) and no audit entry. The upgrade (0035) and the
 * next start finish it as a void now ends: the rollback is a duplicate (nothing
 * given back again), the wallet round closed once, the round void with its time
 * kept, one audit entry game_round.voided by the system with the split given
 * back. A void made today (closed) is left alone. The ledger verifies (teardown). */
static void old_void_closed_at_upgrade(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    int64_t cash0 = gp_cash(0);
    pb_store_game_round r = gp_mines_start(0, 5, 1000);
    pb_wallet_op *op = calloc(1, sizeof *op);
    assert_non_null(op);
    play_wallet_void_op(op, &r, NULL);
    assert_int_equal(pb_wallet_game_submit(G.w, G.f->conn, op), PB_OK);
    assert_int_equal(op->outcome.cash_part, 1000);
    pb_wallet_op_release(op);
    free(op);
    assert_int_equal(gp_cash(0), cash0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(G.f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE game_round SET state='void', void_reason='crash_round_started', "
             "settled_at=12345 WHERE id='%s'",
             r.id);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
    pb_store_wallet_round wr;
    assert_int_equal(pb_store_wallet_round_get(G.f->conn, PB_PLAY_PROVIDER, r.id, G.players[0],
                                               &wr),
                     PB_STORE_NOT_FOUND); /* the old state: no closed row */

    /* a void of today (closed) beside it: the staff's */
    pb_store_game_round t = gp_mines_start(0, 5, 1000);
    pb_audit_entry who = {.actor_kind = "staff", .actor_id = "s", .reason = "test"};
    pb_store_game_round v;
    memset(&v, 0, sizeof v);
    assert_int_equal(pb_play_round_void(G.p, G.f->conn, G.players[0], t.id, &who, &v), PB_OK);
    assert_string_equal(v.state, "void");
    int64_t t_settled = v.settled_at;
    pb_store_game_round_clear(&v);

    int64_t transfers = gp_transfers();
    run_migration("_games_void_close.sql");
    gp_reopen(); /* start-up: the recovery drives the round on */

    pb_store_game_round s = gp_stored(r.id);
    assert_string_equal(s.state, "void");
    assert_string_equal(s.void_reason, "crash_round_started");
    assert_int_equal(s.settled_at, 12345);
    pb_store_game_round_clear(&s);
    assert_int_equal(pb_store_wallet_round_get(G.f->conn, PB_PLAY_PROVIDER, r.id, G.players[0],
                                               &wr),
                     PB_STORE_OK);
    assert_true(wr.closed);
    assert_false(wr.has_win);
    assert_int_equal(round_ops(r.id, "void"), 1);
    assert_int_equal(round_ops(r.id, "close"), 1);
    assert_int_equal(gp_cash(0), cash0); /* nothing given back twice */
    pb_audit_filter f = {.target_kind = "game_round", .target_id = r.id, .limit = 10};
    pb_audit_page pg = {0};
    assert_int_equal(pb_audit_query(G.f->conn, &f, &pg), PB_OK);
    assert_int_equal(pg.n, 1);
    assert_string_equal(pg.entries[0].action, PB_PLAY_AUDIT_VOID);
    assert_string_equal(pg.entries[0].actor_kind, "system");
    json_error_t je;
    json_t *j = json_loads(pg.entries[0].after, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "refunded_cash")), 1000);
    json_decref(j);
    pb_audit_page_free(&pg);
    /* today's void untouched: still one entry, its own time */
    s = gp_stored(t.id);
    assert_string_equal(s.state, "void");
    assert_int_equal(s.settled_at, t_settled);
    pb_store_game_round_clear(&s);
    f.target_id = t.id;
    pg = (pb_audit_page){0};
    assert_int_equal(pb_audit_query(G.f->conn, &f, &pg), PB_OK);
    assert_int_equal(pg.n, 1);
    pb_audit_page_free(&pg);
    assert_int_equal(round_ops(t.id, "close"), 1);
    /* the close moved no money */
    assert_int_equal(gp_transfers(), transfers);
    pb_store_game_round_clear(&t);
    pb_store_game_round_clear(&r);
}

/* ---- a closed (erased) player's late win in the play figures ---- */

/* Game control's figures for mines in EUR (zeros when none). */
static pb_store_game_totals mines_totals(void)
{
    pb_play_control_line l[32];
    size_t n = 0;
    assert_int_equal(pb_play_control(G.f->conn, G.brand_id, 0, 0, l, 32, &n), PB_OK);
    pb_store_game_totals t;
    memset(&t, 0, sizeof t);
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].t.game, "mines") == 0 && strcmp(l[i].t.currency, "EUR") == 0)
            t = l[i].t;
    return t;
}

/* A mines game of a player closed (erased) meanwhile, ended by the system's
 * cash-out: the win is paid to the brand's unclaimed funds (the player's balance
 * does not move, funds.unclaimed on the audit log), and it counts in game
 * control as paid out: turnover + stake, payout + the win. The decision (README,
 * "Game control"): the figures are the games' (RTP is what the game returned on
 * its stakes, whoever holds the money); a win held as unclaimed funds is a
 * liability the operator owes, not house revenue, so GGR = turnover - payout
 * leaves it out of the house's revenue as it should. */
static void closed_player_late_win_counts_as_paid(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_play_error err;
    bool is_mine[PB_MINES_TILES];
    uint8_t safe[2];
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    pb_store_game_round r = gp_mines_start(0, 5, 1000);
    gp_mines_of(r.id, is_mine);
    gp_safe_tiles(is_mine, 2, safe);
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], r.id, safe, 2, &o, &err),
                     PB_OK);
    pb_store_game_totals before = mines_totals();
    int64_t cash = gp_cash(0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(G.f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE player SET status='closed' WHERE public_id='%s'",
             G.players[0]);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);

    bool settled = false;
    assert_int_equal(play_mines_abandon(G.p, G.f->conn, r.id, pb_time_now_us() + 1, &settled),
                     PB_OK);
    assert_true(settled);
    pb_store_game_round s = gp_stored(r.id);
    assert_string_equal(s.state, "settled");
    assert_true(s.payout > 1000);
    assert_int_equal(gp_cash(0), cash); /* paid elsewhere: unclaimed funds */
    assert_int_equal(count_of("SELECT count(*) FROM audit_entry WHERE action='funds.unclaimed' "
                              "AND target_id=?1",
                              G.players[0]),
                     1);
    pb_store_game_totals after = mines_totals();
    assert_int_equal(after.rounds, before.rounds + 1);
    assert_int_equal(after.turnover, before.turnover + 1000);
    assert_int_equal(after.payout, before.payout + s.payout);
    pb_store_game_round_clear(&s);
    pb_store_game_round_clear(&o);
    pb_store_game_round_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(mines_in_play_not_stored, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(mines_stored_by_older_version, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(mines_abandoned_cashed_out, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(mines_abandoned_unrevealed, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(mines_abandon_sees_player_move, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(mines_abandon_races_player, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(mines_abandoned_without_crash, setup_sweep_no_crash,
                                        gp_teardown),
        cmocka_unit_test_setup_teardown(mines_void_by_staff, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(old_void_closed_at_upgrade, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(closed_player_late_win_counts_as_paid, gp_setup,
                                        gp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
