/*
 * payout.c — a withdrawal's payout (see cashier.h, and withdrawal.c for the state
 * machine): sent to the PSP by one thread at a time (the claims), "processing"
 * recorded once the PSP took it, sent again by the retry's passes while the PSP
 * refuses, and a staff resolve (the PSP asked what became of it). Its settling
 * (cashier_payout_settle, the one finishing for the PSP's payout events, a staff
 * resolve and the manual resolution, manual.c) and the PSP's payout events
 * themselves are payout_settle.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cashier/cashier_internal.h"
#include "core/log.h"
#include "events/events.h"

/* withdrawal.payout_sent: the withdrawal's fields (cashier_withdrawal_emit's) and
 * the reference the PSP gave the payout, which its later webhooks and a
 * reconciliation against the PSP's statements name it by. */
static pb_err payout_sent_emit(pb_ledger_tx *tx, const wd_ctx *x)
{
    const pb_store_withdrawal *w = &x->w;
    return pb_events_emit(pb_ledger_tx_conn(tx), "withdrawal.payout_sent", w->brand, w->player,
                          x->a->trace_id, pb_ledger_tx_now(tx), PB_EV_STR("withdrawal_id", w->id),
                          PB_EV_STR("status", w->status), PB_EV_STR("psp", w->psp),
                          PB_EV_STR("psp_reference", w->psp_reference),
                          PB_EV_STR("requested_by", w->requested_by),
                          PB_EV_MONEY("amount", w->amount, w->currency)) == PB_OK
               ? PB_OK
               : PB_ERR_INTERNAL;
}

/* The payout was taken by the PSP: its reference is stored, "processing",
 * audited and announced (both withdrawal.payout_sent). A row that has this
 * reference already was recorded by another send of the same payout (the PSP
 * keys payouts by withdrawal, so it answered the same reference): that is
 * success, with nothing written nor announced (x->recorded). */
