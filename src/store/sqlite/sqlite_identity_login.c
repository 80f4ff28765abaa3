/*
 * sqlite_identity_login.c — identity's credential statements on SQLite: what a
 * login reads and writes besides the player or staff row itself. The login
 * state on those rows (failures, lock, last login), password changes and
 * rehashes with the history of replaced hashes (password_history, 0036), the
 * failures per client address (login_failure, 0037) and a staff member's TOTP
 * seed and last step. Part of the identity ops table in sqlite_identity.c (the
 * rows themselves, players' PII and staff brand scope are there; sessions and
 * refresh tokens in sqlite_auth.c). Nothing here decides anything: lockout and
 * history checks live in src/identity/.
 */
#include "store/sqlite/sqlite_identity_internal.h"

#define SQ(c) ((sq_conn *)(c))

/* ---- login state on the player and staff rows */

/* Writes the login state (failures, lock, last login) of one row; sql binds ?1 id,
 * ?2 failures, ?3 locked until, ?4 last login, ?5 updated at (table: player or staff). */
static pb_store_rc sq_update_login(pb_store_conn *base, const char *sql, int64_t id,
                                   int64_t failed_logins, int64_t locked_until,
                                   int64_t last_login_at, int64_t updated_at)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, sql);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, failed_logins);
    sqlite3_bind_int64(st, 3, locked_until);
    sqlite3_bind_int64(st, 4, last_login_at);
    sqlite3_bind_int64(st, 5, updated_at);
    return sqr_exec_changed(c, st);
}

pb_store_rc sq_player_update_login(pb_store_conn *base, const pb_store_player *p)
{
    static const char SQL[] = "UPDATE player SET failed_logins=?2,locked_until=?3,"
                              "last_login_at=?4,updated_at=?5 WHERE id=?1";
    return sq_update_login(base, SQL, p->id, p->failed_logins, p->locked_until, p->last_login_at,
                           p->updated_at);
}

pb_store_rc sq_staff_update_login(pb_store_conn *base, const pb_store_staff *s)
{
    static const char SQL[] = "UPDATE staff SET failed_logins=?2,locked_until=?3,"
                              "last_login_at=?4,updated_at=?5 WHERE id=?1";
    return sq_update_login(base, SQL, s->id, s->failed_logins, s->locked_until, s->last_login_at,
                           s->updated_at);
}

/* ---- passwords and their history (0036) */

/* Replaces the password hash while it is still old_hash (table: player or staff). */
static pb_store_rc sq_rehash(pb_store_conn *base, const char *sql, int64_t id, const char *old_hash,
                             const char *new_hash, int64_t now)
{
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, sql);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqr_bind_text(st, 2, old_hash);
    sqr_bind_text(st, 3, new_hash);
    sqlite3_bind_int64(st, 4, now);
    return sqr_exec_changed(c, st);
}

pb_store_rc sq_player_rehash(pb_store_conn *base, int64_t id, const char *old_hash,
                             const char *new_hash, int64_t now)
{
    static const char SQL[] =
        "UPDATE player SET password_hash=?3,updated_at=?4 WHERE id=?1 AND password_hash=?2";
    return sq_rehash(base, SQL, id, old_hash, new_hash, now);
}

pb_store_rc sq_staff_rehash(pb_store_conn *base, int64_t id, const char *old_hash,
                            const char *new_hash, int64_t now)
{
    static const char SQL[] =
        "UPDATE staff SET password_hash=?3,updated_at=?4 WHERE id=?1 AND password_hash=?2";
    return sq_rehash(base, SQL, id, old_hash, new_hash, now);
}

/* Keeps the hash a password change replaces (0036) and prunes the subject's
 * history to the newest PB_PASSWORD_HISTORY - 1 rows (the current hash is the
 * last of the PB_PASSWORD_HISTORY). keep_sql selects (?1 id, ?2 now) the row to
 * keep, or none. */
