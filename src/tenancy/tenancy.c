/*
 * tenancy.c — brand create, update, lookups and listing, with their validation.
 *
 * Validation happens before anything is written and names the bad field. A
 * brand's currencies are stored sorted and without duplicates; its settings are
 * stored in canonical form (compact JSON, keys sorted), so the size limit applies
 * to what is stored and two equal objects are stored identically.
 */
#include "tenancy/tenancy.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cacheguard.h"
#include "core/log.h"
#include "core/money.h"
#include "core/time.h"

/* Linear scan: a scope holds at most PB_SCOPE_MAX_BRANDS ids. */
bool pb_brand_scope_allows(const pb_brand_scope *scope, int64_t brand_id)
{
    if (!scope || scope->all)
        return true;
    for (size_t i = 0; i < scope->n && i < PB_SCOPE_MAX_BRANDS; i++)
        if (scope->brand_ids[i] == brand_id)
            return true;
    return false;
}

/* [a-z0-9-]{2,32}, not starting with '-'. */
bool pb_tenancy_code_valid(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n < 2 || n > PB_BRAND_CODE_MAX || code[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = code[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
            return false;
    }
    return true;
}

/* Exact code match in the brand's list. */
bool pb_tenancy_currency_allowed(const pb_brand *b, const char *currency)
{
    if (!b || !currency)
        return false;
    for (size_t i = 0; i < b->ncurrencies && i < PB_BRAND_CURRENCIES_MAX; i++)
        if (strcmp(b->currencies[i], currency) == 0)
            return true;
    return false;
}

bool pb_tenancy_brand_active(const pb_brand *b) { return strcmp(b->status, "active") == 0; }

/* Valid UTF-8 of 1..max bytes without control characters (a display name). */
static bool name_valid(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
        if (len == 0 || (size_t)(end - p) < len || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4))
            return false;
        if (len == 1 && (c < 0x20 || c == 0x7F))
            return false;
        for (size_t i = 1; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        if (len == 3 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)))
            return false; /* overlong form or UTF-16 surrogate */
        if (len == 4 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)))
            return false; /* overlong form or beyond U+10FFFF */
        p += len;
    }
    return true;
}

/*
 * The settings the platform reads, each with the field an error names. A brand's
 * settings are what its operator tunes, and one the code would silently read as
 * its default — a threshold given as a string, a key misspelt — is worse than a
 * refusal: a 4-eyes threshold read as missing while the operator believes it set
 * 50.00. So every key must be one of these, of its type and range (422
 * FIELD_INVALID naming "settings.<key>"). Readers: the cashier (deposit_mins,
 * deposit_maxes and withdrawal_4eyes_thresholds: objects currency code -> minor
 * units of that currency, one per currency, since one number would be 10.00 EUR
 * but 1,000 JPY, 1.000 KWD and 0.00001 BTC; deposit_expiry_minutes: how long a
 * deposit intent stays payable), the wallet (funding_policy), the staff
 * adjustments (adjustment_4eyes_thresholds: currency code -> minor units; an
 * adjustment at or above its currency's entry waits for a second approver, a
 * currency without one has no 4-eyes; adjustment_request_expiry_hours: how long
 * such a request may wait, 1..720, default 72), the unclaimed-funds settlements
 * (unclaimed_settlement_expiry_hours: how long a settlement request may wait for
 * its second approver, 1..720, default 72), the player erasure (erase_after_days). A currency's deposit minimum may not exceed its
 * maximum, either being its own entry or, without one, the built-in default
 * (PB_BRAND_DEPOSIT_MIN/MAX_DEFAULT): a pair that refuses every deposit in a
 * currency is a mistake, not a setting. The former single numbers
 * "withdrawal_4eyes_threshold" (migration 0034), "deposit_min" and
 * "deposit_max" (migration 0041 copied them to each of the brand's currencies)
 * are refused, naming them, rather than read as something they are not.
 */
#define SETTING_MONEY_MAX 1000000000000000LL /* minor units: 10^15 */

typedef struct setting_spec {
    const char *key, *field;
    long long min, max;        /* an integer in [min, max] ... */
    const char *const *values; /* ... or, when set, one of these strings ... */
    bool per_currency;         /* ... or an object: currency code -> integer in [min, max] */
} setting_spec;

