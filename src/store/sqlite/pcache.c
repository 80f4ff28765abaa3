/*
 * pcache.c — the page cache shim (see pcache.h).
 *
 * Every method forwards to the default cache SQLite would have used. The shim's
 * own state per cache is a bound: every page number the cache may hold is
 * <= max_key, except the swap number, which a page holds only between two
 * rekeys of balance_nonroot (swap_live counts them). Page numbers enter a cache
 * only through xFetch with a create flag and through xRekey, so the bound is
 * kept by looking at those two; numbers leave through xUnpin (discard), xRekey
 * and xTruncate, which the bound may ignore (it only has to stay an upper
 * bound). xTruncate(limit) removes the pages numbered >= limit: when
 * max_key < limit and no page holds the swap number there is none, so the call
 * is skipped; otherwise it is forwarded and the bound lowered to limit - 1.
 *
 * A cache is used by one connection, under that connection's mutex: the shim's
 * state needs no lock of its own. The counters (for tests) are process-wide
 * and atomic.
 */
#include "store/sqlite/pcache.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>

/* SQLite's default: the lock-byte page starts at 1 GiB (sqlite3PendingByte). */
#define PENDING_BYTE_DEFAULT 0x40000000u

typedef struct shim_cache {
    sqlite3_pcache *inner;
    unsigned max_key;   /* no page but one at swap_key is numbered above this */
    unsigned swap_key;  /* the page number balance_nonroot swaps pages through */
    unsigned swap_live; /* pages rekeyed to swap_key and not rekeyed away since */
} shim_cache;

static sqlite3_pcache_methods2 base;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int install_rc = SQLITE_MISUSE;
static atomic_ullong forwarded, skipped, swaps;

static int shim_init(void *arg)
{
    (void)arg;
    return base.xInit ? base.xInit(base.pArg) : SQLITE_OK;
}

static void shim_shutdown(void *arg)
{
    (void)arg;
    if (base.xShutdown)
        base.xShutdown(base.pArg);
}

static sqlite3_pcache *shim_create(int page_size, int extra_size, int purgeable)
{
    shim_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->inner = base.xCreate(page_size, extra_size, purgeable);
    if (!c->inner) {
        free(c);
        return NULL;
    }
    c->swap_key = page_size > 0 ? PENDING_BYTE_DEFAULT / (unsigned)page_size + 1 : 0;
    return (sqlite3_pcache *)c;
}

static void shim_cachesize(sqlite3_pcache *p, int n)
{
    base.xCachesize(((shim_cache *)p)->inner, n);
}

static int shim_pagecount(sqlite3_pcache *p) { return base.xPagecount(((shim_cache *)p)->inner); }

static sqlite3_pcache_page *shim_fetch(sqlite3_pcache *p, unsigned key, int create)
{
    shim_cache *c = (shim_cache *)p;
    sqlite3_pcache_page *pg = base.xFetch(c->inner, key, create);
    if (pg && key > c->max_key)
        c->max_key = key; /* also the swap number when a page is made under it */
    return pg;
}

static void shim_unpin(sqlite3_pcache *p, sqlite3_pcache_page *pg, int discard)
{
    base.xUnpin(((shim_cache *)p)->inner, pg, discard);
}

static void shim_rekey(sqlite3_pcache *p, sqlite3_pcache_page *pg, unsigned old_key,
                       unsigned new_key)
{
    shim_cache *c = (shim_cache *)p;
    base.xRekey(c->inner, pg, old_key, new_key);
    if (old_key == c->swap_key && c->swap_live > 0)
        c->swap_live--;
    if (new_key == c->swap_key) {
        c->swap_live++;
        atomic_fetch_add_explicit(&swaps, 1, memory_order_relaxed);
    } else if (new_key > c->max_key)
        c->max_key = new_key;
}

static void shim_truncate(sqlite3_pcache *p, unsigned limit)
{
    shim_cache *c = (shim_cache *)p;
    if (c->max_key < limit && (c->swap_live == 0 || c->swap_key < limit)) {
        atomic_fetch_add_explicit(&skipped, 1, memory_order_relaxed);
        return; /* nothing is numbered limit or above */
    }
    atomic_fetch_add_explicit(&forwarded, 1, memory_order_relaxed);
    base.xTruncate(c->inner, limit);
    if (limit > 0 && c->max_key >= limit)
        c->max_key = limit - 1;
    if (c->swap_key >= limit)
        c->swap_live = 0;
}

static void shim_destroy(sqlite3_pcache *p)
{
    shim_cache *c = (shim_cache *)p;
    base.xDestroy(c->inner);
    free(c);
}

static void shim_shrink(sqlite3_pcache *p)
{
    if (base.xShrink)
        base.xShrink(((shim_cache *)p)->inner);
}

static void install(void)
{
    int rc = sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &base);
    if (rc != SQLITE_OK) {
        install_rc = rc;
        return;
    }
    static sqlite3_pcache_methods2 shim = {
        .iVersion = 1,
        .pArg = NULL,
        .xInit = shim_init,
        .xShutdown = shim_shutdown,
        .xCreate = shim_create,
        .xCachesize = shim_cachesize,
        .xPagecount = shim_pagecount,
        .xFetch = shim_fetch,
        .xUnpin = shim_unpin,
        .xRekey = shim_rekey,
        .xTruncate = shim_truncate,
        .xDestroy = shim_destroy,
        .xShrink = shim_shrink,
    };
    install_rc = sqlite3_config(SQLITE_CONFIG_PCACHE2, &shim);
}

int pb_sq_pcache_install(void)
{
    pthread_once(&once, install);
    return install_rc;
}

void pb_sq_pcache_stats(unsigned long long *fwd, unsigned long long *skip,
                        unsigned long long *swapped)
{
    if (swapped)
        *swapped = atomic_load_explicit(&swaps, memory_order_relaxed);
    if (fwd)
        *fwd = atomic_load_explicit(&forwarded, memory_order_relaxed);
    if (skip)
        *skip = atomic_load_explicit(&skipped, memory_order_relaxed);
}
