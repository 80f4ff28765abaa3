/*
 * tenancy.h — brands (tenants): the only door to them.
 *
 * A brand has an immutable code ([a-z0-9-]{2,32}; it names the brand in the
 * ledger and in tokens), a name, the currencies it accepts and its default one,
 * the jurisdiction whose licence it operates under, settings (a JSON object) and
 * a status (active, suspended: a suspended brand takes no new registrations;
 * its players can still log in, e.g. to withdraw). Players and their money
 * belong to one brand; staff see the brands of their scope (pb_brand_scope),
 * and every staff query is filtered by it.
 *
 * Every function runs on the caller's connection: reads see what the caller's
 * transaction sees; writes belong in the caller's PB_STORE_WRITE transaction
 * (each write is all or nothing on its own). Nothing here begins or commits.
 * Validation failures name the field in *bad_field (may be NULL) and write nothing.
 */
#ifndef PB_TENANCY_TENANCY_H
#define PB_TENANCY_TENANCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cacheguard.h"
#include "core/error.h"
#include "store/store.h"

typedef pb_store_brand pb_brand;

/* The deposit limits of a currency the brand's settings "deposit_mins" /
 * "deposit_maxes" have no entry for, in minor units of the deposit's currency
 * (the cashier applies them; tenancy checks a brand's own against them). */
#define PB_BRAND_DEPOSIT_MIN_DEFAULT 100
#define PB_BRAND_DEPOSIT_MAX_DEFAULT 100000000

/* The brands a staff member may see: every brand, or a list of brand ids. */
#define PB_SCOPE_MAX_BRANDS 64
typedef struct pb_brand_scope {
    bool all;
    size_t n;
    int64_t brand_ids[PB_SCOPE_MAX_BRANDS];
} pb_brand_scope;

/* True when the scope includes the brand. A NULL scope means "no restriction". */
bool pb_brand_scope_allows(const pb_brand_scope *scope, int64_t brand_id);

/* A new brand. */
typedef struct pb_brand_spec {
    const char *code;
    const char *name;
    const char *default_currency;
    const char *const *currencies; /* accepted currencies, including the default; none = only it */
    size_t ncurrencies;
    const char *jurisdiction; /* "MT", "GB", "CA-ON" */
    const char *settings;     /* a JSON object of known settings (tenancy.c); NULL = {} */
} pb_brand_spec;

/* Creates a brand. FIELD_INVALID (code, name, jurisdiction, currencies, settings: an
 * unknown key, or "settings.<key>" for a known one of the wrong type or range),
 * CURRENCY_UNKNOWN, CURRENCY_NOT_ALLOWED (the default is not in the list),
 * BRAND_EXISTS. out (may be NULL) receives the stored brand. */
pb_err pb_tenancy_brand_create(pb_store_conn *c, const pb_brand_spec *spec, int64_t now,
                               pb_brand *out, const char **bad_field);

/* A change to a brand; NULL / 0 fields stay as they are. The code never changes.
 * Players keep their currency when it leaves the brand's list; only new
 * registrations are refused in it. */
typedef struct pb_brand_update {
    const char *name;
    const char *default_currency;
    const char *const *currencies; /* replaces the list when non-NULL */
    size_t ncurrencies;
    const char *jurisdiction;
    const char *settings; /* replaces the settings object */
    const char *status;   /* "active" | "suspended" */
} pb_brand_update;

/* Updates brand `id` (BRAND_NOT_FOUND) with the same validation as create;
 * CURRENCY_NOT_ALLOWED when the default would not be in the list. */
pb_err pb_tenancy_brand_update(pb_store_conn *c, int64_t id, const pb_brand_update *u, int64_t now,
                               pb_brand *out, const char **bad_field);

/* Lookups; BRAND_NOT_FOUND when absent. */
pb_err pb_tenancy_brand_get(pb_store_conn *c, int64_t id, pb_brand *out);

/* The readers of a brand's settings (JSON text, b->settings), valid by the same
 * table that checks them when they are written (tenancy.c, SETTINGS), so no reader
 * has its own idea of a valid value. The integer setting `key` (one of the table's
 * integer keys): its value when it is an integer within the table's bounds, else def
 * (absent, or a row written around the API). */
