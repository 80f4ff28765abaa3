/*
 * test_api_auth.c — the authorizer (src/api/auth.c) and the player wallet read,
 * in process over real sockets: a server with its own route table (a player
 * route, two staff-permission routes, a "staff" self-service route, the wallet
 * and the JWK Set), identity on the real clock, and a running ledger.
 *
 * Covers what the API tests cannot reach while the table has no staff routes:
 * player tokens on staff routes and staff tokens on player routes (401
 * TOKEN_INVALID), a role without the permission (403 FORBIDDEN), a setup-scope
 * staff session (403 on permission routes, admitted on "staff" routes), the
 * challenge headers, expiry (a token issued 20 minutes ago), the startup check
 * of the table's permissions, and wallet balances read from real ledger
 * accounts (posted, held, available).
 *
 * Also the staff adjustments route (admin_adjust.c) with a member who loses
 * their right after the authorizer let the request in: disabled, or logged out
 * while the request waits for the ledger writer. Only the re-check inside the
 * ledger command can see that; the route answers 401 SESSION_REVOKED (a
 * disable ends the sessions too) and moves no money. The approval of an
 * adjustment request (admin_adjust_4eyes.c) by a member whose brand scope moves
 * after the HTTP check: 401 SESSION_REVOKED (a changed scope makes the session
 * stale, as a changed role does), nothing moves. And a player's withdrawal cancel
 * (cashier_player.c) whose session is revoked after the HTTP check: 401
 * SESSION_REVOKED from the cashier command's re-check, the withdrawal still pending.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../http/client.h"
#include "../identity/fixture.h"
#include "api/api.h"
#include "cashier/cashier.h"
#include "core/time.h"
#include "wallet/wallet.h"

/* Replies with who the authorizer let in. */
static void h_who(pb_http_request *req, void *ctx)
{
    (void)ctx;
    const pb_principal *p = pb_api_principal(req);
    pb_http_reply_json(req, 200,
                       json_pack("{s:s,s:s,s:s}", "kind",
                                 p->kind == PB_SUBJECT_STAFF ? "staff" : "player", "role",
                                 p->kind == PB_SUBJECT_STAFF ? pb_role_name(p->role) : "-", "scope",
                                 p->session_scope == PB_SCOPE_SETUP ? "setup" : "full"));
}

/* Replies /fail?code=NAME with that error (any code), or a raw 401 envelope for
 * /fail?code=raw (a protocol's own body, not pb_http_reply_error). */
static void h_fail(pb_http_request *req, void *ctx)
{
    (void)ctx;
    const char *name = pb_http_query(req, "code");
    if (name && strcmp(name, "raw") == 0) {
        pb_http_reply_text(req, 401, "application/json", "{}", 2);
        return;
    }
    for (int e = 0; name && e < PB_ERR_COUNT_; e++)
        if (strcmp(pb_err_code((pb_err)e), name) == 0) {
            pb_http_reply_error(req, (pb_err)e, NULL);
            return;
        }
    pb_http_reply_error(req, PB_ERR_INVALID_REQUEST, "code");
}

/* Runs on the adjustments route once the authorizer has let the request in and
 * before the handler starts (NULL: nothing). */
static void (*past_authorizer)(const pb_principal *p);
static pb_store_conn *revoke_conn; /* where a hook writes (the test's own connection) */

static void h_adjust(pb_http_request *req, void *app)
{
    if (past_authorizer)
        past_authorizer(pb_api_principal(req));
    pb_api_admin_player_adjust(req, app);
}

static void h_approve(pb_http_request *req, void *app)
{
    if (past_authorizer)
        past_authorizer(pb_api_principal(req));
    pb_api_admin_adjustment_approve(req, app);
}

static void h_cancel(pb_http_request *req, void *app)
{
    if (past_authorizer)
        past_authorizer(pb_api_principal(req));
    pb_api_player_withdrawal_cancel(req, app);
}

static const pb_route routes[] = {
    {"GET", "/fail", NULL, h_fail, "fail"},
    {"GET", "/p", "player", h_who, "p"},
    {"GET", "/read", "players.read", h_who, "read"},
    {"GET", "/manage", "staff.manage", h_who, "manage"},
    {"GET", "/self", "staff", h_who, "self"},
    {"GET", "/wallet", "player", pb_api_player_wallet, "wallet"},
    {"GET", "/jwks", NULL, pb_api_jwks, "jwks"},
    {"POST", "/adjust/{id}", "finance.adjust", h_adjust, "adjust"},
    {"POST", "/approve/{id}", "finance.adjust", h_approve, "approve"},
    {"DELETE", "/withdrawals/{id}", "player", h_cancel, "cancel"},
};
#define NROUTES (sizeof routes / sizeof routes[0])

