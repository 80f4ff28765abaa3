/*
 * sqlite_games.c — the games' statements on SQLite (0009_games.sql):
 * fair_seed_pair, game_round, game_rtp, crash_chain and crash_round (rebuilt by
 * 0017: its hash sealed and its point 0 until it crashes). Writes run in the
 * ledger writer's batch transaction (the games' commands) or, for RTP settings,
 * in a staff request's write transaction; reads anywhere.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

/* ---- seed pairs ---- */

#define PAIR_COLS                                                                    \
    "id,brand_id,brand,player,server_seed,commitment,client_seed,next_nonce,active," \
    "created_at,revealed_at"

/* The row as SELECT seq, PAIR_COLS returns it. */
static void read_pair(sqlite3_stmt *st, void *v)
{
    pb_store_seed_pair *p = v;
    memset(p, 0, sizeof *p);
    p->seq = sqlite3_column_int64(st, 0);
    sqr_text(p->id, sizeof p->id, st, 1);
    p->brand_id = sqlite3_column_int64(st, 2);
    sqr_text(p->brand, sizeof p->brand, st, 3);
    sqr_text(p->player, sizeof p->player, st, 4);
    sqr_text(p->server_seed, sizeof p->server_seed, st, 5);
    sqr_text(p->commitment, sizeof p->commitment, st, 6);
    sqr_text(p->client_seed, sizeof p->client_seed, st, 7);
    p->next_nonce = sqlite3_column_int64(st, 8);
    p->active = sqlite3_column_int(st, 9) != 0;
    p->created_at = sqlite3_column_int64(st, 10);
    p->revealed_at = sqlite3_column_int64(st, 11);
}

static pb_store_rc pair_insert(pb_store_conn *base, const pb_store_seed_pair *p)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "INSERT INTO fair_seed_pair(" PAIR_COLS
                                      ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, p->id);
    sqlite3_bind_int64(st, 2, p->brand_id);
    sqr_bind_text(st, 3, p->brand);
    sqr_bind_text(st, 4, p->player);
    sqr_bind_text(st, 5, p->server_seed);
    sqr_bind_text(st, 6, p->commitment);
    sqr_bind_text(st, 7, p->client_seed);
    sqlite3_bind_int64(st, 8, p->next_nonce);
    sqlite3_bind_int(st, 9, p->active ? 1 : 0);
    sqlite3_bind_int64(st, 10, p->created_at);
    if (p->revealed_at)
        sqlite3_bind_int64(st, 11, p->revealed_at);
    else
        sqlite3_bind_null(st, 11);
    return sqr_exec(c, st);
}

static pb_store_rc pair_active(pb_store_conn *base, const char *player, pb_store_seed_pair *out)
{
    return sqr_lookup_text(SQ(base),
                           "SELECT seq," PAIR_COLS
                           " FROM fair_seed_pair WHERE player=?1 AND active=1",
                           player, NULL, read_pair, out);
}

static pb_store_rc pair_get(pb_store_conn *base, const char *id, pb_store_seed_pair *out)
{
    return sqr_lookup_text(SQ(base), "SELECT seq," PAIR_COLS " FROM fair_seed_pair WHERE id=?1", id,
                           NULL, read_pair, out);
}

static pb_store_rc pair_set_nonce(pb_store_conn *base, const char *id, int64_t next_nonce)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "UPDATE fair_seed_pair SET next_nonce=?2 "
                                      "WHERE id=?1 AND active=1 AND next_nonce<?2");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, next_nonce);
    return sqr_exec_changed(c, st);
}

static pb_store_rc pair_retire(pb_store_conn *base, const char *id, int64_t revealed_at,
                               const char *server_seed)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "UPDATE fair_seed_pair SET active=0, revealed_at=?2, "
                                      "server_seed=?3 WHERE id=?1 AND active=1");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, revealed_at);
    sqr_bind_text(st, 3, server_seed);
    return sqr_exec_changed(c, st);
}

