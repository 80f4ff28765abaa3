/*
 * test_game_model.c — the wallet's game money against a model of its rules.
 *
 * A seeded random stream of provider operations for two players of one brand
 * (src/wallet/game.c, driven as a protocol adapter drives it): bets that open,
 * join and close rounds, some larger than the money there is; wins, zero wins
 * and wins that close the round; rollbacks, of bets placed, rolled back already,
 * won, or never seen (a later bet with that id must be refused: as rolled back
 * for the player whose tombstone it is, as a conflict for another); wins and
 * rollbacks naming the player's own win, rollback or close (TRANSACTION_NOT_BET,
 * stored) or another player's operation (ROUND_MISMATCH); wins naming the
 * player's own refused bet (BET_REFUSED, stored; its rollback a tombstone as for
 * a bet never seen); round closes
 * (of a round the player never played: ROUND_NOT_FOUND, nothing written; of one
 * where every bet of theirs was refused for good or rolled back unseen: closed);
 * operations naming another player's bet (placed or refused), or a round id the other player uses
 * too (their own round of that id); every one of them sent again
 * as it was (a duplicate) or changed (a conflict); money put on cash and bonus
 * in between; restarts of the ledger, half of them crashes (the wallet goes on
 * from a copy of the files taken while it runs, fx_crash); and operations run
 * while the disk refuses every write (the fault VFS), which must fail whole.
 * It runs for each funding policy: cash first, bonus first, cash only.
 *
 * A model — cash and bonus per player, each bet's state and split, each
 * player's rounds and their state (a round id both players use is a round of
 * each), each stored answer — predicts every operation's result,
 * whether it is a duplicate, the stake or payout on each balance, the balances
 * it reports and, for a duplicate, the stored response byte for byte. After
 * every operation both players' balances are read back and compared; ledger
 * verify runs after every restart and at the end.
 *
 * PB_TEST_SEED reproduces a run (printed), PB_MODEL_OPS sets its length
 * (default 1500).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../ledger/fixture.h"
#include "store/sqlite/faultvfs.h"
#include "core/id.h"
#include "store/store.h"
#include "tenancy/tenancy.h"
#include "wallet/wallet.h"
#include "game_render.h"

#define NPLAYERS 2
#define MAX_TX 8192
#define MAX_ROUNDS 2048
#define THREADS 4

/* ---------------------------------------------------------------- the model */

typedef enum { B_NONE, B_PLACED, B_ROLLED_BACK, B_TOMBSTONE } bstate;

typedef struct mtx {  /* what is known under a transaction id */
    bool stored;      /* an answer is stored: a duplicate gets it */
    pb_wallet_op req; /* the request stored, else the last one sent */
    pb_err result;
    char *body; /* the stored response */
    size_t body_len;
    /* as a bet (placed by a bet op, or a rollback's tombstone) */
    bstate bet;
    int player, round; /* the bet's (the tombstone's: its rollback's) */
    int64_t cash_part, bonus_part;
} mtx;

/* One player's round: rounds are per player, so the other player's operations on
 * the same round id never touch it. */
typedef struct mround {
    bool row; /* a round row exists (a bet that closed it, a win, a close) */
    bool closed, has_win;
    bool bets;   /* the player has an accepted bet on it (rolled back since or not) */
    bool played; /* ... or a refused bet whose refusal is stored, or a rollback of a bet
                    never seen: their round all the same, a close closes it */
} mround;

typedef struct gm {
    fx *f;
    pb_wallet *w;
    char player[NPLAYERS][PB_ID_STR_LEN + 1];
    int64_t player_row[NPLAYERS];
    pb_wallet_accounts acc[NPLAYERS];
    int64_t house;
    int64_t cash[NPLAYERS], bonus[NPLAYERS];
    mtx *tx;
    int ntx;
    mround round[MAX_ROUNDS][NPLAYERS]; /* by round id, then player */
    int nrounds;
    int last_round[NPLAYERS]; /* the round a player is playing */
    int recent_bet[NPLAYERS];
    uint64_t rng;
    long stat[6]; /* ok, refused, duplicates, conflicts, unseen rollbacks, restarts */
    long crashes;
    long by_result[PB_ERR_COUNT_ + 1][5]; /* new (not duplicate) operations, by result and kind */
    pb_funding_policy policy;             /* the brand's */
    long refused_batches;                 /* operations whose batch the disk refused */
    int id;                               /* the thread's number: in its ids */
    bool concurrent;                      /* other threads run operations meanwhile */
    pb_store_conn *c;                     /* this thread's reader connection */
    int nfund;
    long ops, submitted;
    uint64_t seed;
} gm;

