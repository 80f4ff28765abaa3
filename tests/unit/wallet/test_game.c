/*
 * test_game.c — the wallet's game money (src/wallet/game.c) on a real SQLite
 * database and a running ledger: funding split on bet, win and rollback in the
 * bet's proportions; duplicates answered byte for byte; conflicting reuse of a
 * transaction id; rollback before the bet (tombstone); rollback after a win;
 * win on a rolled-back bet; insufficient funds with the balance; round rules;
 * rounds per player (two players on one round id); the player gate; a placed
 * bet kept as its operation row only; a closed (erased) player's win and refund
 * held as unclaimed funds, the bonus share forfeited, audited and announced. Every test ends with `ledger verify` clean.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <sqlite3.h>

#include "../ledger/fixture.h"
#include "core/id.h"
#include "store/store.h"
#include "tenancy/tenancy.h"
#include "wallet/wallet.h"
#include "game_render.h"

typedef struct gx {
    fx *f;
    pb_wallet *w;
    char player[PB_ID_STR_LEN + 1];
    int64_t player_row;
    pb_wallet_accounts acc;
    char player2[PB_ID_STR_LEN + 1]; /* another player of the brand (shared round ids) */
    pb_wallet_accounts acc2;
    int64_t house;
    int renders; /* how many responses were rendered */
} gx;

static gx G;

static void set_policy(const char *settings)
{
    pb_brand b;
    assert_int_equal(pb_tenancy_brand_by_code(G.f->conn, "alpha", &b), PB_OK);
    pb_brand_update u = {.settings = settings};
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_tenancy_brand_update(G.f->conn, b.id, &u, 1, NULL, NULL), PB_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
}

static void set_status(const char *status)
{
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_player_set_status(G.f->conn, G.player_row, status, "test", 2),
                     PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
}

/* Puts money on the player's cash and bonus from the house. */
static void fund(int64_t cash, int64_t bonus)
{
    static int k;
    char key[32];
    if (cash) {
        snprintf(key, sizeof key, "fund-c-%d", k++);
        pb_transfer t = fx_transfer(key, G.house, G.acc.cash, cash, PB_CODE_ADJUSTMENT);
        assert_int_equal(fx_submit1(G.f, &t), PB_OK);
    }
    if (bonus) {
        snprintf(key, sizeof key, "fund-b-%d", k++);
        pb_transfer t = fx_transfer(key, G.house, G.acc.bonus, bonus, PB_CODE_BONUS_GRANT);
        assert_int_equal(fx_submit1(G.f, &t), PB_OK);
    }
}

/* Puts cash on the second player's account from the house. */
static void fund2(int64_t cash)
{
    static int k;
    char key[32];
    snprintf(key, sizeof key, "fund2-c-%d", k++);
    pb_transfer t = fx_transfer(key, G.house, G.acc2.cash, cash, PB_CODE_ADJUSTMENT);
    assert_int_equal(fx_submit1(G.f, &t), PB_OK);
}

static int setup(void **state)
{
    fx_setup(state);
    memset(&G, 0, sizeof G);
    G.f = *state;
    char err[256];
    G.w = pb_wallet_open(G.f->ledger, G.f->store, err, sizeof err);
    assert_non_null(G.w);
    pb_brand_spec spec = {
        .code = "alpha", .name = "Alpha", .default_currency = "EUR", .jurisdiction = "MT"};
    pb_brand b;
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_tenancy_brand_create(G.f->conn, &spec, 1, &b, NULL), PB_OK);
    pb_store_player p, p2;
    fx_player(G.f, b.id, "p@example.com", &p);
    fx_player(G.f, b.id, "q@example.com", &p2);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    snprintf(G.player, sizeof G.player, "%s", p.public_id);
    snprintf(G.player2, sizeof G.player2, "%s", p2.public_id);
    G.player_row = p.id;
    assert_int_equal(pb_wallet_player_accounts(G.w, G.f->conn, "alpha", G.player, "EUR", &G.acc),
                     PB_OK);
    assert_int_equal(pb_wallet_player_accounts(G.w, G.f->conn, "alpha", G.player2, "EUR", &G.acc2),
                     PB_OK);
    assert_int_equal(pb_wallet_system_account(G.w, G.f->conn, "alpha", PB_WALLET_OWNER_HOUSE,
                                              PB_WALLET_KIND_HOUSE, "EUR", &G.house),
                     PB_OK);
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(fx_verify(G.f), 0);
    pb_wallet_close(G.w);
    return fx_teardown(state);
}

/* Builds an operation for the test player. */
static pb_wallet_op op_new(pb_wallet_op_kind kind, const char *tx, const char *round,
                           const char *bet, int64_t amount)
{
    pb_wallet_op op;
    memset(&op, 0, sizeof op);
    op.kind = kind;
    snprintf(op.provider, sizeof op.provider, "studio");
    snprintf(op.tx_id, sizeof op.tx_id, "%s", tx);
    snprintf(op.round_id, sizeof op.round_id, "%s", round);
    snprintf(op.bet_tx_id, sizeof op.bet_tx_id, "%s", bet ? bet : "");
    snprintf(op.game, sizeof op.game, "%s", kind == PB_WALLET_BET ? "starburst" : "");
    snprintf(op.brand, sizeof op.brand, "alpha");
    snprintf(op.player, sizeof op.player, "%s", G.player);
    snprintf(op.currency, sizeof op.currency, "EUR");
    op.amount = amount;
    op.render = game_render;
    op.render_ctx = &G.renders;
    return op;
}

/* Runs an op; returns its result; keeps the response in *keep (may be NULL → released). */
static pb_err run(pb_wallet_op *op) { return pb_wallet_game_submit(G.w, G.f->conn, op); }

/* The same for the second player. */
static pb_wallet_op op2_new(pb_wallet_op_kind kind, const char *tx, const char *round,
                            const char *bet, int64_t amount)
{
    pb_wallet_op op = op_new(kind, tx, round, bet, amount);
    snprintf(op.player, sizeof op.player, "%s", G.player2);
    return op;
}

static pb_wallet_balance bal_of(const char *player)
{
    pb_wallet_balance b;
    assert_int_equal(pb_wallet_balance_get(G.f->conn, "alpha", player, "EUR", &b), PB_OK);
    return b;
}

static pb_wallet_balance bal(void) { return bal_of(G.player); }

static int64_t transfers(void)
{
    pb_ledger_verify_summary s;
    assert_int_equal(pb_ledger_verify(G.f->conn, NULL, NULL, &s), PB_OK);
    return s.transfers;
}

static void test_split_cash_first_and_proportional_win(void **state)
{
    (void)state;
    fund(500, 1000);
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 800);
    assert_int_equal(run(&bet), PB_OK);
    assert_int_equal(bet.outcome.cash_part, 500);
    assert_int_equal(bet.outcome.bonus_part, 300);
    assert_int_equal(bet.outcome.cash, 0);
    assert_int_equal(bet.outcome.bonus, 700);
    assert_int_equal(bet.response.status, 200);
    pb_wallet_op_release(&bet);

    pb_wallet_op win = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 1601);
    win.close_round = true;
    assert_int_equal(run(&win), PB_OK);
    /* bonus share floor(1601 * 300 / 800) = 600, the remainder to cash */
    assert_int_equal(win.outcome.bonus_part, 600);
    assert_int_equal(win.outcome.cash_part, 1001);
    pb_wallet_op_release(&win);
    pb_wallet_balance b = bal();
    assert_int_equal(b.cash, 1001);
    assert_int_equal(b.bonus, 1300);
}

static void test_bonus_first_and_cash_only(void **state)
{
    (void)state;
    fund(1000, 300);
    set_policy("{\"funding_policy\":\"bonus_first\"}");
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 500);
    assert_int_equal(run(&bet), PB_OK);
    assert_int_equal(bet.outcome.bonus_part, 300);
    assert_int_equal(bet.outcome.cash_part, 200);
    pb_wallet_op_release(&bet);
    fund(0, 500); /* cash 800, bonus 500 */
    set_policy("{\"funding_policy\":\"cash_only\"}");
    /* 1.1 s: the wallet reads a brand's policy at most once a second (usleep: under 1 s) */
    sleep(1);
    usleep(100 * 1000);
    pb_wallet_op big = op_new(PB_WALLET_BET, "b2", "r2", NULL, 900);
    assert_int_equal(run(&big), PB_ERR_INSUFFICIENT_FUNDS); /* bonus is never staked */
    assert_int_equal(big.outcome.cash, 800);
    assert_int_equal(big.outcome.bonus, 500);
    pb_wallet_op_release(&big);
    pb_wallet_op fits = op_new(PB_WALLET_BET, "b3", "r3", NULL, 800);
    assert_int_equal(run(&fits), PB_OK);
    assert_int_equal(fits.outcome.bonus_part, 0);
    pb_wallet_op_release(&fits);
}

