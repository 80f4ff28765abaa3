/*
 * money.h — amounts as int64_t minor units of an ISO 4217 (or crypto) currency.
 *
 * No floating point touches money. Amounts travel as (minor units, currency);
 * on the wire they are strict decimal strings ("10.00"). Arithmetic is
 * overflow-checked and reports overflow and currency mismatch as results.
 */
#ifndef PB_CORE_MONEY_H
#define PB_CORE_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* A currency: its code ("EUR", "USDT") and the exponent of its minor unit. */
typedef struct pb_currency {
    const char *code;       /* upper-case code, 3 to 5 characters */
    unsigned char exponent; /* digits after the decimal point: JPY 0, EUR 2, KWD 3, BTC 8 */
} pb_currency;

/* The currency with this code (exact, case-sensitive match), or NULL if unsupported. */
const pb_currency *pb_currency_find(const char *code);
/* Same, for a code that is not NUL-terminated. */
const pb_currency *pb_currency_findn(const char *code, size_t len);

typedef struct pb_money {
    int64_t minor;          /* amount in minor units; may be negative */
    const pb_currency *cur; /* never NULL in a valid amount */
} pb_money;

typedef enum {
    PB_MONEY_OK = 0,
    PB_MONEY_INVALID,           /* the string is not a strict decimal amount for the currency */
    PB_MONEY_OVERFLOW,          /* the result does not fit in int64_t minor units */
    PB_MONEY_CURRENCY_MISMATCH, /* operands are in different currencies */
    PB_MONEY_DIVIDE_BY_ZERO,    /* a ratio with a zero denominator */
} pb_money_status;

/* Longest formatted amount: sign + 19 digits + '.' + NUL, rounded up. */
#define PB_MONEY_STR_MAX 32

/*
 * Parses a strict decimal string of `len` bytes into minor units of `cur`.
 * Accepted: optional '-', then "0" or a digit 1-9 followed by ASCII digits,
 * then optionally '.' and 1..exponent digits (none for exponent 0).
 * Rejected: empty, '+', spaces, exponents, leading zeros ("01"), "-0" in any
 * form, a bare "." or trailing ".", more decimals than the currency has,
 * non-ASCII digits, values beyond int64_t minor units.
 */
pb_money_status pb_money_parse(const char *s, size_t len, const pb_currency *cur, int64_t *out);

/* Formats minor units with exactly cur->exponent decimals ("10.00", "-0.05", "1000" for JPY).
 * Writes a NUL-terminated string; returns its length, or -1 when cap is too small. */
int pb_money_format(int64_t minor, const pb_currency *cur, char *buf, size_t cap);

/* out = a + b; out = a - b. Currency mismatch and overflow are results; *out is untouched then. */
pb_money_status pb_money_add(pb_money a, pb_money b, pb_money *out);
pb_money_status pb_money_sub(pb_money a, pb_money b, pb_money *out);

typedef enum {
    PB_ROUND_DOWN = 0,  /* toward zero */
    PB_ROUND_HALF_EVEN, /* banker's rounding */
    PB_ROUND_UP,        /* away from zero */
} pb_rounding;

/* out = a * num / den with a 128-bit intermediate and the given rounding.
 * den must be non-zero (PB_MONEY_DIVIDE_BY_ZERO); num/den may be negative. */
pb_money_status pb_money_mul_ratio(pb_money a, int64_t num, int64_t den, pb_rounding mode,
                                   pb_money *out);

/* Overflow-checked int64 helpers used by the ledger's counters: return 0 on success, -1 on overflow. */
static inline int pb_i64_add(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_add_overflow(a, b, out) ? -1 : 0;
}
static inline int pb_i64_sub(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_sub_overflow(a, b, out) ? -1 : 0;
}

#endif
