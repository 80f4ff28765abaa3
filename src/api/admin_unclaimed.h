/*
 * admin_unclaimed.h — what the two files of a brand's unclaimed funds share
 * (internal to src/api): admin_unclaimed.c (the reads: the account's balances and
 * entries, the settlement requests) and admin_unclaimed_settle.c (the 4-eyes
 * settlement: request, approve, reject; its design is described at its top).
 */
#ifndef PB_API_ADMIN_UNCLAIMED_H
#define PB_API_ADMIN_UNCLAIMED_H

#include <jansson.h>
#include <stdint.h>

#include "api/admin.h"

/* A settlement request as the API shows it; NULL when out of memory. */
json_t *pb_settle_request_json(const pb_store_settlement *r);
/* r as it reads at now: pending past its time (requested_at + expiry_us) shows
 * "expired" (decided_at and decided_by stay empty: nobody decided it). */
void pb_settle_status_now(pb_store_settlement *r, int64_t expiry_us, int64_t now);
/* The request named by the route's {id} into *r, of a brand in p's scope (its row
 * into *b). A malformed id, an unknown one and one of a brand outside the scope are
 * all SETTLEMENT_NOT_FOUND (existence is not told across brands);
 * STORE_UNAVAILABLE / INTERNAL. */
pb_err pb_settle_request_in_scope(pb_http_request *req, pb_store_conn *c, const pb_principal *p,
                                  pb_store_settlement *r, pb_brand *b);

#endif
