/*
 * totp.c — TOTP second factor for staff (RFC 6238 over RFC 4226, via liboath).
 *
 * Seeds are 20 random bytes (the HMAC-SHA1 block RFC 4226 recommends), shown to
 * the member once as an otpauth:// URI and stored sealed: XChaCha20-Poly1305 under
 * the keys directory's totp.key, with the member's public id as associated data
 * (a sealed seed copied onto another row does not open). Codes are 6 digits,
 * 30 s steps from T0 = 0; a code is accepted for the current step ±1, and only if
 * its step is later than the last accepted one, so no code works twice.
 * Comparisons of codes are constant-time.
 */
#include <liboath/oath.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/sealbox.h"
#include "identity/identity_internal.h"

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_status = OATH_OK;

/* liboath wants one oath_init() per process before use. */
static void oath_start(void) { oath_status = oath_init(); }

/* Initialises liboath once; false (logged) if it could not. */
static bool oath_ready(void)
{
    pthread_once(&oath_once, oath_start);
    if (oath_status != OATH_OK)
        pb_log(PB_LOG_ERROR, "identity.totp", "liboath: %s", oath_strerror(oath_status));
    return oath_status == OATH_OK;
}

/* RFC 4226 HOTP through liboath. */
pb_err pb_hotp_code(const uint8_t *seed, size_t len, uint64_t counter, unsigned digits, char *out)
{
    if (!oath_ready() || digits < 6 || digits > 8)
        return PB_ERR_INTERNAL;
    int rc = oath_hotp_generate((const char *)seed, len, counter, digits, false,
                                OATH_HOTP_DYNAMIC_TRUNCATION, out);
    return rc == OATH_OK ? PB_OK : PB_ERR_INTERNAL;
}

/* RFC 6238 TOTP (SHA-1, T0 = 0, 30 s) through liboath. */
pb_err pb_totp_code(const uint8_t *seed, size_t len, int64_t t, unsigned digits, char *out)
{
    if (!oath_ready() || digits < 6 || digits > 8 || t < 0)
        return PB_ERR_INTERNAL;
    int rc = oath_totp_generate((const char *)seed, len, (time_t)t, PB_TOTP_STEP_S,
                                OATH_TOTP_DEFAULT_START_TIME, digits, out);
    return rc == OATH_OK ? PB_OK : PB_ERR_INTERNAL;
}

/* liboath's comparison callback: 0 on a match, constant-time in the code. */
static int code_cmp(void *handle, const char *test_otp)
{
    const char *code = handle;
    size_t n = strlen(code);
    if (strlen(test_otp) != n)
        return 1;
    return sodium_memcmp(code, test_otp, n) == 0 ? 0 : 1;
}

/* liboath finds the matching step in the window; we refuse steps already used. */
pb_err pb_totp_check(const uint8_t *seed, size_t len, const char *code, int64_t t,
                     int64_t last_step, int64_t *step)
{
    size_t n = code ? strlen(code) : 0;
    if ((n != 6 && n != 8) || strspn(code, "0123456789") != n || t < 0 || !oath_ready())
        return PB_ERR_TOTP_INVALID;
    int pos = 0;
    uint64_t counter = 0;
    int rc = oath_totp_validate3_callback((const char *)seed, len, (time_t)t, PB_TOTP_STEP_S,
                                          OATH_TOTP_DEFAULT_START_TIME, (unsigned)n, 1, &pos,
                                          &counter, code_cmp, (void *)code);
    if (rc < 0 || (int64_t)counter <= last_step)
        return PB_ERR_TOTP_INVALID; /* wrong, outside ±1 step, or already used */
    *step = (int64_t)counter;
    return PB_OK;
}

/* Percent-encodes s into out (RFC 3986 unreserved characters and '@' pass). */
static bool uri_escape(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~' || c == '@';
        if (k + (plain ? 1 : 3) >= cap)
            return false;
        if (plain)
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, cap - k, "%%%02X", c);
    }
    out[k] = 0;
    return true;
}

/* Builds the otpauth:// URI with the seed in unpadded base32. */
pb_err pb_totp_uri(const uint8_t *seed, size_t len, const char *issuer, const char *account,
                   char *uri, size_t cap)
{
    char *b32 = NULL;
    size_t b32len = 0;
    char iss[128], acct[3 * PB_EMAIL_MAX + 1];
    if (!oath_ready() || oath_base32_encode((const char *)seed, len, &b32, &b32len) != OATH_OK)
        return PB_ERR_INTERNAL;
    while (b32len > 0 && b32[b32len - 1] == '=')
        b32[--b32len] = 0; /* authenticator apps expect the seed without padding */
    bool ok = uri_escape(issuer, iss, sizeof iss) && uri_escape(account, acct, sizeof acct);
    int n = ok ? snprintf(uri, cap,
                          "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d"
                          "&period=%d",
                          iss, acct, b32, iss, PB_TOTP_DIGITS, PB_TOTP_STEP_S)
               : -1;
    sodium_memzero(b32, b32len);
    free(b32);
    return n > 0 && (size_t)n < cap ? PB_OK : PB_ERR_INTERNAL;
}

