/*
 * play_admin.c — the RTP in force per game and brand, game control figures,
 * round lookups and the public verification of an outcome.
 *
 * RTP: a brand's configured RTP of a game (game_rtp row; the game's default
 * from games.h when none) must lie in the game's allowed range. Staff change it
 * in their request's write transaction together with the audit entry
 * (src/api/games_admin.c); every round records the RTP it was played at.
 *
 * Game control: per game and currency, the settled rounds' count, turnover
 * (stakes), payouts, GGR = turnover − payouts, the actual RTP = payouts /
 * turnover, the expected RTP = the turnover-weighted RTP in force of those
 * rounds, and the deviation actual − expected. The ratios are doubles: they
 * are statistics for people, never money. A settled round's payout counts
 * whoever received it: a closed (erased) player's late win paid to the brand's
 * unclaimed funds is paid out too (owed, not house revenue; the RTP is the
 * game's return, not the wallet's destination; README, "Late wins").
 *
 * Verify: the same inputs as `pitboss fair verify` (JSON instead of flags),
 * the same outcome JSON (pb_game_outcome_json), computed by the same code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "games/play_internal.h"

pb_err pb_play_rtp_get(pb_store_conn *c, int64_t brand_id, pb_game_kind kind, uint32_t *rtp_bp,
                       bool *configured)
{
    const pb_game_info *gi = pb_game_info_of(kind);
    if (!gi)
        return PB_ERR_GAME_NOT_FOUND;
    int32_t v = 0;
    pb_store_rc rc = pb_store_game_rtp_get(c, brand_id, gi->name, &v);
    *configured = rc == PB_STORE_OK;
    if (rc == PB_STORE_OK && v > 0 && pb_game_rtp_allowed(kind, (uint32_t)v)) {
        *rtp_bp = (uint32_t)v;
        return PB_OK;
    }
    if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    /* none (or one the game no longer allows): the default */
    *rtp_bp = gi->default_rtp_bp;
    return PB_OK;
}

pb_err pb_play_rtp_set(pb_store_conn *c, int64_t brand_id, pb_game_kind kind, uint32_t rtp_bp,
                       const char *by, int64_t now, uint32_t *before)
{
    const pb_game_info *gi = pb_game_info_of(kind);
    if (!gi)
        return PB_ERR_GAME_NOT_FOUND;
    if (!pb_game_rtp_allowed(kind, rtp_bp))
        return PB_ERR_FIELD_INVALID;
    bool configured;
    pb_err e = pb_play_rtp_get(c, brand_id, kind, before, &configured);
    if (e != PB_OK)
        return e;
    pb_store_rc rc = pb_store_game_rtp_put(c, brand_id, gi->name, (int32_t)rtp_bp, now, by);
    return rc == PB_STORE_OK     ? PB_OK
           : rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE
                                 : PB_ERR_INTERNAL;
}

pb_err pb_play_control(pb_store_conn *c, int64_t brand_id, int64_t from_us, int64_t to_us,
                       pb_play_control_line *out, size_t cap, size_t *n)
{
    *n = 0;
    pb_store_game_totals *t = calloc(cap ? cap : 1, sizeof *t);
    if (!t)
        return PB_ERR_INTERNAL;
    size_t got = 0;
    pb_store_rc rc = pb_store_game_totals_list(c, brand_id, from_us, to_us, t, cap, &got);
    pb_err e = rc == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
    for (size_t i = 0; e == PB_OK && i < got; i++) {
        pb_play_control_line *l = &out[i];
        memset(l, 0, sizeof *l);
        l->t = t[i];
        if (__builtin_sub_overflow(t[i].turnover, t[i].payout, &l->ggr)) {
            e = PB_ERR_OVERFLOW;
            break;
        }
        bool configured;
        e = pb_play_rtp_get(c, brand_id, pb_game_parse(t[i].game), &l->target_rtp_bp, &configured);
        if (e == PB_ERR_GAME_NOT_FOUND)
            e = PB_OK, l->target_rtp_bp = 0;
        if (t[i].turnover > 0) {
            l->actual_rtp = (double)t[i].payout / (double)t[i].turnover;
            l->expected_rtp = (double)t[i].rtp_weighted / (double)t[i].turnover / PB_RTP_ONE;
            l->deviation = l->actual_rtp - l->expected_rtp;
        }
        *n = i + 1;
    }
    free(t);
    return e;
}

pb_err pb_play_round_get(pb_store_conn *c, const char *player, const char *round_id,
                         pb_store_game_round *out)
{
    pb_store_rc rc = pb_store_game_round_get(c, round_id ? round_id : "", out);
    if (rc == PB_STORE_OK && strcmp(out->player, player) != 0) {
        pb_store_game_round_clear(out);
        rc = PB_STORE_NOT_FOUND;
    }
    if (rc == PB_STORE_NOT_FOUND)
        return PB_ERR_ROUND_NOT_FOUND;
    if (rc != PB_STORE_OK)
        return PB_ERR_STORE_UNAVAILABLE;
    if (out->pair_id[0]) {
        pb_store_seed_pair pair;
        if (pb_store_seed_pair_get(c, out->pair_id, &pair) == PB_STORE_OK && !pair.active)
            memcpy(out->revealed_seed, pair.server_seed, sizeof out->revealed_seed);
    }
    return PB_OK;
}

