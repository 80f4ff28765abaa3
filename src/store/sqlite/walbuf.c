/*
 * walbuf.c — the write-ahead-log write buffer of walbuf.h.
 *
 * The WAL format (sqlite.org/fileformat2.html, "WAL file format"): a 32-byte
 * header, then frames, each a 24-byte frame header followed by one page. Bytes
 * 4..7 of a frame header hold, for the frame that commits a transaction, the
 * database size in pages after the commit, and zero for every other frame;
 * SQLite writes a frame as two writes (header, then page) in walWriteOneFrame().
 * So the shim knows the commit is complete once the page following a commit
 * frame's header has been handed to it, and writes the buffer then.
 *
 * A commit's write ends on a memory page boundary: zeros fill the rest of the
 * page after the commit frame (and a long write is cut in chunks that end on
 * page boundaries). A write that ends inside a page whose contents are not in
 * the page cache makes the kernel read that page from the disk first
 * (ext4_block_write_begin) and the writer waits for it. The WAL past the last
 * commit frame holds only an older cycle's frames, or zeros where the WAL was
 * reserved, so that page is rarely cached. Seen in the wallet benchmark here
 * (2026-11-23), with the kernel's scheduler tracepoints: 31-43 such waits of
 * the ledger writer in 4-5 s at 1,000 calls/s. The next commit starts in that page, which is
 * then cached in full. The zeros are safe: SQLite never reads the WAL beyond the
 * last frame of the current cycle, and recovery stops at the first frame whose
 * salts or checksum do not match (zeros never do), as it does at an older
 * cycle's frames. Only a commit's write is padded: the commit frame is the
 * last frame appended, so nothing after it is live. A write elsewhere (a
 * frame rewritten within its transaction) is never padded.
 */
#include "store/sqlite/walbuf.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Large enough for a batch of the ledger writer (tens of 4 KiB pages); a bigger
 * transaction is written in several calls, which is still correct. */
#define WB_CAP (1024 * 1024)
#define WB_FRAME_HEADER 24
#define WB_WAL_HEADER 32
#define WB_MAX_SHIMS 8

typedef struct wb_file {
    sqlite3_file base;
    sqlite3_file *real; /* the wrapped VFS's file, right after this struct */
    bool wal;
    bool commit_next; /* the last write was a commit frame's header */
    unsigned char *buf;
    size_t len;
    sqlite3_int64 off; /* the file offset of buf[0] */
} wb_file;

typedef struct wb_shim {
    sqlite3_vfs vfs;
    sqlite3_vfs *real;
    char name[80];
} wb_shim;

static pthread_mutex_t wb_mu = PTHREAD_MUTEX_INITIALIZER;
static wb_shim wb_shims[WB_MAX_SHIMS];
static int wb_nshims;
static _Atomic unsigned long long wb_requested, wb_written, wb_commits;
/* The memory page size, the unit the kernel's page cache reads in (set with
 * the first shim). */
static size_t wb_page = 4096;

static sqlite3_vfs *real_vfs(sqlite3_vfs *v) { return ((wb_shim *)v->pAppData)->real; }

/* The unix VFS writes at most 0x1ffff bytes per call (seekAndWriteFd() masks the
 * length), so a longer run goes down in chunks of this size. */
#define WB_CHUNK (31 * 4096)

static int write_real(wb_file *f, const void *p, int amt, sqlite3_int64 off)
{
    const unsigned char *b = p;
    for (;;) { /* every chunk but the last ends on a page boundary */
        int n = amt > WB_CHUNK ? WB_CHUNK - (int)((size_t)(off + WB_CHUNK) % wb_page) : amt;
        atomic_fetch_add_explicit(&wb_written, 1, memory_order_relaxed);
        int rc = f->real->pMethods->xWrite(f->real, b, n, off);
        if (rc != SQLITE_OK || n == amt)
            return rc;
        b += n;
        off += n;
        amt -= n;
    }
}

/* Writes what is buffered; the buffer is empty afterwards whatever happened
 * (on failure SQLite abandons the transaction whose frames these were). A
 * commit's write is padded with zeros to the end of its last page (the top). */
static int flush_as(wb_file *f, bool commit)
{
    if (f->len == 0)
        return SQLITE_OK;
    size_t len = f->len, tail = (size_t)(f->off + (sqlite3_int64)len) % wb_page;
    if (commit) {
        atomic_fetch_add_explicit(&wb_commits, 1, memory_order_relaxed);
        if (tail) { /* the buffer has a page to spare beyond WB_CAP */
            memset(f->buf + len, 0, wb_page - tail);
            len += wb_page - tail;
        }
    }
    int rc = write_real(f, f->buf, (int)len, f->off);
    f->len = 0;
    return rc;
}

