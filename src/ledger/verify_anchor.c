/*
 * verify_anchor.c — `ledger verify`'s check of the signed ledger anchors (see
 * anchor.c for what an anchor signs): each anchor on its own (its columns, its
 * place in the chain of anchors, the digest of the accounts of its range, and,
 * given trusted keys, its signature), then, as verify.c replays the transfers in
 * seq order, the hash of the transfer each one signs.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ledger/verify_internal.h"

void verify_anchor_missing(vstate *v, const anchor_ref *r)
{
    verify_violation(v, "anchor_transfer",
                     "anchor %" PRId64 " signs transfer seq %" PRId64
                     ", which is missing: the history was truncated or rewritten",
                     r->id, r->seq);
}

/* Called with each transfer in seq order: the anchors at or below it. */
void verify_anchors_at(vstate *v, const pb_store_transfer *t)
{
    while (v->next_anchor < v->nanchors && v->anchors[v->next_anchor].seq <= t->seq) {
        anchor_ref *r = &v->anchors[v->next_anchor++];
        if (r->seq < t->seq)
            verify_anchor_missing(v, r);
        else if (memcmp(r->hash, t->hash, 32) != 0)
            verify_violation(
                v, "anchor_transfer",
                "anchor %" PRId64 " signs transfer seq %" PRId64
                " with another hash than it has now: the history up to it was rewritten",
                r->id, r->seq);
    }
}

static bool in_range(const acct *a, int64_t after, int64_t upto)
{
    return a->stored.id > after && a->stored.id <= upto;
}

/* The accounts of (after, upto] against the anchor's digest. */
static void check_anchor_accounts(vstate *v, const pb_store_ledger_anchor *a)
{
    size_t lo = 0, hi = v->naccts;
    while (lo < hi) { /* the first account with id > after */
        size_t mid = (lo + hi) / 2;
        if (v->accts[mid].stored.id <= a->accounts_after)
            lo = mid + 1;
        else
            hi = mid;
    }
    pb_ledger_anchor_digest d;
    pb_ledger_anchor_digest_init(&d);
    size_t first = lo, n = 0;
    for (; lo < v->naccts && in_range(&v->accts[lo], a->accounts_after, a->account_upto); lo++, n++)
        pb_ledger_anchor_digest_add(&d, &v->accts[lo].stored);
    uint8_t h[32];
    pb_ledger_anchor_digest_final(&d, h);
    if (memcmp(h, a->accounts_digest, 32) == 0)
        return;
    if (n == 1)
        verify_violation(v, "anchor_accounts",
                         "anchor %" PRId64 ": account %" PRId64 " (%s/%s/%s) is not as it was when "
                         "anchored (brand, owner, kind, currency, flags or created_at changed)",
                         a->id, v->accts[first].stored.id, v->accts[first].stored.owner,
                         v->accts[first].stored.kind, v->accts[first].stored.currency);
    else
        verify_violation(v, "anchor_accounts",
                         "anchor %" PRId64 ": the accounts with ids %" PRId64 "..%" PRId64
                         " (%zu found) are not as they were when anchored: one was changed (brand, "
                         "owner, kind, currency, flags or created_at), added or removed",
                         a->id, a->accounts_after + 1, a->account_upto, n);
}

/* The rejections (migration 0045): contiguous ranges from seq 0, and once an
 * anchor covers them every later one does. Kept for verify_anchor_rejections. */
