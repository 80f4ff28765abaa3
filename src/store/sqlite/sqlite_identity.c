/*
 * sqlite_identity.c — identity's statements on SQLite (0003_identity.sql):
 * players with their PII row, erasure and open-bet lookups, and staff with
 * their brand scope. Login state, passwords and their history, login failures
 * and TOTP are in sqlite_identity_login.c; sessions and refresh tokens in
 * sqlite_auth.c; the ops table at the end of this file names all three. One
 * function per statement (or per all-or-nothing group of statements, run under
 * a savepoint), each with a cached prepared statement. Nothing here
 * decides anything: lockout, rotation and reuse detection live in src/identity/.
 * A player's date of birth and names are opaque text here (sealed by
 * src/identity/pii.c); the one thing this file knows about them is the marker
 * the domain hands to pb_store_player_pii_unmarked, compared as a text prefix.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite/sqlite_identity_internal.h"

#define SQ(c) ((sq_conn *)(c))

#define PLAYER_COLS                                                                     \
    "p.id,p.public_id,p.brand_id,p.currency,p.password_hash,p.status,p.block_reason,"   \
    "p.failed_logins,p.locked_until,p.last_login_at,p.created_at,p.updated_at,e.email," \
    "e.country,e.date_of_birth,e.first_name,e.last_name,p.erased_at FROM player p "     \
    "JOIN player_pii e ON e.player_id=p.id"

#define STAFF_COLS                                                                       \
    "id,public_id,email,password_hash,role,all_brands,status,must_change_password,"      \
    "totp_secret,totp_enrolled,totp_last_step,failed_logins,locked_until,last_login_at," \
    "created_at,updated_at FROM staff"

/* ---- row readers */

/* Reads a player row (player joined with player_pii). */
static void read_player(sqlite3_stmt *st, pb_store_player *p)
{
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(st, 0);
    sqr_text(p->public_id, sizeof p->public_id, st, 1);
    p->brand_id = sqlite3_column_int64(st, 2);
    sqr_text(p->currency, sizeof p->currency, st, 3);
    sqr_text(p->password_hash, sizeof p->password_hash, st, 4);
    sqr_text(p->status, sizeof p->status, st, 5);
    sqr_text(p->block_reason, sizeof p->block_reason, st, 6);
    p->failed_logins = sqlite3_column_int64(st, 7);
    p->locked_until = sqlite3_column_int64(st, 8);
    p->last_login_at = sqlite3_column_int64(st, 9);
    p->created_at = sqlite3_column_int64(st, 10);
    p->updated_at = sqlite3_column_int64(st, 11);
    sqr_text(p->email, sizeof p->email, st, 12);
    sqr_text(p->country, sizeof p->country, st, 13);
    sqr_text(p->date_of_birth, sizeof p->date_of_birth, st, 14);
    sqr_text(p->first_name, sizeof p->first_name, st, 15);
    sqr_text(p->last_name, sizeof p->last_name, st, 16);
    p->erased_at = sqlite3_column_int64(st, 17);
}

/* Reads a staff row. */
static void read_staff(sqlite3_stmt *st, pb_store_staff *s)
{
    memset(s, 0, sizeof *s);
    s->id = sqlite3_column_int64(st, 0);
    sqr_text(s->public_id, sizeof s->public_id, st, 1);
    sqr_text(s->email, sizeof s->email, st, 2);
    sqr_text(s->password_hash, sizeof s->password_hash, st, 3);
    sqr_text(s->role, sizeof s->role, st, 4);
    s->all_brands = sqlite3_column_int64(st, 5) != 0;
    sqr_text(s->status, sizeof s->status, st, 6);
    s->must_change_password = sqlite3_column_int64(st, 7) != 0;
    s->totp_secret_len = sqr_blob(s->totp_secret, sizeof s->totp_secret, st, 8);
    s->totp_enrolled = sqlite3_column_int64(st, 9) != 0;
    s->totp_last_step = sqlite3_column_int64(st, 10);
    s->failed_logins = sqlite3_column_int64(st, 11);
    s->locked_until = sqlite3_column_int64(st, 12);
    s->last_login_at = sqlite3_column_int64(st, 13);
    s->created_at = sqlite3_column_int64(st, 14);
    s->updated_at = sqlite3_column_int64(st, 15);
}

