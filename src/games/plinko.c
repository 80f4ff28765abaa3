/*
 * plinko.c — plinko: 8..16 rows, each row one float, right when
 * floor(f · 2) = 1 (the float's top bit); the bucket is the number of rights,
 * binomial(rows, 1/2). Pitboss's own symmetric multiplier tables (below, edge
 * to centre, hundredths of x) per rows and risk are scaled to the configured
 * RTP like keno's: floor(base · RTP / base RTP) in multiplier units (1/10000 x), the base RTP
 * being Σ C(n,k) · base[k] / 2^n exactly; the floored table's exact RTP is the
 * RTP in force.
 */
#include <assert.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "games/rules.h"

#define PLINKO_HALF_MAX (PB_PLINKO_ROWS_MAX / 2 + 1)

/* base[rows − 8][risk][i] for buckets i = 0 .. ceil(rows/2) (mirrored). */
/* laid out by hand, not by clang-format: one row per number of rows, labelled */
/* clang-format off */
static const uint32_t plinko_base[PB_PLINKO_ROWS_MAX - PB_PLINKO_ROWS_MIN + 1][PB_RISK_COUNT_]
                                 [PLINKO_HALF_MAX] = {
    /* 8 */ {{600, 200, 115, 100, 55}, {1250, 320, 135, 70, 40}, {3000, 420, 140, 30, 20}},
    /* 9 */ {{620, 210, 160, 100, 70}, {1800, 400, 170, 90, 50}, {4300, 700, 200, 60, 20}},
    /* 10 */ {{900, 300, 140, 110, 100, 50}, {2200, 500, 200, 140, 60, 40},
              {7500, 1000, 300, 90, 30, 20}},
    /* 11 */ {{850, 300, 190, 130, 100, 70}, {2400, 600, 300, 180, 70, 50},
              {12000, 1400, 520, 140, 40, 20}},
    /* 12 */ {{1000, 300, 160, 140, 110, 100, 50}, {3300, 1100, 400, 200, 110, 60, 30},
              {17000, 2400, 810, 200, 70, 20, 20}},
    /* 13 */ {{800, 400, 300, 190, 120, 90, 70}, {4300, 1300, 600, 300, 130, 70, 40},
              {26000, 3700, 1100, 400, 100, 20, 20}},
    /* 14 */ {{710, 400, 190, 140, 130, 110, 100, 50}, {5800, 1500, 700, 400, 190, 100, 50, 20},
              {42000, 5600, 1800, 500, 190, 30, 20, 20}},
    /* 15 */ {{1500, 800, 300, 200, 150, 110, 100, 70}, {8800, 1800, 1100, 500, 300, 130, 50, 30},
              {62000, 8300, 2700, 800, 300, 50, 20, 20}},
    /* 16 */ {{1600, 900, 200, 140, 140, 120, 110, 100, 50},
              {11000, 4100, 1000, 500, 300, 150, 100, 50, 30},
              {100000, 13000, 2600, 900, 400, 200, 20, 20, 20}},
};
/* clang-format on */

static uint32_t base_at(unsigned rows, int risk, unsigned bucket)
{
    unsigned i = bucket <= rows - bucket ? bucket : rows - bucket;
    return plinko_base[rows - PB_PLINKO_ROWS_MIN][risk][i];
}

/* Row i goes right when floor(f · 2) = 1: the float's top bit, the top bit
 * of its first byte. With the rows' bytes primed in the stream, all rows at
 * once: each 32-bit word shifted left by 24 puts that bit in its sign, and
 * movemask collects four signs per 16 bytes (never reading past the rows'
 * bytes: the last load ends at the last row); the bucket is the popcount. */
unsigned pb_plinko_drop(pb_fair_stream *s, unsigned rows, uint32_t *path)
{
    assert(rows >= PB_PLINKO_ROWS_MIN && rows <= PB_PLINKO_ROWS_MAX);
    uint32_t bits = 0;
#if defined(__x86_64__)
    const uint8_t *b = pb_fair_stream_take(s, rows);
    if (b) {
        for (unsigned q = 0; q < rows; q += 4) {
            /* the last four: words rows − 4 .. rows − 1 */
            unsigned w = q + 4 <= rows ? q : rows - 4;
            __m128i v = _mm_loadu_si128((const __m128i *)(b + 4 * w));
            bits |= (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_slli_epi32(v, 24))) << w;
        }
        if (path)
            *path = bits;
        return pb_games_popcount(bits);
    }
#endif
    unsigned bucket = 0;
    for (unsigned i = 0; i < rows; i++) {
        uint32_t right = pb_fair_scale(pb_fair_stream_u32(s), 2);
        bucket += right;
        bits |= right << i;
    }
    if (path)
        *path = bits;
    return bucket;
}

static const int64_t *table(unsigned rows, int risk, uint32_t rtp_bp)
{
    static _Thread_local struct {
        unsigned rows;
        int risk;
        uint32_t rtp;
        int64_t mult[PB_PLINKO_ROWS_MAX + 1];
    } c = {.rows = 0};
    if (c.rows != rows || c.risk != risk || c.rtp != rtp_bp) {
        unsigned __int128 num = 0;
        for (unsigned k = 0; k <= rows; k++)
            num += (unsigned __int128)pb_games_choose(rows, k) * base_at(rows, risk, k);
        unsigned __int128 den = ((unsigned __int128)1 << rows) * 100;
        for (unsigned k = 0; k <= rows; k++)
            c.mult[k] = pb_games_scale(base_at(rows, risk, k), rtp_bp, num, den);
        c.rows = rows;
        c.risk = risk;
        c.rtp = rtp_bp;
    }
    return c.mult;
}

int64_t pb_plinko_multiplier(unsigned rows, int risk, unsigned bucket, uint32_t rtp_bp)
{
    if (rows < PB_PLINKO_ROWS_MIN || rows > PB_PLINKO_ROWS_MAX || risk < 0 ||
        risk >= PB_RISK_COUNT_ || bucket > rows)
        return 0;
    return table(rows, risk, rtp_bp)[bucket];
}

pb_err pb_plinko_rtp(const pb_plinko_params *p, uint32_t rtp_bp, pb_rtp *out)
{
    if (p->rows < PB_PLINKO_ROWS_MIN || p->rows > PB_PLINKO_ROWS_MAX || p->risk >= PB_RISK_COUNT_)
        return PB_ERR_FIELD_INVALID;
    unsigned __int128 num = 0;
    for (unsigned k = 0; k <= p->rows; k++)
        num += (unsigned __int128)pb_games_choose(p->rows, k) *
               (uint64_t)pb_plinko_multiplier(p->rows, p->risk, k, rtp_bp);
    pb_games_rtp_set(out, num, ((unsigned __int128)1 << p->rows) * PB_MULT_ONE);
    return PB_OK;
}
