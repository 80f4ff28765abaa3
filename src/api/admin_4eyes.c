/*
 * admin_4eyes.c — the steps every kind of staff money request waiting for a
 * second approver goes through (admin_4eyes.h; the kinds: the staff adjustments'
 * requests, admin_adjust.c and admin_adjust_4eyes.c, and the unclaimed-funds
 * settlements, admin_unclaimed_settle.c). Each kind keeps a request row with a
 * status and requested_at, decides it inside a ledger command after re-checking
 * the caller there, and reads a pending request past its brand's expiry as
 * expired. What is here, once for every kind: that reading (due, status now), the
 * request's creation (its start in the command, its shared fields, the answer to
 * a call under its key), its decision (the request found by {id} within the
 * caller's brands, one answer for unknown, malformed and foreign; the start in the
 * command: the caller re-checked, the request re-read, marked expired when found
 * so; its outcome and failure replies), its expiry (the one way a request is
 * marked expired, by a decision or by serve's sweep, admin_request_sweep.c), and
 * the list and GET of a kind's requests. What is the kind's own — its money step,
 * its audit entries and events, its JSON fields — comes from the kind's
 * pb_admin_request_kind.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_4eyes.h"
#include "core/log.h"
#include "core/time.h"

void *pb_admin_request_ctx_new(pb_http_request *req, void *app, const pb_admin_request_kind *k,
                               size_t size)
{
    pb_admin_request_ctx *q = pb_http_alloc(req, size);
    if (!q) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return NULL;
    }
    memset(q, 0, size);
    q->req = req;
    q->app = app;
    q->p = pb_api_principal(req);
    q->kind = k;
    return q;
}

bool pb_admin_request_due(const pb_store_request *r, int64_t expiry_us, int64_t now)
{
    return strcmp(r->status, "pending") == 0 && now - r->requested_at >= expiry_us;
}

void pb_admin_request_status_now(pb_store_request *r, int64_t expiry_us, int64_t now)
{
    if (pb_admin_request_due(r, expiry_us, now))
        snprintf(r->status, sizeof r->status, "%s", "expired");
}

json_t *pb_admin_request_staff_json(pb_store_conn *c, pb_admin_emails *cache,
                                    const pb_admin_request_kind *k, const pb_store_request *r)
{
    return pb_admin_request_emails(c, cache, k->json(r), r->requested_by, r->decided_by);
}

pb_err pb_admin_principal_recheck(pb_ledger_tx *tx, const pb_principal *p, pb_err *refusal)
{
    pb_err e = pb_identity_principal_check(pb_ledger_tx_conn(tx), p, pb_ledger_tx_now(tx));
    if (e == PB_ERR_INTERNAL || pb_err_transient(e))
        return PB_ERR_INTERNAL;
    *refusal = e; /* PB_OK, or SESSION_REVOKED / FORBIDDEN: nothing submitted */
    return PB_OK;
}

/* ---- the request's creation */

pb_err pb_admin_request_begin(pb_ledger_tx *tx, pb_admin_request_ctx *q, const char *brand,
                              const char *key, bool *go)
{
    *go = false;
    pb_err e = pb_admin_principal_recheck(tx, q->p, &q->refusal);
    if (e != PB_OK || q->refusal != PB_OK)
        return e;
    pb_store_rc rc = pb_store_request_by_key(pb_ledger_tx_conn(tx), q->kind->store, brand, key,
                                             q->row);
    q->existing = rc == PB_STORE_OK;
    *go = rc == PB_STORE_NOT_FOUND;
    return rc == PB_STORE_OK || rc == PB_STORE_NOT_FOUND ? PB_OK : PB_ERR_INTERNAL;
}

void pb_admin_request_fill(pb_ledger_tx *tx, pb_admin_request_ctx *q, const char *brand,
                           int64_t amount, const char *currency, const char *reason,
                           const char *key)
{
    pb_store_request *r = q->row;
    memset(r, 0, pb_store_request_size(q->kind->store));
    pb_id id;
    pb_id_new(&id);
    pb_id_to_string(&id, r->public_id);
    snprintf(r->brand, sizeof r->brand, "%s", brand);
    r->amount = amount;
    snprintf(r->currency, sizeof r->currency, "%s", currency);
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    snprintf(r->idempotency_key, sizeof r->idempotency_key, "%s", key);
    snprintf(r->requested_by, sizeof r->requested_by, "%s", q->p->subject_public_id);
    r->requested_at = pb_ledger_tx_now(tx);
}

