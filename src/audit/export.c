/*
 * export.c — the audit log as JSON lines for a regulator.
 *
 * One read transaction. The time range becomes a seq range (dates never go
 * backwards along seq), the checkpoints that sign a seq inside it are collected
 * with their public keys, and then: a header line saying how to verify, one line
 * per entry with every field, its predecessor's hash and its own, and one line
 * per checkpoint. Text is written as JSON strings whose decoded UTF-8 bytes are
 * exactly the stored bytes, and before/after stay strings (not re-encoded JSON),
 * so that the canonical serialisation can be rebuilt byte for byte.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_internal.h"
#include "core/time.h"

#define CANONICAL                                                                              \
    "entry.hash = SHA-256(\"" AUDIT_ENTRY_TAG "\" || prev_hash || i64(seq) || id (16 bytes) || " \
    "i64(at_us) || str(actor_kind) || str(actor_id) || str(actor_email) || str(role) || "       \
    "opt(brand) || str(action) || str(target_kind) || str(target_id) || opt(before) || "        \
    "opt(after) || str(reason) || str(trace_id) || str(ip)), prev_hash of seq 1 = 32 zero "     \
    "bytes, i64 = 8 bytes little-endian, str(s) = u32 little-endian byte length || UTF-8 "      \
    "bytes, opt(null) = 0x00, opt(s) = 0x01 || str(s); checkpoint.signature = "                \
    "Ed25519(\"" AUDIT_CHECKPOINT_TAG "\" || i64(id) || i64(upto_seq) || head_hash || "         \
    "i64(at_us) || str(key_id)), key_id = hex of the first 8 bytes of SHA-256(public_key), "    \
    "head_hash = hash of entry upto_seq; see docs/audit-format.md"

typedef struct xstate {
    FILE *out;
    pb_audit_export_summary *sum;
    int64_t first, last;
    uint8_t prev[32];
    pb_audit_checkpoint_record *cps;
    size_t ncps, cap;
    bool oom;
} xstate;

/* The byte length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    size_t len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
    return len && len <= n && pb_audit_utf8_ok((const char *)p, len, false) ? len : 0;
}

/* Writes s as a JSON string. Valid UTF-8 passes through; control characters are
 * escaped; a byte that is not valid UTF-8 (only in a tampered row) becomes \u00XX. */
static void put_json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char ch = p[i];
        size_t len;
        if (ch == '"' || ch == '\\') {
            fputc('\\', f);
            fputc(ch, f);
        } else if (ch == '\n') {
            fputs("\\n", f);
        } else if (ch == '\r') {
            fputs("\\r", f);
        } else if (ch == '\t') {
            fputs("\\t", f);
        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(f, "\\u%04x", ch);
        } else if (ch < 0x80) {
            fputc(ch, f);
        } else if ((len = utf8_seq(p + i, n - i)) > 0) {
            fwrite(p + i, 1, len, f);
            i += len;
            continue;
        } else {
            fprintf(f, "\\u%04x", ch);
        }
        i++;
    }
    fputc('"', f);
}

/* A JSON string, or null for NULL. */
static void put_json_opt(FILE *f, const char *s)
{
    if (s)
        put_json_str(f, s);
    else
        fputs("null", f);
}

/* Lower-case hex of n bytes, as a JSON string. */
static void put_hex(FILE *f, const uint8_t *b, size_t n)
{
    char hex[2 * 64 + 1];
    pb_audit_hex(b, n, hex);
    fprintf(f, "\"%s\"", hex);
}

/* An RFC 3339 time string, or null when out of range. */
static void put_time(FILE *f, int64_t us)
{
    char t[PB_TIME_STR_MAX];
    if (pb_time_format(us, t, sizeof t) < 0)
        fputs("null", f);
    else
        fprintf(f, "\"%s\"", t);
}

