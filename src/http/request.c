/*
 * request.c — the request context: accessors, replies, suspension, and the
 * resources a request owns.
 *
 * Ownership: a request is reference-counted. MHD holds one reference from the
 * request line until its completion callback; a suspension holds another until
 * the handler's reply arrives. Whoever drops the last reference frees the
 * request and everything attached to it (body, parsed JSON, pb_http_alloc()
 * blocks, principal, store connection, response headers) — in one place,
 * pb_http_req_unref().
 *
 * A reply never touches the socket: it builds the MHD response and parks it in
 * the request; the worker thread that runs the connection queues it (at once
 * when the handler replied synchronously, or when MHD calls the access handler
 * again after a resumed suspension). So replies may come from any thread.
 * pb_http_reply_later() leaves the building itself to that worker: the thread
 * that learnt the outcome only resumes the connection.
 */
#include "http/http_internal.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/time.h"

pb_http_request *pb_http_req_new(pb_http_server *srv, struct MHD_Connection *conn, const char *uri)
{
    /* malloc, then zeroed, not calloc: glibc's calloc never takes a chunk from
     * the thread's cache, and one of about a KiB (a large-bin chunk) first
     * consolidates the fast bins, at every request. explicit_bzero because gcc
     * turns malloc followed by memset(0) back into calloc. */
    pb_http_request *req = malloc(sizeof *req);
    if (!req)
        return NULL;
    explicit_bzero(req, sizeof *req);
    req->uri = strdup(uri ? uri : "");
    if (!req->uri) {
        free(req);
        return NULL;
    }
    char *q = strchr(req->uri, '?');
    if (q) {
        *q = '\0';
        req->query = q + 1;
    }
    char *frag = strchr(req->uri, '#');
    if (frag)
        *frag = '\0';
    req->path = req->uri;
    req->srv = srv;
    req->conn = conn;
    req->start_us = pb_time_mono_us();
    atomic_init(&req->refs, 1);
    pthread_mutex_init(&req->mu, NULL);
    req->match_rc = PB_ERR_NOT_FOUND;
    atomic_fetch_add(&srv->live, 1);
    atomic_fetch_add(&srv->open, 1);
    pb_http_metrics_inflight(srv->metrics, 1);
    return req;
}

void pb_http_req_release_conn(pb_http_request *req)
{
    if (req->store_conn) {
        pb_store_pool_release(req->srv->pool, req->store_conn);
        req->store_conn = NULL;
    }
}

