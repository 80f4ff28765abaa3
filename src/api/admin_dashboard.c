/*
 * admin_dashboard.c — the back office dashboard's snapshot (issue 7):
 *
 *   GET /v1/admin/dashboard?since=&brand=   reports.read
 *
 * One read transaction, so the figures and last_event_id are one consistent
 * cut: the outbox rows commit in the same transaction as the money they
 * describe, so a client that applies the events with a higher id to this
 * snapshot stays exact (docs/openapi.yaml names the events and how each one
 * changes the figures). For a member limited to some brands last_event_id is
 * the newest event of those brands, not the platform's (newest_event).
 *
 * Per brand of the caller's scope (or the one asked for) and per currency (the
 * brand's accepted ones, and any other seen), for "today" (since .. now) and
 * the last hour: deposits completed, withdrawals paid, accepted bets, wins
 * (amount > 0) and rollbacks (of a known bet), GGR = bets − wins − rollbacks,
 * distinct players with a bet; the withdrawals not final now; 60 one-minute
 * buckets of the last hour; the ids of the players active today and in the last
 * hour (capped at 20,000 each, then active_truncated). The figures come from
 * the authoritative tables (payments, withdrawals, wallet operations), never
 * from the outbox, which is pruned.
 *
 * Money is summed in int64 minor units with overflow checks and formatted with
 * the currency's exponent.
 *
 * The route needs reports.read, but the deposit.* and withdrawal.* events need
 * finance.read on the event stream: a caller without finance.read gets the
 * deposit, withdrawal and pending-withdrawal figures as null (windows, pending
 * and the per-minute buckets), so it is never shown figures it cannot follow
 * live. Bets, wins, rollbacks and GGR are for every caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "core/log.h"
#include "core/money.h"
#include "core/time.h"

#define WINDOW_MAX_US (48LL * 3600 * 1000000)
#define HOUR_US (3600LL * 1000000)
#define MINUTE_US (60LL * 1000000)
#define IDS_CAP 20000
#define ROWS_MAX 1024

/* A count and a sum that refuses to overflow. */
typedef struct tally {
    int64_t count, amount;
} tally;

static bool tally_add(tally *t, int64_t amount)
{
    t->count++;
    return !__builtin_add_overflow(t->amount, amount, &t->amount);
}

/* One slot of a pset (below). */
struct pent {
    char id[PB_BO_PLAYER_MAX + 1];
    int64_t last;
};

/* A set of player ids with the time of their last bet (open addressing). */
typedef struct pset {
    size_t n, cap;
    struct pent *e;
} pset;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static bool pset_put(pset *s, const char *id, int64_t at)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        struct pent *ne = calloc(ncap, sizeof *ne);
        if (!ne)
            return false;
        for (size_t i = 0; i < s->cap; i++)
            if (s->e[i].id[0]) {
                size_t j = hash_str(s->e[i].id) & (ncap - 1);
                while (ne[j].id[0])
                    j = (j + 1) & (ncap - 1);
                ne[j] = s->e[i];
            }
        free(s->e);
        s->e = ne;
        s->cap = ncap;
    }
    size_t j = hash_str(id) & (s->cap - 1);
    while (s->e[j].id[0] && strcmp(s->e[j].id, id) != 0)
        j = (j + 1) & (s->cap - 1);
    if (!s->e[j].id[0]) {
        snprintf(s->e[j].id, sizeof s->e[j].id, "%s", id);
        s->n++;
    }
    if (at > s->e[j].last)
        s->e[j].last = at;
    return true;
}

/* One window's figures. */
typedef struct window {
    tally deposits, withdrawals, bets, wins, rollbacks;
    pset active;
} window;

/* One row of the answer: a brand and a currency. */
typedef struct row {
    char brand[PB_BRAND_CODE_MAX + 1];
    char currency[PB_BO_CURRENCY_MAX + 1];
    window today, hour;
    tally pending;
    struct {
        int64_t bets, wins, rollbacks, bet_count, win_count, rollback_count;
        tally deposits, withdrawals;
    } minutes[60];
} row;

