/*
 * login.c — the password step that player and staff logins share: email
 * normalisation, rate limits, lockout, and verification that costs the same
 * whether or not the email exists.
 *
 * Order: per-IP limit, per-account limit, lookup, then for a known email the
 * attempt is counted (count_attempt) BEFORE the argon2id verify (against a dummy
 * hash of the same parameters when the email is unknown): one transaction that
 * refuses a locked account, starts an expired lock's count over, adds one to
 * failed_logins and, when that reaches `lockout_threshold`, sets the lock for
 * `lockout_s` at once. Concurrent logins are serialised by that write, so at
 * most `lockout_threshold` guesses are ever verified before the lock, however
 * many arrive together (counting after the verify, as before, let every guess
 * in flight pass the lock check: up to the per-account burst of 10). A wrong
 * password leaves the attempt counted (the 5th answers ACCOUNT_LOCKED); a
 * right one keeps it counted until the caller settles it: a session that opens
 * resets the count (session.c), a wrong TOTP code is that counted failure
 * (pb_login_counted_failure), and a login refused for another reason (inactive,
 * TOTP missing) gives it back (pb_login_uncount, which also lifts the lock this
 * attempt set). While the attempt that reached the threshold is being verified,
 * the account answers ACCOUNT_LOCKED even if that attempt turns out right.
 * Unknown email and wrong password both answer CREDENTIALS_INVALID.
 *
 * Staff locks escalate. Whoever fails a staff member's TOTP step knows their
 * password, and a 6-digit code (3 accepted per try: ±1 step) falls to steady
 * guessing under a fixed lock: 5 tries every 15 minutes is 480 a day, ~41% odds
 * in a year. So a staff member's failures are counted until a success (an
 * expired lock does not start the count over) and every `lockout_threshold`-th
 * one locks for twice as long as the one before: 15 min, 30 min, 1 h, ... up to
 * `lockout_max_s` (24 h): ~35 tries in the first 32 hours, 5 a day after, ~0.6%
 * odds in a year. A login that opens a session (session.c) or a TOTP reset
 * (staff.c) starts it over. A player's count starts over when a lock expires
 * (fixed 15-minute locks): a player has no second factor whose small code space
 * needs this, and their password is only ever tried at the rate limits.
 * A locked account answers ACCOUNT_LOCKED at once, which tells that it exists;
 * the per-account rate limit bounds how fast anyone can probe for that.
 *
 * Per client address (0037). Everything above counts per (account, client
 * address): a stranger sending wrong passwords for a member's email from one
 * address locks that address out of that account (escalating as above), and the
 * member still logs in from theirs. The account's own failed_logins/locked_until
 * are the global ceiling: every failure from any address also counts there, and
 * `lockout_account_threshold` of them (default 4 × lockout_threshold = 20) lock the
 * account everywhere, with the same rules (a staff member's locks escalate from
 * 15 min to 24 h; a player's last 15 min), so guessing spread over many addresses
 * is still stopped (at 20 per lock period instead of 5), and a stranger needs 4+
 * addresses to lock the member out. A wrong TOTP code (the right password) adds
 * lockout_account_threshold / lockout_threshold (4) to the global count
 * (pb_login_second_factor_failure): whoever sends one knows the password, and the
 * code space is what the escalation protects, so a TOTP guess spread over many
 * addresses still locks the account after 5 codes, as before. The address is the
 * client's as the HTTP layer reads it (http/proxy.c: the TCP peer, or, from a peer
 * named in --trusted-proxies, the right-most untrusted X-Forwarded-For entry; behind
 * a proxy not named there all clients share its address and this falls back to one
 * count per account); an IPv6 address counts by its /64, which one host usually
 * holds whole; no address counts as ''. A session opened (session.c), a TOTP reset
 * (staff.c), a staff unlock (pb_identity_login_unlock) or an erasure deletes the
 * subject's per-address rows.
 */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "identity/identity_internal.h"

/* RFC 5322 atext, the characters an unquoted local part may hold besides '.'. */
static bool atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

