/*
 * sse.c — the staff stream's clients, served by the dispatcher thread: the
 * Server-Sent Events framing, each client's filter, its catch-up from the
 * outbox (Last-Event-ID), live delivery, heartbeats, and dropping the ones
 * that do not keep up.
 *
 * A frame is
 *     id: <outbox id>\nevent: <type>\ndata: <one-line JSON>\n\n
 * with data = {"id","type","brand","subject","created_at","trace_id","payload"}.
 * Control frames carry no id (so a browser's Last-Event-ID stays on the last
 * real event): "reset" (the ids asked for were pruned: reload, then go on),
 * "dropped" (this client fell behind: reconnect with Last-Event-ID) and "end"
 * (the credentials the stream was opened with expired, or its caller's re-check,
 * pb_events_check_fn every recheck_ms at a sweep, refused them). Heartbeats are
 * comment lines (": hb").
 *
 * No gap, no repeat: a client joins catching up from its resume id. The
 * dispatcher feeds it outbox rows with ids up to its own `last` — paced by the
 * client's buffer (half full: wait for the drain notification) — and only then
 * marks it live; live clients receive the rows read after that, so every id is
 * offered exactly once, in order.
 *
 * Never waiting: every write goes to the client's bounded buffer (http
 * stream). A live client whose buffer cannot take a frame is sent a final
 * "dropped" frame (from a reserve kept for it) and closed; its place is freed.
 * So is every live client the event is for when its frame cannot be formatted
 * (out of memory): each resumes from the outbox rather than miss the event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/time.h"
#include "events/events_internal.h"

#define FINAL_RESERVE 256 /* bytes of each buffer kept for the final frame */

/* ---- framing ---- */

/* The SSE frame of e into f (emptied first): its id, its type as the event name,
 * and its JSON (ev_frame_event_json, one line) as the data. */
static bool frame_event(frame *f, const pb_event *e)
{
    char head[PB_EVENT_TYPE_MAX + 64];
    f->len = 0;
    snprintf(head, sizeof head, "id: %lld\nevent: %s\ndata: ", (long long)e->id, e->type);
    return ev_frame_puts(f, head) && ev_frame_event_json(f, e) && ev_frame_puts(f, "\n\n");
}

/* ---- filters and writes ---- */

static bool allowed(const ev_client *c, const pb_event *e)
{
    if (e->type_index < 0 || !(c->filter.types & (UINT64_C(1) << e->type_index)))
        return false;
    if (c->filter.all_brands)
        return true;
    if (!e->brand[0]) /* platform-wide events: all-brands staff, and the every_scope types */
        return (c->filter.platform_types >> e->type_index) & 1;
    for (size_t i = 0; i < c->filter.nbrands; i++)
        if (strcmp(c->filter.brands[i], e->brand) == 0)
            return true;
    return false;
}

/* Ends a client with a last control frame (written into the reserve). */
static void end_client(pb_events *ev, ev_client *c, const char *event, const char *data)
{
    if (c->ended)
        return;
    char buf[FINAL_RESERVE];
    int n = snprintf(buf, sizeof buf, "event: %s\ndata: %s\n\n", event, data);
    if (n > 0 && (size_t)n < sizeof buf)
        pb_http_stream_write(c->stream, buf, (size_t)n);
    pb_http_stream_close(c->stream);
    c->ended = true;
    (void)ev;
}

/* Writes a frame within the soft limit (capacity minus the final reserve).
 * false: the client is gone or could not take it. */
static bool write_soft(ev_client *c, const char *p, size_t n, bool *full)
{
    *full = false;
    size_t cap = pb_http_stream_capacity(c->stream);
    if (pb_http_stream_buffered(c->stream) + n > cap - FINAL_RESERVE) {
        *full = true;
        pb_http_stream_want_drain(c->stream);
        return false;
    }
    pb_http_stream_rc rc = pb_http_stream_write(c->stream, p, n);
    if (rc == PB_HTTP_STREAM_FULL)
        *full = true;
    else if (rc == PB_HTTP_STREAM_CLOSED)
        c->ended = true;
    if (rc == PB_HTTP_STREAM_OK)
        c->last_write = pb_time_mono_us();
    return rc == PB_HTTP_STREAM_OK;
}