void pb_http_req_unref(pb_http_request *req)
{
    if (atomic_fetch_sub(&req->refs, 1) != 1)
        return;
    pb_http_server *srv = req->srv;
    pb_http_req_release_conn(req);
    if (req->principal && req->principal_free)
        req->principal_free(req->principal);
    json_decref(req->json_docs);
    for (pb_http_block *b = req->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    for (pb_http_header_kv *h = req->headers, *next; h; h = next) {
        next = h->next;
        free(h->name);
        free(h->value);
        free(h);
    }
    if (req->response)
        MHD_destroy_response(req->response);
    free(req->body);
    free(req->method);
    free(req->uri);
    pthread_mutex_destroy(&req->mu);
    free(req);
    pb_http_metrics_inflight(srv->metrics, -1);
    atomic_fetch_sub(&srv->live, 1);
}

void *pb_http_alloc(pb_http_request *req, size_t size)
{
    if (size > SIZE_MAX - sizeof(pb_http_block))
        return NULL;
    pb_http_block *b = malloc(sizeof *b + size); /* not calloc: see pb_http_req_new */
    if (!b)
        return NULL;
    explicit_bzero(b, sizeof *b + size);
    pthread_mutex_lock(&req->mu);
    b->next = req->blocks;
    req->blocks = b;
    pthread_mutex_unlock(&req->mu);
    return b->data;
}

/* The value of a hex digit (either case), or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into request memory; NULL if an escape is malformed
 * or the result holds a NUL byte or invalid UTF-8. */
static char *pct_decode(pb_http_request *req, const char *s, size_t n, bool plus_is_space)
{
    char *out = pb_http_alloc(req, n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (n - i < 3)
                return NULL;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (char)(hi << 4 | lo);
            if (c == '\0')
                return NULL;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return pb_utf8_valid(out, o) ? out : NULL;
}

/* Appends one X-Forwarded-For value to the list being joined (cls: a pb_http_buf). */
static enum MHD_Result join_xff(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    pb_http_buf *b = cls;
    if (key && value && strcasecmp(key, "X-Forwarded-For") == 0) {
        if (b->len)
            pb_http_buf_append(b, ",", 1);
        pb_http_buf_puts(b, value);
    }
    return MHD_YES;
}

/* Copies the TCP peer's address into req->peer_ip and the client's (proxy.c:
 * from X-Forwarded-For when the peer is a trusted proxy) into req->client_ip. */
static void read_client_ip(pb_http_request *req)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(req->peer_ip, sizeof req->peer_ip, "-");
    snprintf(req->client_ip, sizeof req->client_ip, "-");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, req->peer_ip,
                  sizeof req->peer_ip);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  req->peer_ip, sizeof req->peer_ip);
    snprintf(req->client_ip, sizeof req->client_ip, "%s", req->peer_ip);
    const pb_http_proxies *trusted = &req->srv->proxies;
    if (trusted->n == 0 || !pb_http_proxies_contain(trusted, req->peer_ip))
        return; /* the header of an untrusted peer is never read */
    pb_http_buf xff = {0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, join_xff, &xff);
    if (!xff.failed && xff.len) /* every value (a proxy may add its own header line) */
        pb_http_client_address(trusted, req->peer_ip, xff.data, req->client_ip,
                               sizeof req->client_ip);
    pb_http_buf_free(&xff);
}

/* Whether every name and value of the query string is valid percent-encoded
 * UTF-8 without a NUL: pb_http_query answers NULL for a parameter it cannot
 * decode, which a handler would take for an absent one (an optional cursor, a
 * filter) and answer as if it had not been sent; such a request is refused
 * before any handler instead (bad_query). Empty parts ("a=1&&b=2") are fine. */
static bool query_valid(pb_http_request *req)
{
    for (const char *p = req->query; p && *p;) {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq ? eq : end;
        if (!pct_decode(req, p, (size_t)(kend - p), true) ||
            (eq && !pct_decode(req, eq + 1, (size_t)(end - eq - 1), true)))
            return false;
        p = amp ? amp + 1 : end;
    }
    return true;
}

void pb_http_req_begin(pb_http_request *req, const char *method)
{
    pb_http_server *srv = req->srv;
    req->method = strdup(method ? method : "");
    req->method_idx = pb_http_method_index(req->method);
    read_client_ip(req);

    char parent[PB_SPAN_ID_LEN + 1];
    if (!pb_trace_parse(pb_http_header(req, "traceparent"), req->trace_id, parent,
                        &req->trace_flags)) {
        pb_trace_new_trace_id(req->trace_id);
        req->trace_flags = 0x01;
    }
    pb_trace_new_span_id(req->span_id);
    const char *rid = pb_http_header(req, "X-Request-Id");
    if (pb_request_id_valid(rid)) {
        snprintf(req->request_id, sizeof req->request_id, "%s", rid);
    } else {
        pb_id id;
        pb_id_new(&id);
        pb_id_to_string(&id, req->request_id);
    }

    req->match_rc = pb_http_route_find_indexed(srv->route_index, req->method ? req->method : "",
                                               req->path, &req->match);
    if (req->match_rc != PB_OK)
        return;
    for (size_t i = 0; i < req->match.nparams; i++) {
        req->params[i] = pct_decode(req, req->match.params[i].value, req->match.params[i].value_len,
                                    false);
        if (!req->params[i])
            req->bad_path = true;
    }
    req->bad_query = !query_valid(req);
}

/* ---- accessors ---- */

