/*
 * catalog.h — game providers, their games, where each game may be offered,
 * and game launches (the launch token a provider trades for a player).
 *
 * A provider has a code ([a-z0-9-]{2,32}, immutable), a name, the wallet
 * protocol it speaks ("native" or "hub88": adding a provider that speaks one of
 * them is configuration, not code), its keys (native: an HMAC-SHA256 secret;
 * hub88: the provider's RSA public key in PEM, which verifies its requests), the
 * accepted clock skew of signed requests and a status (active | disabled).
 *
 * A game belongs to one provider: a code unique within the provider, a name, a
 * category (slots, live, table, crash, instant, …), its certified RTP in basis
 * points (9650 = 96.50%), a volatility (low | medium | high), min and max bet
 * per currency, and a status. Offering: a game is playable on a brand when the
 * game and its provider are active, the game is enabled for the brand (per-brand
 * switch, default disabled), and the brand's jurisdiction is not in the game's
 * list of blocked jurisdictions (ISO 3166-1 alpha-2, or a subdivision such as
 * "CA-ON", which also matches a brand in "CA-ON" when "CA" is blocked).
 *
 * A launch: a player asks to play a game; the catalog checks the game is
 * playable on the player's brand, and issues an opaque launch token (32 random
 * bytes, base64url; only its SHA-256 is stored) bound to provider, game,
 * brand, player and currency, valid for a configurable time (default 4 h). The
 * provider presents it to the wallet API (session / balance / bet …).
 *
 * Every function runs on the caller's connection: writes belong in the caller's
 * PB_STORE_WRITE transaction; nothing here begins or commits. Validation
 * failures name the field in *bad_field (may be NULL) and write nothing.
 */
#ifndef PB_CATALOG_CATALOG_H
#define PB_CATALOG_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cacheguard.h"
#include "core/error.h"
#include "core/id.h"
#include "store/store.h"

#define PB_PROVIDER_CODE_MAX 32
#define PB_PROVIDER_NAME_MAX 128
#define PB_PROVIDER_PROTOCOL_MAX 16
#define PB_PROVIDER_SECRET_MAX 64
#define PB_PROVIDER_PEM_MAX 4096
#define PB_GAME_CODE_MAX 64
#define PB_GAME_NAME_MAX 128
#define PB_GAME_CATEGORY_MAX 16
#define PB_GAME_LIMITS_MAX 16  /* currencies with bet limits per game */
#define PB_GAME_BLOCKED_MAX 32 /* blocked jurisdictions per game */
#define PB_LAUNCH_TOKEN_LEN 43 /* base64url of 32 bytes, no padding */

typedef struct pb_provider {
    int64_t id;
    char code[PB_PROVIDER_CODE_MAX + 1];
    char name[PB_PROVIDER_NAME_MAX + 1];
    char protocol[PB_PROVIDER_PROTOCOL_MAX + 1]; /* "native" | "hub88" */
    uint8_t secret[PB_PROVIDER_SECRET_MAX];      /* native: the HMAC key */
    size_t secret_len;
    bool secret_unavailable; /* read: stored sealed under a key this process lacks
                              * (secret_len 0); an update without a new key keeps it */
    char public_key_pem[PB_PROVIDER_PEM_MAX + 1]; /* hub88: verifies the provider's requests */
    int32_t timestamp_window_s;                   /* accepted clock skew (default 300) */
    char status[16];                              /* "active" | "disabled" */
    int64_t created_at, updated_at;
} pb_provider;

typedef struct pb_game_limit {
    char currency[8];
    int64_t min_bet, max_bet; /* minor units; max 0 = no maximum */
} pb_game_limit;

typedef struct pb_game {
    int64_t id;
    int64_t provider_id;
    char provider_code[PB_PROVIDER_CODE_MAX + 1];
    char code[PB_GAME_CODE_MAX + 1];
    char name[PB_GAME_NAME_MAX + 1];
    char category[PB_GAME_CATEGORY_MAX + 1];
    int32_t rtp_bp;     /* basis points, 5000..10000 */
    char volatility[8]; /* low | medium | high */
    pb_game_limit limits[PB_GAME_LIMITS_MAX];
    size_t nlimits;
    char blocked[PB_GAME_BLOCKED_MAX][9]; /* jurisdictions where it may not be offered */
    size_t nblocked;
    char status[16]; /* "active" | "disabled" */
    int64_t created_at, updated_at;
} pb_game;

/* ---- providers ---- */
pb_err pb_catalog_provider_create(pb_store_conn *c, pb_provider *p, int64_t now,
                                  const char **bad_field); /* PROVIDER_EXISTS */
