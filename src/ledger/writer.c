/*
 * writer.c — the group-commit writer and the checkpointer.
 *
 * The writer thread owns the only write connection. It sleeps until jobs are
 * queued, takes every queued job (up to max_batch transfers: the batch grows
 * with the load by itself — one job when idle, thousands under pressure), runs
 * them in ONE write transaction, writes back the balance rows that are due, commits
 * (one fsync for the whole batch), and only then wakes each caller. While it
 * commits, new jobs queue up for the next batch. Expired holds are swept at
 * the start of a batch and on an idle timer.
 *
 * If the store fails anywhere in a batch, the transaction is rolled back, the
 * in-memory state is reloaded from the store, and every job of the batch gets
 * INTERNAL (or STORE_UNAVAILABLE when the database stayed locked): none of it
 * happened, so callers may retry with the same idempotency keys.
 *
 * Waking the callers (one futex syscall each) is handed to the notifier
 * thread, so the writer starts the next batch at once. By default the writer's
 * COMMIT does not wait for the disk either (pb_store_set_deferred_sync): the
 * notifier makes everything committed so far durable with one pb_store_sync()
 * and only then answers the callers of every batch it took — so the sync of one
 * batch overlaps the work on the next, and one sync may serve several batches.
 * If a sync fails, what reached the disk is unknown (and a later sync cannot be
 * trusted to cover it), so the process stops, as PostgreSQL does: on restart
 * the database recovers a prefix of the commits, and callers retry with their
 * idempotency keys.
 *
 * The notifier pays off when there is a next batch to apply during the sync. A
 * light load has none: a batch of at most INLINE_MAX_JOBS jobs, committed when
 * nothing else is queued and the notifier holds nothing, is synced and answered by
 * the writer itself (sync_inline). One request at a time then costs one hand-off
 * less (a wake-up of the notifier: across CPUs, an interrupt in a VM) and waits on
 * no other thread's turn on a CPU. A job that arrives meanwhile waits for that sync
 * as it would have waited for the notifier's: a sync covers only what was committed
 * before it began, so under the notifier too it would be answered by the next one.
 * A larger batch always goes to the notifier: with many callers in flight, the
 * notifier answering them one by one while the writer commits those who come back
 * is what keeps two batches in the pipeline. The writer answering a whole batch
 * itself would bring them all back into one batch and sync after sync would wait
 * for the commit (64 async submitters: 65-69k transfers/s instead of 87k).
 *
 * The checkpointer copies the WAL into the database with passive checkpoints
 * on its own connection, so commits never pay for it: every checkpoint_ms, and
 * when the writer asks, as its commits fill the WAL towards the point where the
 * writer starts it over (half and three quarters of wal_restart_frames). The
 * writer's restart then copies only the rest and syncs only what that wrote;
 * before it asked, the copy at the restart was whatever the last timed checkpoint
 * had left — up to a second of commits — and the writer, with every caller
 * behind it, stalled for tens of milliseconds (45 ms seen in the wallet bench).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "core/cpu.h"
#include "core/log.h"
#include "core/time.h"
#include "ledger/ledger_internal.h"

#define RESET_RETRY_PAUSE_MS 10 /* between reloads of the writer's state that fail */

/*
 * The ledger whose writer or notifier runs on this thread; NULL on every other
 * thread. Commands run on the writer and callbacks on the writer or the
 * notifier: a call from one of them that waits for the writer would wait for
 * its own thread (the writer cannot start the next batch, or the notifier
 * cannot answer it), forever. pb_ledger_reentrant() refuses such a call.
 */
static _Thread_local const pb_ledger *ledger_thread;

bool pb_ledger_reentrant(const pb_ledger *l, const char *call)
{
    if (!l || ledger_thread != l)
        return false;
    pb_log(PB_LOG_ERROR, "ledger.reentrant",
           "%s called on the ledger's own thread (a command or a callback): it would wait "
           "for the writer forever; refused with LEDGER_REENTRANT",
           call);
    return true;
}

