/*
 * admin_catalog_games.c — the games of the catalog and the per-brand switch in
 * the back office (the providers: admin_catalog.c, whose header gives the routes,
 * the scope rules and the in-house provider's):
 *
 *   GET   /v1/admin/games                              games.read    games (filters, cursor pages)
 *   POST  /v1/admin/providers/{code}/games             games.manage  create a game
 *   GET   /v1/admin/providers/{code}/games/{game}      games.read    one game
 *   PATCH /v1/admin/providers/{code}/games/{game}      games.manage  change a game
 *   PUT   /v1/admin/brands/{brand}/games/{provider}/{game}  games.manage  switch a game on or
 *                                                                         off for a brand
 *
 * Every change is audited with the before and after views in the same write
 * transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/catalog_json.h"
#include "core/money.h"
#include "core/time.h"
#include "games/play.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 100

/* ---- games ---------------------------------------------------------------- */

/* The brand named by code, if in the caller's scope (BRAND_FORBIDDEN otherwise,
 * unknown or foreign alike: pb_admin_brand_in_scope). */
static pb_err brand_in_scope(pb_store_conn *c, const pb_principal *p, const char *code, pb_brand *b)
{
    return pb_admin_brand_in_scope(c, p, code, b);
}

/* The domain's name of a game field → the API's. */
static const char *game_field(const char *bad)
{
    return bad && strcmp(bad, "blocked") == 0 ? "blocked_jurisdictions" : bad;
}

void pb_api_admin_games_list(pb_http_request *req, void *app)
{
    (void)app;
    int64_t cursor = 0, limit = PAGE_DEFAULT;
    pb_catalog_game_filter flt = {0};
    if (!pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor) ||
        !pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit) ||
        !pb_admin_query_str(req, "provider", PB_PROVIDER_CODE_MAX, &flt.provider_code) ||
        !pb_admin_query_str(req, "category", PB_GAME_CATEGORY_MAX, &flt.category) ||
        !pb_admin_query_str(req, "status", 15, &flt.status) ||
        !pb_admin_query_str(req, "brand", PB_BRAND_CODE_MAX, &flt.brand_code))
        return;
    pb_store_conn *c = pb_http_conn(req);
    size_t want = (size_t)limit + 1, n = 0;
    pb_game *rows = calloc(want, sizeof *rows);
    pb_brand *b = malloc(sizeof *b);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !rows || !b ? PB_ERR_INTERNAL : PB_OK;
    const char *bad = NULL;
    if (e == PB_OK && flt.brand_code) {
        e = brand_in_scope(c, pb_api_principal(req), flt.brand_code, b);
        bad = "brand";
    }
    if (e == PB_OK)
        e = pb_catalog_game_list(c, &flt, cursor, rows, want, &n, &bad);
    free(b);
    int64_t next = 0;
    if (e == PB_OK && n > (size_t)limit) {
        n = (size_t)limit;
        next = rows[n - 1].id;
    }
    json_t *list = e == PB_OK ? json_array() : NULL;
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, pb_api_game_json(&rows[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    free(rows);
    if (e != PB_OK) {
        /* a filter naming nothing: the query parameter is at fault */
        if (e == PB_ERR_PROVIDER_NOT_FOUND || e == PB_ERR_BRAND_NOT_FOUND)
            pb_http_reply_error(req, e, bad);
        else
            pb_admin_fail(req, e, bad);
        return;
    }
    pb_http_reply_json(req, 200,
                       list ? json_pack("{s:o,s:o}", "games", list, "next_cursor",
                                        pb_admin_cursor_json(next))
                            : NULL);
}

void pb_api_admin_game_get(pb_http_request *req, void *app)
{
    (void)app;
    pb_store_conn *c = pb_http_conn(req);
    pb_game *g = malloc(sizeof *g);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !g ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK)
        e = pb_catalog_game_get(c, pb_http_param(req, "code"), pb_http_param(req, "game"), g);
    json_t *body = e == PB_OK ? json_pack("{s:o}", "game", pb_api_game_json(g)) : NULL;
    free(g);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200, body);
}

/* The request's fields of a game. */
typedef struct game_body {
    const char *code, *name, *category, *volatility, *status;
    int64_t rtp_bp;
    bool has_rtp;
    json_t *limits, *blocked;
} game_body;

