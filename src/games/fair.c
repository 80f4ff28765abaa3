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
 * through the AVX-512 kernel — or pairs through SHA-NI, or libcrypto one at a
 * time, whatever the CPU has and PITBOSS_FAIR_SIMD allows (the kernels are in
 * fair_simd.c). A simulation's batch — sixteen used-up streams of one key
 * whose next rounds keep one digit — skips the lanes: each stream's block is
 * built once and transposed once, and its rounds differ in the digit's word
 * only (pb_fair_hmac_x16_digits). Several streams' reserves can share the
 * lanes (pb_fair_stream_reserve_many: the slot's free spins of a pool of
 * rounds). A crash simulation's round is six compressions (the game hash
 * from the stream's round 0, keyed by its hex, the salt under it):
 * pb_fair_crash_h_many runs them fused with SHA-NI, two games side by side
 * (pb_fair_crash_h_shani), else through the lanes. Every path gives the
 * bytes of the one-at-a-time path (tests/unit/games/test_fair.c and
 * test_batch.c run under each).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Transform: the bare block function */
#include <assert.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "games/fair_simd.h"

#if defined(__x86_64__)
/* The padded inner block of one lane, built in a register: the prefix
 * (plen bytes, a masked load that leaves the rest zero), the round's nd
 * digits, 0x80 and the bit length (64 + len bytes) in bytes 62..63 (len ≤ 55);
 * one 64-byte store, which pb_fair_hmac_x16's load then reads whole (fair_simd.c). */
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
 * interleaved), bit 2 AVX-512F and BW (sixteen at once), bit 4 BMI2 and POPCNT
 * (keno's and mines' draws select the n-th free number with pdep); -1 until detected.
 * PITBOSS_FAIR_SIMD=<mask> keeps only those bits (0: libcrypto one block at a
 * time, portable draws) — the tests run every path and compare the results. */
static int simd_paths = -1;

enum { LANES = 16 }; /* the AVX-512 kernels' width */

