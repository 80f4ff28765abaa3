/*
 * admin_adjust_expire.c — how an adjustment request (the 4-eyes of admin_adjust.c)
 * becomes "expired" (admin_settle_expire.c does the same for a settlement request).
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
 *   - serve's sweep (admin_request_sweep.c, which reads the due requests over the
 *     partial index of 0052) through pb_api_adjust_expire here: each in a ledger
 *     command of its own (one failing fails no other), which re-reads it there: a
 *     request approved or rejected since the read (the approval's command committed
 *     first) is left as it is, so a decision always wins over the sweep. Audited as
 *     the system (actor PB_API_ADJUST_SWEEP_ACTOR), with a fresh trace id per request
 *     that its event carries too.
 *
 * No money moves either way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_adjust.h"
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
    pb_err e = pb_admin_request_expire_audit(tx, by, "player.adjust_expire", r->brand, "player",
                                             r->player, pb_adjust_request_json(r), expiry_us);
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
