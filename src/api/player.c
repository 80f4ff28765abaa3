/*
 * player.c — the player API, /v1/player/…: the door players use through the
 * operator's front end.
 *
 *   POST   /v1/player/register        public  register in a brand → 201 {player}
 *   POST   /v1/player/login           public  email + password → tokens
 *   POST   /v1/player/refresh         public  rotate a refresh token → tokens
 *   POST   /v1/player/logout          player  end this session → 204
 *   GET    /v1/player/profile         player  the player
 *   GET    /v1/player/sessions        player  the player's devices
 *   DELETE /v1/player/sessions/{id}   player  end one of them → 204
 *   POST   /v1/player/password        player  change the password (the other sessions end) → 200
 *   (GET /v1/player/wallet and the transaction history: wallet_player.c)
 *
 * Every handler: parse the body with a field spec (routes without a body accept
 * none, or an empty object) → the authorizer has already found the principal →
 * one identity (or ledger read) call → reply. Register, login and refresh run
 * their own transactions inside identity (password hashing never holds the
 * write lock); logout and session revocation run in a write transaction here.
 * Passwords and tokens are never logged; the request log has no bodies.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "audit/audit.h"
#include "core/log.h"
#include "core/time.h"

#define TX_ATTEMPTS 4
#define SESSIONS_MAX 32

/* ---- helpers ------------------------------------------------------------ */

/* RFC 3339 text of a µs timestamp (a JSON string; null when it cannot be formatted). */
static json_t *time_json(int64_t us)
{
    char buf[PB_TIME_STR_MAX];
    return pb_time_format(us, buf, sizeof buf) > 0 ? json_string(buf) : json_null();
}

/* The store connection, or a 503 reply and NULL. */
static pb_store_conn *conn_or_reply(pb_http_request *req)
{
    pb_store_conn *c = pb_http_conn(req);
    if (!c)
        pb_http_reply_error_msg(req, PB_ERR_STORE_UNAVAILABLE, NULL,
                                "no database connection can be opened");
    return c;
}

/* For routes that take no body: accepts none, or an empty JSON object, and
 * otherwise replies (INVALID_JSON, UNKNOWN_FIELD, …) and returns false. */
static bool no_body(pb_http_request *req)
{
    size_t len = 0;
    pb_http_body(req, &len);
    return len == 0 || pb_http_parse_json(req, NULL, 0);
}

/* Where a request comes from, for sessions and rate limits. device (may be NULL)
 * names the session; otherwise the User-Agent header does. */
static pb_client_info client_of(const pb_http_request *req, const char *device)
{
    return (pb_client_info){.ip = pb_http_client_ip(req),
                            .user_agent = device ? device : pb_http_header(req, "User-Agent")};
}

/* A player as the API shows it: never the password hash, the lockout or a block reason.
 * A date of birth or name that does not open (identity/pii.c) is null, and logged. */
static json_t *player_json(const pb_http_request *req, const pb_player *p, const char *brand_code)
{
    if (p->pii_unavailable)
        pb_identity_pii_log_unavailable(pb_http_trace_id(req), 1);
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:o,s:o,s:o}", "id", p->public_id, "brand",
                     brand_code, "email", p->email, "country", p->country, "date_of_birth",
                     p->date_of_birth[0] ? json_string(p->date_of_birth) : json_null(), "currency",
                     p->currency, "status", pb_player_status_name(p->status), "created_at",
                     time_json(p->created_at), "first_name",
                     p->first_name[0] ? json_string(p->first_name) : json_null(), "last_name",
                     p->last_name[0] ? json_string(p->last_name) : json_null());
}

/* The token pair of a login or a refresh. */
static json_t *tokens_json(const pb_auth_tokens *t, int64_t now)
{
    int64_t at_s = (t->access_expires_at - now) / 1000000;
    int64_t rt_s = (t->refresh_expires_at - now) / 1000000;
    return json_pack("{s:s,s:s,s:I,s:s,s:I,s:s,s:s}", "access_token", t->access_token, "token_type",
                     "Bearer", "expires_in", (json_int_t)(at_s > 0 ? at_s : 0), "refresh_token",
                     t->refresh_token, "refresh_expires_in", (json_int_t)(rt_s > 0 ? rt_s : 0),
                     "session_id", t->session_id, "player_id", t->subject_id);
}

/* A write of the caller's principal, run by in_write_tx. */
typedef pb_err (*principal_write_fn)(pb_store_conn *c, const pb_principal *p, const char *arg,
                                     int64_t now);

