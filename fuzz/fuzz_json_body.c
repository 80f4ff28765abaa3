/*
 * fuzz_json_body.c — the JSON request body parser (pb_json_parse and
 * pb_json_check, src/http/json_spec.c) against the field specs of the routes.
 *
 * Input: byte 0 picks a spec, byte 1 a Content-Type, the rest is the body.
 * The specs are copies of the handlers' own (named below, file and route);
 * every field type and option occurs in at least one (the last spec holds
 * every type), so whatever a handler declares is exercised. Properties:
 *   - an accepted body is a JSON object whose keys are all in the spec, every
 *     required field is present, every output respects its declared bounds
 *     (string bytes, integer range, array items), a MONEY field's minor units
 *     are what pb_money_parse gives for its string in its currency, a UUID or
 *     a time re-parses, and no string output holds a NUL;
 *   - a refused body leaves *root NULL and reports a 4xx code of the registry,
 *     with a NUL-terminated message and field name;
 *   - pb_utf8_valid agrees with an independent strict UTF-8 decoder.
 * An accepted "limits" array is checked item by item as admin_catalog.c does
 * (nested pb_json_check with MONEY fields tied to a sibling currency).
 */
#include "fuzz.h"

#include <jansson.h>

#include "core/id.h"
#include "core/time.h"
#include "catalog/catalog.h"
#include "http/http.h"
#include "identity/identity.h"
#include "store/store_identity.h"
#include "store/store_tenancy.h"
#include "tenancy/tenancy.h"

/* A field of a spec, without outputs (they are attached per run). */
typedef struct field_def {
    const char *name;
    pb_json_type type;
    bool required, nullable;
    size_t min_len, max_len;
    int64_t min, max;
    const char *currency;
} field_def;

#define MAXF 10
typedef struct spec_def {
    const char *where;
    field_def f[MAXF];
} spec_def;

#define S(n, ...)                      \
    {                                  \
        n, PB_JSON_STRING, __VA_ARGS__ \
    }