/* Each thread's model (the single-threaded runs: the main thread's). */
static _Thread_local gm *G;
static gm G0;                                        /* the main thread's, filled by the setup */
static char players[2 * THREADS][PB_ID_STR_LEN + 1]; /* thread t plays 2t and 2t + 1 */
static pb_wallet_accounts player_acc[2 * THREADS];

static uint64_t rnd(void) { return fx_splitmix64(&G->rng); }

static int pick(int n) { return (int)(rnd() % (uint64_t)n); }
static bool chance(int percent) { return pick(100) < percent; }

/* Transaction ids are "t<thread>x<n>", rounds "r<thread>x<n>": n indexes the model. */
static int tx_of(const char *id) { return atoi(strchr(id, 'x') + 1); }

/* Results that are stored and answered again to a duplicate (game.c). */
static bool decided(pb_err e)
{
    return e == PB_OK || e == PB_ERR_INSUFFICIENT_FUNDS || e == PB_ERR_TRANSACTION_ROLLED_BACK ||
           e == PB_ERR_ROUND_HAS_WIN || e == PB_ERR_ROUND_CLOSED || e == PB_ERR_BET_LIMIT ||
           e == PB_ERR_TRANSACTION_NOT_BET || e == PB_ERR_BET_REFUSED;
}

static bool same_request(const pb_wallet_op *a, const pb_wallet_op *b)
{
    /* a rollback's close is no part of its identity (game.c, request_hash_with) */
    return a->kind == b->kind && a->amount == b->amount &&
           (a->close_round == b->close_round || a->kind == PB_WALLET_ROLLBACK) &&
           strcmp(a->round_id, b->round_id) == 0 && strcmp(a->bet_tx_id, b->bet_tx_id) == 0 &&
           strcmp(a->game, b->game) == 0 && strcmp(a->player, b->player) == 0;
}

static int player_of(const pb_wallet_op *op)
{
    for (int i = 0; i < NPLAYERS; i++)
        if (strcmp(op->player, G->player[i]) == 0)
            return i;
    fail_msg("unknown player %s", op->player);
    return -1;
}

/* What the model expects of an operation. */
typedef struct expect {
    pb_err result;
    bool duplicate;
    int64_t cash_part, bonus_part;
    bool bet_unknown;
    /* the change it makes, applied once the wallet agreed */
    int p;
    int64_t dcash, dbonus;
    bstate bet_state; /* the bet (op's tx for a bet, the named bet otherwise) becomes */
    int bet_tx;
    int round;
    mround round_after;
} expect;

