/*
 * cacheguard.h — when an in-process read cache may keep and serve what it read.
 *
 * Several hot reads (the catalog's playability, tenancy's brands) are cached in
 * the process for a short time. They share one rule, kept here:
 *   - an entry lives at most ttl_us (a write by ANOTHER process, which this one
 *     cannot see, is seen within that time);
 *   - a write by THIS process calls pb_cache_guard_forget() as it writes: every
 *     entry of an older generation is ignored from then on, and for quiet_us
 *     nothing read may be stored (the write's transaction may not have committed
 *     yet; a read racing with it could otherwise cache the old row under the new
 *     generation).
 * The guard's mutex also protects the cache's own slots: callers take it with
 * pb_cache_guard_lock() around their lookups and stores.
 */
#ifndef PB_CORE_CACHEGUARD_H
#define PB_CORE_CACHEGUARD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct pb_cache_guard {
    pthread_mutex_t mu;
    uint64_t gen;
    int64_t changed_us; /* monotonic time of the last forget; 0 = none */
    int64_t ttl_us, quiet_us;
} pb_cache_guard;

#define PB_CACHE_GUARD_INIT(ttl_us, quiet_us)                 \
    {                                                         \
        PTHREAD_MUTEX_INITIALIZER, 0, 0, (ttl_us), (quiet_us) \
    }

/* A write in this process: forget every entry, store nothing for quiet_us. */
void pb_cache_guard_forget(pb_cache_guard *g);

/* New lifetimes (tests); forgets every entry. */
void pb_cache_guard_tune(pb_cache_guard *g, int64_t ttl_us, int64_t quiet_us);

/* The generation a read starting now would be stored under; false when nothing
 * read now may be stored (a write was too recent). */
bool pb_cache_guard_snapshot(pb_cache_guard *g, uint64_t *gen);

void pb_cache_guard_lock(pb_cache_guard *g);
void pb_cache_guard_unlock(pb_cache_guard *g);

/* With the lock held: an entry loaded at loaded_us (0 = empty) under gen is
 * still to be served at now. */
bool pb_cache_guard_live(const pb_cache_guard *g, uint64_t gen, int64_t loaded_us, int64_t now);

/* The same, taking the lock: for a cache that keeps its slots under a lock of
 * its own and follows another module's guard (whose writes forget it). */
bool pb_cache_guard_fresh(pb_cache_guard *g, uint64_t gen, int64_t loaded_us, int64_t now);

#endif
