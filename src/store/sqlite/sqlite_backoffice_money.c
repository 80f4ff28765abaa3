/*
 * sqlite_backoffice_money.c — the back office's money reads on SQLite
 * (store_backoffice.h): the dashboard's cashier sums and game money scan, the
 * transactions explorer's walks over ledger_transfer, the in-house games'
 * actual RTP.
 *
 * Index use (0012_backoffice_money.sql and earlier):
 *   cashier sums     payment_completed, withdrawal_paid, withdrawal_open
 *   play scan        wallet_op_brand_time (brand, created_at)
 *   tx walk          the primary key of ledger_transfer, newest first, with
 *                    both accounts by primary key; a time window becomes a
 *                    seq range first (seq_at: a binary search by primary key)
 *   account walk     one primary-key read per transfer along the accounts' chains
 *   a game's name    the player's round (wallet_round's primary key: provider,
 *                    round id, player), else an operation of that player's on
 *                    the round (wallet_op_player); an open round of bets only
 *                    has no round row
 *   RTP              game_round_report (brand_id, settled_at) WHERE settled
 * Nothing here scans a table without a bound the caller chose; the tx walk
 * also stops after the number of transfers the caller allows (max_read).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_rows.h"

#define SQ(c) ((sq_conn *)(c))

static pb_store_rc step_sums(sq_conn *c, sqlite3_stmt *st, pb_store_bo_sum *out, size_t cap,
                             size_t *n, bool bucketed)
{
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap)
            continue;
        pb_store_bo_sum *s = &out[(*n)++];
        memset(s, 0, sizeof *s);
        sqr_text(s->currency, sizeof s->currency, st, 0);
        int k = bucketed ? 1 : 0;
        s->bucket = bucketed ? sqlite3_column_int64(st, 1) : 0;
        s->count = sqlite3_column_int64(st, 1 + k);
        s->amount = sqlite3_column_int64(st, 2 + k);
    }
    pb_store_rc r = rc == SQLITE_DONE ? PB_STORE_OK : sq_result(c, rc); /* sum() overflow: ERROR */
    sqr_done(st);
    return r;
}

static pb_store_rc sq_cashier_sums(pb_store_conn *base, pb_store_bo_cashier_figure fig,
                                   const char *brand, int64_t since, pb_store_bo_sum *out,
                                   size_t cap, size_t *n)
{
    static const char DEPOSITS[] =
        "SELECT currency, count(*), sum(amount) FROM payment INDEXED BY payment_completed "
        "WHERE brand=?1 AND status='completed' AND updated_at>=?2 GROUP BY currency";
    static const char PAID[] =
        "SELECT currency, count(*), sum(amount) FROM withdrawal INDEXED BY withdrawal_paid "
        "WHERE brand=?1 AND status='paid' AND updated_at>=?2 GROUP BY currency";
    static const char OPEN[] =
        "SELECT currency, count(*), sum(amount) FROM withdrawal INDEXED BY withdrawal_open "
        "WHERE brand=?1 AND status IN ('pending_approval','approved','processing') "
        "GROUP BY currency";
    sq_conn *c = SQ(base);
    const char *sql = fig == PB_BO_DEPOSITS_COMPLETED ? DEPOSITS
                      : fig == PB_BO_WITHDRAWALS_PAID ? PAID
                                                      : OPEN;
    sqlite3_stmt *st = sq_stmt_sql(c, sql);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, brand);
    if (fig != PB_BO_WITHDRAWALS_OPEN)
        sqlite3_bind_int64(st, 2, since);
    return step_sums(c, st, out, cap, n, false);
}

