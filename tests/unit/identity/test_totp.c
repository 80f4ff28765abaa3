/*
 * test_totp.c — the TOTP second factor: RFC 6238 Appendix B (SHA-1, 8 digits)
 * and RFC 4226 Appendix D vectors through our liboath wrappers, a cross-check
 * against Debian's oathtool binary, the ±1 step window, replay refusal, code
 * format checks, the otpauth:// URI, and the sealed seed in the database.
 */
#include <stdio.h>
#include <string.h>

#include "fixture.h"

static const uint8_t RFC_SEED[] = "12345678901234567890"; /* 20 bytes, ASCII */
#define SEED_LEN 20

static void rfc6238_appendix_b(void **state)
{
    (void)state;
    static const struct {
        int64_t t;
        const char *code;
    } v[] = {{59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
             {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
    char out[9];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(pb_totp_code(RFC_SEED, SEED_LEN, v[i].t, 8, out), PB_OK);
        assert_string_equal(out, v[i].code);
        /* and the checker accepts exactly that code at that time */
        int64_t step = 0;
        assert_int_equal(pb_totp_check(RFC_SEED, SEED_LEN, v[i].code, v[i].t, 0, &step), PB_OK);
        assert_int_equal(step, v[i].t / 30);
    }
}

static void rfc4226_appendix_d(void **state)
{
    (void)state;
    static const char *const v[] = {"755224", "287082", "359152", "969429", "338314",
                                    "254676", "287922", "162583", "399871", "520489"};
    char out[9];
    for (uint64_t c = 0; c < 10; c++) {
        assert_int_equal(pb_hotp_code(RFC_SEED, SEED_LEN, c, 6, out), PB_OK);
        assert_string_equal(out, v[c]);
    }
}

/* Runs oathtool; false when it is not installed. */
static bool oathtool(const char *args, char *out, size_t cap)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "oathtool %s 2>/dev/null", args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    bool ok = fgets(out, (int)cap, p) != NULL;
    int rc = pclose(p);
    out[strcspn(out, "\n")] = 0;
    return ok && rc == 0;
}

static void cross_check_with_oathtool(void **state)
{
    (void)state;
    if (system("command -v oathtool >/dev/null 2>&1") != 0)
        skip();
    uint8_t seed[PB_TOTP_SEED_BYTES];
    char hex[2 * PB_TOTP_SEED_BYTES + 1], args[160], theirs[32], ours[9];
    for (int round = 0; round < 5; round++) {
        randombytes_buf(seed, sizeof seed);
        sodium_bin2hex(hex, sizeof hex, seed, sizeof seed);
        int64_t t = 1600000000 + (int64_t)randombytes_uniform(400000000);
        snprintf(args, sizeof args, "--totp -d 6 -N @%lld %s", (long long)t, hex);
        assert_true(oathtool(args, theirs, sizeof theirs));
        assert_int_equal(pb_totp_code(seed, sizeof seed, t, 6, ours), PB_OK);
        assert_string_equal(ours, theirs);
        snprintf(args, sizeof args, "--hotp -d 6 -c %d %s", round * 7, hex);
        assert_true(oathtool(args, theirs, sizeof theirs));
        assert_int_equal(pb_hotp_code(seed, sizeof seed, (uint64_t)round * 7, 6, ours), PB_OK);
        assert_string_equal(ours, theirs);
    }
    /* the RFC seed as oathtool takes it (hex) gives the RFC values too */
    assert_true(oathtool("--totp -d 8 -N @59 3132333435363738393031323334353637383930", theirs,
                         sizeof theirs));
    assert_string_equal(theirs, "94287082");
}

static void window_is_one_step_each_way(void **state)
{
    (void)state;
    int64_t t = 1795000000, step = 0;
    char prev[9], cur[9], next[9], far_prev[9], far_next[9];
    assert_int_equal(pb_totp_code(RFC_SEED, SEED_LEN, t - 30, 6, prev), PB_OK);
    assert_int_equal(pb_totp_code(RFC_SEED, SEED_LEN, t, 6, cur), PB_OK);
    assert_int_equal(pb_totp_code(RFC_SEED, SEED_LEN, t + 30, 6, next), PB_OK);
    assert_int_equal(pb_totp_code(RFC_SEED, SEED_LEN, t - 60, 6, far_prev), PB_OK);
    assert_int_equal(pb_totp_code(RFC_SEED, SEED_LEN, t + 60, 6, far_next), PB_OK);
    assert_int_equal(pb_totp_check(RFC_SEED, SEED_LEN, prev, t, 0, &step), PB_OK);
    assert_int_equal(step, t / 30 - 1);
    assert_int_equal(pb_totp_check(RFC_SEED, SEED_LEN, cur, t, 0, &step), PB_OK);
    assert_int_equal(step, t / 30);
    assert_int_equal(pb_totp_check(RFC_SEED, SEED_LEN, next, t, 0, &step), PB_OK);
    assert_int_equal(step, t / 30 + 1);
    assert_int_equal(pb_totp_check(RFC_SEED, SEED_LEN, far_prev, t, 0, &step), PB_ERR_TOTP_INVALID);
    assert_int_equal(pb_totp_check(RFC_SEED, SEED_LEN, far_next, t, 0, &step), PB_ERR_TOTP_INVALID);
}

static void used_step_is_refused(void **state)
{
    (void)state;
    int64_t t = 1795000000, step = 0;
    char cur[9], prev[9];
    assert_int_equal(pb_totp_code(RFC_SEED, SEED_LEN, t, 6, cur), PB_OK);
    assert_int_equal(pb_totp_code(RFC_SEED, SEED_LEN, t - 30, 6, prev), PB_OK);
    assert_int_equal(pb_totp_check(RFC_SEED, SEED_LEN, cur, t, 0, &step), PB_OK);
    /* the same code again, and an older one, once its step was used */
    assert_int_equal(pb_totp_check(RFC_SEED, SEED_LEN, cur, t, step, &step), PB_ERR_TOTP_INVALID);
    assert_int_equal(pb_totp_check(RFC_SEED, SEED_LEN, prev, t, t / 30, &step),
                     PB_ERR_TOTP_INVALID);
}

static void malformed_codes_are_refused(void **state)
{
    (void)state;
    int64_t step;
    const char *bad[] = {"", "12345", "1234567", "123456789", "12a456", " 123456", "-12345", NULL};
    for (int i = 0; i < 7; i++)
        assert_int_equal(pb_totp_check(RFC_SEED, SEED_LEN, bad[i], 59, 0, &step),
                         PB_ERR_TOTP_INVALID);
    assert_int_equal(pb_totp_check(RFC_SEED, SEED_LEN, NULL, 59, 0, &step), PB_ERR_TOTP_INVALID);
}

static void otpauth_uri(void **state)
{
    (void)state;
    char uri[256];
    assert_int_equal(pb_totp_uri(RFC_SEED, SEED_LEN, "pitboss", "ann+ops@example.com", uri,
                                 sizeof uri),
                     PB_OK);
    assert_string_equal(uri, "otpauth://totp/pitboss:ann%2Bops@example.com?"
                             "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=pitboss"
                             "&algorithm=SHA1&digits=6&period=30");
    assert_int_equal(pb_totp_uri(RFC_SEED, SEED_LEN, "pitboss", "a@example.com", uri, 40),
                     PB_ERR_INTERNAL); /* does not fit: refused, not truncated */
}

static void enrolment_seals_the_seed(void **state)
{
    ifx *f = *state;
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_auth_tokens t;
    pb_principal p = ifx_staff(f, "ops@example.com", PB_ROLE_ADMIN, NULL, seed, &t);
    /* the stored blob is nonce + sealed seed + tag, and the seed is not in it */
    assert_int_equal(ifx_count(f, "SELECT length(totp_secret) FROM staff"), 24 + 20 + 16);
    char hex[41], sql[160];
    sodium_bin2hex(hex, sizeof hex, seed, sizeof seed);
    snprintf(sql, sizeof sql, "SELECT instr(hex(totp_secret), upper('%s')) FROM staff", hex);
    assert_int_equal(ifx_count(f, sql), 0);
    /* enrolled: begin again is refused */
    char uri[256];
    ifx_begin(f);
    assert_int_equal(pb_identity_totp_begin(f->id, f->conn, &p, f->now, uri, sizeof uri),
                     PB_ERR_INVALID_REQUEST);
    ifx_commit(f);
    /* a sealed seed moved onto another member's row does not open */
    pb_staff_create req = {.email = "other@example.com",
                           .role = PB_ROLE_AUDITOR,
                           .all_brands = true};
    pb_staff other;
    char otp[PB_ONE_TIME_PASSWORD_MAX];
    assert_int_equal(pb_identity_staff_create(f->conn, &req, f->now, &other, otp, NULL), PB_OK);
    assert_int_equal(pb_store_exec_raw(f->conn, "UPDATE staff SET totp_secret=(SELECT totp_secret "
                                                "FROM staff WHERE email='ops@example.com'), "
                                                "totp_enrolled=1 WHERE email='other@example.com'"),
                     PB_STORE_OK);
    char code[9];
    assert_int_equal(pb_totp_code(seed, sizeof seed, f->now / 1000000 + 30, 6, code), PB_OK);
    pb_login_request lr = {.email = "other@example.com", .password = otp, .totp_code = code};
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now + 30000000, &t),
                     PB_ERR_INTERNAL);
}

