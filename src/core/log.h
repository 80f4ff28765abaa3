/*
 * log.h — a tiny structured logger: one JSON object per line on stderr.
 *
 *   {"ts":"2026-11-21T15:10:00.123456Z","level":"info","event":"ledger.start","msg":"..."}
 *
 * Thread-safe: each line is written with a single fwrite.
 */
#ifndef PB_CORE_LOG_H
#define PB_CORE_LOG_H

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

#endif
