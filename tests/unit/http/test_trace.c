/*
 * test_trace.c — W3C traceparent parsing (valid, wrong version, all-zero ids,
 * bad hex, wrong length or separators), new ids, formatting, request ids.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "http/http.h"

#define VALID "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

static void test_valid(void **state)
{
    (void)state;
    char t[33], p[17];
    uint8_t flags = 0xEE;
    assert_true(pb_trace_parse(VALID, t, p, &flags));
    assert_string_equal(t, "0af7651916cd43dd8448eb211c80319c");
    assert_string_equal(p, "b7ad6b7169203331");
    assert_int_equal(flags, 1);
    assert_true(pb_trace_parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", t, p,
                               &flags));
    assert_int_equal(flags, 0);
    assert_true(pb_trace_parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-ff", t, p,
                               NULL));
}

static void test_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        NULL,
        "",
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", /* version */
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01", /* zero trace id */
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", /* zero parent id */
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", /* upper-case hex */
        "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01", /* not hex */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333x-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",
        "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01",    /* short trace id */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033-01",    /* short parent id */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-", /* too long */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
        "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", /* separators */
        "00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01",
        " 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char t[33] = "unchanged", p[17] = "unchanged";
        assert_false(pb_trace_parse(bad[i], t, p, NULL));
        assert_string_equal(t, "unchanged");
    }
}

/* True when s is n lower-case hex digits, not all zeros. */
static bool is_id(const char *s, size_t n)
{
    bool nonzero = false;
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!strchr("0123456789abcdef", s[i]))
            return false;
        nonzero |= s[i] != '0';
    }
    return nonzero;
}

static void test_new_ids_and_format(void **state)
{
    (void)state;
    char t1[33], t2[33], s1[17], s2[17], out[56];
    pb_trace_new_trace_id(t1);
    pb_trace_new_trace_id(t2);
    pb_trace_new_span_id(s1);
    pb_trace_new_span_id(s2);
    assert_true(is_id(t1, 32));
    assert_true(is_id(s1, 16));
    assert_string_not_equal(t1, t2);
    assert_string_not_equal(s1, s2);
    pb_trace_format(t1, s1, 0x01, out);
    assert_int_equal(strlen(out), 55);
    char t[33], p[17];
    uint8_t flags;
    assert_true(pb_trace_parse(out, t, p, &flags)); /* what we emit, we accept */
    assert_string_equal(t, t1);
    assert_string_equal(p, s1);
    assert_int_equal(flags, 1);
}

/* Ids come from a per-thread buffer: across several refills they stay
 * well-formed and distinct, on this thread and on another. */
static void *many_ids(void *arg)
{
    char(*ids)[33] = arg;
    for (int i = 0; i < 200; i++)
        pb_trace_new_trace_id(ids[i]);
    return NULL;
}

static void test_ids_across_refills_and_threads(void **state)
{
    (void)state;
    static char ids[400][33];
    char span[17];
    many_ids(ids);
    for (int i = 0; i < 100; i++) { /* interleaved sizes: 16 and 8 bytes */
        pb_trace_new_span_id(span);
        assert_true(is_id(span, 16));
    }
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, many_ids, ids + 200), 0);
    pthread_join(t, NULL);
    for (int i = 0; i < 400; i++) {
        assert_true(is_id(ids[i], 32));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
}

static void test_request_ids(void **state)
{
    (void)state;
    assert_true(pb_request_id_valid("abc-123"));
    assert_true(pb_request_id_valid("A.b_c:d-9"));
    char max[65];
    memset(max, 'a', 64);
    max[64] = '\0';
    assert_true(pb_request_id_valid(max));
    char over[66];
    memset(over, 'a', 65);
    over[65] = '\0';
    assert_false(pb_request_id_valid(over));
    assert_false(pb_request_id_valid(""));
    assert_false(pb_request_id_valid(NULL));
    assert_false(pb_request_id_valid("has space"));
    assert_false(pb_request_id_valid("quote\""));
    assert_false(pb_request_id_valid("new\nline"));
    assert_false(pb_request_id_valid("caf\xc3\xa9"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_new_ids_and_format),
        cmocka_unit_test(test_ids_across_refills_and_threads),
        cmocka_unit_test(test_request_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
