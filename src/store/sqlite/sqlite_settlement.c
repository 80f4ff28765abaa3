/*
 * sqlite_settlement.c — the unclaimed-funds settlement requests' statements on
 * SQLite (0051_unclaimed_settlement_request.sql,
 * 0053_unclaimed_settlement_request_pending.sql,
 * 0054_unclaimed_settlement_request_status.sql). Index use: public_id and
 * (brand, idempotency_key) are unique, transfer_id unique where set (the
 * unclaimed-funds list's lookup); the list filtered on a status reads the stored
 * status over 0054's (status, id), each row showing the status as it reads now (a
 * pending request past its brand's expiry reads "expired"), as sqlite_adjustment.c
 * does; unfiltered it walks the primary key backwards, joined to the caller's brands.
 * The expiry sweep reads one brand's due requests over the partial index of 0053
 * (tests/unit/api/test_adjust_sweep.c checks the plan).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

#define SETTLE_COLS                                                                 \
    "id,public_id,brand,currency,amount,destination,coalesce(reference,''),reason," \
    "idempotency_key,requested_by,requested_at,status,coalesce(decided_by,''),"     \
    "coalesce(decided_at,0),coalesce(decision_reason,''),coalesce(transfer_id,'')," \
    "coalesce(failure,'')"

static void read_settle(sqlite3_stmt *st, void *out)
{
    pb_store_settlement *s = out;
    memset(s, 0, sizeof *s);
    s->id = sqlite3_column_int64(st, 0);
    sqr_text(s->public_id, sizeof s->public_id, st, 1);
    sqr_text(s->brand, sizeof s->brand, st, 2);
    sqr_text(s->currency, sizeof s->currency, st, 3);
    s->amount = sqlite3_column_int64(st, 4);
    sqr_text(s->destination, sizeof s->destination, st, 5);
    sqr_text(s->reference, sizeof s->reference, st, 6);
    sqr_text(s->reason, sizeof s->reason, st, 7);
    sqr_text(s->idempotency_key, sizeof s->idempotency_key, st, 8);
    sqr_text(s->requested_by, sizeof s->requested_by, st, 9);
    s->requested_at = sqlite3_column_int64(st, 10);
    sqr_text(s->status, sizeof s->status, st, 11);
    sqr_text(s->decided_by, sizeof s->decided_by, st, 12);
    s->decided_at = sqlite3_column_int64(st, 13);
    sqr_text(s->decision_reason, sizeof s->decision_reason, st, 14);
    sqr_text(s->transfer_id, sizeof s->transfer_id, st, 15);
    sqr_text(s->failure, sizeof s->failure, st, 16);
}

static pb_store_rc sq_settle_insert(pb_store_conn *base, pb_store_settlement *s)
{
    static const char SQL[] =
        "INSERT INTO unclaimed_settlement_request(public_id,brand,currency,amount,destination,"
        "reference,reason,idempotency_key,requested_by,requested_at,status) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,'pending')";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, s->public_id);
    sqr_bind_text(st, 2, s->brand);
    sqr_bind_text(st, 3, s->currency);
    sqlite3_bind_int64(st, 4, s->amount);
    sqr_bind_text(st, 5, s->destination);
    sqr_bind_opt_text(st, 6, s->reference);
    sqr_bind_text(st, 7, s->reason);
    sqr_bind_text(st, 8, s->idempotency_key);
    sqr_bind_text(st, 9, s->requested_by);
    sqlite3_bind_int64(st, 10, s->requested_at);
    pb_store_rc r = sqr_exec(c, st);
    if (r == PB_STORE_OK) {
        s->id = sqlite3_last_insert_rowid(c->db);
        memcpy(s->status, "pending", sizeof "pending");
    }
    return r;
}

static pb_store_rc sq_settle_get(pb_store_conn *base, const char *public_id,
                                 pb_store_settlement *out)
{
    static const char SQL[] = "SELECT " SETTLE_COLS
                              " FROM unclaimed_settlement_request WHERE public_id=?1";
    return sqr_lookup_text(SQ(base), SQL, public_id, NULL, read_settle, out);
}

static pb_store_rc sq_settle_by_key(pb_store_conn *base, const char *brand, const char *key,
                                    pb_store_settlement *out)
{
    static const char SQL[] = "SELECT " SETTLE_COLS " FROM unclaimed_settlement_request "
                              "WHERE brand=?1 AND idempotency_key=?2";
    return sqr_lookup_text(SQ(base), SQL, brand, key, read_settle, out);
}

static pb_store_rc sq_settle_by_transfer(pb_store_conn *base, const char *transfer_id,
                                         pb_store_settlement *out)
{
    static const char SQL[] = "SELECT " SETTLE_COLS
                              " FROM unclaimed_settlement_request WHERE transfer_id=?1";
    return sqr_lookup_text(SQ(base), SQL, transfer_id, NULL, read_settle, out);
}

static pb_store_rc sq_settle_decide(pb_store_conn *base, const pb_store_settlement *s)
{
    static const char SQL[] =
        "UPDATE unclaimed_settlement_request SET status=?2,decided_by=?3,decided_at=?4,"
        "decision_reason=?5,transfer_id=?6,failure=?7 WHERE id=?1 AND status='pending'";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, s->id);
    sqr_bind_text(st, 2, s->status);
    sqr_bind_opt_text(st, 3, s->decided_by); /* NULL when expired */
    sqlite3_bind_int64(st, 4, s->decided_at);
    sqr_bind_opt_text(st, 5, s->decision_reason);
    sqr_bind_opt_text(st, 6, s->transfer_id);
    sqr_bind_opt_text(st, 7, s->failure);
    return sqr_exec_changed(c, st);
}

