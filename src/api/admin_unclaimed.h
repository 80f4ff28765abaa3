/*
 * admin_unclaimed.h — what the two files of a brand's unclaimed funds share
 * (internal to src/api): admin_unclaimed.c (the reads: the account's balances and
 * entries, the settlement requests) and admin_unclaimed_settle.c (the 4-eyes
 * settlement: request, approve, reject; its design is described at its top) and
 * admin_settle_expire.c (a request's expiry, for the decision that finds it so and
 * for serve's sweep).
 */
#ifndef PB_API_ADMIN_UNCLAIMED_H
#define PB_API_ADMIN_UNCLAIMED_H

#include <jansson.h>
#include <stdint.h>

#include "api/admin.h"

/* A settlement request as the API shows it (also what its audit entries hold:
 * staff by id only); NULL when out of memory. */
json_t *pb_settle_request_json(const pb_store_settlement *r);
/* The request as staff answers show it: pb_settle_request_json with the requester's
 * and the decider's e-mails (pb_admin_request_emails, read on c). NULL on a store
 * failure or OOM. Never for an audit entry or an event. */
json_t *pb_settle_request_staff_json(pb_store_conn *c, pb_admin_emails *cache,
                                     const pb_store_settlement *r);
/* r as it reads at now: pending past its time (requested_at + expiry_us) shows
 * "expired" (decided_at and decided_by stay empty: nobody decided it). */
void pb_settle_status_now(pb_store_settlement *r, int64_t expiry_us, int64_t now);
/* admin_settle_expire.c: in a ledger command, the pending request r (re-read there)
 * found past its time (pb_admin_request_due) marked expired: status expired,
 * decided_at the command's time, decided_by NULL, with the audit entry
 * funds.unclaimed_settle_expire on the brand (by: its actor, role, trace id and ip;
 * the rest is filled here) and the event funds.unclaimed_settlement_expired
 * (by->trace_id; subject and staff_id the member when by is staff, none for the
 * system). The one way a settlement request expires: the decision that finds it so
 * and the sweep both call it. INTERNAL (or the audit's failure) when the store
 * failed. */
pb_err pb_settle_mark_expired(pb_ledger_tx *tx, pb_store_settlement *r, int64_t expiry_us,
                              const pb_audit_entry *by);
/* The request named by the route's {id} into *r, of a brand in p's scope (its row
 * into *b). A malformed id, an unknown one and one of a brand outside the scope are
 * all SETTLEMENT_NOT_FOUND (existence is not told across brands);
 * STORE_UNAVAILABLE / INTERNAL. */
pb_err pb_settle_request_in_scope(pb_http_request *req, pb_store_conn *c, const pb_principal *p,
                                  pb_store_settlement *r, pb_brand *b);

#endif
