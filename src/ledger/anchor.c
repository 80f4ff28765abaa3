/*
 * anchor.c — signed ledger anchors (migration 0042).
 *
 * The transfers' hash chain has no key: whoever can write the database can
 * rewrite a transfer and recompute every hash after it, or delete the newest
 * transfers, and the chain still verifies. Account rows are not in the chain at
 * all. An anchor closes both gaps with a key kept outside the database (the
 * audit signing key, KEYS_DIR/audit-ed25519.key; the caller signs): it records
 * the chain head (seq and that transfer's hash) and a digest of the accounts
 * created since the previous anchor, and an Ed25519 signature over
 *
 *   "pitboss-ledger-anchor-v1" || id || transfer_seq || transfer_hash ||
 *   accounts_after || account_upto || accounts_digest || created_at || public_key
 *
 * (integers as 8 bytes big-endian; a fixed layout, so no two anchors share a
 * message). Since migration 0045 an anchor also covers the remembered
 * rejections (ledger_rejection, in their append-only seq order): a deleted row
 * would let a once-refused idempotency key succeed later. Such an anchor signs
 * "pitboss-ledger-anchor-v2" and the same fields with rejections_after ||
 * rejection_upto || rejections_digest after accounts_digest; the digest is
 * SHA-256 over "pitboss-ledger-rejections-v1" then, for each rejection with
 * rejections_after < seq <= rejection_upto in seq order, every column (seq,
 * scope, ikey, both accounts, amount, currency, code, flags, pending_id (a
 * presence byte and 16 bytes), timeout_s, reference, error, created_at). An
 * anchor written before 0045 (has_rejections false) keeps its v1 message. Why
 * not the hash chain: rejections have no transfer seq and are written by the
 * writer; hashing them there would add work on its path and change the chain's
 * format, where an anchor is written off it. The accounts digest is SHA-256 over "pitboss-ledger-accounts-v1"
 * then, for each account with accounts_after < id <= account_upto in id order,
 * id (8 bytes), brand, owner, kind, currency (each a 4-byte length and the
 * bytes), flags (4 bytes) and created_at (8 bytes). Those are all the columns
 * of ledger_account, and none of them changes after the account is created (no
 * statement updates ledger_account; the counters that do change live in
 * ledger_balance, which verify rebuilds from the transfers anyway).
 *
 * Writing (pb_ledger_anchor): the last anchor, the transfer head and the new
 * accounts are read in one read transaction (one snapshot of committed data),
 * the anchor is signed outside any transaction and inserted in a small write
 * transaction of its own, on the caller's own connection: off the ledger
 * writer's path. A concurrent anchor with the same id makes the insert a
 * CONFLICT; the next period tries again.
 */
#include <sodium.h>
#include <string.h>

#include "core/log.h"
#include "ledger/ledger_internal.h"

static const char ANCHOR_DOMAIN[] = "pitboss-ledger-anchor-v1";
static const char ANCHOR_DOMAIN_V2[] = "pitboss-ledger-anchor-v2";
static const char ACCOUNTS_DOMAIN[] = "pitboss-ledger-accounts-v1";
static const char REJECTIONS_DOMAIN[] = "pitboss-ledger-rejections-v1";

static uint8_t *put64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--)
        *p++ = (uint8_t)(u >> (i * 8));
    return p;
}

static void hash64(crypto_hash_sha256_state *h, int64_t v)
{
    uint8_t b[8];
    put64(b, v);
    crypto_hash_sha256_update(h, b, 8);
}

static void hash_text(crypto_hash_sha256_state *h, const char *s)
{
    size_t n = strlen(s);
    uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    crypto_hash_sha256_update(h, b, 4);
    crypto_hash_sha256_update(h, (const uint8_t *)s, n);
}

void pb_ledger_anchor_digest_init(pb_ledger_anchor_digest *d)
{
    crypto_hash_sha256_state *h = (crypto_hash_sha256_state *)d->state;
    _Static_assert(sizeof d->state >= sizeof(crypto_hash_sha256_state), "digest state");
    crypto_hash_sha256_init(h);
    crypto_hash_sha256_update(h, (const uint8_t *)ACCOUNTS_DOMAIN, sizeof ACCOUNTS_DOMAIN - 1);
}

void pb_ledger_anchor_digest_add(pb_ledger_anchor_digest *d, const pb_store_account *a)
{
    crypto_hash_sha256_state *h = (crypto_hash_sha256_state *)d->state;
    hash64(h, a->id);
    hash_text(h, a->brand);
    hash_text(h, a->owner);
    hash_text(h, a->kind);
    hash_text(h, a->currency);
    uint8_t f[4] = {(uint8_t)(a->flags >> 24), (uint8_t)(a->flags >> 16), (uint8_t)(a->flags >> 8),
                    (uint8_t)a->flags};
    crypto_hash_sha256_update(h, f, 4);
    hash64(h, a->created_at);
}

