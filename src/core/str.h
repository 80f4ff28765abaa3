/*
 * str.h — bounded string copies for the hot paths.
 *
 * `snprintf(dst, sizeof dst, "%s", src)` is the idiom for copying into a fixed
 * buffer, and it costs ~500 instructions a call (format parsing, the stdio
 * machinery); a wallet operation made ~25 such copies in the ledger writer
 * (callgrind, `pitboss bench game`). pb_strlcpy does the same copy with
 * strnlen + memcpy: dst always NUL-terminated, src truncated to cap − 1 bytes
 * (like snprintf), NULL copied as "" (snprintf would write "(null)").
 */
#ifndef PB_CORE_STR_H
#define PB_CORE_STR_H

#include <stddef.h>
#include <string.h>

/* Copies src into dst[cap] (cap > 0), truncating; returns the length copied. */
static inline size_t pb_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
    return n;
}

/* pb_strlcpy into an array: the capacity is the array's size. */
#define PB_STRCPY(arr, src) pb_strlcpy((arr), (src), sizeof(arr))

#endif
