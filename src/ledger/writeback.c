/*
 * writeback.c — the balance rows and the open-pending projection, written
 * back lazily (the writer thread only).
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
 *
 * Open holds likewise (migration 0016): a new hold is kept in the writer's
 * memory (cache.c) and queued in seq order; the pass that writes balance rows
 * also inserts into ledger_pending_open the queued holds that have stayed open
 * for balance_flush_ms. A hold posted or voided before that — most of them: a
 * bet's hold lives for one round — never touches the table. The pending mark
 * (ledger_state.pending_seq) is the seq below the oldest hold still queued:
 * the table is exact up to it. Opening the ledger, and a failed batch, replay
 * the transfers above it to find the holds the table lacks; the expiry sweep
 * looks at both (engine.c).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "core/log.h"
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

static int replay_side(replay_ctx *x, const pb_store_transfer *t, int64_t id,
                       int64_t pending_amount)
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
    if (t->malformed) { /* the counters cannot be rebuilt from it: fail closed */
        pb_log(PB_LOG_ERROR, "ledger.damaged_row",
               "transfer seq %" PRId64 " above the balance mark is damaged (column %s has the "
               "wrong type or size): the accounts' counters cannot be rebuilt; run `pitboss "
               "ledger verify`",
               t->seq, t->malformed);
        x->e = PB_ERR_STORE_CORRUPT;
        return 1;
    }
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
/* ---- the queue of holds not yet in ledger_pending_open (a ring) ---- */

static int lazy_reserve(pb_ledger *l)
{
    if (l->nlazy < l->lazy_cap)
        return 0;
    size_t n = l->lazy_cap ? l->lazy_cap * 2 : 1024;
    lazy_hold *p = malloc(n * sizeof *p);
    if (!p)
        return -1;
    for (size_t i = 0; i < l->nlazy; i++) /* unrolled from head: the new ring starts at 0 */
        p[i] = l->lazy[(l->lazy_head + i) % l->lazy_cap];
    free(l->lazy);
    l->lazy = p;
    l->lazy_cap = n;
    l->lazy_head = 0;
    return 0;
}

static lazy_hold *lazy_at(pb_ledger *l, size_t i)
{
    return &l->lazy[(l->lazy_head + i) % l->lazy_cap];
}

static void lazy_pop(pb_ledger *l)
{
    l->lazy_head = (l->lazy_head + 1) % l->lazy_cap;
    l->nlazy--;
}

/* The queued hold's entry while it is open and not in the table; NULL when the
 * queue entry is stale (the hold was resolved, or written since). */
static hold_entry *lazy_live(pb_ledger *l, const lazy_hold *q)
{
    hold_entry *h = pb_ledger_holds_get(l, &q->id);
    return h && h->seq == q->seq && !h->flushed ? h : NULL;
}

/* Keeps r (an open hold the table lacks) in memory, queued. false: no room. */
static bool keep_unflushed(pb_ledger *l, const pb_store_transfer *r, int64_t now)
{
    if (lazy_reserve(l) != 0 || !pb_ledger_holds_put(l, r, false))
        return false;
    lazy_hold *q = &l->lazy[(l->lazy_head + l->nlazy) % l->lazy_cap];
    q->id = r->id;
    q->seq = r->seq;
    q->since_us = now;
    l->nlazy++;
    if (r->expires_at > 0 && r->expires_at < l->lazy_min_expiry)
        l->lazy_min_expiry = r->expires_at;
    return true;
}

