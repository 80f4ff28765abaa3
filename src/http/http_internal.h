/*
 * http_internal.h — what the files of src/http share: the server and request
 * structs. Included only by src/http/ files (never by other modules or tests).
 *
 * Locking: a request's reply state (replied, suspended, resumed, mhd_done,
 * response) is guarded by req->mu; the server's list of suspended requests and
 * its `stopping` flag by srv->mu. Lock order: srv->mu before req->mu; nobody
 * holds req->mu while taking srv->mu.
 */
#ifndef PB_HTTP_INTERNAL_H
#define PB_HTTP_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

#include "http/http.h"
#include "http/metrics.h"

struct MHD_Daemon;
struct MHD_Connection;
struct MHD_Response;

/* A response header added by the handler before its reply. */
typedef struct pb_http_header_kv {
    struct pb_http_header_kv *next;
    char *name, *value;
} pb_http_header_kv;

/* A block of pb_http_alloc() memory. */
typedef struct pb_http_block {
    struct pb_http_block *next;
    max_align_t data[];
} pb_http_block;

struct pb_http_server {
    pb_http_config cfg;      /* defaults resolved */
    pb_http_proxies proxies; /* whose X-Forwarded-For is believed (proxy.c) */
    char listen[128];
    const pb_route *routes;
    size_t nroutes;
    pb_route_index *route_index; /* routes indexed for lookups (router.c) */
    void *app;
    pb_store_pool *pool;
    pb_http_authorize_fn authorize;
    void *authorize_ctx;
    pb_http_challenge_fn challenge; /* WWW-Authenticate of a 401, or NULL */
    void *challenge_ctx;
    pb_http_fallback_fn fallback; /* unmatched paths (the UI's files), or NULL */
    void *fallback_ctx;

    struct MHD_Daemon *daemon;
    _Atomic(uint16_t) port; /* set once listening; read by other threads (the sandbox PSP's) */
    pb_http_metrics *metrics;

    atomic_int live;      /* request contexts allocated and not yet freed */
    atomic_int open;      /* requests MHD has not completed yet (sent or dropped) */
    atomic_bool draining; /* shutdown began: new requests get 503 */

    /* --max-per-ip (per_ip.c): open connections per direct peer, trusted proxies
     * exempt; ip_slots NULL when there is no per-IP limit */
    pthread_mutex_t ip_mu;
    struct pb_http_ip_slot *ip_slots; /* ip_cap (a power of 2) slots, guarded by ip_mu */
    size_t ip_cap;

    pthread_mutex_t mu;
    pb_http_request *suspended;     /* requests suspended and not yet replied to */
    struct pb_http_stream *streams; /* streaming replies MHD still reads (stream.c) */
    bool stopping;                  /* no new suspension may reach MHD */
    bool stopped;
};

struct pb_http_request {
    pb_http_server *srv;
    struct MHD_Connection *conn;
    atomic_int refs; /* one for MHD (dropped on completion), one while suspended */
    int64_t start_us;

    /* the request line, as received */
    char *uri;         /* malloc'd: path, '\0', query */
    const char *path;  /* == uri */
    const char *query; /* after '?', or NULL */
    char *method;
    size_t method_idx; /* pb_http_metrics method label */

    /* routing */
    pb_err match_rc;
    pb_route_match match;
    char *params[PB_ROUTE_MAX_PARAMS]; /* decoded parameter values */
    bool bad_path;                     /* a parameter's encoding is invalid */
    bool bad_query;                    /* a query name's or value's encoding is invalid */

    /* trace context */
    char request_id[PB_REQUEST_ID_MAX + 1];
    char trace_id[PB_TRACE_ID_LEN + 1];
    char span_id[PB_SPAN_ID_LEN + 1];
    uint8_t trace_flags;
    char client_ip[INET6_ADDRSTRLEN]; /* the client (proxy.c): the peer unless a trusted proxy */
    char peer_ip[INET6_ADDRSTRLEN];   /* the TCP peer */

    /* the body */
    char *body;
    size_t body_len, body_cap;
    bool too_large;
    size_t discarded;

    bool started;    /* the first access-handler call happened */
    bool dispatched; /* the handler (or an early error reply) ran */

