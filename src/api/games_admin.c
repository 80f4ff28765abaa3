/*
 * games_admin.c — game control of the in-house games for staff (brand-scoped):
 *
 *   GET /v1/admin/brands/{brand}/originals              games.read    each game: RTP in force,
 *                                                                     allowed range, default
 *   PUT /v1/admin/brands/{brand}/originals/{game}/rtp   games.manage  {rtp_bp, reason?}: audited
 *                                                                     (before/after) in the same
 *                                                                     transaction
 *   GET /v1/admin/brands/{brand}/originals/control      games.read    per game and currency:
 *                                                                     target RTP, actual RTP,
 *                                                                     deviation, rounds,
 *                                                                     turnover, GGR (?from, ?to)
 *
 *   POST /v1/admin/players/{id}/rounds/{round}/void     players.write {reason}: ends an
 *                                                                     in-house round of the
 *                                                                     player still in play (the
 *                                                                     stake back, audited
 *                                                                     game_round.voided)
 *   POST /v1/admin/players/{id}/rounds/{round}/settle   players.write {reason}: a round stuck
 *                                                                     settling: its payout
 *                                                                     retried now (audited
 *                                                                     game_round.settle_retried)
 *
 * games.manage is held by admin and game_ops (src/identity/rbac.c). A brand
 * outside the caller's scope answers 403 BRAND_FORBIDDEN naming the field
 * "brand", like a missing one (pb_admin_brand_in_scope); a player outside it
 * PLAYER_NOT_FOUND.
 *
 * Void by staff: a round "active" (a mines game left open: it holds the
 * player's erasure with PLAYER_HAS_OPEN_BETS until its 24 h cash-out; a crash
 * bet in a round gone wrong) is void: its stake goes back through the wallet
 * exactly as every void's (pb_play_round_void: the same driver as a crash
 * void's and the retry pass's). players.write (admin, support): the roles that
 * see the player's rounds (players.read) and act for the player; a void gives
 * back exactly the player's own stake, no amount chosen by staff, so it is not
 * finance.adjust's discretionary movement, and games.manage (game_ops) cannot
 * even read players. Refused: a round settled or void
 * (409 ROUND_CLOSED), pending or settling (409 ROUND_STATE: its own driver
 * ends it, and a settling round's win is owed — unless the wallet refused that
 * win for good: then the void is its remedy, src/games/play_staff.c). 200 with
 * the round; its state
 * is "void", or "voiding" when the wallet could not be reached (the retry pass
 * gives the stake back).
 *
 * Settle by staff: the retry the sweeper makes, now, with the wallet's answer:
 * 200 settled, 409 WIN_REFUSED (the wallet's refusal named; final: void it),
 * 503 STORE_UNAVAILABLE (still failing; the sweeper goes on). Same permission
 * as the void. Each try is audited right after it in a transaction of its own
 * (the payout is the wallet's keyed operation, committed by the ledger writer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/api.h"
#include "api/games_json.h"
#include "core/money.h"
#include "core/time.h"
#include "events/events.h"
#include "games/play.h"

#define CONTROL_MAX 256

/* The brand by code within the caller's scope (the originals registered in
 * the catalog first). */
static pb_err brand_in_scope(pb_play *play, pb_store_conn *c, const pb_principal *p,
                             const char *code, pb_brand *b)
{
    pb_err e = play ? pb_play_catalog_ensure(play) : PB_ERR_INTERNAL;
    if (e == PB_OK) /* unknown and foreign: BRAND_FORBIDDEN alike */
        e = pb_admin_brand_in_scope(c, p, code, b);
    return e;
}

/* @backoffice: a minor-unit amount as a decimal string in the currency. */
static json_t *actual_money(int64_t minor, const char *currency)
{
    char buf[PB_MONEY_STR_MAX];
    const pb_currency *cur = pb_currency_find(currency);
    if (!cur || pb_money_format(minor, cur, buf, sizeof buf) < 0)
        return NULL;
    return json_string(buf);
}

/* @backoffice: the brand's settled rounds per game and currency (one read for
 * the whole list). */
typedef struct actual_rows {
    pb_store_bo_rtp r[256];
    size_t n;
} actual_rows;

/* @backoffice: the RTP actually paid over the settled rounds, per currency:
 * paid / wagered as a percentage with 2 decimals, truncated, computed in
 * integers; null when nothing was wagered. */
