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
 * would have matched. pb_http_route_find scans the whole table; the server
 * looks routes up through an index built once (pb_http_route_index_new: the
 * routes grouped by their first two path segments, see "the index" below),
 * which tries the same routes in the same order minus those that cannot match.
 */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
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

/* What a route lookup has found so far. */
typedef struct find_state {
    bool path_known, have;
    unsigned allow_bits;
    uint64_t best;
} find_state;

/* Tries route i against the path (routes are tried in table order). */
static void consider(const pb_route *routes, size_t i, const char *method, const char *path,
                     pb_route_match *m, find_state *st)
{
    pb_route_match tmp;
    uint64_t score;
    if (!match_one(routes[i].pattern, path, &tmp, &score))
        return;
    if (!st->path_known)
        m->path_route = i;
    st->path_known = true;
    int slot = method_slot(routes[i].method);
    if (slot >= 0)
        st->allow_bits |= 1u << slot;
    if (strcmp(routes[i].method, "GET") == 0)
        st->allow_bits |= 1u << 1; /* HEAD */
    if (method_serves(routes[i].method, method) && (!st->have || score > st->best)) {
        st->have = true;
        st->best = score;
        size_t keep_path_route = m->path_route;
        *m = tmp;
        m->path_route = keep_path_route;
        m->route = &routes[i];
        m->index = i;
    }
}

/* The answer once every route that can match was tried. */
static pb_err conclude(pb_route_match *m, const find_state *st)
{
    if (st->have)
        return PB_OK;
    if (!st->path_known)
        return PB_ERR_NOT_FOUND;
    size_t len = 0;
    for (size_t i = 0; i < NKNOWN; i++) {
        if (!(st->allow_bits & (1u << i)))
            continue;
        int w = snprintf(m->allow + len, sizeof m->allow - len, "%s%s", len ? ", " : "",
                         known_methods[i]);
        if (w > 0 && (size_t)w < sizeof m->allow - len)
            len += (size_t)w;
    }
    return PB_ERR_METHOD_NOT_ALLOWED;
}

pb_err pb_http_route_find(const pb_route *routes, size_t n, const char *method, const char *path,
                          pb_route_match *m)
{
    memset(m, 0, sizeof *m);
    find_state st = {0};
    for (size_t i = 0; i < n; i++)
        consider(routes, i, method, path, m, &st);
    return conclude(m, &st);
}

/* ---- the index ----------------------------------------------------------
 *
 * A path can only match a pattern whose first two segments, when both are
 * literals, are byte for byte the path's first two segments. So the index
 * groups the routes by that prefix ("/v1/providers", "/healthz"); routes with a
 * parameter in their first two segments (or a malformed pattern) go to a
 * "wild" list tried for every path. A lookup takes the path's prefix, finds its
 * group, and tries that group and the wild list merged in table order — the
 * same routes, in the same order, as the full scan minus those that cannot
 * match, hence the same answer.
 */

typedef struct ix_group {
    const char *key; /* points into a pattern, len bytes */
    size_t len;
    size_t first, count; /* its routes: members[first .. first + count) */
} ix_group;

struct pb_route_index {
    const pb_route *routes;
    size_t n;
    ix_group *groups;
    size_t ngroups;
    size_t *members; /* route indices, ascending within a group */
    size_t *wild;    /* route indices, ascending */
    size_t nwild;
};

/* The length of s's prefix made of its first two segments (s starts with '/');
 * *param set when one of them is a parameter "{name}". */
static size_t two_segments(const char *s, bool *param)
{
    const char *e1 = seg_end(s + 1);
    *param = is_param(s + 1, e1);
    if (*e1 == '\0')
        return (size_t)(e1 - s);
    const char *e2 = seg_end(e1 + 1);
    *param = *param || is_param(e1 + 1, e2);
    return (size_t)(e2 - s);
}

pb_route_index *pb_http_route_index_new(const pb_route *routes, size_t n)
{
    pb_route_index *ix = calloc(1, sizeof *ix);
    size_t *key_len = calloc(n ? n : 1, sizeof *key_len);
    if (!ix || !key_len || !(ix->groups = calloc(n ? n : 1, sizeof *ix->groups)) ||
        !(ix->members = calloc(n ? n : 1, sizeof *ix->members)) ||
        !(ix->wild = calloc(n ? n : 1, sizeof *ix->wild))) {
        free(key_len);
        pb_http_route_index_free(ix);
        return NULL;
    }
    ix->routes = routes;
    ix->n = n;
    /* each route's key (0 = wild), then the groups in order of first appearance */
    for (size_t i = 0; i < n; i++) {
        const char *p = routes[i].pattern;
        bool param = true;
        size_t len = p && p[0] == '/' ? two_segments(p, &param) : 0;
        key_len[i] = param ? 0 : len;
        if (!key_len[i]) {
            ix->wild[ix->nwild++] = i;
            continue;
        }
        size_t g = 0;
        while (g < ix->ngroups &&
               !(ix->groups[g].len == len && memcmp(ix->groups[g].key, p, len) == 0))
            g++;
        if (g == ix->ngroups)
            ix->groups[ix->ngroups++] = (ix_group){.key = p, .len = len};
        ix->groups[g].count++;
    }
    size_t at = 0;
    for (size_t g = 0; g < ix->ngroups; g++) {
        ix->groups[g].first = at;
        at += ix->groups[g].count;
        ix->groups[g].count = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!key_len[i])
            continue;
        for (size_t g = 0; g < ix->ngroups; g++) {
            ix_group *gr = &ix->groups[g];
            if (gr->len == key_len[i] && memcmp(gr->key, routes[i].pattern, gr->len) == 0) {
                ix->members[gr->first + gr->count++] = i;
                break;
            }
        }
    }
    free(key_len);
    return ix;
}

void pb_http_route_index_free(pb_route_index *ix)
{
    if (!ix)
        return;
    free(ix->groups);
    free(ix->members);
    free(ix->wild);
    free(ix);
}

pb_err pb_http_route_find_indexed(const pb_route_index *ix, const char *method, const char *path,
                                  pb_route_match *m)
{
    memset(m, 0, sizeof *m);
    find_state st = {0};
    const ix_group *gr = NULL;
    if (path[0] == '/') { /* else only a wild route could match (none does) */
        bool unused;
        size_t len = two_segments(path, &unused);
        for (size_t g = 0; g < ix->ngroups && !gr; g++)
            if (ix->groups[g].len == len && memcmp(ix->groups[g].key, path, len) == 0)
                gr = &ix->groups[g];
    }
    const size_t *a = gr ? ix->members + gr->first : NULL, *w = ix->wild;
    size_t na = gr ? gr->count : 0, nw = ix->nwild, i = 0, j = 0;
    while (i < na || j < nw) {
        size_t r = j >= nw || (i < na && a[i] < w[j]) ? a[i++] : w[j++];
        consider(ix->routes, r, method, path, m, &st);
    }
    return conclude(m, &st);
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
