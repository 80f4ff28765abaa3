/*
 * log.c — JSON-lines logger on stderr.
 *
 * Design: the level is a C11 atomic so checking it costs nothing and needs no
 * lock. A line is built completely in memory (a 1 KiB stack buffer, growing on
 * the heap only for long messages) and handed to one fwrite, which stdio
 * performs under the stream's lock, so lines from concurrent threads never
 * interleave. The message is escaped for JSON: '"', '\\' and control bytes;
 * other bytes pass through unchanged.
 *
 * The sink (pb_log_write): by default each line goes to stderr at once. A
 * server turns on buffering (pb_log_buffer_start, `serve --log-flush-ms`):
 * then info and debug lines — the access log's line per request among them —
 * are appended to one 64 KiB buffer under a mutex and written together, by a
 * flusher thread every flush_ms or by the writer of the line that does not
 * fit; a warn or error line writes what is buffered and then itself at once,
 * so nothing that needs attention waits and the order of lines is kept. One
 * write(2) per flush instead of one per request (stderr is unbuffered: each
 * fwrite was a system call under stdio's lock). What a kill -9 or a crash can
 * lose is at most flush_ms of info lines; pb_log_buffer_stop (the server's
 * stop) and exit() write the rest.
 */
#include "core/log.h"
#include "core/ticker.h"

#include "core/time.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = PB_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* ---- the sink ---- */

#define SINK_CAP ((size_t)64 << 10)

static struct {
    pthread_mutex_t mu;
    atomic_bool on;     /* lines below warn are buffered */
    pb_ticker *flusher; /* runs while buffering is on */
    bool at_exit;       /* the exit hook is registered */
    size_t len;
    char buf[SINK_CAP];
} sink = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Writes p[0..n) to fd 2 whole (a short write is continued; a failure drops
 * the rest: there is nowhere to report it). */