static json_t *actual_json(const actual_rows *rows_in, const pb_game_info *gi, pb_err *e)
{
    const pb_store_bo_rtp *rows = rows_in->r;
    json_t *a = json_array();
    for (size_t i = 0; a && i < rows_in->n; i++) {
        if (strcmp(rows[i].game, gi->name) != 0)
            continue;
        json_t *rtp = json_null();
        if (rows[i].wagered > 0) {
            __int128 bp = (__int128)rows[i].paid * 10000 / rows[i].wagered; /* 9612 = 96.12 % */
            char buf[48];
            snprintf(buf, sizeof buf, "%lld.%02lld", (long long)(bp / 100), (long long)(bp % 100));
            rtp = json_string(buf);
        }
        if (json_array_append_new(a,
                                  json_pack("{s:s,s:I,s:o,s:o,s:o}", "currency", rows[i].currency,
                                            "rounds", (json_int_t)rows[i].rounds, "wagered",
                                            actual_money(rows[i].wagered, rows[i].currency), "paid",
                                            actual_money(rows[i].paid, rows[i].currency), "rtp",
                                            rtp)) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    if (!a)
        *e = PB_ERR_INTERNAL;
    return a;
}

static json_t *setting_json(pb_store_conn *c, int64_t brand_id, const pb_game_info *gi,
                            const actual_rows *actual_rows_in, pb_err *e)
{
    uint32_t rtp = 0;
    bool configured = false;
    *e = pb_play_rtp_get(c, brand_id, gi->kind, &rtp, &configured);
    if (*e != PB_OK)
        return NULL;
    json_t *actual = actual_json(actual_rows_in, gi, e); /* @backoffice */
    if (*e != PB_OK)
        return NULL;
    return json_pack("{s:s,s:i,s:b,s:i,s:i,s:i,s:o}", "game", gi->name, "rtp_bp", (int)rtp,
                     "configured", configured, "min_rtp_bp", (int)gi->min_rtp_bp, "max_rtp_bp",
                     (int)gi->max_rtp_bp, "default_rtp_bp", (int)gi->default_rtp_bp, "actual",
                     actual);
}

void pb_api_admin_originals_list(pb_http_request *req, void *app)
{
    pb_play *play = ((pb_api_app *)app)->play;
    pb_store_conn *c = pb_http_conn(req);
    if (!c) {
        pb_http_reply_error(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    pb_brand b;
    pb_err e = brand_in_scope(play, c, pb_api_principal(req), pb_http_param(req, "brand"), &b);
    actual_rows *actual = e == PB_OK ? calloc(1, sizeof *actual) : NULL; /* @backoffice */
    if (e == PB_OK &&
        (!actual || pb_store_bo_rtp_actual(c, b.id, actual->r, 256, &actual->n) != PB_STORE_OK))
        e = PB_ERR_INTERNAL;
    json_t *games = e == PB_OK ? json_array() : NULL;
    for (int k = PB_GAME_NONE + 1; e == PB_OK && k < PB_GAME_COUNT_; k++) {
        const pb_game_info *gi = pb_game_info_of((pb_game_kind)k);
        if (gi && json_array_append_new(games, setting_json(c, b.id, gi, actual, &e)) != 0 &&
            e == PB_OK)
            e = PB_ERR_INTERNAL;
    }
    free(actual);
    if (e != PB_OK) {
        json_decref(games);
        pb_admin_fail(req, e, e == PB_ERR_BRAND_FORBIDDEN ? "brand" : NULL);
        return;
    }
    pb_api_games_reply(req, 200, json_pack("{s:s,s:o}", "brand", b.code, "games", games));
}

/* ---- setting an RTP ---- */

typedef struct rtp_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const char *brand;
    pb_game_kind kind;
    uint32_t rtp_bp, before;
    const char *reason;
    pb_brand b;
    pb_play *play;
} rtp_ctx;

static pb_err rtp_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    rtp_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    pb_err e = brand_in_scope(x->play, c, x->p, x->brand, &x->b);
    if (e == PB_ERR_BRAND_FORBIDDEN)
        *bad = "brand";
    if (e != PB_OK)
        return e;
    char by[64];
    snprintf(by, sizeof by, "staff:%s", x->p->subject_public_id);
    e = pb_play_rtp_set(c, x->b.id, x->kind, x->rtp_bp, by, now, &x->before);
    if (e == PB_ERR_FIELD_INVALID)
        *bad = "rtp_bp";
    if (e != PB_OK)
        return e;
    char before[40], after[40];
    snprintf(before, sizeof before, "{\"rtp_bp\":%u}", x->before);
    snprintf(after, sizeof after, "{\"rtp_bp\":%u}", x->rtp_bp);
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "game.rtp_set", &en);
    en.brand = x->b.code;
    en.target_kind = "game";
    en.target_id = pb_game_name(x->kind);
    en.before = before;
    en.after = after;
    en.reason = x->reason;
    /* @events: in the same transaction as the change */
    if ((e = pb_events_emit(c, "rtp.changed", x->b.code, x->p->subject_public_id,
                            pb_http_trace_id(x->req), now, PB_EV_STR("game", en.target_id),
                            PB_EV_INT("rtp_bp_before", x->before),
                            PB_EV_INT("rtp_bp", x->rtp_bp))) != PB_OK)
        return e;
    return pb_audit_append(c, &en, now);
}

void pb_api_admin_originals_rtp_set(pb_http_request *req, void *app)
{
    pb_play *play = ((pb_api_app *)app)->play;
    int64_t rtp = 0;
    const char *reason = NULL;
    pb_json_field f[] = {
        {.name = "rtp_bp",
         .type = PB_JSON_INT,
         .required = true,
         .min = 1,
         .max = 10000,
         .i64 = &rtp},
        {.name = "reason",
         .type = PB_JSON_STRING,
         .nullable = true,
         .min_len = 1,
         .max_len = 1000,
         .str = &reason},
    };
    if (!pb_http_parse_json(req, f, 2))
        return;
    const char *game = pb_http_param(req, "game");
    pb_game_kind kind = pb_game_parse(game ? game : "");
    if (kind == PB_GAME_NONE) {
        pb_http_reply_error(req, PB_ERR_GAME_NOT_FOUND, NULL);
        return;
    }
    const pb_game_info *gi = pb_game_info_of(kind);
    if (!pb_game_rtp_allowed(kind, (uint32_t)rtp)) {
        char msg[128];
        snprintf(msg, sizeof msg, "rtp_bp: %s allows %u..%u", gi->name, gi->min_rtp_bp,
                 gi->max_rtp_bp);
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "rtp_bp", msg);
        return;
    }
    rtp_ctx x = {.req = req,
                 .p = pb_api_principal(req),
                 .brand = pb_http_param(req, "brand"),
                 .kind = kind,
                 .rtp_bp = (uint32_t)rtp,
                 .reason = reason,
                 .play = play};
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, rtp_tx, &x, &bad);
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    pb_api_games_reply(req, 200,
                       json_pack("{s:s,s:s,s:i,s:i}", "brand", x.b.code, "game", gi->name, "rtp_bp",
                                 (int)x.rtp_bp, "previous_rtp_bp", (int)x.before));
}