static void predict(const pb_wallet_op *op, expect *e)
{
    memset(e, 0, sizeof *e);
    e->bet_tx = -1;
    e->round = tx_of(op->round_id);
    int p = e->p = player_of(op);
    const mtx *self = &G->tx[tx_of(op->tx_id)];
    if (self->stored) {
        if (same_request(op, &self->req)) {
            e->duplicate = true;
            e->result = self->result;
            return;
        }
        e->result = PB_ERR_IDEMPOTENCY_CONFLICT;
        return;
    }
    mround r = G->round[e->round][p]; /* the op's player's round of that id */
    if (op->kind == PB_WALLET_BET) {
        if (self->bet == B_TOMBSTONE) { /* a tombstone is its player's: another's is a conflict */
            e->result = self->player == p ? PB_ERR_TRANSACTION_ROLLED_BACK
                                          : PB_ERR_IDEMPOTENCY_CONFLICT;
            return;
        }
        if (r.row && r.closed) {
            e->result = PB_ERR_ROUND_CLOSED;
            return;
        }
        int64_t bonus = G->policy == PB_FUNDING_CASH_ONLY ? 0 : G->bonus[p];
        if (G->cash[p] + bonus < op->amount) {
            e->result = PB_ERR_INSUFFICIENT_FUNDS;
            return;
        }
        if (G->policy == PB_FUNDING_BONUS_FIRST) {
            e->bonus_part = op->amount < bonus ? op->amount : bonus;
            e->cash_part = op->amount - e->bonus_part;
        } else {
            e->cash_part = op->amount < G->cash[p] ? op->amount : G->cash[p];
            e->bonus_part = op->amount - e->cash_part;
        }
        e->dcash = -e->cash_part;
        e->dbonus = -e->bonus_part;
        e->bet_tx = tx_of(op->tx_id);
        e->bet_state = B_PLACED;
        r.bets = true;
        if (op->close_round)
            r.row = r.closed = true;
        e->round_after = r;
        return;
    }
    if (op->kind == PB_WALLET_ROUND_CLOSE) {
        if (!r.row && !r.bets && !r.played) { /* never played: nothing to close */
            e->result = PB_ERR_ROUND_NOT_FOUND;
            return;
        }
        r.row = r.closed = true;
        e->round_after = r;
        return;
    }
    /* win, rollback: the bet they name */
    int b = tx_of(op->bet_tx_id);
    const mtx *bet = &G->tx[b];
    e->bet_tx = b;
    if (bet->bet != B_NONE &&
        (bet->player != p || (bet->bet != B_TOMBSTONE && bet->round != e->round))) {
        e->result = PB_ERR_ROUND_MISMATCH;
        return;
    }
    /* no placed bet of that id: its stored operation, if any (win and rollback alike) */
    if (bet->bet == B_NONE && bet->stored && player_of(&bet->req) != p) {
        e->result = PB_ERR_ROUND_MISMATCH; /* another player's operation (a refused bet, ...) */
        return;
    }
    if (bet->bet == B_NONE && bet->stored && bet->req.kind != PB_WALLET_BET) {
        e->result = PB_ERR_TRANSACTION_NOT_BET; /* the player's own win, rollback or close */
        return;
    }
    if (op->kind == PB_WALLET_WIN) {
        if (bet->bet == B_NONE) { /* the player's refused bet (its refusal stored), or never seen */
            e->result = bet->stored ? PB_ERR_BET_REFUSED : PB_ERR_BET_NOT_FOUND;
            return;
        }
        if (bet->bet != B_PLACED) {
            e->result = PB_ERR_TRANSACTION_ROLLED_BACK;
            return;
        }
        if (r.row && r.closed) {
            e->result = PB_ERR_ROUND_CLOSED;
            return;
        }
        int64_t stake = bet->cash_part + bet->bonus_part;
        e->bonus_part = bet->bonus_part ? (int64_t)((__int128)op->amount * bet->bonus_part / stake)
                                        : 0;
        e->cash_part = op->amount - e->bonus_part;
        e->dcash = e->cash_part;
        e->dbonus = e->bonus_part;
        e->bet_state = B_PLACED;
        r.row = r.has_win = true;
        r.closed = op->close_round;
        e->round_after = r;
        return;
    }
    /* rollback */
    if (bet->bet == B_NONE || bet->bet == B_TOMBSTONE) {
        e->bet_unknown = true;
        e->bet_state = B_TOMBSTONE;
        r.played = true;     /* the rollback, stored on its round: a close closes it */
        if (op->close_round) /* an accepted rollback closes its round when asked */
            r.row = r.closed = true;
        e->round_after = r;
        return;
    }
    if (bet->bet == B_ROLLED_BACK) {
        e->result = PB_ERR_TRANSACTION_ROLLED_BACK;
        return;
    }
    if (G->round[bet->round][p].row && G->round[bet->round][p].has_win) { /* p: the bet's */
        e->result = PB_ERR_ROUND_HAS_WIN;
        return;
    }
    e->cash_part = bet->cash_part;
    e->bonus_part = bet->bonus_part;
    e->dcash = bet->cash_part;
    e->dbonus = bet->bonus_part;
    e->bet_state = B_ROLLED_BACK;
    if (op->close_round)
        r.row = r.closed = true;
    e->round_after = r;
}

