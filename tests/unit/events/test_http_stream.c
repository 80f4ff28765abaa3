/*
 * test_http_stream.c — streaming replies (src/http/stream.c) over real sockets:
 * bytes written from another thread arrive in order as a chunked body; a write
 * beyond the buffer is refused FULL (never blocks) while the client does not
 * read, and the drain notification comes once it does; close ends the body; a
 * client that goes away makes writes say CLOSED and calls notify; the shutdown
 * ends open streams without waiting for the drain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/time.h"
#include "http/http.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pb_http_stream *made; /* the last stream a handler made */
static atomic_int notified;

static void on_notify(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&notified, 1);
}

static void h_stream(pb_http_request *req, void *app)
{
    (void)app;
    pb_http_stream *s = pb_http_reply_stream(req, "text/event-stream", 8192, on_notify, NULL);
    assert_non_null(s);
    pb_http_stream_write(s, "hello\n", 6);
    pthread_mutex_lock(&mu);
    made = s;
    pthread_mutex_unlock(&mu);
}

static const pb_route routes[] = {
    {"GET", "/stream", NULL, h_stream, "stream"},
};

static pb_http_server *srv;

static int setup(void **state)
{
    (void)state;
    char err[256];
    pb_http_config cfg = {.listen = "127.0.0.1:0", .threads = 2, .timeout_s = 30};
    srv = pb_http_server_new(&cfg, routes, 1, NULL, NULL, err, sizeof err);
    assert_non_null(srv);
    assert_int_equal(pb_http_server_start(srv, err, sizeof err), 0);
    made = NULL;
    atomic_store(&notified, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pb_http_server_shutdown(srv, 2000);
    pb_http_server_free(srv);
    return 0;
}

/* Connects (rcvbuf > 0: a small receive buffer), sends the request, waits for
 * the handler's stream. */
static int open_stream(int rcvbuf, pb_http_stream **s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(pb_http_server_port(srv))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    const char req[] = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
    for (int i = 0; i < 5000; i++) {
        pthread_mutex_lock(&mu);
        *s = made;
        made = NULL;
        pthread_mutex_unlock(&mu);
        if (*s)
            return fd;
        usleep(1000);
    }
    fail_msg("no stream");
    return -1;
}

/* Reads until `want` appears in the de-chunked body or the connection ends;
 * returns the body read (malloc'd) and whether the terminating chunk came. */
static char *read_body(int fd, const char *want, bool *ended)
{
    static char raw[1 << 20];
    size_t rn = 0;
    char *body = calloc(1, 1 << 20);
    *ended = false;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (;;) {
        ssize_t k = read(fd, raw + rn, sizeof raw - rn - 1);
        if (k <= 0)
            break;
        rn += (size_t)k;
        raw[rn] = 0;
        char *p = strstr(raw, "\r\n\r\n");
        if (!p)
            continue;
        p += 4;
        size_t bn = 0;
        body[0] = 0;
        for (;;) { /* decode every complete chunk so far */
            char *end;
            unsigned long n = strtoul(p, &end, 16);
            if (end == p || strncmp(end, "\r\n", 2) != 0)
                break;
            if (n == 0) {
                *ended = true;
                break;
            }
            if ((size_t)(raw + rn - (end + 2)) < n + 2)
                break;
            memcpy(body + bn, end + 2, n);
            bn += n;
            body[bn] = 0;
            p = end + 2 + n + 2;
        }
        if (*ended || (want && strstr(body, want)))
            break;
    }
    return body;
}

static void test_writes_arrive_in_order_and_close_ends(void **state)
{
    (void)state;
    pb_http_stream *s;
    int fd = open_stream(0, &s);
    char line[32];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(line, sizeof line, "line %d\n", i);
        assert_int_equal(pb_http_stream_write(s, line, (size_t)n), PB_HTTP_STREAM_OK);
    }
    pb_http_stream_release(s); /* closes: the body ends after what is buffered */
    bool ended;
    char *body = read_body(fd, NULL, &ended);
    assert_true(ended);
    assert_true(strncmp(body, "hello\nline 0\nline 1\n", 20) == 0);
    assert_non_null(strstr(body, "line 98\nline 99\n"));
    assert_int_equal(strlen(body), 6 + 10 * 7 + 90 * 8);
    free(body);
    close(fd);
}

