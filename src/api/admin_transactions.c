/*
 * admin_transactions.c — the transactions explorer (issue 7): every movement
 * of players' money across the caller's brand scope, newest first.
 *
 *   GET /v1/admin/transactions          finance.read                   a page (JSON)
 *   GET /v1/admin/transactions/export   finance.read + reports.export  every row (CSV),
 *                                                                     audited
 *
 * A movement is one player side of a ledger transfer (a transfer between two
 * player accounts, a bonus conversion, has two). Its kind comes from the
 * transfer's code and flags, like the wallet history's type: deposit (code 1),
 * withdrawal_hold (2, pending), withdrawal_release (2, void of the hold, or its
 * expiry), withdrawal (2, the hold posted, or single-phase), bet (10), win
 * (11), rollback (12), bonus (20 grant, 21 convert, 22 forfeit), adjustment
 * (30), other (anything else). direction is the player's: credit = money in; a
 * release gives the held money back, so it is a credit.
 *
 * The walk (store_backoffice.h): without `player`, ledger_transfer newest
 * first by its primary key, both accounts joined by primary key, the filters
 * applied on the way; `from`/`to` first become a seq range (a binary search),
 * so a time window reads only its own transfers. With `player`, the player's
 * own account chains (no scan). Filters that match rarely (a small brand, a
 * rare kind, an amount range) read the whole window: give `from` (or `player`)
 * to bound them. The cursor is a keyset on (seq, side): stable under inserts
 * (new transfers have higher seqs).
 *
 * The export takes the same filters, writes RFC 4180 CSV with a header row (a
 * cell that starts with = + - @ gets a leading ' against formula injection),
 * stops at 100,000 rows with a last line saying so, and appends the audit
 * entry transactions.exported (the filters and the row count) before replying.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "core/log.h"
#include "core/money.h"
#include "core/time.h"
#include "ledger/ledger.h"
#include "wallet/wallet.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200
#define EXPORT_MAX 100000
#define ACCOUNTS_MAX (2 * (PB_BRAND_CURRENCIES_MAX + 1))
#define EMAILS_MAX 4096

static const char *const KIND_NAMES[] = {"deposit",    "withdrawal", "withdrawal_hold",
                                         "withdrawal_release", "bet", "win", "rollback",
                                         "adjustment", "bonus", "other"};

/* The explorer's kind of a transfer. */
static const char *kind_of(uint32_t code, uint32_t flags)
{
    switch (code) {
    case PB_CODE_DEPOSIT:
        return "deposit";
    case PB_CODE_WITHDRAWAL:
        return flags & PB_TRANSFER_PENDING        ? "withdrawal_hold"
               : flags & PB_TRANSFER_VOID_PENDING ? "withdrawal_release"
                                                  : "withdrawal";
    case PB_CODE_BET:
        return "bet";
    case PB_CODE_WIN:
        return "win";
    case PB_CODE_ROLLBACK:
        return "rollback";
    case PB_CODE_ADJUSTMENT:
        return "adjustment";
    case PB_CODE_BONUS_GRANT:
    case PB_CODE_BONUS_CONVERT:
    case PB_CODE_BONUS_FORFEIT:
        return "bonus";
    default:
        return "other";
    }
}

/* Player id → the email as this caller may see it (a small hash cache). */
typedef struct emails {
    size_t n;
    struct email_ent {
        char id[PB_BO_PLAYER_MAX + 1];
        char email[PB_EMAIL_MAX + 8];
    } *e; /* EMAILS_MAX * 2 slots */
} emails;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The explorer's query, its parsed filters and what it collects. */
typedef struct query {
    const pb_principal *p;
    pb_store_conn *c;
    bool pii;
    const char *brand, *player, *currency, *kind;
    const char *min_s, *max_s, *cursor_s;
    int64_t from, to, min, max, cursor_key; /* cursor_key: rows with key < it (0: none) */
    size_t limit;
    pb_store_brand *brands; /* the brands in view */
    size_t nbrands;
    /* collecting */
    size_t rows;
    int64_t last_key;
    bool more, cut, failed;
    json_t *list;          /* JSON page */
    pb_http_buf *csv;      /* export */
    emails mail;
} query;

