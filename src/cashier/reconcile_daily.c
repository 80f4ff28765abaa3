/*
 * reconcile_daily.c — the daily reconciliation: every PSP whose report can be fetched
 * reconciled for the previous UTC day without anyone asking (serve:
 * PITBOSS_RECONCILE_AT=HH:MM, UTC; off by default).
 *
 * A thread of its own (a pb_ticker, one pass at start and then every minute, on its
 * own store connection) looks for the newest period that is due: the UTC day
 * [D-1 00:00, D 00:00) once today's HH:MM has passed, else the day before it (a
 * server that was down at yesterday's HH:MM still reconciles yesterday's period when
 * it starts). For each PSP with report_fetch, unless a fetch run of exactly that PSP
 * and period exists already (a staff member's counts too; the runs created since the
 * period ended are read, newest first), it runs pb_cashier_reconcile as the system
 * (actor "cashier.reconcile"): the same comparison, rows, audit entry
 * (reconciliation.run) and event (reconciliation.completed) as a staff run. A run the
 * PSP could not answer (PSP_UNAVAILABLE, …) is logged and tried again at the next
 * pass. The figures of each PSP's last run of the due period (this process's, or the
 * one found made) are kept for /metrics
 * (pb_cashier_reconcile_stats): alert on discrepancies above 0, and on a last run
 * older than a day and a half.
 *
 * It stops with the payout retry (pb_cashier_stop_retry), before the ledger closes:
 * its runs are ledger commands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cashier/cashier_internal.h"
#include "core/log.h"
#include "core/ticker.h"
#include "core/time.h"

#define DAY_US (86400LL * 1000000LL)
#define MIN_US (60LL * 1000000LL)
#define LIST_PAGE 50

/* The period due at now for a run at minute (of the UTC day): [from, to). */
static void due_period(int64_t now, int minute, int64_t *from, int64_t *to)
{
    int64_t today = now - now % DAY_US;
    *to = now >= today + minute * MIN_US ? today : today - DAY_US;
    *from = *to - DAY_US;
}

/* Whether a fetch run of psp for [from, to) exists (*found, the newest such run into
 * *run): the runs created since `to` (a run of the period is made after it ended),
 * newest first. */
static pb_err already_run(pb_store_conn *c, const char *psp, int64_t from, int64_t to, bool *found,
                          pb_store_recon *run)
{
    *found = false;
    pb_store_recon *page = malloc(LIST_PAGE * sizeof *page);
    if (!page)
        return PB_ERR_INTERNAL;
    int64_t cursor = 0;
    pb_err e = PB_OK;
    for (bool more = true; more && !*found && e == PB_OK;) {
        size_t n = 0;
        int64_t next = 0;
        e = pb_cashier_recon_list(c, cursor, LIST_PAGE, page, &n, &next);
        for (size_t i = 0; e == PB_OK && i < n && !*found; i++) {
            if (page[i].created_at < to) {
                more = false;
                break;
            }
            *found = strcmp(page[i].psp, psp) == 0 && page[i].period_from == from &&
                     page[i].period_to == to && strcmp(page[i].source, "fetch") == 0;
            if (*found)
                *run = page[i];
        }
        more = more && next != 0;
        cursor = next;
    }
    free(page);
    return e;
}

