/*
 * test_backoffice_money.c — the back office's ledger walks (store_backoffice.h)
 * on a real SQLite database and a running ledger: time → seq by binary search
 * (bounds, equal times, an empty ledger); the walk over every transfer newest
 * first with only the player sides (both sides of a transfer between two
 * player accounts, the credit side first), its seq bounds, currency filter
 * and stop; the walk along chosen accounts' chains giving exactly the same
 * rows as the full walk restricted to them, a transfer between two of them
 * once, and the below bound; a game transfer's game from its player's round
 * (two players on one round id: each transfer once, with its own round's
 * game); and the query plan of every statement the back
 * office's reads prepared: no full scan of a table (EXPLAIN QUERY PLAN).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ledger/fixture.h"
#include "store/sqlite/sqlite_internal.h" /* the connection's handle: for the query plans */
#include "../plans.h"
#include "store/store.h"

#define SEC 1000000LL

typedef struct row {
    int64_t seq;
    bool credit;
    char owner[PB_BO_OWNER_MAX + 1];
    char other[PB_BO_OWNER_MAX + 1];
    char currency[8];
    int64_t amount;
    char game[PB_BO_GAME_MAX + 1];
} row;

typedef struct rows {
    row r[256];
    size_t n;
    size_t stop_after; /* 0: never */
} rows;

static int collect(void *ctx, const pb_store_bo_tx *sides, size_t n)
{
    rows *out = ctx;
    for (size_t i = 0; i < n && out->n < 256; i++) {
        row *x = &out->r[out->n++];
        x->seq = sides[i].seq;
        x->credit = sides[i].credit;
        snprintf(x->owner, sizeof x->owner, "%s", sides[i].owner);
        snprintf(x->other, sizeof x->other, "%s", sides[i].other_owner);
        snprintf(x->currency, sizeof x->currency, "%s", sides[i].currency);
        x->amount = sides[i].amount;
        snprintf(x->game, sizeof x->game, "%s", sides[i].game);
    }
    return out->stop_after && out->n >= out->stop_after;
}

typedef struct world {
    int64_t house, house_usd, cash_a, bonus_a, cash_b, cash_a_usd, provider;
    int64_t t0;
} world;

static void submit(fx *f, const char *key, int64_t debit, int64_t credit, int64_t amount,
                   const char *currency)
{
    pb_transfer t = fx_transfer(key, debit, credit, amount, PB_CODE_ADJUSTMENT);
    snprintf(t.currency, sizeof t.currency, "%s", currency);
    assert_int_equal(fx_submit1(f, &t), PB_OK);
}

/* Nine transfers, one second apart (seq 1..9):
 *   1 house→A cash 100   2 house→B cash 50    3 A cash→provider 10 (a bet)
 *   4 provider→house 1   (no player side)     5 A cash→A bonus 5 (both sides)
 *   6 house$→A cash$ 7   7 provider→A cash 3  8 B cash→provider 2
 *   9 A bonus→provider 1 */
