/*
 * cashier_internal.h — what the cashier's files share (cashier.c: the handle
 * and deposits; webhook.c: the PSPs' webhook events; withdrawal.c: withdrawals;
 * payout.c: their payouts sent, retried, resolved by staff; payout_settle.c:
 * a payout settled, the PSP's payout events; manual.c: a payout settled by
 * hand). Private to src/cashier/.
 */
#ifndef PB_CASHIER_INTERNAL_H
#define PB_CASHIER_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cashier/cashier.h"

#define PB_CASHIER_MAX_PSPS 4
#define PB_CASHIER_SCOPE_DEPOSIT "deposit"
#define PB_CASHIER_SCOPE_WITHDRAWAL "withdrawal"

/* The withdrawals found "approved" by the payout retry's last pass: their seqs,
 * newest first (the order the pass reads them in), so a lookup is a binary search. */
typedef struct payout_seen {
    int64_t *seq;
    size_t n, cap;
} payout_seen;

/* The withdrawals whose payout is being sent right now (payout.c): a send
 * claims its withdrawal before it calls the PSP and releases it once
 * "processing" is recorded (or the PSP refused), so that no two threads of the
 * process send one payout at once. A handful at a time: a linear scan. */
typedef struct payout_claims {
    char (*id)[PB_ID_STR_LEN + 1];
    size_t n, cap;
} payout_claims;

/* The payouts the passes hold back at the player gate (a player blocked or closed
 * since the approval), each with the gate's answer: its WARN is logged when a pass
 * first holds it back for that answer, not at every pass (the withdrawal stays
 * "approved"; staff see why in its current_checks). An entry a pass no longer
 * holds back (sent, settled, the answer changed) is dropped at the pass's end. */
typedef struct payout_gate_held {
    struct {
        char id[PB_ID_STR_LEN + 1];
        char code[40];
        uint64_t pass; /* the last pass that held it back */
    } * e;
    size_t n, cap;
    uint64_t pass; /* the current pass */
} payout_gate_held;

/* A pass sends no more payouts to a PSP that refused this many in a row: the rest
 * stay "approved" for the next pass, instead of each waiting on a PSP that is down. */
#define PB_CASHIER_PASS_REFUSALS 8

/* The daily reconciliation's figures of one PSP (reconcile_daily.c), under recon_mu
 * but done_to (the thread's own). */
typedef struct recon_daily_stat {
    int64_t done_to;         /* the period end seen reconciled (0: none yet) */
    uint64_t runs, failures; /* scheduled runs made, and those that failed */
    int64_t discrepancies;   /* of the last scheduled run */
    int64_t last_run_at;     /* µs; 0: none yet */
} recon_daily_stat;

#define PB_CASHIER_RECONCILE_ACTOR "cashier.reconcile"

struct pb_cashier {
    pb_wallet *wallet;
    pb_ledger *ledger;
    pb_psp *psps[PB_CASHIER_MAX_PSPS];
    size_t npsps;
    /* the payout retry (cashier.c): a thread that sends again, every retry_ms,
     * the payouts the PSP did not take */
    pb_store *store;
    int retry_ms;
    struct pb_ticker *retry;   /* NULL: no store or retry_ms <= 0 */
    pb_store_conn *retry_conn; /* the retry thread's own (only it uses it) */
    payout_seen seen;
    pthread_mutex_t claims_mu; /* guards claims */
    payout_claims claims;
    payout_gate_held gate_held; /* guarded by claims_mu too */
    _Atomic uint64_t payouts_refused, payouts_resent, payouts_waiting; /* pb_cashier_stats */
    /* the daily reconciliation (reconcile_daily.c): recon_minute -1 = off */
    int recon_minute;
    struct pb_ticker *recon_ticker;
    pb_store_conn *recon_conn; /* the thread's own */
    pthread_mutex_t recon_mu;  /* recon_stats but their done_to */
    recon_daily_stat recon_stats[PB_CASHIER_MAX_PSPS];
};

/* Starts the daily reconciliation at minute (0..1439 of the UTC day; < 0: off).
 * 0, or -1 with the reason in err. */
int cashier_reconcile_daily_start(pb_cashier *k, int minute, char *err, size_t errcap);

/* The audit entry of a cashier state change, in the command's transaction;
 * before/after are JSON values (their references are stolen). */
pb_err pb_cashier_audit(pb_ledger_tx *tx, const pb_cashier_actor *a, const char *brand,
                        const char *action, const char *target_kind, const char *target_id,
                        json_t *before, json_t *after, const char *reason);
/* The same on connection c's transaction at `now` (outside a ledger command: the
 * admin staff route's, pb_cashier_staff_approvals_judge). */