/* Adapters with the generic reader signature for sqr_collect(). */
static void read_staff_any(sqlite3_stmt *st, void *s) { read_staff(st, s); }

/* ---- players */

/* Inserts the player row and its PII row under one savepoint; assigns p->id. */
static pb_store_rc sq_player_insert(pb_store_conn *base, pb_store_player *p)
{
    static const char SQL[] =
        "INSERT INTO player(public_id,brand_id,currency,password_hash,status,block_reason,"
        "failed_logins,locked_until,last_login_at,created_at,updated_at) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)";
    static const char PII[] =
        "INSERT INTO player_pii(player_id,brand_id,email,country,date_of_birth,first_name,"
        "last_name) VALUES(?1,?2,?3,?4,?5,?6,?7)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL), *pii = sq_stmt_sql(c, PII);
    if (!st || !pii)
        return PB_STORE_ERROR;
    pb_store_rc r = sqr_savepoint(c);
    if (r != PB_STORE_OK)
        return r;
    sqr_bind_text(st, 1, p->public_id);
    sqlite3_bind_int64(st, 2, p->brand_id);
    sqr_bind_text(st, 3, p->currency);
    sqr_bind_text(st, 4, p->password_hash);
    sqr_bind_text(st, 5, p->status[0] ? p->status : "active");
    sqr_bind_text(st, 6, p->block_reason);
    sqlite3_bind_int64(st, 7, p->failed_logins);
    sqlite3_bind_int64(st, 8, p->locked_until);
    sqlite3_bind_int64(st, 9, p->last_login_at);
    sqlite3_bind_int64(st, 10, p->created_at);
    sqlite3_bind_int64(st, 11, p->updated_at);
    r = sqr_exec(c, st);
    if (r == PB_STORE_OK) {
        p->id = sqlite3_last_insert_rowid(c->db);
        sqlite3_bind_int64(pii, 1, p->id);
        sqlite3_bind_int64(pii, 2, p->brand_id);
        sqr_bind_text(pii, 3, p->email);
        sqr_bind_text(pii, 4, p->country);
        sqr_bind_text(pii, 5, p->date_of_birth);
        sqr_bind_text(pii, 6, p->first_name);
        sqr_bind_text(pii, 7, p->last_name);
        r = sqr_exec(c, pii);
    }
    return sqr_release(c, r);
}

/* A player by internal id. */
static pb_store_rc sq_player_get(pb_store_conn *base, int64_t id, pb_store_player *out)
{
    static const char SQL[] = "SELECT " PLAYER_COLS " WHERE p.id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    SQR_LOOKUP(c, st, read_player, out);
}

/* A player by public id. */
static pb_store_rc sq_player_by_public_id(pb_store_conn *base, const char *public_id,
                                          pb_store_player *out)
{
    static const char SQL[] = "SELECT " PLAYER_COLS " WHERE p.public_id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, public_id);
    SQR_LOOKUP(c, st, read_player, out);
}

static void read_status(sqlite3_stmt *st, char *status)
{
    sqr_text(status, PB_STATUS_MAX + 1, st, 0);
}

/* A player's status alone: one index probe and the player row, no PII join. */
static pb_store_rc sq_player_status(pb_store_conn *base, const char *public_id,
                                    char status[PB_STATUS_MAX + 1])
{
    static const char SQL[] = "SELECT status FROM player WHERE public_id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, public_id);
    SQR_LOOKUP(c, st, read_status, status);
}

/* A player by (brand, lower-cased email): the login lookup. */
static pb_store_rc sq_player_by_email(pb_store_conn *base, int64_t brand_id, const char *email,
                                      pb_store_player *out)
{
    static const char SQL[] = "SELECT " PLAYER_COLS " WHERE e.brand_id=?1 AND e.email=?2";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, brand_id);
    sqr_bind_text(st, 2, email);
    SQR_LOOKUP(c, st, read_player, out);
}

