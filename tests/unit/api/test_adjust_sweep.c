/*
 * test_adjust_sweep.c — serve's expiry sweep of the 4-eyes requests, staff
 * adjustment requests and unclaimed-funds settlement requests
 * (src/api/admin_request_sweep.c, admin_4eyes.c's pb_admin_request_expire)
 * driven in process on a real database and a running ledger, without a server:
 *
 *   - the race, for either kind: a request the sweep has read as due, approved (or
 *     rejected) by a ledger command that commits before the sweep's own, stays as
 *     decided; the sweep's command re-reads it and marks nothing (no audit entry, no
 *     event);
 *   - a pass marks the due requests of both kinds only (brand by brand, each by its
 *     brand's expiry for the kind), as the system, in batches until none remain; a
 *     second pass finds none;
 *   - the query plans: the adjustments' and the settlements' lists filtered on a
 *     status and the sweep's batch reads read the rows of that status only (0048's
 *     and 0054's (status, id), the partial indexes of 0052 and 0053), never the
 *     brands' rows or the whole table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../identity/fixture.h"
#include "api/api.h"
#include "core/time.h"
#include "store/sqlite/sqlite_internal.h" /* the connection's handle: for the query plans */
#include "../plans.h"

#define HOUR_US (3600 * 1000000LL)

typedef struct sfx {
    ifx *f; /* the identity fixture's: database, keys, brand "demo" */
    pb_ledger *ledger;
    pb_brand quick; /* requests (both kinds) expire after one hour */
    int64_t expiry; /* the demo brand's: the default 72 hours (both kinds) */
    int n;          /* requests made */
} sfx;

static int setup(void **state)
{
    sfx *t = calloc(1, sizeof *t);
    assert_non_null(t);
    void *fs = NULL;
    assert_int_equal(ifx_setup(&fs), 0);
    t->f = fs;
    char err[300];
    t->ledger = pb_ledger_open(t->f->store, NULL, err, sizeof err);
    assert_non_null(t->ledger);
    t->expiry = pb_tenancy_adjustment_expiry_us(&t->f->demo);
    assert_int_equal(t->expiry, 72 * HOUR_US);
    t->quick = ifx_brand(t->f, "quick", "EUR");
    pb_brand_update u = {.settings = "{\"adjustment_request_expiry_hours\":1,"
                                     "\"unclaimed_settlement_expiry_hours\":1}"};
    ifx_begin(t->f);
    const char *field = NULL;
    assert_int_equal(pb_tenancy_brand_update(t->f->conn, t->quick.id, &u, t->f->now, &t->quick,
                                             &field),
                     PB_OK);
    ifx_commit(t->f);
    assert_int_equal(pb_tenancy_adjustment_expiry_us(&t->quick), HOUR_US);
    assert_int_equal(pb_tenancy_settlement_expiry_us(&t->quick), HOUR_US);
    assert_int_equal(pb_tenancy_settlement_expiry_us(&t->f->demo), 72 * HOUR_US);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    sfx *t = *state;
    pb_ledger_close(t->ledger);
    void *f = t->f;
    free(t);
    return ifx_teardown(&f);
}

/* A pending request of brand made age_us ago; its public id into id. */
static void request(sfx *t, const char *brand, int64_t age_us, char id[PB_STORE_REQ_ID_MAX + 1])
{
    pb_store_adjustment r = {0};
    t->n++;
    snprintf(r.rq.public_id, sizeof r.rq.public_id, "0190aaaa-0000-7000-8000-%012d", t->n);
    snprintf(r.rq.brand, sizeof r.rq.brand, "%s", brand);
    snprintf(r.player, sizeof r.player, "player-%d", t->n);
    snprintf(r.balance, sizeof r.balance, "cash");
    snprintf(r.direction, sizeof r.direction, "credit");
    r.rq.amount = 100000;
    snprintf(r.rq.currency, sizeof r.rq.currency, "EUR");
    snprintf(r.rq.reason, sizeof r.rq.reason, "goodwill");
    snprintf(r.rq.idempotency_key, sizeof r.rq.idempotency_key, "key-%d", t->n);
    snprintf(r.rq.requested_by, sizeof r.rq.requested_by, "staff-1");
    r.rq.requested_at = pb_time_now_us() - age_us;
    ifx_begin(t->f);
    assert_int_equal(pb_store_request_insert(t->f->conn, PB_STORE_REQUEST_ADJUSTMENT, &r.rq),
                     PB_STORE_OK);
    ifx_commit(t->f);
    memcpy(id, r.rq.public_id, sizeof r.rq.public_id);
}

