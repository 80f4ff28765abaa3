/*
 * bench.c — `pitboss bench wallet`: signed native bet + win pairs against a
 * running server, one player per keep-alive connection, from ONE thread with
 * epoll (the way wrk works), so the load generator takes little of the CPU
 * the server shares.
 *
 * Each connection plays its own player: bet (a fresh transaction id and
 * round), then the win that pays the stake back (so balances stay put and the
 * run can be checked at the end), then the next bet. Every request is signed
 * with HMAC-SHA256 over "<timestamp>.<body>" (the MAC's key schedule is
 * computed once; the timestamp string once a second).
 *
 *   closed loop (--rate 0): every connection sends its next call as soon as
 *     the previous answer arrived; latency = send → complete answer.
 *   open loop (--rate R): a timerfd ticks at R calls/s; each tick hands the
 *     next call to an idle connection (or queues it while all are busy);
 *     latency = the tick's intended time → complete answer, so queueing
 *     behind a slow answer is counted (no coordinated omission).
 *
 * A warm-up second is not counted. At the end every player's balance must be
 * what it was (native balance call), and every answer must have been 200.
 *
 * A keep-alive connection the server closes (its idle timeout: in the open
 * loop the connections at the bottom of the idle stack may wait longer than
 * that) is opened again, as a provider's HTTP client does; a call that was in
 * flight on it is sent again with the same transaction id (a fresh signature),
 * so its answer is the stored one if the first attempt reached the wallet —
 * the books stay exact either way. The JSON line counts the reconnections.
 *
 * The end of a run reconciles: after the deadline, a call still unanswered
 * RESEND_US (--resend-ms, default 10 s) after it was sent (a slow server, e.g. under valgrind, or one
 * that applied the call and whose answer is lost) is sent again, the same
 * request (same transaction id and body, a fresh signature), on a fresh
 * connection, and again each RESEND_US it stays unanswered, until END_US after
 * the deadline. The wallet answers the duplicate with the original stored
 * answer (or decides it, when the first attempt never reached it), so its
 * outcome is booked as for any answer: a bet accepted is then settled by its
 * win, and every balance must again be what it was. Such calls are counted in
 * the JSON line ("reconciled"), but not in the figures: calls, calls_per_s
 * and the latencies count the calls started in the measured seconds and
 * answered on the connection they were sent on (a reconciled call's latency
 * would be the time this program waited before giving up on it). A reconciled
 * answer that is not 200 counts in non_200 (and fails the run), as does a call
 * still unanswered END_US after the deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/cpu.h"
#include "core/sha256.h"
#include "core/time.h"
#include "sim/sim_internal.h"

#define IN_CAP 16384
#define OUT_CAP 2048
#define RESEND_DEFAULT_MS 10000 /* after the deadline: a call unanswered this long is sent again */
#define RESEND_US(b) \
    ((int64_t)((b)->o->resend_ms > 0 ? (b)->o->resend_ms : RESEND_DEFAULT_MS) * 1000)
#define END_US 70000000LL /* ... until this long after the deadline, then the run fails */

typedef struct bconn {
    int idx, fd;
    sim_player pl;
    uint64_t n; /* rounds played */
    int phase;  /* 0: the next call is a bet, 1: its win */
    bool busy;
    bool reconciled; /* the call in flight was sent again at the end (not in the figures) */
    int64_t t0;      /* latency origin of the call in flight (µs, monotonic) */
    int64_t sent;    /* when it was last sent (µs, monotonic) */
    char out[OUT_CAP];
    size_t outlen, outoff;
    char in[IN_CAP];
    size_t inlen;
} bconn;

typedef struct bench {
    const pb_sim_bench_options *o;
    pb_sim_options so; /* what the simulator's setup code reads */
    sim_run r;
    bconn *c;
    int n;
    int ep, tfd;
    char stake[PB_MONEY_STR_MAX];
    char ts[24];
    int64_t ts_sec;
    int64_t measure_from, deadline; /* µs, monotonic */
    int64_t *lat;
    size_t nlat, cap;
    uint64_t calls, errors, send_errors, reconnects, reconciled;
    int64_t tick0, interval_us;
    uint64_t ticks_done;
    int64_t *queue; /* intended times of ticks waiting for an idle connection */
    size_t qhead, qtail, qcap;
    int *idle;
    int nidle;
    char first_error[400];
    pb_cpu_times cpu0, cpu1; /* the machine's CPU time at the start and end of the measure */
    bool have_cpu0, have_cpu1;
    int64_t self0, self1; /* this process's CPU time (µs, user + system) at the same moments */
} bench;