/* The erasure's statements, in order (?1 the player's id, ?2 now, ?3 the placeholder
 * email); the first changes nothing for a player erased already. They run with
 * SQLite's secure_delete on (Debian's build has it on by default; others do not),
 * then back as it was: the space the old values leave in their pages (row and index
 * cells) is zeroed instead of left as garbage that a copy of the file would still
 * show. Older copies of those pages live on in the write-ahead log until it
 * is overwritten, and in backups until they rotate out. */
static pb_store_rc sq_player_erase_rows(sq_conn *c, int64_t id, const char *email, int64_t now);

static pb_store_rc sq_player_erase(pb_store_conn *base, int64_t id, const char *email, int64_t now)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = NULL;
    int was = -1;
    if (sqlite3_prepare_v2(c->db, "PRAGMA secure_delete", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        was = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (was < 0 || sqlite3_exec(c->db, "PRAGMA secure_delete=ON", NULL, NULL, NULL) != SQLITE_OK)
        return PB_STORE_ERROR;
    pb_store_rc r = sq_player_erase_rows(c, id, email, now);
    if (!was && sqlite3_exec(c->db, "PRAGMA secure_delete=OFF", NULL, NULL, NULL) != SQLITE_OK &&
        r == PB_STORE_OK)
        r = PB_STORE_ERROR;
    return r;
}

static pb_store_rc sq_player_erase_rows(sq_conn *c, int64_t id, const char *email, int64_t now)
{
    static const char *const SQL[] = {
        "UPDATE player SET status='closed',password_hash='!erased',block_reason='',"
        "failed_logins=0,locked_until=0,erased_at=?2,updated_at=?2 WHERE id=?1 AND erased_at=0",
        "UPDATE player_pii SET email=?3,first_name='',last_name='',date_of_birth='' "
        "WHERE player_id=?1",
        "UPDATE auth_refresh SET revoked_at=?2 WHERE revoked_at=0 AND session_id IN "
        "(SELECT id FROM auth_session WHERE subject_kind='player' AND subject_id=?1)",
        "UPDATE auth_session SET ip='',user_agent='',revoked_at=CASE WHEN revoked_at=0 THEN ?2 "
        "ELSE revoked_at END,revoke_reason=CASE WHEN revoked_at=0 THEN 'erased' ELSE "
        "revoke_reason END WHERE subject_kind='player' AND subject_id=?1",
        "DELETE FROM password_history WHERE subject_kind='player' AND subject_id=?1",
        "DELETE FROM login_failure WHERE subject_kind='player' AND subject_id=?1",
    };
    for (size_t i = 0; i < sizeof SQL / sizeof SQL[0]; i++) {
        sqlite3_stmt *st = sq_stmt_sql(c, SQL[i]);
        if (!st)
            return PB_STORE_ERROR;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        if (sqlite3_bind_parameter_count(st) >= 3)
            sqr_bind_text(st, 3, email);
        pb_store_rc r = i == 0 ? sqr_exec_changed(c, st) : sqr_exec(c, st);
        if (r != PB_STORE_OK)
            return r;
    }
    return PB_STORE_OK;
}

static void read_erased(sqlite3_stmt *st, void *out)
{
    pb_store_erased_player *p = out;
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(st, 0);
    sqr_text(p->public_id, sizeof p->public_id, st, 1);
    sqr_text(p->brand, sizeof p->brand, st, 2);
    p->erased_at = sqlite3_column_int64(st, 3);
}

/* A scan of the player table by rowid (no index on erased_at: a restore's pass). */
static pb_store_rc sq_players_erased(pb_store_conn *base, int64_t after_id,
                                     pb_store_erased_player *out, size_t cap, size_t *n)
{
    static const char SQL[] =
        "SELECT p.id,p.public_id,b.code,p.erased_at FROM player p JOIN brand b ON "
        "b.id=p.brand_id WHERE p.id>?1 AND p.erased_at>0 ORDER BY p.id LIMIT ?2";
    sq_conn *c = SQ(base);
    *n = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, (int64_t)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_erased);
}