static pb_err sent_command(pb_ledger_tx *tx, void *arg)
{
    wd_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    char ref[sizeof x->w.psp_reference];
    snprintf(ref, sizeof ref, "%s", x->w.psp_reference);
    if (pb_store_withdrawal_get(c, x->w.id, &x->w) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (strcmp(x->w.status, "approved") != 0) {
        x->recorded = ref[0] && strcmp(x->w.psp_reference, ref) == 0;
        x->result = x->recorded ? PB_OK : PB_ERR_WITHDRAWAL_STATE;
        return PB_OK;
    }
    json_t *before = cashier_withdrawal_json(&x->w, (size_t)x->w.approvals_required);
    snprintf(x->w.status, sizeof x->w.status, "processing");
    snprintf(x->w.psp_reference, sizeof x->w.psp_reference, "%s", ref);
    x->w.updated_at = pb_ledger_tx_now(tx);
    if (pb_store_withdrawal_update(c, &x->w) != PB_STORE_OK || payout_sent_emit(tx, x) != PB_OK) {
        json_decref(before);
        return PB_ERR_INTERNAL;
    }
    x->result = PB_OK;
    return pb_cashier_audit(tx, x->a, x->w.brand, "withdrawal.payout_sent", "withdrawal", x->w.id,
                            before, cashier_withdrawal_json(&x->w, (size_t)x->w.approvals_required),
                            NULL);
}

/* Just before the PSP is called (approvals.c): the withdrawal is still "approved"
 * (else WITHDRAWAL_STATE) and its approvals still count and still suffice. One whose
 * member lost the right since lapses now, and a brand threshold lowered since raises
 * approvals_required; too few left for it, and it goes back to pending_approval
 * (x->lapsed; the hold stays), announced and audited as withdrawal.approval_lapsed,
 * and the payout is not sent. */
static pb_err recheck_command(pb_ledger_tx *tx, void *arg)
{
    wd_ctx *x = arg;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    if (pb_store_withdrawal_get(c, x->w.id, &x->w) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (strcmp(x->w.status, "approved") != 0) {
        x->result = PB_ERR_WITHDRAWAL_STATE;
        return PB_OK;
    }
    cashier_approvals *j = malloc(sizeof *j);
    if (!j || cashier_approvals_judge(c, &x->w, j) != PB_OK) {
        free(j);
        return PB_ERR_INTERNAL;
    }
    x->result = PB_OK;
    bool back = false;
    pb_err e = cashier_approvals_apply(c, pb_ledger_tx_now(tx), &x->w, j, x->a,
                                       "before the payout was sent", &back);
    free(j);
    x->lapsed = back;
    return e;
}

/* ---- claims: one send of a payout at a time ---- */

/* Claims withdrawal id for sending its payout: false when another thread is
 * sending it now (or, out of memory, when the claim cannot be recorded: it is
 * then sent by a later pass). */
bool cashier_payout_claim(pb_cashier *k, const char *id)
{
    payout_claims *cl = &k->claims;
    bool free_to_send = true;
    pthread_mutex_lock(&k->claims_mu);
    for (size_t i = 0; i < cl->n && free_to_send; i++)
        free_to_send = strcmp(cl->id[i], id) != 0;
    if (free_to_send && cl->n == cl->cap) {
        size_t cap = cl->cap ? 2 * cl->cap : 8;
        void *p = realloc(cl->id, cap * sizeof *cl->id);
        if (p) {
            cl->id = p;
            cl->cap = cap;
        } else {
            free_to_send = false;
        }
    }
    if (free_to_send)
        snprintf(cl->id[cl->n++], sizeof cl->id[0], "%s", id);
    pthread_mutex_unlock(&k->claims_mu);
    return free_to_send;
}

/* Whether another thread holds the claim of withdrawal id right now. */
static bool payout_claimed(pb_cashier *k, const char *id)
{
    payout_claims *cl = &k->claims;
    bool claimed = false;
    pthread_mutex_lock(&k->claims_mu);
    for (size_t i = 0; i < cl->n && !claimed; i++)
        claimed = strcmp(cl->id[i], id) == 0;
    pthread_mutex_unlock(&k->claims_mu);
    return claimed;
}

void cashier_payout_release(pb_cashier *k, const char *id)
{
    payout_claims *cl = &k->claims;
    pthread_mutex_lock(&k->claims_mu);
    for (size_t i = 0; i < cl->n; i++)
        if (strcmp(cl->id[i], id) == 0) {
            memmove(cl->id[i], cl->id[--cl->n], sizeof cl->id[0]);
            break;
        }
    pthread_mutex_unlock(&k->claims_mu);
}

/* Records that the current pass holds withdrawal id back at the player gate with
 * answer code; true when that is news (first held back, or for another answer):
 * the caller logs it at WARN then, at DEBUG otherwise. */
static bool gate_held_news(pb_cashier *k, const char *id, const char *code)
{
    payout_gate_held *h = &k->gate_held;
    bool news = true;
    pthread_mutex_lock(&k->claims_mu);
    size_t i = 0;
    while (i < h->n && strcmp(h->e[i].id, id) != 0)
        i++;
    if (i == h->n && h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 8;
        void *p = realloc(h->e, cap * sizeof *h->e);
        if (p) {
            h->e = p;
            h->cap = cap;
        }
    }
    if (i < h->n) {
        news = strcmp(h->e[i].code, code) != 0;
    } else if (h->n < h->cap) {
        snprintf(h->e[i].id, sizeof h->e[i].id, "%s", id);
        h->n++;
    }
    if (i < h->n) { /* else out of memory: logged every pass, as before */
        snprintf(h->e[i].code, sizeof h->e[i].code, "%s", code);
        h->e[i].pass = h->pass;
    }
    pthread_mutex_unlock(&k->claims_mu);
    return news;
}

/* A pass begins (begin) or ends: at its end the withdrawals it did not hold back
 * are forgotten (a later hold is news again). */
static void gate_held_pass(pb_cashier *k, bool begin)
{
    payout_gate_held *h = &k->gate_held;
    pthread_mutex_lock(&k->claims_mu);
    if (begin) {
        h->pass++;
    } else {
        size_t j = 0;
        for (size_t i = 0; i < h->n; i++)
            if (h->e[i].pass == h->pass)
                h->e[j++] = h->e[i];
        h->n = j;
    }
    pthread_mutex_unlock(&k->claims_mu);
}

typedef enum {
    PAYOUT_TAKEN,   /* the PSP took it ("processing" recorded, or logged why not) */
    PAYOUT_REFUSED, /* the PSP did not take it: still "approved", the retry sends it */
    PAYOUT_SKIPPED, /* not sent: no longer approved, or its row could not be read again */
    PAYOUT_BUSY,    /* not sent: another thread holds its claim (sending it, or resolving it) */
} payout_outcome;

/* send_payout with the withdrawal claimed. */
static payout_outcome send_claimed(pb_cashier *k, pb_store_conn *c, pb_store_withdrawal *w,
                                   const char *trace)
{
    if (c) { /* a pass read the row before the claim: another send may have recorded it since */
        pb_store_withdrawal now;
        if (pb_store_withdrawal_get(c, w->id, &now) != PB_STORE_OK)
            return PAYOUT_SKIPPED; /* still "approved" as far as the pass knows: next pass */
        *w = now;
        if (strcmp(w->status, "approved") != 0)
            return PAYOUT_SKIPPED;
        /* the player gate as it stands now, as at every approval: a player blocked or
         * closed since the approval gets no payout while it lasts (still "approved",
         * held; sent by a pass once lifted, or resolved by finance: the money back) */
        pb_err g = pb_wallet_gate(c, w->player, PB_WALLET_ACTION_WITHDRAW);
        if (g != PB_OK) {
            /* a store failure at every pass; a blocked player once per withdrawal and
             * answer, not at every pass (the retry runs every payout_retry_ms) */
            pb_log_level lvl = pb_err_transient(g)                        ? PB_LOG_ERROR
                               : gate_held_news(k, w->id, pb_err_code(g)) ? PB_LOG_WARN
                                                                          : PB_LOG_DEBUG;
            pb_log(lvl, "cashier.payout",
                   "withdrawal=%s payout held back: player gate %s (still approved, held; "
                   "sent once the player may withdraw again, or resolved by finance)",
                   w->id, pb_err_code(g));
            return PAYOUT_SKIPPED;
        }
    }
    /* its approvals as they stand now, in a command of their own (the PSP is not
     * called inside one): a lapse takes it back to pending_approval, not sent */
    pb_cashier_actor judge = {.kind = "system",
                              .id = PB_CASHIER_APPROVALS_ACTOR,
                              .trace_id = trace};
    wd_ctx r = {.a = &judge};
    snprintf(r.w.id, sizeof r.w.id, "%s", w->id);
    pb_err re = pb_ledger_command(k->ledger, recheck_command, &r);
    if (re == PB_OK)
        re = r.result;
    if (re != PB_OK || r.lapsed) {
        if (re == PB_OK) {
            *w = r.w;
            pb_log(PB_LOG_WARN, "cashier.payout",
                   "withdrawal=%s payout not sent: too few approvals now (one lapsed, or the "
                   "brand's 4-eyes threshold was lowered), back to pending_approval",
                   w->id);
        } else if (re != PB_ERR_WITHDRAWAL_STATE) {
            pb_log(PB_LOG_ERROR, "cashier.payout",
                   "withdrawal=%s payout not sent: its approvals could not be checked: %s", w->id,
                   pb_err_code(re));
        }
        return PAYOUT_SKIPPED;
    }
    pb_psp *psp = pb_cashier_psp(k, w->psp);
    char ref[PB_STORE_CASHIER_REF_MAX + 1] = "";
    pb_err e = psp ? psp->payout_send(psp, w, ref) : PB_ERR_PSP_NOT_FOUND;
    if (e != PB_OK) { /* stays "approved": the payout retry sends it again */
        atomic_fetch_add_explicit(&k->payouts_refused, 1, memory_order_relaxed);
        pb_log(PB_LOG_ERROR, "cashier.payout", "withdrawal=%s payout not sent: %s", w->id,
               pb_err_code(e));
        return PAYOUT_REFUSED;
    }
    char sys_id[48];
    snprintf(sys_id, sizeof sys_id, PB_WALLET_OWNER_PSP "%s", w->psp);
    pb_cashier_actor sys = {.kind = "system", .id = sys_id, .trace_id = trace};
    wd_ctx s = {.a = &sys};
    snprintf(s.w.id, sizeof s.w.id, "%s", w->id);
    snprintf(s.w.psp_reference, sizeof s.w.psp_reference, "%s", ref);
    e = pb_ledger_command(k->ledger, sent_command, &s);
    if (e == PB_OK)
        e = s.result;
    if (e != PB_OK) {
        pb_log(PB_LOG_ERROR, "cashier.payout", "withdrawal=%s reference %s not stored: %s", w->id,
               ref, pb_err_code(e));
        return PAYOUT_TAKEN;
    }
    *w = s.w;
    if (!s.recorded && psp->payout_sent) /* whoever recorded it told the PSP adapter */
        psp->payout_sent(psp, w);
    return PAYOUT_TAKEN;
}

/* Sends the payout of an approved withdrawal (outside any command: the PSP may
 * do I/O), then records "processing"; *w becomes the stored row when it is. The
 * withdrawal is claimed from before the PSP is called until "processing" is
 * committed, so no other thread of the process sends it meanwhile: one that
 * finds it claimed skips it (PAYOUT_BUSY; for a pass it stays "approved" and
 * is found again). c: the pass's connection, on which the row is read again once
 * claimed; NULL for an approval, which has just committed "approved" (and
 * usually holds the claim already: see pb_cashier_withdrawal_approve). */
static payout_outcome send_payout(pb_cashier *k, pb_store_conn *c, pb_store_withdrawal *w,
                                  const char *trace)
{
    if (!cashier_payout_claim(k, w->id))
        return PAYOUT_BUSY;
    payout_outcome o = send_claimed(k, c, w, trace);
    cashier_payout_release(k, w->id);
    return o;
}

pb_err pb_cashier_payout_send(pb_cashier *k, pb_store_withdrawal *w)
{
    switch (send_payout(k, NULL, w, NULL)) {
    case PAYOUT_TAKEN: return PB_OK;
    case PAYOUT_REFUSED: return PB_ERR_PSP_UNAVAILABLE;
    default: return PB_ERR_WITHDRAWAL_STATE; /* being sent (or resolved) by another thread */
    }
}

static bool seen_has(const payout_seen *s, int64_t seq)
{
    size_t lo = 0, hi = s->n; /* s->seq is descending */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->seq[mid] == seq)
            return true;
        if (s->seq[mid] > seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* false when seq could not be remembered (out of memory) */
static bool seen_add(payout_seen *s, int64_t seq)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        void *p = realloc(s->seq, cap * sizeof *s->seq);
        if (!p)
            return false; /* not remembered: found again next pass, sent the pass after */
        s->seq = p;
        s->cap = cap;
    }
    s->seq[s->n++] = seq;
    return true;
}

/* Consecutive refusals of one pass, per PSP code. */
typedef struct pass_psps {
    char code[PB_CASHIER_MAX_PSPS + 1][PB_STORE_CASHIER_PSP_MAX + 1];
    unsigned refused[PB_CASHIER_MAX_PSPS + 1];
    size_t n;
} pass_psps;

static unsigned *pass_refused(pass_psps *p, const char *code)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->code[i], code) == 0)
            return &p->refused[i];
    if (p->n == sizeof p->code / sizeof p->code[0])
        return &p->refused[p->n - 1]; /* more PSPs than configured: one shared count */
    snprintf(p->code[p->n], sizeof p->code[0], "%s", code);
    return &p->refused[p->n++];
}

