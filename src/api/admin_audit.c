/*
 * admin_audit.c — the audit log for staff and regulators, and the signing of
 * its checkpoints while the server runs.
 *
 *   GET /v1/admin/audit          audit.read    entries, newest first: filters by actor,
 *                                              target, action (or a prefix ending in '.'),
 *                                              time; cursor pages
 *   GET /v1/admin/audit/export   audit.export  the log as JSON lines (application/x-ndjson):
 *                                              a header with the public keys, every entry
 *                                              with its hashes, the signed checkpoints
 *   GET /v1/admin/audit/verify   audit.read    the chain's status (pb_audit_verify), cached
 *                                              60 s per process; ?fresh=true once per 10 s
 *                                              per staff member
 *
 * Scope: staff who see every brand see every entry; a scoped member sees only
 * the entries of their brands (global entries, such as logins, excluded). The
 * export is the whole chain (a verifier needs it contiguous) and verify's counts
 * are the whole platform's, so both are for staff who see every brand (403
 * BRAND_FORBIDDEN otherwise).
 *
 * The export streams, with the same bytes as `pitboss audit export`, in bounded
 * memory whatever the log's size: the stream's 256 KiB, a 16 KiB FILE buffer,
 * and the page cache of the export's own SQLite connection, which grows to the
 * store's cache_size (64 MiB) at most and goes with the connection. (Measured
 * once: a 141 MB export of 250,000 entries took the server's RSS from 17 MB to
 * at most 67 MB; built in memory, it raised VmHWM by 260 MB.)
 *
 * The handler takes one of the exports' places (export_stream.c: beyond
 * --max-exports running at once, 503 EXPORTS_BUSY and nothing recorded), opens
 * that connection and begins the export there (pb_audit_export_begin: one short
 * read transaction fixes what the export contains — the last seq, the range,
 * the checkpoints and their keys — and says so), appends "audit.export" with
 * who, the range and those counts on the request's connection, and only then
 * replies with a stream: no byte leaves before the export is on record (the new
 * entry comes after the fixed last seq: it records this export). A producer
 * thread (export_stream.c, shared with the transactions export) takes over the
 * connection and writes the JSON lines through a FILE* that pushes into the
 * stream and waits for the client to drain it. It reads the log in chunks, each
 * in its own short read transaction that ends before its bytes go out
 * (audit/export.c), so a slow or stalled client pins no snapshot and the WAL
 * can still be checkpointed; the bytes are those one snapshot at the start
 * would give. A client that goes away or stalls, or a server that shuts down,
 * cuts the export: the thread logs audit.export_cut with what it had sent.
 * Every failure before the reply (a bad range, a scoped member, no key, no
 * place, the store) is a JSON error and writes no entry.
 *
 * The checkpointer: a thread with its own store connection wakes every
 * PB_ADMIN_CHECKPOINT_PERIOD_MS and signs the chain head when the policy says a
 * checkpoint is due (pb_audit_checkpoint_if_due); at shutdown it signs whatever
 * is still unsigned, so a stopped server leaves a fully signed chain.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/admin.h"
#include "api/export_stream.h"
#include "core/log.h"
#include "core/ticker.h"
#include "core/time.h"

#define PAGE_DEFAULT 50
#define PB_ADMIN_CHECKPOINT_PERIOD_MS 30000

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
static void hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* "" → null, else the string. */
static json_t *opt_str(const char *s) { return s && *s ? json_string(s) : json_null(); }

/* A stored before/after text as JSON (the text itself if it does not parse: a tampered row). */
static json_t *state_json(const char *text)
{
    if (!text)
        return json_null();
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(text);
}

json_t *pb_admin_audit_entry_json(const pb_audit_record *r)
{
    char id[PB_ID_STR_LEN + 1], h[65];
    pb_id_to_string(&r->id, id);
    hex(r->hash, 32, h);
    return json_pack("{s:I,s:s,s:o,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:s,s:s}", "seq",
                     (json_int_t)r->seq, "id", id, "at", pb_admin_time_json(r->at), "actor_kind",
                     r->actor_kind, "actor_id", r->actor_id, "actor_email", r->actor_email, "role",
                     r->role, "brand", opt_str(r->brand), "action", r->action, "target_kind",
                     r->target_kind, "target_id", r->target_id, "before", state_json(r->before),
                     "after", state_json(r->after), "reason", r->reason, "trace_id", r->trace_id,
                     "ip", r->ip, "hash", h);
}

