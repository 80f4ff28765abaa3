/*
 * dispatcher.c — the thread that tails the outbox and delivers its events in
 * id order to in-process subscribers and to the staff stream clients (sse.c),
 * and prunes the outbox.
 *
 * The loop: read the rows with id > last (a primary-key range, at most
 * PB_EVENTS_BATCH), hand each to the subscribers then to the live clients,
 * let sse.c serve catching-up clients, heartbeats and removals, then sleep on
 * the process-wide wake-up (events.h) until an append or a client bumps it.
 *
 * Appends bump the wake-up BEFORE their transaction commits (the outbox lives
 * below the ledger writer and the handlers' transactions, which have no commit
 * hook). So a wake-up that finds nothing new is followed by a few more looks,
 * backing off 1, 2, 4 … 128 ms (~0.6 s in all), until the rows appear or the
 * transaction evidently rolled back; reads are at most one per MIN_GAP so a
 * storm of appends costs batched reads, not one read per bet. A wait of no more
 * than MIN_GAP (the 1 ms after a delivery, the first backoffs) is a plain sleep,
 * so appends meanwhile only bump the counter: a kick wakes the thread (a futex
 * call on the appender's thread, the ledger writer's for a bet) only from a longer
 * wait, and a steady flow of events is read every 1-2 ms without one. When nothing
 * is pending the thread sleeps until the next wake-up, or idle_poll_ms (a look
 * for rows appended by another process, e.g. a CLI).
 *
 * Order and gaps: SQLite gives ids under its single write lock, held from a
 * transaction's first insert to its commit, so rows become visible in id
 * order and "id > last" never skips one (a PostgreSQL backend will need its
 * own rule here: a sequence does not guarantee it).
 *
 * Retention (chosen: 7 days, and at most 1,000,000 rows, whichever is
 * shorter): every prune_interval_ms the thread deletes the oldest rows beyond
 * either bound, prune_chunk (5,000) at a time in short write transactions,
 * prune_chunks (20) per pass, so the write lock is never held long. A pass that
 * ends with rows still beyond a bound (its last chunk was full) is followed by
 * the next one after prune_backlog_ms (1 s), not a whole interval later: at
 * the defaults one pass a minute removes at most 100,000 rows (~1,700/s), which
 * a casino settling a few hundred bets a second outgrows (two events per round
 * and bet), and the outbox would then grow without bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/time.h"
#include "events/events_internal.h"

#define MIN_GAP_US 2000
#define BACKOFF_TRIES 11
#define SWEEP_US 1000000 /* heartbeats and expiries are looked at once a second */

typedef struct batch_ctx {
    pb_events *ev;
    size_t n;
} batch_ctx;

/* Delivers one row: subscribers in registration order, then the stream clients. */
static int on_row(void *ctx, const pb_store_event *row)
{
    batch_ctx *b = ctx;
    pb_events *ev = b->ev;
    pb_event e = ev_event_of_row(row);
    pthread_mutex_lock(&ev->mu);
    for (size_t i = 0; i < ev->nsubs; i++)
        ev->subs[i].fn(ev->subs[i].ctx, &e);
    pthread_mutex_unlock(&ev->mu);
    if (e.type_index >= 0) /* a type no longer in the table is not streamed */
        ev_clients_deliver(ev, &e);
    ev->last = row->id;
    b->n++;
    return 0;
}

/* One read of the outbox; the number of rows delivered. */
static size_t poll_once(pb_events *ev)
{
    batch_ctx b = {ev, 0};
    atomic_fetch_add(&ev->polls, 1);
    pb_store_rc rc = pb_store_event_scan(ev->conn, ev->last, pb_store_event_durable(ev->store),
                                         PB_EVENTS_BATCH, on_row, &b);
    if (rc != PB_STORE_OK && rc != PB_STORE_BUSY)
        pb_log(PB_LOG_WARN, "events.poll", "outbox read failed: %s", pb_store_errmsg(ev->conn));
    atomic_fetch_add(&ev->delivered, b.n);
    atomic_store(&ev->last_id, ev->last);
    return b.n;
}

/* One retention pass (see the file comment); true when it stopped with rows
 * possibly still beyond the bounds (every chunk full, or the store busy). */
static bool prune(pb_events *ev)
{
    int64_t before = pb_time_now_us() - ev->cfg.retention_s * 1000000;
    int64_t keep = ev->cfg.max_rows < 0 ? 0 : ev->cfg.max_rows;
    size_t chunk = (size_t)ev->cfg.prune_chunk, total = 0;
    bool more = true;
    for (int i = 0; i < ev->cfg.prune_chunks && more && !atomic_load(&ev->stop); i++) {
        size_t n = 0;
        if (pb_store_begin(ev->conn, PB_STORE_WRITE) != PB_STORE_OK)
            break; /* busy: the next pass soon */
        pb_store_rc rc = pb_store_event_prune(ev->conn, before, keep, chunk, &n);
        if (rc != PB_STORE_OK || pb_store_commit(ev->conn) != PB_STORE_OK) {
            pb_store_rollback(ev->conn);
            break;
        }
        atomic_fetch_add(&ev->pruned, n);
        total += n;
        more = n == chunk;
    }
    if (total)
        pb_log(PB_LOG_INFO, "events.pruned", "%zu outbox row(s) pruned%s", total,
               more ? ", more to prune" : "");
    return more;
}

