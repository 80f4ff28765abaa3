/*
 * test_sessions.c — sessions and refresh tokens through the door: login gives a
 * working access token and a refresh token; refresh rotates (a new refresh
 * token each time, the old one marked used); presenting a used token is
 * REFRESH_REUSED and revokes every token of the family and the session; tokens
 * are stored only as SHA-256; logout, device listing and revocation; idle and
 * absolute session ends; audience separation between player and staff; a
 * player blocked or given a new password while their login's password was being
 * checked gets no session; the event stream's re-check of a connected caller
 * reads its session and its member from one snapshot, and a re-check that cannot
 * begin its transaction is a refusal.
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

static void login_and_authenticate(void **state)
{
    ifx *f = *state;
    pb_player p = ifx_player(f, "demo", "ann@example.com");
    pb_auth_tokens t;
    assert_int_equal(ifx_login(f, "Ann@Example.com", NULL, &t), PB_OK);
    assert_string_equal(t.subject_id, p.public_id);
    assert_int_equal(t.access_expires_at, (f->now / 1000000 + 900) * 1000000);
    assert_int_equal(strncmp(t.refresh_token, "pbr_", 4), 0);
    assert_int_equal(strlen(t.refresh_token), 47);
    pb_principal pr;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, t.access_token,
                                              f->now, &pr),
                     PB_OK);
    assert_int_equal(pr.kind, PB_SUBJECT_PLAYER);
    assert_int_equal(pr.subject_id, p.id);
    assert_int_equal(pr.brand_id, f->demo.id);
    assert_string_equal(pr.brand_code, "demo");
    assert_string_equal(pr.session_public_id, t.session_id);
    assert_true(pb_brand_scope_allows(&pr.scope, f->demo.id));
    assert_false(pb_brand_scope_allows(&pr.scope, f->demo.id + 1));
    /* a player token is no staff token */
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_STAFF, t.access_token,
                                              f->now, &pr),
                     PB_ERR_TOKEN_INVALID);
    assert_int_equal(pb_identity_authorize(&pr, PB_PERM_PLAYERS_READ, 0), PB_ERR_FORBIDDEN);
    /* expired access token */
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, t.access_token,
                                              t.access_expires_at, &pr),
                     PB_ERR_TOKEN_EXPIRED);
    /* the refresh token is stored only as its SHA-256 */
    uint8_t h[32];
    crypto_hash_sha256(h, (const unsigned char *)t.refresh_token, strlen(t.refresh_token));
    char hex[65], sql[300];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM auth_refresh WHERE hex(token_hash)=upper('%s')",
             hex);
    assert_int_equal(ifx_count(f, sql), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM auth_refresh WHERE instr(token_hash, '%s')",
             t.refresh_token + 4);
    assert_int_equal(ifx_count(f, sql), 0);
}

static void refresh_rotates(void **state)
{
    ifx *f = *state;
    ifx_player(f, "demo", "bob@example.com");
    pb_auth_tokens t0, t1, t2;
    assert_int_equal(ifx_login(f, "bob@example.com", NULL, &t0), PB_OK);
    f->now += 600 * 1000000LL;
    pb_client_info ci = {.ip = "203.0.113.7", .user_agent = "phone/2"};
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t0.refresh_token, &ci,
                                         f->now, &t1),
                     PB_OK);
    assert_string_not_equal(t1.refresh_token, t0.refresh_token);
    assert_string_not_equal(t1.access_token, t0.access_token);
    assert_string_equal(t1.session_id, t0.session_id);
    f->now += 600 * 1000000LL;
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t1.refresh_token, &ci,
                                         f->now, &t2),
                     PB_OK);
    pb_principal pr;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, t2.access_token,
                                              f->now, &pr),
                     PB_OK);
    /* one family: three tokens, a chain of parents, two used */
    assert_int_equal(ifx_count(f, "SELECT count(DISTINCT family_id) FROM auth_refresh"), 1);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_refresh"), 3);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_refresh WHERE used_at<>0"), 2);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_refresh a JOIN auth_refresh b "
                                  "ON b.parent_id=a.id"),
                     2);
    /* the device seen: refresh recorded ip, user agent and time */
    pb_session_info s[4];
    size_t n = 0;
    assert_int_equal(pb_identity_sessions_list(f->conn, &pr, f->now, s, 4, &n), PB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].ip, "203.0.113.7");
    assert_string_equal(s[0].user_agent, "phone/2");
    assert_int_equal(s[0].last_seen_at, f->now);
    assert_true(s[0].current);
}