static int flush(wb_file *f) { return flush_as(f, false); }

/* ---------------------------------------------------------------- file methods */

static int wb_close(sqlite3_file *file)
{
    wb_file *f = (wb_file *)file;
    int rc = flush(f);
    int rc2 = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *file, void *p, int amt, sqlite3_int64 off)
{
    wb_file *f = (wb_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, p, amt, off);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int wb_write(sqlite3_file *file, const void *p, int amt, sqlite3_int64 off)
{
    wb_file *f = (wb_file *)file;
    if (!f->wal)
        return f->real->pMethods->xWrite(f->real, p, amt, off);
    atomic_fetch_add_explicit(&wb_requested, 1, memory_order_relaxed);
    int rc;
    if (f->len && f->off + (sqlite3_int64)f->len != off && (rc = flush(f)) != SQLITE_OK)
        return rc;
    if (f->len + (size_t)amt > WB_CAP && (rc = flush(f)) != SQLITE_OK)
        return rc;
    if (!f->buf)
        f->buf = malloc(WB_CAP + wb_page); /* a page for a commit's padding */
    if (!f->buf || (size_t)amt > WB_CAP) { /* write through: nothing is buffered now */
        f->commit_next = false;
        return write_real(f, p, amt, off);
    }
    if (f->len == 0)
        f->off = off;
    memcpy(f->buf + f->len, p, (size_t)amt);
    f->len += (size_t)amt;
    bool page_of_commit = f->commit_next;
    f->commit_next = amt == WB_FRAME_HEADER && off >= WB_WAL_HEADER &&
                     be32((const unsigned char *)p + 4) != 0;
    return page_of_commit ? flush_as(f, true) : SQLITE_OK;
}

static int wb_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    wb_file *f = (wb_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *file, int flags)
{
    wb_file *f = (wb_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    wb_file *f = (wb_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

/* The rest pass through. */
#define REAL(file) (((wb_file *)(file))->real)
static int wb_lock(sqlite3_file *file, int l) { return REAL(file)->pMethods->xLock(REAL(file), l); }
static int wb_unlock(sqlite3_file *file, int l)
{
    return REAL(file)->pMethods->xUnlock(REAL(file), l);
}
static int wb_check_reserved(sqlite3_file *file, int *out)
{
    return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}
static int wb_file_control(sqlite3_file *file, int op, void *arg)
{
    return REAL(file)->pMethods->xFileControl(REAL(file), op, arg);
}
static int wb_sector_size(sqlite3_file *file)
{
    return REAL(file)->pMethods->xSectorSize(REAL(file));
}
static int wb_device_characteristics(sqlite3_file *file)
{
    return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}
static int wb_shm_map(sqlite3_file *file, int pg, int pgsz, int extend, void volatile **pp)
{
    return REAL(file)->pMethods->xShmMap(REAL(file), pg, pgsz, extend, pp);
}
static int wb_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}
static void wb_shm_barrier(sqlite3_file *file) { REAL(file)->pMethods->xShmBarrier(REAL(file)); }
static int wb_shm_unmap(sqlite3_file *file, int del)
{
    return REAL(file)->pMethods->xShmUnmap(REAL(file), del);
}
static int wb_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **pp)
{
    return REAL(file)->pMethods->xFetch(REAL(file), off, amt, pp);
}
static int wb_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    return REAL(file)->pMethods->xUnfetch(REAL(file), off, p);
}

static const sqlite3_io_methods wb_methods_v1 = {
    1,
    wb_close,
    wb_read,
    wb_write,
    wb_truncate,
    wb_sync,
    wb_file_size,
    wb_lock,
    wb_unlock,
    wb_check_reserved,
    wb_file_control,
    wb_sector_size,
    wb_device_characteristics,
};
static const sqlite3_io_methods wb_methods_v2 = {
    2,
    wb_close,
    wb_read,
    wb_write,
    wb_truncate,
    wb_sync,
    wb_file_size,
    wb_lock,
    wb_unlock,
    wb_check_reserved,
    wb_file_control,
    wb_sector_size,
    wb_device_characteristics,
    wb_shm_map,
    wb_shm_lock,
    wb_shm_barrier,
    wb_shm_unmap,
};
static const sqlite3_io_methods wb_methods_v3 = {
    3,
    wb_close,
    wb_read,
    wb_write,
    wb_truncate,
    wb_sync,
    wb_file_size,
    wb_lock,
    wb_unlock,
    wb_check_reserved,
    wb_file_control,
    wb_sector_size,
    wb_device_characteristics,
    wb_shm_map,
    wb_shm_lock,
    wb_shm_barrier,
    wb_shm_unmap,
    wb_fetch,
    wb_unfetch,
};

/* ---------------------------------------------------------------- VFS methods */

static int wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                   int *out_flags)
{
    wb_file *f = (wb_file *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    sqlite3_vfs *real = real_vfs(vfs);
    int rc = real->xOpen(real, name, f->real, flags, out_flags);
    if (!f->real->pMethods) { /* the open failed: SQLite must not call xClose */
        f->base.pMethods = NULL;
        return rc;
    }
    int v = f->real->pMethods->iVersion;
    f->base.pMethods = v >= 3 ? &wb_methods_v3 : v == 2 ? &wb_methods_v2 : &wb_methods_v1;
    return rc;
}

static int wb_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    return real_vfs(vfs)->xDelete(real_vfs(vfs), name, sync_dir);
}
static int wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    return real_vfs(vfs)->xAccess(real_vfs(vfs), name, flags, out);
}
static int wb_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    return real_vfs(vfs)->xFullPathname(real_vfs(vfs), name, n, out);
}
static void *wb_dlopen(sqlite3_vfs *vfs, const char *path)
{
    return real_vfs(vfs)->xDlOpen(real_vfs(vfs), path);
}
static void wb_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
    real_vfs(vfs)->xDlError(real_vfs(vfs), n, msg);
}
static void (*wb_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    return real_vfs(vfs)->xDlSym(real_vfs(vfs), h, sym);
}
static void wb_dlclose(sqlite3_vfs *vfs, void *h) { real_vfs(vfs)->xDlClose(real_vfs(vfs), h); }
static int wb_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    return real_vfs(vfs)->xRandomness(real_vfs(vfs), n, out);
}
static int wb_sleep(sqlite3_vfs *vfs, int us) { return real_vfs(vfs)->xSleep(real_vfs(vfs), us); }
static int wb_current_time(sqlite3_vfs *vfs, double *out)
{
    return real_vfs(vfs)->xCurrentTime(real_vfs(vfs), out);
}
static int wb_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    return real_vfs(vfs)->xGetLastError ? real_vfs(vfs)->xGetLastError(real_vfs(vfs), n, out) : 0;
}
static int wb_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    return real_vfs(vfs)->xCurrentTimeInt64(real_vfs(vfs), out);
}

