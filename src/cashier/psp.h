/*
 * psp.h — the one interface every payment service provider (PSP) adapter
 * implements, and the built-in sandbox PSP. Included by cashier.h (the
 * cashier's door); an adapter sees only this.
 *
 * An adapter is a vtable (pb_psp): it creates a deposit intent at the PSP (the
 * PSP's reference and where the payer goes to pay), sends the payout of an
 * approved withdrawal (the PSP's reference), tells what became of a payout (a
 * staff resolve of a stuck one asks it), and verifies and parses a webhook
 * the PSP delivered (raw body + headers → one normalised pb_psp_event with the
 * PSP's event id, the reference it is about and its amount). The cashier does
 * everything else: the rules, the ledger, the rows, the audit.
 *
 * The sandbox PSP (psp_sandbox.c) lives in the process so the whole flow runs
 * locally with real signatures:
 *   - webhooks are JSON {"id":"evt_…","type":"deposit.succeeded" |
 *     "deposit.failed" | "payout.paid" | "payout.failed" | "payout.returned",
 *     "created":<unix s>,
 *     "data":{"reference":"…","amount":<minor units>,"currency":"EUR"}}, signed
 *       X-Sandbox-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *     (Stripe-style; several v1= may be given, one must match), t within 300 s
 *     of the server's clock;
 *   - the secret is the text of keys_dir/sandbox-psp.secret (64 hex digits,
 *     used as the HMAC key as it is), generated with mode 0600 on first start;
 *   - deposits: reference "sbxp_<uuid>"; the payer "pays" at POST
 *     /v1/sandbox-psp/payments/{ref}/complete (or /fail), which signs the
 *     event and hands it to pb_cashier_webhook() in-process (the same
 *     verify + handle function as the public webhook route);
 *   - payouts: accepted at once with reference "sbxo_<withdrawal id>" (keyed by
 *     the withdrawal: sent again, in this process or after a restart, the same
 *     withdrawal gets the same reference and nothing more is paid); once the
 *     withdrawal is "processing" the sandbox confirms it after a delay by
 *     POSTing the signed payout.paid webhook to the server's own webhook URL
 *     over HTTP (retried with back-off while the server does not answer 2xx;
 *     the same event id each time) — payout.failed when the amount's minor
 *     units end in 13 (e.g. 10.13 EUR): the documented test knob;
 *   - a paid payout that comes back (the payee's bank returned it): real PSPs
 *     send a distinct notification after the success; the sandbox sends its
 *     signed payout.returned when asked at POST
 *     /v1/sandbox-psp/payouts/{ref}/return (pb_psp_sandbox_payout_returned,
 *     in-process like the deposit endpoints);
 *   - payout status (payout_status): answered from the sandbox's own records
 *     of the payouts it took and closed, kept in keys_dir/sandbox-psp.payouts
 *     (appended and synced before it answers, read at start, so they outlive a
 *     restart like a real PSP's): a payout it took is "paid" ("failed" for the
 *     13 knob); one it never took is "not taken", and the answer closes the
 *     withdrawal's payout key, so any later send of it is refused;
 *   - more test knobs by the amount's minor units: 17 refuses the first send
 *     of the withdrawal (as a PSP that was down); 19 refuses every send (never
 *     taken: a status query answers "not taken"); 23 takes the payout at each
 *     send but answers an error (the answer lost: status "paid"); 29 the same,
 *     with status "pending" for ever; 31 refuses every send, and the status
 *     query fails (status "unknown"); 37 takes the payout ("processing") but never
 *     confirms it, and the status query fails (a PSP that lost the payout: only
 *     a manual resolution ends it). These five only with stuck_knobs
 *     (PITBOSS_SANDBOX_STUCK_PAYOUTS=1 in serve); with them also 41 for a
 *     deposit: the payer pays at /complete and the sandbox collects (and
 *     records) the money, but its deposit.succeeded is lost — never delivered,
 *     /complete answers outcome "not_delivered" (a PSP whose notification never
 *     arrived: the player paid and was never credited; a reconciliation finds it);
 *     and, while keys_dir/sandbox-psp.report-down exists, report_fetch fails
 *     PSP_UNAVAILABLE (a PSP whose report service is down);
 *   - its own books (psp_sandbox_report.c): besides the payouts (each "taken"
 *     line now with the time it was taken), the deposits it collected (at
 *     /complete, before the event is handed over) and the payouts that came back
 *     (at /return), in keys_dir/sandbox-psp.settlements, appended and synced
 *     before it answers, read at start — never the cashier's tables;
 *   - its settlement report (report_fetch in-process, and GET
 *     /v1/sandbox-psp/reports/settlement?from=&to= as text/csv, the PSP's
 *     download; report_parse reads the same file back) is CSV, one header line
 *     then one line per row, LF or CRLF line ends, no quoting (no field holds a
 *     comma):
 *       reference,kind,amount,currency,status,settled_at
 *       sbxp_…,deposit,1050,EUR,settled,2026-11-25T04:40:00.123456Z
 *     reference: the deposit's "sbxp_…" or the payout's "sbxo_…" (a returned
 *     payout's row carries its payout's reference); kind: deposit | payout |
 *     payout_return; amount: minor units, a whole number > 0; currency: ISO 4217
 *     code; status: settled (a deposit collected, a payout paid, a return
 *     received) | failed (a payout the PSP could not pay: the 13 knob) | pending
 *     (taken, not paid yet: the 29 knob); settled_at: RFC 3339 UTC (when it was
 *     collected, taken or returned). The rows of a period [from, to) are those
 *     whose settled_at is in it, in settled_at order. Payouts recorded before the
 *     records had times read settled_at 0 (1970): in no period of today.
 */