static void sign(bench *b, const char *body, size_t len, char out[PB_SIM_SIG_BUF])
{
    int64_t now = time(NULL);
    if (now != b->ts_sec) {
        b->ts_sec = now;
        snprintf(b->ts, sizeof b->ts, "%lld", (long long)now);
    }
    uint8_t mac[PB_SHA256_LEN];
    const pb_sha256_part parts[] = {{b->ts, strlen(b->ts)}, {".", 1}, {body, len}};
    pb_hmac_sha256(b->o->secret, b->o->secret_len, parts, 3, mac);
    static const char hx[] = "0123456789abcdef";
    memcpy(out, "sha256=", 7);
    for (int i = 0; i < 32; i++) {
        out[7 + 2 * i] = hx[mac[i] >> 4];
        out[8 + 2 * i] = hx[mac[i] & 15];
    }
    out[71] = '\0';
}

/* Writes the connection's next call (bet or win) into its output buffer. */
static void build(bench *b, bconn *c)
{
    char body[768], sig[PB_SIM_SIG_BUF];
    const pb_sim_bench_options *o = b->o;
    int blen;
    const char *call;
    if (c->phase == 0) {
        call = "bet";
        blen = snprintf(body, sizeof body,
                        "{\"token\":\"%s\",\"transaction_id\":\"%s-%d-%" PRIu64 "b\","
                        "\"round_id\":\"%s-%d-%" PRIu64 "\",\"game\":\"%s\",\"currency\":\"%s\","
                        "\"amount\":\"%s\"}",
                        c->pl.a.launch_token, b->r.run_id, c->idx, c->n, b->r.run_id, c->idx, c->n,
                        o->game, c->pl.cur->code, b->stake);
    } else {
        call = "win";
        blen = snprintf(body, sizeof body,
                        "{\"token\":\"%s\",\"transaction_id\":\"%s-%d-%" PRIu64 "w\","
                        "\"round_id\":\"%s-%d-%" PRIu64 "\",\"bet_transaction_id\":\"%s-%d-%" PRIu64
                        "b\",\"currency\":\"%s\",\"amount\":\"%s\"}",
                        c->pl.a.launch_token, b->r.run_id, c->idx, c->n, b->r.run_id, c->idx, c->n,
                        b->r.run_id, c->idx, c->n, c->pl.cur->code, b->stake);
    }
    sign(b, body, (size_t)blen, sig);
    int h = snprintf(c->out, sizeof c->out,
                     "POST %s/v1/providers/%s/%s HTTP/1.1\r\nHost: %s:%s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %d\r\n"
                     "X-Pitboss-Timestamp: %s\r\nX-Pitboss-Signature: %s\r\n\r\n",
                     b->r.t.prefix, o->provider, call, b->r.t.host, b->r.t.port, blen, b->ts, sig);
    memcpy(c->out + h, body, (size_t)blen);
    c->outlen = (size_t)h + (size_t)blen;
    c->outoff = 0;
}

static void set_out_interest(bench *b, bconn *c, bool want_out)
{
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0),
                             .data.u32 = (uint32_t)c->idx};
    epoll_ctl(b->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int flush_out(bench *b, bconn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t k = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_out_interest(b, c, true);
            return 0;
        }
        if (k <= 0)
            return -1;
        c->outoff += (size_t)k;
    }
    return 0;
}

static int reconnect(bench *b, bconn *c);

/* Starts the connection's next call with latency origin t0 (on a new
 * connection if the server has closed this one). */
static void start(bench *b, bconn *c, int64_t t0)
{
    build(b, c);
    c->busy = true;
    c->reconciled = false;
    c->t0 = t0;
    c->sent = pb_time_mono_us();
    if (flush_out(b, c) != 0 && reconnect(b, c) != 0) {
        b->send_errors++;
        c->busy = false;
    }
}

static void record(bench *b, int64_t us)
{
    if (b->nlat == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1 << 16;
        int64_t *p = realloc(b->lat, cap * sizeof *p);
        if (!p)
            return;
        b->lat = p;
        b->cap = cap;
    }
    b->lat[b->nlat++] = us;
}

