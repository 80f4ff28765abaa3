/*
 * cmd_bench_fair.c — `pitboss bench fair`: how fast the provably fair games
 * produce outcomes, per core, and the wall time of a 10,000,000-round dice
 * simulation (issue 5's targets: ≥ 5,000,000 outcomes/s per core; 10M dice
 * rounds in under 5 s). Each figure runs the real path of `sim rtp` for
 * every game but crash (pb_game_simulate): sixteen HMAC streams primed with every round the game
 * reads → the prepared round that pb_game_play_stream runs → its payout
 * (crash, first: each round's game hash from its nonce's stream, keyed by its
 * hex, the salt under it → the point → the payout, pb_fair_crash_h_many). Crash
 * is then measured a second time as a server (and `sim rtp`) plays it: a chain of N game
 * hashes is generated first (pb_crash_chain_generate, timed apart and
 * printed: a brand's chain is made once, before its games are played), then
 * each game's point from its hash and the chain's 64-character salt
 * (pb_game_simulate_chain); that second figure is crash's in the summary's
 * minimum, with every other game's. One thread per core measured. Per-core
 * rates divide by the thread's CPU time (the machine may be shared: wall time
 * then counts other processes' turns too); the wall time is printed beside
 * it. Prints one JSON line per game (two for crash), then the summary.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "games/games.h"
#include "games/sim.h"

static const char *bench_fair_usage =
    "usage: pitboss bench fair [--rounds N] [--dice-rounds 10000000] [--threads T]\n"
    "                          [--sim-rounds M]\n"
    "Outcome generation rate per core for each game (N rounds each, default 2,000,000)\n"
    "and the wall time of a dice simulation of --dice-rounds rounds on\n"
    "1 thread and on T threads (default 2). With --sim-rounds, then `sim rtp` of M rounds\n"
    "per game on T threads (make bench: 10,000,000), exit 1 if a verdict fails.\n"
    "Prints JSON lines.\n";

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

/* The benchmark's parameters per game (the sim rtp defaults). */
static const char *const bench_params[PB_GAME_COUNT_] = {
    [PB_GAME_DICE] = "{\"target\":\"50.50\",\"direction\":\"over\"}",
    [PB_GAME_LIMBO] = "{\"target\":\"2.00\"}",
    [PB_GAME_CRASH] = "{\"cashout\":\"2.00\"}",
    [PB_GAME_MINES] = "{\"mines\":3,\"tiles\":[0,1,2,3,4]}",
    [PB_GAME_KENO] = "{\"risk\":\"medium\",\"picks\":[3,11,19,27,35]}",
    [PB_GAME_PLINKO] = "{\"rows\":16,\"risk\":\"medium\"}",
    [PB_GAME_ROULETTE] = "{\"bets\":[{\"type\":\"straight\",\"numbers\":[17],\"amount\":\"1.00\"},"
                         "{\"type\":\"red\",\"amount\":\"1.00\"}]}",
    [PB_GAME_SLOT] = "{}",
};

static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || v < 1 || v > 10000000000ULL)
        return -1;
    *out = v;
    return 0;
}

/* The crash chain of the benchmark: n game hashes from a random terminal seed
 * (pb_crash_chain_generate, as a brand's chain is made), and its salt. */
static char (*crash_chain)[PB_FAIR_HASH_HEX_LEN + 1];
static size_t crash_chain_n;
static char crash_salt[PB_FAIR_HASH_HEX_LEN + 1];

static pb_err bench_crash_chain(uint64_t n)
{
    crash_chain = malloc(n * sizeof *crash_chain);
    if (!crash_chain)
        return PB_ERR_INTERNAL;
    char terminal[PB_FAIR_SEED_HEX_LEN + 1];
    pb_fair_server_seed_new(terminal);
    pb_fair_server_seed_new(crash_salt);
    pb_crash_chain_generate(terminal, n, crash_chain);
    crash_chain_n = n;
    return PB_OK;
}

/* Plays the chain's games, last first, as a server does. */
static pb_err bench_crash_play(const pb_game_params *p, uint32_t rtp, pb_game_sim *acc)
{
    memset(acc, 0, sizeof *acc);
    return pb_game_simulate_chain(p, rtp, (const char(*)[PB_FAIR_HASH_HEX_LEN + 1]) crash_chain,
                                  crash_chain_n, crash_salt, acc);
}

