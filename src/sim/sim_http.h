/*
 * sim_http.h — the small HTTP/1.1 client of the simulator and the wallet
 * benchmark (internal to src/sim/).
 *
 * Plain http:// only (the server under test is on loopback or a trusted
 * network), keep-alive connections, responses framed by Content-Length (what
 * pitboss sends for every JSON reply). Two layers:
 *
 *   - pb_sim_http_parse(): a zero-copy parser of one response at the start of
 *     a buffer, used by the blocking connection below and by the bench's epoll
 *     loop;
 *   - pb_sim_conn: one blocking keep-alive connection with per-call timeouts
 *     (poll), optionally bound to a source address (so that simulated players
 *     arrive from distinct loopback addresses, as real players arrive from
 *     distinct IPs), with send and receive split so that a caller can deliver
 *     the same request on two connections at once.
 */
#ifndef PB_SIM_HTTP_H
#define PB_SIM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Where the server is: http://host[:port][/prefix]. */
typedef struct pb_sim_target {
    char host[256];
    char port[8];
    char prefix[256]; /* path prefix without the trailing '/', usually "" */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    bool loopback; /* the server is on 127.0.0.0/8: source addresses may be picked */
} pb_sim_target;

/* Parses and resolves a URL. 0, or -1 with a reason in err. */
int pb_sim_target_parse(const char *url, pb_sim_target *t, char *err, size_t errcap);

/* One response, pointing into the buffer it was parsed from. */
typedef struct pb_sim_resp {
    int status;
    const char *headers; /* the header lines (after the status line), "\r\n"-separated */
    size_t headers_len;
    const char *body;
    size_t body_len;
    bool close; /* "Connection: close" */
} pb_sim_resp;

/*
 * Parses one complete response at the start of buf[0..len). Returns the bytes
 * it takes (> 0), 0 when more bytes are needed, -1 when it is malformed (no
 * Content-Length, a chunked body, a bad status line or an oversize head).
 */
ssize_t pb_sim_http_parse(const char *buf, size_t len, pb_sim_resp *out);

/* Copies the value of header `name` (case-insensitive) into val. True when present. */
bool pb_sim_resp_header(const pb_sim_resp *r, const char *name, char *val, size_t cap);

/* A blocking keep-alive connection; opened on first use, reopened after a close. */
typedef struct pb_sim_conn {
    const pb_sim_target *t;
    struct sockaddr_storage source; /* bound before connect when source_set */
    bool source_set;
    int fd;
    bool reused; /* the connection already carried a response */
    char *buf;
    size_t len, cap, taken;
    unsigned long connects; /* how many times a connection was opened */
} pb_sim_conn;

void pb_sim_conn_init(pb_sim_conn *c, const pb_sim_target *t);
/* Binds the connection's future sockets to this IPv4 source address. */
void pb_sim_conn_set_source_ipv4(pb_sim_conn *c, uint32_t addr_host_order);
/* Closes the socket (the next request opens a new one) and frees nothing else. */
void pb_sim_conn_close(pb_sim_conn *c);
/* Closes and frees the buffer. */
void pb_sim_conn_free(pb_sim_conn *c);

enum { PB_SIM_HTTP_OK = 0, PB_SIM_HTTP_ERROR = -1, PB_SIM_HTTP_TIMEOUT = -2 };

/*
 * Sends one request: "<method> <prefix><path> HTTP/1.1" with Host, the extra
 * header lines in `headers` (each ending in "\r\n"; may be NULL), and, when
 * body is not NULL, Content-Type: application/json and Content-Length. Opens
 * the connection when needed. PB_SIM_HTTP_OK or PB_SIM_HTTP_ERROR.
 */
int pb_sim_conn_send(pb_sim_conn *c, const char *method, const char *path, const char *headers,
                     const char *body, size_t body_len);
/*
 * Waits up to timeout_ms for the response to the request sent last. On
 * PB_SIM_HTTP_OK, *out points into the connection's buffer (valid until the
 * next call on it). On PB_SIM_HTTP_TIMEOUT or PB_SIM_HTTP_ERROR the
 * connection is closed (the answer, if it ever comes, is dropped with it).
 */
int pb_sim_conn_recv(pb_sim_conn *c, int timeout_ms, pb_sim_resp *out);
/*
 * send + recv. When a reused keep-alive connection turns out closed by the
 * server before any byte of the answer (an idle timeout), the request is sent
 * once more on a new connection.
 */
int pb_sim_conn_request(pb_sim_conn *c, const char *method, const char *path, const char *headers,
                        const char *body, size_t body_len, int timeout_ms, pb_sim_resp *out);

#endif
