/*
 * admin_players.c — players as staff see them.
 *
 *   GET  /v1/admin/players                 players.read         search (filters, cursor pages)
 *   GET  /v1/admin/players/{id}            players.read         one player
 *   POST /v1/admin/players/{id}/block      players.block        {reason}: blocked, sessions end
 *   POST /v1/admin/players/{id}/unblock    players.block        {reason}: active again
 *   (the player's ledger accounts and transfers: admin_player_ledger.c)
 *
 * Every query is limited to the caller's brand scope; a player of another
 * brand is 404 PLAYER_NOT_FOUND, exactly like one that does not exist.
 * Personal data (email, names, date of birth) is shown in full only to roles
 * with players.pii.read; others see a masked email and names ("J***"), no date
 * of birth, may not search by email or name nor sort by email (403 FORBIDDEN:
 * the email order's cursor holds the last row's email), and their `q` matches an
 * exact player id only. Names and dates of birth are stored sealed
 * (identity/pii.c): one that does not open is null, logged once per request.
 *
 * The search sorts by created_at, email, last_login_at or balance (the cash
 * balance in `currency`, read from ledger_balance: the ledger writes those rows
 * back lazily, up to about a second late, which a filter and a sort accept),
 * ascending or descending, with a keyset cursor on (sort key, id) that names
 * its sort and order (a cursor of another sort is refused). The `balances` of
 * each row (players.ledger.read) are exact, from the ledger API.
 *
 * Block and unblock change the player and append the audit entry (before and
 * after status, the reason) in one write transaction. Blocking leaves the player's
 * game launches alone: a provider's bet is then refused as the player's
 * (PLAYER_BLOCKED; Hub88's RS_ERROR_USER_DISABLED), not as the token's; ending
 * them is POST …/launches/revoke (admin_player_more.c).
 *
 * A player's money lives in ledger accounts owned by "player:<public id>" in
 * the player's brand, kinds player_cash and player_bonus, one per currency the
 * brand accepts (and the player's own currency). Amounts are decimal strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "core/money.h"
#include "core/time.h"
#include "events/events.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200
static const char *const KINDS[] = {"player_cash", "player_bonus"};

/* A few brand id → code pairs, so a page of players costs one lookup per brand. */
typedef struct brand_cache {
    size_t n;
    int64_t ids[8];
    char codes[8][PB_BRAND_CODE_MAX + 1];
} brand_cache;

/* The code of brand `id` ("" when it cannot be read). */
static const char *brand_code(pb_store_conn *c, brand_cache *bc, int64_t id)
{
    for (size_t i = 0; i < bc->n; i++)
        if (bc->ids[i] == id)
            return bc->codes[i];
    size_t slot = bc->n < 8 ? bc->n++ : 7;
    bc->ids[slot] = id;
    if (pb_admin_brand_code(c, id, bc->codes[slot]) != PB_OK)
        bc->codes[slot][0] = '\0';
    return bc->codes[slot];
}

/* "a***@example.com": enough to recognise, not enough to contact. */
static void mask_email(const char *email, char *out, size_t cap)
{
    const char *at = strchr(email, '@');
    snprintf(out, cap, "%.1s***%s", email, at ? at : "");
}

/* "J***": the first character of a name, or null when there is none. */
static json_t *name_json(const char *name, bool pii)
{
    if (!name[0])
        return json_null();
    if (pii)
        return json_string(name);
    size_t n = 1;
    while (name[n] && ((unsigned char)name[n] & 0xC0) == 0x80)
        n++; /* the whole first UTF-8 character */
    char masked[8];
    snprintf(masked, sizeof masked, "%.*s***", (int)n, name);
    return json_string(masked);
}

