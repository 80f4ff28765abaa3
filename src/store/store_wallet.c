/*
 * store_wallet.c — dispatches the wallet's store calls to the connection's backend.
 * Nothing here knows SQL; see sqlite/sqlite_wallet.c.
 */
#include "store/backend.h"

pb_store_rc pb_store_wallet_op_get(pb_store_conn *c, const char *provider, const char *tx_id,
                                   pb_store_wallet_op *out)
{
    return c->be->wallet->op_get(c, provider, tx_id, out);
}

pb_store_rc pb_store_wallet_op_insert(pb_store_conn *c, const pb_store_wallet_op *op)
{
    return c->be->wallet->op_insert(c, op);
}

pb_store_rc pb_store_wallet_bet_get(pb_store_conn *c, const char *provider, const char *bet_tx_id,
                                    pb_store_wallet_bet *out)
{
    return c->be->wallet->bet_get(c, provider, bet_tx_id, out);
}

pb_store_rc pb_store_wallet_bet_record_get(pb_store_conn *c, const char *provider,
                                           const char *bet_tx_id, pb_store_wallet_bet *out)
{
    return c->be->wallet->bet_record_get(c, provider, bet_tx_id, out);
}

pb_store_rc pb_store_wallet_bet_insert(pb_store_conn *c, const pb_store_wallet_bet *b)
{
    return c->be->wallet->bet_insert(c, b);
}

pb_store_rc pb_store_wallet_bet_set_state(pb_store_conn *c, const char *provider,
                                          const char *bet_tx_id, const char *state, int64_t now)
{
    return c->be->wallet->bet_set_state(c, provider, bet_tx_id, state, now);
}

pb_store_rc pb_store_wallet_round_get(pb_store_conn *c, const char *provider, const char *round_id,
                                      const char *player, pb_store_wallet_round *out)
{
    return c->be->wallet->round_get(c, provider, round_id, player, out);
}

pb_store_rc pb_store_wallet_round_put(pb_store_conn *c, const pb_store_wallet_round *r)
{
    return c->be->wallet->round_put(c, r);
}

pb_store_rc pb_store_wallet_owner_get(pb_store_conn *c, const char *provider, const char *tx_id,
                                      const char *bet_tx_id, pb_store_wallet_owner *out)
{
    return c->be->wallet->owner_get(c, provider, tx_id, bet_tx_id, out);
}

pb_store_rc pb_store_wallet_round_owners(pb_store_conn *c, const char *provider,
                                         const char *round_id, pb_store_wallet_owner *out,
                                         size_t cap, size_t *n)
{
    return c->be->wallet->round_owners(c, provider, round_id, out, cap, n);
}

pb_store_rc pb_store_wallet_round_tokens(pb_store_conn *c, const char *provider,
                                         const char *round_id, const char *player,
                                         const uint8_t token_hash[32], size_t *recorded,
                                         bool *match)
{
    return c->be->wallet->round_tokens(c, provider, round_id, player, token_hash, recorded, match);
}

pb_store_rc pb_store_wallet_round_has_bets(pb_store_conn *c, const char *provider,
                                           const char *round_id, const char *player, bool *has)
{
    return c->be->wallet->round_has_bets(c, provider, round_id, player, has);
}

pb_store_rc pb_store_wallet_round_played(pb_store_conn *c, const char *provider,
                                         const char *round_id, const char *player, bool *played)
{
    return c->be->wallet->round_played(c, provider, round_id, player, played);
}

pb_store_rc pb_store_wallet_round_has_win(pb_store_conn *c, const char *provider,
                                          const char *round_id, const char *player, bool *has)
{
    return c->be->wallet->round_has_win(c, provider, round_id, player, has);
}