static pb_store_rc pair_list(pb_store_conn *base, const char *player, int64_t before_seq,
                             pb_store_seed_pair *out, size_t cap, size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT seq," PAIR_COLS " FROM fair_seed_pair "
                                      "WHERE player=?1 AND (?2=0 OR seq<?2) "
                                      "ORDER BY seq DESC LIMIT ?3");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, player);
    sqlite3_bind_int64(st, 2, before_seq);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_pair);
}

static pb_store_rc pair_unsealed(pb_store_conn *base, pb_store_seed_pair *out, size_t cap,
                                 size_t *n)
{
    sq_conn *c = SQ(base);
    /* the partial index of exactly these rows (0021): no walk over the sealed ones */
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT seq," PAIR_COLS " FROM fair_seed_pair "
                                      "INDEXED BY fair_seed_pair_unsealed "
                                      "WHERE active=1 AND length(server_seed)=64 LIMIT ?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_pair);
}

static pb_store_rc pair_set_seed(pb_store_conn *base, const char *id, const char *stored)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st =
        sq_stmt_sql(c, "UPDATE fair_seed_pair SET server_seed=?2 WHERE id=?1 AND active=1");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, id);
    sqr_bind_text(st, 2, stored);
    return sqr_exec_changed(c, st);
}

/* ---- rounds ---- */

#define ROUND_COLS                                                                             \
    "id,brand_id,brand,player,currency,game,idempotency_key,request_hash,params,amount,state," \
    "pair_id,commitment,client_seed,nonce,crash_round,outcome,progress,multiplier,payout,"     \
    "rtp_bp,created_at,updated_at,settled_at,void_reason"
#define ROUND_COLS_R                                                                        \
    "r.id,r.brand_id,r.brand,r.player,r.currency,r.game,r.idempotency_key,r.request_hash,"  \
    "r.params,r.amount,r.state,r.pair_id,r.commitment,r.client_seed,r.nonce,r.crash_round," \
    "r.outcome,r.progress,r.multiplier,r.payout,r.rtp_bp,r.created_at,r.updated_at,"        \
    "r.settled_at,r.void_reason"