/* An idle connection takes the oldest queued tick, if any (open loop). */
static void make_idle(bench *b, bconn *c, int64_t now)
{
    c->busy = false;
    if (b->qhead != b->qtail) { /* open loop: a tick (before the deadline) waits */
        int64_t t0 = b->queue[b->qhead++ % b->qcap];
        start(b, c, t0);
        return;
    }
    if (now >= b->deadline) {
        if (c->phase == 1) /* settle the last bet, so that every balance is back */
            start(b, c, now);
        return;
    }
    if (b->o->rate <= 0) {
        start(b, c, now);
        return;
    }
    b->idle[b->nidle++] = c->idx;
}

static void on_answer(bench *b, bconn *c, const pb_sim_resp *r, int64_t now)
{
    bool ok = r->status == 200;
    if (c->reconciled) { /* not in the figures (see the top); a refusal still fails the run */
        if (!ok)
            b->errors++;
    } else if (c->t0 >= b->measure_from && c->t0 < b->deadline) {
        b->calls++;
        record(b, now - c->t0);
        if (!ok)
            b->errors++;
    }
    if (!ok && !b->first_error[0])
        snprintf(b->first_error, sizeof b->first_error, "%s %d %.*s", c->phase ? "win" : "bet",
                 r->status, (int)(r->body_len > 300 ? 300 : r->body_len), r->body);
    if (c->phase == 0 && ok) {
        c->phase = 1;
    } else {
        c->phase = 0;
        c->n++;
    }
}

/* Reads what arrived and handles every complete answer in it. 0, or 1 when the
 * server closed the connection (after the answers that came before the close
 * were handled), -1 on a read error or an answer that cannot be parsed. */
static int on_readable(bench *b, bconn *c)
{
    bool closed = false;
    for (;;) {
        ssize_t k = recv(c->fd, c->in + c->inlen, IN_CAP - c->inlen, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (k < 0 && (errno == ECONNRESET || errno == EPIPE)) {
            closed = true;
            break;
        }
        if (k < 0)
            return -1;
        if (k == 0) {
            closed = true;
            break;
        }
        size_t room = IN_CAP - c->inlen;
        c->inlen += (size_t)k;
        if ((size_t)k < room)
            break; /* drained for now: epoll (level-triggered) says when more arrives, so
                      no second recv() to hear EAGAIN */
    }
    for (;;) {
        pb_sim_resp r;
        ssize_t used = c->inlen ? pb_sim_http_parse(c->in, c->inlen, &r) : 0;
        if (used < 0)
            return -1;
        if (used == 0)
            break;
        if (!c->busy)
            return -1; /* an answer nobody asked for */
        int64_t now = pb_time_mono_us();
        on_answer(b, c, &r, now);
        memmove(c->in, c->in + used, c->inlen - (size_t)used);
        c->inlen -= (size_t)used;
        make_idle(b, c, now);
    }
    return closed ? 1 : 0;
}

/* Open loop: the ticks due since the last look, each to an idle connection or the queue. */
static void on_ticks(bench *b, int64_t now)
{
    uint64_t expirations;
    if (read(b->tfd, &expirations, sizeof expirations) != sizeof expirations)
        return;
    uint64_t due = (uint64_t)((now - b->tick0) / b->interval_us) + 1;
    while (b->ticks_done < due) {
        int64_t t0 = b->tick0 + (int64_t)b->ticks_done * b->interval_us;
        b->ticks_done++;
        if (t0 >= b->deadline)
            break;
        if (b->nidle > 0) {
            bconn *c = &b->c[b->idle[--b->nidle]];
            start(b, c, t0);
        } else if (b->qtail - b->qhead < b->qcap) {
            b->queue[b->qtail++ % b->qcap] = t0;
        }
    }
}

/* Opens connection c (non-blocking, TCP_NODELAY) and adds it to the epoll set. */
static int connect_one(bench *b, bconn *c)
{
    int fd = socket(b->r.t.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&b->r.t.addr, b->r.t.addrlen) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)c->idx};
    if (epoll_ctl(b->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    return 0;
}

static int connect_all(bench *b)
{
    for (int i = 0; i < b->n; i++)
        if (connect_one(b, &b->c[i]) != 0)
            return -1;
    return 0;
}

/* The server closed c: a new connection, and the call in flight (if any) sent
 * again, rebuilt with the same ids (and a fresh timestamp and signature); its
 * latency still counts from the first attempt. -1 when the server cannot be
 * reached any more. */
static int reconnect(bench *b, bconn *c)
{
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->inlen = 0;
    b->reconnects++;
    if (connect_one(b, c) != 0)
        return -1;
    if (c->busy) {
        build(b, c);
        c->sent = pb_time_mono_us();
        if (flush_out(b, c) != 0)
            return -1;
    }
    return 0;
}

/* The end of the run: the call in flight on c, unanswered RESEND_US after it
 * was sent, is sent again (the same request, a fresh signature) on a fresh
 * connection; the old one is closed, so its late answer cannot be read as the
 * new one's. When the server cannot be reached just now, the next look tries
 * again. */
static void reconcile(bench *b, bconn *c, int64_t now)
{
    if (!c->reconciled)
        b->reconciled++;
    c->reconciled = true;
    c->sent = now;
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->inlen = 0;
    if (connect_one(b, c) != 0)
        return;
    build(b, c);
    if (flush_out(b, c) != 0) {
        close(c->fd);
        c->fd = -1;
    }
}

/* This process's CPU time so far (user + system, µs): the load generator's own share. */
static int64_t self_cpu_us(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0)
        return 0;
    return (int64_t)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000 + u.ru_utime.tv_usec +
           u.ru_stime.tv_usec;
}

