/*
 * store_reconcile.c — dispatches the reconciliation's store calls to the
 * connection's backend. Nothing here knows SQL; see sqlite/sqlite_reconcile.c.
 */
#include "store/backend.h"

pb_store_rc pb_store_recon_insert(pb_store_conn *c, const pb_store_recon *r, int64_t *seq)
{
    return c->be->recon->insert(c, r, seq);
}

pb_store_rc pb_store_recon_item_insert(pb_store_conn *c, int64_t run_seq,
                                       const pb_store_recon_item *it)
{
    return c->be->recon->item_insert(c, run_seq, it);
}

pb_store_rc pb_store_recon_get(pb_store_conn *c, const char *id, pb_store_recon *out)
{
    return c->be->recon->get(c, id, out);
}

pb_store_rc pb_store_recon_list(pb_store_conn *c, int64_t before_seq, size_t limit,
                                pb_store_recon *out, size_t *n)
{
    return c->be->recon->list(c, before_seq, limit, out, n);
}

pb_store_rc pb_store_recon_items(pb_store_conn *c, int64_t run_seq, const char *brand_ids_json,
                                 int64_t after_n, size_t limit, pb_store_recon_item *out, size_t *n)
{
    return c->be->recon->items(c, run_seq, brand_ids_json, after_n, limit, out, n);
}
