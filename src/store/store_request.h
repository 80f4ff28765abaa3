/*
 * store_request.h — staff money requests waiting for a second approver (4-eyes),
 * whatever their kind: staff balance adjustments (store_adjustment.h, table
 * adjustment_request) and unclaimed-funds settlements (store_settlement.h, table
 * unclaimed_settlement_request). Included by store.h.
 *
 * Every kind keeps the same request state — who asked, when, for how much, under
 * which idempotency key, its status and who decided it when — in a
 * pb_store_request, the first member (rq) of the kind's row struct, followed by what
 * only that kind has (an adjustment's player, balance and direction; a settlement's
 * destination and reference). The statements that are the same but for the table
 * and the kind's own columns are here once, taking the kind: insert, get, by_key,
 * decide, list, due. What only one kind reads is in its own header.
 *
 * Rows and arrays of rows are the kind's struct: a pb_store_request * given here
 * points at the rq of that kind's row (pb_store_request_size(kind) bytes), never at
 * a lone pb_store_request. A request is written and decided inside the ledger
 * writer's command (its transaction is the writer's), so a decision and its
 * transfer commit together. Rows are fixed-size; text that does not fit is
 * truncated (every field is checked for length by the API before it gets here).
 * Adding a kind: a table, an enum value, its row struct and the backend's
 * description of its own columns.
 */
#ifndef PB_STORE_REQUEST_H
#define PB_STORE_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define PB_STORE_REQ_ID_MAX 40
#define PB_STORE_REQ_BRAND_MAX 32
#define PB_STORE_REQ_STAFF_MAX 64
#define PB_STORE_REQ_REASON_MAX 2000 /* 500 characters of UTF-8 */
#define PB_STORE_REQ_KEY_MAX 100

typedef enum pb_store_request_kind {
    PB_STORE_REQUEST_ADJUSTMENT, /* pb_store_adjustment, adjustment_request (0048) */
    PB_STORE_REQUEST_SETTLEMENT, /* pb_store_settlement, unclaimed_settlement_request (0051) */
    PB_STORE_REQUEST_KINDS
} pb_store_request_kind;

/* What every kind of request keeps. */
typedef struct pb_store_request {
    int64_t id; /* the row id: the list's cursor */
    char public_id[PB_STORE_REQ_ID_MAX + 1];
    char brand[PB_STORE_REQ_BRAND_MAX + 1];
    int64_t amount; /* minor units of currency */
    char currency[8];
    char reason[PB_STORE_REQ_REASON_MAX + 1];
    char idempotency_key[PB_STORE_REQ_KEY_MAX + 1];
    char requested_by[PB_STORE_REQ_STAFF_MAX + 1];
    int64_t requested_at;
    char status[12]; /* pending | approved | rejected | failed | expired */
    char decided_by[PB_STORE_REQ_STAFF_MAX + 1]; /* "" when expired: nobody decided */
    int64_t decided_at;                          /* 0 while pending */
    char decision_reason[PB_STORE_REQ_REASON_MAX + 1];
    char transfer_id[PB_STORE_REQ_ID_MAX + 1]; /* the approval's transfer; "" when none */
    char failure[48];                          /* the error code of a failed approval */
} pb_store_request;

/* The size of a row of kind k (its struct, rq first): the stride of the arrays the
 * list and due fill. */
size_t pb_store_request_size(pb_store_request_kind k);

/* Inserts a pending request of kind k; assigns r->id and r->status. PB_STORE_CONSTRAINT
 * (or ERROR) when its (brand, idempotency_key) or public id exists. */
pb_store_rc pb_store_request_insert(pb_store_conn *c, pb_store_request_kind k, pb_store_request *r);
/* The request by public id / by (brand, key). PB_STORE_NOT_FOUND when none. */
pb_store_rc pb_store_request_get(pb_store_conn *c, pb_store_request_kind k, const char *public_id,
                                 pb_store_request *out);
pb_store_rc pb_store_request_by_key(pb_store_conn *c, pb_store_request_kind k, const char *brand,
                                    const char *key, pb_store_request *out);
/* Decides a pending request: its status, decided_by/at, decision_reason, transfer_id
 * and failure from r (empty strings stored as NULL). PB_STORE_NOT_FOUND when it is
 * not pending any more. */
pb_store_rc pb_store_request_decide(pb_store_conn *c, pb_store_request_kind k,
                                    const pb_store_request *r);
/* Up to cap requests, newest first, with id < before_id (0: no bound), of the
 * brands in brands_json (a JSON object: brand code -> how long a request of that
 * brand may stay pending, µs) and status (NULL: any). A pending request whose
 * requested_at + its brand's expiry is at or before now reads (and filters) as
 * "expired", as the API shows it (the expiry sweep stores it so soon after); the
 * row itself is not changed. A status reads the rows stored with it only (and, for
 * "expired", the pending ones), not every request of the brands. */
pb_store_rc pb_store_request_list(pb_store_conn *c, pb_store_request_kind k,
                                  const char *brands_json, int64_t now, const char *status,
                                  int64_t before_id, void *out, size_t cap, size_t *n);
/* Up to cap of brand's pending requests made at or before requested_before (µs),
 * oldest first, over the kind's partial pending index: a batch of the expiry
 * sweep's. */
pb_store_rc pb_store_request_due(pb_store_conn *c, pb_store_request_kind k, const char *brand,
                                 int64_t requested_before, void *out, size_t cap, size_t *n);

/* What a backend implements (backend.h). */
struct pb_store_request_ops {
    pb_store_rc (*insert)(pb_store_conn *c, pb_store_request_kind k, pb_store_request *r);
    pb_store_rc (*get)(pb_store_conn *c, pb_store_request_kind k, const char *public_id,
                       pb_store_request *out);
    pb_store_rc (*by_key)(pb_store_conn *c, pb_store_request_kind k, const char *brand,
                          const char *key, pb_store_request *out);
    pb_store_rc (*decide)(pb_store_conn *c, pb_store_request_kind k, const pb_store_request *r);
    pb_store_rc (*list)(pb_store_conn *c, pb_store_request_kind k, const char *brands_json,
                        int64_t now, const char *status, int64_t before_id, void *out, size_t cap,
                        size_t *n);
    pb_store_rc (*due)(pb_store_conn *c, pb_store_request_kind k, const char *brand,
                       int64_t requested_before, void *out, size_t cap, size_t *n);
};
extern const struct pb_store_request_ops pb_store_sqlite_request_ops;

#endif