/* The event loop until the deadline has passed and the calls in flight are
 * answered (reconciled if need be: see the top of this file). */
static int run_loop(bench *b)
{
    int64_t start_us = pb_time_mono_us();
    b->measure_from = start_us + 1000000; /* one warm-up second */
    b->deadline = b->measure_from + (int64_t)(b->o->seconds * 1e6);
    if (b->o->rate > 0) {
        b->interval_us = (int64_t)(1e6 / b->o->rate);
        if (b->interval_us < 1)
            b->interval_us = 1;
        b->tick0 = start_us;
        b->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        struct itimerspec its = {.it_interval = {b->interval_us / 1000000,
                                                 (b->interval_us % 1000000) * 1000},
                                 .it_value = {0, 1000}};
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
        if (b->tfd < 0 || timerfd_settime(b->tfd, 0, &its, NULL) != 0 ||
            epoll_ctl(b->ep, EPOLL_CTL_ADD, b->tfd, &ev) != 0)
            return -1;
        for (int i = 0; i < b->n; i++)
            b->idle[b->nidle++] = i;
    } else {
        for (int i = 0; i < b->n; i++)
            start(b, &b->c[i], pb_time_mono_us());
    }
    struct epoll_event evs[128];
    bool settling = false; /* past the deadline, the idle connections' last bets settled */
    for (;;) {
        int64_t now = pb_time_mono_us();
        if (!b->have_cpu0 && now >= b->measure_from) {
            b->have_cpu0 = pb_cpu_times_read(&b->cpu0) == 0;
            b->self0 = self_cpu_us();
        }
        if (!b->have_cpu1 && now >= b->deadline) {
            b->have_cpu1 = pb_cpu_times_read(&b->cpu1) == 0;
            b->self1 = self_cpu_us();
        }
        if (now >= b->deadline) {
            if (!settling) /* open loop: idle connections settle their last bet */
                for (int i = 0; i < b->n; i++)
                    if (!b->c[i].busy && b->c[i].phase == 1)
                        start(b, &b->c[i], now);
            settling = true;
            int busy = 0;
            for (int i = 0; i < b->n; i++)
                busy += b->c[i].busy;
            if (!busy)
                break;
            if (now > b->deadline + END_US) {
                fprintf(stderr,
                        "bench: %d calls still unanswered %lld s after the end (sent again"
                        " every %lld ms)\n",
                        busy, END_US / 1000000, (long long)(RESEND_US(b) / 1000));
                b->errors += (uint64_t)busy;
                break;
            }
            for (int i = 0; i < b->n; i++) /* reconcile: see the top of this file */
                if (b->c[i].busy && now - b->c[i].sent >= RESEND_US(b))
                    reconcile(b, &b->c[i], now);
        }
        int k = epoll_wait(b->ep, evs, 128, 100);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        now = pb_time_mono_us();
        for (int i = 0; i < k; i++) {
            uint32_t id = evs[i].data.u32;
            if (id == UINT32_MAX) {
                on_ticks(b, now);
                continue;
            }
            bconn *c = &b->c[id];
            if ((evs[i].events & EPOLLOUT) && c->outoff < c->outlen) {
                if (flush_out(b, c) != 0 && reconnect(b, c) != 0) {
                    fprintf(stderr, "bench: connection %d was closed and cannot be opened again\n",
                            c->idx);
                    return -1;
                }
                if (c->outoff == c->outlen)
                    set_out_interest(b, c, false);
            }
            if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                continue;
            int rr = on_readable(b, c);
            if (rr < 0) {
                fprintf(stderr, "bench: connection %d: a read failed or the answer is not HTTP\n",
                        c->idx);
                return -1;
            }
            if (rr > 0 && reconnect(b, c) != 0) {
                fprintf(stderr, "bench: connection %d was closed and cannot be opened again\n",
                        c->idx);
                return -1;
            }
        }
    }
    return 0;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, c = *(const int64_t *)y;
    return a < c ? -1 : a > c;
}

