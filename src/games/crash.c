/*
 * crash.c — crash: the salted hash chain and the crash point.
 *
 * Chain: c[0] is a random terminal seed (64 hex), c[i] = sha256hex(c[i−1]);
 * games are played from c[n−1] down to c[0], so each game's hash is the
 * SHA-256 of the next game's hash and a published hash commits to every game
 * after it. Point: h = first 4 bytes of HMAC_SHA256(key = game hash hex,
 * msg = salt), point = max(100, floor(2³² · rtp_bp / (100 · (h + 1))))
 * hundredths — the floor(max(1, 2³²/(h+1) · (1−edge)) · 100)/100 in
 * exact integers.
 */
#include <string.h>

#include "games/fair_simd.h"
#include "games/rules.h"

uint64_t pb_crash_point(const char *game_hash, const char *salt, uint32_t rtp_bp)
{
    pb_fair_key k;
    uint8_t d[32];
    pb_fair_key_init(&k, game_hash, strlen(game_hash));
    pb_fair_hmac(&k, salt, strlen(salt), d);
    uint32_t h = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
    return pb_crash_point_h(h, rtp_bp);
}

void pb_crash_chain_generate(const char *terminal_seed, size_t n,
                             char (*chain)[PB_FAIR_HASH_HEX_LEN + 1])
{
    if (!n)
        return;
    memcpy(chain[0], terminal_seed, PB_FAIR_HASH_HEX_LEN);
    chain[0][PB_FAIR_HASH_HEX_LEN] = '\0';
    pb_fair_chain(chain[0], n - 1, chain + 1, true);
}

void pb_fair_chain(const char *from, size_t steps, char (*out)[PB_FAIR_HASH_HEX_LEN + 1],
                   bool every)
{
    if (!steps)
        return;
#ifdef PB_FAIR_HAVE_SHANI
    if (pb_fair_simd_paths() & 1) {
        pb_fair_chain_shani(from, steps, out, every);
        return;
    }
#endif
    char cur[PB_FAIR_HASH_HEX_LEN + 1];
    memcpy(cur, from, PB_FAIR_HASH_HEX_LEN);
    for (size_t i = 0; i < steps; i++) {
        pb_fair_sha256_hex(cur, PB_FAIR_HASH_HEX_LEN, cur);
        if (every)
            memcpy(out[i], cur, sizeof cur);
    }
    if (!every)
        memcpy(out[0], cur, sizeof cur);
}

void pb_fair_crash_h_hex_many(const char (*hashes)[PB_FAIR_HASH_HEX_LEN + 1], size_t n,
                              const char *salt, size_t salt_len, uint32_t *h)
{
#ifdef PB_FAIR_HAVE_SHANI
    if ((pb_fair_simd_paths() & 3) == 1 &&
        salt_len <= 119) { /* one or two blocks after the key's */
        uint8_t sb[128] = {0};
        uint64_t bits = (64 + salt_len) * 8;
        int nb = salt_len <= 55 ? 1 : 2;
        memcpy(sb, salt, salt_len);
        sb[salt_len] = 0x80;
        for (int i = 0; i < 8; i++)
            sb[64 * nb - 1 - i] = (uint8_t)(bits >> (8 * i));
        pb_fair_crash_hex_h_shani(hashes, n, (const uint8_t(*)[64])sb, nb, h);
        return;
    }
#endif
    for (size_t i = 0; i < n; i += PB_FAIR_CRASH_KEYS_MAX) {
        size_t k = n - i < PB_FAIR_CRASH_KEYS_MAX ? n - i : PB_FAIR_CRASH_KEYS_MAX;
        const char *hp[PB_FAIR_CRASH_KEYS_MAX];
        for (size_t j = 0; j < k; j++)
            hp[j] = hashes[i + j];
        pb_fair_crash_h_keys(hp, k, salt, salt_len, h + i);
    }
}

bool pb_crash_chain_links(const char *hash, const char *earlier, uint64_t max_steps,
                          uint64_t *steps)
{
    if (!pb_fair_hex64_valid(hash) || !pb_fair_hex64_valid(earlier))
        return false;
    char cur[PB_FAIR_HASH_HEX_LEN + 1], next[PB_FAIR_HASH_HEX_LEN + 1];
    memcpy(cur, hash, sizeof cur);
    for (uint64_t i = 1; i <= max_steps; i++) {
        pb_fair_sha256_hex(cur, PB_FAIR_HASH_HEX_LEN, next);
        if (memcmp(next, earlier, PB_FAIR_HASH_HEX_LEN) == 0) {
            if (steps)
                *steps = i;
            return true;
        }
        memcpy(cur, next, sizeof cur);
    }
    return false;
}

/* point ≥ t ⇔ h + 1 ≤ 2³²·rtp / (100 t): floor(2³²·rtp / (100 t)) of the 2³²
 * values of h (all of them for t ≤ 100). */
uint64_t pb_crash_count_at_least(uint64_t t, uint32_t rtp_bp)
{
    const uint64_t span = (uint64_t)1 << 32;
    if (t <= 100)
        return span;
    uint64_t c = span * rtp_bp / (100 * t);
    return c > span ? span : c;
}

pb_err pb_crash_rtp(const pb_crash_params *p, uint32_t rtp_bp, pb_rtp *out)
{
    if (p->cashout < PB_CRASH_TARGET_MIN || p->cashout > PB_CRASH_TARGET_MAX)
        return PB_ERR_FIELD_INVALID;
    pb_games_rtp_set(out,
                     (unsigned __int128)p->cashout * pb_crash_count_at_least(p->cashout, rtp_bp),
                     (unsigned __int128)100 << 32);
    return PB_OK;
}
