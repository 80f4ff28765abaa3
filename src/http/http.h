/*
 * http.h — the HTTP server: the only door to libmicrohttpd.
 *
 * Only src/http/ files include <microhttpd.h>. Everything above (api/, cli/) sees
 * this header: a route table, handlers that receive an opaque request, reply
 * helpers, a declarative JSON body parser, W3C trace context and metrics.
 *
 * The request's life:
 *
 *   1. the request line and headers arrive: the route is resolved, the trace
 *      context and request id are accepted or created, limits are checked
 *      (draining server → 503 SHUTTING_DOWN; Content-Length above max_body →
 *      413 PAYLOAD_TOO_LARGE at once, without reading the body);
 *   2. the body is read into memory (at most max_body bytes);
 *   3. unknown path → 404 NOT_FOUND; known path, other method → 405
 *      METHOD_NOT_ALLOWED with an Allow header; a route whose permission is not
 *      NULL goes through the authorizer; then the handler runs on an HTTP
 *      worker thread;
 *   4. the handler ends by calling exactly one pb_http_reply_*() — or calls
 *      pb_http_suspend() and replies later from any thread (e.g. from a
 *      pb_ledger_submit_async() callback), so that a worker never blocks while
 *      the ledger commits;
 *   5. when the response has been sent (or the connection died) one JSON log
 *      line is written and the route's metrics are updated; the request and
 *      everything attached to it (body, parsed JSON, pb_http_alloc() memory,
 *      principal, store connection) is freed in that one place.
 *
 * Every response carries X-Request-Id and traceparent. Errors are
 *   {"error":{"code":"FIELD_INVALID","message":"…","field":"amount","trace_id":"…"}}
 * with the HTTP status that core/error.h gives the code.
 *
 * Threads: handlers and the authorizer run on the server's worker threads; a
 * request is touched by one thread at a time (its handler, then whoever
 * replies after a suspension). Request accessors are valid until the reply.
 */
#ifndef PB_HTTP_HTTP_H
#define PB_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/money.h"
#include "core/id.h"
#include "store/store.h"

typedef struct pb_http_request pb_http_request;
typedef struct pb_http_server pb_http_server;

/* ---- routes ------------------------------------------------------------- */

/* A handler: reads the request, then calls exactly one pb_http_reply_*() or
 * pb_http_suspend(). `app` is the pointer given to pb_http_server_new(). */
typedef void (*pb_http_handler)(pb_http_request *req, void *app);

/*
 * One row of the route table — the single table that the server, the
 * authorizer, the OpenAPI check and `pitboss routes` all read.
 *
 *  method      "GET", "POST", "PUT", "PATCH", "DELETE" (a GET route also answers HEAD)
 *  pattern     "/v1/admin/players/{id}": literal segments and whole-segment
 *              parameters named [a-z_][a-z0-9_]*; a literal segment wins over a
 *              parameter at the same position ("/players/search" before "/players/{id}")
 *  permission  NULL: public, the authorizer is not called;
 *              "player": a player-token route (/v1/player/…), the authorizer
 *              checks the player's access token;
 *              anything else ("players.read", "ledger.write"): a staff
 *              permission the authorizer checks against the caller's roles
 *  handler     the handler
 *  name        the stable route label in logs and metrics: [a-z0-9_.]+, unique
 */
typedef struct pb_route {
    const char *method;
    const char *pattern;
    const char *permission;
    pb_http_handler handler;
    const char *name;
} pb_route;

#define PB_ROUTE_MAX_PARAMS 8
#define PB_HTTP_ALLOW_MAX 64

/* The outcome of matching a method and a path against a route table. */
typedef struct pb_route_match {
    const pb_route *route; /* the matched route (PB_OK), else NULL */
    size_t index;          /* its index in the table */
    size_t nparams;
    struct {
        const char *name; /* points into the pattern, name_len bytes */
        size_t name_len;
        const char *value; /* points into the path, value_len bytes, still percent-encoded */
        size_t value_len;
    } params[PB_ROUTE_MAX_PARAMS];
    char allow[PB_HTTP_ALLOW_MAX]; /* METHOD_NOT_ALLOWED: "GET, HEAD, POST" */
    size_t path_route;             /* METHOD_NOT_ALLOWED: index of one route with this path */
} pb_route_match;