void pb_admin_request_answer(pb_http_request *req, pb_admin_request_ctx *q, bool same,
                             bool replayed, int status)
{
    pb_admin_request_status_now(q->row, q->expiry_us, pb_time_now_us()); /* as the list shows */
    if (!same) {
        pb_admin_fail(req, PB_ERR_IDEMPOTENCY_CONFLICT, "idempotency_key");
        return;
    }
    pb_store_conn *c = pb_http_conn(req);
    pb_admin_emails cache = {0};
    json_t *o = c ? pb_admin_request_staff_json(c, &cache, q->kind, q->row) : NULL;
    if (!o || json_object_set_new(o, "replayed", json_boolean(replayed)) != 0) {
        json_decref(o);
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, status, o);
}

/* ---- its decision */

pb_err pb_admin_request_in_scope(pb_http_request *req, pb_store_conn *c, const pb_principal *p,
                                 const pb_admin_request_kind *k, pb_store_request *r, pb_brand *b)
{
    const char *id = pb_http_param(req, "id");
    pb_store_rc rc = id && strlen(id) < sizeof r->public_id
                         ? pb_store_request_get(c, k->store, id, r)
                         : PB_STORE_NOT_FOUND;
    pb_err e = rc == PB_STORE_OK          ? PB_OK
               : rc == PB_STORE_NOT_FOUND ? k->not_found
               : rc == PB_STORE_BUSY      ? PB_ERR_STORE_UNAVAILABLE
                                          : PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = pb_admin_brand_in_scope(c, p, r->brand, b);
    return e == PB_ERR_BRAND_FORBIDDEN ? k->not_found : e;
}

bool pb_admin_request_not_requester(pb_http_request *req, const pb_admin_request_ctx *q,
                                    const char *msg)
{
    if (strcmp(q->row->requested_by, q->p->subject_public_id) != 0)
        return true;
    pb_http_reply_error_msg(req, PB_ERR_FOUR_EYES_VIOLATION, NULL, msg);
    return false;
}

/* The start of a decision in the ledger writer: the caller re-checked (a refusal
 * into q->refusal; a changed brand scope ends their session, as a changed role
 * does), and the request re-read (q->not_pending when it was decided since;
 * q->expired when it was pending past its time: marked expired here, as the sweep
 * marks one, audited as the caller whose decision found it so). *go when the
 * command goes on to decide. */
