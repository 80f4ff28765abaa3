/*
 * test_jwt.c — access tokens (RFC 8725 rules): a valid round trip; a tampered
 * payload or signature; alg "none"; a kid we do not have; a token signed by
 * another key under our kid; HS256 signed with our ES256 public key (algorithm
 * confusion, which libjwt alone accepts); a wrong typ, aud, iss or audience kind;
 * expiry; ES256 interoperability with libjwt both ways; and key rotation (the
 * old key verifies until its last token expires, then is retired and deleted;
 * a publish delay; another instance learns the new key from disk), plus the
 * refusal of a key file others can read.
 */
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

#define ISS "pitboss"
#define AUD "pitboss:player-api"
#define TTL 900
#define MAX_TTL_US ((int64_t)(TTL + 60) * 1000000)
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

typedef struct jfx {
    char dir[256];
    pb_keyset *ks;
    int64_t now;
} jfx;

static void rm_dir(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int jfx_setup(void **state)
{
    jfx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pbjwt.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    strcat(f->dir, "/keys");
    f->now = IFX_T0;
    char err[300];
    /* keys made an hour before the tests' clock, so time checks are isolated from publication */
    f->ks = pb_keyset_open(f->dir, MAX_TTL_US, 0, f->now - 3600000000, err, sizeof err);
    if (!f->ks)
        fail_msg("%s", err);
    *state = f;
    return 0;
}

static int jfx_teardown(void **state)
{
    jfx *f = *state;
    pb_keyset_free(f->ks);
    char *slash = strrchr(f->dir, '/');
    *slash = 0;
    rm_dir(f->dir);
    free(f);
    return 0;
}

static pb_jwt_claims player_claims(void)
{
    pb_jwt_claims cl;
    memset(&cl, 0, sizeof cl);
    cl.kind = PB_SUBJECT_PLAYER;
    cl.scope = PB_SCOPE_FULL;
    snprintf(cl.sub, sizeof cl.sub, "01a1fe00-0000-7000-8000-000000000001");
    snprintf(cl.sid, sizeof cl.sid, "01a1fe00-0000-7000-8000-000000000002");
    snprintf(cl.brand, sizeof cl.brand, "demo");
    return cl;
}

static void sign(jfx *f, pb_keyset *ks, char *tok, size_t cap)
{
    pb_jwt_claims cl = player_claims();
    assert_int_equal(pb_jwt_sign(ks, ISS, AUD, &cl, TTL, f->now, tok, cap), PB_OK);
}

static pb_err verify(jfx *f, const char *tok, int64_t at)
{
    pb_jwt_claims out;
    return pb_jwt_verify(f->ks, ISS, AUD, TTL, tok, at, &out);
}

/* Builds header.payload from JSON texts (base64url each) into out. */
static size_t build_signing_input(const char *header, const char *payload, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, (const unsigned char *)header, strlen(header), B64);
    size_t n = strlen(out);
    out[n++] = '.';
    sodium_bin2base64(out + n, cap - n, (const unsigned char *)payload, strlen(payload), B64);
    return strlen(out);
}

/* The decoded payload JSON of a token. */
static void payload_of(const char *tok, char *out, size_t cap)
{
    const char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
    size_t bin = 0;
    assert_int_equal(sodium_base642bin((unsigned char *)out, cap - 1, d1 + 1, (size_t)(d2 - d1 - 1),
                                       NULL, &bin, NULL, B64),
                     0);
    out[bin] = 0;
}

static const char *kid_of(jfx *f, char kid[PB_KID_MAX + 1])
{
    pb_signer *sg = pb_keyset_signer(f->ks, f->now, kid);
    assert_non_null(sg);
    pb_signer_free(sg);
    return kid;
}

static void round_trip(void **state)
{
    jfx *f = *state;
    char tok[PB_ACCESS_TOKEN_MAX], payload[1024];
    sign(f, f->ks, tok, sizeof tok);
    pb_jwt_claims out;
    assert_int_equal(pb_jwt_verify(f->ks, ISS, AUD, TTL, tok, f->now, &out), PB_OK);
    assert_int_equal(out.kind, PB_SUBJECT_PLAYER);
    assert_string_equal(out.sub, "01a1fe00-0000-7000-8000-000000000001");
    assert_string_equal(out.sid, "01a1fe00-0000-7000-8000-000000000002");
    assert_string_equal(out.brand, "demo");
    assert_int_equal(out.exp - out.iat, TTL);
    assert_true(strlen(out.jti) >= 20);
    /* the header is exactly what RFC 9068 asks for, and libjwt verifies our ES256 */
    char kid[PB_KID_MAX + 1], header[128];
    snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
             kid_of(f, kid));
    char expect[256];
    sodium_bin2base64(expect, sizeof expect, (const unsigned char *)header, strlen(header), B64);
    assert_memory_equal(tok, expect, strlen(expect));
    payload_of(tok, payload, sizeof payload);
    assert_non_null(strstr(payload, "\"aud\":\"pitboss:player-api\""));
    assert_non_null(strstr(payload, "\"iss\":\"pitboss\""));
    /* two tokens for the same claims differ (jti) */
    char tok2[PB_ACCESS_TOKEN_MAX];
    sign(f, f->ks, tok2, sizeof tok2);
    assert_string_not_equal(tok, tok2);
}