void pb_ledger_anchor_rejections_init(pb_ledger_anchor_digest *d)
{
    crypto_hash_sha256_state *h = (crypto_hash_sha256_state *)d->state;
    crypto_hash_sha256_init(h);
    crypto_hash_sha256_update(h, (const uint8_t *)REJECTIONS_DOMAIN, sizeof REJECTIONS_DOMAIN - 1);
}

static void hash32(crypto_hash_sha256_state *h, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    crypto_hash_sha256_update(h, b, 4);
}

void pb_ledger_anchor_rejections_add(pb_ledger_anchor_digest *d, const pb_store_rejection *r)
{
    crypto_hash_sha256_state *h = (crypto_hash_sha256_state *)d->state;
    hash64(h, r->seq);
    hash_text(h, r->scope);
    hash_text(h, r->ikey);
    hash64(h, r->debit_account_id);
    hash64(h, r->credit_account_id);
    hash64(h, r->amount);
    hash_text(h, r->currency);
    hash32(h, r->code);
    hash32(h, r->flags);
    uint8_t has = r->has_pending_id ? 1 : 0;
    crypto_hash_sha256_update(h, &has, 1);
    if (has)
        crypto_hash_sha256_update(h, r->pending_id.b, 16);
    hash64(h, r->timeout_s);
    hash_text(h, r->reference);
    hash_text(h, r->error);
    hash64(h, r->created_at);
}

void pb_ledger_anchor_digest_final(pb_ledger_anchor_digest *d, uint8_t out[32])
{
    crypto_hash_sha256_final((crypto_hash_sha256_state *)d->state, out);
}

size_t pb_ledger_anchor_message(const pb_store_ledger_anchor *a,
                                uint8_t out[PB_LEDGER_ANCHOR_MSG_LEN])
{
    uint8_t *p = out;
    _Static_assert(sizeof ANCHOR_DOMAIN == sizeof ANCHOR_DOMAIN_V2, "one domain length");
    memcpy(p, a->has_rejections ? ANCHOR_DOMAIN_V2 : ANCHOR_DOMAIN, sizeof ANCHOR_DOMAIN - 1);
    p += sizeof ANCHOR_DOMAIN - 1;
    p = put64(p, a->id);
    p = put64(p, a->transfer_seq);
    memcpy(p, a->transfer_hash, 32);
    p += 32;
    p = put64(p, a->accounts_after);
    p = put64(p, a->account_upto);
    memcpy(p, a->accounts_digest, 32);
    p += 32;
    if (a->has_rejections) {
        p = put64(p, a->rejections_after);
        p = put64(p, a->rejection_upto);
        memcpy(p, a->rejections_digest, 32);
        p += 32;
    }
    p = put64(p, a->created_at);
    memcpy(p, a->public_key, 32);
    p += 32;
    return (size_t)(p - out);
}

void pb_ledger_anchor_key_id(const uint8_t pk[32], char out[17])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, pk, 32);
    sodium_bin2hex(out, 17, h, 8);
}

typedef struct scan_ctx {
    pb_ledger_anchor_digest d, rd; /* the accounts', the rejections' */
    int64_t upto, rupto;
    bool damaged; /* an account is malformed: never sign what was not read whole */
} scan_ctx;

static int on_new_account(void *p, const pb_store_account *a)
{
    scan_ctx *x = p;
    if (a->malformed) {
        pb_log(PB_LOG_ERROR, "ledger.anchor",
               "account %lld is damaged (column %s): not anchored; ledger verify says more",
               (long long)a->id, a->malformed);
        x->damaged = true;
        return 1;
    }
    pb_ledger_anchor_digest_add(&x->d, a);
    x->upto = a->id;
    return 0;
}

static int on_new_rejection(void *p, const pb_store_rejection *r, const char *malformed)
{
    scan_ctx *x = p;
    if (malformed) {
        pb_log(PB_LOG_ERROR, "ledger.anchor",
               "rejection seq %lld (%s/%s) is damaged (column %s): not anchored; ledger verify "
               "says more",
               (long long)r->seq, r->scope, r->ikey, malformed);
        x->damaged = true;
        return 1;
    }
    pb_ledger_anchor_rejections_add(&x->rd, r);
    x->rupto = r->seq;
    return 0;
}

/* The snapshot: the last anchor, the head and the new accounts' digest, in one
 * read transaction. *fresh tells whether anything is new since the last anchor. */
