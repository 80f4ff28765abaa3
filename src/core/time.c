/*
 * time.c — clocks and RFC 3339 formatting/parsing of UTC microseconds.
 *
 * Design: no libc calendar functions (gmtime/timegm/strftime depend on TZ,
 * locale or platform extensions). Dates are converted with Howard Hinnant's
 * days_from_civil / civil_from_days algorithms on the proleptic Gregorian
 * calendar, which are exact for every year in the supported range
 * 0000..9999. Parsing is a fixed-position scanner; every field is
 * range-checked (month lengths incl. leap years, 00-23, 00-59, 00-59) and an
 * instant that falls outside 0000..9999 after applying the offset is rejected
 * so that everything parse accepts, format can print.
 */
#include "core/time.h"

#include <stdbool.h>
#include <time.h>

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)
/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z */
#define MIN_US (INT64_C(-719528) * US_PER_DAY)
#define MAX_US (INT64_C(2932897) * US_PER_DAY - 1)

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * US_PER_SEC + (int64_t)(ts.tv_nsec / 1000);
}

int64_t pb_time_now_us(void) { return clock_us(CLOCK_REALTIME); }

int64_t pb_time_mono_us(void) { return clock_us(CLOCK_MONOTONIC); }

void pb_time_deadline(clockid_t clock, int64_t ms, struct timespec *out)
{
    clock_gettime(clock, out);
    out->tv_sec += (time_t)(ms / 1000);
    out->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    const unsigned mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned char len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* Writes v as exactly n decimal digits (v < 10^n). */
static void put_digits(char *p, unsigned long v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

int pb_time_format(int64_t us, char *buf, size_t cap)
{
    enum { LEN = 27 }; /* YYYY-MM-DDTHH:MM:SS.ffffffZ */
    if (buf == NULL || cap < LEN + 1 || us < MIN_US || us > MAX_US)
        return -1;

    int64_t days = us / US_PER_DAY;
    int64_t rem = us % US_PER_DAY;
    if (rem < 0) { /* floor division */
        rem += US_PER_DAY;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int64_t secs = rem / US_PER_SEC;
    int64_t frac = rem % US_PER_SEC;

    put_digits(buf + 0, (unsigned long)y, 4);
    buf[4] = '-';
    put_digits(buf + 5, m, 2);
    buf[7] = '-';
    put_digits(buf + 8, d, 2);
    buf[10] = 'T';
    put_digits(buf + 11, (unsigned long)(secs / 3600), 2);
    buf[13] = ':';
    put_digits(buf + 14, (unsigned long)(secs / 60 % 60), 2);
    buf[16] = ':';
    put_digits(buf + 17, (unsigned long)(secs % 60), 2);
    buf[19] = '.';
    put_digits(buf + 20, (unsigned long)frac, 6);
    buf[26] = 'Z';
    buf[27] = '\0';
    return LEN;
}

/* Reads exactly n ASCII digits at s[*i]; false if any is not a digit. */
static bool get_digits(const char *s, size_t len, size_t *i, int n, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return true;
}

static bool expect(const char *s, size_t len, size_t *i, char a, char b)
{
    if (*i >= len || (s[*i] != a && s[*i] != b))
        return false;
    (*i)++;
    return true;
}

int pb_time_parse(const char *s, size_t len, int64_t *out_us)
{
    if (s == NULL || out_us == NULL)
        return -1;

    size_t i = 0;
    unsigned year, mon, day, hh, mm, ss;
    if (!get_digits(s, len, &i, 4, &year) || !expect(s, len, &i, '-', '-') ||
        !get_digits(s, len, &i, 2, &mon) || !expect(s, len, &i, '-', '-') ||
        !get_digits(s, len, &i, 2, &day) || !expect(s, len, &i, 'T', 't') ||
        !get_digits(s, len, &i, 2, &hh) || !expect(s, len, &i, ':', ':') ||
        !get_digits(s, len, &i, 2, &mm) || !expect(s, len, &i, ':', ':') ||
        !get_digits(s, len, &i, 2, &ss))
        return -1;
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hh > 23 || mm > 59 ||
        ss > 59)
        return -1;

    /* Fraction: 1..9 digits, truncated to microseconds. */
    int64_t frac_us = 0;
    if (i < len && s[i] == '.') {
        i++;
        int nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (++nd > 9)
                return -1;
            if (nd <= 6)
                frac_us = frac_us * 10 + (s[i] - '0');
            i++;
        }
        if (nd == 0)
            return -1;
        for (; nd < 6; nd++)
            frac_us *= 10;
    }

    /* Zone: Z or ±HH:MM (offset at most 23:59). */
    int64_t offset_s = 0;
    if (i >= len)
        return -1;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        int sign = s[i] == '-' ? -1 : 1;
        i++;
        unsigned oh, om;
        if (!get_digits(s, len, &i, 2, &oh) || !expect(s, len, &i, ':', ':') ||
            !get_digits(s, len, &i, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset_s = sign * (int64_t)(oh * 3600 + om * 60);
    } else {
        return -1;
    }
    if (i != len)
        return -1;

    int64_t secs = days_from_civil(year, mon, day) * 86400 + (int64_t)hh * 3600 + (int64_t)mm * 60 +
                   (int64_t)ss - offset_s;
    int64_t us = secs * US_PER_SEC + frac_us;
    if (us < MIN_US || us > MAX_US)
        return -1;
    *out_us = us;
    return 0;
}
