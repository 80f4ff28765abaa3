/*
 * sqlite_audit.c — the audit log's statements on SQLite.
 *
 * One function per statement. Fixed statements are cached (sq_stmt_sql); the
 * query, whose WHERE clause depends on which filters are set, and the scans,
 * which run rarely, are prepared per call. Reads are faithful to what is
 * stored: a value pitboss never writes (oversize or NUL-holding text, a blob of
 * the wrong length, a non-integer time) is flagged `malformed` rather than
 * silently trimmed, so the verifier can report a row changed that way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

#define SQ(c) ((sq_conn *)(c))

#define ENTRY_COLS                                                                       \
    "seq,id,at,actor_kind,actor_id,actor_email,role,brand,action,target_kind,target_id," \
    "before,after,reason,trace_id,ip,hash"

#define CHECKPOINT_COLS "id,upto_seq,head_hash,at,key_id,public_key,signature"

/* Copies a text column into dst (cap bytes with the NUL); false when it does not fit
 * or holds a NUL byte. A NULL column reads as "". */
static bool read_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    size_t n = s ? (size_t)sqlite3_column_bytes(st, col) : 0;
    bool ok = true;
    if (n >= cap) {
        n = cap - 1;
        ok = false;
    }
    memcpy(dst, s ? (const char *)s : "", n);
    dst[n] = 0;
    return ok && strlen(dst) == n;
}

/* Copies a blob column of exactly len bytes; false (dst zeroed or partial) otherwise. */
static bool read_blob(uint8_t *dst, size_t len, sqlite3_stmt *st, int col)
{
    bool is_blob = sqlite3_column_type(st, col) == SQLITE_BLOB;
    const void *b = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    memset(dst, 0, len);
    if (b)
        memcpy(dst, b, n < len ? n : len);
    return is_blob && n == len;
}

/* An integer column; false when it holds another type. */
static bool read_int(int64_t *dst, sqlite3_stmt *st, int col)
{
    bool is_int = sqlite3_column_type(st, col) == SQLITE_INTEGER; /* before any conversion */
    *dst = sqlite3_column_int64(st, col);
    return is_int;
}

/* A nullable JSON text column: NULL, or a pointer into the statement (valid until
 * its next step); false when it holds a NUL byte or exceeds the JSON limit. */
static bool read_json(const char **dst, sqlite3_stmt *st, int col)
{
    *dst = NULL;
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return true;
    const char *s = (const char *)sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    *dst = s ? s : "";
    return s && n <= PB_AUDIT_JSON_MAX && strlen(s) == n;
}

/* Reads the row at the statement's cursor (columns in ENTRY_COLS order). */
static void read_entry(sqlite3_stmt *st, pb_store_audit_entry *e)
{
    memset(e, 0, sizeof *e);
    bool ok = read_int(&e->seq, st, 0);
    ok &= read_blob(e->id.b, 16, st, 1);
    ok &= read_int(&e->at, st, 2);
    ok &= read_text(e->actor_kind, sizeof e->actor_kind, st, 3);
    ok &= read_text(e->actor_id, sizeof e->actor_id, st, 4);
    ok &= read_text(e->actor_email, sizeof e->actor_email, st, 5);
    ok &= read_text(e->role, sizeof e->role, st, 6);
    bool brand_null = sqlite3_column_type(st, 7) == SQLITE_NULL;
    ok &= read_text(e->brand, sizeof e->brand, st, 7);
    ok &= brand_null || e->brand[0] != 0; /* global is NULL, never '' */
    ok &= read_text(e->action, sizeof e->action, st, 8);
    ok &= read_text(e->target_kind, sizeof e->target_kind, st, 9);
    ok &= read_text(e->target_id, sizeof e->target_id, st, 10);
    ok &= read_json(&e->before, st, 11);
    ok &= read_json(&e->after, st, 12);
    ok &= read_text(e->reason, sizeof e->reason, st, 13);
    ok &= read_text(e->trace_id, sizeof e->trace_id, st, 14);
    ok &= read_text(e->ip, sizeof e->ip, st, 15);
    ok &= read_blob(e->hash, 32, st, 16);
    e->malformed = !ok;
}