static void confirm_needs_a_right_code(void **state)
{
    ifx *f = *state;
    pb_staff_create req = {.email = "new@example.com", .role = PB_ROLE_AUDITOR, .all_brands = true};
    pb_staff st;
    char otp[PB_ONE_TIME_PASSWORD_MAX], uri[256], code[9];
    assert_int_equal(pb_identity_staff_create(f->conn, &req, f->now, &st, otp, NULL), PB_OK);
    pb_login_request lr = {.email = "new@example.com", .password = otp};
    pb_auth_tokens t;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t), PB_OK);
    assert_true(t.totp_enrollment_required);
    assert_true(t.must_change_password);
    assert_string_equal(t.refresh_token, ""); /* setup sessions are not refreshable */
    pb_principal p;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_STAFF, t.access_token,
                                              f->now, &p),
                     PB_OK);
    ifx_begin(f);
    assert_int_equal(pb_identity_totp_confirm(f->id, f->conn, &p, "123456", f->now),
                     PB_ERR_TOTP_NOT_ENROLLED);
    assert_int_equal(pb_identity_totp_begin(f->id, f->conn, &p, f->now, uri, sizeof uri), PB_OK);
    uint8_t seed[PB_TOTP_SEED_BYTES];
    ifx_uri_seed(uri, seed);
    assert_int_equal(pb_totp_code(seed, sizeof seed, f->now / 1000000 - 120, 6, code), PB_OK);
    assert_int_equal(pb_identity_totp_confirm(f->id, f->conn, &p, code, f->now),
                     PB_ERR_TOTP_INVALID);
    assert_int_equal(pb_totp_code(seed, sizeof seed, f->now / 1000000, 6, code), PB_OK);
    assert_int_equal(pb_identity_totp_confirm(f->id, f->conn, &p, code, f->now), PB_OK);
    ifx_commit(f);
    assert_int_equal(ifx_count(f, "SELECT totp_enrolled FROM staff WHERE email='new@example.com'"),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc6238_appendix_b),
        cmocka_unit_test(rfc4226_appendix_d),
        cmocka_unit_test(cross_check_with_oathtool),
        cmocka_unit_test(window_is_one_step_each_way),
        cmocka_unit_test(used_step_is_refused),
        cmocka_unit_test(malformed_codes_are_refused),
        cmocka_unit_test(otpauth_uri),
        cmocka_unit_test_setup_teardown(enrolment_seals_the_seed, ifx_setup, ifx_teardown),
        cmocka_unit_test_setup_teardown(confirm_needs_a_right_code, ifx_setup, ifx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