static void note_anchor_rejections(vstate *v, const pb_store_ledger_anchor *a)
{
    if (!a->has_rejections) {
        if (v->rejections_seen)
            verify_violation(v, "anchor_chain",
                             "anchor %" PRId64
                             " covers no rejections, but an earlier anchor did: it was "
                             "written by an older pitboss or forged",
                             a->id);
        return;
    }
    v->rejections_seen = true;
    if (a->rejections_after != v->prev_anchor_rupto || a->rejection_upto < a->rejections_after)
        verify_violation(v, "anchor_chain",
                         "anchor %" PRId64 " covers rejections %" PRId64 "..%" PRId64
                         " but the previous anchor ends at rejection %" PRId64,
                         a->id, a->rejections_after + 1, a->rejection_upto, v->prev_anchor_rupto);
    v->prev_anchor_rupto = a->rejection_upto;
    if (a->rejection_upto <= a->rejections_after)
        return; /* an empty range: its digest is the empty one, nothing to read */
    if (v->nrejs == v->rejs_cap) {
        size_t n = v->rejs_cap ? v->rejs_cap * 2 : 64;
        rejection_ref *x = realloc(v->rejs, n * sizeof *x);
        if (!x) {
            v->oom = true;
            return;
        }
        v->rejs = x;
        v->rejs_cap = n;
    }
    rejection_ref *r = &v->rejs[v->nrejs++];
    r->id = a->id;
    r->after = a->rejections_after;
    r->upto = a->rejection_upto;
    memcpy(r->digest, a->rejections_digest, 32);
}

typedef struct rej_scan {
    vstate *v;
    const rejection_ref *ref;
    pb_ledger_anchor_digest d;
    int64_t n, first_seq;
    pb_store_rejection first;
} rej_scan;

static int on_rejection(void *p, const pb_store_rejection *r, const char *malformed)
{
    rej_scan *x = p;
    if (malformed)
        verify_violation(x->v, "malformed_row",
                         "rejection seq %" PRId64 " (%s/%s) is damaged: column %s has the wrong "
                         "type or size",
                         r->seq, r->scope, r->ikey, malformed);
    if (!x->ref)
        return 0; /* above the anchors: only its form is checked */
    if (x->n++ == 0)
        x->first = *r;
    pb_ledger_anchor_rejections_add(&x->d, r);
    return 0;
}

pb_store_rc verify_anchor_rejections(vstate *v, pb_store_conn *c)
{
    for (size_t i = 0; i < v->nrejs; i++) {
        rej_scan x = {.v = v, .ref = &v->rejs[i]};
        pb_ledger_anchor_rejections_init(&x.d);
        pb_store_rc rc = pb_store_rejection_scan_range(c, x.ref->after, x.ref->upto, on_rejection,
                                                       &x);
        if (rc != PB_STORE_OK)
            return rc;
        uint8_t h[32];
        pb_ledger_anchor_digest_final(&x.d, h);
        if (memcmp(h, x.ref->digest, 32) == 0)
            continue;
        int64_t want = x.ref->upto - x.ref->after;
        if (x.n == 1 && want == 1)
            verify_violation(v, "anchor_rejections",
                             "anchor %" PRId64 ": rejection seq %" PRId64 " (%s/%s) is not as it "
                             "was when anchored (a column changed)",
                             x.ref->id, x.first.seq, x.first.scope, x.first.ikey);
        else
            verify_violation(v, "anchor_rejections",
                             "anchor %" PRId64 ": the rejections with seq %" PRId64 "..%" PRId64
                             " (%" PRId64 " found) are not as they were when anchored: one was "
                             "deleted, inserted or changed (a once-refused key could succeed)",
                             x.ref->id, x.ref->after + 1, x.ref->upto, x.n);
    }
    /* the rejections no anchor covers yet: a damaged one stops the anchorer (it
     * signs nothing it could not read whole), so it is reported here too */
    rej_scan tail = {.v = v};
    return pb_store_rejection_scan_range(c, v->prev_anchor_rupto, INT64_MAX, on_rejection, &tail);
}

