/*
 * cashier.h — deposits and withdrawals through payment service providers (PSPs):
 * the cashier domain's only door (the PSP interface is in psp.h).
 *
 * Money moves only through the ledger, and every state change of a payment or
 * a withdrawal runs as ONE ledger command (ledger.h) together with its audit
 * entry and its transfer: they commit together or not at all, serialised with
 * every other money movement, so no two deliveries of a webhook can race.
 *
 * Deposits: the player asks (idempotent by their key; amount within the brand's
 * limits for the player's currency, settings "deposit_mins" / "deposit_maxes":
 * {"EUR": 1000, "JPY": 1500, ...}, minor units of that currency, else
 * AMOUNT_OUT_OF_RANGE; a currency without an entry gets the built-in 100 and
 * 100000000 minor units, as every deposit did before the limits were per
 * currency — migration 0041 copied a brand's former single values to each of
 * its currencies, so nothing changed, and left brands without limits on the
 * built-in ones) → the player gate (DEPOSIT) → the PSP
 * gives a reference and a checkout URL → "pending" → the PSP's signed webhook
 * says deposit.succeeded → PSP clearing → player cash (ledger scope "deposit",
 * key = the payment id: credited once whatever happens), "completed".
 *
 * Webhook events are recorded by (psp, event id): a second delivery changes
 * nothing and is answered 200 "duplicate". Order does not matter:
 *  - deposit.failed after deposit.succeeded is recorded ("ignored") and changes
 *    nothing;
 *  - deposit.succeeded after deposit.failed STILL CREDITS: the PSP says it holds
 *    the player's money, so the failure was provisional; the payment becomes
 *    "completed" and the audit entry says "after a failure";
 *  - an event whose amount or currency is not the payment's (withdrawal's) moves
 *    nothing, is recorded as "mismatch" and audited for an operator;
 *  - a payout event for a settled withdrawal is "ignored"; one contradicting it
 *    (payout.failed after "paid": the player has not got the money; payout.paid
 *    after "failed": paid twice) moves nothing either and is audited
 *    ("withdrawal.payout_conflict") and logged for an operator;
 *  - payout.returned (the PSP's notice that a paid payout came back, e.g. the
 *    payee's bank returned it) for a "paid" withdrawal of its amount and
 *    currency credits the amount back to the player's cash (a transfer from the
 *    PSP clearing account the hold was posted to, key "<id>:return"),
 *    "returned" (final), audited ("withdrawal.returned"); for a "processing"
 *    one (its payout.paid not arrived yet) it is recorded "deferred" and applied
 *    when the payout is paid, whatever pays it; for any other state it
 *    moves nothing ("ignored"; audited as a payout_conflict unless "returned"
 *    already), for another amount or currency it is a "mismatch";
 *  - an event for an unknown reference is PAYMENT_NOT_FOUND (or
 *    WITHDRAWAL_NOT_FOUND) and is NOT recorded, so the PSP's retry after the
 *    payment exists works.
 *
 * Withdrawals: the player asks → the checks (the player gate WITHDRAW: blocked,
 * self-excluded, closed; "bonus_wagering" and "kyc" are named checks that pass
 * until later issues fill them) are recorded on the row → the amount (≤ the
 * withdrawable cash; bonus money is never withdrawable) is held: a pending
 * transfer player cash → PSP clearing, no timeout, code WITHDRAWAL →
 * "pending_approval" → finance approves: the player gate (WITHDRAW) is asked
 * again at every approval, so a player blocked or closed since the request gets
 * none (PLAYER_BLOCKED, nothing written) and the withdrawal stays
 * "pending_approval" until finance rejects it (the hold is voided); below the
 * brand's threshold for the withdrawal's currency (settings
 * "withdrawal_4eyes_thresholds": {"EUR": 100000, "JPY": 100000, ...}, minor
 * units of that currency, each set by staff through the brand's settings and
 * audited as a brand update) one approval, at or above it — or in a currency
 * the brand has no threshold for (fail-safe) — two approvals by two different
 * members; the same member twice, the member who
 * requested it on the player's behalf, or a member whose e-mail is the player's
 * (their own player account), is FOUR_EYES_VIOLATION → "approved" →
 * the payout is sent to the PSP → "processing" → payout.paid posts the hold
 * ("paid"), payout.failed voids it ("failed": the money is back). The player
 * may cancel ("cancelled") and finance may reject with a reason ("rejected")
 * while it waits for approval: the hold is voided. How many approvals a
 * withdrawal needs is decided when it is requested and judged again at each
 * approval and just before the payout is sent: the stricter of the request's rule
 * and the brand's threshold then (a threshold lowered since reaches the waiting
 * withdrawals; one raised never relaxes them; approvals.c). Any other transition
 * is WITHDRAWAL_STATE.
 *
 * A payout the PSP refused to take (payout_send failed: the PSP down, a network
 * error) stays "approved" and is logged; the cashier sends it again every
 * payout_retry_ms until the PSP takes it, and at start-up — each time only if
 * the player gate (WITHDRAW) lets it through as it stands then: a player
 * blocked or closed since the approval gets no payout until the block is
 * lifted (held, "approved"; finance may resolve it: the money back; staff see
 * why in the withdrawal's current_checks, and the log has one WARN per
 * withdrawal and gate answer, not one per pass). A payout is keyed by
 * its withdrawal (psp.h: the adapter gives the PSP the withdrawal id as the
 * idempotency key), so a PSP that took it without answering does not pay twice;
 * and within the process a send claims its withdrawal until "processing" is
 * recorded (an approval from before its command), so the retry never sends a
 * payout that an approval (slow PSP, slow disk) is still sending.
 *
 * Threads: a pb_cashier is shared by every HTTP worker; every function takes the
 * caller's connection (no transaction open on it) for its reads.
 */
