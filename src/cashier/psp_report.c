/*
 * psp_report.c — the PSP-neutral settlement report of psp.h: a growable array
 * of normalised rows, and the wire names of a row's kind and status (shared by
 * the adapters' parsers and writers and by the reconciliation's answers).
 */
#include <stdlib.h>
#include <string.h>

#include "cashier/psp.h"

static const char *const KINDS[] = {"deposit", "payout", "payout_return"};
static const char *const STATUSES[] = {"settled", "failed", "pending"};

bool pb_psp_report_add(pb_psp_report *r, const pb_psp_settlement_row *row)
{
    if (r->n >= PB_PSP_REPORT_MAX_ROWS)
        return false;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        if (cap > PB_PSP_REPORT_MAX_ROWS)
            cap = PB_PSP_REPORT_MAX_ROWS;
        void *p = realloc(r->rows, cap * sizeof *r->rows);
        if (!p)
            return false;
        r->rows = p;
        r->cap = cap;
    }
    r->rows[r->n++] = *row;
    return true;
}

void pb_psp_report_free(pb_psp_report *r)
{
    if (!r)
        return;
    free(r->rows);
    r->rows = NULL;
    r->n = r->cap = 0;
}

const char *pb_psp_row_kind_name(pb_psp_row_kind k)
{
    return (unsigned)k < sizeof KINDS / sizeof KINDS[0] ? KINDS[k] : "unknown";
}

const char *pb_psp_row_status_name(pb_psp_row_status s)
{
    return (unsigned)s < sizeof STATUSES / sizeof STATUSES[0] ? STATUSES[s] : "unknown";
}

/* The index of the name s (len bytes) in names, or -1. */
static int lookup(const char *const *names, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return (int)i;
    return -1;
}

bool pb_psp_row_kind_parse(const char *s, size_t len, pb_psp_row_kind *out)
{
    int i = lookup(KINDS, sizeof KINDS / sizeof KINDS[0], s, len);
    if (i >= 0)
        *out = (pb_psp_row_kind)i;
    return i >= 0;
}

bool pb_psp_row_status_parse(const char *s, size_t len, pb_psp_row_status *out)
{
    int i = lookup(STATUSES, sizeof STATUSES / sizeof STATUSES[0], s, len);
    if (i >= 0)
        *out = (pb_psp_row_status)i;
    return i >= 0;
}
