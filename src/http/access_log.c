/*
 * access_log.c — one JSON line per request on stderr, in the shape of
 * core/log.h's lines plus the request's fields:
 *
 *   {"ts":"…","level":"info","event":"http.request","method":"GET","route":"healthz",
 *    "path":"/healthz","status":200,"latency_ms":0.213,"bytes":15,
 *    "request_id":"…","trace_id":"…","span_id":"…","client_ip":"127.0.0.1"}
 *
 * client_ip is the client (proxy.c: read from X-Forwarded-For when the TCP peer
 * is a trusted proxy); a "peer_ip" follows it then, when the two differ.
 *
 * 5xx answers are logged at level "error", requests that got no answer (the
 * client went away, a timeout) at "warn" with an "outcome". The line is built
 * in memory and handed whole to the logger's sink (pb_log_write), so lines
 * never interleave; a server that buffers its log writes the info lines
 * together, a warn or error line at once.
 */
#include "http/http_internal.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/time.h"

#define MAX_LOGGED_PATH 512

/* Appends ,"key":"value" with value JSON-escaped (at most max bytes of it).
 * Runs a line per request, so the bytes that need no escape go in runs of one
 * append each rather than one by one. */
static void put_str(pb_http_buf *b, const char *key, const char *v, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    pb_http_buf_append(b, ",\"", 2);
    pb_http_buf_puts(b, key);
    pb_http_buf_append(b, "\":\"", 3);
    size_t n = v ? strnlen(v, max) : 0;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
            continue;
        pb_http_buf_append(b, v + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            pb_http_buf_append(b, esc, 2);
        } else {
            /* control and non-ASCII bytes: the path is attacker-controlled and
             * may not be UTF-8; \u00XX keeps the line valid JSON */
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            pb_http_buf_append(b, esc, 6);
        }
    }
    pb_http_buf_append(b, v + run, n - run);
    pb_http_buf_append(b, "\"", 1);
}

/* Appends the decimal digits of v. */
static void put_u64(pb_http_buf *b, uint64_t v)
{
    char d[20];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    pb_http_buf_append(b, d + i, sizeof d - i);
}

/* The route label of a request: its route, the route owning the path (405) or "unmatched". */
static const char *route_label(const pb_http_request *req)
{
    if (req->match_rc == PB_OK && req->match.route)
        return req->match.route->name;
    if (req->match_rc == PB_ERR_METHOD_NOT_ALLOWED)
        return req->srv->routes[req->match.path_route].name;
    return "unmatched";
}

void pb_http_access_log(const pb_http_request *req, const char *outcome, int64_t latency_us)
{
    int status = req->replied ? req->status : 0;
    pb_log_level lvl = status >= 500 ? PB_LOG_ERROR : status == 0 ? PB_LOG_WARN : PB_LOG_INFO;
    if (lvl < pb_log_get_level())
        return;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    char ts[PB_TIME_STR_MAX];
    if (pb_time_format(pb_time_now_us(), ts, sizeof ts) < 0)
        ts[0] = '\0';
    pb_http_buf b = {0};
    pb_http_buf_reserve(&b, 1024); /* a usual line in one allocation */
    pb_http_buf_append(&b, "{\"ts\":\"", 7);
    pb_http_buf_puts(&b, ts);
    pb_http_buf_append(&b, "\",\"level\":\"", 11);
    pb_http_buf_puts(&b, names[lvl]);
    pb_http_buf_puts(&b, "\",\"event\":\"http.request\"");
    put_str(&b, "method", pb_http_method(req), 16);
    put_str(&b, "route", route_label(req), 128);
    put_str(&b, "path", req->path, MAX_LOGGED_PATH);
    /* ,"status":%d,"latency_ms":%lld.%03lld,"bytes":%zu without printf */
    pb_http_buf_append(&b, ",\"status\":", 10);
    if (status < 0) {
        pb_http_buf_append(&b, "-", 1);
        put_u64(&b, (uint64_t)(-(int64_t)status));
    } else {
        put_u64(&b, (uint64_t)status);
    }
    pb_http_buf_append(&b, ",\"latency_ms\":", 14);
    if (latency_us < 0) /* a clock that went back: print what printf printed */
        pb_http_buf_printf(&b, "%lld.%03lld", (long long)(latency_us / 1000),
                           (long long)(latency_us % 1000));
    else {
        char frac[4] = {(char)('0' + latency_us % 1000 / 100), (char)('0' + latency_us % 100 / 10),
                        (char)('0' + latency_us % 10), 0};
        put_u64(&b, (uint64_t)(latency_us / 1000));
        pb_http_buf_append(&b, ".", 1);
        pb_http_buf_append(&b, frac, 3);
    }
    pb_http_buf_append(&b, ",\"bytes\":", 9);
    put_u64(&b, req->resp_bytes);
    put_str(&b, "request_id", req->request_id, PB_REQUEST_ID_MAX);
    put_str(&b, "trace_id", req->trace_id, PB_TRACE_ID_LEN);
    put_str(&b, "span_id", req->span_id, PB_SPAN_ID_LEN);
    put_str(&b, "client_ip", req->client_ip, sizeof req->client_ip);
    if (strcmp(req->peer_ip, req->client_ip) != 0) /* from a trusted proxy's X-Forwarded-For */
        put_str(&b, "peer_ip", req->peer_ip, sizeof req->peer_ip);
    if (outcome)
        put_str(&b, "outcome", outcome, 32);
    pb_http_buf_puts(&b, "}\n");
    if (!b.failed)
        pb_log_write(lvl, b.data, b.len);
    pb_http_buf_free(&b);
}

void pb_http_log_listening(const pb_http_server *srv, const char *url)
{
    if (PB_LOG_INFO < pb_log_get_level())
        return;
    char ts[PB_TIME_STR_MAX];
    if (pb_time_format(pb_time_now_us(), ts, sizeof ts) < 0)
        ts[0] = '\0';
    pb_http_buf b = {0};
    pb_http_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"info\",\"event\":\"http.listening\"", ts);
    put_str(&b, "msg", "accepting connections", 64);
    put_str(&b, "url", url, 256);
    pb_http_buf_printf(&b,
                       ",\"threads\":%u,\"max_body\":%zu,\"max_header\":%zu,"
                       "\"max_connections\":%u,\"max_per_ip\":%u,\"timeout_s\":%u,\"routes\":%zu,"
                       "\"trusted_proxies\":%zu",
                       srv->cfg.threads, srv->cfg.max_body, srv->cfg.max_header,
                       srv->cfg.max_connections, srv->cfg.max_per_ip, srv->cfg.timeout_s,
                       srv->nroutes, srv->proxies.n);
    /* max_per_ip counts direct TCP peers; a trusted proxy carries many clients */
    if (srv->cfg.max_per_ip && srv->proxies.n)
        put_str(&b, "max_per_ip_exempt", "trusted proxies", 64);
    pb_http_buf_printf(&b, "}\n");
    if (!b.failed) { /* at once: scripts wait for this line */
        pb_log_write(PB_LOG_INFO, b.data, b.len);
        pb_log_flush();
    }
    pb_http_buf_free(&b);
}
