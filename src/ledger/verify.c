/*
 * verify.c — `pitboss ledger verify`: rebuild everything from the transfers and
 * compare it with what is stored.
 *
 * As of one moment: the marks, the accounts with their stored counters, the
 * open-pending projection and the last transfer's seq (the head) are read in
 * one short read transaction; the transfers up to that head are then read in
 * chunks of verify_chunk, each in its own read transaction. One transaction
 * over the whole ledger (minutes on a large one) would hold back every WAL
 * checkpoint of a live server for as long. Transfers are insert-only and get
 * their seq under the write lock, so the chunks see exactly the transfers one
 * snapshot at the start would; balance rows and the projection, which change in
 * place, come from the first transaction only. Accounts are loaded into an
 * array sorted by id; transfers are replayed in seq order, recomputing the
 * hash chain, each account's chain of transfers and its four counters, and
 * tracking every pending transfer by id until it is resolved (once, matching
 * it, and on the right side of its expiry: a caller's post or void before it,
 * the ledger's expiry void at or after it, and EXPIRED on nothing else —
 * "pending_expiry"). Then the stored
 * counters, the per-currency sums, the accounts' flags and the open-pending
 * projection are compared with the rebuilt state. Balance rows are written back
 * lazily, so a row is compared with its account's counters as of the row's own
 * last_seq (taken while replaying), and must not lag behind the balance mark. Each violation is reported
 * through the callback with a stable kind and a message naming the row. A row
 * with a column of the wrong type or size is "malformed_row" (and checked on as
 * far as it could be read: its hash no longer matches). The signed anchors of the
 * same snapshot are read first and checked in verify_anchor.c: each on its own,
 * then, as the replay reaches the transfer it signs, that transfer's hash.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "ledger/verify_internal.h"

#define VERIFY_CHUNK_DEFAULT 20000

static size_t verify_chunk = VERIFY_CHUNK_DEFAULT;
static void (*between_chunks)(void *ctx);
static void *between_ctx;

void pb_ledger_verify_tune(size_t chunk_rows, void (*between)(void *ctx), void *ctx)
{
    verify_chunk = chunk_rows ? chunk_rows : VERIFY_CHUNK_DEFAULT;
    between_chunks = between;
    between_ctx = ctx;
}

void verify_violation(vstate *v, const char *kind, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    v->sum->violations++;
    if (v->cb)
        v->cb(v->ctx, kind, msg);
}

static int on_account(void *p, const pb_store_account *a)
{
    vstate *v = p;
    if (v->naccts == v->cap) {
        size_t n = v->cap ? v->cap * 2 : 1024;
        acct *x = realloc(v->accts, n * sizeof *x);
        if (!x) {
            v->oom = true;
            return 1;
        }
        v->accts = x;
        v->cap = n;
    }
    acct *x = &v->accts[v->naccts++];
    memset(x, 0, sizeof *x);
    x->stored = *a;
    const char *bad = pb_ledger_account_damage(a);
    if (bad) /* the rest of the account is checked as read */
        verify_violation(v, "account_malformed",
                         "account %" PRId64
                         " is damaged: column %s is not what the ledger writes (not text or "
                         "longer than its field, not an integer, negative, or flags the "
                         "ledger never sets; never read cut short); transfers touching it are "
                         "refused STORE_CORRUPT",
                         a->id, bad);
    return 0;
}

static acct *find_acct(vstate *v, int64_t id)
{
    size_t lo = 0, hi = v->naccts;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->accts[mid].stored.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->naccts && v->accts[lo].stored.id == id ? &v->accts[lo] : NULL;
}

/* ---- pending map: open addressing on the id's random tail */

static size_t pend_slot(const pb_id *id, size_t n)
{
    uint64_t h;
    memcpy(&h, id->b + 8, 8);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return (size_t)(h >> 20) & (n - 1);
}

static pend *pend_find(vstate *v, const pb_id *id)
{
    if (!v->npend_slots)
        return NULL;
    for (size_t j = pend_slot(id, v->npend_slots);; j = (j + 1) & (v->npend_slots - 1)) {
        if (!v->pend[j].used)
            return NULL;
        if (pb_id_cmp(&v->pend[j].id, id) == 0)
            return &v->pend[j];
    }
}

