/*
 * prune.c — the login tables kept bounded.
 *
 * Every login adds an auth_session row and every refresh (each access token's life,
 * minutes) an auth_refresh row, so without pruning the two tables grow for as long as
 * the casino runs: thousands of players refreshing every few minutes write millions
 * of rows a day. The pruner deletes:
 *   - refresh tokens whose keeping ended more than PB_IDENTITY_REFRESH_GRACE_US ago.
 *     A token never rotated is kept until its own expiry (after it, it is refused as
 *     expired, and proves nothing). A rotated one is kept until its SESSION ends
 *     (keep_until, migration 0027): presenting it again is how a replayed stolen
 *     token is caught (refresh.c revokes the family and raises the alarm), and that
 *     matters for as long as the family can still be refreshed, which is until the
 *     session's end, not the token's own. After that the family is dead and a replay
 *     harms nothing. The cost is one small row per rotation for a session's life
 *     (a 30-day player session refreshing every 15 minutes: under 3,000 rows), gone
 *     a day after the session ends;
 *   - per-address login failure rows (0037) untouched for the login history kept;
 *   - sessions whose end (expiry) is older than the login history kept, with what is
 *     left of their refresh tokens. The back office's session history reaches that
 *     far back; the audit log, not these tables, is the lasting record.
 * It works in chunks of PB_IDENTITY_PRUNE_CHUNK rows per table, each in a short write
 * transaction of its own, so the write lock is never held long; both deletes walk an
 * expiry index (0023).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/ticker.h"
#include "core/time.h"
#include "identity/identity_internal.h"

#define PB_IDENTITY_PRUNE_CHUNK 2000
#define PB_IDENTITY_PRUNE_MAX_CHUNKS 500 /* a pass: at most a million rows a table */

pb_err pb_identity_prune(pb_store_conn *c, int64_t now, int64_t history_us, size_t *refresh_n,
                         size_t *session_n)
{
    *refresh_n = *session_n = 0;
    for (int i = 0; i < PB_IDENTITY_PRUNE_MAX_CHUNKS; i++) {
        size_t r = 0, s = 0;
        pb_store_rc rc = pb_store_begin(c, PB_STORE_WRITE);
        if (rc == PB_STORE_OK)
            rc = pb_store_auth_prune(c, now - PB_IDENTITY_REFRESH_GRACE_US, now - history_us,
                                     PB_IDENTITY_PRUNE_CHUNK, &r, &s);
        if (rc == PB_STORE_OK)
            rc = pb_store_commit(c);
        else
            pb_store_rollback(c);
        if (rc != PB_STORE_OK)
            return pb_id_store_err(c, rc, PB_ERR_INTERNAL, "auth prune");
        *refresh_n += r;
        *session_n += s;
        if (r < PB_IDENTITY_PRUNE_CHUNK && s < PB_IDENTITY_PRUNE_CHUNK)
            break;
    }
    return PB_OK;
}

struct pb_identity_pruner {
    pb_store *store;
    int64_t history_us;
    pb_store_conn *conn; /* the thread's own */
    pb_ticker *ticker;
};

static bool pruner_enter(void *arg)
{
    pb_identity_pruner *p = arg;
    char err[256];
    if (!(p->conn = pb_store_connect(p->store, err, sizeof err))) {
        pb_log(PB_LOG_ERROR, "identity.prune", "no connection: %s", err);
        return false;
    }
    return true;
}

static bool pruner_pass(void *arg, int64_t retry_ms)
{
    (void)retry_ms;
    pb_identity_pruner *p = arg;
    size_t r = 0, s = 0;
    pb_err e = pb_identity_prune(p->conn, pb_time_now_us(), p->history_us, &r, &s);
    if (e != PB_OK)
        pb_log(PB_LOG_WARN, "identity.prune", "pruning the login tables failed (%s): %s",
               pb_err_code(e), pb_store_errmsg(p->conn));
    else if (r || s)
        pb_log(PB_LOG_INFO, "identity.pruned",
               "deleted %zu expired refresh token(s) and %zu session(s) older than the "
               "history kept",
               r, s);
    return true;
}

static void pruner_leave(void *arg)
{
    pb_identity_pruner *p = arg;
    pb_store_disconnect(p->conn);
    p->conn = NULL;
}

pb_identity_pruner *pb_identity_pruner_start(pb_store *store, int64_t history_us, int interval_ms,
                                             char *err, size_t errcap)
{
    pb_identity_pruner *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    p->store = store;
    p->history_us = history_us;
    /* a pass at start, then one per interval */
    pb_ticker_spec spec = {
        .name = "pb-auth-prune",
        .clock = CLOCK_MONOTONIC,
        .interval_ms = interval_ms > 0 ? interval_ms : PB_IDENTITY_PRUNE_INTERVAL_MS,
        .pass_at_start = true,
        .enter = pruner_enter,
        .pass = pruner_pass,
        .leave = pruner_leave,
        .arg = p,
    };
    if (!(p->ticker = pb_ticker_start(&spec))) {
        snprintf(err, errcap, "cannot start the login tables' pruner: %s", strerror(errno));
        free(p);
        return NULL;
    }
    return p;
}

void pb_identity_pruner_stop(pb_identity_pruner *p)
{
    if (!p)
        return;
    pb_ticker_stop(p->ticker); /* a pass under way finishes its chunk */
    free(p);
}
