/*
 * test_sse_oom.c — the staff stream's live delivery (src/events/sse.c) when an
 * event's frame cannot be formatted for want of memory: every live client the
 * event is for is ended with a "dropped" frame naming the last id it has, so it
 * reconnects with Last-Event-ID and catches up from the outbox; none is passed
 * over silently (its cursor would move past the event and it would never see
 * it). A client the event is not for stays open, and the next event that can be
 * formatted reaches it. A client's re-check runs every recheck_ms, also below
 * the dispatcher's once-a-second sweep.
 *
 * Over real sockets (the HTTP layer's streamed replies); the frame's allocation
 * is made to fail through the linker (-Wl,--wrap=realloc on this test only).
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

#include "events/events_internal.h"
#include "http/http.h"

/* ---- realloc that fails while asked to ---- */

void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
static atomic_bool fail_realloc;

void *__wrap_realloc(void *p, size_t n)
{
    if (atomic_load(&fail_realloc))
        return NULL;
    return __real_realloc(p, n);
}

/* ---- a server whose one route opens a stream ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pb_http_stream *made;

static void h_stream(pb_http_request *req, void *app)
{
    (void)app;
    pb_http_stream *s = pb_http_reply_stream(req, "text/event-stream", 16384, NULL, NULL);
    assert_non_null(s);
    pthread_mutex_lock(&mu);
    made = s;
    pthread_mutex_unlock(&mu);
}

static const pb_route routes[] = {
    {"GET", "/stream", NULL, h_stream, "stream"},
};

static pb_http_server *srv;

static int open_stream(pb_http_stream **s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
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

/* Reads raw bytes until `want` appears, the connection ends or 3 s pass;
 * returns whether `want` came, and whether the body's last chunk came. */
