/*
 * store_ledger.h — the ledger's rows and the statements the ledger runs.
 * Included by store.h. Rows are fixed-size structs with inline strings, so the
 * writer's hot path allocates nothing.
 */
#ifndef PB_STORE_LEDGER_H
#define PB_STORE_LEDGER_H

#include "core/id.h"

#define PB_LEDGER_BRAND_MAX 32
#define PB_LEDGER_OWNER_MAX 64
#define PB_LEDGER_KIND_MAX 32
#define PB_LEDGER_CURRENCY_MAX 7
#define PB_LEDGER_SCOPE_MAX 64
#define PB_LEDGER_KEY_MAX 128
#define PB_LEDGER_REFERENCE_MAX 64
#define PB_LEDGER_TRACE_MAX 32
#define PB_LEDGER_ERROR_MAX 32

/* An account and its balance projection. */
typedef struct pb_store_account {
    int64_t id;
    char brand[PB_LEDGER_BRAND_MAX + 1];
    char owner[PB_LEDGER_OWNER_MAX + 1];
    char kind[PB_LEDGER_KIND_MAX + 1];
    char currency[PB_LEDGER_CURRENCY_MAX + 1];
    uint32_t flags;
    int64_t created_at; /* µs since epoch, UTC */
    int64_t debits_pending;
    int64_t debits_posted;
    int64_t credits_pending;
    int64_t credits_posted;
    int64_t last_seq; /* newest transfer touching the account; 0 when none */
    /* NULL, or (a damaged row) the name of its first column that is not what the
     * ledger writes: a text column (brand, owner, kind, currency) not text or longer
     * than its field (never read cut short as if it were the stored one), flags not
     * an integer in 32 bits, created_at not an integer, a counter or last_seq not an
     * integer or negative; "balance row" when account_get/find find no balance row
     * (the scans zero the missing side instead). The lookups still return OK with
     * it: the ledger refuses to use such an account (STORE_CORRUPT, src/ledger/
     * damaged.c) and verify reports it. */
    const char *malformed;
} pb_store_account;

/* A transfer row, exactly as stored. */
typedef struct pb_store_transfer {
    int64_t seq; /* global order, 1, 2, 3, ... */
    pb_id id;
    char scope[PB_LEDGER_SCOPE_MAX + 1];
    char ikey[PB_LEDGER_KEY_MAX + 1];
    int64_t debit_account_id;
    int64_t credit_account_id;
    int64_t amount;
    char currency[PB_LEDGER_CURRENCY_MAX + 1];
    uint32_t code;
    uint32_t flags;
    bool has_pending_id;
    pb_id pending_id;   /* the pending transfer a post/void/expiry resolves */
    int64_t timeout_s;  /* a pending transfer's timeout; 0 = none */
    int64_t expires_at; /* µs; 0 = never */
    char reference[PB_LEDGER_REFERENCE_MAX + 1];
    char trace_id[PB_LEDGER_TRACE_MAX + 1];
    int64_t debit_prev_seq; /* previous transfer of the debit account; 0 = first */
    int64_t credit_prev_seq;
    int64_t created_at;
    uint8_t hash[32];
    /* NULL, or (a damaged row) the name of its first column of the wrong type or
     * size, or NULL where a value is required; set by scans, which pass such a row
     * on for verify to report. Lookups return PB_STORE_CORRUPT for it instead. */
    const char *malformed;
} pb_store_transfer;

/* A request the ledger rejected for a business reason, remembered under its key. */
typedef struct pb_store_rejection {
    int64_t seq; /* append-only order (migration 0045); set by scans, not by insert */
    char scope[PB_LEDGER_SCOPE_MAX + 1];
    char ikey[PB_LEDGER_KEY_MAX + 1];
    int64_t debit_account_id;
    int64_t credit_account_id;
    int64_t amount;
    char currency[PB_LEDGER_CURRENCY_MAX + 1];
    uint32_t code;
    uint32_t flags;
    bool has_pending_id;
    pb_id pending_id;
    int64_t timeout_s;
    char reference[PB_LEDGER_REFERENCE_MAX + 1];
    char error[PB_LEDGER_ERROR_MAX + 1]; /* the stable error code, e.g. "INSUFFICIENT_FUNDS" */
    int64_t created_at;
} pb_store_rejection;

/* Accounts. insert assigns a->id when it is 0 and writes a zero balance row;
 * CONFLICT when (brand, owner, kind, currency) exists. */
