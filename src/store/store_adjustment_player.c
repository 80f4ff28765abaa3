/*
 * store_adjustment_player.c — dispatches one player's adjustment requests' reads
 * to the connection's backend (sqlite/sqlite_adjustment_player.c).
 */
#include "store/backend.h"

pb_store_rc pb_store_adjustment_player_pending(pb_store_conn *c, const char *player,
                                               pb_store_adjustment *out)
{
    return c->be->adjustment_player->pending(c, player, out);
}

pb_store_rc pb_store_adjustment_player_page(pb_store_conn *c, const char *player, int64_t before_id,
                                            pb_store_adjustment *out, size_t cap, size_t *n)
{
    return c->be->adjustment_player->page(c, player, before_id, out, cap, n);
}