/* Keeps the checkpoints that sign a seq inside the exported range. */
static int on_checkpoint(void *p, const pb_audit_checkpoint_record *cp)
{
    xstate *x = p;
    if (cp->upto_seq < x->first || cp->upto_seq > x->last)
        return 0;
    if (x->ncps == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        pb_audit_checkpoint_record *a = realloc(x->cps, cap * sizeof *a);
        if (!a) {
            x->oom = true;
            return 1;
        }
        x->cps = a;
        x->cap = cap;
    }
    x->cps[x->ncps++] = *cp;
    return 0;
}

/* Writes one entry line; the row before the range only provides prev_hash. */
static int on_entry(void *p, const pb_audit_record *e)
{
    xstate *x = p;
    FILE *f = x->out;
    if (e->seq > x->last)
        return 1;
    if (e->seq >= x->first) {
        char id[PB_ID_STR_LEN + 1];
        pb_id_to_string(&e->id, id);
        fprintf(f, "{\"type\":\"entry\",\"seq\":%" PRId64 ",\"id\":\"%s\",\"at\":", e->seq, id);
        put_time(f, e->at);
        fprintf(f, ",\"at_us\":%" PRId64 ",\"actor_kind\":", e->at);
        put_json_str(f, e->actor_kind);
        fputs(",\"actor_id\":", f);
        put_json_str(f, e->actor_id);
        fputs(",\"actor_email\":", f);
        put_json_str(f, e->actor_email);
        fputs(",\"role\":", f);
        put_json_str(f, e->role);
        fputs(",\"brand\":", f);
        put_json_opt(f, e->brand[0] ? e->brand : NULL);
        fputs(",\"action\":", f);
        put_json_str(f, e->action);
        fputs(",\"target_kind\":", f);
        put_json_str(f, e->target_kind);
        fputs(",\"target_id\":", f);
        put_json_str(f, e->target_id);
        fputs(",\"before\":", f);
        put_json_opt(f, e->before);
        fputs(",\"after\":", f);
        put_json_opt(f, e->after);
        fputs(",\"reason\":", f);
        put_json_str(f, e->reason);
        fputs(",\"trace_id\":", f);
        put_json_str(f, e->trace_id);
        fputs(",\"ip\":", f);
        put_json_str(f, e->ip);
        fputs(",\"prev_hash\":", f);
        put_hex(f, x->prev, 32);
        fputs(",\"hash\":", f);
        put_hex(f, e->hash, 32);
        fputs("}\n", f);
        x->sum->entries++;
        if (!x->sum->first_seq)
            x->sum->first_seq = e->seq;
        x->sum->last_seq = e->seq;
    }
    memcpy(x->prev, e->hash, 32);
    return ferror(f) ? 1 : 0;
}

/* One checkpoint line. */
static void put_checkpoint(FILE *f, const pb_audit_checkpoint_record *cp)
{
    fprintf(f, "{\"type\":\"checkpoint\",\"id\":%" PRId64 ",\"upto_seq\":%" PRId64 ",\"head_hash\":",
            cp->id, cp->upto_seq);
    put_hex(f, cp->head_hash, 32);
    fputs(",\"at\":", f);
    put_time(f, cp->at);
    fprintf(f, ",\"at_us\":%" PRId64 ",\"key_id\":", cp->at);
    put_json_str(f, cp->key_id);
    fputs(",\"public_key\":", f);
    put_hex(f, cp->public_key, 32);
    fputs(",\"signature\":", f);
    put_hex(f, cp->signature, 64);
    fputs("}\n", f);
}

/* The i-th candidate public key: the caller's, then the checkpoints'. */
static const uint8_t *key_at(const pb_audit_export_opts *o, const xstate *x, size_t i)
{
    return i < o->nkeys ? o->keys[i].b : x->cps[i - o->nkeys].public_key;
}

/* Lists each distinct public key once, in order of first appearance. */
static void put_keys(FILE *f, const pb_audit_export_opts *o, const xstate *x)
{
    size_t total = o->nkeys + x->ncps, written = 0;
    fputs("\"public_keys\":[", f);
    for (size_t i = 0; i < total; i++) {
        const uint8_t *k = key_at(o, x, i);
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = memcmp(key_at(o, x, j), k, 32) == 0;
        if (dup)
            continue;
        pb_audit_pubkey pk;
        char id[PB_AUDIT_KEY_ID_LEN + 1];
        memcpy(pk.b, k, 32);
        pb_audit_pubkey_id(&pk, id);
        fprintf(f, "%s{\"key_id\":\"%s\",\"public_key\":", written++ ? "," : "", id);
        put_hex(f, k, 32);
        fputc('}', f);
    }
    fputc(']', f);
}

