/* client.c — see client.h. */
#include "client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int cl_dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool cl_send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k <= 0)
            return false;
        s += k;
        n -= (size_t)k;
    }
    return true;
}

const char *cl_header(const resp *r, const char *name)
{
    static _Thread_local char val[512];
    size_t n = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            snprintf(val, sizeof val, "%.*s", (int)strcspn(v, "\r\n"), v);
            return val;
        }
        p = strstr(p, "\r\n");
        if (p)
            p += 2;
    }
    return NULL;
}

int cl_read_resp(int fd, resp *r, bool head)
{
    char buf[16384];
    size_t len = 0;
    char *end;
    memset(r, 0, sizeof *r);
    r->status = -1;
    while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
        ssize_t k = recv(fd, buf + len, 1, 0); /* byte by byte: keeps pipelined data unread */
        if (k <= 0 || ++len == sizeof buf)
            return -1;
    }
    snprintf(r->headers, sizeof r->headers, "%.*s", (int)(end - buf), buf);
    const char *cl = cl_header(r, "Content-Length");
    size_t want = cl && !head ? (size_t)atol(cl) : 0;
    if (want >= sizeof r->body)
        return -1;
    while (r->body_len < want) {
        ssize_t k = recv(fd, r->body + r->body_len, want - r->body_len, 0);
        if (k <= 0)
            return -1;
        r->body_len += (size_t)k;
    }
    r->body[r->body_len] = '\0';
    r->status = len > 12 ? atoi(buf + 9) : -1;
    return 0;
}

resp cl_request(uint16_t port, const char *method, const char *path, const char *extra,
                const char *body)
{
    resp r;
    memset(&r, 0, sizeof r);
    r.status = -1;
    int fd = cl_dial(port);
    if (fd < 0)
        return r;
    char head[2048];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s"
                     "Content-Length: %zu\r\n\r\n",
                     method, path, extra ? extra : "", body ? strlen(body) : 0);
    if (!cl_send_all(fd, head, (size_t)n) || (body && !cl_send_all(fd, body, strlen(body))) ||
        cl_read_resp(fd, &r, strcmp(method, "HEAD") == 0) != 0)
        r.status = -1;
    close(fd);
    return r;
}
