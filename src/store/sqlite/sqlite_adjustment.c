/*
 * sqlite_adjustment.c — the adjustment requests on SQLite
 * (0048_wallet_adjustment_approval.sql, 0049_adjustment_request_expiry.sql,
 * 0050_erase_adjustment_player.sql, 0052_adjustment_request_pending.sql): the table
 * and its own columns (player, balance, direction) for the statements every kind
 * shares (sqlite_request.c, which says how they use the indexes), and the player's
 * requests over adjustment_request_player (player, id) of 0050: the erasure's check
 * and the data export's section.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_request.h"

#define SQ(c) ((sq_conn *)(c))

#define ADJ_OWN(r) r "player," r "balance," r "direction"
#define ADJ_SELECT \
    "SELECT " SQ_REQUEST_COLS("", "status") "," ADJ_OWN("") " FROM adjustment_request "

static void bind_adj(sqlite3_stmt *st, const pb_store_request *r)
{
    const pb_store_adjustment *a = (const pb_store_adjustment *)r;
    sqr_bind_text(st, 9, a->player);
    sqr_bind_text(st, 10, a->balance);
    sqr_bind_text(st, 11, a->direction);
}

static void read_adj(sqlite3_stmt *st, void *out)
{
    pb_store_adjustment *a = out;
    memset(a, 0, sizeof *a);
    sq_request_read(st, &a->rq);
    sqr_text(a->player, sizeof a->player, st, SQ_REQUEST_NCOLS);
    sqr_text(a->balance, sizeof a->balance, st, SQ_REQUEST_NCOLS + 1);
    sqr_text(a->direction, sizeof a->direction, st, SQ_REQUEST_NCOLS + 2);
}

const sq_request_kind sq_adjustment_kind = {
    SQ_REQUEST_STATEMENTS("adjustment_request", ADJ_OWN, "player,balance,direction", "?9,?10,?11"),
    .size = sizeof(pb_store_adjustment),
    .bind = bind_adj,
    .read = read_adj,
};

static pb_store_rc sq_adj_player_pending(pb_store_conn *base, const char *player,
                                         pb_store_adjustment *out)
{
    static const char SQL[] = ADJ_SELECT "WHERE player=?1 AND status='pending' "
                                         "ORDER BY id DESC LIMIT 1";
    return sqr_lookup_text(SQ(base), SQL, player, NULL, read_adj, out);
}

static pb_store_rc sq_adj_player_page(pb_store_conn *base, const char *player, int64_t before_id,
                                      pb_store_adjustment *out, size_t cap, size_t *n)
{
    static const char SQL[] = ADJ_SELECT "WHERE player=?1 AND (?2=0 OR id<?2) "
                                         "ORDER BY id DESC LIMIT ?3";
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

const struct pb_store_adjustment_ops pb_store_sqlite_adjustment_ops = {
    .player_pending = sq_adj_player_pending,
    .player_page = sq_adj_player_page,
};
