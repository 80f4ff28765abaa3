/*
 * ledger.c — the ledger's front door: lifecycle, submission and the checks
 * that need no ledger state (run on the caller's thread, before queueing, so
 * the writer spends its time only on what needs it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "ledger/ledger_internal.h"

#define KNOWN_FLAGS \
    (PB_TRANSFER_LINKED | PB_TRANSFER_PENDING | PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING)

bool pb_ledger_error_is_remembered(pb_err e)
{
    switch (e) {
    case PB_ERR_INSUFFICIENT_FUNDS:
    case PB_ERR_EXCEEDS_DEBITS:
    case PB_ERR_ACCOUNT_NOT_FOUND:
    case PB_ERR_CURRENCY_MISMATCH:
    case PB_ERR_OVERFLOW:
    case PB_ERR_PENDING_NOT_FOUND:
    case PB_ERR_PENDING_ALREADY_POSTED:
    case PB_ERR_PENDING_ALREADY_VOIDED:
    case PB_ERR_PENDING_EXPIRED:
    case PB_ERR_PENDING_MISMATCH:
    case PB_ERR_POST_EXCEEDS_PENDING: return true;
    default: return false;
    }
}

static bool terminated(const char *s, size_t cap) { return memchr(s, 0, cap) != NULL; }

static pb_err check_transfer(const pb_transfer *t)
{
    if (!terminated(t->scope, sizeof t->scope) || !terminated(t->key, sizeof t->key) ||
        !t->scope[0] || !t->key[0] || strcmp(t->scope, "ledger") == 0)
        return PB_ERR_IDEMPOTENCY_KEY_INVALID;
    if (!terminated(t->currency, sizeof t->currency) ||
        !terminated(t->reference, sizeof t->reference) ||
        !terminated(t->trace_id, sizeof t->trace_id))
        return PB_ERR_INVALID_REQUEST;
    if (t->flags & ~(uint32_t)KNOWN_FLAGS)
        return PB_ERR_FLAGS_INVALID;
    uint32_t kind = t->flags &
                    (PB_TRANSFER_PENDING | PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING);
    if (kind & (kind - 1))
        return PB_ERR_FLAGS_INVALID; /* more than one of pending / post / void */
    bool resolution = kind == PB_TRANSFER_POST_PENDING || kind == PB_TRANSFER_VOID_PENDING;
    if (t->timeout_s < 0 || (t->timeout_s > 0 && kind != PB_TRANSFER_PENDING))
        return PB_ERR_TIMEOUT_INVALID;
    if (t->timeout_s > (int64_t)100 * 365 * 86400)
        return PB_ERR_TIMEOUT_INVALID;
    if (resolution) {
        if (pb_id_is_zero(&t->pending_id))
            return PB_ERR_PENDING_NOT_FOUND;
        if (t->amount < 0)
            return PB_ERR_AMOUNT_INVALID;
        if (t->currency[0] && !pb_currency_find(t->currency))
            return PB_ERR_CURRENCY_UNKNOWN;
        if (t->debit_account_id < 0 || t->credit_account_id < 0)
            return PB_ERR_ACCOUNT_NOT_FOUND;
        if (t->debit_account_id && t->debit_account_id == t->credit_account_id)
            return PB_ERR_ACCOUNTS_MUST_DIFFER;
        return PB_OK;
    }
    if (!pb_id_is_zero(&t->pending_id))
        return PB_ERR_INVALID_REQUEST;
    if (t->amount <= 0)
        return PB_ERR_AMOUNT_INVALID;
    if (!pb_currency_find(t->currency))
        return PB_ERR_CURRENCY_UNKNOWN;
    if (t->debit_account_id <= 0 || t->credit_account_id <= 0)
        return PB_ERR_ACCOUNT_NOT_FOUND;
    if (t->debit_account_id == t->credit_account_id)
        return PB_ERR_ACCOUNTS_MUST_DIFFER;
    if (t->code == 0)
        return PB_ERR_INVALID_REQUEST;
    return PB_OK;
}