static pb_store_rc sq_history_push(sq_conn *c, const char *keep_sql, const char *kind, int64_t id,
                                   int64_t now)
{
    static const char PRUNE[] =
        "DELETE FROM password_history WHERE subject_kind=?1 AND subject_id=?2 AND id NOT IN "
        "(SELECT id FROM password_history WHERE subject_kind=?1 AND subject_id=?2 "
        "ORDER BY id DESC LIMIT ?3)";
    sqlite3_stmt *st = sq_stmt_sql(c, keep_sql);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    pb_store_rc r = sqr_exec(c, st);
    if (r != PB_STORE_OK)
        return r;
    if (!(st = sq_stmt_sql(c, PRUNE)))
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, kind);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int64(st, 3, PB_PASSWORD_HISTORY - 1);
    return sqr_exec(c, st);
}

/* Replaces the password hash under one savepoint; the old one goes to the history
 * first (keep_sql, see sq_history_push). sql binds ?1 id, ?2 hash, ?3 the
 * must-change flag (player: not in the statement, left unused), ?4 now. */
static pb_store_rc sq_set_password(pb_store_conn *base, const char *keep_sql, const char *kind,
                                   const char *sql, int64_t id, const char *hash, bool must_change,
                                   int64_t now)
{
    sq_conn *c = SQ(base);
    pb_store_rc r = sqr_savepoint(c);
    if (r != PB_STORE_OK)
        return r;
    r = sq_history_push(c, keep_sql, kind, id, now);
    sqlite3_stmt *st = r == PB_STORE_OK ? sq_stmt_sql(c, sql) : NULL;
    if (r == PB_STORE_OK && !st)
        r = PB_STORE_ERROR;
    if (r == PB_STORE_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqr_bind_text(st, 2, hash);
        sqlite3_bind_int(st, 3, must_change);
        sqlite3_bind_int64(st, 4, now);
        r = sqr_exec_changed(c, st);
    }
    return sqr_release(c, r);
}

/* Replaces the password hash; the old one goes to the history (0036). */
pb_store_rc sq_player_set_password(pb_store_conn *base, int64_t id, const char *hash, int64_t now)
{
    static const char KEEP[] =
        "INSERT INTO password_history (subject_kind,subject_id,password_hash,replaced_at) "
        "SELECT 'player',id,password_hash,?2 FROM player WHERE id=?1 AND password_hash LIKE '$%'";
    static const char SQL[] = "UPDATE player SET password_hash=?2,updated_at=?4 WHERE id=?1";
    return sq_set_password(base, KEEP, "player", SQL, id, hash, false, now);
}

/* Replaces the password hash and the must-change flag. */
pb_store_rc sq_staff_set_password(pb_store_conn *base, int64_t id, const char *hash,
                                  bool must_change, int64_t now)
{
    /* a one-time password (must_change_password) was never chosen: not kept */
    static const char KEEP[] =
        "INSERT INTO password_history (subject_kind,subject_id,password_hash,replaced_at) "
        "SELECT 'staff',id,password_hash,?2 FROM staff WHERE id=?1 AND password_hash LIKE '$%' "
        "AND must_change_password=0";
    static const char SQL[] = "UPDATE staff SET password_hash=?2,must_change_password=?3,"
                              "updated_at=?4 WHERE id=?1";
    return sq_set_password(base, KEEP, "staff", SQL, id, hash, must_change, now);
}

/* Login failures per (subject, client address) (0037). */
pb_store_rc sq_login_failure_get(pb_store_conn *base, const char *kind, int64_t subject_id,
                                 const char *addr, int64_t *failed, int64_t *locked_until)
{
    static const char SQL[] = "SELECT failed,locked_until FROM login_failure WHERE "
                              "subject_kind=?1 AND subject_id=?2 AND addr=?3";
    sq_conn *c = SQ(base);
    *failed = *locked_until = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, kind);
    sqlite3_bind_int64(st, 2, subject_id);
    sqr_bind_text(st, 3, addr);
    int rc = sqlite3_step(st);
    pb_store_rc r = PB_STORE_OK;
    if (rc == SQLITE_ROW) {
        *failed = sqlite3_column_int64(st, 0);
        *locked_until = sqlite3_column_int64(st, 1);
    } else if (rc != SQLITE_DONE) {
        r = sq_result(c, rc);
    }
    sqr_done(st);
    return r;
}

