/*
 * admin_events.c — GET /v1/admin/events/stream: the staff Server-Sent Events
 * stream of platform events (events/events.h), and opening the dispatcher.
 *
 * The route needs any staff session (permission "staff"); the handler then
 * requires a full one (not a setup session) and derives what the member may
 * see: the event types whose permission (the one table in events/outbox.c)
 * the member's role grants, in the brands of the member's scope. A member who
 * may see no type at all is refused (403 FORBIDDEN).
 *
 * Resuming: the Last-Event-ID header (what a browser's EventSource sends when
 * it reconnects), else the last_event_id query parameter (for a first
 * connection that resumes a saved position); events after that id are sent
 * first from the outbox, then live ones. Without either, the stream starts
 * with the events from now on. catch_up_only=true ends the stream once the
 * backlog is sent. The stream also ends when the access token that opened it
 * expires (an "end" event): the client reconnects with a fresh token and its
 * Last-Event-ID, losing nothing. The caller is re-checked every
 * PITBOSS_EVENTS_RECHECK_MS (default 5000) while connected: a session logged out
 * or revoked, a member disabled or given another role ends the stream with
 * {"reason":"credentials_revoked"} (checked at connect only, it went on until the
 * token expired).
 *
 * Beyond max_clients connected streams the answer is 503 EVENT_STREAMS_FULL
 * with Retry-After. Settings: PITBOSS_EVENTS_MAX_CLIENTS (default 1000),
 * PITBOSS_EVENTS_CLIENT_BUFFER (bytes per client, default 262144),
 * PITBOSS_EVENTS_HEARTBEAT_MS (default 15000), PITBOSS_EVENTS_RETENTION_DAYS
 * (default 7), PITBOSS_EVENTS_MAX_ROWS (default 1000000).
 *
 * The relay to NATS JetStream (events/jetstream.h) runs when PITBOSS_NATS_URL is
 * set: PITBOSS_NATS_STREAM (default PITBOSS_EVENTS), PITBOSS_NATS_SUBJECT (default
 * pitboss.events), PITBOSS_NATS_CREDS (a credentials file), PITBOSS_NATS_CA (TLS:
 * the CA file), PITBOSS_NATS_CREATE_STREAM (1, the default: create the stream when
 * missing), PITBOSS_NATS_START (all, the default: the outbox's backlog first; new:
 * from the next event), PITBOSS_NATS_DUPLICATE_WINDOW_S (a created stream's, default
 * 120). It starts after the dispatcher, which marks the rows on disk at open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "core/log.h"
#include "events/events.h"
#include "events/jetstream.h"

/* A whole number in [min, max] from the environment; def when unset. -1 on a bad value. */
static int env_num(const char *name, long long min, long long max, long long def, long long *out,
                   char *err, size_t errcap)
{
    const char *v = getenv(name);
    *out = def;
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        snprintf(err, errcap, "%s must be a whole number in %lld..%lld", name, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

int pb_api_events_open(pb_api_app *app, char *err, size_t errcap)
{
    long long clients, buffer, heartbeat, days, rows, recheck;
    if (env_num("PITBOSS_EVENTS_MAX_CLIENTS", 1, 1000000, 1000, &clients, err, errcap) != 0 ||
        env_num("PITBOSS_EVENTS_CLIENT_BUFFER", 4096, 64LL << 20, 256 << 10, &buffer, err,
                errcap) != 0 ||
        env_num("PITBOSS_EVENTS_HEARTBEAT_MS", 100, 3600000, 15000, &heartbeat, err, errcap) != 0 ||
        env_num("PITBOSS_EVENTS_RETENTION_DAYS", 1, 3650, 7, &days, err, errcap) != 0 ||
        env_num("PITBOSS_EVENTS_MAX_ROWS", -1, 1LL << 40, 1000000, &rows, err, errcap) != 0 ||
        env_num("PITBOSS_EVENTS_RECHECK_MS", 100, 600000, 5000, &recheck, err, errcap) != 0)
        return -1;
    pb_events_config cfg = {.retention_s = days * 86400,
                            .max_rows = rows,
                            .max_clients = (unsigned)clients,
                            .client_buffer = (size_t)buffer,
                            .heartbeat_ms = (int)heartbeat,
                            .recheck_ms = (int)recheck};
    app->events = pb_events_open(app->store, &cfg, err, errcap);
    if (!app->events)
        return -1;
    const char *url = getenv("PITBOSS_NATS_URL");
    if (!url || !*url)
        return 0;
    const char *start = getenv("PITBOSS_NATS_START");
    long long create, window;
    if (start && *start && strcmp(start, "all") != 0 && strcmp(start, "new") != 0) {
        snprintf(err, errcap, "PITBOSS_NATS_START must be all or new");
        goto fail;
    }
    if (env_num("PITBOSS_NATS_CREATE_STREAM", 0, 1, 1, &create, err, errcap) != 0 ||
        env_num("PITBOSS_NATS_DUPLICATE_WINDOW_S", 1, 86400 * 30, 120, &window, err, errcap) != 0)
        goto fail;
    const char *creds = getenv("PITBOSS_NATS_CREDS"), *ca = getenv("PITBOSS_NATS_CA");
    pb_jetstream_config js = {.url = url,
                              .stream = getenv("PITBOSS_NATS_STREAM"),
                              .subject = getenv("PITBOSS_NATS_SUBJECT"),
                              .creds_file = creds && *creds ? creds : NULL,
                              .ca_file = ca && *ca ? ca : NULL,
                              .create_stream = create != 0,
                              .from_new = start && strcmp(start, "new") == 0,
                              .duplicate_window_s = window};
    if (js.stream && !*js.stream)
        js.stream = NULL;
    if (js.subject && !*js.subject)
        js.subject = NULL;
    char why[400];
    if (!(app->jetstream = pb_jetstream_open(app->store, &js, why, sizeof why))) {
        snprintf(err, errcap, "the relay to NATS JetStream: %s", why);
        goto fail;
    }
    return 0;
fail:
    pb_events_close(app->events);
    app->events = NULL;
    return -1;
}

void pb_api_events_close(pb_api_app *app)
{
    pb_jetstream_close(app->jetstream); /* first: it waits on the dispatcher's wake-ups */
    app->jetstream = NULL;
    pb_events_close(app->events);
    app->events = NULL;
}

/* The resume position: the header, else the query; -1 when neither. false
 * (replied) when malformed. */
static bool resume_from(pb_http_request *req, int64_t *out)
{
    *out = -1;
    const char *h = pb_http_header(req, "Last-Event-ID");
    const char *name = "Last-Event-ID";
    if (!h || !*h) {
        h = pb_http_query(req, "last_event_id");
        name = "last_event_id";
    }
    if (!h)
        return true;
    char *end;
    errno = 0;
    long long v = strtoll(h, &end, 10);
    if (!*h || *end || errno || v < 0 || h[0] == '+' || h[0] == '-' || h[0] == ' ') {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, name,
                                "must be an event id (a whole number >= 0)");
        return false;
    }
    *out = v;
    return true;
}

/* The stream's caller as the store is now (pb_events_check_fn; ctx: a copy of
 * the principal that connected): its session neither revoked nor ended, the
 * member active with the same role and brand scope, read in one read transaction
 * (one snapshot).
 * Any refusal, failed read or failed begin ends the stream (the client
 * reconnects and is let in again if still allowed). */
static bool caller_still_allowed(void *ctx, pb_store_conn *c, int64_t now, pb_events_filter *f)
{
    (void)f; /* the filter follows the role and scope, which may not change without ending this */
    const pb_principal *p = ctx;
    pb_err e = pb_identity_principal_recheck(c, p, now);
    if (pb_err_http_status(e) >= 500)
        pb_log(PB_LOG_WARN, "events.recheck", "cannot re-check stream caller %s: %s",
               p->subject_public_id, pb_err_code(e));
    return e == PB_OK;
}

void pb_api_admin_events_stream(pb_http_request *req, void *app_)
{
    pb_api_app *app = app_;
    const pb_principal *p = pb_api_principal(req);
    if (!p || p->kind != PB_SUBJECT_STAFF || p->session_scope != PB_SCOPE_FULL) {
        pb_http_reply_error(req, PB_ERR_FORBIDDEN, NULL);
        return;
    }
    if (!app->events) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    int64_t resume;
    if (!resume_from(req, &resume))
        return;
    const char *once_s = pb_http_query(req, "catch_up_only");
    if (once_s && strcmp(once_s, "true") != 0 && strcmp(once_s, "false") != 0) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "catch_up_only",
                                "must be true or false");
        return;
    }
    bool once = once_s && strcmp(once_s, "true") == 0;

    pb_events_filter *f = pb_http_alloc(req, sizeof *f);
    if (!f) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    for (size_t i = 0; i < pb_event_type_count; i++) {
        pb_perm perm;
        if (pb_perm_parse(pb_event_types[i].permission, &perm) == PB_OK &&
            pb_rbac_allows(p->role, perm)) {
            f->types |= UINT64_C(1) << i;
            if (pb_event_types[i].every_scope)
                f->platform_types |= UINT64_C(1) << i;
        }
    }
    if (!f->types) {
        pb_http_reply_error(req, PB_ERR_FORBIDDEN, NULL);
        return;
    }
    f->all_brands = p->scope.all;
    if (!f->all_brands) {
        pb_store_conn *c = pb_http_conn(req);
        if (!c) {
            pb_http_reply_error(req, PB_ERR_STORE_UNAVAILABLE, NULL);
            return;
        }
        _Static_assert(PB_EVENT_BRAND_MAX == PB_BRAND_CODE_MAX, "brand codes fit");
        _Static_assert(sizeof f->brands / sizeof f->brands[0] >= PB_SCOPE_MAX_BRANDS,
                       "a scope fits");
        pb_err e = pb_admin_scope_codes(c, &p->scope, f->brands, &f->nbrands);
        if (e != PB_OK) {
            pb_admin_fail(req, e, NULL);
            return;
        }
    }
    if (!pb_events_client_reserve(app->events)) {
        pb_http_add_header(req, "Retry-After", "5");
        pb_http_reply_error(req, PB_ERR_EVENT_STREAMS_FULL, NULL);
        return;
    }
    pb_http_stream *s = pb_http_reply_stream(req, "text/event-stream; charset=utf-8",
                                             pb_events_client_buffer(app->events),
                                             pb_events_stream_notify, app->events);
    if (!s) {
        pb_events_client_cancel(app->events);
        return;
    }
    /* the reconnection delay a browser uses, and a first line so that the
     * headers leave at once */
    static const char hello[] = "retry: 3000\n: connected\n\n";
    pb_http_stream_write(s, hello, sizeof hello - 1);
    pb_principal *who = malloc(sizeof *who); /* no stream rather than one never re-checked */
    if (!who) {
        pb_http_stream_release(s);
        pb_events_client_cancel(app->events);
        return;
    }
    *who = *p;
    pb_events_client_add(app->events, s, f, resume, p->access_expires_at, once,
                         caller_still_allowed, who);
}