/* A DNS host name of at least two labels whose last label is not all digits. */
static bool domain_valid(const char *d, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t labels = 0, start = 0;
    bool last_all_digits = true;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && d[i] != '.')
            continue;
        size_t len = i - start;
        if (len == 0 || len > 63 || d[start] == '-' || d[i - 1] == '-')
            return false;
        last_all_digits = true;
        for (size_t j = start; j < i; j++) {
            unsigned char c = (unsigned char)d[j];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-'))
                return false;
            if (c < '0' || c > '9')
                last_all_digits = false;
        }
        labels++;
        start = i + 1;
    }
    return labels >= 2 && !last_all_digits;
}

/* Accepts the common dot-atom form only (no quoted local parts, no IP literals). */
bool pb_email_normalize(const char *email, char out[PB_EMAIL_MAX + 1])
{
    size_t n = email ? strlen(email) : 0;
    const char *at = n ? strchr(email, '@') : NULL;
    if (n == 0 || n > PB_EMAIL_MAX || !at || strchr(at + 1, '@'))
        return false;
    size_t local = (size_t)(at - email);
    if (local == 0 || local > 64 || email[0] == '.' || email[local - 1] == '.')
        return false;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)email[i];
        if (!(atext(c) || (c == '.' && email[i + 1] != '.')))
            return false;
    }
    if (!domain_valid(at + 1, n - local - 1))
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)((email[i] >= 'A' && email[i] <= 'Z') ? email[i] + 32 : email[i]);
    return true;
}

/* One token from the per-IP bucket, keyed as the lockout keys an address (an
 * IPv6 client by its /64: one host usually holds a whole /64, and a bucket per
 * address would give it a fresh burst per address); requests without an IP are
 * not limited here. */
pb_err pb_login_limit_ip(pb_identity *id, const pb_client_info *client, int64_t now,
                         int64_t *retry_after_us)
{
    *retry_after_us = 0;
    if (!client || !client->ip || !*client->ip)
        return PB_OK;
    char addr[PB_IP_MAX + 1];
    pb_identity_addr_key(client->ip, addr);
    char key[PB_IP_MAX + 8];
    snprintf(key, sizeof key, "ip:%s", addr[0] ? addr : client->ip); /* "-": the peer unknown */
    return pb_ratelimit_take(id->rl_ip, key, now, retry_after_us);
}

/* The login state of a subject, whichever its kind. */
static int64_t *failed_of(pb_login_subject *s)
{
    return s->kind == PB_SUBJECT_STAFF ? &s->staff.failed_logins : &s->player.failed_logins;
}
static int64_t *locked_of(pb_login_subject *s)
{
    return s->kind == PB_SUBJECT_STAFF ? &s->staff.locked_until : &s->player.locked_until;
}

typedef struct fail_ctx {
    pb_identity *id;
    pb_login_subject *s;
    int64_t now;
    bool locked;
} fail_ctx;

/* Writes the subject's login state (inside the caller's transaction). */
static pb_err write_login_state(pb_store_conn *c, pb_login_subject *s, int64_t now)
{
    pb_store_rc r;
    if (s->kind == PB_SUBJECT_STAFF) {
        s->staff.updated_at = now;
        r = pb_store_staff_update_login(c, &s->staff);
    } else {
        s->player.updated_at = now;
        r = pb_store_player_update_login(c, &s->player);
    }
    return pb_id_store_err(c, r, PB_ERR_INTERNAL, "login failure count");
}

/* Re-reads the subject inside the transaction (its login state may have moved). */
static pb_err reread(pb_store_conn *c, pb_login_subject *s)
{
    pb_store_rc r = s->kind == PB_SUBJECT_STAFF ? pb_store_staff_get(c, s->staff.id, &s->staff)
                                                : pb_store_player_get(c, s->player.id, &s->player);
    return pb_id_store_err(c, r, PB_ERR_CREDENTIALS_INVALID, "login subject get");
}

static void log_lockout(pb_identity *id, pb_login_subject *s)
{
    pb_log(PB_LOG_WARN, "identity.lockout", "%s %s locked after %d failed logins",
           pb_subject_kind_name(s->kind),
           s->kind == PB_SUBJECT_STAFF ? s->staff.public_id : s->player.public_id,
           id->cfg.lockout_threshold);
}

