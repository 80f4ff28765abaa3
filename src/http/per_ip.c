/*
 * per_ip.c — the --max-per-ip limit: open connections per direct TCP peer, the
 * trusted reverse proxies (--trusted-proxies) exempt.
 *
 * libmicrohttpd's own MHD_OPTION_PER_IP_CONNECTION_LIMIT counts TCP peers and
 * knows no exemption: behind a reverse proxy every client's connections come
 * from the proxy's address, so its limit throttled all clients together. This
 * file keeps the count instead. The count of an address lives in an
 * open-addressing table (linear probing, backward-shift deletion) under one
 * mutex: O(1) per accept and per close. An IPv4 peer counts by its address (an
 * IPv4-mapped IPv6 peer as IPv4), an IPv6 peer by its /64 (pb_http_per_ip_key);
 * the trusted proxies are matched on the whole address.
 *
 * Two places, because neither alone is exact and cheap:
 *   accept policy (MHD's apc, before MHD allocates the connection): a peer
 *       at its limit is refused at once — the common case, nothing allocated;
 *   connection started (MHD_OPTION_NOTIFY_CONNECTION): the count goes up,
 *       under the lock; a connection that takes its peer over the limit (two
 *       workers accepted from the same peer at the same moment, both past the
 *       policy check) has its socket shut down, so MHD closes it at once, and
 *       nothing of it is ever served. Counting at "started" rather than in the
 *       policy callback matters: MHD may still drop an accepted connection
 *       after the policy said yes (the total limit, memory) without telling
 *       anyone, and a count taken there would leak. "Closed" follows every
 *       "started", and takes the count down.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "http/http_internal.h"

/* One address and its open connections (n == 0: a free slot). */
struct pb_http_ip_slot {
    uint8_t family; /* AF_INET or AF_INET6 (fits: both are small) */
    uint8_t addr[16];
    unsigned n;
};

/* Marks in a connection's socket_context: counted (to be taken down on close). */
static char counted_mark;

/* The address of sa as (family, 16 bytes, IPv4 in the first 4); false when it is
 * neither IPv4 nor IPv6. */
static bool key_of(const struct sockaddr *sa, uint8_t *family, uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        *family = AF_INET;
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const uint8_t *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) {
            memcpy(addr, a + 12, 4);
            *family = AF_INET;
        } else {
            memcpy(addr, a, 16);
            *family = AF_INET6;
        }
        return true;
    }
    return false;
}

/* The key a peer's connections count under (key_of's address, an IPv6 one cut
 * to its /64: one host usually holds a whole /64, so counting its addresses one
 * by one would let it open max_per_ip connections from each; the login lockout
 * groups IPv6 the same way, identity/login.c). */
static void to_count_key(uint8_t family, uint8_t addr[16])
{
    if (family == AF_INET6)
        memset(addr + 8, 0, 8);
}

bool pb_http_per_ip_key(const struct sockaddr *sa, uint8_t *family, uint8_t key[16])
{
    if (!key_of(sa, family, key))
        return false;
    to_count_key(*family, key);
    return true;
}

