/*
 * launch.c — where a game may be played: the playable check, the lobby, and
 * launch tokens.
 *
 * pb_catalog_game_playable is THE check that a game may be played for money on
 * a brand; it refuses, in this order (the first failure wins):
 *   1. the provider is unknown                      PROVIDER_NOT_FOUND
 *   2. the provider is disabled                     PROVIDER_DISABLED
 *   3. the game is unknown (for that provider)      GAME_NOT_FOUND
 *   4. the game is disabled                         GAME_DISABLED
 *   5. the brand is unknown                         BRAND_NOT_FOUND
 *   6. the game is not switched on for the brand    GAME_DISABLED
 *   7. the brand's jurisdiction is blocked          GAME_DISABLED
 *      ("CA" blocks brands in "CA" and "CA-…"; "CA-ON" only brands in "CA-ON")
 *   8. amount < 0                                   AMOUNT_INVALID
 *   9. amount > 0 and the game has no limits in the currency  CURRENCY_NOT_ALLOWED
 *  10. amount > 0 and outside [min, max] (max 0 = none)        BET_LIMIT
 * The game is written to *out as soon as it is found (step 3), so a caller can
 * report what it refused. The lobby applies steps 1–7 in one query (and keeps
 * only games with limits in the player's currency); the jurisdiction rule is
 * decided here and handed to the store as the two codes that would block the
 * brand.
 *
 * Launch tokens are 32 bytes from libsodium's CSPRNG in base64url without
 * padding (43 characters). Only SHA-256(token text) is stored; resolve hashes
 * what it is given and looks the hash up, so the comparison is on the hash (an
 * index lookup), never on the secret.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "core/money.h"
#include "core/sha256.h"
#include "tenancy/tenancy.h"

#define TOKEN_BYTES 32
#define TTL_MAX_S (30LL * 24 * 3600)

bool pb_catalog_jurisdiction_blocks(const char *blocked, const char *jurisdiction)
{
    if (!blocked || !jurisdiction || !blocked[0])
        return false;
    if (strcmp(blocked, jurisdiction) == 0)
        return true;
    /* a country blocks its subdivisions */
    return strlen(blocked) == 2 && strncmp(blocked, jurisdiction, 2) == 0 &&
           jurisdiction[2] == '-';
}

const pb_game_limit *pb_catalog_game_limit(const pb_game *g, const char *currency)
{
    for (size_t i = 0; currency && i < g->nlimits && i < PB_GAME_LIMITS_MAX; i++)
        if (strcmp(g->limits[i].currency, currency) == 0)
            return &g->limits[i];
    return NULL;
}

/* Steps 5–7: the brand exists, the switch is on, the jurisdiction is not blocked. */
static pb_err offered_on_brand(pb_store_conn *c, const pb_game *g, const char *brand_code)
{
    pb_brand *b = malloc(sizeof *b);
    if (!b)
        return PB_ERR_INTERNAL;
    pb_err e = pb_tenancy_brand_by_code(c, brand_code ? brand_code : "", b);
    bool on = false;
    if (e == PB_OK)
        e = pb_catalog_game_brand_enabled(c, g->id, b->id, &on);
    if (e == PB_OK && !on)
        e = PB_ERR_GAME_DISABLED;
    for (size_t i = 0; e == PB_OK && i < g->nblocked; i++)
        if (pb_catalog_jurisdiction_blocks(g->blocked[i], b->jurisdiction))
            e = PB_ERR_GAME_DISABLED;
    free(b);
    return e;
}

pb_err pb_catalog_game_playable(pb_store_conn *c, const char *provider_code,
                                const char *game_code, const char *brand_code,
                                const char *currency, int64_t amount, pb_game *out)
{
    pb_store_provider *p = malloc(sizeof *p);
    pb_game *g = malloc(sizeof *g);
    pb_err e = p && g ? PB_OK : PB_ERR_INTERNAL;
    if (e == PB_OK && !pb_catalog_provider_code_valid(provider_code))
        e = PB_ERR_PROVIDER_NOT_FOUND;
    if (e == PB_OK)
        e = pb_catalog_store_err(c, pb_store_provider_by_code(c, provider_code, p),
                                 PB_ERR_PROVIDER_NOT_FOUND, "provider get");
    if (e == PB_OK && strcmp(p->status, "active") != 0)
        e = PB_ERR_PROVIDER_DISABLED;
    if (e == PB_OK)
        e = pb_catalog_game_by_provider(c, p->id, game_code, g);
    if (e == PB_OK && out)
        *out = *g;
    if (e == PB_OK && strcmp(g->status, "active") != 0)
        e = PB_ERR_GAME_DISABLED;
    if (e == PB_OK)
        e = offered_on_brand(c, g, brand_code);
    if (e == PB_OK && amount < 0)
        e = PB_ERR_AMOUNT_INVALID;
    if (e == PB_OK && amount > 0) {
        const pb_game_limit *l = pb_catalog_game_limit(g, currency);
        if (!l)
            e = PB_ERR_CURRENCY_NOT_ALLOWED;
        else if (amount < l->min_bet || (l->max_bet > 0 && amount > l->max_bet))
            e = PB_ERR_BET_LIMIT;
    }
    if (p)
        sodium_memzero(p, sizeof *p);
    free(p);
    free(g);
    return e;
}