pb_err pb_ledger_hold_opened(pb_ledger *l, const pb_store_transfer *r)
{
    if (r->expires_at > 0 && r->expires_at < l->next_expiry)
        l->next_expiry = r->expires_at;
    if (l->cfg.balance_flush_ms >= 0 && keep_unflushed(l, r, pb_time_mono_us()))
        return PB_OK;
    /* eager, or no room to keep it: into the table now */
    if (pb_store_pending_open_insert(l->wconn, r->seq, r->expires_at) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    (void)pb_ledger_holds_put(l, r, true); /* only to settle it without a read */
    return PB_OK;
}

pb_err pb_ledger_hold_resolved(pb_ledger *l, int64_t seq, const pb_id *pending_id)
{
    const hold_entry *h = pb_ledger_holds_get(l, pending_id);
    bool in_table = !h || h->flushed; /* a hold not kept here is in the table */
    if (h)
        pb_ledger_holds_del(l, pending_id); /* its queue entry goes stale */
    if (in_table && pb_store_pending_open_delete(l->wconn, seq) != PB_STORE_OK)
        return PB_ERR_INTERNAL; /* NOT_FOUND too: the projection lost an open hold */
    return PB_OK;
}

size_t pb_ledger_lazy_expired(pb_ledger *l, int64_t now, int64_t *out, size_t cap)
{
    if (now < l->lazy_min_expiry)
        return 0; /* none can be due: no scan (the sweep runs for the table's holds too) */
    size_t n = 0;
    int64_t later = INT64_MAX; /* the earliest expiry among those not due */
    for (size_t i = 0; i < l->nlazy; i++) {
        const hold_entry *h = lazy_live(l, lazy_at(l, i));
        if (!h || h->expires_at <= 0)
            continue;
        if (h->expires_at <= now && n < cap)
            out[n++] = h->seq;
        else if (h->expires_at < later)
            later = h->expires_at;
    }
    /* the ones taken are voided in this batch (a failed batch rebuilds the ring) */
    l->lazy_min_expiry = later;
    return n;
}

int64_t pb_ledger_lazy_next_expiry(pb_ledger *l) { return l->lazy_min_expiry; }

typedef struct hold_replay_ctx {
    pb_ledger *l;
    int64_t now;
    pb_err e;
} hold_replay_ctx;

/* A transfer above the pending mark: a hold the table lacks is kept as
 * unflushed; a resolution forgets the hold it resolved (its table row, if it
 * had one, went in the same commit). */
static int replay_hold(void *p, const pb_store_transfer *t)
{
    hold_replay_ctx *x = p;
    pb_ledger *l = x->l;
    if (t->malformed) { /* which holds are open cannot be told: fail closed */
        pb_log(PB_LOG_ERROR, "ledger.damaged_row",
               "transfer seq %" PRId64 " above the pending mark is damaged (column %s has the "
               "wrong type or size): the open holds cannot be rebuilt; run `pitboss ledger "
               "verify`",
               t->seq, t->malformed);
        x->e = PB_ERR_STORE_CORRUPT;
        return 1;
    }
    if (t->flags & PB_TRANSFER_PENDING) {
        int64_t expires_at;
        pb_store_rc rc = pb_store_pending_open_get(l->wconn, t->seq, &expires_at);
        if (rc == PB_STORE_OK) {
            (void)pb_ledger_holds_put(l, t, true);
        } else if (rc != PB_STORE_NOT_FOUND || !keep_unflushed(l, t, x->now)) {
            x->e = PB_ERR_INTERNAL;
            return 1;
        }
    } else if (t->has_pending_id) {
        pb_ledger_holds_del(l, &t->pending_id);
    }
    return 0;
}

static pb_err replay_holds(pb_ledger *l)
{
    if (pb_store_pending_mark_get(l->wconn, &l->pmark) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    l->pmark_pending = l->pmark;
    l->lazy_min_expiry = INT64_MAX; /* the ring is empty here: the replay's holds lower it */
    hold_replay_ctx x = {l, pb_time_mono_us(), PB_OK};
    if (pb_store_transfer_scan(l->wconn, l->pmark, replay_hold, &x) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    return x.e;
}

/* In a pass: inserts the queued holds open for balance_flush_ms (all when
 * flush_all) into the table, drops stale queue entries, and moves the pending
 * mark below the oldest hold still queued. */
static pb_err flush_holds(pb_ledger *l, int64_t due)
{
    while (l->nlazy) {
        lazy_hold *q = lazy_at(l, 0);
        hold_entry *h = lazy_live(l, q);
        if (h) {
            if (!l->flush_all && q->since_us > due)
                break;
            if (pb_store_pending_open_insert(l->wconn, h->seq, h->expires_at) != PB_STORE_OK)
                return PB_ERR_INTERNAL; /* the batch rolls back; reset rebuilds the queue */
            h->flushed = true;
        }
        lazy_pop(l);
    }
    int64_t pmark = l->nlazy ? lazy_at(l, 0)->seq - 1 : l->next_seq - 1;
    if (pmark != l->pmark && pb_store_pending_mark_set(l->wconn, pmark) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    l->pmark_pending = pmark;
    return PB_OK;
}

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
    return replay_holds(l);
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
    return flush_holds(l, due);
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
    l->pmark = l->pmark_pending;
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
