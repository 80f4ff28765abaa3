/*
 * sqlite_ledger.c — the ledger's statements on SQLite.
 *
 * One function per statement, each with a cached prepared statement. Rows map
 * one-to-one onto the structs in store_ledger.h; nothing here decides anything
 * about money. Text columns are copied into the structs' inline buffers.
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

#define TRANSFER_COLS                                                                    \
    "seq,id,scope,ikey,debit_account_id,credit_account_id,amount,currency,code,flags,"   \
    "pending_id,timeout_s,expires_at,reference,trace_id,debit_prev_seq,credit_prev_seq," \
    "created_at,hash"

#define ACCOUNT_COLS                                                                \
    "a.id,a.brand,a.owner,a.kind,a.currency,a.flags,a.created_at,b.debits_pending," \
    "b.debits_posted,b.credits_pending,b.credits_posted,b.last_seq"

/* Column checks for rows written only by the ledger: a value of another type, a
 * blob of another size or a text longer than its field is a damaged row, never
 * something to read as zeros or truncate. Each returns true when the column is
 * well formed. */
static bool col_int(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_INTEGER;
}

static bool col_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) != SQLITE_TEXT)
        return false;
    sqr_text(dst, cap, st, col);
    return (size_t)sqlite3_column_bytes(st, col) < cap;
}

static bool col_blob(uint8_t *dst, size_t len, sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_BLOB &&
           (size_t)sqlite3_column_bytes(st, col) == len && sqr_blob(dst, len, st, col) == len;
}

/* Reads a transfer row; NULL when it is well formed, else the name of the first
 * malformed column (the rest of *t is still read, as far as it goes). */
static const char *read_transfer(sqlite3_stmt *st, pb_store_transfer *t)
{
    static const char *const names[] = {"seq",
                                        "id",
                                        "scope",
                                        "ikey",
                                        "debit_account_id",
                                        "credit_account_id",
                                        "amount",
                                        "currency",
                                        "code",
                                        "flags",
                                        "pending_id",
                                        "timeout_s",
                                        "expires_at",
                                        "reference",
                                        "trace_id",
                                        "debit_prev_seq",
                                        "credit_prev_seq",
                                        "created_at",
                                        "hash"};
    bool ok[19];
    memset(t, 0, sizeof *t);
    ok[0] = col_int(st, 0);
    t->seq = sqlite3_column_int64(st, 0);
    ok[1] = col_blob(t->id.b, 16, st, 1);
    ok[2] = col_text(t->scope, sizeof t->scope, st, 2);
    ok[3] = col_text(t->ikey, sizeof t->ikey, st, 3);
    ok[4] = col_int(st, 4);
    t->debit_account_id = sqlite3_column_int64(st, 4);
    ok[5] = col_int(st, 5);
    t->credit_account_id = sqlite3_column_int64(st, 5);
    ok[6] = col_int(st, 6);
    t->amount = sqlite3_column_int64(st, 6);
    ok[7] = col_text(t->currency, sizeof t->currency, st, 7);
    ok[8] = col_int(st, 8);
    t->code = (uint32_t)sqlite3_column_int64(st, 8);
    ok[9] = col_int(st, 9);
    t->flags = (uint32_t)sqlite3_column_int64(st, 9);
    t->has_pending_id = sqlite3_column_type(st, 10) != SQLITE_NULL;
    ok[10] = !t->has_pending_id || col_blob(t->pending_id.b, 16, st, 10);
    ok[11] = col_int(st, 11);
    t->timeout_s = sqlite3_column_int64(st, 11);
    ok[12] = col_int(st, 12);
    t->expires_at = sqlite3_column_int64(st, 12);
    ok[13] = col_text(t->reference, sizeof t->reference, st, 13);
    ok[14] = col_text(t->trace_id, sizeof t->trace_id, st, 14);
    ok[15] = col_int(st, 15);
    t->debit_prev_seq = sqlite3_column_int64(st, 15);
    ok[16] = col_int(st, 16);
    t->credit_prev_seq = sqlite3_column_int64(st, 16);
    ok[17] = col_int(st, 17);
    t->created_at = sqlite3_column_int64(st, 17);
    ok[18] = col_blob(t->hash, 32, st, 18);
    for (int i = 0; i < 19; i++)
        if (!ok[i]) {
            t->malformed = names[i];
            return names[i];
        }
    return NULL;
}

