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
 * What a passed check read of the catalog (not of the brand) is kept in a
 * small in-process cache; see "the playability cache" below for what it keeps
 * and how catalog writes and time invalidate it.
 *
 * Launch tokens are 32 bytes from libsodium's CSPRNG in base64url without
 * padding (43 characters). Only SHA-256(token text) is stored; resolve hashes
 * what it is given and looks the hash up, so the comparison is on the hash (an
 * index lookup), never on the secret.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "core/cacheguard.h"
#include "core/money.h"
#include "core/sha256.h"
#include "core/time.h"
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
    return strlen(blocked) == 2 && strncmp(blocked, jurisdiction, 2) == 0 && jurisdiction[2] == '-';
}

const pb_game_limit *pb_catalog_game_limit(const pb_game *g, const char *currency)
{
    for (size_t i = 0; currency && i < g->nlimits && i < PB_GAME_LIMITS_MAX; i++)
        if (strcmp(g->limits[i].currency, currency) == 0)
            return &g->limits[i];
    return NULL;
}

/* ---- the playability cache ------------------------------------------------
 *
 * A provider's bet asks pb_catalog_game_playable about the same few games on
 * the same brands call after call, and each answer took five to seven reads
 * (provider, game, its limits and blocked jurisdictions, the brand, the
 * brand's switch), each its own SQLite read transaction. The cache keeps what
 * a PASSED steps 1–4 and 6 read (the provider is active, the game active,
 * its limits and blocked list, the game switched on for the brand), keyed by
 * (provider code, game code, brand id). What it never keeps: refusals (they
 * are read again every time) and the brand itself — the brand row (its id and
 * jurisdiction, owned by tenancy, which cannot tell this file about changes)
 * comes from tenancy's own brand cache (pb_tenancy_brand_by_code_cached), which
 * tenancy's brand writes empty, with the same lifetimes as this one.
 *
 * Invalidation:
 *   - every catalog write in this process (catalog.c: providers, games, their
 *     limits and blocked lists, brand switches) calls
 *     pb_catalog_play_cache_forget() as it writes, which empties the cache at
 *     once (a generation: entries of an older generation are ignored) and
 *     opens a QUIET window during which nothing read is stored: the write's
 *     transaction may not have committed yet, and a read racing with it would
 *     otherwise cache the old rows under the new generation;
 *   - a write by another process on the same database (the CLI) is not seen
 *     by that: entries live at most TTL (1 s, as the native provider cache in
 *     src/api/provider_native.c) and are then read again.
 * So a game switched off through this server is refused from the next call
 * after the switch commits; one switched off by another process within 1 s.
 * The bet's ledger command keeps its own player gate either way.
 */

#define PLAY_SLOTS 64
#define PLAY_TTL_US (1 * 1000000LL)
#define PLAY_QUIET_US (1 * 1000000LL)

typedef struct play_entry {
    int64_t loaded_us; /* monotonic; 0 = empty */
    uint64_t gen;
    char provider[PB_PROVIDER_CODE_MAX + 1];
    char game[PB_GAME_CODE_MAX + 1];
    int64_t brand_id; /* the game is switched on for it */
    pb_game g;
} play_entry;

static struct {
    pb_cache_guard guard; /* also guards slot */
    play_entry slot[PLAY_SLOTS];
} play = {PB_CACHE_GUARD_INIT(PLAY_TTL_US, PLAY_QUIET_US), {{0}}};

void pb_catalog_play_cache_forget(void) { pb_cache_guard_forget(&play.guard); }

void pb_catalog_play_cache_tune(int64_t ttl_us, int64_t quiet_us)
{
    pb_cache_guard_tune(&play.guard, ttl_us, quiet_us);
}

static bool play_same(const play_entry *s, const char *provider, const char *game, int64_t brand_id)
{
    return s->brand_id == brand_id && strcmp(s->game, game) == 0 &&
           strcmp(s->provider, provider) == 0;
}

/* Copies a live entry for the key into *g; false when there is none. */
static bool play_get(const char *provider, const char *game, int64_t brand_id, pb_game *g)
{
    bool hit = false;
    pb_cache_guard_lock(&play.guard);
    int64_t now = pb_time_mono_us();
    for (size_t i = 0; i < PLAY_SLOTS && !hit; i++) {
        const play_entry *s = &play.slot[i];
        if (pb_cache_guard_live(&play.guard, s->gen, s->loaded_us, now) &&
            play_same(s, provider, game, brand_id)) {
            *g = s->g;
            hit = true;
        }
    }
    pb_cache_guard_unlock(&play.guard);
    return hit;
}