#ifndef PB_CASHIER_CASHIER_H
#define PB_CASHIER_CASHIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cashier/deposit_expiry.h"
#include "cashier/psp.h"
#include "core/error.h"
#include "store/store.h"
#include "tenancy/tenancy.h"
#include "wallet/wallet.h"

#define PB_CASHIER_DEFAULT_DEPOSIT_MIN PB_BRAND_DEPOSIT_MIN_DEFAULT
#define PB_CASHIER_DEFAULT_DEPOSIT_MAX PB_BRAND_DEPOSIT_MAX_DEFAULT
#define PB_CASHIER_DEFAULT_PAYOUT_DELAY_MS 1000
#define PB_CASHIER_DEFAULT_PAYOUT_RETRY_MS 30000
#define PB_CASHIER_URL_MAX 256
#define PB_CASHIER_MAX_APPROVALS 16

typedef struct pb_cashier pb_cashier;

typedef struct pb_cashier_config {
    const char *keys_dir; /* the sandbox's secret lives here */
    bool sandbox;         /* register the built-in sandbox PSP */
    /* the sandbox's payout confirmations go to self_url's webhook route after
     * payout_delay_ms (0 = PB_CASHIER_DEFAULT_PAYOUT_DELAY_MS); self_url NULL: the
     * sandbox never confirms by itself (tests deliver the events) */
    pb_psp_self_url_fn self_url;
    void *self_url_ctx;
    int payout_delay_ms;
    /* how often payouts the PSP did not take are sent again: a withdrawal still
     * "approved" at two passes this far apart is sent again at the second
     * (0 = PB_CASHIER_DEFAULT_PAYOUT_RETRY_MS; negative: never, only at start-up) */
    int payout_retry_ms;
    bool sandbox_stuck_knobs; /* the sandbox's 19/23/29/31/37/41 test knobs (psp.h): tests only */
    /* the daily reconciliation (reconcile_daily.c): on with reconcile_daily, each PSP
     * whose report can be fetched reconciled for the previous UTC day once the UTC
     * clock passes reconcile_at_minute (0..1439) */
    bool reconcile_daily;
    int reconcile_at_minute;
} pb_cashier_config;

/* Opens the cashier over the wallet. With the sandbox and a self_url, payouts
 * the sandbox had not confirmed when the process stopped ("processing") are
 * queued again (read on a connection of store). NULL with a reason in err. */
pb_cashier *pb_cashier_open(pb_wallet *w, pb_store *store, const pb_cashier_config *cfg, char *err,
                            size_t errcap);
/* Stops the payout retry and the daily reconciliation (a pass under way finishes
 * first): their passes submit ledger commands, so they stop before the ledger
 * closes. NULL is fine; so is a second call. */
void pb_cashier_stop_retry(pb_cashier *k);
/* Stops the payout retry (if pb_cashier_stop_retry has not) and the sandbox's
 * delivery thread, frees everything. NULL is fine. */