/* Steps a lookup of one transfer: OK, NOT_FOUND, CORRUPT when the row is
 * malformed (*out holds what could be read, its seq at least) or SQLite finds
 * the pages it needs damaged, or the mapped error. */
static pb_store_rc transfer_lookup(sq_conn *c, sqlite3_stmt *st, pb_store_transfer *out)
{
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        const char *bad = read_transfer(st, out);
        r = PB_STORE_OK;
        if (bad) {
            snprintf(c->err, sizeof c->err,
                     "column %s of ledger_transfer seq %lld has the wrong type or size", bad,
                     (long long)out->seq);
            r = PB_STORE_CORRUPT;
        }
    } else if (rc != SQLITE_DONE) {
        memset(out, 0, sizeof *out);
        r = sq_result(c, rc);
        /* a damaged page: the statement failed, the transaction goes on */
        if ((rc & 0xff) == SQLITE_CORRUPT)
            r = PB_STORE_CORRUPT;
    }
    sqr_done(st);
    return r;
}

/* A counter of the balance row: an integer, never negative (the ledger only ever
 * adds to the four counters and last_seq is a seq). */
static bool col_counter(sqlite3_stmt *st, int col)
{
    return col_int(st, col) && sqlite3_column_int64(st, col) >= 0;
}

/* Reads an account and its balance row. Every column is read (as far as it fits)
 * even after a malformed one; a->malformed names the first that is not what the
 * ledger writes: a text column (brand, owner, kind, currency) that is not text or
 * longer than its field, flags that are not an integer in 32 bits, created_at not
 * an integer, a counter or last_seq that is not an integer or is negative, or (the
 * lookups' LEFT JOIN) no balance row at all. */
static void read_account(sqlite3_stmt *st, pb_store_account *a)
{
    static const char *const names[] = {"brand",          "owner",         "kind",
                                        "currency",       "flags",         "created_at",
                                        "debits_pending", "debits_posted", "credits_pending",
                                        "credits_posted", "last_seq"};
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    int64_t flags = sqlite3_column_int64(st, 5);
    bool ok[11] = {col_text(a->brand, sizeof a->brand, st, 1),
                   col_text(a->owner, sizeof a->owner, st, 2),
                   col_text(a->kind, sizeof a->kind, st, 3),
                   col_text(a->currency, sizeof a->currency, st, 4),
                   col_int(st, 5) && flags >= 0 && flags <= (int64_t)UINT32_MAX,
                   col_int(st, 6),
                   col_counter(st, 7),
                   col_counter(st, 8),
                   col_counter(st, 9),
                   col_counter(st, 10),
                   col_counter(st, 11)};
    a->flags = (uint32_t)flags;
    a->created_at = sqlite3_column_int64(st, 6);
    a->debits_pending = sqlite3_column_int64(st, 7);
    a->debits_posted = sqlite3_column_int64(st, 8);
    a->credits_pending = sqlite3_column_int64(st, 9);
    a->credits_posted = sqlite3_column_int64(st, 10);
    a->last_seq = sqlite3_column_int64(st, 11);
    for (int i = 10; i >= 0; i--)
        if (!ok[i])
            a->malformed = names[i];
    /* the lookups' LEFT JOIN: an account row without its balance row (col 12 is
     * b.account_id there; the scans have no column 12) */
    if (sqlite3_column_count(st) > 12 && sqlite3_column_type(st, 12) == SQLITE_NULL)
        a->malformed = "balance row";
}

