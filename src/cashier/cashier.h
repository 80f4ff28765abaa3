/*
 * cashier.h — deposits and withdrawals through payment service providers (PSPs):
 * the cashier domain's only door.
 *
 * Money moves only through the ledger, and every state change of a payment or
 * a withdrawal runs as ONE ledger command (ledger.h) together with its audit
 * entry and its transfer: they commit together or not at all, serialised with
 * every other money movement, so no two deliveries of a webhook can race.
 *
 * Deposits: the player asks (idempotent by their key) → the PSP gives a
 * reference → the payment is "pending" → the PSP's signed webhook says
 * deposit.succeeded → PSP clearing → player cash (ledger scope "deposit", key =
 * the payment id: credited once whatever happens) and "completed". Webhook
 * events are recorded by (psp, event id): a second delivery changes nothing and
 * is answered 200. Order does not matter: deposit.failed after
 * deposit.succeeded is recorded and ignored; deposit.succeeded after
 * deposit.failed still credits (the PSP says it holds the money: the failure was
 * provisional), and is audited as such.
 *
 * Withdrawals: the player asks → the player gate (WITHDRAW) → the amount is held
 * (a pending transfer player cash → PSP clearing, no timeout) → "pending_approval"
 * → finance approves: below the brand's threshold (settings
 * "withdrawal_4eyes_threshold", minor units, default 100000) one approval, at or
 * above it two approvals by two different members (the same member twice is
 * FOUR_EYES_VIOLATION) → "approved" → the payout is sent to the PSP →
 * "processing" → payout.paid posts the hold ("paid"), payout.failed voids it
 * ("failed", the money is back). The player may cancel and finance may reject
 * while it waits for approval (hold voided). The number of approvals a
 * withdrawal needs is fixed when it is requested.
 *
 * Threads: a pb_cashier is shared by every HTTP worker; every function takes the
 * caller's connection (no transaction open on it) for its reads.
 */
#ifndef PB_CASHIER_CASHIER_H
#define PB_CASHIER_CASHIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"
#include "wallet/wallet.h"

#define PB_CASHIER_DEFAULT_4EYES_THRESHOLD 100000
#define PB_CASHIER_URL_MAX 256

/* ---- payment service providers ---- */

typedef enum {
    PB_PSP_EVENT_UNKNOWN = 0, /* a type the cashier does not act on: acknowledged, ignored */
    PB_PSP_DEPOSIT_SUCCEEDED,
    PB_PSP_DEPOSIT_FAILED,
    PB_PSP_PAYOUT_PAID,
    PB_PSP_PAYOUT_FAILED,
} pb_psp_event_type;

/* A verified webhook event, normalised. */
typedef struct pb_psp_event {
    char event_id[PB_STORE_CASHIER_EVENT_MAX + 1];
    pb_psp_event_type type;
    char type_name[32];
    char reference[PB_STORE_CASHIER_REF_MAX + 1]; /* the payment's or payout's PSP reference */
} pb_psp_event;

/* Reads a request header by name (NULL when absent). */
typedef const char *(*pb_psp_header_fn)(void *ctx, const char *name);

/* Hands a webhook (raw body and headers) to the cashier: the same entry point as
 * the HTTP route. Set by the cashier when a PSP is registered. */
typedef struct pb_cashier_webhook_result pb_cashier_webhook_result;

typedef struct pb_psp pb_psp;
struct pb_psp {
    char code[PB_STORE_CASHIER_PSP_MAX + 1];
    void *ctx;
    /* A deposit intent for payment p: the PSP's reference (no I/O for the sandbox). */
    pb_err (*deposit_create)(pb_psp *psp, const pb_store_payment *p,
                             char ref[PB_STORE_CASHIER_REF_MAX + 1]);
    /* Where the payer goes to pay (into url, cap bytes). */
    void (*checkout_url)(pb_psp *psp, const pb_store_payment *p, char *url, size_t cap);
    /* Sends the payout of an approved withdrawal: the PSP's reference. */
    pb_err (*payout_send)(pb_psp *psp, const pb_store_withdrawal *w,
                          char ref[PB_STORE_CASHIER_REF_MAX + 1]);
    /* Optional: called once the payout's reference is stored ("processing"); the
     * sandbox delivers its confirmation from here. c: the caller's connection. */
    void (*payout_sent)(pb_psp *psp, pb_store_conn *c, const pb_store_withdrawal *w);
    /* Verifies a webhook: SIGNATURE_INVALID, TIMESTAMP_STALE (now_s = wall clock, s),
     * or INVALID_REQUEST (a signed body that is not a well-formed event). */
    pb_err (*webhook_verify)(pb_psp *psp, const char *body, size_t len, pb_psp_header_fn header,
                             void *hctx, int64_t now_s, pb_psp_event *out);
    void (*free)(pb_psp *psp);
    /* set by the cashier */
    struct pb_cashier *cashier;
};

/* The built-in sandbox PSP (psp_sandbox.c). Its webhook secret is the text of
 * keys_dir/sandbox-psp.secret (64 hex digits, created with mode 0600 on first
 * start). NULL with a reason in err. */
