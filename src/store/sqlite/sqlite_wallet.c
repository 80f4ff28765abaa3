/*
 * sqlite_wallet.c — the wallet's statements on SQLite (0005_wallet.sql):
 * wallet_op (decided operations with their stored responses), wallet_bet and
 * wallet_round (per player since 0025_wallet_round_player.sql). Run by the
 * ledger writer inside its batch transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

#define OP_COLS                                                                              \
    "provider,tx_id,kind,request_hash,brand,player,currency,round_id,bet_tx_id,game,amount," \
    "result,cash_part,bonus_part,cash_after,bonus_after,held_after,bet_unknown,transfer_id," \
    "response_status,response,created_at,token_hash"

static pb_store_rc op_get(pb_store_conn *base, const char *provider, const char *tx_id,
                          pb_store_wallet_op *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "SELECT " OP_COLS
                                      " FROM wallet_op WHERE provider=?1 AND tx_id=?2");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, provider);
    sqr_bind_text(st, 2, tx_id);
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        sqr_text(out->provider, sizeof out->provider, st, 0);
        sqr_text(out->tx_id, sizeof out->tx_id, st, 1);
        out->kind = sqlite3_column_int(st, 2);
        sqr_blob(out->request_hash, sizeof out->request_hash, st, 3);
        sqr_text(out->brand, sizeof out->brand, st, 4);
        sqr_text(out->player, sizeof out->player, st, 5);
        sqr_text(out->currency, sizeof out->currency, st, 6);
        sqr_text(out->round_id, sizeof out->round_id, st, 7);
        sqr_text(out->bet_tx_id, sizeof out->bet_tx_id, st, 8);
        sqr_text(out->game, sizeof out->game, st, 9);
        out->amount = sqlite3_column_int64(st, 10);
        sqr_text(out->result, sizeof out->result, st, 11);
        out->cash_part = sqlite3_column_int64(st, 12);
        out->bonus_part = sqlite3_column_int64(st, 13);
        out->cash_after = sqlite3_column_int64(st, 14);
        out->bonus_after = sqlite3_column_int64(st, 15);
        out->held_after = sqlite3_column_int64(st, 16);
        out->bet_unknown = sqlite3_column_int(st, 17) != 0;
        out->has_transfer = sqlite3_column_type(st, 18) == SQLITE_BLOB &&
                            sqr_blob(out->transfer_id.b, sizeof out->transfer_id.b, st, 18) ==
                                sizeof out->transfer_id.b;
        out->response_status = sqlite3_column_int(st, 19);
        const void *b = sqlite3_column_blob(st, 20);
        size_t n = (size_t)sqlite3_column_bytes(st, 20);
        out->response = malloc(n + 1);
        if (out->response) {
            if (n)
                memcpy(out->response, b, n);
            out->response[n] = 0;
            out->response_len = n;
            r = PB_STORE_OK;
        } else {
            r = PB_STORE_ERROR;
        }
        out->created_at = sqlite3_column_int64(st, 21);
        out->has_token = sqlite3_column_type(st, 22) == SQLITE_BLOB &&
                         sqr_blob(out->token_hash, sizeof out->token_hash, st, 22) ==
                             sizeof out->token_hash;
    } else if (rc != SQLITE_DONE) {
        r = sq_result(c, rc);
    }
    sqr_done(st);
    return r;
}

static pb_store_rc op_insert(pb_store_conn *base, const pb_store_wallet_op *op)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "INSERT INTO wallet_op(" OP_COLS
                                      ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
                                      "?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23)");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, op->provider);
    sqr_bind_text(st, 2, op->tx_id);
    sqlite3_bind_int(st, 3, op->kind);
    sqlite3_bind_blob(st, 4, op->request_hash, sizeof op->request_hash, SQLITE_STATIC);
    sqr_bind_text(st, 5, op->brand);
    sqr_bind_text(st, 6, op->player);
    sqr_bind_text(st, 7, op->currency);
    sqr_bind_text(st, 8, op->round_id);
    sqr_bind_text(st, 9, op->bet_tx_id);
    sqr_bind_text(st, 10, op->game);
    sqlite3_bind_int64(st, 11, op->amount);
    sqr_bind_text(st, 12, op->result);
    sqlite3_bind_int64(st, 13, op->cash_part);
    sqlite3_bind_int64(st, 14, op->bonus_part);
    sqlite3_bind_int64(st, 15, op->cash_after);
    sqlite3_bind_int64(st, 16, op->bonus_after);
    sqlite3_bind_int64(st, 17, op->held_after);
    sqlite3_bind_int(st, 18, op->bet_unknown ? 1 : 0);
    if (op->has_transfer)
        sqlite3_bind_blob(st, 19, op->transfer_id.b, sizeof op->transfer_id.b, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 19);
    sqlite3_bind_int(st, 20, op->response_status);
    sqlite3_bind_blob(st, 21, op->response ? op->response : "", (int)op->response_len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 22, op->created_at);
    if (op->has_token)
        sqlite3_bind_blob(st, 23, op->token_hash, sizeof op->token_hash, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 23);
    return sqr_exec(c, st);
}

static void read_bet(sqlite3_stmt *st, pb_store_wallet_bet *b)
{
    memset(b, 0, sizeof *b);
    sqr_text(b->provider, sizeof b->provider, st, 0);
    sqr_text(b->bet_tx_id, sizeof b->bet_tx_id, st, 1);
    sqr_text(b->player, sizeof b->player, st, 2);
    sqr_text(b->round_id, sizeof b->round_id, st, 3);
    b->cash_part = sqlite3_column_int64(st, 4);
    b->bonus_part = sqlite3_column_int64(st, 5);
    sqr_text(b->state, sizeof b->state, st, 6);
    b->created_at = sqlite3_column_int64(st, 7);
    b->updated_at = sqlite3_column_int64(st, 8);
    sqr_text(b->game, sizeof b->game, st, 9);
}

/* A placed bet is its own operation row (wallet_op, kind 1 = bet, result 'OK'):
 * wallet_bet holds only what became of a bet afterwards (rolled_back) and the
 * tombstones of rollbacks that came first, so a bet costs no second row and no
 * second random page of an index. Rows 'placed' written by earlier versions are
 * still read (wallet_bet first: its state is the later word). */
