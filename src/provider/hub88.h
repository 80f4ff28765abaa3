/*
 * hub88.h — the Hub88-compatible operator wallet ("seamless wallet") protocol,
 * the part that needs neither HTTP nor the store: RSA-SHA256 request
 * signatures, strict parsing of the five request bodies, the exact conversion
 * between Hub88 amounts and the currency's minor units, the request → wallet
 * operation mapping, and the rendering of every response body.
 *
 * The wire contract (public reference: docs.hub88.io, Developer Docs →
 * Operator API Reference → Wallet API, and "Seamless Wallet response statuses
 * - Operator API"; what is taken from there and what is our own decision is
 * listed at the top of hub88.c):
 *
 *   POST <callback base>/user/info | /user/balance | /transaction/bet |
 *        /transaction/win | /transaction/rollback
 *   X-Hub88-Signature: base64(RSA-SHA256(Hub88's private key, raw body))
 *   answers: HTTP 200 with {"user","status","request_uuid","currency","balance"}
 *   (status RS_OK or RS_ERROR_*), amounts as integers in 1/100000 of the
 *   currency's unit.
 *
 * src/api/provider_hub88.c is the HTTP side: provider lookup and key cache,
 * token resolution, catalog checks, the wallet submission, the reply. The
 * wallet core (wallet.h) holds every rule about money; this adapter only
 * translates, exactly as the native adapter (native.h) does for its protocol.
 */
#ifndef PB_PROVIDER_HUB88_H
#define PB_PROVIDER_HUB88_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/money.h"
#include "http/http.h"
#include "wallet/wallet.h"

#define PB_HUB88_HEADER_SIGNATURE "X-Hub88-Signature"
/* Hub88 amounts are integers in 1/PB_HUB88_AMOUNT_SCALE of the currency's unit. */
#define PB_HUB88_AMOUNT_SCALE 100000
#define PB_HUB88_AMOUNT_DIGITS 5
/* Longest request_uuid accepted (1..64 of [A-Za-z0-9-]; Hub88 sends UUIDs). */
#define PB_HUB88_REQUEST_UUID_MAX 64
/* Longest launch token accepted on the wire (Hub88: at most 255). */
#define PB_HUB88_TOKEN_MAX 255
/* Longest "user" accepted (ours are public ids, 36 characters). */
#define PB_HUB88_USER_MAX 64
/* Smallest RSA key accepted to verify requests. */
#define PB_HUB88_RSA_MIN_BITS 2048

/* The five calls, POST <base>/<path>. */
typedef enum {
    PB_HUB88_USER_INFO = 0, /* "user/info" */
    PB_HUB88_USER_BALANCE,  /* "user/balance" */
    PB_HUB88_BET,           /* "transaction/bet" */
    PB_HUB88_WIN,           /* "transaction/win" */
    PB_HUB88_ROLLBACK,      /* "transaction/rollback" */
} pb_hub88_call;

/* The call's path below the callback base ("transaction/bet"). */
const char *pb_hub88_call_path(pb_hub88_call call);
/* True for the calls that need a live (not expired) launch token: balance and
 * bet. Wins and rollbacks are accepted with an expired token (Hub88: "token
 * validity must not be validated in case of wins and rollbacks"). */
bool pb_hub88_call_needs_live_token(pb_hub88_call call);

/* ---- statuses ---- */

#define PB_HUB88_STATUSES(X)               \
    X(RS_OK)                               \
    X(RS_ERROR_UNKNOWN)                    \
    X(RS_ERROR_INVALID_PARTNER)            \
    X(RS_ERROR_INVALID_TOKEN)              \
    X(RS_ERROR_INVALID_GAME)               \
    X(RS_ERROR_WRONG_CURRENCY)             \
    X(RS_ERROR_NOT_ENOUGH_MONEY)           \
    X(RS_ERROR_USER_DISABLED)              \
    X(RS_ERROR_INVALID_SIGNATURE)          \
    X(RS_ERROR_TOKEN_EXPIRED)              \
    X(RS_ERROR_WRONG_SYNTAX)               \
    X(RS_ERROR_WRONG_TYPES)                \
    X(RS_ERROR_DUPLICATE_TRANSACTION)      \
    X(RS_ERROR_TRANSACTION_DOES_NOT_EXIST) \
    X(RS_ERROR_TRANSACTION_ROLLED_BACK)    \
    X(RS_ERROR_LIMIT_REACHED)

