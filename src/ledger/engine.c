/*
 * engine.c — applies transfers inside the writer's open write transaction.
 *
 * Data flow for one linked chain (a single transfer is a chain of one):
 *   1. each leg is checked for a replay of its idempotency key (a stored
 *      transfer or a remembered rejection) — a replay returns the stored result;
 *   2. new legs are validated against the writer's in-memory account counters
 *      (authoritative: this thread is the only writer) and applied to them,
 *      saving the old values in an undo log;
 *   3. if every leg passed, the legs are hashed into the chain and INSERTed,
 *      and the open-pending projection is updated; if one failed, the undo log
 *      restores the counters, the failing leg's rejection is remembered when it
 *      depended on ledger state, and the others get LINKED_EVENT_FAILED.
 * Step 1 and remembering a rejection are idempotency.c's; noting damaged rows
 * and refusing what needs them is damaged.c's.
 * The in-memory account counters, the open holds this writer created and the
 * filter over rejected keys live in cache.c.
 * Account counters reach the store lazily (writeback.c), which is what lets
 * one commit carry thousands of transfers cheaply.
 * A store failure returns INTERNAL: the writer rolls the whole batch back.
 * A damaged row is not a store failure: a transfer that depends on one (the hold
 * its post or void names, the stored transfer or rejection of its key, the row
 * of an account it touches) is refused
 * STORE_CORRUPT on its own, like a business refusal but never remembered under
 * its key, and the rest of the batch goes on (see "damaged rows" below).
 * The expiry sweep, which runs its voids through this engine, is expire.c's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/id.h"
#include "core/log.h"
#include "core/money.h"
#include "core/time.h"
#include "ledger/ledger_internal.h"

int64_t pb_ledger_now(pb_ledger *l)
{
    int64_t now = l->cfg.now_us ? l->cfg.now_us(l->cfg.now_ctx) : pb_time_now_us();
    /* created_at never goes backwards along seq, even if the wall clock is stepped
     * back: history queries rely on it to stop at a time bound */
    if (now < l->last_created_at)
        now = l->last_created_at;
    l->last_created_at = now;
    return now;
}

int pb_ledger_engine_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = n;
    return 0;
}

/* Saves an account's counters before the chain changes them, and marks it dirty. */
static int touch(pb_ledger *l, cached_account *e)
{
    if (pb_ledger_engine_grow((void **)&l->undo, &l->undo_cap, l->nundo + 1, sizeof *l->undo) != 0)
        return -1;
    undo_entry *u = &l->undo[l->nundo++];
    u->acct = e;
    u->counters[0] = e->a.debits_pending;
    u->counters[1] = e->a.debits_posted;
    u->counters[2] = e->a.credits_pending;
    u->counters[3] = e->a.credits_posted;
    u->counters[4] = e->a.last_seq;
    return 0;
}

static void undo_to(pb_ledger *l, size_t mark)
{
    while (l->nundo > mark) {
        undo_entry *u = &l->undo[--l->nundo];
        u->acct->a.debits_pending = u->counters[0];
        u->acct->a.debits_posted = u->counters[1];
        u->acct->a.credits_pending = u->counters[2];
        u->acct->a.credits_posted = u->counters[3];
        u->acct->a.last_seq = u->counters[4];
    }
}

/* After a chain succeeded: its saved values are no longer needed; remember dirtiness. */
static int keep_changes(pb_ledger *l, size_t mark)
{
    for (size_t i = mark; i < l->nundo; i++) {
        cached_account *e = l->undo[i].acct;
        if (e->dirty)
            continue;
        if (pb_ledger_engine_grow((void **)&l->dirty, &l->dirty_cap, l->ndirty + 1,
                                  sizeof *l->dirty) != 0)
            return -1;
        e->dirty = true;
        l->dirty[l->ndirty++] = e;
    }
    l->nundo = mark;
    return 0;
}

/* ---------------------------------------------------------------- head and lifecycle */

