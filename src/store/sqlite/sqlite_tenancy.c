/*
 * sqlite_tenancy.c — tenancy's statements on SQLite: the brand table and its
 * brand_currency children (0002_tenancy.sql). A brand row and its currencies are
 * always read and written together, so a pb_store_brand is the whole brand;
 * writes that touch both run under a savepoint, so each call is all or nothing
 * even inside the caller's transaction.
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

#define BRAND_COLS \
    "id,code,name,default_currency,jurisdiction,settings,status,created_at,updated_at"

/* Reads the brand columns (not the currencies) of the current row. */
static void read_brand(sqlite3_stmt *st, pb_store_brand *b)
{
    memset(b, 0, sizeof *b);
    b->id = sqlite3_column_int64(st, 0);
    sqr_text(b->code, sizeof b->code, st, 1);
    sqr_text(b->name, sizeof b->name, st, 2);
    sqr_text(b->default_currency, sizeof b->default_currency, st, 3);
    sqr_text(b->jurisdiction, sizeof b->jurisdiction, st, 4);
    sqr_text(b->settings, sizeof b->settings, st, 5);
    sqr_text(b->status, sizeof b->status, st, 6);
    b->created_at = sqlite3_column_int64(st, 7);
    b->updated_at = sqlite3_column_int64(st, 8);
}

/* Loads b->currencies (sorted) for b->id. */
static pb_store_rc load_currencies(sq_conn *c, pb_store_brand *b)
{
    static const char SQL[] =
        "SELECT currency FROM brand_currency WHERE brand_id=?1 ORDER BY currency";
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, b->id);
    b->ncurrencies = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && b->ncurrencies < PB_BRAND_CURRENCIES_MAX)
        sqr_text(b->currencies[b->ncurrencies++], sizeof b->currencies[0], st, 0);
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    return r;
}

/* Inserts b's currencies for b->id (the caller has removed the old ones). */
static pb_store_rc insert_currencies(sq_conn *c, const pb_store_brand *b)
{
    static const char SQL[] = "INSERT INTO brand_currency(brand_id,currency) VALUES(?1,?2)";
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    for (size_t i = 0; i < b->ncurrencies && i < PB_BRAND_CURRENCIES_MAX; i++) {
        sqlite3_bind_int64(st, 1, b->id);
        sqr_bind_text(st, 2, b->currencies[i]);
        pb_store_rc r = sqr_exec(c, st);
        if (r != PB_STORE_OK)
            return r;
    }
    return PB_STORE_OK;
}

/* Inserts a brand and its currencies; assigns b->id. */
static pb_store_rc sq_brand_insert(pb_store_conn *base, pb_store_brand *b)
{
    static const char SQL[] =
        "INSERT INTO brand(code,name,default_currency,jurisdiction,settings,status,"
        "created_at,updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, b->code);
    sqr_bind_text(st, 2, b->name);
    sqr_bind_text(st, 3, b->default_currency);
    sqr_bind_text(st, 4, b->jurisdiction);
    sqr_bind_text(st, 5, b->settings[0] ? b->settings : "{}");
    sqr_bind_text(st, 6, b->status[0] ? b->status : "active");
    sqlite3_bind_int64(st, 7, b->created_at);
    sqlite3_bind_int64(st, 8, b->updated_at);
    pb_store_rc r = sqr_savepoint(c);
    if (r != PB_STORE_OK)
        return r;
    r = sqr_exec(c, st);
    if (r == PB_STORE_OK) {
        b->id = sqlite3_last_insert_rowid(c->db);
        r = insert_currencies(c, b);
    }
    return sqr_release(c, r);
}

/* Rewrites the mutable columns of b->id and replaces its currencies. */
static pb_store_rc sq_brand_update(pb_store_conn *base, const pb_store_brand *b)
{
    static const char SQL[] =
        "UPDATE brand SET name=?2,default_currency=?3,jurisdiction=?4,settings=?5,status=?6,"
        "updated_at=?7 WHERE id=?1";
    static const char DEL[] = "DELETE FROM brand_currency WHERE brand_id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL), *del = sq_stmt_sql(c, DEL);
    if (!st || !del)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, b->id);
    sqr_bind_text(st, 2, b->name);
    sqr_bind_text(st, 3, b->default_currency);
    sqr_bind_text(st, 4, b->jurisdiction);
    sqr_bind_text(st, 5, b->settings[0] ? b->settings : "{}");
    sqr_bind_text(st, 6, b->status);
    sqlite3_bind_int64(st, 7, b->updated_at);
    pb_store_rc r = sqr_savepoint(c);
    if (r != PB_STORE_OK)
        return r;
    r = sqr_exec_changed(c, st);
    if (r == PB_STORE_OK) {
        sqlite3_bind_int64(del, 1, b->id);
        r = sqr_exec(c, del);
    }
    if (r == PB_STORE_OK)
        r = insert_currencies(c, b);
    return sqr_release(c, r);
}

/* Steps a one-brand lookup and completes it with the currencies. */
static pb_store_rc lookup_brand(sq_conn *c, sqlite3_stmt *st, pb_store_brand *out)
{
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        read_brand(st, out);
        r = PB_STORE_OK;
    } else if (rc != SQLITE_DONE) {
        r = sq_result(c, rc);
    }
    sqr_done(st);
    return r == PB_STORE_OK ? load_currencies(c, out) : r;
}

/* A brand by id, with its currencies. */
static pb_store_rc sq_brand_get(pb_store_conn *base, int64_t id, pb_store_brand *out)
{
    static const char SQL[] = "SELECT " BRAND_COLS " FROM brand WHERE id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    return lookup_brand(c, st, out);
}

/* A brand by code, with its currencies. */
static pb_store_rc sq_brand_by_code(pb_store_conn *base, const char *code, pb_store_brand *out)
{
    static const char SQL[] = "SELECT " BRAND_COLS " FROM brand WHERE code=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, code);
    return lookup_brand(c, st, out);
}

/* A page of brands in id order, each with its currencies. */
static pb_store_rc sq_brand_list(pb_store_conn *base, int64_t after_id, pb_store_brand *out,
                                 size_t cap, size_t *n)
{
    static const char SQL[] = "SELECT " BRAND_COLS " FROM brand WHERE id>?1 ORDER BY id LIMIT ?2";
    sq_conn *c = SQ(base);
    *n = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, (int64_t)cap);
    int rc = SQLITE_DONE;
    while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW)
        read_brand(st, &out[(*n)++]);
    pb_store_rc r = (*n == cap || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    for (size_t i = 0; r == PB_STORE_OK && i < *n; i++)
        r = load_currencies(c, &out[i]);
    return r;
}

const struct pb_store_tenancy_ops pb_store_sqlite_tenancy_ops = {
    .brand_insert = sq_brand_insert,
    .brand_update = sq_brand_update,
    .brand_get = sq_brand_get,
    .brand_by_code = sq_brand_by_code,
    .brand_list = sq_brand_list,
};
