/*
 * erase.c — erasing a player's personal data (GDPR Art. 17), and when it is refused.
 *
 * pb_identity_player_erase runs inside the caller's write transaction: it reads the
 * player (in scope) and its brand, checks every precondition there, on what that
 * transaction sees, and only then erases (the store's player_erase), ends the
 * player's live game launches (the catalog's), appends the audit entry
 * "player.erased" and the event "player.erased" — all on the caller's connection,
 * so they commit together or not at all. Whoever calls it (the admin route, a tool,
 * a future job) gets the same refusals and the same record; none can skip them.
 * Bad input (no actor or reason, an entry the audit log would refuse) is refused
 * before anything is read. The refusals, in order:
 *
 *   PLAYER_ERASED            erased already;
 *   PLAYER_HAS_FUNDS         a ledger account of the player (any kind, any currency)
 *                            holds money or a hold, posted or pending;
 *   PLAYER_HAS_OPEN_PAYMENTS a deposit pending and not expired (pending for less than
 *                            the brand's deposit_expiry_minutes, as the cashier
 *                            reads it: an expired intent is not "pending" anywhere
 *                            else either), or a withdrawal pending approval,
 *                            approved or being paid. An expired (or failed) intent
 *                            can still be completed by a late PSP success; for a
 *                            closed player the cashier credits that money to the
 *                            brand's unclaimed funds (funds.unclaimed), never to
 *                            the closed account, so the erasure does not wait for
 *                            it (the row stays "pending" for ever: it would block
 *                            the erasure for ever);
 *   PLAYER_HAS_PENDING_ADJUSTMENT
 *                            a staff adjustment of the player waits for its second
 *                            approver (adjustment_request 'pending', 0048): approved
 *                            after the erasure it would move money on the closed,
 *                            erased account, so it is approved or rejected first. A
 *                            request is written in the ledger writer's transaction
 *                            after that transaction re-read the player (closed:
 *                            PLAYER_ERASED, nothing written), and this check runs in
 *                            the erasure's write transaction: the store has one
 *                            writer at a time, so a request either committed before
 *                            the erasure (seen here) or sees the player closed. A
 *                            request past its brand's adjustment_request_expiry_hours
 *                            can no longer be approved and does not count;
 *   PLAYER_HAS_OPEN_BETS     a game bet not settled yet: accepted, not rolled
 *                            back, and its round is not closed, with or without
 *                            a win (a provider may send more wins on a round it
 *                            has not closed: multi-win rounds, free spins, a late
 *                            jackpot), unless the round's newest operation is
 *                            older than PB_IDENTITY_ROUND_IDLE_DAYS (identity.h:
 *                            some providers never close rounds; such a round is
 *                            taken as abandoned). A win or rollback may still
 *                            come for an open bet; after the erasure it would
 *                            not reach the player (the wallet credits a closed
 *                            player's wins and refunds to the brand's unclaimed
 *                            funds, wallet.h), so the erasure waits for it. The
 *                            in-house games are in it: every round stakes, pays and
 *                            voids through the wallet as provider "pitboss" (bet
 *                            "<round>:bet", a win that closes the round, a rollback
 *                            "<round>:void" and a close), so a mines game in play, a crash bet
 *                            not cashed out or crashed, a round decided and not paid
 *                            ("settling") or a void stake not given back ("voiding")
 *                            is an open bet. The stake is a posted transfer, not a
 *                            hold: PLAYER_HAS_FUNDS does not see it. A round only
 *                            recorded ("pending", nothing staked yet) has its stake
 *                            still on the accounts (PLAYER_HAS_FUNDS), or its stake
 *                            will be refused (nothing there; and the wallet's gate
 *                            refuses a closed player's bets);
 *   RETENTION_PERIOD         the brand's retention period (settings.erase_after_days,
 *                            default 1826 days) has not passed since the player's
 *                            last activity: registration, last login, the newest
 *                            transfer on any of their accounts.
 *
 * The ledger's balances are read live (pb_ledger_account_get: the rows are written
 * back lazily); the wallet's and the cashier's tables only through store reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit.h"
#include "cashier/deposit_expiry.h" /* the cashier's deposit expiry rule */
#include "catalog/catalog.h"
#include "core/time.h"
#include "events/events.h"
#include "identity/identity_internal.h"
#include "ledger/ledger.h"

