/*
 * jwt.c — access tokens: JWS compact serialisation, ES256, typ "at+jwt".
 *
 * Issuing: header {"alg":"ES256","kid":…,"typ":"at+jwt"} and the claims (iss,
 * aud, sub, sid, kind, scope, brand or role, iat, nbf, exp, jti), base64url
 * encoded and signed with the key set's current key.
 *
 * Verifying (RFC 8725): the header must hold exactly alg, kid and typ "at+jwt";
 * kid must name a key of OUR set that verifies now, and alg must be that key's
 * algorithm — so "none", and "HS256" computed with our public key as an HMAC
 * secret, never reach a signature check. The ES256 signature is checked with
 * OpenSSL, then the claims with their JSON types: iss, aud, kind (matching the
 * audience), sub/sid (UUIDs), scope, brand/role, and the times (iat/nbf not in
 * the future beyond a small skew, a lifetime no longer than we ever issue, exp).
 * An expired token is reported only once everything else holds.
 *
 * Why not libjwt: Debian 12's libjwt 1.10 writes "typ":"JWT" over any typ on
 * encode and refuses any typ but "JWT" on decode, so it can neither issue nor
 * accept RFC 9068 access tokens; and left to itself it trusts the header's alg
 * (it accepts the HS256 forgery above). The unit tests use it as an independent
 * implementation: our ES256 signatures verify in libjwt, and its in ours.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "identity/identity_internal.h"

#define SKEW_S 30 /* clock skew tolerated between instances for iat / nbf */
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* Appends base64url(data) at out + *used; false when it does not fit. */
static bool b64_append(char *out, size_t cap, size_t *used, const void *data, size_t len)
{
    size_t need = sodium_base64_ENCODED_LEN(len, B64);
    if (*used + need > cap)
        return false;
    sodium_bin2base64(out + *used, cap - *used, data, len, B64);
    *used += need - 1; /* without the NUL, which stays written */
    return true;
}

static const char *kind_name(pb_subject_kind k)
{
    return k == PB_SUBJECT_STAFF ? "staff" : "player";
}

/* The claims as compact JSON (malloc'd by jansson; free()); NULL on OOM. */
static char *claims_json(const char *issuer, const char *audience, const pb_jwt_claims *cl)
{
    const char *scope = cl->scope == PB_SCOPE_SETUP ? "setup" : "full";
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", issuer,
                          "aud", audience, "sub", cl->sub, "sid", cl->sid, "kind",
                          kind_name(cl->kind), "scope", scope, "iat", (json_int_t)cl->iat, "nbf",
                          (json_int_t)cl->nbf, "exp", (json_int_t)cl->exp, "jti", cl->jti);
    if (o && cl->kind == PB_SUBJECT_PLAYER)
        json_object_set_new(o, "brand", json_string(cl->brand));
    if (o && cl->kind == PB_SUBJECT_STAFF)
        json_object_set_new(o, "role", json_string(cl->role));
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

/* Encodes header and claims, signs them with the current key, and appends the signature. */
pb_err pb_jwt_sign(pb_keyset *ks, const char *issuer, const char *audience, pb_jwt_claims *cl,
                   int64_t ttl_s, int64_t now, char *token, size_t cap)
{
    uint8_t rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(cl->jti, sizeof cl->jti, rnd, sizeof rnd, B64);
    cl->iat = cl->nbf = now / 1000000;
    cl->exp = cl->iat + ttl_s;
    char kid[PB_KID_MAX + 1];
    pb_signer *sg = pb_keyset_signer(ks, now, kid);
    char *payload = sg ? claims_json(issuer, audience, cl) : NULL;
    if (!payload) {
        pb_signer_free(sg);
        return PB_ERR_INTERNAL;
    }
    char header[96];
    int hl = snprintf(header, sizeof header,
                      "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}", kid);
    size_t used = 0;
    uint8_t sig[64];
    bool ok = hl > 0 && (size_t)hl < sizeof header &&
              b64_append(token, cap, &used, header, (size_t)hl) && used + 1 < cap;
    if (ok) {
        token[used++] = '.';
        ok = b64_append(token, cap, &used, payload, strlen(payload));
    }
    ok = ok && pb_signer_sign(sg, token, used, sig) == PB_OK && used + 1 < cap;
    if (ok) {
        token[used++] = '.';
        ok = b64_append(token, cap, &used, sig, sizeof sig);
    }
    free(payload);
    pb_signer_free(sg);
    if (!ok) {
        pb_log(PB_LOG_ERROR, "identity.jwt", "cannot issue an access token (buffer of %zu)", cap);
        return PB_ERR_INTERNAL;
    }
    return PB_OK;
}

/* Decodes one base64url segment of len characters into a NUL-terminated buffer. */
static bool b64_segment(const char *seg, size_t len, char *out, size_t cap)
{
    size_t bin = 0;
    if (sodium_base642bin((unsigned char *)out, cap - 1, seg, len, NULL, &bin, NULL, B64) != 0)
        return false;
    out[bin] = 0;
    return strlen(out) == bin; /* no NUL inside */
}