static void reuse_revokes_the_family(void **state)
{
    ifx *f = *state;
    ifx_player(f, "demo", "eve@example.com");
    pb_auth_tokens t0, t1, t2, x;
    assert_int_equal(ifx_login(f, "eve@example.com", NULL, &t0), PB_OK);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t0.refresh_token, NULL,
                                         f->now, &t1),
                     PB_OK);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t1.refresh_token, NULL,
                                         f->now, &t2),
                     PB_OK);
    /* a thief replays the first token */
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t0.refresh_token, NULL,
                                         f->now, &x),
                     PB_ERR_REFRESH_REUSED);
    assert_string_equal(x.access_token, "");
    assert_string_equal(x.refresh_token, "");
    /* every token of the family is revoked, and the session */
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_refresh WHERE revoked_at=0"), 0);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_session WHERE revoked_at<>0 "
                                  "AND revoke_reason='refresh_reuse'"),
                     1);
    /* so the owner's newest refresh token and access token stop working too */
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t2.refresh_token, NULL,
                                         f->now, &x),
                     PB_ERR_SESSION_REVOKED);
    pb_principal pr;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, t2.access_token,
                                              f->now, &pr),
                     PB_ERR_SESSION_REVOKED);
    /* reusing a used token keeps answering REFRESH_REUSED */
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t1.refresh_token, NULL,
                                         f->now, &x),
                     PB_ERR_REFRESH_REUSED);
    /* another session of the same player is untouched */
    pb_auth_tokens other;
    assert_int_equal(ifx_login(f, "eve@example.com", NULL, &other), PB_OK);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, other.refresh_token,
                                         NULL, f->now, &x),
                     PB_OK);
}

static void bad_refresh_tokens(void **state)
{
    ifx *f = *state;
    ifx_player(f, "demo", "kim@example.com");
    pb_auth_tokens t, x;
    assert_int_equal(ifx_login(f, "kim@example.com", NULL, &t), PB_OK);
    const char *bad[] = {"", "pbr_", "pbr_short", "xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "pbr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (int i = 0; i < 5; i++)
        assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, bad[i], NULL,
                                             f->now, &x),
                         PB_ERR_TOKEN_INVALID);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, NULL, NULL, f->now, &x),
                     PB_ERR_TOKEN_INVALID);
    /* a player's token at the staff door: refused, and the family is not harmed */
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_STAFF, t.refresh_token, NULL,
                                         f->now, &x),
                     PB_ERR_TOKEN_INVALID);
    /* idle too long: the refresh token has expired */
    int64_t idle = 7LL * 86400 * 1000000;
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t.refresh_token, NULL,
                                         f->now + idle, &x),
                     PB_ERR_TOKEN_EXPIRED);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t.refresh_token, NULL,
                                         f->now + idle - 1, &x),
                     PB_OK);
}

static void absolute_session_end(void **state)
{
    ifx *f = *state;
    ifx_player(f, "demo", "lee@example.com");
    pb_auth_tokens t;
    assert_int_equal(ifx_login(f, "lee@example.com", NULL, &t), PB_OK);
    int64_t end = f->now + 30LL * 86400 * 1000000;
    /* refresh every 6 days: the session stays alive until its absolute end */
    for (int64_t at = f->now + 6LL * 86400 * 1000000; at < end; at += 6LL * 86400 * 1000000) {
        pb_auth_tokens next;
        assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t.refresh_token,
                                             NULL, at, &next),
                         PB_OK);
        assert_true(next.refresh_expires_at <= end);
        assert_true(next.access_expires_at <= end);
        t = next;
    }
    pb_auth_tokens x;
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t.refresh_token, NULL,
                                         end, &x),
                     PB_ERR_TOKEN_EXPIRED);
}

