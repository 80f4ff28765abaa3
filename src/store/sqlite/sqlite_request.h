/*
 * sqlite_request.h — a kind of 4-eyes request as the SQLite backend keeps it
 * (private to src/store/sqlite/): the statements of store_request.h written once
 * for every kind's table (SQ_REQUEST_STATEMENTS), and how a kind binds and reads
 * its own columns. sqlite_request.c runs them; each kind's file describes itself
 * (sqlite_adjustment.c, sqlite_settlement.c).
 *
 * Rows are read with the columns every kind shares first (SQ_REQUEST_COLS, read by
 * sq_request_read), then the kind's own from SQ_REQUEST_NCOLS on; a kind's insert
 * binds the shared columns to ?1..?8 and its own from ?9 on.
 */
#ifndef PB_STORE_SQLITE_REQUEST_H
#define PB_STORE_SQLITE_REQUEST_H

#include "store/sqlite/sqlite_rows.h"

typedef struct sq_request_kind {
    const char *insert, *get, *by_key, *decide, *due;
    /* the list, by status filter: none, a stored status (?2), pending, expired */
    const char *list_any, *list_stored, *list_pending, *list_expired;
    size_t size; /* the kind's row struct */
    /* binds the kind's own columns of r's row to the insert's ?9.. */
    void (*bind)(sqlite3_stmt *st, const pb_store_request *r);
    /* reads a whole row (the shared columns and the kind's) into out (its struct) */
    void (*read)(sqlite3_stmt *st, void *out);
} sq_request_kind;

extern const sq_request_kind sq_adjustment_kind, sq_settlement_kind;

/* The columns every kind's rows are read with, in sq_request_read's order; r: the
 * table's alias with its dot ("" for none), status: the status's expression. */
#define SQ_REQUEST_COLS(r, status)                                                                 \
    r "id," r "public_id," r "brand," r "amount," r "currency," r "reason," r "idempotency_key," r \
      "requested_by," r "requested_at," status ",coalesce(" r "decided_by,''),coalesce(" r         \
      "decided_at,0),coalesce(" r "decision_reason,''),"                                           \
      "coalesce(" r "transfer_id,''),coalesce(" r "failure,'')"
#define SQ_REQUEST_NCOLS 15

/* Reads the shared columns (0 .. SQ_REQUEST_NCOLS - 1) into r. */
void sq_request_read(sqlite3_stmt *st, pb_store_request *r);

/* The list's rows with the status as it reads now: pending past requested_at + the
 * brand's expiry (b.value, µs; ?5: now) is expired. ?1 the brands (code -> expiry),
 * ?3 the cursor (0: none), ?4 the page's size. */
#define SQ_REQUEST_STATUS_NOW                                                     \
    "CASE WHEN r.status='pending' AND r.requested_at+b.value<=?5 THEN 'expired' " \
    "ELSE r.status END"
#define SQ_REQUEST_LIST(table, COLS)                                 \
    "SELECT " SQ_REQUEST_COLS("r.", SQ_REQUEST_STATUS_NOW) "," COLS( \
        "r.") " FROM " table " r JOIN json_each(?1) b ON b.key=r.brand WHERE (?3=0 OR r.id<?3) "
#define SQ_REQUEST_PAGE "ORDER BY r.id DESC LIMIT ?4"

/* The statements of a kind's table (an sq_request_kind's initialiser but for size,
 * bind and read): COLS(r) its own columns as read (r: the alias), insert_cols and
 * insert_params its own columns as inserted and their parameters (?9..).
 *
 * Which rows each status filter of the list reads: a status other than pending and
 * expired is the stored one (?2): the table's (status, id) walked backwards.
 * "pending" is stored pending and not past its time: the same index, pending rows
 * only. "expired" is stored expired (marked by the sweep or the decision that found
 * it so) or stored pending past its time: a page of each over that index, merged.
 * No filter walks the brands' rows. The sweep's batch (due): one brand's pending
 * requests by age, over the table's partial index of pending (brand, requested_at). */
#define SQ_REQUEST_STATEMENTS(table, COLS, insert_cols, insert_params)                           \
    .insert = "INSERT INTO " table "(public_id,brand,amount,currency,reason,idempotency_key,"    \
              "requested_by,requested_at,status," insert_cols ") "                               \
              "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,'pending'," insert_params ")",                     \
    .get = "SELECT " SQ_REQUEST_COLS("", "status") "," COLS("") " FROM " table                   \
                                                                " WHERE public_id=?1",           \
    .by_key = "SELECT " SQ_REQUEST_COLS("", "status") "," COLS(                                  \
        "") " FROM " table " WHERE brand=?1 AND idempotency_key=?2",                             \
    .decide = "UPDATE " table " SET status=?2,decided_by=?3,decided_at=?4,"                      \
              "decision_reason=?5,transfer_id=?6,failure=?7 WHERE id=?1 AND status='pending'",   \
    .due = "SELECT " SQ_REQUEST_COLS("", "status") "," COLS(                                     \
        "") " FROM " table " WHERE brand=?1 AND status='pending' AND requested_at<=?2 "          \
            "ORDER BY requested_at LIMIT ?3",                                                    \
    .list_any = SQ_REQUEST_LIST(table, COLS) SQ_REQUEST_PAGE,                                    \
    .list_stored = SQ_REQUEST_LIST(table, COLS) "AND r.status=?2 " SQ_REQUEST_PAGE,              \
    .list_pending = SQ_REQUEST_LIST(                                                             \
        table, COLS) "AND r.status='pending' AND r.requested_at+b.value>?5 " SQ_REQUEST_PAGE,    \
    .list_expired = "SELECT * FROM (" SQ_REQUEST_LIST(                                           \
        table,                                                                                   \
        COLS) "AND r.status='expired' " SQ_REQUEST_PAGE ") UNION ALL "                           \
              "SELECT * FROM (" SQ_REQUEST_LIST(                                                 \
                  table,                                                                         \
                  COLS) "AND r.status='pending' AND r.requested_at+b.value<=?5 " SQ_REQUEST_PAGE \
                        ") ORDER BY 1 DESC LIMIT ?4"

#endif
