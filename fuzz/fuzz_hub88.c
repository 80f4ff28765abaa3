/*
 * fuzz_hub88.c — the Hub88 operator wallet protocol (src/provider/hub88.c):
 * RSA-SHA256 request signature verification, the PEM key loader, strict
 * parsing of the five request bodies, the request_uuid peek, the exact amount
 * conversion and the hand-written response renderers.
 *
 * A 2048-bit RSA key is generated once at start (LLVMFuzzerInitialize): the
 * harness plays Hub88 and signs what it fuzzes. Input: byte 0 picks the call
 * (low 3 bits, mod 5), bit 3 drops the Content-Type check, bit 4 signs the
 * body here (a millisecond, so not every run); the rest is split
 * at 0xFF into signature header, body and a PEM to load. Properties:
 *   - verify answers OK or SIGNATURE_INVALID only, OK only for exactly the
 *     signature of the body (PKCS#1 v1.5 is deterministic); the body signed
 *     here verifies, and fails with one byte of the body or one base64
 *     character of the signature changed;
 *   - any PEM loads as a key or is refused (FIELD_INVALID), never crashes;
 *   - a parsed request: request_uuid 1..64 of [A-Za-z0-9-], a bet's amount
 *     > 0, amount_minor is the exact conversion of amount (and converts
 *     back); a refusal maps to a status other than RS_OK;
 *   - the peeked request_uuid is "" or well-formed;
 *   - every rendered response is a valid JSON object that echoes the
 *     request_uuid and, with pb_hub88_with_request_uuid, another one.
 */
#include "fuzz.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "provider/hub88.h"

static EVP_PKEY *priv;
static pb_hub88_key *key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    priv = EVP_RSA_gen(2048);
    FUZZ_CHECK(priv != NULL);
    BIO *b = BIO_new(BIO_s_mem());
    FUZZ_CHECK(b && PEM_write_bio_PUBKEY(b, priv) == 1);
    char *pem = NULL;
    long n = BIO_get_mem_data(b, &pem);
    FUZZ_CHECK(pb_hub88_key_load(pem, (size_t)n, &key) == PB_OK);
    BIO_free(b);
    return 0;
}

/* base64(RSA-SHA256(body)) into out (NUL-terminated). */
static void sign(const char *body, size_t len, char out[512])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sig[256];
    size_t siglen = sizeof sig;
    FUZZ_CHECK(md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, priv) == 1 &&
               EVP_DigestSign(md, sig, &siglen, (const unsigned char *)body, len) == 1);
    EVP_MD_CTX_free(md);
    FUZZ_CHECK(EVP_EncodeBlock((unsigned char *)out, sig, (int)siglen) > 0);
}

static bool uuid_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= PB_HUB88_REQUEST_UUID_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static json_t *parse_rendered(const pb_wallet_response *r)
{
    FUZZ_CHECK(r->body && r->body_len == strlen(r->body));
    json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j))
        fprintf(stderr, "not a JSON object: %s\n", r->body);
    FUZZ_CHECK(json_is_object(j));
    return j;
}

static void check_uuid_echo(const pb_wallet_response *r, const char *uuid)
{
    json_t *j = parse_rendered(r);
    const char *got = json_string_value(json_object_get(j, "request_uuid"));
    FUZZ_CHECK(uuid[0] ? got && strcmp(got, uuid) == 0 : got == NULL);
    json_decref(j);
    pb_wallet_response again = {0};
    if (uuid[0] && pb_hub88_with_request_uuid(r->body, r->body_len, "retry-2", &again) == 0) {
        j = parse_rendered(&again);
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(j, "request_uuid")), "retry-2") == 0);
        json_decref(j);
        free(again.body);
    }
}

