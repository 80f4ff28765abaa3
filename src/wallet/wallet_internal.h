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

#define PB_WALLET_CACHE_SLOTS 65536 /* a power of two; a slot is overwritten on collision */

struct pb_wallet {
    pb_ledger *ledger;
    pb_store *store;
    pthread_mutex_t mu;  /* guards cache */
    wallet_acct *cache;  /* direct-mapped by hash; ids never change once created */
};

#endif