/* Stores what a read of generation gen found (replacing the key's entry, an
 * empty or stale slot, or the oldest); nothing if a write came in between. */
static void play_put(uint64_t gen, const char *provider, const char *game, int64_t brand_id,
                     const pb_game *g)
{
    pb_cache_guard_lock(&play.guard);
    if (gen == play.guard.gen) {
        play_entry *victim = &play.slot[0];
        for (size_t i = 0; i < PLAY_SLOTS; i++) {
            play_entry *s = &play.slot[i];
            if (s->loaded_us && play_same(s, provider, game, brand_id)) {
                victim = s;
                break;
            }
            if (!s->loaded_us || s->gen != play.guard.gen) {
                victim = s;
                continue;
            }
            if (victim->loaded_us && victim->gen == play.guard.gen &&
                s->loaded_us < victim->loaded_us)
                victim = s;
        }
        victim->loaded_us = pb_time_mono_us();
        victim->gen = gen;
        PB_CATALOG_COPY(victim->provider, provider);
        PB_CATALOG_COPY(victim->game, game);
        victim->brand_id = brand_id;
        victim->g = *g;
    }
    pb_cache_guard_unlock(&play.guard);
}

/* Step 7: none of the game's blocked jurisdictions covers the brand's. */
static pb_err jurisdiction_check(const pb_game *g, const pb_brand *b)
{
    for (size_t i = 0; i < g->nblocked; i++)
        if (pb_catalog_jurisdiction_blocks(g->blocked[i], b->jurisdiction))
            return PB_ERR_GAME_DISABLED;
    return PB_OK;
}

/* Steps 1–4 from the store: the provider and the game, both active; g filled
 * as soon as the game is found (*found set). */
static pb_err provider_and_game(pb_store_conn *c, const char *provider_code, const char *game_code,
                                pb_game *g, bool *found)
{
    *found = false;
    if (!pb_catalog_provider_code_valid(provider_code))
        return PB_ERR_PROVIDER_NOT_FOUND;
    pb_store_provider *p = malloc(sizeof *p);
    if (!p)
        return PB_ERR_INTERNAL;
    pb_err e = pb_catalog_store_err(c, pb_store_provider_by_code(c, provider_code, p),
                                    PB_ERR_PROVIDER_NOT_FOUND, "provider get");
    if (e == PB_OK && strcmp(p->status, "active") != 0)
        e = PB_ERR_PROVIDER_DISABLED;
    if (e == PB_OK)
        e = pb_catalog_game_by_provider(c, p->id, game_code, g);
    if (e == PB_OK)
        *found = true;
    if (e == PB_OK && strcmp(g->status, "active") != 0)
        e = PB_ERR_GAME_DISABLED;
    sodium_memzero(p, sizeof *p);
    free(p);
    return e;
}

/* Steps 1–7, from the cache when it holds the key, else from the store (and
 * then cached when they passed). *found as for provider_and_game. */
static pb_err offered(pb_store_conn *c, const char *provider_code, const char *game_code,
                      const char *brand_code, pb_game *g, bool *found)
{
    pb_brand *b = malloc(sizeof *b);
    if (!b)
        return PB_ERR_INTERNAL;
    uint64_t gen;
    bool may_store = pb_cache_guard_snapshot(&play.guard, &gen);
    /* the brand first (tenancy's brand cache); its refusal still comes after steps 1–4 */
    pb_err eb = pb_tenancy_brand_by_code_cached(c, brand_code ? brand_code : "", b);
    bool on = false, cached = eb == PB_OK && provider_code && game_code &&
                              play_get(provider_code, game_code, b->id, g);
    pb_err e = PB_OK;
    if (cached) {
        *found = on = true;
    } else {
        e = provider_and_game(c, provider_code, game_code, g, found);
        if (e == PB_OK)
            e = eb;
        if (e == PB_OK)
            e = pb_catalog_game_brand_enabled(c, g->id, b->id, &on);
        if (e == PB_OK && on && may_store)
            play_put(gen, provider_code, game_code, b->id, g);
    }
    if (e == PB_OK && !on)
        e = PB_ERR_GAME_DISABLED;
    if (e == PB_OK)
        e = jurisdiction_check(g, b);
    free(b);
    return e;
}

