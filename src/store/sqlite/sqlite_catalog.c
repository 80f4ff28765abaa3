/*
 * sqlite_catalog.c — the catalog's statements on SQLite (0006_catalog.sql):
 * provider, game with its game_limit and game_blocked_jurisdiction children,
 * the game_brand switch and launch. A game row and its children are always
 * read and written together, so a pb_store_game is the whole game; writes that
 * touch several tables run under a savepoint, so each call is all or nothing
 * even inside the caller's transaction.
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

#define PROVIDER_COLS                                                                   \
    "id,code,name,protocol,secret,public_key_pem,timestamp_window_s,status,created_at," \
    "updated_at"
#define GAME_COLS                                                                        \
    "g.id,g.provider_id,p.code,g.code,g.name,g.category,g.rtp_bp,g.volatility,g.status," \
    "g.created_at,g.updated_at"
#define GAME_FROM " FROM game g JOIN provider p ON p.id=g.provider_id "

/* ---- providers ---------------------------------------------------------- */

static void read_provider(sqlite3_stmt *st, void *out)
{
    pb_store_provider *p = out;
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(st, 0);
    sqr_text(p->code, sizeof p->code, st, 1);
    sqr_text(p->name, sizeof p->name, st, 2);
    sqr_text(p->protocol, sizeof p->protocol, st, 3);
    p->secret_len = sqr_blob(p->secret, sizeof p->secret, st, 4);
    sqr_text(p->public_key_pem, sizeof p->public_key_pem, st, 5);
    p->timestamp_window_s = sqlite3_column_int(st, 6);
    sqr_text(p->status, sizeof p->status, st, 7);
    p->created_at = sqlite3_column_int64(st, 8);
    p->updated_at = sqlite3_column_int64(st, 9);
}

/* Binds the mutable provider columns to ?2..?8 (in the order of both statements). */
static void bind_provider(sqlite3_stmt *st, const pb_store_provider *p)
{
    sqr_bind_text(st, 2, p->name);
    sqr_bind_text(st, 3, p->protocol);
    size_t n = p->secret_len <= sizeof p->secret ? p->secret_len : sizeof p->secret;
    sqlite3_bind_blob(st, 4, p->secret, (int)n, SQLITE_STATIC);
    sqr_bind_text(st, 5, p->public_key_pem);
    sqlite3_bind_int(st, 6, p->timestamp_window_s);
    sqr_bind_text(st, 7, p->status[0] ? p->status : "active");
    sqlite3_bind_int64(st, 8, p->updated_at);
}

static pb_store_rc sq_provider_insert(pb_store_conn *base, pb_store_provider *p)
{
    static const char SQL[] =
        "INSERT INTO provider(code,name,protocol,secret,public_key_pem,timestamp_window_s,"
        "status,updated_at,created_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, p->code);
    bind_provider(st, p);
    sqlite3_bind_int64(st, 9, p->created_at);
    pb_store_rc r = sqr_exec(c, st);
    if (r == PB_STORE_OK)
        p->id = sqlite3_last_insert_rowid(c->db);
    return r;
}

static pb_store_rc sq_provider_update(pb_store_conn *base, const pb_store_provider *p)
{
    static const char SQL[] = "UPDATE provider SET name=?2,protocol=?3,secret=?4,public_key_pem=?5,"
                              "timestamp_window_s=?6,status=?7,updated_at=?8 WHERE id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, p->id);
    bind_provider(st, p);
    return sqr_exec_changed(c, st);
}

static pb_store_rc sq_provider_get(pb_store_conn *base, int64_t id, pb_store_provider *out)
{
    static const char SQL[] = "SELECT " PROVIDER_COLS " FROM provider WHERE id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    SQR_LOOKUP(c, st, read_provider, out);
}

static pb_store_rc sq_provider_by_code(pb_store_conn *base, const char *code,
                                       pb_store_provider *out)
{
    static const char SQL[] = "SELECT " PROVIDER_COLS " FROM provider WHERE code=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, code);
    SQR_LOOKUP(c, st, read_provider, out);
}

static pb_store_rc sq_provider_list(pb_store_conn *base, int64_t after_id, pb_store_provider *out,
                                    size_t cap, size_t *n)
{
    static const char SQL[] = "SELECT " PROVIDER_COLS
                              " FROM provider WHERE id>?1 ORDER BY id LIMIT ?2";
    sq_conn *c = SQ(base);
    *n = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, (int64_t)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_provider);
}

/* ---- games -------------------------------------------------------------- */