static pb_store_adjustment stored(sfx *t, const char *id)
{
    pb_store_adjustment r;
    assert_int_equal(pb_store_request_get(t->f->conn, PB_STORE_REQUEST_ADJUSTMENT, id, &r.rq),
                     PB_STORE_OK);
    return r;
}

/* A pending settlement request of brand made age_us ago; its public id into id. */
static void settlement(sfx *t, const char *brand, int64_t age_us, char id[PB_STORE_REQ_ID_MAX + 1])
{
    pb_store_settlement r = {0};
    t->n++;
    snprintf(r.rq.public_id, sizeof r.rq.public_id, "0190bbbb-0000-7000-8000-%012d", t->n);
    snprintf(r.rq.brand, sizeof r.rq.brand, "%s", brand);
    snprintf(r.rq.currency, sizeof r.rq.currency, "EUR");
    r.rq.amount = 2500;
    snprintf(r.destination, sizeof r.destination, "remitted");
    snprintf(r.reference, sizeof r.reference, "ESCH-%d", t->n);
    snprintf(r.rq.reason, sizeof r.rq.reason, "escheatment");
    snprintf(r.rq.idempotency_key, sizeof r.rq.idempotency_key, "settle-%d", t->n);
    snprintf(r.rq.requested_by, sizeof r.rq.requested_by, "staff-1");
    r.rq.requested_at = pb_time_now_us() - age_us;
    ifx_begin(t->f);
    assert_int_equal(pb_store_request_insert(t->f->conn, PB_STORE_REQUEST_SETTLEMENT, &r.rq),
                     PB_STORE_OK);
    ifx_commit(t->f);
    memcpy(id, r.rq.public_id, sizeof r.rq.public_id);
}

static pb_store_settlement settled(sfx *t, const char *id)
{
    pb_store_settlement r;
    assert_int_equal(pb_store_request_get(t->f->conn, PB_STORE_REQUEST_SETTLEMENT, id, &r.rq),
                     PB_STORE_OK);
    return r;
}

/* A decision as the approval's (or rejection's) command makes it. */
typedef struct decision {
    const char *id, *status;
} decision;

static pb_err decide_command(pb_ledger_tx *tx, void *arg)
{
    const decision *d = arg;
    pb_store_adjustment r;
    if (pb_store_request_get(pb_ledger_tx_conn(tx), PB_STORE_REQUEST_ADJUSTMENT, d->id, &r.rq) !=
        PB_STORE_OK)
        return PB_ERR_INTERNAL;
    snprintf(r.rq.status, sizeof r.rq.status, "%s", d->status);
    snprintf(r.rq.decided_by, sizeof r.rq.decided_by, "staff-2");
    r.rq.decided_at = pb_ledger_tx_now(tx);
    return pb_store_request_decide(pb_ledger_tx_conn(tx), PB_STORE_REQUEST_ADJUSTMENT, &r.rq) ==
                   PB_STORE_OK
               ? PB_OK
               : PB_ERR_INTERNAL;
}

static void decide(sfx *t, const char *id, const char *status)
{
    decision d = {id, status};
    assert_int_equal(pb_ledger_command(t->ledger, decide_command, &d), PB_OK);
}

/* The same for a settlement request (an approval's transfer id stands in). */
static pb_err settle_decide_command(pb_ledger_tx *tx, void *arg)
{
    const decision *d = arg;
    pb_store_settlement r;
    if (pb_store_request_get(pb_ledger_tx_conn(tx), PB_STORE_REQUEST_SETTLEMENT, d->id, &r.rq) !=
        PB_STORE_OK)
        return PB_ERR_INTERNAL;
    snprintf(r.rq.status, sizeof r.rq.status, "%s", d->status);
    snprintf(r.rq.decided_by, sizeof r.rq.decided_by, "staff-2");
    r.rq.decided_at = pb_ledger_tx_now(tx);
    if (strcmp(d->status, "approved") == 0)
        snprintf(r.rq.transfer_id, sizeof r.rq.transfer_id, "transfer-%s", d->id + 24);
    else
        snprintf(r.rq.decision_reason, sizeof r.rq.decision_reason, "no");
    return pb_store_request_decide(pb_ledger_tx_conn(tx), PB_STORE_REQUEST_SETTLEMENT, &r.rq) ==
                   PB_STORE_OK
               ? PB_OK
               : PB_ERR_INTERNAL;
}