#define BET_OP_WHERE "provider=?1 AND tx_id=?2 AND kind=1 AND result='OK'"

/* Runs a bet lookup (?1 the provider, ?2 the bet's tx id) and reads its row. */
static pb_store_rc bet_lookup(pb_store_conn *base, const char *sql, const char *provider,
                              const char *bet_tx_id, pb_store_wallet_bet *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, sql);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, provider);
    sqr_bind_text(st, 2, bet_tx_id);
    SQR_LOOKUP(c, st, read_bet, out);
}

#define BET_COLS \
    "provider,bet_tx_id,player,round_id,cash_part,bonus_part,state,created_at,updated_at"
/* wallet_bet has no game: its bet's operation row has (none for a tombstone) */
#define BET_GAME                                                                       \
    "COALESCE((SELECT o.game FROM wallet_op o WHERE o.provider=?1 AND o.tx_id=?2 AND " \
    "o.kind=1),'')"

static pb_store_rc bet_get(pb_store_conn *base, const char *provider, const char *bet_tx_id,
                           pb_store_wallet_bet *out)
{
    return bet_lookup(
        base,
        "SELECT " BET_COLS "," BET_GAME ",0 AS pri FROM wallet_bet WHERE provider=?1 AND "
        "bet_tx_id=?2 UNION ALL SELECT provider,tx_id,player,round_id,cash_part,bonus_part,"
        "'placed',created_at,created_at,game,1 FROM wallet_op WHERE " BET_OP_WHERE
        " ORDER BY pri LIMIT 1",
        provider, bet_tx_id, out);
}

static pb_store_rc bet_record_get(pb_store_conn *base, const char *provider, const char *bet_tx_id,
                                  pb_store_wallet_bet *out)
{
    return bet_lookup(base,
                      "SELECT " BET_COLS "," BET_GAME
                      " FROM wallet_bet WHERE provider=?1 AND bet_tx_id=?2",
                      provider, bet_tx_id, out);
}

static pb_store_rc bet_insert(pb_store_conn *base, const pb_store_wallet_bet *b)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, "INSERT INTO wallet_bet(" BET_COLS
                                      ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, b->provider);
    sqr_bind_text(st, 2, b->bet_tx_id);
    sqr_bind_text(st, 3, b->player);
    sqr_bind_text(st, 4, b->round_id);
    sqlite3_bind_int64(st, 5, b->cash_part);
    sqlite3_bind_int64(st, 6, b->bonus_part);
    sqr_bind_text(st, 7, b->state);
    sqlite3_bind_int64(st, 8, b->created_at);
    sqlite3_bind_int64(st, 9, b->updated_at);
    return sqr_exec(c, st);
}

