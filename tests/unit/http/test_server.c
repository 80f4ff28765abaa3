/*
 * test_server.c — the HTTP server in process, over real sockets, with its own
 * route table and authorizer: path parameters, query strings, the authorizer
 * (401/403, principal freed with the request), JSON bodies, 404/405, body
 * limits, suspension (a worker serves others while requests wait; replies from
 * other threads; ledger deposits through pb_ledger_submit_async), a handler
 * that forgets to reply, keep-alive, and shutdown (draining in-flight requests,
 * answering those still suspended with 503 and absorbing their late replies,
 * and a handler that suspends once the server is stopping).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "client.h"
#include "core/time.h"
#include "http/http.h"
#include "http/http_internal.h"
#include "ledger/ledger.h"

/* ---- fixture: a database, a ledger, a pool and a server ---- */

typedef struct app {
    char dir[64], path[128];
    pb_store *store;
    pb_store_pool *pool;
    pb_ledger *ledger;
    pb_http_server *srv;
    uint16_t port;
    int64_t psp, player;
    pthread_t threads[64];
    int nthreads;
    pthread_mutex_t mu;
    pb_http_request *hung[8]; /* requests suspended by /hang, in arrival order */
    int nhung;
    sem_t hung_ready;
} app;

static app *A;

/* ---- handlers ---- */

static void h_ping(pb_http_request *req, void *ctx)
{
    (void)ctx;
    pb_http_reply_json(req, 200, json_pack("{s:b,s:s}", "pong", 1, "path", pb_http_path(req)));
}

static void h_item(pb_http_request *req, void *ctx)
{
    (void)ctx;
    const char *who = pb_http_principal(req);
    pb_http_reply_json(req, 200,
                       json_pack("{s:s,s:s}", "id", pb_http_param(req, "id"), "who",
                                 who ? who : "-"));
}

static void h_query(pb_http_request *req, void *ctx)
{
    (void)ctx;
    const char *a = pb_http_query(req, "a"), *b = pb_http_query(req, "b b");
    pb_http_reply_json(req, 200,
                       json_pack("{s:s*,s:s*,s:s*}", "a", a, "b b", b, "c",
                                 pb_http_query(req, "c")));
}

static void h_echo(pb_http_request *req, void *ctx)
{
    (void)ctx;
    const char *name = NULL;
    int64_t n = 0;
    pb_json_field spec[] = {{"name", PB_JSON_STRING, .required = true, .max_len = 16, .str = &name},
                            {"n", PB_JSON_INT, .min = 0, .max = 10, .i64 = &n}};
    if (!pb_http_parse_json(req, spec, 2))
        return;
    pb_http_add_header(req, "Location", "/things/1");
    pb_http_reply_json(req, 201, json_pack("{s:s,s:I}", "name", name, "n", (json_int_t)n));
}

/* Replies to a suspended request after a pause, from its own thread. */
static void *late_reply(void *p)
{
    usleep(400 * 1000);
    pb_http_reply_json(p, 200, json_pack("{s:b}", "slow", 1));
    return NULL;
}

static void h_slow(pb_http_request *req, void *ctx)
{
    app *a = ctx;
    pb_http_suspend(req);
    pthread_mutex_lock(&a->mu);
    bool started = a->nthreads < 64 &&
                   pthread_create(&a->threads[a->nthreads], NULL, late_reply, req) == 0;
    if (started)
        a->nthreads++;
    pthread_mutex_unlock(&a->mu);
    if (!started) /* runs on a server thread: report through the reply, not an assert */
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
}

/* Suspends and leaves the reply to the test (at most 8 at a time). */
static void h_hang(pb_http_request *req, void *ctx)
{
    app *a = ctx;
    pthread_mutex_lock(&a->mu);
    bool room = a->nhung < 8;
    if (room) {
        pb_http_suspend(req);
        a->hung[a->nhung++] = req;
    }
    pthread_mutex_unlock(&a->mu);
    if (!room)
        pb_http_reply_error(req, PB_ERR_RATE_LIMITED, NULL);
    sem_post(&a->hung_ready);
}

/* A deposit in request memory: valid until the reply, whichever thread gives it. */
typedef struct deposit {
    pb_http_request *req;
    pb_transfer t;
} deposit;