static const spec_def specs[] = {
    {"player.c POST /v1/player/register",
     {S("brand", true, .min_len = 1, .max_len = 64), S("email", true, .min_len = 1, .max_len = 320),
      S("password", true, .min_len = 1, .max_len = 1024),
      S("country", true, .min_len = 1, .max_len = 8),
      S("date_of_birth", true, .min_len = 1, .max_len = 16),
      S("currency", false, .min_len = 1, .max_len = 8)}},
    {"player.c POST /v1/player/login",
     {S("brand", true, .min_len = 1, .max_len = 64), S("email", true, .min_len = 1, .max_len = 320),
      S("password", true, .min_len = 1, .max_len = 1024),
      S("device", false, true, .min_len = 1, .max_len = PB_USER_AGENT_MAX)}},
    {"player.c POST /v1/player/refresh",
     {S("refresh_token", true, .min_len = 1, .max_len = PB_REFRESH_TOKEN_MAX)}},
    {"admin_auth.c POST /v1/admin/login",
     {S("email", true, .min_len = 1, .max_len = PB_EMAIL_MAX),
      S("password", true, .min_len = 1, .max_len = 256),
      S("totp", false, true, .min_len = 6, .max_len = 8)}},
    {"admin_staff.c POST /v1/admin/staff",
     {S("email", true, .min_len = 1, .max_len = PB_EMAIL_MAX),
      S("role", true, .min_len = 1, .max_len = PB_ROLE_NAME_MAX),
      {"all_brands", PB_JSON_BOOL},
      {"brands", PB_JSON_ARRAY, .min_len = 1, .max_len = PB_SCOPE_MAX_BRANDS}}},
    {"admin_brands.c POST /v1/admin/brands",
     {S("code", true, .min_len = 2, .max_len = PB_BRAND_CODE_MAX),
      S("name", true, .min_len = 1, .max_len = PB_BRAND_NAME_MAX),
      S("default_currency", true, .min_len = 1, .max_len = PB_BRAND_CURRENCY_MAX),
      {"currencies", PB_JSON_ARRAY, .min_len = 1, .max_len = PB_BRAND_CURRENCIES_MAX},
      S("jurisdiction", true, .min_len = 2, .max_len = PB_BRAND_JURISDICTION_MAX),
      {"settings", PB_JSON_OBJECT}}},
    {"admin_catalog.c POST /v1/admin/providers",
     {S("code", true, .min_len = 1, .max_len = PB_PROVIDER_CODE_MAX),
      S("name", true, .min_len = 1, .max_len = PB_PROVIDER_NAME_MAX),
      S("protocol", true, .min_len = 1, .max_len = PB_PROVIDER_PROTOCOL_MAX),
      S("secret", false, .min_len = 1, .max_len = 2 * PB_PROVIDER_SECRET_MAX),
      S("public_key_pem", false, .min_len = 1, .max_len = PB_PROVIDER_PEM_MAX),
      {"timestamp_window_s", PB_JSON_INT, .min = 1, .max = 3600},
      S("status", false, .min_len = 1, .max_len = 15)}},
    {"admin_catalog.c POST /v1/admin/games",
     {S("code", true, .min_len = 1, .max_len = PB_GAME_CODE_MAX),
      S("name", true, .min_len = 1, .max_len = PB_GAME_NAME_MAX),
      S("category", true, .min_len = 1, .max_len = PB_GAME_CATEGORY_MAX),
      {"rtp_bp", PB_JSON_INT, true, .min = 5000, .max = 10000},
      S("volatility", true, .min_len = 1, .max_len = 7),
      S("status", false, .min_len = 1, .max_len = 15),
      {"limits", PB_JSON_ARRAY, .max_len = PB_GAME_LIMITS_MAX},
      {"blocked_jurisdictions", PB_JSON_ARRAY, .max_len = PB_GAME_BLOCKED_MAX}}},
    {"admin_adjust.c POST /v1/admin/players/{id}/adjustments",
     {S("balance", true, .max_len = 8), S("direction", true, .max_len = 8),
      S("amount", true, .max_len = 40), S("reason", true, .min_len = 1, .max_len = 500),
      S("idempotency_key", true, .min_len = 1, .max_len = 100)}},
    {"cashier_player.c POST /v1/player/deposits",
     {S("amount", true, .max_len = 40), S("idempotency_key", true, .min_len = 1, .max_len = 100),
      S("currency", false, .min_len = 1, .max_len = 8),
      S("psp", false, .min_len = 1, .max_len = 32)}},
    {"games_player.c POST /v1/player/games/{game}/bets",
     {S("amount", true, .max_len = 40), {"params", PB_JSON_OBJECT}}},
    {"admin_players.c POST /v1/admin/players/{id}/block",
     {S("reason", true, .min_len = 1, .max_len = 500)}},
    {"admin_catalog.c a limits item (nested)",
     {{"currency", PB_JSON_CURRENCY, true},
      {"min_bet", PB_JSON_MONEY, true, .currency = "currency"},
      {"max_bet", PB_JSON_MONEY, false, true, .currency = "currency"}}},
    {"every type",
     {{"s", PB_JSON_STRING, false, true},
      {"i", PB_JSON_INT, .min = -5, .max = 1000000},
      {"j", PB_JSON_INT},
      {"b", PB_JSON_BOOL, false, true},
      {"m", PB_JSON_MONEY, .currency = "c", .min = 1, .max = 100000000},
      {"n", PB_JSON_MONEY},
      {"c", PB_JSON_CURRENCY},
      {"u", PB_JSON_UUID, false, true},
      {"t", PB_JSON_TIME},
      {"a", PB_JSON_ARRAY, false, true, .min_len = 1, .max_len = 3}}},
};
#define NSPECS (sizeof specs / sizeof specs[0])
#define LIMITS_SPEC 12

static const char *const content_types[] = {"application/json",
                                            "application/json; charset=utf-8",
                                            NULL,
                                            "text/plain",
                                            "Application/JSON",
                                            "application/jsonx",
                                            ""};
#define NCT (sizeof content_types / sizeof content_types[0])

/* The outputs of one field. */
typedef struct field_out {
    const char *str;
    int64_t i64;
    bool b, present;
    json_t *json;
    const pb_currency *cur;
    pb_id id;
} field_out;

static size_t build(const spec_def *sd, pb_json_field *f, field_out *o)
{
    size_t n = 0;
    for (; n < MAXF && sd->f[n].name; n++) {
        const field_def *d = &sd->f[n];
        o[n] = (field_out){0};
        f[n] = (pb_json_field){.name = d->name,
                               .type = d->type,
                               .required = d->required,
                               .nullable = d->nullable,
                               .min_len = d->min_len,
                               .max_len = d->max_len,
                               .min = d->min,
                               .max = d->max,
                               .currency = d->currency,
                               .str = &o[n].str,
                               .i64 = &o[n].i64,
                               .b = &o[n].b,
                               .json = &o[n].json,
                               .cur = &o[n].cur,
                               .id = &o[n].id,
                               .present = &o[n].present};
    }
    return n;
}

static void check_error(pb_err rc, const pb_json_error *err)
{
    FUZZ_CHECK(rc == err->code);
    int st = pb_err_http_status(rc);
    FUZZ_CHECK(st >= 400 && st < 500);
    FUZZ_CHECK(memchr(err->message, 0, sizeof err->message) != NULL);
    if (err->field)
        FUZZ_CHECK(strlen(err->field) < 4096);
}

