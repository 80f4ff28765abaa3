/*
 * catalog.c — providers and games: validation, defaults, and their rows.
 *
 * What is checked (every failure names the field and writes nothing):
 *   provider  code [a-z0-9-]{2,32} (not starting with '-'), name 1..128 bytes of
 *             UTF-8 without control characters, protocol native | hub88, status
 *             active | disabled, timestamp_window_s 1..3600 (0 on create = 300);
 *             native: a secret of 32..64 bytes and no public key; hub88: a PEM
 *             "PUBLIC KEY" (SubjectPublicKeyInfo) that OpenSSL parses as RSA of at
 *             least 2048 bits, and no secret.
 *   game      code [a-z0-9_-]{2,64} (providers' game ids often carry '_'), name as
 *             above, category slots | live | table | crash | instant | other,
 *             rtp_bp 5000..10000, volatility low | medium | high, status, limits
 *             (a known currency each, at most once, 0 < min, max 0 or ≥ min),
 *             blocked jurisdictions ("XX" or "XX-YYY", at most once each).
 * Codes never change: update finds the row by its code(s) and rewrites the rest.
 * Limits and blocked jurisdictions are kept sorted, as the store returns them.
 *
 * The playable check, the lobby and launches live in launch.c. Every write here
 * (providers, games, brand switches) first tells launch.c's playability cache
 * to forget what it holds (pb_catalog_play_cache_forget).
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "core/log.h"
#include "core/money.h"
#include "tenancy/tenancy.h"

#define WINDOW_MAX_S 3600
#define RTP_MIN_BP 5000
#define RTP_MAX_BP 10000
#define RSA_MIN_BITS 2048

static const char *const CATEGORIES[] = {"slots", "live", "table", "crash", "instant", "other"};
static const char *const VOLATILITIES[] = {"low", "medium", "high"};

pb_err pb_catalog_store_err(pb_store_conn *c, pb_store_rc r, pb_err not_found, const char *what)
{
    switch (r) {
    case PB_STORE_OK: return PB_OK;
    case PB_STORE_NOT_FOUND: return not_found;
    case PB_STORE_BUSY: return PB_ERR_STORE_UNAVAILABLE;
    default:
        pb_log(PB_LOG_ERROR, "catalog.store", "%s: %s", what, pb_store_errmsg(c));
        return PB_ERR_INTERNAL;
    }
}

/* ---- validators ---------------------------------------------------------- */

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* 2..max of [a-z0-9-] (and '_' when underscore), not starting with '-' or '_'. */
static bool code_valid(const char *code, size_t max, bool underscore)
{
    size_t n = code ? strlen(code) : 0;
    if (n < 2 || n > max || code[0] == '-' || code[0] == '_')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = code[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              (underscore && ch == '_')))
            return false;
    }
    return true;
}

bool pb_catalog_provider_code_valid(const char *code)
{
    return code_valid(code, PB_PROVIDER_CODE_MAX, false);
}

bool pb_catalog_game_code_valid(const char *code)
{
    return code_valid(code, PB_GAME_CODE_MAX, true);
}

bool pb_catalog_category_valid(const char *category)
{
    return in_list(category, CATEGORIES, sizeof CATEGORIES / sizeof CATEGORIES[0]);
}

static bool status_valid(const char *s)
{
    return s && (strcmp(s, "active") == 0 || strcmp(s, "disabled") == 0);
}

/* Valid UTF-8 of 1..max bytes without control characters (a display name). */
static bool name_valid(const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    if (n == 0 || n > max)
        return false;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
        if (len == 0 || (size_t)(end - p) < len || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4))
            return false;
        if (len == 1 && (c < 0x20 || c == 0x7F))
            return false;
        for (size_t i = 1; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        if (len == 3 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)))
            return false; /* overlong form or UTF-16 surrogate */
        if (len == 4 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)))
            return false; /* overlong form or beyond U+10FFFF */
        p += len;
    }
    return true;
}

/* A PEM SubjectPublicKeyInfo holding an RSA key of at least RSA_MIN_BITS. */
static bool rsa_public_pem_valid(const char *pem)
{
    size_t n = strnlen(pem, PB_PROVIDER_PEM_MAX + 1);
    if (n == 0 || n > PB_PROVIDER_PEM_MAX)
        return false;
    BIO *bio = BIO_new_mem_buf(pem, (int)n);
    EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    bool ok = k && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA && EVP_PKEY_get_bits(k) >= RSA_MIN_BITS;
    EVP_PKEY_free(k);
    BIO_free(bio);
    return ok;
}