static void on_deposit(void *ctx, pb_err status)
{
    deposit *d = ctx;
    const char *result = status != PB_OK        ? pb_err_code(status)
                         : d->t.result != PB_OK ? pb_err_code(d->t.result)
                                                : "committed";
    pb_http_reply_json(d->req, 200, json_pack("{s:s}", "result", result));
}

static void h_deposit(pb_http_request *req, void *ctx)
{
    app *a = ctx;
    deposit *d = pb_http_alloc(req, sizeof *d);
    if (!d) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    d->req = req;
    pb_transfer *t = &d->t;
    snprintf(t->scope, sizeof t->scope, "http-test");
    snprintf(t->key, sizeof t->key, "%s", pb_http_param(req, "key"));
    t->debit_account_id = a->psp;
    t->credit_account_id = a->player;
    t->amount = 100;
    t->code = PB_CODE_DEPOSIT;
    snprintf(t->currency, sizeof t->currency, "EUR");
    snprintf(t->trace_id, sizeof t->trace_id, "%s", pb_http_trace_id(req));
    pb_http_suspend(req);
    if (pb_ledger_submit_async(a->ledger, t, 1, on_deposit, d) != PB_OK)
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
}

static void h_noreply(pb_http_request *req, void *ctx)
{
    (void)req;
    (void)ctx;
}

