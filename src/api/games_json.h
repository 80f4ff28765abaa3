/*
 * games_json.h — the JSON views of the in-house games' rows that the games API
 * files share (private to src/api/; defined in games_player.c).
 */
#ifndef PB_API_GAMES_JSON_H
#define PB_API_GAMES_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "http/http.h"
#include "store/store.h"

/* pb_http_reply_json, but reals are printed with 15 significant digits, so the
 * games' 2-decimal figures read as written (28.07, not 28.070000000000000284)
 * and still parse back to the same double. Steals body (NULL → 500). */
void pb_api_games_reply(pb_http_request *req, int status, json_t *body);

/* Minor units as the currency's decimal string ("12.50"); NULL for an unknown currency. */
json_t *pb_api_games_money(int64_t minor, const char *currency);
/* A multiplier in 1/10000 units as "1.9800". */
json_t *pb_api_games_multiplier(int64_t mult);
/* Hundredths as "28.07" (crash points and multipliers). */
json_t *pb_api_games_hundredths(int64_t h);
/* A round as players see it: an active mines game hides its mines; the server
 * seed appears once its pair was rotated out. c (may be NULL) reads a crash
 * bet's round. */
json_t *pb_api_games_round_json(pb_store_conn *c, const pb_store_game_round *r);
/* A crash round as anyone may see it: the game hash and the point only once it
 * crashed. multiplier_now: while running, the multiplier now (0 = none). */
json_t *pb_api_games_crash_json(const pb_store_crash_round *r, int64_t multiplier_now);

#endif
