/*
 * test_catalog_secret.c — native providers' keys sealed at rest (catalog/secret.c)
 * and the key files and boxes they rest on (core/sealbox.c).
 *
 * One process per file: the catalog's sealing key is process-wide, so the first
 * case runs without one (an older version's rows, in the clear) and sets it.
 */
#include <sys/stat.h>

#include "catalog_fixture.h"
#include "core/sealbox.h"

static uint8_t key_a[32], key_b[32];

/* The stored provider.secret of code, raw (as any reader of the file sees it). */
static size_t stored_secret(tfx *f, const char *code, uint8_t *out, size_t cap)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT secret FROM provider WHERE code = ?", -1, &st,
                                        NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    assert_true(n <= cap);
    memcpy(out, sqlite3_column_blob(st, 0), n);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Writes a raw provider.secret for code, as a restore or a tamperer would. */
static void store_secret(tfx *f, const char *code, const uint8_t *v, size_t n)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE provider SET secret = ? WHERE code = ?", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, v, (int)n, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void expect_sealed(tfx *f, const char *code, const uint8_t *secret, size_t len)
{
    uint8_t raw[256];
    size_t n = stored_secret(f, code, raw, sizeof raw);
    assert_int_equal(n, 3 + PB_SEALBOX_OVERHEAD + len);
    assert_memory_equal(raw, "p1:", 3);
    assert_null(memmem(raw, n, secret, 8)); /* not even a piece of the key in the clear */
}

/* Rows written without a key keep the key in the clear; once a key is set,
 * pb_catalog_seal_existing seals them (and only them), and they read the same. */
static void clear_keys_sealed_on_open(void **state)
{
    tfx *f = *state;
    pb_provider p = native_provider("legacy-studio");
    const char *bad;
    assert_int_equal(provider_create(f, &p, &bad), PB_OK);
    uint8_t raw[256];
    assert_int_equal(stored_secret(f, "legacy-studio", raw, sizeof raw), 32);
    assert_memory_equal(raw, p.secret, 32);

    int64_t sealed = -1;
    char err[256];
    assert_int_equal(pb_catalog_seal_existing(f->store, &sealed, err, sizeof err), 0);
    assert_int_equal(sealed, 0); /* no key: nothing to do */

    randombytes_buf(key_a, sizeof key_a);
    randombytes_buf(key_b, sizeof key_b);
    pb_catalog_seal_set_key(key_a);
    assert_int_equal(pb_catalog_seal_existing(f->store, &sealed, err, sizeof err), 0);
    assert_int_equal(sealed, 1);
    expect_sealed(f, "legacy-studio", p.secret, 32);
    pb_provider got;
    assert_int_equal(pb_catalog_provider_get(f->conn, "legacy-studio", &got), PB_OK);
    assert_false(got.secret_unavailable);
    assert_int_equal(got.secret_len, 32);
    assert_memory_equal(got.secret, p.secret, 32);
    assert_int_equal(got.updated_at, T0); /* sealing is not a change of the provider */
    /* a second start finds nothing left to seal */
    assert_int_equal(pb_catalog_seal_existing(f->store, &sealed, err, sizeof err), 0);
    assert_int_equal(sealed, 0);
}

