/*
 * faultvfs.c — the test VFS of faultvfs.h: power cuts and failing disks.
 *
 * Every tracked file (by full path: all the connections' handles on one file
 * share a node) keeps an undo log of what was written since its last xSync: for
 * each write its offset, the bytes it overwrote and the bytes it wrote; for each
 * truncation the bytes it cut off. xSync empties the log (everything is durable).
 * pb_faultvfs_power_loss() undoes the log backwards, truncates the file to its
 * synced size — the file is then exactly what the disk held after its last sync
 * — and redoes, forwards, the writes the mode keeps (made before the cut only).
 * After the cut, syncs are accepted but no longer empty the logs, so nothing
 * written from then on can survive.
 *
 * One mutex covers all state and is held across the real write or sync, so a
 * sync and the writes it covers cannot interleave with the cut.
 */
#include "store/sqlite/faultvfs.h"
#include "store/sqlite/pcache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fv_entry {
    struct fv_entry *next;
    int64_t off; /* write: where; truncation: the new size */
    bool truncation;
    bool after_cut;     /* made after the power was cut: never survives */
    unsigned char *old; /* the bytes overwritten (truncation: cut off) */
    int64_t old_len;
    unsigned char *data; /* write: the bytes written */
    int64_t len;
} fv_entry;

typedef struct fv_node {
    struct fv_node *next;
    char *path;
    int64_t synced_size;
    fv_entry *head, *tail;
    bool deleted; /* deleted before the cut: gone for good */
} fv_node;

typedef struct fv_file {
    sqlite3_file base;
    fv_node *node;      /* NULL: not tracked (temporary files) */
    sqlite3_file *real; /* the wrapped VFS's file, right after this struct */
} fv_file;

static struct {
    pthread_mutex_t mu;
    sqlite3_vfs vfs;
    sqlite3_vfs *real;
    char name[64];
    bool registered;
    fv_node *nodes;
    uint64_t ops, cut_at, refused, reads_refused;
    bool cut, skip_disk_sync, fail_syncs;
    int fail_writes, fail_reads;
} fv = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The sync gate (pb_faultvfs_hold_syncs): its own lock, so that a sync waiting at
 * it holds nothing the other I/O needs. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t open;
    bool held;
    uint64_t waiting;
} gate = {.mu = PTHREAD_MUTEX_INITIALIZER, .open = PTHREAD_COND_INITIALIZER};

static void gate_pass(void)
{
    pthread_mutex_lock(&gate.mu);
    if (gate.held) {
        gate.waiting++;
        while (gate.held)
            pthread_cond_wait(&gate.open, &gate.mu);
        gate.waiting--;
    }
    pthread_mutex_unlock(&gate.mu);
}

void pb_faultvfs_hold_syncs(bool on)
{
    pthread_mutex_lock(&gate.mu);
    gate.held = on;
    if (!on)
        pthread_cond_broadcast(&gate.open);
    pthread_mutex_unlock(&gate.mu);
}

uint64_t pb_faultvfs_syncs_waiting(void)
{
    pthread_mutex_lock(&gate.mu);
    uint64_t n = gate.waiting;
    pthread_mutex_unlock(&gate.mu);
    return n;
}

/* ---------------------------------------------------------------- state */

static void free_entries(fv_node *n)
{
    for (fv_entry *e = n->head, *next; e; e = next) {
        next = e->next;
        free(e->old);
        free(e->data);
        free(e);
    }
    n->head = n->tail = NULL;
}

static fv_node *node_find(const char *path, bool create)
{
    for (fv_node *n = fv.nodes; n; n = n->next)
        if (strcmp(n->path, path) == 0)
            return n;
    if (!create)
        return NULL;
    fv_node *n = calloc(1, sizeof *n);
    if (!n || !(n->path = strdup(path))) {
        free(n);
        return NULL;
    }
    n->synced_size = -1; /* not known until opened */
    n->next = fv.nodes;
    fv.nodes = n;
    return n;
}