/* Moves everything pushed since the last call to the end of the writer's FIFO. */
static void drain_inbox(pb_ledger *l)
{
    ledger_job *stack = atomic_exchange_explicit(&l->inbox, NULL, memory_order_acquire);
    ledger_job *fifo = NULL, *last = stack;
    while (stack) { /* newest first: reverse it */
        ledger_job *next = stack->next;
        stack->next = fifo;
        fifo = stack;
        stack = next;
    }
    if (!fifo)
        return;
    if (l->tail)
        l->tail->next = fifo;
    else
        l->head = fifo;
    l->tail = last;
}

/* Takes jobs off the FIFO, at most max transfers (always at least one job). */
static ledger_job *take_batch(pb_ledger *l, size_t max)
{
    ledger_job *first = l->head, *last = NULL;
    size_t count = 0;
    for (ledger_job *j = l->head; j; j = j->next) {
        size_t w = j->kind == JOB_TRANSFERS ? j->n : 1;
        if (last && count + w > max)
            break;
        count += w;
        last = j;
    }
    if (!last)
        return NULL;
    l->head = last->next;
    if (!l->head)
        l->tail = NULL;
    last->next = NULL;
    return first;
}

/*
 * The blocked callers of one sync are woken as a tree: the notifier posts the
 * first WAKE_FAN, and the caller at i, once awake, posts those at WAKE_FAN (i + 1)
 * onwards (WAKE_FAN of them) before it returns. So the notifier makes a few futex
 * calls a sync instead of one a caller and goes back to syncing, while the callers
 * wake each other on both CPUs (+9% at 64 blocked threads, docs/benchmarks-log.md).
 * A caller preempted before it relays would hold up the ones below it: after its
 * next sync (or before it sleeps) the notifier posts whoever is still waiting.
 * Each caller is posted exactly once (posted[]), and the group lives until the
 * last of its callers and the notifier are done with it (refs). A job is only
 * touched while its caller waits, that is before its post.
 */
#define WAKE_FAN 4

typedef struct wake_group {
    _Atomic size_t refs; /* the callers, and the notifier until its sweep */
    size_t n;
    ledger_job **jobs;
    _Atomic unsigned char *posted;
} wake_group;

static void group_release(wake_group *g)
{
    if (atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) == 1)
        free(g);
}

/* Posts the caller at k unless someone has (its job may be gone once posted). */
static void group_post(wake_group *g, size_t k)
{
    if (!atomic_exchange_explicit(&g->posted[k], 1, memory_order_acq_rel))
        sem_post(&g->jobs[k]->done);
}

/* Posts the callers at first .. first + WAKE_FAN - 1 (those there are). */
static void group_relay(wake_group *g, size_t first)
{
    for (size_t k = first; k < first + WAKE_FAN && k < g->n; k++)
        group_post(g, k);
}

/* The notifier's sweep of its last group: posts whoever is still waiting. */
static void group_sweep(wake_group **gp)
{
    wake_group *g = *gp;
    if (!g)
        return;
    for (size_t k = 0; k < g->n; k++)
        group_post(g, k);
    group_release(g);
    *gp = NULL;
}

/* Answers a synced list of jobs: callbacks run here, blocked callers are woken
 * (see wake_group); *gp receives the group to sweep later, if any. */
static void wake_callers(ledger_job *jobs, wake_group **gp)
{
    size_t relays = 0;
    for (ledger_job *j = jobs; j; j = j->next)
        relays += !j->cb && j->relay;
    wake_group *g = NULL;
    if (relays > WAKE_FAN) {
        g = malloc(sizeof *g + relays * (sizeof *g->jobs + sizeof *g->posted));
        if (g) {
            g->jobs = (ledger_job **)(g + 1);
            g->posted = (_Atomic unsigned char *)(g->jobs + relays);
            g->n = 0;
            atomic_init(&g->refs, relays + 1);
        }
    }
    while (jobs) {
        ledger_job *next = jobs->next; /* the caller may free the job once posted */
        if (jobs->cb) {
            jobs->cb(jobs->cb_ctx, jobs->status);
            free(jobs);
        } else if (g && jobs->relay) {
            jobs->group = g;
            jobs->idx = g->n;
            atomic_init(&g->posted[g->n], 0);
            g->jobs[g->n++] = jobs;
        } else {
            jobs->group = NULL;
            sem_post(&jobs->done);
        }
        jobs = next;
    }
    if (g)
        group_relay(g, 0);
    *gp = g;
}