static void h_db(pb_http_request *req, void *ctx)
{
    (void)ctx;
    int cur = 0, latest = 0;
    pb_store_conn *c = pb_http_conn(req);
    if (!c || pb_store_schema_version(c, &cur, &latest) != PB_STORE_OK) {
        pb_http_reply_error(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    pb_http_reply_json(req, 200, json_pack("{s:i}", "schema", cur));
}

static const pb_route routes[] = {
    {"GET", "/ping", NULL, h_ping, "ping"},
    {"GET", "/items/{id}", "items.read", h_item, "items.get"},
    {"GET", "/query", NULL, h_query, "query"},
    {"POST", "/echo", NULL, h_echo, "echo"},
    {"GET", "/slow", NULL, h_slow, "slow"},
    {"GET", "/hang", NULL, h_hang, "hang"},
    {"POST", "/deposits/{key}", NULL, h_deposit, "deposit"},
    {"GET", "/noreply", NULL, h_noreply, "noreply"},
    {"GET", "/db", NULL, h_db, "db"},
};

/* Authorization: Bearer good (alice, every permission) | noperm | anything else. */
static pb_err authorize(void *ctx, pb_http_request *req, const pb_route *route)
{
    (void)ctx;
    const char *h = pb_http_header(req, "Authorization");
    if (!h)
        return PB_ERR_UNAUTHENTICATED;
    if (strcmp(h, "Bearer noperm") == 0)
        return strcmp(route->permission, "items.read") == 0 ? PB_ERR_FORBIDDEN : PB_OK;
    if (strcmp(h, "Bearer good") != 0)
        return PB_ERR_TOKEN_INVALID;
    pb_http_set_principal(req, strdup("alice"), free);
    return PB_OK;
}

/* Starts a server with `threads` workers and, if auth, the authorizer. */
static void start(app *a, unsigned threads, bool auth)
{
    char err[256];
    pb_http_config cfg = {.listen = "127.0.0.1:0", .threads = threads, .max_body = 1024};
    a->srv = pb_http_server_new(&cfg, routes, sizeof routes / sizeof *routes, a, a->pool, err,
                                sizeof err);
    assert_non_null(a->srv);
    if (auth)
        pb_http_server_set_authorizer(a->srv, authorize, NULL);
    assert_int_equal(pb_http_server_start(a->srv, err, sizeof err), 0);
    a->port = pb_http_server_port(a->srv);
    assert_true(a->port > 0);
}

static int setup(void **state)
{
    app *a = calloc(1, sizeof *a);
    snprintf(a->dir, sizeof a->dir, "/tmp/pbhttp.XXXXXX");
    assert_non_null(mkdtemp(a->dir));
    snprintf(a->path, sizeof a->path, "%s/t.db", a->dir);
    char err[256];
    a->store = pb_store_open(a->path, err, sizeof err);
    assert_non_null(a->store);
    assert_int_equal(pb_store_migrate(a->store, NULL, err, sizeof err), PB_STORE_OK);
    a->ledger = pb_ledger_open(a->store, NULL, err, sizeof err);
    assert_non_null(a->ledger);
    a->pool = pb_store_pool_new(a->store, 6);
    pthread_mutex_init(&a->mu, NULL);
    sem_init(&a->hung_ready, 0, 0);
    pb_ledger_account acc[2];
    memset(acc, 0, sizeof acc);
    const char *owners[2] = {"psp", "player:1"};
    for (int i = 0; i < 2; i++) {
        snprintf(acc[i].brand, sizeof acc[i].brand, "test");
        snprintf(acc[i].owner, sizeof acc[i].owner, "%s", owners[i]);
        snprintf(acc[i].kind, sizeof acc[i].kind, i ? "player_cash" : "psp_clearing");
        snprintf(acc[i].currency, sizeof acc[i].currency, "EUR");
        assert_int_equal(pb_ledger_account_create(a->ledger, &acc[i]), PB_OK);
    }
    a->psp = acc[0].id;
    a->player = acc[1].id;
    A = a;
    *state = a;
    return 0;
}

static int teardown(void **state)
{
    app *a = *state;
    if (a->srv)
        pb_http_server_shutdown(a->srv, 2000);
    for (int i = 0; i < a->nthreads; i++)
        pthread_join(a->threads[i], NULL);
    pb_ledger_close(a->ledger);
    pb_http_server_free(a->srv);
    pb_store_pool_free(a->pool);
    pb_store_close(a->store);
    const char *sfx[] = {"", "-wal", "-shm", "-writer.lock"};
    for (int i = 0; i < 4; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", a->path, sfx[i]);
        unlink(p);
    }
    rmdir(a->dir);
    pthread_mutex_destroy(&a->mu);
    sem_destroy(&a->hung_ready);
    free(a);
    return 0;
}

/* One request to the test's server; fails the test when the exchange fails. */
static resp request(const char *method, const char *path, const char *extra, const char *body)
{
    resp r = cl_request(A->port, method, path, extra, body);
    assert_int_not_equal(r.status, -1);
    return r;
}

/* The error code in an error body, or "". */
static const char *err_code(const resp *r)
{
    static char code[64];
    json_t *j = json_loads(r->body, 0, NULL);
    snprintf(code, sizeof code, "%s",
             json_string_value(json_object_get(json_object_get(j, "error"), "code"))
                 ? json_string_value(json_object_get(json_object_get(j, "error"), "code"))
                 : "");
    json_decref(j);
    return code;
}

/* ---- tests ---- */

static void test_basics_and_trace(void **state)
{
    app *a = *state;
    start(a, 2, true);
    resp r = request("GET", "/ping",
                     "X-Request-Id: req-1\r\ntraceparent: "
                     "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n",
                     NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(cl_header(&r, "X-Request-Id"), "req-1");
    const char *tp = cl_header(&r, "traceparent");
    assert_memory_equal(tp, "00-0af7651916cd43dd8448eb211c80319c-", 36);
    assert_string_not_equal(tp + 36, "b7ad6b7169203331-01");
    assert_string_equal(cl_header(&r, "Content-Type"), "application/json");
    assert_non_null(strstr(r.body, "\"pong\":true"));

    r = request("GET", "/ping", "X-Request-Id: bad id!\r\ntraceparent: 00-zz\r\n", NULL);
    assert_int_equal(strlen(cl_header(&r, "X-Request-Id")), 36); /* a new UUIDv7 */
    char t[33], p[17];
    assert_true(pb_trace_parse(cl_header(&r, "traceparent"), t, p, NULL));

    r = request("HEAD", "/ping", NULL, NULL);
    assert_int_equal(r.status, 200);
}

static void test_params_query_and_auth(void **state)
{
    app *a = *state;
    start(a, 2, true);
    resp r = request("GET", "/items/a%2Fb%20c", "Authorization: Bearer good\r\n", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"id\":\"a/b c\""));
    assert_non_null(strstr(r.body, "\"who\":\"alice\""));
    r = request("GET", "/items/%ff", "Authorization: Bearer good\r\n", NULL);
    assert_int_equal(r.status, 400);
    assert_string_equal(err_code(&r), "INVALID_REQUEST");
    r = request("GET", "/items/%zz", "Authorization: Bearer good\r\n", NULL);
    assert_string_equal(err_code(&r), "INVALID_REQUEST");
    r = request("GET", "/items/1", NULL, NULL);
    assert_int_equal(r.status, 401);
    assert_string_equal(err_code(&r), "UNAUTHENTICATED");
    r = request("GET", "/items/1", "Authorization: Bearer forged\r\n", NULL);
    assert_string_equal(err_code(&r), "TOKEN_INVALID");
    r = request("GET", "/items/1", "Authorization: Bearer noperm\r\n", NULL);
    assert_int_equal(r.status, 403);
    assert_string_equal(err_code(&r), "FORBIDDEN");

    r = request("GET", "/query?a=1%2B1&b+b=x+y&c&a=2", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"a\":\"1+1\""));
    assert_non_null(strstr(r.body, "\"b b\":\"x y\""));
    assert_non_null(strstr(r.body, "\"c\":\"\""));
    /* a name or value that does not decode is refused before the handler, which
     * would otherwise take it for absent; also in a parameter it never reads */
    const char *bad[] = {"a=%zz", "a=%",          "a=1%2",     "a=%00", "a=%ff",
                         "%zz=1", "a=1&x=%e2%82", "c&b+b=%%%", "x%=1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char path[64];
        snprintf(path, sizeof path, "/query?%s", bad[i]);
        r = request("GET", path, NULL, NULL);
        assert_int_equal(r.status, 400);
        assert_string_equal(err_code(&r), "INVALID_REQUEST");
        assert_null(strstr(r.body, "\"a\""));
    }
    r = request("GET", "/query?a=%e2%82%ac&&c", NULL, NULL); /* empty part, a euro sign */
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"a\":\"\xe2\x82\xac\""));
}

