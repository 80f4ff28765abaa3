/*
 * faultvfs.h — a SQLite VFS shim for tests: simulated power loss and failing disks.
 *
 * The shim wraps the default VFS ("unix") under a name of the caller's choice;
 * a store opened as "sqlite:PATH?vfs=NAME" does all its file I/O through it.
 * Reads, writes and syncs pass through, so the process sees an ordinary disk,
 * but the shim remembers, per file, everything written since that file's last
 * xSync (the old bytes under each write, and the new ones). On a simulated power
 * cut (pb_faultvfs_arm_cut), the files are frozen as the disk holds them at that
 * instant: from then on writes still reach the file (the process goes on
 * coherently until the test closes it) but syncs no longer make anything
 * durable. pb_faultvfs_power_loss(), called once every connection is closed,
 * then puts each file back to what a disk that lost power would hold: its
 * synced content, plus, depending on the mode, a random subset of the unsynced
 * writes made before the cut, the last of them torn (a random prefix kept).
 *
 * Failing disk: pb_faultvfs_fail_writes(SQLITE_FULL | SQLITE_IOERR_WRITE |
 * SQLITE_READONLY) makes every write and truncation fail with that code until it
 * is called with 0; pb_faultvfs_fail_reads(SQLITE_IOERR_READ) the same for reads
 * of the tracked files; pb_faultvfs_fail_syncs(true) makes every xSync fail;
 * pb_faultvfs_hold_syncs(true) makes every xSync wait until it is called with false.
 *
 * Model: a file's creation and a deletion made before the cut are durable at
 * once (the worst case for a deleted write-ahead log); the -shm file is not
 * tracked (SQLite rebuilds it from the log after a crash) and is deleted by
 * pb_faultvfs_power_loss(). Only main databases, journals and write-ahead logs
 * are tracked; temporary files pass through. The state is process-wide (one
 * shim per process), guarded by one mutex: I/O through the shim is serialised.
 */
#ifndef PB_STORE_SQLITE_FAULTVFS_H
#define PB_STORE_SQLITE_FAULTVFS_H

#include <stdbool.h>
#include <stdint.h>

/* What a power cut keeps of the writes made since a file's last sync. */
typedef enum {
    PB_FAULTVFS_DROP_ALL = 0,  /* nothing: every unsynced write is lost */
    PB_FAULTVFS_TEAR_LAST = 1, /* nothing but a random prefix of each file's last write */
    PB_FAULTVFS_RANDOM = 2,    /* each unsynced write kept with probability 1/2, the last torn */
} pb_faultvfs_mode;

/* Registers the shim as VFS `name` over the default VFS (not as the default).
 * Idempotent for the same name. Returns SQLITE_OK or a SQLite error code. */
int pb_faultvfs_register(const char *name);

/* true: xSync records the sync point but does not ask the disk (tests run
 * faster; durability is what the shim models, not what the disk does). */
void pb_faultvfs_set_skip_disk_sync(bool skip);

/* Arms a power cut before the n-th tracked I/O operation from now (writes,
 * truncations, syncs, deletions; n >= 1). 0 disarms. */
void pb_faultvfs_arm_cut(uint64_t n);
/* Cuts the power now. */
void pb_faultvfs_cut_now(void);
/* Whether the power has been cut (since the last pb_faultvfs_power_loss/reset). */
bool pb_faultvfs_cut_happened(void);
/* Tracked I/O operations counted so far (since the last reset). */
uint64_t pb_faultvfs_ops(void);

/*
 * Applies the power loss to the files on disk: every tracked file goes back to
 * its content at its last sync before the cut, plus what `mode` keeps (chosen
 * with `seed`); the -shm files are deleted. Call with every connection through
 * the shim closed. Then forgets all state (as pb_faultvfs_reset). Returns the
 * number of unsynced writes that were dropped (whole or in part), or -1 on an
 * I/O error of the test machine (errno set).
 */
long pb_faultvfs_power_loss(pb_faultvfs_mode mode, uint64_t seed);

/* Forgets what was written (everything counts as durable from now), disarms the
 * cut and clears the counters and the failures. */
void pb_faultvfs_reset(void);

/* Every xWrite and xTruncate fails with `rc` (SQLITE_FULL, SQLITE_IOERR_WRITE,
 * SQLITE_READONLY, ...) until called with 0. Returns the number of writes
 * refused so far. */
uint64_t pb_faultvfs_fail_writes(int rc);
/* Every xRead of a tracked file (a main database, a journal, a write-ahead log)
 * fails with `rc` (SQLITE_IOERR_READ, ...) until called with 0. Returns the
 * number of reads refused so far. */
uint64_t pb_faultvfs_fail_reads(int rc);
/* Every xSync fails with SQLITE_IOERR_FSYNC while on. */
void pb_faultvfs_fail_syncs(bool on);
/* While on, every xSync (of any file through the shim) waits before it does
 * anything until it is turned off again; the other I/O goes on meanwhile. For
 * tests that need a sync in progress. pb_faultvfs_reset turns it off. */
void pb_faultvfs_hold_syncs(bool on);
/* How many xSync calls wait at the gate now. */
uint64_t pb_faultvfs_syncs_waiting(void);

#endif