typedef struct tfx {
    ifx f; /* first: the identity fixture's teardown frees it */
    pb_ledger *ledger;
    pb_store_pool *pool;
    pb_http_server *srv;
    pb_api_app app;
    uint16_t port;
} tfx;

/* The identity fixture (database, keys, brand "demo") on the real clock, a ledger,
 * and a server whose authorizer is the one under test. */
static int setup(void **state)
{
    tfx *t = calloc(1, sizeof *t);
    assert_non_null(t);
    ifx *f = &t->f;
    snprintf(f->dir, sizeof f->dir, "/tmp/pbapi.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/api.db", f->dir);
    snprintf(f->keys, sizeof f->keys, "%s/keys", f->dir);
    char err[300];
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(pb_store_migrate(f->store, NULL, err, sizeof err), PB_STORE_OK);
    f->conn = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->conn);
    /* the signing key is made half an hour ago (so a test can issue an old token);
     * everything else a minute ago, valid now on the server's clock */
    f->now = pb_time_now_us() - 30 * 60 * 1000000LL;
    ifx_reconfigure(f, (pb_identity_config){0});
    f->now = pb_time_now_us() - 60 * 1000000LL;
    f->demo = ifx_brand(f, "demo", "EUR");
    t->ledger = pb_ledger_open(f->store, NULL, err, sizeof err);
    assert_non_null(t->ledger);
    t->pool = pb_store_pool_new(f->store, 4);
    assert_non_null(t->pool);
    t->app = (pb_api_app){.store = f->store, .ledger = t->ledger, .identity = f->id};
    t->app.wallet = pb_wallet_open(t->ledger, f->store, err, sizeof err);
    assert_non_null(t->app.wallet);
    pb_cashier_config ccfg = {.keys_dir = f->dir, .sandbox = true};
    t->app.cashier = pb_cashier_open(t->app.wallet, f->store, &ccfg, err, sizeof err);
    assert_non_null(t->app.cashier);
    pb_http_config cfg = {.listen = "127.0.0.1:0", .threads = 2};
    t->srv = pb_http_server_new(&cfg, routes, NROUTES, &t->app, t->pool, err, sizeof err);
    assert_non_null(t->srv);
    pb_http_server_set_authorizer(t->srv, pb_api_authorize, &t->app);
    pb_http_server_set_challenge(t->srv, pb_api_challenge_hook, NULL);
    assert_int_equal(pb_http_server_start(t->srv, err, sizeof err), 0);
    t->port = pb_http_server_port(t->srv);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tfx *t = *state;
    pb_http_server_shutdown(t->srv, 1000);
    pb_ledger_close(t->ledger);
    pb_cashier_close(t->app.cashier); /* as cmd_serve closes them */
    pb_wallet_close(t->app.wallet);   /* after the ledger, as cmd_serve closes them */
    pb_http_server_free(t->srv);
    pb_store_pool_free(t->pool);
    void *f = &t->f; /* ifx_teardown frees t, whose first member it is */
    return ifx_teardown(&f);
}

/* GET path with a Bearer token (NULL: none). */
static resp get(tfx *t, const char *path, const char *token)
{
    char extra[PB_ACCESS_TOKEN_MAX + 64] = "";
    if (token)
        snprintf(extra, sizeof extra, "Authorization: Bearer %s\r\n", token);
    return cl_request(t->port, "GET", path, extra, NULL);
}

/* The error code of a response body ("" when none). */
static const char *code_of(const resp *r)
{
    static __thread char code[64];
    json_t *o = json_loadb(r->body, r->body_len, 0, NULL);
    const char *c = NULL;
    json_unpack(o, "{s:{s:s}}", "error", "code", &c);
    snprintf(code, sizeof code, "%s", c ? c : "");
    json_decref(o);
    return code;
}

/* A response header that must be there. */
static const char *hdr(const resp *r, const char *name)
{
    const char *v = cl_header(r, name);
    if (!v)
        fail_msg("no %s header in: %s", name, r->headers);
    return v;
}

static void expect(const resp *r, int status, const char *code)
{
    if (r->status != status || (code && strcmp(code_of(r), code) != 0))
        fail_msg("expected %d %s, got %d: %.*s", status, code ? code : "", r->status,
                 (int)r->body_len, r->body);
}