static const char *const FUNDING_POLICIES[] = {"cash_first", "bonus_first", "cash_only", NULL};

static const setting_spec SETTINGS[] = {
    {"adjustment_4eyes_thresholds", "settings.adjustment_4eyes_thresholds", 1, SETTING_MONEY_MAX,
     NULL, true},
    {"adjustment_request_expiry_hours", "settings.adjustment_request_expiry_hours", 1, 720, NULL},
    {"deposit_expiry_minutes", "settings.deposit_expiry_minutes", 1, 525600, NULL},
    {"deposit_maxes", "settings.deposit_maxes", 1, SETTING_MONEY_MAX, NULL, true},
    {"deposit_mins", "settings.deposit_mins", 1, SETTING_MONEY_MAX, NULL, true},
    {"erase_after_days", "settings.erase_after_days", 0, 36500, NULL},
    {"funding_policy", "settings.funding_policy", 0, 0, FUNDING_POLICIES},
    {"unclaimed_settlement_expiry_hours", "settings.unclaimed_settlement_expiry_hours", 1, 720,
     NULL},
    {"withdrawal_4eyes_thresholds", "settings.withdrawal_4eyes_thresholds", 1, SETTING_MONEY_MAX,
     NULL, true},
};

/* An object of known currency codes, each to an integer in [min, max]. */
static bool per_currency_valid(const setting_spec *sp, json_t *v)
{
    if (!json_is_object(v))
        return false;
    const char *cur;
    json_t *n;
    json_object_foreach(v, cur, n) {
        if (!pb_currency_find(cur) || !json_is_integer(n) || json_integer_value(n) < sp->min ||
            json_integer_value(n) > sp->max)
            return false;
    }
    return true;
}

/* The former single-number settings, now per currency: refused by their names. */
static const char *const RETIRED[][2] = {
    {"withdrawal_4eyes_threshold", "settings.withdrawal_4eyes_threshold"}, /* 0034 */
    {"deposit_min", "settings.deposit_min"},                               /* 0041 */
    {"deposit_max", "settings.deposit_max"},                               /* 0041 */
};

/* The deposit minimum and maximum of each currency with an entry in either map
 * (the other side: its entry or the built-in default) are in order; else the
 * field at fault: the maximum when the currency has one of its own, else the
 * minimum. Both maps are valid per_currency objects (or absent). */
static bool deposit_limits_ordered(json_t *j, const char **bad_field)
{
    json_t *mins = json_object_get(j, "deposit_mins"), *maxes = json_object_get(j, "deposit_maxes");
    json_t *maps[2] = {mins, maxes};
    for (size_t m = 0; m < 2; m++) {
        const char *cur;
        json_t *n;
        json_object_foreach(maps[m], cur, n) {
            json_t *lo = mins ? json_object_get(mins, cur) : NULL;
            json_t *hi = maxes ? json_object_get(maxes, cur) : NULL;
            long long l = lo ? json_integer_value(lo) : PB_BRAND_DEPOSIT_MIN_DEFAULT;
            long long h = hi ? json_integer_value(hi) : PB_BRAND_DEPOSIT_MAX_DEFAULT;
            if (l > h) {
                *bad_field = hi ? "settings.deposit_maxes" : "settings.deposit_mins";
                return false;
            }
        }
    }
    return true;
}

/* Checks every key of the settings object j; the bad key's field into *bad_field. */
static bool settings_valid(json_t *j, const char **bad_field)
{
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        const setting_spec *sp = NULL;
        for (size_t i = 0; i < sizeof SETTINGS / sizeof SETTINGS[0] && !sp; i++)
            if (strcmp(SETTINGS[i].key, key) == 0)
                sp = &SETTINGS[i];
        for (size_t i = 0; i < sizeof RETIRED / sizeof RETIRED[0] && !sp; i++) {
            if (strcmp(RETIRED[i][0], key) == 0) {
                *bad_field = RETIRED[i][1]; /* now per currency */
                return false;
            }
        }
        if (!sp) {
            *bad_field = "settings"; /* an unknown key: a typo, or a setting of nothing */
            return false;
        }
        bool ok = false;
        if (sp->per_currency) {
            ok = per_currency_valid(sp, v);
        } else if (sp->values) {
            for (const char *const *x = sp->values; *x && json_is_string(v) && !ok; x++)
                ok = strcmp(*x, json_string_value(v)) == 0;
        } else {
            ok = json_is_integer(v) && json_integer_value(v) >= sp->min &&
                 json_integer_value(v) <= sp->max;
        }
        if (!ok) {
            *bad_field = sp->field;
            return false;
        }
    }
    return deposit_limits_ordered(j, bad_field);
}

