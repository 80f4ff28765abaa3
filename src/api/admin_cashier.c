/*
 * admin_cashier.c — the withdrawal queue for finance staff, brand-scoped:
 *
 *   GET  /v1/admin/withdrawals?status=&brand=&player=&limit=&cursor=   finance.read
 *   GET  /v1/admin/withdrawals/{id}                     finance.read
 *   POST /v1/admin/withdrawals/{id}/approve             finance.withdrawals.approve
 *   POST /v1/admin/withdrawals/{id}/reject {reason}     finance.withdrawals.approve
 *   POST /v1/admin/withdrawals/{id}/resolve {reason}    finance.withdrawals.approve
 *   POST /v1/admin/withdrawals/{id}/manual-resolution {outcome, reason, evidence}
 *   POST /v1/admin/withdrawals/{id}/manual-resolution/confirm {outcome, reason}
 *   POST /v1/admin/withdrawals/{id}/manual-resolution/withdraw {reason}
 *                                                       finance.withdrawals.approve
 *   GET  /v1/admin/payments?status=&brand=&player=&psp_reference=&limit=&cursor=
 *                                                       finance.read
 *   GET  /v1/admin/payments/{id}                        finance.read
 *   POST /v1/admin/payments/{id}/complete {reconciliation_id, reason}
 *                                                       finance.adjust
 *        a deposit the PSP settled (a fetched reconciliation's status_mismatch
 *        item says so) completed as its deposit.succeeded would
 *        (pb_cashier_deposit_credit): 404 PAYMENT_NOT_FOUND /
 *        RECONCILIATION_NOT_FOUND, 422 RECONCILIATION_NO_EVIDENCE, 409
 *        PAYMENT_STATE (completed already) change nothing
 *
 * Every withdrawal shows who requested it, the checks it passed, the player
 * gate as it stands now ("current_checks": an approval of a player blocked
 * since is refused), and its approvals (who, role, when) — the queue is the
 * 4-eyes record. Staff actors (approvers, and the requester when staff) carry
 * their e-mail, read from the staff table (pb_admin_staff_email_json,
 * admin_common.c, as the 4-eyes requests' answers read it), so finance staff (who
 * may not read the staff list) see who. A withdrawal or payment of a brand
 * outside the caller's scope answers 404
 * WITHDRAWAL_NOT_FOUND / PAYMENT_NOT_FOUND, like a missing one; a brand filter
 * outside it is 422 FIELD_INVALID. Approvals, rejections and resolves are
 * audited by the cashier in the same ledger command as their effect. A resolve
 * settles a withdrawal stuck "approved" or "processing" as the PSP says its
 * payout ended (paid, or never paid: the money back); 409 PAYOUT_PENDING /
 * PAYOUT_STATUS_UNKNOWN / WITHDRAWAL_BUSY / WITHDRAWAL_STATE change nothing.
 * A payout the PSP cannot report on is settled by hand with 4-eyes (see
 * pb_cashier_withdrawal_manual_state): one member states the outcome with its
 * evidence, a second confirms it; the statement waiting shows in the staff view
 * ("manual_resolution", null when none), its "outcome" only to the member who
 * stated it (null to everyone else, the confirmer included, until it is
 * confirmed): the second member establishes the outcome independently (4-eyes:
 * two findings, not one finding and a nod).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/admin_cashier.h"
#include "api/api.h"
#include "cashier/cashier.h"
#include "core/time.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

json_t *pb_api_withdrawal_json(const pb_store_withdrawal *w);
json_t *pb_api_payment_json(const pb_store_payment *p, const char *url, int64_t expires_at);

static const char *const STATUSES[] = {"pending_approval", "approved", "processing", "paid",
                                       "failed",           "rejected", "cancelled",  "returned"};

/* "player:<id>" / "staff:<id>" → {"kind","id"}, plus "email" for staff. NULL on failure. */
static json_t *actor_json(pb_store_conn *c, pb_admin_emails *cache, const char *who)
{
    const char *colon = strchr(who, ':');
    if (!colon)
        return json_pack("{s:s,s:s}", "kind", "player", "id", who);
    json_t *o = json_pack("{s:s%,s:s}", "kind", who, (size_t)(colon - who), "id", colon + 1);
    if (o && strncmp(who, "staff:", 6) == 0 &&
        json_object_set_new(o, "email", pb_admin_staff_email_json(c, cache, colon + 1)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The player gate as it stands now (read on c), beside the checks recorded at
 * the request: [{"check":"player_status","result":"pass"}], or "fail" with the
 * code an approval would get. NULL on OOM or a store failure. */
static json_t *current_checks_json(pb_store_conn *c, const pb_store_withdrawal *w)
{
    pb_err g = pb_wallet_gate(c, w->player, PB_WALLET_ACTION_WITHDRAW);
    if (g == PB_ERR_INTERNAL || g == PB_ERR_STORE_UNAVAILABLE)
        return NULL;
    return g == PB_OK ? json_pack("[{s:s,s:s}]", "check", "player_status", "result", "pass")
                      : json_pack("[{s:s,s:s,s:s}]", "check", "player_status", "result", "fail",
                                  "code", pb_err_code(g));
}

/* The staff view: the player's view plus brand, player, who requested it, its
 * checks (recorded at the request, and the player gate now) and its approvals
 * (read on c), staff with their e-mail (cache: the e-mails read so far for this
 * answer). NULL on OOM or a store failure. */
static json_t *staff_json(pb_store_conn *c, pb_admin_emails *cache, const pb_store_withdrawal *w,
                          const pb_principal *viewer)
{
    json_t *o = pb_api_withdrawal_json(w);
    pb_store_withdrawal_approval ap[PB_CASHIER_MAX_APPROVALS];
    size_t n = 0;
    json_t *arr = json_array();
    json_t *checks = json_loads(w->checks[0] ? w->checks : "[]", 0, NULL);
    json_t *now = current_checks_json(c, w);
    if (!o || !arr || !checks || !now ||
        pb_cashier_withdrawal_approvals(c, w->id, ap, &n) != PB_OK) {
        json_decref(now);
        json_decref(o);
        json_decref(arr);
        json_decref(checks);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(
                arr, json_pack("{s:s,s:o,s:s,s:o,s:o,s:o}", "staff_id", ap[i].staff_id, "email",
                               pb_admin_staff_email_json(c, cache, ap[i].staff_id), "role",
                               ap[i].role, "at", pb_admin_time_json(ap[i].approved_at), "lapsed_at",
                               ap[i].lapsed_at ? pb_admin_time_json(ap[i].lapsed_at) : json_null(),
                               "lapsed_reason",
                               ap[i].lapsed_at ? json_string(ap[i].lapsed_reason) : json_null())) !=
            0) {
            json_decref(o);
            json_decref(arr);
            json_decref(checks);
            json_decref(now);
            return NULL;
        }
    pb_store_withdrawal_resolution *r = malloc(sizeof *r);
    bool waiting = false;
    json_t *manual = NULL;
    if (r && pb_cashier_withdrawal_manual_get(c, w->id, r, &waiting) == PB_OK)
        manual = !waiting ? json_null()
                          : json_pack("{s:o,s:s,s:s,s:{s:s,s:o,s:s},s:o,s:s}", "outcome",
                                      viewer && strcmp(viewer->subject_public_id, r->staff_id) == 0
                                          ? json_string(r->outcome)
                                          : json_null(),
                                      "reason", r->reason, "evidence", r->evidence, "stated_by",
                                      "staff_id", r->staff_id, "email",
                                      pb_admin_staff_email_json(c, cache, r->staff_id), "role",
                                      r->role, "stated_at", pb_admin_time_json(r->stated_at),
                                      "from_status", r->from_status);
    free(r);
    if (json_object_set_new(o, "manual_resolution", manual) != 0 ||
        json_object_set_new(o, "brand", json_string(w->brand)) != 0 ||
        json_object_set_new(o, "player", json_string(w->player)) != 0 ||
        json_object_set_new(o, "requested_by", actor_json(c, cache, w->requested_by)) != 0 ||
        json_object_set_new(o, "checks", checks) != 0 ||
        json_object_set_new(o, "current_checks", now) != 0 ||
        json_object_set_new(o, "approvals", arr) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The withdrawal {id} if the caller's scope sees it; replies and returns false otherwise. */
static bool visible(pb_http_request *req, pb_store_conn **c, pb_store_withdrawal *w)
{
    const pb_principal *p = pb_api_principal(req);
    *c = pb_http_conn(req);
    pb_err e = !*c  ? PB_ERR_STORE_UNAVAILABLE
               : !p ? PB_ERR_UNAUTHENTICATED
                    : pb_cashier_withdrawal_get(*c, &p->scope, NULL, pb_http_param(req, "id"), w);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return false;
    }
    return true;
}

/* The list filters every queue shares: brand (in scope), player, limit, cursor.
 * brands_buf receives the brand filter as a JSON array. Replies and returns
 * false on a bad one. */
static bool list_filters(pb_http_request *req, const pb_principal *p, pb_store_conn *c,
                         char *brands_buf, size_t cap, const char **brands, const char **player,
                         int64_t *limit, int64_t *cursor)
{
    const char *brand = NULL;
    if (!pb_admin_query_int(req, "limit", 1, PAGE_MAX, limit) ||
        !pb_admin_query_int(req, "cursor", 1, INT64_MAX, cursor) ||
        !pb_admin_query_str(req, "brand", PB_BRAND_CODE_MAX, &brand) ||
        !pb_admin_query_str(req, "player", PB_ID_STR_LEN, player))
        return false;
    *brands = pb_cashier_scope_json(&p->scope, brands_buf, cap);
    if (brand) { /* unknown and out-of-scope brands look the same */
        pb_brand *b = pb_http_alloc(req, sizeof *b);
        pb_err e = b ? pb_admin_brand_in_scope(c, p, brand, b) : PB_ERR_INTERNAL;
        if (e != PB_OK) {
            pb_admin_fail(req, e, e == PB_ERR_BRAND_FORBIDDEN ? "brand" : NULL);
            return false;
        }
        snprintf(brands_buf, cap, "[%lld]", (long long)b->id);
        *brands = brands_buf;
    }
    return true;
}

/* A status filter among known; replies and returns false on an unknown one. */
static bool status_filter(pb_http_request *req, const char *const *known, size_t n,
                          const char *names, const char **status)
{
    if (!pb_admin_query_str(req, "status", 20, status))
        return false;
    for (size_t i = 0; *status && i < n; i++)
        if (strcmp(*status, known[i]) == 0)
            return true;
    if (*status) {
        char msg[160];
        snprintf(msg, sizeof msg, "status: %s", names);
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "status", msg);
        return false;
    }
    return true;
}

pb_cashier_actor pb_admin_cashier_actor(pb_http_request *req, const pb_principal *p)
{
    pb_audit_entry e;
    pb_admin_entry(req, p, NULL, &e); /* the actor's fields only */
    return (pb_cashier_actor){.kind = "staff",
                              .id = e.actor_id,
                              .role = e.role,
                              .trace_id = e.trace_id,
                              .ip = e.ip,
                              .principal = p};
}

void pb_api_admin_withdrawals_list(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = NULL;
    pb_store_conn *c = NULL;
    if (!pb_admin_list_begin(req, &p, &c))
        return;
    int64_t limit = PAGE_DEFAULT, cursor = 0;
    const char *status = NULL, *brands = NULL, *player = NULL;
    char buf[PB_SCOPE_MAX_BRANDS * 24];
    if (!status_filter(req, STATUSES, sizeof STATUSES / sizeof STATUSES[0],
                       "pending_approval, approved, processing, paid, failed, rejected, "
                       "cancelled or returned",
                       &status) ||
        !list_filters(req, p, c, buf, sizeof buf, &brands, &player, &limit, &cursor))
        return;
    pb_store_withdrawal *rows = pb_http_alloc(req, (size_t)limit * sizeof *rows);
    size_t n = 0;
    pb_store_withdrawal_query q = {.brand_ids_json = brands,
                                   .player = player,
                                   .status = status,
                                   .before_seq = cursor,
                                   .limit = (size_t)limit};
    pb_err e = rows ? pb_cashier_withdrawal_list(c, &q, rows, &n) : PB_ERR_INTERNAL;
    json_t *items = e == PB_OK ? json_array() : NULL;
    pb_admin_emails cache = {0};
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(items, staff_json(c, &cache, &rows[i], p)) != 0) {
            json_decref(items);
            items = NULL;
        }
    if (e != PB_OK || !items) {
        pb_http_reply_error(req, e != PB_OK ? e : PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:o}", "items", items, "next_cursor",
                                 pb_admin_cursor_json(n == (size_t)limit ? rows[n - 1].seq : 0)));
}

void pb_api_admin_withdrawal_get(pb_http_request *req, void *app)
{
    (void)app;
    pb_store_conn *c;
    pb_store_withdrawal w;
    if (!pb_admin_parse_empty(req) || !visible(req, &c, &w))
        return;
    pb_admin_emails cache = {0};
    json_t *o = staff_json(c, &cache, &w, pb_api_principal(req));
    if (!o) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200, o);
}

