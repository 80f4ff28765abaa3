/*
 * sqlite_backup.c — the SQLite backend's online backup (pb_store_backup) and
 * restore (pb_store_restore).
 *
 * Both make the new file the same way (copy_db): SQLite's online backup API
 * copies every page of the source under one read transaction into a file
 * created beside the destination under a temporary name. In WAL mode that read
 * transaction blocks no writer (they append to the WAL meanwhile) and the copy
 * is the database as of its start. The copy goes through the default VFS
 * (never the store's test VFS or WAL buffer). Once checked (PRAGMA
 * integrity_check) and accepted (the caller's ledger verify), it is switched
 * to a rollback journal (journal_mode=DELETE, which also folds in and removes
 * any WAL that opening it as a store made), so it is one file with nothing
 * beside it; a server started on it switches it back to WAL. SQLite commits
 * with a sync (synchronous=FULL, its default), and the file is synced again
 * before it takes its final name; the directory is synced after.
 *
 * A backup is linked to its name (link(2) never replaces a file; where the file
 * system has no hard links, a rename that refuses to replace one). A restore
 * renames the copy over the database (rename(2) is atomic: a crash leaves the
 * old file or the new one), after keeping the old one under a second name,
 * and removes the old database's -wal and -shm: a WAL left beside the restored
 * file would be replayed onto it, since SQLite matches a WAL to its header's
 * salts, not to the database it sits beside.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlite/sqlite_internal.h"

#define PATH_CAP 4096

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* fsync(2) of a file or directory by name; 0 or an errno. */
static int sync_path(const char *path, bool dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int e = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return e;
}

/* The directory part of path ("." when it has none). */
static void dir_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/* Removes a database file and whatever SQLite keeps beside it. */
static void remove_db_files(const char *path)
{
    static const char *const suffix[] = {"", "-journal", "-wal", "-shm"};
    char p[PATH_CAP + 16];
    for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
}

/*
 * Gives the file at from the new name to, which must not exist: link(2), which
 * never replaces a file (from keeps its name too); where the file system has no
 * hard links, renameat2(2) with RENAME_NOREPLACE (from loses its name). 0, or
 * an errno (EEXIST: to exists). *moved says whether from lost its name.
 */
static int place_new(const char *from, const char *to, bool *moved)
{
    *moved = false;
    if (link(from, to) == 0)
        return 0;
    int e = errno;
    if (e != EPERM && e != ENOTSUP && e != EOPNOTSUPP && e != ENOSYS && e != EMLINK)
        return e;
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
        *moved = true;
        return 0;
    }
    return errno == EINVAL || errno == ENOSYS ? e : errno;
}

static int exec1(sqlite3 *db, const char *sql, char *err, size_t cap)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        snprintf(err, cap, "%s: %s", sql, sqlite3_errmsg(db));
    return rc;
}

/* The copy's own integrity check: SQLITE_OK when it answers the single row "ok". */
static int check_copy(sqlite3 *db, char *err, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check(20)", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, cap, "integrity check: %s", sqlite3_errmsg(db));
        return rc;
    }
    size_t used = 0;
    bool ok = false;
    int rows = 0;
    err[0] = '\0';
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        ok = rows++ == 0 && line && strcmp(line, "ok") == 0;
        if (!ok && used < cap)
            used += (size_t)snprintf(err + used, cap - used, "%s%s", used ? "; " : "",
                                     line ? line : "?");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, cap, "integrity check: %s", sqlite3_errmsg(db));
        return rc;
    }
    if (!ok) {
        if (!err[0])
            snprintf(err, cap, "integrity check found problems");
        return SQLITE_CORRUPT;
    }
    return SQLITE_OK;
}

/* Copies src (its "main" database) into a new file at tmp, checks it, lets
 * accept see it, makes it one file and syncs it (see the top). On failure
 * nothing is left at tmp. */
