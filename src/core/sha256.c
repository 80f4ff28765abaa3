/*
 * sha256.c — SHA-256 and HMAC-SHA256 on libcrypto (see sha256.h).
 *
 * OpenSSL 3's one-shot helpers (SHA256(), HMAC()) fetch the algorithm from the
 * provider on every call, which costs more than hashing a short message. So the
 * algorithms are fetched once (pthread_once), and each thread keeps one
 * EVP_MD_CTX and one EVP_MAC_CTX (HMAC with its digest already set), reused
 * call after call and freed when the thread ends (a pthread key's destructor).
 * Keying HMAC (hashing the inner and outer pads, and OpenSSL's copy of the
 * key) costs about as much as MACing a short message, and a server thread
 * signs with the same few provider secrets call after call. So each thread
 * remembers the key its context was last keyed with (up to KEY_MEMO bytes):
 * the same key again only resets the context to the keyed state
 * (EVP_MAC_init with a NULL key); another key re-keys it. The remembered copy
 * is compared in constant time and wiped when the thread ends.
 *
 * Failures of these calls over memory mean a broken library; like the ledger's
 * hash chain (src/ledger/hash.c), they abort rather than return a MAC nobody
 * can trust.
 */
#include "core/sha256.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MEMO 128 /* longer keys are re-keyed on every call */

typedef struct thread_ctx {
    EVP_MD_CTX *md;
    EVP_MAC_CTX *mac;
    bool keyed; /* mac holds the schedule of key[0..key_len) */
    size_t key_len;
    uint8_t key[KEY_MEMO];
} thread_ctx;

static EVP_MD *sha256_md;
static EVP_MAC *hmac_mac;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;

static void free_ctx(void *p)
{
    thread_ctx *t = p;
    EVP_MD_CTX_free(t->md);
    EVP_MAC_CTX_free(t->mac);
    OPENSSL_cleanse(t, sizeof *t);
    free(t);
}

static void fetch_algorithms(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!sha256_md || !hmac_mac || pthread_key_create(&ctx_key, free_ctx) != 0)
        abort(); /* no SHA-256 or HMAC in this libcrypto: nothing can be signed or checked */
}

/* This thread's contexts, made on first use. */
static thread_ctx *this_thread(void)
{
    pthread_once(&once, fetch_algorithms);
    thread_ctx *t = pthread_getspecific(ctx_key);
    if (t)
        return t;
    t = calloc(1, sizeof *t);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!t || !(t->md = EVP_MD_CTX_new()) || !(t->mac = EVP_MAC_CTX_new(hmac_mac)) ||
        !EVP_MAC_CTX_set_params(t->mac, params) || pthread_setspecific(ctx_key, t) != 0)
        abort();
    return t;
}

void pb_sha256(const void *data, size_t len, uint8_t out[PB_SHA256_LEN])
{
    thread_ctx *t = this_thread();
    unsigned n = 0;
    if (!EVP_DigestInit_ex2(t->md, sha256_md, NULL) || !EVP_DigestUpdate(t->md, data, len) ||
        !EVP_DigestFinal_ex(t->md, out, &n) || n != PB_SHA256_LEN)
        abort();
}

/* True when t's context is keyed with key[0..key_len) already. */
static bool same_key(const thread_ctx *t, const uint8_t *key, size_t key_len)
{
    return t->keyed && t->key_len == key_len &&
           (key_len == 0 || CRYPTO_memcmp(t->key, key, key_len) == 0);
}

void pb_hmac_sha256(const uint8_t *key, size_t key_len, const pb_sha256_part *parts, size_t n,
                    uint8_t out[PB_SHA256_LEN])
{
    static const uint8_t empty[1] = {0};
    thread_ctx *t = this_thread();
    size_t got = 0;
    if (same_key(t, key, key_len)) {
        if (!EVP_MAC_init(t->mac, NULL, 0, NULL)) /* back to the keyed state */
            abort();
    } else {
        t->keyed = false;
        /* a NULL key means "keep the previous key" to OpenSSL: an empty key is "" */
        if (!EVP_MAC_init(t->mac, key && key_len ? key : empty, key_len, NULL))
            abort();
        if (key_len <= KEY_MEMO) {
            if (key_len)
                memcpy(t->key, key, key_len);
            t->key_len = key_len;
            t->keyed = true;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (parts[i].len && !EVP_MAC_update(t->mac, parts[i].p, parts[i].len))
            abort();
    if (!EVP_MAC_final(t->mac, out, &got, PB_SHA256_LEN) || got != PB_SHA256_LEN)
        abort();
}

bool pb_sha256_equal(const uint8_t *a, const uint8_t *b)
{
    return CRYPTO_memcmp(a, b, PB_SHA256_LEN) == 0;
}