void pb_ledger_job_relay(ledger_job *j)
{
    wake_group *g = j->group;
    if (!g)
        return;
    group_relay(g, WAKE_FAN * (j->idx + 1));
    group_release(g);
}

/* Sets the batch's outcome and hands it to the notifier. */
static void finish(pb_ledger *l, ledger_job *jobs, pb_err failure)
{
    if (!jobs)
        return;
    ledger_job *last = jobs;
    for (ledger_job *j = jobs; j; j = j->next) {
        if (failure != PB_OK)
            j->status = failure;
        last = j;
    }
    pthread_mutex_lock(&l->notify_mu);
    if (l->notify_tail)
        l->notify_tail->next = jobs;
    else
        l->notify_head = jobs;
    l->notify_tail = last;
    atomic_store(&l->handed, true);
    pthread_mutex_unlock(&l->notify_mu);
    /* signalled after the unlock: signalled under it, the notifier would wake only
     * to block on the mutex and be woken a second time by the unlock */
    pthread_cond_signal(&l->notify_wake);
}

/* The sync that makes every batch committed so far durable, counted; a failed
 * sync stops the process (see the top). */
static void sync_committed(pb_ledger *l)
{
    int64_t t0 = pb_time_mono_us();
    if (pb_store_sync(l->wconn) != PB_STORE_OK) {
        pb_log(PB_LOG_ERROR, "ledger.sync_failed",
               "cannot make committed batches durable (%s); stopping so that "
               "recovery decides what was kept",
               pb_store_errmsg(l->wconn));
        abort();
    }
    atomic_fetch_add_explicit(&l->sync_us_total, (uint64_t)(pb_time_mono_us() - t0),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&l->syncs, 1, memory_order_relaxed);
}

/* For the writer, after a batch committed without error: syncs and answers it
 * itself when nothing else is queued and the notifier holds nothing (see the
 * top). Only the writer hands the notifier work, so the notifier stays idle
 * while the writer syncs. true when the batch is answered. */
#define INLINE_MAX_JOBS 2

static bool sync_inline(pb_ledger *l, ledger_job *jobs)
{
    size_t njobs = 0;
    for (const ledger_job *j = jobs; j && njobs <= INLINE_MAX_JOBS; j = j->next)
        njobs++;
    if (!jobs || njobs > INLINE_MAX_JOBS || l->cfg.sync_in_writer || l->cfg.idle_sync_in_notifier ||
        l->head || atomic_load_explicit(&l->inbox, memory_order_acquire))
        return false;
    pthread_mutex_lock(&l->notify_mu);
    bool idle = !l->notify_head && !l->notify_busy;
    pthread_mutex_unlock(&l->notify_mu);
    if (!idle)
        return false;
    sync_committed(l);
    atomic_fetch_add_explicit(&l->syncs_inline, 1, memory_order_relaxed);
    wake_group *g = NULL;
    wake_callers(jobs, &g);
    group_sweep(&g); /* the writer sleeps no sync away: nobody waits on a relay */
    return true;
}

