/*
 * play_crash_chain.c — the crash game's hash chains, kept in memory.
 *
 * Per brand, a chain of `crash_chain_length` game hashes from a random seed
 * c[0] (c[i] = SHA-256 hex of c[i−1]; games.h), played from c[n−1] down to c[0];
 * its commitment SHA-256(c[n−1]) and a random salt are public from the start
 * (crash_chain row). The chain's seed generates every game of it, so it is
 * stored sealed like an active server seed (seal.c). The scheduler
 * (play_crash.c) keeps every CKPT-th hash in memory and hashes forward from the
 * nearest one to find a game's hash. A used-up chain is followed by a new one.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/time.h"
#include "games/play_internal.h"

void play_chain_free(chain_mem *m)
{
    free(m->ckpt);
    memset(m, 0, sizeof *m);
}

/* Walks the chain from its seed (opened: 64 hex), keeping checkpoints;
 * *commitment (may be NULL) receives SHA-256 of c[n−1]. -1 on OOM or a seed
 * that is not 64 hex. */
static int chain_mem_build(chain_mem *m, const pb_store_crash_chain *ch, char *commitment)
{
    size_t n = (size_t)((ch->length + CKPT - 1) / CKPT);
    m->ckpt = calloc(n, sizeof *m->ckpt);
    if (!m->ckpt)
        return -1;
    m->brand_id = ch->brand_id;
    m->chain_id = ch->id;
    m->length = ch->length;
    char h[PB_FAIR_HASH_HEX_LEN + 1];
    if (strlen(ch->seed) != PB_FAIR_HASH_HEX_LEN) { /* not opened: never walk a sealed text */
        free(m->ckpt);
        m->ckpt = NULL;
        return -1;
    }
    memcpy(h, ch->seed, sizeof h);
    for (int64_t i = 0; i < ch->length; i += CKPT) {
        memcpy(m->ckpt[i / CKPT], h, sizeof h);
        int64_t steps = ch->length - 1 - i < CKPT ? ch->length - 1 - i : CKPT;
        pb_fair_chain(h, (size_t)steps, &h, false);
    }
    if (commitment)
        pb_fair_sha256_hex(h, PB_FAIR_HASH_HEX_LEN, commitment);
    return 0;
}

/* The hash of the game at play position pos (c[n−1−pos]). */
void play_chain_hash(const chain_mem *m, int64_t pos, char out[PB_FAIR_HASH_HEX_LEN + 1])
{
    int64_t i = m->length - 1 - pos;
    memcpy(out, m->ckpt[i / CKPT], PB_FAIR_HASH_HEX_LEN + 1);
    pb_fair_chain(out, (size_t)(i % CKPT), (char(*)[PB_FAIR_HASH_HEX_LEN + 1]) out, false);
}

/* The brand's chain in memory with a game left, loaded or made (on the
 * scheduler's connection: a new chain row is written in its own transaction;
 * nothing refers to it until a round does). The chain's seed generates every
 * game of it, so it is stored sealed like an active server seed (seal.c).
 * NULL on failure. */
chain_mem *play_chain_for(chain_mem *chains, size_t *nchains, size_t cap, pb_store_conn *c,
                          int64_t brand_id, const char *brand, int64_t length)
{
    chain_mem *m = NULL;
    for (size_t i = 0; i < *nchains && !m; i++)
        if (chains[i].brand_id == brand_id)
            m = &chains[i];
    if (!m) {
        if (*nchains == cap)
            return NULL;
        m = &chains[(*nchains)++];
        memset(m, 0, sizeof *m);
        m->brand_id = brand_id;
    }
    pb_store_crash_chain ch;
    pb_store_rc rc = pb_store_crash_chain_current(c, brand_id, &ch);
    if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
        return NULL;
    if (rc == PB_STORE_OK && ch.next_position < ch.length) {
        if (m->chain_id == ch.id && m->ckpt)
            return m;
        play_chain_free(m);
        char ad[PB_STORE_SEED_HEX_LEN + 8];
        play_chain_ad(&ch, ad, sizeof ad);
        if (play_seed_open(ad, ch.seed, sizeof ch.seed) != PB_OK) {
            pb_log(PB_LOG_ERROR, "games.seed_sealed",
                   "crash chain %lld: the seed does not open with this fair.key", (long long)ch.id);
            return NULL;
        }
        int built = chain_mem_build(m, &ch, NULL);
        sodium_memzero(ch.seed, sizeof ch.seed);
        return built == 0 ? m : NULL;
    }
    /* none yet, or used up: a new chain */
    memset(&ch, 0, sizeof ch);
    ch.brand_id = brand_id;
    snprintf(ch.brand, sizeof ch.brand, "%s", brand);
    pb_fair_server_seed_new(ch.seed);
    pb_fair_server_seed_new(ch.salt);
    ch.length = length;
    ch.created_at = pb_time_now_us();
    play_chain_free(m);
    if (chain_mem_build(m, &ch, ch.terminal_hash) != 0)
        return NULL;
    char ad[PB_STORE_SEED_HEX_LEN + 8], plain[PB_STORE_SEED_HEX_LEN + 1];
    play_chain_ad(&ch, ad, sizeof ad);
    memcpy(plain, ch.seed, sizeof plain);
    pb_err sealed = play_seed_seal(ad, plain, ch.seed, sizeof ch.seed);
    sodium_memzero(plain, sizeof plain);
    if (sealed != PB_OK) {
        play_chain_free(m);
        return NULL;
    }
    rc = pb_store_begin(c, PB_STORE_WRITE);
    if (rc == PB_STORE_OK)
        rc = pb_store_crash_chain_insert(c, &ch);
    if (rc == PB_STORE_OK)
        rc = pb_store_commit(c);
    else
        pb_store_rollback(c);
    if (rc != PB_STORE_OK) {
        play_chain_free(m);
        return NULL;
    }
    m->chain_id = ch.id;
    pb_log(PB_LOG_INFO, "games.crash_chain",
           "brand %s: new chain %lld of %lld games, commitment %s", brand, (long long)ch.id,
           (long long)ch.length, ch.terminal_hash);
    return m;
}