    /* the reply (guarded by mu) */
    pthread_mutex_t mu;
    bool replied;   /* a reply was given (by the handler or forced at shutdown) */
    bool forced;    /* ... and it was the shutdown's 503 */
    bool suspended; /* the handler suspended (holds a reference until its reply) */
    bool sync_wait; /* suspended while the server was stopping: the worker waits */
    bool late_done; /* the handler's reply after a forced one was absorbed */
    /* pb_http_reply_later: the reply is built by later_fn(later_ctx) on the worker */
    void (*later_fn)(void *ctx);
    void *later_ctx;
    bool mhd_done;                 /* MHD's completion callback ran */
    struct MHD_Response *response; /* built, not yet queued */
    int status;                    /* the status of the reply */
    pb_err error_code;             /* the code of a pb_http_reply_error* reply, else OK */
    size_t resp_bytes;
    pb_http_header_kv *headers;

    /* the suspended list (guarded by srv->mu) */
    pb_http_request *prev, *next;
    bool in_list;

    /* attached resources, freed with the request */
    pb_store_conn *store_conn;
    void *principal;
    void (*principal_free)(void *);
    json_t *json_docs; /* every parsed body document */
    pb_http_block *blocks;
};

/* request.c: the lifecycle pieces server.c drives. */
pb_http_request *pb_http_req_new(pb_http_server *srv, struct MHD_Connection *conn, const char *uri);
void pb_http_req_unref(pb_http_request *req);
/* Fills the trace context, request id, client IP and route from the headers. */
void pb_http_req_begin(pb_http_request *req, const char *method);
/* Adds the headers every response carries (content type, request id,
 * traceparent, no-store, nosniff, the handler's own) to r. */
void pb_http_req_decorate(pb_http_request *req, struct MHD_Response *r, const char *ctype);
/* Hands a built response to the request as its reply (as pb_http_reply_*() do;
 * NULL → a 500). */
void pb_http_req_deliver(pb_http_request *req, int status, struct MHD_Response *resp);
/* Takes the reply built so far (NULL if none) and its status. */
struct MHD_Response *pb_http_req_take_response(pb_http_request *req, int *status);
/* Gives the store connection back to the pool, if held. */
void pb_http_req_release_conn(pb_http_request *req);
/* Parks a 503 SHUTTING_DOWN reply in a request not replied to yet (shutdown);
 * false when a reply was already there. Does not resume the connection. */
bool pb_http_req_force(pb_http_request *req);

/* server.c: suspension bookkeeping for request.c. */
/* Suspends the request's connection and lists it; while the server is stopping
 * the connection is not suspended and the worker waits for the reply instead
 * (sync_wait). False when the request was already replied to or suspended. */
bool pb_http_server_suspend(pb_http_server *srv, pb_http_request *req);
/* Unlists a suspended request and resumes its connection. */
void pb_http_server_resume(pb_http_request *req);

/* stream.c: ends every open stream (their buffered bytes are still sent);
 * called when the shutdown begins, before the drain. */
void pb_http_streams_close_all(pb_http_server *srv);

/* access_log.c: the request's JSON log line. */
void pb_http_access_log(const pb_http_request *req, const char *outcome, int64_t latency_us);
/* The "http.listening" line, with the URL and the limits in force. */
void pb_http_log_listening(const pb_http_server *srv, const char *url);

/* per_ip.c: the --max-per-ip limit (the table sized from cfg; 0 or -1 out of
 * memory), the accept policy's check (false: the peer is at its limit), and the
 * count kept from MHD's connection notifications (ctx: the connection's
 * socket_context). */
int pb_http_per_ip_init(pb_http_server *srv);
void pb_http_per_ip_free(pb_http_server *srv);
struct sockaddr;
bool pb_http_per_ip_admit(pb_http_server *srv, const struct sockaddr *sa);
/* The key sa's connections count under: (family, 16 bytes) — an IPv4 address (an
 * IPv4-mapped IPv6 one too) in the first 4 bytes, an IPv6 address cut to its /64;
 * false when sa is neither IPv4 nor IPv6. */
bool pb_http_per_ip_key(const struct sockaddr *sa, uint8_t *family, uint8_t key[16]);
void pb_http_per_ip_started(pb_http_server *srv, struct MHD_Connection *conn, void **ctx);
void pb_http_per_ip_closed(pb_http_server *srv, struct MHD_Connection *conn, void **ctx);

/* On the connection's worker: runs the builder pb_http_reply_later() left (its reply
 * is parked for flush); false when there is none. */
bool pb_http_req_run_later(pb_http_request *req);

#endif