#define DAY_US (86400LL * 1000000LL)
#define ACCOUNTS_PAGE 32

/* the withdrawal states in which money is still on its way */
static const char *const OPEN_WITHDRAWALS[] = {"pending_approval", "approved", "processing"};

int64_t pb_identity_erase_after_days(const pb_brand *b)
{
    return pb_tenancy_setting_int(b->settings, "erase_after_days", PB_IDENTITY_ERASE_AFTER_DAYS);
}

static pb_err store_err(pb_store_rc rc)
{
    return rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
}

/* Every ledger account of the player: PLAYER_HAS_FUNDS when one holds money or a
 * hold; the newest transfer's time into *last when later. */
static pb_err accounts_check(pb_store_conn *c, const char *brand, const char *public_id,
                             int64_t *last)
{
    char owner[PB_PUBLIC_ID_MAX + 8];
    snprintf(owner, sizeof owner, "player:%s", public_id);
    pb_err funds = PB_OK;
    int64_t ids[ACCOUNTS_PAGE], after = 0;
    size_t n;
    do {
        pb_store_rc rc = pb_store_player_ledger_accounts(c, brand, owner, after, ids, ACCOUNTS_PAGE,
                                                         &n);
        if (rc != PB_STORE_OK)
            return store_err(rc);
        for (size_t i = 0; i < n; i++) {
            pb_ledger_account a;
            pb_err e = pb_ledger_account_get(c, ids[i], &a);
            if (e != PB_OK)
                return e == PB_ERR_ACCOUNT_NOT_FOUND ? PB_ERR_INTERNAL : e;
            if (a.credits_posted != a.debits_posted || a.debits_pending || a.credits_pending)
                funds = PB_ERR_PLAYER_HAS_FUNDS;
            pb_store_transfer t;
            rc = a.last_seq ? pb_store_transfer_by_seq(c, a.last_seq, &t) : PB_STORE_NOT_FOUND;
            if (rc == PB_STORE_OK && t.created_at > *last)
                *last = t.created_at;
            else if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
                return store_err(rc);
            after = ids[i];
        }
    } while (n == ACCOUNTS_PAGE);
    return funds;
}

/* A deposit pending and not expired at now, or a withdrawal still open:
 * PLAYER_HAS_OPEN_PAYMENTS. */
static pb_err payments_check(pb_store_conn *c, const pb_brand *b, const char *player, int64_t now)
{
    pb_store_payment pay;
    size_t n = 0;
    /* the newest pending intent: an older one (same brand) expired before it did */
    pb_store_payment_query pq = {.player = player, .status = "pending", .limit = 1};
    pb_store_rc rc = pb_store_payment_list(c, &pq, &pay, &n);
    if (rc != PB_STORE_OK)
        return store_err(rc);
    if (n && now < pb_cashier_deposit_expires_at(pay.created_at,
                                                 pb_cashier_deposit_expiry_minutes(b->settings)))
        return PB_ERR_PLAYER_HAS_OPEN_PAYMENTS;
    for (size_t i = 0; i < sizeof OPEN_WITHDRAWALS / sizeof OPEN_WITHDRAWALS[0]; i++) {
        pb_store_withdrawal w;
        pb_store_withdrawal_query wq = {.player = player,
                                        .status = OPEN_WITHDRAWALS[i],
                                        .limit = 1};
        if ((rc = pb_store_withdrawal_list(c, &wq, &w, &n)) != PB_STORE_OK)
            return store_err(rc);
        if (n)
            return PB_ERR_PLAYER_HAS_OPEN_PAYMENTS;
    }
    return PB_OK;
}

/* A staff adjustment request of the player still pending and within its brand's
 * expiry (it may still be approved): PLAYER_HAS_PENDING_ADJUSTMENT. The newest pending
 * one decides: the player's requests are all of its brand, so an older one expired
 * first. One past its time can never move money (its approval marks it expired), so
 * it does not hold the erasure up. */