/* The bet's row takes the state; a bet placed as its operation row only gets its
 * row here now, from that operation. */
static pb_store_rc bet_set_state(pb_store_conn *base, const char *provider, const char *bet_tx_id,
                                 const char *state, int64_t now)
{
    static const char *const SQL[] = {
        "UPDATE wallet_bet SET state=?3, updated_at=?4 WHERE provider=?1 AND bet_tx_id=?2",
        "INSERT INTO wallet_bet(provider,bet_tx_id,player,round_id,cash_part,bonus_part,state,"
        "created_at,updated_at) SELECT provider,tx_id,player,round_id,cash_part,bonus_part,?3,"
        "created_at,?4 FROM wallet_op WHERE " BET_OP_WHERE,
    };
    sq_conn *c = SQ(base);
    for (size_t i = 0; i < sizeof SQL / sizeof SQL[0]; i++) {
        sqlite3_stmt *st = sq_stmt_sql(c, SQL[i]);
        if (!st)
            return PB_STORE_ERROR;
        sqr_bind_text(st, 1, provider);
        sqr_bind_text(st, 2, bet_tx_id);
        sqr_bind_text(st, 3, state);
        sqlite3_bind_int64(st, 4, now);
        pb_store_rc r = sqr_exec(c, st);
        if (r != PB_STORE_OK || sqlite3_changes(c->db) != 0)
            return r;
    }
    return PB_STORE_NOT_FOUND;
}

static void read_round(sqlite3_stmt *st, pb_store_wallet_round *r)
{
    memset(r, 0, sizeof *r);
    sqr_text(r->provider, sizeof r->provider, st, 0);
    sqr_text(r->round_id, sizeof r->round_id, st, 1);
    sqr_text(r->player, sizeof r->player, st, 2);
    sqr_text(r->game, sizeof r->game, st, 3);
    r->has_win = sqlite3_column_int(st, 4) != 0;
    r->closed = sqlite3_column_int(st, 5) != 0;
    r->created_at = sqlite3_column_int64(st, 6);
    r->updated_at = sqlite3_column_int64(st, 7);
}

static pb_store_rc round_get(pb_store_conn *base, const char *provider, const char *round_id,
                             const char *player, pb_store_wallet_round *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st =
        sq_stmt_sql(c, "SELECT provider,round_id,player,game,has_win,closed,created_at,updated_at "
                       "FROM wallet_round WHERE provider=?1 AND round_id=?2 AND player=?3");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, provider);
    sqr_bind_text(st, 2, round_id);
    sqr_bind_text(st, 3, player);
    SQR_LOOKUP(c, st, read_round, out);
}

static pb_store_rc round_put(pb_store_conn *base, const pb_store_wallet_round *r)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c, "INSERT INTO wallet_round(provider,round_id,player,game,has_win,closed,created_at,"
           "updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(provider,round_id,player) "
           "DO UPDATE SET has_win=excluded.has_win, closed=excluded.closed, "
           "updated_at=excluded.updated_at");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, r->provider);
    sqr_bind_text(st, 2, r->round_id);
    sqr_bind_text(st, 3, r->player);
    sqr_bind_text(st, 4, r->game);
    sqlite3_bind_int(st, 5, r->has_win ? 1 : 0);
    sqlite3_bind_int(st, 6, r->closed ? 1 : 0);
    sqlite3_bind_int64(st, 7, r->created_at);
    sqlite3_bind_int64(st, 8, r->updated_at);
    return sqr_exec(c, st);
}

static void read_owner(sqlite3_stmt *st, pb_store_wallet_owner *o)
{
    memset(o, 0, sizeof *o);
    sqr_text(o->brand, sizeof o->brand, st, 0);
    sqr_text(o->player, sizeof o->player, st, 1);
    sqr_text(o->currency, sizeof o->currency, st, 2);
    sqr_text(o->game, sizeof o->game, st, 3);
}

/* Two lookups by the unique (provider, tx_id) index: the operation's own row
 * first (the owner), then its bet's; the token digests of both. */
