/*
 * export_stream.c — the producer-thread machinery of the back office's
 * streamed exports (the transactions CSV, the audit log's JSON lines).
 *
 * An export's handler checks everything that can fail with a 4xx or 5xx,
 * takes one of the capped places (below), records the export, replies with a
 * stream (pb_api_export_reply: a bounded buffer of PB_API_EXPORT_BUFFER, the
 * socket's send buffer bounded alike by the HTTP layer) and hands the rest to a
 * thread (pb_api_export_spawn) with its own store connection. The thread writes as it reads: pb_api_export_write puts the
 * bytes into the stream 16 KiB at a time and, when the buffer is full, sleeps
 * until the client drained it — so an export holds about its buffer whatever
 * its size, and a slow client slows the producer instead of growing memory. A
 * client that takes nothing for PB_API_EXPORT_STALL_S is given up; a client
 * that went away, or the server's shutdown (it ends every stream), makes the
 * write fail at once. A producer that writes through stdio (pb_audit_export)
 * gets a FILE* from fopencookie (pb_api_export_fopen) whose write function is
 * pb_api_export_write, so the same back-pressure applies and a refused write
 * becomes the FILE's error.
 *
 * The wake-up: the streams' notify (a buffer drained, a client went away) bumps
 * one process-wide generation and wakes every waiting export thread; each
 * retries its own write (a spurious wake costs one refused write). It is
 * process-wide and never freed because MHD may call it after the export that
 * asked is gone (when it frees the response). A waiter also wakes every second
 * on its own, to count the stall.
 *
 * The cap: every export holds a thread, a store connection (whose page cache
 * grows to 64 MiB) and its buffers for as long as its client takes, so the
 * exports running at once are capped process-wide (transactions and audit
 * together; pb_api_app.max_exports, default PB_API_EXPORTS_MAX_DEFAULT). A
 * handler reserves a place after its input checks and before it records or
 * sends anything; one over the cap is answered 503 EXPORTS_BUSY with
 * Retry-After and leaves no trace. 503 rather than 429: the limit is the
 * server's capacity, shared by every caller, not this caller's rate (a member
 * who never exported is refused while others export), and a retry may succeed
 * elsewhere or soon — the same answer as the staff event stream's cap
 * (EVENT_STREAMS_FULL). The place is given back when the export's thread has
 * dropped its connection, just before its stream ends: a client that has read
 * the body's end finds its place free again.
 *
 * Shutdown: the threads are detached and counted; pb_api_bo_exports_wait()
 * (cmd_serve.c, after the HTTP server is freed, before the store closes) waits
 * until the count is zero. By then their streams have ended, so they finish
 * quickly.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "api/api.h"
#include "api/export_stream.h"

#define SLICE 16384 /* bytes per stream write (and the FILE's buffer) */

static pthread_mutex_t exports_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t exports_cv = PTHREAD_COND_INITIALIZER;
static int exports_running;

static pthread_mutex_t places_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned places_taken; /* exports reserved and not yet released */

static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;
static uint64_t wake_gen;

void pb_api_bo_exports_wait(void)
{
    pthread_mutex_lock(&exports_mu);
    while (exports_running > 0)
        pthread_cond_wait(&exports_cv, &exports_mu);
    pthread_mutex_unlock(&exports_mu);
}

bool pb_api_export_reserve(unsigned max)
{
    if (max == 0)
        max = PB_API_EXPORTS_MAX_DEFAULT;
    pthread_mutex_lock(&places_mu);
    bool ok = places_taken < max;
    if (ok)
        places_taken++;
    pthread_mutex_unlock(&places_mu);
    return ok;
}

void pb_api_export_release(void)
{
    pthread_mutex_lock(&places_mu);
    if (places_taken > 0)
        places_taken--;
    pthread_mutex_unlock(&places_mu);
}

void pb_api_export_busy(pb_http_request *req)
{
    pb_http_add_header(req, "Retry-After", "5");
    pb_http_reply_error(req, PB_ERR_EXPORTS_BUSY, NULL);
}