static pb_store_rc sq_cashier_buckets(pb_store_conn *base, pb_store_bo_cashier_figure fig,
                                      const char *brand, int64_t since, int64_t width_us,
                                      pb_store_bo_sum *out, size_t cap, size_t *n)
{
    static const char DEPOSITS[] =
        "SELECT currency, (updated_at-?2)/?3 AS b, count(*), sum(amount) FROM payment "
        "INDEXED BY payment_completed WHERE brand=?1 AND status='completed' AND updated_at>=?2 "
        "GROUP BY currency, b";
    static const char PAID[] =
        "SELECT currency, (updated_at-?2)/?3 AS b, count(*), sum(amount) FROM withdrawal "
        "INDEXED BY withdrawal_paid WHERE brand=?1 AND status='paid' AND updated_at>=?2 "
        "GROUP BY currency, b";
    sq_conn *c = SQ(base);
    *n = 0;
    if (fig == PB_BO_WITHDRAWALS_OPEN || width_us <= 0)
        return PB_STORE_ERROR;
    sqlite3_stmt *st = sq_stmt_sql(c, fig == PB_BO_DEPOSITS_COMPLETED ? DEPOSITS : PAID);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, brand);
    sqlite3_bind_int64(st, 2, since);
    sqlite3_bind_int64(st, 3, width_us);
    return step_sums(c, st, out, cap, n, true);
}

static pb_store_rc sq_play_scan(pb_store_conn *base, const char *brand, int64_t since,
                                pb_store_bo_play_cb cb, void *ctx)
{
    /* a rollback's own amount is 0: the stake it gave back is its cash + bonus parts;
     * a rollback of a bet never seen (bet_unknown) moved nothing; a win of 0 is a
     * losing round's close */
    static const char SQL[] =
        "SELECT kind, player, currency, CASE kind WHEN 3 THEN cash_part+bonus_part "
        "ELSE amount END, created_at FROM wallet_op INDEXED BY wallet_op_brand_time "
        "WHERE brand=?1 AND created_at>=?2 AND result='OK' AND ((kind=1) OR "
        "(kind=2 AND amount>0) OR (kind=3 AND bet_unknown=0 AND cash_part+bonus_part>0)) "
        "ORDER BY created_at";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, brand);
    sqlite3_bind_int64(st, 2, since);
    int rc;
    pb_store_bo_play op;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&op, 0, sizeof op);
        op.kind = sqlite3_column_int(st, 0);
        sqr_text(op.player, sizeof op.player, st, 1);
        sqr_text(op.currency, sizeof op.currency, st, 2);
        op.amount = sqlite3_column_int64(st, 3);
        op.created_at = sqlite3_column_int64(st, 4);
        if (cb(ctx, &op) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    pb_store_rc r = rc == SQLITE_DONE ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    return r;
}

#define STR_(x) #x
#define STR(x) STR_(x)
#define REF_MAX_SQL STR(PB_LEDGER_REFERENCE_MAX)

/* The columns of a transfer joined with both accounts and, for game transfers,
 * the round (for its game): the row of the transfer's player's round (rounds
 * are per player: another player's round of the same id must neither match
 * nor repeat the transfer), else an operation of that player's on that round
 * (wallet_op_player). The player is the player-owned side's owner
 * "player:<id>". A transfer's reference holds the round id, cut at
 * PB_LEDGER_REFERENCE_MAX characters: a reference that long matches the rounds
 * it begins. */
#define TX_SELECT                                                                                \
    "SELECT t.seq, t.id, t.created_at, t.code, t.flags, t.amount, t.currency, t.reference, "     \
    "d.id, d.brand, d.owner, d.kind, k.id, k.brand, k.owner, k.kind, "                           \
    "CASE WHEN substr(t.scope,1,5)='game:' THEN substr(t.scope,6) ELSE '' END, "                 \
    "coalesce(nullif(r.game,''),(SELECT nullif(o.game,'') FROM wallet_op o "                     \
    "WHERE substr(t.scope,1,5)='game:' AND o.player=substr(CASE WHEN d.owner LIKE 'player:%' "   \
    "THEN d.owner ELSE k.owner END,8) AND o.provider=substr(t.scope,6) "                         \
    "AND o.round_id>=t.reference AND o.round_id<t.reference||x'ff' AND (o.round_id=t.reference " \
    "OR length(t.reference)=" REF_MAX_SQL ") AND o.game<>'' LIMIT 1),'') "                       \
    "FROM ledger_transfer t JOIN ledger_account d ON d.id=t.debit_account_id "                   \
    "JOIN ledger_account k ON k.id=t.credit_account_id "                                         \
    "LEFT JOIN wallet_round r ON substr(t.scope,1,5)='game:' AND r.provider=substr(t.scope,6) "  \
    "AND r.round_id=t.reference AND r.player=substr(CASE WHEN d.owner LIKE 'player:%' "          \
    "THEN d.owner ELSE k.owner END,8) "

