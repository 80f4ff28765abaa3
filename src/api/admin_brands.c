/*
 * admin_brands.c — brands (tenants) in the back office.
 *
 *   GET   /v1/admin/brands          brands.read    the brands of the caller's scope (cursor pages)
 *   POST  /v1/admin/brands          brands.manage  create a brand (global staff only)
 *   GET   /v1/admin/brands/{code}   brands.read    one brand
 *   PATCH /v1/admin/brands/{code}   brands.manage  change name, currencies, jurisdiction,
 *                                                  settings, status
 *
 * A brand outside the caller's scope is 404 BRAND_NOT_FOUND. Creating a brand
 * is for staff who see every brand (403 BRAND_FORBIDDEN otherwise): a scoped
 * member could not see what they made. Every change is audited with the brand
 * before and after, in the same write transaction.
 *
 * A change of settings.withdrawal_4eyes_thresholds is judged by the cashier in
 * that transaction too, after the settings are stored
 * (pb_cashier_brand_approvals_judge): the brand's approved withdrawals not yet sent
 * that now need more approvals than they have go back to pending_approval at once,
 * audited and announced withdrawal.approval_lapsed (threshold_lowered) with the
 * PATCH's trace id — as a staff change re-judges its member's approvals
 * (admin_staff.c) — not only at their next approval or payout.
 *
 * The replies (not the audit entries) add currency_exponents: the exponent of
 * each currency the brand names (its list and the keys of its per-currency
 * settings), so the back office shows and reads the settings' minor units as
 * amounts ("1000.00" EUR for 100000) without a table of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/api.h"
#include "cashier/cashier.h"
#include "core/log.h"
#include "core/money.h"
#include "core/time.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 100

static json_t *brand_json(const pb_brand *b)
{
    json_t *cur = json_array();
    for (size_t i = 0; cur && i < b->ncurrencies; i++)
        if (json_array_append_new(cur, json_string(b->currencies[i])) != 0) {
            json_decref(cur);
            cur = NULL;
        }
    json_t *settings = json_loads(b->settings, 0, NULL);
    if (!json_is_object(settings)) { /* stored canonical by tenancy; never otherwise */
        json_decref(settings);
        settings = json_object();
    }
    return json_pack("{s:s,s:s,s:s,s:o,s:s,s:o,s:s,s:o,s:o}", "code", b->code, "name", b->name,
                     "default_currency", b->default_currency, "currencies", cur, "jurisdiction",
                     b->jurisdiction, "settings", settings, "status", b->status, "created_at",
                     pb_admin_time_json(b->created_at), "updated_at",
                     pb_admin_time_json(b->updated_at));
}

/* Adds code -> exponent to map when code is a known currency; false when out of memory. */
static bool exponent_add(json_t *map, const char *code)
{
    const pb_currency *cur = pb_currency_find(code);
    return !cur || json_object_get(map, code) ||
           json_object_set_new(map, code, json_integer(cur->exponent)) == 0;
}

/* brand_json plus currency_exponents (see the top): what the routes answer. */
static json_t *brand_reply_json(const pb_brand *b)
{
    json_t *j = brand_json(b), *map = json_object();
    bool ok = j && map;
    for (size_t i = 0; ok && i < b->ncurrencies; i++)
        ok = exponent_add(map, b->currencies[i]);
    const char *key, *code;
    json_t *v, *n;
    json_object_foreach(ok ? json_object_get(j, "settings") : NULL, key, v) {
        json_object_foreach(json_is_object(v) ? v : NULL, code, n) {
            (void)n;
            ok = ok && exponent_add(map, code);
        }
    }
    if (!ok) {
        json_decref(map);
        json_decref(j);
        return NULL;
    }
    if (json_object_set_new(j, "currency_exponents", map) != 0) { /* map released */
        json_decref(j);
        return NULL;
    }
    return j;
}

void pb_api_admin_brands_list(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    int64_t cursor = 0, limit = PAGE_DEFAULT;
    if (!pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor) ||
        !pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit))
        return;
    pb_store_conn *c = pb_http_conn(req);
    size_t want = (size_t)limit + 1, n = 0; /* one more tells whether a next page exists */
    pb_brand *rows = calloc(want, sizeof *rows);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !rows ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK)
        e = pb_tenancy_brand_list(c, p->scope.all ? NULL : &p->scope, cursor, rows, want, &n);
    int64_t next = 0;
    if (e == PB_OK && n > (size_t)limit) {
        n = (size_t)limit;
        next = rows[n - 1].id;
    }
    json_t *list = e == PB_OK ? json_array() : NULL;
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, brand_reply_json(&rows[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    free(rows);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       list ? json_pack("{s:o,s:o}", "brands", list, "next_cursor",
                                        pb_admin_cursor_json(next))
                            : NULL);
}

