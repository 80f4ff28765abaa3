/*
 * admin_4eyes.h — the machinery of the staff money requests that wait for a
 * second approver (4-eyes), whatever their kind (private to src/api/): the staff
 * adjustments' requests (admin_adjust.c, admin_adjust_4eyes.c) and the
 * unclaimed-funds settlements (admin_unclaimed_settle.c, admin_unclaimed.c). The
 * steps are in admin_4eyes.c (the requests' reading, their decision's start and
 * outcome, their expiry, their lists and lookups) and admin_request_sweep.c
 * (serve's sweep of the requests past their time).
 *
 * A kind describes itself once (pb_admin_request_kind: its store table, error
 * codes, audit action and event of its expiry, its JSON) and keeps its own money
 * step, audit entries and events in its own file. A handler's context embeds a
 * pb_admin_request_ctx first, pointing at the kind's row (whose store struct starts
 * with its pb_store_request), so that one context goes from the handler into its
 * ledger command and back through the shared steps and the kind's.
 */
#ifndef PB_API_ADMIN_4EYES_H
#define PB_API_ADMIN_4EYES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/admin.h"

typedef struct pb_admin_request_ctx pb_admin_request_ctx;

/* What the shared steps need of one kind of request. */
typedef struct pb_admin_request_kind {
    pb_store_request_kind store;
    const char *what; /* in the sweep's logs: "adjustment", "settlement" */
    /* how long a request of the brand may stay pending (tenancy.h) */
    int64_t (*expiry_us)(const pb_brand *b);
    pb_err not_found, state;   /* ADJUSTMENT_NOT_FOUND / _STATE, SETTLEMENT_… */
    const char *expired_msg;   /* the message of `state` when the request expired */
    const char *decide_log;    /* a decision's INTERNAL logged under it (NULL: not logged) */
    const char *expire_action; /* the audit action of a request marked expired */
    const char *sweep_actor;   /* the sweep's actor id in it */
    /* the request as the API shows it (its audit entries and events hold this too:
     * staff by id only); NULL when out of memory */
    json_t *(*json)(const pb_store_request *r);
    /* the target (kind and id) of its audit entries */
    void (*target)(const pb_store_request *r, const char **kind, const char **id);
    /* emits the event of r marked expired by `by` (trace id; the member when staff),
     * in the command's transaction on c at now */
    pb_err (*expired_event)(pb_store_conn *c, const pb_store_request *r, const pb_audit_entry *by,
                            int64_t now);
    /* a decision's answer: 200 {answer_key: the request, replayed, balance_key: the
     * balance its money moves (balance_json, read on c as committed; its failure is
     * replied)} */
    const char *answer_key, *balance_key;
    pb_err (*balance_json)(pb_store_conn *c, const pb_admin_request_ctx *q, json_t **out);
    /* the approval, in the handler: its transfer into *q->t (accounts created when
     * missing); a failure is replied */
    pb_err (*prepare)(pb_store_conn *c, pb_admin_request_ctx *q);
    /* the approval, in its command before the transfer: the kind's re-checks (a
     * refusal into q->refusal leaves the request pending) */
    pb_err (*approve_ready)(pb_ledger_tx *tx, pb_admin_request_ctx *q);
    /* the approval, in its command after its decision is stored: its audit entry and
     * event (result: the transfer's; not PB_OK: the request failed, nothing moved) */
    pb_err (*approved)(pb_ledger_tx *tx, pb_admin_request_ctx *q, pb_err result);
    /* the rejection, in its command after it is stored: its audit entry and event */
    pb_err (*rejected)(pb_ledger_tx *tx, pb_admin_request_ctx *q);
} pb_admin_request_kind;

extern const pb_admin_request_kind pb_admin_adjustment_requests; /* admin_adjust.c */
extern const pb_admin_request_kind pb_admin_settlement_requests; /* admin_unclaimed_settle.c */

/* One request's creation or decision, from the handler into its ledger command and
 * back: the first member of the kind's context. */
struct pb_admin_request_ctx {
    pb_http_request *req;
    pb_api_app *app;
    const pb_principal *p;
    const pb_admin_request_kind *kind;
    pb_store_request *row; /* the kind's row in its context: found, written or decided */
    pb_transfer *t;        /* the approval's transfer, in the kind's context */
    int64_t expiry_us;     /* how long a request of its brand may stay pending */
    const char *decision;  /* reject: the reason */
    pb_err refusal;        /* decided in the command: nothing written */
    bool existing;         /* a request under the key answers this call */
    bool not_pending;      /* approve / reject: the request was decided already */
    bool expired;          /* approve / reject: found past its time, marked expired */
    bool decided;          /* approve / reject: the command decided it */
};

/* A zeroed context of size bytes (the kind's, starting with its
 * pb_admin_request_ctx) for the request with its caller and kind; the kind sets
 * ->row and ->t. NULL when out of memory (replied INTERNAL). */
void *pb_admin_request_ctx_new(pb_http_request *req, void *app, const pb_admin_request_kind *k,
                               size_t size);

/* Whether r is pending and its time (requested_at + expiry_us) has come at now. */
bool pb_admin_request_due(const pb_store_request *r, int64_t expiry_us, int64_t now);
/* r as it reads at now: a pending request whose time has come shows "expired"
 * (decided_at and decided_by stay empty: nobody decided it yet). */
void pb_admin_request_status_now(pb_store_request *r, int64_t expiry_us, int64_t now);
/* The request as staff answers show it: k->json with the requester's and the
 * decider's e-mails (pb_admin_request_emails, read on c). NULL on a store failure or
 * OOM. Never for an audit entry, an event or the export. */
