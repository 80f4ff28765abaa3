/*
 * admin_staff.c — back-office staff management.
 *
 *   GET   /v1/admin/staff        staff.read    members within the caller's scope (cursor pages)
 *   POST  /v1/admin/staff        staff.manage  create a member → a one-time password, shown once
 *   GET   /v1/admin/staff/{id}   staff.read    one member
 *   PATCH /v1/admin/staff/{id}   staff.manage  role, brand scope, active, reset TOTP
 *                                              (with a reason), an optional reason
 *   POST  /v1/admin/staff/{id}/totp/reset  staff.manage  {reason}: forget the TOTP seed
 *                                          and the password → a one-time password, shown once
 *
 * TOTP reset (a lost phone): the seed is cleared AND the password replaced by a
 * new one-time password (stored hashed only, answered once to the resetting
 * administrator), so the member's next login, with that password, is a setup
 * session that changes it and enrols again, as a new member's first login. The
 * old password stops working: recovering the second factor never rests on the
 * first factor alone (whoever holds a leaked password cannot enrol their own
 * authenticator; OWASP ASVS 4.0.3 V2.5.7 / 5.0 V6.4.4). Every session of theirs
 * ends; the entry staff.totp_reset (before/after, the reason; never the
 * password) is appended in the same transaction. Nobody resets their own (403
 * FORBIDDEN), and an administrator's only another administrator may reset (403
 * FORBIDDEN otherwise). PATCH's reset_totp does the same (and answers the
 * one-time password too), and needs a reason as well (422 FIELD_MISSING
 * "reason" without one; staff.update carries it); the password is made and hashed before the write
 * transaction, so a refused reset writes nothing and shows no password.
 *
 * Scope: a member is visible to a caller whose scope covers every brand of
 * theirs (all-brands members only to all-brands callers); others are 404
 * STAFF_NOT_FOUND. A caller cannot grant what they do not have: brands outside
 * their scope, or all brands, are 403 BRAND_FORBIDDEN. Nobody changes their own
 * role, scope or status here (403 FORBIDDEN): that is how the last
 * administrator would lock everyone out.
 *
 * Audit: a change (PATCH) is appended with the member before and after in the
 * same write transaction. A PATCH of role, scope or active also judges the
 * member's standing withdrawal approvals again in that transaction
 * (pb_cashier_staff_approvals_judge): those they may no longer give lapse at
 * once, audited withdrawal.approval_lapsed (same trace id). Creation runs in identity's own transaction (it
 * hashes the one-time password outside any transaction), so "staff.create" is
 * appended right after; if that fails the one-time password is not returned,
 * so the new account cannot be used.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/api.h"
#include "cashier/cashier.h"
#include "core/log.h"
#include "core/time.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 100

void pb_api_admin_staff_list(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    int64_t cursor = 0, limit = PAGE_DEFAULT;
    if (!pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor) ||
        !pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit))
        return;
    pb_store_conn *c = pb_http_conn(req);
    size_t cap = (size_t)limit + 1;
    pb_staff *rows = calloc(cap, sizeof *rows);
    json_t *list = json_array();
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !rows || !list ? PB_ERR_INTERNAL : PB_OK;
    /* read batches in id order, keeping the visible ones, until a page and one more */
    size_t kept = 0;
    int64_t after = cursor, last = 0;
    bool more = false;
    while (e == PB_OK && !more) {
        size_t got = 0;
        e = pb_identity_staff_list(c, after, rows, cap, &got);
        for (size_t i = 0; e == PB_OK && i < got && !more; i++) {
            after = rows[i].id;
            if (!pb_admin_staff_visible(&p->scope, &rows[i]))
                continue;
            if (kept == (size_t)limit) {
                more = true;
                break;
            }
            json_t *j = pb_admin_staff_json(c, &rows[i]);
            if (!j || json_array_append_new(list, j) != 0)
                e = PB_ERR_INTERNAL;
            last = rows[i].id;
            kept++;
        }
        if (got < cap)
            break;
    }
    free(rows);
    if (e != PB_OK) {
        json_decref(list);
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:o}", "staff", list, "next_cursor",
                                 pb_admin_cursor_json(more ? last : 0)));
}

/* The member named by the path, if the caller sees them. */
static pb_err staff_in_scope(pb_store_conn *c, const pb_principal *p, const char *id, pb_staff *out)
{
    pb_err e = pb_identity_staff_get(c, id, out);
    if (e == PB_OK && !pb_admin_staff_visible(&p->scope, out))
        e = PB_ERR_STAFF_NOT_FOUND;
    return e;
}

