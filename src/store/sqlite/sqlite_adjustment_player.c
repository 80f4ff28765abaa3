/*
 * sqlite_adjustment_player.c — one player's adjustment requests on SQLite
 * (0048_wallet_adjustment_approval.sql), for the player's erasure (is one
 * pending?) and data export (every one, in pages). Both walk the index
 * adjustment_request_player (player, id) of 0050. The row is read as
 * sqlite_adjustment.c reads it (the same columns, in the same order).
 */
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

const struct pb_store_adjustment_player_ops pb_store_sqlite_adjustment_player_ops = {
    .pending = sq_adj_player_pending,
    .page = sq_adj_player_page,
};