/* The brand named by the path, if in the caller's scope. */
static pb_err brand_in_scope(pb_store_conn *c, const pb_principal *p, const char *code, pb_brand *b)
{
    pb_err e = pb_tenancy_brand_by_code(c, code ? code : "", b);
    if (e == PB_OK && !pb_brand_scope_allows(&p->scope, b->id))
        e = PB_ERR_BRAND_NOT_FOUND;
    return e;
}

void pb_api_admin_brand_get(pb_http_request *req, void *app)
{
    (void)app;
    pb_store_conn *c = pb_http_conn(req);
    pb_brand *b = malloc(sizeof *b);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !b ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK)
        e = brand_in_scope(c, pb_api_principal(req), pb_http_param(req, "code"), b);
    json_t *body = e == PB_OK ? json_pack("{s:o}", "brand", brand_reply_json(b)) : NULL;
    free(b);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200, body);
}

/* The request's fields of a brand, as the tenancy structs want them. */
typedef struct brand_body {
    const char *code, *name, *default_currency, *jurisdiction, *status, *settings_text;
    json_t *currencies, *settings;
    const char *list[PB_BRAND_CURRENCIES_MAX];
    size_t nlist;
} brand_body;

/* Turns the currencies array and the settings object into text; replies on error. */
static bool body_finish(pb_http_request *req, brand_body *bb)
{
    for (size_t i = 0; bb->currencies && i < json_array_size(bb->currencies); i++) {
        json_t *v = json_array_get(bb->currencies, i);
        if (!json_is_string(v) || json_string_length(v) > PB_BRAND_CURRENCY_MAX) {
            pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "currencies",
                                    "currencies: currency codes (strings)");
            return false;
        }
        bb->list[bb->nlist++] = json_string_value(v);
    }
    if (bb->settings) {
        bb->settings_text = pb_admin_json_text(req, json_incref(bb->settings));
        if (!bb->settings_text || strlen(bb->settings_text) > PB_BRAND_SETTINGS_MAX) {
            pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "settings",
                                    "settings: an object of at most 4096 bytes as JSON");
            return false;
        }
    }
    return true;
}

typedef struct brand_ctx {
    pb_http_request *req;
    const pb_principal *p;
    brand_body *bb;
    const char *path_code; /* update */
    pb_brand *before, *after;
    struct pb_cashier *cashier; /* update: the brand's approved withdrawals judged again */
} brand_ctx;

/* Appends brand.<verb> with the brand before (may be NULL) and after. */
static pb_err brand_audit(pb_store_conn *c, brand_ctx *x, const char *action, int64_t now)
{
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, action, &en);
    en.brand = x->after->code;
    en.target_kind = "brand";
    en.target_id = x->after->code;
    en.before = x->before ? pb_admin_json_text(x->req, brand_json(x->before)) : NULL;
    en.after = pb_admin_json_text(x->req, brand_json(x->after));
    if ((x->before && !en.before) || !en.after)
        return PB_ERR_INTERNAL;
    return pb_audit_append(c, &en, now);
}

static pb_err create_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    brand_ctx *x = ctx;
    const brand_body *bb = x->bb;
    int64_t now = pb_time_now_us();
    pb_brand_spec spec = {.code = bb->code,
                          .name = bb->name,
                          .default_currency = bb->default_currency,
                          .currencies = bb->currencies ? bb->list : NULL,
                          .ncurrencies = bb->nlist,
                          .jurisdiction = bb->jurisdiction,
                          .settings = bb->settings_text};
    pb_err e = pb_tenancy_brand_create(c, &spec, now, x->after, bad);
    return e == PB_OK ? brand_audit(c, x, "brand.create", now) : e;
}