/* Reads every "approved" withdrawal (newest first, a page at a time, through the
 * status index) and sends the payout of each one in *seen (NULL: of every one),
 * except to a PSP that refused PB_CASHIER_PASS_REFUSALS in a row in this pass, and
 * except one that another thread (its approval, or a staff resolve) holds the
 * claim of right now. Those still approved after it go to *now (when not NULL);
 * *busy of them were claimed by another thread when the pass met them (in *now
 * all the same: found again at the next pass, a refused send is sent then; but
 * not waiting on this pass: their payout was under way). *tried: payouts sent;
 * returns how many the PSP took. */
static size_t payout_pass(pb_cashier *k, pb_store_conn *c, const payout_seen *seen,
                          payout_seen *now, size_t *tried, size_t *busy)
{
    enum { PAGE = 64 };
    pb_store_withdrawal *rows = calloc(PAGE, sizeof *rows);
    pass_psps psps = {0};
    size_t sent = 0, n = PAGE, held_back = 0;
    int64_t before = 0;
    *tried = 0;
    *busy = 0;
    gate_held_pass(k, true);
    while (rows && n == PAGE) {
        pb_store_withdrawal_query q = {.status = "approved", .before_seq = before, .limit = PAGE};
        if (pb_store_withdrawal_list(c, &q, rows, &n) != PB_STORE_OK)
            break;
        for (size_t i = 0; i < n; i++) {
            before = rows[i].seq;
            bool claimed_elsewhere = false, tried_now = false;
            if (!seen || seen_has(seen, rows[i].seq)) {
                unsigned *refused = pass_refused(&psps, rows[i].psp);
                if (*refused >= PB_CASHIER_PASS_REFUSALS) {
                    held_back++;
                } else {
                    tried_now = true;
                    payout_outcome o = send_payout(k, c, &rows[i], NULL);
                    claimed_elsewhere = o == PAYOUT_BUSY;
                    if (o != PAYOUT_SKIPPED && o != PAYOUT_BUSY) {
                        ++*tried;
                        *refused = o == PAYOUT_TAKEN ? 0 : *refused + 1;
                    }
                    if (o == PAYOUT_TAKEN && strcmp(rows[i].status, "processing") == 0) {
                        sent++;
                        if (seen) /* the retry's: counted as it happens */
                            atomic_fetch_add_explicit(&k->payouts_resent, 1, memory_order_relaxed);
                        continue;
                    }
                    if (strcmp(rows[i].status, "approved") != 0)
                        continue; /* recorded by another send meanwhile */
                }
            }
            if (!tried_now) /* first sight, or held back: is another thread on it? */
                claimed_elsewhere = payout_claimed(k, rows[i].id);
            if (now && seen_add(now, rows[i].seq) && claimed_elsewhere)
                ++*busy;
        }
    }
    free(rows);
    gate_held_pass(k, false); /* who this pass did not hold back is forgotten */
    if (held_back)
        pb_log(PB_LOG_WARN, "cashier.payout",
               "%zu payouts held back for the next pass: their PSP refused %d in a row", held_back,
               PB_CASHIER_PASS_REFUSALS);
    return sent;
}

