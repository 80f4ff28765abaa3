/*
 * admin_auth.c — the staff door: login (password + TOTP), token refresh,
 * logout, TOTP enrolment, password change and "who am I".
 *
 *   POST /v1/admin/login          public   {email, password, totp?} → tokens
 *   POST /v1/admin/refresh        public   {refresh_token} → tokens (rotated)
 *   POST /v1/admin/logout         staff    ends the caller's session
 *   GET  /v1/admin/me             staff    the caller, their session and permissions
 *   POST /v1/admin/totp/enroll    staff    → {otpauth_uri, secret}
 *   POST /v1/admin/totp/confirm   staff    {code} activates the seed
 *   POST /v1/admin/password       staff    {current, new}
 *
 * "staff" routes accept any staff session, including a setup session (a new
 * member who must change the one-time password and enrol TOTP first): these
 * are exactly what a setup session may do. Every other staff route needs a
 * full session, which identity gives only after a TOTP code.
 *
 * Audit: a login and a failed login (wrong password, unknown email, missing
 * or wrong TOTP code, locked or disabled account) are recorded as
 * "staff.login" / "staff.login_failed". identity runs its own transactions for
 * logins (password hashing never holds the write lock), so the entry is
 * appended in its own transaction right after. A failed login records the
 * email as typed in actor_email and no actor id, whether or not an account has
 * that email — the entry says what was tried, not what exists. A successful
 * login that cannot be audited is undone (its session revoked) and answered
 * 503: no unaudited session leaves. Attempts refused by the rate limiter are
 * not audited (they never reach the credentials; the request log has them).
 * Logout, TOTP enrolment and a password change are audited in the same
 * transaction as the change (the password's through identity's in_tx hook): a
 * failed append undoes the change.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/admin.h"
#include "core/log.h"
#include "core/time.h"

/* identity's per-account bucket refills one attempt per 30 s (its default): the wait of a
 * rate-limited password change. */
#define PASSWORD_RETRY_US (30 * 1000000LL)

/* Retry-After (whole seconds, at least 1) for a rate-limited or locked login. */
static void retry_after(pb_http_request *req, const pb_api_app *a, pb_err e, int64_t us)
{
    if (e != PB_ERR_RATE_LIMITED && e != PB_ERR_ACCOUNT_LOCKED)
        return;
    pb_http_add_retry_after(req, us > 0 ? us : a->auth_ip_interval_ms * 1000);
}

/* The token pair of a login or refresh. */
static json_t *tokens_json(const pb_auth_tokens *t)
{
    bool full = t->scope == PB_SCOPE_FULL;
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:s,s:b,s:b}", "token_type", "Bearer",
                     "access_token", t->access_token, "access_expires_at",
                     pb_admin_time_json(t->access_expires_at), "refresh_token",
                     full && t->refresh_token[0] ? json_string(t->refresh_token) : json_null(),
                     "refresh_expires_at", pb_admin_time_json(full ? t->refresh_expires_at : 0),
                     "session_id", t->session_id, "staff_id", t->subject_id, "scope",
                     full ? "full" : "setup", "must_change_password", t->must_change_password,
                     "totp_enrollment_required", t->totp_enrollment_required);
}

typedef struct login_audit {
    pb_http_request *req;
    const pb_principal *p; /* success: the new session's principal; failure: NULL */
    const char *email;     /* failure: as typed */
    pb_err result;
    const char *session_id;
} login_audit;

/* Appends "staff.login" or "staff.login_failed". */
static pb_err login_audit_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    login_audit *x = ctx;
    pb_audit_entry e;
    pb_staff st;
    if (x->p) {
        pb_err r = pb_identity_staff_get(c, x->p->subject_public_id, &st);
        if (r != PB_OK)
            return r;
        pb_admin_entry(x->req, x->p, "staff.login", &e);
        e.actor_email = st.email;
        e.after = pb_admin_json_text(x->req,
                                     json_pack("{s:s,s:s}", "session_id", x->session_id, "scope",
                                               x->p->session_scope == PB_SCOPE_FULL ? "full"
                                                                                    : "setup"));
    } else {
        pb_admin_entry(x->req, NULL, "staff.login_failed", &e);
        e.actor_email = x->email;
        if (pb_audit_validate(&e, NULL) != PB_OK)
            e.actor_email = NULL; /* what was typed cannot be stored as text: leave it out */
        e.after = pb_admin_json_text(x->req, json_pack("{s:s}", "result", pb_err_code(x->result)));
    }
    if (!e.after)
        return PB_ERR_INTERNAL;
    return pb_audit_append(c, &e, pb_time_now_us());
}

