/*
 * sqlite_adjustment.c — the adjustment requests' statements on SQLite
 * (0048_wallet_adjustment_approval.sql, 0049_adjustment_request_expiry.sql,
 * 0050_erase_adjustment_player.sql, 0052_adjustment_request_pending.sql). Index use:
 * public_id and (brand, idempotency_key) are unique; the list, joined to the caller's
 * brands, shows the status as it reads now (a pending request past its brand's expiry
 * reads "expired"); filtered on a status it walks (status, id) backwards over the
 * stored statuses that can read so (sq_adj_list); unfiltered, the brands' rows. The
 * expiry sweep reads one brand's due requests over the partial index of 0052.
 * tests/unit/api/test_adjust_sweep.c checks the plans.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

#define ADJ_COLS                                                                          \
    "id,public_id,brand,player,balance,direction,amount,currency,reason,idempotency_key," \
    "requested_by,requested_at,status,coalesce(decided_by,''),coalesce(decided_at,0),"    \
    "coalesce(decision_reason,''),coalesce(transfer_id,''),coalesce(failure,'')"

static void read_adj(sqlite3_stmt *st, void *out)
{
    pb_store_adjustment *a = out;
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    sqr_text(a->public_id, sizeof a->public_id, st, 1);
    sqr_text(a->brand, sizeof a->brand, st, 2);
    sqr_text(a->player, sizeof a->player, st, 3);
    sqr_text(a->balance, sizeof a->balance, st, 4);
    sqr_text(a->direction, sizeof a->direction, st, 5);
    a->amount = sqlite3_column_int64(st, 6);
    sqr_text(a->currency, sizeof a->currency, st, 7);
    sqr_text(a->reason, sizeof a->reason, st, 8);
    sqr_text(a->idempotency_key, sizeof a->idempotency_key, st, 9);
    sqr_text(a->requested_by, sizeof a->requested_by, st, 10);
    a->requested_at = sqlite3_column_int64(st, 11);
    sqr_text(a->status, sizeof a->status, st, 12);
    sqr_text(a->decided_by, sizeof a->decided_by, st, 13);
    a->decided_at = sqlite3_column_int64(st, 14);
    sqr_text(a->decision_reason, sizeof a->decision_reason, st, 15);
    sqr_text(a->transfer_id, sizeof a->transfer_id, st, 16);
    sqr_text(a->failure, sizeof a->failure, st, 17);
}

static pb_store_rc sq_adj_insert(pb_store_conn *base, pb_store_adjustment *a)
{
    static const char SQL[] =
        "INSERT INTO adjustment_request(public_id,brand,player,balance,direction,amount,"
        "currency,reason,idempotency_key,requested_by,requested_at,status) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,'pending')";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, a->public_id);
    sqr_bind_text(st, 2, a->brand);
    sqr_bind_text(st, 3, a->player);
    sqr_bind_text(st, 4, a->balance);
    sqr_bind_text(st, 5, a->direction);
    sqlite3_bind_int64(st, 6, a->amount);
    sqr_bind_text(st, 7, a->currency);
    sqr_bind_text(st, 8, a->reason);
    sqr_bind_text(st, 9, a->idempotency_key);
    sqr_bind_text(st, 10, a->requested_by);
    sqlite3_bind_int64(st, 11, a->requested_at);
    pb_store_rc r = sqr_exec(c, st);
    if (r == PB_STORE_OK) {
        a->id = sqlite3_last_insert_rowid(c->db);
        memcpy(a->status, "pending", sizeof "pending");
    }
    return r;
}

static pb_store_rc sq_adj_get(pb_store_conn *base, const char *public_id, pb_store_adjustment *out)
{
    static const char SQL[] = "SELECT " ADJ_COLS " FROM adjustment_request WHERE public_id=?1";
    return sqr_lookup_text(SQ(base), SQL, public_id, NULL, read_adj, out);
}

static pb_store_rc sq_adj_by_key(pb_store_conn *base, const char *brand, const char *key,
                                 pb_store_adjustment *out)
{
    static const char SQL[] = "SELECT " ADJ_COLS " FROM adjustment_request "
                              "WHERE brand=?1 AND idempotency_key=?2";
    return sqr_lookup_text(SQ(base), SQL, brand, key, read_adj, out);
}

static pb_store_rc sq_adj_decide(pb_store_conn *base, const pb_store_adjustment *a)
{
    static const char SQL[] =
        "UPDATE adjustment_request SET status=?2,decided_by=?3,decided_at=?4,"
        "decision_reason=?5,transfer_id=?6,failure=?7 WHERE id=?1 AND status='pending'";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, a->id);
    sqr_bind_text(st, 2, a->status);
    sqr_bind_opt_text(st, 3, a->decided_by); /* NULL when expired */
    sqlite3_bind_int64(st, 4, a->decided_at);
    sqr_bind_opt_text(st, 5, a->decision_reason);
    sqr_bind_opt_text(st, 6, a->transfer_id);
    sqr_bind_opt_text(st, 7, a->failure);
    return sqr_exec_changed(c, st);
}