static void test_duplicate_is_byte_identical_and_conflict_changes_nothing(void **state)
{
    (void)state;
    fund(1000, 0);
    pb_wallet_op a = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    snprintf(a.request_currency, sizeof a.request_currency, "EUR"); /* the player's */
    assert_int_equal(run(&a), PB_OK);
    int64_t n = transfers();
    int renders = G.renders;
    pb_wallet_op dup = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&dup), PB_OK);
    assert_true(dup.duplicate);
    assert_int_equal(G.renders, renders); /* not rendered again: the stored bytes */
    assert_int_equal(dup.response.status, a.response.status);
    assert_int_equal(dup.response.body_len, a.response.body_len);
    assert_memory_equal(dup.response.body, a.response.body, a.response.body_len);
    assert_int_equal(transfers(), n);

    pb_wallet_op other = op_new(PB_WALLET_BET, "b1", "r1", NULL, 101);
    assert_int_equal(run(&other), PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(other.response.status, 0); /* not stored: the adapter renders it */
    assert_int_equal(other.outcome.cash, 900);
    assert_int_equal(transfers(), n);
    assert_int_equal(bal().cash, 900);

    /* the currency the request named is part of it: the same bet, the same minor
     * units, named in USD is a conflict, not the stored answer (it was answered
     * as the duplicate when only the player's currency was hashed); named in the
     * player's currency, or in none (dup above), it is the duplicate */
    pb_wallet_op usd = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    snprintf(usd.request_currency, sizeof usd.request_currency, "USD");
    assert_int_equal(run(&usd), PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_false(usd.duplicate);
    assert_int_equal(usd.response.status, 0);
    pb_wallet_op eur = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    snprintf(eur.request_currency, sizeof eur.request_currency, "EUR");
    assert_int_equal(run(&eur), PB_OK);
    assert_true(eur.duplicate);
    assert_memory_equal(eur.response.body, a.response.body, a.response.body_len);
    assert_int_equal(transfers(), n);
    assert_int_equal(bal().cash, 900);

    /* the stored request hash is SHA-256 of "v1␟kind␟amount␟close" and "␟field" for
     * provider, tx, round, bet tx, game, brand, player, currency: the layout stored
     * rows were hashed with, so a replay after an upgrade still matches (a request
     * in the player's currency adds nothing to it) */
    pb_store_wallet_op row;
    assert_int_equal(pb_store_wallet_op_get(G.f->conn, "studio", "b1", &row), PB_STORE_OK);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    char head[64];
    int hn = snprintf(head, sizeof head, "v1\x1f%d\x1f%d\x1f%d", (int)PB_WALLET_BET, 100, 0);
    crypto_hash_sha256_update(&h, (const unsigned char *)head, (unsigned long long)hn);
    const char *fields[] = {"studio", "b1", "r1", "", "starburst", "alpha", G.player, "EUR"};
    for (size_t i = 0; i < 8; i++) {
        crypto_hash_sha256_update(&h, (const unsigned char *)"\x1f", 1);
        crypto_hash_sha256_update(&h, (const unsigned char *)fields[i], strlen(fields[i]));
    }
    uint8_t want[32];
    crypto_hash_sha256_final(&h, want);
    assert_memory_equal(row.request_hash, want, 32);
    free(row.response);
    pb_wallet_op_release(&a);
    pb_wallet_op_release(&dup);
    pb_wallet_op_release(&other);
    pb_wallet_op_release(&usd);
    pb_wallet_op_release(&eur);
}

static void test_rollback_before_bet_refuses_the_bet(void **state)
{
    (void)state;
    fund(1000, 0);
    pb_wallet_op rb = op_new(PB_WALLET_ROLLBACK, "rb1", "r1", "b1", 0);
    assert_int_equal(run(&rb), PB_OK);
    assert_true(rb.outcome.bet_unknown);
    pb_wallet_op_release(&rb);
    int64_t n = transfers();
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&bet), PB_ERR_TRANSACTION_ROLLED_BACK);
    assert_int_equal(bet.response.status, 409);
    pb_wallet_op again = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&again), PB_ERR_TRANSACTION_ROLLED_BACK);
    assert_true(again.duplicate);
    assert_memory_equal(again.response.body, bet.response.body, bet.response.body_len);
    assert_int_equal(transfers(), n);
    assert_int_equal(bal().cash, 1000);
    pb_wallet_op_release(&bet);
    pb_wallet_op_release(&again);
}

static int64_t count_of(const char *q);

/* A tombstone is its player's: the other player's bet with its id is not its
 * bet — IDEMPOTENCY_CONFLICT, not stored, nothing written — while its own
 * player's bet is still TRANSACTION_ROLLED_BACK. */
static void test_tombstone_is_its_players(void **state)
{
    (void)state;
    fund(1000, 0);
    fund2(1000);
    pb_wallet_op rb = op_new(PB_WALLET_ROLLBACK, "rb1", "r1", "b1", 0);
    assert_int_equal(run(&rb), PB_OK);
    assert_true(rb.outcome.bet_unknown);
    int64_t n = transfers();
    for (int i = 0; i < 2; i++) { /* not stored: its retry decided again the same way */
        pb_wallet_op other = op2_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
        assert_int_equal(run(&other), PB_ERR_IDEMPOTENCY_CONFLICT);
        assert_false(other.duplicate);
        assert_int_equal(other.response.status, 0);
        assert_int_equal(other.outcome.cash, 1000);
        pb_wallet_op_release(&other);
    }
    assert_int_equal(count_of("SELECT count(*) FROM wallet_op WHERE tx_id='b1'"), 0);
    assert_int_equal(count_of("SELECT count(*) FROM wallet_bet WHERE bet_tx_id='b1'"), 1);
    pb_wallet_op own = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&own), PB_ERR_TRANSACTION_ROLLED_BACK);
    assert_int_equal(transfers(), n);
    assert_int_equal(bal().cash, 1000);
    assert_int_equal(bal_of(G.player2).cash, 1000);
    pb_wallet_op_release(&rb);
    pb_wallet_op_release(&own);
}

/* A rollback naming the player's own win (or rollback, or close) is
 * TRANSACTION_NOT_BET: nothing moves, no tombstone, the answer stored. */
static void test_rollback_of_a_win_is_not_a_bet(void **state)
{
    (void)state;
    fund(1000, 0);
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&bet), PB_OK);
    pb_wallet_op win = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 30);
    assert_int_equal(run(&win), PB_OK);
    pb_wallet_op rbo = op_new(PB_WALLET_ROLLBACK, "rb0", "r9", "b9", 0); /* a rollback */
    assert_int_equal(run(&rbo), PB_OK);
    int64_t n = transfers();
    const char *named[] = {"w1", "rb0"};
    for (size_t i = 0; i < 2; i++) {
        char tx[8];
        snprintf(tx, sizeof tx, "rb%zu", i + 1);
        pb_wallet_op rb = op_new(PB_WALLET_ROLLBACK, tx, "r1", named[i], 0);
        assert_int_equal(run(&rb), PB_ERR_TRANSACTION_NOT_BET);
        assert_int_equal(rb.response.status, 422); /* stored */
        pb_wallet_op again = op_new(PB_WALLET_ROLLBACK, tx, "r1", named[i], 0);
        assert_int_equal(run(&again), PB_ERR_TRANSACTION_NOT_BET);
        assert_true(again.duplicate);
        pb_wallet_op_release(&rb);
        pb_wallet_op_release(&again);
    }
    assert_int_equal(count_of("SELECT count(*) FROM wallet_bet WHERE bet_tx_id IN ('w1','rb0')"),
                     0);
    assert_int_equal(transfers(), n);
    assert_int_equal(bal().cash, 930);
    pb_wallet_op_release(&bet);
    pb_wallet_op_release(&win);
    pb_wallet_op_release(&rbo);
}

/* A win naming the player's own win, rollback or close (no placed bet of that
 * id) is TRANSACTION_NOT_BET, stored: that id can never become their bet, so
 * the provider's retry gets the stored answer and stops. Another player's
 * operation is ROUND_MISMATCH, an id never seen BET_NOT_FOUND (neither stored).
 * Nothing moves. */
