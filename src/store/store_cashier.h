/*
 * store_cashier.h — the cashier's rows (0007_cashier.sql): payments (deposits),
 * PSP webhook events, withdrawals and their approvals, and the statements
 * src/cashier/ runs on them (inside ledger commands for every write). Included
 * by store.h. The decisions live in src/cashier/, not here.
 */
#ifndef PB_STORE_CASHIER_H
#define PB_STORE_CASHIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

#define PB_STORE_CASHIER_PSP_MAX 32
#define PB_STORE_CASHIER_REF_MAX 128
#define PB_STORE_CASHIER_KEY_MAX 100
#define PB_STORE_CASHIER_EVENT_MAX 128
#define PB_STORE_CASHIER_REASON_MAX 1000
#define PB_STORE_CASHIER_ACTOR_MAX 47
#define PB_STORE_CASHIER_CHECKS_MAX 1023

/* A deposit (payment). status: "pending" | "completed" | "failed". */
typedef struct pb_store_payment {
    int64_t seq; /* read only: list order and cursor */
    char id[PB_ID_STR_LEN + 1];
    int64_t brand_id;
    char brand[33];
    char player[PB_ID_STR_LEN + 1];
    char currency[8];
    int64_t amount;
    char idempotency_key[PB_STORE_CASHIER_KEY_MAX + 1];
    char psp[PB_STORE_CASHIER_PSP_MAX + 1];
    char psp_reference[PB_STORE_CASHIER_REF_MAX + 1];
    char status[16];
    bool has_transfer;
    pb_id transfer_id;
    int64_t created_at, updated_at;
    bool completed_late; /* completed after the intent had expired, as decided when it
                          * completed (0055); false for any other status */
} pb_store_payment;

/* A verified webhook event. outcome: "applied" | "ignored" | "mismatch" |
 * "deferred" (a payout.returned that came before its payout.paid: applied when
 * the payout is paid). */
typedef struct pb_store_payment_event {
    char psp[PB_STORE_CASHIER_PSP_MAX + 1];
    char event_id[PB_STORE_CASHIER_EVENT_MAX + 1];
    char type[32];
    char reference[PB_STORE_CASHIER_REF_MAX + 1];
    int64_t amount; /* as the event said */
    char currency[8];
    uint8_t payload_hash[32];
    char outcome[16];
    int64_t received_at;
} pb_store_payment_event;

/* A withdrawal. status: "pending_approval" | "approved" | "processing" | "paid" |
 * "failed" | "rejected" | "cancelled". */
typedef struct pb_store_withdrawal {
    int64_t seq; /* read only: list order and cursor */
    char id[PB_ID_STR_LEN + 1];
    int64_t brand_id;
    char brand[33];
    char player[PB_ID_STR_LEN + 1];
    char currency[8];
    int64_t amount;
    char idempotency_key[PB_STORE_CASHIER_KEY_MAX + 1];
    pb_id hold_id;
    int approvals_required;
    char requested_by[PB_STORE_CASHIER_ACTOR_MAX + 1]; /* "player:<id>" | "staff:<id>" */
    char checks[PB_STORE_CASHIER_CHECKS_MAX + 1];      /* JSON array */
    char status[20];
    char psp[PB_STORE_CASHIER_PSP_MAX + 1];
    char psp_reference[PB_STORE_CASHIER_REF_MAX + 1];
    char reason[PB_STORE_CASHIER_REASON_MAX + 1];
    int64_t created_at, updated_at;
} pb_store_withdrawal;

/* One approval of a withdrawal. lapsed_at (0: it stands) and lapsed_reason: when and
 * why it stopped counting, its member having lost the right to give it (migration
 * 0046; src/cashier/approvals.c). */
#define PB_STORE_APPROVAL_LAPSE_REASON_MAX 40
typedef struct pb_store_withdrawal_approval {
    char withdrawal_id[PB_ID_STR_LEN + 1];
    char staff_id[PB_ID_STR_LEN + 1];
    char role[33];
    int64_t approved_at;
    int64_t lapsed_at;
    char lapsed_reason[PB_STORE_APPROVAL_LAPSE_REASON_MAX + 1];
} pb_store_withdrawal_approval;

/* A manual resolution of a stuck payout stated by one finance member, waiting
 * for a second one to confirm it (at most one per withdrawal). */
#define PB_STORE_RESOLUTION_REASON_MAX 1000
#define PB_STORE_RESOLUTION_EVIDENCE_MAX 500
typedef struct pb_store_withdrawal_resolution {
    char withdrawal_id[PB_ID_STR_LEN + 1];
    char outcome[8]; /* "paid" | "failed" */
    char reason[PB_STORE_RESOLUTION_REASON_MAX + 1];
    char evidence[PB_STORE_RESOLUTION_EVIDENCE_MAX + 1];
    char staff_id[PB_ID_STR_LEN + 1];
    char role[33];
    char from_status[24];
    int64_t stated_at;
} pb_store_withdrawal_resolution;

