/*
 * store_games.h — the rows of pitboss's own games (0009_games.sql): players'
 * seed pairs, rounds, the RTP in force per game and brand, crash hash chains
 * and crash rounds, and the statements src/games/play*.c runs on them (every
 * write inside a ledger command). Included by store.h. Rows are structs with
 * inline strings, except a round's params and outcome JSON, which are heap
 * strings owned by the row (pb_store_game_round_clear frees them). Every
 * decision lives in src/games/, not here.
 */
#ifndef PB_STORE_GAMES_H
#define PB_STORE_GAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

#define PB_STORE_SEED_HEX_LEN 64     /* a server seed / hash as hex */
#define PB_STORE_SEED_STORED_MAX 160 /* a seed or crash game hash as stored: sealed while secret */
#define PB_STORE_CLIENT_SEED_MAX 64
#define PB_STORE_GAMES_CODE_MAX 32
#define PB_STORE_GAMES_KEY_MAX 100
#define PB_STORE_GAMES_PROGRESS_MAX 127
#define PB_STORE_GAMES_ACTOR_MAX 47

/* A player's seed pair. server_seed is secret while active: stored sealed then
 * (src/games/seal.c: "s1:" and hex), in the clear once revealed. */
typedef struct pb_store_seed_pair {
    int64_t seq; /* read only */
    char id[PB_ID_STR_LEN + 1];
    int64_t brand_id;
    char brand[33];
    char player[PB_ID_STR_LEN + 1];
    char server_seed[PB_STORE_SEED_STORED_MAX + 1];
    char commitment[PB_STORE_SEED_HEX_LEN + 1];
    char client_seed[PB_STORE_CLIENT_SEED_MAX + 1];
    int64_t next_nonce;
    bool active;
    int64_t created_at;
    int64_t revealed_at; /* 0 while active */
} pb_store_seed_pair;

/* A round. state: "pending" | "active" | "settling" | "settled" | "voiding" |
 * "void" (0029_games_void.sql: a bet that never played, its stake owed back /
 * given back; void_reason says why). has_nonce / has_payout / has_multiplier
 * say whether the nullable columns are set. */
typedef struct pb_store_game_round {
    int64_t seq; /* read only: list order and cursor */
    char id[PB_ID_STR_LEN + 1];
    int64_t brand_id;
    char brand[33];
    char player[PB_ID_STR_LEN + 1];
    char currency[8];
    char game[PB_STORE_GAMES_CODE_MAX + 1];
    char idempotency_key[PB_STORE_GAMES_KEY_MAX + 1];
    uint8_t request_hash[32];
    char *params; /* JSON text, heap, owned by the row */
    int64_t amount;
    char state[12];
    char pair_id[PB_ID_STR_LEN + 1]; /* "" when none */
    char commitment[PB_STORE_SEED_HEX_LEN + 1];
    char client_seed[PB_STORE_CLIENT_SEED_MAX + 1];
    bool has_nonce;
    int64_t nonce;
    char crash_round[PB_ID_STR_LEN + 1];            /* "" when not a crash bet */
    char *outcome;                                  /* JSON text or NULL, heap, owned by the row */
    char progress[PB_STORE_GAMES_PROGRESS_MAX + 1]; /* "" when none */
    bool has_multiplier;
    int64_t multiplier;
    bool has_payout;
    int64_t payout;
    int32_t rtp_bp;                             /* 0 until decided */
    int64_t created_at, updated_at, settled_at; /* settled_at 0 until settled (or void) */
    char void_reason[32];                       /* voiding / void: why; "" otherwise */
    /* read only, filled by pb_store_game_round_list: the pair's server seed once
     * it was rotated out ("" while the pair is active or when there is none) */
    char revealed_seed[PB_STORE_SEED_HEX_LEN + 1];
} pb_store_game_round;

/* Frees a round's heap strings (params, outcome) and sets them to NULL. */
void pb_store_game_round_clear(pb_store_game_round *r);

/* A page of a player's rounds, newest first. */
typedef struct pb_store_game_round_query {
    const char *player;
    const char *game;   /* NULL or "" = every game */
    int64_t before_seq; /* 0 = from the newest */
    size_t limit;
} pb_store_game_round_query;

/* One line of the game-control report: the settled rounds of a game in a currency. */
typedef struct pb_store_game_totals {
    char game[PB_STORE_GAMES_CODE_MAX + 1];
    char currency[8];
    int64_t rounds;
    int64_t turnover;     /* sum of bets */
    int64_t payout;       /* sum of payouts */
    int64_t rtp_weighted; /* sum of amount × rtp_bp (the RTP in force, weighted by turnover) */
} pb_store_game_totals;

