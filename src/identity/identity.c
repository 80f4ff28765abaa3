/*
 * identity.c — the identity context (configuration, key set, TOTP sealing key,
 * rate limiters), the transaction helper the self-transacting operations share,
 * and authentication of access tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "identity/identity_internal.h"

#define MINUTE 60
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)
#define TX_ATTEMPTS 4

/* Fills zero fields with the documented defaults and caps the token lifetimes. */
static void config_defaults(pb_identity_config *c)
{
    if (c->player_access_ttl_s <= 0 || c->player_access_ttl_s > 15 * MINUTE)
        c->player_access_ttl_s = 15 * MINUTE;
    if (c->staff_access_ttl_s <= 0 || c->staff_access_ttl_s > 15 * MINUTE)
        c->staff_access_ttl_s = 5 * MINUTE;
    if (c->player_session_ttl_s <= 0)
        c->player_session_ttl_s = 30 * DAY;
    if (c->player_session_idle_s <= 0)
        c->player_session_idle_s = 7 * DAY;
    if (c->staff_session_ttl_s <= 0)
        c->staff_session_ttl_s = 8 * HOUR;
    if (c->staff_session_idle_s <= 0)
        c->staff_session_idle_s = 30 * MINUTE;
    if (c->setup_session_ttl_s <= 0)
        c->setup_session_ttl_s = 15 * MINUTE;
    if (c->key_publish_s < 0)
        c->key_publish_s = 0;
    if (c->lockout_threshold <= 0)
        c->lockout_threshold = 5;
    if (c->lockout_s <= 0)
        c->lockout_s = 15 * MINUTE;
    if (c->lockout_max_s <= 0)
        c->lockout_max_s = 24 * HOUR;
    if (c->lockout_account_threshold <= 0)
        c->lockout_account_threshold = 4 * c->lockout_threshold;
    if (c->lockout_account_threshold < c->lockout_threshold)
        c->lockout_account_threshold = c->lockout_threshold;
    if (c->ip_burst == 0)
        c->ip_burst = 20;
    if (c->ip_interval_ms <= 0)
        c->ip_interval_ms = 3000;
    if (c->account_burst == 0)
        c->account_burst = 10;
    if (c->account_interval_ms <= 0)
        c->account_interval_ms = 30000;
    if (c->ratelimit_keys == 0)
        c->ratelimit_keys = 100000;
}

/* The longest access-token lifetime we issue: keys verify this long after they stop signing. */
static int64_t max_access_ttl_s(const pb_identity_config *c)
{
    return c->player_access_ttl_s > c->staff_access_ttl_s ? c->player_access_ttl_s
                                                          : c->staff_access_ttl_s;
}

