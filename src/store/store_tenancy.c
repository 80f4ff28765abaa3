/*
 * store_tenancy.c — dispatches tenancy's store calls to the connection's backend.
 * Nothing here knows SQL; see sqlite/sqlite_tenancy.c.
 */
#include "store/backend.h"

/* Each function forwards to the backend's tenancy ops table. */
pb_store_rc pb_store_brand_insert(pb_store_conn *c, pb_store_brand *b)
{
    return c->be->tenancy->brand_insert(c, b);
}

pb_store_rc pb_store_brand_update(pb_store_conn *c, const pb_store_brand *b)
{
    return c->be->tenancy->brand_update(c, b);
}

pb_store_rc pb_store_brand_get(pb_store_conn *c, int64_t id, pb_store_brand *out)
{
    return c->be->tenancy->brand_get(c, id, out);
}

pb_store_rc pb_store_brand_by_code(pb_store_conn *c, const char *code, pb_store_brand *out)
{
    return c->be->tenancy->brand_by_code(c, code, out);
}

pb_store_rc pb_store_brand_list(pb_store_conn *c, int64_t after_id, pb_store_brand *out, size_t cap,
                                size_t *n)
{
    return c->be->tenancy->brand_list(c, after_id, out, cap, n);
}