/* The list's rows with the status as it reads now: pending past requested_at + the
 * brand's expiry (b.value, µs; ?5: now) is expired. ?1 the brands (code -> expiry),
 * ?3 the cursor (0: none), ?4 the page's size. */
#define SETTLE_STATUS_NOW                                                         \
    "CASE WHEN r.status='pending' AND r.requested_at+b.value<=?5 THEN 'expired' " \
    "ELSE r.status END"
#define SETTLE_LIST_SELECT                                                       \
    "SELECT r.id,r.public_id,r.brand,r.currency,r.amount,r.destination,"         \
    "coalesce(r.reference,''),r.reason,r.idempotency_key,r.requested_by,"        \
    "r.requested_at," SETTLE_STATUS_NOW ",coalesce(r.decided_by,''),"            \
    "coalesce(r.decided_at,0),coalesce(r.decision_reason,''),"                   \
    "coalesce(r.transfer_id,''),coalesce(r.failure,'') "                         \
    "FROM unclaimed_settlement_request r JOIN json_each(?1) b ON b.key=r.brand " \
    "WHERE (?3=0 OR r.id<?3) "
#define SETTLE_LIST_PAGE "ORDER BY r.id DESC LIMIT ?4"

/* Which rows each status filter reads, as sqlite_adjustment.c's list does. A status
 * other than pending and expired is the stored one (?2): 0054's (status, id) walked
 * backwards. "pending" is stored pending and not past its time: the same index,
 * pending rows only. "expired" is stored expired (marked by the sweep or the
 * decision that found it so) or stored pending past its time: a page of each over
 * that index, merged. No filter walks the brands' rows. */
static const char LIST_ANY[] = SETTLE_LIST_SELECT SETTLE_LIST_PAGE;
static const char LIST_STORED[] = SETTLE_LIST_SELECT "AND r.status=?2 " SETTLE_LIST_PAGE;
static const char LIST_PENDING[] = SETTLE_LIST_SELECT
    "AND r.status='pending' AND r.requested_at+b.value>?5 " SETTLE_LIST_PAGE;
static const char LIST_EXPIRED[] =
    "SELECT * FROM (" SETTLE_LIST_SELECT "AND r.status='expired' " SETTLE_LIST_PAGE
    ") UNION ALL SELECT * FROM (" SETTLE_LIST_SELECT
    "AND r.status='pending' AND r.requested_at+b.value<=?5 " SETTLE_LIST_PAGE
    ") ORDER BY 1 DESC LIMIT ?4";
#undef SETTLE_LIST_PAGE
#undef SETTLE_LIST_SELECT
#undef SETTLE_STATUS_NOW

static pb_store_rc sq_settle_list(pb_store_conn *base, const char *brands_json, int64_t now,
                                  const char *status, int64_t before_id, pb_store_settlement *out,
                                  size_t cap, size_t *n)
{
    const char *sql = !status                          ? LIST_ANY
                      : strcmp(status, "pending") == 0 ? LIST_PENDING
                      : strcmp(status, "expired") == 0 ? LIST_EXPIRED
                                                       : LIST_STORED;
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, sql);
    *n = 0;
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, brands_json);
    sqr_bind_opt_text(st, 2, status);
    sqlite3_bind_int64(st, 3, before_id);
    sqlite3_bind_int64(st, 4, (int64_t)cap);
    sqlite3_bind_int64(st, 5, now);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_settle);
}

/* The expiry sweep's batch: one brand's pending requests by age, over the partial
 * index unclaimed_settlement_request_pending (brand, requested_at) of 0053. */
static pb_store_rc sq_settle_due(pb_store_conn *base, const char *brand, int64_t requested_before,
                                 pb_store_settlement *out, size_t cap, size_t *n)
{
    static const char SQL[] = "SELECT " SETTLE_COLS " FROM unclaimed_settlement_request "
                              "WHERE brand=?1 AND status='pending' AND requested_at<=?2 "
                              "ORDER BY requested_at LIMIT ?3";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    *n = 0;
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, brand);
    sqlite3_bind_int64(st, 2, requested_before);
    sqlite3_bind_int64(st, 3, (int64_t)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_settle);
}

const struct pb_store_settlement_ops pb_store_sqlite_settlement_ops = {
    .insert = sq_settle_insert,
    .get = sq_settle_get,
    .by_key = sq_settle_by_key,
    .by_transfer = sq_settle_by_transfer,
    .decide = sq_settle_decide,
    .list = sq_settle_list,
    .due = sq_settle_due,
};