void pb_api_admin_staff_get(pb_http_request *req, void *app)
{
    (void)app;
    pb_store_conn *c = pb_http_conn(req);
    pb_staff s;
    pb_err e = c ? PB_OK : PB_ERR_STORE_UNAVAILABLE;
    bool tx = e == PB_OK && pb_store_begin(c, PB_STORE_READ) == PB_STORE_OK; /* one snapshot */
    if (e == PB_OK && !tx)
        e = PB_ERR_STORE_UNAVAILABLE;
    if (e == PB_OK)
        e = staff_in_scope(c, pb_api_principal(req), pb_http_param(req, "id"), &s);
    pb_store_login_lock locks[PB_LOGIN_LOCKS_SHOWN];
    size_t nlocks = 0;
    if (e == PB_OK)
        e = pb_identity_login_locks(c, PB_SUBJECT_STAFF, s.id, pb_time_now_us(), locks, &nlocks);
    json_t *j = e == PB_OK ? pb_admin_staff_json(c, &s) : NULL;
    if (j && json_object_set_new(j, "address_locks", pb_admin_login_locks_json(locks, nlocks))) {
        json_decref(j);
        j = NULL;
    }
    if (tx)
        pb_store_rollback(c);
    if (e != PB_OK || !j) {
        pb_admin_fail(req, e != PB_OK ? e : PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200, json_pack("{s:o}", "staff", j));
}

/* The brand codes of a request body, checked against the caller's scope. */
typedef struct scope_req {
    const char *codes[PB_SCOPE_MAX_BRANDS];
    size_t n;
    bool has_list;
} scope_req;

/* Reads the brands array into sr and refuses what the caller may not grant
 * (replies and returns false). */
static bool scope_check(pb_http_request *req, pb_store_conn *c, const pb_principal *p,
                        json_t *brands, bool all_brands, scope_req *sr)
{
    sr->has_list = brands != NULL;
    for (size_t i = 0; brands && i < json_array_size(brands); i++) {
        json_t *v = json_array_get(brands, i);
        if (!json_is_string(v) || json_string_length(v) > PB_BRAND_CODE_MAX) {
            pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "brands",
                                    "brands: brand codes (strings)");
            return false;
        }
        sr->codes[sr->n++] = json_string_value(v);
    }
    if (p->scope.all)
        return true; /* identity reports unknown brands */
    if (all_brands) {
        pb_http_reply_error_msg(req, PB_ERR_BRAND_FORBIDDEN, "all_brands",
                                "only staff who see every brand grant every brand");
        return false;
    }
    pb_brand *b = malloc(sizeof *b);
    pb_err e = b ? PB_OK : PB_ERR_INTERNAL;
    for (size_t i = 0; e == PB_OK && i < sr->n; i++) {
        e = pb_tenancy_brand_by_code(c, sr->codes[i], b);
        if (e == PB_ERR_BRAND_NOT_FOUND || (e == PB_OK && !pb_brand_scope_allows(&p->scope, b->id)))
            e = PB_ERR_BRAND_FORBIDDEN; /* unknown and foreign brands look the same */
    }
    free(b);
    if (e != PB_OK) {
        pb_admin_fail(req, e, "brands");
        return false;
    }
    return true;
}

typedef struct staff_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const char *id;
    pb_staff_update u;
    pb_staff before, after;
    pb_staff_one_time *otp;     /* a TOTP reset's new one-time password (pb_http_alloc'd) */
    const char *reason;         /* the entry's reason (PATCH: required with reset_totp) */
    struct pb_cashier *cashier; /* PATCH: the member's withdrawal approvals judged again */
} staff_ctx;

/* A TOTP reset's one-time password, made and hashed outside any transaction
 * (replies and returns NULL on failure). */
static pb_staff_one_time *one_time_new(pb_http_request *req)
{
    pb_staff_one_time *o = pb_http_alloc(req, sizeof *o);
    pb_err e = o ? pb_identity_staff_one_time(o) : PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return NULL;
    }
    return o;
}

/* The answer to a change: {staff} and, after a TOTP reset, the one-time password
 * (once: wiped from memory here, whatever happens). */
