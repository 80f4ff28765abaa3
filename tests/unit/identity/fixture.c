/* fixture.c — see fixture.h. Each test gets its own temporary directory. */
#include "fixture.h"

#include <dirent.h>
#include <liboath/oath.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Removes a directory and the files in it (no subdirectories are made here). */
static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(dir);
}

void ifx_reconfigure(ifx *f, pb_identity_config cfg)
{
    pb_identity_free(f->id);
    cfg.keys_dir = f->keys;
    f->cfg = cfg;
    char err[300];
    f->id = pb_identity_new(&cfg, f->now, err, sizeof err);
    if (!f->id)
        fail_msg("identity: %s", err);
}

int ifx_setup(void **state)
{
    ifx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pbid.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/identity.db", f->dir);
    snprintf(f->keys, sizeof f->keys, "%s/keys", f->dir);
    char err[256];
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(pb_store_migrate(f->store, NULL, err, sizeof err), PB_STORE_OK);
    f->conn = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->conn);
    f->now = IFX_T0;
    ifx_reconfigure(f, (pb_identity_config){0});
    /* as serve does: names and dates of birth sealed under this test's pii.key */
    if (pb_identity_pii_open(f->id, f->store, NULL, err, sizeof err) != 0)
        fail_msg("pii: %s", err);
    f->demo = ifx_brand(f, "demo", "EUR");
    *state = f;
    return 0;
}

int ifx_teardown(void **state)
{
    ifx *f = *state;
    pb_identity_free(f->id);
    pb_store_disconnect(f->conn);
    pb_store_close(f->store);
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", "-writer.lock"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rm_dir(f->keys);
    rm_dir(f->dir);
    free(f);
    return 0;
}

void ifx_begin(ifx *f) { assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK); }
void ifx_commit(ifx *f) { assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK); }

pb_brand ifx_brand(ifx *f, const char *code, const char *currency)
{
    const char *list[] = {currency, "USD"};
    pb_brand_spec spec = {.code = code,
                          .name = "Test brand",
                          .default_currency = currency,
                          .currencies = list,
                          .ncurrencies = strcmp(currency, "USD") ? 2 : 1,
                          .jurisdiction = "MT"};
    pb_brand b;
    const char *field = NULL;
    ifx_begin(f);
    pb_err e = pb_tenancy_brand_create(f->conn, &spec, f->now, &b, &field);
    if (e != PB_OK)
        fail_msg("brand %s: %s (%s)", code, pb_err_code(e), field ? field : "-");
    ifx_commit(f);
    return b;
}

pb_player ifx_player(ifx *f, const char *code, const char *email)
{
    pb_player_registration reg = {.brand_code = code,
                                  .email = email,
                                  .password = IFX_PASSWORD,
                                  .country = "MT",
                                  .date_of_birth = "1990-05-17"};
    pb_player p;
    const char *field = NULL;
    pb_err e = pb_identity_player_register(f->id, f->conn, &reg, NULL, f->now, &p, &field);
    if (e != PB_OK)
        fail_msg("register %s: %s (%s)", email, pb_err_code(e), field ? field : "-");
    return p;
}

pb_err ifx_login(ifx *f, const char *email, const char *password, pb_auth_tokens *out)
{
    pb_login_request req = {.brand_code = "demo",
                            .email = email,
                            .password = password ? password : IFX_PASSWORD};
    pb_client_info ci = {.ip = NULL, .user_agent = "test-agent/1.0"};
    return pb_identity_player_login(f->id, f->conn, &req, &ci, f->now, out);
}

void ifx_uri_seed(const char *uri, uint8_t seed[PB_TOTP_SEED_BYTES])
{
    const char *s = strstr(uri, "secret=");
    assert_non_null(s);
    s += 7;
    size_t n = strcspn(s, "&");
    char *bin = NULL;
    size_t len = 0;
    assert_int_equal(oath_base32_decode(s, n, &bin, &len), OATH_OK);
    assert_int_equal(len, PB_TOTP_SEED_BYTES);
    memcpy(seed, bin, len);
    free(bin);
}

pb_principal ifx_staff(ifx *f, const char *email, pb_role role, const char *brand,
                       uint8_t seed[PB_TOTP_SEED_BYTES], pb_auth_tokens *tokens)
{
    const char *codes[] = {brand};
    pb_staff_create req = {.email = email,
                           .role = role,
                           .all_brands = brand == NULL,
                           .brand_codes = codes,
                           .nbrands = brand ? 1 : 0};
    pb_staff st;
    char otp[PB_ONE_TIME_PASSWORD_MAX];
    assert_int_equal(pb_identity_staff_create(f->conn, &req, f->now, &st, otp, NULL), PB_OK);
    /* first login: a setup session */
    pb_login_request lr = {.email = email, .password = otp};
    pb_auth_tokens t;
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, &t), PB_OK);
    assert_int_equal(t.scope, PB_SCOPE_SETUP);
    pb_principal p;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_STAFF, t.access_token,
                                              f->now, &p),
                     PB_OK);
    assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, NULL, otp, IFX_PASSWORD,
                                                 f->now, NULL, NULL, NULL),
                     PB_OK);
    char uri[256];
    ifx_begin(f);
    assert_int_equal(pb_identity_totp_begin(f->id, f->conn, &p, f->now, uri, sizeof uri), PB_OK);
    ifx_uri_seed(uri, seed);
    char code[9];
    assert_int_equal(pb_totp_code(seed, PB_TOTP_SEED_BYTES, f->now / 1000000, 6, code), PB_OK);
    assert_int_equal(pb_identity_totp_confirm(f->id, f->conn, &p, code, f->now), PB_OK);
    ifx_commit(f);
    /* the confirming code's step is used: log in with the next one */
    f->now += 30 * 1000000;
    assert_int_equal(pb_totp_code(seed, PB_TOTP_SEED_BYTES, f->now / 1000000, 6, code), PB_OK);
    lr = (pb_login_request){.email = email, .password = IFX_PASSWORD, .totp_code = code};
    assert_int_equal(pb_identity_staff_login(f->id, f->conn, &lr, NULL, f->now, tokens), PB_OK);
    assert_int_equal(tokens->scope, PB_SCOPE_FULL);
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_STAFF,
                                              tokens->access_token, f->now, &p),
                     PB_OK);
    return p;
}

int64_t ifx_count(ifx *f, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}
