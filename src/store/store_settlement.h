/*
 * store_settlement.h — settlements of a brand's unclaimed funds waiting for a
 * second approver (0051_unclaimed_settlement_request.sql; the 4-eyes of
 * src/api/admin_unclaimed_settle.c): a request of kind PB_STORE_REQUEST_SETTLEMENT
 * (store_request.h, whose statements write and read it) and its lookup by
 * transfer. Included by store.h.
 */
#ifndef PB_STORE_SETTLEMENT_H
#define PB_STORE_SETTLEMENT_H

#include "store/store_request.h"

#define PB_STORE_SETTLE_REF_MAX 128

typedef struct pb_store_settlement {
    pb_store_request rq;                         /* first: the request's state */
    char destination[12];                        /* remitted | house */
    char reference[PB_STORE_SETTLE_REF_MAX + 1]; /* "" when none */
} pb_store_settlement;

/* The request whose approval made the transfer transfer_id (unique where set: the
 * unclaimed-funds list's lookup). PB_STORE_NOT_FOUND when none. */
pb_store_rc pb_store_settlement_by_transfer(pb_store_conn *c, const char *transfer_id,
                                            pb_store_settlement *out);

/* What a backend implements (backend.h). */
struct pb_store_settlement_ops {
    pb_store_rc (*by_transfer)(pb_store_conn *c, const char *transfer_id, pb_store_settlement *out);
};
extern const struct pb_store_settlement_ops pb_store_sqlite_settlement_ops;

#endif