static bool is_player_kind(const unsigned char *k)
{
    return k && (strcmp((const char *)k, "player_cash") == 0 ||
                 strcmp((const char *)k, "player_bonus") == 0);
}

/* The sides of the current row into sides[0..2) whose account is of kind
 * `kind` (NULL: a player's, cash or bonus); returns how many. */
static size_t read_kind_sides(sqlite3_stmt *st, pb_store_bo_tx sides[2], const char *kind)
{
    size_t n = 0;
    /* the credit side first: the newest-first order is (seq, credit before debit) */
    for (int credit = 1; credit >= 0; credit--) {
        int me = credit ? 12 : 8, other = credit ? 8 : 12;
        const unsigned char *k = sqlite3_column_text(st, me + 3);
        if (kind ? !k || strcmp((const char *)k, kind) != 0 : !is_player_kind(k))
            continue;
        pb_store_bo_tx *x = &sides[n++];
        memset(x, 0, sizeof *x);
        x->seq = sqlite3_column_int64(st, 0);
        (void)sqr_blob(x->id.b, sizeof x->id.b, st, 1);
        x->created_at = sqlite3_column_int64(st, 2);
        x->code = (uint32_t)sqlite3_column_int64(st, 3);
        x->flags = (uint32_t)sqlite3_column_int64(st, 4);
        x->amount = sqlite3_column_int64(st, 5);
        sqr_text(x->currency, sizeof x->currency, st, 6);
        sqr_text(x->reference, sizeof x->reference, st, 7);
        x->credit = credit;
        sqr_text(x->brand, sizeof x->brand, st, me + 1);
        sqr_text(x->owner, sizeof x->owner, st, me + 2);
        sqr_text(x->kind, sizeof x->kind, st, me + 3);
        sqr_text(x->other_owner, sizeof x->other_owner, st, other + 2);
        sqr_text(x->other_kind, sizeof x->other_kind, st, other + 3);
        sqr_text(x->provider, sizeof x->provider, st, 16);
        sqr_text(x->game, sizeof x->game, st, 17);
    }
    return n;
}

static size_t read_sides(sqlite3_stmt *st, pb_store_bo_tx sides[2])
{
    return read_kind_sides(st, sides, NULL);
}

static pb_store_rc sq_tx_walk(pb_store_conn *base, const pb_store_bo_walk *w, pb_store_bo_tx_cb cb,
                              void *ctx)
{
    /* the currency is compared here, not in the WHERE clause: every transfer read
     * counts against max_read, also the ones of other currencies */
    static const char SQL[] = TX_SELECT "WHERE t.seq<?1 AND t.seq>=?2 ORDER BY t.seq DESC";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, w->below_seq > 0 ? w->below_seq : INT64_MAX);
    sqlite3_bind_int64(st, 2, w->from_seq);
    int rc;
    pb_store_bo_tx sides[2];
    int64_t read = 0;
    if (w->stopped_at)
        *w->stopped_at = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *cur = sqlite3_column_text(st, 6);
        size_t n = w->currency && (!cur || strcmp((const char *)cur, w->currency) != 0)
                       ? 0
                       : read_sides(st, sides);
        if (n && cb(ctx, sides, n) != 0) {
            rc = SQLITE_DONE;
            break;
        }
        if (w->max_read > 0 && ++read >= w->max_read) { /* the budget: stop after this one */
            if (w->stopped_at)
                *w->stopped_at = sqlite3_column_int64(st, 0);
            rc = SQLITE_DONE;
            break;
        }
    }
    pb_store_rc r = rc == SQLITE_DONE ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    return r;
}