/* Parses settings text into canonical JSON in out; false unless it is an object of
 * known settings, valid, whose canonical form fits (the bad field in *bad_field). */
static bool settings_canonical(const char *text, char *out, size_t cap, const char **bad_field)
{
    *bad_field = "settings";
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return false;
    bool ok = false;
    if (json_is_object(j) && settings_valid(j, bad_field)) {
        char *dump = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (dump && strlen(dump) < cap) {
            memcpy(out, dump, strlen(dump) + 1);
            ok = true;
        }
        free(dump);
    }
    json_decref(j);
    return ok;
}

/* qsort comparator for currency codes. */
static int cmp_code(const void *a, const void *b) { return strcmp(a, b); }

/* Validates and stores the currency list and default into b. NULL list: only the default. */
static pb_err set_currencies(pb_brand *b, const char *def, const char *const *list, size_t n,
                             const char **bad_field)
{
    if (!def || !pb_currency_find(def)) {
        *bad_field = "default_currency";
        return PB_ERR_CURRENCY_UNKNOWN;
    }
    const char *only_default[1] = {def};
    if (!list || n == 0) {
        list = only_default;
        n = 1;
    }
    if (n > PB_BRAND_CURRENCIES_MAX) {
        *bad_field = "currencies";
        return PB_ERR_FIELD_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        if (!list[i] || !pb_currency_find(list[i])) {
            *bad_field = "currencies";
            return PB_ERR_CURRENCY_UNKNOWN;
        }
        snprintf(b->currencies[i], sizeof b->currencies[i], "%s", list[i]);
    }
    qsort(b->currencies, n, sizeof b->currencies[0], cmp_code);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(b->currencies[i - 1], b->currencies[i]) == 0) {
            *bad_field = "currencies";
            return PB_ERR_FIELD_INVALID; /* a duplicate */
        }
    }
    b->ncurrencies = n;
    snprintf(b->default_currency, sizeof b->default_currency, "%s", def);
    if (!pb_tenancy_currency_allowed(b, def)) {
        *bad_field = "default_currency";
        return PB_ERR_CURRENCY_NOT_ALLOWED;
    }
    return PB_OK;
}

/* Maps a store failure to the API's codes, logging the ones that are ours. */
static pb_err store_err(pb_store_conn *c, pb_store_rc r, pb_err not_found, const char *what)
{
    switch (r) {
    case PB_STORE_OK: return PB_OK;
    case PB_STORE_NOT_FOUND: return not_found;
    case PB_STORE_BUSY: return PB_ERR_STORE_UNAVAILABLE;
    default:
        pb_log(PB_LOG_ERROR, "tenancy.store", "%s: %s", what, pb_store_errmsg(c));
        return PB_ERR_INTERNAL;
    }
}

/* Fills the validated, mutable fields of b shared by create and update. */
static pb_err set_common(pb_brand *b, const char *name, const char *jurisdiction,
                         const char *settings, const char **bad_field)
{
    if (name) {
        if (!name_valid(name, PB_BRAND_NAME_MAX)) {
            *bad_field = "name";
            return PB_ERR_FIELD_INVALID;
        }
        snprintf(b->name, sizeof b->name, "%s", name);
    }
    if (jurisdiction) {
        if (!pb_tenancy_jurisdiction_valid(jurisdiction)) {
            *bad_field = "jurisdiction";
            return PB_ERR_FIELD_INVALID;
        }
        snprintf(b->jurisdiction, sizeof b->jurisdiction, "%s", jurisdiction);
    }
    if (settings && !settings_canonical(settings, b->settings, sizeof b->settings, bad_field))
        return PB_ERR_FIELD_INVALID;
    return PB_OK;
}

