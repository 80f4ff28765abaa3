/*
 * sim.h — the game-provider simulator and the wallet load generator: clients
 * of a RUNNING pitboss over HTTP (the native seamless wallet protocol, and the
 * player API for setting players up). Nothing here opens the store: the CLI
 * (src/cli/cmd_sim.c) adds the ledger verification when given --db.
 *
 * pb_sim_provider_run — `pitboss sim provider`: N players register, log in,
 * deposit through the cashier's sandbox PSP and launch a game; then worker
 * threads play their rounds concurrently (bets, second bets, wins, losses,
 * rollbacks, rollbacks of bets never seen, rollbacks after a win, wins on
 * rolled-back bets, bets on closed rounds, stakes beyond the balance), with
 * duplicate deliveries (sequential and simultaneous) and client-side timeouts
 * that force retries of the same transaction id. The simulator keeps its own
 * books per player (what each acknowledged call did), checks every answer
 * (status, code, signature, balance against the books, duplicates byte for
 * byte) and, at the end, each player's balance through the native `balance`
 * call and GET /v1/player/wallet.
 *
 * pb_sim_bench_wallet_run — `pitboss bench wallet`: signed bet + win pairs
 * over C keep-alive connections from one epoll thread, closed-loop (as fast
 * as answers come) or open-loop at a fixed rate; latency percentiles.
 */
#ifndef PB_SIM_SIM_H
#define PB_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct pb_sim_options {
    const char *url;      /* http://127.0.0.1:8080 */
    const char *provider; /* native provider code */
    uint8_t secret[64];
    size_t secret_len;
    const char *brand;    /* the players' brand */
    const char *currency; /* NULL = the brand's default */
    const char *country;  /* players' country (registration) */
    const char *game;     /* the game played (the provider's game code) */
    int players, rounds, concurrency;
    uint64_t seed;
    double duplicate_rate, timeout_rate;
    const char *deposit; /* first deposit per player (and top-ups), a decimal string;
                                  NULL = none (an existing player plays what they have) */
    const char *email;   /* play as this existing player (one) instead of new ones */
    const char *password;
    int64_t bet_min, bet_max; /* minor units */
    const char *books_out;    /* write the books here at the end (NULL = no) */
    const char *check_books;  /* only check the balances of these books (no play) */
    int verbose;              /* 1: print every failure, not only the first 50 */
    FILE *out;                /* the summary goes here */
} pb_sim_options;

typedef struct pb_sim_summary {
    uint64_t players, rounds, calls, duplicates, duplicate_mismatches, retries, timeouts,
        transport_errors, unexpected, mismatches, bad_signatures, deposits;
    double seconds;
} pb_sim_summary;

/* Runs the simulation (or only the check of --check books). Fills *s; returns 0
 * when every check held, 1 when something did not, 2 when it could not run. */
int pb_sim_provider_run(const pb_sim_options *o, pb_sim_summary *s);

typedef struct pb_sim_bench_options {
    const char *url, *provider, *brand, *game, *country, *deposit;
    uint8_t secret[64];
    size_t secret_len;
    int connections;
    double seconds;
    double rate;       /* calls/s, 0 = closed loop */
    const char *stake; /* per bet, a decimal in the players' currency (the win pays it back) */
    const char *label;
    int resend_ms; /* after the deadline, a call unanswered this long is sent again (0: 10,000) */
    FILE *out;
} pb_sim_bench_options;

/* Runs the wallet benchmark; prints one JSON line and a text line. 0 when every
 * call was answered 200 and the balances hold at the end, 1 otherwise, 2 when
 * it could not run. */
int pb_sim_bench_wallet_run(const pb_sim_bench_options *o);

#endif