/* Counts one tracked operation; the armed cut falls just before the op that reaches it. */
static void tick(void)
{
    fv.ops++;
    if (fv.cut_at && fv.ops >= fv.cut_at && !fv.cut)
        fv.cut = true;
}

static int64_t file_size(sqlite3_file *f)
{
    sqlite3_int64 sz = 0;
    return f->pMethods->xFileSize(f, &sz) == SQLITE_OK ? (int64_t)sz : -1;
}

/* The bytes of [off, off+len) as the file holds them now (zeros past its end). */
static unsigned char *read_old(sqlite3_file *f, int64_t off, int64_t len, int64_t *got)
{
    int64_t size = file_size(f);
    *got = size > off ? (size - off < len ? size - off : len) : 0;
    unsigned char *b = calloc(1, (size_t)(*got ? *got : 1));
    if (b && *got && f->pMethods->xRead(f, b, (int)*got, off) != SQLITE_OK) {
        free(b);
        return NULL;
    }
    return b;
}

static int add_entry(fv_node *n, fv_entry *e)
{
    e->after_cut = fv.cut;
    if (n->tail)
        n->tail->next = e;
    else
        n->head = e;
    n->tail = e;
    return SQLITE_OK;
}

/* ---------------------------------------------------------------- file methods */

static int fv_close(sqlite3_file *f)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xClose(p->real);
}

static int fv_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
    fv_file *p = (fv_file *)f;
    if (p->node) {
        pthread_mutex_lock(&fv.mu);
        int rc = fv.fail_reads;
        if (rc)
            fv.reads_refused++;
        pthread_mutex_unlock(&fv.mu);
        if (rc)
            return rc;
    }
    return p->real->pMethods->xRead(p->real, buf, amt, off);
}

static int fv_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
    fv_file *p = (fv_file *)f;
    pthread_mutex_lock(&fv.mu);
    if (fv.fail_writes) {
        int rc = fv.fail_writes;
        fv.refused++;
        pthread_mutex_unlock(&fv.mu);
        return rc;
    }
    if (p->node) {
        tick();
        fv_entry *e = calloc(1, sizeof *e);
        if (!e || !(e->old = read_old(p->real, off, amt, &e->old_len)) ||
            !(e->data = malloc((size_t)amt))) {
            if (e)
                free(e->old);
            free(e);
            pthread_mutex_unlock(&fv.mu);
            return SQLITE_IOERR_NOMEM;
        }
        memcpy(e->data, buf, (size_t)amt);
        e->off = off;
        e->len = amt;
        add_entry(p->node, e);
    }
    int rc = p->real->pMethods->xWrite(p->real, buf, amt, off);
    pthread_mutex_unlock(&fv.mu);
    return rc;
}

static int fv_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    fv_file *p = (fv_file *)f;
    pthread_mutex_lock(&fv.mu);
    if (fv.fail_writes) {
        int rc = fv.fail_writes;
        fv.refused++;
        pthread_mutex_unlock(&fv.mu);
        return rc;
    }
    if (p->node) {
        tick();
        int64_t cur = file_size(p->real);
        fv_entry *e = calloc(1, sizeof *e);
        if (!e || cur < 0 ||
            !(e->old = read_old(p->real, size, cur > size ? cur - size : 0, &e->old_len))) {
            free(e);
            pthread_mutex_unlock(&fv.mu);
            return SQLITE_IOERR_NOMEM;
        }
        e->off = size;
        e->truncation = true;
        add_entry(p->node, e);
    }
    int rc = p->real->pMethods->xTruncate(p->real, size);
    pthread_mutex_unlock(&fv.mu);
    return rc;
}

static int fv_sync(sqlite3_file *f, int flags)
{
    fv_file *p = (fv_file *)f;
    int rc = SQLITE_OK;
    gate_pass();
    pthread_mutex_lock(&fv.mu);
    if (fv.fail_syncs) {
        pthread_mutex_unlock(&fv.mu);
        return SQLITE_IOERR_FSYNC;
    }
    if (p->node)
        tick();
    if (!fv.cut) {
        if (!fv.skip_disk_sync)
            rc = p->real->pMethods->xSync(p->real, flags);
        if (rc == SQLITE_OK && p->node) {
            free_entries(p->node);
            p->node->synced_size = file_size(p->real);
        }
    }
    pthread_mutex_unlock(&fv.mu);
    return rc;
}