pb_store_rc sq_account_insert(pb_store_conn *base, pb_store_account *a)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_ACCOUNT_INSERT,
                               "INSERT INTO ledger_account(id,brand,owner,kind,currency,flags,"
                               "created_at) VALUES(?1,?2,?3,?4,?5,?6,?7)");
    sqlite3_stmt *bal = sq_stmt(c, SQ_BALANCE_INSERT,
                                "INSERT INTO ledger_balance(account_id) VALUES(?1)");
    if (!st || !bal)
        return PB_STORE_ERROR;
    if (a->id)
        sqlite3_bind_int64(st, 1, a->id);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_text(st, 2, a->brand, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, a->flags);
    sqlite3_bind_int64(st, 7, a->created_at);
    pb_store_rc r = sq_exec_stmt(c, st);
    if (r != PB_STORE_OK)
        return r;
    a->id = sqlite3_last_insert_rowid(c->db);
    sqlite3_bind_int64(bal, 1, a->id);
    return sq_exec_stmt(c, bal);
}

pb_store_rc sq_account_get(pb_store_conn *base, int64_t id, pb_store_account *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_ACCOUNT_GET,
                               "SELECT " ACCOUNT_COLS ",b.account_id FROM ledger_account a "
                               "LEFT JOIN ledger_balance b ON b.account_id=a.id WHERE a.id=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    SQR_LOOKUP(c, st, read_account, out);
}

pb_store_rc sq_account_find(pb_store_conn *base, const char *brand, const char *owner,
                            const char *kind, const char *currency, pb_store_account *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_ACCOUNT_FIND,
                               "SELECT " ACCOUNT_COLS ",b.account_id FROM ledger_account a "
                               "LEFT JOIN ledger_balance b ON b.account_id=a.id "
                               "WHERE a.brand=?1 AND a.owner=?2 AND a.kind=?3 AND a.currency=?4");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_text(st, 1, brand, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, currency, -1, SQLITE_STATIC);
    SQR_LOOKUP(c, st, read_account, out);
}

pb_store_rc sq_balance_update(pb_store_conn *base, const pb_store_account *a)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_BALANCE_UPDATE,
                               "UPDATE ledger_balance SET debits_pending=?2,debits_posted=?3,"
                               "credits_pending=?4,credits_posted=?5,last_seq=?6 "
                               "WHERE account_id=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_int64(st, 2, a->debits_pending);
    sqlite3_bind_int64(st, 3, a->debits_posted);
    sqlite3_bind_int64(st, 4, a->credits_pending);
    sqlite3_bind_int64(st, 5, a->credits_posted);
    sqlite3_bind_int64(st, 6, a->last_seq);
    pb_store_rc r = sq_exec_stmt(c, st);
    if (r == PB_STORE_OK && sqlite3_changes(c->db) != 1)
        return PB_STORE_NOT_FOUND;
    return r;
}

pb_store_rc sq_transfer_insert(pb_store_conn *base, const pb_store_transfer *t)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st =
        sq_stmt(c, SQ_TRANSFER_INSERT,
                "INSERT INTO ledger_transfer(" TRANSFER_COLS ") VALUES("
                "?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, t->seq);
    sqlite3_bind_blob(st, 2, t->id.b, 16, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->ikey, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, t->debit_account_id);
    sqlite3_bind_int64(st, 6, t->credit_account_id);
    sqlite3_bind_int64(st, 7, t->amount);
    sqlite3_bind_text(st, 8, t->currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, t->code);
    sqlite3_bind_int64(st, 10, t->flags);
    if (t->has_pending_id)
        sqlite3_bind_blob(st, 11, t->pending_id.b, 16, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 11);
    sqlite3_bind_int64(st, 12, t->timeout_s);
    sqlite3_bind_int64(st, 13, t->expires_at);
    sqlite3_bind_text(st, 14, t->reference, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, t->trace_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 16, t->debit_prev_seq);
    sqlite3_bind_int64(st, 17, t->credit_prev_seq);
    sqlite3_bind_int64(st, 18, t->created_at);
    sqlite3_bind_blob(st, 19, t->hash, 32, SQLITE_STATIC);
    return sq_exec_stmt(c, st);
}