/* True for "domain.verb" or a prefix "domain." — the forms pb_audit_query takes. */
static bool action_filter_ok(const char *s)
{
    size_t n = strlen(s);
    if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.") != n || s[0] == '.' || strstr(s, ".."))
        return false;
    return strchr(s, '.') != NULL;
}

/* Reads the filters; replies and returns false on a bad one. */
static bool audit_params(pb_http_request *req, pb_audit_filter *f)
{
    int64_t limit = PAGE_DEFAULT;
    if (!pb_admin_query_str(req, "actor_kind", PB_AUDIT_ACTOR_KIND_MAX, &f->actor_kind) ||
        !pb_admin_query_str(req, "actor_id", PB_AUDIT_ACTOR_ID_MAX, &f->actor_id) ||
        !pb_admin_query_str(req, "target_kind", PB_AUDIT_TARGET_KIND_MAX, &f->target_kind) ||
        !pb_admin_query_str(req, "target_id", PB_AUDIT_TARGET_ID_MAX, &f->target_id) ||
        !pb_admin_query_str(req, "action", PB_AUDIT_ACTION_MAX, &f->action) ||
        !pb_admin_query_time(req, "from", &f->from_us) ||
        !pb_admin_query_time(req, "to", &f->to_us) ||
        !pb_admin_query_range(req, f->from_us, f->to_us, "to") ||
        !pb_admin_query_int(req, "cursor", 1, INT64_MAX, &f->cursor) ||
        !pb_admin_query_int(req, "limit", 1, PB_AUDIT_QUERY_LIMIT_MAX, &limit))
        return false;
    f->limit = (size_t)limit;
    const char *bad = NULL;
    if (f->actor_kind && strcmp(f->actor_kind, "staff") != 0 &&
        strcmp(f->actor_kind, "player") != 0 && strcmp(f->actor_kind, "system") != 0)
        bad = "actor_kind";
    else if (f->target_kind && strspn(f->target_kind, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
                                   strlen(f->target_kind))
        bad = "target_kind";
    else if (f->target_id && !f->target_kind)
        bad = "target_kind";
    else if (f->action && !action_filter_ok(f->action))
        bad = "action";
    if (bad) {
        pb_http_reply_error(req, PB_ERR_FIELD_INVALID, bad);
        return false;
    }
    return true;
}

void pb_api_admin_audit_query(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    pb_audit_filter f = {0};
    if (!audit_params(req, &f))
        return;
    pb_store_conn *c = pb_http_conn(req);
    char(*codes)[PB_BRAND_CODE_MAX + 1] = pb_http_alloc(req, PB_SCOPE_MAX_BRANDS * sizeof *codes);
    const char **brands = pb_http_alloc(req, PB_SCOPE_MAX_BRANDS * sizeof *brands);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !codes || !brands ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK && !p->scope.all) {
        e = pb_admin_scope_codes(c, &p->scope, codes, &f.nbrands);
        for (size_t i = 0; i < f.nbrands; i++)
            brands[i] = codes[i];
        f.brands = brands; /* an empty scope sees nothing */
    }
    pb_audit_page page = {0};
    if (e == PB_OK)
        e = pb_audit_query(c, &f, &page);
    json_t *list = e == PB_OK ? json_array() : NULL;
    for (size_t i = 0; list && i < page.n; i++)
        if (json_array_append_new(list, pb_admin_audit_entry_json(&page.entries[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    int64_t next = page.next_cursor;
    pb_audit_page_free(&page);
    if (e != PB_OK) {
        pb_admin_fail(req, e == PB_ERR_INVALID_REQUEST ? PB_ERR_FIELD_INVALID : e, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       list ? json_pack("{s:o,s:o}", "entries", list, "next_cursor",
                                        pb_admin_cursor_json(next))
                            : NULL);
}

typedef struct export_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const pb_audit_export_summary *sum;
    int64_t since, until;
} export_ctx;

/* Records the export: who, which range, how much. */
static pb_err export_audit_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    export_ctx *x = ctx;
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "audit.export", &en);
    en.after = pb_admin_json_text(x->req, json_pack("{s:o,s:o,s:I,s:I,s:I,s:I}", "since",
                                                    pb_admin_time_json(x->since), "until",
                                                    pb_admin_time_json(x->until), "entries",
                                                    (json_int_t)x->sum->entries, "checkpoints",
                                                    (json_int_t)x->sum->checkpoints, "first_seq",
                                                    (json_int_t)x->sum->first_seq, "last_seq",
                                                    (json_int_t)x->sum->last_seq));
    return en.after ? pb_audit_append(c, &en, pb_time_now_us()) : PB_ERR_INTERNAL;
}

/* One export being streamed: its producer's connection and what it exports. */
typedef struct audit_export_job {
    pb_store_conn *conn; /* its own; x reads on it */
    pb_audit_exporter *x;
    bool place; /* holds one of the exports' places (export_stream.c) */
    pb_http_stream *s;
    pb_audit_export_summary plan; /* what "audit.export" says */
    char trace[PB_AUDIT_TRACE_MAX + 1];
} audit_export_job;

/* Drops the exporter and the connection, gives the place back, then ends the
 * stream; frees j (NULL is fine). */
static void audit_export_job_free(audit_export_job *j)
{
    if (!j)
        return;
    pb_audit_export_end(j->x);
    if (j->conn)
        pb_store_disconnect(j->conn);
    if (j->place)
        pb_api_export_release();  /* before the body ends: its reader finds the place free */
    pb_http_stream_release(j->s); /* ends the body (cut short when it failed) */
    free(j);
}

/* The producer thread: writes the export into the stream. */
static void audit_export_main(void *arg)
{
    audit_export_job *j = arg;
    uint64_t sent = 0;
    pb_audit_export_summary w = {0};
    FILE *f = pb_api_export_fopen(j->s, &sent);
    pb_err e = f ? pb_audit_export_write(j->x, f, &w) : PB_ERR_INTERNAL;
    bool refused = f && ferror(f); /* the client went away or stalled, or the server stops */
    if (f && fclose(f) != 0 && e == PB_OK)
        e = PB_ERR_INTERNAL;
    if (e != PB_OK)
        pb_log(refused ? PB_LOG_WARN : PB_LOG_ERROR, "audit.export_cut",
               "the export was cut after %lld of %lld entries (%llu bytes sent): %s (trace %s)",
               (long long)w.entries, (long long)j->plan.entries, (unsigned long long)sent,
               refused ? (pb_http_stream_closed(j->s) ? "the client went away or the server stops"
                                                      : "the client stalled")
               : !f    ? "out of memory"
                       : "reading the log failed",
               j->trace);
    else if (w.entries != j->plan.entries) /* a row missing from the chain: verify names it */
        pb_log(PB_LOG_WARN, "audit.export_mismatch",
               "the export has %lld entries, its audit entry says %lld (trace %s)",
               (long long)w.entries, (long long)j->plan.entries, j->trace);
    audit_export_job_free(j);
}

void pb_api_admin_audit_export(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    export_ctx x = {.req = req, .p = pb_api_principal(req)};
    if (!pb_admin_query_time(req, "from", &x.since) || !pb_admin_query_time(req, "to", &x.until) ||
        !pb_admin_query_range(req, x.since, x.until, "to"))
        return;
    if (!x.p->scope.all) {
        pb_http_reply_error_msg(req, PB_ERR_BRAND_FORBIDDEN, NULL,
                                "the export is the whole chain: staff who see every brand only");
        return;
    }
    if (!a->audit_key) {
        pb_admin_fail(req, PB_ERR_AUDIT_KEY_MISSING, NULL);
        return;
    }
    if (!pb_api_export_reserve(a->max_exports)) {
        pb_api_export_busy(req);
        return;
    }
    pb_store_conn *c = pb_http_conn(req);
    audit_export_job *j = c ? calloc(1, sizeof *j) : NULL;
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !j ? PB_ERR_INTERNAL : PB_OK;
    if (j)
        j->place = true;
    else
        pb_api_export_release();
    char why[200];
    if (e == PB_OK && !(j->conn = pb_store_connect(a->store, why, sizeof why))) {
        pb_log(PB_LOG_ERROR, "audit.export", "no connection: %s (trace %s)", why,
               pb_http_trace_id(req));
        e = PB_ERR_STORE_UNAVAILABLE;
    }
    pb_audit_export_opts o = {.since_us = x.since,
                              .until_us = x.until,
                              .now_us = pb_time_now_us(),
                              .keys = pb_audit_key_public(a->audit_key),
                              .nkeys = 1};
    if (e == PB_OK) /* what the export will contain */
        e = pb_audit_export_begin(j->conn, &o, &j->x, &j->plan);
    if (e == PB_OK) { /* on record before the first byte */
        x.sum = &j->plan;
        e = pb_admin_write(req, export_audit_tx, &x, NULL);
    }
    if (e != PB_OK) {
        audit_export_job_free(j);
        pb_admin_fail(req, e, NULL);
        return;
    }
    snprintf(j->trace, sizeof j->trace, "%s", pb_http_trace_id(req));
    char disp[80];
    snprintf(disp, sizeof disp, "attachment; filename=\"pitboss-audit-%lld.jsonl\"",
             (long long)(o.now_us / 1000000));
    pb_http_add_header(req, "Content-Disposition", disp);
    if (!(j->s = pb_api_export_reply(req, "application/x-ndjson"))) { /* a 500 was replied */
        audit_export_job_free(j);
        return;
    }
    if (!pb_api_export_spawn(audit_export_main, j)) {
        pb_log(PB_LOG_ERROR, "audit.export_cut", "no thread: nothing sent (trace %s)", j->trace);
        audit_export_job_free(j);
    }
}

/* ---- the checkpointer ---- */

struct pb_api_checkpointer {
    pb_ticker *ticker;
    pb_store_conn *conn;
    const pb_audit_key *key;
};

static bool checkpointer_pass(void *arg, int64_t retry_ms) /* failures are logged inside */
{
    (void)retry_ms;
    pb_api_checkpointer *cp = arg;
    pb_audit_checkpoint_if_due(cp->conn, cp->key, pb_time_now_us(), NULL, NULL);
    return true;
}

static void checkpointer_leave(void *arg)
{
    pb_api_checkpointer *cp = arg;
    pb_audit_checkpoint(cp->conn, cp->key, pb_time_now_us(), NULL, NULL); /* sign the rest */
}

/* ---- GET /v1/admin/audit/verify (backoffice-people): the chain's status for the UI
 *
 * The same check as `pitboss audit verify` (pb_audit_verify, trusting this
 * server's checkpoint key) on the request's connection. A whole-log check can
 * be slow, so the answer is cached for VERIFY_CACHE_US per process; ?fresh=true
 * runs it again, at most once per VERIFY_FRESH_US per staff member (429
 * RATE_LIMITED with Retry-After otherwise). The state lives for the process.
 * The chain is one for every brand: its counts (entries, head_seq, signed_upto)
 * are the whole platform's audit volume and its violations name other brands'
 * entries, so a member limited to some brands is refused 403 BRAND_FORBIDDEN,
 * as for the full export (the dashboard likewise shows them only their brands'
 * figures). */

#define VERIFY_CACHE_US (60 * 1000000LL)
#define VERIFY_FRESH_US (10 * 1000000LL)
#define VERIFY_LIST_MAX 100 /* violations listed; violations_total counts them all */

static pthread_mutex_t verify_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *verify_cached;      /* the last answer (without "cached"), or NULL */
static int64_t verify_cached_at;   /* when it was computed, µs */
static pb_ratelimit *verify_fresh; /* ?fresh=true per staff member */

/* Collects violations as JSON: the entry's seq and id, or the checkpoint's id,
 * when the message names them. */
static void verify_violation(void *ctx, const char *kind, const char *message)
{
    json_t *list = ctx;
    if (json_array_size(list) >= VERIFY_LIST_MAX)
        return;
    long long seq = 0, cp = 0;
    char id[64] = "";
    if (sscanf(message, "entry seq %lld (id %63[^)])", &seq, id) < 1)
        seq = 0;
    if (strncmp(message, "checkpoint id ", 14) == 0 && sscanf(message + 14, "%lld", &cp) != 1)
        cp = 0;
    json_array_append_new(list, json_pack("{s:o,s:o,s:o,s:s,s:s}", "id",
                                          id[0] ? json_string(id) : json_null(), "seq",
                                          seq ? json_integer(seq) : json_null(), "checkpoint",
                                          cp ? json_integer(cp) : json_null(), "kind", kind,
                                          "detail", message));
}

/* Reads the stored hash of entry `seq` (the head) as hex. */
typedef struct head_ctx {
    int64_t seq;
    char hex[65];
} head_ctx;

static int head_entry(void *ctx, const pb_store_audit_entry *e)
{
    head_ctx *h = ctx;
    if (e->seq == h->seq)
        hex(e->hash, 32, h->hex);
    return 1; /* one entry is enough */
}

/* Runs the check; the answer, or NULL (store trouble or OOM). */
static json_t *verify_run(pb_store_conn *c, const pb_api_app *a, int64_t now)
{
    json_t *list = json_array();
    pb_audit_verify_summary sum;
    if (!list || pb_audit_verify_trust(c, a->audit_trust, a->naudit_trust, verify_violation, list,
                                       &sum) != PB_OK) {
        json_decref(list);
        return NULL;
    }
    head_ctx h = {.seq = sum.head_seq};
    if (sum.head_seq > 0 &&
        pb_store_audit_entry_scan(c, sum.head_seq - 1, head_entry, &h) != PB_STORE_OK) {
        json_decref(list);
        return NULL;
    }
    return json_pack("{s:b,s:I,s:I,s:o,s:o,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "ok", sum.violations == 0,
                     "entries", (json_int_t)sum.entries, "head_seq", (json_int_t)sum.head_seq,
                     "head", h.hex[0] ? json_string(h.hex) : json_null(), "checked_at",
                     pb_admin_time_json(now), "checkpoints", (json_int_t)sum.checkpoints,
                     "signed_upto", (json_int_t)sum.signed_upto, "unsigned_entries",
                     (json_int_t)sum.unsigned_entries, "violations_total",
                     (json_int_t)sum.violations, "first_broken",
                     sum.first_broken_seq ? json_string(sum.first_broken) : json_null(),
                     "first_broken_checkpoint",
                     sum.first_broken_checkpoint ? json_string(sum.first_broken_checkpoint_msg)
                                                 : json_null(),
                     "violations", list);
}

void pb_api_admin_audit_verify(pb_http_request *req, void *app)
{
    const pb_principal *p = pb_api_principal(req);
    if (!p->scope.all) {
        pb_http_reply_error_msg(req, PB_ERR_BRAND_FORBIDDEN, NULL,
                                "the chain is every brand's: staff who see every brand only");
        return;
    }
    const char *fresh_v = pb_http_query(req, "fresh");
    if (fresh_v && strcmp(fresh_v, "true") != 0 && strcmp(fresh_v, "false") != 0) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "fresh",
                                "query parameter fresh must be true or false");
        return;
    }
    bool fresh = fresh_v && strcmp(fresh_v, "true") == 0;
    int64_t now = pb_time_now_us(), wait = 0;
    if (fresh) {
        pthread_mutex_lock(&verify_mu);
        if (!verify_fresh)
            verify_fresh = pb_ratelimit_new(1, VERIFY_FRESH_US, 1024);
        pb_err e = verify_fresh ? pb_ratelimit_take(verify_fresh, p->subject_public_id, now, &wait)
                                : PB_ERR_INTERNAL;
        pthread_mutex_unlock(&verify_mu);
        if (e != PB_OK) {
            if (e == PB_ERR_RATE_LIMITED)
                pb_http_add_retry_after(req, wait);
            pb_http_reply_error_msg(req, e, NULL,
                                    "a fresh check at most once per 10 s per staff member");
            return;
        }
    }
    json_t *out = NULL;
    pthread_mutex_lock(&verify_mu);
    if (!fresh && verify_cached && now - verify_cached_at < VERIFY_CACHE_US)
        out = json_deep_copy(verify_cached);
    pthread_mutex_unlock(&verify_mu);
    if (out) {
        json_object_set_new(out, "cached", json_true());
        pb_http_reply_json(req, 200, out);
        return;
    }
    pb_store_conn *c = pb_http_conn(req);
    out = c ? verify_run(c, app, now) : NULL;
    if (!out) {
        pb_admin_fail(req, c ? PB_ERR_INTERNAL : PB_ERR_STORE_UNAVAILABLE, NULL);
        return;
    }
    pthread_mutex_lock(&verify_mu);
    if (now >= verify_cached_at) { /* keep the newest of concurrent checks */
        json_decref(verify_cached);
        verify_cached = json_deep_copy(out);
        verify_cached_at = now;
    }
    pthread_mutex_unlock(&verify_mu);
    json_object_set_new(out, "cached", json_false());
    pb_http_reply_json(req, 200, out);
}

