/*
 * test_jetstream.c — the outbox relayed to NATS JetStream (src/events/jetstream.c),
 * against a real nats-server (Debian's, started here with JetStream on a free
 * loopback port and a store directory of its own):
 *   - every event reaches the stream once, in id order, as <subject>.<brand>.<type>
 *     with the event's JSON and the id headers, over several rounds and live;
 *   - a restart resumes from the stored mark; a mark set back (a crash before it
 *     was written) repeats the events and JetStream drops every repeat;
 *   - NATS away at start and stopped mid-way: the relay waits, then sends the
 *     backlog, nothing twice;
 *   - events pruned before they were relayed are counted as lost, and the rest go on;
 *   - a stream that does not take our subjects, or none, is not published to;
 *   - bad settings are refused; from_new skips the backlog.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/time.h"
#include "events/events.h"
#include "events/jetstream.h"

/* ---- a nats-server of our own ---- */

typedef struct server {
    pid_t pid;
    int port;
    char dir[64];
} server;

/* Whether port is free on loopback now (a bind succeeds). */
static bool port_free(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

/*
 * A free loopback port for nats-server, below the kernel's ephemeral range
 * (ip_local_port_range). A port taken from that range (bind to port 0, then
 * close) can be handed to any other process's outgoing connection before
 * nats-server binds it, and was under the parallel suite ("bind: address already
 * in use", the server gone, the test's set-up failed); one below the range is
 * never handed out that way, so only another test choosing the very same port
 * could take it, and it stays ours across the restarts some cases make.
 */
static int free_port(void)
{
    int lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2)
            lo = 32768;
        fclose(f);
    }
    int base = lo - 12000 > 1024 ? lo - 12000 : 1024, span = lo - base;
    for (int i = 0; span > 0 && i < 200; i++) {
        uint32_t r = 0;
        if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
            break;
        int port = base + (int)(r % (uint32_t)span);
        if (port_free(port))
            return port;
    }
    /* no room below the range: an ephemeral one, as before */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static bool port_open(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts nats-server with JetStream on s->port, its store under s->dir (kept
 * across restarts), and waits until it takes connections. */
static void server_start(server *s)
{
    char port[16], store[96], log[96];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(store, sizeof store, "%s/js", s->dir);
    snprintf(log, sizeof log, "%s/nats.log", s->dir);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a test that dies takes its server along */
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("nats-server", "nats-server", "-js", "-sd", store, "-a", "127.0.0.1", "-p", port,
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && !port_open(s->port); i++)
        sleep_ms(25);
    assert_true(port_open(s->port));
}

static void server_stop(server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    int st;
    waitpid(s->pid, &st, 0);
    s->pid = 0;
}

static void server_init(server *s)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/pbnats.XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    s->port = free_port();
}

static void server_free(server *s)
{
    server_stop(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s->dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- a reader of the stream ---- */

typedef struct reader {
    natsConnection *nc;
    jsCtx *js;
} reader;

static void reader_open(reader *r, int port)
{
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
    assert_int_equal(natsConnection_ConnectTo(&r->nc, url), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&r->js, r->nc, NULL), NATS_OK);
}

static void reader_close(reader *r)
{
    jsCtx_Destroy(r->js);
    natsConnection_Destroy(r->nc);
}

/* The stream's message count, -1 when it does not exist. */
static int64_t stream_count(reader *r, const char *stream)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, r->js, stream, NULL, &jerr) != NATS_OK)
        return -1;
    int64_t n = (int64_t)si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return n;
}

static const char *header(natsMsg *m, const char *key)
{
    const char *v = NULL;
    return natsMsgHeader_Get(m, key, &v) == NATS_OK ? v : NULL;
}

/* ---- the outbox ---- */

typedef struct fx {
    server srv;
    char dir[64], path[96];
    pb_store *store;
    pb_store_conn *c;
    reader rd;
} fx;

static void store_open(fx *f)
{
    char err[256];
    snprintf(f->dir, sizeof f->dir, "/tmp/pbjs.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(pb_store_migrate(f->store, NULL, err, sizeof err), PB_STORE_OK);
    f->c = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->c);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    store_open(f);
    server_init(&f->srv);
    server_start(&f->srv);
    reader_open(&f->rd, f->srv.port);
    *state = f;
    return 0;
}

