/*
 * query.c — reading the ledger on the caller's connection (committed state).
 *
 * An account's history is a chain inside the append-only table: the balance
 * row names the account's newest transfer (last_seq) and every transfer names
 * the previous one of each of its two accounts. Walking it backwards costs one
 * primary-key lookup per transfer and needs no secondary index on the hot
 * table, which keeps every insert cheap. The cursor is the seq to continue at.
 *
 * Balance rows are written back lazily (see engine.c and live.c): every account
 * read here is brought up to date with what is committed, from the writer's
 * published counters in its own process or by replaying the account's newest
 * transfers from the store in another. A damaged account row (damaged.c) answers
 * STORE_CORRUPT, never counters or names read from it.
 */
#include <string.h>

#include "ledger/ledger_internal.h"

static pb_err map(pb_store_rc rc, pb_err not_found)
{
    switch (rc) {
    case PB_STORE_OK: return PB_OK;
    case PB_STORE_NOT_FOUND: return not_found;
    case PB_STORE_BUSY: return PB_ERR_STORE_UNAVAILABLE;
    case PB_STORE_CORRUPT: return PB_ERR_STORE_CORRUPT; /* a damaged row (store_ledger.h) */
    default: return PB_ERR_INTERNAL;
    }
}

/* Reads the account (by id, or by its four names when id is 0) and brings its
 * counters up to date. */
static pb_err read_live_in(pb_store_conn *c, pb_ledger_live *live, int64_t id, const char *brand,
                           const char *owner, const char *kind, const char *currency,
                           pb_ledger_account *out)
{
    for (;;) {
        uint64_t before = 0, after = 0;
        int64_t mark = 0;
        /* first what bounds the row's age (the generation, or the mark), then the row */
        if (live)
            before = pb_ledger_live_generation(live);
        else if (map(pb_store_balances_mark_get(c, &mark), PB_ERR_INTERNAL) != PB_OK)
            return PB_ERR_INTERNAL;
        pb_err e = id ? map(pb_store_account_get(c, id, out), PB_ERR_ACCOUNT_NOT_FOUND)
                      : map(pb_store_account_find(c, brand, owner, kind, currency, out),
                            PB_ERR_ACCOUNT_NOT_FOUND);
        if (e != PB_OK)
            return e;
        if (pb_ledger_account_damage(out)) /* damaged.c: its balances are not shown */
            return PB_ERR_STORE_CORRUPT;
        if (!live) {
            pb_ledger_ids ids;
            if ((e = pb_ledger_ids_load(c, &ids)) != PB_OK)
                return e;
            return pb_ledger_replay_account(c, &ids, mark, out);
        }
        /* no published counters and no write-back-and-forget since the row was read:
         * the row is current */
        if (pb_ledger_live_overlay(live, out, &after) || after == before)
            return PB_OK;
    }
}

/* The live table is held only inside this call: the ledger's close waits for it
 * (pb_store_set_ledger_live), so a reader on any thread never sees it freed. */
static pb_err read_live(pb_store_conn *c, int64_t id, const char *brand, const char *owner,
                        const char *kind, const char *currency, pb_ledger_account *out)
{
    unsigned ticket;
    pb_ledger_live *live = pb_store_ledger_live(c, &ticket);
    pb_err e = read_live_in(c, live, id, brand, owner, kind, currency, out);
    pb_store_ledger_live_done(c, ticket);
    return e;
}

pb_err pb_ledger_account_get(pb_store_conn *c, int64_t id, pb_ledger_account *out)
{
    if (id <= 0)
        return PB_ERR_ACCOUNT_NOT_FOUND;
    return read_live(c, id, NULL, NULL, NULL, NULL, out);
}

pb_err pb_ledger_account_find(pb_store_conn *c, const char *brand, const char *owner,
                              const char *kind, const char *currency, pb_ledger_account *out)
{
    return read_live(c, 0, brand, owner, kind, currency, out);
}

pb_err pb_ledger_transfer_get(pb_store_conn *c, const pb_id *id, pb_ledger_record *out)
{
    pb_ledger_ids ids;
    pb_err e = pb_ledger_ids_load(c, &ids);
    if (e != PB_OK)
        return e;
    return map(pb_ledger_transfer_by_id(c, &ids, id, out), PB_ERR_TRANSFER_NOT_FOUND);
}

pb_err pb_ledger_transfer_by_key(pb_store_conn *c, const char *scope, const char *key,
                                 pb_ledger_record *out)
{
    return map(pb_store_transfer_by_key(c, scope, key, out), PB_ERR_TRANSFER_NOT_FOUND);
}

pb_err pb_ledger_key_answered(pb_store_conn *c, const char *scope, const char *key, bool *answered)
{
    *answered = false;
    pb_ledger_record t;
    pb_err e = map(pb_store_transfer_by_key(c, scope, key, &t), PB_ERR_TRANSFER_NOT_FOUND);
    if (e == PB_ERR_TRANSFER_NOT_FOUND) {
        pb_store_rejection r;
        e = map(pb_store_rejection_by_key(c, scope, key, &r), PB_ERR_TRANSFER_NOT_FOUND);
    }
    *answered = e == PB_OK;
    return e == PB_ERR_TRANSFER_NOT_FOUND ? PB_OK : e;
}

/* The seq that follows `t` backwards in the chain of `account`. */
static int64_t prev_in_chain(const pb_ledger_record *t, int64_t account)
{
    return t->debit_account_id == account ? t->debit_prev_seq : t->credit_prev_seq;
}

pb_err pb_ledger_account_history(pb_store_conn *c, const pb_ledger_history_query *q,
                                 pb_ledger_record *out, size_t *n, int64_t *next_cursor)
{
    *n = 0;
    *next_cursor = 0;
    if (q->limit == 0 || q->limit > 1000 || q->cursor < 0 ||
        (q->from_us && q->to_us && q->from_us >= q->to_us))
        return PB_ERR_INVALID_REQUEST;
    int64_t seq = q->cursor;
    if (seq == 0) {
        /* the newest transfer, read before the snapshot below starts, so it is in it */
        pb_ledger_account a;
        pb_err e = pb_ledger_account_get(c, q->account_id, &a);
        if (e != PB_OK)
            return e;
        seq = a.last_seq;
    }
    pb_err e = pb_store_begin(c, PB_STORE_READ) == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
    if (e != PB_OK)
        return e;
    while (e == PB_OK && seq > 0) {
        pb_ledger_record t;
        /* a cursor naming no transfer is the client's mistake; a broken chain is ours */
        e = map(pb_store_transfer_by_seq(c, seq, &t),
                seq == q->cursor ? PB_ERR_INVALID_REQUEST : PB_ERR_INTERNAL);
        if (e != PB_OK)
            break;
        if (t.debit_account_id != q->account_id && t.credit_account_id != q->account_id) {
            e = q->cursor ? PB_ERR_INVALID_REQUEST : PB_ERR_INTERNAL; /* foreign cursor */
            break;
        }
        if (q->from_us && t.created_at < q->from_us)
            break; /* created_at never decreases along seq (the writer's clock is
                      clamped), so everything further back is older still */
        if (*n == q->limit) {
            *next_cursor = seq;
            break;
        }
        if ((!q->to_us || t.created_at < q->to_us) && (!q->code || t.code == q->code))
            out[(*n)++] = t;
        seq = prev_in_chain(&t, q->account_id);
    }
    pb_store_rollback(c);
    if (e != PB_OK)
        *n = 0;
    return e;
}