json_t *pb_admin_login_locks_json(const pb_store_login_lock *locks, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *o = json_pack("{s:o,s:o}", "address",
                              locks[i].addr[0] ? json_string(locks[i].addr) : json_null(),
                              "locked_until", pb_admin_time_json(locks[i].locked_until));
        if (!o || json_array_append_new(a, o) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

pb_err pb_admin_unlock_audit(pb_store_conn *c, pb_http_request *req, const pb_principal *p,
                             const char *action, const char *brand, const char *target_kind,
                             const char *target_id, const char *reason, const pb_login_unlock *u,
                             int64_t now)
{
    pb_audit_entry en;
    pb_admin_entry(req, p, action, &en);
    en.brand = brand && brand[0] ? brand : NULL;
    en.target_kind = target_kind;
    en.target_id = target_id;
    en.before = pb_admin_json_text(req, json_pack("{s:I,s:o,s:I}", "failed_logins",
                                                  (json_int_t)u->failed_logins, "locked_until",
                                                  u->account_locked_until
                                                      ? pb_admin_time_json(u->account_locked_until)
                                                      : json_null(),
                                                  "address_locks", (json_int_t)u->address_locks));
    en.after = pb_admin_json_text(req, json_pack("{s:i,s:n,s:i}", "failed_logins", 0,
                                                 "locked_until", "address_locks", 0));
    en.reason = reason;
    if (!en.before || !en.after)
        return PB_ERR_INTERNAL;
    return pb_audit_append(c, &en, now);
}

void pb_admin_unlock_run(pb_http_request *req, pb_admin_tx_fn tx, void *ctx, const char *kind,
                         const char *public_id, const pb_login_unlock *u)
{
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, tx, ctx, &bad);
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:s,s:b,s:I}", kind, public_id, "account_lock_cleared",
                                 u->account_locked_until != 0, "address_locks_cleared",
                                 (json_int_t)u->address_locks));
}

json_t *pb_admin_player_json(const pb_player *pl, const char *brand, bool pii)
{
    char masked[PB_EMAIL_MAX + 8];
    mask_email(pl->email, masked, sizeof masked);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "id", pl->public_id,
                          "brand", brand, "email", pii ? pl->email : masked, "country", pl->country,
                          "currency", pl->currency, "status", pb_player_status_name(pl->status),
                          "block_reason",
                          pl->block_reason[0] ? json_string(pl->block_reason) : json_null(),
                          "locked_until", pb_admin_time_json(pl->locked_until), "last_login_at",
                          pb_admin_time_json(pl->last_login_at), "created_at",
                          pb_admin_time_json(pl->created_at), "updated_at",
                          pb_admin_time_json(pl->updated_at), "erased_at",
                          pb_admin_time_json(pl->erased_at));
    if (j && (json_object_set_new(j, "first_name", name_json(pl->first_name, pii)) != 0 ||
              json_object_set_new(j, "last_name", name_json(pl->last_name, pii)) != 0)) {
        json_decref(j);
        return NULL;
    }
    if (j && pii &&
        json_object_set_new(j, "date_of_birth",
                            pl->date_of_birth[0] ? json_string(pl->date_of_birth) : json_null()) !=
            0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The caller's right to personal data. */
static bool sees_pii(const pb_principal *p)
{
    return pb_rbac_allows(p->role, PB_PERM_PLAYERS_PII_READ);
}

/* ---- the search (backoffice-people): filters, sorting, keyset cursors, balances */

static const char *const SORTS[] = {"created_at", "email", "last_login_at", "balance"};

/* A parsed search: the store query and what the reply needs. */
typedef struct search {
    pb_store_player_find_query q;
    const char *brand, *sort_name, *order;
    const char *q_text, *name, *balance_min, *balance_max;
    int64_t limit;
    char lower[2][PB_EMAIL_MAX + 1];
    char cursor_key[PB_EMAIL_MAX + 1];
} search;

/* The cursor: the hex of "sort|order|id|key" (the key last: an email may hold '|'). */
static json_t *search_cursor_json(const search *s, const pb_store_player_hit *h)
{
    char raw[PB_EMAIL_MAX + 80];
    int len = s->q.sort == PB_STORE_SORT_EMAIL
                  ? snprintf(raw, sizeof raw, "%s|%s|%lld|%s", s->sort_name, s->order,
                             (long long)h->id, h->key_text)
                  : snprintf(raw, sizeof raw, "%s|%s|%lld|%lld", s->sort_name, s->order,
                             (long long)h->id, (long long)h->key_int);
    if (len < 0 || (size_t)len >= sizeof raw)
        return json_null();
    char hex[sizeof raw * 2 + 1];
    for (int i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)raw[i]);
    hex[2 * len] = 0;
    return json_string(hex);
}

