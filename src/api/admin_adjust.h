/*
 * admin_adjust.h — what the two files of staff adjustments share (internal to
 * src/api): admin_adjust.c (POST /v1/admin/players/{id}/adjustments, applied at
 * once or recorded as a 4-eyes request) and admin_adjust_4eyes.c (the second
 * approver: approve, reject, list, get; the kind's description for the 4-eyes
 * machinery of admin_4eyes.h, its expiry included). The design is described at the
 * top of admin_adjust.c.
 */
#ifndef PB_API_ADMIN_ADJUST_H
#define PB_API_ADMIN_ADJUST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/admin_4eyes.h"
#include "api/api.h"
#include "core/money.h"
#include "wallet/wallet.h"

/* wallet_player.c: a balance as the wallet API shows it. */
json_t *pb_api_wallet_balance_json(const pb_wallet_balance *b, const pb_currency *cur);

/* One adjustment, or one decision on a request, from the handler into its ledger
 * command and back. */
typedef struct adjust_ctx {
    pb_admin_request_ctx q; /* first: the caller, the request (row), refusal, … */
    pb_player player;
    char brand[PB_BRAND_CODE_MAX + 1];
    const char *balance, *direction, *reason, *key;
    int64_t amount;
    const pb_currency *cur;
    pb_transfer t;
    pb_wallet_accounts acc;
    pb_wallet_balance before;
    /* 4-eyes (see "Large adjustments" at the top of admin_adjust.c) */
    pb_store_adjustment row; /* the request: found under the key, or written, or decided */
    bool direct;             /* a transfer under the key exists: the ledger answers */
} adjust_ctx;

/* How long a request may stay pending: pb_tenancy_adjustment_expiry_us (tenancy.h). */

/* A zeroed context for the request with its caller (x->q); NULL when out of memory
 * (replied INTERNAL). */
adjust_ctx *pb_adjust_ctx_new(pb_http_request *req, void *app);
/* The player's balances at this point of the writer's batch. */
pb_err pb_adjust_balances_now(pb_ledger_tx *tx, const adjust_ctx *x, pb_wallet_balance *b);
/* Refuses (FOUR_EYES_VIOLATION, replied) when the caller's e-mail is the player's:
 * their own money is adjusted, and approved, by someone else. False when replied. */
bool pb_adjust_not_own_account(pb_http_request *req, pb_store_conn *c, const pb_principal *p,
                               const pb_player *pl);
/* The player's and the house's accounts (created when missing) and the transfer
 * x describes (x->balance, direction, amount, key, player, brand) into x->t. */
pb_err pb_adjust_prepare_transfer(pb_api_app *a, pb_store_conn *c, adjust_ctx *x);
/* An adjustment request (r: the rq of a pb_store_adjustment) as the API shows it
 * (also what its audit entries and the player export hold: staff by id only). NULL
 * when out of memory. */
json_t *pb_adjust_request_json(const pb_store_request *r);
/* The player as the batch sees them (after an erasure committed before): closed,
 * PLAYER_ERASED into x->q.refusal; else *open and their balances into x->before.
 * INTERNAL when the store failed. */
pb_err pb_adjust_player_open(pb_ledger_tx *tx, adjust_ctx *x, bool *open);
/* Appends, in the command's transaction, the audit entry `action` on the player
 * x->player in x->brand: before, the player's balances before (NULL: the entry has
 * no before), after (taken, NULL: INTERNAL) and reason. */
pb_err pb_adjust_audit(pb_ledger_tx *tx, const adjust_ctx *x, const char *action,
                       const pb_wallet_balance *before, json_t *after, const char *reason);

#endif
