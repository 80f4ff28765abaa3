/*
 * sqlite_backoffice_people.c — the back office's people statements on SQLite
 * (0013_backoffice_people.sql and reads of 0003/0005/0009 tables): notes,
 * a player's sessions, a player's rounds from both sources, names, and the
 * sorted player search.
 *
 * Rounds: in-house rounds are game_round rows; provider rounds are the
 * player's accepted wallet operations grouped by (provider, round id), the
 * in-house provider excluded (its operations are the game_round rows' money).
 * Both are one UNION ALL ordered by (started_at, source, provider, id)
 * descending, so a page bound on that key pages the merged list exactly.
 *
 * The search's sort and direction change the SQL's ORDER BY and keyset
 * comparison, so it is prepared for each call (not cached) from fixed pieces;
 * every value is bound, never pasted.
 *
 * Names are stored sealed (src/identity/pii.c), so the name filters (`q` and
 * `name`: a case-insensitive prefix of the first or the last name) cannot be
 * SQL on the column. The SQL calls pb_name_prefix(matcher, public_id, field,
 * stored, prefix), an application-defined function registered once on each
 * connection (sq_people_functions, from sq_connect), and the query's matcher
 * (q->name_match, from the domain) reaches it as a bound pointer
 * (sqlite3_bind_pointer, type "pb_name_matcher"): the domain opens the value and
 * compares, this file stays free of keys and cryptography. Without a matcher
 * the stored text is compared as it is (lower() on ASCII letters, as before).
 * The search was a scan of the players in scope before (substr() uses no
 * index) and still is; the cost per row is now opening up to two names, and
 * only for rows the cheaper conditions (id, email, country, status, dates) have
 * not already decided. A PostgreSQL backend would do the same with the other
 * filters in SQL and the name test in C over the rows they leave, fetching
 * pages until it has `cap` hits (or keep a keyed blind index of normalised
 * prefixes, which this file does not need to know about).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite/sqlite_identity_internal.h"

#define SQ(c) ((sq_conn *)(c))

/* ---- notes */

static void read_note(sqlite3_stmt *st, void *out)
{
    pb_store_player_note *n = out;
    memset(n, 0, sizeof *n);
    n->id = sqlite3_column_int64(st, 0);
    n->player_id = sqlite3_column_int64(st, 1);
    n->brand_id = sqlite3_column_int64(st, 2);
    sqr_text(n->author_id, sizeof n->author_id, st, 3);
    sqr_text(n->author_email, sizeof n->author_email, st, 4);
    sqr_text(n->text, sizeof n->text, st, 5);
    n->created_at = sqlite3_column_int64(st, 6);
}

/* Appends a note; assigns n->id. */
static pb_store_rc sq_note_insert(pb_store_conn *base, pb_store_player_note *n)
{
    static const char SQL[] = "INSERT INTO player_note(player_id,brand_id,author_id,author_email,"
                              "text,created_at) VALUES(?1,?2,?3,?4,?5,?6)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, n->player_id);
    sqlite3_bind_int64(st, 2, n->brand_id);
    sqr_bind_text(st, 3, n->author_id);
    sqr_bind_text(st, 4, n->author_email);
    sqr_bind_text(st, 5, n->text);
    sqlite3_bind_int64(st, 6, n->created_at);
    pb_store_rc r = sqr_exec(c, st);
    if (r == PB_STORE_OK)
        n->id = sqlite3_last_insert_rowid(c->db);
    return r;
}

/* A player's notes, newest first. */
static pb_store_rc sq_note_list(pb_store_conn *base, int64_t player_id, int64_t before_id,
                                pb_store_player_note *out, size_t cap, size_t *n)
{
    static const char SQL[] = "SELECT id,player_id,brand_id,author_id,author_email,text,"
                              "created_at FROM player_note WHERE player_id=?1 "
                              "AND (?2=0 OR id<?2) ORDER BY id DESC LIMIT ?3";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    *n = 0;
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, player_id);
    sqlite3_bind_int64(st, 2, before_id);
    sqlite3_bind_int64(st, 3, (int64_t)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_note);
}