static void tampered_payload_or_signature(void **state)
{
    jfx *f = *state;
    char tok[PB_ACCESS_TOKEN_MAX], payload[1024], forged[PB_ACCESS_TOKEN_MAX];
    sign(f, f->ks, tok, sizeof tok);
    /* another subject in the payload, the original header and signature kept */
    payload_of(tok, payload, sizeof payload);
    char *sub = strstr(payload, "000000000001");
    assert_non_null(sub);
    sub[11] = '9';
    const char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
    size_t n = (size_t)(d1 - tok) + 1;
    memcpy(forged, tok, n);
    sodium_bin2base64(forged + n, sizeof forged - n, (const unsigned char *)payload,
                      strlen(payload), B64);
    strcat(forged, d2);
    assert_int_equal(verify(f, forged, f->now), PB_ERR_TOKEN_INVALID);
    /* one character of the signature changed */
    snprintf(forged, sizeof forged, "%s", tok);
    char *sig = strrchr(forged, '.') + 10;
    *sig = *sig == 'A' ? 'B' : 'A';
    assert_int_equal(verify(f, forged, f->now), PB_ERR_TOKEN_INVALID);
    /* signature cut off, segments missing or extra, junk */
    snprintf(forged, sizeof forged, "%.*s", (int)(strrchr(tok, '.') - tok + 1), tok);
    assert_int_equal(verify(f, forged, f->now), PB_ERR_TOKEN_INVALID);
    size_t tl = strlen(tok);
    memcpy(forged, tok, tl);
    memcpy(forged + tl, ".x", 3);
    assert_int_equal(verify(f, forged, f->now), PB_ERR_TOKEN_INVALID);
    assert_int_equal(verify(f, "", f->now), PB_ERR_TOKEN_INVALID);
    assert_int_equal(verify(f, NULL, f->now), PB_ERR_TOKEN_INVALID);
    assert_int_equal(verify(f, "not a token", f->now), PB_ERR_TOKEN_INVALID);
    assert_int_equal(verify(f, tok, f->now), PB_OK); /* the original still holds */
}

static void alg_none_is_refused(void **state)
{
    jfx *f = *state;
    char tok[PB_ACCESS_TOKEN_MAX], payload[1024], header[128], kid[PB_KID_MAX + 1];
    char forged[PB_ACCESS_TOKEN_MAX];
    sign(f, f->ks, tok, sizeof tok);
    payload_of(tok, payload, sizeof payload);
    const char *algs[] = {"none", "None", "NONE"};
    for (int i = 0; i < 3; i++) {
        snprintf(header, sizeof header, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
                 algs[i], kid_of(f, kid));
        build_signing_input(header, payload, forged, sizeof forged);
        strcat(forged, ".");
        assert_int_equal(verify(f, forged, f->now), PB_ERR_TOKEN_INVALID);
        strcat(forged, strrchr(tok, '.') + 1); /* with the real signature appended */
        assert_int_equal(verify(f, forged, f->now), PB_ERR_TOKEN_INVALID);
    }
}

static void unknown_kid_and_foreign_key(void **state)
{
    jfx *f = *state;
    char other_dir[300], err[300], tok[PB_ACCESS_TOKEN_MAX];
    snprintf(other_dir, sizeof other_dir, "%s-other", f->dir);
    pb_keyset *other = pb_keyset_open(other_dir, MAX_TTL_US, 0, f->now, err, sizeof err);
    assert_non_null(other);
    sign(f, other, tok, sizeof tok); /* a kid we never had */
    assert_int_equal(verify(f, tok, f->now), PB_ERR_TOKEN_INVALID);
    /* the foreign key's signature under OUR kid */
    char kid[PB_KID_MAX + 1], okid[PB_KID_MAX + 1], header[128], payload[1024];
    char forged[PB_ACCESS_TOKEN_MAX];
    payload_of(tok, payload, sizeof payload);
    snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
             kid_of(f, kid));
    size_t n = build_signing_input(header, payload, forged, sizeof forged);
    uint8_t sig[64];
    pb_signer *sg = pb_keyset_signer(other, f->now, okid);
    assert_int_equal(pb_signer_sign(sg, forged, n, sig), PB_OK);
    pb_signer_free(sg);
    forged[n++] = '.';
    sodium_bin2base64(forged + n, sizeof forged - n, sig, sizeof sig, B64);
    assert_int_equal(verify(f, forged, f->now), PB_ERR_TOKEN_INVALID);
    pb_keyset_free(other);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", other_dir);
    assert_int_equal(system(cmd), 0);
}

