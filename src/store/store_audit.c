/* store_audit.c — dispatches the audit log's statements to the backend (see store_audit.h). */
#include "store/backend.h"

pb_store_rc pb_store_audit_head_get(pb_store_conn *c, pb_store_audit_head *out)
{
    return c->be->audit->head_get(c, out);
}

pb_store_rc pb_store_audit_entry_insert(pb_store_conn *c, const pb_store_audit_entry *e)
{
    return c->be->audit->entry_insert(c, e);
}

pb_store_rc pb_store_audit_entry_scan(pb_store_conn *c, int64_t after_seq,
                                      pb_store_audit_entry_cb cb, void *ctx)
{
    return c->be->audit->entry_scan(c, after_seq, cb, ctx);
}

pb_store_rc pb_store_audit_entry_query(pb_store_conn *c, const pb_store_audit_filter *f,
                                       pb_store_audit_entry_cb cb, void *ctx)
{
    return c->be->audit->entry_query(c, f, cb, ctx);
}

pb_store_rc pb_store_audit_entry_seq_at(pb_store_conn *c, int64_t at_us, int64_t *seq)
{
    return c->be->audit->entry_seq_at(c, at_us, seq);
}

pb_store_rc pb_store_audit_checkpoint_insert(pb_store_conn *c, const pb_store_audit_checkpoint *cp)
{
    return c->be->audit->checkpoint_insert(c, cp);
}

pb_store_rc pb_store_audit_checkpoint_last(pb_store_conn *c, pb_store_audit_checkpoint *out)
{
    return c->be->audit->checkpoint_last(c, out);
}

pb_store_rc pb_store_audit_checkpoint_scan(pb_store_conn *c, int64_t after_id,
                                           pb_store_audit_checkpoint_cb cb, void *ctx)
{
    return c->be->audit->checkpoint_scan(c, after_id, cb, ctx);
}
