/*
 * fair_simd.c — the provably fair engine's bulk SHA-256 kernels for x86-64
 * (fair.c decides at run time which of them the CPU has and
 * PITBOSS_FAIR_SIMD allows, and falls back to libcrypto one block at a time):
 * two HMACs interleaved with the SHA extensions, and sixteen at once with
 * AVX-512; and a crash game's six compressions fused, with the SHA
 * extensions. Private to src/games/ (fair_simd.h); every path gives the bytes of
 * the one-at-a-time path (tests/unit/games/test_fair.c, test_batch.c).
 */
#include "games/fair_simd.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <time.h>
#include <sodium.h>

/* The SHA extensions, from CPUID leaf 7 (EBX bit 29): __builtin_cpu_supports
 * has no "sha" before clang 16, and the fuzz build (clang 14 on Debian 12)
 * compiles this file too. */
bool pb_fair_cpu_has_sha(void)
{
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
}

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

/* The SHA-NI state layout: (ABEF, CDGH) from the standard state[8]. */
#define SHANI_INLINE __attribute__((target("sha,sse4.1"), always_inline)) static inline

SHANI_INLINE void shani_load(const uint32_t st[8], __m128i *s0, __m128i *s1)
{
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xB1); /* CDAB */
    __m128i h = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1B); /* EFGH */
    *s0 = _mm_alignr_epi8(t, h, 8);                                                /* ABEF */
    *s1 = _mm_blend_epi16(h, t, 0xF0);                                             /* CDGH */
}

/* (ABEF, CDGH) → words A..D and E..H, lane 0 first: the state in standard
 * order, which is also the next block's message words W0..W7. */
SHANI_INLINE void shani_unpack(__m128i s0, __m128i s1, __m128i *abcd, __m128i *efgh)
{
    __m128i t = _mm_shuffle_epi32(s0, 0x1B); /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1);        /* DCHG */
    *abcd = _mm_blend_epi16(t, s1, 0xF0);
    *efgh = _mm_alignr_epi8(s1, t, 8);
}

/* The schedule's next four words in place: w holds W[4i − 16 .. 4i) as four
 * vectors (lane 0 first), w[i & 3] (the oldest) becomes W[4i .. 4i + 4). */
SHANI_INLINE void shani_schedule4(__m128i w[4], int i)
{
    w[i & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]),
                                                  _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3],
                                                                  4)),
                                    w[(i + 3) & 3]);
}

/* 64 rounds of n ≤ 4 independent compressions side by side: one chain of
 * sha256rnds2 is latency-bound, several in flight fill the unit. Chain
 * c < nsched absorbs its 16 message words w[c] (4 vectors, lane 0 first,
 * rolled through the schedule); a chain c ≥ nsched absorbs a constant block
 * whose W + K the caller computed once (wk: 16 vectors), which spares the
 * sha256msg1/msg2 that otherwise share the unit with the rounds. The state
 * is (s0[c], s1[c]) in SHA-NI's (ABEF, CDGH) layout; the feed-forward is
 * added. Fully unrolled (n and nsched are constants where it is inlined),
 * so every array lives in registers: rolled, the indices w[i & 3] put them
 * in memory. */
SHANI_INLINE void shani_rounds(int n, int nsched, __m128i s0[], __m128i s1[], __m128i w[][4],
                               const __m128i wk[16])
{
    __m128i f0[4], f1[4];
#pragma GCC unroll 4
    for (int c = 0; c < n; c++) {
        f0[c] = s0[c];
        f1[c] = s1[c];
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
        const __m128i k = _mm_loadu_si128((const __m128i *)&sha256_k[4 * i]);
        __m128i m[4];
#pragma GCC unroll 4
        for (int c = 0; c < n; c++) {
            if (c < nsched) {
                if (i >= 4)
                    shani_schedule4(w[c], i);
                m[c] = _mm_add_epi32(w[c][i & 3], k);
            } else {
                m[c] = wk[i];
            }
            s1[c] = _mm_sha256rnds2_epu32(s1[c], s0[c], m[c]);
        }
#pragma GCC unroll 4
        for (int c = 0; c < n; c++)
            s0[c] = _mm_sha256rnds2_epu32(s0[c], s1[c], _mm_shuffle_epi32(m[c], 0x0E));
    }
#pragma GCC unroll 4
    for (int c = 0; c < n; c++) {
        s0[c] = _mm_add_epi32(s0[c], f0[c]);
        s1[c] = _mm_add_epi32(s1[c], f1[c]);
    }
}