/* Reads the limits and blocked_jurisdictions arrays into g (replacing what it
 * had); replies and returns false on a malformed item. */
static bool game_lists(pb_http_request *req, const game_body *b, pb_game *g)
{
    if (b->limits) {
        g->nlimits = 0;
        for (size_t i = 0; i < json_array_size(b->limits); i++) {
            const char *cur = NULL, *min = NULL, *max = NULL;
            int64_t min_v = 0, max_v = 0;
            pb_json_field f[] = {
                {.name = "currency", .type = PB_JSON_CURRENCY, .required = true, .str = &cur},
                {.name = "min_bet",
                 .type = PB_JSON_MONEY,
                 .required = true,
                 .currency = "currency",
                 .i64 = &min_v,
                 .str = &min},
                {.name = "max_bet",
                 .type = PB_JSON_MONEY,
                 .nullable = true,
                 .currency = "currency",
                 .i64 = &max_v,
                 .str = &max},
            };
            pb_json_error err;
            json_t *item = json_array_get(b->limits, i);
            if (!json_is_object(item) ||
                pb_json_check(item, f, sizeof f / sizeof f[0], &err) != PB_OK) {
                pb_http_reply_error_msg(req, json_is_object(item) ? err.code : PB_ERR_FIELD_INVALID,
                                        "limits",
                                        json_is_object(item)
                                            ? err.message
                                            : "limits: objects {currency, min_bet, max_bet}");
                return false;
            }
            /* a maximum of zero is no amount a bet could meet, not "no maximum"
             * (null or absent says that; 0 is only the domain's word for it) */
            if (max && max_v <= 0) {
                pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "limits",
                                        "max_bet: at least min_bet; null or absent for no maximum");
                return false;
            }
            snprintf(g->limits[i].currency, sizeof g->limits[i].currency, "%s", cur);
            g->limits[i].min_bet = min_v;
            g->limits[i].max_bet = max ? max_v : 0;
            g->nlimits++;
        }
    }
    if (b->blocked) {
        g->nblocked = 0;
        for (size_t i = 0; i < json_array_size(b->blocked); i++) {
            json_t *v = json_array_get(b->blocked, i);
            if (!json_is_string(v) || json_string_length(v) >= sizeof g->blocked[0]) {
                pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "blocked_jurisdictions",
                                        "blocked_jurisdictions: codes such as \"US\" or \"CA-ON\"");
                return false;
            }
            snprintf(g->blocked[i], sizeof g->blocked[i], "%s", json_string_value(v));
            g->nblocked++;
        }
    }
    return true;
}

/* The field spec of a game body; create requires code, name, category, rtp_bp,
 * volatility. n receives the count. */
static void game_spec(game_body *b, bool create, pb_json_field *f, size_t *n)
{
    size_t i = 0;
    if (create)
        f[i++] = (pb_json_field){.name = "code",
                                 .type = PB_JSON_STRING,
                                 .required = true,
                                 .min_len = 1,
                                 .max_len = PB_GAME_CODE_MAX,
                                 .str = &b->code};
    f[i++] = (pb_json_field){.name = "name",
                             .type = PB_JSON_STRING,
                             .required = create,
                             .min_len = 1,
                             .max_len = PB_GAME_NAME_MAX,
                             .str = &b->name};
    f[i++] = (pb_json_field){.name = "category",
                             .type = PB_JSON_STRING,
                             .required = create,
                             .min_len = 1,
                             .max_len = PB_GAME_CATEGORY_MAX,
                             .str = &b->category};
    f[i++] = (pb_json_field){.name = "rtp_bp",
                             .type = PB_JSON_INT,
                             .required = create,
                             .min = 5000,
                             .max = 10000,
                             .i64 = &b->rtp_bp,
                             .present = &b->has_rtp};
    f[i++] = (pb_json_field){.name = "volatility",
                             .type = PB_JSON_STRING,
                             .required = create,
                             .min_len = 1,
                             .max_len = 7,
                             .str = &b->volatility};
    f[i++] = (pb_json_field){
        .name = "status", .type = PB_JSON_STRING, .min_len = 1, .max_len = 15, .str = &b->status};
    f[i++] = (pb_json_field){
        .name = "limits", .type = PB_JSON_ARRAY, .max_len = PB_GAME_LIMITS_MAX, .json = &b->limits};
    f[i++] = (pb_json_field){.name = "blocked_jurisdictions",
                             .type = PB_JSON_ARRAY,
                             .max_len = PB_GAME_BLOCKED_MAX,
                             .json = &b->blocked};
    *n = i;
}

