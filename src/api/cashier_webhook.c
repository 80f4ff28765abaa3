/*
 * cashier_webhook.c — what payment providers call (public routes; the PSP's
 * signature is the authentication):
 *
 *   POST /v1/cashier/webhooks/{psp}                  a PSP's signed event
 *   POST /v1/sandbox-psp/payments/{ref}/complete     the sandbox PSP: the payer paid
 *   POST /v1/sandbox-psp/payments/{ref}/fail         the sandbox PSP: the payment failed
 *   POST /v1/sandbox-psp/payouts/{ref}/return        the sandbox PSP: a paid payout came back
 *   GET  /v1/sandbox-psp/reports/settlement?from=&to= the sandbox PSP's settlement report
 *        of [from, to) as its CSV file (psp.h), as a PSP's download would serve it
 *
 * The sandbox endpoints (off unless PITBOSS_SANDBOX_PSP=1; 404 PSP_NOT_FOUND
 * then) build the sandbox PSP's signed event and deliver it in-process through
 * pb_cashier_webhook(), the same verify + handle function as the webhook route,
 * and answer what the webhook would have answered.
 *
 * Also the cashier's life in serve (pb_api_cashier_open/close): the sandbox
 * PSP's payout confirmations are POSTed to this server's own webhook route, at
 * the address serve listens on (a wildcard address is reached on loopback).
 */
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/api.h"
#include "cashier/cashier.h"

static const char *req_header(void *ctx, const char *name) { return pb_http_header(ctx, name); }

static void reply(pb_http_request *req, pb_err e, const pb_cashier_webhook_result *r)
{
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:b,s:s,s:s,s:s}", "received", 1, "outcome", r->outcome,
                                 "event_id", r->event.event_id, "type", r->event.type_name));
}

void pb_api_cashier_webhook(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    pb_store_conn *c = pb_http_conn(req);
    if (!c) {
        pb_http_reply_error(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    size_t len = 0;
    const char *body = pb_http_body(req, &len);
    pb_cashier_webhook_result r;
    pb_err e = pb_cashier_webhook(a->cashier, c, pb_http_param(req, "psp"), body ? body : "",
                                  body ? len : 0, req_header, req, &r);
    reply(req, e, &r);
}

/* The sandbox PSP's simulated events: a deposit completed or failed, a paid payout
 * returned, each for the reference in the path (unknown: not_found). */
typedef enum { SANDBOX_COMPLETE, SANDBOX_FAIL, SANDBOX_RETURN } sandbox_kind;

static void sandbox_event(pb_http_request *req, pb_api_app *a, sandbox_kind kind, pb_err not_found)
{
    if (!pb_admin_parse_empty(req))
        return;
    pb_store_conn *c = pb_http_conn(req);
    if (!c) {
        pb_http_reply_error(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    pb_psp *psp = pb_cashier_psp(a->cashier, "sandbox");
    const char *ref = pb_http_param(req, "ref");
    if (!psp) {
        pb_http_reply_error(req, PB_ERR_PSP_NOT_FOUND, NULL);
        return;
    }
    if (!ref || !*ref || strlen(ref) > PB_STORE_CASHIER_REF_MAX) {
        pb_http_reply_error(req, not_found, NULL);
        return;
    }
    pb_cashier_webhook_result r;
    pb_err e = kind == SANDBOX_RETURN
                   ? pb_psp_sandbox_payout_returned(psp, c, ref, &r)
                   : pb_psp_sandbox_deposit_event(psp, c, ref, kind == SANDBOX_COMPLETE, &r);
    reply(req, e, &r);
}

void pb_api_sandbox_psp_complete(pb_http_request *req, void *app)
{
    sandbox_event(req, app, SANDBOX_COMPLETE, PB_ERR_PAYMENT_NOT_FOUND);
}

void pb_api_sandbox_psp_fail(pb_http_request *req, void *app)
{
    sandbox_event(req, app, SANDBOX_FAIL, PB_ERR_PAYMENT_NOT_FOUND);
}

void pb_api_sandbox_psp_payout_return(pb_http_request *req, void *app)
{
    sandbox_event(req, app, SANDBOX_RETURN, PB_ERR_WITHDRAWAL_NOT_FOUND);
}

/* The sandbox's settlement report of [from, to) (RFC 3339; from < to, at most 31
 * days apart: FIELD_MISSING / FIELD_INVALID naming the parameter), text/csv. */
void pb_api_sandbox_psp_report(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    if (!pb_admin_parse_empty(req))
        return;
    pb_psp *psp = pb_cashier_psp(a->cashier, "sandbox");
    if (!psp) {
        pb_http_reply_error(req, PB_ERR_PSP_NOT_FOUND, NULL);
        return;
    }
    int64_t from = 0, to = 0;
    if (!pb_admin_query_time(req, "from", &from) || !pb_admin_query_time(req, "to", &to))
        return;
    if (!from || !to) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_MISSING, !from ? "from" : "to",
                                "query parameters from and to are required");
        return;
    }
    if (to <= from || to - from > PB_CASHIER_RECON_MAX_PERIOD_US) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "to",
                                "to: after from, a period of at most 31 days");
        return;
    }
    char *csv = NULL;
    size_t len = 0;
    pb_err e = pb_psp_sandbox_report_csv(psp, from, to, &csv, &len);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    pb_http_reply_text(req, 200, "text/csv; charset=utf-8", csv, len);
    free(csv);
}

