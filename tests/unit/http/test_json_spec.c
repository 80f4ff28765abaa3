/*
 * test_json_spec.c — pb_json_parse(): every rejection with its stable code and
 * the field it names (media type, UTF-8, syntax, duplicates, huge numbers, not
 * an object, unknown, missing, wrong type, out of range, too long), and the
 * outputs of an accepted body.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "http/http.h"

/* The outputs of the spec below. */
static const char *email, *amount_s, *cur_s, *when_s;
static int64_t count, amount, when;
static bool flag, flag_present;
static const pb_currency *cur;
static json_t *meta, *items;
static pb_id id;

#define SPEC                                                                                      \
    pb_json_field fields[] = {                                                                    \
        {"email", PB_JSON_STRING, .required = true, .min_len = 3, .max_len = 254, .str = &email}, \
        {"count", PB_JSON_INT, .min = 1, .max = 100, .i64 = &count},                              \
        {"flag", PB_JSON_BOOL, .b = &flag, .present = &flag_present},                             \
        {"amount", PB_JSON_MONEY, .currency = "currency", .min = 1, .i64 = &amount,               \
         .max = INT64_MAX, .str = &amount_s},                                                     \
        {"currency", PB_JSON_CURRENCY, .cur = &cur, .str = &cur_s},                               \
        {"id", PB_JSON_UUID, .id = &id},                                                          \
        {"when", PB_JSON_TIME, .i64 = &when, .str = &when_s},                                     \
        {"meta", PB_JSON_OBJECT, .nullable = true, .json = &meta},                                \
        {"items", PB_JSON_ARRAY, .max_len = 3, .json = &items},                                   \
        {"note", PB_JSON_MONEY, .str = &amount_s},                                                \
    };

/* The document of the last accepted body: the string outputs point into it. */
static json_t *last_root;

/* Frees the last document (cmocka teardown). */
static int drop_root(void **state)
{
    (void)state;
    json_decref(last_root);
    last_root = NULL;
    return 0;
}

/* Parses body against SPEC; returns the code and fills *e. */
static pb_err parse_ct(const char *ct, const char *body, size_t len, pb_json_error *e)
{
    SPEC;
    json_t *root = NULL;
    pb_err rc = pb_json_parse(body, len, ct, fields, sizeof fields / sizeof *fields, &root, e);
    if (rc == PB_OK)
        assert_non_null(root);
    else
        assert_null(root);
    drop_root(NULL);
    last_root = root;
    return rc;
}

static pb_err parse(const char *body, pb_json_error *e)
{
    return parse_ct("application/json", body, strlen(body), e);
}

/* Asserts that body is refused with code, naming field (NULL: no field). */
static void refused(const char *body, pb_err code, const char *field)
{
    pb_json_error e;
    pb_err rc = parse(body, &e);
    if (rc != code)
        fail_msg("%s: got %s (%s), want %s", body, pb_err_code(rc), e.message, pb_err_code(code));
    if (field) {
        assert_non_null(e.field);
        assert_string_equal(e.field, field);
    } else {
        assert_null(e.field);
    }
    assert_true(strlen(e.message) > 0);
}

static void test_accepts_and_fills(void **state)
{
    (void)state;
    SPEC;
    json_t *root = NULL;
    pb_json_error e;
    flag_present = false;
    const char *body = "{\"email\":\"a@b.c\",\"count\":100,\"flag\":true,\"amount\":\"10.50\","
                       "\"currency\":\"EUR\",\"id\":\"0190f1c2-3b4d-7e5f-8a9b-0c1d2e3f4a5b\","
                       "\"when\":\"2026-11-21T15:10:00Z\",\"meta\":{\"k\":1},\"items\":[1,2]}";
    assert_int_equal(pb_json_parse(body, strlen(body), "Application/JSON; charset=utf-8", fields,
                                   sizeof fields / sizeof *fields, &root, &e),
                     PB_OK);
    assert_string_equal(email, "a@b.c");
    assert_int_equal(count, 100);
    assert_true(flag);
    assert_true(flag_present);
    assert_int_equal(amount, 1050);
    assert_string_equal(amount_s, "10.50");
    assert_string_equal(cur->code, "EUR");
    assert_int_equal(id.b[0], 0x01);
    assert_int_equal(when, 1795273800000000LL);
    assert_true(json_is_object(meta));
    assert_int_equal(json_array_size(items), 2);
    json_decref(root);

    /* optional fields may be absent; a nullable one may be null */
    pb_json_error e2;
    assert_int_equal(parse("{\"email\":\"abc\",\"meta\":null}", &e2), PB_OK);
    /* no content type check when none is asked for */
    assert_int_equal(parse_ct(NULL, "{\"email\":\"abc\"}", 15, &e2), PB_OK);
}