static void test_no_authorizer_fails_closed(void **state)
{
    app *a = *state;
    start(a, 1, false);
    resp r = request("GET", "/items/1", "Authorization: Bearer good\r\n", NULL);
    assert_int_equal(r.status, 401);
    assert_string_equal(err_code(&r), "UNAUTHENTICATED");
}

static void test_errors(void **state)
{
    app *a = *state;
    start(a, 2, true);
    resp r = request("GET", "/nope", NULL, NULL);
    assert_int_equal(r.status, 404);
    assert_string_equal(err_code(&r), "NOT_FOUND");
    json_t *j = json_loads(r.body, 0, NULL);
    const char *tid = json_string_value(json_object_get(json_object_get(j, "error"), "trace_id"));
    assert_non_null(tid);
    assert_memory_equal(tid, cl_header(&r, "traceparent") + 3, 32);
    json_decref(j);
    r = request("DELETE", "/ping", NULL, NULL);
    assert_int_equal(r.status, 405);
    assert_string_equal(cl_header(&r, "Allow"), "GET, HEAD");
    assert_string_equal(err_code(&r), "METHOD_NOT_ALLOWED");
    r = request("GET", "/noreply", NULL, NULL);
    assert_int_equal(r.status, 500);
    assert_string_equal(err_code(&r), "INTERNAL");
    r = request("GET", "/db", NULL, NULL);
    assert_int_equal(r.status, 200);
}

static void test_json_bodies(void **state)
{
    app *a = *state;
    start(a, 2, true);
    const char *ct = "Content-Type: application/json\r\n";
    resp r = request("POST", "/echo", ct, "{\"name\":\"x\",\"n\":3}");
    assert_int_equal(r.status, 201);
    assert_string_equal(cl_header(&r, "Location"), "/things/1");
    assert_string_equal(r.body, "{\"name\":\"x\",\"n\":3}");
    r = request("POST", "/echo", ct, "{\"name\":\"x\",\"m\":3}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"code\":\"UNKNOWN_FIELD\""));
    assert_non_null(strstr(r.body, "\"field\":\"m\""));
    r = request("POST", "/echo", ct, "{\"name\":\"x\",\"n\":11}");
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"field\":\"n\""));
    r = request("POST", "/echo", "Content-Type: text/plain\r\n", "{\"name\":\"x\"}");
    assert_int_equal(r.status, 415);
    r = request("POST", "/echo", ct, "{\"name\":");
    assert_string_equal(err_code(&r), "INVALID_JSON");
}

