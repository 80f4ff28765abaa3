/*
 * admin_unclaimed.c — the brands' unclaimed funds (wallet.h, "Closed players"):
 * what the wallet credited to a brand's unclaimed_funds account for erased
 * players, per currency, and the movements of that account.
 *
 *   GET /v1/admin/unclaimed-funds?brand=&currency=&limit=&cursor=   finance.read
 *
 * balances: one row per brand in view and currency the brand has an
 * unclaimed_funds account in (read live through the ledger), whatever the
 * cursor. entries: the accounts' transfers newest first, walked by their account
 * chains (each transfer names the previous one of its accounts: no scan), one
 * page of `limit` (default 50, at most 200) below the cursor (the last entry's
 * seq). An entry names the provider, the round and — found by index through
 * the wallet's operation whose first transfer it is — the erased player's
 * public id and the operation's transaction id; never any personal data (the
 * player is erased). A movement out of the account (the operator settling it,
 * an adjustment) is an entry with direction "debit" and no operation; a
 * settlement has kind "settlement", its destination and — from its request
 * (admin_unclaimed_settle.c: settlements are requested and approved by two
 * members), found by the transfer's id — its reference and the request's id
 * (settlement_id; both null for a settlement made before 4-eyes, whose reference
 * is in its audit entry funds.unclaimed_settled).
 *
 *   GET /v1/admin/unclaimed-funds/settlements?brand=&status=&limit=&cursor=  finance.read
 *   GET /v1/admin/unclaimed-funds/settlements/{id}   finance.read (404 outside the scope)
 *
 * The settlement requests of the brands in view, newest first (the row id is the
 * cursor), a pending one past its brand's unclaimed_settlement_expiry_hours shown
 * (and filtered) as expired; one request by id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_unclaimed.h"
#include "core/log.h"
#include "core/money.h"
#include "core/time.h"
#include "ledger/ledger.h"
#include "wallet/wallet.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

typedef struct page {
    pb_store_conn *c;
    size_t limit, rows;
    int64_t last_seq;
    bool more, failed;
    json_t *list;
} page;

static const char *kind_of(uint32_t code)
{
    switch (code) {
    case PB_CODE_WIN: return "win";
    case PB_CODE_ROLLBACK: return "rollback";
    case PB_CODE_DEPOSIT: return "deposit"; /* a PSP's late success (cashier.c) */
    case PB_CODE_WITHDRAWAL:
        return "payout_returned"; /* a paid payout returned (payout_settle.c) */
    case PB_CODE_ADJUSTMENT: return "adjustment";
    case PB_CODE_UNCLAIMED_SETTLEMENT: return "settlement"; /* below */
    default: return "other";
    }
}

/* One entry of the page: the unclaimed side of a transfer. */
static json_t *entry_json(page *pg, const pb_store_bo_tx *x)
{
    char id[PB_ID_STR_LEN + 1], amount[PB_MONEY_STR_MAX];
    char player[PB_BO_PLAYER_MAX + 1] = "", tx_id[128] = "";
    pb_id_to_string(&x->id, id);
    const pb_currency *cur = pb_currency_find(x->currency);
    if (!cur || pb_money_format(x->amount, cur, amount, sizeof amount) < 0)
        return NULL;
    if (x->provider[0] && x->credit) {
        pb_store_rc rc = pb_store_bo_game_op_of_transfer(pg->c, x->provider, x->reference, &x->id,
                                                         player, sizeof player, tx_id,
                                                         sizeof tx_id);
        if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
            return NULL;
    }
    /* a settlement: where the money went, and its request (the reference is the
     * request's; the ledger holds only its hash) */
    const char *dest = NULL;
    pb_store_settlement *rq = NULL;
    if (x->code == PB_CODE_UNCLAIMED_SETTLEMENT && !x->credit) {
        dest = strcmp(x->other_kind, PB_WALLET_KIND_REMITTED) == 0 ? "remitted"
               : strcmp(x->other_kind, PB_WALLET_KIND_HOUSE) == 0  ? "house"
                                                                   : NULL;
        rq = malloc(sizeof *rq);
        pb_store_rc rc = rq ? pb_store_settlement_by_transfer(pg->c, id, rq) : PB_STORE_ERROR;
        if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND) {
            free(rq);
            return NULL;
        }
        if (rc == PB_STORE_NOT_FOUND) { /* settled before 4-eyes */
            free(rq);
            rq = NULL;
        }
    }
    json_t *o = json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s*}", "id", id, "time",
                          pb_admin_time_json(x->created_at), "brand", x->brand, "kind",
                          kind_of(x->code), "direction", x->credit ? "credit" : "debit", "amount",
                          amount, "currency", x->currency, "provider",
                          x->provider[0] ? json_string(x->provider) : json_null(), "round_id",
                          x->provider[0] && x->reference[0] ? json_string(x->reference)
                                                            : json_null(),
                          "player_id", player[0] ? json_string(player) : json_null(), "tx_id",
                          tx_id[0] ? json_string(tx_id) : json_null(), "destination", dest);
    if (o && dest &&
        (json_object_set_new(o, "reference",
                             rq && rq->reference[0] ? json_string(rq->reference) : json_null()) ||
         json_object_set_new(o, "settlement_id",
                             rq ? json_string(rq->rq.public_id) : json_null()))) {
        json_decref(o);
        o = NULL;
    }
    free(rq);
    return o;
}