pb_err pb_ledger_engine_load_head(pb_ledger *l)
{
    l->next_expiry = 0; /* unknown: the next batch sweeps and learns it */
    if (pb_ledger_ids_load(l->wconn, &l->ids) != PB_OK || pb_ledger_bloom_load(l) != PB_OK)
        return PB_ERR_INTERNAL;
    pb_store_transfer last;
    pb_store_rc rc = pb_store_transfer_last(l->wconn, &last);
    if (rc == PB_STORE_NOT_FOUND) {
        l->next_seq = 1;
        memset(l->last_hash, 0, sizeof l->last_hash);
        l->last_created_at = 0;
    } else if (rc != PB_STORE_OK) {
        return PB_ERR_INTERNAL;
    } else {
        l->next_seq = last.seq + 1;
        memcpy(l->last_hash, last.hash, 32);
        l->last_created_at = last.created_at;
    }
    return pb_ledger_writeback_replay(l);
}

pb_err pb_ledger_engine_reset(pb_ledger *l)
{
    pb_ledger_cache_clear(l);
    pb_ledger_holds_clear(l);
    return pb_ledger_engine_load_head(l);
}

void pb_ledger_engine_free(pb_ledger *l)
{
    pb_ledger_cache_clear(l);
    free(l->slots);
    free(l->dirty);
    free(l->undo);
    free(l->resolves);
    free(l->bloom);
    free(l->holds);
    free(l->lazy);
    free(l->damaged);
    free(l->damaged_accts);
}

pb_err pb_ledger_engine_account(pb_ledger *l, pb_ledger_account *a, int64_t now)
{
    a->created_at = now;
    a->debits_pending = a->debits_posted = a->credits_pending = a->credits_posted = 0;
    a->last_seq = 0;
    pb_store_rc rc = pb_store_account_insert(l->wconn, a);
    if (rc == PB_STORE_CONFLICT)
        return PB_ERR_ACCOUNT_EXISTS;
    return rc == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
}

void pb_ledger_count_stat(pb_ledger *l, uint64_t *counter)
{
    pthread_mutex_lock(&l->mu);
    (*counter)++;
    pthread_mutex_unlock(&l->mu);
}

/* ---------------------------------------------------------------- validation */

/* Outcome of checking a leg: a business error in *biz, or a store failure (returned). */
static pb_err check_limits(const cached_account *dr, const cached_account *cr, int64_t amount,
                           pb_err *biz)
{
    int64_t sum;
    if (dr->a.flags & PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) {
        if (pb_i64_add(dr->a.debits_pending, dr->a.debits_posted, &sum) ||
            pb_i64_add(sum, amount, &sum)) {
            *biz = PB_ERR_OVERFLOW;
            return PB_OK;
        }
        if (sum > dr->a.credits_posted) {
            *biz = PB_ERR_INSUFFICIENT_FUNDS;
            return PB_OK;
        }
    }
    if (cr->a.flags & PB_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) {
        if (pb_i64_add(cr->a.credits_pending, cr->a.credits_posted, &sum) ||
            pb_i64_add(sum, amount, &sum)) {
            *biz = PB_ERR_OVERFLOW;
            return PB_OK;
        }
        if (sum > cr->a.debits_posted) {
            *biz = PB_ERR_EXCEEDS_DEBITS;
            return PB_OK;
        }
    }
    return PB_OK;
}

/* Finds the pending transfer a post/void names and checks it is still open.
 * Earlier legs of the same chain (t[0..k)) count as having resolved theirs. */
