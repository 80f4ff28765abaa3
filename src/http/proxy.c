/*
 * proxy.c — trusted reverse proxies and the client address of a request.
 *
 * Behind a reverse proxy every request's TCP peer is the proxy, so the login
 * lockout (per account and client address), the audit log and the access log
 * would see one address for everyone. The operator names the proxies
 * (--trusted-proxies / PITBOSS_TRUSTED_PROXIES: addresses or CIDR blocks, IPv4
 * or IPv6, comma-separated); when the peer is one of them, the client address
 * is read from X-Forwarded-For by the right-most-untrusted rule: walk the list
 * from the right (the entry the nearest proxy appended first), skip entries
 * that are themselves trusted proxies, take the first that is not. Everything
 * left of that entry was written by the client and is never read. A malformed
 * entry met on the way, an empty header or a chain of trusted proxies only
 * leaves the peer as the client address; so does any header from a peer that
 * is not trusted — a client must not choose its own address (to dodge the
 * lockout, or to lock someone else out of their account).
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d, a dual-stack listener's view of
 * an IPv4 peer) matches as the IPv4 address. The address chosen is written in
 * inet_ntop's canonical form. This is the only place the rule lives: request.c
 * calls pb_http_client_address() once per request and everything else reads
 * pb_http_client_ip().
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

/* Parses a bare IPv4 or IPv6 address of n bytes at s; a mapped IPv4 address
 * becomes IPv4. Returns AF_INET, AF_INET6, or 0 when it is not an address. */
static int parse_addr(const char *s, size_t n, uint8_t out[16])
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strchr(buf, ':')) {
        if (inet_pton(AF_INET6, buf, out) != 1)
            return 0;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(out, mapped, 12) == 0) {
            memmove(out, out + 12, 4);
            return AF_INET;
        }
        return AF_INET6;
    }
    return inet_pton(AF_INET, buf, out) == 1 ? AF_INET : 0;
}

/* Whether the first `bits` bits of a and b agree. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* Trims blanks (space, tab) off both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Parses one entry "ADDR" or "ADDR/BITS" of n bytes into net. 0 or -1 (why in err). */
static int parse_net(const char *s, size_t n, pb_http_net *net, char *err, size_t errcap)
{
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    *net = (pb_http_net){0};
    net->family = parse_addr(s, alen, net->addr);
    if (!net->family) {
        snprintf(err, errcap, "'%.*s' is not an IPv4 or IPv6 address or CIDR block", (int)n, s);
        return -1;
    }
    unsigned max = net->family == AF_INET ? 32 : 128;
    net->bits = max;
    if (slash) {
        const char *b = slash + 1;
        size_t bn = n - alen - 1;
        unsigned v = 0;
        if (bn == 0 || bn > 3) {
            snprintf(err, errcap, "'%.*s': the prefix length must be 0..%u", (int)n, s, max);
            return -1;
        }
        for (size_t i = 0; i < bn; i++) {
            if (b[i] < '0' || b[i] > '9') {
                snprintf(err, errcap, "'%.*s': the prefix length must be 0..%u", (int)n, s, max);
                return -1;
            }
            v = v * 10 + (unsigned)(b[i] - '0');
        }
        /* a mapped IPv4 block "::ffff:10.0.0.0/104" is the IPv4 block /8 */
        if (net->family == AF_INET && memchr(s, ':', alen)) {
            if (v < 96) {
                snprintf(err, errcap, "'%.*s': an IPv4-mapped block needs a prefix of 96..128",
                         (int)n, s);
                return -1;
            }
            v -= 96;
        }
        if (v > max) {
            snprintf(err, errcap, "'%.*s': the prefix length must be 0..%u", (int)n, s, max);
            return -1;
        }
        net->bits = v;
    }
    for (unsigned i = net->bits; i < max; i++)
        if (net->addr[i / 8] & (0x80 >> (i % 8))) {
            uint8_t masked[16];
            memcpy(masked, net->addr, sizeof masked);
            for (unsigned j = net->bits; j < max; j++)
                masked[j / 8] &= (uint8_t) ~(0x80 >> (j % 8));
            char txt[INET6_ADDRSTRLEN];
            inet_ntop(net->family, masked, txt, sizeof txt);
            snprintf(err, errcap, "'%.*s' has host bits set (the block is %s/%u)", (int)n, s, txt,
                     net->bits);
            return -1;
        }
    return 0;
}

int pb_http_proxies_parse(const char *spec, pb_http_proxies *out, char *err, size_t errcap)
{
    *out = (pb_http_proxies){0};
    if (!spec)
        return 0;
    const char *p = spec;
    size_t all = strlen(spec);
    trim(&p, &all);
    if (all == 0)
        return 0; /* trust none */
    for (;;) {
        const char *comma = memchr(p, ',', all);
        size_t n = comma ? (size_t)(comma - p) : all;
        const char *e = p;
        size_t en = n;
        trim(&e, &en);
        if (en == 0) {
            snprintf(err, errcap, "trusted proxies: an empty entry in '%s'", spec);
            return -1;
        }
        if (out->n == PB_HTTP_PROXIES_MAX) {
            snprintf(err, errcap, "trusted proxies: more than %d entries (use CIDR blocks)",
                     PB_HTTP_PROXIES_MAX);
            return -1;
        }
        char why[192];
        if (parse_net(e, en, &out->net[out->n], why, sizeof why) != 0) {
            snprintf(err, errcap, "trusted proxies: %s", why);
            return -1;
        }
        out->n++;
        if (!comma)
            return 0;
        all -= n + 1;
        p = comma + 1;
    }
}

/* Whether the parsed address (family, addr) is in one of the blocks. */
static bool contains(const pb_http_proxies *p, int family, const uint8_t addr[16])
{
    for (size_t i = 0; p && i < p->n; i++)
        if (p->net[i].family == family && prefix_equal(p->net[i].addr, addr, p->net[i].bits))
            return true;
    return false;
}

bool pb_http_proxies_contain_addr(const pb_http_proxies *p, int family, const uint8_t addr[16])
{
    return contains(p, family, addr);
}

bool pb_http_proxies_contain(const pb_http_proxies *p, const char *ip)
{
    uint8_t a[16];
    int f = ip ? parse_addr(ip, strlen(ip), a) : 0;
    return f && contains(p, f, a);
}

void pb_http_client_address(const pb_http_proxies *p, const char *peer, const char *xff, char *out,
                            size_t cap)
{
    snprintf(out, cap, "%s", peer ? peer : "-");
    if (!p || p->n == 0 || !xff || !pb_http_proxies_contain(p, peer))
        return;
    size_t end = strlen(xff);
    for (;;) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        const char *e = xff + start;
        size_t n = end - start;
        trim(&e, &n);
        uint8_t a[16];
        int f = parse_addr(e, n, a);
        if (!f)
            return; /* malformed (or empty): the peer */
        if (!contains(p, f, a)) {
            char txt[INET6_ADDRSTRLEN];
            if (inet_ntop(f, a, txt, sizeof txt))
                snprintf(out, cap, "%s", txt);
            return;
        }
        if (start == 0)
            return; /* every entry is a trusted proxy: the peer */
        end = start - 1;
    }
}
