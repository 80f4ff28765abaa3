/*
 * ticker.h — a background thread that runs a pass every interval (or at once
 * when woken), backs off while passes fail, and stops promptly when asked.
 *
 * The one copy of the pattern the periodic workers share (the pruner, the
 * sweeper, scheduled backups, the audit checkpointer, the log flusher): a
 * mutex, a condition variable timed on the clock the caller names, a stop flag
 * and a wake flag. A pass under way is never cut short: stop waits for it.
 */
#ifndef PB_CORE_TICKER_H
#define PB_CORE_TICKER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct pb_ticker pb_ticker;

typedef struct pb_ticker_spec {
    /* the thread's name (15 bytes at most, as the kernel keeps); NULL: unnamed */
    const char *name;
    /* what the waits are timed on: CLOCK_MONOTONIC or CLOCK_REALTIME */
    clockid_t clock;
    /* the wait between two passes, ms (> 0) */
    int64_t interval_ms;
    /* 0: no backoff. Else a failed pass doubles the wait before the next one,
     * up to this (ms); a good pass brings it back to interval_ms. */
    int64_t backoff_max_ms;
    /* a pass at once when the thread starts, before the first wait (it runs
     * even when stop is asked before it) */
    bool pass_at_start;
    /* optional, first on the thread (after naming it); false: the thread ends
     * at once without a pass (stop still joins it) and leave is not called */
    bool (*enter)(void *arg);
    /* one pass; false: it failed (counts only with backoff). retry_ms is the
     * wait that follows should this pass fail, for the pass's own log line. */
    bool (*pass)(void *arg, int64_t retry_ms);
    /* optional, last on the thread, once asked to stop (after enter succeeded) */
    void (*leave)(void *arg);
    void *arg;
} pb_ticker_spec;

/* Starts the thread. NULL (errno set) if out of memory or no thread;
 * nothing is left to free then. */
pb_ticker *pb_ticker_start(const pb_ticker_spec *spec);
/* A pass as soon as the thread is free (at once if it waits; right after the
 * one under way otherwise). The wait after it starts afresh. */
void pb_ticker_wake(pb_ticker *t);
/* Asks the thread to stop, joins it (a pass under way finishes first; no new
 * one starts, whatever the interval) and frees t. NULL: nothing. */
void pb_ticker_stop(pb_ticker *t);

#endif