/* Applies the scalar fields present in b to g. */
static void game_apply(const game_body *b, pb_game *g)
{
    if (b->name)
        snprintf(g->name, sizeof g->name, "%s", b->name);
    if (b->category)
        snprintf(g->category, sizeof g->category, "%s", b->category);
    if (b->has_rtp)
        g->rtp_bp = (int32_t)b->rtp_bp;
    if (b->volatility)
        snprintf(g->volatility, sizeof g->volatility, "%s", b->volatility);
    if (b->status)
        snprintf(g->status, sizeof g->status, "%s", b->status);
}

typedef struct game_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const game_body *gb;
    const char *provider, *game;
    pb_game *input; /* create: the game as requested */
    pb_game *before, *after;
} game_ctx;

static pb_err game_audit(pb_store_conn *c, game_ctx *x, const char *action, int64_t now)
{
    char target[PB_PROVIDER_CODE_MAX + PB_GAME_CODE_MAX + 2];
    snprintf(target, sizeof target, "%s/%s", x->after->provider_code, x->after->code);
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, action, &en);
    en.target_kind = "game";
    en.target_id = target;
    en.before = x->before ? pb_admin_json_text(x->req, pb_api_game_json(x->before)) : NULL;
    en.after = pb_admin_json_text(x->req, pb_api_game_json(x->after));
    if ((x->before && !en.before) || !en.after)
        return PB_ERR_INTERNAL;
    return pb_audit_append(c, &en, now);
}

static pb_err game_create_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    game_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    *x->after = *x->input;
    pb_err e = pb_catalog_game_create(c, x->after, now, bad);
    *bad = game_field(*bad);
    return e == PB_OK ? game_audit(c, x, "game.create", now) : e;
}

void pb_api_admin_game_create(pb_http_request *req, void *app)
{
    (void)app;
    game_body b = {0};
    pb_json_field f[10];
    size_t nf = 0;
    game_spec(&b, true, f, &nf);
    if (!pb_http_parse_json(req, f, nf))
        return;
    game_ctx x = {.req = req,
                  .p = pb_api_principal(req),
                  .gb = &b,
                  .input = pb_http_alloc(req, sizeof(pb_game)),
                  .after = pb_http_alloc(req, sizeof(pb_game))};
    if (!x.input || !x.after) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_game *g = x.input;
    const char *provider = pb_http_param(req, "code");
    if (pb_play_provider_is_house(provider)) { /* no engine, or one a later version adds */
        pb_http_reply_error_msg(req, PB_ERR_PROVIDER_IN_HOUSE, NULL,
                                PB_PLAY_PROVIDER
                                " is the in-house games' provider: its games "
                                "are registered by the server (their limits and switches "
                                "change as any game's)");
        return;
    }
    snprintf(g->provider_code, sizeof g->provider_code, "%s", provider ? provider : "");
    snprintf(g->code, sizeof g->code, "%s", b.code);
    game_apply(&b, g);
    if (!game_lists(req, &b, g))
        return;
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, game_create_tx, &x, &bad);
    if (e != PB_OK) {
        /* the provider in the path is a resource, not a field of the body */
        pb_admin_fail(req, e, e == PB_ERR_PROVIDER_NOT_FOUND ? NULL : bad);
        return;
    }
    char location[96 + PB_PROVIDER_CODE_MAX + PB_GAME_CODE_MAX];
    snprintf(location, sizeof location, "/v1/admin/providers/%s/games/%s", x.after->provider_code,
             x.after->code);
    pb_http_add_header(req, "Location", location);
    pb_http_reply_json(req, 201, json_pack("{s:o}", "game", pb_api_game_json(x.after)));
}

