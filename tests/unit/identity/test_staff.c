/*
 * test_staff.c — staff through the door: the bootstrap admin and its one-time
 * password; the setup session (password change, TOTP enrolment) before a full
 * one; login with TOTP (required, wrong, replayed, next step); lockout by wrong
 * codes, each lock in a row twice as long (a player's not); brand scope in authorization and queries; changes of role, scope and
 * status ending sessions; a TOTP reset replacing the password with a one-time
 * password (the old one refused, the lock cleared); the validation of staff
 * creation; and a change committed while a login's password was being checked.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

static void code_at(const uint8_t *seed, int64_t now, char code[9])
{
    assert_int_equal(pb_totp_code(seed, PB_TOTP_SEED_BYTES, now / 1000000, 6, code), PB_OK);
}

static void bootstrap_and_setup(void **state)
{
    ifx *f = *state;
    pb_staff admin;
    char otp[PB_ONE_TIME_PASSWORD_MAX];
    assert_int_equal(pb_identity_admin_bootstrap(f->conn, "Root@Example.com", f->now, &admin, otp),
                     PB_OK);
    assert_string_equal(admin.email, "root@example.com");
    assert_int_equal(admin.role, PB_ROLE_ADMIN);
    assert_true(admin.scope.all);
    assert_true(admin.must_change_password);
    assert_false(admin.totp_enrolled);
    assert_int_equal(strlen(otp), 23);
    assert_int_equal(pb_password_policy(otp, "root@example.com"), PB_OK);
    /* the one-time password is stored only hashed */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM staff WHERE instr(password_hash,'%s')", otp);
    assert_int_equal(ifx_count(f, sql), 0);
    assert_int_equal(pb_identity_admin_bootstrap(f->conn, "root@example.com", f->now, &admin, otp),
                     PB_ERR_EMAIL_TAKEN);
    /* first login (of a second admin): a setup session only */
    assert_int_equal(pb_identity_admin_bootstrap(f->conn, "second@example.com", f->now, &admin,
                                                 otp),
                     PB_OK);
    pb_login_request lr = {.email = "second@example.com", .password = otp};
    pb_auth_tokens t;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t), PB_OK);
    assert_int_equal(t.scope, PB_SCOPE_SETUP);
    assert_true(t.must_change_password && t.totp_enrollment_required);
    assert_int_equal(t.access_expires_at, (f->now / 1000000 + 300) * 1000000); /* 5 minutes */
    pb_principal p;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_STAFF, t.access_token,
                                              f->now, &p),
                     PB_OK);
    assert_int_equal(p.session_scope, PB_SCOPE_SETUP);
    assert_int_equal(pb_identity_authorize(&p, PB_PERM_PLAYERS_READ, 0), PB_ERR_FORBIDDEN);
    /* the setup session lasts 15 minutes at most */
    assert_int_equal(ifx_count(f, "SELECT (expires_at-created_at)/1000000 FROM auth_session"), 900);
    /* password change: wrong old one, weak new one, then right */
    assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, NULL, "wrong one!!",
                                                 "a new passphrase", f->now, NULL, NULL, NULL),
                     PB_ERR_CREDENTIALS_INVALID);
    assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, NULL, lr.password, "short",
                                                 f->now, NULL, NULL, NULL),
                     PB_ERR_PASSWORD_WEAK);
    assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, NULL, lr.password, lr.password,
                                                 f->now, NULL, NULL, NULL),
                     PB_ERR_PASSWORD_REUSED);
    assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, NULL, lr.password,
                                                 "a new passphrase", f->now, NULL, NULL, NULL),
                     PB_OK);
    assert_int_equal(ifx_count(f, "SELECT must_change_password FROM staff WHERE "
                                  "email='second@example.com'"),
                     0);
    /* still not enrolled: the next login is again a setup session */
    lr.password = "a new passphrase";
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t), PB_OK);
    assert_int_equal(t.scope, PB_SCOPE_SETUP);
    assert_false(t.must_change_password);
    assert_true(t.totp_enrollment_required);
}

