/*
 * identity.h — who is calling: players, staff, their sessions and tokens, and
 * what each staff role may do. The only door to identity; the API handlers call
 * nothing else of it.
 *
 * Players register in one brand (email unique per brand, age >= 18, a currency
 * the brand accepts) and log in with email + password. Staff log in with email
 * + password + TOTP (RFC 6238; mandatory), have one role, and see the brands of
 * their scope. A login opens a session (one per device) and returns:
 *  - an access token: a JWT (ES256, `kid`, typ "at+jwt") living 15 minutes for
 *    players and 5 for staff, checked by pb_identity_authenticate();
 *  - a refresh token: opaque, stored hashed, rotated on every use; presenting
 *    one that was already used revokes its whole family and the session.
 * Passwords are argon2id. Repeated failed logins lock the account for a while;
 * rate limits apply per client IP and per account.
 *
 * Transactions. Functions that hash or verify a password, or whose failure must
 * be remembered (a failed-login count, a revoked refresh family, a used TOTP
 * step), run their own short transactions and must be called with NO
 * transaction open on the connection: register, both logins, refresh, password
 * change, staff create and bootstrap. Password hashing (~100 ms) then never
 * holds the database's write lock. Every other function runs on the caller's
 * connection as is: reads see the caller's snapshot, and writes belong in the
 * caller's PB_STORE_WRITE transaction (so the API can add its audit row to the
 * same commit); each of them writes nothing when it fails.
 *
 * Time is always the caller's `now` (µs since the epoch, UTC), so tests control it.
 * Ownership: pb_identity_new() pairs with pb_identity_free(); every other
 * function writes into caller-provided structs and allocates nothing the caller
 * must free. Secrets (passwords, tokens, TOTP seeds and codes) are never logged.
 */
#ifndef PB_IDENTITY_IDENTITY_H
#define PB_IDENTITY_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/id.h"
#include "store/store.h"
#include "tenancy/tenancy.h"

/* ---- roles and permissions (rbac.c holds the one table) */

typedef enum {
    PB_ROLE_ADMIN = 0,
    PB_ROLE_SUPPORT,
    PB_ROLE_FINANCE,
    PB_ROLE_RISK,
    PB_ROLE_COMPLIANCE,
    PB_ROLE_GAME_OPS,
    PB_ROLE_AUDITOR, /* read-only: *.read and audit.* */
    PB_ROLE_COUNT_
} pb_role;

/* X(enum suffix, name) — the fine-grained permissions an API route requires. */
#define PB_PERMISSIONS(X)                                         \
    X(PLAYERS_READ, "players.read")                               \
    X(PLAYERS_PII_READ, "players.pii.read")                       \
    X(PLAYERS_WRITE, "players.write")                             \
    X(PLAYERS_BLOCK, "players.block")                             \
    X(PLAYERS_SESSIONS_MANAGE, "players.sessions.manage")         \
    X(PLAYERS_LEDGER_READ, "players.ledger.read")                 \
    X(PLAYERS_EXPORT, "players.export")                           \
    X(PLAYERS_ERASE, "players.erase")                             \
    X(STAFF_READ, "staff.read")                                   \
    X(STAFF_MANAGE, "staff.manage")                               \
    X(BRANDS_READ, "brands.read")                                 \
    X(BRANDS_MANAGE, "brands.manage")                             \
    X(AUDIT_READ, "audit.read")                                   \
    X(AUDIT_EXPORT, "audit.export")                               \
    X(FINANCE_READ, "finance.read")                               \
    X(FINANCE_ADJUST, "finance.adjust")                           \
    X(FINANCE_WITHDRAWALS_APPROVE, "finance.withdrawals.approve") \
    X(RISK_READ, "risk.read")                                     \
    X(RISK_MANAGE, "risk.manage")                                 \
    X(COMPLIANCE_READ, "compliance.read")                         \
    X(COMPLIANCE_KYC_MANAGE, "compliance.kyc.manage")             \
    X(COMPLIANCE_RG_MANAGE, "compliance.rg.manage")               \
    X(GAMES_READ, "games.read")                                   \
    X(GAMES_MANAGE, "games.manage")                               \
    X(BONUS_READ, "bonus.read")                                   \
    X(BONUS_MANAGE, "bonus.manage")                               \
    X(REPORTS_READ, "reports.read")                               \
    X(REPORTS_EXPORT, "reports.export")

typedef enum {
#define PB_PERM_ENUM_(id, name) PB_PERM_##id,
    PB_PERMISSIONS(PB_PERM_ENUM_)
#undef PB_PERM_ENUM_
        PB_PERM_COUNT_
} pb_perm;