/* ---- control ---- */

void pb_api_admin_originals_control(pb_http_request *req, void *app)
{
    pb_play *play = ((pb_api_app *)app)->play;
    int64_t from = 0, to = 0;
    if (!pb_admin_query_time(req, "from", &from) || !pb_admin_query_time(req, "to", &to) ||
        !pb_admin_query_range(req, from, to, "to"))
        return;
    pb_store_conn *c = pb_http_conn(req);
    if (!c) {
        pb_http_reply_error(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    pb_brand b;
    pb_err e = brand_in_scope(play, c, pb_api_principal(req), pb_http_param(req, "brand"), &b);
    pb_play_control_line *lines = pb_http_alloc(req, CONTROL_MAX * sizeof *lines);
    size_t n = 0;
    if (e == PB_OK)
        e = lines ? pb_play_control(c, b.id, from, to, lines, CONTROL_MAX, &n) : PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_admin_fail(req, e, e == PB_ERR_BRAND_FORBIDDEN ? "brand" : NULL);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++) {
        const pb_play_control_line *l = &lines[i];
        json_t *j = json_pack("{s:s,s:s,s:I,s:o,s:o,s:o,s:i,s:f,s:f,s:f}", "game", l->t.game,
                              "currency", l->t.currency, "rounds", (json_int_t)l->t.rounds,
                              "turnover", pb_api_games_money(l->t.turnover, l->t.currency),
                              "payout", pb_api_games_money(l->t.payout, l->t.currency), "ggr",
                              pb_api_games_money(l->ggr, l->t.currency), "target_rtp_bp",
                              (int)l->target_rtp_bp, "expected_rtp", l->expected_rtp, "actual_rtp",
                              l->actual_rtp, "deviation", l->deviation);
        if (!j || json_array_append_new(items, j) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    if (!items) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_api_games_reply(req, 200,
                       json_pack("{s:s,s:o,s:o,s:o}", "brand", b.code, "from",
                                 pb_admin_time_json(from), "to", pb_admin_time_json(to), "games",
                                 items));
}

/* ---- a round void by staff ---- */

/* What a staff action on a player's round (void, settle) begins with: the
 * {reason} (audited as action), the store and the play handle, the player
 * {id} within the caller's scope. NULL: refused, the answer sent. */
static pb_store_conn *round_action_begin(pb_http_request *req, void *app, const char *action,
                                         const char **reason, pb_player *pl, pb_play **playp)
{
    pb_play *play = *playp = ((pb_api_app *)app)->play;
    const pb_principal *p = pb_api_principal(req);
    if (!pb_admin_parse_reason(req, p, action, 1000, reason))
        return NULL;
    pb_store_conn *c = pb_http_conn(req);
    if (!c || !play) {
        pb_http_reply_error(req, c ? PB_ERR_INTERNAL : PB_ERR_STORE_UNAVAILABLE, NULL);
        return NULL;
    }
    pb_err e = pb_identity_player_get(c, &p->scope, pb_http_param(req, "id"), pl);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return NULL;
    }
    return c;
}

void pb_api_admin_player_round_void(pb_http_request *req, void *app)
{
    const char *reason = NULL;
    pb_player pl;
    pb_play *play = NULL;
    pb_store_conn *c = round_action_begin(req, app, PB_PLAY_AUDIT_VOID, &reason, &pl, &play);
    if (!c)
        return;
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_audit_entry who;
    pb_admin_entry(req, pb_api_principal(req), PB_PLAY_AUDIT_VOID, &who);
    who.reason = reason;
    pb_err e = pb_play_round_void(play, c, pl.public_id, pb_http_param(req, "round"), &who, &r);
    if (e != PB_OK) {
        pb_store_game_round_clear(&r);
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_api_games_reply(req, 200, pb_api_games_round_json(c, &r));
    pb_store_game_round_clear(&r);
}

/* ---- a stuck payout retried by staff ---- */

typedef struct settle_audit {
    pb_http_request *req;
    const pb_principal *p;
    const char *reason;
    const pb_store_game_round *r;
    const char *was;
    const char *wallet; /* "OK", the wallet's refusal, or the failure */
} settle_audit;

/* The attempt on the audit log, in a transaction of its own right after it
 * (the payout is the wallet's own keyed operation, committed by the ledger
 * writer: src/api/admin.h, "Operations whose domain call runs its own
 * transactions"). */
static pb_err settle_audit_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    settle_audit *x = ctx;
    char wtx[PB_ID_STR_LEN + 8];
    snprintf(wtx, sizeof wtx, "%s:win", x->r->id);
    json_t *after = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "state", x->r->state, "game",
                              x->r->game, "player", x->r->player, "wallet_win", wtx, "payout",
                              (json_int_t)x->r->payout, "currency", x->r->currency, "wallet_result",
                              x->wallet);
    char *after_text = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(after);
    char before[64];
    snprintf(before, sizeof before, "{\"state\":\"%s\"}", x->was);
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, PB_PLAY_AUDIT_SETTLE, &en);
    en.brand = x->r->brand;
    en.target_kind = "game_round";
    en.target_id = x->r->id;
    en.before = before;
    en.after = after_text;
    en.reason = x->reason;
    pb_err e = after_text ? pb_audit_append(c, &en, pb_time_now_us()) : PB_ERR_INTERNAL;
    free(after_text);
    return e;
}