/* ---- verify ---- */

/* A JSON string member (NULL when absent); FIELD_INVALID when not a string. */
static bool get_str(const json_t *in, const char *name, const char **out, pb_play_error *err)
{
    json_t *v = json_object_get(in, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v)) {
        play_fail(err, PB_ERR_FIELD_INVALID, name, "must be a string");
        return false;
    }
    *out = json_string_value(v);
    return true;
}

/* The house edge ("1" = 1.00 %, up to 2 decimals, as `fair verify --edge`) in bp. */
static bool edge_bp(const json_t *v, uint32_t *out)
{
    char buf[32];
    if (json_is_string(v))
        snprintf(buf, sizeof buf, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, sizeof buf, "%.6f", json_real_value(v));
    else
        return false;
    int64_t whole = 0, frac = 0;
    int digits = 0;
    const char *s = buf;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9' && whole <= 100; s++)
        whole = whole * 10 + (*s - '0');
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, digits++)
            if (digits < 2)
                frac = frac * 10 + (*s - '0');
            else if (*s != '0')
                return false;
        if (digits == 0)
            return false;
        if (digits == 1)
            frac *= 10;
    }
    if (*s || whole > 100)
        return false;
    int64_t bp = whole * 100 + frac;
    if (bp > PB_RTP_ONE)
        return false;
    *out = (uint32_t)bp;
    return true;
}

/* The CLI's game options, merged into params (`fair verify --target … --bets …`). */
static const char *const SHORTHANDS[] = {"target", "direction", "cashout", "mines", "tiles",
                                         "picks",  "risk",      "rows",    "bets"};
#define NSHORT (sizeof SHORTHANDS / sizeof SHORTHANDS[0])
#define VERIFY_MAX_STEPS 1000000 /* crash commitment checks: hashes walked at most */

