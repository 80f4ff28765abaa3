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

/* One SHA-256 compression of a 64-byte block into state. */
static inline void compress(uint32_t state[8], const uint8_t block[64])
{
    SHA256_CTX c;
    memcpy(c.h, state, 32);
    SHA256_Transform(&c, block);
    memcpy(state, c.h, 32);
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

uint32_t pb_fair_stream_u32(pb_fair_stream *s)
{
    if (s->pos >= 32) {
        size_t n = s->prefix_len + put_u64(s->msg + s->prefix_len, s->round);
        pb_fair_hmac(s->key, s->msg, n, s->block);
        s->round++;
        s->pos = 0;
    }
    const uint8_t *b = s->block + s->pos;
    s->pos += 4;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

double pb_fair_stream_float(pb_fair_stream *s)
{
    return pb_fair_stream_u32(s) / 4294967296.0;
}
