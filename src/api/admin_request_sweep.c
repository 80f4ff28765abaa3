/*
 * admin_request_sweep.c — serve's sweep of the 4-eyes requests pending past their
 * brand's expiry: staff adjustment requests (admin_adjust.c; settings.
 * adjustment_request_expiry_hours) and unclaimed-funds settlement requests
 * (admin_unclaimed_settle.c; settings.unclaimed_settlement_expiry_hours). Without it
 * a request nobody touches stays stored pending (no event, no audit entry) though
 * the API reads it as expired.
 *
 * One pb_ticker thread of serve (`--request-sweep-seconds`, or its older name
 * `--adjust-sweep-seconds`; default 60) on its own store connection. A pass (one at
 * start, then one per interval) does the adjustments, then the settlements: for each
 * kind it walks the brands and reads each one's pending requests made at or before
 * now - that brand's expiry for the kind, oldest first, PB_API_REQUEST_SWEEP_BATCH at
 * a time (the partial indexes of 0052 and 0053), until none remain. Each request is
 * marked by pb_admin_request_expire (admin_4eyes.c) in a ledger command of its own
 * that re-reads it there: one decided since the read is left as decided, so a
 * decision always wins over the sweep. It marks it exactly as the decision that
 * finds it past its time would (pb_admin_request_mark_expired), audited as the
 * system (the kind's sweep actor: PB_API_ADJUST_SWEEP_ACTOR,
 * PB_API_SETTLE_SWEEP_ACTOR). A kind is one pb_admin_request_kind (admin_4eyes.h) in
 * KINDS.
 *
 * No money moves. A kind's failure (the store or the ledger) ends that kind's part
 * of the pass (the rest waits for the next) but not the other kind's; it is logged and
 * counted, and the next pass comes after a doubled wait (up to ten intervals). Stop
 * lets the command under way finish and starts no other. /metrics counts, per kind,
 * the requests marked and the passes whose part failed (pb_api_request_sweep_metrics).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_4eyes.h"
#include "core/log.h"
#include "core/ticker.h"
#include "core/time.h"

enum { KIND_ADJUSTMENT, KIND_SETTLEMENT, NKINDS };

/* In the order a pass does them. */
static const pb_admin_request_kind *const KINDS[NKINDS] = {
    [KIND_ADJUSTMENT] = &pb_admin_adjustment_requests,
    [KIND_SETTLEMENT] = &pb_admin_settlement_requests,
};

/* The brands read a page at a time by a pass. */
#define SWEEP_BRANDS_PAGE 16

struct pb_api_request_sweep {
    pb_store *store;
    pb_ledger *ledger;
    pb_store_conn *conn; /* the thread's own */
    pb_ticker *ticker;
    atomic_bool stopping; /* set by stop: no further command */
    void *rows;           /* a batch (PB_API_REQUEST_SWEEP_BATCH) of the largest kind's rows */
    pb_brand *brands;     /* a page of brands (SWEEP_BRANDS_PAGE) */
    atomic_uint_fast64_t marked[NKINDS], failures[NKINDS];
};

/* One brand's due requests of kind k, a batch at a time until none remain; each
 * marked is counted in *marked (and the metrics) as it is marked. */
static pb_err sweep_brand(pb_api_request_sweep *s, pb_store_conn *c, int kind, const pb_brand *b,
                          size_t *marked)
{
    const pb_admin_request_kind *k = KINDS[kind];
    size_t size = pb_store_request_size(k->store);
    int64_t expiry = k->expiry_us(b);
    for (;;) {
        size_t n = 0, now_marked = 0;
        pb_store_rc rc = pb_store_request_due(c, k->store, b->code, pb_time_now_us() - expiry,
                                              s->rows, PB_API_REQUEST_SWEEP_BATCH, &n);
        if (rc != PB_STORE_OK)
            return rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
        for (size_t i = 0; i < n; i++) {
            if (atomic_load(&s->stopping))
                return PB_OK;
            bool m = false;
            pb_err e = pb_admin_request_expire(s->ledger, k,
                                               (pb_store_request *)((char *)s->rows + i * size),
                                               expiry, &m);
            if (e != PB_OK)
                return e;
            now_marked += m;
            *marked += m;
            atomic_fetch_add(&s->marked[kind], m);
        }
        /* a short batch was the last; a full one none of which was marked (decided
         * meanwhile) leaves the rest to the next pass rather than read it again */
        if (n < PB_API_REQUEST_SWEEP_BATCH || now_marked == 0)
            return PB_OK;
    }
}