static bool read_until(int fd, const char *want, bool *ended)
{
    static char raw[1 << 16];
    size_t rn = 0;
    *ended = false;
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (;;) {
        ssize_t k = read(fd, raw + rn, sizeof raw - rn - 1);
        if (k <= 0)
            break;
        rn += (size_t)k;
        raw[rn] = 0;
        if (strstr(raw, "\r\n0\r\n\r\n"))
            *ended = true;
        if (strstr(raw, want) || *ended)
            break;
    }
    return strstr(raw, want) != NULL;
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    pb_http_config cfg = {.listen = "127.0.0.1:0", .threads = 2, .timeout_s = 30};
    srv = pb_http_server_new(&cfg, routes, 1, NULL, NULL, err, sizeof err);
    assert_non_null(srv);
    assert_int_equal(pb_http_server_start(srv, err, sizeof err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pb_http_server_shutdown(srv, 2000);
    pb_http_server_free(srv);
    return 0;
}

static ev_client *client_for(pb_http_stream *s, const char *brand)
{
    ev_client *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->stream = s;
    c->live = true;
    c->filter.types = ~UINT64_C(0);
    if (brand) {
        c->filter.nbrands = 1;
        snprintf(c->filter.brands[0], sizeof c->filter.brands[0], "%s", brand);
    } else {
        c->filter.all_brands = true;
    }
    return c;
}

static pb_event event_of(int64_t id, const char *brand, const char *payload)
{
    return (pb_event){.id = id,
                      .type_index = 0,
                      .type = pb_event_types[0].name,
                      .brand = brand,
                      .subject = "",
                      .payload = payload,
                      .payload_len = strlen(payload),
                      .created_at = 1700000000000000,
                      .trace_id = ""};
}

static void test_frame_out_of_memory_drops_its_clients(void **state)
{
    (void)state;
    pb_http_stream *s1, *s2, *s3;
    int fd1 = open_stream(&s1), fd2 = open_stream(&s2), fd3 = open_stream(&s3);
    pb_events *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    /* two clients that see brand "a" (one of them every brand), one that sees "b" only */
    ev_client *c1 = client_for(s1, NULL), *c2 = client_for(s2, "a"), *c3 = client_for(s3, "b");
    c1->next = c2;
    c2->next = c3;
    ev->clients = c1;

    /* event 5 reaches all three: the streams' buffers are allocated now (the
     * final frame written later needs no allocation) */
    bool ended;
    pb_event e5 = event_of(5, "a", "{\"k\":0}");
    c3->filter.all_brands = true;
    ev_clients_deliver(ev, &e5);
    c3->filter.all_brands = false;
    assert_true(read_until(fd1, "id: 5\n", &ended));
    assert_true(read_until(fd2, "id: 5\n", &ended));
    assert_true(read_until(fd3, "id: 5\n", &ended));

    /* event 7 for brand "a", larger than any frame so far: formatting it must
     * allocate, and the allocation fails */
    static char big[8192];
    memset(big, 'x', sizeof big - 16);
    memcpy(big, "{\"k\":\"", 6);
    strcpy(big + sizeof big - 16, "\"}");
    pb_event e7 = event_of(7, "a", big);
    atomic_store(&fail_realloc, true);
    ev_clients_deliver(ev, &e7);
    atomic_store(&fail_realloc, false);

    assert_true(read_until(fd1, "\"reason\":\"server_out_of_memory\",\"last_event_id\":6", &ended));
    assert_true(c1->ended);
    assert_true(read_until(fd2, "\"reason\":\"server_out_of_memory\",\"last_event_id\":6", &ended));
    assert_true(c2->ended);
    assert_int_equal(atomic_load(&ev->dropped), 2);
    /* the client of brand "b" was not sent 7 and stays live: the next event reaches it */
    assert_false(c3->ended);
    assert_true(c3->live);
    pb_event e8 = event_of(8, "b", "{\"k\":1}");
    ev_clients_deliver(ev, &e8);
    assert_true(read_until(fd3, "id: 8\n", &ended));
    assert_false(ended);
    assert_int_equal(c3->cursor, 8);

    for (ev_client *c = ev->clients, *n; c; c = n) {
        n = c->next;
        pb_http_stream_release(c->stream);
        free(c);
    }
    free(ev->live_frame.p);
    free(ev);
    close(fd1);
    close(fd2);
    close(fd3);
}

/* A client's re-check runs every recheck_ms, not at the dispatcher's next
 * once-a-second sweep after it is due: at 200 ms a client is re-checked at least
 * four times in 1.5 s (before: once, the sweeps being a second apart), and at
 * 1,200 ms three times in 4.5 s (before: twice, every check waiting for a
 * whole-second sweep, 2 s apart). */
static atomic_int checks;

static bool count_check(void *ctx, pb_store_conn *c, int64_t now, pb_events_filter *f)
{
    (void)ctx;
    (void)c;
    (void)now;
    (void)f;
    atomic_fetch_add(&checks, 1);
    return true;
}

/* The re-checks of one client over window_ms with recheck_ms. */
static int rechecks_in(int recheck_ms, int window_ms)
{
    char dir[64] = "/tmp/pbevrecheck.XXXXXX", path[96], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.db", dir);
    pb_store *store = pb_store_open(path, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(pb_store_migrate(store, NULL, err, sizeof err), PB_STORE_OK);
    pb_events_config cfg = {.recheck_ms = recheck_ms, .heartbeat_ms = 60000};
    pb_events *ev = pb_events_open(store, &cfg, err, sizeof err);
    assert_non_null(ev);
    pb_http_stream *s;
    int fd = open_stream(&s);
    pb_events_filter filter = {.types = ~UINT64_C(0), .all_brands = true};
    atomic_store(&checks, 0);
    assert_true(pb_events_client_reserve(ev));
    pb_events_client_add(ev, s, &filter, -1, 0, false, count_check, malloc(16));
    usleep((useconds_t)window_ms * 1000);
    int n = atomic_load(&checks);
    fprintf(stderr, "# %d re-check(s) in %d ms at recheck_ms %d\n", n, window_ms, recheck_ms);
    pb_events_close(ev);
    pb_store_close(store);
    close(fd);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return n;
}

static void test_recheck_every_recheck_ms(void **state)
{
    (void)state;
    assert_true(rechecks_in(200, 1500) >= 4);
    /* 4.5 s, not 2.7 s: a loaded machine gets 0.9 s of slack, not 0.3 s */
    assert_true(rechecks_in(1200, 4500) >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_frame_out_of_memory_drops_its_clients, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recheck_every_recheck_ms, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
