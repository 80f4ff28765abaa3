/*
 * test_id_time.c — unit tests for UUIDv7 ids (id.c), RFC 3339 time (time.c)
 * and the JSON-lines logger (log.c), which sits on top of the time format.
 *
 * The calendar is checked against an independent oracle: a day-by-day walk
 * over all of 0000..9999 with its own month-length table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "core/id.h"
#include "core/log.h"
#include "core/time.h"
#include "../capture.h"

#define MIN_US (INT64_C(-62167219200000000)) /* 0000-01-01T00:00:00Z */
#define MAX_US (INT64_C(253402300799999999)) /* 9999-12-31T23:59:59.999999Z */

static unsigned rand_a(const pb_id *id) { return (unsigned)(id->b[6] & 0x0F) << 8 | id->b[7]; }

/* ---- ids ---------------------------------------------------------------- */

static void test_id_version_variant(void **state)
{
    (void)state;
    for (int i = 0; i < 1000; i++) {
        pb_id id;
        pb_id_new(&id);
        assert_int_equal(id.b[6] >> 4, 7); /* version 7 */
        assert_int_equal(id.b[8] >> 6, 2); /* variant 10 */
        assert_false(pb_id_is_zero(&id));
    }
}

static void test_id_unix_ms_close_to_now(void **state)
{
    (void)state;
    int64_t before = pb_time_now_us() / 1000;
    pb_id id;
    pb_id_new(&id);
    int64_t after = pb_time_now_us() / 1000;
    /* the sequence may run a little ahead of the clock after bursts, never behind */
    assert_true(pb_id_unix_ms(&id) >= before);
    assert_true(pb_id_unix_ms(&id) <= after + 1000);
}

static void test_id_sequence_method1(void **state)
{
    (void)state;
    pb_id prev, cur;
    pb_id_new(&prev);
    int same_ms = 0;
    for (int i = 0; i < 20000; i++) {
        pb_id_new(&cur);
        assert_true(pb_id_cmp(&prev, &cur) < 0);
        int64_t pm = pb_id_unix_ms(&prev), cm = pb_id_unix_ms(&cur);
        if (cm == pm) {
            assert_int_equal(rand_a(&cur), rand_a(&prev) + 1); /* counter steps by one */
            same_ms++;
        } else {
            assert_true(cm > pm);
            assert_int_equal(rand_a(&cur), 0); /* a new millisecond restarts it */
        }
        prev = cur;
    }
    assert_true(same_ms > 0); /* 20000 ids cannot each take their own millisecond */
}

static void test_id_string_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < 100; i++) {
        pb_id id, back;
        char s[PB_ID_STR_LEN + 1];
        pb_id_new(&id);
        pb_id_to_string(&id, s);
        assert_int_equal(strlen(s), PB_ID_STR_LEN);
        for (int k = 0; k < PB_ID_STR_LEN; k++) {
            if (k == 8 || k == 13 || k == 18 || k == 23)
                assert_int_equal(s[k], '-');
            else
                assert_non_null(strchr("0123456789abcdef", s[k]));
        }
        assert_int_equal(s[14], '7');
        assert_int_equal(pb_id_parse(s, PB_ID_STR_LEN, &back), 0);
        assert_int_equal(pb_id_cmp(&id, &back), 0);
    }
    /* RFC 9562 appendix A.6 example, upper case accepted */
    const char *ex = "017F22E2-79B0-7CC3-98C4-DC0C0C07398F";
    pb_id id;
    char s[PB_ID_STR_LEN + 1];
    assert_int_equal(pb_id_parse(ex, strlen(ex), &id), 0);
    assert_true(pb_id_unix_ms(&id) == INT64_C(1645557742000));
    assert_int_equal(id.b[0], 0x01);
    assert_int_equal(id.b[15], 0x8f);
    pb_id_to_string(&id, s);
    assert_string_equal(s, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
}