/* The words of a one-block message (64 bytes) as four vectors, big-endian. */
SHANI_INLINE void shani_words(const uint8_t b[64], __m128i w[4])
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(b + 16 * i)), bswap);
}

/* The block an HMAC's outer hash compresses after its opad block: the inner
 * digest (standard order from shani_unpack of the inner state), 0x80, zeros,
 * the length 96 bytes = 768 bits. */
SHANI_INLINE void shani_outer_block(__m128i s0, __m128i s1, __m128i w[4])
{
    shani_unpack(s0, s1, &w[0], &w[1]);
    w[2] = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
    w[3] = _mm_set_epi32(768, 0, 0, 0);
}

/* Two HMACs whose inner message is one padded block each (ba, bb): the
 * inner compressions together, then the outer ones, their message (the
 * inner digest and its padding) built in registers. */
__attribute__((target("sha,sse4.1"))) void pb_fair_hmac2_shani(const pb_fair_key *ka,
                                                               const uint8_t ba[64],
                                                               const pb_fair_key *kb,
                                                               const uint8_t bb[64],
                                                               uint8_t outa[32], uint8_t outb[32])
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i s0[2], s1[2], w[2][4];
    shani_load(ka->inner, &s0[0], &s1[0]);
    shani_load(kb->inner, &s0[1], &s1[1]);
    shani_words(ba, w[0]);
    shani_words(bb, w[1]);
    shani_rounds(2, 2, s0, s1, w, NULL);
    shani_outer_block(s0[0], s1[0], w[0]);
    shani_outer_block(s0[1], s1[1], w[1]);
    shani_load(ka->outer, &s0[0], &s1[0]);
    shani_load(kb->outer, &s0[1], &s1[1]);
    shani_rounds(2, 2, s0, s1, w, NULL);
    uint8_t *out[2] = {outa, outb};
    for (int c = 0; c < 2; c++) {
        __m128i x, y;
        shani_unpack(s0[c], s1[c], &x, &y);
        _mm_storeu_si128((__m128i *)out[c], _mm_shuffle_epi8(x, bswap));
        _mm_storeu_si128((__m128i *)(out[c] + 16), _mm_shuffle_epi8(y, bswap));
    }
}

/* The key block of an HMAC keyed with a game hash's hex, xor the pad whose
 * hex digits lut holds ("0123456789abcdef" xor 0x36 or 0x5c): the digest
 * (abcd, efgh: words A..H, lane 0 first) as 64 lowercase hex characters, as
 * message words W0..W15 into w. A word X's eight characters are the nibbles
 * of its bytes x3 x2 x1 x0 (x3 the first): interleaving the low and high
 * nibbles of x0..x3 (low first) gives the bytes of its second word, then of
 * its first, in memory order — a swap of the two words puts them in place. */
SHANI_INLINE void shani_hex_words(__m128i abcd, __m128i efgh, __m128i lut, __m128i w[4])
{
    const __m128i low = _mm_set1_epi8(0x0f);
    const __m128i d[2] = {abcd, efgh};
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++) {
        __m128i lo = _mm_and_si128(d[i], low);
        __m128i hi = _mm_and_si128(_mm_srli_epi16(d[i], 4), low);
        w[2 * i] = _mm_shuffle_epi32(_mm_shuffle_epi8(lut, _mm_unpacklo_epi8(lo, hi)), 0xB1);
        w[2 * i + 1] = _mm_shuffle_epi32(_mm_shuffle_epi8(lut, _mm_unpackhi_epi8(lo, hi)), 0xB1);
    }
}

/* A crash game's six compressions, every step in registers: the game hash
 * (its inner block, its outer block), the hex key's ipad and opad blocks,
 * the salt's block under the ipad state, the outer block under the opad
 * state; only word A of the last state is kept. Two games side by side, the
 * salt's block beside the opad blocks, as four chains: the salt's schedule
 * is the same for every game (computed once), so those two chains issue
 * sha256rnds2 only. Measured here (AMD EPYC, Zen 3, 2026-11-22, TSC cycles
 * per compression, the unit alone): two chains with their schedule 67-74,
 * three or four 64-73 (the unit is busy: msg1/msg2 share it with the
 * rounds); without a schedule two chains 60-65 (latency-bound), four 36-42.
 * This kernel alone, best of 3,000 × 8 calls of 16 games: 292 TSC cycles a
 * game with two side by side, 434 with three, 417-445 with four (more
 * chains than registers). In pb_game_simulate, alternating runs on the
 * shared machine: four games side by side 3.0-4.4M crash rounds/s against
 * 3.9-4.9M for two; the salt beside the opad blocks rather than after them
 * 4.4-5.9M against 3.6-5.4M. */
