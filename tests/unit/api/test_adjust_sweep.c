/*
 * test_adjust_sweep.c — the expiry sweep of staff adjustment requests
 * (src/api/admin_adjust_expire.c) driven in process on a real database and a
 * running ledger, without a server:
 *
 *   - the race: a request the sweep has read as due, approved (or rejected) by a
 *     ledger command that commits before the sweep's own, stays as decided; the
 *     sweep's command re-reads it and marks nothing (no audit entry, no event);
 *   - a pass marks the due requests only (brand by brand, each by its own expiry),
 *     as the system, in batches until none remain; a second pass finds none;
 *   - the query plans: the list filtered on a status and the sweep's batch read
 *     the rows of that status only (0048's (status, id), 0052's partial index),
 *     never the brands' rows or the whole table.
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
    pb_brand quick; /* requests expire after one hour */
    int64_t expiry; /* the demo brand's: the default 72 hours */
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
    pb_brand_update u = {.settings = "{\"adjustment_request_expiry_hours\":1}"};
    ifx_begin(t->f);
    const char *field = NULL;
    assert_int_equal(pb_tenancy_brand_update(t->f->conn, t->quick.id, &u, t->f->now, &t->quick,
                                             &field),
                     PB_OK);
    ifx_commit(t->f);
    assert_int_equal(pb_tenancy_adjustment_expiry_us(&t->quick), HOUR_US);
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
static void request(sfx *t, const char *brand, int64_t age_us, char id[PB_STORE_ADJ_ID_MAX + 1])
{
    pb_store_adjustment r = {0};
    t->n++;
    snprintf(r.public_id, sizeof r.public_id, "0190aaaa-0000-7000-8000-%012d", t->n);
    snprintf(r.brand, sizeof r.brand, "%s", brand);
    snprintf(r.player, sizeof r.player, "player-%d", t->n);
    snprintf(r.balance, sizeof r.balance, "cash");
    snprintf(r.direction, sizeof r.direction, "credit");
    r.amount = 100000;
    snprintf(r.currency, sizeof r.currency, "EUR");
    snprintf(r.reason, sizeof r.reason, "goodwill");
    snprintf(r.idempotency_key, sizeof r.idempotency_key, "key-%d", t->n);
    snprintf(r.requested_by, sizeof r.requested_by, "staff-1");
    r.requested_at = pb_time_now_us() - age_us;
    ifx_begin(t->f);
    assert_int_equal(pb_store_adjustment_insert(t->f->conn, &r), PB_STORE_OK);
    ifx_commit(t->f);
    memcpy(id, r.public_id, sizeof r.public_id);
}

static pb_store_adjustment stored(sfx *t, const char *id)
{
    pb_store_adjustment r;
    assert_int_equal(pb_store_adjustment_get(t->f->conn, id, &r), PB_STORE_OK);
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
    if (pb_store_adjustment_get(pb_ledger_tx_conn(tx), d->id, &r) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    snprintf(r.status, sizeof r.status, "%s", d->status);
    snprintf(r.decided_by, sizeof r.decided_by, "staff-2");
    r.decided_at = pb_ledger_tx_now(tx);
    return pb_store_adjustment_decide(pb_ledger_tx_conn(tx), &r) == PB_STORE_OK ? PB_OK
                                                                                : PB_ERR_INTERNAL;
}

static void decide(sfx *t, const char *id, const char *status)
{
    decision d = {id, status};
    assert_int_equal(pb_ledger_command(t->ledger, decide_command, &d), PB_OK);
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
        char id[PB_STORE_ADJ_ID_MAX + 1];
        request(t, "demo", 73 * HOUR_US, id);
        pb_store_adjustment due[4];
        size_t n = 0;
        assert_int_equal(pb_store_adjustment_due(t->f->conn, "demo", pb_time_now_us() - t->expiry,
                                                 due, 4, &n),
                         PB_STORE_OK);
        assert_int_equal(n, 1); /* the sweep's read */
        assert_string_equal(due[0].public_id, id);
        assert_string_equal(due[0].status, "pending");
        decide(t, id, outcome[i]); /* committed before the sweep's command */
        pb_store_adjustment before = stored(t, id);
        bool marked = true;
        assert_int_equal(pb_api_adjust_expire(t->ledger, &due[0], t->expiry, &marked), PB_OK);
        assert_false(marked);
        pb_store_adjustment after = stored(t, id);
        assert_string_equal(after.status, outcome[i]);
        assert_string_equal(after.decided_by, "staff-2");
        assert_int_equal(after.decided_at, before.decided_at);
        assert_int_equal(expiries(t), 0);
        assert_int_equal(expired_events(t), 0);
    }
}

