/*
 * deposit_expiry.h — the one deposit expiry rule, header-only so that the
 * player erasure (src/identity/erase.c, a layer below the cashier: it does not
 * link the cashier) reads it exactly as the cashier does.
 *
 * A deposit intent made at created_at expires deposit_expiry_minutes after it
 * (the brand's setting: a positive integer, else the default, 24 h): at and after
 * pb_cashier_deposit_expires_at() a "pending" intent reads "expired" (the
 * cashier's views), and no longer holds up the erasure of its player.
 */
#ifndef PB_CASHIER_DEPOSIT_EXPIRY_H
#define PB_CASHIER_DEPOSIT_EXPIRY_H

#include <stdint.h>

#include "tenancy/tenancy.h"

#define PB_CASHIER_DEFAULT_DEPOSIT_EXPIRY_MINUTES 1440 /* 24 h */

/* The brand's deposit_expiry_minutes from its settings (JSON text; NULL or
 * unreadable: the default). */
static inline int64_t pb_cashier_deposit_expiry_minutes(const char *settings)
{
    return pb_tenancy_setting_int(settings, "deposit_expiry_minutes",
                                  PB_CASHIER_DEFAULT_DEPOSIT_EXPIRY_MINUTES);
}

/* When an intent made at created_at (µs) expires under that many minutes (µs). */
static inline int64_t pb_cashier_deposit_expires_at(int64_t created_at, int64_t minutes)
{
    return created_at + minutes * 60 * 1000000;
}

/* Of the intents that expire under that many minutes, those made at or before
 * the cutoff have expired at now (µs): the same rule as pb_cashier_deposit_expires_at,
 * turned round for a query. */
static inline int64_t pb_cashier_deposit_expiry_cutoff(int64_t now, int64_t minutes)
{
    return now - minutes * 60 * 1000000;
}

#endif
