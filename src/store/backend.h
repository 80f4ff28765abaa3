/*
 * backend.h — what a store backend implements (private to src/store/).
 * store.c dispatches every public pb_store_* call through this table; a backend
 * embeds struct pb_store / struct pb_store_conn as the first member of its own.
 */
#ifndef PB_STORE_BACKEND_H
#define PB_STORE_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

typedef struct pb_store_backend pb_store_backend;

/* Each domain's statements live in their own ops table (store_<domain>.h,
 * sqlite/sqlite_<domain>.c), reached through the backend. */
struct pb_store_tenancy_ops;
struct pb_store_keys_ops;
struct pb_store_identity_ops;
struct pb_store_audit_ops;
struct pb_store_backoffice_people_ops; /* @backoffice: store_backoffice_people.h */
struct pb_store_backoffice_money_ops;
struct pb_store_events_ops;
struct pb_store_wallet_ops;
struct pb_store_catalog_ops;
struct pb_store_games_ops;
struct pb_store_request_ops;
struct pb_store_adjustment_ops;
struct pb_store_settlement_ops;

struct pb_store {
    const pb_store_backend *be;
    void *ledger_live;             /* see pb_store_set_ledger_live */
    size_t ledger_live_readers[2]; /* readers between pb_store_ledger_live and _done, */
    unsigned ledger_live_epoch;    /* counted in readers[epoch & 1] */
    _Atomic int64_t event_durable; /* see pb_store_event_durable (store_events.c) */
};

struct pb_store_conn {
    const pb_store_backend *be;
    pb_store *store;
    /* the outbox's durability (store.c, store_events.c): the highest event id this
     * connection appended in its open transaction, and (deferred connections) the
     * highest committed but not yet synced */
    int64_t event_txn;
    _Atomic int64_t event_unsynced;
    bool in_txn, deferred;
};

struct pb_store_backend {
    const char *name;
    pb_store *(*open)(const char *target, char *err, size_t errcap);
    void (*close)(pb_store *s);
    pb_store_conn *(*connect)(pb_store *s, char *err, size_t errcap);
    void (*disconnect)(pb_store_conn *c);
    const char *(*errmsg)(pb_store_conn *c);
    pb_store_rc (*begin)(pb_store_conn *c, pb_store_mode mode);
    pb_store_rc (*commit)(pb_store_conn *c);
    void (*rollback)(pb_store_conn *c);
    pb_store_rc (*checkpoint)(pb_store_conn *c);
    pb_store_rc (*wal_restart)(pb_store_conn *c, int min_frames);
    int (*wal_frames)(pb_store_conn *c);
    pb_store_rc (*wal_reserve)(pb_store_conn *c, int frames); /* NULL: no such log */
    /* the one ledger writer (store.h); NULL: nothing to claim */
    pb_store_rc (*writer_claim)(pb_store *s, char *err, size_t errcap);
    void (*writer_release)(pb_store *s);
    pb_store_rc (*backup)(pb_store_conn *c, const char *path, bool check,
                          pb_store_backup_accept_fn accept, void *ctx,
                          pb_store_backup_info *info); /* NULL: none */
    pb_store_rc (*restore)(const char *target, const char *from, bool replace,
                           pb_store_backup_accept_fn accept, void *ctx, pb_store_backup_info *info,
                           char *err, size_t errcap); /* NULL: none */
    pb_store_rc (*set_deferred_sync)(pb_store_conn *c, bool deferred);
    pb_store_rc (*sync)(pb_store_conn *c);
    pb_store_rc (*migrate)(pb_store *s, int *applied, char *err, size_t errcap);
    pb_store_rc (*schema_version)(pb_store_conn *c, int *current, int *latest);
    pb_store_rc (*exec_raw)(pb_store_conn *c, const char *sql);

