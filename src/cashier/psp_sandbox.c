/*
 * psp_sandbox.c — the built-in sandbox PSP (see psp.h for its wire format): a
 * payment provider that lives in the process, so the whole cashier flow runs
 * locally with real signatures.
 *
 * Deposits: an intent gets the reference "sbxp_<uuid>" and the checkout URL
 * POST /v1/sandbox-psp/payments/{ref}/complete; that endpoint (and /fail) plays
 * the payer and the PSP: pb_psp_sandbox_deposit_event() builds the PSP's event,
 * signs it exactly like a webhook and hands it IN-PROCESS to
 * pb_cashier_webhook() — the very verify + handle function the public webhook
 * route POST /v1/cashier/webhooks/sandbox runs (in-process, not over HTTP: the
 * endpoint runs on an HTTP worker, and a worker calling its own server could
 * wait on itself).
 *
 * Payouts: accepted at once, keyed by the withdrawal as psp.h asks of every
 * adapter: the reference is "sbxo_<withdrawal id>", so the same withdrawal sent
 * again (by the payout retry, or at start-up after a restart) gets the same
 * reference. Except the first attempt at a
 * withdrawal whose amount's minor units end in 17, which the sandbox refuses
 * (PSP_UNAVAILABLE, as a PSP that is down would): the test knob for the
 * cashier's payout retry. Its own records of the payouts it took (and of those a
 * status query closed) are kept in keys_dir/sandbox-psp.payouts, appended and
 * synced before it answers, and answer payout_status; with stuck_knobs, the
 * 19/23/29/31 knobs of psp.h make payouts that staff must resolve. Once the
 * withdrawal is
 * "processing", the confirmation is queued: after payout_delay_ms the delivery
 * thread POSTs the signed payout.paid (payout.failed when the amount's minor
 * units end in 13) to the server's own webhook URL OVER HTTP, like a real PSP,
 * retrying with back-off (1 s, 2 s, 4 s … 60 s; 12 attempts) while the answer
 * is not 2xx, with the same event id each time. A 4xx other than 408/429 is
 * final (logged). The thread never touches the ledger or the store, so it can
 * outlive them at shutdown; whatever it had not delivered is queued again at
 * the next start (pb_cashier_open). That delivery (the sandbox's outgoing
 * webhooks) is psp_sandbox_delivery.c; its books of the deposits it collected and
 * the payouts that came back, and its settlement report, psp_sandbox_report.c;
 * the struct they share is in psp_sandbox_internal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cashier/cashier.h"
#include "cashier/psp_sandbox_internal.h"
#include "core/log.h"
#include "core/time.h"

static void new_id(const char *prefix, char *out, size_t cap)
{
    pb_id id;
    char s[PB_ID_STR_LEN + 1];
    pb_id_new(&id);
    pb_id_to_string(&id, s);
    snprintf(out, cap, "%s%s", prefix, s);
}

/* ---- signatures ---- */

static void hmac_hex(const char *secret, const char *t, size_t tlen, const char *body, size_t len,
                     char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)t, tlen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
}

void pb_psp_sandbox_sign(const char *secret, const char *body, size_t len, int64_t t, char *header,
                         size_t cap)
{
    char ts[24], hex[65];
    int n = snprintf(ts, sizeof ts, "%lld", (long long)t);
    hmac_hex(secret, ts, (size_t)n, body, len, hex);
    snprintf(header, cap, "t=%s,v1=%s", ts, hex);
}

char *pb_psp_sandbox_event_body(const char *event_id, const char *type, const char *reference,
                                int64_t amount, const char *currency, int64_t now_s)
{
    char evt[PB_ID_STR_LEN + 8];
    if (!event_id) {
        new_id("evt_", evt, sizeof evt);
        event_id = evt;
    }
    json_t *o = json_pack("{s:s,s:s,s:I,s:{s:s,s:I,s:s}}", "id", event_id, "type", type, "created",
                          (json_int_t)now_s, "data", "reference", reference, "amount",
                          (json_int_t)amount, "currency", currency);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return body;
}