static void reply_staff(pb_http_request *req, pb_store_conn *c, pb_err e, const char *bad,
                        staff_ctx *x)
{
    json_t *j = e == PB_OK ? pb_admin_staff_json(c, &x->after) : NULL;
    json_t *body = j ? json_pack("{s:o}", "staff", j) : NULL;
    if (body && x->otp &&
        json_object_set_new(body, "one_time_password", json_string(x->otp->password)) != 0) {
        json_decref(body);
        body = NULL;
    }
    if (x->otp)
        sodium_memzero(x->otp, sizeof *x->otp);
    if (e == PB_OK && !body) /* OOM: the reset stands, its password unknown: reset again */
        pb_log(PB_LOG_ERROR, "admin.staff", "staff %s changed, its answer not made (trace %s)",
               x->after.public_id, pb_http_trace_id(req));
    if (e != PB_OK || !body) {
        pb_admin_fail(req, e != PB_OK ? e : PB_ERR_INTERNAL, bad);
        return;
    }
    pb_http_reply_json(req, 200, body);
}

/* The FORBIDDEN of a TOTP reset (pb_staff_update.by_role: an administrator's is
 * reset only by an administrator), the same on both paths; the unused one-time
 * password is wiped. */
static void reply_admin_reset_forbidden(pb_http_request *req, staff_ctx *x)
{
    if (x->otp)
        sodium_memzero(x->otp, sizeof *x->otp);
    pb_http_reply_error_msg(req, PB_ERR_FORBIDDEN, NULL,
                            "an administrator's TOTP is reset only by another administrator");
}

/* Appends staff.<verb> for the member after (and before, when given). */
static pb_err staff_audit(pb_store_conn *c, staff_ctx *x, const char *action, bool with_before,
                          int64_t now)
{
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, action, &en);
    en.target_kind = "staff";
    en.target_id = x->after.public_id;
    en.before = with_before ? pb_admin_json_text(x->req, pb_admin_staff_json(c, &x->before)) : NULL;
    en.after = pb_admin_json_text(x->req, pb_admin_staff_json(c, &x->after));
    en.reason = x->reason;
    if ((with_before && !en.before) || !en.after)
        return PB_ERR_INTERNAL;
    return pb_audit_append(c, &en, now);
}

/* staff.create, in the transaction that creates the member (pb_staff_create.in_tx). */
static pb_err create_audited(pb_store_conn *c, const pb_staff *created, void *ctx)
{
    staff_ctx *x = ctx;
    x->after = *created;
    return staff_audit(c, x, "staff.create", false, pb_time_now_us());
}

void pb_api_admin_staff_create(pb_http_request *req, void *app)
{
    (void)app;
    const char *email = NULL, *role_name = NULL;
    bool all = false;
    json_t *brands = NULL;
    pb_json_field f[] = {
        {.name = "email",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_EMAIL_MAX,
         .str = &email},
        {.name = "role",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_ROLE_NAME_MAX,
         .str = &role_name},
        {.name = "all_brands", .type = PB_JSON_BOOL, .b = &all},
        {.name = "brands",
         .type = PB_JSON_ARRAY,
         .min_len = 1,
         .max_len = PB_SCOPE_MAX_BRANDS,
         .json = &brands},
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]))
        return;
    pb_role role;
    if (pb_role_parse(role_name, &role) != PB_OK) {
        pb_admin_fail(req, PB_ERR_ROLE_INVALID, "role");
        return;
    }
    staff_ctx *x = pb_http_alloc(req, sizeof *x);
    scope_req sr = {0};
    pb_store_conn *c = pb_http_conn(req);
    if (!x || !c) {
        pb_admin_fail(req, !c ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL, NULL);
        return;
    }
    x->req = req;
    x->p = pb_api_principal(req);
    if (!scope_check(req, c, x->p, brands, all, &sr))
        return;
    /* the member and the staff.create entry in one transaction: neither without the other */
    pb_staff_create cr = {.email = email,
                          .role = role,
                          .all_brands = all,
                          .brand_codes = sr.codes,
                          .nbrands = sr.n,
                          .in_tx = create_audited,
                          .in_tx_ctx = x};
    char otp[PB_ONE_TIME_PASSWORD_MAX];
    const char *bad = NULL;
    pb_err e = pb_identity_staff_create(c, &cr, pb_time_now_us(), &x->after, otp, &bad);
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    json_t *j = pb_admin_staff_json(c, &x->after);
    json_t *body = j ? json_pack("{s:o,s:s}", "staff", j, "one_time_password", otp) : NULL;
    sodium_memzero(otp, sizeof otp);
    if (!body) { /* OOM: the password stays unknown, the account unusable until reset */
        pb_log(PB_LOG_ERROR, "admin.staff", "staff %s created, its answer not made (trace %s)",
               x->after.public_id, pb_http_trace_id(req));
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    char location[64 + PB_ID_STR_LEN];
    snprintf(location, sizeof location, "/v1/admin/staff/%s", x->after.public_id);
    pb_http_add_header(req, "Location", location);
    pb_http_reply_json(req, 201, body);
}

