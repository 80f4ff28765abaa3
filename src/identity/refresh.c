/*
 * refresh.c — opaque refresh tokens, rotated on every use (RFC 9700 section 4.14).
 *
 * A token is "pbr_" + base64url of 32 random bytes (the prefix lets secret
 * scanners recognise a leaked one). Only its SHA-256 is stored. Each session has
 * one family: every refresh marks the presented token used and issues a child.
 * A token presented after it was used means two parties hold the family (a
 * thief and the owner): the whole family and its session are revoked and the
 * caller gets REFRESH_REUSED; both parties must log in again. Marking a token
 * used is a compare-and-set, so two concurrent refreshes with the same token
 * are treated the same way.
 *
 * The subject's status is read in the rotation's transaction on every refresh:
 * a disabled staff member answers FORBIDDEN (403, what their login with the right
 * password answers), a player who is not active (blocked, self-excluded, closed or
 * erased) PLAYER_BLOCKED (403, likewise). Disabling or blocking revokes the
 * sessions itself; a session found alive here means some path forgot to, so the
 * refusal also revokes the family and the session (committed, logged as a
 * warning): re-enabling the account later must not bring an old session back.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "identity/identity_internal.h"

#define PREFIX "pbr_"
#define RANDOM_BYTES 32

/* A fresh opaque token and the hash that is all the database keeps of it. */
void pb_refresh_token_new(char token[PB_REFRESH_TOKEN_MAX], uint8_t hash[32])
{
    uint8_t rnd[RANDOM_BYTES];
    randombytes_buf(rnd, sizeof rnd);
    memcpy(token, PREFIX, sizeof PREFIX - 1);
    sodium_bin2base64(token + sizeof PREFIX - 1, PB_REFRESH_TOKEN_MAX - (sizeof PREFIX - 1), rnd,
                      sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof rnd);
    crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
}