static bool printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* Reads "t=<digits>,v1=<64 hex>[,v1=…]": false when it is not that shape. */
static bool parse_signature(const char *h, const char **t, size_t *tlen, const char *v1[8],
                            size_t *nv1)
{
    *t = NULL;
    *nv1 = 0;
    if (!h || strlen(h) > 1024)
        return false;
    for (const char *p = h; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 2 && strncmp(p, "t=", 2) == 0) {
            *t = p + 2;
            *tlen = n - 2;
        } else if (n == 3 + 64 && strncmp(p, "v1=", 3) == 0 && *nv1 < 8) {
            v1[(*nv1)++] = p + 3;
        }
        p += n + (end ? 1 : 0);
    }
    if (!*t || *tlen > 12 || *nv1 == 0)
        return false;
    for (size_t i = 0; i < *tlen; i++)
        if ((*t)[i] < '0' || (*t)[i] > '9')
            return false;
    return true;
}

/* The event's fields; INVALID_REQUEST when the body is not a well-formed event. */
static pb_err parse_event(const char *body, size_t len, pb_psp_event *out)
{
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *data = json_object_get(o, "data");
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *ref = json_string_value(json_object_get(data, "reference"));
    const char *cur = json_string_value(json_object_get(data, "currency"));
    json_t *amount = json_object_get(data, "amount");
    pb_err e = PB_ERR_INVALID_REQUEST;
    if (json_is_object(o) && id && type && ref && cur && json_is_integer(amount) &&
        json_integer_value(amount) >= 0 && printable(id, PB_STORE_CASHIER_EVENT_MAX) &&
        printable(type, sizeof out->type_name - 1) && printable(ref, PB_STORE_CASHIER_REF_MAX) &&
        printable(cur, sizeof out->currency - 1)) {
        snprintf(out->event_id, sizeof out->event_id, "%s", id);
        snprintf(out->type_name, sizeof out->type_name, "%s", type);
        snprintf(out->reference, sizeof out->reference, "%s", ref);
        snprintf(out->currency, sizeof out->currency, "%s", cur);
        out->amount = (int64_t)json_integer_value(amount);
        static const struct {
            const char *name;
            pb_psp_event_type type;
        } types[] = {{"deposit.succeeded", PB_PSP_DEPOSIT_SUCCEEDED},
                     {"deposit.failed", PB_PSP_DEPOSIT_FAILED},
                     {"payout.paid", PB_PSP_PAYOUT_PAID},
                     {"payout.failed", PB_PSP_PAYOUT_FAILED},
                     {"payout.returned", PB_PSP_PAYOUT_RETURNED}};
        out->type = PB_PSP_EVENT_UNKNOWN;
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(type, types[i].name) == 0)
                out->type = types[i].type;
        e = PB_OK;
    }
    json_decref(o);
    return e;
}

/* The signature first (over the raw bytes), then the clock, then the body. */
static pb_err sb_verify(pb_psp *psp, const char *body, size_t len, pb_psp_header_fn header,
                        void *hctx, int64_t now_s, pb_psp_event *out)
{
    sandbox *sb = psp->ctx;
    memset(out, 0, sizeof *out);
    const char *t, *v1[8];
    size_t tlen = 0, nv1 = 0;
    if (!parse_signature(header(hctx, PB_PSP_SANDBOX_HEADER), &t, &tlen, v1, &nv1))
        return PB_ERR_SIGNATURE_INVALID;
    char want[65];
    hmac_hex(sb->secret, t, tlen, body, len, want);
    bool match = false;
    for (size_t i = 0; i < nv1; i++) {
        char got[65];
        for (size_t j = 0; j < 64; j++)
            got[j] = (char)((v1[i][j] >= 'A' && v1[i][j] <= 'F') ? v1[i][j] + 32 : v1[i][j]);
        got[64] = 0;
        match |= CRYPTO_memcmp(got, want, 64) == 0;
    }
    if (!match)
        return PB_ERR_SIGNATURE_INVALID;
    int64_t ts = 0;
    for (size_t i = 0; i < tlen; i++)
        ts = ts * 10 + (t[i] - '0');
    if (ts < now_s - PB_PSP_SANDBOX_TOLERANCE_S || ts > now_s + PB_PSP_SANDBOX_TOLERANCE_S)
        return PB_ERR_TIMESTAMP_STALE;
    return parse_event(body, len, out);
}