pb_err pb_catalog_provider_update(pb_store_conn *c, const pb_provider *p, int64_t now,
                                  const char **bad_field);
pb_err pb_catalog_provider_get(pb_store_conn *c, const char *code,
                               pb_provider *out); /* PROVIDER_NOT_FOUND */
pb_err pb_catalog_provider_list(pb_store_conn *c, int64_t after_id, pb_provider *out, size_t cap,
                                size_t *n);

/* ---- games ---- */
pb_err pb_catalog_game_create(pb_store_conn *c, pb_game *g, int64_t now,
                              const char **bad_field); /* GAME_EXISTS, PROVIDER_NOT_FOUND */
pb_err pb_catalog_game_update(pb_store_conn *c, const pb_game *g, int64_t now,
                              const char **bad_field);
pb_err pb_catalog_game_get(pb_store_conn *c, const char *provider_code, const char *game_code,
                           pb_game *out); /* GAME_NOT_FOUND */
/* Enables or disables a game for a brand. */
pb_err pb_catalog_game_set_brand(pb_store_conn *c, int64_t game_id, int64_t brand_id, bool enabled,
                                 int64_t now);

/*
 * THE check that a game may be played for money: the provider exists and is
 * active (PROVIDER_NOT_FOUND / PROVIDER_DISABLED), the game exists (GAME_NOT_FOUND),
 * is active, enabled for the brand and not blocked in the brand's jurisdiction
 * (GAME_DISABLED). When amount > 0 it is also checked against the game's limits
 * for the currency (BET_LIMIT; a currency without limits is CURRENCY_NOT_ALLOWED).
 * out (may be NULL) receives the game.
 */
pb_err pb_catalog_game_playable(pb_store_conn *c, const char *provider_code, const char *game_code,
                                const char *brand_code, const char *currency, int64_t amount,
                                pb_game *out);

/* ---- launches ---- */
typedef struct pb_launch {
    char token[PB_LAUNCH_TOKEN_LEN + 1]; /* only returned by create */
    char provider_code[PB_PROVIDER_CODE_MAX + 1];
    char game_code[PB_GAME_CODE_MAX + 1];
    char brand_code[33];
    char player_public_id[PB_ID_STR_LEN + 1];
    char currency[8];
    int64_t created_at, expires_at;
} pb_launch;

/* Issues a launch token after pb_catalog_game_playable(amount 0). ttl_s 0 = 4 h. */
pb_err pb_catalog_launch_create(pb_store_conn *c, const char *provider_code, const char *game_code,
                                const char *brand_code, const char *player_public_id,
                                const char *currency, int64_t ttl_s, int64_t now, pb_launch *out);
/* The launch a token belongs to, for that provider: TOKEN_INVALID when unknown or
 * issued for another provider. Expiry is NOT checked here: the caller compares
 * out->expires_at with now (bets and sessions need a live token; wins and
 * rollbacks do not). */
pb_err pb_catalog_launch_resolve(pb_store_conn *c, const char *provider_code, const char *token,
                                 pb_launch *out);
/* As pb_catalog_launch_resolve, from the process's launch cache when it holds the
 * token (launch.c, "the launch cache": a launch row never changes, so what was
 * resolved is kept 1 s); c may be NULL, then a miss is STORE_UNAVAILABLE. out's
 * token field is left empty. For the provider adapters' calls. */
pb_err pb_catalog_launch_resolve_cached(pb_store_conn *c, const char *provider_code,
                                        const char *token, pb_launch *out);

/* ---- additions (the contract above is unchanged) ---- */

#define PB_LAUNCH_TTL_DEFAULT_S 14400    /* 4 h */
#define PB_PROVIDER_WINDOW_DEFAULT_S 300 /* accepted clock skew when none is given */
#define PB_PROVIDER_SECRET_MIN 32        /* native HMAC key: 32..64 bytes */
#define PB_PROVIDER_SECRET_GEN 32        /* bytes of a generated key */

/* Fills p->secret with PB_PROVIDER_SECRET_GEN random bytes (libsodium): for a
 * native provider created without a key. */
void pb_catalog_secret_generate(pb_provider *p);

/* Native providers' keys are stored sealed (secret.c) under this 32-byte key
 * (the keys directory's provider.key): set it once, before any provider is
 * read or written. Without it keys are stored as given and sealed ones do not
 * open. */
#define PB_CATALOG_SEAL_KEY_FILE "provider.key"
void pb_catalog_seal_set_key(const uint8_t key[32]);

/* Logs that provider code's stored key does not open (secret_unavailable). */
void pb_catalog_secret_log_unavailable(const char *code);

