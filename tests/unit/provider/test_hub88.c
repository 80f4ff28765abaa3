/*
 * test_hub88.c — the Hub88 operator wallet protocol without HTTP
 * (src/provider/hub88.c): RSA-SHA256 signatures with keys generated here
 * (valid, wrong key, a flipped body byte, a flipped signature byte, missing or
 * malformed header, unacceptable keys), amount conversion for EUR, JPY, KWD
 * and BTC including inexact amounts, strict parsing of every call, the
 * request → wallet op mapping, the status mapping and the exact bytes of the
 * responses (success, refusal with the balance, duplicates, failures).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "provider/hub88.h"

/* ---- keys made for the test ---- */

typedef struct keypair {
    EVP_PKEY *pkey;
    char *pem; /* public key, "BEGIN PUBLIC KEY" */
} keypair;

static keypair K1, K2; /* two 2048-bit keys: Hub88's and an impostor's */

static char *bio_string(BIO *bio)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    return s;
}

static void make_key(keypair *k, unsigned bits)
{
    k->pkey = EVP_RSA_gen(bits);
    assert_non_null(k->pkey);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, k->pkey), 1);
    k->pem = bio_string(bio);
    BIO_free(bio);
}

static void free_key(keypair *k)
{
    EVP_PKEY_free(k->pkey);
    free(k->pem);
    memset(k, 0, sizeof *k);
}

/* base64(RSA-SHA256(key, body)), malloc'd. */
static char *sign(EVP_PKEY *key, const char *body)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    size_t n = 0;
    assert_int_equal(EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(m, NULL, &n, (const unsigned char *)body, strlen(body)), 1);
    unsigned char *sig = malloc(n);
    assert_int_equal(EVP_DigestSign(m, sig, &n, (const unsigned char *)body, strlen(body)), 1);
    EVP_MD_CTX_free(m);
    char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, sig, (int)n);
    free(sig);
    return b64;
}

static int setup_keys(void **state)
{
    (void)state;
    make_key(&K1, 2048);
    make_key(&K2, 2048);
    return 0;
}

static int teardown_keys(void **state)
{
    (void)state;
    free_key(&K1);
    free_key(&K2);
    return 0;
}

static pb_hub88_key *load(const char *pem)
{
    pb_hub88_key *k = NULL;
    assert_int_equal(pb_hub88_key_load(pem, strlen(pem), &k), PB_OK);
    assert_non_null(k);
    return k;
}

/* ---- signatures ---- */

static void test_signature_ok(void **state)
{
    (void)state;
    pb_hub88_key *k = load(K1.pem);
    const char *body = "{\"user\":\"u1\",\"request_uuid\":\"r-1\"}";
    char *sig = sign(K1.pkey, body);
    assert_int_equal(pb_hub88_verify(k, sig, body, strlen(body)), PB_OK);
    /* a second reference verifies the same, and survives the first being dropped */
    pb_hub88_key *k2 = pb_hub88_key_ref(k);
    pb_hub88_key_unref(k);
    assert_int_equal(pb_hub88_verify(k2, sig, body, strlen(body)), PB_OK);
    pb_hub88_key_unref(k2);
    free(sig);
}

static void test_signature_wrong_key(void **state)
{
    (void)state;
    pb_hub88_key *k = load(K1.pem);
    const char *body = "{\"user\":\"u1\"}";
    char *sig = sign(K2.pkey, body); /* signed by someone else */
    assert_int_equal(pb_hub88_verify(k, sig, body, strlen(body)), PB_ERR_SIGNATURE_INVALID);
    free(sig);
    pb_hub88_key_unref(k);
}

static void test_signature_flipped_body_byte(void **state)
{
    (void)state;
    pb_hub88_key *k = load(K1.pem);
    char body[] = "{\"user\":\"u1\",\"amount\":100000}";
    char *sig = sign(K1.pkey, body);
    for (size_t i = 0; i < strlen(body); i += 7) {
        body[i] ^= 0x01;
        assert_int_equal(pb_hub88_verify(k, sig, body, strlen(body)), PB_ERR_SIGNATURE_INVALID);
        body[i] ^= 0x01;
    }
    assert_int_equal(pb_hub88_verify(k, sig, body, strlen(body)), PB_OK);
    /* the body is exactly the bytes received: a trailing newline is another body */
    char longer[64];
    snprintf(longer, sizeof longer, "%s\n", body);
    assert_int_equal(pb_hub88_verify(k, sig, longer, strlen(longer)), PB_ERR_SIGNATURE_INVALID);
    free(sig);
    pb_hub88_key_unref(k);
}

static void test_signature_flipped_signature_byte(void **state)
{
    (void)state;
    pb_hub88_key *k = load(K1.pem);
    const char *body = "{}";
    char *sig = sign(K1.pkey, body);
    /* change one base64 character in the middle: another (wrong) signature */
    size_t mid = strlen(sig) / 2;
    sig[mid] = sig[mid] == 'A' ? 'B' : 'A';
    assert_int_equal(pb_hub88_verify(k, sig, body, strlen(body)), PB_ERR_SIGNATURE_INVALID);
    free(sig);
    pb_hub88_key_unref(k);
}