static pend *pend_add(vstate *v, const pb_id *id)
{
    if ((v->npend + 1) * 2 > v->npend_slots) {
        size_t n = v->npend_slots ? v->npend_slots * 2 : 4096;
        pend *x = calloc(n, sizeof *x);
        if (!x)
            return NULL;
        for (size_t i = 0; i < v->npend_slots; i++) {
            if (!v->pend[i].used)
                continue;
            size_t j = pend_slot(&v->pend[i].id, n);
            while (x[j].used)
                j = (j + 1) & (n - 1);
            x[j] = v->pend[i];
        }
        free(v->pend);
        v->pend = x;
        v->npend_slots = n;
    }
    size_t j = pend_slot(id, v->npend_slots);
    while (v->pend[j].used)
        j = (j + 1) & (v->npend_slots - 1);
    v->pend[j].used = true;
    v->pend[j].id = *id;
    v->npend++;
    return &v->pend[j];
}

/* ---- replay of one transfer */

static void add_counter(vstate *v, acct *a, int idx, int64_t delta, int64_t seq)
{
    static const char *names[] = {"debits_pending", "debits_posted", "credits_pending",
                                  "credits_posted"};
    if (pb_i64_add(a->c[idx], delta, &a->c[idx]))
        verify_violation(v, "overflow",
                         "account %" PRId64 ": %s overflows at transfer seq %" PRId64, a->stored.id,
                         names[idx], seq);
}

static void check_not_negative(vstate *v, acct *a, int64_t seq)
{
    __int128 d = (__int128)a->c[0] + a->c[1], cr = (__int128)a->c[2] + a->c[3];
    bool bad = false;
    if ((a->stored.flags & PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) && d > a->c[3])
        bad = true;
    if ((a->stored.flags & PB_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) && cr > a->c[1])
        bad = true;
    if (bad && !a->went_negative)
        verify_violation(v, "negative_balance",
                         "account %" PRId64
                         " (%s/%s) breaks its balance flags after transfer seq %" PRId64,
                         a->stored.id, a->stored.owner, a->stored.kind, seq);
    a->went_negative |= bad;
}

static void link_chain(vstate *v, acct *a, int64_t claimed_prev, int64_t seq, const char *side)
{
    if (claimed_prev != a->last_seq)
        verify_violation(v, "account_chain",
                         "transfer seq %" PRId64 ": %s_prev_seq is %" PRId64 " but account %" PRId64
                         "'s previous transfer is %" PRId64,
                         seq, side, claimed_prev, a->stored.id, a->last_seq);
    a->last_seq = seq;
    if (seq <= v->mark)
        a->newest_at_mark = seq;
}

/* After a transfer was applied: the counters the stored row should hold, if it
 * stands at this transfer. */
static void snapshot_row(acct *a, int64_t seq)
{
    if (a->stored.last_seq != seq)
        return;
    memcpy(a->at_row, a->c, sizeof a->at_row);
    a->row_seen = true;
}

