/*
 * jetstream.h — the outbox relayed to NATS JetStream (ARCHITECTURE.md, Events:
 * "… and to NATS JetStream when configured").
 *
 * A thread of its own tails the outbox (rows on disk only: pb_store_event_durable)
 * from its mark and publishes each event, in id order, as one message:
 *
 *   subject   <subject>.<brand>.<type>   e.g. pitboss.events.demo.bet.placed
 *             (brand "_" for a platform-wide event), so a consumer filters by
 *             brand and type with the subject's wildcards;
 *   data      the event's JSON, the same object as the staff stream's data
 *             ({"id","type","brand","subject","created_at","trace_id","payload"});
 *   headers   Nats-Msg-Id "<subject>:<id>" (JetStream drops a message whose id
 *             it has seen within the stream's duplicate window), Pitboss-Event-Id,
 *             Pitboss-Event-Type, and Pitboss-Trace-Id when the change had one.
 *
 * Publishing is asynchronous, in rounds of up to `batch` messages; the mark moves
 * past a round only when JetStream acknowledged all of it (stored, or dropped as a
 * duplicate). A failed round (no stream, NATS down, a timeout) is published again
 * from the mark after a pause; the message ids make the repeats harmless. The mark
 * is written to event_relay about once a second and at close, so after a crash the
 * relay repeats at most that second's rounds, which JetStream drops as duplicates
 * (within its duplicate window, 2 minutes by default). Delivery to the stream is
 * therefore at least once, and exactly once while restarts are quicker than the
 * window; consumers can also drop repeats by the event id. The stream holds the
 * events in id order, except after a round JetStream refused only in part (a limit
 * of the stream's reached, say): the refused ones follow the round's later ones
 * when the round is published again.
 *
 * The relay never holds up a bet: it reads the outbox on its own connection, and
 * NATS being away only makes it wait and retry (the connection reconnects by
 * itself). Events the outbox's retention pruned before they were relayed cannot be
 * sent any more: the relay counts them (lost) and logs an error.
 */
#ifndef PB_EVENTS_JETSTREAM_H
#define PB_EVENTS_JETSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct pb_jetstream_config {
    const char *url;            /* nats://host:port (several: comma-separated); user:pass@
                                  or token@ in it are used; required */
    const char *stream;         /* the JetStream stream; NULL = "PITBOSS_EVENTS" */
    const char *subject;        /* the subjects' prefix; NULL = "pitboss.events" */
    const char *creds_file;     /* a NATS credentials file (JWT and seed); NULL: none */
    const char *ca_file;        /* TLS: the CA certificates to trust; NULL: as the URL says */
    bool create_stream;         /* create the stream (file storage, subjects <subject>.>)
                                  when it does not exist */
    bool from_new;              /* with no mark yet: start after the newest event (true),
                                  or from the oldest the outbox still holds (false) */
    int64_t duplicate_window_s; /* a created stream's duplicate window; 0 = 120 */
    int batch;                  /* messages per publish round; 0 = 256 */
    int mark_every_ms;          /* how often the mark is written; 0 = 1,000 */
    int idle_poll_ms;           /* a look at the outbox when nothing woke the relay; 0 = 1,000 */
    int retry_ms;               /* the first pause after a failed round (doubling up to
                                  5 s); 0 = 200 */
    int ack_wait_ms;            /* how long a round waits for its acknowledgements; 0 = 5,000 */
} pb_jetstream_config;

typedef struct pb_jetstream pb_jetstream;

/* Checks cfg, connects (in the background when NATS is not reachable yet: the relay
 * keeps trying) and starts the thread. NULL with a reason in err (a bad setting, the
 * store unreadable). */
pb_jetstream *pb_jetstream_open(pb_store *store, const pb_jetstream_config *cfg, char *err,
                                size_t errcap);
/* Stops the thread, writes the mark, closes the connection. NULL is fine. */
void pb_jetstream_close(pb_jetstream *j);

typedef struct pb_jetstream_stats {
    int64_t relayed_id;  /* the mark: every event up to it is in the stream */
    uint64_t published;  /* messages JetStream stored */
    uint64_t duplicates; /* messages it dropped as already stored (repeats after a failure) */
    uint64_t failures;   /* publish rounds that failed and were repeated */
    uint64_t lost;       /* events pruned from the outbox before they were relayed */
    bool connected;      /* connected to NATS, and the stream is usable */
} pb_jetstream_stats;
void pb_jetstream_stats_get(pb_jetstream *j, pb_jetstream_stats *out);

/* The event_relay name of the relay to stream: "jetstream:<stream>". */
void pb_jetstream_mark_name(const char *stream, char *out, size_t cap);

#endif