/* The list's rows with the status as it reads now: pending past requested_at + the
 * brand's expiry (b.value, µs; ?5: now) is expired. ?1 the brands (code -> expiry),
 * ?3 the cursor (0: none), ?4 the page's size. */
#define ADJ_STATUS_NOW                                                            \
    "CASE WHEN r.status='pending' AND r.requested_at+b.value<=?5 THEN 'expired' " \
    "ELSE r.status END"
#define ADJ_LIST_SELECT                                                                   \
    "SELECT r.id,r.public_id,r.brand,r.player,r.balance,r.direction,r.amount,r.currency," \
    "r.reason,r.idempotency_key,r.requested_by,r.requested_at," ADJ_STATUS_NOW ","        \
    "coalesce(r.decided_by,''),coalesce(r.decided_at,0),coalesce(r.decision_reason,''),"  \
    "coalesce(r.transfer_id,''),coalesce(r.failure,'') "                                  \
    "FROM adjustment_request r JOIN json_each(?1) b ON b.key=r.brand WHERE (?3=0 OR r.id<?3) "
#define ADJ_LIST_PAGE "ORDER BY r.id DESC LIMIT ?4"

/* Which rows each status filter reads. A status other than pending and expired is
 * the stored one (?2): 0048's (status, id) walked backwards. "pending" is stored
 * pending and not past its time: the same index, pending rows only. "expired" is
 * stored expired (marked by the sweep or the decision that found it so) or stored
 * pending past its time: a page of each over that index, merged. No filter walks
 * the brands' rows. */
static const char LIST_ANY[] = ADJ_LIST_SELECT ADJ_LIST_PAGE;
static const char LIST_STORED[] = ADJ_LIST_SELECT "AND r.status=?2 " ADJ_LIST_PAGE;
static const char LIST_PENDING[] = ADJ_LIST_SELECT
    "AND r.status='pending' AND r.requested_at+b.value>?5 " ADJ_LIST_PAGE;
static const char LIST_EXPIRED[] =
    "SELECT * FROM (" ADJ_LIST_SELECT "AND r.status='expired' " ADJ_LIST_PAGE ") UNION ALL "
    "SELECT * FROM (" ADJ_LIST_SELECT
    "AND r.status='pending' AND r.requested_at+b.value<=?5 " ADJ_LIST_PAGE
    ") ORDER BY 1 DESC LIMIT ?4";
#undef ADJ_LIST_PAGE
#undef ADJ_LIST_SELECT
#undef ADJ_STATUS_NOW

static pb_store_rc sq_adj_list(pb_store_conn *base, const char *brands_json, int64_t now,
                               const char *status, int64_t before_id, pb_store_adjustment *out,
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
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_adj);
}

/* The expiry sweep's batch: one brand's pending requests by age, over the partial
 * index adjustment_request_pending (brand, requested_at) of 0052. */
static pb_store_rc sq_adj_due(pb_store_conn *base, const char *brand, int64_t requested_before,
                              pb_store_adjustment *out, size_t cap, size_t *n)
{
    static const char SQL[] = "SELECT " ADJ_COLS " FROM adjustment_request "
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
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_adj);
}

/* One player's requests, over adjustment_request_player (player, id) of 0050: the
 * erasure's check and the data export's section. */
static pb_store_rc sq_adj_player_pending(pb_store_conn *base, const char *player,
                                         pb_store_adjustment *out)
{
    static const char SQL[] = "SELECT " ADJ_COLS " FROM adjustment_request "
                              "WHERE player=?1 AND status='pending' ORDER BY id DESC LIMIT 1";
    return sqr_lookup_text(SQ(base), SQL, player, NULL, read_adj, out);
}

static pb_store_rc sq_adj_player_page(pb_store_conn *base, const char *player, int64_t before_id,
                                      pb_store_adjustment *out, size_t cap, size_t *n)
{
    static const char SQL[] = "SELECT " ADJ_COLS " FROM adjustment_request "
                              "WHERE player=?1 AND (?2=0 OR id<?2) ORDER BY id DESC LIMIT ?3";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    *n = 0;
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, player);
    sqlite3_bind_int64(st, 2, before_id);
    sqlite3_bind_int64(st, 3, (int64_t)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_adj);
}

const struct pb_store_adjustment_ops pb_store_sqlite_adjustment_ops = {
    .insert = sq_adj_insert,
    .get = sq_adj_get,
    .by_key = sq_adj_by_key,
    .decide = sq_adj_decide,
    .list = sq_adj_list,
    .due = sq_adj_due,
    .player_pending = sq_adj_player_pending,
    .player_page = sq_adj_player_page,
};