static void test_signature_malformed_header(void **state)
{
    (void)state;
    pb_hub88_key *k = load(K1.pem);
    const char *body = "{}";
    char *sig = sign(K1.pkey, body);
    size_t n = strlen(sig);
    assert_int_equal(n, 344); /* 256 bytes */
    assert_int_equal(pb_hub88_verify(k, NULL, body, 2), PB_ERR_SIGNATURE_INVALID);
    assert_int_equal(pb_hub88_verify(k, "", body, 2), PB_ERR_SIGNATURE_INVALID);
    assert_int_equal(pb_hub88_verify(NULL, sig, body, 2), PB_ERR_SIGNATURE_INVALID);
    char buf[400];
    /* whitespace around it */
    snprintf(buf, sizeof buf, " %s", sig);
    assert_int_equal(pb_hub88_verify(k, buf, body, 2), PB_ERR_SIGNATURE_INVALID);
    /* padding removed */
    snprintf(buf, sizeof buf, "%.*s", (int)(n - 1), sig);
    assert_int_equal(sig[n - 1], '=');
    assert_int_equal(pb_hub88_verify(k, buf, body, 2), PB_ERR_SIGNATURE_INVALID);
    /* url-safe alphabet is not the standard one */
    snprintf(buf, sizeof buf, "%s", sig);
    for (char *p = buf; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    if (strcmp(buf, sig) != 0)
        assert_int_equal(pb_hub88_verify(k, buf, body, 2), PB_ERR_SIGNATURE_INVALID);
    /* a "sha256=" prefix like the native protocol's */
    snprintf(buf, sizeof buf, "sha256=%s", sig);
    assert_int_equal(pb_hub88_verify(k, buf, body, 2), PB_ERR_SIGNATURE_INVALID);
    /* a truncated signature of the right alphabet */
    assert_int_equal(pb_hub88_verify(k, "AAAA", body, 2), PB_ERR_SIGNATURE_INVALID);
    free(sig);
    pb_hub88_key_unref(k);
}

static void test_key_load(void **state)
{
    (void)state;
    pb_hub88_key *k = NULL;
    assert_int_equal(pb_hub88_key_load("", 0, &k), PB_ERR_FIELD_INVALID);
    assert_null(k);
    const char *junk = "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n";
    assert_int_equal(pb_hub88_key_load(junk, strlen(junk), &k), PB_ERR_FIELD_INVALID);
    assert_null(k);

    /* PKCS#1 "RSA PUBLIC KEY" is accepted and verifies the same signatures */
    {
        BIO *b1 = BIO_new(BIO_s_mem());
        OSSL_ENCODER_CTX *e = OSSL_ENCODER_CTX_new_for_pkey(K1.pkey, EVP_PKEY_PUBLIC_KEY, "PEM",
                                                            "type-specific", NULL);
        assert_non_null(e);
        assert_int_equal(OSSL_ENCODER_to_bio(e, b1), 1);
        OSSL_ENCODER_CTX_free(e);
        char *pem = bio_string(b1);
        BIO_free(b1);
        assert_non_null(strstr(pem, "BEGIN RSA PUBLIC KEY"));
        pb_hub88_key *pk = load(pem);
        char *sig = sign(K1.pkey, "x");
        assert_int_equal(pb_hub88_verify(pk, sig, "x", 1), PB_OK);
        free(sig);
        free(pem);
        pb_hub88_key_unref(pk);
    }

    /* too small an RSA key */
    keypair small;
    make_key(&small, 1024);
    assert_int_equal(pb_hub88_key_load(small.pem, strlen(small.pem), &k), PB_ERR_FIELD_INVALID);
    assert_null(k);
    free_key(&small);

    /* not RSA */
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    assert_non_null(ec);
    BIO *b2 = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(b2, ec), 1);
    char *ecpem = bio_string(b2);
    BIO_free(b2);
    EVP_PKEY_free(ec);
    assert_int_equal(pb_hub88_key_load(ecpem, strlen(ecpem), &k), PB_ERR_FIELD_INVALID);
    assert_null(k);
    free(ecpem);
}

/* ---- amounts ---- */

static const pb_currency *cur(const char *code)
{
    const pb_currency *c = pb_currency_find(code);
    assert_non_null(c);
    return c;
}

typedef struct amount_row {
    const char *currency;
    int64_t hub88;
    pb_err rc;
    int64_t minor;
} amount_row;