/* A member of staff, logged in without TOTP: a setup session. */
static pb_auth_tokens setup_session(ifx *f, const char *email)
{
    pb_staff_create req = {.email = email, .role = PB_ROLE_ADMIN, .all_brands = true};
    pb_staff st;
    char otp[PB_ONE_TIME_PASSWORD_MAX];
    assert_int_equal(pb_identity_staff_create(f->conn, &req, f->now, &st, otp, NULL), PB_OK);
    pb_login_request lr = {.email = email, .password = otp};
    pb_auth_tokens tk;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &tk), PB_OK);
    assert_int_equal(tk.scope, PB_SCOPE_SETUP);
    return tk;
}

static void test_no_or_garbled_token(void **state)
{
    tfx *t = *state;
    resp r = get(t, "/read", NULL);
    expect(&r, 401, "UNAUTHENTICATED");
    assert_string_equal(hdr(&r, "WWW-Authenticate"), "Bearer realm=\"pitboss\"");
    const char *bad[] = {"Authorization: Basic dXNlcjpwYXNz\r\n", "Authorization: Bearer\r\n",
                         "Authorization: Bearer a b\r\n", "Authorization: Bearer a\"b\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = cl_request(t->port, "GET", "/p", bad[i], NULL);
        expect(&r, 401, "UNAUTHENTICATED");
    }
    r = get(t, "/p", "not.a.jwt");
    expect(&r, 401, "TOKEN_INVALID");
    assert_non_null(strstr(hdr(&r, "WWW-Authenticate"), "error=\"invalid_token\""));
    r = get(t, "/jwks", NULL); /* public: no authorizer */
    expect(&r, 200, NULL);
}

static void test_player_token_only_on_player_routes(void **state)
{
    tfx *t = *state;
    ifx_player(&t->f, "demo", "p1@example.org");
    pb_auth_tokens tk;
    assert_int_equal(ifx_login(&t->f, "p1@example.org", NULL, &tk), PB_OK);
    resp r = get(t, "/p", tk.access_token);
    expect(&r, 200, NULL);
    assert_non_null(strstr(r.body, "\"kind\":\"player\""));
    const char *staff_paths[] = {"/read", "/manage", "/self"};
    for (size_t i = 0; i < 3; i++) {
        r = get(t, staff_paths[i], tk.access_token);
        expect(&r, 401, "TOKEN_INVALID");
    }
}

static void test_staff_permissions(void **state)
{
    tfx *t = *state;
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_auth_tokens tk;
    ifx_staff(&t->f, "support@example.org", PB_ROLE_SUPPORT, "demo", seed, &tk);
    resp r = get(t, "/read", tk.access_token);
    expect(&r, 200, NULL);
    assert_non_null(strstr(r.body, "\"role\":\"support\""));
    r = get(t, "/manage", tk.access_token); /* support may not manage staff */
    expect(&r, 403, "FORBIDDEN");
    assert_non_null(strstr(hdr(&r, "WWW-Authenticate"), "insufficient_scope"));
    r = get(t, "/self", tk.access_token);
    expect(&r, 200, NULL);
    r = get(t, "/p", tk.access_token); /* a staff token on the player API */
    expect(&r, 401, "TOKEN_INVALID");
    r = get(t, "/wallet", tk.access_token);
    expect(&r, 401, "TOKEN_INVALID");

    pb_auth_tokens admin;
    ifx_staff(&t->f, "admin@example.org", PB_ROLE_ADMIN, NULL, seed, &admin);
    r = get(t, "/manage", admin.access_token);
    expect(&r, 200, NULL);
}

static void test_setup_session_reaches_self_service_only(void **state)
{
    tfx *t = *state;
    pb_auth_tokens tk = setup_session(&t->f, "new-admin@example.org");
    resp r = get(t, "/read", tk.access_token);
    expect(&r, 403, "FORBIDDEN");
    r = get(t, "/manage", tk.access_token);
    expect(&r, 403, "FORBIDDEN");
    r = get(t, "/self", tk.access_token);
    expect(&r, 200, NULL);
    assert_non_null(strstr(r.body, "\"scope\":\"setup\""));
}

static void test_expired_and_revoked(void **state)
{
    tfx *t = *state;
    ifx *f = &t->f;
    ifx_player(f, "demo", "old@example.org");
    int64_t real = f->now;
    f->now = pb_time_now_us() - 20 * 60 * 1000000LL; /* a token from 20 minutes ago */
    pb_auth_tokens tk;
    assert_int_equal(ifx_login(f, "old@example.org", NULL, &tk), PB_OK);
    f->now = real;
    resp r = get(t, "/p", tk.access_token);
    expect(&r, 401, "TOKEN_EXPIRED");
    assert_non_null(strstr(hdr(&r, "WWW-Authenticate"), "invalid_token"));

    assert_int_equal(ifx_login(f, "old@example.org", NULL, &tk), PB_OK);
    pb_principal p;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, tk.access_token,
                                              pb_time_now_us(), &p),
                     PB_OK);
    ifx_begin(f);
    assert_int_equal(pb_identity_logout(f->conn, &p, f->now), PB_OK);
    ifx_commit(f);
    r = get(t, "/p", tk.access_token);
    expect(&r, 401, "SESSION_REVOKED");
}

