/*
 * export_stream.h — what the back office's streamed exports share (the
 * transactions CSV, admin_transactions.c; the audit log's JSON lines,
 * admin_audit.c): the reply as a bounded stream, a producer thread counted for
 * the server's shutdown, and writes that wait for the client to drain.
 * export_stream.c explains the design.
 */
#ifndef PB_API_EXPORT_STREAM_H
#define PB_API_EXPORT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "http/http.h"

/* The stream's buffer: what an export holds besides its producer's own state. */
#define PB_API_EXPORT_BUFFER ((size_t)256 << 10)
/* A client that takes nothing for this long is given up. */
#define PB_API_EXPORT_STALL_S 60

/* Replies 200 with a streamed body of content_type (buffered up to
 * PB_API_EXPORT_BUFFER; its drains wake the export threads). Add headers
 * before. The stream, or NULL when it could not be made (a 500 was replied). */
pb_http_stream *pb_api_export_reply(pb_http_request *req, const char *content_type);

/* Writes the len bytes of data into s, waiting for the client to drain the
 * buffer when it is full. True when all were taken; false when the client is
 * gone, the server is shutting down, or nothing drained for
 * PB_API_EXPORT_STALL_S (then an unknown prefix was taken). Call it from the
 * export's thread, never from an HTTP worker. */
bool pb_api_export_write(pb_http_stream *s, const void *data, size_t len);

/* A FILE* whose output goes into s through pb_api_export_write (fully buffered,
 * flushed at most 16 KiB at a time): once a write is refused, ferror() is set
 * and every later write fails. *sent (may be NULL) counts the bytes s took.
 * fclose() it before releasing s. NULL when out of memory. */
FILE *pb_api_export_fopen(pb_http_stream *s, uint64_t *sent);

/* Streamed exports running at once, process-wide, when the server's setting
 * (pb_api_app.max_exports: --max-exports, PITBOSS_MAX_EXPORTS) is 0. */
#define PB_API_EXPORTS_MAX_DEFAULT 4

/* Takes one of max places (0: PB_API_EXPORTS_MAX_DEFAULT) for a streamed export,
 * before anything of it is recorded or sent. False when all are taken: reply
 * with pb_api_export_busy(). Give it back with pb_api_export_release() once the
 * export's thread has dropped its connection (before the stream is released, so
 * that a client who has read the whole body finds the place free), or at once
 * when the export does not start. */
bool pb_api_export_reserve(unsigned max);
/* Gives back a place taken by pb_api_export_reserve(). */
void pb_api_export_release(void);
/* Replies 503 EXPORTS_BUSY with Retry-After. */
void pb_api_export_busy(pb_http_request *req);

/* Runs fn(arg) on a detached thread that pb_api_bo_exports_wait() waits for;
 * fn owns arg (and the stream in it: it releases it). False when no thread
 * could be started: fn did not run and the caller still owns arg. */
bool pb_api_export_spawn(void (*fn)(void *arg), void *arg);

#endif
