/*
 * login.c — the password step that player and staff logins share: email
 * normalisation, rate limits, lockout, and verification that costs the same
 * whether or not the email exists.
 *
 * Order: per-IP limit, per-account limit, lookup, lock check, argon2id verify
 * (against a dummy hash of the same parameters when the email is unknown), then
 * on a wrong password one more failure is counted in its own transaction —
 * `lockout_threshold` consecutive failures lock the account for `lockout_s`; a
 * success (session.c) resets the count. A lock that has expired starts the count
 * over. Unknown email and wrong password both answer CREDENTIALS_INVALID.
 * A locked account answers ACCOUNT_LOCKED at once, which tells that it exists;
 * the per-account rate limit bounds how fast anyone can probe for that.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "identity/identity_internal.h"

/* RFC 5322 atext, the characters an unquoted local part may hold besides '.'. */
static bool atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

/* A DNS host name of at least two labels whose last label is not all digits. */
static bool domain_valid(const char *d, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t labels = 0, start = 0;
    bool last_all_digits = true;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && d[i] != '.')
            continue;
        size_t len = i - start;
        if (len == 0 || len > 63 || d[start] == '-' || d[i - 1] == '-')
            return false;
        last_all_digits = true;
        for (size_t j = start; j < i; j++) {
            unsigned char c = (unsigned char)d[j];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-'))
                return false;
            if (c < '0' || c > '9')
                last_all_digits = false;
        }
        labels++;
        start = i + 1;
    }
    return labels >= 2 && !last_all_digits;
}

/* Accepts the common dot-atom form only (no quoted local parts, no IP literals). */
bool pb_email_normalize(const char *email, char out[PB_EMAIL_MAX + 1])
{
    size_t n = email ? strlen(email) : 0;
    const char *at = n ? strchr(email, '@') : NULL;
    if (n == 0 || n > PB_EMAIL_MAX || !at || strchr(at + 1, '@'))
        return false;
    size_t local = (size_t)(at - email);
    if (local == 0 || local > 64 || email[0] == '.' || email[local - 1] == '.')
        return false;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)email[i];
        if (!(atext(c) || (c == '.' && email[i + 1] != '.')))
            return false;
    }
    if (!domain_valid(at + 1, n - local - 1))
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)((email[i] >= 'A' && email[i] <= 'Z') ? email[i] + 32 : email[i]);
    return true;
}

/* One token from the per-IP bucket; requests without an IP are not limited here. */
pb_err pb_login_limit_ip(pb_identity *id, const pb_client_info *client, int64_t now,
                         int64_t *retry_after_us)
{
    *retry_after_us = 0;
    if (!client || !client->ip || !*client->ip)
        return PB_OK;
    char key[PB_IP_MAX + 8];
    snprintf(key, sizeof key, "ip:%s", client->ip);
    return pb_ratelimit_take(id->rl_ip, key, now, retry_after_us);
}

/* The login state of a subject, whichever its kind. */
static int64_t *failed_of(pb_login_subject *s)
{
    return s->kind == PB_SUBJECT_STAFF ? &s->staff.failed_logins : &s->player.failed_logins;
}
static int64_t *locked_of(pb_login_subject *s)
{
    return s->kind == PB_SUBJECT_STAFF ? &s->staff.locked_until : &s->player.locked_until;
}

typedef struct fail_ctx {
    pb_identity *id;
    pb_login_subject *s;
    int64_t now;
    bool locked;
} fail_ctx;