/* Runs fn in a write transaction, retrying a busy database a few times. */
static pb_err in_write_tx(pb_store_conn *c, principal_write_fn fn, const pb_principal *p,
                          const char *arg, int64_t now)
{
    pb_err e = PB_ERR_STORE_UNAVAILABLE;
    for (int attempt = 0; attempt < TX_ATTEMPTS; attempt++) {
        pb_store_rc r = pb_store_begin(c, PB_STORE_WRITE);
        if (r == PB_STORE_BUSY)
            continue;
        if (r != PB_STORE_OK)
            return PB_ERR_INTERNAL;
        e = fn(c, p, arg, now);
        if (e != PB_OK) {
            pb_store_rollback(c);
            if (e == PB_ERR_STORE_UNAVAILABLE)
                continue;
            return e;
        }
        r = pb_store_commit(c);
        if (r == PB_STORE_OK)
            return PB_OK;
        pb_store_rollback(c);
        if (r != PB_STORE_BUSY)
            return PB_ERR_INTERNAL;
        e = PB_ERR_STORE_UNAVAILABLE;
    }
    return e;
}

static pb_err logout_write(pb_store_conn *c, const pb_principal *p, const char *arg, int64_t now)
{
    (void)arg;
    return pb_identity_logout(c, p, now);
}

static pb_err revoke_write(pb_store_conn *c, const pb_principal *p, const char *session_id,
                           int64_t now)
{
    return pb_identity_session_revoke(c, p, session_id, now);
}

/* The authenticated player, or a 401 (a route without the "player" permission). */
static const pb_principal *player_or_reply(pb_http_request *req)
{
    const pb_principal *p = pb_api_principal(req);
    if (!p || p->kind != PB_SUBJECT_PLAYER) {
        pb_http_reply_error(req, PB_ERR_UNAUTHENTICATED, NULL);
        return NULL;
    }
    return p;
}

/* ---- POST /v1/player/register ------------------------------------------- */

void pb_api_player_register(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *brand = NULL, *email = NULL, *password = NULL, *country = NULL, *dob = NULL,
               *currency = NULL, *first = NULL, *last = NULL;
    const pb_json_field spec[] = {
        {"brand", PB_JSON_STRING, .required = true, .min_len = 1, .max_len = 64, .str = &brand},
        {"email", PB_JSON_STRING, .required = true, .min_len = 1, .max_len = 320, .str = &email},
        {"password", PB_JSON_STRING, .required = true, .min_len = 1, .max_len = 1024,
         .str = &password},
        {"country", PB_JSON_STRING, .required = true, .min_len = 1, .max_len = 8, .str = &country},
        {"date_of_birth", PB_JSON_STRING, .required = true, .min_len = 1, .max_len = 16,
         .str = &dob},
        {"currency", PB_JSON_STRING, .min_len = 1, .max_len = 8, .str = &currency},
        {"first_name", PB_JSON_STRING, .nullable = true, .min_len = 1, .max_len = 1024,
         .str = &first},
        {"last_name", PB_JSON_STRING, .nullable = true, .min_len = 1, .max_len = 1024,
         .str = &last},
    };
    if (!pb_http_parse_json(req, spec, sizeof spec / sizeof spec[0]))
        return;
    int64_t now = pb_time_now_us(), wait_us = 0;
    /* keyed as the login lockout keys an address (an IPv6 client by its /64: one
     * host usually holds a whole /64, and a bucket per address would give it a
     * fresh allowance from each); "-" (the peer unknown) is one bucket */
    const char *ip = pb_http_client_ip(req);
    char key[PB_IP_MAX + 1];
    pb_identity_addr_key(ip, key);
    if (ip && *ip &&
        pb_ratelimit_take(a->rl_register_ip, key[0] ? key : ip, now, &wait_us) != PB_OK) {
        pb_http_add_retry_after(req, wait_us);
        pb_http_reply_error(req, PB_ERR_RATE_LIMITED, NULL);
        return;
    }
    pb_store_conn *c = conn_or_reply(req);
    if (!c)
        return;
    pb_player_registration reg = {.brand_code = brand,
                                  .email = email,
                                  .password = password,
                                  .country = country,
                                  .date_of_birth = dob,
                                  .currency = currency,
                                  .first_name = first,
                                  .last_name = last};
    pb_client_info client = client_of(req, NULL);
    pb_player p;
    const char *bad = NULL;
    pb_err e = pb_identity_player_register(a->identity, c, &reg, &client, now, &p, &bad);
    if (e == PB_ERR_RATE_LIMITED) /* identity's per-IP bucket, shared with logins */
        pb_http_add_retry_after(req, a->auth_ip_interval_ms * 1000);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, bad);
        return;
    }
    pb_log(PB_LOG_INFO, "player.registered", "player %s registered in brand %s", p.public_id,
           brand);
    pb_http_add_header(req, "Location", "/v1/player/profile");
    pb_http_reply_json(req, 201, json_pack("{s:o}", "player", player_json(req, &p, brand)));
}