#define CRASH_LANES 2

/* The salt's block is the same for every game: its W + K once. */
SHANI_INLINE void shani_salt_wk(const uint8_t salt[64], __m128i wk[16])
{
    __m128i sw[4];
    shani_words(salt, sw);
    for (int i = 0; i < 16; i++) {
        if (i >= 4)
            shani_schedule4(sw, i);
        wk[i] = _mm_add_epi32(sw[i & 3], _mm_loadu_si128((const __m128i *)&sha256_k[4 * i]));
    }
}

/* The HMAC of a crash game's point, CRASH_LANES games side by side, from
 * their key blocks: w[L + c] is game c's hex key xor the ipad, w[c] xor the
 * opad (message words). The ipad blocks first (chains L..2L), then the opad
 * blocks (chains 0..L) beside the salt's first block under the ipad states
 * (chains L..2L: no schedule, wk its W + K), its second block if it has one
 * (wk2, else NULL), then the outer hashes; h[c] is word A of game c's last
 * state. */
SHANI_INLINE void shani_crash_keyed(__m128i w[2 * CRASH_LANES][4], const __m128i wk[16],
                                    const __m128i *wk2, uint32_t h[CRASH_LANES])
{
    enum { L = CRASH_LANES };
    __m128i s0[2 * L], s1[2 * L], iv0, iv1;
    shani_load(pb_fair_sha256_iv, &iv0, &iv1);
    for (int c = 0; c < 2 * L; c++) {
        s0[c] = iv0;
        s1[c] = iv1;
    }
    shani_rounds(L, L, s0 + L, s1 + L, w + L, NULL);
    shani_rounds(2 * L, L, s0, s1, w, wk);
    if (wk2)
        shani_rounds(L, 0, s0 + L, s1 + L, NULL, wk2);
    for (int c = 0; c < L; c++)
        shani_outer_block(s0[L + c], s1[L + c], w[c]);
    shani_rounds(L, L, s0, s1, w, NULL);
    for (int c = 0; c < L; c++)
        h[c] = (uint32_t)_mm_extract_epi32(s0[c], 3); /* A of (A, B, E, F) */
}

__attribute__((target("sha,sse4.1"))) void pb_fair_crash_h_shani(const pb_fair_key *const *keys,
                                                                 const uint8_t (*blocks)[64],
                                                                 size_t n, const uint8_t salt[64],
                                                                 uint32_t *h)
{
    enum { L = CRASH_LANES };
    __m128i wk[16];
    shani_salt_wk(salt, wk);
    __m128i lut[2];
    for (int p = 0; p < 2; p++) {
        const char pad = p ? 0x5c : 0x36;
        lut[p] = _mm_xor_si128(_mm_setr_epi8('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a',
                                             'b', 'c', 'd', 'e', 'f'),
                               _mm_set1_epi8(pad));
    }
    for (size_t i = 0; i < n; i += L) {
        size_t g[L]; /* a short last group repeats its first game */
        for (int c = 0; c < L; c++)
            g[c] = i + (size_t)c < n ? i + (size_t)c : i;
        __m128i s0[L], s1[L], w[2 * L][4];
        /* the game hash: HMAC(server seed, the round's block) */
        for (int c = 0; c < L; c++) {
            shani_load(keys[g[c]]->inner, &s0[c], &s1[c]);
            shani_words(blocks[g[c]], w[c]);
        }
        shani_rounds(L, L, s0, s1, w, NULL);
        for (int c = 0; c < L; c++) {
            shani_outer_block(s0[c], s1[c], w[c]);
            shani_load(keys[g[c]]->outer, &s0[c], &s1[c]);
        }
        shani_rounds(L, L, s0, s1, w, NULL);
        /* keyed with its hex */
        for (int c = 0; c < L; c++) {
            __m128i abcd, efgh;
            shani_unpack(s0[c], s1[c], &abcd, &efgh);
            shani_hex_words(abcd, efgh, lut[0], w[L + c]);
            shani_hex_words(abcd, efgh, lut[1], w[c]);
        }
        uint32_t hl[L];
        shani_crash_keyed(w, wk, NULL, hl);
        for (int c = 0; c < L; c++)
            h[g[c]] = hl[c];
    }
}

/* Games g[0..L) of hashes from i: their hex key blocks xor the ipad (wi)
 * and the opad (wo), as message words — the pads are a byte repeated, so the
 * xor commutes with the words' byte swap. Past n a group repeats game n − 1
 * (its h is written again, the same). */
