/*
 * test_players.c — players through the door: registration and each of its
 * validation codes (named field, nothing written), the age boundary on the day
 * of the 18th birthday, email uniqueness per brand; login with the same answer
 * for an unknown email and a wrong password, lockout after 5 failures and
 * unlock after the lock time, rate limits per IP and per account with a
 * retry-after; rehash of an old password hash at login; profile, block and
 * unblock (sessions end); search with filters, scope and cursor pagination.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/time.h"
#include "fixture.h"

#define MIN_US (60LL * 1000000)

typedef struct reg_case {
    const char *brand, *email, *password, *country, *dob, *currency;
    pb_err expect;
    const char *field;
} reg_case;

static void registration_validation(void **state)
{
    ifx *f = *state;
    ifx_brand(f, "closed", "EUR");
    const char *st = "suspended";
    pb_brand_update u = {.status = st};
    pb_brand b;
    ifx_begin(f);
    assert_int_equal(pb_tenancy_brand_by_code(f->conn, "closed", &b), PB_OK);
    assert_int_equal(pb_tenancy_brand_update(f->conn, b.id, &u, f->now, NULL, NULL), PB_OK);
    ifx_commit(f);
    ifx_player(f, "demo", "taken@example.com");
    const char *pw = IFX_PASSWORD;
    reg_case cases[] = {
        {"nope", "a@example.com", pw, "MT", "1990-01-01", NULL, PB_ERR_BRAND_NOT_FOUND, "brand"},
        {"closed", "a@example.com", pw, "MT", "1990-01-01", NULL, PB_ERR_FORBIDDEN, "brand"},
        {"demo", NULL, pw, "MT", "1990-01-01", NULL, PB_ERR_FIELD_MISSING, "email"},
        {"demo", "a@example.com", NULL, "MT", "1990-01-01", NULL, PB_ERR_FIELD_MISSING, "password"},
        {"demo", "a@example.com", pw, NULL, "1990-01-01", NULL, PB_ERR_FIELD_MISSING, "country"},
        {"demo", "a@example.com", pw, "MT", NULL, NULL, PB_ERR_FIELD_MISSING, "date_of_birth"},
        {"demo", "not-an-email", pw, "MT", "1990-01-01", NULL, PB_ERR_FIELD_INVALID, "email"},
        {"demo", "a@localhost", pw, "MT", "1990-01-01", NULL, PB_ERR_FIELD_INVALID, "email"},
        {"demo", "a..b@example.com", pw, "MT", "1990-01-01", NULL, PB_ERR_FIELD_INVALID, "email"},
        {"demo", "a@b@example.com", pw, "MT", "1990-01-01", NULL, PB_ERR_FIELD_INVALID, "email"},
        {"demo", "a@example.com", "short", "MT", "1990-01-01", NULL, PB_ERR_PASSWORD_WEAK,
         "password"},
        {"demo", "a@example.com", "1234567890123", "MT", "1990-01-01", NULL, PB_ERR_PASSWORD_WEAK,
         "password"},
        {"demo", "a@example.com", pw, "XX", "1990-01-01", NULL, PB_ERR_COUNTRY_INVALID, "country"},
        {"demo", "a@example.com", pw, "mt", "1990-01-01", NULL, PB_ERR_COUNTRY_INVALID, "country"},
        {"demo", "a@example.com", pw, "MT", "1990-02-30", NULL, PB_ERR_FIELD_INVALID,
         "date_of_birth"},
        {"demo", "a@example.com", pw, "MT", "17/05/1990", NULL, PB_ERR_FIELD_INVALID,
         "date_of_birth"},
        {"demo", "a@example.com", pw, "MT", "2030-01-01", NULL, PB_ERR_FIELD_INVALID,
         "date_of_birth"},
        {"demo", "a@example.com", pw, "MT", "2015-01-01", NULL, PB_ERR_AGE_RESTRICTED,
         "date_of_birth"},
        {"demo", "a@example.com", pw, "MT", "1990-01-01", "XYZ", PB_ERR_CURRENCY_UNKNOWN,
         "currency"},
        {"demo", "a@example.com", pw, "MT", "1990-01-01", "GBP", PB_ERR_CURRENCY_NOT_ALLOWED,
         "currency"},
        {"demo", "TAKEN@example.com", pw, "MT", "1990-01-01", NULL, PB_ERR_EMAIL_TAKEN, "email"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reg_case *c = &cases[i];
        pb_player_registration reg = {.brand_code = c->brand,
                                      .email = c->email,
                                      .password = c->password,
                                      .country = c->country,
                                      .date_of_birth = c->dob,
                                      .currency = c->currency};
        const char *field = NULL;
        pb_player p;
        pb_err e = pb_identity_player_register(f->id, f->conn, &reg, NULL, f->now, &p, &field);
        if (e != c->expect || !field || strcmp(field, c->field) != 0)
            fail_msg("case %zu: got %s in %s, want %s in %s", i, pb_err_code(e),
                     field ? field : "-", pb_err_code(c->expect), c->field);
    }
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM player"), 1); /* nothing written */
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM player_pii"), 1);
}

