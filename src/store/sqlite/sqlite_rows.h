/*
 * sqlite_rows.h — small column/bind helpers shared by the SQLite backend's
 * domain files (private to src/store/sqlite/).
 */
#ifndef PB_STORE_SQLITE_ROWS_H
#define PB_STORE_SQLITE_ROWS_H

#include <string.h>

#include "store/sqlite/sqlite_internal.h"

/* Copies a text column into a fixed buffer of cap bytes (truncating, always NUL-terminated). */
static inline void sqr_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    size_t n = s ? (size_t)sqlite3_column_bytes(st, col) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, s, n);
    dst[n] = 0;
}

/* Copies a blob column into dst (at most cap bytes); returns the length copied. */
static inline size_t sqr_blob(uint8_t *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const void *b = sqlite3_column_blob(st, col);
    size_t n = b ? (size_t)sqlite3_column_bytes(st, col) : 0;
    if (n > cap)
        n = cap;
    if (n)
        memcpy(dst, b, n);
    return n;
}

/* Binds a NUL-terminated string the caller keeps alive until the statement is reset. */
static inline void sqr_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

/* Binds s, or NULL when s is NULL or empty (for optional filters). */
static inline void sqr_bind_opt_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Ends a statement's use: resets it and drops its bindings (no pointer outlives the call). */
static inline void sqr_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Steps a single-row lookup: OK after read(st, out), NOT_FOUND, or the mapped error. */
#define SQR_LOOKUP(c, st, read, out)         \
    do {                                     \
        int rc_ = sqlite3_step(st);          \
        pb_store_rc r_ = PB_STORE_NOT_FOUND; \
        if (rc_ == SQLITE_ROW) {             \
            read(st, out);                   \
            r_ = PB_STORE_OK;                \
        } else if (rc_ != SQLITE_DONE) {     \
            r_ = sq_result(c, rc_);          \
        }                                    \
        sqr_done(st);                        \
        return r_;                           \
    } while (0)

/* The one row sql finds by its text keys, ?1 a and ?2 b (bound only when sql
 * has a ?2), read into out: OK, NOT_FOUND, or the mapped error. */
static inline pb_store_rc sqr_lookup_text(sq_conn *c, const char *sql, const char *a, const char *b,
                                          void (*read)(sqlite3_stmt *, void *), void *out)
{
    sqlite3_stmt *st = sq_stmt_sql(c, sql);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, a);
    if (sqlite3_bind_parameter_count(st) >= 2)
        sqr_bind_text(st, 2, b);
    SQR_LOOKUP(c, st, read, out);
}

/* Steps a statement that returns no rows and drops its bindings. */
static inline pb_store_rc sqr_exec(sq_conn *c, sqlite3_stmt *st)
{
    pb_store_rc r = sq_exec_stmt(c, st);
    sqlite3_clear_bindings(st);
    return r;
}

/* Like sqr_exec, but NOT_FOUND when the statement changed no row. */
static inline pb_store_rc sqr_exec_changed(sq_conn *c, sqlite3_stmt *st)
{
    pb_store_rc r = sqr_exec(c, st);
    if (r == PB_STORE_OK && sqlite3_changes(c->db) == 0)
        return PB_STORE_NOT_FOUND;
    return r;
}

/* Like sqr_exec; *n (may be NULL) receives how many rows it changed (0 on error). */
static inline pb_store_rc sqr_exec_count(sq_conn *c, sqlite3_stmt *st, int64_t *n)
{
    pb_store_rc r = sqr_exec(c, st);
    if (n)
        *n = r == PB_STORE_OK ? sqlite3_changes64(c->db) : 0;
    return r;
}

/* Steps a statement into up to cap rows of `size` bytes each, read by `read`; *n
 * receives the count. */
static inline pb_store_rc sqr_collect(sq_conn *c, sqlite3_stmt *st, void *out, size_t size,
                                      size_t cap, size_t *n, void (*read)(sqlite3_stmt *, void *))
{
    int rc = SQLITE_DONE;
    *n = 0;
    while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read(st, (char *)out + *n * size);
        (*n)++;
    }
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    return r;
}

/* Opens a savepoint so that a multi-statement operation is all or nothing, inside
 * or outside the caller's transaction. Pair with sqr_release(). */
static inline pb_store_rc sqr_savepoint(sq_conn *c)
{
    static const char SQL[] = "SAVEPOINT pb_op";
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    return st ? sq_exec_stmt(c, st) : PB_STORE_ERROR;
}

/* Ends the savepoint: keeps its work when r is OK, undoes it otherwise. Returns r
 * (or the release's own failure). */
static inline pb_store_rc sqr_release(sq_conn *c, pb_store_rc r)
{
    static const char UNDO[] = "ROLLBACK TO pb_op";
    static const char RELEASE[] = "RELEASE pb_op";
    if (r != PB_STORE_OK) {
        sqlite3_stmt *undo = sq_stmt_sql(c, UNDO);
        if (undo) {
            sqlite3_step(undo); /* fails only if SQLite already rolled everything back */
            sqlite3_reset(undo);
        }
    }
    sqlite3_stmt *rel = sq_stmt_sql(c, RELEASE);
    if (!rel)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(rel);
    sqlite3_reset(rel);
    if (r == PB_STORE_OK && rc != SQLITE_DONE)
        return sq_result(c, rc);
    return r;
}

#endif
