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
 * wallet still failing) up to cfg.retry_max_ms (60 s unless a test shortens
 * it), back to retry_ms once one leaves none. A round settling whose win the wallet refused for good is not retried
 * (its refusal is stored and final: every retry would get it again) and does
 * not count as unfinished: it is the gauge pitboss_games_rounds_stuck, logged
 * games.round_stuck once (error) when a pass first finds it; only the staff
 * void ends it (play.h, pb_play_round_settle). A round voiding whose stake's
 * rollback or round close the wallet refused for good is treated the same way
 * (the same gauge and log); nothing in pitboss ends that one (README, "Stuck
 * settling"). A round moved in the last retry_ms is left to whoever moves it (its
 * request, the crash scheduler); every step is keyed, so a pass that meets one
 * of them mid-way never pays twice (play.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/ticker.h"
#include "core/time.h"
#include "games/play_internal.h"

struct play_sweep {
    pb_ticker *ticker; /* NULL: not running */
    pb_play *play;
    pb_store_conn *conn; /* the thread's own */
};

static bool sweep_enter(void *arg)
{
    struct play_sweep *s = arg;
    char err[256];
    if (!(s->conn = pb_store_connect(s->play->store, err, sizeof err))) {
        pb_log(PB_LOG_ERROR, "games.sweep", "the sweeper cannot start: %s", err);
        return false;
    }
    return true;
}

/* One pass; false when it left some unfinished (the next one comes after
 * retry_ms, doubled from the last wait up to cfg.retry_max_ms). */
static bool sweep_pass(void *arg, int64_t retry_ms)
{
    struct play_sweep *s = arg;
    pb_play *p = s->play;
    int64_t now = pb_time_now_us(), base = (int64_t)p->cfg.retry_ms * 1000;
    size_t driven = 0, failed = 0, abandoned = 0;
    play_retry_unfinished(p, s->conn, now - base, now - p->cfg.mines_abandon_s * 1000000, &driven,
                          &failed, &abandoned);
    if (abandoned)
        pb_log(PB_LOG_INFO, "games.abandoned", "%zu abandoned mines game(s) cashed out", abandoned);
    if (!failed) {
        if (driven)
            pb_log(PB_LOG_INFO, "games.retry", "%zu unfinished round(s) driven on", driven);
        return true;
    }
    pb_log(PB_LOG_WARN, "games.retry",
           "%zu unfinished round(s) could not be driven on (%zu were): next try in %lld ms", failed,
           driven, (long long)retry_ms);
    return false;
}

static void sweep_leave(void *arg)
{
    struct play_sweep *s = arg;
    pb_store_disconnect(s->conn);
    s->conn = NULL;
}

int play_sweep_start(pb_play *p, char *err, size_t errcap)
{
    struct play_sweep *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    s->play = p;
    p->sweep = s;
    /* the first pass after one wait: start-up has just driven every round; the
     * waits run on CLOCK_REALTIME, the wall clock */
    pb_ticker_spec spec = {.clock = CLOCK_REALTIME,
                           .interval_ms = p->cfg.retry_ms,
                           .backoff_max_ms = p->cfg.retry_max_ms,
                           .enter = sweep_enter,
                           .pass = sweep_pass,
                           .leave = sweep_leave,
                           .arg = s};
    if (!(s->ticker = pb_ticker_start(&spec))) {
        snprintf(err, errcap, "games: cannot start the sweeper");
        return -1;
    }
    return 0;
}

void play_sweep_stop(pb_play *p)
{
    struct play_sweep *s = p->sweep;
    if (!s || !s->ticker)
        return;
    pb_ticker_stop(s->ticker);
    s->ticker = NULL;
}

void play_sweep_free(pb_play *p)
{
    struct play_sweep *s = p->sweep;
    if (!s)
        return;
    play_sweep_stop(p); /* freeing a running sweeper: stopped first, not leaked */
    free(s);
    p->sweep = NULL;
}