static void registration_stores_what_it_should(void **state)
{
    ifx *f = *state;
    pb_player_registration reg = {.brand_code = "demo",
                                  .email = "Mixed.Case@Example.COM",
                                  .password = IFX_PASSWORD,
                                  .country = "DE",
                                  .date_of_birth = "1985-12-31",
                                  .currency = "USD"};
    pb_player p;
    assert_int_equal(pb_identity_player_register(f->id, f->conn, &reg, NULL, f->now, &p, NULL),
                     PB_OK);
    assert_string_equal(p.email, "mixed.case@example.com");
    assert_string_equal(p.currency, "USD");
    assert_int_equal(p.status, PB_PLAYER_ACTIVE);
    pb_id id;
    assert_int_equal(pb_id_parse(p.public_id, strlen(p.public_id), &id), 0);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM player WHERE password_hash LIKE "
                                  "'$argon2id$%'"),
                     1);
    /* the default currency when none is given; the same email in another brand is fine */
    ifx_brand(f, "other", "EUR");
    reg.brand_code = "other";
    reg.currency = NULL;
    assert_int_equal(pb_identity_player_register(f->id, f->conn, &reg, NULL, f->now, &p, NULL),
                     PB_OK);
    assert_string_equal(p.currency, "EUR");
}

static void age_boundary(void **state)
{
    ifx *f = *state; /* today is 2026-11-18 (UTC) */
    pb_player_registration reg = {.brand_code = "demo",
                                  .email = "teen@example.com",
                                  .password = IFX_PASSWORD,
                                  .country = "MT",
                                  .date_of_birth = "2008-11-19"};
    const char *field;
    assert_int_equal(pb_identity_player_register(f->id, f->conn, &reg, NULL, f->now, NULL, &field),
                     PB_ERR_AGE_RESTRICTED);
    reg.date_of_birth = "2008-11-18"; /* 18 today */
    assert_int_equal(pb_identity_player_register(f->id, f->conn, &reg, NULL, f->now, NULL, &field),
                     PB_OK);
    /* the day boundary is UTC midnight */
    int64_t midnight = 1795046400000000; /* 2026-11-19T00:00:00Z */
    reg.email = "teen2@example.com";
    reg.date_of_birth = "2008-11-19";
    assert_int_equal(pb_identity_player_register(f->id, f->conn, &reg, NULL, midnight - 1, NULL,
                                                 &field),
                     PB_ERR_AGE_RESTRICTED);
    assert_int_equal(pb_identity_player_register(f->id, f->conn, &reg, NULL, midnight, NULL,
                                                 &field),
                     PB_OK);
    /* 29 February: of age on 1 March in a common year */
    reg.email = "leap@example.com";
    reg.date_of_birth = "2008-02-29";
    int64_t feb28_2026 = 1772236800000000, mar1_2026 = 1772323200000000;
    assert_int_equal(pb_identity_player_register(f->id, f->conn, &reg, NULL, feb28_2026, NULL,
                                                 &field),
                     PB_ERR_AGE_RESTRICTED);
    assert_int_equal(pb_identity_player_register(f->id, f->conn, &reg, NULL, mar1_2026, NULL,
                                                 &field),
                     PB_OK);
}

static void login_answers(void **state)
{
    ifx *f = *state;
    ifx_player(f, "demo", "pat@example.com");
    pb_auth_tokens t;
    assert_int_equal(ifx_login(f, "pat@example.com", "wrong password!", &t),
                     PB_ERR_CREDENTIALS_INVALID);
    assert_int_equal(ifx_login(f, "nobody@example.com", IFX_PASSWORD, &t),
                     PB_ERR_CREDENTIALS_INVALID);
    assert_int_equal(ifx_login(f, "not an email", IFX_PASSWORD, &t), PB_ERR_CREDENTIALS_INVALID);
    assert_string_equal(t.access_token, "");
    /* an unknown email costs a full argon2id verification, like a known one */
    int64_t a = pb_time_mono_us();
    assert_int_equal(ifx_login(f, "nobody@example.com", IFX_PASSWORD, &t),
                     PB_ERR_CREDENTIALS_INVALID);
    int64_t unknown = pb_time_mono_us() - a;
    a = pb_time_mono_us();
    assert_int_equal(ifx_login(f, "pat@example.com", "wrong password!", &t),
                     PB_ERR_CREDENTIALS_INVALID);
    int64_t known = pb_time_mono_us() - a;
    assert_true(unknown * 4 > known); /* both are dominated by one argon2id run */
    /* the brand is part of the identity */
    pb_login_request req = {.brand_code = "nope",
                            .email = "pat@example.com",
                            .password = IFX_PASSWORD};
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, NULL, f->now, &t),
                     PB_ERR_BRAND_NOT_FOUND);
    assert_int_equal(ifx_login(f, "PAT@example.com", NULL, &t), PB_OK);
}

