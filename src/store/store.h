/*
 * store.h — the backend-neutral store: the only door to the database.
 *
 * Domain code opens a pb_store from a URL, takes one pb_store_conn per thread,
 * runs transactions on it, and calls typed operations (one per statement the
 * domain needs: store_ledger.h, ...). SQL lives only behind this header, in one
 * folder per backend (sqlite/ now; pg/ later implements the same vtable, so
 * domain code does not change when it arrives). The store decides nothing about
 * money: it reads and writes rows.
 *
 * Ownership: pb_store_open() pairs with pb_store_close(); pb_store_connect()
 * with pb_store_disconnect(). A connection is used by one thread at a time.
 */
#ifndef PB_STORE_STORE_H
#define PB_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pb_store pb_store;
typedef struct pb_store_conn pb_store_conn;

/* Result of every store operation. */
typedef enum {
    PB_STORE_OK = 0,
    PB_STORE_NOT_FOUND, /* a lookup found no row */
    PB_STORE_CONFLICT,  /* a unique constraint refused the row */
    PB_STORE_BUSY,      /* retry the whole transaction later: a conflict, a lock timeout, or a
                           disk that refuses writes (full, read-only, failed write); the
                           API answers 503 STORE_UNAVAILABLE */
    PB_STORE_ERROR,     /* a hard failure (I/O, corruption, misuse): see pb_store_errmsg() */
    PB_STORE_CORRUPT,   /* a lookup found its row but the row is damaged (a column of the
                           wrong type or size, NULL where a value is required, or a page
                           SQLite cannot decode): the data is wrong, the connection and its
                           transaction are not. Only readers that say so return it (the
                           ledger's transfer lookups, store_ledger.h); see pb_store_errmsg() */
} pb_store_rc;

typedef enum {
    PB_STORE_READ = 0,  /* a read transaction (a consistent snapshot) */
    PB_STORE_WRITE = 1, /* a write transaction (takes the write lock at once) */
} pb_store_mode;

/*
 * Opens the database named by url: "sqlite:PATH", or a plain PATH (SQLite).
 * Does not migrate. On failure returns NULL and writes a reason into err.
 */
pb_store *pb_store_open(const char *url, char *err, size_t errcap);
void pb_store_close(pb_store *s);
/* The backend's name: "sqlite". */
const char *pb_store_backend_name(const pb_store *s);

/* A new connection. Returns NULL on failure (reason in err). */
pb_store_conn *pb_store_connect(pb_store *s, char *err, size_t errcap);
void pb_store_disconnect(pb_store_conn *c);
/* The last error of this connection, for logs. */
const char *pb_store_errmsg(pb_store_conn *c);

pb_store_rc pb_store_begin(pb_store_conn *c, pb_store_mode mode);
/* Commits durably (the ledger's commits survive power loss). */
pb_store_rc pb_store_commit(pb_store_conn *c);
void pb_store_rollback(pb_store_conn *c);

/*
 * Deferred durability, for a group-commit writer that wants to apply its next
 * batch while the previous one reaches the disk. With deferred sync on, a
 * commit returns once it is written (visible to other connections, in log
 * order) but possibly not yet durable; pb_store_sync() then makes every commit
 * made so far on this connection durable. After a power loss the database holds
 * a prefix of the commits, never a part of one. pb_store_sync() may run on
 * another thread while the connection's own thread keeps committing.
 */
pb_store_rc pb_store_set_deferred_sync(pb_store_conn *c, bool deferred);
pb_store_rc pb_store_sync(pb_store_conn *c);

/* Copies committed pages from the write-ahead log into the database without
 * blocking writers (SQLite: a passive checkpoint; other backends: a no-op). */
pb_store_rc pb_store_checkpoint(pb_store_conn *c);

/* For a connection that writes without pause (the ledger writer), called between
 * its transactions: once its commits have left at least min_frames pages in the
 * write-ahead log, copies the log into the database (durably) so that the next
 * transaction starts the log over, instead of letting it grow while a concurrent
 * checkpointer never catches up. A no-op below the threshold and on backends
 * without such a log. */
