/*
 * sqlite_cashier.c — the cashier's statements on SQLite (0007_cashier.sql):
 * payment, payment_event, withdrawal and withdrawal_approval. Writes run in the
 * ledger writer's batch transaction (cashier commands); reads anywhere.
 */
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

/* A page of payments or withdrawals, newest first: one statement for each set of
 * filters given (?2 the player, ?3 the status), so that SQLite picks the index of
 * that filter — "(?3 IS NULL OR status=?3)" in one statement for all of them
 * kept it from using any, and every list read the table from the newest row until
 * it had a page. A player's list walks the player's index (player, seq), also
 * with a status (a player has few rows, a status may have millions: INDEXED BY,
 * as SQLite has no statistics to tell); a list of one status walks that status's
 * (0020); the brand filter (?1) and the position (?4) are checked on the rows met.
 * Bind ?1..?5 whatever the variant. */
#define LIST_TAIL " ORDER BY seq DESC LIMIT ?5"
#define LIST_BRAND                                                              \
    " WHERE (?1 IS NULL OR brand_id IN (SELECT value FROM json_each(?1))) AND " \
    "(?4 = 0 OR seq < ?4)"
#define LIST_SQL(select, table, player_index)                                           \
    {                                                                                   \
        select " FROM " table LIST_BRAND " AND ?2 IS NULL AND ?3 IS NULL" LIST_TAIL,    \
            select " FROM " table " INDEXED BY " player_index LIST_BRAND                \
                   " AND player=?2 AND ?3 IS NULL" LIST_TAIL,                           \
            select " FROM " table LIST_BRAND " AND ?2 IS NULL AND status=?3" LIST_TAIL, \
            select " FROM " table " INDEXED BY " player_index LIST_BRAND                \
                   " AND player=?2 AND status=?3" LIST_TAIL,                            \
    }

/* Which of LIST_SQL's statements fits the filters (NULL or "" = not given). */
static size_t list_variant(const char *player, const char *status)
{
    return (player && *player ? 1u : 0u) | (status && *status ? 2u : 0u);
}

#define PAY_COLS                                                                         \
    "id,brand_id,brand,player,currency,amount,idempotency_key,psp,psp_reference,status," \
    "transfer_id,created_at,updated_at,completed_late"

/* The row as SELECT seq, PAY_COLS returns it. */
static void read_payment(sqlite3_stmt *st, pb_store_payment *p)
{
    memset(p, 0, sizeof *p);
    p->seq = sqlite3_column_int64(st, 0);
    sqr_text(p->id, sizeof p->id, st, 1);
    p->brand_id = sqlite3_column_int64(st, 2);
    sqr_text(p->brand, sizeof p->brand, st, 3);
    sqr_text(p->player, sizeof p->player, st, 4);
    sqr_text(p->currency, sizeof p->currency, st, 5);
    p->amount = sqlite3_column_int64(st, 6);
    sqr_text(p->idempotency_key, sizeof p->idempotency_key, st, 7);
    sqr_text(p->psp, sizeof p->psp, st, 8);
    sqr_text(p->psp_reference, sizeof p->psp_reference, st, 9);
    sqr_text(p->status, sizeof p->status, st, 10);
    p->has_transfer = sqlite3_column_type(st, 11) == SQLITE_BLOB &&
                      sqr_blob(p->transfer_id.b, sizeof p->transfer_id.b, st, 11) ==
                          sizeof p->transfer_id.b;
    p->created_at = sqlite3_column_int64(st, 12);
    p->updated_at = sqlite3_column_int64(st, 13);
    p->completed_late = sqlite3_column_int(st, 14) != 0;
}

static void read_payment_v(sqlite3_stmt *st, void *p) { read_payment(st, p); }