void pb_api_admin_player_round_settle(pb_http_request *req, void *app)
{
    const char *reason = NULL;
    pb_player pl;
    pb_play *play = NULL;
    pb_store_conn *c = round_action_begin(req, app, PB_PLAY_AUDIT_SETTLE, &reason, &pl, &play);
    if (!c)
        return;
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_err refused = PB_OK;
    pb_err e = pb_play_round_settle(play, c, pl.public_id, pb_http_param(req, "round"),
                                    pb_http_trace_id(req), &r, &refused);
    /* refused before anything was tried (not found, not settling): nothing
     * written; a try is audited whatever the wallet answered */
    bool tried = e == PB_OK || e == PB_ERR_WIN_REFUSED || e == PB_ERR_STORE_UNAVAILABLE;
    if (tried && r.id[0]) {
        settle_audit x = {.req = req,
                          .p = pb_api_principal(req),
                          .reason = reason,
                          .r = &r,
                          .was = "settling",
                          .wallet = e == PB_OK         ? "OK"
                                    : refused != PB_OK ? pb_err_code(refused)
                                                       : pb_err_code(e)};
        const char *bad = NULL;
        pb_err a = pb_admin_write(req, settle_audit_tx, &x, &bad);
        if (a != PB_OK && e == PB_OK)
            e = a; /* paid, but its record failed: say so (a retry is a duplicate) */
    }
    if (e == PB_ERR_WIN_REFUSED) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "the wallet refuses the win for good (%s): no retry can pay it; void the round "
                 "(POST …/rounds/{round}/void) to give its stake back",
                 pb_err_code(refused));
        pb_store_game_round_clear(&r);
        pb_http_reply_error_msg(req, e, NULL, msg);
        return;
    }
    if (e != PB_OK) {
        pb_store_game_round_clear(&r);
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_api_games_reply(req, 200, pb_api_games_round_json(c, &r));
    pb_store_game_round_clear(&r);
}