static pb_err game_update_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    game_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    pb_err e = pb_catalog_game_get(c, x->provider ? x->provider : "", x->game ? x->game : "",
                                   x->before);
    if (e != PB_OK)
        return e;
    pb_game *g = x->after;
    *g = *x->before;
    game_apply(x->gb, g);
    if (x->gb->limits) {
        memcpy(g->limits, x->input->limits, sizeof g->limits);
        g->nlimits = x->input->nlimits;
    }
    if (x->gb->blocked) {
        memcpy(g->blocked, x->input->blocked, sizeof g->blocked);
        g->nblocked = x->input->nblocked;
    }
    e = pb_catalog_game_update(c, g, now, bad);
    *bad = game_field(*bad);
    if (e == PB_OK)
        e = pb_catalog_game_get(c, g->provider_code, g->code, g);
    return e == PB_OK ? game_audit(c, x, "game.update", now) : e;
}

void pb_api_admin_game_update(pb_http_request *req, void *app)
{
    (void)app;
    game_body b = {0};
    pb_json_field f[10];
    size_t nf = 0;
    game_spec(&b, false, f, &nf);
    if (!pb_http_parse_json(req, f, nf))
        return;
    if (!b.name && !b.category && !b.has_rtp && !b.volatility && !b.status && !b.limits &&
        !b.blocked) {
        pb_http_reply_error_msg(req, PB_ERR_INVALID_REQUEST, NULL, "nothing to change");
        return;
    }
    game_ctx x = {.req = req,
                  .p = pb_api_principal(req),
                  .gb = &b,
                  .provider = pb_http_param(req, "code"),
                  .game = pb_http_param(req, "game"),
                  .input = pb_http_alloc(req, sizeof(pb_game)),
                  .before = pb_http_alloc(req, sizeof(pb_game)),
                  .after = pb_http_alloc(req, sizeof(pb_game))};
    if (!x.input || !x.before || !x.after) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    if (!game_lists(req, &b, x.input))
        return;
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, game_update_tx, &x, &bad);
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    pb_http_reply_json(req, 200, json_pack("{s:o}", "game", pb_api_game_json(x.after)));
}

/* ---- the per-brand switch -------------------------------------------------- */

typedef struct switch_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const char *brand, *provider, *game;
    bool enabled;
    pb_brand *b;
    pb_game *g;
} switch_ctx;

static pb_err switch_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    switch_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    pb_err e = brand_in_scope(c, x->p, x->brand, x->b);
    if (e == PB_ERR_BRAND_FORBIDDEN)
        *bad = "brand";
    if (e == PB_OK)
        e = pb_catalog_game_get(c, x->provider ? x->provider : "", x->game ? x->game : "", x->g);
    bool was = false;
    if (e == PB_OK)
        e = pb_catalog_game_brand_enabled(c, x->g->id, x->b->id, &was);
    if (e == PB_OK)
        e = pb_catalog_game_set_brand(c, x->g->id, x->b->id, x->enabled, now);
    if (e != PB_OK)
        return e;
    char target[PB_PROVIDER_CODE_MAX + PB_GAME_CODE_MAX + 2];
    snprintf(target, sizeof target, "%s/%s", x->g->provider_code, x->g->code);
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, x->enabled ? "game.brand_enable" : "game.brand_disable", &en);
    en.brand = x->b->code;
    en.target_kind = "game";
    en.target_id = target;
    en.before = was ? "{\"enabled\":true}" : "{\"enabled\":false}";
    en.after = x->enabled ? "{\"enabled\":true}" : "{\"enabled\":false}";
    return pb_audit_append(c, &en, now);
}

void pb_api_admin_brand_game_set(pb_http_request *req, void *app)
{
    (void)app;
    bool enabled = false;
    pb_json_field f[] = {
        {.name = "enabled", .type = PB_JSON_BOOL, .required = true, .b = &enabled},
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]))
        return;
    switch_ctx x = {.req = req,
                    .p = pb_api_principal(req),
                    .brand = pb_http_param(req, "brand"),
                    .provider = pb_http_param(req, "provider"),
                    .game = pb_http_param(req, "game"),
                    .enabled = enabled,
                    .b = pb_http_alloc(req, sizeof(pb_brand)),
                    .g = pb_http_alloc(req, sizeof(pb_game))};
    const char *bad = NULL;
    pb_err e = x.b && x.g ? pb_admin_write(req, switch_tx, &x, &bad) : PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:s,s:s,s:s,s:b}", "brand", x.b->code, "provider",
                                 x.g->provider_code, "game", x.g->code, "enabled", enabled));
}