pb_store_rc sq_transfer_by_seq(pb_store_conn *base, int64_t seq, pb_store_transfer *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_TRANSFER_BY_SEQ,
                               "SELECT " TRANSFER_COLS " FROM ledger_transfer WHERE seq=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, seq);
    return transfer_lookup(c, st, out);
}

pb_store_rc sq_transfer_by_legacy_id(pb_store_conn *base, const pb_id *id, int64_t below,
                                     pb_store_transfer *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_TRANSFER_BY_LEGACY_ID,
                               "SELECT " TRANSFER_COLS
                               " FROM ledger_transfer WHERE seq<?2 AND id=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_blob(st, 1, id->b, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, below);
    return transfer_lookup(c, st, out);
}

pb_store_rc sq_ledger_ids(pb_store_conn *base, uint8_t key[16], int64_t *legacy_below)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_LEDGER_IDS,
                               "SELECT id_key, legacy_ids_below FROM ledger_state WHERE id=1");
    if (!st)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) == 16) {
            memcpy(key, sqlite3_column_blob(st, 0), 16);
            *legacy_below = sqlite3_column_int64(st, 1);
            r = PB_STORE_OK;
        } else {
            snprintf(c->err, sizeof c->err, "ledger_state.id_key is not 16 bytes");
            r = PB_STORE_ERROR;
        }
    } else if (rc != SQLITE_DONE) {
        r = sq_result(c, rc);
    }
    sqr_done(st);
    return r;
}

pb_store_rc sq_transfer_by_key(pb_store_conn *base, const char *scope, const char *ikey,
                               pb_store_transfer *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_TRANSFER_BY_KEY,
                               "SELECT " TRANSFER_COLS
                               " FROM ledger_transfer WHERE scope=?1 AND ikey=?2");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ikey, -1, SQLITE_STATIC);
    return transfer_lookup(c, st, out);
}

pb_store_rc sq_transfer_by_pending(pb_store_conn *base, const pb_id *pending_id,
                                   pb_store_transfer *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_TRANSFER_BY_PENDING,
                               "SELECT " TRANSFER_COLS " FROM ledger_transfer WHERE pending_id=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_blob(st, 1, pending_id->b, 16, SQLITE_STATIC);
    return transfer_lookup(c, st, out);
}

pb_store_rc sq_transfer_last(pb_store_conn *base, pb_store_transfer *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_TRANSFER_LAST,
                               "SELECT " TRANSFER_COLS
                               " FROM ledger_transfer ORDER BY seq DESC LIMIT 1");
    if (!st)
        return PB_STORE_ERROR;
    return transfer_lookup(c, st, out);
}

/* Reads a rejection row; NULL when well formed, else the first malformed column. */
static const char *read_rejection(sqlite3_stmt *st, pb_store_rejection *r)
{
    const char *bad = NULL;
#define CHECK(ok, name)    \
    do {                   \
        if (!(ok) && !bad) \
            bad = name;    \
    } while (0)
    memset(r, 0, sizeof *r);
    CHECK(col_text(r->scope, sizeof r->scope, st, 0), "scope");
    CHECK(col_text(r->ikey, sizeof r->ikey, st, 1), "ikey");
    CHECK(col_int(st, 2), "debit_account_id");
    r->debit_account_id = sqlite3_column_int64(st, 2);
    CHECK(col_int(st, 3), "credit_account_id");
    r->credit_account_id = sqlite3_column_int64(st, 3);
    CHECK(col_int(st, 4), "amount");
    r->amount = sqlite3_column_int64(st, 4);
    CHECK(col_text(r->currency, sizeof r->currency, st, 5), "currency");
    CHECK(col_int(st, 6), "code");
    r->code = (uint32_t)sqlite3_column_int64(st, 6);
    CHECK(col_int(st, 7), "flags");
    r->flags = (uint32_t)sqlite3_column_int64(st, 7);
    r->has_pending_id = sqlite3_column_type(st, 8) != SQLITE_NULL;
    CHECK(!r->has_pending_id || col_blob(r->pending_id.b, 16, st, 8), "pending_id");
    CHECK(col_int(st, 9), "timeout_s");
    r->timeout_s = sqlite3_column_int64(st, 9);
    CHECK(col_text(r->reference, sizeof r->reference, st, 10), "reference");
    CHECK(col_text(r->error, sizeof r->error, st, 11), "error");
    CHECK(col_int(st, 12), "created_at");
    r->created_at = sqlite3_column_int64(st, 12);
#undef CHECK
    return bad;
}