/* A process that stops between the last approval's commit and the payout's leaves
 * the withdrawal "approved" with nobody to send it (approving again is
 * WITHDRAWAL_STATE): its money stays held for ever. At start-up no request is in
 * flight, so every "approved" row is such an orphan: its payout is sent now, as the
 * approval would have sent it (a PSP adapter keys a payout by the withdrawal, so
 * one the PSP had taken before the stop is not paid twice: the sandbox derives
 * the reference from the withdrawal id and answers the same one). Returns how
 * many were sent. */
size_t pb_cashier_resume_payouts(pb_cashier *k, pb_store *store)
{
    char err[256];
    pb_store_conn *c = store ? pb_store_connect(store, err, sizeof err) : NULL;
    if (!c)
        return 0;
    size_t tried, busy, sent = payout_pass(k, c, NULL, NULL, &tried, &busy);
    if (sent)
        pb_log(PB_LOG_INFO, "cashier.payout", "%zu approved payouts sent after a restart", sent);
    pb_store_disconnect(c);
    return sent;
}

/* A payout the PSP did not take leaves its withdrawal "approved". One found so
 * at two passes in a row is sent again: a withdrawal approved a moment ago, whose
 * approval is still sending it, is at most at one of them. payouts_waiting: the
 * approved ones the pass left waiting, not those another thread was sending (or
 * resolving) as the pass met them. */
