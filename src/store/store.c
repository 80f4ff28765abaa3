/*
 * store.c — picks a backend from the URL and dispatches every public call to it.
 * Nothing here knows SQL; see sqlite/ for the embedded backend.
 */
#include "store/backend.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pb_store *pb_store_open(const char *url, char *err, size_t errcap)
{
    if (!url || !*url) {
        snprintf(err, errcap, "empty database url");
        return NULL;
    }
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        snprintf(err, errcap, "the PostgreSQL backend is not part of this build yet");
        return NULL;
    }
    const char *target = url;
    if (strncmp(url, "sqlite:", 7) == 0)
        target = url + 7;
    return pb_store_sqlite_backend.open(target, err, errcap);
}

void pb_store_close(pb_store *s)
{
    if (s)
        s->be->close(s);
}

const char *pb_store_backend_name(const pb_store *s) { return s->be->name; }

pb_store_rc pb_store_writer_claim(pb_store *s, char *err, size_t errcap)
{
    return s->be->writer_claim ? s->be->writer_claim(s, err, errcap) : PB_STORE_OK;
}

void pb_store_writer_release(pb_store *s)
{
    if (s->be->writer_release)
        s->be->writer_release(s);
}

pb_store_conn *pb_store_connect(pb_store *s, char *err, size_t errcap)
{
    return s->be->connect(s, err, errcap);
}

void pb_store_disconnect(pb_store_conn *c)
{
    if (c)
        c->be->disconnect(c);
}

const char *pb_store_errmsg(pb_store_conn *c) { return c->be->errmsg(c); }
pb_store_rc pb_store_begin(pb_store_conn *c, pb_store_mode mode)
{
    pb_store_rc rc = c->be->begin(c, mode);
    if (rc == PB_STORE_OK) {
        c->in_txn = true;
        c->event_txn = 0;
    }
    return rc;
}

pb_store_rc pb_store_commit(pb_store_conn *c)
{
    /* a transaction that appended events marks what it commits: the newest row in
     * the outbox as it sees it (its own and every earlier commit's), read before the
     * commit. Not the ids its appends returned: one rolled back to a savepoint is
     * gone, and a later commit may be given the same id. */
    int64_t upto = 0;
    if (c->event_txn > 0 && pb_store_event_newest(c, &upto) != PB_STORE_OK)
        upto = 0; /* unknown: left to the dispatcher's own sync */
    pb_store_rc rc = c->be->commit(c);
    if (rc == PB_STORE_OK) {
        c->in_txn = false;
        pb_store_event_committed(c, upto);
        c->event_txn = 0;
    }
    return rc;
}

void pb_store_rollback(pb_store_conn *c)
{
    c->be->rollback(c);
    c->in_txn = false;
    c->event_txn = 0; /* those rows never were */
}
pb_store_rc pb_store_wal_restart(pb_store_conn *c, int min_frames)
{
    return c->be->wal_restart(c, min_frames);
}

int pb_store_wal_frames(pb_store_conn *c) { return c->be->wal_frames ? c->be->wal_frames(c) : 0; }

pb_store_rc pb_store_wal_reserve(pb_store_conn *c, int frames)
{
    return c->be->wal_reserve ? c->be->wal_reserve(c, frames) : PB_STORE_OK;
}

pb_store_rc pb_store_checkpoint(pb_store_conn *c) { return c->be->checkpoint(c); }
pb_store_rc pb_store_backup(pb_store_conn *c, const char *path, bool check,
                            pb_store_backup_accept_fn accept, void *ctx, pb_store_backup_info *info)
{
    pb_store_backup_info unused;
    if (!info)
        info = &unused;
    memset(info, 0, sizeof *info);
    return c->be->backup ? c->be->backup(c, path, check, accept, ctx, info) : PB_STORE_ERROR;
}

pb_store_rc pb_store_restore(const char *url, const char *from, bool replace,
                             pb_store_backup_accept_fn accept, void *ctx,
                             pb_store_backup_info *info, char *err, size_t errcap)
{
    pb_store_backup_info unused;
    if (!info)
        info = &unused;
    memset(info, 0, sizeof *info);
    if (!url || !*url || strstr(url, "://") || strchr(url, '?')) {
        snprintf(err, errcap, "restore: the target must be a database file, not %s",
                 url && *url ? url : "an empty url");
        return PB_STORE_ERROR;
    }
    const char *target = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
    return pb_store_sqlite_backend.restore(target, from, replace, accept, ctx, info, err, errcap);
}
pb_store_rc pb_store_set_deferred_sync(pb_store_conn *c, bool deferred)
{
    pb_store_rc rc = c->be->set_deferred_sync(c, deferred);
    if (rc == PB_STORE_OK)
        c->deferred = deferred;
    return rc;
}