/* A page of withdrawals, newest first. NULL / "" filters are not applied. */
typedef struct pb_store_withdrawal_query {
    const char *brand_ids_json; /* a JSON array of brand ids, or NULL for every brand */
    const char *player;
    const char *status;
    int64_t before_seq; /* 0 = from the newest */
    size_t limit;
} pb_store_withdrawal_query;

/* A page of payments, newest first. NULL / "" filters are not applied. */
typedef struct pb_store_payment_query {
    const char *brand_ids_json; /* a JSON array of brand ids, or NULL for every brand */
    const char *player;
    const char *status;
    int64_t before_seq; /* 0 = from the newest */
    size_t limit;
    /* with status "pending" only: the rows on one side of their brand's deposit
     * expiry (0: either; PB_STORE_EXPIRED: created_at <= the brand's cutoff;
     * PB_STORE_NOT_EXPIRED: after it). expiry_cutoffs_json: a JSON object brand id
     * → cutoff (µs); a brand not in it has expiry_default_cutoff. Checked in the
     * query on the rows the status index meets, so a page is full unless the rows
     * ran out. */
    int expiry;
    const char *expiry_cutoffs_json;
    int64_t expiry_default_cutoff;
} pb_store_payment_query;

#define PB_STORE_EXPIRED 1
#define PB_STORE_NOT_EXPIRED 2

/* CONFLICT when the id, (psp, reference) or (player, key) exists. */
pb_store_rc pb_store_payment_insert(pb_store_conn *c, const pb_store_payment *p);
pb_store_rc pb_store_payment_get(pb_store_conn *c, const char *id, pb_store_payment *out);
pb_store_rc pb_store_payment_by_key(pb_store_conn *c, const char *player, const char *key,
                                    pb_store_payment *out);
pb_store_rc pb_store_payment_by_reference(pb_store_conn *c, const char *psp, const char *reference,
                                          pb_store_payment *out);
/* Rewrites status, transfer_id and updated_at. */
pb_store_rc pb_store_payment_update(pb_store_conn *c, const pb_store_payment *p);
pb_store_rc pb_store_payment_list(pb_store_conn *c, const pb_store_payment_query *q,
                                  pb_store_payment *out, size_t *n);
pb_store_rc pb_store_payment_event_get(pb_store_conn *c, const char *psp, const char *event_id,
                                       pb_store_payment_event *out);
pb_store_rc pb_store_payment_event_insert(pb_store_conn *c, const pb_store_payment_event *e);
/* The first "deferred" event recorded for (psp, reference): NOT_FOUND when none. */
pb_store_rc pb_store_payment_event_deferred(pb_store_conn *c, const char *psp,
                                            const char *reference, pb_store_payment_event *out);
pb_store_rc pb_store_withdrawal_insert(pb_store_conn *c, const pb_store_withdrawal *w);
pb_store_rc pb_store_withdrawal_get(pb_store_conn *c, const char *id, pb_store_withdrawal *out);
pb_store_rc pb_store_withdrawal_by_key(pb_store_conn *c, const char *player, const char *key,
                                       pb_store_withdrawal *out);
pb_store_rc pb_store_withdrawal_by_reference(pb_store_conn *c, const char *psp,
                                             const char *reference, pb_store_withdrawal *out);
/* Rewrites status, psp_reference, reason, approvals_required (raised by a brand
 * threshold lowered since the request; cashier approvals.c) and updated_at. */
pb_store_rc pb_store_withdrawal_update(pb_store_conn *c, const pb_store_withdrawal *w);
pb_store_rc pb_store_withdrawal_list(pb_store_conn *c, const pb_store_withdrawal_query *q,
                                     pb_store_withdrawal *out, size_t *n);
/* A standing approval (a->lapsed_at is not stored): CONFLICT when the member has a
 * standing approval of this withdrawal already. */
pb_store_rc pb_store_withdrawal_approval_insert(pb_store_conn *c,
                                                const pb_store_withdrawal_approval *a);
/* The approvals of a withdrawal (at most cap): the standing ones first, in the order
 * they were given, then the lapsed ones, also in that order — so that a cap below the
 * row count drops only lapsed ones. */
pb_store_rc pb_store_withdrawal_approval_list(pb_store_conn *c, const char *withdrawal_id,
                                              pb_store_withdrawal_approval *out, size_t cap,
                                              size_t *n);
/* Marks staff_id's standing approval of withdrawal_id lapsed at `at` for `reason`
 * (kept, no longer counted). NOT_FOUND when it has none standing. */
pb_store_rc pb_store_withdrawal_approval_lapse(pb_store_conn *c, const char *withdrawal_id,
                                               const char *staff_id, int64_t at,
                                               const char *reason);
/* The standing approvals by staff_id (public id) of withdrawals not yet sent
 * (pending_approval or approved), in withdrawal id order after after_withdrawal_id
 * ("" from the start), at most cap: the pages of the member's approvals to judge
 * again when their right changes. */
pb_store_rc pb_store_withdrawal_approvals_standing_by(pb_store_conn *c, const char *staff_id,
                                                      const char *after_withdrawal_id,
                                                      pb_store_withdrawal_approval *out, size_t cap,
                                                      size_t *n);