size_t pb_cashier_retry_payouts(pb_cashier *k, pb_store_conn *c, payout_seen *seen)
{
    payout_seen now = {0};
    size_t tried, busy, sent = payout_pass(k, c, seen, &now, &tried, &busy);
    free(seen->seq);
    *seen = now;
    atomic_store_explicit(&k->payouts_waiting, now.n - busy, memory_order_relaxed);
    if (tried)
        pb_log(sent == tried ? PB_LOG_INFO : PB_LOG_WARN, "cashier.payout",
               "payout retry: %zu of %zu payouts the PSP had not taken sent", sent, tried);
    return sent;
}

static const char *psp_state_name(pb_psp_payout_state s)
{
    switch (s) {
    case PB_PSP_PAYOUT_IS_PENDING: return "pending";
    case PB_PSP_PAYOUT_IS_PAID: return "paid";
    case PB_PSP_PAYOUT_IS_FAILED: return "failed";
    case PB_PSP_PAYOUT_IS_NOT_TAKEN: return "not_taken";
    default: return "unknown";
    }
}

/* Asks the PSP what became of w's payout (outside any command: it may do I/O)
 * into *st: PB_OK when it says paid, failed or never taken, for w's amount,
 * currency and reference; PAYOUT_PENDING; PAYOUT_STATUS_UNKNOWN when it cannot
 * say, names another amount, currency or reference, or is not configured (any
 * more) or cannot be asked. */