/* ---- deposits ---- */

static pb_err sb_deposit_create(pb_psp *psp, const pb_store_payment *p,
                                char ref[PB_STORE_CASHIER_REF_MAX + 1])
{
    (void)psp;
    (void)p;
    new_id("sbxp_", ref, PB_STORE_CASHIER_REF_MAX + 1);
    return PB_OK;
}

static void sb_checkout_url(pb_psp *psp, const pb_store_payment *p, char *url, size_t cap)
{
    (void)psp;
    snprintf(url, cap, "/v1/sandbox-psp/payments/%s/complete", p->psp_reference);
}

static payout_record *record_find(sandbox *sb, const char *id);

typedef struct one_header {
    const char *value;
} one_header;

static const char *own_header(void *ctx, const char *name)
{
    return strcasecmp(name, PB_PSP_SANDBOX_HEADER) == 0 ? ((one_header *)ctx)->value : NULL;
}

pb_err pb_psp_sandbox_deposit_event(pb_psp *psp, pb_store_conn *c, const char *reference,
                                    bool succeeded, pb_cashier_webhook_result *out)
{
    sandbox *sb = psp->ctx;
    memset(out, 0, sizeof *out);
    pb_store_payment *p = malloc(sizeof *p);
    pb_store_rc rc = p && reference && strlen(reference) <= PB_STORE_CASHIER_REF_MAX
                         ? pb_store_payment_by_reference(c, psp->code, reference, p)
                     : p ? PB_STORE_NOT_FOUND
                         : PB_STORE_ERROR;
    if (rc != PB_STORE_OK) {
        free(p);
        return rc == PB_STORE_NOT_FOUND ? PB_ERR_PAYMENT_NOT_FOUND : PB_ERR_STORE_UNAVAILABLE;
    }
    int64_t now_us = pb_time_now_us(), now = now_us / 1000000;
    /* the PSP books the money it collected before it tells anyone */
    if (succeeded &&
        !pb_psp_sandbox_settle_add(sb, false, p->psp_reference, p->amount, p->currency, now_us)) {
        free(p);
        return PB_ERR_PSP_UNAVAILABLE;
    }
    bool lost = succeeded && sb->stuck_knobs && p->amount % 100 == PB_PSP_SANDBOX_LOST_DEPOSIT;
    char *body = pb_psp_sandbox_event_body(NULL, succeeded ? "deposit.succeeded" : "deposit.failed",
                                           p->psp_reference, p->amount, p->currency, now);
    free(p);
    if (!body)
        return PB_ERR_INTERNAL;
    if (lost) { /* the 41 knob: collected, but the notification never arrives */
        pb_err pe = parse_event(body, strlen(body), &out->event);
        free(body);
        out->outcome = "not_delivered";
        pb_log(PB_LOG_INFO, "cashier.sandbox", "deposit %s: collected, notification lost (knob %d)",
               out->event.reference, PB_PSP_SANDBOX_LOST_DEPOSIT);
        return pe;
    }
    char sig[128];
    pb_psp_sandbox_sign(sb->secret, body, strlen(body), now, sig, sizeof sig);
    one_header h = {sig};
    pb_err e = pb_cashier_webhook(psp->cashier, c, psp->code, body, strlen(body), own_header, &h,
                                  out);
    free(body);
    return e;
}

/* Plays the PSP whose paid payout came back: builds the signed payout.returned
 * event of the sandbox payout with this reference (for the withdrawal's amount and
 * currency) and hands it to pb_cashier_webhook(), as a real PSP's notification
 * would arrive at the webhook route. */
