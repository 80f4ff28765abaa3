/*
 * store_wallet.h — the rows of the wallet's game-money operations (0005_wallet.sql)
 * and the statements src/wallet/game.c runs on them, inside ledger commands.
 * Included by store.h. The decisions live in src/wallet/, not here.
 */
#ifndef PB_STORE_WALLET_H
#define PB_STORE_WALLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

/* Sizes match src/wallet/wallet.h. */
#define PB_STORE_WALLET_PROVIDER_MAX 32
#define PB_STORE_WALLET_TXID_MAX 128
#define PB_STORE_WALLET_ROUND_MAX 128
#define PB_STORE_WALLET_GAME_MAX 64
#define PB_STORE_WALLET_RESULT_MAX 47

/* One decided operation (wallet_op). */
typedef struct pb_store_wallet_op {
    char provider[PB_STORE_WALLET_PROVIDER_MAX + 1];
    char tx_id[PB_STORE_WALLET_TXID_MAX + 1];
    int kind;
    uint8_t request_hash[32];
    char brand[33];
    char player[PB_ID_STR_LEN + 1];
    char currency[8];
    char round_id[PB_STORE_WALLET_ROUND_MAX + 1];
    char bet_tx_id[PB_STORE_WALLET_TXID_MAX + 1];
    char game[PB_STORE_WALLET_GAME_MAX + 1];
    int64_t amount;
    char result[PB_STORE_WALLET_RESULT_MAX + 1]; /* "OK" or an error code */
    int64_t cash_part, bonus_part;
    int64_t cash_after, bonus_after, held_after;
    bool bet_unknown;
    bool has_transfer;
    pb_id transfer_id;
    int response_status;
    char *response; /* get: malloc'd, NUL-terminated, owned by the caller; insert: borrowed */
    size_t response_len;
    int64_t created_at;
    /* SHA-256 of the launch token the request carried (0031); false on rows
     * written before it and for a request without a token */
    bool has_token;
    uint8_t token_hash[32];
} pb_store_wallet_op;

/* A bet (wallet_bet). state: "placed" | "rolled_back" | "tombstone". */
typedef struct pb_store_wallet_bet {
    char provider[PB_STORE_WALLET_PROVIDER_MAX + 1];
    char bet_tx_id[PB_STORE_WALLET_TXID_MAX + 1];
    char player[PB_ID_STR_LEN + 1];
    char round_id[PB_STORE_WALLET_ROUND_MAX + 1];
    int64_t cash_part, bonus_part;
    char state[16];
    int64_t created_at, updated_at;
    char game[PB_STORE_WALLET_GAME_MAX + 1]; /* the bet's game ("" for a tombstone) */
} pb_store_wallet_bet;

/* Whose a provider's operation or bet is, from its operation row (wallet_op):
 * what a win or rollback needs of its player when no launch says it. */
typedef struct pb_store_wallet_owner {
    char brand[33];
    char player[PB_ID_STR_LEN + 1];
    char currency[8];
    char game[PB_STORE_WALLET_GAME_MAX + 1];
    /* owner_get only: the launch tokens' SHA-256 recorded on the operation's own
     * row and on its bet's (0031), n_tokens of them (0: rows written before it) */
    uint8_t tokens[2][32];
    size_t n_tokens;
} pb_store_wallet_owner;

/* One player's round (wallet_round, keyed (provider, round_id, player)): a
 * provider's round id is not one player's (a live table gives every player at
 * it the same one), so the same id at two players is two rounds. A round has
 * a row once it is closed (and, written by earlier versions, once a win
 * was paid on it); a round with bets, or bets and wins, that is still open has
 * none (pb_store_wallet_round_has_win says whether it has a win). */
typedef struct pb_store_wallet_round {
    char provider[PB_STORE_WALLET_PROVIDER_MAX + 1];
    char round_id[PB_STORE_WALLET_ROUND_MAX + 1];
    char player[PB_ID_STR_LEN + 1];
    char game[PB_STORE_WALLET_GAME_MAX + 1];
    bool has_win;
    bool closed;
    int64_t created_at, updated_at;
} pb_store_wallet_round;

/* NOT_FOUND, or OK with out->response malloc'd (free it). */
pb_store_rc pb_store_wallet_op_get(pb_store_conn *c, const char *provider, const char *tx_id,
                                   pb_store_wallet_op *out);
pb_store_rc pb_store_wallet_op_insert(pb_store_conn *c, const pb_store_wallet_op *op);
pb_store_rc pb_store_wallet_bet_get(pb_store_conn *c, const char *provider, const char *bet_tx_id,
                                    pb_store_wallet_bet *out);
/* As bet_get, from wallet_bet's own rows only (rollbacks and tombstones): for a
 * caller that already knows no operation row holds bet_tx_id. */
pb_store_rc pb_store_wallet_bet_record_get(pb_store_conn *c, const char *provider,
                                           const char *bet_tx_id, pb_store_wallet_bet *out);
pb_store_rc pb_store_wallet_bet_insert(pb_store_conn *c, const pb_store_wallet_bet *b);
pb_store_rc pb_store_wallet_bet_set_state(pb_store_conn *c, const char *provider,
                                          const char *bet_tx_id, const char *state, int64_t now);
/* The owner of provider's operation tx_id (any kind or outcome: a duplicate),
 * else of its bet bet_tx_id (placed, rolled back since or not, or refused: a
 * refusal is stored only for a player the launch named), with the token digests
 * recorded on both rows (out->tokens). NOT_FOUND when neither is stored. */
