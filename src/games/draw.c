/*
 * draw.c — drawing without replacement, as mines and keno do: k times, take
 * index floor(f · r) of the r items still free in ascending order, one float
 * per draw. The free items are the set bits of a 64-bit mask, so the idx-th
 * free item is the idx-th set bit: one pdep with BMI2 (when pb_games_have_bmi2),
 * else the portable loop — the same items as removing index idx from an
 * ascending array (tests/unit/games/test_fair.c compares the ways).
 *
 * Speed (the batch path): with the k floats primed in the stream and
 * AVX-512 (pb_games_have_avx512), the k indices floor(f · (n − i)) and their
 * one-hot words 1 << idx are computed at once in vector registers, leaving
 * the scalar chain pdep → xor (bit, then the bits left) per draw, with pdep
 * the only instruction of port 1 beside the position's tzcnt (the multiply
 * of the scalar path is there too, and port 1 bounded it). pb_games_draw2
 * draws for two streams at once (the batch path pairs keno's and mines'
 * rounds): two independent chains side by side, where one waits on each
 * pdep's latency (without AVX-512, draw2_bmi2: the two scalar chains
 * interleaved; keno's 10 of 40 unrolled, draw2_bmi2_keno). All give the
 * items of pb_games_draw one stream at a time.
 */
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <string.h>

#include "games/rules.h"

#if defined(__x86_64__)
#define DRAW_BMI2 __attribute__((target("bmi2,popcnt")))
#define DRAW_X16 __attribute__((target("avx512f,avx512bw,bmi2,popcnt")))

/* The big-endian word at b (a float's integer). */
static inline uint32_t load_be32(const uint8_t *b)
{
    uint32_t u;
    memcpy(&u, b, 4);
    return __builtin_bswap32(u);
}

/* The BMI2 path (pb_games_have_bmi2 also means POPCNT): the floats from b
 * when the stream held them (primed), else read one by one. */
DRAW_BMI2 static uint64_t draw_bmi2(pb_fair_stream *s, const uint8_t *b, uint64_t left, unsigned k,
                                    uint8_t *out)
{
    unsigned n = (unsigned)__builtin_popcountll(left);
    for (unsigned i = 0; i < k; i++) {
        uint32_t u = b ? load_be32(b + 4 * i) : pb_fair_stream_u32(s);
        uint64_t bit = _pdep_u64((uint64_t)1 << pb_fair_scale(u, n - i), left);
        out[i] = (uint8_t)__builtin_ctzll(bit);
        left ^= bit;
    }
    return left;
}

/* one[i] = 1 << floor(f_i · (n − i)) for the k ≤ 16 floats at b (one[k..16)
 * is 1): the words byte-swapped, the products (u · r) >> 32 of even and odd
 * words with vpmuludq, the shifts with vpsllvq. */
DRAW_X16 static inline void draw_onehots(const uint8_t *b, unsigned n, unsigned k, uint64_t one[16])
{
    const __m512i bswap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    __m512i u = _mm512_shuffle_epi8(_mm512_maskz_loadu_epi32((__mmask16)((1u << k) - 1), b), bswap);
    __m512i r = _mm512_sub_epi32(_mm512_set1_epi32((int)n),
                                 _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                                   15));
    __m512i even = _mm512_mul_epu32(u, r);
    __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(u, 32), _mm512_srli_epi64(r, 32));
    __m512i idx = _mm512_mask_mov_epi32(_mm512_srli_epi64(even, 32), 0xAAAA, odd);
    const __m512i ones = _mm512_set1_epi64(1);
    _mm512_store_si512(one,
                       _mm512_sllv_epi64(ones, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(idx))));
    _mm512_store_si512(one + 8,
                       _mm512_sllv_epi64(ones,
                                         _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(idx, 1))));
}

/* The draws from the primed floats at b with AVX-512 (k ≤ 32). */
DRAW_X16 static uint64_t draw_x16(const uint8_t *b, uint64_t left, unsigned k, uint8_t *out)
{
    uint64_t one[32] __attribute__((aligned(64)));
    unsigned n = (unsigned)__builtin_popcountll(left);
    draw_onehots(b, n, k < 16 ? k : 16, one);
    if (k > 16)
        draw_onehots(b + 64, n - 16, k - 16, one + 16);
    for (unsigned i = 0; i < k; i++) {
        uint64_t bit = _pdep_u64(one[i], left);
        out[i] = (uint8_t)__builtin_ctzll(bit);
        left ^= bit;
    }
    return left;
}

/* Two streams' draws from their one-hot words (one[i] = 1 << index of draw i
 * among the items still free): the idx-th free item by pdep, the two chains
 * side by side so that each hides the other's latency. */
__attribute__((target("bmi2,popcnt"), always_inline)) static inline void pdep_chains2(
    const uint64_t *one0, const uint64_t *one1, uint64_t all, unsigned k, uint8_t *out0,
    uint8_t *out1, uint64_t left[2])
{
    uint64_t l0 = all, l1 = all;
    for (unsigned i = 0; i < k; i++) {
        uint64_t bit0 = _pdep_u64(one0[i], l0), bit1 = _pdep_u64(one1[i], l1);
        out0[i] = (uint8_t)__builtin_ctzll(bit0);
        out1[i] = (uint8_t)__builtin_ctzll(bit1);
        l0 ^= bit0;
        l1 ^= bit1;
    }
    left[0] = l0;
    left[1] = l1;
}