static void totp_login(void **state)
{
    ifx *f = *state;
    /* enough login attempts per account for this test's sequence */
    ifx_reconfigure(f, (pb_identity_config){.account_burst = 50});
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_auth_tokens t;
    pb_principal p = ifx_staff(f, "ann@example.com", PB_ROLE_ADMIN, NULL, seed, &t);
    assert_int_equal(p.session_scope, PB_SCOPE_FULL);
    assert_int_equal(pb_identity_authorize(&p, PB_PERM_STAFF_MANAGE, f->demo.id), PB_OK);
    assert_true(t.refresh_token[0] != 0);
    char code[9];
    pb_login_request lr = {.email = "ann@example.com", .password = IFX_PASSWORD};
    /* the code of the step just used (by ifx_staff) is refused: replay */
    code_at(seed, f->now, code);
    lr.totp_code = code;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t),
                     PB_ERR_TOTP_INVALID);
    /* no code: TOTP_REQUIRED, and that is not a failure */
    lr.totp_code = NULL;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t),
                     PB_ERR_TOTP_REQUIRED);
    /* a wrong password never gets as far as TOTP */
    lr.password = "wrong password!";
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t),
                     PB_ERR_CREDENTIALS_INVALID);
    lr.password = IFX_PASSWORD;
    /* the next step's code works once (it is within the ±1 window) */
    code_at(seed, f->now + 30000000, code);
    lr.totp_code = code;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t), PB_OK);
    assert_int_equal(t.scope, PB_SCOPE_FULL);
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now + 30000000, &t),
                     PB_ERR_TOTP_INVALID);
    /* the success reset the count; that replay was failure 1: wrong codes 2-4, then 5 locks */
    f->now += 60000000;
    code_at(seed, f->now, code);
    lr.totp_code = strcmp(code, "000000") ? "000000" : "111111";
    for (int i = 2; i <= 4; i++)
        assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t),
                         PB_ERR_TOTP_INVALID);
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t),
                     PB_ERR_ACCOUNT_LOCKED);
    code_at(seed, f->now, code);
    lr.totp_code = code;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t),
                     PB_ERR_ACCOUNT_LOCKED);
    /* staff refresh tokens work for staff, and are bound by the staff idle limit */
    pb_auth_tokens s0, s1;
    f->now += 16 * 60 * 1000000LL;
    code_at(seed, f->now, code);
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &s0), PB_OK);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, s0.refresh_token, NULL,
                                         f->now, &s1),
                     PB_ERR_TOKEN_INVALID);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_STAFF, s0.refresh_token, NULL,
                                         f->now + 29 * 60 * 1000000LL, &s1),
                     PB_OK);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_STAFF, s1.refresh_token, NULL,
                                         f->now + 60 * 60 * 1000000LL, &s0),
                     PB_ERR_TOKEN_EXPIRED);
}

static void scope_and_authorization(void **state)
{
    ifx *f = *state;
    pb_brand other = ifx_brand(f, "other", "EUR");
    ifx_player(f, "demo", "in@example.com");
    pb_player outside = ifx_player(f, "other", "out@example.com");
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_auth_tokens t;
    pb_principal sup = ifx_staff(f, "sup@example.com", PB_ROLE_SUPPORT, "demo", seed, &t);
    assert_false(sup.scope.all);
    assert_int_equal(sup.scope.n, 1);
    assert_int_equal(sup.scope.brand_ids[0], f->demo.id);
    assert_int_equal(pb_identity_authorize(&sup, PB_PERM_PLAYERS_BLOCK, f->demo.id), PB_OK);
    assert_int_equal(pb_identity_authorize(&sup, PB_PERM_PLAYERS_BLOCK, other.id),
                     PB_ERR_BRAND_FORBIDDEN);
    assert_int_equal(pb_identity_authorize(&sup, PB_PERM_STAFF_MANAGE, f->demo.id),
                     PB_ERR_FORBIDDEN);
    /* every query is filtered by the scope */
    pb_store_player_hit hits[4];
    pb_player out[1];
    size_t n;
    char lower[2][PB_EMAIL_MAX + 1];
    const char *bad = NULL;
    pb_store_player_find_query q = {0};
    assert_int_equal(pb_identity_player_find(f->conn, &sup.scope, &q, hits, 4, &n, lower, &bad),
                     PB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pb_identity_player_get(f->conn, &sup.scope, hits[0].public_id, out), PB_OK);
    assert_string_equal(out[0].email, "in@example.com");
    assert_int_equal(pb_identity_player_get(f->conn, &sup.scope, outside.public_id, out),
                     PB_ERR_PLAYER_NOT_FOUND);
    pb_brand brands[4];
    assert_int_equal(pb_tenancy_brand_list(f->conn, &sup.scope, 0, brands, 4, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(brands[0].code, "demo");
    /* an auditor sees every brand and changes nothing */
    pb_principal aud = ifx_staff(f, "aud@example.com", PB_ROLE_AUDITOR, NULL, seed, &t);
    assert_true(aud.scope.all);
    assert_int_equal(pb_identity_authorize(&aud, PB_PERM_PLAYERS_READ, other.id), PB_OK);
    assert_int_equal(pb_identity_authorize(&aud, PB_PERM_PLAYERS_BLOCK, other.id),
                     PB_ERR_FORBIDDEN);
    /* a player principal is never authorized as staff */
    pb_auth_tokens pt;
    pb_principal pp;
    assert_int_equal(ifx_login(f, "in@example.com", NULL, &pt), PB_OK);
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, pt.access_token,
                                              f->now, &pp),
                     PB_OK);
    assert_int_equal(pb_identity_authorize(&pp, PB_PERM_PLAYERS_READ, f->demo.id),
                     PB_ERR_FORBIDDEN);
}

