/*
 * store_tenancy.h — the brands' rows and the statements tenancy runs.
 * Included by store.h. Rows are fixed-size structs with inline strings; the
 * decisions (validation, defaults) live in src/tenancy/, not here.
 */
#ifndef PB_STORE_TENANCY_H
#define PB_STORE_TENANCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_BRAND_CODE_MAX 32
#define PB_BRAND_NAME_MAX 128
#define PB_BRAND_CURRENCY_MAX 7
#define PB_BRAND_CURRENCIES_MAX 16
#define PB_BRAND_JURISDICTION_MAX 8
#define PB_BRAND_SETTINGS_MAX 4096
#define PB_BRAND_STATUS_MAX 15

/* A brand and its accepted currencies, exactly as stored. */
typedef struct pb_store_brand {
    int64_t id;
    char code[PB_BRAND_CODE_MAX + 1];
    char name[PB_BRAND_NAME_MAX + 1];
    char default_currency[PB_BRAND_CURRENCY_MAX + 1];
    char currencies[PB_BRAND_CURRENCIES_MAX][PB_BRAND_CURRENCY_MAX + 1]; /* sorted */
    size_t ncurrencies;
    char jurisdiction[PB_BRAND_JURISDICTION_MAX + 1];
    char settings[PB_BRAND_SETTINGS_MAX + 1]; /* JSON object text */
    char status[PB_BRAND_STATUS_MAX + 1];     /* "active" | "suspended" */
    int64_t created_at;
    int64_t updated_at;
} pb_store_brand;

/* Inserts the brand and its currencies; assigns b->id. CONFLICT when the code exists. */
pb_store_rc pb_store_brand_insert(pb_store_conn *c, pb_store_brand *b);
/* Rewrites every mutable column of b->id (not code, not created_at) and replaces its
 * currencies. NOT_FOUND when there is no such brand. */
pb_store_rc pb_store_brand_update(pb_store_conn *c, const pb_store_brand *b);
pb_store_rc pb_store_brand_get(pb_store_conn *c, int64_t id, pb_store_brand *out);
pb_store_rc pb_store_brand_by_code(pb_store_conn *c, const char *code, pb_store_brand *out);
/* Up to cap brands with id > after_id, in id order; *n receives the count. */
pb_store_rc pb_store_brand_list(pb_store_conn *c, int64_t after_id, pb_store_brand *out, size_t cap,
                                size_t *n);

/* What a backend implements for tenancy (see backend.h). */
struct pb_store_tenancy_ops {
    pb_store_rc (*brand_insert)(pb_store_conn *c, pb_store_brand *b);
    pb_store_rc (*brand_update)(pb_store_conn *c, const pb_store_brand *b);
    pb_store_rc (*brand_get)(pb_store_conn *c, int64_t id, pb_store_brand *out);
    pb_store_rc (*brand_by_code)(pb_store_conn *c, const char *code, pb_store_brand *out);
    pb_store_rc (*brand_list)(pb_store_conn *c, int64_t after_id, pb_store_brand *out, size_t cap,
                              size_t *n);
};

extern const struct pb_store_tenancy_ops pb_store_sqlite_tenancy_ops;

#endif