void pb_cashier_close(pb_cashier *k);
/* The payout figures of the running cashier (for /metrics). */
typedef struct pb_cashier_stats {
    uint64_t payouts_refused; /* payout attempts the PSP did not take */
    uint64_t payouts_resent;  /* payouts the retry sent again and the PSP took */
    uint64_t payouts_waiting; /* withdrawals "approved" at the retry's last pass and not sent
                                 then, except those another thread (their approval, a staff
                                 resolve) held the claim of as the pass met them: a payout a
                                 PSP keeps refusing stays counted here */
} pb_cashier_stats;
void pb_cashier_stats_get(pb_cashier *k, pb_cashier_stats *out);

/* A registered PSP by code, or NULL. */
pb_psp *pb_cashier_psp(pb_cashier *k, const char *code);
/* The i-th registered PSP (in registration order), or NULL past the last. */
pb_psp *pb_cashier_psp_at(pb_cashier *k, size_t i);

/* Who acts (for the audit log and requested_by): kind "player" | "staff" | "system". */
struct pb_principal;
typedef struct pb_cashier_actor {
    const char *kind;
    const char *id;   /* public id */
    const char *role; /* staff */
    const char *trace_id;
    const char *ip;
    /* The caller's principal, authorized by the request on an earlier snapshot:
     * re-checked inside the command's ledger transaction (pb_identity_principal_check,
     * as pb_admin_write does) by the staff commands and by a player's withdrawal
     * request and cancel, so a member disabled, demoted, re-scoped or logged out, or
     * a player blocked or logged out, since then acts on nothing (SESSION_REVOKED,
     * FORBIDDEN, PLAYER_BLOCKED). NULL: not re-checked (the system). */
    const struct pb_principal *principal;
} pb_cashier_actor;

/* The player a deposit or withdrawal is for. */
typedef struct pb_cashier_player {
    int64_t brand_id;
    const char *brand;    /* brand code */
    const char *player;   /* public id */
    const char *currency; /* the player's */
} pb_cashier_player;

/* ---- deposits ---- */

/* A deposit intent of amount (minor units, > 0) with PSP psp_code (NULL: the
 * first registered, the sandbox). The same key again with the same amount and
 * PSP answers the original payment (*replayed, no second intent at the PSP);
 * another amount or PSP under it is IDEMPOTENCY_CONFLICT (out: the stored
 * payment). Two requests under one key at once decide the same way: the first
 * stored wins; the other, which had already made its intent at its PSP, leaves
 * that intent unused (logged: the PSP interface cannot cancel one). Also AMOUNT_OUT_OF_RANGE (the brand's limits),
 * PLAYER_BLOCKED, PLAYER_SELF_EXCLUDED, PSP_NOT_FOUND. url: the checkout URL. */
pb_err pb_cashier_deposit_create(pb_cashier *k, pb_store_conn *c, const pb_cashier_player *pl,
                                 const char *psp_code, int64_t amount, const char *key,
                                 const pb_cashier_actor *a, pb_store_payment *out,
                                 char url[PB_CASHIER_URL_MAX], bool *replayed);
/* The player's payment by id: PAYMENT_NOT_FOUND when it is not theirs. */
pb_err pb_cashier_deposit_get(pb_store_conn *c, const char *player, const char *id,
                              pb_store_payment *out);
/* A payment by id within a brand scope (NULL: any): PAYMENT_NOT_FOUND outside it. */
pb_err pb_cashier_payment_get(pb_store_conn *c, const pb_brand_scope *scope, const char *id,
                              pb_store_payment *out);
/* A payment by its PSP reference within a brand scope (NULL: any), looked up under
 * each PSP this server runs (a reference is unique per PSP); PAYMENT_NOT_FOUND when
 * none has it, or it is outside the scope. */
pb_err pb_cashier_payment_by_reference(pb_cashier *k, pb_store_conn *c, const pb_brand_scope *scope,
                                       const char *reference, pb_store_payment *out);
/* A deposit intent as player and staff see it at now_us (µs): "pending" for
 * longer than the brand's deposit_expiry_minutes (default
 * PB_CASHIER_DEFAULT_DEPOSIT_EXPIRY_MINUTES, 24 h) reads "expired" (so no
 * checkout URL). The row stays "pending": a PSP success arriving later still
 * credits the player (the money was captured), audited as a late completion.
 * Returns when the intent expires (µs, its expires_at; pending or expired), 0
 * once it is settled (completed or failed). */