/* ---- sessions */

/* A player's sessions in any state, newest first. */
static pb_store_rc sq_session_page(pb_store_conn *base, int64_t player_id, int64_t before_id,
                                   pb_store_session *out, size_t cap, size_t *n)
{
    static const char SQL[] = "SELECT " SQ_SESSION_COLS " FROM auth_session "
                              "WHERE subject_kind='player' AND subject_id=?1 AND (?2=0 OR id<?2) "
                              "ORDER BY id DESC LIMIT ?3";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    *n = 0;
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, player_id);
    sqlite3_bind_int64(st, 2, before_id);
    sqlite3_bind_int64(st, 3, (int64_t)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, sq_read_session);
}

/* ---- rounds */

static void read_round(sqlite3_stmt *st, void *out)
{
    pb_store_player_round *r = out;
    memset(r, 0, sizeof *r);
    sqr_text(r->source, sizeof r->source, st, 0);
    sqr_text(r->id, sizeof r->id, st, 1);
    sqr_text(r->provider, sizeof r->provider, st, 2);
    sqr_text(r->game, sizeof r->game, st, 3);
    sqr_text(r->currency, sizeof r->currency, st, 4);
    r->bet = sqlite3_column_int64(st, 5);
    r->win = sqlite3_column_int64(st, 6);
    r->refunded = sqlite3_column_int64(st, 7);
    sqr_text(r->status, sizeof r->status, st, 8);
    r->started_at = sqlite3_column_int64(st, 9);
    r->settled_at = sqlite3_column_int64(st, 10);
    r->has_multiplier = sqlite3_column_type(st, 11) != SQLITE_NULL;
    r->multiplier = sqlite3_column_int64(st, 11);
    r->has_rtp_bp = sqlite3_column_type(st, 12) != SQLITE_NULL;
    r->rtp_bp = sqlite3_column_int64(st, 12);
    sqr_text(r->state, sizeof r->state, st, 13); /* NULL (a provider round): "" */
}