static void *notifier_main(void *arg)
{
    pb_ledger *l = arg;
    /* placed first, named then: a thread that shows its name is where it runs */
    if (pb_cpu_avoid(l->writer_cpu) != 0)
        pb_log(PB_LOG_WARN, "ledger.cpu", "notifier: cannot keep off CPU %d", l->writer_cpu);
    pthread_setname_np(pthread_self(), "pb-ledger-wake");
    ledger_thread = l;
    wake_group *last = NULL; /* the callers woken last, swept after the next sync */
    pthread_mutex_lock(&l->notify_mu);
    for (;;) {
        l->notify_busy = false;
        while (!l->notify_head && !l->notify_stop) {
            if (last) { /* nothing to sync: no caller waits on a relay while we sleep */
                pthread_mutex_unlock(&l->notify_mu);
                group_sweep(&last);
                pthread_mutex_lock(&l->notify_mu);
                continue;
            }
            pthread_cond_wait(&l->notify_wake, &l->notify_mu);
        }
        ledger_job *jobs = l->notify_head;
        l->notify_head = l->notify_tail = NULL;
        if (jobs && !l->cfg.sync_in_writer) { /* the writer holds its commit back from here */
            atomic_store(&l->syncing, true);
            atomic_store(&l->handed, false);
        }
        if (!jobs && l->notify_stop)
            break;
        l->notify_busy = true;
        pthread_mutex_unlock(&l->notify_mu);
        if (!l->cfg.sync_in_writer) {
            sync_committed(l);
            /* seq_cst, as the writer's store of writer_sleeping before its load of
             * syncing: either it sees the sync over or it is seen asleep here */
            atomic_store(&l->syncing, false);
            if (atomic_load(&l->tx_open) && atomic_load(&l->writer_sleeping)) {
                pthread_mutex_lock(&l->mu); /* it waits on the condition once mu is ours */
                pthread_mutex_unlock(&l->mu);
                pthread_cond_signal(&l->wake);
            }
        }
        group_sweep(&last);
        wake_callers(jobs, &last);
        pthread_mutex_lock(&l->notify_mu);
    }
    pthread_mutex_unlock(&l->notify_mu);
    group_sweep(&last);
    return NULL;
}

/* Asks the checkpointer for a checkpoint once the WAL reaches the next mark (see
 * the top); the marks start over when the WAL does. */
static void ask_checkpoint(pb_ledger *l)
{
    int step = l->cfg.wal_restart_frames / 4;
    int frames = pb_store_wal_frames(l->wconn);
    if (step <= 0)
        return;
    if (frames < l->ckpt_mark - step || l->ckpt_mark < 2 * step)
        l->ckpt_mark = 2 * step; /* the WAL was started over */
    if (frames < l->ckpt_mark)
        return;
    l->ckpt_mark = frames + step;
    pthread_mutex_lock(&l->mu);
    l->ckpt_kick = true;
    pthread_cond_signal(&l->ckpt_wake);
    pthread_mutex_unlock(&l->mu);
}

/*
 * A failed batch is rolled back and the writer's state reloaded from the store
 * (pb_ledger_engine_reset): the cache, the write-back queue, the open holds, the
 * head of the chain. If the reload fails too (the disk that failed the batch
 * failing its reads; out of memory), that state is half gone: a batch run on it
 * would take accounts from rows that lag their transfers, chain to a rolled-back
 * hash, and its write-back pass would move the marks past what was lost, for
 * good. So no batch runs until a reload succeeds: each one first tries it again,
 * and answers STORE_UNAVAILABLE (nothing done) while it fails. The idle timer
 * runs an empty batch, so the writer keeps trying without callers too.
 */
static bool reload_if_pending(pb_ledger *l)
{
    if (!l->reset_pending)
        return true;
    if (pb_ledger_engine_reset(l) != PB_OK) {
        pb_log(PB_LOG_ERROR, "ledger.reset_failed", "still failing, no batch runs: %s",
               pb_store_errmsg(l->wconn));
        struct timespec pause = {0, RESET_RETRY_PAUSE_MS * 1000000L};
        nanosleep(&pause, NULL); /* callers retrying at once must not spin the writer */
        return false;
    }
    l->reset_pending = false;
    pb_log(PB_LOG_INFO, "ledger.reset_done", "the writer's state is reloaded; batches run again");
    return true;
}

/* After a store failure: the open transaction is rolled back and the writer's
 * state reloaded (see reload_if_pending when that fails too). */