static pb_store_rc copy_db(sqlite3 *src, const char *tmp, bool check,
                           pb_store_backup_accept_fn accept, void *ctx, pb_store_backup_info *info,
                           char *err, size_t cap)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, cap, "cannot create %.160s: %s", tmp, strerror(errno));
        return PB_STORE_ERROR;
    }
    close(fd);
    pb_store_rc r = PB_STORE_ERROR;
    sqlite3 *dst = NULL;
    sqlite3_backup *b = NULL;
    int rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        snprintf(err, cap, "cannot start the copy: %s",
                 dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
        goto out;
    }
    int64_t t0 = mono_us();
    /* a reader is refused only while the WAL is being recovered or started
     * over: retry for up to ~5 s */
    for (int tries = 0;; tries++) {
        rc = sqlite3_backup_step(b, -1);
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries == 500)
            break;
        sqlite3_sleep(10);
    }
    int64_t pages = sqlite3_backup_pagecount(b);
    int frc = sqlite3_backup_finish(b);
    info->copy_us = mono_us() - t0;
    info->pages = pages;
    if (rc != SQLITE_DONE || frc != SQLITE_OK) {
        snprintf(err, cap, "the copy failed: %s", sqlite3_errstr(rc != SQLITE_DONE ? rc : frc));
        goto out;
    }
    if (check) {
        int64_t t1 = mono_us();
        rc = check_copy(dst, err, cap);
        info->check_us = mono_us() - t1;
        if (rc != SQLITE_OK)
            goto out;
    }
    if (accept) {
        sqlite3_close(dst);
        dst = NULL;
        if (!accept(ctx, tmp)) {
            snprintf(err, cap, "the copy was not accepted by its verification");
            goto out;
        }
        if ((rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL)) != SQLITE_OK) {
            snprintf(err, cap, "reopening the copy: %s",
                     dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
            goto out;
        }
    }
    if (exec1(dst, "PRAGMA journal_mode=DELETE", err, cap) != SQLITE_OK)
        goto out;
    rc = sqlite3_close(dst);
    dst = NULL;
    int e;
    struct stat sb;
    if (rc != SQLITE_OK) {
        snprintf(err, cap, "closing the copy: %s", sqlite3_errstr(rc));
    } else if ((e = sync_path(tmp, false)) != 0) {
        snprintf(err, cap, "syncing %.160s: %s", tmp, strerror(e));
    } else {
        if (stat(tmp, &sb) == 0)
            info->bytes = (int64_t)sb.st_size;
        r = PB_STORE_OK;
    }
out:
    if (dst)
        sqlite3_close(dst);
    if (r != PB_STORE_OK)
        remove_db_files(tmp);
    return r;
}

pb_store_rc sq_backup(pb_store_conn *base, const char *path, bool check,
                      pb_store_backup_accept_fn accept, void *ctx, pb_store_backup_info *info)
{
    sq_conn *c = (sq_conn *)base;
    struct stat sb;
    if (!path || !*path || strlen(path) > PATH_CAP - 64) {
        snprintf(c->err, sizeof c->err, "backup: no usable target path");
        return PB_STORE_ERROR;
    }
    if (lstat(path, &sb) == 0) {
        snprintf(c->err, sizeof c->err, "backup: %.160s already exists (nothing is overwritten)",
                 path);
        return PB_STORE_CONFLICT;
    }
    if (errno != ENOENT) {
        snprintf(c->err, sizeof c->err, "backup: %.160s: %s", path, strerror(errno));
        return PB_STORE_ERROR;
    }
    char tmp[PATH_CAP], dir[PATH_CAP], err[sizeof c->err - 16];
    snprintf(tmp, sizeof tmp, "%s.partial-%ld", path, (long)getpid());
    dir_of(path, dir, sizeof dir);
    pb_store_rc r = copy_db(c->db, tmp, check, accept, ctx, info, err, sizeof err);
    int e;
    bool moved;
    if (r != PB_STORE_OK) {
        /* err says why */
    } else if ((e = place_new(tmp, path, &moved)) != 0) { /* never over a file made meanwhile */
        snprintf(err, sizeof err, "%.160s: %s", path, strerror(e));
        r = e == EEXIST ? PB_STORE_CONFLICT : PB_STORE_ERROR;
    } else if ((e = sync_path(dir, true)) != 0) { /* the new name, durably */
        snprintf(err, sizeof err, "syncing the directory %.160s: %s", dir, strerror(e));
        unlink(path);
        r = PB_STORE_ERROR;
    }
    unlink(tmp);
    if (r != PB_STORE_OK)
        snprintf(c->err, sizeof c->err, "backup: %s", err);
    return r;
}

/* The schema version of a database opened by hand: 0 when it has none. */
static int schema_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = 0;
    if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_migrations", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/*
 * The database at target, which exists, taken out of use: opened by hand and
 * switched out of WAL mode, which SQLite allows only to the one connection of
 * any process that has the file open (it needs the exclusive lock, and folds
 * the WAL into the file). A running server keeps its connections open, so it
 * is refused: "in use". On success *held is that connection, holding the
 * database's exclusive lock (BEGIN EXCLUSIVE, rollback mode) until release():
 * the restore keeps it until the new database has its name, so that a server or
 * tool starting meanwhile can neither read the old file nor turn it back to WAL
 * (it waits on the lock, then fails: the file it opened has been renamed, and
 * SQLite refuses to write to a moved database). Before the lock was kept, one
 * starting between the check and the rename could run on the replaced file
 * with its -wal beside the restored one.
 */