static int fv_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xFileSize(p->real, size);
}

static int fv_lock(sqlite3_file *f, int level)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xLock(p->real, level);
}

static int fv_unlock(sqlite3_file *f, int level)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xUnlock(p->real, level);
}

static int fv_check_reserved(sqlite3_file *f, int *out)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xCheckReservedLock(p->real, out);
}

static int fv_file_control(sqlite3_file *f, int op, void *arg)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xFileControl(p->real, op, arg);
}

static int fv_sector_size(sqlite3_file *f)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xSectorSize(p->real);
}

static int fv_device(sqlite3_file *f)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xDeviceCharacteristics(p->real);
}

static int fv_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xShmMap(p->real, pg, pgsz, extend, pp);
}

static int fv_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xShmLock(p->real, offset, n, flags);
}

static void fv_shm_barrier(sqlite3_file *f)
{
    fv_file *p = (fv_file *)f;
    p->real->pMethods->xShmBarrier(p->real);
}

static int fv_shm_unmap(sqlite3_file *f, int delete_flag)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xShmUnmap(p->real, delete_flag);
}

/* Version 2: shared memory for WAL, but no memory-mapped reads (xFetch), so
 * every byte read or written goes through the methods above. */
static const sqlite3_io_methods fv_methods = {
    .iVersion = 2,
    .xClose = fv_close,
    .xRead = fv_read,
    .xWrite = fv_write,
    .xTruncate = fv_truncate,
    .xSync = fv_sync,
    .xFileSize = fv_file_size,
    .xLock = fv_lock,
    .xUnlock = fv_unlock,
    .xCheckReservedLock = fv_check_reserved,
    .xFileControl = fv_file_control,
    .xSectorSize = fv_sector_size,
    .xDeviceCharacteristics = fv_device,
    .xShmMap = fv_shm_map,
    .xShmLock = fv_shm_lock,
    .xShmBarrier = fv_shm_barrier,
    .xShmUnmap = fv_shm_unmap,
};

/* ---------------------------------------------------------------- VFS methods */

static int fv_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                   int *out_flags)
{
    (void)vfs;
    fv_file *p = (fv_file *)f;
    p->base.pMethods = NULL;
    p->node = NULL;
    p->real = (sqlite3_file *)(p + 1);
    int rc = fv.real->xOpen(fv.real, name, p->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        if (p->real->pMethods)
            p->real->pMethods->xClose(p->real);
        return rc;
    }
    if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL))) {
        pthread_mutex_lock(&fv.mu);
        fv_node *n = node_find(name, true);
        if (n && (n->deleted || n->synced_size < 0)) {
            /* first seen (or created again): what is there now counts as durable */
            n->deleted = false;
            n->synced_size = file_size(p->real);
        }
        p->node = n;
        pthread_mutex_unlock(&fv.mu);
        if (!n) {
            p->real->pMethods->xClose(p->real);
            return SQLITE_NOMEM;
        }
    }
    p->base.pMethods = &fv_methods;
    return SQLITE_OK;
}

static int fv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    pthread_mutex_lock(&fv.mu);
    fv_node *n = node_find(name, false);
    if (n)
        tick();
    if (n && fv.cut) { /* the power is off: the file stays as the disk has it */
        pthread_mutex_unlock(&fv.mu);
        return SQLITE_OK;
    }
    int rc = fv.real->xDelete(fv.real, name, sync_dir);
    if (n && rc == SQLITE_OK) {
        free_entries(n);
        n->synced_size = 0;
        n->deleted = true;
    }
    pthread_mutex_unlock(&fv.mu);
    return rc;
}

static int fv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return fv.real->xAccess(fv.real, name, flags, out);
}

static int fv_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return fv.real->xFullPathname(fv.real, name, n, out);
}