static void settle_decide(sfx *t, const char *id, const char *status)
{
    decision d = {id, status};
    assert_int_equal(pb_ledger_command(t->ledger, settle_decide_command, &d), PB_OK);
}

static int64_t settle_expiries(sfx *t)
{
    return ifx_count(t->f, "SELECT count(*) FROM audit_entry "
                           "WHERE action='funds.unclaimed_settle_expire'");
}

static int64_t settle_expired_events(sfx *t)
{
    return ifx_count(t->f, "SELECT count(*) FROM event_outbox "
                           "WHERE type='funds.unclaimed_settlement_expired'");
}

static int64_t expiries(sfx *t)
{
    return ifx_count(t->f, "SELECT count(*) FROM audit_entry WHERE action='player.adjust_expire'");
}

static int64_t expired_events(sfx *t)
{
    return ifx_count(t->f, "SELECT count(*) FROM event_outbox "
                           "WHERE type='balance.adjustment_expired'");
}

/* Read as due by the sweep, then approved (or rejected) before the sweep's command
 * runs: the decision stands, nothing is marked, audited or announced. */
static void test_decision_between_read_and_command_wins(void **state)
{
    sfx *t = *state;
    const char *outcome[] = {"approved", "rejected"};
    for (int i = 0; i < 2; i++) {
        char id[PB_STORE_REQ_ID_MAX + 1];
        request(t, "demo", 73 * HOUR_US, id);
        pb_store_adjustment due[4];
        size_t n = 0;
        assert_int_equal(pb_store_request_due(t->f->conn, PB_STORE_REQUEST_ADJUSTMENT, "demo",
                                              pb_time_now_us() - t->expiry, due, 4, &n),
                         PB_STORE_OK);
        assert_int_equal(n, 1); /* the sweep's read */
        assert_string_equal(due[0].rq.public_id, id);
        assert_string_equal(due[0].rq.status, "pending");
        decide(t, id, outcome[i]); /* committed before the sweep's command */
        pb_store_adjustment before = stored(t, id);
        bool marked = true;
        assert_int_equal(pb_api_adjust_expire(t->ledger, &due[0], t->expiry, &marked), PB_OK);
        assert_false(marked);
        pb_store_adjustment after = stored(t, id);
        assert_string_equal(after.rq.status, outcome[i]);
        assert_string_equal(after.rq.decided_by, "staff-2");
        assert_int_equal(after.rq.decided_at, before.rq.decided_at);
        assert_int_equal(expiries(t), 0);
        assert_int_equal(expired_events(t), 0);
    }
}

/* A request still pending when the command runs is marked: the same effects as
 * the approval that finds it past its time, audited as the system. */
static void test_expire_marks_as_the_system(void **state)
{
    sfx *t = *state;
    char id[PB_STORE_REQ_ID_MAX + 1];
    request(t, "demo", 72 * HOUR_US, id); /* exactly its time */
    pb_store_adjustment r = stored(t, id);
    bool marked = false;
    int64_t t0 = pb_time_now_us();
    assert_int_equal(pb_api_adjust_expire(t->ledger, &r, t->expiry, &marked), PB_OK);
    assert_true(marked);
    pb_store_adjustment s = stored(t, id);
    assert_string_equal(s.rq.status, "expired");
    assert_string_equal(s.rq.decided_by, "");
    assert_true(s.rq.decided_at >= t0);
    assert_int_equal(ifx_count(t->f, "SELECT count(*) FROM audit_entry WHERE "
                                     "action='player.adjust_expire' AND actor_kind='system' "
                                     "AND actor_id='" PB_API_ADJUST_SWEEP_ACTOR "' "
                                     "AND brand='demo' AND target_kind='player' "
                                     "AND target_id='player-1' AND before IS NULL "
                                     "AND reason='pending longer than 72 hours' "
                                     "AND length(trace_id)=32"),
                     1);
    assert_int_equal(ifx_count(t->f,
                               "SELECT count(*) FROM event_outbox e JOIN audit_entry a "
                               "ON a.trace_id=e.trace_id WHERE "
                               "e.type='balance.adjustment_expired' AND e.brand='demo' "
                               "AND e.subject='player-1' AND a.action='player.adjust_expire'"),
                     1);
    /* again: it is not pending any more */
    assert_int_equal(pb_api_adjust_expire(t->ledger, &r, t->expiry, &marked), PB_OK);
    assert_false(marked);
    assert_int_equal(expiries(t), 1);
}

