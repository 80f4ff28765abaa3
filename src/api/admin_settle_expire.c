/*
 * admin_settle_expire.c — how an unclaimed-funds settlement request (the 4-eyes of
 * admin_unclaimed_settle.c) becomes "expired", as admin_adjust_expire.c does it for
 * an adjustment request.
 *
 * A request pending longer than its brand's settings.unclaimed_settlement_expiry_hours
 * (default 72) can no longer be decided. pb_settle_mark_expired is the one place that
 * stores it so, inside a ledger command: status expired, decided_at the command's
 * time, decided_by NULL (nobody decided it), the audit entry
 * funds.unclaimed_settle_expire on the brand and the event
 * funds.unclaimed_settlement_expired, all in the command's transaction. Two callers:
 *
 *   - the approval or rejection that finds the request past its time
 *     (admin_unclaimed_settle.c, decide_begin): audited as the member who called,
 *     with their request's trace id; the event's subject and staff_id are theirs;
 *   - serve's sweep (admin_request_sweep.c) through pb_api_settle_expire here: the
 *     request re-read in a ledger command of its own and marked only when it is still
 *     pending past its time (an approval or rejection committed first wins), audited
 *     as the system (actor PB_API_SETTLE_SWEEP_ACTOR) with a fresh trace id that its
 *     event carries too (no subject, staff_id null: no member acted).
 *
 * No money moves either way.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_unclaimed.h"
#include "core/time.h"
#include "events/events.h"

pb_err pb_settle_mark_expired(pb_ledger_tx *tx, pb_store_settlement *r, int64_t expiry_us,
                              const pb_audit_entry *by)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    snprintf(r->status, sizeof r->status, "%s", "expired");
    r->decided_by[0] = '\0';
    r->decided_at = now;
    if (pb_store_settlement_decide(c, r) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    pb_err e = pb_admin_request_expire_audit(tx, by, "funds.unclaimed_settle_expire", r->brand,
                                             "brand", r->brand, pb_settle_request_json(r),
                                             expiry_us);
    /* a member who found it so is the event's subject and staff_id; the sweep: none */
    const char *staff = strcmp(by->actor_kind, "staff") == 0 ? by->actor_id : NULL;
    /* @backoffice: funds.unclaimed_settlement_expired, with the status change */
    if (e == PB_OK &&
        pb_events_emit(c, "funds.unclaimed_settlement_expired", r->brand, staff ? staff : "",
                       by->trace_id, now, PB_EV_STR("settlement_id", r->public_id),
                       PB_EV_STR("destination", r->destination),
                       PB_EV_STR("reference", r->reference), PB_EV_STR("staff_id", staff),
                       PB_EV_STR("requested_by", r->requested_by),
                       PB_EV_MONEY("amount", r->amount, r->currency)) != PB_OK)
        e = PB_ERR_INTERNAL;
    return e;
}

/* One request the sweep read, into its ledger command and back. */
typedef struct expire_job {
    pb_store_settlement row; /* as read; then as the command re-read (and marked) it */
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
    pb_store_rc rc = pb_store_settlement_get(pb_ledger_tx_conn(tx), id, &j->row);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_OK;
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (!pb_admin_request_due(j->row.status, j->row.requested_at, j->expiry_us,
                              pb_ledger_tx_now(tx)))
        return PB_OK; /* approved, rejected, failed or expired since the read */
    pb_audit_entry by = {.actor_kind = "system",
                         .actor_id = PB_API_SETTLE_SWEEP_ACTOR,
                         .trace_id = j->trace};
    pb_err e = pb_settle_mark_expired(tx, &j->row, j->expiry_us, &by);
    j->marked = e == PB_OK;
    return e;
}

pb_err pb_api_settle_expire(pb_ledger *l, pb_store_settlement *r, int64_t expiry_us, bool *marked)
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