/* The streams' notify: wakes every export thread. */
static void export_notify(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&wake_mu);
    wake_gen++;
    pthread_cond_broadcast(&wake_cv);
    pthread_mutex_unlock(&wake_mu);
}

pb_http_stream *pb_api_export_reply(pb_http_request *req, const char *content_type)
{
    return pb_http_reply_stream(req, content_type, PB_API_EXPORT_BUFFER, export_notify, NULL);
}

bool pb_api_export_write(pb_http_stream *s, const void *data, size_t len)
{
    const char *p = data;
    size_t off = 0;
    time_t stalled = 0;
    while (off < len) {
        size_t n = len - off < SLICE ? len - off : SLICE;
        pthread_mutex_lock(&wake_mu);
        uint64_t gen = wake_gen;
        pthread_mutex_unlock(&wake_mu);
        pb_http_stream_rc rc = pb_http_stream_write(s, p + off, n);
        if (rc == PB_HTTP_STREAM_OK) {
            off += n;
            stalled = 0;
            continue;
        }
        if (rc == PB_HTTP_STREAM_CLOSED)
            return false;
        /* FULL: the write asked for a drain notification; wait for it */
        if (!stalled)
            stalled = time(NULL);
        else if (time(NULL) - stalled > PB_API_EXPORT_STALL_S)
            return false;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_mutex_lock(&wake_mu);
        while (wake_gen == gen && pthread_cond_timedwait(&wake_cv, &wake_mu, &until) == 0)
            ;
        pthread_mutex_unlock(&wake_mu);
    }
    return true;
}

/* ---- a FILE* onto the stream ---- */

typedef struct sink {
    pb_http_stream *s;
    uint64_t *sent;
    bool failed;     /* a write was refused: every later one fails too */
    char buf[SLICE]; /* the FILE's buffer (glibc ignores setvbuf's size without one) */
} sink;

static ssize_t sink_write(void *cookie, const char *buf, size_t size)
{
    sink *k = cookie;
    if (k->failed || !pb_api_export_write(k->s, buf, size)) {
        k->failed = true;
        errno = EPIPE;
        return -1;
    }
    if (k->sent)
        *k->sent += size;
    return (ssize_t)size;
}

static int sink_close(void *cookie)
{
    free(cookie);
    return 0;
}

FILE *pb_api_export_fopen(pb_http_stream *s, uint64_t *sent)
{
    sink *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->s = s;
    k->sent = sent;
    FILE *f = fopencookie(k, "w",
                          (cookie_io_functions_t){.write = sink_write, .close = sink_close});
    if (!f) {
        free(k);
        return NULL;
    }
    if (setvbuf(f, k->buf, _IOFBF, sizeof k->buf) != 0) {
        fclose(f);
        return NULL;
    }
    return f;
}

/* ---- the producer thread ---- */

typedef struct spawned {
    void (*fn)(void *arg);
    void *arg;
} spawned;

static void *export_thread(void *p)
{
    spawned sp = *(spawned *)p;
    free(p);
    sp.fn(sp.arg);
    pthread_mutex_lock(&exports_mu);
    if (--exports_running == 0)
        pthread_cond_broadcast(&exports_cv);
    pthread_mutex_unlock(&exports_mu);
    return NULL;
}

bool pb_api_export_spawn(void (*fn)(void *arg), void *arg)
{
    spawned *sp = malloc(sizeof *sp);
    if (!sp)
        return false;
    *sp = (spawned){.fn = fn, .arg = arg};
    pthread_mutex_lock(&exports_mu);
    exports_running++;
    pthread_mutex_unlock(&exports_mu);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    bool ok = pthread_create(&t, &attr, export_thread, sp) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) {
        free(sp);
        pthread_mutex_lock(&exports_mu);
        if (--exports_running == 0)
            pthread_cond_broadcast(&exports_cv);
        pthread_mutex_unlock(&exports_mu);
    }
    return ok;
}
