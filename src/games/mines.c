/*
 * mines.c — mines: 25 tiles, 1..24 mines placed by taking index floor(f · r)
 * of the r tiles still free (ascending), one float per mine. After k safe
 * reveals the multiplier is floor(rtp_bp · C(25,k) / C(25−m,k)): the fair
 * multiplier 1 / P(k safe) times the RTP, floored to 1/10000.
 */
#include <assert.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "games/rules.h"

/* The tiles still free are the set bits 0..24 of a mask: the idx-th free
 * tile in ascending order is its idx-th set bit (pdep with BMI2, else the
 * portable loop) — the same tiles as removing index idx from an ascending
 * array (tests/unit/games/test_fair.c compares both ways). */
#define MINES_ALL (((uint64_t)1 << PB_MINES_TILES) - 1)

#if defined(__x86_64__)
__attribute__((target("bmi2"))) static void positions_bmi2(pb_fair_stream *s, unsigned mines,
                                                           uint8_t out[PB_MINES_MAX])
{
    uint64_t left = MINES_ALL;
    for (unsigned i = 0; i < mines; i++) {
        unsigned idx = pb_fair_scale(pb_fair_stream_u32(s), PB_MINES_TILES - i);
        uint64_t bit = _pdep_u64((uint64_t)1 << idx, left);
        out[i] = (uint8_t)__builtin_ctzll(bit);
        left &= ~bit;
    }
}
#endif

void pb_mines_positions(pb_fair_stream *s, unsigned mines, uint8_t out[PB_MINES_MAX])
{
    assert(mines >= PB_MINES_MIN && mines <= PB_MINES_MAX);
#if defined(__x86_64__)
    if (pb_games_have_bmi2()) {
        positions_bmi2(s, mines, out);
        return;
    }
#endif
    uint64_t left = MINES_ALL;
    for (unsigned i = 0; i < mines; i++) {
        unsigned idx = pb_fair_scale(pb_fair_stream_u32(s), PB_MINES_TILES - i);
        unsigned t = pb_games_nth_bit(left, idx);
        out[i] = (uint8_t)t;
        left &= ~((uint64_t)1 << t);
    }
}

int64_t pb_mines_multiplier(unsigned mines, unsigned safe, uint32_t rtp_bp)
{
    if (mines < PB_MINES_MIN || mines > PB_MINES_MAX || safe > PB_MINES_TILES - mines)
        return 0;
    return (int64_t)((uint64_t)rtp_bp * pb_games_choose(PB_MINES_TILES, safe) /
                     pb_games_choose(PB_MINES_TILES - mines, safe));
}

/* Revealing `picks` given tiles: all safe with probability C(25−m,k)/C(25,k). */
pb_err pb_mines_rtp(const pb_mines_params *p, uint32_t rtp_bp, pb_rtp *out)
{
    if (p->mines < PB_MINES_MIN || p->mines > PB_MINES_MAX || p->picks < 1 ||
        p->picks > PB_MINES_TILES - p->mines)
        return PB_ERR_FIELD_INVALID;
    uint64_t m = (uint64_t)pb_mines_multiplier(p->mines, p->picks, rtp_bp);
    pb_games_rtp_set(out, (unsigned __int128)m * pb_games_choose(PB_MINES_TILES - p->mines, p->picks),
                     (unsigned __int128)pb_games_choose(PB_MINES_TILES, p->picks) * PB_MULT_ONE);
    return PB_OK;
}
