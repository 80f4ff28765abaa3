/*
 * identity_internal.h — what the files of src/identity/ share (private: API code
 * includes identity.h only). Unit tests include it to test the parts directly.
 */
#ifndef PB_IDENTITY_INTERNAL_H
#define PB_IDENTITY_INTERNAL_H

#include <sodium.h>

#include "identity/identity.h"

/* ---- password.c: argon2id (libsodium crypto_pwhash_str, PITBOSS_PWHASH_COST) */

#define PB_PASSWORD_MIN_CHARS 10
#define PB_PASSWORD_MAX_BYTES 256

/* PB_OK, or PASSWORD_WEAK: fewer than 10 characters, more than 256 bytes, not
 * UTF-8, control characters, all digits, fewer than 4 distinct characters, a
 * well-known password, or containing the email's local part (email may be NULL). */
pb_err pb_password_policy(const char *password, const char *email);
/* An argon2id string for password; INTERNAL when out of memory. */
pb_err pb_password_hash(const char *password, char out[PB_PASSWORD_HASH_MAX + 1]);
/* True when password matches hash (constant time in the password). */
bool pb_password_verify(const char *hash, const char *password);
/* True when hash is weaker than the cost in force, or not argon2id (rehash at
 * login); a stronger hash is kept. */
bool pb_password_needs_rehash(const char *hash);
/* Sets the cost of new hashes: "interactive" (the default), "moderate",
 * "sensitive", or "min" (libsodium's minimum, for test suites: logged as a
 * warning). FIELD_INVALID for another name. Without a call the environment's
 * PITBOSS_PWHASH_COST decides on first use (an unknown value is logged, and
 * interactive used). */
pb_err pb_password_set_cost(const char *name);
/* The name of the cost in force. */
const char *pb_password_cost(void);
/* A random one-time password: 4 groups of 5 unambiguous letters and digits. */
void pb_password_one_time(char out[PB_ONE_TIME_PASSWORD_MAX]);

/* ---- keys.c: the signing key set in the keys directory */

typedef struct pb_keyset pb_keyset;
#define PB_KID_MAX 31
#define PB_PUBLIC_PEM_MAX 512

/* Loads dir's key set, creating the directory (0700) and a first key when empty.
 * Keys verify until deactivated_at + max_token_ttl_us. NULL with err on failure. */
pb_keyset *pb_keyset_open(const char *dir, int64_t max_token_ttl_us, int64_t publish_us,
                          int64_t now, char *err, size_t errcap);
void pb_keyset_free(pb_keyset *ks);
/* See pb_identity_keys_rotate / pb_identity_keys_reload. */
pb_err pb_keyset_rotate(pb_keyset *ks, int64_t now, char kid_out[PB_KID_MAX + 1]);
pb_err pb_keyset_reload(pb_keyset *ks, int64_t now);
/* The key that signs at now (a reference: release it with pb_signer_free), and its
 * kid; NULL when none does (logged). */
typedef struct pb_signer pb_signer;
pb_signer *pb_keyset_signer(pb_keyset *ks, int64_t now, char kid[PB_KID_MAX + 1]);
/* ES256 signature (64 bytes, r || s as JWS wants) of data. */
pb_err pb_signer_sign(pb_signer *sg, const void *data, size_t len, uint8_t sig[64]);
void pb_signer_free(pb_signer *sg);
/* Verifies a JWS signature (ES256: 64 bytes r || s) over data with kid's key, if kid
 * names a key of the set that verifies at now AND whose algorithm is alg: PB_OK,
 * NOT_FOUND (no such key for that algorithm), TOKEN_INVALID (a bad signature).
 * Reloads the set from disk (at most every 5 s) before giving up on an unknown kid. */
pb_err pb_keyset_verify(pb_keyset *ks, const char *kid, const char *alg, int64_t now,
                        const void *data, size_t len, const uint8_t *sig, size_t siglen);
/* The public key (PEM) and algorithm of kid if it verifies at now, for publishing
 * (a JWKS document) and tests; NOT_FOUND otherwise.
 * Reloads the set from disk (at most every 5 s) before giving up on an unknown kid. */
pb_err pb_keyset_verifier(pb_keyset *ks, const char *kid, int64_t now, char pem[PB_PUBLIC_PEM_MAX],
                          size_t *pem_len, char alg[8]);
/* See pb_identity_public_keys. */
pb_err pb_keyset_public_keys(pb_keyset *ks, int64_t now, pb_public_jwk *out, size_t cap, size_t *n);
/* Reads (or creates, 0600) a 32-byte secret file in the keys directory. */
pb_err pb_keyset_secret(pb_keyset *ks, const char *name, uint8_t key[32], char *err, size_t errcap);

/* ---- jwt.c: access tokens */

