/*
 * fair.c — the provably fair engine: server seeds and their commitments,
 * client seeds, and the HMAC-SHA256 byte stream every game draws from.
 *
 * Speed: a round is one HMAC of a short message. The key (the server seed) is
 * fixed for a whole seed pair, so pb_fair_key_init compresses the key's ipad and
 * opad blocks once and keeps the two SHA-256 chaining states; each message then
 * costs its own padded block(s) plus one outer block, run through OpenSSL's
 * SHA256_Transform — the block function libcrypto dispatches to SHA-NI on CPUs
 * that have it (libsodium's SHA-256 is portable C, several times slower here).
 * We build the Merkle–Damgård padding ourselves; the known-answer tests in
 * tests/unit/games/test_fair.c check the result against `openssl dgst -hmac`.
 *
 * Bulk: a stream buffers up to PB_FAIR_STREAM_BLOCKS rounds. Batch callers
 * (sim rtp, bench fair) prime every round a game's outcome reads for sixteen
 * streams at once (pb_fair_stream_prime), and a game that learns mid-round it
 * needs more (the slot's free spins) reserves them (pb_fair_stream_reserve):
 * each round is a lane, padded in a register, and sixteen lanes at a time go
 * through hmac_x16 (AVX-512) — or pairs through SHA-NI, or libcrypto one at a
 * time, whatever the CPU has and PITBOSS_FAIR_SIMD allows. Every path gives
 * the bytes of the one-at-a-time path (tests/unit/games/test_fair.c and
 * test_batch.c run under each).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Transform: the bare block function */
#include <assert.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "games/rules.h"

static const uint32_t sha256_iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define PB_FAIR_HAVE_SHANI 1

/* The SHA extensions, from CPUID leaf 7 (EBX bit 29): __builtin_cpu_supports
 * has no "sha" before clang 16, and the fuzz build (clang 14 on Debian 12)
 * compiles this file too. */
static bool cpu_has_sha(void)
{
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
}

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

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

/* 64 rounds of two independent compressions, interleaved: one chain of
 * sha256rnds2 is latency-bound, two in flight fill the unit. w*: the 16
 * message words as 4 vectors (lane 0 first), rolled through the schedule;
 * the feed-forward is added. */
SHANI_INLINE void shani_rounds2(__m128i *a0, __m128i *a1, __m128i wa[4], __m128i *b0, __m128i *b1,
                                __m128i wb[4])
{
    const __m128i sa0 = *a0, sa1 = *a1, sb0 = *b0, sb1 = *b1;
    for (int i = 0; i < 16; i++) {
        if (i >= 4) {
            wa[i & 3] = _mm_sha256msg2_epu32(
                _mm_add_epi32(_mm_sha256msg1_epu32(wa[i & 3], wa[(i + 1) & 3]),
                              _mm_alignr_epi8(wa[(i + 3) & 3], wa[(i + 2) & 3], 4)),
                wa[(i + 3) & 3]);
            wb[i & 3] = _mm_sha256msg2_epu32(
                _mm_add_epi32(_mm_sha256msg1_epu32(wb[i & 3], wb[(i + 1) & 3]),
                              _mm_alignr_epi8(wb[(i + 3) & 3], wb[(i + 2) & 3], 4)),
                wb[(i + 3) & 3]);
        }
        __m128i k = _mm_loadu_si128((const __m128i *)&sha256_k[4 * i]);
        __m128i ma = _mm_add_epi32(wa[i & 3], k), mb = _mm_add_epi32(wb[i & 3], k);
        *a1 = _mm_sha256rnds2_epu32(*a1, *a0, ma);
        *b1 = _mm_sha256rnds2_epu32(*b1, *b0, mb);
        *a0 = _mm_sha256rnds2_epu32(*a0, *a1, _mm_shuffle_epi32(ma, 0x0E));
        *b0 = _mm_sha256rnds2_epu32(*b0, *b1, _mm_shuffle_epi32(mb, 0x0E));
    }
    *a0 = _mm_add_epi32(*a0, sa0);
    *a1 = _mm_add_epi32(*a1, sa1);
    *b0 = _mm_add_epi32(*b0, sb0);
    *b1 = _mm_add_epi32(*b1, sb1);
}