static void lockout_and_unlock(void **state)
{
    ifx *f = *state;
    pb_player p = ifx_player(f, "demo", "sam@example.com");
    pb_auth_tokens t;
    for (int i = 1; i <= 4; i++)
        assert_int_equal(ifx_login(f, "sam@example.com", "wrong password!", &t),
                         PB_ERR_CREDENTIALS_INVALID);
    /* the 5th consecutive failure locks */
    assert_int_equal(ifx_login(f, "sam@example.com", "wrong password!", &t), PB_ERR_ACCOUNT_LOCKED);
    assert_int_equal(t.retry_after_us, 15 * MIN_US);
    /* locked: even the right password is refused, with the time left */
    f->now += 5 * MIN_US;
    assert_int_equal(ifx_login(f, "sam@example.com", NULL, &t), PB_ERR_ACCOUNT_LOCKED);
    assert_int_equal(t.retry_after_us, 10 * MIN_US);
    pb_player seen;
    assert_int_equal(pb_identity_player_get(f->conn, NULL, p.public_id, &seen), PB_OK);
    /* the lock is this client address's (login.c); the account's global one is not set */
    assert_int_equal(ifx_count(f, "SELECT locked_until FROM login_failure WHERE "
                                  "subject_kind='player' AND addr=''"),
                     IFX_T0 + 15 * MIN_US);
    assert_int_equal(seen.locked_until, 0);
    /* after the lock time the right password works and resets the count */
    f->now = IFX_T0 + 15 * MIN_US;
    assert_int_equal(ifx_login(f, "sam@example.com", NULL, &t), PB_OK);
    assert_int_equal(ifx_count(f, "SELECT failed_logins + locked_until FROM player"), 0);
    /* a success in between resets the run: 4 failures, a success, 4 failures: no lock */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 4; i++)
            assert_int_equal(ifx_login(f, "sam@example.com", "wrong password!", &t),
                             PB_ERR_CREDENTIALS_INVALID);
        if (round == 0)
            assert_int_equal(ifx_login(f, "sam@example.com", NULL, &t), PB_OK);
        f->now += 2 * MIN_US; /* stay under the per-account rate limit */
    }
    assert_int_equal(ifx_login(f, "sam@example.com", NULL, &t), PB_OK);
}

enum { GUESSERS = 10 }; /* the per-account burst: all of them pass the rate limit */

typedef struct guesser {
    ifx *f;
    pthread_barrier_t *start;
    pb_err result;
} guesser;

static void *guess(void *arg)
{
    guesser *g = arg;
    char err[256];
    pb_store_conn *c = pb_store_connect(g->f->store, err, sizeof err);
    pb_login_request req = {.brand_code = "demo",
                            .email = "race@example.com",
                            .password = "wrong password!"};
    pb_auth_tokens t;
    pthread_barrier_wait(g->start);
    g->result = c ? pb_identity_player_login(g->f->id, c, &req, NULL, g->f->now, &t)
                  : PB_ERR_INTERNAL;
    pb_store_disconnect(c);
    return NULL;
}

/* Ten wrong passwords at once (the per-account burst) are not ten guesses: the
 * attempt is counted before its password is verified, in one transaction that
 * also sets the lock at the 5th, so exactly 5 are verified (4 CREDENTIALS_INVALID,
 * the 5th ACCOUNT_LOCKED) and the other 5 are refused ACCOUNT_LOCKED unverified.
 * Counting after the verify let every guess in flight pass the lock check. The
 * player's hash is made costlier than the suite's (~10 ms) so the guesses overlap. */
static void concurrent_wrong_passwords_stop_at_the_threshold(void **state)
{
    ifx *f = *state;
    pb_player p = ifx_player(f, "demo", "race@example.com");
    char hash[crypto_pwhash_STRBYTES], sql[512];
    assert_int_equal(crypto_pwhash_str(hash, IFX_PASSWORD, strlen(IFX_PASSWORD), 4, 8u << 20), 0);
    snprintf(sql, sizeof sql, "UPDATE player SET password_hash='%s' WHERE public_id='%s'", hash,
             p.public_id);
    assert_int_equal(pb_store_exec_raw(f->conn, sql), PB_STORE_OK);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, GUESSERS);
    guesser g[GUESSERS];
    pthread_t th[GUESSERS];
    for (int i = 0; i < GUESSERS; i++) {
        g[i] = (guesser){.f = f, .start = &start};
        assert_int_equal(pthread_create(&th[i], NULL, guess, &g[i]), 0);
    }
    int invalid = 0, locked = 0;
    for (int i = 0; i < GUESSERS; i++) {
        pthread_join(th[i], NULL);
        invalid += g[i].result == PB_ERR_CREDENTIALS_INVALID;
        locked += g[i].result == PB_ERR_ACCOUNT_LOCKED;
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(invalid, 4);
    assert_int_equal(locked, GUESSERS - 4);
    /* failed_logins counts the guesses that were verified: never past the threshold */
    assert_int_equal(ifx_count(f, "SELECT failed_logins FROM player"), 5);
    assert_int_equal(ifx_count(f, "SELECT failed FROM login_failure"), 5);
    assert_int_equal(ifx_count(f, "SELECT locked_until FROM login_failure"), IFX_T0 + 15 * MIN_US);
    pb_auth_tokens t;
    f->now += MIN_US; /* the burst is spent: past the per-account rate limit */
    assert_int_equal(ifx_login(f, "race@example.com", NULL, &t), PB_ERR_ACCOUNT_LOCKED);
}

