/*
 * auth.c — the authorizer every route with a permission goes through, and the
 * public key set that verifies access tokens (GET /.well-known/jwks.json).
 *
 * The server calls pb_api_authorize() after the body is read and before the
 * handler (see pb_http_authorize_fn). It reads `Authorization: Bearer <token>`
 * and picks the audience from the route's permission:
 *
 *   "player"           a player access token (pb_identity_authenticate, player API)
 *   "staff"            any staff session, full or setup (self-service routes:
 *                      me, logout, TOTP enrolment, password change); the handler
 *                      decides what a setup session may do there
 *   "players.read", …  a staff access token whose full session's role grants the
 *                      permission (pb_identity_authorize, brand 0 = "any brand in
 *                      scope"; checks on a specific brand are the handler's job).
 *                      A setup session is refused here by identity.
 *
 * On success the principal is copied into request memory (pb_http_principal();
 * handlers read it with pb_api_principal()). On failure the result is the reply,
 * with a WWW-Authenticate challenge (RFC 6750). Tokens are never logged.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "core/log.h"
#include "core/time.h"

/* The realm of every challenge. */
#define CHALLENGE "Bearer realm=\"pitboss\""
/* The challenge of a refused request signature (a provider's X-Pitboss-Signature,
 * a PSP's webhook signature): an HMAC over the body, not a Bearer token. */
#define SIGNATURE_CHALLENGE "Signature realm=\"pitboss\""

/* The token after "Bearer " (scheme case-insensitive, RFC 6750 token68 syntax);
 * NULL when the header is missing or garbled. */
