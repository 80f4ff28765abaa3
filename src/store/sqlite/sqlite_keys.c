/*
 * sqlite_keys.c — the key check values on SQLite (0028_key_check.sql).
 */
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

static void read_kcv(sqlite3_stmt *st, uint8_t *kcv)
{
    memset(kcv, 0, PB_KEY_CHECK_LEN);
    sqr_blob(kcv, PB_KEY_CHECK_LEN, st, 0);
}

/* A database whose schema predates 0028 (a backup taken before the upgrade, read
 * by restore, which does not migrate the copy) has no key_check table: nothing is
 * recorded there, so every name is NOT_FOUND rather than a failure. */
static pb_store_rc sq_key_check_table(sq_conn *c)
{
    static const char SQL[] = "SELECT 1 FROM sqlite_schema WHERE type='table' AND name='key_check'";
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    sqr_done(st);
    return rc == SQLITE_ROW    ? PB_STORE_OK
           : rc == SQLITE_DONE ? PB_STORE_NOT_FOUND
                               : sq_result(c, rc);
}

static pb_store_rc sq_key_check_get(pb_store_conn *base, const char *name,
                                    uint8_t kcv[PB_KEY_CHECK_LEN])
{
    static const char SQL[] = "SELECT kcv FROM key_check WHERE name=?1";
    sq_conn *c = SQ(base);
    pb_store_rc t = sq_key_check_table(c);
    if (t != PB_STORE_OK)
        return t;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, name);
    SQR_LOOKUP(c, st, read_kcv, kcv);
}

static pb_store_rc sq_key_check_put(pb_store_conn *base, const char *name,
                                    const uint8_t kcv[PB_KEY_CHECK_LEN], int64_t now)
{
    static const char SQL[] = "INSERT INTO key_check (name, kcv, created_at) VALUES (?1, ?2, ?3) "
                              "ON CONFLICT (name) DO NOTHING";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, name);
    sqlite3_bind_blob(st, 2, kcv, PB_KEY_CHECK_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    return sqr_exec(c, st);
}

const struct pb_store_keys_ops pb_store_sqlite_keys_ops = {
    .key_check_get = sq_key_check_get,
    .key_check_put = sq_key_check_put,
};
