/*
 * store_adjustment.h — staff adjustments waiting for a second approver
 * (0048_wallet_adjustment_approval.sql; the 4-eyes of src/api/admin_adjust.c): a
 * request of kind PB_STORE_REQUEST_ADJUSTMENT (store_request.h, whose statements
 * write and read it) and the player's requests. Included by store.h.
 */
#ifndef PB_STORE_ADJUSTMENT_H
#define PB_STORE_ADJUSTMENT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_request.h"

#define PB_STORE_ADJ_PLAYER_MAX 64

typedef struct pb_store_adjustment {
    pb_store_request rq; /* first: the request's state */
    char player[PB_STORE_ADJ_PLAYER_MAX + 1];
    char balance[8];   /* cash | bonus */
    char direction[8]; /* credit | debit */
} pb_store_adjustment;

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
    pb_store_rc (*player_pending)(pb_store_conn *c, const char *player, pb_store_adjustment *out);
    pb_store_rc (*player_page)(pb_store_conn *c, const char *player, int64_t before_id,
                               pb_store_adjustment *out, size_t cap, size_t *n);
};
extern const struct pb_store_adjustment_ops pb_store_sqlite_adjustment_ops;

#endif