/* draw_x16 of two streams' primed floats (b0, b1), the chains side by side. */
DRAW_X16 static void draw2_x16(const uint8_t *b0, const uint8_t *b1, uint64_t all, unsigned k,
                               uint8_t *out0, uint8_t *out1, uint64_t left[2])
{
    uint64_t one0[32] __attribute__((aligned(64))), one1[32] __attribute__((aligned(64)));
    unsigned n = (unsigned)__builtin_popcountll(all);
    draw_onehots(b0, n, k < 16 ? k : 16, one0);
    draw_onehots(b1, n, k < 16 ? k : 16, one1);
    if (k > 16) {
        draw_onehots(b0 + 64, n - 16, k - 16, one0 + 16);
        draw_onehots(b1 + 64, n - 16, k - 16, one1 + 16);
    }
    pdep_chains2(one0, one1, all, k, out0, out1, left);
}

/* draw2_bmi2: draw_bmi2 of two streams whose floats are primed (b0, b1),
 * the two pdep chains side by side. */
DRAW_BMI2 static void draw2_bmi2(const uint8_t *b0, const uint8_t *b1, uint64_t all, unsigned k,
                                 uint8_t *out0, uint8_t *out1, uint64_t left[2])
{
    uint64_t one0[64], one1[64]; /* k ≤ popcount(all) ≤ 64 */
    unsigned n = (unsigned)__builtin_popcountll(all);
    for (unsigned i = 0; i < k; i++) {
        one0[i] = (uint64_t)1 << pb_fair_scale(load_be32(b0 + 4 * i), n - i);
        one1[i] = (uint64_t)1 << pb_fair_scale(load_be32(b1 + 4 * i), n - i);
    }
    pdep_chains2(one0, one1, all, k, out0, out1, left);
}

/* draw2_bmi2 with the item count n and the draws k known where it is
 * inlined (keno's 10 of 40): fully unrolled, each float's index a multiply
 * by an immediate, the one-hot words kept in registers rather than the
 * arrays of draw2_bmi2: its two loops with their arrays were about 200
 * instructions a keno outcome (callgrind), this 120. The two chains stay
 * side by side; the multiplies do not depend on them. */
__attribute__((target("bmi2,popcnt"), always_inline)) static inline void draw2_bmi2_fixed(
    const uint8_t *b0, const uint8_t *b1, uint64_t all, unsigned n, unsigned k, uint8_t *out0,
    uint8_t *out1, uint64_t left[2])
{
    uint64_t l0 = all, l1 = all;
#pragma GCC unroll 16
    for (unsigned i = 0; i < k; i++) {
        uint64_t one0 = (uint64_t)1 << pb_fair_scale(load_be32(b0 + 4 * i), n - i);
        uint64_t one1 = (uint64_t)1 << pb_fair_scale(load_be32(b1 + 4 * i), n - i);
        uint64_t bit0 = _pdep_u64(one0, l0), bit1 = _pdep_u64(one1, l1);
        out0[i] = (uint8_t)__builtin_ctzll(bit0);
        out1[i] = (uint8_t)__builtin_ctzll(bit1);
        l0 ^= bit0;
        l1 ^= bit1;
    }
    left[0] = l0;
    left[1] = l1;
}

/* Keno's draws of two streams on the BMI2 path. */
DRAW_BMI2 static void draw2_bmi2_keno(const uint8_t *b0, const uint8_t *b1, uint8_t *out0,
                                      uint8_t *out1, uint64_t left[2])
{
    draw2_bmi2_fixed(b0, b1, PB_KENO_ALL, PB_KENO_NUMBERS, PB_KENO_DRAWN, out0, out1, left);
}

/* Which draws may run: bit 1 BMI2 and POPCNT, bit 2 also AVX-512F and BW —
 * fair.c's choice, asked once (it is made once per process). */
enum { DRAWS_BMI2 = 1, DRAWS_X16 = 2 };
static int draws(void)
{
    static int paths = -1;
    int v = __atomic_load_n(&paths, __ATOMIC_RELAXED);
    if (v < 0) {
        bool bmi2 = pb_games_have_bmi2();
        v = (bmi2 ? DRAWS_BMI2 : 0) | (bmi2 && pb_games_have_avx512() ? DRAWS_X16 : 0);
        __atomic_store_n(&paths, v, __ATOMIC_RELAXED);
    }
    return v;
}
#endif

void pb_games_draw2(pb_fair_stream *s0, pb_fair_stream *s1, uint64_t all, unsigned k, uint8_t *out0,
                    uint8_t *out1, uint64_t left[2])
{
#if defined(__x86_64__)
    int paths = draws();
    if (paths && s0->pos + 4 * k <= s0->len && s1->pos + 4 * k <= s1->len) {
        const uint8_t *b0 = pb_fair_stream_take(s0, k), *b1 = pb_fair_stream_take(s1, k);
        if (k <= 32 && (paths & DRAWS_X16))
            draw2_x16(b0, b1, all, k, out0, out1, left);
        else if (all == PB_KENO_ALL && k == PB_KENO_DRAWN)
            draw2_bmi2_keno(b0, b1, out0, out1, left);
        else
            draw2_bmi2(b0, b1, all, k, out0, out1, left);
        return;
    }
#endif
    left[0] = pb_games_draw(s0, all, k, out0);
    left[1] = pb_games_draw(s1, all, k, out1);
}

uint64_t pb_games_draw(pb_fair_stream *s, uint64_t all, unsigned k, uint8_t *out)
{
#if defined(__x86_64__)
    int paths = draws();
    if (paths) {
        const uint8_t *b = pb_fair_stream_take(s, k);
        if (b && k <= 32 && (paths & DRAWS_X16))
            return draw_x16(b, all, k, out);
        return draw_bmi2(s, b, all, k, out);
    }
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