pb_err cashier_audit_at(pb_store_conn *c, int64_t now, const pb_cashier_actor *a, const char *brand,
                        const char *action, const char *target_kind, const char *target_id,
                        json_t *before, json_t *after, const char *reason);

/* The brand's 4-eyes threshold for currency (settings "withdrawal_4eyes_thresholds",
 * minor units of that currency) into *out: false when none is configured for it
 * (or the brand cannot be read) — the caller then asks for two approvals. */
bool pb_cashier_4eyes_threshold(pb_store_conn *c, int64_t brand_id, const char *currency,
                                int64_t *out);

/* The brand's deposit limits for currency, minor units of that currency, into
 * *min and *max: its entries in settings "deposit_mins" / "deposit_maxes", each
 * independently, or for a currency without one (or a brand that cannot be read)
 * the built-in PB_CASHIER_DEFAULT_DEPOSIT_MIN / _MAX — what every deposit got
 * before per-currency limits, and what a brand that never set limits gets. */
void pb_cashier_deposit_limits(pb_store_conn *c, int64_t brand_id, const char *currency,
                               int64_t *min, int64_t *max);

/* 1..100 printable ASCII characters. */
bool pb_cashier_key_valid(const char *key);

/* The PSP clearing account of psp in the brand and currency, created when missing. */
pb_err pb_cashier_clearing(pb_cashier *k, pb_store_conn *c, const char *brand, const char *psp,
                           const char *currency, int64_t *id);

/* The withdrawal part of a verified payout event, inside the event's command:
 * sets *outcome ("applied" | "ignored" | "mismatch") or *refusal; returns
 * INTERNAL only on a store failure. unclaimed: the brand's unclaimed-funds
 * account in the withdrawal's currency when its player is closed (a returned
 * payout goes there), else 0. */
pb_err pb_cashier_payout_event(pb_ledger_tx *tx, const pb_psp_event *ev, pb_store_withdrawal *w,
                               const pb_cashier_actor *a, int64_t unclaimed, const char **outcome,
                               pb_err *refusal);

/* The accounts of a deposit's credit: the PSP's clearing account it comes from,
 * the player's cash it goes to, or the brand's unclaimed funds in its currency when
 * the player is closed (erased; else 0). */
typedef struct cashier_deposit_accounts {
    int64_t cash, clearing, unclaimed;
} cashier_deposit_accounts;

/* The accounts of deposit p's credit, looked up (the clearing and unclaimed-funds
 * accounts made when missing) on c outside the command, as the webhook does:
 * unclaimed only when the player is closed now. */
pb_err cashier_deposit_accounts_of(pb_cashier *k, pb_store_conn *c, const pb_store_payment *p,
                                   cashier_deposit_accounts *acc);

/* Settles deposit *p (read in the command; pending, expired or failed for ok, not
 * failed for !ok) inside tx as the PSP's deposit.succeeded (ok) or deposit.failed
 * does (webhook.c): for ok the transfer from the clearing account to the player's
 * cash (or the unclaimed funds of a closed player, then also funds.unclaimed
 * audited and announced), completed_late decided now (after the intent expired, not
 * after a failure); the row; the event deposit.completed / deposit.failed; the
 * audit entry payment.completed / payment.failed by a, its reason the webhook's
 * (reason NULL) or reason (a staff completion; "; late completion…" added when late).
 * A refusal in *refusal (the ledger's, or PAYMENT_NOT_FOUND: the player was erased
 * since the accounts were looked up, acc->unclaimed 0) with nothing written;
 * INTERNAL on a store failure. */
pb_err cashier_deposit_settle(pb_ledger_tx *tx, pb_store_payment *p, bool ok,
                              const cashier_deposit_accounts *acc, const pb_cashier_actor *a,
                              const char *reason, pb_err *refusal);

/* a then b into buf (cap bytes), cut at a UTF-8 boundary when longer; buf. */
const char *cashier_reason_join(char *buf, size_t cap, const char *a, const char *b);

/* Whether player (public id) is closed (erased), as c sees it (*closed); INTERNAL
 * on a store failure. */
pb_err cashier_player_closed(pb_store_conn *c, const char *player, bool *closed);

/* At start-up: sends the payouts of the withdrawals a stopped process left
 * "approved" (see payout.c); how many were sent. */
size_t pb_cashier_resume_payouts(pb_cashier *k, pb_store *store);

/* Sends the payout of approved withdrawal *w as its approval does (claimed for
 * the send; *w becomes the stored row once "processing" is recorded): PB_OK when
 * the PSP took it, else why not. For the tests of a send that meets a payout
 * recorded already. */
