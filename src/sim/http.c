/*
 * http.c — the simulator's HTTP/1.1 client (see sim_http.h).
 *
 * A connection keeps one growing receive buffer. A parsed response points
 * into it; its bytes are dropped when the next request is sent. Timeouts are
 * poll() deadlines on the monotonic clock; a timed-out or broken connection
 * is closed so that a late answer can never be read as the answer to the
 * next request.
 */
#include "sim/sim_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 16384
#define BODY_MAX (16u << 20)

int pb_sim_target_parse(const char *url, pb_sim_target *t, char *err, size_t errcap)
{
    memset(t, 0, sizeof *t);
    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, errcap, "the URL must start with http:// (got '%s')", url);
        return -1;
    }
    const char *h = url + 7, *end = h + strcspn(h, "/");
    const char *colon = NULL;
    if (*h == '[') { /* [v6]:port */
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb) {
            snprintf(err, errcap, "bad IPv6 host in %s", url);
            return -1;
        }
        snprintf(t->host, sizeof t->host, "%.*s", (int)(rb - h - 1), h + 1);
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        size_t hl = (size_t)((colon ? colon : end) - h);
        if (hl == 0 || hl >= sizeof t->host) {
            snprintf(err, errcap, "no host in %s", url);
            return -1;
        }
        snprintf(t->host, sizeof t->host, "%.*s", (int)hl, h);
    }
    if (colon) {
        size_t pl = (size_t)(end - colon - 1);
        if (pl == 0 || pl >= sizeof t->port || strspn(colon + 1, "0123456789") < pl) {
            snprintf(err, errcap, "bad port in %s", url);
            return -1;
        }
        snprintf(t->port, sizeof t->port, "%.*s", (int)pl, colon + 1);
    } else {
        snprintf(t->port, sizeof t->port, "80");
    }
    size_t plen = strlen(end);
    while (plen && end[plen - 1] == '/')
        plen--;
    if (plen >= sizeof t->prefix) {
        snprintf(err, errcap, "the URL's path is too long");
        return -1;
    }
    snprintf(t->prefix, sizeof t->prefix, "%.*s", (int)plen, end);

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(t->host, t->port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errcap, "cannot resolve %s: %s", t->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
    t->addrlen = res->ai_addrlen;
    if (res->ai_family == AF_INET) {
        uint32_t a = ntohl(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr);
        t->loopback = (a >> 24) == 127;
    }
    freeaddrinfo(res);
    return 0;
}

/* ---- parsing ---- */

static const char *find_header(const char *h, size_t hl, const char *name, size_t *vlen)
{
    size_t n = strlen(name);
    const char *p = h, *end = h + hl;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = le;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = le + 1;
    }
    return NULL;
}

ssize_t pb_sim_http_parse(const char *buf, size_t len, pb_sim_resp *out)
{
    const char *hend = memmem(buf, len < HEAD_MAX ? len : HEAD_MAX, "\r\n\r\n", 4);
    if (!hend)
        return len >= HEAD_MAX ? -1 : 0;
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return -1;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        status = status * 10 + (buf[i] - '0');
    }
    const char *line_end = memchr(buf, '\n', (size_t)(hend - buf) + 2);
    out->status = status;
    out->headers = line_end + 1;
    out->headers_len = (size_t)(hend + 2 - out->headers);
    size_t vl;
    const char *te = find_header(out->headers, out->headers_len, "Transfer-Encoding", &vl);
    if (te)
        return -1;
    const char *cl = find_header(out->headers, out->headers_len, "Content-Length", &vl);
    if (!cl || vl == 0 || vl > 9)
        return -1;
    size_t body_len = 0;
    for (size_t i = 0; i < vl; i++) {
        if (cl[i] < '0' || cl[i] > '9')
            return -1;
        body_len = body_len * 10 + (size_t)(cl[i] - '0');
    }
    if (body_len > BODY_MAX)
        return -1;
    size_t head = (size_t)(hend + 4 - buf);
    if (len - head < body_len)
        return 0;
    out->body = hend + 4;
    out->body_len = body_len;
    const char *conn = find_header(out->headers, out->headers_len, "Connection", &vl);
    out->close = conn && vl == 5 && strncasecmp(conn, "close", 5) == 0;
    return (ssize_t)(head + body_len);
}

bool pb_sim_resp_header(const pb_sim_resp *r, const char *name, char *val, size_t cap)
{
    size_t vl;
    const char *v = find_header(r->headers, r->headers_len, name, &vl);
    if (!v)
        return false;
    snprintf(val, cap, "%.*s", (int)vl, v);
    return true;
}

/* ---- connections ---- */

void pb_sim_conn_init(pb_sim_conn *c, const pb_sim_target *t)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    c->fd = -1;
}

void pb_sim_conn_set_source_ipv4(pb_sim_conn *c, uint32_t addr_host_order)
{
    struct sockaddr_in *sa = (struct sockaddr_in *)&c->source;
    memset(&c->source, 0, sizeof c->source);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(addr_host_order);
    c->source_set = true;
}

