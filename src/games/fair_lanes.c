/*
 * fair_lanes.c — the provably fair engine's batch paths (fair.c has the
 * one-at-a-time HMAC and the stream; the file's header there tells the whole
 * story): rounds queued as lanes, padded in a register, and run sixteen at a
 * time through the AVX-512 kernel, in pairs through SHA-NI, or one at a time
 * (fair_simd.c has the kernels); streams primed and reserved in bulk, keys and
 * HMACs of many seeds, and the crash simulation's keyed game hashes. Every
 * path gives the bytes of the one-at-a-time path.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "games/fair_internal.h"

/* The fast paths this CPU has (fair.c: detected once, PITBOSS_FAIR_SIMD). */
static inline int simd(void) { return pb_fair_simd_paths(); }

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