static void read_game(sqlite3_stmt *st, void *out)
{
    pb_store_game *g = out;
    memset(g, 0, sizeof *g);
    g->id = sqlite3_column_int64(st, 0);
    g->provider_id = sqlite3_column_int64(st, 1);
    sqr_text(g->provider_code, sizeof g->provider_code, st, 2);
    sqr_text(g->code, sizeof g->code, st, 3);
    sqr_text(g->name, sizeof g->name, st, 4);
    sqr_text(g->category, sizeof g->category, st, 5);
    g->rtp_bp = sqlite3_column_int(st, 6);
    sqr_text(g->volatility, sizeof g->volatility, st, 7);
    sqr_text(g->status, sizeof g->status, st, 8);
    g->created_at = sqlite3_column_int64(st, 9);
    g->updated_at = sqlite3_column_int64(st, 10);
}

/* Loads g's limits and blocked jurisdictions (both sorted) for g->id. */
static pb_store_rc load_children(sq_conn *c, pb_store_game *g)
{
    static const char LIM[] =
        "SELECT currency,min_bet,max_bet FROM game_limit WHERE game_id=?1 ORDER BY currency";
    static const char BLK[] = "SELECT jurisdiction FROM game_blocked_jurisdiction "
                              "WHERE game_id=?1 ORDER BY jurisdiction";
    sqlite3_stmt *lim = sq_stmt_sql(c, LIM), *blk = sq_stmt_sql(c, BLK);
    if (!lim || !blk)
        return PB_STORE_ERROR;
    int rc;
    g->nlimits = 0;
    sqlite3_bind_int64(lim, 1, g->id);
    while ((rc = sqlite3_step(lim)) == SQLITE_ROW && g->nlimits < PB_STORE_GAME_LIMITS_MAX) {
        sqr_text(g->limits[g->nlimits].currency, sizeof g->limits[0].currency, lim, 0);
        g->limits[g->nlimits].min_bet = sqlite3_column_int64(lim, 1);
        g->limits[g->nlimits].max_bet = sqlite3_column_int64(lim, 2);
        g->nlimits++;
    }
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(lim);
    if (r != PB_STORE_OK)
        return r;
    g->nblocked = 0;
    sqlite3_bind_int64(blk, 1, g->id);
    while ((rc = sqlite3_step(blk)) == SQLITE_ROW && g->nblocked < PB_STORE_GAME_BLOCKED_MAX)
        sqr_text(g->blocked[g->nblocked++], sizeof g->blocked[0], blk, 0);
    r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(blk);
    return r;
}

/* Replaces g's limits and blocked jurisdictions (inside the caller's savepoint). */
static pb_store_rc write_children(sq_conn *c, const pb_store_game *g)
{
    static const char DEL_LIM[] = "DELETE FROM game_limit WHERE game_id=?1";
    static const char DEL_BLK[] = "DELETE FROM game_blocked_jurisdiction WHERE game_id=?1";
    static const char INS_LIM[] =
        "INSERT INTO game_limit(game_id,currency,min_bet,max_bet) VALUES(?1,?2,?3,?4)";
    static const char INS_BLK[] =
        "INSERT INTO game_blocked_jurisdiction(game_id,jurisdiction) VALUES(?1,?2)";
    sqlite3_stmt *dl = sq_stmt_sql(c, DEL_LIM), *db = sq_stmt_sql(c, DEL_BLK),
                 *il = sq_stmt_sql(c, INS_LIM), *ib = sq_stmt_sql(c, INS_BLK);
    if (!dl || !db || !il || !ib)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(dl, 1, g->id);
    pb_store_rc r = sqr_exec(c, dl);
    if (r != PB_STORE_OK)
        return r;
    sqlite3_bind_int64(db, 1, g->id);
    if ((r = sqr_exec(c, db)) != PB_STORE_OK)
        return r;
    for (size_t i = 0; i < g->nlimits && i < PB_STORE_GAME_LIMITS_MAX; i++) {
        sqlite3_bind_int64(il, 1, g->id);
        sqr_bind_text(il, 2, g->limits[i].currency);
        sqlite3_bind_int64(il, 3, g->limits[i].min_bet);
        sqlite3_bind_int64(il, 4, g->limits[i].max_bet);
        if ((r = sqr_exec(c, il)) != PB_STORE_OK)
            return r;
    }
    for (size_t i = 0; i < g->nblocked && i < PB_STORE_GAME_BLOCKED_MAX; i++) {
        sqlite3_bind_int64(ib, 1, g->id);
        sqr_bind_text(ib, 2, g->blocked[i]);
        if ((r = sqr_exec(c, ib)) != PB_STORE_OK)
            return r;
    }
    return PB_STORE_OK;
}