/* Re-reads the subject inside the transaction and counts one failure. */
static pb_err fail_tx(pb_store_conn *c, void *ctx, bool *keep)
{
    (void)keep;
    fail_ctx *f = ctx;
    pb_login_subject *s = f->s;
    pb_store_rc r = s->kind == PB_SUBJECT_STAFF ? pb_store_staff_get(c, s->staff.id, &s->staff)
                                                : pb_store_player_get(c, s->player.id, &s->player);
    pb_err e = pb_id_store_err(c, r, PB_ERR_CREDENTIALS_INVALID, "login subject get");
    if (e != PB_OK)
        return e;
    int64_t *failed = failed_of(s), *locked = locked_of(s);
    if (*locked != 0 && *locked <= f->now) { /* an expired lock: start over */
        *failed = 0;
        *locked = 0;
    }
    (*failed)++;
    if (*failed >= f->id->cfg.lockout_threshold && *locked <= f->now) {
        *locked = f->now + f->id->cfg.lockout_s * 1000000;
        f->locked = true;
    }
    if (s->kind == PB_SUBJECT_STAFF) {
        s->staff.updated_at = f->now;
        r = pb_store_staff_update_login(c, &s->staff);
    } else {
        s->player.updated_at = f->now;
        r = pb_store_player_update_login(c, &s->player);
    }
    return pb_id_store_err(c, r, PB_ERR_INTERNAL, "login failure count");
}

/* Counts the failure in its own transaction and reports a lock it caused. */
pb_err pb_login_failed(pb_identity *id, pb_store_conn *c, pb_login_subject *s, int64_t now,
                       pb_err otherwise, pb_auth_tokens *out)
{
    fail_ctx f = {.id = id, .s = s, .now = now};
    pb_err e = pb_id_tx(c, fail_tx, &f);
    if (e != PB_OK)
        return e;
    if (f.locked) {
        pb_log(PB_LOG_WARN, "identity.lockout", "%s %s locked after %d failed logins",
               pb_subject_kind_name(s->kind),
               s->kind == PB_SUBJECT_STAFF ? s->staff.public_id : s->player.public_id,
               id->cfg.lockout_threshold);
        out->retry_after_us = *locked_of(s) - now;
        return PB_ERR_ACCOUNT_LOCKED;
    }
    return otherwise;
}

/* The shared password step of both logins (see the file comment for the order). */
pb_err pb_login_password(pb_identity *id, pb_store_conn *c, pb_subject_kind kind, int64_t brand_id,
                         const char *email, const char *password, const pb_client_info *client,
                         int64_t now, pb_login_subject *s, pb_auth_tokens *out)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    pb_err e = pb_login_limit_ip(id, client, now, &out->retry_after_us);
    if (e != PB_OK)
        return e;
    char norm[PB_EMAIL_MAX + 1];
    if (pb_email_normalize(email, norm)) {
        char key[PB_EMAIL_MAX + 32];
        snprintf(key, sizeof key, "%s:%lld:%s", kind == PB_SUBJECT_STAFF ? "staff" : "player",
                 (long long)brand_id, norm);
        e = pb_ratelimit_take(id->rl_account, key, now, &out->retry_after_us);
        if (e != PB_OK)
            return e;
        pb_store_rc r = kind == PB_SUBJECT_STAFF
                            ? pb_store_staff_by_email(c, norm, &s->staff)
                            : pb_store_player_by_email(c, brand_id, norm, &s->player);
        e = pb_id_store_err(c, r, PB_OK, "login lookup");
        if (e != PB_OK)
            return e;
        s->found = r == PB_STORE_OK;
    }
    if (s->found && *locked_of(s) > now) {
        out->retry_after_us = *locked_of(s) - now;
        return PB_ERR_ACCOUNT_LOCKED;
    }
    const char *hash = !s->found                  ? id->dummy_hash
                       : kind == PB_SUBJECT_STAFF ? s->staff.password_hash
                                                  : s->player.password_hash;
    const char *pw = password ? password : "";
    bool ok = pb_password_verify(hash, pw) && strlen(pw) <= PB_PASSWORD_MAX_BYTES;
    if (!s->found)
        return PB_ERR_CREDENTIALS_INVALID;
    if (!ok)
        return pb_login_failed(id, c, s, now, PB_ERR_CREDENTIALS_INVALID, out);
    return PB_OK;
}

