/*
 * events.h — the transactional outbox and its dispatcher: the only door to
 * platform events (issue 7 §1).
 *
 * Appending (outbox.c, linked into every program through the store library):
 * a domain announces a state change by appending an event IN THE SAME
 * TRANSACTION as the change — on its own write transaction's connection, or,
 * inside a ledger command, on pb_ledger_tx_conn(tx), so the event commits (or
 * rolls back) with the money. Each event gets an id from the outbox that only
 * grows. The append also bumps a process-wide generation counter, a cheap
 * in-process signal that wakes the dispatcher (no polling loop while idle).
 *
 *     pb_err e = pb_events_emit(c, "bet.placed", brand, player_id, trace_id, now,
 *                               PB_EV_STR("game", game), PB_EV_MONEY("amount", minor, "EUR"));
 *
 * Every type is a row of ONE table (outbox.c): its name and the staff
 * permission needed to see it on the staff stream. Appending a type not in the
 * table is refused (INTERNAL, logged): the table is the registry.
 *
 * Dispatching (dispatcher.c, sse.c): one thread tails the outbox in id order
 * (reads id > last after each wake-up) and hands every event to in-process
 * subscribers (a callback API, called in order on the dispatcher thread) and
 * to the staff Server-Sent Events clients, each through a bounded buffer: a
 * client that does not keep up is dropped with a final event, never waited
 * for. Nothing on the money path ever waits for the dispatcher.
 *
 * Retention: the dispatcher prunes the outbox from its oldest end: rows older
 * than retention (default 7 days) and rows beyond max_rows (default 1,000,000),
 * a bounded chunk at a time, once a minute.
 */
#ifndef PB_EVENTS_EVENTS_H
#define PB_EVENTS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

/* ---- appending (outbox.c) ------------------------------------------------ */

/* One payload field: build them with the PB_EV_* macros. */
typedef struct pb_event_field {
    const char *key;
    enum { PB_EV_F_STR, PB_EV_F_INT, PB_EV_F_BOOL, PB_EV_F_MONEY, PB_EV_F_JSON } kind;
    /* STR: the text (NULL → null); MONEY: the currency; JSON: raw JSON text */
    const char *str;
    int64_t num; /* INT, BOOL, MONEY (minor units) */
} pb_event_field;

#define PB_EV_STR(k, v) ((pb_event_field){.key = (k), .kind = PB_EV_F_STR, .str = (v)})
#define PB_EV_INT(k, v) ((pb_event_field){.key = (k), .kind = PB_EV_F_INT, .num = (v)})
#define PB_EV_BOOL(k, v) ((pb_event_field){.key = (k), .kind = PB_EV_F_BOOL, .num = !!(v)})
/* A money amount: "<k>": "10.00" (decimal string in the currency's exponent) and
 * "currency": cur. */
#define PB_EV_MONEY(k, minor, cur) \
    ((pb_event_field){.key = (k), .kind = PB_EV_F_MONEY, .str = (cur), .num = (minor)})
/* Raw JSON text the caller vouches for (an object or array it produced). */
#define PB_EV_JSON(k, text) ((pb_event_field){.key = (k), .kind = PB_EV_F_JSON, .str = (text)})

/*
 * Appends an event on c, inside the caller's open write transaction.
 *   type      a type of the table ("deposit.completed", …)
 *   brand     the brand code it belongs to ("" / NULL: platform-wide)
 *   subject   the player / staff public id it is about ("" / NULL: none)
 *   trace_id  the W3C trace id of the change ("" / NULL: none)
 *   now       µs since the epoch (the transaction's clock)
 *   fields    the payload object's fields, n of them
 * *id (may be NULL) receives the event's id. PB_OK, INTERNAL (unknown type,
 * oversize payload: logged) or STORE_UNAVAILABLE (the insert failed: the
 * caller's transaction must fail too).
 */
pb_err pb_events_append(pb_store_conn *c, const char *type, const char *brand, const char *subject,
                        const char *trace_id, int64_t now, const pb_event_field *fields, size_t n,
                        int64_t *id);