/* True when the role grants the permission. */
bool pb_rbac_allows(pb_role role, pb_perm perm);
/* "admin", "support", ...; "unknown" for out-of-range values. */
const char *pb_role_name(pb_role role);
/* ROLE_INVALID for an unknown name. */
pb_err pb_role_parse(const char *name, pb_role *out);
/* "players.read", ...; NULL for out-of-range values. */
const char *pb_perm_name(pb_perm perm);
/* FIELD_INVALID for an unknown name. */
pb_err pb_perm_parse(const char *name, pb_perm *out);
/* True for roles that may hold a global (all brands) scope: admin and auditor. */
bool pb_role_may_be_global(pb_role role);

/* ---- rate limiting (ratelimit.c): in-memory token buckets, thread-safe, bounded */

typedef struct pb_ratelimit pb_ratelimit;
/* `burst` requests at once, then one more every `interval_us`; at most max_keys
 * keys are tracked (the least recently limited are forgotten first). NULL on OOM. */
pb_ratelimit *pb_ratelimit_new(uint32_t burst, int64_t interval_us, size_t max_keys);
void pb_ratelimit_free(pb_ratelimit *rl);
/* Takes one token for key at now: PB_OK, or RATE_LIMITED with *retry_after_us
 * (may be NULL) set to the wait until the next token. */
pb_err pb_ratelimit_take(pb_ratelimit *rl, const char *key, int64_t now, int64_t *retry_after_us);
/* How many keys are tracked (for tests and metrics). */
size_t pb_ratelimit_size(pb_ratelimit *rl);

/* ---- the identity context */

typedef struct pb_identity_config {
    const char *keys_dir; /* signing keys and the TOTP sealing key; created (0700) if missing */
    const char *issuer;   /* JWT iss and the otpauth issuer; NULL = "pitboss" */
    int64_t player_access_ttl_s;   /* 0 = 900; at most 900 */
    int64_t staff_access_ttl_s;    /* 0 = 300; at most 900 */
    int64_t player_session_ttl_s;  /* absolute lifetime; 0 = 30 days */
    int64_t player_session_idle_s; /* ends without a refresh for this long; 0 = 7 days */
    int64_t staff_session_ttl_s;   /* 0 = 8 hours */
    int64_t staff_session_idle_s;  /* 0 = 30 minutes */
    int64_t setup_session_ttl_s;   /* staff that must enrol TOTP / change password; 0 = 15 min */
    int64_t key_publish_s; /* a rotated-in key verifies this long before it signs; default 0 */
    int lockout_threshold; /* consecutive failures that lock; 0 = 5 */
    int64_t lockout_s;     /* 0 = 15 minutes; a staff member's next locks double (login.c) */
    int64_t lockout_max_s; /* the longest staff lock; 0 = 24 hours (at least lockout_s) */
    /* lockout_threshold counts per (account, client address); this many failures
     * from all addresses together lock the account everywhere (login.c); 0 = 4 ×
     * lockout_threshold, at least lockout_threshold */
    int lockout_account_threshold;
    uint32_t ip_burst;           /* auth requests per client IP: burst (0 = 20) ... */
    int64_t ip_interval_ms;      /* ... then one per interval (0 = 3000) */
    uint32_t account_burst;      /* login attempts per account: burst (0 = 10) ... */
    int64_t account_interval_ms; /* ... then one per interval (0 = 30000) */
    size_t ratelimit_keys;       /* keys tracked per limiter; 0 = 100000 */
} pb_identity_config;

typedef struct pb_identity pb_identity;

/* Loads (or creates, on first start) the key set in cfg->keys_dir. NULL with a
 * reason in err on failure (unreadable keys, a key file readable by others, ...). */
pb_identity *pb_identity_new(const pb_identity_config *cfg, int64_t now, char *err, size_t errcap);
void pb_identity_free(pb_identity *id);
/* Adds a new signing key; the current one keeps signing until the new one is
 * published (cfg->key_publish_s), then only verifies until its last token expires,
 * then it is deleted. Writes the new kid (may be NULL; 32 bytes). */
pb_err pb_identity_keys_rotate(pb_identity *id, int64_t now, char kid_out[32]);
/* Re-reads the key set from disk (another instance rotated it). */
pb_err pb_identity_keys_reload(pb_identity *id, int64_t now);

/* A public key that verifies access tokens, as a JWK (RFC 7517/7518: kty "EC"). */
typedef struct pb_public_jwk {
    char kid[32];
    char alg[8];       /* "ES256" */
    char crv[8];       /* "P-256" */
    char x[48], y[48]; /* the point's coordinates, base64url without padding */
} pb_public_jwk;
/* The keys that verify at now (published, not yet retired), at most cap; *n
 * receives the count. For a JWKS endpoint: what a relying party may meet. */