/* Every brand's due requests of kind k on c. */
static pb_err sweep_kind_all(pb_api_request_sweep *s, pb_store_conn *c, int kind, size_t *marked)
{
    int64_t after = 0;
    size_t nb = 0;
    pb_err e = PB_OK;
    do {
        e = pb_tenancy_brand_list(c, NULL, after, s->brands, SWEEP_BRANDS_PAGE, &nb);
        for (size_t i = 0; e == PB_OK && i < nb && !atomic_load(&s->stopping); i++)
            e = sweep_brand(s, c, kind, &s->brands[i], marked);
        if (nb)
            after = s->brands[nb - 1].id;
    } while (e == PB_OK && nb == SWEEP_BRANDS_PAGE && !atomic_load(&s->stopping));
    return e;
}

/* A pass on c: each kind in turn (one failing does not keep the next from its
 * turn); marked[k] the requests of kind k marked, failed[k] its failure (PB_OK). */
static void sweep_all(pb_api_request_sweep *s, pb_store_conn *c, size_t marked[NKINDS],
                      pb_err failed[NKINDS])
{
    for (int k = 0; k < NKINDS; k++) {
        marked[k] = 0;
        failed[k] = atomic_load(&s->stopping) ? PB_OK : sweep_kind_all(s, c, k, &marked[k]);
    }
}

static bool sweep_enter(void *arg)
{
    pb_api_request_sweep *s = arg;
    char err[256];
    if (!(s->conn = pb_store_connect(s->store, err, sizeof err))) {
        pb_log(PB_LOG_ERROR, "request.sweep", "the 4-eyes requests' expiry sweep cannot start: %s",
               err);
        return false;
    }
    return true;
}

static bool sweep_pass(void *arg, int64_t retry_ms)
{
    pb_api_request_sweep *s = arg;
    size_t marked[NKINDS];
    pb_err failed[NKINDS];
    sweep_all(s, s->conn, marked, failed);
    bool ok = true;
    for (int k = 0; k < NKINDS; k++) {
        if (marked[k])
            pb_log(PB_LOG_INFO, "request.expired",
                   "%zu %s request(s) pending past their brand's expiry marked expired", marked[k],
                   KINDS[k]->what);
        if (failed[k] == PB_OK)
            continue;
        ok = false;
        atomic_fetch_add(&s->failures[k], 1);
        pb_log(PB_LOG_WARN, "request.sweep",
               "the %s requests' expiry sweep failed (%s) after marking %zu: next try in %lld ms",
               KINDS[k]->what, pb_err_code(failed[k]), marked[k], (long long)retry_ms);
    }
    return ok;
}

static void sweep_leave(void *arg)
{
    pb_api_request_sweep *s = arg;
    pb_store_disconnect(s->conn);
    s->conn = NULL;
}

/* The batch: room for the largest kind's rows. */
static void *rows_new(void)
{
    size_t size = 0;
    for (int k = 0; k < NKINDS; k++)
        if (pb_store_request_size(KINDS[k]->store) > size)
            size = pb_store_request_size(KINDS[k]->store);
    return calloc(PB_API_REQUEST_SWEEP_BATCH, size);
}