static void test_win_naming_a_non_bet_is_not_a_bet(void **state)
{
    (void)state;
    fund(1000, 0);
    fund2(1000);
    pb_wallet_op ops[] = {
        op_new(PB_WALLET_BET, "b1", "r1", NULL, 100),
        op_new(PB_WALLET_WIN, "w1", "r1", "b1", 30),
        op_new(PB_WALLET_ROLLBACK, "rb0", "r9", "b9", 0), /* a rollback of a bet never seen */
        op_new(PB_WALLET_BET, "b2", "r2", NULL, 50),
        op_new(PB_WALLET_ROUND_CLOSE, "c2", "r2", NULL, 0),
        op2_new(PB_WALLET_BET, "p2b", "r1", NULL, 100),
        op2_new(PB_WALLET_WIN, "p2w", "r1", "p2b", 10),
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        assert_int_equal(run(&ops[i]), PB_OK);
    int64_t n = transfers();
    const char *own[] = {"w1", "rb0", "c2"};
    for (size_t i = 0; i < 3; i++) {
        char tx[8];
        snprintf(tx, sizeof tx, "wx%zu", i);
        pb_wallet_op win = op_new(PB_WALLET_WIN, tx, "r1", own[i], 40);
        assert_int_equal(run(&win), PB_ERR_TRANSACTION_NOT_BET);
        assert_int_equal(win.response.status, 422); /* stored */
        assert_int_equal(win.outcome.cash, 880);    /* with the balance */
        pb_wallet_op again = op_new(PB_WALLET_WIN, tx, "r1", own[i], 40);
        assert_int_equal(run(&again), PB_ERR_TRANSACTION_NOT_BET);
        assert_true(again.duplicate);
        assert_memory_equal(again.response.body, win.response.body, win.response.body_len);
        pb_wallet_op_release(&win);
        pb_wallet_op_release(&again);
    }
    /* another player's win; an id never seen: decided again on each retry */
    const char *named[] = {"p2w", "nope"};
    const pb_err want[] = {PB_ERR_ROUND_MISMATCH, PB_ERR_BET_NOT_FOUND};
    for (size_t i = 0; i < 2; i++) {
        for (int k = 0; k < 2; k++) {
            pb_wallet_op win = op_new(PB_WALLET_WIN, "wy", "r1", named[i], 40);
            assert_int_equal(run(&win), want[i]);
            assert_false(win.duplicate);
            assert_int_equal(win.response.status, 0);
            pb_wallet_op_release(&win);
        }
    }
    assert_int_equal(count_of("SELECT count(*) FROM wallet_op WHERE tx_id='wy'"), 0);
    assert_int_equal(count_of("SELECT count(*) FROM wallet_bet WHERE bet_tx_id IN "
                              "('w1','rb0','c2','p2w','nope')"),
                     0);
    assert_int_equal(transfers(), n);
    assert_int_equal(bal().cash, 880);
    assert_int_equal(bal_of(G.player2).cash, 910);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        pb_wallet_op_release(&ops[i]);
}

/* A win naming the player's own bet that was refused (the wallet's
 * INSUFFICIENT_FUNDS, the adapter's BET_LIMIT or GAME_DISABLED, the gate's
 * PLAYER_BLOCKED: each stored under the bet's id) can never be paid: that bet
 * was never placed and never will be (its retry gets its stored refusal). It is
 * BET_REFUSED (409) with the balance, stored, so the provider's retry gets it
 * byte for byte and stops, whatever round it names; nothing moves, nothing is
 * recorded under the bet's id. A win that came before its bet (BET_NOT_FOUND,
 * not stored) and is retried once the bet was refused gets BET_REFUSED then,
 * stored. A rollback naming the player's own refused bet is unchanged: 200,
 * bet_unknown, nothing moves. */
static void test_win_naming_a_refused_bet(void **state)
{
    (void)state;
    fund(1000, 0);
    /* a win before its bet: not stored (decided again on its retry) */
    pb_wallet_op early = op_new(PB_WALLET_WIN, "w0", "r0", "b0", 40);
    assert_int_equal(run(&early), PB_ERR_BET_NOT_FOUND);
    assert_int_equal(early.response.status, 0);
    pb_wallet_op bets[] = {
        op_new(PB_WALLET_BET, "b0", "r0", NULL, 5000), /* INSUFFICIENT_FUNDS */
        op_new(PB_WALLET_BET, "b1", "r1", NULL, 100),
        op_new(PB_WALLET_BET, "b2", "r2", NULL, 100),
        op_new(PB_WALLET_BET, "b3", "r3", NULL, 100),
    };
    bets[1].refusal = PB_ERR_BET_LIMIT;
    bets[2].refusal = PB_ERR_GAME_DISABLED;
    const pb_err refused[] = {PB_ERR_INSUFFICIENT_FUNDS, PB_ERR_BET_LIMIT, PB_ERR_GAME_DISABLED,
                              PB_ERR_PLAYER_BLOCKED};
    for (size_t i = 0; i < 4; i++) {
        if (i == 3)
            set_status("blocked");
        assert_int_equal(run(&bets[i]), refused[i]);
        assert_true(bets[i].response.status > 0); /* the bet's refusal is stored */
    }
    set_status("active");
    int64_t n = transfers();
    for (size_t i = 0; i < 4; i++) {
        char tx[8], bet[8], round[8];
        snprintf(tx, sizeof tx, "w%zu", i);
        snprintf(bet, sizeof bet, "b%zu", i);
        /* the bet's own round, and (b3) another round of the player's */
        snprintf(round, sizeof round, "r%zu", i == 3 ? (size_t)9 : i);
        pb_wallet_op win = op_new(PB_WALLET_WIN, tx, round, bet, 40);
        assert_int_equal(run(&win), PB_ERR_BET_REFUSED);
        assert_false(win.duplicate);
        assert_int_equal(win.response.status, 409); /* stored */
        assert_int_equal(win.outcome.cash, 1000);   /* with the balance */
        assert_int_equal(win.outcome.cash_part + win.outcome.bonus_part, 0);
        pb_wallet_op again = op_new(PB_WALLET_WIN, tx, round, bet, 40);
        assert_int_equal(run(&again), PB_ERR_BET_REFUSED);
        assert_true(again.duplicate);
        assert_int_equal(again.response.body_len, win.response.body_len);
        assert_memory_equal(again.response.body, win.response.body, win.response.body_len);
        /* the bet stays refused: its retry gets its stored refusal */
        pb_wallet_op b = op_new(PB_WALLET_BET, bet, i == 3 ? "r3" : round, NULL,
                                i == 0 ? 5000 : 100);
        assert_int_equal(run(&b), refused[i]);
        assert_true(b.duplicate);
        pb_wallet_op_release(&win);
        pb_wallet_op_release(&again);
        pb_wallet_op_release(&b);
    }
    assert_int_equal(count_of("SELECT count(*) FROM wallet_op WHERE tx_id IN "
                              "('w0','w1','w2','w3') AND result='BET_REFUSED'"),
                     4);
    assert_int_equal(count_of("SELECT count(*) FROM wallet_bet"), 0);
    assert_int_equal(count_of("SELECT count(*) FROM wallet_round"), 0);
    assert_int_equal(transfers(), n);
    /* the rollback of a refused bet: as before, 200 with bet_unknown, nothing moves */
    pb_wallet_op rb = op_new(PB_WALLET_ROLLBACK, "rb1", "r1", "b1", 0);
    assert_int_equal(run(&rb), PB_OK);
    assert_true(rb.outcome.bet_unknown);
    assert_int_equal(rb.outcome.cash_part + rb.outcome.bonus_part, 0);
    assert_int_equal(transfers(), n);
    assert_int_equal(bal().cash, 1000);
    pb_wallet_op_release(&early);
    pb_wallet_op_release(&rb);
    for (size_t i = 0; i < 4; i++)
        pb_wallet_op_release(&bets[i]);
}

static void test_rollback_refunds_split_and_win_after_is_refused(void **state)
{
    (void)state;
    fund(300, 500);
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 700);
    assert_int_equal(run(&bet), PB_OK);
    pb_wallet_op_release(&bet);
    pb_wallet_op rb = op_new(PB_WALLET_ROLLBACK, "rb1", "r1", "b1", 0);
    assert_int_equal(run(&rb), PB_OK);
    assert_false(rb.outcome.bet_unknown);
    assert_int_equal(rb.outcome.cash_part, 300);
    assert_int_equal(rb.outcome.bonus_part, 400);
    pb_wallet_op_release(&rb);
    pb_wallet_balance b = bal();
    assert_int_equal(b.cash, 300);
    assert_int_equal(b.bonus, 500);
    pb_wallet_op win = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 1000);
    assert_int_equal(run(&win), PB_ERR_TRANSACTION_ROLLED_BACK);
    pb_wallet_op_release(&win);
    pb_wallet_op rb2 = op_new(PB_WALLET_ROLLBACK, "rb2", "r1", "b1", 0);
    assert_int_equal(run(&rb2), PB_ERR_TRANSACTION_ROLLED_BACK); /* refunded once only */
    pb_wallet_op_release(&rb2);
    assert_int_equal(bal().cash, 300);
}

