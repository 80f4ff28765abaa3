/*
 * stream.c — streaming replies: a body produced over time by another thread
 * (the staff event stream), sent without ever making anyone wait on the client.
 *
 * Data flow: the producer appends to the stream's buffer (bounded; a write
 * that does not fit is refused whole). MHD pulls from the buffer through a
 * content-reader callback on the connection's worker thread whenever the
 * socket can take more. When the buffer is empty the reader suspends the
 * connection (MHD_suspend_connection from the reader, as MHD documents for
 * this case) and returns 0; the next write resumes it. So an idle stream costs
 * its buffer and MHD's connection, nothing else: no polling, no thread.
 *
 * A client that stops reading fills its socket buffer, then this buffer, then
 * writes are refused FULL: the producer never blocks. MHD's idle timeout ends
 * a connection that cannot send for timeout_s. The socket's send buffer is set
 * to the stream's buffer size (SO_SNDBUF; Linux doubles it): left to the
 * kernel's autotuning it grows up to net.ipv4.tcp_wmem's maximum (4 MiB by
 * default), so a stalled client would hold megabytes of kernel memory and be
 * noticed only after them. Bounded, what a stalled client costs is about three
 * times max_buffer, and it is dropped after that much.
 *
 * Lifetime: two references, the producer's (pb_http_stream_release) and the
 * MHD response's (dropped in its free callback, when MHD is done with the
 * connection's reply — the "gone" moment). The server lists open streams so
 * that the shutdown ends them before draining (pb_http_streams_close_all).
 *
 * Locking: s->mu guards the buffer and flags; srv->mu guards the list; the two
 * are never held together.
 * MHD_suspend/resume_connection are called under s->mu, so `parked` always
 * says the truth about the connection.
 */
#include "http/http_internal.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"

#define DEFAULT_MAX_BUFFER ((size_t)64 << 10)
#define READ_BLOCK 4096

struct pb_http_stream {
    pthread_mutex_t mu;
    atomic_int refs;
    pb_http_server *srv;
    struct MHD_Connection *conn;
    char *buf;
    size_t off, len, cap, max; /* unsent bytes are buf[off..len) */
    bool closed;               /* no more writes; the body ends once the buffer is sent */
    bool gone;                 /* MHD released the response: nobody reads any more */
    bool parked;               /* the reader suspended the connection, waiting for data */
    bool want_drain;           /* notify when the buffer is next empty */
    pb_http_stream_cb notify;
    void *ctx;
    /* the server's list (srv->mu) */
    pb_http_stream *prev, *next;
    bool listed;
};

/* Resumes a parked connection (s->mu held). */
static void unpark(pb_http_stream *s)
{
    if (s->parked) {
        s->parked = false;
        MHD_resume_connection(s->conn);
    }
}

static void unref(pb_http_stream *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s->buf);
    free(s);
}

static void unlist(pb_http_stream *s)
{
    pb_http_server *srv = s->srv;
    pthread_mutex_lock(&srv->mu);
    if (s->listed) {
        if (s->prev)
            s->prev->next = s->next;
        else
            srv->streams = s->next;
        if (s->next)
            s->next->prev = s->prev;
        s->listed = false;
    }
    pthread_mutex_unlock(&srv->mu);
}

/* MHD's content reader: hands out buffered bytes, ends the body once closed
 * and drained, or parks the connection until the next write. */
static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    pb_http_stream *s = cls;
    (void)pos;
    bool notify = false;
    ssize_t n;
    pthread_mutex_lock(&s->mu);
    if (s->len > s->off) {
        size_t k = s->len - s->off < max ? s->len - s->off : max;
        memcpy(out, s->buf + s->off, k);
        s->off += k;
        if (s->off == s->len) {
            s->off = s->len = 0;
            notify = s->want_drain;
            s->want_drain = false;
        }
        n = (ssize_t)k;
    } else if (s->closed) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        s->parked = true;
        MHD_suspend_connection(s->conn);
        n = 0;
    }
    pthread_mutex_unlock(&s->mu);
    if (notify && s->notify)
        s->notify(s->ctx);
    return n;
}

/* MHD is done with the response: the client is gone (or the body ended). */
static void on_free(void *cls)
{
    pb_http_stream *s = cls;
    unlist(s);
    pthread_mutex_lock(&s->mu);
    s->gone = s->closed = true;
    s->parked = false;
    pthread_mutex_unlock(&s->mu);
    if (s->notify)
        s->notify(s->ctx);
    unref(s);
}