/* Fills in defaults, opens the key set and the TOTP sealing key, and makes the limiters. */
pb_identity *pb_identity_new(const pb_identity_config *cfg, int64_t now, char *err, size_t errcap)
{
    if (sodium_init() < 0) {
        snprintf(err, errcap, "libsodium failed to initialise");
        return NULL;
    }
    pb_identity *id = calloc(1, sizeof *id);
    if (!id) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    id->cfg = *cfg;
    config_defaults(&id->cfg);
    const char *issuer = cfg->issuer && *cfg->issuer ? cfg->issuer : "pitboss";
    if (!cfg->keys_dir || !*cfg->keys_dir || strlen(cfg->keys_dir) >= sizeof id->keys_dir ||
        strlen(issuer) >= sizeof id->issuer) {
        snprintf(err, errcap, "keys directory missing, or a path or issuer too long");
        free(id);
        return NULL;
    }
    snprintf(id->keys_dir, sizeof id->keys_dir, "%s", cfg->keys_dir);
    snprintf(id->issuer, sizeof id->issuer, "%s", issuer);
    snprintf(id->aud_player, sizeof id->aud_player, "%s:player-api", issuer);
    snprintf(id->aud_staff, sizeof id->aud_staff, "%s:staff-api", issuer);
    id->cfg.keys_dir = id->keys_dir;
    id->cfg.issuer = id->issuer;
    int64_t max_ttl_us = (max_access_ttl_s(&id->cfg) + 60) * 1000000; /* + skew margin */
    id->keys = pb_keyset_open(id->keys_dir, max_ttl_us, id->cfg.key_publish_s * 1000000, now, err,
                              errcap);
    if (!id->keys || pb_keyset_secret(id->keys, "totp.key", id->totp_key, err, errcap) != PB_OK) {
        pb_identity_free(id);
        return NULL;
    }
    id->rl_ip = pb_ratelimit_new(id->cfg.ip_burst, id->cfg.ip_interval_ms * 1000,
                                 id->cfg.ratelimit_keys);
    id->rl_account = pb_ratelimit_new(id->cfg.account_burst, id->cfg.account_interval_ms * 1000,
                                      id->cfg.ratelimit_keys);
    /* a real hash with today's parameters, so an unknown email costs what a known one does */
    char dummy[PB_ONE_TIME_PASSWORD_MAX];
    pb_password_one_time(dummy);
    if (!id->rl_ip || !id->rl_account || pb_password_hash(dummy, id->dummy_hash) != PB_OK) {
        snprintf(err, errcap, "out of memory");
        pb_identity_free(id);
        return NULL;
    }
    sodium_memzero(dummy, sizeof dummy);
    return id;
}

/* Frees the context and wipes its secrets. */
void pb_identity_free(pb_identity *id)
{
    if (!id)
        return;
    pb_keyset_free(id->keys);
    pb_ratelimit_free(id->rl_ip);
    pb_ratelimit_free(id->rl_account);
    sodium_memzero(id->totp_key, sizeof id->totp_key);
    free(id);
}

/* Rotates the signing keys (keys.c). */
pb_err pb_identity_keys_rotate(pb_identity *id, int64_t now, char kid_out[32])
{
    return pb_keyset_rotate(id->keys, now, kid_out);
}

/* Reloads the signing keys (keys.c). */
pb_err pb_identity_keys_reload(pb_identity *id, int64_t now)
{
    return pb_keyset_reload(id->keys, now);
}

/* Lists the verifying keys (keys.c). */
pb_err pb_identity_public_keys(pb_identity *id, int64_t now, pb_public_jwk *out, size_t cap,
                               size_t *n)
{
    return pb_keyset_public_keys(id->keys, now, out, cap, n);
}

pb_err pb_identity_secret(pb_identity *id, const char *name, uint8_t key[32], char *err,
                          size_t errcap)
{
    return pb_keyset_secret(id->keys, name, key, err, errcap);
}

/* The text stored in auth_session.subject_kind. */
const char *pb_subject_kind_name(pb_subject_kind k)
{
    return k == PB_SUBJECT_STAFF ? "staff" : "player";
}

/* Maps a store result to a pb_err, logging unexpected failures. */
pb_err pb_id_store_err(pb_store_conn *c, pb_store_rc r, pb_err not_found, const char *what)
{
    switch (r) {
    case PB_STORE_OK: return PB_OK;
    case PB_STORE_NOT_FOUND: return not_found;
    case PB_STORE_BUSY: return PB_ERR_STORE_UNAVAILABLE;
    default:
        pb_log(PB_LOG_ERROR, "identity.store", "%s: %s", what, pb_store_errmsg(c));
        return PB_ERR_INTERNAL;
    }
}