typedef struct pb_jwt_claims {
    pb_subject_kind kind;
    char sub[PB_ID_STR_LEN + 1];       /* subject public id */
    char sid[PB_ID_STR_LEN + 1];       /* session public id */
    char brand[PB_BRAND_CODE_MAX + 1]; /* players */
    char role[PB_ROLE_NAME_MAX + 1];   /* staff */
    pb_session_scope scope;
    char jti[32];
    int64_t iat, nbf, exp; /* seconds since the epoch */
} pb_jwt_claims;

/* Signs claims (iat = nbf = now, exp = now + ttl_s, a fresh jti) into token. */
pb_err pb_jwt_sign(pb_keyset *ks, const char *issuer, const char *audience, pb_jwt_claims *cl,
                   int64_t ttl_s, int64_t now, char *token, size_t cap);
/* Verifies token: TOKEN_INVALID or TOKEN_EXPIRED, else the claims. */
pb_err pb_jwt_verify(pb_keyset *ks, const char *issuer, const char *audience, int64_t max_ttl_s,
                     const char *token, int64_t now, pb_jwt_claims *out);

/* ---- totp.c: RFC 4226 / RFC 6238 over liboath */

#define PB_TOTP_SEED_BYTES 20
#define PB_TOTP_STEP_S 30
#define PB_TOTP_DIGITS 6

/* HOTP value of counter (digits 6..8) into out (digits + 1 bytes). */
pb_err pb_hotp_code(const uint8_t *seed, size_t len, uint64_t counter, unsigned digits, char *out);
/* TOTP value at unix time t (T0 = 0, 30 s step). */
pb_err pb_totp_code(const uint8_t *seed, size_t len, int64_t t, unsigned digits, char *out);
/* Checks code at unix time t within ±1 step, refusing any step <= last_step:
 * PB_OK with *step, or TOTP_INVALID. */
pb_err pb_totp_check(const uint8_t *seed, size_t len, const char *code, int64_t t,
                     int64_t last_step, int64_t *step);
/* The otpauth:// URI of seed for account (an email) and issuer. */
pb_err pb_totp_uri(const uint8_t *seed, size_t len, const char *issuer, const char *account,
                   char *uri, size_t cap);
/* Verifies a staff member's code with their sealed seed: PB_OK with *step,
 * TOTP_INVALID, TOTP_NOT_ENROLLED. */
pb_err pb_totp_verify_staff(pb_identity *id, const pb_store_staff *s, const char *code, int64_t now,
                            int64_t *step);

/* ---- the context (identity.c) */

struct pb_identity {
    pb_identity_config cfg; /* with defaults filled in; strings point into this struct */
    char keys_dir[512];
    char issuer[64];
    char aud_player[80];
    char aud_staff[80];
    pb_keyset *keys;
    uint8_t totp_key[32];
    pb_ratelimit *rl_ip;
    pb_ratelimit *rl_account;
    char dummy_hash[PB_PASSWORD_HASH_MAX + 1]; /* verified against for unknown emails */
};

/* Maps a store result: OK, not_found for NOT_FOUND, STORE_UNAVAILABLE for BUSY,
 * INTERNAL (logged with `what`) for the rest. */
pb_err pb_id_store_err(pb_store_conn *c, pb_store_rc r, pb_err not_found, const char *what);

/* Runs fn in a write transaction of its own; commits when it returns PB_OK or sets
 * *keep (a failure whose writes must stay), rolls back otherwise. Retries a busy
 * database a few times. */
typedef pb_err (*pb_id_tx_fn)(pb_store_conn *c, void *ctx, bool *keep);
pb_err pb_id_tx(pb_store_conn *c, pb_id_tx_fn fn, void *ctx);

/* "player" / "staff". */
const char *pb_subject_kind_name(pb_subject_kind k);

/* ---- login.c: the password step both logins share */

/* Lower-cases a syntactically valid email into out; false when invalid. */
bool pb_email_normalize(const char *email, char out[PB_EMAIL_MAX + 1]);

/* One subject's login state, player or staff. */
typedef struct pb_login_subject {
    pb_subject_kind kind;
    bool found;
    pb_store_player player;   /* kind == PLAYER */
    pb_store_staff staff;     /* kind == STAFF */
    bool counted;             /* an attempt is counted in failed_logins and not settled yet */
    int64_t lock_set;         /* the account's locked_until that attempt set (0: none) */
    char addr[PB_IP_MAX + 1]; /* the client address the attempt counts under ('' unknown) */
    int64_t addr_failed;      /* that address's failures, as last read or written */
    int64_t addr_locked;      /* that address's locked_until */
    int64_t addr_lock_set;    /* the address lock that attempt set (0: none) */
} pb_login_subject;

