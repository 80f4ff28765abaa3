/*
 * sqlite_request.c — the 4-eyes requests' statements on SQLite (store_request.h),
 * one implementation for every kind: the kind names its table's statements and
 * its own columns (sqlite_request.h; sqlite_adjustment.c for adjustment_request,
 * sqlite_settlement.c for unclaimed_settlement_request). Index use, each table
 * alike: public_id and (brand, idempotency_key) are unique; the list, joined to the
 * caller's brands, shows the status as it reads now (a pending request past its
 * brand's expiry reads "expired"); filtered on a status it walks (status, id)
 * backwards over the stored statuses that can read so; unfiltered, the brands'
 * rows. The expiry sweep reads one brand's due requests over the partial pending
 * index (0052, 0053). tests/unit/api/test_adjust_sweep.c checks the plans.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_request.h"

#define SQ(c) ((sq_conn *)(c))

static const sq_request_kind *const KINDS[PB_STORE_REQUEST_KINDS] = {
    [PB_STORE_REQUEST_ADJUSTMENT] = &sq_adjustment_kind,
    [PB_STORE_REQUEST_SETTLEMENT] = &sq_settlement_kind,
};

void sq_request_read(sqlite3_stmt *st, pb_store_request *r)
{
    r->id = sqlite3_column_int64(st, 0);
    sqr_text(r->public_id, sizeof r->public_id, st, 1);
    sqr_text(r->brand, sizeof r->brand, st, 2);
    r->amount = sqlite3_column_int64(st, 3);
    sqr_text(r->currency, sizeof r->currency, st, 4);
    sqr_text(r->reason, sizeof r->reason, st, 5);
    sqr_text(r->idempotency_key, sizeof r->idempotency_key, st, 6);
    sqr_text(r->requested_by, sizeof r->requested_by, st, 7);
    r->requested_at = sqlite3_column_int64(st, 8);
    sqr_text(r->status, sizeof r->status, st, 9);
    sqr_text(r->decided_by, sizeof r->decided_by, st, 10);
    r->decided_at = sqlite3_column_int64(st, 11);
    sqr_text(r->decision_reason, sizeof r->decision_reason, st, 12);
    sqr_text(r->transfer_id, sizeof r->transfer_id, st, 13);
    sqr_text(r->failure, sizeof r->failure, st, 14);
}

static pb_store_rc sq_req_insert(pb_store_conn *base, pb_store_request_kind kind,
                                 pb_store_request *r)
{
    const sq_request_kind *k = KINDS[kind];
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, k->insert);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, r->public_id);
    sqr_bind_text(st, 2, r->brand);
    sqlite3_bind_int64(st, 3, r->amount);
    sqr_bind_text(st, 4, r->currency);
    sqr_bind_text(st, 5, r->reason);
    sqr_bind_text(st, 6, r->idempotency_key);
    sqr_bind_text(st, 7, r->requested_by);
    sqlite3_bind_int64(st, 8, r->requested_at);
    k->bind(st, r);
    pb_store_rc rc = sqr_exec(c, st);
    if (rc == PB_STORE_OK) {
        r->id = sqlite3_last_insert_rowid(c->db);
        memcpy(r->status, "pending", sizeof "pending");
    }
    return rc;
}

static pb_store_rc sq_req_get(pb_store_conn *base, pb_store_request_kind kind,
                              const char *public_id, pb_store_request *out)
{
    return sqr_lookup_text(SQ(base), KINDS[kind]->get, public_id, NULL, KINDS[kind]->read, out);
}

static pb_store_rc sq_req_by_key(pb_store_conn *base, pb_store_request_kind kind, const char *brand,
                                 const char *key, pb_store_request *out)
{
    return sqr_lookup_text(SQ(base), KINDS[kind]->by_key, brand, key, KINDS[kind]->read, out);
}

static pb_store_rc sq_req_decide(pb_store_conn *base, pb_store_request_kind kind,
                                 const pb_store_request *r)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, KINDS[kind]->decide);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, r->id);
    sqr_bind_text(st, 2, r->status);
    sqr_bind_opt_text(st, 3, r->decided_by); /* NULL when expired */
    sqlite3_bind_int64(st, 4, r->decided_at);
    sqr_bind_opt_text(st, 5, r->decision_reason);
    sqr_bind_opt_text(st, 6, r->transfer_id);
    sqr_bind_opt_text(st, 7, r->failure);
    return sqr_exec_changed(c, st);
}

static pb_store_rc sq_req_list(pb_store_conn *base, pb_store_request_kind kind,
                               const char *brands_json, int64_t now, const char *status,
                               int64_t before_id, void *out, size_t cap, size_t *n)
{
    const sq_request_kind *k = KINDS[kind];
    const char *sql = !status                          ? k->list_any
                      : strcmp(status, "pending") == 0 ? k->list_pending
                      : strcmp(status, "expired") == 0 ? k->list_expired
                                                       : k->list_stored;
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
    return sqr_collect(c, st, out, k->size, cap, n, k->read);
}

static pb_store_rc sq_req_due(pb_store_conn *base, pb_store_request_kind kind, const char *brand,
                              int64_t requested_before, void *out, size_t cap, size_t *n)
{
    const sq_request_kind *k = KINDS[kind];
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, k->due);
    *n = 0;
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, brand);
    sqlite3_bind_int64(st, 2, requested_before);
    sqlite3_bind_int64(st, 3, (int64_t)cap);
    return sqr_collect(c, st, out, k->size, cap, n, k->read);
}

const struct pb_store_request_ops pb_store_sqlite_request_ops = {
    .insert = sq_req_insert,
    .get = sq_req_get,
    .by_key = sq_req_by_key,
    .decide = sq_req_decide,
    .list = sq_req_list,
    .due = sq_req_due,
};
