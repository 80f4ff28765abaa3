/*
 * test_catalog.c — the catalog on a real SQLite database: provider validation
 * (every field, both protocols, RSA keys generated here), duplicate codes and
 * updates; game validation (every field, limits per currency, blocked
 * jurisdictions), nothing written on any refusal; the playable check with
 * every refusal in its documented order, subdivision blocking and bet limits
 * per currency; the lobby (per brand, jurisdiction, currency, category,
 * pages) and the staff list filters; launches (token shape, only the hash
 * stored, resolve, another provider, unknown and malformed tokens, expiry left
 * to the caller, refusals write nothing, prune).
 */
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

static void mk_brand(tfx *f, const char *code, const char *jurisdiction, int64_t *id)
{
    pb_brand_spec s = {.code = code, .name = code, .default_currency = "EUR",
                       .currencies = EUR_USD, .ncurrencies = 2, .jurisdiction = jurisdiction};
    pb_brand b;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_tenancy_brand_create(f->conn, &s, T0, &b, NULL), PB_OK);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    *id = b.id;
}

static int setup(void **state)
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

static int teardown(void **state)
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
static char *public_pem(int bits)
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

static pb_provider native_provider(const char *code)
{
    pb_provider p = {0};
    snprintf(p.code, sizeof p.code, "%s", code);
    snprintf(p.name, sizeof p.name, "Provider %s", code);
    snprintf(p.protocol, sizeof p.protocol, "native");
    memset(p.secret, 0x5a, 32);
    p.secret_len = 32;
    return p;
}

static pb_game slot_game(const char *provider, const char *code)
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
static pb_err provider_create(tfx *f, pb_provider *p, const char **bad)
{
    *bad = NULL;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_catalog_provider_create(f->conn, p, T0, bad);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    return e;
}

static pb_err provider_update(tfx *f, const pb_provider *p, int64_t now, const char **bad)
{
    *bad = NULL;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_catalog_provider_update(f->conn, p, now, bad);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    return e;
}

static pb_err game_create(tfx *f, pb_game *g, const char **bad)
{
    *bad = NULL;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_catalog_game_create(f->conn, g, T0, bad);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    return e;
}

static pb_err game_update(tfx *f, const pb_game *g, const char **bad)
{
    *bad = NULL;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_catalog_game_update(f->conn, g, T0 + 5, bad);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    return e;
}

static void set_brand(tfx *f, int64_t game_id, int64_t brand_id, bool on)
{
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_game_set_brand(f->conn, game_id, brand_id, on, T0), PB_OK);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
}

static size_t provider_count(tfx *f)
{
    pb_provider *rows = calloc(64, sizeof *rows);
    size_t n = 0;
    assert_int_equal(pb_catalog_provider_list(f->conn, 0, rows, 64, &n), PB_OK);
    free(rows);
    return n;
}

static size_t game_count(tfx *f)
{
    pb_game *rows = calloc(64, sizeof *rows);
    size_t n = 0;
    assert_int_equal(pb_catalog_game_list(f->conn, NULL, 0, rows, 64, &n, NULL), PB_OK);
    free(rows);
    return n;
}

/* A provider refused with e naming `field`, and nothing written. */
static void provider_refused(tfx *f, pb_provider p, pb_err e, const char *field)
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

static void game_refused(tfx *f, pb_game g, pb_err e, const char *field)
{
    size_t before = game_count(f);
    const char *bad;
    pb_err got = game_create(f, &g, &bad);
    if (got != e)
        fail_msg("game %s: got %s, want %s on %s", g.code, pb_err_code(got), pb_err_code(e),
                 field);
    assert_non_null(bad);
    assert_string_equal(bad, field);
    assert_int_equal(game_count(f), before);
}

/* ---- providers ------------------------------------------------------------ */

static void provider_create_and_get(void **state)
{
    tfx *f = *state;
    pb_provider p = native_provider("acme-games");
    const char *bad;
    assert_int_equal(provider_create(f, &p, &bad), PB_OK);
    assert_true(p.id > 0);
    assert_string_equal(p.status, "active");
    assert_int_equal(p.timestamp_window_s, 300);

    pb_provider got;
    assert_int_equal(pb_catalog_provider_get(f->conn, "acme-games", &got), PB_OK);
    assert_int_equal(got.id, p.id);
    assert_string_equal(got.name, "Provider acme-games");
    assert_string_equal(got.protocol, "native");
    assert_int_equal(got.secret_len, 32);
    assert_memory_equal(got.secret, p.secret, 32);
    assert_int_equal(got.created_at, T0);
    assert_int_equal(pb_catalog_provider_get(f->conn, "nope", &got), PB_ERR_PROVIDER_NOT_FOUND);
    assert_int_equal(pb_catalog_provider_get(f->conn, "BAD CODE", &got),
                     PB_ERR_PROVIDER_NOT_FOUND);

    /* a duplicate code */
    pb_provider dup = native_provider("acme-games");
    provider_refused(f, dup, PB_ERR_PROVIDER_EXISTS, "code");

    /* generated secrets: 32 random bytes, two never equal */
    pb_provider a = native_provider("gen-a"), b = native_provider("gen-b");
    pb_catalog_secret_generate(&a);
    pb_catalog_secret_generate(&b);
    assert_int_equal(a.secret_len, 32);
    assert_memory_not_equal(a.secret, b.secret, 32);
    assert_int_equal(provider_create(f, &a, &bad), PB_OK);

    /* list pages in id order */
    pb_provider rows[4];
    size_t n = 0;
    assert_int_equal(pb_catalog_provider_list(f->conn, 0, rows, 1, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].code, "acme-games");
    assert_int_equal(pb_catalog_provider_list(f->conn, rows[0].id, rows, 4, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].code, "gen-a");
}