/* Validates every field, then inserts brand and currencies together. */
pb_err pb_tenancy_brand_create(pb_store_conn *c, const pb_brand_spec *spec, int64_t now,
                               pb_brand *out, const char **bad_field)
{
    const char *field_sink;
    if (!bad_field)
        bad_field = &field_sink;
    *bad_field = NULL;
    pb_brand *b = calloc(1, sizeof *b);
    if (!b)
        return PB_ERR_INTERNAL;
    pb_err e = PB_OK;
    if (!pb_tenancy_code_valid(spec->code)) {
        *bad_field = "code";
        e = PB_ERR_FIELD_INVALID;
    } else if (!spec->name) {
        *bad_field = "name";
        e = PB_ERR_FIELD_MISSING;
    } else if (!spec->jurisdiction) {
        *bad_field = "jurisdiction";
        e = PB_ERR_FIELD_MISSING;
    }
    if (e == PB_OK)
        e = set_common(b, spec->name, spec->jurisdiction, spec->settings ? spec->settings : "{}",
                       bad_field);
    if (e == PB_OK)
        e = set_currencies(b, spec->default_currency, spec->currencies, spec->ncurrencies,
                           bad_field);
    if (e == PB_OK) {
        snprintf(b->code, sizeof b->code, "%s", spec->code);
        snprintf(b->status, sizeof b->status, "active");
        b->created_at = b->updated_at = now;
        pb_store_rc r = pb_store_brand_insert(c, b);
        if (r == PB_STORE_CONFLICT) {
            *bad_field = "code";
            e = PB_ERR_BRAND_EXISTS;
        } else {
            e = store_err(c, r, PB_ERR_INTERNAL, "brand insert");
        }
    }
    if (e == PB_OK && out)
        *out = *b;
    free(b);
    return e;
}

/* Applies the change to the stored brand, re-validates, writes, and returns the stored result. */
pb_err pb_tenancy_brand_update(pb_store_conn *c, int64_t id, const pb_brand_update *u, int64_t now,
                               pb_brand *out, const char **bad_field)
{
    const char *field_sink;
    if (!bad_field)
        bad_field = &field_sink;
    *bad_field = NULL;
    pb_brand *b = calloc(1, sizeof *b);
    if (!b)
        return PB_ERR_INTERNAL;
    pb_err e = store_err(c, pb_store_brand_get(c, id, b), PB_ERR_BRAND_NOT_FOUND, "brand get");
    if (e == PB_OK)
        e = set_common(b, u->name, u->jurisdiction, u->settings, bad_field);
    if (e == PB_OK && u->status) {
        if (strcmp(u->status, "active") != 0 && strcmp(u->status, "suspended") != 0) {
            *bad_field = "status";
            e = PB_ERR_FIELD_INVALID;
        } else {
            snprintf(b->status, sizeof b->status, "%s", u->status);
        }
    }
    if (e == PB_OK && (u->currencies || u->default_currency)) {
        char def[PB_BRAND_CURRENCY_MAX + 1];
        snprintf(def, sizeof def, "%s",
                 u->default_currency ? u->default_currency : b->default_currency);
        if (u->currencies) {
            e = set_currencies(b, def, u->currencies, u->ncurrencies, bad_field);
        } else {
            /* the list stays: copy it out so set_currencies can re-validate it */
            const char *list[PB_BRAND_CURRENCIES_MAX];
            char copy[PB_BRAND_CURRENCIES_MAX][PB_BRAND_CURRENCY_MAX + 1];
            size_t n = b->ncurrencies;
            for (size_t i = 0; i < n; i++) {
                memcpy(copy[i], b->currencies[i], sizeof copy[i]);
                list[i] = copy[i];
            }
            e = set_currencies(b, def, list, n, bad_field);
        }
    }
    if (e == PB_OK) {
        b->updated_at = now > b->updated_at ? now : b->updated_at;
        pb_tenancy_brand_cache_forget();
        e = store_err(c, pb_store_brand_update(c, b), PB_ERR_BRAND_NOT_FOUND, "brand update");
    }
    if (e == PB_OK && out) /* what is stored now, exactly as a later get returns it */
        e = store_err(c, pb_store_brand_get(c, id, out), PB_ERR_BRAND_NOT_FOUND, "brand get");
    free(b);
    return e;
}

