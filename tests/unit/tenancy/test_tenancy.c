/*
 * test_tenancy.c — brands: create with every validation (code, name, currencies
 * and default, jurisdiction, settings: only known keys, each of its type and
 * range; nothing written on a refusal), a
 * duplicate code, lookups by id and code, update (settings canonicalised, status,
 * currency list with its default), listing with pagination and a staff scope,
 * pb_tenancy_currency_allowed, and the country / jurisdiction tables.
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

#include "tenancy/tenancy.h"

#define T0 1795000000000000

typedef struct tfx {
    char dir[256];
    char path[300];
    pb_store *store;
    pb_store_conn *conn;
} tfx;

static int setup(void **state)
{
    tfx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pbten.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    char err[256];
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(pb_store_migrate(f->store, NULL, err, sizeof err), PB_STORE_OK);
    f->conn = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->conn);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    tfx *f = *state;
    pb_store_disconnect(f->conn);
    pb_store_close(f->store);
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", "-writer.lock"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static const char *const EUR_USD[] = {"USD", "EUR"};

static pb_brand_spec demo_spec(void)
{
    return (pb_brand_spec){
        .code = "demo",
        .name = "Demo Casino",
        .default_currency = "EUR",
        .currencies = EUR_USD,
        .ncurrencies = 2,
        .jurisdiction = "MT",
        .settings = "{\"withdrawal_4eyes_thresholds\": {\"USD\": 60000, \"EUR\": 50000}, "
                    "\"funding_policy\": \"bonus_first\"}"};
}

static pb_err create(tfx *f, const pb_brand_spec *spec, pb_brand *out, const char **field)
{
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_tenancy_brand_create(f->conn, spec, T0, out, field);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    return e;
}

static void create_and_get(void **state)
{
    tfx *f = *state;
    pb_brand_spec spec = demo_spec();
    pb_brand b, got;
    assert_int_equal(create(f, &spec, &b, NULL), PB_OK);
    assert_true(b.id > 0);
    assert_int_equal(b.ncurrencies, 2);
    assert_string_equal(b.currencies[0], "EUR"); /* sorted */
    assert_string_equal(b.currencies[1], "USD");
    assert_string_equal(b.settings,
                        "{\"funding_policy\":\"bonus_first\",\"withdrawal_4eyes_thresholds\":{"
                        "\"EUR\":50000,\"USD\":60000}}");
    assert_string_equal(b.status, "active");
    assert_int_equal(pb_tenancy_brand_get(f->conn, b.id, &got), PB_OK);
    assert_memory_equal(&got, &b, sizeof b);
    assert_int_equal(pb_tenancy_brand_by_code(f->conn, "demo", &got), PB_OK);
    assert_int_equal(got.id, b.id);
    assert_int_equal(pb_tenancy_brand_by_code(f->conn, "nope", &got), PB_ERR_BRAND_NOT_FOUND);
    assert_int_equal(pb_tenancy_brand_by_code(f->conn, "NOT VALID", &got), PB_ERR_BRAND_NOT_FOUND);
    assert_int_equal(pb_tenancy_brand_get(f->conn, 999, &got), PB_ERR_BRAND_NOT_FOUND);
    assert_true(pb_tenancy_currency_allowed(&b, "USD"));
    assert_false(pb_tenancy_currency_allowed(&b, "GBP"));
    assert_false(pb_tenancy_currency_allowed(&b, "usd"));
    /* a duplicate code */
    const char *field = NULL;
    assert_int_equal(create(f, &spec, &got, &field), PB_ERR_BRAND_EXISTS);
    assert_string_equal(field, "code");
    /* only the default currency when no list is given */
    spec.code = "solo";
    spec.currencies = NULL;
    spec.ncurrencies = 0;
    spec.default_currency = "JPY";
    assert_int_equal(create(f, &spec, &b, NULL), PB_OK);
    assert_int_equal(b.ncurrencies, 1);
    assert_string_equal(b.currencies[0], "JPY");
    /* what migration 0041 writes (test_store's deposit limits upgrade) is valid and
     * canonical as it stands */
    static const char migrated[] =
        "{\"deposit_expiry_minutes\":30,\"deposit_maxes\":{\"EUR\":20000,\"JPY\":20000,"
        "\"USD\":20000},\"deposit_mins\":{\"EUR\":500,\"JPY\":500,\"USD\":500},"
        "\"funding_policy\":\"cash_only\",\"withdrawal_4eyes_thresholds\":{\"EUR\":100000}}";
    spec.code = "mig";
    spec.settings = migrated;
    assert_int_equal(create(f, &spec, &b, NULL), PB_OK);
    assert_string_equal(b.settings, migrated);
}