/* Runs a store list and converts its rows. */
static pb_err list_games(pb_store_conn *c, const pb_store_game_filter *f, int64_t after_id,
                         pb_game *out, size_t cap, size_t *n)
{
    *n = 0;
    if (cap == 0)
        return PB_OK;
    pb_store_game *rows = calloc(cap, sizeof *rows);
    if (!rows)
        return PB_ERR_INTERNAL;
    size_t got = 0;
    pb_err e = pb_catalog_store_err(c, pb_store_game_list(c, f, after_id, rows, cap, &got),
                                    PB_ERR_INTERNAL, "game list");
    for (size_t i = 0; e == PB_OK && i < got; i++)
        pb_catalog_game_from_row(&rows[i], &out[i]);
    if (e == PB_OK)
        *n = got;
    free(rows);
    return e;
}

pb_err pb_catalog_game_list(pb_store_conn *c, const pb_catalog_game_filter *f, int64_t after_id,
                            pb_game *out, size_t cap, size_t *n, const char **bad_field)
{
    const char *dummy;
    const char **bad = bad_field ? bad_field : &dummy;
    static const pb_catalog_game_filter none = {0};
    if (!f)
        f = &none;
    *n = 0;
    pb_store_game_filter sf = {.category = f->category, .status = f->status};
    if (f->category && !pb_catalog_category_valid(f->category)) {
        *bad = "category";
        return PB_ERR_FIELD_INVALID;
    }
    if (f->status && strcmp(f->status, "active") != 0 && strcmp(f->status, "disabled") != 0) {
        *bad = "status";
        return PB_ERR_FIELD_INVALID;
    }
    pb_err e = PB_OK;
    if (f->provider_code) {
        e = pb_catalog_provider_id(c, f->provider_code, &sf.provider_id);
        if (e == PB_ERR_PROVIDER_NOT_FOUND)
            *bad = "provider";
    }
    if (e == PB_OK && f->brand_code) {
        pb_brand *b = malloc(sizeof *b);
        e = b ? pb_tenancy_brand_by_code(c, f->brand_code, b) : PB_ERR_INTERNAL;
        if (e == PB_OK)
            sf.enabled_brand_id = b->id;
        else if (e == PB_ERR_BRAND_NOT_FOUND)
            *bad = "brand";
        free(b);
    }
    return e == PB_OK ? list_games(c, &sf, after_id, out, cap, n) : e;
}

pb_err pb_catalog_lobby(pb_store_conn *c, const char *brand_code, const char *currency,
                        const char *category, int64_t after_id, pb_game *out, size_t cap,
                        size_t *n)
{
    *n = 0;
    if (category && !pb_catalog_category_valid(category))
        return PB_ERR_FIELD_INVALID;
    if (!currency || !pb_currency_find(currency))
        return PB_ERR_CURRENCY_UNKNOWN;
    pb_brand *b = malloc(sizeof *b);
    pb_err e = b ? pb_tenancy_brand_by_code(c, brand_code ? brand_code : "", b)
                 : PB_ERR_INTERNAL;
    if (e == PB_OK) {
        /* the codes that block this brand: its own, and its country for a subdivision */
        char country[3] = {b->jurisdiction[0], b->jurisdiction[1], 0};
        pb_store_game_filter f = {.status = "active", .provider_status = "active",
                                  .enabled_brand_id = b->id, .currency = currency,
                                  .category = category,
                                  .not_blocked = {b->jurisdiction,
                                                  b->jurisdiction[2] == '-' ? country : NULL}};
        e = list_games(c, &f, after_id, out, cap, n);
    }
    free(b);
    return e;
}

/* ---- launches ------------------------------------------------------------ */

static void token_hash(const char *token, uint8_t hash[PB_STORE_LAUNCH_HASH_LEN])
{
    pb_sha256(token, strlen(token), hash); /* libcrypto's SHA-256: once per provider call */
}