/* Rate limits, finds the subject by email (brand_id for players), refuses a locked
 * account, counts the attempt (own transaction, login.c) and verifies the
 * password (against a dummy hash for an unknown email). A wrong password stays
 * counted and may have locked the account. PB_OK with s filled and the attempt
 * still counted (s->counted): the caller settles it — a session opened resets
 * the count, pb_login_counted_failure() for a later refusal that is a failure,
 * pb_login_uncount() for one that is not. CREDENTIALS_INVALID, ACCOUNT_LOCKED,
 * RATE_LIMITED with out->retry_after_us. */
pb_err pb_login_password(pb_identity *id, pb_store_conn *c, pb_subject_kind kind, int64_t brand_id,
                         const char *email, const char *password, const pb_client_info *client,
                         int64_t now, pb_login_subject *s, pb_auth_tokens *out);
/* How long the nth lock in a row (1, 2, ...) of a staff member lasts, in µs:
 * lockout_s doubled nth - 1 times, at most lockout_max_s. */
int64_t pb_login_lock_us(const pb_identity_config *cfg, int64_t nth);
/* The counted attempt of s failed (a wrong TOTP code after the right password):
 * it is already counted; ACCOUNT_LOCKED when it set a lock, else `otherwise`. */
pb_err pb_login_counted_failure(pb_identity *id, pb_login_subject *s, int64_t now, pb_err otherwise,
                                pb_auth_tokens *out);
/* A wrong second factor after the right password (own transaction): whoever sent
 * it knows the password, so lockout_threshold of them reach the account's global
 * threshold (login.c), keeping a distributed TOTP guess at the old 5-per-lock rate. ACCOUNT_LOCKED when that
 * locks the account, else `otherwise`. */
pb_err pb_login_second_factor_failure(pb_identity *id, pb_store_conn *c, pb_login_subject *s,
                                      int64_t now, pb_err otherwise, pb_auth_tokens *out);
/* The counted attempt of s is no failure but opens no session (own transaction):
 * it is given back. PB_OK when nothing was counted. */
pb_err pb_login_uncount(pb_identity *id, pb_store_conn *c, pb_login_subject *s, int64_t now);
/* Takes a token from the per-IP limiter for client (no IP: no limit). */
pb_err pb_login_limit_ip(pb_identity *id, const pb_client_info *client, int64_t now,
                         int64_t *retry_after_us);

/* ---- session.c: opening sessions and issuing tokens */

/* What a successful login writes, in its own transaction: reset the failure count
 * (and rehash the password / advance the TOTP step when asked), open a session and
 * issue its tokens into out. */
typedef struct pb_session_open {
    pb_login_subject *subject;
    const char *brand_code; /* players */
    pb_session_scope scope;
    const char *new_hash; /* non-NULL: store this rehashed password */
    int64_t totp_step;    /* > 0: advance the staff TOTP step to it (or TOTP_INVALID) */
} pb_session_open;
pb_err pb_session_open_tx(pb_identity *id, pb_store_conn *c, const pb_session_open *so,
                          const pb_client_info *client, int64_t now, pb_auth_tokens *out);
/* Signs an access token for a session (used by login and refresh). */
pb_err pb_session_access_token(pb_identity *id, const pb_store_session *s,
                               const char *subject_public_id, const char *brand_code,
                               const char *role, int64_t now, pb_auth_tokens *out);

/* ---- refresh.c: opaque refresh tokens */

/* A new token ("pbr_" + 43 base64url characters, 256 random bits) and its SHA-256. */
void pb_refresh_token_new(char token[PB_REFRESH_TOKEN_MAX], uint8_t hash[32]);
/* SHA-256 of a well-formed token; false for a malformed one. */
bool pb_refresh_token_hash(const char *token, uint8_t hash[32]);

/* ---- pii.c: players' date of birth and names sealed at rest */

/* True when stored has the sealed form ("e1:" + hex, at least 115 characters). */
bool pb_pii_is_sealed(const char *stored);
/* Seals value (a NUL-terminated date or name of at most PB_PLAYER_NAME_MAX
 * bytes) as public_id's field into out (cap bytes; out may be value): '' stays
 * '', and without a key the value is copied as given. false when it does not
 * fit. */
bool pb_pii_seal(const char *public_id, const char *field, const char *value, char *out,
                 size_t cap);
/* Opens stored (sealed, or clear from an older version) into out (cap bytes).
 * false, out = '', when a sealed value does not open (another key, another
 * player or field) or does not fit. */
bool pb_pii_open(const char *public_id, const char *field, const char *stored, char *out,
                 size_t cap);
/* The search's matcher (pb_store_name_match_fn): opens stored and compares its
 * start with prefix, ASCII letters without case; false when it does not open. */
bool pb_pii_name_match(void *ctx, const char *public_id, const char *field, const char *stored,
                       const char *prefix);

/* ---- staff.c */

/* The public view of a staff row, with its scope read from the store. */
pb_err pb_staff_view(pb_store_conn *c, const pb_store_staff *row, pb_staff *out);

#endif
