/*
 * store_identity.h — the rows and statements of players, staff, sessions and
 * refresh tokens. Included by store.h. Rows are fixed-size structs with inline
 * strings; every decision (validation, lockout, token rotation) lives in
 * src/identity/. A player's PII (email, country, date of birth, names) is kept
 * in its own table by the backend. The date of birth and the names are moved
 * as opaque text: src/identity/pii.c seals them before they are written and
 * opens them after they are read (a clear value left by an older version is
 * moved the same way), so no backend does any cryptography; the fields are
 * sized for the sealed form.
 */
#ifndef PB_STORE_IDENTITY_H
#define PB_STORE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_PUBLIC_ID_MAX 36 /* a UUIDv7 in text form */
#define PB_EMAIL_MAX 254
#define PB_PASSWORD_HASH_MAX 127 /* crypto_pwhash_STRBYTES - 1 */
#define PB_STATUS_MAX 15
#define PB_REASON_MAX 255
#define PB_ROLE_NAME_MAX 15
#define PB_TOTP_SEALED_MAX 128
#define PB_USER_AGENT_MAX 255
#define PB_IP_MAX 63
#define PB_PLAYER_NAME_MAX 400 /* bytes: 100 characters of up to 4 bytes (0013) */
/* What a row holds for a name and a date of birth: room for the sealed form
 * (src/identity/pii.c checks that it fits). */
#define PB_PLAYER_NAME_STORED_MAX 1023
#define PB_PLAYER_DOB_STORED_MAX 127

/* A player with its PII, as stored. */
typedef struct pb_store_player {
    int64_t id;
    char public_id[PB_PUBLIC_ID_MAX + 1];
    int64_t brand_id;
    char currency[8];
    char password_hash[PB_PASSWORD_HASH_MAX + 1];
    char status[PB_STATUS_MAX + 1]; /* active | blocked | self_excluded | closed */
    char block_reason[PB_REASON_MAX + 1];
    int64_t failed_logins;
    int64_t locked_until;
    int64_t last_login_at;
    int64_t created_at;
    int64_t updated_at;
    /* PII (player_pii) */
    char email[PB_EMAIL_MAX + 1]; /* lower-cased */
    char country[3];
    char date_of_birth[PB_PLAYER_DOB_STORED_MAX + 1]; /* opaque: sealed YYYY-MM-DD */
    char first_name[PB_PLAYER_NAME_STORED_MAX + 1];   /* opaque; '' when not given (0013) */
    char last_name[PB_PLAYER_NAME_STORED_MAX + 1];
    int64_t erased_at; /* when the personal data was erased (0022); 0 = never */
} pb_store_player;

/* The sealed part of a player's PII as stored (opaque text), for the pass that
 * seals values an older version wrote in the clear. */
typedef struct pb_store_player_pii {
    int64_t id; /* the player's internal id */
    char public_id[PB_PUBLIC_ID_MAX + 1];
    char date_of_birth[PB_PLAYER_DOB_STORED_MAX + 1];
    char first_name[PB_PLAYER_NAME_STORED_MAX + 1];
    char last_name[PB_PLAYER_NAME_STORED_MAX + 1];
} pb_store_player_pii;

/* A staff member, as stored. */
typedef struct pb_store_staff {
    int64_t id;
    char public_id[PB_PUBLIC_ID_MAX + 1];
    char email[PB_EMAIL_MAX + 1];
    char password_hash[PB_PASSWORD_HASH_MAX + 1];
    char role[PB_ROLE_NAME_MAX + 1];
    bool all_brands;
    char status[PB_STATUS_MAX + 1]; /* active | disabled */
    bool must_change_password;
    uint8_t totp_secret[PB_TOTP_SEALED_MAX]; /* sealed seed; see 0003_identity.sql */
    size_t totp_secret_len;                  /* 0: none */
    bool totp_enrolled;
    int64_t totp_last_step;
    int64_t failed_logins;
    int64_t locked_until;
    int64_t last_login_at;
    int64_t created_at;
    int64_t updated_at;
} pb_store_staff;