#ifndef PB_CASHIER_PSP_H
#define PB_CASHIER_PSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

struct pb_cashier;
struct pb_cashier_webhook_result;

typedef enum {
    PB_PSP_EVENT_UNKNOWN = 0, /* a type the cashier does not act on: acknowledged, ignored */
    PB_PSP_DEPOSIT_SUCCEEDED,
    PB_PSP_DEPOSIT_FAILED,
    PB_PSP_PAYOUT_PAID,
    PB_PSP_PAYOUT_FAILED,
    PB_PSP_PAYOUT_RETURNED, /* a paid payout came back to the PSP (the bank returned it) */
} pb_psp_event_type;

/* A verified webhook event, normalised. */
typedef struct pb_psp_event {
    char event_id[PB_STORE_CASHIER_EVENT_MAX + 1]; /* the PSP's: duplicates are recognised by it */
    pb_psp_event_type type;
    char type_name[32];
    char reference[PB_STORE_CASHIER_REF_MAX + 1]; /* the payment's or payout's PSP reference */
    int64_t amount;                               /* minor units, as the PSP says */
    char currency[8];
} pb_psp_event;

/* What a PSP says became of a withdrawal's payout (payout_status). */
typedef enum {
    PB_PSP_PAYOUT_IS_UNKNOWN =
        0,                      /* the PSP could not say (an error, a timeout): nothing is known */
    PB_PSP_PAYOUT_IS_PENDING,   /* taken, neither paid nor failed yet */
    PB_PSP_PAYOUT_IS_PAID,      /* taken and paid out */
    PB_PSP_PAYOUT_IS_FAILED,    /* taken and failed: the PSP will not pay it */
    PB_PSP_PAYOUT_IS_NOT_TAKEN, /* never taken, and never will be: the PSP has closed the
                                  withdrawal's payout key, a later send is refused */
} pb_psp_payout_state;

typedef struct pb_psp_payout_status {
    pb_psp_payout_state state;
    char reference[PB_STORE_CASHIER_REF_MAX + 1]; /* the PSP's payout reference; "" unless taken */
    int64_t amount;                               /* what it took (minor units); 0 unless taken */
    char currency[8];
} pb_psp_payout_status;

/* ---- settlement reports (reconciliation, cashier reconcile.c) ---- */

/* What a row of a PSP's settlement report is about. */
typedef enum {
    PB_PSP_ROW_DEPOSIT = 0,   /* money the PSP collected from a payer */
    PB_PSP_ROW_PAYOUT,        /* a payout of a withdrawal */
    PB_PSP_ROW_PAYOUT_RETURN, /* a paid payout that came back */
} pb_psp_row_kind;

/* The PSP's status of a row, normalised. */
typedef enum {
    PB_PSP_ROW_SETTLED = 0, /* collected / paid / returned: money moved at the PSP */
    PB_PSP_ROW_FAILED,      /* the PSP will not move it */
    PB_PSP_ROW_PENDING,     /* taken, not settled yet */
} pb_psp_row_status;

/* One row of a settlement report, PSP-neutral. */
typedef struct pb_psp_settlement_row {
    char reference[PB_STORE_CASHIER_REF_MAX + 1]; /* the PSP's: a payment's psp_reference or a
                                                     withdrawal's payout reference */
    pb_psp_row_kind kind;
    int64_t amount; /* minor units, > 0 */
    char currency[8];
    pb_psp_row_status status;
    int64_t settled_at; /* µs since the epoch, UTC */
} pb_psp_settlement_row;

