/*
 * store_request.c — dispatches the 4-eyes requests' statements (store_request.h)
 * and each kind's own (store_adjustment.h, store_settlement.h) to the connection's
 * backend (sqlite/sqlite_request.c and the kinds' files beside it).
 */
#include "store/backend.h"

size_t pb_store_request_size(pb_store_request_kind k)
{
    switch (k) { /* no default: a kind added without its row is a warning (-Wswitch) */
    case PB_STORE_REQUEST_ADJUSTMENT: return sizeof(pb_store_adjustment);
    case PB_STORE_REQUEST_SETTLEMENT: return sizeof(pb_store_settlement);
    case PB_STORE_REQUEST_KINDS: break;
    }
    return 0;
}

pb_store_rc pb_store_request_insert(pb_store_conn *c, pb_store_request_kind k, pb_store_request *r)
{
    return c->be->request->insert(c, k, r);
}

pb_store_rc pb_store_request_get(pb_store_conn *c, pb_store_request_kind k, const char *public_id,
                                 pb_store_request *out)
{
    return c->be->request->get(c, k, public_id, out);
}

pb_store_rc pb_store_request_by_key(pb_store_conn *c, pb_store_request_kind k, const char *brand,
                                    const char *key, pb_store_request *out)
{
    return c->be->request->by_key(c, k, brand, key, out);
}

pb_store_rc pb_store_request_decide(pb_store_conn *c, pb_store_request_kind k,
                                    const pb_store_request *r)
{
    return c->be->request->decide(c, k, r);
}

pb_store_rc pb_store_request_list(pb_store_conn *c, pb_store_request_kind k,
                                  const char *brands_json, int64_t now, const char *status,
                                  int64_t before_id, void *out, size_t cap, size_t *n)
{
    return c->be->request->list(c, k, brands_json, now, status, before_id, out, cap, n);
}

pb_store_rc pb_store_request_due(pb_store_conn *c, pb_store_request_kind k, const char *brand,
                                 int64_t requested_before, void *out, size_t cap, size_t *n)
{
    return c->be->request->due(c, k, brand, requested_before, out, cap, n);
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

pb_store_rc pb_store_settlement_by_transfer(pb_store_conn *c, const char *transfer_id,
                                            pb_store_settlement *out)
{
    return c->be->settlement->by_transfer(c, transfer_id, out);
}