/* wallet_bet rows of a bet: the count, and the state of the one for tx ("" none). */
static int bet_rows(const char *tx, char *state, size_t cap)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(G.f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT state FROM wallet_bet WHERE bet_tx_id=?1", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, tx, -1, SQLITE_STATIC);
    int n = 0;
    state[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(state, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A placed bet is its operation row alone (no wallet_bet row: one random index
 * page less per bet); its rollback writes the bet's row, rolled back, with the
 * stake's split; a row 'placed' from an earlier version is still read and
 * updated. */
static void test_placed_bet_is_its_operation_row(void **state)
{
    (void)state;
    fund(1000, 0);
    char st[32];
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&bet), PB_OK);
    pb_wallet_op_release(&bet);
    assert_int_equal(bet_rows("b1", st, sizeof st), 0);
    pb_store_wallet_bet got;
    assert_int_equal(pb_store_wallet_bet_get(G.f->conn, "studio", "b1", &got), PB_STORE_OK);
    assert_string_equal(got.state, "placed");
    assert_string_equal(got.round_id, "r1");
    assert_int_equal(got.cash_part, 100);
    pb_wallet_op rb = op_new(PB_WALLET_ROLLBACK, "rb1", "r1", "b1", 0);
    assert_int_equal(run(&rb), PB_OK);
    assert_int_equal(rb.outcome.cash_part, 100);
    pb_wallet_op_release(&rb);
    assert_int_equal(bet_rows("b1", st, sizeof st), 1);
    assert_string_equal(st, "rolled_back");
    assert_int_equal(pb_store_wallet_bet_get(G.f->conn, "studio", "b1", &got), PB_STORE_OK);
    assert_string_equal(got.state, "rolled_back");
    assert_int_equal(got.cash_part, 100);
    assert_int_equal(bal().cash, 1000);

    /* as an earlier version wrote it: the bet's row 'placed' beside its op row */
    pb_wallet_op old = op_new(PB_WALLET_BET, "b2", "r2", NULL, 40);
    assert_int_equal(run(&old), PB_OK);
    pb_wallet_op_release(&old);
    pb_store_wallet_bet legacy;
    memset(&legacy, 0, sizeof legacy);
    snprintf(legacy.provider, sizeof legacy.provider, "studio");
    snprintf(legacy.bet_tx_id, sizeof legacy.bet_tx_id, "b2");
    snprintf(legacy.player, sizeof legacy.player, "%s", G.player);
    snprintf(legacy.round_id, sizeof legacy.round_id, "r2");
    legacy.cash_part = 40;
    snprintf(legacy.state, sizeof legacy.state, "placed");
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_wallet_bet_insert(G.f->conn, &legacy), PB_STORE_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    pb_wallet_op rb2 = op_new(PB_WALLET_ROLLBACK, "rb2", "r2", "b2", 0);
    assert_int_equal(run(&rb2), PB_OK);
    pb_wallet_op_release(&rb2);
    assert_int_equal(bet_rows("b2", st, sizeof st), 1);
    assert_string_equal(st, "rolled_back");
    pb_wallet_op win = op_new(PB_WALLET_WIN, "w2", "r2", "b2", 10);
    assert_int_equal(run(&win), PB_ERR_TRANSACTION_ROLLED_BACK);
    pb_wallet_op_release(&win);
    assert_int_equal(bal().cash, 1000);
}

static void test_rollback_after_win_is_refused(void **state)
{
    (void)state;
    fund(1000, 0);
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&bet), PB_OK);
    pb_wallet_op win = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 250);
    assert_int_equal(run(&win), PB_OK);
    pb_wallet_op rb = op_new(PB_WALLET_ROLLBACK, "rb1", "r1", "b1", 0);
    int64_t n = transfers();
    assert_int_equal(run(&rb), PB_ERR_ROUND_HAS_WIN);
    assert_int_equal(transfers(), n);
    assert_int_equal(bal().cash, 1150);
    pb_wallet_op_release(&bet);
    pb_wallet_op_release(&win);
    pb_wallet_op_release(&rb);
}

static void test_insufficient_funds_carries_the_balance(void **state)
{
    (void)state;
    fund(50, 20);
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&bet), PB_ERR_INSUFFICIENT_FUNDS);
    assert_int_equal(bet.outcome.cash, 50);
    assert_int_equal(bet.outcome.bonus, 20);
    assert_non_null(strstr(bet.response.body, "INSUFFICIENT_FUNDS"));
    pb_wallet_op_release(&bet);
    /* an exact stake across both balances passes */
    pb_wallet_op exact = op_new(PB_WALLET_BET, "b2", "r2", NULL, 70);
    assert_int_equal(run(&exact), PB_OK);
    pb_wallet_op_release(&exact);
    pb_wallet_balance b = bal();
    assert_int_equal(b.cash + b.bonus, 0);
}

/* A player account whose row was damaged by SQL (its currency a blob): the bet on
 * it fails STORE_CORRUPT by itself — not INTERNAL, which would roll back every
 * other job of the writer's batch — and writes nothing (no operation row, no
 * transfer); another player's bet goes through; once the row is repaired, the same
 * bet is taken, once. */
static void test_damaged_account_fails_only_its_bet(void **state)
{
    (void)state;
    fund2(500);
    fund(500, 0);
    int64_t before = transfers();
    /* an account the writer has not read yet (one it caches keeps its good copy
     * until the cache lets it go): player 2's bonus account */
    fx_sql(G.f, "UPDATE ledger_account SET currency = CAST('EUR' AS BLOB) WHERE id = %lld",
           (long long)G.acc2.bonus);
    pb_wallet_op bet = op2_new(PB_WALLET_BET, "dmg-1", "dmg-r1", NULL, 100);
    assert_int_equal(run(&bet), PB_ERR_STORE_CORRUPT);
    pb_wallet_op_release(&bet);
    assert_int_equal(transfers(), before);
    assert_int_equal(bal_of(G.player2).cash, 500);
    pb_wallet_op other = op_new(PB_WALLET_BET, "dmg-2", "dmg-r2", NULL, 100);
    assert_int_equal(run(&other), PB_OK);
    pb_wallet_op_release(&other);
    fx_sql(G.f, "UPDATE ledger_account SET currency = 'EUR' WHERE id = %lld",
           (long long)G.acc2.bonus);
    pb_wallet_op again = op2_new(PB_WALLET_BET, "dmg-1", "dmg-r1", NULL, 100);
    assert_int_equal(run(&again), PB_OK); /* taken now: nothing was stored under the id */
    pb_wallet_op_release(&again);
    assert_int_equal(bal_of(G.player2).cash, 400);
}

static void test_round_rules(void **state)
{
    (void)state;
    fund(1000, 0);
    pb_wallet_op w0 = op_new(PB_WALLET_WIN, "w0", "r1", "b1", 10);
    assert_int_equal(run(&w0), PB_ERR_BET_NOT_FOUND); /* not stored: decided again later */
    assert_int_equal(w0.response.status, 0);
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&bet), PB_OK);
    pb_wallet_op w0b = op_new(PB_WALLET_WIN, "w0", "r1", "b1", 10);
    assert_int_equal(run(&w0b), PB_OK);
    pb_wallet_op wrong = op_new(PB_WALLET_WIN, "w2", "r-other", "b1", 10);
    assert_int_equal(run(&wrong), PB_ERR_ROUND_MISMATCH);
    pb_wallet_op close = op_new(PB_WALLET_ROUND_CLOSE, "c1", "r1", NULL, 0);
    assert_int_equal(run(&close), PB_OK);
    pb_wallet_op late = op_new(PB_WALLET_BET, "b9", "r1", NULL, 100);
    assert_int_equal(run(&late), PB_ERR_ROUND_CLOSED);
    pb_wallet_op latewin = op_new(PB_WALLET_WIN, "w9", "r1", "b1", 100);
    assert_int_equal(run(&latewin), PB_ERR_ROUND_CLOSED);
    assert_int_equal(bal().cash, 910);
    pb_wallet_op *all[] = {&w0, &bet, &w0b, &wrong, &close, &late, &latewin};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_wallet_op_release(all[i]);
}