/* Sets status and block reason. */
static pb_store_rc sq_player_set_status(pb_store_conn *base, int64_t id, const char *status,
                                        const char *reason, int64_t now)
{
    static const char SQL[] =
        "UPDATE player SET status=?2,block_reason=?3,updated_at=?4 WHERE id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqr_bind_text(st, 2, status);
    sqr_bind_text(st, 3, reason);
    sqlite3_bind_int64(st, 4, now);
    return sqr_exec_changed(c, st);
}

/* The player's ledger accounts: the prefix (brand, owner) of ledger_account's
 * unique index. */
static void read_id(sqlite3_stmt *st, void *out) { *(int64_t *)out = sqlite3_column_int64(st, 0); }

static pb_store_rc sq_player_ledger_accounts(pb_store_conn *base, const char *brand,
                                             const char *owner, int64_t after_id, int64_t *ids,
                                             size_t cap, size_t *n)
{
    static const char SQL[] = "SELECT id FROM ledger_account WHERE brand=?1 AND owner=?2 AND "
                              "id>?3 ORDER BY id LIMIT ?4";
    sq_conn *c = SQ(base);
    *n = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, brand);
    sqr_bind_text(st, 2, owner);
    sqlite3_bind_int64(st, 3, after_id);
    sqlite3_bind_int64(st, 4, (int64_t)cap);
    return sqr_collect(c, st, ids, sizeof *ids, cap, n, read_id);
}

static void read_open_bet(sqlite3_stmt *st, void *out)
{
    pb_store_open_bet *b = out;
    sqr_text(b->provider, sizeof b->provider, st, 0);
    sqr_text(b->round_id, sizeof b->round_id, st, 1);
    sqr_text(b->bet_tx_id, sizeof b->bet_tx_id, st, 2);
    b->created_at = sqlite3_column_int64(st, 3);
}

/* The first wallet_op seq whose operation was created at or after t (the newest
 * seq + 1 when none), by binary search over the primary key: operations are
 * written only inside the ledger's commands, stamped with the ledger's time,
 * which never goes backwards along its writes (engine.c pb_ledger_now), so
 * created_at does not decrease as seq grows. ~log2(n) row reads. */
