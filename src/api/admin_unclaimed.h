/*
 * admin_unclaimed.h — what the two files of a brand's unclaimed funds share
 * (internal to src/api): admin_unclaimed.c (the reads: the account's balances and
 * entries, the settlement requests) and admin_unclaimed_settle.c (the 4-eyes
 * settlement: request, approve, reject; its design is described at its top; the
 * kind's description for the 4-eyes machinery of admin_4eyes.h, its expiry
 * included).
 */
#ifndef PB_API_ADMIN_UNCLAIMED_H
#define PB_API_ADMIN_UNCLAIMED_H

#include <jansson.h>
#include <stdint.h>

#include "api/admin_4eyes.h"

/* A settlement request (r: the rq of a pb_store_settlement) as the API shows it
 * (also what its audit entries hold: staff by id only); NULL when out of memory. */
json_t *pb_settle_request_json(const pb_store_request *r);

#endif
