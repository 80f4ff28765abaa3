/*
 * test_games_play_void.c — the in-house games' money side when a transient
 * failure stops a crash bet half-way, while the server runs (play_fixture.h,
 * crash_helpers.h): a win not recorded or a settlement not marked is retried by
 * the sweeper and paid once; a bet whose acceptance comes only after its round
 * started or crashed is void (retried, recovered at start-up, its mark
 * retried): its stake given back exactly once, its wallet round closed, the void
 * audited once. (Moved from test_games_play_recovery.c, the same cases.) Every
 * test ends with the ledger's verify finding nothing (the teardown).
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
#include "../capture.h"

/* ---- bets a transient failure left unfinished, retried while running ---- */

/* The retry period of these tests' sweeper (every "nothing happens" period
 * below is ≥ 10 of them); while passes fail they back off up to
 * RETRY_MAX_MS (60 s in production: a test would wait that long after
 * removing its failure). */
#define RETRY_MS 50
#define RETRY_MAX_MS 200

/* The crash scheduler of these tests: betting CRASH_BETTING_MS, retry passes
 * every RETRY_MS, the multiplier growing by growth per ms. */
static pb_play_config crash_cfg(double growth)
{
    return (pb_play_config){.crash = true,
                            .sweep = true,
                            .crash_betting_ms = CRASH_BETTING_MS,
                            .crash_pause_ms = CRASH_PAUSE_MS,
                            .crash_growth = growth,
                            .crash_chain_length = 200,
                            .retry_ms = RETRY_MS,
                            .retry_max_ms = RETRY_MAX_MS};
}

/* Waits (≤ 30 s) until a retry pass has failed and left rounds waiting;
 * returns the stats then. */
static pb_play_stats retry_failed_wait(void)
{
    pb_play_stats st;
    for (int i = 0; i < 3000; i++) {
        pb_play_stats_get(G.p, &st);
        if (st.retry_failures > 0 && st.rounds_waiting > 0)
            return st;
        sleep_ms(10);
    }
    fail_msg("no retry pass failed");
    return st;
}

/* The server with that scheduler running, crash on. */
static int setup_crash(void **state, double growth)
{
    pb_play_config cfg = crash_cfg(growth);
    gp_setup_cfg(state, &cfg);
    gp_game_on("crash", true);
    return 0;
}

/* Growth 0.01/ms. */
static int setup_crash_retry(void **state) { return setup_crash(state, 0.01); }

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

/* Player 0's crash bet of 1000, auto cash-out 1.01x, under key; *b receives it
 * as stored (whatever the answer). Returns the answer. */
