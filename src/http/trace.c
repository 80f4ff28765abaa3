/*
 * trace.c — W3C Trace Context (traceparent) and request ids.
 *
 * A request continues its caller's trace when the traceparent header is valid
 * (version 00, lower-case hex, neither id all zeros); this server's work gets a
 * new span id either way. Invalid headers are ignored, as the W3C spec asks,
 * and a fresh trace is started. Random ids come from libsodium's CSPRNG
 * (getrandom), drawn from a per-thread buffer refilled RAND_POOL bytes at a time:
 * every request needs a span id (8 bytes) and most a trace id (16), and one
 * system call per ~40 requests costs less than two per request (core/id.c does
 * the same for ids). The buffer is thread-local, so no lock; bytes are used once
 * and wiped as they are handed out.
 */
#include "http/http.h"

#include <sodium.h>
#include <string.h>

#define RAND_POOL 1024

static _Thread_local uint8_t rand_pool[RAND_POOL];
static _Thread_local size_t rand_used = RAND_POOL; /* all used: refill on first use */

/* n (<= RAND_POOL) fresh random bytes from this thread's buffer. */
static void random_bytes(uint8_t *out, size_t n)
{
    if (RAND_POOL - rand_used < n) {
        randombytes_buf(rand_pool, sizeof rand_pool);
        rand_used = 0;
    }
    memcpy(out, rand_pool + rand_used, n);
    sodium_memzero(rand_pool + rand_used, n);
    rand_used += n;
}

static const char hexdig[] = "0123456789abcdef";

/* True when s[0..n) is lower-case hex and not all zeros. */
static bool hex_id_ok(const char *s, size_t n)
{
    bool nonzero = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        if (c != '0')
            nonzero = true;
    }
    return nonzero;
}

/* The value of one lower-case hex digit, or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool pb_trace_parse(const char *h, char trace_id[PB_TRACE_ID_LEN + 1],
                    char parent_id[PB_SPAN_ID_LEN + 1], uint8_t *flags)
{
    /* 00-<32>-<16>-<2>: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 */
    if (!h || strlen(h) != 55)
        return false;
    if (h[0] != '0' || h[1] != '0' || h[2] != '-' || h[35] != '-' || h[52] != '-')
        return false;
    if (!hex_id_ok(h + 3, PB_TRACE_ID_LEN) || !hex_id_ok(h + 36, PB_SPAN_ID_LEN))
        return false;
    int f1 = hexval(h[53]), f2 = hexval(h[54]);
    if (f1 < 0 || f2 < 0)
        return false;
    memcpy(trace_id, h + 3, PB_TRACE_ID_LEN);
    trace_id[PB_TRACE_ID_LEN] = '\0';
    memcpy(parent_id, h + 36, PB_SPAN_ID_LEN);
    parent_id[PB_SPAN_ID_LEN] = '\0';
    if (flags)
        *flags = (uint8_t)(f1 << 4 | f2);
    return true;
}

/* n random bytes as 2n hex digits, retried until not all zeros. */
static void random_hex(char *out, size_t nbytes)
{
    uint8_t raw[16];
    bool nonzero;
    do {
        random_bytes(raw, nbytes);
        nonzero = false;
        for (size_t i = 0; i < nbytes; i++)
            nonzero |= raw[i] != 0;
    } while (!nonzero);
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hexdig[raw[i] >> 4];
        out[2 * i + 1] = hexdig[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
}

void pb_trace_new_trace_id(char out[PB_TRACE_ID_LEN + 1]) { random_hex(out, PB_TRACE_ID_LEN / 2); }

void pb_trace_new_span_id(char out[PB_SPAN_ID_LEN + 1]) { random_hex(out, PB_SPAN_ID_LEN / 2); }

void pb_trace_format(const char *trace_id, const char *span_id, uint8_t flags, char out[56])
{
    memcpy(out, "00-", 3);
    memcpy(out + 3, trace_id, PB_TRACE_ID_LEN);
    out[35] = '-';
    memcpy(out + 36, span_id, PB_SPAN_ID_LEN);
    out[52] = '-';
    out[53] = hexdig[flags >> 4];
    out[54] = hexdig[flags & 15];
    out[55] = '\0';
}

bool pb_request_id_valid(const char *s)
{
    if (!s)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok || n >= PB_REQUEST_ID_MAX)
            return false;
    }
    return n > 0;
}