/* The same without a server running (the test starts it). */
static int setup_no_server(void **state)
{
    fx *f = calloc(1, sizeof *f);
    store_open(f);
    server_init(&f->srv);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->rd.nc)
        reader_close(&f->rd);
    server_free(&f->srv);
    pb_store_disconnect(f->c);
    pb_store_close(f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Appends n events in one transaction (committed: on disk, the durable mark
 * raised): bet.placed of 1.23 EUR for brands alpha, beta and none in turn, the
 * first of every ten a player.registered. The last id. */
static int64_t append(fx *f, int n)
{
    int64_t id = 0;
    static const char *brands[] = {"alpha", "beta", ""};
    assert_int_equal(pb_store_begin(f->c, PB_STORE_WRITE), PB_STORE_OK);
    for (int i = 0; i < n; i++) {
        const char *brand = brands[i % 3];
        if (i % 10 == 0) {
            pb_event_field fl[] = {PB_EV_STR("email_domain", "example.org")};
            assert_int_equal(pb_events_append(f->c, "player.registered", brand, "p9", "",
                                              pb_time_now_us(), fl, 1, &id),
                             PB_OK);
        } else {
            pb_event_field fl[] = {PB_EV_STR("game", "dice"), PB_EV_MONEY("amount", 123, "EUR")};
            assert_int_equal(pb_events_append(f->c, "bet.placed", brand, "p1", "4bf92f3577b34da6",
                                              pb_time_now_us(), fl, 2, &id),
                             PB_OK);
        }
    }
    assert_int_equal(pb_store_commit(f->c), PB_STORE_OK);
    return id;
}

static pb_jetstream_config config(const fx *f, const char *stream, const char *subject, char *url,
                                  size_t cap)
{
    snprintf(url, cap, "nats://127.0.0.1:%d", f->srv.port);
    return (pb_jetstream_config){.url = url,
                                 .stream = stream,
                                 .subject = subject,
                                 .create_stream = true,
                                 .batch = 64,
                                 .mark_every_ms = 50,
                                 .idle_poll_ms = 100,
                                 .retry_ms = 50,
                                 .ack_wait_ms = 2000};
}

static pb_jetstream *open_relay(fx *f, const pb_jetstream_config *cfg)
{
    char err[256] = "";
    pb_jetstream *j = pb_jetstream_open(f->store, cfg, err, sizeof err);
    if (!j)
        fail_msg("relay not opened: %s", err);
    return j;
}

/* Waits (up to 20 s) until the relay's mark reaches id; its figures then. */
static pb_jetstream_stats wait_relayed(pb_jetstream *j, int64_t id)
{
    pb_jetstream_stats st = {0};
    for (int i = 0; i < 2000; i++) {
        pb_jetstream_stats_get(j, &st);
        if (st.relayed_id >= id)
            break;
        sleep_ms(10);
    }
    assert_int_equal(st.relayed_id, id);
    return st;
}

/* Checks message seq of the stream: event id, its subject, headers and JSON. */
static void check_message(fx *f, const char *stream, const char *subject, uint64_t seq, int64_t id)
{
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_GetMsg(&m, f->rd.js, stream, seq, NULL, &jerr), NATS_OK);
    json_error_t je;
    json_t *o = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, &je);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "id")), id);
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *brand = json_string_value(json_object_get(o, "brand"));
    assert_non_null(type);
    assert_non_null(brand);
    char want[160], msgid[96], num[24];
    snprintf(want, sizeof want, "%s.%s.%s", subject, brand[0] ? brand : "_", type);
    assert_string_equal(natsMsg_GetSubject(m), want);
    snprintf(msgid, sizeof msgid, "%s:%lld", subject, (long long)id);
    snprintf(num, sizeof num, "%lld", (long long)id);
    assert_string_equal(header(m, "Nats-Msg-Id"), msgid);
    assert_string_equal(header(m, "Pitboss-Event-Id"), num);
    assert_string_equal(header(m, "Pitboss-Event-Type"), type);
    json_t *payload = json_object_get(o, "payload");
    assert_true(json_is_object(payload));
    if (strcmp(type, "bet.placed") == 0) {
        assert_string_equal(json_string_value(json_object_get(payload, "amount")), "1.23");
        assert_string_equal(json_string_value(json_object_get(payload, "currency")), "EUR");
        assert_string_equal(header(m, "Pitboss-Trace-Id"), "4bf92f3577b34da6");
    } else {
        assert_string_equal(type, "player.registered");
        assert_null(header(m, "Pitboss-Trace-Id"));
    }
    assert_non_null(json_string_value(json_object_get(o, "created_at")));
    json_decref(o);
    natsMsg_Destroy(m);
}

