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
 *
 * Files: this one has the seeds, commitments, the HMAC and the stream one round
 * at a time; fair_lanes.c the batch paths above (lanes, priming, reserves, keys
 * and HMACs of many seeds, crash keys); fair_internal.h what both share.
 */
#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "games/fair_internal.h"

/* The fast paths this CPU has: bit 1 the SHA extensions (two HMACs
 * interleaved), bit 2 AVX-512F and BW (sixteen at once), bit 4 BMI2 and POPCNT
 * (keno's and mines' draws select the n-th free number with pdep); -1 until detected.
 * PITBOSS_FAIR_SIMD=<mask> keeps only those bits (0: libcrypto one block at a
 * time, portable draws) — the tests run every path and compare the results. */
static int simd_paths = -1;

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

void pb_fair_stream_refill(pb_fair_stream *s)
{
    char msg[PB_FAIR_MSG_MAX];
    pb_fair_hmac(s->key, msg, round_msg(s, s->round, msg), s->buf);
    s->round++;
    s->pos = 0;
    s->len = 32;
}

double pb_fair_stream_float(pb_fair_stream *s) { return pb_fair_stream_u32(s) / 4294967296.0; }