static void changes_end_sessions(void **state)
{
    ifx *f = *state;
    ifx_brand(f, "other", "EUR");
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_auth_tokens t;
    pb_principal p = ifx_staff(f, "fin@example.com", PB_ROLE_FINANCE, "demo", seed, &t);
    pb_staff st;
    pb_role risk = PB_ROLE_RISK;
    const char *codes[] = {"demo", "other", "demo"};
    pb_staff_update u = {.role = &risk, .brand_codes = codes, .nbrands = 3};
    ifx_begin(f);
    assert_int_equal(pb_identity_staff_update(f->conn, p.subject_public_id, &u, f->now, &st, NULL),
                     PB_OK);
    ifx_commit(f);
    assert_int_equal(st.role, PB_ROLE_RISK);
    assert_int_equal(st.scope.n, 2);
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_STAFF, t.access_token,
                                              f->now, &p),
                     PB_ERR_SESSION_REVOKED);
    /* a global scope is for admin and auditor only */
    bool all = true;
    const char *field = NULL;
    u = (pb_staff_update){.all_brands = &all};
    assert_int_equal(pb_identity_staff_update(f->conn, st.public_id, &u, f->now, &st, &field),
                     PB_ERR_ROLE_INVALID);
    assert_string_equal(field, "all_brands");
    const char *nope[] = {"nope"};
    u = (pb_staff_update){.brand_codes = nope, .nbrands = 1};
    assert_int_equal(pb_identity_staff_update(f->conn, st.public_id, &u, f->now, &st, &field),
                     PB_ERR_BRAND_NOT_FOUND);
    /* disabled: sessions end and login is refused (after a right password only) */
    char code[9];
    f->now += 30000000;
    code_at(seed, f->now, code);
    pb_login_request lr = {.email = "fin@example.com", .password = IFX_PASSWORD, .totp_code = code};
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t), PB_OK);
    bool off = false;
    u = (pb_staff_update){.active = &off};
    ifx_begin(f);
    assert_int_equal(pb_identity_staff_update(f->conn, st.public_id, &u, f->now, &st, NULL), PB_OK);
    ifx_commit(f);
    assert_false(st.active);
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_STAFF, t.access_token,
                                              f->now, &p),
                     PB_ERR_SESSION_REVOKED);
    f->now += 30000000;
    code_at(seed, f->now, code);
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t),
                     PB_ERR_FORBIDDEN);
    /* a TOTP reset without a new one-time password is refused, nothing written */
    bool on = true;
    u = (pb_staff_update){.active = &on, .reset_totp = true};
    ifx_begin(f);
    assert_int_equal(pb_identity_staff_update(f->conn, st.public_id, &u, f->now, &st, NULL),
                     PB_ERR_INTERNAL);
    pb_store_rollback(f->conn);
    assert_int_equal(ifx_count(f, "SELECT totp_enrolled FROM staff WHERE email='fin@example.com'"),
                     1);
    /* a lock from guessed codes (the password is known to whoever guessed) */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE staff SET failed_logins=5,locked_until=9000000000000000 "
                                  "WHERE email='fin@example.com'; INSERT INTO login_failure "
                                  "(subject_kind,subject_id,addr,failed,locked_until,updated_at) "
                                  "SELECT 'staff',id,'198.51.100.4',5,9000000000000000,0 FROM "
                                  "staff WHERE email='fin@example.com'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    /* re-enabled with a TOTP reset: a one-time password replaces the password */
    pb_staff_one_time otp;
    assert_int_equal(pb_identity_staff_one_time(&otp), PB_OK);
    u.reset_password = &otp;
    /* without the resetter's role: refused, nothing written */
    ifx_begin(f);
    assert_int_equal(pb_identity_staff_update(f->conn, st.public_id, &u, f->now, &st, NULL),
                     PB_ERR_INTERNAL);
    pb_store_rollback(f->conn);
    pb_role by = PB_ROLE_ADMIN;
    u.by_role = &by;
    ifx_begin(f);
    assert_int_equal(pb_identity_staff_update(f->conn, st.public_id, &u, f->now, &st, NULL), PB_OK);
    ifx_commit(f);
    assert_false(st.totp_enrolled);
    assert_true(st.must_change_password);
    assert_int_equal(st.locked_until, 0);
    assert_int_equal(ifx_count(f, "SELECT failed_logins FROM staff WHERE email='fin@example.com'"),
                     0);
    /* the reset clears the per-address locks too (the member's unlock) */
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM login_failure"), 0);
    /* the old password alone opens nothing: the same answer as any wrong password */
    lr.totp_code = NULL;
    f->now += 1000000;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t),
                     PB_ERR_CREDENTIALS_INVALID);
    /* the one-time password: a setup session that must change it and enrol again */
    lr.password = otp.password;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t), PB_OK);
    assert_true(t.totp_enrollment_required);
    assert_true(t.must_change_password);
    assert_int_equal(t.scope, PB_SCOPE_SETUP);
    sodium_memzero(&otp, sizeof otp);
}