/*
 * Matches method + path (no query string) against the table. Returns PB_OK
 * (m->route set, parameters filled), PB_ERR_NOT_FOUND when no pattern matches
 * the path, PB_ERR_METHOD_NOT_ALLOWED when some pattern matches the path but
 * none with this method (m->allow lists the methods that would).
 */
pb_err pb_http_route_find(const pb_route *routes, size_t n, const char *method, const char *path,
                          pb_route_match *m);

/* The table indexed by the first two segments of its patterns (built once,
 * e.g. per server; the table must outlive it). NULL when out of memory. */
typedef struct pb_route_index pb_route_index;
pb_route_index *pb_http_route_index_new(const pb_route *routes, size_t n);
void pb_http_route_index_free(pb_route_index *ix);
/* pb_http_route_find over the index: the same answer, trying only the routes
 * that can match the path. */
pb_err pb_http_route_find_indexed(const pb_route_index *ix, const char *method, const char *path,
                                  pb_route_match *m);

/* Checks a table: well-formed methods, patterns and names, unique names, no
 * two routes with the same method and pattern shape. Returns 0, or -1 with a
 * reason naming the route in err. */
int pb_http_routes_validate(const pb_route *routes, size_t n, char *err, size_t errcap);

/* ---- server ------------------------------------------------------------- */

typedef struct pb_http_config {
    const char *listen; /* "127.0.0.1:8080", "[::1]:8080", ":8080"; port 0 = any free port */
    unsigned threads;   /* worker threads (epoll each); 0 = 4 */
    size_t max_body;    /* request body bytes; 0 = 1 MiB */
    /* per-connection memory for the request line and headers; 0 = 32 KiB */
    size_t max_header;
    unsigned max_connections; /* open connections in all; 0 = 1024 */
    /* open connections per direct TCP peer, a trusted proxy exempt (per_ip.c);
     * 0 = no per-IP limit */
    unsigned max_per_ip;
    unsigned timeout_s; /* an idle connection is closed after this; 0 = 30 */
    /* reverse proxies whose X-Forwarded-For is believed (proxy.c): addresses or
     * CIDR blocks, comma-separated; NULL or "" = none (the TCP peer is the client) */
    const char *trusted_proxies;
} pb_http_config;

/* ---- trusted reverse proxies (proxy.c) -------------------------------------- */

#define PB_HTTP_PROXIES_MAX 64

/* One address block: family AF_INET or AF_INET6, the first `bits` bits of addr. */
typedef struct pb_http_net {
    int family;
    uint8_t addr[16];
    unsigned bits;
} pb_http_net;

/* The trusted proxies: n blocks. */
typedef struct pb_http_proxies {
    size_t n;
    pb_http_net net[PB_HTTP_PROXIES_MAX];
} pb_http_proxies;

/* Parses "10.0.0.5, 10.1.0.0/16, 2001:db8::/32" (blanks around entries allowed;
 * NULL or blank: none). An entry that is not an address or block, a prefix out
 * of range, host bits set beyond the prefix, an empty entry or more than
 * PB_HTTP_PROXIES_MAX entries: -1 with the entry named in err. 0 on success. */
int pb_http_proxies_parse(const char *spec, pb_http_proxies *out, char *err, size_t errcap);
/* Whether the textual address ip is in one of p's blocks (an IPv4-mapped IPv6
 * address counts as IPv4). false for NULL or a malformed ip. */
bool pb_http_proxies_contain(const pb_http_proxies *p, const char *ip);
/* The same for a parsed address: family AF_INET (the first 4 bytes of addr) or
 * AF_INET6 (all 16; not an IPv4-mapped one, pass that as AF_INET). */
bool pb_http_proxies_contain_addr(const pb_http_proxies *p, int family, const uint8_t addr[16]);
/* The client address of a request whose TCP peer is `peer` and whose
 * X-Forwarded-For values (joined by ',') are xff (NULL: none): the peer unless it
 * is a trusted proxy; then the right-most entry of xff that is not a trusted
 * proxy, in canonical form; the peer again when an entry met on the way is
 * malformed or every entry is trusted. Written to out (cap bytes). */
void pb_http_client_address(const pb_http_proxies *p, const char *peer, const char *xff, char *out,
                            size_t cap);

/* The authorizer: called on the worker thread, after the body is read, before
 * every handler whose route has a permission. It may read the request, use
 * pb_http_conn() and pb_http_set_principal(), and add response headers
 * (WWW-Authenticate); it must not reply. A result other than PB_OK is the
 * reply (401 UNAUTHENTICATED, 403 FORBIDDEN, …). */
