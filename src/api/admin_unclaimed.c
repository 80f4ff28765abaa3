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
 * settlement (below) has kind "settlement" and its destination.
 *
 *   POST /v1/admin/unclaimed-funds/settlements   finance.adjust (below)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "core/log.h"
#include "core/sha256.h"
#include "events/events.h"
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
    /* a settlement: where the money went (its reference is in the audit entry
     * funds.unclaimed_settled; the ledger holds only its hash) */
    const char *dest = NULL;
    if (x->code == PB_CODE_UNCLAIMED_SETTLEMENT && !x->credit)
        dest = strcmp(x->other_kind, PB_WALLET_KIND_REMITTED) == 0 ? "remitted"
               : strcmp(x->other_kind, PB_WALLET_KIND_HOUSE) == 0  ? "house"
                                                                   : NULL;
    return json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s*}", "id", id, "time",
                     pb_admin_time_json(x->created_at), "brand", x->brand, "kind", kind_of(x->code),
                     "direction", x->credit ? "credit" : "debit", "amount", amount, "currency",
                     x->currency, "provider",
                     x->provider[0] ? json_string(x->provider) : json_null(), "round_id",
                     x->provider[0] && x->reference[0] ? json_string(x->reference) : json_null(),
                     "player_id", player[0] ? json_string(player) : json_null(), "tx_id",
                     tx_id[0] ? json_string(tx_id) : json_null(), "destination", dest);
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

/*
 * Settling a brand's unclaimed funds: the way money leaves the account.
 *
 *   POST /v1/admin/unclaimed-funds/settlements   finance.adjust, brand-scoped
 *   {"brand","currency","amount":"10.00","destination":"remitted"|"house",
 *    "reference":"…","reason":"…","idempotency_key":"…"}
 *
 * remitted: paid out to an authority (escheatment): unclaimed_funds → the brand's
 * "remitted" account (only ever receives), reference (the authority's or the
 * remittance's, 1..128 printable ASCII) required. house: recognised by the
 * operator where the law lets it: unclaimed_funds → the brand's house account,
 * reference optional. One ledger command: the transfer (scope
 * "unclaimed:<brand>", code UNCLAIMED_SETTLEMENT; its ledger reference is the
 * SHA-256 of the settlement's reference, so a retry naming another reference is
 * the ledger's IDEMPOTENCY_CONFLICT), the audit entry funds.unclaimed_settled
 * (actor the staff member, target the brand, before/after the account's balance)
 * and the event funds.unclaimed_settled (finance.read). The caller is re-checked
 * inside the command (pb_identity_principal_check); the balance too: more than
 * it (no account in the currency: 0) is INSUFFICIENT_FUNDS, nothing written (the
 * unclaimed account carries no ledger flag: the check is here, in the writer).
 * The same key and body answer the original (200, replayed: true).
 */
typedef struct settle_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const char *brand, *currency, *destination, *reference, *reason, *key;
    const pb_currency *cur;
    int64_t amount, unclaimed, before, after;
    pb_transfer t;
    pb_err refusal;
} settle_ctx;

/* The unclaimed account's balance at this point of the writer's batch. */
static pb_err settle_balance_now(pb_ledger_tx *tx, const settle_ctx *x, int64_t *out)
{
    pb_ledger_account a;
    pb_err e = pb_ledger_tx_account(tx, x->unclaimed, &a);
    if (e != PB_OK)
        return e == PB_ERR_STORE_CORRUPT ? e : PB_ERR_INTERNAL;
    if (__builtin_sub_overflow(a.credits_posted, a.debits_posted, out) ||
        __builtin_sub_overflow(*out, a.debits_pending, out))
        return PB_ERR_INTERNAL;
    return PB_OK;
}

static json_t *settle_balance_json(const settle_ctx *x, int64_t balance)
{
    return json_pack("{s:s,s:s,s:o*}", "account", PB_WALLET_KIND_UNCLAIMED, "currency", x->currency,
                     "balance", pb_admin_amount_json(balance, x->currency));
}

