/* sqlite_identity_internal.h — shared by sqlite_identity.c (which holds the
 * identity ops table), sqlite_identity_login.c, sqlite_auth.c and
 * sqlite_backoffice_people.c (private). */
#ifndef PB_STORE_SQLITE_IDENTITY_INTERNAL_H
#define PB_STORE_SQLITE_IDENTITY_INTERNAL_H

#include "store/sqlite/sqlite_rows.h"

/* The columns of an auth_session row, in the order sq_read_session reads them. */
#define SQ_SESSION_COLS                                                             \
    "id,public_id,subject_kind,subject_id,brand_id,scope,user_agent,ip,created_at," \
    "last_seen_at,idle_s,expires_at,revoked_at,revoke_reason"

/* Reads one session row selected as SQ_SESSION_COLS (a pb_store_session *;
 * the generic reader signature of sqr_collect). */
void sq_read_session(sqlite3_stmt *st, void *out);

/* Login state, passwords, login failures and TOTP (sqlite_identity_login.c); see
 * store_identity.h for each one's contract. */
pb_store_rc sq_player_update_login(pb_store_conn *base, const pb_store_player *p);
pb_store_rc sq_staff_update_login(pb_store_conn *base, const pb_store_staff *s);
pb_store_rc sq_player_rehash(pb_store_conn *base, int64_t id, const char *old_hash,
                             const char *new_hash, int64_t now);
pb_store_rc sq_staff_rehash(pb_store_conn *base, int64_t id, const char *old_hash,
                            const char *new_hash, int64_t now);
pb_store_rc sq_player_set_password(pb_store_conn *base, int64_t id, const char *hash, int64_t now);
pb_store_rc sq_staff_set_password(pb_store_conn *base, int64_t id, const char *hash,
                                  bool must_change, int64_t now);
pb_store_rc sq_password_history(pb_store_conn *base, const char *kind, int64_t subject_id,
                                char (*hashes)[PB_PASSWORD_HASH_MAX + 1], size_t cap, size_t *n);
pb_store_rc sq_login_failure_get(pb_store_conn *base, const char *kind, int64_t subject_id,
                                 const char *addr, int64_t *failed, int64_t *locked_until);
pb_store_rc sq_login_failure_put(pb_store_conn *base, const char *kind, int64_t subject_id,
                                 const char *addr, int64_t failed, int64_t locked_until,
                                 int64_t now);
pb_store_rc sq_login_failure_clear(pb_store_conn *base, const char *kind, int64_t subject_id);
pb_store_rc sq_login_failure_locks(pb_store_conn *base, const char *kind, int64_t subject_id,
                                   int64_t now, pb_store_login_lock *out, size_t cap, size_t *n);
pb_store_rc sq_staff_set_totp(pb_store_conn *base, int64_t id, const uint8_t *sealed, size_t len,
                              bool enrolled, int64_t last_step, int64_t now);
pb_store_rc sq_staff_totp_advance(pb_store_conn *base, int64_t id, int64_t step, int64_t now);

/* Sessions and refresh tokens (sqlite_auth.c); see store_identity.h for each one's contract. */
pb_store_rc sq_session_insert(pb_store_conn *base, pb_store_session *s);
pb_store_rc sq_session_get(pb_store_conn *base, int64_t id, pb_store_session *out);
pb_store_rc sq_session_by_public_id(pb_store_conn *base, const char *public_id,
                                    pb_store_session *out);
pb_store_rc sq_session_touch(pb_store_conn *base, int64_t id, int64_t now, const char *user_agent,
                             const char *ip);
pb_store_rc sq_session_revoke(pb_store_conn *base, int64_t id, int64_t now, const char *reason);
pb_store_rc sq_session_revoke_subject(pb_store_conn *base, const char *kind, int64_t subject_id,
                                      int64_t except_id, int64_t now, const char *reason,
                                      size_t *n);
pb_store_rc sq_session_list(pb_store_conn *base, const char *kind, int64_t subject_id, int64_t now,
                            pb_store_session *out, size_t cap, size_t *n);
pb_store_rc sq_refresh_insert(pb_store_conn *base, pb_store_refresh *r);
pb_store_rc sq_refresh_by_hash(pb_store_conn *base, const uint8_t hash[32], pb_store_refresh *out);
pb_store_rc sq_refresh_mark_used(pb_store_conn *base, int64_t id, int64_t now);
pb_store_rc sq_refresh_revoke_family(pb_store_conn *base, const char *family_id, int64_t now);
pb_store_rc sq_refresh_revoke_session(pb_store_conn *base, int64_t session_id, int64_t now);
pb_store_rc sq_auth_prune(pb_store_conn *base, int64_t refresh_before, int64_t session_before,
                          size_t max, size_t *refresh_n, size_t *session_n);

#endif