#define REJECTION_COLS                                                                     \
    "scope,ikey,debit_account_id,credit_account_id,amount,currency,code,flags,pending_id," \
    "timeout_s,reference,error,created_at"

pb_store_rc sq_rejection_insert(pb_store_conn *base, const pb_store_rejection *r)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_REJECTION_INSERT,
                               "INSERT INTO ledger_rejection(" REJECTION_COLS
                               ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_text(st, 1, r->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->ikey, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->debit_account_id);
    sqlite3_bind_int64(st, 4, r->credit_account_id);
    sqlite3_bind_int64(st, 5, r->amount);
    sqlite3_bind_text(st, 6, r->currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, r->code);
    sqlite3_bind_int64(st, 8, r->flags);
    if (r->has_pending_id)
        sqlite3_bind_blob(st, 9, r->pending_id.b, 16, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 9);
    sqlite3_bind_int64(st, 10, r->timeout_s);
    sqlite3_bind_text(st, 11, r->reference, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, r->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 13, r->created_at);
    return sq_exec_stmt(c, st);
}

pb_store_rc sq_rejection_by_key(pb_store_conn *base, const char *scope, const char *ikey,
                                pb_store_rejection *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_REJECTION_BY_KEY,
                               "SELECT " REJECTION_COLS
                               " FROM ledger_rejection WHERE scope=?1 AND ikey=?2");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ikey, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        const char *bad = read_rejection(st, out);
        r = PB_STORE_OK;
        if (bad) {
            snprintf(c->err, sizeof c->err,
                     "column %s of ledger_rejection %s/%s has the wrong type or size", bad, scope,
                     ikey);
            r = PB_STORE_CORRUPT;
        }
    } else if (rc != SQLITE_DONE) {
        r = sq_result(c, rc);
        if ((rc & 0xff) == SQLITE_CORRUPT)
            r = PB_STORE_CORRUPT;
    }
    sqr_done(st);
    return r;
}

pb_store_rc sq_pending_open_insert(pb_store_conn *base, int64_t seq, int64_t expires_at)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_PENDING_INSERT,
                               "INSERT INTO ledger_pending_open(transfer_seq,expires_at) "
                               "VALUES(?1,?2)");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, expires_at);
    return sq_exec_stmt(c, st);
}

pb_store_rc sq_pending_open_delete(pb_store_conn *base, int64_t seq)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_PENDING_DELETE,
                               "DELETE FROM ledger_pending_open WHERE transfer_seq=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, seq);
    pb_store_rc r = sq_exec_stmt(c, st);
    if (r == PB_STORE_OK && sqlite3_changes(c->db) != 1)
        return PB_STORE_NOT_FOUND;
    return r;
}

static void read_expiry(sqlite3_stmt *st, int64_t *out) { *out = sqlite3_column_int64(st, 0); }

pb_store_rc sq_pending_open_get(pb_store_conn *base, int64_t seq, int64_t *expires_at)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_PENDING_GET,
                               "SELECT expires_at FROM ledger_pending_open WHERE transfer_seq=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, seq);
    SQR_LOOKUP(c, st, read_expiry, expires_at);
}

pb_store_rc sq_pending_open_next_expiry(pb_store_conn *base, int64_t *at)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st =
        sq_stmt(c, SQ_PENDING_NEXT_EXPIRY,
                "SELECT min(expires_at) FROM ledger_pending_open WHERE expires_at > 0");
    if (!st)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_NOT_FOUND;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *at = sqlite3_column_int64(st, 0);
        r = PB_STORE_OK;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = sq_result(c, rc);
    }
    sqr_done(st);
    return r;
}