static pb_err settle_command(pb_ledger_tx *tx, void *arg)
{
    settle_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    /* the caller as the batch sees them (as admin_adjust.c re-checks its member) */
    pb_err e = pb_identity_principal_check(c, x->p, pb_ledger_tx_now(tx));
    if (e == PB_ERR_INTERNAL || pb_err_transient(e))
        return PB_ERR_INTERNAL;
    if (e != PB_OK) {
        x->refusal = e; /* SESSION_REVOKED, FORBIDDEN: nothing submitted */
        return PB_OK;
    }
    pb_ledger_record rec;
    e = pb_ledger_transfer_by_key(c, x->t.scope, x->t.key, &rec);
    if (e != PB_OK && e != PB_ERR_TRANSFER_NOT_FOUND)
        return PB_ERR_INTERNAL;
    bool fresh = e == PB_ERR_TRANSFER_NOT_FOUND;
    if ((e = settle_balance_now(tx, x, &x->before)) != PB_OK)
        return e;
    if (fresh && x->amount > x->before) {
        /* refused here, never submitted: a refused transfer would spend the key */
        x->refusal = PB_ERR_INSUFFICIENT_FUNDS;
        return PB_OK;
    }
    e = pb_ledger_tx_submit(tx, &x->t, 1); /* a key used before: replayed or a conflict */
    if (e != PB_OK || x->t.result != PB_OK || x->t.replayed)
        return e == PB_ERR_INTERNAL ? e : PB_OK;
    if (settle_balance_now(tx, x, &x->after) != PB_OK)
        return PB_ERR_INTERNAL;
    char tid[PB_ID_STR_LEN + 1];
    pb_id_to_string(&x->t.record.id, tid);
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "funds.unclaimed_settled", &en);
    en.brand = x->brand;
    en.target_kind = "brand";
    en.target_id = x->brand;
    en.before = pb_admin_json_text(x->req, settle_balance_json(x, x->before));
    json_t *after = settle_balance_json(x, x->after);
    if (after &&
        (json_object_set_new(after, "transfer_id", json_string(tid)) != 0 ||
         json_object_set_new(after, "destination", json_string(x->destination)) != 0 ||
         json_object_set_new(after, "reference",
                             x->reference ? json_string(x->reference) : json_null()) != 0 ||
         json_object_set_new(after, "amount", pb_admin_amount_json(x->amount, x->currency)) != 0)) {
        json_decref(after);
        after = NULL;
    }
    en.after = pb_admin_json_text(x->req, after);
    en.reason = x->reason;
    if (!en.before || !en.after)
        return PB_ERR_INTERNAL;
    if ((e = pb_audit_append(c, &en, pb_ledger_tx_now(tx))) != PB_OK)
        return PB_ERR_INTERNAL;
    /* @backoffice: funds.unclaimed_settled, in the command's transaction with the money */
    if (pb_events_emit(c, "funds.unclaimed_settled", x->brand, x->p->subject_public_id,
                       pb_http_trace_id(x->req), pb_ledger_tx_now(tx),
                       PB_EV_STR("transfer_id", tid), PB_EV_STR("destination", x->destination),
                       PB_EV_STR("reference", x->reference ? x->reference : ""),
                       PB_EV_STR("staff_id", x->p->subject_public_id),
                       PB_EV_MONEY("amount", x->amount, x->currency),
                       PB_EV_MONEY("balance", x->after, x->currency)) != PB_OK)
        return PB_ERR_INTERNAL;
    return PB_OK;
}

/* 1..max printable ASCII characters (no spaces at either end for a reference). */
static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

