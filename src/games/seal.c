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
 * "crash:<terminal hash>" (play_crash.c). A stored seed of 64 hex characters
 * is one written before sealing existed (or by a process without a key) and is
 * read as is.
 *
 * The key is process-wide: pb_play_open sets it from its configuration, and the
 * seed-pair code on the ledger writer's thread reads it (set before any command
 * runs, never changed after).
 */
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "games/play_internal.h"

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEED_BYTES 32
#define PREFIX "s1:"

static uint8_t seal_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
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
    uint8_t seed[SEED_BYTES], box[NONCE + SEED_BYTES + TAG];
    size_t len = 0;
    if (sodium_hex2bin(seed, sizeof seed, seed_hex, strlen(seed_hex), NULL, &len, NULL) != 0 ||
        len != SEED_BYTES || cap < sizeof PREFIX + 2 * sizeof box) {
        sodium_memzero(seed, sizeof seed);
        return PB_ERR_INTERNAL;
    }
    randombytes_buf(box, NONCE);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(box + NONCE, &clen, seed, sizeof seed,
                                               (const unsigned char *)ad, strlen(ad),
                                               NULL, box, seal_key);
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
    uint8_t box[NONCE + SEED_BYTES + TAG], plain[SEED_BYTES];
    size_t len = 0;
    if (!atomic_load(&seal_on) || n != sizeof PREFIX - 1 + 2 * sizeof box ||
        strncmp(seed, PREFIX, sizeof PREFIX - 1) != 0 ||
        sodium_hex2bin(box, sizeof box, seed + sizeof PREFIX - 1, n - (sizeof PREFIX - 1), NULL,
                       &len, NULL) != 0 ||
        len != sizeof box || cap < 2 * SEED_BYTES + 1)
        return PB_ERR_INTERNAL;
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, box + NONCE,
                                                   sizeof box - NONCE,
                                                   (const unsigned char *)ad, strlen(ad), box,
                                                   seal_key) != 0 ||
        plen != SEED_BYTES)
        return PB_ERR_INTERNAL; /* another key, another pair, or a changed value */
    sodium_bin2hex(seed, cap, plain, sizeof plain);
    sodium_memzero(plain, sizeof plain);
    return PB_OK;
}