int64_t pb_login_lock_us(const pb_identity_config *cfg, int64_t nth)
{
    int64_t s = cfg->lockout_s, max = cfg->lockout_max_s > s ? cfg->lockout_max_s : s;
    for (int64_t i = 1; i < nth && s < max; i++)
        s = s > max / 2 ? max : s * 2;
    return (s < max ? s : max) * 1000000;
}

/* identity.h: an IPv6 address by its /64, '' when unknown. */
void pb_identity_addr_key(const char *ip, char out[PB_IP_MAX + 1])
{
    out[0] = 0;
    if (!ip || !*ip || strcmp(ip, "-") == 0)
        return;
    unsigned char a6[16];
    if (strchr(ip, ':') && inet_pton(AF_INET6, ip, a6) == 1) {
        memset(a6 + 8, 0, 8);
        char b[INET6_ADDRSTRLEN];
        if (inet_ntop(AF_INET6, a6, b, sizeof b)) {
            snprintf(out, PB_IP_MAX + 1, "%s/64", b);
            return;
        }
    }
    snprintf(out, PB_IP_MAX + 1, "%s", ip);
}

/* Adds n failures to *failed (lock state *locked) under threshold th: an expired
 * lock is cleared (a player's count starts over), and a lock is set when the
 * count reaches th (a player) or passes a multiple of th (staff: the nth lock in a
 * row lasts pb_login_lock_us(nth)). Returns the lock set, 0 for none. */
static int64_t add_failures(const pb_identity_config *cfg, bool escalate, int64_t th, int64_t n,
                            int64_t *failed, int64_t *locked, int64_t now)
{
    if (*locked != 0 && *locked <= now) { /* an expired lock */
        if (!escalate)
            *failed = 0;
        *locked = 0;
    }
    int64_t before = *failed;
    *failed += n;
    if (escalate ? *failed / th > before / th : *failed >= th && *locked <= now) {
        *locked = now + pb_login_lock_us(cfg, escalate ? *failed / th : 1);
        return *locked;
    }
    return 0;
}

/* The attempt's transaction (see the file comment): refuses a locked account or
 * address, else counts the attempt under both and sets the lock each reaches. */
static pb_err count_tx(pb_store_conn *c, void *ctx, bool *keep)
{
    (void)keep;
    fail_ctx *f = ctx;
    pb_login_subject *s = f->s;
    pb_err e = reread(c, s);
    if (e != PB_OK)
        return e;
    const char *kind = pb_subject_kind_name(s->kind);
    int64_t sid = s->kind == PB_SUBJECT_STAFF ? s->staff.id : s->player.id;
    e = pb_id_store_err(c,
                        pb_store_login_failure_get(c, kind, sid, s->addr, &s->addr_failed,
                                                   &s->addr_locked),
                        PB_ERR_INTERNAL, "login failure get");
    if (e != PB_OK)
        return e;
    int64_t *failed = failed_of(s), *locked = locked_of(s);
    if (*locked > f->now || s->addr_locked > f->now)
        return PB_ERR_ACCOUNT_LOCKED; /* rolled back: nothing written */
    bool escalate = s->kind == PB_SUBJECT_STAFF;
    const pb_identity_config *cfg = &f->id->cfg;
    s->addr_lock_set = add_failures(cfg, escalate, cfg->lockout_threshold, 1, &s->addr_failed,
                                    &s->addr_locked, f->now);
    s->lock_set = add_failures(cfg, escalate, cfg->lockout_account_threshold, 1, failed, locked,
                               f->now);
    e = pb_id_store_err(c,
                        pb_store_login_failure_put(c, kind, sid, s->addr, s->addr_failed,
                                                   s->addr_locked, f->now),
                        PB_ERR_INTERNAL, "login failure put");
    return e == PB_OK ? write_login_state(c, s, f->now) : e;
}