static pb_store_rc read_snapshot(pb_store_conn *c, pb_store_ledger_anchor *a, int64_t *last_id,
                                 bool *fresh)
{
    pb_store_ledger_anchor last;
    pb_store_transfer head;
    pb_store_rc rc = pb_store_begin(c, PB_STORE_READ);
    if (rc != PB_STORE_OK)
        return rc;
    memset(&last, 0, sizeof last);
    rc = pb_store_ledger_anchor_last(c, &last);
    if (rc == PB_STORE_NOT_FOUND) {
        memset(&last, 0, sizeof last);
        rc = PB_STORE_OK;
    } else if (rc == PB_STORE_OK && last.malformed) {
        rc = PB_STORE_CORRUPT; /* do not extend a damaged anchor chain: verify says why */
    }
    if (rc == PB_STORE_OK) {
        rc = pb_store_transfer_last(c, &head);
        if (rc == PB_STORE_NOT_FOUND) {
            memset(&head, 0, sizeof head);
            rc = PB_STORE_OK;
        }
    }
    /* an anchor from before migration 0045 covers no rejection: the next covers all */
    int64_t rafter = last.has_rejections ? last.rejection_upto : 0;
    scan_ctx x = {.upto = last.account_upto, .rupto = rafter};
    pb_ledger_anchor_digest_init(&x.d);
    pb_ledger_anchor_rejections_init(&x.rd);
    if (rc == PB_STORE_OK)
        rc = pb_store_account_scan_after(c, last.account_upto, on_new_account, &x);
    if (rc == PB_STORE_OK && !x.damaged)
        rc = pb_store_rejection_scan_range(c, rafter, INT64_MAX, on_new_rejection, &x);
    if (rc == PB_STORE_OK && x.damaged)
        rc = PB_STORE_CORRUPT;
    pb_store_rollback(c);
    if (rc != PB_STORE_OK)
        return rc;
    *last_id = last.id;
    *fresh = head.seq > last.transfer_seq || x.upto > last.account_upto || x.rupto > rafter ||
             (last.id > 0 && !last.has_rejections);
    memset(a, 0, sizeof *a);
    a->id = last.id + 1;
    a->transfer_seq = head.seq;
    if (head.seq > 0)
        memcpy(a->transfer_hash, head.hash, 32);
    a->accounts_after = last.account_upto;
    a->account_upto = x.upto;
    pb_ledger_anchor_digest_final(&x.d, a->accounts_digest);
    a->has_rejections = true;
    a->rejections_after = rafter;
    a->rejection_upto = x.rupto;
    pb_ledger_anchor_digest_final(&x.rd, a->rejections_digest);
    return PB_STORE_OK;
}

pb_err pb_ledger_anchor(pb_store_conn *c, const pb_ledger_signer *s, int64_t now,
                        pb_store_ledger_anchor *out, bool *written)
{
    pb_store_ledger_anchor a;
    int64_t last_id = 0;
    bool fresh = false;
    if (written)
        *written = false;
    pb_store_rc rc = read_snapshot(c, &a, &last_id, &fresh);
    if (rc == PB_STORE_OK && fresh) {
        uint8_t msg[PB_LEDGER_ANCHOR_MSG_LEN];
        a.created_at = now;
        memcpy(a.public_key, s->public_key, 32);
        pb_ledger_anchor_key_id(a.public_key, a.key_id);
        size_t n = pb_ledger_anchor_message(&a, msg);
        s->sign(s->ctx, msg, n, a.signature);
        rc = pb_store_begin(c, PB_STORE_WRITE);
        if (rc == PB_STORE_OK) {
            rc = pb_store_ledger_anchor_insert(c, &a);
            if (rc == PB_STORE_OK)
                rc = pb_store_commit(c);
            if (rc != PB_STORE_OK)
                pb_store_rollback(c);
        }
    }
    if (rc != PB_STORE_OK) {
        /* busy or a concurrent anchor: the next period tries again */
        bool transient = rc == PB_STORE_BUSY || rc == PB_STORE_CONFLICT;
        pb_log(transient ? PB_LOG_WARN : PB_LOG_ERROR, "ledger.anchor", "ledger anchor failed: %s",
               pb_store_errmsg(c));
        return transient ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
    }
    if (fresh) {
        pb_log(PB_LOG_INFO, "ledger.anchor",
               "anchor %lld signs the ledger through transfer seq %lld, account %lld and "
               "rejection %lld",
               (long long)a.id, (long long)a.transfer_seq, (long long)a.account_upto,
               (long long)a.rejection_upto);
        if (written)
            *written = true;
    }
    if (out)
        *out = a;
    return PB_OK;
}
