/*
 * wallet.c — the wallet handle, its accounts (found or created on first use,
 * then remembered), the player gate, the provider gate, and balances.
 *
 * Account ids never change once created, so a small direct-mapped cache in
 * front of the ledger's account lookup is always right (a collision only costs
 * a lookup). Creation goes through the ledger writer; two callers creating the
 * same account at once both end with its id (ACCOUNT_EXISTS → find).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "identity/identity.h"
#include "tenancy/tenancy.h"
#include "wallet/wallet_internal.h"

pb_wallet *pb_wallet_open(pb_ledger *l, pb_store *s, char *err, size_t errcap)
{
    pb_wallet *w = calloc(1, sizeof *w);
    if (w)
        w->cache = calloc(PB_WALLET_CACHE_SLOTS, sizeof *w->cache);
    if (!w || !w->cache) {
        free(w);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    w->ledger = l;
    w->store = s;
    pthread_mutex_init(&w->mu, NULL);
    return w;
}

void pb_wallet_close(pb_wallet *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->mu);
    free(w->cache);
    free(w);
}

pb_ledger *pb_wallet_ledger(pb_wallet *w) { return w->ledger; }

pb_err pb_wallet_policy_of(pb_wallet *w, pb_store_conn *c, const char *brand,
                           pb_funding_policy *out)
{
    pb_cache_guard *g = pb_tenancy_brand_cache_guard();
    int64_t now = pb_time_mono_us();
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < PB_WALLET_POLICY_SLOTS; i++) {
        wallet_policy *p = &w->policies[i];
        if (p->loaded_us && strcmp(p->brand, brand) == 0 &&
            pb_cache_guard_fresh(g, p->gen, p->loaded_us, now)) {
            *out = p->policy;
            pthread_mutex_unlock(&w->mu);
            return PB_OK;
        }
    }
    pthread_mutex_unlock(&w->mu);
    uint64_t gen = 0;
    bool keep = pb_cache_guard_snapshot(g, &gen); /* before the read */
    pb_brand *b = malloc(sizeof *b);
    if (!b)
        return PB_ERR_INTERNAL;
    pb_err e = pb_tenancy_brand_by_code(c, brand, b);
    pb_funding_policy policy = PB_FUNDING_CASH_FIRST;
    if (e == PB_OK && pb_wallet_funding_policy_parse(b->settings, &policy) != PB_OK)
        policy = PB_FUNDING_CASH_FIRST; /* settings are validated when written */
    free(b);
    if (e != PB_OK)
        return e;
    *out = policy;
    if (!keep) /* a brand write too recent: what was read may be the old row */
        return PB_OK;
    pthread_mutex_lock(&w->mu);
    wallet_policy *victim = &w->policies[0];
    for (size_t i = 0; i < PB_WALLET_POLICY_SLOTS; i++) {
        wallet_policy *p = &w->policies[i];
        if (strcmp(p->brand, brand) == 0 || !p->loaded_us) {
            victim = p;
            break;
        }
        if (p->loaded_us < victim->loaded_us)
            victim = p;
    }
    snprintf(victim->brand, sizeof victim->brand, "%s", brand);
    victim->policy = policy;
    victim->loaded_us = pb_time_mono_us();
    victim->gen = gen;
    pthread_mutex_unlock(&w->mu);
    return PB_OK;
}

/* FNV-1a over the four parts of an account's name. */
static size_t slot_of(const char *brand, const char *owner, const char *kind, const char *cur)
{
    uint64_t h = 1469598103934665603ull;
    const char *parts[] = {brand, owner, kind, cur};
    for (size_t i = 0; i < 4; i++) {
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ull;
        h = (h ^ 0x1f) * 1099511628211ull;
    }
    return (size_t)(h & (PB_WALLET_CACHE_SLOTS - 1));
}

static bool cache_get(pb_wallet *w, size_t slot, const char *brand, const char *owner,
                      const char *kind, const char *cur, int64_t *id)
{
    pthread_mutex_lock(&w->mu);
    const wallet_acct *a = &w->cache[slot];
    bool hit = a->id && strcmp(a->owner, owner) == 0 && strcmp(a->brand, brand) == 0 &&
               strcmp(a->kind, kind) == 0 && strcmp(a->currency, cur) == 0;
    if (hit)
        *id = a->id;
    pthread_mutex_unlock(&w->mu);
    return hit;
}

static void cache_put(pb_wallet *w, size_t slot, const pb_ledger_account *acc)
{
    pthread_mutex_lock(&w->mu);
    wallet_acct *a = &w->cache[slot];
    snprintf(a->brand, sizeof a->brand, "%s", acc->brand);
    snprintf(a->owner, sizeof a->owner, "%s", acc->owner);
    snprintf(a->kind, sizeof a->kind, "%s", acc->kind);
    snprintf(a->currency, sizeof a->currency, "%s", acc->currency);
    a->id = acc->id;
    pthread_mutex_unlock(&w->mu);
}

/* The account's id, created with `flags` when it does not exist (create), or
 * 0 when it does not exist (!create: found, never created). */
