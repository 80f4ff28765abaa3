/*
 * store_identity.c — dispatches identity's store calls to the connection's backend.
 * Nothing here knows SQL; see sqlite/sqlite_identity.c.
 */
#include "store/backend.h"

/* Each function forwards to the backend's identity ops table. */
pb_store_rc pb_store_player_insert(pb_store_conn *c, pb_store_player *p)
{
    return c->be->identity->player_insert(c, p);
}

pb_store_rc pb_store_player_get(pb_store_conn *c, int64_t id, pb_store_player *out)
{
    return c->be->identity->player_get(c, id, out);
}

pb_store_rc pb_store_player_by_public_id(pb_store_conn *c, const char *public_id,
                                         pb_store_player *out)
{
    return c->be->identity->player_by_public_id(c, public_id, out);
}

pb_store_rc pb_store_player_status(pb_store_conn *c, const char *public_id,
                                   char status[PB_STATUS_MAX + 1])
{
    return c->be->identity->player_status(c, public_id, status);
}

pb_store_rc pb_store_player_by_email(pb_store_conn *c, int64_t brand_id, const char *email,
                                     pb_store_player *out)
{
    return c->be->identity->player_by_email(c, brand_id, email, out);
}

pb_store_rc pb_store_player_update_login(pb_store_conn *c, const pb_store_player *p)
{
    return c->be->identity->player_update_login(c, p);
}

pb_store_rc pb_store_player_set_password(pb_store_conn *c, int64_t id, const char *hash,
                                         int64_t now)
{
    return c->be->identity->player_set_password(c, id, hash, now);
}

pb_store_rc pb_store_player_rehash(pb_store_conn *c, int64_t id, const char *old_hash,
                                   const char *new_hash, int64_t now)
{
    return c->be->identity->player_rehash(c, id, old_hash, new_hash, now);
}

pb_store_rc pb_store_player_erase(pb_store_conn *c, int64_t id, const char *email, int64_t now)
{
    return c->be->identity->player_erase(c, id, email, now);
}

pb_store_rc pb_store_players_erased(pb_store_conn *c, int64_t after_id, pb_store_erased_player *out,
                                    size_t cap, size_t *n)
{
    return c->be->identity->players_erased(c, after_id, out, cap, n);
}

pb_store_rc pb_store_player_ledger_accounts(pb_store_conn *c, const char *brand, const char *owner,
                                            int64_t after_id, int64_t *ids, size_t cap, size_t *n)
{
    return c->be->identity->player_ledger_accounts(c, brand, owner, after_id, ids, cap, n);
}

pb_store_rc pb_store_player_open_bet(pb_store_conn *c, const char *public_id, int64_t active_since,
                                     pb_store_open_bet *out)
{
    return c->be->identity->player_open_bet(c, public_id, active_since, out);
}

pb_store_rc pb_store_player_set_status(pb_store_conn *c, int64_t id, const char *status,
                                       const char *reason, int64_t now)
{
    return c->be->identity->player_set_status(c, id, status, reason, now);
}

pb_store_rc pb_store_player_pii_unmarked(pb_store_conn *c, int64_t after_id, const char *marker,
                                         size_t min_len, pb_store_player_pii *out, size_t cap,
                                         size_t *n)
{
    return c->be->identity->player_pii_unmarked(c, after_id, marker, min_len, out, cap, n);
}

pb_store_rc pb_store_player_pii_set(pb_store_conn *c, const pb_store_player_pii *p)
{
    return c->be->identity->player_pii_set(c, p);
}

pb_store_rc pb_store_player_pii_newest(pb_store_conn *c, pb_store_player_pii *out)
{
    return c->be->identity->player_pii_newest(c, out);
}

pb_store_rc pb_store_staff_insert(pb_store_conn *c, pb_store_staff *s)
{
    return c->be->identity->staff_insert(c, s);
}

pb_store_rc pb_store_staff_get(pb_store_conn *c, int64_t id, pb_store_staff *out)
{
    return c->be->identity->staff_get(c, id, out);
}

pb_store_rc pb_store_staff_by_public_id(pb_store_conn *c, const char *public_id,
                                        pb_store_staff *out)
{
    return c->be->identity->staff_by_public_id(c, public_id, out);
}

pb_store_rc pb_store_staff_by_email(pb_store_conn *c, const char *email, pb_store_staff *out)
{
    return c->be->identity->staff_by_email(c, email, out);
}

pb_store_rc pb_store_staff_update(pb_store_conn *c, const pb_store_staff *s)
{
    return c->be->identity->staff_update(c, s);
}

pb_store_rc pb_store_staff_update_login(pb_store_conn *c, const pb_store_staff *s)
{
    return c->be->identity->staff_update_login(c, s);
}

pb_store_rc pb_store_staff_set_password(pb_store_conn *c, int64_t id, const char *hash,
                                        bool must_change, int64_t now)
{
    return c->be->identity->staff_set_password(c, id, hash, must_change, now);
}

pb_store_rc pb_store_staff_rehash(pb_store_conn *c, int64_t id, const char *old_hash,
                                  const char *new_hash, int64_t now)
{
    return c->be->identity->staff_rehash(c, id, old_hash, new_hash, now);
}

