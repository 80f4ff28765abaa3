/*
 * admin_adjust.h — what the two files of staff adjustments share (internal to
 * src/api): admin_adjust.c (POST /v1/admin/players/{id}/adjustments, applied at
 * once or recorded as a 4-eyes request) and admin_adjust_4eyes.c (the second
 * approver: approve, reject, list, get) and admin_adjust_expire.c (a request's
 * expiry, for the decision that finds it so and for serve's sweep of the requests
 * past their time, admin_request_sweep.c). The design is described at the top of
 * admin_adjust.c.
 */
#ifndef PB_API_ADMIN_ADJUST_H
#define PB_API_ADMIN_ADJUST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/admin.h"
#include "api/api.h"
#include "core/money.h"
#include "wallet/wallet.h"

/* wallet_player.c: a balance as the wallet API shows it. */
json_t *pb_api_wallet_balance_json(const pb_wallet_balance *b, const pb_currency *cur);

/* One adjustment, or one decision on a request, from the handler into its ledger
 * command and back. */
typedef struct adjust_ctx {
    pb_http_request *req;
    pb_api_app *app;
    const pb_principal *p;
    pb_player player;
    char brand[PB_BRAND_CODE_MAX + 1];
    const char *balance, *direction, *reason, *key;
    int64_t amount;
    const pb_currency *cur;
    pb_transfer t;
    pb_wallet_accounts acc;
    pb_wallet_balance before;
    pb_err refusal; /* decided in the command: nothing submitted */
    /* 4-eyes (see "Large adjustments" at the top of admin_adjust.c) */
    pb_store_adjustment row; /* the request: found under the key, or written, or decided */
    bool existing;           /* a request under the key answers this call */
    bool direct;             /* a transfer under the key exists: the ledger answers */
    bool not_pending;        /* approve / reject: the request was decided already */
    const char *decision;    /* reject: the reason */
    int64_t brand_id;        /* the request's brand (the approver's scope is re-checked) */
    int64_t expiry_us;       /* how long a request of the brand may stay pending */
    bool expired;            /* approve / reject: found past its time, marked expired */
} adjust_ctx;

/* How long a request may stay pending: pb_tenancy_adjustment_expiry_us (tenancy.h). */
/* Whether r is pending and its time (requested_at + expiry_us) has come at now. */
bool pb_adjust_due(const pb_store_adjustment *r, int64_t expiry_us, int64_t now);
/* r as it reads at now: a pending request whose time has come shows "expired"
 * (decided_at and decided_by stay empty: nobody decided it yet). */
void pb_adjust_status_now(pb_store_adjustment *r, int64_t expiry_us, int64_t now);

/* admin_adjust_expire.c: in a ledger command, the pending request r (re-read there)
 * that pb_adjust_due finds past its time marked expired: status expired, decided_at
 * the command's time, decided_by NULL, with the audit entry player.adjust_expire (by:
 * its actor, trace id and ip; the rest is filled here) and the event
 * balance.adjustment_expired (by->trace_id). The one way a request expires: the
 * decision that finds it so and the sweep both call it. INTERNAL (or the audit's
 * failure) when the store failed. */
pb_err pb_adjust_mark_expired(pb_ledger_tx *tx, pb_store_adjustment *r, int64_t expiry_us,
                              const pb_audit_entry *by);

/* A zeroed context for the request with its caller (x->req, app, p); NULL when
 * out of memory (replied INTERNAL). */
adjust_ctx *pb_adjust_ctx_new(pb_http_request *req, void *app);
/* Whether the caller (as the batch sees them) may still act; a refusal (SESSION_REVOKED,
 * FORBIDDEN) into x->refusal. INTERNAL when the store failed. */
pb_err pb_adjust_principal_ok(pb_ledger_tx *tx, adjust_ctx *x, bool *ok);
/* The player's balances at this point of the writer's batch. */
pb_err pb_adjust_balances_now(pb_ledger_tx *tx, const adjust_ctx *x, pb_wallet_balance *b);
/* Refuses (FOUR_EYES_VIOLATION, replied) when the caller's e-mail is the player's:
 * their own money is adjusted, and approved, by someone else. False when replied. */
bool pb_adjust_not_own_account(pb_http_request *req, pb_store_conn *c, const pb_principal *p,
                               const pb_player *pl);
/* The player's and the house's accounts (created when missing) and the transfer
 * x describes (x->balance, direction, amount, key, player, brand) into x->t. */
pb_err pb_adjust_prepare_transfer(pb_api_app *a, pb_store_conn *c, adjust_ctx *x);
/* An adjustment request as the API shows it (also what its audit entries and the
 * player export hold: staff by id only). NULL when out of memory. */
json_t *pb_adjust_request_json(const pb_store_adjustment *r);
/* The request as staff answers show it: pb_adjust_request_json with the requester's
 * and the decider's e-mails (pb_admin_request_emails, read on c). NULL on a store
 * failure or OOM. Never for an audit entry, an event or the export. */
json_t *pb_adjust_request_staff_json(pb_store_conn *c, pb_admin_emails *cache,
                                     const pb_store_adjustment *r);
/* The player as the batch sees them (after an erasure committed before): closed,
 * PLAYER_ERASED into x->refusal; else *open and their balances into x->before.
 * INTERNAL when the store failed. */
pb_err pb_adjust_player_open(pb_ledger_tx *tx, adjust_ctx *x, bool *open);
/* Appends, in the command's transaction, the audit entry `action` on the player
 * x->player in x->brand: before, the player's balances before (NULL: the entry has
 * no before), after (taken, NULL: INTERNAL) and reason. */
pb_err pb_adjust_audit(pb_ledger_tx *tx, const adjust_ctx *x, const char *action,
                       const pb_wallet_balance *before, json_t *after, const char *reason);

#endif
