/*
 * log.h — a tiny structured logger: one JSON object per line on stderr.
 *
 *   {"ts":"2026-11-21T15:10:00.123456Z","level":"info","event":"ledger.start","msg":"..."}
 *
 * Thread-safe: each line is written whole (one fwrite, or one piece of a
 * buffered write — see pb_log_buffer_start).
 */
#ifndef PB_CORE_LOG_H
#define PB_CORE_LOG_H

#include <stddef.h>

typedef enum {
    PB_LOG_DEBUG = 0,
    PB_LOG_INFO,
    PB_LOG_WARN,
    PB_LOG_ERROR,
} pb_log_level;

/* Reads PITBOSS_LOG_LEVEL (debug|info|warn|error, case-insensitive); an unset or
 * unknown value leaves the level unchanged (default: info). */
void pb_log_init(void);
/* Lines below this level are dropped. */
void pb_log_set_level(pb_log_level lvl);
pb_log_level pb_log_get_level(void);

/* Writes one line if lvl is enabled; `event` is a short dotted name, the
 * message is printf-formatted and JSON-escaped. */
void pb_log(pb_log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes one finished line (ending in '\n') of level lvl to the sink: stderr at
 * once, or, while buffering is on, the buffer (below warn) — see log.c. */
void pb_log_write(pb_log_level lvl, const char *line, size_t len);

/* The longest flush interval pb_log_buffer_start takes (serve allows up to 1000). */
#define PB_LOG_FLUSH_MS_MAX 60000u
/* Turns buffering on: lines below warn are written together at least every
 * flush_ms (1..PB_LOG_FLUSH_MS_MAX) by a thread of the logger's, warn and
 * error lines at once after what is buffered. flush_ms 0 leaves every line
 * unbuffered and returns 0. -1: out of range, already on, or no thread. */
int pb_log_buffer_start(unsigned flush_ms);
/* Writes what is buffered now. */
void pb_log_flush(void);
/* Writes what is buffered, ends the thread; lines are unbuffered again. */
void pb_log_buffer_stop(void);

#endif
