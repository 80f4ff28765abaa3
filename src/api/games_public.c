/*
 * games_public.c — the public side of the in-house games (no authentication):
 *
 *   POST /v1/fair/verify         the inputs of `pitboss fair verify` as JSON → the same
 *                                outcome JSON, computed by the same code (games.h)
 *   GET  /v1/fair/crash/{brand}  a brand's crash rounds, newest first (?limit, ?cursor):
 *                                chain commitment, salt, position, and once crashed the
 *                                game hash and the point, so anyone can recompute the
 *                                point and link each hash to the chain's commitment
 *
 * A verify with a crash "commitment" walks the chain from the game hash towards it,
 * up to a million SHA-256 steps (about 0.3 s of a CPU): anyone could keep the HTTP
 * workers and both CPUs busy with them, the money path's requests waiting behind.
 * So such a walk is limited per client address (app->rl_chain_walk_ip, auth.c; an
 * IPv6 client by its /64, pb_identity_addr_key) and one
 * runs at a time in the process; others answer 429 RATE_LIMITED with Retry-After.
 * Every other verify is one HMAC or one hash: not limited.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/api.h"
#include "api/games_json.h"
#include "core/time.h"
#include "games/play.h"

#define PAGE_DEFAULT 50

void pb_api_fair_verify(pb_http_request *req, void *app)
{
    size_t len = 0;
    const char *body = pb_http_body(req, &len);
    const char *ct = pb_http_header(req, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) != 0) {
        pb_http_reply_error(req, PB_ERR_UNSUPPORTED_MEDIA_TYPE, NULL);
        return;
    }
    if (!pb_utf8_valid(body, len)) {
        pb_http_reply_error(req, PB_ERR_INVALID_UTF8, NULL);
        return;
    }
    json_error_t je;
    json_t *in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!in) {
        pb_http_reply_error(req, PB_ERR_INVALID_JSON, NULL);
        return;
    }
    pb_api_app *a = app;
    static atomic_bool walking; /* one chain walk at a time in this process */
    bool walk = json_object_get(in, "commitment") != NULL;
    if (walk) {
        int64_t wait_us = 1000000;
        /* keyed as the login lockout and the registration limit key an address
         * (an IPv6 client by its /64: a bucket per address would give a host a
         * fresh allowance from every address of its /64) */
        const char *ip = pb_http_client_ip(req);
        char key[PB_IP_MAX + 1];
        pb_identity_addr_key(ip, key);
        bool allowed = !(ip && *ip &&
                         pb_ratelimit_take(a->rl_chain_walk_ip, key[0] ? key : ip, pb_time_now_us(),
                                           &wait_us) != PB_OK) &&
                       !atomic_exchange(&walking, true);
        if (!allowed) {
            json_decref(in);
            pb_http_add_retry_after(req, wait_us);
            pb_http_reply_error(req, PB_ERR_RATE_LIMITED, NULL);
            return;
        }
    }
    json_t *out = NULL;
    pb_play_error err;
    pb_err e = pb_play_verify(in, &out, &err);
    if (walk)
        atomic_store(&walking, false);
    json_decref(in);
    if (e != PB_OK) {
        if (err.message[0])
            pb_http_reply_error_msg(req, e, err.field[0] ? err.field : NULL, err.message);
        else
            pb_http_reply_error(req, e, err.field[0] ? err.field : NULL);
        return;
    }
    /* printed exactly as `pitboss fair verify` prints it */
    char *text = pb_game_json_dumps(out);
    json_decref(out);
    if (!text) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_text(req, 200, "application/json", text, strlen(text));
    free(text);
}

void pb_api_fair_crash_rounds(pb_http_request *req, void *app)
{
    (void)app;
    int64_t limit = PAGE_DEFAULT, cursor = 0;
    if (!pb_admin_parse_empty(req) ||
        !pb_admin_query_int(req, "limit", 1, PB_PLAY_PAGE_MAX, &limit) ||
        !pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor))
        return;
    pb_store_conn *c = pb_http_conn(req);
    if (!c) {
        pb_http_reply_error(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    pb_brand b;
    pb_err e = pb_tenancy_brand_by_code(c, pb_http_param(req, "brand"), &b);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    pb_store_crash_round *rows = pb_http_alloc(req, (size_t)limit * sizeof *rows);
    size_t n = 0;
    if (!rows ||
        pb_store_crash_round_list(c, b.id, NULL, cursor, rows, (size_t)limit, &n) != PB_STORE_OK) {
        pb_http_reply_error(req, rows ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL, NULL);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(items, pb_api_games_crash_json(&rows[i], 0)) != 0) {
            json_decref(items);
            items = NULL;
        }
    if (!items) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_api_games_reply(req, 200,
                       json_pack("{s:s,s:o,s:o}", "brand", b.code, "items", items, "next_cursor",
                                 pb_admin_cursor_json(n == (size_t)limit ? rows[n - 1].seq : 0)));
}
