/*
 * admin_adjust_expire.c — how an adjustment request (the 4-eyes of admin_adjust.c)
 * becomes "expired", and serve's sweep that makes it so without anyone touching it.
 *
 * A request pending longer than its brand's settings.adjustment_request_expiry_hours
 * (default 72) can no longer be decided. pb_adjust_mark_expired is the one place that
 * stores it so, inside a ledger command: status expired, decided_at the command's
 * time, decided_by NULL (nobody decided it), the audit entry player.adjust_expire and
 * the event balance.adjustment_expired, all in the command's transaction. Two callers:
 *
 *   - the approval or rejection that finds the request past its time
 *     (admin_adjust_4eyes.c, decide_begin): audited as the member who called, with
 *     their request's trace id;
 *   - the sweep here: a pb_ticker thread of serve (`--adjust-sweep-seconds`, default
 *     60) on its own store connection. Each pass walks the brands and reads each
 *     one's pending requests made at or before now - its expiry, oldest first,
 *     PB_API_ADJUST_SWEEP_BATCH at a time (the partial index of 0052), until none
 *     remain; each is marked in a ledger command of its own (one failing fails no
 *     other), which re-reads it there: a request approved or rejected since the read
 *     (the approval's command committed first) is left as it is, so a decision always
 *     wins over the sweep. Audited as the system (actor PB_API_ADJUST_SWEEP_ACTOR),
 *     with a fresh trace id per request that its event carries too.
 *
 * No money moves either way. A pass that fails (the store or the ledger) is logged
 * and the next comes after a doubled wait (up to ten intervals). Stop lets the
 * command under way finish and starts no other. /metrics counts the requests marked
 * and the failed passes (pb_api_adjust_sweep_metrics).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_adjust.h"
#include "core/log.h"
#include "core/ticker.h"
#include "core/time.h"
#include "events/events.h"

pb_err pb_adjust_mark_expired(pb_ledger_tx *tx, pb_store_adjustment *r, int64_t expiry_us,
                              const pb_audit_entry *by)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    snprintf(r->status, sizeof r->status, "%s", "expired");
    r->decided_by[0] = '\0';
    r->decided_at = now;
    if (pb_store_adjustment_decide(c, r) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    json_t *after = pb_adjust_request_json(r);
    char *text = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    json_decref(after);
    if (!text)
        return PB_ERR_INTERNAL;
    char why[120];
    snprintf(why, sizeof why, "pending longer than %lld hours",
             (long long)(expiry_us / (3600 * 1000000LL)));
    pb_audit_entry en = *by;
    en.action = "player.adjust_expire";
    en.brand = r->brand;
    en.target_kind = "player";
    en.target_id = r->player;
    en.before = NULL;
    en.after = text;
    en.reason = why;
    pb_err e = pb_audit_append(c, &en, now);
    free(text);
    /* @backoffice: balance.adjustment_expired, with the status change */
    if (e == PB_OK &&
        pb_events_emit(c, "balance.adjustment_expired", r->brand, r->player, by->trace_id, now,
                       PB_EV_STR("adjustment_id", r->public_id), PB_EV_STR("balance", r->balance),
                       PB_EV_STR("direction", r->direction),
                       PB_EV_STR("requested_by", r->requested_by),
                       PB_EV_MONEY("amount", r->amount, r->currency)) != PB_OK)
        e = PB_ERR_INTERNAL;
    return e;
}

/* One request the sweep read, into its ledger command and back. */
typedef struct expire_job {
    pb_store_adjustment row; /* as read; then as the command re-read (and marked) it */
    int64_t expiry_us;
    char trace[PB_TRACE_ID_LEN + 1];
    bool marked;
} expire_job;

/* In the ledger writer: the request re-read, and marked expired only when it is
 * still pending past its time (a decision committed since wins). */