/* Both sources merged, newest first, bound by the keyset position. */
static pb_store_rc sq_round_page(pb_store_conn *base, const pb_store_round_query *q,
                                 pb_store_player_round *out, size_t cap, size_t *n)
{
    static const char SQL[] =
        "SELECT src,rid,prov,game,cur,bet,win,refunded,status,started,settled,mult,rtp,gstate FROM ("
        " SELECT 'original' AS src,g.id AS rid,?6 AS prov,g.game AS game,g.currency AS cur,"
        "  g.amount AS bet,coalesce(g.payout,0) AS win,"
        "  CASE g.state WHEN 'void' THEN g.amount ELSE 0 END AS refunded,"
        "  CASE g.state WHEN 'settled' THEN 'settled' WHEN 'void' THEN 'void' ELSE 'open' END"
        "  AS status,"
        "  g.created_at AS started,coalesce(g.settled_at,0) AS settled,g.multiplier AS mult,"
        "  g.rtp_bp AS rtp,g.state AS gstate"
        " FROM game_round g WHERE g.player=?1 AND (?2 IS NULL OR ?2='original')"
        "  AND (?3 IS NULL OR g.game=?3) AND (?4=0 OR g.created_at>=?4)"
        "  AND (?5=0 OR g.created_at<?5)"
        " UNION ALL"
        " SELECT 'provider',o.round_id,o.provider,max(o.game),max(o.currency),"
        "  sum(CASE WHEN o.kind=1 THEN o.amount ELSE 0 END),"
        "  sum(CASE WHEN o.kind=2 THEN o.amount ELSE 0 END),"
        "  sum(CASE WHEN o.kind=1 AND EXISTS(SELECT 1 FROM wallet_op x WHERE x.player=o.player"
        "   AND x.provider=o.provider AND x.round_id=o.round_id AND x.kind=3 AND x.result='OK'"
        "   AND x.bet_tx_id=o.tx_id) THEN o.amount ELSE 0 END),"
        "  CASE WHEN max(coalesce(r.closed,0))=1 THEN 'closed'"
        "   WHEN sum(o.kind=1)>0 AND sum(o.kind=3)>=sum(o.kind=1) AND sum(o.kind=2)=0"
        "   THEN 'rolled_back' ELSE 'open' END,"
        "  min(o.created_at),"
        "  CASE WHEN max(coalesce(r.closed,0))=1 THEN max(r.updated_at) ELSE 0 END,NULL,NULL,NULL"
        " FROM wallet_op o LEFT JOIN wallet_round r"
        "  ON r.provider=o.provider AND r.round_id=o.round_id AND r.player=o.player"
        " WHERE o.player=?1 AND o.result='OK' AND o.provider<>?6"
        "  AND (?2 IS NULL OR ?2='provider')"
        " GROUP BY o.provider,o.round_id"
        " HAVING (?3 IS NULL OR max(o.game)=?3) AND (?4=0 OR min(o.created_at)>=?4)"
        "  AND (?5=0 OR min(o.created_at)<?5)"
        ") WHERE ?7=0 OR (started,src,prov,rid)<(?7,?8,?9,?10)"
        " ORDER BY started DESC,src DESC,prov DESC,rid DESC LIMIT ?11";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    *n = 0;
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, q->player);
    sqr_bind_opt_text(st, 2, q->source);
    sqr_bind_opt_text(st, 3, q->game);
    sqlite3_bind_int64(st, 4, q->from);
    sqlite3_bind_int64(st, 5, q->to);
    sqr_bind_text(st, 6, q->house_provider);
    sqlite3_bind_int64(st, 7, q->after.started_at);
    sqr_bind_text(st, 8, q->after.source);
    sqr_bind_text(st, 9, q->after.provider);
    sqr_bind_text(st, 10, q->after.id);
    sqlite3_bind_int64(st, 11, (int64_t)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_round);
}

/* ---- the player search */

#define MATCHER_TYPE "pb_name_matcher"

/* What the search binds for pb_name_prefix(): the domain's matcher. */
typedef struct name_matcher {
    pb_store_name_match_fn fn;
    void *ctx;
} name_matcher;

/* ASCII lower case, as SQLite's lower() without ICU. */
static unsigned char ascii_lower(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch + 32) : ch;
}

/* lower(substr(stored,1,length(prefix)))=lower(prefix) on valid UTF-8. */
static bool clear_prefix(const char *stored, const char *prefix)
{
    for (; *prefix; stored++, prefix++)
        if (ascii_lower((unsigned char)*stored) != ascii_lower((unsigned char)*prefix))
            return false; /* also when stored ends first */
    return true;
}

/* pb_name_prefix(matcher, public_id, field, stored, prefix): 1 when the name
 * stored for the player starts with prefix (see the file comment); 0 for a
 * NULL or '' stored name or a NULL prefix. */
static void fn_name_prefix(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const name_matcher *m = sqlite3_value_pointer(argv[0], MATCHER_TYPE);
    const char *pid = (const char *)sqlite3_value_text(argv[1]);
    const char *field = (const char *)sqlite3_value_text(argv[2]);
    const char *stored = (const char *)sqlite3_value_text(argv[3]);
    const char *prefix = (const char *)sqlite3_value_text(argv[4]);
    bool hit = false;
    if (stored && stored[0] && prefix && pid && field)
        hit = m && m->fn ? m->fn(m->ctx, pid, field, stored, prefix) : clear_prefix(stored, prefix);
    sqlite3_result_int(ctx, hit);
}

int sq_people_functions(sqlite3 *db)
{
    return sqlite3_create_function_v2(db, "pb_name_prefix", 5, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                      NULL, fn_name_prefix, NULL, NULL, NULL);
}