static void hs256_with_our_public_key_is_refused(void **state)
{
    jfx *f = *state;
    char tok[PB_ACCESS_TOKEN_MAX], payload[1024], header[128], kid[PB_KID_MAX + 1];
    char forged[PB_ACCESS_TOKEN_MAX], pem[PB_PUBLIC_PEM_MAX], alg[8];
    size_t pem_len = 0;
    sign(f, f->ks, tok, sizeof tok);
    payload_of(tok, payload, sizeof payload);
    kid_of(f, kid);
    assert_int_equal(pb_keyset_verifier(f->ks, kid, f->now, pem, &pem_len, alg), PB_OK);
    assert_string_equal(alg, "ES256");
    snprintf(header, sizeof header, "{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}", kid);
    size_t n = build_signing_input(header, payload, forged, sizeof forged);
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)pem, pem_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)forged, n);
    crypto_auth_hmacsha256_final(&st, mac);
    forged[n++] = '.';
    sodium_bin2base64(forged + n, sizeof forged - n, mac, sizeof mac, B64);
    /* libjwt on its own trusts the header's alg and accepts the same forgery (it only
     * takes typ "JWT", so the forgery for it carries that type) ... */
    char legacy[PB_ACCESS_TOKEN_MAX], lheader[128];
    snprintf(lheader, sizeof lheader, "{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    size_t ln = build_signing_input(lheader, payload, legacy, sizeof legacy);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)pem, pem_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)legacy, ln);
    crypto_auth_hmacsha256_final(&st, mac);
    legacy[ln++] = '.';
    sodium_bin2base64(legacy + ln, sizeof legacy - ln, mac, sizeof mac, B64);
    jwt_t *j = NULL;
    assert_int_equal(jwt_decode(&j, legacy, (const unsigned char *)pem, (int)pem_len), 0);
    jwt_free(j);
    assert_int_equal(verify(f, legacy, f->now), PB_ERR_TOKEN_INVALID);
    /* ... our verifier binds the algorithm to the key and refuses it */
    assert_int_equal(verify(f, forged, f->now), PB_ERR_TOKEN_INVALID);
}

static void typ_aud_iss_and_kind_are_checked(void **state)
{
    jfx *f = *state;
    char tok[PB_ACCESS_TOKEN_MAX];
    pb_jwt_claims out;
    sign(f, f->ks, tok, sizeof tok);
    assert_int_equal(pb_jwt_verify(f->ks, ISS, "pitboss:staff-api", TTL, tok, f->now, &out),
                     PB_ERR_TOKEN_INVALID);
    assert_int_equal(pb_jwt_verify(f->ks, "someone-else", AUD, TTL, tok, f->now, &out),
                     PB_ERR_TOKEN_INVALID);
    /* a lifetime longer than the audience ever gets */
    assert_int_equal(pb_jwt_verify(f->ks, ISS, AUD, TTL - 1, tok, f->now, &out),
                     PB_ERR_TOKEN_INVALID);
    /* issued in the future beyond the skew */
    assert_int_equal(pb_jwt_verify(f->ks, ISS, AUD, TTL, tok, f->now - 60000000, &out),
                     PB_ERR_TOKEN_INVALID);
    /* typ "JWT" (what libjwt writes), signed correctly by our key */
    char header[128], payload[1024], kid[PB_KID_MAX + 1], forged[PB_ACCESS_TOKEN_MAX];
    payload_of(tok, payload, sizeof payload);
    snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
             kid_of(f, kid));
    size_t n = build_signing_input(header, payload, forged, sizeof forged);
    uint8_t sig[64];
    pb_signer *sg = pb_keyset_signer(f->ks, f->now, kid);
    assert_int_equal(pb_signer_sign(sg, forged, n, sig), PB_OK);
    pb_signer_free(sg);
    forged[n++] = '.';
    sodium_bin2base64(forged + n, sizeof forged - n, sig, sizeof sig, B64);
    assert_int_equal(verify(f, forged, f->now), PB_ERR_TOKEN_INVALID);
    /* a staff-kind token presented to the player audience */
    pb_jwt_claims cl = player_claims();
    cl.kind = PB_SUBJECT_STAFF;
    snprintf(cl.role, sizeof cl.role, "admin");
    assert_int_equal(pb_jwt_sign(f->ks, ISS, AUD, &cl, TTL, f->now, tok, sizeof tok), PB_OK);
    assert_int_equal(pb_jwt_verify(f->ks, ISS, AUD, TTL, tok, f->now, &out), PB_OK);
    /* (pb_identity_authenticate refuses a kind other than the audience's: see test_sessions) */
    assert_int_equal(out.kind, PB_SUBJECT_STAFF);
}