json_t *pb_admin_request_staff_json(pb_store_conn *c, pb_admin_emails *cache,
                                    const pb_admin_request_kind *k, const pb_store_request *r);

/* The caller p as the ledger batch sees them (pb_identity_principal_check, as
 * pb_admin_write re-checks it): PB_OK with *refusal PB_OK when they may still act,
 * else the refusal (SESSION_REVOKED, FORBIDDEN) in *refusal; INTERNAL when the
 * store failed. */
pb_err pb_admin_principal_recheck(pb_ledger_tx *tx, const pb_principal *p, pb_err *refusal);

/* ---- the request's creation */

/* The start of a request's creation in the ledger writer: the caller re-checked (a
 * refusal into q->refusal) and a request under (brand, key) read into q->row
 * (q->existing). *go when neither: the command goes on. INTERNAL when the store
 * failed. */
pb_err pb_admin_request_begin(pb_ledger_tx *tx, pb_admin_request_ctx *q, const char *brand,
                              const char *key, bool *go);
/* q->row zeroed (the kind's whole row) and its shared state set: a new public id,
 * brand, amount, currency, reason, key, the caller as requester, now. The kind sets
 * its own fields, then writes it with pb_store_request_insert. */
void pb_admin_request_fill(pb_ledger_tx *tx, pb_admin_request_ctx *q, const char *brand,
                           int64_t amount, const char *currency, const char *reason,
                           const char *key);
/* Answers a call whose key names the request q->row (as it reads now): `status`
 * with it and "replayed" when the call asks for the same request (same), else
 * IDEMPOTENCY_CONFLICT naming the key. */
void pb_admin_request_answer(pb_http_request *req, pb_admin_request_ctx *q, bool same,
                             bool replayed, int status);

/* ---- its decision */

/* The request named by the route's {id} into *r (its kind's row) of a brand in p's
 * scope (the brand's row into *b). A malformed id, an unknown one and one of a brand
 * outside the scope all answer k->not_found, so a request's existence is not told
 * across brands (as for a withdrawal of another brand); else STORE_UNAVAILABLE /
 * INTERNAL. */
pb_err pb_admin_request_in_scope(pb_http_request *req, pb_store_conn *c, const pb_principal *p,
                                 const pb_admin_request_kind *k, pb_store_request *r, pb_brand *b);
/* Refuses (FOUR_EYES_VIOLATION with msg, replied) an approval by the request's own
 * requester. False when replied. */
bool pb_admin_request_not_requester(pb_http_request *req, const pb_admin_request_ctx *q,
                                    const char *msg);
/* The approval of the request q->row (read by the handler, of a brand in scope, the
 * caller not its requester) answered: again when approved already (replayed), the
 * kind's state error when decided otherwise; one past its time marked expired in a
 * ledger command of its own (state error saying so, nothing prepared); else the
 * kind's transfer prepared and, in one ledger command: the caller re-checked, the
 * request re-read (decided since: as above; past its time: marked expired), the
 * requester refused (FOUR_EYES_VIOLATION), the kind's re-checks, the transfer, the
 * decision (approved, or failed with the transfer's refusal: the key is spent) and
 * the kind's audit entry and event. */
void pb_admin_request_approve(pb_http_request *req, pb_store_conn *c, pb_admin_request_ctx *q);
/* The rejection (reason q->decision) of the request q->row answered: the kind's state
 * error when it is not pending; else in one ledger command the caller re-checked, the
 * request re-read (decided since: state error; past its time: marked expired, state
 * error saying so), its decision stored (nothing moves) with the kind's audit entry
 * and event. */
void pb_admin_request_reject(pb_http_request *req, pb_store_conn *c, pb_admin_request_ctx *q);

/* ---- its expiry */

/* In a ledger command, the pending request r (re-read there) found past its time
 * (pb_admin_request_due) marked expired: status expired, decided_at the command's
 * time, decided_by NULL, with the audit entry k->expire_action on its target (by:
 * its actor, role, trace id and ip; the rest is filled here: after the request as
 * marked, the reason saying how long it may wait) and the kind's expired event. The
 * one way a request expires: the decision that finds it so and the sweep both call
 * it. INTERNAL (or the audit's failure) when the store failed. */
pb_err pb_admin_request_mark_expired(pb_ledger_tx *tx, const pb_admin_request_kind *k,
                                     pb_store_request *r, int64_t expiry_us,
                                     const pb_audit_entry *by);
/* In a ledger command of its own, the request r of kind k, as read before (by
 * pb_store_request_due), re-read and marked expired as the system (k->sweep_actor,
 * a fresh trace id its event carries too) when it is still pending past expiry_us
 * (*marked; r receives the row as the command left it); a request decided since is
 * left alone, so a decision always wins over the sweep. PB_OK, or the command's
 * failure. */
pb_err pb_admin_request_expire(pb_ledger *l, const pb_admin_request_kind *k, pb_store_request *r,
                               int64_t expiry_us, bool *marked);

/* ---- its list and lookup */

/* GET the requests of kind k: ?status=&brand=&limit=&cursor= (the brands in view,
 * `brand`, when given, one of the caller's, else 403 BRAND_FORBIDDEN), newest first,
 * each as it reads now: 200 {items, next_cursor}. */
void pb_admin_request_list_reply(pb_http_request *req, const pb_admin_request_kind *k);
/* GET the request of kind k named by {id} (pb_admin_request_in_scope) as it reads
 * now: 200 with it. */
void pb_admin_request_get_reply(pb_http_request *req, const pb_admin_request_kind *k);

#endif