/* Checks a whole provider; *bad names the first field at fault. */
static pb_err provider_check(const pb_provider *p, const char **bad)
{
#define BAD(f)                       \
    do {                             \
        *bad = (f);                  \
        return PB_ERR_FIELD_INVALID; \
    } while (0)
    if (!pb_catalog_provider_code_valid(p->code))
        BAD("code");
    if (!name_valid(p->name, PB_PROVIDER_NAME_MAX))
        BAD("name");
    bool native = strcmp(p->protocol, "native") == 0, hub88 = strcmp(p->protocol, "hub88") == 0;
    if (!native && !hub88)
        BAD("protocol");
    if (!status_valid(p->status))
        BAD("status");
    if (p->timestamp_window_s < 1 || p->timestamp_window_s > WINDOW_MAX_S)
        BAD("timestamp_window_s");
    if (native) {
        /* a key sealed under another keys directory stays as stored (secret.c) */
        bool kept = p->secret_unavailable && p->secret_len == 0;
        if (!kept &&
            (p->secret_len < PB_PROVIDER_SECRET_MIN || p->secret_len > PB_PROVIDER_SECRET_MAX))
            BAD("secret");
        if (p->public_key_pem[0])
            BAD("public_key_pem");
    } else {
        if (p->secret_len != 0)
            BAD("secret");
        if (!rsa_public_pem_valid(p->public_key_pem))
            BAD("public_key_pem");
    }
    return PB_OK;
}

static int cmp_limit(const void *a, const void *b)
{
    return strcmp(((const pb_game_limit *)a)->currency, ((const pb_game_limit *)b)->currency);
}

static int cmp_blocked(const void *a, const void *b) { return strcmp(a, b); }

/* Checks a whole game (not its provider); *bad names the first field at fault. */
static pb_err game_check(const pb_game *g, const char **bad)
{
    if (!pb_catalog_game_code_valid(g->code))
        BAD("code");
    if (!name_valid(g->name, PB_GAME_NAME_MAX))
        BAD("name");
    if (!pb_catalog_category_valid(g->category))
        BAD("category");
    if (g->rtp_bp < RTP_MIN_BP || g->rtp_bp > RTP_MAX_BP)
        BAD("rtp_bp");
    if (!in_list(g->volatility, VOLATILITIES, sizeof VOLATILITIES / sizeof VOLATILITIES[0]))
        BAD("volatility");
    if (!status_valid(g->status))
        BAD("status");
    if (g->nlimits > PB_GAME_LIMITS_MAX)
        BAD("limits");
    for (size_t i = 0; i < g->nlimits; i++) {
        const pb_game_limit *l = &g->limits[i];
        if (!pb_currency_find(l->currency)) {
            *bad = "limits";
            return PB_ERR_CURRENCY_UNKNOWN;
        }
        if (l->min_bet <= 0 || l->max_bet < 0 || (l->max_bet != 0 && l->max_bet < l->min_bet))
            BAD("limits");
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->limits[j].currency, l->currency) == 0)
                BAD("limits");
    }
    if (g->nblocked > PB_GAME_BLOCKED_MAX)
        BAD("blocked");
    for (size_t i = 0; i < g->nblocked; i++) {
        if (strnlen(g->blocked[i], sizeof g->blocked[i]) >= sizeof g->blocked[i] ||
            !pb_tenancy_jurisdiction_valid(g->blocked[i]))
            BAD("blocked");
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->blocked[j], g->blocked[i]) == 0)
                BAD("blocked");
    }
    return PB_OK;
#undef BAD
}

/* ---- rows ---------------------------------------------------------------- */

#define COPY PB_CATALOG_COPY

void pb_catalog_provider_from_row(const pb_store_provider *r, pb_provider *p)
{
    memset(p, 0, sizeof *p);
    p->id = r->id;
    COPY(p->code, r->code);
    COPY(p->name, r->name);
    COPY(p->protocol, r->protocol);
    pb_catalog_secret_from_row(r, p); /* opened when sealed (secret.c) */
    COPY(p->public_key_pem, r->public_key_pem);
    p->timestamp_window_s = r->timestamp_window_s;
    COPY(p->status, r->status);
    p->created_at = r->created_at;
    p->updated_at = r->updated_at;
}

static void provider_to_row(const pb_provider *p, pb_store_provider *r)
{
    memset(r, 0, sizeof *r);
    r->id = p->id;
    COPY(r->code, p->code);
    COPY(r->name, p->name);
    COPY(r->protocol, p->protocol);
    pb_catalog_secret_to_row(p, r); /* sealed when there is a key (secret.c) */
    COPY(r->public_key_pem, p->public_key_pem);
    r->timestamp_window_s = p->timestamp_window_s;
    COPY(r->status, p->status);
    r->created_at = p->created_at;
    r->updated_at = p->updated_at;
}