SHANI_INLINE void shani_hex_keys(const char (*hashes)[PB_FAIR_HASH_HEX_LEN + 1], size_t i, size_t n,
                                 size_t g[CRASH_LANES], __m128i wi[][4], __m128i wo[][4])
{
    const __m128i ipad = _mm_set1_epi8(0x36), opad = _mm_set1_epi8(0x5c);
    for (int c = 0; c < CRASH_LANES; c++) {
        g[c] = i + (size_t)c < n ? i + (size_t)c : n - 1;
        shani_words((const uint8_t *)hashes[g[c]], wi[c]);
        for (int j = 0; j < 4; j++) {
            wo[c][j] = _mm_xor_si128(wi[c][j], opad);
            wi[c][j] = _mm_xor_si128(wi[c][j], ipad);
        }
    }
}

/* The crash h of a chain's games, L at a time, from their hex (a salt of one
 * or two blocks: two for a chain's salt of 64 hex characters). */
SHANI_INLINE void crash_hex_groups(const char (*hashes)[PB_FAIR_HASH_HEX_LEN + 1], size_t n,
                                   const __m128i wk[2][16], const bool two, uint32_t *h)
{
    enum { L = CRASH_LANES };
    for (size_t i = 0; i < n; i += L) {
        size_t g[L];
        __m128i w[2 * L][4];
        shani_hex_keys(hashes, i, n, g, w + L, w);
        uint32_t hl[L];
        shani_crash_keyed(w, wk[0], two ? wk[1] : NULL, hl);
        for (int c = 0; c < L; c++)
            h[g[c]] = hl[c];
    }
}

/* crash_hex_groups as a function of its own per salt length: inlined into
 * pb_fair_crash_hex_h_shani beside the other it ran slower. Measured here
 * (2026-11-23, best of 40 × 80k games in one process, alternating): with
 * the salt of 64 characters 97-106 ns a game; 99-126 with the groups
 * pipelined over two turns so that the salt's blocks run beside scheduled
 * chains (I(a) ∥ X(previous b), I(b) ∥ U1(a), O(a) ∥ U2(a), X(a) ∥ U1(b),
 * O(b) ∥ U2(b): the registers spill), 158 inlined. With the salt of one
 * block, 73-88 ns against 97-120 pipelined. */
__attribute__((target("sha,sse4.1"), noinline)) static void crash_hex_1(
    const char (*hashes)[PB_FAIR_HASH_HEX_LEN + 1], size_t n, const __m128i wk[2][16], uint32_t *h)
{
    crash_hex_groups(hashes, n, wk, false, h);
}

__attribute__((target("sha,sse4.1"), noinline)) static void crash_hex_2(
    const char (*hashes)[PB_FAIR_HASH_HEX_LEN + 1], size_t n, const __m128i wk[2][16], uint32_t *h)
{
    crash_hex_groups(hashes, n, wk, true, h);
}

/* The crash game's point from game hashes given as hex (a chain's), the
 * salt as one or two padded blocks. */
__attribute__((target("sha,sse4.1"))) void pb_fair_crash_hex_h_shani(
    const char (*hashes)[PB_FAIR_HASH_HEX_LEN + 1], size_t n, const uint8_t (*salt)[64],
    int salt_blocks, uint32_t *h)
{
    __m128i wk[2][16];
    for (int b = 0; b < salt_blocks; b++)
        shani_salt_wk(salt[b], wk[b]);
    (salt_blocks == 2 ? crash_hex_2 : crash_hex_1)(hashes, n, (const __m128i(*)[16])wk, h);
}

/* A crash chain's steps: SHA-256 of a hash's 64 hex characters, as hex —
 * the hex's block (its words built from the digest in registers,
 * shani_hex_words) and the padding block, constant (its W + K once). One
 * chain is latency-bound: each step needs the one before. */