/* A heap copy of a text column, or NULL when it is NULL (or on OOM). */
static char *dup_text(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NULL;
    const unsigned char *s = sqlite3_column_text(st, col);
    size_t n = s ? (size_t)sqlite3_column_bytes(st, col) : 0;
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* The row as SELECT seq, ROUND_COLS [, revealed seed] returns it. */
static void read_round(sqlite3_stmt *st, void *v)
{
    pb_store_game_round *r = v;
    memset(r, 0, sizeof *r);
    r->seq = sqlite3_column_int64(st, 0);
    sqr_text(r->id, sizeof r->id, st, 1);
    r->brand_id = sqlite3_column_int64(st, 2);
    sqr_text(r->brand, sizeof r->brand, st, 3);
    sqr_text(r->player, sizeof r->player, st, 4);
    sqr_text(r->currency, sizeof r->currency, st, 5);
    sqr_text(r->game, sizeof r->game, st, 6);
    sqr_text(r->idempotency_key, sizeof r->idempotency_key, st, 7);
    sqr_blob(r->request_hash, sizeof r->request_hash, st, 8);
    r->params = dup_text(st, 9);
    r->amount = sqlite3_column_int64(st, 10);
    sqr_text(r->state, sizeof r->state, st, 11);
    sqr_text(r->pair_id, sizeof r->pair_id, st, 12);
    sqr_text(r->commitment, sizeof r->commitment, st, 13);
    sqr_text(r->client_seed, sizeof r->client_seed, st, 14);
    r->has_nonce = sqlite3_column_type(st, 15) != SQLITE_NULL;
    r->nonce = sqlite3_column_int64(st, 15);
    sqr_text(r->crash_round, sizeof r->crash_round, st, 16);
    r->outcome = dup_text(st, 17);
    sqr_text(r->progress, sizeof r->progress, st, 18);
    r->has_multiplier = sqlite3_column_type(st, 19) != SQLITE_NULL;
    r->multiplier = sqlite3_column_int64(st, 19);
    r->has_payout = sqlite3_column_type(st, 20) != SQLITE_NULL;
    r->payout = sqlite3_column_int64(st, 20);
    r->rtp_bp = sqlite3_column_int(st, 21);
    r->created_at = sqlite3_column_int64(st, 22);
    r->updated_at = sqlite3_column_int64(st, 23);
    r->settled_at = sqlite3_column_int64(st, 24);
    sqr_text(r->void_reason, sizeof r->void_reason, st, 25);
    if (sqlite3_column_count(st) > 26)
        sqr_text(r->revealed_seed, sizeof r->revealed_seed, st, 26);
}

/* An optional text column: NULL for "". */
static void bind_opt(sqlite3_stmt *st, int i, const char *s) { sqr_bind_opt_text(st, i, s); }

static pb_store_rc round_insert(pb_store_conn *base, const pb_store_game_round *r)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "INSERT INTO game_round(" ROUND_COLS ") VALUES(?1,?2,?3,"
                                      "?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,"
                                      "?19,?20,?21,?22,?23,?24,?25)");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->brand_id);
    sqr_bind_text(st, 3, r->brand);
    sqr_bind_text(st, 4, r->player);
    sqr_bind_text(st, 5, r->currency);
    sqr_bind_text(st, 6, r->game);
    sqr_bind_text(st, 7, r->idempotency_key);
    sqlite3_bind_blob(st, 8, r->request_hash, sizeof r->request_hash, SQLITE_STATIC);
    sqr_bind_text(st, 9, r->params ? r->params : "{}");
    sqlite3_bind_int64(st, 10, r->amount);
    sqr_bind_text(st, 11, r->state);
    bind_opt(st, 12, r->pair_id);
    bind_opt(st, 13, r->commitment);
    bind_opt(st, 14, r->client_seed);
    if (r->has_nonce)
        sqlite3_bind_int64(st, 15, r->nonce);
    bind_opt(st, 16, r->crash_round);
    bind_opt(st, 17, r->outcome);
    bind_opt(st, 18, r->progress);
    if (r->has_multiplier)
        sqlite3_bind_int64(st, 19, r->multiplier);
    if (r->has_payout)
        sqlite3_bind_int64(st, 20, r->payout);
    if (r->rtp_bp)
        sqlite3_bind_int(st, 21, r->rtp_bp);
    sqlite3_bind_int64(st, 22, r->created_at);
    sqlite3_bind_int64(st, 23, r->updated_at);
    if (r->settled_at)
        sqlite3_bind_int64(st, 24, r->settled_at);
    bind_opt(st, 25, r->void_reason);
    return sqr_exec(c, st);
}

static pb_store_rc round_get(pb_store_conn *base, const char *id, pb_store_game_round *out)
{
    return sqr_lookup_text(SQ(base), "SELECT seq," ROUND_COLS " FROM game_round WHERE id=?1", id,
                           NULL, read_round, out);
}

static pb_store_rc round_by_key(pb_store_conn *base, const char *player, const char *key,
                                pb_store_game_round *out)
{
    return sqr_lookup_text(SQ(base),
                           "SELECT seq," ROUND_COLS
                           " FROM game_round WHERE player=?1 AND idempotency_key=?2",
                           player, key, read_round, out);
}