/* The attempt counted before the verify is given back when the password was
 * right but the login goes no further (a blocked player): it is no failure. */
static void right_password_refused_otherwise_is_not_a_failure(void **state)
{
    ifx *f = *state;
    pb_player p = ifx_player(f, "demo", "kim@example.com");
    pb_auth_tokens t;
    for (int i = 0; i < 3; i++)
        assert_int_equal(ifx_login(f, "kim@example.com", "wrong password!", &t),
                         PB_ERR_CREDENTIALS_INVALID);
    assert_int_equal(pb_identity_player_block(f->conn, NULL, p.public_id, "review", f->now), PB_OK);
    f->now += 2 * MIN_US; /* under the per-account rate limit */
    for (int i = 0; i < 3; i++)
        assert_int_equal(ifx_login(f, "kim@example.com", NULL, &t), PB_ERR_PLAYER_BLOCKED);
    assert_int_equal(ifx_count(f, "SELECT failed_logins FROM player"), 3);
    assert_int_equal(ifx_count(f, "SELECT locked_until FROM player"), 0);
}

static void rate_limits(void **state)
{
    ifx *f = *state;
    ifx_reconfigure(f, (pb_identity_config){.ip_burst = 3,
                                            .ip_interval_ms = 2000,
                                            .account_burst = 2,
                                            .account_interval_ms = 10000});
    ifx_player(f, "demo", "rae@example.com");
    pb_auth_tokens t;
    pb_login_request req = {.brand_code = "demo",
                            .email = "nobody@example.com",
                            .password = IFX_PASSWORD};
    pb_client_info ip1 = {.ip = "198.51.100.1"}, ip2 = {.ip = "198.51.100.2"};
    /* per IP: a burst of 3, then RATE_LIMITED with the wait, then one more per 2 s */
    for (int i = 0; i < 3; i++) {
        req.email = i == 0 ? "a@example.com" : i == 1 ? "b@example.com" : "c@example.com";
        assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &ip1, f->now, &t),
                         PB_ERR_CREDENTIALS_INVALID);
    }
    req.email = "d@example.com";
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &ip1, f->now, &t),
                     PB_ERR_RATE_LIMITED);
    assert_int_equal(t.retry_after_us, 2000000);
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &ip1, f->now + 1999999, &t),
                     PB_ERR_RATE_LIMITED);
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &ip1, f->now + 2000000, &t),
                     PB_ERR_CREDENTIALS_INVALID);
    /* per account, across IPs: a burst of 2 */
    req.email = "rae@example.com";
    req.password = IFX_PASSWORD;
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &ip2, f->now, &t), PB_OK);
    pb_client_info ip3 = {.ip = "198.51.100.3"}, ip4 = {.ip = "198.51.100.4"};
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &ip3, f->now, &t), PB_OK);
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &ip4, f->now, &t),
                     PB_ERR_RATE_LIMITED);
    assert_int_equal(t.retry_after_us, 10000000);
    assert_string_equal(t.access_token, "");
    /* registration counts against the IP too */
    pb_player_registration reg = {.brand_code = "demo",
                                  .email = "new@example.com",
                                  .password = IFX_PASSWORD,
                                  .country = "MT",
                                  .date_of_birth = "1990-01-01"};
    assert_int_equal(pb_identity_player_register(f->id, f->conn, &reg, &ip1, f->now + 2000000, NULL,
                                                 NULL),
                     PB_ERR_RATE_LIMITED);
}

/* The per-IP bucket counts an IPv6 client by its /64, as the lockout does: one
 * host usually holds a whole /64, and a bucket per address would give it 2^64
 * fresh bursts (a password spray from one host, unlimited). */