/* ---- POST /v1/player/login ---------------------------------------------- */

void pb_api_player_login(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *brand = NULL, *email = NULL, *password = NULL, *device = NULL;
    const pb_json_field spec[] = {
        {"brand", PB_JSON_STRING, .required = true, .min_len = 1, .max_len = 64, .str = &brand},
        {"email", PB_JSON_STRING, .required = true, .min_len = 1, .max_len = 320, .str = &email},
        {"password", PB_JSON_STRING, .required = true, .min_len = 1, .max_len = 1024,
         .str = &password},
        {"device", PB_JSON_STRING, .nullable = true, .min_len = 1, .max_len = PB_USER_AGENT_MAX,
         .str = &device},
    };
    if (!pb_http_parse_json(req, spec, sizeof spec / sizeof spec[0]))
        return;
    pb_store_conn *c = conn_or_reply(req);
    if (!c)
        return;
    int64_t now = pb_time_now_us();
    pb_login_request lr = {.brand_code = brand, .email = email, .password = password};
    pb_client_info client = client_of(req, device);
    pb_auth_tokens t;
    pb_err e = pb_identity_player_login(a->identity, c, &lr, &client, now, &t);
    if (e == PB_ERR_RATE_LIMITED || e == PB_ERR_ACCOUNT_LOCKED)
        pb_http_add_retry_after(req, t.retry_after_us);
    if (e != PB_OK)
        pb_http_reply_error(req, e, e == PB_ERR_BRAND_NOT_FOUND ? "brand" : NULL);
    else
        pb_http_reply_json(req, 200, tokens_json(&t, now));
    sodium_memzero(&t, sizeof t);
}

/* ---- POST /v1/player/refresh -------------------------------------------- */

void pb_api_player_refresh(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *token = NULL;
    const pb_json_field spec[] = {
        {"refresh_token", PB_JSON_STRING, .required = true, .min_len = 1,
         .max_len = PB_REFRESH_TOKEN_MAX, .str = &token},
    };
    if (!pb_http_parse_json(req, spec, sizeof spec / sizeof spec[0]))
        return;
    pb_store_conn *c = conn_or_reply(req);
    if (!c)
        return;
    int64_t now = pb_time_now_us();
    /* the IP is the session's latest; its device name stays what login set */
    pb_client_info client = {.ip = pb_http_client_ip(req)};
    pb_auth_tokens t;
    pb_err e = pb_identity_refresh(a->identity, c, PB_SUBJECT_PLAYER, token, &client, now, &t);
    if (e == PB_ERR_REFRESH_REUSED)
        pb_log(PB_LOG_WARN, "player.refresh_reused",
               "a used refresh token was presented from %s: its family is revoked",
               client.ip ? client.ip : "?");
    if (e != PB_OK)
        pb_http_reply_error(req, e, NULL);
    else
        pb_http_reply_json(req, 200, tokens_json(&t, now));
    sodium_memzero(&t, sizeof t);
}

/* ---- POST /v1/player/logout --------------------------------------------- */

void pb_api_player_logout(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = player_or_reply(req);
    if (!p || !no_body(req))
        return;
    pb_store_conn *c = conn_or_reply(req);
    if (!c)
        return;
    pb_err e = in_write_tx(c, logout_write, p, NULL, pb_time_now_us());
    if (e != PB_OK)
        pb_http_reply_error(req, e, NULL);
    else
        pb_http_reply_text(req, 204, "text/plain", "", 0);
}

/* ---- GET /v1/player/profile --------------------------------------------- */

void pb_api_player_profile(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = player_or_reply(req);
    if (!p || !no_body(req))
        return;
    pb_store_conn *c = conn_or_reply(req);
    if (!c)
        return;
    pb_player pl;
    pb_err e = pb_identity_player_get_pii(c, NULL, p->subject_public_id, &pl);
    if (e != PB_OK)
        pb_http_reply_error(req, e, NULL);
    else
        pb_http_reply_json(req, 200, player_json(req, &pl, p->brand_code));
}

/* ---- GET /v1/player/sessions, DELETE /v1/player/sessions/{id} ---------- */