/* A pass: each brand's due requests by its own expiry, in batches until none
 * remain; a second pass finds nothing. */
static void test_pass_marks_due_only(void **state)
{
    sfx *t = *state;
    char young[PB_STORE_REQ_ID_MAX + 1], demo_old[PB_STORE_REQ_ID_MAX + 1],
        approved[PB_STORE_REQ_ID_MAX + 1], quick_young[PB_STORE_REQ_ID_MAX + 1];
    enum { MANY = 2 * PB_API_REQUEST_SWEEP_BATCH + 5 };
    char(*due)[PB_STORE_REQ_ID_MAX + 1] = calloc(MANY, sizeof *due);
    assert_non_null(due);
    for (int i = 0; i < MANY; i++)
        request(t, "quick", HOUR_US + i * 1000000LL, due[i]);
    request(t, "quick", HOUR_US - 60 * 1000000LL, quick_young); /* a minute left */
    request(t, "demo", 2 * HOUR_US, young);                     /* demo: 72 hours */
    request(t, "demo", 80 * HOUR_US, demo_old);
    request(t, "quick", 5 * HOUR_US, approved);
    decide(t, approved, "approved");
    size_t marked = 0, settled = 0;
    assert_int_equal(pb_api_request_sweep_once(t->f->conn, t->ledger, &marked, &settled), PB_OK);
    assert_int_equal(marked, MANY + 1);
    assert_int_equal(settled, 0);
    for (int i = 0; i < MANY; i++)
        assert_string_equal(stored(t, due[i]).rq.status, "expired");
    assert_string_equal(stored(t, demo_old).rq.status, "expired");
    assert_string_equal(stored(t, young).rq.status, "pending");
    assert_string_equal(stored(t, quick_young).rq.status, "pending");
    assert_string_equal(stored(t, approved).rq.status, "approved");
    assert_int_equal(expiries(t), MANY + 1);
    assert_int_equal(expired_events(t), MANY + 1);
    assert_int_equal(ifx_count(t->f, "SELECT count(*) FROM audit_entry WHERE "
                                     "action='player.adjust_expire' AND actor_kind<>'system'"),
                     0);
    assert_int_equal(pb_api_request_sweep_once(t->f->conn, t->ledger, &marked, &settled), PB_OK);
    assert_int_equal(marked, 0);
    assert_int_equal(expiries(t), MANY + 1);
    free(due);
}

/* A settlement request read as due by the sweep, then approved (or rejected) before
 * the sweep's command runs: the decision stands, nothing is marked, audited or
 * announced. */
static void test_settlement_decision_between_read_and_command_wins(void **state)
{
    sfx *t = *state;
    const char *outcome[] = {"approved", "rejected"};
    for (int i = 0; i < 2; i++) {
        char id[PB_STORE_REQ_ID_MAX + 1];
        settlement(t, "demo", 73 * HOUR_US, id);
        pb_store_settlement due[4];
        size_t n = 0;
        assert_int_equal(pb_store_request_due(t->f->conn, PB_STORE_REQUEST_SETTLEMENT, "demo",
                                              pb_time_now_us() - t->expiry, due, 4, &n),
                         PB_STORE_OK);
        assert_int_equal(n, 1); /* the sweep's read */
        assert_string_equal(due[0].rq.public_id, id);
        assert_string_equal(due[0].rq.status, "pending");
        settle_decide(t, id, outcome[i]); /* committed before the sweep's command */
        pb_store_settlement before = settled(t, id);
        bool marked = true;
        assert_int_equal(pb_api_settle_expire(t->ledger, &due[0], t->expiry, &marked), PB_OK);
        assert_false(marked);
        pb_store_settlement after = settled(t, id);
        assert_string_equal(after.rq.status, outcome[i]);
        assert_string_equal(after.rq.decided_by, "staff-2");
        assert_int_equal(after.rq.decided_at, before.rq.decided_at);
        assert_string_equal(after.rq.transfer_id, before.rq.transfer_id);
        assert_int_equal(settle_expiries(t), 0);
        assert_int_equal(settle_expired_events(t), 0);
    }
}