static void expiry(void **state)
{
    jfx *f = *state;
    char tok[PB_ACCESS_TOKEN_MAX];
    sign(f, f->ks, tok, sizeof tok);
    int64_t exp = (f->now / 1000000 + TTL) * 1000000;
    assert_int_equal(verify(f, tok, exp - 1), PB_OK);
    assert_int_equal(verify(f, tok, exp), PB_ERR_TOKEN_EXPIRED);
    assert_int_equal(verify(f, tok, exp + 3600000000), PB_ERR_TOKEN_EXPIRED);
}

/* Our ES256 signatures against libjwt's, both ways (libjwt insists on typ "JWT"). */
static void es256_interoperates_with_libjwt(void **state)
{
    jfx *f = *state;
    char kid[PB_KID_MAX + 1], header[128], payload[1024], tok[PB_ACCESS_TOKEN_MAX];
    char pem[PB_PUBLIC_PEM_MAX], alg[8];
    size_t pem_len;
    sign(f, f->ks, tok, sizeof tok);
    payload_of(tok, payload, sizeof payload);
    kid_of(f, kid);
    assert_int_equal(pb_keyset_verifier(f->ks, kid, f->now, pem, &pem_len, alg), PB_OK);
    /* ours -> libjwt */
    snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    char t[PB_ACCESS_TOKEN_MAX];
    size_t n = build_signing_input(header, payload, t, sizeof t);
    uint8_t sig[64];
    pb_signer *sg = pb_keyset_signer(f->ks, f->now, kid);
    assert_int_equal(pb_signer_sign(sg, t, n, sig), PB_OK);
    pb_signer_free(sg);
    t[n] = '.';
    sodium_bin2base64(t + n + 1, sizeof t - n - 1, sig, sizeof sig, B64);
    jwt_t *j = NULL;
    assert_int_equal(jwt_decode(&j, t, (const unsigned char *)pem, (int)pem_len), 0);
    assert_string_equal(jwt_get_grant(j, "sub"), "01a1fe00-0000-7000-8000-000000000001");
    jwt_free(j);
    /* libjwt (signing with our private key file) -> ours */
    char path[400], priv[1024];
    snprintf(path, sizeof path, "%s/%s.pem", f->dir, kid);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t plen = fread(priv, 1, sizeof priv, fp);
    fclose(fp);
    assert_int_equal(jwt_new(&j), 0);
    assert_int_equal(jwt_add_grant(j, "sub", "someone"), 0);
    assert_int_equal(jwt_set_alg(j, JWT_ALG_ES256, (const unsigned char *)priv, (int)plen), 0);
    char *theirs = jwt_encode_str(j);
    jwt_free(j);
    assert_non_null(theirs);
    const char *dot2 = strrchr(theirs, '.');
    size_t siglen = 0;
    assert_int_equal(sodium_base642bin(sig, sizeof sig, dot2 + 1, strlen(dot2 + 1), NULL, &siglen,
                                       NULL, B64),
                     0);
    assert_int_equal(pb_keyset_verify(f->ks, kid, "ES256", f->now, theirs, (size_t)(dot2 - theirs),
                                      sig, siglen),
                     PB_OK);
    /* but the same key for another algorithm, or another kid, is no key at all */
    assert_int_equal(pb_keyset_verify(f->ks, kid, "HS256", f->now, theirs, (size_t)(dot2 - theirs),
                                      sig, siglen),
                     PB_ERR_NOT_FOUND);
    assert_int_equal(pb_keyset_verify(f->ks, "0000000000000000", "ES256", f->now, theirs,
                                      (size_t)(dot2 - theirs), sig, siglen),
                     PB_ERR_NOT_FOUND);
    sig[5] ^= 1;
    assert_int_equal(pb_keyset_verify(f->ks, kid, "ES256", f->now, theirs, (size_t)(dot2 - theirs),
                                      sig, siglen),
                     PB_ERR_TOKEN_INVALID);
    sodium_memzero(priv, sizeof priv);
    free(theirs);
}

