/*
 * sim_internal.h — the simulator's shared state (internal to src/sim/):
 * its players with their books, and the run. provider.c plays, books.c sets
 * players up, checks balances and keeps the books file.
 */
#ifndef PB_SIM_INTERNAL_H
#define PB_SIM_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>

#include "core/money.h"
#include "sim/sim.h"
#include "sim/sim_client.h"

/* One simulated player and the simulator's books for them. */
typedef struct sim_player {
    int idx;
    pb_sim_player_auth a;
    const pb_currency *cur;
    uint32_t source;   /* IPv4 source address for the player API (0 = default) */
    int64_t books;     /* what the acknowledged calls say the balance is */
    int64_t deposited; /* what the cashier credited */
    int deposits;      /* deposits asked for (their idempotency keys count them) */
    int rounds_left;
    int round_no;
    uint64_t rng;
    bool ready; /* set up: registered, funded, launched */
} sim_player;

typedef struct sim_run {
    const pb_sim_options *o;
    pb_sim_target t;
    pb_sim_provider p;
    sim_player *players;
    int nplayers;
    char run_id[16]; /* prefix of this run's emails and transaction ids */
    pthread_mutex_t mu;
    pb_sim_summary total; /* summed under mu */
    int logged;           /* failures printed so far */
    int next;             /* next player to set up (under mu) */
    bool can_deposit;     /* the cashier answered a deposit */
} sim_run;

/* Per-thread counters, added to run->total at the end. */
typedef struct sim_counters {
    pb_sim_summary s;
} sim_counters;

/* Prints one failure line (the first 50 of a run unless --verbose; later ones are only counted). */
void sim_fail(sim_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* xorshift64*: the per-player deterministic random stream. */
uint64_t sim_rand(uint64_t *s);
/* Uniform in [0, n). */
uint64_t sim_below(uint64_t *s, uint64_t n);
/* True with probability p. */
bool sim_chance(uint64_t *s, double p);

/* The player API source address of player idx (127.1.x.y) when the server is on loopback. */
uint32_t sim_source_for(int idx);

/* Sets players up with the run's threads (register, log in, deposit, launch,
 * native session). 0 when every player is ready, else 2 (the run cannot go on). */
int sim_setup_players(sim_run *r);
/* A top-up deposit for a player who ran out of money. true when it was credited. */
bool sim_top_up(sim_run *r, sim_player *pl, sim_counters *k);
/* The end-of-run check of every player (native balance, GET /v1/player/wallet). */
void sim_check_players(sim_run *r);
/* Writes the books (players, credentials, expected balances) as JSON. 0 or -1. */
int sim_books_write(const sim_run *r, const char *path);
/* Loads books written by sim_books_write. 0, or -1 with a message printed. */
int sim_books_load(sim_run *r, const char *path);

#endif