/* A settlement request still pending when the command runs is marked: the same
 * effects as the approval that finds it past its time, audited as the system; no
 * money moves. */
static void test_settlement_expire_marks_as_the_system(void **state)
{
    sfx *t = *state;
    char id[PB_STORE_REQ_ID_MAX + 1];
    settlement(t, "demo", 72 * HOUR_US, id); /* exactly its time */
    pb_store_settlement r = settled(t, id);
    int64_t transfers = ifx_count(t->f, "SELECT count(*) FROM ledger_transfer");
    bool marked = false;
    int64_t t0 = pb_time_now_us();
    assert_int_equal(pb_api_settle_expire(t->ledger, &r, t->expiry, &marked), PB_OK);
    assert_true(marked);
    assert_string_equal(r.rq.status, "expired"); /* r: as the command left it */
    pb_store_settlement s = settled(t, id);
    assert_string_equal(s.rq.status, "expired");
    assert_string_equal(s.rq.decided_by, "");
    assert_string_equal(s.rq.transfer_id, "");
    assert_true(s.rq.decided_at >= t0);
    assert_int_equal(ifx_count(t->f, "SELECT count(*) FROM audit_entry WHERE "
                                     "action='funds.unclaimed_settle_expire' "
                                     "AND actor_kind='system' "
                                     "AND actor_id='" PB_API_SETTLE_SWEEP_ACTOR "' "
                                     "AND brand='demo' AND target_kind='brand' "
                                     "AND target_id='demo' AND before IS NULL "
                                     "AND json_extract(after,'$.status')='expired' "
                                     "AND json_extract(after,'$.id')='0190bbbb-0000-7000-8000-"
                                     "000000000001' "
                                     "AND reason='pending longer than 72 hours' "
                                     "AND length(trace_id)=32"),
                     1);
    assert_int_equal(ifx_count(t->f,
                               "SELECT count(*) FROM event_outbox e JOIN audit_entry a "
                               "ON a.trace_id=e.trace_id WHERE "
                               "e.type='funds.unclaimed_settlement_expired' AND e.brand='demo' "
                               "AND a.action='funds.unclaimed_settle_expire' "
                               "AND json_extract(e.payload,'$.settlement_id')="
                               "'0190bbbb-0000-7000-8000-000000000001' "
                               "AND json_extract(e.payload,'$.amount')='25.00' "
                               "AND json_extract(e.payload,'$.requested_by')='staff-1' "
                               "AND json_type(e.payload,'$.staff_id')='null'"),
                     1);
    assert_int_equal(ifx_count(t->f, "SELECT count(*) FROM ledger_transfer"), transfers);
    /* again: it is not pending any more */
    assert_int_equal(pb_api_settle_expire(t->ledger, &r, t->expiry, &marked), PB_OK);
    assert_false(marked);
    assert_int_equal(settle_expiries(t), 1);
}

/* A pass marks the due requests of both kinds, each by its brand's expiry for the
 * kind, settlements in batches too; decided and young ones stay as they are. */