static void provider_validation(void **state)
{
    tfx *f = *state;
    pb_provider p;
    const char *codes[] = {"a", "UPPER", "-lead", "has space", "under_score",
                           "dot.ted", ""};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        p = native_provider("x");
        snprintf(p.code, sizeof p.code, "%s", codes[i]);
        provider_refused(f, p, PB_ERR_FIELD_INVALID, "code");
    }
    const char *names[] = {"", "tab\there", "bad \xc3\x28 utf8", "nul-less \x7f"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        p = native_provider("names");
        snprintf(p.name, sizeof p.name, "%s", names[i]);
        provider_refused(f, p, PB_ERR_FIELD_INVALID, "name");
    }
    p = native_provider("proto");
    snprintf(p.protocol, sizeof p.protocol, "soap");
    provider_refused(f, p, PB_ERR_FIELD_INVALID, "protocol");
    p = native_provider("proto");
    p.protocol[0] = 0;
    provider_refused(f, p, PB_ERR_FIELD_INVALID, "protocol");
    p = native_provider("status");
    snprintf(p.status, sizeof p.status, "paused");
    provider_refused(f, p, PB_ERR_FIELD_INVALID, "status");
    int32_t windows[] = {-1, 3601, 100000};
    for (size_t i = 0; i < 3; i++) {
        p = native_provider("window");
        p.timestamp_window_s = windows[i];
        provider_refused(f, p, PB_ERR_FIELD_INVALID, "timestamp_window_s");
    }
    size_t lens[] = {0, 1, 31};
    for (size_t i = 0; i < 3; i++) {
        p = native_provider("secret");
        p.secret_len = lens[i];
        provider_refused(f, p, PB_ERR_FIELD_INVALID, "secret");
    }
    p = native_provider("secret");
    p.secret_len = 65;
    provider_refused(f, p, PB_ERR_FIELD_INVALID, "secret");

    char *rsa2048 = public_pem(2048), *rsa1024 = public_pem(1024), *ec = public_pem(0);
    p = native_provider("native-pem");
    snprintf(p.public_key_pem, sizeof p.public_key_pem, "%s", rsa2048);
    provider_refused(f, p, PB_ERR_FIELD_INVALID, "public_key_pem");

    pb_provider h = {0};
    snprintf(h.code, sizeof h.code, "hub");
    snprintf(h.name, sizeof h.name, "Hub");
    snprintf(h.protocol, sizeof h.protocol, "hub88");
    provider_refused(f, h, PB_ERR_FIELD_INVALID, "public_key_pem"); /* none */
    snprintf(h.public_key_pem, sizeof h.public_key_pem, "not a pem");
    provider_refused(f, h, PB_ERR_FIELD_INVALID, "public_key_pem");
    snprintf(h.public_key_pem, sizeof h.public_key_pem, "%s", rsa1024);
    provider_refused(f, h, PB_ERR_FIELD_INVALID, "public_key_pem"); /* too short */
    snprintf(h.public_key_pem, sizeof h.public_key_pem, "%s", ec);
    provider_refused(f, h, PB_ERR_FIELD_INVALID, "public_key_pem"); /* not RSA */
    /* a PEM cut short */
    snprintf(h.public_key_pem, sizeof h.public_key_pem, "%.*s", (int)strlen(rsa2048) / 2, rsa2048);
    provider_refused(f, h, PB_ERR_FIELD_INVALID, "public_key_pem");
    snprintf(h.public_key_pem, sizeof h.public_key_pem, "%s", rsa2048);
    memset(h.secret, 1, 32);
    h.secret_len = 32;
    provider_refused(f, h, PB_ERR_FIELD_INVALID, "secret"); /* hub88 takes no secret */
    h.secret_len = 0;
    const char *bad;
    assert_int_equal(provider_create(f, &h, &bad), PB_OK);
    pb_provider got;
    assert_int_equal(pb_catalog_provider_get(f->conn, "hub", &got), PB_OK);
    assert_string_equal(got.public_key_pem, rsa2048);
    assert_int_equal(got.secret_len, 0);
    assert_int_equal(provider_count(f), 1);

    /* the bounds that pass: a 64-byte secret, window 1 and 3600 */
    p = native_provider("edge");
    p.secret_len = 64;
    p.timestamp_window_s = 3600;
    assert_int_equal(provider_create(f, &p, &bad), PB_OK);
    p = native_provider("edge2");
    p.timestamp_window_s = 1;
    assert_int_equal(provider_create(f, &p, &bad), PB_OK);
    free(rsa2048);
    free(rsa1024);
    free(ec);
}