const char *pb_http_method(const pb_http_request *req) { return req->method ? req->method : ""; }
const char *pb_http_path(const pb_http_request *req) { return req->path; }
const pb_route *pb_http_route(const pb_http_request *req) { return req->match.route; }
const char *pb_http_client_ip(const pb_http_request *req) { return req->client_ip; }
const char *pb_http_request_id(const pb_http_request *req) { return req->request_id; }
const char *pb_http_trace_id(const pb_http_request *req) { return req->trace_id; }
const char *pb_http_span_id(const pb_http_request *req) { return req->span_id; }
void *pb_http_principal(const pb_http_request *req) { return req->principal; }

const char *pb_http_param(const pb_http_request *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->match.nparams; i++)
        if (req->match.params[i].name_len == n && memcmp(req->match.params[i].name, name, n) == 0)
            return req->params[i];
    return NULL;
}

const char *pb_http_query(pb_http_request *req, const char *name)
{
    size_t want = strlen(name);
    for (const char *p = req->query; p && *p;) {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq ? eq : end;
        /* compare the decoded key only when it could match */
        if ((size_t)(kend - p) >= want) {
            const char *key = pct_decode(req, p, (size_t)(kend - p), true);
            if (key && strcmp(key, name) == 0)
                return eq ? pct_decode(req, eq + 1, (size_t)(end - eq - 1), true) : "";
        }
        p = amp ? amp + 1 : end;
    }
    return NULL;
}

const char *pb_http_header(const pb_http_request *req, const char *name)
{
    return req->conn ? MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name) : NULL;
}

const char *pb_http_body(const pb_http_request *req, size_t *len)
{
    if (len)
        *len = req->body_len;
    return req->body ? req->body : "";
}

void pb_http_set_principal(pb_http_request *req, void *principal, void (*free_fn)(void *))
{
    if (req->principal && req->principal_free && req->principal != principal)
        req->principal_free(req->principal);
    req->principal = principal;
    req->principal_free = free_fn;
}

pb_store_conn *pb_http_conn(pb_http_request *req)
{
    if (!req->store_conn && req->srv->pool)
        req->store_conn = pb_store_pool_acquire(req->srv->pool);
    return req->store_conn;
}

bool pb_http_parse_json(pb_http_request *req, const pb_json_field *fields, size_t n)
{
    const char *ct = pb_http_header(req, "Content-Type");
    pb_json_error e;
    json_t *root = NULL;
    pb_err rc = pb_json_parse(pb_http_body(req, NULL), req->body_len, ct ? ct : "", fields, n,
                              &root, &e);
    if (rc != PB_OK) {
        pb_http_reply_error_msg(req, rc, e.field, e.message);
        return false;
    }
    /* every document parsed for this request lives until the request is freed */
    if (!req->json_docs && !(req->json_docs = json_array())) {
        json_decref(root);
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return false;
    }
    if (json_array_append_new(req->json_docs, root) != 0) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return false;
    }
    return true;
}

/* ---- replies ---- */

void pb_http_add_retry_after(pb_http_request *req, int64_t wait_us)
{
    long long secs = wait_us > 0 ? (wait_us + 999999) / 1000000 : 1;
    char v[24];
    snprintf(v, sizeof v, "%lld", secs > 0 ? secs : 1);
    pb_http_add_header(req, "Retry-After", v);
}

void pb_http_add_header(pb_http_request *req, const char *name, const char *value)
{
    pb_http_header_kv *h = calloc(1, sizeof *h);
    if (!h)
        return;
    h->name = strdup(name);
    h->value = strdup(value);
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        free(h);
        return;
    }
    h->next = req->headers;
    req->headers = h;
}

/* Builds a response over data (malloc'd, owned; may be NULL when len is 0)
 * with the headers every response carries. NULL on OOM. */
static struct MHD_Response *build(pb_http_request *req, const char *ctype, char *data, size_t len)
{
    struct MHD_Response *r = len ? MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE)
                                 : MHD_create_response_from_buffer(0, (void *)"",
                                                                   MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(data);
        return NULL;
    }
    if (!len)
        free(data);
    pb_http_req_decorate(req, r, ctype);
    return r;
}

