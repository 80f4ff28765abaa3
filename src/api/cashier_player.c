/*
 * cashier_player.c — the player's cashier (/v1/player/…, permission "player"):
 *
 *   POST   /v1/player/deposits          {amount, currency?, psp?, idempotency_key}
 *                                       → 201 (200 on a retry)
 *   GET    /v1/player/deposits/{id}
 *   POST   /v1/player/withdrawals       {amount, idempotency_key} → 201 (200 on a retry)
 *   GET    /v1/player/withdrawals       newest first (?limit, ?cursor)
 *   DELETE /v1/player/withdrawals/{id}  cancel while it waits for approval
 *
 * The player is the token's subject; brand and currency are theirs. The rules
 * live in src/cashier/. Also the JSON views of payments and withdrawals that
 * admin_cashier.c shares.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/admin.h"
#include "api/api.h"
#include "cashier/cashier.h"
#include "core/money.h"
#include "core/time.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200
#define AMOUNT_MAX 100000000000LL /* minor units: a sanity ceiling of one request */

json_t *pb_api_money_json(int64_t minor, const char *currency);
json_t *pb_api_money_json(int64_t minor, const char *currency)
{
    const pb_currency *cur = pb_currency_find(currency);
    char s[PB_MONEY_STR_MAX];
    return !cur || pb_money_format(minor, cur, s, sizeof s) < 0 ? NULL : json_string(s);
}

/* A deposit as its player sees it (admin_cashier.c adds the staff's fields);
 * expires_at: when the intent expires, from pb_cashier_deposit_view (0 once
 * settled: null). */
json_t *pb_api_payment_json(const pb_store_payment *p, const char *url, int64_t expires_at);
json_t *pb_api_payment_json(const pb_store_payment *p, const char *url, int64_t expires_at)
{
    return json_pack("{s:s,s:s,s:o*,s:s,s:s,s:s,s:s*,s:o,s:o,s:o}", "id", p->id, "status",
                     p->status, "amount", pb_api_money_json(p->amount, p->currency), "currency",
                     p->currency, "psp", p->psp, "psp_reference", p->psp_reference, "redirect_url",
                     url && *url ? url : NULL, "created_at", pb_admin_time_json(p->created_at),
                     "updated_at", pb_admin_time_json(p->updated_at), "expires_at",
                     expires_at ? pb_admin_time_json(expires_at) : json_null());
}

/* A withdrawal as its player sees it (admin_cashier.c adds the staff's fields). */
json_t *pb_api_withdrawal_json(const pb_store_withdrawal *w);
json_t *pb_api_withdrawal_json(const pb_store_withdrawal *w)
{
    return json_pack("{s:s,s:s,s:o*,s:s,s:i,s:s,s:o,s:o,s:o,s:o}", "id", w->id, "status", w->status,
                     "amount", pb_api_money_json(w->amount, w->currency), "currency", w->currency,
                     "approvals_required", w->approvals_required, "psp", w->psp, "psp_reference",
                     w->psp_reference[0] ? json_string(w->psp_reference) : json_null(), "reason",
                     w->reason[0] ? json_string(w->reason) : json_null(), "created_at",
                     pb_admin_time_json(w->created_at), "updated_at",
                     pb_admin_time_json(w->updated_at));
}

/* The caller (a player); replies and returns false on failure. */
static bool who(pb_http_request *req, const pb_principal **p, pb_store_conn **c, pb_player *pl)
{
    *p = pb_api_principal(req);
    if (!*p || (*p)->kind != PB_SUBJECT_PLAYER) {
        pb_http_reply_error(req, PB_ERR_UNAUTHENTICATED, NULL);
        return false;
    }
    *c = pb_http_conn(req);
    if (!*c) {
        pb_http_reply_error(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return false;
    }
    pb_err e = pb_identity_player_get(*c, NULL, (*p)->subject_public_id, pl);
    if (e == PB_OK && !pb_currency_find(pl->currency))
        e = PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return false;
    }
    return true;
}

/* {amount, idempotency_key} in the player's currency (deposits also take
 * currency?, which must be the player's, and psp?); replies and returns false on
 * error. psp NULL: a withdrawal (no currency or psp field accepted). */
static bool parse_request(pb_http_request *req, const pb_player *pl, int64_t *amount,
                          const char **key, const char **psp)
{
    const char *amount_s = NULL, *currency = NULL;
    pb_json_field f[] = {
        {.name = "amount",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 40,
         .str = &amount_s},
        {.name = "idempotency_key",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 100,
         .str = key},
        {.name = "currency", .type = PB_JSON_STRING, .min_len = 1, .max_len = 8, .str = &currency},
        {.name = "psp", .type = PB_JSON_STRING, .min_len = 1, .max_len = 32, .str = psp},
    };
    if (!pb_http_parse_json(req, f, psp ? 4 : 2))
        return false;
    if (currency && strcmp(currency, pl->currency) != 0) {
        pb_http_reply_error_msg(req, PB_ERR_CURRENCY_MISMATCH, "currency",
                                "currency: deposits are in the player's currency");
        return false;
    }
    if (pb_money_parse(amount_s, strlen(amount_s), pb_currency_find(pl->currency), amount) !=
            PB_MONEY_OK ||
        *amount <= 0) {
        pb_http_reply_error(req, PB_ERR_AMOUNT_INVALID, "amount");
        return false;
    }
    if (*amount > AMOUNT_MAX) {
        pb_http_reply_error(req, PB_ERR_AMOUNT_OUT_OF_RANGE, "amount");
        return false;
    }
    if (!pb_admin_key_ok(req, *key))
        return false;
    return true;
}