int64_t pb_cashier_deposit_view(pb_store_conn *c, pb_store_payment *p, int64_t now_us);
/* A page of deposits as pb_cashier_deposit_view shows them at now_us, each one's
 * expiry in expires_at[i] (0 once settled), newest first (q->brand_ids_json from
 * pb_cashier_scope_json). q->status "expired": the intents still "pending" in the
 * store past their brand's deposit_expiry_minutes; "pending": only those not
 * expired yet; any other (or none) as stored. *next: the cursor of the next page
 * (0: none). "expired" and "pending" are decided in the query (keyset on seq
 * through the status index, each brand's expiry cutoff at now_us), so every
 * page is full until the last. */
pb_err pb_cashier_deposit_list(pb_store_conn *c, const pb_store_payment_query *q, int64_t now_us,
                               pb_store_payment *out, int64_t *expires_at, size_t *n,
                               int64_t *next);
/* The checkout URL of a pending payment ("" when its PSP is gone or it is settled). */
void pb_cashier_checkout_url(pb_cashier *k, const pb_store_payment *p,
                             char url[PB_CASHIER_URL_MAX]);
/* A page of payments (q->brand_ids_json from pb_cashier_scope_json), newest first. */
pb_err pb_cashier_payment_list(pb_store_conn *c, const pb_store_payment_query *q,
                               pb_store_payment *out, size_t *n);

/* ---- webhooks ---- */

typedef struct pb_cashier_webhook_result {
    const char *outcome; /* "applied" | "ignored" | "duplicate" | "mismatch" */
    pb_psp_event event;
} pb_cashier_webhook_result;

/* A webhook of PSP psp_code: verify, then apply as one ledger command. PB_OK
 * (see out->outcome), PSP_NOT_FOUND, SIGNATURE_INVALID, TIMESTAMP_STALE,
 * INVALID_REQUEST, PAYMENT_NOT_FOUND / WITHDRAWAL_NOT_FOUND (unknown reference:
 * nothing recorded, so a retry after the payment exists works). */
pb_err pb_cashier_webhook(pb_cashier *k, pb_store_conn *c, const char *psp_code, const char *body,
                          size_t len, pb_psp_header_fn header, void *hctx,
                          pb_cashier_webhook_result *out);

/* ---- withdrawals ---- */

/* A withdrawal request by actor a (the player, or a staff member on the player's
 * behalf): the checks, amount ≤ withdrawable cash (INSUFFICIENT_FUNDS), the hold
 * and the row; idempotent by key like deposits. */
pb_err pb_cashier_withdrawal_request(pb_cashier *k, pb_store_conn *c, const pb_cashier_player *pl,
                                     int64_t amount, const char *key, const pb_cashier_actor *a,
                                     pb_store_withdrawal *out, bool *replayed);
/* The player cancels their withdrawal (WITHDRAWAL_NOT_FOUND, WITHDRAWAL_STATE). */
pb_err pb_cashier_withdrawal_cancel(pb_cashier *k, const char *player, const char *id,
                                    const pb_cashier_actor *a, pb_store_withdrawal *out);
/* Finance rejects a withdrawal waiting for approval, with a reason. */
pb_err pb_cashier_withdrawal_reject(pb_cashier *k, const char *id, const char *reason,
                                    const pb_cashier_actor *a, pb_store_withdrawal *out);
/* Finance approves (WITHDRAWAL_STATE, FOUR_EYES_VIOLATION, or the player gate's
 * refusal as it stands now: PLAYER_BLOCKED, with nothing written). When it was
 * the last approval needed, the payout is sent before this returns: out is then
 * "processing" with the PSP's reference (or "approved" when the PSP refused the
 * payout, or, rarely, when another approval of the same withdrawal was under way
 * at that moment: the payout retry sends it). The approval holds the
 * withdrawal's send claim from before its command, so the retry never sends a
 * payout that an approval is about to send. */
pb_err pb_cashier_withdrawal_approve(pb_cashier *k, const char *id, const pb_cashier_actor *a,
                                     pb_store_withdrawal *out);
