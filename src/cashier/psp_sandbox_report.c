/*
 * psp_sandbox_report.c — the sandbox PSP's own books and its settlement report
 * (see psp.h for the CSV format).
 *
 * A real PSP keeps its own books, independent of the merchant's: the sandbox
 * records the deposits it collected (the payer completed at /complete, booked
 * before the event is handed to the cashier) and the paid payouts that came back
 * (at /return), one line each in keys_dir/sandbox-psp.settlements — appended and
 * synced before it answers, read at start, like its payout records
 * (sandbox-psp.payouts, psp_sandbox.c: the payouts it took, each with its time).
 * Nothing here reads the cashier's tables.
 *
 * Its report of a period [from, to) is built from those records: a payout it
 * took is "settled" (paid), "failed" with the 13 knob, "pending" with the 29 knob
 * (with stuck_knobs; 37, a payout it lost, is in no report); a deposit collected
 * and a payout returned are "settled". report_fetch answers it in-process,
 * pb_psp_sandbox_report_csv writes it as the CSV file the PSP's download route
 * serves, and report_parse reads that file back (what finance uploads), naming
 * the line at fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cashier/psp_sandbox_internal.h"
#include "core/log.h"
#include "core/time.h"

#define CSV_HEADER "reference,kind,amount,currency,status,settled_at"

/* ---- the books ---- */

static settle_record *settle_find(sandbox *sb, bool returned, const char *reference)
{
    for (size_t i = 0; i < sb->nsettles; i++) /* a sandbox's handful: a linear scan */
        if (sb->settles[i].returned == returned && strcmp(sb->settles[i].reference, reference) == 0)
            return &sb->settles[i];
    return NULL;
}

static bool settle_put(sandbox *sb, const settle_record *r)
{
    if (settle_find(sb, r->returned, r->reference))
        return true;
    if (sb->nsettles == sb->settles_cap) {
        size_t cap = sb->settles_cap ? 2 * sb->settles_cap : 16;
        void *p = realloc(sb->settles, cap * sizeof *sb->settles);
        if (!p)
            return false;
        sb->settles = p;
        sb->settles_cap = cap;
    }
    sb->settles[sb->nsettles++] = *r;
    return true;
}

static bool printable_token(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s > 0x7e || *s == ',')
            return false;
    return true;
}

bool pb_psp_sandbox_settle_add(sandbox *sb, bool returned, const char *reference, int64_t amount,
                               const char *currency, int64_t at)
{
    settle_record r = {.returned = returned, .amount = amount, .at = at};
    if (!printable_token(reference, PB_STORE_CASHIER_REF_MAX) ||
        !printable_token(currency, sizeof r.currency - 1))
        return false;
    snprintf(r.reference, sizeof r.reference, "%s", reference);
    snprintf(r.currency, sizeof r.currency, "%s", currency);
    pthread_mutex_lock(&sb->mu);
    bool ok = settle_find(sb, returned, reference) != NULL;
    if (!ok) {
        char line[256];
        int n = snprintf(line, sizeof line, "%s %s %lld %s %lld\n",
                         returned ? "returned" : "deposit", r.reference, (long long)r.amount,
                         r.currency, (long long)r.at);
        ok = n > 0 && (size_t)n < sizeof line && sb->settles_fd >= 0 &&
             write(sb->settles_fd, line, (size_t)n) == n && fdatasync(sb->settles_fd) == 0;
        if (!ok)
            pb_log(PB_LOG_ERROR, "cashier.sandbox", "%s %s: cannot record it: %s",
                   returned ? "return" : "deposit", r.reference, strerror(errno));
        ok = ok && settle_put(sb, &r);
    }
    pthread_mutex_unlock(&sb->mu);
    return ok;
}