pb_store_rc pb_store_wal_restart(pb_store_conn *c, int min_frames);

/* How many pages this connection's last commit left in the write-ahead log (0 on
 * backends without one, and after pb_store_wal_restart started it over). */
int pb_store_wal_frames(pb_store_conn *c);

/*
 * The one ledger writer of a database. The ledger's writer keeps the accounts'
 * counters in memory and writes balance rows back from them (ledger/writeback.c),
 * so a second writer on the same database — `pitboss demo` or a bench against a
 * running `serve`, a second `serve` — would write back counters that miss the
 * other's transfers. pb_ledger_open claims the database first: PB_STORE_BUSY,
 * with the holder named in err, when another writer (in this process or another)
 * holds it; PB_STORE_ERROR when the claim cannot be made. SQLite: an exclusive
 * flock(2) on "<database>-writer.lock" beside the database (the file stays; the
 * lock goes with the process, even killed); an in-memory database is not shared
 * and needs none. Released by pb_store_writer_release and at exit.
 */
pb_store_rc pb_store_writer_claim(pb_store *s, char *err, size_t errcap);
void pb_store_writer_release(pb_store *s);

/* Makes the write-ahead log's file at least as long as `frames` pages need
 * (SQLite: zeros written after its end and synced, under the write lock, outside
 * any transaction of c), so that commits overwrite the file instead of extending
 * it: a sync then writes data only, not the file system's journal too. The file
 * keeps its size when the store is closed, so this costs once per database. A
 * no-op on backends without such a log; PB_STORE_BUSY when another connection
 * held the write lock for the whole busy timeout. */
pb_store_rc pb_store_wal_reserve(pb_store_conn *c, int frames);

/*
 * An online backup: a consistent copy of the whole database, as of one moment,
 * taken while other connections keep reading and writing (SQLite: the online
 * backup API under one read transaction, so writers are not blocked). The copy
 * is written beside `path` under a temporary name; with `check`, its own
 * integrity check must pass; then `accept` (may be NULL) is called with the
 * temporary copy's path and may open it as a store (ledger verify) — returning
 * false abandons the copy; then the copy is made one self-contained file (a
 * rollback journal, nothing beside it), synced, and only then linked to
 * `path`, which must not exist (PB_STORE_CONFLICT if it does: nothing is ever
 * overwritten). On any failure no file is left at `path` or under the
 * temporary name. PB_STORE_ERROR on backends without an online copy of their
 * own (a database server has its own tools).
 */
typedef struct pb_store_backup_info {
    int64_t pages;       /* pages copied */
    int64_t bytes;       /* the copy's size */
    int64_t copy_us;     /* the copy itself: how long the read transaction was held */
    int64_t check_us;    /* the integrity check of the copy (0 without check) */
    char previous[1024]; /* pb_store_restore: where the replaced database was kept, or "" */
} pb_store_backup_info;
typedef bool (*pb_store_backup_accept_fn)(void *ctx, const char *copy_path);
pb_store_rc pb_store_backup(pb_store_conn *c, const char *path, bool check,
                            pb_store_backup_accept_fn accept, void *ctx,
                            pb_store_backup_info *info);
/*
 * Restores a backup: the database at `url` (a file) becomes a copy of the
 * backup file `from`, which is only read. The copy is made, integrity-checked
 * and shown to `accept` as pb_store_backup does, under a temporary name beside
 * the database, then renamed over it (atomic: a crash leaves the old database
 * or the restored one), and the old database's -wal and -shm are removed. An
 * existing database is replaced only with `replace` (else PB_STORE_CONFLICT),
 * only when nothing has it open (PB_STORE_BUSY: "in use", a server is running
 * on it), and it is kept beside under "<path>.replaced-<unix time>"
 * (info->previous), so a restore can be undone. The reason of a failure is in
 * err. On backends without such a file, PB_STORE_ERROR.
 */