/* Reads the row at the statement's cursor (columns in CHECKPOINT_COLS order). */
static void read_checkpoint(sqlite3_stmt *st, pb_store_audit_checkpoint *cp)
{
    memset(cp, 0, sizeof *cp);
    bool ok = read_int(&cp->id, st, 0);
    ok &= read_int(&cp->upto_seq, st, 1);
    ok &= read_blob(cp->head_hash, 32, st, 2);
    ok &= read_int(&cp->at, st, 3);
    ok &= read_text(cp->key_id, sizeof cp->key_id, st, 4);
    ok &= read_blob(cp->public_key, 32, st, 5);
    ok &= read_blob(cp->signature, 64, st, 6);
    cp->malformed = !ok;
}

/* Binds text, or NULL when empty (brand: global). */
static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Ends a single-row lookup: resets the statement and maps the step's result. */
static pb_store_rc finish_lookup(sq_conn *c, sqlite3_stmt *st, int rc)
{
    pb_store_rc r = rc == SQLITE_ROW    ? PB_STORE_OK
                    : rc == SQLITE_DONE ? PB_STORE_NOT_FOUND
                                        : sq_result(c, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* The newest entry's seq, date and hash. */
static pb_store_rc sq_audit_head_get(pb_store_conn *base, pb_store_audit_head *out)
{
    static const char SQL[] = "SELECT seq,at,hash FROM audit_entry ORDER BY seq DESC LIMIT 1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->seq = sqlite3_column_int64(st, 0);
        out->at = sqlite3_column_int64(st, 1);
        read_blob(out->hash, 32, st, 2);
    }
    return finish_lookup(c, st, rc);
}

/* INSERT one entry (brand "" is stored as NULL). */
static pb_store_rc sq_audit_entry_insert(pb_store_conn *base, const pb_store_audit_entry *e)
{
    static const char SQL[] = "INSERT INTO audit_entry(" ENTRY_COLS ") VALUES("
                              "?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, e->seq);
    sqlite3_bind_blob(st, 2, e->id.b, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, e->at);
    sqlite3_bind_text(st, 4, e->actor_kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, e->actor_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, e->actor_email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, e->role, -1, SQLITE_STATIC);
    bind_text_or_null(st, 8, e->brand);
    sqlite3_bind_text(st, 9, e->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, e->target_kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, e->target_id, -1, SQLITE_STATIC);
    if (e->before)
        sqlite3_bind_text(st, 12, e->before, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 12);
    if (e->after)
        sqlite3_bind_text(st, 13, e->after, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 13);
    sqlite3_bind_text(st, 14, e->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, e->trace_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 16, e->ip, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 17, e->hash, 32, SQLITE_STATIC);
    pb_store_rc r = sq_exec_stmt(c, st);
    sqlite3_clear_bindings(st); /* the borrowed texts must not outlive the call */
    return r;
}

/* Steps a one-off statement through every row, handing each to `row`; finalizes it. */
static pb_store_rc run_rows(sq_conn *c, sqlite3_stmt *st, int (*row)(sqlite3_stmt *, void *),
                            void *ctx)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (row(st, ctx))
            break;
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqlite3_finalize(st);
    return r;
}

struct entry_cb_ctx {
    pb_store_audit_entry_cb cb;
    void *ctx;
};

/* Reads an entry row and hands it to the caller's callback. */
static int entry_row(sqlite3_stmt *st, void *p)
{
    struct entry_cb_ctx *x = p;
    pb_store_audit_entry e;
    read_entry(st, &e);
    return x->cb(x->ctx, &e);
}

/* Every entry above after_seq, in seq order. */
static pb_store_rc sq_audit_entry_scan(pb_store_conn *base, int64_t after_seq,
                                       pb_store_audit_entry_cb cb, void *ctx)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT " ENTRY_COLS " FROM audit_entry WHERE seq>?1 ORDER BY seq",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_result(c, rc);
    sqlite3_bind_int64(st, 1, after_seq);
    struct entry_cb_ctx x = {cb, ctx};
    return run_rows(c, st, entry_row, &x);
}

/*
 * ---- the query
 *
 * Only the filters that are set go into the WHERE clause, and the statement is
 * shaped so that a page never sorts more than it returns: every index the
 * filters can use (actor, target, action, action domain, brand) ends in the
 * rowid, so its rows come in seq order; dates are narrowed by the caller to a
 * seq range (dates never decrease along seq) and re-checked without an index
 * (`+at`); an action prefix uses the index on the action's first segment; and a
 * scope of several brands becomes one index walk per brand, each cut at the
 * page size, merged by seq.
 */

#define DOMAIN_EXPR "substr(action,1,instr(action,'.')-1)" /* as in 0004_audit.sql */
#define QB_MAX_BINDS 1024

