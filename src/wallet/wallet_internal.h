/*
 * wallet_internal.h — the wallet handle, shared by the wallet's files, and the
 * game money helpers game.c and game_unclaimed.c share (private to src/wallet/).
 */
#ifndef PB_WALLET_INTERNAL_H
#define PB_WALLET_INTERNAL_H

#include <pthread.h>

#include "wallet/wallet.h"

/* One remembered account id: (brand, owner, kind, currency) → id. */
typedef struct wallet_acct {
    char brand[PB_WALLET_BRAND_MAX + 1];
    char owner[PB_LEDGER_OWNER_MAX + 1];
    char kind[PB_LEDGER_KIND_MAX + 1];
    char currency[8];
    int64_t id;
} wallet_acct;

#define PB_WALLET_CACHE_SLOTS 65536 /* a power of two; a slot is overwritten on collision */
#define PB_WALLET_POLICY_SLOTS 64   /* brands whose funding policy is remembered */

/* A brand's funding policy as read from its settings, and when. */
typedef struct wallet_policy {
    char brand[PB_WALLET_BRAND_MAX + 1];
    pb_funding_policy policy;
    int64_t loaded_us; /* monotonic; 0 = empty */
    uint64_t gen;      /* pb_tenancy_brand_cache_guard's when it was read */
} wallet_policy;

struct pb_wallet {
    pb_ledger *ledger;
    pb_store *store;
    pthread_mutex_t mu; /* guards cache */
    wallet_acct *cache; /* direct-mapped by hash; ids never change once created */
    wallet_policy policies[PB_WALLET_POLICY_SLOTS]; /* guarded by mu */
};

/* The brand's funding policy, cached as tenancy's brand cache is (a policy changed
 * through this process is in force from the next call after its write commits, one
 * changed by another process within 1 s: pb_tenancy_brand_cache_guard);
 * BRAND_NOT_FOUND. */
pb_err pb_wallet_policy_of(pb_wallet *w, pb_store_conn *c, const char *brand,
                           pb_funding_policy *out);

/* game_hash.c: the request's hash (op->priv.request_hash), and whether the stored
 * operation prev is the request op (its hash, or for a win naming no game the hash
 * with the game prev was stored with). */
void pb_wallet_request_hash(const pb_wallet_op *op, uint8_t out[32]);
bool pb_wallet_same_request(const pb_wallet_op *op, const pb_store_wallet_op *prev);
/* game.c, for game_submit.c: the ledger command that decides an operation (ctx: the
 * pb_wallet_op). */
pb_err pb_wallet_game_command(pb_ledger_tx *tx, void *ctx);

/* The side of an operation's money that is not the provider's: the player's
 * cash and bonus accounts, or, for a closed player's win or rollback, the
 * accounts that money goes to instead (pb_wallet_pay_unclaimed). forfeit_bonus:
 * the bonus leg is a forfeit (code BONUS_FORFEIT), not the operation's own code. */
typedef struct wallet_payee {
    int64_t cash, bonus;
    bool forfeit_bonus;
} wallet_payee;

/* game.c, for game_unclaimed.c (inside the ledger command): moves (cash, bonus)
 * between the payee's accounts and the provider's (to_player: pays back), with
 * a business refusal in *refusal. */
pb_err pb_wallet_move_to(pb_ledger_tx *tx, pb_wallet_op *op, const wallet_payee *to, bool to_player,
                         int64_t cash, int64_t bonus, uint32_t code, pb_err *refusal);

/* Inside the ledger command (game.c for every operation, game_unclaimed.c): an
 * account id prepare did not find (*id 0), looked up again in the batch, where
 * an account created since is seen; still 0 when it does not exist. Inline: it
 * is on every operation's path. */
static inline pb_err pb_wallet_account_in_batch(pb_ledger_tx *tx, const pb_wallet_op *op,
                                                const char *owner, const char *kind, int64_t *id)
{
    if (*id != 0)
        return PB_OK;
    pb_store_account a;
    pb_store_rc rc = pb_store_account_find(pb_ledger_tx_conn(tx), op->brand, owner, kind,
                                           op->currency, &a);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_OK;
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    *id = a.id;
    return PB_OK;
}

/* game_unclaimed.c, for game.c's pay_back: a closed player's win or rollback —
 * the cash to the brand's unclaimed funds, the bonus forfeited to its house
 * account, recorded (audit and event "funds.unclaimed"). Returns and refuses
 * as pb_wallet_move_to. */
pb_err pb_wallet_pay_unclaimed(pb_ledger_tx *tx, pb_wallet_op *op, int64_t cash, int64_t bonus,
                               uint32_t code, pb_err *refusal);

#endif
