/*
 * cashier_webhook.c — what payment providers call (public routes; the PSP's
 * signature is the authentication):
 *
 *   POST /v1/cashier/webhooks/{psp}                  a PSP's signed event
 *   POST /v1/sandbox-psp/payments/{ref}/complete     the sandbox PSP: the payer paid
 *   POST /v1/sandbox-psp/payments/{ref}/fail         the sandbox PSP: the payment failed
 *
 * The sandbox endpoints (on unless PITBOSS_SANDBOX_PSP=0; 404 PSP_NOT_FOUND
 * then) build the sandbox PSP's signed event and deliver it in-process through
 * pb_cashier_webhook(), the same verify + handle function as the webhook route,
 * and answer what the webhook would have answered.
 */
#include <jansson.h>
#include <string.h>

#include "api/admin.h"
#include "api/api.h"
#include "cashier/cashier.h"

static const char *req_header(void *ctx, const char *name)
{
    return pb_http_header(ctx, name);
}

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

static void sandbox_event(pb_http_request *req, pb_api_app *a, bool succeeded)
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
        pb_http_reply_error(req, PB_ERR_PAYMENT_NOT_FOUND, NULL);
        return;
    }
    pb_cashier_webhook_result r;
    pb_err e = pb_psp_sandbox_deposit_event(psp, c, ref, succeeded, &r);
    reply(req, e, &r);
}

void pb_api_sandbox_psp_complete(pb_http_request *req, void *app)
{
    sandbox_event(req, app, true);
}

void pb_api_sandbox_psp_fail(pb_http_request *req, void *app)
{
    sandbox_event(req, app, false);
}
