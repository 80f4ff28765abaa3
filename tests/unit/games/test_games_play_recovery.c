/*
 * test_games_play_recovery.c — the in-house games' money side after a crash and
 * in the crash game (play_fixture.h): rounds left "pending" (nothing staked, or
 * staked) or "settling" are driven to their end by pb_play_open (and by the
 * player's retry) with money moved once; the crash game with a fast scheduler
 * (auto cash-out below the point paid bet × target, above lost, a manual
 * cash-out, every bet settled once; a stop with a round open finished and
 * settled at the next start); a crash round's hash and point at rest (sealed
 * and 0 until the crash, read with SQL; in the clear and verifiable after; a
 * round written in the clear by an older version sealed on open and crashed at
 * its point). A crash is simulated by running the money side's own steps
 * (play_internal.h) up to where it would have stopped. Every test ends with the
 * ledger's verify finding nothing (the teardown).
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "play_fixture.h"
#include "audit/audit.h"
#include "core/time.h"
#include "catalog/catalog.h"
#include "games/play_internal.h"
#include "store/store_wallet.h"

/* ---- recovery: rounds a crash left mid-way ---- */

#define SURE "{\"target\": 2, \"direction\": \"over\"}" /* 98% */

static void recovery(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    /* (a) recorded, nothing staked; (b) staked, not decided; (c) decided, not paid */
    pb_store_game_round a = gp_record_pending(0, SURE, 1000, "rec-a");
    pb_store_game_round b = gp_record_pending(0, SURE, 2000, "rec-b");
    gp_stake(&b);
    pb_store_game_round c = gp_record_pending(0, SURE, 3000, "rec-c");
    gp_stake(&c);
    assert_int_equal(pb_ledger_command(G.f->ledger, gp_decide_cmd, &c), PB_OK);
    assert_string_equal(c.state, "settling");
    assert_true(c.has_payout);
    /* (d) a pending round the wallet will refuse: player 1 has nothing */
    pb_store_game_round d = gp_record_pending(1, SURE, 500, "rec-d");
    assert_int_equal(gp_cash(0), FUND - 5000);
    assert_int_equal(gp_next_nonce(0), 1); /* c took nonce 0 */

    gp_reopen();

    int64_t expect = FUND;
    const char *ids[3] = {a.id, b.id, c.id};
    int64_t nonces[3] = {-1, -1, 0};
    for (int k = 0; k < 3; k++) {
        pb_store_game_round r = gp_stored(ids[k]);
        assert_string_equal(r.state, "settled");
        assert_true(r.has_payout && r.has_nonce);
        if (nonces[k] >= 0)
            assert_int_equal(r.nonce, nonces[k]);
        assert_int_equal(r.rtp_bp, 9900);
        expect += r.payout - r.amount;
        pb_store_game_round_clear(&r);
    }
    pb_store_game_round r = gp_stored(c.id);
    assert_int_equal(r.payout, c.payout); /* decided once: the payout of (c) as decided */
    pb_store_game_round_clear(&r);
    assert_int_equal(gp_cash(0), expect); /* each staked once, paid once */
    assert_int_equal(gp_next_nonce(0), 3);
    assert_false(gp_round_of_key(1, "rec-d")); /* refused: gone */
    assert_int_equal(gp_cash(1), 0);

    /* again: nothing more happens */
    int64_t n = gp_transfers();
    gp_reopen();
    assert_int_equal(gp_cash(0), expect);
    assert_int_equal(gp_transfers(), n);
    assert_int_equal(gp_next_nonce(0), 3);

    /* the player's retry is answered from the round, no money */
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    bool replayed = false;
    assert_int_equal(gp_bet(0, "dice", SURE, 2000, "rec-b", &o, &replayed, NULL), PB_OK);
    assert_true(replayed);
    assert_string_equal(o.id, b.id);
    assert_int_equal(gp_cash(0), expect);
    assert_int_equal(gp_transfers(), n);
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
    gp_fund(0, FUND);
    pb_store_game_round b = gp_record_pending(0, SURE, 2000, "retry-b");
    gp_stake(&b);
    assert_int_equal(gp_cash(0), FUND - 2000);
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    bool replayed = false;
    assert_int_equal(gp_bet(0, "dice", SURE, 2000, "retry-b", &o, &replayed, NULL), PB_OK);
    assert_true(replayed);
    assert_string_equal(o.id, b.id);
    assert_string_equal(o.state, "settled");
    assert_int_equal(gp_cash(0), FUND - 2000 + o.payout);
    assert_int_equal(gp_next_nonce(0), 1);
    pb_store_game_round_clear(&o);
    pb_store_game_round_clear(&b);
}

/* ---- crash, with a fast scheduler ---- */