typedef struct password_ctx {
    pb_login_subject *s;
    const char *hash;
    int64_t keep_session;
    int64_t now;
    pb_err (*in_tx)(pb_store_conn *c, void *ctx); /* the caller's, in the same transaction */
    void *in_tx_ctx;
} password_ctx;

/* Stores the new hash, clears must_change_password and ends the other sessions. */
static pb_err password_tx(pb_store_conn *c, void *ctx, bool *keep)
{
    (void)keep;
    password_ctx *x = ctx;
    bool staff = x->s->kind == PB_SUBJECT_STAFF;
    int64_t sid = staff ? x->s->staff.id : x->s->player.id;
    pb_store_rc r = staff ? pb_store_staff_set_password(c, sid, x->hash, false, x->now)
                          : pb_store_player_set_password(c, sid, x->hash, x->now);
    if (r == PB_STORE_OK)
        r = pb_store_session_revoke_subject(c, pb_subject_kind_name(x->s->kind), sid,
                                            x->keep_session, x->now, "password_changed", NULL);
    pb_err e = pb_id_store_err(c, r, PB_ERR_INTERNAL, "password change");
    return e == PB_OK && x->in_tx ? x->in_tx(c, x->in_tx_ctx) : e;
}

/* Verifies the old password like a login, then stores the new hash and ends the other sessions. */
pb_err pb_identity_password_change(pb_identity *id, pb_store_conn *c, const pb_principal *p,
                                   const char *old_password, const char *new_password, int64_t now,
                                   pb_err (*in_tx)(pb_store_conn *c, void *ctx), void *in_tx_ctx)
{
    pb_auth_tokens *scratch = calloc(1, sizeof *scratch);
    pb_login_subject *s = calloc(1, sizeof *s);
    char hash[PB_PASSWORD_HASH_MAX + 1];
    pb_err e = scratch && s ? PB_OK : PB_ERR_INTERNAL;
    if (e == PB_OK) {
        char key[64];
        snprintf(key, sizeof key, "password:%s:%lld", pb_subject_kind_name(p->kind),
                 (long long)p->subject_id);
        e = pb_ratelimit_take(id->rl_account, key, now, NULL);
    }
    if (e == PB_OK) {
        s->kind = p->kind;
        s->found = true;
        pb_store_rc r = p->kind == PB_SUBJECT_STAFF
                            ? pb_store_staff_get(c, p->subject_id, &s->staff)
                            : pb_store_player_get(c, p->subject_id, &s->player);
        e = pb_id_store_err(c, r, PB_ERR_UNAUTHENTICATED, "password change subject");
    }
    if (e == PB_OK && *locked_of(s) > now)
        e = PB_ERR_ACCOUNT_LOCKED;
    const char *stored = s && p->kind == PB_SUBJECT_STAFF ? s->staff.password_hash
                         : s                              ? s->player.password_hash
                                                          : "";
    if (e == PB_OK && !pb_password_verify(stored, old_password ? old_password : ""))
        e = pb_login_failed(id, c, s, now, PB_ERR_CREDENTIALS_INVALID, scratch);
    if (e == PB_OK)
        e = pb_password_policy(new_password,
                               p->kind == PB_SUBJECT_STAFF ? s->staff.email : s->player.email);
    if (e == PB_OK && pb_password_verify(stored, new_password))
        e = PB_ERR_PASSWORD_WEAK; /* the same password again */
    if (e == PB_OK)
        e = pb_password_hash(new_password, hash);
    if (e == PB_OK) {
        password_ctx x = {.s = s,
                          .hash = hash,
                          .keep_session = p->session_id,
                          .now = now,
                          .in_tx = in_tx,
                          .in_tx_ctx = in_tx_ctx};
        e = pb_id_tx(c, password_tx, &x);
    }
    sodium_memzero(hash, sizeof hash);
    if (s)
        sodium_memzero(s, sizeof *s);
    free(s);
    free(scratch);
    return e;
}