typedef struct qbuild {
    char sql[48 * 1024];
    size_t n;
    int nbind;
    struct {
        const char *text; /* NULL: an integer */
        int64_t i;
    } bind[QB_MAX_BINDS];
    bool overflow;
} qbuild;

/* Appends an SQL fragment. */
static void qb_sql(qbuild *q, const char *s)
{
    size_t len = strlen(s);
    if (q->n + len >= sizeof q->sql) {
        q->overflow = true;
        return;
    }
    memcpy(q->sql + q->n, s, len + 1);
    q->n += len;
}

/* Appends a fragment with one '?' and records the text value it binds. */
static void qb_text(qbuild *q, const char *s, const char *v)
{
    if (q->nbind == QB_MAX_BINDS) {
        q->overflow = true;
        return;
    }
    qb_sql(q, s);
    q->bind[q->nbind].text = v;
    q->bind[q->nbind++].i = 0;
}

/* Appends a fragment with one '?' and records the integer value it binds. */
static void qb_int(qbuild *q, const char *s, int64_t v)
{
    if (q->nbind == QB_MAX_BINDS) {
        q->overflow = true;
        return;
    }
    qb_sql(q, s);
    q->bind[q->nbind].text = NULL;
    q->bind[q->nbind++].i = v;
}

/* The action prefix's first segment and the prefix's upper bound ("player." ->
 * "player" and "player/"); false when the prefix is unusable. */
static bool prefix_bounds(const char *prefix, char *domain, char *upper, size_t cap)
{
    size_t n = strlen(prefix), dot = strcspn(prefix, ".");
    if (n == 0 || n >= cap || dot == n || (unsigned char)prefix[n - 1] == 0xff)
        return false;
    memcpy(domain, prefix, dot);
    domain[dot] = 0;
    memcpy(upper, prefix, n + 1);
    upper[n - 1] = (char)((unsigned char)upper[n - 1] + 1);
    return true;
}

/* Appends the conditions every arm of the query shares (all but the brand). */
static void qb_filters(qbuild *q, const pb_store_audit_filter *f, const char *domain,
                       const char *upper)
{
    if (f->actor_kind)
        qb_text(q, " AND actor_kind=?", f->actor_kind);
    if (f->actor_id)
        qb_text(q, " AND actor_id=?", f->actor_id);
    if (f->target_kind)
        qb_text(q, " AND target_kind=?", f->target_kind);
    if (f->target_id)
        qb_text(q, " AND target_id=?", f->target_id);
    if (f->action)
        qb_text(q, " AND action=?", f->action);
    if (domain) { /* a range, not LIKE: nothing to escape */
        qb_text(q, " AND " DOMAIN_EXPR "=?", domain);
        qb_text(q, " AND +action>=?", f->action_prefix);
        qb_text(q, " AND +action<?", upper);
    }
    if (f->from_us)
        qb_int(q, " AND +at>=?", f->from_us);
    if (f->to_us)
        qb_int(q, " AND +at<?", f->to_us);
    if (f->min_seq)
        qb_int(q, " AND seq>=?", f->min_seq);
    if (f->max_seq)
        qb_int(q, " AND seq<=?", f->max_seq);
}

/* Builds the statement for f into q. */
static void qb_query(qbuild *q, const pb_store_audit_filter *f, const char *domain,
                     const char *upper)
{
    static const char select[] = "SELECT " ENTRY_COLS " FROM audit_entry WHERE 1";
    if (!f->brand_scoped || f->nbrands == 1) {
        qb_sql(q, select);
        if (f->brand_scoped)
            qb_text(q, " AND brand=?", f->brands[0]);
        qb_filters(q, f, domain, upper);
    } else if (f->nbrands == 0) {
        qb_sql(q, select);
        qb_sql(q, " AND 0"); /* a scope of no brands sees nothing */
    } else {
        for (size_t i = 0; i < f->nbrands; i++) {
            qb_sql(q, i ? " UNION ALL SELECT * FROM (" : "SELECT * FROM (");
            qb_sql(q, select);
            qb_text(q, " AND brand=?", f->brands[i]);
            qb_filters(q, f, domain, upper);
            qb_int(q, " ORDER BY seq DESC LIMIT ?)", (int64_t)f->limit);
        }
    }
    qb_int(q, " ORDER BY seq DESC LIMIT ?", (int64_t)f->limit);
}