/* Reads ?cursor into s->q; false when it is not a cursor of this sort and order. */
static bool search_cursor_parse(const char *v, search *s)
{
    char raw[PB_EMAIL_MAX + 80];
    size_t len = strlen(v);
    if (len == 0 || len % 2 || len / 2 >= sizeof raw || strspn(v, "0123456789abcdef") != len)
        return false;
    for (size_t i = 0; i < len / 2; i++) {
        unsigned x;
        if (sscanf(v + 2 * i, "%2x", &x) != 1 || x == 0)
            return false;
        raw[i] = (char)x;
    }
    raw[len / 2] = 0;
    char *f[4] = {raw, NULL, NULL, NULL};
    for (int i = 1; i < 4; i++) {
        char *sep = strchr(f[i - 1], '|');
        if (!sep)
            return false;
        *sep = 0;
        f[i] = sep + 1;
    }
    if (strcmp(f[0], s->sort_name) != 0 || strcmp(f[1], s->order) != 0)
        return false;
    char *end;
    long long id = strtoll(f[2], &end, 10);
    if (*end || id <= 0)
        return false;
    s->q.cursor_id = id;
    if (s->q.sort == PB_STORE_SORT_EMAIL) {
        if (strlen(f[3]) >= sizeof s->cursor_key)
            return false;
        snprintf(s->cursor_key, sizeof s->cursor_key, "%s", f[3]);
        s->q.cursor_text = s->cursor_key;
    } else {
        long long k = strtoll(f[3], &end, 10);
        if (*end || !f[3][0])
            return false;
        s->q.cursor_int = k;
    }
    s->q.has_cursor = true;
    return true;
}

/* A balance bound in s->q.currency; replies and returns false when malformed. */
static bool balance_bound(pb_http_request *req, const char *name, const char *v,
                          const pb_currency *cur, bool *has, int64_t *out)
{
    if (!v)
        return true;
    if (!cur) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, name,
                                "balance_min and balance_max need currency");
        return false;
    }
    if (pb_money_parse(v, strlen(v), cur, out) != PB_MONEY_OK) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, name,
                                "a decimal amount in the currency (\"12.50\")");
        return false;
    }
    *has = true;
    return true;
}