typedef struct snap {
    row *rows;
    size_t n, cap;
    int64_t now, since, hour_from, minute0; /* minute0: the start of the oldest bucket */
    bool overflow;
    const char *brand; /* the brand being scanned */
} snap;

static row *row_of(snap *s, const char *brand, const char *currency)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->rows[i].brand, brand) == 0 && strcmp(s->rows[i].currency, currency) == 0)
            return &s->rows[i];
    if (s->n == s->cap) { /* grows: no pointer to a row is kept across calls */
        size_t cap = s->cap ? s->cap * 2 : 8;
        row *nr = cap <= ROWS_MAX ? realloc(s->rows, cap * sizeof *nr) : NULL;
        if (!nr)
            return NULL;
        s->rows = nr;
        s->cap = cap;
    }
    row *r = &s->rows[s->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->brand, sizeof r->brand, "%s", brand);
    snprintf(r->currency, sizeof r->currency, "%s", currency);
    return r;
}

static void rows_free(snap *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->rows[i].today.active.e);
        free(s->rows[i].hour.active.e);
    }
    free(s->rows);
}

/* Adds one accepted game operation to its row (pb_store_bo_play_cb). */
static int on_play(void *ctx, const pb_store_bo_play *op)
{
    snap *s = ctx;
    row *r = row_of(s, s->brand, op->currency);
    if (!r) {
        s->overflow = true; /* no room (OOM, or beyond ROWS_MAX): a failure, not a cut */
        return 1;
    }
    window *w[2] = {op->created_at >= s->since ? &r->today : NULL,
                    op->created_at >= s->hour_from ? &r->hour : NULL};
    for (int i = 0; i < 2; i++) {
        if (!w[i])
            continue;
        tally *t = op->kind == 1 ? &w[i]->bets : op->kind == 2 ? &w[i]->wins : &w[i]->rollbacks;
        if (!tally_add(t, op->amount))
            s->overflow = true;
        if (op->kind == 1 && !pset_put(&w[i]->active, op->player, op->created_at))
            s->overflow = true; /* OOM: reported as a failure all the same */
    }
    if (op->created_at >= s->minute0) {
        int64_t m = (op->created_at - s->minute0) / MINUTE_US;
        if (m >= 0 && m < 60) {
            int64_t *v = op->kind == 1   ? &r->minutes[m].bets
                         : op->kind == 2 ? &r->minutes[m].wins
                                         : &r->minutes[m].rollbacks;
            if (__builtin_add_overflow(*v, op->amount, v))
                s->overflow = true;
            if (op->kind == 1)
                r->minutes[m].bet_count++;
            else if (op->kind == 2)
                r->minutes[m].win_count++;
            else
                r->minutes[m].rollback_count++;
        }
    }
    return s->overflow ? 1 : 0;
}

/* Adds the cashier sums of one figure to the rows of brand. */
static pb_err add_sums(pb_store_conn *c, snap *s, const char *brand, pb_store_bo_cashier_figure fig,
                       int64_t since, bool today)
{
    pb_store_bo_sum sums[PB_BRAND_CURRENCIES_MAX * 2];
    size_t n = 0;
    if (pb_store_bo_cashier_sums(c, fig, brand, since, sums, sizeof sums / sizeof sums[0], &n) !=
        PB_STORE_OK)
        return PB_ERR_INTERNAL;
    for (size_t i = 0; i < n; i++) {
        row *r = row_of(s, brand, sums[i].currency);
        if (!r)
            return PB_ERR_INTERNAL;
        window *w = today ? &r->today : &r->hour;
        tally *t = fig == PB_BO_DEPOSITS_COMPLETED ? &w->deposits
                   : fig == PB_BO_WITHDRAWALS_PAID ? &w->withdrawals
                                                   : &r->pending;
        t->count = sums[i].count;
        t->amount = sums[i].amount;
    }
    return PB_OK;
}