static pb_store_rc round_update(pb_store_conn *base, const pb_store_game_round *r,
                                const char *from_state)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c, "UPDATE game_round SET state=?3, pair_id=?4, commitment=?5, client_seed=?6, "
           "nonce=?7, crash_round=?8, outcome=?9, progress=?10, multiplier=?11, payout=?12, "
           "rtp_bp=?13, updated_at=?14, settled_at=?15, void_reason=?16 WHERE id=?1 AND state=?2");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, r->id);
    sqr_bind_text(st, 2, from_state);
    sqr_bind_text(st, 3, r->state);
    bind_opt(st, 4, r->pair_id);
    bind_opt(st, 5, r->commitment);
    bind_opt(st, 6, r->client_seed);
    if (r->has_nonce)
        sqlite3_bind_int64(st, 7, r->nonce);
    else
        sqlite3_bind_null(st, 7);
    bind_opt(st, 8, r->crash_round);
    bind_opt(st, 9, r->outcome);
    bind_opt(st, 10, r->progress);
    if (r->has_multiplier)
        sqlite3_bind_int64(st, 11, r->multiplier);
    else
        sqlite3_bind_null(st, 11);
    if (r->has_payout)
        sqlite3_bind_int64(st, 12, r->payout);
    else
        sqlite3_bind_null(st, 12);
    if (r->rtp_bp)
        sqlite3_bind_int(st, 13, r->rtp_bp);
    else
        sqlite3_bind_null(st, 13);
    sqlite3_bind_int64(st, 14, r->updated_at);
    if (r->settled_at)
        sqlite3_bind_int64(st, 15, r->settled_at);
    else
        sqlite3_bind_null(st, 15);
    bind_opt(st, 16, r->void_reason);
    return sqr_exec_changed(c, st);
}

static pb_store_rc round_delete_pending(pb_store_conn *base, const char *id)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "DELETE FROM game_round WHERE id=?1 AND state='pending'");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, id);
    return sqr_exec_changed(c, st);
}

static pb_store_rc round_list(pb_store_conn *base, const pb_store_game_round_query *q,
                              pb_store_game_round *out, size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c, "SELECT r.seq," ROUND_COLS_R ",CASE WHEN p.active=0 THEN p.server_seed ELSE '' END "
           "FROM game_round r LEFT JOIN fair_seed_pair p ON p.id=r.pair_id "
           "WHERE r.player=?1 AND r.state<>'pending' AND (?2 IS NULL OR r.game=?2) "
           "AND (?3=0 OR r.seq<?3) ORDER BY r.seq DESC LIMIT ?4");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, q->player);
    sqr_bind_opt_text(st, 2, q->game);
    sqlite3_bind_int64(st, 3, q->before_seq);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)q->limit);
    return sqr_collect(c, st, out, sizeof *out, q->limit, n, read_round);
}

static pb_store_rc round_open(pb_store_conn *base, int64_t after_seq, pb_store_game_round *out,
                              size_t cap, size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT seq," ROUND_COLS " FROM game_round "
                                      "WHERE state<>'settled' AND state<>'void' AND seq>?1 "
                                      "ORDER BY seq LIMIT ?2");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_round);
}

static pb_store_rc round_of_crash(pb_store_conn *base, const char *crash_round, const char *state,
                                  pb_store_game_round *out, size_t cap, size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT seq," ROUND_COLS " FROM game_round "
                                      "WHERE crash_round=?1 AND state=?2 ORDER BY seq LIMIT ?3");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, crash_round);
    sqr_bind_text(st, 2, state);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_round);
}

static pb_store_rc round_of_crash_player(pb_store_conn *base, const char *crash_round,
                                         const char *player, const char *state,
                                         pb_store_game_round *out, size_t cap, size_t *n)
{
    sq_conn *c = SQ(base);
    /* game_round_crash_player (0026): the player's bets of the round, in seq order */
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT seq," ROUND_COLS " FROM game_round "
                                      "WHERE crash_round=?1 AND player=?2 AND state=?3 "
                                      "ORDER BY seq LIMIT ?4");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, crash_round);
    sqr_bind_text(st, 2, player);
    sqr_bind_text(st, 3, state);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_round);
}

static void read_totals(sqlite3_stmt *st, void *v)
{
    pb_store_game_totals *t = v;
    memset(t, 0, sizeof *t);
    sqr_text(t->game, sizeof t->game, st, 0);
    sqr_text(t->currency, sizeof t->currency, st, 1);
    t->rounds = sqlite3_column_int64(st, 2);
    t->turnover = sqlite3_column_int64(st, 3);
    t->payout = sqlite3_column_int64(st, 4);
    t->rtp_weighted = sqlite3_column_int64(st, 5);
}