/*
 * Delivered rows are on disk. The dispatcher reads only up to the store's durable
 * mark (pb_store_event_durable): a row the ledger writer committed waits for the
 * notifier's sync (a power loss before it would take the row back, after it had
 * been announced). That sync normally comes within a millisecond or two, inside
 * the append's backoff looks. If rows wait beyond the mark for durable_wait_ms
 * while the mark stands still (another process appended them, durably, and this
 * process does not know their ids; or this process's sync is late), the
 * dispatcher syncs the log itself (everything committed before a sync is on disk
 * after it) and raises the mark to the newest row it saw before the sync.
 * Returns the ms until the next look: 0 when nothing waits (sleep as idle).
 */
#define PENDING_LOOK_MS 5

static int durable_catch_up(pb_events *ev, int64_t now)
{
    int64_t mark = pb_store_event_durable(ev->store), newest = 0;
    if (pb_store_event_newest(ev->conn, &newest) != PB_STORE_OK || newest <= mark) {
        ev->stale_since = 0;
        return 0;
    }
    if (!ev->stale_since || mark != ev->stale_mark) { /* first seen, or the mark moved */
        ev->stale_mark = mark;
        ev->stale_since = now;
        return PENDING_LOOK_MS;
    }
    if (now - ev->stale_since < (int64_t)ev->cfg.durable_wait_ms * 1000)
        return PENDING_LOOK_MS;
    ev->stale_since = 0;
    if (pb_store_sync(ev->conn) != PB_STORE_OK) {
        pb_log(PB_LOG_WARN, "events.sync", "cannot sync the outbox's log: %s",
               pb_store_errmsg(ev->conn));
        return PENDING_LOOK_MS;
    }
    pb_store_event_mark_durable(ev->store, newest);
    atomic_fetch_add(&ev->own_syncs, 1);
    return 1;
}

