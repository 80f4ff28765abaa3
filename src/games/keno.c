/*
 * keno.c — keno: 10 numbers drawn from 1..40 by taking index floor(f · r) of
 * the r numbers not drawn yet (ascending), one float per number; the player
 * picks 1..10. Pitboss's own paytables (below) per risk level give relative
 * pays in hundredths of x; at a configured RTP each entry becomes
 * floor(base · RTP / base RTP) in multiplier units (1/10000 x), where the base RTP is the base
 * table's exact figure from the hypergeometric distribution
 * P(h | p picks) = C(p,h) · C(40−p, 10−h) / C(40, 10). The floored table's own
 * exact RTP (pb_game_rtp) is the RTP in force: at most the configured one.
 */
#include <string.h>

#include "games/rules.h"

/* base[risk][picks − 1][hits], hundredths of x (relative shape, scaled). */
/* laid out by hand, not by clang-format: one row per number of picks, one block per risk */
/* clang-format off */
static const uint32_t keno_base[PB_RISK_COUNT_][PB_KENO_PICKS_MAX][PB_KENO_PICKS_MAX + 1] = {
    [PB_RISK_LOW] = {
        {70, 185},
        {0, 200, 380},
        {0, 110, 138, 2600},
        {0, 0, 220, 790, 9000},
        {0, 0, 150, 420, 1300, 30000},
        {0, 0, 110, 200, 620, 10000, 70000},
        {0, 0, 110, 160, 350, 1500, 22500, 70000},
        {0, 0, 110, 150, 200, 550, 3900, 10000, 80000},
        {0, 0, 110, 130, 170, 250, 750, 5000, 25000, 100000},
        {0, 0, 110, 120, 130, 180, 350, 1300, 5000, 25000, 100000},
    },
    [PB_RISK_MEDIUM] = {
        {40, 275},
        {0, 180, 510},
        {0, 0, 280, 5000},
        {0, 0, 170, 1000, 10000},
        {0, 0, 140, 400, 1400, 39000},
        {0, 0, 0, 300, 900, 18000, 71000},
        {0, 0, 0, 200, 700, 3000, 40000, 80000},
        {0, 0, 0, 200, 400, 1100, 6700, 40000, 90000},
        {0, 0, 0, 200, 250, 500, 1500, 10000, 50000, 100000},
        {0, 0, 0, 160, 200, 400, 700, 2600, 10000, 50000, 100000},
    },
    [PB_RISK_HIGH] = {
        {0, 396},
        {0, 0, 1720},
        {0, 0, 0, 8100},
        {0, 0, 0, 1000, 25900},
        {0, 0, 0, 450, 4800, 45000},
        {0, 0, 0, 0, 1100, 35000, 71000},
        {0, 0, 0, 0, 700, 9000, 40000, 80000},
        {0, 0, 0, 0, 500, 2000, 27000, 60000, 90000},
        {0, 0, 0, 0, 400, 1100, 5600, 50000, 80000, 100000},
        {0, 0, 0, 0, 350, 800, 1300, 6300, 50000, 80000, 100000},
    },
};
/* clang-format on */

/* The numbers not drawn yet are bits 1..40 of a mask (pb_games_draw, draw.c). */
#define KENO_ALL PB_KENO_ALL

uint64_t pb_keno_draw_bits(pb_fair_stream *s, uint8_t out[PB_KENO_DRAWN])
{
    return KENO_ALL & ~pb_games_draw(s, KENO_ALL, PB_KENO_DRAWN, out);
}

void pb_keno_draw(pb_fair_stream *s, uint8_t out[PB_KENO_DRAWN]) { pb_keno_draw_bits(s, out); }

uint64_t pb_keno_hits_count(unsigned count, unsigned hits)
{
    if (hits > count || hits > PB_KENO_DRAWN || PB_KENO_DRAWN - hits > PB_KENO_NUMBERS - count)
        return 0;
    return pb_games_choose(count, hits) *
           pb_games_choose(PB_KENO_NUMBERS - count, PB_KENO_DRAWN - hits);
}

unsigned pb_keno_hits(const pb_keno_params *p, const uint8_t drawn[PB_KENO_DRAWN])
{
    uint64_t mask = 0;
    for (unsigned i = 0; i < PB_KENO_DRAWN; i++)
        mask |= (uint64_t)1 << drawn[i];
    unsigned hits = 0;
    for (unsigned i = 0; i < p->count; i++)
        hits += (unsigned)(mask >> p->picks[i] & 1);
    return hits;
}

/* The base table's exact RTP: Σ count(h) · base[h] over C(40,10) · 100. */
static void base_rtp(int risk, unsigned count, unsigned __int128 *num, unsigned __int128 *den)
{
    unsigned __int128 n = 0;
    for (unsigned h = 0; h <= count; h++)
        n += (unsigned __int128)pb_keno_hits_count(count, h) * keno_base[risk][count - 1][h];
    *num = n;
    *den = (unsigned __int128)pb_games_choose(PB_KENO_NUMBERS, PB_KENO_DRAWN) * 100;
}

/* The scaled table of (risk, count, rtp) in multiplier units, cached per thread. */
static const int64_t *table(int risk, unsigned count, uint32_t rtp_bp)
{
    static _Thread_local struct {
        int risk;
        unsigned count;
        uint32_t rtp;
        int64_t mult[PB_KENO_PICKS_MAX + 1];
    } c = {.count = 0};
    if (c.count != count || c.risk != risk || c.rtp != rtp_bp) {
        unsigned __int128 num, den;
        base_rtp(risk, count, &num, &den);
        for (unsigned h = 0; h <= count; h++)
            c.mult[h] = pb_games_scale(keno_base[risk][count - 1][h], rtp_bp, num, den);
        c.risk = risk;
        c.count = count;
        c.rtp = rtp_bp;
    }
    return c.mult;
}

int64_t pb_keno_multiplier(int risk, unsigned count, unsigned hits, uint32_t rtp_bp)
{
    if (risk < 0 || risk >= PB_RISK_COUNT_ || count < 1 || count > PB_KENO_PICKS_MAX ||
        hits > count)
        return 0;
    return table(risk, count, rtp_bp)[hits];
}

pb_err pb_keno_rtp(const pb_keno_params *p, uint32_t rtp_bp, pb_rtp *out)
{
    if (p->risk >= PB_RISK_COUNT_ || p->count < 1 || p->count > PB_KENO_PICKS_MAX)
        return PB_ERR_FIELD_INVALID;
    unsigned __int128 num = 0;
    for (unsigned h = 0; h <= p->count; h++)
        num += (unsigned __int128)pb_keno_hits_count(p->count, h) *
               (uint64_t)pb_keno_multiplier(p->risk, p->count, h, rtp_bp);
    pb_games_rtp_set(out, num,
                     (unsigned __int128)pb_games_choose(PB_KENO_NUMBERS, PB_KENO_DRAWN) *
                         PB_MULT_ONE);
    return PB_OK;
}