/* The outcomes of a login attempt that are a failed login worth recording. */
static bool audited_failure(pb_err e)
{
    return e == PB_ERR_CREDENTIALS_INVALID || e == PB_ERR_ACCOUNT_LOCKED ||
           e == PB_ERR_TOTP_REQUIRED || e == PB_ERR_TOTP_INVALID || e == PB_ERR_FORBIDDEN;
}

/* Audits a successful login, or revokes its session when that is impossible. */
static pb_err audit_login_success(pb_http_request *req, pb_api_app *a, const pb_auth_tokens *t,
                                  int64_t now)
{
    pb_store_conn *c = pb_http_conn(req);
    pb_principal p;
    pb_err e = c ? pb_identity_authenticate(a->identity, c, PB_SUBJECT_STAFF, t->access_token, now,
                                            &p)
                 : PB_ERR_STORE_UNAVAILABLE;
    if (e == PB_OK) {
        login_audit x = {.req = req, .p = &p, .result = PB_OK, .session_id = t->session_id};
        e = pb_admin_write(req, login_audit_tx, &x, NULL);
        if (e == PB_OK)
            return PB_OK;
        if (pb_store_begin(c, PB_STORE_WRITE) == PB_STORE_OK) {
            if (pb_identity_logout(c, &p, now) == PB_OK && pb_store_commit(c) == PB_STORE_OK) {
                pb_log(PB_LOG_ERROR, "admin.login",
                       "login of staff %s not audited: session "
                       "revoked (trace %s)",
                       p.subject_public_id, pb_http_trace_id(req));
                return PB_ERR_STORE_UNAVAILABLE;
            }
            pb_store_rollback(c);
        }
    }
    pb_log(PB_LOG_ERROR, "admin.login",
           "a login could not be audited nor undone: session %s "
           "(trace %s)",
           t->session_id, pb_http_trace_id(req));
    return PB_ERR_INTERNAL;
}

void pb_api_admin_login(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *email = NULL, *password = NULL, *totp = NULL;
    pb_json_field f[] = {
        {.name = "email",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_EMAIL_MAX,
         .str = &email},
        {.name = "password",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 256,
         .str = &password},
        {.name = "totp",
         .type = PB_JSON_STRING,
         .nullable = true,
         .min_len = 6,
         .max_len = 8,
         .str = &totp},
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]))
        return;
    if (totp && strspn(totp, "0123456789") != strlen(totp)) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "totp", "totp: 6 to 8 digits");
        return;
    }
    pb_store_conn *c = pb_http_conn(req);
    if (!c || !a->identity) {
        pb_admin_fail(req, c ? PB_ERR_INTERNAL : PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    pb_auth_tokens *t = pb_http_alloc(req, sizeof *t);
    if (!t) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_login_request lr = {.email = email, .password = password, .totp_code = totp};
    pb_client_info ci = {.ip = pb_http_client_ip(req),
                         .user_agent = pb_http_header(req, "User-Agent")};
    int64_t now = pb_time_now_us();
    pb_err e = pb_identity_staff_login(a->identity, c, &lr, &ci, now, t);
    if (e == PB_OK)
        e = audit_login_success(req, a, t, now);
    else if (audited_failure(e)) {
        login_audit x = {.req = req, .email = email, .result = e};
        pb_err ae = pb_admin_write(req, login_audit_tx, &x, NULL);
        if (ae != PB_OK)
            pb_log(PB_LOG_ERROR, "admin.login",
                   "a failed login could not be audited: %s "
                   "(trace %s)",
                   pb_err_code(ae), pb_http_trace_id(req));
    }
    if (e != PB_OK) {
        retry_after(req, a, e, t->retry_after_us);
        pb_admin_fail(req, e, NULL);
        return;
    }
    json_t *body = tokens_json(t);
    sodium_memzero(t, sizeof *t); /* the body holds the only copy now */
    pb_http_reply_json(req, 200, body);
}

void pb_api_admin_refresh(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *token = NULL;
    pb_json_field f[] = {{.name = "refresh_token",
                          .type = PB_JSON_STRING,
                          .required = true,
                          .min_len = 1,
                          .max_len = 256,
                          .str = &token}};
    if (!pb_http_parse_json(req, f, 1))
        return;
    pb_store_conn *c = pb_http_conn(req);
    pb_auth_tokens *t = pb_http_alloc(req, sizeof *t);
    if (!c || !t || !a->identity) {
        pb_admin_fail(req, c ? PB_ERR_INTERNAL : PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    pb_client_info ci = {.ip = pb_http_client_ip(req),
                         .user_agent = pb_http_header(req, "User-Agent")};
    pb_err e = pb_identity_refresh(a->identity, c, PB_SUBJECT_STAFF, token, &ci, pb_time_now_us(),
                                   t);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    json_t *body = tokens_json(t);
    sodium_memzero(t, sizeof *t);
    pb_http_reply_json(req, 200, body);
}

typedef struct self_ctx {
    pb_http_request *req;
    pb_api_app *app;
    const pb_principal *p;
    const char *code; /* totp confirm */
    char *uri;        /* totp enroll: out */
    size_t cap;
} self_ctx;

/* Ends the session and records it. */
static pb_err logout_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    self_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    pb_err e = pb_identity_logout(c, x->p, now);
    if (e != PB_OK)
        return e;
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "staff.logout", &en);
    en.target_kind = "session";
    en.target_id = x->p->session_public_id;
    return pb_audit_append(c, &en, now);
}

void pb_api_admin_logout(pb_http_request *req, void *app)
{
    if (!pb_admin_parse_empty(req))
        return;
    self_ctx x = {.req = req, .app = app, .p = pb_api_principal(req)};
    pb_err e = pb_admin_write(req, logout_tx, &x, NULL);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:s,s:b}", "session_id", x.p->session_public_id, "revoked", 1));
}