static int take_out_of_use(const char *target, sqlite3 **held, char *err, size_t cap)
{
    sqlite3 *db = NULL;
    *held = NULL;
    int rc = sqlite3_open_v2(target, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, cap, "cannot open %.160s: %s", target,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return rc;
    }
    sqlite3_stmt *st = NULL;
    const char *mode = NULL;
    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=DELETE", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        mode = (const char *)sqlite3_column_text(st, 0);
    /* why it is in use, copied at once: an error message lasts until the next call */
    char why[200] = "";
    if (!mode || strcmp(mode, "delete") != 0)
        snprintf(why, sizeof why, "%s",
                 rc == SQLITE_ROW ? "it stayed in WAL mode" : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (!why[0] && sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK)
        snprintf(why, sizeof why, "%s", sqlite3_errmsg(db));
    if (why[0]) {
        snprintf(err, cap,
                 "%.160s is in use (%.200s): stop the server, or whatever has it open, "
                 "first",
                 target, why);
        sqlite3_close(db);
        return SQLITE_BUSY;
    }
    *held = db;
    return SQLITE_OK;
}

/* Lets go of what take_out_of_use() holds (nothing was written under it). */
static void release(sqlite3 *held)
{
    if (!held)
        return;
    sqlite3_exec(held, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(held);
}

pb_store_rc sq_restore(const char *target, const char *from, bool replace,
                       pb_store_backup_accept_fn accept, void *ctx, pb_store_backup_info *info,
                       char *err, size_t errcap)
{
    struct stat sb;
    if (!target || !*target || strlen(target) > PATH_CAP - 64 || !from || !*from) {
        snprintf(err, errcap, "restore: no usable path");
        return PB_STORE_ERROR;
    }
    bool exists = lstat(target, &sb) == 0;
    if (!exists && errno != ENOENT) {
        snprintf(err, errcap, "restore: %.160s: %s", target, strerror(errno));
        return PB_STORE_ERROR;
    }
    if (exists && !replace) {
        snprintf(err, errcap, "restore: %.160s already exists (replace it explicitly)", target);
        return PB_STORE_CONFLICT;
    }
    if (stat(from, &sb) != 0) {
        snprintf(err, errcap, "restore: %.160s: %s", from, strerror(errno));
        return PB_STORE_ERROR;
    }
    char msg[480];
    msg[0] = '\0';
    /* the backup is only read: never converted to WAL, never given a -wal */
    sqlite3 *src = NULL;
    int rc = sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK || schema_version(src) <= 0) {
        snprintf(err, errcap, "restore: %.160s is not a pitboss database (%s)", from,
                 rc != SQLITE_OK ? sqlite3_errstr(rc) : "no schema");
        sqlite3_close(src);
        return PB_STORE_ERROR;
    }
    sqlite3 *held = NULL; /* the old database's exclusive lock, until the new one is in place */
    if (exists && take_out_of_use(target, &held, msg, sizeof msg) != SQLITE_OK) {
        sqlite3_close(src);
        snprintf(err, errcap, "restore: %s", msg);
        return PB_STORE_BUSY;
    }
    char tmp[PATH_CAP], dir[PATH_CAP], side[PATH_CAP + 16];
    snprintf(tmp, sizeof tmp, "%s.restore-%ld", target, (long)getpid());
    dir_of(target, dir, sizeof dir);
    pb_store_rc r = copy_db(src, tmp, true, accept, ctx, info, msg, sizeof msg);
    sqlite3_close(src);
    if (r != PB_STORE_OK) {
        release(held);
        snprintf(err, errcap, "restore: %s", msg);
        return r;
    }
    int e = 0;
    bool moved = false;
    info->previous[0] = '\0';
    if (exists) { /* the old database kept under a second name: a restore can be undone */
        snprintf(info->previous, sizeof info->previous, "%.*s.replaced-%lld",
                 (int)(sizeof info->previous - 32), target, (long long)time(NULL));
        e = place_new(target, info->previous, &moved);
    }
    if (e) {
        snprintf(err, errcap, "restore: keeping the old database as %.160s: %s", info->previous,
                 strerror(e));
        info->previous[0] = '\0';
        remove_db_files(tmp);
        release(held);
        return PB_STORE_ERROR;
    }
    if (rename(tmp, target) != 0) {
        e = errno;
        snprintf(err, errcap, "restore: %.160s: %s", target, strerror(e));
        remove_db_files(tmp);
        if (moved) /* the old database back under its name */
            rename(info->previous, target);
        else if (exists)
            unlink(info->previous);
        info->previous[0] = '\0';
        release(held);
        return PB_STORE_ERROR;
    }
    /* nothing of the old database may stay beside the new one (see the top) */
    static const char *const stale[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof stale / sizeof *stale; i++) {
        snprintf(side, sizeof side, "%s%s", target, stale[i]);
        unlink(side);
    }
    release(held);
    if ((e = sync_path(dir, true)) != 0) {
        snprintf(err, errcap, "restore: syncing the directory %.160s: %s", dir, strerror(e));
        return PB_STORE_ERROR;
    }
    return PB_STORE_OK;
}
