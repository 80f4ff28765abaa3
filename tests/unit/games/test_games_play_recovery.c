/*
 * test_games_play_recovery.c — the in-house games' money side after a crash and
 * in the crash game (play_fixture.h): rounds left "pending" (nothing staked, or
 * staked) or "settling" are driven to their end by pb_play_open (and by the
 * player's retry) with money moved once; the crash game with a fast scheduler
 * (auto cash-out below the point paid bet × target, above lost, a manual
 * cash-out, every bet settled once; a stop with a round open finished and
 * settled at the next start). A crash is simulated by running the money
 * side's own steps (play_internal.h) up to where it would have stopped.
 * Every test ends with the ledger's verify finding nothing (the teardown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "play_fixture.h"
#include "core/time.h"
#include "games/play_internal.h"

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
    gp_play_open(NULL);
}

#define SURE "{\"target\": 2, \"direction\": \"over\"}" /* 98% */

static void recovery(void **state)
{
    (void)state;
    gp_fund(0, FUND);
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
    assert_int_equal(gp_cash(0), FUND - 5000);
    assert_int_equal(gp_next_nonce(0), 1); /* c took nonce 0 */

    reopen();

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
    reopen();
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
    pb_store_game_round b = record_pending(0, SURE, 2000, "retry-b");
    stake(&b);
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
    pb_play_config cfg = {.crash = true, .crash_betting_ms = 600, .crash_pause_ms = 50,
                          .crash_growth = 0.01, .crash_chain_length = 200};
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
        pb_store_game_round r = gp_stored(id);
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
    gp_fund(0, FUND);
    gp_fund(1, FUND);
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
    assert_int_equal(gp_cash(0), FUND - 1700);
    pb_store_game_round w = gp_stored(win.id);
    assert_string_equal(w.state, "active");
    pb_store_game_round_clear(&w);
    sleep_ms(200);
    pb_play_config cfg = {.crash = true, .crash_betting_ms = 600, .crash_pause_ms = 50,
                          .crash_growth = 0.01, .crash_chain_length = 200};
    gp_play_open(&cfg);
    w = settled_wait(win.id);
    pb_store_game_round n = settled_wait(none.id);
    assert_int_equal(w.payout, 1010);
    assert_int_equal(n.payout, 0);
    assert_string_equal(w.crash_round, cr.id);
    assert_int_equal(gp_cash(0), FUND - 1700 + 1010);
    crash_wait(other_crashed, cr.id);
    assert_int_equal(gp_cash(0), FUND - 1700 + 1010);
    pb_store_game_round *all[] = {&win, &none, &w, &n};
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