void pb_http_req_decorate(pb_http_request *req, struct MHD_Response *r, const char *ctype)
{
    char tp[56];
    pb_trace_format(req->trace_id, req->span_id, req->trace_flags, tp);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, "X-Request-Id", req->request_id);
    MHD_add_response_header(r, "traceparent", tp);
    bool own_cache = false; /* a handler's Cache-Control (the UI's files) replaces no-store */
    for (pb_http_header_kv *h = req->headers; h; h = h->next)
        own_cache = own_cache || strcasecmp(h->name, MHD_HTTP_HEADER_CACHE_CONTROL) == 0;
    if (!own_cache)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    for (pb_http_header_kv *h = req->headers; h; h = h->next)
        MHD_add_response_header(r, h->name, h->value);
    if (atomic_load(&req->srv->draining))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* A last-resort 500 that needs no allocation beyond MHD's own. */
static struct MHD_Response *build_oom(pb_http_request *req)
{
    static const char body[] = "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"out of memory\"}}";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    if (r) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        MHD_add_response_header(r, "X-Request-Id", req->request_id);
    }
    return r;
}

/* A 401 without a WWW-Authenticate of its handler's gets the server's challenge
 * for its error code (RFC 9110 §15.5.2: every 401 carries one). */
static void challenge_401(pb_http_request *req, struct MHD_Response *resp)
{
    for (pb_http_header_kv *h = req->headers; h; h = h->next)
        if (strcasecmp(h->name, MHD_HTTP_HEADER_WWW_AUTHENTICATE) == 0)
            return; /* the handler's or the authorizer's own, already on the response */
    const pb_http_server *srv = req->srv;
    pb_err code = req->error_code != PB_OK ? req->error_code : PB_ERR_UNAUTHENTICATED;
    const char *v = srv && srv->challenge ? srv->challenge(srv->challenge_ctx, code) : NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, v ? v : "Bearer");
}

/* Hands a built response to the request (see the file comment). */
static void deliver(pb_http_request *req, int status, struct MHD_Response *resp, size_t bytes)
{
    if (!resp) {
        resp = build_oom(req);
        status = 500;
    }
    if (status == 401 && resp)
        challenge_401(req, resp);
    pb_http_req_release_conn(req);
    pthread_mutex_lock(&req->mu);
    if (req->replied) {
        bool late = req->forced && req->suspended && !req->late_done;
        if (late)
            req->late_done = true;
        pthread_mutex_unlock(&req->mu);
        if (resp)
            MHD_destroy_response(resp);
        if (late)
            pb_http_req_unref(req); /* the suspension's reference */
        else
            pb_log(PB_LOG_ERROR, "http.double_reply", "a second reply to %s %s (trace %s)",
                   pb_http_method(req), req->path, req->trace_id);
        return;
    }
    req->replied = true;
    req->response = resp;
    req->status = status;
    req->resp_bytes = bytes;
    bool suspended = req->suspended, resume = suspended && !req->sync_wait;
    pthread_mutex_unlock(&req->mu);
    if (resume)
        pb_http_server_resume(req);
    if (suspended)
        pb_http_req_unref(req);
}

void pb_http_req_deliver(pb_http_request *req, int status, struct MHD_Response *resp)
{
    deliver(req, status, resp, 0);
}

/* Replies with malloc'd data of len bytes (owned). */
static void reply_owned(pb_http_request *req, int status, const char *ctype, char *data, size_t len)
{
    deliver(req, status, build(req, ctype, data, len), len);
}

void pb_http_reply_json(pb_http_request *req, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!s) {
        pb_log(PB_LOG_ERROR, "http.reply_json", "cannot encode the reply to %s (trace %s)",
               req->path, req->trace_id);
        deliver(req, 500, NULL, 0);
        return;
    }
    reply_owned(req, status, "application/json", s, strlen(s));
}