static pb_store_rc sq_game_insert(pb_store_conn *base, pb_store_game *g)
{
    static const char SQL[] =
        "INSERT INTO game(provider_id,code,name,category,rtp_bp,volatility,status,created_at,"
        "updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, g->provider_id);
    sqr_bind_text(st, 2, g->code);
    sqr_bind_text(st, 3, g->name);
    sqr_bind_text(st, 4, g->category);
    sqlite3_bind_int(st, 5, g->rtp_bp);
    sqr_bind_text(st, 6, g->volatility);
    sqr_bind_text(st, 7, g->status[0] ? g->status : "active");
    sqlite3_bind_int64(st, 8, g->created_at);
    sqlite3_bind_int64(st, 9, g->updated_at);
    pb_store_rc r = sqr_savepoint(c);
    if (r != PB_STORE_OK)
        return r;
    r = sqr_exec(c, st);
    if (r == PB_STORE_OK) {
        g->id = sqlite3_last_insert_rowid(c->db);
        r = write_children(c, g);
    }
    return sqr_release(c, r);
}

static pb_store_rc sq_game_update(pb_store_conn *base, const pb_store_game *g)
{
    static const char SQL[] = "UPDATE game SET name=?2,category=?3,rtp_bp=?4,volatility=?5,"
                              "status=?6,updated_at=?7 WHERE id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, g->id);
    sqr_bind_text(st, 2, g->name);
    sqr_bind_text(st, 3, g->category);
    sqlite3_bind_int(st, 4, g->rtp_bp);
    sqr_bind_text(st, 5, g->volatility);
    sqr_bind_text(st, 6, g->status);
    sqlite3_bind_int64(st, 7, g->updated_at);
    pb_store_rc r = sqr_savepoint(c);
    if (r != PB_STORE_OK)
        return r;
    r = sqr_exec_changed(c, st);
    if (r == PB_STORE_OK)
        r = write_children(c, g);
    return sqr_release(c, r);
}

/* Steps a one-game lookup and completes it with its children. */
static pb_store_rc lookup_game(sq_conn *c, sqlite3_stmt *st, pb_store_game *out)
{
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        read_game(st, out);
        r = PB_STORE_OK;
    } else if (rc != SQLITE_DONE) {
        r = sq_result(c, rc);
    }
    sqr_done(st);
    return r == PB_STORE_OK ? load_children(c, out) : r;
}

static pb_store_rc sq_game_get(pb_store_conn *base, int64_t id, pb_store_game *out)
{
    static const char SQL[] = "SELECT " GAME_COLS GAME_FROM "WHERE g.id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    return lookup_game(c, st, out);
}

static pb_store_rc sq_game_by_code(pb_store_conn *base, int64_t provider_id, const char *code,
                                   pb_store_game *out)
{
    static const char SQL[] = "SELECT " GAME_COLS GAME_FROM "WHERE g.provider_id=?1 AND g.code=?2";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, provider_id);
    sqr_bind_text(st, 2, code);
    return lookup_game(c, st, out);
}

static pb_store_rc sq_game_list(pb_store_conn *base, const pb_store_game_filter *f,
                                int64_t after_id, pb_store_game *out, size_t cap, size_t *n)
{
    static const char SQL[] =
        "SELECT " GAME_COLS GAME_FROM "WHERE g.id>?1"
        " AND (?2=0 OR g.provider_id=?2)"
        " AND (?3 IS NULL OR g.category=?3)"
        " AND (?4 IS NULL OR g.status=?4)"
        " AND (?5 IS NULL OR p.status=?5)"
        " AND (?6=0 OR EXISTS(SELECT 1 FROM game_brand b WHERE b.game_id=g.id"
        " AND b.brand_id=?6 AND b.enabled=1))"
        " AND (?7 IS NULL OR EXISTS(SELECT 1 FROM game_limit l WHERE l.game_id=g.id"
        " AND l.currency=?7))"
        " AND NOT EXISTS(SELECT 1 FROM game_blocked_jurisdiction j WHERE j.game_id=g.id"
        " AND j.jurisdiction IN (?8,?9))"
        " ORDER BY g.id LIMIT ?10";
    sq_conn *c = SQ(base);
    static const pb_store_game_filter none = {0};
    if (!f)
        f = &none;
    *n = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, f->provider_id);
    sqr_bind_opt_text(st, 3, f->category);
    sqr_bind_opt_text(st, 4, f->status);
    sqr_bind_opt_text(st, 5, f->provider_status);
    sqlite3_bind_int64(st, 6, f->enabled_brand_id);
    sqr_bind_opt_text(st, 7, f->currency);
    sqr_bind_opt_text(st, 8, f->not_blocked[0]);
    sqr_bind_opt_text(st, 9, f->not_blocked[1]);
    sqlite3_bind_int64(st, 10, (int64_t)cap);
    pb_store_rc r = sqr_collect(c, st, out, sizeof *out, cap, n, read_game);
    for (size_t i = 0; r == PB_STORE_OK && i < *n; i++)
        r = load_children(c, &out[i]);
    return r;
}

/* ---- the per-brand switch ------------------------------------------------ */