/* Seals a seed for a staff member into out (PB_SEALBOX_OVERHEAD + len bytes),
 * bound to the member's public id. */
static void seal(const pb_identity *id, const char *public_id, const uint8_t *seed, size_t len,
                 uint8_t *out, size_t *out_len)
{
    pb_sealbox_seal(id->totp_key, public_id, seed, len, out);
    *out_len = PB_SEALBOX_OVERHEAD + len;
}

/* Opens a member's sealed seed into seed[PB_TOTP_SEED_BYTES]; false if it does not open. */
static bool unseal(const pb_identity *id, const pb_store_staff *s, uint8_t *seed)
{
    return s->totp_secret_len == PB_SEALBOX_OVERHEAD + PB_TOTP_SEED_BYTES &&
           pb_sealbox_open(id->totp_key, s->public_id, s->totp_secret, s->totp_secret_len, seed) ==
               0;
}

/* Opens the sealed seed, checks the code, wipes the seed. */
pb_err pb_totp_verify_staff(pb_identity *id, const pb_store_staff *s, const char *code, int64_t now,
                            int64_t *step)
{
    uint8_t seed[PB_TOTP_SEED_BYTES];
    if (s->totp_secret_len == 0)
        return PB_ERR_TOTP_NOT_ENROLLED;
    if (!unseal(id, s, seed)) {
        pb_log(PB_LOG_ERROR, "identity.totp",
               "the TOTP seed of staff %s does not open "
               "(wrong totp.key?)",
               s->public_id);
        return PB_ERR_INTERNAL;
    }
    pb_err e = pb_totp_check(seed, sizeof seed, code, now / 1000000, s->totp_last_step, step);
    sodium_memzero(seed, sizeof seed);
    return e;
}

/* Loads the principal's staff row for enrolment. */
static pb_err enrol_subject(pb_store_conn *c, const pb_principal *p, pb_store_staff *s)
{
    if (!p || p->kind != PB_SUBJECT_STAFF)
        return PB_ERR_FORBIDDEN;
    return pb_id_store_err(c, pb_store_staff_get(c, p->subject_id, s), PB_ERR_STAFF_NOT_FOUND,
                           "staff get");
}

/* Stores a new sealed seed (not active yet) and returns its URI. */
pb_err pb_identity_totp_begin(pb_identity *id, pb_store_conn *c, const pb_principal *p, int64_t now,
                              char *uri, size_t cap)
{
    pb_store_staff s;
    pb_err e = enrol_subject(c, p, &s);
    if (e != PB_OK)
        return e;
    if (s.totp_enrolled)
        return PB_ERR_INVALID_REQUEST;
    uint8_t seed[PB_TOTP_SEED_BYTES], sealed[PB_SEALBOX_OVERHEAD + PB_TOTP_SEED_BYTES];
    size_t sealed_len = 0;
    randombytes_buf(seed, sizeof seed);
    seal(id, s.public_id, seed, sizeof seed, sealed, &sealed_len);
    e = pb_totp_uri(seed, sizeof seed, id->issuer, s.email, uri, cap);
    sodium_memzero(seed, sizeof seed);
    if (e == PB_OK)
        e = pb_id_store_err(c, pb_store_staff_set_totp(c, s.id, sealed, sealed_len, false, 0, now),
                            PB_ERR_STAFF_NOT_FOUND, "staff set totp");
    if (e != PB_OK && uri && cap)
        sodium_memzero(uri, cap);
    return e;
}

/* Activates the pending seed once a code from it checks out. */
pb_err pb_identity_totp_confirm(pb_identity *id, pb_store_conn *c, const pb_principal *p,
                                const char *code, int64_t now)
{
    pb_store_staff s;
    pb_err e = enrol_subject(c, p, &s);
    if (e != PB_OK)
        return e;
    if (s.totp_enrolled)
        return PB_ERR_INVALID_REQUEST;
    int64_t step = 0;
    e = pb_totp_verify_staff(id, &s, code, now, &step);
    if (e != PB_OK)
        return e;
    return pb_id_store_err(c,
                           pb_store_staff_set_totp(c, s.id, s.totp_secret, s.totp_secret_len, true,
                                                   step, now),
                           PB_ERR_STAFF_NOT_FOUND, "staff set totp");
}