/* Reads the search parameters into s; replies and returns false on a bad one. */
static bool search_params(pb_http_request *req, const pb_principal *p, search *s)
{
    s->limit = PAGE_DEFAULT;
    const char *email = NULL, *cursor = NULL;
    pb_store_player_find_query *q = &s->q;
    if (!pb_admin_query_str(req, "q", PB_EMAIL_MAX, &s->q_text) ||
        !pb_admin_query_str(req, "email", PB_EMAIL_MAX, &email) ||
        !pb_admin_query_str(req, "name", 100 * 4, &s->name) ||
        !pb_admin_query_str(req, "country", 2, &q->country) ||
        !pb_admin_query_str(req, "status", PB_STATUS_MAX, &q->status) ||
        !pb_admin_query_str(req, "brand", PB_BRAND_CODE_MAX, &s->brand) ||
        !pb_admin_query_time(req, "registered_from", &q->created_from) ||
        !pb_admin_query_time(req, "registered_to", &q->created_to) ||
        !pb_admin_query_range(req, q->created_from, q->created_to, "registered_to") ||
        !pb_admin_query_str(req, "currency", 8, &q->currency) ||
        !pb_admin_query_str(req, "balance_min", 40, &s->balance_min) ||
        !pb_admin_query_str(req, "balance_max", 40, &s->balance_max) ||
        !pb_admin_query_str(req, "sort", 16, &s->sort_name) ||
        !pb_admin_query_str(req, "order", 4, &s->order) ||
        !pb_admin_query_str(req, "cursor", 2 * (PB_EMAIL_MAX + 80), &cursor) ||
        !pb_admin_query_int(req, "limit", 1, PAGE_MAX, &s->limit))
        return false;
    const char *bad = NULL, *why = NULL;
    const pb_currency *cur = q->currency ? pb_currency_find(q->currency) : NULL;
    s->sort_name = s->sort_name ? s->sort_name : "created_at";
    s->order = s->order ? s->order : "desc";
    size_t k = 0;
    while (k < sizeof SORTS / sizeof SORTS[0] && strcmp(SORTS[k], s->sort_name) != 0)
        k++;
    q->sort = (pb_store_player_sort)k;
    q->asc = strcmp(s->order, "asc") == 0;
    if (q->currency && !cur)
        bad = "currency", why = "query parameter currency is not a known currency";
    else if (k == sizeof SORTS / sizeof SORTS[0])
        bad = "sort", why = "query parameter sort: created_at, email, last_login_at or balance";
    else if (q->sort == PB_STORE_SORT_BALANCE && !cur)
        bad = "sort", why = "sort=balance needs currency";
    else if (!q->asc && strcmp(s->order, "desc") != 0)
        bad = "order", why = "query parameter order: asc or desc";
    if (bad) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, bad, why);
        return false;
    }
    if (!balance_bound(req, "balance_min", s->balance_min, cur, &q->has_min, &q->balance_min) ||
        !balance_bound(req, "balance_max", s->balance_max, cur, &q->has_max, &q->balance_max))
        return false;
    if (q->has_min && q->has_max && q->balance_min > q->balance_max) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "balance_max",
                                "balance_max must not be below balance_min");
        return false;
    }
    if (cursor && !search_cursor_parse(cursor, s)) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "cursor",
                                "query parameter cursor is not a cursor of this sort and order");
        return false;
    }
    if ((email || s->name) && !sees_pii(p)) {
        pb_http_reply_error_msg(req, PB_ERR_FORBIDDEN, email ? "email" : "name",
                                "searching by email or name needs players.pii.read");
        return false;
    }
    /* the email order's cursor carries the last row's email in the clear, and a
     * cursor made up by the caller would be a range probe of the addresses */
    if (q->sort == PB_STORE_SORT_EMAIL && !sees_pii(p)) {
        pb_http_reply_error_msg(req, PB_ERR_FORBIDDEN, "sort",
                                "sorting by email needs players.pii.read");
        return false;
    }
    q->email_prefix = email;
    q->name_prefix = s->name;
    if (s->q_text) {
        /* one box: an exact id; with players.pii.read also email / name prefixes. A
         * text shaped like an id is only an id, and one with '@' only an email: names
         * are sealed (each name tested opens a box), so they are tested only for a
         * text that could be the start of one */
        pb_id id;
        bool id_like = pb_id_parse(s->q_text, strlen(s->q_text), &id) == 0;
        bool at = strchr(s->q_text, '@') != NULL;
        q->q_id = at ? NULL : s->q_text;
        q->q_email = sees_pii(p) && !id_like ? s->q_text : NULL;
        q->q_name = sees_pii(p) && !id_like && !at ? s->q_text : NULL;
    }
    return true;
}

/* The player's cash and bonus balance per currency, exact from the ledger: the brand's
 * currencies and the player's own; a currency without accounts is left out. */
static json_t *balances_json(pb_store_conn *c, const pb_player *pl)
{
    pb_brand *b = malloc(sizeof *b);
    json_t *list = json_array();
    pb_ledger_account acc[PB_ADMIN_PLAYER_ACCOUNTS_MAX];
    size_t n = 0;
    bool ok = b && list && pb_tenancy_brand_get(c, pl->brand_id, b) == PB_OK &&
              pb_admin_player_accounts(c, b, pl, acc, &n) == PB_OK;
    for (size_t i = 0; ok && i < n;) { /* one line per currency: its cash and bonus */
        const char *cur = acc[i].currency;
        int64_t v[2] = {0, 0};
        for (; i < n && strcmp(acc[i].currency, cur) == 0; i++)
            v[strcmp(acc[i].kind, KINDS[0]) == 0 ? 0 : 1] = pb_ledger_available(&acc[i]);
        ok = json_array_append_new(list, json_pack("{s:s,s:o,s:o}", "currency", cur, "cash",
                                                   pb_admin_amount_json(v[0], cur), "bonus",
                                                   pb_admin_amount_json(v[1], cur))) == 0;
    }
    free(b);
    if (!ok) {
        json_decref(list);
        return NULL;
    }
    return list;
}

