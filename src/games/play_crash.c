/*
 * play_crash.c — the crash game: hash chains, rounds, the scheduler thread and
 * crash bets.
 *
 * Chains (play_crash_chain.c): per brand, a chain of `crash_chain_length` game
 * hashes from a random seed, played in reverse, kept in memory by checkpoints.
 *
 * The scheduler thread wakes at the next event of any brand (at least once a
 * second, to see brands switched on or off) and, per brand whose crash game is
 * on (and per brand with a round still open), moves its newest round on — each
 * move one ledger command, so bets (play_round_record checks "betting"; a
 * cash-out checks "running") are serialised with it:
 *   none / crashed + pause  → a new round "betting" (the next hash of the chain,
 *                             its point at the RTP in force)
 *   betting, ends          → "running", started_at = now
 *   running, m(t) ≥ point  → "crashed": every active bet of the round is
 *                             decided in the same command (its cash-out, else its
 *                             auto cash-out when ≤ point, else lost) and then
 *                             paid through the wallet, all together.
 * m(t) = floor(100 · e^(k·t)) hundredths, t in whole ms since started_at: a
 * cash-out at t is accepted while m(t) < point, at m(t) (or at the bet's auto
 * target when that was reached first).
 *
 * A cash-out pays at most PB_CRASH_TARGET_MAX (1,000,000.00x), the largest auto
 * target: a manual cash-out at a higher m(t) (a point can reach ~4.25e9x) is
 * recorded at that cap. A bet is accepted only when stake × the cap fits in
 * int64 (pb_play_crash_bet), so no payout of a round can overflow: the crash
 * command decides every bet of the round in one ledger batch, and one payout
 * that did not fit would fail (and retry) all of them.
 *
 * At rest, a round that has not crashed keeps its outcome out of the database:
 * its game hash is stored sealed under fair.key, bound to "crash-round:<id>"
 * (seal.c), and its point as 0. Whoever needs the point (the scheduler, a
 * cash-out, the current round's multiplier) opens the hash and computes the
 * point from it (play_crash_round_open, the same round_point that made it), so a
 * restart in any phase goes on from the stored row. The crash writes the hash and
 * the point in the clear: public from then on. pb_play_crash_current shows
 * neither before the crash.
 */
#include <math.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "core/log.h"
#include "core/time.h"
#include "games/play_internal.h"
#include "tenancy/tenancy.h"

#define BRANDS_MAX 256 /* brands the scheduler looks after */
#define SETTLE_CAP 256 /* bets decided per query in the crash command */
/* the largest multiplier a cash-out pays (PB_MULT_ONE units): the largest auto target */
#define CASHOUT_MAX ((int64_t)PB_CRASH_TARGET_MAX * (PB_MULT_ONE / 100))

struct play_crash {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    chain_mem chains[BRANDS_MAX];
    size_t nchains;
};

/* ---- the multiplier ---- */

int64_t play_crash_m(double k, int64_t t_ms)
{
    double x = k * (double)(t_ms < 0 ? 0 : t_ms);
    if (x >= 40.0)
        return INT64_MAX / 4;
    return (int64_t)floor(100.0 * exp(x));
}

int64_t pb_play_crash_multiplier_at(const pb_play *p, int64_t t_ms)
{
    return play_crash_m(p->cfg.crash_growth, t_ms);
}

double pb_play_crash_growth(const pb_play *p) { return p->cfg.crash_growth; }

/* The first whole ms at which m reaches point. */
static int64_t crash_ms(double k, int64_t point)
{
    if (point <= 100)
        return 0;
    double t = ceil(log((double)point / 100.0) / k);
    int64_t ms = t > 1e15 ? (int64_t)1e15 : (int64_t)t;
    while (ms > 0 && play_crash_m(k, ms - 1) >= point)
        ms--;
    while (play_crash_m(k, ms) < point)
        ms++;
    return ms;
}