void pb_catalog_game_from_row(const pb_store_game *r, pb_game *g)
{
    memset(g, 0, sizeof *g);
    g->id = r->id;
    g->provider_id = r->provider_id;
    COPY(g->provider_code, r->provider_code);
    COPY(g->code, r->code);
    COPY(g->name, r->name);
    COPY(g->category, r->category);
    g->rtp_bp = r->rtp_bp;
    COPY(g->volatility, r->volatility);
    for (size_t i = 0; i < r->nlimits && i < PB_GAME_LIMITS_MAX; i++) {
        COPY(g->limits[i].currency, r->limits[i].currency);
        g->limits[i].min_bet = r->limits[i].min_bet;
        g->limits[i].max_bet = r->limits[i].max_bet;
        g->nlimits++;
    }
    for (size_t i = 0; i < r->nblocked && i < PB_GAME_BLOCKED_MAX; i++)
        COPY(g->blocked[g->nblocked++], r->blocked[i]);
    COPY(g->status, r->status);
    g->created_at = r->created_at;
    g->updated_at = r->updated_at;
}

/* The row of a checked game, limits and blocked jurisdictions sorted. */
static void game_to_row(const pb_game *g, pb_store_game *r)
{
    pb_game_limit lim[PB_GAME_LIMITS_MAX];
    char blk[PB_GAME_BLOCKED_MAX][9];
    memcpy(lim, g->limits, g->nlimits * sizeof lim[0]);
    memcpy(blk, g->blocked, g->nblocked * sizeof blk[0]);
    qsort(lim, g->nlimits, sizeof lim[0], cmp_limit);
    qsort(blk, g->nblocked, sizeof blk[0], cmp_blocked);
    memset(r, 0, sizeof *r);
    r->id = g->id;
    r->provider_id = g->provider_id;
    COPY(r->provider_code, g->provider_code);
    COPY(r->code, g->code);
    COPY(r->name, g->name);
    COPY(r->category, g->category);
    r->rtp_bp = g->rtp_bp;
    COPY(r->volatility, g->volatility);
    for (size_t i = 0; i < g->nlimits; i++) {
        COPY(r->limits[i].currency, lim[i].currency);
        r->limits[i].min_bet = lim[i].min_bet;
        r->limits[i].max_bet = lim[i].max_bet;
    }
    r->nlimits = g->nlimits;
    for (size_t i = 0; i < g->nblocked; i++)
        COPY(r->blocked[i], blk[i]);
    r->nblocked = g->nblocked;
    COPY(r->status, g->status);
    r->created_at = g->created_at;
    r->updated_at = g->updated_at;
}

/* ---- providers ----------------------------------------------------------- */

void pb_catalog_secret_generate(pb_provider *p)
{
    if (sodium_init() < 0)
        abort(); /* libsodium cannot run at all: nothing here is safe */
    randombytes_buf(p->secret, PB_PROVIDER_SECRET_GEN);
    p->secret_len = PB_PROVIDER_SECRET_GEN;
}

#define PROVIDER_CACHE_TTL_US (1 * 1000000LL)
#define PROVIDER_CACHE_QUIET_US (1 * 1000000LL)

static pb_cache_guard provider_cache = PB_CACHE_GUARD_INIT(PROVIDER_CACHE_TTL_US,
                                                           PROVIDER_CACHE_QUIET_US);

pb_cache_guard *pb_catalog_provider_cache_guard(void) { return &provider_cache; }

/* A provider write in this process: launch.c's cache and the adapters' (see
 * pb_catalog_provider_cache_guard) forget what they hold. */
void pb_catalog_provider_written(void)
{
    pb_catalog_play_cache_forget();
    pb_cache_guard_forget(&provider_cache);
}