pb_store_rc pb_store_staff_set_totp(pb_store_conn *c, int64_t id, const uint8_t *sealed, size_t len,
                                    bool enrolled, int64_t last_step, int64_t now)
{
    return c->be->identity->staff_set_totp(c, id, sealed, len, enrolled, last_step, now);
}

pb_store_rc pb_store_staff_totp_advance(pb_store_conn *c, int64_t id, int64_t step, int64_t now)
{
    return c->be->identity->staff_totp_advance(c, id, step, now);
}

pb_store_rc pb_store_staff_brands_get(pb_store_conn *c, int64_t staff_id, int64_t *ids, size_t cap,
                                      size_t *n)
{
    return c->be->identity->staff_brands_get(c, staff_id, ids, cap, n);
}

pb_store_rc pb_store_staff_brands_set(pb_store_conn *c, int64_t staff_id, const int64_t *ids,
                                      size_t n)
{
    return c->be->identity->staff_brands_set(c, staff_id, ids, n);
}

pb_store_rc pb_store_staff_list(pb_store_conn *c, int64_t after_id, pb_store_staff *out, size_t cap,
                                size_t *n)
{
    return c->be->identity->staff_list(c, after_id, out, cap, n);
}

pb_store_rc pb_store_session_insert(pb_store_conn *c, pb_store_session *s)
{
    return c->be->identity->session_insert(c, s);
}

pb_store_rc pb_store_session_get(pb_store_conn *c, int64_t id, pb_store_session *out)
{
    return c->be->identity->session_get(c, id, out);
}

pb_store_rc pb_store_session_by_public_id(pb_store_conn *c, const char *public_id,
                                          pb_store_session *out)
{
    return c->be->identity->session_by_public_id(c, public_id, out);
}

pb_store_rc pb_store_session_touch(pb_store_conn *c, int64_t id, int64_t now,
                                   const char *user_agent, const char *ip)
{
    return c->be->identity->session_touch(c, id, now, user_agent, ip);
}

pb_store_rc pb_store_session_revoke(pb_store_conn *c, int64_t id, int64_t now, const char *reason)
{
    return c->be->identity->session_revoke(c, id, now, reason);
}

pb_store_rc pb_store_session_revoke_subject(pb_store_conn *c, const char *kind, int64_t subject_id,
                                            int64_t except_id, int64_t now, const char *reason,
                                            size_t *n)
{
    return c->be->identity->session_revoke_subject(c, kind, subject_id, except_id, now, reason, n);
}

pb_store_rc pb_store_session_list(pb_store_conn *c, const char *kind, int64_t subject_id,
                                  int64_t now, pb_store_session *out, size_t cap, size_t *n)
{
    return c->be->identity->session_list(c, kind, subject_id, now, out, cap, n);
}

pb_store_rc pb_store_refresh_insert(pb_store_conn *c, pb_store_refresh *r)
{
    return c->be->identity->refresh_insert(c, r);
}

pb_store_rc pb_store_refresh_by_hash(pb_store_conn *c, const uint8_t hash[32],
                                     pb_store_refresh *out)
{
    return c->be->identity->refresh_by_hash(c, hash, out);
}

pb_store_rc pb_store_refresh_mark_used(pb_store_conn *c, int64_t id, int64_t now)
{
    return c->be->identity->refresh_mark_used(c, id, now);
}

pb_store_rc pb_store_refresh_revoke_family(pb_store_conn *c, const char *family_id, int64_t now)
{
    return c->be->identity->refresh_revoke_family(c, family_id, now);
}

pb_store_rc pb_store_refresh_revoke_session(pb_store_conn *c, int64_t session_id, int64_t now)
{
    return c->be->identity->refresh_revoke_session(c, session_id, now);
}

pb_store_rc pb_store_auth_prune(pb_store_conn *c, int64_t refresh_before, int64_t session_before,
                                size_t max, size_t *refresh_n, size_t *session_n)
{
    return c->be->identity->auth_prune(c, refresh_before, session_before, max, refresh_n,
                                       session_n);
}

pb_store_rc pb_store_password_history(pb_store_conn *c, const char *kind, int64_t subject_id,
                                      char (*hashes)[PB_PASSWORD_HASH_MAX + 1], size_t cap,
                                      size_t *n)
{
    return c->be->identity->password_history(c, kind, subject_id, hashes, cap, n);
}

pb_store_rc pb_store_login_failure_get(pb_store_conn *c, const char *kind, int64_t subject_id,
                                       const char *addr, int64_t *failed, int64_t *locked_until)
{
    return c->be->identity->login_failure_get(c, kind, subject_id, addr, failed, locked_until);
}

pb_store_rc pb_store_login_failure_put(pb_store_conn *c, const char *kind, int64_t subject_id,
                                       const char *addr, int64_t failed, int64_t locked_until,
                                       int64_t now)
{
    return c->be->identity->login_failure_put(c, kind, subject_id, addr, failed, locked_until, now);
}

pb_store_rc pb_store_login_failure_clear(pb_store_conn *c, const char *kind, int64_t subject_id)
{
    return c->be->identity->login_failure_clear(c, kind, subject_id);
}

pb_store_rc pb_store_login_failure_locks(pb_store_conn *c, const char *kind, int64_t subject_id,
                                         int64_t now, pb_store_login_lock *out, size_t cap,
                                         size_t *n)
{
    return c->be->identity->login_failure_locks(c, kind, subject_id, now, out, cap, n);
}