static void *fv_dlopen(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return fv.real->xDlOpen(fv.real, name);
}

static void fv_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
    (void)vfs;
    fv.real->xDlError(fv.real, n, msg);
}

static void (*fv_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    (void)vfs;
    return fv.real->xDlSym(fv.real, h, sym);
}

static void fv_dlclose(sqlite3_vfs *vfs, void *h)
{
    (void)vfs;
    fv.real->xDlClose(fv.real, h);
}

static int fv_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return fv.real->xRandomness(fv.real, n, out);
}

static int fv_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return fv.real->xSleep(fv.real, us);
}

static int fv_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return fv.real->xCurrentTime(fv.real, out);
}

static int fv_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return fv.real->xGetLastError ? fv.real->xGetLastError(fv.real, n, out) : 0;
}

static int fv_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return fv.real->xCurrentTimeInt64(fv.real, out);
}

int pb_faultvfs_register(const char *name)
{
    pthread_mutex_lock(&fv.mu);
    if (fv.registered) {
        int same = strcmp(fv.name, name) == 0;
        pthread_mutex_unlock(&fv.mu);
        return same ? SQLITE_OK : SQLITE_MISUSE;
    }
    pb_sq_pcache_install(); /* before SQLite initialises, as the store does */
    int rc = sqlite3_initialize();
    if (rc == SQLITE_OK && !(fv.real = sqlite3_vfs_find(NULL)))
        rc = SQLITE_ERROR;
    if (rc == SQLITE_OK && (strlen(name) >= sizeof fv.name || fv.real->iVersion < 2))
        rc = SQLITE_MISUSE;
    if (rc != SQLITE_OK) {
        pthread_mutex_unlock(&fv.mu);
        return rc;
    }
    strcpy(fv.name, name);
    fv.vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(fv_file) + fv.real->szOsFile,
        .mxPathname = fv.real->mxPathname,
        .zName = fv.name,
        .xOpen = fv_open,
        .xDelete = fv_delete,
        .xAccess = fv_access,
        .xFullPathname = fv_full_pathname,
        .xDlOpen = fv_dlopen,
        .xDlError = fv_dlerror,
        .xDlSym = fv_dlsym,
        .xDlClose = fv_dlclose,
        .xRandomness = fv_randomness,
        .xSleep = fv_sleep,
        .xCurrentTime = fv_current_time,
        .xGetLastError = fv_last_error,
        .xCurrentTimeInt64 = fv_current_time64,
    };
    rc = sqlite3_vfs_register(&fv.vfs, 0);
    fv.registered = rc == SQLITE_OK;
    pthread_mutex_unlock(&fv.mu);
    return rc;
}

/* ---------------------------------------------------------------- control */

void pb_faultvfs_set_skip_disk_sync(bool skip)
{
    pthread_mutex_lock(&fv.mu);
    fv.skip_disk_sync = skip;
    pthread_mutex_unlock(&fv.mu);
}

void pb_faultvfs_arm_cut(uint64_t n)
{
    pthread_mutex_lock(&fv.mu);
    fv.cut_at = n ? fv.ops + n : 0;
    pthread_mutex_unlock(&fv.mu);
}

void pb_faultvfs_cut_now(void)
{
    pthread_mutex_lock(&fv.mu);
    fv.cut = true;
    pthread_mutex_unlock(&fv.mu);
}

bool pb_faultvfs_cut_happened(void)
{
    pthread_mutex_lock(&fv.mu);
    bool c = fv.cut;
    pthread_mutex_unlock(&fv.mu);
    return c;
}

uint64_t pb_faultvfs_ops(void)
{
    pthread_mutex_lock(&fv.mu);
    uint64_t n = fv.ops;
    pthread_mutex_unlock(&fv.mu);
    return n;
}

uint64_t pb_faultvfs_fail_writes(int rc)
{
    pthread_mutex_lock(&fv.mu);
    fv.fail_writes = rc;
    uint64_t n = fv.refused;
    pthread_mutex_unlock(&fv.mu);
    return n;
}

