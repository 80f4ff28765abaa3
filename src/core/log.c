/*
 * log.c — JSON-lines logger on stderr.
 *
 * Design: the level is a C11 atomic so checking it costs nothing and needs no
 * lock. A line is built completely in memory (a 1 KiB stack buffer, growing on
 * the heap only for long messages) and handed to one fwrite, which stdio
 * performs under the stream's lock, so lines from concurrent threads never
 * interleave. The message is escaped for JSON: '"', '\\' and control bytes;
 * other bytes pass through unchanged.
 */
#include "core/log.h"

#include "core/time.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static atomic_int log_level = PB_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

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

    if (!b.failed)
        fwrite(b.p, 1, b.len, stderr);
    else
        fputs("{\"level\":\"error\",\"event\":\"log.oom\",\"msg\":\"log line dropped\"}\n", stderr);
    if (b.heap)
        free(b.p);
    if (msg != small)
        free(msg);
}