/* The account-chain walk of tx_walk_accounts and tx_walk_kind: the sides of
 * account kind `kind` (NULL: the player's). */
static pb_store_rc walk_chains(pb_store_conn *base, const char *kind, const int64_t *ids,
                               int64_t *starts, size_t n, int64_t below_seq, int64_t from_seq,
                               pb_store_bo_tx_cb cb, void *ctx)
{
    static const char SQL[] = TX_SELECT "WHERE t.seq=?1";
    static const char LINKS[] =
        "SELECT debit_account_id, credit_account_id, debit_prev_seq, credit_prev_seq "
        "FROM ledger_transfer WHERE seq=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    sqlite3_stmt *ln = sq_stmt_sql(c, LINKS);
    int64_t *at = calloc(n ? n : 1, sizeof *at);
    if (!st || !ln || !at) {
        free(at);
        return PB_STORE_ERROR;
    }
    memcpy(at, starts, n * sizeof *at);
    pb_store_rc r = PB_STORE_OK;
    pb_store_bo_tx sides[2];
    for (;;) {
        int64_t top = 0;
        for (size_t i = 0; i < n; i++)
            if (at[i] > top)
                top = at[i];
        if (top <= 0 || top < from_seq)
            break;
        /* every walker at `top` steps back along its own account's chain */
        sqlite3_bind_int64(ln, 1, top);
        int rc = sqlite3_step(ln);
        if (rc != SQLITE_ROW) {
            r = rc == SQLITE_DONE ? PB_STORE_ERROR : sq_result(c, rc); /* a broken chain */
            sqr_done(ln);
            break;
        }
        int64_t da = sqlite3_column_int64(ln, 0), ca = sqlite3_column_int64(ln, 1);
        int64_t dp = sqlite3_column_int64(ln, 2), cp = sqlite3_column_int64(ln, 3);
        sqr_done(ln);
        if (below_seq <= 0 || top < below_seq) {
            sqlite3_bind_int64(st, 1, top);
            rc = sqlite3_step(st);
            size_t k = rc == SQLITE_ROW ? read_kind_sides(st, sides, kind) : 0;
            sqr_done(st);
            if (rc != SQLITE_ROW) {
                r = sq_result(c, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc);
                break;
            }
            if (k && cb(ctx, sides, k) != 0)
                break; /* the walkers stay at this transfer: where a next walk resumes */
        }
        for (size_t i = 0; i < n; i++)
            if (at[i] == top)
                at[i] = ids[i] == da ? dp : ids[i] == ca ? cp : 0;
    }
    if (r == PB_STORE_OK)
        memcpy(starts, at, n * sizeof *at);
    free(at);
    return r;
}

static pb_store_rc sq_tx_walk_accounts(pb_store_conn *base, const int64_t *ids, int64_t *starts,
                                       size_t n, int64_t below_seq, int64_t from_seq,
                                       pb_store_bo_tx_cb cb, void *ctx)
{
    return walk_chains(base, NULL, ids, starts, n, below_seq, from_seq, cb, ctx);
}

static pb_store_rc sq_tx_walk_kind(pb_store_conn *base, const char *kind, const int64_t *ids,
                                   int64_t *starts, size_t n, int64_t below_seq,
                                   pb_store_bo_tx_cb cb, void *ctx)
{
    return walk_chains(base, kind, ids, starts, n, below_seq, 0, cb, ctx);
}

/* The operation whose first transfer is transfer_id, on the provider's round:
 * the round's bettors (wallet_op_round_bets), then each one's operations on the
 * round (wallet_op_player) — two index searches, no scan. */
