/*
 * fair_internal.h — what fair.c (seeds, commitments, the HMAC and the stream)
 * and fair_lanes.c (the batch paths: lanes, priming, reserves, crash keys)
 * share; private to those two files.
 */
#ifndef PB_GAMES_FAIR_INTERNAL_H
#define PB_GAMES_FAIR_INTERNAL_H

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Transform: the bare block function */
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#include "games/fair_simd.h"

enum { LANES = 16 }; /* the AVX-512 kernels' width */ /* the AVX-512 kernels' width */

/* One SHA-256 compression of a 64-byte block into state, through libcrypto
 * (SHA-NI or AVX2 inside, dispatched by OpenSSL). */
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

/* A digest as 64 lowercase hex characters and a NUL. */
static inline void hex_digest(const uint8_t d[32], char out[PB_FAIR_HASH_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[PB_FAIR_HASH_HEX_LEN] = '\0';
}

/* Writes v in decimal at p; returns the number of digits. */
static inline size_t put_u64(char *p, uint64_t v)
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

/* Writes the message of round r of s into msg (s's prefix, then r); returns its length. */
static inline size_t round_msg(const pb_fair_stream *s, uint32_t r, char *msg)
{
    memcpy(msg, s->msg, s->prefix_len);
    return s->prefix_len + put_u64(msg + s->prefix_len, r);
}

#endif
