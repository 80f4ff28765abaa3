/*
 * router.c — matching a method and path against the route table.
 *
 * A pattern is a sequence of '/'-separated segments, each a literal or a
 * whole-segment parameter "{name}". A path matches a pattern when it has the
 * same number of segments, every literal is equal byte for byte (the path is
 * compared still percent-encoded) and every parameter segment is non-empty.
 * When several patterns match, the most specific wins: comparing segment by
 * segment from the left, a literal beats a parameter. Among the routes that
 * match the path, only those with the request's method (GET also serves HEAD)
 * are candidates; if there are none the answer is 405 with the methods that
 * would have matched. The table is small and fixed, so a linear scan is both
 * the simplest and, at this size, the fastest structure.
 */
#include "http/http.h"

#include <stdio.h>
#include <string.h>

#define MAX_SEGMENTS 32

static const char *const known_methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
#define NKNOWN (sizeof known_methods / sizeof known_methods[0])

/* The index of a route method in known_methods, or -1. */
static int method_slot(const char *m)
{
    for (size_t i = 0; i < NKNOWN; i++)
        if (strcmp(m, known_methods[i]) == 0)
            return (int)i;
    return -1;
}

/* True when a route with method `route_method` serves a request with `method`. */
static bool method_serves(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

/* True when the segment [s, e) is a parameter "{name}". */
static bool is_param(const char *s, const char *e)
{
    return e - s >= 3 && s[0] == '{' && e[-1] == '}';
}

/* The end of the segment starting at s (at its '/' or the terminating NUL). */
static const char *seg_end(const char *s)
{
    while (*s && *s != '/')
        s++;
    return s;
}

/*
 * Matches path against pattern; on a match fills m (zeroed first: its
 * parameters, nparams) and *score (one bit per segment, 1 = literal, leftmost
 * segment highest). False when it does not match, and then m is untouched.
 * Called for every route of the table on every request, so it walks both
 * strings once, byte by byte, and gives up at the first literal byte that
 * differs (most routes differ within their first two segments).
 */
static bool match_one(const char *pattern, const char *path, pb_route_match *m, uint64_t *score)
{
    if (pattern[0] != '/' || path[0] != '/')
        return false;
    const char *p = pattern + 1, *q = path + 1;
    uint64_t sc = 0;
    size_t nparams = 0, nseg = 0;
    struct {
        const char *name, *value;
        size_t name_len, value_len;
    } found[PB_ROUTE_MAX_PARAMS];
    for (;;) {
        if (++nseg > MAX_SEGMENTS)
            return false;
        const char *pe = *p == '{' ? seg_end(p) : NULL;
        if (pe && is_param(p, pe)) {
            const char *qe = seg_end(q);
            if (qe == q || nparams >= PB_ROUTE_MAX_PARAMS)
                return false;
            found[nparams].name = p + 1;
            found[nparams].name_len = (size_t)(pe - p - 2);
            found[nparams].value = q;
            found[nparams].value_len = (size_t)(qe - q);
            nparams++;
            sc <<= 1;
            p = pe;
            q = qe;
        } else {
            /* a literal: equal bytes up to the pattern's segment end, where the
             * path's segment must end too */
            for (; *p && *p != '/'; p++, q++)
                if (*q != *p)
                    return false;
            if (*q && *q != '/')
                return false;
            sc = sc << 1 | 1;
        }
        bool pend = *p == '\0', qend = *q == '\0';
        if (pend || qend) {
            if (pend != qend)
                return false;
            break;
        }
        p++;
        q++;
    }
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < nparams; i++) {
        m->params[i].name = found[i].name;
        m->params[i].name_len = found[i].name_len;
        m->params[i].value = found[i].value;
        m->params[i].value_len = found[i].value_len;
    }
    m->nparams = nparams;
    *score = sc;
    return true;
}

pb_err pb_http_route_find(const pb_route *routes, size_t n, const char *method, const char *path,
                          pb_route_match *m)
{
    memset(m, 0, sizeof *m);
    bool path_known = false, have = false;
    unsigned allow_bits = 0;
    uint64_t best = 0;
    pb_route_match tmp;
    for (size_t i = 0; i < n; i++) {
        uint64_t score;
        if (!match_one(routes[i].pattern, path, &tmp, &score))
            continue;
        if (!path_known)
            m->path_route = i;
        path_known = true;
        int slot = method_slot(routes[i].method);
        if (slot >= 0)
            allow_bits |= 1u << slot;
        if (strcmp(routes[i].method, "GET") == 0)
            allow_bits |= 1u << 1; /* HEAD */
        if (method_serves(routes[i].method, method) && (!have || score > best)) {
            have = true;
            best = score;
            size_t keep_path_route = m->path_route;
            *m = tmp;
            m->path_route = keep_path_route;
            m->route = &routes[i];
            m->index = i;
        }
    }
    if (have)
        return PB_OK;
    if (!path_known)
        return PB_ERR_NOT_FOUND;
    size_t len = 0;
    for (size_t i = 0; i < NKNOWN; i++) {
        if (!(allow_bits & (1u << i)))
            continue;
        int w = snprintf(m->allow + len, sizeof m->allow - len, "%s%s", len ? ", " : "",
                         known_methods[i]);
        if (w > 0 && (size_t)w < sizeof m->allow - len)
            len += (size_t)w;
    }
    return PB_ERR_METHOD_NOT_ALLOWED;
}