pb_err pb_cashier_payout_send(pb_cashier *k, pb_store_withdrawal *w);

/* One pass of the payout retry on c: sends again the payouts of the withdrawals
 * that are "approved" now and were already at the previous pass (*seen, which
 * becomes what is approved after this one); how many the PSP took. */
size_t pb_cashier_retry_payouts(pb_cashier *k, pb_store_conn *c, payout_seen *seen);

/* The staff actor's rights as the command's transaction sees them (a->principal,
 * pb_identity_principal_check): PB_OK with *refusal PB_OK when they stand (or a
 * has no principal), else with *refusal SESSION_REVOKED / FORBIDDEN, and the
 * command writes nothing. INTERNAL on a store failure. */
pb_err cashier_actor_check(pb_ledger_tx *tx, const pb_cashier_actor *a, pb_err *refusal);

/* ---- approvals.c: which approvals of a withdrawal count ---- */

/* Why an approval stops counting (withdrawal_approval.lapsed_reason). */
#define PB_CASHIER_LAPSE_STAFF_DISABLED "staff_disabled"
#define PB_CASHIER_LAPSE_PERMISSION_REVOKED "permission_revoked"
#define PB_CASHIER_LAPSE_BRAND_OUT_OF_SCOPE "brand_out_of_scope"
#define PB_CASHIER_LAPSE_STAFF_NOT_FOUND "staff_not_found"
/* Why withdrawal.approval_lapsed was announced (its payload's "reason"): an approver
 * lost the right (above), or the brand's 4-eyes threshold was lowered (or removed
 * for the currency) since the request, so more approvals are needed now. */
#define PB_CASHIER_LAPSE_APPROVER "approver_lost_right"
#define PB_CASHIER_RAISE_THRESHOLD_LOWERED "threshold_lowered"
/* The actor of a lapse's audit entry (the system judged it, not a member). */
#define PB_CASHIER_APPROVALS_ACTOR "cashier.approvals"

/* Whether staff member staff_id (public id) may give, or keep, an approval of a
 * withdrawal of brand_id as c sees the store now: *why NULL when they may (active,
 * the role grants finance.withdrawals.approve, the brand in scope), else one of
 * PB_CASHIER_LAPSE_*. INTERNAL on a store failure. */
pb_err cashier_approver_lapse(pb_store_conn *c, const char *staff_id, int64_t brand_id,
                              const char **why);

/* A withdrawal's approvals as judged now. */
typedef struct cashier_approvals {
    pb_store_withdrawal_approval ap[PB_CASHIER_MAX_APPROVALS]; /* every row, standing first */
    size_t n;
    const char *why[PB_CASHIER_MAX_APPROVALS]; /* per row: the reason it lapses now, or NULL */
    size_t standing;                           /* approvals that count */
    size_t lapsing; /* standing rows whose member lost the right: they lapse now */
    int required;   /* approvals needed now (cashier_approvals_required_now) */
} cashier_approvals;

/* The approvals w needs now into *out: the stricter of what it needed when it was
 * requested (w->approvals_required) and what the brand's withdrawal_4eyes_thresholds
 * ask for its amount and currency today (two at or above the threshold, or with none
 * for the currency). Never fewer than w->approvals_required. INTERNAL on a store
 * failure (the brand cannot be read). */
pb_err cashier_approvals_required_now(pb_store_conn *c, const pb_store_withdrawal *w, int *out);

/* Reads w's approvals and judges each standing one (cashier_approver_lapse), and the
 * approvals it needs now (out->required); writes nothing. INTERNAL on a store failure. */
pb_err cashier_approvals_judge(pb_store_conn *c, const pb_store_withdrawal *w,
                               cashier_approvals *out);
/* Marks the approvals j found lapsing, in the command's transaction; *lapsed: a JSON
 * array of them (staff_id, role, approved_at, lapsed_reason) for the audit entry
 * (the caller's reference), NULL when none lapsed. INTERNAL on a store failure. */
pb_err cashier_approvals_lapse(pb_ledger_tx *tx, cashier_approvals *j, json_t **lapsed);
/* The event withdrawal.approval_lapsed of w as it is now (its status), with the
 * approvals still counting (standing), approvals_required and the reason
 * (PB_CASHIER_LAPSE_APPROVER or PB_CASHIER_RAISE_THRESHOLD_LOWERED), on c at now. */
pb_err cashier_approval_lapsed_emit(pb_store_conn *c, int64_t now, const pb_store_withdrawal *w,
                                    size_t standing, const char *reason, const char *trace_id);
