/*
 * rtp.c — exact theoretical RTP of every game as a fraction, and the
 * statistics `sim rtp` judges a simulation with (chi-square p-values).
 *
 * Exact figures are integers over integers (128-bit while summing, reduced
 * to 64 bits); the double in pb_rtp is for display and statistics only.
 */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "games/rules.h"
#include "games/sim.h"

uint64_t pb_games_choose(unsigned n, unsigned k)
{
    if (k > n)
        return 0;
    if (k > n - k)
        k = n - k;
    unsigned __int128 r = 1;
    for (unsigned i = 1; i <= k; i++)
        r = r * (n - k + i) / i; /* exact: r is C(n−k+i, i) after each step */
    return (uint64_t)r;
}

static unsigned __int128 gcd128(unsigned __int128 a, unsigned __int128 b)
{
    while (b) {
        unsigned __int128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

void pb_games_rtp_set(pb_rtp *out, unsigned __int128 num, unsigned __int128 den)
{
    if (den == 0) {
        *out = (pb_rtp){0, 1, 0, 0};
        return;
    }
    unsigned __int128 g = gcd128(num, den);
    if (g > 1) {
        num /= g;
        den /= g;
    }
    unsigned __int128 bp = num * PB_RTP_ONE / den;
    while (den > UINT64_MAX || num > UINT64_MAX) { /* keep 64 bits, rounding down */
        num >>= 1;
        den >>= 1;
    }
    out->num = (uint64_t)num;
    out->den = (uint64_t)den;
    out->bp = (uint32_t)bp;
    out->value = (double)num / (double)den;
}

int64_t pb_games_scale(int64_t base_e2, uint32_t rtp_bp, unsigned __int128 num,
                       unsigned __int128 den)
{
    if (base_e2 <= 0 || num == 0)
        return 0;
    return (int64_t)((unsigned __int128)base_e2 * rtp_bp * den / (num * 100));
}

pb_err pb_game_rtp(const pb_game_params *p, uint32_t rtp_bp, pb_rtp *out)
{
    if (!pb_game_rtp_allowed(p->kind, rtp_bp))
        return PB_ERR_FIELD_INVALID;
    switch (p->kind) {
    case PB_GAME_DICE: return pb_dice_rtp(&p->u.dice, rtp_bp, out);
    case PB_GAME_LIMBO: return pb_limbo_rtp(&p->u.limbo, rtp_bp, out);
    case PB_GAME_CRASH: return pb_crash_rtp(&p->u.crash, rtp_bp, out);
    case PB_GAME_MINES: return pb_mines_rtp(&p->u.mines, rtp_bp, out);
    case PB_GAME_KENO: return pb_keno_rtp(&p->u.keno, rtp_bp, out);
    case PB_GAME_PLINKO: return pb_plinko_rtp(&p->u.plinko, rtp_bp, out);
    case PB_GAME_ROULETTE: return pb_roulette_rtp(&p->u.roulette, out);
    case PB_GAME_SLOT: return pb_slot_rtp(rtp_bp, out);
    default: return PB_ERR_FIELD_INVALID;
    }
}

/* ---- chi-square --------------------------------------------------------- */

/* Regularized upper incomplete gamma Q(a, x): series for x < a + 1, else
 * Lentz's continued fraction (Numerical Recipes §6.2). */
static double gamma_q(double a, double x)
{
    if (x <= 0)
        return 1.0;
    double lg = lgamma(a);
    if (x < a + 1) {
        double sum = 1.0 / a, del = sum, ap = a;
        for (int n = 0; n < 10000; n++) {
            ap += 1;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-15)
                break;
        }
        return 1.0 - sum * exp(-x + a * log(x) - lg);
    }
    double b = x + 1 - a, c = 1.0 / 1e-300, d = 1.0 / b, h = d;
    for (int i = 1; i < 10000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < 1e-300)
            d = 1e-300;
        c = b + an / c;
        if (fabs(c) < 1e-300)
            c = 1e-300;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15)
            break;
    }
    return exp(-x + a * log(x) - lg) * h;
}