pb_err pb_identity_public_keys(pb_identity *id, int64_t now, pb_public_jwk *out, size_t cap,
                               size_t *n);
/* A named 32-byte secret of the keys directory (read, or created 0600 on first
 * use), for the modules that seal data at rest with it (e.g. "fair.key"). */
pb_err pb_identity_secret(pb_identity *id, const char *name, uint8_t key[32], char *err,
                          size_t errcap);

/* ---- players' personal data at rest (pii.c) */

#define PB_IDENTITY_PII_KEY_FILE "pii.key"

/* Loads the keys directory's pii.key (created 0600 on first use) through id's
 * key set: from then on players' dates of birth and names are sealed when
 * written and opened when read (process-wide; serve calls it once at start,
 * before any request). Then, when s is not NULL, seals the values an older
 * version stored in the clear (batches of one write transaction each, logged
 * with the count); *sealed (may be NULL) receives how many players. 0, or -1
 * with the reason in err. */
int pb_identity_pii_open(pb_identity *id, pb_store *s, int64_t *sealed, char *err, size_t errcap);
/* Logs (error) that a request met `players` players whose stored date of birth
 * or name did not open (pb_player.pii_unavailable): once per request at most. */
void pb_identity_pii_log_unavailable(const char *trace_id, size_t players);

/* ---- sessions, tokens and principals */

typedef enum { PB_SUBJECT_PLAYER = 1, PB_SUBJECT_STAFF = 2 } pb_subject_kind;

/* full: the normal session; setup: staff who must first enrol TOTP and/or change
 * the one-time password — the API allows only those endpoints (and logout). */
typedef enum { PB_SCOPE_FULL = 0, PB_SCOPE_SETUP = 1 } pb_session_scope;

/* Where a request comes from; both may be NULL. */
typedef struct pb_client_info {
    const char *ip;
    const char *user_agent;
} pb_client_info;

/* The key a client address counts under in a per-address limit or lockout: an
 * IPv6 address by its /64 ("2001:db8:1:2::/64": one host usually holds a whole
 * /64, so a count per address would give it a fresh allowance per address), any
 * other address as it is; '' when ip is NULL, empty or "-" (the peer unknown).
 * The rule of the login lockout and the per-IP login bucket (login.c), shared
 * with the API's own per-address limits (api/player.c: registrations). */
void pb_identity_addr_key(const char *ip, char out[PB_IP_MAX + 1]);

#define PB_ACCESS_TOKEN_MAX 1024
#define PB_REFRESH_TOKEN_MAX 64

/* What a login or a refresh returns. */
typedef struct pb_auth_tokens {
    char access_token[PB_ACCESS_TOKEN_MAX];
    int64_t access_expires_at;
    char refresh_token[PB_REFRESH_TOKEN_MAX]; /* "" for a setup session */
    int64_t refresh_expires_at;
    char session_id[PB_ID_STR_LEN + 1];
    char subject_id[PB_ID_STR_LEN + 1]; /* the player's or staff member's public id */
    pb_session_scope scope;
    bool must_change_password;     /* staff: set the one-time password aside first */
    bool totp_enrollment_required; /* staff: enrol TOTP first */
    int64_t retry_after_us;        /* with RATE_LIMITED and ACCOUNT_LOCKED: when to try again */
} pb_auth_tokens;

/* An authenticated caller, as pb_identity_authenticate() finds it. */
typedef struct pb_principal {
    pb_subject_kind kind;
    int64_t subject_id; /* internal id (player.id / staff.id) */
    char subject_public_id[PB_ID_STR_LEN + 1];
    int64_t brand_id; /* the player's brand; 0 for staff */
    char brand_code[PB_BRAND_CODE_MAX + 1];
    pb_role role;         /* staff only */
    pb_brand_scope scope; /* staff: the brands they see; players: their own brand */
    pb_session_scope session_scope;
    int64_t session_id;
    char session_public_id[PB_ID_STR_LEN + 1];
    int64_t access_expires_at;
} pb_principal;

/* Verifies an access token for an audience (player or staff API) and its session:
 * TOKEN_INVALID (bad signature, alg, kid, typ, iss, aud, claims), TOKEN_EXPIRED,
 * SESSION_REVOKED (logged out, revoked, or the session ended), PLAYER_BLOCKED,
 * FORBIDDEN (staff disabled). Read-only. */
pb_err pb_identity_authenticate(pb_identity *id, pb_store_conn *c, pb_subject_kind audience,
                                const char *access_token, int64_t now, pb_principal *out);

/* Re-checks, on the caller's connection (inside its write transaction), that the
 * principal pb_identity_authenticate() found is still valid as the store is now:
 * its session neither revoked nor ended (SESSION_REVOKED), the staff member still
 * active (FORBIDDEN) with the same role (SESSION_REVOKED), the player still active
 * (PLAYER_BLOCKED). A write authorized from an earlier snapshot is then refused if
 * a change committed in between (a disable, a role change, a logout) took the
 * right away. Read-only. */