static void test_full_never_blocks_then_drains(void **state)
{
    (void)state;
    pb_http_stream *s;
    int fd = open_stream(2048, &s);
    char chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    chunk[sizeof chunk - 1] = '\n';
    int ok = 0, full = 0;
    int64_t t0 = pb_time_mono_us();
    /* until refused three times and more than the buffer's worth was taken: the
     * worker moves bytes to the socket when it runs, which a loaded machine delays */
    for (int i = 0; i < 20000 && (full < 3 || ok <= 8) && pb_time_mono_us() - t0 < 4000000; i++) {
        pb_http_stream_rc rc = pb_http_stream_write(s, chunk, sizeof chunk);
        if (rc == PB_HTTP_STREAM_OK)
            ok++;
        else if (rc == PB_HTTP_STREAM_FULL) {
            full++;
            usleep(20000); /* the worker may still move bytes to the socket */
        }
    }
    assert_true(full >= 3); /* the client never reads: refused, not blocked */
    assert_true(pb_time_mono_us() - t0 < 5000000);
    assert_true(ok > 8); /* at least the buffer's worth was taken first */
    assert_int_equal(pb_http_stream_capacity(s), 8192);
    /* fill it again (no pause), so that the drain asked for comes after `before` */
    int before = atomic_load(&notified);
    while (pb_http_stream_write(s, chunk, sizeof chunk) == PB_HTTP_STREAM_OK)
        ;
    /* the client reads: the buffer drains and notify comes */
    char buf[65536];
    struct timeval tv = {0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 0; i < 200 && atomic_load(&notified) == before; i++)
        if (read(fd, buf, sizeof buf) <= 0)
            usleep(1000);
    assert_true(atomic_load(&notified) > before);
    assert_int_equal(pb_http_stream_write(s, chunk, sizeof chunk), PB_HTTP_STREAM_OK);
    (void)ok;
    pb_http_stream_release(s);
    close(fd);
}

static void test_client_gone_and_shutdown(void **state)
{
    (void)state;
    pb_http_stream *gone, *open;
    int fd1 = open_stream(0, &gone);
    int fd2 = open_stream(0, &open);
    close(fd1);
    /* the next write wakes the parked connection; MHD finds the peer gone */
    pb_http_stream_rc rc = PB_HTTP_STREAM_OK;
    for (int i = 0; i < 500 && rc == PB_HTTP_STREAM_OK; i++) {
        rc = pb_http_stream_write(gone, "ping\n", 5);
        usleep(10000);
    }
    assert_int_equal(rc, PB_HTTP_STREAM_CLOSED);
    assert_true(pb_http_stream_closed(gone));
    /* MHD's worker marks the stream closed, then calls notify: wait for the call */
    for (int i = 0; i < 500 && atomic_load(&notified) < 1; i++)
        usleep(10000);
    assert_true(atomic_load(&notified) >= 1);
    pb_http_stream_release(gone);
    /* the shutdown ends the open stream at once (no 10 s drain wait; the bound
     * leaves a loaded machine room, the drain time is far beyond it) */
    int64_t t0 = pb_time_mono_us();
    pb_http_server_shutdown(srv, 10000);
    assert_true(pb_time_mono_us() - t0 < 5000000);
    bool ended;
    char *body = read_body(fd2, NULL, &ended);
    assert_true(ended);
    assert_string_equal(body, "hello\n");
    free(body);
    assert_int_equal(pb_http_stream_write(open, "late\n", 5), PB_HTTP_STREAM_CLOSED);
    pb_http_stream_release(open);
    close(fd2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writes_arrive_in_order_and_close_ends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_never_blocks_then_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_gone_and_shutdown, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
