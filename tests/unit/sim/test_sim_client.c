/*
 * test_sim_client.c — the simulator's own HTTP parser and signatures, without a
 * server: responses complete, incomplete, pipelined and malformed; header
 * lookup; URL parsing; secrets; HMAC-SHA256 against RFC 4231's vector and the
 * protocol's "<timestamp>.<body>" message; response signature checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/sim_client.h"
#include "sim/sim_http.h"

static void parse_complete_and_pipelined(void **state)
{
    (void)state;
    const char *two = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pitboss-Signature: sha256=ab\r\n"
                      "\r\n{}HTTP/1.1 422 Unprocessable\r\nContent-Length: 5\r\nConnection: close"
                      "\r\n\r\nhello";
    pb_sim_resp r;
    ssize_t n = pb_sim_http_parse(two, strlen(two), &r);
    assert_true(n > 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 2);
    assert_memory_equal(r.body, "{}", 2);
    assert_false(r.close);
    char v[64];
    assert_true(pb_sim_resp_header(&r, "x-pitboss-signature", v, sizeof v));
    assert_string_equal(v, "sha256=ab");
    assert_false(pb_sim_resp_header(&r, "X-Missing", v, sizeof v));
    ssize_t m = pb_sim_http_parse(two + n, strlen(two) - (size_t)n, &r);
    assert_int_equal((size_t)(n + m), strlen(two));
    assert_int_equal(r.status, 422);
    assert_memory_equal(r.body, "hello", 5);
    assert_true(r.close);
}

static void parse_incomplete_needs_more(void **state)
{
    (void)state;
    const char *full = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    pb_sim_resp r;
    for (size_t cut = 0; cut < strlen(full); cut++)
        assert_int_equal(pb_sim_http_parse(full, cut, &r), 0);
    assert_int_equal(pb_sim_http_parse(full, strlen(full), &r), (ssize_t)strlen(full));
}

static void parse_malformed(void **state)
{
    (void)state;
    pb_sim_resp r;
    const char *bad[] = {
        "HTTP/1.1 200 OK\r\n\r\n", /* no length */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",           /* status */
        "SMTP 220 hello\r\nContent-Length: 0\r\n\r\n",            /* not HTTP */
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",          /* length */
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", /* too long */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pb_sim_http_parse(bad[i], strlen(bad[i]), &r), -1);
}

static void urls(void **state)
{
    (void)state;
    pb_sim_target t;
    char err[300];
    assert_int_equal(pb_sim_target_parse("http://127.0.0.1:8080", &t, err, sizeof err), 0);
    assert_string_equal(t.host, "127.0.0.1");
    assert_string_equal(t.port, "8080");
    assert_string_equal(t.prefix, "");
    assert_true(t.loopback);
    assert_int_equal(pb_sim_target_parse("http://127.0.0.1/base/", &t, err, sizeof err), 0);
    assert_string_equal(t.port, "80");
    assert_string_equal(t.prefix, "/base");
    assert_int_equal(pb_sim_target_parse("https://127.0.0.1", &t, err, sizeof err), -1);
    assert_int_equal(pb_sim_target_parse("http://:80", &t, err, sizeof err), -1);
    assert_int_equal(pb_sim_target_parse("http://127.0.0.1:8x", &t, err, sizeof err), -1);
}

static void secrets(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = 0;
    assert_int_equal(pb_sim_secret_from_hex("  00ffA0\n", b, sizeof b, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(b[1], 0xff);
    assert_int_equal(b[2], 0xa0);
    assert_int_equal(pb_sim_secret_from_hex("abc", b, sizeof b, &n), -1); /* odd */
    assert_int_equal(pb_sim_secret_from_hex("zz", b, sizeof b, &n), -1);  /* not hex */
    assert_int_equal(pb_sim_secret_from_hex("", b, sizeof b, &n), -1);
    assert_int_equal(pb_sim_secret_from_hex("0011", b, 1, &n), -1); /* too long */
}

static void signatures(void **state)
{
    (void)state;
    pb_sim_provider p = {.code = "x", .secret = "Jefe", .secret_len = 4};
    char sig[PB_SIM_SIG_BUF];
    const char *msg = "what do ya want for nothing?";
    pb_sim_sign(&p, NULL, msg, strlen(msg), sig); /* RFC 4231 test case 2 */
    assert_string_equal(sig,
                        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* a request signs "<timestamp>.<body>" */
    char a[PB_SIM_SIG_BUF], b2[PB_SIM_SIG_BUF];
    pb_sim_sign(&p, "1700000000", "{}", 2, a);
    pb_sim_sign(&p, NULL, "1700000000.{}", 13, b2);
    assert_string_equal(a, b2);
    /* a response carries the HMAC of its body */
    char resp[256];
    pb_sim_sign(&p, NULL, "{\"a\":1}", 7, sig);
    snprintf(resp, sizeof resp,
             "HTTP/1.1 200 OK\r\nX-Pitboss-Signature: %s\r\n"
             "Content-Length: 7\r\n\r\n{\"a\":1}",
             sig);
    pb_sim_resp r;
    assert_true(pb_sim_http_parse(resp, strlen(resp), &r) > 0);
    assert_true(pb_sim_response_signed(&p, &r));
    resp[strlen(resp) - 2] = '2'; /* the body changed */
    assert_true(pb_sim_http_parse(resp, strlen(resp), &r) > 0);
    assert_false(pb_sim_response_signed(&p, &r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_complete_and_pipelined),
        cmocka_unit_test(parse_incomplete_needs_more),
        cmocka_unit_test(parse_malformed),
        cmocka_unit_test(urls),
        cmocka_unit_test(secrets),
        cmocka_unit_test(signatures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
