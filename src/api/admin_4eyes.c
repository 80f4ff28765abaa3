/*
 * admin_4eyes.c — what the staff routes whose money waits for a second approver
 * share (private to src/api/, declared in admin.h): the staff adjustments'
 * requests (admin_adjust.c, admin_adjust_4eyes.c) and the unclaimed-funds
 * settlement requests (admin_unclaimed_settle.c). Both keep a request row with a
 * status and requested_at, decide it inside a ledger command after re-checking the
 * caller there, and read a pending request past its brand's expiry as expired. What
 * is here: that reading (due), the re-check, a request found by {id} within the
 * caller's brands (one answer for unknown, malformed and foreign), a decision's
 * failure reply, and the lists' query, brands with their expiries and page reply.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"

bool pb_admin_request_due(const char *status, int64_t requested_at, int64_t expiry_us, int64_t now)
{
    return strcmp(status, "pending") == 0 && now - requested_at >= expiry_us;
}

pb_err pb_admin_request_expire_audit(pb_ledger_tx *tx, const pb_audit_entry *by, const char *action,
                                     const char *brand, const char *target_kind,
                                     const char *target_id, json_t *after, int64_t expiry_us)
{
    char *text = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    json_decref(after);
    if (!text)
        return PB_ERR_INTERNAL;
    char why[120];
    snprintf(why, sizeof why, "pending longer than %lld hours",
             (long long)(expiry_us / (3600 * 1000000LL)));
    pb_audit_entry en = *by;
    en.action = action;
    en.brand = brand;
    en.target_kind = target_kind;
    en.target_id = target_id;
    en.before = NULL;
    en.after = text;
    en.reason = why;
    pb_err e = pb_audit_append(pb_ledger_tx_conn(tx), &en, pb_ledger_tx_now(tx));
    free(text);
    return e;
}

pb_err pb_admin_principal_recheck(pb_ledger_tx *tx, const pb_principal *p, pb_err *refusal)
{
    pb_err e = pb_identity_principal_check(pb_ledger_tx_conn(tx), p, pb_ledger_tx_now(tx));
    if (e == PB_ERR_INTERNAL || pb_err_transient(e))
        return PB_ERR_INTERNAL;
    *refusal = e; /* PB_OK, or SESSION_REVOKED / FORBIDDEN: nothing submitted */
    return PB_OK;
}

char *pb_admin_expiry_by_brand(const pb_brand *bs, size_t n, int64_t (*expiry_us)(const pb_brand *))
{
    json_t *codes = json_object();
    for (size_t i = 0; codes && i < n; i++)
        if (json_object_set_new(codes, bs[i].code, json_integer((json_int_t)expiry_us(&bs[i]))) !=
            0) {
            json_decref(codes);
            codes = NULL;
        }
    char *text = codes ? json_dumps(codes, JSON_COMPACT) : NULL;
    json_decref(codes);
    return text;
}

pb_err pb_admin_request_in_scope(pb_store_conn *c, const pb_principal *p, pb_store_rc rc,
                                 const char *brand, pb_brand *b, pb_err not_found)
{
    pb_err e = rc == PB_STORE_OK          ? PB_OK
               : rc == PB_STORE_NOT_FOUND ? not_found
               : rc == PB_STORE_BUSY      ? PB_ERR_STORE_UNAVAILABLE
                                          : PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = pb_admin_brand_in_scope(c, p, brand, b);
    return e == PB_ERR_BRAND_FORBIDDEN ? not_found : e;
}

void pb_admin_decision_fail(pb_http_request *req, pb_err e, bool expired, const char *expired_msg)
{
    if (expired)
        pb_http_reply_error_msg(req, e, NULL, expired_msg);
    else
        pb_admin_fail(req, e, e == PB_ERR_INSUFFICIENT_FUNDS ? "amount" : NULL);
}

#define LIST_DEFAULT 50
#define LIST_MAX 200

bool pb_admin_request_list_begin(pb_http_request *req, int64_t (*expiry_us)(const pb_brand *),
                                 pb_admin_request_query *q)
{
    const pb_principal *p = NULL;
    const char *brand = NULL;
    q->status = NULL;
    q->limit = LIST_DEFAULT;
    q->cursor = 0;
    q->codes = NULL;
    if (!pb_admin_list_begin(req, &p, &q->c) ||
        !pb_admin_query_str(req, "status", 16, &q->status) ||
        !pb_admin_query_str(req, "brand", PB_BRAND_CODE_MAX, &brand) ||
        !pb_admin_query_int(req, "limit", 1, LIST_MAX, &q->limit) ||
        !pb_admin_query_int(req, "cursor", 1, INT64_MAX, &q->cursor))
        return false;
    static const char *const STATUSES[] = {"pending", "approved", "rejected", "failed", "expired"};
    bool known = !q->status;
    for (size_t i = 0; !known && i < sizeof STATUSES / sizeof *STATUSES; i++)
        known = strcmp(q->status, STATUSES[i]) == 0;
    if (!known) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "status",
                                "status: pending, approved, rejected, failed or expired");
        return false;
    }
    pb_brand *bs = NULL;
    size_t nb = 0;
    pb_err e = pb_api_bo_brands(q->c, p, brand, &bs, &nb);
    if (e != PB_OK) {
        pb_admin_fail(req, e, e == PB_ERR_BRAND_FORBIDDEN ? "brand" : NULL);
        return false;
    }
    q->codes = pb_admin_expiry_by_brand(bs, nb, expiry_us);
    free(bs);
    if (!q->codes) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return false;
    }
    return true;
}

void pb_admin_request_page_reply(pb_http_request *req, pb_store_conn *c, pb_store_rc rc,
                                 const void *rows, size_t size, size_t n, int64_t limit,
                                 json_t *(*item)(pb_store_conn *c, pb_admin_emails *cache,
                                                 const void *row),
                                 int64_t last_id)
{
    pb_admin_emails cache = {0};
    json_t *items = rc == PB_STORE_OK ? json_array() : NULL;
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(items, item(c, &cache, (const char *)rows + i * size)) != 0) {
            json_decref(items);
            items = NULL;
        }
    if (!items) {
        pb_http_reply_error(req, rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL,
                            NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:o}", "items", items, "next_cursor",
                                 pb_admin_cursor_json(n == (size_t)limit ? last_id : 0)));
}
