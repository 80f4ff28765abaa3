/*
 * frame.c — an event's JSON, written once for every consumer outside the process:
 * the staff stream's data lines (sse.c) and the messages relayed to NATS JetStream
 * (jetstream.c) carry the same object,
 *
 *     {"id":…,"type":…,"brand":…,"subject":…,"created_at":"<RFC 3339>","trace_id":…,
 *      "payload":{…}}
 *
 * on one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "events/events_internal.h"

bool ev_frame_put(frame *f, const char *s, size_t n)
{
    if (f->len + n + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 512;
        while (cap < f->len + n + 1)
            cap *= 2;
        char *q = realloc(f->p, cap);
        if (!q)
            return false;
        f->p = q;
        f->cap = cap;
    }
    memcpy(f->p + f->len, s, n);
    f->len += n;
    f->p[f->len] = '\0';
    return true;
}

bool ev_frame_puts(frame *f, const char *s) { return ev_frame_put(f, s, strlen(s)); }

/* A JSON string of s, which the outbox wrote (codes, ids): escape the few
 * characters JSON needs anyway; the runs between them are appended whole. */
static bool jstr(frame *f, const char *s)
{
    bool ok = ev_frame_put(f, "\"", 1);
    while (*s && ok) {
        size_t run = 0;
        while (s[run] && s[run] != '"' && s[run] != '\\' && (unsigned char)s[run] >= 0x20)
            run++;
        if (run) {
            ok = ev_frame_put(f, s, run);
            s += run;
            continue;
        }
        char esc[8];
        unsigned char ch = (unsigned char)*s++;
        if (ch == '"' || ch == '\\')
            snprintf(esc, sizeof esc, "\\%c", ch);
        else
            snprintf(esc, sizeof esc, "\\u%04x", ch);
        ok = ev_frame_puts(f, esc);
    }
    return ok && ev_frame_put(f, "\"", 1);
}

pb_event ev_event_of_row(const pb_store_event *row)
{
    return (pb_event){.id = row->id,
                      .type_index = pb_events_type_index(row->type),
                      .type = row->type,
                      .brand = row->brand,
                      .subject = row->subject,
                      .payload = row->payload,
                      .payload_len = row->payload_len,
                      .created_at = row->created_at,
                      .trace_id = row->trace_id};
}

bool ev_frame_event_json(frame *f, const pb_event *e)
{
    char head[64], at[40];
    if (pb_time_format(e->created_at, at, sizeof at) < 0)
        snprintf(at, sizeof at, "1970-01-01T00:00:00Z");
    snprintf(head, sizeof head, "{\"id\":%lld,\"type\":", (long long)e->id);
    bool ok = ev_frame_puts(f, head) && jstr(f, e->type) && ev_frame_puts(f, ",\"brand\":") &&
              jstr(f, e->brand) && ev_frame_puts(f, ",\"subject\":") && jstr(f, e->subject) &&
              ev_frame_puts(f, ",\"created_at\":") && jstr(f, at) &&
              ev_frame_puts(f, ",\"trace_id\":") && jstr(f, e->trace_id) &&
              ev_frame_puts(f, ",\"payload\":");
    /* the payload is one line of JSON by construction (outbox.c); a newline would
     * end an SSE data field, so any stray one becomes a space */
    for (size_t i = 0; ok && i < e->payload_len;) {
        size_t run = 0;
        while (i + run < e->payload_len && e->payload[i + run] != '\n' &&
               e->payload[i + run] != '\r')
            run++;
        if (run) {
            ok = ev_frame_put(f, e->payload + i, run);
            i += run;
        } else {
            ok = ev_frame_put(f, " ", 1);
            i++;
        }
    }
    return ok && ev_frame_puts(f, "}");
}
