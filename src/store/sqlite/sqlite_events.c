/*
 * sqlite_events.c — the event outbox's statements on SQLite (0011_events.sql).
 *
 * One function per statement, all cached (sq_stmt_sql). The scan is a range
 * read on the primary key; the prune finds its cut-off by walking the oldest
 * rows in id order (ids and created_at grow together, so the rows to delete are
 * exactly a prefix), which needs no index on created_at.
 */
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

static pb_store_rc sq_event_insert(pb_store_conn *conn, const pb_store_event *e, int64_t *id)
{
    /* ?7 NULL: the next id (the table's largest + 1); else e->id (a restore's jump) */
    static const char SQL[] = "INSERT INTO event_outbox(type,brand,subject,payload,created_at,"
                              "trace_id,id) VALUES(?1,?2,?3,?4,?5,?6,?7)";
    sq_conn *c = SQ(conn);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, e->type);
    sqr_bind_text(st, 2, e->brand);
    sqr_bind_text(st, 3, e->subject);
    sqlite3_bind_text(st, 4, e->payload ? e->payload : "{}", e->payload ? (int)e->payload_len : 2,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, e->created_at);
    sqr_bind_text(st, 6, e->trace_id);
    if (e->id > 0)
        sqlite3_bind_int64(st, 7, e->id);
    else
        sqlite3_bind_null(st, 7);
    pb_store_rc r = sqr_exec(c, st);
    if (r == PB_STORE_OK && id)
        *id = sqlite3_last_insert_rowid(c->db);
    return r;
}

static pb_store_rc sq_event_scan(pb_store_conn *conn, int64_t after_id, int64_t upto, size_t limit,
                                 pb_store_event_cb cb, void *ctx)
{
    static const char SQL[] = "SELECT id,type,brand,subject,payload,created_at,trace_id "
                              "FROM event_outbox WHERE id>?1 AND id<=?3 ORDER BY id LIMIT ?2";
    sq_conn *c = SQ(conn);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    sqlite3_bind_int64(st, 3, upto < 0 ? INT64_MAX : upto);
    int rc;
    pb_store_event e;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&e, 0, sizeof e);
        e.id = sqlite3_column_int64(st, 0);
        sqr_text(e.type, sizeof e.type, st, 1);
        sqr_text(e.brand, sizeof e.brand, st, 2);
        sqr_text(e.subject, sizeof e.subject, st, 3);
        const unsigned char *p = sqlite3_column_text(st, 4);
        e.payload = p ? (const char *)p : "{}";
        e.payload_len = p ? (size_t)sqlite3_column_bytes(st, 4) : 2;
        e.created_at = sqlite3_column_int64(st, 5);
        sqr_text(e.trace_id, sizeof e.trace_id, st, 6);
        if (cb(ctx, &e) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    pb_store_rc r = rc == SQLITE_DONE ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    return r;
}

static pb_store_rc sq_event_bounds(pb_store_conn *conn, int64_t *first, int64_t *last)
{
    /* two subqueries: SQLite finds a lone min() or max() of the key at one end of the
     * table, but min() and max() in one SELECT read every row (every /metrics scrape
     * and dashboard load did, over the whole retention window) */
    static const char SQL[] = "SELECT (SELECT coalesce(min(id),0) FROM event_outbox),"
                              "(SELECT coalesce(max(id),0) FROM event_outbox)";
    sq_conn *c = SQ(conn);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_OK;
    if (rc == SQLITE_ROW) {
        *first = sqlite3_column_int64(st, 0);
        *last = sqlite3_column_int64(st, 1);
    } else {
        r = sq_result(c, rc);
    }
    sqr_done(st);
    return r;
}

static pb_store_rc sq_event_newest(pb_store_conn *conn, int64_t *last)
{
    sq_conn *c = SQ(conn);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT coalesce(max(id),0) FROM event_outbox");
    if (!st)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_OK;
    if (rc == SQLITE_ROW)
        *last = sqlite3_column_int64(st, 0);
    else
        r = sq_result(c, rc);
    sqr_done(st);
    return r;
}