static pb_err adjustments_check(pb_store_conn *c, const pb_brand *b, const char *player,
                                int64_t now)
{
    pb_store_adjustment *a = malloc(sizeof *a); /* ~4 KiB of text */
    if (!a)
        return PB_ERR_INTERNAL;
    pb_store_rc rc = pb_store_adjustment_player_pending(c, player, a);
    bool live = rc == PB_STORE_OK && now - a->rq.requested_at < pb_tenancy_adjustment_expiry_us(b);
    free(a);
    if (rc == PB_STORE_NOT_FOUND || (rc == PB_STORE_OK && !live))
        return PB_OK;
    return rc == PB_STORE_OK ? PB_ERR_PLAYER_HAS_PENDING_ADJUSTMENT : store_err(rc);
}

/* A game bet (a provider's or an in-house round's) not settled yet, its round
 * active within PB_IDENTITY_ROUND_IDLE_DAYS before now: PLAYER_HAS_OPEN_BETS. */
static pb_err bets_check(pb_store_conn *c, const char *player, int64_t now)
{
    pb_store_open_bet b;
    pb_store_rc rc = pb_store_player_open_bet(c, player, now - PB_IDENTITY_ROUND_IDLE_DAYS * DAY_US,
                                              &b);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_OK;
    return rc == PB_STORE_OK ? PB_ERR_PLAYER_HAS_OPEN_BETS : store_err(rc);
}

/* The audit entry of an erasure by `by` (actor, reason, trace, address); before and
 * after are left to the caller. */
static pb_audit_entry erase_entry(const pb_identity_erase_actor *by)
{
    return (pb_audit_entry){.actor_kind = by->kind && *by->kind ? by->kind : "staff",
                            .actor_id = by->id,
                            .role = by->role,
                            .action = "player.erased",
                            .target_kind = "player",
                            .reason = by->reason,
                            .trace_id = by->trace_id,
                            .ip = by->ip};
}

/* Compact JSON text with sorted keys (the form the route wrote: byte for byte);
 * takes v. NULL when out of memory. The caller frees. */
static char *json_text(json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    return s;
}

/* The record of an erasure, once erased: the player's live launches end, the audit
 * entry (before: the status; after: closed, erased at, launches ended) and the event
 * (by: the actor). On c, in the caller's transaction. */
static pb_err erase_record(pb_store_conn *c, const pb_identity_erase_actor *by, const char *brand,
                           const pb_player *before, int64_t now)
{
    int64_t launches = 0;
    pb_err e = pb_catalog_launch_revoke_player(c, before->public_id, now, &launches);
    if (e != PB_OK)
        return e;
    char at[PB_TIME_STR_MAX];
    if (pb_time_format(now, at, sizeof at) < 0)
        return PB_ERR_INTERNAL;
    pb_audit_entry en = erase_entry(by);
    en.brand = brand;
    en.target_id = before->public_id;
    char *b = json_text(json_pack("{s:s}", "status", pb_player_status_name(before->status)));
    char *a = json_text(json_pack("{s:s,s:s,s:I}", "status", "closed", "erased_at", at,
                                  "live_launches_ended", (json_int_t)launches));
    en.before = b;
    en.after = a;
    e = b && a ? pb_audit_append(c, &en, now) : PB_ERR_INTERNAL;
    free(b);
    free(a);
    if (e != PB_OK)
        return e == PB_ERR_FIELD_INVALID ? PB_ERR_INTERNAL : e; /* checked before writing */
    return pb_events_emit(c, "player.erased", brand, before->public_id, by->trace_id, now,
                          PB_EV_STR("by", by->id));
}

/* The erasure itself (the store's rows, the email replaced by
 * erased-<id>@erased.invalid) and its record; gone: what a row the store no longer
 * finds unerased means to the caller. */
static pb_err erase_and_record(pb_store_conn *c, const pb_identity_erase_actor *by,
                               const char *brand, const pb_store_player *row,
                               const pb_player *before, int64_t now, pb_err gone)
{
    char email[PB_EMAIL_MAX + 1];
    snprintf(email, sizeof email, "erased-%s@erased.invalid", row->public_id);
    pb_err e = pb_id_store_err(c, pb_store_player_erase(c, row->id, email, now), gone,
                               "player erase");
    return e == PB_OK ? erase_record(c, by, brand, before, now) : e;
}