/* What an accepted object must satisfy, field by field. */
static void check_accepted(json_t *obj, const pb_json_field *f, const field_out *o, size_t n)
{
    FUZZ_CHECK(json_is_object(obj));
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool known = false;
        for (size_t i = 0; i < n; i++)
            known |= strcmp(f[i].name, key) == 0;
        FUZZ_CHECK(known);
    }
    for (size_t i = 0; i < n; i++) {
        v = json_object_get(obj, f[i].name);
        bool given = v && !json_is_null(v);
        FUZZ_CHECK(o[i].present == given);
        if (f[i].required)
            FUZZ_CHECK(given);
        if (!given)
            continue;
        size_t slen = o[i].str ? strlen(o[i].str) : 0;
        switch (f[i].type) {
        case PB_JSON_STRING:
            FUZZ_CHECK(o[i].str && slen == json_string_length(v) && slen >= f[i].min_len &&
                       slen <= (f[i].max_len ? f[i].max_len : 1024));
            FUZZ_CHECK(pb_utf8_valid(o[i].str, slen));
            break;
        case PB_JSON_INT:
            FUZZ_CHECK(json_is_integer(v) && o[i].i64 == json_integer_value(v));
            if (f[i].min || f[i].max)
                FUZZ_CHECK(o[i].i64 >= f[i].min && o[i].i64 <= f[i].max);
            break;
        case PB_JSON_BOOL: FUZZ_CHECK(o[i].b == json_is_true(v)); break;
        case PB_JSON_MONEY:
            FUZZ_CHECK(o[i].str && slen == json_string_length(v) && slen < PB_MONEY_STR_MAX);
            if (f[i].currency) {
                json_t *c = json_object_get(obj, f[i].currency);
                const pb_currency *cur = pb_currency_find(json_string_value(c));
                int64_t minor = 0;
                FUZZ_CHECK(cur && pb_money_parse(o[i].str, slen, cur, &minor) == PB_MONEY_OK);
                FUZZ_CHECK(minor == o[i].i64);
                if (f[i].min || f[i].max)
                    FUZZ_CHECK(minor >= f[i].min && minor <= f[i].max);
            }
            break;
        case PB_JSON_CURRENCY: FUZZ_CHECK(o[i].cur && strcmp(o[i].cur->code, o[i].str) == 0); break;
        case PB_JSON_UUID: {
            pb_id id;
            FUZZ_CHECK(pb_id_parse(o[i].str, slen, &id) == 0 &&
                       memcmp(&id, &o[i].id, sizeof id) == 0);
            break;
        }
        case PB_JSON_TIME: {
            int64_t us;
            FUZZ_CHECK(pb_time_parse(o[i].str, slen, &us) == 0 && us == o[i].i64);
            break;
        }
        case PB_JSON_OBJECT: FUZZ_CHECK(json_is_object(o[i].json) && o[i].json == v); break;
        case PB_JSON_ARRAY: {
            size_t items = json_array_size(v);
            FUZZ_CHECK(o[i].json == v && items >= f[i].min_len &&
                       items <= (f[i].max_len ? f[i].max_len : 1000));
            break;
        }
        }
    }
}

/* An independent strict UTF-8 check (RFC 3629): the reference for pb_utf8_valid. */
static bool utf8_reference(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint32_t c = s[i], need, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3, min = 0x10000, c &= 0x07;
        } else {
            return false;
        }
        if (len - i - 1 < need)
            return false;
        for (uint32_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            c = c << 6 | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return false;
        i += need + 1;
    }
    return true;
}

static void run_spec(size_t which, const char *body, size_t len, const char *ct)
{
    pb_json_field f[MAXF];
    field_out o[MAXF];
    size_t n = build(&specs[which], f, o);
    json_t *root = (json_t *)1;
    pb_json_error err;
    memset(&err, 0x5A, sizeof err);
    pb_err rc = pb_json_parse(body, len, ct, f, n, &root, &err);
    if (rc != PB_OK) {
        FUZZ_CHECK(root == NULL);
        check_error(rc, &err);
        return;
    }
    FUZZ_CHECK(root != NULL && err.code == PB_OK);
    check_accepted(root, f, o, n);
    /* the games spec's "limits": each item as admin_catalog.c checks it */
    for (size_t i = 0; i < n; i++) {
        if (strcmp(f[i].name, "limits") != 0 || !o[i].json)
            continue;
        for (size_t k = 0; k < json_array_size(o[i].json); k++) {
            json_t *item = json_array_get(o[i].json, k);
            pb_json_field lf[MAXF];
            field_out lo[MAXF];
            size_t ln = build(&specs[LIMITS_SPEC], lf, lo);
            pb_err lrc = pb_json_check(item, lf, ln, &err);
            if (lrc == PB_OK)
                check_accepted(item, lf, lo, ln);
            else
                check_error(lrc, &err);
        }
    }
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *body = (const char *)data + 2;
    size_t len = size - 2;
    FUZZ_CHECK(pb_utf8_valid(body, len) == utf8_reference(data + 2, len));
    run_spec(data[0] % NSPECS, body, len, content_types[data[1] % NCT]);
    return 0;
}