static void abort_tx(pb_ledger *l)
{
    pb_log(PB_LOG_ERROR, "ledger.batch_failed", "batch rolled back: %s", pb_store_errmsg(l->wconn));
    pb_store_rollback(l->wconn);
    atomic_store(&l->tx_open, false);
    if (pb_ledger_engine_reset(l) != PB_OK) {
        pb_log(PB_LOG_ERROR, "ledger.reset_failed",
               "the writer's state could not be reloaded, no batch runs until it is: %s",
               pb_store_errmsg(l->wconn));
        l->reset_pending = true;
    }
}

/* Applies a batch (NULL: the idle timer's empty one) in the open transaction,
 * opening one first when none is. On a store failure the whole transaction is
 * rolled back (abort_tx): every job applied in it since it opened failed too. */
static pb_err apply_batch(pb_ledger *l, ledger_job *jobs, size_t *ntransfers)
{
    if (!atomic_load_explicit(&l->tx_open, memory_order_relaxed)) {
        if (!reload_if_pending(l))
            return PB_ERR_STORE_UNAVAILABLE;
        pb_store_rc rc = pb_store_begin(l->wconn, PB_STORE_WRITE);
        if (rc != PB_STORE_OK)
            return rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
        /* the first transfer of the transaction: what the balance mark may not pass
         * for the accounts it leaves lagging (pb_ledger_engine_flush) */
        l->batch_first_seq = l->next_seq;
        atomic_store(&l->tx_open, true);
    }
    int64_t now = pb_ledger_now(l);
    /* expired holds are swept once the earliest of them is due, not by a query
     * in every batch */
    pb_err e = PB_OK;
    if (now >= l->next_expiry)
        e = pb_ledger_engine_expire(l, now, 256);
    for (ledger_job *j = jobs; j && e == PB_OK; j = j->next) {
        if (j->kind == JOB_TRANSFERS) {
            e = pb_ledger_engine_transfers(l, j->t, j->n, now);
            j->status = PB_OK;
            *ntransfers += j->n;
        } else if (j->kind == JOB_COMMAND) {
            e = pb_ledger_engine_command(l, j, now);
        } else {
            j->status = pb_ledger_engine_account(l, j->account, now);
            if (j->status == PB_ERR_INTERNAL)
                e = PB_ERR_INTERNAL;
        }
    }
    if (e != PB_OK)
        abort_tx(l);
    return e;
}

/* Writes back the balance rows that are due and commits the open transaction. */
static pb_err commit_tx(pb_ledger *l)
{
    pb_err e = pb_ledger_engine_flush(l);
    if (e == PB_OK) {
        pb_store_rc rc = pb_store_commit(l->wconn);
        if (rc != PB_STORE_OK)
            e = rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
    }
    if (e != PB_OK) {
        abort_tx(l);
        return e;
    }
    atomic_store(&l->tx_open, false);
    pb_ledger_engine_committed(l);
    pthread_mutex_lock(&l->mu); /* counted before anyone of it is answered */
    l->stats.commits++;
    pthread_mutex_unlock(&l->mu);
    return PB_OK;
}

/* One batch in a transaction of its own (the stop's write-back). */
static pb_err run_batch(pb_ledger *l, ledger_job *jobs, size_t *ntransfers)
{
    pb_err e = apply_batch(l, jobs, ntransfers);
    return e == PB_OK ? commit_tx(l) : e;
}

/* Appends a batch's jobs to those of the open transaction. */
static void hold_jobs(pb_ledger *l, ledger_job *jobs)
{
    for (ledger_job *j = jobs; j; j = j->next) {
        l->open_weight += j->kind == JOB_TRANSFERS ? j->n : 1;
        if (!j->next) {
            if (l->open_tail)
                l->open_tail->next = jobs;
            else
                l->open_head = jobs;
            l->open_tail = j;
        }
    }
}

/* The jobs of the open transaction, taken (the list is empty after). */
static ledger_job *take_held(pb_ledger *l)
{
    ledger_job *jobs = l->open_head;
    l->open_head = l->open_tail = NULL;
    l->open_weight = 0;
    return jobs;
}

