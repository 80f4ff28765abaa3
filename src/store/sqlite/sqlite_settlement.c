/*
 * sqlite_settlement.c — the unclaimed-funds settlement requests on SQLite
 * (0051_unclaimed_settlement_request.sql,
 * 0053_unclaimed_settlement_request_pending.sql,
 * 0054_unclaimed_settlement_request_status.sql): the table and its own columns
 * (destination, reference) for the statements every kind shares (sqlite_request.c,
 * which says how they use the indexes: 0054's (status, id) for the filtered list,
 * 0053's partial index for the sweep), and the lookup by transfer_id (unique where
 * set: the unclaimed-funds list's).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_request.h"

#define SQ(c) ((sq_conn *)(c))

#define SETTLE_OWN(r) r "destination,coalesce(" r "reference,'')"

static void bind_settle(sqlite3_stmt *st, const pb_store_request *r)
{
    const pb_store_settlement *s = (const pb_store_settlement *)r;
    sqr_bind_text(st, 9, s->destination);
    sqr_bind_opt_text(st, 10, s->reference);
}

static void read_settle(sqlite3_stmt *st, void *out)
{
    pb_store_settlement *s = out;
    memset(s, 0, sizeof *s);
    sq_request_read(st, &s->rq);
    sqr_text(s->destination, sizeof s->destination, st, SQ_REQUEST_NCOLS);
    sqr_text(s->reference, sizeof s->reference, st, SQ_REQUEST_NCOLS + 1);
}

const sq_request_kind sq_settlement_kind = {
    SQ_REQUEST_STATEMENTS("unclaimed_settlement_request", SETTLE_OWN, "destination,reference",
                          "?9,?10"),
    .size = sizeof(pb_store_settlement),
    .bind = bind_settle,
    .read = read_settle,
};

static pb_store_rc sq_settle_by_transfer(pb_store_conn *base, const char *transfer_id,
                                         pb_store_settlement *out)
{
    static const char SQL[] = "SELECT " SQ_REQUEST_COLS("", "status") "," SETTLE_OWN(
        "") " FROM unclaimed_settlement_request WHERE transfer_id=?1";
    return sqr_lookup_text(SQ(base), SQL, transfer_id, NULL, read_settle, out);
}

const struct pb_store_settlement_ops pb_store_sqlite_settlement_ops = {
    .by_transfer = sq_settle_by_transfer,
};
