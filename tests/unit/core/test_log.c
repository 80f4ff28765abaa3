/*
 * test_log.c — the logger's sink: unbuffered by default; while buffering is on
 * (pb_log_buffer_start), info lines wait for the flusher, a full buffer, an
 * explicit flush or the stop, and a warn or error line writes what waits and
 * then itself, in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "../capture.h"

/* Bytes written to the captured stderr so far. */
static long captured_size(const capture *c)
{
    struct stat st;
    assert_int_equal(fstat(fileno(c->file), &st), 0);
    return (long)st.st_size;
}

/* The captured file's whole text (malloc'd). */
static char *captured_all(const capture *c)
{
    long n = captured_size(c);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(pread(fileno(c->file), s, (size_t)n, 0), n);
    s[n] = '\0';
    return s;
}

/* Where needle begins in s, -1 when it does not occur. */
static long offset_of(const char *s, const char *needle)
{
    const char *p = strstr(s, needle);
    return p ? (long)(p - s) : -1;
}

static void test_unbuffered_by_default(void **state)
{
    (void)state;
    pb_log_set_level(PB_LOG_INFO);
    capture c;
    capture_begin(&c);
    pb_log(PB_LOG_INFO, "t.direct", "one");
    assert_true(captured_size(&c) > 0); /* written at once */
    const char *out = capture_end(&c);
    assert_non_null(strstr(out, "\"event\":\"t.direct\""));
}

static void test_info_waits_warn_writes_all_in_order(void **state)
{
    (void)state;
    pb_log_set_level(PB_LOG_INFO);
    capture c;
    capture_begin(&c);
    assert_int_equal(pb_log_buffer_start(PB_LOG_FLUSH_MS_MAX), 0);
    assert_int_equal(pb_log_buffer_start(PB_LOG_FLUSH_MS_MAX), -1); /* already on */
    pb_log(PB_LOG_INFO, "t.a", "first");
    pb_log(PB_LOG_DEBUG, "t.hidden", "below the level");
    pb_log(PB_LOG_INFO, "t.b", "second");
    assert_int_equal(captured_size(&c), 0); /* both wait */
    pb_log(PB_LOG_WARN, "t.c", "third");
    char *s1 = captured_all(&c);
    long a = offset_of(s1, "\"t.a\""), b = offset_of(s1, "\"t.b\""), w = offset_of(s1, "\"t.c\"");
    assert_true(a >= 0 && a < b && b < w);
    assert_int_equal(offset_of(s1, "t.hidden"), -1);
    free(s1);
    long before = captured_size(&c);
    pb_log(PB_LOG_INFO, "t.d", "fourth");
    assert_int_equal(captured_size(&c), before);
    pb_log_flush();
    assert_true(captured_size(&c) > before);
    pb_log(PB_LOG_INFO, "t.e", "fifth");
    before = captured_size(&c);
    pb_log_buffer_stop(); /* writes what waits */
    assert_true(captured_size(&c) > before);
    before = captured_size(&c);
    pb_log(PB_LOG_INFO, "t.f", "after the stop");
    assert_true(captured_size(&c) > before); /* unbuffered again */
    pb_log_buffer_stop();                    /* a second stop does nothing */
    char *s2 = captured_all(&c);
    long d = offset_of(s2, "\"t.d\""), e = offset_of(s2, "\"t.e\""), f = offset_of(s2, "\"t.f\"");
    assert_true(d > w && d < e && e < f);
    free(s2);
    capture_end(&c);
}

static void test_the_flusher_writes_on_its_own(void **state)
{
    (void)state;
    pb_log_set_level(PB_LOG_INFO);
    capture c;
    capture_begin(&c);
    assert_int_equal(pb_log_buffer_start(20), 0);
    pb_log(PB_LOG_INFO, "t.timed", "written by the flusher");
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        usleep(5000);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (captured_size(&c) == 0 && t.tv_sec - t0.tv_sec < 10);
    assert_true(captured_size(&c) > 0); /* no flush, no stop: the thread wrote it */
    pb_log_buffer_stop();
    const char *out = capture_end(&c);
    assert_non_null(strstr(out, "\"t.timed\""));
}

static void test_a_full_buffer_is_written_and_order_kept(void **state)
{
    (void)state;
    pb_log_set_level(PB_LOG_INFO);
    capture c;
    capture_begin(&c);
    assert_int_equal(pb_log_buffer_start(PB_LOG_FLUSH_MS_MAX), 0);
    enum { LINES = 2000 };
    for (int i = 0; i < LINES; i++)
        pb_log(PB_LOG_INFO, "t.many", "n=%05d %s", i, "padding padding padding padding");
    long mid = captured_size(&c);
    assert_true(mid > 0);           /* the buffer filled and was written */
    assert_true(mid < LINES * 100); /* but not all of it: the rest waits */
    pb_log_buffer_stop();
    char *s = captured_all(&c);
    const char *p = s;
    for (int i = 0; i < LINES; i++) {
        char want[16];
        snprintf(want, sizeof want, "n=%05d ", i);
        const char *q = strstr(p, want);
        assert_non_null(q); /* every line, in order */
        p = q;
        const char *nl = strchr(q, '\n');
        assert_non_null(nl);
        p = nl + 1;
    }
    free(s);
    capture_end(&c);
}

static void test_start_bounds(void **state)
{
    (void)state;
    assert_int_equal(pb_log_buffer_start(0), 0); /* 0: stays unbuffered */
    assert_int_equal(pb_log_buffer_start(PB_LOG_FLUSH_MS_MAX + 1), -1);
    capture c;
    capture_begin(&c);
    pb_log(PB_LOG_INFO, "t.still_direct", "x");
    assert_true(captured_size(&c) > 0);
    capture_end(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unbuffered_by_default),
        cmocka_unit_test(test_info_waits_warn_writes_all_in_order),
        cmocka_unit_test(test_the_flusher_writes_on_its_own),
        cmocka_unit_test(test_a_full_buffer_is_written_and_order_kept),
        cmocka_unit_test(test_start_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