static pb_err expire_command(pb_ledger_tx *tx, void *arg)
{
    expire_job *j = arg;
    char id[sizeof j->row.public_id];
    memcpy(id, j->row.public_id, sizeof id);
    pb_store_rc rc = pb_store_adjustment_get(pb_ledger_tx_conn(tx), id, &j->row);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_OK;
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (!pb_adjust_due(&j->row, j->expiry_us, pb_ledger_tx_now(tx)))
        return PB_OK; /* approved, rejected or expired since the read */
    pb_audit_entry by = {.actor_kind = "system",
                         .actor_id = PB_API_ADJUST_SWEEP_ACTOR,
                         .trace_id = j->trace};
    pb_err e = pb_adjust_mark_expired(tx, &j->row, j->expiry_us, &by);
    j->marked = e == PB_OK;
    return e;
}

pb_err pb_api_adjust_expire(pb_ledger *l, pb_store_adjustment *r, int64_t expiry_us, bool *marked)
{
    *marked = false;
    expire_job *j = malloc(sizeof *j);
    if (!j)
        return PB_ERR_INTERNAL;
    memset(j, 0, sizeof *j);
    j->row = *r;
    j->expiry_us = expiry_us;
    pb_trace_new_trace_id(j->trace);
    pb_err e = pb_ledger_command(l, expire_command, j);
    if (e == PB_OK) {
        *r = j->row;
        *marked = j->marked;
    }
    free(j);
    return e;
}

/* The brands read a page at a time by a pass. */
#define SWEEP_BRANDS_PAGE 16

struct pb_api_adjust_sweep {
    pb_store *store;
    pb_ledger *ledger;
    pb_store_conn *conn; /* the thread's own */
    pb_ticker *ticker;
    atomic_bool stopping;      /* set by stop: no further command */
    pb_store_adjustment *rows; /* a batch (PB_API_ADJUST_SWEEP_BATCH) */
    pb_brand *brands;          /* a page of brands (SWEEP_BRANDS_PAGE) */
    atomic_uint_fast64_t marked, failures;
};

/* One brand's due requests, a batch at a time until none remain. */
static pb_err sweep_brand(pb_api_adjust_sweep *s, pb_store_conn *c, const pb_brand *b,
                          pb_store_adjustment *rows, size_t *marked)
{
    int64_t expiry = pb_tenancy_adjustment_expiry_us(b);
    for (;;) {
        size_t n = 0, now_marked = 0;
        pb_store_rc rc = pb_store_adjustment_due(c, b->code, pb_time_now_us() - expiry, rows,
                                                 PB_API_ADJUST_SWEEP_BATCH, &n);
        if (rc != PB_STORE_OK)
            return rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
        for (size_t i = 0; i < n; i++) {
            if (atomic_load(&s->stopping))
                return PB_OK;
            bool m = false;
            pb_err e = pb_api_adjust_expire(s->ledger, &rows[i], expiry, &m);
            if (e != PB_OK)
                return e;
            now_marked += m;
            *marked += m;
        }
        /* a short batch was the last; a full one none of which was marked (decided
         * meanwhile) leaves the rest to the next pass rather than read it again */
        if (n < PB_API_ADJUST_SWEEP_BATCH || now_marked == 0)
            return PB_OK;
    }
}

/* Every brand's due requests on c. */
static pb_err sweep_all(pb_api_adjust_sweep *s, pb_store_conn *c, size_t *marked)
{
    int64_t after = 0;
    size_t nb = 0;
    pb_err e = PB_OK;
    do {
        e = pb_tenancy_brand_list(c, NULL, after, s->brands, SWEEP_BRANDS_PAGE, &nb);
        for (size_t i = 0; e == PB_OK && i < nb && !atomic_load(&s->stopping); i++)
            e = sweep_brand(s, c, &s->brands[i], s->rows, marked);
        if (nb)
            after = s->brands[nb - 1].id;
    } while (e == PB_OK && nb == SWEEP_BRANDS_PAGE && !atomic_load(&s->stopping));
    return e;
}

static bool sweep_enter(void *arg)
{
    pb_api_adjust_sweep *s = arg;
    char err[256];
    if (!(s->conn = pb_store_connect(s->store, err, sizeof err))) {
        pb_log(PB_LOG_ERROR, "adjust.sweep", "the adjustment requests' sweep cannot start: %s",
               err);
        return false;
    }
    return true;
}

