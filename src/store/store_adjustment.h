/*
 * store_adjustment.h — staff adjustments waiting for a second approver
 * (0048_wallet_adjustment_approval.sql; the 4-eyes of src/api/admin_adjust.c).
 * Included by store.h.
 *
 * A request is written and decided inside the ledger writer's command (its
 * transaction is the writer's), so a decision and its transfer commit together.
 * Rows are fixed-size structs; text that does not fit is truncated (every field
 * is checked for length by the API before it gets here).
 */
#ifndef PB_STORE_ADJUSTMENT_H
#define PB_STORE_ADJUSTMENT_H

#include <stddef.h>
#include <stdint.h>

#define PB_STORE_ADJ_ID_MAX 40
#define PB_STORE_ADJ_BRAND_MAX 32
#define PB_STORE_ADJ_PLAYER_MAX 64
#define PB_STORE_ADJ_STAFF_MAX 64
#define PB_STORE_ADJ_REASON_MAX 2000 /* 500 characters of UTF-8 */
#define PB_STORE_ADJ_KEY_MAX 100

typedef struct pb_store_adjustment {
    int64_t id; /* the row id: the list's cursor */
    char public_id[PB_STORE_ADJ_ID_MAX + 1];
    char brand[PB_STORE_ADJ_BRAND_MAX + 1];
    char player[PB_STORE_ADJ_PLAYER_MAX + 1];
    char balance[8];   /* cash | bonus */
    char direction[8]; /* credit | debit */
    int64_t amount;    /* minor units of currency */
    char currency[8];
    char reason[PB_STORE_ADJ_REASON_MAX + 1];
    char idempotency_key[PB_STORE_ADJ_KEY_MAX + 1];
    char requested_by[PB_STORE_ADJ_STAFF_MAX + 1];
    int64_t requested_at;
    char status[12]; /* pending | approved | rejected | failed | expired (0049) */
    char decided_by[PB_STORE_ADJ_STAFF_MAX + 1]; /* "" when expired: nobody decided */
    int64_t decided_at;                          /* 0 while pending */
    char decision_reason[PB_STORE_ADJ_REASON_MAX + 1];
    char transfer_id[PB_STORE_ADJ_ID_MAX + 1];
    char failure[48];
} pb_store_adjustment;

/* Inserts a pending request; assigns a->id. PB_STORE_CONSTRAINT (or ERROR) when
 * its (brand, idempotency_key) or public id exists. */
pb_store_rc pb_store_adjustment_insert(pb_store_conn *c, pb_store_adjustment *a);
/* The request by public id / by (brand, key). PB_STORE_NOT_FOUND when none. */
pb_store_rc pb_store_adjustment_get(pb_store_conn *c, const char *public_id,
                                    pb_store_adjustment *out);
pb_store_rc pb_store_adjustment_by_key(pb_store_conn *c, const char *brand, const char *key,
                                       pb_store_adjustment *out);
/* Decides a pending request: its status, decided_by/at, decision_reason, transfer_id
 * and failure from a (empty strings stored as NULL). PB_STORE_NOT_FOUND when it is
 * not pending any more. */
pb_store_rc pb_store_adjustment_decide(pb_store_conn *c, const pb_store_adjustment *a);
/* Up to cap requests, newest first, with id < before_id (0: no bound), of the
 * brands in brands_json (a JSON object: brand code -> how long a request of that
 * brand may stay pending, µs) and status (NULL: any). A pending request whose
 * requested_at + its brand's expiry is at or before now reads (and filters) as
 * "expired", as the API shows it (the expiry sweep stores it so soon after); the
 * row itself is not changed. A status reads the rows stored with it only (and, for
 * "expired", the pending ones), not every request of the brands. */
pb_store_rc pb_store_adjustment_list(pb_store_conn *c, const char *brands_json, int64_t now,
                                     const char *status, int64_t before_id,
                                     pb_store_adjustment *out, size_t cap, size_t *n);
/* Up to cap of brand's pending requests made at or before requested_before (µs),
 * oldest first, over the partial index of 0052: a batch of the expiry sweep's. */
pb_store_rc pb_store_adjustment_due(pb_store_conn *c, const char *brand, int64_t requested_before,
                                    pb_store_adjustment *out, size_t cap, size_t *n);

/* The player's requests (over the index of 0050): the erasure's check and the data
 * export's section. */
/* PB_STORE_OK when one of the player's (public id) requests is pending, its row
 * into *out; PB_STORE_NOT_FOUND when none is. */
pb_store_rc pb_store_adjustment_player_pending(pb_store_conn *c, const char *player,
                                               pb_store_adjustment *out);
/* Up to cap of the player's requests, newest first, with id < before_id (0: no
 * bound), any brand, any status. */
pb_store_rc pb_store_adjustment_player_page(pb_store_conn *c, const char *player, int64_t before_id,
                                            pb_store_adjustment *out, size_t cap, size_t *n);

/* What a backend implements (backend.h). */
struct pb_store_adjustment_ops {
    pb_store_rc (*insert)(pb_store_conn *c, pb_store_adjustment *a);
    pb_store_rc (*get)(pb_store_conn *c, const char *public_id, pb_store_adjustment *out);
    pb_store_rc (*by_key)(pb_store_conn *c, const char *brand, const char *key,
                          pb_store_adjustment *out);
    pb_store_rc (*decide)(pb_store_conn *c, const pb_store_adjustment *a);
    pb_store_rc (*list)(pb_store_conn *c, const char *brands_json, int64_t now, const char *status,
                        int64_t before_id, pb_store_adjustment *out, size_t cap, size_t *n);
    pb_store_rc (*due)(pb_store_conn *c, const char *brand, int64_t requested_before,
                       pb_store_adjustment *out, size_t cap, size_t *n);
    pb_store_rc (*player_pending)(pb_store_conn *c, const char *player, pb_store_adjustment *out);
    pb_store_rc (*player_page)(pb_store_conn *c, const char *player, int64_t before_id,
                               pb_store_adjustment *out, size_t cap, size_t *n);
};
extern const struct pb_store_adjustment_ops pb_store_sqlite_adjustment_ops;

#endif
