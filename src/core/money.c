/*
 * money.c — strict decimal parsing/formatting and checked arithmetic on
 * int64_t minor units.
 *
 * Design: no floating point anywhere. Parsing accumulates the magnitude in a
 * uint64_t with overflow builtins and checks it against INT64_MAX (or
 * INT64_MAX + 1 for negative amounts, so INT64_MIN is reachable) only at the
 * end, after scaling by the missing decimals. Formatting works on the unsigned
 * magnitude, so INT64_MIN needs no special case. mul_ratio computes the exact
 * product in __int128 (|a * num| <= 2^126), divides with truncation, and then
 * applies the rounding mode from the sign of the exact quotient and the
 * remainder; only the final value is range-checked.
 *
 * A NULL currency is never valid: operations given one return
 * PB_MONEY_INVALID (and format returns -1).
 */
#include "core/money.h"

#include <stdbool.h>
#include <string.h>

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

pb_money_status pb_money_parse(const char *s, size_t len, const pb_currency *cur, int64_t *out)
{
    if (s == NULL || cur == NULL || out == NULL || len == 0)
        return PB_MONEY_INVALID;

    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        i = 1;
    }

    /* Integer part: "0" or [1-9][0-9]*. */
    if (i >= len || !is_digit(s[i]))
        return PB_MONEY_INVALID;
    bool overflow = false;
    uint64_t mag = 0;
    if (s[i] == '0') {
        i++;
        if (i < len && is_digit(s[i]))
            return PB_MONEY_INVALID; /* leading zero */
    } else {
        while (i < len && is_digit(s[i])) {
            overflow |= __builtin_mul_overflow(mag, 10u, &mag);
            overflow |= __builtin_add_overflow(mag, (uint64_t)(s[i] - '0'), &mag);
            i++;
        }
    }

    /* Fraction: '.' then 1..exponent digits. */
    unsigned frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len)
            return PB_MONEY_INVALID; /* trailing '.' */
        while (i < len && is_digit(s[i])) {
            if (frac >= cur->exponent)
                return PB_MONEY_INVALID; /* too many decimals (or any, for exponent 0) */
            overflow |= __builtin_mul_overflow(mag, 10u, &mag);
            overflow |= __builtin_add_overflow(mag, (uint64_t)(s[i] - '0'), &mag);
            frac++;
            i++;
        }
        if (frac == 0)
            return PB_MONEY_INVALID; /* '.' not followed by a digit */
    }
    if (i != len)
        return PB_MONEY_INVALID; /* anything else: spaces, 'e', ',', NUL, non-ASCII */

    for (unsigned k = frac; k < cur->exponent; k++)
        overflow |= __builtin_mul_overflow(mag, 10u, &mag);

    if (neg && mag == 0 && !overflow)
        return PB_MONEY_INVALID; /* "-0", "-0.00" */

    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    if (overflow || mag > limit)
        return PB_MONEY_OVERFLOW;

    if (!neg)
        *out = (int64_t)mag;
    else if (mag == limit)
        *out = INT64_MIN;
    else
        *out = -(int64_t)mag;
    return PB_MONEY_OK;
}

int pb_money_format(int64_t minor, const pb_currency *cur, char *buf, size_t cap)
{
    if (cur == NULL || buf == NULL)
        return -1;

    uint64_t mag = minor < 0 ? 0u - (uint64_t)minor : (uint64_t)minor;
    char digits[24];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + mag % 10u);
        mag /= 10u;
    } while (mag != 0);

    size_t exp = cur->exponent;
    if (exp + 1 > sizeof digits)
        return -1; /* no supported currency comes close */
    while (nd < exp + 1)
        digits[nd++] = '0'; /* at least one integer digit: "0.05" */

    size_t need = (minor < 0 ? 1u : 0u) + nd + (exp > 0 ? 1u : 0u);
    if (need + 1 > cap)
        return -1;

    size_t o = 0;
    if (minor < 0)
        buf[o++] = '-';
    while (nd > 0) {
        if (nd == exp && exp > 0)
            buf[o++] = '.';
        buf[o++] = digits[--nd];
    }
    buf[o] = '\0';
    return (int)o;
}

static pb_money_status check_pair(pb_money a, pb_money b, const pb_money *out)
{
    if (a.cur == NULL || b.cur == NULL || out == NULL)
        return PB_MONEY_INVALID;
    if (a.cur != b.cur && strcmp(a.cur->code, b.cur->code) != 0)
        return PB_MONEY_CURRENCY_MISMATCH;
    return PB_MONEY_OK;
}

pb_money_status pb_money_add(pb_money a, pb_money b, pb_money *out)
{
    pb_money_status st = check_pair(a, b, out);
    if (st != PB_MONEY_OK)
        return st;
    int64_t r;
    if (__builtin_add_overflow(a.minor, b.minor, &r))
        return PB_MONEY_OVERFLOW;
    out->minor = r;
    out->cur = a.cur;
    return PB_MONEY_OK;
}

pb_money_status pb_money_sub(pb_money a, pb_money b, pb_money *out)
{
    pb_money_status st = check_pair(a, b, out);
    if (st != PB_MONEY_OK)
        return st;
    int64_t r;
    if (__builtin_sub_overflow(a.minor, b.minor, &r))
        return PB_MONEY_OVERFLOW;
    out->minor = r;
    out->cur = a.cur;
    return PB_MONEY_OK;
}

pb_money_status pb_money_mul_ratio(pb_money a, int64_t num, int64_t den, pb_rounding mode,
                                   pb_money *out)
{
    if (a.cur == NULL || out == NULL)
        return PB_MONEY_INVALID;
    if (mode != PB_ROUND_DOWN && mode != PB_ROUND_UP && mode != PB_ROUND_HALF_EVEN)
        return PB_MONEY_INVALID;
    if (den == 0)
        return PB_MONEY_DIVIDE_BY_ZERO;

    __int128 p;
    if (__builtin_mul_overflow((__int128)a.minor, (__int128)num, &p))
        return PB_MONEY_OVERFLOW; /* cannot happen: |a * num| <= 2^126 */

    /* Truncating division; |p| <= 2^126 and |den| >= 1, so no INT128_MIN / -1. */
    __int128 q = p / den;
    __int128 r = p % den;
    if (r != 0) {
        bool negative = (p < 0) != (den < 0); /* sign of the exact quotient */
        __int128 step = negative ? -1 : 1;
        /* Magnitudes: |r| < |den| <= 2^63, so 2|r| fits comfortably. */
        __int128 ar = r < 0 ? -r : r;
        __int128 ad = den < 0 ? -(__int128)den : (__int128)den;
        switch (mode) {
        case PB_ROUND_DOWN: break;
        case PB_ROUND_UP: q += step; break;
        case PB_ROUND_HALF_EVEN:
            if (2 * ar > ad || (2 * ar == ad && (q & 1) != 0))
                q += step;
            break;
        }
    }

    if (q > INT64_MAX || q < INT64_MIN)
        return PB_MONEY_OVERFLOW;
    out->minor = (int64_t)q;
    out->cur = a.cur;
    return PB_MONEY_OK;
}