static void rate_limit_ipv6_by_64(void **state)
{
    ifx *f = *state;
    ifx_reconfigure(f, (pb_identity_config){.ip_burst = 2, .ip_interval_ms = 2000});
    pb_auth_tokens t;
    pb_login_request req = {.brand_code = "demo", .password = IFX_PASSWORD};
    pb_client_info a1 = {.ip = "2001:db8:1:2::1"}, a2 = {.ip = "2001:db8:1:2:ffff::9"},
                   a3 = {.ip = "2001:db8:1:2:abcd:1:2:3"}, other = {.ip = "2001:db8:1:3::1"};
    req.email = "a@example.com";
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &a1, f->now, &t),
                     PB_ERR_CREDENTIALS_INVALID);
    req.email = "b@example.com";
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &a2, f->now, &t),
                     PB_ERR_CREDENTIALS_INVALID);
    req.email = "c@example.com"; /* a third address of the same /64: the same bucket */
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &a3, f->now, &t),
                     PB_ERR_RATE_LIMITED);
    assert_int_equal(t.retry_after_us, 2000000);
    pb_player_registration reg = {.brand_code = "demo",
                                  .email = "new6@example.com",
                                  .password = IFX_PASSWORD,
                                  .country = "MT",
                                  .date_of_birth = "1990-01-01"};
    assert_int_equal(pb_identity_player_register(f->id, f->conn, &reg, &a3, f->now, NULL, NULL),
                     PB_ERR_RATE_LIMITED);
    /* another /64 has its own bucket */
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &other, f->now, &t),
                     PB_ERR_CREDENTIALS_INVALID);
    /* an IPv4 client keeps its own address */
    pb_client_info v4a = {.ip = "198.51.100.7"}, v4b = {.ip = "198.51.100.8"};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &v4a, f->now, &t),
                         PB_ERR_CREDENTIALS_INVALID);
    assert_int_equal(pb_identity_player_login(f->id, f->conn, &req, &v4b, f->now, &t),
                     PB_ERR_CREDENTIALS_INVALID);
}

/* The exported key (the API's registration limit uses it): IPv6 by /64, the rest
 * as it is, '' when unknown. */
static void addr_key_groups_ipv6_by_64(void **state)
{
    (void)state;
    char a[PB_IP_MAX + 1], b[PB_IP_MAX + 1];
    pb_identity_addr_key("2001:db8:1:2::1", a);
    assert_string_equal(a, "2001:db8:1:2::/64");
    pb_identity_addr_key("2001:DB8:1:2:abcd:1:2:3", b);
    assert_string_equal(a, b);
    pb_identity_addr_key("2001:db8:1:3::1", b);
    assert_string_equal(b, "2001:db8:1:3::/64");
    pb_identity_addr_key("198.51.100.7", a);
    assert_string_equal(a, "198.51.100.7");
    pb_identity_addr_key("198.51.100.8", b);
    assert_string_equal(b, "198.51.100.8");
    const char *unknown[] = {NULL, "", "-"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(a, sizeof a, "x");
        pb_identity_addr_key(unknown[i], a);
        assert_string_equal(a, "");
    }
}

/* Stores p's password (IFX_PASSWORD) hashed at the lowest cost: a login upgrades it. */
static void weaken_hash(ifx *f, const pb_player *p)
{
    char weak[crypto_pwhash_STRBYTES], sql[400];
    assert_int_equal(crypto_pwhash_str(weak, IFX_PASSWORD, strlen(IFX_PASSWORD),
                                       crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN),
                     0);
    snprintf(sql, sizeof sql, "UPDATE player SET password_hash='%s' WHERE public_id='%s'", weak,
             p->public_id);
    assert_int_equal(pb_store_exec_raw(f->conn, sql), PB_STORE_OK);
}

static void old_hashes_are_upgraded(void **state)
{
    ifx *f = *state;
    pb_player p = ifx_player(f, "demo", "old@example.com");
    weaken_hash(f, &p);
    pb_auth_tokens t;
    assert_int_equal(ifx_login(f, "old@example.com", NULL, &t), PB_OK);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM player WHERE password_hash LIKE "
                                  "'$argon2id$v=19$m=65536,t=2,p=1$%'"),
                     1);
    assert_int_equal(ifx_login(f, "old@example.com", NULL, &t), PB_OK);
}

/* A login that upgrades an old hash read the row before its (slow) hashing: a
 * password change committed meanwhile must stay, not be replaced by a hash of
 * the password the login was given; and the login, decided on the old
 * password, opens no session (CREDENTIALS_INVALID, as a wrong password). */
static void upgrade_keeps_a_password_changed_meanwhile(void **state)
{
    ifx *f = *state;
    pb_player p = ifx_player(f, "demo", "race@example.com");
    weaken_hash(f, &p);
    /* the login has read the row, verified the password and hashed it anew */
    pb_login_subject subj = {.kind = PB_SUBJECT_PLAYER, .found = true};
    assert_int_equal(pb_store_player_by_email(f->conn, f->demo.id, "race@example.com",
                                              &subj.player),
                     PB_STORE_OK);
    assert_true(pb_password_needs_rehash(subj.player.password_hash));
    char upgraded[PB_PASSWORD_HASH_MAX + 1], changed[PB_PASSWORD_HASH_MAX + 1];
    assert_int_equal(pb_password_hash(IFX_PASSWORD, upgraded), PB_OK);
    /* meanwhile the password is changed */
    const char *fresh = "a quite different passphrase 7";
    assert_int_equal(pb_password_hash(fresh, changed), PB_OK);
    assert_int_equal(pb_store_player_set_password(f->conn, subj.player.id, changed, f->now),
                     PB_STORE_OK);
    pb_session_open so = {
        .subject = &subj, .brand_code = "demo", .scope = PB_SCOPE_FULL, .new_hash = upgraded};
    pb_client_info ci = {.ip = NULL, .user_agent = "test-agent/1.0"};
    pb_auth_tokens t;
    int64_t sessions = ifx_count(f, "SELECT count(*) FROM auth_session");
    assert_int_equal(pb_session_open_tx(f->id, f->conn, &so, &ci, f->now, &t),
                     PB_ERR_CREDENTIALS_INVALID);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM auth_session"), sessions);
    /* the change stays: the new password logs in, the old one no longer does */
    assert_int_equal(ifx_login(f, "race@example.com", fresh, &t), PB_OK);
    assert_int_equal(ifx_login(f, "race@example.com", NULL, &t), PB_ERR_CREDENTIALS_INVALID);
}