/* A crash chain (see 0009_games.sql). */
typedef struct pb_store_crash_chain {
    int64_t id; /* 0 on insert: assigned */
    int64_t brand_id;
    char brand[33];
    char seed[PB_STORE_SEED_STORED_MAX + 1]; /* sealed at rest (src/games/seal.c) */
    char salt[PB_STORE_SEED_HEX_LEN + 1];
    char terminal_hash[PB_STORE_SEED_HEX_LEN + 1];
    int64_t length;
    int64_t next_position;
    int64_t created_at;
} pb_store_crash_chain;

/* A crash round. state: "betting" | "running" | "crashed". Until it crashes its
 * game hash is stored sealed and its point as 0 (0017_crash_round_sealed.sql,
 * src/games/seal.c); the crash writes both in the clear. */
typedef struct pb_store_crash_round {
    int64_t seq; /* read only */
    char id[PB_ID_STR_LEN + 1];
    int64_t brand_id;
    char brand[33];
    int64_t chain_id;
    int64_t position;
    char game_hash[PB_STORE_SEED_STORED_MAX + 1]; /* 64 hex once crashed; sealed before */
    int64_t point;                                /* × 100; 0 = not yet revealed */
    int32_t rtp_bp;
    char state[10];
    int64_t betting_ends_at, started_at, crashed_at, created_at; /* 0 = not yet */
    /* read only: the chain's salt and terminal hash */
    char salt[PB_STORE_SEED_HEX_LEN + 1];
    char terminal_hash[PB_STORE_SEED_HEX_LEN + 1];
} pb_store_crash_round;

/* ---- seed pairs ---- */
/* CONFLICT when the player already has an active pair (or the id exists). */
pb_store_rc pb_store_seed_pair_insert(pb_store_conn *c, const pb_store_seed_pair *p);
pb_store_rc pb_store_seed_pair_active(pb_store_conn *c, const char *player,
                                      pb_store_seed_pair *out);
pb_store_rc pb_store_seed_pair_get(pb_store_conn *c, const char *id, pb_store_seed_pair *out);
/* Sets next_nonce (it only grows: NOT_FOUND when the row is not active or the
 * value would not grow). */
pb_store_rc pb_store_seed_pair_set_nonce(pb_store_conn *c, const char *id, int64_t next_nonce);
/* Retires the active pair: active = 0, revealed_at. NOT_FOUND when not active. */
/* Retires the active pair id, storing its server seed in the clear (revealed). */
pb_store_rc pb_store_seed_pair_retire(pb_store_conn *c, const char *id, int64_t revealed_at,
                                      const char *server_seed);
/* Up to cap active pairs whose server seed is stored in the clear (64 hex: written
 * before sealing), and the replacement of an active pair's stored seed. */
pb_store_rc pb_store_seed_pair_unsealed(pb_store_conn *c, pb_store_seed_pair *out, size_t cap,
                                        size_t *n);
pb_store_rc pb_store_seed_pair_set_seed(pb_store_conn *c, const char *id, const char *stored);
/* A player's pairs, newest first, seq < before_seq (0 = from the newest). */
pb_store_rc pb_store_seed_pair_list(pb_store_conn *c, const char *player, int64_t before_seq,
                                    pb_store_seed_pair *out, size_t cap, size_t *n);

/* ---- rounds ---- */
/* CONFLICT when the id or (player, idempotency_key) exists. */
pb_store_rc pb_store_game_round_insert(pb_store_conn *c, const pb_store_game_round *r);
pb_store_rc pb_store_game_round_get(pb_store_conn *c, const char *id, pb_store_game_round *out);
pb_store_rc pb_store_game_round_by_key(pb_store_conn *c, const char *player, const char *key,
                                       pb_store_game_round *out);
/* Rewrites the mutable columns (state, pair_id, commitment, client_seed, nonce,
 * crash_round, outcome, progress, multiplier, payout, rtp_bp, updated_at,
 * settled_at) of round r->id, only when its stored state is `from_state`:
 * NOT_FOUND otherwise (someone else moved it on). */
pb_store_rc pb_store_game_round_update(pb_store_conn *c, const pb_store_game_round *r,
                                       const char *from_state);