static pb_store_rc totals(pb_store_conn *base, int64_t brand_id, int64_t from_us, int64_t to_us,
                          pb_store_game_totals *out, size_t cap, size_t *n)
{
    sq_conn *c = SQ(base);
    /* sum() of integers fails with "integer overflow" rather than wrap: a store error */
    sqlite3_stmt *st = sq_stmt_sql(
        c, "SELECT game, currency, count(*), sum(amount), sum(payout), sum(amount*rtp_bp) "
           "FROM game_round WHERE brand_id=?1 AND state='settled' "
           "AND (?2=0 OR settled_at>=?2) AND (?3=0 OR settled_at<?3) "
           "GROUP BY game, currency ORDER BY game, currency LIMIT ?4");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, brand_id);
    sqlite3_bind_int64(st, 2, from_us);
    sqlite3_bind_int64(st, 3, to_us);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_totals);
}

/* ---- RTP settings ---- */

static pb_store_rc rtp_get(pb_store_conn *base, int64_t brand_id, const char *game, int32_t *rtp_bp)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT rtp_bp FROM game_rtp WHERE brand_id=?1 AND game=?2");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, brand_id);
    sqr_bind_text(st, 2, game);
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        *rtp_bp = sqlite3_column_int(st, 0);
        r = PB_STORE_OK;
    } else if (rc != SQLITE_DONE) {
        r = sq_result(c, rc);
    }
    sqr_done(st);
    return r;
}

static pb_store_rc rtp_put(pb_store_conn *base, int64_t brand_id, const char *game, int32_t rtp_bp,
                           int64_t now, const char *by)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c,
        "INSERT INTO game_rtp(brand_id,game,rtp_bp,updated_at,updated_by) "
        "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(brand_id,game) DO UPDATE SET "
        "rtp_bp=excluded.rtp_bp, updated_at=excluded.updated_at, updated_by=excluded.updated_by");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, brand_id);
    sqr_bind_text(st, 2, game);
    sqlite3_bind_int(st, 3, rtp_bp);
    sqlite3_bind_int64(st, 4, now);
    sqr_bind_text(st, 5, by);
    return sqr_exec(c, st);
}

/* ---- crash ---- */

#define CHAIN_COLS "id,brand_id,brand,seed,salt,terminal_hash,length,next_position,created_at"

static void read_chain(sqlite3_stmt *st, void *v)
{
    pb_store_crash_chain *ch = v;
    memset(ch, 0, sizeof *ch);
    ch->id = sqlite3_column_int64(st, 0);
    ch->brand_id = sqlite3_column_int64(st, 1);
    sqr_text(ch->brand, sizeof ch->brand, st, 2);
    sqr_text(ch->seed, sizeof ch->seed, st, 3);
    sqr_text(ch->salt, sizeof ch->salt, st, 4);
    sqr_text(ch->terminal_hash, sizeof ch->terminal_hash, st, 5);
    ch->length = sqlite3_column_int64(st, 6);
    ch->next_position = sqlite3_column_int64(st, 7);
    ch->created_at = sqlite3_column_int64(st, 8);
}

static pb_store_rc chain_current(pb_store_conn *base, int64_t brand_id, pb_store_crash_chain *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c,
                                   "SELECT " CHAIN_COLS
                                   " FROM crash_chain WHERE brand_id=?1 ORDER BY id DESC LIMIT 1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, brand_id);
    SQR_LOOKUP(c, st, read_chain, out);
}

static pb_store_rc chain_get(pb_store_conn *base, int64_t id, pb_store_crash_chain *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT " CHAIN_COLS " FROM crash_chain WHERE id=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    SQR_LOOKUP(c, st, read_chain, out);
}

static pb_store_rc chain_insert(pb_store_conn *base, pb_store_crash_chain *ch)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st =
        sq_stmt_sql(c, "INSERT INTO crash_chain(brand_id,brand,seed,salt,terminal_hash,length,"
                       "next_position,created_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, ch->brand_id);
    sqr_bind_text(st, 2, ch->brand);
    sqr_bind_text(st, 3, ch->seed);
    sqr_bind_text(st, 4, ch->salt);
    sqr_bind_text(st, 5, ch->terminal_hash);
    sqlite3_bind_int64(st, 6, ch->length);
    sqlite3_bind_int64(st, 7, ch->next_position);
    sqlite3_bind_int64(st, 8, ch->created_at);
    pb_store_rc r = sqr_exec(c, st);
    if (r == PB_STORE_OK)
        ch->id = sqlite3_last_insert_rowid(c->db);
    return r;
}