static void provider_updates(void **state)
{
    tfx *f = *state;
    pb_provider p = native_provider("upd");
    const char *bad;
    assert_int_equal(provider_create(f, &p, &bad), PB_OK);
    pb_provider u;
    assert_int_equal(pb_catalog_provider_get(f->conn, "upd", &u), PB_OK);
    snprintf(u.name, sizeof u.name, "Renamed");
    snprintf(u.status, sizeof u.status, "disabled");
    u.timestamp_window_s = 60;
    assert_int_equal(provider_update(f, &u, T0 + 10, &bad), PB_OK);
    pb_provider got;
    assert_int_equal(pb_catalog_provider_get(f->conn, "upd", &got), PB_OK);
    assert_string_equal(got.name, "Renamed");
    assert_string_equal(got.status, "disabled");
    assert_int_equal(got.timestamp_window_s, 60);
    assert_int_equal(got.created_at, T0);
    assert_int_equal(got.updated_at, T0 + 10);
    assert_memory_equal(got.secret, p.secret, 32); /* kept */

    /* refusals change nothing */
    pb_provider v = got;
    v.timestamp_window_s = 0; /* 0 is only a create-time default */
    assert_int_equal(provider_update(f, &v, T0 + 20, &bad), PB_ERR_FIELD_INVALID);
    assert_string_equal(bad, "timestamp_window_s");
    v = got;
    snprintf(v.protocol, sizeof v.protocol, "hub88"); /* without a key */
    assert_int_equal(provider_update(f, &v, T0 + 20, &bad), PB_ERR_FIELD_INVALID);
    assert_string_equal(bad, "secret");
    v = got;
    v.secret_len = 8;
    assert_int_equal(provider_update(f, &v, T0 + 20, &bad), PB_ERR_FIELD_INVALID);
    pb_provider after;
    assert_int_equal(pb_catalog_provider_get(f->conn, "upd", &after), PB_OK);
    assert_int_equal(after.updated_at, T0 + 10);
    assert_string_equal(after.protocol, "native");
    assert_int_equal(after.secret_len, 32);

    v = native_provider("missing");
    assert_int_equal(provider_update(f, &v, T0, &bad), PB_ERR_PROVIDER_NOT_FOUND);
}

/* ---- games ---------------------------------------------------------------- */

static void game_create_and_validation(void **state)
{
    tfx *f = *state;
    pb_provider p = native_provider("acme");
    const char *bad;
    assert_int_equal(provider_create(f, &p, &bad), PB_OK);

    pb_game g = slot_game("acme", "gates_of-zeus");
    /* limits and blocks given unsorted come back sorted */
    snprintf(g.limits[1].currency, sizeof g.limits[1].currency, "BTC");
    g.limits[1].min_bet = 1;
    g.limits[1].max_bet = 0; /* no maximum */
    g.nlimits = 2;
    snprintf(g.blocked[0], sizeof g.blocked[0], "US");
    snprintf(g.blocked[1], sizeof g.blocked[1], "CA-ON");
    g.nblocked = 2;
    assert_int_equal(game_create(f, &g, &bad), PB_OK);
    assert_true(g.id > 0);
    assert_int_equal(g.provider_id, p.id);
    assert_string_equal(g.status, "active");

    pb_game got;
    assert_int_equal(pb_catalog_game_get(f->conn, "acme", "gates_of-zeus", &got), PB_OK);
    assert_int_equal(got.id, g.id);
    assert_string_equal(got.provider_code, "acme");
    assert_string_equal(got.category, "slots");
    assert_int_equal(got.rtp_bp, 9650);
    assert_string_equal(got.volatility, "high");
    assert_int_equal(got.nlimits, 2);
    assert_string_equal(got.limits[0].currency, "BTC");
    assert_int_equal(got.limits[0].max_bet, 0);
    assert_string_equal(got.limits[1].currency, "EUR");
    assert_int_equal(got.limits[1].min_bet, 10);
    assert_int_equal(got.limits[1].max_bet, 10000);
    assert_int_equal(got.nblocked, 2);
    assert_string_equal(got.blocked[0], "CA-ON");
    assert_string_equal(got.blocked[1], "US");
    assert_int_equal(pb_catalog_game_get(f->conn, "acme", "nope", &got), PB_ERR_GAME_NOT_FOUND);
    assert_int_equal(pb_catalog_game_get(f->conn, "nope", "gates_of-zeus", &got),
                     PB_ERR_GAME_NOT_FOUND);

    /* the same code in another provider is another game */
    pb_provider q = native_provider("other");
    assert_int_equal(provider_create(f, &q, &bad), PB_OK);
    pb_game g2 = slot_game("other", "gates_of-zeus");
    assert_int_equal(game_create(f, &g2, &bad), PB_OK);

    game_refused(f, slot_game("acme", "gates_of-zeus"), PB_ERR_GAME_EXISTS, "code");
    game_refused(f, slot_game("ghost", "g1"), PB_ERR_PROVIDER_NOT_FOUND, "provider");
    const char *codes[] = {"x", "Upper", "-lead", "_lead", "sp ace", "dot.ted", ""};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        g = slot_game("acme", "x");
        snprintf(g.code, sizeof g.code, "%s", codes[i]);
        game_refused(f, g, PB_ERR_FIELD_INVALID, "code");
    }
    g = slot_game("acme", "n1");
    g.name[0] = 0;
    game_refused(f, g, PB_ERR_FIELD_INVALID, "name");
    g = slot_game("acme", "n1");
    snprintf(g.name, sizeof g.name, "line\nbreak");
    game_refused(f, g, PB_ERR_FIELD_INVALID, "name");
    const char *cats[] = {"", "poker", "Slots"};
    for (size_t i = 0; i < 3; i++) {
        g = slot_game("acme", "c1");
        snprintf(g.category, sizeof g.category, "%s", cats[i]);
        game_refused(f, g, PB_ERR_FIELD_INVALID, "category");
    }
    int32_t rtps[] = {0, 4999, 10001, -9650};
    for (size_t i = 0; i < 4; i++) {
        g = slot_game("acme", "r1");
        g.rtp_bp = rtps[i];
        game_refused(f, g, PB_ERR_FIELD_INVALID, "rtp_bp");
    }
    g = slot_game("acme", "v1");
    snprintf(g.volatility, sizeof g.volatility, "wild");
    game_refused(f, g, PB_ERR_FIELD_INVALID, "volatility");
    g = slot_game("acme", "s1");
    snprintf(g.status, sizeof g.status, "gone");
    game_refused(f, g, PB_ERR_FIELD_INVALID, "status");

    /* limits */
    g = slot_game("acme", "l1");
    snprintf(g.limits[0].currency, sizeof g.limits[0].currency, "XYZ");
    game_refused(f, g, PB_ERR_CURRENCY_UNKNOWN, "limits");
    g = slot_game("acme", "l1");
    snprintf(g.limits[0].currency, sizeof g.limits[0].currency, "eur");
    game_refused(f, g, PB_ERR_CURRENCY_UNKNOWN, "limits");
    int64_t bad_limits[][2] = {{0, 100}, {-1, 100}, {100, 99}, {10, -1}};
    for (size_t i = 0; i < 4; i++) {
        g = slot_game("acme", "l1");
        g.limits[0].min_bet = bad_limits[i][0];
        g.limits[0].max_bet = bad_limits[i][1];
        game_refused(f, g, PB_ERR_FIELD_INVALID, "limits");
    }
    g = slot_game("acme", "l1");
    g.limits[1] = g.limits[0]; /* EUR twice */
    g.nlimits = 2;
    game_refused(f, g, PB_ERR_FIELD_INVALID, "limits");
    g = slot_game("acme", "l1");
    g.nlimits = PB_GAME_LIMITS_MAX + 1;
    game_refused(f, g, PB_ERR_FIELD_INVALID, "limits");

    /* blocked jurisdictions */
    const char *blocks[] = {"XX", "ca", "C", "CA-", "CA-ONTA", "CA_ON", "CA-on", ""};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        g = slot_game("acme", "b1");
        snprintf(g.blocked[0], sizeof g.blocked[0], "%s", blocks[i]);
        g.nblocked = 1;
        game_refused(f, g, PB_ERR_FIELD_INVALID, "blocked");
    }
    g = slot_game("acme", "b1");
    snprintf(g.blocked[0], sizeof g.blocked[0], "GB");
    snprintf(g.blocked[1], sizeof g.blocked[1], "GB");
    g.nblocked = 2;
    game_refused(f, g, PB_ERR_FIELD_INVALID, "blocked");
    g = slot_game("acme", "b1");
    g.nblocked = PB_GAME_BLOCKED_MAX + 1;
    game_refused(f, g, PB_ERR_FIELD_INVALID, "blocked");

    /* the edges that pass: min = max, rtp 5000 and 10000, no limits at all */
    g = slot_game("acme", "edge-1");
    g.limits[0].min_bet = g.limits[0].max_bet = 100;
    g.rtp_bp = 5000;
    assert_int_equal(game_create(f, &g, &bad), PB_OK);
    g = slot_game("acme", "edge-2");
    g.rtp_bp = 10000;
    g.nlimits = 0;
    assert_int_equal(game_create(f, &g, &bad), PB_OK);
}

