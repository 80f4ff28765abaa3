/*
 * test_money.c — unit tests for currency lookup, strict decimal parse/format
 * and checked money arithmetic (src/core/money.h, currency.c, money.c).
 *
 * Table-driven where a rule has many inputs: each row is asserted separately
 * and a failing row is printed before the assertion fires.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/money.h"

static const pb_currency *cur(const char *code)
{
    const pb_currency *c = pb_currency_find(code);
    assert_non_null(c);
    return c;
}

static pb_money_status parse_str(const char *s, const char *code, int64_t *out)
{
    return pb_money_parse(s, strlen(s), cur(code), out);
}

static void expect_parse(const char *s, const char *code, int64_t want)
{
    int64_t got = 0x5a5a;
    pb_money_status st = parse_str(s, code, &got);
    if (st != PB_MONEY_OK || got != want)
        print_error("parse(\"%s\", %s): status %d value %lld, want %lld\n", s, code, (int)st,
                    (long long)got, (long long)want);
    assert_int_equal(st, PB_MONEY_OK);
    assert_true(got == want);
}

static void expect_parse_fail(const char *s, size_t len, const char *code, pb_money_status want)
{
    int64_t got = 0x5a5a;
    pb_money_status st = pb_money_parse(s, len, cur(code), &got);
    if (st != want)
        print_error("parse(\"%.*s\" len %zu, %s): status %d, want %d\n", (int)len, s, len, code,
                    (int)st, (int)want);
    assert_int_equal(st, want);
    assert_true(got == 0x5a5a); /* out untouched on failure */
}

static void expect_format(int64_t v, const char *code, const char *want)
{
    char buf[PB_MONEY_STR_MAX];
    int n = pb_money_format(v, cur(code), buf, sizeof buf);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(buf, want);
}

static pb_money M(int64_t minor, const char *code) { return (pb_money){minor, cur(code)}; }

/* ---- currency lookup ---------------------------------------------------- */

static void test_currency_known(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        unsigned exp;
    } rows[] = {
        {"EUR", 2}, {"USD", 2},  {"GBP", 2},  {"SEK", 2}, {"NOK", 2}, {"DKK", 2}, {"CHF", 2},
        {"PLN", 2}, {"CZK", 2},  {"CAD", 2},  {"AUD", 2}, {"NZD", 2}, {"BRL", 2}, {"MXN", 2},
        {"INR", 2}, {"ZAR", 2},  {"TRY", 2},  {"JPY", 0}, {"KRW", 0}, {"CLP", 0}, {"ISK", 0},
        {"KWD", 3}, {"BHD", 3},  {"OMR", 3},  {"JOD", 3}, {"TND", 3}, {"BTC", 8}, {"ETH", 8},
        {"LTC", 8}, {"USDT", 6}, {"USDC", 6},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const pb_currency *c = pb_currency_find(rows[i].code);
        assert_non_null(c);
        assert_string_equal(c->code, rows[i].code);
        assert_int_equal(c->exponent, rows[i].exp);
        /* the same row every time: pointers identify currencies */
        assert_ptr_equal(pb_currency_findn(rows[i].code, strlen(rows[i].code)), c);
    }
}