static pb_store_rc wallet_op_seq_at(sq_conn *c, int64_t t, int64_t *seq)
{
    static const char LAST[] = "SELECT coalesce(max(seq),0) FROM wallet_op";
    static const char AT[] = "SELECT created_at FROM wallet_op WHERE seq>=?1 ORDER BY seq LIMIT 1";
    sqlite3_stmt *st = sq_stmt_sql(c, LAST);
    sqlite3_stmt *at = sq_stmt_sql(c, AT);
    if (!st || !at)
        return PB_STORE_ERROR;
    int rc = sqlite3_step(st);
    int64_t hi = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqr_done(st);
    if (rc != SQLITE_ROW)
        return sq_result(c, rc);
    int64_t lo = 1, end = hi + 1; /* the answer is in [lo, end] */
    while (lo < end) {
        int64_t mid = lo + (end - lo) / 2;
        sqlite3_bind_int64(at, 1, mid);
        rc = sqlite3_step(at);
        if (rc != SQLITE_ROW) {
            sqr_done(at);
            if (rc != SQLITE_DONE)
                return sq_result(c, rc);
            end = mid; /* nothing at or after mid */
            continue;
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

/* The wallet's tables, read only (0005, 0025; sqlite_wallet.c says how a bet is
 * kept): an accepted bet is its operation row (wallet_op, kind 1, result 'OK');
 * wallet_bet has a row for it only once it was rolled back (or a 'placed' row from
 * an older version); wallet_round has a row for the player's round once a win was
 * paid on it or it was closed. A round is open while it is not closed, whether it
 * had a win or not (a provider may send more wins on it), unless its newest
 * operation of the player's is older than active_since (abandoned: some providers
 * never close rounds).
 *
 * Only rounds with an operation at or after active_since can be open, so the
 * walk starts from those: the player's operations (wallet_op_player: player,
 * provider, round id, and the seq every index entry carries) whose seq is at or
 * after the first seq of the window (wallet_op_seq_at) — a test on the index
 * entry, so the rows (with their stored responses) of the player's older
 * history are never read, only those of the window — then the round's accepted
 * bets of the player (wallet_op_round_bets, a partial index of exactly those),
 * then the rollback and the close (primary keys). No index on the wallet's
 * tables was added for it (they are written by every bet); the index entries
 * of the player's history are still stepped over (there is no (player, time)
 * order on wallet_op), at a small fraction of the rows' cost. */
static pb_store_rc sq_player_open_bet(pb_store_conn *base, const char *public_id,
                                      int64_t active_since, pb_store_open_bet *out)
{
    static const char SQL[] =
        "SELECT o.provider, o.round_id, o.tx_id, o.created_at FROM wallet_op x INDEXED BY "
        "wallet_op_player JOIN wallet_op o INDEXED BY wallet_op_round_bets ON "
        "o.provider=x.provider AND o.round_id=x.round_id AND o.player=x.player AND o.kind=1 AND "
        "o.result='OK' WHERE x.player=?1 AND x.seq>=?3 AND x.created_at>=?2 AND NOT EXISTS "
        "(SELECT 1 FROM wallet_bet b WHERE b.provider=o.provider AND b.bet_tx_id=o.tx_id AND "
        "b.state<>'placed') AND NOT EXISTS (SELECT 1 FROM wallet_round r WHERE "
        "r.provider=o.provider AND r.round_id=o.round_id AND r.player=o.player AND "
        "r.closed<>0) LIMIT 1";
    sq_conn *c = SQ(base);
    int64_t from_seq = 0;
    pb_store_rc r = wallet_op_seq_at(c, active_since, &from_seq);
    if (r != PB_STORE_OK)
        return r;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, public_id);
    sqlite3_bind_int64(st, 2, active_since);
    sqlite3_bind_int64(st, 3, from_seq);
    SQR_LOOKUP(c, st, read_open_bet, out);
}

/* Reads one row of player_pii's sealable columns. */
static void read_pii(sqlite3_stmt *st, void *out)
{
    pb_store_player_pii *p = out;
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(st, 0);
    sqr_text(p->public_id, sizeof p->public_id, st, 1);
    sqr_text(p->date_of_birth, sizeof p->date_of_birth, st, 2);
    sqr_text(p->first_name, sizeof p->first_name, st, 3);
    sqr_text(p->last_name, sizeof p->last_name, st, 4);
}

/* Players after after_id with a value that does not start with marker (a scan in
 * player_pii's key order: it runs once per start-up, not per request). */
static pb_store_rc sq_player_pii_unmarked(pb_store_conn *base, int64_t after_id, const char *marker,
                                          size_t min_len, pb_store_player_pii *out, size_t cap,
                                          size_t *n)
{
    static const char SQL[] =
        "SELECT e.player_id,p.public_id,e.date_of_birth,e.first_name,e.last_name "
        "FROM player_pii e JOIN player p ON p.id=e.player_id WHERE e.player_id>?1 "
        "AND ((e.date_of_birth<>'' AND NOT (substr(e.date_of_birth,1,length(?2))=?2 "
        "  AND length(e.date_of_birth)>=?4)) "
        " OR (e.first_name<>'' AND NOT (substr(e.first_name,1,length(?2))=?2 "
        "  AND length(e.first_name)>=?4)) "
        " OR (e.last_name<>'' AND NOT (substr(e.last_name,1,length(?2))=?2 "
        "  AND length(e.last_name)>=?4))) "
        "ORDER BY e.player_id LIMIT ?3";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    *n = 0;
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_id);
    sqr_bind_text(st, 2, marker);
    sqlite3_bind_int64(st, 3, (int64_t)cap);
    sqlite3_bind_int64(st, 4, (int64_t)min_len);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_pii);
}

/* Writes a player's date of birth and names. */
static pb_store_rc sq_player_pii_set(pb_store_conn *base, const pb_store_player_pii *p)
{
    static const char SQL[] = "UPDATE player_pii SET date_of_birth=?2,first_name=?3,"
                              "last_name=?4 WHERE player_id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, p->id);
    sqr_bind_text(st, 2, p->date_of_birth);
    sqr_bind_text(st, 3, p->first_name);
    sqr_bind_text(st, 4, p->last_name);
    return sqr_exec_changed(c, st);
}

