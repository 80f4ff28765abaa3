/*
 * checkpoint.c — signed checkpoints of the audit chain, and the policy that
 * says when one is due.
 *
 * A checkpoint is written in its own write transaction: read the chain head
 * and the last checkpoint, and unless the head is already covered, sign
 * (id, upto_seq = head seq, head_hash, at, key_id) with the configured key and
 * insert the row with the public key beside the signature. The write lock makes
 * the head read and the insert one step, so a checkpoint always names an entry
 * that exists and carries that entry's hash.
 */
#include <string.h>

#include "audit/audit_internal.h"
#include "core/log.h"

bool pb_audit_checkpoint_due(const pb_audit_checkpoint_record *last, int64_t head_seq, int64_t now)
{
    int64_t covered = last ? last->upto_seq : 0;
    if (head_seq <= covered)
        return false;
    if (!last)
        return true;
    return head_seq - covered >= PB_AUDIT_CHECKPOINT_EVERY_ENTRIES ||
           now - last->at >= PB_AUDIT_CHECKPOINT_EVERY_US;
}

/* Fills cp as checkpoint `id` over the head, signed by k. */
static void sign_checkpoint(pb_audit_checkpoint_record *cp, const pb_audit_key *k, int64_t id,
                            const pb_store_audit_head *head, int64_t now)
{
    uint8_t msg[AUDIT_CHECKPOINT_MSG_MAX];
    memset(cp, 0, sizeof *cp);
    cp->id = id;
    cp->upto_seq = head->seq;
    memcpy(cp->head_hash, head->hash, 32);
    cp->at = now;
    memcpy(cp->key_id, pb_audit_key_id(k), PB_AUDIT_KEY_ID_LEN + 1);
    memcpy(cp->public_key, pb_audit_key_public(k)->b, 32);
    size_t n = pb_audit_checkpoint_message(cp, msg);
    pb_audit_key_sign(k, msg, n, cp->signature);
}

/* The body of both public entry points, inside the open write transaction. */
static pb_err checkpoint_in_tx(pb_store_conn *c, const pb_audit_key *k, int64_t now,
                               bool only_if_due, pb_audit_checkpoint_record *out, bool *written)
{
    pb_store_audit_head head;
    pb_audit_checkpoint_record last;
    memset(&last, 0, sizeof last);
    pb_store_rc rc = pb_store_audit_head_get(c, &head);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_OK; /* an empty log: nothing to sign */
    if (rc != PB_STORE_OK)
        return pb_audit_store_err(rc);
    rc = pb_store_audit_checkpoint_last(c, &last);
    if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
        return pb_audit_store_err(rc);
    bool has_last = rc == PB_STORE_OK;
    *out = last;
    if ((has_last && last.upto_seq >= head.seq) ||
        (only_if_due && !pb_audit_checkpoint_due(has_last ? &last : NULL, head.seq, now)))
        return PB_OK;
    sign_checkpoint(out, k, last.id + 1, &head, now);
    rc = pb_store_audit_checkpoint_insert(c, out);
    if (rc != PB_STORE_OK) {
        *out = last;
        return rc == PB_STORE_CONFLICT ? PB_ERR_STORE_UNAVAILABLE : pb_audit_store_err(rc);
    }
    *written = true;
    return PB_OK;
}

/* Runs one checkpoint attempt in its own write transaction. */
static pb_err checkpoint(pb_store_conn *c, const pb_audit_key *k, int64_t now, bool only_if_due,
                         pb_audit_checkpoint_record *out, bool *written)
{
    pb_audit_checkpoint_record cp;
    bool w = false;
    memset(&cp, 0, sizeof cp);
    pb_store_rc rc = pb_store_begin(c, PB_STORE_WRITE);
    pb_err e = pb_audit_store_err(rc);
    if (e == PB_OK) {
        e = checkpoint_in_tx(c, k, now, only_if_due, &cp, &w);
        if (e == PB_OK && w)
            e = pb_audit_store_err(pb_store_commit(c));
        if (e != PB_OK || !w)
            pb_store_rollback(c);
    }
    if (e != PB_OK) { /* busy is expected now and then: the next period retries */
        pb_log(e == PB_ERR_STORE_UNAVAILABLE ? PB_LOG_WARN : PB_LOG_ERROR, "audit.checkpoint",
               "audit checkpoint failed: %s", pb_store_errmsg(c));
        memset(&cp, 0, sizeof cp);
        w = false;
    } else if (w) {
        pb_log(PB_LOG_INFO, "audit.checkpoint", "checkpoint %lld signs the chain through seq %lld",
               (long long)cp.id, (long long)cp.upto_seq);
    }
    if (out)
        *out = cp;
    if (written)
        *written = w;
    return e;
}

pb_err pb_audit_checkpoint(pb_store_conn *c, const pb_audit_key *k, int64_t now,
                           pb_audit_checkpoint_record *out, bool *written)
{
    return checkpoint(c, k, now, false, out, written);
}

pb_err pb_audit_checkpoint_if_due(pb_store_conn *c, const pb_audit_key *k, int64_t now,
                                  pb_audit_checkpoint_record *out, bool *written)
{
    return checkpoint(c, k, now, true, out, written);
}

pb_err pb_audit_status_get(pb_store_conn *c, pb_audit_status *out)
{
    memset(out, 0, sizeof *out);
    pb_err e = pb_audit_store_err(pb_store_begin(c, PB_STORE_READ));
    if (e != PB_OK)
        return e;
    pb_store_audit_head head;
    pb_store_rc rc = pb_store_audit_head_get(c, &head);
    if (rc == PB_STORE_OK) {
        out->head_seq = head.seq;
        out->head_at = head.at;
    }
    if (rc == PB_STORE_OK || rc == PB_STORE_NOT_FOUND) {
        rc = pb_store_audit_checkpoint_last(c, &out->last_checkpoint);
        if (rc == PB_STORE_NOT_FOUND) {
            memset(&out->last_checkpoint, 0, sizeof out->last_checkpoint);
            rc = PB_STORE_OK;
        }
    }
    pb_store_rollback(c);
    return pb_audit_store_err(rc);
}
