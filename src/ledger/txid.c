/*
 * txid.c — transfer ids that carry their own seq.
 *
 * A transfer's id is a UUIDv7 (RFC 9562): 48 bits of Unix milliseconds (its
 * created_at), version 7, variant 10, and in the 74 remaining bits the
 * transfer's seq enciphered under the ledger's id key (ledger_state.id_key, made
 * at random by migration 0010), followed by 10 zero bits. Finding a transfer by
 * id is then a decipher and a primary-key read, and the hot table needs no
 * unique index on id: every INSERT saves a B-tree insert and its page writes.
 * The cipher is a 64-bit Feistel network (4 rounds, SipHash-2-4 as the round
 * function), so ids stay unique (it is a permutation of seqs) and reveal
 * neither the seq nor how many transfers the ledger holds.
 *
 * Databases written before migration 0010 hold random UUIDv7 ids below
 * ledger_state.legacy_ids_below; those are found by a scan of that (closed)
 * range. New databases have none.
 */
#include <string.h>

#include <sodium.h>

#include "ledger/ledger_internal.h"

static uint32_t round_fn(const uint8_t key[PB_LEDGER_ID_KEY_LEN], int round, uint32_t half)
{
    uint8_t msg[5] = {(uint8_t)round, (uint8_t)(half >> 24), (uint8_t)(half >> 16),
                      (uint8_t)(half >> 8), (uint8_t)half};
    uint8_t out[crypto_shorthash_siphash24_BYTES];
    crypto_shorthash_siphash24(out, msg, sizeof msg, key);
    return (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 |
           (uint32_t)out[3] << 24;
}

static uint64_t encipher(const uint8_t key[PB_LEDGER_ID_KEY_LEN], uint64_t v)
{
    uint32_t l = (uint32_t)(v >> 32), r = (uint32_t)v;
    for (int i = 0; i < 4; i++) {
        uint32_t t = l ^ round_fn(key, i, r);
        l = r;
        r = t;
    }
    return (uint64_t)l << 32 | r;
}

static uint64_t decipher(const uint8_t key[PB_LEDGER_ID_KEY_LEN], uint64_t v)
{
    uint32_t l = (uint32_t)(v >> 32), r = (uint32_t)v;
    for (int i = 3; i >= 0; i--) {
        uint32_t t = r ^ round_fn(key, i, l);
        r = l;
        l = t;
    }
    return (uint64_t)l << 32 | r;
}

void pb_ledger_txid_make(const uint8_t key[PB_LEDGER_ID_KEY_LEN], int64_t seq,
                         int64_t created_at_us, pb_id *out)
{
    uint64_t ms = (uint64_t)(created_at_us / 1000) & 0xFFFFFFFFFFFFull;
    uint64_t c = encipher(key, (uint64_t)seq);
    /* the 74 bits after the version: c, then 10 zero bits */
    uint64_t rand_a = c >> 52;                        /* 12 bits */
    uint64_t rand_b = (c & 0xFFFFFFFFFFFFFull) << 10; /* 52 + 10 = 62 bits */
    uint64_t hi = ms << 16 | 0x7000u | rand_a;
    uint64_t lo = 0x8000000000000000ull | rand_b;
    for (int i = 0; i < 8; i++) {
        out->b[i] = (uint8_t)(hi >> (56 - 8 * i));
        out->b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
}

bool pb_ledger_txid_seq(const uint8_t key[PB_LEDGER_ID_KEY_LEN], const pb_id *id, int64_t *seq)
{
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; i++) {
        hi = hi << 8 | id->b[i];
        lo = lo << 8 | id->b[8 + i];
    }
    if ((hi & 0xF000u) != 0x7000u || (lo >> 62) != 2 || (lo & 0x3FFu) != 0)
        return false;
    uint64_t c = (hi & 0xFFFu) << 52 | ((lo & 0x3FFFFFFFFFFFFFFFull) >> 10);
    uint64_t s = decipher(key, c);
    if (s == 0 || s > (uint64_t)INT64_MAX)
        return false;
    *seq = (int64_t)s;
    return true;
}

pb_store_rc pb_ledger_transfer_by_id(pb_store_conn *c, const pb_ledger_ids *ids, const pb_id *id,
                                     pb_store_transfer *out)
{
    int64_t seq, named;
    if (pb_ledger_txid_seq(ids->key, id, &seq)) {
        pb_store_rc rc = pb_store_transfer_by_seq(c, seq, out);
        if (rc == PB_STORE_OK && memcmp(out->id.b, id->b, 16) == 0)
            return PB_STORE_OK;
        if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
            return rc;
        /* another id at that seq: a wrong id the caller made up (it names the seq
         * but not the row, e.g. with other milliseconds), unless the stored id
         * does not name its own row, which no transfer the ledger wrote has */
        if (rc == PB_STORE_OK && seq >= ids->legacy_below &&
            (!pb_ledger_txid_seq(ids->key, &out->id, &named) || named != seq))
            return PB_STORE_CORRUPT;
    }
    if (ids->legacy_below <= 1)
        return PB_STORE_NOT_FOUND;
    return pb_store_transfer_by_legacy_id(c, id, ids->legacy_below, out);
}

pb_err pb_ledger_ids_load(pb_store_conn *c, pb_ledger_ids *ids)
{
    pb_store_rc rc = pb_store_ledger_ids(c, ids->key, &ids->legacy_below);
    if (rc == PB_STORE_OK)
        return PB_OK;
    return rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
}