static void answer(pb_http_request *req, pb_store_conn *c, pb_err e, const pb_store_withdrawal *w)
{
    if (e != PB_OK) { /* a session revoked since the authorizer: with its challenge */
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_admin_emails cache = {0};
    json_t *o = staff_json(c, &cache, w, pb_api_principal(req));
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
    pb_cashier_actor actor = pb_admin_cashier_actor(req, pb_api_principal(req));
    pb_store_withdrawal out;
    pb_err e = pb_cashier_withdrawal_approve(a->cashier, w.id, &actor, &out);
    answer(req, c, e, &out);
}

void pb_api_admin_withdrawal_reject(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *reason = NULL;
    if (!pb_admin_parse_reason(req, pb_api_principal(req), "withdrawal.reject", 1000, &reason))
        return;
    pb_store_conn *c;
    pb_store_withdrawal w;
    if (!visible(req, &c, &w))
        return;
    pb_cashier_actor actor = pb_admin_cashier_actor(req, pb_api_principal(req));
    pb_store_withdrawal out;
    pb_err e = pb_cashier_withdrawal_reject(a->cashier, w.id, reason, &actor, &out);
    answer(req, c, e, &out);
}

/* A stuck payout resolved by asking the PSP (see pb_cashier_withdrawal_resolve):
 * the withdrawal as it is now, "paid" or "failed"; a refusal names the PSP's
 * answer in its message. */
void pb_api_admin_withdrawal_resolve(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *reason = NULL;
    if (!pb_admin_parse_reason(req, pb_api_principal(req), "withdrawal.resolve", 1000, &reason))
        return;
    pb_store_conn *c;
    pb_store_withdrawal w;
    if (!visible(req, &c, &w))
        return;
    pb_cashier_actor actor = pb_admin_cashier_actor(req, pb_api_principal(req));
    pb_store_withdrawal out;
    pb_psp_payout_state st;
    pb_err e = pb_cashier_withdrawal_resolve(a->cashier, c, w.id, reason, &actor, &out, &st);
    if (e == PB_ERR_PAYOUT_PENDING || e == PB_ERR_PAYOUT_STATUS_UNKNOWN) {
        pb_http_reply_error_msg(req, e, NULL,
                                e == PB_ERR_PAYOUT_PENDING
                                    ? "the payment provider has taken the payout and not settled "
                                      "it yet: nothing changed, ask again later"
                                    : "the payment provider cannot say what became of the payout "
                                      "(or names another amount): nothing changed");
        return;
    }
    answer(req, c, e, &out);
}

/* ---- the manual resolution (4-eyes) ---- */

/* A bounded free text of a manual resolution: 1..max bytes (the parser), no
 * control characters, not only spaces; replies 422 FIELD_INVALID naming field. */
static bool text_ok(pb_http_request *req, const char *field, const char *v)
{
    bool ok = strspn(v, " \t\r\n") != strlen(v);
    for (const unsigned char *p = (const unsigned char *)v; ok && *p; p++)
        ok = *p >= 0x20 && *p != 0x7f;
    if (!ok) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s: text without control characters, not only spaces", field);
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, field, msg);
    }
    return ok;
}

