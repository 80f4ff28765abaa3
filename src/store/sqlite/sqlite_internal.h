/* sqlite_internal.h — shared by the SQLite backend's files (private to src/store/sqlite/). */
#ifndef PB_STORE_SQLITE_INTERNAL_H
#define PB_STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/backend.h"

/* Cached prepared statements, one slot per statement the backend runs. */
enum sq_stmt_id {
    SQ_BEGIN_READ,
    SQ_BEGIN_WRITE,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_ACCOUNT_INSERT,
    SQ_BALANCE_INSERT,
    SQ_ACCOUNT_GET,
    SQ_ACCOUNT_FIND,
    SQ_BALANCE_UPDATE,
    SQ_MARK_GET,
    SQ_MARK_SET,
    SQ_PMARK_GET,
    SQ_PMARK_SET,
    SQ_TRANSFER_INSERT,
    SQ_TRANSFER_BY_SEQ,
    SQ_TRANSFER_BY_LEGACY_ID,
    SQ_LEDGER_IDS,
    SQ_TRANSFER_BY_KEY,
    SQ_TRANSFER_BY_PENDING,
    SQ_TRANSFER_LAST,
    SQ_REJECTION_INSERT,
    SQ_REJECTION_BY_KEY,
    SQ_PENDING_INSERT,
    SQ_PENDING_DELETE,
    SQ_PENDING_GET,
    SQ_PENDING_EXPIRED,
    SQ_PENDING_NEXT_EXPIRY,
    SQ_STMT_COUNT_
};

typedef struct sq_store {
    struct pb_store base;
    char *path;
    char *vfs;            /* the SQLite VFS by name ("sqlite:PATH?vfs=NAME"); NULL = the default */
    const char *open_vfs; /* what connections open through: the WAL buffer over vfs (walbuf.h) */
    int writer_fd;        /* the ledger writer's claim ("<path>-writer.lock", flocked), or -1 */
} sq_store;

#define SQ_EXTRA_SLOTS 512

typedef struct sq_conn {
    struct pb_store_conn base;
    sqlite3 *db;
    sqlite3_stmt *stmt[SQ_STMT_COUNT_];
    /* statements of the other domains' files, cached by the address of their SQL text */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } extra[SQ_EXTRA_SLOTS];
    char err[256];
    /* deferred sync: the WAL file, opened through the connection's VFS on first
     * pb_store_sync() (fsync(2) on any descriptor of a file flushes that file's
     * data, whoever wrote it; going through the VFS lets a test VFS see the sync) */
    sqlite3_file *wal_file;
    char *wal_path; /* the WAL's full path, as SQLite names it */
    pthread_mutex_t wal_mu;
    bool deferred;    /* synchronous=NORMAL (pb_store_set_deferred_sync) */
    int wal_frames;   /* frames in the WAL after this connection's last commit (wal hook) */
    bool wal_limited; /* journal_size_limit set to the reserve (sq_wal_reserve) */
} sq_conn;

/* sqlite_backup.c: the backend's backup and restore (store.h). */
pb_store_rc sq_backup(pb_store_conn *base, const char *path, bool check,
                      pb_store_backup_accept_fn accept, void *ctx, pb_store_backup_info *info);
pb_store_rc sq_restore(const char *target, const char *from, bool replace,
                       pb_store_backup_accept_fn accept, void *ctx, pb_store_backup_info *info,
                       char *err, size_t errcap);
/* Registers the application-defined SQL functions of the people search
 * (sqlite_backoffice_people.c) on a new connection; an SQLite result code. */
int sq_people_functions(sqlite3 *db);
/* The cached statement for id, prepared on first use from sql; NULL on error (in c->err). */
sqlite3_stmt *sq_stmt(sq_conn *c, enum sq_stmt_id id, const char *sql);
/* The cached statement for a static SQL string (cached by its address, so pass
 * the same `static const char[]` every time); NULL on error (in c->err). For
 * domain files that do not own a slot in enum sq_stmt_id. */
sqlite3_stmt *sq_stmt_sql(sq_conn *c, const char *sql);
/* Maps a SQLite result code to a store result, recording the message on errors. */
pb_store_rc sq_result(sq_conn *c, int rc);
/* Steps a statement that returns no rows, resets it, and maps the result. */
pb_store_rc sq_exec_stmt(sq_conn *c, sqlite3_stmt *st);