static void logout_and_devices(void **state)
{
    ifx *f = *state;
    ifx_player(f, "demo", "max@example.com");
    pb_auth_tokens a, b, x;
    assert_int_equal(ifx_login(f, "max@example.com", NULL, &a), PB_OK);
    f->now += 1000000;
    assert_int_equal(ifx_login(f, "max@example.com", NULL, &b), PB_OK);
    pb_principal pa, pb;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, a.access_token,
                                              f->now, &pa),
                     PB_OK);
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, b.access_token,
                                              f->now, &pb),
                     PB_OK);
    pb_session_info s[4];
    size_t n = 0;
    assert_int_equal(pb_identity_sessions_list(f->conn, &pa, f->now, s, 4, &n), PB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].id, b.session_id); /* newest first */
    assert_false(s[0].current);
    assert_true(s[1].current);
    /* device a removes device b */
    ifx_begin(f);
    assert_int_equal(pb_identity_session_revoke(f->conn, &pa, b.session_id, f->now), PB_OK);
    assert_int_equal(pb_identity_session_revoke(f->conn, &pa, "no-such-session", f->now),
                     PB_ERR_NOT_FOUND);
    ifx_commit(f);
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, b.access_token,
                                              f->now, &pb),
                     PB_ERR_SESSION_REVOKED);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, b.refresh_token, NULL,
                                         f->now, &x),
                     PB_ERR_SESSION_REVOKED);
    /* someone else's session id is not found */
    ifx_player(f, "demo", "ned@example.com");
    pb_auth_tokens c;
    pb_principal pc;
    assert_int_equal(ifx_login(f, "ned@example.com", NULL, &c), PB_OK);
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, c.access_token,
                                              f->now, &pc),
                     PB_OK);
    assert_int_equal(pb_identity_session_revoke(f->conn, &pc, a.session_id, f->now),
                     PB_ERR_NOT_FOUND);
    /* logout ends a's session */
    ifx_begin(f);
    assert_int_equal(pb_identity_logout(f->conn, &pa, f->now), PB_OK);
    ifx_commit(f);
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, a.access_token,
                                              f->now, &pa),
                     PB_ERR_SESSION_REVOKED);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, a.refresh_token, NULL,
                                         f->now, &x),
                     PB_ERR_SESSION_REVOKED);
    /* support ends every session of ned */
    size_t ended = 0;
    ifx_begin(f);
    assert_int_equal(pb_identity_sessions_revoke_all(f->conn, PB_SUBJECT_PLAYER, pc.subject_id,
                                                     f->now, &ended),
                     PB_OK);
    ifx_commit(f);
    assert_int_equal(ended, 1);
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, c.access_token,
                                              f->now, &pc),
                     PB_ERR_SESSION_REVOKED);
}

static void keys_survive_a_restart(void **state)
{
    ifx *f = *state;
    ifx_player(f, "demo", "ola@example.com");
    pb_auth_tokens t;
    assert_int_equal(ifx_login(f, "ola@example.com", NULL, &t), PB_OK);
    /* a new context on the same keys directory (a restart) verifies the token */
    ifx_reconfigure(f, (pb_identity_config){0});
    pb_principal pr;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, t.access_token,
                                              f->now, &pr),
                     PB_OK);
    /* rotation through the door: new tokens use the new kid, old ones still verify */
    char kid[32];
    assert_int_equal(pb_identity_keys_rotate(f->id, f->now, kid), PB_OK);
    pb_auth_tokens t2;
    assert_int_equal(ifx_login(f, "ola@example.com", NULL, &t2), PB_OK);
    char header[128];
    size_t bin = 0;
    assert_int_equal(sodium_base642bin((unsigned char *)header, sizeof header - 1, t2.access_token,
                                       strcspn(t2.access_token, "."), NULL, &bin, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    header[bin] = 0;
    assert_non_null(strstr(header, kid));
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, t.access_token,
                                              f->now, &pr),
                     PB_OK);
    assert_int_equal(pb_identity_keys_reload(f->id, f->now), PB_OK);
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, t2.access_token,
                                              f->now, &pr),
                     PB_OK);
}

/* A session row of subject 1 that expires at `expires`, with n refresh tokens expiring
 * at token_expires; its id. */
static int64_t old_session(ifx *f, const char *tag, int64_t expires, int n, int64_t token_expires)
{
    pb_store_session s;
    memset(&s, 0, sizeof s);
    snprintf(s.public_id, sizeof s.public_id, "old-session-%s", tag);
    snprintf(s.subject_kind, sizeof s.subject_kind, "player");
    snprintf(s.scope, sizeof s.scope, "full");
    snprintf(s.ip, sizeof s.ip, "198.51.100.9");
    s.subject_id = 1;
    s.created_at = s.last_seen_at = expires - 3600 * 1000000LL;
    s.idle_s = 1800;
    s.expires_at = expires;
    ifx_begin(f);
    assert_int_equal(pb_store_session_insert(f->conn, &s), PB_STORE_OK);
    for (int i = 0; i < n; i++) {
        pb_store_refresh r;
        memset(&r, 0, sizeof r);
        snprintf((char *)r.token_hash, sizeof r.token_hash, "%s-%d", tag, i);
        snprintf(r.family_id, sizeof r.family_id, "fam-%s", tag);
        r.session_id = s.id;
        r.created_at = token_expires - 600 * 1000000LL;
        r.expires_at = token_expires;
        assert_int_equal(pb_store_refresh_insert(f->conn, &r), PB_STORE_OK);
    }
    ifx_commit(f);
    return s.id;
}

