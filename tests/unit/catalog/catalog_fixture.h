/*
 * catalog_fixture.h — what the catalog unit tests share: a migrated SQLite
 * database in a temporary directory with three brands (malta: MT, ontario:
 * CA-ON, canada: CA), and helpers that run each catalog write in its own
 * write transaction. Header-only (static inline), included by test_catalog*.c.
 */
#ifndef PB_TEST_CATALOG_FIXTURE_H
#define PB_TEST_CATALOG_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <sqlite3.h>

#include "catalog/catalog.h"
#include "tenancy/tenancy.h"

#define T0 1795000000000000
#define PLAYER "0190f1c2-0000-7000-8000-000000000001"

typedef struct tfx {
    char dir[256];
    char path[300];
    pb_store *store;
    pb_store_conn *conn;
    int64_t mt, caon, ca; /* brand ids */
} tfx;

static const char *const EUR_USD[] = {"EUR", "USD"};

static inline void mk_brand(tfx *f, const char *code, const char *jurisdiction, int64_t *id)
{
    pb_brand_spec s = {.code = code,
                       .name = code,
                       .default_currency = "EUR",
                       .currencies = EUR_USD,
                       .ncurrencies = 2,
                       .jurisdiction = jurisdiction};
    pb_brand b;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_tenancy_brand_create(f->conn, &s, T0, &b, NULL), PB_OK);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    *id = b.id;
}

static inline int setup(void **state)
{
    tfx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pbcat.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    char err[256];
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(pb_store_migrate(f->store, NULL, err, sizeof err), PB_STORE_OK);
    f->conn = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->conn);
    mk_brand(f, "malta", "MT", &f->mt);
    mk_brand(f, "ontario", "CA-ON", &f->caon);
    mk_brand(f, "canada", "CA", &f->ca);
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    tfx *f = *state;
    pb_store_disconnect(f->conn);
    pb_store_close(f->store);
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

/* A public key in PEM: RSA of `bits`, or an EC P-256 key when bits is 0. */
static inline char *public_pem(int bits)
{
    EVP_PKEY *k = bits ? EVP_RSA_gen((unsigned)bits) : EVP_EC_gen("P-256");
    assert_non_null(k);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *out = calloc(1, (size_t)n + 1);
    memcpy(out, data, (size_t)n);
    BIO_free(bio);
    EVP_PKEY_free(k);
    return out;
}

static inline pb_provider native_provider(const char *code)
{
    pb_provider p = {0};
    snprintf(p.code, sizeof p.code, "%s", code);
    snprintf(p.name, sizeof p.name, "Provider %s", code);
    snprintf(p.protocol, sizeof p.protocol, "native");
    memset(p.secret, 0x5a, 32);
    p.secret_len = 32;
    return p;
}

static inline pb_game slot_game(const char *provider, const char *code)
{
    pb_game g = {0};
    snprintf(g.provider_code, sizeof g.provider_code, "%s", provider);
    snprintf(g.code, sizeof g.code, "%s", code);
    snprintf(g.name, sizeof g.name, "Game %s", code);
    snprintf(g.category, sizeof g.category, "slots");
    g.rtp_bp = 9650;
    snprintf(g.volatility, sizeof g.volatility, "high");
    snprintf(g.limits[0].currency, sizeof g.limits[0].currency, "EUR");
    g.limits[0].min_bet = 10;
    g.limits[0].max_bet = 10000;
    g.nlimits = 1;
    return g;
}

/* Each write runs in its own write transaction, committed whatever the outcome
 * (a refusal must have written nothing by itself). */
static inline pb_err provider_create(tfx *f, pb_provider *p, const char **bad)
{
    *bad = NULL;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_catalog_provider_create(f->conn, p, T0, bad);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    return e;
}

static inline pb_err provider_update(tfx *f, const pb_provider *p, int64_t now, const char **bad)
{
    *bad = NULL;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_catalog_provider_update(f->conn, p, now, bad);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    return e;
}

static inline pb_err game_create(tfx *f, pb_game *g, const char **bad)
{
    *bad = NULL;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_catalog_game_create(f->conn, g, T0, bad);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    return e;
}

static inline pb_err game_update(tfx *f, const pb_game *g, const char **bad)
{
    *bad = NULL;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_catalog_game_update(f->conn, g, T0 + 5, bad);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    return e;
}

static inline void set_brand(tfx *f, int64_t game_id, int64_t brand_id, bool on)
{
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_game_set_brand(f->conn, game_id, brand_id, on, T0), PB_OK);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
}

static inline size_t provider_count(tfx *f)
{
    pb_provider *rows = calloc(64, sizeof *rows);
    size_t n = 0;
    assert_int_equal(pb_catalog_provider_list(f->conn, 0, rows, 64, &n), PB_OK);
    free(rows);
    return n;
}

static inline size_t game_count(tfx *f)
{
    pb_game *rows = calloc(64, sizeof *rows);
    size_t n = 0;
    assert_int_equal(pb_catalog_game_list(f->conn, NULL, 0, rows, 64, &n, NULL), PB_OK);
    free(rows);
    return n;
}

/* A provider refused with e naming `field`, and nothing written. */
static inline void provider_refused(tfx *f, pb_provider p, pb_err e, const char *field)
{
    size_t before = provider_count(f);
    const char *bad;
    pb_err got = provider_create(f, &p, &bad);
    if (got != e)
        fail_msg("provider %s (%s): got %s, want %s on %s", p.code, p.name, pb_err_code(got),
                 pb_err_code(e), field);
    assert_non_null(bad);
    assert_string_equal(bad, field);
    assert_int_equal(provider_count(f), before);
}

static inline void game_refused(tfx *f, pb_game g, pb_err e, const char *field)
{
    size_t before = game_count(f);
    const char *bad;
    pb_err got = game_create(f, &g, &bad);
    if (got != e)
        fail_msg("game %s: got %s, want %s on %s", g.code, pb_err_code(got), pb_err_code(e), field);
    assert_non_null(bad);
    assert_string_equal(bad, field);
    assert_int_equal(game_count(f), before);
}

#endif