static void game_updates(void **state)
{
    tfx *f = *state;
    pb_provider p = native_provider("acme");
    const char *bad;
    assert_int_equal(provider_create(f, &p, &bad), PB_OK);
    pb_game g = slot_game("acme", "book");
    assert_int_equal(game_create(f, &g, &bad), PB_OK);

    pb_game u;
    assert_int_equal(pb_catalog_game_get(f->conn, "acme", "book", &u), PB_OK);
    snprintf(u.name, sizeof u.name, "Book II");
    snprintf(u.category, sizeof u.category, "table");
    u.rtp_bp = 9800;
    snprintf(u.status, sizeof u.status, "disabled");
    snprintf(u.limits[0].currency, sizeof u.limits[0].currency, "USD");
    u.limits[0].min_bet = 50;
    u.limits[0].max_bet = 500;
    snprintf(u.blocked[0], sizeof u.blocked[0], "FR");
    u.nblocked = 1;
    assert_int_equal(game_update(f, &u, &bad), PB_OK);
    pb_game got;
    assert_int_equal(pb_catalog_game_get(f->conn, "acme", "book", &got), PB_OK);
    assert_string_equal(got.name, "Book II");
    assert_string_equal(got.category, "table");
    assert_int_equal(got.rtp_bp, 9800);
    assert_string_equal(got.status, "disabled");
    assert_int_equal(got.nlimits, 1); /* EUR replaced by USD */
    assert_string_equal(got.limits[0].currency, "USD");
    assert_int_equal(got.limits[0].min_bet, 50);
    assert_int_equal(got.nblocked, 1);
    assert_string_equal(got.blocked[0], "FR");
    assert_int_equal(got.created_at, T0);
    assert_int_equal(got.updated_at, T0 + 5);

    /* a refused update leaves the game as it was */
    pb_game v = got;
    v.rtp_bp = 1;
    snprintf(v.name, sizeof v.name, "Changed");
    assert_int_equal(game_update(f, &v, &bad), PB_ERR_FIELD_INVALID);
    assert_string_equal(bad, "rtp_bp");
    v = got;
    v.limits[1] = v.limits[0];
    v.nlimits = 2;
    assert_int_equal(game_update(f, &v, &bad), PB_ERR_FIELD_INVALID);
    assert_string_equal(bad, "limits");
    pb_game after;
    assert_int_equal(pb_catalog_game_get(f->conn, "acme", "book", &after), PB_OK);
    assert_string_equal(after.name, "Book II");
    assert_int_equal(after.nlimits, 1);

    v = slot_game("acme", "missing");
    assert_int_equal(game_update(f, &v, &bad), PB_ERR_GAME_NOT_FOUND);
    v = slot_game("ghost", "book");
    assert_int_equal(game_update(f, &v, &bad), PB_ERR_GAME_NOT_FOUND);

    /* set_brand needs a game and a brand */
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_game_set_brand(f->conn, 999999, f->mt, true, T0),
                     PB_ERR_GAME_NOT_FOUND);
    assert_int_equal(pb_catalog_game_set_brand(f->conn, g.id, 999999, true, T0),
                     PB_ERR_BRAND_NOT_FOUND);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    bool on = true;
    assert_int_equal(pb_catalog_game_brand_enabled(f->conn, g.id, f->mt, &on), PB_OK);
    assert_false(on);
}

