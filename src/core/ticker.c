/*
 * ticker.c — the periodic background thread (ticker.h).
 */
#include "core/ticker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/time.h"

struct pb_ticker {
    pb_ticker_spec spec;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop; /* under mu: asked to end */
    bool wake; /* under mu: a pass is asked for now */
};

/* Waits up to ms for a stop or a wake (consumed). Under t->mu; true: stop. */
static bool wait_locked(pb_ticker *t, int64_t ms)
{
    struct timespec at;
    pb_time_deadline(t->spec.clock, ms, &at);
    while (!t->stop && !t->wake && pthread_cond_timedwait(&t->cv, &t->mu, &at) != ETIMEDOUT)
        ;
    t->wake = false;
    return t->stop;
}

static int64_t next_wait(const pb_ticker_spec *s, int64_t wait)
{
    if (s->backoff_max_ms <= 0)
        return s->interval_ms;
    return wait * 2 < s->backoff_max_ms ? wait * 2 : s->backoff_max_ms;
}

static void *ticker_main(void *arg)
{
    pb_ticker *t = arg;
    const pb_ticker_spec *s = &t->spec;
    if (s->name)
        pthread_setname_np(pthread_self(), s->name);
    if (s->enter && !s->enter(s->arg))
        return NULL;
    int64_t wait = s->interval_ms;
    bool first = true;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        /* the pass at start runs even if a stop came first */
        if (!(first && s->pass_at_start) && wait_locked(t, wait))
            break;
        first = false;
        pthread_mutex_unlock(&t->mu);
        int64_t retry = next_wait(s, wait);
        wait = s->pass(s->arg, retry) ? s->interval_ms : retry;
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    if (s->leave)
        s->leave(s->arg);
    return NULL;
}

pb_ticker *pb_ticker_start(const pb_ticker_spec *spec)
{
    if (!spec || !spec->pass || spec->interval_ms <= 0) {
        errno = EINVAL;
        return NULL;
    }
    pb_ticker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->spec = *spec;
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, spec->clock);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&t->thread, NULL, ticker_main, t);
    if (rc != 0) {
        pthread_cond_destroy(&t->cv);
        pthread_mutex_destroy(&t->mu);
        free(t);
        errno = rc;
        return NULL;
    }
    return t;
}

void pb_ticker_wake(pb_ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->wake = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

void pb_ticker_stop(pb_ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}