static pb_err ensure(pb_wallet *w, pb_store_conn *c, const char *brand, const char *owner,
                     const char *kind, const char *cur, uint32_t flags, bool create, int64_t *id)
{
    if (strlen(brand) > PB_WALLET_BRAND_MAX || strlen(owner) > PB_LEDGER_OWNER_MAX ||
        strlen(kind) > PB_LEDGER_KIND_MAX || strlen(cur) >= 8)
        return PB_ERR_INVALID_REQUEST;
    size_t slot = slot_of(brand, owner, kind, cur);
    if (cache_get(w, slot, brand, owner, kind, cur, id))
        return PB_OK;
    pb_ledger_account a;
    pb_err e = pb_ledger_account_find(c, brand, owner, kind, cur, &a);
    if (e == PB_ERR_ACCOUNT_NOT_FOUND && !create) {
        *id = 0; /* not remembered: it may be created any time */
        return PB_OK;
    }
    if (e == PB_ERR_ACCOUNT_NOT_FOUND) {
        memset(&a, 0, sizeof a);
        snprintf(a.brand, sizeof a.brand, "%s", brand);
        snprintf(a.owner, sizeof a.owner, "%s", owner);
        snprintf(a.kind, sizeof a.kind, "%s", kind);
        snprintf(a.currency, sizeof a.currency, "%s", cur);
        a.flags = flags;
        e = pb_ledger_account_create(w->ledger, &a);
        if (e == PB_ERR_ACCOUNT_EXISTS) /* created meanwhile by another caller */
            e = pb_ledger_account_find(c, brand, owner, kind, cur, &a);
    }
    if (e != PB_OK)
        return e;
    cache_put(w, slot, &a);
    *id = a.id;
    return PB_OK;
}

static pb_err player_accounts(pb_wallet *w, pb_store_conn *c, const char *brand,
                              const char *player_public_id, const char *currency, bool create,
                              pb_wallet_accounts *out)
{
    char owner[PB_LEDGER_OWNER_MAX + 1];
    if (snprintf(owner, sizeof owner, PB_WALLET_OWNER_PLAYER "%s", player_public_id) >=
        (int)sizeof owner)
        return PB_ERR_INVALID_REQUEST;
    uint32_t f = PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
    pb_err e = ensure(w, c, brand, owner, PB_WALLET_KIND_CASH, currency, f, create, &out->cash);
    if (e == PB_OK)
        e = ensure(w, c, brand, owner, PB_WALLET_KIND_BONUS, currency, f, create, &out->bonus);
    return e;
}

pb_err pb_wallet_player_accounts(pb_wallet *w, pb_store_conn *c, const char *brand,
                                 const char *player_public_id, const char *currency,
                                 pb_wallet_accounts *out)
{
    return player_accounts(w, c, brand, player_public_id, currency, true, out);
}

pb_err pb_wallet_player_accounts_find(pb_wallet *w, pb_store_conn *c, const char *brand,
                                      const char *player_public_id, const char *currency,
                                      pb_wallet_accounts *out)
{
    return player_accounts(w, c, brand, player_public_id, currency, false, out);
}

pb_err pb_wallet_system_account(pb_wallet *w, pb_store_conn *c, const char *brand,
                                const char *owner, const char *kind, const char *currency,
                                int64_t *id)
{
    return ensure(w, c, brand, owner, kind, currency, 0, true, id);
}

pb_err pb_wallet_system_account_find(pb_wallet *w, pb_store_conn *c, const char *brand,
                                     const char *owner, const char *kind, const char *currency,
                                     int64_t *id)
{
    return ensure(w, c, brand, owner, kind, currency, 0, false, id);
}

/*
 * THE player gate. Every path that moves a player's money asks it first: bets
 * (provider and in-house games), deposits and withdrawals. Later rules —
 * deposit/loss/wager limits, cool-offs and reality checks, KYC level, geo
 * rules — are added here, so that no caller can forget one.
 */
pb_err pb_wallet_gate(pb_store_conn *c, const char *player_public_id, pb_wallet_action action)
{
    pb_player_status status;
    pb_err e = pb_identity_player_status(c, player_public_id, &status);
    if (e != PB_OK)
        return e;
    if (status == PB_PLAYER_ACTIVE)
        return PB_OK;
    if (status == PB_PLAYER_SELF_EXCLUDED) /* may still take their money out */
        return action == PB_WALLET_ACTION_WITHDRAW ? PB_OK : PB_ERR_PLAYER_SELF_EXCLUDED;
    /* blocked or closed: no new money in or out until staff lift it */
    return PB_ERR_PLAYER_BLOCKED;
}

pb_err pb_wallet_provider_gate(const char *status, int kind)
{
    if (status && strcmp(status, "active") == 0)
        return PB_OK;
    /* switched off: nothing new starts; what was staked while it was on settles */
    return kind == 0 || kind == PB_WALLET_BET ? PB_ERR_PROVIDER_DISABLED : PB_OK;
}

pb_err pb_wallet_balance_get(pb_store_conn *c, const char *brand, const char *player_public_id,
                             const char *currency, pb_wallet_balance *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->currency, sizeof out->currency, "%s", currency);
    char owner[PB_LEDGER_OWNER_MAX + 1];
    if (snprintf(owner, sizeof owner, PB_WALLET_OWNER_PLAYER "%s", player_public_id) >=
        (int)sizeof owner)
        return PB_ERR_INVALID_REQUEST;
    pb_ledger_account a;
    pb_err e = pb_ledger_account_find(c, brand, owner, PB_WALLET_KIND_CASH, currency, &a);
    if (e == PB_OK) {
        out->cash = a.credits_posted - a.debits_posted;
        out->held = a.debits_pending;
    } else if (e != PB_ERR_ACCOUNT_NOT_FOUND) {
        return e;
    }
    e = pb_ledger_account_find(c, brand, owner, PB_WALLET_KIND_BONUS, currency, &a);
    if (e == PB_OK)
        out->bonus = a.credits_posted - a.debits_posted - a.debits_pending;
    else if (e != PB_ERR_ACCOUNT_NOT_FOUND)
        return e;
    out->withdrawable = out->cash - out->held;
    out->total = out->withdrawable + out->bonus;
    return PB_OK;
}