static const char *bearer_token(const pb_http_request *req)
{
    const char *h = pb_http_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    const char *t = h + 7;
    while (*t == ' ')
        t++;
    size_t len = strcspn(t, " \t");
    if (len == 0 || len >= PB_ACCESS_TOKEN_MAX || t[len] != '\0' ||
        strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=") != len)
        return NULL;
    return t;
}

const char *pb_api_challenge_for(pb_err e)
{
    switch (e) {
    /* no usable credentials were presented: the login and the TOTP step answer
     * these, where the caller has no token yet (RFC 6750 §3.1: no error code) */
    case PB_ERR_UNAUTHENTICATED:
    case PB_ERR_CREDENTIALS_INVALID:
    case PB_ERR_TOTP_REQUIRED:
    case PB_ERR_TOTP_INVALID: return CHALLENGE;
    /* a token was presented and is not good (an access token, or the refresh
     * token of POST /v1/player/refresh) */
    case PB_ERR_TOKEN_INVALID:
    case PB_ERR_TOKEN_EXPIRED:
    case PB_ERR_SESSION_REVOKED:
    case PB_ERR_REFRESH_REUSED: return CHALLENGE ", error=\"invalid_token\"";
    case PB_ERR_FORBIDDEN:
    case PB_ERR_BRAND_FORBIDDEN: return CHALLENGE ", error=\"insufficient_scope\"";
    /* a provider's or a PSP's request signature (HMAC over the body; see
     * docs/native-protocol.md) */
    case PB_ERR_SIGNATURE_INVALID:
    case PB_ERR_TIMESTAMP_STALE: return SIGNATURE_CHALLENGE;
    default: return NULL;
    }
}

void pb_api_challenge(pb_http_request *req, pb_err e)
{
    const char *v = pb_api_challenge_for(e);
    if (v)
        pb_http_add_header(req, "WWW-Authenticate", v);
}

const char *pb_api_challenge_hook(void *ctx, pb_err code)
{
    (void)ctx;
    return pb_api_challenge_for(code);
}

/* A route's permission as the authorizer reads it. */
typedef enum { NEED_PLAYER, NEED_STAFF_ANY, NEED_STAFF_PERM, NEED_UNKNOWN } need_kind;

static need_kind route_need(const char *permission, pb_perm *perm)
{
    if (strcmp(permission, PB_API_PERM_PLAYER) == 0)
        return NEED_PLAYER;
    if (strcmp(permission, PB_API_PERM_STAFF) == 0)
        return NEED_STAFF_ANY;
    return pb_perm_parse(permission, perm) == PB_OK ? NEED_STAFF_PERM : NEED_UNKNOWN;
}

static pb_err authorize(pb_api_app *app, pb_http_request *req, const pb_route *route)
{
    pb_perm perm = 0;
    need_kind need = route_need(route->permission, &perm);
    if (need == NEED_UNKNOWN) { /* pb_api_routes_check() keeps this from happening */
        pb_log(PB_LOG_ERROR, "api.authorize", "route %s has an unknown permission '%s'",
               route->name, route->permission);
        return PB_ERR_INTERNAL;
    }
    const char *token = bearer_token(req);
    if (!token)
        return PB_ERR_UNAUTHENTICATED;
    if (!app->identity)
        return PB_ERR_INTERNAL;
    pb_store_conn *c = pb_http_conn(req);
    if (!c)
        return PB_ERR_STORE_UNAVAILABLE;
    pb_principal p;
    pb_subject_kind audience = need == NEED_PLAYER ? PB_SUBJECT_PLAYER : PB_SUBJECT_STAFF;
    pb_err e = pb_identity_authenticate(app->identity, c, audience, token, pb_time_now_us(), &p);
    if (e == PB_OK && need == NEED_STAFF_PERM)
        e = pb_identity_authorize(&p, perm, 0);
    if (e != PB_OK)
        return e;
    pb_principal *copy = pb_http_alloc(req, sizeof *copy);
    if (!copy)
        return PB_ERR_INTERNAL;
    *copy = p;
    pb_http_set_principal(req, copy, NULL);
    return PB_OK;
}

pb_err pb_api_authorize(void *ctx, pb_http_request *req, const pb_route *route)
{
    pb_err e = authorize(ctx, req, route);
    if (e != PB_OK)
        pb_api_challenge(req, e);
    return e;
}

const pb_principal *pb_api_principal(const pb_http_request *req) { return pb_http_principal(req); }

int pb_api_routes_check(const pb_route *routes, size_t n, char *err, size_t errcap)
{
    for (size_t i = 0; i < n; i++) {
        pb_perm perm;
        if (routes[i].permission && route_need(routes[i].permission, &perm) == NEED_UNKNOWN) {
            snprintf(err, errcap, "route %s: unknown permission '%s'", routes[i].name,
                     routes[i].permission);
            return -1;
        }
    }
    return 0;
}

/* Registrations per client IP: a burst of 10, then one a minute. Logins are
 * limited inside identity (per IP and per account), where the attempt is known. */
#define REGISTER_BURST 10
#define REGISTER_INTERVAL_US (60 * 1000000LL)
/* POST /v1/fair/verify with a crash commitment walks up to a million hashes (about
 * 0.3 s of a CPU) for anyone: 5 at once per client IP, then one every 12 s */
#define CHAIN_WALK_BURST 5
#define CHAIN_WALK_INTERVAL_US (12 * 1000000LL)
/* identity's per-IP bucket (logins and registrations together): 20, then one per 3 s */
#define AUTH_IP_INTERVAL_MS 3000

int pb_api_auth_open(pb_api_app *app, const char *keys_dir, int64_t player_access_ttl_s, char *err,
                     size_t errcap)
{
    if (pb_api_routes_check(pb_api_routes, pb_api_route_count, err, errcap) != 0)
        return -1;
    pb_identity_config cfg = {.keys_dir = keys_dir,
                              .player_access_ttl_s = player_access_ttl_s,
                              .ip_interval_ms = AUTH_IP_INTERVAL_MS};
    char why[300];
    app->identity = pb_identity_new(&cfg, pb_time_now_us(), why, sizeof why);
    if (!app->identity) {
        snprintf(err, errcap, "cannot open the identity keys in %s: %s", keys_dir, why);
        return -1;
    }
    app->auth_ip_interval_ms = AUTH_IP_INTERVAL_MS;
    app->rl_register_ip = pb_ratelimit_new(REGISTER_BURST, REGISTER_INTERVAL_US, 100000);
    app->rl_chain_walk_ip = pb_ratelimit_new(CHAIN_WALK_BURST, CHAIN_WALK_INTERVAL_US, 100000);
    if (!app->rl_register_ip || !app->rl_chain_walk_ip) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    return 0;
}

void pb_api_auth_close(pb_api_app *app)
{
    pb_ratelimit_free(app->rl_register_ip);
    pb_ratelimit_free(app->rl_chain_walk_ip);
    app->rl_register_ip = app->rl_chain_walk_ip = NULL;
    pb_identity_free(app->identity);
    app->identity = NULL;
}

/* Room for every key identity may hold (it keeps at most 64); in practice two or three
 * verify at once: the signing key, a successor, retired keys whose tokens may be alive. */
#define JWKS_MAX 64

void pb_api_jwks(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    pb_public_jwk keys[JWKS_MAX];
    size_t n = 0;
    if (!a->identity ||
        pb_identity_public_keys(a->identity, pb_time_now_us(), keys, JWKS_MAX, &n) != PB_OK) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *k = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "use", "sig", "alg",
                              keys[i].alg, "kid", keys[i].kid, "crv", keys[i].crv, "x", keys[i].x,
                              "y", keys[i].y);
        if (!k || json_array_append_new(arr, k) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    pb_http_reply_json(req, 200, arr ? json_pack("{s:o}", "keys", arr) : NULL);
}