/* RFC 9110 §15.5.2: every 401 carries WWW-Authenticate. Walks the registry:
 * every code whose status is 401 has a challenge, and a handler's
 * pb_http_reply_error of it (CREDENTIALS_INVALID and TOTP_* from the logins,
 * REFRESH_REUSED from the refresh, SIGNATURE_INVALID from a webhook, …) goes out
 * with it; so does a 401 a handler builds itself. Before: only the authorizer's
 * and pb_admin_fail's 401s had one. */
static void test_every_401_has_a_challenge(void **state)
{
    tfx *t = *state;
    int n401 = 0;
    for (int e = 0; e < PB_ERR_COUNT_; e++) {
        if (pb_err_http_status((pb_err)e) != 401)
            continue;
        n401++;
        const char *want = pb_api_challenge_for((pb_err)e);
        if (!want)
            fail_msg("%s is a 401 without a challenge", pb_err_code((pb_err)e));
        char path[96];
        snprintf(path, sizeof path, "/fail?code=%s", pb_err_code((pb_err)e));
        resp r = get(t, path, NULL);
        assert_int_equal(r.status, 401);
        assert_string_equal(code_of(&r), pb_err_code((pb_err)e));
        const char *got = cl_header(&r, "WWW-Authenticate");
        if (!got || strcmp(got, want) != 0)
            fail_msg("401 %s: WWW-Authenticate %s, want %s", pb_err_code((pb_err)e),
                     got ? got : "(none)", want);
    }
    assert_true(n401 >= 10); /* UNAUTHENTICATED … TIMESTAMP_STALE */
    assert_string_equal(pb_api_challenge_for(PB_ERR_CREDENTIALS_INVALID),
                        "Bearer realm=\"pitboss\"");
    assert_string_equal(pb_api_challenge_for(PB_ERR_REFRESH_REUSED),
                        "Bearer realm=\"pitboss\", error=\"invalid_token\"");
    assert_string_equal(pb_api_challenge_for(PB_ERR_SIGNATURE_INVALID),
                        "Signature realm=\"pitboss\"");
    /* a 401 built without an error code gets the bare Bearer challenge */
    resp r = get(t, "/fail?code=raw", NULL);
    assert_int_equal(r.status, 401);
    assert_string_equal(hdr(&r, "WWW-Authenticate"), "Bearer realm=\"pitboss\"");
    /* other statuses get none */
    r = get(t, "/fail?code=PLAYER_BLOCKED", NULL);
    assert_int_equal(r.status, 403);
    assert_null(cl_header(&r, "WWW-Authenticate"));
}

static void test_routes_check(void **state)
{
    (void)state;
    char err[200];
    assert_int_equal(pb_api_routes_check(routes, NROUTES, err, sizeof err), 0);
    assert_int_equal(pb_api_routes_check(pb_api_routes, pb_api_route_count, err, sizeof err), 0);
    const pb_route typo[] = {{"GET", "/x", "players.raed", h_who, "typo"}};
    assert_int_equal(pb_api_routes_check(typo, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "typo"));
    assert_non_null(strstr(err, "players.raed"));
}

/* Creates a ledger account in brand demo; returns its id. */
static int64_t account(tfx *t, const char *owner, const char *kind, uint32_t flags)
{
    pb_ledger_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.brand, sizeof a.brand, "demo");
    snprintf(a.owner, sizeof a.owner, "%s", owner);
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.currency, sizeof a.currency, "EUR");
    a.flags = flags;
    assert_int_equal(pb_ledger_account_create(t->ledger, &a), PB_OK);
    return a.id;
}

static void submit(tfx *t, const char *key, int64_t debit, int64_t credit, int64_t amount,
                   uint32_t code, uint32_t flags)
{
    pb_transfer tr;
    memset(&tr, 0, sizeof tr);
    snprintf(tr.scope, sizeof tr.scope, "test");
    snprintf(tr.key, sizeof tr.key, "%s", key);
    tr.debit_account_id = debit;
    tr.credit_account_id = credit;
    tr.amount = amount;
    snprintf(tr.currency, sizeof tr.currency, "EUR");
    tr.code = code;
    tr.flags = flags;
    assert_int_equal(pb_ledger_submit(t->ledger, &tr, 1), PB_OK);
    assert_int_equal(tr.result, PB_OK);
}