pb_err pb_psp_sandbox_payout_returned(pb_psp *psp, pb_store_conn *c, const char *reference,
                                      pb_cashier_webhook_result *out)
{
    sandbox *sb = psp->ctx;
    memset(out, 0, sizeof *out);
    if (reference && strncmp(reference, PB_PSP_SANDBOX_PAYOUT_PREFIX,
                             sizeof PB_PSP_SANDBOX_PAYOUT_PREFIX - 1) == 0) {
        /* booked first, from its own record of the payout (one it took) */
        pthread_mutex_lock(&sb->mu);
        const payout_record *r = record_find(sb,
                                             reference + sizeof PB_PSP_SANDBOX_PAYOUT_PREFIX - 1);
        payout_record taken = r && !r->closed ? *r : (payout_record){0};
        pthread_mutex_unlock(&sb->mu);
        if (taken.id[0] && !pb_psp_sandbox_settle_add(sb, true, reference, taken.amount,
                                                      taken.currency, pb_time_now_us()))
            return PB_ERR_PSP_UNAVAILABLE;
    }
    pb_store_withdrawal *w = malloc(sizeof *w);
    pb_store_rc rc = w && reference && strlen(reference) <= PB_STORE_CASHIER_REF_MAX
                         ? pb_store_withdrawal_by_reference(c, psp->code, reference, w)
                     : w ? PB_STORE_NOT_FOUND
                         : PB_STORE_ERROR;
    if (rc != PB_STORE_OK) {
        free(w);
        return rc == PB_STORE_NOT_FOUND ? PB_ERR_WITHDRAWAL_NOT_FOUND : PB_ERR_STORE_UNAVAILABLE;
    }
    int64_t now = pb_time_now_us() / 1000000;
    char *body = pb_psp_sandbox_event_body(NULL, "payout.returned", w->psp_reference, w->amount,
                                           w->currency, now);
    free(w);
    if (!body)
        return PB_ERR_INTERNAL;
    char sig[128];
    pb_psp_sandbox_sign(sb->secret, body, strlen(body), now, sig, sizeof sig);
    one_header h = {sig};
    pb_err e = pb_cashier_webhook(psp->cashier, c, psp->code, body, strlen(body), own_header, &h,
                                  out);
    free(body);
    return e;
}

/* ---- payouts ---- */

/* The "17" knob: true the first time a payout of this withdrawal is asked for. */
static bool refuse_first(sandbox *sb, const pb_store_withdrawal *w)
{
    if (w->amount % 100 != 17)
        return false;
    bool first = true;
    pthread_mutex_lock(&sb->mu);
    for (size_t i = 0; i < sb->nrefused && first; i++)
        first = strcmp(sb->refused[i], w->id) != 0;
    if (first && sb->nrefused == sb->refused_cap) {
        size_t cap = sb->refused_cap ? 2 * sb->refused_cap : 16;
        void *p = realloc(sb->refused, cap * sizeof *sb->refused);
        if (p) {
            sb->refused = p;
            sb->refused_cap = cap;
        } else {
            first = false; /* cannot remember it: take it rather than refuse for ever */
        }
    }
    if (first)
        snprintf(sb->refused[sb->nrefused++], sizeof sb->refused[0], "%s", w->id);
    pthread_mutex_unlock(&sb->mu);
    return first;
}

#define PAYOUT_PREFIX PB_PSP_SANDBOX_PAYOUT_PREFIX
_Static_assert(sizeof PAYOUT_PREFIX - 1 + PB_ID_STR_LEN <= PB_STORE_CASHIER_REF_MAX,
               "a payout reference is the prefix and a withdrawal id");

/* ---- the payout records ---- */

static payout_record *record_find(sandbox *sb, const char *id)
{
    for (size_t i = 0; i < sb->npayouts; i++) /* a sandbox's handful: a linear scan */
        if (strcmp(sb->payouts[i].id, id) == 0)
            return &sb->payouts[i];
    return NULL;
}

/* Remembers a record in memory (a later one of the same withdrawal replaces it);
 * NULL out of memory. */
static payout_record *record_put(sandbox *sb, const payout_record *r)
{
    payout_record *old = record_find(sb, r->id);
    if (old) {
        *old = *r;
        return old;
    }
    if (sb->npayouts == sb->payouts_cap) {
        size_t cap = sb->payouts_cap ? 2 * sb->payouts_cap : 16;
        void *p = realloc(sb->payouts, cap * sizeof *sb->payouts);
        if (!p)
            return NULL;
        sb->payouts = p;
        sb->payouts_cap = cap;
    }
    sb->payouts[sb->npayouts] = *r;
    return &sb->payouts[sb->npayouts++];
}