typedef pb_err (*pb_http_authorize_fn)(void *ctx, pb_http_request *req, const pb_route *route);

/*
 * A server over a validated route table (not listening yet). `routes` must
 * outlive the server; `app` is handed to every handler; `pool` (may be NULL)
 * backs pb_http_conn(). NULL with a reason in err on a bad table or config.
 */
pb_http_server *pb_http_server_new(const pb_http_config *cfg, const pb_route *routes, size_t n,
                                   void *app, pb_store_pool *pool, char *err, size_t errcap);
/* Installs the authorizer (before start). Without one, every route with a
 * permission answers 401 UNAUTHENTICATED (fail closed). */
void pb_http_server_set_authorizer(pb_http_server *srv, pb_http_authorize_fn fn, void *ctx);
/* The WWW-Authenticate challenge for a 401 (RFC 9110 §15.5.2: every 401 carries
 * one). Every reply with status 401 that has no WWW-Authenticate header of its
 * handler's (or authorizer's) gets this function's answer for its error code
 * (PB_ERR_UNAUTHENTICATED when the reply was not built from an error code,
 * e.g. a protocol's own envelope). A NULL answer, or no function installed,
 * gets the bare challenge "Bearer". Install before start; called on the
 * replying thread, so it must only compute a string (static storage). */
typedef const char *(*pb_http_challenge_fn)(void *ctx, pb_err code);
void pb_http_server_set_challenge(pb_http_server *srv, pb_http_challenge_fn fn, void *ctx);
/* A fallback for requests whose path matches no route (the back office UI's
 * files, static.c): called on the worker thread before the 404; returns true
 * when it replied, false to leave the request to the usual 404 NOT_FOUND.
 * Install before start. */
typedef bool (*pb_http_fallback_fn)(void *ctx, pb_http_request *req);
void pb_http_server_set_fallback(pb_http_server *srv, pb_http_fallback_fn fn, void *ctx);

/* ---- static files: the back office UI (static.c) ---------------------------- */

typedef struct pb_http_static pb_http_static;
/* The UI's files under root (NULL or "" → "web/dist"). The root may not exist
 * yet: it is looked up on each request (503 page until it does). NULL on OOM. */
pb_http_static *pb_http_static_new(const char *root);
void pb_http_static_free(pb_http_static *st);
/* The root as given. */
const char *pb_http_static_root(const pb_http_static *st);
/* The pb_http_fallback_fn serving the UI (ctx: a pb_http_static): GET/HEAD of any
 * path the API does not own; see static.c for the rules. */
bool pb_http_static_serve(void *ctx, pb_http_request *req);
/* Binds and starts the worker threads; logs one "http.listening" line with the
 * URL. Returns 0, or -1 with a reason in err. */
int pb_http_server_start(pb_http_server *srv, char *err, size_t errcap);
/* The bound port (useful after listening on port 0); 0 before start. */
uint16_t pb_http_server_port(const pb_http_server *srv);
/*
 * Graceful stop: closes the listening socket, answers new requests on open
 * connections with 503 SHUTTING_DOWN, waits up to drain_ms for the requests in
 * flight (suspended ones included) to finish, answers the suspended requests
 * still waiting with 503 SHUTTING_DOWN, then stops the worker threads. Returns
 * how many requests had to be cut short. Call once, from one thread.
 */
int pb_http_server_shutdown(pb_http_server *srv, int drain_ms);
/*
 * Frees the server (stopping it at once if still running). Call after whatever
 * replies to suspended requests has finished (close the ledger first): a
 * request suspended and never replied to is reported and left allocated.
 */
void pb_http_server_free(pb_http_server *srv);

/* ---- the request -------------------------------------------------------- */

const char *pb_http_method(const pb_http_request *req);
/* The path as received, without the query string (still percent-encoded). */
const char *pb_http_path(const pb_http_request *req);
const pb_route *pb_http_route(const pb_http_request *req);
/* A path parameter ("id" for "{id}"), percent-decoded; NULL if the pattern has none. */
const char *pb_http_param(const pb_http_request *req, const char *name);
/* The first query parameter with this name, decoded ('+' is a space); NULL if absent or malformed. */
const char *pb_http_query(pb_http_request *req, const char *name);
/* A request header (case-insensitive name); NULL if absent. */
const char *pb_http_header(const pb_http_request *req, const char *name);
/* The client's IP address as text. */
const char *pb_http_client_ip(const pb_http_request *req);
/* The body (not NUL-terminated; "" and 0 when empty). */
const char *pb_http_body(const pb_http_request *req, size_t *len);
/* The request id: the client's X-Request-Id when it is 1..64 of [A-Za-z0-9._:-], else a new UUIDv7. */
const char *pb_http_request_id(const pb_http_request *req);
/* The W3C trace id (32 lower-case hex) and this server's span id (16 hex). */
const char *pb_http_trace_id(const pb_http_request *req);
const char *pb_http_span_id(const pb_http_request *req);