/* The header line: how to verify, the range, and the public keys. */
static void put_header(FILE *f, const pb_audit_export_opts *o, const xstate *x)
{
    fputs("{\"format\":\"pitboss-audit-v1\",\"hash\":\"sha256\",\"signature\":\"ed25519\","
          "\"canonical\":",
          f);
    put_json_str(f, CANONICAL);
    fputs(",\"exported_at\":", f);
    put_time(f, o->now_us);
    fputs(",\"since\":", f);
    if (o->since_us)
        put_time(f, o->since_us);
    else
        fputs("null", f);
    fputs(",\"until\":", f);
    if (o->until_us)
        put_time(f, o->until_us);
    else
        fputs("null", f);
    bool empty = x->first > x->last;
    fprintf(f, ",\"first_seq\":%" PRId64 ",\"last_seq\":%" PRId64 ",", empty ? 0 : x->first,
            empty ? 0 : x->last);
    put_keys(f, o, x);
    fputs("}\n", f);
}

/* The exported seq range [first, last] (empty when first > last). */
static pb_store_rc seq_range(pb_store_conn *c, const pb_audit_export_opts *o, xstate *x)
{
    pb_store_audit_head head;
    x->first = 1;
    x->last = 0;
    pb_store_rc rc = pb_store_audit_head_get(c, &head);
    if (rc != PB_STORE_OK)
        return rc == PB_STORE_NOT_FOUND ? PB_STORE_OK : rc;
    x->last = head.seq;
    if (o->since_us) {
        rc = pb_store_audit_entry_seq_at(c, o->since_us, &x->first);
        if (rc == PB_STORE_NOT_FOUND) {
            x->first = head.seq + 1;
            return PB_STORE_OK;
        }
        if (rc != PB_STORE_OK)
            return rc;
    }
    if (o->until_us) {
        int64_t after;
        rc = pb_store_audit_entry_seq_at(c, o->until_us, &after);
        if (rc == PB_STORE_OK)
            x->last = after - 1;
        else if (rc != PB_STORE_NOT_FOUND)
            return rc;
    }
    return PB_STORE_OK;
}

pb_err pb_audit_export(pb_store_conn *c, const pb_audit_export_opts *o, FILE *out,
                       pb_audit_export_summary *summary)
{
    memset(summary, 0, sizeof *summary);
    if (o->since_us < 0 || o->until_us < 0 ||
        (o->since_us && o->until_us && o->since_us >= o->until_us) || (o->nkeys && !o->keys))
        return PB_ERR_INVALID_REQUEST;
    xstate x = {.out = out, .sum = summary};
    pb_err e = pb_audit_store_err(pb_store_begin(c, PB_STORE_READ));
    if (e != PB_OK)
        return e;
    pb_store_rc rc = seq_range(c, o, &x);
    if (rc == PB_STORE_OK && x.first <= x.last)
        rc = pb_store_audit_checkpoint_scan(c, on_checkpoint, &x);
    if (rc == PB_STORE_OK && !x.oom) {
        put_header(out, o, &x);
        if (x.first <= x.last)
            rc = pb_store_audit_entry_scan(c, x.first - 2 > 0 ? x.first - 2 : 0, on_entry, &x);
        for (size_t i = 0; rc == PB_STORE_OK && i < x.ncps; i++)
            put_checkpoint(out, &x.cps[i]);
        summary->checkpoints = (int64_t)x.ncps;
    }
    pb_store_rollback(c);
    free(x.cps);
    bool io_error = fflush(out) != 0 || ferror(out);
    if (x.oom || io_error)
        return PB_ERR_INTERNAL;
    return pb_audit_store_err(rc);
}