/* One PSP's period: run unless done; false when it must be tried again. */
static bool reconcile_one(pb_cashier *k, pb_psp *p, size_t i, int64_t from, int64_t to)
{
    recon_daily_stat *st = &k->recon_stats[i];
    if (st->done_to == to)
        return true; /* seen done at an earlier pass */
    bool found = false;
    pb_store_recon done = {0};
    if (already_run(k->recon_conn, p->code, from, to, &found, &done) != PB_OK) {
        pb_log(PB_LOG_ERROR, "cashier.reconcile", "%s: cannot read the runs: %s", p->code,
               pb_store_errmsg(k->recon_conn));
        return false;
    }
    if (found) { /* made before (a restart, or by staff): its figures are the last ones */
        pthread_mutex_lock(&k->recon_mu);
        st->last_run_at = done.created_at;
        st->discrepancies = done.missing_ours + done.status_mismatch + done.amount_mismatch +
                            done.missing_psp;
        pthread_mutex_unlock(&k->recon_mu);
    } else {
        pb_cashier_recon_request rq = {.psp = p->code, .from = from, .to = to};
        pb_cashier_actor a = {.kind = "system", .id = PB_CASHIER_RECONCILE_ACTOR};
        pb_store_recon run;
        char why[256];
        pb_err e = pb_cashier_reconcile(k, k->recon_conn, &rq, &a, &run, why, sizeof why);
        pthread_mutex_lock(&k->recon_mu);
        if (e != PB_OK) {
            st->failures++;
            pthread_mutex_unlock(&k->recon_mu);
            pb_log(PB_LOG_ERROR, "cashier.reconcile", "%s: the daily run failed: %s%s%s", p->code,
                   pb_err_code(e), why[0] ? ": " : "", why);
            return false;
        }
        st->runs++;
        st->last_run_at = run.created_at;
        st->discrepancies = run.missing_ours + run.status_mismatch + run.amount_mismatch +
                            run.missing_psp;
        pthread_mutex_unlock(&k->recon_mu);
        pb_log(st->discrepancies ? PB_LOG_WARN : PB_LOG_INFO, "cashier.reconcile",
               "%s: the daily run %s: %lld matched, %lld discrepancies", p->code, run.id,
               (long long)run.matched, (long long)st->discrepancies);
    }
    st->done_to = to;
    return true;
}

static bool daily_enter(void *arg)
{
    pb_cashier *k = arg;
    char err[256];
    k->recon_conn = pb_store_connect(k->store, err, sizeof err);
    if (!k->recon_conn) {
        pb_log(PB_LOG_ERROR, "cashier.reconcile", "daily reconciliation: cannot connect: %s", err);
        return false;
    }
    return true;
}

static bool daily_pass(void *arg, int64_t retry_ms)
{
    (void)retry_ms;
    pb_cashier *k = arg;
    int64_t from, to;
    due_period(pb_time_now_us(), k->recon_minute, &from, &to);
    bool ok = true;
    for (size_t i = 0; i < k->npsps; i++)
        if (k->psps[i]->report_fetch && !reconcile_one(k, k->psps[i], i, from, to))
            ok = false;
    return ok;
}

static void daily_leave(void *arg)
{
    pb_cashier *k = arg;
    pb_store_disconnect(k->recon_conn);
    k->recon_conn = NULL;
}

int cashier_reconcile_daily_start(pb_cashier *k, int minute, char *err, size_t errcap)
{
    if (minute < 0)
        return 0;
    k->recon_minute = minute;
    pb_ticker_spec spec = {.name = "pb-reconcile",
                           .clock = CLOCK_REALTIME,
                           .interval_ms = 60000,
                           .backoff_max_ms = 3600000,
                           .pass_at_start = true,
                           .enter = daily_enter,
                           .pass = daily_pass,
                           .leave = daily_leave,
                           .arg = k};
    if (!(k->recon_ticker = pb_ticker_start(&spec))) {
        snprintf(err, errcap, "cannot start the daily reconciliation: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void pb_cashier_reconcile_stats(pb_cashier *k, pb_cashier_recon_daily_cb cb, void *ctx)
{
    if (!k || k->recon_minute < 0)
        return;
    for (size_t i = 0; i < k->npsps; i++) {
        if (!k->psps[i]->report_fetch)
            continue;
        pthread_mutex_lock(&k->recon_mu);
        recon_daily_stat st = k->recon_stats[i];
        pthread_mutex_unlock(&k->recon_mu);
        cb(ctx, k->psps[i]->code, st.runs, st.failures, st.discrepancies, st.last_run_at);
    }
}