__attribute__((target("sha,sse4.1"))) void pb_fair_chain_shani(
    const char *from, size_t steps, char (*out)[PB_FAIR_HASH_HEX_LEN + 1], bool every)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    const __m128i lut = _mm_setr_epi8('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b',
                                      'c', 'd', 'e', 'f');
    uint8_t pad[64] = {0x80};
    pad[62] = 0x02; /* 512 bits */
    __m128i wk[16], w[1][4], iv0, iv1;
    shani_salt_wk(pad, wk);
    shani_load(pb_fair_sha256_iv, &iv0, &iv1);
    shani_words((const uint8_t *)from, w[0]);
    for (size_t i = 0; i < steps; i++) {
        __m128i s0[1] = {iv0}, s1[1] = {iv1}, abcd, efgh;
        shani_rounds(1, 1, s0, s1, w, NULL);
        shani_rounds(1, 0, s0, s1, NULL, wk);
        shani_unpack(s0[0], s1[0], &abcd, &efgh);
        shani_hex_words(abcd, efgh, lut, w[0]);
        if (every || i + 1 == steps) {
            char *o = out[every ? i : 0];
            for (int j = 0; j < 4; j++)
                _mm_storeu_si128((__m128i *)(o + 16 * j), _mm_shuffle_epi8(w[0][j], bswap));
            o[PB_FAIR_HASH_HEX_LEN] = '\0';
        }
    }
}

/* ---- AVX-512: sixteen independent HMACs at once ------------------------
 * The bulk path of pb_fair_stream_prime (sim rtp, bench): one 32-bit lane per
 * message in 512-bit registers, SHA-256's rounds written with vprord and
 * vpternlogd (Ch = 0xCA, Maj = 0xE8, three-way xor = 0x96). On CPUs without
 * the SHA extensions' throughput to spare this is the fastest way to hash
 * many short messages; the result is bit-for-bit the same (tested). A
 * compression is ~1,600 vector operations for 16 lanes, two per cycle at
 * best: about 50 cycles per lane, an HMAC (inner + outer) about 100. Tried
 * and dropped: the 64 rounds written out with the state words renamed
 * instead of moved (no faster in bench fair: the ports, not the moves, bound
 * it). Also tried and dropped (2026-11-22): folding what the padding makes
 * constant (an inner block of 4 words: 88 of the 1,616 operations; the
 * outer block: 66) into a written-out kernel, one instance per block shape —
 * 95.0 against 95.3 TSC cycles per HMAC-lane alone, alternating in one
 * process, and no faster in pb_game_simulate (the same folding with the
 * schedule computed apart into 64 words in memory and the rounds rolled:
 * 3-6% slower); and playing the previous batch's
 * rounds from a hook every 8 rounds of the kernel, so that the game's scalar
 * work would run beside the vector instructions — no faster either. Removing
 * the message schedule (wrong, as a probe) saves 22%: the cost follows the
 * operations of the rounds and the schedule as a whole. SHA-NI pairs measure
 * 191-198 TSC cycles per HMAC here against 95-100 per lane of this kernel —
 * pairs with the rounds' loop rolled, as they were then; unrolled
 * (shani_rounds), 115-123 against 167-207 rolled on the Zen 3 machine without
 * AVX-512 (2026-11-22 20:54 UTC, pb_fair_hmac2_shani alone). */
#define X16_INLINE __attribute__((target("avx512f"), always_inline)) static inline
#define X16BW_INLINE __attribute__((target("avx512f,avx512bw"), always_inline)) static inline

X16_INLINE __m512i x16_xor3(__m512i a, __m512i b, __m512i c)
{
    return _mm512_ternarylogic_epi32(a, b, c, 0x96);
}

/* One compression of 16 lanes: st[8] (state words, lane per message) absorbs
 * the 16 message words w (lane per message); feed-forward included. */
__attribute__((target("avx512f"))) static void sha256_x16(__m512i st[8], const __m512i w_in[16])
{
    __m512i w[16];
    for (int i = 0; i < 16; i++)
        w[i] = w_in[i];
    __m512i a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
    for (int t = 0; t < 64; t++) {
        __m512i wt;
        if (t < 16) {
            wt = w[t];
        } else {
            __m512i w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
            __m512i s0 = x16_xor3(_mm512_ror_epi32(w15, 7), _mm512_ror_epi32(w15, 18),
                                  _mm512_srli_epi32(w15, 3));
            __m512i s1 = x16_xor3(_mm512_ror_epi32(w2, 17), _mm512_ror_epi32(w2, 19),
                                  _mm512_srli_epi32(w2, 10));
            wt = w[t & 15] = _mm512_add_epi32(_mm512_add_epi32(w[t & 15], s0),
                                              _mm512_add_epi32(w[(t - 7) & 15], s1));
        }
        __m512i S1 = x16_xor3(_mm512_ror_epi32(e, 6), _mm512_ror_epi32(e, 11),
                              _mm512_ror_epi32(e, 25));
        __m512i t1 = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(h, S1),
                                                       _mm512_ternarylogic_epi32(e, f, g, 0xCA)),
                                      _mm512_add_epi32(_mm512_set1_epi32((int)sha256_k[t]), wt));
        __m512i S0 = x16_xor3(_mm512_ror_epi32(a, 2), _mm512_ror_epi32(a, 13),
                              _mm512_ror_epi32(a, 22));
        __m512i t2 = _mm512_add_epi32(S0, _mm512_ternarylogic_epi32(a, b, c, 0xE8));
        h = g;
        g = f;
        f = e;
        e = _mm512_add_epi32(d, t1);
        d = c;
        c = b;
        b = a;
        a = _mm512_add_epi32(t1, t2);
    }
    st[0] = _mm512_add_epi32(st[0], a);
    st[1] = _mm512_add_epi32(st[1], b);
    st[2] = _mm512_add_epi32(st[2], c);
    st[3] = _mm512_add_epi32(st[3], d);
    st[4] = _mm512_add_epi32(st[4], e);
    st[5] = _mm512_add_epi32(st[5], f);
    st[6] = _mm512_add_epi32(st[6], g);
    st[7] = _mm512_add_epi32(st[7], h);
}

