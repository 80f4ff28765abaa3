/*
 * password.c — password policy, argon2id hashing and verification.
 *
 * Hashes are libsodium's crypto_pwhash_str strings (argon2id, OPSLIMIT and
 * MEMLIMIT INTERACTIVE: ~100 ms and 64 MiB each), which carry their own
 * parameters and salt; pb_password_needs_rehash() tells a login to upgrade a hash
 * made with older parameters. The policy follows NIST SP 800-63B: length over
 * composition rules, plus a refusal of the obviously guessable.
 */
#include <ctype.h>
#include <string.h>

#include "core/log.h"
#include "identity/identity_internal.h"

/* Passwords from the top of public breach lists that pass the length rule. */
static const char *const COMMON[] = {
    "password123", "password1234", "qwertyuiop", "qwertyuiop1", "1q2w3e4r5t", "1qaz2wsx3edc",
    "iloveyou123", "passw0rd123", "abcdefghij", "abcd1234567", "letmein1234", "welcome123",
    "administrator", "qwerty12345", "asdfghjkl1", "zxcvbnm123", "password!!", "football123",
    "monkey12345", "sunshine123", "princess123", "changeme123", "trustno1234",
};

/* Counts UTF-8 code points; -1 when s is not valid UTF-8 or holds control characters. */
static long utf8_chars(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    long count = 0;
    while (p < end) {
        unsigned c = *p;
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                                   : (c & 0xF8) == 0xF0 ? 4 : 0;
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

/* crypto_pwhash_str with the interactive limits. */
pb_err pb_password_hash(const char *password, char out[PB_PASSWORD_HASH_MAX + 1])
{
    _Static_assert(crypto_pwhash_STRBYTES == PB_PASSWORD_HASH_MAX + 1, "hash buffer size");
    if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
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

/* Compares the hash's parameters with today's. */
bool pb_password_needs_rehash(const char *hash)
{
    return crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
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