/* The pruner deletes refresh tokens a day after they expired and sessions once their
 * end is older than the history kept, with their tokens, in chunks; a live login keeps
 * working, and a second pass finds nothing. */
static void pruned(void **state)
{
    ifx *f = *state;
    const int64_t DAY = 86400 * 1000000LL;
    ifx_player(f, "demo", "pat@example.com");
    pb_auth_tokens t0, t1;
    assert_int_equal(ifx_login(f, "pat@example.com", NULL, &t0), PB_OK);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t0.refresh_token, NULL,
                                         f->now, &t1),
                     PB_OK);
    /* a session that ended 10 days ago and still holds tokens expired 2 days ago: its
     * 4,500 tokens go (more than two chunks), the session stays (90 days of history) */
    int64_t recent = old_session(f, "recent", f->now - 10 * DAY, 4500, f->now - 2 * DAY);
    /* tokens expired 12 hours ago: inside the day of grace, kept */
    old_session(f, "grace", f->now + DAY, 3, f->now - DAY / 2);
    /* a session that ended 100 days ago: it and its 7 tokens go */
    int64_t ancient = old_session(f, "ancient", f->now - 100 * DAY, 7, f->now - 99 * DAY);
    int sessions0 = ifx_count(f, "SELECT count(*) FROM auth_session");
    int tokens0 = ifx_count(f, "SELECT count(*) FROM auth_refresh");
    /* per-address login failures: one untouched for 100 days goes, a recent one stays */
    char ins[256];
    snprintf(ins, sizeof ins,
             "INSERT INTO login_failure VALUES ('player',1,'192.0.2.1',3,0,%lld),"
             "('player',1,'192.0.2.2',3,0,%lld)",
             (long long)(f->now - 100 * DAY), (long long)(f->now - DAY));
    assert_int_equal(pb_store_exec_raw(f->conn, ins), PB_STORE_OK);
    size_t r = 0, s = 0;
    assert_int_equal(pb_identity_prune(f->conn, f->now, 90 * DAY, &r, &s), PB_OK);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM login_failure WHERE addr='192.0.2.1'"), 0);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM login_failure WHERE addr='192.0.2.2'"), 1);
    assert_int_equal(r, 4500 + 7);
    assert_int_equal(s, 1);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_session"), sessions0 - 1);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_refresh"), tokens0 - 4507);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM auth_session WHERE id=%lld",
             (long long)ancient);
    assert_int_equal(ifx_count(f, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM auth_session WHERE id=%lld", (long long)recent);
    assert_int_equal(ifx_count(f, sql), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM auth_refresh WHERE session_id=%lld",
             (long long)recent);
    assert_int_equal(ifx_count(f, sql), 0);
    /* the live login: both of its tokens kept (one used), its refresh still rotates */
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_refresh WHERE family_id NOT LIKE "
                                  "'fam-%'"),
                     2);
    pb_auth_tokens t2;
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t1.refresh_token, NULL,
                                         f->now, &t2),
                     PB_OK);
    /* nothing left to do */
    assert_int_equal(pb_identity_prune(f->conn, f->now, 90 * DAY, &r, &s), PB_OK);
    assert_int_equal(r + s, 0);
    /* the deletes walk their indexes (0023, 0027: INDEXED BY fails to prepare without) */
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                  "('auth_refresh_keep','auth_session_expires')"),
                     2);
}

/* A rotated refresh token is kept until its session ends, not pruned a day after
 * its own expiry: its replay weeks later, while the owner's family is still alive,
 * still revokes the family and answers REFRESH_REUSED (before: TOKEN_INVALID and
 * the thief's replay went unnoticed). Once the session has ended, the rows go. */