/* Seals the keys stored in the clear (by an older version, or a process without
 * the key), in batches; *sealed receives how many. 0, or -1 with err. Nothing to
 * do without a key. */
int pb_catalog_seal_existing(pb_store *s, int64_t *sealed, char *err, size_t errcap);

/* Validators used by create/update, for callers that check input early. */
bool pb_catalog_provider_code_valid(const char *code); /* [a-z0-9-]{2,32} */
bool pb_catalog_game_code_valid(const char *code);     /* [a-z0-9_-]{2,64} */
bool pb_catalog_category_valid(const char *category);  /* slots|live|table|crash|instant|other */

/* True when a game blocked in `blocked` ("CA" or "CA-ON") may not be offered
 * under `jurisdiction` (a brand's: "CA" blocks "CA" and every "CA-…"; "CA-ON"
 * blocks only "CA-ON"). */
bool pb_catalog_jurisdiction_blocks(const char *blocked, const char *jurisdiction);

/* The game's limits for a currency, or NULL when it has none (not playable in it). */
const pb_game_limit *pb_catalog_game_limit(const pb_game *g, const char *currency);

/* Which games pb_catalog_game_list returns; NULL fields do not filter. */
typedef struct pb_catalog_game_filter {
    const char *provider_code; /* PROVIDER_NOT_FOUND when unknown */
    const char *category;      /* FIELD_INVALID "category" when not a known category */
    const char *status;        /* "active" | "disabled"; FIELD_INVALID "status" otherwise */
    const char *brand_code;    /* only games switched on for this brand (BRAND_NOT_FOUND) */
} pb_catalog_game_filter;

/* Up to cap games matching f with id > after_id, in id order; *n receives the
 * count (pass the last id back for the next page). */
pb_err pb_catalog_game_list(pb_store_conn *c, const pb_catalog_game_filter *f, int64_t after_id,
                            pb_game *out, size_t cap, size_t *n, const char **bad_field);

/* The lobby of a brand for players in `currency`: the games for which
 * pb_catalog_game_playable(…, amount 0) holds on the brand and that have limits
 * in the currency, optionally of one category (FIELD_INVALID "category"), in id
 * order after after_id. BRAND_NOT_FOUND. */
pb_err pb_catalog_lobby(pb_store_conn *c, const char *brand_code, const char *currency,
                        const char *category, int64_t after_id, pb_game *out, size_t cap,
                        size_t *n);

/* Whether the game is switched on for the brand (false when never set). */
pb_err pb_catalog_game_brand_enabled(pb_store_conn *c, int64_t game_id, int64_t brand_id,
                                     bool *enabled);

/* A player's launch from the lobby: like pb_catalog_launch_create, and also
 * CURRENCY_NOT_ALLOWED when the game has no limits in the player's currency (it
 * could not take a bet; the lobby does not show it). */
pb_err pb_catalog_launch_for_player(pb_store_conn *c, const char *provider_code,
                                    const char *game_code, const char *brand_code,
                                    const char *player_public_id, const char *currency,
                                    int64_t ttl_s, int64_t now, pb_launch *out);

/* Deletes launches that expired before `before`; *n (may be NULL) receives how
 * many. Keep a launch for as long as wins and rollbacks may still name it. */
pb_err pb_catalog_launch_prune(pb_store_conn *c, int64_t before, int64_t *n);

/* Revokes every live launch of the player (public id): each expires now, so it is
 * refused wherever a live token is needed (session, balance, bet: TOKEN_EXPIRED)
 * and still names its bets for their wins, rollbacks and round closes. *n (may be
 * NULL) receives how many. Runs in the caller's write transaction; once that has
 * committed, call pb_catalog_launch_cache_forget so that this process stops
 * answering from launches it read before. */
pb_err pb_catalog_launch_revoke_player(pb_store_conn *c, const char *player, int64_t now,
                                       int64_t *n);

/* Empties the launch cache, and keeps out what a call still resolving read from
 * the store before this (see "the launch cache" in launch.c). */
void pb_catalog_launch_cache_forget(void);

/* The guard of the in-process caches of providers kept by the wallet protocol
 * adapters (src/api/provider_native.c, provider_hub88.c): every provider write in
 * this process (create, update) forgets their entries as it
 * writes, so a provider switched off, or its secret, key or clock window changed,
 * through this server is in force from the next call after the write commits;
 * one changed by another process (the CLI) within the guard's 1 s. An adapter
 * stores what it read under pb_cache_guard_snapshot's generation (nothing while
 * it says no) and serves it while pb_cache_guard_fresh says so. */
pb_cache_guard *pb_catalog_provider_cache_guard(void);

#endif
