/*
 * sim_client.h — what the simulator and the wallet benchmark say to a running
 * pitboss (internal to src/sim/):
 *
 *   - the native seamless wallet protocol as a PROVIDER speaks it: requests
 *     signed with HMAC-SHA256(secret, "<timestamp>.<body>") in
 *     X-Pitboss-Timestamp / X-Pitboss-Signature, responses checked against
 *     HMAC-SHA256(secret, body). OpenSSL computes the MACs here, libsodium on
 *     the server, so the two sides do not share a bug;
 *   - the player API as a PLAYER uses it: register, log in, deposit through
 *     the cashier's sandbox PSP, launch a game (its launch token is what the
 *     provider then presents), read the wallet.
 */
#ifndef PB_SIM_CLIENT_H
#define PB_SIM_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim_http.h"

#define PB_SIM_SECRET_MAX 64
#define PB_SIM_SIG_BUF 72 /* "sha256=" + 64 hex + NUL */

/* A provider as the simulator plays it. */
typedef struct pb_sim_provider {
    char code[33];
    uint8_t secret[PB_SIM_SECRET_MAX];
    size_t secret_len;
} pb_sim_provider;

/* Decodes a hex secret (1..64 bytes; surrounding whitespace ignored). 0 or -1. */
int pb_sim_secret_from_hex(const char *hex, uint8_t *out, size_t cap, size_t *n);
/* Reads a secret file: its text is the secret in hex (as `make run` writes
 * var/keys/demo-studio.secret). 0, or -1 with a reason in err. */
int pb_sim_secret_from_file(const char *path, uint8_t *out, size_t cap, size_t *n, char *err,
                            size_t errcap);

/* "sha256=<hex HMAC-SHA256(secret, [timestamp "."] body)>" into out. */
void pb_sim_sign(const pb_sim_provider *p, const char *timestamp, const char *body, size_t len,
                 char out[PB_SIM_SIG_BUF]);
/* True when the response carries X-Pitboss-Signature = the HMAC of its body. */
bool pb_sim_response_signed(const pb_sim_provider *p, const pb_sim_resp *r);

/* Sends one signed native call (path "bet", "round/close", ...) stamped now. */
int pb_sim_native_send(pb_sim_conn *c, const pb_sim_provider *p, const char *call, const char *body,
                       size_t len);
/* send + recv (see pb_sim_conn_request for the idle-connection resend). */
int pb_sim_native_call(pb_sim_conn *c, const pb_sim_provider *p, const char *call, const char *body,
                       size_t len, int timeout_ms, pb_sim_resp *out);

/* The error code of an error envelope ({"error":{"code":...}}) into code, or "" . */
void pb_sim_error_code(const pb_sim_resp *r, char *code, size_t cap);
/* The body parsed as a JSON object, or NULL. The caller json_decref()s it. */
json_t *pb_sim_json(const pb_sim_resp *r);

/* ---- the player API ---- */

/* One player's credentials and what the API gave them. */
typedef struct pb_sim_player_auth {
    char brand[33];
    char email[128];
    char password[64];
    char public_id[48];
    char currency[8];
    char access_token[2048];
    char launch_token[160];
} pb_sim_player_auth;

/* What went wrong in a player API call: the HTTP status (0 = transport) and the
 * error code, for the caller's message. */
typedef struct pb_sim_api_error {
    int status;
    char code[64];
    char detail[256];
} pb_sim_api_error;

/* When register is true, POST /v1/player/register (a 409 EMAIL_TAKEN is fine:
 * the player is then only logged in); then POST /v1/player/login. Fills
 * public_id, currency and access_token. 0 or -1. */
int pb_sim_player_enter(pb_sim_conn *c, pb_sim_player_auth *a, bool register_first,
                        const char *country, pb_sim_api_error *e);
/* A deposit of `amount` (a decimal string) through the cashier and its sandbox
 * PSP, as a newcomer makes one: POST /v1/player/deposits (idempotency key `key`),
 * then the sandbox's payment page (POST its redirect_url: the payer paid, the
 * PSP's signed webhook credits the wallet), then GET /v1/player/deposits/{id}
 * until it is completed. 0 or -1. */
int pb_sim_player_deposit(pb_sim_conn *c, pb_sim_player_auth *a, const char *amount,
                          const char *key, pb_sim_api_error *e);
/* POST /v1/player/games/{provider}/{game}/launch → launch_token. 0 or -1. */
int pb_sim_player_launch(pb_sim_conn *c, pb_sim_player_auth *a, const char *provider,
                         const char *game, pb_sim_api_error *e);
/* GET /v1/player/wallet: total (what can be staked: cash - held + bonus) and cash,
 * in minor units of the player's currency. 0 or -1. */
int pb_sim_player_wallet(pb_sim_conn *c, const pb_sim_player_auth *a, int64_t *total, int64_t *cash,
                         pb_sim_api_error *e);

#endif