/* A session (one login on one device). */
typedef struct pb_store_session {
    int64_t id;
    char public_id[PB_PUBLIC_ID_MAX + 1];
    char subject_kind[8]; /* player | staff */
    int64_t subject_id;
    int64_t brand_id; /* the player's brand; 0 for staff */
    char scope[8];    /* full | setup */
    char user_agent[PB_USER_AGENT_MAX + 1];
    char ip[PB_IP_MAX + 1];
    int64_t created_at;
    int64_t last_seen_at;
    int64_t idle_s;
    int64_t expires_at;
    int64_t revoked_at;
    char revoke_reason[32];
} pb_store_session;

/* A refresh token (its SHA-256 only). */
typedef struct pb_store_refresh {
    int64_t id;
    uint8_t token_hash[32];
    char family_id[PB_PUBLIC_ID_MAX + 1];
    int64_t session_id;
    int64_t parent_id;
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at;
    int64_t revoked_at;
} pb_store_refresh;

/* Players. insert assigns p->id and writes the PII row; CONFLICT on a duplicate
 * (brand, email) or public id. */
pb_store_rc pb_store_player_insert(pb_store_conn *c, pb_store_player *p);
pb_store_rc pb_store_player_get(pb_store_conn *c, int64_t id, pb_store_player *out);
pb_store_rc pb_store_player_by_public_id(pb_store_conn *c, const char *public_id,
                                         pb_store_player *out);
pb_store_rc pb_store_player_by_email(pb_store_conn *c, int64_t brand_id, const char *email,
                                     pb_store_player *out);
/* Only a player's status (active | blocked | self_excluded | closed) by public id,
 * without the PII: the money path's gate. NOT_FOUND when absent. */
pb_store_rc pb_store_player_status(pb_store_conn *c, const char *public_id,
                                   char status[PB_STATUS_MAX + 1]);
/* Writes failed_logins, locked_until, last_login_at and updated_at of p->id. */
pb_store_rc pb_store_player_update_login(pb_store_conn *c, const pb_store_player *p);
pb_store_rc pb_store_player_set_password(pb_store_conn *c, int64_t id, const char *hash,
                                         int64_t now);
/* A login's upgrade of the hash to today's cost: replaces it only while it is still
 * old_hash (the one the login verified); NOT_FOUND, nothing written, when it changed
 * meanwhile (a password change committed during the login's hashing). */
pb_store_rc pb_store_player_rehash(pb_store_conn *c, int64_t id, const char *old_hash,
                                   const char *new_hash, int64_t now);
/* Erases a player's personal data (0022): status closed, no usable password, erased_at
 * = now; player_pii's email becomes `email` (a placeholder), names and date of birth
 * ''; the player's sessions are revoked ('erased') and lose their IP and User-Agent,
 * their refresh tokens revoked. NOT_FOUND when there is no such player or it was
 * erased already (nothing written then). */
pb_store_rc pb_store_player_erase(pb_store_conn *c, int64_t id, const char *email, int64_t now);
/* An erased player, as a restore re-applies the erasure (src/cli/cmd_erasures.c). */
typedef struct pb_store_erased_player {
    int64_t id; /* internal: the listing's cursor */
    char public_id[PB_PUBLIC_ID_MAX + 1];
    char brand[PB_BRAND_CODE_MAX + 1]; /* the brand's code (store_tenancy.h, included first) */
    int64_t erased_at;
} pb_store_erased_player;
/* Up to cap players whose personal data was erased (erased_at > 0) with id > after_id,
 * in id order; *n receives the count. Only read. */
pb_store_rc pb_store_players_erased(pb_store_conn *c, int64_t after_id, pb_store_erased_player *out,
                                    size_t cap, size_t *n);
pb_store_rc pb_store_player_set_status(pb_store_conn *c, int64_t id, const char *status,
                                       const char *reason, int64_t now);
