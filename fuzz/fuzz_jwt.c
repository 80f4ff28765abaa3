/*
 * fuzz_jwt.c — access token (JWT, ES256, typ "at+jwt") verification and
 * refresh token parsing (src/identity/jwt.c, refresh.c).
 *
 * A key set is created once in a private temp directory. Input: byte 0 picks
 * the mode, the rest is split at 0xFF:
 *   mode 0: [token, refresh token] — verified as sent;
 *   mode 1: [payload JSON] — signed here with our key under the right header,
 *           so the claim checks run on whatever the fuzzer writes;
 *   mode 2: [header JSON, payload JSON] — both fuzzed, signed with our key.
 * Properties:
 *   - verify answers OK, TOKEN_INVALID or TOKEN_EXPIRED only, and on OK the
 *     claims keep every documented rule: a header of exactly alg ES256, our
 *     kid and typ at+jwt; iss and aud ours; kind player (with a valid brand)
 *     or staff (with a role); sub and sid UUIDs; scope full (or setup for
 *     staff); exp after iat by at most the lifetime; iat and nbf not in the
 *     future beyond the skew; exp in the future;
 *   - a token with a changed signature is never OK; a token we issue verifies
 *     (checked once at start);
 *   - a refresh token is accepted only as "pbr_" + 43 base64url characters,
 *     and one we issue hashes to the hash issued with it.
 */
#include "fuzz.h"

#include <jansson.h>
#include <sodium.h>

#include "identity/identity_internal.h"

#define NOW_US 1700000000000000LL
#define TTL_S 900
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
static pb_keyset *ks;
static char kid[PB_KID_MAX + 1];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    FUZZ_CHECK(sodium_init() >= 0);
    char dir[256], err[256];
    snprintf(dir, sizeof dir, "%s/keys", fuzz_tmpdir());
    ks = pb_keyset_open(dir, TTL_S * 1000000LL, 0, NOW_US, err, sizeof err);
    if (!ks)
        fprintf(stderr, "keyset: %s\n", err);
    FUZZ_CHECK(ks != NULL);
    pb_signer *sg = pb_keyset_signer(ks, NOW_US, kid);
    FUZZ_CHECK(sg != NULL);
    pb_signer_free(sg);
    /* what we issue, we accept */
    pb_jwt_claims cl = {.kind = PB_SUBJECT_PLAYER,
                        .scope = PB_SCOPE_FULL,
                        .sub = "0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6a7b",
                        .sid = "0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6a7c",
                        .brand = "demo"};
    char tok[PB_ACCESS_TOKEN_MAX];
    FUZZ_CHECK(pb_jwt_sign(ks, "pitboss", "pitboss-player", &cl, TTL_S, NOW_US, tok, sizeof tok) ==
               PB_OK);
    pb_jwt_claims out;
    FUZZ_CHECK(pb_jwt_verify(ks, "pitboss", "pitboss-player", TTL_S, tok, NOW_US, &out) == PB_OK);
    FUZZ_CHECK(strcmp(out.sub, cl.sub) == 0 && strcmp(out.brand, "demo") == 0);
    char rt[PB_REFRESH_TOKEN_MAX];
    uint8_t h1[32], h2[32];
    pb_refresh_token_new(rt, h1);
    FUZZ_CHECK(pb_refresh_token_hash(rt, h2) && memcmp(h1, h2, 32) == 0);
    return 0;
}

/* b64(header) "." b64(payload) "." b64(ES256 signature) into tok; false when too long. */
static bool make_token(const uint8_t *h, size_t hl, const uint8_t *p, size_t pl, char *tok,
                       size_t cap)
{
    size_t need = sodium_base64_ENCODED_LEN(hl, B64) + sodium_base64_ENCODED_LEN(pl, B64) +
                  sodium_base64_ENCODED_LEN(64, B64) + 2;
    if (need > cap)
        return false;
    sodium_bin2base64(tok, cap, h, hl, B64);
    size_t used = strlen(tok);
    tok[used++] = '.';
    sodium_bin2base64(tok + used, cap - used, p, pl, B64);
    used += strlen(tok + used);
    pb_signer *sg = pb_keyset_signer(ks, NOW_US, kid);
    uint8_t sig[64];
    FUZZ_CHECK(sg && pb_signer_sign(sg, tok, used, sig) == PB_OK);
    pb_signer_free(sg);
    tok[used++] = '.';
    sodium_bin2base64(tok + used, cap - used, sig, sizeof sig, B64);
    return true;
}