static pb_store_rc payment_insert(pb_store_conn *base, const pb_store_payment *p)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "INSERT INTO payment(" PAY_COLS
                                      ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,NULL,?11,?12,0)");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, p->id);
    sqlite3_bind_int64(st, 2, p->brand_id);
    sqr_bind_text(st, 3, p->brand);
    sqr_bind_text(st, 4, p->player);
    sqr_bind_text(st, 5, p->currency);
    sqlite3_bind_int64(st, 6, p->amount);
    sqr_bind_text(st, 7, p->idempotency_key);
    sqr_bind_text(st, 8, p->psp);
    sqr_bind_text(st, 9, p->psp_reference);
    sqr_bind_text(st, 10, p->status);
    sqlite3_bind_int64(st, 11, p->created_at);
    sqlite3_bind_int64(st, 12, p->updated_at);
    return sqr_exec(c, st);
}

static pb_store_rc payment_get(pb_store_conn *base, const char *id, pb_store_payment *out)
{
    return sqr_lookup_text(SQ(base), "SELECT seq," PAY_COLS " FROM payment WHERE id=?1", id, NULL,
                           read_payment_v, out);
}

static pb_store_rc payment_by_key(pb_store_conn *base, const char *player, const char *key,
                                  pb_store_payment *out)
{
    return sqr_lookup_text(SQ(base),
                           "SELECT seq," PAY_COLS
                           " FROM payment WHERE player=?1 AND idempotency_key=?2",
                           player, key, read_payment_v, out);
}

static pb_store_rc payment_by_reference(pb_store_conn *base, const char *psp, const char *ref,
                                        pb_store_payment *out)
{
    return sqr_lookup_text(SQ(base),
                           "SELECT seq," PAY_COLS " FROM payment WHERE psp=?1 AND psp_reference=?2",
                           psp, ref, read_payment_v, out);
}

static pb_store_rc payment_update(pb_store_conn *base, const pb_store_payment *p)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c,
                                   "UPDATE payment SET status=?2, transfer_id=?3, updated_at=?4, "
                                   "completed_late=?5 WHERE id=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, p->id);
    sqr_bind_text(st, 2, p->status);
    if (p->has_transfer)
        sqlite3_bind_blob(st, 3, p->transfer_id.b, sizeof p->transfer_id.b, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, p->updated_at);
    sqlite3_bind_int(st, 5, p->completed_late ? 1 : 0);
    return sqr_exec_changed(c, st);
}

/* The expiry side (?6: 1 expired, 2 not) against the row's brand's cutoff (?7: a
 * JSON object brand id → cutoff, ?8: the cutoff of a brand not in it). */
#define PAY_EXPIRY                                                                     \
    " AND (created_at <= coalesce(json_extract(?7, '$.\"' || brand_id || '\"'), ?8)) " \
    "= (?6 = 1)"

static pb_store_rc payment_list(pb_store_conn *base, const pb_store_payment_query *q,
                                pb_store_payment *out, size_t *n)
{
    static const char *const SQL[] = LIST_SQL("SELECT seq," PAY_COLS, "payment", "payment_player");
    /* one status's rows newest first: its index (status, seq: seq is the rowid),
     * or the player's (player, seq) */
    static const char *const EXPIRY_SQL[] = {
        "SELECT seq," PAY_COLS " FROM payment INDEXED BY payment_status" LIST_BRAND
        " AND ?2 IS NULL AND status=?3" PAY_EXPIRY LIST_TAIL,
        "SELECT seq," PAY_COLS " FROM payment INDEXED BY payment_player" LIST_BRAND
        " AND player=?2 AND status=?3" PAY_EXPIRY LIST_TAIL,
    };
    sq_conn *c = SQ(base);
    bool expiry = q->expiry && q->status && *q->status;
    sqlite3_stmt *st = sq_stmt_sql(c, expiry ? EXPIRY_SQL[q->player && *q->player ? 1 : 0]
                                             : SQL[list_variant(q->player, q->status)]);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_opt_text(st, 1, q->brand_ids_json);
    sqr_bind_opt_text(st, 2, q->player);
    sqr_bind_opt_text(st, 3, q->status);
    sqlite3_bind_int64(st, 4, q->before_seq);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)q->limit);
    if (expiry) {
        sqlite3_bind_int(st, 6, q->expiry);
        sqr_bind_text(st, 7, q->expiry_cutoffs_json ? q->expiry_cutoffs_json : "{}");
        sqlite3_bind_int64(st, 8, q->expiry_default_cutoff);
    }
    return sqr_collect(c, st, out, sizeof *out, q->limit, n, read_payment_v);
}