/* What erasure must know of other domains' tables before it erases
 * (src/identity/erase.c); both only read. */
/* Up to cap ids, in id order, of the ledger accounts `owner` holds in `brand` (every
 * kind and currency) with id > after_id; *n receives the count. */
pb_store_rc pb_store_player_ledger_accounts(pb_store_conn *c, const char *brand, const char *owner,
                                            int64_t after_id, int64_t *ids, size_t cap, size_t *n);
/* A game bet of the player (public id) not settled yet (any provider, the
 * in-house games' "pitboss" too): accepted, not rolled back, and its round (the
 * player's: provider, round id, player) is not closed — with or without a win:
 * a provider may send more wins on a round until it closes it — and had an
 * operation of the player's at or after active_since (a round idle since before
 * it counts as abandoned), so a win or a rollback may still come for it. */
typedef struct pb_store_open_bet {
    char provider[33];
    char round_id[129];
    char bet_tx_id[129];
    int64_t created_at;
} pb_store_open_bet;
/* One such bet into *out; NOT_FOUND when the player has none. */
pb_store_rc pb_store_player_open_bet(pb_store_conn *c, const char *public_id, int64_t active_since,
                                     pb_store_open_bet *out);
/* Up to cap players with id > after_id, in id order, whose date of birth, or a
 * name that is not '', is not marked: marked text starts with marker and has at
 * least min_len characters (the domain's mark of a sealed value; the store
 * compares text, nothing more). */
pb_store_rc pb_store_player_pii_unmarked(pb_store_conn *c, int64_t after_id, const char *marker,
                                         size_t min_len, pb_store_player_pii *out, size_t cap,
                                         size_t *n);
/* Writes the date of birth and names of p->id (public_id is not written);
 * NOT_FOUND when there is no such player. */
pb_store_rc pb_store_player_pii_set(pb_store_conn *c, const pb_store_player_pii *p);
/* The newest player's (highest id) date of birth and names; NOT_FOUND when there
 * is no player. */
pb_store_rc pb_store_player_pii_newest(pb_store_conn *c, pb_store_player_pii *out);

/* Staff. insert assigns s->id; CONFLICT on a duplicate email or public id. */
pb_store_rc pb_store_staff_insert(pb_store_conn *c, pb_store_staff *s);
pb_store_rc pb_store_staff_get(pb_store_conn *c, int64_t id, pb_store_staff *out);
pb_store_rc pb_store_staff_by_public_id(pb_store_conn *c, const char *public_id,
                                        pb_store_staff *out);
pb_store_rc pb_store_staff_by_email(pb_store_conn *c, const char *email, pb_store_staff *out);
/* Writes role, all_brands, status and updated_at of s->id. */
pb_store_rc pb_store_staff_update(pb_store_conn *c, const pb_store_staff *s);
/* Writes failed_logins, locked_until, last_login_at and updated_at of s->id. */
pb_store_rc pb_store_staff_update_login(pb_store_conn *c, const pb_store_staff *s);
pb_store_rc pb_store_staff_set_password(pb_store_conn *c, int64_t id, const char *hash,
                                        bool must_change, int64_t now);
/* Password history (0036): setting a password (player or staff) keeps the hash it
 * replaces (not a staff member's one-time password) and prunes the subject's rows
 * to the newest PB_PASSWORD_HISTORY - 1, so the current hash and those are the
 * last PB_PASSWORD_HISTORY passwords (PCI DSS v4.0 8.3.7). An erasure deletes a
 * player's. pb_store_password_history reads up to cap kept hashes, newest first;
 * kind is "staff" or "player". */
#define PB_PASSWORD_HISTORY 4
/* Login failures of a subject from one client address (0037): get gives 0/0 when
 * none are stored; put writes them; clear deletes all the subject's rows. */
pb_store_rc pb_store_login_failure_get(pb_store_conn *c, const char *kind, int64_t subject_id,
                                       const char *addr, int64_t *failed, int64_t *locked_until);