/* Marks the approvals j found lapsing on c's transaction at `now`, and raises
 * w->approvals_required to j->required when that is more (written to the row). When
 * either happened: withdrawal *w (status "approved") left with fewer standing
 * approvals than required goes back to pending_approval (*back; the hold untouched);
 * audited withdrawal.approval_lapsed by actor a, its reason "approver lost the right
 * <when>" or "the brand's 4-eyes threshold was lowered since the request: two
 * approvals needed <when>" (both, joined by "; ", when one look found both; ": back
 * to pending_approval" when it went back); announced at every lapse
 * and whenever it went back (event reason PB_CASHIER_RAISE_THRESHOLD_LOWERED when the
 * requirement was raised, else PB_CASHIER_LAPSE_APPROVER). Writes nothing when
 * neither happened. INTERNAL on a store failure. */
pb_err cashier_approvals_apply(pb_store_conn *c, int64_t now, pb_store_withdrawal *w,
                               cashier_approvals *j, const pb_cashier_actor *a, const char *when,
                               bool *back);

/* ---- shared by withdrawal.c and payout.c ---- */

/* A withdrawal command's context (request, cancel, reject, approve, sent). */
typedef struct wd_ctx {
    const pb_cashier_player *pl;
    const pb_cashier_actor *a;
    const char *player; /* cancel: the owner */
    const char *reason; /* reject */
    pb_store_withdrawal w;
    int64_t cash, clearing;
    bool replayed;
    bool approved; /* approve: that was the last approval needed */
    bool recorded; /* sent: the row had this payout's reference already */
    bool lapsed;   /* recheck: an approval lapsed, back to pending_approval */
    pb_err result;
} wd_ctx;

/* The row's audit view. */
json_t *cashier_withdrawal_json(const pb_store_withdrawal *w, size_t approvals);
/* A transfer on the withdrawal's hold: post (paid) or void (money back). */
void cashier_hold_resolve(pb_transfer *t, const pb_store_withdrawal *w, bool post,
                          const char *trace);
/* Announces the withdrawal's new state, in the command's transaction. */
pb_err cashier_withdrawal_emit(pb_ledger_tx *tx, const char *type, const pb_store_withdrawal *w,
                               const char *trace_id);
/* The same on connection c's transaction at `now`. */
pb_err cashier_withdrawal_emit_at(pb_store_conn *c, int64_t now, const char *type,
                                  const pb_store_withdrawal *w, const char *trace_id);
/* Submits one transfer in the command: PB_OK with *refusal set on a business
 * refusal, INTERNAL on a store failure. */
pb_err cashier_submit1(pb_ledger_tx *tx, pb_transfer *t, pb_err *refusal);
/* withdrawal.c: whether staff member staff_id (public id) is player through a
 * staff account of the player's e-mail (*self); INTERNAL on a store failure. */
pb_err cashier_staff_is_player(pb_store_conn *c, const char *staff_id, const char *player,
                               bool *self);
/* payout.c: claims withdrawal id for sending its payout (false: another thread
 * sends or resolves it now), and gives the claim back. */
bool cashier_payout_claim(pb_cashier *k, const char *id);
void cashier_payout_release(pb_cashier *k, const char *id);
/* Settles a processing payout (payout_settle.c): the hold posted (paid) or voided, the
 * row, the event and the audit entry `action` (before and after_extra stolen); a
 * waiting manual statement deleted (manual) or dropped and named. *refusal: the
 * ledger's refusal, nothing written. */
pb_err cashier_payout_settle(pb_ledger_tx *tx, pb_store_withdrawal *w, bool paid,
                             const pb_cashier_actor *a, json_t *before, const char *action,
                             json_t *after_extra, const char *reason, bool manual, pb_err *refusal);
/* What the payout's PSP says of it (payout.c); PAYOUT_STATUS_UNKNOWN when it cannot say. */
pb_err cashier_ask_psp(pb_cashier *k, const pb_store_withdrawal *w, pb_psp_payout_status *st);
/* payout.c: the approval's send, the claim taken before the command (claimed) or
 * taken now if it can be. */
void cashier_payout_after_approval(pb_cashier *k, pb_store_withdrawal *w, bool claimed,
                                   const char *trace);

/* cashier.c's pieces webhook.c shares: a payment as its audit entries show it;
 * a store answer as an error (NOT_FOUND → not_found); when a deposit intent
 * expires (its brand's deposit_expiry_minutes, deposit_expiry.h). */
json_t *cashier_payment_json(const pb_store_payment *p);
pb_err cashier_store_read(pb_store_rc rc, pb_err not_found);
int64_t cashier_deposit_expires_at(pb_store_conn *c, const pb_store_payment *p);

#endif