/* Whether the open transaction commits now (see the top): at once unless the
 * notifier is syncing, and then when it grows to a full batch or the ledger stops. */
static bool commit_due(pb_ledger *l)
{
    return l->cfg.sync_in_writer || !l->cfg.coalesce ||
           (!atomic_load(&l->syncing) && !atomic_load(&l->handed)) ||
           l->open_weight >= l->cfg.max_batch || atomic_load(&l->stopping);
}

/* Commits the open transaction and hands its jobs on: to the notifier, or
 * synced and answered here when the load is light (sync_inline). */
static void commit_held(pb_ledger *l)
{
    pb_err e = commit_tx(l);
    ledger_job *jobs = take_held(l);
    if (e != PB_OK || !sync_inline(l, jobs))
        finish(l, jobs, e);
    if (e != PB_OK)
        return;
    ask_checkpoint(l);
    if (pb_store_wal_restart(l->wconn, l->cfg.wal_restart_frames) != PB_STORE_OK)
        pb_log(PB_LOG_WARN, "ledger.wal_restart", "%s", pb_store_errmsg(l->wconn));
}

/* At stop: every lagging balance row and every open hold not yet in
 * ledger_pending_open are written back, durably, so that the database at rest
 * needs no replay. On failure they stay behind their marks and the next open
 * replays them. */
static void write_back_all(pb_ledger *l)
{
    if (!l->uf_head && !l->nlazy && l->pmark == l->next_seq - 1)
        return;
    l->flush_all = true;
    size_t n = 0;
    if (run_batch(l, NULL, &n) != PB_OK ||
        (!l->cfg.sync_in_writer && pb_store_sync(l->wconn) != PB_STORE_OK))
        pb_log(PB_LOG_WARN, "ledger.write_back",
               "balance rows not written back at stop (%s): the next start replays them",
               pb_store_errmsg(l->wconn));
}

static void *writer_main(void *arg)
{
    pb_ledger *l = arg;
    int idle_ms = l->cfg.expiry_interval_ms;
    ledger_thread = l;
    if (l->writer_cpu >= 0 && pb_cpu_pin(l->writer_cpu) != 0)
        pb_log(PB_LOG_WARN, "ledger.cpu", "writer: cannot pin to CPU %d", l->writer_cpu);
    pthread_setname_np(pthread_self(), "pb-ledger-write"); /* after its placement (notifier_main) */
    for (;;) {
        drain_inbox(l);
        if (!l->head && !atomic_load(&l->stopping) &&
            !(atomic_load(&l->tx_open) && commit_due(l))) {
            /* nothing queued and nothing to commit yet: sleep until a caller pushes
             * (it signals only a sleeping writer), the notifier ends the sync an open
             * transaction waits for (it signals then), or the expiry sweep is due */
            pthread_mutex_lock(&l->mu);
            atomic_store(&l->writer_sleeping, true);
            struct timespec ts;
            pb_time_deadline(CLOCK_REALTIME, idle_ms, &ts);
            while (!atomic_load(&l->inbox) && !atomic_load(&l->stopping) &&
                   !(atomic_load(&l->tx_open) && commit_due(l)))
                if (pthread_cond_timedwait(&l->wake, &l->mu, &ts) == ETIMEDOUT)
                    break;
            atomic_store(&l->writer_sleeping, false);
            pthread_mutex_unlock(&l->mu);
            drain_inbox(l);
        }
        if (!l->head && atomic_load(&l->stopping)) {
            if (atomic_load(&l->tx_open))
                commit_held(l);
            break;
        }
        ledger_job *jobs = take_batch(l, l->cfg.max_batch);

        int64_t t0 = pb_time_mono_us();
        struct timespec c0, c1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        size_t ntransfers = 0;
        pb_err e = PB_OK;
        /* a batch, or the idle timer's empty one (none while a transaction waits
         * for the sync: it runs in the next batch) */
        bool ran = jobs || !atomic_load(&l->tx_open);
        if (ran) {
            e = apply_batch(l, jobs, &ntransfers);
            hold_jobs(l, jobs);
        }
        if (e != PB_OK)
            finish(l, take_held(l), e); /* the transaction is rolled back: all of it failed */
        else if (atomic_load(&l->tx_open) && commit_due(l))
            commit_held(l);
        int64_t took = pb_time_mono_us() - t0;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        int64_t cpu = (c1.tv_sec - c0.tv_sec) * 1000000 + (c1.tv_nsec - c0.tv_nsec) / 1000;

        pthread_mutex_lock(&l->mu);
        if (ran && (jobs || e == PB_OK)) {
            l->stats.batches++;
            l->stats.transfers += ntransfers;
            if (ntransfers > l->stats.max_batch_seen)
                l->stats.max_batch_seen = ntransfers;
        }
        l->stats.commit_us_total += (uint64_t)took;
        l->stats.cpu_us_total += (uint64_t)cpu;
        pthread_mutex_unlock(&l->mu);
    }
    write_back_all(l);
    return NULL;
}