static void replay_resolution(vstate *v, const pb_store_transfer *t, acct *dr, acct *cr)
{
    char id[PB_ID_STR_LEN + 1];
    pend *p = t->has_pending_id ? pend_find(v, &t->pending_id) : NULL;
    if (!p) {
        verify_violation(v, "pending_unknown",
                         "transfer seq %" PRId64
                         " resolves a pending transfer that does not precede it",
                         t->seq);
        return;
    }
    if (p->resolved_by) {
        pb_id_to_string(&p->id, id);
        verify_violation(v, "pending_resolved_twice",
                         "pending transfer %s (seq %" PRId64 ") resolved by seq %" PRId64
                         " and again by seq %" PRId64,
                         id, p->seq, p->resolved_by, t->seq);
        return;
    }
    p->resolved_by = t->seq;
    if (p->debit != t->debit_account_id || p->credit != t->credit_account_id ||
        strcmp(p->currency, t->currency) != 0 || p->code != t->code)
        verify_violation(v, "pending_mismatch",
                         "transfer seq %" PRId64
                         " does not match its pending transfer seq %" PRId64,
                         t->seq, p->seq);
    bool post = t->flags & PB_TRANSFER_POST_PENDING;
    if ((post && t->amount > p->amount) || (!post && t->amount != p->amount))
        verify_violation(v, "pending_amount",
                         "transfer seq %" PRId64 " moves %" PRId64 " of pending seq %" PRId64
                         " holding %" PRId64,
                         t->seq, t->amount, p->seq, p->amount);
    /* The writer refuses a caller's post or void from the hold's expiry on
     * (PENDING_EXPIRED) and its own sweep voids a hold only once it is due, both
     * by the batch's clock, which is the resolution's created_at. */
    bool expired = t->flags & PB_TRANSFER_EXPIRED;
    if (expired && (post || p->expires_at <= 0 || t->created_at < p->expires_at))
        verify_violation(v, "pending_expiry",
                         "transfer seq %" PRId64 " expires pending seq %" PRId64 " (expiry %" PRId64
                         ") at %" PRId64 ": %s",
                         t->seq, p->seq, p->expires_at, t->created_at,
                         post                 ? "an expiry cannot post"
                         : p->expires_at <= 0 ? "the hold has no timeout"
                                              : "before it was due");
    else if (!expired && p->expires_at > 0 && t->created_at >= p->expires_at)
        verify_violation(v, "pending_expiry",
                         "transfer seq %" PRId64 " %s pending seq %" PRId64 " at %" PRId64
                         ", at or after its expiry %" PRId64
                         ": only the ledger's expiry may resolve it",
                         t->seq, post ? "posts" : "voids", p->seq, t->created_at, p->expires_at);
    if (!dr || !cr)
        return;
    add_counter(v, dr, 0, -p->amount, t->seq);
    add_counter(v, cr, 2, -p->amount, t->seq);
    if (post) {
        add_counter(v, dr, 1, t->amount, t->seq);
        add_counter(v, cr, 3, t->amount, t->seq);
    }
}

static int on_transfer(void *p, const pb_store_transfer *t)
{
    vstate *v = p;
    v->sum->transfers++;
    if (t->seq != v->expect_seq)
        verify_violation(v, "seq_gap", "expected transfer seq %" PRId64 ", found %" PRId64,
                         v->expect_seq, t->seq);
    v->expect_seq = t->seq + 1;
    if (t->malformed) /* what could be read is checked on below as it is */
        verify_violation(v, "malformed_row",
                         "transfer seq %" PRId64
                         " is damaged: column %s has the wrong type or size "
                         "(the writer refuses STORE_CORRUPT what needs it)",
                         t->seq, t->malformed);

    uint8_t h[32];
    pb_ledger_hash(t, v->prev_hash, h);
    if (memcmp(h, t->hash, 32) != 0) {
        char id[PB_ID_STR_LEN + 1];
        pb_id_to_string(&t->id, id);
        verify_violation(v, "hash_chain",
                         "transfer seq %" PRId64
                         " (id %s) does not match its hash: a stored field or "
                         "its predecessor was changed",
                         t->seq, id);
    }
    memcpy(v->prev_hash, t->hash, 32);
    verify_anchors_at(v, t);
    int64_t named;
    if (t->seq >= v->ids.legacy_below &&
        (!pb_ledger_txid_seq(v->ids.key, &t->id, &named) || named != t->seq)) {
        char id[PB_ID_STR_LEN + 1];
        pb_id_to_string(&t->id, id);
        verify_violation(v, "transfer_id",
                         "transfer seq %" PRId64 " has id %s, which does not name it", t->seq, id);
    }

    acct *dr = find_acct(v, t->debit_account_id), *cr = find_acct(v, t->credit_account_id);
    if (!dr || !cr)
        verify_violation(v, "unknown_account",
                         "transfer seq %" PRId64 " names a missing account %" PRId64, t->seq,
                         dr ? t->credit_account_id : t->debit_account_id);
    if (t->amount <= 0)
        verify_violation(v, "amount_invalid", "transfer seq %" PRId64 " has amount %" PRId64,
                         t->seq, t->amount);
    if (dr && cr &&
        (strcmp(dr->stored.currency, t->currency) || strcmp(cr->stored.currency, t->currency)))
        verify_violation(v, "currency_mismatch",
                         "transfer seq %" PRId64 " in %s between accounts in %s and %s", t->seq,
                         t->currency, dr->stored.currency, cr->stored.currency);
    if (dr)
        link_chain(v, dr, t->debit_prev_seq, t->seq, "debit");
    if (cr)
        link_chain(v, cr, t->credit_prev_seq, t->seq, "credit");

    if (t->flags & PB_TRANSFER_PENDING) {
        pend *x = pend_add(v, &t->id);
        if (!x) {
            v->oom = true;
            return 1;
        }
        x->seq = t->seq;
        x->amount = t->amount;
        x->debit = t->debit_account_id;
        x->credit = t->credit_account_id;
        x->expires_at = t->expires_at;
        x->code = t->code;
        memcpy(x->currency, t->currency, sizeof x->currency);
        if (dr && cr) {
            add_counter(v, dr, 0, t->amount, t->seq);
            add_counter(v, cr, 2, t->amount, t->seq);
        }
    } else if (t->flags & (PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING)) {
        replay_resolution(v, t, dr, cr);
    } else {
        if (t->flags & PB_TRANSFER_EXPIRED) /* only the ledger's expiry void of a hold */
            verify_violation(v, "pending_expiry",
                             "transfer seq %" PRId64 " is flagged EXPIRED but resolves no pending "
                             "transfer",
                             t->seq);
        if (dr && cr) {
            add_counter(v, dr, 1, t->amount, t->seq);
            add_counter(v, cr, 3, t->amount, t->seq);
        }
    }
    if (dr) {
        check_not_negative(v, dr, t->seq);
        snapshot_row(dr, t->seq);
    }
    if (cr) {
        check_not_negative(v, cr, t->seq);
        snapshot_row(cr, t->seq);
    }
    return 0;
}

