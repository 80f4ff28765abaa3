/*
 * test_catalog.c — providers and games on a real SQLite database: provider
 * validation (every field, both protocols, RSA keys generated here), duplicate
 * codes and updates; game validation (every field, limits per currency,
 * blocked jurisdictions); nothing written on any refusal. The playable check,
 * the lobby and launches are in test_catalog_play.c.
 */
#include "catalog_fixture.h"

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
    assert_int_equal(pb_catalog_provider_get(f->conn, "BAD CODE", &got), PB_ERR_PROVIDER_NOT_FOUND);

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
    const char *codes[] = {"a", "UPPER", "-lead", "has space", "under_score", "dot.ted", ""};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(provider_create_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(provider_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(provider_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(game_create_and_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(game_updates, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