static double pct(const int64_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)((double)n * p);
    return (double)v[i < n ? i : n - 1] / 1000.0;
}

static void report(bench *b, double secs, bool balances_ok)
{
    qsort(b->lat, b->nlat, sizeof *b->lat, cmp_i64);
    const pb_sim_bench_options *o = b->o;
    FILE *f = o->out ? o->out : stdout;
    double cps = secs > 0 ? (double)b->calls / secs : 0;
    double p50 = pct(b->lat, b->nlat, 0.50), p90 = pct(b->lat, b->nlat, 0.90),
           p99 = pct(b->lat, b->nlat, 0.99), mx = b->nlat ? (double)b->lat[b->nlat - 1] / 1000 : 0;
    /* the whole machine's CPU over the measured seconds: server, generator, kernel */
    pb_cpu_share cpu = b->have_cpu0 && b->have_cpu1 ? pb_cpu_times_share(&b->cpu0, &b->cpu1)
                                                    : (pb_cpu_share){0};
    /* the generator's own CPU a call: what it takes from the two CPUs the server shares */
    double client_us = b->have_cpu1 && b->calls ? (double)(b->self1 - b->self0) / (double)b->calls
                                                : 0;
    fprintf(f,
            "{\"bench\":\"wallet\",\"label\":\"%s\",\"mode\":\"%s\",\"connections\":%d,"
            "\"target_rate\":%.0f,\"seconds\":%.2f,\"calls\":%" PRIu64 ",\"calls_per_s\":%.0f,"
            "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"non_200\":%" PRIu64
            ",\"reconnects\":%" PRIu64 ",\"reconciled\":%" PRIu64
            ",\"cpu_busy_pct\":%.1f,\"cpu_iowait_pct\":%.1f,"
            "\"cpu_steal_pct\":%.1f,\"client_cpu_us_per_call\":%.1f,\"balances\":\"%s\"}\n",
            o->label ? o->label : "", o->rate > 0 ? "open" : "closed", b->n, o->rate, secs,
            b->calls, cps, p50, p90, p99, mx, b->errors, b->reconnects, b->reconciled, cpu.busy_pct,
            cpu.iowait_pct, cpu.steal_pct, client_us, balances_ok ? "ok" : "FAILED");
    fprintf(f,
            "bench wallet%s%s: %d connections, %s: %.0f calls/s (bet + win), latency p50 %.2f ms,"
            " p90 %.2f ms, p99 %.2f ms, max %.2f ms; %" PRIu64 " non-200; balances %s;"
            " machine CPU %.0f%% busy, %.1f%% stolen; load generator %.1f µs of CPU a call\n",
            o->label ? " " : "", o->label ? o->label : "", b->n,
            o->rate > 0 ? "open loop" : "closed loop", cps, p50, p90, p99, mx, b->errors,
            balances_ok ? "ok" : "FAILED", cpu.busy_pct, cpu.steal_pct, client_us);
    if (b->first_error[0])
        fprintf(f, "first refusal: %s\n", b->first_error);
    fflush(f);
}