static void test_amount_to_minor(void **state)
{
    (void)state;
    static const amount_row rows[] = {
        /* EUR: 2 decimals → 1000 Hub88 units per cent */
        {"EUR", 356000, PB_OK, 356}, /* the documented $3.56 example */
        {"EUR", 0, PB_OK, 0},
        {"EUR", 1000, PB_OK, 1},
        {"EUR", 1, PB_ERR_AMOUNT_INVALID, 0},      /* 0.00001 EUR */
        {"EUR", 356500, PB_ERR_AMOUNT_INVALID, 0}, /* 3.565 EUR */
        {"EUR", -1000, PB_ERR_AMOUNT_INVALID, 0},
        {"EUR", INT64_MAX - INT64_MAX % 1000, PB_OK, (INT64_MAX - INT64_MAX % 1000) / 1000},
        /* JPY: no decimals → 100000 per yen */
        {"JPY", 100000, PB_OK, 1},
        {"JPY", 1500000, PB_OK, 15},
        {"JPY", 50000, PB_ERR_AMOUNT_INVALID, 0}, /* half a yen */
        {"JPY", 100001, PB_ERR_AMOUNT_INVALID, 0},
        /* KWD: 3 decimals → 100 per fils */
        {"KWD", 100, PB_OK, 1},
        {"KWD", 1234500, PB_OK, 12345},
        {"KWD", 10, PB_ERR_AMOUNT_INVALID, 0},
        {"KWD", 150, PB_ERR_AMOUNT_INVALID, 0},
        /* BTC: 8 decimals → one Hub88 unit is 1000 satoshi, always exact */
        {"BTC", 1, PB_OK, 1000},
        {"BTC", 100000, PB_OK, 100000000},
        {"BTC", INT64_MAX / 1000, PB_OK, INT64_MAX / 1000 * 1000},
        {"BTC", INT64_MAX / 1000 + 1, PB_ERR_AMOUNT_INVALID, 0}, /* overflows minor units */
        {"BTC", -1, PB_ERR_AMOUNT_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t minor = -42;
        pb_err rc = pb_hub88_amount_to_minor(rows[i].hub88, cur(rows[i].currency), &minor);
        if (rc != rows[i].rc || (rc == PB_OK && minor != rows[i].minor))
            print_error("row %zu: %s %lld → %s %lld\n", i, rows[i].currency,
                        (long long)rows[i].hub88, pb_err_code(rc), (long long)minor);
        assert_int_equal(rc, rows[i].rc);
        if (rc == PB_OK)
            assert_int_equal(minor, rows[i].minor);
        else
            assert_int_equal(minor, -42); /* untouched */
    }
    assert_int_equal(pb_hub88_amount_to_minor(1000, NULL, &(int64_t){0}), PB_ERR_AMOUNT_INVALID);
}

static void test_amount_from_minor(void **state)
{
    (void)state;
    assert_int_equal(pb_hub88_amount_from_minor(356, cur("EUR")), 356000);
    assert_int_equal(pb_hub88_amount_from_minor(-5, cur("EUR")), -5000);
    assert_int_equal(pb_hub88_amount_from_minor(15, cur("JPY")), 1500000);
    assert_int_equal(pb_hub88_amount_from_minor(12345, cur("KWD")), 1234500);
    /* finer than 1/100000: toward zero, never more than the player has */
    assert_int_equal(pb_hub88_amount_from_minor(1999, cur("BTC")), 1);
    assert_int_equal(pb_hub88_amount_from_minor(999, cur("BTC")), 0);
    assert_int_equal(pb_hub88_amount_from_minor(100000000, cur("BTC")), 100000);
    /* saturating */
    assert_int_equal(pb_hub88_amount_from_minor(INT64_MAX / 2, cur("EUR")), INT64_MAX);
    assert_int_equal(pb_hub88_amount_from_minor(INT64_MIN / 2, cur("EUR")), INT64_MIN);
    /* round trip for every exponent <= 5 */
    const char *codes[] = {"EUR", "JPY", "KWD"};
    for (size_t i = 0; i < 3; i++) {
        int64_t back;
        int64_t h = pb_hub88_amount_from_minor(987654, cur(codes[i]));
        assert_int_equal(pb_hub88_amount_to_minor(h, cur(codes[i]), &back), PB_OK);
        assert_int_equal(back, 987654);
    }
    /* balance = cash - held + bonus */
    assert_int_equal(pb_hub88_balance(1000, 300, 50, cur("EUR")), 750000);
}

/* ---- parsing ---- */

static const char *CT = "application/json";

#define BET_BODY                                                                          \
    "{\"user\":\"0190f1c2-0000-7000-8000-000000000001\",\"transaction_uuid\":\"tx-1\","   \
    "\"supplier_transaction_id\":\"s-1\",\"token\":\"tok_abc\",\"supplier_user\":null,"   \
    "\"round_closed\":false,\"round\":\"r-1\",\"reward_uuid\":null,\"request_uuid\":"     \
    "\"583c985f-fee6-4c0e-bbf5-308aad6265af\",\"is_free\":false,\"is_aggregated\":false," \
    "\"game_id\":7,\"game_code\":\"slot-1\",\"currency\":\"EUR\",\"bet\":\"zero\","       \
    "\"amount\":356000,\"meta\":{\"selection\":\"home_team\"}}"

static pb_err parse(pb_hub88_call call, const char *body, pb_hub88_request *r, pb_json_error *e)
{
    return pb_hub88_parse(call, body, strlen(body), CT, r, e);
}

static void test_parse_bet(void **state)
{
    (void)state;
    pb_hub88_request r;
    pb_json_error e;
    assert_int_equal(parse(PB_HUB88_BET, BET_BODY, &r, &e), PB_OK);
    assert_string_equal(r.user, "0190f1c2-0000-7000-8000-000000000001");
    assert_string_equal(r.transaction_uuid, "tx-1");
    assert_string_equal(r.token, "tok_abc");
    assert_string_equal(r.round, "r-1");
    assert_string_equal(r.game_code, "slot-1");
    assert_string_equal(r.request_uuid, "583c985f-fee6-4c0e-bbf5-308aad6265af");
    assert_string_equal(r.currency, "EUR");
    assert_ptr_equal(r.cur, pb_currency_find("EUR"));
    assert_int_equal(r.amount, 356000);
    assert_int_equal(r.amount_minor, 356);
    assert_false(r.round_closed);
    assert_false(r.is_free);
    assert_null(r.reference_transaction_uuid);
    pb_hub88_request_free(&r);

    /* only what is needed */
    const char *min = "{\"user\":\"u-1\",\"transaction_uuid\":\"tx-1\",\"token\":\"t\","
                      "\"round\":\"r\",\"request_uuid\":\"q\",\"game_code\":\"g\","
                      "\"currency\":\"JPY\",\"amount\":200000,\"round_closed\":true,"
                      "\"is_free\":true}";
    assert_int_equal(parse(PB_HUB88_BET, min, &r, &e), PB_OK);
    assert_int_equal(r.amount_minor, 2);
    assert_true(r.round_closed);
    assert_true(r.is_free);
    assert_false(r.is_supplier_promo);
    pb_hub88_request_free(&r);

    /* a free bet of 0 (is_free or is_supplier_promo) parses: the HTTP side refuses it
     * as a free bet, stored; an ordinary bet of 0 is AMOUNT_INVALID (the cases below) */
    static const char *const zero[] = {"\"is_free\":true", "\"is_supplier_promo\":true"};
    for (size_t i = 0; i < 2; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"user\":\"u-1\",\"transaction_uuid\":\"tx-1\",\"token\":\"t\","
                 "\"round\":\"r\",\"request_uuid\":\"q\",\"game_code\":\"g\","
                 "\"currency\":\"EUR\",\"amount\":0,%s}",
                 zero[i]);
        assert_int_equal(parse(PB_HUB88_BET, body, &r, &e), PB_OK);
        assert_int_equal(r.amount_minor, 0);
        assert_true(r.is_free || r.is_supplier_promo);
        pb_hub88_request_free(&r);
    }

    /* is_supplier_promo (Hub88 forwards it on bets and wins since May 2025): a bool or null */
#define PROMO_BODY                                                                     \
    "{\"user\":\"u-1\",\"transaction_uuid\":\"tx-1\",\"token\":\"t\",\"round\":\"r\"," \
    "\"request_uuid\":\"q\",\"game_code\":\"g\",\"currency\":\"EUR\",\"amount\":1000," \
    "\"is_supplier_promo\":%s%s}"
    static const char *const flags[] = {"false", "null", "true"};
    for (size_t i = 0; i < 3; i++) {
        for (int win = 0; win < 2; win++) {
            char body[512];
            snprintf(body, sizeof body, PROMO_BODY, flags[i],
                     win ? ",\"reference_transaction_uuid\":\"tx-0\"" : "");
            assert_int_equal(parse(win ? PB_HUB88_WIN : PB_HUB88_BET, body, &r, &e), PB_OK);
            assert_int_equal(r.is_supplier_promo, i == 2);
            assert_false(r.is_free);
            pb_hub88_request_free(&r);
        }
    }
    char body[512];
    snprintf(body, sizeof body, PROMO_BODY, "\"yes\"", "");
    assert_int_equal(parse(PB_HUB88_BET, body, &r, &e), PB_ERR_FIELD_INVALID);
    assert_string_equal(e.field, "is_supplier_promo");
    /* not a field of a rollback */
    const char *rb = "{\"user\":\"u-1\",\"transaction_uuid\":\"tx-1\",\"token\":\"t\","
                     "\"round\":\"r\",\"request_uuid\":\"q\",\"game_code\":\"g\","
                     "\"reference_transaction_uuid\":\"tx-0\",\"is_supplier_promo\":false}";
    assert_int_equal(parse(PB_HUB88_ROLLBACK, rb, &r, &e), PB_ERR_UNKNOWN_FIELD);
}