/* pb_events_append at a given id (> 0; 0: the next one, as pb_events_append): a
 * restore's `platform.restored`, above every id the replaced database may have
 * issued (src/cli/cmd_erasures.c). STORE_UNAVAILABLE too when the id is taken. */
pb_err pb_events_append_at(pb_store_conn *c, int64_t at, const char *type, const char *brand,
                           const char *subject, const char *trace_id, int64_t now,
                           const pb_event_field *fields, size_t n, int64_t *id);

/* pb_events_append with the fields given inline: one call per change. */
#define pb_events_emit_at(c, at, type, brand, subject, trace_id, now, ...)                      \
    pb_events_append_at((c), (at), (type), (brand), (subject), (trace_id), (now),               \
                        (const pb_event_field[]){__VA_ARGS__},                                  \
                        sizeof((const pb_event_field[]){__VA_ARGS__}) / sizeof(pb_event_field), \
                        NULL)
#define pb_events_emit(c, type, brand, subject, trace_id, now, ...)      \
    pb_events_append((c), (type), (brand), (subject), (trace_id), (now), \
                     (const pb_event_field[]){__VA_ARGS__},              \
                     sizeof((const pb_event_field[]){__VA_ARGS__}) / sizeof(pb_event_field), NULL)

/* The event types: name, and the staff permission that sees it on the stream. */
typedef struct pb_event_type {
    const char *name;
    const char *permission; /* a PB_PERMISSIONS name ("finance.read") */
    /* platform-wide events of this type reach every member with the permission, not
     * only those who see every brand: what they say is readable by members of any
     * scope through the API anyway (reconciliation.completed: a run's counts) */
    bool every_scope;
} pb_event_type;
/* The table, and its length. Index = the type's number (< 64). */
extern const pb_event_type pb_event_types[];
extern const size_t pb_event_type_count;
/* The index of a type in the table, or -1. */
int pb_events_type_index(const char *type);

/* The process-wide wake-up: a counter every append bumps (before its commit:
 * the dispatcher looks again shortly after, see dispatcher.c). Any thread. */
uint64_t pb_events_generation(void);
/* Bumps the counter and wakes whoever waits in pb_events_wait(). */
void pb_events_kick(void);
/* Waits until the generation differs from seen, or timeout_ms passes. */
void pb_events_wait(uint64_t seen, int timeout_ms);

/* ---- dispatching (dispatcher.c) ------------------------------------------ */

/* An event as delivered: valid only during the callback. */
typedef struct pb_event {
    int64_t id;
    int type_index; /* in pb_event_types */
    const char *type;
    const char *brand;   /* "" = platform-wide */
    const char *subject; /* "" = none */
    const char *payload; /* the payload object's JSON text */
    size_t payload_len;
    int64_t created_at;
    const char *trace_id;
} pb_event;

typedef struct pb_events pb_events;

typedef struct pb_events_config {
    int64_t retention_s;   /* prune rows older than this; 0 = 7 days */
    int64_t max_rows;      /* prune beyond the newest max_rows; 0 = 1,000,000; -1 = no cap */
    int prune_interval_ms; /* 0 = 60,000; a pass that leaves rows beyond the bounds
                              is followed by the next one after prune_backlog_ms */
    int prune_backlog_ms;  /* 0 = min(1,000, prune_interval_ms) */
    int prune_chunk;       /* rows deleted per write transaction; 0 = 5,000 */
    int prune_chunks;      /* write transactions per pass; 0 = 20 */
    unsigned max_clients;  /* staff stream clients at once; 0 = 1,000 */
    size_t client_buffer;  /* bytes buffered per client before it is dropped; 0 = 256 KiB */
    int heartbeat_ms;      /* a comment line to every quiet client; 0 = 15,000 */
    int idle_poll_ms;      /* a look at the outbox when nothing woke us (other
                               processes' events); 0 = 1,000 */
    int durable_wait_ms;   /* rows committed but not known to be on disk (see
                              pb_store_event_durable) wait this long for a sync of
                              their own, the mark standing still, before the
                              dispatcher syncs the log itself; 0 = 20 */
    int recheck_ms;        /* a client's caller is re-checked (pb_events_check_fn) this
                              often; 0 = 5,000 */
} pb_events_config;