/* The player as the cashier's actor, with their principal: the cashier's ledger
 * commands re-check it (cashier_actor_check), so a session revoked, or a player
 * blocked, after the HTTP check moves no money (a deposit intent, a withdrawal's
 * hold, a cancel's release), as for staff. */
static pb_cashier_actor player_actor(pb_http_request *req, const pb_principal *p)
{
    const char *ip = pb_http_client_ip(req);
    return (pb_cashier_actor){.kind = "player",
                              .id = p->subject_public_id,
                              .trace_id = pb_http_trace_id(req),
                              .ip = ip && strcmp(ip, "-") != 0 ? ip : NULL,
                              .principal = p};
}

static const char *field_of(pb_err e)
{
    switch (e) {
    case PB_ERR_INSUFFICIENT_FUNDS:
    case PB_ERR_AMOUNT_OUT_OF_RANGE:
    case PB_ERR_AMOUNT_INVALID: return "amount";
    case PB_ERR_PSP_NOT_FOUND: return "psp";
    case PB_ERR_IDEMPOTENCY_CONFLICT:
    case PB_ERR_FIELD_INVALID: return "idempotency_key";
    default: return NULL;
    }
}

void pb_api_player_deposit_create(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const pb_principal *p;
    pb_store_conn *c;
    pb_player pl;
    int64_t amount = 0;
    const char *key = NULL, *psp = NULL;
    if (!who(req, &p, &c, &pl) || !parse_request(req, &pl, &amount, &key, &psp))
        return;
    pb_cashier_player who_ = {.brand_id = pl.brand_id,
                              .brand = p->brand_code,
                              .player = pl.public_id,
                              .currency = pl.currency};
    pb_cashier_actor actor = player_actor(req, p);
    pb_store_payment pay;
    char url[PB_CASHIER_URL_MAX];
    bool replayed = false;
    pb_err e = pb_cashier_deposit_create(a->cashier, c, &who_, psp, amount, key, &actor, &pay, url,
                                         &replayed);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, field_of(e));
        return;
    }
    /* a replay of an intent that has expired since reads "expired", without its link */
    int64_t expires_at = pb_cashier_deposit_view(c, &pay, pb_time_now_us());
    if (strcmp(pay.status, "expired") == 0)
        url[0] = 0;
    pb_http_reply_json(req, replayed ? 200 : 201, pb_api_payment_json(&pay, url, expires_at));
}

void pb_api_player_deposit_get(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const pb_principal *p;
    pb_store_conn *c;
    pb_player pl;
    if (!pb_admin_parse_empty(req) || !who(req, &p, &c, &pl))
        return;
    pb_store_payment pay;
    pb_err e = pb_cashier_deposit_get(c, pl.public_id, pb_http_param(req, "id"), &pay);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    /* "expired": no checkout link */
    int64_t expires_at = pb_cashier_deposit_view(c, &pay, pb_time_now_us());
    char url[PB_CASHIER_URL_MAX];
    pb_cashier_checkout_url(a->cashier, &pay, url);
    pb_http_reply_json(req, 200, pb_api_payment_json(&pay, url, expires_at));
}

void pb_api_player_withdrawal_create(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const pb_principal *p;
    pb_store_conn *c;
    pb_player pl;
    int64_t amount = 0;
    const char *key = NULL;
    if (!who(req, &p, &c, &pl) || !parse_request(req, &pl, &amount, &key, NULL))
        return;
    pb_cashier_player who_ = {.brand_id = pl.brand_id,
                              .brand = p->brand_code,
                              .player = pl.public_id,
                              .currency = pl.currency};
    pb_cashier_actor actor = player_actor(req, p);
    pb_store_withdrawal w;
    bool replayed = false;
    pb_err e = pb_cashier_withdrawal_request(a->cashier, c, &who_, amount, key, &actor, &w,
                                             &replayed);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, field_of(e));
        return;
    }
    pb_http_reply_json(req, replayed ? 200 : 201, pb_api_withdrawal_json(&w));
}

void pb_api_player_withdrawals_list(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p;
    pb_store_conn *c;
    pb_player pl;
    if (!pb_admin_parse_empty(req) || !who(req, &p, &c, &pl))
        return;
    int64_t limit = PAGE_DEFAULT, cursor = 0;
    if (!pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit) ||
        !pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor))
        return;
    pb_store_withdrawal *rows = pb_http_alloc(req, (size_t)limit * sizeof *rows);
    size_t n = 0;
    pb_store_withdrawal_query q = {.player = pl.public_id,
                                   .before_seq = cursor,
                                   .limit = (size_t)limit};
    pb_err e = rows ? pb_cashier_withdrawal_list(c, &q, rows, &n) : PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(items, pb_api_withdrawal_json(&rows[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    if (!items) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:o}", "items", items, "next_cursor",
                                 pb_admin_cursor_json(n == (size_t)limit ? rows[n - 1].seq : 0)));
}

void pb_api_player_withdrawal_cancel(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const pb_principal *p;
    pb_store_conn *c;
    pb_player pl;
    if (!pb_admin_parse_empty(req) || !who(req, &p, &c, &pl))
        return;
    pb_cashier_actor actor = player_actor(req, p);
    pb_store_withdrawal w;
    const char *id = pb_http_param(req, "id");
    pb_err e = pb_cashier_withdrawal_cancel(a->cashier, pl.public_id, id ? id : "", &actor, &w);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200, pb_api_withdrawal_json(&w));
}
