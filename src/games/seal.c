/*
 * seal.c — the active server seeds, sealed at rest.
 *
 * A seed pair's server seed must stay secret until the player rotates it: whoever
 * reads it can compute every outcome of that player's next bets. The database is
 * read by more than the server (backups, copies for support or analytics, a
 * replica), so while a pair is active its seed is stored sealed with
 * XChaCha20-Poly1305 under the keys directory's fair.key (the same scheme as the
 * staff TOTP seeds under totp.key), the pair's public id as associated data (a
 * sealed seed moved to another pair does not open):
 *
 *     "s1:" || hex(nonce (24 bytes) || ciphertext of the seed's 32 bytes || tag)
 *
 * Rotation stores the revealed seed in the clear (it is public from then on:
 * the player verifies past rounds with it). A crash hash chain's seed, which
 * generates every game of the chain, is sealed the same way, bound to
 * "crash:<terminal hash>" (play_crash.c). So is the game hash of a crash round
 * while it takes bets and runs, bound to "crash-round:<round id>": its point
 * follows from it (and is stored as 0 until the crash, which writes both in the
 * clear). A stored seed or hash of 64 hex characters is one written before
 * sealing existed (or by a process without a key) and is read as is.
 *
 * Seeds and crash rounds stored in the clear before sealing existed are sealed
 * when the games open with a key (play_seal_existing), so an upgraded database
 * does not keep them readable until each player rotates (most never do).
 *
 * The key is process-wide: pb_play_open sets it from its configuration, and the
 * seed-pair code on the ledger writer's thread reads it (set before any command
 * runs, never changed after).
 */
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/sealbox.h"
#include "games/play_internal.h"

#define SEED_BYTES 32
#define PREFIX "s1:"

static uint8_t seal_key[PB_SEALBOX_KEY_LEN];
static atomic_bool seal_on;

void play_seal_set_key(const uint8_t key[32])
{
    memcpy(seal_key, key, sizeof seal_key);
    atomic_store(&seal_on, true);
}

bool play_seal_enabled(void) { return atomic_load(&seal_on); }

pb_err play_seed_seal(const char *ad, const char *seed_hex, char *out, size_t cap)
{
    if (!atomic_load(&seal_on)) { /* no key: stored as given */
        if (strlen(seed_hex) + 1 > cap)
            return PB_ERR_INTERNAL;
        memcpy(out, seed_hex, strlen(seed_hex) + 1);
        return PB_OK;
    }
    uint8_t seed[SEED_BYTES], box[PB_SEALBOX_OVERHEAD + SEED_BYTES];
    size_t len = 0;
    if (sodium_hex2bin(seed, sizeof seed, seed_hex, strlen(seed_hex), NULL, &len, NULL) != 0 ||
        len != SEED_BYTES || cap < sizeof PREFIX + 2 * sizeof box) {
        sodium_memzero(seed, sizeof seed);
        return PB_ERR_INTERNAL;
    }
    pb_sealbox_seal(seal_key, ad, seed, sizeof seed, box);
    sodium_memzero(seed, sizeof seed);
    memcpy(out, PREFIX, sizeof PREFIX - 1);
    sodium_bin2hex(out + sizeof PREFIX - 1, cap - (sizeof PREFIX - 1), box, sizeof box);
    return PB_OK;
}

pb_err play_seed_open(const char *ad, char *seed, size_t cap)
{
    size_t n = strlen(seed);
    if (n == 2 * SEED_BYTES && strncmp(seed, PREFIX, sizeof PREFIX - 1) != 0)
        return PB_OK; /* in the clear: revealed, or written before sealing */
    uint8_t box[PB_SEALBOX_OVERHEAD + SEED_BYTES], plain[SEED_BYTES];
    size_t len = 0;
    if (!atomic_load(&seal_on) || n != sizeof PREFIX - 1 + 2 * sizeof box ||
        strncmp(seed, PREFIX, sizeof PREFIX - 1) != 0 ||
        sodium_hex2bin(box, sizeof box, seed + sizeof PREFIX - 1, n - (sizeof PREFIX - 1), NULL,
                       &len, NULL) != 0 ||
        len != sizeof box || cap < 2 * SEED_BYTES + 1)
        return PB_ERR_INTERNAL;
    if (pb_sealbox_open(seal_key, ad, box, sizeof box, plain) != 0)
        return PB_ERR_INTERNAL; /* another key, another pair, or a changed value */
    sodium_bin2hex(seed, cap, plain, sizeof plain);
    sodium_memzero(plain, sizeof plain);
    return PB_OK;
}