void pb_http_reply_error_msg(pb_http_request *req, pb_err code, const char *field,
                             const char *message)
{
    json_t *e = json_object();
    json_object_set_new(e, "code", json_string(pb_err_code(code)));
    json_t *msg = message ? json_string(message) : NULL;
    json_object_set_new(e, "message", msg ? msg : json_string(pb_err_message(code)));
    if (field)
        json_object_set_new(e, "field", json_string(field));
    json_object_set_new(e, "trace_id", json_string(req->trace_id));
    req->error_code = code;
    pb_http_reply_json(req, pb_err_http_status(code), json_pack("{s:o}", "error", e));
}

void pb_http_reply_error(pb_http_request *req, pb_err code, const char *field)
{
    pb_http_reply_error_msg(req, code, field, NULL);
}

void pb_http_reply_text(pb_http_request *req, int status, const char *content_type,
                        const char *text, size_t len)
{
    char *copy = len ? malloc(len) : NULL;
    if (len && !copy) {
        deliver(req, 500, NULL, 0);
        return;
    }
    if (len)
        memcpy(copy, text, len);
    reply_owned(req, status, content_type, copy, len);
}

void pb_http_reply_buf(pb_http_request *req, int status, const char *content_type, pb_http_buf *b)
{
    if (b->failed) {
        pb_http_buf_free(b);
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    char *data = b->data;
    size_t len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    reply_owned(req, status, content_type, data, len);
}

struct MHD_Response *pb_http_req_take_response(pb_http_request *req, int *status)
{
    pthread_mutex_lock(&req->mu);
    struct MHD_Response *r = req->response;
    req->response = NULL;
    *status = req->status;
    pthread_mutex_unlock(&req->mu);
    return r;
}

bool pb_http_req_force(pb_http_request *req)
{
    pthread_mutex_lock(&req->mu);
    bool replied = req->replied;
    pthread_mutex_unlock(&req->mu);
    if (replied)
        return false;
    static const char fmt[] = "{\"error\":{\"code\":\"SHUTTING_DOWN\",\"message\":\"%s\","
                              "\"trace_id\":\"%s\"}}";
    char *body = NULL;
    int len = asprintf(&body, fmt, pb_err_message(PB_ERR_SHUTTING_DOWN), req->trace_id);
    struct MHD_Response *r = len > 0 ? build(req, "application/json", body, (size_t)len) : NULL;
    if (!r)
        r = build_oom(req);
    pthread_mutex_lock(&req->mu);
    if (req->replied) { /* the real reply won the race */
        pthread_mutex_unlock(&req->mu);
        if (r)
            MHD_destroy_response(r);
        return false;
    }
    req->replied = req->forced = true;
    req->response = r;
    req->status = pb_err_http_status(PB_ERR_SHUTTING_DOWN);
    req->resp_bytes = len > 0 ? (size_t)len : 0;
    pthread_mutex_unlock(&req->mu);
    return true;
}

void pb_http_reply_later(pb_http_request *req, void (*builder)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&req->mu);
    if (req->replied || !req->suspended || req->sync_wait) {
        pthread_mutex_unlock(&req->mu);
        builder(ctx); /* here and now: its reply goes the usual way */
        return;
    }
    /* claimed as replied: the shutdown's sweep leaves the request alone */
    req->replied = true;
    req->later_fn = builder;
    req->later_ctx = ctx;
    pthread_mutex_unlock(&req->mu);
    pb_http_server_resume(req);
    pb_http_req_unref(req); /* the suspension's reference: MHD's keeps the request */
}

bool pb_http_req_run_later(pb_http_request *req)
{
    pthread_mutex_lock(&req->mu);
    void (*fn)(void *) = req->later_fn;
    void *ctx = req->later_ctx;
    if (fn) { /* the builder's reply is the real one: a plain, unsuspended reply */
        req->later_fn = NULL;
        req->later_ctx = NULL;
        req->replied = false;
        req->suspended = false;
    }
    pthread_mutex_unlock(&req->mu);
    if (fn)
        fn(ctx);
    return fn != NULL;
}

void pb_http_suspend(pb_http_request *req)
{
    pb_http_req_release_conn(req);
    if (!pb_http_server_suspend(req->srv, req))
        pb_log(PB_LOG_ERROR, "http.bad_suspend", "suspend after a reply or twice: %s %s",
               pb_http_method(req), req->path);
}