typedef struct bad_row {
    pb_hub88_call call;
    const char *body;
    pb_err code;
    const char *field;
    pb_hub88_status status;
} bad_row;

static void test_parse_refusals(void **state)
{
    (void)state;
#define B(extra)                                                                       \
    "{\"user\":\"u-1\",\"transaction_uuid\":\"tx-1\",\"token\":\"t\",\"round\":\"r\"," \
    "\"request_uuid\":\"q\",\"game_code\":\"g\"" extra "}"
    static const bad_row rows[] = {
        {PB_HUB88_BET, "{", PB_ERR_INVALID_JSON, NULL, PB_HUB88_RS_ERROR_WRONG_SYNTAX},
        {PB_HUB88_BET, "[1]", PB_ERR_INVALID_REQUEST, NULL, PB_HUB88_RS_ERROR_WRONG_SYNTAX},
        {PB_HUB88_BET, B(",\"currency\":\"EUR\""), PB_ERR_FIELD_MISSING, "amount",
         PB_HUB88_RS_ERROR_WRONG_SYNTAX},
        {PB_HUB88_BET, B(",\"amount\":1000"), PB_ERR_FIELD_MISSING, "currency",
         PB_HUB88_RS_ERROR_WRONG_SYNTAX},
        {PB_HUB88_BET, B(",\"currency\":\"EUR\",\"amount\":1000,\"extra\":1"), PB_ERR_UNKNOWN_FIELD,
         "extra", PB_HUB88_RS_ERROR_WRONG_SYNTAX},
        {PB_HUB88_BET, B(",\"currency\":\"EUR\",\"amount\":\"1000\""), PB_ERR_FIELD_INVALID,
         "amount", PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_BET, B(",\"currency\":\"EUR\",\"amount\":1000.0"), PB_ERR_FIELD_INVALID, "amount",
         PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_BET, B(",\"currency\":\"EUR\",\"amount\":99999999999999999999"),
         PB_ERR_FIELD_INVALID, "amount", PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_BET, B(",\"currency\":\"EUR\",\"amount\":1"), PB_ERR_AMOUNT_INVALID, "amount",
         PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_BET, B(",\"currency\":\"EUR\",\"amount\":0"), PB_ERR_AMOUNT_INVALID, "amount",
         PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_BET, B(",\"currency\":\"EUR\",\"amount\":-1000"), PB_ERR_AMOUNT_INVALID, "amount",
         PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_BET, B(",\"currency\":\"XXX\",\"amount\":1000"), PB_ERR_CURRENCY_UNKNOWN,
         "currency", PB_HUB88_RS_ERROR_WRONG_CURRENCY},
        {PB_HUB88_BET, B(",\"currency\":\"eur\",\"amount\":1000"), PB_ERR_CURRENCY_UNKNOWN,
         "currency", PB_HUB88_RS_ERROR_WRONG_CURRENCY},
        {PB_HUB88_BET, B(",\"currency\":7,\"amount\":1000"), PB_ERR_FIELD_INVALID, "currency",
         PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_BET, B(",\"currency\":\"EUR\",\"amount\":1000,\"round_closed\":\"yes\""),
         PB_ERR_FIELD_INVALID, "round_closed", PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_BET, B(",\"currency\":\"EUR\",\"amount\":1000,\"meta\":[]"), PB_ERR_FIELD_INVALID,
         "meta", PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_BET,
         "{\"user\":\"u-1\",\"transaction_uuid\":\"tx 1\",\"token\":\"t\",\"round\":\"r\","
         "\"request_uuid\":\"q\",\"game_code\":\"g\",\"currency\":\"EUR\",\"amount\":1000}",
         PB_ERR_FIELD_INVALID, "transaction_uuid", PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_BET,
         "{\"user\":\"u-1\",\"transaction_uuid\":\"tx\",\"token\":\"t\",\"round\":\"r\","
         "\"request_uuid\":\"q\\\"x\",\"game_code\":\"g\",\"currency\":\"EUR\",\"amount\":1000}",
         PB_ERR_FIELD_INVALID, "request_uuid", PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_BET,
         "{\"user\":\"\",\"transaction_uuid\":\"tx\",\"token\":\"t\",\"round\":\"r\","
         "\"request_uuid\":\"q\",\"game_code\":\"g\",\"currency\":\"EUR\",\"amount\":1000}",
         PB_ERR_FIELD_INVALID, "user", PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_HUB88_WIN, B(",\"currency\":\"EUR\",\"amount\":1000"), PB_ERR_FIELD_MISSING,
         "reference_transaction_uuid", PB_HUB88_RS_ERROR_WRONG_SYNTAX},
        {PB_HUB88_ROLLBACK, B(",\"reference_transaction_uuid\":\"b\",\"amount\":1000"),
         PB_ERR_UNKNOWN_FIELD, "amount", PB_HUB88_RS_ERROR_WRONG_SYNTAX},
        {PB_HUB88_USER_INFO, "{\"user\":\"u-1\",\"request_uuid\":\"q\",\"token\":\"t\"}",
         PB_ERR_UNKNOWN_FIELD, "token", PB_HUB88_RS_ERROR_WRONG_SYNTAX},
        {PB_HUB88_USER_BALANCE, "{\"user\":\"u-1\",\"request_uuid\":\"q\"}", PB_ERR_FIELD_MISSING,
         "token", PB_HUB88_RS_ERROR_WRONG_SYNTAX},
        {PB_HUB88_USER_INFO, "{\"user\":\"u-1\",\"request_uuid\":\"q\",\"user\":\"u-2\"}",
         PB_ERR_INVALID_JSON, "user", PB_HUB88_RS_ERROR_WRONG_SYNTAX},
    };
#undef B
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        pb_hub88_request r;
        pb_json_error e;
        pb_err rc = parse(rows[i].call, rows[i].body, &r, &e);
        if (rc != rows[i].code)
            print_error("row %zu: %s (%s: %s)\n", i, pb_err_code(rc), e.field ? e.field : "-",
                        e.message);
        assert_int_equal(rc, rows[i].code);
        assert_null(r.doc); /* nothing to free */
        if (rows[i].field) {
            assert_non_null(e.field);
            assert_string_equal(e.field, rows[i].field);
        }
        assert_int_equal(pb_hub88_status_for(rc), rows[i].status);
    }
    /* content type */
    pb_hub88_request r;
    pb_json_error e;
    assert_int_equal(pb_hub88_parse(PB_HUB88_USER_INFO, "{}", 2, "text/plain", &r, &e),
                     PB_ERR_UNSUPPORTED_MEDIA_TYPE);
    assert_int_equal(pb_hub88_status_for(e.code), PB_HUB88_RS_ERROR_WRONG_SYNTAX);
}

