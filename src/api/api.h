/*
 * api.h — the HTTP API: the route table and its handlers, one file per
 * resource (ops.c: /healthz, /readyz, /metrics, /openapi.yaml, /docs).
 *
 * Handlers are thin and have one shape: parse with a field spec
 * (pb_http_parse_json) → the route's permission was already checked by the
 * authorizer → call a domain (a transaction on pb_http_conn(req), or the
 * ledger: suspend and reply from the pb_ledger_submit_async callback) → reply.
 * No business rule lives here.
 *
 * Adding a resource: write src/api/<resource>.c, declare its handlers below
 * the @api-handlers anchor, add its rows below the @api-routes anchor in
 * routes.c, and document every route in docs/openapi.yaml (the api_ops test
 * checks that the table and the document list the same operations).
 */
#ifndef PB_API_API_H
#define PB_API_API_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "ledger/ledger.h"
#include "store/embedded.h"
#include "store/store.h"

/* Everything a handler may need; handed to every handler as `app`. */
typedef struct pb_api_app {
    pb_store *store;      /* the database (handlers use pb_http_conn(req), not this) */
    pb_ledger *ledger;    /* the running ledger writer */
    pb_http_server *http; /* the server (for /metrics) */
    const char *keys_dir; /* where secrets and key files live (0700) */
    int64_t started_us;   /* wall-clock start of the process */
    /* @api-app-fields */
    /* @api-app-fields-player */
    /* @api-app-fields-admin */
} pb_api_app;

/* The route table: every operation of the API, read by the server, the
 * authorizer, `pitboss routes`, /docs and the OpenAPI check. */
extern const pb_route pb_api_routes[];
extern const size_t pb_api_route_count;

/* docs/openapi.yaml, compiled in by scripts/embed.py ({NULL, NULL}-terminated). */
extern const pb_embedded_file pb_api_openapi_files[];

/* ---- ops.c: operations endpoints (public) ---- */
void pb_api_healthz(pb_http_request *req, void *app);
void pb_api_readyz(pb_http_request *req, void *app);
void pb_api_metrics(pb_http_request *req, void *app);
void pb_api_openapi(pb_http_request *req, void *app);
void pb_api_docs(pb_http_request *req, void *app);
/* Appends the ledger writer's counters in Prometheus text format. */
void pb_api_ledger_metrics(pb_ledger *ledger, pb_http_buf *out);

/* @api-handlers */
/* @api-handlers-player */
/* @api-handlers-admin */

#endif