/* ---- final comparisons */

static void compare_accounts(vstate *v)
{
    static const char *names[] = {"debits_pending", "debits_posted", "credits_pending",
                                  "credits_posted"};
    for (size_t i = 0; i < v->naccts; i++) {
        acct *a = &v->accts[i];
        const pb_store_account *s = &a->stored;
        int64_t stored[4] = {s->debits_pending, s->debits_posted, s->credits_pending,
                             s->credits_posted};
        if (s->last_seq != 0 && !a->row_seen) {
            verify_violation(v, "account_chain",
                             "account %" PRId64 ": stored last transfer %" PRId64
                             " is not one of its transfers (its newest is %" PRId64 ")",
                             s->id, s->last_seq, a->last_seq);
            continue;
        }
        if (s->last_seq < a->newest_at_mark)
            verify_violation(v, "balance_stale",
                             "account %" PRId64 ": its balance row stands at transfer %" PRId64
                             ", behind the balance mark %" PRId64 " (its transfer %" PRId64 ")",
                             s->id, s->last_seq, v->mark, a->newest_at_mark);
        if (s->last_seq != a->last_seq)
            v->sum->lagging_rows++;
        for (int k = 0; k < 4; k++) {
            if (stored[k] != a->at_row[k])
                verify_violation(v, "balance_mismatch",
                                 "account %" PRId64 " (%s/%s/%s): stored %s %" PRId64
                                 " but its transfers up to seq %" PRId64 " give %" PRId64,
                                 s->id, s->owner, s->kind, s->currency, names[k], stored[k],
                                 s->last_seq, a->at_row[k]);
            if (stored[k] < 0)
                verify_violation(v, "negative_counter",
                                 "account %" PRId64 ": stored %s is %" PRId64, s->id, names[k],
                                 stored[k]);
        }
        __int128 d = (__int128)s->debits_pending + s->debits_posted;
        __int128 c = (__int128)s->credits_pending + s->credits_posted;
        if ((s->flags & PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) && d > s->credits_posted)
            verify_violation(v, "negative_balance",
                             "account %" PRId64 " (%s/%s): stored debits exceed credits", s->id,
                             s->owner, s->kind);
        if ((s->flags & PB_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) && c > s->debits_posted)
            verify_violation(v, "negative_balance",
                             "account %" PRId64 " (%s/%s): stored credits exceed debits", s->id,
                             s->owner, s->kind);
    }
}

