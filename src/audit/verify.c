/*
 * verify.c — `pitboss audit verify`: recompute the audit chain and check every
 * checkpoint, in one read transaction (a consistent snapshot).
 *
 * First the checkpoints are read in id order and each is judged on its own:
 * contiguous ids, its key id is its public key's fingerprint, the key is one
 * the caller trusts, the signature verifies. The valid ones are sorted by the
 * seq they sign. Then the entries are replayed in seq order: a missing seq is a
 * gap; each entry's hash is recomputed from its fields and its predecessor's
 * stored hash (so one changed entry is reported alone, not its successors too);
 * dates must not go backwards; and where a valid checkpoint signed a seq, the
 * stored hash there must be the signed one — which catches a chain changed and
 * re-hashed from that point back, and entries cut from the end of the log.
 *
 * Every problem goes to the callback; the summary keeps the lowest entry seq
 * any of them names, with what is wrong with it ("first broken entry").
 *
 * Reading: the chain head (the newest seq) and every checkpoint come from one
 * short read transaction; the entries then come in chunks of verify_chunk
 * rows, each in its own read transaction, up to that head. A read transaction
 * held for the whole log (minutes on a large one) would stop every WAL
 * checkpoint from passing it meanwhile, and the WAL would grow with every bet
 * the server takes. The chunks see the same rows one snapshot would: entries
 * and checkpoints are insert-only and numbered under the write lock, so an
 * entry appended since has a seq above the head (not read) and the checkpoints
 * read sign seqs at or below it. What a concurrent writer may not do to the log
 * (change or delete rows) is what verify reports either way.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_internal.h"

#define VERIFY_CHUNK_DEFAULT 10000

static size_t verify_chunk = VERIFY_CHUNK_DEFAULT;
static void (*between_chunks)(void *ctx);
static void *between_ctx;

void pb_audit_verify_tune(size_t chunk_rows, void (*between)(void *ctx), void *ctx)
{
    verify_chunk = chunk_rows ? chunk_rows : VERIFY_CHUNK_DEFAULT;
    between_chunks = between;
    between_ctx = ctx;
}

typedef struct vstate {
    pb_audit_violation_cb cb;
    void *ctx;
    pb_audit_verify_summary *sum;
    const pb_audit_trust *trusted;
    size_t ntrusted;
    pb_audit_checkpoint_record *valid; /* valid checkpoints, sorted by upto_seq */
    size_t nvalid, cap, next;          /* next: the first not yet matched */
    int64_t expect_id;                 /* checkpoint ids */
    int64_t expect_seq;                /* entry seqs */
    uint8_t prev_hash[32];
    bool prev_known; /* false right after a gap: the predecessor's hash is unknown */
    int64_t prev_at;
    int64_t last_good_upto;    /* the last checkpoint whose head matched */
    int64_t entries_when_good; /* entries read up to and including it */
    bool oom;
} vstate;

