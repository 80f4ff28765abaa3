/*
 * verify_internal.h — what verify.c (the replay and the final comparisons) and
 * verify_anchor.c (the signed anchors) share: the state of one verify.
 */
#ifndef PB_LEDGER_VERIFY_INTERNAL_H
#define PB_LEDGER_VERIFY_INTERNAL_H

#include "ledger/ledger_internal.h"

typedef struct acct {
    pb_store_account stored;
    int64_t c[4]; /* rebuilt dp, dpo, cp, cpo */
    int64_t last_seq;
    int64_t at_row[4];      /* rebuilt as of the stored row's last_seq */
    bool row_seen;          /* the stored last_seq is one of the account's transfers */
    int64_t newest_at_mark; /* the account's newest transfer up to the balance mark */
    bool went_negative;
} acct;

typedef struct pend {
    pb_id id;
    int64_t seq, amount, debit, credit, expires_at;
    char currency[PB_LEDGER_CURRENCY_MAX + 1];
    uint32_t code;
    int64_t resolved_by; /* 0 while open */
    bool used;
} pend;

typedef struct open_ref {
    int64_t seq, expires_at;
} open_ref;

typedef struct vstate {
    pb_ledger_violation_cb cb;
    void *ctx;
    pb_ledger_verify_summary *sum;
    acct *accts;
    size_t naccts, cap;
    pend *pend;
    size_t npend_slots, npend;
    int64_t expect_seq;
    int64_t mark;
    int64_t pmark; /* ledger_state.pending_seq */
    pb_ledger_ids ids;
    uint8_t prev_hash[32];
    open_ref *listed; /* ledger_pending_open as read at the start, in seq order */
    size_t nlisted, listed_cap;
    bool oom;
    /* anchors (anchor.c): what the transfer replay checks, in transfer_seq order */
    const pb_ledger_verify_keys *keys;
    struct anchor_ref *anchors;
    size_t nanchors, anchors_cap, next_anchor;
    int64_t prev_anchor_id, prev_anchor_seq, prev_anchor_upto;
    size_t max_rank; /* the newest signing key seen so far (index in keys->trusted) */
    bool rank_seen;
    /* the anchors' rejection ranges (migration 0045), checked once all are read */
    struct rejection_ref *rejs;
    size_t nrejs, rejs_cap;
    int64_t prev_anchor_rupto;
    bool rejections_seen; /* an anchor covering rejections was read */
} vstate;

typedef struct rejection_ref {
    int64_t id, after, upto;
    uint8_t digest[32];
} rejection_ref;

typedef struct anchor_ref {
    int64_t id, seq;
    uint8_t hash[32];
} anchor_ref;

/* One violation: counted in the summary and passed to the caller's callback. */
void verify_violation(vstate *v, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* verify_anchor.c: the scan callback that collects the anchors (and checks each
 * on its own: form, chain, accounts, signature), their order by transfer seq,
 * the check of the anchors at or below each replayed transfer, and the report of
 * one whose transfer is missing. */
int verify_on_anchor(void *p, const pb_store_ledger_anchor *a);
int verify_cmp_anchor(const void *a, const void *b);
void verify_anchors_at(vstate *v, const pb_store_transfer *t);
void verify_anchor_missing(vstate *v, const anchor_ref *r);
/* The rejections of each anchor's range against its digest, in the read
 * transaction the anchors were read in ("anchor_rejections"); the store's rc. */
pb_store_rc verify_anchor_rejections(vstate *v, pb_store_conn *c);

#endif
