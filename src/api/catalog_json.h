/*
 * catalog_json.h — how the API shows providers and games (private to src/api/,
 * shared by admin_catalog.c and player_games.c). Amounts are decimal strings in
 * their currency; a max_bet of 0 ("no maximum") is null. Secrets are never shown.
 */
#ifndef PB_API_CATALOG_JSON_H
#define PB_API_CATALOG_JSON_H

#include <jansson.h>

#include "catalog/catalog.h"

/* {"currency","min_bet","max_bet"|null}; NULL on OOM. */
json_t *pb_api_limit_json(const pb_game_limit *l);
/* The staff view of a provider: no secret, only a fingerprint of it (the first
 * 16 hex digits of its SHA-256) so a rotation is visible. */
json_t *pb_api_provider_json(const pb_provider *p);
/* The staff view of a game: everything, limits for every currency. */
json_t *pb_api_game_json(const pb_game *g);
/* The player view of a game in the lobby: the limits of one currency only. */
json_t *pb_api_lobby_game_json(const pb_game *g, const char *currency);

#endif