static pb_store_rc sq_event_newest_of(pb_store_conn *conn, const char *brand, int64_t *last)
{
    sq_conn *c = SQ(conn);
    sqlite3_stmt *st = sq_stmt_sql(c,
                                   "SELECT coalesce(max(id),0) FROM event_outbox WHERE brand = ?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_text(st, 1, brand, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_OK;
    if (rc == SQLITE_ROW)
        *last = sqlite3_column_int64(st, 0);
    else
        r = sq_result(c, rc);
    sqr_done(st);
    return r;
}

static pb_store_rc sq_event_prune(pb_store_conn *conn, int64_t before_us, int64_t keep_rows,
                                  size_t max_delete, size_t *deleted)
{
    /* the cut-off: the first id that is neither too old nor beyond the row cap,
     * looked for among the oldest max_delete + 1 rows; the newest row stays */
    static const char CUT[] =
        "SELECT id FROM event_outbox "
        "WHERE id>=?3 OR (created_at>=?1 AND (?2=0 OR id>(SELECT max(id) FROM event_outbox)-?2)) "
        "OR id=(SELECT max(id) FROM event_outbox) "
        "ORDER BY id LIMIT 1";
    static const char DEL[] = "DELETE FROM event_outbox WHERE id<?1";
    static const char FIRST[] = "SELECT coalesce(min(id),0) FROM event_outbox";
    sq_conn *c = SQ(conn);
    *deleted = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, FIRST);
    if (!st)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    int64_t first = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqr_done(st);
    if (rc != SQLITE_ROW)
        return sq_result(c, rc);
    if (first == 0)
        return PB_STORE_OK;
    /* never look further than max_delete rows past the oldest */
    int64_t horizon = max_delete > (size_t)(INT64_MAX - first) ? INT64_MAX
                                                               : first + (int64_t)max_delete;
    if (!(st = sq_stmt_sql(c, CUT)))
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, before_us);
    sqlite3_bind_int64(st, 2, keep_rows);
    sqlite3_bind_int64(st, 3, horizon);
    rc = sqlite3_step(st);
    int64_t cut = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqr_done(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? PB_STORE_OK : sq_result(c, rc);
    if (cut <= first)
        return PB_STORE_OK;
    if (!(st = sq_stmt_sql(c, DEL)))
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, cut);
    pb_store_rc r = sqr_exec(c, st);
    if (r == PB_STORE_OK)
        *deleted = (size_t)sqlite3_changes(c->db);
    return r;
}

static pb_store_rc sq_event_relay_get(pb_store_conn *conn, const char *name, int64_t *last_id,
                                      bool *found)
{
    sq_conn *c = SQ(conn);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT last_id FROM event_relay WHERE name=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_OK;
    if (rc == SQLITE_ROW) {
        *last_id = sqlite3_column_int64(st, 0);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        r = sq_result(c, rc);
    }
    sqr_done(st);
    return r;
}

static pb_store_rc sq_event_relay_set(pb_store_conn *conn, const char *name, int64_t last_id,
                                      int64_t now_us)
{
    static const char SQL[] = "INSERT INTO event_relay(name,last_id,updated_at) VALUES(?1,?2,?3) "
                              "ON CONFLICT(name) DO UPDATE SET last_id=excluded.last_id,"
                              "updated_at=excluded.updated_at";
    sq_conn *c = SQ(conn);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, last_id);
    sqlite3_bind_int64(st, 3, now_us);
    return sqr_exec(c, st);
}

const struct pb_store_events_ops pb_store_sqlite_events_ops = {
    .insert = sq_event_insert,
    .scan = sq_event_scan,
    .bounds = sq_event_bounds,
    .newest = sq_event_newest,
    .newest_of = sq_event_newest_of,
    .prune = sq_event_prune,
    .relay_get = sq_event_relay_get,
    .relay_set = sq_event_relay_set,
};