pb_err cashier_ask_psp(pb_cashier *k, const pb_store_withdrawal *w, pb_psp_payout_status *st)
{
    memset(st, 0, sizeof *st);
    pb_psp *psp = pb_cashier_psp(k, w->psp);
    if (psp && psp->payout_status)
        psp->payout_status(psp, w, st);
    bool taken = st->state == PB_PSP_PAYOUT_IS_PAID || st->state == PB_PSP_PAYOUT_IS_FAILED;
    if (st->state == PB_PSP_PAYOUT_IS_PENDING)
        return PB_ERR_PAYOUT_PENDING;
    if (st->state == PB_PSP_PAYOUT_IS_UNKNOWN)
        return PB_ERR_PAYOUT_STATUS_UNKNOWN;
    if (taken && (st->amount != w->amount || strcmp(st->currency, w->currency) != 0 ||
                  (w->psp_reference[0] && strcmp(st->reference, w->psp_reference) != 0))) {
        pb_log(PB_LOG_ERROR, "cashier.payout",
               "withdrawal=%s: the PSP reports %lld %s under %s, not the withdrawal's: left for "
               "an operator",
               w->id, (long long)st->amount, st->currency, st->reference);
        return PB_ERR_PAYOUT_STATUS_UNKNOWN;
    }
    return PB_OK;
}

typedef struct resolve_ctx {
    const pb_cashier_actor *a;
    const char *reason;
    char seen[sizeof((pb_store_withdrawal *)0)->status]; /* the status the PSP was asked about */
    const pb_psp_payout_status *psp;
    pb_store_withdrawal w;
    pb_err result;
} resolve_ctx;

/* The staff resolve's command: settles the withdrawal as the PSP answered, if it
 * is still in the state it was in when the PSP was asked (a webhook, or another
 * resolve, may have settled it since: WITHDRAWAL_STATE, nothing written). */