static void test_id_parse_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398",   /* 35 */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398f0", /* 37 */
        "017f22e279b07cc398c4dc0c0c07398f",      /* no dashes */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398g",  /* not hex */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398 ",
        "017f22e2_79b0-7cc3-98c4-dc0c0c07398f",
        "017f22e-279b0-7cc3-98c4-dc0c0c07398f", /* dash moved */
        "017f22e2-79b07-cc3-98c4-dc0c0c07398f",
        "017f22e2-79b0-7cc39-8c4-dc0c0c07398f",
        "017f22e2-79b0-7cc3-98c4d-c0c0c07398f",
        "017f22e2-79b0-7cc3-98c4-dc0c0c07-98f", /* extra dash */
        "{17f22e2-79b0-7cc3-98c4-dc0c0c07398f",
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398\xc3",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pb_id id;
        memset(&id, 0xAB, sizeof id);
        assert_int_equal(pb_id_parse(bad[i], strlen(bad[i]), &id), -1);
        assert_int_equal(id.b[0], 0xAB); /* untouched */
    }
    /* a NUL inside the 36 bytes */
    assert_int_equal(pb_id_parse("017f22e2-79b0-7cc3-98c4-dc0c0c07\0"
                                 "98f",
                                 36, &(pb_id){0}),
                     -1);
    /* len, not NUL, decides */
    assert_int_equal(pb_id_parse("017f22e2-79b0-7cc3-98c4-dc0c0c07398f", 35, &(pb_id){0}), -1);
    assert_int_equal(pb_id_parse(NULL, 36, &(pb_id){0}), -1);
}

static void test_id_cmp_and_zero(void **state)
{
    (void)state;
    pb_id z = {{0}}, a, b;
    assert_true(pb_id_is_zero(&z));
    assert_int_equal(pb_id_parse("00000000-0000-0000-0000-000000000000", 36, &a), 0);
    assert_true(pb_id_is_zero(&a));
    z.b[15] = 1;
    assert_false(pb_id_is_zero(&z));
    pb_id_new(&a);
    pb_id_new(&b);
    assert_true(pb_id_cmp(&a, &b) < 0);
    assert_true(pb_id_cmp(&b, &a) > 0);
    assert_int_equal(pb_id_cmp(&a, &a), 0);
}

#define ID_THREADS 4
#define ID_PER_THREAD 25000

static void *make_ids(void *arg)
{
    pb_id *ids = arg;
    for (int i = 0; i < ID_PER_THREAD; i++)
        pb_id_new(&ids[i]);
    return NULL;
}

static int cmp_qsort(const void *a, const void *b) { return pb_id_cmp(a, b); }

static void test_id_monotonic_across_threads(void **state)
{
    (void)state;
    pb_id *all = calloc((size_t)ID_THREADS * ID_PER_THREAD, sizeof *all);
    assert_non_null(all);
    pthread_t th[ID_THREADS];
    for (int t = 0; t < ID_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, make_ids, all + t * ID_PER_THREAD), 0);
    for (int t = 0; t < ID_THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);

    for (int t = 0; t < ID_THREADS; t++) {
        const pb_id *ids = all + t * ID_PER_THREAD;
        for (int i = 1; i < ID_PER_THREAD; i++)
            assert_true(pb_id_cmp(&ids[i - 1], &ids[i]) < 0);
    }
    /* globally: all distinct, and distinct on (ms, counter) alone, which is
     * what orders ids made by different threads; the counter has no gaps:
     * within a millisecond it steps by one, a new millisecond starts at 0 */
    qsort(all, (size_t)ID_THREADS * ID_PER_THREAD, sizeof *all, cmp_qsort);
    for (size_t i = 1; i < (size_t)ID_THREADS * ID_PER_THREAD; i++) {
        assert_true(pb_id_cmp(&all[i - 1], &all[i]) < 0);
        assert_true(memcmp(all[i - 1].b, all[i].b, 8) < 0);
        if (pb_id_unix_ms(&all[i]) == pb_id_unix_ms(&all[i - 1]))
            assert_int_equal(rand_a(&all[i]), rand_a(&all[i - 1]) + 1);
        else
            assert_int_equal(rand_a(&all[i]), 0);
    }
    free(all);
}

/* ---- time: format ------------------------------------------------------- */

static void expect_time_format(int64_t us, const char *want)
{
    char buf[PB_TIME_STR_MAX];
    assert_int_equal(pb_time_format(us, buf, sizeof buf), (int)strlen(want));
    assert_string_equal(buf, want);
}

static void test_time_format_known(void **state)
{
    (void)state;
    expect_time_format(0, "1970-01-01T00:00:00.000000Z");
    expect_time_format(INT64_C(951782400000000), "2000-02-29T00:00:00.000000Z");
    expect_time_format(INT64_C(1795273800000000), "2026-11-21T15:10:00.000000Z");
    expect_time_format(INT64_C(1795273800123456), "2026-11-21T15:10:00.123456Z");
    expect_time_format(-1, "1969-12-31T23:59:59.999999Z");
    expect_time_format(INT64_C(-86400000000), "1969-12-31T00:00:00.000000Z");
    expect_time_format(INT64_C(-14182940000000), "1969-07-20T20:17:40.000000Z");
    expect_time_format(INT64_C(-2208988800000000), "1900-01-01T00:00:00.000000Z");
    expect_time_format(INT64_C(-62135596800000000), "0001-01-01T00:00:00.000000Z");
    expect_time_format(MIN_US, "0000-01-01T00:00:00.000000Z");
    expect_time_format(MAX_US, "9999-12-31T23:59:59.999999Z");
}