pb_err pb_identity_principal_check(pb_store_conn *c, const pb_principal *p, int64_t now);

/* pb_identity_principal_check() on a connection outside any transaction (the staff
 * event stream's periodic re-check): the session and the subject are read in one
 * read transaction, so they are judged on one snapshot, never on a session from
 * before a change and a subject from after it. A begin that fails is a failure
 * (STORE_UNAVAILABLE when the database is busy, INTERNAL otherwise): the caller
 * must treat any result but PB_OK as a refusal. Read-only. */
pb_err pb_identity_principal_recheck(pb_store_conn *c, const pb_principal *p, int64_t now);

/* Staff authorization: the principal is staff with a full session, its role grants
 * perm (FORBIDDEN), and brand_id (0: not brand-specific) is in its scope
 * (BRAND_FORBIDDEN). */
pb_err pb_identity_authorize(const pb_principal *p, pb_perm perm, int64_t brand_id);

/* Rotates a refresh token (own transaction): a new access token and a new refresh
 * token in the same family. TOKEN_INVALID (unknown, or not of this audience),
 * TOKEN_EXPIRED, SESSION_REVOKED, REFRESH_REUSED (the token was already used: the
 * family and the session are now revoked), PLAYER_BLOCKED, FORBIDDEN (staff
 * disabled). */
pb_err pb_identity_refresh(pb_identity *id, pb_store_conn *c, pb_subject_kind audience,
                           const char *refresh_token, const pb_client_info *client, int64_t now,
                           pb_auth_tokens *out);

/* Ends the caller's own session and its refresh tokens. */
pb_err pb_identity_logout(pb_store_conn *c, const pb_principal *p, int64_t now);

/* A device: one live session. */
typedef struct pb_session_info {
    char id[PB_ID_STR_LEN + 1];
    char user_agent[PB_USER_AGENT_MAX + 1];
    char ip[PB_IP_MAX + 1];
    int64_t created_at;
    int64_t last_seen_at;
    int64_t expires_at;
    bool current; /* the session of the principal asking */
} pb_session_info;

/* The principal's live sessions, newest first (at most cap, and at most 32). */
pb_err pb_identity_sessions_list(pb_store_conn *c, const pb_principal *p, int64_t now,
                                 pb_session_info *out, size_t cap, size_t *n);
/* Revokes one of the principal's own sessions by its public id (NOT_FOUND otherwise). */
pb_err pb_identity_session_revoke(pb_store_conn *c, const pb_principal *p, const char *session_id,
                                  int64_t now);
/* Revokes every session of a subject (e.g. support ending a player's sessions);
 * *n (may be NULL) receives how many. */
pb_err pb_identity_sessions_revoke_all(pb_store_conn *c, pb_subject_kind kind, int64_t subject_id,
                                       int64_t now, size_t *n);

/* Changes the principal's password (own transactions): CREDENTIALS_INVALID (wrong
 * old password; counts towards the lockout like a failed login from client's
 * address: per (account, address) and on the account's global count, login.c),
 * ACCOUNT_LOCKED (the account, or client's address for this account, is locked;
 * *retry_after_us, when not NULL, receives how long the lock has left, else 0),
 * PASSWORD_WEAK, PASSWORD_REUSED, RATE_LIMITED. client (may be NULL: counted as an
 * unknown address) is where the request comes from. Clears must_change_password and
 * revokes the subject's other sessions. in_tx (may be NULL) runs in the transaction
 * that stores the new password; its error undoes the change (the caller's audit
 * entry goes there). */
pb_err pb_identity_password_change(pb_identity *id, pb_store_conn *c, const pb_principal *p,
                                   const pb_client_info *client, const char *old_password,
                                   const char *new_password, int64_t now, int64_t *retry_after_us,
                                   pb_err (*in_tx)(pb_store_conn *c, void *ctx), void *in_tx_ctx);

/* The per-address login locks in force for a subject (login.c: failures count per
 * (account, client address)), at most PB_LOGIN_LOCKS_SHOWN, the latest-ending first:
 * the address as counted ('' unknown, an IPv6 address as its /64) and until when.
 * The account-wide lock is the subject's locked_until. Read-only (the caller's
 * transaction, if any). */
#define PB_LOGIN_LOCKS_SHOWN 8
pb_err pb_identity_login_locks(pb_store_conn *c, pb_subject_kind kind, int64_t subject_id,
                               int64_t now, pb_store_login_lock out[PB_LOGIN_LOCKS_SHOWN],
                               size_t *n);

