/*
 * play_sweep.c — the sweeper: the periodic pass over the in-house rounds that
 * are not at rest, on a thread of its own that always runs while the money side
 * is open, whatever the brands play.
 *
 * Each pass (play_retry_unfinished) drives on the rounds a transient failure
 * left pending, settling or voiding (a crash bet whose win the wallet could not
 * pay when its round crashed, a stake or a decision whose request got 503), and
 * cashes out the mines games untouched for cfg.mines_abandon_s (play.h,
 * "Abandoned mines"). It ran on the crash scheduler's thread before: with the
 * crash game off (PITBOSS_CRASH=0, cfg.crash false) nothing ran it, so abandoned
 * mines games and stuck rounds waited for the next start. Passes come every
 * cfg.retry_ms, doubling while one leaves some unfinished (the store or the
 * wallet still failing) up to RETRY_MAX_US, back to retry_ms once one leaves
 * none. A round moved in the last retry_ms is left to whoever moves it (its
 * request, the crash scheduler); every step is keyed, so a pass that meets one
 * of them mid-way never pays twice (play.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/time.h"
#include "games/play_internal.h"

#define RETRY_MAX_US 60000000 /* the longest wait between two passes */

struct play_sweep {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

/* One pass; returns the wait until the next one (µs), given the last wait. */
static int64_t pass(pb_play *p, pb_store_conn *c, int64_t delay_us)
{
    int64_t now = pb_time_now_us(), base = (int64_t)p->cfg.retry_ms * 1000;
    size_t driven = 0, failed = 0, abandoned = 0;
    play_retry_unfinished(p, c, now - base, now - p->cfg.mines_abandon_s * 1000000, &driven,
                          &failed, &abandoned);
    if (abandoned)
        pb_log(PB_LOG_INFO, "games.abandoned", "%zu abandoned mines game(s) cashed out", abandoned);
    if (!failed) {
        if (driven)
            pb_log(PB_LOG_INFO, "games.retry", "%zu unfinished round(s) driven on", driven);
        return base;
    }
    delay_us = delay_us * 2 < RETRY_MAX_US ? delay_us * 2 : RETRY_MAX_US;
    pb_log(PB_LOG_WARN, "games.retry",
           "%zu unfinished round(s) could not be driven on (%zu were): next try in %lld ms", failed,
           driven, (long long)(delay_us / 1000));
    return delay_us;
}

static void *sweeper(void *arg)
{
    pb_play *p = arg;
    struct play_sweep *s = p->sweep;
    char err[256];
    pb_store_conn *c = pb_store_connect(p->store, err, sizeof err);
    if (!c) {
        pb_log(PB_LOG_ERROR, "games.sweep", "the sweeper cannot start: %s", err);
        return NULL;
    }
    int64_t delay = (int64_t)p->cfg.retry_ms * 1000;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        /* the first pass after one delay: start-up has just driven every round */
        int64_t wake = pb_time_now_us() + delay;
        while (!s->stop && pb_time_now_us() < wake) {
            /* the condition variable runs on CLOCK_REALTIME: the wall clock */
            struct timespec ts = {.tv_sec = (time_t)(wake / 1000000),
                                  .tv_nsec = (long)(wake % 1000000) * 1000};
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->mu);
        delay = pass(p, c, delay);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    pb_store_disconnect(c);
    return NULL;
}

int play_sweep_start(pb_play *p, char *err, size_t errcap)
{
    struct play_sweep *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    p->sweep = s;
    if (pthread_create(&s->thread, NULL, sweeper, p) != 0) {
        snprintf(err, errcap, "games: cannot start the sweeper");
        return -1;
    }
    s->started = true;
    return 0;
}

void play_sweep_stop(pb_play *p)
{
    struct play_sweep *s = p->sweep;
    if (!s || !s->started)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->started = false;
}

void play_sweep_free(pb_play *p)
{
    struct play_sweep *s = p->sweep;
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    p->sweep = NULL;
}