/* The cash balance (available: posted minus pending debits, as ledger_balance
 * holds it; 0 without an account) in currency ?20: player_cash_order keeps it
 * per player and currency (0031), one primary-key lookup. */
#define BALANCE_EXPR                                                                \
    "coalesce((SELECT o.available FROM player_cash_order o WHERE o.player_id=p.id " \
    "AND o.currency=?20),0)"

/* The sort key's SQL expression and the player id it is tied with: columns of
 * the index that serves the order (player_created and player_last_login end with
 * the player's id, player_pii_email with player_pii's rowid, the player id). */
static const char *sort_expr(pb_store_player_sort s, const char **id)
{
    *id = "p.id";
    switch (s) {
    case PB_STORE_SORT_EMAIL: *id = "e.player_id"; return "e.email";
    case PB_STORE_SORT_LAST_LOGIN: return "p.last_login_at";
    case PB_STORE_SORT_BALANCE: return BALANCE_EXPR;
    case PB_STORE_SORT_CREATED: break;
    }
    return "p.created_at";
}

/* The one brand a search is limited to (0: several or every brand). */
static int64_t one_brand(const pb_store_player_find_query *q)
{
    if (q->brand_id)
        return q->brand_id;
    return !q->all_brands && q->nbrands == 1 ? q->brand_ids[0] : 0;
}

/* Whether player_cash_order has a row for every player of `brand` in `currency`:
 * it does for each of the brand's currencies (0031). */
static pb_store_rc balance_rows_cover(sq_conn *c, int64_t brand, const char *currency,
                                      bool *covered)
{
    static const char SQL[] = "SELECT 1 FROM brand_currency WHERE brand_id=?1 AND currency=?2";
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    *covered = false;
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, brand);
    sqr_bind_text(st, 2, currency);
    int rc = sqlite3_step(st);
    *covered = rc == SQLITE_ROW;
    sqr_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? PB_STORE_OK : sq_result(c, rc);
}

/* One range of the search: `from` is its FROM and WHERE up to the cursor's
 * term; the rows go to out from *n on. */