static void create_validation(void **state)
{
    tfx *f = *state;
    static const char *const dup[] = {"EUR", "EUR"};
    static const char *const unknown[] = {"EUR", "XYZ"};
    static const char *const no_default[] = {"USD", "GBP"};
    struct {
        const char *code, *name, *def, *jur, *settings;
        const char *const *list;
        size_t n;
        pb_err expect;
        const char *field;
    } cases[] = {
        {"a", "N", "EUR", "MT", NULL, NULL, 0, PB_ERR_FIELD_INVALID, "code"},
        {"Demo", "N", "EUR", "MT", NULL, NULL, 0, PB_ERR_FIELD_INVALID, "code"},
        {"-demo", "N", "EUR", "MT", NULL, NULL, 0, PB_ERR_FIELD_INVALID, "code"},
        {"de_mo", "N", "EUR", "MT", NULL, NULL, 0, PB_ERR_FIELD_INVALID, "code"},
        {"abcdefghijklmnopqrstuvwxyz0123456", "N", "EUR", "MT", NULL, NULL, 0, PB_ERR_FIELD_INVALID,
         "code"},
        {NULL, "N", "EUR", "MT", NULL, NULL, 0, PB_ERR_FIELD_INVALID, "code"},
        {"ok", NULL, "EUR", "MT", NULL, NULL, 0, PB_ERR_FIELD_MISSING, "name"},
        {"ok", "", "EUR", "MT", NULL, NULL, 0, PB_ERR_FIELD_INVALID, "name"},
        {"ok", "bad\x01name", "EUR", "MT", NULL, NULL, 0, PB_ERR_FIELD_INVALID, "name"},
        {"ok", "N", "EUR", NULL, NULL, NULL, 0, PB_ERR_FIELD_MISSING, "jurisdiction"},
        {"ok", "N", "EUR", "XX", NULL, NULL, 0, PB_ERR_FIELD_INVALID, "jurisdiction"},
        {"ok", "N", "EUR", "mt", NULL, NULL, 0, PB_ERR_FIELD_INVALID, "jurisdiction"},
        {"ok", "N", "EUR", "CA-", NULL, NULL, 0, PB_ERR_FIELD_INVALID, "jurisdiction"},
        {"ok", "N", "EUR", "MT", "[1,2]", NULL, 0, PB_ERR_FIELD_INVALID, "settings"},
        {"ok", "N", "EUR", "MT", "{\"a\":1,\"a\":2}", NULL, 0, PB_ERR_FIELD_INVALID, "settings"},
        {"ok", "N", "EUR", "MT", "{not json", NULL, 0, PB_ERR_FIELD_INVALID, "settings"},
        /* only the settings the platform reads, each of its type and range */
        {"ok", "N", "EUR", "MT", "{\"theme\":\"dark\"}", NULL, 0, PB_ERR_FIELD_INVALID, "settings"},
        /* the former single threshold: now per currency, refused by its name */
        {"ok", "N", "EUR", "MT", "{\"withdrawal_4eyes_threshold\":5000}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.withdrawal_4eyes_threshold"},
        {"ok", "N", "EUR", "MT", "{\"withdrawal_4eyes_thresholds\":5000}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.withdrawal_4eyes_thresholds"},
        {"ok", "N", "EUR", "MT", "{\"withdrawal_4eyes_thresholds\":{\"EUR\":\"5000\"}}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.withdrawal_4eyes_thresholds"},
        {"ok", "N", "EUR", "MT", "{\"withdrawal_4eyes_thresholds\":{\"EUR\":0}}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.withdrawal_4eyes_thresholds"},
        {"ok", "N", "EUR", "MT", "{\"withdrawal_4eyes_thresholds\":{\"EUR\":5000.0}}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.withdrawal_4eyes_thresholds"},
        {"ok", "N", "EUR", "MT", "{\"withdrawal_4eyes_thresholds\":{\"EURO\":5000}}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.withdrawal_4eyes_thresholds"},
        /* the adjustments' 4-eyes thresholds: the same shape as the withdrawals' */
        {"ok", "N", "EUR", "MT", "{\"adjustment_4eyes_thresholds\":5000}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.adjustment_4eyes_thresholds"},
        {"ok", "N", "EUR", "MT", "{\"adjustment_4eyes_thresholds\":{\"EUR\":0}}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.adjustment_4eyes_thresholds"},
        {"ok", "N", "EUR", "MT", "{\"adjustment_4eyes_thresholds\":{\"XYZ\":100}}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.adjustment_4eyes_thresholds"},
        /* the former single deposit limits (one number for every currency): by name */
        {"ok", "N", "EUR", "MT", "{\"deposit_min\":500}", NULL, 0, PB_ERR_FIELD_INVALID,
         "settings.deposit_min"},
        {"ok", "N", "EUR", "MT", "{\"deposit_max\":20000}", NULL, 0, PB_ERR_FIELD_INVALID,
         "settings.deposit_max"},
        /* deposit limits per currency: known codes, integers in range */
        {"ok", "N", "EUR", "MT", "{\"deposit_mins\":500}", NULL, 0, PB_ERR_FIELD_INVALID,
         "settings.deposit_mins"},
        {"ok", "N", "EUR", "MT", "{\"deposit_mins\":{\"EURO\":500}}", NULL, 0, PB_ERR_FIELD_INVALID,
         "settings.deposit_mins"},
        {"ok", "N", "EUR", "MT", "{\"deposit_mins\":{\"EUR\":0}}", NULL, 0, PB_ERR_FIELD_INVALID,
         "settings.deposit_mins"},
        {"ok", "N", "EUR", "MT", "{\"deposit_mins\":{\"EUR\":\"500\"}}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.deposit_mins"},
        {"ok", "N", "EUR", "MT", "{\"deposit_maxes\":{\"JPY\":1000000000000001}}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.deposit_maxes"},
        {"ok", "N", "EUR", "MT", "{\"deposit_maxes\":{\"KWD\":5.5}}", NULL, 0, PB_ERR_FIELD_INVALID,
         "settings.deposit_maxes"},
        /* min <= max per currency: a currency's own pair ... */
        {"ok", "N", "EUR", "MT",
         "{\"deposit_mins\":{\"EUR\":500,\"JPY\":5000},\"deposit_maxes\":{\"EUR\":20000,"
         "\"JPY\":4999}}",
         NULL, 0, PB_ERR_FIELD_INVALID, "settings.deposit_maxes"},
        /* ... or against the built-in limit where it has none (100 .. 100000000) */
        {"ok", "N", "EUR", "MT", "{\"deposit_mins\":{\"KWD\":100000001}}", NULL, 0,
         PB_ERR_FIELD_INVALID, "settings.deposit_mins"},
        {"ok", "N", "EUR", "MT", "{\"deposit_maxes\":{\"BTC\":99}}", NULL, 0, PB_ERR_FIELD_INVALID,
         "settings.deposit_maxes"},
        {"ok", "N", "EUR", "MT", "{\"funding_policy\":\"cash\"}", NULL, 0, PB_ERR_FIELD_INVALID,
         "settings.funding_policy"},
        {"ok", "N", "EUR", "MT", "{\"funding_policy\":1}", NULL, 0, PB_ERR_FIELD_INVALID,
         "settings.funding_policy"},
        {"ok", "N", "EUR", "MT", "{\"erase_after_days\":36501}", NULL, 0, PB_ERR_FIELD_INVALID,
         "settings.erase_after_days"},
        {"ok", "N", "EURO", "MT", NULL, NULL, 0, PB_ERR_CURRENCY_UNKNOWN, "default_currency"},
        {"ok", "N", NULL, "MT", NULL, NULL, 0, PB_ERR_CURRENCY_UNKNOWN, "default_currency"},
        {"ok", "N", "EUR", "MT", NULL, unknown, 2, PB_ERR_CURRENCY_UNKNOWN, "currencies"},
        {"ok", "N", "EUR", "MT", NULL, dup, 2, PB_ERR_FIELD_INVALID, "currencies"},
        {"ok", "N", "EUR", "MT", NULL, no_default, 2, PB_ERR_CURRENCY_NOT_ALLOWED,
         "default_currency"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_brand_spec spec = {.code = cases[i].code,
                              .name = cases[i].name,
                              .default_currency = cases[i].def,
                              .jurisdiction = cases[i].jur,
                              .settings = cases[i].settings,
                              .currencies = cases[i].list,
                              .ncurrencies = cases[i].n};
        const char *field = NULL;
        pb_brand b;
        pb_err e = create(f, &spec, &b, &field);
        if (e != cases[i].expect || !field || strcmp(field, cases[i].field) != 0)
            fail_msg("case %zu: got %s in %s, want %s in %s", i, pb_err_code(e),
                     field ? field : "-", pb_err_code(cases[i].expect), cases[i].field);
    }
    pb_brand page[4];
    size_t n = 9;
    assert_int_equal(pb_tenancy_brand_list(f->conn, NULL, 0, page, 4, &n), PB_OK);
    assert_int_equal(n, 0); /* nothing was written */
    /* subdivisions and other countries are fine */
    pb_brand_spec ontario = {
        .code = "on-1", .name = "Ontario", .default_currency = "CAD", .jurisdiction = "CA-ON"};
    assert_int_equal(create(f, &ontario, NULL, NULL), PB_OK);
}

static void update(void **state)
{
    tfx *f = *state;
    pb_brand_spec spec = demo_spec();
    pb_brand b, got;
    assert_int_equal(create(f, &spec, &b, NULL), PB_OK);
    static const char *const three[] = {"EUR", "USD", "BTC"};
    pb_brand_update u = {.name = "Demo 2",
                         .settings = "{ \"erase_after_days\" : 0 , \"deposit_mins\" : "
                                     "{\"JPY\": 500, \"EUR\": 500}, \"deposit_maxes\" : "
                                     "{\"KWD\": 100000} }",
                         .currencies = three,
                         .ncurrencies = 3,
                         .default_currency = "USD",
                         .status = "suspended"};
    const char *field = NULL;
    assert_int_equal(pb_tenancy_brand_update(f->conn, b.id, &u, T0 + 5, &got, &field), PB_OK);
    assert_string_equal(got.name, "Demo 2");
    assert_string_equal(got.settings, "{\"deposit_maxes\":{\"KWD\":100000},\"deposit_mins\":"
                                      "{\"EUR\":500,\"JPY\":500},\"erase_after_days\":0}");
    assert_string_equal(got.default_currency, "USD");
    assert_int_equal(got.ncurrencies, 3);
    assert_false(pb_tenancy_brand_active(&got));
    assert_int_equal(got.updated_at, T0 + 5);
    assert_int_equal(got.created_at, T0);
    assert_string_equal(got.code, "demo");
    assert_int_equal(pb_tenancy_brand_get(f->conn, b.id, &b), PB_OK);
    assert_memory_equal(&got, &b, sizeof b);
    /* the default must stay in the list; a bad status; an unknown brand */
    static const char *const eur_only[] = {"EUR"};
    u = (pb_brand_update){.currencies = eur_only, .ncurrencies = 1};
    assert_int_equal(pb_tenancy_brand_update(f->conn, b.id, &u, T0, NULL, &field),
                     PB_ERR_CURRENCY_NOT_ALLOWED);
    u = (pb_brand_update){.default_currency = "GBP"};
    assert_int_equal(pb_tenancy_brand_update(f->conn, b.id, &u, T0, NULL, &field),
                     PB_ERR_CURRENCY_NOT_ALLOWED);
    u = (pb_brand_update){.status = "closed"};
    assert_int_equal(pb_tenancy_brand_update(f->conn, b.id, &u, T0, NULL, &field),
                     PB_ERR_FIELD_INVALID);
    assert_string_equal(field, "status");
    assert_int_equal(pb_tenancy_brand_update(f->conn, 999, &u, T0, NULL, &field),
                     PB_ERR_BRAND_NOT_FOUND);
    /* refusals changed nothing */
    assert_int_equal(pb_tenancy_brand_get(f->conn, b.id, &got), PB_OK);
    assert_memory_equal(&got, &b, sizeof b);
    /* only the default: the list is re-checked and kept */
    u = (pb_brand_update){.default_currency = "BTC", .status = "active"};
    assert_int_equal(pb_tenancy_brand_update(f->conn, b.id, &u, T0 + 9, &got, &field), PB_OK);
    assert_string_equal(got.default_currency, "BTC");
    assert_int_equal(got.ncurrencies, 3);
    assert_true(pb_tenancy_brand_active(&got));
}

static void list_and_scope(void **state)
{
    tfx *f = *state;
    char code[16];
    int64_t ids[7];
    for (int i = 0; i < 7; i++) {
        pb_brand_spec spec = demo_spec();
        snprintf(code, sizeof code, "b%d", i);
        spec.code = code;
        pb_brand b;
        assert_int_equal(create(f, &spec, &b, NULL), PB_OK);
        ids[i] = b.id;
    }
    pb_brand page[3];
    size_t n, total = 0;
    int64_t after = 0;
    do {
        assert_int_equal(pb_tenancy_brand_list(f->conn, NULL, after, page, 3, &n), PB_OK);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(page[i].id, ids[total++]);
        if (n)
            after = page[n - 1].id;
    } while (n == 3);
    assert_int_equal(total, 7);
    /* a scope of three brands spread over several pages */
    pb_brand_scope scope = {.n = 3, .brand_ids = {ids[1], ids[5], ids[6]}};
    assert_int_equal(pb_tenancy_brand_list(f->conn, &scope, 0, page, 2, &n), PB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(page[0].id, ids[1]);
    assert_int_equal(page[1].id, ids[5]);
    assert_int_equal(pb_tenancy_brand_list(f->conn, &scope, page[1].id, page, 2, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(page[0].id, ids[6]);
    assert_true(pb_brand_scope_allows(&scope, ids[5]));
    assert_false(pb_brand_scope_allows(&scope, ids[0]));
    assert_true(pb_brand_scope_allows(NULL, ids[0]));
    pb_brand_scope all = {.all = true};
    assert_true(pb_brand_scope_allows(&all, 12345));
    pb_brand_scope none = {0};
    assert_false(pb_brand_scope_allows(&none, ids[0]));
    assert_int_equal(pb_tenancy_brand_list(f->conn, &none, 0, page, 3, &n), PB_OK);
    assert_int_equal(n, 0);
}

static void countries_and_jurisdictions(void **state)
{
    (void)state;
    const char *good[] = {"AD", "MT", "GB", "SE", "CW", "IM", "GI", "US", "ZW", "AX"};
    const char *bad[] = {"", "M", "mt", "UK", "XK", "ZZ", "MTA", "M1", "AA", NULL};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(pb_tenancy_country_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(pb_tenancy_country_valid(bad[i]));
    assert_true(pb_tenancy_jurisdiction_valid("MT"));
    assert_true(pb_tenancy_jurisdiction_valid("CA-ON"));
    assert_true(pb_tenancy_jurisdiction_valid("US-NJ"));
    assert_true(pb_tenancy_jurisdiction_valid("GB-1"));
    assert_false(pb_tenancy_jurisdiction_valid("XX-ON"));
    assert_false(pb_tenancy_jurisdiction_valid("CA-ONTA"));
    assert_false(pb_tenancy_jurisdiction_valid("CA_ON"));
    assert_false(pb_tenancy_jurisdiction_valid("CA-on"));
    assert_false(pb_tenancy_jurisdiction_valid(NULL));
    assert_true(pb_tenancy_code_valid("demo-2"));
    assert_false(pb_tenancy_code_valid("d"));
}

/* The settings' readers accept exactly what the writer's table accepts. */
static void setting_readers(void **state)
{
    (void)state;
    const char *set = "{\"erase_after_days\":0,\"adjustment_request_expiry_hours\":721,"
                      "\"deposit_expiry_minutes\":\"60\",\"deposit_mins\":{\"EUR\":500,"
                      "\"SEK\":0,\"JPY\":1000000000000001},\"withdrawal_4eyes_thresholds\":7}";
    assert_int_equal(pb_tenancy_setting_int(set, "erase_after_days", 1826), 0); /* 0 is valid */
    /* out of the table's 1..720, a string, absent: the default */
    assert_int_equal(pb_tenancy_setting_int(set, "adjustment_request_expiry_hours", 72), 72);
    assert_int_equal(pb_tenancy_setting_int(set, "deposit_expiry_minutes", 1440), 1440);
    assert_int_equal(pb_tenancy_setting_int("{}", "erase_after_days", 1826), 1826);
    assert_int_equal(pb_tenancy_setting_int(NULL, "erase_after_days", 1826), 1826);
    assert_int_equal(pb_tenancy_setting_int("not json", "erase_after_days", 1826), 1826);
    /* not an integer setting of the table: unknown, per currency, a string choice */
    assert_int_equal(pb_tenancy_setting_int("{\"nope\":5}", "nope", -1), -1);
    assert_int_equal(pb_tenancy_setting_int(set, "deposit_mins", -1), -1);
    assert_int_equal(pb_tenancy_setting_int("{\"funding_policy\":3}", "funding_policy", -1), -1);
    int64_t v = -1;
    assert_true(pb_tenancy_setting_for_currency(set, "deposit_mins", "EUR", &v));
    assert_int_equal(v, 500);
    v = -1; /* below the table's minimum, above its maximum, absent, no currency */
    assert_false(pb_tenancy_setting_for_currency(set, "deposit_mins", "SEK", &v));
    assert_false(pb_tenancy_setting_for_currency(set, "deposit_mins", "JPY", &v));
    assert_false(pb_tenancy_setting_for_currency(set, "deposit_mins", "USD", &v));
    assert_false(pb_tenancy_setting_for_currency(set, "deposit_mins", NULL, &v));
    /* a number where an object belongs; an integer setting asked per currency */
    assert_false(pb_tenancy_setting_for_currency(set, "withdrawal_4eyes_thresholds", "EUR", &v));
    assert_false(pb_tenancy_setting_for_currency(set, "erase_after_days", "EUR", &v));
    assert_int_equal(v, -1); /* untouched by every refusal */
    pb_brand b = {0};
    snprintf(b.settings, sizeof b.settings, "%s", "{\"adjustment_request_expiry_hours\":2}");
    assert_int_equal(pb_tenancy_adjustment_expiry_us(&b), 2 * 3600 * 1000000LL);
    snprintf(b.settings, sizeof b.settings, "%s", "{}");
    assert_int_equal(pb_tenancy_adjustment_expiry_us(&b), 72 * 3600 * 1000000LL);
    /* the settlements' expiry: its own key, read the same way (each key its own) */
    assert_int_equal(pb_tenancy_settlement_expiry_us(&b), 72 * 3600 * 1000000LL);
    snprintf(b.settings, sizeof b.settings, "%s",
             "{\"unclaimed_settlement_expiry_hours\":5,\"adjustment_request_expiry_hours\":2}");
    assert_int_equal(pb_tenancy_settlement_expiry_us(&b), 5 * 3600 * 1000000LL);
    assert_int_equal(pb_tenancy_adjustment_expiry_us(&b), 2 * 3600 * 1000000LL);
    snprintf(b.settings, sizeof b.settings, "%s", "{\"unclaimed_settlement_expiry_hours\":721}");
    assert_int_equal(pb_tenancy_settlement_expiry_us(&b), 72 * 3600 * 1000000LL); /* out of range */
}

/* A setting changed between two settings texts: its value, not the rest, not key order. */
static void setting_changed(void **state)
{
    (void)state;
    const char *k = "withdrawal_4eyes_thresholds";
    const char *old = "{\"withdrawal_4eyes_thresholds\":{\"EUR\":5000,\"USD\":7000},"
                      "\"deposit_expiry_minutes\":60}";
    /* the same value in another order, another setting changed: no change */
    assert_false(pb_tenancy_setting_changed(
        old,
        "{\"deposit_expiry_minutes\":90,\"withdrawal_4eyes_thresholds\":{\"USD\":7000,"
        "\"EUR\":5000}}",
        k));
    /* lowered, raised, a currency added or removed, the setting added or removed */
    assert_true(pb_tenancy_setting_changed(
        old, "{\"withdrawal_4eyes_thresholds\":{\"EUR\":1000,\"USD\":7000}}", k));
    assert_true(pb_tenancy_setting_changed(
        old, "{\"withdrawal_4eyes_thresholds\":{\"EUR\":9000,\"USD\":7000}}", k));
    assert_true(pb_tenancy_setting_changed(old, "{\"withdrawal_4eyes_thresholds\":{\"EUR\":5000}}",
                                           k));
    assert_true(pb_tenancy_setting_changed(old, "{\"deposit_expiry_minutes\":60}", k));
    assert_true(pb_tenancy_setting_changed("{}", old, k));
    /* none on both sides, NULL or unreadable text: no settings */
    assert_false(pb_tenancy_setting_changed("{}", "{\"deposit_expiry_minutes\":60}", k));
    assert_false(pb_tenancy_setting_changed(NULL, "not json", k));
    assert_true(pb_tenancy_setting_changed(NULL, old, k));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(create_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(update, setup, teardown),
        cmocka_unit_test_setup_teardown(list_and_scope, setup, teardown),
        cmocka_unit_test(countries_and_jurisdictions),
        cmocka_unit_test(setting_readers),
        cmocka_unit_test(setting_changed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