pb_err pb_api_request_sweep_once(pb_store_conn *c, pb_ledger *l, size_t *adjustments,
                                 size_t *settlements)
{
    *adjustments = *settlements = 0;
    pb_api_request_sweep s = {.ledger = l};
    s.rows = rows_new();
    s.brands = calloc(SWEEP_BRANDS_PAGE, sizeof *s.brands);
    pb_err e = s.rows && s.brands ? PB_OK : PB_ERR_INTERNAL;
    if (e == PB_OK) {
        size_t marked[NKINDS];
        pb_err failed[NKINDS];
        sweep_all(&s, c, marked, failed);
        *adjustments = marked[KIND_ADJUSTMENT];
        *settlements = marked[KIND_SETTLEMENT];
        e = failed[KIND_ADJUSTMENT] != PB_OK ? failed[KIND_ADJUSTMENT] : failed[KIND_SETTLEMENT];
    }
    free(s.rows);
    free(s.brands);
    return e;
}

static void sweep_free(pb_api_request_sweep *s)
{
    free(s->rows);
    free(s->brands);
    free(s);
}

pb_api_request_sweep *pb_api_request_sweep_start(pb_store *store, pb_ledger *l, int interval_s,
                                                 char *err, size_t errcap)
{
    pb_api_request_sweep *s = calloc(1, sizeof *s);
    if (s) {
        s->rows = rows_new();
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
    int64_t every_ms = (int64_t)(interval_s > 0 ? interval_s : PB_API_REQUEST_SWEEP_DEFAULT_S) *
                       1000;
    /* a pass at start: requests that passed their time while the server was down */
    pb_ticker_spec spec = {.name = "pb-req-sweep",
                           .clock = CLOCK_MONOTONIC,
                           .interval_ms = every_ms,
                           .backoff_max_ms = 10 * every_ms,
                           .pass_at_start = true,
                           .enter = sweep_enter,
                           .pass = sweep_pass,
                           .leave = sweep_leave,
                           .arg = s};
    if (!(s->ticker = pb_ticker_start(&spec))) {
        snprintf(err, errcap, "cannot start the 4-eyes requests' expiry sweep: %s",
                 strerror(errno));
        sweep_free(s);
        return NULL;
    }
    return s;
}

void pb_api_request_sweep_stop(pb_api_request_sweep *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    pb_ticker_stop(s->ticker); /* the command under way finishes; no other starts */
    sweep_free(s);
}

void pb_api_request_sweep_metrics(pb_api_request_sweep *s, pb_http_buf *out)
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
        "# HELP pitboss_adjustments_sweep_failures_total Sweep passes whose adjustment requests' "
        "part failed (logged request.sweep; retried with backoff).\n"
        "# TYPE pitboss_adjustments_sweep_failures_total counter\n"
        "pitboss_adjustments_sweep_failures_total %llu\n"
        "# HELP pitboss_unclaimed_settlements_expired_total Unclaimed-funds settlement requests "
        "pending past their brand's unclaimed_settlement_expiry_hours that the sweep marked "
        "expired (audited funds.unclaimed_settle_expire by the system).\n"
        "# TYPE pitboss_unclaimed_settlements_expired_total counter\n"
        "pitboss_unclaimed_settlements_expired_total %llu\n"
        "# HELP pitboss_unclaimed_settlements_sweep_failures_total Sweep passes whose settlement "
        "requests' part failed (logged request.sweep; retried with backoff).\n"
        "# TYPE pitboss_unclaimed_settlements_sweep_failures_total counter\n"
        "pitboss_unclaimed_settlements_sweep_failures_total %llu\n",
        (unsigned long long)atomic_load(&s->marked[KIND_ADJUSTMENT]),
        (unsigned long long)atomic_load(&s->failures[KIND_ADJUSTMENT]),
        (unsigned long long)atomic_load(&s->marked[KIND_SETTLEMENT]),
        (unsigned long long)atomic_load(&s->failures[KIND_SETTLEMENT]));
}