static const char *email_of(query *q, const char *player)
{
    if (!q->mail.e) {
        q->mail.e = calloc(EMAILS_MAX * 2, sizeof *q->mail.e);
        if (!q->mail.e)
            return "";
    }
    if (q->mail.n == EMAILS_MAX) {
        memset(q->mail.e, 0, EMAILS_MAX * 2 * sizeof *q->mail.e);
        q->mail.n = 0;
    }
    size_t j = hash_str(player) & (EMAILS_MAX * 2 - 1);
    while (q->mail.e[j].id[0] && strcmp(q->mail.e[j].id, player) != 0)
        j = (j + 1) & (EMAILS_MAX * 2 - 1);
    struct email_ent *en = &q->mail.e[j];
    if (!en->id[0]) {
        snprintf(en->id, sizeof en->id, "%s", player);
        q->mail.n++;
        pb_player pl;
        if (pb_identity_player_get(q->c, NULL, player, &pl) == PB_OK) {
            const char *at = strchr(pl.email, '@');
            if (q->pii)
                snprintf(en->email, sizeof en->email, "%s", pl.email);
            else
                snprintf(en->email, sizeof en->email, "%.1s***%s", pl.email, at ? at : "");
        }
    }
    return en->email;
}

static bool brand_in_view(const query *q, const char *code)
{
    for (size_t i = 0; i < q->nbrands; i++)
        if (strcmp(q->brands[i].code, code) == 0)
            return true;
    return false;
}

/* The row's key: newest first is (seq, credit side first) descending. */
static int64_t key_of(const pb_store_bo_tx *x)
{
    return x->seq * 2 + (x->credit ? 1 : 0);
}

/* True when the side passes every filter. */
static bool matches(const query *q, const pb_store_bo_tx *x, const char *kind)
{
    if (q->cursor_key && key_of(x) >= q->cursor_key)
        return false;
    if (!brand_in_view(q, x->brand))
        return false;
    if (q->player && strcmp(x->owner + strlen(PB_WALLET_OWNER_PLAYER), q->player) != 0)
        return false;
    if (q->currency && strcmp(x->currency, q->currency) != 0)
        return false;
    if (q->kind && strcmp(kind, q->kind) != 0)
        return false;
    if ((q->from && x->created_at < q->from) || (q->to && x->created_at >= q->to))
        return false;
    if ((q->min_s && x->amount < q->min) || (q->max_s && x->amount > q->max))
        return false;
    return true;
}

/* ---- output ---- */

typedef struct view {
    char id[PB_ID_STR_LEN + 1];
    char time[40];
    const char *player, *email, *kind, *direction, *balance;
    char amount[PB_MONEY_STR_MAX];
} view;

static bool view_of(query *q, const pb_store_bo_tx *x, const char *kind, view *v)
{
    pb_id_to_string(&x->id, v->id);
    if (pb_time_format(x->created_at, v->time, sizeof v->time) < 0)
        return false;
    v->player = x->owner + strlen(PB_WALLET_OWNER_PLAYER);
    v->email = email_of(q, v->player);
    v->kind = kind;
    bool in = x->credit;
    if (x->flags & PB_TRANSFER_VOID_PENDING)
        in = !in; /* a release gives the held money back */
    v->direction = in ? "credit" : "debit";
    v->balance = strcmp(x->kind, "player_bonus") == 0 ? "bonus" : "cash";
    const pb_currency *cur = pb_currency_find(x->currency);
    return cur && pb_money_format(x->amount, cur, v->amount, sizeof v->amount) >= 0;
}

static json_t *row_json(const pb_store_bo_tx *x, const view *v)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "id", v->id, "time",
                     v->time, "brand", x->brand, "player_id", v->player, "player_email", v->email,
                     "kind", v->kind, "direction", v->direction, "amount", v->amount, "currency",
                     x->currency, "balance", v->balance, "reference", x->reference, "provider",
                     x->provider[0] ? json_string(x->provider) : json_null(), "game",
                     x->game[0] ? json_string(x->game) : json_null());
}