#define EVENT_COLS "psp,event_id,type,reference,payload_hash,outcome,received_at,amount,currency"

/* The row as SELECT EVENT_COLS returns it. */
static void read_event(sqlite3_stmt *st, void *v)
{
    pb_store_payment_event *e = v;
    memset(e, 0, sizeof *e);
    sqr_text(e->psp, sizeof e->psp, st, 0);
    sqr_text(e->event_id, sizeof e->event_id, st, 1);
    sqr_text(e->type, sizeof e->type, st, 2);
    sqr_text(e->reference, sizeof e->reference, st, 3);
    sqr_blob(e->payload_hash, sizeof e->payload_hash, st, 4);
    sqr_text(e->outcome, sizeof e->outcome, st, 5);
    e->received_at = sqlite3_column_int64(st, 6);
    e->amount = sqlite3_column_int64(st, 7);
    sqr_text(e->currency, sizeof e->currency, st, 8);
}

static pb_store_rc event_get(pb_store_conn *base, const char *psp, const char *event_id,
                             pb_store_payment_event *out)
{
    return sqr_lookup_text(SQ(base),
                           "SELECT " EVENT_COLS " FROM payment_event WHERE psp=?1 AND event_id=?2",
                           psp, event_id, read_event, out);
}

static pb_store_rc event_deferred(pb_store_conn *base, const char *psp, const char *reference,
                                  pb_store_payment_event *out)
{
    return sqr_lookup_text(SQ(base),
                           "SELECT " EVENT_COLS " FROM payment_event WHERE psp=?1 AND "
                           "reference=?2 AND outcome='deferred' ORDER BY seq LIMIT 1",
                           psp, reference, read_event, out);
}

static pb_store_rc event_insert(pb_store_conn *base, const pb_store_payment_event *e)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "INSERT INTO payment_event(" EVENT_COLS
                                      ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, e->psp);
    sqr_bind_text(st, 2, e->event_id);
    sqr_bind_text(st, 3, e->type);
    sqr_bind_text(st, 4, e->reference);
    sqlite3_bind_blob(st, 5, e->payload_hash, sizeof e->payload_hash, SQLITE_STATIC);
    sqr_bind_text(st, 6, e->outcome);
    sqlite3_bind_int64(st, 7, e->received_at);
    sqlite3_bind_int64(st, 8, e->amount);
    sqr_bind_text(st, 9, e->currency);
    return sqr_exec(c, st);
}

#define WD_COLS                                                                                \
    "seq,id,brand_id,brand,player,currency,amount,idempotency_key,hold_id,approvals_required," \
    "status,psp,psp_reference,reason,created_at,updated_at,requested_by,checks"

static void read_withdrawal(sqlite3_stmt *st, pb_store_withdrawal *w)
{
    memset(w, 0, sizeof *w);
    w->seq = sqlite3_column_int64(st, 0);
    sqr_text(w->id, sizeof w->id, st, 1);
    w->brand_id = sqlite3_column_int64(st, 2);
    sqr_text(w->brand, sizeof w->brand, st, 3);
    sqr_text(w->player, sizeof w->player, st, 4);
    sqr_text(w->currency, sizeof w->currency, st, 5);
    w->amount = sqlite3_column_int64(st, 6);
    sqr_text(w->idempotency_key, sizeof w->idempotency_key, st, 7);
    sqr_blob(w->hold_id.b, sizeof w->hold_id.b, st, 8);
    w->approvals_required = sqlite3_column_int(st, 9);
    sqr_text(w->status, sizeof w->status, st, 10);
    sqr_text(w->psp, sizeof w->psp, st, 11);
    sqr_text(w->psp_reference, sizeof w->psp_reference, st, 12);
    sqr_text(w->reason, sizeof w->reason, st, 13);
    w->created_at = sqlite3_column_int64(st, 14);
    w->updated_at = sqlite3_column_int64(st, 15);
    sqr_text(w->requested_by, sizeof w->requested_by, st, 16);
    sqr_text(w->checks, sizeof w->checks, st, 17);
}

