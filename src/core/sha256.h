/*
 * sha256.h — SHA-256 and HMAC-SHA256 through OpenSSL's libcrypto.
 *
 * One small door for the hashing a request does on its hot path (a provider's
 * HMAC signature, a launch token's hash), so that it runs on libcrypto's
 * assembly (SHA-NI where the CPU has it) rather than libsodium's portable C.
 * Results are the standard functions' bytes (FIPS 180-4, RFC 2104); each
 * thread keeps its own remembered key and pad states, so every function here may be
 * called from any thread without locks.
 */
#ifndef PB_CORE_SHA256_H
#define PB_CORE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_SHA256_LEN 32

/* One piece of a message hashed in parts (len bytes at p; p may be NULL when len is 0). */
typedef struct pb_sha256_part {
    const void *p;
    size_t len;
} pb_sha256_part;

/* out = SHA-256(data[0..len)). Aborts only if libcrypto has no SHA-256 at all. */
void pb_sha256(const void *data, size_t len, uint8_t out[PB_SHA256_LEN]);

/* out = HMAC-SHA256(key, parts[0] || parts[1] || … || parts[n-1]): the MAC of
 * the concatenation, without copying it. Any key length, 0 included. */
void pb_hmac_sha256(const uint8_t *key, size_t key_len, const pb_sha256_part *parts, size_t n,
                    uint8_t out[PB_SHA256_LEN]);

/* True when a and b (PB_SHA256_LEN bytes each) are equal; the time taken does
 * not depend on where they differ (for comparing MACs). */
bool pb_sha256_equal(const uint8_t *a, const uint8_t *b);

#endif