/* The newest player's date of birth and names. */
static pb_store_rc sq_player_pii_newest(pb_store_conn *base, pb_store_player_pii *out)
{
    static const char SQL[] =
        "SELECT e.player_id,p.public_id,e.date_of_birth,e.first_name,e.last_name "
        "FROM player_pii e JOIN player p ON p.id=e.player_id ORDER BY e.player_id DESC LIMIT 1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    SQR_LOOKUP(c, st, read_pii, out);
}

/* ---- staff */

/* Inserts a staff row; assigns s->id. */
static pb_store_rc sq_staff_insert(pb_store_conn *base, pb_store_staff *s)
{
    static const char SQL[] =
        "INSERT INTO staff(public_id,email,password_hash,role,all_brands,status,"
        "must_change_password,totp_secret,totp_enrolled,totp_last_step,failed_logins,"
        "locked_until,last_login_at,created_at,updated_at) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, s->public_id);
    sqr_bind_text(st, 2, s->email);
    sqr_bind_text(st, 3, s->password_hash);
    sqr_bind_text(st, 4, s->role);
    sqlite3_bind_int(st, 5, s->all_brands);
    sqr_bind_text(st, 6, s->status[0] ? s->status : "active");
    sqlite3_bind_int(st, 7, s->must_change_password);
    if (s->totp_secret_len)
        sqlite3_bind_blob(st, 8, s->totp_secret, (int)s->totp_secret_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 8);
    sqlite3_bind_int(st, 9, s->totp_enrolled);
    sqlite3_bind_int64(st, 10, s->totp_last_step);
    sqlite3_bind_int64(st, 11, s->failed_logins);
    sqlite3_bind_int64(st, 12, s->locked_until);
    sqlite3_bind_int64(st, 13, s->last_login_at);
    sqlite3_bind_int64(st, 14, s->created_at);
    sqlite3_bind_int64(st, 15, s->updated_at);
    pb_store_rc r = sqr_exec(c, st);
    if (r == PB_STORE_OK)
        s->id = sqlite3_last_insert_rowid(c->db);
    return r;
}

/* A staff member by internal id. */
static pb_store_rc sq_staff_get(pb_store_conn *base, int64_t id, pb_store_staff *out)
{
    static const char SQL[] = "SELECT " STAFF_COLS " WHERE id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    SQR_LOOKUP(c, st, read_staff, out);
}

/* A staff member by public id. */
static pb_store_rc sq_staff_by_public_id(pb_store_conn *base, const char *public_id,
                                         pb_store_staff *out)
{
    static const char SQL[] = "SELECT " STAFF_COLS " WHERE public_id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, public_id);
    SQR_LOOKUP(c, st, read_staff, out);
}

/* A staff member by lower-cased email: the login lookup. */
static pb_store_rc sq_staff_by_email(pb_store_conn *base, const char *email, pb_store_staff *out)
{
    static const char SQL[] = "SELECT " STAFF_COLS " WHERE email=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, email);
    SQR_LOOKUP(c, st, read_staff, out);
}

/* Writes role, global scope flag and status. */
static pb_store_rc sq_staff_update(pb_store_conn *base, const pb_store_staff *s)
{
    static const char SQL[] =
        "UPDATE staff SET role=?2,all_brands=?3,status=?4,updated_at=?5 WHERE id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, s->id);
    sqr_bind_text(st, 2, s->role);
    sqlite3_bind_int(st, 3, s->all_brands);
    sqr_bind_text(st, 4, s->status);
    sqlite3_bind_int64(st, 5, s->updated_at);
    return sqr_exec_changed(c, st);
}

/* The brand ids of a member's scope, ascending. */
static pb_store_rc sq_staff_brands_get(pb_store_conn *base, int64_t staff_id, int64_t *ids,
                                       size_t cap, size_t *n)
{
    static const char SQL[] =
        "SELECT brand_id FROM staff_brand WHERE staff_id=?1 ORDER BY brand_id";
    sq_conn *c = SQ(base);
    *n = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, staff_id);
    int rc = SQLITE_DONE;
    while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    pb_store_rc r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PB_STORE_OK : sq_result(c, rc);
    sqr_done(st);
    return r;
}