/* Transposes the 16 × 16 words r[row][column] in place into r[column][row]:
 * 32-bit, 64-bit and twice 128-bit interleaves, 64 shuffles. */
X16_INLINE void x16_transpose(__m512i r[16])
{
    __m512i t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    /* u[4g + m], 128-bit lane k: rows 4g..4g+3 of column 4k + m */
    for (int g = 0; g < 16; g += 4) {
        u[g] = _mm512_unpacklo_epi64(t[g], t[g + 2]);
        u[g + 1] = _mm512_unpackhi_epi64(t[g], t[g + 2]);
        u[g + 2] = _mm512_unpacklo_epi64(t[g + 1], t[g + 3]);
        u[g + 3] = _mm512_unpackhi_epi64(t[g + 1], t[g + 3]);
    }
    for (int m = 0; m < 4; m++) {
        __m512i x0 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0x88);
        __m512i x1 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0xdd);
        __m512i y0 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0x88);
        __m512i y1 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0xdd);
        r[m] = _mm512_shuffle_i32x4(x0, y0, 0x88);
        r[4 + m] = _mm512_shuffle_i32x4(x1, y1, 0x88);
        r[8 + m] = _mm512_shuffle_i32x4(x0, y0, 0xdd);
        r[12 + m] = _mm512_shuffle_i32x4(x1, y1, 0xdd);
    }
}

/* Whether the sixteen lanes share one key (a simulation's batch). */
X16_INLINE bool x16_same_key(const pb_fair_key *const keys[16])
{
    bool same = true;
    for (int l = 1; l < 16; l++)
        same = same && keys[l] == keys[0];
    return same;
}

/* A chaining state of 16 lanes: word i of every lane's state in st[i]
 * (one broadcast when every lane has the same key). */
X16_INLINE void x16_state(__m512i st[8], const pb_fair_key *const keys[16], bool same, bool outer)
{
    if (same) {
        for (int i = 0; i < 8; i++)
            st[i] = _mm512_set1_epi32((int)(outer ? keys[0]->outer : keys[0]->inner)[i]);
        return;
    }
    uint32_t tmp[8][16] __attribute__((aligned(64)));
    for (int i = 0; i < 8; i++) {
        for (int l = 0; l < 16; l++)
            tmp[i][l] = (outer ? keys[l]->outer : keys[l]->inner)[i];
        st[i] = _mm512_load_si512(tmp[i]);
    }
}

/* Stores the digests: st[i] holds word i of every lane; lane l's eight
 * words, big-endian, go to out[l]. An 8 × 16 transpose: 32- and 64-bit
 * interleaves leave, in each 128-bit lane k of u[m] (rows 0..3) and v[m]
 * (rows 4..7), column 4k + m; two 128-bit shuffles pair them up, columns m
 * and 4 + m (or 8 + m and 12 + m) in the two halves — 40 shuffles where the
 * square transpose took 64. */