/* Two HMACs whose inner message is one padded block each (ba, bb): the
 * inner compressions together, then the outer ones, their message (the
 * inner digest and its padding) built in registers. */
__attribute__((target("sha,sse4.1"))) static void hmac2_shani(const pb_fair_key *ka,
                                                               const uint8_t ba[64],
                                                               const pb_fair_key *kb,
                                                               const uint8_t bb[64],
                                                               uint8_t outa[32], uint8_t outb[32])
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i a0, a1, b0, b1, wa[4], wb[4];
    shani_load(ka->inner, &a0, &a1);
    shani_load(kb->inner, &b0, &b1);
    for (int i = 0; i < 4; i++) {
        wa[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(ba + 16 * i)), bswap);
        wb[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(bb + 16 * i)), bswap);
    }
    shani_rounds2(&a0, &a1, wa, &b0, &b1, wb);
    /* outer block: the 32-byte digest, 0x80, zeros, the length 96 bytes = 768 bits */
    shani_unpack(a0, a1, &wa[0], &wa[1]);
    shani_unpack(b0, b1, &wb[0], &wb[1]);
    wa[2] = wb[2] = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
    wa[3] = wb[3] = _mm_set_epi32(768, 0, 0, 0);
    shani_load(ka->outer, &a0, &a1);
    shani_load(kb->outer, &b0, &b1);
    shani_rounds2(&a0, &a1, wa, &b0, &b1, wb);
    __m128i x, y;
    shani_unpack(a0, a1, &x, &y);
    _mm_storeu_si128((__m128i *)outa, _mm_shuffle_epi8(x, bswap));
    _mm_storeu_si128((__m128i *)(outa + 16), _mm_shuffle_epi8(y, bswap));
    shani_unpack(b0, b1, &x, &y);
    _mm_storeu_si128((__m128i *)outb, _mm_shuffle_epi8(x, bswap));
    _mm_storeu_si128((__m128i *)(outb + 16), _mm_shuffle_epi8(y, bswap));
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
 * it). */