double pb_stats_chi2_pvalue(double chi2, unsigned df)
{
    if (df == 0)
        return 1.0;
    return gamma_q(df / 2.0, chi2 / 2.0);
}

double pb_stats_chi2_critical(unsigned df, double alpha)
{
    if (df == 0)
        return 0;
    double lo = 0, hi = df + 10 * sqrt(2.0 * df) + 50;
    while (pb_stats_chi2_pvalue(hi, df) > alpha)
        hi *= 2;
    for (int i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2;
        if (pb_stats_chi2_pvalue(mid, df) > alpha)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

/* ---- Monte Carlo -------------------------------------------------------- */

/* Limbo/crash bucket edges, hundredths: [edge[i], edge[i+1]), the last open. */
static const uint64_t multiplier_edges[] = {100, 101, 125, 150, 200, 300, 500, 1000, 2000, 10000};
#define N_EDGES (sizeof multiplier_edges / sizeof multiplier_edges[0])

/* The edges at or below v after the first: a count without branches (a
 * search's exit, at random among ten, cost crash's simulation 3%). */
static unsigned edge_bucket(uint64_t v)
{
    unsigned b = 0;
    for (size_t i = 1; i < N_EDGES; i++)
        b += v >= multiplier_edges[i];
    return b;
}

size_t pb_game_buckets(const pb_game_params *p, uint32_t rtp_bp, double prob[PB_GAME_BUCKETS_MAX])
{
    if (!pb_game_rtp_allowed(p->kind, rtp_bp))
        return 0;
    switch (p->kind) {
    case PB_GAME_DICE:
        for (unsigned b = 0; b < 100; b++)
            prob[b] = (b == 99 ? 101.0 : 100.0) / (PB_DICE_ROLL_MAX + 1);
        return 100;
    case PB_GAME_LIMBO:
    case PB_GAME_CRASH: {
        bool limbo = p->kind == PB_GAME_LIMBO;
        double span = limbo ? 16777216.0 : 4294967296.0;
        for (unsigned b = 0; b < N_EDGES; b++) {
            uint64_t hi = b + 1 < N_EDGES
                              ? (limbo ? pb_limbo_count_at_least(multiplier_edges[b + 1], rtp_bp)
                                       : pb_crash_count_at_least(multiplier_edges[b + 1], rtp_bp))
                              : 0;
            uint64_t lo = limbo ? pb_limbo_count_at_least(multiplier_edges[b], rtp_bp)
                                : pb_crash_count_at_least(multiplier_edges[b], rtp_bp);
            prob[b] = (double)(lo - hi) / span;
        }
        return N_EDGES;
    }
    case PB_GAME_MINES:
        for (unsigned b = 0; b < PB_MINES_TILES; b++)
            prob[b] = 1.0 / PB_MINES_TILES;
        return PB_MINES_TILES;
    case PB_GAME_KENO:
        if (p->u.keno.count) {
            double all = (double)pb_games_choose(PB_KENO_NUMBERS, PB_KENO_DRAWN);
            for (unsigned h = 0; h <= p->u.keno.count; h++)
                prob[h] = (double)pb_keno_hits_count(p->u.keno.count, h) / all;
            return p->u.keno.count + 1u;
        }
        for (unsigned b = 0; b < PB_KENO_NUMBERS; b++)
            prob[b] = 1.0 / PB_KENO_NUMBERS;
        return PB_KENO_NUMBERS;
    case PB_GAME_PLINKO: {
        unsigned n = p->u.plinko.rows;
        if (n < PB_PLINKO_ROWS_MIN || n > PB_PLINKO_ROWS_MAX)
            return 0;
        for (unsigned k = 0; k <= n; k++)
            prob[k] = (double)pb_games_choose(n, k) / (double)(1u << n);
        return n + 1u;
    }
    case PB_GAME_ROULETTE:
        for (unsigned b = 0; b < PB_ROULETTE_POCKETS; b++)
            prob[b] = 1.0 / PB_ROULETTE_POCKETS;
        return PB_ROULETTE_POCKETS;
    case PB_GAME_SLOT:
        for (unsigned c = 0; c <= PB_SLOT_REELS; c++)
            prob[c] = (double)pb_slot_scatter_combinations(c) / (double)pb_slot_combinations();
        return PB_SLOT_REELS + 1;
    default: return 0;
    }
}

unsigned pb_game_bucket_of(const pb_game_params *p, const pb_game_outcome *o)
{
    switch (o->kind) {
    case PB_GAME_DICE: return o->u.dice.roll / 100 > 99 ? 99 : o->u.dice.roll / 100;
    case PB_GAME_LIMBO: return edge_bucket(o->u.limbo.result);
    case PB_GAME_CRASH: return edge_bucket(o->u.crash.point);
    case PB_GAME_MINES: return o->u.mines.positions[0];
    case PB_GAME_KENO: return p->u.keno.count ? o->u.keno.hits : o->u.keno.drawn[0] - 1u;
    case PB_GAME_PLINKO: return o->u.plinko.bucket;
    case PB_GAME_ROULETTE: return o->u.roulette.pocket;
    case PB_GAME_SLOT: return o->u.slot.spins[0].scatters > 5 ? 5 : o->u.slot.spins[0].scatters;
    default: return 0;
    }
}

static inline void tally(const pb_game_params *p, const pb_game_outcome *o, int64_t payout,
                         pb_game_sim *acc)
{
    acc->rounds++;
    acc->paid += (uint64_t)payout;
    acc->paid_sq += (unsigned __int128)(uint64_t)payout * (uint64_t)payout;
    acc->wins += payout > 0;
    unsigned b = pb_game_bucket_of(p, o);
    if (b < PB_GAME_BUCKETS_MAX)
        acc->buckets[b]++;
}

/* Pays and tallies a played round: a stake of one unit is paid its
 * multiplier (pb_game_payout_of: 10^4 · m / 10^4, exact in 128 bits too);
 * roulette's return, or a negative multiplier, through
 * pb_games_payout_prepared. */
static inline pb_err settle(const pb_games_prep *pp, const pb_game_outcome *o, int64_t stake,
                            bool direct, pb_game_sim *acc)
{
    int64_t payout;
    if (direct && o->multiplier >= 0) {
        payout = o->multiplier;
    } else {
        pb_err e = pb_games_payout_prepared(pp, o, stake, &payout);
        if (e != PB_OK)
            return e;
    }
    tally(pp->p, o, payout, acc);
    return PB_OK;
}

/* Slot rounds of a simulation whose paid spin awarded free spins: their
 * streams (copies: the batch's streams go on to the next nonces) and
 * outcomes wait until their free spins' rounds of hashing fill about one
 * sixteen-lane kernel call, instead of a call each for 5 to 9 lanes (a
 * round in 38 awards free spins). The sums do not depend on the order. */
enum { SLOT_POOL = 4 };
typedef struct slot_pool {
    size_t n;
    unsigned lanes; /* the rounds of hashing they wait for, about */
    unsigned free[SLOT_POOL];
    pb_fair_stream s[SLOT_POOL];
    pb_game_outcome o[SLOT_POOL]; /* [n]: also the next paid spin's */
} slot_pool;

/* Hashes the pooled rounds' free spins together, plays, pays and tallies them. */
static pb_err pool_finish(const pb_games_prep *pp, slot_pool *pool, int64_t stake, bool direct,
                          pb_game_sim *acc)
{
    pb_fair_stream *ps[SLOT_POOL];
    unsigned floats[SLOT_POOL];
    for (size_t i = 0; i < pool->n; i++) {
        ps[i] = &pool->s[i];
        floats[i] = pool->free[i] * PB_SLOT_REELS;
    }
    pb_fair_stream_reserve_many(ps, floats, pool->n);
    pb_err e = PB_OK;
    for (size_t i = 0; i < pool->n && e == PB_OK; i++) {
        pb_games_slot_free(pp, &pool->s[i], pool->free[i], &pool->o[i]);
        e = settle(pp, &pool->o[i], stake, direct, acc);
    }
    pool->n = 0;
    pool->lanes = 0;
    return e;
}

/* Crash rounds from their h (pb_crash_point's): each point, paid and tallied. */
static pb_err crash_settle(const pb_games_prep *pp, const uint32_t *h, size_t n, uint32_t rtp_bp,
                           int64_t stake, bool direct, pb_game_sim *acc)
{
    for (size_t k = 0; k < n; k++) {
        pb_game_outcome o;
        pb_games_crash_outcome(pp->p, rtp_bp, pb_crash_point_h(h[k], rtp_bp), &o);
        pb_err e = settle(pp, &o, stake, direct, acc);
        if (e != PB_OK)
            return e;
    }
    return PB_OK;
}

/* A crash batch of n rounds, one per stream: the game hashes (round 0 of
 * each stream's nonce) and the salt (the client seed) under each —
 * pb_crash_point's h in bulk — then each round's point, paid and tallied. */
static pb_err crash_batch(const pb_games_prep *pp, const pb_fair_stream *s, size_t n,
                          const char *salt, uint32_t rtp_bp, int64_t stake, bool direct,
                          pb_game_sim *acc)
{
    uint32_t h[16];
    assert(n <= 16);
    pb_fair_crash_h_many(s, n, salt, strlen(salt), h);
    return crash_settle(pp, h, n, rtp_bp, stake, direct, acc);
}

pb_err pb_game_simulate_chain(const pb_game_params *p, uint32_t rtp_bp,
                              const char (*chain)[PB_FAIR_HASH_HEX_LEN + 1], size_t n,
                              const char *salt, pb_game_sim *acc)
{
    if (p->kind != PB_GAME_CRASH || !pb_game_params_playable(p) ||
        !pb_game_rtp_allowed(p->kind, rtp_bp) || !chain || !salt)
        return PB_ERR_FIELD_INVALID;
    if (acc->stake && acc->stake != PB_MULT_ONE)
        return PB_ERR_FIELD_INVALID;
    acc->stake = PB_MULT_ONE;
    const pb_games_prep pp = {.p = p};
    size_t salt_len = strlen(salt);
    uint32_t h[16];
    /* a server plays c[n−1] first, down to c[0]: sixteen at a time, in that order */
    for (size_t end = n; end > 0;) {
        size_t k = end < 16 ? end : 16;
        end -= k;
        pb_fair_crash_h_hex_many(chain + end, k, salt, salt_len, h);
        for (size_t i = 0; i < k / 2; i++) {
            uint32_t t = h[i];
            h[i] = h[k - 1 - i];
            h[k - 1 - i] = t;
        }
        pb_err e = crash_settle(&pp, h, k, rtp_bp, PB_MULT_ONE, true, acc);
        if (e != PB_OK)
            return e;
    }
    return PB_OK;
}

pb_err pb_game_simulate(const pb_game_params *p, uint32_t rtp_bp, const pb_fair_key *key,
                        const char *client_seed, uint64_t first_nonce, uint64_t rounds,
                        pb_game_sim *acc)
{
    if (!pb_game_params_playable(p) || !pb_game_rtp_allowed(p->kind, rtp_bp) || !key ||
        !pb_fair_client_seed_valid(client_seed))
        return PB_ERR_FIELD_INVALID;
    int64_t stake = p->kind == PB_GAME_ROULETTE ? pb_game_stake_total(p) : PB_MULT_ONE;
    if (stake <= 0 || (acc->stake && acc->stake != stake))
        return PB_ERR_FIELD_INVALID;
    acc->stake = stake;
    pb_game_outcome o[2];
    /* crash's payout needs p alone (pb_game_payout's), pb_games_prepare refuses it */
    bool crash = p->kind == PB_GAME_CRASH;
    pb_games_prep pp = {.p = p};
    pb_err pe = crash ? PB_OK : pb_games_prepare(p, rtp_bp, true, &pp);
    if (pe != PB_OK)
        return pe;
    /* sixteen streams, stream k playing a run of consecutive nonces (the
     * first rounds % 16 runs one longer): each batch steps every nonce by one,
     * mostly its last digit; the sums do not depend on the order of rounds */
    enum { BATCH = 16 };
    pb_fair_stream s[BATCH];
    uint64_t start[BATCH], per = rounds / BATCH, rem = rounds % BATCH;
    unsigned blocks = pb_game_blocks(p);
    /* keno's and mines' rounds two at a time: their draws' chains side by side */
    bool pairs = p->kind == PB_GAME_KENO || p->kind == PB_GAME_MINES;
    bool direct = p->kind != PB_GAME_ROULETTE && stake == PB_MULT_ONE;
    /* the slot: rounds with free spins pooled until their rounds of hashing
     * fill a kernel call (pb_fair_stream_reserve_many) */
    bool slot = p->kind == PB_GAME_SLOT;
    slot_pool pool_mem, *pool = &pool_mem;
    pool->n = 0;
    pool->lanes = 0;
    for (size_t k = 0; k < BATCH; k++) {
        start[k] = first_nonce + k * per + (k < rem ? k : rem);
        pb_fair_stream_init(&s[k], key, client_seed, start[k]);
    }
    for (uint64_t j = 0; j < per + (rem != 0); j++) {
        size_t n = j < per ? BATCH : (size_t)rem;
        if (j)
            for (size_t k = 0; k < n; k++)
                pb_fair_stream_next_nonce(&s[k]); /* start[k] + j */
        if (crash) {
            pb_err e = crash_batch(&pp, s, n, client_seed, rtp_bp, stake, direct, acc);
            if (e != PB_OK)
                return e;
            continue;
        }
        pb_fair_stream_prime(s, n, blocks);
        for (size_t k = 0; slot && k < n; k++) {
            /* the paid spin; a round with free spins waits in the pool */
            pb_err e = PB_OK;
            unsigned f = pb_games_slot_paid(&pp, &s[k], &pool->o[pool->n]);
            if (!f) {
                e = settle(&pp, &pool->o[pool->n], stake, direct, acc);
            } else {
                pool->s[pool->n] = s[k];
                pool->free[pool->n++] = f;
                pool->lanes += (f * PB_SLOT_REELS + 7) / 8;
                if (pool->lanes >= 16 || pool->n == SLOT_POOL)
                    e = pool_finish(&pp, pool, stake, direct, acc);
            }
            if (e != PB_OK)
                return e;
        }
        for (size_t k = 0, two; !slot && k < n; k += two) {
            two = pairs && k + 1 < n ? 2 : 1;
            pb_err e = two == 2 ? pb_games_play_prepared2(&pp, &s[k], &s[k + 1], &o[0], &o[1])
                                : pb_games_play_prepared(&pp, &s[k], &o[0]);
            for (size_t i = 0; i < two && e == PB_OK; i++)
                e = settle(&pp, &o[i], stake, direct, acc);
            if (e != PB_OK)
                return e;
        }
    }
    return slot && pool->n ? pool_finish(&pp, pool, stake, direct, acc) : PB_OK;
}

void pb_game_sim_merge(pb_game_sim *into, const pb_game_sim *from)
{
    into->rounds += from->rounds;
    if (!into->stake)
        into->stake = from->stake;
    into->paid += from->paid;
    into->paid_sq += from->paid_sq;
    into->wins += from->wins;
    for (size_t i = 0; i < PB_GAME_BUCKETS_MAX; i++)
        into->buckets[i] += from->buckets[i];
}

typedef struct sim_job {
    const pb_game_params *p;
    uint32_t rtp_bp;
    const pb_fair_key *key;
    const char *client;
    uint64_t first, rounds;
    pb_game_sim acc;
    pb_err rc;
} sim_job;

static void *sim_thread(void *arg)
{
    sim_job *j = arg;
    j->rc = pb_game_simulate(j->p, j->rtp_bp, j->key, j->client, j->first, j->rounds, &j->acc);
    return NULL;
}

pb_err pb_game_simulate_threads(const pb_game_params *p, uint32_t rtp_bp, const pb_fair_key *key,
                                const char *client_seed, uint64_t first_nonce, uint64_t rounds,
                                unsigned threads, pb_game_sim *acc)
{
    if (threads < 1 || threads > 64)
        return PB_ERR_FIELD_INVALID;
    memset(acc, 0, sizeof *acc);
    sim_job jobs[64];
    pthread_t tid[64];
    bool running[64] = {false};
    for (unsigned t = 0; t < threads; t++) {
        uint64_t lo = (uint64_t)((unsigned __int128)rounds * t / threads);
        uint64_t hi = (uint64_t)((unsigned __int128)rounds * (t + 1) / threads);
        jobs[t] = (sim_job){p, rtp_bp, key, client_seed, first_nonce + lo, hi - lo, {0}, PB_OK};
        running[t] = threads > 1 && pthread_create(&tid[t], NULL, sim_thread, &jobs[t]) == 0;
        if (!running[t])
            sim_thread(&jobs[t]); /* one thread, or none could start: run it here */
    }
    pb_err rc = PB_OK;
    for (unsigned t = 0; t < threads; t++) {
        if (running[t])
            pthread_join(tid[t], NULL);
        if (jobs[t].rc != PB_OK)
            rc = jobs[t].rc;
        pb_game_sim_merge(acc, &jobs[t].acc);
    }
    return rc;
}

/* Crash rounds from a chain of `rounds` game hashes, generated from the terminal
 * seed segment by segment (the whole chain is never in memory): while threads − 1
 * threads play one segment, this thread generates the next (one thread: in turn). */
#define CHAIN_SEGMENT 65536

typedef struct chain_job {
    const pb_game_params *p;
    uint32_t rtp_bp;
    const char (*hashes)[PB_FAIR_HASH_HEX_LEN + 1];
    size_t n;
    const char *salt;
    pb_game_sim acc;
    pb_err rc;
} chain_job;

static void *chain_thread(void *arg)
{
    chain_job *j = arg;
    j->rc = pb_game_simulate_chain(j->p, j->rtp_bp, j->hashes, j->n, j->salt, &j->acc);
    return NULL;
}

pb_err pb_game_simulate_chain_threads(const pb_game_params *p, uint32_t rtp_bp,
                                      const char *terminal_seed, uint64_t rounds, const char *salt,
                                      unsigned threads, pb_game_sim *acc)
{
    if (threads < 1 || threads > 64 || !terminal_seed || !pb_fair_hex64_valid(terminal_seed) ||
        !salt || p->kind != PB_GAME_CRASH)
        return PB_ERR_FIELD_INVALID;
    memset(acc, 0, sizeof *acc);
    size_t seg = rounds < CHAIN_SEGMENT ? (size_t)rounds : CHAIN_SEGMENT;
    char(*buf[2])[PB_FAIR_HASH_HEX_LEN + 1] = {malloc((seg ? seg : 1) * sizeof *buf[0]),
                                               malloc((seg ? seg : 1) * sizeof *buf[0])};
    if (!buf[0] || !buf[1]) {
        free(buf[0]);
        free(buf[1]);
        return PB_ERR_INTERNAL;
    }
    pb_err rc = PB_OK;
    uint64_t done = 0;
    size_t len = seg;
    int cur = 0;
    if (len) { /* chain[0] is the terminal seed, as pb_crash_chain_generate makes it */
        memcpy(buf[0][0], terminal_seed, PB_FAIR_HASH_HEX_LEN);
        buf[0][0][PB_FAIR_HASH_HEX_LEN] = '\0';
        pb_fair_chain(buf[0][0], len - 1, buf[0] + 1, true);
    }
    while (len && rc == PB_OK) {
        chain_job jobs[64];
        pthread_t tid[64];
        bool running[64] = {false};
        /* with threads > 1, this thread is one of them: it makes the next segment */
        unsigned players = threads > 1 ? threads - 1 : 1;
        for (unsigned t = 0; t < players; t++) {
            size_t lo = len * t / players, hi = len * (t + 1) / players;
            jobs[t] = (chain_job){
                p,   rtp_bp, (const char(*)[PB_FAIR_HASH_HEX_LEN + 1]) buf[cur] + lo, hi - lo, salt,
                {0}, PB_OK};
            running[t] = threads > 1 && hi > lo &&
                         pthread_create(&tid[t], NULL, chain_thread, &jobs[t]) == 0;
        }
        /* the next segment, from this one's last hash, while the threads play */
        done += len;
        size_t next = rounds - done < seg ? (size_t)(rounds - done) : seg;
        if (next)
            pb_fair_chain(buf[cur][len - 1], next, buf[cur ^ 1], true);
        for (unsigned t = 0; t < players; t++) {
            if (running[t])
                pthread_join(tid[t], NULL);
            else if (jobs[t].n)
                chain_thread(&jobs[t]); /* one thread, or none could start: here */
            if (jobs[t].rc != PB_OK)
                rc = jobs[t].rc;
            pb_game_sim_merge(acc, &jobs[t].acc);
        }
        cur ^= 1;
        len = next;
    }
    free(buf[0]);
    free(buf[1]);
    return rc;
}

pb_err pb_game_sim_judge(const pb_game_params *p, uint32_t rtp_bp, const pb_game_sim *acc, double z,
                         double alpha, pb_game_sim_report *out)
{
    pb_rtp exact;
    double prob[PB_GAME_BUCKETS_MAX];
    size_t nb = pb_game_buckets(p, rtp_bp, prob);
    if (acc->rounds < 2 || acc->stake <= 0 || !nb || pb_game_rtp(p, rtp_bp, &exact) != PB_OK)
        return PB_ERR_FIELD_INVALID;
    double n = (double)acc->rounds, stake = (double)acc->stake;
    double mean = (double)acc->paid / stake / n;
    double mean_sq = (double)acc->paid_sq / (stake * stake) / n;
    double var = (mean_sq - mean * mean) * n / (n - 1);
    out->theoretical = exact.value;
    out->observed = mean;
    out->sigma = var > 0 ? sqrt(var) : 0;
    out->bound = z * out->sigma / sqrt(n);
    out->rtp_ok = fabs(out->observed - out->theoretical) <= out->bound;
    /* merge neighbouring buckets until each group expects at least 5 rounds */
    double chi2 = 0, exp_acc = 0, obs_acc = 0;
    unsigned groups = 0;
    double gexp[PB_GAME_BUCKETS_MAX], gobs[PB_GAME_BUCKETS_MAX];
    for (size_t i = 0; i < nb; i++) {
        exp_acc += prob[i] * n;
        obs_acc += (double)acc->buckets[i];
        if (exp_acc >= 5) {
            gexp[groups] = exp_acc;
            gobs[groups++] = obs_acc;
            exp_acc = obs_acc = 0;
        }
    }
    if (exp_acc > 0 || obs_acc > 0) { /* the small tail joins the last group */
        if (groups) {
            gexp[groups - 1] += exp_acc;
            gobs[groups - 1] += obs_acc;
        } else {
            gexp[groups] = exp_acc;
            gobs[groups++] = obs_acc;
        }
    }
    for (unsigned g = 0; g < groups; g++)
        chi2 += gexp[g] > 0 ? (gobs[g] - gexp[g]) * (gobs[g] - gexp[g]) / gexp[g]
                            : (gobs[g] > 0 ? INFINITY : 0);
    out->chi2 = chi2;
    out->df = groups > 1 ? groups - 1 : 0;
    out->p_value = pb_stats_chi2_pvalue(chi2, out->df);
    out->critical = pb_stats_chi2_critical(out->df, alpha);
    out->chi2_ok = out->df == 0 || chi2 <= out->critical;
    return PB_OK;
}