/* Deposits completed / withdrawals paid per one-minute bucket of the last hour. */
static pb_err add_minutes(pb_store_conn *c, snap *s, const char *brand, int fig)
{
    pb_store_bo_sum sums[PB_BRAND_CURRENCIES_MAX * 61];
    size_t n = 0;
    if (pb_store_bo_cashier_buckets(c, fig, brand, s->minute0, MINUTE_US, sums,
                                    sizeof sums / sizeof sums[0], &n) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    for (size_t i = 0; i < n; i++) {
        row *r = row_of(s, brand, sums[i].currency);
        if (!r)
            return PB_ERR_INTERNAL;
        if (sums[i].bucket < 0 || sums[i].bucket >= 60)
            continue; /* committed after the clock was read: not in a bucket yet */
        tally *t = fig == PB_BO_DEPOSITS_COMPLETED ? &r->minutes[sums[i].bucket].deposits
                                                   : &r->minutes[sums[i].bucket].withdrawals;
        t->count = sums[i].count;
        t->amount = sums[i].amount;
    }
    return PB_OK;
}

/* Every figure of one brand. */
static pb_err read_brand(pb_store_conn *c, snap *s, const pb_brand *b)
{
    for (size_t i = 0; i < b->ncurrencies; i++)
        if (!row_of(s, b->code, b->currencies[i]))
            return PB_ERR_INTERNAL;
    pb_err e = PB_OK;
    for (int today = 1; e == PB_OK && today >= 0; today--) {
        int64_t since = today ? s->since : s->hour_from;
        e = add_sums(c, s, b->code, PB_BO_DEPOSITS_COMPLETED, since, today);
        if (e == PB_OK)
            e = add_sums(c, s, b->code, PB_BO_WITHDRAWALS_PAID, since, today);
    }
    if (e == PB_OK)
        e = add_sums(c, s, b->code, PB_BO_WITHDRAWALS_OPEN, 0, true);
    for (int fig = PB_BO_DEPOSITS_COMPLETED; e == PB_OK && fig <= PB_BO_WITHDRAWALS_PAID; fig++)
        e = add_minutes(c, s, b->code, fig);
    s->brand = b->code;
    int64_t from = s->since < s->minute0 ? s->since : s->minute0;
    if (e == PB_OK && pb_store_bo_play_scan(c, b->code, from, on_play, s) != PB_STORE_OK)
        e = PB_ERR_INTERNAL;
    if (e == PB_OK && s->overflow)
        e = PB_ERR_OVERFLOW;
    return e;
}

/* ---- the reply ---- */

static json_t *money_json(int64_t minor, const char *currency)
{
    char buf[PB_MONEY_STR_MAX];
    const pb_currency *cur = pb_currency_find(currency);
    if (!cur || pb_money_format(minor, cur, buf, sizeof buf) < 0)
        return NULL;
    return json_string(buf);
}

static json_t *tally_json(const tally *t, const char *currency)
{
    return json_pack("{s:I,s:o}", "count", (json_int_t)t->count, "amount",
                     money_json(t->amount, currency));
}

/* bets − wins − rollbacks, or false on overflow. */
static bool ggr(int64_t bets, int64_t wins, int64_t rollbacks, int64_t *out)
{
    return !__builtin_sub_overflow(bets, wins, out) &&
           !__builtin_sub_overflow(*out, rollbacks, out);
}

/* A cashier tally, or null for a caller without finance.read. */
static json_t *cashier_json(const tally *t, const char *currency, bool finance)
{
    return finance ? tally_json(t, currency) : json_null();
}

static json_t *window_json(const window *w, const char *currency, bool finance)
{
    int64_t g;
    if (!ggr(w->bets.amount, w->wins.amount, w->rollbacks.amount, &g))
        return NULL;
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:I}", "deposits",
                     cashier_json(&w->deposits, currency, finance), "withdrawals",
                     cashier_json(&w->withdrawals, currency, finance), "bets",
                     tally_json(&w->bets, currency), "wins", tally_json(&w->wins, currency),
                     "rollbacks", tally_json(&w->rollbacks, currency), "ggr",
                     money_json(g, currency), "active_players", (json_int_t)w->active.n);
}

static json_t *time_json(int64_t us)
{
    char buf[40];
    return pb_time_format(us, buf, sizeof buf) < 0 ? NULL : json_string(buf);
}

