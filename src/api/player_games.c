/*
 * player_games.c — the lobby and game launches for players.
 *
 *   GET  /v1/player/games                             player  the games the player can play
 *   POST /v1/player/games/{provider}/{game}/launch    player  a launch token → 201
 *
 * The lobby lists what pb_catalog_lobby finds for the player's brand and
 * currency (playable on the brand, not blocked in its jurisdiction, with limits
 * in the currency), each game with its limits for that currency only.
 *
 * A launch asks the player gate first (pb_wallet_gate, action BET: a blocked or
 * self-excluded player cannot start a game), then the catalog issues the token
 * (pb_catalog_launch_for_player) in one write transaction. The token is in the
 * 201 body only (Cache-Control: no-store); the request log has no bodies. Its
 * lifetime is the server's PITBOSS_LAUNCH_TTL (app->launch_ttl_s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/catalog_json.h"
#include "core/time.h"
#include "wallet/wallet.h"

#define PAGE_DEFAULT 50
/* How long after expiry a launch is still found by wins and rollbacks (30 days). */
#define LAUNCH_RETENTION_US (30LL * 24 * 3600 * 1000000)
#define PAGE_MAX 100

/* RFC 3339 text of a µs timestamp, or null. */
static json_t *time_json(int64_t us)
{
    char buf[PB_TIME_STR_MAX];
    return pb_time_format(us, buf, sizeof buf) > 0 ? json_string(buf) : json_null();
}

void pb_api_player_games(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    int64_t cursor = 0, limit = PAGE_DEFAULT;
    const char *category = NULL;
    if (!pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor) ||
        !pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit) ||
        !pb_admin_query_str(req, "category", PB_GAME_CATEGORY_MAX, &category))
        return;
    if (category && !pb_catalog_category_valid(category)) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "category",
                                "category: slots, live, table, crash, instant or other");
        return;
    }
    pb_store_conn *c = pb_http_conn(req);
    size_t want = (size_t)limit + 1, n = 0;
    pb_game *rows = calloc(want, sizeof *rows);
    pb_player *pl = malloc(sizeof *pl);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !rows || !pl ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK)
        e = pb_identity_player_get(c, NULL, p->subject_public_id, pl);
    if (e == PB_OK)
        e = pb_catalog_lobby(c, p->brand_code, pl->currency, category, cursor, rows, want, &n);
    int64_t next = 0;
    if (e == PB_OK && n > (size_t)limit) {
        n = (size_t)limit;
        next = rows[n - 1].id;
    }
    json_t *list = e == PB_OK ? json_array() : NULL;
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, pb_api_lobby_game_json(&rows[i], pl->currency)) != 0) {
            json_decref(list);
            list = NULL;
        }
    json_t *body = list ? json_pack("{s:s,s:o,s:o}", "currency", pl->currency, "games", list,
                                    "next_cursor", pb_admin_cursor_json(next))
                        : NULL;
    free(rows);
    free(pl);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200, body);
}

typedef struct launch_ctx {
    const pb_principal *p;
    const char *provider, *game;
    int64_t ttl_s;
    pb_launch *out;
} launch_ctx;

static pb_err launch_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    launch_ctx *x = ctx;
    pb_err e = pb_wallet_gate(c, x->p->subject_public_id, PB_WALLET_ACTION_BET);
    pb_player *pl = e == PB_OK ? malloc(sizeof *pl) : NULL;
    if (e == PB_OK)
        e = pl ? pb_identity_player_get(c, NULL, x->p->subject_public_id, pl) : PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = pb_catalog_launch_for_player(c, x->provider, x->game, x->p->brand_code,
                                         x->p->subject_public_id, pl->currency, x->ttl_s,
                                         pb_time_now_us(), x->out);
    /* launches are kept for as long as wins and rollbacks may still name them;
     * each new launch clears what has been expired for longer than that */
    if (e == PB_OK)
        e = pb_catalog_launch_prune(c, pb_time_now_us() - LAUNCH_RETENTION_US, NULL);
    free(pl);
    return e;
}

void pb_api_player_game_launch(pb_http_request *req, void *app)
{
    const pb_api_app *a = app;
    if (!pb_admin_parse_empty(req))
        return;
    launch_ctx x = {.p = pb_api_principal(req),
                    .provider = pb_http_param(req, "provider"),
                    .game = pb_http_param(req, "game"),
                    .ttl_s = a->launch_ttl_s,
                    .out = pb_http_alloc(req, sizeof(pb_launch))};
    if (!x.provider || !x.game) {
        pb_http_reply_error(req, PB_ERR_GAME_NOT_FOUND, NULL);
        return;
    }
    pb_err e = x.out ? pb_admin_write(req, launch_tx, &x, NULL) : PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    json_t *body = json_pack("{s:s,s:o,s:s,s:s,s:s}", "token", x.out->token, "expires_at",
                             time_json(x.out->expires_at), "provider", x.out->provider_code, "game",
                             x.out->game_code, "currency", x.out->currency);
    memset(x.out->token, 0, sizeof x.out->token);
    pb_http_add_header(req, "Cache-Control", "no-store");
    pb_http_reply_json(req, 201, body);
}
