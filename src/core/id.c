/*
 * id.c — UUIDv7 generation (RFC 9562), string form and comparison.
 *
 * Layout (big-endian): 48-bit Unix ms | ver 0111 | 12-bit rand_a | var 10 |
 * 62-bit rand_b. rand_a is a sub-millisecond counter (RFC 9562 section 6.2,
 * method 1, "fixed bit-length dedicated counter"):
 *   - a mutex guards (last_ms, seq); every id takes the next (ms, seq) pair,
 *     so ids are strictly increasing in the order the lock is taken, across
 *     all threads, whatever the random bits are;
 *   - a new millisecond restarts seq at 0 (maximum headroom; rand_b carries
 *     the unguessable part);
 *   - within one ms, or if the wall clock steps backwards, seq increments on
 *     the last timestamp; when seq would pass 0xFFF the timestamp advances by
 *     one ms logically and seq restarts, so the id stays ahead of the clock
 *     only until real time catches up.
 * rand_b comes from libsodium's randombytes_buf outside the lock, drawn from a
 * per-thread buffer refilled 512 bytes at a time (one getrandom() call per 64
 * ids instead of one per id); sodium_init runs once via pthread_once.
 */
#include "core/id.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t last_ms = -1;
static unsigned seq;

static _Thread_local uint8_t rand_pool[512];
static _Thread_local size_t rand_used = sizeof rand_pool;

static void random8(uint8_t out[8])
{
    if (rand_used + 8 > sizeof rand_pool) {
        randombytes_buf(rand_pool, sizeof rand_pool);
        rand_used = 0;
    }
    memcpy(out, rand_pool + rand_used, 8);
    sodium_memzero(rand_pool + rand_used, 8);
    rand_used += 8;
}

static void sodium_start(void)
{
    if (sodium_init() < 0)
        abort(); /* no randomness source: ids would not be safe to issue */
}

static int64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (ms < 0)
        ms = 0;
    return ms & INT64_C(0xFFFFFFFFFFFF);
}

void pb_id_new(pb_id *out)
{
    pthread_once(&sodium_once, sodium_start);

    int64_t ms;
    unsigned s;
    int64_t now = now_ms();
    pthread_mutex_lock(&gen_lock);
    if (now > last_ms) {
        last_ms = now;
        seq = 0;
    } else if (seq < 0xFFF) {
        seq++;
    } else {
        last_ms++; /* counter exhausted: borrow the next millisecond */
        seq = 0;
    }
    ms = last_ms;
    s = seq;
    pthread_mutex_unlock(&gen_lock);

    uint8_t *b = out->b;
    random8(b + 8);
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)((uint64_t)ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | (s >> 8));
    b[7] = (uint8_t)(s & 0xFF);
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3F));
}

void pb_id_to_string(const pb_id *id, char out[PB_ID_STR_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[id->b[i] >> 4];
        out[o++] = hex[id->b[i] & 0x0F];
    }
    out[o] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int pb_id_parse(const char *s, size_t len, pb_id *out)
{
    if (s == NULL || out == NULL || len != PB_ID_STR_LEN)
        return -1;
    pb_id tmp;
    size_t i = 0;
    for (int k = 0; k < 16; k++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -1;
            i++;
        }
        int hi = hex_value(s[i]);
        int lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        tmp.b[k] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    *out = tmp;
    return 0;
}

int64_t pb_id_unix_ms(const pb_id *id)
{
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | id->b[i];
    return (int64_t)ms;
}

int pb_id_cmp(const pb_id *a, const pb_id *b)
{
    int c = memcmp(a->b, b->b, sizeof a->b);
    return (c > 0) - (c < 0);
}

bool pb_id_is_zero(const pb_id *id)
{
    static const pb_id zero;
    return memcmp(id->b, zero.b, sizeof id->b) == 0;
}