static void test_body_limits(void **state)
{
    app *a = *state;
    start(a, 2, true);
    /* announced too large: answered before the body is sent */
    int fd = cl_dial(a->port);
    const char *head = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                       "Content-Length: 5000\r\n\r\n";
    assert_true(cl_send_all(fd, head, strlen(head)));
    resp r;
    assert_int_equal(cl_read_resp(fd, &r, false), 0);
    assert_int_equal(r.status, 413);
    assert_string_equal(err_code(&r), "PAYLOAD_TOO_LARGE");
    close(fd);

    /* chunked, growing past the limit: 413 once it ends */
    fd = cl_dial(a->port);
    head = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\n\r\n";
    assert_true(cl_send_all(fd, head, strlen(head)));
    char chunk[700];
    memset(chunk, ' ', sizeof chunk);
    for (int i = 0; i < 3; i++) {
        assert_true(cl_send_all(fd, "2bc\r\n", 5));
        assert_true(cl_send_all(fd, chunk, sizeof chunk));
        assert_true(cl_send_all(fd, "\r\n", 2));
    }
    assert_true(cl_send_all(fd, "0\r\n\r\n", 5));
    assert_int_equal(cl_read_resp(fd, &r, false), 0);
    assert_int_equal(r.status, 413);
    close(fd);
}

static void test_keep_alive(void **state)
{
    app *a = *state;
    start(a, 2, true);
    int fd = cl_dial(a->port);
    for (int i = 0; i < 200; i++) {
        const char *req = "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n";
        assert_true(cl_send_all(fd, req, strlen(req)));
        resp r;
        assert_int_equal(cl_read_resp(fd, &r, false), 0);
        assert_int_equal(r.status, 200);
    }
    close(fd);
}

/* Runs request() on a thread; the result lands in *out. */
typedef struct call {
    const char *method, *path;
    resp out;
    pthread_t th;
} call;

static void *call_run(void *p)
{
    call *c = p;
    c->out = cl_request(A->port, c->method, c->path, NULL, NULL);
    return NULL;
}

static void test_suspended_requests_free_the_worker(void **state)
{
    app *a = *state;
    start(a, 1, true); /* one worker thread for everything */
    call hang[3] = {{"GET", "/hang"}, {"GET", "/hang"}, {"GET", "/hang"}};
    for (int i = 0; i < 3; i++)
        pthread_create(&hang[i].th, NULL, call_run, &hang[i]);
    /* the one worker took all three: none of them holds it */
    for (int i = 0; i < 3; i++)
        sem_wait(&a->hung_ready);
    resp r = request("GET", "/ping", NULL, NULL);
    assert_int_equal(r.status, 200);
    /* replies from this thread, in reverse order, resume each connection */
    for (int i = 2; i >= 0; i--) {
        pthread_mutex_lock(&a->mu);
        pb_http_request *req = a->hung[i];
        pthread_mutex_unlock(&a->mu);
        pb_http_reply_json(req, 200, json_pack("{s:i}", "n", i));
    }
    int seen = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(hang[i].th, NULL);
        assert_int_equal(hang[i].out.status, 200);
        json_t *j = json_loads(hang[i].out.body, 0, NULL);
        seen |= 1 << json_integer_value(json_object_get(j, "n"));
        json_decref(j);
    }
    assert_int_equal(seen, 7);
    /* a reply from another thread after a pause works the same */
    r = request("GET", "/slow", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"slow\":true}");
}