pb_err pb_catalog_game_playable(pb_store_conn *c, const char *provider_code, const char *game_code,
                                const char *brand_code, const char *currency, int64_t amount,
                                pb_game *out)
{
    pb_game *g = malloc(sizeof *g);
    if (!g)
        return PB_ERR_INTERNAL;
    bool found = false;
    pb_err e = offered(c, provider_code, game_code, brand_code, g, &found);
    if (found && out)
        *out = *g; /* from step 3 on, the caller can report what it refused */
    if (e == PB_OK && amount < 0)
        e = PB_ERR_AMOUNT_INVALID;
    if (e == PB_OK && amount > 0) {
        const pb_game_limit *l = pb_catalog_game_limit(g, currency);
        if (!l)
            e = PB_ERR_CURRENCY_NOT_ALLOWED;
        else if (amount < l->min_bet || (l->max_bet > 0 && amount > l->max_bet))
            e = PB_ERR_BET_LIMIT;
    }
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
    const char *dummy = NULL;
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
                        const char *category, int64_t after_id, pb_game *out, size_t cap, size_t *n)
{
    *n = 0;
    if (category && !pb_catalog_category_valid(category))
        return PB_ERR_FIELD_INVALID;
    if (!currency || !pb_currency_find(currency))
        return PB_ERR_CURRENCY_UNKNOWN;
    pb_brand *b = malloc(sizeof *b);
    pb_err e = b ? pb_tenancy_brand_by_code(c, brand_code ? brand_code : "", b) : PB_ERR_INTERNAL;
    if (e == PB_OK) {
        /* the codes that block this brand: its own, and its country for a subdivision */
        char country[3] = {b->jurisdiction[0], b->jurisdiction[1], 0};
        pb_store_game_filter f = {.status = "active",
                                  .provider_status = "active",
                                  .enabled_brand_id = b->id,
                                  .currency = currency,
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

pb_err pb_catalog_launch_create(pb_store_conn *c, const char *provider_code, const char *game_code,
                                const char *brand_code, const char *player_public_id,
                                const char *currency, int64_t ttl_s, int64_t now, pb_launch *out)
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
    pb_store_launch r = {.provider_id = g->provider_id,
                         .game_id = g->id,
                         .created_at = now,
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

static bool token_well_formed(const char *token)
{
    return token && strnlen(token, PB_LAUNCH_TOKEN_LEN + 1) == PB_LAUNCH_TOKEN_LEN;
}

/* The launch stored under the token's hash, for that provider. */
static pb_err resolve_hash(pb_store_conn *c, const char *provider_code,
                           const uint8_t hash[PB_STORE_LAUNCH_HASH_LEN], pb_launch *out)
{
    pb_store_launch r;
    pb_err e = pb_catalog_store_err(c, pb_store_launch_get(c, hash, &r), PB_ERR_TOKEN_INVALID,
                                    "launch get");
    if (e == PB_OK && strcmp(r.provider_code, provider_code) != 0)
        e = PB_ERR_TOKEN_INVALID; /* a token issued for another provider */
    if (e == PB_OK)
        launch_from_row(&r, out);
    return e;
}

pb_err pb_catalog_launch_resolve(pb_store_conn *c, const char *provider_code, const char *token,
                                 pb_launch *out)
{
    if (!token_well_formed(token) || !provider_code)
        return PB_ERR_TOKEN_INVALID;
    uint8_t hash[PB_STORE_LAUNCH_HASH_LEN];
    token_hash(token, hash);
    return resolve_hash(c, provider_code, hash, out);
}

/* ---- the launch cache ------------------------------------------------------
 *
 * A launch row never changes once issued (it is inserted, and pruned long after
 * it expired), so every launch resolved from the store is kept here for 1 s,
 * keyed by SHA-256(token), and every provider call takes it from here. The calls
 * that need a live token (session, balance, bet) check its expiry against the
 * clock on each call, cached or not, so an expiry is seen at once. At worst a
 * launch pruned less than 1 s ago (and used within that second) is answered as
 * what it is, expired (a live call: TOKEN_EXPIRED, not TOKEN_INVALID) or still
 * owed its win or rollback, instead of as unknown. A token hash picks a set of 4
 * slots (the token's slot, else an empty one, else the oldest is taken).
 *
 * A revocation is the one change of a launch row (pb_catalog_launch_revoke_player).
 * Once it has committed, pb_catalog_launch_cache_forget empties the cache and
 * bumps its generation; a call that started resolving from the store before that
 * (and may have read the row as it was) does not put what it read in the cache,
 * so from then on this process answers from the revoked row. Another process
 * sharing the database sees it within the cache's second. */

#define LAUNCH_TTL_US (1 * 1000000LL)
#define LAUNCH_SLOTS 4096
#define LAUNCH_WAYS 4

typedef struct launch_slot {
    uint8_t hash[PB_STORE_LAUNCH_HASH_LEN];
    int64_t loaded_us; /* monotonic; 0 = empty */
    pb_launch l;       /* its token field empty */
} launch_slot;

static struct {
    pthread_mutex_t mu;
    uint64_t gen; /* bumped by pb_catalog_launch_cache_forget */
    launch_slot slot[LAUNCH_SLOTS];
} launches = {PTHREAD_MUTEX_INITIALIZER, 0, {{{0}}}};

pb_err pb_catalog_launch_resolve_cached(pb_store_conn *c, const char *provider_code,
                                        const char *token, pb_launch *out)
{
    if (!token_well_formed(token) || !provider_code)
        return PB_ERR_TOKEN_INVALID;
    uint8_t h[PB_STORE_LAUNCH_HASH_LEN];
    token_hash(token, h);
    launch_slot *set =
        &launches.slot[(h[0] | (size_t)h[1] << 8) % (LAUNCH_SLOTS / LAUNCH_WAYS) * LAUNCH_WAYS];
    bool hit = false;
    pthread_mutex_lock(&launches.mu);
    uint64_t gen = launches.gen;
    int64_t now = pb_time_mono_us();
    for (size_t i = 0; i < LAUNCH_WAYS && !hit; i++) {
        const launch_slot *s = &set[i];
        if (s->loaded_us && now - s->loaded_us < LAUNCH_TTL_US &&
            memcmp(s->hash, h, sizeof h) == 0 && strcmp(s->l.provider_code, provider_code) == 0) {
            *out = s->l;
            hit = true;
        }
    }
    pthread_mutex_unlock(&launches.mu);
    if (hit)
        return PB_OK;
    if (!c)
        return PB_ERR_STORE_UNAVAILABLE;
    pb_err e = resolve_hash(c, provider_code, h, out);
    if (e != PB_OK)
        return e;
    pthread_mutex_lock(&launches.mu);
    if (launches.gen != gen) { /* forgotten meanwhile: what was read may be older */
        pthread_mutex_unlock(&launches.mu);
        return PB_OK;
    }
    launch_slot *s = &set[0];
    for (size_t i = 0; i < LAUNCH_WAYS; i++) {
        if (memcmp(set[i].hash, h, sizeof h) == 0 || !set[i].loaded_us) {
            s = &set[i];
            break;
        }
        if (set[i].loaded_us < s->loaded_us)
            s = &set[i];
    }
    memcpy(s->hash, h, sizeof h);
    s->l = *out;
    s->loaded_us = pb_time_mono_us();
    pthread_mutex_unlock(&launches.mu);
    return PB_OK;
}

pb_err pb_catalog_launch_prune(pb_store_conn *c, int64_t before, int64_t *n)
{
    int64_t dummy;
    return pb_catalog_store_err(c, pb_store_launch_prune(c, before, n ? n : &dummy),
                                PB_ERR_INTERNAL, "launch prune");
}

pb_err pb_catalog_launch_revoke_player(pb_store_conn *c, const char *player, int64_t now,
                                       int64_t *n)
{
    int64_t dummy;
    if (!player || !player[0])
        return PB_ERR_INVALID_REQUEST;
    return pb_catalog_store_err(c, pb_store_launch_revoke_player(c, player, now, n ? n : &dummy),
                                PB_ERR_INTERNAL, "launch revoke");
}

void pb_catalog_launch_cache_forget(void)
{
    pthread_mutex_lock(&launches.mu);
    launches.gen++;
    for (size_t i = 0; i < LAUNCH_SLOTS; i++)
        launches.slot[i].loaded_us = 0;
    pthread_mutex_unlock(&launches.mu);
}
