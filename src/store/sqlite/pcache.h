/*
 * pcache.h — SQLite's own page cache, with commits that stay cheap when the
 * cache is large.
 *
 * At the end of every write transaction SQLite truncates the connection's page
 * cache to the database size (pager_end_transaction → sqlite3PcacheTruncate).
 * The default cache (pcache1) does that cheaply when its largest page number
 * seen is near the limit, and otherwise walks every hash bucket and every cached
 * page. When a B-tree rebalance has to reorder its new pages, SQLite swaps two
 * of them through a temporary page number: the lock-byte page,
 * PENDING_BYTE / page size + 1 (262,145 with 4 KiB pages). That one rekey makes
 * pcache1 believe a page that far out may exist, so the next commit walks the
 * whole cache: 16,384 buckets and ~14,000 page headers for the writer's 64 MiB
 * cache. In the wallet benchmark 914 of the writer's 994 commit-time
 * truncations in four seconds were such full walks (perf probes on libsqlite3
 * 3.40.1).
 *
 * The shim keeps pcache1 and forwards every call to it, but also keeps its own
 * bound on the page numbers the cache can hold — every number a page was
 * created or rekeyed under, except the swap number, which is tracked by whether
 * a page holds it right now — and skips a truncation that cannot remove
 * anything (no page at or above the limit). A truncation that can is forwarded
 * (and then costs what it always did).
 */
#ifndef PB_STORE_SQLITE_PCACHE_H
#define PB_STORE_SQLITE_PCACHE_H

/* Installs the shim over the default page cache, once per process. Must run
 * before SQLite initialises (it does nothing afterwards and returns the
 * SQLite error). Returns SQLITE_OK when the shim is in place. */
int pb_sq_pcache_install(void);

/* Since start (for tests): truncations forwarded to pcache1 and skipped, and
 * pages rekeyed to the swap number. Any pointer may be NULL. */
void pb_sq_pcache_stats(unsigned long long *forwarded, unsigned long long *skipped,
                        unsigned long long *swapped);

#endif
