/*
 * cache.c — the ledger writer's in-memory indexes (writer thread only).
 *
 *  - the account cache: every account the writer touched, with its counters.
 *    The writer is the only writer, so these are authoritative; they reach the
 *    store once per batch. Entries are allocated one by one so pointers stay
 *    valid while the table grows.
 *  - the open holds this writer created, so a post or void settles without
 *    reading the store (bounded; a miss falls back to the store).
 *  - a Bloom filter over every remembered rejection's key, so that a new key
 *    (nearly all of them) skips the rejection lookup.
 * All three are rebuilt from the store after a failed batch.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_internal.h"

/* ---------------------------------------------------------------- account cache */

static size_t slot_of(int64_t id, size_t nslots)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (nslots - 1);
}

void pb_ledger_cache_clear(pb_ledger *l)
{
    for (size_t i = 0; i < l->nslots; i++) {
        free(l->slots[i]);
        l->slots[i] = NULL;
    }
    l->nused = 0;
    l->ndirty = 0;
    l->nundo = 0;
    l->uf_head = l->uf_tail = NULL;
}

static int cache_grow(pb_ledger *l)
{
    size_t n = l->nslots ? l->nslots * 2 : 4096;
    cached_account **s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < l->nslots; i++) {
        cached_account *e = l->slots[i];
        if (!e)
            continue;
        size_t j = slot_of(e->a.id, n);
        while (s[j])
            j = (j + 1) & (n - 1);
        s[j] = e;
    }
    free(l->slots);
    l->slots = s;
    l->nslots = n;
    return 0;
}

/* The cached account, loading it from the store on a miss. *out = NULL when it does
 * not exist; STORE_CORRUPT (logged, nothing cached) when its row is damaged
 * (damaged.c); INTERNAL when the store failed. */
pb_err pb_ledger_cache_get(pb_ledger *l, int64_t id, cached_account **out)
{
    *out = NULL;
    if (id <= 0)
        return PB_OK;
    if (l->nused * 2 >= l->nslots && cache_grow(l) != 0)
        return PB_ERR_INTERNAL;
    size_t j = slot_of(id, l->nslots);
    while (l->slots[j]) {
        if (l->slots[j]->a.id == id) {
            *out = l->slots[j];
            return PB_OK;
        }
        j = (j + 1) & (l->nslots - 1);
    }
    cached_account *e = calloc(1, sizeof *e);
    if (!e)
        return PB_ERR_INTERNAL;
    pb_store_rc rc = pb_store_account_get(l->wconn, id, &e->a);
    if (rc == PB_STORE_NOT_FOUND) {
        free(e);
        return PB_OK;
    }
    if (rc != PB_STORE_OK) {
        free(e);
        return PB_ERR_INTERNAL;
    }
    const char *bad = pb_ledger_account_damage(&e->a);
    if (bad) { /* never cached: read again next time, so a repair is seen (damaged.c) */
        pb_ledger_account_damaged(l, &e->a, bad);
        free(e);
        return PB_ERR_STORE_CORRUPT;
    }
    pb_ledger_account_sound(l, id);
    l->slots[j] = e;
    l->nused++;
    *out = e;
    return PB_OK;
}

/* ---------------------------------------------------------------- open holds */

#define HOLDS_MAX (1u << 20) /* open holds kept at most; beyond, the store answers for them */

static size_t hold_slot(const pb_id *id, size_t n)
{
    uint64_t h;
    memcpy(&h, id->b + 8, 8); /* the random half of a UUIDv7 */
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (n - 1);
}

void pb_ledger_holds_clear(pb_ledger *l)
{
    if (l->holds)
        memset(l->holds, 0, l->nholds_slots * sizeof *l->holds);
    l->nholds = 0;
    l->lazy_head = l->nlazy = 0; /* what the ring named is gone with the entries */
    l->lazy_min_expiry = INT64_MAX;
}

