/*
 * rules.h — private to src/games/: what the game files share with the
 * dispatcher (game.c), the RTP and statistics code (rtp.c) and the JSON
 * renderer (json.c). Not a door: everything outside src/games/ includes
 * games.h only.
 */
#ifndef PB_GAMES_RULES_H
#define PB_GAMES_RULES_H

#include <stddef.h>
#include <string.h>

#include "games/games.h"

/* True when the draws may use BMI2's pdep and POPCNT (the CPU has both and
 * PITBOSS_FAIR_SIMD does not mask bit 4 out; fair.c detects it once). */
bool pb_games_have_bmi2(void);
/* True when the draws may use AVX-512F and BW (PITBOSS_FAIR_SIMD bit 2, the
 * sixteen-lane hashing's bit). */
bool pb_games_have_avx512(void);

/* The number of set bits of x, branch-free and inline (the compiler's
 * __builtin_popcountll is a call into libgcc without -mpopcnt). */
static inline unsigned pb_games_popcount(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

/* The position of the n-th (from 0) set bit of mask, which has more than n
 * set bits: the portable way, clearing the lowest set bit n times. */
static inline unsigned pb_games_nth_bit(uint64_t mask, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        mask &= mask - 1;
    return (unsigned)__builtin_ctzll(mask);
}

/* Draws k items without replacement from the set bits of `all` (k ≤ its bit
 * count): each draw takes index floor(f · r) of the r bits still set, ascending,
 * one float of s; out[i] is the i-th drawn bit's position. Returns the bits left
 * (draw.c: mines' tiles, keno's numbers). */
uint64_t pb_games_draw(pb_fair_stream *s, uint64_t all, unsigned k, uint8_t *out);

/* pb_games_draw(s0, all, k, out0) and pb_games_draw(s1, all, k, out1), the
 * bits left of each into left[0] and left[1]; the two chains interleaved
 * when both streams hold their k floats (primed) and the CPU has BMI2. */
void pb_games_draw2(pb_fair_stream *s0, pb_fair_stream *s1, uint64_t all, unsigned k, uint8_t *out0,
                    uint8_t *out1, uint64_t left[2]);

/* Binomial coefficient C(n, k) for n ≤ 64 (exact in uint64 for what we use). */
uint64_t pb_games_choose(unsigned n, unsigned k);

/* Fills *out from num/den (reduced; num and den fit in 64 bits after reduction,
 * else the fraction is rounded down to a 64-bit denominator). */
void pb_games_rtp_set(pb_rtp *out, unsigned __int128 num, unsigned __int128 den);

/* Scales a base paytable entry (hundredths of x) to the configured RTP, in
 * multiplier units (1/10000 of x), floored:
 * floor(base_e2 · 100 · rtp_bp · den / (num · 10000)) where num/den is the base
 * table's exact RTP. */
int64_t pb_games_scale(int64_t base_e2, uint32_t rtp_bp, unsigned __int128 num,
                       unsigned __int128 den);

/* ---- per-game exact RTP (each in its game's file) ---- */
pb_err pb_dice_rtp(const pb_dice_params *p, uint32_t rtp_bp, pb_rtp *out);
pb_err pb_limbo_rtp(const pb_limbo_params *p, uint32_t rtp_bp, pb_rtp *out);
pb_err pb_crash_rtp(const pb_crash_params *p, uint32_t rtp_bp, pb_rtp *out);
pb_err pb_mines_rtp(const pb_mines_params *p, uint32_t rtp_bp, pb_rtp *out);
pb_err pb_keno_rtp(const pb_keno_params *p, uint32_t rtp_bp, pb_rtp *out);
pb_err pb_plinko_rtp(const pb_plinko_params *p, uint32_t rtp_bp, pb_rtp *out);
pb_err pb_roulette_rtp(const pb_roulette_params *p, pb_rtp *out);
pb_err pb_slot_rtp(uint32_t rtp_bp, pb_rtp *out);

/* P(limbo result ≥ t) and P(crash point ≥ t) as count / 2^24 and count / 2^32. */
uint64_t pb_limbo_count_at_least(uint64_t t, uint32_t rtp_bp);
uint64_t pb_crash_count_at_least(uint64_t t, uint32_t rtp_bp);

/* Hits of a keno pick set against a draw. */
unsigned pb_keno_hits(const pb_keno_params *p, const uint8_t drawn[PB_KENO_DRAWN]);
/* P(hits = h | count picks) numerator over C(40, 10). */
uint64_t pb_keno_hits_count(unsigned count, unsigned hits);

/* Slot: number of stop combinations (Π strip lengths), and how many of them
 * show exactly c scatters (0..5). */
uint64_t pb_slot_combinations(void);
uint64_t pb_slot_scatter_combinations(unsigned c);
/* Strip length of a reel. */
unsigned pb_slot_strip_length(unsigned reel);

/* An upper bound of one slot round's multiplier: every line and the
 * scatters at their best on the paid spin and on all 15 free spins. */
int64_t pb_slot_max_multiplier(uint32_t rtp_bp);

/* The 10 drawn numbers in draw order into out (pb_keno_draw); returns them
 * as a mask (bit n: number n drawn). */
uint64_t pb_keno_draw_bits(pb_fair_stream *s, uint8_t out[PB_KENO_DRAWN]);
/* Keno's numbers 1..40 as the bits of a mask (what pb_games_draw draws from). */
#define PB_KENO_ALL ((((uint64_t)1 << PB_KENO_NUMBERS) - 1) << 1)
/* pb_mines_positions of two streams (pb_games_draw2). */
void pb_mines_positions2(pb_fair_stream *s0, pb_fair_stream *s1, unsigned mines,
                         uint8_t out0[PB_MINES_MAX], uint8_t out1[PB_MINES_MAX]);

/*
 * A round of (p, rtp_bp) with what pb_game_play_stream checks and looks up
 * done once: pb_game_play_stream and pb_game_payout run one round through
 * it; pb_game_simulate prepares once (with tables) and plays every round.
 * With tables, every multiplier the game can pay (and roulette's return per
 * pocket) is computed up front by the same function a single round calls.
 * p must outlive it.
 */
typedef struct pb_games_prep {
    const pb_game_params *p;
    uint32_t rtp_bp;
    bool playable;       /* pb_game_params_playable(p) */
    bool tables;         /* mult (and ret) filled */
    int64_t stake;       /* pb_game_stake_total(p) */
    uint64_t keno_picks; /* keno: the picks as a mask when distinct and 1..40, else 0 */
    int64_t mult[PB_ROULETTE_POCKETS]; /* multiplier per outcome index (-1: roulette overflow) */
    int64_t ret[PB_ROULETTE_POCKETS];  /* roulette: return per pocket (-1: overflow) */
} pb_games_prep;

/* Fills *pp for rounds of p at rtp_bp (tables: the multipliers up front, for
 * a batch). Returns PB_OK, or PB_ERR_FIELD_INVALID for an RTP outside the
 * game's range or crash (what pb_game_play_stream refuses). */
pb_err pb_games_prepare(const pb_game_params *p, uint32_t rtp_bp, bool tables, pb_games_prep *pp);
/* pb_game_play_stream of a prepared game. */
pb_err pb_games_play_prepared(const pb_games_prep *pp, pb_fair_stream *s, pb_game_outcome *o);
/* pb_games_play_prepared of two streams into o0 and o1 (the same outcomes;
 * keno's and mines' draws interleaved, pb_games_draw2). On an error o1 may
 * be unplayed. */
pb_err pb_games_play_prepared2(const pb_games_prep *pp, pb_fair_stream *s0, pb_fair_stream *s1,
                               pb_game_outcome *o0, pb_game_outcome *o1);
/* pb_game_payout of a prepared game (its playable and stake fields). */
pb_err pb_games_payout_prepared(const pb_games_prep *pp, const pb_game_outcome *o, int64_t bet,
                                int64_t *payout);

/* A crash round's outcome at its point (hundredths; pb_crash_point of the
 * game hash and salt): what pb_game_play fills for crash, for the batch of
 * pb_game_simulate too. */
static inline void pb_games_crash_outcome(const pb_game_params *p, uint32_t rtp_bp, uint64_t point,
                                          pb_game_outcome *o)
{
    memset(o, 0, offsetof(pb_game_outcome, u));
    o->kind = p->kind;
    o->rtp_bp = rtp_bp;
    o->u.crash.point = point;
    uint32_t cashout = p->u.crash.cashout;
    /* no call and no branch: the point is at or above the target at random */
    bool pays = p->kind == PB_GAME_CRASH && pb_crash_cashout_playable(cashout) && point >= cashout;
    o->multiplier = pays ? (int64_t)cashout * 100 : 0;
    o->win = pays;
}

/* One slot round (paid spin and its free spins) from a stream:
 * pb_slot_play_paid, the free spins' floats reserved, pb_slot_play_free. */
void pb_slot_play(pb_fair_stream *s, uint32_t rtp_bp, pb_game_outcome *o);
/* A slot round's paid spin into o (spins[0], nspins 1, its win as the
 * multiplier); returns the free spins it awards. */
unsigned pb_slot_play_paid(pb_fair_stream *s, uint32_t rtp_bp, pb_game_outcome *o);
/* The round's free_spins free spins after pb_slot_play_paid (read from s,
 * reserved or not): spins[1..], nspins, the multiplier in total. */
void pb_slot_play_free(pb_fair_stream *s, uint32_t rtp_bp, unsigned free_spins, pb_game_outcome *o);

/* A prepared slot round in two steps, for a batch that pools the free
 * spins' hashing (pb_fair_stream_reserve_many): pb_games_slot_paid plays
 * the paid spin and returns the free spins awarded (the outcome is final
 * when none), pb_games_slot_free plays them; together
 * pb_games_play_prepared's outcome. */
unsigned pb_games_slot_paid(const pb_games_prep *pp, pb_fair_stream *s, pb_game_outcome *o);
void pb_games_slot_free(const pb_games_prep *pp, pb_fair_stream *s, unsigned free_spins,
                        pb_game_outcome *o);

#endif