void pb_api_admin_brand_create(pb_http_request *req, void *app)
{
    (void)app;
    brand_body bb = {0};
    pb_json_field f[] = {
        {.name = "code",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 2,
         .max_len = PB_BRAND_CODE_MAX,
         .str = &bb.code},
        {.name = "name",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_BRAND_NAME_MAX,
         .str = &bb.name},
        {.name = "default_currency",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_BRAND_CURRENCY_MAX,
         .str = &bb.default_currency},
        {.name = "currencies",
         .type = PB_JSON_ARRAY,
         .min_len = 1,
         .max_len = PB_BRAND_CURRENCIES_MAX,
         .json = &bb.currencies},
        {.name = "jurisdiction",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 2,
         .max_len = PB_BRAND_JURISDICTION_MAX,
         .str = &bb.jurisdiction},
        {.name = "settings", .type = PB_JSON_OBJECT, .json = &bb.settings},
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]) || !body_finish(req, &bb))
        return;
    const pb_principal *p = pb_api_principal(req);
    if (!p->scope.all) {
        pb_http_reply_error_msg(req, PB_ERR_BRAND_FORBIDDEN, NULL,
                                "only staff who see every brand create brands");
        return;
    }
    brand_ctx x = {.req = req, .p = p, .bb = &bb, .after = pb_http_alloc(req, sizeof(pb_brand))};
    const char *bad = NULL;
    pb_err e = x.after ? pb_admin_write(req, create_tx, &x, &bad) : PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    char location[64 + PB_BRAND_CODE_MAX];
    snprintf(location, sizeof location, "/v1/admin/brands/%s", x.after->code);
    pb_http_add_header(req, "Location", location);
    pb_http_reply_json(req, 201, json_pack("{s:o}", "brand", brand_reply_json(x.after)));
}

static pb_err update_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    brand_ctx *x = ctx;
    const brand_body *bb = x->bb;
    int64_t now = pb_time_now_us();
    pb_err e = brand_in_scope(c, x->p, x->path_code, x->before);
    if (e != PB_OK)
        return e;
    pb_brand_update u = {.name = bb->name,
                         .default_currency = bb->default_currency,
                         .currencies = bb->currencies ? bb->list : NULL,
                         .ncurrencies = bb->nlist,
                         .jurisdiction = bb->jurisdiction,
                         .settings = bb->settings_text,
                         .status = bb->status};
    e = pb_tenancy_brand_update(c, x->before->id, &u, now, x->after, bad);
    if (e == PB_OK)
        e = brand_audit(c, x, "brand.update", now);
    /* a 4-eyes threshold lowered reaches the withdrawals approved under the old one
     * now, in this transaction (cashier/approvals.c), not at their payout's send */
    size_t back = 0;
    if (e == PB_OK && bb->settings &&
        pb_tenancy_setting_changed(x->before->settings, x->after->settings,
                                   "withdrawal_4eyes_thresholds"))
        e = pb_cashier_brand_approvals_judge(x->cashier, c, x->after->id, now,
                                             pb_http_trace_id(x->req), &back);
    if (back)
        pb_log(PB_LOG_INFO, "admin.brands",
               "brand %s: 4-eyes thresholds changed, %zu approved withdrawal(s) back to "
               "pending_approval (trace %s)",
               x->after->code, back, pb_http_trace_id(x->req));
    return e;
}

void pb_api_admin_brand_update(pb_http_request *req, void *app)
{
    brand_body bb = {0};
    pb_json_field f[] = {
        {.name = "name",
         .type = PB_JSON_STRING,
         .min_len = 1,
         .max_len = PB_BRAND_NAME_MAX,
         .str = &bb.name},
        {.name = "default_currency",
         .type = PB_JSON_STRING,
         .min_len = 1,
         .max_len = PB_BRAND_CURRENCY_MAX,
         .str = &bb.default_currency},
        {.name = "currencies",
         .type = PB_JSON_ARRAY,
         .min_len = 1,
         .max_len = PB_BRAND_CURRENCIES_MAX,
         .json = &bb.currencies},
        {.name = "jurisdiction",
         .type = PB_JSON_STRING,
         .min_len = 2,
         .max_len = PB_BRAND_JURISDICTION_MAX,
         .str = &bb.jurisdiction},
        {.name = "settings", .type = PB_JSON_OBJECT, .json = &bb.settings},
        {.name = "status",
         .type = PB_JSON_STRING,
         .min_len = 1,
         .max_len = PB_BRAND_STATUS_MAX,
         .str = &bb.status},
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]) || !body_finish(req, &bb))
        return;
    if (!bb.name && !bb.default_currency && !bb.currencies && !bb.jurisdiction && !bb.settings &&
        !bb.status) {
        pb_http_reply_error_msg(req, PB_ERR_INVALID_REQUEST, NULL, "nothing to change");
        return;
    }
    brand_ctx x = {.req = req,
                   .p = pb_api_principal(req),
                   .bb = &bb,
                   .path_code = pb_http_param(req, "code"),
                   .before = pb_http_alloc(req, sizeof(pb_brand)),
                   .after = pb_http_alloc(req, sizeof(pb_brand)),
                   .cashier = ((pb_api_app *)app)->cashier};
    const char *bad = NULL;
    pb_err e = x.before && x.after ? pb_admin_write(req, update_tx, &x, &bad) : PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    pb_http_reply_json(req, 200, json_pack("{s:o}", "brand", brand_reply_json(x.after)));
}