pb_store_rc sq_pending_open_expired(pb_store_conn *base, int64_t now, int64_t *seqs, size_t cap,
                                    size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt(c, SQ_PENDING_EXPIRED,
                               "SELECT transfer_seq FROM ledger_pending_open "
                               "WHERE expires_at > 0 AND expires_at <= ?1 "
                               "ORDER BY expires_at, transfer_seq LIMIT ?2");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, (int64_t)cap);
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < cap)
        seqs[(*n)++] = sqlite3_column_int64(st, 0);
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* Scans use one-off statements: they run rarely (verify, tooling), not on the hot path. */
static pb_store_rc scan(sq_conn *c, const char *sql, int64_t bind1,
                        int (*row)(sqlite3_stmt *, void *), void *ctx)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_result(c, rc);
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_int64(st, 1, bind1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (row(st, ctx))
            break;
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqlite3_finalize(st);
    return r;
}

struct cb_ctx {
    void *fn;
    void *ctx;
};

static int transfer_row(sqlite3_stmt *st, void *p)
{
    struct cb_ctx *x = p;
    pb_store_transfer t;
    (void)read_transfer(st, &t); /* a malformed row is passed on marked (t.malformed) */
    return ((pb_store_transfer_cb)x->fn)(x->ctx, &t);
}

static int account_row(sqlite3_stmt *st, void *p)
{
    struct cb_ctx *x = p;
    pb_store_account a;
    read_account(st, &a);
    return ((pb_store_account_cb)x->fn)(x->ctx, &a);
}

static int pending_row(sqlite3_stmt *st, void *p)
{
    struct cb_ctx *x = p;
    return ((pb_store_pending_cb)x->fn)(x->ctx, sqlite3_column_int64(st, 0),
                                        sqlite3_column_int64(st, 1));
}

pb_store_rc sq_transfer_scan(pb_store_conn *base, int64_t after_seq, pb_store_transfer_cb cb,
                             void *ctx)
{
    struct cb_ctx x = {(void *)cb, ctx};
    return scan(SQ(base), "SELECT " TRANSFER_COLS " FROM ledger_transfer WHERE seq>?1 ORDER BY seq",
                after_seq, transfer_row, &x);
}

pb_store_rc sq_transfer_scan_account(pb_store_conn *base, int64_t after_seq, int64_t account,
                                     pb_store_transfer_cb cb, void *ctx)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st;
    /* a range of the primary key (the tail above the balance mark), filtered */
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT " TRANSFER_COLS " FROM ledger_transfer WHERE seq>?1 AND "
                                "(debit_account_id=?2 OR credit_account_id=?2) ORDER BY seq",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_result(c, rc);
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int64(st, 2, account);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        pb_store_transfer t;
        (void)read_transfer(st, &t); /* a malformed row is passed on marked (t.malformed) */
        if (cb(ctx, &t))
            break;
    }
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqlite3_finalize(st);
    return r;
}

static pb_store_rc mark_get(sq_conn *c, sqlite3_stmt *st, int64_t *seq)
{
    if (!st)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        r = PB_STORE_OK;
    } else if (rc != SQLITE_DONE) {
        r = sq_result(c, rc);
    }
    sqr_done(st);
    return r;
}

static pb_store_rc mark_set(sq_conn *c, sqlite3_stmt *st, int64_t seq)
{
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, seq);
    pb_store_rc r = sq_exec_stmt(c, st);
    if (r == PB_STORE_OK && sqlite3_changes(c->db) != 1)
        return PB_STORE_NOT_FOUND;
    return r;
}

pb_store_rc sq_balances_mark_get(pb_store_conn *base, int64_t *seq)
{
    sq_conn *c = SQ(base);
    return mark_get(c, sq_stmt(c, SQ_MARK_GET, "SELECT balances_seq FROM ledger_state WHERE id=1"),
                    seq);
}