static void test_pass_marks_due_settlements(void **state)
{
    sfx *t = *state;
    char young[PB_STORE_REQ_ID_MAX + 1], demo_old[PB_STORE_REQ_ID_MAX + 1],
        approved[PB_STORE_REQ_ID_MAX + 1], rejected[PB_STORE_REQ_ID_MAX + 1],
        quick_young[PB_STORE_REQ_ID_MAX + 1], adj[PB_STORE_REQ_ID_MAX + 1];
    enum { MANY = PB_API_REQUEST_SWEEP_BATCH + 3 };
    char(*due)[PB_STORE_REQ_ID_MAX + 1] = calloc(MANY, sizeof *due);
    assert_non_null(due);
    for (int i = 0; i < MANY; i++)
        settlement(t, "quick", HOUR_US + i * 1000000LL, due[i]);
    settlement(t, "quick", HOUR_US - 60 * 1000000LL, quick_young); /* a minute left */
    settlement(t, "demo", 2 * HOUR_US, young);                     /* demo: 72 hours */
    settlement(t, "demo", 80 * HOUR_US, demo_old);
    settlement(t, "quick", 5 * HOUR_US, approved);
    settlement(t, "quick", 5 * HOUR_US, rejected);
    settle_decide(t, approved, "approved");
    settle_decide(t, rejected, "rejected");
    request(t, "quick", 2 * HOUR_US, adj); /* an adjustment request too */
    size_t marked = 0, nsettled = 0;
    assert_int_equal(pb_api_request_sweep_once(t->f->conn, t->ledger, &marked, &nsettled), PB_OK);
    assert_int_equal(marked, 1);
    assert_int_equal(nsettled, MANY + 1);
    assert_string_equal(stored(t, adj).rq.status, "expired");
    for (int i = 0; i < MANY; i++)
        assert_string_equal(settled(t, due[i]).rq.status, "expired");
    assert_string_equal(settled(t, demo_old).rq.status, "expired");
    assert_string_equal(settled(t, young).rq.status, "pending");
    assert_string_equal(settled(t, quick_young).rq.status, "pending");
    assert_string_equal(settled(t, approved).rq.status, "approved");
    assert_string_equal(settled(t, approved).rq.decided_by, "staff-2");
    assert_string_equal(settled(t, rejected).rq.status, "rejected");
    assert_int_equal(settle_expiries(t), MANY + 1);
    assert_int_equal(settle_expired_events(t), MANY + 1);
    assert_int_equal(ifx_count(t->f, "SELECT count(*) FROM audit_entry WHERE "
                                     "action='funds.unclaimed_settle_expire' AND "
                                     "(actor_kind<>'system' OR "
                                     "actor_id<>'" PB_API_SETTLE_SWEEP_ACTOR "')"),
                     0);
    assert_int_equal(pb_api_request_sweep_once(t->f->conn, t->ledger, &marked, &nsettled), PB_OK);
    assert_int_equal(marked, 0);
    assert_int_equal(nsettled, 0);
    assert_int_equal(settle_expiries(t), MANY + 1);
    free(due);
}

/* The statements of the list filtered on a status and of the sweep's read. */
static bool adjustment_statement(const char *sql, void *ctx)
{
    (void)ctx;
    return strstr(sql, "FROM adjustment_request") &&
           (strstr(sql, "status=?2") || strstr(sql, "status='pending'") ||
            strstr(sql, "status='expired'"));
}

typedef struct plan_seen {
    int by_status; /* lines searching by the stored status (or the pending index) */
    int statements;
} plan_seen;

static void status_search(const char *sql, const char *detail, void *ctx)
{
    plan_seen *s = ctx;
    if (!detail) {
        s->statements++;
        return;
    }
    if (plan_is_scan(detail, "r") || plan_is_scan(detail, "adjustment_request") ||
        strstr(detail, "adjustment_request_brand")) {
        print_error("reads every row (of the brands): %s\n  in %s\n", detail, sql);
        fail();
    }
    if (strstr(detail, "USING INDEX adjustment_request_status (status=?") ||
        strstr(detail, "USING INDEX adjustment_request_pending"))
        s->by_status++;
    if (strstr(sql, "ORDER BY requested_at") &&
        !strstr(detail, "adjustment_request_pending (brand=? AND requested_at<?)") &&
        strncmp(detail, "SEARCH", 6) == 0) {
        print_error("the sweep's read is not over 0052's index: %s\n", detail);
        fail();
    }
}

/* The settlements' due read: over 0053's partial index, never 0051's (brand, id)
 * (every request the brand made) or the table. */
static bool settlement_due_statement(const char *sql, void *ctx)
{
    (void)ctx;
    return strstr(sql, "FROM unclaimed_settlement_request") && strstr(sql, "ORDER BY requested_at");
}