void pb_api_admin_me(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    pb_store_conn *c = pb_http_conn(req);
    pb_staff st;
    pb_err e = c ? pb_identity_staff_get(c, p->subject_public_id, &st) : PB_ERR_STORE_UNAVAILABLE;
    json_t *staff = e == PB_OK ? pb_admin_staff_json(c, &st) : NULL;
    json_t *perms = json_array();
    /* a setup session may do nothing but the self-service steps */
    for (int i = 0; perms && p->session_scope == PB_SCOPE_FULL && i < PB_PERM_COUNT_; i++)
        if (pb_rbac_allows(p->role, (pb_perm)i))
            json_array_append_new(perms, json_string(pb_perm_name((pb_perm)i)));
    if (e != PB_OK || !staff || !perms) {
        json_decref(staff);
        json_decref(perms);
        pb_admin_fail(req, e != PB_OK ? e : PB_ERR_INTERNAL, NULL);
        return;
    }
    json_t *session = json_pack("{s:s,s:s,s:o}", "id", p->session_public_id, "scope",
                                p->session_scope == PB_SCOPE_FULL ? "full" : "setup",
                                "access_expires_at", pb_admin_time_json(p->access_expires_at));
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:o,s:o}", "staff", staff, "session", session, "permissions",
                                 perms));
}

/* Starts enrolment (a new sealed seed, not active yet) and records it (no secret). */
static pb_err enroll_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    self_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    pb_err e = pb_identity_totp_begin(x->app->identity, c, x->p, now, x->uri, x->cap);
    if (e != PB_OK)
        return e;
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "staff.totp_enroll", &en);
    en.target_kind = "staff";
    en.target_id = x->p->subject_public_id;
    return pb_audit_append(c, &en, now);
}

void pb_api_admin_totp_enroll(pb_http_request *req, void *app)
{
    if (!pb_admin_parse_empty(req))
        return;
    self_ctx x = {.req = req, .app = app, .p = pb_api_principal(req), .cap = 512};
    x.uri = pb_http_alloc(req, x.cap);
    if (!x.uri) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_err e = pb_admin_write(req, enroll_tx, &x, NULL);
    if (e == PB_ERR_INVALID_REQUEST) {
        pb_http_reply_error_msg(req, e, NULL,
                                "TOTP is already enrolled; an administrator can "
                                "reset it");
        return;
    }
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    /* the base32 seed, for typing into an app that cannot scan the QR code */
    const char *s = strstr(x.uri, "?secret=");
    char secret[64] = "";
    if (s) {
        s += 8;
        size_t n = strcspn(s, "&");
        snprintf(secret, sizeof secret, "%.*s", (int)(n < 63 ? n : 63), s);
    }
    json_t *body = json_pack("{s:s,s:s,s:s,s:i,s:i}", "otpauth_uri", x.uri, "secret", secret,
                             "algorithm", "SHA1", "digits", 6, "period", 30);
    sodium_memzero(x.uri, x.cap);
    sodium_memzero(secret, sizeof secret);
    pb_http_reply_json(req, 200, body);
}