void pb_api_admin_unclaimed_settle(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    settle_ctx *x = pb_http_alloc(req, sizeof *x);
    if (!x) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    memset(x, 0, sizeof *x);
    x->req = req;
    x->p = pb_api_principal(req);
    const char *amount_s = NULL;
    pb_json_field f[] = {
        {.name = "brand",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_BRAND_CODE_MAX,
         .str = &x->brand},
        {.name = "currency",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 7,
         .str = &x->currency},
        {.name = "amount",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 40,
         .str = &amount_s},
        {.name = "destination",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 8,
         .str = &x->destination},
        {.name = "reference", .type = PB_JSON_STRING, .max_len = 128, .str = &x->reference},
        {.name = "reason",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 500,
         .str = &x->reason},
        {.name = "idempotency_key",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 100,
         .str = &x->key},
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]))
        return;
    bool remitted = strcmp(x->destination, "remitted") == 0;
    if (!remitted && strcmp(x->destination, "house") != 0) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "destination",
                                "destination: remitted or house");
        return;
    }
    if (x->reference && !x->reference[0])
        x->reference = NULL; /* "" is no reference */
    if (remitted && !x->reference) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "reference",
                                "reference: required for a remittance (the authority's or the "
                                "remittance's reference)");
        return;
    }
    if (x->reference && (!printable(x->reference) || x->reference[0] == ' ' ||
                         x->reference[strlen(x->reference) - 1] == ' ')) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "reference",
                                "reference: 1..128 printable ASCII characters, no spaces at "
                                "either end");
        return;
    }
    x->cur = pb_currency_find(x->currency);
    if (!x->cur) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "currency",
                                "currency: not a supported currency");
        return;
    }
    if (pb_money_parse(amount_s, strlen(amount_s), x->cur, &x->amount) != PB_MONEY_OK ||
        x->amount <= 0) {
        pb_http_reply_error(req, PB_ERR_AMOUNT_INVALID, "amount");
        return;
    }
    if (!pb_admin_reason_ok(req, x->p, "funds.unclaimed_settled", x->reason))
        return;
    if (!pb_admin_key_ok(req, x->key))
        return;
    pb_store_conn *c = pb_http_conn(req);
    pb_brand *b = pb_http_alloc(req, sizeof *b);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !b ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK) /* out of scope or unknown: BRAND_FORBIDDEN, as the list answers */
        e = pb_admin_brand_in_scope(c, x->p, x->brand, b);
    if (e != PB_OK) {
        pb_admin_fail(req, e, e == PB_ERR_BRAND_FORBIDDEN ? "brand" : NULL);
        return;
    }
    pb_transfer *t = &x->t;
    snprintf(t->scope, sizeof t->scope, "unclaimed:%s", x->brand);
    snprintf(t->key, sizeof t->key, "%s", x->key);
    pb_ledger_record rec;
    e = pb_ledger_transfer_by_key(c, t->scope, t->key, &rec);
    bool fresh = e == PB_ERR_TRANSFER_NOT_FOUND;
    e = fresh || e == PB_OK ? PB_OK : PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = pb_wallet_system_account_find(a->wallet, c, x->brand, PB_WALLET_OWNER_HOUSE,
                                          PB_WALLET_KIND_UNCLAIMED, x->currency, &x->unclaimed);
    if (e == PB_OK && !x->unclaimed) /* no account in the currency: a balance of 0 */
        e = fresh ? PB_ERR_INSUFFICIENT_FUNDS : PB_ERR_IDEMPOTENCY_CONFLICT;
    if (e == PB_OK && fresh) { /* no destination account is created for a refusal */
        pb_ledger_account acc;
        e = pb_ledger_account_get(c, x->unclaimed, &acc);
        if (e == PB_OK && x->amount > acc.credits_posted - acc.debits_posted - acc.debits_pending)
            e = PB_ERR_INSUFFICIENT_FUNDS;
        else if (e != PB_OK)
            e = PB_ERR_INTERNAL;
    }
    int64_t dest = 0;
    if (e == PB_OK)
        e = pb_wallet_system_account(a->wallet, c, x->brand, PB_WALLET_OWNER_HOUSE,
                                     remitted ? PB_WALLET_KIND_REMITTED : PB_WALLET_KIND_HOUSE,
                                     x->currency, &dest);
    if (e != PB_OK) {
        pb_admin_fail(req, e,
                      e == PB_ERR_INSUFFICIENT_FUNDS     ? "amount"
                      : e == PB_ERR_IDEMPOTENCY_CONFLICT ? "idempotency_key"
                                                         : NULL);
        return;
    }
    t->debit_account_id = x->unclaimed;
    t->credit_account_id = dest;
    t->amount = x->amount;
    snprintf(t->currency, sizeof t->currency, "%s", x->currency);
    t->code = PB_CODE_UNCLAIMED_SETTLEMENT;
    if (x->reference) { /* the full reference is the audit entry's; the ledger compares its hash */
        uint8_t h[PB_SHA256_LEN];
        pb_sha256(x->reference, strlen(x->reference), h);
        for (size_t i = 0; i < PB_SHA256_LEN && 2 * i + 2 < sizeof t->reference; i++)
            snprintf(t->reference + 2 * i, 3, "%02x", h[i]);
    }
    snprintf(t->trace_id, sizeof t->trace_id, "%s", pb_http_trace_id(req));
    e = pb_ledger_command(a->ledger, settle_command, x);
    if (e == PB_OK && x->refusal != PB_OK)
        e = x->refusal;
    else if (e == PB_OK && t->result != PB_OK)
        e = t->result;
    if (e != PB_OK) {
        if (e == PB_ERR_INTERNAL)
            pb_log(PB_LOG_ERROR, "unclaimed.settle", "failed (trace %s)", pb_http_trace_id(req));
        pb_admin_fail(req, e,
                      e == PB_ERR_INSUFFICIENT_FUNDS     ? "amount"
                      : e == PB_ERR_IDEMPOTENCY_CONFLICT ? "idempotency_key"
                                                         : NULL);
        return;
    }
    char tid[PB_ID_STR_LEN + 1];
    pb_id_to_string(&t->record.id, tid);
    /* a replay answers the original settlement, with the balance as it stands now */
    pb_http_reply_json(
        req, t->replayed ? 200 : 201,
        json_pack("{s:s,s:s,s:s,s:o*,s:s,s:s?,s:o*,s:o,s:b}", "transfer_id", tid, "brand", x->brand,
                  "currency", x->currency, "amount", pb_admin_amount_json(x->amount, x->currency),
                  "destination", x->destination, "reference", x->reference, "unclaimed_balance",
                  pb_admin_amount_json(t->replayed ? x->before : x->after, x->currency), "time",
                  pb_admin_time_json(t->record.created_at), "replayed", t->replayed));
}