static bool sweep_pass(void *arg, int64_t retry_ms)
{
    pb_api_adjust_sweep *s = arg;
    size_t marked = 0;
    pb_err e = sweep_all(s, s->conn, &marked);
    atomic_fetch_add(&s->marked, marked);
    if (marked)
        pb_log(PB_LOG_INFO, "adjust.expired",
               "%zu adjustment request(s) pending past their brand's expiry marked expired",
               marked);
    if (e == PB_OK)
        return true;
    atomic_fetch_add(&s->failures, 1);
    pb_log(PB_LOG_WARN, "adjust.sweep",
           "the adjustment requests' sweep failed (%s) after marking %zu: next try in %lld ms",
           pb_err_code(e), marked, (long long)retry_ms);
    return false;
}

static void sweep_leave(void *arg)
{
    pb_api_adjust_sweep *s = arg;
    pb_store_disconnect(s->conn);
    s->conn = NULL;
}

pb_err pb_api_adjust_sweep_once(pb_store_conn *c, pb_ledger *l, size_t *marked)
{
    *marked = 0;
    pb_api_adjust_sweep s = {.ledger = l};
    s.rows = calloc(PB_API_ADJUST_SWEEP_BATCH, sizeof *s.rows);
    s.brands = calloc(SWEEP_BRANDS_PAGE, sizeof *s.brands);
    pb_err e = s.rows && s.brands ? sweep_all(&s, c, marked) : PB_ERR_INTERNAL;
    free(s.rows);
    free(s.brands);
    return e;
}

static void sweep_free(pb_api_adjust_sweep *s)
{
    free(s->rows);
    free(s->brands);
    free(s);
}

pb_api_adjust_sweep *pb_api_adjust_sweep_start(pb_store *store, pb_ledger *l, int interval_s,
                                               char *err, size_t errcap)
{
    pb_api_adjust_sweep *s = calloc(1, sizeof *s);
    if (s) {
        s->rows = calloc(PB_API_ADJUST_SWEEP_BATCH, sizeof *s->rows);
        s->brands = calloc(SWEEP_BRANDS_PAGE, sizeof *s->brands);
    }
    if (!s || !s->rows || !s->brands) {
        if (s)
            sweep_free(s);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->store = store;
    s->ledger = l;
    int64_t every_ms = (int64_t)(interval_s > 0 ? interval_s : PB_API_ADJUST_SWEEP_DEFAULT_S) *
                       1000;
    /* a pass at start: requests that passed their time while the server was down */
    pb_ticker_spec spec = {.name = "pb-adjust-sweep",
                           .clock = CLOCK_MONOTONIC,
                           .interval_ms = every_ms,
                           .backoff_max_ms = 10 * every_ms,
                           .pass_at_start = true,
                           .enter = sweep_enter,
                           .pass = sweep_pass,
                           .leave = sweep_leave,
                           .arg = s};
    if (!(s->ticker = pb_ticker_start(&spec))) {
        snprintf(err, errcap, "cannot start the adjustment requests' sweep: %s", strerror(errno));
        sweep_free(s);
        return NULL;
    }
    return s;
}

void pb_api_adjust_sweep_stop(pb_api_adjust_sweep *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    pb_ticker_stop(s->ticker); /* the command under way finishes; no other starts */
    sweep_free(s);
}

void pb_api_adjust_sweep_metrics(pb_api_adjust_sweep *s, pb_http_buf *out)
{
    if (!s)
        return;
    pb_http_buf_printf(
        out,
        "# HELP pitboss_adjustments_expired_total Staff adjustment requests pending past their "
        "brand's adjustment_request_expiry_hours that the sweep marked expired (audited "
        "player.adjust_expire by the system).\n"
        "# TYPE pitboss_adjustments_expired_total counter\n"
        "pitboss_adjustments_expired_total %llu\n"
        "# HELP pitboss_adjustments_sweep_failures_total Sweep passes that failed (logged "
        "adjust.sweep; retried with backoff).\n"
        "# TYPE pitboss_adjustments_sweep_failures_total counter\n"
        "pitboss_adjustments_sweep_failures_total %llu\n",
        (unsigned long long)atomic_load(&s->marked), (unsigned long long)atomic_load(&s->failures));
}