/* The entries matching f, newest first, at most f->limit. */
static pb_store_rc sq_audit_entry_query(pb_store_conn *base, const pb_store_audit_filter *f,
                                        pb_store_audit_entry_cb cb, void *ctx)
{
    sq_conn *c = SQ(base);
    char domain[PB_AUDIT_ACTION_MAX + 1], upper[PB_AUDIT_ACTION_MAX + 2];
    bool prefix = f->action_prefix && *f->action_prefix;
    if (prefix && !prefix_bounds(f->action_prefix, domain, upper, sizeof upper)) {
        snprintf(c->err, sizeof c->err, "unusable action prefix");
        return PB_STORE_ERROR;
    }
    qbuild *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return PB_STORE_ERROR;
    }
    qb_query(q, f, prefix ? domain : NULL, upper);
    if (q->overflow) {
        free(q);
        snprintf(c->err, sizeof c->err, "audit query has too many filters");
        return PB_STORE_ERROR;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, q->sql, -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && i < q->nbind; i++) {
        if (q->bind[i].text)
            sqlite3_bind_text(st, i + 1, q->bind[i].text, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_int64(st, i + 1, q->bind[i].i);
    }
    free(q);
    if (rc != SQLITE_OK)
        return sq_result(c, rc);
    struct entry_cb_ctx x = {cb, ctx};
    return run_rows(c, st, entry_row, &x);
}

/* The lowest seq dated at or after at_us (dates never decrease along seq). */
static pb_store_rc sq_audit_entry_seq_at(pb_store_conn *base, int64_t at_us, int64_t *seq)
{
    static const char SQL[] = "SELECT seq FROM audit_entry WHERE at>=?1 ORDER BY at,seq LIMIT 1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, at_us);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    return finish_lookup(c, st, rc);
}

/* INSERT one checkpoint. */
static pb_store_rc sq_audit_checkpoint_insert(pb_store_conn *base,
                                              const pb_store_audit_checkpoint *cp)
{
    static const char SQL[] = "INSERT INTO audit_checkpoint(" CHECKPOINT_COLS
                              ") VALUES(?1,?2,?3,?4,?5,?6,?7)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, cp->id);
    sqlite3_bind_int64(st, 2, cp->upto_seq);
    sqlite3_bind_blob(st, 3, cp->head_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, cp->at);
    sqlite3_bind_text(st, 5, cp->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, cp->public_key, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, cp->signature, 64, SQLITE_STATIC);
    pb_store_rc r = sq_exec_stmt(c, st);
    sqlite3_clear_bindings(st);
    return r;
}

/* The checkpoint with the highest id. */
static pb_store_rc sq_audit_checkpoint_last(pb_store_conn *base, pb_store_audit_checkpoint *out)
{
    static const char SQL[] = "SELECT " CHECKPOINT_COLS
                              " FROM audit_checkpoint ORDER BY id DESC LIMIT 1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_checkpoint(st, out);
    return finish_lookup(c, st, rc);
}

struct checkpoint_cb_ctx {
    pb_store_audit_checkpoint_cb cb;
    void *ctx;
};

/* Reads a checkpoint row and hands it to the caller's callback. */
static int checkpoint_row(sqlite3_stmt *st, void *p)
{
    struct checkpoint_cb_ctx *x = p;
    pb_store_audit_checkpoint cp;
    read_checkpoint(st, &cp);
    return x->cb(x->ctx, &cp);
}

/* Every checkpoint above after_id, in id order. */
static pb_store_rc sq_audit_checkpoint_scan(pb_store_conn *base, int64_t after_id,
                                            pb_store_audit_checkpoint_cb cb, void *ctx)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT " CHECKPOINT_COLS
                                " FROM audit_checkpoint WHERE id>?1 ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_result(c, rc);
    sqlite3_bind_int64(st, 1, after_id);
    struct checkpoint_cb_ctx x = {cb, ctx};
    return run_rows(c, st, checkpoint_row, &x);
}

const struct pb_store_audit_ops pb_store_sqlite_audit_ops = {
    .head_get = sq_audit_head_get,
    .entry_insert = sq_audit_entry_insert,
    .entry_scan = sq_audit_entry_scan,
    .entry_query = sq_audit_entry_query,
    .entry_seq_at = sq_audit_entry_seq_at,
    .checkpoint_insert = sq_audit_checkpoint_insert,
    .checkpoint_last = sq_audit_checkpoint_last,
    .checkpoint_scan = sq_audit_checkpoint_scan,
};