/* wallet_round rows of a round id (any player). */
static int round_rows(const char *round)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(G.f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM wallet_round WHERE round_id=?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, round, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Two players on one round id, as at a live table whose provider gives every
 * player the same round: each has a round of their own. Before rounds were per
 * player, the first row written for the id (B's close, B's win) was taken for
 * A's round too: A's win was refused ROUND_CLOSED and that refusal stored, or
 * A's bet could no longer be rolled back (ROUND_HAS_WIN), or A's round was
 * closed by B's win. A win or rollback naming the other player's bet is still
 * ROUND_MISMATCH. */
static void test_rounds_are_per_player(void **state)
{
    (void)state;
    fund(1000, 0);
    fund2(1000);
    /* B's close does not close A's round */
    pb_wallet_op ab1 = op_new(PB_WALLET_BET, "a-b1", "R", NULL, 100);
    assert_int_equal(run(&ab1), PB_OK);
    pb_wallet_op bb1 = op2_new(PB_WALLET_BET, "b-b1", "R", NULL, 100);
    assert_int_equal(run(&bb1), PB_OK);
    pb_wallet_op bc = op2_new(PB_WALLET_ROUND_CLOSE, "b-c1", "R", NULL, 0);
    assert_int_equal(run(&bc), PB_OK);
    pb_wallet_op aw1 = op_new(PB_WALLET_WIN, "a-w1", "R", "a-b1", 250);
    assert_int_equal(run(&aw1), PB_OK);
    assert_int_equal(aw1.outcome.cash_part, 250);
    pb_wallet_op ab2 = op_new(PB_WALLET_BET, "a-b2", "R", NULL, 10); /* A's round is open */
    assert_int_equal(run(&ab2), PB_OK);
    pb_wallet_op bb2 = op2_new(PB_WALLET_BET, "b-b2", "R", NULL, 10); /* B's is closed */
    assert_int_equal(run(&bb2), PB_ERR_ROUND_CLOSED);
    pb_wallet_op bw = op2_new(PB_WALLET_WIN, "b-w1", "R", "b-b1", 50);
    assert_int_equal(run(&bw), PB_ERR_ROUND_CLOSED);
    pb_wallet_op cross = op2_new(PB_WALLET_WIN, "b-w2", "R", "a-b1", 50); /* A's bet */
    assert_int_equal(run(&cross), PB_ERR_ROUND_MISMATCH);
    /* one row: B's closed round; A's is open, its win is its operation row */
    assert_int_equal(round_rows("R"), 1);
    bool won = false;
    assert_int_equal(pb_store_wallet_round_has_win(G.f->conn, "studio", "R", G.player, &won),
                     PB_STORE_OK);
    assert_true(won);
    assert_int_equal(pb_store_wallet_round_has_win(G.f->conn, "studio", "R", G.player2, &won),
                     PB_STORE_OK);
    assert_false(won);

    /* B's win neither marks A's round won nor closes it */
    pb_wallet_op ab3 = op_new(PB_WALLET_BET, "a-b3", "R2", NULL, 100);
    assert_int_equal(run(&ab3), PB_OK);
    pb_wallet_op ab4 = op_new(PB_WALLET_BET, "a-b4", "R2", NULL, 100);
    assert_int_equal(run(&ab4), PB_OK);
    pb_wallet_op bb3 = op2_new(PB_WALLET_BET, "b-b3", "R2", NULL, 100);
    assert_int_equal(run(&bb3), PB_OK);
    pb_wallet_op bw3 = op2_new(PB_WALLET_WIN, "b-w3", "R2", "b-b3", 30); /* open */
    assert_int_equal(run(&bw3), PB_OK);
    pb_wallet_op arb = op_new(PB_WALLET_ROLLBACK, "a-rb3", "R2", "a-b3", 0);
    assert_int_equal(run(&arb), PB_OK); /* A's round has no win */
    assert_int_equal(arb.outcome.cash_part, 100);
    pb_wallet_op aw4 = op_new(PB_WALLET_WIN, "a-w4", "R2", "a-b4", 0); /* open */
    assert_int_equal(run(&aw4), PB_OK);
    pb_wallet_op bw5 = op2_new(PB_WALLET_WIN, "b-w5", "R2", "b-b3", 0);
    bw5.close_round = true; /* closes B's round, not A's */
    assert_int_equal(run(&bw5), PB_OK);
    pb_wallet_op ab5 = op_new(PB_WALLET_BET, "a-b5", "R2", NULL, 20);
    assert_int_equal(run(&ab5), PB_OK);
    pb_wallet_op bb5 = op2_new(PB_WALLET_BET, "b-b5", "R2", NULL, 20);
    assert_int_equal(run(&bb5), PB_ERR_ROUND_CLOSED);
    assert_int_equal(round_rows("R2"), 1); /* B's, closed with its win */

    /* A: 1000 - 100 + 250 - 10 - 100 - 100 + 100 + 0 - 20; B: 1000 - 100 - 100 + 30 */
    assert_int_equal(bal().cash, 1020);
    assert_int_equal(bal_of(G.player2).cash, 830);
    pb_wallet_op *all[] = {&ab1, &bb1, &bc,  &aw1, &ab2, &bb2, &bw,  &cross, &ab3,
                           &ab4, &bb3, &bw3, &arb, &aw4, &bw5, &ab5, &bb5};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_wallet_op_release(all[i]);
}

static void test_gate_blocks_bets_not_wins(void **state)
{
    (void)state;
    fund(1000, 0);
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&bet), PB_OK);
    set_status("blocked");
    pb_wallet_op dup = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&dup), PB_OK); /* an accepted bet's duplicate still gets its answer */
    assert_true(dup.duplicate);
    assert_memory_equal(dup.response.body, bet.response.body, bet.response.body_len);
    pb_wallet_op_release(&dup);
    pb_wallet_op bet2 = op_new(PB_WALLET_BET, "b2", "r2", NULL, 100);
    assert_int_equal(run(&bet2), PB_ERR_PLAYER_BLOCKED);
    assert_int_equal(bet2.outcome.cash, 900); /* decided in the writer, with the balance */
    pb_wallet_op win = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 300);
    assert_int_equal(run(&win), PB_OK);
    set_status("self_excluded");
    pb_wallet_op bet3 = op_new(PB_WALLET_BET, "b3", "r3", NULL, 100);
    assert_int_equal(run(&bet3), PB_ERR_PLAYER_SELF_EXCLUDED);
    assert_int_equal(bal().cash, 1200);
    pb_wallet_op *all[] = {&bet, &bet2, &win, &bet3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_wallet_op_release(all[i]);
}

static void test_bad_shapes_change_nothing(void **state)
{
    (void)state;
    fund(1000, 0);
    int64_t n = transfers();
    pb_wallet_op a = op_new(PB_WALLET_BET, "b1", "r1", NULL, 0);
    assert_int_equal(run(&a), PB_ERR_AMOUNT_INVALID);
    pb_wallet_op b = op_new(PB_WALLET_BET, "", "r1", NULL, 10);
    assert_int_equal(run(&b), PB_ERR_INVALID_REQUEST);
    pb_wallet_op c = op_new(PB_WALLET_WIN, "w1", "r1", NULL, 10); /* no bet named */
    assert_int_equal(run(&c), PB_ERR_INVALID_REQUEST);
    pb_wallet_op d = op_new(PB_WALLET_BET, "b\x01", "r1", NULL, 10);
    assert_int_equal(run(&d), PB_ERR_INVALID_REQUEST);
    pb_wallet_op e = op_new(PB_WALLET_BET, "b2", "r1", NULL, 10);
    snprintf(e.currency, sizeof e.currency, "ZZZ");
    assert_int_equal(run(&e), PB_ERR_CURRENCY_UNKNOWN);
    pb_wallet_op f = op_new(PB_WALLET_ROLLBACK, "rb", "r1", "b1", 5);
    assert_int_equal(run(&f), PB_ERR_AMOUNT_INVALID);
    pb_wallet_op g = op_new(PB_WALLET_BET, "b3", "r1", NULL, 10);
    snprintf(g.request_currency, sizeof g.request_currency, "E\x01R");
    assert_int_equal(run(&g), PB_ERR_INVALID_REQUEST);
    assert_int_equal(transfers(), n);
}