static void build(fx *f, world *w)
{
    w->house = fx_account(f, "brand", "house", 0);
    w->house_usd = fx_account_cur(f, "brand", "house", 0, "USD");
    w->provider = fx_account(f, "provider:p", "provider", 0);
    w->cash_a = fx_account(f, "player:a", "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    w->bonus_a = fx_account(f, "player:a", "player_bonus",
                            PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    w->cash_a_usd = fx_account_cur(f, "player:a", "player_cash",
                                   PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS, "USD");
    w->cash_b = fx_account(f, "player:b", "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    w->t0 = f->clock_us;
    struct {
        int64_t d, c, amount;
        const char *cur;
    } plan[] = {{w->house, w->cash_a, 100, "EUR"},   {w->house, w->cash_b, 50, "EUR"},
                {w->cash_a, w->provider, 10, "EUR"}, {w->provider, w->house, 1, "EUR"},
                {w->cash_a, w->bonus_a, 5, "EUR"},   {w->house_usd, w->cash_a_usd, 7, "USD"},
                {w->provider, w->cash_a, 3, "EUR"},  {w->cash_b, w->provider, 2, "EUR"},
                {w->bonus_a, w->provider, 1, "EUR"}};
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        char key[16];
        snprintf(key, sizeof key, "t%zu", i + 1);
        f->clock_us = w->t0 + (int64_t)i * SEC;
        submit(f, key, plan[i].d, plan[i].c, plan[i].amount, plan[i].cur);
    }
}

static void test_seq_at(void **state)
{
    fx *f = *state;
    int64_t seq = -1;
    assert_int_equal(pb_store_bo_seq_at(f->conn, 0, &seq), PB_STORE_OK);
    assert_int_equal(seq, 1); /* an empty ledger: newest + 1 */
    world w;
    build(f, &w);
    for (int i = 0; i < 9; i++) {
        assert_int_equal(pb_store_bo_seq_at(f->conn, w.t0 + i * SEC, &seq), PB_STORE_OK);
        assert_int_equal(seq, i + 1);
        assert_int_equal(pb_store_bo_seq_at(f->conn, w.t0 + i * SEC - 1, &seq), PB_STORE_OK);
        assert_int_equal(seq, i + 1); /* between two: the later one */
    }
    assert_int_equal(pb_store_bo_seq_at(f->conn, 0, &seq), PB_STORE_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(pb_store_bo_seq_at(f->conn, w.t0 + 8 * SEC + 1, &seq), PB_STORE_OK);
    assert_int_equal(seq, 10);
    assert_int_equal(pb_store_bo_seq_at(f->conn, INT64_MAX, &seq), PB_STORE_OK);
    assert_int_equal(seq, 10);
    assert_int_equal(fx_verify(f), 0);
}

static void test_walk(void **state)
{
    fx *f = *state;
    world w;
    build(f, &w);
    rows all = {0};
    pb_store_bo_walk q = {0};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &all), PB_STORE_OK);
    /* seq 4 has no player side; seq 5 has two, the credit side first */
    int64_t want_seq[] = {9, 8, 7, 6, 5, 5, 3, 2, 1};
    bool want_credit[] = {false, false, true, true, true, false, false, true, true};
    assert_int_equal(all.n, 9);
    for (size_t i = 0; i < all.n; i++) {
        assert_int_equal(all.r[i].seq, want_seq[i]);
        assert_int_equal(all.r[i].credit, want_credit[i]);
    }
    assert_string_equal(all.r[4].owner, "player:a");
    assert_string_equal(all.r[4].other, "player:a");
    assert_string_equal(all.r[6].other, "provider:p");
    assert_string_equal(all.r[3].currency, "USD");
    /* bounds: 6 > seq >= 3 */
    rows part = {0};
    q = (pb_store_bo_walk){.below_seq = 6, .from_seq = 3};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &part), PB_STORE_OK);
    assert_int_equal(part.n, 3);
    assert_int_equal(part.r[0].seq, 5);
    assert_int_equal(part.r[2].seq, 3);
    /* currency */
    rows usd = {0};
    q = (pb_store_bo_walk){.currency = "USD"};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &usd), PB_STORE_OK);
    assert_int_equal(usd.n, 1);
    assert_int_equal(usd.r[0].amount, 7);
    /* the callback stops it */
    rows two = {.stop_after = 2};
    q = (pb_store_bo_walk){0};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &two), PB_STORE_OK);
    assert_int_equal(two.n, 2);
    /* the read budget: transfers read, with player sides or not (seq 4 has none) */
    int64_t stopped = -1;
    rows b3 = {0};
    q = (pb_store_bo_walk){.max_read = 3, .stopped_at = &stopped};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &b3), PB_STORE_OK);
    assert_int_equal(b3.n, 3); /* 9, 8, 7 */
    assert_int_equal(stopped, 7);
    rows b6 = {0};
    q = (pb_store_bo_walk){.max_read = 6, .stopped_at = &stopped};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &b6), PB_STORE_OK);
    assert_int_equal(b6.n, 6); /* 9, 8, 7, 6, 5 (both sides); 4 read, nothing to show */
    assert_int_equal(b6.r[5].seq, 5);
    assert_int_equal(stopped, 4);
    rows rest = {0}; /* resumed below where it stopped: to the end, within the budget */
    q = (pb_store_bo_walk){.below_seq = stopped, .max_read = 6, .stopped_at = &stopped};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &rest), PB_STORE_OK);
    assert_int_equal(rest.n, 3);
    assert_int_equal(rest.r[0].seq, 3);
    assert_int_equal(stopped, 0); /* not the budget: the window ended */
    rows exact = {0}; /* a budget of exactly the window's nine transfers: it ends the walk */
    q = (pb_store_bo_walk){.max_read = 9, .stopped_at = &stopped};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &exact), PB_STORE_OK);
    assert_int_equal(exact.n, 9);
    assert_int_equal(stopped, 1);
    rows eur = {0}; /* transfers of another currency count against the budget too */
    q = (pb_store_bo_walk){.currency = "USD", .max_read = 3, .stopped_at = &stopped};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &eur), PB_STORE_OK);
    assert_int_equal(eur.n, 0); /* 9, 8, 7 read: EUR; the USD one (seq 6) is below */
    assert_int_equal(stopped, 7);
    q = (pb_store_bo_walk){
        .currency = "USD", .below_seq = 7, .max_read = 3, .stopped_at = &stopped};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &eur), PB_STORE_OK);
    assert_int_equal(eur.n, 1);
    assert_int_equal(eur.r[0].seq, 6);
    assert_int_equal(stopped, 4);
    rows cb_first = {.stop_after = 2}; /* the callback stops before the budget: not the budget */
    q = (pb_store_bo_walk){.max_read = 3, .stopped_at = &stopped};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &cb_first), PB_STORE_OK);
    assert_int_equal(cb_first.n, 2);
    assert_int_equal(stopped, 0);
}