static void block_and_unblock(void **state)
{
    ifx *f = *state;
    pb_player p = ifx_player(f, "demo", "ray@example.com");
    pb_auth_tokens t, x;
    assert_int_equal(ifx_login(f, "ray@example.com", NULL, &t), PB_OK);
    ifx_begin(f);
    assert_int_equal(pb_identity_player_block(f->conn, NULL, p.public_id, "", f->now),
                     PB_ERR_FIELD_INVALID);
    assert_int_equal(pb_identity_player_block(f->conn, NULL, p.public_id, "chargeback", f->now),
                     PB_OK);
    ifx_commit(f);
    pb_player seen;
    assert_int_equal(pb_identity_player_get(f->conn, NULL, p.public_id, &seen), PB_OK);
    assert_int_equal(seen.status, PB_PLAYER_BLOCKED);
    assert_string_equal(seen.block_reason, "chargeback");
    pb_principal pr;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, t.access_token,
                                              f->now, &pr),
                     PB_ERR_SESSION_REVOKED);
    assert_int_equal(pb_identity_refresh(f->id, f->conn, PB_SUBJECT_PLAYER, t.refresh_token, NULL,
                                         f->now, &x),
                     PB_ERR_SESSION_REVOKED);
    assert_int_equal(ifx_login(f, "ray@example.com", NULL, &x), PB_ERR_PLAYER_BLOCKED);
    assert_int_equal(ifx_login(f, "ray@example.com", "wrong password!", &x),
                     PB_ERR_CREDENTIALS_INVALID); /* no status for a wrong password */
    ifx_begin(f);
    assert_int_equal(pb_identity_player_unblock(f->conn, NULL, p.public_id, f->now), PB_OK);
    ifx_commit(f);
    assert_int_equal(ifx_login(f, "ray@example.com", NULL, &x), PB_OK);
    /* a self-excluded player is not support's to block or unblock */
    assert_int_equal(pb_store_exec_raw(f->conn, "UPDATE player SET status='self_excluded'"),
                     PB_STORE_OK);
    assert_int_equal(pb_identity_player_unblock(f->conn, NULL, p.public_id, f->now),
                     PB_ERR_FORBIDDEN);
    assert_int_equal(pb_identity_player_block(f->conn, NULL, p.public_id, "x", f->now),
                     PB_ERR_FORBIDDEN);
    assert_int_equal(pb_identity_player_get(f->conn, NULL, "nope", &seen), PB_ERR_PLAYER_NOT_FOUND);
}

/* pb_identity_player_find with its scope checks: the hits, at most cap. */
static size_t find(ifx *f, const pb_brand_scope *scope, pb_store_player_find_query q,
                   pb_store_player_hit *out, size_t cap, pb_err want)
{
    char lower[2][PB_EMAIL_MAX + 1];
    const char *bad = NULL;
    size_t n = 0;
    assert_int_equal(pb_identity_player_find(f->conn, scope, &q, out, cap, &n, lower, &bad), want);
    return n;
}