pb_store_rc pb_store_account_insert(pb_store_conn *c, pb_store_account *a);
pb_store_rc pb_store_account_get(pb_store_conn *c, int64_t id, pb_store_account *out);
pb_store_rc pb_store_account_find(pb_store_conn *c, const char *brand, const char *owner,
                                  const char *kind, const char *currency, pb_store_account *out);
/* Writes the four counters and last_seq of a->id. NOT_FOUND when no balance row. */
pb_store_rc pb_store_balance_update(pb_store_conn *c, const pb_store_account *a);

/* Where the lazily written balance rows stand (migration 0008): every transfer up
 * to *seq is in every ledger_balance row; a row also holds everything up to its own
 * last_seq. set is the ledger writer's, inside its transaction. */
pb_store_rc pb_store_balances_mark_get(pb_store_conn *c, int64_t *seq);
pb_store_rc pb_store_balances_mark_set(pb_store_conn *c, int64_t seq);
/* Where the lazily written open-pending projection stands (migration 0016): every
 * pending transfer with seq <= *seq that is still open is in ledger_pending_open
 * (and the table lists no resolved one). set is the ledger writer's. */
pb_store_rc pb_store_pending_mark_get(pb_store_conn *c, int64_t *seq);
pb_store_rc pb_store_pending_mark_set(pb_store_conn *c, int64_t seq);

/* Transfers: INSERT only. CONFLICT on a duplicate id, key or pending resolution.
 * The lookups below (by_seq, by_legacy_id, by_key, by_pending, last) and
 * rejection_by_key return PB_STORE_CORRUPT when the row they find is damaged (a
 * column of the wrong type or size, NULL where a value is required; *out then
 * holds what could be read, a transfer's seq at least) or SQLite reports the
 * pages it needs corrupt; pb_store_errmsg() names the row and column. Never a
 * silently zeroed or truncated field, nor NOT_FOUND. */
pb_store_rc pb_store_transfer_insert(pb_store_conn *c, const pb_store_transfer *t);
pb_store_rc pb_store_transfer_by_seq(pb_store_conn *c, int64_t seq, pb_store_transfer *out);
/* Transfer ids carry their seq (src/ledger/txid.c): the ledger finds a transfer
 * by id with transfer_by_seq. Ids written before migration 0010 are random and
 * lie below *legacy_below; by_legacy_id scans that range for one. */
pb_store_rc pb_store_ledger_ids(pb_store_conn *c, uint8_t key[16], int64_t *legacy_below);
pb_store_rc pb_store_transfer_by_legacy_id(pb_store_conn *c, const pb_id *id, int64_t below,
                                           pb_store_transfer *out);
pb_store_rc pb_store_transfer_by_key(pb_store_conn *c, const char *scope, const char *ikey,
                                     pb_store_transfer *out);
/* The transfer that resolved (posted, voided or expired) a pending transfer. */
pb_store_rc pb_store_transfer_by_pending(pb_store_conn *c, const pb_id *pending_id,
                                         pb_store_transfer *out);
/* The transfer with the highest seq; NOT_FOUND in an empty ledger. */
pb_store_rc pb_store_transfer_last(pb_store_conn *c, pb_store_transfer *out);

pb_store_rc pb_store_rejection_insert(pb_store_conn *c, const pb_store_rejection *r);
pb_store_rc pb_store_rejection_by_key(pb_store_conn *c, const char *scope, const char *ikey,
                                      pb_store_rejection *out);

/* Every remembered rejection's (scope, key), for the writer's in-memory filter. */
typedef int (*pb_store_key_cb)(void *ctx, const char *scope, const char *ikey);
pb_store_rc pb_store_rejection_scan_keys(pb_store_conn *c, pb_store_key_cb cb, void *ctx);
/* The rejections with after_seq < seq <= upto_seq, in seq order (what a ledger
 * anchor's rejections digest covers). A row with a column of the wrong type or
 * size is passed on with *malformed naming it (else NULL). */
typedef int (*pb_store_rejection_cb)(void *ctx, const pb_store_rejection *r, const char *malformed);
pb_store_rc pb_store_rejection_scan_range(pb_store_conn *c, int64_t after_seq, int64_t upto_seq,
                                          pb_store_rejection_cb cb, void *ctx);