/* outcome: "paid" → true, "failed" → false; replies 422 otherwise. */
static bool outcome_ok(pb_http_request *req, const char *outcome, bool *paid)
{
    *paid = strcmp(outcome, "paid") == 0;
    if (*paid || strcmp(outcome, "failed") == 0)
        return true;
    pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "outcome", "outcome: paid or failed");
    return false;
}

/* The manual steps' refusals that need words: the PSP's answer. */
static void manual_answer(pb_http_request *req, pb_store_conn *c, pb_err e,
                          const pb_store_withdrawal *w)
{
    if (e == PB_ERR_PAYOUT_STATUS_KNOWN || e == PB_ERR_PAYOUT_PENDING) {
        pb_http_reply_error_msg(req, e, NULL,
                                e == PB_ERR_PAYOUT_PENDING
                                    ? "the payment provider has taken the payout and not settled "
                                      "it yet: nothing changed"
                                    : "the payment provider can say what became of the payout: "
                                      "resolve it (POST .../resolve); nothing changed");
        return;
    }
    answer(req, c, e, w);
}

/* A stuck payout the PSP cannot report on: one finance member states its outcome
 * (see pb_cashier_withdrawal_manual_state). */
void pb_api_admin_withdrawal_manual_state(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *outcome = NULL, *reason = NULL, *evidence = NULL;
    pb_json_field f[] = {
        {.name = "outcome",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 16,
         .str = &outcome},
        {.name = "reason",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_STORE_RESOLUTION_REASON_MAX,
         .str = &reason},
        {.name = "evidence",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_STORE_RESOLUTION_EVIDENCE_MAX,
         .str = &evidence},
    };
    bool paid;
    if (!pb_http_parse_json(req, f, 3) || !outcome_ok(req, outcome, &paid) ||
        !pb_admin_reason_ok(req, pb_api_principal(req), "withdrawal.manual_resolution_state",
                            reason) ||
        !text_ok(req, "evidence", evidence))
        return;
    pb_store_conn *c;
    pb_store_withdrawal w;
    if (!visible(req, &c, &w))
        return;
    pb_cashier_actor actor = pb_admin_cashier_actor(req, pb_api_principal(req));
    pb_store_withdrawal out;
    pb_err e = pb_cashier_withdrawal_manual_state(a->cashier, c, w.id, paid, reason, evidence,
                                                  &actor, &out);
    manual_answer(req, c, e, &out);
}

