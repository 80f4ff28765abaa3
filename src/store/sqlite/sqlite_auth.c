/*
 * sqlite_auth.c — identity's session and refresh-token statements on SQLite
 * (auth_session, auth_refresh in 0003_identity.sql). Part of the identity ops
 * table in sqlite_identity.c. Revoking sessions also revokes their refresh
 * tokens, under one savepoint. Refresh tokens are stored as SHA-256 only.
 */
#include <string.h>

#include "store/sqlite/sqlite_identity_internal.h"

#define SQ(c) ((sq_conn *)(c))

#define SESSION_COLS SQ_SESSION_COLS " FROM auth_session"

#define REFRESH_COLS                                                                         \
    "id,token_hash,family_id,session_id,parent_id,created_at,expires_at,used_at,revoked_at " \
    "FROM auth_refresh"

/* ---- row readers */

/* Reads a session row. */
static void read_session(sqlite3_stmt *st, pb_store_session *s)
{
    memset(s, 0, sizeof *s);
    s->id = sqlite3_column_int64(st, 0);
    sqr_text(s->public_id, sizeof s->public_id, st, 1);
    sqr_text(s->subject_kind, sizeof s->subject_kind, st, 2);
    s->subject_id = sqlite3_column_int64(st, 3);
    s->brand_id = sqlite3_column_int64(st, 4);
    sqr_text(s->scope, sizeof s->scope, st, 5);
    sqr_text(s->user_agent, sizeof s->user_agent, st, 6);
    sqr_text(s->ip, sizeof s->ip, st, 7);
    s->created_at = sqlite3_column_int64(st, 8);
    s->last_seen_at = sqlite3_column_int64(st, 9);
    s->idle_s = sqlite3_column_int64(st, 10);
    s->expires_at = sqlite3_column_int64(st, 11);
    s->revoked_at = sqlite3_column_int64(st, 12);
    sqr_text(s->revoke_reason, sizeof s->revoke_reason, st, 13);
}

/* Reads a refresh-token row. */
static void read_refresh(sqlite3_stmt *st, pb_store_refresh *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    sqr_blob(r->token_hash, sizeof r->token_hash, st, 1);
    sqr_text(r->family_id, sizeof r->family_id, st, 2);
    r->session_id = sqlite3_column_int64(st, 3);
    r->parent_id = sqlite3_column_int64(st, 4);
    r->created_at = sqlite3_column_int64(st, 5);
    r->expires_at = sqlite3_column_int64(st, 6);
    r->used_at = sqlite3_column_int64(st, 7);
    r->revoked_at = sqlite3_column_int64(st, 8);
}

/* read_session with the generic reader signature (sqr_collect), shared with
 * sqlite_backoffice_people.c. */
void sq_read_session(sqlite3_stmt *st, void *s) { read_session(st, s); }

/* ---- sessions */

/* Inserts a session; assigns s->id. */
pb_store_rc sq_session_insert(pb_store_conn *base, pb_store_session *s)
{
    static const char SQL[] =
        "INSERT INTO auth_session(public_id,subject_kind,subject_id,brand_id,scope,user_agent,"
        "ip,created_at,last_seen_at,idle_s,expires_at,revoked_at,revoke_reason) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, s->public_id);
    sqr_bind_text(st, 2, s->subject_kind);
    sqlite3_bind_int64(st, 3, s->subject_id);
    sqlite3_bind_int64(st, 4, s->brand_id);
    sqr_bind_text(st, 5, s->scope[0] ? s->scope : "full");
    sqr_bind_text(st, 6, s->user_agent);
    sqr_bind_text(st, 7, s->ip);
    sqlite3_bind_int64(st, 8, s->created_at);
    sqlite3_bind_int64(st, 9, s->last_seen_at);
    sqlite3_bind_int64(st, 10, s->idle_s);
    sqlite3_bind_int64(st, 11, s->expires_at);
    sqlite3_bind_int64(st, 12, s->revoked_at);
    sqr_bind_text(st, 13, s->revoke_reason);
    pb_store_rc r = sqr_exec(c, st);
    if (r == PB_STORE_OK)
        s->id = sqlite3_last_insert_rowid(c->db);
    return r;
}

/* A session by internal id. */
pb_store_rc sq_session_get(pb_store_conn *base, int64_t id, pb_store_session *out)
{
    static const char SQL[] = "SELECT " SESSION_COLS " WHERE id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    SQR_LOOKUP(c, st, read_session, out);
}

/* A session by its public id (the `sid` claim). */
pb_store_rc sq_session_by_public_id(pb_store_conn *base, const char *public_id,
                                    pb_store_session *out)
{
    static const char SQL[] = "SELECT " SESSION_COLS " WHERE public_id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, public_id);
    SQR_LOOKUP(c, st, read_session, out);
}