/* Activates the seed with the first code and records it. */
static pb_err confirm_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    self_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    pb_err e = pb_identity_totp_confirm(x->app->identity, c, x->p, x->code, now);
    if (e == PB_ERR_TOTP_INVALID)
        *bad = "code";
    if (e != PB_OK)
        return e;
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "staff.totp_confirm", &en);
    en.target_kind = "staff";
    en.target_id = x->p->subject_public_id;
    return pb_audit_append(c, &en, now);
}

void pb_api_admin_totp_confirm(pb_http_request *req, void *app)
{
    self_ctx x = {.req = req, .app = app, .p = pb_api_principal(req)};
    pb_json_field f[] = {{.name = "code",
                          .type = PB_JSON_STRING,
                          .required = true,
                          .min_len = 6,
                          .max_len = 8,
                          .str = &x.code}};
    if (!pb_http_parse_json(req, f, 1))
        return;
    if (strspn(x.code, "0123456789") != strlen(x.code)) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "code", "code: 6 to 8 digits");
        return;
    }
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, confirm_tx, &x, &bad);
    if (e == PB_ERR_INVALID_REQUEST) {
        pb_http_reply_error_msg(req, e, NULL, "TOTP is already enrolled");
        return;
    }
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    /* the session keeps its scope: a full one needs a new login with a code */
    pb_http_reply_json(req, 200,
                       json_pack("{s:b,s:b}", "totp_enrolled", 1, "login_required",
                                 x.p->session_scope != PB_SCOPE_FULL));
}

/* Records a password change that identity has made. */
/* staff.password_change, in the transaction that stores the new password. */
static pb_err password_audited(pb_store_conn *c, void *ctx)
{
    self_ctx *x = ctx;
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "staff.password_change", &en);
    en.target_kind = "staff";
    en.target_id = x->p->subject_public_id;
    return pb_audit_append(c, &en, pb_time_now_us());
}

void pb_api_admin_password(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *current = NULL, *next = NULL;
    pb_json_field f[] = {
        {.name = "current",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 256,
         .str = &current},
        {.name = "new",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 256,
         .str = &next},
    };
    if (!pb_http_parse_json(req, f, 2))
        return;
    const pb_principal *p = pb_api_principal(req);
    pb_store_conn *c = pb_http_conn(req);
    self_ctx x = {.req = req, .app = a, .p = p};
    /* a wrong current password counts like a failed login from this address */
    pb_client_info ci = {.ip = pb_http_client_ip(req),
                         .user_agent = pb_http_header(req, "User-Agent")};
    int64_t locked_wait = 0;
    pb_err e = c ? pb_identity_password_change(a->identity, c, p, &ci, current, next,
                                               pb_time_now_us(), &locked_wait, password_audited, &x)
                 : PB_ERR_STORE_UNAVAILABLE;
    if (e == PB_ERR_CREDENTIALS_INVALID) {
        /* the token is good, the typed password is not: 403 CURRENT_PASSWORD_INVALID,
         * never identity's 401 CREDENTIALS_INVALID (with its WWW-Authenticate), which
         * a console reads as "your session has ended" and signs the member out */
        pb_http_reply_error(req, PB_ERR_CURRENT_PASSWORD_INVALID, "current");
        return;
    }
    if (e != PB_OK) {
        int64_t wait = PASSWORD_RETRY_US;
        if (e == PB_ERR_ACCOUNT_LOCKED && locked_wait > 0)
            wait = locked_wait; /* the account's or this address's lock */
        retry_after(req, a, e, wait);
        pb_admin_fail(req, e,
                      e == PB_ERR_PASSWORD_WEAK || e == PB_ERR_PASSWORD_REUSED ? "new" : NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:b,s:b}", "password_changed", 1, "login_required",
                                 p->session_scope != PB_SCOPE_FULL));
}
