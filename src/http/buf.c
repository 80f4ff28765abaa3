/*
 * buf.c — pb_http_buf, a growable NUL-terminated byte buffer for text the
 * server renders (metrics, HTML, log lines). An allocation failure marks the
 * buffer `failed` and turns every later append into a no-op, so callers check
 * once at the end.
 */
#include "http/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for `extra` more bytes plus the terminating NUL. */
static bool buf_reserve(pb_http_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void pb_http_buf_append(pb_http_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

bool pb_http_buf_reserve(pb_http_buf *b, size_t n) { return buf_reserve(b, n); }

void pb_http_buf_puts(pb_http_buf *b, const char *s) { pb_http_buf_append(b, s, strlen(s)); }

/* Formats straight into the free space (made at least PRINTF_ROOM bytes), so
 * the usual short piece is formatted once; only a piece that does not fit is
 * formatted a second time, after the buffer has grown to its size. */
#define PRINTF_ROOM 128

void pb_http_buf_printf(pb_http_buf *b, const char *fmt, ...)
{
    if (!buf_reserve(b, PRINTF_ROOM))
        return;
    size_t room = b->cap - b->len; /* including the NUL */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->data[b->len] = '\0';
        b->failed = true;
        return;
    }
    if ((size_t)n >= room) {
        b->data[b->len] = '\0'; /* nothing appended until it fits */
        if (!buf_reserve(b, (size_t)n))
            return;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void pb_http_buf_html(pb_http_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': pb_http_buf_puts(b, "&amp;"); break;
        case '<': pb_http_buf_puts(b, "&lt;"); break;
        case '>': pb_http_buf_puts(b, "&gt;"); break;
        case '"': pb_http_buf_puts(b, "&quot;"); break;
        case '\'': pb_http_buf_puts(b, "&#39;"); break;
        default: pb_http_buf_append(b, s, 1);
        }
    }
}

void pb_http_buf_free(pb_http_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}