#define X16_INLINE __attribute__((target("avx512f"), always_inline)) static inline

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
    __m512i a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6],
            h = st[7];
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
        __m512i t1 = _mm512_add_epi32(
            _mm512_add_epi32(_mm512_add_epi32(h, S1), _mm512_ternarylogic_epi32(e, f, g, 0xCA)),
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

#define X16BW_TARGET __attribute__((target("avx512f,avx512bw")))

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

/* A chaining state of 16 lanes: word i of every lane's state in st[i]
 * (one broadcast when every lane has the same key). */
X16_INLINE void x16_state(__m512i st[8], const pb_fair_key *const keys[16], bool outer)
{
    bool same = true;
    for (int l = 1; l < 16; l++)
        same = same && keys[l] == keys[0];
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

/* Sixteen HMACs whose inner message is one padded block each: blocks[l] with
 * key keys[l] into out[l]. The blocks are loaded as rows, byte-swapped to
 * big-endian words and transposed to a lane per message; the outer message
 * words are the inner state vectors themselves, then the constant padding;
 * the digests are transposed back and stored 32 bytes per lane. */
X16BW_TARGET static void hmac_x16(const pb_fair_key *const keys[16], const uint8_t (*blocks)[64],
                                  uint8_t *const out[16])
{
    const __m512i bswap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    __m512i st[8], w[16];
    x16_state(st, keys, false);
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
    x16_state(st, keys, true);
    sha256_x16(st, w);
    for (int i = 0; i < 8; i++)
        w[i] = _mm512_shuffle_epi8(st[i], bswap);
    for (int i = 8; i < 16; i++)
        w[i] = _mm512_setzero_si512();
    x16_transpose(w);
    for (int l = 0; l < 16; l++)
        _mm256_storeu_si256((__m256i *)out[l], _mm512_castsi512_si256(w[l]));
}

/* The padded inner block of one lane, built in a register: the prefix
 * (plen bytes, a masked load that leaves the rest zero), the round's nd
 * digits, 0x80 and the bit length (64 + len bytes) in bytes 62..63 (len ≤ 55);
 * one 64-byte store, which hmac_x16's load then reads whole. */
X16BW_TARGET static void lane_block_x16(uint8_t block[64], const char *prefix, size_t plen,
                                        const char *digits, size_t nd)
{
    __m512i v = _mm512_maskz_loadu_epi8(((__mmask64)1 << plen) - 1, prefix);
    for (size_t i = 0; i < nd; i++)
        v = _mm512_mask_set1_epi8(v, (__mmask64)1 << (plen + i), digits[i]);
    size_t len = plen + nd;
    uint32_t bits = (uint32_t)(64 + len) * 8;
    v = _mm512_mask_set1_epi8(v, (__mmask64)1 << len, (char)0x80);
    v = _mm512_mask_set1_epi8(v, (__mmask64)1 << 62, (char)(bits >> 8));
    v = _mm512_mask_set1_epi8(v, (__mmask64)1 << 63, (char)bits);
    _mm512_storeu_si512(block, v);
}

/* Sixteen keys of exactly 64 bytes keyed at once (pb_fair_key_init of each):
 * the key ^ ipad and key ^ opad blocks, byte-swapped and transposed, through
 * sha256_x16 from the IV; the states go back to each key's words. */
X16BW_TARGET static void keys_x16(const char *const keys[16], pb_fair_key *const out[16])
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
            st[i] = _mm512_set1_epi32((int)sha256_iv[i]);
        sha256_x16(st, w);
        for (int i = 0; i < 8; i++)
            _mm512_store_si512(tmp[i], st[i]);
        for (int l = 0; l < 16; l++)
            for (int i = 0; i < 8; i++)
                (outer ? out[l]->outer : out[l]->inner)[i] = tmp[i][l];
    }
    sodium_memzero(tmp, sizeof tmp);
}
#endif

/* One SHA-256 compression of a 64-byte block into state, through libcrypto
 * (SHA-NI or AVX2 inside, dispatched by OpenSSL). */
static inline void compress(uint32_t state[8], const uint8_t block[64])
{
    SHA256_CTX c;
    memcpy(c.h, state, 32);
    SHA256_Transform(&c, block);
    memcpy(state, c.h, 32);
}

/* The fast paths this CPU has: bit 1 the SHA extensions (two HMACs
 * interleaved), bit 2 AVX-512F and BW (sixteen at once), bit 4 BMI2 (keno's
 * and mines' draws select the n-th free number with pdep); -1 until detected.
 * PITBOSS_FAIR_SIMD=<mask> keeps only those bits (0: libcrypto one block at a
 * time, portable draws) — the tests run every path and compare the results. */
static int simd_paths = -1;

static int detect_simd(void)
{
    int have = 0;
#ifdef PB_FAIR_HAVE_SHANI
    __builtin_cpu_init();
    if (cpu_has_sha() && __builtin_cpu_supports("sse4.1"))
        have |= 1;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        have |= 2;
    if (__builtin_cpu_supports("bmi2"))
        have |= 4;
#endif
    const char *mask = getenv("PITBOSS_FAIR_SIMD");
    if (mask && *mask)
        have &= atoi(mask);
    return have;
}

static inline int simd(void)
{
    int u = __atomic_load_n(&simd_paths, __ATOMIC_RELAXED);
    if (u < 0) {
        u = detect_simd();
        __atomic_store_n(&simd_paths, u, __ATOMIC_RELAXED);
    }
    return u;
}

