/*
 * native.h — the pitboss native seamless wallet protocol (v1), the part that
 * needs neither HTTP nor the store: request signatures, strict parsing of the
 * request bodies, the mapping of a request onto a wallet operation, and the
 * rendering of every response body (success, refusal with the player's
 * balance, the standard error envelope) and of the response signature.
 *
 * The wire contract, for a studio's engineers, is docs/native-protocol.md (the
 * OpenAPI document, docs/openapi.yaml, has every call's shapes):
 *   X-Pitboss-Timestamp: <unix seconds>
 *   X-Pitboss-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 * on every request, and X-Pitboss-Signature: sha256=<hex HMAC-SHA256(secret,
 * raw response body)> on every response of a known provider.
 *
 * src/api/provider_native.c is the HTTP side: provider lookup, token
 * resolution, catalog checks, the wallet submission, the reply. Everything it
 * decides about the protocol's shape lives here, so it can be tested without
 * a server.
 */
#ifndef PB_PROVIDER_NATIVE_H
#define PB_PROVIDER_NATIVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/money.h"
#include "http/http.h"
#include "wallet/wallet.h"

#define PB_NATIVE_HEADER_SIGNATURE "X-Pitboss-Signature"
#define PB_NATIVE_HEADER_TIMESTAMP "X-Pitboss-Timestamp"
/* "sha256=" + 64 lower-case hex digits + NUL */
#define PB_NATIVE_SIGNATURE_BUF 72
/* The accepted clock skew when the provider sets none. */
#define PB_NATIVE_DEFAULT_WINDOW_S 300
/* Longest launch token accepted on the wire (longer: FIELD_INVALID). */
#define PB_NATIVE_TOKEN_MAX 128

/* The six calls of the protocol, POST /v1/providers/{provider}/<path>. */
typedef enum {
    PB_NATIVE_SESSION = 0, /* "session" */
    PB_NATIVE_BALANCE,     /* "balance" */
    PB_NATIVE_BET,         /* "bet" */
    PB_NATIVE_WIN,         /* "win" */
    PB_NATIVE_ROLLBACK,    /* "rollback" */
    PB_NATIVE_ROUND_CLOSE, /* "round/close": closes the player's round of that id (rounds
                              are per player: other players' rounds of it stay open) */
} pb_native_call;

/* The call's path below /v1/providers/{provider}/ ("round/close"). */
const char *pb_native_call_path(pb_native_call call);
/* True for the calls that need a live (not expired) launch token. */
bool pb_native_call_needs_live_token(pb_native_call call);

/* ---- signatures ---- */

/*
 * Signs a message with HMAC-SHA256(secret): the message is "<timestamp>.<body>"
 * when timestamp is not NULL (a request), else the body alone (a response).
 * Writes "sha256=<64 hex>" (NUL-terminated) to out.
 */
void pb_native_sign(const uint8_t *secret, size_t secret_len, const char *timestamp,
                    const char *body, size_t body_len, char out[PB_NATIVE_SIGNATURE_BUF]);

/*
 * Checks a request's signature headers against its raw body:
 *   SIGNATURE_INVALID: a header missing, a timestamp that is not 1..12 decimal
 *     digits, a signature that is not exactly "sha256=" + 64 lower-case hex, or
 *     a signature that does not match (compared in constant time);
 *   TIMESTAMP_STALE: a valid signature whose timestamp is more than window_s
 *     seconds away from now_s, in either direction (window_s <= 0: the default).
 * PB_OK otherwise. Nothing in the body is read beyond hashing it.
 */
pb_err pb_native_verify(const uint8_t *secret, size_t secret_len, int32_t window_s, int64_t now_s,
                        const char *timestamp_header, const char *signature_header,
                        const char *body, size_t body_len);

/* ---- requests ---- */

/* A parsed request. The string pointers point into doc (freed by
 * pb_native_request_free); absent fields are NULL / 0. */
typedef struct pb_native_request {
    pb_native_call call;
    const char *token;
    const char *transaction_id;
    const char *round_id;
    const char *bet_transaction_id;
    const char *game;
    const char *currency;
    const pb_currency *cur;
    int64_t amount;   /* minor units of cur (bet: > 0; win: >= 0) */
    bool close_round; /* the default when absent: bet false, win true, round close true */
    json_t *doc;
} pb_native_request;

/*
 * Parses a request body of `call` strictly (content_type as in pb_json_parse;
 * NULL skips the check): unknown fields (UNKNOWN_FIELD), missing ones
 * (FIELD_MISSING), wrong types, ids that are not 1..128 printable ASCII, a
 * game code that is not 1..64 printable ASCII, a token longer than
 * PB_NATIVE_TOKEN_MAX, an unsupported currency (FIELD_INVALID), an amount that
 * is not a strict decimal of the currency or out of range for the call
 * (AMOUNT_INVALID), and the generic errors of pb_json_parse. On failure err
 * names the code, the field and a message, and out holds nothing to free.
 */
pb_err pb_native_parse(pb_native_call call, const char *body, size_t len, const char *content_type,
                       pb_native_request *out, pb_json_error *err);
void pb_native_request_free(pb_native_request *r);

/* Who a launch token stands for (from the catalog's launch). */
typedef struct pb_native_player {
    const char *brand;
    const char *player; /* public id */
    const char *currency;
    const char *game; /* the launched game */
} pb_native_player;

/*
 * Fills a wallet operation from a parsed bet / win / rollback / round close:
 * kind, ids, game (the bet's; "" otherwise: a win's rows take its bet's),
 * brand, player, currency (the player's), request_currency (the request's, ""
 * for a round close: part of its identity, so a retry in another currency is
 * another request), amount, close_round, the token's digest
 * (pb_wallet_op_set_token), trace id, and pb_native_render as its
 * renderer. INVALID_REQUEST for session / balance or a value that does not fit
 * the op.
 */
pb_err pb_native_to_op(const pb_native_request *r, const char *provider,
                       const pb_native_player *who, const char *trace_id, pb_wallet_op *op);

/* ---- responses ---- */

/* A player's balances as the protocol shows them (balance = cash - held + bonus). */
typedef struct pb_native_balance {
    const char *currency;
    int64_t cash, bonus, held;
} pb_native_balance;

/*
 * The wallet's render callback (pb_wallet_render_fn; ctx unused): success →
 * 200 {"status":"OK","transaction_id","player_id","currency","balance","cash",
 * "bonus","cash_part","bonus_part","created_at"} (+ "bet_found":false for the
 * rollback of a bet never seen); a refusal → its status with the error
 * envelope and the balance (pb_native_render_error). Pure: no I/O, no store.
 * Returns 0, or -1 on OOM.
 */
int pb_native_render(void *ctx, const pb_wallet_op *op, const pb_wallet_outcome *o,
                     pb_wallet_response *out);

/*
 * The standard error envelope {"error":{"code","message","field"?,"trace_id"}}
 * with the code's HTTP status (message NULL = the registry's), followed, when
 * bal is not NULL, by "balance","cash","bonus","currency" at the top level.
 * Returns 0, or -1 on OOM.
 */
int pb_native_render_error(pb_err code, const char *field, const char *message,
                           const char *trace_id, const pb_native_balance *bal,
                           pb_wallet_response *out);

/* session / balance: 200 {"player_id","brand","currency","game","balance","cash","bonus"}.
 * Returns 0, or -1 on OOM. */
int pb_native_render_session(const pb_native_player *who, const pb_native_balance *bal,
                             pb_wallet_response *out);

#endif
