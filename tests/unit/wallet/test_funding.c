/*
 * test_funding.c — the funding policy (src/wallet/funding.c), pure functions:
 * reading the policy from a brand's settings; how a stake is drawn from cash
 * and bonus under each policy (exact balances, insufficient funds, cash_only
 * ignoring bonus); how a payout is shared back in the stake's proportions
 * (rounding remainder to cash, huge values without overflow, zero stake).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "wallet/wallet.h"

/* Splits and asserts the result and, on success, the parts. */
static void split_is(pb_funding_policy p, int64_t amount, int64_t cash, int64_t bonus, pb_err want,
                     int64_t want_cash, int64_t want_bonus)
{
    int64_t c = -1, b = -1;
    assert_int_equal(pb_wallet_split(p, amount, cash, bonus, &c, &b), want);
    if (want == PB_OK) {
        assert_int_equal(c, want_cash);
        assert_int_equal(b, want_bonus);
        assert_int_equal(c + b, amount);
    } else {
        assert_int_equal(c, 0); /* nothing half-decided is left in the outputs */
        assert_int_equal(b, 0);
    }
}

static void payout_is(int64_t amount, int64_t cash_part, int64_t bonus_part, int64_t want_cash,
                      int64_t want_bonus)
{
    int64_t c = -1, b = -1;
    assert_int_equal(pb_wallet_split_payout(amount, cash_part, bonus_part, &c, &b), PB_OK);
    assert_int_equal(c, want_cash);
    assert_int_equal(b, want_bonus);
}

