/*
 * admin_common.c — the helpers the staff API files share (admin.h): the
 * audited write transaction with its bounded retry, audit entries for a
 * request, query-parameter parsing that names the bad parameter, and the JSON
 * views several resources use — among them staff members' e-mails for answers
 * that name staff by id (withdrawals, adjustment and settlement requests), read
 * once per answer through a small cache.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/admin.h"
#include "core/log.h"
#include "core/time.h"

/* Sleeps a little longer after each busy attempt (1, 2, 4, 8 ms …). */
static void backoff(int attempt)
{
    struct timespec ts = {0, (long)(1000000L << (attempt < 6 ? attempt : 6))};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

pb_err pb_admin_write(pb_http_request *req, pb_admin_tx_fn fn, void *ctx, const char **bad_field)
{
    const char *bad_sink;
    if (!bad_field)
        bad_field = &bad_sink;
    pb_store_conn *c = pb_http_conn(req);
    if (!c)
        return PB_ERR_STORE_UNAVAILABLE;
    pb_err e = PB_ERR_STORE_UNAVAILABLE;
    for (int attempt = 0; attempt < PB_ADMIN_TX_ATTEMPTS; attempt++) {
        if (attempt > 0)
            backoff(attempt - 1);
        *bad_field = NULL;
        pb_store_rc rc = pb_store_begin(c, PB_STORE_WRITE);
        if (rc == PB_STORE_BUSY) {
            e = PB_ERR_STORE_UNAVAILABLE;
            continue;
        }
        if (rc != PB_STORE_OK) {
            pb_log(PB_LOG_ERROR, "admin.tx", "begin failed: %s (trace %s)", pb_store_errmsg(c),
                   pb_http_trace_id(req));
            return PB_ERR_INTERNAL;
        }
        /* the caller was authorized on an earlier snapshot: a disable, role change or
         * logout committed since then (e.g. an admin disabling this one) refuses it */
        const pb_principal *p = pb_api_principal(req);
        e = p ? pb_identity_principal_check(c, p, pb_time_now_us()) : PB_OK;
        if (e == PB_OK)
            e = fn(c, ctx, bad_field);
        if (e != PB_OK) {
            pb_store_rollback(c);
            if (e == PB_ERR_STORE_UNAVAILABLE)
                continue; /* a busy statement: the whole transaction again */
            return e;
        }
        rc = pb_store_commit(c);
        if (rc == PB_STORE_OK)
            return PB_OK;
        pb_store_rollback(c);
        if (rc != PB_STORE_BUSY) {
            pb_log(PB_LOG_ERROR, "admin.tx", "commit failed: %s (trace %s)", pb_store_errmsg(c),
                   pb_http_trace_id(req));
            return PB_ERR_INTERNAL;
        }
        e = PB_ERR_STORE_UNAVAILABLE;
    }
    pb_log(PB_LOG_WARN, "admin.tx", "database busy after %d attempts (trace %s)",
           PB_ADMIN_TX_ATTEMPTS, pb_http_trace_id(req));
    return e;
}

void pb_admin_entry(pb_http_request *req, const pb_principal *p, const char *action,
                    pb_audit_entry *e)
{
    memset(e, 0, sizeof *e);
    const char *ip = pb_http_client_ip(req);
    e->actor_kind = "staff";
    e->actor_id = p ? p->subject_public_id : "";
    e->role = p ? pb_role_name(p->role) : NULL;
    e->action = action;
    e->trace_id = pb_http_trace_id(req);
    e->ip = ip && strcmp(ip, "-") != 0 ? ip : NULL; /* "-": the address is unknown */
}

const char *pb_admin_json_text(pb_http_request *req, json_t *v)
{
    if (!v)
        return NULL;
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(v);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *copy = pb_http_alloc(req, n + 1);
    if (copy)
        memcpy(copy, s, n + 1);
    free(s);
    return copy;
}

void pb_admin_fail(pb_http_request *req, pb_err e, const char *field)
{
    if (e == PB_ERR_INTERNAL)
        field = NULL; /* never blame the caller for our failure */
    /* a session revoked after the authorizer ran (pb_admin_write) answers as the
     * authorizer would have: with the WWW-Authenticate challenge */
    pb_api_challenge(req, e);
    pb_http_reply_error(req, e, field);
}

pb_err pb_admin_brand_code(pb_store_conn *c, int64_t id, char out[PB_BRAND_CODE_MAX + 1])
{
    out[0] = '\0';
    pb_brand *b = malloc(sizeof *b); /* a brand row is large for a stack */
    if (!b)
        return PB_ERR_INTERNAL;
    pb_err e = pb_tenancy_brand_get(c, id, b);
    if (e == PB_OK)
        snprintf(out, PB_BRAND_CODE_MAX + 1, "%s", b->code);
    free(b);
    return e;
}

pb_err pb_admin_brand_in_scope(pb_store_conn *c, const pb_principal *p, const char *code,
                               pb_brand *out)
{
    pb_err e = code ? pb_tenancy_brand_by_code(c, code, out) : PB_ERR_BRAND_NOT_FOUND;
    if (e == PB_ERR_BRAND_NOT_FOUND || (e == PB_OK && !pb_brand_scope_allows(&p->scope, out->id)))
        e = PB_ERR_BRAND_FORBIDDEN;
    return e;
}

bool pb_admin_key_ok(pb_http_request *req, const char *key)
{
    for (const char *k = key; *k; k++)
        if ((unsigned char)*k < 0x21 || (unsigned char)*k > 0x7e) {
            pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "idempotency_key",
                                    "idempotency_key: 1..100 printable ASCII characters");
            return false;
        }
    return true;
}