static void search(void **state)
{
    ifx *f = *state;
    pb_brand other = ifx_brand(f, "other", "EUR");
    char email[64];
    for (int i = 0; i < 7; i++) {
        snprintf(email, sizeof email, "%s%d@example.com", i % 2 ? "odd" : "even", i);
        ifx_player(f, "demo", email);
        f->now += MIN_US;
    }
    ifx_player(f, "other", "odd99@example.com");
    pb_store_player_hit out[10];
    pb_player seen;
    /* unscoped: every brand; the prefix is case-insensitive */
    assert_int_equal(find(f, NULL, (pb_store_player_find_query){.email_prefix = "ODD"}, out, 10,
                          PB_OK),
                     4);
    /* a scope of the demo brand only */
    pb_brand_scope scope = {.n = 1, .brand_ids = {f->demo.id}};
    size_t n = find(f, &scope, (pb_store_player_find_query){.email_prefix = "ODD"}, out, 10, PB_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pb_identity_player_get(f->conn, &scope, out[i].public_id, &seen), PB_OK);
        assert_int_equal(seen.brand_id, f->demo.id);
    }
    find(f, &scope, (pb_store_player_find_query){.brand_id = other.id}, out, 10,
         PB_ERR_BRAND_FORBIDDEN);
    /* keyset pages of 3, newest first (the default order: registration, descending) */
    int64_t seen_ids[10];
    size_t total = 0;
    pb_store_player_find_query q = {0};
    for (;;) {
        n = find(f, &scope, q, out, 3, PB_OK);
        for (size_t i = 0; i < n; i++) {
            if (total)
                assert_true(out[i].id < seen_ids[total - 1]);
            seen_ids[total++] = out[i].id;
        }
        if (n < 3)
            break;
        q.has_cursor = true;
        q.cursor_int = out[n - 1].key_int;
        q.cursor_id = out[n - 1].id;
    }
    assert_int_equal(total, 7);
    /* time range and status filters */
    assert_int_equal(find(f, &scope,
                          (pb_store_player_find_query){.created_from = IFX_T0 + 2 * MIN_US,
                                                       .created_to = IFX_T0 + 4 * MIN_US},
                          out, 10, PB_OK),
                     2);
    assert_int_equal(find(f, &scope, (pb_store_player_find_query){.status = "blocked"}, out, 10,
                          PB_OK),
                     0);
    assert_int_equal(find(f, &scope, (pb_store_player_find_query){.country = "MT"}, out, 10, PB_OK),
                     7);
    /* malformed filters name the field */
    char lower[2][PB_EMAIL_MAX + 1];
    const char *field = NULL;
    q = (pb_store_player_find_query){.status = "sleeping"};
    assert_int_equal(pb_identity_player_find(f->conn, &scope, &q, out, 10, &n, lower, &field),
                     PB_ERR_FIELD_INVALID);
    assert_string_equal(field, "status");
    q = (pb_store_player_find_query){.country = "XX1"};
    assert_int_equal(pb_identity_player_find(f->conn, &scope, &q, out, 10, &n, lower, &field),
                     PB_ERR_FIELD_INVALID);
    assert_string_equal(field, "country");
    /* an empty scope sees nobody; a player outside the scope is not found */
    pb_brand_scope none = {0};
    assert_int_equal(find(f, &none, (pb_store_player_find_query){0}, out, 10, PB_OK), 0);
    assert_int_equal(find(f, NULL, (pb_store_player_find_query){.email_prefix = "odd99"}, out, 10,
                          PB_OK),
                     1);
    assert_int_equal(pb_identity_player_get(f->conn, &scope, out[0].public_id, &seen),
                     PB_ERR_PLAYER_NOT_FOUND);
    assert_int_equal(pb_identity_player_block(f->conn, &scope, out[0].public_id, "x", f->now),
                     PB_ERR_PLAYER_NOT_FOUND);
}

/* Who erases in the tests below (a compliance officer). */
static const pb_identity_erase_actor BY = {
    .kind = "staff", .id = "staff-1", .role = "compliance", .reason = "GDPR request 1"};

/* The erasure's preconditions are the domain's own: called directly (no route in
 * front of it), pb_identity_player_erase refuses, writes nothing, and says until
 * when for RETENTION_PERIOD; once nothing stands in the way, it erases. */
