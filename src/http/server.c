/*
 * server.c — the libmicrohttpd daemon: configuration, the access handler that
 * drives each request through its phases, suspension bookkeeping and the
 * graceful shutdown.
 *
 * MHD runs a pool of worker threads, each with its own poll() loop. Not epoll:
 * with epoll, MHD_quiesce_daemon() (the shutdown's "stop accepting") races a
 * worker removing the same listen socket from its epoll set, and the loser of
 * that race aborts the process (MHD_PANIC "Failed to remove listen FD from epoll
 * set", libmicrohttpd 0.9.75; seen once in a CI run of the API suites). With
 * poll() the quiesce only signals the workers, which leave the listen socket out
 * of their next poll. A few dozen keep-alive connections per worker cost poll()
 * nothing measurable (wallet benchmark, alternating runs: 11,835 / 12,813 calls/s
 * with epoll, 12,902 / 11,898 with poll). For each request MHD calls, on the
 * connection's worker:
 *   on_uri        when the request line arrives → the request context is made;
 *   on_access     first with the headers (route, trace, early limits), then
 *                 with each piece of the body, then once more when the body is
 *                 complete (dispatch), and again after a resumed suspension
 *                 (queue the reply that was parked meanwhile);
 *   on_completed  when the response is sent or the connection dies → log
 *                 line, metrics, and MHD's reference on the request dropped.
 *
 * Shutdown (pb_http_server_shutdown): `draining` makes new requests answer 503
 * SHUTTING_DOWN; MHD_quiesce_daemon() stops accepting; the requests in flight
 * get up to drain_ms to finish. Then `stopping` is set under srv->mu — after
 * that no connection can be suspended (a handler that suspends makes its
 * worker wait for the reply instead) — the requests still suspended are
 * answered 503 and resumed, and MHD_stop_daemon() joins the workers. MHD
 * refuses to stop with a suspended connection, hence that order.
 */
#include "http/http_internal.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/time.h"

#define DEFAULT_THREADS 4
#define DEFAULT_MAX_BODY ((size_t)1 << 20)
#define DEFAULT_MAX_HEADER ((size_t)32 << 10)
#define MIN_MAX_HEADER ((size_t)4 << 10)
#define DEFAULT_MAX_CONNECTIONS 1024
#define DEFAULT_TIMEOUT_S 30
#define SYNC_WAIT_MS 5000 /* a handler suspending during the final stop */
#define DISCARD_FACTOR 4  /* chunked bodies beyond max_body: read this much more, then cut */

/* Sleeps ms milliseconds. */
static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