/* Deletes a round that is still pending (a refused bet). NOT_FOUND otherwise. */
pb_store_rc pb_store_game_round_delete_pending(pb_store_conn *c, const char *id);
/* A page of a player's rounds (with revealed_seed filled). Each row's heap
 * strings belong to the caller. */
pb_store_rc pb_store_game_round_list(pb_store_conn *c, const pb_store_game_round_query *q,
                                     pb_store_game_round *out, size_t *n);
/* Unfinished rounds (neither 'settled' nor 'void') with seq > after_seq, oldest first. */
pb_store_rc pb_store_game_round_open(pb_store_conn *c, int64_t after_seq, pb_store_game_round *out,
                                     size_t cap, size_t *n);
/* The rounds (bets) of a crash round in a state, oldest first. */
pb_store_rc pb_store_game_round_of_crash(pb_store_conn *c, const char *crash_round,
                                         const char *state, pb_store_game_round *out, size_t cap,
                                         size_t *n);
/* The same, one player's only (0026_crash_bets_player.sql: read without the other
 * players' bets). */
pb_store_rc pb_store_game_round_of_crash_player(pb_store_conn *c, const char *crash_round,
                                                const char *player, const char *state,
                                                pb_store_game_round *out, size_t cap, size_t *n);
/* Totals of the settled rounds of a brand with settled_at in [from_us, to_us)
 * (0 = unbounded), one line per (game, currency), in game then currency order. */
pb_store_rc pb_store_game_totals_list(pb_store_conn *c, int64_t brand_id, int64_t from_us,
                                      int64_t to_us, pb_store_game_totals *out, size_t cap,
                                      size_t *n);

/* ---- RTP settings ---- */
pb_store_rc pb_store_game_rtp_get(pb_store_conn *c, int64_t brand_id, const char *game,
                                  int32_t *rtp_bp);
pb_store_rc pb_store_game_rtp_put(pb_store_conn *c, int64_t brand_id, const char *game,
                                  int32_t rtp_bp, int64_t now, const char *by);

/* ---- crash ---- */
/* The brand's newest chain. */
pb_store_rc pb_store_crash_chain_current(pb_store_conn *c, int64_t brand_id,
                                         pb_store_crash_chain *out);
pb_store_rc pb_store_crash_chain_get(pb_store_conn *c, int64_t id, pb_store_crash_chain *out);
/* Inserts (ch->id receives the new id). */
pb_store_rc pb_store_crash_chain_insert(pb_store_conn *c, pb_store_crash_chain *ch);
pb_store_rc pb_store_crash_chain_advance(pb_store_conn *c, int64_t id, int64_t next_position);
/* Up to cap chains whose seed is stored in the clear, and the replacement of a stored seed. */
pb_store_rc pb_store_crash_chain_unsealed(pb_store_conn *c, pb_store_crash_chain *out, size_t cap,
                                          size_t *n);
pb_store_rc pb_store_crash_chain_set_seed(pb_store_conn *c, int64_t id, const char *stored);
pb_store_rc pb_store_crash_round_insert(pb_store_conn *c, const pb_store_crash_round *r);
pb_store_rc pb_store_crash_round_get(pb_store_conn *c, const char *id, pb_store_crash_round *out);
/* The brand's newest crash round. */
pb_store_rc pb_store_crash_round_latest(pb_store_conn *c, int64_t brand_id,
                                        pb_store_crash_round *out);
/* Rewrites state, started_at, crashed_at, game_hash and point when the stored
 * state is from_state (NOT_FOUND otherwise): the crash writes the hash and the
 * point in the clear. */
pb_store_rc pb_store_crash_round_update(pb_store_conn *c, const pb_store_crash_round *r,
                                        const char *from_state);
/* Up to cap rounds not crashed whose game hash is stored in the clear (64 hex:
 * written before sealing), oldest first, and the sealing of one such round's hash:
 * game_hash = stored, point = 0 (NOT_FOUND once it crashed). */
pb_store_rc pb_store_crash_round_unsealed(pb_store_conn *c, pb_store_crash_round *out, size_t cap,
                                          size_t *n);
pb_store_rc pb_store_crash_round_set_hash(pb_store_conn *c, const char *id, const char *stored);
/* A brand's crash rounds in a state (NULL = any), newest first, seq < before_seq. */
pb_store_rc pb_store_crash_round_list(pb_store_conn *c, int64_t brand_id, const char *state,
                                      int64_t before_seq, pb_store_crash_round *out, size_t cap,
                                      size_t *n);