static void test_parse_other_calls(void **state)
{
    (void)state;
    pb_hub88_request r;
    pb_json_error e;
    assert_int_equal(parse(PB_HUB88_USER_INFO, "{\"user\":\"u-1\",\"request_uuid\":\"q-1\"}", &r,
                           &e),
                     PB_OK);
    assert_string_equal(r.user, "u-1");
    assert_null(r.token);
    pb_hub88_request_free(&r);

    assert_int_equal(parse(PB_HUB88_USER_BALANCE,
                           "{\"user\":\"u-1\",\"request_uuid\":\"q-1\",\"token\":\"t\","
                           "\"game_code\":null,\"supplier_user\":\"s\"}",
                           &r, &e),
                     PB_OK);
    assert_string_equal(r.token, "t");
    assert_null(r.game_code);
    pb_hub88_request_free(&r);

    const char *win = "{\"user\":\"u-1\",\"transaction_uuid\":\"w-1\",\"token\":\"t\","
                      "\"round\":\"r\",\"request_uuid\":\"q\",\"game_code\":\"g\","
                      "\"reference_transaction_uuid\":\"b-1\",\"currency\":\"KWD\","
                      "\"amount\":0,\"round_closed\":true}";
    assert_int_equal(parse(PB_HUB88_WIN, win, &r, &e), PB_OK); /* a win may pay nothing */
    assert_string_equal(r.reference_transaction_uuid, "b-1");
    assert_int_equal(r.amount_minor, 0);
    assert_true(r.round_closed);
    pb_hub88_request_free(&r);

    const char *rb = "{\"user\":\"u-1\",\"transaction_uuid\":\"rb-1\",\"token\":\"t\","
                     "\"round\":\"r\",\"request_uuid\":\"q\",\"game_code\":\"g\","
                     "\"reference_transaction_uuid\":\"b-1\",\"round_closed\":true,"
                     "\"supplier_transaction_id\":null,\"meta\":null}";
    assert_int_equal(parse(PB_HUB88_ROLLBACK, rb, &r, &e), PB_OK);
    assert_null(r.currency);
    pb_hub88_request_free(&r);
}

