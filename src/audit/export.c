/*
 * export.c — the audit log as JSON lines for a regulator.
 *
 * The time range becomes a seq range (dates never go backwards along seq), the
 * checkpoints that sign a seq inside it are counted and their distinct public
 * keys collected, and then: a header line saying how to verify, one line per
 * entry with every field, its predecessor's hash and its own, and one line per
 * checkpoint. Text is written as JSON strings whose decoded UTF-8 bytes are
 * exactly the stored bytes, and before/after stay strings (not re-encoded
 * JSON), so that the canonical serialisation can be rebuilt byte for byte.
 *
 * Two steps, so that a server can record an export before its first byte leaves
 * (admin_audit.c): pb_audit_export_begin() fixes what the export contains and
 * says so, pb_audit_export_write() writes it, pb_audit_export_end() frees it;
 * pb_audit_export() is the three in a row (the CLI).
 *
 * Short reads, not one snapshot. A reader's snapshot keeps every WAL checkpoint
 * from going past it, and an export is written as fast as its client reads: one
 * read transaction for the whole export let a slow download grow the WAL
 * without bound on a busy server. So begin() reads in ONE short transaction
 * everything that must agree — the chain head (last_seq), the seq range of the
 * time window, and the checkpoints: how many sign a seq inside the range, their
 * keys for the header, and the highest checkpoint id (cp_top) — and ends it.
 * write() writes the header from that, then reads the entries first-1..last and
 * the checkpoints with id <= cp_top in chunks, each in its own short read
 * transaction resuming after the last seq (id) read. The result is what one
 * snapshot taken at begin() would give, because both tables are INSERT-only
 * and numbered in commit order: an entry appended later gets seq = head + 1 >
 * last (its seq is read and inserted under the write lock; a duplicate seq is a
 * conflict), and a checkpoint signed later gets id = last id + 1 > cp_top — it
 * may sign a seq inside the range (the head at begin(), when nothing came
 * after), so the checkpoints are bounded by id, not by upto_seq. Entries, their
 * prev_hash links (the previous row's hash, carried across chunks) and the
 * checkpoint lines are therefore the same rows, and the header's counts and
 * keys, taken with the bounds in the first transaction, describe them. (A row
 * changed behind pitboss's back between two chunks is exported as it is then;
 * the chain and the signatures make that visible to the verifier, as they do
 * for any edit.)
 *
 * A chunk is at most CHUNK_ROWS rows (opts.chunk_rows in tests) or CHUNK_BYTES
 * of output, whichever comes first, rendered into memory while its transaction
 * is open and written to the FILE* only after it ended: the transaction never
 * waits for the consumer, so it lasts as long as reading and formatting a
 * thousand rows takes (about a millisecond), whatever the client does. Rows and
 * bytes rather than time: chunk boundaries stay deterministic (the tests cut at
 * every row), no clock is read per row, and the byte bound keeps the chunk's
 * memory bounded even when entries carry large before/after texts.
 *
 * Memory does not grow with the log: one chunk (about CHUNK_BYTES, plus one
 * row), the distinct public keys, nothing else. A consumer that must bound its
 * own memory gives a FILE* that pushes each buffer on (the server uses
 * fopencookie, api/export_stream.c); a write error on it stops the export at
 * the next chunk.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_internal.h"
#include "core/time.h"

#define CANONICAL                                                                                \
    "entry.hash = SHA-256(\"" AUDIT_ENTRY_TAG "\" || prev_hash || i64(seq) || id (16 bytes) || " \
    "i64(at_us) || str(actor_kind) || str(actor_id) || str(actor_email) || str(role) || "        \
    "opt(brand) || str(action) || str(target_kind) || str(target_id) || opt(before) || "         \
    "opt(after) || str(reason) || str(trace_id) || str(ip)), prev_hash of seq 1 = 32 zero "      \
    "bytes, i64 = 8 bytes little-endian, str(s) = u32 little-endian byte length || UTF-8 "       \
    "bytes, opt(null) = 0x00, opt(s) = 0x01 || str(s); checkpoint.signature = "                  \
    "Ed25519(\"" AUDIT_CHECKPOINT_TAG "\" || i64(id) || i64(upto_seq) || head_hash || "          \
    "i64(at_us) || str(key_id)), key_id = hex of the first 8 bytes of SHA-256(public_key), "     \
    "head_hash = hash of entry upto_seq; see docs/audit-format.md"

#define CHUNK_ROWS 1000          /* rows one read transaction reads at most */
#define CHUNK_BYTES (256u << 10) /* output a chunk stops at (one row may pass it) */