/* Begin, fn, commit or roll back; a busy database is retried TX_ATTEMPTS times. */
pb_err pb_id_tx(pb_store_conn *c, pb_id_tx_fn fn, void *ctx)
{
    pb_err e = PB_ERR_STORE_UNAVAILABLE;
    for (int attempt = 0; attempt < TX_ATTEMPTS; attempt++) {
        pb_store_rc r = pb_store_begin(c, PB_STORE_WRITE);
        if (r == PB_STORE_BUSY)
            continue;
        if (r != PB_STORE_OK)
            return pb_id_store_err(c, r, PB_ERR_INTERNAL, "begin");
        bool keep = false;
        e = fn(c, ctx, &keep);
        if (e != PB_OK && !keep) {
            pb_store_rollback(c);
            if (e == PB_ERR_STORE_UNAVAILABLE)
                continue; /* a busy statement: run the whole transaction again */
            return e;
        }
        r = pb_store_commit(c);
        if (r == PB_STORE_OK)
            return e;
        pb_store_rollback(c);
        if (r != PB_STORE_BUSY)
            return pb_id_store_err(c, r, PB_ERR_INTERNAL, "commit");
        e = PB_ERR_STORE_UNAVAILABLE;
    }
    return e;
}

/* A staff principal's brand scope, as stored now. */
static pb_err load_scope(pb_store_conn *c, pb_principal *p, const pb_store_staff *s)
{
    memset(&p->scope, 0, sizeof p->scope);
    p->scope.all = s->all_brands;
    if (p->scope.all)
        return PB_OK;
    return pb_id_store_err(c,
                           pb_store_staff_brands_get(c, s->id, p->scope.brand_ids,
                                                     PB_SCOPE_MAX_BRANDS, &p->scope.n),
                           PB_ERR_INTERNAL, "staff brands");
}

/* Whether two brand scopes are the same (load_scope lists the brands ascending). */
static bool scope_same(const pb_brand_scope *a, const pb_brand_scope *b)
{
    if (a->all || b->all)
        return a->all == b->all;
    return a->n == b->n && memcmp(a->brand_ids, b->brand_ids, a->n * sizeof *a->brand_ids) == 0;
}

/* Token first (stateless), then the session and the subject as they are now. */
pb_err pb_identity_authenticate(pb_identity *id, pb_store_conn *c, pb_subject_kind audience,
                                const char *access_token, int64_t now, pb_principal *out)
{
    memset(out, 0, sizeof *out);
    bool staff = audience == PB_SUBJECT_STAFF;
    pb_jwt_claims cl;
    pb_err e = pb_jwt_verify(id->keys, id->issuer, staff ? id->aud_staff : id->aud_player,
                             staff ? id->cfg.staff_access_ttl_s : id->cfg.player_access_ttl_s,
                             access_token, now, &cl);
    if (e != PB_OK)
        return e;
    if (cl.kind != audience)
        return PB_ERR_TOKEN_INVALID;
    pb_store_session s;
    e = pb_id_store_err(c, pb_store_session_by_public_id(c, cl.sid, &s), PB_ERR_TOKEN_INVALID,
                        "session get");
    if (e != PB_OK)
        return e;
    if (strcmp(s.subject_kind, pb_subject_kind_name(audience)) != 0)
        return PB_ERR_TOKEN_INVALID;
    if (s.revoked_at != 0 || now >= s.expires_at || now >= s.last_seen_at + s.idle_s * 1000000)
        return PB_ERR_SESSION_REVOKED;
    out->kind = audience;
    out->subject_id = s.subject_id;
    out->session_id = s.id;
    out->session_scope = cl.scope;
    out->access_expires_at = cl.exp * 1000000;
    snprintf(out->session_public_id, sizeof out->session_public_id, "%s", s.public_id);
    if (!staff) {
        pb_store_player pl;
        e = pb_id_store_err(c, pb_store_player_get(c, s.subject_id, &pl), PB_ERR_TOKEN_INVALID,
                            "player get");
        if (e == PB_OK && strcmp(pl.public_id, cl.sub) != 0)
            e = PB_ERR_TOKEN_INVALID;
        if (e == PB_OK && strcmp(pl.status, "active") != 0)
            e = PB_ERR_PLAYER_BLOCKED;
        if (e != PB_OK)
            return e;
        out->brand_id = pl.brand_id;
        snprintf(out->brand_code, sizeof out->brand_code, "%s", cl.brand);
        snprintf(out->subject_public_id, sizeof out->subject_public_id, "%s", pl.public_id);
        out->scope.n = 1; /* a player sees their own brand */
        out->scope.brand_ids[0] = pl.brand_id;
        return PB_OK;
    }
    pb_store_staff st;
    e = pb_id_store_err(c, pb_store_staff_get(c, s.subject_id, &st), PB_ERR_TOKEN_INVALID,
                        "staff get");
    if (e == PB_OK && strcmp(st.public_id, cl.sub) != 0)
        e = PB_ERR_TOKEN_INVALID;
    if (e == PB_OK && strcmp(st.status, "active") != 0)
        e = PB_ERR_FORBIDDEN;
    if (e == PB_OK && pb_role_parse(st.role, &out->role) != PB_OK)
        e = PB_ERR_INTERNAL;
    if (e != PB_OK)
        return e;
    snprintf(out->subject_public_id, sizeof out->subject_public_id, "%s", st.public_id);
    return load_scope(c, out, &st);
}

