/*
 * time.h — UTC time as int64_t microseconds since the Unix epoch, RFC 3339 on the wire.
 */
#ifndef PB_CORE_TIME_H
#define PB_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PB_TIME_STR_MAX 32 /* "2026-11-21T15:10:00.123456Z" + NUL fits */

/* Wall-clock UTC now, in microseconds since 1970-01-01T00:00:00Z. */
int64_t pb_time_now_us(void);
/* Monotonic clock in microseconds, for durations and timeouts. */
int64_t pb_time_mono_us(void);
/* The instant ms milliseconds (>= 0) from now on `clock`, for the absolute
 * timeouts of pthread_cond_timedwait and the like. */
void pb_time_deadline(clockid_t clock, int64_t ms, struct timespec *out);

/* Formats as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always UTC, always 6 fraction digits).
 * Returns the length, or -1 if out of the years 0000..9999 or cap is too small. */
int pb_time_format(int64_t us, char *buf, size_t cap);

/* Parses RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)", 'T'/'t' and 'Z'/'z';
 * up to 9 fraction digits (truncated to microseconds); leap second 60 rejected.
 * Returns 0 and the UTC instant, or -1 if malformed or out of range. */
int pb_time_parse(const char *s, size_t len, int64_t *out_us);

#endif
