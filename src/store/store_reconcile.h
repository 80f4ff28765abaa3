/*
 * store_reconcile.h — the rows of the cashier's reconciliation runs
 * (0056_cashier_reconciliation.sql): a run and its discrepancies (the reads of our
 * own rows a run needs are in store_cashier.h). Included by store.h. The comparison lives in
 * src/cashier/reconcile.c, not here.
 */
#ifndef PB_STORE_RECONCILE_H
#define PB_STORE_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"
#include "store/store_cashier.h"

/* A run: the counts per class (matched counted, not stored as items). */
typedef struct pb_store_recon {
    int64_t seq; /* read only: list order and cursor */
    char id[PB_ID_STR_LEN + 1];
    char psp[PB_STORE_CASHIER_PSP_MAX + 1];
    int64_t period_from, period_to; /* [from, to), µs */
    char source[8];                 /* "fetch" | "upload" */
    char run_by[PB_ID_STR_LEN + 1]; /* staff public id */
    int64_t psp_rows, psp_rows_outside;
    int64_t matched, missing_ours, status_mismatch, amount_mismatch, missing_psp;
    int64_t created_at;
} pb_store_recon;

/* One discrepancy of a run. */
typedef struct pb_store_recon_item {
    int64_t n;     /* 1.. within its run */
    char cls[16];  /* "missing_ours" | "status_mismatch" | "amount_mismatch" | "missing_psp" */
    char kind[16]; /* "deposit" | "payout" | "payout_return" */
    char reference[PB_STORE_CASHIER_REF_MAX + 1];
    int64_t brand_id; /* 0: none (missing_ours) */
    char brand[33];
    bool has_ours; /* false for missing_ours */
    char our_id[PB_ID_STR_LEN + 1];
    char our_status[20];
    int64_t our_amount;
    char our_currency[8];
    bool has_psp; /* false for missing_psp */
    char psp_status[12];
    int64_t psp_amount;
    char psp_currency[8];
    int64_t psp_settled_at;
} pb_store_recon_item;

/* Writes run r (its seq into *seq) — in the run's ledger command. */
pb_store_rc pb_store_recon_insert(pb_store_conn *c, const pb_store_recon *r, int64_t *seq);
/* Writes item it of the run with seq run_seq. */
pb_store_rc pb_store_recon_item_insert(pb_store_conn *c, int64_t run_seq,
                                       const pb_store_recon_item *it);
/* A run by public id: NOT_FOUND. */
pb_store_rc pb_store_recon_get(pb_store_conn *c, const char *id, pb_store_recon *out);
/* A page of runs, newest first, before before_seq (0: from the newest). */
pb_store_rc pb_store_recon_list(pb_store_conn *c, int64_t before_seq, size_t limit,
                                pb_store_recon *out, size_t *n);
/* A page of the run's items in n order after after_n, only those of brand ids in
 * brand_ids_json (a JSON array; NULL: every item, those without a brand too). */
pb_store_rc pb_store_recon_items(pb_store_conn *c, int64_t run_seq, const char *brand_ids_json,
                                 int64_t after_n, size_t limit, pb_store_recon_item *out,
                                 size_t *n);
/* What a backend implements for reconciliations (see backend.h). */
struct pb_store_recon_ops {
    pb_store_rc (*insert)(pb_store_conn *c, const pb_store_recon *r, int64_t *seq);
    pb_store_rc (*item_insert)(pb_store_conn *c, int64_t run_seq, const pb_store_recon_item *it);
    pb_store_rc (*get)(pb_store_conn *c, const char *id, pb_store_recon *out);
    pb_store_rc (*list)(pb_store_conn *c, int64_t before_seq, size_t limit, pb_store_recon *out,
                        size_t *n);
    pb_store_rc (*items)(pb_store_conn *c, int64_t run_seq, const char *brand_ids_json,
                         int64_t after_n, size_t limit, pb_store_recon_item *out, size_t *n);
};

extern const struct pb_store_recon_ops pb_store_sqlite_recon_ops;

#endif