pb_ledger *pb_ledger_open(pb_store *store, const pb_ledger_config *cfg, char *err, size_t errcap)
{
    pb_ledger *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    l->store = store;
    if (cfg)
        l->cfg = *cfg;
    if (l->cfg.max_batch == 0 || l->cfg.max_batch > PB_LEDGER_MAX_SUBMIT)
        l->cfg.max_batch = PB_LEDGER_MAX_SUBMIT;
    if (l->cfg.checkpoint_ms <= 0)
        l->cfg.checkpoint_ms = 1000;
    if (l->cfg.expiry_interval_ms <= 0)
        l->cfg.expiry_interval_ms = 200;
    if (l->cfg.wal_restart_frames <= 0)
        l->cfg.wal_restart_frames = 65536;
    if (l->cfg.balance_flush_ms == 0)
        l->cfg.balance_flush_ms = 1000;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->wake, NULL);
    pthread_cond_init(&l->ckpt_wake, NULL);
    l->live = pb_ledger_live_new();
    if (!l->live) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    if (pb_store_writer_claim(store, err, errcap) != PB_STORE_OK)
        goto fail; /* another ledger writes this database: err names it */
    l->claimed = true;
    l->wconn = pb_store_connect(store, err, errcap);
    if (!l->wconn)
        goto fail;
    int cur = 0, latest = 0;
    if (pb_store_schema_version(l->wconn, &cur, &latest) != PB_STORE_OK || cur != latest) {
        snprintf(err, errcap,
                 "database schema is at version %d, this binary needs %d: run `pitboss migrate`",
                 cur, latest);
        goto fail;
    }
    if (pb_ledger_engine_load_head(l) != PB_OK) {
        snprintf(err, errcap, "cannot read the ledger head: %s", pb_store_errmsg(l->wconn));
        goto fail;
    }
    if (pb_ledger_writer_start(l) != 0) {
        snprintf(err, errcap, "cannot start the ledger writer");
        goto fail;
    }
    pb_store_set_ledger_live(store, l->live); /* readers of this store overlay it */
    return l;
fail:
    pb_store_disconnect(l->wconn);
    if (l->claimed)
        pb_store_writer_release(store);
    pb_ledger_engine_free(l);
    pb_ledger_live_free(l->live);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->wake);
    pthread_cond_destroy(&l->ckpt_wake);
    free(l);
    return NULL;
}

void pb_ledger_close(pb_ledger *l)
{
    if (!l)
        return;
    if (pb_ledger_reentrant(l, "pb_ledger_close"))
        return; /* it would join its own thread: left open (logged) rather than hung */
    pb_ledger_writer_stop(l);                 /* writes every lagging balance row back */
    pb_store_set_ledger_live(l->store, NULL); /* waits for readers holding it (query.c) */
    pb_store_disconnect(l->wconn);
    pb_store_writer_release(l->store); /* after the last write-back */
    pb_ledger_engine_free(l);
    pb_ledger_live_free(l->live);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->wake);
    pthread_cond_destroy(&l->ckpt_wake);
    free(l);
}

/* What an account to create must be before it is queued. */
static pb_err account_check(const pb_ledger_account *a)
{
    if (!terminated(a->brand, sizeof a->brand) || !terminated(a->owner, sizeof a->owner) ||
        !terminated(a->kind, sizeof a->kind) || !terminated(a->currency, sizeof a->currency) ||
        !a->brand[0] || !a->owner[0] || !a->kind[0] || a->id < 0)
        return PB_ERR_INVALID_REQUEST;
    if (!pb_currency_find(a->currency))
        return PB_ERR_CURRENCY_UNKNOWN;
    uint32_t both = PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS |
                    PB_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
    if ((a->flags & ~both) || (a->flags & both) == both)
        return PB_ERR_ACCOUNT_FLAGS_INVALID;
    return PB_OK;
}

pb_err pb_ledger_account_create(pb_ledger *l, pb_ledger_account *a)
{
    if (pb_ledger_reentrant(l, "pb_ledger_account_create"))
        return PB_ERR_LEDGER_REENTRANT;
    pb_err e = account_check(a);
    if (e != PB_OK)
        return e;
    ledger_job j = {.kind = JOB_ACCOUNT, .account = a};
    pb_ledger_enqueue(l, &j);
    return j.status;
}

pb_err pb_ledger_accounts_create(pb_ledger *l, pb_ledger_account *a, size_t n, pb_err *result)
{
    if (n == 0 || n > PB_LEDGER_MAX_SUBMIT || !a || !result)
        return PB_ERR_INVALID_REQUEST;
    if (pb_ledger_reentrant(l, "pb_ledger_accounts_create")) {
        for (size_t i = 0; i < n; i++)
            result[i] = PB_ERR_LEDGER_REENTRANT;
        return PB_ERR_LEDGER_REENTRANT;
    }
    ledger_job *jobs = calloc(n, sizeof *jobs);
    if (!jobs)
        return PB_ERR_INTERNAL;
    size_t queued = 0;
    for (size_t i = 0; i < n; i++) {
        result[i] = account_check(&a[i]);
        if (result[i] == PB_OK)
            jobs[queued++] = (ledger_job){.kind = JOB_ACCOUNT, .account = &a[i]};
    }
    pb_ledger_enqueue_many(l, jobs, queued);
    for (size_t i = 0, k = 0; i < n; i++)
        if (result[i] == PB_OK)
            result[i] = jobs[k++].status;
    free(jobs);
    return PB_OK;
}