/* The authenticated caller, filled by the authorizer. free_fn (may be NULL) is
 * called on it when the request is freed. */
void pb_http_set_principal(pb_http_request *req, void *principal, void (*free_fn)(void *));
void *pb_http_principal(const pb_http_request *req);

/* The request's store connection, taken from the server's pool on first use and
 * given back (any transaction rolled back) when the handler replies or
 * suspends. NULL when there is no pool or no connection can be opened: reply
 * STORE_UNAVAILABLE then. After a suspension it may be taken again from the
 * replying thread (it waits for a free connection). */
pb_store_conn *pb_http_conn(pb_http_request *req);

/* Zeroed memory that lives as long as the request (also across a suspension:
 * the right place for a pb_transfer array given to pb_ledger_submit_async).
 * NULL on OOM. */
void *pb_http_alloc(pb_http_request *req, size_t size);

/* ---- replies ------------------------------------------------------------ */

/* Adds a response header (Location, WWW-Authenticate, …) to the reply to come. */
void pb_http_add_header(pb_http_request *req, const char *name, const char *value);
/* Adds Retry-After: wait_us in whole seconds, rounded up, at least 1. */
void pb_http_add_retry_after(pb_http_request *req, int64_t wait_us);
/* Replies with a JSON body; steals the reference to body (NULL → 500 INTERNAL). */
void pb_http_reply_json(pb_http_request *req, int status, json_t *body);
/* Replies with the code's status and {"error":{"code","message","field"?,"trace_id"}}. */
void pb_http_reply_error(pb_http_request *req, pb_err code, const char *field);
/* Same, with a specific message instead of the registry's. */
void pb_http_reply_error_msg(pb_http_request *req, pb_err code, const char *field,
                             const char *message);
/* Replies with len bytes of text (copied). */
void pb_http_reply_text(pb_http_request *req, int status, const char *content_type,
                        const char *text, size_t len);

/*
 * Suspends the request (call it from the handler, on its worker thread): the
 * worker goes back to other connections and the reply comes later, from any
 * thread, with one pb_http_reply_*() — then the connection is resumed. The request (and pb_http_alloc() memory) stays
 * valid until that reply. The store connection is given back here: finish any
 * transaction before suspending. Typical use:
 *
 *     pb_transfer *t = pb_http_alloc(req, sizeof *t);   // fill it
 *     pb_http_suspend(req);
 *     if (pb_ledger_submit_async(app->ledger, t, 1, on_committed, req) != PB_OK)
 *         pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
 *     // on_committed(req, status) replies, on whichever thread it runs
 */
void pb_http_suspend(pb_http_request *req);

/*
 * Instead of a reply from another thread to a suspended request: resumes the
 * connection and has build(ctx) run on its worker thread, where build replies
 * with one pb_http_reply_*() (and frees what ctx holds). So the thread that
 * learnt the outcome (the ledger's notifier, which also syncs the disk) only
 * wakes the connection; rendering, signing and the headers are done by the
 * worker. build also runs when the client has gone meanwhile (its reply is then
 * dropped), and runs at once on the calling thread when the request is not
 * suspended, was answered at shutdown, or the server was stopping when it
 * suspended.
 */
void pb_http_reply_later(pb_http_request *req, void (*build)(void *ctx), void *ctx);

/* ---- streaming replies (Server-Sent Events) ------------------------------ */

/*
 * A reply whose body is produced over time (stream.c): status 200, the usual
 * headers, then whatever the producer writes, sent as it comes (chunked), until
 * the producer closes it, the client goes away, or the server shuts down.
 *
 * Nothing ever waits on the client: writes go into a bounded per-stream buffer
 * that the connection's worker drains when the socket can take more; a write
 * that would overflow it is refused (PB_HTTP_STREAM_FULL) and the producer
 * decides (drop the client, skip, wait for the drain notification). While the
 * buffer is empty the connection is suspended (no polling, no busy loop) and a
 * write resumes it.
 *
 * Ownership: pb_http_reply_stream() returns a handle holding one reference for
 * the producer; release it with pb_http_stream_release() (from any thread)
 * when done with it — after that the stream ends once its buffer is sent. The
 * HTTP layer holds the other reference until MHD is done with the response.
 */