static void create_validation(void **state)
{
    ifx *f = *state;
    pb_staff st;
    char otp[PB_ONE_TIME_PASSWORD_MAX];
    const char *field = NULL;
    const char *demo[] = {"demo"}, *nope[] = {"nope"};
    pb_staff_create bad_email = {.email = "no", .role = PB_ROLE_ADMIN, .all_brands = true};
    assert_int_equal(pb_identity_staff_create(f->conn, &bad_email, f->now, &st, otp, &field),
                     PB_ERR_FIELD_INVALID);
    assert_string_equal(field, "email");
    pb_staff_create bad_role = {.email = "a@example.com",
                                .role = PB_ROLE_COUNT_,
                                .all_brands = true};
    assert_int_equal(pb_identity_staff_create(f->conn, &bad_role, f->now, &st, otp, &field),
                     PB_ERR_ROLE_INVALID);
    pb_staff_create global_support = {.email = "a@example.com",
                                      .role = PB_ROLE_SUPPORT,
                                      .all_brands = true};
    assert_int_equal(pb_identity_staff_create(f->conn, &global_support, f->now, &st, otp, &field),
                     PB_ERR_ROLE_INVALID);
    pb_staff_create no_scope = {.email = "a@example.com", .role = PB_ROLE_RISK};
    assert_int_equal(pb_identity_staff_create(f->conn, &no_scope, f->now, &st, otp, &field),
                     PB_ERR_FIELD_INVALID);
    assert_string_equal(field, "brands");
    pb_staff_create unknown = {
        .email = "a@example.com", .role = PB_ROLE_RISK, .brand_codes = nope, .nbrands = 1};
    assert_int_equal(pb_identity_staff_create(f->conn, &unknown, f->now, &st, otp, &field),
                     PB_ERR_BRAND_NOT_FOUND);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM staff"), 0);
    pb_staff_create ok = {
        .email = "a@example.com", .role = PB_ROLE_RISK, .brand_codes = demo, .nbrands = 1};
    assert_int_equal(pb_identity_staff_create(f->conn, &ok, f->now, &st, otp, &field), PB_OK);
    pb_staff got, list[4];
    assert_int_equal(pb_identity_staff_get(f->conn, st.public_id, &got), PB_OK);
    assert_int_equal(got.role, PB_ROLE_RISK);
    assert_int_equal(got.scope.brand_ids[0], f->demo.id);
    size_t n;
    assert_int_equal(pb_identity_staff_list(f->conn, 0, list, 4, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pb_identity_staff_get(f->conn, "nope", &got), PB_ERR_STAFF_NOT_FOUND);
}

/* A code none of the window (now ±1 step) accepts. */
static void wrong_code(const uint8_t *seed, int64_t now, char out[9])
{
    char a[9], b[9], c[9];
    code_at(seed, now - 30000000, a);
    code_at(seed, now, b);
    code_at(seed, now + 30000000, c);
    for (int n = 0;; n++) {
        snprintf(out, 9, "%06d", n * 111111 % 1000000);
        if (strcmp(out, a) && strcmp(out, b) && strcmp(out, c))
            return;
    }
}

/* 5 wrong codes at f->now: the 5th locks; returns the lock's length (µs). */
static int64_t five_wrong(ifx *f, const uint8_t *seed, pb_login_request *lr)
{
    char code[9];
    wrong_code(seed, f->now, code);
    lr->totp_code = code;
    pb_auth_tokens t;
    for (int i = 1; i <= 4; i++)
        assert_int_equal(pb_identity_staff_login(f->id, f->conn, lr, NULL, f->now, &t),
                         PB_ERR_TOTP_INVALID);
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, lr, NULL, f->now, &t),
                     PB_ERR_ACCOUNT_LOCKED);
    lr->totp_code = NULL;
    return t.retry_after_us;
}