static void test_media_type(void **state)
{
    (void)state;
    pb_json_error e;
    const char *body = "{\"email\":\"abc\"}";
    assert_int_equal(parse_ct("", body, strlen(body), &e), PB_ERR_UNSUPPORTED_MEDIA_TYPE);
    assert_int_equal(parse_ct("text/plain", body, strlen(body), &e), PB_ERR_UNSUPPORTED_MEDIA_TYPE);
    assert_int_equal(parse_ct("application/jsonx", body, strlen(body), &e),
                     PB_ERR_UNSUPPORTED_MEDIA_TYPE);
    assert_int_equal(parse_ct("application/x-www-form-urlencoded", body, strlen(body), &e),
                     PB_ERR_UNSUPPORTED_MEDIA_TYPE);
}

static void test_encoding_and_syntax(void **state)
{
    (void)state;
    pb_json_error e;
    assert_int_equal(parse_ct("application/json", "{\"email\":\"\xff\"}", 12, &e),
                     PB_ERR_INVALID_UTF8);
    assert_int_equal(parse_ct("application/json", "{\"email\":\"\xc0\xaf\"}", 13, &e),
                     PB_ERR_INVALID_UTF8); /* overlong '/' */
    assert_int_equal(parse_ct("application/json", "{\"email\":\"\xed\xa0\x80\"}", 14, &e),
                     PB_ERR_INVALID_UTF8); /* a surrogate */
    refused("", PB_ERR_INVALID_JSON, NULL);
    refused("{", PB_ERR_INVALID_JSON, NULL);
    refused("{\"email\":\"abc\",}", PB_ERR_INVALID_JSON, NULL);
    refused("{\"email\":'abc'}", PB_ERR_INVALID_JSON, NULL);
    refused("{\"email\":\"abc\"} x", PB_ERR_INVALID_JSON, NULL);
    refused("{\"email\":\"a\\u0000b\"}", PB_ERR_INVALID_JSON, NULL);
    assert_int_equal(parse_ct("application/json", "{\"email\":\"ab\0c\"}", 15, &e),
                     PB_ERR_INVALID_JSON);
    refused("{\"email\":\"abc\",\"email\":\"abd\"}", PB_ERR_INVALID_JSON, "email");
    refused("[1,2]", PB_ERR_INVALID_REQUEST, NULL);
    refused("\"text\"", PB_ERR_INVALID_REQUEST, NULL);
    refused("null", PB_ERR_INVALID_REQUEST, NULL);
}

static void test_huge_numbers(void **state)
{
    (void)state;
    refused("{\"email\":\"abc\",\"count\":99999999999999999999}", PB_ERR_FIELD_INVALID, "count");
    refused("{\"email\":\"abc\", \"count\" : -99999999999999999999 }", PB_ERR_FIELD_INVALID,
            "count");
    refused("{\"email\":\"abc\",\"count\":1e999}", PB_ERR_FIELD_INVALID, "count");
    refused("{\"email\":\"abc\",\"meta\":{\"deep\":99999999999999999999}}", PB_ERR_FIELD_INVALID,
            "deep");
    refused("{\"email\":\"abc\",\"items\":[1,99999999999999999999]}", PB_ERR_FIELD_INVALID, NULL);
    refused("{\"email\":\"abc\",\"co\\\"unt\":99999999999999999999}", PB_ERR_FIELD_INVALID,
            "co\"unt");
}

static void test_fields(void **state)
{
    (void)state;
    refused("{}", PB_ERR_FIELD_MISSING, "email");
    refused("{\"email\":null}", PB_ERR_FIELD_INVALID, "email");
    refused("{\"email\":\"abc\",\"bogus\":1}", PB_ERR_UNKNOWN_FIELD, "bogus");
    refused("{\"email\":\"abc\",\"Email\":\"x\"}", PB_ERR_UNKNOWN_FIELD, "Email");
    refused("{\"email\":5}", PB_ERR_FIELD_INVALID, "email");
    refused("{\"email\":\"ab\"}", PB_ERR_FIELD_INVALID, "email");
    char long_email[300] = "{\"email\":\"";
    memset(long_email + 10, 'a', 255);
    strcpy(long_email + 265, "\"}");
    refused(long_email, PB_ERR_FIELD_INVALID, "email");
    refused("{\"email\":\"abc\",\"count\":\"5\"}", PB_ERR_FIELD_INVALID, "count");
    refused("{\"email\":\"abc\",\"count\":5.0}", PB_ERR_FIELD_INVALID, "count");
    refused("{\"email\":\"abc\",\"count\":1e2}", PB_ERR_FIELD_INVALID, "count");
    refused("{\"email\":\"abc\",\"count\":0}", PB_ERR_FIELD_INVALID, "count");
    refused("{\"email\":\"abc\",\"count\":101}", PB_ERR_FIELD_INVALID, "count");
    refused("{\"email\":\"abc\",\"count\":true}", PB_ERR_FIELD_INVALID, "count");
    refused("{\"email\":\"abc\",\"flag\":1}", PB_ERR_FIELD_INVALID, "flag");
    refused("{\"email\":\"abc\",\"flag\":\"true\"}", PB_ERR_FIELD_INVALID, "flag");
    refused("{\"email\":\"abc\",\"id\":\"not-a-uuid\"}", PB_ERR_FIELD_INVALID, "id");
    refused("{\"email\":\"abc\",\"when\":\"yesterday\"}", PB_ERR_FIELD_INVALID, "when");
    refused("{\"email\":\"abc\",\"meta\":[]}", PB_ERR_FIELD_INVALID, "meta");
    refused("{\"email\":\"abc\",\"items\":{}}", PB_ERR_FIELD_INVALID, "items");
    refused("{\"email\":\"abc\",\"items\":[1,2,3,4]}", PB_ERR_FIELD_INVALID, "items");
    refused("{\"email\":\"abc\",\"currency\":\"XXX\"}", PB_ERR_FIELD_INVALID, "currency");
    refused("{\"email\":\"abc\",\"currency\":\"eur\"}", PB_ERR_FIELD_INVALID, "currency");
}