/* The stream holds n messages, the i-th (from 1) the event first_id + i - 1. */
static void check_stream(fx *f, const char *stream, const char *subject, uint64_t n,
                         int64_t first_id)
{
    assert_int_equal(stream_count(&f->rd, stream), (int64_t)n);
    for (uint64_t seq = 1; seq <= n; seq++)
        check_message(f, stream, subject, seq, first_id + (int64_t)seq - 1);
}

/* After a while, the relay is still not connected, has relayed nothing and has
 * failed at least once. */
static void assert_held_back(pb_jetstream *j)
{
    sleep_ms(400);
    pb_jetstream_stats st;
    pb_jetstream_stats_get(j, &st);
    /* its first try may come later on a loaded machine: waited for (≤ 10 s) */
    for (int i = 0; i < 1000 && st.failures == 0; i++) {
        sleep_ms(10);
        pb_jetstream_stats_get(j, &st);
    }
    assert_false(st.connected);
    assert_int_equal(st.relayed_id, 0);
    assert_true(st.failures > 0);
}

/* ---- the tests ---- */

static void test_every_event_once_in_order(void **state)
{
    fx *f = *state;
    int64_t last = append(f, 300); /* before the relay: the backlog, in five rounds */
    char url[64];
    pb_jetstream_config cfg = config(f, "ORDER", "t.events", url, sizeof url);
    pb_jetstream *j = open_relay(f, &cfg);
    pb_jetstream_stats st = wait_relayed(j, last);
    assert_true(st.connected);
    assert_int_equal(st.published, 300);
    assert_int_equal(st.duplicates, 0);
    assert_int_equal(st.lost, 0);
    int64_t last2 = 0;
    for (int k = 0; k < 5; k++) /* live: appended while the relay runs */
        last2 = append(f, 7);
    st = wait_relayed(j, last2);
    assert_int_equal(st.published, 335);
    pb_jetstream_close(j);
    check_stream(f, "ORDER", "t.events", 335, 1);
    /* the mark was written at close */
    int64_t mark = 0;
    bool found = false;
    char name[96];
    pb_jetstream_mark_name("ORDER", name, sizeof name);
    assert_int_equal(pb_store_event_relay_get(f->c, name, &mark, &found), PB_STORE_OK);
    assert_true(found);
    assert_int_equal(mark, last2);
}

static void test_restart_resumes_and_repeats_are_dropped(void **state)
{
    fx *f = *state;
    char url[64];
    pb_jetstream_config cfg = config(f, "RESUME", "r.events", url, sizeof url);
    int64_t last = append(f, 100);
    pb_jetstream *j = open_relay(f, &cfg);
    wait_relayed(j, last);
    pb_jetstream_close(j);
    last = append(f, 20);
    j = open_relay(f, &cfg); /* from the stored mark: only the 20 */
    pb_jetstream_stats st = wait_relayed(j, last);
    assert_int_equal(st.published, 20);
    assert_int_equal(st.duplicates, 0);
    pb_jetstream_close(j);
    assert_int_equal(stream_count(&f->rd, "RESUME"), 120);
    /* a crash before the mark reached the database: the relay starts lower and
     * publishes again; JetStream drops every repeat by its message id */
    char name[96];
    pb_jetstream_mark_name("RESUME", name, sizeof name);
    assert_int_equal(pb_store_event_relay_set(f->c, name, 0, pb_time_now_us()), PB_STORE_OK);
    j = open_relay(f, &cfg);
    st = wait_relayed(j, last);
    assert_int_equal(st.published, 0);
    assert_int_equal(st.duplicates, 120);
    pb_jetstream_close(j);
    check_stream(f, "RESUME", "r.events", 120, 1);
}

static void test_nats_away_then_back(void **state)
{
    fx *f = *state;
    char url[64];
    pb_jetstream_config cfg = config(f, "AWAY", "a.events", url, sizeof url);
    int64_t last = append(f, 30);
    pb_jetstream *j = open_relay(f, &cfg); /* nothing listens on the port yet */
    assert_held_back(j);
    pb_jetstream_stats st;
    server_start(&f->srv);
    st = wait_relayed(j, last);
    assert_int_equal(st.published, 30);
    /* stopped mid-way, with events appended meanwhile */
    server_stop(&f->srv);
    last = append(f, 40);
    sleep_ms(600);
    pb_jetstream_stats_get(j, &st);
    assert_int_equal(st.relayed_id, 30);
    server_start(&f->srv); /* the same store directory: the stream is still there */
    st = wait_relayed(j, last);
    assert_true(st.connected);
    pb_jetstream_close(j);
    reader_open(&f->rd, f->srv.port);
    check_stream(f, "AWAY", "a.events", 70, 1);
}