static void test_time_format_limits(void **state)
{
    (void)state;
    char buf[PB_TIME_STR_MAX];
    assert_int_equal(pb_time_format(MIN_US - 1, buf, sizeof buf), -1);
    assert_int_equal(pb_time_format(MAX_US + 1, buf, sizeof buf), -1);
    assert_int_equal(pb_time_format(INT64_MIN, buf, sizeof buf), -1);
    assert_int_equal(pb_time_format(INT64_MAX, buf, sizeof buf), -1);
    assert_int_equal(pb_time_format(0, buf, 27), -1); /* no room for the NUL */
    assert_int_equal(pb_time_format(0, buf, 28), 27);
    assert_int_equal(pb_time_format(0, NULL, 28), -1);
}

/* Every day of 0000..9999 formats to the next calendar date (own oracle). */
static void test_time_calendar_walk(void **state)
{
    (void)state;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 0, m = 1, d = 1;
    for (int64_t us = MIN_US; us <= MAX_US; us += INT64_C(86400000000)) {
        char buf[PB_TIME_STR_MAX], want[48];
        assert_int_equal(pb_time_format(us, buf, sizeof buf), 27);
        snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, d);
        if (memcmp(buf, want, 10) != 0)
            fail_msg("%s != %s", buf, want);
        int64_t back;
        if (d == 28 || d == 1) { /* parse spot-check; all days would be slow under ASan */
            assert_int_equal(pb_time_parse(buf, 27, &back), 0);
            assert_true(back == us);
        }
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (++d > mdays[m - 1] + (m == 2 && leap)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    assert_int_equal(y, 10000);
}

/* ---- time: parse -------------------------------------------------------- */

static int64_t parse_ok(const char *s)
{
    int64_t v = 0;
    int rc = pb_time_parse(s, strlen(s), &v);
    if (rc != 0)
        fail_msg("pb_time_parse(\"%s\") failed", s);
    return v;
}

static void test_time_parse_offsets(void **state)
{
    (void)state;
    const int64_t z = INT64_C(1795273800000000); /* 2026-11-21T15:10:00Z */
    assert_true(parse_ok("2026-11-21T15:10:00Z") == z);
    assert_true(parse_ok("2026-11-21T17:10:00+02:00") == z);
    assert_true(parse_ok("2026-11-21T09:40:00-05:30") == z);
    assert_true(parse_ok("2026-11-21T15:10:00+00:00") == z);
    assert_true(parse_ok("2026-11-21T15:10:00-00:00") == z);
    assert_true(parse_ok("2026-11-21t15:10:00z") == z);
    assert_true(parse_ok("2026-11-22T15:09:00+23:59") == z);
    assert_true(parse_ok("2026-11-20T15:11:00-23:59") == z);
    /* offsets move across day, month and year boundaries */
    assert_true(parse_ok("1970-01-01T01:00:00+01:00") == 0);
    assert_true(parse_ok("1969-12-31T23:00:00-01:00") == 0);
    assert_true(parse_ok("2000-03-01T00:30:00+01:00") == INT64_C(951867000000000));
}

static void test_time_parse_fraction(void **state)
{
    (void)state;
    assert_true(parse_ok("1970-01-01T00:00:00.1Z") == 100000);
    assert_true(parse_ok("1970-01-01T00:00:00.000001Z") == 1);
    assert_true(parse_ok("1970-01-01T00:00:00.123456Z") == 123456);
    assert_true(parse_ok("1970-01-01T00:00:00.1234567Z") == 123456); /* truncated */
    assert_true(parse_ok("1970-01-01T00:00:00.999999999Z") == 999999);
    assert_true(parse_ok("1970-01-01T00:00:00.0000009+00:00") == 0);
    assert_true(parse_ok("1969-12-31T23:59:59.5Z") == -500000);
    assert_true(parse_ok("1969-12-31T23:59:59.999999999Z") == -1);
}

static void test_time_parse_dates(void **state)
{
    (void)state;
    assert_true(parse_ok("2000-02-29T00:00:00Z") == INT64_C(951782400000000));
    (void)parse_ok("2024-02-29T00:00:00Z");
    (void)parse_ok("2026-12-31T23:59:59Z");
    (void)parse_ok("2026-04-30T00:00:00Z");
    assert_true(parse_ok("0000-01-01T00:00:00Z") == MIN_US);
    assert_true(parse_ok("9999-12-31T23:59:59.999999Z") == MAX_US);
    assert_true(parse_ok("0000-02-29T00:00:00Z") == MIN_US + INT64_C(59) * 86400000000);
}

static void test_time_parse_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "2026-02-30T00:00:00Z", /* Feb 30 */
        "2023-02-29T00:00:00Z", /* not a leap year */
        "1900-02-29T00:00:00Z", /* century, not leap */
        "2026-04-31T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-13-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-11-21T24:00:00Z", /* hour 24 */
        "2026-11-21T15:60:00Z",
        "2026-12-31T23:59:60Z", /* leap second */
        "2026-11-21 15:10:00Z", /* space instead of T */
        "2026-11-21T15:10:00",  /* no zone */
        "2026-11-21T15:10Z",    /* no seconds */
        "2026-11-21",
        "2026-11-21T15:10:00.Z",           /* empty fraction */
        "2026-11-21T15:10:00.1234567890Z", /* 10 fraction digits */
        "2026-11-21T15:10:00,5Z",
        "2026-11-21T15:10:00+0200",
        "2026-11-21T15:10:00+02",
        "2026-11-21T15:10:00+24:00",
        "2026-11-21T15:10:00+02:60",
        "2026-11-21T15:10:00UTC",
        "2026-11-21T15:10:00ZZ",
        "2026-11-21T15:10:00Z ",
        " 2026-11-21T15:10:00Z",
        "26-11-21T15:10:00Z",
        "+2026-11-21T15:10:00Z",
        "2026-1-21T15:10:00Z",
        "2026/11/21T15:10:00Z",
        "2026-11-21T15:10:00X",
        "２026-11-21T15:10:00Z",     /* full-width digit */
        "0000-01-01T00:00:00+00:01", /* before year 0 */
        "9999-12-31T23:59:59-00:01", /* after year 9999 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 42;
        if (pb_time_parse(bad[i], strlen(bad[i]), &v) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_true(v == 42);
    }
    int64_t v;
    assert_int_equal(pb_time_parse("2026-11-21T15:10:00Z\0", 21, &v), -1);
    assert_int_equal(pb_time_parse("2026-11-21T15:10:00Z", 19, &v), -1);
    assert_int_equal(pb_time_parse(NULL, 0, &v), -1);
}

static void test_time_round_trip_random(void **state)
{
    (void)state;
    uint64_t x = 0x2545f4914f6cdd1du;
    const uint64_t span = (uint64_t)(MAX_US - MIN_US) + 1;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t us = MIN_US + (int64_t)(x % span);
        char buf[PB_TIME_STR_MAX];
        assert_int_equal(pb_time_format(us, buf, sizeof buf), 27);
        int64_t back = 0;
        assert_int_equal(pb_time_parse(buf, 27, &back), 0);
        if (back != us)
            fail_msg("%s: %lld != %lld", buf, (long long)back, (long long)us);
    }
}

static void test_time_clocks(void **state)
{
    (void)state;
    int64_t now = pb_time_now_us();
    assert_true(now > INT64_C(1577836800000000)); /* after 2020-01-01 */
    assert_true(now < MAX_US);
    int64_t m1 = pb_time_mono_us();
    usleep(2000);
    int64_t m2 = pb_time_mono_us();
    assert_true(m2 - m1 >= 2000);
    assert_true(m2 - m1 < 10 * INT64_C(1000000));
}