bool pb_games_have_bmi2(void)
{
    return simd() & 4;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
/* Finishes a hash whose state has absorbed `before` bytes (a multiple of 64)
 * with msg[0..len) and the padding, writing the 32-byte digest. */
static void finish(uint32_t state[8], uint64_t before, const uint8_t *msg, size_t len,
                   uint8_t out[32])
{
    uint64_t bits = (before + len) * 8;
    while (len >= 64) {
        compress(state, msg);
        msg += 64;
        len -= 64;
    }
    uint8_t block[128];
    memcpy(block, msg, len);
    block[len] = 0x80;
    size_t total = len + 1 + 8 <= 64 ? 64 : 128;
    memset(block + len + 1, 0, total - len - 1 - 8);
    for (int i = 0; i < 8; i++)
        block[total - 1 - i] = (uint8_t)(bits >> (8 * i));
    compress(state, block);
    if (total == 128)
        compress(state, block + 64);
    for (int i = 0; i < 8; i++)
        put_be32(out + 4 * i, state[i]);
}

void pb_fair_server_seed_new(char out[PB_FAIR_SEED_HEX_LEN + 1])
{
    uint8_t raw[32];
    if (sodium_init() < 0)
        abort(); /* no CSPRNG: never hand out a guessable seed */
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, PB_FAIR_SEED_HEX_LEN + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

bool pb_fair_hex64_valid(const char *s)
{
    if (!s)
        return false;
    for (int i = 0; i < PB_FAIR_SEED_HEX_LEN; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return s[PB_FAIR_SEED_HEX_LEN] == '\0';
}

bool pb_fair_client_seed_valid(const char *s)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= PB_FAIR_CLIENT_SEED_MAX || c < 0x21 || c > 0x7e || c == ':')
            return false;
    }
    return true;
}