uint64_t pb_faultvfs_fail_reads(int rc)
{
    pthread_mutex_lock(&fv.mu);
    fv.fail_reads = rc;
    uint64_t n = fv.reads_refused;
    pthread_mutex_unlock(&fv.mu);
    return n;
}

void pb_faultvfs_fail_syncs(bool on)
{
    pthread_mutex_lock(&fv.mu);
    fv.fail_syncs = on;
    pthread_mutex_unlock(&fv.mu);
}

static void reset_locked(void)
{
    for (fv_node *n = fv.nodes, *next; n; n = next) {
        next = n->next;
        free_entries(n);
        free(n->path);
        free(n);
    }
    fv.nodes = NULL;
    fv.ops = fv.cut_at = fv.refused = fv.reads_refused = 0;
    fv.cut = fv.fail_syncs = false;
    fv.fail_writes = fv.fail_reads = 0;
}

void pb_faultvfs_reset(void)
{
    pb_faultvfs_hold_syncs(false);
    pthread_mutex_lock(&fv.mu);
    reset_locked();
    pthread_mutex_unlock(&fv.mu);
}

static uint64_t next_rand(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int put(int fd, const unsigned char *b, int64_t len, int64_t off)
{
    while (len > 0) {
        ssize_t w = pwrite(fd, b, (size_t)len, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        len -= w;
        off += w;
    }
    return 0;
}

/* Puts one file back to its synced content plus what the mode keeps. */
static long restore_node(fv_node *n, pb_faultvfs_mode mode, uint64_t *rng)
{
    int fd = open(n->path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    size_t count = 0;
    for (fv_entry *e = n->head; e; e = e->next)
        count++;
    fv_entry **v = calloc(count ? count : 1, sizeof *v);
    if (!v) {
        close(fd);
        return -1;
    }
    count = 0;
    fv_entry *last = NULL; /* the last write made before the cut */
    for (fv_entry *e = n->head; e; e = e->next) {
        v[count++] = e;
        if (!e->after_cut && !e->truncation)
            last = e;
    }
    long dropped = 0;
    int bad = 0;
    for (size_t i = count; i-- > 0 && !bad;) /* undo, newest first */
        bad = put(fd, v[i]->old, v[i]->old_len, v[i]->off);
    if (!bad && ftruncate(fd, (off_t)n->synced_size) != 0)
        bad = 1;
    for (size_t i = 0; i < count && !bad; i++) { /* redo what the disk kept */
        fv_entry *e = v[i];
        bool keep = !e->after_cut &&
                    (mode == PB_FAULTVFS_RANDOM ? (next_rand(rng) & 1) != 0
                                                : mode == PB_FAULTVFS_TEAR_LAST && e == last);
        if (!keep) {
            dropped += !e->truncation;
            continue;
        }
        if (e->truncation) {
            bad = ftruncate(fd, (off_t)e->off) != 0;
            continue;
        }
        int64_t len = e->len;
        if (e == last && len > 0) {
            len = (int64_t)(next_rand(rng) % (uint64_t)len); /* torn: a prefix */
            dropped++;
        }
        bad = put(fd, e->data, len, e->off);
    }
    free(v);
    if (close(fd) != 0)
        bad = 1;
    return bad ? -1 : dropped;
}

long pb_faultvfs_power_loss(pb_faultvfs_mode mode, uint64_t seed)
{
    pthread_mutex_lock(&fv.mu);
    uint64_t rng = seed;
    long dropped = 0;
    for (fv_node *n = fv.nodes; n && dropped >= 0; n = n->next) {
        if (n->deleted)
            continue;
        long d = restore_node(n, mode, &rng);
        dropped = d < 0 ? -1 : dropped + d;
        size_t len = strlen(n->path);
        char *shm = malloc(len + 5);
        if (shm) {
            memcpy(shm, n->path, len);
            memcpy(shm + len, "-shm", 5);
            unlink(shm);
            free(shm);
        }
    }
    int saved = errno;
    reset_locked();
    pthread_mutex_unlock(&fv.mu);
    errno = saved;
    return dropped;
}
