/*
 * store_catalog.h — the catalog's rows (providers, games with their limits and
 * blocked jurisdictions, the per-brand switch, launches) and the statements the
 * catalog runs. Included by store.h. Rows are fixed-size structs with inline
 * strings; every decision (validation, defaults, what "playable" means) lives
 * in src/catalog/, not here.
 */
#ifndef PB_STORE_CATALOG_H
#define PB_STORE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_STORE_PROVIDER_CODE_MAX 32
#define PB_STORE_PROVIDER_NAME_MAX 128
#define PB_STORE_PROVIDER_SECRET_MAX 128 /* a 64-byte key sealed: 107 */
#define PB_STORE_PROVIDER_PEM_MAX 4096
#define PB_STORE_GAME_CODE_MAX 64
#define PB_STORE_GAME_NAME_MAX 128
#define PB_STORE_GAME_LIMITS_MAX 16
#define PB_STORE_GAME_BLOCKED_MAX 32
#define PB_STORE_LAUNCH_HASH_LEN 32

/* A provider, exactly as stored. */
typedef struct pb_store_provider {
    int64_t id;
    char code[PB_STORE_PROVIDER_CODE_MAX + 1];
    char name[PB_STORE_PROVIDER_NAME_MAX + 1];
    char protocol[17];
    uint8_t secret[PB_STORE_PROVIDER_SECRET_MAX];
    size_t secret_len;
    char public_key_pem[PB_STORE_PROVIDER_PEM_MAX + 1];
    int32_t timestamp_window_s;
    char status[16];
    int64_t created_at, updated_at;
} pb_store_provider;

/* A game with its limits (sorted by currency) and blocked jurisdictions (sorted). */
typedef struct pb_store_game {
    int64_t id;
    int64_t provider_id;
    char provider_code[PB_STORE_PROVIDER_CODE_MAX + 1]; /* filled by reads */
    char code[PB_STORE_GAME_CODE_MAX + 1];
    char name[PB_STORE_GAME_NAME_MAX + 1];
    char category[17];
    int32_t rtp_bp;
    char volatility[8];
    struct {
        char currency[8];
        int64_t min_bet, max_bet;
    } limits[PB_STORE_GAME_LIMITS_MAX];
    size_t nlimits;
    char blocked[PB_STORE_GAME_BLOCKED_MAX][9];
    size_t nblocked;
    char status[16];
    int64_t created_at, updated_at;
} pb_store_game;

/* Which games a list returns; zero / NULL fields do not filter. */
typedef struct pb_store_game_filter {
    int64_t provider_id;
    const char *category;
    const char *status;          /* the game's status */
    const char *provider_status; /* the provider's status */
    int64_t enabled_brand_id;    /* only games switched on for this brand */
    const char *currency;        /* only games with limits in this currency */
    const char *not_blocked[2];  /* only games blocked in none of these jurisdictions */
} pb_store_game_filter;

/* A launch as stored; provider_code and game_code are filled by reads. */
typedef struct pb_store_launch {
    uint8_t token_hash[PB_STORE_LAUNCH_HASH_LEN];
    int64_t provider_id, game_id;
    char provider_code[PB_STORE_PROVIDER_CODE_MAX + 1];
    char game_code[PB_STORE_GAME_CODE_MAX + 1];
    char brand[33];
    char player[40];
    char currency[8];
    int64_t created_at, expires_at;
} pb_store_launch;

/* Inserts a provider; assigns p->id. CONFLICT when the code exists. */
pb_store_rc pb_store_provider_insert(pb_store_conn *c, pb_store_provider *p);
/* Rewrites every mutable column of p->id (not code, not created_at). NOT_FOUND. */
pb_store_rc pb_store_provider_update(pb_store_conn *c, const pb_store_provider *p);
pb_store_rc pb_store_provider_get(pb_store_conn *c, int64_t id, pb_store_provider *out);
pb_store_rc pb_store_provider_by_code(pb_store_conn *c, const char *code, pb_store_provider *out);
/* Up to cap providers with id > after_id, in id order; *n receives the count. */
pb_store_rc pb_store_provider_list(pb_store_conn *c, int64_t after_id, pb_store_provider *out,
                                   size_t cap, size_t *n);