pb_store_rc pb_store_wallet_owner_get(pb_store_conn *c, const char *provider, const char *tx_id,
                                      const char *bet_tx_id, pb_store_wallet_owner *out);
/* The players of provider's round round_id as its accepted bets say (wallet_op
 * rows of kind 1 with result OK; 0030's partial index), or, when it has none,
 * as its other plays say (stored refusals of bets and accepted rollbacks: a
 * round whose bets were all refused or rolled back before they arrived; 0040's):
 * up to cap distinct players into out (brand, player, currency and the game of
 * one of their rows), how many in *n (0: nobody played that round id). OK or
 * an error. */
pb_store_rc pb_store_wallet_round_owners(pb_store_conn *c, const char *provider,
                                         const char *round_id, pb_store_wallet_owner *out,
                                         size_t cap, size_t *n);
/* The launch token digests recorded (0032) on player's accepted bets of provider's
 * round round_id (0030's index), or, when they have none on it, on their other
 * plays of it (0040's; the rows pb_store_wallet_round_owners found them by):
 * *recorded how many of them record one (0: none, all written before 0032),
 * *match whether one of those is token_hash. OK or an error. */
pb_store_rc pb_store_wallet_round_tokens(pb_store_conn *c, const char *provider,
                                         const char *round_id, const char *player,
                                         const uint8_t token_hash[32], size_t *recorded,
                                         bool *match);
/* Whether player has an accepted bet (wallet_op kind 1, result OK; 0030's
 * index) on provider's round round_id: *has. OK or an error. */
pb_store_rc pb_store_wallet_round_has_bets(pb_store_conn *c, const char *provider,
                                           const char *round_id, const char *player, bool *has);
/* Whether player played provider's round round_id without an accepted bet on
 * it: a bet of theirs on it whose refusal is stored (wallet_op kind 1, any
 * result), or an accepted rollback on it (kind 3, result OK: of a bet never
 * seen, a tombstone): *played. By wallet_op_player (player, provider,
 * round_id); the rare path of a round close that found no accepted bet. OK or
 * an error. */
pb_store_rc pb_store_wallet_round_played(pb_store_conn *c, const char *provider,
                                         const char *round_id, const char *player, bool *played);
/* Whether a win was paid on player's round round_id of provider: its round row
 * says so (an earlier version wrote one for every win), or an accepted win operation
 * (wallet_op kind 2, result OK) of the player's on it exists: *has. A win that
 * leaves its round open writes no round row. OK or an error. */
pb_store_rc pb_store_wallet_round_has_win(pb_store_conn *c, const char *provider,
                                          const char *round_id, const char *player, bool *has);
/* player's round round_id of provider: NOT_FOUND, or OK with *out. */
pb_store_rc pb_store_wallet_round_get(pb_store_conn *c, const char *provider, const char *round_id,
                                      const char *player, pb_store_wallet_round *out);
/* Inserts r's round (provider, round_id, player) or rewrites has_win, closed and
 * updated_at of the existing one. */
pb_store_rc pb_store_wallet_round_put(pb_store_conn *c, const pb_store_wallet_round *r);

/* What a backend implements for the wallet (see backend.h). */
struct pb_store_wallet_ops {
    pb_store_rc (*op_get)(pb_store_conn *c, const char *provider, const char *tx_id,
                          pb_store_wallet_op *out);
    pb_store_rc (*op_insert)(pb_store_conn *c, const pb_store_wallet_op *op);
    pb_store_rc (*bet_get)(pb_store_conn *c, const char *provider, const char *bet_tx_id,
                           pb_store_wallet_bet *out);
    pb_store_rc (*bet_record_get)(pb_store_conn *c, const char *provider, const char *bet_tx_id,
                                  pb_store_wallet_bet *out);
    pb_store_rc (*bet_insert)(pb_store_conn *c, const pb_store_wallet_bet *b);
    pb_store_rc (*bet_set_state)(pb_store_conn *c, const char *provider, const char *bet_tx_id,
                                 const char *state, int64_t now);
    pb_store_rc (*round_get)(pb_store_conn *c, const char *provider, const char *round_id,
                             const char *player, pb_store_wallet_round *out);
    pb_store_rc (*owner_get)(pb_store_conn *c, const char *provider, const char *tx_id,
                             const char *bet_tx_id, pb_store_wallet_owner *out);
    pb_store_rc (*round_put)(pb_store_conn *c, const pb_store_wallet_round *r);
    pb_store_rc (*round_owners)(pb_store_conn *c, const char *provider, const char *round_id,
                                pb_store_wallet_owner *out, size_t cap, size_t *n);
    pb_store_rc (*round_tokens)(pb_store_conn *c, const char *provider, const char *round_id,
                                const char *player, const uint8_t token_hash[32], size_t *recorded,
                                bool *match);
    pb_store_rc (*round_has_bets)(pb_store_conn *c, const char *provider, const char *round_id,
                                  const char *player, bool *has);
    pb_store_rc (*round_has_win)(pb_store_conn *c, const char *provider, const char *round_id,
                                 const char *player, bool *has);
    pb_store_rc (*round_played)(pb_store_conn *c, const char *provider, const char *round_id,
                                const char *player, bool *played);
};

extern const struct pb_store_wallet_ops pb_store_sqlite_wallet_ops;

#endif
