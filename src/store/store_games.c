/*
 * store_games.c — dispatches the games' store calls to the connection's backend.
 * Nothing here knows SQL; see sqlite/sqlite_games.c.
 */
#include <stdlib.h>

#include "store/backend.h"

void pb_store_game_round_clear(pb_store_game_round *r)
{
    free(r->params);
    free(r->outcome);
    r->params = NULL;
    r->outcome = NULL;
}

pb_store_rc pb_store_seed_pair_insert(pb_store_conn *c, const pb_store_seed_pair *p)
{
    return c->be->games->pair_insert(c, p);
}

pb_store_rc pb_store_seed_pair_active(pb_store_conn *c, const char *player, pb_store_seed_pair *out)
{
    return c->be->games->pair_active(c, player, out);
}

pb_store_rc pb_store_seed_pair_get(pb_store_conn *c, const char *id, pb_store_seed_pair *out)
{
    return c->be->games->pair_get(c, id, out);
}

pb_store_rc pb_store_seed_pair_set_nonce(pb_store_conn *c, const char *id, int64_t next_nonce)
{
    return c->be->games->pair_set_nonce(c, id, next_nonce);
}

pb_store_rc pb_store_seed_pair_retire(pb_store_conn *c, const char *id, int64_t revealed_at,
                                      const char *server_seed)
{
    return c->be->games->pair_retire(c, id, revealed_at, server_seed);
}

pb_store_rc pb_store_seed_pair_list(pb_store_conn *c, const char *player, int64_t before_seq,
                                    pb_store_seed_pair *out, size_t cap, size_t *n)
{
    return c->be->games->pair_list(c, player, before_seq, out, cap, n);
}

pb_store_rc pb_store_game_round_insert(pb_store_conn *c, const pb_store_game_round *r)
{
    return c->be->games->round_insert(c, r);
}

pb_store_rc pb_store_game_round_get(pb_store_conn *c, const char *id, pb_store_game_round *out)
{
    return c->be->games->round_get(c, id, out);
}

pb_store_rc pb_store_game_round_by_key(pb_store_conn *c, const char *player, const char *key,
                                       pb_store_game_round *out)
{
    return c->be->games->round_by_key(c, player, key, out);
}

pb_store_rc pb_store_game_round_update(pb_store_conn *c, const pb_store_game_round *r,
                                       const char *from_state)
{
    return c->be->games->round_update(c, r, from_state);
}

pb_store_rc pb_store_game_round_delete_pending(pb_store_conn *c, const char *id)
{
    return c->be->games->round_delete_pending(c, id);
}

pb_store_rc pb_store_game_round_list(pb_store_conn *c, const pb_store_game_round_query *q,
                                     pb_store_game_round *out, size_t *n)
{
    return c->be->games->round_list(c, q, out, n);
}

pb_store_rc pb_store_game_round_open(pb_store_conn *c, int64_t after_seq, pb_store_game_round *out,
                                     size_t cap, size_t *n)
{
    return c->be->games->round_open(c, after_seq, out, cap, n);
}

pb_store_rc pb_store_game_round_of_crash(pb_store_conn *c, const char *crash_round,
                                         const char *state, pb_store_game_round *out, size_t cap,
                                         size_t *n)
{
    return c->be->games->round_of_crash(c, crash_round, state, out, cap, n);
}

pb_store_rc pb_store_game_round_of_crash_player(pb_store_conn *c, const char *crash_round,
                                                const char *player, const char *state,
                                                pb_store_game_round *out, size_t cap, size_t *n)
{
    return c->be->games->round_of_crash_player(c, crash_round, player, state, out, cap, n);
}

pb_store_rc pb_store_game_totals_list(pb_store_conn *c, int64_t brand_id, int64_t from_us,
                                      int64_t to_us, pb_store_game_totals *out, size_t cap,
                                      size_t *n)
{
    return c->be->games->totals(c, brand_id, from_us, to_us, out, cap, n);
}

pb_store_rc pb_store_game_rtp_get(pb_store_conn *c, int64_t brand_id, const char *game,
                                  int32_t *rtp_bp)
{
    return c->be->games->rtp_get(c, brand_id, game, rtp_bp);
}

pb_store_rc pb_store_game_rtp_put(pb_store_conn *c, int64_t brand_id, const char *game,
                                  int32_t rtp_bp, int64_t now, const char *by)
{
    return c->be->games->rtp_put(c, brand_id, game, rtp_bp, now, by);
}

pb_store_rc pb_store_crash_chain_current(pb_store_conn *c, int64_t brand_id,
                                         pb_store_crash_chain *out)
{
    return c->be->games->chain_current(c, brand_id, out);
}

pb_store_rc pb_store_crash_chain_get(pb_store_conn *c, int64_t id, pb_store_crash_chain *out)
{
    return c->be->games->chain_get(c, id, out);
}

pb_store_rc pb_store_crash_chain_insert(pb_store_conn *c, pb_store_crash_chain *ch)
{
    return c->be->games->chain_insert(c, ch);
}

pb_store_rc pb_store_crash_chain_advance(pb_store_conn *c, int64_t id, int64_t next_position)
{
    return c->be->games->chain_advance(c, id, next_position);
}

pb_store_rc pb_store_crash_round_insert(pb_store_conn *c, const pb_store_crash_round *r)
{
    return c->be->games->crash_insert(c, r);
}

pb_store_rc pb_store_crash_round_get(pb_store_conn *c, const char *id, pb_store_crash_round *out)
{
    return c->be->games->crash_get(c, id, out);
}

pb_store_rc pb_store_crash_round_latest(pb_store_conn *c, int64_t brand_id,
                                        pb_store_crash_round *out)
{
    return c->be->games->crash_latest(c, brand_id, out);
}

pb_store_rc pb_store_crash_round_update(pb_store_conn *c, const pb_store_crash_round *r,
                                        const char *from_state)
{
    return c->be->games->crash_update(c, r, from_state);
}

pb_store_rc pb_store_crash_round_list(pb_store_conn *c, int64_t brand_id, const char *state,
                                      int64_t before_seq, pb_store_crash_round *out, size_t cap,
                                      size_t *n)
{
    return c->be->games->crash_list(c, brand_id, state, before_seq, out, cap, n);
}

pb_store_rc pb_store_seed_pair_unsealed(pb_store_conn *c, pb_store_seed_pair *out, size_t cap,
                                        size_t *n)
{
    return c->be->games->pair_unsealed(c, out, cap, n);
}

pb_store_rc pb_store_seed_pair_set_seed(pb_store_conn *c, const char *id, const char *stored)
{
    return c->be->games->pair_set_seed(c, id, stored);
}

pb_store_rc pb_store_crash_chain_unsealed(pb_store_conn *c, pb_store_crash_chain *out, size_t cap,
                                          size_t *n)
{
    return c->be->games->chain_unsealed(c, out, cap, n);
}

pb_store_rc pb_store_crash_chain_set_seed(pb_store_conn *c, int64_t id, const char *stored)
{
    return c->be->games->chain_set_seed(c, id, stored);
}

pb_store_rc pb_store_crash_round_unsealed(pb_store_conn *c, pb_store_crash_round *out, size_t cap,
                                          size_t *n)
{
    return c->be->games->crash_unsealed(c, out, cap, n);
}

pb_store_rc pb_store_crash_round_set_hash(pb_store_conn *c, const char *id, const char *stored)
{
    return c->be->games->crash_set_hash(c, id, stored);
}