pb_store_rc pb_store_login_failure_put(pb_store_conn *c, const char *kind, int64_t subject_id,
                                       const char *addr, int64_t failed, int64_t locked_until,
                                       int64_t now);
pb_store_rc pb_store_login_failure_clear(pb_store_conn *c, const char *kind, int64_t subject_id);
/* A per-address login lock in force: the address ('' unknown; an IPv6 /64 as
 * "prefix::/64") and until when. */
typedef struct pb_store_login_lock {
    char addr[PB_IP_MAX + 1];
    int64_t locked_until;
} pb_store_login_lock;
/* The subject's per-address locks with locked_until > now, the latest-ending
 * first, at most cap (*n the count). */
pb_store_rc pb_store_login_failure_locks(pb_store_conn *c, const char *kind, int64_t subject_id,
                                         int64_t now, pb_store_login_lock *out, size_t cap,
                                         size_t *n);
pb_store_rc pb_store_password_history(pb_store_conn *c, const char *kind, int64_t subject_id,
                                      char (*hashes)[PB_PASSWORD_HASH_MAX + 1], size_t cap,
                                      size_t *n);
/* As pb_store_player_rehash; the must-change flag stays as it is. */
pb_store_rc pb_store_staff_rehash(pb_store_conn *c, int64_t id, const char *old_hash,
                                  const char *new_hash, int64_t now);
/* Writes the sealed seed (len 0: none), enrolled and last step. */
pb_store_rc pb_store_staff_set_totp(pb_store_conn *c, int64_t id, const uint8_t *sealed, size_t len,
                                    bool enrolled, int64_t last_step, int64_t now);
/* Raises totp_last_step to step only if it is lower (atomic); CONFLICT otherwise. */
pb_store_rc pb_store_staff_totp_advance(pb_store_conn *c, int64_t id, int64_t step, int64_t now);
/* The brands in a member's scope, ascending; *n receives the count (at most cap). */
pb_store_rc pb_store_staff_brands_get(pb_store_conn *c, int64_t staff_id, int64_t *ids, size_t cap,
                                      size_t *n);
/* Replaces a member's brand scope. */
pb_store_rc pb_store_staff_brands_set(pb_store_conn *c, int64_t staff_id, const int64_t *ids,
                                      size_t n);
/* Up to cap staff with id > after_id, in id order. */
pb_store_rc pb_store_staff_list(pb_store_conn *c, int64_t after_id, pb_store_staff *out, size_t cap,
                                size_t *n);

/* Sessions. insert assigns s->id. */
pb_store_rc pb_store_session_insert(pb_store_conn *c, pb_store_session *s);
pb_store_rc pb_store_session_get(pb_store_conn *c, int64_t id, pb_store_session *out);
pb_store_rc pb_store_session_by_public_id(pb_store_conn *c, const char *public_id,
                                          pb_store_session *out);
/* Records activity: last_seen_at, user agent and ip. */
pb_store_rc pb_store_session_touch(pb_store_conn *c, int64_t id, int64_t now,
                                   const char *user_agent, const char *ip);
/* Revokes one session unless already revoked (the first reason stays), and its
 * refresh tokens. NOT_FOUND when there is no such session. */
pb_store_rc pb_store_session_revoke(pb_store_conn *c, int64_t id, int64_t now, const char *reason);
/* Revokes every live session of a subject except except_id (0: none), and their
 * refresh tokens; *n (may be NULL) receives how many sessions were revoked. */
pb_store_rc pb_store_session_revoke_subject(pb_store_conn *c, const char *kind, int64_t subject_id,
                                            int64_t except_id, int64_t now, const char *reason,
                                            size_t *n);
/* A subject's live sessions at `now` (not revoked, not expired, not idle), newest first. */
pb_store_rc pb_store_session_list(pb_store_conn *c, const char *kind, int64_t subject_id,
                                  int64_t now, pb_store_session *out, size_t cap, size_t *n);

