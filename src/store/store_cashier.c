/*
 * store_cashier.c — dispatches the cashier's store calls to the connection's backend.
 * Nothing here knows SQL; see sqlite/sqlite_cashier.c.
 */
#include "store/backend.h"

pb_store_rc pb_store_payment_insert(pb_store_conn *c, const pb_store_payment *p)
{
    return c->be->cashier->payment_insert(c, p);
}

pb_store_rc pb_store_payment_get(pb_store_conn *c, const char *id, pb_store_payment *out)
{
    return c->be->cashier->payment_get(c, id, out);
}

pb_store_rc pb_store_payment_by_key(pb_store_conn *c, const char *player, const char *key,
                                    pb_store_payment *out)
{
    return c->be->cashier->payment_by_key(c, player, key, out);
}

pb_store_rc pb_store_payment_by_reference(pb_store_conn *c, const char *psp, const char *reference,
                                          pb_store_payment *out)
{
    return c->be->cashier->payment_by_reference(c, psp, reference, out);
}

pb_store_rc pb_store_payment_update(pb_store_conn *c, const pb_store_payment *p)
{
    return c->be->cashier->payment_update(c, p);
}

pb_store_rc pb_store_payment_list(pb_store_conn *c, const pb_store_payment_query *q,
                                  pb_store_payment *out, size_t *n)
{
    return c->be->cashier->payment_list(c, q, out, n);
}

pb_store_rc pb_store_payment_event_get(pb_store_conn *c, const char *psp, const char *event_id,
                                       pb_store_payment_event *out)
{
    return c->be->cashier->event_get(c, psp, event_id, out);
}

pb_store_rc pb_store_payment_event_insert(pb_store_conn *c, const pb_store_payment_event *e)
{
    return c->be->cashier->event_insert(c, e);
}

pb_store_rc pb_store_payment_event_deferred(pb_store_conn *c, const char *psp,
                                            const char *reference, pb_store_payment_event *out)
{
    return c->be->cashier->event_deferred(c, psp, reference, out);
}

pb_store_rc pb_store_withdrawal_insert(pb_store_conn *c, const pb_store_withdrawal *w)
{
    return c->be->cashier->withdrawal_insert(c, w);
}

pb_store_rc pb_store_withdrawal_get(pb_store_conn *c, const char *id, pb_store_withdrawal *out)
{
    return c->be->cashier->withdrawal_get(c, id, out);
}

pb_store_rc pb_store_withdrawal_by_key(pb_store_conn *c, const char *player, const char *key,
                                       pb_store_withdrawal *out)
{
    return c->be->cashier->withdrawal_by_key(c, player, key, out);
}

pb_store_rc pb_store_withdrawal_by_reference(pb_store_conn *c, const char *psp,
                                             const char *reference, pb_store_withdrawal *out)
{
    return c->be->cashier->withdrawal_by_reference(c, psp, reference, out);
}

pb_store_rc pb_store_withdrawal_update(pb_store_conn *c, const pb_store_withdrawal *w)
{
    return c->be->cashier->withdrawal_update(c, w);
}

pb_store_rc pb_store_withdrawal_list(pb_store_conn *c, const pb_store_withdrawal_query *q,
                                     pb_store_withdrawal *out, size_t *n)
{
    return c->be->cashier->withdrawal_list(c, q, out, n);
}

pb_store_rc pb_store_withdrawal_approval_insert(pb_store_conn *c,
                                                const pb_store_withdrawal_approval *a)
{
    return c->be->cashier->approval_insert(c, a);
}

pb_store_rc pb_store_withdrawal_approval_list(pb_store_conn *c, const char *withdrawal_id,
                                              pb_store_withdrawal_approval *out, size_t cap,
                                              size_t *n)
{
    return c->be->cashier->approval_list(c, withdrawal_id, out, cap, n);
}

pb_store_rc pb_store_withdrawal_approval_lapse(pb_store_conn *c, const char *withdrawal_id,
                                               const char *staff_id, int64_t at, const char *reason)
{
    return c->be->cashier->approval_lapse(c, withdrawal_id, staff_id, at, reason);
}

pb_store_rc pb_store_withdrawal_approvals_standing_by(pb_store_conn *c, const char *staff_id,
                                                      const char *after_withdrawal_id,
                                                      pb_store_withdrawal_approval *out, size_t cap,
                                                      size_t *n)
{
    return c->be->cashier->approvals_standing_by(c, staff_id, after_withdrawal_id, out, cap, n);
}

pb_store_rc pb_store_withdrawal_resolution_insert(pb_store_conn *c,
                                                  const pb_store_withdrawal_resolution *r)
{
    return c->be->cashier->resolution_insert(c, r);
}

pb_store_rc pb_store_withdrawal_resolution_get(pb_store_conn *c, const char *withdrawal_id,
                                               pb_store_withdrawal_resolution *out)
{
    return c->be->cashier->resolution_get(c, withdrawal_id, out);
}

pb_store_rc pb_store_withdrawal_resolution_delete(pb_store_conn *c, const char *withdrawal_id)
{
    return c->be->cashier->resolution_delete(c, withdrawal_id);
}

pb_store_rc pb_store_payment_settled_in(pb_store_conn *c, const char *psp, int64_t from, int64_t to,
                                        int64_t after_seq, size_t limit, pb_store_payment *out,
                                        size_t *n)
{
    return c->be->cashier->payment_settled_in(c, psp, from, to, after_seq, limit, out, n);
}

pb_store_rc pb_store_withdrawal_settled_in(pb_store_conn *c, const char *psp, int64_t from,
                                           int64_t to, int64_t after_seq, size_t limit,
                                           pb_store_withdrawal *out, size_t *n)
{
    return c->be->cashier->withdrawal_settled_in(c, psp, from, to, after_seq, limit, out, n);
}