pb_store_rc pb_store_sync(pb_store_conn *c)
{
    /* what was committed before the sync began is durable once it returns; a commit
     * racing with it is left for the next one */
    int64_t upto = atomic_load_explicit(&c->event_unsynced, memory_order_acquire);
    pb_store_rc rc = c->be->sync(c);
    if (rc == PB_STORE_OK)
        pb_store_event_mark_durable(c->store, upto);
    return rc;
}

pb_store_rc pb_store_migrate(pb_store *s, int *applied, char *err, size_t errcap)
{
    return s->be->migrate(s, applied, err, errcap);
}

pb_store_rc pb_store_schema_version(pb_store_conn *c, int *current, int *latest)
{
    return c->be->schema_version(c, current, latest);
}

/* Readers count themselves in one of two counters, the one the epoch names, and
 * only then load the pointer; the ledger's close clears the pointer, flips the
 * epoch and waits for the old counter to drain (everything sequentially
 * consistent). A reader counted in the old counter may hold the old table: it is
 * waited for. One that counts itself after the ledger looked loads the pointer
 * after it was cleared: it gets NULL. Readers that arrive meanwhile go to the
 * new counter, so a steady stream of them cannot keep the close waiting. */
void pb_store_set_ledger_live(pb_store *s, void *live)
{
    __atomic_store_n(&s->ledger_live, live, __ATOMIC_SEQ_CST);
    if (live)
        return;
    unsigned old = __atomic_fetch_add(&s->ledger_live_epoch, 1, __ATOMIC_SEQ_CST) & 1;
    while (__atomic_load_n(&s->ledger_live_readers[old], __ATOMIC_SEQ_CST) != 0)
        sched_yield();
}

void *pb_store_ledger_live(pb_store_conn *c, unsigned *ticket)
{
    pb_store *s = c->store;
    /* counted on the side of the epoch it read, and only if that epoch still holds
     * once counted: a reader stalled between the two across a close (and a reopen)
     * would otherwise be counted on a side the next close no longer waits for */
    for (;;) {
        unsigned epoch = __atomic_load_n(&s->ledger_live_epoch, __ATOMIC_SEQ_CST);
        *ticket = epoch & 1;
        __atomic_fetch_add(&s->ledger_live_readers[*ticket], 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&s->ledger_live_epoch, __ATOMIC_SEQ_CST) == epoch)
            return __atomic_load_n(&s->ledger_live, __ATOMIC_SEQ_CST);
        __atomic_fetch_sub(&s->ledger_live_readers[*ticket], 1, __ATOMIC_SEQ_CST);
    }
}

void pb_store_ledger_live_done(pb_store_conn *c, unsigned ticket)
{
    __atomic_fetch_sub(&c->store->ledger_live_readers[ticket & 1], 1, __ATOMIC_RELEASE);
}

pb_store_rc pb_store_exec_raw(pb_store_conn *c, const char *sql) { return c->be->exec_raw(c, sql); }

pb_store_rc pb_store_account_insert(pb_store_conn *c, pb_store_account *a)
{
    return c->be->account_insert(c, a);
}

pb_store_rc pb_store_balances_mark_get(pb_store_conn *c, int64_t *seq)
{
    return c->be->balances_mark_get(c, seq);
}

pb_store_rc pb_store_balances_mark_set(pb_store_conn *c, int64_t seq)
{
    return c->be->balances_mark_set(c, seq);
}

pb_store_rc pb_store_pending_mark_get(pb_store_conn *c, int64_t *seq)
{
    return c->be->pending_mark_get(c, seq);
}

pb_store_rc pb_store_pending_mark_set(pb_store_conn *c, int64_t seq)
{
    return c->be->pending_mark_set(c, seq);
}