/* A deadline lies ms ahead on its clock, its nanoseconds normalised (the carry
 * into seconds when they pass a whole second). */
static void test_time_deadline(void **state)
{
    (void)state;
    const int64_t ms[] = {0, 1, 999, 1000, 1500, 61999};
    const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC};
    for (size_t c = 0; c < 2; c++)
        for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
            struct timespec before, d, after;
            clock_gettime(clocks[c], &before);
            pb_time_deadline(clocks[c], ms[i], &d);
            clock_gettime(clocks[c], &after);
            assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
            int64_t d_ns = (int64_t)d.tv_sec * 1000000000 + d.tv_nsec;
            int64_t lo = (int64_t)before.tv_sec * 1000000000 + before.tv_nsec + ms[i] * 1000000;
            int64_t hi = (int64_t)after.tv_sec * 1000000000 + after.tv_nsec + ms[i] * 1000000;
            assert_true(d_ns >= lo && d_ns <= hi);
        }
}

/* ---- log ---------------------------------------------------------------- */

static void test_log_json_line(void **state)
{
    (void)state;
    pb_log_set_level(PB_LOG_INFO);
    capture c;
    capture_begin(&c);
    pb_log(PB_LOG_WARN, "ledger.test", "amount %s says \"hi\"\\%c\n\t%d", "10.00", 'x', 7);
    pb_log(PB_LOG_DEBUG, "ledger.hidden", "not shown");
    pb_log(PB_LOG_ERROR, "ctl", "%c", 1);
    const char *out = capture_end(&c);

    assert_int_equal(strncmp(out, "{\"ts\":\"", 7), 0);
    int64_t ts;
    assert_int_equal(pb_time_parse(out + 7, 27, &ts), 0); /* a full RFC 3339 stamp */
    assert_true(llabs(ts - pb_time_now_us()) < INT64_C(60000000));
    const char *want1 = "\",\"level\":\"warn\",\"event\":\"ledger.test\","
                        "\"msg\":\"amount 10.00 says \\\"hi\\\"\\\\x\\n\\t7\"}\n";
    assert_int_equal(strncmp(out + 7 + 27, want1, strlen(want1)), 0);
    /* exactly two lines: the debug line was filtered */
    const char *nl = strchr(out, '\n');
    assert_non_null(nl);
    const char *nl2 = strchr(nl + 1, '\n');
    assert_non_null(nl2);
    assert_int_equal(nl2[1], '\0');
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(nl + 1, "\"level\":\"error\",\"event\":\"ctl\",\"msg\":\"\\u0001\"}\n"));
}