/* One CSV cell: quoted when needed (RFC 4180), a leading ' before = + - @. */
static void csv_cell(pb_http_buf *b, const char *s, bool last)
{
    bool guard = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
    bool quote = guard || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        pb_http_buf_puts(b, "\"");
    if (guard)
        pb_http_buf_puts(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            pb_http_buf_puts(b, "\"\"");
        else
            pb_http_buf_append(b, p, 1);
    }
    if (quote)
        pb_http_buf_puts(b, "\"");
    pb_http_buf_puts(b, last ? "\r\n" : ",");
}

static const char CSV_HEADER[] = "id,time,brand,player_id,player_email,kind,direction,amount,"
                                 "currency,balance,reference,provider,game\r\n";

static void csv_row(pb_http_buf *b, const pb_store_bo_tx *x, const view *v)
{
    const char *cells[] = {v->id,        v->time,      x->brand,     v->player, v->email,
                           v->kind,      v->direction, v->amount,    x->currency, v->balance,
                           x->reference, x->provider,  x->game};
    size_t n = sizeof cells / sizeof cells[0];
    for (size_t i = 0; i < n; i++)
        csv_cell(b, cells[i], i + 1 == n);
}

/* The walk's callback: filters each side, collects it, stops when done. */
static int on_tx(void *ctx, const pb_store_bo_tx *sides, size_t n)
{
    query *q = ctx;
    for (size_t i = 0; i < n; i++) {
        const pb_store_bo_tx *x = &sides[i];
        const char *kind = kind_of(x->code, x->flags);
        if (!matches(q, x, kind))
            continue;
        if (q->rows == q->limit) {
            if (q->csv)
                q->cut = true;
            else
                q->more = true;
            return 1;
        }
        view v;
        if (!view_of(q, x, kind, &v)) {
            q->failed = true;
            return 1;
        }
        if (q->csv)
            csv_row(q->csv, x, &v);
        else if (json_array_append_new(q->list, row_json(x, &v)) != 0) {
            q->failed = true;
            return 1;
        }
        q->rows++;
        q->last_key = key_of(x);
    }
    return 0;
}

/* ---- parsing ---- */

static bool bad(pb_http_request *req, const char *field, const char *msg)
{
    pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, field, msg);
    return false;
}

/* A decimal amount filter in q->currency. */
static bool parse_amount(pb_http_request *req, const char *name, const char *s,
                         const pb_currency *cur, int64_t *out)
{
    if (!s)
        return true;
    if (!cur)
        return bad(req, name, "an amount filter needs currency");
    if (pb_money_parse(s, strlen(s), cur, out) != PB_MONEY_OK || *out < 0)
        return bad(req, name, "must be a decimal amount in the currency");
    return true;
}

static bool parse(pb_http_request *req, query *q, bool page)
{
    int64_t limit = PAGE_DEFAULT;
    if (!pb_admin_query_str(req, "brand", PB_BRAND_CODE_MAX, &q->brand) ||
        !pb_admin_query_str(req, "player", PB_ID_STR_LEN, &q->player) ||
        !pb_admin_query_str(req, "currency", PB_BO_CURRENCY_MAX, &q->currency) ||
        !pb_admin_query_str(req, "kind", 32, &q->kind) ||
        !pb_admin_query_str(req, "min_amount", PB_MONEY_STR_MAX, &q->min_s) ||
        !pb_admin_query_str(req, "max_amount", PB_MONEY_STR_MAX, &q->max_s) ||
        !pb_admin_query_time(req, "from", &q->from) || !pb_admin_query_time(req, "to", &q->to) ||
        !pb_admin_query_range(req, q->from, q->to, "to"))
        return false;
    if (page && (!pb_admin_query_int(req, "cursor", 1, INT64_MAX, &q->cursor_key) ||
                 !pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit)))
        return false;
    q->limit = page ? (size_t)limit : EXPORT_MAX;
    const pb_currency *cur = NULL;
    if (q->currency && !(cur = pb_currency_find(q->currency)))
        return bad(req, "currency", "query parameter currency is not a supported currency");
    if (q->kind) {
        bool known = false;
        for (size_t i = 0; i < sizeof KIND_NAMES / sizeof KIND_NAMES[0]; i++)
            known = known || strcmp(q->kind, KIND_NAMES[i]) == 0;
        if (!known)
            return bad(req, "kind", "query parameter kind is not a known kind");
    }
    if (!parse_amount(req, "min_amount", q->min_s, cur, &q->min) ||
        !parse_amount(req, "max_amount", q->max_s, cur, &q->max))
        return false;
    if (q->min_s && q->max_s && q->min > q->max)
        return bad(req, "max_amount", "max_amount is below min_amount");
    return true;
}