static pb_store_rc owner_get(pb_store_conn *base, const char *provider, const char *tx_id,
                             const char *bet_tx_id, pb_store_wallet_owner *out)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(
        c, "SELECT brand,player,currency,game,token_hash,0 AS pri FROM wallet_op WHERE "
           "provider=?1 AND tx_id=?2 UNION ALL SELECT brand,player,currency,game,token_hash,1 "
           "FROM wallet_op WHERE provider=?1 AND tx_id=?3 AND kind=1 ORDER BY pri");
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, provider);
    sqr_bind_text(st, 2, tx_id);
    sqr_bind_text(st, 3, bet_tx_id ? bet_tx_id : "");
    size_t rows = 0;
    int rc = SQLITE_DONE;
    while (rows < 2 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows++ == 0)
            read_owner(st, out);
        if (sqlite3_column_type(st, 4) == SQLITE_BLOB &&
            sqr_blob(out->tokens[out->n_tokens], sizeof out->tokens[0], st, 4) ==
                sizeof out->tokens[0])
            out->n_tokens++;
    }
    if (rc == SQLITE_ROW)
        rc = SQLITE_DONE; /* both rows read: there is no third */
    pb_store_rc r = rc != SQLITE_DONE ? sq_result(c, rc)
                    : rows == 0       ? PB_STORE_NOT_FOUND
                                      : PB_STORE_OK;
    sqr_done(st);
    return r;
}

/* The conditions of 0030's and 0040's partial indexes, repeated word for word in
 * the queries that read by them (SQLite uses a partial index only for a query
 * whose WHERE contains its condition as one of its AND-terms). */
#define ACCEPTED_BETS "kind=1 AND result='OK'"
#define OTHER_PLAYS "((kind = 1 AND result <> 'OK') OR (kind = 3 AND result = 'OK'))"

/* The distinct players of a round's rows that satisfy `plays` (one of the two
 * conditions above), up to cap. */
static pb_store_rc round_players(sq_conn *c, const char *sql, const char *provider,
                                 const char *round_id, pb_store_wallet_owner *out, size_t cap,
                                 size_t *n)
{
    *n = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, sql);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, provider);
    sqr_bind_text(st, 2, round_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)cap);
    int rc = SQLITE_DONE;
    while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW)
        read_owner(st, &out[(*n)++]);
    if (*n == cap)
        rc = SQLITE_DONE;
    pb_store_rc r = rc == SQLITE_ROW || rc == SQLITE_DONE ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    return r;
}

/* The players of a round's accepted bets (0030's index); when it has none, the
 * players of its stored refusals and accepted rollbacks (0040's). */
static pb_store_rc round_owners(pb_store_conn *base, const char *provider, const char *round_id,
                                pb_store_wallet_owner *out, size_t cap, size_t *n)
{
    sq_conn *c = SQ(base);
    pb_store_rc r = round_players(c,
                                  "SELECT brand,player,currency,game FROM wallet_op WHERE "
                                  "provider=?1 AND round_id=?2 AND " ACCEPTED_BETS
                                  " GROUP BY player LIMIT ?3",
                                  provider, round_id, out, cap, n);
    if (r != PB_STORE_OK || *n > 0)
        return r;
    return round_players(c,
                         "SELECT brand,player,currency,game FROM wallet_op WHERE provider=?1 "
                         "AND round_id=?2 AND " OTHER_PLAYS " GROUP BY player LIMIT ?3",
                         provider, round_id, out, cap, n);
}

/* Of a player's rows of a round that satisfy the statement's condition: how many
 * there are (*rows), how many record a token, whether one records token_hash. */
static pb_store_rc count_tokens(sq_conn *c, const char *sql, const char *provider,
                                const char *round_id, const char *player,
                                const uint8_t token_hash[32], size_t *rows, size_t *recorded,
                                bool *match)
{
    *rows = *recorded = 0;
    *match = false;
    sqlite3_stmt *st = sq_stmt_sql(c, sql);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, provider);
    sqr_bind_text(st, 2, round_id);
    sqr_bind_text(st, 3, player);
    sqlite3_bind_blob(st, 4, token_hash, 32, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sqlite3_int64 all = sqlite3_column_int64(st, 0), n = sqlite3_column_int64(st, 1);
        *rows = all > 0 ? (size_t)all : 0;
        *recorded = n > 0 ? (size_t)n : 0;
        *match = sqlite3_column_int64(st, 2) > 0;
        rc = SQLITE_DONE;
    }
    pb_store_rc r = rc == SQLITE_DONE ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    return r;
}