/* What a backend implements for the games (see backend.h). */
struct pb_store_games_ops {
    pb_store_rc (*pair_insert)(pb_store_conn *c, const pb_store_seed_pair *p);
    pb_store_rc (*pair_active)(pb_store_conn *c, const char *player, pb_store_seed_pair *out);
    pb_store_rc (*pair_get)(pb_store_conn *c, const char *id, pb_store_seed_pair *out);
    pb_store_rc (*pair_set_nonce)(pb_store_conn *c, const char *id, int64_t next_nonce);
    pb_store_rc (*pair_retire)(pb_store_conn *c, const char *id, int64_t revealed_at,
                               const char *server_seed);
    pb_store_rc (*pair_list)(pb_store_conn *c, const char *player, int64_t before_seq,
                             pb_store_seed_pair *out, size_t cap, size_t *n);
    pb_store_rc (*pair_unsealed)(pb_store_conn *c, pb_store_seed_pair *out, size_t cap, size_t *n);
    pb_store_rc (*pair_set_seed)(pb_store_conn *c, const char *id, const char *stored);
    pb_store_rc (*round_insert)(pb_store_conn *c, const pb_store_game_round *r);
    pb_store_rc (*round_get)(pb_store_conn *c, const char *id, pb_store_game_round *out);
    pb_store_rc (*round_by_key)(pb_store_conn *c, const char *player, const char *key,
                                pb_store_game_round *out);
    pb_store_rc (*round_update)(pb_store_conn *c, const pb_store_game_round *r,
                                const char *from_state);
    pb_store_rc (*round_delete_pending)(pb_store_conn *c, const char *id);
    pb_store_rc (*round_list)(pb_store_conn *c, const pb_store_game_round_query *q,
                              pb_store_game_round *out, size_t *n);
    pb_store_rc (*round_open)(pb_store_conn *c, int64_t after_seq, pb_store_game_round *out,
                              size_t cap, size_t *n);
    pb_store_rc (*round_of_crash)(pb_store_conn *c, const char *crash_round, const char *state,
                                  pb_store_game_round *out, size_t cap, size_t *n);
    pb_store_rc (*round_of_crash_player)(pb_store_conn *c, const char *crash_round,
                                         const char *player, const char *state,
                                         pb_store_game_round *out, size_t cap, size_t *n);
    pb_store_rc (*totals)(pb_store_conn *c, int64_t brand_id, int64_t from_us, int64_t to_us,
                          pb_store_game_totals *out, size_t cap, size_t *n);
    pb_store_rc (*rtp_get)(pb_store_conn *c, int64_t brand_id, const char *game, int32_t *rtp_bp);
    pb_store_rc (*rtp_put)(pb_store_conn *c, int64_t brand_id, const char *game, int32_t rtp_bp,
                           int64_t now, const char *by);
    pb_store_rc (*chain_current)(pb_store_conn *c, int64_t brand_id, pb_store_crash_chain *out);
    pb_store_rc (*chain_get)(pb_store_conn *c, int64_t id, pb_store_crash_chain *out);
    pb_store_rc (*chain_insert)(pb_store_conn *c, pb_store_crash_chain *ch);
    pb_store_rc (*chain_advance)(pb_store_conn *c, int64_t id, int64_t next_position);
    pb_store_rc (*chain_unsealed)(pb_store_conn *c, pb_store_crash_chain *out, size_t cap,
                                  size_t *n);
    pb_store_rc (*chain_set_seed)(pb_store_conn *c, int64_t id, const char *stored);
    pb_store_rc (*crash_insert)(pb_store_conn *c, const pb_store_crash_round *r);
    pb_store_rc (*crash_get)(pb_store_conn *c, const char *id, pb_store_crash_round *out);
    pb_store_rc (*crash_latest)(pb_store_conn *c, int64_t brand_id, pb_store_crash_round *out);
    pb_store_rc (*crash_update)(pb_store_conn *c, const pb_store_crash_round *r,
                                const char *from_state);
    pb_store_rc (*crash_list)(pb_store_conn *c, int64_t brand_id, const char *state,
                              int64_t before_seq, pb_store_crash_round *out, size_t cap, size_t *n);
    pb_store_rc (*crash_unsealed)(pb_store_conn *c, pb_store_crash_round *out, size_t cap,
                                  size_t *n);
    pb_store_rc (*crash_set_hash)(pb_store_conn *c, const char *id, const char *stored);
};

extern const struct pb_store_games_ops pb_store_sqlite_games_ops;

#endif
