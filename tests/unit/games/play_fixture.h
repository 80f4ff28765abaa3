/*
 * play_fixture.h — the in-house games' money side over a real store (SQLite in
 * a temp dir), the real ledger (on the wall clock: the crash scheduler compares
 * the writer's clock with it) and the real wallet: brand "alpha" with two EUR
 * players, the originals in the catalog with dice and mines switched on, and
 * the helpers the games' unit tests share (money, rounds, mines, refusals).
 * The teardown asserts the ledger's verify finds no violation.
 */
#ifndef PB_TEST_GAMES_PLAY_FIXTURE_H
#define PB_TEST_GAMES_PLAY_FIXTURE_H

#include "../ledger/fixture.h"
#include "games/play.h"
#include "wallet/wallet.h"

#define FUND 1000000 /* 10,000.00 EUR */
#define DICE "{\"target\": 50.5, \"direction\": \"over\"}"

typedef struct gx {
    fx *f;
    pb_wallet *w;
    pb_play *p;
    int64_t brand_id, house;
    char players[2][PB_ID_STR_LEN + 1];
    int64_t player_rows[2];
    pb_play_player who[2];
    int n; /* counter for keys */
} gx;

extern gx G;

/* cmocka setup (the money side opened with cfg; NULL = defaults, no crash) /
 * teardown (stops the money side, asserts a clean ledger verify). */
int gp_setup_cfg(void **state, const pb_play_config *cfg);
int gp_setup(void **state);
int gp_teardown(void **state);
/* Opens the money side into G.p (as at start-up: recovery runs). */
void gp_play_open(const pb_play_config *cfg);
/* Switches a pitboss game on or off for brand alpha. */
void gp_game_on(const char *code, bool on);

/* Cash onto player i from the house. */
void gp_fund(int i, int64_t cash);
/* Player i's stakeable money now (cash + bonus). */
int64_t gp_cash(int i);
/* The ledger's transfer count (asserts verify is clean). */
int64_t gp_transfers(void);
/* Player i's active pair's next nonce (0 without a pair). */
int64_t gp_next_nonce(int i);
/* Whether player i has a round under key. */
bool gp_round_of_key(int i, const char *key);
/* A bet of player i: game, params JSON text, amount, key (replayed/err may be NULL). */
pb_err gp_bet(int i, const char *game, const char *params, int64_t amount, const char *key,
              pb_store_game_round *out, bool *replayed, pb_play_error *err);
/* The round as stored (asserts it exists); the caller clears it. */
pb_store_game_round gp_stored(const char *id);
/* Recomputes the round from the revealed server seed with the rules alone and
 * asserts it is the stored one (commitment, outcome, multiplier, payout). */
void gp_assert_fair(const pb_store_game_round *r, const char *server_seed);
/* Asserts a bet is refused with want (and field when not NULL) and leaves
 * nothing: no round under its key, no transfer, the balance and nonce as before. */
void gp_refused(int i, const char *game, const char *params, int64_t amount, pb_err want,
                const char *field);

/* The mines of a stored round in draw order, drawn from its seed pair (the
 * server seed opened as the server does); returns their count. */
size_t gp_mines_drawn(const char *round_id, uint8_t pos[PB_MINES_MAX]);
/* The same, marked in is_mine. */
size_t gp_mines_of(const char *round_id, bool is_mine[PB_MINES_TILES]);
/* The first k safe tiles into out. */
void gp_safe_tiles(const bool is_mine[PB_MINES_TILES], size_t k, uint8_t *out);
/* One mine's tile. */
uint8_t gp_a_mine(const bool is_mine[PB_MINES_TILES]);
/* Starts a mines game of player i; asserts it rests active with the stake taken. */
pb_store_game_round gp_mines_start(int i, unsigned mines, int64_t amount);

/* A dice round of player i (params: its JSON) recorded as the money side does first
 * ("pending": the request kept, nothing staked yet), as a stop right after it would
 * leave it; the stored row. */
pb_store_game_round gp_record_pending(int i, const char *params, int64_t amount, const char *key);
/* The stake of a recorded round through the wallet, as the driver takes it. */
void gp_stake(const pb_store_game_round *r);
/* For pb_ledger_command(…, gp_decide_cmd, &round): the decision (pending → settling)
 * as the driver makes it; round is read again inside the command. */
pb_err gp_decide_cmd(pb_ledger_tx *tx, void *v);
/* The process "restarts": the money side is closed and opened again (its start-up
 * drives unfinished rounds on). */
void gp_reopen(void);

#endif
