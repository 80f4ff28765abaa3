/*
 * test_outbox.c — the event outbox and its dispatcher (src/events/): ids only
 * grow and a rolled-back append leaves no row; payloads are exact JSON (money as
 * decimal strings, strings escaped); unknown types are refused; a scan after an
 * id resumes exactly after it; pruning keeps the newest rows and never gives an
 * id again; the dispatcher delivers every committed event once, in id order, to
 * its subscribers, also with appends from several threads at once, and nothing
 * of a rolled-back transaction; a backlog beyond the retention bounds is pruned
 * pass after pass, not one pass per prune interval; stream clients not yet taken by
 * the dispatcher when the service stops are freed (ASan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/time.h"
#include "events/events.h"
#include "events/events_internal.h" /* the event's JSON (frame.c) */
#include "store/sqlite/faultvfs.h"
#include "store/sqlite/sqlite_internal.h" /* the connection's handle: for the query plans */
#include "../plans.h"

typedef struct fx {
    char dir[64], path[96];
    pb_store *store;
    pb_store_conn *c;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pbevents.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    char err[256];
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(pb_store_migrate(f->store, NULL, err, sizeof err), PB_STORE_OK);
    f->c = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    pb_store_disconnect(f->c);
    pb_store_close(f->store);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Appends one bet.placed of `minor` EUR cents in its own transaction; its id. */
static int64_t append_one(pb_store_conn *c, const char *brand, int64_t minor, bool commit)
{
    int64_t id = 0;
    assert_int_equal(pb_store_begin(c, PB_STORE_WRITE), PB_STORE_OK);
    pb_event_field fl[] = {PB_EV_STR("game", "dice"), PB_EV_MONEY("amount", minor, "EUR")};
    assert_int_equal(pb_events_append(c, "bet.placed", brand, "p1", "t1", pb_time_now_us(), fl, 2,
                                      &id),
                     PB_OK);
    if (commit)
        assert_int_equal(pb_store_commit(c), PB_STORE_OK);
    else
        pb_store_rollback(c);
    return id;
}

typedef struct seen {
    int64_t ids[4096];
    char payload[512];
    size_t n;
} seen;

static int collect(void *ctx, const pb_store_event *e)
{
    seen *s = ctx;
    if (s->n < 4096)
        s->ids[s->n++] = e->id;
    snprintf(s->payload, sizeof s->payload, "%.*s", (int)e->payload_len, e->payload);
    return 0;
}

static void test_ids_grow_and_rollback_leaves_nothing(void **state)
{
    fx *f = *state;
    uint64_t g0 = pb_events_generation();
    int64_t a = append_one(f->c, "alpha", 100, true);
    int64_t gone = append_one(f->c, "alpha", 200, false);
    int64_t b = append_one(f->c, "beta", 300, true);
    assert_true(a >= 1 && b > a);
    assert_true(gone > a);                         /* it had an id inside its transaction... */
    assert_true(pb_events_generation() >= g0 + 3); /* every append kicks */
    seen s = {0};
    assert_int_equal(pb_store_event_scan(f->c, 0, -1, 100, collect, &s), PB_STORE_OK);
    assert_int_equal(s.n, 2); /* ...and no row after the rollback */
    assert_true(s.ids[0] == a && s.ids[1] == b);
    /* AUTOINCREMENT: the rolled-back id is not given again */
    assert_true(append_one(f->c, "alpha", 1, true) > gone);
}

static void test_payload_is_exact_json(void **state)
{
    fx *f = *state;
    assert_int_equal(pb_store_begin(f->c, PB_STORE_WRITE), PB_STORE_OK);
    pb_event_field fl[] = {PB_EV_STR("s", "a\"b\\c\n\x01"),
                           PB_EV_INT("n", -42),
                           PB_EV_BOOL("ok", 1),
                           PB_EV_STR("none", NULL),
                           PB_EV_MONEY("amount", 12345, "EUR"),
                           PB_EV_MONEY("fee", 7, "EUR"),
                           PB_EV_JSON("raw", "[1,2]")};
    assert_int_equal(pb_events_append(f->c, "deposit.completed", "alpha", "p", NULL, 1, fl,
                                      sizeof fl / sizeof fl[0], NULL),
                     PB_OK);
    assert_int_equal(pb_store_commit(f->c), PB_STORE_OK);
    seen s = {0};
    assert_int_equal(pb_store_event_scan(f->c, 0, -1, 100, collect, &s), PB_STORE_OK);
    assert_string_equal(
        s.payload, "{\"s\":\"a\\\"b\\\\c\\u000a\\u0001\",\"n\":-42,\"ok\":true,\"none\":null,"
                   "\"amount\":\"123.45\",\"currency\":\"EUR\",\"fee\":\"0.07\",\"raw\":[1,2]}");
}

static void test_refusals(void **state)
{
    fx *f = *state;
    assert_int_equal(pb_store_begin(f->c, PB_STORE_WRITE), PB_STORE_OK);
    pb_event_field bad_cur[] = {PB_EV_MONEY("amount", 1, "XXX")};
    assert_int_equal(pb_events_append(f->c, "bet.placed", "a", "", "", 1, NULL, 0, NULL), PB_OK);
    assert_int_equal(pb_events_append(f->c, "no.such.type", "a", "", "", 1, NULL, 0, NULL),
                     PB_ERR_INTERNAL);
    assert_int_equal(pb_events_append(f->c, "bet.placed", "a", "", "", 1, bad_cur, 1, NULL),
                     PB_ERR_INTERNAL);
    char big[PB_EVENT_PAYLOAD_MAX + 10];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    pb_event_field huge[] = {PB_EV_STR("s", big)};
    assert_int_equal(pb_events_append(f->c, "bet.placed", "a", "", "", 1, huge, 1, NULL),
                     PB_ERR_INTERNAL);
    char longbrand[64];
    memset(longbrand, 'b', 63);
    longbrand[63] = 0;
    assert_int_equal(pb_events_append(f->c, "bet.placed", longbrand, "", "", 1, NULL, 0, NULL),
                     PB_ERR_INTERNAL);
    assert_int_equal(pb_store_commit(f->c), PB_STORE_OK);
    seen s = {0};
    assert_int_equal(pb_store_event_scan(f->c, 0, -1, 100, collect, &s), PB_STORE_OK);
    assert_int_equal(s.n, 1); /* only the good one */
    assert_int_equal(pb_events_type_index("withdrawal.paid") >= 0, 1);
    assert_int_equal(pb_events_type_index("nope"), -1);
}

/* One prune in a write transaction of its own; how many rows it deleted. */
static size_t prune_once(fx *f, int64_t before_us, int64_t keep_rows, size_t max_delete)
{
    size_t deleted = 0;
    assert_int_equal(pb_store_begin(f->c, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_event_prune(f->c, before_us, keep_rows, max_delete, &deleted),
                     PB_STORE_OK);
    assert_int_equal(pb_store_commit(f->c), PB_STORE_OK);
    return deleted;
}

static void test_resume_after_an_id_and_prune(void **state)
{
    fx *f = *state;
    int64_t ids[50];
    for (int i = 0; i < 50; i++)
        ids[i] = append_one(f->c, "alpha", i + 1, true);
    for (int k = 0; k < 50; k += 7) { /* after any id: exactly the later ones, in order */
        seen s = {0};
        assert_int_equal(pb_store_event_scan(f->c, ids[k], -1, 1000, collect, &s), PB_STORE_OK);
        assert_int_equal(s.n, (size_t)(49 - k));
        for (size_t j = 0; j < s.n; j++)
            assert_int_equal(s.ids[j], ids[k + 1 + (int)j]);
    }
    seen lim = {0};
    assert_int_equal(pb_store_event_scan(f->c, 0, -1, 10, collect, &lim), PB_STORE_OK);
    assert_int_equal(lim.n, 10);
    /* prune by rows: keep the newest 20, at most 100 deleted per call */
    size_t deleted = prune_once(f, 0, 20, 100);
    assert_int_equal(deleted, 30);
    int64_t first, last;
    assert_int_equal(pb_store_event_bounds(f->c, &first, &last), PB_STORE_OK);
    assert_int_equal(first, ids[30]);
    assert_int_equal(last, ids[49]);
    int64_t newest = 0;
    assert_int_equal(pb_store_event_newest(f->c, &newest), PB_STORE_OK);
    assert_int_equal(newest, ids[49]);
    /* prune by age, a chunk at a time: everything is old, the newest row stays */
    assert_int_equal(pb_store_begin(f->c, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_event_prune(f->c, INT64_MAX, 0, 5, &deleted), PB_STORE_OK);
    assert_int_equal(deleted, 5);
    assert_int_equal(pb_store_event_prune(f->c, INT64_MAX, 0, 1000, &deleted), PB_STORE_OK);
    assert_int_equal(pb_store_commit(f->c), PB_STORE_OK);
    assert_int_equal(deleted, 14);
    assert_int_equal(pb_store_event_bounds(f->c, &first, &last), PB_STORE_OK);
    assert_true(first == ids[49] && last == ids[49]);
    /* nothing older than now - 1 h: nothing goes */
    assert_int_equal(prune_once(f, pb_time_now_us() - 3600000000LL, 0, 1000), 0);
    /* ids are never given again */
    assert_true(append_one(f->c, "alpha", 1, true) > ids[49]);
}

/* ---- the dispatcher ---- */

typedef struct sub {
    pthread_mutex_t mu;
    int64_t ids[4096];
    size_t n;
    bool disorder;
    pb_store *store; /* when set: each event must be durable when delivered */
    bool undurable;  /* one was not */
} sub;

static void on_event(void *ctx, const pb_event *e)
{
    sub *s = ctx;
    pthread_mutex_lock(&s->mu);
    if (s->n && e->id <= s->ids[s->n - 1])
        s->disorder = true;
    if (s->store && pb_store_event_durable(s->store) < e->id)
        s->undurable = true;
    if (s->n < 4096)
        s->ids[s->n++] = e->id;
    pthread_mutex_unlock(&s->mu);
}

static size_t count(sub *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

typedef struct writer {
    pb_store *store;
    int n;
} writer;

static void *write_many(void *p)
{
    writer *w = p;
    char err[128];
    pb_store_conn *c = pb_store_connect(w->store, err, sizeof err);
    for (int i = 0; i < w->n; i++) {
        /* a busy database is retried, as the domains' transaction helpers do */
        for (;;) {
            if (pb_store_begin(c, PB_STORE_WRITE) != PB_STORE_OK)
                continue;
            pb_err e = pb_events_emit(c, "round.settled", "alpha", "p", "", pb_time_now_us(),
                                      PB_EV_INT("i", i));
            if (e == PB_OK && i % 5 == 4) { /* every fifth rolls back */
                pb_store_rollback(c);
                break;
            }
            if (e == PB_OK && pb_store_commit(c) == PB_STORE_OK)
                break;
            pb_store_rollback(c);
        }
    }
    pb_store_disconnect(c);
    return NULL;
}

static void test_dispatcher_delivers_in_order_once(void **state)
{
    fx *f = *state;
    append_one(f->c, "alpha", 1, true); /* before open: not delivered (starts at the newest) */
    char err[256];
    /* an idle poll far off: without the append's wake-up the row would wait for
     * the sweep, which looks once a second */
    pb_events_config cfg = {.idle_poll_ms = 10000};
    pb_events *ev = pb_events_open(f->store, &cfg, err, sizeof err);
    assert_non_null(ev);
    sub s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_int_equal(pb_events_subscribe(ev, on_event, &s), 0);
    int64_t t0 = pb_time_mono_us();
    int64_t one = append_one(f->c, "alpha", 2, true);
    int64_t committed = pb_time_mono_us(); /* the append's synced commit is done */
    while (count(&s) < 1 && pb_time_mono_us() - t0 < 5000000)
        usleep(1000);
    assert_int_equal(count(&s), 1);
    assert_int_equal(s.ids[0], one);
    fprintf(stderr, "# first delivery after %lld us\n", (long long)(pb_time_mono_us() - t0));
    /* woken by the append, not by the idle poll nor the sweep: well within the
     * sweep's second (counted from the end of the append's synced commit, which
     * a loaded machine can make slow; the delivery may even come before it) */
    assert_true(pb_time_mono_us() - committed < 500000);

    pthread_t th[3];
    writer w = {f->store, 200};
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, write_many, &w);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    size_t want = 1 + 3 * 160;
    /* the dispatcher counts a batch (delivered, then last_id) only after it has
     * handed every row of it to the subscribers: wait for the counters too */
    pb_events_stats st;
    pb_events_stats_get(ev, &st);
    t0 = pb_time_mono_us();
    while ((count(&s) < want || st.delivered < want || st.last_id != s.ids[want - 1]) &&
           pb_time_mono_us() - t0 < 10000000) {
        usleep(2000);
        pb_events_stats_get(ev, &st);
    }
    usleep(300000); /* nothing more comes */
    assert_int_equal(count(&s), want);
    assert_false(s.disorder);
    /* exactly the outbox's rows after the first one */
    seen all = {0};
    assert_int_equal(pb_store_event_scan(f->c, one - 1, -1, 4096, collect, &all), PB_STORE_OK);
    assert_int_equal(all.n, want);
    assert_memory_equal(all.ids, s.ids, want * sizeof(int64_t));
    pb_events_stats_get(ev, &st);
    assert_int_equal(st.last_id, s.ids[want - 1]);
    assert_int_equal(st.delivered, want);
    pb_events_unsubscribe(ev, on_event, &s);
    append_one(f->c, "alpha", 3, true);
    usleep(200000);
    assert_int_equal(count(&s), want); /* unsubscribed: no more calls */
    pb_events_close(ev);
}

/* A connection on store that defers its syncs to pb_store_sync, as the ledger
 * writer's does. */
static pb_store_conn *deferred_conn(pb_store *store)
{
    char err[256];
    pb_store_conn *d = pb_store_connect(store, err, sizeof err);
    assert_non_null(d);
    assert_int_equal(pb_store_set_deferred_sync(d, true), PB_STORE_OK);
    return d;
}

/* The dispatcher over store with cfg, s subscribed to it. */
static pb_events *open_subscribed(pb_store *store, const pb_events_config *cfg, sub *s)
{
    char err[256];
    pb_events *ev = pb_events_open(store, cfg, err, sizeof err);
    assert_non_null(ev);
    assert_int_equal(pb_events_subscribe(ev, on_event, s), 0);
    return ev;
}

/* Waits (bounded) until s holds n events. */
static void wait_count(sub *s, size_t n, int64_t max_us)
{
    int64_t t0 = pb_time_mono_us();
    while (count(s) < n && pb_time_mono_us() - t0 < max_us)
        usleep(1000);
}

/* Only rows on disk are delivered. A connection that defers its syncs (the ledger
 * writer's) commits a row: it is not delivered while it is committed but not synced,
 * however long that lasts (a power loss would take it back); its connection's sync
 * makes it durable and it is delivered. A connection that syncs at commit is
 * delivered at once. Every delivery finds the row under the durable mark. */
static void test_delivers_only_durable_rows(void **state)
{
    fx *f = *state;
    /* no idle poll, and no sync of the dispatcher's own for 10 s */
    pb_events_config cfg = {.idle_poll_ms = 10000, .durable_wait_ms = 10000};
    sub s = {.mu = PTHREAD_MUTEX_INITIALIZER, .store = f->store};
    pb_events *ev = open_subscribed(f->store, &cfg, &s);
    pb_store_conn *d = deferred_conn(f->store);

    int64_t a = append_one(d, "alpha", 1, true);
    assert_true(pb_store_event_durable(f->store) < a);
    usleep(400000); /* the append's backoff looks (~0.6 s) find it, committed */
    assert_int_equal(count(&s), 0);
    assert_true(pb_store_event_durable(f->store) < a);
    assert_int_equal(pb_store_sync(d), PB_STORE_OK);
    assert_true(pb_store_event_durable(f->store) >= a);
    wait_count(&s, 1, 5000000);
    assert_int_equal(count(&s), 1);
    assert_int_equal(s.ids[0], a);

    /* a rolled-back append on the deferred connection leaves the mark alone */
    int64_t before = pb_store_event_durable(f->store);
    append_one(d, "alpha", 2, false);
    assert_int_equal(pb_store_sync(d), PB_STORE_OK);
    assert_int_equal(pb_store_event_durable(f->store), before);

    /* synced at commit: durable and delivered at once */
    int64_t b = append_one(f->c, "alpha", 3, true);
    int64_t t0 = pb_time_mono_us(); /* after the synced commit, which load can make slow */
    assert_true(pb_store_event_durable(f->store) >= b);
    wait_count(&s, 2, 10000000);
    assert_int_equal(count(&s), 2);
    assert_int_equal(s.ids[1], b);
    assert_true(pb_time_mono_us() - t0 < 5000000); /* not the 10 s idle poll / durable wait */

    /* many commits on the deferred connection, synced in groups behind them as the
     * ledger's notifier does: all delivered, in order, each durable when delivered */
    for (int i = 0; i < 40; i++) {
        append_one(d, "beta", 10 + i, true);
        if (i % 7 == 6)
            assert_int_equal(pb_store_sync(d), PB_STORE_OK);
    }
    assert_int_equal(pb_store_sync(d), PB_STORE_OK);
    wait_count(&s, 42, 10000000);
    assert_int_equal(count(&s), 42);
    assert_false(s.disorder);
    assert_false(s.undurable);
    pb_events_stats st;
    pb_events_stats_get(ev, &st);
    assert_int_equal(st.own_syncs, 0); /* every row was made durable by its connection */
    pb_events_close(ev);
    pb_store_disconnect(d);
}

/* An append rolled back to a savepoint inside a transaction that commits marks
 * nothing: its id is gone, and the next append is given it again. Marking it would
 * let that later row, committed but not synced, pass for durable. */
static void test_rolled_back_append_marks_nothing(void **state)
{
    fx *f = *state;
    pb_store_conn *d = deferred_conn(f->store);
    int64_t a = append_one(d, "alpha", 1, true);
    assert_int_equal(pb_store_sync(d), PB_STORE_OK);
    assert_int_equal(pb_store_event_durable(f->store), a);

    assert_int_equal(pb_store_begin(d, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_exec_raw(d, "SAVEPOINT ev"), PB_STORE_OK);
    int64_t gone = 0;
    pb_event_field fl[] = {PB_EV_STR("game", "dice"), PB_EV_MONEY("amount", 2, "EUR")};
    assert_int_equal(pb_events_append(d, "bet.placed", "alpha", "p1", "t1", pb_time_now_us(), fl, 2,
                                      &gone),
                     PB_OK);
    assert_int_equal(pb_store_exec_raw(d, "ROLLBACK TO ev"), PB_STORE_OK);
    assert_int_equal(pb_store_exec_raw(d, "RELEASE ev"), PB_STORE_OK);
    assert_int_equal(pb_store_commit(d), PB_STORE_OK);
    assert_int_equal(pb_store_sync(d), PB_STORE_OK);
    assert_int_equal(pb_store_event_durable(f->store), a); /* not `gone` */

    int64_t again = append_one(d, "alpha", 3, true); /* committed, not synced */
    assert_int_equal(again, gone);                   /* the id is given again */
    assert_true(pb_store_event_durable(f->store) < again);
    assert_int_equal(pb_store_sync(d), PB_STORE_OK);
    assert_int_equal(pb_store_event_durable(f->store), again);
    pb_store_disconnect(d);
}

/* Rows another process appended (here: a second store on the same file, whose
 * commits this store's mark knows nothing of), and rows a deferred connection
 * leaves unsynced: after durable_wait_ms with the mark standing still, the
 * dispatcher syncs the log itself and delivers them. */
static void test_rows_nobody_syncs_are_synced_and_delivered(void **state)
{
    fx *f = *state;
    char err[256];
    pb_events_config cfg = {.idle_poll_ms = 10000, .durable_wait_ms = 50};
    sub s = {.mu = PTHREAD_MUTEX_INITIALIZER, .store = f->store};
    pb_events *ev = open_subscribed(f->store, &cfg, &s);

    pb_store *other = pb_store_open(f->path, err, sizeof err);
    assert_non_null(other);
    pb_store_conn *oc = pb_store_connect(other, err, sizeof err);
    assert_non_null(oc);
    int64_t a = append_one(oc, "alpha", 1, true);
    assert_true(pb_store_event_durable(f->store) < a); /* not this store's commit */
    wait_count(&s, 1, 5000000);
    assert_int_equal(count(&s), 1);
    assert_int_equal(s.ids[0], a);
    pb_events_stats st;
    pb_events_stats_get(ev, &st);
    assert_int_equal(st.own_syncs, 1);

    pb_store_conn *d = deferred_conn(f->store);
    int64_t b = append_one(d, "alpha", 2, true); /* never synced by d */
    wait_count(&s, 2, 5000000);
    assert_int_equal(count(&s), 2);
    assert_int_equal(s.ids[1], b);
    pb_events_stats_get(ev, &st);
    assert_int_equal(st.own_syncs, 2);
    assert_false(s.undurable);
    pb_events_close(ev);
    pb_store_disconnect(d);
    pb_store_disconnect(oc);
    pb_store_close(other);
}

/* A power cut: every event delivered before it is still in the outbox after it.
 * Through the fault VFS, a deferred connection commits rows and syncs some of them
 * (as the ledger's notifier would, late); then, with rows committed but not synced,
 * the power is cut and the disk keeps only what was synced. The dispatcher must not
 * have delivered any of the lost rows. (Before the durable mark it did: they were
 * committed, so it read them.) */
static void test_power_cut_loses_no_delivered_event(void **state)
{
    fx *f = *state;
    char err[256], path[128], url[192];
    snprintf(path, sizeof path, "%s/cut.db", f->dir); /* beside the fixture's, removed with it */
    snprintf(url, sizeof url, "sqlite:%s?vfs=pbfault_ev", path);
    /* the database migrated and closed first, then opened through the shim: what
     * is on disk when the shim opens a file is durable */
    pb_store *st = pb_store_open(path, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(pb_store_migrate(st, NULL, err, sizeof err), PB_STORE_OK);
    pb_store_close(st);
    assert_int_equal(pb_faultvfs_register("pbfault_ev"), SQLITE_OK);
    pb_faultvfs_reset();
    pb_faultvfs_set_skip_disk_sync(true);
    st = pb_store_open(url, err, sizeof err);
    assert_non_null(st);
    pb_store_conn *d = deferred_conn(st);

    pb_events_config cfg = {.idle_poll_ms = 10000, .durable_wait_ms = 10000};
    sub s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    pb_events *ev = open_subscribed(st, &cfg, &s);
    int64_t last = 0;
    for (int i = 0; i < 30; i++) { /* synced every tenth commit */
        last = append_one(d, "alpha", i + 1, true);
        if (i % 10 == 9)
            assert_int_equal(pb_store_sync(d), PB_STORE_OK);
    }
    for (int i = 0; i < 5; i++) /* committed, never synced */
        last = append_one(d, "alpha", 100 + i, true);
    /* the synced ones are delivered (waited for: a loaded machine may take longer
     * than any fixed time), then the dispatcher's looks (400 ms) see the last five
     * committed and must not deliver them */
    wait_count(&s, 30, 10000000);
    usleep(400000);
    pthread_mutex_lock(&s.mu);
    pb_faultvfs_cut_now(); /* what was delivered until now is what counts */
    size_t delivered = s.n;
    int64_t ids[4096];
    memcpy(ids, s.ids, delivered * sizeof *ids);
    pthread_mutex_unlock(&s.mu);
    pb_events_close(ev);
    pb_store_disconnect(d);
    pb_store_close(st);
    assert_true(pb_faultvfs_power_loss(PB_FAULTVFS_DROP_ALL, 7) > 0);
    pb_faultvfs_set_skip_disk_sync(false);

    /* the database as the disk kept it */
    st = pb_store_open(path, err, sizeof err);
    assert_non_null(st);
    pb_store_conn *c = pb_store_connect(st, err, sizeof err);
    assert_non_null(c);
    seen kept = {0};
    assert_int_equal(pb_store_event_scan(c, 0, -1, 4096, collect, &kept), PB_STORE_OK);
    assert_true(kept.n >= 30 && kept.n < 35); /* the synced rows, not all the committed ones */
    assert_true(kept.ids[kept.n - 1] < last);
    assert_true(delivered >= 30); /* the synced ones were delivered before the cut */
    for (size_t k = 0; k < delivered; k++) {
        bool found = false;
        for (size_t j = 0; j < kept.n && !found; j++)
            found = kept.ids[j] == ids[k];
        if (!found)
            fail_msg("event %lld was delivered, then lost in the power cut", (long long)ids[k]);
    }
    pb_store_disconnect(c);
    pb_store_close(st);
}

/* More rows beyond max_rows than one pass may delete: the passes follow each
 * other after prune_backlog_ms until the bound holds (with one pass per
 * prune_interval_ms, ten minutes here, the outbox would keep its backlog). */
static void test_dispatcher_prunes_a_backlog(void **state)
{
    fx *f = *state;
    assert_int_equal(pb_store_begin(f->c, PB_STORE_WRITE), PB_STORE_OK);
    int64_t last = 0;
    for (int i = 0; i < 100; i++) {
        pb_event_field fl[] = {PB_EV_MONEY("amount", i + 1, "EUR")};
        assert_int_equal(pb_events_append(f->c, "bet.placed", "alpha", "p1", "t1", pb_time_now_us(),
                                          fl, 1, &last),
                         PB_OK);
    }
    assert_int_equal(pb_store_commit(f->c), PB_STORE_OK);
    char err[256];
    pb_events_config cfg = {.max_rows = 5,
                            .prune_interval_ms = 600000,
                            .prune_backlog_ms = 50,
                            .prune_chunk = 10,
                            .prune_chunks = 2,
                            .idle_poll_ms = 200};
    pb_events *ev = pb_events_open(f->store, &cfg, err, sizeof err);
    assert_non_null(ev);
    pb_events_stats st = {0};
    int64_t t0 = pb_time_mono_us();
    do {
        usleep(20000);
        pb_events_stats_get(ev, &st);
    } while (st.pruned < 95 && pb_time_mono_us() - t0 < 20000000);
    fprintf(stderr, "# 95 rows pruned in passes of at most 20 after %lld ms\n",
            (long long)((pb_time_mono_us() - t0) / 1000));
    usleep(200000); /* the bound holds: nothing more goes */
    pb_events_stats_get(ev, &st);
    assert_int_equal(st.pruned, 95);
    seen left = {0};
    assert_int_equal(pb_store_event_scan(f->c, 0, -1, 4096, collect, &left), PB_STORE_OK);
    assert_int_equal(left.n, 5);
    assert_int_equal(left.ids[0], last - 4); /* the newest five stay */
    assert_int_equal(left.ids[4], last);
    pb_events_close(ev);
}

/* The outbox's statements, but the prune's cut-off (bounded by its horizon). */
static bool outbox_statement(const char *sql, void *ctx)
{
    (void)ctx;
    return strstr(sql, "FROM event_outbox") && !strstr(sql, "id>=?3");
}

static void no_scan_of_outbox(const char *sql, const char *detail, void *ctx)
{
    (void)ctx;
    if (plan_is_scan(detail, "event_outbox")) {
        print_error("a full scan: %s\n  in %s\n", detail, sql);
        fail();
    }
}

/* Every outbox statement the reads and the prune prepared searches by the key or
 * reads a bounded run of it; none reads the whole table. The prune's cut-off query
 * walks up from the oldest row, bounded by its horizon (?3 = oldest + max_delete). */
static void test_outbox_plans(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 5; i++)
        append_one(f->c, "alpha", i + 1, true);
    int64_t first, last;
    assert_int_equal(pb_store_event_bounds(f->c, &first, &last), PB_STORE_OK);
    assert_true(first > 0 && last >= first + 4);
    int64_t newest = 0;
    assert_int_equal(pb_store_event_newest(f->c, &newest), PB_STORE_OK);
    assert_int_equal(newest, last);
    seen s = {0};
    assert_int_equal(pb_store_event_scan(f->c, first, -1, 10, collect, &s), PB_STORE_OK);
    assert_int_equal(s.n, 4);
    assert_int_equal(prune_once(f, 0, 2, 100), 3);
    int checked = plans_each(((sq_conn *)f->c)->db, outbox_statement, no_scan_of_outbox, NULL);
    assert_true(checked >= 4); /* the bounds, the newest, the scan, the prune's first id and
                                  delete */
}

/* An event's JSON for the stream and the relay (frame.c): the fields in order, the
 * strings escaped (quote, backslash, control characters), a newline in the payload a
 * space, one line. */
static void test_event_json(void **state)
{
    (void)state;
    static const char payload[] = "{\"a\":\"x\",\n\"b\":1}";
    pb_event e = {.id = 42,
                  .type = "bet.placed",
                  .brand = "al\"p\\ha",
                  .subject = "p\x01q",
                  .payload = payload,
                  .payload_len = sizeof payload - 1,
                  .created_at = 1700000000000000,
                  .trace_id = "t1"};
    frame f = {0};
    assert_true(ev_frame_puts(&f, "data: "));
    assert_true(ev_frame_event_json(&f, &e));
    assert_string_equal(f.p,
                        "data: {\"id\":42,\"type\":\"bet.placed\",\"brand\":\"al\\\"p\\\\ha\","
                        "\"subject\":\"p\\u0001q\",\"created_at\":\"2023-11-14T22:13:20.000000Z\","
                        "\"trace_id\":\"t1\",\"payload\":{\"a\":\"x\", \"b\":1}}");
    free(f.p);
}

/* Clients handed to the dispatcher but not yet taken by it when the service
 * stops are freed by pb_events_close (their streams released, their re-check
 * contexts freed, their places given back): under ASan a leak fails this test.
 * The dispatcher thread is stopped first so that it cannot take them. */
static bool never_called(void *ctx, pb_store_conn *c, int64_t now, pb_events_filter *f)
{
    (void)ctx;
    (void)c;
    (void)now;
    (void)f;
    fail_msg("a client's re-check ran after the dispatcher stopped");
    return false;
}

static void test_close_frees_clients_not_yet_taken(void **state)
{
    fx *f = *state;
    append_one(f->c, "alpha", 1, true);
    append_one(f->c, "alpha", 2, true);
    char err[256];
    pb_events *ev = pb_events_open(f->store, &(pb_events_config){0}, err, sizeof err);
    assert_non_null(ev);
    atomic_store(&ev->stop, true); /* the dispatcher ends before it takes anything */
    pb_events_kick();
    pthread_join(ev->thread, NULL);
    ev->started = false;
    pb_events_filter filter = {.types = ~UINT64_C(0), .all_brands = true};
    int64_t resume[] = {-1, 0, 1}; /* live, and two catching up from the outbox */
    for (size_t i = 0; i < sizeof resume / sizeof resume[0]; i++) {
        assert_true(pb_events_client_reserve(ev));
        pb_events_client_add(ev, NULL, &filter, resume[i], 0, false, never_called, malloc(64));
    }
    assert_non_null(ev->incoming);
    assert_null(ev->clients);
    assert_int_equal(atomic_load(&ev->nclients), 3);
    pb_events_close(ev); /* ASan: nothing of the three clients is left */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_json),
        cmocka_unit_test_setup_teardown(test_ids_grow_and_rollback_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payload_is_exact_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_after_an_id_and_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dispatcher_delivers_in_order_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dispatcher_prunes_a_backlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivers_only_durable_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_append_marks_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_nobody_syncs_are_synced_and_delivered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_loses_no_delivered_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_plans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_frees_clients_not_yet_taken, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