static void test_history_merges_and_pages(void **state)
{
    (void)state;
    fund(300, 500);                                                  /* cash +300, bonus +500 */
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 700); /* cash -300, bonus -400 */
    assert_int_equal(run(&bet), PB_OK);
    pb_wallet_op win = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 70); /* cash +30, bonus +40 */
    assert_int_equal(run(&win), PB_OK);
    pb_wallet_op_release(&bet);
    pb_wallet_op_release(&win);
    /* the whole history at once, newest first */
    pb_wallet_entry all[16];
    size_t n = 0;
    char next[PB_WALLET_CURSOR_MAX];
    pb_wallet_history_query q = {
        .brand = "alpha", .player_public_id = G.player, .currency = "EUR", .limit = 16};
    assert_int_equal(pb_wallet_history(G.f->conn, &q, all, &n, next), PB_OK);
    assert_int_equal(n, 6);
    assert_string_equal(next, "");
    int64_t sum_cash = 0, sum_bonus = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            assert_true(all[i].seq < all[i - 1].seq);
        if (strcmp(all[i].balance, "cash") == 0)
            sum_cash += all[i].amount;
        else
            sum_bonus += all[i].amount;
    }
    pb_wallet_balance b = bal();
    assert_int_equal(sum_cash, b.cash); /* the entries add up to the balances */
    assert_int_equal(sum_bonus, b.bonus);
    assert_int_equal(all[0].code, PB_CODE_WIN);
    /* two at a time gives the same lines in the same order */
    char cursor[PB_WALLET_CURSOR_MAX] = "";
    size_t seen = 0;
    for (int page = 0; page < 10; page++) {
        pb_wallet_entry two[2];
        q.limit = 2;
        q.cursor = cursor;
        assert_int_equal(pb_wallet_history(G.f->conn, &q, two, &n, next), PB_OK);
        for (size_t i = 0; i < n; i++, seen++) {
            assert_int_equal(two[i].seq, all[seen].seq);
            assert_string_equal(two[i].balance, all[seen].balance);
        }
        if (!next[0])
            break;
        snprintf(cursor, sizeof cursor, "%s", next);
    }
    assert_int_equal(seen, 6);
    /* filters and bad cursors */
    q.cursor = NULL;
    q.limit = 16;
    q.code = PB_CODE_BET;
    assert_int_equal(pb_wallet_history(G.f->conn, &q, all, &n, next), PB_OK);
    assert_int_equal(n, 2);
    assert_true(all[0].amount < 0 && all[1].amount < 0);
    q.code = 0;
    const char *bad[] = {"x", "1", "1.", ".1", "-1.2", "0.0", "999999.1", "1.2.3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q.cursor = bad[i];
        assert_int_equal(pb_wallet_history(G.f->conn, &q, all, &n, next), PB_ERR_INVALID_REQUEST);
    }
    /* one entry by id; another player's id is not found */
    pb_wallet_entry one;
    assert_int_equal(pb_wallet_entry_get(G.f->conn, "alpha", G.player, "EUR", &all[0].transfer_id,
                                         &one),
                     PB_OK);
    assert_int_equal(one.seq, all[0].seq);
    assert_int_equal(pb_wallet_entry_get(G.f->conn, "alpha", "0190aaaa-0000-7000-8000-000000000000",
                                         "EUR", &all[0].transfer_id, &one),
                     PB_ERR_TRANSFER_NOT_FOUND);
}

static void test_adapter_refusals_come_after_the_duplicate_check(void **state)
{
    (void)state;
    fund(1000, 0);
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&bet), PB_OK);
    /* the launch expired since: a duplicate still gets the stored answer */
    pb_wallet_op dup = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    dup.refusal = PB_ERR_TOKEN_EXPIRED;
    assert_int_equal(run(&dup), PB_OK);
    assert_true(dup.duplicate);
    assert_memory_equal(dup.response.body, bet.response.body, bet.response.body_len);
    /* a new bet is refused with the adapter's reason, the balance shown; the refusal
     * is final, so it is stored like the wallet's own */
    int64_t n = transfers();
    pb_wallet_op late = op_new(PB_WALLET_BET, "b2", "r2", NULL, 100);
    late.refusal = PB_ERR_TOKEN_EXPIRED;
    assert_int_equal(run(&late), PB_ERR_TOKEN_EXPIRED);
    assert_true(late.response.status > 0);
    assert_int_equal(late.outcome.cash, 900);
    /* a decided refusal (outside the game's limits) is stored and replayed */
    pb_wallet_op lim = op_new(PB_WALLET_BET, "b3", "r3", NULL, 100000);
    lim.refusal = PB_ERR_BET_LIMIT;
    assert_int_equal(run(&lim), PB_ERR_BET_LIMIT);
    assert_true(lim.response.status > 0);
    pb_wallet_op lim2 = op_new(PB_WALLET_BET, "b3", "r3", NULL, 100000);
    lim2.refusal = PB_ERR_BET_LIMIT;
    assert_int_equal(run(&lim2), PB_ERR_BET_LIMIT);
    assert_true(lim2.duplicate);
    assert_memory_equal(lim2.response.body, lim.response.body, lim.response.body_len);
    assert_int_equal(transfers(), n);
    pb_wallet_op *all[] = {&bet, &dup, &late, &lim, &lim2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_wallet_op_release(all[i]);
}

/* Final refusals are stored under the transaction id like any decision: a
 * request replayed after the player was unblocked, or the game switched back on,
 * gets the refusal first sent, byte for byte, and moves nothing. BET_NOT_FOUND
 * (the bet may still arrive) is not stored. */
static void test_final_refusals_are_stored(void **state)
{
    (void)state;
    fund(1000, 0);
    int64_t n = transfers();
    set_status("blocked");
    pb_wallet_op b1 = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&b1), PB_ERR_PLAYER_BLOCKED);
    assert_true(b1.response.status > 0);
    set_status("active");
    pb_wallet_op again = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&again), PB_ERR_PLAYER_BLOCKED);
    assert_true(again.duplicate);
    assert_int_equal(again.response.body_len, b1.response.body_len);
    assert_memory_equal(again.response.body, b1.response.body, b1.response.body_len);
    /* the adapter's: the game was off; switched on again, the replay (which the
     * adapter now passes without a refusal) still gets the refusal */
    pb_wallet_op g1 = op_new(PB_WALLET_BET, "b2", "r2", NULL, 100);
    g1.refusal = PB_ERR_GAME_DISABLED;
    assert_int_equal(run(&g1), PB_ERR_GAME_DISABLED);
    pb_wallet_op g2 = op_new(PB_WALLET_BET, "b2", "r2", NULL, 100);
    assert_int_equal(run(&g2), PB_ERR_GAME_DISABLED);
    assert_true(g2.duplicate);
    assert_memory_equal(g2.response.body, g1.response.body, g1.response.body_len);
    /* the catalog's other final refusal: the game had no limits in the player's
     * currency; once the operator adds them, the replay still gets the refusal */
    pb_wallet_op c1 = op_new(PB_WALLET_BET, "b4", "r4", NULL, 100);
    c1.refusal = PB_ERR_CURRENCY_NOT_ALLOWED;
    assert_int_equal(run(&c1), PB_ERR_CURRENCY_NOT_ALLOWED);
    assert_true(c1.response.status > 0);
    pb_wallet_op c2 = op_new(PB_WALLET_BET, "b4", "r4", NULL, 100);
    assert_int_equal(run(&c2), PB_ERR_CURRENCY_NOT_ALLOWED);
    assert_true(c2.duplicate);
    assert_int_equal(c2.response.body_len, c1.response.body_len);
    assert_memory_equal(c2.response.body, c1.response.body, c1.response.body_len);
    /* the same id with other content is still a conflict */
    pb_wallet_op g3 = op_new(PB_WALLET_BET, "b2", "r2", NULL, 200);
    assert_int_equal(run(&g3), PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(transfers(), n);
    assert_int_equal(bal().cash, 1000);
    /* a win before its bet: not stored, the retry after the bet pays */
    pb_wallet_op w1 = op_new(PB_WALLET_WIN, "w3", "r3", "b3", 50);
    assert_int_equal(run(&w1), PB_ERR_BET_NOT_FOUND);
    assert_int_equal(w1.response.status, 0);
    pb_wallet_op b3 = op_new(PB_WALLET_BET, "b3", "r3", NULL, 100);
    assert_int_equal(run(&b3), PB_OK);
    pb_wallet_op w2 = op_new(PB_WALLET_WIN, "w3", "r3", "b3", 50);
    assert_int_equal(run(&w2), PB_OK);
    assert_false(w2.duplicate);
    assert_int_equal(bal().cash, 950);
    pb_wallet_op *all[] = {&b1, &again, &g1, &g2, &c1, &c2, &g3, &w1, &b3, &w2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_wallet_op_release(all[i]);
}

/* A win that names no game (the native protocol's) is identified by its own
 * content: its rows take the bet's game, its retry is the duplicate, and a row
 * an earlier version stored with the launched game in its hash still matches. */
static void test_win_identity_is_the_request(void **state)
{
    (void)state;
    fund(1000, 0);
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&bet), PB_OK);
    pb_wallet_op win = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 300);
    win.close_round = true;
    assert_int_equal(run(&win), PB_OK);
    assert_string_equal(win.game, ""); /* the caller's request is left as it was */
    pb_store_wallet_op row;
    assert_int_equal(pb_store_wallet_op_get(G.f->conn, "studio", "w1", &row), PB_STORE_OK);
    assert_string_equal(row.game, "starburst"); /* the bet's */
    free(row.response);
    pb_store_wallet_round round;
    assert_int_equal(pb_store_wallet_round_get(G.f->conn, "studio", "r1", G.player, &round),
                     PB_STORE_OK);
    assert_string_equal(round.game, "starburst");
    pb_wallet_op dup = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 300);
    dup.close_round = true;
    assert_int_equal(run(&dup), PB_OK);
    assert_true(dup.duplicate);
    assert_memory_equal(dup.response.body, win.response.body, win.response.body_len);

    /* an earlier version's row: the launched game ("launched") hashed and stored
     * (a win naming a game must name its bet's, so the bet is on that game) */
    pb_wallet_op bet2 = op_new(PB_WALLET_BET, "b2", "r2", NULL, 100);
    snprintf(bet2.game, sizeof bet2.game, "launched");
    assert_int_equal(run(&bet2), PB_OK);
    pb_wallet_op old = op_new(PB_WALLET_WIN, "w2", "r2", "b2", 200);
    old.close_round = true;
    snprintf(old.game, sizeof old.game, "launched");
    assert_int_equal(run(&old), PB_OK);
    assert_int_equal(pb_store_wallet_op_get(G.f->conn, "studio", "w2", &row), PB_STORE_OK);
    assert_string_equal(row.game, "launched");
    free(row.response);
    int64_t n = transfers();
    pb_wallet_op retry = op_new(PB_WALLET_WIN, "w2", "r2", "b2", 200);
    retry.close_round = true; /* as this version's native adapter sends it: no game */
    assert_int_equal(run(&retry), PB_OK);
    assert_true(retry.duplicate);
    assert_memory_equal(retry.response.body, old.response.body, old.response.body_len);
    /* with other content it is still a conflict */
    pb_wallet_op other = op_new(PB_WALLET_WIN, "w2", "r2", "b2", 201);
    other.close_round = true;
    assert_int_equal(run(&other), PB_ERR_IDEMPOTENCY_CONFLICT);
    /* a win that names its game (Hub88's) keeps it in its identity */
    pb_wallet_op named = op_new(PB_WALLET_WIN, "w2", "r2", "b2", 200);
    named.close_round = true;
    snprintf(named.game, sizeof named.game, "other");
    assert_int_equal(run(&named), PB_ERR_IDEMPOTENCY_CONFLICT);
    assert_int_equal(transfers(), n);
    pb_wallet_op *all[] = {&bet, &win, &dup, &bet2, &old, &retry, &other, &named};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_wallet_op_release(all[i]);
}