/* Records activity on a session. */
pb_store_rc sq_session_touch(pb_store_conn *base, int64_t id, int64_t now, const char *user_agent,
                             const char *ip)
{
    static const char SQL[] =
        "UPDATE auth_session SET last_seen_at=?2,user_agent=?3,ip=?4 WHERE id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    sqr_bind_text(st, 3, user_agent);
    sqr_bind_text(st, 4, ip);
    return sqr_exec_changed(c, st);
}

/* Revokes one session and its refresh tokens under one savepoint. */
pb_store_rc sq_session_revoke(pb_store_conn *base, int64_t id, int64_t now, const char *reason)
{
    static const char SQL[] = "UPDATE auth_session SET revoked_at=?2,revoke_reason=?3 "
                              "WHERE id=?1 AND revoked_at=0";
    static const char EXISTS[] = "SELECT 1 FROM auth_session WHERE id=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL), *ex = sq_stmt_sql(c, EXISTS);
    if (!st || !ex)
        return PB_STORE_ERROR;
    pb_store_rc r = sqr_savepoint(c);
    if (r != PB_STORE_OK)
        return r;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    sqr_bind_text(st, 3, reason);
    r = sqr_exec(c, st);
    if (r == PB_STORE_OK && sqlite3_changes(c->db) == 0) {
        sqlite3_bind_int64(ex, 1, id);
        int rc = sqlite3_step(ex);
        r = rc == SQLITE_ROW    ? PB_STORE_OK
            : rc == SQLITE_DONE ? PB_STORE_NOT_FOUND
                                : sq_result(c, rc);
        sqr_done(ex);
    }
    if (r == PB_STORE_OK)
        r = sq_refresh_revoke_session(base, id, now);
    return sqr_release(c, r);
}

/* Revokes a subject's sessions and their refresh tokens under one savepoint. */
pb_store_rc sq_session_revoke_subject(pb_store_conn *base, const char *kind, int64_t subject_id,
                                      int64_t except_id, int64_t now, const char *reason, size_t *n)
{
    static const char TOKENS[] =
        "UPDATE auth_refresh SET revoked_at=?4 WHERE revoked_at=0 AND session_id IN "
        "(SELECT id FROM auth_session WHERE subject_kind=?1 AND subject_id=?2 AND id<>?3 "
        "AND revoked_at=0)";
    static const char SESSIONS[] =
        "UPDATE auth_session SET revoked_at=?4,revoke_reason=?5 "
        "WHERE subject_kind=?1 AND subject_id=?2 AND id<>?3 AND revoked_at=0";
    sq_conn *c = SQ(base);
    sqlite3_stmt *tok = sq_stmt_sql(c, TOKENS), *ses = sq_stmt_sql(c, SESSIONS);
    if (n)
        *n = 0;
    if (!tok || !ses)
        return PB_STORE_ERROR;
    pb_store_rc r = sqr_savepoint(c);
    if (r != PB_STORE_OK)
        return r;
    sqr_bind_text(tok, 1, kind);
    sqlite3_bind_int64(tok, 2, subject_id);
    sqlite3_bind_int64(tok, 3, except_id);
    sqlite3_bind_int64(tok, 4, now);
    r = sqr_exec(c, tok);
    if (r == PB_STORE_OK) {
        sqr_bind_text(ses, 1, kind);
        sqlite3_bind_int64(ses, 2, subject_id);
        sqlite3_bind_int64(ses, 3, except_id);
        sqlite3_bind_int64(ses, 4, now);
        sqr_bind_text(ses, 5, reason);
        r = sqr_exec(c, ses);
        if (r == PB_STORE_OK && n)
            *n = (size_t)sqlite3_changes(c->db);
    }
    return sqr_release(c, r);
}

/* A subject's live sessions, newest first. */
pb_store_rc sq_session_list(pb_store_conn *base, const char *kind, int64_t subject_id, int64_t now,
                            pb_store_session *out, size_t cap, size_t *n)
{
    static const char SQL[] =
        "SELECT " SESSION_COLS " WHERE subject_kind=?1 AND subject_id=?2 AND revoked_at=0 "
        "AND expires_at>?3 AND last_seen_at+idle_s*1000000>?3 ORDER BY id DESC LIMIT ?4";
    sq_conn *c = SQ(base);
    *n = 0;
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, kind);
    sqlite3_bind_int64(st, 2, subject_id);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, (int64_t)cap);
    return sqr_collect(c, st, out, sizeof *out, cap, n, sq_read_session);
}

/* ---- refresh tokens */