/* Ends a live client that cannot be sent event e with a "dropped" frame naming
 * the last id it has (e->id - 1): it reconnects with Last-Event-ID and the
 * catch-up from the outbox brings e and what follows, so no event is skipped. */
static void drop_client(pb_events *ev, ev_client *c, const pb_event *e, const char *reason)
{
    char data[96];
    snprintf(data, sizeof data, "{\"reason\":\"%s\",\"last_event_id\":%lld}", reason,
             (long long)(e->id - 1));
    end_client(ev, c, "dropped", data);
    atomic_fetch_add(&ev->dropped, 1);
    pb_log(PB_LOG_INFO, "events.client_dropped", "a stream client dropped at event %lld: %s",
           (long long)e->id, reason);
}

void ev_clients_deliver(pb_events *ev, const pb_event *e)
{
    int framed = 0; /* 1: live_frame holds e; -1: it could not be formatted */
    for (ev_client *c = ev->clients; c; c = c->next) {
        if (!c->live || c->ended)
            continue;
        c->cursor = e->id;
        if (!allowed(c, e))
            continue;
        if (!framed) /* formatted once for every client */
            framed = frame_event(&ev->live_frame, e) ? 1 : -1;
        if (framed < 0) {
            /* out of memory for the frame: a client passed over here would miss e
             * for good (its cursor moves on), so it is ended to resume instead */
            drop_client(ev, c, e, "server_out_of_memory");
            continue;
        }
        bool full;
        if (!write_soft(c, ev->live_frame.p, ev->live_frame.len, &full) && full)
            drop_client(ev, c, e, "slow_client");
    }
}

/* ---- catch-up ---- */

typedef struct catchup_ctx {
    pb_events *ev;
    ev_client *c;
    frame f;
    size_t rows;
    bool stopped; /* the buffer filled up */
    bool reached; /* met a row beyond the dispatched id */
} catchup_ctx;

static int on_catchup_row(void *ctx, const pb_store_event *row)
{
    catchup_ctx *x = ctx;
    if (row->id > x->ev->last) {
        x->reached = true; /* beyond the dispatched: the live feed brings it */
        return 1;
    }
    x->rows++;
    pb_event e = ev_event_of_row(row);
    if (allowed(x->c, &e)) {
        bool full;
        if (!frame_event(&x->f, &e) || !write_soft(x->c, x->f.p, x->f.len, &full)) {
            x->stopped = true; /* buffer full (drain wanted) or gone: the cursor stays */
            return 1;
        }
    }
    x->c->cursor = row->id;
    return 0;
}

/* Feeds a catching-up client one batch from the outbox; marks it live once it
 * reaches the dispatched id. */
static void catch_up(pb_events *ev, ev_client *c)
{
    if (c->cursor >= ev->last) {
        c->cursor = ev->last;
        c->live = true;
        return;
    }
    size_t cap = pb_http_stream_capacity(c->stream);
    if (pb_http_stream_buffered(c->stream) > cap / 2) {
        pb_http_stream_want_drain(c->stream);
        return;
    }
    catchup_ctx x = {.ev = ev, .c = c};
    pb_store_rc rc = pb_store_event_scan(ev->conn, c->cursor, ev->last, PB_EVENTS_BATCH,
                                         on_catchup_row, &x);
    free(x.f.p);
    if (rc != PB_STORE_OK)
        return; /* tried again on the next turn */
    if (!x.stopped && (x.reached || x.rows < PB_EVENTS_BATCH)) {
        c->cursor = ev->last; /* nothing else up to `last` */
        c->live = true;
    }
}

/* ---- clients in and out ---- */

void ev_clients_take(pb_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    ev_client *in = ev->incoming;
    ev->incoming = NULL;
    pthread_mutex_unlock(&ev->mu);
    while (in) {
        ev_client *c = in;
        in = in->next;
        int64_t resume = c->cursor, first = 0, last = 0;
        c->live = false;
        if (resume < 0 || resume >= ev->last) {
            c->cursor = ev->last;
            c->live = true;
        } else if (pb_store_event_bounds(ev->conn, &first, &last) == PB_STORE_OK && first > 0 &&
                   resume < first - 1) {
            /* the ids after `resume` were pruned: say so, then go on from the oldest */
            char data[128];
            snprintf(data, sizeof data, "{\"last_event_id\":%lld,\"oldest_id\":%lld}",
                     (long long)resume, (long long)first);
            char buf[200];
            int n = snprintf(buf, sizeof buf, "event: reset\ndata: %s\n\n", data);
            pb_http_stream_write(c->stream, buf, (size_t)n);
            c->cursor = first - 1;
        }
        c->last_write = pb_time_mono_us();
        c->next = ev->clients;
        ev->clients = c;
    }
}

