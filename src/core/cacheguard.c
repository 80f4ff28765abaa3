/*
 * cacheguard.c — see cacheguard.h.
 */
#include "core/cacheguard.h"

#include "core/time.h"

void pb_cache_guard_forget(pb_cache_guard *g)
{
    pthread_mutex_lock(&g->mu);
    g->gen++;
    g->changed_us = pb_time_mono_us();
    pthread_mutex_unlock(&g->mu);
}

void pb_cache_guard_tune(pb_cache_guard *g, int64_t ttl_us, int64_t quiet_us)
{
    pthread_mutex_lock(&g->mu);
    g->ttl_us = ttl_us;
    g->quiet_us = quiet_us;
    g->gen++;
    pthread_mutex_unlock(&g->mu);
}

bool pb_cache_guard_snapshot(pb_cache_guard *g, uint64_t *gen)
{
    pthread_mutex_lock(&g->mu);
    *gen = g->gen;
    bool ok = g->changed_us == 0 || pb_time_mono_us() - g->changed_us >= g->quiet_us;
    pthread_mutex_unlock(&g->mu);
    return ok;
}

void pb_cache_guard_lock(pb_cache_guard *g) { pthread_mutex_lock(&g->mu); }
void pb_cache_guard_unlock(pb_cache_guard *g) { pthread_mutex_unlock(&g->mu); }

bool pb_cache_guard_live(const pb_cache_guard *g, uint64_t gen, int64_t loaded_us, int64_t now)
{
    return loaded_us != 0 && gen == g->gen && now - loaded_us < g->ttl_us;
}

bool pb_cache_guard_fresh(pb_cache_guard *g, uint64_t gen, int64_t loaded_us, int64_t now)
{
    pthread_mutex_lock(&g->mu);
    bool live = pb_cache_guard_live(g, gen, loaded_us, now);
    pthread_mutex_unlock(&g->mu);
    return live;
}
