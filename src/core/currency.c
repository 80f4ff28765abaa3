/*
 * currency.c — the table of currencies pitboss supports.
 *
 * A static const array searched linearly: the table is small (a few dozen
 * rows), lookups are rare (parsing a request), and pointers into it are the
 * identity of a currency everywhere else (pb_money.cur). Codes are matched
 * exactly and case-sensitively; exponents are those of ISO 4217, and for
 * crypto units the fixed precision pitboss books them in.
 */
#include "core/money.h"

#include <string.h>

static const pb_currency currencies[] = {
    /* exponent 2 */
    {"EUR", 2},
    {"USD", 2},
    {"GBP", 2},
    {"SEK", 2},
    {"NOK", 2},
    {"DKK", 2},
    {"CHF", 2},
    {"PLN", 2},
    {"CZK", 2},
    {"CAD", 2},
    {"AUD", 2},
    {"NZD", 2},
    {"BRL", 2},
    {"MXN", 2},
    {"INR", 2},
    {"ZAR", 2},
    {"TRY", 2},
    /* exponent 0 */
    {"JPY", 0},
    {"KRW", 0},
    {"CLP", 0},
    {"ISK", 0},
    /* exponent 3 */
    {"KWD", 3},
    {"BHD", 3},
    {"OMR", 3},
    {"JOD", 3},
    {"TND", 3},
    /* crypto: satoshi for BTC; LTC likewise 8 */
    {"BTC", 8},
    /*
     * ETH is booked with 8 decimals, not its native 18 (wei): at 18 decimals
     * int64_t would top out at about 9.22 ETH, far too small for balances.
     * 8 decimals allow up to ~92 billion ETH with 10^-8 ETH resolution.
     */
    {"ETH", 8},
    {"LTC", 8},
    /* stablecoins: 6 decimals, as the USDT and USDC token contracts use */
    {"USDT", 6},
    {"USDC", 6},
};

const pb_currency *pb_currency_findn(const char *code, size_t len)
{
    if (code == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof currencies / sizeof currencies[0]; i++) {
        const pb_currency *c = &currencies[i];
        if (strlen(c->code) == len && memcmp(c->code, code, len) == 0)
            return c;
    }
    return NULL;
}

const pb_currency *pb_currency_find(const char *code)
{
    if (code == NULL)
        return NULL;
    return pb_currency_findn(code, strlen(code));
}