void pb_api_player_sessions(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = player_or_reply(req);
    if (!p || !no_body(req))
        return;
    pb_store_conn *c = conn_or_reply(req);
    if (!c)
        return;
    pb_session_info *s = pb_http_alloc(req, SESSIONS_MAX * sizeof *s);
    size_t n = 0;
    pb_err e = s ? pb_identity_sessions_list(c, p, pb_time_now_us(), s, SESSIONS_MAX, &n)
                 : PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        json_t *o = json_pack("{s:s,s:s?,s:s?,s:o,s:o,s:o,s:b}", "id", s[i].id, "device",
                              s[i].user_agent[0] ? s[i].user_agent : NULL, "ip",
                              s[i].ip[0] ? s[i].ip : NULL, "created_at", time_json(s[i].created_at),
                              "last_seen", time_json(s[i].last_seen_at), "expires_at",
                              time_json(s[i].expires_at), "current", s[i].current);
        if (!o || json_array_append_new(list, o) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    pb_http_reply_json(req, 200, list ? json_pack("{s:o}", "sessions", list) : NULL);
}

void pb_api_player_session_revoke(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = player_or_reply(req);
    if (!p || !no_body(req))
        return;
    const char *id = pb_http_param(req, "id");
    pb_id parsed;
    if (!id || pb_id_parse(id, strlen(id), &parsed) != 0) { /* not an id: not theirs either */
        pb_http_reply_error(req, PB_ERR_NOT_FOUND, NULL);
        return;
    }
    pb_store_conn *c = conn_or_reply(req);
    if (!c)
        return;
    pb_err e = in_write_tx(c, revoke_write, p, id, pb_time_now_us());
    if (e != PB_OK)
        pb_http_reply_error(req, e, NULL);
    else
        pb_http_reply_text(req, 204, "text/plain", "", 0);
}

/* ---- POST /v1/player/password ------------------------------------------- */

/* identity's per-account bucket refills one attempt per 30 s (its default): the
 * wait of a rate-limited change. */
#define PASSWORD_RETRY_US (30 * 1000000LL)

typedef struct password_audit {
    pb_http_request *req;
    const pb_principal *p;
} password_audit;

/* player.password_change, in the transaction that stores the new password: an
 * append that fails undoes the change. */
static pb_err password_audited(pb_store_conn *c, void *ctx)
{
    password_audit *x = ctx;
    const char *ip = pb_http_client_ip(x->req);
    pb_audit_entry en = {.actor_kind = "player",
                         .actor_id = x->p->subject_public_id,
                         .brand = x->p->brand_code,
                         .action = "player.password_change",
                         .target_kind = "player",
                         .target_id = x->p->subject_public_id,
                         .trace_id = pb_http_trace_id(x->req),
                         .ip = ip && strcmp(ip, "-") != 0 ? ip : NULL};
    return pb_audit_append(c, &en, pb_time_now_us());
}

void pb_api_player_password(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *current = NULL, *next = NULL;
    const pb_json_field spec[] = {
        {"current_password", PB_JSON_STRING, .required = true, .min_len = 1, .max_len = 1024,
         .str = &current},
        {"new_password", PB_JSON_STRING, .required = true, .min_len = 1, .max_len = 1024,
         .str = &next},
    };
    const pb_principal *p = player_or_reply(req);
    if (!p || !pb_http_parse_json(req, spec, sizeof spec / sizeof spec[0]))
        return;
    pb_store_conn *c = conn_or_reply(req);
    if (!c)
        return;
    /* a wrong current password counts like a failed login from this address */
    pb_client_info client = client_of(req, NULL);
    password_audit x = {.req = req, .p = p};
    int64_t locked_wait = 0;
    pb_err e = pb_identity_password_change(a->identity, c, p, &client, current, next,
                                           pb_time_now_us(), &locked_wait, password_audited, &x);
    if (e == PB_ERR_ACCOUNT_LOCKED)
        pb_http_add_retry_after(req, locked_wait > 0 ? locked_wait : PASSWORD_RETRY_US);
    else if (e == PB_ERR_RATE_LIMITED)
        pb_http_add_retry_after(req, PASSWORD_RETRY_US);
    if (e == PB_ERR_CREDENTIALS_INVALID) {
        /* the token is good, the typed password is not: 403 CURRENT_PASSWORD_INVALID,
         * never identity's 401 CREDENTIALS_INVALID (with its WWW-Authenticate), which
         * a client reads as "your session has ended" and logs the player out */
        pb_http_reply_error(req, PB_ERR_CURRENT_PASSWORD_INVALID, "current_password");
        return;
    }
    if (e != PB_OK) {
        pb_http_reply_error(req, e,
                            e == PB_ERR_PASSWORD_WEAK || e == PB_ERR_PASSWORD_REUSED
                                ? "new_password"
                                : NULL);
        return;
    }
    pb_log(PB_LOG_INFO, "player.password_changed", "player %s changed their password",
           p->subject_public_id);
    pb_http_reply_json(req, 200, json_pack("{s:b}", "password_changed", 1));
}
