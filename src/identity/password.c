/*
 * password.c — password policy, argon2id hashing and verification.
 *
 * Hashes are libsodium's crypto_pwhash_str strings (argon2id), which carry their
 * own parameters and salt. New hashes use the cost PITBOSS_PWHASH_COST names:
 * libsodium's INTERACTIVE limits by default (~100 ms and 64 MiB each),
 * "moderate" or "sensitive" for more, or "min" (libsodium's minimum: the same
 * argon2id code path in well under a millisecond) for test suites, which log in
 * hundreds of times — it is logged as a warning, and never for production.
 * pb_password_needs_rehash() tells a login to upgrade a hash WEAKER than the cost
 * in force; a stronger one is kept (a lower setting never downgrades hashes). The policy follows NIST SP 800-63B: length over
 * composition rules, plus a refusal of the obviously guessable.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "identity/identity_internal.h"

/* Passwords from the top of public breach lists that pass the length rule. */
static const char *const COMMON[] = {
    "password123",   "password1234", "qwertyuiop",  "qwertyuiop1", "1q2w3e4r5t",  "1qaz2wsx3edc",
    "iloveyou123",   "passw0rd123",  "abcdefghij",  "abcd1234567", "letmein1234", "welcome123",
    "administrator", "qwerty12345",  "asdfghjkl1",  "zxcvbnm123",  "password!!",  "football123",
    "monkey12345",   "sunshine123",  "princess123", "changeme123", "trustno1234",
};

/* Counts UTF-8 code points; -1 when s is not valid UTF-8 or holds control characters. */
static long utf8_chars(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    long count = 0;
    while (p < end) {
        unsigned c = *p;
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
        if (len == 0 || (size_t)(end - p) < len || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4))
            return -1;
        if (len == 1 && (c < 0x20 || c == 0x7F))
            return -1;
        for (size_t i = 1; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                return -1;
        if (len == 3 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)))
            return -1;
        if (len == 4 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)))
            return -1;
        p += len;
        count++;
    }
    return count;
}

/* Case-insensitive (ASCII) substring search. */
static bool contains_ci(const char *hay, const char *needle, size_t nlen)
{
    size_t hlen = strlen(hay);
    for (size_t i = 0; nlen && i + nlen <= hlen; i++) {
        size_t j = 0;
        while (j < nlen && tolower((unsigned char)hay[i + j]) == tolower((unsigned char)needle[j]))
            j++;
        if (j == nlen)
            return true;
    }
    return false;
}

/* The checks listed in identity_internal.h, cheapest first. */
pb_err pb_password_policy(const char *password, const char *email)
{
    if (!password)
        return PB_ERR_PASSWORD_WEAK;
    size_t n = strlen(password);
    if (n > PB_PASSWORD_MAX_BYTES)
        return PB_ERR_PASSWORD_WEAK;
    long chars = utf8_chars(password, n);
    if (chars < PB_PASSWORD_MIN_CHARS)
        return PB_ERR_PASSWORD_WEAK;
    bool all_digits = true;
    unsigned char seen[256] = {0};
    int distinct = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)password[i];
        if (c < '0' || c > '9')
            all_digits = false;
        if (!seen[c]++)
            distinct++;
    }
    if (all_digits || distinct < 4)
        return PB_ERR_PASSWORD_WEAK;
    for (size_t i = 0; i < sizeof COMMON / sizeof COMMON[0]; i++)
        if (strlen(COMMON[i]) == n && contains_ci(password, COMMON[i], n))
            return PB_ERR_PASSWORD_WEAK;
    if (email) {
        const char *at = strchr(email, '@');
        size_t local = at ? (size_t)(at - email) : 0;
        if (local >= 4 && contains_ci(password, email, local))
            return PB_ERR_PASSWORD_WEAK;
    }
    return PB_OK;
}

/* ---- the cost of new hashes ---- */

typedef struct pwcost {
    const char *name;
    unsigned long long ops;
    size_t mem;
} pwcost;

static const pwcost COSTS[] = {
    {"interactive", crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE},
    {"moderate", crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE},
    {"sensitive", crypto_pwhash_OPSLIMIT_SENSITIVE, crypto_pwhash_MEMLIMIT_SENSITIVE},
    {"min", crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN},
};
enum { COST_MIN = 3 };