struct pb_audit_exporter {
    pb_store_conn *c;       /* the chunks' read transactions run on it */
    pb_audit_export_opts o; /* keys: not kept (the distinct ones are in keys) */
    pb_audit_pubkey *keys;  /* the header's keys: the caller's, then the checkpoints' */
    size_t nkeys, capkeys;
    int64_t first, last; /* the seq range (empty when first > last) */
    int64_t ncps;        /* checkpoints inside it */
    int64_t cp_top;      /* the highest checkpoint id at begin (0: none) */
    bool oom;
    /* writing */
    FILE *out; /* renders into mem (stdio buffered: fputc stays cheap) */
    char *mem; /* the chunk rendered so far (what out has flushed) */
    size_t len, cap;
    char vbuf[16384];              /* out's buffer */
    size_t chunk_rows;             /* rows per chunk */
    size_t rows;                   /* rows rendered into this chunk */
    bool full;                     /* the chunk reached its budget: there is more to read */
    int64_t cursor;                /* the last seq (id) read: the next chunk reads after it */
    pb_audit_export_summary chunk; /* the entries rendered into this chunk */
    uint8_t prev[32];
};
typedef struct pb_audit_exporter xstate;

/* The byte length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    size_t len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
    return len && len <= n && pb_audit_utf8_ok((const char *)p, len, false) ? len : 0;
}

/* Writes s as a JSON string. Valid UTF-8 passes through; control characters are
 * escaped; a byte that is not valid UTF-8 (only in a tampered row) becomes \u00XX.
 * What passes through is written in runs (one fputc per byte costs several times
 * more on a cookie FILE, which both the server's stream and a chunk are). */
static void put_json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), run = 0; /* p[run..i) passes through, not written yet */
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char ch = p[i];
        size_t len;
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
            i++;
            continue;
        }
        if (ch >= 0x80 && (len = utf8_seq(p + i, n - i)) > 0) {
            i += len;
            continue;
        }
        fwrite(p + run, 1, i - run, f);
        if (ch == '"' || ch == '\\') {
            fputc('\\', f);
            fputc(ch, f);
        } else if (ch == '\n') {
            fputs("\\n", f);
        } else if (ch == '\r') {
            fputs("\\r", f);
        } else if (ch == '\t') {
            fputs("\\t", f);
        } else { /* another control character, DEL, or a byte that is not UTF-8 */
            fprintf(f, "\\u%04x", ch);
        }
        run = ++i;
    }
    fwrite(p + run, 1, n - run, f);
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

/* Adds k to the header's keys unless it is there already (first appearance wins). */
static void add_key(xstate *x, const uint8_t *k)
{
    for (size_t i = 0; i < x->nkeys; i++)
        if (memcmp(x->keys[i].b, k, 32) == 0)
            return;
    if (x->nkeys == x->capkeys) {
        size_t cap = x->capkeys ? x->capkeys * 2 : 8;
        pb_audit_pubkey *a = realloc(x->keys, cap * sizeof *a);
        if (!a) {
            x->oom = true;
            return;
        }
        x->keys = a;
        x->capkeys = cap;
    }
    memcpy(x->keys[x->nkeys++].b, k, 32);
}

/* The first pass: counts the checkpoints that sign a seq inside the exported
 * range and lists their keys. */
static int on_checkpoint(void *p, const pb_audit_checkpoint_record *cp)
{
    xstate *x = p;
    if (cp->id > x->cp_top)
        x->cp_top = cp->id;
    if (cp->upto_seq < x->first || cp->upto_seq > x->last)
        return 0;
    x->ncps++;
    add_key(x, cp->public_key);
    return x->oom ? 1 : 0;
}

