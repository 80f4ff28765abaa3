/*
 * session.c — sessions (one per login and device) and the tokens issued for them.
 *
 * A successful login ends here: one transaction resets the failure count,
 * applies a pending password rehash or TOTP step, opens the session and stores
 * the first refresh token of its family; the access token is signed before the
 * commit, so nothing is committed that the caller does not receive.
 *
 * The login was decided on the subject's record as read before the (slow)
 * password check. The transaction reads it again first (recheck): a member or
 * player disabled or blocked meanwhile gets what a fresh login would answer
 * (FORBIDDEN / PLAYER_BLOCKED), a password, one-time password flag or TOTP
 * (enrolment, seed) changed meanwhile answers CREDENTIALS_INVALID, as a wrong
 * password would; either way nothing is opened. A role changed meanwhile
 * needs no refusal: the session is opened from the fresh record, so its token
 * carries the current role. Sessions end
 * at their absolute expiry, after `idle` without a refresh, or when revoked
 * (logout, a device removed, a reused refresh token, a block or role change).
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "identity/identity_internal.h"

/* Copies a client string (may be NULL) into a bounded field, cutting at a UTF-8 boundary. */
static void copy_client(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}

/* Signs the session's access token, never outliving the session, and fills out. */
pb_err pb_session_access_token(pb_identity *id, const pb_store_session *s,
                               const char *subject_public_id, const char *brand_code,
                               const char *role, int64_t now, pb_auth_tokens *out)
{
    pb_jwt_claims cl;
    memset(&cl, 0, sizeof cl);
    bool staff = strcmp(s->subject_kind, "staff") == 0;
    cl.kind = staff ? PB_SUBJECT_STAFF : PB_SUBJECT_PLAYER;
    cl.scope = strcmp(s->scope, "setup") == 0 ? PB_SCOPE_SETUP : PB_SCOPE_FULL;
    snprintf(cl.sub, sizeof cl.sub, "%s", subject_public_id);
    snprintf(cl.sid, sizeof cl.sid, "%s", s->public_id);
    snprintf(cl.brand, sizeof cl.brand, "%s", brand_code ? brand_code : "");
    snprintf(cl.role, sizeof cl.role, "%s", role ? role : "");
    int64_t ttl = staff ? id->cfg.staff_access_ttl_s : id->cfg.player_access_ttl_s;
    int64_t left = (s->expires_at - now) / 1000000; /* never outlive the session */
    if (left < ttl)
        ttl = left > 0 ? left : 1;
    pb_err e = pb_jwt_sign(id->keys, id->issuer, staff ? id->aud_staff : id->aud_player, &cl, ttl,
                           now, out->access_token, sizeof out->access_token);
    if (e != PB_OK)
        return e;
    out->access_expires_at = cl.exp * 1000000;
    out->scope = cl.scope;
    snprintf(out->session_id, sizeof out->session_id, "%s", s->public_id);
    snprintf(out->subject_id, sizeof out->subject_id, "%s", subject_public_id);
    return PB_OK;
}

typedef struct open_ctx {
    pb_identity *id;
    const pb_session_open *so;
    const pb_client_info *client;
    int64_t now;
    pb_auth_tokens *out;
} open_ctx;

/* Resets the subject's failure count and applies the rehash / TOTP step. */
static pb_err record_success(pb_store_conn *c, const open_ctx *o)
{
    pb_login_subject *s = o->so->subject;
    pb_store_rc r;
    if (s->kind == PB_SUBJECT_STAFF) {
        pb_store_staff *st = &s->staff;
        st->failed_logins = st->locked_until = 0;
        st->last_login_at = st->updated_at = o->now;
        r = pb_store_staff_update_login(c, st);
        if (r == PB_STORE_OK && o->so->totp_step > 0) {
            r = pb_store_staff_totp_advance(c, st->id, o->so->totp_step, o->now);
            if (r == PB_STORE_CONFLICT)
                return PB_ERR_TOTP_INVALID; /* the same code won a race a moment ago */
        }
        if (r == PB_STORE_OK && o->so->new_hash) {
            r = pb_store_staff_rehash(c, st->id, st->password_hash, o->so->new_hash, o->now);
            if (r == PB_STORE_NOT_FOUND)
                r = PB_STORE_OK; /* changed since the login read it: that one stays */
        }
    } else {
        pb_store_player *pl = &s->player;
        pl->failed_logins = pl->locked_until = 0;
        pl->last_login_at = pl->updated_at = o->now;
        r = pb_store_player_update_login(c, pl);
        if (r == PB_STORE_OK && o->so->new_hash) {
            r = pb_store_player_rehash(c, pl->id, pl->password_hash, o->so->new_hash, o->now);
            if (r == PB_STORE_NOT_FOUND)
                r = PB_STORE_OK; /* changed since the login read it: that one stays */
        }
    }
    if (r == PB_STORE_OK) /* every address's count too (login.c) */
        r = pb_store_login_failure_clear(c, pb_subject_kind_name(s->kind),
                                         s->kind == PB_SUBJECT_STAFF ? s->staff.id : s->player.id);
    return pb_id_store_err(c, r, PB_ERR_INTERNAL, "login success");
}