/* A second finance member confirms the outcome stated: the payout settled. */
void pb_api_admin_withdrawal_manual_confirm(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *outcome = NULL, *reason = NULL;
    pb_json_field f[] = {
        {.name = "outcome",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 16,
         .str = &outcome},
        {.name = "reason",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_STORE_RESOLUTION_REASON_MAX,
         .str = &reason},
    };
    bool paid;
    if (!pb_http_parse_json(req, f, 2) || !outcome_ok(req, outcome, &paid) ||
        !pb_admin_reason_ok(req, pb_api_principal(req), "withdrawal.manual_resolve", reason))
        return;
    pb_store_conn *c;
    pb_store_withdrawal w;
    if (!visible(req, &c, &w))
        return;
    pb_cashier_actor actor = pb_admin_cashier_actor(req, pb_api_principal(req));
    pb_store_withdrawal out;
    pb_err e = pb_cashier_withdrawal_manual_confirm(a->cashier, c, w.id, paid, reason, &actor,
                                                    &out);
    manual_answer(req, c, e, &out);
}

/* The member who stated an outcome takes it back. */
void pb_api_admin_withdrawal_manual_withdraw(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const char *reason = NULL;
    if (!pb_admin_parse_reason(req, pb_api_principal(req), "withdrawal.manual_resolution_withdraw",
                               PB_STORE_RESOLUTION_REASON_MAX, &reason))
        return;
    pb_store_conn *c;
    pb_store_withdrawal w;
    if (!visible(req, &c, &w))
        return;
    pb_cashier_actor actor = pb_admin_cashier_actor(req, pb_api_principal(req));
    pb_store_withdrawal out;
    pb_err e = pb_cashier_withdrawal_manual_withdraw(a->cashier, c, w.id, reason, &actor, &out);
    answer(req, c, e, &out);
}