static void test_currency_unknown_and_case(void **state)
{
    (void)state;
    const char *bad[] = {"eur",  "Eur", "EUr",  "usdt", "XXX",  "",
                         "EURO", "EU",  " EUR", "EUR ", "BTC\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(pb_currency_find(bad[i]));
    assert_null(pb_currency_find(NULL));
    assert_null(pb_currency_findn(NULL, 3));
}

static void test_currency_findn_not_terminated(void **state)
{
    (void)state;
    const char buf[] = {'U', 'S', 'D', 'T', 'E', 'U', 'R'}; /* no NUL */
    assert_string_equal(pb_currency_findn(buf, 3)->code, "USD");
    assert_string_equal(pb_currency_findn(buf, 4)->code, "USDT");
    assert_string_equal(pb_currency_findn(buf + 4, 3)->code, "EUR");
    assert_null(pb_currency_findn(buf, 5));
    assert_null(pb_currency_findn(buf, 0));
    assert_null(pb_currency_findn("EUR\0", 4)); /* NUL counts as a character */
    assert_null(pb_currency_findn("EU", 2));
}

/* ---- parse: accepted forms, per exponent class -------------------------- */

static void test_parse_exp2(void **state)
{
    (void)state;
    expect_parse("0", "EUR", 0);
    expect_parse("0.0", "EUR", 0);
    expect_parse("0.00", "EUR", 0);
    expect_parse("0.05", "EUR", 5);
    expect_parse("-0.05", "EUR", -5);
    expect_parse("-0.5", "EUR", -50);
    expect_parse("10", "EUR", 1000);
    expect_parse("10.5", "EUR", 1050); /* fewer decimals than the exponent */
    expect_parse("10.50", "EUR", 1050);
    expect_parse("10.05", "EUR", 1005);
    expect_parse("-10.5", "USD", -1050);
    expect_parse("1234567.89", "GBP", 123456789);
    expect_parse("100", "SEK", 10000);
}

static void test_parse_exp0(void **state)
{
    (void)state;
    expect_parse("0", "JPY", 0);
    expect_parse("10", "JPY", 10);
    expect_parse("-1", "KRW", -1);
    expect_parse("1000000", "ISK", 1000000);
    expect_parse_fail("10.5", 4, "JPY", PB_MONEY_INVALID);
    expect_parse_fail("10.0", 4, "JPY", PB_MONEY_INVALID);
    expect_parse_fail("10.", 3, "JPY", PB_MONEY_INVALID);
    expect_parse_fail("0.1", 3, "CLP", PB_MONEY_INVALID);
}

static void test_parse_exp3_exp6_exp8(void **state)
{
    (void)state;
    expect_parse("1.234", "KWD", 1234);
    expect_parse("1.2", "KWD", 1200);
    expect_parse("-0.001", "BHD", -1);
    expect_parse_fail("1.2345", 6, "KWD", PB_MONEY_INVALID);

    expect_parse("1.000001", "USDT", 1000001);
    expect_parse("0.5", "USDC", 500000);
    expect_parse_fail("0.1234567", 9, "USDT", PB_MONEY_INVALID);

    expect_parse("0.00000001", "BTC", 1);
    expect_parse("21000000", "BTC", INT64_C(2100000000000000));
    expect_parse("1.5", "ETH", 150000000);
    expect_parse("-12.34567891", "LTC", INT64_C(-1234567891));
    expect_parse_fail("0.000000001", 11, "BTC", PB_MONEY_INVALID);
}

/* ---- parse: rejections -------------------------------------------------- */

static void test_parse_rejects_syntax(void **state)
{
    (void)state;
    const char *bad[] = {
        "",     "-",   "+1",    " 1",    "1 ",
        "01",   "00",  "-01",   "1.",    ".5",
        "-.5",  ".",   "1e3",   "1E3",   "1,00",
        "0x10", "--1", "1-",    "1.0.0", "1..0",
        "abc",  "1a",  "\t1",   "1\n",   "\xef\xbc\x91\xef\xbc\x90", /* １０ */
        "Inf",  "NaN", "1_000", "１",    "0.-5",
        "- 1",  "+0",  "1.+5",  "٣",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_parse_fail(bad[i], strlen(bad[i]), "EUR", PB_MONEY_INVALID);
}

static void test_parse_rejects_negative_zero(void **state)
{
    (void)state;
    const char *bad[] = {"-0", "-0.0", "-0.00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_parse_fail(bad[i], strlen(bad[i]), "EUR", PB_MONEY_INVALID);
    expect_parse_fail("-0", 2, "JPY", PB_MONEY_INVALID);
    expect_parse_fail("-0.00000000", 11, "BTC", PB_MONEY_INVALID);
}

static void test_parse_rejects_too_many_decimals(void **state)
{
    (void)state;
    expect_parse_fail("10.001", 6, "EUR", PB_MONEY_INVALID);
    expect_parse_fail("10.000", 6, "EUR", PB_MONEY_INVALID); /* even trailing zeros */
    expect_parse_fail("-0.001", 6, "USD", PB_MONEY_INVALID);
}

static void test_parse_len_and_nul(void **state)
{
    (void)state;
    int64_t v = 0;
    /* only `len` bytes are read */
    assert_int_equal(pb_money_parse("10.00xyz", 5, cur("EUR"), &v), PB_MONEY_OK);
    assert_true(v == 1000);
    assert_int_equal(pb_money_parse("123", 1, cur("EUR"), &v), PB_MONEY_OK);
    assert_true(v == 100);
    /* NUL inside len is invalid */
    expect_parse_fail("1\0", 2, "EUR", PB_MONEY_INVALID);
    expect_parse_fail("1\0.00", 5, "EUR", PB_MONEY_INVALID);
    expect_parse_fail("1.0\0", 4, "EUR", PB_MONEY_INVALID);
    expect_parse_fail("\0", 1, "EUR", PB_MONEY_INVALID);
    /* NULL arguments */
    assert_int_equal(pb_money_parse(NULL, 0, cur("EUR"), &v), PB_MONEY_INVALID);
    assert_int_equal(pb_money_parse("1", 1, NULL, &v), PB_MONEY_INVALID);
    assert_int_equal(pb_money_parse("1", 1, cur("EUR"), NULL), PB_MONEY_INVALID);
}

static void test_parse_int64_boundaries(void **state)
{
    (void)state;
    expect_parse("92233720368547758.07", "EUR", INT64_MAX);
    expect_parse("-92233720368547758.08", "EUR", INT64_MIN);
    expect_parse("-92233720368547758.07", "EUR", INT64_MIN + 1);
    expect_parse_fail("92233720368547758.08", 20, "EUR", PB_MONEY_OVERFLOW);
    expect_parse_fail("-92233720368547758.09", 21, "EUR", PB_MONEY_OVERFLOW);
    /* overflow only after scaling the missing decimals */
    expect_parse_fail("92233720368547759", 17, "EUR", PB_MONEY_OVERFLOW);
    expect_parse_fail("92233720368547758.1", 19, "EUR", PB_MONEY_OVERFLOW);
    expect_parse("92233720368547758", "EUR", INT64_C(9223372036854775800));

    expect_parse("9223372036854775807", "JPY", INT64_MAX);
    expect_parse("-9223372036854775808", "JPY", INT64_MIN);
    expect_parse_fail("9223372036854775808", 19, "JPY", PB_MONEY_OVERFLOW);
    expect_parse_fail("-9223372036854775809", 20, "JPY", PB_MONEY_OVERFLOW);
    /* beyond uint64_t too */
    expect_parse_fail("18446744073709551616", 20, "JPY", PB_MONEY_OVERFLOW);
    expect_parse_fail("123456789012345678901234567890", 30, "JPY", PB_MONEY_OVERFLOW);

    expect_parse("92233720368.54775807", "BTC", INT64_MAX);
    expect_parse("-92233720368.54775808", "BTC", INT64_MIN);
    expect_parse_fail("92233720368.54775808", 20, "BTC", PB_MONEY_OVERFLOW);
    expect_parse("9223372036854.775807", "USDT", INT64_MAX);
    expect_parse_fail("9223372036855", 13, "USDT", PB_MONEY_OVERFLOW);
    expect_parse("9223372036854775.807", "KWD", INT64_MAX);
    expect_parse_fail("9223372036854775.808", 20, "KWD", PB_MONEY_OVERFLOW);
    /* syntax errors win over overflow */
    expect_parse_fail("99999999999999999999x", 21, "JPY", PB_MONEY_INVALID);
}

/* ---- format ------------------------------------------------------------- */

static void test_format_each_exponent(void **state)
{
    (void)state;
    expect_format(0, "EUR", "0.00");
    expect_format(5, "EUR", "0.05");
    expect_format(-5, "EUR", "-0.05");
    expect_format(50, "EUR", "0.50");
    expect_format(1050, "EUR", "10.50");
    expect_format(-123456789, "USD", "-1234567.89");
    expect_format(0, "JPY", "0");
    expect_format(1000, "JPY", "1000");
    expect_format(-1000, "JPY", "-1000");
    expect_format(1, "KWD", "0.001");
    expect_format(-1234, "KWD", "-1.234");
    expect_format(1, "USDT", "0.000001");
    expect_format(1000000, "USDC", "1.000000");
    expect_format(1, "BTC", "0.00000001");
    expect_format(-150000000, "ETH", "-1.50000000");
}

static void test_format_int64_extremes(void **state)
{
    (void)state;
    expect_format(INT64_MAX, "EUR", "92233720368547758.07");
    expect_format(INT64_MIN, "EUR", "-92233720368547758.08");
    expect_format(INT64_MAX, "JPY", "9223372036854775807");
    expect_format(INT64_MIN, "JPY", "-9223372036854775808");
    expect_format(INT64_MIN, "BTC", "-92233720368.54775808");
    expect_format(INT64_MIN, "USDT", "-9223372036854.775808");
    expect_format(INT64_MIN, "KWD", "-9223372036854775.808");
}

static void test_format_capacity(void **state)
{
    (void)state;
    char buf[PB_MONEY_STR_MAX];
    const pb_currency *eur = cur("EUR");
    memset(buf, 'x', sizeof buf);
    assert_int_equal(pb_money_format(-1050, eur, buf, 7), 6); /* "-10.50" + NUL */
    assert_string_equal(buf, "-10.50");
    assert_int_equal(pb_money_format(-1050, eur, buf, 6), -1);
    assert_int_equal(pb_money_format(0, eur, buf, 0), -1);
    assert_int_equal(pb_money_format(0, NULL, buf, sizeof buf), -1);
    assert_int_equal(pb_money_format(0, eur, NULL, 10), -1);
    /* the longest value fits PB_MONEY_STR_MAX for every currency */
    assert_true(pb_money_format(INT64_MIN, eur, buf, sizeof buf) > 0);
    assert_true(pb_money_format(INT64_MIN, cur("JPY"), buf, sizeof buf) > 0);
}

/* ---- round trips -------------------------------------------------------- */

static void test_round_trip_canonical(void **state)
{
    (void)state;
    static const struct {
        const char *code, *s;
    } rows[] = {
        {"EUR", "0.00"},
        {"EUR", "0.01"},
        {"EUR", "-0.01"},
        {"EUR", "10.50"},
        {"EUR", "92233720368547758.07"},
        {"EUR", "-92233720368547758.08"},
        {"JPY", "0"},
        {"JPY", "1"},
        {"JPY", "-9223372036854775808"},
        {"KWD", "0.001"},
        {"KWD", "-1.999"},
        {"USDT", "1.000001"},
        {"BTC", "0.00000001"},
        {"BTC", "-92233720368.54775808"},
        {"ETH", "123.45678900"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t v;
        char buf[PB_MONEY_STR_MAX];
        assert_int_equal(parse_str(rows[i].s, rows[i].code, &v), PB_MONEY_OK);
        assert_int_equal(pb_money_format(v, cur(rows[i].code), buf, sizeof buf),
                         (int)strlen(rows[i].s));
        assert_string_equal(buf, rows[i].s);
    }
}

static void test_round_trip_values(void **state)
{
    (void)state;
    const char *codes[] = {"JPY", "EUR", "KWD", "USDT", "BTC"};
    uint64_t x = 0x9e3779b97f4a7c15u; /* xorshift64, fixed seed */
    for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++) {
        for (int i = 0; i < 2000; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            int64_t v = (int64_t)(x >> 1 >> (unsigned)(i % 63)); /* all magnitudes */
            if (i % 2)
                v = -v;
            char buf[PB_MONEY_STR_MAX];
            int n = pb_money_format(v, cur(codes[c]), buf, sizeof buf);
            assert_true(n > 0);
            int64_t back;
            assert_int_equal(pb_money_parse(buf, (size_t)n, cur(codes[c]), &back), PB_MONEY_OK);
            assert_true(back == v);
        }
    }
}

/* ---- add / sub ---------------------------------------------------------- */

static void test_add_sub_ok(void **state)
{
    (void)state;
    pb_money r;
    assert_int_equal(pb_money_add(M(1050, "EUR"), M(-50, "EUR"), &r), PB_MONEY_OK);
    assert_true(r.minor == 1000);
    assert_ptr_equal(r.cur, cur("EUR"));
    assert_int_equal(pb_money_sub(M(5, "JPY"), M(7, "JPY"), &r), PB_MONEY_OK);
    assert_true(r.minor == -2);
    /* exactly reaching the ends is fine */
    assert_int_equal(pb_money_add(M(INT64_MAX - 1, "EUR"), M(1, "EUR"), &r), PB_MONEY_OK);
    assert_true(r.minor == INT64_MAX);
    assert_int_equal(pb_money_add(M(INT64_MIN + 1, "EUR"), M(-1, "EUR"), &r), PB_MONEY_OK);
    assert_true(r.minor == INT64_MIN);
    assert_int_equal(pb_money_sub(M(-1, "EUR"), M(INT64_MIN, "EUR"), &r), PB_MONEY_OK);
    assert_true(r.minor == INT64_MAX);
    assert_int_equal(pb_money_add(M(INT64_MAX, "EUR"), M(INT64_MIN, "EUR"), &r), PB_MONEY_OK);
    assert_true(r.minor == -1);
}

static void test_add_overflow(void **state)
{
    (void)state;
    pb_money r = {42, NULL};
    assert_int_equal(pb_money_add(M(INT64_MAX, "EUR"), M(1, "EUR"), &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_add(M(1, "EUR"), M(INT64_MAX, "EUR"), &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_add(M(INT64_MAX, "EUR"), M(INT64_MAX, "EUR"), &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_add(M(INT64_MIN, "EUR"), M(-1, "EUR"), &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_add(M(-1, "EUR"), M(INT64_MIN, "EUR"), &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_add(M(INT64_MIN, "EUR"), M(INT64_MIN, "EUR"), &r), PB_MONEY_OVERFLOW);
    assert_true(r.minor == 42 && r.cur == NULL); /* untouched */
}

static void test_sub_overflow(void **state)
{
    (void)state;
    pb_money r = {42, NULL};
    assert_int_equal(pb_money_sub(M(INT64_MAX, "EUR"), M(-1, "EUR"), &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_sub(M(0, "EUR"), M(INT64_MIN, "EUR"), &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_sub(M(INT64_MIN, "EUR"), M(1, "EUR"), &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_sub(M(INT64_MIN, "EUR"), M(INT64_MAX, "EUR"), &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_sub(M(INT64_MAX, "EUR"), M(INT64_MIN, "EUR"), &r), PB_MONEY_OVERFLOW);
    assert_true(r.minor == 42 && r.cur == NULL);
}

static void test_add_sub_currency_mismatch(void **state)
{
    (void)state;
    pb_money r = {42, NULL};
    assert_int_equal(pb_money_add(M(1, "EUR"), M(1, "USD"), &r), PB_MONEY_CURRENCY_MISMATCH);
    assert_int_equal(pb_money_sub(M(1, "EUR"), M(1, "USD"), &r), PB_MONEY_CURRENCY_MISMATCH);
    /* mismatch is reported even when the sum would also overflow */
    assert_int_equal(pb_money_add(M(INT64_MAX, "USDT"), M(1, "USDC"), &r),
                     PB_MONEY_CURRENCY_MISMATCH);
    assert_true(r.minor == 42 && r.cur == NULL);
    pb_money bad = {1, NULL};
    assert_int_equal(pb_money_add(bad, M(1, "EUR"), &r), PB_MONEY_INVALID);
    assert_int_equal(pb_money_sub(M(1, "EUR"), bad, &r), PB_MONEY_INVALID);
}

/* ---- mul_ratio ---------------------------------------------------------- */

typedef struct {
    int64_t a, num, den;
    int64_t down, half_even, up;
} ratio_row;

static void check_ratio_rows(const ratio_row *rows, size_t n)
{
    const pb_rounding modes[] = {PB_ROUND_DOWN, PB_ROUND_HALF_EVEN, PB_ROUND_UP};
    for (size_t i = 0; i < n; i++) {
        const int64_t want[] = {rows[i].down, rows[i].half_even, rows[i].up};
        for (size_t m = 0; m < 3; m++) {
            pb_money r = {0, NULL};
            pb_money_status st = pb_money_mul_ratio(M(rows[i].a, "EUR"), rows[i].num, rows[i].den,
                                                    modes[m], &r);
            if (st != PB_MONEY_OK || r.minor != want[m])
                print_error("row %zu mode %zu: %lld*%lld/%lld = %lld (st %d), want %lld\n", i, m,
                            (long long)rows[i].a, (long long)rows[i].num, (long long)rows[i].den,
                            (long long)r.minor, (int)st, (long long)want[m]);
            assert_int_equal(st, PB_MONEY_OK);
            assert_true(r.minor == want[m]);
            assert_ptr_equal(r.cur, cur("EUR"));
        }
    }
}

static void test_mul_ratio_rounding_halves(void **state)
{
    (void)state;
    static const ratio_row rows[] = {
        /* a, num, den: down, half_even, up */
        {5, 1, 2, 2, 2, 3},       /*  2.5 */
        {15, 1, 2, 7, 8, 8},      /*  7.5 */
        {-5, 1, 2, -2, -2, -3},   /* -2.5 */
        {-15, 1, 2, -7, -8, -8},  /* -7.5 */
        {3, 1, 2, 1, 2, 2},       /*  1.5 */
        {-3, 1, 2, -1, -2, -2},   /* -1.5 */
        {1, 1, 2, 0, 0, 1},       /*  0.5 */
        {-1, 1, 2, 0, 0, -1},     /* -0.5 */
        {5, 1, -2, -2, -2, -3},   /* sign from the denominator */
        {5, -1, 2, -2, -2, -3},   /* sign from the numerator */
        {-5, -1, 2, 2, 2, 3},     /* two negatives */
        {-15, 1, -2, 7, 8, 8},    /*  7.5, two negatives */
        {25, 1, 10, 2, 2, 3},     /*  2.5 with den 10 */
        {35, -1, 10, -3, -4, -4}, /* -3.5 */
    };
    check_ratio_rows(rows, sizeof rows / sizeof rows[0]);
}

static void test_mul_ratio_rounding_non_halves(void **state)
{
    (void)state;
    static const ratio_row rows[] = {
        {7, 1, 3, 2, 2, 3},                         /*  2.33 */
        {8, 1, 3, 2, 3, 3},                         /*  2.67 */
        {-7, 1, 3, -2, -2, -3},                     /* -2.33 */
        {-8, 1, 3, -2, -3, -3},                     /* -2.67 */
        {6, 1, 3, 2, 2, 2},                         /* exact */
        {-6, 1, 3, -2, -2, -2},                     /* exact */
        {0, 7, 3, 0, 0, 0},                         /* zero */
        {5, 0, 3, 0, 0, 0},                         /* zero numerator */
        {100000, 15, 1000, 1500, 1500, 1500},       /* 1.5 % fee on 1000.00 */
        {333, 15, 1000, 4, 5, 5},                   /* 4.995 */
        {1, 1, INT64_MIN, 0, 0, -1},                /* tiny negative */
        {INT64_C(1) << 62, 1, INT64_MIN, 0, 0, -1}, /* -0.5 with den INT64_MIN */
        {INT64_MIN, 1, INT64_MIN, 1, 1, 1},
    };
    check_ratio_rows(rows, sizeof rows / sizeof rows[0]);
}

static void test_mul_ratio_wide_intermediate(void **state)
{
    (void)state;
    /* products beyond 64 bits whose quotient fits */
    static const ratio_row rows[] = {
        /* INT64_MAX * 3 / 4 = 6917529027641081855.25 */
        {INT64_MAX, 3, 4, INT64_C(6917529027641081855), INT64_C(6917529027641081855),
         INT64_C(6917529027641081856)},
        {INT64_MIN, 3, 4, INT64_C(-6917529027641081856), INT64_C(-6917529027641081856),
         INT64_C(-6917529027641081856)},
        {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX},
        {INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN},
        {INT64_MIN, 2, 2, INT64_MIN, INT64_MIN, INT64_MIN},
        {INT64_MIN, -1, -1, INT64_MIN, INT64_MIN, INT64_MIN},
    };
    check_ratio_rows(rows, sizeof rows / sizeof rows[0]);
    pb_money r;
    /* (2^32+1)(2^32-1)/2 = (2^64-1)/2 = INT64_MAX + 0.5: DOWN still fits */
    assert_int_equal(pb_money_mul_ratio(M(INT64_C(4294967297), "EUR"), INT64_C(4294967295), 2,
                                        PB_ROUND_DOWN, &r),
                     PB_MONEY_OK);
    assert_true(r.minor == INT64_MAX);
    /* -(2^64-1)/2 = -INT64_MAX - 0.5: UP lands exactly on INT64_MIN */
    assert_int_equal(pb_money_mul_ratio(M(-INT64_C(4294967297), "EUR"), INT64_C(4294967295), 2,
                                        PB_ROUND_UP, &r),
                     PB_MONEY_OK);
    assert_true(r.minor == INT64_MIN);
    /* -(2^64+1)/2 = INT64_MIN - 0.5: DOWN and HALF_EVEN (2^63 is even) stay at INT64_MIN */
    assert_int_equal(pb_money_mul_ratio(M(-274177, "EUR"), INT64_C(67280421310721), 2,
                                        PB_ROUND_DOWN, &r),
                     PB_MONEY_OK);
    assert_true(r.minor == INT64_MIN);
    assert_int_equal(pb_money_mul_ratio(M(-274177, "EUR"), INT64_C(67280421310721), 2,
                                        PB_ROUND_HALF_EVEN, &r),
                     PB_MONEY_OK);
    assert_true(r.minor == INT64_MIN);
}

static void test_mul_ratio_overflow(void **state)
{
    (void)state;
    pb_money r = {42, NULL};
    const pb_money max = M(INT64_MAX, "EUR"), min = M(INT64_MIN, "EUR");
    assert_int_equal(pb_money_mul_ratio(max, 2, 1, PB_ROUND_DOWN, &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_mul_ratio(max, INT64_MAX, 1, PB_ROUND_DOWN, &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_mul_ratio(min, -1, 1, PB_ROUND_DOWN, &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_mul_ratio(min, 1, -1, PB_ROUND_DOWN, &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_mul_ratio(min, INT64_MIN, 1, PB_ROUND_UP, &r), PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_mul_ratio(max, 5, 4, PB_ROUND_DOWN, &r), PB_MONEY_OVERFLOW);
    /* overflow caused by rounding alone: INT64_MAX + 0.5 */
    const pb_money p = M(INT64_C(4294967297), "EUR");
    assert_int_equal(pb_money_mul_ratio(p, INT64_C(4294967295), 2, PB_ROUND_UP, &r),
                     PB_MONEY_OVERFLOW);
    assert_int_equal(pb_money_mul_ratio(p, INT64_C(4294967295), 2, PB_ROUND_HALF_EVEN, &r),
                     PB_MONEY_OVERFLOW); /* INT64_MAX is odd: half-even rounds up */
    /* INT64_MIN - 0.5 rounded away from zero */
    assert_int_equal(pb_money_mul_ratio(M(-274177, "EUR"), INT64_C(67280421310721), 2, PB_ROUND_UP,
                                        &r),
                     PB_MONEY_OVERFLOW);
    assert_true(r.minor == 42 && r.cur == NULL);
}

static void test_mul_ratio_bad_arguments(void **state)
{
    (void)state;
    pb_money r = {42, NULL};
    assert_int_equal(pb_money_mul_ratio(M(100, "EUR"), 1, 0, PB_ROUND_DOWN, &r),
                     PB_MONEY_DIVIDE_BY_ZERO);
    assert_int_equal(pb_money_mul_ratio(M(0, "EUR"), 0, 0, PB_ROUND_HALF_EVEN, &r),
                     PB_MONEY_DIVIDE_BY_ZERO);
    assert_int_equal(pb_money_mul_ratio(M(INT64_MAX, "EUR"), INT64_MAX, 0, PB_ROUND_UP, &r),
                     PB_MONEY_DIVIDE_BY_ZERO);
    pb_money nocur = {1, NULL};
    assert_int_equal(pb_money_mul_ratio(nocur, 1, 1, PB_ROUND_DOWN, &r), PB_MONEY_INVALID);
    assert_int_equal(pb_money_mul_ratio(M(1, "EUR"), 1, 1, (pb_rounding)7, &r), PB_MONEY_INVALID);
    assert_true(r.minor == 42 && r.cur == NULL);
    /* the currency is carried through */
    assert_int_equal(pb_money_mul_ratio(M(10, "BTC"), 1, 1, PB_ROUND_DOWN, &r), PB_MONEY_OK);
    assert_ptr_equal(r.cur, cur("BTC"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_currency_known),
        cmocka_unit_test(test_currency_unknown_and_case),
        cmocka_unit_test(test_currency_findn_not_terminated),
        cmocka_unit_test(test_parse_exp2),
        cmocka_unit_test(test_parse_exp0),
        cmocka_unit_test(test_parse_exp3_exp6_exp8),
        cmocka_unit_test(test_parse_rejects_syntax),
        cmocka_unit_test(test_parse_rejects_negative_zero),
        cmocka_unit_test(test_parse_rejects_too_many_decimals),
        cmocka_unit_test(test_parse_len_and_nul),
        cmocka_unit_test(test_parse_int64_boundaries),
        cmocka_unit_test(test_format_each_exponent),
        cmocka_unit_test(test_format_int64_extremes),
        cmocka_unit_test(test_format_capacity),
        cmocka_unit_test(test_round_trip_canonical),
        cmocka_unit_test(test_round_trip_values),
        cmocka_unit_test(test_add_sub_ok),
        cmocka_unit_test(test_add_overflow),
        cmocka_unit_test(test_sub_overflow),
        cmocka_unit_test(test_add_sub_currency_mismatch),
        cmocka_unit_test(test_mul_ratio_rounding_halves),
        cmocka_unit_test(test_mul_ratio_rounding_non_halves),
        cmocka_unit_test(test_mul_ratio_wide_intermediate),
        cmocka_unit_test(test_mul_ratio_overflow),
        cmocka_unit_test(test_mul_ratio_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