static pb_store_rc find_pass(sq_conn *c, const pb_store_player_find_query *q, const char *sk,
                             const char *id, const char *dir, int64_t brand, const char *from,
                             const char *cursor, pb_store_player_hit *out, size_t cap, size_t *n)
{
    char sql[4096];
    if (snprintf(sql, sizeof sql, "SELECT %s,p.public_id,%s %s%s ORDER BY %s %s,%s %s LIMIT ?17",
                 id, sk, from, cursor, sk, dir, id, dir) >= (int)sizeof sql)
        return PB_STORE_ERROR;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        pb_store_rc r = sq_result(c, rc);
        sqlite3_finalize(st);
        return r == PB_STORE_OK ? PB_STORE_ERROR : r;
    }
    /* bound SQLITE_STATIC: it must live until the statement has run, below */
    /* cppcheck-suppress variableScope */
    char ids[64 * 22 + 4];
    if (q->all_brands) {
        sqlite3_bind_null(st, 1);
    } else {
        size_t used = 0;
        ids[used++] = '[';
        for (size_t i = 0; i < q->nbrands && used + 24 < sizeof ids; i++)
            used += (size_t)snprintf(ids + used, sizeof ids - used, "%s%" PRId64, i ? "," : "",
                                     q->brand_ids[i]);
        ids[used++] = ']';
        ids[used] = 0;
        sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 2, q->brand_id);
    bool has_q = q->q_id || q->q_email || q->q_name;
    if (has_q) {
        sqr_bind_text(st, 3, q->q_id ? q->q_id : "");
        if (q->q_email)
            sqr_bind_text(st, 4, q->q_email);
        else
            sqlite3_bind_text(st, 4, "\x01", -1, SQLITE_STATIC); /* matches no email */
        sqr_bind_opt_text(st, 5, q->q_name);                     /* NULL: matches no name */
    } else {
        sqlite3_bind_null(st, 3);
    }
    sqr_bind_opt_text(st, 6, q->email_prefix);
    sqr_bind_opt_text(st, 7, q->name_prefix);
    sqr_bind_opt_text(st, 8, q->country);
    sqr_bind_opt_text(st, 9, q->status);
    sqlite3_bind_int64(st, 10, q->created_from);
    sqlite3_bind_int64(st, 11, q->created_to);
    if (q->has_min)
        sqlite3_bind_int64(st, 12, q->balance_min);
    if (q->has_max)
        sqlite3_bind_int64(st, 13, q->balance_max);
    sqlite3_bind_int(st, 14, q->has_cursor);
    if (q->sort == PB_STORE_SORT_EMAIL)
        sqr_bind_text(st, 15, q->cursor_text ? q->cursor_text : "");
    else
        sqlite3_bind_int64(st, 15, q->cursor_int);
    sqlite3_bind_int64(st, 16, q->cursor_id);
    sqlite3_bind_int64(st, 17, (int64_t)(cap - *n));
    sqr_bind_opt_text(st, 20, q->currency);
    sqlite3_bind_int64(st, 22, brand);
    name_matcher matcher = {q->name_match, q->name_match_ctx}; /* lives until finalize */
    sqlite3_bind_pointer(st, 21, &matcher, MATCHER_TYPE, NULL);
    while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        pb_store_player_hit *h = &out[*n];
        memset(h, 0, sizeof *h);
        h->id = sqlite3_column_int64(st, 0);
        sqr_text(h->public_id, sizeof h->public_id, st, 1);
        if (q->sort == PB_STORE_SORT_EMAIL)
            sqr_text(h->key_text, sizeof h->key_text, st, 2);
        else
            h->key_int = sqlite3_column_int64(st, 2);
        (*n)++;
    }
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqlite3_finalize(st);
    return r;
}

/*
 * One page costs the rows the index walks to fill it: each order is read from
 * an index that holds it (key, then player id), from the cursor on (a row-value
 * bound, written only when there is a cursor, is a range of that index), so a
 * deep page is as cheap as the first. The balance order of one brand in one of
 * its currencies is player_cash_order_key's range (brand, currency); several
 * brands, or a currency the brand does not accept, compute and sort the balance
 * of every player in scope (the index holds one brand's order; a currency that is
 * not the brand's has rows only for the players with an account in it). The
 * other filters are tested on the rows walked, and the brand of a search of
 * another order too (the created_at, email and last login indexes hold every
 * brand's players).
 */
