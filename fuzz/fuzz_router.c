/*
 * fuzz_router.c — the router (pb_http_route_find, src/http/router.c) with the
 * application's route table (src/api/routes.c), the route table validator,
 * and the request-line helpers that run before any handler: the W3C
 * traceparent parser and the X-Request-Id check (src/http/trace.c).
 *
 * Input: fields separated by 0xFF — method, path, traceparent, request id,
 * then (optionally) up to 6 "METHOD /pattern" lines of a second route table.
 * Properties, checked against an independent matcher written here:
 *   - PB_OK exactly when some route with this method (GET serves HEAD)
 *     matches the path; the route chosen is one of the most specific (a
 *     literal beats a parameter, leftmost segment first); its parameters are
 *     the path's segments at the pattern's "{name}" positions, non-empty and
 *     without '/';
 *   - NOT_FOUND exactly when no pattern matches the path; METHOD_NOT_ALLOWED
 *     otherwise, with an Allow list naming every method that would match;
 *   - the fuzzed table: pb_http_routes_validate never crashes, and a table it
 *     accepts obeys the same properties;
 *   - a traceparent is accepted only in its exact form (55 characters,
 *     "00-", lower-case hex, ids not all zero) and its parts are returned;
 *     an accepted request id is 1..64 of [A-Za-z0-9._:-].
 */
#include "fuzz.h"

#include "api/api.h"
#include "http/http.h"

#define MAXSEG 40

/* Splits "/a/b" into segments (pointers into s); -1 when not starting with '/'
 * or too many. */
static int segments(const char *s, const char *seg[MAXSEG], size_t len[MAXSEG])
{
    if (s[0] != '/')
        return -1;
    int n = 0;
    const char *p = s + 1;
    for (;;) {
        if (n == MAXSEG)
            return -1;
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        seg[n] = p;
        len[n++] = l;
        if (!e)
            return n;
        p = e + 1;
    }
}

static bool is_param(const char *s, size_t n) { return n >= 3 && s[0] == '{' && s[n - 1] == '}'; }

/* The reference matcher: true when path matches pattern; score as the router
 * defines it (one bit per segment, 1 = literal, leftmost highest). */
static bool ref_match(const char *pattern, const char *path, uint64_t *score)
{
    const char *ps[MAXSEG], *qs[MAXSEG];
    size_t pl[MAXSEG], ql[MAXSEG];
    int np = segments(pattern, ps, pl), nq = segments(path, qs, ql);
    if (np < 0 || nq < 0 || np != nq || np > 32)
        return false;
    uint64_t sc = 0;
    for (int i = 0; i < np; i++) {
        if (is_param(ps[i], pl[i])) {
            if (ql[i] == 0)
                return false;
            sc <<= 1;
        } else {
            if (pl[i] != ql[i] || memcmp(ps[i], qs[i], pl[i]) != 0)
                return false;
            sc = sc << 1 | 1;
        }
    }
    *score = sc;
    return true;
}

