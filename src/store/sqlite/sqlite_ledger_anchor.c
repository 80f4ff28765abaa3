/*
 * sqlite_ledger_anchor.c — the ledger anchors' statements (migration 0042) and
 * the account scan their digest reads. Reads are faithful: a column of the
 * wrong type or size marks the anchor malformed (verify reports it), never a
 * silently zeroed or truncated value.
 */
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

#define SQ(c) ((sq_conn *)(c))

#define ANCHOR_COLS                                                              \
    "id,transfer_seq,transfer_hash,accounts_after,account_upto,accounts_digest," \
    "created_at,key_id,public_key,signature,rejections_after,rejection_upto,rejections_digest"

static bool col_int(int64_t *dst, sqlite3_stmt *st, int col)
{
    bool ok = sqlite3_column_type(st, col) == SQLITE_INTEGER;
    *dst = sqlite3_column_int64(st, col);
    return ok;
}

static bool col_blob(uint8_t *dst, size_t len, sqlite3_stmt *st, int col)
{
    bool ok = sqlite3_column_type(st, col) == SQLITE_BLOB;
    const void *b = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    memset(dst, 0, len);
    if (b)
        memcpy(dst, b, n < len ? n : len);
    return ok && n == len;
}

static bool col_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    bool ok = sqlite3_column_type(st, col) == SQLITE_TEXT;
    const unsigned char *s = sqlite3_column_text(st, col);
    size_t n = s ? (size_t)sqlite3_column_bytes(st, col) : 0;
    if (n >= cap) {
        n = cap - 1;
        ok = false;
    }
    memcpy(dst, s ? (const char *)s : "", n);
    dst[n] = 0;
    return ok && strlen(dst) == n;
}

static void read_anchor(sqlite3_stmt *st, pb_store_ledger_anchor *a)
{
    memset(a, 0, sizeof *a);
    bool ok = col_int(&a->id, st, 0);
    ok &= col_int(&a->transfer_seq, st, 1);
    ok &= col_blob(a->transfer_hash, 32, st, 2);
    ok &= col_int(&a->accounts_after, st, 3);
    ok &= col_int(&a->account_upto, st, 4);
    ok &= col_blob(a->accounts_digest, 32, st, 5);
    ok &= col_int(&a->created_at, st, 6);
    ok &= col_text(a->key_id, sizeof a->key_id, st, 7);
    ok &= col_blob(a->public_key, 32, st, 8);
    ok &= col_blob(a->signature, 64, st, 9);
    /* migration 0045: all three NULL (an older anchor) or all three set */
    int nulls = (sqlite3_column_type(st, 10) == SQLITE_NULL) +
                (sqlite3_column_type(st, 11) == SQLITE_NULL) +
                (sqlite3_column_type(st, 12) == SQLITE_NULL);
    a->has_rejections = nulls == 0;
    if (a->has_rejections) {
        ok &= col_int(&a->rejections_after, st, 10);
        ok &= col_int(&a->rejection_upto, st, 11);
        ok &= col_blob(a->rejections_digest, 32, st, 12);
    }
    ok &= nulls == 0 || nulls == 3;
    a->malformed = !ok;
}

pb_store_rc sq_ledger_anchor_insert(pb_store_conn *base, const pb_store_ledger_anchor *a)
{
    static const char SQL[] = "INSERT INTO ledger_anchor(" ANCHOR_COLS
                              ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_int64(st, 2, a->transfer_seq);
    sqlite3_bind_blob(st, 3, a->transfer_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, a->accounts_after);
    sqlite3_bind_int64(st, 5, a->account_upto);
    sqlite3_bind_blob(st, 6, a->accounts_digest, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, a->created_at);
    sqlite3_bind_text(st, 8, a->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, a->public_key, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 10, a->signature, 64, SQLITE_STATIC);
    if (a->has_rejections) {
        sqlite3_bind_int64(st, 11, a->rejections_after);
        sqlite3_bind_int64(st, 12, a->rejection_upto);
        sqlite3_bind_blob(st, 13, a->rejections_digest, 32, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 11);
        sqlite3_bind_null(st, 12);
        sqlite3_bind_null(st, 13);
    }
    pb_store_rc r = sq_exec_stmt(c, st);
    sqlite3_clear_bindings(st);
    return r;
}

pb_store_rc sq_ledger_anchor_last(pb_store_conn *base, pb_store_ledger_anchor *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT " ANCHOR_COLS
                                      " FROM ledger_anchor ORDER BY id DESC LIMIT 1");
    if (!st)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        read_anchor(st, out);
        r = PB_STORE_OK;
    } else if (rc != SQLITE_DONE) {
        r = sq_result(c, rc);
    }
    sqlite3_reset(st);
    return r;
}

pb_store_rc sq_ledger_anchor_scan(pb_store_conn *base, pb_store_ledger_anchor_cb cb, void *ctx)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, "SELECT " ANCHOR_COLS " FROM ledger_anchor ORDER BY id", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return sq_result(c, rc);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        pb_store_ledger_anchor a;
        read_anchor(st, &a);
        if (cb(ctx, &a))
            break;
    }
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqlite3_finalize(st);
    return r;
}

pb_store_rc sq_account_scan_after(pb_store_conn *base, int64_t after_id, pb_store_account_cb cb,
                                  void *ctx)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT id,brand,owner,kind,currency,flags,created_at "
                                "FROM ledger_account WHERE id>?1 ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_result(c, rc);
    sqlite3_bind_int64(st, 1, after_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        pb_store_account a;
        memset(&a, 0, sizeof a);
        a.id = sqlite3_column_int64(st, 0);
        int64_t flags = 0;
        /* as sqlite_ledger.c's read_account: flags an integer in 32 bits */
        bool ok[6] = {col_text(a.brand, sizeof a.brand, st, 1),
                      col_text(a.owner, sizeof a.owner, st, 2),
                      col_text(a.kind, sizeof a.kind, st, 3),
                      col_text(a.currency, sizeof a.currency, st, 4),
                      col_int(&flags, st, 5) && flags >= 0 && flags <= (int64_t)UINT32_MAX,
                      col_int(&a.created_at, st, 6)};
        static const char *const names[] = {"brand",    "owner", "kind",
                                            "currency", "flags", "created_at"};
        for (int i = 5; i >= 0; i--)
            if (!ok[i])
                a.malformed = names[i];
        a.flags = (uint32_t)flags;
        if (cb(ctx, &a))
            break;
    }
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqlite3_finalize(st);
    return r;
}