/* The tokens of a player's accepted bets of a round (0030's index); when they
 * have none there, of their refusals and accepted rollbacks on it (0040's): the
 * rows round_owners found them by. */
static pb_store_rc round_tokens(pb_store_conn *base, const char *provider, const char *round_id,
                                const char *player, const uint8_t token_hash[32], size_t *recorded,
                                bool *match)
{
    sq_conn *c = SQ(base);
    size_t rows = 0;
    pb_store_rc r = count_tokens(c,
                                 "SELECT count(*), count(token_hash), "
                                 "coalesce(sum(token_hash=?4),0) FROM wallet_op WHERE "
                                 "provider=?1 AND round_id=?2 AND player=?3 AND " ACCEPTED_BETS,
                                 provider, round_id, player, token_hash, &rows, recorded, match);
    if (r != PB_STORE_OK || rows > 0)
        return r;
    return count_tokens(
        c,
        "SELECT count(*), count(token_hash), coalesce(sum(token_hash=?4),0) "
        "FROM wallet_op WHERE provider=?1 AND round_id=?2 AND player=?3 AND " OTHER_PLAYS,
        provider, round_id, player, token_hash, &rows, recorded, match);
}

/* Whether the statement sql (?1 provider, ?2 round_id, ?3 player; cached by
 * its address, sq_stmt_sql) returns a row: one step. */
static pb_store_rc round_probe(pb_store_conn *base, const char *sql, const char *provider,
                               const char *round_id, const char *player, bool *has)
{
    sq_conn *c = SQ(base);
    *has = false;
    sqlite3_stmt *st = sq_stmt_sql(c, sql);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, provider);
    sqr_bind_text(st, 2, round_id);
    sqr_bind_text(st, 3, player);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *has = true;
        rc = SQLITE_DONE;
    }
    pb_store_rc r = rc == SQLITE_DONE ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    return r;
}

/* Whether player has an accepted bet on provider's round round_id: one probe
 * of 0030's partial index (its condition repeated). */
static pb_store_rc round_has_bets(pb_store_conn *base, const char *provider, const char *round_id,
                                  const char *player, bool *has)
{
    return round_probe(base,
                       "SELECT 1 FROM wallet_op WHERE provider=?1 AND round_id=?2 AND "
                       "player=?3 AND " ACCEPTED_BETS " LIMIT 1",
                       provider, round_id, player, has);
}

/* Whether player's round round_id of provider had a win: its round row's has_win
 * (an earlier version wrote one for every win), else an accepted win among the player's
 * operations on the round (wallet_op_player: player, provider, round_id). A
 * rare path (a rollback, a close): the win itself writes nothing for it. */
static pb_store_rc round_has_win(pb_store_conn *base, const char *provider, const char *round_id,
                                 const char *player, bool *has)
{
    return round_probe(
        base,
        "SELECT 1 FROM wallet_round WHERE provider=?1 AND round_id=?2 AND player=?3 AND "
        "has_win<>0 UNION ALL SELECT 1 FROM wallet_op INDEXED BY wallet_op_player WHERE "
        "player=?3 AND provider=?1 AND round_id=?2 AND kind=2 AND result='OK' LIMIT 1",
        provider, round_id, player, has);
}

/* Whether player played a round with no accepted bet on it: a stored bet (a
 * refusal: the accepted ones are round_has_bets') or an accepted rollback among
 * the player's operations on it (wallet_op_player: player, provider, round_id).
 * A rare path (a close that found no accepted bet). */
static pb_store_rc round_played(pb_store_conn *base, const char *provider, const char *round_id,
                                const char *player, bool *played)
{
    return round_probe(base,
                       "SELECT 1 FROM wallet_op INDEXED BY wallet_op_player WHERE player=?3 AND "
                       "provider=?1 AND round_id=?2 AND (kind=1 OR (kind=3 AND result='OK')) "
                       "LIMIT 1",
                       provider, round_id, player, played);
}

const struct pb_store_wallet_ops pb_store_sqlite_wallet_ops = {
    .op_get = op_get,
    .op_insert = op_insert,
    .bet_get = bet_get,
    .bet_record_get = bet_record_get,
    .bet_insert = bet_insert,
    .bet_set_state = bet_set_state,
    .round_get = round_get,
    .round_put = round_put,
    .owner_get = owner_get,
    .round_owners = round_owners,
    .round_tokens = round_tokens,
    .round_has_bets = round_has_bets,
    .round_has_win = round_has_win,
    .round_played = round_played,
};
