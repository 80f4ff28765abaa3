/*
 * sha256.c — SHA-256 and HMAC-SHA256 on libcrypto (see sha256.h).
 *
 * The hashing runs on libcrypto's SHA-256 block function (SHA-NI where the CPU
 * has it) through the bare SHA256_CTX calls: a request hashes a few hundred
 * bytes, and OpenSSL 3's EVP layer (EVP_MAC_init/update/final, the provider's
 * dispatch, its context copies) cost more than those bytes' blocks — about 2 µs
 * of each provider call's HMAC went there. HMAC (RFC 2104) is written out on
 * it: the key's inner and outer pad blocks hashed into two chaining states, the
 * message into the inner, its digest into the outer. A server thread signs with
 * the same few provider secrets call after call, so each thread remembers the
 * last key (up to KEY_MEMO bytes) with its two states: the same key again
 * starts from copies of them; another key re-keys. The remembered key is
 * compared in constant time, and it and the states are wiped when the thread
 * ends. The results are the standard functions' bytes, tested against RFC 4231,
 * FIPS 180-4 and libsodium for every length and split.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init/Update/Final: the bare block functions */
#include "core/sha256.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MEMO 128 /* longer keys are re-keyed on every call */
#define BLOCK 64     /* SHA-256's block: HMAC's pad length */

typedef struct thread_ctx {
    bool keyed; /* inner/outer are the pads of key[0..key_len) */
    size_t key_len;
    SHA256_CTX inner, outer; /* after the key ^ ipad / key ^ opad block */
    uint8_t key[KEY_MEMO];
} thread_ctx;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;

static void free_ctx(void *p)
{
    OPENSSL_cleanse(p, sizeof(thread_ctx));
    free(p);
}

static void make_key(void)
{
    if (pthread_key_create(&ctx_key, free_ctx) != 0)
        abort(); /* no thread-specific storage: nothing can be signed or checked */
}

/* This thread's remembered key, made on first use. */
static thread_ctx *this_thread(void)
{
    pthread_once(&once, make_key);
    thread_ctx *t = pthread_getspecific(ctx_key);
    if (t)
        return t;
    t = calloc(1, sizeof *t);
    if (!t || pthread_setspecific(ctx_key, t) != 0)
        abort();
    return t;
}

void pb_sha256(const void *data, size_t len, uint8_t out[PB_SHA256_LEN])
{
    SHA256_CTX c;
    if (!SHA256_Init(&c) || (len && !SHA256_Update(&c, data, len)) || !SHA256_Final(out, &c))
        abort();
}

/* True when t holds the pads of key[0..key_len) already. */
static bool same_key(const thread_ctx *t, const uint8_t *key, size_t key_len)
{
    return t->keyed && t->key_len == key_len &&
           (key_len == 0 || CRYPTO_memcmp(t->key, key, key_len) == 0);
}

/* The chaining states after key ^ ipad and key ^ opad (a key longer than a
 * block is hashed first, a shorter one padded with zeros: RFC 2104). */
static void pads(const uint8_t *key, size_t key_len, SHA256_CTX *inner, SHA256_CTX *outer)
{
    uint8_t k[BLOCK] = {0}, ipad[BLOCK], opad[BLOCK];
    if (key_len > BLOCK)
        pb_sha256(key, key_len, k);
    else if (key_len)
        memcpy(k, key, key_len);
    for (int i = 0; i < BLOCK; i++) {
        ipad[i] = (uint8_t)(k[i] ^ 0x36);
        opad[i] = (uint8_t)(k[i] ^ 0x5c);
    }
    if (!SHA256_Init(inner) || !SHA256_Update(inner, ipad, BLOCK) || !SHA256_Init(outer) ||
        !SHA256_Update(outer, opad, BLOCK))
        abort();
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(ipad, sizeof ipad);
    OPENSSL_cleanse(opad, sizeof opad);
}

void pb_hmac_sha256(const uint8_t *key, size_t key_len, const pb_sha256_part *parts, size_t n,
                    uint8_t out[PB_SHA256_LEN])
{
    thread_ctx *t = this_thread();
    SHA256_CTX inner, outer;
    if (same_key(t, key, key_len)) {
        inner = t->inner;
        outer = t->outer;
    } else {
        pads(key, key_len, &inner, &outer);
        t->keyed = key_len <= KEY_MEMO;
        if (t->keyed) {
            if (key_len)
                memcpy(t->key, key, key_len);
            t->key_len = key_len;
            t->inner = inner;
            t->outer = outer;
        }
    }
    uint8_t d[PB_SHA256_LEN];
    for (size_t i = 0; i < n; i++)
        if (parts[i].len && !SHA256_Update(&inner, parts[i].p, parts[i].len))
            abort();
    if (!SHA256_Final(d, &inner) || !SHA256_Update(&outer, d, sizeof d) ||
        !SHA256_Final(out, &outer))
        abort();
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
    OPENSSL_cleanse(d, sizeof d);
}

bool pb_sha256_equal(const uint8_t *a, const uint8_t *b)
{
    return CRYPTO_memcmp(a, b, PB_SHA256_LEN) == 0;
}