pb_store_rc pb_store_restore(const char *url, const char *from, bool replace,
                             pb_store_backup_accept_fn accept, void *ctx,
                             pb_store_backup_info *info, char *err, size_t errcap);

/* Applies every numbered migration above the current version, each in its own
 * transaction. *applied (may be NULL) receives how many ran. */
pb_store_rc pb_store_migrate(pb_store *s, int *applied, char *err, size_t errcap);
/* The schema version in the database and the newest one this binary knows. */
pb_store_rc pb_store_schema_version(pb_store_conn *c, int *current, int *latest);

/*
 * A pool of connections for worker threads (the HTTP server's): acquire one for
 * the duration of a request, release it after. At most `max` exist; acquire
 * waits for a free one. Connections are created on demand and kept.
 */
typedef struct pb_store_pool pb_store_pool;
pb_store_pool *pb_store_pool_new(pb_store *s, int max);
void pb_store_pool_free(pb_store_pool *p);
/* NULL only when a new connection cannot be opened. */
pb_store_conn *pb_store_pool_acquire(pb_store_pool *p);
/* Rolls back any transaction left open, then returns the connection to the pool. */
void pb_store_pool_release(pb_store_pool *p, pb_store_conn *c);

/*
 * The ledger writer of this process (if one runs on this store) publishes here
 * the state it has not written back to the store yet (ledger/live.c), so that
 * readers on any connection of the store see it. Opaque to the store.
 */
void pb_store_set_ledger_live(pb_store *s, void *live);
/* A reader takes the table with pb_store_ledger_live (NULL: none) and gives it
 * back with pb_store_ledger_live_done(c, *ticket), whatever it got. Setting NULL (the
 * ledger's close) waits until every reader that may hold the old table has
 * given it back, so the ledger may free it at once: no grace period is needed,
 * whichever threads still read at close (readers are short: a row or two). */
void *pb_store_ledger_live(pb_store_conn *c, unsigned *ticket);
void pb_store_ledger_live_done(pb_store_conn *c, unsigned ticket);

/*
 * A pass over rows in batches, each batch in its own write transaction, on a
 * connection of its own (e.g. sealing values an older version stored in the
 * clear). batch(c, ctx, rows, cap, &after, &n, &done) reads up to cap rows past
 * the cursor `after` into rows (row_size bytes each), moves the cursor, writes
 * what it must and says how many rows it looked at (n) and changed (done); the
 * pass ends when a batch looks at fewer than cap rows. *total (may be NULL)
 * receives the rows changed in committed batches. rows is wiped before it is
 * freed (they may hold secrets). 0, or -1 with "<what>: <store error>" in err.
 */
typedef pb_store_rc (*pb_store_batch_fn)(pb_store_conn *c, void *ctx, void *rows, size_t cap,
                                         int64_t *after, size_t *n, int64_t *done);
int pb_store_batched(pb_store *s, size_t row_size, size_t cap, pb_store_batch_fn batch, void *ctx,
                     int64_t *total, const char *what, char *err, size_t errcap);

/* Runs raw SQL. Only for tests and operator tooling (e.g. the tamper test), never domain code. */
pb_store_rc pb_store_exec_raw(pb_store_conn *c, const char *sql);

#include "store/store_ledger.h"
/* @store-headers */
/* @store-headers-sim */
/* @store-headers-provider-hub88 */
/* @store-headers-provider-native */
/* @store-headers-cashier */
#include "store/store_cashier.h"
#include "store/store_reconcile.h"
/* @store-headers-catalog */
#include "store/store_catalog.h"
/* @store-headers-wallet */
/* @store-headers-games-play */
/* @store-headers-events */
#include "store/store_backoffice.h" /* @backoffice: the back office's money reads */
#include "store/store_events.h"
#include "store/store_games.h"
#include "store/store_wallet.h"
#include "store/store_adjustment.h"
#include "store/store_settlement.h"
#include "store/store_audit.h"
#include "store/store_tenancy.h"
#include "store/store_keys.h"
#include "store/store_identity.h"
/* @store-headers-backoffice */
#include "store/store_backoffice_people.h"

#endif