static pb_err bet_stored(const char *key, pb_store_game_round *b)
{
    memset(b, 0, sizeof *b);
    bool replayed = false;
    pb_play_error err;
    pb_err e = pb_play_crash_bet(G.p, G.f->conn, &G.who[0], 1000, 101, key, NULL, b, &replayed,
                                 &err);
    pb_store_game_round_clear(b);
    assert_int_equal(pb_store_game_round_by_key(G.f->conn, G.players[0], key, b), PB_STORE_OK);
    return e;
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
    pb_err e = bet_stored(key, &b);
    /* the decision refused: the player was answered 503 / 500, the stake taken */
    assert_true(e == PB_OK || strcmp(want_state, "pending") == 0);
    assert_string_equal(b.crash_round, cr.id);
    crashed_wait(cr.id);
    crash_wait(other_crashed, cr.id);       /* the next round has come and gone too */
    pb_play_stats st = retry_failed_wait(); /* retry passes failed meanwhile */
    pb_store_game_round r = gp_stored(b.id);
    assert_string_equal(r.state, want_state);
    assert_int_equal(gp_cash(0), before + cash);
    pb_store_game_round_clear(&r);
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
    /* nothing more moves afterwards: a round comes and goes, then 10 periods */
    int64_t n = gp_transfers();
    crash_wait(other_crashed, cr.id);
    sleep_ms(10 * RETRY_MS);
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

/* A round taking bets for ≥ CRASH_BET_MARGIN_MS more whose point is at least
 * *ctx hundredths. */
static bool betting_from(const pb_store_crash_round *r, void *ctx)
{
    if (!betting_for_a_while(r))
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

/* Funds player 0 (600 cash, 1000 bonus) and player 1 (FUND), then places the
 * two bets of a void test in a round taking bets whose point is at least
 * min_point: player 1's (700, no auto cash-out) accepted, in play; then,
 * with every decision refused, player 0's (1000, auto cash-out 1.01x, below the
 * point: it would win if it played), staked 600 cash + 400 bonus (cash first),
 * answered an error and left pending. Returns the crash round; *in_play and
 * *late receive the bets. */
static pb_store_crash_round void_bets(int64_t min_point, const char *key,
                                      pb_store_game_round *in_play, pb_store_game_round *late)
{
    gp_fund(0, 600);
    fund_bonus(0, 1000);
    gp_fund(1, FUND);
    pb_store_crash_round cr = crash_wait(betting_from, &min_point);
    char k1[64];
    snprintf(k1, sizeof k1, "%s-in-play", key);
    *in_play = crash_bet(1, 700, 0, k1, PB_OK);
    assert_string_equal(in_play->crash_round, cr.id);
    sql(NO_DECISION);
    /* the decision refused: the player got an error */
    assert_int_not_equal(bet_stored(key, late), PB_OK);
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
                        const pb_store_game_round *in_play)
{
    int64_t cash1 = FUND; /* player 1's before the bet in play (void_bets) */
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
    sleep_ms(10 * RETRY_MS); /* retry passes */
    assert_int_equal(gp_transfers(), n);
    balances(0, &cash, &bonus);
    assert_int_equal(cash, 600);
    assert_int_equal(bonus, 1000);
    assert_int_equal(round_ops(late->id, "close"), 1);
    assert_void_audited(late, reason, 600, 400);
}

/* Waits for the late bet to be void (the failure gone), then assert_void;
 * both bets cleared. */
static void void_end(pb_store_game_round *late, const char *reason, pb_store_game_round *in_play)
{
    pb_store_game_round r = void_wait(late->id);
    pb_store_game_round_clear(&r);
    assert_void(late, reason, in_play);
    pb_store_game_round_clear(in_play);
    pb_store_game_round_clear(late);
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
    pb_store_game_round in_play, late;
    pb_store_crash_round cr = void_bets(102, "void-retry", &in_play, &late);
    crashed_wait(cr.id);
    crash_wait(other_crashed, cr.id);
    pb_play_stats st = retry_failed_wait(); /* retry passes fail meanwhile */
    pb_store_game_round r = gp_stored(late.id);
    assert_string_equal(r.state, "pending");
    pb_store_game_round_clear(&r);
    assert_true(st.retry_failures > 0);

    sql("DROP TRIGGER inject"); /* no restart */
    void_end(&late, PB_PLAY_VOID_CRASHED, &in_play);
}

/* Through the start-up recovery: the server stops while the bet is pending and
 * its round runs or has crashed; it starts again with the failure gone, without
 * the scheduler first (the round stays where it stopped): recovery voids the bet
 * (crash_round_started while the round runs, crash_round_crashed once crashed).
 * Then the scheduler goes on and the bet in play loses with its round. */
static void crash_bet_void_recovered(void **state)
{
    (void)state;
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
    pb_play_config cfg = crash_cfg(0.002);
    gp_play_open(&cfg);
    crashed_wait(cr.id);
    assert_void(&late, reason, &in_play);
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
     * duplicates); the passes back off, RETRY_MAX_MS apart at most */
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
    void_end(&late, PB_PLAY_VOID_CRASHED, &in_play);
}

/* The void tests' scheduler: growth 0.002/ms. */
static int setup_crash_void(void **state) { return setup_crash(state, 0.002); }

/* ---- a round stuck settling: its win refused for good ---- */

static int setup_sweep_fast(void **state)
{
    pb_play_config cfg = {.sweep = true, .retry_ms = RETRY_MS, .retry_max_ms = RETRY_MAX_MS};
    return gp_setup_cfg(state, &cfg);
}

/* Writes the wallet round row of in-house round id (as its bet's wallet op
 * names it) with has_win and closed, as the wallet would have left it. */
static void wallet_round_row(const char *id, int has_win, int closed)
{
    char q[512];
    snprintf(q, sizeof q,
             "INSERT INTO wallet_round (provider, round_id, player, game, has_win, closed, "
             "created_at, updated_at) SELECT provider, round_id, player, '', %d, %d, created_at, "
             "created_at FROM wallet_op WHERE provider='pitboss' AND tx_id='%s:bet'",
             has_win, closed, id);
    sql(q);
}

/* Support staff void player 0's round id for reason: the call succeeds; the
 * round as it answered. */
static pb_store_game_round staff_void(const char *id, const char *reason)
{
    pb_audit_entry who = {.actor_kind = "staff",
                          .actor_id = "0190aaaa-0000-7000-8000-000000000001",
                          .role = "support",
                          .reason = reason};
    pb_store_game_round v;
    memset(&v, 0, sizeof v);
    assert_int_equal(pb_play_round_void(G.p, G.f->conn, G.players[0], id, &who, &v), PB_OK);
    return v;
}

static size_t occurrences(const char *text, const char *word)
{
    size_t n = 0;
    for (const char *at = text; (at = strstr(at, word)) != NULL; at += strlen(word))
        n++;
    return n;
}

/* Waits (≤ 10 s: a loaded machine may hold the scheduler's pass back longer than
 * any fixed time) until a pass has found a round stuck. */
static void wait_stuck(void)
{
    pb_play_stats st;
    for (int i = 0; i < 1000; i++) {
        pb_play_stats_get(G.p, &st);
        if (st.rounds_stuck > 0)
            return;
        sleep_ms(10);
    }
}

/* Over ~15 retry periods (RETRY_MS) round id stays in state, stuck: the wallet's
 * refusal logged once as event (naming code), games.round_stuck logged once,
 * the gauge rounds_stuck 1, no pass failing or waiting. Ends the capture;
 * returns what it caught. */
static const char *assert_stuck(capture *cap, const char *id, const char *state, const char *event,
                                const char *code)
{
    wait_stuck();
    sleep_ms(15 * RETRY_MS); /* then ~15 periods: nothing more is logged */
    pb_play_stats st;
    pb_play_stats_get(G.p, &st);
    const char *logged = capture_end(cap);
    assert_int_equal(occurrences(logged, event), 1);
    assert_int_equal(occurrences(logged, "\"games.round_stuck\""), 1);
    assert_non_null(strstr(logged, code));
    assert_int_equal(st.rounds_stuck, 1);
    assert_int_equal(st.retry_failures, 0);
    assert_int_equal(st.rounds_waiting, 0);
    pb_store_game_round s = gp_stored(id);
    assert_string_equal(s.state, state);
    pb_store_game_round_clear(&s);
    return logged;
}

/* A settling round whose win the wallet refused for good (its wallet round
 * closed under it: the row such a close leaves written into the database) is
 * not retried by the sweeper on every pass: over ~15 retry periods its win
 * is tried once (games.win_refused once: the refusal is stored and final), the
 * round is logged games.round_stuck once at error level, no pass counts it as a
 * failure (no backoff for the other rounds), and the gauge rounds_stuck is 1;
 * the staff void ends it (stake back) and the gauge goes back to 0. Before, every
 * pass tried the win again, logged the refusal again and backed off. */
static void stuck_settling_not_retried(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    capture cap;
    capture_begin(&cap);
    pb_store_game_round r = gp_record_pending(0, "{\"target\": 2, \"direction\": \"over\"}", 1000,
                                              "stuck");
    gp_stake(&r);
    assert_int_equal(pb_ledger_command(G.f->ledger, gp_decide_cmd, &r), PB_OK);
    assert_string_equal(r.state, "settling");
    wallet_round_row(r.id, 0, 1);
    char win[PB_ID_STR_LEN + 8];
    snprintf(win, sizeof win, "%s:win", r.id);
    for (int i = 0; i < 500 && wallet_ops(win) == 0; i++) /* the sweeper's first try */
        sleep_ms(10);
    assert_int_equal(wallet_ops(win), 1);
    assert_stuck(&cap, r.id, "settling", "\"games.win_refused\"", "ROUND_CLOSED");

    int64_t cash = gp_cash(0);
    pb_store_game_round v = staff_void(r.id, "win refused: round closed");
    assert_string_equal(v.state, "void");
    assert_int_equal(gp_cash(0), cash + 1000);
    pb_play_stats st;
    for (int i = 0; i < 300; i++) {
        pb_play_stats_get(G.p, &st);
        if (st.rounds_stuck == 0)
            break;
        sleep_ms(10);
    }
    assert_int_equal(st.rounds_stuck, 0);
    pb_store_game_round_clear(&v);
    pb_store_game_round_clear(&r);
}

/* A voiding round whose stake's rollback the wallet refused for good is not
 * retried by the sweeper on every pass either. The wallet refuses the rollback
 * "<round>:void" of an in-house bet for good (stores the refusal) only when its
 * wallet round had a win (ROUND_HAS_WIN; TRANSACTION_ROLLED_BACK counts as the
 * stake back already, and a close "<round>:close" stores no refusal): a win sent
 * as provider "pitboss" through the native protocol before such calls were
 * refused (a database from then), as no path writes one now. So the database
 * is given the row such a win leaves (its wallet round with has_win, no money
 * moved). Staff void the mines game in play: the rollback is refused
 * ROUND_HAS_WIN (games.void_refused, the staff's own try), the round stays
 * voiding, and over ~15 retry periods no pass tries it again (no second
 * games.void_refused, no failure, no backoff for the other rounds): it is logged
 * games.round_stuck once and counted in the gauge rounds_stuck. Before, every
 * pass tried it again, logged the refusal again and counted a failure. */
static void stuck_voiding_not_retried(void **state)
{
    (void)state;
    gp_fund(0, FUND);
    pb_store_game_round m = gp_mines_start(0, 3, 1000);
    wallet_round_row(m.id, 1, 0);
    int64_t cash = gp_cash(0);
    capture cap;
    capture_begin(&cap);
    pb_store_game_round v = staff_void(m.id, "left open");
    assert_string_equal(v.state, "voiding");
    pb_store_game_round_clear(&v);
    const char *logged = assert_stuck(&cap, m.id, "voiding", "\"games.void_refused\"",
                                      "ROUND_HAS_WIN");
    assert_non_null(strstr(logged, "stuck voiding"));
    assert_int_equal(round_ops(m.id, "void"), 1); /* the refusal, stored once */
    assert_int_equal(round_ops(m.id, "close"), 0);
    assert_int_equal(gp_cash(0), cash); /* nothing given back */
    pb_store_game_round_clear(&m);
}

/* A voiding round whose stake back "<round>:void" (or wallet round close
 * "<round>:close") has its transaction id taken by another request: the wallet
 * answers IDEMPOTENCY_CONFLICT, which it does not store, but no retry can get
 * another answer (the id stays taken). The database is given such a row: a
 * copy of the round's bet under that id. Staff void the mines game in play: the
 * staff's own try is refused (games.void_refused, or games.void_close_refused
 * after the stake came back), and over ~15 retry periods no pass tries it
 * again (no second refusal logged, no failure, no backoff): it is logged
 * games.round_stuck once and counted in the gauge rounds_stuck, as the stored
 * refusals are. Before, every pass tried it again, logged the refusal again and
 * counted a failure. */
static void stuck_conflict(const char *suffix, const char *event, int64_t back)
{
    gp_fund(0, FUND);
    pb_store_game_round m = gp_mines_start(0, 3, 1000);
    char q[1024];
    snprintf(q, sizeof q,
             "INSERT INTO wallet_op (provider, tx_id, kind, request_hash, brand, player, "
             "currency, round_id, bet_tx_id, game, amount, result, cash_part, bonus_part, "
             "cash_after, bonus_after, held_after, bet_unknown, transfer_id, response_status, "
             "response, created_at) SELECT provider, '%s:%s', kind, request_hash, brand, player, "
             "currency, round_id, bet_tx_id, game, amount, result, cash_part, bonus_part, "
             "cash_after, bonus_after, held_after, bet_unknown, NULL, response_status, response, "
             "created_at FROM wallet_op WHERE provider='pitboss' AND tx_id='%s:bet'",
             m.id, suffix, m.id);
    sql(q);
    int64_t cash = gp_cash(0);
    capture cap;
    capture_begin(&cap);
    pb_audit_entry who = {.actor_kind = "staff",
                          .actor_id = "0190aaaa-0000-7000-8000-000000000001",
                          .role = "support",
                          .reason = "left open"};
    pb_store_game_round v;
    memset(&v, 0, sizeof v);
    assert_int_equal(pb_play_round_void(G.p, G.f->conn, G.players[0], m.id, &who, &v), PB_OK);
    assert_string_equal(v.state, "voiding");
    pb_store_game_round_clear(&v);
    wait_stuck();
    sleep_ms(15 * RETRY_MS); /* then ~15 periods: nothing more is logged */
    pb_play_stats st;
    pb_play_stats_get(G.p, &st);
    const char *logged = capture_end(&cap);
    char ev[64];
    snprintf(ev, sizeof ev, "\"%s\"", event);
    assert_int_equal(occurrences(logged, ev), 1);
    assert_int_equal(occurrences(logged, "\"games.round_stuck\""), 1);
    assert_non_null(strstr(logged, "IDEMPOTENCY_CONFLICT"));
    assert_non_null(strstr(logged, "stuck voiding"));
    assert_int_equal(st.rounds_stuck, 1);
    assert_int_equal(st.retry_failures, 0);
    assert_int_equal(st.rounds_waiting, 0);
    pb_store_game_round s = gp_stored(m.id);
    assert_string_equal(s.state, "voiding");
    pb_store_game_round_clear(&s);
    assert_int_equal(round_ops(m.id, suffix), 1); /* the other request's row only */
    assert_int_equal(gp_cash(0), cash + back);
    pb_store_game_round_clear(&m);
}

static void stuck_void_conflict_not_retried(void **state)
{
    (void)state;
    stuck_conflict("void", "games.void_refused", 0); /* nothing given back */
}

static void stuck_close_conflict_not_retried(void **state)
{
    (void)state;
    stuck_conflict("close", "games.void_close_refused", 1000); /* the stake came back */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(crash_bets_retried_while_running, setup_crash_retry,
                                        gp_teardown),
        cmocka_unit_test_setup_teardown(crash_bet_void_retried, setup_crash_void, gp_teardown),
        cmocka_unit_test_setup_teardown(crash_bet_void_recovered, setup_crash_void, gp_teardown),
        cmocka_unit_test_setup_teardown(crash_bet_void_mark_retried, setup_crash_void, gp_teardown),
        cmocka_unit_test_setup_teardown(stuck_settling_not_retried, setup_sweep_fast, gp_teardown),
        cmocka_unit_test_setup_teardown(stuck_voiding_not_retried, setup_sweep_fast, gp_teardown),
        cmocka_unit_test_setup_teardown(stuck_void_conflict_not_retried, setup_sweep_fast,
                                        gp_teardown),
        cmocka_unit_test_setup_teardown(stuck_close_conflict_not_retried, setup_sweep_fast,
                                        gp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
