/*
 * cmd_sim_rtp.c — `pitboss sim rtp`: a Monte Carlo simulation of one game
 * through the same outcome and payout code the server settles with
 * (pb_game_simulate_threads), judged against the game's exact RTP.
 *
 * Rounds are the nonces 0..N−1 of one seed pair (a random server seed unless
 * --server-seed is given), split over the threads by nonce range, so a run is
 * reproducible from its seeds whatever the thread count. Crash is played as a
 * server plays it: its rounds are the games of a hash chain of N made from the
 * server seed (the chain's terminal seed), under the client seed as the chain's
 * salt (pb_game_simulate_chain_threads: made segment by segment while the threads
 * play the one before). Prints one JSON
 * object: theoretical and observed RTP, σ per round, the verdict
 * |observed − theoretical| ≤ z·σ/√N (z = 3.29), and a chi-square test of the
 * outcome buckets at α = 0.001. Exits 1 when a verdict fails, 2 on bad
 * arguments.
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

static const char *sim_rtp_usage =
    "usage: pitboss sim rtp --game G --rounds N [--threads T] [--edge E | --rtp-bp BP]\n"
    "                       [--server-seed S] [--client-seed C] [--z 3.29] [--alpha 0.001]\n"
    "                       [game options: --target X --direction over|under --cashout X\n"
    "                        --mines K --tiles 0,1,.. --picks 1,2,.. --risk R --rows R\n"
    "                        --bets JSON --params JSON --currency CUR]\n"
    "Plays N rounds (nonces 0..N-1 of one seed pair; a random server seed unless given)\n"
    "through the games' own outcome and payout code and prints theoretical and observed\n"
    "RTP, sigma per round, the verdict |observed - theoretical| <= z*sigma/sqrt(N), and a\n"
    "chi-square goodness-of-fit test over outcome buckets. Exits 1 when a verdict fails.\n"
    "Crash plays the N games of a hash chain made from the server seed (its terminal\n"
    "seed), under the client seed as the chain's salt, as a server plays them.\n"
    "Defaults per game: dice over 50.50, limbo 2.00, crash cash-out 2.00, mines 3 mines\n"
    "and 5 tiles, keno medium with 5 picks, plinko 16 rows medium, roulette four bets\n"
    "(straight, red, dozen, corner), slot.\n";

/* Fills the parameters a user left out with the game's simulation defaults. */
static void defaults(pb_game_kind kind, json_t *params)
{
    json_t *d = NULL;
    switch (kind) {
    case PB_GAME_DICE: d = json_pack("{s:s, s:s}", "target", "50.50", "direction", "over"); break;
    case PB_GAME_LIMBO: d = json_pack("{s:s}", "target", "2.00"); break;
    case PB_GAME_CRASH: d = json_pack("{s:s}", "cashout", "2.00"); break;
    case PB_GAME_MINES: {
        json_int_t m = json_integer_value(json_object_get(params, "mines"));
        if (!json_object_get(params, "mines"))
            m = 3;
        json_t *tiles = json_array();
        for (json_int_t t = 0; t < 5 && t < 25 - m; t++)
            json_array_append_new(tiles, json_integer(t));
        d = json_pack("{s:I, s:o}", "mines", (json_int_t)3, "tiles", tiles);
        break;
    }
    case PB_GAME_KENO:
        d = json_pack("{s:s, s:[i,i,i,i,i]}", "risk", "medium", "picks", 3, 11, 19, 27, 35);
        break;
    case PB_GAME_PLINKO: d = json_pack("{s:i, s:s}", "rows", 16, "risk", "medium"); break;
    case PB_GAME_ROULETTE:
        d = json_pack("{s:[{s:s,s:[i],s:s},{s:s,s:s},{s:s,s:[i],s:s},{s:s,s:[i,i,i,i],s:s}]}",
                      "bets", "type", "straight", "numbers", 17, "amount", "1.00", "type", "red",
                      "amount", "1.00", "type", "dozen", "numbers", 2, "amount", "1.00", "type",
                      "corner", "numbers", 1, 2, 4, 5, "amount", "1.00");
        break;
    default: break;
    }
    if (d)
        json_object_update_missing(params, d);
    json_decref(d);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= min && v <= max))
        return -1;
    *out = v;
    return 0;
}