/* A win that names a game (Hub88's game_code) must name its bet's: another is
 * GAME_MISMATCH, stored (its retry gets the same answer), nothing moves. */
static void test_win_names_its_bets_game(void **state)
{
    (void)state;
    fund(1000, 0);
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&bet), PB_OK);
    int64_t n = transfers();
    pb_wallet_op win = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 300);
    snprintf(win.game, sizeof win.game, "other");
    assert_int_equal(run(&win), PB_ERR_GAME_MISMATCH);
    assert_int_not_equal(win.response.status, 0); /* stored */
    pb_wallet_op dup = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 300);
    snprintf(dup.game, sizeof dup.game, "other");
    assert_int_equal(run(&dup), PB_ERR_GAME_MISMATCH);
    assert_true(dup.duplicate);
    assert_memory_equal(dup.response.body, win.response.body, win.response.body_len);
    assert_int_equal(transfers(), n);
    assert_int_equal(bal().cash, 900);
    pb_wallet_op good = op_new(PB_WALLET_WIN, "w2", "r1", "b1", 300);
    snprintf(good.game, sizeof good.game, "starburst");
    assert_int_equal(run(&good), PB_OK);
    assert_int_equal(bal().cash, 1200);
    pb_wallet_op *all[] = {&bet, &win, &dup, &good};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_wallet_op_release(all[i]);
}

/* Whose a win or rollback is when its launch is gone: the bet's player. */
static void test_owner_from_the_bet(void **state)
{
    (void)state;
    fund(1000, 0);
    pb_wallet_owner o;
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w1", "b1", NULL, &o),
                     PB_ERR_BET_NOT_FOUND);
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    assert_int_equal(run(&bet), PB_OK);
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w1", "b1", NULL, &o), PB_OK);
    assert_string_equal(o.player, G.player);
    assert_string_equal(o.brand, "alpha");
    assert_string_equal(o.currency, "EUR");
    assert_string_equal(o.game, "starburst");
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "other", "w1", "b1", NULL, &o),
                     PB_ERR_BET_NOT_FOUND); /* another provider's ids */
    /* a refused bet names its player too (its rollback completes after the prune,
     * moving nothing); its own retry finds its row */
    pb_wallet_op poor = op_new(PB_WALLET_BET, "b9", "r9", NULL, 100000);
    assert_int_equal(run(&poor), PB_ERR_INSUFFICIENT_FUNDS);
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w9", "b9", NULL, &o), PB_OK);
    assert_string_equal(o.player, G.player);
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "b9", NULL, NULL, &o), PB_OK);
    assert_string_equal(o.player, G.player);
    /* a rolled-back bet still has its player (the win is refused by the wallet) */
    pb_wallet_op rb = op_new(PB_WALLET_ROLLBACK, "rb1", "r1", "b1", 0);
    assert_int_equal(run(&rb), PB_OK);
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w1", "b1", NULL, &o), PB_OK);
    assert_string_equal(o.player, G.player);
    pb_wallet_op *all[] = {&bet, &poor, &rb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_wallet_op_release(all[i]);
}

/* Once the launch is gone, the token of a win or rollback must be one the
 * wallet recorded: the bet's, or the operation's own (its retry). Rows without
 * one (written before 0032) take any token, as before. */
static void test_owner_needs_the_recorded_token(void **state)
{
    (void)state;
    fund(1000, 0);
    pb_wallet_owner o;
    pb_wallet_op bet = op_new(PB_WALLET_BET, "b1", "r1", NULL, 100);
    pb_wallet_op_set_token(&bet, "token-of-the-bet");
    assert_int_equal(run(&bet), PB_OK);
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w1", "b1", "token-of-the-bet", &o),
                     PB_OK);
    assert_string_equal(o.player, G.player);
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w1", "b1", "another-token", &o),
                     PB_ERR_TOKEN_INVALID);
    assert_string_equal(o.player, "");
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w1", "b1", NULL, &o),
                     PB_ERR_TOKEN_INVALID);
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w1", "b1", "", &o),
                     PB_ERR_TOKEN_INVALID);
    /* a win stored with another token of the player's: its retry may carry that
     * one or the bet's */
    pb_wallet_op win = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 50);
    pb_wallet_op_set_token(&win, "token-of-the-win");
    assert_int_equal(run(&win), PB_OK);
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w1", "b1", "token-of-the-win", &o),
                     PB_OK);
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w1", "b1", "token-of-the-bet", &o),
                     PB_OK);
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w1", "b1", "another-token", &o),
                     PB_ERR_TOKEN_INVALID);
    /* ... but a new win of the bet only the bet's */
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w2", "b1", "token-of-the-win", &o),
                     PB_ERR_TOKEN_INVALID);
    pb_store_wallet_op row;
    assert_int_equal(pb_store_wallet_op_get(G.f->conn, "studio", "b1", &row), PB_STORE_OK);
    assert_true(row.has_token);
    free(row.response);
    /* a bet recorded without a token (as before 0032): any token, as before */
    pb_wallet_op old = op_new(PB_WALLET_BET, "b2", "r2", NULL, 100);
    assert_int_equal(run(&old), PB_OK);
    assert_int_equal(pb_wallet_owner_get(G.f->conn, "studio", "w3", "b2", "whatever", &o), PB_OK);
    assert_string_equal(o.player, G.player);
    pb_wallet_op *all[] = {&bet, &win, &old};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_wallet_op_release(all[i]);
}