X16BW_INLINE void x16_store_digests(const __m512i st[8], uint8_t *const out[16])
{
    const __m512i bswap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    __m512i t[8], lo[4], hi[4];
    for (int i = 0; i < 8; i++)
        t[i] = _mm512_shuffle_epi8(st[i], bswap);
    for (int i = 0; i < 4; i++) {
        lo[i] = _mm512_unpacklo_epi32(t[2 * i], t[2 * i + 1]);
        hi[i] = _mm512_unpackhi_epi32(t[2 * i], t[2 * i + 1]);
    }
    __m512i u[4] = {_mm512_unpacklo_epi64(lo[0], lo[1]), _mm512_unpackhi_epi64(lo[0], lo[1]),
                    _mm512_unpacklo_epi64(hi[0], hi[1]), _mm512_unpackhi_epi64(hi[0], hi[1])};
    __m512i v[4] = {_mm512_unpacklo_epi64(lo[2], lo[3]), _mm512_unpackhi_epi64(lo[2], lo[3]),
                    _mm512_unpacklo_epi64(hi[2], hi[3]), _mm512_unpackhi_epi64(hi[2], hi[3])};
    for (int m = 0; m < 4; m++) {
        __m512i x = _mm512_shuffle_i32x4(u[m], v[m], 0x44); /* u.0 u.1 v.0 v.1 */
        __m512i y = _mm512_shuffle_i32x4(u[m], v[m], 0xee); /* u.2 u.3 v.2 v.3 */
        x = _mm512_shuffle_i32x4(x, x, 0xd8);               /* u.0 v.0 u.1 v.1 */
        y = _mm512_shuffle_i32x4(y, y, 0xd8);               /* u.2 v.2 u.3 v.3 */
        _mm256_storeu_si256((__m256i *)out[m], _mm512_castsi512_si256(x));
        _mm256_storeu_si256((__m256i *)out[4 + m], _mm512_extracti64x4_epi64(x, 1));
        _mm256_storeu_si256((__m256i *)out[8 + m], _mm512_castsi512_si256(y));
        _mm256_storeu_si256((__m256i *)out[12 + m], _mm512_extracti64x4_epi64(y, 1));
    }
}

/* Sixteen HMACs whose inner message is one padded block each: blocks[l] with
 * key keys[l] into out[l]. The blocks are loaded as rows, byte-swapped to
 * big-endian words and transposed to a lane per message; the outer message
 * words are the inner state vectors themselves, then the constant padding;
 * the digests go back to each lane's 32 bytes (x16_store_digests). */
X16BW_TARGET void pb_fair_hmac_x16(const pb_fair_key *const keys[16], const uint8_t (*blocks)[64],
                                   uint8_t *const out[16])
{
    const __m512i bswap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    __m512i st[8], w[16];
    bool same = x16_same_key(keys);
    x16_state(st, keys, same, false);
    for (int l = 0; l < 16; l++)
        w[l] = _mm512_shuffle_epi8(_mm512_loadu_si512(blocks[l]), bswap);
    x16_transpose(w);
    sha256_x16(st, w);
    for (int i = 0; i < 8; i++)
        w[i] = st[i];
    w[8] = _mm512_set1_epi32((int)0x80000000u);
    for (int i = 9; i < 15; i++)
        w[i] = _mm512_setzero_si512();
    w[15] = _mm512_set1_epi32(768);
    x16_state(st, keys, same, true);
    sha256_x16(st, w);
    x16_store_digests(st, out);
}

/* pb_fair_hmac_x16 of `rounds` messages per lane that differ in one digit,
 * every lane under one key: lane l's message of round r is blocks[l] with r
 * added to byte at[l] (its round digit; the caller keeps digit + r ≤ '9',
 * so nothing carries) — in the words, r << 8·(3 − at[l] mod 4) added to
 * word at[l] / 4 of lane l. The blocks are loaded, swapped and transposed
 * once for all the rounds; lane l's round r goes to out[16·r + l]. */
X16BW_TARGET void pb_fair_hmac_x16_digits(const pb_fair_key *key, const uint8_t (*blocks)[64],
                                          const uint32_t at[16], unsigned rounds,
                                          uint8_t *const *out)
{
    const __m512i bswap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    __m512i w[16], inner[8], outer[8], inc[16];
    for (int l = 0; l < 16; l++)
        w[l] = _mm512_shuffle_epi8(_mm512_loadu_si512(blocks[l]), bswap);
    x16_transpose(w);
    for (int i = 0; i < 8; i++) {
        inner[i] = _mm512_set1_epi32((int)key->inner[i]);
        outer[i] = _mm512_set1_epi32((int)key->outer[i]);
    }
    /* per word, the lanes whose digit it holds get their digit's 1 */
    __m512i a = _mm512_loadu_si512(at), word = _mm512_srli_epi32(a, 2);
    __m512i one = _mm512_sllv_epi32(
        _mm512_set1_epi32(1),
        _mm512_slli_epi32(_mm512_sub_epi32(_mm512_set1_epi32(3),
                                           _mm512_and_si512(a, _mm512_set1_epi32(3))),
                          3));
    unsigned lo = 16, hi = 0;
    for (unsigned i = 0; i < 16; i++) {
        __mmask16 m = _mm512_cmpeq_epi32_mask(word, _mm512_set1_epi32((int)i));
        inc[i] = _mm512_maskz_mov_epi32(m, one);
        if (m) {
            lo = i < lo ? i : lo;
            hi = i;
        }
    }
    for (unsigned r = 0; r < rounds; r++) {
        __m512i st[8], ow[16];
        for (int i = 0; i < 8; i++)
            st[i] = inner[i];
        sha256_x16(st, w);
        for (int i = 0; i < 8; i++) {
            ow[i] = st[i];
            st[i] = outer[i];
        }
        ow[8] = _mm512_set1_epi32((int)0x80000000u);
        for (int i = 9; i < 15; i++)
            ow[i] = _mm512_setzero_si512();
        ow[15] = _mm512_set1_epi32(768);
        sha256_x16(st, ow);
        x16_store_digests(st, out + 16 * r);
        for (unsigned i = lo; i <= hi; i++)
            w[i] = _mm512_add_epi32(w[i], inc[i]);
    }
}