static pb_store_rc sq_game_op_of_transfer(pb_store_conn *base, const char *provider,
                                          const char *round_id, const pb_id *transfer_id,
                                          char *player, size_t player_cap, char *tx_id,
                                          size_t tx_cap)
{
    static const char SQL[] =
        "SELECT o.player, o.tx_id FROM wallet_op o INDEXED BY wallet_op_player WHERE o.player IN "
        "(SELECT b.player FROM wallet_op b INDEXED BY wallet_op_round_bets WHERE b.provider=?1 "
        "AND b.round_id=?2 AND b.kind=1 AND b.result='OK') AND o.provider=?1 AND o.round_id=?2 "
        "AND o.transfer_id=?3 LIMIT 1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, provider);
    sqr_bind_text(st, 2, round_id);
    sqlite3_bind_blob(st, 3, transfer_id->b, (int)sizeof transfer_id->b, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        sqr_text(player, player_cap, st, 0);
        sqr_text(tx_id, tx_cap, st, 1);
        r = PB_STORE_OK;
    } else if (rc != SQLITE_DONE)
        r = sq_result(c, rc);
    sqr_done(st);
    return r;
}

static pb_store_rc sq_seq_at(pb_store_conn *base, int64_t t, int64_t *seq)
{
    static const char LAST[] = "SELECT coalesce(max(seq),0) FROM ledger_transfer";
    static const char AT[] = "SELECT created_at FROM ledger_transfer WHERE seq>=?1 "
                             "ORDER BY seq LIMIT 1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, LAST);
    sqlite3_stmt *at = sq_stmt_sql(c, AT);
    if (!st || !at)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    int64_t hi = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqr_done(st);
    if (rc != SQLITE_ROW)
        return sq_result(c, rc);
    /* the first seq in [1, hi + 1) whose created_at >= t; seqs are contiguous */
    int64_t lo = 1, end = hi + 1;
    while (lo < end) {
        int64_t mid = lo + (end - lo) / 2;
        sqlite3_bind_int64(at, 1, mid);
        rc = sqlite3_step(at);
        if (rc != SQLITE_ROW) {
            sqr_done(at);
            if (rc == SQLITE_DONE) {
                end = mid;
                continue;
            }
            return sq_result(c, rc);
        }
        int64_t ct = sqlite3_column_int64(at, 0);
        sqr_done(at);
        if (ct >= t)
            end = mid;
        else
            lo = mid + 1;
    }
    *seq = lo;
    return PB_STORE_OK;
}

static pb_store_rc sq_rtp_actual(pb_store_conn *base, int64_t brand_id, pb_store_bo_rtp *out,
                                 size_t cap, size_t *n)
{
    static const char SQL[] =
        "SELECT game, currency, count(*), sum(amount), sum(coalesce(payout,0)) FROM game_round "
        "INDEXED BY game_round_report WHERE brand_id=?1 AND state='settled' "
        "GROUP BY game, currency ORDER BY game, currency";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, brand_id);
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap)
            continue;
        pb_store_bo_rtp *x = &out[(*n)++];
        memset(x, 0, sizeof *x);
        sqr_text(x->game, sizeof x->game, st, 0);
        sqr_text(x->currency, sizeof x->currency, st, 1);
        x->rounds = sqlite3_column_int64(st, 2);
        x->wagered = sqlite3_column_int64(st, 3);
        x->paid = sqlite3_column_int64(st, 4);
    }
    pb_store_rc r = rc == SQLITE_DONE ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    return r;
}

const struct pb_store_backoffice_money_ops pb_store_sqlite_backoffice_money_ops = {
    .cashier_sums = sq_cashier_sums,
    .cashier_buckets = sq_cashier_buckets,
    .play_scan = sq_play_scan,
    .tx_walk = sq_tx_walk,
    .tx_walk_accounts = sq_tx_walk_accounts,
    .tx_walk_kind = sq_tx_walk_kind,
    .game_op_of_transfer = sq_game_op_of_transfer,
    .seq_at = sq_seq_at,
    .rtp_actual = sq_rtp_actual,
};