/* The first refresh token of a new session's family (full sessions only). */
static pb_err first_refresh(pb_store_conn *c, const pb_store_session *ss, int64_t now,
                            pb_auth_tokens *out)
{
    pb_store_refresh r;
    memset(&r, 0, sizeof r);
    pb_id fam;
    pb_id_new(&fam);
    pb_id_to_string(&fam, r.family_id);
    pb_refresh_token_new(out->refresh_token, r.token_hash);
    r.session_id = ss->id;
    r.created_at = now;
    int64_t idle_end = now + ss->idle_s * 1000000;
    r.expires_at = idle_end < ss->expires_at ? idle_end : ss->expires_at;
    out->refresh_expires_at = r.expires_at;
    return pb_id_store_err(c, pb_store_refresh_insert(c, &r), PB_ERR_INTERNAL, "refresh insert");
}

/* Reads the subject again inside the session's transaction and refuses the
 * login when what it was decided on has changed since (see the file comment);
 * otherwise the fresh record replaces the one read before the password check. */
static pb_err recheck(pb_store_conn *c, pb_login_subject *s)
{
    pb_err e;
    if (s->kind == PB_SUBJECT_STAFF) {
        pb_store_staff now;
        const pb_store_staff *was = &s->staff;
        e = pb_id_store_err(c, pb_store_staff_get(c, was->id, &now), PB_ERR_CREDENTIALS_INVALID,
                            "login recheck");
        if (e == PB_OK && strcmp(now.status, "active") != 0)
            e = PB_ERR_FORBIDDEN; /* what the login answers a disabled member */
        if (e == PB_OK &&
            (strcmp(now.password_hash, was->password_hash) != 0 ||
             now.must_change_password != was->must_change_password ||
             now.totp_enrolled != was->totp_enrolled ||
             now.totp_secret_len != was->totp_secret_len ||
             sodium_memcmp(now.totp_secret, was->totp_secret, now.totp_secret_len) != 0))
            e = PB_ERR_CREDENTIALS_INVALID;
        if (e == PB_OK)
            s->staff = now;
        sodium_memzero(&now, sizeof now);
        return e;
    }
    pb_store_player now;
    const pb_store_player *was = &s->player;
    e = pb_id_store_err(c, pb_store_player_get(c, was->id, &now), PB_ERR_CREDENTIALS_INVALID,
                        "login recheck");
    if (e == PB_OK && strcmp(now.status, "active") != 0)
        e = PB_ERR_PLAYER_BLOCKED; /* what the login answers a player not active */
    if (e == PB_OK && strcmp(now.password_hash, was->password_hash) != 0)
        e = PB_ERR_CREDENTIALS_INVALID;
    if (e == PB_OK)
        s->player = now;
    sodium_memzero(&now, sizeof now);
    return e;
}

/* The session-opening transaction. */
static pb_err open_tx(pb_store_conn *c, void *ctx, bool *keep)
{
    (void)keep;
    open_ctx *o = ctx;
    const pb_session_open *so = o->so;
    pb_login_subject *s = so->subject;
    bool staff = s->kind == PB_SUBJECT_STAFF;
    pb_err e = recheck(c, s);
    if (e == PB_OK)
        e = record_success(c, o);
    if (e != PB_OK)
        return e;
    pb_store_session ss;
    memset(&ss, 0, sizeof ss);
    pb_id sid;
    pb_id_new(&sid);
    pb_id_to_string(&sid, ss.public_id);
    snprintf(ss.subject_kind, sizeof ss.subject_kind, "%s", pb_subject_kind_name(s->kind));
    ss.subject_id = staff ? s->staff.id : s->player.id;
    ss.brand_id = staff ? 0 : s->player.brand_id;
    snprintf(ss.scope, sizeof ss.scope, "%s", so->scope == PB_SCOPE_SETUP ? "setup" : "full");
    copy_client(ss.user_agent, sizeof ss.user_agent, o->client ? o->client->user_agent : NULL);
    copy_client(ss.ip, sizeof ss.ip, o->client ? o->client->ip : NULL);
    const pb_identity_config *cfg = &o->id->cfg;
    int64_t ttl = so->scope == PB_SCOPE_SETUP ? cfg->setup_session_ttl_s
                  : staff                     ? cfg->staff_session_ttl_s
                                              : cfg->player_session_ttl_s;
    ss.idle_s = so->scope == PB_SCOPE_SETUP ? cfg->setup_session_ttl_s
                : staff                     ? cfg->staff_session_idle_s
                                            : cfg->player_session_idle_s;
    ss.created_at = ss.last_seen_at = o->now;
    ss.expires_at = o->now + ttl * 1000000;
    e = pb_id_store_err(c, pb_store_session_insert(c, &ss), PB_ERR_INTERNAL, "session insert");
    if (e == PB_OK && so->scope == PB_SCOPE_FULL)
        e = first_refresh(c, &ss, o->now, o->out);
    if (e == PB_OK)
        e = pb_session_access_token(o->id, &ss, staff ? s->staff.public_id : s->player.public_id,
                                    so->brand_code, staff ? s->staff.role : NULL, o->now, o->out);
    return e;
}