static pb_err update_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    staff_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    pb_err e = staff_in_scope(c, x->p, x->id, &x->before);
    if (e == PB_OK)
        e = pb_identity_staff_update(c, x->id, &x->u, now, &x->after, bad);
    if (e == PB_OK)
        e = staff_audit(c, x, "staff.update", true, now);
    /* a member disabled, given another role or another scope may no longer vouch for
     * the withdrawals they approved: those approvals lapse now, in this transaction
     * (cashier/approvals.c), not at the cashier's next look — a member disabled and
     * enabled again before then would otherwise come back with them still counting */
    size_t lapsed = 0;
    if (e == PB_OK && (x->u.active || x->u.role || x->u.all_brands || x->u.brand_codes))
        e = pb_cashier_staff_approvals_judge(x->cashier, c, x->after.public_id, now,
                                             pb_http_trace_id(x->req), &lapsed);
    if (lapsed)
        pb_log(PB_LOG_INFO, "admin.staff",
               "staff %s changed: their approval of %zu withdrawal(s) lapsed (trace %s)",
               x->after.public_id, lapsed, pb_http_trace_id(x->req));
    return e;
}

void pb_api_admin_staff_update(pb_http_request *req, void *app)
{
    const char *role_name = NULL, *reason = NULL;
    bool all = false, active = false, reset = false, has_all = false, has_active = false;
    json_t *brands = NULL;
    pb_json_field f[] = {
        {.name = "role",
         .type = PB_JSON_STRING,
         .min_len = 1,
         .max_len = PB_ROLE_NAME_MAX,
         .str = &role_name},
        {.name = "all_brands", .type = PB_JSON_BOOL, .b = &all, .present = &has_all},
        {.name = "brands",
         .type = PB_JSON_ARRAY,
         .min_len = 1,
         .max_len = PB_SCOPE_MAX_BRANDS,
         .json = &brands},
        {.name = "active", .type = PB_JSON_BOOL, .b = &active, .present = &has_active},
        {.name = "reset_totp", .type = PB_JSON_BOOL, .b = &reset},
        {.name = "reason",
         .type = PB_JSON_STRING,
         .min_len = 1,
         .max_len = PB_REASON_MAX,
         .str = &reason},
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]))
        return;
    /* a TOTP reset is audited with its reason, as POST …/totp/reset is */
    if (reset && !reason) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_MISSING, "reason",
                                "reason: required with reset_totp");
        return;
    }
    if (reason && !pb_admin_reason_ok(req, pb_api_principal(req), "staff.update", reason))
        return;
    if (!role_name && !has_all && !brands && !has_active && !reset) {
        pb_http_reply_error_msg(req, PB_ERR_INVALID_REQUEST, NULL, "nothing to change");
        return;
    }
    staff_ctx *x = pb_http_alloc(req, sizeof *x);
    pb_role *role = pb_http_alloc(req, sizeof *role);
    scope_req *sr = pb_http_alloc(req, sizeof *sr);
    pb_store_conn *c = pb_http_conn(req);
    if (!x || !role || !sr || !c) {
        pb_admin_fail(req, !c ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL, NULL);
        return;
    }
    if (role_name && pb_role_parse(role_name, role) != PB_OK) {
        pb_admin_fail(req, PB_ERR_ROLE_INVALID, "role");
        return;
    }
    x->req = req;
    x->p = pb_api_principal(req);
    x->id = pb_http_param(req, "id");
    x->reason = reason;
    x->cashier = ((pb_api_app *)app)->cashier;
    if (x->id && strcmp(x->id, x->p->subject_public_id) == 0) {
        pb_http_reply_error_msg(req, PB_ERR_FORBIDDEN, NULL,
                                "staff cannot change their own role, scope or status");
        return;
    }
    if (!scope_check(req, c, x->p, brands, has_all && all, sr))
        return;
    if (reset && !(x->otp = one_time_new(req)))
        return;
    x->u = (pb_staff_update){.role = role_name ? role : NULL,
                             .all_brands = has_all ? &all : NULL,
                             .brand_codes = sr->has_list ? sr->codes : NULL,
                             .nbrands = sr->n,
                             .active = has_active ? &active : NULL,
                             .reset_totp = reset,
                             .reset_password = x->otp,
                             .by_role = &x->p->role};
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, update_tx, x, &bad);
    if (reset && e == PB_ERR_FORBIDDEN) {
        reply_admin_reset_forbidden(req, x);
        return;
    }
    reply_staff(req, c, e, bad, x);
}

