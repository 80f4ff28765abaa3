/*
 * store_backoffice.h — the back office's money reads (issue 7): the dashboard
 * snapshot's figures, the transactions explorer's walk over the ledger, and
 * the in-house games' actual RTP. Included by store.h.
 *
 * Everything here only reads, on the caller's connection, inside the caller's
 * transaction (the dashboard takes one read transaction so that its figures
 * and the outbox's last id are one consistent cut). Sums are int64 minor units:
 * SQLite's sum() fails on integer overflow (reported as PB_STORE_ERROR), and
 * the callers add in C with overflow checks. Rows are fixed-size structs.
 */
#ifndef PB_STORE_BACKOFFICE_H
#define PB_STORE_BACKOFFICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

#define PB_BO_BRAND_MAX 32
#define PB_BO_CURRENCY_MAX 7
#define PB_BO_PLAYER_MAX 40
#define PB_BO_OWNER_MAX 64
#define PB_BO_KIND_MAX 32
#define PB_BO_REFERENCE_MAX 64
#define PB_BO_PROVIDER_MAX 32
#define PB_BO_GAME_MAX 64

/* ---- the dashboard ---- */

/* A count and a sum of minor units in one currency. */
typedef struct pb_store_bo_sum {
    char currency[PB_BO_CURRENCY_MAX + 1];
    int64_t bucket; /* pb_store_bo_cashier_buckets: (time − since) / width; else 0 */
    int64_t count;
    int64_t amount;
} pb_store_bo_sum;

/* Which cashier figure pb_store_bo_cashier_sums reads. */
typedef enum {
    PB_BO_DEPOSITS_COMPLETED = 1, /* payments completed at or after since */
    PB_BO_WITHDRAWALS_PAID,       /* withdrawals paid at or after since */
    PB_BO_WITHDRAWALS_OPEN,       /* withdrawals not final now (since ignored) */
} pb_store_bo_cashier_figure;

/* Per currency, the figure for one brand (code): up to cap rows into out, *n
 * receives how many. */
pb_store_rc pb_store_bo_cashier_sums(pb_store_conn *c, pb_store_bo_cashier_figure fig,
                                     const char *brand, int64_t since, pb_store_bo_sum *out,
                                     size_t cap, size_t *n);
/* The same per currency and time bucket of width_us from since (deposits
 * completed and withdrawals paid only: the dashboard's minutes). */
pb_store_rc pb_store_bo_cashier_buckets(pb_store_conn *c, pb_store_bo_cashier_figure fig,
                                        const char *brand, int64_t since, int64_t width_us,
                                        pb_store_bo_sum *out, size_t cap, size_t *n);

/* One accepted game money operation (wallet_op) that moved money. */
typedef struct pb_store_bo_play {
    int kind; /* 1 bet, 2 win, 3 rollback (pb_wallet_op_kind) */
    char player[PB_BO_PLAYER_MAX + 1];
    char currency[PB_BO_CURRENCY_MAX + 1];
    int64_t amount; /* bet: the stake; win: the payout; rollback: the stake given back */
    int64_t created_at;
} pb_store_bo_play;

/* Returns nonzero to stop the scan. */
typedef int (*pb_store_bo_play_cb)(void *ctx, const pb_store_bo_play *op);

/* The brand's accepted bets, wins (amount > 0) and rollbacks of a known bet,
 * created at or after since, oldest first. */
pb_store_rc pb_store_bo_play_scan(pb_store_conn *c, const char *brand, int64_t since,
                                  pb_store_bo_play_cb cb, void *ctx);

/* ---- the transactions explorer ---- */

/* One side of a transfer that moved a player's money. */
typedef struct pb_store_bo_tx {
    int64_t seq;
    pb_id id;
    int64_t created_at;
    uint32_t code;
    uint32_t flags;
    int64_t amount;
    char currency[PB_BO_CURRENCY_MAX + 1];
    char reference[PB_BO_REFERENCE_MAX + 1];
    bool credit; /* the player's account is the credit side (money in) */
    char brand[PB_BO_BRAND_MAX + 1];
    char owner[PB_BO_OWNER_MAX + 1]; /* "player:<public id>" */
    char kind[PB_BO_KIND_MAX + 1];   /* player_cash | player_bonus */
    /* the other side: "provider:<code>", "psp:<code>", … */
    char other_owner[PB_BO_OWNER_MAX + 1];
    char other_kind[PB_BO_KIND_MAX + 1];
    /* game transfers (scope "game:<provider>", reference = the round): the
     * provider and the round's game; "" otherwise */
    char provider[PB_BO_PROVIDER_MAX + 1];
    char game[PB_BO_GAME_MAX + 1];
} pb_store_bo_tx;

/* Called for every transfer (newest first) with its player sides (one or two:
 * a transfer between two player accounts has both), n of them. Returns nonzero
 * to stop the walk. */
typedef int (*pb_store_bo_tx_cb)(void *ctx, const pb_store_bo_tx *sides, size_t n);

/* The walk's bounds: transfers with below_seq > seq >= from_seq (0: no bound)
 * and currency (NULL: any), and how much one walk may read. */
