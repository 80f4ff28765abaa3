/*
 * test_router.c — route matching (literals, parameters, specificity, HEAD),
 * the 404/405 decision with its Allow list, the index against the full scan,
 * and table validation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "http/http.h"

static void h(pb_http_request *req, void *app)
{
    (void)req;
    (void)app;
}

static const pb_route routes[] = {
    {"GET", "/healthz", NULL, h, "healthz"},
    {"GET", "/v1/admin/players/{id}", "players.read", h, "players.get"},
    {"PATCH", "/v1/admin/players/{id}", "players.write", h, "players.patch"},
    {"GET", "/v1/admin/players/search", "players.read", h, "players.search"},
    {"POST", "/v1/admin/players", "players.write", h, "players.create"},
    {"GET", "/v1/brands/{brand}/players/{id}/wallets/{currency}", "player", h, "wallet.get"},
    {"DELETE", "/v1/sessions/{id}", "player", h, "sessions.delete"},
};
#define N (sizeof routes / sizeof routes[0])

/* The value of parameter `name` in m as a NUL-terminated copy. */
static const char *param(const pb_route_match *m, const char *name)
{
    static char buf[128];
    for (size_t i = 0; i < m->nparams; i++)
        if (m->params[i].name_len == strlen(name) &&
            memcmp(m->params[i].name, name, m->params[i].name_len) == 0) {
            memcpy(buf, m->params[i].value, m->params[i].value_len);
            buf[m->params[i].value_len] = '\0';
            return buf;
        }
    return NULL;
}

static void test_literal(void **state)
{
    (void)state;
    pb_route_match m;
    assert_int_equal(pb_http_route_find(routes, N, "GET", "/healthz", &m), PB_OK);
    assert_string_equal(m.route->name, "healthz");
    assert_int_equal(m.index, 0);
    assert_int_equal(m.nparams, 0);
}

static void test_params(void **state)
{
    (void)state;
    pb_route_match m;
    assert_int_equal(pb_http_route_find(routes, N, "GET", "/v1/admin/players/p-42", &m), PB_OK);
    assert_string_equal(m.route->name, "players.get");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(param(&m, "id"), "p-42");

    assert_int_equal(pb_http_route_find(routes, N, "GET", "/v1/brands/demo/players/7/wallets/EUR",
                                        &m),
                     PB_OK);
    assert_string_equal(m.route->name, "wallet.get");
    assert_int_equal(m.nparams, 3);
    assert_string_equal(param(&m, "brand"), "demo");
    assert_string_equal(param(&m, "id"), "7");
    assert_string_equal(param(&m, "currency"), "EUR");
    assert_null(param(&m, "nope"));

    /* values stay percent-encoded: the server decodes them per segment */
    assert_int_equal(pb_http_route_find(routes, N, "GET", "/v1/admin/players/a%2Fb", &m), PB_OK);
    assert_string_equal(param(&m, "id"), "a%2Fb");
}

static void test_literal_beats_param(void **state)
{
    (void)state;
    pb_route_match m;
    assert_int_equal(pb_http_route_find(routes, N, "GET", "/v1/admin/players/search", &m), PB_OK);
    assert_string_equal(m.route->name, "players.search");
    assert_int_equal(m.nparams, 0);
    /* PATCH has no literal route: the parameter route takes "search" as an id */
    assert_int_equal(pb_http_route_find(routes, N, "PATCH", "/v1/admin/players/search", &m), PB_OK);
    assert_string_equal(m.route->name, "players.patch");
    assert_string_equal(param(&m, "id"), "search");
}

static void test_head_served_by_get(void **state)
{
    (void)state;
    pb_route_match m;
    assert_int_equal(pb_http_route_find(routes, N, "HEAD", "/healthz", &m), PB_OK);
    assert_string_equal(m.route->name, "healthz");
}

static void test_not_found(void **state)
{
    (void)state;
    pb_route_match m;
    const char *paths[] = {"/",
                           "/healthz/",
                           "/healthzz",
                           "//healthz",
                           "/v1/admin/players/",
                           "/v1/admin/players/1/x",
                           "",
                           "healthz",
                           "/v1/admin//players"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        assert_int_equal(pb_http_route_find(routes, N, "GET", paths[i], &m), PB_ERR_NOT_FOUND);
        assert_null(m.route);
    }
}

