/*
 * wallet_internal.h — the wallet handle, shared by the wallet's files (private
 * to src/wallet/).
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

#define PB_WALLET_CACHE_SLOTS 65536     /* a power of two; a slot is overwritten on collision */
#define PB_WALLET_POLICY_SLOTS 64       /* brands whose funding policy is remembered */
#define PB_WALLET_POLICY_TTL_US 1000000 /* a changed policy is in force within a second */

/* A brand's funding policy as read from its settings, and when. */
typedef struct wallet_policy {
    char brand[PB_WALLET_BRAND_MAX + 1];
    pb_funding_policy policy;
    int64_t loaded_us; /* monotonic; 0 = empty */
} wallet_policy;

struct pb_wallet {
    pb_ledger *ledger;
    pb_store *store;
    pthread_mutex_t mu; /* guards cache */
    wallet_acct *cache; /* direct-mapped by hash; ids never change once created */
    wallet_policy policies[PB_WALLET_POLICY_SLOTS]; /* guarded by mu */
};

/* The brand's funding policy (cached for PB_WALLET_POLICY_TTL_US); BRAND_NOT_FOUND. */
pb_err pb_wallet_policy_of(pb_wallet *w, pb_store_conn *c, const char *brand,
                           pb_funding_policy *out);

/* game.c, for game_submit.c: the request's hash (op->priv.request_hash), and the
 * ledger command that decides an operation (ctx: the pb_wallet_op). */
void pb_wallet_request_hash(const pb_wallet_op *op, uint8_t out[32]);
pb_err pb_wallet_game_command(pb_ledger_tx *tx, void *ctx);

#endif