pb_store_rc pb_store_transfer_scan_account(pb_store_conn *c, int64_t after_seq, int64_t account,
                                           pb_store_transfer_cb cb, void *ctx)
{
    return c->be->transfer_scan_account(c, after_seq, account, cb, ctx);
}

pb_store_rc pb_store_account_get(pb_store_conn *c, int64_t id, pb_store_account *out)
{
    return c->be->account_get(c, id, out);
}

pb_store_rc pb_store_account_find(pb_store_conn *c, const char *brand, const char *owner,
                                  const char *kind, const char *currency, pb_store_account *out)
{
    return c->be->account_find(c, brand, owner, kind, currency, out);
}

pb_store_rc pb_store_balance_update(pb_store_conn *c, const pb_store_account *a)
{
    return c->be->balance_update(c, a);
}

pb_store_rc pb_store_transfer_insert(pb_store_conn *c, const pb_store_transfer *t)
{
    return c->be->transfer_insert(c, t);
}

pb_store_rc pb_store_transfer_by_seq(pb_store_conn *c, int64_t seq, pb_store_transfer *out)
{
    return c->be->transfer_by_seq(c, seq, out);
}

pb_store_rc pb_store_ledger_ids(pb_store_conn *c, uint8_t key[16], int64_t *legacy_below)
{
    return c->be->ledger_ids(c, key, legacy_below);
}

pb_store_rc pb_store_transfer_by_legacy_id(pb_store_conn *c, const pb_id *id, int64_t below,
                                           pb_store_transfer *out)
{
    return c->be->transfer_by_legacy_id(c, id, below, out);
}

pb_store_rc pb_store_transfer_by_key(pb_store_conn *c, const char *scope, const char *ikey,
                                     pb_store_transfer *out)
{
    return c->be->transfer_by_key(c, scope, ikey, out);
}

pb_store_rc pb_store_transfer_by_pending(pb_store_conn *c, const pb_id *pending_id,
                                         pb_store_transfer *out)
{
    return c->be->transfer_by_pending(c, pending_id, out);
}

pb_store_rc pb_store_transfer_last(pb_store_conn *c, pb_store_transfer *out)
{
    return c->be->transfer_last(c, out);
}

pb_store_rc pb_store_rejection_insert(pb_store_conn *c, const pb_store_rejection *r)
{
    return c->be->rejection_insert(c, r);
}

pb_store_rc pb_store_rejection_by_key(pb_store_conn *c, const char *scope, const char *ikey,
                                      pb_store_rejection *out)
{
    return c->be->rejection_by_key(c, scope, ikey, out);
}

pb_store_rc pb_store_rejection_scan_range(pb_store_conn *c, int64_t after_seq, int64_t upto_seq,
                                          pb_store_rejection_cb cb, void *ctx)
{
    return c->be->rejection_scan_range(c, after_seq, upto_seq, cb, ctx);
}

pb_store_rc pb_store_rejection_scan_keys(pb_store_conn *c, pb_store_key_cb cb, void *ctx)
{
    return c->be->rejection_scan_keys(c, cb, ctx);
}

pb_store_rc pb_store_pending_open_insert(pb_store_conn *c, int64_t seq, int64_t expires_at)
{
    return c->be->pending_open_insert(c, seq, expires_at);
}

pb_store_rc pb_store_pending_open_delete(pb_store_conn *c, int64_t seq)
{
    return c->be->pending_open_delete(c, seq);
}

pb_store_rc pb_store_pending_open_get(pb_store_conn *c, int64_t seq, int64_t *expires_at)
{
    return c->be->pending_open_get(c, seq, expires_at);
}

pb_store_rc pb_store_pending_open_next_expiry(pb_store_conn *c, int64_t *at)
{
    return c->be->pending_open_next_expiry(c, at);
}

pb_store_rc pb_store_pending_open_expired(pb_store_conn *c, int64_t now, int64_t *seqs, size_t cap,
                                          size_t *n)
{
    return c->be->pending_open_expired(c, now, seqs, cap, n);
}

pb_store_rc pb_store_transfer_scan(pb_store_conn *c, int64_t after_seq, pb_store_transfer_cb cb,
                                   void *ctx)
{
    return c->be->transfer_scan(c, after_seq, cb, ctx);
}

pb_store_rc pb_store_account_scan_after(pb_store_conn *c, int64_t after_id, pb_store_account_cb cb,
                                        void *ctx)
{
    return c->be->account_scan_after(c, after_id, cb, ctx);
}