/* What pb_identity_login_unlock cleared. */
typedef struct pb_login_unlock {
    size_t address_locks;         /* per-address locks that were in force */
    int64_t account_locked_until; /* the account-wide lock that was in force, else 0 */
    int64_t failed_logins;        /* the account's failure count before */
} pb_login_unlock;
/* A staff action ending a subject's login locks before they expire: the account's
 * failure count and lock (a staff member's escalation starts over) and every
 * per-address count are cleared, as a login that opens a session clears them
 * (login.c). In the caller's write transaction (its audit entry goes there).
 * OK, or the not_found error (PLAYER_NOT_FOUND / STAFF_NOT_FOUND) for an unknown
 * subject_id; *out says what was in force at `now`. */
pb_err pb_identity_login_unlock(pb_store_conn *c, pb_subject_kind kind, int64_t subject_id,
                                int64_t now, pb_login_unlock *out);

/* ---- players */

typedef enum {
    PB_PLAYER_ACTIVE = 0,
    PB_PLAYER_BLOCKED,
    PB_PLAYER_SELF_EXCLUDED,
    PB_PLAYER_CLOSED,
} pb_player_status;

/* "active", "blocked", "self_excluded", "closed". */
const char *pb_player_status_name(pb_player_status s);
/* FIELD_INVALID for an unknown name. */
pb_err pb_player_status_parse(const char *name, pb_player_status *out);

/* A player as the API shows it (no password hash). */
typedef struct pb_player {
    int64_t id;
    char public_id[PB_ID_STR_LEN + 1];
    int64_t brand_id;
    char email[PB_EMAIL_MAX + 1];
    char country[3];
    char date_of_birth[11];
    char first_name[PB_PLAYER_NAME_MAX + 1]; /* optional, '' when not given */
    char last_name[PB_PLAYER_NAME_MAX + 1];
    char currency[8];
    pb_player_status status;
    char block_reason[PB_REASON_MAX + 1];
    int64_t locked_until; /* 0 unless locked out by failed logins */
    int64_t last_login_at;
    int64_t created_at;
    int64_t updated_at;
    int64_t erased_at; /* when the personal data was erased (pb_identity_player_erase); 0 = never */
    /* a stored date of birth or name did not open (another keys directory): it
     * is '' above, never the stored text; log it (pb_identity_pii_log_unavailable) */
    bool pii_unavailable;
} pb_player;

typedef struct pb_player_registration {
    const char *brand_code;
    const char *email;
    const char *password;
    const char *country;       /* ISO 3166-1 alpha-2 */
    const char *date_of_birth; /* YYYY-MM-DD */
    const char *currency;      /* NULL = the brand's default */
    const char *first_name;    /* optional: 1..100 characters once trimmed (FIELD_INVALID) */
    const char *last_name;     /* optional, likewise */
} pb_player_registration;

/* Registers a player (own transaction). Rate-limited per client IP. Errors name
 * the field in *bad_field: FIELD_MISSING / FIELD_INVALID (email, date_of_birth),
 * PASSWORD_WEAK, COUNTRY_INVALID, AGE_RESTRICTED (under 18 on now's UTC date),
 * CURRENCY_UNKNOWN, CURRENCY_NOT_ALLOWED, BRAND_NOT_FOUND, FORBIDDEN (brand
 * suspended), EMAIL_TAKEN, RATE_LIMITED. */
pb_err pb_identity_player_register(pb_identity *id, pb_store_conn *c,
                                   const pb_player_registration *reg, const pb_client_info *client,
                                   int64_t now, pb_player *out, const char **bad_field);

typedef struct pb_login_request {
    const char *brand_code; /* players only */
    const char *email;
    const char *password;
    const char *totp_code; /* staff only; NULL when not (yet) given */
} pb_login_request;

/* Player login (own transactions): CREDENTIALS_INVALID (unknown email or wrong
 * password: same answer, same time), ACCOUNT_LOCKED (after lockout_threshold
 * consecutive failures, until locked_until; out->retry_after_us), RATE_LIMITED
 * (out->retry_after_us), PLAYER_BLOCKED (right password, account not active). */
pb_err pb_identity_player_login(pb_identity *id, pb_store_conn *c, const pb_login_request *req,
                                const pb_client_info *client, int64_t now, pb_auth_tokens *out);

/* A player by public id, if in scope (NULL scope: no restriction, e.g. the player
 * themself). PLAYER_NOT_FOUND when absent or outside the scope. The sealed
 * personal data (names, date of birth) is left empty: the money paths never
 * show it and need not open it. */
pb_err pb_identity_player_get(pb_store_conn *c, const pb_brand_scope *scope, const char *public_id,
                              pb_player *out);
/* The same with the names and the date of birth opened (pii.c; pii_unavailable
 * when one does not open): for the views that show them. */
