/*
 * store_events.h — the event outbox's rows and statements (0011_events.sql).
 * Included by store.h. The outbox is INSERT-only for the domains (an append in
 * their own transaction) and pruned from the oldest end by the dispatcher's
 * retention pass; nothing here decides anything, it reads and writes rows.
 *
 * Ownership: a row handed to a scan callback is valid only during the callback
 * (its payload points into the backend's statement); copy what you keep. A row
 * passed to an insert is borrowed for the duration of the call.
 */
#ifndef PB_STORE_EVENTS_H
#define PB_STORE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

/* Byte lengths of the text columns (a NUL follows in the row buffers). */
#define PB_EVENT_TYPE_MAX 48
#define PB_EVENT_BRAND_MAX 32
#define PB_EVENT_SUBJECT_MAX 64
#define PB_EVENT_TRACE_MAX 32
#define PB_EVENT_PAYLOAD_MAX 16384

/* An outbox row. */
typedef struct pb_store_event {
    int64_t id; /* set by the insert; ids only grow. Given > 0 to the insert: that id
                   (a restore's jump past the ids a lost database issued) */
    char type[PB_EVENT_TYPE_MAX + 1];
    char brand[PB_EVENT_BRAND_MAX + 1];     /* "" = platform-wide */
    char subject[PB_EVENT_SUBJECT_MAX + 1]; /* player / staff public id, or "" */
    const char *payload;                    /* a JSON object's text (see Ownership) */
    size_t payload_len;
    int64_t created_at; /* µs since the epoch */
    char trace_id[PB_EVENT_TRACE_MAX + 1];
} pb_store_event;

/* A scan callback: return non-zero to stop (the scan then returns PB_STORE_OK). */
typedef int (*pb_store_event_cb)(void *ctx, const pb_store_event *e);

/* Appends e (inside the caller's write transaction); *id receives its id: the next
 * one, or e->id when it is > 0 (it must exceed every id present: CONFLICT if taken). */
pb_store_rc pb_store_event_insert(pb_store_conn *c, const pb_store_event *e, int64_t *id);
/* The rows with after_id < id <= upto (upto < 0: no upper bound), in id order, at
 * most limit of them. */
pb_store_rc pb_store_event_scan(pb_store_conn *c, int64_t after_id, int64_t upto, size_t limit,
                                pb_store_event_cb cb, void *ctx);

/*
 * Durability. A committed row is not yet on disk when its connection defers its
 * syncs (pb_store_set_deferred_sync: the ledger writer's, whose notifier syncs
 * after the commit): a power loss before that sync takes the row back. So the
 * events dispatcher delivers only rows up to pb_store_event_durable(): the
 * highest outbox id this process knows to be on disk. Every row below it is on
 * disk too, because ids grow in commit order and a sync of the log covers every
 * commit before it. It is raised by a commit that syncs (a connection that does
 * not defer), by pb_store_sync() of a deferred connection (to what that connection
 * had committed when the sync began) and by pb_store_event_mark_durable() (the
 * dispatcher's own sync, for rows another process appended).
 */
int64_t pb_store_event_durable(pb_store *s);
/* Raises the durable mark to id (never lowers it). */
void pb_store_event_mark_durable(pb_store *s, int64_t id);
/* Records that c committed event rows up to id (store.c's commit; an insert outside
 * a transaction): durable now, or at c's next sync when c defers its syncs. */
void pb_store_event_committed(pb_store_conn *c, int64_t id);
/* The lowest and highest ids present (both 0 when the outbox is empty). */
pb_store_rc pb_store_event_bounds(pb_store_conn *c, int64_t *first, int64_t *last);
/* The highest id present (0 when the outbox is empty): one key lookup, for the
 * paths that need no lower bound (every commit that appended events). */
pb_store_rc pb_store_event_newest(pb_store_conn *c, int64_t *last);
/* The highest id of an event of one of the n brands (codes; 0 when none is
 * present): one index lookup per brand (0043_staff_event_brand.sql). */
pb_store_rc pb_store_event_newest_of(pb_store_conn *c, const char *const *brands, size_t n,
                                     int64_t *last);
/* Deletes, oldest first, at most max_delete rows that are older than
 * before_us OR beyond the newest keep_rows (keep_rows 0: no row cap). The
 * newest row is never deleted. *deleted receives the count. */
pb_store_rc pb_store_event_prune(pb_store_conn *c, int64_t before_us, int64_t keep_rows,
                                 size_t max_delete, size_t *deleted);

/* A relay's mark (event_relay): the newest id the broker acknowledged. *found is
 * false (and *last_id 0) when the relay has none yet. */
pb_store_rc pb_store_event_relay_get(pb_store_conn *c, const char *name, int64_t *last_id,
                                     bool *found);
/* Sets it (insert or update), in its own write transaction when c has none open. */
pb_store_rc pb_store_event_relay_set(pb_store_conn *c, const char *name, int64_t last_id,
                                     int64_t now_us);

/* What a backend implements (reached through pb_store_backend.events). */
struct pb_store_events_ops {
    pb_store_rc (*insert)(pb_store_conn *c, const pb_store_event *e, int64_t *id);
    pb_store_rc (*scan)(pb_store_conn *c, int64_t after_id, int64_t upto, size_t limit,
                        pb_store_event_cb cb, void *ctx);
    pb_store_rc (*bounds)(pb_store_conn *c, int64_t *first, int64_t *last);
    pb_store_rc (*newest)(pb_store_conn *c, int64_t *last);
    pb_store_rc (*newest_of)(pb_store_conn *c, const char *brand, int64_t *last);
    pb_store_rc (*prune)(pb_store_conn *c, int64_t before_us, int64_t keep_rows, size_t max_delete,
                         size_t *deleted);
    pb_store_rc (*relay_get)(pb_store_conn *c, const char *name, int64_t *last_id, bool *found);
    pb_store_rc (*relay_set)(pb_store_conn *c, const char *name, int64_t last_id, int64_t now_us);
};

extern const struct pb_store_events_ops pb_store_sqlite_events_ops;

#endif