/* ---- playable ------------------------------------------------------------- */

static void jurisdiction_rule(void **state)
{
    (void)state;
    assert_true(pb_catalog_jurisdiction_blocks("CA", "CA"));
    assert_true(pb_catalog_jurisdiction_blocks("CA", "CA-ON"));
    assert_true(pb_catalog_jurisdiction_blocks("CA-ON", "CA-ON"));
    assert_false(pb_catalog_jurisdiction_blocks("CA-ON", "CA"));
    assert_false(pb_catalog_jurisdiction_blocks("CA-ON", "CA-QC"));
    assert_false(pb_catalog_jurisdiction_blocks("CA", "CAX"));
    assert_false(pb_catalog_jurisdiction_blocks("C", "CA"));
    assert_false(pb_catalog_jurisdiction_blocks("US", "CA"));
    assert_false(pb_catalog_jurisdiction_blocks("", "CA"));
}

static void playable_refusals_in_order(void **state)
{
    tfx *f = *state;
    pb_store_conn *c = f->conn;
    pb_provider p = native_provider("acme");
    const char *bad;
    assert_int_equal(provider_create(f, &p, &bad), PB_OK);
    pb_game g = slot_game("acme", "zeus");
    assert_int_equal(game_create(f, &g, &bad), PB_OK);
    pb_game out;

    /* 1. unknown provider */
    assert_int_equal(pb_catalog_game_playable(c, "ghost", "zeus", "malta", "EUR", 0, &out),
                     PB_ERR_PROVIDER_NOT_FOUND);
    /* 3. unknown game */
    assert_int_equal(pb_catalog_game_playable(c, "acme", "ghost", "malta", "EUR", 0, &out),
                     PB_ERR_GAME_NOT_FOUND);
    /* 6. not switched on for the brand (the default) */
    memset(&out, 0, sizeof out);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 0, &out),
                     PB_ERR_GAME_DISABLED);
    assert_int_equal(out.id, g.id); /* the game is reported as soon as it is found */
    /* 5. unknown brand (before the switch) */
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "ghost", "EUR", 0, &out),
                     PB_ERR_BRAND_NOT_FOUND);
    set_brand(f, g.id, f->mt, true);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 0, &out),
                     PB_OK);
    assert_string_equal(out.code, "zeus");
    /* switched on for one brand only */
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "ontario", "EUR", 0, NULL),
                     PB_ERR_GAME_DISABLED);
    set_brand(f, g.id, f->mt, false);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 0, NULL),
                     PB_ERR_GAME_DISABLED);
    set_brand(f, g.id, f->mt, true);

    /* 4. the game disabled: before the brand is even looked at */
    pb_game u = out;
    snprintf(u.status, sizeof u.status, "disabled");
    assert_int_equal(game_update(f, &u, &bad), PB_OK);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "ghost", "EUR", 0, NULL),
                     PB_ERR_GAME_DISABLED);
    snprintf(u.status, sizeof u.status, "active");
    assert_int_equal(game_update(f, &u, &bad), PB_OK);

    /* 2. the provider disabled: before the game is looked at */
    pb_provider pu;
    assert_int_equal(pb_catalog_provider_get(c, "acme", &pu), PB_OK);
    snprintf(pu.status, sizeof pu.status, "disabled");
    assert_int_equal(provider_update(f, &pu, T0, &bad), PB_OK);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "ghost", "malta", "EUR", 0, NULL),
                     PB_ERR_PROVIDER_DISABLED);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL),
                     PB_ERR_PROVIDER_DISABLED);
    snprintf(pu.status, sizeof pu.status, "active");
    assert_int_equal(provider_update(f, &pu, T0, &bad), PB_OK);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL),
                     PB_OK);
}