bool pb_admin_reason_ok(pb_http_request *req, const pb_principal *p, const char *action,
                        const char *reason)
{
    pb_audit_entry probe;
    pb_admin_entry(req, p, action, &probe);
    probe.reason = reason;
    const char *bad = NULL;
    if (pb_audit_validate(&probe, &bad) == PB_OK && strspn(reason, " \t\r\n") != strlen(reason))
        return true;
    pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "reason",
                            "reason: text without control characters, not only spaces");
    return false;
}

bool pb_admin_parse_reason(pb_http_request *req, const pb_principal *p, const char *action,
                           size_t max_len, const char **reason)
{
    pb_json_field f[] = {{.name = "reason",
                          .type = PB_JSON_STRING,
                          .required = true,
                          .min_len = 1,
                          .max_len = max_len,
                          .str = reason}};
    return pb_http_parse_json(req, f, 1) && pb_admin_reason_ok(req, p, action, *reason);
}

bool pb_admin_parse_empty(pb_http_request *req)
{
    size_t len = 0;
    pb_http_body(req, &len);
    return len == 0 || pb_http_parse_json(req, NULL, 0);
}

bool pb_admin_list_begin(pb_http_request *req, const pb_principal **p, pb_store_conn **c)
{
    *p = pb_api_principal(req);
    *c = pb_http_conn(req);
    if (!pb_admin_parse_empty(req))
        return false;
    if (!*c || !*p) {
        pb_http_reply_error(req, *c ? PB_ERR_UNAUTHENTICATED : PB_ERR_STORE_UNAVAILABLE, NULL);
        return false;
    }
    return true;
}

/* Replies 422 FIELD_INVALID naming a query parameter. */
static bool bad_param(pb_http_request *req, const char *name, const char *why)
{
    char msg[160];
    snprintf(msg, sizeof msg, "query parameter %s %s", name, why);
    pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, name, msg);
    return false;
}

bool pb_admin_query_int(pb_http_request *req, const char *name, int64_t min, int64_t max,
                        int64_t *out)
{
    const char *v = pb_http_query(req, name);
    if (!v)
        return true;
    size_t n = strlen(v);
    if (n == 0 || n > 19 || strspn(v, "0123456789") != n)
        return bad_param(req, name, "must be a whole number");
    errno = 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < min || x > max) {
        char why[96];
        snprintf(why, sizeof why, "must be from %lld to %lld", (long long)min, (long long)max);
        return bad_param(req, name, why);
    }
    *out = x;
    return true;
}

bool pb_admin_query_time(pb_http_request *req, const char *name, int64_t *out)
{
    const char *v = pb_http_query(req, name);
    if (!v)
        return true;
    int64_t us;
    if (pb_time_parse(v, strlen(v), &us) != 0 || us <= 0)
        return bad_param(req, name, "must be an RFC 3339 date-time after 1970");
    *out = us;
    return true;
}

bool pb_admin_query_str(pb_http_request *req, const char *name, size_t max, const char **out)
{
    const char *v = pb_http_query(req, name);
    *out = NULL;
    if (!v)
        return true;
    size_t n = strlen(v);
    if (n == 0 || n > max) {
        char why[64];
        snprintf(why, sizeof why, "must be 1 to %zu bytes", max);
        return bad_param(req, name, why);
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return bad_param(req, name, "holds a control character");
    *out = v;
    return true;
}

bool pb_admin_query_range(pb_http_request *req, int64_t from, int64_t to, const char *to_name)
{
    if (from && to && from >= to)
        return bad_param(req, to_name, "must be later than the start of the range");
    return true;
}

json_t *pb_admin_time_json(int64_t us)
{
    char buf[PB_TIME_STR_MAX];
    if (us == 0 || pb_time_format(us, buf, sizeof buf) < 0)
        return json_null();
    return json_string(buf);
}

json_t *pb_admin_cursor_json(int64_t cursor)
{
    if (cursor == 0)
        return json_null();
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)cursor);
    return json_string(buf);
}

