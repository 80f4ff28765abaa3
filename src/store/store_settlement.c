/*
 * store_settlement.c — dispatches the unclaimed-funds settlement requests'
 * statements to the connection's backend (sqlite/sqlite_settlement.c).
 */
#include "store/backend.h"

pb_store_rc pb_store_settlement_insert(pb_store_conn *c, pb_store_settlement *s)
{
    return c->be->settlement->insert(c, s);
}

pb_store_rc pb_store_settlement_get(pb_store_conn *c, const char *public_id,
                                    pb_store_settlement *out)
{
    return c->be->settlement->get(c, public_id, out);
}

pb_store_rc pb_store_settlement_by_key(pb_store_conn *c, const char *brand, const char *key,
                                       pb_store_settlement *out)
{
    return c->be->settlement->by_key(c, brand, key, out);
}

pb_store_rc pb_store_settlement_by_transfer(pb_store_conn *c, const char *transfer_id,
                                            pb_store_settlement *out)
{
    return c->be->settlement->by_transfer(c, transfer_id, out);
}

pb_store_rc pb_store_settlement_decide(pb_store_conn *c, const pb_store_settlement *s)
{
    return c->be->settlement->decide(c, s);
}

pb_store_rc pb_store_settlement_list(pb_store_conn *c, const char *brands_json, int64_t now,
                                     const char *status, int64_t before_id,
                                     pb_store_settlement *out, size_t cap, size_t *n)
{
    return c->be->settlement->list(c, brands_json, now, status, before_id, out, cap, n);
}

pb_store_rc pb_store_settlement_due(pb_store_conn *c, const char *brand, int64_t requested_before,
                                    pb_store_settlement *out, size_t cap, size_t *n)
{
    return c->be->settlement->due(c, brand, requested_before, out, cap, n);
}