pb_err pb_identity_player_get_pii(pb_store_conn *c, const pb_brand_scope *scope,
                                  const char *public_id, pb_player *out);
/* Only a player's status, by public id (no scope: the money path's gate, which
 * already knows whose money it is). PLAYER_NOT_FOUND when absent. */
pb_err pb_identity_player_status(pb_store_conn *c, const char *public_id, pb_player_status *out);
/* Blocks a player with a reason (1..255 bytes, FIELD_INVALID) and ends their
 * sessions; unblock returns a blocked player to active (FORBIDDEN for a
 * self-excluded or closed one: those are not support's to lift). */
pb_err pb_identity_player_block(pb_store_conn *c, const pb_brand_scope *scope,
                                const char *public_id, const char *reason, int64_t now);
pb_err pb_identity_player_unblock(pb_store_conn *c, const pb_brand_scope *scope,
                                  const char *public_id, int64_t now);
/* Erases a player's personal data (GDPR Art. 17), inside the caller's write
 * transaction: the account is closed and can no longer log in, the email becomes
 * the placeholder "erased-<public id>@erased.invalid" (the address may register
 * again), the names and date of birth are cleared, every session is revoked and
 * loses its IP address and User-Agent, every live game launch of the player ends
 * (expires now). The player's id stays, and so does everything that refers to it
 * (ledger, rounds, payments, notes, audit log). In the same transaction it appends
 * the audit entry "player.erased" (by: the actor, role, reason, trace id and
 * address; target the player; before {status}; after {status "closed", erased_at,
 * live_launches_ended}) and the event "player.erased" (subject the player, payload
 * {by: the actor's id}, so that systems fed by the events erase their copies): the
 * erasure and its record commit together. Once committed, the caller calls
 * pb_catalog_launch_cache_forget so that this process stops answering from
 * launches it resolved before.
 * Refused, nothing written: FIELD_MISSING without by, its id or its reason;
 * FIELD_INVALID when the audit log would refuse the entry (pb_audit_validate);
 * then while the operator may not erase (erase.c, checked in this order, on what
 * the transaction sees): PLAYER_ERASED (done already), PLAYER_HAS_FUNDS (an
 * account holds money or a hold), PLAYER_HAS_OPEN_PAYMENTS (a deposit pending, a
 * withdrawal not finished), PLAYER_HAS_PENDING_ADJUSTMENT (a staff adjustment
 * waiting for its second approver), PLAYER_HAS_OPEN_BETS (a game bet, in-house rounds too,
 * not settled: not rolled back and its round not closed — a win does not settle
 * it — unless the round has been idle PB_IDENTITY_ROUND_IDLE_DAYS), RETENTION_PERIOD (the
 * brand's erase_after_days since the last activity: *why, may be NULL, says until
 * when). PLAYER_NOT_FOUND (also outside scope). Any other failure may follow
 * writes: the caller rolls its transaction back. *out: the player afterwards. */
#define PB_IDENTITY_ERASE_AFTER_DAYS 1826 /* five years: Directive (EU) 2015/849, Art. 40 */
/* A player's game round that is not closed counts as settled for erasure once its
 * newest operation is this many days old. A round with a win is not settled by
 * it: providers send more wins on an open round (multi-win rounds, free spins, a
 * late jackpot), so it is settled when the provider closes it (in-house rounds
 * close with their win). But some providers never close rounds, and a bet whose
 * round is never closed would block the erasure for good; after 30 days of
 * silence a round is taken as abandoned. Whatever still comes for it once the
 * player is erased is not lost: the wallet credits it to the brand's
 * unclaimed-funds account (wallet.h, "Closed players"). */
#define PB_IDENTITY_ROUND_IDLE_DAYS 30
typedef struct pb_identity_erase_refusal {
    int64_t retention_days; /* the brand's retention period, in days (when it was read) */
    int64_t erasable_from;  /* RETENTION_PERIOD: when the period ends */
} pb_identity_erase_refusal;
/* Who erases, and why: the audit entry's actor and reason, the event's "by". */
typedef struct pb_identity_erase_actor {
    const char *kind;     /* "staff" (NULL or "": staff) or "system" */
    const char *id;       /* the actor's public id (a tool: its name); required */
    const char *role;     /* the staff role's name; NULL: none */
    const char *reason;   /* why (the request's reference); required, 1..1000 bytes */
    const char *trace_id; /* the W3C trace id; NULL: none */
    const char *ip;       /* the client's address; NULL: unknown */
} pb_identity_erase_actor;
pb_err pb_identity_player_erase(pb_store_conn *c, const pb_brand_scope *scope,
                                const char *public_id, const pb_identity_erase_actor *by,
                                int64_t now, pb_player *out, pb_identity_erase_refusal *why);
