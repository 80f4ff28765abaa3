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
 * rare kind, an amount range) would read the whole window, so one page — and
 * one chunk of an export — reads at most PITBOSS_EXPLORER_SCAN transfers
 * (default 50,000; a few tenths of a second): a page that reaches it ends there,
 * shorter than `limit` (even empty), with a next_cursor where the walk stopped.
 * Only a page without next_cursor is the last. So no request holds a read
 * transaction (which would pin the WAL against checkpoints) for a ledger's
 * length. The cursor is a keyset on (seq, side): stable under inserts (new
 * transfers have higher seqs).
 *
 * The export takes the same filters, writes RFC 4180 CSV with a header row (a
 * cell that starts with = + - @ gets a leading ' against formula injection),
 * stops at 100,000 rows with a last line saying so. It is audited twice:
 * transactions.export_started (the filters) before the first row leaves — no
 * record, no export — and transactions.exported (the filters, the rows sent,
 * whether it was cut or complete) once the stream has ended. The rows sent are
 * those of the chunks written to the connection in full: a chunk the client's
 * leaving or the shutdown cut short is not counted (its first rows may have
 * reached the client), so an incomplete export never claims every row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/admin.h"
#include "api/export_stream.h"
#include "core/log.h"
#include "core/money.h"
#include "core/time.h"
#include "ledger/ledger.h"
#include "wallet/wallet.h"

#define SCAN_DEFAULT 50000
#define PAGE_DEFAULT 50
#define PAGE_MAX 200
#define EXPORT_MAX 100000
#define ACCOUNTS_MAX (2 * (PB_BRAND_CURRENCIES_MAX + 1))
#define EMAILS_MAX 4096

static const char *const KIND_NAMES[] = {
    "deposit", "withdrawal", "withdrawal_hold", "withdrawal_release",
    "bet",     "win",        "rollback",        "adjustment",
    "bonus",   "other"};

/* The explorer's kind of a transfer. */
static const char *kind_of(uint32_t code, uint32_t flags)
{
    switch (code) {
    case PB_CODE_DEPOSIT: return "deposit";
    case PB_CODE_WITHDRAWAL:
        return flags & PB_TRANSFER_PENDING        ? "withdrawal_hold"
               : flags & PB_TRANSFER_VOID_PENDING ? "withdrawal_release"
                                                  : "withdrawal";
    case PB_CODE_BET: return "bet";
    case PB_CODE_WIN: return "win";
    case PB_CODE_ROLLBACK: return "rollback";
    case PB_CODE_ADJUSTMENT: return "adjustment";
    case PB_CODE_BONUS_GRANT:
    case PB_CODE_BONUS_CONVERT:
    case PB_CODE_BONUS_FORFEIT: return "bonus";
    default: return "other";
    }
}

/* One slot of the emails cache (below). */
struct email_ent {
    char id[PB_BO_PLAYER_MAX + 1];
    char email[PB_EMAIL_MAX + 8];
};

/* Player id → the email as this caller may see it (a small hash cache). */
typedef struct emails {
    size_t n;
    struct email_ent *e; /* EMAILS_MAX * 2 slots */
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
    pb_store_conn *c;
    bool pii;
    const char *brand, *player, *currency, *kind;
    const char *min_s, *max_s;
    int64_t from, to, min, max, cursor_key; /* cursor_key: rows with key < it (0: none) */
    size_t limit;
    pb_store_brand *brands; /* the brands in view */
    size_t nbrands;
    /* the walk's bounds, found once (prepare) */
    int64_t from_seq, to_seq, top_seq; /* 0: unbounded; top_seq: the export's fixed end */
    bool nothing;                      /* the player is of another brand than asked */
    size_t nacc;                       /* player: their accounts and newest seqs */
    int64_t acc_ids[ACCOUNTS_MAX], acc_starts[ACCOUNTS_MAX];
    /* collecting */
    size_t rows;
    int64_t last_key;
    bool more, failed;
    json_t *list;     /* JSON page */
    pb_http_buf *csv; /* export */
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
static int64_t key_of(const pb_store_bo_tx *x) { return x->seq * 2 + (x->credit ? 1 : 0); }

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
    const char *cells[] = {v->id,        v->time,      x->brand,  v->player,   v->email,
                           v->kind,      v->direction, v->amount, x->currency, v->balance,
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
            q->more = true; /* one more row matches: another page (or the export's cut) */
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

/* What the walk needs besides the filters, found once on the request's
 * connection: the brands in view, the player's accounts (their newest seqs
 * read through the ledger, which knows what it has not written back yet), the
 * time window as a seq range, and for the export the newest seq now (its rows
 * are fixed at the request: transfers are never changed, and a later one has
 * a higher seq). */
static pb_err prepare(pb_store_conn *c, const pb_principal *p, query *q, bool export)
{
    q->c = c;
    q->pii = pb_rbac_allows(p->role, PB_PERM_PLAYERS_PII_READ);
    pb_err e = pb_api_bo_brands(c, p, q->brand, &q->brands, &q->nbrands);
    if (e != PB_OK)
        return e;
    if (q->player) {
        pb_player pl;
        if ((e = pb_identity_player_get(c, &p->scope, q->player, &pl)) != PB_OK)
            return e;
        const pb_store_brand *b = NULL;
        for (size_t i = 0; i < q->nbrands; i++)
            if (q->brands[i].id == pl.brand_id)
                b = &q->brands[i];
        q->nothing = !b; /* of another brand than the one asked for */
        char owner[PB_LEDGER_OWNER_MAX + 1];
        snprintf(owner, sizeof owner, PB_WALLET_OWNER_PLAYER "%s", pl.public_id);
        const char *kinds[2] = {"player_cash", "player_bonus"};
        for (size_t ci = 0; b && ci <= b->ncurrencies; ci++) {
            const char *cur = ci < b->ncurrencies ? b->currencies[ci] : pl.currency;
            bool listed = false; /* the player's own currency, if the brand no longer lists it */
            for (size_t k = 0; ci == b->ncurrencies && k < b->ncurrencies; k++)
                listed = listed || strcmp(b->currencies[k], cur) == 0;
            if (listed || (q->currency && strcmp(cur, q->currency) != 0))
                continue;
            for (int k = 0; k < 2; k++) {
                pb_ledger_account a;
                e = pb_ledger_account_find(c, b->code, owner, kinds[k], cur, &a);
                if (e == PB_ERR_ACCOUNT_NOT_FOUND)
                    continue;
                if (e != PB_OK)
                    return e;
                q->acc_ids[q->nacc] = a.id;
                q->acc_starts[q->nacc++] = a.last_seq;
            }
        }
    }
    pb_store_rc rc = PB_STORE_OK;
    if (q->to)
        rc = pb_store_bo_seq_at(c, q->to, &q->to_seq);
    if (rc == PB_STORE_OK && q->from)
        rc = pb_store_bo_seq_at(c, q->from, &q->from_seq);
    if (rc == PB_STORE_OK && export)
        rc = pb_store_bo_seq_at(c, INT64_MAX, &q->top_seq); /* the newest + 1 */
    return rc == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
}

/* Transfers one walk may read (PITBOSS_EXPLORER_SCAN, 1..100,000,000; read once). */
static int64_t scan_budget(void)
{
    static _Atomic int64_t budget;
    int64_t b = budget;
    if (b == 0) {
        const char *v = getenv("PITBOSS_EXPLORER_SCAN");
        char *end = NULL;
        long long n = v && *v ? strtoll(v, &end, 10) : 0;
        b = end && !*end && n >= 1 && n <= 100000000 ? n : SCAN_DEFAULT;
        if (v && *v && b != n)
            pb_log(PB_LOG_WARN, "transactions.scan",
                   "PITBOSS_EXPLORER_SCAN=%s is not 1..100000000: using %d", v, SCAN_DEFAULT);
        budget = b;
    }
    return b;
}

/* One read transaction of the walk on q->c: up to q->limit rows after the
 * cursor, reading at most scan_budget() transfers (then q->more with the cursor
 * where it stopped). */
static pb_err walk_once(query *q)
{
    int64_t stopped = 0;
    pb_store_bo_walk w = {.currency = q->currency,
                          .from_seq = q->from_seq,
                          .max_read = scan_budget(),
                          .stopped_at = &stopped};
    /* the upper bounds: the cursor's transfer (it may have a side left), to, the export's end */
    const int64_t bounds[3] = {q->cursor_key ? q->cursor_key / 2 + 1 : 0,
                               q->to ? (q->to_seq > 0 ? q->to_seq : 1) : 0, q->top_seq};
    for (int i = 0; i < 3; i++)
        if (bounds[i] && (!w.below_seq || bounds[i] < w.below_seq))
            w.below_seq = bounds[i];
    if (q->nothing || w.below_seq == 1 || (w.from_seq && w.below_seq && w.from_seq >= w.below_seq))
        return PB_OK; /* an empty window */
    pb_store_rc rc = pb_store_begin(q->c, PB_STORE_READ);
    if (rc != PB_STORE_OK)
        return rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
    if (q->player)
        rc = pb_store_bo_tx_walk_accounts(q->c, q->acc_ids, q->acc_starts, q->nacc, w.below_seq,
                                          w.from_seq, on_tx, q);
    else
        rc = pb_store_bo_tx_walk(q->c, &w, on_tx, q);
    pb_store_rollback(q->c);
    if (rc != PB_STORE_OK || q->failed)
        return PB_ERR_INTERNAL;
    if (stopped > 0 && !q->more) { /* the budget ended it: every side of `stopped` was seen */
        q->more = true;
        q->last_key = stopped * 2;
    }
    return PB_OK;
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
    pb_store_conn *c = pb_http_conn(req);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !q.list ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK)
        e = prepare(c, pb_api_principal(req), &q, false);
    if (e == PB_OK)
        e = walk_once(&q);
    query_free(&q);
    if (e != PB_OK) {
        json_decref(q.list);
        fail(req, e);
        return;
    }
    char next[24];
    snprintf(next, sizeof next, "%lld", (long long)q.last_key);
    pb_http_reply_json(req, 200,
                       json_pack("{s:o,s:o}", "transactions", q.list, "next_cursor",
                                 q.more ? json_string(next) : json_null()));
}

/* ---- the export: a producer thread streams the CSV ----
 *
 * The handler checks everything that can fail with a 4xx (permission, filters,
 * brand, player) and finds the walk's bounds, then replies with a stream and
 * hands the rest to a thread with its own store connection. The thread walks
 * in chunks of EXPORT_CHUNK rows, each in its own short read transaction (the
 * rows are fixed by top_seq: a slow client never holds a snapshot open), and
 * writes each chunk into the stream, waiting for the client to drain it when
 * it is full (EXPORT_STALL_S without progress: given up). Then it appends the
 * audit entry transactions.exported (the started entry was written by the
 * handler before it replied) with the filters, the rows sent (whole chunks), whether
 * the export was cut at EXPORT_MAX and whether it was complete (a client that
 * went away is recorded too: it may have received rows). The stream, the
 * thread, the waits for the client and the shutdown's wait for running
 * exports are shared with the audit export (export_stream.c), and so is the
 * cap on exports running at once: the handler takes a place after its checks,
 * before the started entry (503 EXPORTS_BUSY otherwise, nothing recorded), and
 * the thread gives it back once its connection is closed, before the body ends. */

#define EXPORT_CHUNK 2000

typedef struct export_job {
    pb_store *store;
    pb_http_stream *s;
    query q;
    char brand[PB_BRAND_CODE_MAX + 1], player[PB_ID_STR_LEN + 1], currency[8], kind[32];
    char min_s[PB_MONEY_STR_MAX + 1], max_s[PB_MONEY_STR_MAX + 1];
    char actor[PB_ID_STR_LEN + 1], role[32], trace[PB_LEDGER_TRACE_MAX + 1], ip[64];
    bool has_ip;
} export_job;

/* Writes all of b into the stream (waiting for drains); false when the client
 * is gone (or stalled). Empties b. */
static bool export_flush(export_job *j, pb_http_buf *b)
{
    bool ok = !b->failed && pb_api_export_write(j->s, b->data, b->len);
    free(b->data);
    memset(b, 0, sizeof *b);
    return ok;
}

/* The export's filters as an object (what was asked for). */
static json_t *export_filters(const query *q)
{
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
    return filters;
}

/* Appends the audit entry `action` of the export (after: its state, stolen) in
 * its own write transaction on c, retried while the store is busy. */
static pb_err export_audit(pb_store_conn *c, const export_job *j, const char *action, json_t *after)
{
    const query *q = &j->q;
    char *text = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(after);
    pb_audit_entry en = {.actor_kind = "staff",
                         .actor_id = j->actor,
                         .role = j->role,
                         .action = action,
                         .brand = q->brand,
                         .target_kind = "transactions",
                         .target_id = q->brand ? q->brand : "*",
                         .after = text,
                         .trace_id = j->trace,
                         .ip = j->has_ip ? j->ip : NULL};
    pb_err e = text ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
    for (int attempt = 0; text && attempt < PB_ADMIN_TX_ATTEMPTS && e == PB_ERR_STORE_UNAVAILABLE;
         attempt++) {
        if (attempt) {
            struct timespec ts = {0, 2000000L << attempt};
            nanosleep(&ts, NULL);
        }
        pb_store_rc rc = pb_store_begin(c, PB_STORE_WRITE);
        if (rc != PB_STORE_OK) {
            e = rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
            continue;
        }
        e = pb_audit_append(c, &en, pb_time_now_us());
        rc = e == PB_OK ? pb_store_commit(c) : PB_STORE_ERROR;
        if (rc != PB_STORE_OK) {
            pb_store_rollback(c);
            if (e == PB_OK)
                e = rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
        }
    }
    if (e != PB_OK)
        pb_log(PB_LOG_ERROR, "transactions.export_audit", "audit entry %s failed: %s (trace %s)",
               action, pb_err_code(e), j->trace);
    free(text);
    return e;
}

static void export_main(void *arg)
{
    export_job *j = arg;
    query *q = &j->q;
    char err[160];
    q->c = pb_store_connect(j->store, err, sizeof err);
    size_t total = 0, delivered = 0; /* rows walked; rows in chunks written in full */
    bool cut = false, sent = q->c != NULL, done = false;
    pb_http_buf b = {0};
    if (!q->c)
        pb_log(PB_LOG_ERROR, "transactions.export", "no connection: %s (trace %s)", err, j->trace);
    while (sent && !done) {
        q->rows = 0;
        q->more = false;
        q->limit = EXPORT_MAX - total < EXPORT_CHUNK ? EXPORT_MAX - total : EXPORT_CHUNK;
        q->csv = &b;
        if (walk_once(q) != PB_OK) {
            pb_log(PB_LOG_ERROR, "transactions.export", "the walk failed (trace %s)", j->trace);
            free(b.data);
            memset(&b, 0, sizeof b);
            sent = false;
            break;
        }
        total += q->rows;
        cut = q->more && total == EXPORT_MAX;
        done = !q->more || cut;
        q->cursor_key = q->last_key;
        if (cut) {
            char line[96];
            snprintf(line, sizeof line, "\"# cut: the export stops at %d rows\"\r\n", EXPORT_MAX);
            pb_http_buf_puts(&b, line);
        }
        sent = export_flush(j, &b);
        if (sent)
            delivered = total;
    }
    if (q->c) {
        export_audit(q->c, j, "transactions.exported",
                     json_pack("{s:o,s:I,s:b,s:b}", "filters", export_filters(q), "rows",
                               (json_int_t)delivered, "cut", cut, "complete", sent && done));
        pb_store_disconnect(q->c);
    }
    pb_api_export_release();      /* before the body ends: its reader finds the place free */
    pb_http_stream_release(j->s); /* ends the body (a failure: cut short, no last line) */
    query_free(q);
    free(j);
}

/* Copies an optional parameter into the job and points the query at the copy. */
static const char *keep(char *dst, size_t cap, const char *src)
{
    if (!src)
        return NULL;
    snprintf(dst, cap, "%s", src);
    return dst;
}

void pb_api_admin_transactions_export(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    const pb_principal *p = pb_api_principal(req);
    if (!pb_rbac_allows(p->role, PB_PERM_REPORTS_EXPORT)) {
        pb_http_reply_error_msg(req, PB_ERR_FORBIDDEN, NULL, "the export needs reports.export");
        return;
    }
    export_job *j = calloc(1, sizeof *j);
    if (!j) {
        fail(req, PB_ERR_INTERNAL);
        return;
    }
    query *q = &j->q;
    if (!parse(req, q, false)) {
        free(j);
        return;
    }
    q->brand = keep(j->brand, sizeof j->brand, q->brand);
    q->player = keep(j->player, sizeof j->player, q->player);
    q->currency = keep(j->currency, sizeof j->currency, q->currency);
    q->kind = keep(j->kind, sizeof j->kind, q->kind);
    q->min_s = keep(j->min_s, sizeof j->min_s, q->min_s);
    q->max_s = keep(j->max_s, sizeof j->max_s, q->max_s);
    pb_store_conn *c = pb_http_conn(req);
    pb_err e = c ? prepare(c, p, q, true) : PB_ERR_STORE_UNAVAILABLE;
    if (e != PB_OK) {
        query_free(q);
        free(j);
        fail(req, e);
        return;
    }
    if (!pb_api_export_reserve(a->max_exports)) {
        query_free(q);
        free(j);
        pb_api_export_busy(req);
        return;
    }
    q->c = NULL; /* the request's connection goes back with the reply */
    j->store = a->store;
    snprintf(j->actor, sizeof j->actor, "%s", p->subject_public_id);
    snprintf(j->role, sizeof j->role, "%s", pb_role_name(p->role));
    snprintf(j->trace, sizeof j->trace, "%s", pb_http_trace_id(req));
    const char *ip = pb_http_client_ip(req);
    j->has_ip = ip && strcmp(ip, "-") != 0;
    snprintf(j->ip, sizeof j->ip, "%s", j->has_ip ? ip : "");
    /* no row leaves before the export is on record (the entry at the end adds what
     * was sent; a crash in between leaves this one) */
    e = export_audit(c, j, "transactions.export_started",
                     json_pack("{s:o}", "filters", export_filters(q)));
    if (e != PB_OK) {
        pb_api_export_release();
        query_free(q);
        free(j);
        fail(req, e);
        return;
    }
    char day[40] = "", disp[160];
    if (pb_time_format(pb_time_now_us(), day, sizeof day) >= 10)
        day[10] = 0;
    snprintf(disp, sizeof disp, "attachment; filename=\"transactions-%s-%s.csv\"",
             q->brand ? q->brand : "all", day);
    pb_http_add_header(req, "Content-Disposition", disp);
    j->s = pb_api_export_reply(req, "text/csv; charset=utf-8");
    if (!j->s) { /* a 500 was replied */
        pb_api_export_release();
        query_free(q);
        free(j);
        return;
    }
    pb_http_stream_write(j->s, CSV_HEADER, sizeof CSV_HEADER - 1);
    if (!pb_api_export_spawn(export_main, j)) {
        pb_log(PB_LOG_ERROR, "transactions.export", "no thread (trace %s)", j->trace);
        pb_api_export_release();
        pb_http_stream_release(j->s);
        query_free(q);
        free(j);
    }
}