static json_t *row_json(const row *r, int64_t minute0, bool finance, bool *truncated)
{
    json_t *mins = json_array();
    for (int m = 0; mins && m < 60; m++) {
        int64_t g;
        json_t *o = NULL;
        if (ggr(r->minutes[m].bets, r->minutes[m].wins, r->minutes[m].rollbacks, &g))
            o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:I}", "minute",
                          time_json(minute0 + m * MINUTE_US), "bets",
                          money_json(r->minutes[m].bets, r->currency), "wins",
                          money_json(r->minutes[m].wins, r->currency), "rollbacks",
                          money_json(r->minutes[m].rollbacks, r->currency), "ggr",
                          money_json(g, r->currency), "bet_count",
                          (json_int_t)r->minutes[m].bet_count, "win_count",
                          (json_int_t)r->minutes[m].win_count, "rollback_count",
                          (json_int_t)r->minutes[m].rollback_count);
        if (o &&
            (json_object_set_new(o, "deposits",
                                 cashier_json(&r->minutes[m].deposits, r->currency, finance)) !=
                 0 ||
             json_object_set_new(o, "withdrawals",
                                 cashier_json(&r->minutes[m].withdrawals, r->currency, finance)) !=
                 0)) {
            json_decref(o);
            o = NULL;
        }
        if (!o || json_array_append_new(mins, o) != 0) {
            json_decref(mins);
            mins = NULL;
        }
    }
    json_t *today_ids = json_array(), *hour = json_array();
    size_t k = 0;
    for (size_t i = 0; today_ids && i < r->today.active.cap; i++)
        if (r->today.active.e[i].id[0] && k++ < IDS_CAP &&
            json_array_append_new(today_ids, json_string(r->today.active.e[i].id)) != 0) {
            json_decref(today_ids);
            today_ids = NULL;
        }
    if (k > IDS_CAP)
        *truncated = true;
    k = 0;
    for (size_t i = 0; hour && i < r->hour.active.cap; i++)
        if (r->hour.active.e[i].id[0] && k++ < IDS_CAP &&
            json_array_append_new(hour, json_pack("{s:s,s:o}", "player_id", r->hour.active.e[i].id,
                                                  "last_bet_at",
                                                  time_json(r->hour.active.e[i].last))) != 0) {
            json_decref(hour);
            hour = NULL;
        }
    if (k > IDS_CAP)
        *truncated = true;
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "brand", r->brand, "currency",
                     r->currency, "today", window_json(&r->today, r->currency, finance),
                     "last_hour", window_json(&r->hour, r->currency, finance),
                     "pending_withdrawals", cashier_json(&r->pending, r->currency, finance),
                     "minutes", mins, "active_player_ids_today", today_ids, "active_last_hour",
                     hour, "active_truncated", *truncated);
}

static int row_cmp(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->brand, y->brand);
    return c ? c : strcmp(x->currency, y->currency);
}

/* ---- brands ---- */

pb_err pb_api_bo_brands(pb_store_conn *c, const pb_principal *p, const char *code, pb_brand **out,
                        size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = PB_SCOPE_MAX_BRANDS;
    pb_brand *bs = malloc(cap * sizeof *bs);
    if (!bs)
        return PB_ERR_INTERNAL;
    if (code) {
        /* unknown and out-of-scope brands get the same answer */
        pb_err e = pb_admin_brand_in_scope(c, p, code, &bs[0]);
        if (e != PB_OK) {
            free(bs);
            return e;
        }
        *out = bs;
        *n = 1;
        return PB_OK;
    }
    int64_t after = 0;
    for (;;) {
        if (*n == cap) {
            pb_brand *nb = realloc(bs, 2 * cap * sizeof *bs);
            if (!nb) {
                free(bs);
                return PB_ERR_INTERNAL;
            }
            bs = nb;
            cap *= 2;
        }
        size_t got = 0;
        pb_err e = pb_tenancy_brand_list(c, &p->scope, after, bs + *n, cap - *n, &got);
        if (e != PB_OK) {
            free(bs);
            return e;
        }
        if (got == 0)
            break;
        *n += got;
        after = bs[*n - 1].id;
    }
    *out = bs;
    return PB_OK;
}