static void rotated_token_reuse_alarms_for_the_session_life(void **state)
{
    ifx *f = *state;
    const int64_t DAY = 86400 * 1000000LL;
    ifx_player(f, "demo", "pat@example.com");
    pb_auth_tokens t[4];
    assert_int_equal(ifx_login(f, "pat@example.com", NULL, &t[0]), PB_OK);
    int64_t t0_expires = t[0].refresh_expires_at; /* the idle window: 7 days */
    /* the owner refreshes every 5 days: t0 is rotated at once and expires on day 7 */
    for (int i = 1; i < 4; i++) {
        assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER,
                                             t[i - 1].refresh_token, NULL, f->now, &t[i]),
                         PB_OK);
        f->now += 5 * DAY;
    }
    /* day 15: t0 expired 8 days ago, far past the day of grace; the pruner runs */
    assert_true(f->now > t0_expires + PB_IDENTITY_REFRESH_GRACE_US);
    size_t r = 0, s = 0;
    assert_int_equal(pb_identity_prune(f->conn, f->now, 90 * DAY, &r, &s), PB_OK);
    assert_int_equal(r, 0); /* every rotated token of the live session is kept */
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_refresh"), 4);
    /* a thief replays the stolen t0: the alarm, and the family and session revoked */
    pb_auth_tokens x;
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t[0].refresh_token,
                                         NULL, f->now, &x),
                     PB_ERR_REFRESH_REUSED);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t[3].refresh_token,
                                         NULL, f->now, &x),
                     PB_ERR_SESSION_REVOKED);
    /* a day after the session's end (30 days from the login) every token goes */
    f->now = IFX_T0 + 31 * DAY + 1;
    assert_int_equal(pb_identity_prune(f->conn, f->now, 90 * DAY, &r, &s), PB_OK);
    assert_int_equal(r, 4);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_refresh"), 0);
}

/* A trigger on the login's attempt count (written after the player is read and
 * before the slow password check) commits `change` at that moment. */
static void player_changed_during_login(void **state)
{
    ifx *f = *state;
    const char *changes[] = {"UPDATE player SET status='blocked' WHERE id=NEW.id",
                             "UPDATE player SET password_hash=password_hash||'x' WHERE id=NEW.id"};
    pb_err want[] = {PB_ERR_PLAYER_BLOCKED, PB_ERR_CREDENTIALS_INVALID};
    for (size_t i = 0; i < 2; i++) {
        char email[64], q[400];
        snprintf(email, sizeof email, "race%zu@example.com", i);
        pb_player p = ifx_player(f, "demo", email);
        int64_t before = ifx_count(f, "SELECT count(*) FROM auth_session");
        snprintf(q, sizeof q,
                 "CREATE TRIGGER meanwhile AFTER UPDATE OF failed_logins ON player "
                 "WHEN NEW.failed_logins > OLD.failed_logins AND NEW.public_id='%s' BEGIN %s; END",
                 p.public_id, changes[i]);
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
        pb_auth_tokens t;
        assert_int_equal(ifx_login(f, email, NULL, &t), want[i]);
        assert_int_equal(sqlite3_exec(db, "DROP TRIGGER meanwhile", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_session"), before);
        assert_int_equal(t.access_token[0], 0);
        assert_int_equal(t.refresh_token[0], 0);
    }
}

/* A refresh re-reads the subject's status: a blocked player or a disabled member
 * is refused even when the block/disable path did not revoke (simulated by writing
 * the status alone), and that session ends then: lifting the block later does not
 * bring it back. */
static void refresh_rechecks_the_subject(void **state)
{
    ifx *f = *state;
    ifx_player(f, "demo", "ina@example.com");
    pb_auth_tokens t, x;
    assert_int_equal(ifx_login(f, "ina@example.com", NULL, &t), PB_OK);
    assert_int_equal(pb_store_exec_raw(f->conn, "UPDATE player SET status='blocked' WHERE id IN "
                                                "(SELECT player_id FROM player_pii WHERE "
                                                "email='ina@example.com')"),
                     PB_STORE_OK);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t.refresh_token, NULL,
                                         f->now, &x),
                     PB_ERR_PLAYER_BLOCKED);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_session WHERE revoke_reason="
                                  "'subject_inactive' AND revoked_at>0"),
                     1);
    assert_int_equal(pb_store_exec_raw(f->conn, "UPDATE player SET status='active'"), PB_STORE_OK);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t.refresh_token, NULL,
                                         f->now, &x),
                     PB_ERR_SESSION_REVOKED);

    uint8_t seed[PB_TOTP_SEED_BYTES];
    ifx_staff(f, "ina.staff@example.com", PB_ROLE_SUPPORT, "demo", seed, &t);
    assert_int_equal(pb_store_exec_raw(f->conn, "UPDATE staff SET status='disabled' WHERE "
                                                "email='ina.staff@example.com'"),
                     PB_STORE_OK);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_STAFF, t.refresh_token, NULL,
                                         f->now, &x),
                     PB_ERR_FORBIDDEN);
    assert_int_equal(pb_store_exec_raw(f->conn, "UPDATE staff SET status='active'"), PB_STORE_OK);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_STAFF, t.refresh_token, NULL,
                                         f->now, &x),
                     PB_ERR_SESSION_REVOKED);
}

