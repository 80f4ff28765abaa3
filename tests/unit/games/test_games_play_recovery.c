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
 * its point); a crash cash-out capped at 1,000,000x. A crash is simulated by
 * running the money side's own steps (play_internal.h) up to where it would have
 * stopped. Every test ends with the ledger's verify finding nothing (the
 * teardown). Bets a transient failure left unfinished while running, and crash
 * bets void: test_games_play_void.c; the crash helpers both use: crash_helpers.h.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "play_fixture.h"
#include "crash_helpers.h"
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
                          .crash_betting_ms = CRASH_BETTING_MS,
                          .crash_pause_ms = CRASH_PAUSE_MS,
                          .crash_growth = 0.01,
                          .crash_chain_length = 200};
    gp_setup_cfg(state, &cfg);
    gp_game_on("crash", true);
    return 0;
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
                          .crash_betting_ms = CRASH_BETTING_MS,
                          .crash_pause_ms = CRASH_PAUSE_MS,
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

/* Growth 0.002/ms: a round with its point in [1.50x, 4.00x) runs 200..700 ms. */
static int setup_crash_slow(void **state)
{
    pb_play_config cfg = {.crash = true,
                          .sweep = true,
                          .crash_betting_ms = CRASH_BETTING_MS,
                          .crash_pause_ms = CRASH_PAUSE_MS,
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
                          .crash_betting_ms = CRASH_BETTING_MS,
                          .crash_pause_ms = CRASH_PAUSE_MS,
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
 * ~39,800,000x would owe more than int64 holds. The cash-out is recorded at the
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
    /* running for 17.5 s: m = floor(100 · e^17.5) ≈ 39,800,000x, below the point (reached
     * at ~18.22 s: the round crashes ~0.7 s after, once the scheduler runs) */
    assert_int_equal(pb_store_crash_round_get(G.f->conn, cr.id, &cr), PB_STORE_OK);
    snprintf(cr.state, sizeof cr.state, "running");
    cr.started_at = pb_time_now_us() - 17500000;
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_crash_round_update(G.f->conn, &cr, "betting"), PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    int64_t m = pb_play_crash_multiplier_at(G.p, 17500);
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

/* ---- a cash-out's answer: a voided bet, an auto target already reached ---- */

/* The HIGH_HASH round, made as the scheduler makes one (sealed, betting for a
 * minute; no scheduler: the test runs the round). */
static pb_store_crash_round high_round(void)
{
    int64_t now = pb_time_now_us();
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
    return cr;
}

/* Round cr running, started started_ago_us ago. */
static void high_round_run(pb_store_crash_round *cr, int64_t started_ago_us)
{
    char was[sizeof cr->state];
    assert_int_equal(pb_store_crash_round_get(G.f->conn, cr->id, cr), PB_STORE_OK);
    snprintf(was, sizeof was, "%s", cr->state);
    snprintf(cr->state, sizeof cr->state, "running");
    cr->started_at = pb_time_now_us() - started_ago_us;
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_crash_round_update(G.f->conn, cr, was), PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
}

/* The scheduler on (growth 0.001/ms, as the manual setup): it crashes a running
 * round whose point was reached and settles its active bets. */
static void scheduler_on(void)
{
    pb_play_close(G.p);
    G.p = NULL;
    pb_play_config cfg = {
        .crash = true, .sweep = true, .crash_growth = 0.001, .crash_chain_length = 200};
    gp_play_open(&cfg);
}

/* A crash bet cashed out by hand, then void by staff: its stake back, the round
 * void. A later cash-out request of the player is refused as on any closed round
 * (ROUND_CLOSED), not answered 200 with the void round because the void kept its
 * cash-out multiplier; nothing moves, then or when the round crashes. */
static void crash_cashout_after_staff_void(void **state)
{
    (void)state;
    gp_fund(1, FUND);
    pb_store_crash_round cr = high_round();
    pb_store_game_round bet = crash_bet(1, 1000, 0, "void-cashed", PB_OK);
    high_round_run(&cr, 1000000); /* m = floor(100 · e) = 2.71x, far below the point */
    pb_store_game_round x;
    memset(&x, 0, sizeof x);
    pb_play_error err;
    assert_int_equal(pb_play_crash_cashout(G.p, G.f->conn, &G.who[1], bet.id, &x, &err), PB_OK);
    assert_true(x.has_multiplier && x.multiplier >= 271 * (PB_MULT_ONE / 100));
    pb_store_game_round_clear(&x);
    memset(&x, 0, sizeof x);
    assert_int_equal(gp_cash(1), FUND - 1000);

    pb_audit_entry who = {.actor_kind = "staff",
                          .actor_id = "0190aaaa-0000-7000-8000-000000000001",
                          .role = "support",
                          .reason = "crash round malfunction reported",
                          .trace_id = "trace-staff-void-crash"};
    pb_store_game_round v;
    memset(&v, 0, sizeof v);
    assert_int_equal(pb_play_round_void(G.p, G.f->conn, G.players[1], bet.id, &who, &v), PB_OK);
    assert_string_equal(v.state, "void");
    assert_string_equal(v.void_reason, PB_PLAY_VOID_STAFF);
    /* void pays nothing: the cash-out's multiplier is not kept on the row (the
     * history and the staff views would show a payout that did not happen) */
    assert_false(v.has_multiplier);
    assert_false(v.has_payout);
    pb_store_game_round_clear(&v);
    {
        pb_store_game_round sv = gp_stored(bet.id);
        assert_false(sv.has_multiplier);
        assert_false(sv.has_payout);
        pb_store_game_round_clear(&sv);
    }
    assert_int_equal(gp_cash(1), FUND);

    /* the player's cash-out now: refused as on any closed round, nothing moves */
    int64_t transfers = gp_transfers();
    pb_err e = pb_play_crash_cashout(G.p, G.f->conn, &G.who[1], bet.id, &x, &err);
    if (e != PB_ERR_ROUND_CLOSED)
        fail_msg("a cash-out of a void bet: %s (state %s), wanted ROUND_CLOSED", pb_err_code(e),
                 x.state);
    pb_store_game_round_clear(&x);
    memset(&x, 0, sizeof x);
    assert_int_equal(gp_cash(1), FUND);
    assert_int_equal(gp_transfers(), transfers);
    pb_store_game_round s = gp_stored(bet.id);
    assert_string_equal(s.state, "void");
    pb_store_game_round_clear(&s);

    /* the round crashes (point reached 19 s in): the void bet is not settled, pays nothing */
    high_round_run(&cr, 19000000);
    scheduler_on();
    crashed_wait(cr.id);
    assert_int_equal(pb_play_crash_cashout(G.p, G.f->conn, &G.who[1], bet.id, &x, &err),
                     PB_ERR_ROUND_CLOSED);
    pb_store_game_round_clear(&x);
    s = gp_stored(bet.id);
    assert_string_equal(s.state, "void");
    pb_store_game_round_clear(&s);
    assert_int_equal(gp_cash(1), FUND);
    assert_int_equal(gp_transfers(), transfers);
    pb_store_game_round_clear(&bet);
}

/* A cash-out asked once the round's point was reached but before the scheduler
 * wrote the crash: a bet whose auto target was reached on the way is cashed out
 * at it (the crash pays it), so the answer is the bet with that multiplier (200,
 * as a cash-out when the auto target came first), not ROUND_CLOSED; a bet with
 * no auto target (lost) is ROUND_CLOSED. The request moves no money; the crash
 * pays the auto target once, and asking again answers the same bet. */
static void crash_cashout_after_auto_reached(void **state)
{
    (void)state;
    gp_fund(1, FUND);
    pb_store_crash_round cr = high_round();
    pb_store_game_round aut = crash_bet(1, 1000, 200, "auto-reached", PB_OK);
    pb_store_game_round lost = crash_bet(1, 700, 0, "auto-none", PB_OK);
    high_round_run(&cr, 19000000); /* m(19 s) ≈ 1.78e8x ≥ the point: crashed, not yet written */
    assert_true(pb_play_crash_multiplier_at(G.p, 19000) >= HIGH_POINT);
    int64_t transfers = gp_transfers();
    pb_store_game_round x;
    memset(&x, 0, sizeof x);
    pb_play_error err;
    pb_err e = pb_play_crash_cashout(G.p, G.f->conn, &G.who[1], aut.id, &x, &err);
    if (e != PB_OK)
        fail_msg("a cash-out after the auto target was reached: %s, wanted the bet at 2.00x",
                 pb_err_code(e));
    assert_string_equal(x.id, aut.id);
    assert_string_equal(x.state, "active");
    assert_true(x.has_multiplier);
    assert_int_equal(x.multiplier, 2 * PB_MULT_ONE);
    pb_store_game_round_clear(&x);
    memset(&x, 0, sizeof x);
    assert_int_equal(pb_play_crash_cashout(G.p, G.f->conn, &G.who[1], lost.id, &x, &err),
                     PB_ERR_ROUND_CLOSED);
    pb_store_game_round_clear(&x);
    memset(&x, 0, sizeof x);
    assert_int_equal(gp_cash(1), FUND - 1700);
    assert_int_equal(gp_transfers(), transfers);

    /* the crash pays the auto target, once; asked again, the same bet */
    scheduler_on();
    crashed_wait(cr.id);
    pb_store_game_round au = settled_wait(aut.id), l = settled_wait(lost.id);
    assert_int_equal(au.multiplier, 2 * PB_MULT_ONE);
    assert_int_equal(au.payout, 2000);
    assert_int_equal(l.payout, 0);
    assert_int_equal(gp_cash(1), FUND - 1700 + 2000);
    transfers = gp_transfers();
    assert_int_equal(pb_play_crash_cashout(G.p, G.f->conn, &G.who[1], aut.id, &x, &err), PB_OK);
    assert_string_equal(x.state, "settled");
    assert_int_equal(x.multiplier, 2 * PB_MULT_ONE);
    assert_int_equal(x.payout, 2000);
    pb_store_game_round_clear(&x);
    assert_int_equal(gp_cash(1), FUND - 1700 + 2000);
    assert_int_equal(gp_transfers(), transfers);
    pb_store_game_round *all[] = {&aut, &lost, &au, &l};
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
        cmocka_unit_test_setup_teardown(crash_cashout_after_staff_void, setup_crash_manual,
                                        gp_teardown),
        cmocka_unit_test_setup_teardown(crash_cashout_after_auto_reached, setup_crash_manual,
                                        gp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