pb_http_stream *pb_http_reply_stream(pb_http_request *req, const char *content_type,
                                     size_t max_buffer, pb_http_stream_cb notify, void *ctx)
{
    pb_http_stream *s = calloc(1, sizeof *s);
    if (!s) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    atomic_init(&s->refs, 2);
    s->srv = req->srv;
    s->conn = req->conn;
    s->max = max_buffer ? max_buffer : DEFAULT_MAX_BUFFER;
    s->notify = notify;
    s->ctx = ctx;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, READ_BLOCK, reader,
                                                               s, on_free);
    if (!r) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return NULL;
    }
    pb_http_req_decorate(req, r, content_type);
    MHD_add_response_header(r, "X-Accel-Buffering", "no"); /* proxies: do not buffer */
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn,
                                                                 MHD_CONNECTION_INFO_CONNECTION_FD);
    int sndbuf = s->max > (size_t)(1 << 30) ? 1 << 30 : (int)s->max;
    if (ci && setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) != 0)
        pb_log(PB_LOG_WARN, "http.stream_sndbuf", "could not bound a stream's send buffer");
    pb_http_server *srv = req->srv;
    pthread_mutex_lock(&srv->mu);
    if (atomic_load(&srv->draining)) {
        s->closed = true; /* the shutdown's sweep has run or is running */
    } else {
        s->next = srv->streams;
        if (srv->streams)
            srv->streams->prev = s;
        srv->streams = s;
        s->listed = true;
    }
    pthread_mutex_unlock(&srv->mu);
    pb_http_req_deliver(req, 200, r);
    return s;
}

pb_http_stream_rc pb_http_stream_write(pb_http_stream *s, const void *data, size_t len)
{
    pb_http_stream_rc rc = PB_HTTP_STREAM_OK;
    pthread_mutex_lock(&s->mu);
    if (s->closed) {
        rc = PB_HTTP_STREAM_CLOSED;
    } else if (len > s->max - (s->len - s->off)) {
        s->want_drain = true;
        rc = PB_HTTP_STREAM_FULL;
    } else if (len) {
        if (s->off && s->len + len > s->cap) { /* slide the unsent bytes to the front */
            memmove(s->buf, s->buf + s->off, s->len - s->off);
            s->len -= s->off;
            s->off = 0;
        }
        if (s->len + len > s->cap) {
            size_t cap = s->cap ? s->cap : 1024;
            while (cap < s->len + len)
                cap *= 2;
            if (cap > s->max)
                cap = s->max;
            char *p = realloc(s->buf, cap);
            if (!p) {
                pthread_mutex_unlock(&s->mu);
                return PB_HTTP_STREAM_FULL;
            }
            s->buf = p;
            s->cap = cap;
        }
        memcpy(s->buf + s->len, data, len);
        s->len += len;
        unpark(s);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

size_t pb_http_stream_buffered(pb_http_stream *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->len - s->off;
    pthread_mutex_unlock(&s->mu);
    return n;
}

size_t pb_http_stream_capacity(const pb_http_stream *s) { return s->max; }

void pb_http_stream_want_drain(pb_http_stream *s)
{
    pthread_mutex_lock(&s->mu);
    bool now = s->len == s->off && !s->gone;
    if (!now)
        s->want_drain = true;
    pthread_mutex_unlock(&s->mu);
    if (now && s->notify)
        s->notify(s->ctx);
}

bool pb_http_stream_closed(pb_http_stream *s)
{
    pthread_mutex_lock(&s->mu);
    bool c = s->closed;
    pthread_mutex_unlock(&s->mu);
    return c;
}

void pb_http_stream_close(pb_http_stream *s)
{
    pthread_mutex_lock(&s->mu);
    s->closed = true;
    unpark(s); /* so that the reader ends the body */
    pthread_mutex_unlock(&s->mu);
}

void pb_http_stream_release(pb_http_stream *s)
{
    if (!s)
        return;
    pb_http_stream_close(s);
    unref(s);
}

void pb_http_streams_close_all(pb_http_server *srv)
{
    /* detach the list under srv->mu, each stream with a reference of ours (a
     * listed stream still has MHD's, so none is being freed), then close them
     * without srv->mu: resuming takes MHD's own lock, which MHD may hold while
     * it calls on_free (that takes srv->mu) */
    pthread_mutex_lock(&srv->mu);
    pb_http_stream *list = srv->streams;
    srv->streams = NULL;
    for (pb_http_stream *s = list; s; s = s->next) {
        atomic_fetch_add(&s->refs, 1);
        s->listed = false;
    }
    pthread_mutex_unlock(&srv->mu);
    for (pb_http_stream *s = list, *next; s; s = next) {
        next = s->next; /* unlisted: nobody else follows or changes these links now */
        pb_http_stream_close(s);
        unref(s);
    }
}