int pb_api_admin_open(pb_api_app *app, pb_store *store, const char *keys_dir, char *err,
                      size_t errcap)
{
    char why[400];
    pb_audit_key *k = NULL;
    bool created = false;
    if (pb_audit_key_load_or_create(keys_dir, &k, &created, why, sizeof why) != PB_OK) {
        snprintf(err, errcap, "audit signing key: %s", why);
        return -1;
    }
    app->audit_key = k;
    if (created)
        pb_log(PB_LOG_INFO, "audit.key", "created the audit signing key %s", pb_audit_key_id(k));
    /* verify trusts the key in use and the retired ones (pitboss audit rotate-key) */
    bool have_key = false;
    if (!(app->audit_trust = calloc(PB_AUDIT_TRUST_MAX, sizeof *app->audit_trust)) ||
        pb_audit_trust_load(keys_dir, app->audit_trust, PB_AUDIT_TRUST_MAX, &app->naudit_trust,
                            &have_key, why, sizeof why) != PB_OK) {
        snprintf(err, errcap, "audit keys: %s", app->audit_trust ? why : "out of memory");
        return -1;
    }
    if (app->naudit_trust > 1)
        pb_log(PB_LOG_INFO, "audit.key", "trusting %zu retired audit key(s) for older checkpoints",
               app->naudit_trust - 1);
    pb_api_checkpointer *cp = calloc(1, sizeof *cp);
    if (!cp) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    cp->key = k;
    if (!(cp->conn = pb_store_connect(store, why, sizeof why))) {
        snprintf(err, errcap, "audit checkpointer: %s", why);
        free(cp);
        return -1;
    }
    pb_ticker_spec spec = {.clock = CLOCK_MONOTONIC,
                           .interval_ms = PB_ADMIN_CHECKPOINT_PERIOD_MS,
                           .pass = checkpointer_pass,
                           .leave = checkpointer_leave,
                           .arg = cp};
    if (!(cp->ticker = pb_ticker_start(&spec))) {
        snprintf(err, errcap, "cannot start the audit checkpointer thread");
        pb_store_disconnect(cp->conn);
        free(cp);
        return -1;
    }
    app->checkpointer = cp;
    return 0;
}

void pb_api_admin_close(pb_api_app *app)
{
    pb_api_checkpointer *cp = app->checkpointer;
    if (cp) {
        pb_ticker_stop(cp->ticker); /* its last act: a checkpoint over the rest */
        pb_store_disconnect(cp->conn);
        free(cp);
        app->checkpointer = NULL;
    }
    pb_audit_key_free(app->audit_key);
    app->audit_key = NULL;
    free(app->audit_trust);
    app->audit_trust = NULL;
    app->naudit_trust = 0;
}