static pb_store_rc sq_game_brand_set(pb_store_conn *base, int64_t game_id, int64_t brand_id,
                                     bool enabled, int64_t now)
{
    static const char SQL[] =
        "INSERT INTO game_brand(game_id,brand_id,enabled,updated_at) VALUES(?1,?2,?3,?4) "
        "ON CONFLICT(game_id,brand_id) DO UPDATE SET enabled=excluded.enabled,"
        "updated_at=excluded.updated_at";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, game_id);
    sqlite3_bind_int64(st, 2, brand_id);
    sqlite3_bind_int(st, 3, enabled ? 1 : 0);
    sqlite3_bind_int64(st, 4, now);
    return sqr_exec(c, st);
}

static pb_store_rc sq_game_brand_get(pb_store_conn *base, int64_t game_id, int64_t brand_id,
                                     bool *enabled)
{
    static const char SQL[] = "SELECT enabled FROM game_brand WHERE game_id=?1 AND brand_id=?2";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, game_id);
    sqlite3_bind_int64(st, 2, brand_id);
    int rc = sqlite3_step(st);
    *enabled = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    return r;
}

/* ---- launches ------------------------------------------------------------ */

static void read_launch(sqlite3_stmt *st, void *out)
{
    pb_store_launch *l = out;
    memset(l, 0, sizeof *l);
    sqr_blob(l->token_hash, sizeof l->token_hash, st, 0);
    l->provider_id = sqlite3_column_int64(st, 1);
    l->game_id = sqlite3_column_int64(st, 2);
    sqr_text(l->provider_code, sizeof l->provider_code, st, 3);
    sqr_text(l->game_code, sizeof l->game_code, st, 4);
    sqr_text(l->brand, sizeof l->brand, st, 5);
    sqr_text(l->player, sizeof l->player, st, 6);
    sqr_text(l->currency, sizeof l->currency, st, 7);
    l->created_at = sqlite3_column_int64(st, 8);
    l->expires_at = sqlite3_column_int64(st, 9);
}

static pb_store_rc sq_launch_insert(pb_store_conn *base, const pb_store_launch *l)
{
    static const char SQL[] =
        "INSERT INTO launch(token_hash,provider_id,game_id,brand,player,currency,created_at,"
        "expires_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_blob(st, 1, l->token_hash, (int)sizeof l->token_hash, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, l->provider_id);
    sqlite3_bind_int64(st, 3, l->game_id);
    sqr_bind_text(st, 4, l->brand);
    sqr_bind_text(st, 5, l->player);
    sqr_bind_text(st, 6, l->currency);
    sqlite3_bind_int64(st, 7, l->created_at);
    sqlite3_bind_int64(st, 8, l->expires_at);
    return sqr_exec(c, st);
}

static pb_store_rc sq_launch_get(pb_store_conn *base, const uint8_t *hash, pb_store_launch *out)
{
    static const char SQL[] =
        "SELECT l.token_hash,l.provider_id,l.game_id,p.code,g.code,l.brand,l.player,"
        "l.currency,l.created_at,l.expires_at FROM launch l "
        "JOIN provider p ON p.id=l.provider_id JOIN game g ON g.id=l.game_id "
        "WHERE l.token_hash=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_blob(st, 1, hash, PB_STORE_LAUNCH_HASH_LEN, SQLITE_STATIC);
    SQR_LOOKUP(c, st, read_launch, out);
}

static pb_store_rc sq_launch_prune(pb_store_conn *base, int64_t before, int64_t *n)
{
    static const char SQL[] = "DELETE FROM launch WHERE expires_at<?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, before);
    return sqr_exec_count(c, st, n);
}

static pb_store_rc sq_launch_revoke_player(pb_store_conn *base, const char *player, int64_t now,
                                           int64_t *n)
{
    static const char SQL[] = "UPDATE launch SET expires_at=?2,revoked_at=?2 "
                              "WHERE player=?1 AND expires_at>?2"; /* launch_player */
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, player);
    sqlite3_bind_int64(st, 2, now);
    return sqr_exec_count(c, st, n);
}

const struct pb_store_catalog_ops pb_store_sqlite_catalog_ops = {
    .provider_insert = sq_provider_insert,
    .provider_update = sq_provider_update,
    .provider_get = sq_provider_get,
    .provider_by_code = sq_provider_by_code,
    .provider_list = sq_provider_list,
    .game_insert = sq_game_insert,
    .game_update = sq_game_update,
    .game_get = sq_game_get,
    .game_by_code = sq_game_by_code,
    .game_list = sq_game_list,
    .game_brand_set = sq_game_brand_set,
    .game_brand_get = sq_game_brand_get,
    .launch_insert = sq_launch_insert,
    .launch_get = sq_launch_get,
    .launch_prune = sq_launch_prune,
    .launch_revoke_player = sq_launch_revoke_player,
};
