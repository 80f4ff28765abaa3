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
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Transform: the bare block function */
#include <assert.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "games/games.h"

static const uint32_t sha256_iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#if defined(__x86_64__)
#include <immintrin.h>
#define PB_FAIR_HAVE_SHANI 1

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

/* Two independent compressions interleaved with the SHA extensions (Intel
 * SHA-NI): the message schedule with sha256msg1/msg2, four rounds per pair of
 * sha256rnds2. One chain of sha256rnds2 is latency-bound; two chains in flight
 * fill the unit (measured here: ~57 ns per block against ~72 for libcrypto's
 * one-block SHA256_Transform). */
__attribute__((target("sha,sse4.1"))) static void compress2_shani(uint32_t sa[8],
                                                                   const uint8_t *ba,
                                                                   uint32_t sb[8],
                                                                   const uint8_t *bb)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sa[0]), 0xB1);
    __m128i a1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sa[4]), 0x1B);
    __m128i a0 = _mm_alignr_epi8(t, a1, 8); /* ABEF */
    a1 = _mm_blend_epi16(a1, t, 0xF0);      /* CDGH */
    t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sb[0]), 0xB1);
    __m128i b1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sb[4]), 0x1B);
    __m128i b0 = _mm_alignr_epi8(t, b1, 8);
    b1 = _mm_blend_epi16(b1, t, 0xF0);
    const __m128i a0s = a0, a1s = a1, b0s = b0, b1s = b1;
    __m128i wa[16], wb[16];
    for (int i = 0; i < 16; i++) {
        if (i < 4) {
            wa[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(ba + 16 * i)), bswap);
            wb[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(bb + 16 * i)), bswap);
        } else {
            wa[i] = _mm_sha256msg2_epu32(
                _mm_add_epi32(_mm_sha256msg1_epu32(wa[i - 4], wa[i - 3]),
                              _mm_alignr_epi8(wa[i - 1], wa[i - 2], 4)),
                wa[i - 1]);
            wb[i] = _mm_sha256msg2_epu32(
                _mm_add_epi32(_mm_sha256msg1_epu32(wb[i - 4], wb[i - 3]),
                              _mm_alignr_epi8(wb[i - 1], wb[i - 2], 4)),
                wb[i - 1]);
        }
        __m128i k = _mm_loadu_si128((const __m128i *)&sha256_k[4 * i]);
        __m128i ma = _mm_add_epi32(wa[i], k), mb = _mm_add_epi32(wb[i], k);
        a1 = _mm_sha256rnds2_epu32(a1, a0, ma);
        b1 = _mm_sha256rnds2_epu32(b1, b0, mb);
        a0 = _mm_sha256rnds2_epu32(a0, a1, _mm_shuffle_epi32(ma, 0x0E));
        b0 = _mm_sha256rnds2_epu32(b0, b1, _mm_shuffle_epi32(mb, 0x0E));
    }
    a0 = _mm_add_epi32(a0, a0s);
    a1 = _mm_add_epi32(a1, a1s);
    b0 = _mm_add_epi32(b0, b0s);
    b1 = _mm_add_epi32(b1, b1s);
    t = _mm_shuffle_epi32(a0, 0x1B);                                    /* FEBA */
    a1 = _mm_shuffle_epi32(a1, 0xB1);                                   /* DCHG */
    _mm_storeu_si128((__m128i *)&sa[0], _mm_blend_epi16(t, a1, 0xF0)); /* DCBA */
    _mm_storeu_si128((__m128i *)&sa[4], _mm_alignr_epi8(a1, t, 8));    /* HGFE */
    t = _mm_shuffle_epi32(b0, 0x1B);
    b1 = _mm_shuffle_epi32(b1, 0xB1);
    _mm_storeu_si128((__m128i *)&sb[0], _mm_blend_epi16(t, b1, 0xF0));
    _mm_storeu_si128((__m128i *)&sb[4], _mm_alignr_epi8(b1, t, 8));
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

/* 1 when the CPU has the SHA extensions (and the build may use them), else 0;
 * PITBOSS_FAIR_NO_SHANI=1 forces libcrypto (tests compare both paths). */