typedef struct pb_http_stream pb_http_stream;

/* Called from a worker thread, without stream locks held: when the client is
 * gone (the connection ended: every later write says CLOSED), and when the
 * buffer became empty after a write was refused FULL or after
 * pb_http_stream_want_drain(). Keep it short (signal a thread). */
typedef void (*pb_http_stream_cb)(void *ctx);

typedef enum {
    PB_HTTP_STREAM_OK = 0,
    PB_HTTP_STREAM_FULL,   /* the buffer cannot take these bytes now; nothing written */
    PB_HTTP_STREAM_CLOSED, /* closed, shut down or the client is gone; nothing written */
} pb_http_stream_rc;

/*
 * Replies 200 with content_type and a streamed body buffered up to max_buffer
 * bytes (0 = 64 KiB); the connection's socket send buffer is bounded to the
 * same size (SO_SNDBUF), so a client that stops reading holds about three
 * times max_buffer, not the kernel's autotuned megabytes. notify (may be NULL) receives ctx. Returns the stream,
 * or NULL when it could not be made (then a 500 was replied). Call it instead
 * of a pb_http_reply_*() (a handler's one reply).
 */
pb_http_stream *pb_http_reply_stream(pb_http_request *req, const char *content_type,
                                     size_t max_buffer, pb_http_stream_cb notify, void *ctx);
/* Appends len bytes, all or nothing. Any thread. */
pb_http_stream_rc pb_http_stream_write(pb_http_stream *s, const void *data, size_t len);
/* Bytes written and not yet handed to the socket. */
size_t pb_http_stream_buffered(pb_http_stream *s);
/* The buffer's capacity (max_buffer as resolved). */
size_t pb_http_stream_capacity(const pb_http_stream *s);
/* Asks for one notify call when the buffer is next empty (at once if it is). */
void pb_http_stream_want_drain(pb_http_stream *s);
/* True once the stream is closed or the client gone (writes say CLOSED). */
bool pb_http_stream_closed(pb_http_stream *s);
/* Ends the body after the bytes already buffered. Idempotent. */
void pb_http_stream_close(pb_http_stream *s);
/* Closes the stream and drops the producer's reference (NULL is fine). */
void pb_http_stream_release(pb_http_stream *s);

/* ---- a growable text buffer (metrics, HTML) ----------------------------- */

typedef struct pb_http_buf {
    char *data; /* NUL-terminated when len > 0 */
    size_t len, cap;
    bool failed; /* an allocation failed: the contents are incomplete */
} pb_http_buf;

void pb_http_buf_append(pb_http_buf *b, const char *s, size_t n);
/* Makes room for n more bytes in one allocation (a line whose usual size is
 * known grows once, not by doubling); false when it failed (b->failed). */