/* Debits = credits per currency, for the stored and for the rebuilt counters. */
static void compare_currencies(vstate *v)
{
    for (size_t i = 0; i < v->naccts; i++) {
        const char *cur = v->accts[i].stored.currency;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(v->accts[k].stored.currency, cur) == 0;
        if (seen)
            continue;
        __int128 s[4] = {0}, r[4] = {0};
        for (size_t k = i; k < v->naccts; k++) {
            acct *a = &v->accts[k];
            if (strcmp(a->stored.currency, cur) != 0)
                continue;
            s[0] += a->stored.debits_pending;
            s[1] += a->stored.debits_posted;
            s[2] += a->stored.credits_pending;
            s[3] += a->stored.credits_posted;
            for (int j = 0; j < 4; j++)
                r[j] += a->c[j];
        }
        /* stored rows stand at different seqs until every one is written back */
        if (v->sum->lagging_rows == 0 && (s[0] != s[2] || s[1] != s[3]))
            verify_violation(v, "currency_imbalance",
                             "%s: stored debits (pending %" PRId64 ", posted %" PRId64
                             ") differ from credits (pending %" PRId64 ", posted %" PRId64 ")",
                             cur, (int64_t)s[0], (int64_t)s[1], (int64_t)s[2], (int64_t)s[3]);
        if (r[0] != r[2] || r[1] != r[3])
            verify_violation(v, "currency_imbalance",
                             "%s: the transfers' debits differ from credits", cur);
    }
}

static int cmp_open(const void *a, const void *b)
{
    int64_t x = ((const open_ref *)a)->seq, y = ((const open_ref *)b)->seq;
    return x < y ? -1 : x > y;
}

typedef struct proj_ctx {
    vstate *v;
    open_ref *open;
    size_t n, i;
} proj_ctx;

/* An open pending transfer the table does not list: a violation up to the
 * pending mark; above it, one the writer has not written back yet. */
static void unlisted(vstate *v, int64_t seq)
{
    if (seq > v->pmark) {
        v->sum->unlisted_pendings++;
        return;
    }
    verify_violation(v, "pending_projection",
                     "pending transfer seq %" PRId64
                     " is open but missing from ledger_pending_open",
                     seq);
}

/* One row of the projection as read in the first transaction: compared with
 * the open holds once every transfer up to the head is replayed. */
static void projection_row(proj_ctx *x, int64_t seq, int64_t expires_at)
{
    while (x->i < x->n && x->open[x->i].seq < seq)
        unlisted(x->v, x->open[x->i++].seq);
    if (x->i < x->n && x->open[x->i].seq == seq) {
        if (x->open[x->i].expires_at != expires_at)
            verify_violation(x->v, "pending_projection",
                             "pending transfer seq %" PRId64 ": projected expiry differs", seq);
        x->i++;
    } else {
        verify_violation(x->v, "pending_projection",
                         "ledger_pending_open lists seq %" PRId64
                         ", which is not an open pending transfer",
                         seq);
    }
}

/* Keeps a projection row (first transaction). */
static int on_projection(void *p, int64_t seq, int64_t expires_at)
{
    vstate *v = p;
    if (v->nlisted == v->listed_cap) {
        size_t n = v->listed_cap ? v->listed_cap * 2 : 256;
        open_ref *q = realloc(v->listed, n * sizeof *q);
        if (!q) {
            v->oom = true;
            return 1;
        }
        v->listed = q;
        v->listed_cap = n;
    }
    v->listed[v->nlisted++] = (open_ref){seq, expires_at};
    return 0;
}

static pb_err check_projection(vstate *v)
{
    open_ref *open = malloc((v->npend + 1) * sizeof *open);
    if (!open)
        return PB_ERR_INTERNAL;
    size_t n = 0;
    for (size_t i = 0; i < v->npend_slots; i++)
        if (v->pend[i].used && !v->pend[i].resolved_by)
            open[n++] = (open_ref){v->pend[i].seq, v->pend[i].expires_at};
    qsort(open, n, sizeof *open, cmp_open);
    v->sum->open_pendings = (int64_t)n;
    proj_ctx x = {v, open, n, 0};
    for (size_t i = 0; i < v->nlisted; i++)
        projection_row(&x, v->listed[i].seq, v->listed[i].expires_at);
    for (; x.i < n; x.i++)
        unlisted(v, open[x.i].seq);
    free(open);
    return PB_OK;
}

/* One chunk of the transfer scan: at most verify_chunk rows, none above the head. */
typedef struct tchunk {
    vstate *v;
    int64_t head, last;
    size_t n;
    bool end; /* the head reached */
} tchunk;

static int on_chunk_transfer(void *p, const pb_store_transfer *t)
{
    tchunk *k = p;
    if (t->seq > k->head) {
        k->end = true;
        return 1;
    }
    int stop = on_transfer(k->v, t);
    k->last = t->seq;
    k->end = t->seq == k->head;
    return stop || k->end || ++k->n >= verify_chunk;
}

