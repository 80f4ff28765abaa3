/*
 * secret.c — native providers' HMAC keys, sealed at rest.
 *
 * The server must present a native provider's key to check every request it
 * signs, so the key cannot be stored hashed; whoever reads it can sign bets,
 * wins and rollbacks as that studio (credit any player). The database is read
 * by more than the server (backups, replicas, copies for support), so the key
 * is stored sealed (core/sealbox.h) under the keys directory's provider.key,
 * bound to the provider's code (immutable):
 *
 *     provider.secret = "p1:" || nonce (24) || ciphertext (32..64) || tag (16)
 *
 * 75..107 bytes, so it cannot be mistaken for a key in the clear (32..64 bytes):
 * one written before sealing existed, or by a process that has no key. Such a
 * key is read as is, and sealed when the server starts
 * (pb_catalog_seal_existing).
 *
 * A sealed key that does not open (the database moved without its keys
 * directory, or another directory given) leaves the provider without a key:
 * p->secret_len = 0 and p->secret_unavailable set. The server logs it at start
 * and when the native adapter loads the provider, whose requests are then
 * refused (an empty key verifies nothing); an update that does not set a new
 * key keeps the stored one as it is.
 *
 * The key is process-wide: set once (pb_catalog_seal_set_key) by `serve` and
 * the CLI before any provider is read or written, never changed after.
 */
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "core/log.h"
#include "core/sealbox.h"

#define PREFIX "p1:"
#define PREFIX_LEN (sizeof PREFIX - 1)
#define SEALED_MIN (PREFIX_LEN + PB_SEALBOX_OVERHEAD + PB_PROVIDER_SECRET_MIN)
#define SEALED_MAX (PREFIX_LEN + PB_SEALBOX_OVERHEAD + PB_PROVIDER_SECRET_MAX)
#define SEAL_BATCH 64

_Static_assert(SEALED_MAX <= PB_STORE_PROVIDER_SECRET_MAX, "a sealed key fits the row");
_Static_assert(SEALED_MIN > PB_PROVIDER_SECRET_MAX, "sealed and clear keys differ in length");

static uint8_t seal_key[PB_SEALBOX_KEY_LEN];
static atomic_bool seal_on;

void pb_catalog_seal_set_key(const uint8_t key[32])
{
    memcpy(seal_key, key, sizeof seal_key);
    atomic_store(&seal_on, true);
}

/* The associated data of code's key. */
static void ad_of(const char *code, char *out, size_t cap)
{
    snprintf(out, cap, "provider:%s", code);
}

bool pb_catalog_secret_is_sealed(const uint8_t *stored, size_t len)
{
    return len >= SEALED_MIN && len <= SEALED_MAX && memcmp(stored, PREFIX, PREFIX_LEN) == 0;
}

void pb_catalog_secret_to_row(const pb_provider *p, pb_store_provider *r)
{
    size_t n = p->secret_len <= PB_PROVIDER_SECRET_MAX ? p->secret_len : PB_PROVIDER_SECRET_MAX;
    if (n == 0 || !atomic_load(&seal_on)) { /* none, or no key: stored as given */
        r->secret_len = n;
        memcpy(r->secret, p->secret, n);
        return;
    }
    char ad[PB_PROVIDER_CODE_MAX + 16];
    ad_of(p->code, ad, sizeof ad);
    memcpy(r->secret, PREFIX, PREFIX_LEN);
    pb_sealbox_seal(seal_key, ad, p->secret, n, r->secret + PREFIX_LEN);
    r->secret_len = PREFIX_LEN + PB_SEALBOX_OVERHEAD + n;
}

void pb_catalog_secret_from_row(const pb_store_provider *r, pb_provider *p)
{
    p->secret_len = 0;
    p->secret_unavailable = false;
    if (!pb_catalog_secret_is_sealed(r->secret, r->secret_len)) {
        size_t n = r->secret_len <= sizeof p->secret ? r->secret_len : sizeof p->secret;
        memcpy(p->secret, r->secret, n); /* in the clear (or none) */
        p->secret_len = n;
        return;
    }
    char ad[PB_PROVIDER_CODE_MAX + 16];
    ad_of(r->code, ad, sizeof ad);
    size_t n = r->secret_len - PREFIX_LEN - PB_SEALBOX_OVERHEAD;
    if (atomic_load(&seal_on) && pb_sealbox_open(seal_key, ad, r->secret + PREFIX_LEN,
                                                 r->secret_len - PREFIX_LEN, p->secret) == 0) {
        p->secret_len = n;
        return;
    }
    p->secret_unavailable = true;
}

void pb_catalog_secret_log_unavailable(const char *code)
{
    pb_log(PB_LOG_ERROR, "catalog.secret_unavailable",
           "provider %s: its stored key does not open with %s (is the keys directory the one "
           "it was sealed under?); its requests are refused",
           code, atomic_load(&seal_on) ? "the keys directory's provider.key" : "no key");
}

/* One batch of pb_store_batched: seals the clear keys among up to cap providers
 * past *after (and says which sealed ones do not open). */
static pb_store_rc seal_batch(pb_store_conn *c, void *ctx, void *buf, size_t cap, int64_t *after,
                              size_t *n, int64_t *done)
{
    (void)ctx;
    pb_store_provider *rows = buf;
    pb_store_rc rc = pb_store_provider_list(c, *after, rows, cap, n);
    for (size_t i = 0; rc == PB_STORE_OK && i < *n; i++) {
        pb_store_provider *r = &rows[i];
        *after = r->id;
        pb_provider p;
        memset(&p, 0, sizeof p);
        if (pb_catalog_secret_is_sealed(r->secret, r->secret_len)) {
            pb_catalog_secret_from_row(r, &p);
            if (p.secret_unavailable) /* said at start, not only at the first request */
                pb_catalog_secret_log_unavailable(r->code);
            sodium_memzero(&p, sizeof p);
            continue;
        }
        if (r->secret_len < PB_PROVIDER_SECRET_MIN || r->secret_len > PB_PROVIDER_SECRET_MAX)
            continue;
        PB_CATALOG_COPY(p.code, r->code);
        memcpy(p.secret, r->secret, r->secret_len);
        p.secret_len = r->secret_len;
        pb_catalog_secret_to_row(&p, r); /* updated_at kept: the provider did not change */
        sodium_memzero(&p, sizeof p);
        rc = pb_store_provider_update(c, r);
        (*done)++;
    }
    return rc;
}

int pb_catalog_seal_existing(pb_store *s, int64_t *sealed, char *err, size_t errcap)
{
    *sealed = 0;
    if (!atomic_load(&seal_on))
        return 0;
    int ret = pb_store_batched(s, sizeof(pb_store_provider), SEAL_BATCH, seal_batch, NULL, sealed,
                               "catalog: cannot seal the stored provider keys", err, errcap);
    if (ret == 0 && *sealed > 0)
        pb_log(PB_LOG_INFO, "catalog.secrets_sealed",
               "%lld provider key(s) stored in the clear are now sealed under provider.key",
               (long long)*sealed);
    return ret;
}