static void test_money(void **state)
{
    (void)state;
    const char *pre = "{\"email\":\"abc\",\"currency\":\"EUR\",\"amount\":";
    const char *bad[] = {"10",     "\"10.001\"", "\"1e3\"",   "\"+1\"", "\"01\"",
                         "\"1.\"", "\"\"",       "\"-1.00\"", "\"0\"",  "\"92233720368547758.08\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char body[200];
        snprintf(body, sizeof body, "%s%s}", pre, bad[i]);
        refused(body, PB_ERR_FIELD_INVALID, "amount");
    }
    refused("{\"email\":\"abc\",\"amount\":\"1.00\"}", PB_ERR_FIELD_MISSING, "currency");
    refused("{\"email\":\"abc\",\"amount\":\"1.00\",\"currency\":\"ZZZ\"}", PB_ERR_FIELD_INVALID,
            "currency");
    pb_json_error e;
    char ok[200];
    snprintf(ok, sizeof ok, "%s\"0.01\"}", pre);
    assert_int_equal(parse(ok, &e), PB_OK);
    assert_int_equal(amount, 1);
    /* without a currency field, MONEY checks the decimal shape only */
    refused("{\"email\":\"abc\",\"note\":\"1,5\"}", PB_ERR_FIELD_INVALID, "note");
    assert_int_equal(parse("{\"email\":\"abc\",\"note\":\"-12.345678\"}", &e), PB_OK);
    assert_string_equal(amount_s, "-12.345678");
}

static void test_long_unknown_key_is_truncated_safely(void **state)
{
    (void)state;
    /* a 200-byte key of 2-byte characters: the reported name is cut on a character boundary */
    char body[512] = "{\"email\":\"abc\",\"";
    size_t n = strlen(body);
    for (int i = 0; i < 100; i++) {
        body[n++] = '\xc3';
        body[n++] = '\xa9';
    }
    strcpy(body + n, "\":1}");
    pb_json_error e;
    assert_int_equal(parse(body, &e), PB_ERR_UNKNOWN_FIELD);
    assert_true(pb_utf8_valid(e.field, strlen(e.field)));
    assert_true(strlen(e.field) >= 60 && strlen(e.field) < 64);
    assert_true(pb_utf8_valid(e.message, strlen(e.message)));
}

static void test_nested_check(void **state)
{
    (void)state;
    const char *inner_name = NULL;
    pb_json_field inner[] = {{"name", PB_JSON_STRING, .required = true, .str = &inner_name}};
    json_t *obj = json_loads("{\"name\":\"x\"}", 0, NULL);
    pb_json_error e;
    assert_int_equal(pb_json_check(obj, inner, 1, &e), PB_OK);
    assert_string_equal(inner_name, "x");
    json_decref(obj);
    obj = json_loads("{\"nom\":\"x\"}", 0, NULL);
    assert_int_equal(pb_json_check(obj, inner, 1, &e), PB_ERR_UNKNOWN_FIELD);
    assert_string_equal(e.field, "nom");
    json_decref(obj);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(pb_utf8_valid("", 0));
    assert_true(pb_utf8_valid("plain", 5));
    assert_true(pb_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb0", 14));
    assert_false(pb_utf8_valid("\x80", 1));
    assert_false(pb_utf8_valid("\xc3", 1));             /* truncated */
    assert_false(pb_utf8_valid("\xe0\x80\x80", 3));     /* overlong */
    assert_false(pb_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(pb_utf8_valid("\xf5\x80\x80\x80", 4));
    assert_false(pb_utf8_valid("\xed\xbf\xbf", 3)); /* surrogate */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_accepts_and_fills, drop_root),
        cmocka_unit_test_teardown(test_media_type, drop_root),
        cmocka_unit_test_teardown(test_encoding_and_syntax, drop_root),
        cmocka_unit_test_teardown(test_huge_numbers, drop_root),
        cmocka_unit_test_teardown(test_fields, drop_root),
        cmocka_unit_test_teardown(test_money, drop_root),
        cmocka_unit_test_teardown(test_long_unknown_key_is_truncated_safely, drop_root),
        cmocka_unit_test_teardown(test_nested_check, drop_root),
        cmocka_unit_test_teardown(test_utf8, drop_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
