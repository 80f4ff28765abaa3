/*
 * test_native.c — the native protocol without HTTP: request signatures (a
 * known HMAC vector, the right key, a wrong key, a flipped body byte, a flipped
 * signature digit, missing and malformed headers, stale and future
 * timestamps, the window's edge), every parsing rule of every call (required,
 * unknown, wrong type, over-long and non-printable ids, currency, amounts per
 * call, defaults of close_round), the request → wallet op mapping, and the
 * exact bytes of the rendered responses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/native.h"

static const uint8_t KEY[] = "s3cret";
#define KEYLEN (sizeof KEY - 1)
#define NOW 1700000000

/* ---- signatures ---- */

static void test_sign_known_vector(void **state)
{
    (void)state;
    char sig[PB_NATIVE_SIGNATURE_BUF];
    const char *body = "{\"token\":\"abc\"}";
    /* python3: hmac.new(b"s3cret", b"1700000000." + body, sha256).hexdigest() */
    pb_native_sign(KEY, KEYLEN, "1700000000", body, strlen(body), sig);
    assert_string_equal(sig,
                        "sha256=a995e4abb78f1f76853f08fb15bd1779d1c0159b172dfb39d8117775c11e6c4a");
    /* a response: the body alone */
    pb_native_sign(KEY, KEYLEN, NULL, "{\"status\":\"OK\"}", 15, sig);
    assert_string_equal(sig,
                        "sha256=e768f1ed8fd5389d19d5fa8398049137809c383d2bbd84b567677ba6ae444f2e");
}

/* Verifies body signed with (key, ts) by the server holding KEY at NOW. */
static pb_err verify_with(const uint8_t *key, size_t keylen, const char *ts, const char *body,
                          int32_t window)
{
    char sig[PB_NATIVE_SIGNATURE_BUF];
    pb_native_sign(key, keylen, ts, body, strlen(body), sig);
    return pb_native_verify(KEY, KEYLEN, window, NOW, ts, sig, body, strlen(body));
}

static void test_verify_right_and_wrong(void **state)
{
    (void)state;
    const char *body = "{\"token\":\"abc\"}";
    assert_int_equal(verify_with(KEY, KEYLEN, "1700000000", body, 0), PB_OK);
    /* wrong key */
    assert_int_equal(verify_with((const uint8_t *)"s3creT", 6, "1700000000", body, 0),
                     PB_ERR_SIGNATURE_INVALID);
    assert_int_equal(verify_with((const uint8_t *)"s3cret!", 7, "1700000000", body, 0),
                     PB_ERR_SIGNATURE_INVALID);

    char sig[PB_NATIVE_SIGNATURE_BUF];
    pb_native_sign(KEY, KEYLEN, "1700000000", body, strlen(body), sig);
    /* every flipped body byte is caught */
    char copy[64];
    size_t n = strlen(body);
    for (size_t i = 0; i < n; i++) {
        memcpy(copy, body, n);
        copy[i] ^= 0x01;
        assert_int_equal(pb_native_verify(KEY, KEYLEN, 0, NOW, "1700000000", sig, copy, n),
                         PB_ERR_SIGNATURE_INVALID);
    }
    /* a body cut short or extended */
    assert_int_equal(pb_native_verify(KEY, KEYLEN, 0, NOW, "1700000000", sig, body, n - 1),
                     PB_ERR_SIGNATURE_INVALID);
    /* the timestamp is part of the message: another (in-window) one fails */
    assert_int_equal(pb_native_verify(KEY, KEYLEN, 0, NOW, "1700000001", sig, body, n),
                     PB_ERR_SIGNATURE_INVALID);
    assert_int_equal(pb_native_verify(KEY, KEYLEN, 0, NOW, "01700000000", sig, body, n),
                     PB_ERR_SIGNATURE_INVALID);
    /* a flipped digit of the signature */
    char bad[PB_NATIVE_SIGNATURE_BUF];
    memcpy(bad, sig, sizeof bad);
    bad[20] = bad[20] == '0' ? '1' : '0';
    assert_int_equal(pb_native_verify(KEY, KEYLEN, 0, NOW, "1700000000", bad, body, n),
                     PB_ERR_SIGNATURE_INVALID);
    /* an empty body signs and verifies too */
    assert_int_equal(verify_with(KEY, KEYLEN, "1700000000", "", 0), PB_OK);
    /* a provider without a secret accepts nothing */
    pb_native_sign((const uint8_t *)"", 0, "1700000000", body, n, sig);
    assert_int_equal(pb_native_verify((const uint8_t *)"", 0, 0, NOW, "1700000000", sig, body, n),
                     PB_ERR_SIGNATURE_INVALID);
}