/* Inserts a game with its limits and blocked jurisdictions; assigns g->id.
 * CONFLICT when the provider already has the code. All or nothing. */
pb_store_rc pb_store_game_insert(pb_store_conn *c, pb_store_game *g);
/* Rewrites the mutable columns of g->id and replaces its limits and blocked
 * jurisdictions. NOT_FOUND. All or nothing. */
pb_store_rc pb_store_game_update(pb_store_conn *c, const pb_store_game *g);
pb_store_rc pb_store_game_get(pb_store_conn *c, int64_t id, pb_store_game *out);
pb_store_rc pb_store_game_by_code(pb_store_conn *c, int64_t provider_id, const char *code,
                                  pb_store_game *out);
/* Up to cap games matching f with id > after_id, in id order. */
pb_store_rc pb_store_game_list(pb_store_conn *c, const pb_store_game_filter *f, int64_t after_id,
                               pb_store_game *out, size_t cap, size_t *n);

/* Sets the per-brand switch of a game. */
pb_store_rc pb_store_game_brand_set(pb_store_conn *c, int64_t game_id, int64_t brand_id,
                                    bool enabled, int64_t now);
/* Whether the game is switched on for the brand (false when never set). */
pb_store_rc pb_store_game_brand_get(pb_store_conn *c, int64_t game_id, int64_t brand_id,
                                    bool *enabled);

/* Inserts a launch. CONFLICT when the hash exists. */
pb_store_rc pb_store_launch_insert(pb_store_conn *c, const pb_store_launch *l);
/* The launch with this token hash. NOT_FOUND. */
pb_store_rc pb_store_launch_get(pb_store_conn *c, const uint8_t hash[PB_STORE_LAUNCH_HASH_LEN],
                                pb_store_launch *out);
/* Deletes launches that expired before `before`; *n (may be NULL) receives how many. */
pb_store_rc pb_store_launch_prune(pb_store_conn *c, int64_t before, int64_t *n);
/* Revokes the player's live launches (expires_at > now): expires_at and revoked_at
 * become now. *n (may be NULL) receives how many. */
pb_store_rc pb_store_launch_revoke_player(pb_store_conn *c, const char *player, int64_t now,
                                          int64_t *n);

/* What a backend implements for the catalog (see backend.h). */
struct pb_store_catalog_ops {
    pb_store_rc (*provider_insert)(pb_store_conn *c, pb_store_provider *p);
    pb_store_rc (*provider_update)(pb_store_conn *c, const pb_store_provider *p);
    pb_store_rc (*provider_get)(pb_store_conn *c, int64_t id, pb_store_provider *out);
    pb_store_rc (*provider_by_code)(pb_store_conn *c, const char *code, pb_store_provider *out);
    pb_store_rc (*provider_list)(pb_store_conn *c, int64_t after_id, pb_store_provider *out,
                                 size_t cap, size_t *n);
    pb_store_rc (*game_insert)(pb_store_conn *c, pb_store_game *g);
    pb_store_rc (*game_update)(pb_store_conn *c, const pb_store_game *g);
    pb_store_rc (*game_get)(pb_store_conn *c, int64_t id, pb_store_game *out);
    pb_store_rc (*game_by_code)(pb_store_conn *c, int64_t provider_id, const char *code,
                                pb_store_game *out);
    pb_store_rc (*game_list)(pb_store_conn *c, const pb_store_game_filter *f, int64_t after_id,
                             pb_store_game *out, size_t cap, size_t *n);
    pb_store_rc (*game_brand_set)(pb_store_conn *c, int64_t game_id, int64_t brand_id, bool enabled,
                                  int64_t now);
    pb_store_rc (*game_brand_get)(pb_store_conn *c, int64_t game_id, int64_t brand_id,
                                  bool *enabled);
    pb_store_rc (*launch_insert)(pb_store_conn *c, const pb_store_launch *l);
    pb_store_rc (*launch_get)(pb_store_conn *c, const uint8_t *hash, pb_store_launch *out);
    pb_store_rc (*launch_prune)(pb_store_conn *c, int64_t before, int64_t *n);
    pb_store_rc (*launch_revoke_player)(pb_store_conn *c, const char *player, int64_t now,
                                        int64_t *n);
};

extern const struct pb_store_catalog_ops pb_store_sqlite_catalog_ops;

#endif