/* Counts a row into the chunk; non-zero (stop the scan) when the chunk is full. */
static int chunk_took(xstate *x, int64_t key)
{
    x->cursor = key;
    x->rows++;
    /* x->len lags the rendered bytes by at most out's buffer */
    x->full = x->rows >= x->chunk_rows || x->len >= CHUNK_BYTES;
    return x->full || ferror(x->out) ? 1 : 0;
}

/* Renders one entry line into the chunk; the row before the range only provides
 * prev_hash. */
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
        x->chunk.entries++;
        if (!x->chunk.first_seq)
            x->chunk.first_seq = e->seq;
        x->chunk.last_seq = e->seq;
    }
    memcpy(x->prev, e->hash, 32);
    return chunk_took(x, e->seq);
}

/* The second pass: one line per checkpoint inside the range, up to cp_top (a
 * checkpoint signed after begin has a higher id, even when it signs a seq inside
 * the range). */
static int put_checkpoint(void *p, const pb_audit_checkpoint_record *cp)
{
    xstate *x = p;
    FILE *f = x->out;
    if (cp->id > x->cp_top)
        return 1;
    if (cp->upto_seq < x->first || cp->upto_seq > x->last)
        return chunk_took(x, cp->id);
    fprintf(f,
            "{\"type\":\"checkpoint\",\"id\":%" PRId64 ",\"upto_seq\":%" PRId64 ",\"head_hash\":",
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
    return chunk_took(x, cp->id);
}

/* Lists each distinct public key once, in order of first appearance. */
static void put_keys(FILE *f, const xstate *x)
{
    fputs("\"public_keys\":[", f);
    for (size_t i = 0; i < x->nkeys; i++) {
        char id[PB_AUDIT_KEY_ID_LEN + 1];
        pb_audit_pubkey_id(&x->keys[i], id);
        fprintf(f, "%s{\"key_id\":\"%s\",\"public_key\":", i ? "," : "", id);
        put_hex(f, x->keys[i].b, 32);
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
    put_keys(f, x);
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

pb_err pb_audit_export_begin(pb_store_conn *c, const pb_audit_export_opts *o,
                             pb_audit_exporter **out, pb_audit_export_summary *plan)
{
    *out = NULL;
    memset(plan, 0, sizeof *plan);
    if (o->since_us < 0 || o->until_us < 0 ||
        (o->since_us && o->until_us && o->since_us >= o->until_us) || (o->nkeys && !o->keys))
        return PB_ERR_INVALID_REQUEST;
    xstate *x = calloc(1, sizeof *x);
    if (!x)
        return PB_ERR_INTERNAL;
    x->c = c;
    x->o = *o;
    x->o.keys = NULL;
    for (size_t i = 0; i < o->nkeys; i++)
        add_key(x, o->keys[i].b);
    pb_err e = pb_audit_store_err(pb_store_begin(c, PB_STORE_READ));
    if (e != PB_OK) {
        pb_audit_export_end(x);
        return e;
    }
    /* the bounds, the counts and the keys: from one snapshot, then it ends */
    pb_store_rc rc = seq_range(c, o, x);
    if (rc == PB_STORE_OK && x->first <= x->last)
        rc = pb_store_audit_checkpoint_scan(c, 0, on_checkpoint, x);
    pb_store_rollback(c);
    e = x->oom ? PB_ERR_INTERNAL : pb_audit_store_err(rc);
    if (e != PB_OK) {
        pb_audit_export_end(x);
        return e;
    }
    if (x->first <= x->last) { /* seqs have no gaps (a missing row is tampering: verify says so) */
        plan->entries = x->last - x->first + 1;
        plan->first_seq = x->first;
        plan->last_seq = x->last;
    }
    plan->checkpoints = x->ncps;
    *out = x;
    return PB_OK;
}

/* out's write function: appends to the chunk in memory. */
static ssize_t mem_write(void *cookie, const char *buf, size_t size)
{
    xstate *x = cookie;
    if (size > x->cap - x->len) {
        size_t cap = x->cap ? x->cap : 64 << 10;
        while (cap - x->len < size)
            cap *= 2;
        char *m = realloc(x->mem, cap);
        if (!m)
            return -1;
        x->mem = m;
        x->cap = cap;
    }
    memcpy(x->mem + x->len, buf, size);
    x->len += size;
    return (ssize_t)size;
}

/* Reads one chunk in its own read transaction, from the entries (or the
 * checkpoints) after x->cursor, rendered into memory; then writes it to dest and
 * adds its entries to *written. Sets x->full when there is more to read. */
static pb_err put_chunk(xstate *x, bool checkpoints, FILE *dest, pb_audit_export_summary *written)
{
    x->len = 0;
    x->rows = 0;
    x->full = false;
    memset(&x->chunk, 0, sizeof x->chunk);
    pb_store_rc rc = pb_store_begin(x->c, PB_STORE_READ);
    if (rc == PB_STORE_OK) {
        rc = checkpoints ? pb_store_audit_checkpoint_scan(x->c, x->cursor, put_checkpoint, x)
                         : pb_store_audit_entry_scan(x->c, x->cursor, on_entry, x);
        pb_store_rollback(x->c); /* before the consumer sees a byte */
    }
    bool oom = fflush(x->out) != 0 || ferror(x->out);
    pb_err e = oom ? PB_ERR_INTERNAL : pb_audit_store_err(rc);
    if (e == PB_OK && x->len)
        fwrite(x->mem, 1, x->len, dest);
    if (e == PB_OK && !ferror(dest)) {
        written->entries += x->chunk.entries;
        if (!written->first_seq)
            written->first_seq = x->chunk.first_seq;
        if (x->chunk.last_seq)
            written->last_seq = x->chunk.last_seq;
    }
    return e;
}

pb_err pb_audit_export_write(pb_audit_exporter *x, FILE *out, pb_audit_export_summary *written)
{
    memset(written, 0, sizeof *written);
    memset(x->prev, 0, sizeof x->prev);
    x->chunk_rows = x->o.chunk_rows ? x->o.chunk_rows : CHUNK_ROWS;
    put_header(out, &x->o, x);
    pb_err e = PB_OK;
    if (x->first <= x->last) {
        x->out = fopencookie(x, "w", (cookie_io_functions_t){.write = mem_write});
        if (!x->out || setvbuf(x->out, x->vbuf, _IOFBF, sizeof x->vbuf) != 0)
            e = PB_ERR_INTERNAL;
        /* the entries from the one before the range (its hash is the first prev_hash) */
        x->cursor = x->first - 2 > 0 ? x->first - 2 : 0;
        while (e == PB_OK && !ferror(out)) {
            e = put_chunk(x, false, out, written);
            if (!x->full)
                break;
        }
        x->cursor = 0; /* then the checkpoints by id (a chunk ends past cp_top) */
        while (e == PB_OK && x->cp_top > 0 && !ferror(out)) {
            e = put_chunk(x, true, out, written);
            if (!x->full)
                break;
        }
        if (x->out)
            fclose(x->out);
        x->out = NULL;
        free(x->mem);
        x->mem = NULL;
        x->len = x->cap = 0;
    }
    written->checkpoints = x->ncps;
    bool io_error = fflush(out) != 0 || ferror(out);
    return io_error ? PB_ERR_INTERNAL : e;
}

void pb_audit_export_end(pb_audit_exporter *x)
{
    if (!x)
        return;
    free(x->keys);
    free(x);
}

pb_err pb_audit_export(pb_store_conn *c, const pb_audit_export_opts *o, FILE *out,
                       pb_audit_export_summary *summary)
{
    pb_audit_exporter *x;
    pb_err e = pb_audit_export_begin(c, o, &x, summary);
    if (e == PB_OK)
        e = pb_audit_export_write(x, out, summary);
    pb_audit_export_end(x);
    return e;
}