static void check_anchor_signature(vstate *v, const pb_store_ledger_anchor *a)
{
    const pb_ledger_verify_keys *k = v->keys;
    size_t rank = k->ntrusted;
    for (size_t i = 0; i < k->ntrusted; i++)
        if (sodium_memcmp(k->trusted[i], a->public_key, 32) == 0)
            rank = i;
    char id[17];
    pb_ledger_anchor_key_id(a->public_key, id);
    if (rank == k->ntrusted) {
        verify_violation(v, "anchor_untrusted",
                         "anchor %" PRId64 " (transfer seq %" PRId64
                         ") is signed by key %s, which is not trusted",
                         a->id, a->transfer_seq, id);
        return;
    }
    /* a key named without a rotation order (--trust-key) is trusted for any anchor */
    bool ordered = rank < k->ntrusted - (k->nunordered < k->ntrusted ? k->nunordered : k->ntrusted);
    if (ordered && v->rank_seen && rank < v->max_rank) {
        verify_violation(v, "anchor_untrusted",
                         "anchor %" PRId64
                         " is signed by the retired key %s after a newer key signed "
                         "an earlier anchor",
                         a->id, id);
        return;
    }
    uint8_t msg[PB_LEDGER_ANCHOR_MSG_LEN];
    size_t n = pb_ledger_anchor_message(a, msg);
    if (crypto_sign_verify_detached(a->signature, msg, n, a->public_key) != 0) {
        verify_violation(v, "anchor_signature",
                         "anchor %" PRId64 " (transfer seq %" PRId64 ", accounts %" PRId64
                         "..%" PRId64
                         "): the signature of key %s does not match: the row was forged or changed",
                         a->id, a->transfer_seq, a->accounts_after + 1, a->account_upto, id);
        return;
    }
    if (ordered) {
        v->max_rank = rank;
        v->rank_seen = true;
    }
}

/* One anchor row, read in the first transaction after the accounts. */
int verify_on_anchor(void *p, const pb_store_ledger_anchor *a)
{
    vstate *v = p;
    v->sum->anchors++;
    if (a->malformed) {
        verify_violation(v, "anchor_malformed",
                         "anchor %" PRId64 " is damaged: a column has the wrong type or size",
                         a->id);
        return 0;
    }
    char id[17];
    pb_ledger_anchor_key_id(a->public_key, id);
    if (strcmp(id, a->key_id) != 0)
        verify_violation(v, "anchor_malformed",
                         "anchor %" PRId64 " names key %s but carries the public key of %s", a->id,
                         a->key_id, id);
    if (a->id != v->prev_anchor_id + 1)
        verify_violation(v, "anchor_chain",
                         "anchor %" PRId64 " follows anchor %" PRId64 ": anchors were removed",
                         a->id, v->prev_anchor_id);
    if (a->accounts_after != v->prev_anchor_upto || a->account_upto < a->accounts_after)
        verify_violation(v, "anchor_chain",
                         "anchor %" PRId64 " covers accounts %" PRId64 "..%" PRId64
                         " but the previous anchor ends at account %" PRId64,
                         a->id, a->accounts_after + 1, a->account_upto, v->prev_anchor_upto);
    if (a->transfer_seq < v->prev_anchor_seq || a->transfer_seq < 0)
        verify_violation(v, "anchor_chain",
                         "anchor %" PRId64 " signs transfer seq %" PRId64
                         ", before the previous anchor's %" PRId64,
                         a->id, a->transfer_seq, v->prev_anchor_seq);
    v->prev_anchor_id = a->id;
    v->prev_anchor_seq = a->transfer_seq > v->prev_anchor_seq ? a->transfer_seq
                                                              : v->prev_anchor_seq;
    v->prev_anchor_upto = a->account_upto;
    check_anchor_accounts(v, a);
    note_anchor_rejections(v, a);
    if (v->oom)
        return 1;
    if (v->keys->check_signatures)
        check_anchor_signature(v, a);
    if (a->transfer_seq > v->sum->anchored_seq)
        v->sum->anchored_seq = a->transfer_seq;
    if (a->transfer_seq == 0)
        return 0;
    if (v->nanchors == v->anchors_cap) {
        size_t n = v->anchors_cap ? v->anchors_cap * 2 : 256;
        anchor_ref *x = realloc(v->anchors, n * sizeof *x);
        if (!x) {
            v->oom = true;
            return 1;
        }
        v->anchors = x;
        v->anchors_cap = n;
    }
    anchor_ref *r = &v->anchors[v->nanchors++];
    r->id = a->id;
    r->seq = a->transfer_seq;
    memcpy(r->hash, a->transfer_hash, 32);
    return 0;
}

int verify_cmp_anchor(const void *a, const void *b)
{
    int64_t x = ((const anchor_ref *)a)->seq, y = ((const anchor_ref *)b)->seq;
    return x < y ? -1 : x > y;
}