/* The brand's retention period before an erasure, in days: settings.erase_after_days
 * (a whole number 0..36500), else PB_IDENTITY_ERASE_AFTER_DAYS. */
int64_t pb_identity_erase_after_days(const pb_brand *b);
/* Erases again, inside the caller's write transaction, the personal data of a player
 * whose erasure a restored copy of the database predates (`pitboss restore`,
 * src/cli/cmd_erasures.c): the same rows as pb_identity_player_erase, the same
 * launch revocation, audit entry "player.erased" and event, by `by` (a tool: kind
 * "system"). None of the erasure's refusals apply: the erasure was decided and done
 * on the database the copy replaces (the money, payments and bets that had to be
 * settled first were, there), and the copy, older, may show them open; the law's
 * duty to erase does not wait for them. *done: true when it erased; false, nothing
 * written, when the copy has no such player (registered after the copy was taken)
 * or erased it already. FIELD_MISSING / FIELD_INVALID as pb_identity_player_erase. */
pb_err pb_identity_player_erase_again(pb_store_conn *c, const char *public_id,
                                      const pb_identity_erase_actor *by, int64_t now, bool *done);

/* ---- the login tables' pruner (prune.c) */

/* Refresh tokens are kept this long past their keep_until (an unused token's
 * expiry, a rotated token's session end: prune.c), then deleted. */
#define PB_IDENTITY_REFRESH_GRACE_US (24LL * 3600 * 1000000)
/* How long ended sessions are kept by default (serve --session-history-days). */
#define PB_IDENTITY_SESSION_HISTORY_DAYS 90
#define PB_IDENTITY_PRUNE_INTERVAL_MS (10 * 60 * 1000)
/* Deletes, in short write transactions of its own on c, the refresh tokens whose
 * keeping ended more than PB_IDENTITY_REFRESH_GRACE_US before now (an unused one
 * at its expiry; a rotated one, whose replay must still raise the reuse alarm, at
 * its session's end) and the sessions that
 * expired more than history_us before now (with their tokens). The counts go to
 * *refresh_n and *session_n. */
pb_err pb_identity_prune(pb_store_conn *c, int64_t now, int64_t history_us, size_t *refresh_n,
                         size_t *session_n);
/* A thread that runs pb_identity_prune at start and every interval_ms (0: the
 * default), logging identity.pruned with what it deleted. NULL on failure (err). */
typedef struct pb_identity_pruner pb_identity_pruner;
pb_identity_pruner *pb_identity_pruner_start(pb_store *store, int64_t history_us, int interval_ms,
                                             char *err, size_t errcap);
/* Stops it (a pass under way finishes its chunk); NULL is fine. */
void pb_identity_pruner_stop(pb_identity_pruner *p);

/* The staff search with sorting and balances (GET /v1/admin/players): q's filters
 * and keyset as the store defines them (store_backoffice_people.h); its brand
 * fields are set here from scope (q->brand_id, when set, must be in it:
 * BRAND_FORBIDDEN). Email prefixes are lower-cased into lower (which q then
 * points into). Up to cap hits in q's order. FIELD_INVALID (bad_field) for a
 * malformed country or status. */
pb_err pb_identity_player_find(pb_store_conn *c, const pb_brand_scope *scope,
                               pb_store_player_find_query *q, pb_store_player_hit *out, size_t cap,
                               size_t *n, char lower[2][PB_EMAIL_MAX + 1], const char **bad_field);

/* ---- staff */

/* A staff member as the API shows it (no hash, no TOTP seed). */
typedef struct pb_staff {
    int64_t id;
    char public_id[PB_ID_STR_LEN + 1];
    char email[PB_EMAIL_MAX + 1];
    pb_role role;
    pb_brand_scope scope;
    bool active;
    bool must_change_password;
    bool totp_enrolled;
    int64_t locked_until;
    int64_t last_login_at;
    int64_t created_at;
    int64_t updated_at;
} pb_staff;

#define PB_ONE_TIME_PASSWORD_MAX 32

typedef struct pb_staff_create {
    const char *email;
    pb_role role;
    bool all_brands;                /* admin and auditor only (ROLE_INVALID otherwise) */
    const char *const *brand_codes; /* the scope when not all_brands; at least one */
    size_t nbrands;
    /* Optional: runs in the creating transaction once the member is inserted, with the
     * member as it is shown; an error undoes the creation. The caller's audit entry
     * goes here, so that neither is ever stored without the other. */
    pb_err (*in_tx)(pb_store_conn *c, const pb_staff *created, void *ctx);
    void *in_tx_ctx;
} pb_staff_create;