/* With the key: stored sealed from the first write, bound to the provider's code. */
static void keys_sealed_and_bound_to_the_provider(void **state)
{
    tfx *f = *state;
    pb_catalog_seal_set_key(key_a);
    pb_provider a = native_provider("studio-a"), b = native_provider("studio-b");
    randombytes_buf(a.secret, 64);
    a.secret_len = 64;
    const char *bad;
    assert_int_equal(provider_create(f, &a, &bad), PB_OK);
    assert_int_equal(provider_create(f, &b, &bad), PB_OK);
    expect_sealed(f, "studio-a", a.secret, 64);
    expect_sealed(f, "studio-b", b.secret, 32);
    pb_provider got;
    assert_int_equal(pb_catalog_provider_get(f->conn, "studio-a", &got), PB_OK);
    assert_int_equal(got.secret_len, 64);
    assert_memory_equal(got.secret, a.secret, 64);

    /* a's sealed key copied onto b's row does not open as b's */
    uint8_t raw_a[256], raw_b[256], after[256];
    size_t na = stored_secret(f, "studio-a", raw_a, sizeof raw_a);
    size_t nb = stored_secret(f, "studio-b", raw_b, sizeof raw_b);
    store_secret(f, "studio-b", raw_a, na);
    assert_int_equal(pb_catalog_provider_get(f->conn, "studio-b", &got), PB_OK);
    assert_true(got.secret_unavailable);
    assert_int_equal(got.secret_len, 0);
    /* nor does a changed byte */
    raw_b[nb - 1] ^= 1;
    store_secret(f, "studio-b", raw_b, nb);
    assert_int_equal(pb_catalog_provider_get(f->conn, "studio-b", &got), PB_OK);
    assert_true(got.secret_unavailable);

    /* an update that sets no new key keeps the stored one, byte for byte */
    snprintf(got.name, sizeof got.name, "Studio B renamed");
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_provider_update(f->conn, &got, T0 + 1, &bad), PB_OK);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    assert_int_equal(stored_secret(f, "studio-b", after, sizeof after), nb);
    assert_memory_equal(after, raw_b, nb);
    /* an update with a new key stores it sealed again */
    memset(got.secret, 0x33, 40);
    got.secret_len = 40;
    got.secret_unavailable = false;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_provider_update(f->conn, &got, T0 + 2, &bad), PB_OK);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    expect_sealed(f, "studio-b", got.secret, 40);
    pb_provider again;
    assert_int_equal(pb_catalog_provider_get(f->conn, "studio-b", &again), PB_OK);
    assert_false(again.secret_unavailable);
    assert_int_equal(again.secret_len, 40);
    assert_memory_equal(again.secret, got.secret, 40);

    /* under another key nothing opens; the right key opens it again */
    pb_catalog_seal_set_key(key_b);
    assert_int_equal(pb_catalog_provider_get(f->conn, "studio-a", &got), PB_OK);
    assert_true(got.secret_unavailable);
    pb_catalog_seal_set_key(key_a);
    assert_int_equal(pb_catalog_provider_get(f->conn, "studio-a", &got), PB_OK);
    assert_false(got.secret_unavailable);
    assert_memory_equal(got.secret, a.secret, 64);
}

/* The key file: created 0600 with 32 bytes, read back the same; refused when
 * others may read it or it is not 32 bytes. */
static void key_files(void **state)
{
    tfx *f = *state;
    char dir[400], path[500], err[512];
    snprintf(dir, sizeof dir, "%s/keys/nested", f->dir);
    assert_int_equal(pb_keyfile_make_dir(dir, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    uint8_t k1[32], k2[32];
    assert_int_equal(pb_keyfile_secret(dir, "provider.key", k1, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/provider.key", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);
    assert_int_equal(pb_keyfile_secret(dir, "provider.key", k2, err, sizeof err), 0);
    assert_memory_equal(k1, k2, 32);

    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(pb_keyfile_secret(dir, "provider.key", k2, err, sizeof err), -1);
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(truncate(path, 31), 0);
    assert_int_equal(pb_keyfile_secret(dir, "provider.key", k2, err, sizeof err), -1);
    assert_non_null(strstr(err, "exactly 32 bytes"));
    unlink(path);
    rmdir(dir);
    snprintf(path, sizeof path, "%s/keys", f->dir);
    rmdir(path);

    /* a box opens only under its key and its associated data, unchanged */
    uint8_t box[10 + PB_SEALBOX_OVERHEAD], plain[10];
    pb_sealbox_seal(k1, "ad-1", (const uint8_t *)"0123456789", 10, box);
    assert_int_equal(pb_sealbox_open(k1, "ad-1", box, sizeof box, plain), 0);
    assert_memory_equal(plain, "0123456789", 10);
    assert_int_equal(pb_sealbox_open(k1, "ad-2", box, sizeof box, plain), -1);
    assert_int_equal(pb_sealbox_open(key_b, "ad-1", box, sizeof box, plain), -1);
    box[12] ^= 0x80;
    assert_int_equal(pb_sealbox_open(k1, "ad-1", box, sizeof box, plain), -1);
    assert_int_equal(pb_sealbox_open(k1, "ad-1", box, PB_SEALBOX_OVERHEAD - 1, plain), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(clear_keys_sealed_on_open, setup, teardown),
        cmocka_unit_test_setup_teardown(keys_sealed_and_bound_to_the_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(key_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