typedef enum {
#define PB_HUB88_ENUM(name) PB_HUB88_##name,
    PB_HUB88_STATUSES(PB_HUB88_ENUM)
#undef PB_HUB88_ENUM
        PB_HUB88_STATUS_COUNT_
} pb_hub88_status;

/* "RS_OK", "RS_ERROR_NOT_ENOUGH_MONEY", ... ("RS_ERROR_UNKNOWN" when out of range). */
const char *pb_hub88_status_name(pb_hub88_status s);

/*
 * The Hub88 status for a pitboss result (the whole mapping lives here):
 * OK → RS_OK; SIGNATURE_INVALID → INVALID_SIGNATURE; TOKEN_INVALID →
 * INVALID_TOKEN; TOKEN_EXPIRED → TOKEN_EXPIRED; CURRENCY_MISMATCH,
 * CURRENCY_UNKNOWN, CURRENCY_NOT_ALLOWED → WRONG_CURRENCY; GAME_NOT_FOUND,
 * GAME_DISABLED, GAME_MISMATCH → INVALID_GAME; PROVIDER_DISABLED → INVALID_PARTNER;
 * INSUFFICIENT_FUNDS → NOT_ENOUGH_MONEY; PLAYER_BLOCKED, PLAYER_SELF_EXCLUDED
 * → USER_DISABLED; IDEMPOTENCY_CONFLICT → DUPLICATE_TRANSACTION; BET_NOT_FOUND
 * → TRANSACTION_DOES_NOT_EXIST; TRANSACTION_ROLLED_BACK → TRANSACTION_ROLLED_BACK;
 * BET_LIMIT → LIMIT_REACHED; FIELD_INVALID, AMOUNT_INVALID → WRONG_TYPES; the
 * other request errors (INVALID_JSON, INVALID_UTF8, INVALID_REQUEST,
 * UNKNOWN_FIELD, FIELD_MISSING, UNSUPPORTED_MEDIA_TYPE) → WRONG_SYNTAX;
 * anything else (ROUND_HAS_WIN, ROUND_CLOSED, ROUND_MISMATCH, PLAYER_NOT_FOUND,
 * INTERNAL, ...) → RS_ERROR_UNKNOWN.
 */
pb_hub88_status pb_hub88_status_for(pb_err e);

/* ---- signatures ---- */

/* Hub88's RSA public key, parsed once (refcounted: cheap to share between
 * threads; verification does not modify it). */
typedef struct pb_hub88_key pb_hub88_key;

/* Parses a PEM public key ("BEGIN PUBLIC KEY" SubjectPublicKeyInfo or "BEGIN
 * RSA PUBLIC KEY"): FIELD_INVALID unless it is an RSA key of at least
 * PB_HUB88_RSA_MIN_BITS bits. INTERNAL on OOM. */
pb_err pb_hub88_key_load(const char *pem, size_t len, pb_hub88_key **out);
/* Another reference to the same key. */
pb_hub88_key *pb_hub88_key_ref(pb_hub88_key *k);
/* Drops a reference (NULL is fine). */
void pb_hub88_key_unref(pb_hub88_key *k);

/*
 * Checks X-Hub88-Signature against the raw body: the header must be strict
 * base64 (standard alphabet, padded, no whitespace) of exactly the key's
 * modulus size, and an RSASSA-PKCS1-v1_5 signature with SHA-256 over the body
 * bytes as received. SIGNATURE_INVALID when the header is missing or anything
 * fails; PB_OK otherwise. Nothing in the body is read beyond hashing it.
 */