int64_t pb_tenancy_setting_int(const char *settings, const char *key, int64_t def);
/* The per-currency setting `key` (one of the table's objects currency code -> integer):
 * true with *out when it has an entry for currency within the table's bounds. */
bool pb_tenancy_setting_for_currency(const char *settings, const char *key, const char *currency,
                                     int64_t *out);
/* Whether the value under settings key `key` differs between two settings texts
 * (JSON; absent on one side and present on the other is a change; NULL or
 * unreadable text reads as having no settings). */
bool pb_tenancy_setting_changed(const char *before, const char *after, const char *key);

/* A staff adjustment request of a brand without settings.adjustment_request_expiry_hours
 * expires after this many hours. */
#define PB_TENANCY_ADJUSTMENT_EXPIRY_HOURS 72
/* How long a staff adjustment request of brand b may stay pending before it can no
 * longer be approved (µs): its settings.adjustment_request_expiry_hours (1..720,
 * checked when written), else the default. Read by the adjustment routes and by the
 * player's erasure, which a request past its time no longer holds up. */
int64_t pb_tenancy_adjustment_expiry_us(const pb_brand *b);
/* A settlement request of a brand's unclaimed funds (src/api/admin_unclaimed_settle.c)
 * of a brand without settings.unclaimed_settlement_expiry_hours expires after this
 * many hours. */
#define PB_TENANCY_SETTLEMENT_EXPIRY_HOURS 72
/* How long such a request of brand b may stay pending (µs): its
 * settings.unclaimed_settlement_expiry_hours (1..720), else the default. */
int64_t pb_tenancy_settlement_expiry_us(const pb_brand *b);
/* The integer setting `key` of brand b, read as a number of hours (else def_hours),
 * in µs: what the request expiries above are made of. */
int64_t pb_tenancy_setting_hours_us(const pb_brand *b, const char *key, int64_t def_hours);
pb_err pb_tenancy_brand_by_code(pb_store_conn *c, const char *code, pb_brand *out);

/* As pb_tenancy_brand_by_code, from a short-lived in-process cache of found
 * brands (tenancy.c, "the brand cache": a brand changed by this process is seen
 * from the next call, one changed by another process within 1 s). For hot paths
 * that tolerate that; everything else reads the store. */
pb_err pb_tenancy_brand_by_code_cached(pb_store_conn *c, const char *code, pb_brand *out);

/* Empties the brand cache (brand writes do it themselves); tune sets its
 * lifetimes (tests) and empties it. */
void pb_tenancy_brand_cache_forget(void);
void pb_tenancy_brand_cache_tune(int64_t ttl_us, int64_t quiet_us);

/* The brand cache's guard, for caches of what brands say kept elsewhere (the
 * wallet's funding policies): what such a cache stores under
 * pb_cache_guard_snapshot's generation (nothing while it says no) and serves
 * while pb_cache_guard_fresh says so, every brand write forgets. */
pb_cache_guard *pb_tenancy_brand_cache_guard(void);

/* Up to cap brands in `scope` (NULL: all) with id > after_id, in id order; *n
 * receives the count. Pass the last id back as after_id for the next page. */
pb_err pb_tenancy_brand_list(pb_store_conn *c, const pb_brand_scope *scope, int64_t after_id,
                             pb_brand *out, size_t cap, size_t *n);

/* True when the brand accepts the currency (exact code, e.g. "EUR"). */
bool pb_tenancy_currency_allowed(const pb_brand *b, const char *currency);
/* True for an active brand. */
bool pb_tenancy_brand_active(const pb_brand *b);

/* Validators shared with the other domains. */
bool pb_tenancy_code_valid(const char *code);         /* [a-z0-9-]{2,32}, no leading '-' */
bool pb_tenancy_country_valid(const char *cc);        /* ISO 3166-1 alpha-2, upper case */
bool pb_tenancy_jurisdiction_valid(const char *code); /* "MT" or "CA-ON" */

#endif