/* Sixteen keys of exactly 64 bytes keyed at once (pb_fair_key_init of each):
 * the key ^ ipad and key ^ opad blocks, byte-swapped and transposed, through
 * sha256_x16 from the IV; the states go back to each key's words. */
X16BW_TARGET void pb_fair_keys_x16(const char *const keys[16], pb_fair_key *const out[16])
{
    const __m512i bswap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    uint32_t tmp[8][16] __attribute__((aligned(64)));
    for (int outer = 0; outer < 2; outer++) {
        __m512i w[16], st[8];
        const __m512i pad = _mm512_set1_epi8(outer ? 0x5c : 0x36);
        for (int l = 0; l < 16; l++)
            w[l] = _mm512_shuffle_epi8(_mm512_xor_si512(_mm512_loadu_si512(keys[l]), pad), bswap);
        x16_transpose(w);
        for (int i = 0; i < 8; i++)
            st[i] = _mm512_set1_epi32((int)pb_fair_sha256_iv[i]);
        sha256_x16(st, w);
        for (int i = 0; i < 8; i++)
            _mm512_store_si512(tmp[i], st[i]);
        for (int l = 0; l < 16; l++)
            for (int i = 0; i < 8; i++)
                (outer ? out[l]->outer : out[l]->inner)[i] = tmp[i][l];
    }
    sodium_memzero(tmp, sizeof tmp);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * With both SHA-NI and AVX-512, which hashes faster differs by CPU: on a Zen 4
 * (AVX-512 on 256-bit units) the SHA-NI pairs did crash 8.6M outcomes/s per core
 * against 4.2M through the sixteen lanes, dice 17.5M against 13.9M; the lanes were
 * written for a Xeon. So the first use times 1,024 HMACs each way, five times over
 * alternately, and keeps the lanes only when their best time is the lower (about
 * a millisecond, once per process). Both give the same bytes.
 */
bool pb_fair_lanes_faster(void)
{
    enum { LANES_ = 16, REPS = 5, ROUNDS = 64 };
    pb_fair_key keys[LANES_];
    uint8_t blocks[LANES_][64] __attribute__((aligned(64))), out[LANES_][32];
    const pb_fair_key *kp[LANES_];
    uint8_t *op[LANES_];
    for (int l = 0; l < LANES_; l++) {
        char key[64];
        memset(key, 'a' + l, sizeof key);
        pb_fair_key_init(&keys[l], key, sizeof key);
        memset(blocks[l], l, 64);
        kp[l] = &keys[l];
        op[l] = out[l];
    }
    int64_t lanes_best = INT64_MAX, pairs_best = INT64_MAX;
    for (int r = 0; r < REPS; r++) {
        int64_t t0 = mono_ns();
        for (int i = 0; i < ROUNDS; i++)
            pb_fair_hmac_x16(kp, (const uint8_t(*)[64])blocks, op);
        int64_t t1 = mono_ns();
        for (int i = 0; i < ROUNDS; i++)
            for (int l = 0; l < LANES_; l += 2)
                pb_fair_hmac2_shani(kp[l], blocks[l], kp[l + 1], blocks[l + 1], out[l], out[l + 1]);
        int64_t t2 = mono_ns();
        if (t1 - t0 < lanes_best)
            lanes_best = t1 - t0;
        if (t2 - t1 < pairs_best)
            pairs_best = t2 - t1;
    }
    return lanes_best < pairs_best;
}

#endif