pb_err pb_hub88_verify(const pb_hub88_key *key, const char *signature_header, const char *body,
                       size_t body_len);

/* ---- amounts ---- */

/*
 * A Hub88 amount (1/100000 units) → minor units of cur, exactly:
 * exponent e <= 5: minor = amount / 10^(5-e), refused (AMOUNT_INVALID) unless
 * the division is exact (EUR: 1000 per cent; JPY: 100000 per yen); e > 5:
 * minor = amount * 10^(e-5) (BTC: 1 → 1000 satoshi), AMOUNT_INVALID on
 * overflow. Negative amounts: AMOUNT_INVALID.
 */
pb_err pb_hub88_amount_to_minor(int64_t amount, const pb_currency *cur, int64_t *minor);
/*
 * Minor units → a Hub88 amount, for balances: e <= 5 multiplies (saturating at
 * INT64_MAX / INT64_MIN), e > 5 divides rounding toward zero — never more than
 * the player has (BTC: 1999 satoshi → 1). Exact for every e <= 5.
 */
int64_t pb_hub88_amount_from_minor(int64_t minor, const pb_currency *cur);

/* ---- requests ---- */

/* A parsed request. The string pointers point into doc (freed by
 * pb_hub88_request_free); absent fields are NULL / 0 / false. */
typedef struct pb_hub88_request {
    pb_hub88_call call;
    const char *user;
    const char *request_uuid;
    const char *token;                      /* balance, bet, win, rollback */
    const char *transaction_uuid;           /* bet, win, rollback */
    const char *reference_transaction_uuid; /* win, rollback: the bet */
    const char *round;                      /* bet, win, rollback */
    const char *game_code;                  /* balance (optional), bet, win, rollback */
    const char *currency;                   /* bet, win */
    const pb_currency *cur;                 /* the currency, when supported */
    int64_t amount;                         /* bet, win: Hub88 units as sent */
    int64_t amount_minor;                   /* ... in minor units of cur (exact) */
    bool round_closed;                      /* absent = false */
    bool is_free;                           /* a free bet (a Hub88 reward): not supported */
    bool is_supplier_promo; /* bet, win: a supplier's promotion (a free bet): not supported */
    json_t *doc;
} pb_hub88_request;

/*
 * Parses a request body of `call` strictly (content_type as in pb_json_parse;
 * NULL skips the check). Accepted fields are the ones Hub88 documents for the
 * call; the ones pitboss uses are required and checked, the others are
 * type-checked and ignored. Refused, and nothing to free:
 *   INVALID_JSON / INVALID_UTF8 / INVALID_REQUEST / UNKNOWN_FIELD /
 *   FIELD_MISSING / UNSUPPORTED_MEDIA_TYPE — the request's form (WRONG_SYNTAX);
 *   FIELD_INVALID — a wrong type, or an id that is not 1..max printable ASCII,
 *   a request_uuid not 1..64 of [A-Za-z0-9-] (WRONG_TYPES);
 *   CURRENCY_UNKNOWN — a currency pitboss does not support (WRONG_CURRENCY);
 *   AMOUNT_INVALID — a negative amount, a bet of 0 (unless is_free or
 *   is_supplier_promo: a free bet, refused by the HTTP side), or an amount that is not a
 *   whole number of the currency's minor units (WRONG_TYPES).
 * err names the code, the field and a message.
 */
pb_err pb_hub88_parse(pb_hub88_call call, const char *body, size_t len, const char *content_type,
                      pb_hub88_request *out, pb_json_error *err);
void pb_hub88_request_free(pb_hub88_request *r);

/*
 * The request_uuid of a body that was not (or could not be) parsed — e.g. one
 * whose signature failed — so that even that answer echoes it: copied to out
 * when the body is a JSON object whose "request_uuid" is 1..64 of
 * [A-Za-z0-9-]; else out = "".
 */
void pb_hub88_peek_request_uuid(const char *body, size_t len,
                                char out[PB_HUB88_REQUEST_UUID_MAX + 1]);