/* Finance resolves a withdrawal stuck "approved" (the PSP keeps refusing its
 * payout, or never answered) or "processing" (the PSP's webhook never came): the
 * PSP is asked what became of the payout (psp.h payout_status; *psp_state: its
 * answer). Paid: the hold is posted, "paid" (the PSP's reference recorded).
 * Failed, or never taken (the PSP guarantees it will not pay it): the hold is
 * voided, "failed", the money back. Pending: PAYOUT_PENDING; the PSP cannot say
 * (or says another amount, currency or reference): PAYOUT_STATUS_UNKNOWN; any
 * other state: WITHDRAWAL_STATE; a send of its payout under way in this process:
 * WITHDRAWAL_BUSY — each with nothing changed. Holds the withdrawal's send claim
 * from before the PSP is asked until the answer is committed, so neither the
 * approval nor the payout retry sends it meanwhile; a webhook that settles it
 * first makes the resolve WITHDRAWAL_STATE (the command re-reads the row), and
 * the money moves under the same ledger keys as the webhook's. Audited
 * ("withdrawal.resolve", with the PSP's answer and reason) in the same command.
 * c: the caller's connection, for the first read. */
pb_err pb_cashier_withdrawal_resolve(pb_cashier *k, pb_store_conn *c, const char *id,
                                     const char *reason, const pb_cashier_actor *a,
                                     pb_store_withdrawal *out, pb_psp_payout_state *psp_state);
/* The manual resolution of a stuck payout the PSP cannot report on (the PSP
 * removed from the configuration, the payout lost by its API, the PSP gone),
 * with 4-eyes. Allowed only while the withdrawal is "approved" or "processing"
 * and only when the PSP, asked again at each step (as a resolve asks it), cannot
 * say (PAYOUT_STATUS_UNKNOWN, or no such PSP configured): when it can, the step
 * is PAYOUT_STATUS_KNOWN (resolve it), when it says pending PAYOUT_PENDING.
 *  - state: a finance member states the outcome established out of band (paid
 *    true: paid; false: failed), a reason and an evidence reference. Written
 *    and audited ("withdrawal.manual_resolution_state"); nothing moves.
 *    MANUAL_RESOLUTION_EXISTS when one waits already.
 *  - confirm: a second member confirms the same outcome: the hold is posted
 *    (paid) or voided (failed, the money back) by payout_settle, the webhook's
 *    and the resolve's finishing, audited once ("withdrawal.manual_resolve",
 *    with the statement and both members). The member who stated it is
 *    FOUR_EYES_VIOLATION; another outcome MANUAL_RESOLUTION_CONFLICT (the
 *    statement stays); none waiting MANUAL_RESOLUTION_NOT_FOUND.
 *  - withdraw: the member who stated it takes it back (another one: FORBIDDEN),
 *    audited ("withdrawal.manual_resolution_withdraw"), in any state.
 * Either member being the player (a staff account with the player's e-mail) or
 * the member who asked for the withdrawal on the player's behalf is
 * FOUR_EYES_VIOLATION. A statement left waiting when the withdrawal settles
 * otherwise (the PSP's webhook, a resolve) is dropped with it (named in that
 * audit entry). Every refusal changes nothing. c: the caller's connection. */
pb_err pb_cashier_withdrawal_manual_state(pb_cashier *k, pb_store_conn *c, const char *id,
                                          bool paid, const char *reason, const char *evidence,
                                          const pb_cashier_actor *a, pb_store_withdrawal *out);
pb_err pb_cashier_withdrawal_manual_confirm(pb_cashier *k, pb_store_conn *c, const char *id,
                                            bool paid, const char *reason,
                                            const pb_cashier_actor *a, pb_store_withdrawal *out);
pb_err pb_cashier_withdrawal_manual_withdraw(pb_cashier *k, pb_store_conn *c, const char *id,
                                             const char *reason, const pb_cashier_actor *a,
                                             pb_store_withdrawal *out);
/* The statement waiting on withdrawal id, if any (*waiting). */
pb_err pb_cashier_withdrawal_manual_get(pb_store_conn *c, const char *id,
                                        pb_store_withdrawal_resolution *out, bool *waiting);
/* A withdrawal by id within a brand scope (NULL: any) and, when player is not
 * NULL, of that player: WITHDRAWAL_NOT_FOUND otherwise. */
pb_err pb_cashier_withdrawal_get(pb_store_conn *c, const pb_brand_scope *scope, const char *player,
                                 const char *id, pb_store_withdrawal *out);
