/*
 * wallet_player.c — the player's own wallet (/v1/player/…, permission "player"):
 *
 *   GET /v1/player/wallet              balances: cash, bonus, held, withdrawable, total
 *   GET /v1/player/transactions        history, newest first, filters, cursor pages
 *   GET /v1/player/transactions/{id}   one line of it
 *
 * The player is the token's subject; brand and currency are theirs. Nothing
 * here decides anything: src/wallet/ reads the ledger.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/admin.h"
#include "api/api.h"
#include "core/money.h"
#include "core/time.h"
#include "wallet/wallet.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

/* ---- shared with the other wallet views ---- */

/* The ledger code of a transfer as the API names it. */
static const char *type_name(uint32_t code)
{
    switch (code) {
    case PB_CODE_DEPOSIT: return "deposit";
    case PB_CODE_WITHDRAWAL: return "withdrawal";
    case PB_CODE_BET: return "bet";
    case PB_CODE_WIN: return "win";
    case PB_CODE_ROLLBACK: return "rollback";
    case PB_CODE_BONUS_GRANT: return "bonus_grant";
    case PB_CODE_BONUS_CONVERT: return "bonus_convert";
    case PB_CODE_BONUS_FORFEIT: return "bonus_forfeit";
    case PB_CODE_ADJUSTMENT: return "adjustment";
    case PB_CODE_TRANSFER: return "transfer";
    default: return "other";
    }
}

/* The type filter: a type name → its code; false for an unknown name. */
static bool type_code(const char *name, uint32_t *code)
{
    static const uint32_t codes[] = {PB_CODE_DEPOSIT,       PB_CODE_WITHDRAWAL,
                                     PB_CODE_BET,           PB_CODE_WIN,
                                     PB_CODE_ROLLBACK,      PB_CODE_BONUS_GRANT,
                                     PB_CODE_BONUS_CONVERT, PB_CODE_BONUS_FORFEIT,
                                     PB_CODE_ADJUSTMENT,    PB_CODE_TRANSFER};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(name, type_name(codes[i])) == 0) {
            *code = codes[i];
            return true;
        }
    return false;
}

/* What the line is in the life of a hold. */
static const char *status_name(uint32_t flags)
{
    if (flags & PB_TRANSFER_PENDING)
        return "pending";
    if (flags & PB_TRANSFER_EXPIRED)
        return "expired";
    if (flags & PB_TRANSFER_VOID_PENDING)
        return "voided";
    return "posted";
}

static json_t *money_json(int64_t minor, const pb_currency *cur)
{
    char s[PB_MONEY_STR_MAX];
    return pb_money_format(minor, cur, s, sizeof s) < 0 ? NULL : json_string(s);
}

/* One history line; NULL on OOM. */
static json_t *entry_json(const pb_wallet_entry *e, const pb_currency *cur)
{
    char id[PB_ID_STR_LEN + 1];
    pb_id_to_string(&e->transfer_id, id);
    json_t *amount = money_json(e->amount, cur);
    if (!amount)
        return NULL;
    return json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:o}", "id", id, "type", type_name(e->code),
                     "balance", e->balance, "amount", amount, "currency", cur->code, "status",
                     status_name(e->flags), "reference", e->reference, "created_at",
                     pb_admin_time_json(e->created_at));
}

/* The caller (a player), their currency; replies and returns false on failure. */
static bool who(pb_http_request *req, const pb_principal **p, pb_store_conn **c, pb_player *pl,
                const pb_currency **cur)
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
    *cur = e == PB_OK ? pb_currency_find(pl->currency) : NULL;
    if (e == PB_OK && !*cur)
        e = PB_ERR_INTERNAL;
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return false;
    }
    return true;
}

/* The balances object of a wallet; NULL on OOM. */
json_t *pb_api_wallet_balance_json(const pb_wallet_balance *b, const pb_currency *cur);
json_t *pb_api_wallet_balance_json(const pb_wallet_balance *b, const pb_currency *cur)
{
    json_t *o = json_pack("{s:s,s:o*,s:o*,s:o*,s:o*,s:o*}", "currency", cur->code, "cash",
                          money_json(b->cash, cur), "bonus", money_json(b->bonus, cur), "held",
                          money_json(b->held, cur), "withdrawable",
                          money_json(b->withdrawable, cur), "total", money_json(b->total, cur));
    if (o && json_object_size(o) != 6) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- GET /v1/player/wallet ---- */

void pb_api_player_wallet(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p;
    pb_store_conn *c;
    pb_player pl;
    const pb_currency *cur;
    if (!pb_admin_parse_empty(req) || !who(req, &p, &c, &pl, &cur))
        return;
    pb_wallet_balance b;
    pb_err e = pb_wallet_balance_get(c, p->brand_code, pl.public_id, pl.currency, &b);
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200, pb_api_wallet_balance_json(&b, cur));
}

/* ---- GET /v1/player/transactions ---- */

void pb_api_player_transactions(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p;
    pb_store_conn *c;
    pb_player pl;
    const pb_currency *cur;
    if (!pb_admin_parse_empty(req) || !who(req, &p, &c, &pl, &cur))
        return;
    int64_t limit = PAGE_DEFAULT, from = 0, to = 0;
    const char *type = NULL, *cursor = NULL;
    if (!pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit) ||
        !pb_admin_query_time(req, "from", &from) || !pb_admin_query_time(req, "to", &to) ||
        !pb_admin_query_range(req, from, to, "to") || !pb_admin_query_str(req, "type", 16, &type) ||
        !pb_admin_query_str(req, "cursor", PB_WALLET_CURSOR_MAX - 1, &cursor))
        return;
    uint32_t code = 0;
    if (type && !type_code(type, &code)) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "type",
                                "type: deposit, withdrawal, bet, win, rollback, bonus_grant, "
                                "bonus_convert, bonus_forfeit, adjustment or transfer");
        return;
    }
    pb_wallet_history_query q = {.brand = p->brand_code,
                                 .player_public_id = pl.public_id,
                                 .currency = pl.currency,
                                 .code = code,
                                 .from_us = from,
                                 .to_us = to,
                                 .cursor = cursor,
                                 .limit = (size_t)limit};
    pb_wallet_entry *rows = pb_http_alloc(req, (size_t)limit * sizeof *rows);
    if (!rows) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    size_t n = 0;
    char next[PB_WALLET_CURSOR_MAX];
    pb_err e = pb_wallet_history(c, &q, rows, &n, next);
    if (e == PB_ERR_INVALID_REQUEST) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "cursor",
                                "cursor: pass back the next_cursor of the previous page");
        return;
    }
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++) {
        json_t *it = entry_json(&rows[i], cur);
        if (!it || json_array_append_new(items, it) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    if (!items) {
        pb_http_reply_error(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:o}", "items", items, "next_cursor",
                                 next[0] ? json_string(next) : json_null()));
}

/* ---- GET /v1/player/transactions/{id} ---- */

void pb_api_player_transaction_get(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p;
    pb_store_conn *c;
    pb_player pl;
    const pb_currency *cur;
    if (!pb_admin_parse_empty(req) || !who(req, &p, &c, &pl, &cur))
        return;
    pb_id id;
    pb_wallet_entry en;
    const char *raw = pb_http_param(req, "id");
    pb_err e = raw && pb_id_parse(raw, strlen(raw), &id) == 0
                   ? pb_wallet_entry_get(c, p->brand_code, pl.public_id, pl.currency, &id, &en)
                   : PB_ERR_TRANSFER_NOT_FOUND; /* not an id: no such transfer */
    if (e != PB_OK) {
        pb_http_reply_error(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200, entry_json(&en, cur));
}