pb_psp *pb_psp_sandbox_new(const char *keys_dir, char *err, size_t errcap);
/* Sandbox: signs body with secret the way the sandbox PSP does, into header
 * (the X-Sandbox-Signature value, cap ≥ 96) for timestamp t (unix seconds). */
void pb_psp_sandbox_sign(const char *secret, const char *body, size_t len, int64_t t,
                         char *header, size_t cap);
/* Sandbox: builds a deposit.succeeded (succeeded) or deposit.failed event for
 * the PSP reference, signs it and delivers it through pb_cashier_webhook(). */
pb_err pb_psp_sandbox_deposit_event(pb_psp *psp, pb_store_conn *c, const char *reference,
                                    bool succeeded, pb_cashier_webhook_result *out);

/* ---- the cashier ---- */

typedef struct pb_cashier pb_cashier;

/* Opens the cashier over the wallet; sandbox: register the sandbox PSP (its
 * secret in keys_dir). NULL with a reason in err. */
pb_cashier *pb_cashier_open(pb_wallet *w, const char *keys_dir, bool sandbox, char *err,
                            size_t errcap);
void pb_cashier_close(pb_cashier *k);
/* A registered PSP by code, or NULL. */
pb_psp *pb_cashier_psp(pb_cashier *k, const char *code);

/* Who acts (for the audit log): kind "player" | "staff" | "system". */
typedef struct pb_cashier_actor {
    const char *kind;
    const char *id;
    const char *role; /* staff */
    const char *trace_id;
    const char *ip;
} pb_cashier_actor;

/* The player a deposit or withdrawal is for. */
typedef struct pb_cashier_player {
    int64_t brand_id;
    const char *brand;    /* brand code */
    const char *player;   /* public id */
    const char *currency; /* the player's */
} pb_cashier_player;

/* A deposit intent of amount (minor units, > 0) with the PSP of the brand (the
 * sandbox). The same key again answers the original payment (*replayed);
 * another amount under it is IDEMPOTENCY_CONFLICT. Also PLAYER_BLOCKED,
 * PLAYER_SELF_EXCLUDED, PSP_NOT_FOUND (no PSP). url: the checkout URL. */
pb_err pb_cashier_deposit_create(pb_cashier *k, pb_store_conn *c, const pb_cashier_player *pl,
                                 int64_t amount, const char *key, const pb_cashier_actor *a,
                                 pb_store_payment *out, char url[PB_CASHIER_URL_MAX],
                                 bool *replayed);
/* The player's payment by id: PAYMENT_NOT_FOUND when it is not theirs. */
pb_err pb_cashier_deposit_get(pb_store_conn *c, const char *player, const char *id,
                              pb_store_payment *out);

struct pb_cashier_webhook_result {
    const char *outcome; /* "applied" | "ignored" | "duplicate" */
    pb_psp_event event;
};

/* A webhook of PSP psp_code: verify, then apply as one ledger command. PB_OK
 * (see out->outcome), PSP_NOT_FOUND, SIGNATURE_INVALID, TIMESTAMP_STALE,
 * INVALID_REQUEST, PAYMENT_NOT_FOUND / WITHDRAWAL_NOT_FOUND (unknown reference:
 * nothing recorded, so a retry after the payment exists works). */
pb_err pb_cashier_webhook(pb_cashier *k, pb_store_conn *c, const char *psp_code,
                          const char *body, size_t len, pb_psp_header_fn header, void *hctx,
                          pb_cashier_webhook_result *out);

/* A withdrawal request: gate, amount ≤ withdrawable (INSUFFICIENT_FUNDS), the
 * hold and the row; idempotent by key like deposits. */
pb_err pb_cashier_withdrawal_request(pb_cashier *k, pb_store_conn *c,
                                     const pb_cashier_player *pl, int64_t amount,
                                     const char *key, const pb_cashier_actor *a,
                                     pb_store_withdrawal *out, bool *replayed);
/* The player cancels their withdrawal (WITHDRAWAL_NOT_FOUND, WITHDRAWAL_STATE). */
pb_err pb_cashier_withdrawal_cancel(pb_cashier *k, const char *player, const char *id,
                                    const pb_cashier_actor *a, pb_store_withdrawal *out);
/* Finance rejects a withdrawal waiting for approval, with a reason. */
pb_err pb_cashier_withdrawal_reject(pb_cashier *k, const char *id, const char *reason,
                                    const pb_cashier_actor *a, pb_store_withdrawal *out);
/* Finance approves (WITHDRAWAL_STATE, FOUR_EYES_VIOLATION). When it was the last
 * approval needed, the payout is sent (and, with the sandbox, confirmed) before
 * this returns; out is the withdrawal as it is then. */
pb_err pb_cashier_withdrawal_approve(pb_cashier *k, pb_store_conn *c, const char *id,
                                     const pb_cashier_actor *a, pb_store_withdrawal *out);

#endif