static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(2, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Writes what is buffered. Under sink.mu. */
static void drain_locked(void)
{
    if (sink.len) {
        write_all(sink.buf, sink.len);
        sink.len = 0;
    }
}

void pb_log_write(pb_log_level lvl, const char *line, size_t len)
{
    if (!atomic_load_explicit(&sink.on, memory_order_acquire)) {
        fwrite(line, 1, len, stderr);
        return;
    }
    pthread_mutex_lock(&sink.mu);
    if (!atomic_load_explicit(&sink.on, memory_order_relaxed)) { /* stopped meanwhile */
        drain_locked();
        write_all(line, len);
    } else if (lvl >= PB_LOG_WARN || len > SINK_CAP / 4) {
        drain_locked();
        write_all(line, len);
    } else {
        if (sink.len + len > SINK_CAP)
            drain_locked();
        memcpy(sink.buf + sink.len, line, len);
        sink.len += len;
    }
    pthread_mutex_unlock(&sink.mu);
}

void pb_log_flush(void)
{
    pthread_mutex_lock(&sink.mu);
    drain_locked();
    pthread_mutex_unlock(&sink.mu);
}

/* The flusher's pass, every flush_ms. */
static bool flusher_pass(void *arg, int64_t retry_ms)
{
    (void)arg;
    (void)retry_ms;
    pb_log_flush();
    return true;
}

static void flush_at_exit(void) { pb_log_flush(); }

int pb_log_buffer_start(unsigned flush_ms)
{
    if (flush_ms == 0 || flush_ms > PB_LOG_FLUSH_MS_MAX)
        return flush_ms == 0 ? 0 : -1;
    pthread_mutex_lock(&sink.mu);
    if (sink.flusher) {
        pthread_mutex_unlock(&sink.mu);
        return -1;
    }
    pb_ticker_spec spec = {.clock = CLOCK_MONOTONIC, .interval_ms = flush_ms, .pass = flusher_pass};
    if (!(sink.flusher = pb_ticker_start(&spec))) {
        pthread_mutex_unlock(&sink.mu);
        return -1;
    }
    if (!sink.at_exit)
        sink.at_exit = atexit(flush_at_exit) == 0;
    fflush(stderr);
    atomic_store_explicit(&sink.on, true, memory_order_release);
    pthread_mutex_unlock(&sink.mu);
    return 0;
}

void pb_log_buffer_stop(void)
{
    pthread_mutex_lock(&sink.mu);
    pb_ticker *flusher = sink.flusher;
    if (!flusher) {
        pthread_mutex_unlock(&sink.mu);
        return;
    }
    atomic_store_explicit(&sink.on, false, memory_order_release);
    pthread_mutex_unlock(&sink.mu);
    pb_ticker_stop(flusher); /* not under sink.mu: a pass under way takes it */
    pthread_mutex_lock(&sink.mu);
    drain_locked();
    sink.flusher = NULL;
    pthread_mutex_unlock(&sink.mu);
}

void pb_log_set_level(pb_log_level lvl)
{
    if (lvl >= PB_LOG_DEBUG && lvl <= PB_LOG_ERROR)
        atomic_store_explicit(&log_level, (int)lvl, memory_order_relaxed);
}

pb_log_level pb_log_get_level(void)
{
    return (pb_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

void pb_log_init(void)
{
    const char *v = getenv("PITBOSS_LOG_LEVEL");
    if (v == NULL)
        return;
    for (int i = PB_LOG_DEBUG; i <= PB_LOG_ERROR; i++) {
        if (strcasecmp(v, level_names[i]) == 0) {
            pb_log_set_level((pb_log_level)i);
            return;
        }
    }
}

/* A growable byte buffer that starts on the caller's stack. */
typedef struct {
    char *p;
    size_t len, cap;
    bool heap, failed;
} buf_t;

static void buf_reserve(buf_t *b, size_t extra)
{
    if (b->failed || b->len + extra <= b->cap)
        return;
    size_t cap = b->cap * 2;
    while (cap < b->len + extra)
        cap *= 2;
    char *np = b->heap ? realloc(b->p, cap) : malloc(cap);
    if (np == NULL) {
        b->failed = true;
        return;
    }
    if (!b->heap)
        memcpy(np, b->p, b->len);
    b->p = np;
    b->cap = cap;
    b->heap = true;
}

static void buf_put(buf_t *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    if (b->failed)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void buf_puts(buf_t *b, const char *s) { buf_put(b, s, strlen(s)); }

static void buf_put_json(buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        switch (c) {
        case '"': buf_put(b, "\\\"", 2); break;
        case '\\': buf_put(b, "\\\\", 2); break;
        case '\n': buf_put(b, "\\n", 2); break;
        case '\r': buf_put(b, "\\r", 2); break;
        case '\t': buf_put(b, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7F) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 0x0F];
                buf_put(b, esc, 6);
            } else {
                buf_put(b, (const char *)&c, 1);
            }
        }
    }
}

void pb_log(pb_log_level lvl, const char *event, const char *fmt, ...)
{
    if (lvl < PB_LOG_DEBUG || lvl > PB_LOG_ERROR || (int)lvl < atomic_load(&log_level))
        return;

    /* Format the message: stack first, heap when it does not fit. */
    char small[512];
    char *msg = small;
    va_list ap;
    int n = -1;
    if (fmt != NULL) {
        va_start(ap, fmt);
        n = vsnprintf(small, sizeof small, fmt, ap);
        va_end(ap);
    }
    if (n < 0) {
        n = 0;
        small[0] = '\0';
    } else if ((size_t)n >= sizeof small) {
        char *big = malloc((size_t)n + 1);
        if (big != NULL) {
            va_start(ap, fmt);
            vsnprintf(big, (size_t)n + 1, fmt, ap);
            va_end(ap);
            msg = big;
        } else {
            n = (int)sizeof small - 1; /* keep the truncated message */
        }
    }

    char ts[PB_TIME_STR_MAX];
    if (pb_time_format(pb_time_now_us(), ts, sizeof ts) < 0)
        ts[0] = '\0';

    char stack[1024];
    buf_t b = {stack, 0, sizeof stack, false, false};
    buf_puts(&b, "{\"ts\":\"");
    buf_puts(&b, ts);
    buf_puts(&b, "\",\"level\":\"");
    buf_puts(&b, level_names[lvl]);
    buf_puts(&b, "\",\"event\":\"");
    if (event != NULL)
        buf_put_json(&b, event, strlen(event));
    buf_puts(&b, "\",\"msg\":\"");
    buf_put_json(&b, msg, (size_t)n);
    buf_puts(&b, "\"}\n");

    if (!b.failed) {
        pb_log_write(lvl, b.p, b.len);
    } else {
        static const char oom[] =
            "{\"level\":\"error\",\"event\":\"log.oom\",\"msg\":\"log line dropped\"}\n";
        pb_log_write(PB_LOG_ERROR, oom, sizeof oom - 1);
    }
    if (b.heap)
        free(b.p);
    if (msg != small)
        free(msg);
}