    /* ledger */
    pb_store_rc (*account_insert)(pb_store_conn *c, pb_store_account *a);
    pb_store_rc (*account_get)(pb_store_conn *c, int64_t id, pb_store_account *out);
    pb_store_rc (*account_find)(pb_store_conn *c, const char *brand, const char *owner,
                                const char *kind, const char *currency, pb_store_account *out);
    pb_store_rc (*balance_update)(pb_store_conn *c, const pb_store_account *a);
    pb_store_rc (*balances_mark_get)(pb_store_conn *c, int64_t *seq);
    pb_store_rc (*balances_mark_set)(pb_store_conn *c, int64_t seq);
    pb_store_rc (*pending_mark_get)(pb_store_conn *c, int64_t *seq);
    pb_store_rc (*pending_mark_set)(pb_store_conn *c, int64_t seq);
    pb_store_rc (*transfer_insert)(pb_store_conn *c, const pb_store_transfer *t);
    pb_store_rc (*transfer_by_seq)(pb_store_conn *c, int64_t seq, pb_store_transfer *out);
    pb_store_rc (*ledger_ids)(pb_store_conn *c, uint8_t key[16], int64_t *legacy_below);
    pb_store_rc (*transfer_by_legacy_id)(pb_store_conn *c, const pb_id *id, int64_t below,
                                         pb_store_transfer *out);
    pb_store_rc (*transfer_by_key)(pb_store_conn *c, const char *scope, const char *ikey,
                                   pb_store_transfer *out);
    pb_store_rc (*transfer_by_pending)(pb_store_conn *c, const pb_id *pending_id,
                                       pb_store_transfer *out);
    pb_store_rc (*transfer_last)(pb_store_conn *c, pb_store_transfer *out);
    pb_store_rc (*rejection_insert)(pb_store_conn *c, const pb_store_rejection *r);
    pb_store_rc (*rejection_by_key)(pb_store_conn *c, const char *scope, const char *ikey,
                                    pb_store_rejection *out);
    pb_store_rc (*rejection_scan_keys)(pb_store_conn *c, pb_store_key_cb cb, void *ctx);
    pb_store_rc (*rejection_scan_range)(pb_store_conn *c, int64_t after_seq, int64_t upto_seq,
                                        pb_store_rejection_cb cb, void *ctx);
    pb_store_rc (*pending_open_insert)(pb_store_conn *c, int64_t seq, int64_t expires_at);
    pb_store_rc (*pending_open_delete)(pb_store_conn *c, int64_t seq);
    pb_store_rc (*pending_open_get)(pb_store_conn *c, int64_t seq, int64_t *expires_at);
    pb_store_rc (*pending_open_next_expiry)(pb_store_conn *c, int64_t *at);
    pb_store_rc (*pending_open_expired)(pb_store_conn *c, int64_t now, int64_t *seqs, size_t cap,
                                        size_t *n);
    pb_store_rc (*transfer_scan)(pb_store_conn *c, int64_t after_seq, pb_store_transfer_cb cb,
                                 void *ctx);
    pb_store_rc (*account_scan)(pb_store_conn *c, pb_store_account_cb cb, void *ctx);
    pb_store_rc (*transfer_scan_account)(pb_store_conn *c, int64_t after_seq, int64_t account,
                                         pb_store_transfer_cb cb, void *ctx);
    pb_store_rc (*pending_open_scan)(pb_store_conn *c, pb_store_pending_cb cb, void *ctx);
    pb_store_rc (*balance_orphans)(pb_store_conn *c, int64_t *orphans);
    pb_store_rc (*account_scan_after)(pb_store_conn *c, int64_t after_id, pb_store_account_cb cb,
                                      void *ctx);
    pb_store_rc (*ledger_anchor_insert)(pb_store_conn *c, const pb_store_ledger_anchor *a);
    pb_store_rc (*ledger_anchor_last)(pb_store_conn *c, pb_store_ledger_anchor *out);
    pb_store_rc (*ledger_anchor_scan)(pb_store_conn *c, pb_store_ledger_anchor_cb cb, void *ctx);

    /* other domains */
    const struct pb_store_tenancy_ops *tenancy;
    const struct pb_store_identity_ops *identity;
    const struct pb_store_audit_ops *audit;
    const struct pb_store_backoffice_people_ops *backoffice_people; /* @backoffice */
    /* @backoffice: store_backoffice.h */
    const struct pb_store_backoffice_money_ops *backoffice_money;
    const struct pb_store_events_ops *events; /* @events: the outbox (store_events.h) */
    const struct pb_store_games_ops *games;
    const struct pb_store_catalog_ops *catalog;
    const struct pb_store_wallet_ops *wallet;
    const struct pb_store_cashier_ops *cashier;
    const struct pb_store_keys_ops *keys;             /* store_keys.h */
    const struct pb_store_request_ops *request;       /* store_request.h */
    const struct pb_store_adjustment_ops *adjustment; /* store_adjustment.h */
    const struct pb_store_settlement_ops *settlement; /* store_settlement.h */
    const struct pb_store_recon_ops *recon;           /* store_reconcile.h */
};

extern const pb_store_backend pb_store_sqlite_backend;

#endif