bool pb_http_buf_reserve(pb_http_buf *b, size_t n);
void pb_http_buf_puts(pb_http_buf *b, const char *s);
void pb_http_buf_printf(pb_http_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with &<>"' escaped for HTML. */
void pb_http_buf_html(pb_http_buf *b, const char *s);
void pb_http_buf_free(pb_http_buf *b);
/* Replies with the buffer's contents and empties it (500 INTERNAL if b->failed). */
void pb_http_reply_buf(pb_http_request *req, int status, const char *content_type, pb_http_buf *b);

/* Appends the server's metrics in Prometheus text format 0.0.4:
 * pitboss_http_requests_total{route,method,status}, the
 * pitboss_http_request_duration_seconds histogram per route,
 * pitboss_http_open_connections and pitboss_http_requests_in_flight. */
void pb_http_server_metrics(pb_http_server *srv, pb_http_buf *out);

/* ---- JSON bodies: parse once, validate once, name the bad field ---------- */

typedef enum {
    PB_JSON_STRING,   /* a string of min_len..max_len bytes (max 0 = 1024) → str */
    PB_JSON_INT,      /* an integer (not 1.0, not 1e3) in int64, within min..max when set → i64 */
    PB_JSON_BOOL,     /* true or false → b */
    PB_JSON_MONEY,    /* a decimal string ("10.00"); with .currency naming a sibling
                         PB_JSON_CURRENCY field: parsed into minor units → i64 (min..max
                         apply to minor units); always → str */
    PB_JSON_CURRENCY, /* a supported currency code → str and cur */
    PB_JSON_UUID,     /* a canonical UUID string → id (and str) */
    PB_JSON_TIME,     /* an RFC 3339 date-time string → i64 (µs since the epoch) and str */
    PB_JSON_OBJECT,   /* an object → json (borrowed; check it with pb_json_check) */
    PB_JSON_ARRAY,    /* an array of min_len..max_len items (max 0 = 1000) → json (borrowed) */
} pb_json_type;

/* One accepted field. Outputs (any may be NULL) are written only when the field is present. */
typedef struct pb_json_field {
    const char *name;
    pb_json_type type;
    bool required;        /* absent → FIELD_MISSING */
    bool nullable;        /* null is taken as absent (otherwise null → FIELD_INVALID) */
    size_t min_len;       /* strings: bytes; arrays: items */
    size_t max_len;       /* strings: bytes; arrays: items; 0 = the default above */
    int64_t min, max;     /* INT, MONEY with currency: inclusive bounds; both 0 = any int64 */
    const char *currency; /* MONEY: the PB_JSON_CURRENCY field it is expressed in */
    /* outputs */
    const char **str;
    int64_t *i64;
    bool *b;
    json_t **json;
    const pb_currency **cur;
    pb_id *id;
    bool *present;
} pb_json_field;

/* Why a body was refused: the code, the field it names (NULL when none; points
 * into the spec or into message) and a human message. */
typedef struct pb_json_error {
    pb_err code;
    const char *field;
    char field_buf[64];
    char message[160];
} pb_json_error;

/*
 * Parses a request body against a field spec. Refuses, in this order: a
 * content type other than application/json (UNSUPPORTED_MEDIA_TYPE; NULL
 * content_type skips the check), invalid UTF-8 (INVALID_UTF8), malformed JSON
 * or duplicate keys (INVALID_JSON), a number beyond int64 or double range
 * (FIELD_INVALID naming the nearest key), a document that is not an object
 * (INVALID_REQUEST), a field not in the spec (UNKNOWN_FIELD), a required field
 * absent (FIELD_MISSING), a wrong type or value (FIELD_INVALID). On PB_OK
 * *root holds the document (the string outputs point into it; json_decref it
 * when done); otherwise *root is NULL and err says why.
 */
pb_err pb_json_parse(const char *body, size_t len, const char *content_type,
                     const pb_json_field *fields, size_t n, json_t **root, pb_json_error *err);
/* Validates an already parsed object (a nested PB_JSON_OBJECT) against a spec. */
pb_err pb_json_check(json_t *obj, const pb_json_field *fields, size_t n, pb_json_error *err);
/* Parses the request's body with pb_json_parse(); the document lives as long as
 * the request. On failure replies with the error and returns false. */
bool pb_http_parse_json(pb_http_request *req, const pb_json_field *fields, size_t n);

/* Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
bool pb_utf8_valid(const char *s, size_t len);

/* ---- W3C trace context --------------------------------------------------- */

#define PB_TRACE_ID_LEN 32
#define PB_SPAN_ID_LEN 16
#define PB_REQUEST_ID_MAX 64

/*
 * Parses a traceparent header: "00-<32 hex trace id>-<16 hex parent id>-<2 hex
 * flags>", lower-case hex, neither id all zeros, exactly 55 characters (only
 * version 00 is accepted). Returns true and fills the outputs (NUL-terminated).
 */
bool pb_trace_parse(const char *header, char trace_id[PB_TRACE_ID_LEN + 1],
                    char parent_id[PB_SPAN_ID_LEN + 1], uint8_t *flags);
/* A new random trace id / span id (never all zeros), NUL-terminated. */
void pb_trace_new_trace_id(char out[PB_TRACE_ID_LEN + 1]);
void pb_trace_new_span_id(char out[PB_SPAN_ID_LEN + 1]);
/* Formats "00-trace-span-flags" into out (56 bytes). */
void pb_trace_format(const char *trace_id, const char *span_id, uint8_t flags, char out[56]);
/* True when a client's X-Request-Id may be reused: 1..64 of [A-Za-z0-9._:-]. */
bool pb_request_id_valid(const char *s);

#endif
