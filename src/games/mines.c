/*
 * mines.c — mines: 25 tiles, 1..24 mines placed by taking index floor(f · r)
 * of the r tiles still free (ascending), one float per mine. After k safe
 * reveals the multiplier is floor(rtp_bp · C(25,k) / C(25−m,k)): the fair
 * multiplier 1 / P(k safe) times the RTP, floored to 1/10000.
 */
#include <assert.h>
#include <string.h>

#include "games/rules.h"

/* The tiles still free are bits 0..24 of a mask (pb_games_draw, draw.c). */
#define MINES_ALL (((uint64_t)1 << PB_MINES_TILES) - 1)

void pb_mines_positions(pb_fair_stream *s, unsigned mines, uint8_t out[PB_MINES_MAX])
{
    assert(mines >= PB_MINES_MIN && mines <= PB_MINES_MAX);
    pb_games_draw(s, MINES_ALL, mines, out);
}

void pb_mines_positions2(pb_fair_stream *s0, pb_fair_stream *s1, unsigned mines,
                         uint8_t out0[PB_MINES_MAX], uint8_t out1[PB_MINES_MAX])
{
    assert(mines >= PB_MINES_MIN && mines <= PB_MINES_MAX);
    uint64_t left[2];
    pb_games_draw2(s0, s1, MINES_ALL, mines, out0, out1, left);
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
    pb_games_rtp_set(out,
                     (unsigned __int128)m * pb_games_choose(PB_MINES_TILES - p->mines, p->picks),
                     (unsigned __int128)pb_games_choose(PB_MINES_TILES, p->picks) * PB_MULT_ONE);
    return PB_OK;
}