static bool serves(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

static void check_find(const pb_route *routes, size_t n, const char *method, const char *path)
{
    pb_route_match m;
    memset(&m, 0xA5, sizeof m);
    pb_err rc = pb_http_route_find(routes, n, method, path, &m);
    bool path_known = false, have = false;
    uint64_t best = 0;
    bool allowed[6] = {0};
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    int params_of_route = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t sc;
        if (!ref_match(routes[i].pattern, path, &sc))
            continue;
        path_known = true;
        for (int k = 0; k < 6; k++)
            allowed[k] |= serves(routes[i].method, methods[k]);
        if (serves(routes[i].method, method) && (!have || sc > best))
            have = true, best = sc;
    }
    if (have) {
        FUZZ_CHECK(rc == PB_OK && m.route != NULL && m.route == &routes[m.index]);
        uint64_t sc = 0;
        FUZZ_CHECK(serves(m.route->method, method));
        FUZZ_CHECK(ref_match(m.route->pattern, path, &sc) && sc == best);
        /* the parameters are the path's segments at the pattern's {name} positions */
        const char *ps[MAXSEG], *qs[MAXSEG];
        size_t pl[MAXSEG], ql[MAXSEG];
        int np = segments(m.route->pattern, ps, pl);
        FUZZ_CHECK(segments(path, qs, ql) == np);
        for (int i = 0; i < np; i++) {
            if (!is_param(ps[i], pl[i]))
                continue;
            FUZZ_CHECK((size_t)params_of_route < m.nparams);
            FUZZ_CHECK(m.params[params_of_route].name == ps[i] + 1 &&
                       m.params[params_of_route].name_len == pl[i] - 2);
            FUZZ_CHECK(m.params[params_of_route].value == qs[i] &&
                       m.params[params_of_route].value_len == ql[i] && ql[i] > 0);
            FUZZ_CHECK(memchr(qs[i], '/', ql[i]) == NULL);
            params_of_route++;
        }
        FUZZ_CHECK((size_t)params_of_route == m.nparams);
    } else if (path_known) {
        FUZZ_CHECK(rc == PB_ERR_METHOD_NOT_ALLOWED && m.route == NULL);
        FUZZ_CHECK(memchr(m.allow, 0, sizeof m.allow) != NULL);
        for (int k = 0; k < 6; k++) {
            /* "GET" must not be found inside another name: the list is ", "-separated */
            char needle[16];
            snprintf(needle, sizeof needle, "%s", methods[k]);
            bool listed = false;
            for (const char *p = m.allow; (p = strstr(p, needle)) != NULL; p++)
                listed |= (p == m.allow || p[-1] == ' ') &&
                          (p[strlen(needle)] == ',' || p[strlen(needle)] == 0);
            FUZZ_CHECK(listed == allowed[k]);
        }
        FUZZ_CHECK(m.path_route < n);
    } else {
        FUZZ_CHECK(rc == PB_ERR_NOT_FOUND && m.route == NULL);
    }
}

static void check_trace(const char *h)
{
    char trace[PB_TRACE_ID_LEN + 1], parent[PB_SPAN_ID_LEN + 1];
    uint8_t flags = 0;
    if (!pb_trace_parse(h, trace, parent, &flags))
        return;
    FUZZ_CHECK(strlen(h) == 55 && memcmp(h, "00-", 3) == 0 && h[35] == '-' && h[52] == '-');
    FUZZ_CHECK(strlen(trace) == 32 && memcmp(trace, h + 3, 32) == 0);
    FUZZ_CHECK(strlen(parent) == 16 && memcmp(parent, h + 36, 16) == 0);
    FUZZ_CHECK(strspn(trace, "0123456789abcdef") == 32 && strspn(trace, "0") != 32);
    FUZZ_CHECK(strspn(parent, "0123456789abcdef") == 16 && strspn(parent, "0") != 16);
    char fl[3];
    snprintf(fl, sizeof fl, "%02x", flags);
    FUZZ_CHECK(memcmp(fl, h + 53, 2) == 0);
    char out[56];
    pb_trace_format(trace, parent, flags, out);
    FUZZ_CHECK(strcmp(out, h) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char err[256];
    FUZZ_CHECK(pb_http_routes_validate(pb_api_routes, pb_api_route_count, err, sizeof err) == 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *f[10];
    size_t fl[10];
    size_t nf = fuzz_split(data, size, f, fl, 10);
    char *s[10] = {0};
    for (size_t i = 0; i < nf; i++)
        s[i] = fuzz_strndup(f[i], fl[i]);
    const char *method = s[0] ? s[0] : "GET", *path = nf > 1 ? s[1] : "/";

    check_find(pb_api_routes, pb_api_route_count, method, path);
    if (nf > 2)
        check_trace(s[2]);
    if (nf > 3 && pb_request_id_valid(s[3])) {
        size_t l = strlen(s[3]);
        FUZZ_CHECK(l >= 1 && l <= PB_REQUEST_ID_MAX &&
                   strspn(s[3], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789._:-") == l);
    }
    /* a second table from the input: "METHOD /pattern" per field */
    pb_route table[6];
    char names[6][8];
    size_t nt = 0;
    for (size_t i = 4; i < nf && nt < 6; i++) {
        char *sp = strchr(s[i], ' ');
        if (!sp)
            continue;
        *sp = 0;
        snprintf(names[nt], sizeof names[nt], "r%zu", nt);
        table[nt] = (pb_route){.method = s[i], .pattern = sp + 1, .name = names[nt]};
        nt++;
    }
    char err[256];
    if (nt && pb_http_routes_validate(table, nt, err, sizeof err) == 0)
        check_find(table, nt, method, path);
    for (size_t i = 0; i < nf; i++)
        free(s[i]);
    return 0;
}