/* A report: rows (malloc'd, owned by the report; pb_psp_report_free). */
typedef struct pb_psp_report {
    pb_psp_settlement_row *rows;
    size_t n, cap;
} pb_psp_report;

/* The most rows one report may hold (fetched or uploaded): beyond, it is refused. */
#define PB_PSP_REPORT_MAX_ROWS 50000
/* The most bytes an uploaded report file may have. */
#define PB_PSP_REPORT_MAX_BYTES (1024 * 1024)

/* Appends a row (copied): false when out of memory or past PB_PSP_REPORT_MAX_ROWS. */
bool pb_psp_report_add(pb_psp_report *r, const pb_psp_settlement_row *row);
void pb_psp_report_free(pb_psp_report *r);
/* The wire names of a kind / status ("deposit", "settled", …), and back (false: unknown). */
const char *pb_psp_row_kind_name(pb_psp_row_kind k);
const char *pb_psp_row_status_name(pb_psp_row_status s);
bool pb_psp_row_kind_parse(const char *s, size_t len, pb_psp_row_kind *out);
bool pb_psp_row_status_parse(const char *s, size_t len, pb_psp_row_status *out);

/* Reads a request header by name (NULL when absent). */
typedef const char *(*pb_psp_header_fn)(void *ctx, const char *name);

typedef struct pb_psp pb_psp;
struct pb_psp {
    char code[PB_STORE_CASHIER_PSP_MAX + 1]; /* "sandbox": the {psp} of the webhook route */
    void *ctx;
    /* A deposit intent for payment p (amount, currency, id filled): the PSP's reference. */
    pb_err (*deposit_create)(pb_psp *psp, const pb_store_payment *p,
                             char ref[PB_STORE_CASHIER_REF_MAX + 1]);
    /* Where the payer goes to pay for p (into url, cap bytes). */
    void (*checkout_url)(pb_psp *psp, const pb_store_payment *p, char *url, size_t cap);
    /* Sends the payout of an approved withdrawal: the PSP's reference. MUST be
     * idempotent per withdrawal: the adapter gives the PSP w->id as the payout's
     * idempotency key (its merchant reference), so that a second send of the same
     * withdrawal (sent again after a timeout, by the payout retry, or at start-up
     * after a crash) answers the reference of the first and pays nothing more.
     * The cashier does not send one withdrawal twice at once in one process, but
     * it may send it again after an answer it did not see. */
    pb_err (*payout_send)(pb_psp *psp, const pb_store_withdrawal *w,
                          char ref[PB_STORE_CASHIER_REF_MAX + 1]);
    /* Optional: called once the payout's reference is stored ("processing"). */
    void (*payout_sent)(pb_psp *psp, const pb_store_withdrawal *w);
    /* Optional (NULL: a staff resolve of the PSP's payouts answers "unknown"): asks
     * the PSP what became of the payout of withdrawal w, keyed by w->id as
     * payout_send keys it; may do I/O. PB_PSP_PAYOUT_IS_NOT_TAKEN MUST be definitive:
     * the adapter answers it only when the PSP guarantees it will never pay that
     * payout (it cancelled the payout's idempotency key, or refuses any later
     * request under it); when the PSP cannot promise that, the answer is PENDING
     * or UNKNOWN. The cashier voids the hold on NOT_TAKEN and FAILED, so an
     * adapter that says so wrongly pays twice. */
    void (*payout_status)(pb_psp *psp, const pb_store_withdrawal *w, pb_psp_payout_status *out);
    /* Verifies and parses a webhook: SIGNATURE_INVALID, TIMESTAMP_STALE (now_s = the
     * wall clock, s), or INVALID_REQUEST (a signed body that is not a well-formed
     * event). Pure: no I/O, no store. */
    pb_err (*webhook_verify)(pb_psp *psp, const char *body, size_t len, pb_psp_header_fn header,
                             void *hctx, int64_t now_s, pb_psp_event *out);
    /* Optional (NULL: this PSP's reports cannot be fetched): asks the PSP for its
     * settlement report of [from_us, to_us) into out (empty on entry; the rows whose
     * settled_at is in the period). PSP_UNAVAILABLE when the PSP did not answer
     * (why in err), PAYLOAD_TOO_LARGE past PB_PSP_REPORT_MAX_ROWS; may do I/O. */
    pb_err (*report_fetch)(pb_psp *psp, int64_t from_us, int64_t to_us, pb_psp_report *out,
                           char *err, size_t errcap);
    /* Optional (NULL: this PSP's report files cannot be read): parses a report file
     * the PSP delivered (len bytes, not NUL-terminated) into out (empty on entry;
     * every row of the file). SETTLEMENT_REPORT_INVALID naming the line at fault in
     * err ("line 7: amount: …"), PAYLOAD_TOO_LARGE past PB_PSP_REPORT_MAX_ROWS.
     * Pure: no I/O, no store. */
    pb_err (*report_parse)(pb_psp *psp, const char *body, size_t len, pb_psp_report *out, char *err,
                           size_t errcap);
    void (*free)(pb_psp *psp);
    /* set by the cashier when it registers the PSP */
    struct pb_cashier *cashier;
};

