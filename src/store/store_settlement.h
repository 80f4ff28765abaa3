/*
 * store_settlement.h — settlements of a brand's unclaimed funds waiting for a
 * second approver (0051_unclaimed_settlement_request.sql; the 4-eyes of
 * src/api/admin_unclaimed_settle.c). Included by store.h.
 *
 * As store_adjustment.h: a request is written and decided inside the ledger
 * writer's command (its transaction is the writer's), so a decision and its
 * transfer commit together. Rows are fixed-size structs; every field is checked
 * for length by the API before it gets here.
 */
#ifndef PB_STORE_SETTLEMENT_H
#define PB_STORE_SETTLEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_adjustment.h" /* the sizes the two kinds of request share */

#define PB_STORE_SETTLE_REF_MAX 128

typedef struct pb_store_settlement {
    int64_t id; /* the row id: the list's cursor */
    char public_id[PB_STORE_ADJ_ID_MAX + 1];
    char brand[PB_STORE_ADJ_BRAND_MAX + 1];
    char currency[8];
    int64_t amount;                              /* minor units of currency */
    char destination[12];                        /* remitted | house */
    char reference[PB_STORE_SETTLE_REF_MAX + 1]; /* "" when none */
    char reason[PB_STORE_ADJ_REASON_MAX + 1];
    char idempotency_key[PB_STORE_ADJ_KEY_MAX + 1];
    char requested_by[PB_STORE_ADJ_STAFF_MAX + 1];
    int64_t requested_at;
    char status[12]; /* pending | approved | rejected | failed | expired */
    char decided_by[PB_STORE_ADJ_STAFF_MAX + 1]; /* "" when expired: nobody decided */
    int64_t decided_at;                          /* 0 while pending */
    char decision_reason[PB_STORE_ADJ_REASON_MAX + 1];
    char transfer_id[PB_STORE_ADJ_ID_MAX + 1];
    char failure[48];
} pb_store_settlement;

/* Inserts a pending request; assigns s->id. PB_STORE_CONSTRAINT (or ERROR) when
 * its (brand, idempotency_key) or public id exists. */
pb_store_rc pb_store_settlement_insert(pb_store_conn *c, pb_store_settlement *s);
/* The request by public id / by (brand, key) / by its transfer's id.
 * PB_STORE_NOT_FOUND when none. */
pb_store_rc pb_store_settlement_get(pb_store_conn *c, const char *public_id,
                                    pb_store_settlement *out);
pb_store_rc pb_store_settlement_by_key(pb_store_conn *c, const char *brand, const char *key,
                                       pb_store_settlement *out);
pb_store_rc pb_store_settlement_by_transfer(pb_store_conn *c, const char *transfer_id,
                                            pb_store_settlement *out);
/* Decides a pending request: its status, decided_by/at, decision_reason, transfer_id
 * and failure from s (empty strings stored as NULL). PB_STORE_NOT_FOUND when it is
 * not pending any more. */
pb_store_rc pb_store_settlement_decide(pb_store_conn *c, const pb_store_settlement *s);
/* Up to cap requests, newest first, with id < before_id (0: no bound), of the brands
 * in brands_json (brand code -> how long a request of that brand may stay pending,
 * µs) and status (NULL: any), the status as it reads at now (as
 * pb_store_adjustment_list reads it: over 0054's (status, id), a status reads the
 * rows stored with it only, and for "expired" the pending ones past their time). */
pb_store_rc pb_store_settlement_list(pb_store_conn *c, const char *brands_json, int64_t now,
                                     const char *status, int64_t before_id,
                                     pb_store_settlement *out, size_t cap, size_t *n);
/* Up to cap of brand's pending requests made at or before requested_before (µs),
 * oldest first, over the partial index of 0053: a batch of the expiry sweep's. */
pb_store_rc pb_store_settlement_due(pb_store_conn *c, const char *brand, int64_t requested_before,
                                    pb_store_settlement *out, size_t cap, size_t *n);

/* What a backend implements (backend.h). */
struct pb_store_settlement_ops {
    pb_store_rc (*insert)(pb_store_conn *c, pb_store_settlement *s);
    pb_store_rc (*get)(pb_store_conn *c, const char *public_id, pb_store_settlement *out);
    pb_store_rc (*by_key)(pb_store_conn *c, const char *brand, const char *key,
                          pb_store_settlement *out);
    pb_store_rc (*by_transfer)(pb_store_conn *c, const char *transfer_id, pb_store_settlement *out);
    pb_store_rc (*decide)(pb_store_conn *c, const pb_store_settlement *s);
    pb_store_rc (*list)(pb_store_conn *c, const char *brands_json, int64_t now, const char *status,
                        int64_t before_id, pb_store_settlement *out, size_t cap, size_t *n);
    pb_store_rc (*due)(pb_store_conn *c, const char *brand, int64_t requested_before,
                       pb_store_settlement *out, size_t cap, size_t *n);
};
extern const struct pb_store_settlement_ops pb_store_sqlite_settlement_ops;

#endif