pb_err pb_identity_player_erase(pb_store_conn *c, const pb_brand_scope *scope,
                                const char *public_id, const pb_identity_erase_actor *by,
                                int64_t now, pb_player *out, pb_identity_erase_refusal *why)
{
    pb_identity_erase_refusal ignored;
    if (!why)
        why = &ignored;
    memset(why, 0, sizeof *why);
    if (!by || !by->id || !*by->id || !by->reason || !*by->reason)
        return PB_ERR_FIELD_MISSING;
    /* the actor's fields only: an id that names no player is PLAYER_NOT_FOUND below */
    pb_audit_entry probe = erase_entry(by);
    if (pb_audit_validate(&probe, NULL) != PB_OK)
        return PB_ERR_FIELD_INVALID; /* what the audit log would refuse after the erasure */
    pb_player pl;
    pb_brand brand;
    pb_err e = pb_identity_player_get(c, scope, public_id, &pl);
    if (e == PB_OK)
        e = pb_tenancy_brand_get(c, pl.brand_id, &brand);
    if (e == PB_ERR_BRAND_NOT_FOUND)
        e = PB_ERR_INTERNAL; /* a player whose brand is gone */
    if (e != PB_OK)
        return e;
    if (pl.erased_at)
        return PB_ERR_PLAYER_ERASED;
    int64_t last = pl.created_at > pl.last_login_at ? pl.created_at : pl.last_login_at;
    if ((e = accounts_check(c, brand.code, pl.public_id, &last)) != PB_OK ||
        (e = payments_check(c, &brand, pl.public_id, now)) != PB_OK ||
        (e = adjustments_check(c, &brand, pl.public_id, now)) != PB_OK ||
        (e = bets_check(c, pl.public_id, now)) != PB_OK)
        return e;
    why->retention_days = pb_identity_erase_after_days(&brand);
    if (why->retention_days > 0 && now < last + why->retention_days * DAY_US) {
        why->erasable_from = last + why->retention_days * DAY_US;
        return PB_ERR_RETENTION_PERIOD;
    }
    pb_store_player row;
    e = pb_id_store_err(c, pb_store_player_by_public_id(c, pl.public_id, &row),
                        PB_ERR_PLAYER_NOT_FOUND, "player get");
    if (e != PB_OK)
        return e;
    e = erase_and_record(c, by, brand.code, &row, &pl, now, PB_ERR_PLAYER_ERASED);
    if (e == PB_OK)
        e = pb_identity_player_get_pii(c, scope, public_id, out);
    return e;
}

pb_err pb_identity_player_erase_again(pb_store_conn *c, const char *public_id,
                                      const pb_identity_erase_actor *by, int64_t now, bool *done)
{
    *done = false;
    if (!by || !by->id || !*by->id || !by->reason || !*by->reason)
        return PB_ERR_FIELD_MISSING;
    pb_audit_entry probe = erase_entry(by);
    if (pb_audit_validate(&probe, NULL) != PB_OK)
        return PB_ERR_FIELD_INVALID;
    pb_store_player row;
    pb_store_rc r = pb_store_player_by_public_id(c, public_id, &row);
    if (r == PB_STORE_NOT_FOUND)
        return PB_OK;
    pb_err e = pb_id_store_err(c, r, PB_ERR_PLAYER_NOT_FOUND, "player get");
    if (e != PB_OK || row.erased_at)
        return e;
    pb_store_brand brand;
    e = pb_id_store_err(c, pb_store_brand_get(c, row.brand_id, &brand), PB_ERR_INTERNAL,
                        "brand get");
    if (e != PB_OK)
        return e;
    pb_player before;
    memset(&before, 0, sizeof before);
    snprintf(before.public_id, sizeof before.public_id, "%s", row.public_id);
    if (pb_player_status_parse(row.status, &before.status) != PB_OK)
        return PB_ERR_INTERNAL;
    e = erase_and_record(c, by, brand.code, &row, &before, now, PB_ERR_INTERNAL);
    *done = e == PB_OK;
    return e;
}