/* Records r durably (a line appended and synced), then in memory: false when
 * either fails — the caller then answers as if it had not happened. */
static bool record_add(sandbox *sb, const payout_record *r)
{
    char line[128];
    int n = snprintf(line, sizeof line, "%s %s %lld %s %lld\n", r->closed ? "closed" : "taken",
                     r->id, (long long)r->amount, r->currency[0] ? r->currency : "-",
                     (long long)r->at);
    if (n <= 0 || (size_t)n >= sizeof line || sb->payouts_fd < 0 ||
        write(sb->payouts_fd, line, (size_t)n) != n || fdatasync(sb->payouts_fd) != 0) {
        pb_log(PB_LOG_ERROR, "cashier.sandbox", "payout %s: cannot record it: %s", r->id,
               strerror(errno));
        return false;
    }
    return record_put(sb, r) != NULL;
}

FILE *pb_psp_sandbox_books_open(const char *dir, const char *name, int *fd, char *err,
                                size_t errcap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rd = *fd >= 0 ? dup(*fd) : -1;
    FILE *f = rd >= 0 ? fdopen(rd, "r") : NULL;
    if (!f) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        if (rd >= 0)
            close(rd);
    }
    return f;
}

/* Reads the records file (created 0600 when missing) and keeps it open for
 * appending; -1 with a reason in err. A torn last line (a crash mid-write) is
 * skipped: that payout was never answered as taken. */
