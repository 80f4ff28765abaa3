/*
 * fair_simd.h — private to src/games/: the bulk SHA-256 kernels of the
 * provably fair engine (fair_simd.c) that fair.c calls when the CPU has them.
 * Each takes keys whose ipad/opad states pb_fair_key_init computed and gives the
 * bytes of pb_fair_hmac exactly.
 */
#ifndef PB_GAMES_FAIR_SIMD_H
#define PB_GAMES_FAIR_SIMD_H

#include "games/rules.h"

/* SHA-256's initial state (FIPS 180-4). */
static const uint32_t pb_fair_sha256_iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

/* The fast paths fair.c found on this CPU and PITBOSS_FAIR_SIMD allows: bit 1
 * the SHA extensions, bit 2 AVX-512F and BW, bit 4 BMI2 and POPCNT. */
int pb_fair_simd_paths(void);

/* The crash h (pb_crash_point's) of n ≤ PB_FAIR_CRASH_KEYS_MAX game hashes'
 * hex under salt, keyed sixteen at once (pb_fair_key_init_many), the salt
 * under each (pb_fair_hmac_many): the path without the SHA-NI kernel. */
#define PB_FAIR_CRASH_KEYS_MAX 16
void pb_fair_crash_h_keys(const char *const *hashes, size_t n, const char *salt, size_t salt_len,
                          uint32_t *h);

#if defined(__x86_64__)
#include <immintrin.h>
#define PB_FAIR_HAVE_SHANI 1
/* Functions that use AVX-512F and AVX-512BW (callers check the CPU first). */
#define X16BW_TARGET __attribute__((target("avx512f,avx512bw")))

/* With both SHA-NI and AVX-512: whether the sixteen lanes hash faster than the
 * SHA-NI pairs on this CPU, timed (about a millisecond; fair_simd.c). */
bool pb_fair_lanes_faster(void);
/* True when the CPU has the SHA extensions (CPUID leaf 7, EBX bit 29). */
bool pb_fair_cpu_has_sha(void);
/* Two HMACs with SHA-NI, interleaved: block ba (an inner message of one padded
 * block) under ka into outa, bb under kb into outb. Needs SHA-NI and SSE4.1. */
void pb_fair_hmac2_shani(const pb_fair_key *ka, const uint8_t ba[64], const pb_fair_key *kb,
                         const uint8_t bb[64], uint8_t outa[32], uint8_t outb[32]);
/* The crash h (pb_crash_point's) of n games, with SHA-NI: game i's hash is
 * the hex of HMAC(keys[i], blocks[i]) — an inner message of one padded
 * block — and h[i] the first 4 bytes, big-endian, of HMAC(key = that hex,
 * msg = the salt), whose one padded block after the 64-byte key block is
 * salt. Every step in registers, games side by side. Needs SHA-NI and SSE4.1. */
void pb_fair_crash_h_shani(const pb_fair_key *const *keys, const uint8_t (*blocks)[64], size_t n,
                           const uint8_t salt[64], uint32_t *h);
/* The crash h of n games from their hashes' hex (64 lowercase characters
 * each, a chain's): h[i] the first 4 bytes, big-endian, of HMAC(key =
 * hashes[i], msg = the salt), the salt given as its salt_blocks (1 or 2)
 * padded blocks after the 64-byte key block. Games side by side, every step
 * in registers. Needs SHA-NI and SSE4.1. */
void pb_fair_crash_hex_h_shani(const char (*hashes)[PB_FAIR_HASH_HEX_LEN + 1], size_t n,
                               const uint8_t (*salt)[64], int salt_blocks, uint32_t *h);
/* steps steps of a crash chain from `from` (64 hex): each the SHA-256 of
 * the one before's 64 hex characters, as hex. every: step i + 1 into out[i];
 * else the last step into out[0] (steps ≥ 1). Needs SHA-NI and SSE4.1. */
void pb_fair_chain_shani(const char *from, size_t steps, char (*out)[PB_FAIR_HASH_HEX_LEN + 1],
                         bool every);
/* Sixteen HMACs at once: blocks[l] (one padded inner block) under keys[l] into
 * out[l]. Needs AVX-512F and BW. */
void pb_fair_hmac_x16(const pb_fair_key *const keys[16], const uint8_t (*blocks)[64],
                      uint8_t *const out[16]);
/* Sixteen lanes of `rounds` HMACs each under one key: lane l's round r is
 * the padded block blocks[l] with r added to its byte at[l] (a digit that
 * does not carry), into out[16·r + l]. Needs AVX-512F and BW. */
void pb_fair_hmac_x16_digits(const pb_fair_key *key, const uint8_t (*blocks)[64],
                             const uint32_t at[16], unsigned rounds, uint8_t *const *out);
/* pb_fair_key_init of sixteen keys of exactly 64 bytes at once. Needs AVX-512F and BW. */
void pb_fair_keys_x16(const char *const keys[16], pb_fair_key *const out[16]);
#endif

#endif