void pb_fair_sha256_hex(const char *seed, size_t len, char out[PB_FAIR_HASH_HEX_LEN + 1])
{
    uint32_t st[8];
    uint8_t d[32];
    memcpy(st, sha256_iv, sizeof st);
    finish(st, 0, (const uint8_t *)seed, len, d);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

bool pb_fair_commitment_matches(const char *server_seed, const char *commitment)
{
    if (!server_seed || !pb_fair_hex64_valid(commitment))
        return false;
    char h[PB_FAIR_HASH_HEX_LEN + 1];
    pb_fair_sha256_hex(server_seed, strlen(server_seed), h);
    return sodium_memcmp(h, commitment, PB_FAIR_HASH_HEX_LEN) == 0;
}

void pb_fair_key_init(pb_fair_key *k, const char *key, size_t len)
{
    uint8_t kb[64] = {0};
    if (len > 64) {
        uint32_t st[8];
        memcpy(st, sha256_iv, sizeof st);
        finish(st, 0, (const uint8_t *)key, len, kb);
    } else {
        memcpy(kb, key, len);
    }
    uint8_t pad[64];
    for (int i = 0; i < 64; i++)
        pad[i] = kb[i] ^ 0x36;
    memcpy(k->inner, sha256_iv, sizeof k->inner);
    compress(k->inner, pad);
    for (int i = 0; i < 64; i++)
        pad[i] = kb[i] ^ 0x5c;
    memcpy(k->outer, sha256_iv, sizeof k->outer);
    compress(k->outer, pad);
    sodium_memzero(kb, sizeof kb);
    sodium_memzero(pad, sizeof pad);
}

void pb_fair_hmac(const pb_fair_key *k, const void *msg, size_t len, uint8_t out[32])
{
    uint32_t st[8];
    uint8_t inner[32];
    memcpy(st, k->inner, sizeof st);
    finish(st, 64, msg, len, inner);
    /* outer: one block, the inner digest then its padding (length 64 + 32 bytes) */
    uint8_t block[64];
    memcpy(block, inner, 32);
    block[32] = 0x80;
    memset(block + 33, 0, 64 - 33 - 2);
    block[62] = (uint8_t)((96 * 8) >> 8);
    block[63] = (uint8_t)(96 * 8);
    memcpy(st, k->outer, sizeof st);
    compress(st, block);
    for (int i = 0; i < 8; i++)
        put_be32(out + 4 * i, st[i]);
}

/* Writes v in decimal at p; returns the number of digits. */
static size_t put_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* Writes "<client>:<nonce>:" into msg; returns its length. */
static size_t put_prefix(char *msg, const char *client, size_t client_len, uint64_t nonce)
{
    assert(client_len <= PB_FAIR_CLIENT_SEED_MAX);
    memcpy(msg, client, client_len);
    size_t n = client_len;
    msg[n++] = ':';
    n += put_u64(msg + n, nonce);
    msg[n++] = ':';
    return n;
}

void pb_fair_block(const pb_fair_key *k, const char *client, size_t client_len, uint64_t nonce,
                   uint32_t round, uint8_t out[32])
{
    char msg[PB_FAIR_MSG_MAX];
    size_t n = put_prefix(msg, client, client_len, nonce);
    n += put_u64(msg + n, round);
    pb_fair_hmac(k, msg, n, out);
}

/* Marks s as holding no unread bytes, its next round `round`. */
static inline void restart(pb_fair_stream *s)
{
    s->round = 0;
    s->pos = 0;
    s->len = 0;
}

void pb_fair_stream_init(pb_fair_stream *s, const pb_fair_key *k, const char *client,
                         uint64_t nonce)
{
    s->key = k;
    s->nonce = nonce;
    s->client_len = (uint32_t)strlen(client);
    s->prefix_len = (uint32_t)put_prefix(s->msg, client, s->client_len, nonce);
    restart(s);
}

void pb_fair_stream_set_nonce(pb_fair_stream *s, uint64_t nonce)
{
    uint64_t step = nonce - s->nonce;
    if (nonce < s->nonce || step > 1000000) { /* far away: write it anew */
        char client[PB_FAIR_CLIENT_SEED_MAX];
        memcpy(client, s->msg, s->client_len);
        s->prefix_len = (uint32_t)put_prefix(s->msg, client, s->client_len, nonce);
    } else {
        /* the digits are msg[client_len + 1 .. prefix_len − 1); add from the
         * last one, carrying; nonce ≤ UINT64_MAX, so the sum is its decimal */
        char *first = s->msg + s->client_len + 1;
        char *d = s->msg + s->prefix_len - 2;
        uint32_t add = (uint32_t)step;
        while (add) {
            if (d < first) { /* a carry out of the first digit: one digit more */
                size_t ndig = (size_t)(s->msg + s->prefix_len - 1 - first);
                memmove(first + 1, first, ndig);
                *first = '0';
                s->prefix_len++;
                s->msg[s->prefix_len - 1] = ':';
                d = first;
            }
            uint32_t v = (uint32_t)(*d - '0') + add;
            add = v / 10;
            *d-- = (char)('0' + v % 10);
        }
    }
    s->nonce = nonce;
    restart(s);
}

/* Writes the message of round r of s into msg (s's prefix, then r); returns its length. */
static inline size_t round_msg(const pb_fair_stream *s, uint32_t r, char *msg)
{
    memcpy(msg, s->msg, s->prefix_len);
    return s->prefix_len + put_u64(msg + s->prefix_len, r);
}

void pb_fair_stream_refill(pb_fair_stream *s)
{
    char msg[PB_FAIR_MSG_MAX];
    pb_fair_hmac(s->key, msg, round_msg(s, s->round, msg), s->buf);
    s->round++;
    s->pos = 0;
    s->len = 32;
}

/* The one-block padding of a message of len ≤ 55 bytes after a 64-byte key block. */
static void pad_one(uint8_t block[64], const void *msg, size_t len)
{
    uint64_t bits = (64 + len) * 8;
    memcpy(block, msg, len);
    block[len] = 0x80;
    memset(block + len + 1, 0, 64 - len - 1 - 8);
    for (int i = 0; i < 8; i++)
        block[63 - i] = (uint8_t)(bits >> (8 * i));
}

/* The HMAC of a message whose inner part is the one padded block `block`. */
static void hmac_padded(const pb_fair_key *k, const uint8_t block[64], uint8_t out[32])
{
    uint32_t st[8];
    uint8_t outer[64] = {0};
    memcpy(st, k->inner, sizeof st);
    compress(st, block);
    for (int i = 0; i < 8; i++)
        put_be32(outer + 4 * i, st[i]);
    outer[32] = 0x80;
    outer[62] = (uint8_t)((96 * 8) >> 8);
    outer[63] = (uint8_t)(96 * 8);
    memcpy(st, k->outer, sizeof st);
    compress(st, outer);
    for (int i = 0; i < 8; i++)
        put_be32(out + 4 * i, st[i]);
}

/* Lanes of pb_fair_stream_prime: one HMAC each, its message already padded
 * into one block, its output pointer into a stream's buffer. */
enum { LANES = 16 };
typedef struct lanes {
    size_t n;
    const pb_fair_key *keys[LANES];
    uint8_t blocks[LANES][64] __attribute__((aligned(64)));
    uint8_t *out[LANES];
} lanes;

/* Computes the n queued lanes: sixteen through hmac_x16 (a short group
 * repeats lane 0 into scratch, when at least 4 are queued), else pairs with
 * SHA-NI, else one at a time; empties the queue. */
static void flush(lanes *q, int paths)
{
    size_t k = q->n, j = 0;
    q->n = 0;
#ifdef PB_FAIR_HAVE_SHANI
    if ((paths & 2) && k >= 4) {
        uint8_t scratch[LANES][32];
        for (size_t l = k; l < LANES; l++) {
            q->keys[l] = q->keys[0];
            memcpy(q->blocks[l], q->blocks[0], 64);
            q->out[l] = scratch[l];
        }
        hmac_x16(q->keys, (const uint8_t(*)[64])q->blocks, q->out);
        return;
    }
    for (; (paths & 1) && j + 1 < k; j += 2)
        hmac2_shani(q->keys[j], q->blocks[j], q->keys[j + 1], q->blocks[j + 1], q->out[j],
                    q->out[j + 1]);
#else
    (void)paths;
#endif
    for (; j < k; j++)
        hmac_padded(q->keys[j], q->blocks[j], q->out[j]);
}

#ifdef PB_FAIR_HAVE_SHANI
/* queue_rounds for rounds 0..9 (one digit) of a prefix of at most 54 bytes
 * on the x16 path: the padded block is built once, each lane only writes its
 * digit into a copy. */
X16BW_TARGET static void queue_short_x16(lanes *q, pb_fair_stream *x, unsigned k, uint8_t *dst,
                                         int paths)
{
    size_t plen = x->prefix_len;
    uint32_t bits = (uint32_t)(64 + plen + 1) * 8;
    __m512i base = _mm512_maskz_loadu_epi8(((__mmask64)1 << plen) - 1, x->msg);
    base = _mm512_mask_set1_epi8(base, (__mmask64)1 << (plen + 1), (char)0x80);
    base = _mm512_mask_set1_epi8(base, (__mmask64)1 << 62, (char)(bits >> 8));
    base = _mm512_mask_set1_epi8(base, (__mmask64)1 << 63, (char)bits);
    for (unsigned b = 0; b < k; b++) {
        __m512i v = _mm512_mask_set1_epi8(base, (__mmask64)1 << plen, (char)('0' + x->round + b));
        _mm512_store_si512(q->blocks[q->n], v);
        q->keys[q->n] = x->key;
        q->out[q->n] = dst + 32 * b;
        if (++q->n == LANES)
            flush(q, paths);
    }
    x->round += k;
}
#endif

/* Queues rounds x->round .. x->round + k − 1 of x, their outputs at
 * dst[0..k) (32 bytes each), and advances x->round; a message too long for
 * one block is computed at once, alone. */
static void queue_rounds(lanes *q, pb_fair_stream *x, unsigned k, uint8_t *dst, int paths)
{
#ifdef PB_FAIR_HAVE_SHANI
    if ((paths & 2) && x->round + k <= 10 && x->prefix_len + 1 <= 55) {
        queue_short_x16(q, x, k, dst, paths);
        return;
    }
#endif
    for (unsigned b = 0; b < k; b++) {
        char digits[20];
        size_t nd = put_u64(digits, x->round + b), len = x->prefix_len + nd;
        if (len > 55) { /* two blocks: one at a time */
            char msg[PB_FAIR_MSG_MAX];
            pb_fair_hmac(x->key, msg, round_msg(x, x->round + b, msg), dst + 32 * b);
            continue;
        }
        q->keys[q->n] = x->key;
        q->out[q->n] = dst + 32 * b;
#ifdef PB_FAIR_HAVE_SHANI
        if (paths & 2) {
            lane_block_x16(q->blocks[q->n], x->msg, x->prefix_len, digits, nd);
            if (++q->n == LANES)
                flush(q, paths);
            continue;
        }
#endif
        char msg[PB_FAIR_MSG_MAX];
        memcpy(msg, x->msg, x->prefix_len);
        memcpy(msg + x->prefix_len, digits, nd);
        pad_one(q->blocks[q->n], msg, len);
        if (++q->n == LANES)
            flush(q, paths);
    }
    x->round += k;
}

void pb_fair_stream_prime(pb_fair_stream *s, size_t n, unsigned blocks)
{
    assert(blocks >= 1 && blocks <= PB_FAIR_STREAM_BLOCKS);
    lanes q;
    q.n = 0;
    int paths = simd();
    for (size_t i = 0; i < n; i++) {
        pb_fair_stream *x = &s[i];
        if (x->pos < x->len)
            continue;
        queue_rounds(&q, x, blocks, x->buf, paths);
        x->pos = 0;
        x->len = 32 * blocks;
    }
    flush(&q, paths);
}

void pb_fair_stream_reserve(pb_fair_stream *s, unsigned floats)
{
    unsigned have = s->pos < s->len ? (s->len - s->pos) / 4 : 0;
    if (have >= floats)
        return;
    if (s->pos) { /* the unread bytes to the front */
        memmove(s->buf, s->buf + s->pos, 4 * (size_t)have);
        s->pos = 0;
        s->len = 4 * have;
    }
    unsigned need = (floats - have + 7) / 8, room = (unsigned)(sizeof s->buf - s->len) / 32;
    unsigned k = need < room ? need : room;
    lanes q;
    q.n = 0;
    int paths = simd();
    queue_rounds(&q, s, k, s->buf + s->len, paths);
    flush(&q, paths);
    s->len += 32 * k;
}

void pb_fair_key_init_many(pb_fair_key *k, const char *const *keys, size_t n)
{
    size_t i = 0;
#ifdef PB_FAIR_HAVE_SHANI
    if (simd() & 2)
        for (; i < n && n - i >= 4; i += 16) { /* a short group repeats its first key */
            const char *kl[16];
            pb_fair_key *ol[16], scratch[16];
            for (size_t l = 0; l < 16; l++) {
                kl[l] = keys[i + (i + l < n ? l : 0)];
                ol[l] = i + l < n ? &k[i + l] : &scratch[l];
            }
            keys_x16(kl, ol);
        }
#endif
    for (; i < n; i++)
        pb_fair_key_init(&k[i], keys[i], 64);
}

void pb_fair_hmac_many(const pb_fair_key *k, size_t n, const void *msg, size_t len,
                       uint8_t (*out)[32])
{
    if (len > 55) { /* two blocks: one at a time */
        for (size_t i = 0; i < n; i++)
            pb_fair_hmac(&k[i], msg, len, out[i]);
        return;
    }
    uint8_t block[64];
    pad_one(block, msg, len);
    lanes q;
    q.n = 0;
    int paths = simd();
    for (size_t i = 0; i < n; i++) {
        q.keys[q.n] = &k[i];
        memcpy(q.blocks[q.n], block, 64);
        q.out[q.n] = out[i];
        if (++q.n == LANES)
            flush(&q, paths);
    }
    flush(&q, paths);
}

double pb_fair_stream_float(pb_fair_stream *s)
{
    return pb_fair_stream_u32(s) / 4294967296.0;
}