/* FNV-1a over the key. */
static size_t hash_of(uint8_t family, const uint8_t addr[16])
{
    uint64_t h = 1469598103934665603ULL ^ family;
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

/* The slot of the key, or the free slot where it would go; NULL when the table
 * is full and the key is not in it. Under ip_mu. */
static struct pb_http_ip_slot *find(pb_http_server *srv, uint8_t family, const uint8_t addr[16])
{
    size_t mask = srv->ip_cap - 1;
    for (size_t i = hash_of(family, addr) & mask, k = 0; k < srv->ip_cap; i = (i + 1) & mask, k++) {
        struct pb_http_ip_slot *s = &srv->ip_slots[i];
        if (s->n == 0 || (s->family == family && memcmp(s->addr, addr, 16) == 0))
            return s;
    }
    return NULL;
}

/* Frees slot s (its count reached 0), moving later entries of its probe run
 * back so that every key stays reachable from its home slot. Under ip_mu. */
static void erase(pb_http_server *srv, struct pb_http_ip_slot *s)
{
    size_t mask = srv->ip_cap - 1, hole = (size_t)(s - srv->ip_slots);
    srv->ip_slots[hole].n = 0;
    for (size_t i = (hole + 1) & mask; srv->ip_slots[i].n != 0; i = (i + 1) & mask) {
        size_t home = hash_of(srv->ip_slots[i].family, srv->ip_slots[i].addr) & mask;
        /* the entry at i may fill the hole unless its home lies in (hole, i] */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (stays)
            continue;
        srv->ip_slots[hole] = srv->ip_slots[i];
        srv->ip_slots[i].n = 0;
        hole = i;
    }
}

int pb_http_per_ip_init(pb_http_server *srv)
{
    srv->ip_slots = NULL;
    srv->ip_cap = 0;
    if (srv->cfg.max_per_ip == 0)
        return 0;
    /* MHD holds at most max_connections open, so at most that many addresses;
     * twice that keeps the probe runs short */
    size_t cap = 16;
    while (cap < 2 * (size_t)srv->cfg.max_connections + 2 * srv->cfg.threads)
        cap *= 2;
    srv->ip_slots = calloc(cap, sizeof *srv->ip_slots);
    if (!srv->ip_slots)
        return -1;
    srv->ip_cap = cap;
    pthread_mutex_init(&srv->ip_mu, NULL);
    return 0;
}

void pb_http_per_ip_free(pb_http_server *srv)
{
    if (!srv->ip_slots)
        return;
    pthread_mutex_destroy(&srv->ip_mu);
    free(srv->ip_slots);
    srv->ip_slots = NULL;
}

/* Whether the peer is subject to the limit: not a trusted proxy. */
static bool limited(const pb_http_server *srv, uint8_t family, const uint8_t addr[16])
{
    return !pb_http_proxies_contain_addr(&srv->proxies, family, addr);
}

bool pb_http_per_ip_admit(pb_http_server *srv, const struct sockaddr *sa)
{
    uint8_t family, addr[16];
    if (!srv->ip_slots || !key_of(sa, &family, addr) || !limited(srv, family, addr))
        return true;
    to_count_key(family, addr); /* the proxies are matched on the whole address */
    pthread_mutex_lock(&srv->ip_mu);
    const struct pb_http_ip_slot *s = find(srv, family, addr);
    bool ok = !s || s->n < srv->cfg.max_per_ip;
    pthread_mutex_unlock(&srv->ip_mu);
    return ok;
}

void pb_http_per_ip_started(pb_http_server *srv, struct MHD_Connection *conn, void **ctx)
{
    *ctx = NULL;
    if (!srv->ip_slots)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    uint8_t family, addr[16];
    if (!ci || !key_of(ci->client_addr, &family, addr) || !limited(srv, family, addr))
        return;
    to_count_key(family, addr);
    pthread_mutex_lock(&srv->ip_mu);
    struct pb_http_ip_slot *s = find(srv, family, addr);
    bool over = false;
    if (s) {
        if (s->n == 0) {
            s->family = family;
            memcpy(s->addr, addr, 16);
        }
        s->n++;
        over = s->n > srv->cfg.max_per_ip;
        *ctx = &counted_mark;
    }
    pthread_mutex_unlock(&srv->ip_mu);
    if (!s) /* cannot happen while MHD keeps its total limit: serve, uncounted */
        pb_log(PB_LOG_WARN, "http.per_ip_full", "the per-IP connection table is full");
    if (over) {
        /* MHD sees the end of the stream and closes it; "closed" takes the count down */
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (fd)
            shutdown(fd->connect_fd, SHUT_RDWR);
    }
}

void pb_http_per_ip_closed(pb_http_server *srv, struct MHD_Connection *conn, void **ctx)
{
    if (*ctx != &counted_mark)
        return;
    *ctx = NULL;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    uint8_t family, addr[16];
    if (!ci || !pb_http_per_ip_key(ci->client_addr, &family, addr))
        return;
    pthread_mutex_lock(&srv->ip_mu);
    struct pb_http_ip_slot *s = find(srv, family, addr);
    if (s && s->n > 0 && --s->n == 0)
        erase(srv, s);
    pthread_mutex_unlock(&srv->ip_mu);
}