pb_http_server *pb_http_server_new(const pb_http_config *cfg, const pb_route *routes, size_t n,
                                   void *app, pb_store_pool *pool, char *err, size_t errcap)
{
    if (pb_http_routes_validate(routes, n, err, errcap) != 0)
        return NULL;
    pb_http_config c = cfg ? *cfg : (pb_http_config){0};
    if (!c.threads)
        c.threads = DEFAULT_THREADS;
    if (!c.max_body)
        c.max_body = DEFAULT_MAX_BODY;
    if (!c.max_header)
        c.max_header = DEFAULT_MAX_HEADER;
    if (!c.max_connections)
        c.max_connections = DEFAULT_MAX_CONNECTIONS;
    if (!c.timeout_s)
        c.timeout_s = DEFAULT_TIMEOUT_S;
    if (c.max_header < MIN_MAX_HEADER) {
        snprintf(err, errcap, "max header size must be at least %zu bytes", MIN_MAX_HEADER);
        return NULL;
    }
    if (c.threads > 1024 || c.max_connections < c.threads) {
        snprintf(err, errcap, "threads must be 1..1024 and at most max connections");
        return NULL;
    }
    pb_http_proxies proxies;
    if (pb_http_proxies_parse(c.trusted_proxies, &proxies, err, errcap) != 0)
        return NULL;
    c.trusted_proxies = NULL; /* parsed into srv->proxies; the caller's string may go */
    pb_http_server *srv = calloc(1, sizeof *srv);
    if (srv)
        srv->cfg = c;
    if (!srv || !(srv->metrics = pb_http_metrics_new(routes, n)) ||
        !(srv->route_index = pb_http_route_index_new(routes, n)) || pb_http_per_ip_init(srv) != 0) {
        if (srv) {
            pb_http_metrics_free(srv->metrics);
            pb_http_route_index_free(srv->route_index);
        }
        free(srv);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    snprintf(srv->listen, sizeof srv->listen, "%s", c.listen ? c.listen : "127.0.0.1:8080");
    srv->cfg.listen = srv->listen;
    srv->proxies = proxies;
    srv->routes = routes;
    srv->nroutes = n;
    srv->app = app;
    srv->pool = pool;
    atomic_init(&srv->live, 0);
    atomic_init(&srv->open, 0);
    atomic_init(&srv->draining, false);
    pthread_mutex_init(&srv->mu, NULL);
    return srv;
}

void pb_http_server_set_challenge(pb_http_server *srv, pb_http_challenge_fn fn, void *ctx)
{
    srv->challenge = fn;
    srv->challenge_ctx = ctx;
}

void pb_http_server_set_authorizer(pb_http_server *srv, pb_http_authorize_fn fn, void *ctx)
{
    srv->authorize = fn;
    srv->authorize_ctx = ctx;
}

void pb_http_server_set_fallback(pb_http_server *srv, pb_http_fallback_fn fn, void *ctx)
{
    srv->fallback = fn;
    srv->fallback_ctx = ctx;
}

uint16_t pb_http_server_port(const pb_http_server *srv) { return atomic_load(&srv->port); }

void pb_http_server_metrics(pb_http_server *srv, pb_http_buf *out)
{
    pb_http_metrics_render(srv->metrics, out);
}

/* ---- suspension ---- */

/* Links req into the suspended list (srv->mu held). */
static void list_add(pb_http_server *srv, pb_http_request *req)
{
    req->prev = NULL;
    req->next = srv->suspended;
    if (srv->suspended)
        srv->suspended->prev = req;
    srv->suspended = req;
    req->in_list = true;
}

/* Unlinks req from the suspended list if it is there (srv->mu held). */
static void list_remove(pb_http_server *srv, pb_http_request *req)
{
    if (!req->in_list)
        return;
    if (req->prev)
        req->prev->next = req->next;
    else
        srv->suspended = req->next;
    if (req->next)
        req->next->prev = req->prev;
    req->prev = req->next = NULL;
    req->in_list = false;
}

bool pb_http_server_suspend(pb_http_server *srv, pb_http_request *req)
{
    pthread_mutex_lock(&srv->mu);
    pthread_mutex_lock(&req->mu);
    bool ok = !req->replied && !req->suspended;
    if (ok) {
        req->suspended = true;
        atomic_fetch_add(&req->refs, 1);
        if (srv->stopping) {
            req->sync_wait = true;
        } else {
            MHD_suspend_connection(req->conn);
            list_add(srv, req);
        }
    }
    pthread_mutex_unlock(&req->mu);
    pthread_mutex_unlock(&srv->mu);
    return ok;
}

void pb_http_server_resume(pb_http_request *req)
{
    pb_http_server *srv = req->srv;
    pthread_mutex_lock(&srv->mu);
    /* a request still listed has not been resumed by the shutdown sweep */
    bool resume = req->in_list;
    list_remove(srv, req);
    if (resume)
        MHD_resume_connection(req->conn);
    pthread_mutex_unlock(&srv->mu);
}

/* ---- the access handler ---- */

/* Queues the parked reply on the connection (on its worker thread). */
static enum MHD_Result flush(pb_http_request *req)
{
    int status;
    struct MHD_Response *r = pb_http_req_take_response(req, &status);
    if (!r) {
        pb_log(PB_LOG_ERROR, "http.no_response", "no response to queue for %s (trace %s)",
               req->path, req->trace_id);
        return MHD_NO;
    }
    enum MHD_Result rc = MHD_queue_response(req->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    if (rc != MHD_YES)
        pb_log(PB_LOG_ERROR, "http.queue_failed", "cannot queue the response to %s (trace %s)",
               req->path, req->trace_id);
    return rc;
}

/* True when a Content-Length header announces more than max bytes. */
static bool announced_too_large(const char *cl, size_t max)
{
    if (!cl)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(cl, &end, 10);
    if (end == cl || *end != '\0')
        return false; /* malformed: MHD refuses it itself */
    return errno == ERANGE || v > max;
}

/* Appends a piece of the body, or counts it as discarded once over the limit. */
static enum MHD_Result take_body(pb_http_request *req, const char *data, size_t *size)
{
    size_t n = *size, max = req->srv->cfg.max_body;
    *size = 0;
    if (req->too_large) {
        req->discarded += n;
        /* a chunked body that keeps coming: stop reading and close */
        return req->discarded / DISCARD_FACTOR > max ? MHD_NO : MHD_YES;
    }
    if (n > max - req->body_len) {
        req->too_large = true;
        req->discarded = req->body_len + n;
        free(req->body);
        req->body = NULL;
        req->body_len = req->body_cap = 0;
        return MHD_YES;
    }
    if (req->body_len + n > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 1024;
        while (cap < req->body_len + n)
            cap *= 2;
        if (cap > max)
            cap = max;
        char *p = realloc(req->body, cap);
        if (!p)
            return MHD_NO;
        req->body = p;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, n);
    req->body_len += n;
    return MHD_YES;
}

/* Waits for the reply of a handler that suspended while the server was
 * stopping; answers 503 if it does not come in time. */
static void wait_sync(pb_http_request *req)
{
    for (int waited = 0;; waited++) {
        pthread_mutex_lock(&req->mu);
        bool replied = req->replied;
        pthread_mutex_unlock(&req->mu);
        if (replied)
            return;
        if (waited >= SYNC_WAIT_MS) {
            pb_http_req_force(req);
            return;
        }
        sleep_ms(1);
    }
}

/* Runs the request once its body is complete: errors decided earlier, the
 * authorizer, the handler. */
static void dispatch(pb_http_request *req)
{
    pb_http_server *srv = req->srv;
    req->dispatched = true;
    if (req->too_large) {
        pb_http_reply_error(req, PB_ERR_PAYLOAD_TOO_LARGE, NULL);
    } else if (req->match_rc == PB_ERR_NOT_FOUND) {
        if (!srv->fallback || !srv->fallback(srv->fallback_ctx, req))
            pb_http_reply_error(req, PB_ERR_NOT_FOUND, NULL);
    } else if (req->match_rc == PB_ERR_METHOD_NOT_ALLOWED) {
        pb_http_add_header(req, MHD_HTTP_HEADER_ALLOW, req->match.allow);
        pb_http_reply_error(req, PB_ERR_METHOD_NOT_ALLOWED, NULL);
    } else if (req->bad_path) {
        pb_http_reply_error_msg(req, PB_ERR_INVALID_REQUEST, NULL,
                                "a path segment is not valid percent-encoded UTF-8");
    } else if (req->bad_query) {
        pb_http_reply_error_msg(req, PB_ERR_INVALID_REQUEST, NULL,
                                "a query parameter is not valid percent-encoded UTF-8");
    } else {
        const pb_route *r = req->match.route;
        pb_err rc = PB_OK;
        if (r->permission)
            rc = srv->authorize ? srv->authorize(srv->authorize_ctx, req, r)
                                : PB_ERR_UNAUTHENTICATED;
        if (rc != PB_OK)
            pb_http_reply_error(req, rc, NULL);
        else
            r->handler(req, srv->app);
    }
    pthread_mutex_lock(&req->mu);
    bool answered = req->replied || req->suspended;
    pthread_mutex_unlock(&req->mu);
    if (!answered) {
        pb_log(PB_LOG_ERROR, "http.no_reply", "handler of route %s neither replied nor suspended",
               req->match.route ? req->match.route->name : "?");
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
    }
}

/* What the access handler does once the handler has returned. */
static enum MHD_Result after_dispatch(pb_http_request *req)
{
    pthread_mutex_lock(&req->mu);
    bool suspended = req->suspended, sync = req->sync_wait;
    pthread_mutex_unlock(&req->mu);
    if (suspended && !sync)
        return MHD_YES; /* MHD calls again once the reply resumes the connection */
    if (sync)
        wait_sync(req);
    pb_http_req_release_conn(req);
    return flush(req);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    pb_http_server *srv = cls;
    pb_http_request *req = *con_cls;
    (void)version;
    if (!req) {
        req = pb_http_req_new(srv, conn, url);
        if (!req)
            return MHD_NO;
        *con_cls = req;
    }
    if (!req->started) {
        req->started = true;
        req->conn = conn;
        pb_http_req_begin(req, method);
        if (atomic_load(&srv->draining)) {
            req->dispatched = true;
            pb_http_reply_error(req, PB_ERR_SHUTTING_DOWN, NULL);
            return flush(req);
        }
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (announced_too_large(cl, srv->cfg.max_body)) {
            /* answered before the body is read; MHD closes the connection after */
            req->dispatched = true;
            pb_http_reply_error(req, PB_ERR_PAYLOAD_TOO_LARGE, NULL);
            return flush(req);
        }
        return MHD_YES;
    }
    if (*upload_data_size)
        return take_body(req, upload_data, upload_data_size);
    if (req->dispatched) {          /* resumed after a suspension: the reply is parked, */
        pb_http_req_run_later(req); /* or built now (pb_http_reply_later) */
        return flush(req);
    }
    dispatch(req);
    return after_dispatch(req);
}

/* ---- MHD callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    return pb_http_req_new(cls, conn, uri);
}

/* A short name for why MHD finished a request. */
static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK: return NULL;
    case MHD_REQUEST_TERMINATED_WITH_ERROR: return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR: return "read_error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client_abort";
    }
    return "error";
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    pb_http_server *srv = cls;
    pb_http_request *req = *con_cls;
    (void)conn;
    if (!req)
        return;
    *con_cls = NULL;
    /* a reply left to build here whose connection ended first: built (it frees
     * what it holds) and dropped with the request */
    pb_http_req_run_later(req);
    int64_t latency = pb_time_mono_us() - req->start_us;
    atomic_fetch_sub(&srv->open, 1);
    pthread_mutex_lock(&req->mu);
    req->mhd_done = true;
    bool replied = req->replied;
    int status = req->status;
    pthread_mutex_unlock(&req->mu);
    if (req->started) {
        size_t route = req->match_rc == PB_OK                       ? req->match.index
                       : req->match_rc == PB_ERR_METHOD_NOT_ALLOWED ? req->match.path_route
                                                                    : srv->nroutes;
        if (replied)
            pb_http_metrics_observe(srv->metrics, route, req->method_idx, status, latency);
        pb_http_access_log(req, termination_name(toe), latency);
    }
    pb_http_req_unref(req);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    pb_http_server *srv = cls;
    bool started = toe == MHD_CONNECTION_NOTIFY_STARTED;
    pb_http_metrics_connections(srv->metrics, started ? 1 : -1);
    if (started)
        pb_http_per_ip_started(srv, conn, socket_context);
    else
        pb_http_per_ip_closed(srv, conn, socket_context);
}

