/*
 * catalog_json.c — the JSON views of providers and games (catalog_json.h).
 */
#include <sodium.h>
#include <string.h>

#include "api/catalog_json.h"
#include "core/money.h"
#include "core/time.h"

/* RFC 3339 text of a µs timestamp, or null. */
static json_t *time_json(int64_t us)
{
    char buf[PB_TIME_STR_MAX];
    return us && pb_time_format(us, buf, sizeof buf) > 0 ? json_string(buf) : json_null();
}

/* A decimal string of minor units in a currency (null when it cannot be formatted). */
static json_t *amount_json(int64_t minor, const char *currency)
{
    const pb_currency *cur = pb_currency_find(currency);
    char buf[64];
    if (!cur || pb_money_format(minor, cur, buf, sizeof buf) < 0)
        return json_null();
    return json_string(buf);
}

json_t *pb_api_limit_json(const pb_game_limit *l)
{
    return json_pack("{s:s,s:o,s:o}", "currency", l->currency, "min_bet",
                     amount_json(l->min_bet, l->currency), "max_bet",
                     l->max_bet ? amount_json(l->max_bet, l->currency) : json_null());
}

json_t *pb_api_provider_json(const pb_provider *p)
{
    json_t *fp = json_null();
    if (p->secret_len) {
        uint8_t h[crypto_hash_sha256_BYTES];
        char hex[2 * 8 + 1];
        crypto_hash_sha256(h, p->secret, p->secret_len);
        sodium_bin2hex(hex, sizeof hex, h, 8);
        fp = json_string(hex);
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:o,s:o,s:o,s:o}", "code", p->code, "name", p->name,
                     "protocol", p->protocol, "status", p->status, "timestamp_window_s",
                     (int)p->timestamp_window_s, "public_key_pem",
                     p->public_key_pem[0] ? json_string(p->public_key_pem) : json_null(),
                     "secret_fingerprint", fp, "created_at", time_json(p->created_at), "updated_at",
                     time_json(p->updated_at));
}

json_t *pb_api_game_json(const pb_game *g)
{
    json_t *limits = json_array(), *blocked = json_array();
    for (size_t i = 0; limits && i < g->nlimits; i++)
        if (json_array_append_new(limits, pb_api_limit_json(&g->limits[i])) != 0) {
            json_decref(limits);
            limits = NULL;
        }
    for (size_t i = 0; blocked && i < g->nblocked; i++)
        if (json_array_append_new(blocked, json_string(g->blocked[i])) != 0) {
            json_decref(blocked);
            blocked = NULL;
        }
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:o,s:o,s:o,s:o}", "provider", g->provider_code,
                     "code", g->code, "name", g->name, "category", g->category, "rtp_bp",
                     (int)g->rtp_bp, "volatility", g->volatility, "status", g->status, "limits",
                     limits, "blocked_jurisdictions", blocked, "created_at",
                     time_json(g->created_at), "updated_at", time_json(g->updated_at));
}

json_t *pb_api_lobby_game_json(const pb_game *g, const char *currency)
{
    const pb_game_limit *l = pb_catalog_game_limit(g, currency);
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:o}", "provider", g->provider_code, "code", g->code,
                     "name", g->name, "category", g->category, "rtp_bp", (int)g->rtp_bp,
                     "volatility", g->volatility, "limits", l ? pb_api_limit_json(l) : json_null());
}
