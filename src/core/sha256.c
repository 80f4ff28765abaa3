/*
 * sha256.c — SHA-256 and HMAC-SHA256 on libcrypto (see sha256.h).
 *
 * OpenSSL 3's one-shot helpers (SHA256(), HMAC()) fetch the algorithm from the
 * provider on every call, which costs more than hashing a short message. So the
 * algorithms are fetched once (pthread_once), and each thread keeps one
 * EVP_MD_CTX and one EVP_MAC_CTX (HMAC with its digest already set), reused
 * call after call and freed when the thread ends (a pthread key's destructor).
 * A MAC call only re-keys the context: EVP_MAC_init(ctx, key, …) recomputes the
 * inner and outer key blocks for that key and nothing else.
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

typedef struct thread_ctx {
    EVP_MD_CTX *md;
    EVP_MAC_CTX *mac;
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

void pb_hmac_sha256(const uint8_t *key, size_t key_len, const pb_sha256_part *parts, size_t n,
                    uint8_t out[PB_SHA256_LEN])
{
    static const uint8_t empty[1] = {0};
    thread_ctx *t = this_thread();
    size_t got = 0;
    /* a NULL key would mean "keep the previous key" to OpenSSL: never that */
    if (!EVP_MAC_init(t->mac, key && key_len ? key : empty, key_len, NULL))
        abort();
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