static void test_walk_accounts(void **state)
{
    fx *f = *state;
    world w;
    build(f, &w);
    pb_ledger_account acc[3] = {fx_get(f, w.cash_a), fx_get(f, w.bonus_a), fx_get(f, w.cash_a_usd)};
    int64_t ids[3], starts[3], newest[3];
    for (int i = 0; i < 3; i++) {
        ids[i] = acc[i].id;
        newest[i] = starts[i] = acc[i].last_seq;
    }
    rows mine = {0}, all = {0};
    assert_int_equal(pb_store_bo_tx_walk_accounts(f->conn, ids, starts, 3, 0, 0, collect, &mine),
                     PB_STORE_OK);
    pb_store_bo_walk q = {0};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &all), PB_STORE_OK);
    /* exactly the full walk's rows of player a, in the same order, seq 5 once (two sides) */
    size_t k = 0;
    for (size_t i = 0; i < all.n; i++) {
        if (strcmp(all.r[i].owner, "player:a") != 0)
            continue;
        assert_true(k < mine.n);
        assert_int_equal(mine.r[k].seq, all.r[i].seq);
        assert_int_equal(mine.r[k].credit, all.r[i].credit);
        k++;
    }
    /* mine also holds the sides of its transfers that are b's: none here */
    assert_int_equal(k, mine.n);
    assert_int_equal(mine.n, 7); /* 9, 7, 6, 5 (two), 3, 1 */
    /* below 6: 5, 5, 3, 1 */
    memcpy(starts, newest, sizeof starts);
    rows older = {0};
    assert_int_equal(pb_store_bo_tx_walk_accounts(f->conn, ids, starts, 3, 6, 0, collect, &older),
                     PB_STORE_OK);
    assert_int_equal(older.n, 4);
    assert_int_equal(older.r[0].seq, 5);
    assert_int_equal(older.r[3].seq, 1);
    /* 7 > seq >= 3: 6, 5, 5, 3 — and the walk stops there */
    memcpy(starts, newest, sizeof starts);
    rows window = {0};
    assert_int_equal(pb_store_bo_tx_walk_accounts(f->conn, ids, starts, 3, 7, 3, collect, &window),
                     PB_STORE_OK);
    assert_int_equal(window.n, 4);
    assert_int_equal(window.r[0].seq, 6);
    assert_int_equal(window.r[3].seq, 3);
    /* stopped and resumed from where it stood: the same rows, none twice (the stop
     * transfer's second side is the caller's to skip: here the stop is on seq 6) */
    memcpy(starts, newest, sizeof starts);
    rows first = {.stop_after = 3}, rest = {0};
    assert_int_equal(pb_store_bo_tx_walk_accounts(f->conn, ids, starts, 3, 0, 0, collect, &first),
                     PB_STORE_OK);
    assert_int_equal(first.n, 3); /* 9, 7, 6 */
    assert_int_equal(first.r[2].seq, 6);
    int64_t top = 0;
    for (int i = 0; i < 3; i++)
        top = starts[i] > top ? starts[i] : top;
    assert_int_equal(top, 6); /* the walkers stand at the stop transfer */
    assert_int_equal(pb_store_bo_tx_walk_accounts(f->conn, ids, starts, 3, 6, 0, collect, &rest),
                     PB_STORE_OK);
    assert_int_equal(first.n + rest.n, mine.n);
    for (size_t i = 0; i < rest.n; i++)
        assert_int_equal(rest.r[i].seq, mine.r[first.n + i].seq);
    /* no accounts: nothing */
    rows none = {0};
    assert_int_equal(pb_store_bo_tx_walk_accounts(f->conn, ids, starts, 0, 0, 0, collect, &none),
                     PB_STORE_OK);
    assert_int_equal(none.n, 0);
    assert_int_equal(fx_verify(f), 0);
}

static int nop_play(void *ctx, const pb_store_bo_play *op)
{
    (void)ctx;
    (void)op;
    return 0;
}

/* The back office's reads of money (the statements this file's calls prepared). */
static bool back_office_statement(const char *sql, void *ctx)
{
    (void)ctx;
    static const char *mine[] = {"payment INDEXED BY",
                                 "withdrawal INDEXED BY",
                                 "wallet_op INDEXED BY",
                                 "game_round INDEXED BY",
                                 "FROM ledger_transfer t JOIN",
                                 "SELECT created_at FROM ledger_transfer WHERE seq>=",
                                 "SELECT debit_account_id, credit_account_id"};
    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++)
        if (strstr(sql, mine[i]))
            return true;
    return false;
}