/* The statement waiting on a withdrawal: CONFLICT when one is there already. */
pb_store_rc pb_store_withdrawal_resolution_insert(pb_store_conn *c,
                                                  const pb_store_withdrawal_resolution *r);
/* NOT_FOUND when none waits. */
pb_store_rc pb_store_withdrawal_resolution_get(pb_store_conn *c, const char *withdrawal_id,
                                               pb_store_withdrawal_resolution *out);
/* NOT_FOUND when none waited. */
pb_store_rc pb_store_withdrawal_resolution_delete(pb_store_conn *c, const char *withdrawal_id);

/* A page of psp's payments "completed" with updated_at (when they completed) in
 * [from, to), in seq order after after_seq (the reconciliation's missing_psp side). */
pb_store_rc pb_store_payment_settled_in(pb_store_conn *c, const char *psp, int64_t from, int64_t to,
                                        int64_t after_seq, size_t limit, pb_store_payment *out,
                                        size_t *n);
/* A page of psp's withdrawals "paid" or "returned" with updated_at (when they were
 * paid, or came back) in [from, to), in seq order after after_seq. */
pb_store_rc pb_store_withdrawal_settled_in(pb_store_conn *c, const char *psp, int64_t from,
                                           int64_t to, int64_t after_seq, size_t limit,
                                           pb_store_withdrawal *out, size_t *n);

/* What a backend implements for the cashier (see backend.h). */
struct pb_store_cashier_ops {
    pb_store_rc (*payment_insert)(pb_store_conn *c, const pb_store_payment *p);
    pb_store_rc (*payment_get)(pb_store_conn *c, const char *id, pb_store_payment *out);
    pb_store_rc (*payment_by_key)(pb_store_conn *c, const char *player, const char *key,
                                  pb_store_payment *out);
    pb_store_rc (*payment_by_reference)(pb_store_conn *c, const char *psp, const char *ref,
                                        pb_store_payment *out);
    pb_store_rc (*payment_update)(pb_store_conn *c, const pb_store_payment *p);
    pb_store_rc (*payment_list)(pb_store_conn *c, const pb_store_payment_query *q,
                                pb_store_payment *out, size_t *n);
    pb_store_rc (*event_get)(pb_store_conn *c, const char *psp, const char *event_id,
                             pb_store_payment_event *out);
    pb_store_rc (*event_insert)(pb_store_conn *c, const pb_store_payment_event *e);
    pb_store_rc (*event_deferred)(pb_store_conn *c, const char *psp, const char *ref,
                                  pb_store_payment_event *out);
    pb_store_rc (*withdrawal_insert)(pb_store_conn *c, const pb_store_withdrawal *w);
    pb_store_rc (*withdrawal_get)(pb_store_conn *c, const char *id, pb_store_withdrawal *out);
    pb_store_rc (*withdrawal_by_key)(pb_store_conn *c, const char *player, const char *key,
                                     pb_store_withdrawal *out);
    pb_store_rc (*withdrawal_by_reference)(pb_store_conn *c, const char *psp, const char *ref,
                                           pb_store_withdrawal *out);
    pb_store_rc (*withdrawal_update)(pb_store_conn *c, const pb_store_withdrawal *w);
    pb_store_rc (*withdrawal_list)(pb_store_conn *c, const pb_store_withdrawal_query *q,
                                   pb_store_withdrawal *out, size_t *n);
    pb_store_rc (*approval_insert)(pb_store_conn *c, const pb_store_withdrawal_approval *a);
    pb_store_rc (*approval_list)(pb_store_conn *c, const char *withdrawal_id,
                                 pb_store_withdrawal_approval *out, size_t cap, size_t *n);
    pb_store_rc (*approval_lapse)(pb_store_conn *c, const char *withdrawal_id, const char *staff_id,
                                  int64_t at, const char *reason);
    pb_store_rc (*approvals_standing_by)(pb_store_conn *c, const char *staff_id,
                                         const char *after_withdrawal_id,
                                         pb_store_withdrawal_approval *out, size_t cap, size_t *n);
    pb_store_rc (*resolution_insert)(pb_store_conn *c, const pb_store_withdrawal_resolution *r);
    pb_store_rc (*resolution_get)(pb_store_conn *c, const char *withdrawal_id,
                                  pb_store_withdrawal_resolution *out);
    pb_store_rc (*resolution_delete)(pb_store_conn *c, const char *withdrawal_id);
    pb_store_rc (*payment_settled_in)(pb_store_conn *c, const char *psp, int64_t from, int64_t to,
                                      int64_t after_seq, size_t limit, pb_store_payment *out,
                                      size_t *n);
    pb_store_rc (*withdrawal_settled_in)(pb_store_conn *c, const char *psp, int64_t from,
                                         int64_t to, int64_t after_seq, size_t limit,
                                         pb_store_withdrawal *out, size_t *n);
};

extern const struct pb_store_cashier_ops pb_store_sqlite_cashier_ops;

#endif