/* Creates a staff member with a random one-time password (own transaction), which
 * must be changed at first login, with TOTP enrolment. The password is written to
 * one_time_password once and never stored in the clear. EMAIL_TAKEN,
 * FIELD_INVALID (email, brands), BRAND_NOT_FOUND, ROLE_INVALID. */
pb_err pb_identity_staff_create(pb_store_conn *c, const pb_staff_create *req, int64_t now,
                                pb_staff *out, char one_time_password[PB_ONE_TIME_PASSWORD_MAX],
                                const char **bad_field);
/* The first admin (for `pitboss admin create`): an admin of every brand. */
pb_err pb_identity_admin_bootstrap(pb_store_conn *c, const char *email, int64_t now, pb_staff *out,
                                   char one_time_password[PB_ONE_TIME_PASSWORD_MAX]);

/* Staff login (own transactions). Password first, exactly as a player's (same
 * errors, lockout and limits); then:
 *  - TOTP enrolled: TOTP_REQUIRED without a code; TOTP_INVALID for a wrong or
 *    already used one (counts as a failed login); else a session (scope setup if
 *    must_change_password, full otherwise);
 *  - not enrolled: a setup session, out->totp_enrollment_required set.
 * FORBIDDEN for a disabled member (right password only). */
pb_err pb_identity_staff_login(pb_identity *id, pb_store_conn *c, const pb_login_request *req,
                               const pb_client_info *client, int64_t now, pb_auth_tokens *out);

/* TOTP enrolment of the principal (staff). begin: a new 20-byte seed, stored sealed
 * and not yet active, and its otpauth:// URI (for a QR code) in uri (256 bytes are
 * enough); INVALID_REQUEST when already enrolled. confirm: the first code (±1 step)
 * activates it; TOTP_INVALID, TOTP_NOT_ENROLLED (no begin). Both in the caller's
 * write transaction. */
pb_err pb_identity_totp_begin(pb_identity *id, pb_store_conn *c, const pb_principal *p, int64_t now,
                              char *uri, size_t cap);
pb_err pb_identity_totp_confirm(pb_identity *id, pb_store_conn *c, const pb_principal *p,
                                const char *code, int64_t now);

/* A staff member by public id; STAFF_NOT_FOUND. */
pb_err pb_identity_staff_get(pb_store_conn *c, const char *public_id, pb_staff *out);
/* Up to cap staff with internal id > after_id, in id order. */
pb_err pb_identity_staff_list(pb_store_conn *c, int64_t after_id, pb_staff *out, size_t cap,
                              size_t *n);

/* The new one-time password of a TOTP reset: made and hashed before the write
 * transaction (hashing never holds the write lock). password goes to the
 * resetting administrator once; hash is what pb_staff_update.reset_totp stores.
 * Wipe both (sodium_memzero) when done. */
typedef struct pb_staff_one_time {
    char password[PB_ONE_TIME_PASSWORD_MAX];
    char hash[PB_PASSWORD_HASH_MAX + 1];
} pb_staff_one_time;
/* A random one-time password and its hash (INTERNAL when out of memory). */
pb_err pb_identity_staff_one_time(pb_staff_one_time *out);

/* A change to a staff member; NULL / false fields stay as they are. */
typedef struct pb_staff_update {
    const pb_role *role;
    const bool *all_brands;
    const char *const *brand_codes; /* replaces the scope when non-NULL */
    size_t nbrands;
    const bool *active; /* false: disabled, and their sessions end */
    /* Forget the TOTP seed AND the password: the member's password is replaced by
     * the one-time password of reset_password (required with reset_totp), which
     * must be changed at the next login, where they enrol again, as a new member
     * does. Second-factor recovery never rests on the first factor alone: whoever
     * holds the old password (the usual reason a second factor exists) cannot
     * enrol their own authenticator. The login failure count and lock are
     * cleared too: they counted guesses at credentials that no longer exist. */
    bool reset_totp;
    const pb_staff_one_time *reset_password;
    /* The role of whoever resets (required with reset_totp: INTERNAL without it). An
     * administrator's TOTP is reset only by an administrator: FORBIDDEN otherwise,
     * nothing written. The one check every reset path shares (PATCH
     * /v1/admin/staff/{id} with reset_totp and POST …/totp/reset). */
    const pb_role *by_role;
} pb_staff_update;

/* Applies u (ROLE_INVALID, BRAND_NOT_FOUND, FIELD_INVALID, STAFF_NOT_FOUND; INTERNAL
 * for reset_totp without reset_password or by_role; FORBIDDEN for a non-admin's
 * reset of an admin's TOTP). A role, scope, status, TOTP or password
 * change ends the member's sessions. */
pb_err pb_identity_staff_update(pb_store_conn *c, const char *public_id, const pb_staff_update *u,
                                int64_t now, pb_staff *out, const char **bad_field);

#endif