/* Someone who has a staff member's password guesses codes: each lock in a row
 * lasts twice the last (15, 30, 60 min, capped here at 1 h) until a success; a
 * player's locks stay 15 minutes. */
static void lockout_escalates(void **state)
{
    ifx *f = *state;
    ifx_reconfigure(f, (pb_identity_config){.account_burst = 100, .lockout_max_s = 3600});
    const int64_t MIN = 60 * 1000000LL;
    assert_int_equal(pb_login_lock_us(&f->id->cfg, 1), 15 * MIN);
    assert_int_equal(pb_login_lock_us(&f->id->cfg, 2), 30 * MIN);
    assert_int_equal(pb_login_lock_us(&f->id->cfg, 3), 60 * MIN);
    assert_int_equal(pb_login_lock_us(&f->id->cfg, 4000000000LL), 60 * MIN);
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_auth_tokens t;
    ifx_staff(f, "esc@example.com", PB_ROLE_SUPPORT, "demo", seed, &t);
    pb_login_request lr = {.email = "esc@example.com", .password = IFX_PASSWORD};
    f->now += 60000000;
    int64_t want[] = {15 * MIN, 30 * MIN, 60 * MIN, 60 * MIN};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        assert_int_equal(five_wrong(f, seed, &lr), want[k]);
        /* locked: even the right code is refused, the time left unchanged */
        char code[9];
        code_at(seed, f->now + 60000000, code);
        lr.totp_code = code;
        assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now + 60000000, &t),
                         PB_ERR_ACCOUNT_LOCKED);
        assert_int_equal(t.retry_after_us, want[k] - 60000000);
        f->now += want[k] + 1000000;
    }
    /* a success starts the count over: the next lock is 15 minutes again */
    char code[9];
    code_at(seed, f->now, code);
    lr.totp_code = code;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t), PB_OK);
    f->now += 60000000;
    assert_int_equal(five_wrong(f, seed, &lr), 15 * MIN);
    /* a player: 15 minutes, and 15 minutes again after it expired */
    ifx_player(f, "demo", "pl@example.com");
    for (int round = 0; round < 2; round++) {
        for (int i = 1; i <= 4; i++)
            assert_int_equal(ifx_login(f, "pl@example.com", "wrong password!", &t),
                             PB_ERR_CREDENTIALS_INVALID);
        assert_int_equal(ifx_login(f, "pl@example.com", "wrong password!", &t),
                         PB_ERR_ACCOUNT_LOCKED);
        assert_int_equal(t.retry_after_us, 15 * MIN);
        f->now += 15 * MIN + 1000000;
    }
}

/* Wrong passwords count per (account, client address): a stranger's from one
 * address lock that address only, the member logs in from theirs; the account's
 * global ceiling (4 × 5) still locks it everywhere when the guesses come from many
 * addresses; an IPv6 /64 counts as one address; wrong TOTP codes from many
 * addresses still lock the account after 5. */