/* The wallet agreed: the model takes the operation's effects. */
static void apply(const pb_wallet_op *op, const expect *e)
{
    mtx *self = &G->tx[tx_of(op->tx_id)];
    if (e->duplicate || e->result == PB_ERR_IDEMPOTENCY_CONFLICT)
        return;
    self->req = *op; /* sent again later, as it was or changed */
    memset(&self->req.response, 0, sizeof self->req.response);
    if (decided(e->result)) {
        self->stored = true;
        self->result = e->result;
        free(self->body);
        self->body = malloc(op->response.body_len + 1);
        assert_non_null(self->body);
        memcpy(self->body, op->response.body, op->response.body_len);
        self->body_len = op->response.body_len;
        if (op->kind == PB_WALLET_BET && e->result != PB_OK) /* a refusal stored on its round */
            G->round[e->round][e->p].played = true;
    }
    if (e->result != PB_OK)
        return;
    G->cash[e->p] += e->dcash;
    G->bonus[e->p] += e->dbonus;
    G->round[e->round][e->p] = e->round_after;
    if (e->bet_tx >= 0 && e->bet_state != B_NONE) {
        mtx *bet = &G->tx[e->bet_tx];
        if (bet->bet == B_NONE) { /* placed now, or a tombstone of a bet never seen */
            bet->player = e->p;
            bet->round = e->round;
            bet->cash_part = e->cash_part;
            bet->bonus_part = e->bonus_part;
        }
        bet->bet = e->bet_state;
    }
}

/* ---------------------------------------------------------------- the generator */

static int new_tx(void)
{
    assert_true(G->ntx < MAX_TX);
    return G->ntx++;
}

static int new_round(void)
{
    assert_true(G->nrounds < MAX_ROUNDS);
    return G->nrounds++;
}

static void fill(pb_wallet_op *op, pb_wallet_op_kind kind, int p, int tx, int round, int bet)
{
    memset(op, 0, sizeof *op);
    op->kind = kind;
    snprintf(op->provider, sizeof op->provider, "studio");
    snprintf(op->tx_id, sizeof op->tx_id, "t%dx%d", G->id, tx);
    snprintf(op->round_id, sizeof op->round_id, "r%dx%d", G->id, round);
    if (bet >= 0)
        snprintf(op->bet_tx_id, sizeof op->bet_tx_id, "t%dx%d", G->id, bet);
    if (kind == PB_WALLET_BET)
        snprintf(op->game, sizeof op->game, "starburst");
    snprintf(op->brand, sizeof op->brand, "alpha");
    snprintf(op->player, sizeof op->player, "%s", G->player[p]);
    snprintf(op->currency, sizeof op->currency, "EUR");
    op->render = game_render;
}

/* A bet some win or rollback names: mostly the player's last one, else any id. */
static int named_bet(int p)
{
    int r = pick(100);
    if (r < 72 && G->recent_bet[p] >= 0)
        return G->recent_bet[p];
    if (r < 90 && G->ntx > 0)
        return pick(G->ntx); /* any earlier transaction: a bet or not, this player's or not */
    return new_tx();         /* never seen: a rollback leaves a tombstone */
}