static int load_payouts(sandbox *sb, const char *dir, char *err, size_t errcap)
{
    FILE *f = pb_psp_sandbox_books_open(dir, PB_PSP_SANDBOX_PAYOUTS_FILE, &sb->payouts_fd, err,
                                        errcap);
    if (!f)
        return -1;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        payout_record r = {0};
        char kind[8], id[64], cur[8];
        long long amount, at = 0; /* a line from before the times: 0 */
        if (!strchr(line, '\n') ||
            sscanf(line, "%7s %63s %lld %7s %lld", kind, id, &amount, cur, &at) < 4 ||
            strlen(id) > PB_ID_STR_LEN || (strcmp(kind, "taken") && strcmp(kind, "closed")))
            continue;
        memcpy(r.id, id, strlen(id) + 1); /* ≤ PB_ID_STR_LEN: checked above */
        r.closed = strcmp(kind, "closed") == 0;
        r.amount = amount;
        r.at = at;
        snprintf(r.currency, sizeof r.currency, "%s", strcmp(cur, "-") ? cur : "");
        if (!record_put(sb, &r)) {
            fclose(f);
            snprintf(err, errcap, "%s: out of memory", PB_PSP_SANDBOX_PAYOUTS_FILE);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

/* The amount's minor units modulo 100, when the stuck knobs are on; else -1. */
static int stuck_knob(const sandbox *sb, const pb_store_withdrawal *w)
{
    if (!sb->stuck_knobs || w->amount < 0)
        return -1;
    int k = (int)(w->amount % 100);
    return k == 19 || k == 23 || k == 29 || k == 31 || k == 37 ? k : -1;
}

/* The payout's reference is derived from the withdrawal alone (nothing random):
 * the same withdrawal, sent any number of times, is one payout. The sandbox
 * records that it took it before it answers; a payout it closed (a status query
 * said "not taken") is refused for good. */
static pb_err sb_payout_send(pb_psp *psp, const pb_store_withdrawal *w,
                             char ref[PB_STORE_CASHIER_REF_MAX + 1])
{
    sandbox *sb = psp->ctx;
    int knob = stuck_knob(sb, w);
    if (refuse_first(sb, w) || knob == 19 || knob == 31)
        return PB_ERR_PSP_UNAVAILABLE;
    pthread_mutex_lock(&sb->mu);
    const payout_record *r = record_find(sb, w->id);
    payout_record taken = {.amount = w->amount, .at = pb_time_now_us()};
    snprintf(taken.id, sizeof taken.id, "%s", w->id);
    snprintf(taken.currency, sizeof taken.currency, "%s", w->currency);
    bool ok = r ? !r->closed : record_add(sb, &taken);
    pthread_mutex_unlock(&sb->mu);
    if (!ok || knob == 23 || knob == 29) /* 23, 29: taken, but the answer is lost */
        return PB_ERR_PSP_UNAVAILABLE;
    snprintf(ref, PB_STORE_CASHIER_REF_MAX + 1, PAYOUT_PREFIX "%s", w->id);
    return PB_OK;
}

/* What became of w's payout, from the records: taken → paid ("failed" for the
 * 13 knob, "pending" for 29); never taken → closed now (recorded before the
 * answer), "not taken"; 31 → unknown (the query fails). */
static void sb_payout_status(pb_psp *psp, const pb_store_withdrawal *w, pb_psp_payout_status *out)
{
    sandbox *sb = psp->ctx;
    memset(out, 0, sizeof *out);
    int knob = stuck_knob(sb, w);
    if (knob == 31 || knob == 37)
        return; /* PB_PSP_PAYOUT_IS_UNKNOWN */
    pthread_mutex_lock(&sb->mu);
    const payout_record *r = record_find(sb, w->id);
    if (r && !r->closed) {
        out->state = knob == 29              ? PB_PSP_PAYOUT_IS_PENDING
                     : r->amount % 100 == 13 ? PB_PSP_PAYOUT_IS_FAILED
                                             : PB_PSP_PAYOUT_IS_PAID;
        snprintf(out->reference, sizeof out->reference, PAYOUT_PREFIX "%s", r->id);
        out->amount = r->amount;
        snprintf(out->currency, sizeof out->currency, "%s", r->currency);
    } else {
        payout_record closed = {.closed = true, .at = pb_time_now_us()};
        snprintf(closed.id, sizeof closed.id, "%s", w->id);
        if (r || record_add(sb, &closed))
            out->state = PB_PSP_PAYOUT_IS_NOT_TAKEN;
    }
    pthread_mutex_unlock(&sb->mu);
}

/* Queues the confirmation of a payout that is now "processing". */
static void sb_payout_sent(pb_psp *psp, const pb_store_withdrawal *w)
{
    sandbox *sb = psp->ctx;
    if (!sb->running || stuck_knob(sb, w) == 37)
        return; /* no self URL: whoever drives the sandbox delivers the events; 37: never */
    pending_event *ev = calloc(1, sizeof *ev);
    if (!ev) {
        pb_log(PB_LOG_ERROR, "cashier.sandbox", "payout %s: out of memory, not confirmed",
               w->psp_reference);
        return;
    }
    new_id("evt_", ev->event_id, sizeof ev->event_id);
    bool fail = w->amount % 100 == 13; /* the test knob: minor units ending in 13 */
    snprintf(ev->type, sizeof ev->type, "%s", fail ? "payout.failed" : "payout.paid");
    snprintf(ev->reference, sizeof ev->reference, "%s", w->psp_reference);
    ev->amount = w->amount;
    snprintf(ev->currency, sizeof ev->currency, "%s", w->currency);
    ev->due_ms = pb_psp_sandbox_mono_ms() + sb->delay_ms;
    pthread_mutex_lock(&sb->mu);
    ev->next = sb->queue;
    sb->queue = ev;
    sb->queued++;
    pthread_cond_signal(&sb->cv);
    pthread_mutex_unlock(&sb->mu);
}

/* ---- life ---- */

static void sb_free(pb_psp *psp)
{
    if (!psp)
        return;
    sandbox *sb = psp->ctx;
    if (sb->running) {
        pthread_mutex_lock(&sb->mu);
        sb->stop = true;
        pthread_cond_broadcast(&sb->cv);
        pthread_mutex_unlock(&sb->mu);
        pthread_join(sb->thread, NULL);
    }
    size_t lost = 0;
    for (pending_event *ev = sb->queue, *next; ev; ev = next, lost++) {
        next = ev->next;
        free(ev);
    }
    if (lost)
        pb_log(PB_LOG_INFO, "cashier.sandbox", "%zu payout confirmations left for the next start",
               lost);
    pthread_cond_destroy(&sb->cv);
    pthread_mutex_destroy(&sb->mu);
    free(sb->refused);
    free(sb->payouts);
    if (sb->payouts_fd >= 0)
        close(sb->payouts_fd);
    free(sb->settles);
    if (sb->settles_fd >= 0)
        close(sb->settles_fd);
    sodium_memzero(sb, sizeof *sb);
    free(sb);
    free(psp);
}

/* Reads the secret, or creates it (0600) when the file does not exist. */
static int load_secret(const char *dir, char out[SECRET_HEX + 1], char *err, size_t errcap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, PB_PSP_SANDBOX_SECRET_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        struct stat st;
        char buf[SECRET_HEX + 2];
        bool stat_ok = fstat(fd, &st) == 0;
        ssize_t n = stat_ok ? read(fd, buf, sizeof buf) : -1;
        close(fd);
        if (!stat_ok || (st.st_mode & 077)) {
            snprintf(err, errcap, "%s: readable by group or others (want 0600)", path);
            return -1;
        }
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        if (n != SECRET_HEX) {
            snprintf(err, errcap, "%s: want %d hex digits", path, SECRET_HEX);
            return -1;
        }
        memcpy(out, buf, SECRET_HEX);
        out[SECRET_HEX] = 0;
        return 0;
    }
    if (errno != ENOENT) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, SECRET_HEX + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    char line[SECRET_HEX + 1];
    memcpy(line, out, SECRET_HEX);
    line[SECRET_HEX] = '\n';
    if (fd < 0 || write(fd, line, sizeof line) != (ssize_t)sizeof line || fsync(fd) != 0) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return -1;
    }
    close(fd);
    return 0;
}