static void read_withdrawal_v(sqlite3_stmt *st, void *w) { read_withdrawal(st, w); }

static pb_store_rc withdrawal_insert(pb_store_conn *base, const pb_store_withdrawal *w)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c, "INSERT INTO withdrawal(id,brand_id,brand,player,currency,amount,idempotency_key,"
           "hold_id,approvals_required,status,psp,psp_reference,reason,created_at,updated_at,"
           "requested_by,checks) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,"
           "?17)");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, w->id);
    sqlite3_bind_int64(st, 2, w->brand_id);
    sqr_bind_text(st, 3, w->brand);
    sqr_bind_text(st, 4, w->player);
    sqr_bind_text(st, 5, w->currency);
    sqlite3_bind_int64(st, 6, w->amount);
    sqr_bind_text(st, 7, w->idempotency_key);
    sqlite3_bind_blob(st, 8, w->hold_id.b, sizeof w->hold_id.b, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, w->approvals_required);
    sqr_bind_text(st, 10, w->status);
    sqr_bind_text(st, 11, w->psp);
    sqr_bind_text(st, 12, w->psp_reference);
    sqr_bind_text(st, 13, w->reason);
    sqlite3_bind_int64(st, 14, w->created_at);
    sqlite3_bind_int64(st, 15, w->updated_at);
    sqr_bind_text(st, 16, w->requested_by);
    sqr_bind_text(st, 17, w->checks[0] ? w->checks : "[]");
    return sqr_exec(c, st);
}

static pb_store_rc withdrawal_get(pb_store_conn *base, const char *id, pb_store_withdrawal *out)
{
    return sqr_lookup_text(SQ(base), "SELECT " WD_COLS " FROM withdrawal WHERE id=?1", id, NULL,
                           read_withdrawal_v, out);
}

static pb_store_rc withdrawal_by_key(pb_store_conn *base, const char *player, const char *key,
                                     pb_store_withdrawal *out)
{
    return sqr_lookup_text(SQ(base),
                           "SELECT " WD_COLS
                           " FROM withdrawal WHERE player=?1 AND idempotency_key=?2",
                           player, key, read_withdrawal_v, out);
}

static pb_store_rc withdrawal_by_reference(pb_store_conn *base, const char *psp, const char *ref,
                                           pb_store_withdrawal *out)
{
    return sqr_lookup_text(SQ(base),
                           "SELECT " WD_COLS " FROM withdrawal WHERE psp=?1 AND "
                           "psp_reference=?2 AND psp_reference<>''",
                           psp, ref, read_withdrawal_v, out);
}

static pb_store_rc withdrawal_update(pb_store_conn *base, const pb_store_withdrawal *w)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "UPDATE withdrawal SET status=?2, psp_reference=?3, "
                                      "reason=?4, updated_at=?5, approvals_required=?6 "
                                      "WHERE id=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, w->id);
    sqr_bind_text(st, 2, w->status);
    sqr_bind_text(st, 3, w->psp_reference);
    sqr_bind_text(st, 4, w->reason);
    sqlite3_bind_int64(st, 5, w->updated_at);
    sqlite3_bind_int(st, 6, w->approvals_required);
    return sqr_exec_changed(c, st);
}

static pb_store_rc withdrawal_list(pb_store_conn *base, const pb_store_withdrawal_query *q,
                                   pb_store_withdrawal *out, size_t *n)
{
    static const char *const SQL[] = LIST_SQL("SELECT " WD_COLS, "withdrawal", "withdrawal_player");
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL[list_variant(q->player, q->status)]);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_opt_text(st, 1, q->brand_ids_json);
    sqr_bind_opt_text(st, 2, q->player);
    sqr_bind_opt_text(st, 3, q->status);
    sqlite3_bind_int64(st, 4, q->before_seq);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)q->limit);
    return sqr_collect(c, st, out, sizeof *out, q->limit, n, read_withdrawal_v);
}