/* A request still pending when the command runs is marked: the same effects as
 * the approval that finds it past its time, audited as the system. */
static void test_expire_marks_as_the_system(void **state)
{
    sfx *t = *state;
    char id[PB_STORE_ADJ_ID_MAX + 1];
    request(t, "demo", 72 * HOUR_US, id); /* exactly its time */
    pb_store_adjustment r = stored(t, id);
    bool marked = false;
    int64_t t0 = pb_time_now_us();
    assert_int_equal(pb_api_adjust_expire(t->ledger, &r, t->expiry, &marked), PB_OK);
    assert_true(marked);
    pb_store_adjustment s = stored(t, id);
    assert_string_equal(s.status, "expired");
    assert_string_equal(s.decided_by, "");
    assert_true(s.decided_at >= t0);
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
    char young[PB_STORE_ADJ_ID_MAX + 1], demo_old[PB_STORE_ADJ_ID_MAX + 1],
        approved[PB_STORE_ADJ_ID_MAX + 1], quick_young[PB_STORE_ADJ_ID_MAX + 1];
    enum { MANY = 2 * PB_API_ADJUST_SWEEP_BATCH + 5 };
    char(*due)[PB_STORE_ADJ_ID_MAX + 1] = calloc(MANY, sizeof *due);
    assert_non_null(due);
    for (int i = 0; i < MANY; i++)
        request(t, "quick", HOUR_US + i * 1000000LL, due[i]);
    request(t, "quick", HOUR_US - 60 * 1000000LL, quick_young); /* a minute left */
    request(t, "demo", 2 * HOUR_US, young);                     /* demo: 72 hours */
    request(t, "demo", 80 * HOUR_US, demo_old);
    request(t, "quick", 5 * HOUR_US, approved);
    decide(t, approved, "approved");
    size_t marked = 0;
    assert_int_equal(pb_api_adjust_sweep_once(t->f->conn, t->ledger, &marked), PB_OK);
    assert_int_equal(marked, MANY + 1);
    for (int i = 0; i < MANY; i++)
        assert_string_equal(stored(t, due[i]).status, "expired");
    assert_string_equal(stored(t, demo_old).status, "expired");
    assert_string_equal(stored(t, young).status, "pending");
    assert_string_equal(stored(t, quick_young).status, "pending");
    assert_string_equal(stored(t, approved).status, "approved");
    assert_int_equal(expiries(t), MANY + 1);
    assert_int_equal(expired_events(t), MANY + 1);
    assert_int_equal(ifx_count(t->f, "SELECT count(*) FROM audit_entry WHERE "
                                     "action='player.adjust_expire' AND actor_kind<>'system'"),
                     0);
    assert_int_equal(pb_api_adjust_sweep_once(t->f->conn, t->ledger, &marked), PB_OK);
    assert_int_equal(marked, 0);
    assert_int_equal(expiries(t), MANY + 1);
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

static void test_plans(void **state)
{
    sfx *t = *state;
    pb_store_adjustment rows[4];
    size_t n = 0;
    const char *status[] = {"pending", "expired", "approved", "rejected", "failed"};
    for (size_t i = 0; i < sizeof status / sizeof status[0]; i++)
        assert_int_equal(pb_store_adjustment_list(t->f->conn, "{\"demo\":259200000000}",
                                                  pb_time_now_us(), status[i], 0, rows, 4, &n),
                         PB_STORE_OK);
    assert_int_equal(pb_store_adjustment_due(t->f->conn, "demo", pb_time_now_us(), rows, 4, &n),
                     PB_STORE_OK);
    plan_seen s = {0};
    int checked = plans_each(((sq_conn *)t->f->conn)->db, adjustment_statement, status_search, &s);
    assert_int_equal(checked, 4); /* pending, expired, any other status, the sweep's */
    assert_int_equal(s.statements, 4);
    assert_true(s.by_status >= 5); /* expired searches twice (stored and pending) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decision_between_read_and_command_wins, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expire_marks_as_the_system, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pass_marks_due_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plans, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