pb_psp *pb_psp_sandbox_new(const pb_psp_sandbox_config *cfg, char *err, size_t errcap)
{
    pb_psp *p = calloc(1, sizeof *p);
    sandbox *sb = calloc(1, sizeof *sb);
    if (!p || !sb) {
        free(p);
        free(sb);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    const char *dir = cfg && cfg->keys_dir ? cfg->keys_dir : ".";
    snprintf(sb->report_down, sizeof sb->report_down, "%s/%s", dir,
             PB_PSP_SANDBOX_REPORT_DOWN_FILE);
    sb->payouts_fd = sb->settles_fd = -1;
    if (load_secret(dir, sb->secret, err, errcap) != 0 || load_payouts(sb, dir, err, errcap) != 0 ||
        pb_psp_sandbox_settles_load(sb, dir, err, errcap) != 0) {
        if (sb->payouts_fd >= 0)
            close(sb->payouts_fd);
        if (sb->settles_fd >= 0)
            close(sb->settles_fd);
        free(sb->payouts);
        free(sb->settles);
        sodium_memzero(sb, sizeof *sb);
        free(p);
        free(sb);
        return NULL;
    }
    sb->stuck_knobs = cfg && cfg->stuck_knobs;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sb->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&sb->mu, NULL);
    sb->self_url = cfg ? cfg->self_url : NULL;
    sb->self_url_ctx = cfg ? cfg->self_url_ctx : NULL;
    sb->delay_ms = cfg && cfg->payout_delay_ms > 0 ? cfg->payout_delay_ms : 0;
    snprintf(p->code, sizeof p->code, "sandbox");
    p->ctx = sb;
    p->deposit_create = sb_deposit_create;
    p->checkout_url = sb_checkout_url;
    p->payout_send = sb_payout_send;
    p->payout_sent = sb_payout_sent;
    p->payout_status = sb_payout_status;
    p->webhook_verify = sb_verify;
    p->report_fetch = pb_psp_sandbox_report_fetch;
    p->report_parse = pb_psp_sandbox_report_parse;
    p->free = sb_free;
    if (sb->self_url) {
        if (pthread_create(&sb->thread, NULL, pb_psp_sandbox_delivery_thread, sb) != 0) {
            snprintf(err, errcap, "cannot start the sandbox PSP's delivery thread");
            sb_free(p);
            return NULL;
        }
        sb->running = true;
    }
    return p;
}