typedef struct pb_store_bo_walk {
    int64_t below_seq; /* 0: from the newest */
    int64_t from_seq;
    const char *currency;
    /* at most this many transfers read, with player sides or not (0: no limit):
     * when that ends the walk, *stopped_at (if not NULL) is set to the seq of
     * the last transfer read — the next walk's below_seq — else to 0 */
    int64_t max_read;
    int64_t *stopped_at;
} pb_store_bo_walk;

/* Walks every transfer newest first (by seq, the primary key) within the
 * bounds, joined with both accounts; the callback sees those with player
 * sides. */
pb_store_rc pb_store_bo_tx_walk(pb_store_conn *c, const pb_store_bo_walk *w, pb_store_bo_tx_cb cb,
                                void *ctx);

/* Walks the transfers of the given accounts only, newest first, by their
 * account chains (each transfer names the previous one of each of its
 * accounts: no scan). starts[i] is account ids[i]'s newest seq (its live
 * last_seq); transfers with seq >= below_seq (0: none) are skipped; the walk
 * ends below from_seq (0: none). On PB_STORE_OK starts[i] is where account
 * i's walk stands: at the transfer the callback stopped on (not past it), so
 * a next walk from there resumes without reading the chains from the top. */
pb_store_rc pb_store_bo_tx_walk_accounts(pb_store_conn *c, const int64_t *ids, int64_t *starts,
                                         size_t n, int64_t below_seq, int64_t from_seq,
                                         pb_store_bo_tx_cb cb, void *ctx);

/* The same walk over the sides of account kind `kind` ("unclaimed_funds", …)
 * instead of the player's: the accounts' own movements, newest first. */
pb_store_rc pb_store_bo_tx_walk_kind(pb_store_conn *c, const char *kind, const int64_t *ids,
                                     int64_t *starts, size_t n, int64_t below_seq,
                                     pb_store_bo_tx_cb cb, void *ctx);

/* The game money operation (wallet_op) whose first transfer is transfer_id, on
 * the provider's round: its player's public id and its transaction id.
 * PB_STORE_NOT_FOUND when none. Index searches only. */
pb_store_rc pb_store_bo_game_op_of_transfer(pb_store_conn *c, const char *provider,
                                            const char *round_id, const pb_id *transfer_id,
                                            char *player, size_t player_cap, char *tx_id,
                                            size_t tx_cap);

/* The first seq whose transfer was created at or after t (by binary search
 * over the primary key: the one writer appends transfers in time order); the
 * newest seq + 1 when none. */
pb_store_rc pb_store_bo_seq_at(pb_store_conn *c, int64_t t, int64_t *seq);

/* ---- actual RTP of the in-house games ---- */

/* Settled rounds of a brand's in-house games, per game and currency (ordered
 * so): rounds, wagered, paid out. One pass over the brand's settled rounds. */
typedef struct pb_store_bo_rtp {
    char game[PB_BO_GAME_MAX + 1];
    char currency[PB_BO_CURRENCY_MAX + 1];
    int64_t rounds;
    int64_t wagered;
    int64_t paid;
} pb_store_bo_rtp;
pb_store_rc pb_store_bo_rtp_actual(pb_store_conn *c, int64_t brand_id, pb_store_bo_rtp *out,
                                   size_t cap, size_t *n);

/* What a backend implements for the back office's money reads (see backend.h). */
struct pb_store_backoffice_money_ops {
    pb_store_rc (*cashier_sums)(pb_store_conn *c, pb_store_bo_cashier_figure fig, const char *brand,
                                int64_t since, pb_store_bo_sum *out, size_t cap, size_t *n);
    pb_store_rc (*cashier_buckets)(pb_store_conn *c, pb_store_bo_cashier_figure fig,
                                   const char *brand, int64_t since, int64_t width_us,
                                   pb_store_bo_sum *out, size_t cap, size_t *n);
    pb_store_rc (*play_scan)(pb_store_conn *c, const char *brand, int64_t since,
                             pb_store_bo_play_cb cb, void *ctx);
    pb_store_rc (*tx_walk)(pb_store_conn *c, const pb_store_bo_walk *w, pb_store_bo_tx_cb cb,
                           void *ctx);
    pb_store_rc (*tx_walk_accounts)(pb_store_conn *c, const int64_t *ids, int64_t *starts, size_t n,
                                    int64_t below_seq, int64_t from_seq, pb_store_bo_tx_cb cb,
                                    void *ctx);
    pb_store_rc (*tx_walk_kind)(pb_store_conn *c, const char *kind, const int64_t *ids,
                                int64_t *starts, size_t n, int64_t below_seq, pb_store_bo_tx_cb cb,
                                void *ctx);
    pb_store_rc (*game_op_of_transfer)(pb_store_conn *c, const char *provider, const char *round_id,
                                       const pb_id *transfer_id, char *player, size_t player_cap,
                                       char *tx_id, size_t tx_cap);
    pb_store_rc (*seq_at)(pb_store_conn *c, int64_t t, int64_t *seq);
    pb_store_rc (*rtp_actual)(pb_store_conn *c, int64_t brand_id, pb_store_bo_rtp *out, size_t cap,
                              size_t *n);
};

extern const struct pb_store_backoffice_money_ops pb_store_sqlite_backoffice_money_ops;

#endif