/* MHD's accept policy: a direct peer at its --max-per-ip limit is refused before
 * MHD allocates anything (per_ip.c; a trusted proxy never is). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    return pb_http_per_ip_admit(cls, addr) ? MHD_YES : MHD_NO;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    pb_log(PB_LOG_WARN, "http.mhd", "%s", msg);
}

/* Leaves URIs as received: paths are split into segments before decoding
 * (so "%2F" stays inside its segment) and query strings are decoded on demand. */
static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* ---- start and stop ---- */

/* Resolves "host:port", "[v6]:port" or ":port" into addr; host goes to host. */
static int parse_listen(const char *s, struct sockaddr_storage *addr, char *host, size_t hostcap,
                        char *err, size_t errcap)
{
    const char *port;
    size_t hl;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errcap, "listen address '%s': expected [IPv6]:PORT", s);
            return -1;
        }
        hl = (size_t)(close - s - 1);
        memmove(host, s + 1, hl < hostcap ? hl : 0);
        port = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) {
            snprintf(err, errcap, "listen address '%s': expected HOST:PORT", s);
            return -1;
        }
        hl = (size_t)(colon - s);
        memmove(host, s, hl < hostcap ? hl : 0);
        port = colon + 1;
    }
    if (hl >= hostcap) {
        snprintf(err, errcap, "listen address '%s': host too long", s);
        return -1;
    }
    host[hl] = '\0';
    char *end;
    unsigned long p = strtoul(port, &end, 10);
    if (!*port || *end || p > 65535) {
        snprintf(err, errcap, "listen address '%s': bad port", s);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(hl ? host : NULL, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errcap, "listen address '%s': %s", s, gai_strerror(rc));
        return -1;
    }
    memset(addr, 0, sizeof *addr);
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (!hl)
        snprintf(host, hostcap, addr->ss_family == AF_INET6 ? "::" : "0.0.0.0");
    return 0;
}