static int detect_simd(void)
{
    int have = 0;
#ifdef PB_FAIR_HAVE_SHANI
    __builtin_cpu_init();
    if (pb_fair_cpu_has_sha() && __builtin_cpu_supports("sse4.1"))
        have |= 1;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        have |= 2;
    if (__builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt"))
        have |= 4;
#endif
    const char *mask = getenv("PITBOSS_FAIR_SIMD");
    if (mask && *mask)
        return have & atoi(mask); /* as asked: the tests pick each path */
#ifdef PB_FAIR_HAVE_SHANI
    if ((have & 3) == 3 && !pb_fair_lanes_faster())
        have &= ~2;
#endif
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

bool pb_games_have_bmi2(void) { return simd() & 4; }

int pb_fair_simd_paths(void) { return simd(); }

bool pb_games_have_avx512(void) { return simd() & 2; }

const char *pb_fair_hash_path(void)
{
    int u = simd();
    return (u & 2) ? "avx512-lanes" : (u & 1) ? "sha-ni" : "libcrypto";
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

/* A digest as 64 lowercase hex characters and a NUL. */
static void hex_digest(const uint8_t d[32], char out[PB_FAIR_HASH_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[PB_FAIR_HASH_HEX_LEN] = '\0';
}

void pb_fair_sha256_hex(const char *seed, size_t len, char out[PB_FAIR_HASH_HEX_LEN + 1])
{
    uint32_t st[8];
    uint8_t d[32];
    memcpy(st, pb_fair_sha256_iv, sizeof st);
    finish(st, 0, (const uint8_t *)seed, len, d);
    hex_digest(d, out);
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
        memcpy(st, pb_fair_sha256_iv, sizeof st);
        finish(st, 0, (const uint8_t *)key, len, kb);
    } else {
        memcpy(kb, key, len);
    }
    uint8_t pad[64];
    for (int i = 0; i < 64; i++)
        pad[i] = kb[i] ^ 0x36;
    memcpy(k->inner, pb_fair_sha256_iv, sizeof k->inner);
    compress(k->inner, pad);
    for (int i = 0; i < 64; i++)
        pad[i] = kb[i] ^ 0x5c;
    memcpy(k->outer, pb_fair_sha256_iv, sizeof k->outer);
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
    char *last = s->msg + s->prefix_len - 2;
    if (step == 1 && nonce > s->nonce && *last != '9') { /* the batch's usual step */
        ++*last;
        s->nonce = nonce;
        restart(s);
        return;
    }
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
_Static_assert(LANES == PB_FAIR_CRASH_KEYS_MAX, "pb_fair_crash_h_keys takes a group of lanes");
typedef struct lanes {
    size_t n;
    const pb_fair_key *keys[LANES];
    uint8_t blocks[LANES][64] __attribute__((aligned(64)));
    uint8_t *out[LANES];
} lanes;

/* Computes the n queued lanes: sixteen through pb_fair_hmac_x16 (a short group
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
        pb_fair_hmac_x16(q->keys, (const uint8_t(*)[64])q->blocks, q->out);
        return;
    }
    for (; (paths & 1) && j + 1 < k; j += 2)
        pb_fair_hmac2_shani(q->keys[j], q->blocks[j], q->keys[j + 1], q->blocks[j + 1], q->out[j],
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

/* The first plen (< 64) bytes of a stream's msg, zeros after them: 64 bytes
 * kept in four 16-byte registers on x86-64 (a memcpy and memset of variable
 * length were a tenth of keno's time), so that each lane of one stream is
 * four stores. msg has 64 readable bytes (a stream's msg does). */
_Static_assert(PB_FAIR_MSG_MAX >= 64, "a block's worth of a stream's msg to read");
#ifdef PB_FAIR_HAVE_SHANI
typedef struct block_words {
    __m128i v[4];
} block_words;
#else
typedef struct block_words {
    uint8_t b[64];
} block_words;
#endif

/* The masked loads: four 16-byte moves, each and-ed with (byte index < plen). */
static inline void prefix_words(block_words *w, const char *msg, size_t plen)
{
#ifdef PB_FAIR_HAVE_SHANI
    const __m128i lane = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m128i n = _mm_set1_epi8((char)plen);
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m128i keep = _mm_cmplt_epi8(_mm_add_epi8(lane, _mm_set1_epi8((char)(16 * c))), n);
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(msg + 16 * c));
        w->v[c] = _mm_and_si128(v, keep);
    }
#else
    memcpy(w->b, msg, plen);
    memset(w->b + plen, 0, 64 - plen);
#endif
}

static inline void store_words(uint8_t block[64], const block_words *w)
{
#ifdef PB_FAIR_HAVE_SHANI
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++)
        _mm_storeu_si128((__m128i *)(void *)(block + 16 * c), w->v[c]);
#else
    memcpy(block, w->b, 64);
#endif
}

/* block = the first plen (< 64) bytes of msg, zeros after them. */
static inline void prefix_block(uint8_t block[64], const char *msg, size_t plen)
{
    block_words w;
    prefix_words(&w, msg, plen);
    store_words(block, &w);
}

static void queue_rounds_long(lanes *q, pb_fair_stream *x, unsigned k, uint8_t *dst, int paths);

/* Queues rounds x->round .. x->round + k − 1 of x, their outputs at
 * dst[0..k) (32 bytes each), and advances x->round; a message too long for
 * one block is computed at once, alone. The usual case — rounds of one
 * digit, a prefix of at most 54 bytes — is inline in the callers' loops,
 * the rest a call (queue_rounds_long): the call, with its registers saved
 * and restored, was a sixth of this on keno. */
__attribute__((always_inline)) static inline void queue_rounds(lanes *q, pb_fair_stream *x,
                                                               unsigned k, uint8_t *dst, int paths)
{
    if (!(x->round + k <= 10 && x->prefix_len + 1 <= 55)) {
        queue_rounds_long(q, x, k, dst, paths);
        return;
    }
#ifdef PB_FAIR_HAVE_SHANI
    if (paths & 2) {
        queue_short_x16(q, x, k, dst, paths);
        return;
    }
#endif
    /* one digit each: the prefix under its mask loaded once into
     * registers, each lane those 64 bytes stored, then its digit, 0x80
     * and the bit length (< 2^16: bytes 62..63) written over them.
     * pad_one per round cost a fifth of keno's time on the SHA-NI path;
     * a padded block built in memory (its eight length bytes in a loop)
     * and copied per lane, in a call, was about 245 instructions a keno
     * outcome with the priming loop (callgrind), this about 110. */
    size_t plen = x->prefix_len;
    uint32_t bits = (uint32_t)(64 + plen + 1) * 8;
    block_words base;
    prefix_words(&base, x->msg, plen);
    for (unsigned b = 0; b < k; b++) {
        uint8_t *blk = q->blocks[q->n];
        store_words(blk, &base);
        blk[plen] = (uint8_t)('0' + x->round + b);
        blk[plen + 1] = 0x80;
        blk[62] = (uint8_t)(bits >> 8);
        blk[63] = (uint8_t)bits;
        q->keys[q->n] = x->key;
        q->out[q->n] = dst + 32 * b;
        if (++q->n == LANES)
            flush(q, paths);
    }
    x->round += k;
}

/* queue_rounds of rounds with more than one digit or a message of two blocks. */
static void queue_rounds_long(lanes *q, pb_fair_stream *x, unsigned k, uint8_t *dst, int paths)
{
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

#ifdef PB_FAIR_HAVE_SHANI
/* True when the sixteen streams s[0..16) can be primed by
 * pb_fair_hmac_x16_digits: all used up, one key, prefixes of at most 54
 * bytes, the same next round, and `blocks` rounds from it that keep one
 * digit. A simulation's batch is. */
static bool digits_batch(const pb_fair_stream *s, unsigned blocks)
{
    if (s[0].round + blocks > 10)
        return false;
    for (size_t i = 0; i < 16; i++)
        if (s[i].pos < s[i].len || s[i].key != s[0].key || s[i].prefix_len + 1 > 55 ||
            s[i].round != s[0].round)
            return false;
    return true;
}

/* Primes sixteen streams that digits_batch accepts: each stream's padded
 * block of its next round built in a register, the rounds through
 * pb_fair_hmac_x16_digits (one transpose for all of them). */
X16BW_TARGET static void prime_digits_x16(pb_fair_stream *s, unsigned blocks)
{
    uint8_t block[16][64] __attribute__((aligned(64)));
    uint8_t *out[16 * PB_FAIR_STREAM_BLOCKS];
    uint32_t at[16];
    for (size_t i = 0; i < 16; i++) {
        lane_block_x16(block[i], s[i].msg, s[i].prefix_len, (char[]){(char)('0' + s[i].round)}, 1);
        at[i] = s[i].prefix_len;
        for (unsigned r = 0; r < blocks; r++)
            out[16 * r + i] = s[i].buf + 32 * r;
        s[i].round += blocks;
        s[i].pos = 0;
        s[i].len = 32 * blocks;
    }
    pb_fair_hmac_x16_digits(s[0].key, (const uint8_t(*)[64])block, at, blocks, out);
}
#endif

void pb_fair_stream_prime(pb_fair_stream *s, size_t n, unsigned blocks)
{
    assert(blocks >= 1 && blocks <= PB_FAIR_STREAM_BLOCKS);
    lanes q;
    q.n = 0;
    int paths = simd();
#ifdef PB_FAIR_HAVE_SHANI
    if ((paths & 2) && n == 16 && digits_batch(s, blocks)) {
        prime_digits_x16(s, blocks);
        return;
    }
#endif
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
    pb_fair_stream_reserve_many(&s, &floats, 1);
}

void pb_fair_stream_reserve_many(pb_fair_stream *const *s, const unsigned *floats, size_t n)
{
    lanes q;
    q.n = 0;
    int paths = simd();
    for (size_t i = 0; i < n; i++) {
        pb_fair_stream *x = s[i];
        unsigned have = x->pos < x->len ? (x->len - x->pos) / 4 : 0;
        if (have >= floats[i])
            continue;
        if (x->pos) { /* the unread bytes to the front */
            memmove(x->buf, x->buf + x->pos, 4 * (size_t)have);
            x->pos = 0;
            x->len = 4 * have;
        }
        unsigned need = (floats[i] - have + 7) / 8, room = (unsigned)(sizeof x->buf - x->len) / 32;
        unsigned k = need < room ? need : room;
        /* computed by the last flush at the latest */
        queue_rounds(&q, x, k, x->buf + x->len, paths);
        x->len += 32 * k;
    }
    flush(&q, paths);
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
            pb_fair_keys_x16(kl, ol);
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

/* The first 4 bytes, big-endian, of HMAC_SHA256(key = game_hash's 64 hex
 * characters, msg = salt): pb_crash_point's h. */
static uint32_t crash_h(const char *game_hash, const char *salt, size_t salt_len)
{
    pb_fair_key k;
    uint8_t d[32];
    pb_fair_key_init(&k, game_hash, PB_FAIR_HASH_HEX_LEN);
    pb_fair_hmac(&k, salt, salt_len, d);
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

void pb_fair_crash_h_keys(const char *const *hashes, size_t n, const char *salt, size_t salt_len,
                          uint32_t *h)
{
    uint8_t d[LANES][32];
    pb_fair_key gk[LANES];
    pb_fair_key_init_many(gk, hashes, n);
    pb_fair_hmac_many(gk, n, salt, salt_len, d);
    for (size_t i = 0; i < n; i++)
        h[i] = (uint32_t)d[i][0] << 24 | (uint32_t)d[i][1] << 16 | (uint32_t)d[i][2] << 8 | d[i][3];
}

/* pb_fair_crash_h_many's lanes without the SHA-NI kernel: the game hashes
 * through the lanes (sixteen at once with AVX-512), then pb_fair_crash_h_keys. */
static void crash_h_lanes(lanes *q, size_t n, const char *salt, size_t salt_len, uint32_t *h,
                          int paths)
{
    uint8_t d[LANES][32];
    char hash[LANES][PB_FAIR_HASH_HEX_LEN + 1];
    const char *hp[LANES];
    for (size_t i = 0; i < n; i++)
        q->out[i] = d[i];
    flush(q, paths);
    for (size_t i = 0; i < n; i++) {
        hex_digest(d[i], hash[i]);
        hp[i] = hash[i];
    }
    pb_fair_crash_h_keys(hp, n, salt, salt_len, h);
}

void pb_fair_crash_h_many(const pb_fair_stream *s, size_t n, const char *salt, size_t salt_len,
                          uint32_t *h)
{
    int paths = simd();
    uint8_t salt_block[64];
    bool short_salt = salt_len <= 55;
    if (short_salt)
        pad_one(salt_block, salt, salt_len);
    for (size_t i = 0; i < n; i += LANES) {
        lanes q;
        size_t at[LANES] = {0}; /* entries below q.n are set */
        uint32_t hq[LANES];
        q.n = 0;
        for (size_t j = i; j < n && j < i + LANES; j++) {
            const pb_fair_stream *x = &s[j];
            if (!short_salt || x->prefix_len + 1 > 55) { /* two blocks: one at a time */
                uint8_t d[32];
                char hash[PB_FAIR_HASH_HEX_LEN + 1];
                pb_fair_block(x->key, x->msg, x->client_len, x->nonce, 0, d);
                hex_digest(d, hash);
                h[j] = crash_h(hash, salt, salt_len);
                continue;
            }
            /* "<client>:<nonce>:0", padded: the prefix under a mask
             * (prefix_block; a memcpy of a variable length was a call) */
            uint8_t *b = q.blocks[q.n];
            uint32_t bits = (64 + x->prefix_len + 1) * 8;
            prefix_block(b, x->msg, x->prefix_len);
            b[x->prefix_len] = '0';
            b[x->prefix_len + 1] = 0x80;
            b[62] = (uint8_t)(bits >> 8);
            b[63] = (uint8_t)bits;
            q.keys[q.n] = x->key;
            at[q.n++] = j;
        }
        size_t k = q.n;
#ifdef PB_FAIR_HAVE_SHANI
        if ((paths & 3) == 1)
            pb_fair_crash_h_shani(q.keys, (const uint8_t(*)[64])q.blocks, k, salt_block, hq);
        else
#endif
            crash_h_lanes(&q, k, salt, salt_len, hq, paths);
        for (size_t j = 0; j < k; j++)
            h[at[j]] = hq[j];
    }
}

double pb_fair_stream_float(pb_fair_stream *s) { return pb_fair_stream_u32(s) / 4294967296.0; }