static void test_wallet_reads_the_ledger(void **state)
{
    tfx *t = *state;
    pb_player pl = ifx_player(&t->f, "demo", "rich@example.org");
    pb_auth_tokens tk;
    assert_int_equal(ifx_login(&t->f, "rich@example.org", NULL, &tk), PB_OK);
    resp r = get(t, "/wallet", tk.access_token);
    expect(&r, 200, NULL);
    assert_string_equal(r.body, "{\"currency\":\"EUR\",\"cash\":\"0.00\",\"bonus\":\"0.00\","
                                "\"held\":\"0.00\",\"withdrawable\":\"0.00\",\"total\":\"0.00\"}");
    char owner[64];
    snprintf(owner, sizeof owner, "player:%s", pl.public_id);
    int64_t cash = account(t, owner, "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    int64_t psp = account(t, "psp:test", "psp_clearing", 0);
    int64_t house = account(t, "house", "house_revenue", 0);
    account(t, owner, "player_bonus", 0); /* bonus money is not cash */
    submit(t, "dep-1", psp, cash, 1234, PB_CODE_DEPOSIT, 0);
    submit(t, "bet-1", cash, house, 100, PB_CODE_BET, PB_TRANSFER_PENDING);
    r = get(t, "/wallet", tk.access_token);
    expect(&r, 200, NULL);
    assert_string_equal(r.body,
                        "{\"currency\":\"EUR\",\"cash\":\"12.34\",\"bonus\":\"0.00\","
                        "\"held\":\"1.00\",\"withdrawable\":\"11.34\",\"total\":\"11.34\"}");
    /* another player of the same brand sees their own (empty) wallet */
    ifx_player(&t->f, "demo", "poor@example.org");
    assert_int_equal(ifx_login(&t->f, "poor@example.org", NULL, &tk), PB_OK);
    r = get(t, "/wallet", tk.access_token);
    expect(&r, 200, NULL);
    assert_non_null(strstr(r.body, "\"cash\":\"0.00\""));
}

static void test_jwks_lists_the_signing_key(void **state)
{
    tfx *t = *state;
    ifx_player(&t->f, "demo", "k@example.org");
    pb_auth_tokens tk;
    assert_int_equal(ifx_login(&t->f, "k@example.org", NULL, &tk), PB_OK);
    assert_int_equal(pb_identity_keys_rotate(t->f.id, t->f.now, NULL), PB_OK);
    resp r = get(t, "/jwks", NULL);
    expect(&r, 200, NULL);
    json_t *doc = json_loadb(r.body, r.body_len, 0, NULL);
    json_t *keys = json_object_get(doc, "keys");
    assert_int_equal(json_array_size(keys), 2); /* the old key still verifies its tokens */
    /* the token's kid is one of them */
    const char *dot = strchr(tk.access_token, '.');
    char header[256];
    size_t hlen = 0;
    assert_int_equal(sodium_base642bin((unsigned char *)header, sizeof header - 1, tk.access_token,
                                       (size_t)(dot - tk.access_token), NULL, &hlen, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    header[hlen] = '\0';
    json_t *h = json_loads(header, 0, NULL);
    const char *kid = json_string_value(json_object_get(h, "kid"));
    assert_non_null(kid);
    bool found = false;
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        assert_int_equal(strlen(json_string_value(json_object_get(k, "x"))), 43);
        assert_int_equal(strlen(json_string_value(json_object_get(k, "y"))), 43);
        assert_null(json_object_get(k, "d"));
        found = found || strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0;
    }
    assert_true(found);
    json_decref(h);
    json_decref(doc);
}

/* ---- staff adjustments: the member re-checked inside the ledger command ---- */

static tfx *adj_t;            /* the fixture the hooks below work on */
static pb_principal adj_whom; /* the member the hooks take the right from */

/* POST /adjust/{player}: a cash credit of 10.00 under key. */
static resp adjust(tfx *t, const char *player, const char *key, const char *token)
{
    char path[128], extra[PB_ACCESS_TOKEN_MAX + 96], body[256];
    snprintf(path, sizeof path, "/adjust/%s", player);
    snprintf(extra, sizeof extra, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             token);
    snprintf(body, sizeof body,
             "{\"balance\":\"cash\",\"direction\":\"credit\",\"amount\":\"10.00\","
             "\"reason\":\"goodwill\",\"idempotency_key\":\"%s\"}",
             key);
    return cl_request(t->port, "POST", path, extra, body);
}

static int64_t adjustments(tfx *t)
{
    return ifx_count(&t->f, "SELECT count(*) FROM ledger_transfer WHERE scope = 'adjustment:demo'");
}

static int64_t adjust_audits(tfx *t)
{
    return ifx_count(&t->f, "SELECT count(*) FROM audit_entry WHERE action = 'player.adjust'");
}

/* A finance member of brand demo with a full session, and a demo player; an
 * adjustment by the member goes through (so what the tests refuse is the change
 * they make, nothing else). */
static pb_player adjust_setup(tfx *t, pb_auth_tokens *tk)
{
    uint8_t seed[PB_TOTP_SEED_BYTES];
    adj_t = t;
    adj_whom = ifx_staff(&t->f, "finance@example.org", PB_ROLE_FINANCE, "demo", seed, tk);
    pb_player pl = ifx_player(&t->f, "demo", "owed@example.org");
    resp r = adjust(t, pl.public_id, "adj-ok", tk->access_token);
    expect(&r, 201, NULL);
    assert_int_equal(adjustments(t), 1);
    assert_int_equal(adjust_audits(t), 1);
    return pl;
}

/* On the adjustments route, past the authorizer: the member is disabled, on a
 * connection of its own, committed. */
static void disable_member(const pb_principal *p)
{
    assert_string_equal(p->subject_public_id, adj_whom.subject_public_id);
    char err[200];
    pb_store_conn *c = pb_store_connect(adj_t->f.store, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(pb_store_begin(c, PB_STORE_WRITE), PB_STORE_OK);
    const bool no = false;
    pb_staff_update u = {.active = &no};
    pb_staff out;
    const char *bad = NULL;
    assert_int_equal(pb_identity_staff_update(c, p->subject_public_id, &u, pb_time_now_us(), &out,
                                              &bad),
                     PB_OK);
    assert_int_equal(pb_store_commit(c), PB_STORE_OK);
    pb_store_disconnect(c);
}

/* The authorizer let the member in; they are disabled before the handler runs:
 * nothing on the request's own connection checks them again (the handler reads
 * the player and the member's e-mail), so only adjust_command's
 * pb_identity_principal_check refuses. A disable ends the member's sessions, and
 * the check looks at the session first: 401 SESSION_REVOKED (with its
 * challenge), no transfer, no audit entry; the same request again is refused by
 * the authorizer itself. */
static void test_adjust_member_disabled_after_authorizer(void **state)
{
    tfx *t = *state;
    pb_auth_tokens tk;
    pb_player pl = adjust_setup(t, &tk);
    past_authorizer = disable_member;
    resp r = adjust(t, pl.public_id, "adj-late", tk.access_token);
    past_authorizer = NULL;
    expect(&r, 401, "SESSION_REVOKED");
    assert_non_null(strstr(hdr(&r, "WWW-Authenticate"), "invalid_token"));
    assert_int_equal(adjustments(t), 1);
    assert_int_equal(adjust_audits(t), 1);
    r = adjust(t, pl.public_id, "adj-late", tk.access_token);
    expect(&r, 401, "SESSION_REVOKED");
    assert_int_equal(adjustments(t), 1);
}

static sem_t held, release, passed;
static pb_err hold_status;

/* Holds the ledger writer until released, then logs the member out in the
 * writer's own transaction: committed before any command queued behind it. */
static pb_err hold_then_logout(pb_ledger_tx *tx, void *arg)
{
    (void)arg;
    sem_post(&held);
    while (sem_wait(&release) != 0)
        ;
    return pb_identity_logout(pb_ledger_tx_conn(tx), &adj_whom, pb_ledger_tx_now(tx));
}

static void hold_done(void *ctx, pb_err status)
{
    (void)ctx;
    hold_status = status;
    sem_post(&passed);
}

static void signal_passed(const pb_principal *p)
{
    (void)p;
    sem_post(&passed);
}

typedef struct adj_call {
    tfx *t;
    const char *player, *token;
    resp r;
} adj_call;

static void *adjust_thread(void *arg)
{
    adj_call *a = arg;
    a->r = adjust(a->t, a->player, "adj-waiting", a->token);
    return NULL;
}

/* The request passes the authorizer while the ledger writer is busy; the member
 * logs out (their session ends) while the request waits for the writer; the
 * writer is released: 401 SESSION_REVOKED, no transfer, no audit entry. */
static void test_adjust_member_logged_out_while_waiting(void **state)
{
    tfx *t = *state;
    pb_auth_tokens tk;
    pb_player pl = adjust_setup(t, &tk);
    sem_init(&held, 0, 0);
    sem_init(&release, 0, 0);
    sem_init(&passed, 0, 0);
    assert_int_equal(pb_ledger_command_async(t->ledger, hold_then_logout, NULL, hold_done, NULL),
                     PB_OK);
    while (sem_wait(&held) != 0)
        ;
    past_authorizer = signal_passed;
    adj_call a = {.t = t, .player = pl.public_id, .token = tk.access_token};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, adjust_thread, &a), 0);
    while (sem_wait(&passed) != 0) /* past the authorizer, the session still open */
        ;
    /* time for the handler's pre-checks and its command to queue behind the held
     * writer; the outcome is the same if it has not yet: the logout is committed
     * before any command behind the held one */
    usleep(100 * 1000);
    char open_session[200];
    snprintf(open_session, sizeof open_session,
             "SELECT count(*) FROM auth_session WHERE public_id = '%s' AND revoked_at = 0",
             adj_whom.session_public_id);
    assert_int_equal(ifx_count(&t->f, open_session), 1);
    sem_post(&release);
    pthread_join(th, NULL);
    past_authorizer = NULL;
    while (sem_wait(&passed) != 0) /* the holding batch's callback */
        ;
    assert_int_equal(hold_status, PB_OK);
    expect(&a.r, 401, "SESSION_REVOKED");
    assert_non_null(strstr(hdr(&a.r, "WWW-Authenticate"), "invalid_token"));
    assert_int_equal(adjustments(t), 1);
    assert_int_equal(adjust_audits(t), 1);
    sem_destroy(&held);
    sem_destroy(&release);
    sem_destroy(&passed);
}

static int64_t scope_brand; /* the brand move_scope gives the member instead */

/* Past the authorizer: the member's scope becomes scope_brand only, written on a
 * connection of its own without ending the session (the store's scope as another
 * path could leave it), committed before the handler runs. */
static void move_scope(const pb_principal *p)
{
    char err[200];
    pb_store_conn *c = pb_store_connect(adj_t->f.store, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(pb_store_begin(c, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_staff_brands_set(c, p->subject_id, &scope_brand, 1), PB_STORE_OK);
    assert_int_equal(pb_store_commit(c), PB_STORE_OK);
    pb_store_disconnect(c);
}

/* A pending adjustment request of brand demo for pl (10.00 EUR cash credit) by
 * another member; its public id into id. */
static void pending_request(tfx *t, const pb_player *pl, const char *key, char *id)
{
    pb_store_adjustment a;
    memset(&a, 0, sizeof a);
    snprintf(a.rq.public_id, sizeof a.rq.public_id, "0190aaaa-0000-7000-8000-00000000%04d",
             (int)strlen(key));
    snprintf(a.rq.brand, sizeof a.rq.brand, "demo");
    snprintf(a.player, sizeof a.player, "%s", pl->public_id);
    snprintf(a.balance, sizeof a.balance, "cash");
    snprintf(a.direction, sizeof a.direction, "credit");
    a.rq.amount = 1000;
    snprintf(a.rq.currency, sizeof a.rq.currency, "EUR");
    snprintf(a.rq.reason, sizeof a.rq.reason, "goodwill");
    snprintf(a.rq.idempotency_key, sizeof a.rq.idempotency_key, "%s", key);
    snprintf(a.rq.requested_by, sizeof a.rq.requested_by, "0190bbbb-0000-7000-8000-000000000001");
    a.rq.requested_at = pb_time_now_us();
    assert_int_equal(pb_store_request_insert(t->f.conn, PB_STORE_REQUEST_ADJUSTMENT, &a.rq),
                     PB_STORE_OK);
    memcpy(id, a.rq.public_id, sizeof a.rq.public_id);
}

static resp approve(tfx *t, const char *id, const char *token)
{
    char path[128], extra[PB_ACCESS_TOKEN_MAX + 96];
    snprintf(path, sizeof path, "/approve/%s", id);
    snprintf(extra, sizeof extra, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             token);
    return cl_request(t->port, "POST", path, extra, "{}");
}

/* The approver passes the HTTP check of the request's brand (their scope as the
 * token was authenticated), then their scope moves to another brand before the
 * command (in the store, without ending the session, as the staff API would):
 * the command's re-check of the member (pb_identity_principal_check) finds the
 * session's scope stale and refuses, 401 SESSION_REVOKED as for a changed role;
 * the request stays pending, no transfer. The same approval by a member still in scope goes
 * through (the set-up is sound). */
static void test_approve_scope_moved_after_check(void **state)
{
    tfx *t = *state;
    pb_auth_tokens tk;
    pb_player pl = adjust_setup(t, &tk);
    scope_brand = ifx_brand(&t->f, "other", "EUR").id;
    char id1[PB_STORE_REQ_ID_MAX + 1], id2[PB_STORE_REQ_ID_MAX + 1];
    pending_request(t, &pl, "req-a", id1);
    pending_request(t, &pl, "req-bb", id2);
    resp r = approve(t, id1, tk.access_token);
    expect(&r, 200, NULL);
    assert_int_equal(adjustments(t), 2);
    past_authorizer = move_scope;
    r = approve(t, id2, tk.access_token);
    past_authorizer = NULL;
    expect(&r, 401, "SESSION_REVOKED");
    assert_int_equal(adjustments(t), 2);
    char q[200];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM adjustment_request WHERE public_id = '%s' AND "
             "status = 'pending' AND decided_at IS NULL",
             id2);
    assert_int_equal(ifx_count(&t->f, q), 1);
    assert_int_equal(ifx_count(&t->f, "SELECT count(*) FROM audit_entry WHERE action = "
                                      "'player.adjust_approve'"),
                     1);
}

/* A player's withdrawal cancel whose session is revoked after the authorizer let it
 * in (a logout elsewhere, staff ending the sessions): the cancel's ledger command
 * re-checks the player (cashier_actor_check) and refuses, 401 SESSION_REVOKED; the
 * withdrawal stays pending with its hold. With a live session it is cancelled. */
static int64_t revoke_sid;
static void revoke_session(const pb_principal *p)
{
    (void)p;
    pb_store_session_revoke(revoke_conn, revoke_sid, pb_time_now_us(), "logout");
}

static void test_cancel_session_revoked_after_check(void **state)
{
    tfx *t = *state;
    pb_player pl = ifx_player(&t->f, "demo", "leaver@example.org");
    char owner[64];
    snprintf(owner, sizeof owner, "player:%s", pl.public_id);
    int64_t cash = account(t, owner, "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    int64_t psp = account(t, "psp:sandbox", "psp_clearing", 0);
    submit(t, "dep-leaver", psp, cash, 5000, PB_CODE_DEPOSIT, 0);
    pb_cashier_player who = {
        .brand_id = t->f.demo.id, .brand = "demo", .player = pl.public_id, .currency = "EUR"};
    pb_cashier_actor me = {.kind = "player", .id = pl.public_id};
    pb_store_withdrawal w, w2;
    bool replayed;
    assert_int_equal(pb_cashier_withdrawal_request(t->app.cashier, t->f.conn, &who, 1000, "wd-1",
                                                   &me, &w, &replayed),
                     PB_OK);
    assert_int_equal(pb_cashier_withdrawal_request(t->app.cashier, t->f.conn, &who, 1000, "wd-2",
                                                   &me, &w2, &replayed),
                     PB_OK);
    pb_auth_tokens tk;
    assert_int_equal(ifx_login(&t->f, "leaver@example.org", NULL, &tk), PB_OK);
    pb_store_session s;
    assert_int_equal(pb_store_session_by_public_id(t->f.conn, tk.session_id, &s), PB_STORE_OK);
    revoke_sid = s.id;
    revoke_conn = t->f.conn;
    char path[96], extra[PB_ACCESS_TOKEN_MAX + 64];
    snprintf(extra, sizeof extra, "Authorization: Bearer %s\r\n", tk.access_token);
    snprintf(path, sizeof path, "/withdrawals/%s", w2.id);
    resp r = cl_request(t->port, "DELETE", path, extra, NULL);
    expect(&r, 200, NULL); /* the set-up is sound: a live session cancels */
    assert_non_null(strstr(r.body, "\"cancelled\""));
    past_authorizer = revoke_session;
    snprintf(path, sizeof path, "/withdrawals/%s", w.id);
    r = cl_request(t->port, "DELETE", path, extra, NULL);
    past_authorizer = NULL;
    expect(&r, 401, "SESSION_REVOKED");
    char q[200];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM withdrawal WHERE id = '%s' AND status = "
             "'pending_approval'",
             w.id);
    assert_int_equal(ifx_count(&t->f, q), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_or_garbled_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_player_token_only_on_player_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staff_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_session_reaches_self_service_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expired_and_revoked, setup, teardown),
        cmocka_unit_test(test_routes_check),
        cmocka_unit_test_setup_teardown(test_every_401_has_a_challenge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wallet_reads_the_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jwks_lists_the_signing_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adjust_member_disabled_after_authorizer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_adjust_member_logged_out_while_waiting, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cancel_session_revoked_after_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approve_scope_moved_after_check, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