/* ---- the cashier in serve ---- */

struct pb_api_cashier_self {
    pb_api_app *app;
    char host[80];         /* as it goes in a URL: "127.0.0.1", "[::1]" */
    unsigned port;         /* from the listen address; 0 = the kernel picks it at start */
    atomic_uint listening; /* the port the server got, once serve says (0 = not yet) */
};

/* The server's base URL once it listens. Called by the sandbox's thread until it
 * answers true: with a fixed port at once, with port 0 once serve has said which
 * port the server got (pb_api_cashier_listening, right after the start). The
 * server itself is never read here: the thread outlives it at shutdown. */
static bool self_url(void *ctx, char *url, size_t cap)
{
    struct pb_api_cashier_self *s = ctx;
    unsigned port = s->port ? s->port : atomic_load(&s->listening);
    return port && snprintf(url, cap, "http://%s:%u", s->host, port) < (int)cap;
}

void pb_api_cashier_listening(pb_api_app *app, unsigned port)
{
    if (app->cashier_self)
        atomic_store(&app->cashier_self->listening, port);
}

/* The host and port of a listen address, the host made reachable: "" / 0.0.0.0
 * → 127.0.0.1, [::] → [::1]. */
static void self_host(const char *listen, char *out, size_t cap, unsigned *port)
{
    const char *end = listen ? strrchr(listen, ':') : NULL;
    size_t n = end ? (size_t)(end - listen) : 0;
    *port = end ? (unsigned)strtoul(end + 1, NULL, 10) : 0;
    if (*port > 65535)
        *port = 0;
    if (n == 0 || (n == 7 && strncmp(listen, "0.0.0.0", 7) == 0))
        snprintf(out, cap, "127.0.0.1");
    else if (n == 4 && strncmp(listen, "[::]", 4) == 0)
        snprintf(out, cap, "[::1]");
    else
        snprintf(out, cap, "%.*s", (int)n, listen);
}

int pb_api_cashier_open(pb_api_app *app, const char *listen, bool sandbox, bool sandbox_stuck,
                        int payout_delay_ms, int payout_retry_ms, char *err, size_t errcap)
{
    /* PITBOSS_RECONCILE_AT=HH:MM (UTC): the daily reconciliation (reconcile_daily.c) */
    const char *at = getenv("PITBOSS_RECONCILE_AT");
    bool daily = at && *at;
    int minute = 0;
    if (daily) {
        bool ok = strlen(at) == 5 && at[2] == ':';
        for (int i = 0; ok && i < 5; i++)
            ok = i == 2 || (at[i] >= '0' && at[i] <= '9');
        int hh = ok ? (at[0] - '0') * 10 + (at[1] - '0') : 0;
        int mm = ok ? (at[3] - '0') * 10 + (at[4] - '0') : 0;
        if (!ok || hh > 23 || mm > 59) {
            snprintf(err, errcap,
                     "PITBOSS_RECONCILE_AT must be a UTC time HH:MM (00:00..23:59), not \"%.40s\"",
                     at);
            return -1;
        }
        minute = hh * 60 + mm;
    }
    struct pb_api_cashier_self *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    s->app = app;
    self_host(listen, s->host, sizeof s->host, &s->port);
    app->cashier_self = s;
    pb_cashier_config cfg = {.keys_dir = app->keys_dir,
                             .reconcile_daily = daily,
                             .reconcile_at_minute = minute,
                             .sandbox = sandbox,
                             .self_url = self_url,
                             .self_url_ctx = s,
                             .payout_delay_ms = payout_delay_ms,
                             .payout_retry_ms = payout_retry_ms,
                             .sandbox_stuck_knobs = sandbox_stuck};
    app->cashier = pb_cashier_open(app->wallet, app->store, &cfg, err, errcap);
    return app->cashier ? 0 : -1;
}

void pb_api_cashier_stop(pb_api_app *app) { pb_cashier_stop_retry(app->cashier); }

void pb_api_cashier_close(pb_api_app *app)
{
    pb_cashier_close(app->cashier); /* joins the sandbox's delivery thread first */
    app->cashier = NULL;
    free(app->cashier_self);
    app->cashier_self = NULL;
}