static void check_accepted(const char *tok, const char *aud, const pb_jwt_claims *cl)
{
    const char *dot1 = strchr(tok, '.'), *dot2 = strchr(dot1 + 1, '.');
    char hdr[256], pay[PB_ACCESS_TOKEN_MAX];
    size_t hl = 0, pl = 0;
    FUZZ_CHECK(sodium_base642bin((uint8_t *)hdr, sizeof hdr - 1, tok, (size_t)(dot1 - tok), NULL,
                                 &hl, NULL, B64) == 0);
    FUZZ_CHECK(sodium_base642bin((uint8_t *)pay, sizeof pay - 1, dot1 + 1,
                                 (size_t)(dot2 - dot1 - 1), NULL, &pl, NULL, B64) == 0);
    json_t *h = json_loadb(hdr, hl, 0, NULL), *p = json_loadb(pay, pl, 0, NULL);
    FUZZ_CHECK(json_object_size(h) == 3 &&
               strcmp(json_string_value(json_object_get(h, "alg")), "ES256") == 0 &&
               strcmp(json_string_value(json_object_get(h, "kid")), kid) == 0);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(p, "iss")), "pitboss") == 0 &&
               strcmp(json_string_value(json_object_get(p, "aud")), aud) == 0);
    pb_id id;
    FUZZ_CHECK(pb_id_parse(cl->sub, strlen(cl->sub), &id) == 0 &&
               pb_id_parse(cl->sid, strlen(cl->sid), &id) == 0);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(p, "sub")), cl->sub) == 0);
    if (cl->kind == PB_SUBJECT_PLAYER)
        FUZZ_CHECK(cl->scope == PB_SCOPE_FULL && pb_tenancy_code_valid(cl->brand));
    else
        FUZZ_CHECK(cl->kind == PB_SUBJECT_STAFF && cl->role[0]);
    int64_t now_s = NOW_US / 1000000;
    FUZZ_CHECK(cl->exp > cl->iat && cl->exp - cl->iat <= TTL_S && cl->iat <= now_s + 30 &&
               cl->nbf <= now_s + 30 && cl->exp > now_s);
    json_decref(h);
    json_decref(p);
}

static void verify(const char *tok, bool ours)
{
    for (int a = 0; a < 2; a++) {
        const char *aud = a ? "pitboss-staff" : "pitboss-player";
        pb_jwt_claims cl;
        pb_err rc = pb_jwt_verify(ks, "pitboss", aud, TTL_S, tok, NOW_US, &cl);
        FUZZ_CHECK(rc == PB_OK || rc == PB_ERR_TOKEN_INVALID || rc == PB_ERR_TOKEN_EXPIRED);
        if (rc != PB_OK)
            continue;
        FUZZ_CHECK(ours);
        check_accepted(tok, aud, &cl);
        /* the same token with one signature character changed is never accepted */
        char *bad = strdup(tok);
        FUZZ_CHECK(bad != NULL);
        char *last = strrchr(bad, '.') + 1;
        last[0] = last[0] == 'A' ? 'B' : 'A';
        FUZZ_CHECK(pb_jwt_verify(ks, "pitboss", aud, TTL_S, bad, NOW_US, &cl) != PB_OK);
        free(bad);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *f[2];
    size_t fl[2];
    size_t nf = fuzz_split(data + 1, size - 1, f, fl, 2);
    int mode = data[0] % 3;
    if (mode == 0) {
        char *tok = fuzz_strndup(f[0], fl[0]);
        verify(tok, false);
        free(tok);
        if (nf > 1) {
            char *rt = fuzz_strndup(f[1], fl[1]);
            uint8_t h[32];
            size_t n = strlen(rt);
            if (pb_refresh_token_hash(rt, h))
                FUZZ_CHECK(n == 47 && memcmp(rt, "pbr_", 4) == 0 &&
                           strspn(rt + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789-_") == 43);
            free(rt);
        }
        return 0;
    }
    char hdr[128];
    const uint8_t *h = (const uint8_t *)hdr, *p = f[0];
    size_t hl, pl = fl[0];
    if (mode == 1) {
        hl = (size_t)snprintf(hdr, sizeof hdr,
                              "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}", kid);
    } else {
        h = f[0], hl = fl[0];
        p = nf > 1 ? f[1] : (const uint8_t *)"", pl = nf > 1 ? fl[1] : 0;
    }
    char tok[PB_ACCESS_TOKEN_MAX + 512];
    if (make_token(h, hl, p, pl, tok, sizeof tok))
        verify(tok, true);
    return 0;
}
