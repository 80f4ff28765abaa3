/*
 * events_internal.h — what dispatcher.c and sse.c share (private to src/events/).
 *
 * Threads: the dispatcher thread owns `conn`, `last`, the live client list and
 * everything in a client; handlers only push new clients onto `incoming`
 * (under mu) and take/give places through `nclients`. Subscribers are a small
 * table under mu (the dispatcher holds mu while calling them, so unsubscribe
 * waits for a call in progress).
 */
#ifndef PB_EVENTS_INTERNAL_H
#define PB_EVENTS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "events/events.h"
#include "http/http.h"

#define PB_EVENTS_MAX_SUBSCRIBERS 32
#define PB_EVENTS_BATCH 512 /* rows per outbox read */

/* A growable text buffer (an SSE frame). */
typedef struct frame {
    char *p;
    size_t len, cap;
} frame;

/* frame.c: appending to a frame (false: out of memory), and an event's JSON
 * object, one line (the stream's data, the relayed message). */
bool ev_frame_put(frame *f, const char *s, size_t n);
bool ev_frame_puts(frame *f, const char *s);
bool ev_frame_event_json(frame *f, const pb_event *e);
/* The event an outbox row is (valid while the row is). */
pb_event ev_event_of_row(const pb_store_event *row);

typedef struct ev_client {
    struct ev_client *next;
    pb_http_stream *stream;
    pb_events_filter filter;
    int64_t cursor;           /* the last id this client was sent (or skipped as not its own) */
    bool live;                /* caught up: fed from the live batches */
    bool ended;               /* to be removed */
    bool once;                /* end once caught up */
    int64_t expires_at;       /* µs, 0 = never */
    int64_t last_write;       /* mono µs of the last bytes written (heartbeats) */
    pb_events_check_fn check; /* the caller's re-check, or NULL */
    void *check_ctx;          /* malloc'd, freed with the client */
    int64_t last_check;       /* mono µs of the last re-check (or the add) */
} ev_client;

struct pb_events {
    pb_store *store;
    pb_store_conn *conn; /* the dispatcher's own */
    pb_events_config cfg;
    pthread_t thread;
    bool started;
    atomic_bool stop;

    pthread_mutex_t mu;
    struct {
        pb_events_subscriber_fn fn;
        void *ctx;
    } subs[PB_EVENTS_MAX_SUBSCRIBERS];
    size_t nsubs;
    ev_client *incoming; /* added by handlers, taken by the dispatcher */

    /* the dispatcher thread's own */
    int64_t last; /* the newest id dispatched */
    ev_client *clients;
    int64_t next_prune, next_sweep;  /* mono µs */
    int64_t stale_mark, stale_since; /* rows waiting beyond the durable mark: the mark
                                        then, and since when (mono µs; 0: none wait) */
    frame live_frame;                /* the event being delivered, formatted once */

    atomic_uint nclients; /* places taken (reserved or connected) */
    atomic_uint_fast64_t delivered, polls, dropped, pruned;
    atomic_uint_fast64_t own_syncs; /* syncs made for rows another process appended */
    atomic_int_fast64_t last_id;
};

/* sse.c, on the dispatcher thread. */
/* Takes the incoming clients and starts their catch-up. */
void ev_clients_take(pb_events *ev);
/* Sends one live event to every live client that may see it. */
void ev_clients_deliver(pb_events *ev, const pb_event *e);
/* Catch-up reads for clients behind `last`, heartbeats, expiries, removals (and,
 * when sweep, the re-checks due). Returns when the next re-check falls due (mono
 * µs; INT64_MAX: no client has one). */
int64_t ev_clients_service(pb_events *ev, int64_t now_mono, bool sweep);
/* Ends and frees every client (close). */
void ev_clients_free(pb_events *ev);

#endif