/* The later of the account's and the address's locks (what a locked answer waits). */
static int64_t lock_of(pb_login_subject *s)
{
    return *locked_of(s) > s->addr_locked ? *locked_of(s) : s->addr_locked;
}

/* Counts an attempt at s before its secret is verified. PB_OK (s->counted), or
 * ACCOUNT_LOCKED with out->retry_after_us, or a store failure. */
static pb_err count_attempt(pb_identity *id, pb_store_conn *c, pb_login_subject *s, int64_t now,
                            pb_auth_tokens *out)
{
    fail_ctx f = {.id = id, .s = s, .now = now};
    pb_err e = pb_id_tx(c, count_tx, &f);
    if (e == PB_ERR_ACCOUNT_LOCKED)
        out->retry_after_us = lock_of(s) - now;
    s->counted = e == PB_OK;
    return e;
}

pb_err pb_login_counted_failure(pb_identity *id, pb_login_subject *s, int64_t now, pb_err otherwise,
                                pb_auth_tokens *out)
{
    bool locked = s->counted && (s->lock_set || s->addr_lock_set);
    s->counted = false; /* settled: it stays counted as a failure */
    if (!locked)
        return otherwise;
    log_lockout(id, s);
    out->retry_after_us = (s->lock_set > s->addr_lock_set ? s->lock_set : s->addr_lock_set) - now;
    return PB_ERR_ACCOUNT_LOCKED;
}

/* The extra weight of a wrong second factor on the account's global count. */
static pb_err second_factor_tx(pb_store_conn *c, void *ctx, bool *keep)
{
    (void)keep;
    fail_ctx *f = ctx;
    pb_login_subject *s = f->s;
    pb_err e = reread(c, s);
    if (e != PB_OK)
        return e;
    const pb_identity_config *cfg = &f->id->cfg;
    /* as much as lockout_threshold of them reach the global threshold (the attempt
     * itself is counted already) */
    int64_t th = cfg->lockout_threshold, g = cfg->lockout_account_threshold;
    int64_t extra = (g + th - 1) / th - 1;
    if (extra <= 0)
        return PB_OK;
    int64_t set = add_failures(cfg, s->kind == PB_SUBJECT_STAFF, cfg->lockout_account_threshold,
                               extra, failed_of(s), locked_of(s), f->now);
    if (set)
        s->lock_set = set;
    return write_login_state(c, s, f->now);
}

pb_err pb_login_second_factor_failure(pb_identity *id, pb_store_conn *c, pb_login_subject *s,
                                      int64_t now, pb_err otherwise, pb_auth_tokens *out)
{
    if (s->counted) {
        fail_ctx f = {.id = id, .s = s, .now = now};
        pb_err e = pb_id_tx(c, second_factor_tx, &f);
        if (e != PB_OK)
            pb_log(PB_LOG_WARN, "identity.lockout", "second-factor failure not weighed: %s",
                   pb_err_code(e));
    }
    return pb_login_counted_failure(id, s, now, otherwise, out);
}

/* Gives a counted attempt back: one failure less, and the lock it set lifted
 * unless someone has set another since. */
static pb_err uncount_tx(pb_store_conn *c, void *ctx, bool *keep)
{
    (void)keep;
    fail_ctx *f = ctx;
    pb_login_subject *s = f->s;
    int64_t lock_set = s->lock_set, addr_lock_set = s->addr_lock_set;
    pb_err e = reread(c, s);
    if (e != PB_OK)
        return e;
    int64_t *failed = failed_of(s), *locked = locked_of(s);
    if (*failed > 0)
        (*failed)--;
    if (lock_set && *locked == lock_set)
        *locked = 0;
    const char *kind = pb_subject_kind_name(s->kind);
    int64_t sid = s->kind == PB_SUBJECT_STAFF ? s->staff.id : s->player.id;
    e = pb_id_store_err(c,
                        pb_store_login_failure_get(c, kind, sid, s->addr, &s->addr_failed,
                                                   &s->addr_locked),
                        PB_ERR_INTERNAL, "login failure get");
    if (e == PB_OK && s->addr_failed > 0)
        s->addr_failed--;
    if (e == PB_OK && addr_lock_set && s->addr_locked == addr_lock_set)
        s->addr_locked = 0;
    if (e == PB_OK)
        e = pb_id_store_err(c,
                            pb_store_login_failure_put(c, kind, sid, s->addr, s->addr_failed,
                                                       s->addr_locked, f->now),
                            PB_ERR_INTERNAL, "login failure put");
    return e == PB_OK ? write_login_state(c, s, f->now) : e;
}