/* Sets the players up (one per connection) with the simulator's code. */
static int setup(bench *b)
{
    const pb_sim_bench_options *o = b->o;
    pb_sim_options so = {0};
    so.url = o->url;
    so.provider = o->provider;
    so.brand = o->brand;
    so.game = o->game;
    so.country = o->country ? o->country : "MT";
    so.deposit = o->deposit ? o->deposit : "100.00";
    so.players = o->connections;
    so.concurrency = 8;
    b->so = so;
    b->r.o = &b->so;
    b->r.nplayers = o->connections;
    b->r.players = calloc((size_t)o->connections, sizeof *b->r.players);
    if (!b->r.players)
        return -1;
    for (int i = 0; i < o->connections; i++)
        b->r.players[i].idx = i;
    if (sim_setup_players(&b->r) != 0)
        return -1;
    for (int i = 0; i < b->n; i++) {
        b->c[i].idx = i;
        b->c[i].fd = -1;
        b->c[i].pl = b->r.players[i];
    }
    const pb_currency *cur = b->c[0].pl.cur;
    int64_t v = 0;
    const char *st = o->stake ? o->stake : "1.00";
    if (pb_money_parse(st, strlen(st), cur, &v) != PB_MONEY_OK || v <= 0) {
        fprintf(stderr, "bench: --stake %s is not an amount in %s\n", st, cur->code);
        return -1;
    }
    return pb_money_format(v, cur, b->stake, sizeof b->stake) < 0 ? -1 : 0;
}

int pb_sim_bench_wallet_run(const pb_sim_bench_options *o)
{
    bench *b = calloc(1, sizeof *b);
    if (!b)
        return 2;
    b->o = o;
    b->n = o->connections;
    b->ep = b->tfd = -1;
    pthread_mutex_init(&b->r.mu, NULL);
    int rc = 2;
    char err[300];
    b->c = calloc((size_t)b->n, sizeof *b->c);
    for (int i = 0; b->c && i < b->n; i++)
        b->c[i].fd = -1;
    b->idle = calloc((size_t)b->n, sizeof *b->idle);
    b->qcap = 1 << 20;
    b->queue = calloc(b->qcap, sizeof *b->queue);
    if (!b->c || !b->idle || !b->queue) {
        fprintf(stderr, "bench: out of memory\n");
        goto out;
    }
    if (pb_sim_target_parse(o->url, &b->r.t, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        goto out;
    }
    snprintf(b->r.p.code, sizeof b->r.p.code, "%s", o->provider);
    memcpy(b->r.p.secret, o->secret, o->secret_len);
    b->r.p.secret_len = o->secret_len;
    snprintf(b->r.run_id, sizeof b->r.run_id, "w%08" PRIx64,
             (uint64_t)(((uint64_t)(pb_time_now_us() / 1000) ^ ((uint64_t)getpid() << 20)) &
                        0xffffffffffu));
    if (setup(b) != 0) {
        fprintf(stderr, "bench: the players could not be set up\n");
        goto out;
    }
    b->ep = epoll_create1(EPOLL_CLOEXEC);
    if (b->ep < 0 || connect_all(b) != 0) {
        fprintf(stderr, "bench: cannot connect to %s\n", o->url);
        goto out;
    }
    int lr = run_loop(b);
    int64_t end = pb_time_mono_us();
    double secs = (double)((end < b->deadline ? end : b->deadline) - b->measure_from) / 1e6;
    /* every pair paid its stake back: balances are what the deposits made them */
    for (int i = 0; i < b->n; i++)
        b->r.players[i].books = b->c[i].pl.books;
    pb_sim_summary before = b->r.total;
    sim_check_players(&b->r);
    bool balances_ok = b->r.total.mismatches == before.mismatches &&
                       b->r.total.unexpected == before.unexpected;
    report(b, secs, balances_ok);
    rc = lr == 0 && b->errors == 0 && b->send_errors == 0 && balances_ok && b->calls > 0 ? 0 : 1;
out:
    for (int i = 0; b->c && i < b->n; i++)
        if (b->c[i].fd >= 0)
            close(b->c[i].fd);
    if (b->ep >= 0)
        close(b->ep);
    if (b->tfd >= 0)
        close(b->tfd);
    free(b->r.players);
    free(b->c);
    free(b->idle);
    free(b->queue);
    free(b->lat);
    pthread_mutex_destroy(&b->r.mu);
    free(b);
    return rc;
}