void pb_api_admin_players_list(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    search *s = pb_http_alloc(req, sizeof *s);
    if (!s) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    memset(s, 0, sizeof *s);
    if (!search_params(req, p, s))
        return;
    pb_store_conn *c = pb_http_conn(req);
    pb_store_player_hit *hits = calloc((size_t)s->limit + 1, sizeof *hits);
    pb_player *pl = malloc(sizeof *pl);
    pb_brand *b = malloc(sizeof *b);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !hits || !b || !pl ? PB_ERR_INTERNAL : PB_OK;
    const char *bad = NULL;
    if (e == PB_OK && s->brand) { /* unknown and out-of-scope brands look the same */
        e = pb_admin_brand_in_scope(c, p, s->brand, b);
        if (e == PB_ERR_BRAND_FORBIDDEN)
            bad = "brand";
        s->q.brand_id = e == PB_OK ? b->id : 0;
    }
    bool tx = e == PB_OK && pb_store_begin(c, PB_STORE_READ) == PB_STORE_OK; /* one snapshot */
    if (e == PB_OK && !tx)
        e = PB_ERR_STORE_UNAVAILABLE;
    size_t n = 0;
    if (e == PB_OK)
        e = pb_identity_player_find(c, &p->scope, &s->q, hits, (size_t)s->limit + 1, &n, s->lower,
                                    &bad);
    json_t *next = e == PB_OK && n > (size_t)s->limit ? search_cursor_json(s, &hits[s->limit - 1])
                                                      : json_null();
    if (n > (size_t)s->limit)
        n = (size_t)s->limit;
    json_t *list = e == PB_OK ? json_array() : NULL;
    brand_cache bc = {0};
    bool pii = sees_pii(p), ledger = pb_rbac_allows(p->role, PB_PERM_PLAYERS_LEDGER_READ);
    size_t unopened = 0;
    for (size_t i = 0; list && i < n; i++) {
        e = pb_identity_player_get_pii(c, &p->scope, hits[i].public_id, pl);
        unopened += e == PB_OK && pl->pii_unavailable;
        json_t *j = e == PB_OK ? pb_admin_player_json(pl, brand_code(c, &bc, pl->brand_id), pii)
                               : NULL;
        if (j && ledger) {
            json_t *bal = balances_json(c, pl);
            if (!bal || json_object_set_new(j, "balances", bal) != 0) {
                json_decref(j);
                j = NULL;
            }
        }
        if (!j || json_array_append_new(list, j) != 0) {
            json_decref(list);
            list = NULL;
            if (e == PB_OK)
                e = PB_ERR_INTERNAL;
        }
    }
    if (tx)
        pb_store_rollback(c);
    if (unopened)
        pb_identity_pii_log_unavailable(pb_http_trace_id(req), unopened);
    free(hits);
    free(pl);
    free(b);
    if (e != PB_OK) {
        json_decref(next);
        json_decref(list);
        pb_admin_fail(req, e, bad);
        return;
    }
    pb_http_reply_json(req, 200,
                       list ? json_pack("{s:o,s:o}", "players", list, "next_cursor", next) : NULL);
}

void pb_api_admin_player_get(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    pb_store_conn *c = pb_http_conn(req);
    pb_player pl;
    pb_err e = c ? PB_OK : PB_ERR_STORE_UNAVAILABLE;
    bool tx = e == PB_OK && pb_store_begin(c, PB_STORE_READ) == PB_STORE_OK; /* one snapshot */
    if (e == PB_OK && !tx)
        e = PB_ERR_STORE_UNAVAILABLE;
    if (e == PB_OK)
        e = pb_identity_player_get_pii(c, &p->scope, pb_http_param(req, "id"), &pl);
    pb_store_login_lock locks[PB_LOGIN_LOCKS_SHOWN];
    size_t nlocks = 0;
    if (e == PB_OK)
        e = pb_identity_login_locks(c, PB_SUBJECT_PLAYER, pl.id, pb_time_now_us(), locks, &nlocks);
    json_t *j = NULL;
    brand_cache bc = {0};
    if (e == PB_OK) {
        j = pb_admin_player_json(&pl, brand_code(c, &bc, pl.brand_id), sees_pii(p));
        if (j && json_object_set_new(j, "address_locks", pb_admin_login_locks_json(locks, nlocks)))
            e = PB_ERR_INTERNAL;
    }
    if (tx)
        pb_store_rollback(c);
    if (e != PB_OK) {
        json_decref(j);
        pb_admin_fail(req, e, NULL);
        return;
    }
    if (pl.pii_unavailable)
        pb_identity_pii_log_unavailable(pb_http_trace_id(req), 1);
    pb_http_reply_json(req, 200, j ? json_pack("{s:o}", "player", j) : NULL);
}

