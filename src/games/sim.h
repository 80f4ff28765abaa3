/*
 * sim.h — the Monte Carlo simulation of the in-house games (rtp.c): what
 * `pitboss sim rtp`, `pitboss bench fair` and the games' tests run to check each
 * game's observed return and outcome distribution against its exact RTP
 * (pb_game_rtp, games.h) and bucket probabilities: the chi-square helpers, the
 * outcome buckets, the running totals, the single- and multi-threaded
 * simulations (nonces or a crash chain) and the verdict. Kept apart from games.h,
 * which the money side includes: nothing that moves money uses these.
 */
#ifndef PB_GAMES_SIM_H
#define PB_GAMES_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "games/games.h"

/* ---- statistics (rtp.c): Monte Carlo helpers ---------------------------- */

/* p-value of a chi-square statistic with df degrees of freedom (upper tail),
 * via the regularized incomplete gamma function. */
double pb_stats_chi2_pvalue(double chi2, unsigned df);
/* Upper critical value of the chi-square distribution for df at alpha. */
double pb_stats_chi2_critical(unsigned df, double alpha);

/* ---- Monte Carlo (rtp.c): the simulation `sim rtp`, the bench and the tests run */

#define PB_GAME_BUCKETS_MAX 128

/*
 * Outcome buckets for the chi-square goodness-of-fit test and their exact
 * probabilities into prob[0..n): dice roll/100 (100 buckets, 100.00 with
 * 99.xx), limbo result and crash point in ranges (1.00, 1.01–1.24, …,
 * ≥ 100.00), mines the first mine's tile (25), keno the hits (with picks) or
 * the first number drawn (40), plinko the bucket, roulette the pocket (37),
 * slot the scatters on the paid spin (0..5). Returns n (0 for invalid params).
 */
size_t pb_game_buckets(const pb_game_params *p, uint32_t rtp_bp, double prob[PB_GAME_BUCKETS_MAX]);
/* The bucket of an outcome (as pb_game_buckets numbers them). */
unsigned pb_game_bucket_of(const pb_game_params *p, const pb_game_outcome *o);

/* Running totals of a simulation (add them up across threads with
 * pb_game_sim_merge). Returns are payout / stake. */
typedef struct pb_game_sim {
    uint64_t rounds;
    int64_t stake;             /* per round: PB_MULT_ONE, or roulette's stake total */
    unsigned __int128 paid;    /* Σ payout */
    unsigned __int128 paid_sq; /* Σ payout² */
    uint64_t wins;             /* rounds with a payout > 0 */
    uint64_t buckets[PB_GAME_BUCKETS_MAX];
} pb_game_sim;

/*
 * Plays `rounds` rounds of p at rtp_bp with nonces first_nonce, first_nonce+1,
 * … of (key, client_seed) through pb_game_play / pb_game_payout — the code the
 * money side settles with — adding to *acc (zero it first). Crash draws each
 * round's game hash as the hex of the stream's first block and uses the
 * client seed as the salt. Params must be playable. Returns PB_OK or
 * PB_ERR_FIELD_INVALID.
 */
pb_err pb_game_simulate(const pb_game_params *p, uint32_t rtp_bp, const pb_fair_key *key,
                        const char *client_seed, uint64_t first_nonce, uint64_t rounds,
                        pb_game_sim *acc);
/* into += from. */
void pb_game_sim_merge(pb_game_sim *into, const pb_game_sim *from);
/* Crash rounds played from a chain's game hashes (chain[n−1] first, down to
 * chain[0], as a server plays them) under the chain's salt, one unit staked
 * on p's cash-out each: every point (pb_fair_crash_h_hex_many) paid and
 * tallied into acc as pb_game_simulate tallies. PB_ERR_FIELD_INVALID unless
 * p is a playable crash and rtp_bp allowed. */
pb_err pb_game_simulate_chain(const pb_game_params *p, uint32_t rtp_bp,
                              const char (*chain)[PB_FAIR_HASH_HEX_LEN + 1], size_t n,
                              const char *salt, pb_game_sim *acc);

/* pb_game_simulate_chain over the whole chain of `rounds` game hashes a server
 * would make from terminal_seed (pb_crash_chain_generate's: chain[0] is the seed,
 * each next hash the SHA-256 of the one before), generated in segments, each played
 * by `threads` threads (1..64) while the next is generated; the totals do not
 * depend on the thread count or the segments. Zeroes *acc first. */
pb_err pb_game_simulate_chain_threads(const pb_game_params *p, uint32_t rtp_bp,
                                      const char *terminal_seed, uint64_t rounds, const char *salt,
                                      unsigned threads, pb_game_sim *acc);

/* pb_game_simulate split over `threads` threads (1..64): thread t plays the
 * nonces first_nonce + [t·rounds/threads, (t+1)·rounds/threads), so the totals
 * do not depend on the thread count. Zeroes *acc first. */
pb_err pb_game_simulate_threads(const pb_game_params *p, uint32_t rtp_bp, const pb_fair_key *key,
                                const char *client_seed, uint64_t first_nonce, uint64_t rounds,
                                unsigned threads, pb_game_sim *acc);

/* The verdicts on a simulation. */
typedef struct pb_game_sim_report {
    double theoretical; /* exact RTP (pb_game_rtp) */
    double observed;    /* Σ payout / (rounds · stake) */
    double sigma;       /* standard deviation of one round's return (sample) */
    double bound;       /* z · σ / √rounds */
    bool rtp_ok;        /* |observed − theoretical| ≤ bound */
    double chi2;        /* over the buckets, small ones (expected < 5) merged */
    unsigned df;        /* merged buckets − 1 */
    double p_value;
    double critical; /* chi-square critical value at alpha */
    bool chi2_ok;    /* chi2 ≤ critical */
} pb_game_sim_report;

/* Judges acc against the exact RTP and bucket probabilities of (p, rtp_bp):
 * z = 3.29 and alpha = 0.001 are the issue's. Returns PB_OK or
 * PB_ERR_FIELD_INVALID (no rounds, invalid params). */
pb_err pb_game_sim_judge(const pb_game_params *p, uint32_t rtp_bp, const pb_game_sim *acc, double z,
                         double alpha, pb_game_sim_report *out);

#endif