static void sleep_us(int64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

static void *run(void *arg)
{
    pb_events *ev = arg;
    /* not settled yet: an append may have kicked before this thread ran and
     * commit after its first read */
    uint64_t settled = pb_events_generation() - 1;
    int tries = 0;
    int64_t last_poll = 0;
    while (!atomic_load(&ev->stop)) {
        int64_t gap = pb_time_mono_us() - last_poll;
        if (gap < MIN_GAP_US)
            sleep_us(MIN_GAP_US - gap);
        uint64_t g = pb_events_generation();
        last_poll = pb_time_mono_us();
        ev_clients_take(ev);
        size_t n = poll_once(ev);
        int64_t now = pb_time_mono_us();
        bool sweep = now >= ev->next_sweep;
        if (sweep)
            ev->next_sweep = now + SWEEP_US;
        /* a sweep also when a client's re-check falls due, so that it runs every
         * recheck_ms, not at the next whole-second sweep after it */
        int64_t due = ev_clients_service(ev, now, sweep);
        if (due < ev->next_sweep)
            ev->next_sweep = due > now ? due : now + 1000;
        if (now >= ev->next_prune) {
            int ms = prune(ev) ? ev->cfg.prune_backlog_ms : ev->cfg.prune_interval_ms;
            ev->next_prune = pb_time_mono_us() + (int64_t)ms * 1000;
        }
        if (n == PB_EVENTS_BATCH)
            continue; /* more rows wait */
        int wait_ms;
        if (n > 0) {
            tries = 0;
            wait_ms = 1;
        } else if (g != settled && tries < BACKOFF_TRIES) {
            wait_ms = 1 << (tries < 7 ? tries : 7); /* an append may be committing */
            tries++;
        } else {
            settled = g;
            tries = 0;
            int pending = durable_catch_up(ev, now);
            wait_ms = pending ? pending : ev->cfg.idle_poll_ms;
            int64_t to_sweep = (ev->next_sweep - now) / 1000 + 1;
            int64_t to_prune = (ev->next_prune - now) / 1000 + 1;
            if (to_sweep < wait_ms)
                wait_ms = (int)to_sweep;
            if (to_prune < wait_ms)
                wait_ms = to_prune > 0 ? (int)to_prune : 1;
        }
        if (wait_ms * 1000 <= MIN_GAP_US)
            sleep_us(wait_ms * 1000); /* looking again that soon anyway: not woken by appends */
        else
            pb_events_wait(g, wait_ms);
    }
    return NULL;
}

pb_events *pb_events_open(pb_store *store, const pb_events_config *cfg, char *err, size_t errcap)
{
    pb_events *ev = calloc(1, sizeof *ev);
    if (!ev) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    ev->cfg = cfg ? *cfg : (pb_events_config){0};
    pb_events_config *c = &ev->cfg;
    if (c->retention_s <= 0)
        c->retention_s = 7 * 24 * 3600;
    if (c->max_rows == 0)
        c->max_rows = 1000000;
    if (c->prune_interval_ms <= 0)
        c->prune_interval_ms = 60000;
    if (c->prune_backlog_ms <= 0)
        c->prune_backlog_ms = c->prune_interval_ms < 1000 ? c->prune_interval_ms : 1000;
    if (c->prune_chunk <= 0)
        c->prune_chunk = 5000;
    if (c->prune_chunks <= 0)
        c->prune_chunks = 20;
    if (c->max_clients == 0)
        c->max_clients = 1000;
    if (c->client_buffer == 0)
        c->client_buffer = (size_t)256 << 10;
    if (c->client_buffer < 4096)
        c->client_buffer = 4096;
    if (c->heartbeat_ms <= 0)
        c->heartbeat_ms = 15000;
    if (c->idle_poll_ms <= 0)
        c->idle_poll_ms = 1000;
    if (c->durable_wait_ms <= 0)
        c->durable_wait_ms = 20;
    if (c->recheck_ms <= 0)
        c->recheck_ms = 5000;
    ev->store = store;
    pthread_mutex_init(&ev->mu, NULL);
    if (!(ev->conn = pb_store_connect(store, err, errcap))) {
        pthread_mutex_destroy(&ev->mu);
        free(ev);
        return NULL;
    }
    if (pb_store_event_newest(ev->conn, &ev->last) != PB_STORE_OK) {
        snprintf(err, errcap, "cannot read the event outbox: %s", pb_store_errmsg(ev->conn));
        pb_events_close(ev);
        return NULL;
    }
    atomic_store(&ev->last_id, ev->last);
    /* what the outbox held at open is on disk (the database recovered it), and is
     * not dispatched: the mark starts there */
    pb_store_event_mark_durable(store, ev->last);
    ev->next_prune = pb_time_mono_us() + 1000000; /* a first pass soon after start */
    if (pthread_create(&ev->thread, NULL, run, ev) != 0) {
        snprintf(err, errcap, "cannot start the event dispatcher");
        pb_events_close(ev);
        return NULL;
    }
    ev->started = true;
    pb_log(PB_LOG_INFO, "events.started",
           "dispatching from id %lld; retention %lld s / %lld rows; %u stream clients at most",
           (long long)ev->last, (long long)c->retention_s, (long long)c->max_rows, c->max_clients);
    return ev;
}

void pb_events_close(pb_events *ev)
{
    if (!ev)
        return;
    if (ev->started) {
        atomic_store(&ev->stop, true);
        pb_events_kick();
        pthread_join(ev->thread, NULL);
    }
    ev_clients_take(ev);
    ev_clients_free(ev);
    if (ev->conn)
        pb_store_disconnect(ev->conn);
    pthread_mutex_destroy(&ev->mu);
    free(ev);
}

int pb_events_subscribe(pb_events *ev, pb_events_subscriber_fn fn, void *ctx)
{
    pthread_mutex_lock(&ev->mu);
    int rc = -1;
    if (ev->nsubs < PB_EVENTS_MAX_SUBSCRIBERS) {
        ev->subs[ev->nsubs].fn = fn;
        ev->subs[ev->nsubs].ctx = ctx;
        ev->nsubs++;
        rc = 0;
    }
    pthread_mutex_unlock(&ev->mu);
    return rc;
}

void pb_events_unsubscribe(pb_events *ev, pb_events_subscriber_fn fn, void *ctx)
{
    pthread_mutex_lock(&ev->mu);
    for (size_t i = 0; i < ev->nsubs; i++)
        if (ev->subs[i].fn == fn && ev->subs[i].ctx == ctx) {
            memmove(&ev->subs[i], &ev->subs[i + 1], (ev->nsubs - i - 1) * sizeof ev->subs[0]);
            ev->nsubs--;
            break;
        }
    pthread_mutex_unlock(&ev->mu);
}

void pb_events_stats_get(pb_events *ev, pb_events_stats *out)
{
    out->last_id = atomic_load(&ev->last_id);
    out->delivered = atomic_load(&ev->delivered);
    out->polls = atomic_load(&ev->polls);
    out->clients = atomic_load(&ev->nclients);
    out->dropped = atomic_load(&ev->dropped);
    out->pruned = atomic_load(&ev->pruned);
    out->own_syncs = atomic_load(&ev->own_syncs);
}