static void settlement_due_search(const char *sql, const char *detail, void *ctx)
{
    int *over_index = ctx;
    if (!detail)
        return;
    if (plan_is_scan(detail, NULL) || strstr(detail, "unclaimed_settlement_request_brand") ||
        strstr(detail, "TEMP B-TREE")) {
        print_error("the settlements' sweep read does not search 0053's index: %s\n  in %s\n",
                    detail, sql);
        fail();
    }
    if (strstr(detail, "USING INDEX unclaimed_settlement_request_pending (brand=? AND "
                       "requested_at<?)"))
        (*over_index)++;
}

/* The settlements' list filtered on a status (its rows are read as "r"). */
static bool settlement_list_statement(const char *sql, void *ctx)
{
    (void)ctx;
    return strstr(sql, "FROM unclaimed_settlement_request r") &&
           (strstr(sql, "status=?2") || strstr(sql, "status='pending'") ||
            strstr(sql, "status='expired'"));
}

/* Each line of a filtered list's plan: a search by the stored status (0054's
 * (status, id), or 0053's pending index), never the brands' rows or the table. */
static void settlement_list_search(const char *sql, const char *detail, void *ctx)
{
    plan_seen *s = ctx;
    if (!detail) {
        s->statements++;
        return;
    }
    if (plan_is_scan(detail, "r") || plan_is_scan(detail, "unclaimed_settlement_request") ||
        strstr(detail, "unclaimed_settlement_request_brand")) {
        print_error("the settlements' list reads every row (of the brands): %s\n  in %s\n", detail,
                    sql);
        fail();
    }
    if (strstr(detail, "USING INDEX unclaimed_settlement_request_status (status=?") ||
        strstr(detail, "USING INDEX unclaimed_settlement_request_pending"))
        s->by_status++;
}

static void test_plans(void **state)
{
    sfx *t = *state;
    pb_store_adjustment rows[4];
    size_t n = 0;
    const char *status[] = {"pending", "expired", "approved", "rejected", "failed"};
    for (size_t i = 0; i < sizeof status / sizeof status[0]; i++)
        assert_int_equal(pb_store_request_list(t->f->conn, PB_STORE_REQUEST_ADJUSTMENT,
                                               "{\"demo\":259200000000}", pb_time_now_us(),
                                               status[i], 0, rows, 4, &n),
                         PB_STORE_OK);
    assert_int_equal(pb_store_request_due(t->f->conn, PB_STORE_REQUEST_ADJUSTMENT, "demo",
                                          pb_time_now_us(), rows, 4, &n),
                     PB_STORE_OK);
    plan_seen s = {0};
    int checked = plans_each(((sq_conn *)t->f->conn)->db, adjustment_statement, status_search, &s);
    assert_int_equal(checked, 4); /* pending, expired, any other status, the sweep's */
    assert_int_equal(s.statements, 4);
    assert_true(s.by_status >= 5); /* expired searches twice (stored and pending) */
    pb_store_settlement srows[4];
    assert_int_equal(pb_store_request_due(t->f->conn, PB_STORE_REQUEST_SETTLEMENT, "demo",
                                          pb_time_now_us(), srows, 4, &n),
                     PB_STORE_OK);
    int over_index = 0;
    assert_int_equal(plans_each(((sq_conn *)t->f->conn)->db, settlement_due_statement,
                                settlement_due_search, &over_index),
                     1);
    assert_int_equal(over_index, 1);
    for (size_t i = 0; i < sizeof status / sizeof status[0]; i++)
        assert_int_equal(pb_store_request_list(t->f->conn, PB_STORE_REQUEST_SETTLEMENT,
                                               "{\"demo\":259200000000}", pb_time_now_us(),
                                               status[i], 0, srows, 4, &n),
                         PB_STORE_OK);
    plan_seen ls = {0};
    checked = plans_each(((sq_conn *)t->f->conn)->db, settlement_list_statement,
                         settlement_list_search, &ls);
    assert_int_equal(checked, 3); /* pending, expired, any other status */
    assert_int_equal(ls.statements, 3);
    assert_true(ls.by_status >= 4); /* expired searches twice (stored and pending) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decision_between_read_and_command_wins, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expire_marks_as_the_system, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pass_marks_due_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settlement_decision_between_read_and_command_wins,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_settlement_expire_marks_as_the_system, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pass_marks_due_settlements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plans, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