typedef struct totp_ctx {
    staff_ctx x;
    const char *reason;
} totp_ctx;

/* The member in scope, not an admin unless the caller is one; the reset; the entry. */
static pb_err totp_reset_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    totp_ctx *t = ctx;
    staff_ctx *x = &t->x;
    int64_t now = pb_time_now_us();
    pb_err e = staff_in_scope(c, x->p, x->id, &x->before);
    if (e != PB_OK)
        return e;
    /* pb_identity_staff_update refuses a non-admin's reset of an admin (FORBIDDEN) */
    x->u = (pb_staff_update){.reset_totp = true, .reset_password = x->otp, .by_role = &x->p->role};
    e = pb_identity_staff_update(c, x->id, &x->u, now, &x->after, bad);
    if (e != PB_OK)
        return e;
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "staff.totp_reset", &en);
    en.target_kind = "staff";
    en.target_id = x->after.public_id;
    en.before = pb_admin_json_text(x->req, pb_admin_staff_json(c, &x->before));
    en.after = pb_admin_json_text(x->req, pb_admin_staff_json(c, &x->after));
    en.reason = t->reason;
    if (!en.before || !en.after)
        return PB_ERR_INTERNAL;
    return pb_audit_append(c, &en, now);
}

void pb_api_admin_staff_totp_reset(pb_http_request *req, void *app)
{
    (void)app;
    totp_ctx *t = pb_http_alloc(req, sizeof *t);
    pb_store_conn *c = pb_http_conn(req);
    if (!t || !c) {
        pb_admin_fail(req, !c ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL, NULL);
        return;
    }
    memset(t, 0, sizeof *t);
    t->x.req = req;
    t->x.p = pb_api_principal(req);
    t->x.id = pb_http_param(req, "id");
    if (!pb_admin_parse_reason(req, t->x.p, "staff.totp_reset", PB_REASON_MAX, &t->reason))
        return;
    if (t->x.id && strcmp(t->x.id, t->x.p->subject_public_id) == 0) {
        pb_http_reply_error_msg(req, PB_ERR_FORBIDDEN, NULL,
                                "staff cannot reset their own TOTP: another administrator does");
        return;
    }
    if (!(t->x.otp = one_time_new(req)))
        return;
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, totp_reset_tx, t, &bad);
    if (e == PB_ERR_FORBIDDEN) {
        reply_admin_reset_forbidden(req, &t->x);
        return;
    }
    reply_staff(req, c, e, bad, &t->x);
}

typedef struct unlock_ctx {
    staff_ctx x;
    pb_login_unlock u;
} unlock_ctx;

/* The member in scope; their locks cleared; the entry. */
static pb_err unlock_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    unlock_ctx *t = ctx;
    staff_ctx *x = &t->x;
    int64_t now = pb_time_now_us();
    pb_err e = staff_in_scope(c, x->p, x->id, &x->before);
    if (e == PB_OK)
        e = pb_identity_login_unlock(c, PB_SUBJECT_STAFF, x->before.id, now, &t->u);
    if (e != PB_OK)
        return e;
    return pb_admin_unlock_audit(c, x->req, x->p, "staff.login_unlock", NULL, "staff",
                                 x->before.public_id, x->reason, &t->u, now);
}

/* POST /v1/admin/staff/{id}/unlock: {reason}; a member's login locks end now (the
 * account's, every address's; the escalation starts over). Not one's own: whoever
 * holds a member's session must not be able to lift the lock that stops guesses
 * at their second factor. Audited as staff.login_unlock with what was in force. */
void pb_api_admin_staff_unlock(pb_http_request *req, void *app)
{
    (void)app;
    unlock_ctx *t = pb_http_alloc(req, sizeof *t);
    if (!t) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    memset(t, 0, sizeof *t);
    t->x.req = req;
    t->x.p = pb_api_principal(req);
    t->x.id = pb_http_param(req, "id");
    if (!pb_admin_parse_reason(req, t->x.p, "staff.login_unlock", PB_REASON_MAX, &t->x.reason))
        return;
    if (t->x.id && strcmp(t->x.id, t->x.p->subject_public_id) == 0) {
        pb_http_reply_error_msg(
            req, PB_ERR_FORBIDDEN, NULL,
            "staff cannot clear their own login lock: another administrator does");
        return;
    }
    pb_admin_unlock_run(req, unlock_tx, t, "staff", t->x.before.public_id, &t->u);
}