pb_err pb_login_uncount(pb_identity *id, pb_store_conn *c, pb_login_subject *s, int64_t now)
{
    if (!s->counted)
        return PB_OK;
    s->counted = false;
    fail_ctx f = {.id = id, .s = s, .now = now};
    return pb_id_tx(c, uncount_tx, &f);
}

/* The shared password step of both logins (see the file comment for the order). */
pb_err pb_login_password(pb_identity *id, pb_store_conn *c, pb_subject_kind kind, int64_t brand_id,
                         const char *email, const char *password, const pb_client_info *client,
                         int64_t now, pb_login_subject *s, pb_auth_tokens *out)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    pb_identity_addr_key(client ? client->ip : NULL, s->addr);
    pb_err e = pb_login_limit_ip(id, client, now, &out->retry_after_us);
    if (e != PB_OK)
        return e;
    char norm[PB_EMAIL_MAX + 1];
    if (pb_email_normalize(email, norm)) {
        char key[PB_EMAIL_MAX + 32];
        snprintf(key, sizeof key, "%s:%lld:%s", kind == PB_SUBJECT_STAFF ? "staff" : "player",
                 (long long)brand_id, norm);
        e = pb_ratelimit_take(id->rl_account, key, now, &out->retry_after_us);
        if (e != PB_OK)
            return e;
        pb_store_rc r = kind == PB_SUBJECT_STAFF
                            ? pb_store_staff_by_email(c, norm, &s->staff)
                            : pb_store_player_by_email(c, brand_id, norm, &s->player);
        e = pb_id_store_err(c, r, PB_OK, "login lookup");
        if (e != PB_OK)
            return e;
        s->found = r == PB_STORE_OK;
    }
    if (s->found && *locked_of(s) > now) {
        out->retry_after_us = *locked_of(s) - now;
        return PB_ERR_ACCOUNT_LOCKED;
    }
    if (s->found && (e = count_attempt(id, c, s, now, out)) != PB_OK)
        return e;
    const char *hash = !s->found                  ? id->dummy_hash
                       : kind == PB_SUBJECT_STAFF ? s->staff.password_hash
                                                  : s->player.password_hash;
    const char *pw = password ? password : "";
    bool ok = pb_password_verify(hash, pw) && strlen(pw) <= PB_PASSWORD_MAX_BYTES;
    if (!s->found)
        return PB_ERR_CREDENTIALS_INVALID;
    if (!ok) /* counted already */
        return pb_login_counted_failure(id, s, now, PB_ERR_CREDENTIALS_INVALID, out);
    return PB_OK;
}

typedef struct password_ctx {
    pb_login_subject *s;
    const char *hash;
    int64_t keep_session;
    int64_t now;
    pb_err (*in_tx)(pb_store_conn *c, void *ctx); /* the caller's, in the same transaction */
    void *in_tx_ctx;
} password_ctx;

/* Stores the new hash, clears must_change_password and ends the other sessions. */
static pb_err password_tx(pb_store_conn *c, void *ctx, bool *keep)
{
    (void)keep;
    password_ctx *x = ctx;
    bool staff = x->s->kind == PB_SUBJECT_STAFF;
    int64_t sid = staff ? x->s->staff.id : x->s->player.id;
    pb_store_rc r = staff ? pb_store_staff_set_password(c, sid, x->hash, false, x->now)
                          : pb_store_player_set_password(c, sid, x->hash, x->now);
    if (r == PB_STORE_OK)
        r = pb_store_session_revoke_subject(c, pb_subject_kind_name(x->s->kind), sid,
                                            x->keep_session, x->now, "password_changed", NULL);
    pb_err e = pb_id_store_err(c, r, PB_ERR_INTERNAL, "password change");
    return e == PB_OK && x->in_tx ? x->in_tx(c, x->in_tx_ctx) : e;
}