static void no_scan(const char *sql, const char *detail, void *ctx)
{
    (void)ctx;
    if (plan_is_scan(detail, NULL)) {
        print_error("a full scan: %s\n  in %s\n", detail, sql);
        fail();
    }
}

/* Every statement these reads prepared, on the connection's own handle: its plan
 * searches by a key (primary key or an index), never scans a whole table. */
static void test_plans(void **state)
{
    fx *f = *state;
    world w;
    build(f, &w);
    pb_store_bo_sum sums[4];
    size_t n = 0;
    pb_store_bo_rtp rtp[4];
    for (int fig = PB_BO_DEPOSITS_COMPLETED; fig <= PB_BO_WITHDRAWALS_OPEN; fig++)
        assert_int_equal(pb_store_bo_cashier_sums(f->conn, fig, "test", 0, sums, 4, &n),
                         PB_STORE_OK);
    for (int fig = PB_BO_DEPOSITS_COMPLETED; fig <= PB_BO_WITHDRAWALS_PAID; fig++)
        assert_int_equal(pb_store_bo_cashier_buckets(f->conn, fig, "test", 0, 60 * SEC, sums, 4,
                                                     &n),
                         PB_STORE_OK);
    assert_int_equal(pb_store_bo_play_scan(f->conn, "test", 0, nop_play, NULL), PB_STORE_OK);
    assert_int_equal(pb_store_bo_rtp_actual(f->conn, 1, rtp, 4, &n), PB_STORE_OK);
    rows r = {0};
    pb_store_bo_walk q = {.below_seq = 8, .from_seq = 2, .currency = "EUR"};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &r), PB_STORE_OK);
    int64_t id = w.cash_a, start = fx_get(f, w.cash_a).last_seq, seq;
    assert_int_equal(pb_store_bo_tx_walk_accounts(f->conn, &id, &start, 1, 0, 0, collect, &r),
                     PB_STORE_OK);
    assert_int_equal(pb_store_bo_seq_at(f->conn, w.t0 + SEC, &seq), PB_STORE_OK);
    int checked = plans_each(((sq_conn *)f->conn)->db, back_office_statement, no_scan, NULL);
    assert_true(checked >= 11); /* every statement above was looked at */
}

/* Rounds are per player (0025_wallet_round_player.sql): two players' rounds of
 * one id, each with its game. A game transfer joins its player's round only:
 * each transfer is shown once (joined by provider and round id alone, each
 * came twice) and names its own player's game. */
static void test_game_of_a_shared_round(void **state)
{
    fx *f = *state;
    int64_t provider = fx_account(f, "provider:p", "provider", 0);
    int64_t house = fx_account(f, "brand", "house", 0);
    int64_t cash_a = fx_account(f, "player:a", "player_cash",
                                PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    int64_t cash_b = fx_account(f, "player:b", "player_cash",
                                PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    submit(f, "fa", house, cash_a, 100, "EUR");
    submit(f, "fb", house, cash_b, 100, "EUR");
    struct {
        const char *key;
        int64_t d, c, amount;
    } game[] = {{"ba", cash_a, provider, 10},
                {"bb", cash_b, provider, 20},
                {"wa", provider, cash_a, 30},
                {"wb", provider, cash_b, 40}};
    for (size_t i = 0; i < sizeof game / sizeof game[0]; i++) {
        pb_transfer t = fx_transfer(game[i].key, game[i].d, game[i].c, game[i].amount,
                                    PB_CODE_ADJUSTMENT);
        snprintf(t.scope, sizeof t.scope, "game:p");
        snprintf(t.reference, sizeof t.reference, "R");
        assert_int_equal(fx_submit1(f, &t), PB_OK);
    }
    assert_int_equal(
        pb_store_exec_raw(f->conn, "INSERT INTO wallet_round(provider,round_id,player,game,"
                                   "has_win,closed,created_at,updated_at) VALUES"
                                   "('p','R','a','slot-a',1,1,1,1),('p','R','b','slot-b',1,1,1,1)"),
        PB_STORE_OK);
    rows all = {0};
    pb_store_bo_walk q = {0};
    assert_int_equal(pb_store_bo_tx_walk(f->conn, &q, collect, &all), PB_STORE_OK);
    assert_int_equal(all.n, 6); /* two fundings, four game transfers: once each */
    for (size_t i = 0; i < all.n; i++) {
        const char *want = all.r[i].seq <= 2                         ? ""
                           : strcmp(all.r[i].owner, "player:a") == 0 ? "slot-a"
                                                                     : "slot-b";
        assert_string_equal(all.r[i].game, want);
        if (i)
            assert_true(all.r[i].seq < all.r[i - 1].seq);
    }
    assert_int_equal(fx_verify(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seq_at, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_walk, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_walk_accounts, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_game_of_a_shared_round, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_plans, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
