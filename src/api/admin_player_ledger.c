/*
 * admin_player_ledger.c — a player's money as staff see it (split from
 * admin_players.c, which has the search, the player and block/unblock):
 *
 *   GET  /v1/admin/players/{id}/accounts   players.ledger.read  ledger accounts and balances
 *   GET  /v1/admin/players/{id}/transfers  players.ledger.read  an account's transfers, newest
 *                                                               first
 *
 * A player's money lives in ledger accounts owned by "player:<public id>" in
 * the player's brand, kinds player_cash and player_bonus, one per currency the
 * brand accepts (and the player's own currency). Amounts are decimal strings.
 * Every query is limited to the caller's brand scope (404 PLAYER_NOT_FOUND
 * otherwise).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "core/money.h"
#include "core/time.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200
#define OWNER_MAX (PB_LEDGER_OWNER_MAX + 1)

static const char *const KINDS[] = {"player_cash", "player_bonus"};

json_t *pb_admin_amount_json(int64_t minor, const char *currency)
{
    const pb_currency *cur = pb_currency_find(currency);
    char buf[PB_MONEY_STR_MAX];
    if (!cur || pb_money_format(minor, cur, buf, sizeof buf) < 0)
        return NULL;
    return json_string(buf);
}

/* An account with its balances; NULL when a counter overflows (a broken ledger). */
json_t *pb_admin_account_json(const pb_ledger_account *a)
{
    int64_t posted, available;
    if (pb_i64_sub(a->credits_posted, a->debits_posted, &posted) != 0 ||
        pb_i64_sub(posted, a->debits_pending, &available) != 0)
        return NULL;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "id", id, "kind", a->kind, "currency",
                     a->currency, "available", pb_admin_amount_json(available, a->currency),
                     "posted", pb_admin_amount_json(posted, a->currency), "pending_debits",
                     pb_admin_amount_json(a->debits_pending, a->currency), "pending_credits",
                     pb_admin_amount_json(a->credits_pending, a->currency), "created_at",
                     pb_admin_time_json(a->created_at));
}

/* The player in scope, their brand and the ledger owner name of their accounts. */
static pb_err player_and_brand(pb_store_conn *c, const pb_principal *p, const char *id,
                               pb_player *pl, pb_brand *b, char owner[OWNER_MAX])
{
    pb_err e = pb_identity_player_get_pii(c, &p->scope, id, pl);
    if (e == PB_OK)
        e = pb_tenancy_brand_get(c, pl->brand_id, b);
    if (e == PB_ERR_BRAND_NOT_FOUND)
        e = PB_ERR_INTERNAL; /* a player whose brand is gone */
    if (e == PB_OK)
        snprintf(owner, OWNER_MAX, "player:%s", pl->public_id);
    return e;
}

pb_err pb_admin_player_accounts(pb_store_conn *c, const pb_brand *b, const pb_player *pl,
                                pb_ledger_account *out, size_t *n)
{
    char owner[OWNER_MAX];
    snprintf(owner, sizeof owner, "player:%s", pl->public_id);
    *n = 0;
    bool own_listed = false;
    for (size_t i = 0; i <= b->ncurrencies; i++) {
        const char *cur = i < b->ncurrencies ? b->currencies[i] : pl->currency;
        if (i == b->ncurrencies && own_listed)
            break; /* the player's currency is one of the brand's: listed */
        own_listed |= strcmp(cur, pl->currency) == 0;
        for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
            pb_err e = pb_ledger_account_find(c, b->code, owner, KINDS[k], cur, &out[*n]);
            if (e == PB_OK)
                (*n)++;
            else if (e != PB_ERR_ACCOUNT_NOT_FOUND)
                return e;
        }
    }
    return PB_OK;
}

void pb_api_admin_player_accounts(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    pb_store_conn *c = pb_http_conn(req);
    pb_brand *b = malloc(sizeof *b);
    json_t *list = json_array();
    pb_player pl;
    char owner[OWNER_MAX] = "";
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !b || !list ? PB_ERR_INTERNAL : PB_OK;
    bool tx = e == PB_OK && pb_store_begin(c, PB_STORE_READ) == PB_STORE_OK; /* one snapshot */
    if (e == PB_OK && !tx)
        e = PB_ERR_STORE_UNAVAILABLE;
    if (e == PB_OK)
        e = player_and_brand(c, p, pb_http_param(req, "id"), &pl, b, owner);
    pb_ledger_account acc[PB_ADMIN_PLAYER_ACCOUNTS_MAX];
    size_t n = 0;
    if (e == PB_OK)
        e = pb_admin_player_accounts(c, b, &pl, acc, &n);
    for (size_t i = 0; e == PB_OK && i < n; i++) {
        json_t *j = pb_admin_account_json(&acc[i]);
        if (!j || json_array_append_new(list, j) != 0)
            e = PB_ERR_INTERNAL;
    }
    if (tx)
        pb_store_rollback(c);
    free(b);
    if (e != PB_OK) {
        json_decref(list);
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:s,s:o}", "player_id", pl.public_id, "accounts", list));
}