static pb_store_rc approval_insert(pb_store_conn *base, const pb_store_withdrawal_approval *a)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "INSERT INTO withdrawal_approval(withdrawal_id,staff_id,"
                                      "role,approved_at) VALUES(?1,?2,?3,?4)");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, a->withdrawal_id);
    sqr_bind_text(st, 2, a->staff_id);
    sqr_bind_text(st, 3, a->role);
    sqlite3_bind_int64(st, 4, a->approved_at);
    return sqr_exec(c, st);
}

static void read_approval(sqlite3_stmt *st, void *v)
{
    pb_store_withdrawal_approval *a = v;
    memset(a, 0, sizeof *a);
    sqr_text(a->withdrawal_id, sizeof a->withdrawal_id, st, 0);
    sqr_text(a->staff_id, sizeof a->staff_id, st, 1);
    sqr_text(a->role, sizeof a->role, st, 2);
    a->approved_at = sqlite3_column_int64(st, 3);
    a->lapsed_at = sqlite3_column_int64(st, 4); /* NULL: 0, standing */
    sqr_text(a->lapsed_reason, sizeof a->lapsed_reason, st, 5);
}

static pb_store_rc approval_list(pb_store_conn *base, const char *withdrawal_id,
                                 pb_store_withdrawal_approval *out, size_t cap, size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st =
        sq_stmt_sql(c, "SELECT withdrawal_id,staff_id,role,approved_at,lapsed_at,lapsed_reason "
                       "FROM withdrawal_approval WHERE withdrawal_id=?1 "
                       "ORDER BY lapsed_at IS NOT NULL, approved_at, id");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, withdrawal_id);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_approval);
}

static pb_store_rc approval_lapse(pb_store_conn *base, const char *withdrawal_id,
                                  const char *staff_id, int64_t at, const char *reason)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "UPDATE withdrawal_approval SET lapsed_at=?3, "
                                      "lapsed_reason=?4 WHERE withdrawal_id=?1 AND staff_id=?2 "
                                      "AND lapsed_at IS NULL");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, withdrawal_id);
    sqr_bind_text(st, 2, staff_id);
    sqlite3_bind_int64(st, 3, at);
    sqr_bind_text(st, 4, reason);
    int64_t n = 0;
    pb_store_rc r = sqr_exec_count(c, st, &n);
    return r != PB_STORE_OK ? r : n == 1 ? PB_STORE_OK : PB_STORE_NOT_FOUND;
}

static pb_store_rc approvals_standing_by(pb_store_conn *base, const char *staff_id,
                                         const char *after_withdrawal_id,
                                         pb_store_withdrawal_approval *out, size_t cap, size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c, "SELECT a.withdrawal_id,a.staff_id,a.role,a.approved_at,a.lapsed_at,a.lapsed_reason "
           "FROM withdrawal_approval a JOIN withdrawal w ON w.id=a.withdrawal_id "
           "WHERE a.staff_id=?1 AND a.lapsed_at IS NULL AND a.withdrawal_id>?2 "
           "AND w.status IN ('pending_approval','approved') ORDER BY a.withdrawal_id LIMIT ?3");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, staff_id);
    sqr_bind_text(st, 2, after_withdrawal_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_approval);
}

static pb_store_rc resolution_insert(pb_store_conn *base, const pb_store_withdrawal_resolution *r)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "INSERT INTO withdrawal_manual_resolution(withdrawal_id,"
                                      "outcome,reason,evidence,staff_id,role,from_status,"
                                      "stated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, r->withdrawal_id);
    sqr_bind_text(st, 2, r->outcome);
    sqr_bind_text(st, 3, r->reason);
    sqr_bind_text(st, 4, r->evidence);
    sqr_bind_text(st, 5, r->staff_id);
    sqr_bind_text(st, 6, r->role);
    sqr_bind_text(st, 7, r->from_status);
    sqlite3_bind_int64(st, 8, r->stated_at);
    return sqr_exec(c, st);
}

static void read_resolution(sqlite3_stmt *st, void *v)
{
    pb_store_withdrawal_resolution *r = v;
    memset(r, 0, sizeof *r);
    sqr_text(r->withdrawal_id, sizeof r->withdrawal_id, st, 0);
    sqr_text(r->outcome, sizeof r->outcome, st, 1);
    sqr_text(r->reason, sizeof r->reason, st, 2);
    sqr_text(r->evidence, sizeof r->evidence, st, 3);
    sqr_text(r->staff_id, sizeof r->staff_id, st, 4);
    sqr_text(r->role, sizeof r->role, st, 5);
    sqr_text(r->from_status, sizeof r->from_status, st, 6);
    r->stated_at = sqlite3_column_int64(st, 7);
}