/* The header check: exactly {alg, kid, typ:"at+jwt"}; copies alg and kid. */
static bool header_ok(const char *json, char alg[16], char kid[PB_KID_MAX + 1])
{
    json_error_t jerr;
    json_t *h = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    const char *a = NULL, *k = NULL, *t = NULL;
    bool ok = json_is_object(h) && json_object_size(h) == 3 &&
              json_unpack(h, "{s:s, s:s, s:s}", "alg", &a, "kid", &k, "typ", &t) == 0 &&
              strlen(a) < 16 && strlen(k) <= PB_KID_MAX &&
              (strcmp(t, "at+jwt") == 0 || strcmp(t, "application/at+jwt") == 0);
    if (ok) {
        snprintf(alg, 16, "%s", a);
        snprintf(kid, PB_KID_MAX + 1, "%s", k);
    }
    json_decref(h);
    return ok;
}

/* Copies a string claim that must exist and fit. */
static bool claim_str(json_t *o, const char *name, char *out, size_t cap)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return false;
    snprintf(out, cap, "%s", json_string_value(v));
    return strlen(out) == json_string_length(v);
}

/* Reads an integer claim that must exist. */
static bool claim_int(json_t *o, const char *name, int64_t *out)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* The claim checks, everything but expiry. */
static bool claims_ok(json_t *o, const char *issuer, const char *audience, int64_t max_ttl_s,
                      int64_t now_s, pb_jwt_claims *cl)
{
    char iss[80], aud[96], kind[8], scope[8];
    pb_id tmp;
    pb_role role;
    if (!claim_str(o, "iss", iss, sizeof iss) || strcmp(iss, issuer) != 0 ||
        !claim_str(o, "aud", aud, sizeof aud) || strcmp(aud, audience) != 0 ||
        !claim_str(o, "kind", kind, sizeof kind) || !claim_str(o, "scope", scope, sizeof scope) ||
        !claim_str(o, "sub", cl->sub, sizeof cl->sub) ||
        pb_id_parse(cl->sub, strlen(cl->sub), &tmp) != 0 ||
        !claim_str(o, "sid", cl->sid, sizeof cl->sid) ||
        pb_id_parse(cl->sid, strlen(cl->sid), &tmp) != 0 ||
        !claim_str(o, "jti", cl->jti, sizeof cl->jti) || !claim_int(o, "iat", &cl->iat) ||
        !claim_int(o, "nbf", &cl->nbf) || !claim_int(o, "exp", &cl->exp))
        return false;
    if (strcmp(kind, "player") == 0) {
        cl->kind = PB_SUBJECT_PLAYER;
        if (!claim_str(o, "brand", cl->brand, sizeof cl->brand) ||
            !pb_tenancy_code_valid(cl->brand))
            return false;
    } else if (strcmp(kind, "staff") == 0) {
        cl->kind = PB_SUBJECT_STAFF;
        if (!claim_str(o, "role", cl->role, sizeof cl->role) ||
            pb_role_parse(cl->role, &role) != PB_OK)
            return false;
    } else {
        return false;
    }
    if (strcmp(scope, "full") == 0)
        cl->scope = PB_SCOPE_FULL;
    else if (strcmp(scope, "setup") == 0 && cl->kind == PB_SUBJECT_STAFF)
        cl->scope = PB_SCOPE_SETUP;
    else
        return false;
    return cl->exp > cl->iat && cl->exp - cl->iat <= max_ttl_s && cl->iat <= now_s + SKEW_S &&
           cl->nbf <= now_s + SKEW_S;
}

/* Shape, header, key and signature first; then the claims; expiry last. */
pb_err pb_jwt_verify(pb_keyset *ks, const char *issuer, const char *audience, int64_t max_ttl_s,
                     const char *token, int64_t now, pb_jwt_claims *out)
{
    memset(out, 0, sizeof *out);
    size_t len = token ? strlen(token) : 0;
    if (len == 0 || len >= PB_ACCESS_TOKEN_MAX ||
        strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") != len)
        return PB_ERR_TOKEN_INVALID;
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot1 || !dot2 || strchr(dot2 + 1, '.') || dot2[1] == 0)
        return PB_ERR_TOKEN_INVALID;
    char header[256], alg[16], kid[PB_KID_MAX + 1];
    uint8_t sig[64];
    size_t siglen = 0;
    if (!b64_segment(token, (size_t)(dot1 - token), header, sizeof header) ||
        !header_ok(header, alg, kid) ||
        sodium_base642bin(sig, sizeof sig, dot2 + 1, strlen(dot2 + 1), NULL, &siglen, NULL, B64) !=
            0 ||
        pb_keyset_verify(ks, kid, alg, now, token, (size_t)(dot2 - token), sig, siglen) != PB_OK)
        return PB_ERR_TOKEN_INVALID;
    /* the claims are read from the verified segment itself, with duplicates refused */
    char payload[PB_ACCESS_TOKEN_MAX];
    json_error_t jerr;
    json_t *o = b64_segment(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, sizeof payload)
                    ? json_loads(payload, JSON_REJECT_DUPLICATES, &jerr)
                    : NULL;
    int64_t now_s = now / 1000000;
    bool ok = json_is_object(o) && claims_ok(o, issuer, audience, max_ttl_s, now_s, out);
    json_decref(o);
    if (!ok) {
        memset(out, 0, sizeof *out);
        return PB_ERR_TOKEN_INVALID;
    }
    return now_s >= out->exp ? PB_ERR_TOKEN_EXPIRED : PB_OK;
}