/* By internal id. */
pb_err pb_tenancy_brand_get(pb_store_conn *c, int64_t id, pb_brand *out)
{
    return store_err(c, pb_store_brand_get(c, id, out), PB_ERR_BRAND_NOT_FOUND, "brand get");
}

/* By code; a malformed code is simply not found. */
pb_err pb_tenancy_brand_by_code(pb_store_conn *c, const char *code, pb_brand *out)
{
    if (!pb_tenancy_code_valid(code))
        return PB_ERR_BRAND_NOT_FOUND;
    return store_err(c, pb_store_brand_by_code(c, code, out), PB_ERR_BRAND_NOT_FOUND,
                     "brand by code");
}

/* ---- the brand cache ------------------------------------------------------
 *
 * A provider's bet needs its brand (id, jurisdiction, status) on every call;
 * reading it from the store was a read transaction and two queries (the row
 * and its currencies) per call. pb_tenancy_brand_by_code_cached keeps brands
 * found by code for at most 1 s (a change by another process, such as the CLI,
 * is seen within that); pb_tenancy_brand_update forgets them all as it writes
 * and nothing read is kept for 1 s after (core/cacheguard.h), so a change made
 * through this process is seen from the next call after it commits. Only found
 * brands are kept: an unknown code is read again every time (a brand created
 * meanwhile is found at once). */

#define BRAND_SLOTS 32
#define BRAND_TTL_US (1 * 1000000LL)
#define BRAND_QUIET_US (1 * 1000000LL)

typedef struct brand_entry {
    int64_t loaded_us; /* monotonic; 0 = empty */
    uint64_t gen;
    pb_brand b;
} brand_entry;

static struct {
    pb_cache_guard guard; /* also guards slot */
    brand_entry slot[BRAND_SLOTS];
} brands = {PB_CACHE_GUARD_INIT(BRAND_TTL_US, BRAND_QUIET_US), {{0}}};

void pb_tenancy_brand_cache_forget(void) { pb_cache_guard_forget(&brands.guard); }

pb_cache_guard *pb_tenancy_brand_cache_guard(void) { return &brands.guard; }

void pb_tenancy_brand_cache_tune(int64_t ttl_us, int64_t quiet_us)
{
    pb_cache_guard_tune(&brands.guard, ttl_us, quiet_us);
}

pb_err pb_tenancy_brand_by_code_cached(pb_store_conn *c, const char *code, pb_brand *out)
{
    if (!pb_tenancy_code_valid(code))
        return PB_ERR_BRAND_NOT_FOUND;
    bool hit = false;
    pb_cache_guard_lock(&brands.guard);
    int64_t now = pb_time_mono_us();
    for (size_t i = 0; i < BRAND_SLOTS && !hit; i++) {
        const brand_entry *s = &brands.slot[i];
        if (pb_cache_guard_live(&brands.guard, s->gen, s->loaded_us, now) &&
            strcmp(s->b.code, code) == 0) {
            *out = s->b;
            hit = true;
        }
    }
    pb_cache_guard_unlock(&brands.guard);
    if (hit)
        return PB_OK;
    uint64_t gen;
    bool may_store = pb_cache_guard_snapshot(&brands.guard, &gen);
    pb_err e = pb_tenancy_brand_by_code(c, code, out);
    if (e != PB_OK || !may_store)
        return e;
    pb_cache_guard_lock(&brands.guard);
    if (gen == brands.guard.gen) { /* the same code's slot, else a dead one, else the oldest */
        brand_entry *victim = &brands.slot[0];
        for (size_t i = 0; i < BRAND_SLOTS; i++) {
            brand_entry *s = &brands.slot[i];
            if (s->loaded_us && strcmp(s->b.code, code) == 0) {
                victim = s;
                break;
            }
            if (!pb_cache_guard_live(&brands.guard, s->gen, s->loaded_us, now))
                victim = s;
            else if (pb_cache_guard_live(&brands.guard, victim->gen, victim->loaded_us, now) &&
                     s->loaded_us < victim->loaded_us)
                victim = s;
        }
        victim->loaded_us = pb_time_mono_us();
        victim->gen = gen;
        victim->b = *out;
    }
    pb_cache_guard_unlock(&brands.guard);
    return e;
}

