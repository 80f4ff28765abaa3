/*
 * client.h — a minimal blocking HTTP/1.1 client for the server tests. It never
 * asserts (it also runs on client threads, where cmocka cannot fail a test):
 * failures are return values.
 */
#ifndef PB_TEST_HTTP_CLIENT_H
#define PB_TEST_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct resp {
    int status; /* -1 when the exchange failed */
    char headers[4096];
    char body[8192];
    size_t body_len;
} resp;

/* A socket connected to 127.0.0.1:port (10 s receive timeout), or -1. */
int cl_dial(uint16_t port);
/* Sends all n bytes; false on error. */
bool cl_send_all(int fd, const char *s, size_t n);
/* Reads one response (no body when head); 0, or -1 if the connection ended first. */
int cl_read_resp(int fd, resp *r, bool head);
/* A header's value (case-insensitive name) in a per-thread buffer, or NULL. */
const char *cl_header(const resp *r, const char *name);
/* One request on a new connection (Connection: close): extra is raw header
 * lines ("Name: value\r\n"…), body may be NULL. */
resp cl_request(uint16_t port, const char *method, const char *path, const char *extra,
                const char *body);

#endif
