/*
 * store_backoffice.c — dispatches the back office's money reads to the
 * connection's backend. Nothing here knows SQL; see
 * sqlite/sqlite_backoffice_money.c.
 */
#include "store/backend.h"

/* Each function forwards to the backend's back-office money ops table. */
pb_store_rc pb_store_bo_cashier_sums(pb_store_conn *c, pb_store_bo_cashier_figure fig,
                                     const char *brand, int64_t since, pb_store_bo_sum *out,
                                     size_t cap, size_t *n)
{
    return c->be->backoffice_money->cashier_sums(c, fig, brand, since, out, cap, n);
}

pb_store_rc pb_store_bo_cashier_buckets(pb_store_conn *c, pb_store_bo_cashier_figure fig,
                                        const char *brand, int64_t since, int64_t width_us,
                                        pb_store_bo_sum *out, size_t cap, size_t *n)
{
    return c->be->backoffice_money->cashier_buckets(c, fig, brand, since, width_us, out, cap, n);
}

pb_store_rc pb_store_bo_play_scan(pb_store_conn *c, const char *brand, int64_t since,
                                  pb_store_bo_play_cb cb, void *ctx)
{
    return c->be->backoffice_money->play_scan(c, brand, since, cb, ctx);
}

pb_store_rc pb_store_bo_tx_walk(pb_store_conn *c, const pb_store_bo_walk *w, pb_store_bo_tx_cb cb,
                                void *ctx)
{
    return c->be->backoffice_money->tx_walk(c, w, cb, ctx);
}

pb_store_rc pb_store_bo_tx_walk_accounts(pb_store_conn *c, const int64_t *ids, int64_t *starts,
                                         size_t n, int64_t below_seq, int64_t from_seq,
                                         pb_store_bo_tx_cb cb, void *ctx)
{
    return c->be->backoffice_money->tx_walk_accounts(c, ids, starts, n, below_seq, from_seq, cb,
                                                     ctx);
}

pb_store_rc pb_store_bo_seq_at(pb_store_conn *c, int64_t t, int64_t *seq)
{
    return c->be->backoffice_money->seq_at(c, t, seq);
}

pb_store_rc pb_store_bo_rtp_actual(pb_store_conn *c, int64_t brand_id, pb_store_bo_rtp *out,
                                   size_t cap, size_t *n)
{
    return c->be->backoffice_money->rtp_actual(c, brand_id, out, cap, n);
}

pb_store_rc pb_store_bo_tx_walk_kind(pb_store_conn *c, const char *kind, const int64_t *ids,
                                     int64_t *starts, size_t n, int64_t below_seq,
                                     pb_store_bo_tx_cb cb, void *ctx)
{
    return c->be->backoffice_money->tx_walk_kind(c, kind, ids, starts, n, below_seq, cb, ctx);
}

pb_store_rc pb_store_bo_game_op_of_transfer(pb_store_conn *c, const char *provider,
                                            const char *round_id, const pb_id *transfer_id,
                                            char *player, size_t player_cap, char *tx_id,
                                            size_t tx_cap)
{
    return c->be->backoffice_money->game_op_of_transfer(c, provider, round_id, transfer_id, player,
                                                        player_cap, tx_id, tx_cap);
}