/* Pages through the brands and keeps those in scope until cap are found. */
pb_err pb_tenancy_brand_list(pb_store_conn *c, const pb_brand_scope *scope, int64_t after_id,
                             pb_brand *out, size_t cap, size_t *n)
{
    *n = 0;
    if (cap == 0)
        return PB_OK;
    pb_brand *page = calloc(cap, sizeof *page);
    if (!page)
        return PB_ERR_INTERNAL;
    pb_err e = PB_OK;
    for (;;) {
        size_t got = 0;
        e = store_err(c, pb_store_brand_list(c, after_id, page, cap, &got), PB_ERR_INTERNAL,
                      "brand list");
        if (e != PB_OK || got == 0)
            break;
        for (size_t i = 0; i < got && *n < cap; i++)
            if (pb_brand_scope_allows(scope, page[i].id))
                out[(*n)++] = page[i];
        after_id = page[got - 1].id;
        if (*n == cap || got < cap)
            break;
    }
    free(page);
    return e;
}

static const setting_spec *setting_find(const char *key)
{
    for (size_t i = 0; i < sizeof SETTINGS / sizeof *SETTINGS; i++)
        if (strcmp(SETTINGS[i].key, key) == 0)
            return &SETTINGS[i];
    return NULL;
}

/* The value under key (and, for a per-currency setting, currency) when it is an
 * integer within the spec's bounds. */
static bool setting_read(const char *settings, const char *key, const char *currency, int64_t *out)
{
    const setting_spec *spec = setting_find(key);
    if (!spec || spec->values || spec->per_currency != (currency != NULL) || !settings)
        return false; /* not a setting of that shape: a caller's mistake, read as unset */
    json_t *s = json_loads(settings, 0, NULL);
    json_t *v = s ? json_object_get(s, key) : NULL;
    if (currency)
        v = json_is_object(v) ? json_object_get(v, currency) : NULL;
    bool ok = json_is_integer(v) && json_integer_value(v) >= spec->min &&
              json_integer_value(v) <= spec->max;
    if (ok)
        *out = (int64_t)json_integer_value(v);
    json_decref(s);
    return ok;
}

int64_t pb_tenancy_setting_int(const char *settings, const char *key, int64_t def)
{
    int64_t v;
    return setting_read(settings, key, NULL, &v) ? v : def;
}

bool pb_tenancy_setting_for_currency(const char *settings, const char *key, const char *currency,
                                     int64_t *out)
{
    return currency && setting_read(settings, key, currency, out);
}

bool pb_tenancy_setting_changed(const char *before, const char *after, const char *key)
{
    json_t *b = before ? json_loads(before, 0, NULL) : NULL;
    json_t *a = after ? json_loads(after, 0, NULL) : NULL;
    json_t *vb = b ? json_object_get(b, key) : NULL, *va = a ? json_object_get(a, key) : NULL;
    /* json_equal: objects compare by keys and values, not by their order */
    bool changed = (vb == NULL) != (va == NULL) || (vb && !json_equal(vb, va));
    json_decref(b);
    json_decref(a);
    return changed;
}

int64_t pb_tenancy_setting_hours_us(const pb_brand *b, const char *key, int64_t def_hours)
{
    return pb_tenancy_setting_int(b->settings, key, def_hours) * 3600 * 1000000LL;
}

int64_t pb_tenancy_adjustment_expiry_us(const pb_brand *b)
{
    return pb_tenancy_setting_hours_us(b, "adjustment_request_expiry_hours",
                                       PB_TENANCY_ADJUSTMENT_EXPIRY_HOURS);
}

int64_t pb_tenancy_settlement_expiry_us(const pb_brand *b)
{
    return pb_tenancy_setting_hours_us(b, "unclaimed_settlement_expiry_hours",
                                       PB_TENANCY_SETTLEMENT_EXPIRY_HOURS);
}