pb_store_rc pb_store_ledger_anchor_insert(pb_store_conn *c, const pb_store_ledger_anchor *a)
{
    return c->be->ledger_anchor_insert(c, a);
}

pb_store_rc pb_store_ledger_anchor_last(pb_store_conn *c, pb_store_ledger_anchor *out)
{
    return c->be->ledger_anchor_last(c, out);
}

pb_store_rc pb_store_ledger_anchor_scan(pb_store_conn *c, pb_store_ledger_anchor_cb cb, void *ctx)
{
    return c->be->ledger_anchor_scan(c, cb, ctx);
}

pb_store_rc pb_store_account_scan(pb_store_conn *c, pb_store_account_cb cb, void *ctx)
{
    return c->be->account_scan(c, cb, ctx);
}

pb_store_rc pb_store_pending_open_scan(pb_store_conn *c, pb_store_pending_cb cb, void *ctx)
{
    return c->be->pending_open_scan(c, cb, ctx);
}

pb_store_rc pb_store_balance_orphans(pb_store_conn *c, int64_t *orphans)
{
    return c->be->balance_orphans(c, orphans);
}

/* ---- connection pool */

struct pb_store_pool {
    pb_store *store;
    pthread_mutex_t mu;
    pthread_cond_t freed;
    pb_store_conn **idle;
    int nidle, total, max;
};

pb_store_pool *pb_store_pool_new(pb_store *s, int max)
{
    pb_store_pool *p = calloc(1, sizeof *p);
    if (!p || max < 1 || !(p->idle = calloc((size_t)max, sizeof *p->idle))) {
        free(p);
        return NULL;
    }
    p->store = s;
    p->max = max;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->freed, NULL);
    return p;
}

void pb_store_pool_free(pb_store_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nidle; i++)
        pb_store_disconnect(p->idle[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->freed);
    free(p->idle);
    free(p);
}

pb_store_conn *pb_store_pool_acquire(pb_store_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->nidle == 0 && p->total >= p->max)
        pthread_cond_wait(&p->freed, &p->mu);
    if (p->nidle > 0) {
        pb_store_conn *c = p->idle[--p->nidle];
        pthread_mutex_unlock(&p->mu);
        return c;
    }
    p->total++;
    pthread_mutex_unlock(&p->mu);
    char err[256];
    pb_store_conn *c = pb_store_connect(p->store, err, sizeof err);
    if (!c) {
        pthread_mutex_lock(&p->mu);
        p->total--;
        pthread_cond_signal(&p->freed);
        pthread_mutex_unlock(&p->mu);
    }
    return c;
}

void pb_store_pool_release(pb_store_pool *p, pb_store_conn *c)
{
    if (!c)
        return;
    pb_store_rollback(c);
    pthread_mutex_lock(&p->mu);
    p->idle[p->nidle++] = c;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

int pb_store_batched(pb_store *s, size_t row_size, size_t cap, pb_store_batch_fn batch, void *ctx,
                     int64_t *total, const char *what, char *err, size_t errcap)
{
    int64_t sink = 0;
    if (!total)
        total = &sink;
    *total = 0;
    pb_store_conn *c = pb_store_connect(s, err, errcap);
    if (!c)
        return -1;
    void *rows = calloc(cap, row_size);
    int ret = rows ? 0 : -1;
    if (!rows)
        snprintf(err, errcap, "%s: out of memory", what);
    int64_t after = 0;
    for (size_t n = cap; ret == 0 && n == cap;) {
        int64_t done = 0;
        n = 0;
        pb_store_rc rc = pb_store_begin(c, PB_STORE_WRITE);
        if (rc == PB_STORE_OK)
            rc = batch(c, ctx, rows, cap, &after, &n, &done);
        if (rc == PB_STORE_OK)
            rc = pb_store_commit(c);
        else
            pb_store_rollback(c);
        if (rc == PB_STORE_OK) {
            *total += done;
        } else {
            snprintf(err, errcap, "%s: %s", what, pb_store_errmsg(c));
            ret = -1;
        }
    }
    if (rows)
        explicit_bzero(rows, cap * row_size);
    free(rows);
    pb_store_disconnect(c);
    return ret;
}