static void test_pruned_before_relayed_are_lost(void **state)
{
    fx *f = *state;
    char url[64];
    pb_jetstream_config cfg = config(f, "LOST", "l.events", url, sizeof url);
    int64_t last = append(f, 10);
    pb_jetstream *j = open_relay(f, &cfg);
    wait_relayed(j, last);
    pb_jetstream_close(j);
    last = append(f, 100); /* ids 11..110 */
    size_t n = 0;
    assert_int_equal(pb_store_begin(f->c, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_event_prune(f->c, 0, 30, 1000, &n), PB_STORE_OK); /* keep 81..110 */
    assert_int_equal(pb_store_commit(f->c), PB_STORE_OK);
    assert_int_equal(n, 80);
    j = open_relay(f, &cfg);
    pb_jetstream_stats st = wait_relayed(j, last);
    assert_int_equal(st.lost, 70); /* 11..80 */
    assert_int_equal(st.published, 30);
    pb_jetstream_close(j);
    assert_int_equal(stream_count(&f->rd, "LOST"), 40);
    for (uint64_t seq = 1; seq <= 10; seq++)
        check_message(f, "LOST", "l.events", seq, (int64_t)seq);
    for (uint64_t seq = 11; seq <= 40; seq++)
        check_message(f, "LOST", "l.events", seq, (int64_t)seq + 70);
}

static void test_wrong_or_missing_stream_not_published(void **state)
{
    fx *f = *state;
    /* a stream of someone else's subjects */
    const char *subjects[] = {"other.>"};
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = "OTHER";
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    jsStreamInfo *si = NULL;
    assert_int_equal(js_AddStream(&si, f->rd.js, &sc, NULL, NULL), NATS_OK);
    jsStreamInfo_Destroy(si);
    append(f, 5);
    char url[64];
    pb_jetstream_config cfg = config(f, "OTHER", "w.events", url, sizeof url);
    pb_jetstream *j = open_relay(f, &cfg);
    assert_held_back(j);
    pb_jetstream_close(j);
    assert_int_equal(stream_count(&f->rd, "OTHER"), 0);
    /* missing, and not to be created */
    cfg = config(f, "MISSING", "w.events", url, sizeof url);
    cfg.create_stream = false;
    j = open_relay(f, &cfg);
    assert_held_back(j);
    pb_jetstream_close(j);
    assert_int_equal(stream_count(&f->rd, "MISSING"), -1);
}

static void test_settings_refused(void **state)
{
    fx *f = *state;
    char url[64], err[256];
    static const char *streams[] = {"A.B", "A B", "A*", "A>", ""};
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++) {
        pb_jetstream_config cfg = config(f, streams[i], "x.events", url, sizeof url);
        err[0] = '\0';
        assert_null(pb_jetstream_open(f->store, &cfg, err, sizeof err));
        assert_non_null(strstr(err, "stream name"));
    }
    static const char *subjects[] = {"x.*", "x.>", "x..y", ".x", "x y", ""};
    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
        pb_jetstream_config cfg = config(f, "S", subjects[i], url, sizeof url);
        err[0] = '\0';
        assert_null(pb_jetstream_open(f->store, &cfg, err, sizeof err));
        assert_non_null(strstr(err, "subject"));
    }
    pb_jetstream_config cfg = config(f, "S", "x.events", url, sizeof url);
    cfg.url = NULL;
    assert_null(pb_jetstream_open(f->store, &cfg, err, sizeof err));
    assert_non_null(strstr(err, "URL"));
}

static void test_from_new_skips_the_backlog(void **state)
{
    fx *f = *state;
    int64_t before = append(f, 12);
    char url[64];
    pb_jetstream_config cfg = config(f, "NEW", "n.events", url, sizeof url);
    cfg.from_new = true;
    pb_jetstream *j = open_relay(f, &cfg);
    int64_t last = append(f, 3);
    pb_jetstream_stats st = wait_relayed(j, last);
    assert_int_equal(st.published, 3);
    pb_jetstream_close(j);
    check_stream(f, "NEW", "n.events", 3, before + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_event_once_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_resumes_and_repeats_are_dropped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nats_away_then_back, setup_no_server, teardown),
        cmocka_unit_test_setup_teardown(test_pruned_before_relayed_are_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_or_missing_stream_not_published, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_settings_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_new_skips_the_backlog, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nats_Close();
    return rc;
}