/* Replaces a member's scope under one savepoint. */
static pb_store_rc sq_staff_brands_set(pb_store_conn *base, int64_t staff_id, const int64_t *ids,
                                       size_t n)
{
    static const char DEL[] = "DELETE FROM staff_brand WHERE staff_id=?1";
    static const char INS[] = "INSERT OR IGNORE INTO staff_brand(staff_id,brand_id) VALUES(?1,?2)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *del = sq_stmt_sql(c, DEL), *ins = sq_stmt_sql(c, INS);
    if (!del || !ins)
        return PB_STORE_ERROR;
    pb_store_rc r = sqr_savepoint(c);
    if (r != PB_STORE_OK)
        return r;
    sqlite3_bind_int64(del, 1, staff_id);
    r = sqr_exec(c, del);
    for (size_t i = 0; r == PB_STORE_OK && i < n; i++) {
        sqlite3_bind_int64(ins, 1, staff_id);
        sqlite3_bind_int64(ins, 2, ids[i]);
        r = sqr_exec(c, ins);
    }
    return sqr_release(c, r);
}

/* A page of staff in id order. */
static pb_store_rc sq_staff_list(pb_store_conn *base, int64_t after_id, pb_store_staff *out,
                                 size_t cap, size_t *n)
{
    static const char SQL[] = "SELECT " STAFF_COLS " WHERE id>?1 ORDER BY id LIMIT ?2";
    sq_conn *c = SQ(base);
    *n = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, (int64_t)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_staff_any);
}

const struct pb_store_identity_ops pb_store_sqlite_identity_ops = {
    .player_insert = sq_player_insert,
    .player_get = sq_player_get,
    .player_by_public_id = sq_player_by_public_id,
    .player_by_email = sq_player_by_email,
    .player_status = sq_player_status,
    .player_update_login = sq_player_update_login,
    .player_set_password = sq_player_set_password,
    .player_rehash = sq_player_rehash,
    .player_erase = sq_player_erase,
    .players_erased = sq_players_erased,
    .player_set_status = sq_player_set_status,
    .player_ledger_accounts = sq_player_ledger_accounts,
    .player_open_bet = sq_player_open_bet,
    .player_pii_unmarked = sq_player_pii_unmarked,
    .player_pii_set = sq_player_pii_set,
    .player_pii_newest = sq_player_pii_newest,
    .staff_insert = sq_staff_insert,
    .staff_get = sq_staff_get,
    .staff_by_public_id = sq_staff_by_public_id,
    .staff_by_email = sq_staff_by_email,
    .staff_update = sq_staff_update,
    .staff_update_login = sq_staff_update_login,
    .staff_set_password = sq_staff_set_password,
    .staff_rehash = sq_staff_rehash,
    .password_history = sq_password_history,
    .login_failure_get = sq_login_failure_get,
    .login_failure_put = sq_login_failure_put,
    .login_failure_clear = sq_login_failure_clear,
    .login_failure_locks = sq_login_failure_locks,
    .staff_set_totp = sq_staff_set_totp,
    .staff_totp_advance = sq_staff_totp_advance,
    .staff_brands_get = sq_staff_brands_get,
    .staff_brands_set = sq_staff_brands_set,
    .staff_list = sq_staff_list,
    .session_insert = sq_session_insert,
    .session_get = sq_session_get,
    .session_by_public_id = sq_session_by_public_id,
    .session_touch = sq_session_touch,
    .session_revoke = sq_session_revoke,
    .session_revoke_subject = sq_session_revoke_subject,
    .session_list = sq_session_list,
    .refresh_insert = sq_refresh_insert,
    .refresh_by_hash = sq_refresh_by_hash,
    .refresh_mark_used = sq_refresh_mark_used,
    .refresh_revoke_family = sq_refresh_revoke_family,
    .refresh_revoke_session = sq_refresh_revoke_session,
    .auth_prune = sq_auth_prune,
};
