/*
 * store_adjustment.c — dispatches the adjustment requests' statements to the
 * connection's backend (sqlite/sqlite_adjustment.c).
 */
#include "store/backend.h"

pb_store_rc pb_store_adjustment_insert(pb_store_conn *c, pb_store_adjustment *a)
{
    return c->be->adjustment->insert(c, a);
}

pb_store_rc pb_store_adjustment_get(pb_store_conn *c, const char *public_id,
                                    pb_store_adjustment *out)
{
    return c->be->adjustment->get(c, public_id, out);
}

pb_store_rc pb_store_adjustment_by_key(pb_store_conn *c, const char *brand, const char *key,
                                       pb_store_adjustment *out)
{
    return c->be->adjustment->by_key(c, brand, key, out);
}

pb_store_rc pb_store_adjustment_decide(pb_store_conn *c, const pb_store_adjustment *a)
{
    return c->be->adjustment->decide(c, a);
}

pb_store_rc pb_store_adjustment_list(pb_store_conn *c, const char *brands_json, int64_t now,
                                     const char *status, int64_t before_id,
                                     pb_store_adjustment *out, size_t cap, size_t *n)
{
    return c->be->adjustment->list(c, brands_json, now, status, before_id, out, cap, n);
}

pb_store_rc pb_store_adjustment_due(pb_store_conn *c, const char *brand, int64_t requested_before,
                                    pb_store_adjustment *out, size_t cap, size_t *n)
{
    return c->be->adjustment->due(c, brand, requested_before, out, cap, n);
}

pb_store_rc pb_store_adjustment_player_pending(pb_store_conn *c, const char *player,
                                               pb_store_adjustment *out)
{
    return c->be->adjustment->player_pending(c, player, out);
}

pb_store_rc pb_store_adjustment_player_page(pb_store_conn *c, const char *player, int64_t before_id,
                                            pb_store_adjustment *out, size_t cap, size_t *n)
{
    return c->be->adjustment->player_page(c, player, before_id, out, cap, n);
}