/* ---- a round's outcome: its point, sealed at rest until the crash ---- */

/* The point (hundredths) of round r from its game hash in the clear, its chain's
 * salt and the RTP in force when it was made: the one computation of it. */
static int64_t round_point(const pb_store_crash_round *r)
{
    return (int64_t)pb_crash_point(r->game_hash, r->salt, (uint32_t)r->rtp_bp);
}

pb_err play_crash_round_open(pb_store_crash_round *r)
{
    if (strcmp(r->state, "crashed") == 0)
        return PB_OK;
    char ad[PB_ID_STR_LEN + 16];
    play_crash_round_ad(r->id, ad, sizeof ad);
    if (play_seed_open(ad, r->game_hash, sizeof r->game_hash) != PB_OK) {
        pb_log(PB_LOG_ERROR, "games.seed_sealed",
               "crash round %s: the game hash does not open with this fair.key", r->id);
        return PB_ERR_INTERNAL;
    }
    int64_t point = round_point(r);
    if (r->point != 0 && r->point != point) { /* stored in the clear by an older version */
        pb_log(PB_LOG_ERROR, "games.crash_round",
               "crash round %s: the stored point %lld is not its hash's %lld", r->id,
               (long long)r->point, (long long)point);
        return PB_ERR_INTERNAL;
    }
    r->point = point;
    return PB_OK;
}

/* The stored form of round r (hash and point in the clear) into *out: the hash
 * sealed (as given without a key), the point 0. */
static pb_err round_sealed(const pb_store_crash_round *r, pb_store_crash_round *out)
{
    char ad[PB_ID_STR_LEN + 16];
    *out = *r;
    out->point = 0;
    play_crash_round_ad(r->id, ad, sizeof ad);
    return play_seed_seal(ad, r->game_hash, out->game_hash, sizeof out->game_hash);
}

/* ---- round commands ---- */

typedef struct next_ctx {
    pb_play *p;
    const chain_mem *m;
    int64_t brand_id;
    const char *brand;
    pb_store_crash_round out; /* the new round, its hash and point in the clear */
    bool made;
} next_ctx;