static void bench_crash_free(void)
{
    free(crash_chain);
    crash_chain = NULL;
    crash_chain_n = 0;
}

int pb_cmd_bench_fair(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rounds", required_argument, 0, 'r'},  {"dice-rounds", required_argument, 0, 'd'},
        {"threads", required_argument, 0, 't'}, {"sim-rounds", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    uint64_t rounds = 2000000, dice_rounds = 10000000, threads = 2, sim_rounds = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'r': bad = parse_count(optarg, &rounds); break;
        case 'd': bad = parse_count(optarg, &dice_rounds); break;
        case 't': bad = parse_count(optarg, &threads) || threads > 64; break;
        case 's': bad = parse_count(optarg, &sim_rounds) || sim_rounds < 2; break;
        case 'h': fputs(bench_fair_usage, stdout); return 0;
        default: fputs(bench_fair_usage, stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "pitboss: bench fair: bad value %s\n", optarg);
            return 2;
        }
    }
    if (optind != argc) {
        fputs(bench_fair_usage, stderr);
        return 2;
    }
    const pb_currency *eur = pb_currency_find("EUR");
    char seed[PB_FAIR_SEED_HEX_LEN + 1];
    pb_fair_server_seed_new(seed);
    pb_fair_key key;
    pb_fair_key_init(&key, seed, PB_FAIR_SEED_HEX_LEN);
    pb_game_sim *acc = calloc(1, sizeof *acc);
    if (!acc)
        return 1;
    int rc = 0;
    double min_rate = 0;
    for (int k = 1; k < PB_GAME_COUNT_; k++) {
        pb_game_params p;
        json_t *j = json_loads(bench_params[k], 0, NULL);
        pb_err e = pb_game_params_from_json((pb_game_kind)k, j, eur, &p, NULL);
        json_decref(j);
        if (e != PB_OK)
            return 1;
        uint32_t rtp = pb_game_info_of((pb_game_kind)k)->default_rtp_bp;
        bool crash = k == PB_GAME_CRASH;
        for (int pass = 0; pass < (crash ? 2 : 1); pass++) {
            /* crash: first from streams (each game hash from a stream), then as
             * a server (and sim rtp) plays it, from a chain generated first (timed
             * apart: the chain is made once, before its games are played) */
            bool chain = crash && pass == 1;
            double chain_cpu = 0;
            if (chain) {
                double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
                e = bench_crash_chain(rounds);
                chain_cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
                if (e != PB_OK) {
                    fprintf(stderr, "pitboss: bench fair: the crash chain failed: %s\n",
                            pb_err_code(e));
                    rc = 1;
                    continue;
                }
            }
            double t0 = now(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
            e = chain ? bench_crash_play(&p, rtp, acc)
                      : pb_game_simulate_threads(&p, rtp, &key, "bench", 0, rounds, 1, acc);
            double secs = now() - t0, cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
            if (e != PB_OK) {
                fprintf(stderr, "pitboss: bench fair: %s failed: %s\n", pb_game_name(k),
                        pb_err_code(e));
                rc = 1;
                continue;
            }
            double rate = cpu > 0 ? rounds / cpu : 0;
            /* crash's outcome rate is the server's, from its chain */
            if (!(crash && !chain) && (min_rate == 0 || rate < min_rate))
                min_rate = rate;
            printf("{\"bench\":\"fair\",\"game\":\"%s\",", pb_game_name(k));
            if (crash)
                printf("\"game_hashes\":\"%s\",", chain ? "chain" : "streams");
            printf("\"rounds\":%llu,\"wall_seconds\":%.3f,"
                   "\"cpu_seconds\":%.3f,\"outcomes_per_second_per_core\":%.0f,"
                   "\"outcomes_per_second_wall\":%.0f,\"observed_rtp\":%.6f",
                   (unsigned long long)rounds, secs, cpu, rate, secs > 0 ? rounds / secs : 0,
                   (double)acc->paid / (double)acc->stake / (double)acc->rounds);
            if (chain)
                printf(",\"chain_cpu_seconds\":%.3f,\"chain_hashes_per_second\":%.0f,"
                       "\"with_chain_per_second_per_core\":%.0f",
                       chain_cpu, chain_cpu > 0 ? rounds / chain_cpu : 0,
                       rounds / (chain_cpu + cpu));
            printf("}\n");
            fflush(stdout);
        }
        bench_crash_free();
    }
    /* the 10M-round dice simulation, as `sim rtp` runs it, on 1 and on T threads */
    pb_game_params dice;
    json_t *j = json_loads(bench_params[PB_GAME_DICE], 0, NULL);
    pb_game_params_from_json(PB_GAME_DICE, j, eur, &dice, NULL);
    json_decref(j);
    double wall[2] = {0, 0}, cpu[2] = {0, 0};
    uint64_t tcount[2] = {1, threads};
    for (int i = 0; i < 2; i++) {
        double t0 = now(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        if (pb_game_simulate_threads(&dice, 9900, &key, "bench", 0, dice_rounds,
                                     (unsigned)tcount[i], acc) != PB_OK)
            rc = 1;
        wall[i] = now() - t0;
        cpu[i] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    double load[3] = {0, 0, 0};
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = 0;
        fclose(la);
    }
    printf("{\"bench\":\"fair\",\"summary\":true,\"min_outcomes_per_second_per_core\":%.0f,"
           "\"target_outcomes_per_second_per_core\":5000000,\"dice_rounds\":%llu,"
           "\"dice_wall_seconds_1_thread\":%.3f,\"dice_cpu_seconds_1_thread\":%.3f,"
           "\"dice_wall_seconds_%llu_threads\":%.3f,\"dice_cpu_seconds_%llu_threads\":%.3f,"
           "\"target_dice_seconds\":5,\"hashing\":\"%s\",\"loadavg_1m\":%.2f}\n",
           min_rate, (unsigned long long)dice_rounds, wall[0], cpu[0], (unsigned long long)threads,
           wall[1], (unsigned long long)threads, cpu[1], pb_fair_hash_path(), load[0]);
    fflush(stdout);
    /* the long RTP runs of `make bench`: sim rtp per game, same code, judged */
    for (int k = 1; sim_rounds && k < PB_GAME_COUNT_; k++) {
        pb_game_params p;
        json_t *pj = json_loads(bench_params[k], 0, NULL);
        pb_game_params_from_json((pb_game_kind)k, pj, eur, &p, NULL);
        json_decref(pj);
        uint32_t rtp = pb_game_info_of((pb_game_kind)k)->default_rtp_bp;
        double t0 = now();
        pb_game_sim_report r;
        /* crash as `sim rtp` plays it: the games of a chain made from the seed */
        pb_err e = k == PB_GAME_CRASH
                       ? pb_game_simulate_chain_threads(&p, rtp, seed, sim_rounds, "bench-rtp",
                                                        (unsigned)threads, acc)
                       : pb_game_simulate_threads(&p, rtp, &key, "bench-rtp", 0, sim_rounds,
                                                  (unsigned)threads, acc);
        if (e == PB_OK)
            e = pb_game_sim_judge(&p, rtp, acc, 3.29, 0.001, &r);
        if (e != PB_OK) {
            fprintf(stderr, "pitboss: bench fair: sim rtp %s failed: %s\n", pb_game_name(k),
                    pb_err_code(e));
            rc = 1;
            continue;
        }
        bool pass = r.rtp_ok && r.chi2_ok;
        rc = pass ? rc : 1;
        printf("{\"bench\":\"sim_rtp\",\"game\":\"%s\",\"rounds\":%llu,\"threads\":%llu,"
               "\"seconds\":%.3f,\"theoretical_rtp\":%.8f,\"observed_rtp\":%.8f,\"sigma\":%.6f,"
               "\"bound\":%.8f,\"rtp_verdict\":\"%s\",\"chi2\":%.3f,\"df\":%u,\"p_value\":%.4f,"
               "\"chi2_verdict\":\"%s\"}\n",
               pb_game_name(k), (unsigned long long)sim_rounds, (unsigned long long)threads,
               now() - t0, r.theoretical, r.observed, r.sigma, r.bound, r.rtp_ok ? "pass" : "fail",
               r.chi2, r.df, r.p_value, r.chi2_ok ? "pass" : "fail");
        fflush(stdout);
    }
    free(acc);
    return rc;
}
