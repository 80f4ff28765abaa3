/*
 * store_events.c — dispatches the event outbox's statements to the connection's
 * backend (see store_events.h). Nothing here knows SQL; see sqlite/sqlite_events.c.
 */
#include "store/backend.h"

/* Each function forwards to the backend's events ops table. */
pb_store_rc pb_store_event_insert(pb_store_conn *c, const pb_store_event *e, int64_t *id)
{
    return c->be->events->insert(c, e, id);
}

pb_store_rc pb_store_event_scan(pb_store_conn *c, int64_t after_id, size_t limit,
                                pb_store_event_cb cb, void *ctx)
{
    return c->be->events->scan(c, after_id, limit, cb, ctx);
}

pb_store_rc pb_store_event_bounds(pb_store_conn *c, int64_t *first, int64_t *last)
{
    return c->be->events->bounds(c, first, last);
}

pb_store_rc pb_store_event_prune(pb_store_conn *c, int64_t before_us, int64_t keep_rows,
                                 size_t max_delete, size_t *deleted)
{
    return c->be->events->prune(c, before_us, keep_rows, max_delete, deleted);
}