static void gen(pb_wallet_op *op)
{
    int r = pick(100);
    if (r < 16 && G->ntx > 0) { /* an earlier operation again, as it was or changed */
        const mtx *t = &G->tx[pick(G->ntx)];
        if (t->req.kind) {
            *op = t->req;
            if (chance(25)) { /* the same id, another request */
                if (op->kind == PB_WALLET_BET || op->kind == PB_WALLET_WIN)
                    op->amount++;
                else /* a rollback: the same request all the same (no part of its identity) */
                    op->close_round = !op->close_round;
            }
            return;
        }
    }
    int p = pick(NPLAYERS);
    if (r < 55) {
        int round = G->last_round[p];
        int rr = pick(100);
        if (round < 0 || rr < 20 || G->round[round][p].closed)
            round = new_round();
        else if (rr < 30 && G->nrounds > 0)
            round = pick(G->nrounds); /* maybe one the other player uses too */
        int tx = chance(6) && G->ntx > 0 ? pick(G->ntx) : new_tx(); /* maybe a rolled-back id */
        fill(op, PB_WALLET_BET, p, tx, round, -1);
        int64_t money = G->cash[p] + G->bonus[p];
        op->amount = 1 + (int64_t)(rnd() % (uint64_t)(money / 3 + 100));
        op->close_round = chance(12);
        G->last_round[p] = round;
        if (G->tx[tx].req.kind == 0)
            G->recent_bet[p] = tx;
        return;
    }
    if (r < 80) {
        int bet = named_bet(p);
        int round = G->tx[bet].bet != B_NONE && chance(92) ? G->tx[bet].round
                    : G->nrounds > 0                       ? pick(G->nrounds)
                                                           : new_round();
        bool win = r < 68;
        fill(op, win ? PB_WALLET_WIN : PB_WALLET_ROLLBACK, p, new_tx(), round, bet);
        if (win) {
            int64_t stake = G->tx[bet].cash_part + G->tx[bet].bonus_part;
            op->amount = chance(25) ? 0 : (int64_t)(rnd() % (uint64_t)(2 * stake + 50));
            op->close_round = chance(40);
        } else {
            op->close_round = chance(30); /* Hub88's round_closed on a rollback */
        }
        return;
    }
    if (r < 86) {
        int round = chance(70) && G->last_round[p] >= 0 ? G->last_round[p]
                    : G->nrounds > 0                    ? pick(G->nrounds)
                                                        : new_round();
        fill(op, PB_WALLET_ROUND_CLOSE, p, new_tx(), round, -1);
        return;
    }
    fill(op, PB_WALLET_BET, p, new_tx(), new_round(), -1); /* a round of one bet */
    op->amount = 1 + pick(40);
    op->close_round = chance(50);
}

/* ---------------------------------------------------------------- the run */

static void fund(int p, int64_t cash, int64_t bonus)
{
    char key[32];
    snprintf(key, sizeof key, "fund-%d-%d", G->id, G->nfund++);
    pb_transfer t[2] = {
        fx_transfer(key, G->house, G->acc[p].cash, cash, PB_CODE_ADJUSTMENT),
        fx_transfer("", G->house, G->acc[p].bonus, bonus, PB_CODE_BONUS_GRANT),
    };
    snprintf(t[1].key, sizeof t[1].key, "fund-%d-%d", G->id, G->nfund++);
    t[0].flags = PB_TRANSFER_LINKED;
    pb_err e;
    /* in a batch the disk refused (another thread's): the same keys again */
    while ((e = pb_ledger_submit(G->f->ledger, t, 2)) == PB_ERR_STORE_UNAVAILABLE)
        ;
    assert_int_equal(e, PB_OK);
    assert_int_equal(t[0].result, PB_OK);
    assert_int_equal(t[1].result, PB_OK);
    G->cash[p] += cash;
    G->bonus[p] += bonus;
}

static void check_balances(long step)
{
    for (int p = 0; p < NPLAYERS; p++) {
        pb_wallet_balance b;
        assert_int_equal(pb_wallet_balance_get(G->c, "alpha", G->player[p], "EUR", &b), PB_OK);
        if (b.cash != G->cash[p] || b.bonus != G->bonus[p])
            fail_msg("op %ld: player %d has cash %" PRId64 " bonus %" PRId64 ", the model %" PRId64
                     " / %" PRId64,
                     step, p, b.cash, b.bonus, G->cash[p], G->bonus[p]);
    }
}