int pb_psp_sandbox_settles_load(sandbox *sb, const char *dir, char *err, size_t errcap)
{
    FILE *f = pb_psp_sandbox_books_open(dir, PB_PSP_SANDBOX_SETTLEMENTS_FILE, &sb->settles_fd, err,
                                        errcap);
    if (!f)
        return -1;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        settle_record r = {0};
        char kind[16], ref[PB_STORE_CASHIER_REF_MAX + 2], cur[16];
        long long amount, at;
        if (!strchr(line, '\n') ||
            sscanf(line, "%15s %129s %lld %15s %lld", kind, ref, &amount, cur, &at) != 5 ||
            strlen(ref) > PB_STORE_CASHIER_REF_MAX || strlen(cur) >= sizeof r.currency ||
            (strcmp(kind, "deposit") && strcmp(kind, "returned")))
            continue; /* a torn last line (a crash mid-write): never answered as booked */
        r.returned = strcmp(kind, "returned") == 0;
        memcpy(r.reference, ref, strlen(ref) + 1); /* ≤ PB_STORE_CASHIER_REF_MAX: checked */
        memcpy(r.currency, cur, strlen(cur) + 1);  /* < sizeof r.currency: checked */
        r.amount = amount;
        r.at = at;
        if (!settle_put(sb, &r)) {
            fclose(f);
            snprintf(err, errcap, "%s: out of memory", PB_PSP_SANDBOX_SETTLEMENTS_FILE);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

/* ---- the report ---- */

static int row_order(const void *a, const void *b)
{
    const pb_psp_settlement_row *x = a, *y = b;
    if (x->settled_at != y->settled_at)
        return x->settled_at < y->settled_at ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcmp(x->reference, y->reference);
}

/* The rows of [from_us, to_us) from the books, in settled_at order. */
static pb_err report_rows(sandbox *sb, int64_t from_us, int64_t to_us, pb_psp_report *out)
{
    bool ok = true;
    pthread_mutex_lock(&sb->mu);
    for (size_t i = 0; ok && i < sb->npayouts; i++) {
        const payout_record *p = &sb->payouts[i];
        int64_t k = p->amount % 100;
        if (p->closed || p->at < from_us || p->at >= to_us || (sb->stuck_knobs && k == 37))
            continue; /* never taken, another period, or lost by the PSP (37) */
        pb_psp_settlement_row row = {.kind = PB_PSP_ROW_PAYOUT,
                                     .amount = p->amount,
                                     .settled_at = p->at,
                                     .status = sb->stuck_knobs && k == 29 ? PB_PSP_ROW_PENDING
                                               : k == 13                  ? PB_PSP_ROW_FAILED
                                                                          : PB_PSP_ROW_SETTLED};
        snprintf(row.reference, sizeof row.reference, PB_PSP_SANDBOX_PAYOUT_PREFIX "%s", p->id);
        snprintf(row.currency, sizeof row.currency, "%s", p->currency);
        ok = pb_psp_report_add(out, &row);
    }
    for (size_t i = 0; ok && i < sb->nsettles; i++) {
        const settle_record *s = &sb->settles[i];
        if (s->at < from_us || s->at >= to_us)
            continue;
        pb_psp_settlement_row row = {.kind = s->returned ? PB_PSP_ROW_PAYOUT_RETURN
                                                         : PB_PSP_ROW_DEPOSIT,
                                     .amount = s->amount,
                                     .status = PB_PSP_ROW_SETTLED,
                                     .settled_at = s->at};
        snprintf(row.reference, sizeof row.reference, "%s", s->reference);
        snprintf(row.currency, sizeof row.currency, "%s", s->currency);
        ok = pb_psp_report_add(out, &row);
    }
    pthread_mutex_unlock(&sb->mu);
    if (!ok)
        return out->n >= PB_PSP_REPORT_MAX_ROWS ? PB_ERR_PAYLOAD_TOO_LARGE : PB_ERR_INTERNAL;
    if (out->n > 1)
        qsort(out->rows, out->n, sizeof *out->rows, row_order);
    return PB_OK;
}

pb_err pb_psp_sandbox_report_fetch(pb_psp *psp, int64_t from_us, int64_t to_us, pb_psp_report *out,
                                   char *err, size_t errcap)
{
    sandbox *sb = psp->ctx;
    if (sb->stuck_knobs && access(sb->report_down, F_OK) == 0) {
        snprintf(err, errcap, "the sandbox's report service is down (%s: a test knob)",
                 PB_PSP_SANDBOX_REPORT_DOWN_FILE);
        return PB_ERR_PSP_UNAVAILABLE;
    }
    pb_err e = report_rows(psp->ctx, from_us, to_us, out);
    if (e != PB_OK)
        snprintf(err, errcap, "%s", e == PB_ERR_PAYLOAD_TOO_LARGE ? "too many rows" : "no memory");
    return e;
}

pb_err pb_psp_sandbox_report_csv(pb_psp *psp, int64_t from_us, int64_t to_us, char **csv,
                                 size_t *len)
{
    *csv = NULL;
    *len = 0;
    if (!psp || psp->report_fetch != pb_psp_sandbox_report_fetch)
        return PB_ERR_PSP_NOT_FOUND;
    pb_psp_report r = {0};
    pb_err e = report_rows(psp->ctx, from_us, to_us, &r);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = e == PB_OK ? open_memstream(&buf, &size) : NULL;
    if (e == PB_OK && !f)
        e = PB_ERR_INTERNAL;
    if (f) {
        fputs(CSV_HEADER "\n", f);
        for (size_t i = 0; i < r.n; i++) {
            const pb_psp_settlement_row *row = &r.rows[i];
            char at[40];
            if (pb_time_format(row->settled_at, at, sizeof at) < 0)
                snprintf(at, sizeof at, "1970-01-01T00:00:00.000000Z");
            fprintf(f, "%s,%s,%lld,%s,%s,%s\n", row->reference, pb_psp_row_kind_name(row->kind),
                    (long long)row->amount, row->currency, pb_psp_row_status_name(row->status), at);
        }
        if (fclose(f) != 0 || !buf)
            e = PB_ERR_INTERNAL;
    }
    pb_psp_report_free(&r);
    if (e != PB_OK) {
        free(buf);
        return e;
    }
    *csv = buf;
    *len = size;
    return PB_OK;
}

/* ---- reading a report file back ---- */

/* The fields of one line split at commas: false when there are not exactly n. */
static bool split(const char *s, size_t len, const char **f, size_t *flen, size_t n)
{
    size_t k = 0;
    const char *start = s, *end = s + len;
    for (const char *p = s;; p++) {
        if (p == end || *p == ',') {
            if (k == n)
                return false;
            f[k] = start;
            flen[k++] = (size_t)(p - start);
            if (p == end)
                break;
            start = p + 1;
        }
    }
    return k == n;
}

static bool token_ok(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* One data line into row: NULL, or what is wrong with it ("amount: …"). */
static const char *parse_row(const char *s, size_t len, pb_psp_settlement_row *row)
{
    const char *f[6];
    size_t fl[6];
    memset(row, 0, sizeof *row);
    if (!split(s, len, f, fl, 6))
        return "want 6 fields: " CSV_HEADER;
    if (!token_ok(f[0], fl[0], PB_STORE_CASHIER_REF_MAX))
        return "reference: 1 to 128 printable characters";
    memcpy(row->reference, f[0], fl[0]);
    if (!pb_psp_row_kind_parse(f[1], fl[1], &row->kind))
        return "kind: deposit, payout or payout_return";
    if (fl[2] == 0 || fl[2] > 18)
        return "amount: a whole number of minor units > 0";
    for (size_t i = 0; i < fl[2]; i++) {
        if (f[2][i] < '0' || f[2][i] > '9')
            return "amount: a whole number of minor units > 0";
        row->amount = row->amount * 10 + (f[2][i] - '0');
    }
    if (row->amount <= 0)
        return "amount: a whole number of minor units > 0";
    if (fl[3] != 3)
        return "currency: an ISO 4217 code";
    for (size_t i = 0; i < 3; i++)
        if (f[3][i] < 'A' || f[3][i] > 'Z')
            return "currency: an ISO 4217 code";
    memcpy(row->currency, f[3], 3);
    if (!pb_psp_row_status_parse(f[4], fl[4], &row->status))
        return "status: settled, failed or pending";
    if (pb_time_parse(f[5], fl[5], &row->settled_at) != 0)
        return "settled_at: an RFC 3339 date-time";
    return NULL;
}

pb_err pb_psp_sandbox_report_parse(pb_psp *psp, const char *body, size_t len, pb_psp_report *out,
                                   char *err, size_t errcap)
{
    (void)psp;
    size_t line = 0;
    const char *p = body, *end = body + len;
    if (len > PB_PSP_REPORT_MAX_BYTES) {
        snprintf(err, errcap, "more than %d bytes", PB_PSP_REPORT_MAX_BYTES);
        return PB_ERR_PAYLOAD_TOO_LARGE;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *s = p;
        p += n + (nl ? 1 : 0);
        line++;
        if (n && s[n - 1] == '\r')
            n--;
        if (line == 1) {
            if (n != sizeof CSV_HEADER - 1 || memcmp(s, CSV_HEADER, n) != 0) {
                snprintf(err, errcap, "line 1: want the header %s", CSV_HEADER);
                return PB_ERR_SETTLEMENT_REPORT_INVALID;
            }
            continue;
        }
        if (n == 0 && p >= end)
            break; /* the last line's end */
        pb_psp_settlement_row row;
        const char *why = n == 0 ? "an empty line" : parse_row(s, n, &row);
        if (why) {
            snprintf(err, errcap, "line %zu: %s", line, why);
            return PB_ERR_SETTLEMENT_REPORT_INVALID;
        }
        if (!pb_psp_report_add(out, &row)) {
            snprintf(err, errcap, "line %zu: more than %d rows", line, PB_PSP_REPORT_MAX_ROWS);
            return out->n >= PB_PSP_REPORT_MAX_ROWS ? PB_ERR_PAYLOAD_TOO_LARGE : PB_ERR_INTERNAL;
        }
    }
    if (line == 0) {
        snprintf(err, errcap, "line 1: want the header %s", CSV_HEADER);
        return PB_ERR_SETTLEMENT_REPORT_INVALID;
    }
    return PB_OK;
}
