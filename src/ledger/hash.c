/*
 * hash.c — the transfer hash chain.
 *
 * hash(t) = SHA-256(prev_hash || canonical(t)), where canonical(t) is a fixed
 * binary layout of every stored field (integers little-endian, strings with a
 * 2-byte length prefix, the optional pending id with a presence byte). The
 * account-chain links (debit_prev_seq, credit_prev_seq) are covered, so a
 * transfer cannot be moved between accounts' histories unnoticed either.
 */
#include <sodium.h>
#include <string.h>

#include "ledger/ledger.h"

static void put_i64(crypto_hash_sha256_state *st, int64_t v)
{
    uint8_t b[8];
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(u >> (8 * i));
    crypto_hash_sha256_update(st, b, 8);
}

static void put_str(crypto_hash_sha256_state *st, const char *s)
{
    size_t n = strlen(s);
    uint8_t len[2] = {(uint8_t)(n & 0xff), (uint8_t)(n >> 8)};
    crypto_hash_sha256_update(st, len, 2);
    crypto_hash_sha256_update(st, (const uint8_t *)s, n);
}

void pb_ledger_hash(const pb_ledger_record *t, const uint8_t prev[32], uint8_t out[32])
{
    static const uint8_t domain[] = "pitboss.ledger.transfer.v1";
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, domain, sizeof domain - 1);
    crypto_hash_sha256_update(&st, prev, 32);
    put_i64(&st, t->seq);
    crypto_hash_sha256_update(&st, t->id.b, 16);
    put_str(&st, t->scope);
    put_str(&st, t->ikey);
    put_i64(&st, t->debit_account_id);
    put_i64(&st, t->credit_account_id);
    put_i64(&st, t->amount);
    put_str(&st, t->currency);
    put_i64(&st, (int64_t)t->code);
    put_i64(&st, (int64_t)t->flags);
    uint8_t has = t->has_pending_id ? 1 : 0;
    crypto_hash_sha256_update(&st, &has, 1);
    if (has)
        crypto_hash_sha256_update(&st, t->pending_id.b, 16);
    put_i64(&st, t->timeout_s);
    put_i64(&st, t->expires_at);
    put_str(&st, t->reference);
    put_str(&st, t->trace_id);
    put_i64(&st, t->debit_prev_seq);
    put_i64(&st, t->credit_prev_seq);
    put_i64(&st, t->created_at);
    crypto_hash_sha256_final(&st, out);
}