static void lockout_per_address(void **state)
{
    ifx *f = *state;
    ifx_reconfigure(f, (pb_identity_config){.account_burst = 1000, .ip_burst = 1000});
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_auth_tokens t;
    ifx_staff(f, "victim@example.com", PB_ROLE_SUPPORT, "demo", seed, &t);
    f->now += 60000000;
    pb_login_request bad = {.email = "victim@example.com", .password = "not the password"};
    pb_login_request good = {.email = "victim@example.com", .password = IFX_PASSWORD};
    char code[9];
    pb_client_info stranger = {.ip = "198.51.100.7"}, member = {.ip = "203.0.113.20"};
    for (int i = 1; i <= 4; i++)
        assert_int_equal(pb_identity_staff_login(f->id, f->conn, &bad, &stranger, f->now, &t),
                         PB_ERR_CREDENTIALS_INVALID);
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &bad, &stranger, f->now, &t),
                     PB_ERR_ACCOUNT_LOCKED);
    assert_int_equal(t.retry_after_us, 15 * 60000000LL);
    /* the stranger's address stays locked, even with the right password */
    code_at(seed, f->now, code);
    good.totp_code = code;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &good, &stranger, f->now, &t),
                     PB_ERR_ACCOUNT_LOCKED);
    /* the member, from their own address: in */
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &good, &member, f->now, &t), PB_OK);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM login_failure"), 0);
    f->now += 60000000;
    /* spread over many addresses: the 20th failure locks the account everywhere */
    char ip[32];
    for (int i = 1; i <= 20; i++) {
        snprintf(ip, sizeof ip, "192.0.2.%d", 1 + (i - 1) / 4); /* 4 tries per address */
        pb_client_info ci = {.ip = ip};
        assert_int_equal(pb_identity_staff_login(f->id, f->conn, &bad, &ci, f->now, &t),
                         i < 20 ? PB_ERR_CREDENTIALS_INVALID : PB_ERR_ACCOUNT_LOCKED);
    }
    code_at(seed, f->now + 30000000, code);
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &good, &member, f->now + 30000000, &t),
                     PB_ERR_ACCOUNT_LOCKED);
    f->now += 15 * 60000000LL + 1000000;
    code_at(seed, f->now, code);
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &good, &member, f->now, &t), PB_OK);
    f->now += 60000000;
    /* one IPv6 /64 is one address */
    for (int i = 1; i <= 5; i++) {
        snprintf(ip, sizeof ip, "2001:db8:1:2::%x", i);
        pb_client_info ci = {.ip = ip};
        assert_int_equal(pb_identity_staff_login(f->id, f->conn, &bad, &ci, f->now, &t),
                         i < 5 ? PB_ERR_CREDENTIALS_INVALID : PB_ERR_ACCOUNT_LOCKED);
    }
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM login_failure WHERE "
                                  "addr='2001:db8:1:2::/64' AND failed=5"),
                     1);
    code_at(seed, f->now, code);
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &good, &member, f->now, &t), PB_OK);
    f->now += 60000000;
    /* wrong codes (the right password) from five addresses: the account locks */
    wrong_code(seed, f->now, code);
    good.totp_code = code;
    for (int i = 1; i <= 5; i++) {
        snprintf(ip, sizeof ip, "198.18.0.%d", i);
        pb_client_info ci = {.ip = ip};
        assert_int_equal(pb_identity_staff_login(f->id, f->conn, &good, &ci, f->now, &t),
                         i < 5 ? PB_ERR_TOTP_INVALID : PB_ERR_ACCOUNT_LOCKED);
    }
    code_at(seed, f->now, code);
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &good, &member, f->now, &t),
                     PB_ERR_ACCOUNT_LOCKED);
}

/* A wrong current password on the authenticated password change counts like a
 * failed login from the caller's address (not under an unknown address): five
 * lock that address out of the account, for the change and for logins, with the
 * time left; the member changes it from another address. */
static void password_change_counts_per_address(void **state)
{
    ifx *f = *state;
    ifx_reconfigure(f, (pb_identity_config){.account_burst = 1000, .ip_burst = 1000});
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_auth_tokens t;
    pb_principal p = ifx_staff(f, "pwc@example.com", PB_ROLE_SUPPORT, "demo", seed, &t);
    f->now += 60000000;
    pb_client_info stolen = {.ip = "198.51.100.9"}, member = {.ip = "203.0.113.21"};
    int64_t wait = -1;
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, &stolen,
                                                     "not the password", "a new passphrase", f->now,
                                                     &wait, NULL, NULL),
                         PB_ERR_CREDENTIALS_INVALID);
        assert_int_equal(wait, 0);
    }
    assert_int_equal(ifx_count(f, "SELECT failed FROM login_failure WHERE addr='198.51.100.9'"), 4);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM login_failure WHERE addr=''"), 0);
    assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, &stolen, "not the password",
                                                 "a new passphrase", f->now, &wait, NULL, NULL),
                     PB_ERR_ACCOUNT_LOCKED);
    assert_int_equal(wait, 15 * 60000000LL);
    /* that address is locked out of the account: the change and a login */
    f->now += 1000000;
    assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, &stolen, IFX_PASSWORD,
                                                 "a new passphrase", f->now, &wait, NULL, NULL),
                     PB_ERR_ACCOUNT_LOCKED);
    assert_int_equal(wait, 15 * 60000000LL - 1000000);
    char code[9];
    code_at(seed, f->now, code);
    pb_login_request good = {.email = "pwc@example.com",
                             .password = IFX_PASSWORD,
                             .totp_code = code};
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &good, &stolen, f->now, &t),
                     PB_ERR_ACCOUNT_LOCKED);
    /* the account itself is not locked: from the member's address it goes through */
    assert_int_equal(ifx_count(f, "SELECT locked_until FROM staff WHERE email='pwc@example.com'"),
                     0);
    assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, &member, IFX_PASSWORD,
                                                 "a new passphrase", f->now, &wait, NULL, NULL),
                     PB_OK);
}