enum {
    O_GAME = 256,
    O_ROUNDS,
    O_THREADS,
    O_EDGE,
    O_RTP,
    O_SERVER,
    O_CLIENT,
    O_Z,
    O_ALPHA,
    O_CURRENCY,
    O_PARAM
};

int pb_cmd_sim_rtp(int argc, char **argv)
{
    static const struct option opts[] = {{"game", required_argument, 0, O_GAME},
                                         {"rounds", required_argument, 0, O_ROUNDS},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"edge", required_argument, 0, O_EDGE},
                                         {"rtp-bp", required_argument, 0, O_RTP},
                                         {"server-seed", required_argument, 0, O_SERVER},
                                         {"client-seed", required_argument, 0, O_CLIENT},
                                         {"z", required_argument, 0, O_Z},
                                         {"alpha", required_argument, 0, O_ALPHA},
                                         {"currency", required_argument, 0, O_CURRENCY},
                                         {"target", required_argument, 0, O_PARAM},
                                         {"direction", required_argument, 0, O_PARAM},
                                         {"cashout", required_argument, 0, O_PARAM},
                                         {"mines", required_argument, 0, O_PARAM},
                                         {"tiles", required_argument, 0, O_PARAM},
                                         {"picks", required_argument, 0, O_PARAM},
                                         {"risk", required_argument, 0, O_PARAM},
                                         {"rows", required_argument, 0, O_PARAM},
                                         {"bets", required_argument, 0, O_PARAM},
                                         {"params", required_argument, 0, O_PARAM},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *game = NULL, *edge = NULL, *rtp_s = NULL, *server = NULL, *client = "pitboss-sim",
               *currency = "EUR";
    double z = 3.29, alpha = 0.001, rounds_d = 0, threads_d = 1;
    json_t *params = json_object();
    int ch, idx = 0, rc = 2;
    optind = 1;
    /* argv[0] is "sim", argv[1] "rtp" */
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, &idx)) != -1) {
        int bad = 0;
        switch (ch) {
        case O_GAME: game = optarg; break;
        case O_ROUNDS: bad = parse_double(optarg, 2, 1e12, &rounds_d); break;
        case O_THREADS: bad = parse_double(optarg, 1, 64, &threads_d); break;
        case O_EDGE: edge = optarg; break;
        case O_RTP: rtp_s = optarg; break;
        case O_SERVER: server = optarg; break;
        case O_CLIENT: client = optarg; break;
        case O_Z: bad = parse_double(optarg, 0.1, 100, &z); break;
        case O_ALPHA: bad = parse_double(optarg, 1e-12, 0.5, &alpha); break;
        case O_CURRENCY: currency = optarg; break;
        case O_PARAM:
            if (pb_cli_game_param(params, opts[idx].name, optarg) != 0)
                goto out;
            break;
        case 'h':
            fputs(sim_rtp_usage, stdout);
            rc = 0;
            goto out;
        default: fputs(sim_rtp_usage, stderr); goto out;
        }
        if (bad) {
            fprintf(stderr, "pitboss: sim rtp: bad value for --%s: %s\n", opts[idx].name, optarg);
            goto out;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "pitboss: sim rtp: unexpected argument '%s'\n",
                optind + 1 < argc ? argv[optind + 1] : "");
        goto out;
    }
    pb_game_kind kind = pb_game_parse(game);
    if (!kind || rounds_d < 2 || rounds_d != (double)(uint64_t)rounds_d ||
        threads_d != (double)(unsigned)threads_d) {
        fputs("pitboss: sim rtp: --game G and --rounds N (an integer >= 2) are required; "
              "--threads is an integer 1..64\n",
              stderr);
        goto out;
    }
    uint32_t rtp;
    if (pb_cli_game_rtp(kind, edge, rtp_s, &rtp) != 0)
        goto out;
    const pb_currency *cur = pb_currency_find(currency);
    if (!cur) {
        fprintf(stderr, "pitboss: sim rtp: unknown currency %s\n", currency);
        goto out;
    }
    defaults(kind, params);
    pb_game_params p;
    pb_game_error perr;
    if (pb_game_params_from_json(kind, params, cur, &p, &perr) != PB_OK) {
        fprintf(stderr, "pitboss: sim rtp: %s: %s\n", perr.field, perr.message);
        goto out;
    }
    if (!pb_game_params_playable(&p)) {
        fputs("pitboss: sim rtp: these parameters do not make a playable bet\n", stderr);
        goto out;
    }
    char seed[PB_FAIR_SEED_HEX_LEN + 1];
    if (server) {
        if (!pb_fair_hex64_valid(server)) {
            fputs("pitboss: sim rtp: --server-seed: 64 lowercase hex characters\n", stderr);
            goto out;
        }
        memcpy(seed, server, sizeof seed);
    } else {
        pb_fair_server_seed_new(seed);
    }
    if (!pb_fair_client_seed_valid(client)) {
        fputs("pitboss: sim rtp: --client-seed: 1 to 64 printable ASCII characters, no ':'\n",
              stderr);
        goto out;
    }
    pb_fair_key key;
    pb_fair_key_init(&key, seed, PB_FAIR_SEED_HEX_LEN);
    uint64_t rounds = (uint64_t)rounds_d;
    unsigned threads = (unsigned)threads_d;
    pb_game_sim *acc = calloc(1, sizeof *acc);
    double t0 = now();
    bool chain = kind == PB_GAME_CRASH;
    pb_err e = !acc    ? PB_ERR_INTERNAL
               : chain ? pb_game_simulate_chain_threads(&p, rtp, seed, rounds, client, threads, acc)
                       : pb_game_simulate_threads(&p, rtp, &key, client, 0, rounds, threads, acc);
    double secs = now() - t0;
    pb_game_sim_report r;
    if (e == PB_OK)
        e = pb_game_sim_judge(&p, rtp, acc, z, alpha, &r);
    if (e != PB_OK) {
        fprintf(stderr, "pitboss: sim rtp: the simulation failed: %s\n", pb_err_code(e));
        free(acc);
        rc = 1;
        goto out;
    }
    pb_rtp exact;
    pb_game_rtp(&p, rtp, &exact);
    json_t *out = json_pack(
        "{s:s, s:o, s:i, s:I, s:i, s:s, s:s, s:{s:I, s:I, s:i}, s:f, s:f, s:f, s:f, s:f, s:f,"
        " s:s, s:{s:f, s:i, s:f, s:f, s:f, s:s}, s:f, s:f, s:f, s:s}",
        "game", pb_game_name(kind), "params", pb_game_params_to_json(&p, cur), "rtp_bp", (int)rtp,
        "rounds", (json_int_t)rounds, "threads", (int)threads, "server_seed", seed, "client_seed",
        client, "theoretical_rtp_exact", "num", (json_int_t)exact.num, "den", (json_int_t)exact.den,
        "bp", (int)exact.bp, "theoretical_rtp", r.theoretical, "observed_rtp", r.observed, "sigma",
        r.sigma, "z", z, "bound", r.bound, "deviation", r.observed - r.theoretical, "rtp_verdict",
        r.rtp_ok ? "pass" : "fail", "chi_square", "statistic", r.chi2, "df", (int)r.df, "p_value",
        r.p_value, "critical", r.critical, "alpha", alpha, "verdict", r.chi2_ok ? "pass" : "fail",
        "hit_rate", (double)acc->wins / (double)rounds, "seconds", secs, "rounds_per_second",
        secs > 0 ? (double)rounds / secs : 0.0, "game_hashes", chain ? "chain" : "seed pair");
    char *s = pb_game_json_dumps(out);
    if (s)
        puts(s);
    free(s);
    json_decref(out);
    free(acc);
    rc = r.rtp_ok && r.chi2_ok ? 0 : 1;
out:
    json_decref(params);
    return rc;
}
