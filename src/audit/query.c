/*
 * query.c — pages of audit entries for the back office, newest first.
 *
 * The filter is checked, turned into the store's filter (an action ending in
 * '.' becomes a prefix; the brand list is the caller's scope; the time range
 * becomes a seq range), and run in a read transaction asking for one row more
 * than the page holds: if it comes,
 * its seq is the next page's cursor (pages continue at seq <= cursor, so an
 * entry appended meanwhile never shifts a page). Each row's before/after texts
 * are copied out of the store's statement into memory the page owns.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit_internal.h"

typedef struct qstate {
    pb_audit_page *page;
    size_t cap, want;
    bool oom;
} qstate;

/* A heap copy of s (NULL stays NULL); sets *oom on failure. */
static const char *dup_text(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

/* Frees the texts a page row owns. */
static void free_row(pb_audit_record *r)
{
    free((void *)r->before);
    free((void *)r->after);
    r->before = r->after = NULL;
}

/* Appends one row to the page, copying its texts. */
static int on_row(void *p, const pb_audit_record *e)
{
    qstate *q = p;
    pb_audit_page *pg = q->page;
    if (pg->n == q->want)
        return 1; /* the store honours the limit; never write past it regardless */
    if (pg->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        if (cap > q->want)
            cap = q->want;
        pb_audit_record *x = realloc(pg->entries, cap * sizeof *x);
        if (!x) {
            q->oom = true;
            return 1;
        }
        pg->entries = x;
        q->cap = cap;
    }
    pb_audit_record *r = &pg->entries[pg->n];
    *r = *e;
    r->before = dup_text(e->before, &q->oom);
    r->after = dup_text(e->after, &q->oom);
    pg->n++; /* counted even on failure, so pb_audit_page_free releases what was copied */
    return q->oom ? 1 : 0;
}

/* Checks the filter's members; true when they are usable. */
static bool filter_ok(const pb_audit_filter *f)
{
    if (f->limit < 1 || f->limit > PB_AUDIT_QUERY_LIMIT_MAX || f->cursor < 0 || f->from_us < 0 ||
        f->to_us < 0 || (f->from_us && f->to_us && f->from_us >= f->to_us))
        return false;
    if ((f->actor_kind && strlen(f->actor_kind) > PB_AUDIT_ACTOR_KIND_MAX) ||
        (f->actor_id && strlen(f->actor_id) > PB_AUDIT_ACTOR_ID_MAX) ||
        (f->target_kind && strlen(f->target_kind) > PB_AUDIT_TARGET_KIND_MAX) ||
        (f->target_id && (!f->target_kind || strlen(f->target_id) > PB_AUDIT_TARGET_ID_MAX)))
        return false;
    if (f->action && !pb_audit_action_ok(f->action, false) && !pb_audit_action_ok(f->action, true))
        return false;
    if (f->brands) {
        if (f->nbrands > PB_AUDIT_QUERY_BRANDS_MAX)
            return false;
        for (size_t i = 0; i < f->nbrands; i++)
            if (!f->brands[i] || !*f->brands[i] || strlen(f->brands[i]) > PB_AUDIT_BRAND_MAX)
                return false;
    }
    return true;
}

/* Narrows the store filter's seq range to the time range (dates never decrease
 * along seq, so [from, to) is a seq range); *empty when nothing can match. */
static pb_store_rc seq_bounds(pb_store_conn *c, const pb_audit_filter *f, pb_store_audit_filter *sf,
                              bool *empty)
{
    int64_t seq;
    pb_store_rc rc;
    if (f->from_us) {
        rc = pb_store_audit_entry_seq_at(c, f->from_us, &seq);
        if (rc == PB_STORE_NOT_FOUND)
            *empty = true; /* nothing dated that late */
        else if (rc != PB_STORE_OK)
            return rc;
        else
            sf->min_seq = seq;
    }
    if (f->to_us && !*empty) {
        rc = pb_store_audit_entry_seq_at(c, f->to_us, &seq);
        if (rc == PB_STORE_OK && seq <= 1)
            *empty = true; /* nothing dated that early */
        else if (rc == PB_STORE_OK && (!sf->max_seq || seq - 1 < sf->max_seq))
            sf->max_seq = seq - 1;
        else if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
            return rc;
    }
    if (sf->min_seq && sf->max_seq && sf->min_seq > sf->max_seq)
        *empty = true;
    return PB_STORE_OK;
}

pb_err pb_audit_query(pb_store_conn *c, const pb_audit_filter *f, pb_audit_page *out)
{
    memset(out, 0, sizeof *out);
    if (!filter_ok(f))
        return PB_ERR_INVALID_REQUEST;
    bool prefix = f->action && f->action[strlen(f->action) - 1] == '.';
    pb_store_audit_filter sf = {
        .actor_kind = f->actor_kind,
        .actor_id = f->actor_id,
        .target_kind = f->target_kind,
        .target_id = f->target_id,
        .action = prefix ? NULL : f->action,
        .action_prefix = prefix ? f->action : NULL,
        .brand_scoped = f->brands != NULL,
        .brands = f->brands,
        .nbrands = f->nbrands,
        .from_us = f->from_us,
        .to_us = f->to_us,
        .max_seq = f->cursor,
        .limit = f->limit + 1,
    };
    qstate q = {.page = out, .want = f->limit + 1};
    pb_err e = pb_audit_store_err(pb_store_begin(c, PB_STORE_READ));
    if (e != PB_OK)
        return e;
    bool empty = false;
    pb_store_rc rc = seq_bounds(c, f, &sf, &empty);
    if (rc == PB_STORE_OK && !empty)
        rc = pb_store_audit_entry_query(c, &sf, on_row, &q);
    pb_store_rollback(c);
    e = q.oom ? PB_ERR_INTERNAL : pb_audit_store_err(rc);
    if (e != PB_OK) {
        pb_audit_page_free(out);
        return e;
    }
    if (out->n > f->limit) {
        out->next_cursor = out->entries[f->limit].seq;
        free_row(&out->entries[f->limit]);
        out->n = f->limit;
    }
    return PB_OK;
}

void pb_audit_page_free(pb_audit_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free_row(&p->entries[i]);
    free(p->entries);
    memset(p, 0, sizeof *p);
}