/* A page of withdrawals, newest first. */
pb_err pb_cashier_withdrawal_list(pb_store_conn *c, const pb_store_withdrawal_query *q,
                                  pb_store_withdrawal *out, size_t *n);
/* A staff member's right to approve withdrawals may just have changed (disabled, a
 * role without finance.withdrawals.approve, a brand left their scope): called in the
 * write transaction on c that made the change, after it. Each standing approval of
 * theirs (staff_id: public id) of a withdrawal not yet sent (pending_approval,
 * approved) is judged again as the cashier judges it at an approval and before a
 * payout; the withdrawal's approvals whose members lost the right lapse now, and an
 * approved withdrawal left with too few goes back to pending_approval (hold kept);
 * each withdrawal with a lapse is audited and announced withdrawal.approval_lapsed
 * (trace_id), back or still pending_approval, all in c's transaction. One whose payout is being sent at this moment is left to that send's
 * re-check. k may be NULL (no payouts sent by this process). *n: how many
 * withdrawals had an approval lapse. INTERNAL on a store failure. */
pb_err pb_cashier_staff_approvals_judge(pb_cashier *k, pb_store_conn *c, const char *staff_id,
                                        int64_t now, const char *trace_id, size_t *n);
/* A brand's withdrawal_4eyes_thresholds may just have changed (lowered: more
 * withdrawals need two approvals): called in the write transaction on c that stored
 * the brand's settings, after it. Each withdrawal of brand_id approved and not yet
 * sent is judged again as the cashier judges it before a payout (the stricter of
 * its request's and today's threshold; its approvers' rights): one left with too
 * few approvals goes back to pending_approval (hold kept), its raised requirement
 * written to the row, audited and announced withdrawal.approval_lapsed (reason
 * threshold_lowered; trace_id), all in c's transaction. One whose payout is being
 * sent at this moment is left to that send's re-check. Each one still pending_approval
 * gets the raised requirement written to its row (audited, not announced: nothing of
 * it lapsed), so the queue shows what its next approval would judge. k may be NULL.
 * *n: how many went back. INTERNAL on a store failure. */
pb_err pb_cashier_brand_approvals_judge(pb_cashier *k, pb_store_conn *c, int64_t brand_id,
                                        int64_t now, const char *trace_id, size_t *n);
/* The approvals of a withdrawal (at most PB_CASHIER_MAX_APPROVALS): the standing ones
 * in the order given, then the lapsed ones (lapsed_at, lapsed_reason set). */
pb_err pb_cashier_withdrawal_approvals(pb_store_conn *c, const char *id,
                                       pb_store_withdrawal_approval out[PB_CASHIER_MAX_APPROVALS],
                                       size_t *n);

/* ---- reconciliation (reconcile.c) ---- */

/* A run compares a PSP's settlement report of a period [from, to) with our books.
 * Every PSP row inside the period is looked up by its reference (a payment's
 * psp_reference for a deposit; a withdrawal's payout reference, stored on it once
 * the payout was sent, for a payout and a payout_return) whatever the time of our
 * row, and classified:
 *   matched          the books agree (counted, not stored);
 *   missing_ours     we have no such reference;
 *   amount_mismatch  amount or currency differ (before any status comparison);
 *   status_mismatch  the statuses disagree about money: a deposit the PSP settled
 *                    that we have pending, expired or failed, or failed/pending at the
 *                    PSP and completed here; a payout the PSP paid that we have
 *                    processing or failed (or anything but paid / returned), one it
 *                    failed or holds pending that we booked paid or returned, one it
 *                    failed that we still hold processing; a return the PSP received
 *                    that we have not booked (not "returned"), or the other way round.
 * Then our side: a payment completed, a withdrawal paid, or a withdrawal returned
 * (expecting a payout_return row) whose completion or return is inside [from, to)
 * (updated_at) and whose reference the report lacks is missing_psp. Only our rows
 * settled inside the period can be missing_psp; a row settled at one side of an
 * edge and at the other side at the PSP (a payout taken at 23:59:59 and confirmed
 * at 00:00:01) is matched in the PSP's period and missing_psp in ours: a timing
 * difference, cleared by the neighbouring period's run. Rows of an uploaded file
 * outside the period are not compared (psp_rows_outside). A reference listed twice
 * for one kind makes the report invalid. A run never moves money. */
