/*
 * idempotency.c — what a transfer's (scope, key) already answers. Looks the key
 * up among the stored transfers and the remembered rejections (behind the
 * rejection filter in cache.c): a request that asks for what was done replays
 * its stored result, one that asks for something else conflicts, and a row
 * that cannot be read refuses it STORE_CORRUPT (damaged.c). Also remembers a
 * chain's business rejection under its key. The engine (engine.c) calls both
 * inside the writer's open transaction.
 */
#include <stdio.h>
#include <string.h>

#include "core/id.h"
#include "core/log.h"
#include "ledger/ledger_internal.h"

/* Does a new request ask for what the stored transfer did? Fields a post/void
 * may leave to its pending (0 or "") match whatever the pending supplied. */
static bool matches_record(const pb_transfer *t, const pb_store_transfer *r)
{
    bool res = pb_ledger_is_resolution(t->flags);
    if ((t->flags & ~(uint32_t)PB_TRANSFER_LINKED) !=
        (r->flags & ~(uint32_t)(PB_TRANSFER_LINKED | PB_TRANSFER_EXPIRED)))
        return false;
    if (r->flags & PB_TRANSFER_EXPIRED)
        return false;
    if (!(res && t->debit_account_id == 0) && t->debit_account_id != r->debit_account_id)
        return false;
    if (!(res && t->credit_account_id == 0) && t->credit_account_id != r->credit_account_id)
        return false;
    if (!(res && t->amount == 0) && t->amount != r->amount)
        return false;
    if (!(res && t->currency[0] == 0) && strcmp(t->currency, r->currency) != 0)
        return false;
    if (!(res && t->code == 0) && t->code != r->code)
        return false;
    if (res && (!r->has_pending_id || pb_id_cmp(&t->pending_id, &r->pending_id) != 0))
        return false;
    return t->timeout_s == r->timeout_s && strcmp(t->reference, r->reference) == 0;
}

static bool matches_rejection(const pb_transfer *t, const pb_store_rejection *r)
{
    bool res = pb_ledger_is_resolution(t->flags);
    return t->debit_account_id == r->debit_account_id &&
           t->credit_account_id == r->credit_account_id && t->amount == r->amount &&
           strcmp(t->currency, r->currency) == 0 && t->code == r->code &&
           (t->flags & ~(uint32_t)PB_TRANSFER_LINKED) ==
               (r->flags & ~(uint32_t)PB_TRANSFER_LINKED) &&
           res == r->has_pending_id && (!res || pb_id_cmp(&t->pending_id, &r->pending_id) == 0) &&
           t->timeout_s == r->timeout_s && strcmp(t->reference, r->reference) == 0;
}

/* Looks the key up; on KEY_REPLAY t->result/record hold the stored outcome. */
pb_err pb_ledger_key_lookup(pb_ledger *l, pb_transfer *t, key_state *ks)
{
    pb_store_rc rc = pb_store_transfer_by_key(l->wconn, t->scope, t->key, &t->record);
    if (rc == PB_STORE_CORRUPT) {
        pb_ledger_refuse_damaged(l, t, t->record.seq, NULL, pb_store_errmsg(l->wconn), &t->result);
        memset(&t->record, 0, sizeof t->record);
        *ks = KEY_DAMAGED;
        return PB_OK;
    }
    if (rc == PB_STORE_OK) {
        *ks = matches_record(t, &t->record) ? KEY_REPLAY : KEY_CONFLICT;
        if (*ks == KEY_REPLAY && (t->flags & PB_TRANSFER_POST_PENDING) && t->amount == 0) {
            /* "post the full amount" replays only a post that did post all of it */
            pb_store_transfer p;
            memset(&p, 0, sizeof p);
            rc = pb_ledger_transfer_by_id(l->wconn, &l->ids, &t->record.pending_id, &p);
            if (rc == PB_STORE_CORRUPT || rc == PB_STORE_NOT_FOUND) {
                /* a post whose hold is gone or unreadable */
                pb_ledger_refuse_damaged(l, t, p.seq, &t->record.pending_id,
                                         rc == PB_STORE_CORRUPT
                                             ? pb_ledger_damage_why(l, &p)
                                             : "a post names it but it is not there",
                                         &t->result);
                memset(&t->record, 0, sizeof t->record);
                *ks = KEY_DAMAGED;
                return PB_OK;
            }
            if (rc != PB_STORE_OK)
                return PB_ERR_INTERNAL;
            if (p.amount != t->record.amount)
                *ks = KEY_CONFLICT;
        }
        if (*ks == KEY_REPLAY)
            t->result = PB_OK;
        return PB_OK;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    if (!pb_ledger_bloom_maybe(l, t->scope, t->key)) {
        *ks = KEY_NEW; /* never rejected: no need to look */
        return PB_OK;
    }
    pb_store_rejection rej;
    rc = pb_store_rejection_by_key(l->wconn, t->scope, t->key, &rej);
    if (rc == PB_STORE_CORRUPT) {
        pb_log(PB_LOG_ERROR, "ledger.damaged_row",
               "the remembered rejection of %s/%s is damaged (%s): the key is refused "
               "STORE_CORRUPT until it is repaired",
               t->scope, t->key, pb_store_errmsg(l->wconn));
        t->result = PB_ERR_STORE_CORRUPT;
        *ks = KEY_DAMAGED;
        return PB_OK;
    }
    if (rc == PB_STORE_NOT_FOUND) {
        *ks = KEY_NEW;
        return PB_OK;
    }
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (!matches_rejection(t, &rej)) {
        *ks = KEY_CONFLICT;
        return PB_OK;
    }
    pb_err e = pb_err_from_code(rej.error);
    t->result = e == PB_ERR_COUNT_ ? PB_ERR_INTERNAL : e;
    *ks = KEY_REPLAY;
    return PB_OK;
}

pb_err pb_ledger_remember_rejection(pb_ledger *l, const pb_transfer *x, pb_err why, int64_t now)
{
    pb_store_rejection r;
    memset(&r, 0, sizeof r);
    memcpy(r.scope, x->scope, sizeof r.scope);
    memcpy(r.ikey, x->key, sizeof r.ikey);
    r.debit_account_id = x->debit_account_id;
    r.credit_account_id = x->credit_account_id;
    r.amount = x->amount;
    memcpy(r.currency, x->currency, sizeof r.currency);
    r.code = x->code;
    r.flags = x->flags;
    r.has_pending_id = pb_ledger_is_resolution(x->flags);
    r.pending_id = x->pending_id;
    r.timeout_s = x->timeout_s;
    memcpy(r.reference, x->reference, sizeof r.reference);
    snprintf(r.error, sizeof r.error, "%s", pb_err_code(why));
    r.created_at = now;
    if (pb_store_rejection_insert(l->wconn, &r) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    /* a rolled-back batch reloads the filter from the store */
    pb_ledger_bloom_add(l, r.scope, r.ikey);
    return PB_OK;
}