/* ---- the sandbox PSP ---- */

#define PB_PSP_SANDBOX_HEADER "X-Sandbox-Signature"
#define PB_PSP_SANDBOX_TOLERANCE_S 300
#define PB_PSP_SANDBOX_SECRET_FILE "sandbox-psp.secret"
#define PB_PSP_SANDBOX_PAYOUTS_FILE "sandbox-psp.payouts"
#define PB_PSP_SANDBOX_SETTLEMENTS_FILE "sandbox-psp.settlements"
/* with the test knobs on, report_fetch fails (PSP_UNAVAILABLE) while this file exists
 * in the keys directory: a PSP whose report service is down */
#define PB_PSP_SANDBOX_REPORT_DOWN_FILE "sandbox-psp.report-down"

/* Where the sandbox delivers its payout webhooks: fills url with the server's
 * base URL ("http://127.0.0.1:8080"); false when it is not known yet (port 0:
 * known once the server listens). Asked by the delivery thread from its start,
 * every 20 ms, until it answers true — never after, so it may read a server
 * that is freed at shutdown before the thread stops. */
typedef bool (*pb_psp_self_url_fn)(void *ctx, char *url, size_t cap);

typedef struct pb_psp_sandbox_config {
    const char *keys_dir;        /* where the secret lives; NULL = "." */
    pb_psp_self_url_fn self_url; /* NULL: payouts are never confirmed by the sandbox itself
                                    (tests deliver the events by hand) */
    void *self_url_ctx;
    int payout_delay_ms; /* how long after "processing" the confirmation is sent */
    bool stuck_knobs;    /* the 19/23/29/31/37 test knobs (above) are on: for tests only, so
                            that random amounts never make a payout that waits for staff */
} pb_psp_sandbox_config;

/* A new sandbox PSP (starts its delivery thread when self_url is set). NULL with
 * a reason in err (e.g. the secret file is readable by others). */
pb_psp *pb_psp_sandbox_new(const pb_psp_sandbox_config *cfg, char *err, size_t errcap);
/* Signs body the way the sandbox does: the X-Sandbox-Signature value for unix
 * time t into header (cap ≥ 96). */
void pb_psp_sandbox_sign(const char *secret, const char *body, size_t len, int64_t t, char *header,
                         size_t cap);
/* The sandbox's event body for type/reference/amount/currency with event id
 * event_id (NULL = a new "evt_<uuid>"), created at now_s; malloc'd, NULL on OOM. */
char *pb_psp_sandbox_event_body(const char *event_id, const char *type, const char *reference,
                                int64_t amount, const char *currency, int64_t now_s);
/* Plays the payer: builds the deposit.succeeded (succeeded) or deposit.failed
 * event of the sandbox payment with this reference, signs it and hands it to
 * pb_cashier_webhook() (c: the caller's connection). PAYMENT_NOT_FOUND for an
 * unknown reference, else what the webhook answers. */
pb_err pb_psp_sandbox_deposit_event(pb_psp *psp, pb_store_conn *c, const char *reference,
                                    bool succeeded, struct pb_cashier_webhook_result *out);
/* Plays the PSP whose paid payout came back (the payee's bank returned it):
 * builds the signed payout.returned event of the sandbox payout with this
 * reference, for its withdrawal's amount and currency, and hands it to
 * pb_cashier_webhook() (c: the caller's connection). WITHDRAWAL_NOT_FOUND for an
 * unknown reference, else what the webhook answers. */
pb_err pb_psp_sandbox_payout_returned(pb_psp *psp, pb_store_conn *c, const char *reference,
                                      struct pb_cashier_webhook_result *out);
/* The sandbox's settlement report of [from_us, to_us) as its CSV file (psp.h,
 * above): malloc'd text into *csv and its length into *len. PSP_NOT_FOUND when psp
 * is not the sandbox, PAYLOAD_TOO_LARGE past PB_PSP_REPORT_MAX_ROWS, INTERNAL out
 * of memory. */
pb_err pb_psp_sandbox_report_csv(pb_psp *psp, int64_t from_us, int64_t to_us, char **csv,
                                 size_t *len);
/* How many payout confirmations wait in the sandbox's queue (tests, metrics). */
size_t pb_psp_sandbox_pending(pb_psp *psp);

#endif
