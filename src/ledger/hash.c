/*
 * hash.c — the transfer hash chain.
 *
 * hash(t) = SHA-256(domain || prev_hash || canonical(t)), where canonical(t) is
 * a fixed binary layout of every stored field (integers 8 bytes little-endian,
 * strings with a 2-byte length prefix, the optional pending id with a presence
 * byte). The account-chain links (debit_prev_seq, credit_prev_seq) are covered,
 * so a transfer cannot be moved between accounts' histories unnoticed either.
 *
 * The record is serialised into one stack buffer and hashed in one call with
 * OpenSSL's SHA-256 (SHA-NI accelerated where the CPU has it): the hash runs
 * once per transfer on the writer thread, so its cost is on the hot path. The
 * algorithm is fetched once and each thread reuses one digest context, since
 * OpenSSL 3's one-shot SHA256() fetches the algorithm on every call.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

typedef struct buf {
    uint8_t b[1024];
    size_t n;
} buf;

static void put_bytes(buf *o, const void *p, size_t n)
{
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_i64(buf *o, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        o->b[o->n++] = (uint8_t)(u >> (8 * i));
}

/* Strings are bounded by their struct fields (all < 256 bytes), so the buffer never overflows. */
static void put_str(buf *o, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    o->b[o->n++] = (uint8_t)(n & 0xff);
    o->b[o->n++] = (uint8_t)(n >> 8);
    put_bytes(o, s, n);
}

static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key; /* each thread's digest context, freed when the thread ends */

static void free_ctx(void *ctx) { EVP_MD_CTX_free(ctx); }

static void fetch_sha256(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!sha256 || pthread_key_create(&ctx_key, free_ctx) != 0)
        abort(); /* no SHA-256 in this OpenSSL: nothing can be verified */
}

static void digest(const uint8_t *p, size_t n, uint8_t out[32])
{
    pthread_once(&sha256_once, fetch_sha256);
    EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
    if (!ctx) {
        if (!(ctx = EVP_MD_CTX_new()) || pthread_setspecific(ctx_key, ctx) != 0)
            abort();
    }
    unsigned len = 0;
    if (!EVP_DigestInit_ex2(ctx, sha256, NULL) || !EVP_DigestUpdate(ctx, p, n) ||
        !EVP_DigestFinal_ex(ctx, out, &len) || len != 32)
        abort(); /* SHA-256 over memory cannot fail short of a broken library */
}

void pb_ledger_hash(const pb_ledger_record *t, const uint8_t prev[32], uint8_t out[32])
{
    static const char domain[] = "pitboss.ledger.transfer.v1";
    buf o = {.n = 0};
    put_bytes(&o, domain, sizeof domain - 1);
    put_bytes(&o, prev, 32);
    put_i64(&o, t->seq);
    put_bytes(&o, t->id.b, 16);
    put_str(&o, t->scope, sizeof t->scope);
    put_str(&o, t->ikey, sizeof t->ikey);
    put_i64(&o, t->debit_account_id);
    put_i64(&o, t->credit_account_id);
    put_i64(&o, t->amount);
    put_str(&o, t->currency, sizeof t->currency);
    put_i64(&o, (int64_t)t->code);
    put_i64(&o, (int64_t)t->flags);
    o.b[o.n++] = t->has_pending_id ? 1 : 0;
    if (t->has_pending_id)
        put_bytes(&o, t->pending_id.b, 16);
    put_i64(&o, t->timeout_s);
    put_i64(&o, t->expires_at);
    put_str(&o, t->reference, sizeof t->reference);
    put_str(&o, t->trace_id, sizeof t->trace_id);
    put_i64(&o, t->debit_prev_seq);
    put_i64(&o, t->credit_prev_seq);
    put_i64(&o, t->created_at);
    digest(o.b, o.n, out);
}