/* ---- the walk ---- */

/* The player's accounts (cash and bonus in every currency of their brand). */
static pb_err player_walk(query *q, pb_store_bo_walk *w)
{
    pb_player pl;
    pb_err e = pb_identity_player_get(q->c, &q->p->scope, q->player, &pl);
    if (e != PB_OK)
        return e;
    const pb_store_brand *b = NULL;
    for (size_t i = 0; i < q->nbrands; i++)
        if (q->brands[i].id == pl.brand_id)
            b = &q->brands[i];
    if (!b)
        return PB_OK; /* another brand than the one asked for: nothing */
    char owner[PB_LEDGER_OWNER_MAX + 1];
    snprintf(owner, sizeof owner, PB_WALLET_OWNER_PLAYER "%s", pl.public_id);
    int64_t ids[ACCOUNTS_MAX], starts[ACCOUNTS_MAX];
    size_t n = 0;
    const char *kinds[2] = {"player_cash", "player_bonus"};
    for (size_t ci = 0; ci <= b->ncurrencies; ci++) {
        const char *cur = ci < b->ncurrencies ? b->currencies[ci] : pl.currency;
        if (ci == b->ncurrencies) { /* the player's own currency, if the brand no longer lists it */
            bool listed = false;
            for (size_t k = 0; k < b->ncurrencies; k++)
                listed = listed || strcmp(b->currencies[k], cur) == 0;
            if (listed)
                break;
        }
        if (w->currency && strcmp(cur, w->currency) != 0)
            continue;
        for (int k = 0; k < 2; k++) {
            pb_ledger_account a;
            e = pb_ledger_account_find(q->c, b->code, owner, kinds[k], cur, &a);
            if (e == PB_ERR_ACCOUNT_NOT_FOUND)
                continue;
            if (e != PB_OK)
                return e;
            ids[n] = a.id;
            starts[n++] = a.last_seq;
        }
    }
    pb_store_rc rc = pb_store_bo_tx_walk_accounts(q->c, ids, starts, n, w->below_seq, on_tx, q);
    return rc == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
}

static pb_err run(pb_http_request *req, query *q)
{
    q->c = pb_http_conn(req);
    if (!q->c)
        return PB_ERR_STORE_UNAVAILABLE;
    q->p = pb_api_principal(req);
    q->pii = pb_rbac_allows(q->p->role, PB_PERM_PLAYERS_PII_READ);
    pb_err e = pb_api_bo_brands(q->c, q->p, q->brand, &q->brands, &q->nbrands);
    if (e != PB_OK)
        return e;
    if (pb_store_begin(q->c, PB_STORE_READ) != PB_STORE_OK)
        return PB_ERR_STORE_UNAVAILABLE;
    pb_store_bo_walk w = {.currency = q->currency};
    if (q->cursor_key)
        w.below_seq = q->cursor_key / 2 + 1; /* the cursor's own transfer may have a side left */
    pb_store_rc rc = PB_STORE_OK;
    if (q->to) {
        int64_t to_seq = 0;
        rc = pb_store_bo_seq_at(q->c, q->to, &to_seq);
        if (rc == PB_STORE_OK && (!w.below_seq || to_seq < w.below_seq))
            w.below_seq = to_seq > 0 ? to_seq : 1;
    }
    if (rc == PB_STORE_OK && q->from)
        rc = pb_store_bo_seq_at(q->c, q->from, &w.from_seq);
    if (rc != PB_STORE_OK)
        e = PB_ERR_INTERNAL;
    else if (w.below_seq == 1 || (w.from_seq && w.below_seq && w.from_seq >= w.below_seq))
        e = PB_OK; /* an empty window */
    else if (q->player)
        e = player_walk(q, &w);
    else
        e = pb_store_bo_tx_walk(q->c, &w, on_tx, q) == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
    pb_store_rollback(q->c);
    if (e == PB_OK && q->failed)
        e = PB_ERR_INTERNAL;
    return e;
}

