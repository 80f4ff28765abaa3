/*
 * test_catalog_play.c — where games may be played, on a real SQLite database:
 * the jurisdiction rule, the playable check with every refusal in its
 * documented order, subdivision blocking and bet limits per currency; the
 * playability cache (hits, what it never keeps, invalidation by catalog
 * writes, its time to live, the quiet time after a write); the
 * lobby (per brand, jurisdiction, currency, category, pages) and the staff
 * list filters; launches (token shape, only the hash stored, resolve, another
 * provider, unknown and malformed tokens, expiry left to the caller, the
 * player's currency, refusals write nothing, prune).
 */
#include "catalog_fixture.h"
#include "catalog/catalog_internal.h"

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
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 0, &out), PB_OK);
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
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL), PB_OK);
}

/* ---- the playability cache (launch.c) -------------------------------------- */

/* Runs one statement on a second connection, as another process would. */
static void behind_the_back(tfx *f, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void playable_cache(void **state)
{
    tfx *f = *state;
    pb_store_conn *c = f->conn;
    const char *bad;
    pb_provider p = native_provider("acme");
    assert_int_equal(provider_create(f, &p, &bad), PB_OK);
    pb_game g = slot_game("acme", "zeus");
    snprintf(g.blocked[0], sizeof g.blocked[0], "CA");
    g.nblocked = 1;
    assert_int_equal(game_create(f, &g, &bad), PB_OK);
    set_brand(f, g.id, f->mt, true);
    pb_catalog_play_cache_tune(60 * 1000000LL, 0); /* entries live a minute; no quiet time */

    /* a hit: a change made behind the catalog's back (another process) is not
     * seen while the entry lives, which shows the answer came from the cache */
    pb_game out;
    memset(&out, 0, sizeof out);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, &out), PB_OK);
    behind_the_back(f, "UPDATE game SET status='disabled' WHERE code='zeus'");
    memset(&out, 0, sizeof out);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, &out), PB_OK);
    assert_int_equal(out.id, g.id); /* the game reported from the cache too */
    /* limits and currencies are applied to the cached game */
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 10001, NULL),
                     PB_ERR_BET_LIMIT);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "USD", 100, NULL),
                     PB_ERR_CURRENCY_NOT_ALLOWED);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", -1, NULL),
                     PB_ERR_AMOUNT_INVALID);
    /* the brand comes from tenancy's brand cache, which keeps its own time: a
     * jurisdiction change behind its back is not seen while the entry lives ... */
    pb_tenancy_brand_cache_tune(60 * 1000000LL, 0);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL), PB_OK);
    behind_the_back(f, "UPDATE brand SET jurisdiction='CA-QC' WHERE code='malta'");
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL), PB_OK);
    /* ... a brand write of this process empties it: seen on the next call ... */
    pb_brand_update bu = {.jurisdiction = "CA-QC"};
    assert_int_equal(pb_tenancy_brand_update(c, f->mt, &bu, T0, NULL, &bad), PB_OK);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL),
                     PB_ERR_GAME_DISABLED);
    /* ... another process's once the entry's time is up ... */
    pb_tenancy_brand_cache_tune(50 * 1000, 0);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL),
                     PB_ERR_GAME_DISABLED);
    behind_the_back(f, "UPDATE brand SET jurisdiction='MT' WHERE code='malta'");
    usleep(100 * 1000);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL), PB_OK);
    /* ... and during the quiet time after a brand write nothing read is kept */
    pb_tenancy_brand_cache_tune(60 * 1000000LL, 60 * 1000000LL);
    bu.jurisdiction = "MT";
    assert_int_equal(pb_tenancy_brand_update(c, f->mt, &bu, T0, NULL, &bad), PB_OK);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL), PB_OK);
    behind_the_back(f, "UPDATE brand SET jurisdiction='CA-QC' WHERE code='malta'");
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL),
                     PB_ERR_GAME_DISABLED);
    behind_the_back(f, "UPDATE brand SET jurisdiction='MT' WHERE code='malta'");
    pb_tenancy_brand_cache_tune(0, 0); /* from here on the brand is read every time */
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL), PB_OK);
    /* an unknown brand has no entry: steps 1-4 come from the store, where the
     * game is disabled by now (step 4 refuses before step 5) */
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "ghost", "EUR", 100, NULL),
                     PB_ERR_GAME_DISABLED);

    /* any catalog write of this process empties it: the next call reads the store */
    set_brand(f, g.id, f->ca, false); /* another brand's switch, even */
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL),
                     PB_ERR_GAME_DISABLED); /* the disabled status written behind its back */
    behind_the_back(f, "UPDATE game SET status='active' WHERE code='zeus'");
    set_brand(f, g.id, f->ca, false);

    /* refusals are never cached */
    set_brand(f, g.id, f->mt, false);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL),
                     PB_ERR_GAME_DISABLED);
    behind_the_back(f, "UPDATE game_brand SET enabled=1");
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL), PB_OK);

    /* through the catalog: a switch, a game or a provider disabled is refused on the next call */
    set_brand(f, g.id, f->mt, false);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL),
                     PB_ERR_GAME_DISABLED);
    set_brand(f, g.id, f->mt, true);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, &out), PB_OK);
    pb_game u = out;
    snprintf(u.status, sizeof u.status, "disabled");
    assert_int_equal(game_update(f, &u, &bad), PB_OK);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL),
                     PB_ERR_GAME_DISABLED);
    snprintf(u.status, sizeof u.status, "active");
    u.limits[0].max_bet = 50;
    assert_int_equal(game_update(f, &u, &bad), PB_OK);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 100, NULL),
                     PB_ERR_BET_LIMIT); /* new limits at once */
    pb_provider pu;
    assert_int_equal(pb_catalog_provider_get(c, "acme", &pu), PB_OK);
    snprintf(pu.status, sizeof pu.status, "disabled");
    assert_int_equal(provider_update(f, &pu, T0, &bad), PB_OK);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 10, NULL),
                     PB_ERR_PROVIDER_DISABLED);
    snprintf(pu.status, sizeof pu.status, "active");
    assert_int_equal(provider_update(f, &pu, T0, &bad), PB_OK);

    /* another process's change is seen once the entry's time is up */
    pb_catalog_play_cache_tune(50 * 1000, 0); /* (that it holds while alive: above) */
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 10, NULL), PB_OK);
    behind_the_back(f, "UPDATE game SET status='disabled' WHERE code='zeus'");
    usleep(100 * 1000);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 10, NULL),
                     PB_ERR_GAME_DISABLED);
    behind_the_back(f, "UPDATE game SET status='active' WHERE code='zeus'");

    /* during the quiet time after a catalog write nothing read is kept (the
     * write's transaction may commit after a racing read) */
    pb_catalog_play_cache_tune(60 * 1000000LL, 60 * 1000000LL);
    set_brand(f, g.id, f->ca, false);
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 10, NULL), PB_OK);
    behind_the_back(f, "UPDATE game SET status='disabled' WHERE code='zeus'");
    assert_int_equal(pb_catalog_game_playable(c, "acme", "zeus", "malta", "EUR", 10, NULL),
                     PB_ERR_GAME_DISABLED);
    pb_catalog_play_cache_tune(1000000, 1000000); /* the defaults again */
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
        {"EUR", 0, PB_OK},
        {"EUR", 9, PB_ERR_BET_LIMIT},
        {"EUR", 10, PB_OK},
        {"EUR", 10000, PB_OK},
        {"EUR", 10001, PB_ERR_BET_LIMIT},
        {"EUR", -1, PB_ERR_AMOUNT_INVALID},
        {"USD", 99, PB_ERR_BET_LIMIT},
        {"USD", 100, PB_OK},
        {"USD", INT64_MAX, PB_OK},
        {"GBP", 100, PB_ERR_CURRENCY_NOT_ALLOWED},
        {"GBP", 0, PB_OK}, /* no amount: the currency is not checked */
        {"XYZ", 100, PB_ERR_CURRENCY_NOT_ALLOWED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_err e = pb_catalog_game_playable(c, "acme", "zeus", "malta", cases[i].cur,
                                            cases[i].amount, NULL);
        if (e != cases[i].want)
            fail_msg("%s %lld: got %s", cases[i].cur, (long long)cases[i].amount, pb_err_code(e));
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
    assert_int_equal(pb_catalog_game_list(c, &flt, 0, rows, 8, &n, &bad), PB_ERR_BRAND_NOT_FOUND);
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

/* Providers "acme" and "bolt", and acme's game "zeus" (switched on for no brand). */
static pb_game acme_bolt_zeus(tfx *f)
{
    pb_provider a = native_provider("acme"), b = native_provider("bolt");
    const char *bad;
    assert_int_equal(provider_create(f, &a, &bad), PB_OK);
    assert_int_equal(provider_create(f, &b, &bad), PB_OK);
    pb_game g = slot_game("acme", "zeus");
    assert_int_equal(game_create(f, &g, &bad), PB_OK);
    return g;
}

static void launches(void **state)
{
    tfx *f = *state;
    pb_store_conn *c = f->conn;
    pb_game g = acme_bolt_zeus(f);

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
    assert_int_equal(pb_catalog_launch_for_player(c, "acme", "zeus", "malta", PLAYER, "USD", 0, T0,
                                                  &l3),
                     PB_ERR_CURRENCY_NOT_ALLOWED);
    assert_int_equal(pb_catalog_launch_for_player(c, "acme", "ghost", "malta", PLAYER, "EUR", 0, T0,
                                                  &l3),
                     PB_ERR_GAME_NOT_FOUND);
    assert_int_equal(pb_store_commit(c), PB_STORE_OK);
    assert_int_equal(launch_rows(f), 2);
    assert_int_equal(pb_store_begin(c, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_launch_for_player(c, "acme", "zeus", "malta", PLAYER, "EUR", 60, T0,
                                                  &l3),
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

/* The launch cache: what was resolved is kept 1 s (a launch row never changes),
 * for the provider it was issued to only, without its token; refusals are not
 * kept; a miss without a connection is STORE_UNAVAILABLE. */
static void launch_cache(void **state)
{
    tfx *f = *state;
    pb_store_conn *c = f->conn;
    pb_game g = acme_bolt_zeus(f);
    set_brand(f, g.id, f->mt, true);
    pb_launch l, r;
    assert_int_equal(launch(f, "acme", "zeus", "malta", PLAYER, "EUR", 0, &l), PB_OK);

    assert_int_equal(pb_catalog_launch_resolve_cached(NULL, "acme", l.token, &r),
                     PB_ERR_STORE_UNAVAILABLE); /* not cached yet */
    assert_int_equal(pb_catalog_launch_resolve_cached(c, "bolt", l.token, &r),
                     PB_ERR_TOKEN_INVALID);
    assert_int_equal(pb_catalog_launch_resolve_cached(NULL, "bolt", l.token, &r),
                     PB_ERR_STORE_UNAVAILABLE); /* the refusal was not kept */
    assert_int_equal(pb_catalog_launch_resolve_cached(c, "acme", l.token, &r), PB_OK);
    assert_string_equal(r.player_public_id, PLAYER);
    assert_int_equal(r.expires_at, l.expires_at);
    assert_string_equal(r.token, "");
    assert_int_equal(pb_catalog_launch_resolve_cached(c, "acme", "short", &r),
                     PB_ERR_TOKEN_INVALID);

    /* gone from the store (as a prune removes it): served from the cache for the
     * provider it belongs to, within the second; the store says it is unknown */
    behind_the_back(f, "DELETE FROM launch");
    memset(&r, 0, sizeof r);
    assert_int_equal(pb_catalog_launch_resolve_cached(NULL, "acme", l.token, &r), PB_OK);
    assert_string_equal(r.game_code, "zeus");
    assert_int_equal(pb_catalog_launch_resolve_cached(NULL, "bolt", l.token, &r),
                     PB_ERR_STORE_UNAVAILABLE);
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", l.token, &r), PB_ERR_TOKEN_INVALID);
    /* 1.1 s, past the cache's second (usleep alone takes less than a second) */
    sleep(1);
    usleep(100 * 1000);
    assert_int_equal(pb_catalog_launch_resolve_cached(c, "acme", l.token, &r),
                     PB_ERR_TOKEN_INVALID);
}

/* Revocation: every live launch of the player (and only theirs) expires at the
 * revocation; an expired or other player's launch is left alone; revoked_at
 * records it; once the cache is forgotten the cached copies are gone. */
static void launch_revoke(void **state)
{
    tfx *f = *state;
    pb_store_conn *c = f->conn;
    pb_game g = acme_bolt_zeus(f);
    set_brand(f, g.id, f->mt, true);
    static const char OTHER[] = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";
    pb_launch a, b, short_lived, other, r;
    assert_int_equal(launch(f, "acme", "zeus", "malta", PLAYER, "EUR", 0, &a), PB_OK);
    assert_int_equal(launch(f, "acme", "zeus", "malta", PLAYER, "EUR", 60, &b), PB_OK);
    assert_int_equal(launch(f, "acme", "zeus", "malta", PLAYER, "EUR", 1, &short_lived), PB_OK);
    assert_int_equal(launch(f, "acme", "zeus", "malta", OTHER, "EUR", 0, &other), PB_OK);
    assert_int_equal(pb_catalog_launch_resolve_cached(c, "acme", a.token, &r), PB_OK);
    assert_int_equal(r.expires_at, a.expires_at); /* cached as issued */

    /* at T0 + 2 s the 1-second launch has expired already: two are live */
    int64_t at = T0 + 2000000, n = -1;
    assert_int_equal(pb_store_begin(c, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_launch_revoke_player(c, PLAYER, at, &n), PB_OK);
    assert_int_equal(pb_store_commit(c), PB_STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pb_catalog_launch_resolve_cached(NULL, "acme", a.token, &r), PB_OK);
    assert_int_equal(r.expires_at, a.expires_at); /* the cache: until it is forgotten */
    pb_catalog_launch_cache_forget();
    assert_int_equal(pb_catalog_launch_resolve_cached(NULL, "acme", a.token, &r),
                     PB_ERR_STORE_UNAVAILABLE); /* forgotten: only the store can answer */
    assert_int_equal(pb_catalog_launch_resolve_cached(c, "acme", a.token, &r), PB_OK);
    assert_int_equal(r.expires_at, at);
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", b.token, &r), PB_OK);
    assert_int_equal(r.expires_at, at);
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", short_lived.token, &r), PB_OK);
    assert_int_equal(r.expires_at, short_lived.expires_at); /* had ended on its own */
    assert_int_equal(pb_catalog_launch_resolve(c, "acme", other.token, &r), PB_OK);
    assert_int_equal(r.expires_at, other.expires_at); /* another player's */

    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM launch WHERE player=?1 AND "
                                        "revoked_at=?2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, PLAYER, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 2);
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* nothing live left: none revoked; no player: refused */
    assert_int_equal(pb_store_begin(c, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_launch_revoke_player(c, PLAYER, at + 1, &n), PB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pb_catalog_launch_revoke_player(c, "", at + 1, &n), PB_ERR_INVALID_REQUEST);
    assert_int_equal(pb_store_commit(c), PB_STORE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jurisdiction_rule),
        cmocka_unit_test_setup_teardown(playable_refusals_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(playable_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(playable_jurisdictions, setup, teardown),
        cmocka_unit_test_setup_teardown(playable_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(lobby_and_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(launches, setup, teardown),
        cmocka_unit_test_setup_teardown(launch_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(launch_revoke, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