pb_store_rc sq_login_failure_put(pb_store_conn *base, const char *kind, int64_t subject_id,
                                 const char *addr, int64_t failed, int64_t locked_until,
                                 int64_t now)
{
    static const char SQL[] =
        "INSERT INTO login_failure (subject_kind,subject_id,addr,failed,locked_until,updated_at) "
        "VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT (subject_kind,subject_id,addr) DO UPDATE SET "
        "failed=excluded.failed,locked_until=excluded.locked_until,updated_at=excluded.updated_at";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, kind);
    sqlite3_bind_int64(st, 2, subject_id);
    sqr_bind_text(st, 3, addr);
    sqlite3_bind_int64(st, 4, failed);
    sqlite3_bind_int64(st, 5, locked_until);
    sqlite3_bind_int64(st, 6, now);
    return sqr_exec(c, st);
}

pb_store_rc sq_login_failure_clear(pb_store_conn *base, const char *kind, int64_t subject_id)
{
    static const char SQL[] = "DELETE FROM login_failure WHERE subject_kind=?1 AND subject_id=?2";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, kind);
    sqlite3_bind_int64(st, 2, subject_id);
    return sqr_exec(c, st);
}

static void read_login_lock(sqlite3_stmt *st, void *out)
{
    pb_store_login_lock *l = out;
    sqr_text(l->addr, sizeof l->addr, st, 0);
    l->locked_until = sqlite3_column_int64(st, 1);
}

pb_store_rc sq_login_failure_locks(pb_store_conn *base, const char *kind, int64_t subject_id,
                                   int64_t now, pb_store_login_lock *out, size_t cap, size_t *n)
{
    static const char SQL[] =
        "SELECT addr,locked_until FROM login_failure WHERE subject_kind=?1 AND subject_id=?2 "
        "AND locked_until>?3 ORDER BY locked_until DESC, addr LIMIT ?4";
    sq_conn *c = SQ(base);
    *n = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, kind);
    sqlite3_bind_int64(st, 2, subject_id);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, (int64_t)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, read_login_lock);
}

/* The subject's kept hashes, newest first (0036). */
static void read_hash(sqlite3_stmt *st, void *out)
{
    sqr_text(out, PB_PASSWORD_HASH_MAX + 1, st, 0);
}

pb_store_rc sq_password_history(pb_store_conn *base, const char *kind, int64_t subject_id,
                                char (*hashes)[PB_PASSWORD_HASH_MAX + 1], size_t cap, size_t *n)
{
    static const char SQL[] = "SELECT password_hash FROM password_history WHERE subject_kind=?1 "
                              "AND subject_id=?2 ORDER BY id DESC LIMIT ?3";
    sq_conn *c = SQ(base);
    *n = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, kind);
    sqlite3_bind_int64(st, 2, subject_id);
    sqlite3_bind_int64(st, 3, (int64_t)cap);
    return sqr_collect(c, st, hashes, sizeof *hashes, cap, n, read_hash);
}

/* ---- staff second factor */

/* Writes the sealed seed, the enrolled flag and the last step. */
pb_store_rc sq_staff_set_totp(pb_store_conn *base, int64_t id, const uint8_t *sealed, size_t len,
                              bool enrolled, int64_t last_step, int64_t now)
{
    static const char SQL[] = "UPDATE staff SET totp_secret=?2,totp_enrolled=?3,"
                              "totp_last_step=?4,updated_at=?5 WHERE id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    if (len)
        sqlite3_bind_blob(st, 2, sealed, (int)len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int(st, 3, enrolled);
    sqlite3_bind_int64(st, 4, last_step);
    sqlite3_bind_int64(st, 5, now);
    return sqr_exec_changed(c, st);
}

/* Compare-and-set: two requests racing with the same code cannot both win. */
pb_store_rc sq_staff_totp_advance(pb_store_conn *base, int64_t id, int64_t step, int64_t now)
{
    static const char SQL[] = "UPDATE staff SET totp_last_step=?2,updated_at=?3 "
                              "WHERE id=?1 AND totp_last_step<?2";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, step);
    sqlite3_bind_int64(st, 3, now);
    pb_store_rc r = sqr_exec_changed(c, st);
    return r == PB_STORE_NOT_FOUND ? PB_STORE_CONFLICT : r;
}