pb_err pb_ledger_verify(pb_store_conn *c, pb_ledger_violation_cb cb, void *ctx,
                        pb_ledger_verify_summary *summary)
{
    static const pb_ledger_verify_keys none = {0};
    return pb_ledger_verify_anchored(c, &none, cb, ctx, summary);
}

pb_err pb_ledger_verify_anchored(pb_store_conn *c, const pb_ledger_verify_keys *keys,
                                 pb_ledger_violation_cb cb, void *ctx,
                                 pb_ledger_verify_summary *summary)
{
    memset(summary, 0, sizeof *summary);
    summary->signatures_checked = keys->check_signatures;
    vstate v = {.cb = cb, .ctx = ctx, .sum = summary, .expect_seq = 1, .keys = keys};
    if (pb_store_begin(c, PB_STORE_READ) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    pb_err e = PB_ERR_INTERNAL;
    int64_t orphans = 0;
    pb_store_transfer last;
    pb_store_rc rc;
    if (pb_store_balances_mark_get(c, &v.mark) != PB_STORE_OK ||
        pb_store_pending_mark_get(c, &v.pmark) != PB_STORE_OK ||
        pb_ledger_ids_load(c, &v.ids) != PB_OK)
        goto out;
    summary->balances_seq = v.mark;
    summary->pending_seq = v.pmark;
    if (pb_store_account_scan(c, on_account, &v) != PB_STORE_OK || v.oom)
        goto out;
    summary->accounts = (int64_t)v.naccts;
    if (pb_store_balance_orphans(c, &orphans) != PB_STORE_OK)
        goto out;
    if (pb_store_pending_open_scan(c, on_projection, &v) != PB_STORE_OK || v.oom)
        goto out;
    rc = pb_store_transfer_last(c, &last);
    if (rc == PB_STORE_NOT_FOUND)
        last.seq = 0;
    else if (rc == PB_STORE_CORRUPT && last.seq > 0)
        ; /* the head is malformed but has its seq: the scan reports it */
    else if (rc != PB_STORE_OK)
        goto out;
    /* the anchors of the same snapshot: none names a transfer above the head */
    if (pb_store_ledger_anchor_scan(c, verify_on_anchor, &v) != PB_STORE_OK || v.oom)
        goto out;
    if (verify_anchor_rejections(&v, c) != PB_STORE_OK)
        goto out;
    pb_store_rollback(c);
    if (v.nanchors) /* qsort wants a valid pointer even for none */
        qsort(v.anchors, v.nanchors, sizeof *v.anchors, verify_cmp_anchor);
    if (orphans)
        verify_violation(&v, "balance_orphan",
                         "%" PRId64 " account(s) lack a balance row or the reverse", orphans);
    /* the transfers up to the head, in chunks */
    tchunk k = {.v = &v, .head = last.seq};
    while (!k.end && last.seq > 0) {
        k.n = 0;
        if (pb_store_begin(c, PB_STORE_READ) != PB_STORE_OK)
            goto done;
        rc = pb_store_transfer_scan(c, k.last, on_chunk_transfer, &k);
        pb_store_rollback(c);
        if (rc != PB_STORE_OK || v.oom)
            goto done;
        if (k.end || k.n < verify_chunk)
            break; /* the head reached, or no row left below it */
        if (between_chunks)
            between_chunks(between_ctx);
    }
    for (; v.next_anchor < v.nanchors; v.next_anchor++) /* above the last transfer read */
        verify_anchor_missing(&v, &v.anchors[v.next_anchor]);
    if (v.mark < 0 || v.mark > v.expect_seq - 1)
        verify_violation(&v, "balance_mark",
                         "the balance mark is at transfer %" PRId64
                         " but the last transfer is %" PRId64,
                         v.mark, v.expect_seq - 1);
    if (v.pmark < 0 || v.pmark > v.expect_seq - 1)
        verify_violation(&v, "pending_mark",
                         "the pending mark is at transfer %" PRId64
                         " but the last transfer is %" PRId64,
                         v.pmark, v.expect_seq - 1);
    compare_accounts(&v);
    compare_currencies(&v);
    e = check_projection(&v);
    goto done;
out:
    pb_store_rollback(c);
done:
    free(v.accts);
    free(v.pend);
    free(v.listed);
    free(v.anchors);
    free(v.rejs);
    return e;
}