static void test_method_not_allowed(void **state)
{
    (void)state;
    pb_route_match m;
    assert_int_equal(pb_http_route_find(routes, N, "POST", "/healthz", &m),
                     PB_ERR_METHOD_NOT_ALLOWED);
    assert_null(m.route);
    assert_string_equal(m.allow, "GET, HEAD");
    assert_int_equal(m.path_route, 0);

    assert_int_equal(pb_http_route_find(routes, N, "DELETE", "/v1/admin/players/1", &m),
                     PB_ERR_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, HEAD, PATCH");
    assert_string_equal(routes[m.path_route].name, "players.get");

    assert_int_equal(pb_http_route_find(routes, N, "GET", "/v1/admin/players", &m),
                     PB_ERR_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "POST");

    assert_int_equal(pb_http_route_find(routes, N, "BREW", "/v1/sessions/x", &m),
                     PB_ERR_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "DELETE");
}

/* A route that matches part of the way (capturing parameters) and then fails
 * leaves nothing in the match of the route that does match; literals differing
 * at any byte, or one segment longer or shorter, do not match. */
static void test_partial_matches_leave_nothing_behind(void **state)
{
    (void)state;
    static const pb_route t[] = {
        {"GET", "/v1/{a}/{b}/x", NULL, h, "two"},
        {"GET", "/v1/{c}/y/z", NULL, h, "one"},
        {"GET", "/v1/lit/abc", NULL, h, "lit"},
    };
    pb_route_match m;
    assert_int_equal(pb_http_route_find(t, 3, "GET", "/v1/p/y/z", &m), PB_OK);
    assert_string_equal(m.route->name, "one");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(param(&m, "c"), "p");
    assert_null(param(&m, "a"));
    assert_null(m.params[1].name);
    assert_int_equal(m.params[1].value_len, 0);
    assert_string_equal(m.allow, "");

    assert_int_equal(pb_http_route_find(t, 3, "GET", "/v1/lit/abc", &m), PB_OK);
    assert_string_equal(m.route->name, "lit");
    const char *miss[] = {"/v1/lit/ab", "/v1/lit/abd",  "/v1/lit/abcd", "/v1/lit/abc/",
                          "/v1/li/abc", "/v1/litt/abc", "/v2/lit/abc",  "/v1/lit"};
    for (size_t i = 0; i < sizeof miss / sizeof *miss; i++)
        assert_int_equal(pb_http_route_find(t, 3, "GET", miss[i], &m), PB_ERR_NOT_FOUND);
}

/* The index gives the linear scan's answer, byte for byte, for every method and
 * path: routes grouped by their first two segments, routes with a parameter
 * there ("wild"), one-segment and root patterns, paths near every group. */
static void test_index_same_as_scan(void **state)
{
    (void)state;
    static const pb_route t[] = {
        {"GET", "/healthz", NULL, h, "a"},
        {"GET", "/{any}/x", NULL, h, "b"},
        {"GET", "/v1/admin/players/{id}", NULL, h, "c"},
        {"POST", "/v1/{kind}", NULL, h, "d"},
        {"PATCH", "/v1/admin/players/{id}", NULL, h, "e"},
        {"GET", "/v1/admin/players/search", NULL, h, "f"},
        {"GET", "/", NULL, h, "g"},
        {"DELETE", "/v1/admin", NULL, h, "h"},
        {"GET", "/v1/providers/{p}/bet", NULL, h, "i"},
        {"POST", "/v1/providers/{p}/bet", NULL, h, "j"},
        {"GET", "/{x}", NULL, h, "k"},
    };
    const size_t n = sizeof t / sizeof t[0];
    pb_route_index *ix = pb_http_route_index_new(t, n);
    assert_non_null(ix);
    const char *paths[] = {"/",
                           "",
                           "x",
                           "//",
                           "/healthz",
                           "/healthz/",
                           "/healthzz",
                           "/v1",
                           "/v1/",
                           "/v1/admin",
                           "/v1/admin/",
                           "/v1/admin/players",
                           "/v1/admin/players/7",
                           "/v1/admin/players/search",
                           "/v1/admin/players/7/x",
                           "/v1/providers/p/bet",
                           "/v1/providers//bet",
                           "/v1/provider/p/bet",
                           "/q/x",
                           "/v1/x",
                           "/v2/admin",
                           "/v1//"};
    const char *methods[] = {"GET", "HEAD", "POST", "PATCH", "DELETE", "PUT", "BREW"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        for (size_t k = 0; k < sizeof methods / sizeof *methods; k++) {
            pb_route_match a, b;
            memset(&a, 0x5a, sizeof a);
            memset(&b, 0xa5, sizeof b);
            pb_err x = pb_http_route_find(t, n, methods[k], paths[i], &a);
            pb_err y = pb_http_route_find_indexed(ix, methods[k], paths[i], &b);
            assert_int_equal(x, y);
            assert_memory_equal(&a, &b, sizeof a);
        }
    pb_http_route_index_free(ix);
}

static void test_validate_accepts_table(void **state)
{
    (void)state;
    char err[256] = "";
    assert_int_equal(pb_http_routes_validate(routes, N, err, sizeof err), 0);
    assert_int_equal(pb_http_routes_validate(routes, 0, err, sizeof err), 0);
}

/* Validates a one- or two-row table and returns the reason ("" when valid). */
static const char *why(pb_route a, const pb_route *b)
{
    static char err[256];
    pb_route t[2] = {a};
    if (b)
        t[1] = *b;
    err[0] = '\0';
    pb_http_routes_validate(t, b ? 2 : 1, err, sizeof err);
    return err;
}

static void test_validate_rejects(void **state)
{
    (void)state;
    assert_non_null(strstr(why((pb_route){"HEAD", "/x", NULL, h, "x"}, NULL), "method"));
    assert_non_null(strstr(why((pb_route){"get", "/x", NULL, h, "x"}, NULL), "method"));
    assert_non_null(strstr(why((pb_route){"GET", "x", NULL, h, "x"}, NULL), "'/'"));
    assert_non_null(strstr(why((pb_route){"GET", "/a//b", NULL, h, "x"}, NULL), "segment"));
    assert_non_null(strstr(why((pb_route){"GET", "/a/", NULL, h, "x"}, NULL), "segment"));
    assert_non_null(strstr(why((pb_route){"GET", "/a/{Id}", NULL, h, "x"}, NULL), "parameter"));
    assert_non_null(strstr(why((pb_route){"GET", "/a/{1d}", NULL, h, "x"}, NULL), "parameter"));
    assert_non_null(strstr(why((pb_route){"GET", "/a/x{id}", NULL, h, "x"}, NULL), "segment"));
    assert_non_null(strstr(why((pb_route){"GET", "/a/{id}/{id}", NULL, h, "x"}, NULL), "repeats"));
    assert_non_null(strstr(why((pb_route){"GET", "/a", NULL, NULL, "x"}, NULL), "handler"));
    assert_non_null(strstr(why((pb_route){"GET", "/a", NULL, h, "A b"}, NULL), "name"));
    assert_non_null(strstr(why((pb_route){"GET", "/a", NULL, h, NULL}, NULL), "name"));
    assert_non_null(strstr(why((pb_route){"GET", "/a", "Bad Perm", h, "a"}, NULL), "permission"));
    pb_route dup_name = {"POST", "/b", NULL, h, "a"};
    assert_non_null(strstr(why((pb_route){"GET", "/a", NULL, h, "a"}, &dup_name), "already used"));
    pb_route same_shape = {"GET", "/p/{other}", NULL, h, "b"};
    assert_non_null(strstr(why((pb_route){"GET", "/p/{id}", NULL, h, "a"}, &same_shape),
                           "same shape"));
    pb_route other_method = {"PUT", "/p/{other}", NULL, h, "b"};
    assert_string_equal(why((pb_route){"GET", "/p/{id}", NULL, h, "a"}, &other_method), "");
    assert_string_equal(why((pb_route){"GET", "/", NULL, h, "root"}, NULL), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_literal_beats_param),
        cmocka_unit_test(test_head_served_by_get),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_partial_matches_leave_nothing_behind),
        cmocka_unit_test(test_index_same_as_scan),
        cmocka_unit_test(test_validate_accepts_table),
        cmocka_unit_test(test_validate_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
