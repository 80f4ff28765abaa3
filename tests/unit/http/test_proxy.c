/*
 * test_proxy.c — trusted reverse proxies (src/http/proxy.c): the list parser
 * (addresses and CIDR blocks, IPv4 and IPv6, bad entries refused with the entry
 * named) and the right-most-untrusted rule over X-Forwarded-For.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "http/http.h"

static pb_http_proxies P;

static void parse_ok(const char *spec)
{
    char err[256] = "";
    if (pb_http_proxies_parse(spec, &P, err, sizeof err) != 0)
        fail_msg("'%s' refused: %s", spec, err);
}

static void test_parse(void **state)
{
    (void)state;
    parse_ok(NULL);
    assert_int_equal(P.n, 0);
    parse_ok("  ");
    assert_int_equal(P.n, 0);
    parse_ok(" 10.0.0.5 , 192.168.0.0/16,2001:db8::/32, ::1 ");
    assert_int_equal(P.n, 4);
    assert_true(pb_http_proxies_contain(&P, "10.0.0.5"));
    assert_false(pb_http_proxies_contain(&P, "10.0.0.6"));
    assert_true(pb_http_proxies_contain(&P, "192.168.255.1"));
    assert_true(pb_http_proxies_contain(&P, "2001:db8:ffff::1"));
    assert_false(pb_http_proxies_contain(&P, "2001:db9::1"));
    assert_true(pb_http_proxies_contain(&P, "::1"));
    assert_false(pb_http_proxies_contain(&P, "::2"));
    assert_false(pb_http_proxies_contain(&P, "not-an-ip"));
    assert_false(pb_http_proxies_contain(&P, NULL));

    parse_ok("10.1.0.0/16");
    assert_true(pb_http_proxies_contain(&P, "10.1.200.3"));
    assert_false(pb_http_proxies_contain(&P, "10.2.0.1"));
    /* a dual-stack listener's view of an IPv4 peer matches as IPv4 */
    assert_true(pb_http_proxies_contain(&P, "::ffff:10.1.0.9"));
    parse_ok("::ffff:10.0.0.0/104"); /* the mapped form of 10.0.0.0/8 */
    assert_true(pb_http_proxies_contain(&P, "10.9.9.9"));
    parse_ok("fd00::/8,10.0.0.1/32,0.0.0.0/0");
    assert_true(pb_http_proxies_contain(&P, "fdab::1"));
    assert_true(pb_http_proxies_contain(&P, "203.0.113.7"));
    parse_ok("10.0.0.0/7"); /* a prefix not on a byte boundary */
    assert_true(pb_http_proxies_contain(&P, "11.255.0.1"));
    assert_false(pb_http_proxies_contain(&P, "12.0.0.1"));
}

static void test_parse_refuses(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *named;
    } bad[] = {
        {"10.0.0.1,", "empty entry"},
        {",10.0.0.1", "empty entry"},
        {"10.0.0.1,,10.0.0.2", "empty entry"},
        {"proxy.example.com", "'proxy.example.com'"},
        {"10.0.0", "'10.0.0'"},
        {"10.0.0.256", "'10.0.0.256'"},
        {"10.0.0.0/33", "prefix length must be 0..32"},
        {"2001:db8::/129", "prefix length must be 0..128"},
        {"10.0.0.0/", "prefix length"},
        {"10.0.0.0/-1", "prefix length"},
        {"10.0.0.0/8x", "prefix length"},
        {"10.0.0.1/8", "host bits set (the block is 10.0.0.0/8)"},
        {"2001:db8::1/32", "host bits set (the block is 2001:db8::/32)"},
        {"::ffff:10.0.0.0/64", "IPv4-mapped"},
        {"[::1]", "'[::1]'"},
        {"10.0.0.1:8080", "'10.0.0.1:8080'"},
        {"10.0.0.1 10.0.0.2", "'10.0.0.1 10.0.0.2'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        P.n = 99;
        if (pb_http_proxies_parse(bad[i].spec, &P, err, sizeof err) == 0)
            fail_msg("'%s' accepted", bad[i].spec);
        if (!strstr(err, bad[i].named) || strncmp(err, "trusted proxies: ", 17) != 0)
            fail_msg("'%s': the error '%s' does not say '%s'", bad[i].spec, err, bad[i].named);
    }
    /* too many entries */
    char spec[PB_HTTP_PROXIES_MAX * 16 + 32] = "";
    for (int i = 0; i <= PB_HTTP_PROXIES_MAX; i++) {
        char one[20];
        snprintf(one, sizeof one, "%s10.0.%d.1", i ? "," : "", i);
        strcat(spec, one);
    }
    char err[256] = "";
    assert_int_equal(pb_http_proxies_parse(spec, &P, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than"));
}

/* The client address with the proxies of spec, peer and xff. */
static const char *client(const char *spec, const char *peer, const char *xff)
{
    static char out[64];
    parse_ok(spec);
    pb_http_client_address(&P, peer, xff, out, sizeof out);
    return out;
}

static void test_rightmost_untrusted(void **state)
{
    (void)state;
    const char *T = "127.0.0.1, 10.0.0.0/8, 2001:db8:1::/48";
    /* an untrusted peer: its header is never read */
    assert_string_equal(client(T, "203.0.113.9", "198.51.100.1"), "203.0.113.9");
    assert_string_equal(client("", "127.0.0.1", "198.51.100.1"), "127.0.0.1");
    /* a trusted peer: the right-most entry that is not a trusted proxy */
    assert_string_equal(client(T, "127.0.0.1", "198.51.100.1"), "198.51.100.1");
    assert_string_equal(client(T, "127.0.0.1", "6.6.6.6, 198.51.100.1"), "198.51.100.1");
    assert_string_equal(client(T, "127.0.0.1", "6.6.6.6, 198.51.100.1, 10.2.3.4,10.0.0.1"),
                        "198.51.100.1");
    /* what the client wrote left of the chosen entry is not looked at */
    assert_string_equal(client(T, "127.0.0.1", "garbage, 198.51.100.1"), "198.51.100.1");
    /* IPv6, in canonical form; a mapped IPv4 client as IPv4 */
    assert_string_equal(client(T, "::ffff:127.0.0.1", " 2001:DB8:2:0:0::7 "), "2001:db8:2::7");
    assert_string_equal(client(T, "2001:db8:1::5", "::ffff:198.51.100.2, 2001:db8:1::9"),
                        "198.51.100.2");
    /* malformed (met before an untrusted entry), empty, or all trusted: the peer */
    assert_string_equal(client(T, "127.0.0.1", "198.51.100.1, bogus"), "127.0.0.1");
    assert_string_equal(client(T, "127.0.0.1", "198.51.100.1:4711"), "127.0.0.1");
    assert_string_equal(client(T, "127.0.0.1", "unknown"), "127.0.0.1");
    assert_string_equal(client(T, "127.0.0.1", ""), "127.0.0.1");
    assert_string_equal(client(T, "127.0.0.1", "198.51.100.1,"), "127.0.0.1");
    assert_string_equal(client(T, "127.0.0.1", " , "), "127.0.0.1");
    assert_string_equal(client(T, "127.0.0.1", "10.0.0.2, 127.0.0.1"), "127.0.0.1");
    assert_string_equal(client(T, "127.0.0.1", NULL), "127.0.0.1");
    assert_string_equal(client(T, "-", "198.51.100.1"), "-");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_rightmost_untrusted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