static pb_err decide_begin(pb_ledger_tx *tx, pb_admin_request_ctx *q, bool *go)
{
    *go = false;
    pb_err e = pb_admin_principal_recheck(tx, q->p, &q->refusal);
    if (e != PB_OK || q->refusal != PB_OK)
        return e;
    char id[sizeof q->row->public_id];
    memcpy(id, q->row->public_id, sizeof id);
    if (pb_store_request_get(pb_ledger_tx_conn(tx), q->kind->store, id, q->row) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    q->not_pending = strcmp(q->row->status, "pending") != 0;
    if (!q->not_pending && pb_admin_request_due(q->row, q->expiry_us, pb_ledger_tx_now(tx))) {
        pb_audit_entry by;
        pb_admin_entry(q->req, q->p, q->kind->expire_action, &by);
        e = pb_admin_request_mark_expired(tx, q->kind, q->row, q->expiry_us, &by);
        q->expired = e == PB_OK;
        return e;
    }
    *go = !q->not_pending;
    return PB_OK;
}

/* In the ledger writer: a request found past its time at the approval (before
 * anything is prepared for its transfer) marked expired, or whatever decide_begin
 * finds since. */
static pb_err expire_command(pb_ledger_tx *tx, void *arg)
{
    bool go = false;
    return decide_begin(tx, arg, &go);
}

/* The request decided (status) by the caller, now (q->decided). */
static void decided(pb_ledger_tx *tx, pb_admin_request_ctx *q, const char *status)
{
    pb_store_request *r = q->row;
    snprintf(r->status, sizeof r->status, "%s", status);
    snprintf(r->decided_by, sizeof r->decided_by, "%s", q->p->subject_public_id);
    r->decided_at = pb_ledger_tx_now(tx);
    q->decided = true;
}

/* In the ledger writer: the approval and its transfer, or a refusal. */
static pb_err approve_command(pb_ledger_tx *tx, void *arg)
{
    pb_admin_request_ctx *q = arg;
    pb_store_request *r = q->row;
    bool go = false;
    pb_err e = decide_begin(tx, q, &go);
    if (e != PB_OK || !go)
        return e;
    if (strcmp(r->requested_by, q->p->subject_public_id) == 0) {
        q->refusal = PB_ERR_FOUR_EYES_VIOLATION;
        return PB_OK;
    }
    /* the kind's re-checks: a refusal (a debit beyond the balance now, …) comes
     * before the ledger sees the transfer (a refused transfer would spend the key),
     * and the request stays pending */
    e = q->kind->approve_ready(tx, q);
    if (e != PB_OK || q->refusal != PB_OK)
        return e;
    e = pb_ledger_tx_submit(tx, q->t, 1);
    if (e != PB_OK)
        return e == PB_ERR_INTERNAL ? e : (q->refusal = e, PB_OK);
    /* a transfer already under the key (the request refuses such keys) moves nothing
     * here: the request fails as a refused one does */
    pb_err result = q->t->replayed ? PB_ERR_IDEMPOTENCY_CONFLICT : q->t->result;
    /* our own failure (a damaged account row: STORE_CORRUPT), not the ledger's
     * decision: nothing moved and nothing is remembered under the key, so the
     * request stays pending and may be approved once the row is repaired */
    if (pb_err_transient(result)) {
        q->refusal = result;
        return PB_OK;
    }
    decided(tx, q, result != PB_OK ? "failed" : "approved");
    if (result != PB_OK) { /* refused for good: the key is spent, the request failed */
        snprintf(r->failure, sizeof r->failure, "%s", pb_err_code(result));
        q->refusal = result;
    } else {
        pb_id_to_string(&q->t->record.id, r->transfer_id);
    }
    if (pb_store_request_decide(pb_ledger_tx_conn(tx), q->kind->store, r) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    return q->kind->approved(tx, q, result);
}

/* In the ledger writer: the rejection (the requester's own too: nothing moves). */
static pb_err reject_command(pb_ledger_tx *tx, void *arg)
{
    pb_admin_request_ctx *q = arg;
    bool go = false;
    pb_err e = decide_begin(tx, q, &go);
    if (e != PB_OK || !go)
        return e;
    decided(tx, q, "rejected");
    snprintf(q->row->decision_reason, sizeof q->row->decision_reason, "%s", q->decision);
    if (pb_store_request_decide(pb_ledger_tx_conn(tx), q->kind->store, q->row) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    return q->kind->rejected(tx, q);
}

/* Replies a decision's failure e: the kind's state error saying so when the request
 * expired, else as pb_admin_fail does (INSUFFICIENT_FUNDS naming the amount). */
static void decision_fail(pb_http_request *req, const pb_admin_request_ctx *q, pb_err e)
{
    const pb_admin_request_kind *k = q->kind;
    if (e == PB_ERR_INTERNAL && k->decide_log)
        pb_log(PB_LOG_ERROR, k->decide_log, "failed (trace %s)", pb_http_trace_id(req));
    if (e == k->state && (q->expired || strcmp(q->row->status, "expired") == 0))
        pb_http_reply_error_msg(req, e, NULL, k->expired_msg);
    else
        pb_admin_fail(req, e, e == PB_ERR_INSUFFICIENT_FUNDS ? "amount" : NULL);
}

/* 200 {the request, replayed, the balance its money moves (now)}. */
static void answer_decided(pb_http_request *req, pb_store_conn *c, const pb_admin_request_ctx *q,
                           bool replayed)
{
    json_t *balance = NULL;
    pb_err e = q->kind->balance_json(c, q, &balance);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_admin_emails cache = {0};
    json_t *rec = pb_admin_request_staff_json(c, &cache, q->kind, q->row);
    if (!rec) {
        json_decref(balance);
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:b,s:o*}", q->kind->answer_key, rec, "replayed", replayed,
                                 q->kind->balance_key, balance));
}

/* Whether the request (as the handler read it) is pending: else the kind's state
 * error (saying so when it expired), replied. */
static bool decidable(pb_http_request *req, const pb_admin_request_ctx *q)
{
    if (strcmp(q->row->status, "pending") == 0)
        return true;
    decision_fail(req, q, q->kind->state);
    return false;
}

/* Runs a decision's ledger command fn and answers it: the refusal, or the state error
 * when the request was decided since, found expired or left undecided; approve: an
 * approval found made since answers as a replay. */
static void decide(pb_http_request *req, pb_store_conn *c, pb_admin_request_ctx *q,
                   pb_ledger_command_fn fn, bool approve)
{
    pb_err e = pb_ledger_command(q->app->ledger, fn, q);
    if (e == PB_OK && q->refusal == PB_OK && q->not_pending) {
        if (approve && strcmp(q->row->status, "approved") == 0) {
            answer_decided(req, c, q, true); /* approved just before */
            return;
        }
        e = q->kind->state;
    }
    if (e == PB_OK && q->refusal != PB_OK)
        e = q->refusal;
    if (e == PB_OK && (q->expired || !q->decided)) /* expired now, or left as it was */
        e = q->kind->state;
    if (e != PB_OK) {
        decision_fail(req, q, e);
        return;
    }
    answer_decided(req, c, q, false);
}

void pb_admin_request_approve(pb_http_request *req, pb_store_conn *c, pb_admin_request_ctx *q)
{
    if (strcmp(q->row->status, "approved") == 0) {
        answer_decided(req, c, q, true);
        return;
    }
    if (!decidable(req, q))
        return;
    if (pb_admin_request_due(q->row, q->expiry_us, pb_time_now_us())) {
        decide(req, c, q, expire_command, true); /* nothing prepared for a transfer */
        return;
    }
    pb_err e = q->kind->prepare(c, q);
    if (e != PB_OK) {
        decision_fail(req, q, e);
        return;
    }
    decide(req, c, q, approve_command, true);
}

void pb_admin_request_reject(pb_http_request *req, pb_store_conn *c, pb_admin_request_ctx *q)
{
    if (decidable(req, q)) /* one past its time: marked expired by the command */
        decide(req, c, q, reject_command, false);
}

/* ---- its expiry */

pb_err pb_admin_request_mark_expired(pb_ledger_tx *tx, const pb_admin_request_kind *k,
                                     pb_store_request *r, int64_t expiry_us,
                                     const pb_audit_entry *by)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    snprintf(r->status, sizeof r->status, "%s", "expired");
    r->decided_by[0] = '\0';
    r->decided_at = now;
    if (pb_store_request_decide(c, k->store, r) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    json_t *after = k->json(r);
    char *text = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    json_decref(after);
    if (!text)
        return PB_ERR_INTERNAL;
    char why[120];
    snprintf(why, sizeof why, "pending longer than %lld hours",
             (long long)(expiry_us / (3600 * 1000000LL)));
    pb_audit_entry en = *by;
    en.action = k->expire_action;
    en.brand = r->brand;
    k->target(r, &en.target_kind, &en.target_id);
    en.before = NULL;
    en.after = text;
    en.reason = why;
    pb_err e = pb_audit_append(c, &en, now);
    free(text);
    /* @backoffice: the kind's expired event, with the status change */
    if (e == PB_OK && k->expired_event(c, r, by, now) != PB_OK)
        e = PB_ERR_INTERNAL;
    return e;
}

/* One request the sweep read, into its ledger command and back. */
typedef struct expire_job {
    const pb_admin_request_kind *kind;
    pb_store_request *row; /* as read; then as the command re-read (and marked) it */
    int64_t expiry_us;
    char trace[PB_TRACE_ID_LEN + 1];
    bool marked;
} expire_job;

/* In the ledger writer: the request re-read, and marked expired only when it is
 * still pending past its time (a decision committed since wins). */
static pb_err expire_job_command(pb_ledger_tx *tx, void *arg)
{
    expire_job *j = arg;
    char id[sizeof j->row->public_id];
    memcpy(id, j->row->public_id, sizeof id);
    pb_store_rc rc = pb_store_request_get(pb_ledger_tx_conn(tx), j->kind->store, id, j->row);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_OK;
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (!pb_admin_request_due(j->row, j->expiry_us, pb_ledger_tx_now(tx)))
        return PB_OK; /* approved, rejected, failed or expired since the read */
    pb_audit_entry by = {.actor_kind = "system",
                         .actor_id = j->kind->sweep_actor,
                         .trace_id = j->trace};
    pb_err e = pb_admin_request_mark_expired(tx, j->kind, j->row, j->expiry_us, &by);
    j->marked = e == PB_OK;
    return e;
}

pb_err pb_admin_request_expire(pb_ledger *l, const pb_admin_request_kind *k, pb_store_request *r,
                               int64_t expiry_us, bool *marked)
{
    *marked = false;
    size_t size = pb_store_request_size(k->store);
    expire_job *j = calloc(1, sizeof *j);
    pb_store_request *row = malloc(size);
    if (!j || !row) {
        free(j);
        free(row);
        return PB_ERR_INTERNAL;
    }
    memcpy(row, r, size);
    j->kind = k;
    j->row = row;
    j->expiry_us = expiry_us;
    pb_trace_new_trace_id(j->trace);
    pb_err e = pb_ledger_command(l, expire_job_command, j);
    if (e == PB_OK) {
        memcpy(r, row, size);
        *marked = j->marked;
    }
    free(row);
    free(j);
    return e;
}

/* ---- its list and lookup */

#define LIST_DEFAULT 50
#define LIST_MAX 200

/* A request list's query (GET ?status=&brand=&limit=&cursor=). */
typedef struct request_query {
    pb_store_conn *c;
    const char *status; /* pending, approved, rejected, failed, expired; NULL: any */
    int64_t limit;      /* 1..200, default 50 */
    int64_t cursor;     /* 0: the first page */
    char *codes;        /* expiry_by_brand of the brands in view (malloc'd) */
} request_query;

/* The JSON text (malloc'd; the caller frees it) of the object brand code ->
 * expiry_us(brand) for the n brands bs: what the request lists' store queries read
 * a pending request's time from. NULL when out of memory. */
static char *expiry_by_brand(const pb_brand *bs, size_t n, int64_t (*expiry_us)(const pb_brand *))
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

/* The start of a request list: the caller and its connection, the query checked,
 * the brands in view (`brand`, when given, one of the caller's; else 403
 * BRAND_FORBIDDEN) with expiry_us each into q. Replies and returns false on a
 * failure (nothing to free then); else the caller frees q->codes. */
static bool list_begin(pb_http_request *req, int64_t (*expiry_us)(const pb_brand *),
                       request_query *q)
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
    q->codes = expiry_by_brand(bs, nb, expiry_us);
    free(bs);
    if (!q->codes) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return false;
    }
    return true;
}