pb_err pb_catalog_provider_create(pb_store_conn *c, pb_provider *p, int64_t now,
                                  const char **bad_field)
{
    pb_catalog_provider_written();
    const char *dummy = NULL;
    const char **bad = bad_field ? bad_field : &dummy;
    if (!p->status[0])
        COPY(p->status, "active");
    if (p->timestamp_window_s == 0)
        p->timestamp_window_s = PB_PROVIDER_WINDOW_DEFAULT_S;
    pb_err e = provider_check(p, bad);
    if (e != PB_OK)
        return e;
    pb_store_provider *r = malloc(sizeof *r);
    if (!r)
        return PB_ERR_INTERNAL;
    p->created_at = p->updated_at = now;
    provider_to_row(p, r);
    pb_store_rc rc = pb_store_provider_insert(c, r);
    if (rc == PB_STORE_CONFLICT) {
        *bad = "code";
        e = PB_ERR_PROVIDER_EXISTS;
    } else {
        e = pb_catalog_store_err(c, rc, PB_ERR_INTERNAL, "provider insert");
        p->id = r->id;
    }
    sodium_memzero(r, sizeof *r);
    free(r);
    return e;
}

pb_err pb_catalog_provider_update(pb_store_conn *c, const pb_provider *p, int64_t now,
                                  const char **bad_field)
{
    pb_catalog_provider_written();
    const char *dummy = NULL;
    const char **bad = bad_field ? bad_field : &dummy;
    pb_store_provider *r = malloc(sizeof *r);
    if (!r)
        return PB_ERR_INTERNAL;
    pb_err e = pb_catalog_store_err(c, pb_store_provider_by_code(c, p->code, r),
                                    PB_ERR_PROVIDER_NOT_FOUND, "provider get");
    int64_t id = r->id, created = r->created_at;
    if (e == PB_OK)
        e = provider_check(p, bad);
    if (e == PB_OK) {
        uint8_t stored[PB_STORE_PROVIDER_SECRET_MAX];
        size_t stored_len = r->secret_len;
        memcpy(stored, r->secret, sizeof stored);
        provider_to_row(p, r);
        if (p->secret_unavailable && p->secret_len == 0) { /* kept as stored (secret.c) */
            memcpy(r->secret, stored, sizeof stored);
            r->secret_len = stored_len;
        }
        sodium_memzero(stored, sizeof stored);
        r->id = id;
        r->created_at = created;
        r->updated_at = now > created ? now : created;
        e = pb_catalog_store_err(c, pb_store_provider_update(c, r), PB_ERR_PROVIDER_NOT_FOUND,
                                 "provider update");
    }
    sodium_memzero(r, sizeof *r);
    free(r);
    return e;
}

pb_err pb_catalog_provider_get(pb_store_conn *c, const char *code, pb_provider *out)
{
    if (!pb_catalog_provider_code_valid(code))
        return PB_ERR_PROVIDER_NOT_FOUND;
    pb_store_provider *r = malloc(sizeof *r);
    if (!r)
        return PB_ERR_INTERNAL;
    pb_err e = pb_catalog_store_err(c, pb_store_provider_by_code(c, code, r),
                                    PB_ERR_PROVIDER_NOT_FOUND, "provider get");
    if (e == PB_OK)
        pb_catalog_provider_from_row(r, out);
    sodium_memzero(r, sizeof *r);
    free(r);
    return e;
}

pb_err pb_catalog_provider_list(pb_store_conn *c, int64_t after_id, pb_provider *out, size_t cap,
                                size_t *n)
{
    *n = 0;
    if (cap == 0)
        return PB_OK;
    pb_store_provider *rows = calloc(cap, sizeof *rows);
    if (!rows)
        return PB_ERR_INTERNAL;
    size_t got = 0;
    pb_err e = pb_catalog_store_err(c, pb_store_provider_list(c, after_id, rows, cap, &got),
                                    PB_ERR_INTERNAL, "provider list");
    for (size_t i = 0; e == PB_OK && i < got; i++)
        pb_catalog_provider_from_row(&rows[i], &out[i]);
    if (e == PB_OK)
        *n = got;
    sodium_memzero(rows, cap * sizeof *rows);
    free(rows);
    return e;
}

/* ---- games --------------------------------------------------------------- */

/* The provider's id by code (PROVIDER_NOT_FOUND). */
pb_err pb_catalog_provider_id(pb_store_conn *c, const char *code, int64_t *id)
{
    pb_provider *p = malloc(sizeof *p);
    if (!p)
        return PB_ERR_INTERNAL;
    pb_err e = pb_catalog_provider_get(c, code, p);
    *id = e == PB_OK ? p->id : 0;
    sodium_memzero(p, sizeof *p);
    free(p);
    return e;
}

