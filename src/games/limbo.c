/*
 * limbo.c — limbo: v = floor(f · 2²⁴), result = floor(2²⁴ / (v + 1) · rtp · 100)
 * / 100, i.e. floor(2²⁴ · rtp_bp / (100 · (v + 1))) hundredths — the issue's
 * formula evaluated exactly in integers (a double evaluation can differ by
 * 0.01 on rare boundaries; this one is the mathematical value) — shown as at
 * least 1.00x. A bet at target t wins t when result ≥ t.
 */
#include "games/rules.h"

#define LIMBO_SPAN (1u << 24)

uint64_t pb_limbo_result_u(uint32_t u, uint32_t rtp_bp)
{
    uint64_t v = u >> 8; /* floor(f · 2²⁴) */
    uint64_t r = (uint64_t)LIMBO_SPAN * rtp_bp / (100 * (v + 1));
    return r < 100 ? 100 : r;
}

uint64_t pb_limbo_result(pb_fair_stream *s, uint32_t rtp_bp)
{
    return pb_limbo_result_u(pb_fair_stream_u32(s), rtp_bp);
}

/* result ≥ t ⇔ 2²⁴·rtp / (100(v+1)) ≥ t (t integer) ⇔ v + 1 ≤ 2²⁴·rtp / (100 t):
 * floor(2²⁴·rtp / (100 t)) values of v, at most 2²⁴. For t ≤ 100 every v. */
uint64_t pb_limbo_count_at_least(uint64_t t, uint32_t rtp_bp)
{
    if (t <= 100)
        return LIMBO_SPAN;
    uint64_t c = (uint64_t)LIMBO_SPAN * rtp_bp / (100 * t);
    return c > LIMBO_SPAN ? LIMBO_SPAN : c;
}

pb_err pb_limbo_rtp(const pb_limbo_params *p, uint32_t rtp_bp, pb_rtp *out)
{
    if (p->target < PB_LIMBO_TARGET_MIN || p->target > PB_LIMBO_TARGET_MAX)
        return PB_ERR_FIELD_INVALID;
    /* multiplier t/100 x with probability count / 2^24 */
    pb_games_rtp_set(out, (unsigned __int128)p->target * pb_limbo_count_at_least(p->target, rtp_bp),
                     (unsigned __int128)100 * LIMBO_SPAN);
    return PB_OK;
}