/* Inserts a refresh token (its hash); assigns r->id. */
pb_store_rc sq_refresh_insert(pb_store_conn *base, pb_store_refresh *r)
{
    static const char SQL[] =
        "INSERT INTO auth_refresh(token_hash,family_id,session_id,parent_id,created_at,"
        "expires_at,used_at,revoked_at,keep_until) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?6)";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_blob(st, 1, r->token_hash, (int)sizeof r->token_hash, SQLITE_STATIC);
    sqr_bind_text(st, 2, r->family_id);
    sqlite3_bind_int64(st, 3, r->session_id);
    sqlite3_bind_int64(st, 4, r->parent_id);
    sqlite3_bind_int64(st, 5, r->created_at);
    sqlite3_bind_int64(st, 6, r->expires_at);
    sqlite3_bind_int64(st, 7, r->used_at);
    sqlite3_bind_int64(st, 8, r->revoked_at);
    pb_store_rc rc = sqr_exec(c, st);
    if (rc == PB_STORE_OK)
        r->id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

/* A refresh token by the SHA-256 of its text. */
pb_store_rc sq_refresh_by_hash(pb_store_conn *base, const uint8_t hash[32], pb_store_refresh *out)
{
    static const char SQL[] = "SELECT " REFRESH_COLS " WHERE token_hash=?1";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    SQR_LOOKUP(c, st, read_refresh, out);
}

/* Compare-and-set: of two requests racing with one token, exactly one rotates it.
 * A rotated token is kept until its session ends (keep_until, 0027), so that its
 * replay raises the reuse alarm for as long as the family can be used. */
pb_store_rc sq_refresh_mark_used(pb_store_conn *base, int64_t id, int64_t now)
{
    static const char SQL[] =
        "UPDATE auth_refresh SET used_at=?2,keep_until=max(keep_until,coalesce("
        "(SELECT s.expires_at FROM auth_session s WHERE s.id=auth_refresh.session_id),0)) "
        "WHERE id=?1 AND used_at=0";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    pb_store_rc r = sqr_exec_changed(c, st);
    return r == PB_STORE_NOT_FOUND ? PB_STORE_CONFLICT : r;
}

/* Revokes every live token of a family. */
pb_store_rc sq_refresh_revoke_family(pb_store_conn *base, const char *family_id, int64_t now)
{
    static const char SQL[] =
        "UPDATE auth_refresh SET revoked_at=?2 WHERE family_id=?1 AND revoked_at=0";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqr_bind_text(st, 1, family_id);
    sqlite3_bind_int64(st, 2, now);
    return sqr_exec(c, st);
}

/* Revokes every live token of a session. */
pb_store_rc sq_refresh_revoke_session(pb_store_conn *base, int64_t session_id, int64_t now)
{
    static const char SQL[] =
        "UPDATE auth_refresh SET revoked_at=?2 WHERE session_id=?1 AND revoked_at=0";
    sq_conn *c = SQ(base);
    sqlite3_stmt *st = sq_stmt_sql(c, SQL);
    if (!st)
        return PB_STORE_ERROR;
    sqlite3_bind_int64(st, 1, session_id);
    sqlite3_bind_int64(st, 2, now);
    return sqr_exec(c, st);
}

/* The pruner's deletes (0023): refresh tokens past their keep_until (0027: an unused
 * one's expiry, a rotated one's session end), then ended sessions with what is left
 * of their tokens; each by its index, at most max rows. */
pb_store_rc sq_auth_prune(pb_store_conn *base, int64_t refresh_before, int64_t session_before,
                          size_t max, size_t *refresh_n, size_t *session_n)
{
    static const char *const SQL[] = {
        "DELETE FROM auth_refresh WHERE id IN (SELECT id FROM auth_refresh "
        "INDEXED BY auth_refresh_keep WHERE keep_until<?1 LIMIT ?2)",
        "DELETE FROM auth_refresh WHERE session_id IN (SELECT id FROM auth_session "
        "INDEXED BY auth_session_expires WHERE expires_at<?1 LIMIT ?2)",
        "DELETE FROM auth_session WHERE id IN (SELECT id FROM auth_session "
        "INDEXED BY auth_session_expires WHERE expires_at<?1 LIMIT ?2)",
        /* per-address login failures (0037) not written to for the login history
         * kept, their lock long over (a stranger's addresses, if the member never
         * logged in since): counted in neither total */
        "DELETE FROM login_failure WHERE (subject_kind,subject_id,addr) IN (SELECT "
        "subject_kind,subject_id,addr FROM login_failure INDEXED BY login_failure_updated "
        "WHERE updated_at<?1 AND locked_until<?1 LIMIT ?2)",
    };
    sq_conn *c = SQ(base);
    *refresh_n = *session_n = 0;
    for (size_t i = 0; i < sizeof SQL / sizeof SQL[0]; i++) {
        sqlite3_stmt *st = sq_stmt_sql(c, SQL[i]);
        if (!st)
            return PB_STORE_ERROR;
        sqlite3_bind_int64(st, 1, i == 0 ? refresh_before : session_before);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        int64_t n = 0;
        pb_store_rc r = sqr_exec_count(c, st, &n);
        if (r != PB_STORE_OK)
            return r;
        if (i < 2)
            *refresh_n += (size_t)n;
        else if (i == 2)
            *session_n = (size_t)n;
    }
    return PB_STORE_OK;
}