static pb_store_rc sq_player_find(pb_store_conn *base, const pb_store_player_find_query *q,
                                  pb_store_player_hit *out, size_t cap, size_t *n)
{
    /* An email prefix P is the range P <= email < P || x'ff' (BINARY order: no valid
     * UTF-8 byte is 0xff), which the email index serves; substr() would read every
     * row. Only the terms a query uses are written, so that an id-or-email `q` can
     * be served by the indexes too (an OR with a term no index serves is a scan). */
    static const char WHERE_HEAD[] =
        "(?1 IS NULL OR p.brand_id IN (SELECT value FROM json_each(?1))) "
        "AND (?2=0 OR p.brand_id=?2) "
        "AND (?8 IS NULL OR e.country=?8) AND (?9 IS NULL OR p.status=?9) "
        "AND (?10=0 OR p.created_at>=?10) AND (?11=0 OR p.created_at<?11) ";
    static const char EMAIL_PREFIX[] = "AND e.email>=?6 AND e.email<?6||x'ff' ";
    static const char NAME_PREFIX[] =
        "AND (pb_name_prefix(?21,p.public_id,'first_name',e.first_name,?7) "
        " OR pb_name_prefix(?21,p.public_id,'last_name',e.last_name,?7)) ";
    sq_conn *c = SQ(base);
    *n = 0;
    if (!q->all_brands && q->nbrands == 0)
        return PB_STORE_OK;
    char qterms[512] = "";
    if (q->q_id || q->q_email || q->q_name)
        snprintf(qterms, sizeof qterms, "AND (%s%s%s%s%s) ", q->q_id ? "p.public_id=?3" : "",
                 q->q_id && q->q_email ? " OR " : "",
                 q->q_email ? "(e.email>=?4 AND e.email<?4||x'ff')" : "",
                 (q->q_id || q->q_email) && q->q_name ? " OR " : "",
                 q->q_name ? "pb_name_prefix(?21,p.public_id,'first_name',e.first_name,?5) "
                             "OR pb_name_prefix(?21,p.public_id,'last_name',e.last_name,?5)"
                           : "");
    /* the balance order from player_cash_order_key: one brand, a currency of it */
    int64_t brand = q->sort == PB_STORE_SORT_BALANCE && q->currency ? one_brand(q) : 0;
    bool indexed = false;
    if (brand) {
        pb_store_rc r = balance_rows_cover(c, brand, q->currency, &indexed);
        if (r != PB_STORE_OK)
            return r;
    }
    const char *id = "p.id", *sk = indexed ? "o.available" : sort_expr(q->sort, &id);
    if (indexed)
        id = "o.player_id";
    const char *bal = indexed ? "o.available" : q->currency ? BALANCE_EXPR : "0";
    const char *cmp = q->asc ? ">" : "<", *dir = q->asc ? "ASC" : "DESC";
    char bounds[2][256] = {"", ""};
    if (q->has_min)
        snprintf(bounds[0], sizeof bounds[0], "AND %s>=?12 ", bal);
    if (q->has_max)
        snprintf(bounds[1], sizeof bounds[1], "AND %s<=?13 ", bal);
    /* o first, then p and e by their keys (CROSS JOIN keeps that order); the brand
     * is bound as ?22 so that the other terms stay as they are */
    char from[3072];
    if (snprintf(from, sizeof from, "FROM %s WHERE %s%s%s%s%s%s%s",
                 indexed ? "player_cash_order o CROSS JOIN player p ON p.id=o.player_id "
                           "CROSS JOIN player_pii e ON e.player_id=p.id"
                         : "player p JOIN player_pii e ON e.player_id=p.id",
                 indexed ? "o.brand_id=?22 AND o.currency=?20 AND " : "", WHERE_HEAD, qterms,
                 q->email_prefix ? EMAIL_PREFIX : "", q->name_prefix ? NAME_PREFIX : "", bounds[0],
                 bounds[1]) >= (int)sizeof from)
        return PB_STORE_ERROR;
    /* after (key, id): the rest of the key's tie, then the keys beyond, as two
     * ranges of the index read one after the other (a row value (key, id) < (?, ?)
     * is a range of the key alone: it would walk the key's whole tie) */
    for (int pass = q->has_cursor ? 0 : 1; pass < 2 && *n < cap; pass++) {
        char cursor[256] = "";
        if (q->has_cursor && pass == 0)
            snprintf(cursor, sizeof cursor, "AND %s=?15 AND %s%s?16 ", sk, id, cmp);
        else if (q->has_cursor)
            snprintf(cursor, sizeof cursor, "AND %s%s?15 ", sk, cmp);
        pb_store_rc r = find_pass(c, q, sk, id, dir, indexed ? brand : 0, from, cursor, out, cap,
                                  n);
        if (r != PB_STORE_OK)
            return r;
    }
    return PB_STORE_OK;
}

const struct pb_store_backoffice_people_ops pb_store_sqlite_backoffice_people_ops = {
    .note_insert = sq_note_insert,
    .note_list = sq_note_list,
    .session_page = sq_session_page,
    .round_page = sq_round_page,
    .player_find = sq_player_find,
};