static atomic_int cost_in_force = -1; /* index into COSTS; -1 until decided */
static pthread_once_t cost_once = PTHREAD_ONCE_INIT;

static int cost_index(const char *name)
{
    for (int i = 0; name && i < (int)(sizeof COSTS / sizeof COSTS[0]); i++)
        if (strcmp(name, COSTS[i].name) == 0)
            return i;
    return -1;
}

static void announce(int i)
{
    if (i == COST_MIN)
        pb_log(PB_LOG_WARN, "identity.password_cost",
               "new password hashes use argon2id at libsodium's MINIMUM cost "
               "(PITBOSS_PWHASH_COST=min): for test suites only, never production");
}

static void cost_from_env(void)
{
    const char *v = getenv("PITBOSS_PWHASH_COST");
    int i = v && *v ? cost_index(v) : 0;
    if (i < 0) {
        pb_log(PB_LOG_ERROR, "identity.password_cost",
               "PITBOSS_PWHASH_COST=%s is not interactive, moderate, sensitive or min: "
               "using interactive",
               v);
        i = 0;
    }
    int unset = -1;
    if (atomic_compare_exchange_strong(&cost_in_force, &unset, i))
        announce(i);
}

static const pwcost *cost(void)
{
    pthread_once(&cost_once, cost_from_env);
    return &COSTS[atomic_load(&cost_in_force)];
}

pb_err pb_password_set_cost(const char *name)
{
    int i = cost_index(name);
    if (i < 0)
        return PB_ERR_FIELD_INVALID;
    pthread_once(&cost_once, cost_from_env);
    if (atomic_exchange(&cost_in_force, i) != i)
        announce(i);
    return PB_OK;
}

const char *pb_password_cost(void) { return cost()->name; }

/* crypto_pwhash_str with the cost in force. */
pb_err pb_password_hash(const char *password, char out[PB_PASSWORD_HASH_MAX + 1])
{
    _Static_assert(crypto_pwhash_STRBYTES == PB_PASSWORD_HASH_MAX + 1, "hash buffer size");
    const pwcost *c = cost();
    if (crypto_pwhash_str(out, password, strlen(password), c->ops, c->mem) != 0) {
        pb_log(PB_LOG_ERROR, "identity.password", "argon2id hashing failed (out of memory)");
        return PB_ERR_INTERNAL;
    }
    return PB_OK;
}

/* crypto_pwhash_str_verify; false for an empty or malformed hash. */
bool pb_password_verify(const char *hash, const char *password)
{
    if (!hash || !password || !*hash)
        return false;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* True when hash is an argon2id string whose memory (KiB) and passes are at
 * least the cost's ("$argon2id$v=19$m=65536,t=2,p=1$salt$hash"). */
static bool at_least(const char *hash, const pwcost *c)
{
    static const char prefix[] = "$argon2id$v=19$m=";
    if (strncmp(hash, prefix, sizeof prefix - 1) != 0)
        return false;
    char *end;
    unsigned long long m = strtoull(hash + sizeof prefix - 1, &end, 10);
    if (strncmp(end, ",t=", 3) != 0)
        return false;
    unsigned long long t = strtoull(end + 3, &end, 10);
    if (strncmp(end, ",p=", 3) != 0)
        return false;
    return m <= SIZE_MAX / 1024 && m * 1024 >= c->mem && t >= c->ops;
}

/* Weaker than the cost in force (or not a hash of today's algorithm). */
bool pb_password_needs_rehash(const char *hash)
{
    const pwcost *c = cost();
    if (!hash)
        return true;
    if (crypto_pwhash_str_needs_rehash(hash, c->ops, c->mem) == 0)
        return false; /* exactly today's parameters */
    return !at_least(hash, c);
}

/* Four groups of five symbols from an unambiguous alphabet. */
void pb_password_one_time(char out[PB_ONE_TIME_PASSWORD_MAX])
{
    /* 56 symbols without 0/O/o, 1/l/I: 20 of them carry ~116 bits */
    static const char ALPHABET[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    size_t k = 0;
    for (int g = 0; g < 4; g++) {
        if (g)
            out[k++] = '-';
        for (int i = 0; i < 5; i++)
            out[k++] = ALPHABET[randombytes_uniform(sizeof ALPHABET - 1)];
    }
    out[k] = 0;
}