void pb_sim_conn_close(pb_sim_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = c->taken = 0;
    c->reused = false;
}

void pb_sim_conn_free(pb_sim_conn *c)
{
    pb_sim_conn_close(c);
    free(c->buf);
    c->buf = NULL;
    c->cap = 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int conn_open(pb_sim_conn *c)
{
    const pb_sim_target *t = c->t;
    int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (c->source_set && t->addr.ss_family == AF_INET &&
        bind(fd, (const struct sockaddr *)&c->source, sizeof(struct sockaddr_in)) != 0) {
        close(fd);
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&t->addr, t->addrlen) != 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->len = c->taken = 0;
    c->reused = false;
    c->connects++;
    return 0;
}

static bool send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        s += k;
        n -= (size_t)k;
    }
    return true;
}

int pb_sim_conn_send(pb_sim_conn *c, const char *method, const char *path, const char *headers,
                     const char *body, size_t body_len)
{
    if (c->fd >= 0 && c->taken) { /* drop the previous response's bytes */
        memmove(c->buf, c->buf + c->taken, c->len - c->taken);
        c->len -= c->taken;
        c->taken = 0;
    }
    if (c->fd < 0 && conn_open(c) != 0)
        return PB_SIM_HTTP_ERROR;
    char head[2048];
    int n = snprintf(head, sizeof head, "%s %s%s HTTP/1.1\r\nHost: %s:%s\r\n%s", method,
                     c->t->prefix, path, c->t->host, c->t->port, headers ? headers : "");
    if (n < 0 || (size_t)n >= sizeof head - 128)
        return PB_SIM_HTTP_ERROR;
    if (body)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
    n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    if (!send_all(c->fd, head, (size_t)n) || (body && !send_all(c->fd, body, body_len))) {
        pb_sim_conn_close(c);
        return PB_SIM_HTTP_ERROR;
    }
    return PB_SIM_HTTP_OK;
}

/* recv with the "closed before any byte" case told apart (-3) for a resend. */
static int conn_recv(pb_sim_conn *c, int timeout_ms, pb_sim_resp *out)
{
    if (c->fd < 0)
        return PB_SIM_HTTP_ERROR;
    int64_t deadline = mono_ms() + timeout_ms;
    size_t got = 0;
    for (;;) {
        if (c->len) {
            ssize_t n = pb_sim_http_parse(c->buf, c->len, out);
            if (n < 0) {
                pb_sim_conn_close(c);
                return PB_SIM_HTTP_ERROR;
            }
            if (n > 0) {
                c->taken = (size_t)n;
                c->reused = true;
                if (out->close) {
                    /* keep the bytes readable: close the socket only */
                    close(c->fd);
                    c->fd = -1;
                    c->taken = 0;
                }
                return PB_SIM_HTTP_OK;
            }
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            pb_sim_conn_close(c);
            return PB_SIM_HTTP_TIMEOUT;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            pb_sim_conn_close(c);
            return PB_SIM_HTTP_ERROR;
        }
        if (pr == 0)
            continue; /* the deadline check above decides */
        if (c->cap - c->len < 4096) {
            size_t cap = c->cap ? c->cap * 2 : 16384;
            char *b = realloc(c->buf, cap);
            if (!b) {
                pb_sim_conn_close(c);
                return PB_SIM_HTTP_ERROR;
            }
            c->buf = b;
            c->cap = cap;
        }
        ssize_t k = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            bool was_reused = c->reused;
            pb_sim_conn_close(c);
            return got == 0 && was_reused ? -3 : PB_SIM_HTTP_ERROR;
        }
        c->len += (size_t)k;
        got += (size_t)k;
    }
}

int pb_sim_conn_recv(pb_sim_conn *c, int timeout_ms, pb_sim_resp *out)
{
    int rc = conn_recv(c, timeout_ms, out);
    return rc == -3 ? PB_SIM_HTTP_ERROR : rc;
}

int pb_sim_conn_request(pb_sim_conn *c, const char *method, const char *path, const char *headers,
                        const char *body, size_t body_len, int timeout_ms, pb_sim_resp *out)
{
    bool reused = c->fd >= 0 && c->reused;
    int rc = pb_sim_conn_send(c, method, path, headers, body, body_len);
    if (rc == PB_SIM_HTTP_OK)
        rc = conn_recv(c, timeout_ms, out);
    else if (reused)
        rc = -3; /* the send itself failed on the old connection */
    if (rc == -3 && reused) {
        /* the server closed an idle keep-alive connection: once more on a new one */
        rc = pb_sim_conn_send(c, method, path, headers, body, body_len);
        if (rc == PB_SIM_HTTP_OK)
            rc = conn_recv(c, timeout_ms, out);
    }
    return rc == -3 ? PB_SIM_HTTP_ERROR : rc;
}
