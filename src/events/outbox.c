/*
 * outbox.c — appending events (the transactional outbox), THE table of event
 * types, and the process-wide wake-up the dispatcher sleeps on.
 *
 * It is compiled into the store library (meson.build, @store-sources) so that
 * every domain library that appends an event links it with the store it
 * already uses; the dispatcher and the stream live in the events library.
 *
 * The payload is built here from typed fields into compact JSON text (strings
 * escaped, money as decimal strings via core/money.h), so appending needs no
 * JSON library and a payload is always one line (the SSE `data:` field).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/money.h"
#include "core/time.h"
#include "events/events.h"

/* THE table: every event type and the staff permission that sees it. */
const pb_event_type pb_event_types[] = {
    /* money in and out (cashier) */
    {"deposit.created", "finance.read"}, /* a player's deposit intent: pending at the PSP */
    {"deposit.completed", "finance.read"},
    {"deposit.failed", "finance.read"},
    {"withdrawal.requested", "finance.read"},
    {"withdrawal.approved", "finance.read"},
    {"withdrawal.approval_recorded", "finance.read"}, /* a first of two approvals */
    /* approved, but an approver lost the right before the payout: pending_approval again */
    {"withdrawal.approval_lapsed", "finance.read"},
    {"withdrawal.payout_sent", "finance.read"}, /* the PSP took the payout: "processing" */
    {"withdrawal.rejected", "finance.read"},
    {"withdrawal.cancelled", "finance.read"},
    {"withdrawal.paid", "finance.read"},
    {"withdrawal.failed", "finance.read"},
    {"withdrawal.returned", "finance.read"}, /* a paid payout the PSP got back: money back */
    /* a stuck payout settled by hand (4-eyes): the first member's statement, and its
     * withdrawal by that member; the confirmation is withdrawal.paid / .failed */
    {"withdrawal.manual_resolution_stated", "finance.read"},
    {"withdrawal.manual_resolution_withdrawn", "finance.read"},
    /* play (wallet: provider games; games: in-house games) */
    {"bet.placed", "reports.read"},
    {"round.settled", "reports.read"},
    {"bet.rolled_back", "reports.read"}, /* @backoffice: like bets (the dashboard's GGR) */
    /* a closed (erased) player's win or refund held as unclaimed funds (wallet.h) */
    {"funds.unclaimed", "finance.read"},
    /* a brand's unclaimed funds remitted or recognised by staff (admin_unclaimed.c) */
    {"funds.unclaimed_settled", "finance.read"},
    /* its 4-eyes: requested, rejected, expired (admin_unclaimed_settle.c) */
    {"funds.unclaimed_settlement_requested", "finance.read"},
    {"funds.unclaimed_settlement_rejected", "finance.read"},
    {"funds.unclaimed_settlement_expired", "finance.read"},
    /* players (identity, staff actions) */
    {"player.registered", "players.read"},
    {"player.blocked", "players.read"},
    {"player.unblocked", "players.read"},
    {"player.erased", "players.read"}, /* systems fed by events erase their copies */
    /* platform-wide (all-brands staff): a backup was restored, the ids it skipped */
    {"platform.restored", "brands.read"},
    /* games */
    {"rtp.changed", "games.read"},
    /* staff adjustments */
    {"balance.adjusted", "finance.read"},
    {"balance.adjustment_requested", "finance.read"},
    {"balance.adjustment_expired", "finance.read"},
    {"balance.adjustment_rejected", "finance.read"},
    /* a PSP reconciliation run stored (cashier reconcile.c): its counts per class */
    {"reconciliation.completed", "finance.read", true}, /* every scope: the run's counts */
};
const size_t pb_event_type_count = sizeof pb_event_types / sizeof pb_event_types[0];
_Static_assert(sizeof pb_event_types / sizeof pb_event_types[0] <= 64, "types fit a 64-bit mask");

int pb_events_type_index(const char *type)
{
    for (size_t i = 0; type && i < pb_event_type_count; i++)
        if (strcmp(pb_event_types[i].name, type) == 0)
            return (int)i;
    return -1;
}

/* ---- the payload ---- */

typedef struct jbuf {
    char *p;
    size_t len, cap;
    bool failed;
} jbuf;

static void jput(jbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > PB_EVENT_PAYLOAD_MAX + 1) {
            b->failed = true;
            return;
        }
        char *q = realloc(b->p, cap);
        if (!q) {
            b->failed = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void jputs(jbuf *b, const char *s) { jput(b, s, strlen(s)); }

/* A JSON string: quotes, escapes for ", \ and every control character. The
 * quotes and the plain runs go in whole (the usual string has no escape: one
 * copy between its quotes). */
static void jstr(jbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    char q[256]; /* the quoted string when short and plain */
    size_t n = 0;
    for (unsigned char ch;
         (ch = (unsigned char)s[n]) >= 0x20 && ch != '"' && ch != '\\' && ch != 0x7f; n++)
        ;
    if (!s[n] && n + 2 <= sizeof q) {
        q[0] = '"';
        memcpy(q + 1, s, n);
        q[n + 1] = '"';
        jput(b, q, n + 2);
        return;
    }
    jput(b, "\"", 1);
    for (const char *run = s;; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == 0 || ch < 0x20 || ch == '"' || ch == '\\' || ch == 0x7f) {
            jput(b, run, (size_t)(s - run));
            if (ch == 0)
                break;
            if (ch == '"' || ch == '\\') {
                char esc[2] = {'\\', (char)ch};
                jput(b, esc, 2);
            } else {
                char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
                jput(b, esc, 6);
            }
            run = s + 1;
        }
    }
    jput(b, "\"", 1);
}

