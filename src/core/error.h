/*
 * error.h — the one registry of pitboss error codes.
 *
 * Every failure that can reach a caller has a stable code here, with the HTTP
 * status an API reply uses for it. Domain functions return pb_err; PB_OK is 0.
 * Codes are part of the public contract: never renumber the strings, only add.
 */
#ifndef PB_CORE_ERROR_H
#define PB_CORE_ERROR_H

#include <stdbool.h>

/* X(name, http_status, message) */
#define PB_ERRORS(X)                                                                     \
    X(OK, 200, "ok")                                                                     \
    X(INTERNAL, 500, "internal error")                                                   \
    X(STORE_UNAVAILABLE, 503, "database unavailable")                                    \
    X(INVALID_REQUEST, 400, "request is malformed")                                      \
    X(AMOUNT_INVALID, 422, "amount is not a valid positive amount")                      \
    X(CURRENCY_UNKNOWN, 422, "currency is not supported")                                \
    X(CURRENCY_MISMATCH, 422, "currencies do not match")                                 \
    X(OVERFLOW, 422, "amount overflows")                                                 \
    X(IDEMPOTENCY_KEY_INVALID, 422, "idempotency key is missing or too long")            \
    X(IDEMPOTENCY_CONFLICT, 409, "idempotency key was used for a different request")     \
    X(ACCOUNT_NOT_FOUND, 404, "account not found")                                       \
    X(ACCOUNT_EXISTS, 409, "account already exists")                                     \
    X(ACCOUNTS_MUST_DIFFER, 422, "debit and credit account are the same")                \
    X(ACCOUNT_FLAGS_INVALID, 422, "account flags are invalid")                           \
    X(FLAGS_INVALID, 422, "transfer flags are invalid")                                  \
    X(INSUFFICIENT_FUNDS, 422, "insufficient funds")                                     \
    X(EXCEEDS_DEBITS, 422, "transfer would make credits exceed debits")                  \
    X(PENDING_NOT_FOUND, 404, "pending transfer not found")                              \
    X(PENDING_ALREADY_POSTED, 409, "pending transfer was already posted")                \
    X(PENDING_ALREADY_VOIDED, 409, "pending transfer was already voided")                \
    X(PENDING_EXPIRED, 409, "pending transfer has expired")                              \
    X(PENDING_MISMATCH, 422, "transfer does not match its pending transfer")             \
    X(POST_EXCEEDS_PENDING, 422, "post amount exceeds the pending amount")               \
    X(TIMEOUT_INVALID, 422, "timeout is only valid on a pending transfer")               \
    X(LINKED_EVENT_FAILED, 422, "a linked transfer in the chain failed")                 \
    X(LINKED_CHAIN_OPEN, 422, "the last transfer of a batch must close its chain")       \
    X(TRANSFER_NOT_FOUND, 404, "transfer not found")                                     \
    X(BATCH_TOO_LARGE, 413, "too many transfers in one request")                         \
    /* HTTP and API */                                                                   \
    X(NOT_FOUND, 404, "no such resource")                                                \
    X(METHOD_NOT_ALLOWED, 405, "method not allowed on this resource")                    \
    X(INVALID_JSON, 400, "body is not valid JSON")                                       \
    X(INVALID_UTF8, 400, "body is not valid UTF-8")                                      \
    X(UNKNOWN_FIELD, 400, "body has a field this endpoint does not accept")              \
    X(FIELD_INVALID, 422, "a field has a wrong type or value")                           \
    X(FIELD_MISSING, 422, "a required field is missing")                                 \
    X(PAYLOAD_TOO_LARGE, 413, "body too large")                                          \
    X(UNSUPPORTED_MEDIA_TYPE, 415, "body must be application/json")                      \
    X(RATE_LIMITED, 429, "too many requests")                                            \
    X(SHUTTING_DOWN, 503, "server is shutting down")                                     \
    /* identity and access */                                                            \
    X(UNAUTHENTICATED, 401, "authentication required")                                   \
    X(TOKEN_INVALID, 401, "token is invalid")                                            \
    X(TOKEN_EXPIRED, 401, "token has expired")                                           \
    X(REFRESH_REUSED, 401, "refresh token was already used; its family is revoked")      \
    X(SESSION_REVOKED, 401, "session was revoked")                                       \
    X(CREDENTIALS_INVALID, 401, "email or password is wrong")                            \
    X(CURRENT_PASSWORD_INVALID, 403, "the current password is wrong")                    \
    X(TOTP_REQUIRED, 401, "a TOTP code is required")                                     \
    X(TOTP_INVALID, 401, "TOTP code is wrong or was already used")                       \
    X(TOTP_NOT_ENROLLED, 409, "TOTP is not enrolled yet")                                \
    X(ACCOUNT_LOCKED, 423, "too many failed logins; try again later")                    \
    X(FORBIDDEN, 403, "not allowed")                                                     \
    X(BRAND_FORBIDDEN, 403, "outside your brand scope")                                  \
    X(EMAIL_TAKEN, 409, "email is already registered")                                   \
    X(AGE_RESTRICTED, 422, "player must be 18 or older")                                 \
    X(PASSWORD_WEAK, 422, "password does not meet the policy")                           \
    X(PLAYER_NOT_FOUND, 404, "player not found")                                         \
    X(PLAYER_BLOCKED, 403, "player is blocked")                                          \
    X(STAFF_NOT_FOUND, 404, "staff member not found")                                    \
    X(BRAND_NOT_FOUND, 404, "brand not found")                                           \
    X(BRAND_EXISTS, 409, "brand code already exists")                                    \
    X(CURRENCY_NOT_ALLOWED, 422, "currency is not allowed for this brand")               \
    X(COUNTRY_INVALID, 422, "country is not an ISO 3166-1 alpha-2 code")                 \
    X(ROLE_INVALID, 422, "unknown staff role")                                           \
    /* audit */                                                                          \
    X(AUDIT_KEY_MISSING, 500, "audit signing key is not configured")                     \
    /* wallet and provider games */                                                      \
    X(PLAYER_SELF_EXCLUDED, 403, "player is self-excluded")                              \
    X(BET_NOT_FOUND, 404, "referenced bet not found")                                    \
    X(TRANSACTION_ROLLED_BACK, 409, "transaction was rolled back")                       \
    X(ROUND_HAS_WIN, 409, "round already has a win; rollback refused")                   \
    X(ROUND_CLOSED, 409, "round is closed")                                              \
    X(ROUND_MISMATCH, 422, "bet belongs to another round or player")                     \
    X(SIGNATURE_INVALID, 401, "request signature is invalid")                            \
    X(TIMESTAMP_STALE, 401, "request timestamp is outside the accepted window")          \
    X(PROVIDER_NOT_FOUND, 404, "provider not found")                                     \
    X(PROVIDER_EXISTS, 409, "provider code already exists")                              \
    X(PROVIDER_DISABLED, 403, "provider is disabled")                                    \
    X(PROVIDER_IN_HOUSE, 422, "the in-house games' provider takes no keys")              \
    X(GAME_NOT_FOUND, 404, "game not found")                                             \
    X(GAME_EXISTS, 409, "game code already exists for this provider")                    \
    X(GAME_DISABLED, 403, "game is not enabled for this brand or jurisdiction")          \
    X(BET_LIMIT, 422, "bet is outside the game's limits")                                \
    X(GAME_MISMATCH, 422, "bet names a game other than the launched one")                \
    X(TRANSACTION_NOT_BET, 422, "referenced transaction is not a bet")                   \
    X(BET_REFUSED, 409, "referenced bet was refused: there is nothing to pay")           \
    /* cashier */                                                                        \
    X(PSP_NOT_FOUND, 404, "payment provider not found")                                  \
    X(PAYMENT_NOT_FOUND, 404, "payment not found")                                       \
    X(WITHDRAWAL_NOT_FOUND, 404, "withdrawal not found")                                 \
    X(WITHDRAWAL_STATE, 409, "withdrawal is not in a state that allows this")            \
    X(FOUR_EYES_VIOLATION, 403, "a different finance user must approve")                 \
    X(AMOUNT_OUT_OF_RANGE, 422, "amount is outside the allowed range")                   \
    X(ROUND_NOT_FOUND, 404, "round not found")                                           \
    X(ROUND_STATE, 409, "round is not in a state that allows this")                      \
    X(EVENT_STREAMS_FULL, 503, "too many event stream clients; retry later")             \
    X(EXPORTS_BUSY, 503, "too many exports are running; retry later")                    \
    X(PSP_UNAVAILABLE, 502, "the payment provider did not take the request")             \
    X(PLAYER_ERASED, 409, "the player's personal data was erased")                       \
    X(PLAYER_HAS_FUNDS, 409, "the player still has money or holds on an account")        \
    X(PLAYER_HAS_OPEN_PAYMENTS, 409, "the player has a deposit or withdrawal open")      \
    X(WITHDRAWAL_BUSY, 409, "the payout is being sent right now; retry")                 \
    X(PAYOUT_PENDING, 409, "the payment provider has not settled the payout")            \
    X(PAYOUT_STATUS_UNKNOWN, 409, "the PSP cannot say what became of the payout")        \
    X(LEDGER_REENTRANT, 500, "a blocking ledger call made on a ledger thread")           \
    X(STORE_CORRUPT, 500, "a stored ledger record is damaged")                           \
    X(PLAYER_HAS_OPEN_BETS, 409, "the player has provider bets not settled yet")         \
    X(PAYOUT_STATUS_KNOWN, 409, "the PSP can say what became of the payout")             \
    X(MANUAL_RESOLUTION_NOT_FOUND, 404, "no manual resolution waits here")               \
    X(MANUAL_RESOLUTION_EXISTS, 409, "a manual resolution is already stated")            \
    X(MANUAL_RESOLUTION_CONFLICT, 409, "the stated outcome was another one")             \
    X(PASSWORD_REUSED, 422, "the password was one of the last four used")                \
    X(WIN_REFUSED, 409, "the wallet refuses the round's win for good")                   \
    X(ADJUSTMENT_NOT_FOUND, 404, "adjustment request not found")                         \
    X(ADJUSTMENT_STATE, 409, "adjustment request is not pending")                        \
    X(PLAYER_HAS_PENDING_ADJUSTMENT, 409, "a staff adjustment awaits approval")          \
    X(RETENTION_PERIOD, 409, "the records must be kept until the retention period ends") \
    X(SETTLEMENT_NOT_FOUND, 404, "unclaimed-funds settlement request not found")         \
    X(SETTLEMENT_STATE, 409, "unclaimed-funds settlement request is not pending")        \
    X(RECONCILIATION_NOT_FOUND, 404, "reconciliation run not found")                     \
    X(SETTLEMENT_REPORT_INVALID, 422, "the PSP's settlement report cannot be read")      \
    X(SETTLEMENT_REPORT_UNSUPPORTED, 422, "the payment provider offers no such report")  \
    X(PAYMENT_STATE, 409, "payment is not in a state that allows this")                  \
    X(RECONCILIATION_NO_EVIDENCE, 422, "the reconciliation does not show the PSP settled it")

typedef enum {
#define PB_ERR_ENUM_(name, status, msg) PB_ERR_##name,
    PB_ERRORS(PB_ERR_ENUM_)
#undef PB_ERR_ENUM_
        PB_ERR_COUNT_
} pb_err;

#define PB_OK PB_ERR_OK

/* The stable code string, e.g. "INSUFFICIENT_FUNDS"; "INTERNAL" for out-of-range values. */
const char *pb_err_code(pb_err e);
/* A short human message for the code. */
const char *pb_err_message(pb_err e);
/* The HTTP status an API reply uses for this code. */
int pb_err_http_status(pb_err e);
/* Our own failure, not a decision on the request: nothing was done and none of
 * it may be remembered under an idempotency key (INTERNAL, STORE_UNAVAILABLE,
 * STORE_CORRUPT, LEDGER_REENTRANT): the caller may try again. */
bool pb_err_transient(pb_err e);
/* Looks a code string up; returns PB_ERR_COUNT_ when unknown. */
pb_err pb_err_from_code(const char *code);

#endif