/* Checks the token's shape before hashing, so junk never reaches the database. */
bool pb_refresh_token_hash(const char *token, uint8_t hash[32])
{
    size_t n = token ? strlen(token) : 0;
    size_t body = sodium_base64_ENCODED_LEN(RANDOM_BYTES,
                                            sodium_base64_VARIANT_URLSAFE_NO_PADDING) -
                  1;
    if (n != sizeof PREFIX - 1 + body || memcmp(token, PREFIX, sizeof PREFIX - 1) != 0 ||
        strspn(token + sizeof PREFIX - 1,
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != body)
        return false;
    crypto_hash_sha256(hash, (const unsigned char *)token, n);
    return true;
}

typedef struct refresh_ctx {
    pb_identity *id;
    pb_subject_kind audience;
    const uint8_t *hash;
    const pb_client_info *client;
    int64_t now;
    pb_auth_tokens *out;
} refresh_ctx;

/* Reuse detected: revokes the family and the session; the caller commits this. */
static pb_err reused(pb_store_conn *c, const pb_store_refresh *r, const pb_store_session *s,
                     int64_t now, bool *keep)
{
    pb_err e = pb_id_store_err(c, pb_store_refresh_revoke_family(c, r->family_id, now),
                               PB_ERR_INTERNAL, "refresh revoke family");
    if (e == PB_OK)
        e = pb_id_store_err(c, pb_store_session_revoke(c, s->id, now, "refresh_reuse"),
                            PB_ERR_INTERNAL, "session revoke");
    if (e != PB_OK)
        return e;
    pb_log(PB_LOG_WARN, "identity.refresh_reuse",
           "a used refresh token was presented again: family %s and session %s revoked",
           r->family_id, s->public_id);
    *keep = true;
    return PB_ERR_REFRESH_REUSED;
}

/* The subject is no longer allowed in, yet its session was alive: revokes the
 * family and the session (the caller commits this) and answers why (e). */
static pb_err inactive(pb_store_conn *c, const pb_store_refresh *r, const pb_store_session *s,
                       int64_t now, bool *keep, pb_err why)
{
    pb_err e = pb_id_store_err(c, pb_store_refresh_revoke_family(c, r->family_id, now),
                               PB_ERR_INTERNAL, "refresh revoke family");
    if (e == PB_OK)
        e = pb_id_store_err(c, pb_store_session_revoke(c, s->id, now, "subject_inactive"),
                            PB_ERR_INTERNAL, "session revoke");
    if (e != PB_OK)
        return e;
    pb_log(PB_LOG_WARN, "identity.refresh_inactive",
           "a refresh for a %s no longer active: session %s was still alive, revoked now",
           s->subject_kind, s->public_id);
    *keep = true;
    return why;
}

/* The subject of the session, still allowed in: its public id, brand code, role. */
static pb_err subject_of(pb_store_conn *c, const pb_store_session *s, char *public_id,
                         char *brand_code, char *role)
{
    if (strcmp(s->subject_kind, "staff") == 0) {
        pb_store_staff st;
        pb_err e = pb_id_store_err(c, pb_store_staff_get(c, s->subject_id, &st),
                                   PB_ERR_SESSION_REVOKED, "staff get");
        if (e == PB_OK && strcmp(st.status, "active") != 0)
            e = PB_ERR_FORBIDDEN;
        if (e == PB_OK) {
            snprintf(public_id, PB_ID_STR_LEN + 1, "%s", st.public_id);
            snprintf(role, PB_ROLE_NAME_MAX + 1, "%s", st.role);
        }
        return e;
    }
    pb_store_player pl;
    pb_brand *b = NULL;
    pb_err e = pb_id_store_err(c, pb_store_player_get(c, s->subject_id, &pl),
                               PB_ERR_SESSION_REVOKED, "player get");
    if (e == PB_OK && strcmp(pl.status, "active") != 0)
        e = PB_ERR_PLAYER_BLOCKED;
    if (e == PB_OK && !(b = malloc(sizeof *b)))
        e = PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = pb_tenancy_brand_get(c, pl.brand_id, b);
    if (e == PB_OK) {
        snprintf(public_id, PB_ID_STR_LEN + 1, "%s", pl.public_id);
        snprintf(brand_code, PB_BRAND_CODE_MAX + 1, "%s", b->code);
    }
    free(b);
    return e;
}

/* The rotation transaction. */
static pb_err refresh_tx(pb_store_conn *c, void *ctx, bool *keep)
{
    refresh_ctx *x = ctx;
    pb_store_refresh r;
    pb_store_session s;
    pb_err e = pb_id_store_err(c, pb_store_refresh_by_hash(c, x->hash, &r), PB_ERR_TOKEN_INVALID,
                               "refresh get");
    if (e == PB_OK)
        e = pb_id_store_err(c, pb_store_session_get(c, r.session_id, &s), PB_ERR_TOKEN_INVALID,
                            "session get");
    if (e != PB_OK)
        return e;
    if (strcmp(s.subject_kind, pb_subject_kind_name(x->audience)) != 0)
        return PB_ERR_TOKEN_INVALID;
    if (r.used_at != 0)
        return reused(c, &r, &s, x->now, keep);
    if (r.revoked_at != 0 || s.revoked_at != 0)
        return PB_ERR_SESSION_REVOKED;
    if (x->now >= r.expires_at || x->now >= s.expires_at ||
        x->now >= s.last_seen_at + s.idle_s * 1000000)
        return PB_ERR_TOKEN_EXPIRED;
    char public_id[PB_ID_STR_LEN + 1] = "", brand[PB_BRAND_CODE_MAX + 1] = "",
                                   role[PB_ROLE_NAME_MAX + 1] = "";
    e = subject_of(c, &s, public_id, brand, role);
    if (e == PB_ERR_FORBIDDEN || e == PB_ERR_PLAYER_BLOCKED)
        return inactive(c, &r, &s, x->now, keep, e);
    if (e != PB_OK)
        return e;
    pb_store_rc rc = pb_store_refresh_mark_used(c, r.id, x->now);
    if (rc == PB_STORE_CONFLICT)
        return reused(c, &r, &s, x->now, keep); /* a concurrent refresh used it first */
    if ((e = pb_id_store_err(c, rc, PB_ERR_INTERNAL, "refresh mark used")) != PB_OK)
        return e;
    pb_store_refresh child;
    memset(&child, 0, sizeof child);
    pb_refresh_token_new(x->out->refresh_token, child.token_hash);
    memcpy(child.family_id, r.family_id, sizeof child.family_id);
    child.session_id = s.id;
    child.parent_id = r.id;
    child.created_at = x->now;
    int64_t idle_end = x->now + s.idle_s * 1000000;
    child.expires_at = idle_end < s.expires_at ? idle_end : s.expires_at;
    x->out->refresh_expires_at = child.expires_at;
    e = pb_id_store_err(c, pb_store_refresh_insert(c, &child), PB_ERR_INTERNAL, "refresh insert");
    if (e == PB_OK) {
        const pb_client_info *ci = x->client;
        e = pb_id_store_err(c,
                            pb_store_session_touch(c, s.id, x->now,
                                                   ci && ci->user_agent ? ci->user_agent
                                                                        : s.user_agent,
                                                   ci && ci->ip ? ci->ip : s.ip),
                            PB_ERR_INTERNAL, "session touch");
    }
    if (e == PB_OK)
        e = pb_session_access_token(x->id, &s, public_id, brand, role[0] ? role : NULL, x->now,
                                    x->out);
    return e;
}

/* Rotates the token in one transaction (see refresh_tx). Not rate-limited: a
 * 256-bit token cannot be guessed, and clients behind one NAT refresh often. */
pb_err pb_identity_refresh(pb_identity *id, pb_store_conn *c, pb_subject_kind audience,
                           const char *refresh_token, const pb_client_info *client, int64_t now,
                           pb_auth_tokens *out)
{
    memset(out, 0, sizeof *out);
    uint8_t hash[32];
    if (!pb_refresh_token_hash(refresh_token, hash))
        return PB_ERR_TOKEN_INVALID;
    refresh_ctx x = {
        .id = id, .audience = audience, .hash = hash, .client = client, .now = now, .out = out};
    pb_err e = pb_id_tx(c, refresh_tx, &x);
    if (e != PB_OK)
        sodium_memzero(out, sizeof *out);
    return e;
}