typedef struct block_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const char *id, *reason;
    bool block;
    pb_player before, after;
    char brand[PB_BRAND_CODE_MAX + 1];
} block_ctx;

/* The part of a player that block and unblock change. */
static json_t *status_json(const pb_player *pl)
{
    return json_pack("{s:s,s:o}", "status", pb_player_status_name(pl->status), "block_reason",
                     pl->block_reason[0] ? json_string(pl->block_reason) : json_null());
}

/* Reads the player, changes the status, reads it again, appends the entry. */
static pb_err block_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    block_ctx *x = ctx;
    const pb_brand_scope *scope = &x->p->scope;
    int64_t now = pb_time_now_us();
    pb_err e = pb_identity_player_get_pii(c, scope, x->id, &x->before);
    if (e == PB_OK)
        e = x->block ? pb_identity_player_block(c, scope, x->id, x->reason, now)
                     : pb_identity_player_unblock(c, scope, x->id, now);
    if (e == PB_ERR_FIELD_INVALID)
        *bad = "reason";
    if (e == PB_OK)
        e = pb_identity_player_get_pii(c, scope, x->id, &x->after);
    brand_cache bc = {0};
    if (e == PB_OK)
        snprintf(x->brand, sizeof x->brand, "%s", brand_code(c, &bc, x->after.brand_id));
    if (e != PB_OK)
        return e;
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, x->block ? "player.block" : "player.unblock", &en);
    en.brand = x->brand[0] ? x->brand : NULL;
    en.target_kind = "player";
    en.target_id = x->after.public_id;
    en.before = pb_admin_json_text(x->req, status_json(&x->before));
    en.after = pb_admin_json_text(x->req, status_json(&x->after));
    en.reason = x->reason;
    if (!en.before || !en.after)
        return PB_ERR_INTERNAL;
    /* @events: in the same transaction as the change */
    if ((e = pb_events_emit(c, x->block ? "player.blocked" : "player.unblocked", x->brand,
                            x->after.public_id, pb_http_trace_id(x->req), now,
                            PB_EV_STR("reason", x->reason),
                            PB_EV_STR("by", x->p->subject_public_id))) != PB_OK)
        return e;
    return pb_audit_append(c, &en, now);
}

/* POST …/block and …/unblock: {reason}, audited with the change. */
static void block_or_unblock(pb_http_request *req, bool block)
{
    block_ctx *x = pb_http_alloc(req, sizeof *x);
    if (!x) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    *x = (block_ctx){
        .req = req, .p = pb_api_principal(req), .id = pb_http_param(req, "id"), .block = block};
    if (!pb_admin_parse_reason(req, x->p, block ? "player.block" : "player.unblock", PB_REASON_MAX,
                               &x->reason))
        return;
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, block_tx, x, &bad);
    if (e == PB_ERR_FORBIDDEN) {
        pb_http_reply_error_msg(req, e, NULL,
                                "a self-excluded or closed player is not "
                                "blocked or unblocked by staff");
        return;
    }
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    if (x->after.pii_unavailable)
        pb_identity_pii_log_unavailable(pb_http_trace_id(req), 1);
    pb_http_reply_json(req, 200,
                       json_pack("{s:o}", "player",
                                 pb_admin_player_json(&x->after, x->brand, sees_pii(x->p))));
}

void pb_api_admin_player_block(pb_http_request *req, void *app)
{
    (void)app;
    block_or_unblock(req, true);
}

void pb_api_admin_player_unblock(pb_http_request *req, void *app)
{
    (void)app;
    block_or_unblock(req, false);
}