/* Runs SQL on the test database through a connection of its own. */
static void sql(ifx *f, const char *q)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* The login counts its attempt (a write of failed_logins) after reading the member
 * and before the slow password check; a trigger on that write commits `change` at
 * that moment, as an admin acting while the password is being checked would. */
static pb_err login_during(ifx *f, const char *email, const uint8_t *seed, const char *change,
                           pb_auth_tokens *t)
{
    char q[600];
    snprintf(q, sizeof q,
             "CREATE TRIGGER meanwhile AFTER UPDATE OF failed_logins ON staff "
             "WHEN NEW.failed_logins > OLD.failed_logins AND NEW.email='%s' BEGIN %s; END",
             email, change);
    sql(f, q);
    f->now += 30000000; /* a fresh TOTP step */
    char code[9];
    code_at(seed, f->now, code);
    pb_login_request lr = {.email = email, .password = IFX_PASSWORD, .totp_code = code};
    pb_err e = pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, t);
    sql(f, "DROP TRIGGER meanwhile");
    return e;
}

static void changed_during_login(void **state)
{
    ifx *f = *state;
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_auth_tokens t;
    char q[300];
    struct {
        const char *email, *change;
        pb_err want;
    } cases[] = {
        /* disabled: what a login of a disabled member answers */
        {"dis@example.com", "UPDATE staff SET status='disabled' WHERE id=NEW.id", PB_ERR_FORBIDDEN},
        /* TOTP reset (seed gone, a one-time password): as a wrong password */
        {"totp@example.com",
         "UPDATE staff SET totp_enrolled=0, totp_secret=NULL, must_change_password=1 "
         "WHERE id=NEW.id",
         PB_ERR_CREDENTIALS_INVALID},
        /* a new TOTP seed, the rest as it was */
        {"seed@example.com",
         "UPDATE staff SET totp_secret=randomblob(length(totp_secret)) "
         "WHERE id=NEW.id",
         PB_ERR_CREDENTIALS_INVALID},
        /* the password changed (the hash of another one) */
        {"pw@example.com", "UPDATE staff SET password_hash=password_hash||'x' WHERE id=NEW.id",
         PB_ERR_CREDENTIALS_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ifx_staff(f, cases[i].email, PB_ROLE_ADMIN, NULL, seed, &t);
        snprintf(q, sizeof q,
                 "SELECT count(*) FROM auth_session WHERE revoked_at=0 AND "
                 "subject_id=(SELECT id FROM staff WHERE email='%s')",
                 cases[i].email);
        int64_t before = ifx_count(f, q);
        assert_int_equal(login_during(f, cases[i].email, seed, cases[i].change, &t), cases[i].want);
        assert_int_equal(ifx_count(f, q), before); /* nothing opened */
        assert_int_equal(t.access_token[0], 0);
        assert_int_equal(t.refresh_token[0], 0);
    }
    /* demoted meanwhile: the session opens with the role the member has now */
    ifx_staff(f, "demoted@example.com", PB_ROLE_ADMIN, NULL, seed, &t);
    assert_int_equal(login_during(f, "demoted@example.com", seed,
                                  "UPDATE staff SET role='support', all_brands=0 WHERE id=NEW.id",
                                  &t),
                     PB_OK);
    pb_jwt_claims cl;
    assert_int_equal(pb_jwt_verify(f->id->keys, f->id->issuer, f->id->aud_staff, 3600,
                                   t.access_token, f->now, &cl),
                     PB_OK);
    assert_string_equal(cl.role, "support");
    pb_principal p;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_STAFF, t.access_token,
                                              f->now, &p),
                     PB_OK);
    assert_int_equal(p.role, PB_ROLE_SUPPORT);
}

