/*
 * funding.c — the funding policy: which balance a stake draws from, and how a
 * payout for that stake is shared back between cash and bonus. Pure functions.
 */
#include <jansson.h>
#include <string.h>

#include "wallet/wallet.h"

static const char *const NAMES[] = {
    [PB_FUNDING_CASH_FIRST] = "cash_first",
    [PB_FUNDING_BONUS_FIRST] = "bonus_first",
    [PB_FUNDING_CASH_ONLY] = "cash_only",
};

const char *pb_wallet_funding_policy_name(pb_funding_policy p)
{
    return (unsigned)p < sizeof NAMES / sizeof NAMES[0] ? NAMES[p] : "cash_first";
}

pb_err pb_wallet_funding_policy_parse(const char *settings_json, pb_funding_policy *out)
{
    *out = PB_FUNDING_CASH_FIRST;
    if (!settings_json || !settings_json[0])
        return PB_OK;
    json_t *root = json_loads(settings_json, JSON_REJECT_DUPLICATES, NULL);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return PB_ERR_FIELD_INVALID;
    }
    pb_err e = PB_OK;
    json_t *v = json_object_get(root, "funding_policy");
    if (v) {
        const char *s = json_string_value(v);
        e = PB_ERR_FIELD_INVALID;
        for (size_t i = 0; s && i < sizeof NAMES / sizeof NAMES[0]; i++)
            if (strcmp(s, NAMES[i]) == 0) {
                *out = (pb_funding_policy)i;
                e = PB_OK;
            }
    }
    json_decref(root);
    return e;
}

pb_err pb_wallet_split(pb_funding_policy p, int64_t amount, int64_t cash_available,
                       int64_t bonus_available, int64_t *cash_part, int64_t *bonus_part)
{
    *cash_part = *bonus_part = 0;
    if (amount <= 0)
        return PB_ERR_AMOUNT_INVALID;
    if (cash_available < 0)
        cash_available = 0;
    if (bonus_available < 0 || p == PB_FUNDING_CASH_ONLY)
        bonus_available = 0;
    if (cash_available < amount && bonus_available < amount - cash_available)
        return PB_ERR_INSUFFICIENT_FUNDS;
    if (p == PB_FUNDING_BONUS_FIRST) {
        *bonus_part = amount < bonus_available ? amount : bonus_available;
        *cash_part = amount - *bonus_part;
    } else {
        *cash_part = amount < cash_available ? amount : cash_available;
        *bonus_part = amount - *cash_part;
    }
    return PB_OK;
}

pb_err pb_wallet_split_payout(int64_t amount, int64_t cash_part, int64_t bonus_part,
                              int64_t *cash_out, int64_t *bonus_out)
{
    *cash_out = *bonus_out = 0;
    if (amount < 0 || cash_part < 0 || bonus_part < 0 || cash_part > INT64_MAX - bonus_part)
        return PB_ERR_AMOUNT_INVALID;
    int64_t stake = cash_part + bonus_part;
    if (stake == 0 || bonus_part == 0) {
        *cash_out = amount;
        return PB_OK;
    }
    /* floor(amount * bonus_part / stake) without overflow: 128-bit intermediate */
    __int128 b = (__int128)amount * bonus_part / stake;
    *bonus_out = (int64_t)b;
    *cash_out = amount - *bonus_out;
    return PB_OK;
}