/* v in decimal into p (≥ 21 bytes); returns the length. */
static size_t put_i64(char *p, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (v < 0)
        p[len++] = '-';
    while (n)
        p[len++] = tmp[--n];
    return len;
}

/* Copies src (NULL: "") into dst[cap]; false when it does not fit. */
static bool copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap) : 0;
    if (n >= cap)
        return false;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
    return true;
}

/* The payload object of fields[0..n) into b. */
static void payload(jbuf *b, const pb_event_field *fields, size_t n)
{
    jput(b, "{", 1);
    bool currency_done = false;
    for (size_t i = 0; i < n; i++) {
        const pb_event_field *f = &fields[i];
        if (i)
            jput(b, ",", 1);
        jstr(b, f->key);
        jput(b, ":", 1);
        char num[PB_MONEY_STR_MAX + 8];
        switch (f->kind) {
        case PB_EV_F_STR:
            if (f->str)
                jstr(b, f->str);
            else
                jputs(b, "null");
            break;
        case PB_EV_F_INT: jput(b, num, put_i64(num, f->num)); break;
        case PB_EV_F_BOOL: jputs(b, f->num ? "true" : "false"); break;
        case PB_EV_F_JSON: jputs(b, f->str && *f->str ? f->str : "null"); break;
        case PB_EV_F_MONEY: {
            const pb_currency *cur = pb_currency_find(f->str ? f->str : "");
            if (!cur || pb_money_format(f->num, cur, num, sizeof num) < 0) {
                b->failed = true;
                return;
            }
            jstr(b, num);
            if (!currency_done) {
                jputs(b, ",\"currency\":");
                jstr(b, f->str);
                currency_done = true;
            }
            break;
        }
        }
    }
    jput(b, "}", 1);
}

pb_err pb_events_append(pb_store_conn *c, const char *type, const char *brand, const char *subject,
                        const char *trace_id, int64_t now, const pb_event_field *fields, size_t n,
                        int64_t *id)
{
    return pb_events_append_at(c, 0, type, brand, subject, trace_id, now, fields, n, id);
}

pb_err pb_events_append_at(pb_store_conn *c, int64_t at, const char *type, const char *brand,
                           const char *subject, const char *trace_id, int64_t now,
                           const pb_event_field *fields, size_t n, int64_t *id)
{
    if (pb_events_type_index(type) < 0) {
        pb_log(PB_LOG_ERROR, "events.unknown_type", "event type '%s' is not in the table",
               type ? type : "(null)");
        return PB_ERR_INTERNAL;
    }
    pb_store_event e = {.id = at > 0 ? at : 0, .created_at = now};
    copy_field(e.type, sizeof e.type, type); /* a type of the table: always fits */
    if (!copy_field(e.brand, sizeof e.brand, brand) ||
        !copy_field(e.subject, sizeof e.subject, subject) ||
        !copy_field(e.trace_id, sizeof e.trace_id, trace_id)) {
        pb_log(PB_LOG_ERROR, "events.oversize", "event %s: brand, subject or trace too long", type);
        return PB_ERR_INTERNAL;
    }
    jbuf b = {0};
    payload(&b, fields, n);
    if (b.failed) {
        free(b.p);
        pb_log(PB_LOG_ERROR, "events.payload", "event %s: payload too large or bad money", type);
        return PB_ERR_INTERNAL;
    }
    e.payload = b.p;
    e.payload_len = b.len;
    pb_store_rc rc = pb_store_event_insert(c, &e, id);
    free(b.p);
    if (rc != PB_STORE_OK)
        return rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
    pb_events_kick();
    return PB_OK;
}

/* ---- the wake-up ----
 * A generation counter and a condition variable. A kick bumps the counter,
 * then signals only if someone waits; a waiter registers, then re-checks the
 * counter under the mutex. Both sides are sequentially consistent, so either
 * the kicker sees the waiter or the waiter sees the new generation. */

static atomic_uint_fast64_t wake_gen;
static atomic_int wake_waiters;
static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;

uint64_t pb_events_generation(void) { return atomic_load(&wake_gen); }

void pb_events_kick(void)
{
    atomic_fetch_add(&wake_gen, 1);
    if (atomic_load(&wake_waiters) > 0) {
        pthread_mutex_lock(&wake_mu); /* a registered waiter is in its wait now */
        pthread_mutex_unlock(&wake_mu);
        pthread_cond_broadcast(&wake_cv); /* after the unlock: each waiter wakes once */
    }
}

void pb_events_wait(uint64_t seen, int timeout_ms)
{
    if (timeout_ms <= 0)
        return;
    struct timespec until;
    pb_time_deadline(CLOCK_REALTIME, timeout_ms, &until);
    atomic_fetch_add(&wake_waiters, 1);
    pthread_mutex_lock(&wake_mu);
    while (atomic_load(&wake_gen) == seen)
        if (pthread_cond_timedwait(&wake_cv, &wake_mu, &until) != 0)
            break;
    pthread_mutex_unlock(&wake_mu);
    atomic_fetch_sub(&wake_waiters, 1);
}