static bool file_exists(const char *dir, const char *kid)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s.pem", dir, kid);
    return access(p, F_OK) == 0;
}

static void rotation(void **state)
{
    jfx *f = *state;
    char old_tok[PB_ACCESS_TOKEN_MAX], new_tok[PB_ACCESS_TOKEN_MAX], err[300];
    char k1[PB_KID_MAX + 1], k2[PB_KID_MAX + 1], k3[PB_KID_MAX + 1];
    kid_of(f, k1);
    sign(f, f->ks, old_tok, sizeof old_tok);
    /* another instance sharing the directory */
    pb_keyset *peer = pb_keyset_open(f->dir, MAX_TTL_US, 0, f->now, err, sizeof err);
    assert_non_null(peer);
    f->now += 10000000;
    int64_t rotated_at = f->now;
    assert_int_equal(pb_keyset_rotate(f->ks, f->now, k2), PB_OK);
    assert_string_not_equal(k1, k2);
    char now_kid[PB_KID_MAX + 1];
    assert_string_equal(kid_of(f, now_kid), k2); /* the new key signs at once */
    sign(f, f->ks, new_tok, sizeof new_tok);
    /* both verify; the peer learns k2 from disk when it first sees it */
    f->now += 60000000;
    assert_int_equal(verify(f, old_tok, f->now), PB_OK);
    assert_int_equal(verify(f, new_tok, f->now), PB_OK);
    pb_jwt_claims out;
    assert_int_equal(pb_jwt_verify(peer, ISS, AUD, TTL, new_tok, f->now, &out), PB_OK);
    /* the old key verifies up to deactivation + the longest token lifetime, then not */
    int64_t retire = rotated_at + MAX_TTL_US;
    assert_int_equal(verify(f, old_tok, retire - 1), PB_ERR_TOKEN_EXPIRED); /* key still known */
    assert_int_equal(verify(f, old_tok, retire), PB_ERR_TOKEN_INVALID);     /* key retired */
    /* the next rotation deletes the retired key's file and drops it from the manifest */
    assert_true(file_exists(f->dir, k1));
    assert_int_equal(pb_keyset_rotate(f->ks, retire, k3), PB_OK);
    assert_false(file_exists(f->dir, k1));
    assert_true(file_exists(f->dir, k2));
    assert_true(file_exists(f->dir, k3));
    pb_keyset_free(peer);
}

static void publish_delay(void **state)
{
    jfx *f = *state;
    char err[300], k1[PB_KID_MAX + 1], k2[PB_KID_MAX + 1], kid[PB_KID_MAX + 1];
    pb_keyset_free(f->ks);
    f->ks = pb_keyset_open(f->dir, MAX_TTL_US, 60000000, f->now, err, sizeof err);
    assert_non_null(f->ks);
    kid_of(f, k1);
    assert_int_equal(pb_keyset_rotate(f->ks, f->now, k2), PB_OK);
    /* published (verifies) but not signing for a minute */
    assert_string_equal(kid_of(f, kid), k1);
    char pem[PB_PUBLIC_PEM_MAX], alg[8];
    size_t len;
    assert_int_equal(pb_keyset_verifier(f->ks, k2, f->now, pem, &len, alg), PB_OK);
    f->now += 60000000;
    assert_string_equal(kid_of(f, kid), k2);
}

static void key_files_must_be_private(void **state)
{
    jfx *f = *state;
    char kid[PB_KID_MAX + 1], p[400], err[300];
    kid_of(f, kid);
    snprintf(p, sizeof p, "%s/%s.pem", f->dir, kid);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(f->dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(chmod(p, 0644), 0);
    pb_keyset *again = pb_keyset_open(f->dir, MAX_TTL_US, 0, f->now, err, sizeof err);
    assert_null(again);
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(chmod(p, 0600), 0);
    again = pb_keyset_open(f->dir, MAX_TTL_US, 0, f->now, err, sizeof err);
    assert_non_null(again);
    pb_keyset_free(again);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, jfx_setup, jfx_teardown)
    const struct CMUnitTest tests[] = {
        T(round_trip),
        T(tampered_payload_or_signature),
        T(alg_none_is_refused),
        T(unknown_kid_and_foreign_key),
        T(hs256_with_our_public_key_is_refused),
        T(typ_aud_iss_and_kind_are_checked),
        T(expiry),
        T(es256_interoperates_with_libjwt),
        T(rotation),
        T(publish_delay),
        T(key_files_must_be_private),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