void play_chain_ad(const pb_store_crash_chain *ch, char *out, size_t cap)
{
    snprintf(out, cap, "crash:%s", ch->terminal_hash);
}

void play_crash_round_ad(const char *round_id, char *out, size_t cap)
{
    snprintf(out, cap, "crash-round:%s", round_id);
}

#define SEAL_BATCH 256

/* The rows one batch reads (heap: a few hundred KB). */
typedef struct seal_bufs {
    pb_store_seed_pair pairs[SEAL_BATCH];
    pb_store_crash_chain chains[SEAL_BATCH];
    pb_store_crash_round rounds[SEAL_BATCH];
} seal_bufs;

/* One transaction: seals up to SEAL_BATCH active pairs, then as many chains and
 * as many crash rounds not yet crashed (hash sealed, point 0); *n receives how
 * many were sealed. */
static pb_store_rc seal_batch(pb_store_conn *c, seal_bufs *b, size_t *n)
{
    *n = 0;
    size_t np = 0, nc = 0, nr = 0;
    pb_store_seed_pair *pairs = b->pairs;
    pb_store_crash_chain *chains = b->chains;
    pb_store_crash_round *rounds = b->rounds;
    pb_store_rc rc = pb_store_begin(c, PB_STORE_WRITE);
    if (rc == PB_STORE_OK)
        rc = pb_store_seed_pair_unsealed(c, pairs, SEAL_BATCH, &np);
    for (size_t i = 0; rc == PB_STORE_OK && i < np; i++) {
        char stored[PB_STORE_SEED_STORED_MAX + 1];
        rc = play_seed_seal(pairs[i].id, pairs[i].server_seed, stored, sizeof stored) == PB_OK
                 ? pb_store_seed_pair_set_seed(c, pairs[i].id, stored)
                 : PB_STORE_ERROR;
        sodium_memzero(pairs[i].server_seed, sizeof pairs[i].server_seed);
    }
    if (rc == PB_STORE_OK)
        rc = pb_store_crash_chain_unsealed(c, chains, SEAL_BATCH, &nc);
    for (size_t i = 0; rc == PB_STORE_OK && i < nc; i++) {
        char stored[PB_STORE_SEED_STORED_MAX + 1], ad[PB_STORE_SEED_HEX_LEN + 8];
        play_chain_ad(&chains[i], ad, sizeof ad);
        rc = play_seed_seal(ad, chains[i].seed, stored, sizeof stored) == PB_OK
                 ? pb_store_crash_chain_set_seed(c, chains[i].id, stored)
                 : PB_STORE_ERROR;
        sodium_memzero(chains[i].seed, sizeof chains[i].seed);
    }
    if (rc == PB_STORE_OK)
        rc = pb_store_crash_round_unsealed(c, rounds, SEAL_BATCH, &nr);
    for (size_t i = 0; rc == PB_STORE_OK && i < nr; i++) {
        char stored[PB_STORE_SEED_STORED_MAX + 1], ad[PB_ID_STR_LEN + 16];
        play_crash_round_ad(rounds[i].id, ad, sizeof ad);
        rc = play_seed_seal(ad, rounds[i].game_hash, stored, sizeof stored) == PB_OK
                 ? pb_store_crash_round_set_hash(c, rounds[i].id, stored)
                 : PB_STORE_ERROR;
        sodium_memzero(rounds[i].game_hash, sizeof rounds[i].game_hash);
    }
    if (rc == PB_STORE_OK)
        rc = pb_store_commit(c);
    else
        pb_store_rollback(c);
    if (rc == PB_STORE_OK)
        *n = np + nc + nr;
    return rc;
}

int play_seal_existing(pb_store *s, int64_t *sealed, char *err, size_t errcap)
{
    *sealed = 0;
    if (!atomic_load(&seal_on))
        return 0;
    pb_store_conn *c = pb_store_connect(s, err, errcap);
    seal_bufs *b = calloc(1, sizeof *b);
    int ret = c && b ? 0 : -1;
    if (ret != 0 && c)
        snprintf(err, errcap, "out of memory");
    for (size_t n = SEAL_BATCH; ret == 0 && n > 0;) {
        if (seal_batch(c, b, &n) != PB_STORE_OK) {
            snprintf(err, errcap, "games: cannot seal the stored seeds and crash rounds: %s",
                     pb_store_errmsg(c));
            ret = -1;
        }
        *sealed += (int64_t)n;
    }
    free(b);
    pb_store_disconnect(c);
    return ret;
}