/* Every SQLite connection opened while `capturing` is set is kept here (an
 * auto-extension runs for each new connection), so a test can trace the
 * statements of a pb_store_conn it opened. */
static bool capturing;
static sqlite3 *captured;

static int capture_conn(sqlite3 *db, const char **err, const void *api)
{
    (void)err;
    (void)api;
    if (capturing)
        captured = db;
    return SQLITE_OK;
}

typedef struct {
    const char *path;
    const char *sql; /* committed from another connection after the session read */
    bool done;
} meanwhile;

static int after_session_read(unsigned type, void *ctx, void *stmt, void *x)
{
    (void)x;
    meanwhile *m = ctx;
    const char *sql = type == SQLITE_TRACE_PROFILE ? sqlite3_sql(stmt) : NULL;
    if (m->done || !sql || !strstr(sql, "auth_session"))
        return 0;
    m->done = true;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(m->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, m->sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    return 0;
}

/* The stream's re-check (pb_identity_principal_recheck) judges the session and
 * the member on one snapshot. A member whose stored role is no longer the
 * session's (written alone here: the role-change path would also revoke) is
 * refused even when the role is put back between the session read and the
 * member read; read outside one transaction, the second read saw the restored
 * role and the stale session passed. A connection that cannot begin (here: one
 * already in a transaction) is a failure, not a pass. */
static void recheck_reads_one_snapshot(void **state)
{
    ifx *f = *state;
    uint8_t seed[PB_TOTP_SEED_BYTES];
    pb_auth_tokens t;
    pb_principal p = ifx_staff(f, "rhea@example.com", PB_ROLE_SUPPORT, "demo", seed, &t);
    char err[256];
    capturing = true;
    captured = NULL;
    pb_store_conn *c = pb_store_connect(f->store, err, sizeof err);
    capturing = false;
    assert_non_null(c);
    assert_non_null(captured);
    assert_int_equal(pb_identity_principal_recheck(c, &p, f->now), PB_OK);

    assert_int_equal(pb_store_exec_raw(f->conn, "UPDATE staff SET role='finance' WHERE "
                                                "email='rhea@example.com'"),
                     PB_STORE_OK);
    meanwhile m = {.path = f->path,
                   .sql = "UPDATE staff SET role='support' WHERE email='rhea@example.com'"};
    sqlite3_trace_v2(captured, SQLITE_TRACE_PROFILE, after_session_read, &m);
    assert_int_equal(pb_identity_principal_recheck(c, &p, f->now), PB_ERR_SESSION_REVOKED);
    assert_true(m.done);
    sqlite3_trace_v2(captured, 0, NULL, NULL);
    /* the role is back and the session was never revoked: the next re-check passes */
    assert_int_equal(pb_identity_principal_recheck(c, &p, f->now), PB_OK);

    /* a begin that fails refuses (and leaves the caller's transaction alone) */
    assert_int_equal(pb_store_begin(c, PB_STORE_READ), PB_STORE_OK);
    assert_int_equal(pb_identity_principal_recheck(c, &p, f->now), PB_ERR_INTERNAL);
    pb_store_rollback(c);
    assert_int_equal(pb_identity_principal_recheck(NULL, NULL, f->now), PB_ERR_UNAUTHENTICATED);
    pb_store_disconnect(c);
}

int main(void)
{
    sqlite3_auto_extension((void (*)(void))capture_conn);
#define T(fn) cmocka_unit_test_setup_teardown(fn, ifx_setup, ifx_teardown)
    const struct CMUnitTest tests[] = {
        T(login_and_authenticate),
        T(refresh_rotates),
        T(reuse_revokes_the_family),
        T(bad_refresh_tokens),
        T(absolute_session_end),
        T(logout_and_devices),
        T(keys_survive_a_restart),
        T(pruned),
        T(rotated_token_reuse_alarms_for_the_session_life),
        T(player_changed_during_login),
        T(refresh_rechecks_the_subject),
        T(recheck_reads_one_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