/* ---- deposits (payments) ---- */

/* "expired" is computed on read (cashier.h pb_cashier_deposit_list): stored "pending" */
static const char *const PAYMENT_STATUSES[] = {"pending", "completed", "failed", "expired"};

/* The player's view plus brand, player, the crediting transfer and whether it was a
 * late completion (the row's completed_late, decided when it completed: finance
 * sees it without the audit log, and a later change of the brand's
 * deposit_expiry_minutes does not move it). */
static json_t *payment_staff_json(const pb_store_payment *pay, int64_t expires_at)
{
    json_t *o = pb_api_payment_json(pay, NULL, expires_at);
    char tid[PB_ID_STR_LEN + 1];
    if (pay->has_transfer)
        pb_id_to_string(&pay->transfer_id, tid);
    if (o && (json_object_set_new(o, "brand", json_string(pay->brand)) != 0 ||
              json_object_set_new(o, "player", json_string(pay->player)) != 0 ||
              json_object_set_new(o, "transfer_id",
                                  pay->has_transfer ? json_string(tid) : json_null()) != 0 ||
              json_object_set_new(o, "completed_late", json_boolean(pay->completed_late)) != 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ?psp_reference=: the one payment the PSP knows by it (pb_cashier_payment_by_reference),
 * as a page of it or nothing, the other filters applied to it; no next page. */
static void payment_by_reference(pb_http_request *req, pb_api_app *a, const pb_principal *p,
                                 pb_store_conn *c, const char *reference, const char *status,
                                 const char *player, int64_t cursor)
{
    const char *brand = NULL;
    pb_store_payment pay;
    (void)pb_admin_query_str(req, "brand", PB_BRAND_CODE_MAX, &brand); /* checked already */
    pb_err e = pb_cashier_payment_by_reference(a->cashier, c, &p->scope, reference, &pay);
    int64_t expires_at = e == PB_OK ? pb_cashier_deposit_view(c, &pay, pb_time_now_us()) : 0;
    bool match = e == PB_OK && cursor == 0 && (!status || strcmp(pay.status, status) == 0) &&
                 (!player || strcmp(pay.player, player) == 0) &&
                 (!brand || strcmp(pay.brand, brand) == 0);
    json_t *items = e == PB_OK || e == PB_ERR_PAYMENT_NOT_FOUND ? json_array() : NULL;
    if (items && match && json_array_append_new(items, payment_staff_json(&pay, expires_at)) != 0) {
        json_decref(items);
        items = NULL;
    }
    if (!items) {
        pb_http_reply_error(req, e != PB_OK && e != PB_ERR_PAYMENT_NOT_FOUND ? e : PB_ERR_INTERNAL,
                            NULL);
        return;
    }
    pb_http_reply_json(req, 200, json_pack("{s:o,s:n}", "items", items, "next_cursor"));
}

void pb_api_admin_payments_list(pb_http_request *req, void *app)
{
    const pb_principal *p = NULL;
    pb_store_conn *c = NULL;
    if (!pb_admin_list_begin(req, &p, &c))
        return;
    int64_t limit = PAGE_DEFAULT, cursor = 0;
    const char *status = NULL, *brands = NULL, *player = NULL, *reference = NULL;
    char buf[PB_SCOPE_MAX_BRANDS * 24];
    if (!status_filter(req, PAYMENT_STATUSES, sizeof PAYMENT_STATUSES / sizeof PAYMENT_STATUSES[0],
                       "pending, completed, failed or expired", &status) ||
        !list_filters(req, p, c, buf, sizeof buf, &brands, &player, &limit, &cursor) ||
        !pb_admin_query_str(req, "psp_reference", PB_STORE_CASHIER_REF_MAX, &reference))
        return;
    if (reference) {
        payment_by_reference(req, app, p, c, reference, status, player, cursor);
        return;
    }
    pb_store_payment *rows = pb_http_alloc(req, (size_t)limit * sizeof *rows);
    int64_t *expires = pb_http_alloc(req, (size_t)limit * sizeof *expires);
    size_t n = 0;
    int64_t next = 0;
    pb_store_payment_query q = {.brand_ids_json = brands,
                                .player = player,
                                .status = status,
                                .before_seq = cursor,
                                .limit = (size_t)limit};
    pb_err e = rows && expires
                   ? pb_cashier_deposit_list(c, &q, pb_time_now_us(), rows, expires, &n, &next)
                   : PB_ERR_INTERNAL;
    json_t *items = e == PB_OK ? json_array() : NULL;
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(items, payment_staff_json(&rows[i], expires[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    if (e != PB_OK || !items) {
        pb_http_reply_error(req, e != PB_OK ? e : PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:o}", "items", items, "next_cursor",
                                 pb_admin_cursor_json(next)));
}

void pb_api_admin_payment_get(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    pb_store_conn *c = pb_http_conn(req);
    if (!pb_admin_parse_empty(req))
        return;
    pb_store_payment pay;
    pb_err e = !c   ? PB_ERR_STORE_UNAVAILABLE
               : !p ? PB_ERR_UNAUTHENTICATED
                    : pb_cashier_payment_get(c, &p->scope, pb_http_param(req, "id"), &pay);
    int64_t expires_at = e == PB_OK ? pb_cashier_deposit_view(c, &pay, pb_time_now_us()) : 0;
    json_t *o = e == PB_OK ? payment_staff_json(&pay, expires_at) : NULL;
    if (!o) {
        pb_http_reply_error(req, e != PB_OK ? e : PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200, o);
}

/* Finance completes a deposit the PSP settled but we never credited, on a fetched
 * reconciliation's evidence (pb_cashier_deposit_credit): 200 with the payment. */
void pb_api_admin_payment_complete(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const pb_principal *p = pb_api_principal(req);
    const char *recon = NULL, *reason = NULL;
    pb_json_field f[] = {
        {.name = "reconciliation_id",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_ID_STR_LEN,
         .str = &recon},
        PB_ADMIN_FIELD_REASON(&reason),
    };
    if (!pb_http_parse_json(req, f, 2) || !pb_admin_reason_ok(req, p, "payment.completed", reason))
        return;
    pb_store_conn *c = pb_http_conn(req);
    if (!c || !p) {
        pb_http_reply_error(req, c ? PB_ERR_UNAUTHENTICATED : PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    pb_cashier_actor actor = pb_admin_cashier_actor(req, p);
    pb_store_payment pay;
    char why[300];
    pb_err e = pb_cashier_deposit_credit(a->cashier, c, &p->scope, pb_http_param(req, "id"), recon,
                                         reason, &actor, &pay, why, sizeof why);
    if (e != PB_OK) {
        const char *field = e == PB_ERR_RECONCILIATION_NOT_FOUND ||
                                    e == PB_ERR_RECONCILIATION_NO_EVIDENCE
                                ? "reconciliation_id"
                                : NULL;
        if (why[0])
            pb_http_reply_error_msg(req, e, field, why);
        else
            pb_admin_fail(req, e, field);
        return;
    }
    json_t *o = payment_staff_json(&pay, pb_cashier_deposit_view(c, &pay, pb_time_now_us()));
    if (!o) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200, o);
}