static void test_log_long_message(void **state)
{
    (void)state;
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    capture c;
    capture_begin(&c);
    pb_log(PB_LOG_ERROR, "long", "<%s>", big);
    const char *out = capture_end(&c);
    const char *m = strstr(out, "\"msg\":\"<");
    assert_non_null(m);
    m += 8;
    assert_int_equal(strspn(m, "q"), sizeof big - 1); /* not truncated */
    assert_string_equal(m + sizeof big - 1, ">\"}\n");
}

static void test_log_levels_from_env(void **state)
{
    (void)state;
    pb_log_set_level(PB_LOG_INFO);
    setenv("PITBOSS_LOG_LEVEL", "error", 1);
    pb_log_init();
    assert_int_equal(pb_log_get_level(), PB_LOG_ERROR);
    setenv("PITBOSS_LOG_LEVEL", "DEBUG", 1);
    pb_log_init();
    assert_int_equal(pb_log_get_level(), PB_LOG_DEBUG);
    setenv("PITBOSS_LOG_LEVEL", "verbose", 1); /* unknown: unchanged */
    pb_log_init();
    assert_int_equal(pb_log_get_level(), PB_LOG_DEBUG);
    unsetenv("PITBOSS_LOG_LEVEL");
    pb_log_set_level(PB_LOG_WARN);
    pb_log_init();
    assert_int_equal(pb_log_get_level(), PB_LOG_WARN);

    capture c;
    capture_begin(&c);
    pb_log(PB_LOG_INFO, "dropped", "x");
    pb_log(PB_LOG_WARN, "kept", "y");
    const char *out = capture_end(&c);
    assert_null(strstr(out, "dropped"));
    assert_non_null(strstr(out, "\"level\":\"warn\",\"event\":\"kept\",\"msg\":\"y\"}\n"));
    pb_log_set_level(PB_LOG_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_version_variant),
        cmocka_unit_test(test_id_unix_ms_close_to_now),
        cmocka_unit_test(test_id_sequence_method1),
        cmocka_unit_test(test_id_string_round_trip),
        cmocka_unit_test(test_id_parse_rejects),
        cmocka_unit_test(test_id_cmp_and_zero),
        cmocka_unit_test(test_id_monotonic_across_threads),
        cmocka_unit_test(test_time_format_known),
        cmocka_unit_test(test_time_format_limits),
        cmocka_unit_test(test_time_calendar_walk),
        cmocka_unit_test(test_time_parse_offsets),
        cmocka_unit_test(test_time_parse_fraction),
        cmocka_unit_test(test_time_parse_dates),
        cmocka_unit_test(test_time_parse_rejects),
        cmocka_unit_test(test_time_round_trip_random),
        cmocka_unit_test(test_time_clocks),
        cmocka_unit_test(test_time_deadline),
        cmocka_unit_test(test_log_json_line),
        cmocka_unit_test(test_log_long_message),
        cmocka_unit_test(test_log_levels_from_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
