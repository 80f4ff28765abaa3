/*
 * fuzz_money.c — the money parser and formatter (src/core/money.h).
 *
 * Input: byte 0 picks a currency (every exponent: 0, 2, 3, 6, 8), the rest is
 * an amount string. Properties:
 *   - a string that parses formats back to a string that parses to the same
 *     minor units, and that canonical string is a fixed point of format;
 *   - the canonical form never has more decimals than the currency, a leading
 *     '+', a leading zero or "-0";
 *   - any int64 taken from the input (the first 8 bytes after byte 0) formats
 *     and parses back to itself: parse(format(x)) == x, in every currency;
 *   - add / sub agree with the compiler's overflow builtins, and mul_ratio by
 *     1/1 is the identity.
 */
#include "fuzz.h"

#include "core/money.h"

static const char *const codes[] = {"EUR", "JPY", "KWD", "USDT", "BTC", "GBP"};
#define NCODES (sizeof codes / sizeof codes[0])

static void round_trip(int64_t x, const pb_currency *cur)
{
    char buf[PB_MONEY_STR_MAX];
    int n = pb_money_format(x, cur, buf, sizeof buf);
    FUZZ_CHECK(n > 0 && (size_t)n == strlen(buf));
    int64_t back = 0;
    FUZZ_CHECK(pb_money_parse(buf, (size_t)n, cur, &back) == PB_MONEY_OK);
    FUZZ_CHECK(back == x);
    /* too small a buffer is refused, not overrun */
    char small[PB_MONEY_STR_MAX];
    FUZZ_CHECK(pb_money_format(x, cur, small, (size_t)n) == -1);
}

static void arithmetic(int64_t a, int64_t b, const pb_currency *cur)
{
    pb_money ma = {a, cur}, mb = {b, cur}, out = {0, cur};
    int64_t want;
    bool ovf = __builtin_add_overflow(a, b, &want);
    pb_money_status st = pb_money_add(ma, mb, &out);
    FUZZ_CHECK(ovf ? st == PB_MONEY_OVERFLOW : st == PB_MONEY_OK && out.minor == want);
    ovf = __builtin_sub_overflow(a, b, &want);
    st = pb_money_sub(ma, mb, &out);
    FUZZ_CHECK(ovf ? st == PB_MONEY_OVERFLOW : st == PB_MONEY_OK && out.minor == want);
    FUZZ_CHECK(pb_money_mul_ratio(ma, 1, 1, PB_ROUND_HALF_EVEN, &out) == PB_MONEY_OK &&
               out.minor == a);
    FUZZ_CHECK(pb_money_mul_ratio(ma, 1, 0, PB_ROUND_DOWN, &out) == PB_MONEY_DIVIDE_BY_ZERO);
    /* a * b / b: exact whenever b != 0 and the product fits 128 bits (always) */
    if (b != 0) {
        st = pb_money_mul_ratio(ma, b, b, PB_ROUND_UP, &out);
        FUZZ_CHECK(st == PB_MONEY_OK && out.minor == a);
    }
    const pb_currency *other = pb_currency_find(strcmp(cur->code, "EUR") ? "EUR" : "JPY");
    pb_money mo = {b, other};
    FUZZ_CHECK(pb_money_add(ma, mo, &out) == PB_MONEY_CURRENCY_MISMATCH);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const pb_currency *cur = pb_currency_find(codes[data[0] % NCODES]);
    FUZZ_CHECK(cur != NULL);
    const char *s = (const char *)data + 1;
    size_t len = size - 1;

    int64_t v = 0;
    if (pb_money_parse(s, len, cur, &v) == PB_MONEY_OK) {
        char canon[PB_MONEY_STR_MAX];
        int n = pb_money_format(v, cur, canon, sizeof canon);
        FUZZ_CHECK(n > 0);
        int64_t again = 0;
        FUZZ_CHECK(pb_money_parse(canon, (size_t)n, cur, &again) == PB_MONEY_OK && again == v);
        const char *dot = strchr(canon, '.');
        FUZZ_CHECK(cur->exponent == 0 ? dot == NULL : dot && strlen(dot + 1) == cur->exponent);
        const char *digits = canon[0] == '-' ? canon + 1 : canon;
        FUZZ_CHECK(digits[0] >= '0' && digits[0] <= '9');
        FUZZ_CHECK(!(digits[0] == '0' && digits[1] >= '0' && digits[1] <= '9'));
        FUZZ_CHECK(!(canon[0] == '-' && v == 0));
        /* the input itself, when it has all the decimals, is already canonical */
        const char *idot = memchr(s, '.', len);
        size_t idec = idot ? len - (size_t)(idot - s) - 1 : 0;
        if (idec == cur->exponent)
            FUZZ_CHECK((size_t)n == len && memcmp(canon, s, len) == 0);
    }
    for (size_t i = 0; i < NCODES; i++) {
        const pb_currency *c = pb_currency_find(codes[i]);
        round_trip(v, c);
    }
    if (len >= 16) {
        int64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + 8, 8);
        for (size_t i = 0; i < NCODES; i++)
            round_trip(a, pb_currency_find(codes[i]));
        arithmetic(a, b, cur);
    } else if (len >= 8) {
        int64_t a;
        memcpy(&a, s, 8);
        round_trip(a, cur);
        arithmetic(a, v, cur);
    }
    return 0;
}
