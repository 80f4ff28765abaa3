/*
 * hash.c — the audit chain's canonical serialisation, its hash, and the bytes a
 * checkpoint signature covers (both specified in docs/audit-format.md).
 *
 * hash(e) = SHA-256(tag || prev_hash || canonical(e)), where canonical(e) is a
 * fixed binary layout of every stored field except the hash: integers as 8
 * bytes little-endian, the id as its 16 bytes, text as a 4-byte little-endian
 * length and its UTF-8 bytes, and the nullable fields (brand, before, after)
 * with a presence byte first. Like the ledger's hash, the record is serialised
 * into one buffer and hashed; as before/after may hold up to 64 KiB each, the
 * buffer is a fixed staging area drained into libsodium's SHA-256 state when it
 * fills, which gives the same digest as hashing the whole string at once and
 * needs no allocation (so hashing cannot fail).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_internal.h"

typedef struct hbuf {
    crypto_hash_sha256_state st;
    uint8_t b[2048];
    size_t n;
} hbuf;

/* Drains the staging buffer into the hash state. */
static void flush(hbuf *h)
{
    crypto_hash_sha256_update(&h->st, h->b, h->n);
    h->n = 0;
}

/* Appends n bytes to the serialisation (large ones go straight into the hash). */
static void put_bytes(hbuf *h, const void *p, size_t n)
{
    if (h->n + n > sizeof h->b)
        flush(h);
    if (n > sizeof h->b) {
        crypto_hash_sha256_update(&h->st, p, n);
        return;
    }
    memcpy(h->b + h->n, p, n);
    h->n += n;
}

/* Little-endian into 8 bytes. */
static void le64(uint8_t out[8], int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(u >> (8 * i));
}

/* An integer: 8 bytes little-endian. */
static void put_i64(hbuf *h, int64_t v)
{
    uint8_t b[8];
    le64(b, v);
    put_bytes(h, b, 8);
}

/* Text: a 4-byte little-endian byte length, then the bytes. */
static void put_str(hbuf *h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    uint8_t len[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    put_bytes(h, len, 4);
    put_bytes(h, s ? s : "", n);
}

/* Nullable text: 0x00 for none, else 0x01 and the text. */
static void put_opt(hbuf *h, const char *s)
{
    uint8_t present = s ? 1 : 0;
    put_bytes(h, &present, 1);
    if (s)
        put_str(h, s);
}

void pb_audit_entry_hash(const pb_audit_record *r, const uint8_t prev[32], uint8_t out[32])
{
    hbuf h;
    h.n = 0;
    crypto_hash_sha256_init(&h.st);
    put_bytes(&h, AUDIT_ENTRY_TAG, sizeof AUDIT_ENTRY_TAG - 1);
    put_bytes(&h, prev, 32);
    put_i64(&h, r->seq);
    put_bytes(&h, r->id.b, 16);
    put_i64(&h, r->at);
    put_str(&h, r->actor_kind);
    put_str(&h, r->actor_id);
    put_str(&h, r->actor_email);
    put_str(&h, r->role);
    put_opt(&h, r->brand[0] ? r->brand : NULL);
    put_str(&h, r->action);
    put_str(&h, r->target_kind);
    put_str(&h, r->target_id);
    put_opt(&h, r->before);
    put_opt(&h, r->after);
    put_str(&h, r->reason);
    put_str(&h, r->trace_id);
    put_str(&h, r->ip);
    flush(&h);
    crypto_hash_sha256_final(&h.st, out);
}

size_t pb_audit_checkpoint_message(const pb_audit_checkpoint_record *cp,
                                   uint8_t out[AUDIT_CHECKPOINT_MSG_MAX])
{
    size_t n = 0, klen = strnlen(cp->key_id, PB_AUDIT_KEY_ID_LEN);
    memcpy(out, AUDIT_CHECKPOINT_TAG, sizeof AUDIT_CHECKPOINT_TAG - 1);
    n += sizeof AUDIT_CHECKPOINT_TAG - 1;
    le64(out + n, cp->id);
    n += 8;
    le64(out + n, cp->upto_seq);
    n += 8;
    memcpy(out + n, cp->head_hash, 32);
    n += 32;
    le64(out + n, cp->at);
    n += 8;
    out[n++] = (uint8_t)klen;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 0;
    memcpy(out + n, cp->key_id, klen);
    return n + klen;
}

void pb_audit_hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

pb_err pb_audit_store_err(pb_store_rc rc)
{
    switch (rc) {
    case PB_STORE_OK: return PB_OK;
    case PB_STORE_BUSY: return PB_ERR_STORE_UNAVAILABLE;
    default: return PB_ERR_INTERNAL;
    }
}

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

/* Runs once: libsodium picks its implementations and seeds its generator. */
static void sodium_start(void)
{
    if (sodium_init() < 0)
        abort(); /* no working libsodium: nothing can be signed or verified */
}

void pb_audit_sodium_init(void) { pthread_once(&sodium_once, sodium_start); }