static pb_store_rc chain_unsealed(pb_store_conn *base, pb_store_crash_chain *out, size_t cap,
                                  size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT " CHAIN_COLS
                                      " FROM crash_chain WHERE length(seed)=64 LIMIT ?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_chain);
}

static pb_store_rc chain_set_seed(pb_store_conn *base, int64_t id, const char *stored)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "UPDATE crash_chain SET seed=?2 WHERE id=?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqr_bind_text(st, 2, stored);
    return sqr_exec_changed(c, st);
}

static pb_store_rc chain_advance(pb_store_conn *base, int64_t id, int64_t next_position)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st =
        sq_stmt_sql(c, "UPDATE crash_chain SET next_position=?2 WHERE id=?1 AND next_position<?2");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, next_position);
    return sqr_exec_changed(c, st);
}

#define CRASH_COLS_R                                                                    \
    "r.seq,r.id,r.brand_id,r.brand,r.chain_id,r.position,r.game_hash,r.point,r.rtp_bp," \
    "r.state,r.betting_ends_at,r.started_at,r.crashed_at,r.created_at,ch.salt,"         \
    "ch.terminal_hash"
#define CRASH_FROM " FROM crash_round r JOIN crash_chain ch ON ch.id=r.chain_id "

static void read_crash(sqlite3_stmt *st, void *v)
{
    pb_store_crash_round *r = v;
    memset(r, 0, sizeof *r);
    r->seq = sqlite3_column_int64(st, 0);
    sqr_text(r->id, sizeof r->id, st, 1);
    r->brand_id = sqlite3_column_int64(st, 2);
    sqr_text(r->brand, sizeof r->brand, st, 3);
    r->chain_id = sqlite3_column_int64(st, 4);
    r->position = sqlite3_column_int64(st, 5);
    sqr_text(r->game_hash, sizeof r->game_hash, st, 6);
    r->point = sqlite3_column_int64(st, 7);
    r->rtp_bp = sqlite3_column_int(st, 8);
    sqr_text(r->state, sizeof r->state, st, 9);
    r->betting_ends_at = sqlite3_column_int64(st, 10);
    r->started_at = sqlite3_column_int64(st, 11);
    r->crashed_at = sqlite3_column_int64(st, 12);
    r->created_at = sqlite3_column_int64(st, 13);
    sqr_text(r->salt, sizeof r->salt, st, 14);
    sqr_text(r->terminal_hash, sizeof r->terminal_hash, st, 15);
}

static pb_store_rc crash_insert(pb_store_conn *base, const pb_store_crash_round *r)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c, "INSERT INTO crash_round(id,brand_id,brand,chain_id,position,game_hash,point,rtp_bp,"
           "state,betting_ends_at,started_at,crashed_at,created_at) "
           "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,NULLIF(?11,0),NULLIF(?12,0),?13)");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->brand_id);
    sqr_bind_text(st, 3, r->brand);
    sqlite3_bind_int64(st, 4, r->chain_id);
    sqlite3_bind_int64(st, 5, r->position);
    sqr_bind_text(st, 6, r->game_hash);
    sqlite3_bind_int64(st, 7, r->point);
    sqlite3_bind_int(st, 8, r->rtp_bp);
    sqr_bind_text(st, 9, r->state);
    sqlite3_bind_int64(st, 10, r->betting_ends_at);
    sqlite3_bind_int64(st, 11, r->started_at);
    sqlite3_bind_int64(st, 12, r->crashed_at);
    sqlite3_bind_int64(st, 13, r->created_at);
    return sqr_exec(c, st);
}