/* Runs open_tx in its own transaction; on failure no token leaves. */
pb_err pb_session_open_tx(pb_identity *id, pb_store_conn *c, const pb_session_open *so,
                          const pb_client_info *client, int64_t now, pb_auth_tokens *out)
{
    open_ctx o = {.id = id, .so = so, .client = client, .now = now, .out = out};
    pb_err e = pb_id_tx(c, open_tx, &o);
    if (e != PB_OK) {
        sodium_memzero(out->access_token, sizeof out->access_token);
        sodium_memzero(out->refresh_token, sizeof out->refresh_token);
    }
    return e;
}

/* Revokes the principal's own session (and its refresh tokens). */
pb_err pb_identity_logout(pb_store_conn *c, const pb_principal *p, int64_t now)
{
    return pb_id_store_err(c, pb_store_session_revoke(c, p->session_id, now, "logout"),
                           PB_ERR_SESSION_REVOKED, "session revoke");
}

/* Lists the principal's live sessions as devices. */
pb_err pb_identity_sessions_list(pb_store_conn *c, const pb_principal *p, int64_t now,
                                 pb_session_info *out, size_t cap, size_t *n)
{
    *n = 0;
    pb_store_session rows[32];
    size_t want = cap < 32 ? cap : 32, got = 0;
    pb_err e = pb_id_store_err(c,
                               pb_store_session_list(c, pb_subject_kind_name(p->kind),
                                                     p->subject_id, now, rows, want, &got),
                               PB_ERR_INTERNAL, "session list");
    for (size_t i = 0; e == PB_OK && i < got; i++) {
        pb_session_info *si = &out[i];
        memset(si, 0, sizeof *si);
        snprintf(si->id, sizeof si->id, "%s", rows[i].public_id);
        snprintf(si->user_agent, sizeof si->user_agent, "%s", rows[i].user_agent);
        snprintf(si->ip, sizeof si->ip, "%s", rows[i].ip);
        si->created_at = rows[i].created_at;
        si->last_seen_at = rows[i].last_seen_at;
        si->expires_at = rows[i].expires_at;
        si->current = rows[i].id == p->session_id;
        (*n)++;
    }
    return e;
}

/* Revokes one of the principal's sessions; other subjects' sessions are not found. */
pb_err pb_identity_session_revoke(pb_store_conn *c, const pb_principal *p, const char *session_id,
                                  int64_t now)
{
    pb_store_session s;
    pb_store_rc r = pb_store_session_by_public_id(c, session_id ? session_id : "", &s);
    pb_err e = pb_id_store_err(c, r, PB_ERR_NOT_FOUND, "session get");
    if (e != PB_OK)
        return e;
    if (s.subject_id != p->subject_id || strcmp(s.subject_kind, pb_subject_kind_name(p->kind)) != 0)
        return PB_ERR_NOT_FOUND; /* not theirs: as if it did not exist */
    return pb_id_store_err(c, pb_store_session_revoke(c, s.id, now, "revoked"), PB_ERR_NOT_FOUND,
                           "session revoke");
}

/* Revokes every session of a subject and their refresh tokens. */
pb_err pb_identity_sessions_revoke_all(pb_store_conn *c, pb_subject_kind kind, int64_t subject_id,
                                       int64_t now, size_t *n)
{
    return pb_id_store_err(c,
                           pb_store_session_revoke_subject(c, pb_subject_kind_name(kind),
                                                           subject_id, 0, now, "revoked", n),
                           PB_ERR_INTERNAL, "session revoke all");
}