/* The platform's transfer codes by name; null for others. */
static json_t *code_name(uint32_t code)
{
    static const struct {
        uint32_t code;
        const char *name;
    } NAMES[] = {{PB_CODE_DEPOSIT, "deposit"},
                 {PB_CODE_WITHDRAWAL, "withdrawal"},
                 {PB_CODE_BET, "bet"},
                 {PB_CODE_WIN, "win"},
                 {PB_CODE_ROLLBACK, "rollback"},
                 {PB_CODE_BONUS_GRANT, "bonus_grant"},
                 {PB_CODE_BONUS_CONVERT, "bonus_convert"},
                 {PB_CODE_BONUS_FORFEIT, "bonus_forfeit"},
                 {PB_CODE_ADJUSTMENT, "adjustment"},
                 {PB_CODE_TRANSFER, "transfer"}};
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (NAMES[i].code == code)
            return json_string(NAMES[i].name);
    return json_null();
}

/* A transfer as seen from one of its accounts. */
json_t *pb_admin_transfer_json(const pb_ledger_record *t, int64_t account)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } FLAGS[] = {{PB_TRANSFER_LINKED, "linked"},
                 {PB_TRANSFER_PENDING, "pending"},
                 {PB_TRANSFER_POST_PENDING, "post_pending"},
                 {PB_TRANSFER_VOID_PENDING, "void_pending"},
                 {PB_TRANSFER_EXPIRED, "expired"}};
    char id[PB_ID_STR_LEN + 1], pending[PB_ID_STR_LEN + 1], other[24];
    pb_id_to_string(&t->id, id);
    if (t->has_pending_id)
        pb_id_to_string(&t->pending_id, pending);
    bool debit = t->debit_account_id == account;
    snprintf(other, sizeof other, "%lld",
             (long long)(debit ? t->credit_account_id : t->debit_account_id));
    json_t *flags = json_array();
    for (size_t i = 0; flags && i < sizeof FLAGS / sizeof FLAGS[0]; i++)
        if (t->flags & FLAGS[i].bit)
            json_array_append_new(flags, json_string(FLAGS[i].name));
    return json_pack("{s:s,s:o,s:s,s:o,s:s,s:i,s:o,s:o,s:s,s:o,s:s,s:s}", "id", id, "created_at",
                     pb_admin_time_json(t->created_at), "direction", debit ? "debit" : "credit",
                     "amount", pb_admin_amount_json(t->amount, t->currency), "currency",
                     t->currency, "code", (json_int_t)t->code, "code_name", code_name(t->code),
                     "flags", flags, "reference", t->reference, "pending_id",
                     t->has_pending_id ? json_string(pending) : json_null(), "counterparty_account",
                     other, "trace_id", t->trace_id);
}

void pb_api_admin_player_transfers(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    int64_t account = 0, cursor = 0, limit = PAGE_DEFAULT, from = 0, to = 0;
    if (!pb_admin_query_int(req, "account", 1, INT64_MAX, &account) ||
        !pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor) ||
        !pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit) ||
        !pb_admin_query_time(req, "from", &from) || !pb_admin_query_time(req, "to", &to) ||
        !pb_admin_query_range(req, from, to, "to"))
        return;
    if (!account) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_MISSING, "account",
                                "query parameter account (an account id) is required");
        return;
    }
    pb_store_conn *c = pb_http_conn(req);
    pb_brand *b = malloc(sizeof *b);
    pb_ledger_record *rows = calloc((size_t)limit, sizeof *rows);
    pb_player pl;
    pb_ledger_account a;
    char owner[OWNER_MAX] = "";
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !b || !rows ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK)
        e = player_and_brand(c, p, pb_http_param(req, "id"), &pl, b, owner);
    if (e == PB_OK)
        e = pb_ledger_account_get(c, account, &a);
    if (e == PB_OK && (strcmp(a.owner, owner) != 0 || strcmp(a.brand, b->code) != 0))
        e = PB_ERR_ACCOUNT_NOT_FOUND; /* not this player's: as if it did not exist */
    size_t n = 0;
    int64_t next = 0;
    pb_ledger_history_query q = {.account_id = account,
                                 .from_us = from,
                                 .to_us = to,
                                 .cursor = cursor,
                                 .limit = (size_t)limit};
    if (e == PB_OK)
        e = pb_ledger_account_history(c, &q, rows, &n, &next);
    json_t *list = e == PB_OK ? json_array() : NULL;
    for (size_t i = 0; list && i < n; i++) {
        json_t *j = pb_admin_transfer_json(&rows[i], account);
        if (!j || json_array_append_new(list, j) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    free(rows);
    free(b);
    if (e == PB_ERR_INVALID_REQUEST) { /* a cursor that is not on this account's chain */
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "cursor",
                                "query parameter cursor is not a cursor of this account");
        return;
    }
    if (e != PB_OK) {
        pb_admin_fail(req, e, e == PB_ERR_ACCOUNT_NOT_FOUND ? "account" : NULL);
        return;
    }
    char acct[24];
    snprintf(acct, sizeof acct, "%lld", (long long)account);
    pb_http_reply_json(req, 200,
                       list ? json_pack("{s:s,s:o,s:o}", "account", acct, "transfers", list,
                                        "next_cursor", pb_admin_cursor_json(next))
                            : NULL);
}
