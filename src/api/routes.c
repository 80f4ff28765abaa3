/*
 * routes.c — the one route table of the pitboss API.
 *
 * Columns: method, path pattern, permission, handler, stable name.
 * Permission NULL = public; "player" = a player's access token; anything else
 * = a staff permission (see pb_route in http/http.h). Every row must also be
 * an operation in docs/openapi.yaml (checked by tests/api/test_ops.py).
 */
#include "api/api.h"

const pb_route pb_api_routes[] = {
    /* operations (public) */
    {"GET", "/healthz", NULL, pb_api_healthz, "healthz"},
    {"GET", "/readyz", NULL, pb_api_readyz, "readyz"},
    {"GET", "/metrics", NULL, pb_api_metrics, "metrics"},
    {"GET", "/openapi.yaml", NULL, pb_api_openapi, "openapi"},
    {"GET", "/docs", NULL, pb_api_docs, "docs"},
    /* @api-routes */
    /* @api-routes-player */
    /* @api-routes-admin */
};

const size_t pb_api_route_count = sizeof pb_api_routes / sizeof pb_api_routes[0];