static void violation(vstate *v, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports one violation through the callback and counts it. */
static void violation(vstate *v, const char *kind, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    v->sum->violations++;
    if (v->cb)
        v->cb(v->ctx, kind, msg);
}

static void broken_entry(vstate *v, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records seq as the first broken entry if no lower seq was named before. */
static void broken_entry(vstate *v, int64_t seq, const char *fmt, ...)
{
    if (v->sum->first_broken_seq && v->sum->first_broken_seq <= seq)
        return;
    va_list ap;
    va_start(ap, fmt);
    v->sum->first_broken_seq = seq;
    vsnprintf(v->sum->first_broken, sizeof v->sum->first_broken, fmt, ap);
    va_end(ap);
}

/* Records checkpoint id as the first broken checkpoint if no lower id was named before. */
static void broken_checkpoint(vstate *v, int64_t id, const char *why)
{
    if (v->sum->first_broken_checkpoint && v->sum->first_broken_checkpoint <= id)
        return;
    v->sum->first_broken_checkpoint = id;
    snprintf(v->sum->first_broken_checkpoint_msg, sizeof v->sum->first_broken_checkpoint_msg,
             "id %" PRId64 ": %s", id, why);
}

/* Is pk one of the keys the caller trusts, for a checkpoint covering upto_seq?
 * *known: pk is trusted for some seqs (a retired key beyond its bound). */
static bool is_trusted(const vstate *v, const uint8_t pk[32], int64_t upto_seq, bool *known)
{
    *known = false;
    for (size_t i = 0; i < v->ntrusted; i++)
        if (sodium_memcmp(v->trusted[i].pk.b, pk, 32) == 0) {
            if (upto_seq <= v->trusted[i].upto_max)
                return true;
            *known = true;
        }
    return false;
}

/* Judges one checkpoint on its own; keeps it for the head checks when valid. */
static int on_checkpoint(void *p, const pb_audit_checkpoint_record *cp)
{
    vstate *v = p;
    char id[PB_AUDIT_KEY_ID_LEN + 1];
    v->sum->checkpoints++;
    if (cp->id != v->expect_id) {
        violation(v, "checkpoint_gap",
                  "checkpoint id %" PRId64 "..%" PRId64 " missing (the next stored is id %" PRId64
                  ")",
                  v->expect_id, cp->id - 1, cp->id);
        broken_checkpoint(v, v->expect_id, "missing (deleted)");
    }
    v->expect_id = cp->id + 1;
    pb_audit_pubkey pk;
    memcpy(pk.b, cp->public_key, 32);
    pb_audit_pubkey_id(&pk, id);
    uint8_t msg[AUDIT_CHECKPOINT_MSG_MAX];
    size_t n = pb_audit_checkpoint_message(cp, msg);
    const char *kind = NULL, *why = NULL;
    bool retired = false;
    if (cp->malformed) {
        kind = "checkpoint_malformed";
        why = "a column holds a value pitboss never writes";
    } else if (strcmp(id, cp->key_id) != 0) {
        kind = "checkpoint_key_id";
        why = "its key_id is not the fingerprint of its public key";
    } else if (!is_trusted(v, cp->public_key, cp->upto_seq, &retired)) {
        kind = "checkpoint_untrusted";
        why = retired ? "signed by a retired key beyond the seq it was retired at"
                      : "signed by a key this verifier does not trust";
    } else if (crypto_sign_verify_detached(cp->signature, msg, n, cp->public_key) != 0) {
        kind = "checkpoint_signature";
        why = "its Ed25519 signature does not verify";
    }
    if (kind) {
        violation(v, kind, "checkpoint id %" PRId64 " (covers seq %" PRId64 ", key %s): %s", cp->id,
                  cp->upto_seq, cp->key_id, why);
        broken_checkpoint(v, cp->id, why);
        return 0;
    }
    if (v->nvalid == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        pb_audit_checkpoint_record *x = realloc(v->valid, cap * sizeof *x);
        if (!x) {
            v->oom = true;
            return 1;
        }
        v->valid = x;
        v->cap = cap;
    }
    v->valid[v->nvalid++] = *cp;
    return 0;
}

/* Sorts by upto_seq, then id (checkpoints are written in that order). */
static int cmp_upto(const void *a, const void *b)
{
    const pb_audit_checkpoint_record *x = a, *y = b;
    if (x->upto_seq != y->upto_seq)
        return x->upto_seq < y->upto_seq ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Compares the stored hash of entry e with every valid checkpoint that signed
 * e's seq, and reports those that signed a seq the scan skipped (a gap). */
static void match_checkpoints(vstate *v, const pb_audit_record *e, const char *eid)
{
    while (v->next < v->nvalid && v->valid[v->next].upto_seq <= e->seq) {
        const pb_audit_checkpoint_record *cp = &v->valid[v->next++];
        if (cp->upto_seq < e->seq) {
            violation(v, "checkpoint_mismatch",
                      "checkpoint id %" PRId64 " signed entry seq %" PRId64 ", which is missing",
                      cp->id, cp->upto_seq);
            broken_entry(v, cp->upto_seq,
                         "seq %" PRId64 " (missing): deleted; checkpoint id %" PRId64 " signed it",
                         cp->upto_seq, cp->id);
        } else if (memcmp(cp->head_hash, e->hash, 32) != 0) {
            violation(v, "checkpoint_mismatch",
                      "checkpoint id %" PRId64 " signed a different hash for entry seq %" PRId64
                      " (id %s): an entry in seqs %" PRId64 "..%" PRId64
                      " was changed and the chain re-hashed",
                      cp->id, e->seq, eid, v->last_good_upto + 1, e->seq);
            broken_entry(v, e->seq,
                         "seq %" PRId64 " (id %s): differs from the hash checkpoint id %" PRId64
                         " signed; the change lies in seqs %" PRId64 "..%" PRId64,
                         e->seq, eid, cp->id, v->last_good_upto + 1, e->seq);
        } else {
            v->last_good_upto = e->seq;
            v->entries_when_good = v->sum->entries;
            v->sum->signed_upto = e->seq;
        }
    }
}

/* Replays one entry: seq continuity, well-formedness, hash link, time order, checkpoints. */
static int on_entry(void *p, const pb_audit_record *e)
{
    vstate *v = p;
    char eid[PB_ID_STR_LEN + 1];
    pb_id_to_string(&e->id, eid);
    v->sum->entries++;
    v->sum->head_seq = e->seq;
    if (e->seq != v->expect_seq) {
        if (e->seq == v->expect_seq + 1)
            violation(v, "seq_gap", "entry seq %" PRId64 " is missing (deleted)", v->expect_seq);
        else
            violation(v, "seq_gap", "entries seq %" PRId64 "..%" PRId64 " are missing (deleted)",
                      v->expect_seq, e->seq - 1);
        broken_entry(v, v->expect_seq, "seq %" PRId64 " (missing): deleted", v->expect_seq);
        v->prev_known = false;
    }
    v->expect_seq = e->seq + 1;
    uint8_t h[32];
    if (e->malformed) {
        violation(v, "malformed",
                  "entry seq %" PRId64 " (id %s) holds a value pitboss never writes "
                  "(oversize text, a NUL byte, a wrong type)",
                  e->seq, eid);
        broken_entry(v, e->seq, "seq %" PRId64 " (id %s): malformed", e->seq, eid);
    } else if (v->prev_known) {
        pb_audit_entry_hash(e, v->prev_hash, h);
        if (memcmp(h, e->hash, 32) != 0) {
            violation(v, "hash_mismatch",
                      "entry seq %" PRId64 " (id %s) does not match its hash: a stored field "
                      "or its predecessor's hash was changed",
                      e->seq, eid);
            broken_entry(v, e->seq, "seq %" PRId64 " (id %s): hash mismatch", e->seq, eid);
        }
    }
    if (v->sum->entries > 1 && e->at < v->prev_at) {
        violation(v, "time_order", "entry seq %" PRId64 " (id %s) is dated before its predecessor",
                  e->seq, eid);
        broken_entry(v, e->seq, "seq %" PRId64 " (id %s): dated before its predecessor", e->seq,
                     eid);
    }
    match_checkpoints(v, e, eid);
    memcpy(v->prev_hash, e->hash, 32);
    v->prev_known = true;
    v->prev_at = e->at;
    return 0;
}

/* Valid checkpoints that signed seqs beyond the last entry: entries were cut from the end. */
static void check_tail(vstate *v)
{
    int64_t head = v->sum->head_seq;
    for (; v->next < v->nvalid; v->next++) {
        const pb_audit_checkpoint_record *cp = &v->valid[v->next];
        violation(v, "checkpoint_beyond_head",
                  "checkpoint id %" PRId64 " signed the chain through seq %" PRId64
                  " but the log ends at seq %" PRId64 ": entries were removed from its end",
                  cp->id, cp->upto_seq, head);
        broken_entry(v, head + 1,
                     "seq %" PRId64
                     " (missing): removed from the end of the log; checkpoint id %" PRId64
                     " signed the chain through seq %" PRId64,
                     head + 1, cp->id, cp->upto_seq);
    }
}

/* One chunk of the entry scan: at most verify_chunk rows, none above the head. */
typedef struct vchunk {
    vstate *v;
    int64_t head, last;
    size_t n;
    bool end; /* the head reached (or passed) */
} vchunk;

static int on_chunk_entry(void *p, const pb_audit_record *e)
{
    vchunk *k = p;
    if (e->seq > k->head) {
        k->end = true;
        return 1;
    }
    on_entry(k->v, e);
    k->last = e->seq;
    k->end = e->seq == k->head;
    return k->end || ++k->n >= verify_chunk;
}

pb_err pb_audit_verify(pb_store_conn *c, const pb_audit_pubkey *trusted, size_t ntrusted,
                       pb_audit_violation_cb cb, void *ctx, pb_audit_verify_summary *summary)
{
    pb_audit_trust t[PB_AUDIT_TRUST_MAX];
    size_t n = 0;
    if (trusted && ntrusted > PB_AUDIT_TRUST_MAX) {
        memset(summary, 0, sizeof *summary);
        return PB_ERR_AUDIT_KEY_MISSING; /* not a key dropped in silence */
    }
    for (size_t i = 0; trusted && i < ntrusted; i++)
        t[n++] = (pb_audit_trust){.pk = trusted[i], .upto_max = INT64_MAX};
    return pb_audit_verify_trust(c, t, n, cb, ctx, summary);
}

pb_err pb_audit_verify_trust(pb_store_conn *c, const pb_audit_trust *trusted, size_t ntrusted,
                             pb_audit_violation_cb cb, void *ctx, pb_audit_verify_summary *summary)
{
    memset(summary, 0, sizeof *summary);
    pb_audit_sodium_init();
    vstate v = {.cb = cb,
                .ctx = ctx,
                .sum = summary,
                .trusted = trusted,
                .ntrusted = trusted ? ntrusted : 0,
                .expect_id = 1,
                .expect_seq = 1,
                .prev_known = true};
    /* the head and the checkpoints, in one short transaction */
    if (pb_store_begin(c, PB_STORE_READ) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    pb_err e = PB_ERR_INTERNAL;
    pb_store_audit_head head;
    pb_store_rc rc = pb_store_audit_head_get(c, &head);
    if (rc == PB_STORE_NOT_FOUND)
        head.seq = 0;
    else if (rc != PB_STORE_OK)
        goto out;
    if (pb_store_audit_checkpoint_scan(c, 0, on_checkpoint, &v) != PB_STORE_OK || v.oom)
        goto out;
    pb_store_rollback(c);
    if (v.nvalid > 1)
        qsort(v.valid, v.nvalid, sizeof *v.valid, cmp_upto);
    /* the entries up to that head, in chunks */
    vchunk k = {.v = &v, .head = head.seq};
    while (!k.end && head.seq > 0) {
        k.n = 0;
        if (pb_store_begin(c, PB_STORE_READ) != PB_STORE_OK)
            goto done;
        rc = pb_store_audit_entry_scan(c, k.last, on_chunk_entry, &k);
        pb_store_rollback(c);
        if (rc != PB_STORE_OK)
            goto done;
        if (k.end || k.n < verify_chunk)
            break; /* the head reached, or no row left below it */
        if (between_chunks)
            between_chunks(between_ctx);
    }
    check_tail(&v);
    summary->unsigned_entries = summary->entries - v.entries_when_good;
    e = PB_OK;
    goto done;
out:
    pb_store_rollback(c);
done:
    free(v.valid);
    return e;
}