static void launch_from_row(const pb_store_launch *r, pb_launch *l)
{
    memset(l, 0, sizeof *l);
    PB_CATALOG_COPY(l->provider_code, r->provider_code);
    PB_CATALOG_COPY(l->game_code, r->game_code);
    PB_CATALOG_COPY(l->brand_code, r->brand);
    PB_CATALOG_COPY(l->player_public_id, r->player);
    PB_CATALOG_COPY(l->currency, r->currency);
    l->created_at = r->created_at;
    l->expires_at = r->expires_at;
}

pb_err pb_catalog_launch_create(pb_store_conn *c, const char *provider_code,
                                const char *game_code, const char *brand_code,
                                const char *player_public_id, const char *currency,
                                int64_t ttl_s, int64_t now, pb_launch *out)
{
    pb_id pid;
    if (!player_public_id || pb_id_parse(player_public_id, strlen(player_public_id), &pid) != 0)
        return PB_ERR_PLAYER_NOT_FOUND;
    if (!currency || !pb_currency_find(currency))
        return PB_ERR_CURRENCY_UNKNOWN;
    if (ttl_s < 0 || ttl_s > TTL_MAX_S)
        return PB_ERR_FIELD_INVALID;
    if (ttl_s == 0)
        ttl_s = PB_LAUNCH_TTL_DEFAULT_S;
    pb_game *g = malloc(sizeof *g);
    if (!g)
        return PB_ERR_INTERNAL;
    pb_err e = pb_catalog_game_playable(c, provider_code, game_code, brand_code, currency, 0, g);
    if (e != PB_OK) {
        free(g);
        return e;
    }
    if (sodium_init() < 0)
        abort(); /* libsodium cannot run at all: no token can be made safely */
    uint8_t raw[TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    pb_store_launch r = {.provider_id = g->provider_id, .game_id = g->id, .created_at = now,
                         .expires_at = now + ttl_s * 1000000};
    memset(out, 0, sizeof *out);
    sodium_bin2base64(out->token, sizeof out->token, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    token_hash(out->token, r.token_hash);
    PB_CATALOG_COPY(r.brand, brand_code);
    PB_CATALOG_COPY(r.player, player_public_id);
    PB_CATALOG_COPY(r.currency, currency);
    e = pb_catalog_store_err(c, pb_store_launch_insert(c, &r), PB_ERR_INTERNAL, "launch insert");
    if (e == PB_OK) {
        PB_CATALOG_COPY(out->provider_code, g->provider_code);
        PB_CATALOG_COPY(out->game_code, g->code);
        PB_CATALOG_COPY(out->brand_code, r.brand);
        PB_CATALOG_COPY(out->player_public_id, r.player);
        PB_CATALOG_COPY(out->currency, r.currency);
        out->created_at = r.created_at;
        out->expires_at = r.expires_at;
    } else {
        sodium_memzero(out->token, sizeof out->token);
    }
    free(g);
    return e;
}

pb_err pb_catalog_launch_for_player(pb_store_conn *c, const char *provider_code,
                                    const char *game_code, const char *brand_code,
                                    const char *player_public_id, const char *currency,
                                    int64_t ttl_s, int64_t now, pb_launch *out)
{
    pb_game *g = malloc(sizeof *g);
    if (!g)
        return PB_ERR_INTERNAL;
    pb_err e = pb_catalog_game_playable(c, provider_code, game_code, brand_code, currency, 0, g);
    if (e == PB_OK && !pb_catalog_game_limit(g, currency))
        e = PB_ERR_CURRENCY_NOT_ALLOWED;
    free(g);
    if (e != PB_OK)
        return e;
    return pb_catalog_launch_create(c, provider_code, game_code, brand_code, player_public_id,
                                    currency, ttl_s, now, out);
}

pb_err pb_catalog_launch_resolve(pb_store_conn *c, const char *provider_code, const char *token,
                                 pb_launch *out)
{
    if (!token || strnlen(token, PB_LAUNCH_TOKEN_LEN + 1) != PB_LAUNCH_TOKEN_LEN ||
        !provider_code)
        return PB_ERR_TOKEN_INVALID;
    pb_store_launch r;
    uint8_t hash[PB_STORE_LAUNCH_HASH_LEN];
    token_hash(token, hash);
    pb_err e = pb_catalog_store_err(c, pb_store_launch_get(c, hash, &r), PB_ERR_TOKEN_INVALID,
                                    "launch get");
    if (e == PB_OK && strcmp(r.provider_code, provider_code) != 0)
        e = PB_ERR_TOKEN_INVALID; /* a token issued for another provider */
    if (e == PB_OK)
        launch_from_row(&r, out);
    return e;
}

pb_err pb_catalog_launch_prune(pb_store_conn *c, int64_t before, int64_t *n)
{
    int64_t dummy;
    return pb_catalog_store_err(c, pb_store_launch_prune(c, before, n ? n : &dummy),
                                PB_ERR_INTERNAL, "launch prune");
}