const char *pb_walbuf_vfs(const char *base)
{
    sqlite3_vfs *real = sqlite3_vfs_find(base);
    if (!real)
        return NULL;
    const char *name = NULL;
    pthread_mutex_lock(&wb_mu);
    for (int i = 0; i < wb_nshims && !name; i++)
        if (wb_shims[i].real == real)
            name = wb_shims[i].name;
    if (!name && wb_nshims < WB_MAX_SHIMS) {
        long ps = sysconf(_SC_PAGESIZE); /* before any file is opened through a shim */
        if (wb_nshims == 0 && ps >= 512 && ps < WB_CHUNK)
            wb_page = (size_t)ps;
        wb_shim *s = &wb_shims[wb_nshims];
        snprintf(s->name, sizeof s->name, "pb-walbuf/%s", real->zName);
        s->real = real;
        s->vfs = (sqlite3_vfs){
            .iVersion = 2,
            .szOsFile = (int)sizeof(wb_file) + real->szOsFile,
            .mxPathname = real->mxPathname,
            .zName = s->name,
            .pAppData = s,
            .xOpen = wb_open,
            .xDelete = wb_delete,
            .xAccess = wb_access,
            .xFullPathname = wb_full_pathname,
            .xDlOpen = wb_dlopen,
            .xDlError = wb_dlerror,
            .xDlSym = wb_dlsym,
            .xDlClose = wb_dlclose,
            .xRandomness = wb_randomness,
            .xSleep = wb_sleep,
            .xCurrentTime = wb_current_time,
            .xGetLastError = wb_last_error,
            .xCurrentTimeInt64 = real->iVersion >= 2 && real->xCurrentTimeInt64 ? wb_current_time64
                                                                                : NULL,
        };
        if (!s->vfs.xCurrentTimeInt64)
            s->vfs.iVersion = 1;
        if (sqlite3_vfs_register(&s->vfs, 0) == SQLITE_OK) {
            wb_nshims++;
            name = s->name;
        }
    }
    pthread_mutex_unlock(&wb_mu);
    return name;
}

void pb_walbuf_stats(unsigned long long *requested, unsigned long long *written)
{
    *requested = atomic_load_explicit(&wb_requested, memory_order_relaxed);
    *written = atomic_load_explicit(&wb_written, memory_order_relaxed);
}

void pb_walbuf_commits(unsigned long long *commits)
{
    *commits = atomic_load_explicit(&wb_commits, memory_order_relaxed);
}
