/*
 * sqlite_reconcile.c — the reconciliation runs on SQLite (0056): reconciliation
 * and reconciliation_item. Writes run in the run's ledger command (the writer's
 * batch transaction); reads anywhere.
 */
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

#define RUN_COLS                                                                        \
    "seq,id,psp,period_from,period_to,source,run_by,psp_rows,psp_rows_outside,matched," \
    "missing_ours,status_mismatch,amount_mismatch,missing_psp,created_at"

static void read_run(sqlite3_stmt *st, void *v)
{
    pb_store_recon *r = v;
    memset(r, 0, sizeof *r);
    r->seq = sqlite3_column_int64(st, 0);
    sqr_text(r->id, sizeof r->id, st, 1);
    sqr_text(r->psp, sizeof r->psp, st, 2);
    r->period_from = sqlite3_column_int64(st, 3);
    r->period_to = sqlite3_column_int64(st, 4);
    sqr_text(r->source, sizeof r->source, st, 5);
    sqr_text(r->run_by, sizeof r->run_by, st, 6);
    r->psp_rows = sqlite3_column_int64(st, 7);
    r->psp_rows_outside = sqlite3_column_int64(st, 8);
    r->matched = sqlite3_column_int64(st, 9);
    r->missing_ours = sqlite3_column_int64(st, 10);
    r->status_mismatch = sqlite3_column_int64(st, 11);
    r->amount_mismatch = sqlite3_column_int64(st, 12);
    r->missing_psp = sqlite3_column_int64(st, 13);
    r->created_at = sqlite3_column_int64(st, 14);
}

static pb_store_rc run_insert(pb_store_conn *base, const pb_store_recon *r, int64_t *seq)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c, "INSERT INTO reconciliation(id,psp,period_from,period_to,source,run_by,psp_rows,"
           "psp_rows_outside,matched,missing_ours,status_mismatch,amount_mismatch,missing_psp,"
           "created_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, r->id);
    sqr_bind_text(st, 2, r->psp);
    sqlite3_bind_int64(st, 3, r->period_from);
    sqlite3_bind_int64(st, 4, r->period_to);
    sqr_bind_text(st, 5, r->source);
    sqr_bind_text(st, 6, r->run_by);
    sqlite3_bind_int64(st, 7, r->psp_rows);
    sqlite3_bind_int64(st, 8, r->psp_rows_outside);
    sqlite3_bind_int64(st, 9, r->matched);
    sqlite3_bind_int64(st, 10, r->missing_ours);
    sqlite3_bind_int64(st, 11, r->status_mismatch);
    sqlite3_bind_int64(st, 12, r->amount_mismatch);
    sqlite3_bind_int64(st, 13, r->missing_psp);
    sqlite3_bind_int64(st, 14, r->created_at);
    pb_store_rc rc = sqr_exec(c, st);
    if (rc == PB_STORE_OK && seq)
        *seq = sqlite3_last_insert_rowid(c->db);
    return rc;
}

static void bind_opt_int(sqlite3_stmt *st, int i, bool set, int64_t v)
{
    if (set)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static void bind_opt_str(sqlite3_stmt *st, int i, bool set, const char *v)
{
    if (set)
        sqr_bind_text(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static pb_store_rc item_insert(pb_store_conn *base, int64_t run_seq, const pb_store_recon_item *it)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c, "INSERT INTO reconciliation_item(reconciliation_seq,n,class,kind,reference,brand_id,"
           "brand,our_id,our_status,our_amount,our_currency,psp_status,psp_amount,psp_currency,"
           "psp_settled_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_seq);
    sqlite3_bind_int64(st, 2, it->n);
    sqr_bind_text(st, 3, it->cls);
    sqr_bind_text(st, 4, it->kind);
    sqr_bind_text(st, 5, it->reference);
    bind_opt_int(st, 6, it->brand_id != 0, it->brand_id);
    bind_opt_str(st, 7, it->brand_id != 0, it->brand);
    bind_opt_str(st, 8, it->has_ours, it->our_id);
    bind_opt_str(st, 9, it->has_ours, it->our_status);
    bind_opt_int(st, 10, it->has_ours, it->our_amount);
    bind_opt_str(st, 11, it->has_ours, it->our_currency);
    bind_opt_str(st, 12, it->has_psp, it->psp_status);
    bind_opt_int(st, 13, it->has_psp, it->psp_amount);
    bind_opt_str(st, 14, it->has_psp, it->psp_currency);
    bind_opt_int(st, 15, it->has_psp, it->psp_settled_at);
    return sqr_exec(c, st);
}

static pb_store_rc run_get(pb_store_conn *base, const char *id, pb_store_recon *out)
{
    return sqr_lookup_text(SQ(base), "SELECT " RUN_COLS " FROM reconciliation WHERE id=?1", id,
                           NULL, read_run, out);
}

static pb_store_rc run_list(pb_store_conn *base, int64_t before_seq, size_t limit,
                            pb_store_recon *out, size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT " RUN_COLS " FROM reconciliation WHERE "
                                      "(?1 = 0 OR seq < ?1) ORDER BY seq DESC LIMIT ?2");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, before_seq);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    return sqr_collect(c, st, out, sizeof *out, limit, n, read_run);
}

static void read_item(sqlite3_stmt *st, void *v)
{
    pb_store_recon_item *it = v;
    memset(it, 0, sizeof *it);
    it->n = sqlite3_column_int64(st, 0);
    sqr_text(it->cls, sizeof it->cls, st, 1);
    sqr_text(it->kind, sizeof it->kind, st, 2);
    sqr_text(it->reference, sizeof it->reference, st, 3);
    it->brand_id = sqlite3_column_int64(st, 4);
    sqr_text(it->brand, sizeof it->brand, st, 5);
    it->has_ours = sqlite3_column_type(st, 6) != SQLITE_NULL;
    sqr_text(it->our_id, sizeof it->our_id, st, 6);
    sqr_text(it->our_status, sizeof it->our_status, st, 7);
    it->our_amount = sqlite3_column_int64(st, 8);
    sqr_text(it->our_currency, sizeof it->our_currency, st, 9);
    it->has_psp = sqlite3_column_type(st, 10) != SQLITE_NULL;
    sqr_text(it->psp_status, sizeof it->psp_status, st, 10);
    it->psp_amount = sqlite3_column_int64(st, 11);
    sqr_text(it->psp_currency, sizeof it->psp_currency, st, 12);
    it->psp_settled_at = sqlite3_column_int64(st, 13);
}

static pb_store_rc items(pb_store_conn *base, int64_t run_seq, const char *brand_ids_json,
                         int64_t after_n, size_t limit, pb_store_recon_item *out, size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c, "SELECT n,class,kind,reference,brand_id,brand,our_id,our_status,our_amount,"
           "our_currency,psp_status,psp_amount,psp_currency,psp_settled_at FROM "
           "reconciliation_item WHERE reconciliation_seq=?1 AND n>?3 AND (?2 IS NULL OR "
           "brand_id IN (SELECT value FROM json_each(?2))) ORDER BY n LIMIT ?4");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_seq);
    sqr_bind_opt_text(st, 2, brand_ids_json);
    sqlite3_bind_int64(st, 3, after_n);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
    return sqr_collect(c, st, out, sizeof *out, limit, n, read_item);
}

const struct pb_store_recon_ops pb_store_sqlite_recon_ops = {
    .insert = run_insert,
    .item_insert = item_insert,
    .get = run_get,
    .list = run_list,
    .items = items,
};