static void test_ledger_async(void **state)
{
    app *a = *state;
    start(a, 2, true);
    enum { N = 40 };
    call c[N];
    char paths[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(paths[i], sizeof paths[i], "/deposits/k%d", i % 30); /* 10 replays */
        c[i] = (call){"POST", paths[i]};
        pthread_create(&c[i].th, NULL, call_run, &c[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(c[i].th, NULL);
        assert_int_equal(c[i].out.status, 200);
        assert_string_equal(c[i].out.body, "{\"result\":\"committed\"}");
    }
    char err[128];
    pb_store_conn *conn = pb_store_connect(a->store, err, sizeof err);
    pb_ledger_account acc;
    assert_int_equal(pb_ledger_account_get(conn, a->player, &acc), PB_OK);
    assert_int_equal(acc.credits_posted, 30 * 100); /* idempotent by key */
    pb_store_disconnect(conn);
}

/* How many /slow handlers have run (each starts its late reply's thread). */
static int slow_started(app *a)
{
    pthread_mutex_lock(&a->mu);
    int n = a->nthreads;
    pthread_mutex_unlock(&a->mu);
    return n;
}

/* The server's requests in flight (its pitboss_http_requests_in_flight gauge,
 * counted from the request line on), -1 if the gauge is missing. */
static long in_flight(pb_http_server *srv)
{
    static const char name[] = "\npitboss_http_requests_in_flight ";
    pb_http_buf b = {0};
    pb_http_server_metrics(srv, &b);
    const char *p = b.data ? strstr(b.data, name) : NULL;
    long n = p ? strtol(p + strlen(name), NULL, 10) : -1;
    pb_http_buf_free(&b);
    return n;
}

/* Whether a new connection is refused, tried for up to 5 s (the shutdown that
 * stops accepting runs on another thread). */
static bool dial_refused(uint16_t port)
{
    for (int i = 0; i < 500; i++) {
        int fd = cl_dial(port);
        if (fd < 0)
            return true;
        close(fd);
        usleep(10 * 1000);
    }
    return false;
}

/* Runs pb_http_server_shutdown on a thread. */
typedef struct stopper {
    pb_http_server *srv;
    int drain_ms, cut;
    pthread_t th;
} stopper;

static void *stop_run(void *p)
{
    stopper *s = p;
    s->cut = pb_http_server_shutdown(s->srv, s->drain_ms);
    return NULL;
}

static void test_shutdown_drains(void **state)
{
    app *a = *state;
    start(a, 2, true);
    call slow = {"GET", "/slow"};
    pthread_create(&slow.th, NULL, call_run, &slow);
    /* in flight before the shutdown: its handler has run (≤ 5 s) */
    for (int i = 0; i < 500 && slow_started(a) < 1; i++)
        usleep(10 * 1000);
    assert_int_equal(slow_started(a), 1);
    stopper s = {a->srv, 5000};
    pthread_create(&s.th, NULL, stop_run, &s);
    assert_true(dial_refused(a->port)); /* no longer accepting */
    pthread_join(slow.th, NULL);
    assert_int_equal(slow.out.status, 200); /* the request in flight finished */
    pthread_join(s.th, NULL);
    assert_int_equal(s.cut, 0);
}

static void test_shutdown_forces_hung_requests(void **state)
{
    app *a = *state;
    start(a, 2, true);
    call hang = {"GET", "/hang"};
    pthread_create(&hang.th, NULL, call_run, &hang);
    sem_wait(&a->hung_ready);
    int64_t t0 = pb_time_mono_us();
    assert_int_equal(pb_http_server_shutdown(a->srv, 300), 1);
    assert_true(pb_time_mono_us() - t0 >= 300 * 1000);
    pthread_join(hang.th, NULL);
    assert_int_equal(hang.out.status, 503);
    assert_string_equal(err_code(&hang.out), "SHUTTING_DOWN");
    /* the handler's own reply comes late: absorbed, and the request freed */
    pb_http_reply_json(a->hung[0], 200, json_pack("{}"));
}

static void test_suspend_while_stopping_waits_for_the_reply(void **state)
{
    app *a = *state;
    start(a, 2, true);
    /* a request suspended before the shutdown: the sweep that answers it 503
     * runs once the server is stopping, so its answer tells the test when */
    call first = {"GET", "/hang"};
    pthread_create(&first.th, NULL, call_run, &first);
    sem_wait(&a->hung_ready);
    /* a request still uploading when the drain time runs out */
    int fd = cl_dial(a->port);
    const char *head = "GET /hang HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345";
    assert_true(cl_send_all(fd, head, strlen(head)));
    /* the server has its request line before the shutdown begins (≤ 5 s) */
    for (int i = 0; i < 500 && in_flight(a->srv) < 2; i++)
        usleep(10 * 1000);
    assert_int_equal(in_flight(a->srv), 2);
    stopper s = {a->srv, 100};
    pthread_create(&s.th, NULL, stop_run, &s);
    pthread_join(first.th, NULL); /* past the drain: the server is stopping */
    assert_int_equal(first.out.status, 503);
    /* the body completes; the handler suspends; the connection cannot be
     * suspended any more, so the worker waits for the reply */
    assert_true(cl_send_all(fd, "67890", 5));
    sem_wait(&a->hung_ready);
    pb_http_reply_json(a->hung[1], 200, json_pack("{s:b}", "late", 1));
    resp r;
    assert_int_equal(cl_read_resp(fd, &r, false), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"late\":true}");
    close(fd);
    pthread_join(s.th, NULL);
    assert_int_equal(s.cut, 2); /* both were live when the drain time ran out */
    /* the first handler's own reply comes late: absorbed */
    pb_http_reply_json(a->hung[0], 200, json_pack("{}"));
}

/* What a pb_http_reply_later builder saw. */
typedef struct later {
    pb_http_request *req;
    pthread_t caller, ran_on;
    atomic_int runs; /* polled by the test while a worker may set it */
    int n;
} later;

static void build_later(void *ctx)
{
    later *l = ctx;
    l->ran_on = pthread_self();
    atomic_fetch_add(&l->runs, 1); /* after ran_on: a reader that sees it sees ran_on */
    pb_http_reply_json(l->req, 200, json_pack("{s:i}", "later", l->n));
}

/* The hung request i (under the app's lock). */
static pb_http_request *hung(app *a, int i)
{
    pthread_mutex_lock(&a->mu);
    pb_http_request *req = a->hung[i];
    pthread_mutex_unlock(&a->mu);
    return req;
}

/* pb_http_reply_later: the builder runs once, on the connection's worker, not on
 * the thread that called it, and its reply is the answer; when the client has gone
 * meanwhile it still runs once (it frees what it holds); on a request that was
 * answered at shutdown it runs at once, on the caller, and its reply is absorbed. */
static void test_reply_later_builds_on_the_worker(void **state)
{
    app *a = *state;
    start(a, 2, true);
    call hang = {"GET", "/hang"};
    pthread_create(&hang.th, NULL, call_run, &hang);
    sem_wait(&a->hung_ready);
    later l = {.req = hung(a, 0), .caller = pthread_self(), .n = 7};
    pb_http_reply_later(l.req, build_later, &l);
    pthread_join(hang.th, NULL);
    assert_int_equal(hang.out.status, 200);
    assert_string_equal(hang.out.body, "{\"later\":7}");
    assert_int_equal(atomic_load(&l.runs), 1);
    assert_false(pthread_equal(l.ran_on, l.caller));

    /* the client gone before the reply: built all the same, once */
    int fd = cl_dial(a->port);
    const char *head = "GET /hang HTTP/1.1\r\nHost: t\r\n\r\n";
    assert_true(cl_send_all(fd, head, strlen(head)));
    sem_wait(&a->hung_ready);
    close(fd);
    later gone = {.req = hung(a, 1), .caller = pthread_self(), .n = 8};
    pb_http_reply_later(gone.req, build_later, &gone);
    for (int i = 0; i < 500 && atomic_load(&gone.runs) == 0; i++)
        usleep(10 * 1000);
    assert_int_equal(atomic_load(&gone.runs), 1);

    /* answered at shutdown first: the builder runs here, its reply absorbed */
    call forced = {"GET", "/hang"};
    pthread_create(&forced.th, NULL, call_run, &forced);
    sem_wait(&a->hung_ready);
    assert_int_equal(pb_http_server_shutdown(a->srv, 100), 1);
    pthread_join(forced.th, NULL);
    assert_int_equal(forced.out.status, 503);
    later late = {.req = hung(a, 2), .caller = pthread_self(), .n = 9};
    pb_http_reply_later(late.req, build_later, &late);
    assert_int_equal(atomic_load(&late.runs), 1);
    assert_true(pthread_equal(late.ran_on, late.caller));
}

/* A keep-alive connection that has had one GET /ping answered 200, or -1 when the
 * server closed it (refused) instead. */
static int served_connection(uint16_t port)
{
    int fd = cl_dial(port);
    if (fd < 0)
        return -1;
    const char *req = "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n";
    resp r;
    if (!cl_send_all(fd, req, strlen(req)) || cl_read_resp(fd, &r, false) != 0 || r.status != 200) {
        close(fd);
        return -1;
    }
    return fd;
}

/* --max-per-ip N counts direct TCP peers: the N+1th concurrent connection from
 * 127.0.0.1 is refused while 127.0.0.1 is not a trusted proxy, and a closed one
 * frees its place; from a trusted proxy (127.0.0.1/32 in --trusted-proxies) there
 * is no per-IP limit, since its connections carry many clients. Before:
 * libmicrohttpd's MHD_OPTION_PER_IP_CONNECTION_LIMIT counted the proxy like any
 * peer and refused its third connection too. */
/* The key a peer's connections count under for --max-per-ip: an IPv4 address as
 * it is (an IPv4-mapped IPv6 peer the same), an IPv6 address by its /64 (one host
 * holds a /64: counted address by address it could open the limit from each). */
static void per_ip_key_of(const char *ip, uint8_t *family, uint8_t key[16])
{
    struct sockaddr_storage ss = {0};
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
    }
    assert_true(pb_http_per_ip_key((const struct sockaddr *)&ss, family, key));
}

static bool per_ip_same(const char *x, const char *y)
{
    uint8_t fx, fy, kx[16], ky[16];
    per_ip_key_of(x, &fx, kx);
    per_ip_key_of(y, &fy, ky);
    return fx == fy && memcmp(kx, ky, 16) == 0;
}

static void test_per_ip_key(void **state)
{
    (void)state;
    /* IPv6: one /64, one count; the next /64 another */
    assert_true(per_ip_same("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe"));
    assert_true(per_ip_same("2001:db8:1:2::1", "2001:db8:1:2::"));
    assert_false(per_ip_same("2001:db8:1:2::1", "2001:db8:1:3::1"));
    assert_false(per_ip_same("2001:db8:1:2::1", "2001:db9:1:2::1"));
    /* IPv4: the whole address; a mapped one is the same peer */
    assert_false(per_ip_same("192.0.2.1", "192.0.2.2"));
    assert_true(per_ip_same("192.0.2.1", "::ffff:192.0.2.1"));
    assert_false(per_ip_same("::ffff:192.0.2.1", "::ffff:192.0.2.2"));
    uint8_t f, k[16];
    per_ip_key_of("192.0.2.7", &f, k);
    assert_int_equal(f, AF_INET);
    per_ip_key_of("2001:db8::7", &f, k);
    assert_int_equal(f, AF_INET6);
    /* neither: not counted */
    struct sockaddr_un u = {.sun_family = AF_UNIX};
    assert_false(pb_http_per_ip_key((const struct sockaddr *)&u, &f, k));
    assert_false(pb_http_per_ip_key(NULL, &f, k));
}

static void test_per_ip_limit_exempts_trusted_proxies(void **state)
{
    app *a = *state;
    enum { LIMIT = 2, TRIES = 5 };
    for (int trusted = 0; trusted < 2; trusted++) {
        char err[256];
        pb_http_config cfg = {.listen = "127.0.0.1:0",
                              .threads = 2,
                              .max_body = 1024,
                              .max_per_ip = LIMIT,
                              .trusted_proxies = trusted ? "10.0.0.0/8, 127.0.0.1/32"
                                                         : "10.0.0.0/8"};
        a->srv = pb_http_server_new(&cfg, routes, sizeof routes / sizeof *routes, a, a->pool, err,
                                    sizeof err);
        assert_non_null(a->srv);
        assert_int_equal(pb_http_server_start(a->srv, err, sizeof err), 0);
        uint16_t port = pb_http_server_port(a->srv);
        int fd[TRIES];
        int served = 0;
        for (int i = 0; i < TRIES; i++) {
            fd[i] = served_connection(port);
            served += fd[i] >= 0;
        }
        if (trusted) {
            assert_int_equal(served, TRIES);
        } else {
            assert_int_equal(served, LIMIT);
            assert_true(fd[0] >= 0 && fd[1] >= 0);
            /* one of the two ends: a new connection gets its place (the close
             * reaches the server asynchronously: retry for up to 2 s) */
            close(fd[0]);
            fd[0] = -1;
            for (int i = 0; i < 200 && fd[0] < 0; i++) {
                fd[0] = served_connection(port);
                if (fd[0] < 0)
                    usleep(10000);
            }
            assert_true(fd[0] >= 0);
            assert_int_equal(served_connection(port), -1); /* and the limit holds again */
        }
        for (int i = 0; i < TRIES; i++)
            if (fd[i] >= 0)
                close(fd[i]);
        pb_http_server_shutdown(a->srv, 1000);
        pb_http_server_free(a->srv);
        a->srv = NULL;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basics_and_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params_query_and_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_authorizer_fails_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspended_requests_free_the_worker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_async, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_forces_hung_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspend_while_stopping_waits_for_the_reply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reply_later_builds_on_the_worker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_ip_limit_exempts_trusted_proxies, setup, teardown),
        cmocka_unit_test(test_per_ip_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