static int setup_crash(void **state)
{
    pb_play_config cfg = {.crash = true,
                          .sweep = true,
                          .crash_betting_ms = 1500,
                          .crash_pause_ms = 50,
                          .crash_growth = 0.01,
                          .crash_chain_length = 200};
    gp_setup_cfg(state, &cfg);
    gp_game_on("crash", true);
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

/* The round as stored, opened: its game hash in the clear and its point (the
 * current round's view shows neither before the crash). */
static pb_store_crash_round crash_opened(const char *id)
{
    pb_store_crash_round r;
    assert_int_equal(pb_store_crash_round_get(G.f->conn, id, &r), PB_STORE_OK);
    assert_int_equal(play_crash_round_open(&r), PB_OK);
    return r;
}

/* A round's game_hash, point and state as the database holds them (one SQL read;
 * state may be NULL). */
static void crash_at_rest_state(const char *id, char hash[PB_STORE_SEED_STORED_MAX + 1],
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

static void crash_at_rest(const char *id, char hash[PB_STORE_SEED_STORED_MAX + 1], int64_t *point)
{
    crash_at_rest_state(id, hash, point, NULL);
}

/* Asserts a stored game_hash and point keep the round's outcome to themselves. */
static void assert_sealed(const char *hash, int64_t point, const char *clear_hash)
{
    assert_int_equal(strncmp(hash, "s1:", 3), 0);
    assert_int_equal(strlen(hash), 3 + 2 * (24 + 32 + 16));
    assert_null(strstr(hash, clear_hash));
    assert_int_equal(point, 0);
}

/* Asserts the round's outcome is not in the database: the hash sealed, no point. */
static void assert_sealed_at_rest(const char *id, const char *clear_hash)
{
    char hash[PB_STORE_SEED_STORED_MAX + 1];
    int64_t point = -1;
    crash_at_rest(id, hash, &point);
    assert_sealed(hash, point, clear_hash);
}

/* A round taking bets for ≥ 1 s more whose point leaves room both sides of 1.01x. */
static bool betting_fit(const pb_store_crash_round *r, void *ctx)
{
    (void)ctx;
    if (strcmp(r->state, "betting") != 0 || r->betting_ends_at - pb_time_now_us() <= 1000000)
        return false;
    pb_store_crash_round o = crash_opened(r->id);
    return o.point >= 102 && o.point < 1000000;
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
        pb_store_game_round r = gp_stored(id);
        if (strcmp(r.state, "settled") == 0)
            return r;
        pb_store_game_round_clear(&r);
        sleep_ms(10);
    }
    fail_msg("round %s never settled", id);
    return (pb_store_game_round){0};
}

static pb_store_game_round crash_bet(int i, int64_t amount, int64_t auto_cashout, const char *key,
                                     pb_err want)
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
    gp_fund(0, FUND);
    gp_fund(1, FUND);
    pb_store_crash_round cr = crash_wait(betting_fit, NULL);
    cr = crash_opened(cr.id);
    /* provably fair: the point is the hash's at the RTP in force */
    assert_int_equal(cr.rtp_bp, 9900);
    assert_int_equal((int64_t)pb_crash_point(cr.game_hash, cr.salt, 9900), cr.point);
    /* below the point: paid bet × target; above: lost; none: lost; a manual cash-out */
    pb_store_game_round win = crash_bet(0, 1000, 101, "c-win", PB_OK);
    pb_store_game_round lose = crash_bet(1, 1000, cr.point + 1, "c-lose", PB_OK);
    pb_store_game_round none = crash_bet(0, 700, 0, "c-none", PB_OK);
    pb_store_game_round man = crash_bet(1, 500, 0, "c-manual", PB_OK);
    assert_string_equal(win.crash_round, cr.id);
    assert_int_equal(gp_cash(0), FUND - 1700);
    assert_int_equal(gp_cash(1), FUND - 1500);
    /* bad requests leave nothing */
    pb_store_game_round x = crash_bet(0, 100, 100, "c-bad", PB_ERR_FIELD_INVALID);
    assert_false(gp_round_of_key(0, "c-bad"));
    x = crash_bet(0, 0, 0, "c-bad", PB_ERR_AMOUNT_INVALID);
    /* a cash-out while taking bets: too early */
    pb_play_error err;
    assert_int_equal(pb_play_crash_cashout(G.p, G.f->conn, &G.who[1], man.id, &x, &err),
                     PB_ERR_ROUND_STATE);
    pb_store_game_round_clear(&x);
    /* running: a bet is refused and leaves nothing; the manual cash-out goes in */
    crash_wait(is_running, cr.id);
    x = crash_bet(0, 100, 0, "c-late", PB_ERR_ROUND_CLOSED);
    assert_false(gp_round_of_key(0, "c-late"));
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
    assert_int_equal(gp_cash(0), c0);
    assert_int_equal(gp_cash(1), c1);
    /* settled once: another round comes and goes, nothing more moves */
    crash_wait(other_crashed, cr.id);
    sleep_ms(100);
    assert_int_equal(gp_cash(0), c0);
    assert_int_equal(gp_cash(1), c1);
    pb_store_game_round again = gp_stored(win.id);
    assert_int_equal(again.settled_at, w.settled_at);
    /* the retry of a settled bet is its round */
    bool replayed = false;
    pb_store_game_round_clear(&x);
    assert_int_equal(pb_play_crash_bet(G.p, G.f->conn, &G.who[0], 1000, 101, "c-win", NULL, &x,
                                       &replayed, &err),
                     PB_OK);
    assert_true(replayed);
    assert_string_equal(x.id, win.id);
    assert_int_equal(gp_cash(0), c0);
    pb_store_game_round *all[] = {&win, &lose, &none, &man, &w, &l, &n, &m, &again, &x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_store_game_round_clear(all[i]);
}

/* The process stops while a crash round is open with bets in it: at the next
 * start the scheduler finishes that round and settles every bet once. */
static void crash_restart(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_store_crash_round cr = crash_wait(betting_fit, NULL);
    pb_store_game_round win = crash_bet(0, 1000, 101, "r-win", PB_OK);
    pb_store_game_round none = crash_bet(0, 700, 0, "r-none", PB_OK);
    pb_play_close(G.p); /* stopped while the round takes bets or runs */
    G.p = NULL;
    /* what the next start has to go on from: the hash sealed, no point */
    pb_store_crash_round open = crash_opened(cr.id);
    assert_string_not_equal(open.state, "crashed");
    assert_sealed_at_rest(cr.id, open.game_hash);
    assert_int_equal(gp_cash(0), FUND - 1700);
    pb_store_game_round w = gp_stored(win.id);
    assert_string_equal(w.state, "active");
    pb_store_game_round_clear(&w);
    sleep_ms(200);
    pb_play_config cfg = {.crash = true,
                          .sweep = true,
                          .crash_betting_ms = 1500,
                          .crash_pause_ms = 50,
                          .crash_growth = 0.01,
                          .crash_chain_length = 200};
    gp_play_open(&cfg);
    w = settled_wait(win.id);
    pb_store_game_round n = settled_wait(none.id);
    assert_int_equal(w.payout, 1010);
    assert_int_equal(n.payout, 0);
    assert_string_equal(w.crash_round, cr.id);
    assert_int_equal(gp_cash(0), FUND - 1700 + 1010);
    crash_wait(other_crashed, cr.id);
    assert_int_equal(gp_cash(0), FUND - 1700 + 1010);
    /* it crashed at the point of its sealed hash, now in the clear */
    char hash[PB_STORE_SEED_STORED_MAX + 1];
    int64_t point = 0;
    crash_at_rest(cr.id, hash, &point);
    assert_string_equal(hash, open.game_hash);
    assert_int_equal(point, open.point);
    pb_store_game_round *all[] = {&win, &none, &w, &n};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_store_game_round_clear(all[i]);
}

/* Waits (≤ 30 s) for round id (the store's row) to be crashed; returns it. */
static pb_store_crash_round crashed_wait(const char *id)
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

/* Growth 0.002/ms: a round with its point in [1.50x, 4.00x) runs 200..700 ms. */
static int setup_crash_slow(void **state)
{
    pb_play_config cfg = {.crash = true,
                          .sweep = true,
                          .crash_betting_ms = 1500,
                          .crash_pause_ms = 50,
                          .crash_growth = 0.002,
                          .crash_chain_length = 200};
    gp_setup_cfg(state, &cfg);
    gp_game_on("crash", true);
    return 0;
}

static bool betting_runs_a_while(const pb_store_crash_round *r, void *ctx)
{
    (void)ctx;
    if (strcmp(r->state, "betting") != 0)
        return false;
    pb_store_crash_round o = crash_opened(r->id);
    return o.point >= 150 && o.point < 400;
}

/* A crash round's outcome stays out of the database until it crashes: while it
 * takes bets and while it runs its game hash is sealed (bound to its id: it does
 * not open as another round's, nor once changed) and its point is 0; the current
 * round's view shows neither. The crash writes both in the clear, and the round
 * verifies: the hash links to the chain's commitment and gives the point. */
static void crash_round_sealed_at_rest(void **state)
{
    (void)state;
    pb_store_crash_round cur = crash_wait(betting_runs_a_while, NULL);
    assert_string_equal(cur.game_hash, "");
    assert_int_equal(cur.point, 0);
    pb_store_crash_round open = crash_opened(cur.id);
    assert_int_equal(strlen(open.game_hash), 64);
    assert_int_equal(open.point, (int64_t)pb_crash_point(open.game_hash, open.salt, 9900));
    assert_sealed_at_rest(cur.id, open.game_hash);
    /* bound to its round: moved to another round's id, or changed, it does not open */
    pb_store_crash_round moved;
    assert_int_equal(pb_store_crash_round_get(G.f->conn, cur.id, &moved), PB_STORE_OK);
    pb_store_crash_round changed = moved;
    play_new_id(moved.id);
    assert_int_equal(play_crash_round_open(&moved), PB_ERR_INTERNAL);
    changed.game_hash[40] = changed.game_hash[40] == '0' ? '1' : '0';
    assert_int_equal(play_crash_round_open(&changed), PB_ERR_INTERNAL);

    /* running: still sealed (the state read with the row); the current view hides it */
    char hash[PB_STORE_SEED_STORED_MAX + 1], st[10] = "";
    int64_t point = 0;
    bool seen = false;
    for (int i = 0; i < 3000 && strcmp(st, "crashed") != 0; i++) {
        crash_at_rest_state(cur.id, hash, &point, st);
        if (strcmp(st, "running") == 0) {
            assert_sealed(hash, point, open.game_hash);
            seen = true;
        }
        pb_store_crash_round now;
        int64_t m = 0;
        assert_int_equal(pb_play_crash_current(G.p, G.f->conn, G.brand_id, &now, &m), PB_OK);
        if (strcmp(now.id, cur.id) == 0 && strcmp(now.state, "running") == 0) {
            assert_string_equal(now.game_hash, "");
            assert_int_equal(now.point, 0);
            assert_true(m >= 100 && m <= open.point);
        }
        sleep_ms(5);
    }
    assert_true(seen);

    pb_store_crash_round done = crashed_wait(cur.id);
    assert_string_equal(done.game_hash, open.game_hash); /* in the clear once crashed */
    assert_int_equal(done.point, open.point);
    crash_at_rest(cur.id, hash, &point);
    assert_string_equal(hash, open.game_hash);
    assert_int_equal(point, open.point);
    /* the public verify recomputes it from what is now public */
    json_t *in = json_pack("{s:s,s:s,s:s,s:i,s:s}", "game", "crash", "hash", hash, "salt",
                           done.salt, "rtp_bp", (int)done.rtp_bp, "commitment", done.terminal_hash);
    json_t *out = NULL;
    pb_play_error err;
    assert_int_equal(pb_play_verify(in, &out, &err), PB_OK);
    assert_int_equal(llround(json_number_value(json_object_get(out, "point")) * 100), point);
    json_decref(in);
    json_decref(out);
}

/* A crash round an older version wrote in the clear while it took bets (hash and
 * point) is sealed when the games open with a key: its point becomes 0, the hash
 * opens to the same one, a crashed round stays as it was, a second pass seals
 * nothing; the scheduler then crashes it at its point. */
static void legacy_crash_round_sealed_on_open(void **state)
{
    (void)state;
    enum { LEN = 8, POS = 3 };
    pb_store_crash_chain ch = {.brand_id = G.brand_id, .length = LEN, .next_position = POS + 1};
    snprintf(ch.brand, sizeof ch.brand, "alpha");
    pb_fair_server_seed_new(ch.seed);
    pb_fair_server_seed_new(ch.salt);
    char chain[LEN][PB_FAIR_HASH_HEX_LEN + 1];
    pb_crash_chain_generate(ch.seed, LEN, chain);
    pb_fair_sha256_hex(chain[LEN - 1], 64, ch.terminal_hash);
    /* played from c[n−1] down: position i is c[n−1−i] */
    pb_store_crash_round old = {.brand_id = G.brand_id, .position = POS - 1, .rtp_bp = 9900};
    pb_store_crash_round bet = {.brand_id = G.brand_id, .position = POS, .rtp_bp = 9900};
    int64_t now = pb_time_now_us();
    play_new_id(old.id);
    play_new_id(bet.id);
    snprintf(old.brand, sizeof old.brand, "alpha");
    snprintf(bet.brand, sizeof bet.brand, "alpha");
    snprintf(old.game_hash, sizeof old.game_hash, "%s", chain[LEN - POS]);
    snprintf(bet.game_hash, sizeof bet.game_hash, "%s", chain[LEN - 1 - POS]);
    old.point = (int64_t)pb_crash_point(old.game_hash, ch.salt, 9900);
    bet.point = (int64_t)pb_crash_point(bet.game_hash, ch.salt, 9900);
    snprintf(old.state, sizeof old.state, "crashed");
    snprintf(bet.state, sizeof bet.state, "betting");
    old.created_at = old.betting_ends_at = old.started_at = old.crashed_at = now - 5000000;
    bet.created_at = now;
    bet.betting_ends_at = now + 400000;
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_crash_chain_insert(G.f->conn, &ch), PB_STORE_OK);
    old.chain_id = bet.chain_id = ch.id;
    assert_int_equal(pb_store_crash_round_insert(G.f->conn, &old), PB_STORE_OK);
    assert_int_equal(pb_store_crash_round_insert(G.f->conn, &bet), PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    char hash[PB_STORE_SEED_STORED_MAX + 1];
    int64_t point = 0;
    crash_at_rest(bet.id, hash, &point); /* in the clear, as an older version wrote it */
    assert_string_equal(hash, bet.game_hash);
    assert_int_equal(point, bet.point);

    int64_t sealed = 0;
    char err[256];
    assert_int_equal(play_seal_existing(G.f->store, &sealed, err, sizeof err), 0);
    assert_true(sealed >= 1);
    assert_sealed_at_rest(bet.id, bet.game_hash);
    pb_store_crash_round o = crash_opened(bet.id);
    assert_string_equal(o.game_hash, bet.game_hash);
    assert_int_equal(o.point, bet.point);
    crash_at_rest(old.id, hash, &point); /* crashed: public, left in the clear */
    assert_string_equal(hash, old.game_hash);
    assert_int_equal(point, old.point);
    assert_int_equal(play_seal_existing(G.f->store, &sealed, err, sizeof err), 0);
    assert_int_equal(sealed, 0);

    /* the crash game switched on: the round goes on from its sealed hash */
    pb_play_close(G.p);
    G.p = NULL;
    gp_game_on("crash", true);
    pb_play_config cfg = {.crash = true,
                          .sweep = true,
                          .crash_betting_ms = 1500,
                          .crash_pause_ms = 50,
                          .crash_growth = 0.01,
                          .crash_chain_length = 200};
    gp_play_open(&cfg);
    pb_store_crash_round done = crashed_wait(bet.id);
    assert_string_equal(done.game_hash, bet.game_hash);
    assert_int_equal(done.point, bet.point);
    crash_at_rest(bet.id, hash, &point);
    assert_string_equal(hash, bet.game_hash);
    assert_int_equal(point, bet.point);
}

/* ---- bets a transient failure left unfinished, retried while running ---- */

/* Retry passes every 200 ms. */
static int setup_crash_retry(void **state)
{
    pb_play_config cfg = {.crash = true,
                          .sweep = true,
                          .crash_betting_ms = 1500,
                          .crash_pause_ms = 50,
                          .crash_growth = 0.01,
                          .crash_chain_length = 200,
                          .retry_ms = 200};
    gp_setup_cfg(state, &cfg);
    gp_game_on("crash", true);
    return 0;
}

/* Runs one SQL statement on the database from a connection of its own (the
 * failure injected: a trigger refusing a write the money side needs). */
static void sql(const char *q)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(G.f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char *msg = NULL;
    if (sqlite3_exec(db, q, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", q, msg ? msg : "?");
    sqlite3_close(db);
}

/* The wallet operations recorded under a transaction id. */
static int64_t wallet_ops(const char *tx_id)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(G.f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM wallet_op WHERE tx_id=?1", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, tx_id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A bet of player 0 (1000, auto cash-out 1.01x: it wins) in a round that takes
 * bets for a while and crashes above 1.01x; a later round crashes with the
 * failure still on: the bet is still where the failure left it (want_state),
 * with the money as the failure left it (cash). The caller removes the failure,
 * then the bet settles without a restart, paid 1010 once. */
static void retried_while_running(const char *trigger, const char *drop, const char *key,
                                  const char *want_state, int64_t cash)
{
    int64_t before = gp_cash(0);
    pb_store_crash_round cr = crash_wait(betting_fit, NULL);
    sql(trigger);
    pb_store_game_round b;
    memset(&b, 0, sizeof b);
    bool replayed = false;
    pb_play_error err;
    pb_err e = pb_play_crash_bet(G.p, G.f->conn, &G.who[0], 1000, 101, key, NULL, &b, &replayed,
                                 &err);
    /* the decision refused: the player was answered 503 / 500, the stake taken */
    assert_true(e == PB_OK || strcmp(want_state, "pending") == 0);
    pb_store_game_round_clear(&b);
    assert_int_equal(pb_store_game_round_by_key(G.f->conn, G.players[0], key, &b), PB_STORE_OK);
    assert_string_equal(b.crash_round, cr.id);
    crashed_wait(cr.id);
    crash_wait(other_crashed, cr.id); /* the next round has come and gone too */
    sleep_ms(600);                    /* some retry passes fail meanwhile */
    pb_store_game_round r = gp_stored(b.id);
    assert_string_equal(r.state, want_state);
    assert_int_equal(gp_cash(0), before + cash);
    pb_store_game_round_clear(&r);
    pb_play_stats st;
    pb_play_stats_get(G.p, &st);
    assert_true(st.retry_failures > 0);
    assert_true(st.rounds_waiting > 0);

    sql(drop); /* the store takes it again: no restart */
    r = settled_wait(b.id);
    assert_int_equal(r.multiplier, 101 * (PB_MULT_ONE / 100));
    assert_int_equal(r.payout, 1010);
    assert_int_equal(gp_cash(0), before - 1000 + 1010); /* staked once, paid once */
    char tx[PB_ID_STR_LEN + 8];
    snprintf(tx, sizeof tx, "%s:win", b.id);
    assert_int_equal(wallet_ops(tx), 1);
    snprintf(tx, sizeof tx, "%s:bet", b.id);
    assert_int_equal(wallet_ops(tx), 1);
    /* the pass adds its count once it has been through every round: the bet
     * can be settled a moment before (≤ 5 s) */
    for (int i = 0; i < 500; i++) {
        pb_play_stats_get(G.p, &st);
        if (st.rounds_retried > 0)
            break;
        sleep_ms(10);
    }
    assert_true(st.rounds_retried > 0);
    /* nothing more moves afterwards */
    int64_t n = gp_transfers();
    crash_wait(other_crashed, cr.id);
    sleep_ms(500);
    assert_int_equal(gp_transfers(), n);
    assert_int_equal(gp_cash(0), before - 1000 + 1010);
    pb_store_game_round_clear(&r);
    pb_store_game_round_clear(&b);
}

/* A crash bet left unfinished by a transient failure is driven on while the
 * server runs (the scheduler's retry pass, with backoff), not only at the next
 * start, and is paid once: (1) the wallet cannot record the win when the round
 * crashes (the bet stays settling, its win unpaid); (2) the win is paid but the
 * bet's mark as settled fails (stays settling: the retry's win is a duplicate and
 * pays nothing). Before, only a restart settled them. (A bet whose decision
 * fails after its stake is void once decided: crash_bet_void_* below.) */
static void crash_bets_retried_while_running(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    retried_while_running("CREATE TRIGGER inject BEFORE INSERT ON wallet_op WHEN NEW.kind = 2 "
                          "BEGIN SELECT RAISE(ABORT, 'injected: the win is not recorded'); END",
                          "DROP TRIGGER inject", "retry-win", "settling", -1000);
    retried_while_running("CREATE TRIGGER inject BEFORE UPDATE OF state ON game_round "
                          "WHEN NEW.state = 'settled' "
                          "BEGIN SELECT RAISE(ABORT, 'injected: not marked'); END",
                          "DROP TRIGGER inject", "retry-mark", "settling", 10);
}

/* ---- a bet not accepted before its round started is void, its stake given back ---- */

/* The failure injected: every decision (pending → anything) refused. */
#define NO_DECISION                                                                          \
    "CREATE TRIGGER inject BEFORE UPDATE OF state ON game_round WHEN OLD.state = 'pending' " \
    "BEGIN SELECT RAISE(ABORT, 'injected: not decided'); END"

/* Player i's cash and bonus apart. */
static void balances(int i, int64_t *cash, int64_t *bonus)
{
    pb_wallet_balance b;
    assert_int_equal(pb_wallet_balance_get(G.f->conn, "alpha", G.players[i], "EUR", &b), PB_OK);
    *cash = b.cash;
    *bonus = b.bonus;
}

/* Bonus money for player i (from the house, as a grant). */
static void fund_bonus(int i, int64_t amount)
{
    pb_wallet_accounts acc;
    assert_int_equal(pb_wallet_player_accounts(G.w, G.f->conn, "alpha", G.players[i], "EUR", &acc),
                     PB_OK);
    char key[32];
    snprintf(key, sizeof key, "bonus-%d", G.n++);
    pb_transfer t = fx_transfer(key, G.house, acc.bonus, amount, PB_CODE_ADJUSTMENT);
    assert_int_equal(fx_submit1(G.f, &t), PB_OK);
}

/* A round taking bets for ≥ 1 s more whose point is at least *ctx hundredths. */
static bool betting_from(const pb_store_crash_round *r, void *ctx)
{
    if (strcmp(r->state, "betting") != 0 || r->betting_ends_at - pb_time_now_us() <= 1000000)
        return false;
    pb_store_crash_round o = crash_opened(r->id);
    return o.point >= *(int64_t *)ctx && o.point < 1000000;
}

/* The wallet operations of round id: "<id>:<step>". */
static int64_t round_ops(const char *id, const char *step)
{
    char tx[PB_ID_STR_LEN + 8];
    snprintf(tx, sizeof tx, "%s:%s", id, step);
    return wallet_ops(tx);
}

/* Waits (≤ 30 s) for a round to be void; returns it. */
static pb_store_game_round void_wait(const char *id)
{
    for (int i = 0; i < 3000; i++) {
        pb_store_game_round r = gp_stored(id);
        if (strcmp(r.state, "void") == 0)
            return r;
        pb_store_game_round_clear(&r);
        sleep_ms(10);
    }
    fail_msg("round %s never became void", id);
    return (pb_store_game_round){0};
}

/* Places the two bets of a void test in a round taking bets whose point is at
 * least min_point: player 1's (700, no auto cash-out) accepted, in play; then,
 * with every decision refused, player 0's (1000, auto cash-out 1.01x, below the
 * point: it would win if it played), staked 600 cash + 400 bonus (cash first),
 * answered an error and left pending. Returns the crash round; *in_play and
 * *late receive the bets. */
static pb_store_crash_round void_bets(int64_t min_point, const char *key,
                                      pb_store_game_round *in_play, pb_store_game_round *late)
{
    pb_store_crash_round cr = crash_wait(betting_from, &min_point);
    char k1[64];
    snprintf(k1, sizeof k1, "%s-in-play", key);
    *in_play = crash_bet(1, 700, 0, k1, PB_OK);
    assert_string_equal(in_play->crash_round, cr.id);
    sql(NO_DECISION);
    memset(late, 0, sizeof *late);
    bool replayed = false;
    pb_play_error err;
    pb_err e = pb_play_crash_bet(G.p, G.f->conn, &G.who[0], 1000, 101, key, NULL, late, &replayed,
                                 &err);
    assert_int_not_equal(e, PB_OK); /* the decision refused: the player got an error */
    pb_store_game_round_clear(late);
    assert_int_equal(pb_store_game_round_by_key(G.f->conn, G.players[0], key, late), PB_STORE_OK);
    assert_string_equal(late->state, "pending");
    assert_string_equal(late->crash_round, cr.id);
    int64_t cash, bonus;
    balances(0, &cash, &bonus);
    assert_int_equal(cash, 0); /* 600 cash then 400 of the 1000 bonus staked */
    assert_int_equal(bonus, 600);
    return cr;
}

/* Whether player i's wallet round of game round id is closed (false: no row,
 * open: a round of bets only has none); *has_win too. */
static bool wallet_round_closed(int i, const char *id, bool *has_win)
{
    pb_store_wallet_round wr;
    pb_store_rc rc = pb_store_wallet_round_get(G.f->conn, PB_PLAY_PROVIDER, id, G.players[i], &wr);
    assert_true(rc == PB_STORE_OK || rc == PB_STORE_NOT_FOUND);
    *has_win = rc == PB_STORE_OK && wr.has_win;
    return rc == PB_STORE_OK && wr.closed;
}

/* The void's audit entry of round id: asserts there is exactly one, by the
 * system, naming the round, its crash round, the stake and its split and the
 * reason; and that the audit chain verifies. */
static void assert_void_audited(const pb_store_game_round *late, const char *reason, int64_t cash,
                                int64_t bonus)
{
    pb_audit_filter f = {.target_kind = "game_round", .target_id = late->id, .limit = 10};
    pb_audit_page pg = {0};
    assert_int_equal(pb_audit_query(G.f->conn, &f, &pg), PB_OK);
    assert_int_equal(pg.n, 1);
    const pb_audit_record *r = &pg.entries[0];
    assert_string_equal(r->action, "game_round.voided");
    assert_string_equal(r->actor_kind, "system");
    assert_string_equal(r->actor_id, "provider:pitboss");
    assert_string_equal(r->brand, "alpha");
    assert_true(strstr(r->reason, "never played") != NULL);
    json_error_t je;
    json_t *a = json_loads(r->after, 0, &je);
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "void");
    assert_string_equal(json_string_value(json_object_get(a, "void_reason")), reason);
    assert_string_equal(json_string_value(json_object_get(a, "crash_round")), late->crash_round);
    assert_string_equal(json_string_value(json_object_get(a, "player")), late->player);
    assert_int_equal(json_integer_value(json_object_get(a, "amount")), late->amount);
    assert_string_equal(json_string_value(json_object_get(a, "currency")), "EUR");
    assert_int_equal(json_integer_value(json_object_get(a, "refunded_cash")), cash);
    assert_int_equal(json_integer_value(json_object_get(a, "refunded_bonus")), bonus);
    json_decref(a);
    pb_audit_page_free(&pg);
    pb_audit_verify_summary vs;
    assert_int_equal(pb_audit_verify(G.f->conn, NULL, 0, NULL, NULL, &vs), PB_OK);
    assert_int_equal(vs.violations, 0);
}

/* The late bet is void: its stake back exactly (600 cash, 1000 bonus), staked
 * once and given back once, never paid (its auto cash-out was below the point:
 * it never played), its wallet round closed once like a settled round's, the
 * void audited once, the ledger clean; the bet in play lost as the crash
 * decided (no refund). */
static void assert_void(const pb_store_game_round *late, const char *reason,
                        const pb_store_game_round *in_play, int64_t cash1)
{
    pb_store_game_round v = gp_stored(late->id);
    assert_string_equal(v.state, "void");
    assert_string_equal(v.void_reason, reason);
    assert_false(v.has_payout);
    assert_false(v.has_multiplier);
    assert_true(v.settled_at > 0);
    pb_store_game_round_clear(&v);
    int64_t cash, bonus;
    balances(0, &cash, &bonus);
    assert_int_equal(cash, 600);
    assert_int_equal(bonus, 1000);
    assert_int_equal(round_ops(late->id, "bet"), 1);
    assert_int_equal(round_ops(late->id, "void"), 1);
    assert_int_equal(round_ops(late->id, "win"), 0);
    /* its wallet round closed (a settled round's win closes its), once */
    bool has_win = true;
    assert_true(wallet_round_closed(0, late->id, &has_win));
    assert_false(has_win);
    assert_int_equal(round_ops(late->id, "close"), 1);
    assert_void_audited(late, reason, 600, 400);
    pb_ledger_verify_summary lv;
    assert_int_equal(pb_ledger_verify(G.f->conn, NULL, NULL, &lv), PB_OK);
    assert_int_equal(lv.violations, 0);

    pb_store_game_round l = settled_wait(in_play->id);
    assert_true(l.has_payout);
    assert_int_equal(l.payout, 0);
    assert_int_equal(l.multiplier, 0);
    assert_string_equal(l.void_reason, "");
    assert_int_equal(gp_cash(1), cash1 - 700);
    assert_int_equal(round_ops(in_play->id, "void"), 0);
    assert_int_equal(round_ops(in_play->id, "win"), 1);
    assert_int_equal(round_ops(in_play->id, "close"), 0);
    assert_true(wallet_round_closed(1, in_play->id, &has_win)); /* by its win */
    assert_true(has_win);
    pb_store_game_round_clear(&l);

    /* the player's retry is answered from the void round; nothing moves again */
    int64_t n = gp_transfers();
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    bool replayed = false;
    pb_play_error err;
    assert_int_equal(pb_play_crash_bet(G.p, G.f->conn, &G.who[0], 1000, 101, late->idempotency_key,
                                       NULL, &o, &replayed, &err),
                     PB_OK);
    assert_true(replayed);
    assert_string_equal(o.state, "void");
    pb_store_game_round_clear(&o);
    sleep_ms(500); /* retry passes */
    assert_int_equal(gp_transfers(), n);
    balances(0, &cash, &bonus);
    assert_int_equal(cash, 600);
    assert_int_equal(bonus, 1000);
    assert_int_equal(round_ops(late->id, "close"), 1);
    assert_void_audited(late, reason, 600, 400);
}

/* Through the retry pass: the bet's decision fails after its stake, its round
 * crashes (and the next one too) with the failure on, the failure goes, and the
 * retry pass decides the bet: its round has crashed, it never played, so it is
 * void (crash_round_crashed) and its stake comes back. Before, it was settled by
 * the point like a bet in play: its auto cash-out won it 1010 here, and a bet
 * without one lost its stake. */
static void crash_bet_void_retried(void **state)
{
    (void)state;
    gp_fund(0, 600);
    fund_bonus(0, 1000);
    gp_fund(1, FUND);
    pb_store_game_round in_play, late;
    pb_store_crash_round cr = void_bets(102, "void-retry", &in_play, &late);
    crashed_wait(cr.id);
    crash_wait(other_crashed, cr.id);
    sleep_ms(600); /* retry passes fail meanwhile */
    pb_store_game_round r = gp_stored(late.id);
    assert_string_equal(r.state, "pending");
    pb_store_game_round_clear(&r);
    pb_play_stats st;
    pb_play_stats_get(G.p, &st);
    assert_true(st.retry_failures > 0);

    sql("DROP TRIGGER inject"); /* no restart */
    r = void_wait(late.id);
    pb_store_game_round_clear(&r);
    assert_void(&late, PB_PLAY_VOID_CRASHED, &in_play, FUND);
    pb_store_game_round_clear(&in_play);
    pb_store_game_round_clear(&late);
}

/* Through the start-up recovery: the server stops while the bet is pending and
 * its round runs or has crashed; it starts again with the failure gone, without
 * the scheduler first (the round stays where it stopped): recovery voids the bet
 * (crash_round_started while the round runs, crash_round_crashed once crashed).
 * Then the scheduler goes on and the bet in play loses with its round. */
static void crash_bet_void_recovered(void **state)
{
    (void)state;
    gp_fund(0, 600);
    fund_bonus(0, 1000);
    gp_fund(1, FUND);
    pb_store_game_round in_play, late;
    /* growth 0.002/ms: a point of 2.00x or more runs ≥ 340 ms */
    pb_store_crash_round cr = void_bets(200, "void-recover", &in_play, &late);
    crash_wait(is_running, cr.id);
    pb_play_close(G.p); /* stopped: the round as it is now */
    G.p = NULL;
    char hash[PB_STORE_SEED_STORED_MAX + 1], at_stop[10];
    int64_t point;
    crash_at_rest_state(cr.id, hash, &point, at_stop);
    assert_string_not_equal(at_stop, "betting");
    pb_store_game_round r = gp_stored(late.id);
    assert_string_equal(r.state, "pending");
    pb_store_game_round_clear(&r);
    sql("DROP TRIGGER inject");

    gp_play_open(NULL); /* recovery, no scheduler */
    r = gp_stored(late.id);
    assert_string_equal(r.state, "void");
    pb_store_game_round_clear(&r);
    char now[10];
    crash_at_rest_state(cr.id, hash, &point, now);
    assert_string_equal(now, at_stop); /* nothing moved the round meanwhile */
    const char *reason = strcmp(at_stop, "crashed") == 0 ? PB_PLAY_VOID_CRASHED
                                                         : PB_PLAY_VOID_STARTED;
    pb_store_game_round_clear(&r);

    pb_play_close(G.p);
    G.p = NULL;
    pb_play_config cfg = {.crash = true,
                          .sweep = true,
                          .crash_betting_ms = 1500,
                          .crash_pause_ms = 50,
                          .crash_growth = 0.002,
                          .crash_chain_length = 200,
                          .retry_ms = 200};
    gp_play_open(&cfg);
    crashed_wait(cr.id);
    assert_void(&late, reason, &in_play, FUND);
    pb_store_game_round_clear(&in_play);
    pb_store_game_round_clear(&late);
}

/* A void retried after its wallet steps: the bet's decision fails until its
 * round has crashed, then the move to "void" fails (the stake already given
 * back, the wallet round already closed) through several retry passes; once
 * the failure goes, the retry pass makes it void. The stake came back once, the
 * wallet round was closed once (every retry's rollback and close were
 * duplicates) and the void has one audit entry (written with the move, rolled
 * back with each failed one). */
static void crash_bet_void_mark_retried(void **state)
{
    (void)state;
    gp_fund(0, 600);
    fund_bonus(0, 1000);
    gp_fund(1, FUND);
    pb_store_game_round in_play, late;
    pb_store_crash_round cr = void_bets(102, "void-mark", &in_play, &late);
    crashed_wait(cr.id);
    /* one transaction: no retry pass may decide and void the bet in between */
    sql("BEGIN IMMEDIATE; DROP TRIGGER inject; CREATE TRIGGER inject BEFORE UPDATE OF state "
        "ON game_round WHEN NEW.state = 'void' "
        "BEGIN SELECT RAISE(ABORT, 'injected: not marked void'); END; COMMIT");
    for (int i = 0; i < 3000 && round_ops(late.id, "close") == 0; i++)
        sleep_ms(10);
    assert_int_equal(round_ops(late.id, "close"), 1);
    /* one more retry pass fails at the mark (after its rollback and close:
     * duplicates); the passes back off, so this can take a few seconds */
    pb_play_stats st0, st;
    pb_play_stats_get(G.p, &st0);
    for (int i = 0; i < 1500; i++) {
        pb_play_stats_get(G.p, &st);
        if (st.retry_failures > st0.retry_failures)
            break;
        sleep_ms(10);
    }
    assert_true(st.retry_failures > st0.retry_failures);
    pb_store_game_round r = gp_stored(late.id);
    assert_string_equal(r.state, "voiding");
    pb_store_game_round_clear(&r);
    int64_t cash, bonus;
    balances(0, &cash, &bonus);
    assert_int_equal(cash, 600); /* given back already, once */
    assert_int_equal(bonus, 1000);
    assert_int_equal(round_ops(late.id, "void"), 1);
    assert_int_equal(round_ops(late.id, "close"), 1);
    bool has_win;
    assert_true(wallet_round_closed(0, late.id, &has_win));
    pb_audit_filter f = {.target_kind = "game_round", .target_id = late.id, .limit = 10};
    pb_audit_page pg = {0};
    assert_int_equal(pb_audit_query(G.f->conn, &f, &pg), PB_OK);
    assert_int_equal(pg.n, 0); /* not void yet: no entry */
    pb_audit_page_free(&pg);

    sql("DROP TRIGGER inject");
    r = void_wait(late.id);
    pb_store_game_round_clear(&r);
    assert_void(&late, PB_PLAY_VOID_CRASHED, &in_play, FUND);
    pb_store_game_round_clear(&in_play);
    pb_store_game_round_clear(&late);
}

/* The void tests' scheduler: growth 0.002/ms, retry passes every 200 ms. */
static int setup_crash_void(void **state)
{
    pb_play_config cfg = {.crash = true,
                          .sweep = true,
                          .crash_betting_ms = 1500,
                          .crash_pause_ms = 50,
                          .crash_growth = 0.002,
                          .crash_chain_length = 200,
                          .retry_ms = 200};
    gp_setup_cfg(state, &cfg);
    gp_game_on("crash", true);
    return 0;
}

/* ---- a cash-out pays at most 1,000,000x ---- */

/* A game hash and salt whose point is 81,769,569.67x at 99 % (found by search):
 * a manual cash-out can come far above the 1,000,000x cap. */
#define HIGH_HASH "77438bbb638b48da846d7ec31d36e807e0da02057ab6deb975d06ca8bbf97f5e"
#define HIGH_SALT "salt-79779398"
#define HIGH_POINT 8176956967
#define BIG_STAKE 1000000000000 /* 1e12 minor units: BTC's largest bet in satoshi */

/* Growth 0.001/ms, no scheduler until the test starts it: the test runs the round. */
static int setup_crash_manual(void **state)
{
    pb_play_config cfg = {.crash_growth = 0.001, .crash_chain_length = 200};
    gp_setup_cfg(state, &cfg);
    gp_game_on("crash", true);
    /* bets up to BIG_STAKE in EUR (the arithmetic is the currency's minor units) */
    pb_game g;
    assert_int_equal(pb_catalog_game_get(G.f->conn, PB_PLAY_PROVIDER, "crash", &g), PB_OK);
    for (size_t i = 0; i < g.nlimits; i++)
        if (strcmp(g.limits[i].currency, "EUR") == 0)
            g.limits[i].max_bet = BIG_STAKE;
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_game_update(G.f->conn, &g, 3, NULL), PB_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    return 0;
}

/* A crash round whose point is far above the cash-out cap: a stake of 1e12 (the
 * bet-time check lets it in: stake × 1,000,000x fits) cashed out by hand at
 * ~14,600,000x would owe more than int64 holds. The cash-out is recorded at the
 * cap and pays stake × 1,000,000x; the round crashes and settles every bet: the
 * capped ones, an auto cash-out at 2.00x and a lost bet. */
static void crash_cashout_capped(void **state)
{
    (void)state;
    gp_fund(0, BIG_STAKE);
    gp_fund(1, FUND);
    /* the round, made as the scheduler makes one: its hash sealed, point 0 */
    int64_t now = pb_time_now_us();
    assert_int_equal((int64_t)pb_crash_point(HIGH_HASH, HIGH_SALT, 9900), HIGH_POINT);
    pb_store_crash_chain ch = {.brand_id = G.brand_id, .length = 1, .next_position = 1};
    snprintf(ch.brand, sizeof ch.brand, "alpha");
    snprintf(ch.salt, sizeof ch.salt, HIGH_SALT);
    pb_fair_server_seed_new(ch.seed);
    pb_fair_sha256_hex(HIGH_HASH, 64, ch.terminal_hash);
    pb_store_crash_round cr = {.brand_id = G.brand_id, .rtp_bp = 9900};
    play_new_id(cr.id);
    snprintf(cr.brand, sizeof cr.brand, "alpha");
    snprintf(cr.state, sizeof cr.state, "betting");
    cr.created_at = now;
    cr.betting_ends_at = now + 60000000;
    char ad[PB_ID_STR_LEN + 16];
    play_crash_round_ad(cr.id, ad, sizeof ad);
    assert_int_equal(play_seed_seal(ad, HIGH_HASH, cr.game_hash, sizeof cr.game_hash), PB_OK);
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_crash_chain_insert(G.f->conn, &ch), PB_STORE_OK);
    cr.chain_id = ch.id;
    assert_int_equal(pb_store_crash_round_insert(G.f->conn, &cr), PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);

    pb_store_game_round big = crash_bet(0, BIG_STAKE, 0, "cap-big", PB_OK);
    pb_store_game_round small = crash_bet(1, 500, 0, "cap-small", PB_OK);
    pb_store_game_round aut = crash_bet(1, 1000, 200, "cap-auto", PB_OK);
    pb_store_game_round lost = crash_bet(1, 700, 0, "cap-lost", PB_OK);
    assert_string_equal(big.crash_round, cr.id);
    /* running for 16.5 s: m = floor(100 · e^16.5) ≈ 14,600,000x, below the point */
    assert_int_equal(pb_store_crash_round_get(G.f->conn, cr.id, &cr), PB_STORE_OK);
    snprintf(cr.state, sizeof cr.state, "running");
    cr.started_at = pb_time_now_us() - 16500000;
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_crash_round_update(G.f->conn, &cr, "betting"), PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    int64_t m = pb_play_crash_multiplier_at(G.p, 16500);
    assert_true(m > 1000000000 && m < HIGH_POINT); /* > 10,000,000x: stake × m overflows */
    int64_t cap = (int64_t)PB_CRASH_TARGET_MAX * (PB_MULT_ONE / 100), pay;
    assert_int_equal(pb_game_payout_of(BIG_STAKE, cap, &pay), 0);
    assert_int_equal(pay, BIG_STAKE * 1000000);
    assert_int_not_equal(pb_game_payout_of(BIG_STAKE, m * (PB_MULT_ONE / 100), &pay), 0);

    /* what is shown is what a cash-out pays: the multiplier now stops at the cap */
    pb_store_crash_round cur;
    int64_t shown = 0;
    assert_int_equal(pb_play_crash_current(G.p, G.f->conn, G.brand_id, &cur, &shown), PB_OK);
    assert_string_equal(cur.state, "running");
    assert_int_equal(shown, PB_CRASH_TARGET_MAX);

    pb_store_game_round x;
    memset(&x, 0, sizeof x);
    pb_play_error err;
    assert_int_equal(pb_play_crash_cashout(G.p, G.f->conn, &G.who[0], big.id, &x, &err), PB_OK);
    assert_int_equal(x.multiplier, cap);
    assert_int_equal(pb_play_crash_cashout(G.p, G.f->conn, &G.who[1], small.id, &x, &err), PB_OK);
    assert_int_equal(x.multiplier, cap);
    pb_store_game_round_clear(&x);

    /* the scheduler crashes the round at its point and settles every bet */
    pb_play_close(G.p);
    G.p = NULL;
    pb_play_config cfg = {
        .crash = true, .sweep = true, .crash_growth = 0.001, .crash_chain_length = 200};
    gp_play_open(&cfg);
    pb_store_crash_round done = crashed_wait(cr.id);
    assert_int_equal(done.point, HIGH_POINT);
    /* crashed (the next round comes 3 s later): the point as the hash gives it, the
     * multiplier shown at the cap */
    assert_int_equal(pb_play_crash_current(G.p, G.f->conn, G.brand_id, &cur, &shown), PB_OK);
    assert_string_equal(cur.id, cr.id);
    assert_int_equal(cur.point, HIGH_POINT);
    assert_int_equal(shown, PB_CRASH_TARGET_MAX);
    pb_store_game_round b = settled_wait(big.id), s = settled_wait(small.id),
                        au = settled_wait(aut.id), l = settled_wait(lost.id);
    assert_int_equal(b.multiplier, cap);
    assert_int_equal(b.payout, BIG_STAKE * 1000000);
    assert_int_equal(s.payout, 500 * 1000000);
    assert_int_equal(au.multiplier, 2 * PB_MULT_ONE);
    assert_int_equal(au.payout, 2000);
    assert_int_equal(l.payout, 0);
    assert_int_equal(gp_cash(0), BIG_STAKE * 1000000);
    assert_int_equal(gp_cash(1), FUND - 2200 + 500 * 1000000 + 2000);
    pb_store_game_round *all[] = {&big, &small, &aut, &lost, &b, &s, &au, &l};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_store_game_round_clear(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(recovery, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(retry_drives_on, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(crash_rounds, setup_crash, gp_teardown),
        cmocka_unit_test_setup_teardown(crash_restart, setup_crash, gp_teardown),
        cmocka_unit_test_setup_teardown(crash_round_sealed_at_rest, setup_crash_slow, gp_teardown),
        cmocka_unit_test_setup_teardown(legacy_crash_round_sealed_on_open, gp_setup, gp_teardown),
        cmocka_unit_test_setup_teardown(crash_cashout_capped, setup_crash_manual, gp_teardown),
        cmocka_unit_test_setup_teardown(crash_bets_retried_while_running, setup_crash_retry,
                                        gp_teardown),
        cmocka_unit_test_setup_teardown(crash_bet_void_retried, setup_crash_void, gp_teardown),
        cmocka_unit_test_setup_teardown(crash_bet_void_recovered, setup_crash_void, gp_teardown),
        cmocka_unit_test_setup_teardown(crash_bet_void_mark_retried, setup_crash_void, gp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