static pb_store_rc crash_get(pb_store_conn *base, const char *id, pb_store_crash_round *out)
{
    return sqr_lookup_text(SQ(base), "SELECT " CRASH_COLS_R CRASH_FROM "WHERE r.id=?1", id, NULL,
                           read_crash, out);
}

static pb_store_rc crash_latest(pb_store_conn *base, int64_t brand_id, pb_store_crash_round *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT " CRASH_COLS_R CRASH_FROM
                                      "WHERE r.brand_id=?1 ORDER BY r.seq DESC LIMIT 1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, brand_id);
    SQR_LOOKUP(c, st, read_crash, out);
}

static pb_store_rc crash_update(pb_store_conn *base, const pb_store_crash_round *r,
                                const char *from_state)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "UPDATE crash_round SET state=?3, started_at=NULLIF(?4,0), "
                                      "crashed_at=NULLIF(?5,0), game_hash=?6, point=?7 "
                                      "WHERE id=?1 AND state=?2");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, r->id);
    sqr_bind_text(st, 2, from_state);
    sqr_bind_text(st, 3, r->state);
    sqlite3_bind_int64(st, 4, r->started_at);
    sqlite3_bind_int64(st, 5, r->crashed_at);
    sqr_bind_text(st, 6, r->game_hash);
    sqlite3_bind_int64(st, 7, r->point);
    return sqr_exec_changed(c, st);
}

/* The rounds not crashed listed by the partial index crash_round_open (0017). */
static pb_store_rc crash_unsealed(pb_store_conn *base, pb_store_crash_round *out, size_t cap,
                                  size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT " CRASH_COLS_R CRASH_FROM
                                      "WHERE r.state<>'crashed' AND length(r.game_hash)=64 "
                                      "ORDER BY r.seq LIMIT ?1");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_crash);
}

static pb_store_rc crash_set_hash(pb_store_conn *base, const char *id, const char *stored)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c, "UPDATE crash_round SET game_hash=?2, point=0 WHERE id=?1 AND state<>'crashed'");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, id);
    sqr_bind_text(st, 2, stored);
    return sqr_exec_changed(c, st);
}

static pb_store_rc crash_list(pb_store_conn *base, int64_t brand_id, const char *state,
                              int64_t before_seq, pb_store_crash_round *out, size_t cap, size_t *n)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT " CRASH_COLS_R CRASH_FROM
                                      "WHERE r.brand_id=?1 AND (?2 IS NULL OR r.state=?2) "
                                      "AND (?3=0 OR r.seq<?3) ORDER BY r.seq DESC LIMIT ?4");
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, brand_id);
    sqr_bind_opt_text(st, 2, state);
    sqlite3_bind_int64(st, 3, before_seq);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_crash);
}

const struct pb_store_games_ops pb_store_sqlite_games_ops = {
    .pair_insert = pair_insert,
    .pair_active = pair_active,
    .pair_get = pair_get,
    .pair_set_nonce = pair_set_nonce,
    .pair_retire = pair_retire,
    .pair_list = pair_list,
    .pair_unsealed = pair_unsealed,
    .pair_set_seed = pair_set_seed,
    .round_insert = round_insert,
    .round_get = round_get,
    .round_by_key = round_by_key,
    .round_update = round_update,
    .round_delete_pending = round_delete_pending,
    .round_list = round_list,
    .round_open = round_open,
    .round_of_crash = round_of_crash,
    .round_of_crash_player = round_of_crash_player,
    .totals = totals,
    .rtp_get = rtp_get,
    .rtp_put = rtp_put,
    .chain_current = chain_current,
    .chain_get = chain_get,
    .chain_insert = chain_insert,
    .chain_advance = chain_advance,
    .chain_unsealed = chain_unsealed,
    .chain_set_seed = chain_set_seed,
    .crash_insert = crash_insert,
    .crash_get = crash_get,
    .crash_latest = crash_latest,
    .crash_update = crash_update,
    .crash_list = crash_list,
    .crash_unsealed = crash_unsealed,
    .crash_set_hash = crash_set_hash,
};