/* ---- the handler ---- */

/* The snapshot's last_event_id: the newest outbox id for staff who see every
 * brand; for a member limited to some brands, the newest id of an event of the
 * brands in bs (their scope's, as the stream shows them only those): the
 * platform-wide newest id would tell them the whole platform's volume. Either
 * way every event the member's stream sends above it came after the cut. */
static pb_store_rc newest_event(pb_store_conn *c, const pb_principal *p, const pb_brand *bs,
                                size_t nb, int64_t *last)
{
    if (p->scope.all)
        return pb_store_event_newest(c, last);
    const char **codes = malloc((nb ? nb : 1) * sizeof *codes);
    if (!codes)
        return PB_STORE_ERROR;
    for (size_t i = 0; i < nb; i++)
        codes[i] = bs[i].code;
    pb_store_rc rc = pb_store_event_newest_of(c, codes, nb, last);
    free(codes);
    return rc;
}

static pb_err snapshot(pb_store_conn *c, const pb_principal *p, const char *brand, snap *s,
                       int64_t *last_event)
{
    pb_brand *bs = NULL;
    size_t nb = 0;
    pb_err e = pb_api_bo_brands(c, p, brand, &bs, &nb);
    if (e != PB_OK)
        return e;
    pb_store_rc rc = pb_store_begin(c, PB_STORE_READ);
    if (rc != PB_STORE_OK) {
        free(bs);
        return rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
    }
    /* the snapshot starts with the first read; the clock is read after it, so
     * everything in the cut happened before as_of */
    if (newest_event(c, p, bs, nb, last_event) != PB_STORE_OK)
        e = PB_ERR_INTERNAL;
    s->now = pb_time_now_us();
    s->hour_from = s->now - HOUR_US;
    s->minute0 = (s->now / MINUTE_US - 59) * MINUTE_US;
    for (size_t i = 0; e == PB_OK && i < nb; i++)
        e = read_brand(c, s, &bs[i]);
    pb_store_rollback(c);
    free(bs);
    return e;
}

void pb_api_admin_dashboard(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    int64_t since = 0;
    const char *brand = NULL;
    if (!pb_admin_query_time(req, "since", &since) ||
        !pb_admin_query_str(req, "brand", PB_BRAND_CODE_MAX, &brand))
        return;
    int64_t now = pb_time_now_us();
    if (since == 0 || since > now || since < now - WINDOW_MAX_US) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "since",
                                since == 0 ? "query parameter since is required"
                                           : "query parameter since must be within the last "
                                             "48 hours");
        return;
    }
    pb_store_conn *c = pb_http_conn(req);
    if (!c) {
        pb_http_reply_error(req, PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    snap s = {.since = since};
    int64_t last_event = 0;
    pb_err e = snapshot(c, p, brand, &s, &last_event);
    if (e != PB_OK) {
        if (e == PB_ERR_OVERFLOW || e == PB_ERR_INTERNAL)
            pb_log(PB_LOG_ERROR, "dashboard.read", "%s (trace %s)", pb_err_code(e),
                   pb_http_trace_id(req));
        rows_free(&s);
        pb_admin_fail(req, e == PB_ERR_OVERFLOW ? PB_ERR_INTERNAL : e,
                      e == PB_ERR_BRAND_FORBIDDEN ? "brand" : NULL);
        return;
    }
    qsort(s.rows, s.n, sizeof *s.rows, row_cmp);
    bool finance = pb_rbac_allows(p->role, PB_PERM_FINANCE_READ);
    json_t *rows = json_array();
    for (size_t i = 0; rows && i < s.n; i++) {
        bool truncated = false;
        if (json_array_append_new(rows, row_json(&s.rows[i], s.minute0, finance, &truncated)) !=
            0) {
            json_decref(rows);
            rows = NULL;
        }
    }
    pb_http_reply_json(req, 200,
                       rows ? json_pack("{s:o,s:o,s:I,s:o}", "as_of", time_json(s.now), "since",
                                        time_json(since), "last_event_id", (json_int_t)last_event,
                                        "rows", rows)
                            : NULL);
    rows_free(&s);
}