#define PB_CASHIER_RECON_MAX_PERIOD_US (31LL * 24 * 3600 * 1000000)

typedef struct pb_cashier_recon_request {
    const char *psp;
    int64_t from, to;   /* µs, [from, to), to - from ≤ PB_CASHIER_RECON_MAX_PERIOD_US */
    const char *report; /* an uploaded file of report_len bytes; NULL: report_fetch */
    size_t report_len;
} pb_cashier_recon_request;

/* Runs a reconciliation for actor a (staff: re-checked in the command) and stores it
 * (out: the run), its discrepancies, the audit entry reconciliation.run and the event
 * reconciliation.completed in one ledger command. Refusals, with nothing stored and
 * the reason in why: PSP_NOT_FOUND; SETTLEMENT_REPORT_UNSUPPORTED (the PSP has no
 * report_fetch / report_parse); FIELD_INVALID (why names "from" or "to": a reversed,
 * empty or longer than 31 days period); SETTLEMENT_REPORT_INVALID (why names the
 * line), PAYLOAD_TOO_LARGE; PSP_UNAVAILABLE (the fetch failed); SESSION_REVOKED,
 * FORBIDDEN. c: the caller's connection (no transaction open), for the reads. */
pb_err pb_cashier_reconcile(pb_cashier *k, pb_store_conn *c, const pb_cashier_recon_request *rq,
                            const pb_cashier_actor *a, pb_store_recon *out, char *why,
                            size_t whycap);
/* The daily reconciliation's figures, one call per PSP it reconciles (none when it
 * is off): its scheduled runs made and failed, the discrepancies of the last one and
 * when it was made (µs, 0: none yet). For /metrics. */
typedef void (*pb_cashier_recon_daily_cb)(void *ctx, const char *psp, uint64_t runs,
                                          uint64_t failures, int64_t discrepancies,
                                          int64_t last_run_at);
void pb_cashier_reconcile_stats(pb_cashier *k, pb_cashier_recon_daily_cb cb, void *ctx);
/* A run by id: RECONCILIATION_NOT_FOUND (also for a malformed id). */
pb_err pb_cashier_recon_get(pb_store_conn *c, const char *id, pb_store_recon *out);
/* A page of runs, newest first, before cursor (0: from the newest); *next the next
 * page's cursor (0: none). */
pb_err pb_cashier_recon_list(pb_store_conn *c, int64_t cursor, size_t limit, pb_store_recon *out,
                             size_t *n, int64_t *next);
/* A page of run r's discrepancies after item after_n, those of scope's brands only (a
 * limited scope sees no missing_ours: it has no brand); *next the next page's cursor
 * (0: none). */
pb_err pb_cashier_recon_items(pb_store_conn *c, const pb_store_recon *r,
                              const pb_brand_scope *scope, int64_t after_n, size_t limit,
                              pb_store_recon_item *out, size_t *n, int64_t *next);

/* ---- a deposit completed on a reconciliation's evidence (deposit_credit.c) ---- */

/* Completes deposit payment_id (in scope) for staff actor a, as the PSP's
 * deposit.succeeded would (the credit, completed_late, the row, deposit.completed),
 * in one ledger command audited payment.completed by a with a reason naming
 * recon_id and theirs. Refused with nothing written: PAYMENT_NOT_FOUND (also out of
 * scope); RECONCILIATION_NOT_FOUND; RECONCILIATION_NO_EVIDENCE (why says which: the
 * run's report was uploaded, not fetched; or it has no status_mismatch deposit item
 * of the payment's PSP and reference settled at the PSP for its amount and
 * currency); PAYMENT_STATE (completed already, re-read in the command);
 * SESSION_REVOKED, FORBIDDEN; a ledger refusal. *out: the completed row. */
pb_err pb_cashier_deposit_credit(pb_cashier *k, pb_store_conn *c, const pb_brand_scope *scope,
                                 const char *payment_id, const char *recon_id, const char *reason,
                                 const pb_cashier_actor *a, pb_store_payment *out, char *why,
                                 size_t whycap);

/* The brand ids of a limited scope as the JSON array the list queries take, into
 * buf; NULL for an all-brands scope (no filter). */
const char *pb_cashier_scope_json(const pb_brand_scope *scope, char *buf, size_t cap);

#endif
