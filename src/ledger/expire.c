/*
 * expire.c — the expiry sweep of the writer (pb_ledger_engine_expire): every
 * open hold whose timeout has passed is voided by a transfer of the ledger's own,
 * a chain of one through the engine (engine.c). A due hold the sweep cannot
 * expire (its row is damaged, or its void failed) is logged once, counted, left
 * alone (its accounts' counters untouched) and tried again a minute later; the
 * other holds and the batch go on.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/id.h"
#include "core/log.h"
#include "ledger/ledger_internal.h"

/* A due hold the sweep cannot expire (its row is damaged, or its void failed):
 * logged the first time, then left alone until retry_at. */
static void skip_hold(pb_ledger *l, int64_t seq, int64_t now, const char *why)
{
    damaged_row *d = pb_ledger_damaged_find(l, seq);
    bool first = !d || d->retry_at == 0;
    if (!d) {
        if (pb_ledger_engine_grow((void **)&l->damaged, &l->damaged_cap, l->ndamaged + 1,
                                  sizeof *l->damaged) != 0) {
            pb_log(PB_LOG_ERROR, "ledger.expiry_skipped",
                   "hold seq %" PRId64 " cannot be expired: %s (out of memory: not remembered)",
                   seq, why);
            return;
        }
        d = &l->damaged[l->ndamaged++];
        *d = (damaged_row){.seq = seq};
    }
    if (d->retry_at == 0)
        l->nskipped++;
    d->retry_at = now + PB_LEDGER_DAMAGED_RETRY_US;
    if (!first)
        return;
    pb_ledger_count_stat(l, &l->stats.expiry_skipped);
    pb_log(PB_LOG_ERROR, "ledger.expiry_skipped",
           "hold seq %" PRId64 " is due to expire but cannot be: %s. It stays open and its "
           "accounts' counters are left as they are; the sweep goes on with the other holds "
           "and tries it again every %d s. Run `pitboss ledger verify` and repair the row",
           seq, why, (int)(PB_LEDGER_DAMAGED_RETRY_US / 1000000));
}

/* A skipped hold expired after all (its row was repaired). */
static void unskip_hold(pb_ledger *l, damaged_row *d)
{
    pb_log(PB_LOG_INFO, "ledger.expiry_resumed", "hold seq %" PRId64 " expired after all", d->seq);
    l->nskipped--;
    *d = l->damaged[--l->ndamaged];
}

pb_err pb_ledger_engine_expire(pb_ledger *l, int64_t now, size_t cap)
{
    /* the skipped holds are due too and come first: room for them besides cap */
    size_t want = cap + l->nskipped, n = 0;
    int64_t small[256], *seqs = want <= 256 ? small : malloc(want * sizeof *seqs);
    if (!seqs)
        return PB_ERR_INTERNAL;
    pb_err e = PB_OK;
    if (pb_store_pending_open_expired(l->wconn, now, seqs, want, &n) != PB_STORE_OK) {
        e = PB_ERR_INTERNAL;
        goto out;
    }
    size_t ntable = n;
    n += pb_ledger_lazy_expired(l, now, seqs + n, want - n); /* not in the table yet */

    for (size_t i = 0; i < n; i++) {
        damaged_row *d = pb_ledger_damaged_find(l, seqs[i]);
        if (d && d->retry_at > now) {
            if (i >= ntable && d->retry_at < l->lazy_min_expiry)
                l->lazy_min_expiry = d->retry_at; /* the ring is scanned again then */
            continue;
        }
        pb_store_transfer p;
        memset(&p, 0, sizeof p);
        pb_store_rc rc = pb_store_transfer_by_seq(l->wconn, seqs[i], &p);
        const char *why = NULL;
        if (rc == PB_STORE_CORRUPT)
            why = pb_store_errmsg(l->wconn);
        else if (rc == PB_STORE_NOT_FOUND)
            why = "listed as an open hold but there is no transfer with that seq";
        else if (rc != PB_STORE_OK) {
            e = PB_ERR_INTERNAL;
            goto out;
        } else if (!(p.flags & PB_TRANSFER_PENDING))
            why = "listed as an open hold but its row is not flagged pending";
        pb_transfer x;
        if (!why) {
            memset(&x, 0, sizeof x);
            snprintf(x.scope, sizeof x.scope, "ledger");
            memcpy(x.key, "expire:", 7);
            pb_id_to_string(&p.id, x.key + 7);
            x.flags = PB_TRANSFER_VOID_PENDING;
            x.pending_id = p.id;
            memcpy(x.reference, p.reference, sizeof x.reference);
            if ((e = pb_ledger_engine_run_chain(l, &x, 1, now, true)) != PB_OK)
                goto out;
            /* refused (the void undone: the accounts keep their counters) */
            if (x.result != PB_OK)
                why = pb_err_code(x.result);
        }
        if (why) {
            skip_hold(l, seqs[i], now, why);
            if (i >= ntable && now + PB_LEDGER_DAMAGED_RETRY_US < l->lazy_min_expiry)
                l->lazy_min_expiry = now + PB_LEDGER_DAMAGED_RETRY_US;
        } else if ((d = pb_ledger_damaged_find(l, seqs[i])) && d->retry_at) {
            unskip_hold(l, d);
        }
    }
    if (n == want) {
        l->next_expiry = now; /* more may be due: sweep again in the next batch */
        goto out;
    }
    pb_store_rc rc = pb_store_pending_open_next_expiry(l->wconn, &l->next_expiry);
    if (rc == PB_STORE_NOT_FOUND)
        l->next_expiry = INT64_MAX;
    else if (rc != PB_STORE_OK) {
        e = PB_ERR_INTERNAL;
        goto out;
    }
    int64_t lazy = pb_ledger_lazy_next_expiry(l);
    if (lazy < l->next_expiry)
        l->next_expiry = lazy;
    /* only skipped holds are due (the table's earliest is one of them): sweep at
     * the idle interval, not in every batch, for the holds that fall due meanwhile
     * (a post or void of one past its expiry is refused PENDING_EXPIRED anyway) */
    if (l->next_expiry <= now)
        l->next_expiry = now + (int64_t)l->cfg.expiry_interval_ms * 1000;
out:
    if (seqs != small)
        free(seqs);
    return e;
}
