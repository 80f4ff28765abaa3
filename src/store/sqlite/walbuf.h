/*
 * walbuf.h — a SQLite VFS shim that turns a commit's write-ahead-log appends
 * into one write(2).
 *
 * SQLite appends each frame of a commit to the WAL with two pwrite(2) calls (its
 * 24-byte header, then the page), so a batch of the ledger writer that dirties
 * 40 pages costs 80 system calls. The shim buffers the appends of a WAL file
 * handle while they are contiguous and writes them in one call when the commit
 * frame's page arrives, so the commit sees the write's result (a full disk is
 * reported by that xWrite, exactly as without the shim). Any other access to the
 * handle first writes what is buffered: a read, a sync, a truncation, a size
 * query, a write elsewhere in the file, closing it, and a full buffer.
 *
 * Why this is safe: other connections and processes see frames only through the
 * WAL index header, which SQLite publishes after the commit frame is written;
 * frames written before that are invisible whether they sit in the buffer or in
 * the file. Bytes reach the file in the order SQLite wrote them, so recovery after
 * a crash sees what it would have seen without the shim, with the writes of a
 * commit possibly fewer and larger (the power loss test runs through it: the
 * fault VFS is wrapped when a store names one). Only WAL files are buffered;
 * the database file, journals and temporary files pass straight through.
 * A commit's write is padded with zeros to the end of its last memory page,
 * so that the kernel never reads that page from the disk before writing it
 * (walbuf.c says why that is safe).
 *
 * The buffer belongs to one file handle, which SQLite uses from one thread at
 * a time: no locking.
 */
#ifndef PB_STORE_SQLITE_WALBUF_H
#define PB_STORE_SQLITE_WALBUF_H

#include <stddef.h>

/* Registers (once per base) the shim over the VFS named base (NULL: the
 * default one) and returns its name, or NULL when base is not registered or
 * memory ran out. Thread-safe. */
const char *pb_walbuf_vfs(const char *base);

/* Totals since start: WAL writes SQLite asked for, and writes that reached the
 * file underneath (for tests and benchmarks). */
void pb_walbuf_stats(unsigned long long *requested, unsigned long long *written);

/* Commits written since start (each padded with zeros to a memory page
 * boundary: walbuf.c). */
void pb_walbuf_commits(unsigned long long *commits);

#endif