static void check_request(const pb_hub88_request *r)
{
    FUZZ_CHECK(r->user && r->request_uuid && uuid_ok(r->request_uuid));
    if (r->call == PB_HUB88_BET || r->call == PB_HUB88_WIN) {
        FUZZ_CHECK(r->cur && r->amount >= 0);
        if (r->call == PB_HUB88_BET)
            FUZZ_CHECK(r->amount > 0);
        int64_t minor = 0;
        FUZZ_CHECK(pb_hub88_amount_to_minor(r->amount, r->cur, &minor) == PB_OK &&
                   minor == r->amount_minor);
        if (r->cur->exponent <= PB_HUB88_AMOUNT_DIGITS)
            FUZZ_CHECK(pb_hub88_amount_from_minor(minor, r->cur) == r->amount);
    }
    pb_hub88_player who = {.brand = "demo", .player = r->user, .currency = "EUR"};
    pb_wallet_op op;
    memset(&op, 0, sizeof op);
    pb_err oe = pb_hub88_to_op(r, "hub88", &who, "4bf92f3577b34da6a3ce929d0e0e4736", &op);
    if (r->call == PB_HUB88_USER_INFO || r->call == PB_HUB88_USER_BALANCE) {
        FUZZ_CHECK(oe == PB_ERR_INVALID_REQUEST);
        pb_wallet_response info = {0};
        FUZZ_CHECK(pb_hub88_render_info(r->user, r->request_uuid, "MT", "demo", &info) == 0);
        check_uuid_echo(&info, r->request_uuid);
        free(info.body);
        return;
    }
    if (oe != PB_OK)
        return;
    FUZZ_CHECK(strcmp(op.tx_id, r->transaction_uuid) == 0);
    pb_wallet_outcome o = {
        .result = PB_OK, .cash = 150000, .bonus = 3, .held = 10, .cash_part = op.amount};
    op.result = PB_OK;
    FUZZ_CHECK(pb_hub88_render(op.render_ctx, &op, &o, &op.response) == 0);
    check_uuid_echo(&op.response, r->request_uuid);
    pb_wallet_response ans = {0};
    FUZZ_CHECK(pb_hub88_answer(&op, r->request_uuid, &ans) == 0);
    check_uuid_echo(&ans, r->request_uuid);
    free(ans.body);
    free(op.response.body);
    op.response = (pb_wallet_response){0};
    op.result = PB_ERR_INSUFFICIENT_FUNDS;
    op.outcome = (pb_wallet_outcome){.result = PB_ERR_INSUFFICIENT_FUNDS, .cash = 1};
    FUZZ_CHECK(pb_hub88_answer(&op, r->request_uuid, &ans) == 0);
    check_uuid_echo(&ans, r->request_uuid);
    free(ans.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pb_hub88_call call = (pb_hub88_call)((data[0] & 7) % 5);
    const uint8_t *f[3];
    size_t fl[3];
    size_t nf = fuzz_split(data + 1, size - 1, f, fl, 3);
    char *sig = fuzz_strndup(f[0], fl[0]);
    const char *body = nf > 1 ? (const char *)f[1] : "";
    size_t len = nf > 1 ? fl[1] : 0;

    /* signatures (signing costs a millisecond: only when bit 4 asks for it) */
    pb_err rc = pb_hub88_verify(key, sig, body, len);
    FUZZ_CHECK(rc == PB_OK || rc == PB_ERR_SIGNATURE_INVALID);
    char good[512];
    if (rc == PB_OK || (data[0] & 16))
        sign(body, len, good);
    if (rc == PB_OK)
        FUZZ_CHECK(strcmp(sig, good) == 0);
    if (data[0] & 16)
        FUZZ_CHECK(pb_hub88_verify(key, good, body, len) == PB_OK);
    FUZZ_CHECK(pb_hub88_verify(key, NULL, body, len) == PB_ERR_SIGNATURE_INVALID);
    if (len && (data[0] & 16)) {
        char *tampered = fuzz_strndup((const uint8_t *)body, len);
        tampered[len / 2] ^= 1;
        FUZZ_CHECK(pb_hub88_verify(key, good, tampered, len) == PB_ERR_SIGNATURE_INVALID);
        free(tampered);
        char bad[512];
        memcpy(bad, good, sizeof bad);
        size_t at = (uint8_t)body[0] % 300;
        bad[at] = bad[at] == 'A' ? 'B' : 'A';
        FUZZ_CHECK(pb_hub88_verify(key, bad, body, len) == PB_ERR_SIGNATURE_INVALID);
    }

    /* a PEM from the input */
    if (nf > 2) {
        pb_hub88_key *k = NULL;
        pb_err ke = pb_hub88_key_load((const char *)f[2], fl[2], &k);
        FUZZ_CHECK(ke == PB_OK ? k != NULL : ke == PB_ERR_FIELD_INVALID || ke == PB_ERR_INTERNAL);
        if (k) /* any key that loads verifies without crashing, whatever it answers */
            (void)pb_hub88_verify(k, sig, body, len);
        pb_hub88_key_unref(k);
    }

    /* the request */
    char peek[PB_HUB88_REQUEST_UUID_MAX + 1];
    memset(peek, 'x', sizeof peek);
    pb_hub88_peek_request_uuid(body, len, peek);
    FUZZ_CHECK(peek[0] == 0 || uuid_ok(peek));
    pb_hub88_request r;
    pb_json_error err;
    rc = pb_hub88_parse(call, body, len, (data[0] & 8) ? NULL : "application/json", &r, &err);
    if (rc == PB_OK) {
        FUZZ_CHECK(r.call == call && strcmp(peek, r.request_uuid) == 0);
        check_request(&r);
        pb_hub88_request_free(&r);
    } else {
        FUZZ_CHECK(err.code == rc && pb_hub88_status_for(rc) != PB_HUB88_RS_OK);
        pb_wallet_response resp = {0};
        const pb_currency *eur = pb_currency_find("EUR");
        FUZZ_CHECK(pb_hub88_render_status(200, pb_hub88_status_for(rc), NULL, peek, eur, -5,
                                          &resp) == 0);
        check_uuid_echo(&resp, peek);
        free(resp.body);
    }

    /* the amount conversion, on 8 bytes of the input */
    if (len >= 8) {
        int64_t a;
        memcpy(&a, body, 8);
        static const char *const codes[] = {"EUR", "JPY", "KWD", "USDT", "BTC"};
        for (size_t i = 0; i < 5; i++) {
            const pb_currency *cur = pb_currency_find(codes[i]);
            int64_t minor = 0;
            if (pb_hub88_amount_to_minor(a, cur, &minor) == PB_OK) {
                FUZZ_CHECK(a >= 0 && minor >= 0);
                if (cur->exponent <= PB_HUB88_AMOUNT_DIGITS)
                    FUZZ_CHECK(pb_hub88_amount_from_minor(minor, cur) == a);
            }
            int64_t h = pb_hub88_amount_from_minor(a, cur);
            if (cur->exponent > PB_HUB88_AMOUNT_DIGITS && a >= 0)
                FUZZ_CHECK(h >= 0 && h <= a);
        }
    }
    free(sig);
    return 0;
}