static pb_store_rc resolution_get(pb_store_conn *base, const char *withdrawal_id,
                                  pb_store_withdrawal_resolution *out)
{
    return sqr_lookup_text(SQ(base),
                           "SELECT withdrawal_id,outcome,reason,evidence,staff_id,"
                           "role,from_status,stated_at FROM "
                           "withdrawal_manual_resolution WHERE withdrawal_id=?1",
                           withdrawal_id, NULL, read_resolution, out);
}

static pb_store_rc resolution_delete(pb_store_conn *base, const char *withdrawal_id)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st =
        sq_stmt_sql(c, "DELETE FROM withdrawal_manual_resolution WHERE withdrawal_id=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, withdrawal_id);
    return sqr_exec_changed(c, st);
}

/* The reconciliation's reads of our rows settled in a period (0056's partial
 * indexes on (psp, updated_at)): ?1 psp, [?2, ?3), after seq ?4, ?5 rows. */
static pb_store_rc settled_in(pb_store_conn *base, const char *sql, const char *psp, int64_t from,
                              int64_t to, int64_t after_seq, size_t limit, void *out, size_t size,
                              size_t *n, void (*read)(sqlite3_stmt *, void *))
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, sql);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, psp);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    sqlite3_bind_int64(st, 4, after_seq);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)limit);
    return sqr_collect(c, st, out, size, limit, n, read);
}

static pb_store_rc payment_settled_in(pb_store_conn *base, const char *psp, int64_t from,
                                      int64_t to, int64_t after_seq, size_t limit,
                                      pb_store_payment *out, size_t *n)
{
    return settled_in(base,
                      "SELECT seq," PAY_COLS " FROM payment INDEXED BY payment_completed_psp "
                      "WHERE psp=?1 AND status='completed' AND updated_at>=?2 AND updated_at<?3 "
                      "AND seq>?4 ORDER BY seq LIMIT ?5",
                      psp, from, to, after_seq, limit, out, sizeof *out, n, read_payment_v);
}

static pb_store_rc withdrawal_settled_in(pb_store_conn *base, const char *psp, int64_t from,
                                         int64_t to, int64_t after_seq, size_t limit,
                                         pb_store_withdrawal *out, size_t *n)
{
    return settled_in(base,
                      "SELECT " WD_COLS " FROM withdrawal INDEXED BY withdrawal_settled_psp "
                      "WHERE psp=?1 AND status IN ('paid','returned') AND updated_at>=?2 AND "
                      "updated_at<?3 AND seq>?4 ORDER BY seq LIMIT ?5",
                      psp, from, to, after_seq, limit, out, sizeof *out, n, read_withdrawal_v);
}

const struct pb_store_cashier_ops pb_store_sqlite_cashier_ops = {
    .payment_insert = payment_insert,
    .payment_get = payment_get,
    .payment_by_key = payment_by_key,
    .payment_by_reference = payment_by_reference,
    .payment_update = payment_update,
    .payment_list = payment_list,
    .event_get = event_get,
    .event_insert = event_insert,
    .event_deferred = event_deferred,
    .withdrawal_insert = withdrawal_insert,
    .withdrawal_get = withdrawal_get,
    .withdrawal_by_key = withdrawal_by_key,
    .withdrawal_by_reference = withdrawal_by_reference,
    .withdrawal_update = withdrawal_update,
    .withdrawal_list = withdrawal_list,
    .approval_insert = approval_insert,
    .approval_list = approval_list,
    .approval_lapse = approval_lapse,
    .approvals_standing_by = approvals_standing_by,
    .resolution_insert = resolution_insert,
    .resolution_get = resolution_get,
    .resolution_delete = resolution_delete,
    .payment_settled_in = payment_settled_in,
    .withdrawal_settled_in = withdrawal_settled_in,
};
