/*
 * ratelimit.c — in-memory rate limits: a token bucket per key (client IP,
 * account), thread-safe and bounded in memory.
 *
 * Each bucket is kept as one number, GCRA style: the theoretical arrival time
 * `tat` of the next request. A request at `now` is allowed when
 * tat - now <= (burst - 1) * interval, and then moves tat to max(tat, now) +
 * interval. This is exactly a token bucket of `burst` tokens refilled one per
 * interval, without a refill loop. A bucket whose tat is in the past is full, so
 * it is the same as no bucket at all and may be dropped at any time.
 *
 * Keys are hashed (keyed BLAKE2b, 128 bits, a random key per limiter, so nobody
 * can aim collisions) into 16 shards, each an open-addressing table (linear
 * probing, backward-shift deletion) under its own mutex. When a shard is full,
 * full buckets are swept out first (at most once a second); if that frees
 * nothing, the bucket with the oldest tat
 * among the probed neighbourhood is evicted — under a flood of distinct keys the
 * limiter forgets the quietest keys rather than growing.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "identity/identity_internal.h"

#define SHARDS 16
#define EVICT_PROBE 16

typedef struct slot {
    uint8_t digest[16];
    int64_t tat; /* 0: empty slot */
} slot;

typedef struct shard {
    pthread_mutex_t mu;
    slot *slots;
    size_t cap; /* a power of two */
    size_t used;
    size_t max;       /* most keys kept */
    int64_t swept_at; /* the last full sweep (at most one a second) */
} shard;

struct pb_ratelimit {
    uint8_t key[crypto_generichash_KEYBYTES];
    int64_t interval_us;
    int64_t tolerance_us; /* (burst - 1) * interval */
    shard shards[SHARDS];
};

/* Sizes the shards for max_keys at a load factor of at most 3/4. */
pb_ratelimit *pb_ratelimit_new(uint32_t burst, int64_t interval_us, size_t max_keys)
{
    if (burst == 0 || interval_us <= 0 || max_keys == 0 ||
        (int64_t)(burst - 1) > INT64_MAX / interval_us || sodium_init() < 0)
        return NULL;
    pb_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    randombytes_buf(rl->key, sizeof rl->key);
    rl->interval_us = interval_us;
    rl->tolerance_us = (int64_t)(burst - 1) * interval_us;
    size_t per = (max_keys + SHARDS - 1) / SHARDS, cap = 8;
    while (cap < per + per / 3 + 1) /* load factor <= 3/4 */
        cap *= 2;
    for (int i = 0; i < SHARDS; i++) {
        shard *s = &rl->shards[i];
        pthread_mutex_init(&s->mu, NULL);
        s->cap = cap;
        s->max = per;
        s->slots = calloc(cap, sizeof *s->slots);
        if (!s->slots) {
            for (int j = 0; j <= i; j++) {
                free(rl->shards[j].slots);
                pthread_mutex_destroy(&rl->shards[j].mu);
            }
            free(rl);
            return NULL;
        }
    }
    return rl;
}

/* Frees the tables and wipes the hashing key. */
void pb_ratelimit_free(pb_ratelimit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < SHARDS; i++) {
        free(rl->shards[i].slots);
        pthread_mutex_destroy(&rl->shards[i].mu);
    }
    sodium_memzero(rl->key, sizeof rl->key);
    free(rl);
}

/* The home index of a digest in a shard (digest bytes 8..15; bytes 0 picks the shard). */
static size_t home(const shard *s, const uint8_t d[16])
{
    uint64_t h;
    memcpy(&h, d + 8, sizeof h);
    return (size_t)h & (s->cap - 1);
}

/* Empties slot i and shifts later members of its probe run back (no tombstones). */
static void remove_at(shard *s, size_t i)
{
    size_t mask = s->cap - 1, j = i;
    s->slots[i].tat = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (s->slots[j].tat == 0)
            break;
        size_t h = home(s, s->slots[j].digest);
        /* slot j may move to the hole at i unless its home lies cyclically in (i, j] */
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            s->slots[i] = s->slots[j];
            s->slots[j].tat = 0;
            i = j;
        }
    }
    s->used--;
}

/* Drops every full bucket (tat <= now). */
static void sweep(shard *s, int64_t now)
{
    for (size_t i = 0; i < s->cap;) {
        if (s->slots[i].tat != 0 && s->slots[i].tat <= now)
            remove_at(s, i); /* slot i may now hold a shifted entry: look again */
        else
            i++;
    }
}

/* Evicts the bucket with the oldest tat among the slots after index h. */
static void evict_near(shard *s, size_t h)
{
    size_t mask = s->cap - 1, victim = SIZE_MAX;
    for (size_t k = 0; k < s->cap && (victim == SIZE_MAX || k < EVICT_PROBE); k++) {
        size_t i = (h + k) & mask;
        if (s->slots[i].tat != 0 && (victim == SIZE_MAX || s->slots[i].tat < s->slots[victim].tat))
            victim = i;
    }
    if (victim != SIZE_MAX)
        remove_at(s, victim);
}

/* The GCRA step for one key, under its shard's mutex. */
pb_err pb_ratelimit_take(pb_ratelimit *rl, const char *key, int64_t now, int64_t *retry_after_us)
{
    uint8_t d[16];
    crypto_generichash(d, sizeof d, (const unsigned char *)key, strlen(key), rl->key,
                       sizeof rl->key);
    if (retry_after_us)
        *retry_after_us = 0;
    if (now <= 0)
        now = 1; /* tat 0 marks an empty slot */
    shard *s = &rl->shards[d[0] % SHARDS];
    pthread_mutex_lock(&s->mu);
    size_t mask = s->cap - 1, i = home(s, d);
    while (s->slots[i].tat != 0 && memcmp(s->slots[i].digest, d, sizeof d) != 0)
        i = (i + 1) & mask;
    int64_t tat = s->slots[i].tat != 0 && s->slots[i].tat > now ? s->slots[i].tat : now;
    pb_err e = PB_OK;
    if (tat - now > rl->tolerance_us) {
        e = PB_ERR_RATE_LIMITED;
        if (retry_after_us)
            *retry_after_us = tat - now - rl->tolerance_us;
    } else if (s->slots[i].tat != 0) {
        s->slots[i].tat = tat + rl->interval_us;
    } else {
        if (s->used >= s->max) {
            if (now - s->swept_at >= 1000000) {
                sweep(s, now);
                s->swept_at = now;
            }
            if (s->used >= s->max)
                evict_near(s, home(s, d));
            /* the table changed: find the insertion point again */
            i = home(s, d);
            while (s->slots[i].tat != 0)
                i = (i + 1) & mask;
        }
        memcpy(s->slots[i].digest, d, sizeof d);
        s->slots[i].tat = tat + rl->interval_us;
        s->used++;
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

/* Sums the shards' counts. */
size_t pb_ratelimit_size(pb_ratelimit *rl)
{
    size_t n = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&rl->shards[i].mu);
        n += rl->shards[i].used;
        pthread_mutex_unlock(&rl->shards[i].mu);
    }
    return n;
}