pb_store_rc sq_balances_mark_set(pb_store_conn *base, int64_t seq)
{
    sq_conn *c = SQ(base);
    return mark_set(c,
                    sq_stmt(c, SQ_MARK_SET, "UPDATE ledger_state SET balances_seq=?1 WHERE id=1"),
                    seq);
}

pb_store_rc sq_pending_mark_get(pb_store_conn *base, int64_t *seq)
{
    sq_conn *c = SQ(base);
    return mark_get(c, sq_stmt(c, SQ_PMARK_GET, "SELECT pending_seq FROM ledger_state WHERE id=1"),
                    seq);
}

pb_store_rc sq_pending_mark_set(pb_store_conn *base, int64_t seq)
{
    sq_conn *c = SQ(base);
    return mark_set(c,
                    sq_stmt(c, SQ_PMARK_SET, "UPDATE ledger_state SET pending_seq=?1 WHERE id=1"),
                    seq);
}

pb_store_rc sq_account_scan(pb_store_conn *base, pb_store_account_cb cb, void *ctx)
{
    struct cb_ctx x = {(void *)cb, ctx};
    /* LEFT JOIN: an account whose balance row is missing is still reported (with zero
     * counters) so verify checks its transfers; pb_store_balance_orphans counts it too */
    return scan(SQ(base),
                "SELECT a.id,a.brand,a.owner,a.kind,a.currency,a.flags,a.created_at,"
                "coalesce(b.debits_pending,0),coalesce(b.debits_posted,0),"
                "coalesce(b.credits_pending,0),coalesce(b.credits_posted,0),"
                "coalesce(b.last_seq,0) FROM ledger_account a "
                "LEFT JOIN ledger_balance b ON b.account_id=a.id ORDER BY a.id",
                0, account_row, &x);
}

pb_store_rc sq_pending_open_scan(pb_store_conn *base, pb_store_pending_cb cb, void *ctx)
{
    struct cb_ctx x = {(void *)cb, ctx};
    return scan(SQ(base),
                "SELECT transfer_seq,expires_at FROM ledger_pending_open ORDER BY transfer_seq", 0,
                pending_row, &x);
}

static int key_row(sqlite3_stmt *st, void *p)
{
    struct cb_ctx *x = p;
    return ((pb_store_key_cb)x->fn)(x->ctx, (const char *)sqlite3_column_text(st, 0),
                                    (const char *)sqlite3_column_text(st, 1));
}

pb_store_rc sq_rejection_scan_keys(pb_store_conn *base, pb_store_key_cb cb, void *ctx)
{
    struct cb_ctx x = {(void *)cb, ctx};
    return scan(SQ(base), "SELECT scope,ikey FROM ledger_rejection", 0, key_row, &x);
}

pb_store_rc sq_rejection_scan_range(pb_store_conn *base, int64_t after_seq, int64_t upto_seq,
                                    pb_store_rejection_cb cb, void *ctx)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT " REJECTION_COLS ",seq FROM ledger_rejection "
                                "WHERE seq>?1 AND seq<=?2 ORDER BY seq",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_result(c, rc);
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int64(st, 2, upto_seq);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        pb_store_rejection r;
        memset(&r, 0, sizeof r);
        const char *bad = read_rejection(st, &r);
        r.seq = sqlite3_column_int64(st, 13);
        if (cb(ctx, &r, bad))
            break;
    }
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqlite3_finalize(st);
    return r;
}

static int count_row(sqlite3_stmt *st, void *p)
{
    *(int64_t *)p = sqlite3_column_int64(st, 0);
    return 1;
}

pb_store_rc sq_balance_orphans(pb_store_conn *base, int64_t *orphans)
{
    *orphans = 0;
    return scan(SQ(base),
                "SELECT (SELECT count(*) FROM ledger_account a WHERE NOT EXISTS "
                "(SELECT 1 FROM ledger_balance b WHERE b.account_id=a.id)) + "
                "(SELECT count(*) FROM ledger_balance b WHERE NOT EXISTS "
                "(SELECT 1 FROM ledger_account a WHERE a.id=b.account_id))",
                0, count_row, orphans);
}