pb_err pb_catalog_game_create(pb_store_conn *c, pb_game *g, int64_t now, const char **bad_field)
{
    pb_catalog_play_cache_forget(); /* launch.c's cache: see there */
    const char *dummy = NULL;
    const char **bad = bad_field ? bad_field : &dummy;
    if (!g->status[0])
        COPY(g->status, "active");
    int64_t pid = 0;
    pb_err e = pb_catalog_provider_id(c, g->provider_code, &pid);
    if (e == PB_ERR_PROVIDER_NOT_FOUND)
        *bad = "provider";
    if (e == PB_OK)
        e = game_check(g, bad);
    if (e != PB_OK)
        return e;
    pb_store_game *r = malloc(sizeof *r);
    if (!r)
        return PB_ERR_INTERNAL;
    g->provider_id = pid;
    g->created_at = g->updated_at = now;
    game_to_row(g, r);
    pb_store_rc rc = pb_store_game_insert(c, r);
    if (rc == PB_STORE_CONFLICT) {
        *bad = "code";
        e = PB_ERR_GAME_EXISTS;
    } else {
        e = pb_catalog_store_err(c, rc, PB_ERR_INTERNAL, "game insert");
    }
    if (e == PB_OK) { /* hand back the game as stored (sorted children) */
        g->id = r->id;
        pb_catalog_game_from_row(r, g);
    }
    free(r);
    return e;
}

pb_err pb_catalog_game_update(pb_store_conn *c, const pb_game *g, int64_t now,
                              const char **bad_field)
{
    pb_catalog_play_cache_forget(); /* launch.c's cache: see there */
    const char *dummy = NULL;
    const char **bad = bad_field ? bad_field : &dummy;
    pb_game *old = malloc(sizeof *old);
    pb_store_game *r = malloc(sizeof *r);
    pb_err e = old && r ? pb_catalog_game_get(c, g->provider_code, g->code, old) : PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = game_check(g, bad);
    if (e == PB_OK) {
        game_to_row(g, r);
        r->id = old->id;
        r->provider_id = old->provider_id;
        r->created_at = old->created_at;
        r->updated_at = now > old->created_at ? now : old->created_at;
        e = pb_catalog_store_err(c, pb_store_game_update(c, r), PB_ERR_GAME_NOT_FOUND,
                                 "game update");
    }
    free(old);
    free(r);
    return e;
}

pb_err pb_catalog_game_get(pb_store_conn *c, const char *provider_code, const char *game_code,
                           pb_game *out)
{
    int64_t pid = 0;
    pb_err e = pb_catalog_provider_id(c, provider_code, &pid);
    if (e == PB_ERR_PROVIDER_NOT_FOUND)
        return PB_ERR_GAME_NOT_FOUND; /* no provider, no game */
    if (e != PB_OK)
        return e;
    return pb_catalog_game_by_provider(c, pid, game_code, out);
}

pb_err pb_catalog_game_by_provider(pb_store_conn *c, int64_t provider_id, const char *game_code,
                                   pb_game *out)
{
    if (!pb_catalog_game_code_valid(game_code))
        return PB_ERR_GAME_NOT_FOUND;
    pb_store_game *r = malloc(sizeof *r);
    if (!r)
        return PB_ERR_INTERNAL;
    pb_err e = pb_catalog_store_err(c, pb_store_game_by_code(c, provider_id, game_code, r),
                                    PB_ERR_GAME_NOT_FOUND, "game get");
    if (e == PB_OK)
        pb_catalog_game_from_row(r, out);
    free(r);
    return e;
}

pb_err pb_catalog_game_set_brand(pb_store_conn *c, int64_t game_id, int64_t brand_id, bool enabled,
                                 int64_t now)
{
    pb_catalog_play_cache_forget(); /* launch.c's cache: see there */
    pb_store_game *r = malloc(sizeof *r);
    if (!r)
        return PB_ERR_INTERNAL;
    pb_err e = pb_catalog_store_err(c, pb_store_game_get(c, game_id, r), PB_ERR_GAME_NOT_FOUND,
                                    "game get");
    free(r);
    pb_brand *b = e == PB_OK ? malloc(sizeof *b) : NULL;
    if (e == PB_OK)
        e = b ? pb_tenancy_brand_get(c, brand_id, b) : PB_ERR_INTERNAL;
    free(b);
    if (e == PB_OK)
        e = pb_catalog_store_err(c, pb_store_game_brand_set(c, game_id, brand_id, enabled, now),
                                 PB_ERR_INTERNAL, "game brand set");
    return e;
}

pb_err pb_catalog_game_brand_enabled(pb_store_conn *c, int64_t game_id, int64_t brand_id,
                                     bool *enabled)
{
    *enabled = false;
    return pb_catalog_store_err(c, pb_store_game_brand_get(c, game_id, brand_id, enabled),
                                PB_ERR_INTERNAL, "game brand get");
}