static void check(const pb_wallet_op *op, const expect *e, long step)
{
    const char *kinds[] = {"", "bet", "win", "rollback", "close"};
    if (op->result != e->result || op->duplicate != e->duplicate)
        fail_msg("op %ld: %s %s (bet %s, round %s, amount %" PRId64 "): %s%s, the model %s%s", step,
                 kinds[op->kind], op->tx_id, op->bet_tx_id, op->round_id, op->amount,
                 pb_err_code(op->result), op->duplicate ? " (duplicate)" : "",
                 pb_err_code(e->result), e->duplicate ? " (duplicate)" : "");
    if (e->duplicate) {
        const mtx *t = &G->tx[tx_of(op->tx_id)];
        assert_int_equal(op->response.body_len, t->body_len);
        assert_memory_equal(op->response.body, t->body, t->body_len);
        return;
    }
    int p = e->p;
    if (op->outcome.cash != G->cash[p] + (e->result == PB_OK ? e->dcash : 0) ||
        op->outcome.bonus != G->bonus[p] + (e->result == PB_OK ? e->dbonus : 0))
        fail_msg("op %ld: %s %s reported cash %" PRId64 " bonus %" PRId64 ", the model %" PRId64
                 " / %" PRId64,
                 step, kinds[op->kind], op->tx_id, op->outcome.cash, op->outcome.bonus,
                 G->cash[p] + e->dcash, G->bonus[p] + e->dbonus);
    if (e->result != PB_OK)
        return;
    if (op->outcome.cash_part != e->cash_part || op->outcome.bonus_part != e->bonus_part ||
        op->outcome.bet_unknown != e->bet_unknown)
        fail_msg("op %ld: %s %s moved %" PRId64 " cash %" PRId64 " bonus (unknown %d), the "
                 "model %" PRId64 " / %" PRId64 " (%d)",
                 step, kinds[op->kind], op->tx_id, op->outcome.cash_part, op->outcome.bonus_part,
                 op->outcome.bet_unknown, e->cash_part, e->bonus_part, e->bet_unknown);
}

static void restart(void)
{
    pb_wallet_close(G->w);
    if (G->stat[5]++ % 2) {
        fx_crash(G->f, "pbfault");
        G->crashes++;
    } else {
        fx_restart(G->f);
    }
    assert_int_equal(fx_verify(G->f), 0);
    char err[256];
    G->w = pb_wallet_open(G->f->ledger, G->f->store, err, sizeof err);
    assert_non_null(G->w);
    G->c = G->f->conn;
}

/* The ledger fixture with its database reopened through the fault VFS, a brand
 * with this funding policy and two players for each thread. */