/* Opens the dispatcher over store (its own connection) and starts its thread,
 * delivering from the newest id present at open. NULL with a reason in err. */
pb_events *pb_events_open(pb_store *store, const pb_events_config *cfg, char *err, size_t errcap);
/* Stops the thread, ends every stream (clients reconnect with Last-Event-ID)
 * and frees everything. NULL is fine. */
void pb_events_close(pb_events *ev);

/* A subscriber: called on the dispatcher thread for every event, in id order,
 * exactly once per event delivered while subscribed. It must be quick and must
 * not block (it delays every other consumer, never a bet). */
typedef void (*pb_events_subscriber_fn)(void *ctx, const pb_event *e);
/* Adds a subscriber (any time). 0, or -1 when the table is full (32). */
int pb_events_subscribe(pb_events *ev, pb_events_subscriber_fn fn, void *ctx);
/* Removes it; when this returns the callback is not running and will not run. */
void pb_events_unsubscribe(pb_events *ev, pb_events_subscriber_fn fn, void *ctx);

/* Counters (for /metrics and tests). */
typedef struct pb_events_stats {
    int64_t last_id;    /* the newest id delivered */
    uint64_t delivered; /* events read from the outbox and dispatched */
    uint64_t polls;     /* outbox reads */
    unsigned clients;   /* stream clients connected */
    uint64_t dropped;   /* clients dropped for not keeping up */
    uint64_t pruned;    /* rows pruned */
    uint64_t own_syncs; /* syncs of the log the dispatcher made for rows waiting to be durable */
} pb_events_stats;
void pb_events_stats_get(pb_events *ev, pb_events_stats *out);

/* ---- stream clients (sse.c) ---------------------------------------------- */

struct pb_http_stream;

/* What a client may see. */
typedef struct pb_events_filter {
    uint64_t types;  /* bit i: pb_event_types[i] */
    bool all_brands; /* every brand (and platform-wide events) */
    /* otherwise, the types (of types) whose platform-wide events it gets too: those
     * marked every_scope */
    uint64_t platform_types;
    size_t nbrands;
    char brands[64][PB_EVENT_BRAND_MAX + 1]; /* otherwise: these brand codes */
} pb_events_filter;

/* Takes one of max_clients places; false when all are taken (reply 503
 * EVENT_STREAMS_FULL). Give it back with pb_events_client_cancel() if the
 * client is not added after all. */
bool pb_events_client_reserve(pb_events *ev);
void pb_events_client_cancel(pb_events *ev);
/* Re-checks that a client's caller may still read the stream, as the store is
 * now (its session not revoked or ended, the member active, the role unchanged):
 * called on the dispatcher thread with its connection, every recheck_ms for
 * each client, in turn (and so it must be a few quick point reads). It may narrow *f (what the
 * caller may see now). false ends the stream with an "end" event
 * {"reason":"credentials_revoked"}; so should a failed read (fail closed: the
 * client reconnects with Last-Event-ID and loses nothing if still allowed). */
typedef bool (*pb_events_check_fn)(void *ctx, pb_store_conn *c, int64_t now, pb_events_filter *f);

/*
 * Hands a reserved place's stream to the dispatcher, which now owns the
 * producer's reference. resume_after: the Last-Event-ID (events with a higher
 * id are sent from the outbox first, then live ones, without gap or repeat);
 * -1: only events from now on. expires_at (µs, 0 = never): the stream ends
 * then (the credentials it was opened with expire). once: end the stream as
 * soon as it has caught up (the backlog only). check (may be NULL): the
 * periodic re-check of the caller, with check_ctx (malloc'd; the dispatcher
 * frees it with the client, or here on failure). Make the stream with
 * pb_events_stream_notify as its notify callback.
 */
void pb_events_client_add(pb_events *ev, struct pb_http_stream *s, const pb_events_filter *f,
                          int64_t resume_after, int64_t expires_at, bool once,
                          pb_events_check_fn check, void *check_ctx);
/* The notify callback for client streams (ctx: the pb_events). */
void pb_events_stream_notify(void *ctx);
/* The per-client buffer size in force. */
size_t pb_events_client_buffer(const pb_events *ev);

#endif