static pb_err find_open_pending(pb_ledger *l, pb_transfer *t, size_t k, int64_t now, bool expiring,
                                pb_store_transfer *p, pb_err *biz)
{
    for (size_t i = 0; i < k; i++) {
        if (pb_ledger_is_resolution(t[i].flags) &&
            pb_id_cmp(&t[i].pending_id, &t[k].pending_id) == 0) {
            *biz = (t[i].flags & PB_TRANSFER_POST_PENDING) ? PB_ERR_PENDING_ALREADY_POSTED
                                                           : PB_ERR_PENDING_ALREADY_VOIDED;
            return PB_OK;
        }
    }
    const hold_entry *h = pb_ledger_holds_get(l, &t[k].pending_id);
    if (h) { /* open, created by this writer: everything needed is in memory */
        memset(p, 0, sizeof *p);
        p->id = h->id;
        p->seq = h->seq;
        p->amount = h->amount;
        p->debit_account_id = h->debit;
        p->credit_account_id = h->credit;
        p->expires_at = h->expires_at;
        p->code = h->code;
        p->flags = PB_TRANSFER_PENDING;
        memcpy(p->currency, h->currency, sizeof p->currency);
        if (!expiring && h->expires_at > 0 && h->expires_at <= now)
            *biz = PB_ERR_PENDING_EXPIRED;
        return PB_OK;
    }
    pb_store_rc rc = pb_ledger_transfer_by_id(l->wconn, &l->ids, &t[k].pending_id, p);
    if (rc == PB_STORE_CORRUPT) {
        pb_ledger_refuse_damaged(l, &t[k], p->seq, &t[k].pending_id, pb_ledger_damage_why(l, p),
                                 biz);
        return PB_OK;
    }
    int64_t expires_at;
    if (rc == PB_STORE_OK && !(p->flags & PB_TRANSFER_PENDING)) {
        /* no hold: the caller named another transfer, unless the open-pending
         * table lists it (then the row lost its flag) */
        rc = pb_store_pending_open_get(l->wconn, p->seq, &expires_at);
        if (rc == PB_STORE_OK) {
            pb_ledger_refuse_damaged(l, &t[k], p->seq, &p->id,
                                     "listed as an open hold but its row is not flagged pending",
                                     biz);
            return PB_OK;
        }
        if (rc != PB_STORE_NOT_FOUND)
            return PB_ERR_INTERNAL;
        *biz = PB_ERR_PENDING_NOT_FOUND;
        return PB_OK;
    }
    if (rc == PB_STORE_NOT_FOUND) {
        *biz = PB_ERR_PENDING_NOT_FOUND;
        return PB_OK;
    }
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    rc = pb_store_pending_open_get(l->wconn, p->seq, &expires_at);
    if (rc == PB_STORE_OK) {
        if (!expiring && expires_at > 0 && expires_at <= now)
            *biz = PB_ERR_PENDING_EXPIRED;
        return PB_OK;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    pb_store_transfer res;
    rc = pb_store_transfer_by_pending(l->wconn, &t[k].pending_id, &res);
    if (rc == PB_STORE_CORRUPT || rc == PB_STORE_NOT_FOUND) {
        /* resolved but its resolution is unreadable, or not open and never
         * resolved: the rows or the projection are damaged */
        pb_ledger_refuse_damaged(l, &t[k], p->seq, &p->id,
                                 rc == PB_STORE_CORRUPT
                                     ? pb_store_errmsg(l->wconn)
                                     : "a hold neither listed as open nor resolved by any transfer",
                                 biz);
        return PB_OK;
    }
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (res.flags & PB_TRANSFER_EXPIRED)
        *biz = PB_ERR_PENDING_EXPIRED;
    else if (res.flags & PB_TRANSFER_POST_PENDING)
        *biz = PB_ERR_PENDING_ALREADY_POSTED;
    else
        *biz = PB_ERR_PENDING_ALREADY_VOIDED;
    return PB_OK;
}

static int add_to(int64_t *counter, int64_t delta) { return pb_i64_add(*counter, delta, counter); }

/*
 * Validates leg k of the chain t[] and applies it to the cached counters.
 * Fills t[k].record (all but the hash). Business failures go to *biz.
 */
static pb_err apply_leg(pb_ledger *l, pb_transfer *t, size_t k, int64_t now, bool expiring,
                        pb_err *biz)
{
    pb_transfer *x = &t[k];
    pb_store_transfer *r = &x->record;
    pb_store_transfer p;
    pb_err e;
    memset(r, 0, sizeof *r);
    l->resolves[k] = 0;
    *biz = PB_OK;

    r->debit_account_id = x->debit_account_id;
    r->credit_account_id = x->credit_account_id;
    r->amount = x->amount;
    memcpy(r->currency, x->currency, sizeof r->currency);
    r->code = x->code;
    if (pb_ledger_is_resolution(x->flags)) {
        if ((e = find_open_pending(l, t, k, now, expiring, &p, biz)) != PB_OK || *biz)
            return e;
        if ((x->debit_account_id && x->debit_account_id != p.debit_account_id) ||
            (x->credit_account_id && x->credit_account_id != p.credit_account_id) ||
            (x->currency[0] && strcmp(x->currency, p.currency) != 0) ||
            (x->code && x->code != p.code)) {
            *biz = PB_ERR_PENDING_MISMATCH;
            return PB_OK;
        }
        if (x->flags & PB_TRANSFER_POST_PENDING) {
            if (x->amount > p.amount) {
                *biz = PB_ERR_POST_EXCEEDS_PENDING;
                return PB_OK;
            }
            r->amount = x->amount ? x->amount : p.amount;
        } else {
            if (x->amount != 0 && x->amount != p.amount) {
                *biz = PB_ERR_PENDING_MISMATCH;
                return PB_OK;
            }
            r->amount = p.amount;
        }
        r->debit_account_id = p.debit_account_id;
        r->credit_account_id = p.credit_account_id;
        memcpy(r->currency, p.currency, sizeof r->currency);
        r->code = p.code;
        r->has_pending_id = true;
        r->pending_id = p.id;
        l->resolves[k] = p.seq;
    }

    cached_account *dr, *cr;
    if ((e = pb_ledger_cache_get(l, r->debit_account_id, &dr)) == PB_OK)
        e = pb_ledger_cache_get(l, r->credit_account_id, &cr);
    if (e == PB_ERR_STORE_CORRUPT) { /* a damaged account row: this leg only (damaged.c) */
        *biz = PB_ERR_STORE_CORRUPT;
        return PB_OK;
    }
    if (e != PB_OK)
        return e;
    if (!dr || !cr) {
        *biz = PB_ERR_ACCOUNT_NOT_FOUND;
        return PB_OK;
    }
    if (strcmp(dr->a.currency, r->currency) != 0 || strcmp(cr->a.currency, r->currency) != 0) {
        *biz = PB_ERR_CURRENCY_MISMATCH;
        return PB_OK;
    }

    if (touch(l, dr) != 0 || touch(l, cr) != 0)
        return PB_ERR_INTERNAL;
    bool overflow = false;
    if (x->flags & PB_TRANSFER_PENDING) {
        if ((e = check_limits(dr, cr, r->amount, biz)) != PB_OK || *biz)
            return e;
        int64_t later; /* a hold must also be postable in full without overflow */
        overflow = add_to(&dr->a.debits_pending, r->amount) ||
                   add_to(&cr->a.credits_pending, r->amount) ||
                   pb_i64_add(dr->a.debits_posted, dr->a.debits_pending, &later) ||
                   pb_i64_add(cr->a.credits_posted, cr->a.credits_pending, &later);
        r->timeout_s = x->timeout_s;
        r->expires_at = x->timeout_s ? now + x->timeout_s * 1000000 : 0;
    } else if (pb_ledger_is_resolution(x->flags)) {
        dr->a.debits_pending -= p.amount;
        cr->a.credits_pending -= p.amount;
        if (x->flags & PB_TRANSFER_POST_PENDING)
            overflow = add_to(&dr->a.debits_posted, r->amount) ||
                       add_to(&cr->a.credits_posted, r->amount);
    } else {
        if ((e = check_limits(dr, cr, r->amount, biz)) != PB_OK || *biz)
            return e;
        int64_t later; /* the open holds must stay postable in full without overflow */
        overflow = add_to(&dr->a.debits_posted, r->amount) ||
                   add_to(&cr->a.credits_posted, r->amount) ||
                   pb_i64_add(dr->a.debits_posted, dr->a.debits_pending, &later) ||
                   pb_i64_add(cr->a.credits_posted, cr->a.credits_pending, &later);
    }
    if (overflow) {
        *biz = PB_ERR_OVERFLOW;
        return PB_OK;
    }

    r->seq = l->next_seq++;
    pb_ledger_txid_make(l->ids.key, r->seq, now, &r->id);
    memcpy(r->scope, x->scope, sizeof r->scope);
    memcpy(r->ikey, x->key, sizeof r->ikey);
    r->flags = x->flags | (expiring ? PB_TRANSFER_EXPIRED : 0);
    memcpy(r->reference, x->reference, sizeof r->reference);
    memcpy(r->trace_id, x->trace_id, sizeof r->trace_id);
    r->created_at = now;
    r->debit_prev_seq = dr->a.last_seq;
    r->credit_prev_seq = cr->a.last_seq;
    dr->a.last_seq = r->seq;
    cr->a.last_seq = r->seq;
    return PB_OK;
}

/* ---------------------------------------------------------------- chains */

/* Hashes and stores the new legs of a chain that passed. */
static pb_err persist_chain(pb_ledger *l, pb_transfer *t, size_t n, const bool *fresh)
{
    for (size_t k = 0; k < n; k++) {
        if (!fresh[k])
            continue;
        pb_store_transfer *r = &t[k].record;
        pb_ledger_hash(r, l->last_hash, r->hash);
        if (pb_store_transfer_insert(l->wconn, r) != PB_STORE_OK)
            return PB_ERR_INTERNAL;
        memcpy(l->last_hash, r->hash, 32);
        pb_err e = PB_OK;
        if (r->flags & PB_TRANSFER_PENDING)
            e = pb_ledger_hold_opened(l, r);
        else if (l->resolves[k])
            e = pb_ledger_hold_resolved(l, l->resolves[k], &r->pending_id);
        if (e != PB_OK)
            return e;
    }
    return PB_OK;
}

/*
 * The fast path for a chain of one transfer whose key was never rejected (the
 * rejection filter says so): apply it and INSERT it without first looking its
 * key up. The key's unique index, which the INSERT maintains anyway, catches a
 * replay. Anything but a clean success (a business refusal, which must not be
 * remembered before the key is known to be new; a key conflict) is undone — the
 * counters, the seq and the hash chain, the only state touched before the
 * INSERT — and the caller takes the careful path, which looks the key up first.
 * *done = false asks for the careful path.
 */
static pb_err run_one_optimistic(pb_ledger *l, pb_transfer *x, int64_t now, bool *done)
{
    *done = false;
    if (pb_ledger_bloom_maybe(l, x->scope, x->key))
        return PB_OK;
    size_t mark = l->nundo;
    int64_t seq_mark = l->next_seq;
    pb_err biz;
    l->resolves[0] = 0;
    x->replayed = false;
    pb_err e = apply_leg(l, x, 0, now, false, &biz);
    if (e != PB_OK)
        return e;
    if (biz) {
        undo_to(l, mark);
        l->next_seq = seq_mark;
        return PB_OK;
    }
    pb_store_transfer *r = &x->record;
    pb_ledger_hash(r, l->last_hash, r->hash);
    pb_store_rc rc = pb_store_transfer_insert(l->wconn, r);
    if (rc == PB_STORE_CONFLICT) { /* most likely a replay: let the careful path tell */
        undo_to(l, mark);
        l->next_seq = seq_mark;
        return PB_OK;
    }
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    memcpy(l->last_hash, r->hash, 32);
    if (keep_changes(l, mark) != 0)
        return PB_ERR_INTERNAL;
    if (r->flags & PB_TRANSFER_PENDING)
        e = pb_ledger_hold_opened(l, r);
    else if (l->resolves[0])
        e = pb_ledger_hold_resolved(l, l->resolves[0], &r->pending_id);
    if (e != PB_OK)
        return e;
    x->result = PB_OK;
    *done = true;
    return PB_OK;
}

/* Runs one chain t[0..n). `expiring` marks the ledger's own expiry voids. */
pb_err pb_ledger_engine_run_chain(pb_ledger *l, pb_transfer *t, size_t n, int64_t now,
                                  bool expiring)
{
    if (n == 1 && !expiring) {
        if (pb_ledger_engine_grow((void **)&l->resolves, &l->resolves_cap, 1,
                                  sizeof *l->resolves) != 0)
            return PB_ERR_INTERNAL;
        bool done;
        pb_err e = run_one_optimistic(l, t, now, &done);
        if (e != PB_OK || done)
            return e;
    }
    bool fresh_small[16], *fresh = n <= 16 ? fresh_small : calloc(n, sizeof *fresh);
    if (!fresh || pb_ledger_engine_grow((void **)&l->resolves, &l->resolves_cap, n,
                                        sizeof *l->resolves) != 0) {
        if (fresh != fresh_small)
            free(fresh);
        return PB_ERR_INTERNAL;
    }
    size_t mark = l->nundo;
    int64_t seq_mark = l->next_seq;
    size_t failed = n; /* index of the failing leg, n when none */
    bool remember = false;
    pb_err e = PB_OK;

    for (size_t k = 0; k < n && failed == n; k++) {
        pb_transfer *x = &t[k];
        fresh[k] = false;
        l->resolves[k] = 0;
        x->replayed = false;
        if (expiring) {
            x->result = PB_OK;
        } else {
            key_state ks = KEY_NEW;
            for (size_t i = 0; i < k; i++)
                if (strcmp(t[i].scope, x->scope) == 0 && strcmp(t[i].key, x->key) == 0)
                    ks = KEY_CONFLICT; /* one key twice in one chain */
            if (ks == KEY_NEW && (e = pb_ledger_key_lookup(l, x, &ks)) != PB_OK)
                break;
            if (ks == KEY_CONFLICT) {
                x->result = PB_ERR_IDEMPOTENCY_CONFLICT;
                failed = k;
                continue;
            }
            if (ks == KEY_DAMAGED) { /* x->result is STORE_CORRUPT: never remembered */
                failed = k;
                continue;
            }
            if (ks == KEY_REPLAY) {
                x->replayed = true;
                if (x->result != PB_OK)
                    failed = k;
                continue;
            }
        }
        pb_err biz;
        if ((e = apply_leg(l, t, k, now, expiring, &biz)) != PB_OK)
            break;
        if (biz) {
            x->result = biz;
            failed = k;
            /* the sweep's own voids are never remembered: a hold it cannot
             * expire is skipped (pb_ledger_engine_expire) */
            remember = !expiring && pb_ledger_error_is_remembered(biz);
            continue;
        }
        x->result = PB_OK;
        fresh[k] = true;
    }

    if (e == PB_OK && failed == n) {
        if (keep_changes(l, mark) != 0)
            e = PB_ERR_INTERNAL;
        else
            e = persist_chain(l, t, n, fresh);
    } else if (e == PB_OK) {
        undo_to(l, mark);
        l->next_seq = seq_mark;
        for (size_t k = 0; k < n; k++) {
            if (k == failed)
                continue;
            t[k].result = PB_ERR_LINKED_EVENT_FAILED;
            t[k].replayed = false;
        }
        if (remember)
            e = pb_ledger_remember_rejection(l, &t[failed], t[failed].result, now);
        if (!expiring && t[failed].result == PB_ERR_STORE_CORRUPT)
            pb_ledger_count_stat(l, &l->stats.corrupt_refusals);
    }
    if (fresh != fresh_small)
        free(fresh);
    return e;
}

pb_err pb_ledger_engine_transfers(pb_ledger *l, pb_transfer *t, size_t n, int64_t now)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].flags & PB_TRANSFER_LINKED)
            continue;         /* the chain goes on */
        bool refused = false; /* stateless checks already failed this chain */
        for (size_t k = start; k <= i; k++)
            refused |= t[k].result != PB_OK;
        if (!refused) {
            pb_err e = pb_ledger_engine_run_chain(l, t + start, i - start + 1, now, false);
            if (e != PB_OK)
                return e;
        }
        start = i + 1;
    }
    return PB_OK;
}