static pb_err resolve_command(pb_ledger_tx *tx, void *arg)
{
    resolve_ctx *x = arg;
    if (cashier_actor_check(tx, x->a, &x->result) != PB_OK)
        return PB_ERR_INTERNAL;
    if (x->result != PB_OK)
        return PB_OK;
    pb_store_rc rc = pb_store_withdrawal_get(pb_ledger_tx_conn(tx), x->w.id, &x->w);
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (strcmp(x->w.status, x->seen) != 0) {
        x->result = PB_ERR_WITHDRAWAL_STATE;
        return PB_OK;
    }
    json_t *before = cashier_withdrawal_json(&x->w, (size_t)x->w.approvals_required);
    bool paid = x->psp->state == PB_PSP_PAYOUT_IS_PAID;
    if (paid && !x->w.psp_reference[0]) /* the PSP's later webhook then finds it settled */
        snprintf(x->w.psp_reference, sizeof x->w.psp_reference, "%s", x->psp->reference);
    snprintf(x->w.reason, sizeof x->w.reason, "%s", x->reason);
    json_t *extra = json_pack("{s:s,s:s}", "psp_status", psp_state_name(x->psp->state),
                              "resolved_from", x->seen);
    return cashier_payout_settle(tx, &x->w, paid, x->a, before, "withdrawal.resolve", extra,
                                 x->reason, false, &x->result);
}

pb_err pb_cashier_withdrawal_resolve(pb_cashier *k, pb_store_conn *c, const char *id,
                                     const char *reason, const pb_cashier_actor *a,
                                     pb_store_withdrawal *out, pb_psp_payout_state *psp_state)
{
    *psp_state = PB_PSP_PAYOUT_IS_UNKNOWN;
    if (!id || strlen(id) > PB_ID_STR_LEN)
        return PB_ERR_WITHDRAWAL_NOT_FOUND;
    resolve_ctx x = {.a = a, .reason = reason ? reason : ""};
    snprintf(x.w.id, sizeof x.w.id, "%s", id);
    /* the send claim: no send or retry pass of this process sends the payout while
     * the PSP is asked and the answer is recorded */
    if (!cashier_payout_claim(k, x.w.id))
        return PB_ERR_WITHDRAWAL_BUSY;
    pb_store_rc rc = pb_store_withdrawal_get(c, x.w.id, &x.w);
    pb_err e = rc == PB_STORE_OK          ? PB_OK
               : rc == PB_STORE_NOT_FOUND ? PB_ERR_WITHDRAWAL_NOT_FOUND
                                          : PB_ERR_STORE_UNAVAILABLE;
    if (e == PB_OK && strcmp(x.w.status, "approved") != 0 && strcmp(x.w.status, "processing") != 0)
        e = PB_ERR_WITHDRAWAL_STATE;
    pb_psp_payout_status st = {0};
    if (e == PB_OK) {
        snprintf(x.seen, sizeof x.seen, "%s", x.w.status);
        e = cashier_ask_psp(k, &x.w, &st);
        *psp_state = st.state;
    }
    if (e == PB_OK) {
        x.psp = &st;
        e = pb_ledger_command(k->ledger, resolve_command, &x);
        if (e == PB_OK)
            e = x.result;
    }
    cashier_payout_release(k, x.w.id);
    if (e == PB_OK)
        pb_log(PB_LOG_INFO, "cashier.payout", "withdrawal=%s resolved by staff %s: PSP says %s, %s",
               x.w.id, a->id, psp_state_name(st.state), x.w.status);
    *out = x.w;
    return e;
}

void cashier_payout_after_approval(pb_cashier *k, pb_store_withdrawal *w, bool claimed,
                                   const char *trace)
{
    if (claimed)
        (void)send_claimed(k, NULL, w, trace);
    else
        (void)send_payout(k, NULL, w, trace);
}