pb_err pb_play_verify(const json_t *in, json_t **out, pb_play_error *err)
{
    *out = NULL;
    play_fail(err, PB_OK, NULL, NULL);
    if (!json_is_object(in))
        return play_fail(err, PB_ERR_INVALID_REQUEST, NULL, "the body must be a JSON object");
    static const char *const known[] = {"game",     "server_seed", "client_seed", "nonce",
                                        "hash",     "salt",        "edge",        "rtp_bp",
                                        "currency", "commitment",  "params"};
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)in, name, v) {
        bool ok = false;
        for (size_t i = 0; !ok && i < sizeof known / sizeof known[0]; i++)
            ok = strcmp(known[i], name) == 0;
        for (size_t i = 0; !ok && i < NSHORT; i++)
            ok = strcmp(SHORTHANDS[i], name) == 0;
        if (!ok)
            return play_fail(err, PB_ERR_UNKNOWN_FIELD, name, NULL);
    }
    const char *game, *seed, *client, *hash, *salt, *currency, *commitment;
    if (!get_str(in, "game", &game, err) || !get_str(in, "server_seed", &seed, err) ||
        !get_str(in, "client_seed", &client, err) || !get_str(in, "hash", &hash, err) ||
        !get_str(in, "salt", &salt, err) || !get_str(in, "currency", &currency, err) ||
        !get_str(in, "commitment", &commitment, err))
        return err->code;
    if (!game)
        return play_fail(err, PB_ERR_FIELD_MISSING, "game", NULL);
    pb_game_kind kind = pb_game_parse(game);
    const pb_game_info *gi = pb_game_info_of(kind);
    if (!gi)
        return play_fail(err, PB_ERR_FIELD_INVALID, "game", "game: not an in-house game");
    const pb_currency *cur = pb_currency_find(currency ? currency : "EUR");
    if (!cur)
        return play_fail(err, PB_ERR_FIELD_INVALID, "currency", "currency: not supported");
    /* the RTP: edge (percent) or rtp_bp, else the game's default */
    uint32_t rtp = gi->default_rtp_bp;
    json_t *ev = json_object_get(in, "edge"), *rv = json_object_get(in, "rtp_bp");
    if (ev && rv)
        return play_fail(err, PB_ERR_FIELD_INVALID, "edge", "edge: give edge or rtp_bp, not both");
    if (ev) {
        uint32_t e_bp;
        if (!edge_bp(ev, &e_bp))
            return play_fail(err, PB_ERR_FIELD_INVALID, "edge",
                             "edge: the house edge in percent (1 or 2.5)");
        rtp = PB_RTP_ONE - e_bp;
    } else if (rv) {
        if (!json_is_integer(rv) || json_integer_value(rv) < 0 ||
            json_integer_value(rv) > PB_RTP_ONE)
            return play_fail(err, PB_ERR_FIELD_INVALID, "rtp_bp", "rtp_bp: 0..10000");
        rtp = (uint32_t)json_integer_value(rv);
    }
    if (!pb_game_rtp_allowed(kind, rtp)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: %s allows an RTP of %u to %u basis points",
                 ev ? "edge" : "rtp_bp", gi->name, gi->min_rtp_bp, gi->max_rtp_bp);
        return play_fail(err, PB_ERR_FIELD_INVALID, ev ? "edge" : "rtp_bp", msg);
    }
    /* the game's parameters: params, then the CLI's shorthands over it */
    json_t *params = json_object_get(in, "params");
    if (params && !json_is_object(params))
        return play_fail(err, PB_ERR_FIELD_INVALID, "params", "params: an object");
    json_t *pj = params ? json_deep_copy(params) : json_object();
    for (size_t i = 0; pj && i < NSHORT; i++) {
        json_t *s = json_object_get(in, SHORTHANDS[i]);
        if (s && json_object_set(pj, SHORTHANDS[i], s) != 0) {
            json_decref(pj);
            pj = NULL;
        }
    }
    if (!pj)
        return play_fail(err, PB_ERR_INTERNAL, NULL, NULL);
    pb_game_params gp;
    pb_game_error ge;
    memset(&ge, 0, sizeof ge);
    pb_err e = pb_game_params_from_json(kind, pj, cur, &gp, &ge);
    bool top = false;
    for (size_t i = 0; i < NSHORT && ge.field[0]; i++)
        top = top || (strncmp(ge.field, SHORTHANDS[i], strlen(SHORTHANDS[i])) == 0 &&
                      json_object_get(in, SHORTHANDS[i]));
    json_decref(pj);
    if (e != PB_OK) {
        char field[64];
        snprintf(field, sizeof field, "%s%.48s", top || !ge.field[0] ? "" : "params.", ge.field);
        return play_fail(err, ge.code, field[0] ? field : "params", ge.message);
    }
    pb_game_input gin;
    memset(&gin, 0, sizeof gin);
    pb_fair_key key;
    if (gi->uses_hash_chain) {
        if (seed || client || json_object_get(in, "nonce"))
            return play_fail(err, PB_ERR_FIELD_INVALID,
                             seed     ? "server_seed"
                             : client ? "client_seed"
                                      : "nonce",
                             "crash takes hash and salt, not a seed pair");
        if (!hash)
            return play_fail(err, PB_ERR_FIELD_MISSING, "hash", NULL);
        if (!pb_fair_hex64_valid(hash))
            return play_fail(err, PB_ERR_FIELD_INVALID, "hash", "hash: 64 lower-case hex");
        if (!salt)
            return play_fail(err, PB_ERR_FIELD_MISSING, "salt", NULL);
        if (commitment && (!pb_fair_hex64_valid(commitment) ||
                           !pb_crash_chain_links(hash, commitment, VERIFY_MAX_STEPS, NULL)))
            return play_fail(err, PB_ERR_FIELD_INVALID, "commitment",
                             "commitment: the hash does not lead to it");
        gin.crash_hash = hash;
        gin.crash_salt = salt;
    } else {
        if (hash || salt)
            return play_fail(err, PB_ERR_FIELD_INVALID, hash ? "hash" : "salt",
                             "hash and salt are for crash only");
        json_t *nv = json_object_get(in, "nonce");
        if (!seed)
            return play_fail(err, PB_ERR_FIELD_MISSING, "server_seed", NULL);
        if (!pb_fair_hex64_valid(seed))
            return play_fail(err, PB_ERR_FIELD_INVALID, "server_seed",
                             "server_seed: 64 lower-case hex");
        if (!client)
            return play_fail(err, PB_ERR_FIELD_MISSING, "client_seed", NULL);
        if (!pb_fair_client_seed_valid(client))
            return play_fail(err, PB_ERR_FIELD_INVALID, "client_seed",
                             "client_seed: 1..64 printable ASCII characters, no ':'");
        if (!nv)
            return play_fail(err, PB_ERR_FIELD_MISSING, "nonce", NULL);
        if (!json_is_integer(nv) || json_integer_value(nv) < 0)
            return play_fail(err, PB_ERR_FIELD_INVALID, "nonce", "nonce: an integer ≥ 0");
        if (commitment && !pb_fair_commitment_matches(seed, commitment))
            return play_fail(err, PB_ERR_FIELD_INVALID, "commitment",
                             "commitment: SHA-256 of the server seed is not the commitment");
        pb_fair_key_init(&key, seed, strlen(seed));
        gin.key = &key;
        gin.client_seed = client;
        gin.nonce = (uint64_t)json_integer_value(nv);
    }
    pb_game_outcome o;
    e = pb_game_play(&gp, &gin, rtp, &o);
    if (e != PB_OK)
        return play_fail(err, PB_ERR_FIELD_INVALID, "params", "these parameters cannot be played");
    *out = pb_game_outcome_json(&gp, &o);
    return *out ? PB_OK : play_fail(err, PB_ERR_INTERNAL, NULL, NULL);
}