static int on_tx(void *ctx, const pb_store_bo_tx *sides, size_t n)
{
    page *pg = ctx;
    for (size_t i = 0; i < n; i++) {
        if (pg->rows == pg->limit) {
            pg->more = true;
            return 1;
        }
        json_t *row = entry_json(pg, &sides[i]);
        if (!row || json_array_append_new(pg->list, row) != 0) {
            pg->failed = true;
            return 1;
        }
        pg->rows++;
        pg->last_seq = sides[i].seq;
    }
    return 0;
}

/* The balances of the brands' unclaimed-funds accounts (in currency, when
 * given) into bal, and the accounts with their newest seqs. */
static pb_err accounts(pb_store_conn *c, const pb_store_brand *brands, size_t nbrands,
                       const char *currency, json_t *bal, int64_t **ids, int64_t **starts,
                       size_t *n)
{
    size_t cap = 0;
    for (size_t b = 0; b < nbrands; b++)
        for (size_t ci = 0; ci < brands[b].ncurrencies; ci++) {
            const char *cur = brands[b].currencies[ci];
            if (currency && strcmp(cur, currency) != 0)
                continue;
            pb_ledger_account a;
            pb_err e = pb_ledger_account_find(c, brands[b].code, PB_WALLET_OWNER_HOUSE,
                                              PB_WALLET_KIND_UNCLAIMED, cur, &a);
            if (e == PB_ERR_ACCOUNT_NOT_FOUND)
                continue;
            if (e == PB_OK)
                e = pb_ledger_account_get(c, a.id, &a); /* live: rows are written back lazily */
            if (e != PB_OK)
                return e;
            const pb_currency *pc = pb_currency_find(cur);
            char amount[PB_MONEY_STR_MAX];
            int64_t balance;
            if (!pc || __builtin_sub_overflow(a.credits_posted, a.debits_posted, &balance) ||
                pb_money_format(balance, pc, amount, sizeof amount) < 0)
                return PB_ERR_INTERNAL;
            if (json_array_append_new(bal, json_pack("{s:s,s:s,s:s}", "brand", brands[b].code,
                                                     "currency", cur, "balance", amount)) != 0)
                return PB_ERR_INTERNAL;
            if (*n == cap) { /* as many as the brands in view have: no fixed limit */
                size_t ncap = cap ? 2 * cap : 16;
                int64_t *ni = realloc(*ids, ncap * sizeof *ni);
                if (ni)
                    *ids = ni;
                int64_t *ns = ni ? realloc(*starts, ncap * sizeof *ns) : NULL;
                if (ns)
                    *starts = ns;
                if (!ni || !ns)
                    return PB_ERR_INTERNAL;
                cap = ncap;
            }
            (*ids)[*n] = a.id;
            (*starts)[(*n)++] = a.last_seq;
        }
    return PB_OK;
}

void pb_api_admin_unclaimed_funds(pb_http_request *req, void *app)
{
    (void)app;
    const char *brand = NULL, *currency = NULL;
    int64_t limit = PAGE_DEFAULT, cursor = 0;
    if (!pb_admin_query_str(req, "brand", PB_BRAND_CODE_MAX, &brand) ||
        !pb_admin_query_str(req, "currency", PB_BO_CURRENCY_MAX, &currency) ||
        !pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor) ||
        !pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit))
        return;
    if (currency && !pb_currency_find(currency)) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "currency",
                                "query parameter currency is not a supported currency");
        return;
    }
    pb_store_conn *c = pb_http_conn(req);
    page pg = {.c = c, .limit = (size_t)limit, .list = json_array()};
    json_t *bal = json_array();
    pb_store_brand *brands = NULL;
    size_t nbrands = 0, nacc = 0;
    int64_t *ids = NULL, *starts = NULL;
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !pg.list || !bal ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK)
        e = pb_api_bo_brands(c, pb_api_principal(req), brand, &brands, &nbrands);
    bool open = false;
    if (e == PB_OK) {
        pb_store_rc rc = pb_store_begin(c, PB_STORE_READ); /* balances and entries: one cut */
        e = rc == PB_STORE_OK     ? PB_OK
            : rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE
                                  : PB_ERR_INTERNAL;
        open = e == PB_OK;
    }
    if (e == PB_OK)
        e = accounts(c, brands, nbrands, currency, bal, &ids, &starts, &nacc);
    if (e == PB_OK && nacc &&
        (pb_store_bo_tx_walk_kind(c, PB_WALLET_KIND_UNCLAIMED, ids, starts, nacc, cursor, on_tx,
                                  &pg) != PB_STORE_OK ||
         pg.failed))
        e = PB_ERR_INTERNAL;
    if (open)
        pb_store_rollback(c);
    free(brands);
    free(ids);
    free(starts);
    if (e != PB_OK) {
        json_decref(pg.list);
        json_decref(bal);
        if (e == PB_ERR_INTERNAL)
            pb_log(PB_LOG_ERROR, "unclaimed.read", "failed (trace %s)", pb_http_trace_id(req));
        pb_admin_fail(req, e, e == PB_ERR_BRAND_FORBIDDEN ? "brand" : NULL);
        return;
    }
    char next[24];
    snprintf(next, sizeof next, "%lld", (long long)pg.last_seq);
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:o,s:o}", "balances", bal, "entries", pg.list,
                                 "next_cursor", pg.more ? json_string(next) : json_null()));
}

/* ---- the settlement requests (admin_unclaimed_settle.c writes them) ---- */

void pb_api_admin_unclaimed_settlements_list(pb_http_request *req, void *app)
{
    (void)app;
    pb_admin_request_list_reply(req, &pb_admin_settlement_requests);
}

void pb_api_admin_unclaimed_settlement_get(pb_http_request *req, void *app)
{
    (void)app;
    pb_admin_request_get_reply(req, &pb_admin_settlement_requests);
}