/* True when every byte of s is in the set of the predicate. */
static bool all_chars(const char *s, size_t n, bool (*ok)(char))
{
    for (size_t i = 0; i < n; i++)
        if (!ok(s[i]))
            return false;
    return n > 0;
}

/* Characters of a literal path segment (RFC 3986 pchar, without '%'). */
static bool lit_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

/* Characters of route names and permissions. */
static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* Characters of a parameter name (the first may not be a digit: checked apart). */
static bool param_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Checks one pattern; writes its shape (parameters as "{}") into shape. */
static int check_pattern(const char *pat, char *shape, size_t shapecap, char *why, size_t whycap)
{
    if (pat[0] != '/') {
        snprintf(why, whycap, "does not start with '/'");
        return -1;
    }
    size_t sl = 0;
    if (strcmp(pat, "/") == 0) {
        snprintf(shape, shapecap, "/");
        return 0;
    }
    const char *names[PB_ROUTE_MAX_PARAMS];
    size_t name_lens[PB_ROUTE_MAX_PARAMS], np = 0, nseg = 0;
    for (const char *p = pat + 1;;) {
        const char *e = seg_end(p);
        size_t n = (size_t)(e - p);
        if (++nseg > MAX_SEGMENTS) {
            snprintf(why, whycap, "has more than %d segments", MAX_SEGMENTS);
            return -1;
        }
        const char *piece = p;
        size_t piece_len = n;
        if (is_param(p, e)) {
            const char *nm = p + 1;
            size_t nl = n - 2;
            if (!all_chars(nm, nl, param_char) || (nm[0] >= '0' && nm[0] <= '9')) {
                snprintf(why, whycap, "has a malformed parameter '%.*s'", (int)n, p);
                return -1;
            }
            for (size_t i = 0; i < np; i++)
                if (name_lens[i] == nl && memcmp(names[i], nm, nl) == 0) {
                    snprintf(why, whycap, "repeats parameter '%.*s'", (int)nl, nm);
                    return -1;
                }
            if (np == PB_ROUTE_MAX_PARAMS) {
                snprintf(why, whycap, "has more than %d parameters", PB_ROUTE_MAX_PARAMS);
                return -1;
            }
            names[np] = nm;
            name_lens[np++] = nl;
            piece = "{}";
            piece_len = 2;
        } else if (!all_chars(p, n, lit_char)) {
            snprintf(why, whycap, "has an empty or malformed segment '%.*s'", (int)n, p);
            return -1;
        }
        if (sl + piece_len + 2 > shapecap) {
            snprintf(why, whycap, "is too long");
            return -1;
        }
        shape[sl++] = '/';
        memcpy(shape + sl, piece, piece_len);
        sl += piece_len;
        shape[sl] = '\0';
        if (*e == '\0')
            break;
        p = e + 1;
    }
    return 0;
}

int pb_http_routes_validate(const pb_route *routes, size_t n, char *err, size_t errcap)
{
    char shape_i[512], shape_j[512], why[160];
    for (size_t i = 0; i < n; i++) {
        const pb_route *r = &routes[i];
        const char *pat = r->pattern ? r->pattern : "(null)";
        if (!r->method || method_slot(r->method) < 0 || strcmp(r->method, "HEAD") == 0) {
            snprintf(err, errcap, "route %zu (%s): method must be GET, POST, PUT, PATCH or DELETE",
                     i, pat);
            return -1;
        }
        if (!r->pattern || check_pattern(r->pattern, shape_i, sizeof shape_i, why, sizeof why)) {
            snprintf(err, errcap, "route %zu (%s %s): pattern %s", i, r->method, pat,
                     r->pattern ? why : "is missing");
            return -1;
        }
        if (!r->handler) {
            snprintf(err, errcap, "route %zu (%s %s): no handler", i, r->method, pat);
            return -1;
        }
        if (!r->name || !all_chars(r->name, strlen(r->name), name_char)) {
            snprintf(err, errcap, "route %zu (%s %s): name must be [a-z0-9_.]+", i, r->method, pat);
            return -1;
        }
        if (r->permission && !all_chars(r->permission, strlen(r->permission), name_char)) {
            snprintf(err, errcap, "route %zu (%s %s): permission must be NULL or [a-z0-9_.]+", i,
                     r->method, pat);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(routes[j].name, r->name) == 0) {
                snprintf(err, errcap, "route %zu (%s %s): name '%s' is already used by route %zu",
                         i, r->method, pat, r->name, j);
                return -1;
            }
            check_pattern(routes[j].pattern, shape_j, sizeof shape_j, why, sizeof why);
            if (strcmp(routes[j].method, r->method) == 0 && strcmp(shape_i, shape_j) == 0) {
                snprintf(err, errcap, "route %zu (%s %s) has the same shape as route %zu (%s)", i,
                         r->method, pat, j, routes[j].pattern);
                return -1;
            }
        }
    }
    return 0;
}