/* ---- commands ---- */

pb_err pb_ledger_engine_command(pb_ledger *l, ledger_job *j, int64_t now)
{
    pb_ledger_tx tx = {.l = l, .now = now};
    pb_err e = j->fn(&tx, j->fn_ctx);
    j->status = e;
    return e == PB_ERR_INTERNAL ? PB_ERR_INTERNAL : PB_OK;
}

pb_store_conn *pb_ledger_tx_conn(pb_ledger_tx *tx) { return tx->l->wconn; }

int64_t pb_ledger_tx_now(const pb_ledger_tx *tx) { return tx->now; }

pb_err pb_ledger_tx_account(pb_ledger_tx *tx, int64_t id, pb_ledger_account *out)
{
    cached_account *e = NULL;
    pb_err rc = pb_ledger_cache_get(tx->l, id, &e);
    if (rc != PB_OK)
        return rc;
    if (!e)
        return PB_ERR_ACCOUNT_NOT_FOUND;
    *out = e->a;
    return PB_OK;
}

pb_err pb_ledger_tx_submit(pb_ledger_tx *tx, pb_transfer *t, size_t n)
{
    bool needs_writer;
    pb_err e = pb_ledger_precheck(t, n, &needs_writer);
    if (e != PB_OK || !needs_writer)
        return e;
    return pb_ledger_engine_transfers(tx->l, t, n, tx->now);
}