static void test_peek_request_uuid(void **state)
{
    (void)state;
    char out[PB_HUB88_REQUEST_UUID_MAX + 1];
    const char *ok = "{\"request_uuid\":\"583c985f-fee6-4c0e-bbf5-308aad6265af\",\"x\":1}";
    pb_hub88_peek_request_uuid(ok, strlen(ok), out);
    assert_string_equal(out, "583c985f-fee6-4c0e-bbf5-308aad6265af");
    const char *big = "{\"amount\":99999999999999999999999,\"request_uuid\":\"q-9\"}";
    pb_hub88_peek_request_uuid(big, strlen(big), out);
    assert_string_equal(out, "q-9");
    const char *bad[] = {"{\"request_uuid\":\"a\\\"b\"}", "{\"request_uuid\":7}", "nope", "",
                         "{\"request_uuid\":\"\"}",       "[\"request_uuid\"]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(out, "junk");
        pb_hub88_peek_request_uuid(bad[i], strlen(bad[i]), out);
        assert_string_equal(out, "");
    }
}

/* ---- mapping ---- */

static const pb_hub88_player WHO = {.brand = "alpha",
                                    .player = "0190f1c2-0000-7000-8000-000000000001",
                                    .currency = "EUR"};

static void test_to_op(void **state)
{
    (void)state;
    pb_hub88_request r;
    pb_json_error e;
    pb_wallet_op op;
    assert_int_equal(parse(PB_HUB88_BET, BET_BODY, &r, &e), PB_OK);
    assert_int_equal(pb_hub88_to_op(&r, "hub88", &WHO, "trace-1", &op), PB_OK);
    assert_int_equal(op.kind, PB_WALLET_BET);
    assert_string_equal(op.provider, "hub88");
    assert_string_equal(op.tx_id, "tx-1");
    assert_string_equal(op.round_id, "r-1");
    assert_string_equal(op.bet_tx_id, "");
    assert_string_equal(op.game, "slot-1");
    assert_string_equal(op.brand, "alpha");
    assert_string_equal(op.player, WHO.player);
    assert_string_equal(op.currency, "EUR");
    assert_string_equal(op.request_currency, "EUR");
    assert_int_equal(op.amount, 356);
    assert_false(op.close_round);
    assert_string_equal(op.trace_id, "trace-1");
    assert_ptr_equal(op.render, pb_hub88_render);
    assert_string_equal((const char *)op.render_ctx, "583c985f-fee6-4c0e-bbf5-308aad6265af");
    /* a launch in another currency: the accounts' currency is the launch's, the
     * request's is kept beside it (part of the request's identity) */
    pb_hub88_player jpy = WHO;
    jpy.currency = "JPY";
    assert_int_equal(pb_hub88_to_op(&r, "hub88", &jpy, "", &op), PB_OK);
    assert_string_equal(op.currency, "JPY");
    assert_string_equal(op.request_currency, "EUR");
    pb_hub88_request_free(&r);

    const char *rb = "{\"user\":\"u-1\",\"transaction_uuid\":\"rb-1\",\"token\":\"t\","
                     "\"round\":\"r\",\"request_uuid\":\"q\",\"game_code\":\"g\","
                     "\"reference_transaction_uuid\":\"b-1\",\"round_closed\":true}";
    assert_int_equal(parse(PB_HUB88_ROLLBACK, rb, &r, &e), PB_OK);
    assert_int_equal(pb_hub88_to_op(&r, "hub88", &WHO, "", &op), PB_OK);
    assert_int_equal(op.kind, PB_WALLET_ROLLBACK);
    assert_string_equal(op.bet_tx_id, "b-1");
    assert_string_equal(op.request_currency, ""); /* a rollback names none */
    assert_int_equal(op.amount, 0);
    assert_true(op.close_round); /* round_closed: the wallet closes the round with it */
    pb_hub88_request_free(&r);

    assert_int_equal(parse(PB_HUB88_USER_INFO, "{\"user\":\"u-1\",\"request_uuid\":\"q\"}", &r, &e),
                     PB_OK);
    assert_int_equal(pb_hub88_to_op(&r, "hub88", &WHO, "", &op), PB_ERR_INVALID_REQUEST);
    pb_hub88_request_free(&r);

    /* a provider code too long for the op */
    assert_int_equal(parse(PB_HUB88_BET, BET_BODY, &r, &e), PB_OK);
    assert_int_equal(pb_hub88_to_op(&r, "p123456789012345678901234567890123", &WHO, "", &op),
                     PB_ERR_INVALID_REQUEST);
    pb_hub88_request_free(&r);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(pb_hub88_status_name(PB_HUB88_RS_OK), "RS_OK");
    assert_string_equal(pb_hub88_status_name(PB_HUB88_RS_ERROR_NOT_ENOUGH_MONEY),
                        "RS_ERROR_NOT_ENOUGH_MONEY");
    assert_string_equal(pb_hub88_status_name(PB_HUB88_RS_ERROR_TRANSACTION_DOES_NOT_EXIST),
                        "RS_ERROR_TRANSACTION_DOES_NOT_EXIST");
    assert_string_equal(pb_hub88_status_name(PB_HUB88_STATUS_COUNT_), "RS_ERROR_UNKNOWN");
    static const struct {
        pb_err e;
        pb_hub88_status s;
    } map[] = {
        {PB_OK, PB_HUB88_RS_OK},
        {PB_ERR_INSUFFICIENT_FUNDS, PB_HUB88_RS_ERROR_NOT_ENOUGH_MONEY},
        {PB_ERR_IDEMPOTENCY_CONFLICT, PB_HUB88_RS_ERROR_DUPLICATE_TRANSACTION},
        {PB_ERR_BET_NOT_FOUND, PB_HUB88_RS_ERROR_TRANSACTION_DOES_NOT_EXIST},
        /* a win naming the player's refused bet: as a bet never seen, but stored */
        {PB_ERR_BET_REFUSED, PB_HUB88_RS_ERROR_TRANSACTION_DOES_NOT_EXIST},
        /* a win or rollback naming the player's win, rollback or close */
        {PB_ERR_TRANSACTION_NOT_BET, PB_HUB88_RS_ERROR_WRONG_TYPES},
        {PB_ERR_TRANSACTION_ROLLED_BACK, PB_HUB88_RS_ERROR_TRANSACTION_ROLLED_BACK},
        {PB_ERR_TOKEN_EXPIRED, PB_HUB88_RS_ERROR_TOKEN_EXPIRED},
        {PB_ERR_TOKEN_INVALID, PB_HUB88_RS_ERROR_INVALID_TOKEN},
        {PB_ERR_CURRENCY_MISMATCH, PB_HUB88_RS_ERROR_WRONG_CURRENCY},
        {PB_ERR_CURRENCY_NOT_ALLOWED, PB_HUB88_RS_ERROR_WRONG_CURRENCY},
        {PB_ERR_PLAYER_BLOCKED, PB_HUB88_RS_ERROR_USER_DISABLED},
        {PB_ERR_PLAYER_SELF_EXCLUDED, PB_HUB88_RS_ERROR_USER_DISABLED},
        {PB_ERR_SIGNATURE_INVALID, PB_HUB88_RS_ERROR_INVALID_SIGNATURE},
        {PB_ERR_GAME_NOT_FOUND, PB_HUB88_RS_ERROR_INVALID_GAME},
        {PB_ERR_GAME_DISABLED, PB_HUB88_RS_ERROR_INVALID_GAME},
        {PB_ERR_GAME_MISMATCH, PB_HUB88_RS_ERROR_INVALID_GAME},
        {PB_ERR_PROVIDER_DISABLED, PB_HUB88_RS_ERROR_INVALID_PARTNER},
        {PB_ERR_BET_LIMIT, PB_HUB88_RS_ERROR_LIMIT_REACHED},
        {PB_ERR_ROUND_HAS_WIN, PB_HUB88_RS_ERROR_UNKNOWN},
        {PB_ERR_ROUND_CLOSED, PB_HUB88_RS_ERROR_UNKNOWN},
        {PB_ERR_ROUND_MISMATCH, PB_HUB88_RS_ERROR_UNKNOWN},
        {PB_ERR_INTERNAL, PB_HUB88_RS_ERROR_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        assert_int_equal(pb_hub88_status_for(map[i].e), map[i].s);
}

/* ---- responses ---- */

static void assert_body(const pb_wallet_response *r, int status, const char *want)
{
    assert_int_equal(r->status, status);
    assert_non_null(r->body);
    assert_int_equal(r->body_len, strlen(want));
    assert_memory_equal(r->body, want, strlen(want));
}

static pb_wallet_op op_for(pb_hub88_call call)
{
    pb_wallet_op op;
    memset(&op, 0, sizeof op);
    op.kind = call == PB_HUB88_BET ? PB_WALLET_BET : PB_WALLET_WIN;
    snprintf(op.player, sizeof op.player, "%s", WHO.player);
    snprintf(op.currency, sizeof op.currency, "EUR");
    op.render = pb_hub88_render;
    return op;
}

#define P "0190f1c2-0000-7000-8000-000000000001"

static void test_render(void **state)
{
    (void)state;
    pb_wallet_op op = op_for(PB_HUB88_BET);
    pb_wallet_outcome o = {.result = PB_OK, .cash = 1000, .bonus = 250, .held = 100};
    pb_wallet_response r = {0};
    assert_int_equal(pb_hub88_render("req-1", &op, &o, &r), 0);
    assert_body(&r, 200,
                "{\"user\":\"" P "\",\"status\":\"RS_OK\",\"request_uuid\":\"req-1\","
                "\"currency\":\"EUR\",\"balance\":1150000}");
    free(r.body);

    /* not enough money: the current balance goes with it */
    o = (pb_wallet_outcome){.result = PB_ERR_INSUFFICIENT_FUNDS, .cash = 50};
    assert_int_equal(pb_hub88_render("req-2", &op, &o, &r), 0);
    assert_body(&r, 200,
                "{\"user\":\"" P "\",\"status\":\"RS_ERROR_NOT_ENOUGH_MONEY\","
                "\"request_uuid\":\"req-2\",\"currency\":\"EUR\",\"balance\":50000}");
    free(r.body);

    /* a refusal decided before the ledger (the player gate): no balance was read */
    o = (pb_wallet_outcome){.result = PB_ERR_PLAYER_BLOCKED};
    assert_int_equal(pb_hub88_render("req-3", &op, &o, &r), 0);
    assert_body(&r, 200,
                "{\"user\":\"" P "\",\"status\":\"RS_ERROR_USER_DISABLED\","
                "\"request_uuid\":\"req-3\"}");
    free(r.body);

    /* user/info */
    assert_int_equal(pb_hub88_render_info(P, "q-1", "MT", "alpha", &r), 0);
    assert_body(&r, 200,
                "{\"user\":\"" P "\",\"status\":\"RS_OK\",\"request_uuid\":\"q-1\","
                "\"country\":\"MT\",\"sub_partner_id\":\"alpha\"}");
    free(r.body);
    assert_int_equal(pb_hub88_render_info(P, "q-1", "", NULL, &r), 0);
    assert_body(&r, 200, "{\"user\":\"" P "\",\"status\":\"RS_OK\",\"request_uuid\":\"q-1\"}");
    free(r.body);

    /* the generic form */
    assert_int_equal(pb_hub88_render_status(200, PB_HUB88_RS_ERROR_INVALID_SIGNATURE, NULL, "",
                                            NULL, 0, &r),
                     0);
    assert_body(&r, 200, "{\"status\":\"RS_ERROR_INVALID_SIGNATURE\"}");
    free(r.body);
    assert_int_equal(pb_hub88_render_status(200, PB_HUB88_RS_OK, "we\"ird", "q",
                                            pb_currency_find("JPY"), 1500000, &r),
                     0);
    assert_body(&r, 200,
                "{\"user\":\"we\\\"ird\",\"status\":\"RS_OK\",\"request_uuid\":\"q\","
                "\"currency\":\"JPY\",\"balance\":1500000}");
    free(r.body);
}

static void test_answer(void **state)
{
    (void)state;
    pb_wallet_op op = op_for(PB_HUB88_BET);
    pb_wallet_response r;

    /* freshly decided: the rendered response, copied */
    op.result = PB_OK;
    op.outcome = (pb_wallet_outcome){.result = PB_OK, .cash = 10};
    assert_int_equal(pb_hub88_render("first", &op, &op.outcome, &op.response), 0);
    char *original = calloc(1, op.response.body_len + 1);
    memcpy(original, op.response.body, op.response.body_len);
    assert_int_equal(pb_hub88_answer(&op, "first", &r), 0);
    assert_body(&r, 200, original);
    assert_ptr_not_equal(r.body, op.response.body);
    free(r.body);

    /* a duplicate: the stored bytes with this request's request_uuid */
    op.duplicate = true;
    assert_int_equal(pb_hub88_answer(&op, "first", &r), 0);
    assert_body(&r, 200, original); /* the same request_uuid: byte for byte */
    free(r.body);
    assert_int_equal(pb_hub88_answer(&op, "second-0000", &r), 0);
    assert_body(&r, 200,
                "{\"user\":\"" P "\",\"status\":\"RS_OK\",\"request_uuid\":\"second-0000\","
                "\"currency\":\"EUR\",\"balance\":10000}");
    free(r.body);
    /* the stored one stays as it was (the balance then, not now) */
    op.outcome.cash = 999;
    assert_int_equal(pb_hub88_answer(&op, "x", &r), 0);
    assert_non_null(strstr(r.body, "\"balance\":10000}"));
    free(r.body);
    free(op.response.body);
    free(original);
    memset(&op.response, 0, sizeof op.response);
    op.duplicate = false;

    /* the same transaction with other content: not stored, rendered now */
    op.result = PB_ERR_IDEMPOTENCY_CONFLICT;
    op.outcome = (pb_wallet_outcome){.result = PB_ERR_IDEMPOTENCY_CONFLICT, .cash = 70};
    assert_int_equal(pb_hub88_answer(&op, "q", &r), 0);
    assert_body(&r, 200,
                "{\"user\":\"" P "\",\"status\":\"RS_ERROR_DUPLICATE_TRANSACTION\","
                "\"request_uuid\":\"q\",\"currency\":\"EUR\",\"balance\":70000}");
    free(r.body);

    /* a win naming a bet never seen */
    op.result = PB_ERR_BET_NOT_FOUND;
    op.outcome = (pb_wallet_outcome){.result = PB_ERR_BET_NOT_FOUND, .cash = 70};
    assert_int_equal(pb_hub88_answer(&op, "q", &r), 0);
    assert_body(&r, 200,
                "{\"user\":\"" P "\",\"status\":\"RS_ERROR_TRANSACTION_DOES_NOT_EXIST\","
                "\"request_uuid\":\"q\",\"currency\":\"EUR\",\"balance\":70000}");
    free(r.body);

    /* nothing happened: a failure Hub88 retries, not a final answer */
    op.result = PB_ERR_INTERNAL;
    assert_int_equal(pb_hub88_answer(&op, "q", &r), 0);
    assert_body(&r, 500, "{\"status\":\"RS_ERROR_UNKNOWN\",\"request_uuid\":\"q\"}");
    free(r.body);
    op.result = PB_ERR_STORE_UNAVAILABLE;
    assert_int_equal(pb_hub88_answer(&op, "q", &r), 0);
    assert_body(&r, 503, "{\"status\":\"RS_ERROR_UNKNOWN\",\"request_uuid\":\"q\"}");
    free(r.body);
    /* a damaged ledger row, a call made on a ledger thread: ours, retried, never final */
    op.result = PB_ERR_STORE_CORRUPT;
    assert_int_equal(pb_hub88_answer(&op, "q", &r), 0);
    assert_body(&r, 500, "{\"status\":\"RS_ERROR_UNKNOWN\",\"request_uuid\":\"q\"}");
    free(r.body);
    op.result = PB_ERR_LEDGER_REENTRANT;
    assert_int_equal(pb_hub88_answer(&op, "q", &r), 0);
    assert_body(&r, 500, "{\"status\":\"RS_ERROR_UNKNOWN\",\"request_uuid\":\"q\"}");
    free(r.body);

    /* the rewrite needs the key; a stored body without one is sent as it is */
    assert_int_equal(pb_hub88_with_request_uuid("{\"status\":\"RS_OK\"}", 18, "q", &r), -1);
    op.result = PB_OK;
    op.duplicate = true;
    op.response.status = 200;
    op.response.body = calloc(1, 32);
    strcpy(op.response.body, "{\"status\":\"RS_OK\"}");
    op.response.body_len = 18;
    assert_int_equal(pb_hub88_answer(&op, "q", &r), 0);
    assert_body(&r, 200, "{\"status\":\"RS_OK\"}");
    free(r.body);
    free(op.response.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_ok),
        cmocka_unit_test(test_signature_wrong_key),
        cmocka_unit_test(test_signature_flipped_body_byte),
        cmocka_unit_test(test_signature_flipped_signature_byte),
        cmocka_unit_test(test_signature_malformed_header),
        cmocka_unit_test(test_key_load),
        cmocka_unit_test(test_amount_to_minor),
        cmocka_unit_test(test_amount_from_minor),
        cmocka_unit_test(test_parse_bet),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_parse_other_calls),
        cmocka_unit_test(test_peek_request_uuid),
        cmocka_unit_test(test_to_op),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_answer),
    };
    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