json_t *pb_admin_staff_json(pb_store_conn *c, const pb_staff *s)
{
    json_t *brands = json_array();
    pb_brand *b = malloc(sizeof *b);
    bool ok = brands && b;
    for (size_t i = 0; ok && !s->scope.all && i < s->scope.n; i++)
        ok = pb_tenancy_brand_get(c, s->scope.brand_ids[i], b) == PB_OK &&
             json_array_append_new(brands, json_string(b->code)) == 0;
    free(b);
    if (!ok) {
        json_decref(brands);
        return NULL;
    }
    return json_pack("{s:s,s:s,s:s,s:b,s:o,s:b,s:b,s:b,s:o,s:o,s:o,s:o}", "id", s->public_id,
                     "email", s->email, "role", pb_role_name(s->role), "all_brands", s->scope.all,
                     "brands", brands, "active", s->active, "must_change_password",
                     s->must_change_password, "totp_enrolled", s->totp_enrolled, "locked_until",
                     pb_admin_time_json(s->locked_until), "last_login_at",
                     pb_admin_time_json(s->last_login_at), "created_at",
                     pb_admin_time_json(s->created_at), "updated_at",
                     pb_admin_time_json(s->updated_at));
}

bool pb_admin_staff_visible(const pb_brand_scope *scope, const pb_staff *s)
{
    if (scope->all)
        return true;
    if (s->scope.all)
        return false;
    for (size_t i = 0; i < s->scope.n; i++)
        if (!pb_brand_scope_allows(scope, s->scope.brand_ids[i]))
            return false;
    return true;
}

pb_err pb_admin_scope_codes(pb_store_conn *c, const pb_brand_scope *scope,
                            char codes[][PB_BRAND_CODE_MAX + 1], size_t *n)
{
    *n = 0;
    pb_brand *b = malloc(sizeof *b);
    if (!b)
        return PB_ERR_INTERNAL;
    pb_err e = PB_OK;
    for (size_t i = 0; i < scope->n && i < PB_SCOPE_MAX_BRANDS; i++) {
        e = pb_tenancy_brand_get(c, scope->brand_ids[i], b);
        if (e == PB_ERR_BRAND_NOT_FOUND) { /* a scope row whose brand is gone: sees nothing there */
            e = PB_OK;
            continue;
        }
        if (e != PB_OK)
            break;
        snprintf(codes[*n], PB_BRAND_CODE_MAX + 1, "%s", b->code);
        (*n)++;
    }
    free(b);
    return e;
}

json_t *pb_admin_staff_email_json(pb_store_conn *c, pb_admin_emails *cache, const char *id)
{
    if (!id || !id[0])
        return json_null();
    for (size_t i = 0; i < cache->n; i++)
        if (strcmp(cache->e[i].id, id) == 0)
            return cache->e[i].email[0] ? json_string(cache->e[i].email) : json_null();
    pb_staff st;
    pb_err e = pb_identity_staff_get(c, id, &st);
    if (e != PB_OK && e != PB_ERR_STAFF_NOT_FOUND)
        return NULL;
    if (e != PB_OK)
        st.email[0] = '\0';
    if (cache->n < PB_ADMIN_EMAILS_CACHED) {
        snprintf(cache->e[cache->n].id, sizeof cache->e[0].id, "%s", id);
        snprintf(cache->e[cache->n].email, sizeof cache->e[0].email, "%s", st.email);
        cache->n++;
    }
    return st.email[0] ? json_string(st.email) : json_null();
}

json_t *pb_admin_request_emails(pb_store_conn *c, pb_admin_emails *cache, json_t *o,
                                const char *requested_by, const char *decided_by)
{
    if (!o)
        return NULL;
    json_t *req = pb_admin_staff_email_json(c, cache, requested_by);
    json_t *dec = req ? pb_admin_staff_email_json(c, cache, decided_by) : NULL;
    if (!dec) { /* a failed lookup: nothing set */
        json_decref(req);
        json_decref(o);
        return NULL;
    }
    /* json_object_set_new takes its value even when it fails */
    int rc = json_object_set_new(o, "requested_by_email", req);
    if (rc != 0)
        json_decref(dec);
    else
        rc = json_object_set_new(o, "decided_by_email", dec);
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}