/* Frees a client that is out of the lists. */
static void client_free(ev_client *c)
{
    pb_http_stream_release(c->stream);
    free(c->check_ctx);
    free(c);
}

int64_t ev_clients_service(pb_events *ev, int64_t now_mono, bool sweep)
{
    int64_t due = INT64_MAX;
    int64_t now_wall = sweep ? pb_time_now_us() : 0;
    int64_t hb = (int64_t)ev->cfg.heartbeat_ms * 1000;
    int64_t recheck = (int64_t)ev->cfg.recheck_ms * 1000;
    for (ev_client **pp = &ev->clients; *pp;) {
        ev_client *c = *pp;
        if (!c->ended && !c->live)
            catch_up(ev, c);
        if (!c->ended && c->live && c->once)
            end_client(ev, c, "end", "{\"reason\":\"caught_up\"}");
        if (sweep && !c->ended) {
            if (pb_http_stream_closed(c->stream)) {
                c->ended = true;
            } else if (c->expires_at && now_wall >= c->expires_at) {
                end_client(ev, c, "end", "{\"reason\":\"credentials_expired\"}");
            } else if (c->check && now_mono - c->last_check >= recheck &&
                       (c->last_check = now_mono,
                        !c->check(c->check_ctx, ev->conn, now_wall, &c->filter))) {
                /* logged out, revoked, disabled or another role since it connected */
                end_client(ev, c, "end", "{\"reason\":\"credentials_revoked\"}");
            } else if (now_mono - c->last_write >= hb) {
                bool full;
                write_soft(c, ": hb\n\n", 6, &full);
            }
        }
        if (c->ended) {
            *pp = c->next;
            client_free(c);
            atomic_fetch_sub(&ev->nclients, 1);
            continue;
        }
        if (c->check && c->last_check + recheck < due)
            due = c->last_check + recheck;
        pp = &c->next;
    }
    return due;
}

void ev_clients_free(pb_events *ev)
{
    for (ev_client *c = ev->clients, *next; c; c = next) {
        next = c->next;
        client_free(c);
        atomic_fetch_sub(&ev->nclients, 1);
    }
    ev->clients = NULL;
    free(ev->live_frame.p);
    ev->live_frame = (frame){0};
}

/* ---- the handlers' side ---- */

bool pb_events_client_reserve(pb_events *ev)
{
    unsigned n = atomic_load(&ev->nclients);
    do {
        if (n >= ev->cfg.max_clients)
            return false;
    } while (!atomic_compare_exchange_weak(&ev->nclients, &n, n + 1));
    return true;
}

void pb_events_client_cancel(pb_events *ev) { atomic_fetch_sub(&ev->nclients, 1); }

void pb_events_client_add(pb_events *ev, pb_http_stream *s, const pb_events_filter *f,
                          int64_t resume_after, int64_t expires_at, bool once,
                          pb_events_check_fn check, void *check_ctx)
{
    ev_client *c = calloc(1, sizeof *c);
    if (!c) {
        pb_http_stream_release(s);
        free(check_ctx);
        pb_events_client_cancel(ev);
        return;
    }
    c->check = check;
    c->check_ctx = check_ctx;
    c->last_check = pb_time_mono_us();
    c->stream = s;
    c->filter = *f;
    c->cursor = resume_after;
    c->expires_at = expires_at;
    c->once = once;
    pthread_mutex_lock(&ev->mu);
    c->next = ev->incoming;
    ev->incoming = c;
    pthread_mutex_unlock(&ev->mu);
    pb_events_kick();
}

void pb_events_stream_notify(void *ctx)
{
    (void)ctx;
    pb_events_kick();
}

size_t pb_events_client_buffer(const pb_events *ev) { return ev->cfg.client_buffer; }