void pb_admin_request_list_reply(pb_http_request *req, const pb_admin_request_kind *k)
{
    request_query q;
    if (!list_begin(req, k->expiry_us, &q))
        return;
    size_t size = pb_store_request_size(k->store);
    char *rows = pb_http_alloc(req, (size_t)q.limit * size);
    size_t n = 0;
    pb_store_rc rc = rows ? pb_store_request_list(q.c, k->store, q.codes, pb_time_now_us(),
                                                  q.status, q.cursor, rows, (size_t)q.limit, &n)
                          : PB_STORE_ERROR;
    free(q.codes);
    pb_admin_emails cache = {0};
    json_t *items = rc == PB_STORE_OK ? json_array() : NULL;
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(items, pb_admin_request_staff_json(
                                             q.c, &cache, k,
                                             (const pb_store_request *)(rows + i * size))) != 0) {
            json_decref(items);
            items = NULL;
        }
    if (!items) {
        pb_http_reply_error(req, rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL,
                            NULL);
        return;
    }
    int64_t last = n ? ((const pb_store_request *)(rows + (n - 1) * size))->id : 0;
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:o}", "items", items, "next_cursor",
                                 pb_admin_cursor_json(n == (size_t)q.limit ? last : 0)));
}

void pb_admin_request_get_reply(pb_http_request *req, const pb_admin_request_kind *k)
{
    pb_store_conn *c = pb_http_conn(req);
    pb_store_request *r = pb_http_alloc(req, pb_store_request_size(k->store));
    pb_brand *b = pb_http_alloc(req, sizeof *b);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !r || !b ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK)
        e = pb_admin_request_in_scope(req, c, pb_api_principal(req), k, r, b);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_admin_request_status_now(r, k->expiry_us(b), pb_time_now_us());
    pb_admin_emails cache = {0};
    json_t *o = pb_admin_request_staff_json(c, &cache, k, r);
    if (!o) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200, o);
}