/* A new betting round at the chain's next position, stored sealed. */
static pb_err next_cmd(pb_ledger_tx *tx, void *v)
{
    next_ctx *x = v;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    x->made = false;
    pb_store_crash_chain ch;
    pb_store_rc rc = pb_store_crash_chain_get(c, x->m->chain_id, &ch);
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (ch.next_position >= ch.length)
        return PB_OK; /* used up: the scheduler makes the next chain */
    uint32_t rtp;
    if (play_rtp_in_force(c, x->brand_id, PB_GAME_CRASH, &rtp) != PB_OK)
        return PB_ERR_INTERNAL;
    pb_store_crash_round *r = &x->out;
    memset(r, 0, sizeof *r);
    play_new_id(r->id);
    r->brand_id = x->brand_id;
    snprintf(r->brand, sizeof r->brand, "%s", x->brand);
    r->chain_id = ch.id;
    r->position = ch.next_position;
    play_chain_hash(x->m, r->position, r->game_hash);
    r->rtp_bp = (int32_t)rtp;
    snprintf(r->salt, sizeof r->salt, "%s", ch.salt);
    snprintf(r->terminal_hash, sizeof r->terminal_hash, "%s", ch.terminal_hash);
    r->point = round_point(r);
    snprintf(r->state, sizeof r->state, "betting");
    r->created_at = now;
    r->betting_ends_at = now + (int64_t)x->p->cfg.crash_betting_ms * 1000;
    pb_store_crash_round stored;
    if (round_sealed(r, &stored) != PB_OK ||
        pb_store_crash_round_insert(c, &stored) != PB_STORE_OK ||
        pb_store_crash_chain_advance(c, ch.id, ch.next_position + 1) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    x->made = true;
    return PB_OK;
}

typedef struct move_ctx {
    pb_play *p;
    pb_store_crash_round *r;             /* in: the round as the scheduler saw it; out: as stored,
                                once running opened (crashed: as stored, in the clear) */
    char (*settling)[PB_ID_STR_LEN + 1]; /* crash: the bets decided */
    size_t nsettling, cap;
    bool moved;
} move_ctx;

/* The outcome of a crash bet once its round crashed: its cash-out (manual,
 * recorded while running), else its auto cash-out when it was reached, else lost. */
static pb_err crash_settle_bet(const pb_store_crash_round *cr, pb_store_game_round *b, int64_t now)
{
    pb_game_params gp;
    if (play_round_params(b, &gp) != PB_OK)
        memset(&gp, 0, sizeof gp), gp.kind = PB_GAME_CRASH;
    int64_t mult = 0;
    if (b->has_multiplier)
        mult = b->multiplier;
    else if (gp.u.crash.cashout >= PB_CRASH_TARGET_MIN && (int64_t)gp.u.crash.cashout <= cr->point)
        mult = (int64_t)gp.u.crash.cashout * (PB_MULT_ONE / 100);
    if (mult > CASHOUT_MAX) /* a manual cash-out an older version recorded above the cap */
        mult = CASHOUT_MAX;
    int64_t payout = 0;
    if (pb_game_payout_of(b->amount, mult, &payout) != 0) {
        /* the bet's stake × the cap fitted when it was placed: damage */
        pb_log(PB_LOG_ERROR, "games.crash_payout", "crash bet %s: the payout overflows", b->id);
        return PB_ERR_OVERFLOW;
    }
    pb_game_outcome o;
    memset(&o, 0, sizeof o);
    o.kind = PB_GAME_CRASH;
    o.rtp_bp = (uint32_t)cr->rtp_bp;
    o.u.crash.point = (uint64_t)cr->point;
    o.multiplier = mult;
    o.win = mult > 0;
    free(b->outcome);
    b->outcome = play_json_text(pb_game_outcome_json(&gp, &o));
    if (!b->outcome)
        return PB_ERR_INTERNAL;
    b->has_multiplier = b->has_payout = true;
    b->multiplier = mult;
    b->payout = payout;
    b->rtp_bp = cr->rtp_bp;
    b->updated_at = now;
    snprintf(b->state, sizeof b->state, PLAY_SETTLING);
    return PB_OK;
}

static pb_err move_cmd(pb_ledger_tx *tx, void *v)
{
    move_ctx *x = v;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    x->moved = false;
    x->nsettling = 0;
    pb_store_crash_round *r = x->r;
    pb_store_rc rc = pb_store_crash_round_get(c, r->id, r);
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (strcmp(r->state, "betting") == 0) {
        if (now < r->betting_ends_at)
            return PB_OK;
        snprintf(r->state, sizeof r->state, "running");
        r->started_at = now;
        x->moved = true;
        return pb_store_crash_round_update(c, r, "betting") == PB_STORE_OK ? PB_OK
                                                                           : PB_ERR_INTERNAL;
    }
    if (strcmp(r->state, "running") != 0)
        return PB_OK;
    if (play_crash_round_open(r) != PB_OK)
        return PB_ERR_INTERNAL;
    if (play_crash_m(x->p->cfg.crash_growth, (now - r->started_at) / 1000) < r->point)
        return PB_OK;
    snprintf(r->state, sizeof r->state, "crashed");
    r->crashed_at = now;
    x->moved = true;
    /* the hash and the point go in the clear with the crash: public from now on */
    if (pb_store_crash_round_update(c, r, "running") != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    pb_store_game_round *bets = calloc(SETTLE_CAP, sizeof *bets);
    if (!bets)
        return PB_ERR_INTERNAL;
    pb_err e = PB_OK;
    size_t n = SETTLE_CAP;
    while (e == PB_OK && n == SETTLE_CAP) {
        if (pb_store_game_round_of_crash(c, r->id, PLAY_ACTIVE, bets, SETTLE_CAP, &n) !=
            PB_STORE_OK) {
            e = PB_ERR_INTERNAL;
            n = 0;
        }
        for (size_t i = 0; i < n; i++) {
            if (e == PB_OK)
                e = crash_settle_bet(r, &bets[i], now);
            if (e == PB_OK && pb_store_game_round_update(c, &bets[i], PLAY_ACTIVE) != PB_STORE_OK)
                e = PB_ERR_INTERNAL;
            if (e == PB_OK && x->nsettling == x->cap) {
                size_t cap = x->cap ? x->cap * 2 : 64;
                void *grown = realloc(x->settling, cap * sizeof *x->settling);
                if (!grown)
                    e = PB_ERR_INTERNAL;
                else
                    x->settling = grown, x->cap = cap;
            }
            if (e == PB_OK)
                memcpy(x->settling[x->nsettling++], bets[i].id, PB_ID_STR_LEN + 1);
            pb_store_game_round_clear(&bets[i]);
        }
    }
    free(bets);
    return e == PB_OK ? PB_OK : PB_ERR_INTERNAL;
}

/* ---- settling a crashed round's bets: all wins at once, then all marked ---- */

typedef struct settle_all {
    sem_t done;
    size_t n;
    pb_wallet_op *ops;
    pb_store_game_round *rows;
} settle_all;

static void win_done(void *ctx, pb_wallet_op *op)
{
    (void)op;
    sem_post(&((settle_all *)ctx)->done);
}

static pb_err mark_cmd(pb_ledger_tx *tx, void *v)
{
    settle_all *s = v;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    for (size_t i = 0; i < s->n; i++) {
        if (s->ops[i].result != PB_OK)
            continue; /* stays settling: the retry pass drives it on */
        pb_store_game_round *r = &s->rows[i];
        snprintf(r->state, sizeof r->state, PLAY_SETTLED);
        r->updated_at = r->settled_at = now;
        pb_store_rc rc = pb_store_game_round_update(c, r, PLAY_SETTLING);
        if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
            return PB_ERR_INTERNAL;
    }
    return PB_OK;
}

static void settle_bets(pb_play *p, pb_store_conn *c, char (*ids)[PB_ID_STR_LEN + 1], size_t n)
{
    if (n == 0)
        return;
    settle_all s = {.n = 0,
                    .ops = calloc(n, sizeof(pb_wallet_op)),
                    .rows = calloc(n, sizeof(pb_store_game_round))};
    sem_init(&s.done, 0, 0);
    for (size_t i = 0; s.ops && s.rows && i < n; i++) {
        if (pb_store_game_round_get(c, ids[i], &s.rows[s.n]) != PB_STORE_OK)
            continue;
        if (strcmp(s.rows[s.n].state, PLAY_SETTLING) != 0) {
            pb_store_game_round_clear(&s.rows[s.n]);
            continue;
        }
        play_wallet_op(&s.ops[s.n], &s.rows[s.n], true, NULL);
        if (pb_wallet_game_submit_async(p->w, c, &s.ops[s.n], win_done, &s) != PB_OK) {
            s.ops[s.n].result = PB_ERR_INTERNAL;
            sem_post(&s.done);
        }
        s.n++;
    }
    for (size_t i = 0; i < s.n; i++)
        while (sem_wait(&s.done) != 0)
            ;
    size_t failed = 0;
    for (size_t i = 0; i < s.n; i++)
        failed += s.ops[i].result != PB_OK;
    if (s.n && pb_ledger_command(p->l, mark_cmd, &s) != PB_OK)
        failed = s.n;
    if (failed)
        pb_log(PB_LOG_WARN, "games.crash_settle",
               "%zu of %zu crash bets are not settled yet (the retry pass drives them on)", failed,
               s.n);
    for (size_t i = 0; i < s.n; i++) {
        pb_wallet_op_release(&s.ops[i]);
        pb_store_game_round_clear(&s.rows[i]);
    }
    sem_destroy(&s.done);
    free(s.ops);
    free(s.rows);
}

/* Pays the bets of a crashed round that are still settling (a payment that
 * failed before: the retry pass pays it too, and the wallet answers the second
 * one as a duplicate). A bet decided after its round started is void, never
 * settling (play_decide_crash). */
static void settle_left(pb_play *p, pb_store_conn *c, const char *crash_round)
{
    pb_store_game_round *rows = calloc(SETTLE_CAP, sizeof *rows);
    char(*ids)[PB_ID_STR_LEN + 1] = calloc(SETTLE_CAP, sizeof *ids);
    size_t n = 0;
    if (rows && ids &&
        pb_store_game_round_of_crash(c, crash_round, PLAY_SETTLING, rows, SETTLE_CAP, &n) ==
            PB_STORE_OK) {
        for (size_t i = 0; i < n; i++) {
            memcpy(ids[i], rows[i].id, PB_ID_STR_LEN + 1);
            pb_store_game_round_clear(&rows[i]);
        }
        settle_bets(p, c, ids, n);
    }
    free(rows);
    free(ids);
}

/*
 * A crash bet's acceptance into its round (its stake taken): "active" — in
 * play — only while the round still takes bets. This runs in the writer, like
 * the scheduler's move to running (move_cmd), so "betting" here means the bet is
 * in the round before it starts: in play from its first millisecond, open to a
 * cash-out, and settled by the crash with the round's other active bets.
 *
 * Once the round has started (or crashed), the bet never played: its stake came
 * back late, or its decision failed and the retry pass or the next start
 * decides it now. Settling it by the point (lost unless its auto cash-out was
 * reached) would charge the player for the system's failure: it is void
 * ("voiding", its stake given back by play_drive), its auto cash-out ignored
 * even when the point reached it (play.h, "Void").
 */
pb_err play_decide_crash(pb_play *p, pb_ledger_tx *tx, pb_store_game_round *r, pb_err *result)
{
    (void)p;
    (void)result;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    pb_store_crash_round cr;
    pb_store_rc rc = pb_store_crash_round_get(c, r->crash_round, &cr);
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    r->rtp_bp = cr.rtp_bp;
    r->updated_at = now;
    if (strcmp(cr.state, "betting") == 0) {
        snprintf(r->state, sizeof r->state, PLAY_ACTIVE);
    } else {
        snprintf(r->state, sizeof r->state, PLAY_VOIDING);
        snprintf(r->void_reason, sizeof r->void_reason, "%s",
                 strcmp(cr.state, "crashed") == 0 ? PB_PLAY_VOID_CRASHED : PB_PLAY_VOID_STARTED);
    }
    return pb_store_game_round_update(c, r, PLAY_PENDING) == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
}

/* ---- the scheduler ---- */

/* Moves one brand on; returns when it next needs attention (µs, wall clock). */
static int64_t tend(pb_play *p, pb_store_conn *c, const pb_brand *b, bool enabled, int64_t now)
{
    int64_t later = now + 1000000;
    pb_store_crash_round r;
    pb_store_rc rc = pb_store_crash_round_latest(c, b->id, &r);
    if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
        return later;
    bool none = rc == PB_STORE_NOT_FOUND;
    if (!none && strcmp(r.state, "crashed") == 0)
        settle_left(p, c, r.id);
    /* betting or running (also as found at start-up): its point from the sealed hash */
    if (!none && play_crash_round_open(&r) != PB_OK)
        return later;
    if (none || strcmp(r.state, "crashed") == 0) {
        if (!enabled)
            return later;
        int64_t due = none ? now : r.crashed_at + (int64_t)p->cfg.crash_pause_ms * 1000;
        if (now < due)
            return due;
        struct play_crash *k = p->crash;
        chain_mem *m = play_chain_for(k->chains, &k->nchains, BRANDS_MAX, c, b->id, b->code,
                                      p->cfg.crash_chain_length);
        if (!m)
            return later;
        next_ctx x = {.p = p, .m = m, .brand_id = b->id, .brand = b->code};
        if (pb_ledger_command(p->l, next_cmd, &x) != PB_OK || !x.made)
            return now + 100000; /* a used-up chain: the next pass makes a new one */
        r = x.out;
    }
    int64_t due = strcmp(r.state, "betting") == 0
                      ? r.betting_ends_at
                      : r.started_at + crash_ms(p->cfg.crash_growth, r.point) * 1000;
    if (now < due)
        return due;
    move_ctx x = {.p = p, .r = &r};
    pb_err e = pb_ledger_command(p->l, move_cmd, &x);
    if (e == PB_OK && x.moved && strcmp(r.state, "crashed") == 0)
        settle_bets(p, c, x.settling, x.nsettling);
    free(x.settling);
    if (e != PB_OK)
        return now + 100000;
    return now; /* look again at once: the next phase */
}

static void *scheduler(void *arg)
{
    pb_play *p = arg;
    struct play_crash *k = p->crash;
    char err[256];
    pb_store_conn *c = pb_store_connect(p->store, err, sizeof err);
    pb_brand *brands = calloc(BRANDS_MAX, sizeof *brands);
    if (!c || !brands) {
        pb_log(PB_LOG_ERROR, "games.crash", "the scheduler cannot start: %s",
               c ? "out of memory" : err);
        free(brands);
        if (c)
            pb_store_disconnect(c);
        return NULL;
    }
    pthread_mutex_lock(&k->mu);
    while (!k->stop) {
        pthread_mutex_unlock(&k->mu);
        size_t n = 0;
        int64_t now = pb_time_now_us(), wake = now + 1000000;
        if (pb_tenancy_brand_list(c, NULL, 0, brands, BRANDS_MAX, &n) != PB_OK)
            n = 0;
        for (size_t i = 0; i < n; i++) {
            bool on = pb_catalog_game_playable(c, PB_PLAY_PROVIDER, "crash", brands[i].code, "", 0,
                                               NULL) == PB_OK;
            int64_t due = tend(p, c, &brands[i], on, pb_time_now_us());
            if (due < wake)
                wake = due;
        }
        pthread_mutex_lock(&k->mu);
        if (k->stop)
            break;
        now = pb_time_now_us();
        if (wake > now) {
            /* the condition variable runs on CLOCK_REALTIME: the wall clock */
            struct timespec ts = {.tv_sec = (time_t)(wake / 1000000),
                                  .tv_nsec = (long)(wake % 1000000) * 1000};
            pthread_cond_timedwait(&k->cv, &k->mu, &ts);
        }
    }
    pthread_mutex_unlock(&k->mu);
    free(brands);
    pb_store_disconnect(c);
    return NULL;
}

int play_crash_start(pb_play *p, char *err, size_t errcap)
{
    struct play_crash *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    p->crash = k;
    if (pthread_create(&k->thread, NULL, scheduler, p) != 0) {
        snprintf(err, errcap, "games: cannot start the crash scheduler");
        return -1;
    }
    k->started = true;
    return 0;
}

void play_crash_stop(pb_play *p)
{
    struct play_crash *k = p->crash;
    if (!k || !k->started)
        return;
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    k->started = false;
}

void play_crash_free(pb_play *p)
{
    struct play_crash *k = p->crash;
    if (!k)
        return;
    for (size_t i = 0; i < k->nchains; i++)
        play_chain_free(&k->chains[i]);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k);
    p->crash = NULL;
}

/* ---- crash bets (player requests) ---- */

pb_err pb_play_crash_current(pb_play *p, pb_store_conn *c, int64_t brand_id,
                             pb_store_crash_round *out, int64_t *multiplier_now)
{
    pb_store_rc rc = pb_store_crash_round_latest(c, brand_id, out);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_ERR_ROUND_NOT_FOUND;
    if (rc != PB_STORE_OK)
        return PB_ERR_STORE_UNAVAILABLE;
    *multiplier_now = 0;
    /* The multiplier shown is what a cash-out pays: at most PB_CRASH_TARGET_MAX. A
     * round whose point is above the cap runs on to its point (the point and when
     * the round ends stay the hash's, verifiable), but from the cap on a cash-out
     * pays the cap, so the multiplier shown stops there. The point itself is shown
     * as it is once crashed (out->point). */
    if (strcmp(out->state, "crashed") == 0) {
        *multiplier_now = out->point < PB_CRASH_TARGET_MAX ? out->point : PB_CRASH_TARGET_MAX;
        return PB_OK;
    }
    if (strcmp(out->state, "running") == 0) {
        /* the multiplier now stops at the point (reached, the crash not yet written) */
        pb_store_crash_round open = *out;
        if (play_crash_round_open(&open) != PB_OK)
            return PB_ERR_INTERNAL;
        int64_t m = play_crash_m(p->cfg.crash_growth, (pb_time_now_us() - out->started_at) / 1000);
        if (m > open.point)
            m = open.point;
        *multiplier_now = m < PB_CRASH_TARGET_MAX ? m : PB_CRASH_TARGET_MAX;
        sodium_memzero(&open, sizeof open);
    }
    out->game_hash[0] = '\0'; /* neither is shown before the crash */
    out->point = 0;
    return PB_OK;
}

pb_err pb_play_crash_bet(pb_play *p, pb_store_conn *c, const pb_play_player *who, int64_t amount,
                         int64_t auto_cashout, const char *idempotency_key, const char *trace_id,
                         pb_store_game_round *out, bool *replayed, pb_play_error *err)
{
    *replayed = false;
    play_fail(err, PB_OK, NULL, NULL);
    size_t kl = idempotency_key ? strlen(idempotency_key) : 0;
    bool key_ok = kl > 0 && kl <= PB_PLAY_KEY_MAX;
    for (size_t i = 0; key_ok && i < kl; i++)
        key_ok = (unsigned char)idempotency_key[i] >= 0x21 &&
                 (unsigned char)idempotency_key[i] <= 0x7e;
    if (!key_ok)
        return play_fail(err, PB_ERR_IDEMPOTENCY_KEY_INVALID, "idempotency_key", NULL);
    if (amount <= 0)
        return play_fail(err, PB_ERR_AMOUNT_INVALID, "amount", NULL);
    if (auto_cashout != 0 &&
        (auto_cashout < PB_CRASH_TARGET_MIN || auto_cashout > PB_CRASH_TARGET_MAX))
        return play_fail(err, PB_ERR_FIELD_INVALID, "auto_cashout",
                         "auto_cashout: 1.01 .. 1000000.00");
    int64_t worst; /* a cash-out pays at most CASHOUT_MAX: the largest payout must fit */
    if (pb_game_payout_of(amount, CASHOUT_MAX, &worst) != 0)
        return play_fail(err, PB_ERR_AMOUNT_OUT_OF_RANGE, "amount",
                         "amount: the largest possible payout would overflow");
    pb_game_params gp;
    memset(&gp, 0, sizeof gp);
    gp.kind = PB_GAME_CRASH;
    gp.u.crash.cashout = (uint32_t)auto_cashout;
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    play_new_id(r.id);
    r.brand_id = who->brand_id;
    snprintf(r.brand, sizeof r.brand, "%s", who->brand);
    snprintf(r.player, sizeof r.player, "%s", who->player);
    snprintf(r.currency, sizeof r.currency, "%s", who->currency);
    snprintf(r.game, sizeof r.game, "crash");
    snprintf(r.idempotency_key, sizeof r.idempotency_key, "%s", idempotency_key);
    r.params = play_json_text(auto_cashout ? pb_game_params_to_json(&gp, NULL) : json_object());
    if (!r.params)
        return play_fail(err, PB_ERR_INTERNAL, NULL, NULL);
    r.amount = amount;
    play_request_hash(r.game, amount, r.params, r.request_hash);
    pb_err e = play_place(p, c, &r, trace_id, out, replayed, err);
    pb_store_game_round_clear(&r);
    return e;
}

typedef struct cashout_ctx {
    pb_play *p;
} cashout_ctx;

static pb_err cashout_step(pb_ledger_tx *tx, pb_store_game_round *r, void *ctx, pb_err *result)
{
    cashout_ctx *x = ctx;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    if (strcmp(r->game, "crash") != 0 || strcmp(r->state, PLAY_PENDING) == 0) {
        *result = PB_ERR_ROUND_NOT_FOUND;
        return PB_OK;
    }
    if (strcmp(r->state, PLAY_VOIDING) == 0 || strcmp(r->state, PLAY_VOID) == 0) {
        /* void (by staff, after a cash-out too: the multiplier it kept pays nothing) */
        *result = PB_ERR_ROUND_CLOSED;
        return PB_OK;
    }
    if (r->has_multiplier) { /* cashed out before (or settled): answered again, unless lost */
        if (r->multiplier == 0)
            *result = PB_ERR_ROUND_CLOSED;
        return PB_OK;
    }
    if (strcmp(r->state, PLAY_ACTIVE) != 0) {
        *result = PB_ERR_ROUND_CLOSED;
        return PB_OK;
    }
    pb_store_crash_round cr;
    if (pb_store_crash_round_get(c, r->crash_round, &cr) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (strcmp(cr.state, "betting") == 0) {
        *result = PB_ERR_ROUND_STATE;
        return PB_OK;
    }
    if (play_crash_round_open(&cr) != PB_OK) /* running: the point from the sealed hash */
        return PB_ERR_INTERNAL;
    int64_t m = strcmp(cr.state, "running") == 0
                    ? play_crash_m(x->p->cfg.crash_growth, (now - cr.started_at) / 1000)
                    : cr.point;
    pb_game_params gp;
    bool has_auto = play_round_params(r, &gp) == PB_OK && gp.u.crash.cashout >= PB_CRASH_TARGET_MIN;
    if (m >= cr.point) {
        /* crashed (the scheduler may not have said so yet): lost, unless its auto
         * target was reached on the way, which the crash pays (crash_settle_bet):
         * recorded now, the bet answered as cashed out at it */
        if (!has_auto || (int64_t)gp.u.crash.cashout > cr.point) {
            *result = PB_ERR_ROUND_CLOSED;
            return PB_OK;
        }
        m = gp.u.crash.cashout;
    } else if (has_auto && (int64_t)gp.u.crash.cashout <= m) {
        m = gp.u.crash.cashout; /* the auto cash-out came first */
    }
    if (m > PB_CRASH_TARGET_MAX)
        m = PB_CRASH_TARGET_MAX; /* the most a cash-out pays (the top of the file) */
    r->has_multiplier = true;
    r->multiplier = m * (PB_MULT_ONE / 100);
    r->updated_at = now;
    return pb_store_game_round_update(c, r, PLAY_ACTIVE) == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
}

pb_err pb_play_crash_cashout(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                             const char *round_id, pb_store_game_round *out, pb_play_error *err)
{
    (void)c;
    play_fail(err, PB_OK, NULL, NULL);
    cashout_ctx x = {.p = p};
    pb_err e = play_step(p, round_id, who->player, cashout_step, &x, out);
    return play_fail(err, e, NULL,
                     e == PB_ERR_ROUND_STATE ? "the round is still taking bets" : NULL);
}