static int use_shani = -1;

static int detect_shani(void)
{
#ifdef PB_FAIR_HAVE_SHANI
    const char *off = getenv("PITBOSS_FAIR_NO_SHANI");
    if (off && *off && strcmp(off, "0") != 0)
        return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
#else
    return 0;
#endif
}

/* Two independent compressions: interleaved with SHA-NI when the CPU has it. */
static inline void compress2(uint32_t sa[8], const uint8_t *ba, uint32_t sb[8], const uint8_t *bb)
{
    int u = __atomic_load_n(&use_shani, __ATOMIC_RELAXED);
    if (u < 0) {
        u = detect_shani();
        __atomic_store_n(&use_shani, u, __ATOMIC_RELAXED);
    }
#ifdef PB_FAIR_HAVE_SHANI
    if (u) {
        compress2_shani(sa, ba, sb, bb);
        return;
    }
#endif
    compress(sa, ba);
    compress(sb, bb);
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

void pb_fair_stream_init(pb_fair_stream *s, const pb_fair_key *k, const char *client,
                         uint64_t nonce)
{
    s->key = k;
    s->prefix_len = (uint32_t)put_prefix(s->msg, client, strlen(client), nonce);
    s->round = 0;
    s->pos = 32;
}

/* Writes the message of s's next round into s->msg; returns its length. */
static size_t next_msg(pb_fair_stream *s)
{
    return s->prefix_len + put_u64(s->msg + s->prefix_len, s->round);
}

uint32_t pb_fair_stream_u32(pb_fair_stream *s)
{
    if (s->pos >= 32) {
        pb_fair_hmac(s->key, s->msg, next_msg(s), s->block);
        s->round++;
        s->pos = 0;
    }
    const uint8_t *b = s->block + s->pos;
    s->pos += 4;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
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

/* Two HMACs of short messages (≤ 55 bytes) at once: inner blocks together,
 * then outer blocks together. */
static void hmac2(const pb_fair_key *ka, const char *ma, size_t la, uint8_t outa[32],
                  const pb_fair_key *kb, const char *mb, size_t lb, uint8_t outb[32])
{
    uint8_t ba[64], bb[64];
    uint32_t sa[8], sb[8];
    pad_one(ba, ma, la);
    pad_one(bb, mb, lb);
    memcpy(sa, ka->inner, sizeof sa);
    memcpy(sb, kb->inner, sizeof sb);
    compress2(sa, ba, sb, bb);
    for (int i = 0; i < 8; i++) {
        put_be32(ba + 4 * i, sa[i]);
        put_be32(bb + 4 * i, sb[i]);
    }
    pad_one(ba, ba, 32);
    pad_one(bb, bb, 32);
    memcpy(sa, ka->outer, sizeof sa);
    memcpy(sb, kb->outer, sizeof sb);
    compress2(sa, ba, sb, bb);
    for (int i = 0; i < 8; i++) {
        put_be32(outa + 4 * i, sa[i]);
        put_be32(outb + 4 * i, sb[i]);
    }
}

void pb_fair_stream_prime(pb_fair_stream *s, size_t n)
{
    pb_fair_stream *wait = NULL;
    size_t wait_len = 0;
    for (size_t i = 0; i < n; i++) {
        pb_fair_stream *x = &s[i];
        if (x->pos < 32)
            continue;
        size_t len = next_msg(x);
        if (len > 55) { /* two blocks: one at a time */
            pb_fair_hmac(x->key, x->msg, len, x->block);
        } else if (!wait) {
            wait = x;
            wait_len = len;
            continue;
        } else {
            hmac2(wait->key, wait->msg, wait_len, wait->block, x->key, x->msg, len, x->block);
            wait->round++;
            wait->pos = 0;
            wait = NULL;
        }
        x->round++;
        x->pos = 0;
    }
    if (wait) {
        pb_fair_hmac(wait->key, wait->msg, wait_len, wait->block);
        wait->round++;
        wait->pos = 0;
    }
}

double pb_fair_stream_float(pb_fair_stream *s)
{
    return pb_fair_stream_u32(s) / 4294967296.0;
}