static void *checkpointer_main(void *arg)
{
    pb_ledger *l = arg;
    char err[256];
    if (pb_cpu_avoid(l->writer_cpu) != 0)
        pb_log(PB_LOG_WARN, "ledger.cpu", "checkpointer: cannot keep off CPU %d", l->writer_cpu);
    pthread_setname_np(pthread_self(), "pb-ledger-ckpt"); /* after its placement (notifier_main) */
    pb_store_conn *c = pb_store_connect(l->store, err, sizeof err);
    if (!c) {
        pb_log(PB_LOG_ERROR, "ledger.checkpointer", "cannot connect: %s", err);
        return NULL;
    }
    pthread_mutex_lock(&l->mu);
    while (!l->stopping) {
        struct timespec ts;
        pb_time_deadline(CLOCK_REALTIME, l->cfg.checkpoint_ms, &ts);
        int rc = 0;
        while (!l->ckpt_kick && !l->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&l->ckpt_wake, &l->mu, &ts);
        if (l->stopping)
            break;
        l->ckpt_kick = false;
        pthread_mutex_unlock(&l->mu);
        if (pb_store_checkpoint(c) == PB_STORE_ERROR)
            pb_log(PB_LOG_WARN, "ledger.checkpoint", "%s", pb_store_errmsg(c));
        pthread_mutex_lock(&l->mu);
        l->stats.checkpoints++;
    }
    pthread_mutex_unlock(&l->mu);
    pb_store_checkpoint(c);
    pb_store_disconnect(c);
    return NULL;
}

int pb_ledger_writer_start(pb_ledger *l)
{
    l->writer_cpu = l->cfg.pin_writer && pb_cpu_allowed_count() >= 2 ? pb_cpu_quietest_allowed()
                                                                     : -1;
    if (!l->cfg.sync_in_writer && pb_store_set_deferred_sync(l->wconn, true) != PB_STORE_OK)
        return -1;
    if (l->cfg.wal_reserve) { /* a speed-up only: the ledger runs without it */
        int64_t t0 = pb_time_mono_us();
        int frames = l->cfg.wal_restart_frames + l->cfg.wal_restart_frames / 16;
        if (pb_store_wal_reserve(l->wconn, frames) != PB_STORE_OK)
            pb_log(PB_LOG_WARN, "ledger.wal_reserve", "%s", pb_store_errmsg(l->wconn));
        else
            pb_log(PB_LOG_INFO, "ledger.wal_reserved",
                   "the write-ahead log holds %d pages (%lld ms)", frames,
                   (long long)((pb_time_mono_us() - t0) / 1000));
    }
    pthread_mutex_init(&l->notify_mu, NULL);
    pthread_cond_init(&l->notify_wake, NULL);
    if (pthread_create(&l->notifier, NULL, notifier_main, l) != 0)
        return -1;
    l->notifier_started = true;
    if (pthread_create(&l->writer, NULL, writer_main, l) != 0) {
        pb_ledger_writer_stop(l);
        return -1;
    }
    l->writer_started = true;
    if (pthread_create(&l->checkpointer, NULL, checkpointer_main, l) != 0) {
        pb_ledger_writer_stop(l);
        return -1;
    }
    l->checkpointer_started = true;
    return 0;
}