/* Refresh tokens. insert assigns r->id; CONFLICT on a duplicate hash. */
pb_store_rc pb_store_refresh_insert(pb_store_conn *c, pb_store_refresh *r);
pb_store_rc pb_store_refresh_by_hash(pb_store_conn *c, const uint8_t hash[32],
                                     pb_store_refresh *out);
/* Marks a token used only if it is unused (atomic); CONFLICT when it already was. */
pb_store_rc pb_store_refresh_mark_used(pb_store_conn *c, int64_t id, int64_t now);
/* Revokes every not yet revoked token of a family / of a session. */
pb_store_rc pb_store_refresh_revoke_family(pb_store_conn *c, const char *family_id, int64_t now);
pb_store_rc pb_store_refresh_revoke_session(pb_store_conn *c, int64_t session_id, int64_t now);
/* Deletes at most max refresh tokens that expired before refresh_before, then at most
 * max sessions that ended (expired) before session_before, with their remaining refresh
 * tokens. *refresh_n and *session_n receive the counts (0023). */
pb_store_rc pb_store_auth_prune(pb_store_conn *c, int64_t refresh_before, int64_t session_before,
                                size_t max, size_t *refresh_n, size_t *session_n);

/* What a backend implements for identity (see backend.h). */
struct pb_store_identity_ops {
    pb_store_rc (*player_insert)(pb_store_conn *c, pb_store_player *p);
    pb_store_rc (*player_get)(pb_store_conn *c, int64_t id, pb_store_player *out);
    pb_store_rc (*player_by_public_id)(pb_store_conn *c, const char *public_id,
                                       pb_store_player *out);
    pb_store_rc (*player_by_email)(pb_store_conn *c, int64_t brand_id, const char *email,
                                   pb_store_player *out);
    pb_store_rc (*player_status)(pb_store_conn *c, const char *public_id,
                                 char status[PB_STATUS_MAX + 1]);
    pb_store_rc (*player_update_login)(pb_store_conn *c, const pb_store_player *p);
    pb_store_rc (*player_set_password)(pb_store_conn *c, int64_t id, const char *hash, int64_t now);
    pb_store_rc (*player_rehash)(pb_store_conn *c, int64_t id, const char *old_hash,
                                 const char *new_hash, int64_t now);
    pb_store_rc (*player_erase)(pb_store_conn *c, int64_t id, const char *email, int64_t now);
    pb_store_rc (*players_erased)(pb_store_conn *c, int64_t after_id, pb_store_erased_player *out,
                                  size_t cap, size_t *n);
    pb_store_rc (*player_set_status)(pb_store_conn *c, int64_t id, const char *status,
                                     const char *reason, int64_t now);
    pb_store_rc (*player_ledger_accounts)(pb_store_conn *c, const char *brand, const char *owner,
                                          int64_t after_id, int64_t *ids, size_t cap, size_t *n);
    pb_store_rc (*player_open_bet)(pb_store_conn *c, const char *public_id, int64_t active_since,
                                   pb_store_open_bet *out);
    pb_store_rc (*player_pii_unmarked)(pb_store_conn *c, int64_t after_id, const char *marker,
                                       size_t min_len, pb_store_player_pii *out, size_t cap,
                                       size_t *n);
    pb_store_rc (*player_pii_set)(pb_store_conn *c, const pb_store_player_pii *p);
    pb_store_rc (*player_pii_newest)(pb_store_conn *c, pb_store_player_pii *out);
    pb_store_rc (*staff_insert)(pb_store_conn *c, pb_store_staff *s);
    pb_store_rc (*staff_get)(pb_store_conn *c, int64_t id, pb_store_staff *out);
    pb_store_rc (*staff_by_public_id)(pb_store_conn *c, const char *public_id, pb_store_staff *out);
    pb_store_rc (*staff_by_email)(pb_store_conn *c, const char *email, pb_store_staff *out);
    pb_store_rc (*staff_update)(pb_store_conn *c, const pb_store_staff *s);
    pb_store_rc (*staff_update_login)(pb_store_conn *c, const pb_store_staff *s);
    pb_store_rc (*staff_set_password)(pb_store_conn *c, int64_t id, const char *hash,
                                      bool must_change, int64_t now);
    pb_store_rc (*staff_rehash)(pb_store_conn *c, int64_t id, const char *old_hash,
                                const char *new_hash, int64_t now);
    pb_store_rc (*login_failure_get)(pb_store_conn *c, const char *kind, int64_t subject_id,
                                     const char *addr, int64_t *failed, int64_t *locked_until);
    pb_store_rc (*login_failure_put)(pb_store_conn *c, const char *kind, int64_t subject_id,
                                     const char *addr, int64_t failed, int64_t locked_until,
                                     int64_t now);
    pb_store_rc (*login_failure_clear)(pb_store_conn *c, const char *kind, int64_t subject_id);
    pb_store_rc (*login_failure_locks)(pb_store_conn *c, const char *kind, int64_t subject_id,
                                       int64_t now, pb_store_login_lock *out, size_t cap,
                                       size_t *n);
    pb_store_rc (*password_history)(pb_store_conn *c, const char *kind, int64_t subject_id,
                                    char (*hashes)[PB_PASSWORD_HASH_MAX + 1], size_t cap,
                                    size_t *n);
    pb_store_rc (*staff_set_totp)(pb_store_conn *c, int64_t id, const uint8_t *sealed, size_t len,
                                  bool enrolled, int64_t last_step, int64_t now);
    pb_store_rc (*staff_totp_advance)(pb_store_conn *c, int64_t id, int64_t step, int64_t now);
    pb_store_rc (*staff_brands_get)(pb_store_conn *c, int64_t staff_id, int64_t *ids, size_t cap,
                                    size_t *n);
    pb_store_rc (*staff_brands_set)(pb_store_conn *c, int64_t staff_id, const int64_t *ids,
                                    size_t n);
    pb_store_rc (*staff_list)(pb_store_conn *c, int64_t after_id, pb_store_staff *out, size_t cap,
                              size_t *n);
    pb_store_rc (*session_insert)(pb_store_conn *c, pb_store_session *s);
    pb_store_rc (*session_get)(pb_store_conn *c, int64_t id, pb_store_session *out);
    pb_store_rc (*session_by_public_id)(pb_store_conn *c, const char *public_id,
                                        pb_store_session *out);
    pb_store_rc (*session_touch)(pb_store_conn *c, int64_t id, int64_t now, const char *user_agent,
                                 const char *ip);
    pb_store_rc (*session_revoke)(pb_store_conn *c, int64_t id, int64_t now, const char *reason);
    pb_store_rc (*session_revoke_subject)(pb_store_conn *c, const char *kind, int64_t subject_id,
                                          int64_t except_id, int64_t now, const char *reason,
                                          size_t *n);
    pb_store_rc (*session_list)(pb_store_conn *c, const char *kind, int64_t subject_id, int64_t now,
                                pb_store_session *out, size_t cap, size_t *n);
    pb_store_rc (*refresh_insert)(pb_store_conn *c, pb_store_refresh *r);
    pb_store_rc (*refresh_by_hash)(pb_store_conn *c, const uint8_t hash[32], pb_store_refresh *out);
    pb_store_rc (*refresh_mark_used)(pb_store_conn *c, int64_t id, int64_t now);
    pb_store_rc (*refresh_revoke_family)(pb_store_conn *c, const char *family_id, int64_t now);
    pb_store_rc (*refresh_revoke_session)(pb_store_conn *c, int64_t session_id, int64_t now);
    pb_store_rc (*auth_prune)(pb_store_conn *c, int64_t refresh_before, int64_t session_before,
                              size_t max, size_t *refresh_n, size_t *session_n);
};

extern const struct pb_store_identity_ops pb_store_sqlite_identity_ops;

#endif