static void test_policy_parse(void **state)
{
    (void)state;
    pb_funding_policy p = PB_FUNDING_CASH_ONLY;
    assert_int_equal(pb_wallet_funding_policy_parse(NULL, &p), PB_OK);
    assert_int_equal(p, PB_FUNDING_CASH_FIRST);
    p = PB_FUNDING_CASH_ONLY;
    assert_int_equal(pb_wallet_funding_policy_parse("", &p), PB_OK);
    assert_int_equal(p, PB_FUNDING_CASH_FIRST);
    p = PB_FUNDING_CASH_ONLY;
    assert_int_equal(pb_wallet_funding_policy_parse("{\"other\":1}", &p), PB_OK);
    assert_int_equal(p, PB_FUNDING_CASH_FIRST); /* absent = cash_first */
    struct {
        const char *json;
        pb_funding_policy want;
    } ok[] = {
        {"{\"funding_policy\":\"cash_first\"}", PB_FUNDING_CASH_FIRST},
        {"{\"funding_policy\":\"bonus_first\"}", PB_FUNDING_BONUS_FIRST},
        {"{\"funding_policy\":\"cash_only\",\"x\":[1]}", PB_FUNDING_CASH_ONLY},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        p = (pb_funding_policy)99;
        assert_int_equal(pb_wallet_funding_policy_parse(ok[i].json, &p), PB_OK);
        assert_int_equal(p, ok[i].want);
        /* the name reads back as what was parsed */
        char again[64];
        snprintf(again, sizeof again, "{\"funding_policy\":\"%s\"}",
                 pb_wallet_funding_policy_name(p));
        pb_funding_policy q = (pb_funding_policy)99;
        assert_int_equal(pb_wallet_funding_policy_parse(again, &q), PB_OK);
        assert_int_equal(q, p);
    }
    const char *bad[] = {
        "{\"funding_policy\":\"bonus_only\"}",
        "{\"funding_policy\":\"CASH_FIRST\"}",
        "{\"funding_policy\":\"\"}",
        "{\"funding_policy\":1}",
        "{\"funding_policy\":null}",
        "{\"funding_policy\":[\"cash_only\"]}",
        "[]",
        "\"cash_only\"",
        "{",
        "{\"funding_policy\":\"cash_only\",\"funding_policy\":\"cash_first\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pb_wallet_funding_policy_parse(bad[i], &p), PB_ERR_FIELD_INVALID);
}

static void test_policy_names(void **state)
{
    (void)state;
    assert_string_equal(pb_wallet_funding_policy_name(PB_FUNDING_CASH_FIRST), "cash_first");
    assert_string_equal(pb_wallet_funding_policy_name(PB_FUNDING_BONUS_FIRST), "bonus_first");
    assert_string_equal(pb_wallet_funding_policy_name(PB_FUNDING_CASH_ONLY), "cash_only");
    assert_string_equal(pb_wallet_funding_policy_name((pb_funding_policy)42), "cash_first");
}

static void test_split_cash_first(void **state)
{
    (void)state;
    split_is(PB_FUNDING_CASH_FIRST, 300, 1000, 500, PB_OK, 300, 0);     /* cash covers it */
    split_is(PB_FUNDING_CASH_FIRST, 1000, 1000, 500, PB_OK, 1000, 0);   /* exactly the cash */
    split_is(PB_FUNDING_CASH_FIRST, 1200, 1000, 500, PB_OK, 1000, 200); /* the rest from bonus */
    split_is(PB_FUNDING_CASH_FIRST, 1500, 1000, 500, PB_OK, 1000, 500); /* exactly both */
    split_is(PB_FUNDING_CASH_FIRST, 1501, 1000, 500, PB_ERR_INSUFFICIENT_FUNDS, 0, 0);
    split_is(PB_FUNDING_CASH_FIRST, 400, 0, 500, PB_OK, 0, 400); /* bonus only */
    split_is(PB_FUNDING_CASH_FIRST, 1, 0, 0, PB_ERR_INSUFFICIENT_FUNDS, 0, 0);
}

static void test_split_bonus_first(void **state)
{
    (void)state;
    split_is(PB_FUNDING_BONUS_FIRST, 300, 1000, 500, PB_OK, 0, 300);
    split_is(PB_FUNDING_BONUS_FIRST, 500, 1000, 500, PB_OK, 0, 500);   /* exactly the bonus */
    split_is(PB_FUNDING_BONUS_FIRST, 800, 1000, 500, PB_OK, 300, 500); /* the rest from cash */
    split_is(PB_FUNDING_BONUS_FIRST, 1500, 1000, 500, PB_OK, 1000, 500);
    split_is(PB_FUNDING_BONUS_FIRST, 1501, 1000, 500, PB_ERR_INSUFFICIENT_FUNDS, 0, 0);
    split_is(PB_FUNDING_BONUS_FIRST, 700, 1000, 0, PB_OK, 700, 0);
}

static void test_split_cash_only_ignores_bonus(void **state)
{
    (void)state;
    split_is(PB_FUNDING_CASH_ONLY, 1000, 1000, 500, PB_OK, 1000, 0);
    /* bonus would cover it under the other policies, never here */
    split_is(PB_FUNDING_CASH_ONLY, 1001, 1000, 500, PB_ERR_INSUFFICIENT_FUNDS, 0, 0);
    split_is(PB_FUNDING_CASH_ONLY, 1, 0, INT64_MAX, PB_ERR_INSUFFICIENT_FUNDS, 0, 0);
    split_is(PB_FUNDING_CASH_FIRST, 1, 0, INT64_MAX, PB_OK, 0, 1);
}

static void test_split_edges(void **state)
{
    (void)state;
    /* a stake must be positive */
    split_is(PB_FUNDING_CASH_FIRST, 0, 1000, 500, PB_ERR_AMOUNT_INVALID, 0, 0);
    split_is(PB_FUNDING_BONUS_FIRST, -5, 1000, 500, PB_ERR_AMOUNT_INVALID, 0, 0);
    /* a negative availability (an overdrawn view) counts as nothing, never as credit */
    split_is(PB_FUNDING_CASH_FIRST, 100, -50, 100, PB_OK, 0, 100);
    split_is(PB_FUNDING_CASH_FIRST, 101, -50, 100, PB_ERR_INSUFFICIENT_FUNDS, 0, 0);
    split_is(PB_FUNDING_BONUS_FIRST, 100, 100, -50, PB_OK, 100, 0);
    /* the largest balances do not overflow the comparison */
    split_is(PB_FUNDING_CASH_FIRST, INT64_MAX, INT64_MAX, INT64_MAX, PB_OK, INT64_MAX, 0);
    split_is(PB_FUNDING_BONUS_FIRST, INT64_MAX, INT64_MAX - 1, 1, PB_OK, INT64_MAX - 1, 1);
    split_is(PB_FUNDING_CASH_FIRST, INT64_MAX, INT64_MAX - 1, 0, PB_ERR_INSUFFICIENT_FUNDS, 0, 0);
}

static void test_payout_proportions(void **state)
{
    (void)state;
    payout_is(1000, 500, 500, 500, 500);
    payout_is(1600, 500, 300, 1000, 600); /* bonus 1600*300/800 = 600 */
    payout_is(1601, 500, 300, 1001, 600); /* floor 600.375: the remainder to cash */
    payout_is(1, 1, 1, 1, 0);             /* half a cent goes to cash */
    payout_is(2, 1, 2, 1, 1);             /* floor(4/3) = 1 */
    payout_is(10, 1, 2, 4, 6);            /* floor(20/3) = 6 */
    payout_is(700, 0, 700, 0, 700);       /* all bonus stake: all bonus */
    payout_is(700, 700, 0, 700, 0);       /* all cash stake: all cash */
    payout_is(0, 500, 300, 0, 0);         /* a losing round pays nothing */
    /* a payout never creates or loses a cent, for many shapes */
    for (int64_t amount = 0; amount < 200; amount += 7)
        for (int64_t cp = 0; cp < 40; cp += 3)
            for (int64_t bp = 1; bp < 40; bp += 5) {
                int64_t c, b;
                assert_int_equal(pb_wallet_split_payout(amount, cp, bp, &c, &b), PB_OK);
                assert_int_equal(c + b, amount);
                assert_int_equal(b, amount * bp / (cp + bp));
                assert_true(c >= 0 && b >= 0);
            }
}

static void test_payout_zero_stake_goes_to_cash(void **state)
{
    (void)state;
    payout_is(500, 0, 0, 500, 0); /* nothing was staked (a free round): all to cash */
    payout_is(0, 0, 0, 0, 0);
}

static void test_payout_huge_values(void **state)
{
    (void)state;
    /* amount * bonus_part is far beyond int64: the result is still exact */
    payout_is(INT64_MAX, INT64_MAX / 2, INT64_MAX / 2 + 1, INT64_MAX - (INT64_MAX / 2 + 1),
              INT64_MAX / 2 + 1);
    payout_is(INT64_MAX, 1, INT64_MAX - 1, 1, INT64_MAX - 1);
    payout_is(INT64_MAX, INT64_MAX - 1, 1, INT64_MAX - 1, 1);
    /* 3 * (INT64_MAX / 3) parts: exactly thirds of a payout divisible by three */
    int64_t third = INT64_MAX / 3;
    payout_is(3 * third, third, 2 * third, third, 2 * third);
    /* a stake whose parts together overflow is refused, not wrapped */
    int64_t c = -1, b = -1;
    pb_err e = pb_wallet_split_payout(100, INT64_MAX, 1, &c, &b);
    assert_true(e == PB_ERR_OVERFLOW || e == PB_ERR_AMOUNT_INVALID);
    assert_int_equal(c, 0);
    assert_int_equal(b, 0);
}

static void test_payout_refuses_negatives(void **state)
{
    (void)state;
    int64_t c, b;
    assert_int_equal(pb_wallet_split_payout(-1, 1, 1, &c, &b), PB_ERR_AMOUNT_INVALID);
    assert_int_equal(pb_wallet_split_payout(1, -1, 1, &c, &b), PB_ERR_AMOUNT_INVALID);
    assert_int_equal(pb_wallet_split_payout(1, 1, -1, &c, &b), PB_ERR_AMOUNT_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_parse),
        cmocka_unit_test(test_policy_names),
        cmocka_unit_test(test_split_cash_first),
        cmocka_unit_test(test_split_bonus_first),
        cmocka_unit_test(test_split_cash_only_ignores_bonus),
        cmocka_unit_test(test_split_edges),
        cmocka_unit_test(test_payout_proportions),
        cmocka_unit_test(test_payout_zero_stake_goes_to_cash),
        cmocka_unit_test(test_payout_huge_values),
        cmocka_unit_test(test_payout_refuses_negatives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