/* True when password is the current one or one of the kept hashes (0036): the
 * last PB_PASSWORD_HISTORY passwords (PCI DSS v4.0 8.3.7 asks for four for staff;
 * players get the same rule). Each is an argon2id verify, so a change costs up to
 * PB_PASSWORD_HISTORY of them; the per-subject rate limit above bounds that.
 * PB_OK, PASSWORD_REUSED, or INTERNAL when the history cannot be read (nothing is
 * changed then: a check that could not run does not pass). */
static pb_err password_reused(pb_store_conn *c, const pb_login_subject *s, const char *stored,
                              const char *password)
{
    if (pb_password_verify(stored, password))
        return PB_ERR_PASSWORD_REUSED;
    char(*kept)[PB_PASSWORD_HASH_MAX + 1] = calloc(PB_PASSWORD_HISTORY - 1, sizeof *kept);
    size_t n = 0;
    bool reused = false;
    pb_store_rc r = kept ? pb_store_password_history(c, pb_subject_kind_name(s->kind),
                                                     s->kind == PB_SUBJECT_STAFF ? s->staff.id
                                                                                 : s->player.id,
                                                     kept, PB_PASSWORD_HISTORY - 1, &n)
                         : PB_STORE_ERROR;
    pb_err e = pb_id_store_err(c, r, PB_ERR_INTERNAL, "password history");
    for (size_t i = 0; i < n && !reused; i++)
        reused = pb_password_verify(kept[i], password);
    if (kept)
        sodium_memzero(kept, (PB_PASSWORD_HISTORY - 1) * sizeof *kept);
    free(kept);
    return e != PB_OK ? e : reused ? PB_ERR_PASSWORD_REUSED : PB_OK;
}

/* Verifies the old password like a login, then stores the new hash and ends the other sessions. */
pb_err pb_identity_password_change(pb_identity *id, pb_store_conn *c, const pb_principal *p,
                                   const pb_client_info *client, const char *old_password,
                                   const char *new_password, int64_t now, int64_t *retry_after_us,
                                   pb_err (*in_tx)(pb_store_conn *c, void *ctx), void *in_tx_ctx)
{
    pb_auth_tokens *scratch = calloc(1, sizeof *scratch);
    pb_login_subject *s = calloc(1, sizeof *s);
    char hash[PB_PASSWORD_HASH_MAX + 1];
    pb_err e = scratch && s ? PB_OK : PB_ERR_INTERNAL;
    if (e == PB_OK) {
        char key[64];
        snprintf(key, sizeof key, "password:%s:%lld", pb_subject_kind_name(p->kind),
                 (long long)p->subject_id);
        e = pb_ratelimit_take(id->rl_account, key, now, NULL);
    }
    if (e == PB_OK) {
        s->kind = p->kind;
        s->found = true;
        /* a wrong current password counts like a login from there */
        pb_identity_addr_key(client ? client->ip : NULL, s->addr);
        pb_store_rc r = p->kind == PB_SUBJECT_STAFF
                            ? pb_store_staff_get(c, p->subject_id, &s->staff)
                            : pb_store_player_get(c, p->subject_id, &s->player);
        e = pb_id_store_err(c, r, PB_ERR_UNAUTHENTICATED, "password change subject");
    }
    if (e == PB_OK && *locked_of(s) > now) {
        scratch->retry_after_us = *locked_of(s) - now;
        e = PB_ERR_ACCOUNT_LOCKED;
    }
    if (e == PB_OK) /* counted before the verify, as a login's (see the top); a lock on
                       this address refuses it too */
        e = count_attempt(id, c, s, now, scratch);
    const char *stored = s && p->kind == PB_SUBJECT_STAFF ? s->staff.password_hash
                         : s                              ? s->player.password_hash
                                                          : "";
    if (e == PB_OK && !pb_password_verify(stored, old_password ? old_password : ""))
        e = pb_login_counted_failure(id, s, now, PB_ERR_CREDENTIALS_INVALID, scratch);
    if (e == PB_OK)
        e = pb_login_uncount(id, c, s, now); /* the right password: no failure */
    if (e == PB_OK)
        e = pb_password_policy(new_password,
                               p->kind == PB_SUBJECT_STAFF ? s->staff.email : s->player.email);
    if (e == PB_OK)
        e = password_reused(c, s, stored, new_password);
    if (e == PB_OK)
        e = pb_password_hash(new_password, hash);
    if (e == PB_OK) {
        password_ctx x = {.s = s,
                          .hash = hash,
                          .keep_session = p->session_id,
                          .now = now,
                          .in_tx = in_tx,
                          .in_tx_ctx = in_tx_ctx};
        e = pb_id_tx(c, password_tx, &x);
    }
    sodium_memzero(hash, sizeof hash);
    if (retry_after_us)
        *retry_after_us = e == PB_ERR_ACCOUNT_LOCKED && scratch ? scratch->retry_after_us : 0;
    if (s)
        sodium_memzero(s, sizeof *s);
    free(s);
    free(scratch);
    return e;
}