/* Ledger operations live in sqlite_ledger.c. */
pb_store_rc sq_account_insert(pb_store_conn *c, pb_store_account *a);
pb_store_rc sq_account_get(pb_store_conn *c, int64_t id, pb_store_account *out);
pb_store_rc sq_account_find(pb_store_conn *c, const char *brand, const char *owner,
                            const char *kind, const char *currency, pb_store_account *out);
pb_store_rc sq_balance_update(pb_store_conn *c, const pb_store_account *a);
pb_store_rc sq_transfer_insert(pb_store_conn *c, const pb_store_transfer *t);
pb_store_rc sq_transfer_by_seq(pb_store_conn *c, int64_t seq, pb_store_transfer *out);
pb_store_rc sq_ledger_ids(pb_store_conn *c, uint8_t key[16], int64_t *legacy_below);
pb_store_rc sq_transfer_by_legacy_id(pb_store_conn *c, const pb_id *id, int64_t below,
                                     pb_store_transfer *out);
pb_store_rc sq_transfer_by_key(pb_store_conn *c, const char *scope, const char *ikey,
                               pb_store_transfer *out);
pb_store_rc sq_transfer_by_pending(pb_store_conn *c, const pb_id *pending_id,
                                   pb_store_transfer *out);
pb_store_rc sq_transfer_last(pb_store_conn *c, pb_store_transfer *out);
pb_store_rc sq_rejection_insert(pb_store_conn *c, const pb_store_rejection *r);
pb_store_rc sq_rejection_by_key(pb_store_conn *c, const char *scope, const char *ikey,
                                pb_store_rejection *out);
pb_store_rc sq_rejection_scan_keys(pb_store_conn *c, pb_store_key_cb cb, void *ctx);
pb_store_rc sq_rejection_scan_range(pb_store_conn *c, int64_t after_seq, int64_t upto_seq,
                                    pb_store_rejection_cb cb, void *ctx);
pb_store_rc sq_pending_open_insert(pb_store_conn *c, int64_t seq, int64_t expires_at);
pb_store_rc sq_pending_open_delete(pb_store_conn *c, int64_t seq);
pb_store_rc sq_pending_open_get(pb_store_conn *c, int64_t seq, int64_t *expires_at);
pb_store_rc sq_pending_open_next_expiry(pb_store_conn *c, int64_t *at);
pb_store_rc sq_pending_open_expired(pb_store_conn *c, int64_t now, int64_t *seqs, size_t cap,
                                    size_t *n);
pb_store_rc sq_balances_mark_get(pb_store_conn *c, int64_t *seq);
pb_store_rc sq_balances_mark_set(pb_store_conn *c, int64_t seq);
pb_store_rc sq_pending_mark_get(pb_store_conn *c, int64_t *seq);
pb_store_rc sq_pending_mark_set(pb_store_conn *c, int64_t seq);
pb_store_rc sq_transfer_scan_account(pb_store_conn *c, int64_t after_seq, int64_t account,
                                     pb_store_transfer_cb cb, void *ctx);
pb_store_rc sq_transfer_scan(pb_store_conn *c, int64_t after_seq, pb_store_transfer_cb cb,
                             void *ctx);
pb_store_rc sq_account_scan(pb_store_conn *c, pb_store_account_cb cb, void *ctx);
pb_store_rc sq_pending_open_scan(pb_store_conn *c, pb_store_pending_cb cb, void *ctx);
pb_store_rc sq_balance_orphans(pb_store_conn *c, int64_t *orphans);
/* sqlite_ledger_anchor.c */
pb_store_rc sq_account_scan_after(pb_store_conn *c, int64_t after_id, pb_store_account_cb cb,
                                  void *ctx);
pb_store_rc sq_ledger_anchor_insert(pb_store_conn *c, const pb_store_ledger_anchor *a);
pb_store_rc sq_ledger_anchor_last(pb_store_conn *c, pb_store_ledger_anchor *out);
pb_store_rc sq_ledger_anchor_scan(pb_store_conn *c, pb_store_ledger_anchor_cb cb, void *ctx);

#endif
