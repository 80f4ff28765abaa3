/*
 * admin_cashier.c — the withdrawal queue for finance staff, brand-scoped:
 *
 *   GET  /v1/admin/withdrawals?status=&limit=&cursor=   finance.read
 *   GET  /v1/admin/withdrawals/{id}                     finance.read (with its approvals)
 *   POST /v1/admin/withdrawals/{id}/approve             finance.withdrawals.approve
 *   POST /v1/admin/withdrawals/{id}/reject {reason}     finance.withdrawals.approve
 *
 * A withdrawal of a brand outside the caller's scope answers 404
 * WITHDRAWAL_NOT_FOUND, like a missing one. Approvals and rejections are
 * audited by the cashier in the same ledger command as their effect.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/admin.h"
#include "api/api.h"
#include "cashier/cashier.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

json_t *pb_api_withdrawal_json(const pb_store_withdrawal *w);

static const char *const STATUSES[] = {"pending_approval", "approved", "processing", "paid",
                                       "failed", "rejected", "cancelled"};

/* The staff view: the player's view plus brand, player and approvals (c: for them). */
static json_t *staff_json(pb_store_conn *c, const pb_store_withdrawal *w, bool approvals)
{
    json_t *o = pb_api_withdrawal_json(w);
    if (!o)
        return NULL;
    json_object_set_new(o, "brand", json_string(w->brand));
    json_object_set_new(o, "requested_by", json_pack("{s:s,s:s}", "kind", "player", "id",
                                                     w->player));
    if (approvals) {
        pb_store_withdrawal_approval ap[4];
        size_t n = 0;
        json_t *arr = json_array();
        if (!arr || pb_store_withdrawal_approval_list(c, w->id, ap, 4, &n) != PB_STORE_OK) {
            json_decref(arr);
            json_decref(o);
            return NULL;
        }
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "staff_id", ap[i].staff_id,
                                                 "role", ap[i].role, "at",
                                                 pb_admin_time_json(ap[i].approved_at)));
        json_object_set_new(o, "approvals", arr);
    }
    return o;
}

/* The withdrawal {id} if the caller's scope sees it; replies and returns false otherwise. */
static bool visible(pb_http_request *req, pb_store_conn **c, pb_store_withdrawal *w)
{
    const pb_principal *p = pb_api_principal(req);
    *c = pb_http_conn(req);
    if (!*c) {
        pb_http_reply_error(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return false;
    }
    const char *id = pb_http_param(req, "id");
    pb_store_rc rc = id && strlen(id) <= PB_ID_STR_LEN ? pb_store_withdrawal_get(*c, id, w)
                                                       : PB_STORE_NOT_FOUND;
    if (rc == PB_STORE_OK && (!p || !pb_brand_scope_allows(&p->scope, w->brand_id)))
        rc = PB_STORE_NOT_FOUND;
    if (rc != PB_STORE_OK) {
        pb_http_reply_error(req, rc == PB_STORE_NOT_FOUND ? PB_ERR_WITHDRAWAL_NOT_FOUND
                                                          : PB_ERR_STORE_UNAVAILABLE,
                            NULL);
        return false;
    }
    return true;
}

static pb_cashier_actor staff_actor(pb_http_request *req, const pb_principal *p)
{
    pb_audit_entry e;
    pb_admin_entry(req, p, "withdrawal.approve", &e);
    return (pb_cashier_actor){.kind = "staff", .id = e.actor_id, .role = e.role,
                              .trace_id = e.trace_id, .ip = e.ip};
}

void pb_api_admin_withdrawals_list(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    pb_store_conn *c = pb_http_conn(req);
    if (!pb_admin_parse_empty(req))
        return;
    if (!c || !p) {
        pb_http_reply_error(req, c ? PB_ERR_UNAUTHENTICATED : PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    int64_t limit = PAGE_DEFAULT, cursor = 0;
    const char *status = NULL;
    if (!pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit) ||
        !pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor) ||
        !pb_admin_query_str(req, "status", 20, &status))
        return;
    bool known = !status;
    for (size_t i = 0; status && i < sizeof STATUSES / sizeof STATUSES[0]; i++)
        known |= strcmp(status, STATUSES[i]) == 0;
    if (!known) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "status",
                                "status: pending_approval, approved, processing, paid, failed, "
                                "rejected or cancelled");
        return;
    }
    const char *brands = NULL;
    if (!p->scope.all) {
        json_t *ids = json_array();
        for (size_t i = 0; ids && i < p->scope.n; i++)
            json_array_append_new(ids, json_integer(p->scope.brand_ids[i]));
        brands = pb_admin_json_text(req, ids);
        if (!brands) {
            pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
            return;
        }
    }
    pb_store_withdrawal *rows = pb_http_alloc(req, (size_t)limit * sizeof *rows);
    size_t n = 0;
    pb_store_withdrawal_query q = {.brand_ids_json = brands, .status = status,
                                   .before_seq = cursor, .limit = (size_t)limit};
    if (!rows || pb_store_withdrawal_list(c, &q, rows, &n) != PB_STORE_OK) {
        pb_http_reply_error(req, rows ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL, NULL);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(items, staff_json(c, &rows[i], false)) != 0) {
            json_decref(items);
            items = NULL;
        }
    if (!items) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor",
                                           pb_admin_cursor_json(n == (size_t)limit
                                                                    ? rows[n - 1].seq
                                                                    : 0)));
}

void pb_api_admin_withdrawal_get(pb_http_request *req, void *app)
{
    (void)app;
    pb_store_conn *c;
    pb_store_withdrawal w;
    if (!pb_admin_parse_empty(req) || !visible(req, &c, &w))
        return;
    json_t *o = staff_json(c, &w, true);
    if (!o) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200, o);
}

static void answer(pb_http_request *req, pb_store_conn *c, pb_err e, const pb_store_withdrawal *w)
{
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    json_t *o = staff_json(c, w, true);
    if (!o) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200, o);
}

void pb_api_admin_withdrawal_approve(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    pb_store_conn *c;
    pb_store_withdrawal w;
    if (!pb_admin_parse_empty(req) || !visible(req, &c, &w))
        return;
    pb_cashier_actor actor = staff_actor(req, pb_api_principal(req));
    pb_store_withdrawal out;
    pb_err e = pb_cashier_withdrawal_approve(a->cashier, c, w.id, &actor, &out);
    answer(req, c, e, &out);
}

void pb_api_admin_withdrawal_reject(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *reason = NULL;
    pb_json_field f[] = {
        {.name = "reason", .type = PB_JSON_STRING, .required = true, .min_len = 1,
         .max_len = 1000, .str = &reason},
    };
    if (!pb_http_parse_json(req, f, 1))
        return;
    pb_audit_entry probe;
    pb_admin_entry(req, pb_api_principal(req), "withdrawal.reject", &probe);
    probe.reason = reason;
    const char *bad = NULL;
    if (pb_audit_validate(&probe, &bad) != PB_OK ||
        strspn(reason, " \t\r\n") == strlen(reason)) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "reason",
                                "reason: text without control characters, not only spaces");
        return;
    }
    pb_store_conn *c;
    pb_store_withdrawal w;
    if (!visible(req, &c, &w))
        return;
    pb_cashier_actor actor = staff_actor(req, pb_api_principal(req));
    pb_store_withdrawal out;
    pb_err e = pb_cashier_withdrawal_reject(a->cashier, w.id, reason, &actor, &out);
    answer(req, c, e, &out);
}
