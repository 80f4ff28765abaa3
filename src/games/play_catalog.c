/*
 * play_catalog.c — the in-house games in the catalog: provider "pitboss" and
 * one game per original with default limits, registered when missing (at
 * start-up when the catalog knows them already, else on the first use of an
 * originals route: pb_play_catalog_ensure); games created now are switched on
 * for brand "demo" when it exists.
 */
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "core/log.h"
#include "core/money.h"
#include "core/time.h"
#include "games/play_internal.h"
#include "tenancy/tenancy.h"

static const char *category_of(pb_game_kind k)
{
    switch (k) {
    case PB_GAME_CRASH: return "crash";
    case PB_GAME_SLOT: return "slots";
    case PB_GAME_ROULETTE: return "table";
    default: return "instant";
    }
}

/* Default limits: 0.01 .. 10,000.00 in a set of common currencies (staff edit them). */
static void default_limits(pb_game *g)
{
    static const char *const curs[] = {"EUR", "USD", "GBP", "CAD", "AUD", "SEK", "NOK", "CHF",
                                       "PLN", "NZD", "BRL", "INR", "JPY", "BTC", "ETH", "USDT"};
    g->nlimits = 0;
    for (size_t i = 0; i < sizeof curs / sizeof curs[0] && i < PB_GAME_LIMITS_MAX; i++) {
        const pb_currency *cur = pb_currency_find(curs[i]);
        if (!cur)
            continue;
        int64_t unit = 1;
        for (int e = 0; e < cur->exponent; e++)
            unit *= 10;
        pb_game_limit *l = &g->limits[g->nlimits++];
        snprintf(l->currency, sizeof l->currency, "%s", curs[i]);
        l->min_bet = unit >= 100 ? unit / 100 : 1;
        l->max_bet = unit * 10000;
    }
}

/* Creates provider "pitboss" and its games when missing; games created now are
 * switched on for brand "demo" when it exists. */
static pb_err seed_catalog(pb_store_conn *c)
{
    int64_t now = pb_time_now_us();
    pb_provider pv;
    pb_err e = pb_catalog_provider_get(c, PB_PLAY_PROVIDER, &pv);
    if (e == PB_ERR_PROVIDER_NOT_FOUND) {
        memset(&pv, 0, sizeof pv);
        snprintf(pv.code, sizeof pv.code, PB_PLAY_PROVIDER);
        snprintf(pv.name, sizeof pv.name, "pitboss originals (in-house, provably fair)");
        /* the catalog knows two wallet protocols; the in-house games call the
         * wallet directly, and this random secret is never handed to anyone */
        snprintf(pv.protocol, sizeof pv.protocol, "native");
        pb_catalog_secret_generate(&pv);
        snprintf(pv.status, sizeof pv.status, "active");
        e = pb_catalog_provider_create(c, &pv, now, NULL);
    }
    if (e != PB_OK)
        return e;
    pb_brand demo;
    bool have_demo = pb_tenancy_brand_by_code(c, "demo", &demo) == PB_OK;
    for (int k = PB_GAME_NONE + 1; k < PB_GAME_COUNT_; k++) {
        const pb_game_info *gi = pb_game_info_of((pb_game_kind)k);
        pb_game g;
        if (!gi || pb_catalog_game_get(c, PB_PLAY_PROVIDER, gi->name, &g) == PB_OK)
            continue;
        memset(&g, 0, sizeof g);
        snprintf(g.provider_code, sizeof g.provider_code, PB_PLAY_PROVIDER);
        snprintf(g.code, sizeof g.code, "%s", gi->name);
        snprintf(g.name, sizeof g.name, "%c%s", gi->name[0] - 'a' + 'A', gi->name + 1);
        snprintf(g.category, sizeof g.category, "%s", category_of((pb_game_kind)k));
        g.rtp_bp = (int32_t)gi->default_rtp_bp;
        snprintf(g.volatility, sizeof g.volatility,
                 k == PB_GAME_CRASH || k == PB_GAME_LIMBO || k == PB_GAME_MINES ? "high"
                                                                                : "medium");
        snprintf(g.status, sizeof g.status, "active");
        default_limits(&g);
        if ((e = pb_catalog_game_create(c, &g, now, NULL)) != PB_OK)
            return e;
        if (have_demo && (e = pb_catalog_game_set_brand(c, g.id, demo.id, true, now)) != PB_OK)
            return e;
    }
    return PB_OK;
}

/* Registers the originals in the catalog (seed_catalog) in a write transaction.
 * only_if_known: only when the catalog has them already (games added since are
 * created); 1 when it did nothing for that reason. */
int play_catalog_ensure(pb_store *s, bool only_if_known, char *err, size_t errcap)
{
    pb_store_conn *c = pb_store_connect(s, err, errcap);
    if (!c)
        return -1;
    pb_provider pv;
    pb_err e = PB_ERR_STORE_UNAVAILABLE;
    if (only_if_known && pb_catalog_provider_get(c, PB_PLAY_PROVIDER, &pv) != PB_OK) {
        pb_store_disconnect(c);
        return 1; /* a catalog without the originals yet: registered on first use */
    }
    for (int attempt = 0; attempt < 5 && e == PB_ERR_STORE_UNAVAILABLE; attempt++) {
        if (pb_store_begin(c, PB_STORE_WRITE) != PB_STORE_OK)
            continue;
        e = seed_catalog(c);
        if (e == PB_OK && pb_store_commit(c) != PB_STORE_OK)
            e = PB_ERR_STORE_UNAVAILABLE;
        if (e != PB_OK)
            pb_store_rollback(c);
    }
    if (e != PB_OK)
        snprintf(err, errcap, "games: cannot register the in-house games: %s", pb_err_code(e));
    pb_store_disconnect(c);
    return e == PB_OK ? 0 : -1;
}

pb_err pb_play_catalog_ensure(pb_play *p)
{
    if (atomic_load(&p->seeded))
        return PB_OK;
    char err[256];
    if (play_catalog_ensure(p->store, false, err, sizeof err) != 0) {
        pb_log(PB_LOG_ERROR, "games.catalog", "%s", err);
        return PB_ERR_STORE_UNAVAILABLE;
    }
    atomic_store(&p->seeded, true);
    return PB_OK;
}