static void playable_jurisdictions(void **state)
{
    tfx *f = *state;
    pb_store_conn *c = f->conn;
    pb_provider p = native_provider("acme");
    const char *bad;
    assert_int_equal(provider_create(f, &p, &bad), PB_OK);
    pb_game g = slot_game("acme", "zeus");
    assert_int_equal(game_create(f, &g, &bad), PB_OK);
    set_brand(f, g.id, f->mt, true);
    set_brand(f, g.id, f->caon, true);
    set_brand(f, g.id, f->ca, true);
    const char *brands[] = {"malta", "ontario", "canada"};
    struct {
        const char *block;
        pb_err want[3]; /* malta (MT), ontario (CA-ON), canada (CA) */
    } cases[] = {
        {NULL, {PB_OK, PB_OK, PB_OK}},
        {"CA", {PB_OK, PB_ERR_GAME_DISABLED, PB_ERR_GAME_DISABLED}},
        {"CA-ON", {PB_OK, PB_ERR_GAME_DISABLED, PB_OK}},
        {"CA-QC", {PB_OK, PB_OK, PB_OK}},
        {"MT", {PB_ERR_GAME_DISABLED, PB_OK, PB_OK}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_game u;
        assert_int_equal(pb_catalog_game_get(c, "acme", "zeus", &u), PB_OK);
        u.nblocked = 0;
        if (cases[i].block) {
            snprintf(u.blocked[0], sizeof u.blocked[0], "%s", cases[i].block);
            snprintf(u.blocked[1], sizeof u.blocked[1], "US-NJ"); /* never one of ours */
            u.nblocked = 2;
        }
        assert_int_equal(game_update(f, &u, &bad), PB_OK);
        for (size_t b = 0; b < 3; b++) {
            pb_err e = pb_catalog_game_playable(c, "acme", "zeus", brands[b], "EUR", 0, NULL);
            if (e != cases[i].want[b])
                fail_msg("block %s, brand %s: got %s", cases[i].block ? cases[i].block : "-",
                         brands[b], pb_err_code(e));
            /* the lobby agrees with the check */
            pb_game rows[4];
            size_t n = 9;
            assert_int_equal(pb_catalog_lobby(c, brands[b], "EUR", NULL, 0, rows, 4, &n), PB_OK);
            assert_int_equal(n, cases[i].want[b] == PB_OK ? 1 : 0);
        }
    }
}

static void playable_limits(void **state)
{
    tfx *f = *state;
    pb_store_conn *c = f->conn;
    pb_provider p = native_provider("acme");
    const char *bad;
    assert_int_equal(provider_create(f, &p, &bad), PB_OK);
    pb_game g = slot_game("acme", "zeus"); /* EUR 10..10000 */
    snprintf(g.limits[1].currency, sizeof g.limits[1].currency, "USD");
    g.limits[1].min_bet = 100;
    g.limits[1].max_bet = 0; /* no maximum */
    g.nlimits = 2;
    assert_int_equal(game_create(f, &g, &bad), PB_OK);
    set_brand(f, g.id, f->mt, true);
    struct {
        const char *cur;
        int64_t amount;
        pb_err want;
    } cases[] = {
        {"EUR", 0, PB_OK},         {"EUR", 9, PB_ERR_BET_LIMIT},
        {"EUR", 10, PB_OK},        {"EUR", 10000, PB_OK},
        {"EUR", 10001, PB_ERR_BET_LIMIT},
        {"EUR", -1, PB_ERR_AMOUNT_INVALID},
        {"USD", 99, PB_ERR_BET_LIMIT},
        {"USD", 100, PB_OK},       {"USD", INT64_MAX, PB_OK},
        {"GBP", 100, PB_ERR_CURRENCY_NOT_ALLOWED},
        {"GBP", 0, PB_OK}, /* no amount: the currency is not checked */
        {"XYZ", 100, PB_ERR_CURRENCY_NOT_ALLOWED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_err e = pb_catalog_game_playable(c, "acme", "zeus", "malta", cases[i].cur,
                                            cases[i].amount, NULL);
        if (e != cases[i].want)
            fail_msg("%s %lld: got %s", cases[i].cur, (long long)cases[i].amount,
                     pb_err_code(e));
    }
    pb_game got;
    assert_int_equal(pb_catalog_game_get(c, "acme", "zeus", &got), PB_OK);
    const pb_game_limit *l = pb_catalog_game_limit(&got, "USD");
    assert_non_null(l);
    assert_int_equal(l->min_bet, 100);
    assert_null(pb_catalog_game_limit(&got, "GBP"));
}

/* ---- lists ---------------------------------------------------------------- */

static void lobby_and_lists(void **state)
{
    tfx *f = *state;
    pb_store_conn *c = f->conn;
    pb_provider a = native_provider("acme"), b = native_provider("bolt");
    const char *bad;
    assert_int_equal(provider_create(f, &a, &bad), PB_OK);
    assert_int_equal(provider_create(f, &b, &bad), PB_OK);
    pb_game g1 = slot_game("acme", "one"), g2 = slot_game("acme", "two"),
            g3 = slot_game("bolt", "three"), g4 = slot_game("bolt", "four"),
            g5 = slot_game("acme", "five");
    snprintf(g2.category, sizeof g2.category, "live");
    snprintf(g4.limits[0].currency, sizeof g4.limits[0].currency, "USD"); /* no EUR */
    snprintf(g5.status, sizeof g5.status, "disabled");
    pb_game *all[] = {&g1, &g2, &g3, &g4, &g5};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(game_create(f, all[i], &bad), PB_OK);
        set_brand(f, all[i]->id, f->mt, true);
    }
    set_brand(f, g1.id, f->caon, true);

    pb_game rows[8];
    size_t n = 0;
    assert_int_equal(pb_catalog_lobby(c, "malta", "EUR", NULL, 0, rows, 8, &n), PB_OK);
    assert_int_equal(n, 3); /* one, two, three: four has no EUR limits, five is disabled */
    assert_string_equal(rows[0].code, "one");
    assert_string_equal(rows[1].code, "two");
    assert_string_equal(rows[2].code, "three");
    assert_int_equal(pb_catalog_lobby(c, "malta", "USD", NULL, 0, rows, 8, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].code, "four");
    assert_int_equal(pb_catalog_lobby(c, "malta", "EUR", "live", 0, rows, 8, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].code, "two");
    assert_int_equal(pb_catalog_lobby(c, "malta", "EUR", "poker", 0, rows, 8, &n),
                     PB_ERR_FIELD_INVALID);
    assert_int_equal(pb_catalog_lobby(c, "ghost", "EUR", NULL, 0, rows, 8, &n),
                     PB_ERR_BRAND_NOT_FOUND);
    assert_int_equal(pb_catalog_lobby(c, "malta", "XYZ", NULL, 0, rows, 8, &n),
                     PB_ERR_CURRENCY_UNKNOWN);
    /* pages */
    assert_int_equal(pb_catalog_lobby(c, "malta", "EUR", NULL, 0, rows, 2, &n), PB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pb_catalog_lobby(c, "malta", "EUR", NULL, rows[1].id, rows, 2, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].code, "three");
    /* another brand sees only what is switched on for it */
    assert_int_equal(pb_catalog_lobby(c, "ontario", "EUR", NULL, 0, rows, 8, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].code, "one");
    /* a disabled provider takes its games out of the lobby */
    pb_provider u;
    assert_int_equal(pb_catalog_provider_get(c, "bolt", &u), PB_OK);
    snprintf(u.status, sizeof u.status, "disabled");
    assert_int_equal(provider_update(f, &u, T0, &bad), PB_OK);
    assert_int_equal(pb_catalog_lobby(c, "malta", "EUR", NULL, 0, rows, 8, &n), PB_OK);
    assert_int_equal(n, 2);

    /* staff list filters */
    pb_catalog_game_filter flt = {.provider_code = "acme"};
    assert_int_equal(pb_catalog_game_list(c, &flt, 0, rows, 8, &n, &bad), PB_OK);
    assert_int_equal(n, 3);
    flt = (pb_catalog_game_filter){.status = "disabled"};
    assert_int_equal(pb_catalog_game_list(c, &flt, 0, rows, 8, &n, &bad), PB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].code, "five");
    flt = (pb_catalog_game_filter){.category = "live"};
    assert_int_equal(pb_catalog_game_list(c, &flt, 0, rows, 8, &n, &bad), PB_OK);
    assert_int_equal(n, 1);
    flt = (pb_catalog_game_filter){.brand_code = "ontario"};
    assert_int_equal(pb_catalog_game_list(c, &flt, 0, rows, 8, &n, &bad), PB_OK);
    assert_int_equal(n, 1);
    flt = (pb_catalog_game_filter){.brand_code = "canada"};
    assert_int_equal(pb_catalog_game_list(c, &flt, 0, rows, 8, &n, &bad), PB_OK);
    assert_int_equal(n, 0);
    flt = (pb_catalog_game_filter){.provider_code = "ghost"};
    assert_int_equal(pb_catalog_game_list(c, &flt, 0, rows, 8, &n, &bad),
                     PB_ERR_PROVIDER_NOT_FOUND);
    assert_string_equal(bad, "provider");
    flt = (pb_catalog_game_filter){.brand_code = "ghost"};
    assert_int_equal(pb_catalog_game_list(c, &flt, 0, rows, 8, &n, &bad),
                     PB_ERR_BRAND_NOT_FOUND);
    assert_string_equal(bad, "brand");
    flt = (pb_catalog_game_filter){.category = "bingo"};
    assert_int_equal(pb_catalog_game_list(c, &flt, 0, rows, 8, &n, &bad), PB_ERR_FIELD_INVALID);
    assert_string_equal(bad, "category");
    flt = (pb_catalog_game_filter){.status = "paused"};
    assert_int_equal(pb_catalog_game_list(c, &flt, 0, rows, 8, &n, &bad), PB_ERR_FIELD_INVALID);
    assert_string_equal(bad, "status");
}