static void query_free(query *q)
{
    free(q->brands);
    free(q->mail.e);
}

static void fail(pb_http_request *req, pb_err e)
{
    if (e == PB_ERR_INTERNAL)
        pb_log(PB_LOG_ERROR, "transactions.read", "failed (trace %s)", pb_http_trace_id(req));
    pb_admin_fail(req, e, e == PB_ERR_BRAND_FORBIDDEN ? "brand" : NULL);
}

void pb_api_admin_transactions(pb_http_request *req, void *app)
{
    (void)app;
    query q = {0};
    if (!parse(req, &q, true))
        return;
    q.list = json_array();
    pb_err e = q.list ? run(req, &q) : PB_ERR_INTERNAL;
    query_free(&q);
    if (e != PB_OK) {
        json_decref(q.list);
        fail(req, e);
        return;
    }
    char next[24];
    snprintf(next, sizeof next, "%lld", (long long)q.last_key);
    pb_http_reply_json(req, 200, json_pack("{s:o,s:o}", "transactions", q.list, "next_cursor",
                                           q.more ? json_string(next) : json_null()));
}

/* ---- the export ---- */

typedef struct export_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const query *q;
} export_ctx;

static pb_err export_audit(pb_store_conn *c, void *ctx, const char **bad_field)
{
    (void)bad_field;
    export_ctx *x = ctx;
    const query *q = x->q;
    json_t *filters = json_object();
    const char *names[] = {"brand", "player", "currency", "kind", "min_amount", "max_amount"};
    const char *vals[] = {q->brand, q->player, q->currency, q->kind, q->min_s, q->max_s};
    for (size_t i = 0; filters && i < sizeof names / sizeof names[0]; i++)
        if (vals[i])
            json_object_set_new(filters, names[i], json_string(vals[i]));
    if (filters && q->from)
        json_object_set_new(filters, "from", pb_admin_time_json(q->from));
    if (filters && q->to)
        json_object_set_new(filters, "to", pb_admin_time_json(q->to));
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "transactions.exported", &en);
    en.brand = q->brand;
    en.target_kind = "transactions";
    en.target_id = q->brand ? q->brand : "*";
    en.after = pb_admin_json_text(x->req, json_pack("{s:o,s:I,s:b}", "filters", filters, "rows",
                                                    (json_int_t)q->rows, "cut", q->cut));
    if (!en.after)
        return PB_ERR_INTERNAL;
    return pb_audit_append(c, &en, pb_time_now_us());
}

void pb_api_admin_transactions_export(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    if (!pb_rbac_allows(p->role, PB_PERM_REPORTS_EXPORT)) {
        pb_http_reply_error_msg(req, PB_ERR_FORBIDDEN, NULL, "the export needs reports.export");
        return;
    }
    query q = {0};
    if (!parse(req, &q, false))
        return;
    pb_http_buf csv = {0};
    pb_http_buf_puts(&csv, CSV_HEADER);
    q.csv = &csv;
    pb_err e = run(req, &q);
    if (e == PB_OK && q.cut) {
        char line[96];
        snprintf(line, sizeof line, "\"# cut: the export stops at %d rows\"\r\n", EXPORT_MAX);
        pb_http_buf_puts(&csv, line);
    }
    if (e == PB_OK && csv.failed)
        e = PB_ERR_INTERNAL;
    if (e == PB_OK) {
        export_ctx x = {.req = req, .p = p, .q = &q};
        e = pb_admin_write(req, export_audit, &x, NULL);
    }
    query_free(&q);
    if (e != PB_OK) {
        pb_http_buf_free(&csv);
        fail(req, e);
        return;
    }
    char day[40] = "", disp[160];
    if (pb_time_format(pb_time_now_us(), day, sizeof day) >= 10)
        day[10] = 0;
    snprintf(disp, sizeof disp, "attachment; filename=\"transactions-%s-%s.csv\"",
             q.brand ? q.brand : "all", day);
    pb_http_add_header(req, "Content-Disposition", disp);
    pb_http_reply_buf(req, 200, "text/csv; charset=utf-8", &csv);
    pb_http_buf_free(&csv);
}