void pb_ledger_writer_stop(pb_ledger *l)
{
    pthread_mutex_lock(&l->mu);
    atomic_store(&l->stopping, true);
    pthread_cond_broadcast(&l->wake);
    pthread_cond_broadcast(&l->ckpt_wake);
    pthread_mutex_unlock(&l->mu);
    if (l->writer_started)
        pthread_join(l->writer, NULL);
    if (l->checkpointer_started)
        pthread_join(l->checkpointer, NULL);
    /* the writer has handed over its last batch: let the notifier drain and stop */
    pthread_mutex_lock(&l->notify_mu);
    l->notify_stop = true;
    pthread_cond_signal(&l->notify_wake);
    pthread_mutex_unlock(&l->notify_mu);
    if (l->notifier_started)
        pthread_join(l->notifier, NULL);
    pthread_mutex_destroy(&l->notify_mu);
    pthread_cond_destroy(&l->notify_wake);
    l->writer_started = l->checkpointer_started = l->notifier_started = false;
}

/* Pushes a job without a lock; wakes the writer only if it sleeps. The writer
 * sets writer_sleeping and re-checks the inbox while holding mu before it waits,
 * and a pusher that sees the flag signals under mu, so no wake-up is lost. */
static void push(pb_ledger *l, ledger_job *j)
{
    ledger_job *top = atomic_load_explicit(&l->inbox, memory_order_relaxed);
    do
        j->next = top;
    while (!atomic_compare_exchange_weak_explicit(&l->inbox, &top, j, memory_order_seq_cst,
                                                  memory_order_relaxed));
    /* seq_cst: the push is ordered before the load below, as the writer's store of
     * writer_sleeping is before its load of inbox (no lost wake-up) */
    if (atomic_load(&l->writer_sleeping)) {
        /* once mu is ours the sleeping writer waits on the condition (it holds mu
         * from setting the flag to its wait); signalled after the unlock, it wakes
         * once instead of twice (woken, then blocked on mu, then woken again) */
        pthread_mutex_lock(&l->mu);
        pthread_mutex_unlock(&l->mu);
        pthread_cond_signal(&l->wake);
    }
}

void pb_ledger_enqueue(pb_ledger *l, ledger_job *j)
{
    if (pb_ledger_reentrant(l, "pb_ledger_enqueue")) {
        j->status = PB_ERR_LEDGER_REENTRANT;
        return;
    }
    j->cb = NULL;
    j->relay = true;
    j->group = NULL;
    sem_init(&j->done, 0, 0);
    push(l, j);
    while (sem_wait(&j->done) != 0 && errno == EINTR)
        ;
    pb_ledger_job_relay(j);
    sem_destroy(&j->done);
}

void pb_ledger_enqueue_many(pb_ledger *l, ledger_job *j, size_t n)
{
    if (n && pb_ledger_reentrant(l, "pb_ledger_enqueue_many")) {
        for (size_t i = 0; i < n; i++)
            j[i].status = PB_ERR_LEDGER_REENTRANT;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        j[i].cb = NULL;
        j[i].relay = false; /* it waits for them in order: woken one by one */
        j[i].group = NULL;
        sem_init(&j[i].done, 0, 0);
        push(l, &j[i]);
    }
    for (size_t i = 0; i < n; i++) {
        while (sem_wait(&j[i].done) != 0 && errno == EINTR)
            ;
        sem_destroy(&j[i].done);
    }
}

void pb_ledger_enqueue_async(pb_ledger *l, ledger_job *j) { push(l, j); }

int pb_ledger_writer_cpu(const pb_ledger *l) { return l ? l->writer_cpu : -1; }
