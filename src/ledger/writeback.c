/*
 * writeback.c — the balance rows, written back lazily (the writer thread only).
 *
 * The writer's cached counters are authoritative. An account the batch changed
 * joins the write-back queue (oldest first) and its ledger_balance row is
 * written back once it has lagged balance_flush_ms, in passes every 1/8 of that,
 * so a table page goes to the log once per pass, not once per commit. A row is
 * exact as of its own last_seq; ledger_state.balances_seq (the mark) is the seq
 * up to which every row holds every transfer. Opening the ledger, and a failed
 * batch, replay the transfers above the mark onto the rows (replay below); a
 * clean stop writes every row back (writer.c). After each commit the batch's
 * counters are published to readers (live.c) before anyone is answered.
 */
#include <stdlib.h>

#include "core/time.h"
#include "ledger/ledger_internal.h"

#define CACHE_MAX_ACCOUNTS (1u << 20) /* dropped (all written back) after a commit beyond this */

/* Room for one more entry in the batch's dirty list. */
static int dirty_reserve(pb_ledger *l)
{
    if (l->ndirty < l->dirty_cap)
        return 0;
    size_t n = l->dirty_cap ? l->dirty_cap * 2 : 64;
    cached_account **p = realloc(l->dirty, n * sizeof *p);
    if (!p)
        return -1;
    l->dirty = p;
    l->dirty_cap = n;
    return 0;
}

/* Queues an account for write-back (the batch changed it; its row lags from now). */
static void enqueue_unflushed(pb_ledger *l, cached_account *e, int64_t now, int64_t since_seq)
{
    if (e->unflushed)
        return;
    e->unflushed = true;
    e->since_us = now;
    e->since_seq = since_seq;
    e->next_unflushed = NULL;
    if (l->uf_tail)
        l->uf_tail->next_unflushed = e;
    else
        l->uf_head = e;
    l->uf_tail = e;
}

typedef struct replay_ctx {
    pb_ledger *l;
    pb_err e;
} replay_ctx;

static int replay_side(replay_ctx *x, const pb_store_transfer *t, int64_t id, int64_t pending_amount)
{
    cached_account *e;
    if ((x->e = pb_ledger_cache_get(x->l, id, &e)) != PB_OK)
        return 1;
    if (!e) {
        x->e = PB_ERR_INTERNAL; /* a transfer naming no account: the store is damaged */
        return 1;
    }
    if (t->seq <= e->a.last_seq)
        return 0; /* already in the row */
    pb_ledger_apply_record(&e->a, t, pending_amount);
    if (!e->dirty) {
        if (dirty_reserve(x->l) != 0) {
            x->e = PB_ERR_INTERNAL;
            return 1;
        }
        e->dirty = true;
        x->l->dirty[x->l->ndirty++] = e;
    }
    return 0;
}

static int replay_one(void *p, const pb_store_transfer *t)
{
    replay_ctx *x = p;
    int64_t pending_amount;
    if ((x->e = pb_ledger_record_pending_amount(x->l->wconn, &x->l->ids, t, &pending_amount)) !=
        PB_OK)
        return 1;
    return replay_side(x, t, t->debit_account_id, pending_amount) ||
           replay_side(x, t, t->credit_account_id, pending_amount);
}

/*
 * Rebuilds in the cache the counters the balance rows do not have yet: every
 * transfer above the balance mark is applied to each of its accounts whose row
 * does not include it (its seq is above the row's last_seq). The accounts it
 * changes are queued for write-back and published to readers.
 */
pb_err pb_ledger_writeback_replay(pb_ledger *l)
{
    if (pb_store_balances_mark_get(l->wconn, &l->mark) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    l->mark_pending = l->mark;
    replay_ctx x = {l, PB_OK};
    if (pb_store_transfer_scan(l->wconn, l->mark, replay_one, &x) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (x.e != PB_OK)
        return x.e;
    int64_t now = pb_time_mono_us();
    for (size_t i = 0; i < l->ndirty; i++)
        enqueue_unflushed(l, l->dirty[i], now, l->mark + 1);
    if (l->ndirty && pb_ledger_live_publish(l->live, l->dirty, l->ndirty) != 0)
        return PB_ERR_INTERNAL;
    for (size_t i = 0; i < l->ndirty; i++)
        l->dirty[i]->dirty = false;
    l->ndirty = 0;
    return PB_OK;
}

pb_err pb_ledger_engine_flush(pb_ledger *l)
{
    int64_t now = pb_time_mono_us(); /* ages are real time, whatever clock stamps transfers */
    for (size_t i = 0; i < l->ndirty; i++)
        enqueue_unflushed(l, l->dirty[i], now, l->batch_first_seq);
    /* Rows are written back in passes, one every balance_flush_ms / 8: a pass
     * writes every row that has lagged balance_flush_ms, so each table page it
     * touches goes to the log once per pass rather than once per commit. */
    bool eager = l->cfg.balance_flush_ms < 0;
    int64_t period = eager ? 0 : (int64_t)l->cfg.balance_flush_ms * 1000;
    if (!eager && !l->flush_all && now - l->last_pass_us < period / 8)
        return PB_OK;
    l->last_pass_us = now;
    int64_t due = eager ? INT64_MAX : now - period;
    /* the queue is in the order accounts started to lag: write back from its head */
    while (l->uf_head && (l->flush_all || l->uf_head->since_us <= due)) {
        cached_account *e = l->uf_head;
        if (pb_store_balance_update(l->wconn, &e->a) != PB_STORE_OK)
            return PB_ERR_INTERNAL; /* the batch rolls back; reset rebuilds the queue */
        l->uf_head = e->next_unflushed;
        if (!l->uf_head)
            l->uf_tail = NULL;
        e->unflushed = false;
        e->next_unflushed = NULL;
    }
    /* every transfer before the oldest lagging account's first is in every row */
    int64_t mark = l->uf_head ? l->uf_head->since_seq - 1 : l->next_seq - 1;
    if (mark != l->mark) {
        if (pb_store_balances_mark_set(l->wconn, mark) != PB_STORE_OK)
            return PB_ERR_INTERNAL;
    }
    l->mark_pending = mark;
    return PB_OK;
}

void pb_ledger_engine_committed(pb_ledger *l)
{
    /* published before anyone is answered (the notifier answers after this) */
    if (l->ndirty && pb_ledger_live_publish(l->live, l->dirty, l->ndirty) != 0) {
        /* out of memory: readers could miss these counters, so write every row
         * back in the next batch and start over from the rows */
        l->flush_all = true;
    }
    for (size_t i = 0; i < l->ndirty; i++)
        l->dirty[i]->dirty = false;
    l->ndirty = 0;
    l->mark = l->mark_pending;
    if (!l->uf_head) {
        if (l->flush_all || l->nused > CACHE_MAX_ACCOUNTS) {
            /* every row is current: the cache and what readers overlay may go */
            pb_ledger_cache_clear(l);
            pb_ledger_live_clear(l->live);
        }
        l->flush_all = false;
    } else if (l->nused > CACHE_MAX_ACCOUNTS) {
        l->flush_all = true;
    }
}