/* ---- launches ------------------------------------------------------------- */

static int64_t launch_rows(tfx *f)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM launch", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static pb_err launch(tfx *f, const char *prov, const char *game, const char *brand,
                     const char *player, const char *cur, int64_t ttl, pb_launch *out)
{
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_catalog_launch_create(f->conn, prov, game, brand, player, cur, ttl, T0, out);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    return e;
}

static void launches(void **state)
{
    tfx *f = *state;
    pb_store_conn *c = f->conn;
    pb_provider a = native_provider("acme"), b = native_provider("bolt");
    const char *bad;
    assert_int_equal(provider_create(f, &a, &bad), PB_OK);
    assert_int_equal(provider_create(f, &b, &bad), PB_OK);
    pb_game g = slot_game("acme", "zeus");
    assert_int_equal(game_create(f, &g, &bad), PB_OK);

    pb_launch l;
    /* refusals write nothing */
    assert_int_equal(launch(f, "acme", "zeus", "malta", PLAYER, "EUR", 0, &l),
                     PB_ERR_GAME_DISABLED);
    assert_int_equal(launch(f, "acme", "ghost", "malta", PLAYER, "EUR", 0, &l),
                     PB_ERR_GAME_NOT_FOUND);
    assert_int_equal(launch(f, "ghost", "zeus", "malta", PLAYER, "EUR", 0, &l),
                     PB_ERR_PROVIDER_NOT_FOUND);
    set_brand(f, g.id, f->mt, true);
    assert_int_equal(launch(f, "acme", "zeus", "malta", "not-a-uuid", "EUR", 0, &l),
                     PB_ERR_PLAYER_NOT_FOUND);
    assert_int_equal(launch(f, "acme", "zeus", "malta", PLAYER, "XYZ", 0, &l),
                     PB_ERR_CURRENCY_UNKNOWN);
    assert_int_equal(launch(f, "acme", "zeus", "malta", PLAYER, "EUR", -1, &l),
                     PB_ERR_FIELD_INVALID);
    assert_int_equal(launch_rows(f), 0);

    /* default TTL: 4 h */
    assert_int_equal(launch(f, "acme", "zeus", "malta", PLAYER, "EUR", 0, &l), PB_OK);
    assert_int_equal(strlen(l.token), PB_LAUNCH_TOKEN_LEN);
    for (const char *p = l.token; *p; p++)
        assert_true((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_');
    assert_int_equal(l.created_at, T0);
    assert_int_equal(l.expires_at, T0 + 14400LL * 1000000);
    assert_string_equal(l.provider_code, "acme");
    assert_string_equal(l.game_code, "zeus");
    assert_string_equal(l.brand_code, "malta");
    assert_string_equal(l.player_public_id, PLAYER);
    assert_string_equal(l.currency, "EUR");
    assert_int_equal(launch_rows(f), 1);

    /* only the hash is stored */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT token_hash FROM launch", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    uint8_t want[32];
    crypto_hash_sha256(want, (const unsigned char *)l.token, strlen(l.token));
    assert_int_equal(sqlite3_column_bytes(st, 0), 32);
    assert_memory_equal(sqlite3_column_blob(st, 0), want, 32);
    sqlite3_finalize(st);
    sqlite3_close(db);

    pb_launch r;
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", l.token, &r), PB_OK);
    assert_string_equal(r.player_public_id, PLAYER);
    assert_string_equal(r.game_code, "zeus");
    assert_string_equal(r.brand_code, "malta");
    assert_string_equal(r.currency, "EUR");
    assert_int_equal(r.expires_at, l.expires_at);
    assert_string_equal(r.token, ""); /* never given back */
    assert_int_equal(pb_catalog_launch_resolve(c, "bolt", l.token, &r), PB_ERR_TOKEN_INVALID);
    assert_int_equal(pb_catalog_launch_resolve(c, "ghost", l.token, &r), PB_ERR_TOKEN_INVALID);
    char other[PB_LAUNCH_TOKEN_LEN + 1];
    memcpy(other, l.token, sizeof other);
    other[0] = other[0] == 'A' ? 'B' : 'A';
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", other, &r), PB_ERR_TOKEN_INVALID);
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", "short", &r), PB_ERR_TOKEN_INVALID);
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", "", &r), PB_ERR_TOKEN_INVALID);
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", NULL, &r), PB_ERR_TOKEN_INVALID);

    /* two launches never share a token; a 1-second launch still resolves when
     * expired (the caller decides) */
    pb_launch l2;
    assert_int_equal(launch(f, "acme", "zeus", "malta", PLAYER, "EUR", 1, &l2), PB_OK);
    assert_string_not_equal(l.token, l2.token);
    assert_int_equal(l2.expires_at, T0 + 1000000);
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", l2.token, &r), PB_OK);
    assert_int_equal(r.expires_at, T0 + 1000000);

    /* a launch outlives its game's switch (wins must still find it) */
    set_brand(f, g.id, f->mt, false);
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", l.token, &r), PB_OK);

    /* a player's launch also needs limits in the player's currency */
    pb_launch l3;
    set_brand(f, g.id, f->mt, true);
    assert_int_equal(pb_store_begin(c, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_launch_for_player(c, "acme", "zeus", "malta", PLAYER, "USD", 0,
                                                  T0, &l3),
                     PB_ERR_CURRENCY_NOT_ALLOWED);
    assert_int_equal(pb_catalog_launch_for_player(c, "acme", "ghost", "malta", PLAYER, "EUR", 0,
                                                  T0, &l3),
                     PB_ERR_GAME_NOT_FOUND);
    assert_int_equal(pb_store_commit(c), PB_STORE_OK);
    assert_int_equal(launch_rows(f), 2);
    assert_int_equal(pb_store_begin(c, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_launch_for_player(c, "acme", "zeus", "malta", PLAYER, "EUR", 60,
                                                  T0, &l3),
                     PB_OK);
    assert_int_equal(pb_store_commit(c), PB_STORE_OK);
    assert_int_equal(l3.expires_at, T0 + 60000000);
    assert_int_equal(launch_rows(f), 3);
    set_brand(f, g.id, f->mt, false);

    /* prune removes only what expired before the cut-off */
    int64_t pruned = -1;
    assert_int_equal(pb_store_begin(c, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_launch_prune(c, T0 + 2000000, &pruned), PB_OK);
    assert_int_equal(pb_store_commit(c), PB_STORE_OK);
    assert_int_equal(pruned, 1);
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", l2.token, &r), PB_ERR_TOKEN_INVALID);
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", l.token, &r), PB_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(provider_create_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(provider_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(provider_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(game_create_and_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(game_updates, setup, teardown),
        cmocka_unit_test(jurisdiction_rule),
        cmocka_unit_test_setup_teardown(playable_refusals_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(playable_jurisdictions, setup, teardown),
        cmocka_unit_test_setup_teardown(playable_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(lobby_and_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(launches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
