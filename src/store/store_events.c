/*
 * store_events.c — dispatches the event outbox's statements to the connection's
 * backend (see store_events.h). Nothing here knows SQL; see sqlite/sqlite_events.c.
 */
#include "store/backend.h"

#include <stdatomic.h>

/* Each function forwards to the backend's events ops table. */
pb_store_rc pb_store_event_insert(pb_store_conn *c, const pb_store_event *e, int64_t *id)
{
    int64_t got = 0;
    pb_store_rc rc = c->be->events->insert(c, e, &got);
    if (rc != PB_STORE_OK)
        return rc;
    if (id)
        *id = got;
    if (!c->in_txn) /* its own transaction, committed already */
        pb_store_event_committed(c, got);
    else if (got > c->event_txn)
        c->event_txn = got;
    return rc;
}

pb_store_rc pb_store_event_scan(pb_store_conn *c, int64_t after_id, int64_t upto, size_t limit,
                                pb_store_event_cb cb, void *ctx)
{
    return c->be->events->scan(c, after_id, upto, limit, cb, ctx);
}

/* Raises *a to v unless it is already higher. */
static void raise_to(_Atomic int64_t *a, int64_t v)
{
    int64_t cur = atomic_load_explicit(a, memory_order_relaxed);
    while (cur < v && !atomic_compare_exchange_weak_explicit(a, &cur, v, memory_order_release,
                                                             memory_order_relaxed))
        ;
}

void pb_store_event_committed(pb_store_conn *c, int64_t id)
{
    if (id <= 0)
        return;
    if (c->deferred)
        raise_to(&c->event_unsynced, id); /* durable at this connection's next sync */
    else
        raise_to(&c->store->event_durable, id); /* the commit synced the log */
}

int64_t pb_store_event_durable(pb_store *s)
{
    return atomic_load_explicit(&s->event_durable, memory_order_acquire);
}

void pb_store_event_mark_durable(pb_store *s, int64_t id) { raise_to(&s->event_durable, id); }

pb_store_rc pb_store_event_bounds(pb_store_conn *c, int64_t *first, int64_t *last)
{
    return c->be->events->bounds(c, first, last);
}

pb_store_rc pb_store_event_newest(pb_store_conn *c, int64_t *last)
{
    return c->be->events->newest(c, last);
}

pb_store_rc pb_store_event_newest_of(pb_store_conn *c, const char *const *brands, size_t n,
                                     int64_t *last)
{
    *last = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t id = 0;
        pb_store_rc rc = c->be->events->newest_of(c, brands[i], &id);
        if (rc != PB_STORE_OK)
            return rc;
        if (id > *last)
            *last = id;
    }
    return PB_STORE_OK;
}

pb_store_rc pb_store_event_prune(pb_store_conn *c, int64_t before_us, int64_t keep_rows,
                                 size_t max_delete, size_t *deleted)
{
    return c->be->events->prune(c, before_us, keep_rows, max_delete, deleted);
}

pb_store_rc pb_store_event_relay_get(pb_store_conn *c, const char *name, int64_t *last_id,
                                     bool *found)
{
    *last_id = 0;
    *found = false;
    return c->be->events->relay_get(c, name, last_id, found);
}

pb_store_rc pb_store_event_relay_set(pb_store_conn *c, const char *name, int64_t last_id,
                                     int64_t now_us)
{
    return c->be->events->relay_set(c, name, last_id, now_us);
}