/* Checks a submission before it is queued. PB_OK with *needs_writer telling
 * whether any chain survived the stateless checks; else the refusal. */
pb_err pb_ledger_precheck(pb_transfer *t, size_t n, bool *needs_writer)
{
    *needs_writer = false;
    if (n == 0)
        return PB_ERR_INVALID_REQUEST;
    if (n > PB_LEDGER_MAX_SUBMIT)
        return PB_ERR_BATCH_TOO_LARGE;
    if (t[n - 1].flags & PB_TRANSFER_LINKED)
        return PB_ERR_LINKED_CHAIN_OPEN;
    /* Stateless checks; a chain with an invalid leg never reaches the writer. */
    size_t start = 0;
    bool any_valid = false;
    for (size_t i = 0; i < n; i++) {
        t[i].replayed = false;
        t[i].result = check_transfer(&t[i]);
        if (t[i].flags & PB_TRANSFER_LINKED)
            continue;
        bool bad = false;
        for (size_t k = start; k <= i; k++)
            bad |= t[k].result != PB_OK;
        if (bad) {
            for (size_t k = start; k <= i; k++)
                if (t[k].result == PB_OK)
                    t[k].result = PB_ERR_LINKED_EVENT_FAILED;
        } else {
            any_valid = true;
        }
        start = i + 1;
    }
    *needs_writer = any_valid;
    return PB_OK;
}

pb_err pb_ledger_submit(pb_ledger *l, pb_transfer *t, size_t n)
{
    if (pb_ledger_reentrant(l, "pb_ledger_submit")) {
        for (size_t i = 0; i < n && i < PB_LEDGER_MAX_SUBMIT; i++) {
            t[i].result = PB_ERR_LEDGER_REENTRANT;
            t[i].replayed = false;
        }
        return PB_ERR_LEDGER_REENTRANT;
    }
    bool needs_writer;
    pb_err e = pb_ledger_precheck(t, n, &needs_writer);
    if (e != PB_OK || !needs_writer)
        return e;
    ledger_job j = {.kind = JOB_TRANSFERS, .t = t, .n = n};
    pb_ledger_enqueue(l, &j);
    return j.status;
}

pb_err pb_ledger_submit_async(pb_ledger *l, pb_transfer *t, size_t n, pb_ledger_done_cb cb,
                              void *ctx)
{
    bool needs_writer;
    pb_err e = pb_ledger_precheck(t, n, &needs_writer);
    if (e != PB_OK || !needs_writer) {
        cb(ctx, e);
        return PB_OK;
    }
    ledger_job *j = calloc(1, sizeof *j);
    if (!j)
        return PB_ERR_INTERNAL;
    j->kind = JOB_TRANSFERS;
    j->t = t;
    j->n = n;
    j->cb = cb;
    j->cb_ctx = ctx;
    pb_ledger_enqueue_async(l, j);
    return PB_OK;
}

pb_err pb_ledger_command(pb_ledger *l, pb_ledger_command_fn fn, void *ctx)
{
    if (pb_ledger_reentrant(l, "pb_ledger_command"))
        return PB_ERR_LEDGER_REENTRANT;
    ledger_job j = {.kind = JOB_COMMAND, .fn = fn, .fn_ctx = ctx};
    pb_ledger_enqueue(l, &j);
    return j.status;
}

pb_err pb_ledger_command_async(pb_ledger *l, pb_ledger_command_fn fn, void *ctx,
                               pb_ledger_done_cb cb, void *cb_ctx)
{
    ledger_job *j = calloc(1, sizeof *j);
    if (!j)
        return PB_ERR_INTERNAL;
    j->kind = JOB_COMMAND;
    j->fn = fn;
    j->fn_ctx = ctx;
    j->cb = cb;
    j->cb_ctx = cb_ctx;
    pb_ledger_enqueue_async(l, j);
    return PB_OK;
}

void pb_ledger_stats_get(pb_ledger *l, pb_ledger_stats *out)
{
    pthread_mutex_lock(&l->mu);
    *out = l->stats;
    pthread_mutex_unlock(&l->mu);
    out->syncs = atomic_load_explicit(&l->syncs, memory_order_relaxed);
    out->sync_us_total = atomic_load_explicit(&l->sync_us_total, memory_order_relaxed);
    out->syncs_inline = atomic_load_explicit(&l->syncs_inline, memory_order_relaxed);
}

int64_t pb_ledger_available(const pb_ledger_account *a)
{
    return a->credits_posted - a->debits_posted - a->debits_pending;
}