static int setup_with(void **state, pb_funding_policy policy, const char *settings)
{
    assert_int_equal(pb_faultvfs_register("pbfault"), SQLITE_OK);
    pb_faultvfs_set_skip_disk_sync(true); /* the crashes here are the process's */
    pb_faultvfs_reset();
    fx_setup(state);
    G = &G0;
    memset(G, 0, sizeof *G);
    G->f = *state;
    G->policy = policy;
    pb_ledger_close(G->f->ledger);
    G->f->ledger = NULL;
    pb_store_disconnect(G->f->conn);
    pb_store_close(G->f->store);
    fx_open_store(G->f, "pbfault");
    fx_restart(G->f);
    G->c = G->f->conn;
    char err[256];
    G->w = pb_wallet_open(G->f->ledger, G->f->store, err, sizeof err);
    assert_non_null(G->w);
    pb_brand_spec spec = {.code = "alpha",
                          .name = "Alpha",
                          .default_currency = "EUR",
                          .jurisdiction = "MT",
                          .settings = settings};
    pb_brand b;
    assert_int_equal(pb_store_begin(G->c, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_tenancy_brand_create(G->c, &spec, 1, &b, NULL), PB_OK);
    for (int i = 0; i < 2 * THREADS; i++) {
        pb_store_player p;
        char email[32];
        snprintf(email, sizeof email, "p%d@example.com", i);
        fx_player(G->f, b.id, email, &p);
        snprintf(players[i], sizeof players[i], "%s", p.public_id);
    }
    assert_int_equal(pb_store_commit(G->c), PB_STORE_OK);
    for (int i = 0; i < 2 * THREADS; i++)
        assert_int_equal(pb_wallet_player_accounts(G->w, G->c, "alpha", players[i], "EUR",
                                                   &player_acc[i]),
                         PB_OK);
    assert_int_equal(pb_wallet_system_account(G->w, G->c, "alpha", PB_WALLET_OWNER_HOUSE,
                                              PB_WALLET_KIND_HOUSE, "EUR", &G->house),
                     PB_OK);
    return 0;
}

static int setup_cash_first(void **state) { return setup_with(state, PB_FUNDING_CASH_FIRST, NULL); }

static int setup_bonus_first(void **state)
{
    return setup_with(state, PB_FUNDING_BONUS_FIRST, "{\"funding_policy\":\"bonus_first\"}");
}

static int setup_cash_only(void **state)
{
    return setup_with(state, PB_FUNDING_CASH_ONLY, "{\"funding_policy\":\"cash_only\"}");
}

static int teardown(void **state)
{
    G = &G0;
    assert_int_equal(fx_verify(G->f), 0);
    pb_wallet_close(G->w);
    return fx_teardown(state);
}

/* Makes m the model of thread id (players 2id, 2id + 1) over what the setup made. */
static void model_init(gm *m, int id, bool concurrent, uint64_t seed, long ops)
{
    memset(m, 0, sizeof *m);
    m->f = G0.f;
    m->w = G0.w;
    m->house = G0.house;
    m->policy = G0.policy;
    m->id = id;
    m->concurrent = concurrent;
    m->seed = seed;
    m->rng = seed;
    m->ops = ops;
    for (int p = 0; p < NPLAYERS; p++) {
        snprintf(m->player[p], sizeof m->player[p], "%s", players[2 * id + p]);
        m->acc[p] = player_acc[2 * id + p];
        m->last_round[p] = m->recent_bet[p] = -1;
    }
    m->tx = calloc(MAX_TX, sizeof *m->tx);
    assert_non_null(m->tx);
}

static void model_free(gm *m)
{
    for (int i = 0; i < MAX_TX; i++)
        free(m->tx[i].body);
    free(m->tx);
}

/* Runs G's operations. Alone, it restarts the ledger now and then; with other
 * threads running, it does not (the ledger is shared), and only thread 0 makes
 * the disk refuse writes: an operation of another thread that lands in such a
 * batch fails too, and must leave nothing behind either. */
static void run_model(void)
{
    for (int p = 0; p < NPLAYERS; p++)
        fund(p, 5000, 1500);
    for (long step = 1; step <= G->ops && G->ntx < MAX_TX - 8 && G->nrounds < MAX_ROUNDS - 8;
         step++) {
        if (chance(5))
            fund(pick(NPLAYERS), 1 + pick(3000), pick(2) ? 1 + pick(800) : 1);
        if (!G->concurrent && pick(1000) < 6)
            restart();
        pb_wallet_op op;
        gen(&op);
        expect e;
        predict(&op, &e);
        /* 1%: the disk refuses every write meanwhile. An operation that stores
         * an answer fails whole (STORE_UNAVAILABLE) and none of it remains: not
         * its money, its round, its tombstone or its answer; the next attempt
         * is decided afresh. One that stores nothing (a duplicate, a conflict,
         * an unstored refusal) may still be answered, unless its batch wrote
         * balance rows back. */
        bool disk_fails = G->id == 0 && pick(100) == 0;
        if (disk_fails)
            pb_faultvfs_fail_writes(SQLITE_IOERR_WRITE);
        pb_wallet_game_submit(G->w, G->c, &op);
        G->submitted++;
        if (disk_fails)
            pb_faultvfs_fail_writes(0);
        if ((disk_fails || G->concurrent) && op.result == PB_ERR_STORE_UNAVAILABLE) {
            assert_false(op.duplicate);
            assert_int_equal(op.response.status, 0);
            pb_wallet_op_release(&op);
            check_balances(step);
            G->refused_batches++;
            continue;
        }
        if (disk_fails && !e.duplicate && decided(e.result))
            fail_msg("op %ld: %s with the disk refusing writes", step, pb_err_code(op.result));
        check(&op, &e, step);
        apply(&op, &e);
        pb_wallet_op_release(&op);
        check_balances(step);
        if (!e.duplicate)
            G->by_result[e.result][op.kind]++;
        G->stat[e.duplicate                               ? 2
                : e.result == PB_ERR_IDEMPOTENCY_CONFLICT ? 3
                : e.result == PB_OK && e.bet_unknown      ? 4
                : e.result == PB_OK                       ? 0
                                                          : 1]++;
    }
}

/* Prints what a model went through and checks the run reached every rule. */
static void report(void)
{
    long won = 0, rolled = 0, tombs = 0;
    for (int i = 0; i < G->ntx; i++) {
        rolled += G->tx[i].bet == B_ROLLED_BACK;
        tombs += G->tx[i].bet == B_TOMBSTONE;
        won += G->tx[i].stored && G->tx[i].req.kind == PB_WALLET_WIN && G->tx[i].result == PB_OK;
    }
    print_message("# wallet game model, thread %d: %ld accepted, %ld refused, %ld duplicates, %ld "
                  "conflicts, %ld rollbacks of unseen bets; %ld wins, %ld bets rolled back, %ld "
                  "tombstones; %ld restarts (%ld crashes), %ld batches the disk refused\n",
                  G->id, G->stat[0], G->stat[1], G->stat[2], G->stat[3], G->stat[4], won, rolled,
                  tombs, G->stat[5], G->crashes, G->refused_batches);
    for (int r = 0; r < PB_ERR_COUNT_ && !G->concurrent; r++)
        if (G->by_result[r][1] + G->by_result[r][2] + G->by_result[r][3] + G->by_result[r][4])
            print_message("#   %-24s bet %4ld  win %4ld  rollback %4ld  close %4ld\n",
                          r == PB_OK ? "OK" : pb_err_code((pb_err)r), G->by_result[r][1],
                          G->by_result[r][2], G->by_result[r][3], G->by_result[r][4]);
    if (G->ops >= 1000)
        assert_true(G->stat[0] > G->ops / 4 && G->stat[1] > G->ops / 20 &&
                    G->stat[2] > G->ops / 50 && G->stat[3] > 0 && G->stat[4] > 0 && won > 0 &&
                    rolled > 0);
}

static uint64_t run_seed(long *ops)
{
    const char *env = getenv("PB_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    env = getenv("PB_MODEL_OPS");
    *ops = env ? atol(env) : 1500;
    return seed;
}

static void game_money_follows_the_model(void **state)
{
    (void)state;
    long ops;
    uint64_t seed = run_seed(&ops);
    print_message("# wallet game model: PB_TEST_SEED=%" PRIu64 ", %ld operations\n", seed, ops);
    gm *m = malloc(sizeof *m);
    assert_non_null(m);
    model_init(m, 0, false, seed, ops);
    m->c = G0.f->conn;
    G = m;
    run_model();
    report();
    G0.w = m->w; /* restarts reopened it */
    model_free(m);
    free(m);
    G = &G0;
}

static void *model_thread(void *arg)
{
    G = arg;
    run_model();
    return NULL;
}

/* THREADS threads, each with its own two players and ids, run operations at once:
 * the writer takes several of them into one batch (group commit), and a batch
 * the disk refuses fails every operation in it. */
static void concurrent_operations_follow_their_models(void **state)
{
    (void)state;
    long ops;
    uint64_t seed = run_seed(&ops);
    ops /= 2;
    print_message("# wallet game model, %d threads: PB_TEST_SEED=%" PRIu64 ", %ld operations "
                  "each\n",
                  THREADS, seed, ops);
    gm *m = calloc(THREADS, sizeof *m);
    pthread_t th[THREADS];
    char err[256];
    assert_non_null(m);
    for (int t = 0; t < THREADS; t++) {
        model_init(&m[t], t, true, seed + (uint64_t)t, ops);
        m[t].c = pb_store_connect(G0.f->store, err, sizeof err);
        assert_non_null(m[t].c);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, model_thread, &m[t]), 0);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    pb_ledger_stats st;
    pb_ledger_stats_get(G0.f->ledger, &st);
    uint64_t jobs = 0; /* submissions to the writer: operations and fundings */
    for (int t = 0; t < THREADS; t++) {
        G = &m[t];
        jobs += (uint64_t)(G->submitted + G->nfund / 2);
        report();
        pb_store_disconnect(m[t].c);
        model_free(&m[t]);
    }
    print_message("# wallet game model, %d threads: %" PRIu64 " submissions in %" PRIu64
                  " batches\n",
                  THREADS, jobs, st.batches);
    assert_true(st.batches < jobs); /* submissions did share batches */
    free(m);
    G = &G0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(game_money_follows_the_model, setup_cash_first, teardown),
        cmocka_unit_test_setup_teardown(game_money_follows_the_model, setup_bonus_first, teardown),
        cmocka_unit_test_setup_teardown(game_money_follows_the_model, setup_cash_only, teardown),
        cmocka_unit_test_setup_teardown(concurrent_operations_follow_their_models, setup_cash_first,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