bool pb_ledger_holds_put(pb_ledger *l, const pb_store_transfer *t, bool flushed)
{
    if (l->nholds >= HOLDS_MAX)
        return false; /* the store answers for the holds beyond */
    if ((l->nholds + 1) * 2 > l->nholds_slots) {
        size_t n = l->nholds_slots ? l->nholds_slots * 2 : 4096;
        hold_entry *x = calloc(n, sizeof *x);
        if (!x)
            return false;
        for (size_t i = 0; i < l->nholds_slots; i++) {
            if (!l->holds[i].seq)
                continue;
            size_t j = hold_slot(&l->holds[i].id, n);
            while (x[j].seq)
                j = (j + 1) & (n - 1);
            x[j] = l->holds[i];
        }
        free(l->holds);
        l->holds = x;
        l->nholds_slots = n;
    }
    size_t j = hold_slot(&t->id, l->nholds_slots);
    while (l->holds[j].seq)
        j = (j + 1) & (l->nholds_slots - 1);
    hold_entry *h = &l->holds[j];
    h->id = t->id;
    h->seq = t->seq;
    h->amount = t->amount;
    h->debit = t->debit_account_id;
    h->credit = t->credit_account_id;
    h->expires_at = t->expires_at;
    h->code = t->code;
    h->flushed = flushed;
    memcpy(h->currency, t->currency, sizeof h->currency);
    l->nholds++;
    return true;
}

hold_entry *pb_ledger_holds_get(pb_ledger *l, const pb_id *id)
{
    if (!l->nholds)
        return NULL;
    for (size_t j = hold_slot(id, l->nholds_slots);; j = (j + 1) & (l->nholds_slots - 1)) {
        if (!l->holds[j].seq)
            return NULL;
        if (pb_id_cmp(&l->holds[j].id, id) == 0)
            return &l->holds[j];
    }
}

/* Removes an entry keeping every probe chain intact (backward-shift deletion). */
void pb_ledger_holds_del(pb_ledger *l, const pb_id *id)
{
    hold_entry *h = pb_ledger_holds_get(l, id);
    if (!h)
        return;
    size_t n = l->nholds_slots, i = (size_t)(h - l->holds);
    for (size_t j = (i + 1) & (n - 1); l->holds[j].seq; j = (j + 1) & (n - 1)) {
        size_t home = hold_slot(&l->holds[j].id, n);
        /* move j back into the hole at i if its home does not lie in (i, j] */
        if (((j - home) & (n - 1)) >= ((j - i) & (n - 1))) {
            l->holds[i] = l->holds[j];
            i = j;
        }
    }
    memset(&l->holds[i], 0, sizeof l->holds[i]);
    l->nholds--;
}

/* ---------------------------------------------------------------- rejection filter */

#define BLOOM_BITS (1u << 24) /* 2 MiB: ~2% false positives at 2 million rejections */

/* FNV-1a over scope, a separator and key, then a final mix. */
static uint64_t key_hash(const char *scope, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = scope; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

void pb_ledger_bloom_add(pb_ledger *l, const char *scope, const char *key)
{
    uint64_t h = key_hash(scope, key);
    uint32_t a = (uint32_t)h, b = (uint32_t)(h >> 32) | 1;
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t bit = (a + i * b) & (BLOOM_BITS - 1);
        l->bloom[bit >> 6] |= 1ull << (bit & 63);
    }
}

bool pb_ledger_bloom_maybe(const pb_ledger *l, const char *scope, const char *key)
{
    uint64_t h = key_hash(scope, key);
    uint32_t a = (uint32_t)h, b = (uint32_t)(h >> 32) | 1;
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t bit = (a + i * b) & (BLOOM_BITS - 1);
        if (!(l->bloom[bit >> 6] & (1ull << (bit & 63))))
            return false;
    }
    return true;
}

static int bloom_load_key(void *ctx, const char *scope, const char *key)
{
    pb_ledger_bloom_add(ctx, scope ? scope : "", key ? key : "");
    return 0;
}

pb_err pb_ledger_bloom_load(pb_ledger *l)
{
    if (!l->bloom && !(l->bloom = calloc(BLOOM_BITS / 64, sizeof *l->bloom)))
        return PB_ERR_INTERNAL;
    memset(l->bloom, 0, BLOOM_BITS / 8);
    return pb_store_rejection_scan_keys(l->wconn, bloom_load_key, l) == PB_STORE_OK
               ? PB_OK
               : PB_ERR_INTERNAL;
}
