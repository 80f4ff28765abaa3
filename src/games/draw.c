/*
 * draw.c — drawing without replacement, as mines and keno do: k times, take
 * index floor(f · r) of the r items still free in ascending order, one float
 * per draw. The free items are the set bits of a 64-bit mask, so the idx-th
 * free item is the idx-th set bit: one pdep with BMI2 (when pb_games_have_bmi2),
 * else the portable loop — the same items as removing index idx from an
 * ascending array (tests/unit/games/test_fair.c compares the ways).
 */
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <string.h>

#include "games/rules.h"

#if defined(__x86_64__)
/* The BMI2 path (pb_games_have_bmi2 also means POPCNT): the k floats at once
 * when the stream holds them (primed), each index computed from its float
 * apart from the chain of pdeps that removes the drawn bits. */
__attribute__((target("bmi2,popcnt"))) static uint64_t draw_bmi2(pb_fair_stream *s, uint64_t left,
                                                                 unsigned k, uint8_t *out)
{
    unsigned n = (unsigned)__builtin_popcountll(left);
    const uint8_t *b = pb_fair_stream_take(s, k);
    for (unsigned i = 0; i < k; i++) {
        uint32_t u;
        if (b) {
            memcpy(&u, b + 4 * i, 4);
            u = __builtin_bswap32(u);
        } else {
            u = pb_fair_stream_u32(s);
        }
        unsigned idx = pb_fair_scale(u, n - i);
        uint64_t bit = _pdep_u64((uint64_t)1 << idx, left);
        out[i] = (uint8_t)__builtin_ctzll(bit);
        left ^= bit;
    }
    return left;
}
#endif

uint64_t pb_games_draw(pb_fair_stream *s, uint64_t all, unsigned k, uint8_t *out)
{
#if defined(__x86_64__)
    if (pb_games_have_bmi2())
        return draw_bmi2(s, all, k, out);
#endif
    unsigned n = pb_games_popcount(all);
    uint64_t left = all;
    for (unsigned i = 0; i < k; i++) {
        unsigned idx = pb_fair_scale(pb_fair_stream_u32(s), n - i);
        unsigned b = pb_games_nth_bit(left, idx);
        out[i] = (uint8_t)b;
        left &= ~((uint64_t)1 << b);
    }
    return left;
}