/* An administrator's TOTP is reset only by an administrator: the check lives in
 * pb_identity_staff_update, which both API paths (PATCH with reset_totp, POST
 * …/totp/reset) call; another member's reset goes through. */
static void admin_totp_reset_needs_admin(void **state)
{
    ifx *f = *state;
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_auth_tokens t;
    pb_principal adm = ifx_staff(f, "boss2@example.com", PB_ROLE_ADMIN, NULL, seed, &t);
    pb_principal sup = ifx_staff(f, "helper@example.com", PB_ROLE_SUPPORT, "demo", seed, &t);
    pb_staff_one_time otp;
    assert_int_equal(pb_identity_staff_one_time(&otp), PB_OK);
    bool on = true;
    pb_role by = PB_ROLE_SUPPORT;
    pb_staff_update u = {.active = &on, .reset_totp = true, .reset_password = &otp, .by_role = &by};
    pb_staff st;
    ifx_begin(f);
    assert_int_equal(pb_identity_staff_update(f->conn, adm.subject_public_id, &u, f->now, &st,
                                              NULL),
                     PB_ERR_FORBIDDEN);
    pb_store_rollback(f->conn);
    assert_int_equal(ifx_count(f,
                               "SELECT totp_enrolled FROM staff WHERE email='boss2@example.com'"),
                     1);
    /* a non-admin target: the same resetter role is fine here (the route's permission
     * decides who may reset at all) */
    ifx_begin(f);
    assert_int_equal(pb_identity_staff_update(f->conn, sup.subject_public_id, &u, f->now, &st,
                                              NULL),
                     PB_OK);
    ifx_commit(f);
    assert_false(st.totp_enrolled);
    /* an administrator resets an administrator */
    by = PB_ROLE_ADMIN;
    ifx_begin(f);
    assert_int_equal(pb_identity_staff_update(f->conn, adm.subject_public_id, &u, f->now, &st,
                                              NULL),
                     PB_OK);
    ifx_commit(f);
    assert_false(st.totp_enrolled);
    sodium_memzero(&otp, sizeof otp);
}

/* A staff member's new password may not be any of the last PB_PASSWORD_HISTORY
 * (PCI DSS v4.0 8.3.7): the current one and the three it replaced, checked against
 * the kept hashes; the history stays bounded and a one-time password is not kept. */
static void password_history(void **state)
{
    ifx *f = *state;
    pb_auth_tokens t;
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_principal p = ifx_staff(f, "hist@example.com", PB_ROLE_SUPPORT, "demo", seed, &t);
    /* ifx_staff replaced the one-time password: it is not kept */
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM password_history"), 0);
    static const char *const PW[] = {IFX_PASSWORD, "first new passphrase", "second new passphrase",
                                     "third new passphrase", "fourth new passphrase"};
    for (int i = 1; i < 5; i++) {
        assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, NULL, PW[i - 1], PW[i],
                                                     f->now, NULL, NULL, NULL),
                         PB_OK);
        /* back to the one just replaced: refused, nothing changed */
        assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, NULL, PW[i], PW[i - 1],
                                                     f->now, NULL, NULL, NULL),
                         PB_ERR_PASSWORD_REUSED);
        f->now += 60 * 1000000; /* past the per-subject limit's refill */
    }
    /* current PW[4]; kept PW[3], PW[2], PW[1]: each of the last four refused */
    for (int i = 1; i < 5; i++)
        assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, NULL, PW[4], PW[i], f->now,
                                                     NULL, NULL, NULL),
                         PB_ERR_PASSWORD_REUSED);
    /* bounded: three rows, only hashes */
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM password_history WHERE "
                                  "password_hash LIKE '$argon2id$%'"),
                     3);
    /* the fifth-last is allowed again */
    f->now += 60 * 1000000;
    assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, NULL, PW[4], PW[0], f->now,
                                                 NULL, NULL, NULL),
                     PB_OK);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM password_history"), 3);
}

int main(void)
{
    /* these are the staff rules, not the hash's cost (test_password.c has that): new
     * hashes at argon2id's minimum cost, as the API suites run the server */
    if (pb_password_set_cost("min") != PB_OK)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, ifx_setup, ifx_teardown)
    const struct CMUnitTest tests[] = {
        T(bootstrap_and_setup),
        T(totp_login),
        T(scope_and_authorization),
        T(changes_end_sessions),
        T(create_validation),
        T(lockout_escalates),
        T(changed_during_login),
        T(password_history),
        T(admin_totp_reset_needs_admin),
        T(lockout_per_address),
        T(password_change_counts_per_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