static void test_verify_headers(void **state)
{
    (void)state;
    const char *body = "{}";
    char sig[PB_NATIVE_SIGNATURE_BUF];
    pb_native_sign(KEY, KEYLEN, "1700000000", body, 2, sig);
    assert_int_equal(pb_native_verify(KEY, KEYLEN, 0, NOW, "1700000000", sig, body, 2), PB_OK);
    /* missing */
    assert_int_equal(pb_native_verify(KEY, KEYLEN, 0, NOW, NULL, sig, body, 2),
                     PB_ERR_SIGNATURE_INVALID);
    assert_int_equal(pb_native_verify(KEY, KEYLEN, 0, NOW, "1700000000", NULL, body, 2),
                     PB_ERR_SIGNATURE_INVALID);
    /* malformed signatures */
    char upper[PB_NATIVE_SIGNATURE_BUF];
    memcpy(upper, sig, sizeof upper);
    for (char *p = upper + 7; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    const char *bad_sigs[] = {
        "",
        "sha256=",
        sig + 7, /* the hex without the prefix */
        upper,   /* upper-case hex */
        "sha1=a995e4abb78f1f76853f08fb15bd1779d1c0159b172dfb39d8117775c11e6c4a",
        "SHA256=a995e4abb78f1f76853f08fb15bd1779d1c0159b172dfb39d8117775c11e6c4a",
        "sha256=a995e4abb78f1f76853f08fb15bd1779d1c0159b172dfb39d8117775c11e6c4",   /* 63 */
        "sha256=a995e4abb78f1f76853f08fb15bd1779d1c0159b172dfb39d8117775c11e6c4a0", /* 65 */
        "sha256=g995e4abb78f1f76853f08fb15bd1779d1c0159b172dfb39d8117775c11e6c4a",
        "sha256= a995e4abb78f1f76853f08fb15bd1779d1c0159b172dfb39d8117775c11e6c4",
    };
    for (size_t i = 0; i < sizeof bad_sigs / sizeof *bad_sigs; i++)
        assert_int_equal(pb_native_verify(KEY, KEYLEN, 0, NOW, "1700000000", bad_sigs[i], body, 2),
                         PB_ERR_SIGNATURE_INVALID);
    char sig2[PB_NATIVE_SIGNATURE_BUF + 1];
    snprintf(sig2, sizeof sig2, "%s ", sig); /* trailing space */
    assert_int_equal(pb_native_verify(KEY, KEYLEN, 0, NOW, "1700000000", sig2, body, 2),
                     PB_ERR_SIGNATURE_INVALID);
    /* malformed timestamps, each correctly signed: still refused */
    const char *bad_ts[] = {
        "",     "-1700000000",  "+1700000000", "1700000000.5", "17e8", " 1700000000", "1700000000 ",
        "0x65", "1700000000000"};
    for (size_t i = 0; i < sizeof bad_ts / sizeof *bad_ts; i++)
        assert_int_equal(verify_with(KEY, KEYLEN, bad_ts[i], body, 0), PB_ERR_SIGNATURE_INVALID);
}

static void test_verify_window(void **state)
{
    (void)state;
    const char *body = "{}";
    char ts[32];
    /* the default window is 300 s, both ways, inclusive */
    snprintf(ts, sizeof ts, "%d", NOW - 300);
    assert_int_equal(verify_with(KEY, KEYLEN, ts, body, 0), PB_OK);
    snprintf(ts, sizeof ts, "%d", NOW - 301);
    assert_int_equal(verify_with(KEY, KEYLEN, ts, body, 0), PB_ERR_TIMESTAMP_STALE);
    snprintf(ts, sizeof ts, "%d", NOW + 300);
    assert_int_equal(verify_with(KEY, KEYLEN, ts, body, 0), PB_OK);
    snprintf(ts, sizeof ts, "%d", NOW + 301);
    assert_int_equal(verify_with(KEY, KEYLEN, ts, body, 0), PB_ERR_TIMESTAMP_STALE);
    assert_int_equal(verify_with(KEY, KEYLEN, "0", body, 0), PB_ERR_TIMESTAMP_STALE);
    assert_int_equal(verify_with(KEY, KEYLEN, "999999999999", body, 0), PB_ERR_TIMESTAMP_STALE);
    /* the provider's own window */
    snprintf(ts, sizeof ts, "%d", NOW - 10);
    assert_int_equal(verify_with(KEY, KEYLEN, ts, body, 10), PB_OK);
    snprintf(ts, sizeof ts, "%d", NOW - 11);
    assert_int_equal(verify_with(KEY, KEYLEN, ts, body, 10), PB_ERR_TIMESTAMP_STALE);
    /* a stale request with a bad signature is a bad signature */
    assert_int_equal(verify_with((const uint8_t *)"other", 5, "0", body, 0),
                     PB_ERR_SIGNATURE_INVALID);
}

/* ---- parsing ---- */

/* Parses body for call; on success the request is kept in *out (free it). */
static pb_err parse(pb_native_call call, const char *body, pb_native_request *out, pb_json_error *e)
{
    return pb_native_parse(call, body, strlen(body), "application/json", out, e);
}

/* Asserts that body is refused with code, naming field (NULL: none). */
static void refused_(int line, pb_native_call call, const char *body, pb_err code,
                     const char *field)
{
    pb_native_request r;
    pb_json_error e;
    pb_err rc = parse(call, body, &r, &e);
    if (rc != code)
        fail_msg("line %d: %s %s: got %s (%s), want %s", line, pb_native_call_path(call), body,
                 pb_err_code(rc), rc == PB_OK ? "" : e.message, pb_err_code(code));
    assert_null(r.doc);
    if (field) {
        if (!e.field || strcmp(e.field, field) != 0)
            fail_msg("line %d: %s: field %s, want %s", line, body, e.field ? e.field : "(none)",
                     field);
    } else {
        assert_null(e.field);
    }
    assert_true(strlen(e.message) > 0);
}
#define refused(...) refused_(__LINE__, __VA_ARGS__)

static void accepted_(int line, pb_native_call call, const char *body)
{
    pb_native_request r;
    pb_json_error e;
    pb_err rc = parse(call, body, &r, &e);
    if (rc != PB_OK)
        fail_msg("line %d: %s %s: refused %s (%s)", line, pb_native_call_path(call), body,
                 pb_err_code(rc), e.message);
    pb_native_request_free(&r);
}
#define accepted(...) accepted_(__LINE__, __VA_ARGS__)

#define TOK "\"token\":\"tok\""
#define BET_BODY(extra)                                                                    \
    "{" TOK ",\"transaction_id\":\"t1\",\"round_id\":\"r1\",\"game\":\"g1\",\"currency\":" \
    "\"EUR\",\"amount\":\"1.00\"" extra "}"

static void test_parse_session_balance(void **state)
{
    (void)state;
    pb_native_request r;
    pb_json_error e;
    assert_int_equal(parse(PB_NATIVE_SESSION, "{" TOK "}", &r, &e), PB_OK);
    assert_string_equal(r.token, "tok");
    assert_null(r.transaction_id);
    pb_native_request_free(&r);
    for (pb_native_call c = PB_NATIVE_SESSION; c <= PB_NATIVE_BALANCE; c++) {
        refused(c, "{}", PB_ERR_FIELD_MISSING, "token");
        refused(c, "{\"token\":\"\"}", PB_ERR_FIELD_INVALID, "token");
        refused(c, "{\"token\":7}", PB_ERR_FIELD_INVALID, "token");
        refused(c, "{\"token\":null}", PB_ERR_FIELD_INVALID, "token");
        refused(c, "{" TOK ",\"currency\":\"EUR\"}", PB_ERR_UNKNOWN_FIELD, "currency");
        refused(c, "{" TOK ",\"x\":1}", PB_ERR_UNKNOWN_FIELD, "x");
        refused(c, "{" TOK ", \"token\":\"tok\"}", PB_ERR_INVALID_JSON, "token");
        refused(c, "{" TOK, PB_ERR_INVALID_JSON, NULL);
        refused(c, "[" TOK "]", PB_ERR_INVALID_JSON, NULL);
        refused(c, "[]", PB_ERR_INVALID_REQUEST, NULL);
        refused(c, "", PB_ERR_INVALID_JSON, NULL);
    }
    /* the token: up to PB_NATIVE_TOKEN_MAX bytes */
    char body[256], tok[PB_NATIVE_TOKEN_MAX + 2];
    memset(tok, 'a', sizeof tok);
    tok[PB_NATIVE_TOKEN_MAX] = '\0';
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", tok);
    accepted(PB_NATIVE_BALANCE, body);
    tok[PB_NATIVE_TOKEN_MAX] = 'a';
    tok[PB_NATIVE_TOKEN_MAX + 1] = '\0';
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", tok);
    refused(PB_NATIVE_BALANCE, body, PB_ERR_FIELD_INVALID, "token");
    /* the media type and the encoding */
    assert_int_equal(pb_native_parse(PB_NATIVE_SESSION, "{" TOK "}", 15, "text/plain", &r, &e),
                     PB_ERR_UNSUPPORTED_MEDIA_TYPE);
    assert_int_equal(pb_native_parse(PB_NATIVE_SESSION, "{\"token\":\"\xff\"}", 13,
                                     "application/json", &r, &e),
                     PB_ERR_INVALID_UTF8);
}

static void test_parse_bet(void **state)
{
    (void)state;
    pb_native_request r;
    pb_json_error e;
    assert_int_equal(parse(PB_NATIVE_BET, BET_BODY(""), &r, &e), PB_OK);
    assert_string_equal(r.token, "tok");
    assert_string_equal(r.transaction_id, "t1");
    assert_string_equal(r.round_id, "r1");
    assert_string_equal(r.game, "g1");
    assert_string_equal(r.currency, "EUR");
    assert_string_equal(r.cur->code, "EUR");
    assert_int_equal(r.amount, 100);
    assert_false(r.close_round); /* a bet leaves its round open by default */
    pb_native_request_free(&r);
    assert_int_equal(parse(PB_NATIVE_BET, BET_BODY(",\"close_round\":true"), &r, &e), PB_OK);
    assert_true(r.close_round);
    pb_native_request_free(&r);

    /* every required field */
    const char *fields[] = {"token", "transaction_id", "round_id", "game", "currency", "amount"};
    const char *values[] = {"\"tok\"", "\"t1\"", "\"r1\"", "\"g1\"", "\"EUR\"", "\"1.00\""};
    for (size_t skip = 0; skip < 6; skip++) {
        char body[512] = "{";
        for (size_t i = 0; i < 6; i++) {
            if (i == skip)
                continue;
            size_t n = strlen(body);
            snprintf(body + n, sizeof body - n, "%s\"%s\":%s", n > 1 ? "," : "", fields[i],
                     values[i]);
        }
        strcat(body, "}");
        /* without a currency the amount cannot be read: the currency is named */
        refused(PB_NATIVE_BET, body, PB_ERR_FIELD_MISSING, fields[skip]);
    }
    /* unknown fields, including those of other calls */
    refused(PB_NATIVE_BET, BET_BODY(",\"bet_transaction_id\":\"t0\""), PB_ERR_UNKNOWN_FIELD,
            "bet_transaction_id");
    refused(PB_NATIVE_BET, BET_BODY(",\"Amount\":\"1.00\""), PB_ERR_UNKNOWN_FIELD, "Amount");
    /* wrong types */
    refused(PB_NATIVE_BET, BET_BODY(",\"close_round\":\"true\""), PB_ERR_FIELD_INVALID,
            "close_round");
    refused(PB_NATIVE_BET, BET_BODY(",\"close_round\":1"), PB_ERR_FIELD_INVALID, "close_round");
    refused(PB_NATIVE_BET,
            "{" TOK ",\"transaction_id\":1,\"round_id\":\"r1\",\"game\":\"g1\","
            "\"currency\":\"EUR\",\"amount\":\"1.00\"}",
            PB_ERR_FIELD_INVALID, "transaction_id");
    refused(PB_NATIVE_BET,
            "{" TOK ",\"transaction_id\":\"t1\",\"round_id\":[],\"game\":\"g1\","
            "\"currency\":\"EUR\",\"amount\":\"1.00\"}",
            PB_ERR_FIELD_INVALID, "round_id");
    refused(PB_NATIVE_BET,
            "{" TOK ",\"transaction_id\":\"t1\",\"round_id\":\"r1\",\"game\":\"g1\","
            "\"currency\":\"EUR\",\"amount\":1.00}",
            PB_ERR_FIELD_INVALID, "amount");
    refused(PB_NATIVE_BET,
            "{" TOK ",\"transaction_id\":\"t1\",\"round_id\":\"r1\",\"game\":\"g1\","
            "\"currency\":\"EUR\",\"amount\":100}",
            PB_ERR_FIELD_INVALID, "amount");
    /* currencies */
    refused(PB_NATIVE_BET,
            "{" TOK ",\"transaction_id\":\"t1\",\"round_id\":\"r1\",\"game\":\"g1\","
            "\"currency\":\"eur\",\"amount\":\"1.00\"}",
            PB_ERR_FIELD_INVALID, "currency");
    refused(PB_NATIVE_BET,
            "{" TOK ",\"transaction_id\":\"t1\",\"round_id\":\"r1\",\"game\":\"g1\","
            "\"currency\":\"XXX\",\"amount\":\"1.00\"}",
            PB_ERR_FIELD_INVALID, "currency");
}

/* A bet body with the given amount and currency. */
static const char *bet_amount(const char *currency, const char *amount)
{
    static char body[512];
    snprintf(body, sizeof body,
             "{" TOK ",\"transaction_id\":\"t1\",\"round_id\":\"r1\",\"game\":\"g1\","
             "\"currency\":\"%s\",\"amount\":\"%s\"}",
             currency, amount);
    return body;
}

static const char *win_amount(const char *amount)
{
    static char body[512];
    snprintf(body, sizeof body,
             "{" TOK ",\"transaction_id\":\"w1\",\"round_id\":\"r1\","
             "\"bet_transaction_id\":\"t1\",\"currency\":\"EUR\",\"amount\":\"%s\"}",
             amount);
    return body;
}

static void test_parse_amounts(void **state)
{
    (void)state;
    pb_native_request r;
    pb_json_error e;
    accepted(PB_NATIVE_BET, bet_amount("EUR", "0.01"));
    accepted(PB_NATIVE_BET, bet_amount("EUR", "10"));
    accepted(PB_NATIVE_BET, bet_amount("EUR", "10.5"));
    accepted(PB_NATIVE_BET, bet_amount("JPY", "100"));
    assert_int_equal(parse(PB_NATIVE_BET, bet_amount("JPY", "100"), &r, &e), PB_OK);
    assert_int_equal(r.amount, 100);
    pb_native_request_free(&r);
    assert_int_equal(parse(PB_NATIVE_BET, bet_amount("EUR", "92233720368547758.07"), &r, &e),
                     PB_OK);
    assert_int_equal(r.amount, INT64_MAX);
    pb_native_request_free(&r);
    const char *bad[] = {"0",     "0.00", "-1.00", "1.001", "01.00", "1.",  ".5",
                         "+1.00", "1e2",  " 1.00", "1,00",  "",      "abc", "92233720368547758.08"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        refused(PB_NATIVE_BET, bet_amount("EUR", bad[i]), PB_ERR_AMOUNT_INVALID, "amount");
    refused(PB_NATIVE_BET, bet_amount("JPY", "1.00"), PB_ERR_AMOUNT_INVALID, "amount");
    /* a win may pay nothing, never less */
    assert_int_equal(parse(PB_NATIVE_WIN, win_amount("0.00"), &r, &e), PB_OK);
    assert_int_equal(r.amount, 0);
    assert_true(r.close_round); /* a win closes its round by default */
    pb_native_request_free(&r);
    accepted(PB_NATIVE_WIN, win_amount("0"));
    accepted(PB_NATIVE_WIN, win_amount("12.34"));
    refused(PB_NATIVE_WIN, win_amount("-0.01"), PB_ERR_AMOUNT_INVALID, "amount");
    refused(PB_NATIVE_WIN, win_amount("-0"), PB_ERR_AMOUNT_INVALID, "amount");
    refused(PB_NATIVE_WIN, win_amount("0.001"), PB_ERR_AMOUNT_INVALID, "amount");
}

static void test_parse_win_rollback_close(void **state)
{
    (void)state;
    pb_native_request r;
    pb_json_error e;
    const char *win = "{" TOK ",\"transaction_id\":\"w1\",\"round_id\":\"r1\","
                      "\"bet_transaction_id\":\"t1\",\"currency\":\"EUR\",\"amount\":\"2.50\","
                      "\"close_round\":false}";
    assert_int_equal(parse(PB_NATIVE_WIN, win, &r, &e), PB_OK);
    assert_string_equal(r.bet_transaction_id, "t1");
    assert_int_equal(r.amount, 250);
    assert_false(r.close_round);
    assert_null(r.game);
    pb_native_request_free(&r);
    refused(PB_NATIVE_WIN,
            "{" TOK ",\"transaction_id\":\"w1\",\"round_id\":\"r1\",\"currency\":\"EUR\","
            "\"amount\":\"2.50\"}",
            PB_ERR_FIELD_MISSING, "bet_transaction_id");
    refused(PB_NATIVE_WIN,
            "{" TOK ",\"transaction_id\":\"w1\",\"round_id\":\"r1\",\"bet_transaction_id\":"
            "\"t1\",\"currency\":\"EUR\",\"amount\":\"2.50\",\"game\":\"g1\"}",
            PB_ERR_UNKNOWN_FIELD, "game");

    const char *rb = "{" TOK ",\"transaction_id\":\"rb1\",\"round_id\":\"r1\","
                     "\"bet_transaction_id\":\"t1\",\"currency\":\"EUR\"}";
    assert_int_equal(parse(PB_NATIVE_ROLLBACK, rb, &r, &e), PB_OK);
    assert_int_equal(r.amount, 0);
    assert_string_equal(r.currency, "EUR");
    pb_native_request_free(&r);
    refused(PB_NATIVE_ROLLBACK,
            "{" TOK ",\"transaction_id\":\"rb1\",\"round_id\":\"r1\","
            "\"bet_transaction_id\":\"t1\",\"currency\":\"EUR\",\"amount\":\"1.00\"}",
            PB_ERR_UNKNOWN_FIELD, "amount");
    refused(PB_NATIVE_ROLLBACK,
            "{" TOK ",\"transaction_id\":\"rb1\",\"round_id\":\"r1\","
            "\"bet_transaction_id\":\"t1\",\"currency\":\"EUR\",\"close_round\":true}",
            PB_ERR_UNKNOWN_FIELD, "close_round");
    refused(PB_NATIVE_ROLLBACK,
            "{" TOK ",\"transaction_id\":\"rb1\",\"round_id\":\"r1\","
            "\"bet_transaction_id\":\"t1\"}",
            PB_ERR_FIELD_MISSING, "currency");

    const char *close = "{" TOK ",\"transaction_id\":\"c1\",\"round_id\":\"r1\"}";
    assert_int_equal(parse(PB_NATIVE_ROUND_CLOSE, close, &r, &e), PB_OK);
    assert_true(r.close_round);
    pb_native_request_free(&r);
    refused(PB_NATIVE_ROUND_CLOSE, "{" TOK ",\"round_id\":\"r1\"}", PB_ERR_FIELD_MISSING,
            "transaction_id");
    refused(PB_NATIVE_ROUND_CLOSE, "{" TOK ",\"transaction_id\":\"c1\"}", PB_ERR_FIELD_MISSING,
            "round_id");
    refused(PB_NATIVE_ROUND_CLOSE,
            "{" TOK ",\"transaction_id\":\"c1\",\"round_id\":\"r1\",\"currency\":\"EUR\"}",
            PB_ERR_UNKNOWN_FIELD, "currency");
}

/* A round close body with the given id (raw JSON string contents). */
static const char *close_with_tx(const char *tx)
{
    static char body[1024];
    snprintf(body, sizeof body, "{" TOK ",\"transaction_id\":\"%s\",\"round_id\":\"r1\"}", tx);
    return body;
}

static void test_parse_ids(void **state)
{
    (void)state;
    char id[PB_WALLET_TXID_MAX + 2];
    memset(id, 'x', sizeof id);
    id[PB_WALLET_TXID_MAX] = '\0';
    accepted(PB_NATIVE_ROUND_CLOSE, close_with_tx(id)); /* 128: the longest */
    id[PB_WALLET_TXID_MAX] = 'x';
    id[PB_WALLET_TXID_MAX + 1] = '\0';
    refused(PB_NATIVE_ROUND_CLOSE, close_with_tx(id), PB_ERR_FIELD_INVALID, "transaction_id");
    refused(PB_NATIVE_ROUND_CLOSE, close_with_tx(""), PB_ERR_FIELD_INVALID, "transaction_id");
    /* printable ASCII only: any of it, escaped or not */
    accepted(PB_NATIVE_ROUND_CLOSE, close_with_tx(" ~!#$%&'()*+,-./:;<=>?@[]^_`{|}"));
    accepted(PB_NATIVE_ROUND_CLOSE, close_with_tx("a\\\"b\\\\c\\/d"));
    const char *bad[] = {"a\\tb", "a\\nb", "caf\xc3\xa9", "a\\u007fb", "\\u00e9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        refused(PB_NATIVE_ROUND_CLOSE, close_with_tx(bad[i]), PB_ERR_FIELD_INVALID,
                "transaction_id");
    /* a NUL is refused by the JSON reader itself */
    refused(PB_NATIVE_ROUND_CLOSE, close_with_tx("a\\u0000b"), PB_ERR_INVALID_JSON, NULL);
    /* the other ids */
    refused(PB_NATIVE_ROUND_CLOSE, "{" TOK ",\"transaction_id\":\"c1\",\"round_id\":\"r\\t1\"}",
            PB_ERR_FIELD_INVALID, "round_id");
    refused(PB_NATIVE_ROLLBACK,
            "{" TOK ",\"transaction_id\":\"rb1\",\"round_id\":\"r1\","
            "\"bet_transaction_id\":\"t\\u00011\",\"currency\":\"EUR\"}",
            PB_ERR_FIELD_INVALID, "bet_transaction_id");
    char body[1024], game[PB_WALLET_GAME_MAX + 2];
    memset(game, 'g', sizeof game);
    game[PB_WALLET_GAME_MAX] = '\0';
    snprintf(body, sizeof body,
             "{" TOK ",\"transaction_id\":\"t1\",\"round_id\":\"r1\",\"game\":\"%s\","
             "\"currency\":\"EUR\",\"amount\":\"1.00\"}",
             game);
    accepted(PB_NATIVE_BET, body);
    game[PB_WALLET_GAME_MAX] = 'g';
    game[PB_WALLET_GAME_MAX + 1] = '\0';
    snprintf(body, sizeof body,
             "{" TOK ",\"transaction_id\":\"t1\",\"round_id\":\"r1\",\"game\":\"%s\","
             "\"currency\":\"EUR\",\"amount\":\"1.00\"}",
             game);
    refused(PB_NATIVE_BET, body, PB_ERR_FIELD_INVALID, "game");
    refused(PB_NATIVE_BET,
            "{" TOK ",\"transaction_id\":\"t1\",\"round_id\":\"r1\",\"game\":\"g\\n\","
            "\"currency\":\"EUR\",\"amount\":\"1.00\"}",
            PB_ERR_FIELD_INVALID, "game");
}

/* ---- the wallet op ---- */

static const pb_native_player WHO = {.brand = "acme",
                                     .player = "0190f1c2-3b4d-7e5f-8a9b-0c1d2e3f4a5b",
                                     .currency = "EUR",
                                     .game = "launched"};

static void test_to_op(void **state)
{
    (void)state;
    pb_native_request r;
    pb_json_error e;
    pb_wallet_op op;
    assert_int_equal(parse(PB_NATIVE_BET, BET_BODY(",\"close_round\":true"), &r, &e), PB_OK);
    assert_int_equal(pb_native_to_op(&r, "studio", &WHO, "0123456789abcdef0123456789abcdef", &op),
                     PB_OK);
    assert_int_equal(op.kind, PB_WALLET_BET);
    assert_string_equal(op.provider, "studio");
    assert_string_equal(op.tx_id, "t1");
    assert_string_equal(op.round_id, "r1");
    assert_string_equal(op.bet_tx_id, "");
    assert_string_equal(op.game, "g1"); /* the bet's own game */
    assert_string_equal(op.brand, "acme");
    assert_string_equal(op.player, WHO.player);
    assert_string_equal(op.currency, "EUR");
    assert_string_equal(op.request_currency, "EUR");
    assert_int_equal(op.amount, 100);
    assert_true(op.close_round);
    assert_string_equal(op.trace_id, "0123456789abcdef0123456789abcdef");
    assert_ptr_equal(op.render, pb_native_render);
    /* a launch in another currency: the accounts' currency is the launch's, the
     * request's is kept beside it (part of the request's identity) */
    pb_native_player usd = WHO;
    usd.currency = "USD";
    assert_int_equal(pb_native_to_op(&r, "studio", &usd, "", &op), PB_OK);
    assert_string_equal(op.currency, "USD");
    assert_string_equal(op.request_currency, "EUR");
    pb_native_request_free(&r);

    assert_int_equal(parse(PB_NATIVE_WIN, win_amount("3.00"), &r, &e), PB_OK);
    assert_int_equal(pb_native_to_op(&r, "studio", &WHO, "", &op), PB_OK);
    assert_int_equal(op.kind, PB_WALLET_WIN);
    assert_string_equal(op.bet_tx_id, "t1");
    /* a win names no game, and the launched one is no part of its identity (the
     * same win retried under another launch, or after its launch was pruned, is
     * the same request): the wallet takes the bet's game for the win's rows */
    assert_string_equal(op.game, "");
    assert_int_equal(op.amount, 300);
    assert_true(op.close_round);
    pb_native_request_free(&r);

    assert_int_equal(parse(PB_NATIVE_ROLLBACK,
                           "{" TOK ",\"transaction_id\":\"rb1\",\"round_id\":\"r1\","
                           "\"bet_transaction_id\":\"t1\",\"currency\":\"EUR\"}",
                           &r, &e),
                     PB_OK);
    assert_int_equal(pb_native_to_op(&r, "studio", &WHO, "", &op), PB_OK);
    assert_int_equal(op.kind, PB_WALLET_ROLLBACK);
    assert_string_equal(op.game, "");
    assert_string_equal(op.request_currency, "EUR");
    assert_int_equal(op.amount, 0);
    assert_false(op.close_round);
    pb_native_request_free(&r);

    assert_int_equal(parse(PB_NATIVE_ROUND_CLOSE, close_with_tx("c1"), &r, &e), PB_OK);
    assert_int_equal(pb_native_to_op(&r, "studio", &WHO, "", &op), PB_OK);
    assert_int_equal(op.kind, PB_WALLET_ROUND_CLOSE);
    assert_string_equal(op.request_currency, ""); /* a close names none */
    assert_true(op.close_round);
    /* a provider code too long for the op */
    assert_int_equal(pb_native_to_op(&r, "p23456789012345678901234567890123", &WHO, "", &op),
                     PB_ERR_INVALID_REQUEST);
    pb_native_request_free(&r);

    assert_int_equal(parse(PB_NATIVE_SESSION, "{" TOK "}", &r, &e), PB_OK);
    assert_int_equal(pb_native_to_op(&r, "studio", &WHO, "", &op), PB_ERR_INVALID_REQUEST);
    pb_native_request_free(&r);
}

/* ---- rendering ---- */

static void expect_body(const pb_wallet_response *resp, int status, const char *body)
{
    assert_int_equal(resp->status, status);
    assert_non_null(resp->body);
    assert_int_equal(resp->body_len, strlen(body));
    assert_memory_equal(resp->body, body, resp->body_len);
    /* it is well-formed JSON too */
    json_t *doc = json_loadb(resp->body, resp->body_len, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(doc);
    json_decref(doc);
}

static pb_wallet_op sample_op(pb_wallet_op_kind kind, const char *tx)
{
    pb_wallet_op op;
    memset(&op, 0, sizeof op);
    op.kind = kind;
    snprintf(op.provider, sizeof op.provider, "studio");
    snprintf(op.tx_id, sizeof op.tx_id, "%s", tx);
    snprintf(op.player, sizeof op.player, "%s", WHO.player);
    snprintf(op.currency, sizeof op.currency, "EUR");
    snprintf(op.trace_id, sizeof op.trace_id, "0123456789abcdef0123456789abcdef");
    return op;
}

static void test_render_success(void **state)
{
    (void)state;
    pb_wallet_op op = sample_op(PB_WALLET_BET, "t\"1\\");
    pb_wallet_outcome o = {.result = PB_OK,
                           .cash = 1050,
                           .bonus = 200,
                           .held = 50,
                           .cash_part = 300,
                           .bonus_part = 25,
                           .created_at = 1700000000123456LL};
    pb_wallet_response resp = {0};
    assert_int_equal(pb_native_render(NULL, &op, &o, &resp), 0);
    expect_body(&resp, 200,
                "{\"status\":\"OK\",\"transaction_id\":\"t\\\"1\\\\\",\"player_id\":"
                "\"0190f1c2-3b4d-7e5f-8a9b-0c1d2e3f4a5b\",\"currency\":\"EUR\",\"balance\":"
                "\"12.00\",\"cash\":\"10.50\",\"bonus\":\"2.00\",\"cash_part\":\"3.00\","
                "\"bonus_part\":\"0.25\",\"created_at\":\"2023-11-14T22:13:20.123456Z\"}");
    free(resp.body);

    /* the rollback of a bet never seen says so */
    op = sample_op(PB_WALLET_ROLLBACK, "rb1");
    pb_wallet_outcome rb = {.result = PB_OK,
                            .cash = 0,
                            .bonus = 0,
                            .bet_unknown = true,
                            .created_at = 1700000000000000LL};
    assert_int_equal(pb_native_render(NULL, &op, &rb, &resp), 0);
    expect_body(&resp, 200,
                "{\"status\":\"OK\",\"transaction_id\":\"rb1\",\"player_id\":"
                "\"0190f1c2-3b4d-7e5f-8a9b-0c1d2e3f4a5b\",\"currency\":\"EUR\",\"balance\":"
                "\"0.00\",\"cash\":\"0.00\",\"bonus\":\"0.00\",\"cash_part\":\"0.00\","
                "\"bonus_part\":\"0.00\",\"created_at\":\"2023-11-14T22:13:20.000000Z\","
                "\"bet_found\":false}");
    free(resp.body);

    /* JPY has no decimals */
    op = sample_op(PB_WALLET_WIN, "w1");
    snprintf(op.currency, sizeof op.currency, "JPY");
    pb_wallet_outcome w = {.result = PB_OK,
                           .cash = 500,
                           .bonus = 0,
                           .cash_part = 500,
                           .created_at = 1700000000000001LL};
    assert_int_equal(pb_native_render(NULL, &op, &w, &resp), 0);
    expect_body(&resp, 200,
                "{\"status\":\"OK\",\"transaction_id\":\"w1\",\"player_id\":"
                "\"0190f1c2-3b4d-7e5f-8a9b-0c1d2e3f4a5b\",\"currency\":\"JPY\",\"balance\":"
                "\"500\",\"cash\":\"500\",\"bonus\":\"0\",\"cash_part\":\"500\","
                "\"bonus_part\":\"0\",\"created_at\":\"2023-11-14T22:13:20.000001Z\"}");
    free(resp.body);
}

static void test_render_refusals(void **state)
{
    (void)state;
    pb_wallet_op op = sample_op(PB_WALLET_BET, "t1");
    pb_wallet_outcome o = {.result = PB_ERR_INSUFFICIENT_FUNDS,
                           .cash = 50,
                           .bonus = 0,
                           .created_at = 1700000000000000LL};
    pb_wallet_response resp = {0};
    assert_int_equal(pb_native_render(NULL, &op, &o, &resp), 0);
    expect_body(&resp, 422,
                "{\"error\":{\"code\":\"INSUFFICIENT_FUNDS\",\"message\":\"insufficient funds\","
                "\"trace_id\":\"0123456789abcdef0123456789abcdef\"},\"balance\":\"0.50\","
                "\"cash\":\"0.50\",\"bonus\":\"0.00\",\"currency\":\"EUR\"}");
    free(resp.body);

    o.result = PB_ERR_ROUND_HAS_WIN;
    assert_int_equal(pb_native_render(NULL, &op, &o, &resp), 0);
    assert_int_equal(resp.status, 409);
    assert_non_null(strstr(resp.body, "\"code\":\"ROUND_HAS_WIN\""));
    free(resp.body);

    /* an error with a field and its own message, no player */
    assert_int_equal(pb_native_render_error(PB_ERR_FIELD_INVALID, "round_id",
                                            "round_id: must be \"printable\"", "abc", NULL, &resp),
                     0);
    expect_body(&resp, 422,
                "{\"error\":{\"code\":\"FIELD_INVALID\",\"message\":\"round_id: must be "
                "\\\"printable\\\"\",\"field\":\"round_id\",\"trace_id\":\"abc\"}}");
    free(resp.body);
    assert_int_equal(pb_native_render_error(PB_ERR_SIGNATURE_INVALID, NULL, NULL, "abc", NULL,
                                            &resp),
                     0);
    expect_body(&resp, 401,
                "{\"error\":{\"code\":\"SIGNATURE_INVALID\",\"message\":\"request signature is "
                "invalid\",\"trace_id\":\"abc\"}}");
    free(resp.body);
    /* a message with control characters is escaped */
    assert_int_equal(pb_native_render_error(PB_ERR_INVALID_JSON, NULL, "a\tb\x01", "t", NULL,
                                            &resp),
                     0);
    expect_body(&resp, 400,
                "{\"error\":{\"code\":\"INVALID_JSON\",\"message\":\"a\\u0009b\\u0001\","
                "\"trace_id\":\"t\"}}");
    free(resp.body);
    /* with the balance of a known player (held cash is not stakeable) */
    pb_native_balance bal = {.currency = "EUR", .cash = 1000, .bonus = 5, .held = 400};
    assert_int_equal(pb_native_render_error(PB_ERR_CURRENCY_MISMATCH, NULL, NULL, "t", &bal, &resp),
                     0);
    expect_body(&resp, 422,
                "{\"error\":{\"code\":\"CURRENCY_MISMATCH\",\"message\":\"currencies do not "
                "match\",\"trace_id\":\"t\"},\"balance\":\"6.05\",\"cash\":\"10.00\",\"bonus\":"
                "\"0.05\",\"currency\":\"EUR\"}");
    free(resp.body);
}

static void test_render_session(void **state)
{
    (void)state;
    pb_native_balance bal = {.currency = "EUR", .cash = 12345, .bonus = 100, .held = 45};
    pb_wallet_response resp = {0};
    assert_int_equal(pb_native_render_session(&WHO, &bal, &resp), 0);
    expect_body(&resp, 200,
                "{\"player_id\":\"0190f1c2-3b4d-7e5f-8a9b-0c1d2e3f4a5b\",\"brand\":\"acme\","
                "\"currency\":\"EUR\",\"game\":\"launched\",\"balance\":\"124.00\",\"cash\":"
                "\"123.45\",\"bonus\":\"1.00\"}");
    free(resp.body);
    pb_native_balance bad = {.currency = "???"};
    assert_int_equal(pb_native_render_session(&WHO, &bad, &resp), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_known_vector),
        cmocka_unit_test(test_verify_right_and_wrong),
        cmocka_unit_test(test_verify_headers),
        cmocka_unit_test(test_verify_window),
        cmocka_unit_test(test_parse_session_balance),
        cmocka_unit_test(test_parse_bet),
        cmocka_unit_test(test_parse_amounts),
        cmocka_unit_test(test_parse_win_rollback_close),
        cmocka_unit_test(test_parse_ids),
        cmocka_unit_test(test_to_op),
        cmocka_unit_test(test_render_success),
        cmocka_unit_test(test_render_refusals),
        cmocka_unit_test(test_render_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