/* One text (or number) column of the one row q selects; "" when there is none. */
static void text_of(const char *q, char *out, size_t cap)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(G.f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    int rc = sqlite3_step(st);
    const unsigned char *t = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    snprintf(out, cap, "%s", t ? (const char *)t : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static int64_t count_of(const char *q)
{
    char t[32];
    text_of(q, t, sizeof t);
    return strtoll(t, NULL, 10);
}

/* The posted balance of the brand's account of kind (owner "brand"); -1 when it
 * does not exist. */
static int64_t brand_balance(const char *kind, int64_t *id)
{
    pb_ledger_account a;
    pb_err e = pb_ledger_account_find(G.f->conn, "alpha", PB_WALLET_OWNER_HOUSE, kind, "EUR", &a);
    if (e == PB_ERR_ACCOUNT_NOT_FOUND)
        return -1;
    assert_int_equal(e, PB_OK);
    if (id)
        *id = a.id;
    return a.credits_posted - a.debits_posted;
}

/* A closed (erased) player's open round gets a win, another bet of theirs a
 * rollback: both accepted with the player's balances unchanged; the cash shares
 * go to the brand's unclaimed funds (created for it), the bonus shares back to
 * the house (forfeited); one audit entry and one event each; a replay gets the
 * same bytes and records nothing again; a win of 0 records nothing. */
static void test_closed_player_funds_are_unclaimed(void **state)
{
    (void)state;
    fund(1000, 500); /* cash first: a bet of 1200 is 1000 cash + 200 bonus */
    pb_wallet_op b1 = op_new(PB_WALLET_BET, "b1", "r1", NULL, 1200);
    assert_int_equal(run(&b1), PB_OK);
    assert_int_equal(b1.outcome.bonus_part, 200);
    pb_wallet_op b2 = op_new(PB_WALLET_BET, "b2", "r2", NULL, 300); /* the rest of the bonus */
    assert_int_equal(run(&b2), PB_OK);
    assert_int_equal(b2.outcome.bonus_part, 300);
    pb_wallet_op w0 = op_new(PB_WALLET_WIN, "w0", "r1", "b1", 0); /* the round stays open */
    assert_int_equal(run(&w0), PB_OK);
    assert_int_equal(brand_balance(PB_WALLET_KIND_UNCLAIMED, NULL), -1);
    int64_t house0 = brand_balance(PB_WALLET_KIND_HOUSE, NULL);
    set_status("closed"); /* what an erasure leaves */
    int64_t n = transfers();

    /* a late win of 600: bonus share floor(600 * 200 / 1200) = 100, cash 500 */
    pb_wallet_op w1 = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 600);
    w1.close_round = true;
    snprintf(w1.trace_id, sizeof w1.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_int_equal(run(&w1), PB_OK);
    assert_int_equal(w1.response.status, 200);
    assert_int_equal(w1.outcome.cash_part, 500);
    assert_int_equal(w1.outcome.bonus_part, 100);
    assert_int_equal(w1.outcome.cash, 0); /* the player's balances, unchanged */
    assert_int_equal(w1.outcome.bonus, 0);
    assert_int_equal(bal().cash, 0);
    assert_int_equal(bal().bonus, 0);
    int64_t unclaimed = 0, house = 0;
    assert_int_equal(brand_balance(PB_WALLET_KIND_UNCLAIMED, &unclaimed), 500);
    assert_int_equal(brand_balance(PB_WALLET_KIND_HOUSE, &house), house0 + 100);
    assert_int_equal(transfers(), n + 2);
    char q[512], got[1024], want[1024];
    snprintf(q, sizeof q,
             "SELECT actor_kind||'|'||actor_id||'|'||brand||'|'||target_kind||'|'||target_id||'|'"
             "||trace_id||'|'||json_extract(after,'$.kind')||'|'||json_extract(after,'$.provider')"
             "||'|'||json_extract(after,'$.round_id')||'|'||json_extract(after,'$.tx_id')||'|'||"
             "json_extract(after,'$.amount')||'|'||json_extract(after,'$.cash')||'|'||"
             "json_extract(after,'$.account_id')||'|'||json_extract(after,'$.bonus_forfeited')||"
             "'|'||json_extract(after,'$.bonus_account_id') FROM audit_entry WHERE "
             "action='funds.unclaimed'");
    text_of(q, got, sizeof got);
    snprintf(want, sizeof want,
             "system|provider:studio|alpha|player|%s|0af7651916cd43dd8448eb211c80319c|win|studio|"
             "r1|w1|600|500|%lld|100|%lld",
             G.player, (long long)unclaimed, (long long)house);
    assert_string_equal(got, want);
    snprintf(q, sizeof q,
             "SELECT brand||'|'||subject||'|'||json_extract(payload,'$.kind')||'|'||"
             "json_extract(payload,'$.provider')||'|'||json_extract(payload,'$.round_id')||'|'||"
             "json_extract(payload,'$.amount')||'|'||json_extract(payload,'$.cash')||'|'||"
             "json_extract(payload,'$.account')||'|'||json_extract(payload,'$.account_id')||'|'||"
             "json_extract(payload,'$.bonus_forfeited') FROM event_outbox WHERE "
             "type='funds.unclaimed'");
    text_of(q, got, sizeof got);
    snprintf(want, sizeof want, "alpha|%s|win|studio|r1|6.00|5.00|unclaimed_funds|%lld|1.00",
             G.player, (long long)unclaimed);
    assert_string_equal(got, want);
    /* the ledger's record: cash leg a win into unclaimed funds, bonus leg a forfeit */
    text_of("SELECT group_concat(x, ',') FROM (SELECT code||':'||amount||':'||credit_account_id "
            "AS x FROM ledger_transfer ORDER BY seq DESC LIMIT 2)",
            got, sizeof got);
    snprintf(want, sizeof want, "%d:100:%lld,%d:500:%lld", PB_CODE_BONUS_FORFEIT, (long long)house,
             PB_CODE_WIN, (long long)unclaimed);
    assert_string_equal(got, want);

    /* its replay: the same bytes, nothing again */
    pb_wallet_op w1r = op_new(PB_WALLET_WIN, "w1", "r1", "b1", 600);
    w1r.close_round = true;
    assert_int_equal(run(&w1r), PB_OK);
    assert_true(w1r.duplicate);
    assert_int_equal(w1r.response.body_len, w1.response.body_len);
    assert_memory_equal(w1r.response.body, w1.response.body, w1.response.body_len);
    assert_int_equal(transfers(), n + 2);
    assert_int_equal(count_of("SELECT count(*) FROM audit_entry WHERE action='funds.unclaimed'"),
                     1);

    /* a refund of the other bet (all bonus): forfeited to the house, no cash */
    pb_wallet_op rb = op_new(PB_WALLET_ROLLBACK, "rb2", "r2", "b2", 0);
    assert_int_equal(run(&rb), PB_OK);
    assert_int_equal(rb.outcome.bonus_part, 300);
    assert_int_equal(bal().bonus, 0);
    assert_int_equal(brand_balance(PB_WALLET_KIND_UNCLAIMED, NULL), 500);
    assert_int_equal(brand_balance(PB_WALLET_KIND_HOUSE, NULL), house0 + 400);
    text_of("SELECT json_extract(after,'$.kind')||'|'||json_extract(after,'$.cash')||'|'||"
            "json_extract(after,'$.account_id')||'|'||json_extract(after,'$.bonus_forfeited') "
            "FROM audit_entry WHERE action='funds.unclaimed' ORDER BY seq DESC LIMIT 1",
            got, sizeof got);
    assert_string_equal(got, "rollback|0|0|300");
    assert_int_equal(count_of("SELECT count(*) FROM event_outbox WHERE type='funds.unclaimed'"), 2);
    assert_int_equal(count_of("SELECT count(*) FROM event_outbox WHERE type='bet.rolled_back'"), 1);

    /* a win of 0 on a third, open round moves nothing and records nothing */
    set_status("active");
    fund(100, 0);
    pb_wallet_op b3 = op_new(PB_WALLET_BET, "b3", "r3", NULL, 100);
    assert_int_equal(run(&b3), PB_OK);
    set_status("closed");
    pb_wallet_op w3 = op_new(PB_WALLET_WIN, "w3", "r3", "b3", 0);
    assert_int_equal(run(&w3), PB_OK);
    assert_int_equal(count_of("SELECT count(*) FROM audit_entry WHERE action='funds.unclaimed'"),
                     2);
    pb_wallet_op *all[] = {&b1, &b2, &w0, &w1, &w1r, &rb, &b3, &w3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pb_wallet_op_release(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_split_cash_first_and_proportional_win, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bonus_first_and_cash_only, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_duplicate_is_byte_identical_and_conflict_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_before_bet_refuses_the_bet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstone_is_its_players, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_of_a_win_is_not_a_bet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_win_naming_a_non_bet_is_not_a_bet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_win_naming_a_refused_bet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_refunds_split_and_win_after_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_after_win_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placed_bet_is_its_operation_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_account_fails_only_its_bet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insufficient_funds_carries_the_balance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_round_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rounds_are_per_player, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_blocks_bets_not_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_shapes_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_merges_and_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_final_refusals_are_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_win_identity_is_the_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_win_names_its_bets_game, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_from_the_bet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_needs_the_recorded_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adapter_refusals_come_after_the_duplicate_check, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_closed_player_funds_are_unclaimed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