/* Who a launch token stands for (from the catalog's launch). */
typedef struct pb_hub88_player {
    const char *brand;
    const char *player; /* public id */
    const char *currency;
} pb_hub88_player;

/*
 * Fills a wallet operation from a parsed bet / win / rollback: kind,
 * transaction_uuid → tx_id, round → round_id (the player's round of that id:
 * rounds are per player, and Hub88 gives every player at a live table the same
 * round), reference_transaction_uuid →
 * bet_tx_id, game_code → game, brand, player, currency (the player's),
 * currency → request_currency (the request's, "" for a rollback: part of its
 * identity, so a retry in another currency is another request), amount (minor
 * units; 0 for a rollback), round_closed → close_round (a rollback's too), token → the op's
 * token digest (pb_wallet_op_set_token), trace id, and
 * pb_hub88_render as renderer with render_ctx = r->request_uuid (which must
 * live until the operation is done). INVALID_REQUEST for user/info or
 * user/balance, or a value that does not fit the op.
 */
pb_err pb_hub88_to_op(const pb_hub88_request *r, const char *provider, const pb_hub88_player *who,
                      const char *trace_id, pb_wallet_op *op);

/* ---- responses (all HTTP 200 unless said otherwise) ---- */

/* What a player's balance is on the wire: cash - held + bonus (what can be
 * staked), in Hub88 units. */
int64_t pb_hub88_balance(int64_t cash, int64_t held, int64_t bonus, const pb_currency *cur);

/*
 * A response {"user"?,"status","request_uuid"?,"currency"?,"balance"?} in this
 * key order, no spaces: user omitted when NULL, request_uuid when NULL or "",
 * currency and balance when cur is NULL (balance is in Hub88 units already).
 * http_status: 200 for every protocol answer. Returns 0, or -1 on OOM.
 */
int pb_hub88_render_status(int http_status, pb_hub88_status status, const char *user,
                           const char *request_uuid, const pb_currency *cur, int64_t balance,
                           pb_wallet_response *out);

/* user/info: {"user","status":"RS_OK","request_uuid","country"?,"sub_partner_id"?}
 * (country: the player's ISO 3166-1 code, omitted when empty; sub_partner_id:
 * the player's brand code, Hub88's name for a site of the operator). Returns 0,
 * or -1 on OOM. */
int pb_hub88_render_info(const char *user, const char *request_uuid, const char *country,
                         const char *sub_partner_id, pb_wallet_response *out);

/*
 * The wallet's render callback (pb_wallet_render_fn; ctx = the request_uuid):
 * {"user","status","request_uuid","currency","balance"} with the status of
 * o->result and the player's balance after the operation (for a refusal: now).
 * A rollback of a transaction never seen is RS_OK (it is recorded, so the bet
 * arriving later is refused). Pure: no I/O, no store. Returns 0, or -1 on OOM.
 */
int pb_hub88_render(void *ctx, const pb_wallet_op *op, const pb_wallet_outcome *o,
                    pb_wallet_response *out);

/*
 * The answer to a wallet operation once it is done (op->result set): the
 * stored response of the original for a duplicate, with its request_uuid
 * replaced by this request's (Hub88 wants its own request_uuid echoed; every
 * other byte is the original's); the rendered response when there is one; else
 * a response rendered now from op->result and op->outcome (refusals the
 * wallet does not store: they carry the balance when the wallet read it).
 * INTERNAL / STORE_UNAVAILABLE (nothing happened) → HTTP 500 / 503 with
 * RS_ERROR_UNKNOWN, so that Hub88 treats it as a failed call and retries or
 * rolls back. Returns 0, or -1 on OOM.
 */
int pb_hub88_answer(const pb_wallet_op *op, const char *request_uuid, pb_wallet_response *out);

/* Replaces the value of the first "request_uuid" key of a body rendered by this
 * file. 0, or -1 on OOM or when the body has no such key (out untouched). */
int pb_hub88_with_request_uuid(const char *body, size_t len, const char *request_uuid,
                               pb_wallet_response *out);

#endif