/* Open pending transfers. */
pb_store_rc pb_store_pending_open_insert(pb_store_conn *c, int64_t seq, int64_t expires_at);
pb_store_rc pb_store_pending_open_delete(pb_store_conn *c, int64_t seq);
pb_store_rc pb_store_pending_open_get(pb_store_conn *c, int64_t seq, int64_t *expires_at);
/* Up to cap open pendings with 0 < expires_at <= now, oldest first; *n receives the count. */
/* The earliest expires_at > 0 among open pendings; NOT_FOUND when none expires. */
pb_store_rc pb_store_pending_open_next_expiry(pb_store_conn *c, int64_t *at);
pb_store_rc pb_store_pending_open_expired(pb_store_conn *c, int64_t now, int64_t *seqs, size_t cap,
                                          size_t *n);

/* Scans, in key order, for verification and tooling. A callback returning non-zero stops
 * the scan (the scan then returns PB_STORE_OK). */
typedef int (*pb_store_transfer_cb)(void *ctx, const pb_store_transfer *t);
typedef int (*pb_store_account_cb)(void *ctx, const pb_store_account *a);
typedef int (*pb_store_pending_cb)(void *ctx, int64_t seq, int64_t expires_at);
pb_store_rc pb_store_transfer_scan(pb_store_conn *c, int64_t after_seq, pb_store_transfer_cb cb,
                                   void *ctx);
pb_store_rc pb_store_account_scan(pb_store_conn *c, pb_store_account_cb cb, void *ctx);
/* The transfers with seq > after_seq that debit or credit `account`, in seq order
 * (the tail of the log above the balance mark is short: a scan of it is cheap). */
pb_store_rc pb_store_transfer_scan_account(pb_store_conn *c, int64_t after_seq, int64_t account,
                                           pb_store_transfer_cb cb, void *ctx);
pb_store_rc pb_store_pending_open_scan(pb_store_conn *c, pb_store_pending_cb cb, void *ctx);
/* Accounts that have a ledger_account row but no balance row, or the reverse, are
 * reported by account_scan with the missing side zeroed and *orphans counting them. */
pb_store_rc pb_store_balance_orphans(pb_store_conn *c, int64_t *orphans);
/* The ledger_account rows with id > after_id, in id order, without their balance
 * (the counters and last_seq read as 0): what a ledger anchor's digest covers. */
pb_store_rc pb_store_account_scan_after(pb_store_conn *c, int64_t after_id, pb_store_account_cb cb,
                                        void *ctx);

/* A signed ledger anchor (migration 0042; src/ledger/anchor.c). */
#define PB_LEDGER_ANCHOR_KEY_ID_MAX 32
typedef struct pb_store_ledger_anchor {
    int64_t id;                  /* 1, 2, 3, ... */
    int64_t transfer_seq;        /* the chain head it covers; 0: no transfer yet */
    uint8_t transfer_hash[32];   /* that transfer's hash; zeros when transfer_seq is 0 */
    int64_t accounts_after;      /* the previous anchor's account_upto (0 for the first) */
    int64_t account_upto;        /* the highest account id covered */
    uint8_t accounts_digest[32]; /* over accounts_after < id <= account_upto */
    /* the rejections (migration 0045): false in an anchor written before it, whose
     * three columns are NULL (and whose signed message does not hold them) */
    bool has_rejections;
    int64_t rejections_after;      /* the previous anchor's rejection_upto (0: none) */
    int64_t rejection_upto;        /* the highest ledger_rejection seq covered */
    uint8_t rejections_digest[32]; /* over rejections_after < seq <= rejection_upto */
    int64_t created_at;            /* µs */
    char key_id[PB_LEDGER_ANCHOR_KEY_ID_MAX + 1];
    uint8_t public_key[32];
    uint8_t signature[64];
    bool malformed; /* a column of the wrong type or size (scans and last) */
} pb_store_ledger_anchor;
typedef int (*pb_store_ledger_anchor_cb)(void *ctx, const pb_store_ledger_anchor *a);
/* INSERT; CONFLICT when the id exists (another writer anchored first). */
pb_store_rc pb_store_ledger_anchor_insert(pb_store_conn *c, const pb_store_ledger_anchor *a);
/* The anchor with the highest id; NOT_FOUND when none. */
pb_store_rc pb_store_ledger_anchor_last(pb_store_conn *c, pb_store_ledger_anchor *out);
/* Every anchor in id order. */
pb_store_rc pb_store_ledger_anchor_scan(pb_store_conn *c, pb_store_ledger_anchor_cb cb, void *ctx);

#endif