/* The session by internal id, then the subject, as the transaction sees them. */
pb_err pb_identity_principal_check(pb_store_conn *c, const pb_principal *p, int64_t now)
{
    if (!p)
        return PB_ERR_UNAUTHENTICATED;
    pb_store_session s;
    pb_err e = pb_id_store_err(c, pb_store_session_get(c, p->session_id, &s),
                               PB_ERR_SESSION_REVOKED, "session get");
    if (e != PB_OK)
        return e;
    if (s.subject_id != p->subject_id ||
        strcmp(s.subject_kind, pb_subject_kind_name(p->kind)) != 0 || s.revoked_at != 0 ||
        now >= s.expires_at || now >= s.last_seen_at + s.idle_s * 1000000)
        return PB_ERR_SESSION_REVOKED;
    if (p->kind == PB_SUBJECT_PLAYER) {
        pb_store_player pl;
        e = pb_id_store_err(c, pb_store_player_get(c, s.subject_id, &pl), PB_ERR_SESSION_REVOKED,
                            "player get");
        if (e == PB_OK && strcmp(pl.status, "active") != 0)
            e = PB_ERR_PLAYER_BLOCKED;
        return e;
    }
    pb_store_staff st;
    e = pb_id_store_err(c, pb_store_staff_get(c, s.subject_id, &st), PB_ERR_SESSION_REVOKED,
                        "staff get");
    if (e == PB_OK && strcmp(st.status, "active") != 0)
        e = PB_ERR_FORBIDDEN;
    if (e == PB_OK && strcmp(st.role, pb_role_name(p->role)) != 0)
        e = PB_ERR_SESSION_REVOKED; /* a role change ends sessions: this one is stale */
    /* and so does a change of the brand scope: the staff API ends the member's sessions
     * at once; a change made around it (in the store) ends this one here */
    if (e == PB_OK) {
        pb_principal cur;
        e = load_scope(c, &cur, &st);
        if (e == PB_OK && !scope_same(&cur.scope, &p->scope))
            e = PB_ERR_SESSION_REVOKED;
    }
    sodium_memzero(&st, sizeof st);
    return e;
}

/* One read transaction around the check: the session and the subject from the
 * same snapshot. A begin that fails is a failure (STORE_UNAVAILABLE when busy,
 * INTERNAL otherwise), never a pass. */
pb_err pb_identity_principal_recheck(pb_store_conn *c, const pb_principal *p, int64_t now)
{
    if (!p)
        return PB_ERR_UNAUTHENTICATED;
    pb_err e = pb_id_store_err(c, pb_store_begin(c, PB_STORE_READ), PB_ERR_INTERNAL, "begin");
    if (e != PB_OK)
        return e;
    e = pb_identity_principal_check(c, p, now);
    pb_store_rollback(c); /* read-only: nothing to keep */
    return e;
}