pb_err pb_identity_login_locks(pb_store_conn *c, pb_subject_kind kind, int64_t subject_id,
                               int64_t now, pb_store_login_lock out[PB_LOGIN_LOCKS_SHOWN],
                               size_t *n)
{
    return pb_id_store_err(c,
                           pb_store_login_failure_locks(c, pb_subject_kind_name(kind), subject_id,
                                                        now, out, PB_LOGIN_LOCKS_SHOWN, n),
                           PB_ERR_INTERNAL, "login locks");
}

/* The per-address locks in force can outnumber the few shown: count them all
 * (up to this many; more cannot be in force at once in practice — the account
 * locks after lockout_account_threshold failures from all addresses). */
#define UNLOCK_COUNT_MAX 1024

pb_err pb_identity_login_unlock(pb_store_conn *c, pb_subject_kind kind, int64_t subject_id,
                                int64_t now, pb_login_unlock *out)
{
    *out = (pb_login_unlock){0};
    const char *kn = pb_subject_kind_name(kind);
    pb_err nf = kind == PB_SUBJECT_STAFF ? PB_ERR_STAFF_NOT_FOUND : PB_ERR_PLAYER_NOT_FOUND;
    pb_store_rc r;
    if (kind == PB_SUBJECT_STAFF) {
        pb_store_staff st;
        r = pb_store_staff_get(c, subject_id, &st);
        if (r == PB_STORE_OK) {
            out->failed_logins = st.failed_logins;
            out->account_locked_until = st.locked_until > now ? st.locked_until : 0;
            st.failed_logins = st.locked_until = 0;
            st.updated_at = now;
            r = pb_store_staff_update_login(c, &st);
        }
        sodium_memzero(&st, sizeof st);
    } else {
        pb_store_player pl;
        r = pb_store_player_get(c, subject_id, &pl);
        if (r == PB_STORE_OK) {
            out->failed_logins = pl.failed_logins;
            out->account_locked_until = pl.locked_until > now ? pl.locked_until : 0;
            pl.failed_logins = pl.locked_until = 0;
            pl.updated_at = now;
            r = pb_store_player_update_login(c, &pl);
        }
        sodium_memzero(&pl, sizeof pl);
    }
    pb_err e = pb_id_store_err(c, r, nf, "login unlock");
    if (e != PB_OK)
        return e;
    pb_store_login_lock *locks = malloc(UNLOCK_COUNT_MAX * sizeof *locks);
    if (!locks)
        return PB_ERR_INTERNAL;
    r = pb_store_login_failure_locks(c, kn, subject_id, now, locks, UNLOCK_COUNT_MAX,
                                     &out->address_locks);
    free(locks);
    if (r == PB_STORE_OK)
        r = pb_store_login_failure_clear(c, kn, subject_id);
    return pb_id_store_err(c, r, PB_ERR_INTERNAL, "login unlock");
}