static void erase_refuses_by_itself(void **state)
{
    ifx *f = *state;
    pb_player p = ifx_player(f, "demo", "gdpr@example.com");
    pb_player out;
    pb_identity_erase_refusal why;
    const char *still = "SELECT count(*) FROM player WHERE erased_at=0 AND status='active'";
    /* registered just now: the default five years (1826 days) from registration */
    ifx_begin(f);
    assert_int_equal(pb_identity_player_erase(f->conn, NULL, p.public_id, &BY, f->now, &out, &why),
                     PB_ERR_RETENTION_PERIOD);
    ifx_commit(f);
    assert_int_equal(why.retention_days, PB_IDENTITY_ERASE_AFTER_DAYS);
    assert_true(why.erasable_from == p.created_at + 1826LL * 86400 * 1000000);
    assert_int_equal(ifx_count(f, still), 1);
    assert_int_equal(pb_store_exec_raw(f->conn, "UPDATE brand SET settings="
                                                "'{\"erase_after_days\":0}' WHERE code='demo'"),
                     PB_STORE_OK);
    /* money on an account (any kind, any currency: USD is not the player's) */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO ledger_account(id,brand,owner,kind,currency,flags,created_at) "
             "VALUES(900,'demo','player:%s','player_cash','USD',0,1);"
             "INSERT INTO ledger_balance(account_id,credits_posted) VALUES(900,150)",
             p.public_id);
    assert_int_equal(pb_store_exec_raw(f->conn, sql), PB_STORE_OK);
    ifx_begin(f);
    assert_int_equal(pb_identity_player_erase(f->conn, NULL, p.public_id, &BY, f->now, &out, NULL),
                     PB_ERR_PLAYER_HAS_FUNDS);
    ifx_commit(f);
    assert_int_equal(ifx_count(f, still), 1);
    /* paid out: a provider bet of the player still open (no win, no rollback, round open) */
    snprintf(sql, sizeof sql,
             "UPDATE ledger_balance SET debits_posted=150 WHERE account_id=900;"
             "INSERT INTO wallet_op(provider,tx_id,kind,request_hash,brand,player,currency,"
             "round_id,game,amount,result,cash_part,bonus_part,cash_after,bonus_after,"
             "held_after,response_status,response,created_at) VALUES('native','b1',1,x'00',"
             "'demo','%s','EUR','r1','g',100,'OK',100,0,0,0,0,200,x'',%lld)",
             p.public_id, (long long)f->now);
    assert_int_equal(pb_store_exec_raw(f->conn, sql), PB_STORE_OK);
    ifx_begin(f);
    assert_int_equal(pb_identity_player_erase(f->conn, NULL, p.public_id, &BY, f->now, &out, NULL),
                     PB_ERR_PLAYER_HAS_OPEN_BETS);
    ifx_commit(f);
    assert_int_equal(ifx_count(f, still), 1);
    /* another player's round of the same id settled: still this player's open bet */
    assert_int_equal(pb_store_exec_raw(f->conn, "INSERT INTO wallet_round(provider,round_id,"
                                                "player,has_win,created_at,updated_at) "
                                                "VALUES('native','r1','someone-else',1,1,1)"),
                     PB_STORE_OK);
    ifx_begin(f);
    assert_int_equal(pb_identity_player_erase(f->conn, NULL, p.public_id, &BY, f->now, &out, NULL),
                     PB_ERR_PLAYER_HAS_OPEN_BETS);
    ifx_commit(f);
    /* the win came: the round has a win but is open (more wins may follow) */
    snprintf(sql, sizeof sql,
             "INSERT INTO wallet_round(provider,round_id,player,has_win,created_at,updated_at) "
             "VALUES('native','r1','%s',1,1,1)",
             p.public_id);
    assert_int_equal(pb_store_exec_raw(f->conn, sql), PB_STORE_OK);
    ifx_begin(f);
    assert_int_equal(pb_identity_player_erase(f->conn, NULL, p.public_id, &BY, f->now, &out, NULL),
                     PB_ERR_PLAYER_HAS_OPEN_BETS);
    ifx_commit(f);
    /* the provider closed it: nothing stands in the way */
    snprintf(sql, sizeof sql,
             "UPDATE wallet_round SET closed=1 WHERE provider='native' AND round_id='r1' "
             "AND player='%s'",
             p.public_id);
    assert_int_equal(pb_store_exec_raw(f->conn, sql), PB_STORE_OK);
    ifx_begin(f);
    assert_int_equal(pb_identity_player_erase(f->conn, NULL, p.public_id, &BY, f->now, &out, NULL),
                     PB_OK);
    ifx_commit(f);
    assert_int_equal(out.status, PB_PLAYER_CLOSED);
    assert_true(out.erased_at == f->now);
    assert_int_equal(ifx_count(f, still), 0);
    ifx_begin(f);
    assert_int_equal(pb_identity_player_erase(f->conn, NULL, p.public_id, &BY, f->now, &out, NULL),
                     PB_ERR_PLAYER_ERASED);
    ifx_commit(f);
}

/* A player's new password may not be any of the last PB_PASSWORD_HISTORY either
 * (the staff rule, PCI DSS v4.0 8.3.7, applied to players). */
static void password_history(void **state)
{
    ifx *f = *state;
    ifx_player(f, "demo", "hist@example.com");
    pb_auth_tokens t;
    assert_int_equal(ifx_login(f, "hist@example.com", NULL, &t), PB_OK);
    pb_principal p;
    assert_int_equal(pb_identity_authenticate(f->id, f->conn, PB_SUBJECT_PLAYER, t.access_token,
                                              f->now, &p),
                     PB_OK);
    assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, NULL, IFX_PASSWORD,
                                                 "a brand new passphrase", f->now, NULL, NULL,
                                                 NULL),
                     PB_OK);
    /* the one it replaced: refused, nothing written */
    assert_int_equal(pb_identity_password_change(f->id, f->conn, &p, NULL, "a brand new passphrase",
                                                 IFX_PASSWORD, f->now, NULL, NULL, NULL),
                     PB_ERR_PASSWORD_REUSED);
    assert_int_equal(ifx_login(f, "hist@example.com", "a brand new passphrase", &t), PB_OK);
    assert_int_equal(ifx_count(f, "SELECT count(*) FROM password_history WHERE "
                                  "subject_kind='player' AND password_hash LIKE '$argon2id$%'"),
                     1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, ifx_setup, ifx_teardown)
    const struct CMUnitTest tests[] = {
        T(registration_validation),
        T(registration_stores_what_it_should),
        T(age_boundary),
        T(login_answers),
        T(lockout_and_unlock),
        T(concurrent_wrong_passwords_stop_at_the_threshold),
        T(right_password_refused_otherwise_is_not_a_failure),
        T(rate_limits),
        T(rate_limit_ipv6_by_64),
        cmocka_unit_test(addr_key_groups_ipv6_by_64),
        T(old_hashes_are_upgraded),
        T(upgrade_keeps_a_password_changed_meanwhile),
        T(block_and_unblock),
        T(search),
        T(erase_refuses_by_itself),
        T(password_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