int pb_http_server_start(pb_http_server *srv, char *err, size_t errcap)
{
    if (srv->daemon || srv->stopped) {
        snprintf(err, errcap, "server already started");
        return -1;
    }
    struct sockaddr_storage addr;
    char host[96];
    if (parse_listen(srv->listen, &addr, host, sizeof host, err, errcap) != 0)
        return -1;
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* one thread polls and serves when threads == 1 (MHD refuses a pool of one) */
    struct MHD_OptionItem pool[] = {
        {srv->cfg.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         (intptr_t)srv->cfg.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    /* laid out by hand, not by clang-format: one option and its values per line */
    /* clang-format off */
    srv->daemon = MHD_start_daemon(
        flags, 0, on_accept, srv, on_access, srv,
        /* the logger first, so that MHD's messages about later options reach it */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_ARRAY, pool,
        MHD_OPTION_CONNECTION_LIMIT, srv->cfg.max_connections,
        /* not MHD_OPTION_PER_IP_CONNECTION_LIMIT: it cannot exempt a trusted
         * proxy; per_ip.c keeps that count (on_accept, on_connection) */
        MHD_OPTION_CONNECTION_TIMEOUT, srv->cfg.timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, srv->cfg.max_header,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_END);
    /* clang-format on */
    if (!srv->daemon) {
        snprintf(err, errcap, "cannot listen on %s (address in use, or not permitted?)",
                 srv->listen);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    uint16_t port = info ? info->port : 0;
    atomic_store(&srv->port, port);
    char url[160];
    snprintf(url, sizeof url, strchr(host, ':') ? "http://[%s]:%u" : "http://%s:%u", host,
             (unsigned)port);
    if (!srv->authorize) {
        for (size_t i = 0; i < srv->nroutes; i++)
            if (srv->routes[i].permission) {
                pb_log(PB_LOG_WARN, "http.no_authorizer",
                       "no authorizer installed: routes with a permission answer 401");
                break;
            }
    }
    pb_http_log_listening(srv, url);
    return 0;
}

int pb_http_server_shutdown(pb_http_server *srv, int drain_ms)
{
    if (!srv->daemon)
        return 0;
    atomic_store(&srv->draining, true);
    pb_http_streams_close_all(srv); /* endless replies would hold up the drain */
    MHD_socket lfd = MHD_quiesce_daemon(srv->daemon);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    int64_t t0 = pb_time_mono_us(), deadline = t0 + (int64_t)(drain_ms > 0 ? drain_ms : 0) * 1000;
    pb_log(PB_LOG_INFO, "http.draining", "stopped accepting; %d request(s) in flight",
           atomic_load(&srv->live));
    while (atomic_load(&srv->live) > 0 && pb_time_mono_us() < deadline)
        sleep_ms(5);
    int cut = atomic_load(&srv->live); /* not finished within the drain */

    /* no suspension reaches MHD from here on; answer the ones still waiting */
    int forced = 0;
    pthread_mutex_lock(&srv->mu);
    srv->stopping = true;
    for (pb_http_request *req = srv->suspended, *next; req; req = next) {
        next = req->next;
        if (pb_http_req_force(req)) {
            forced++;
            list_remove(srv, req);
            MHD_resume_connection(req->conn);
        }
    }
    pthread_mutex_unlock(&srv->mu);
    /* a reply racing with the sweep resumes its own connection: wait for it */
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&srv->mu);
        bool empty = srv->suspended == NULL;
        pthread_mutex_unlock(&srv->mu);
        if (empty)
            break;
        sleep_ms(1);
    }
    /* give the forced answers (and anything else still open) a last second to
     * reach their clients before the connections are closed */
    for (int i = 0; i < 200 && atomic_load(&srv->open) > 0; i++)
        sleep_ms(5);
    MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
    srv->stopped = true;
    pb_log(PB_LOG_INFO, "http.stopped",
           "drained in %lld ms; %d request(s) cut short, %d of them suspended (answered 503)",
           (long long)((pb_time_mono_us() - t0) / 1000), cut, forced);
    return cut;
}

void pb_http_server_free(pb_http_server *srv)
{
    if (!srv)
        return;
    if (srv->daemon)
        pb_http_server_shutdown(srv, 0);
    int live = atomic_load(&srv->live);
    if (live > 0) {
        /* suspended requests whose handler never replied still point here */
        pb_log(PB_LOG_ERROR, "http.leak",
               "%d request(s) suspended and never replied to; server memory kept", live);
        return;
    }
    pb_http_metrics_free(srv->metrics);
    pb_http_route_index_free(srv->route_index);
    pb_http_per_ip_free(srv);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
}
