/*
 * test_fair.c — the provably fair engine (src/games/fair.c) against known
 * answers computed outside pitboss, and the games' first draws from them.
 *
 * The vectors were made with OpenSSL's command line and Python:
 *   S=$(printf 'pitboss test seed' | sha256sum | cut -c1-64)
 *     = 77438bbb638b48da846d7ec31d36e807e0da02057ab6deb975d06ca8bbf97f5e
 *   printf $S | sha256sum                      → the commitment below
 *   printf 'player-1:0:0' | openssl dgst -sha256 -hmac $S   → ROUND0 below
 *   (and the other messages likewise; crash: printf 'salt-0000' | … -hmac $S)
 * and the outcomes from those bytes by the formulas in Python
 * (exact integers: floor(f·N) = u·N >> 32).
 *
 * The bulk paths (two streams with SHA-NI, sixteen with AVX-512, several
 * rounds per stream) must give the very bytes of the one-at-a-time path: tests/meson.build runs this program
 * three times, with PITBOSS_FAIR_SIMD = 0 (libcrypto only), 1 (SHA-NI pairs)
 * and unset (everything the CPU has).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "games/rules.h"

#define SEED "77438bbb638b48da846d7ec31d36e807e0da02057ab6deb975d06ca8bbf97f5e"
#define COMMIT "413690fd74647843283e87cba56e97b9140820ed9a7aed8b12b129edcd9b4bb5"
#define ROUND0 "e9afc7df38e949e8de6162875734c8ea8122ca8d83ea728d66281374e168bc9e"
#define ROUND1 "0f0a6b60187dc3998284db122674c3dc9950df436b48070e4ccedb0400d5fc31"

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void block_is(const char *server, const char *client, uint64_t nonce, uint32_t round,
                     const char *want)
{
    pb_fair_key k;
    uint8_t b[32];
    char h[65];
    pb_fair_key_init(&k, server, strlen(server));
    pb_fair_block(&k, client, strlen(client), nonce, round, b);
    hex(b, 32, h);
    assert_string_equal(h, want);
}

static void known_answers(void **state)
{
    (void)state;
    block_is(SEED, "player-1", 0, 0, ROUND0);
    block_is(SEED, "player-1", 0, 1, ROUND1);
    block_is(SEED, "player-1", 7, 0,
             "cc2e810fffb8bfa7e7e31af62c340512dbb511bf98f69bc93cc8332c991926eb");
    block_is(SEED, "x", UINT64_MAX, 0,
             "8ff25014cd32018380da46fa883e36d6ebb7d9eb5336a755ea5b314ab4258ed1");
    /* a 64-character client seed: the message takes two SHA-256 blocks */
    char longc[65];
    memset(longc, 'C', 64);
    longc[64] = '\0';
    block_is(SEED, longc, 12345, 3,
             "adc1d50474b105bce453a984861e010c580c5982ab773c8aa07b0204675402bb");
    /* a 64-character key (a crash game hash) fills the key block exactly */
    pb_fair_key k;
    uint8_t b[32];
    char h[65];
    pb_fair_key_init(&k, SEED, 64);
    pb_fair_hmac(&k, "salt-0000", 9, b);
    hex(b, 32, h);
    assert_string_equal(h, "d0753201326742696a3f32595e0f3bfbf19c5a6d9dd61f095650cc3be03244bd");
    /* a key longer than a block is hashed first (HMAC's rule):
     * printf x | openssl dgst -sha256 -hmac KKKK…(100 K) */
    char key100[101];
    memset(key100, 'K', 100);
    key100[100] = '\0';
    pb_fair_key_init(&k, key100, 100);
    pb_fair_hmac(&k, "x", 1, b);
    hex(b, 32, h);
    assert_string_equal(h, "9c5ed89fbdb39cf2414aabaee8db1dd228297a5674a0ce4abb344193f6d09681");
}

static void commitment_and_rotation(void **state)
{
    (void)state;
    char c[65];
    pb_fair_sha256_hex(SEED, 64, c);
    assert_string_equal(c, COMMIT);
    assert_true(pb_fair_commitment_matches(SEED, COMMIT));
    /* rotation: a fresh seed is committed, then revealed; it checks against the
     * commitment shown before play and no other */
    for (int i = 0; i < 20; i++) {
        char seed[65], commit[65], other[65];
        pb_fair_server_seed_new(seed);
        assert_true(pb_fair_hex64_valid(seed));
        pb_fair_sha256_hex(seed, 64, commit);
        assert_true(pb_fair_commitment_matches(seed, commit));
        assert_false(pb_fair_commitment_matches(seed, COMMIT));
        pb_fair_server_seed_new(other);
        assert_string_not_equal(seed, other);
        assert_false(pb_fair_commitment_matches(other, commit));
        seed[10] ^= 1; /* one character changed */
        assert_false(pb_fair_commitment_matches(seed, commit));
    }
    assert_false(pb_fair_commitment_matches(SEED, "not a hash"));
}

static void seed_rules(void **state)
{
    (void)state;
    assert_true(pb_fair_hex64_valid(SEED));
    assert_false(pb_fair_hex64_valid(NULL));
    assert_false(pb_fair_hex64_valid(""));
    char s[80];
    strcpy(s, SEED);
    s[5] = 'A'; /* upper case is not the canonical form */
    assert_false(pb_fair_hex64_valid(s));
    strcpy(s, SEED);
    strcat(s, "0");
    assert_false(pb_fair_hex64_valid(s));
    s[63] = '\0';
    assert_false(pb_fair_hex64_valid(s));

    assert_true(pb_fair_client_seed_valid("a"));
    assert_true(pb_fair_client_seed_valid("!~{}[]<>?/|\\\"'`@#$%^&*()-_=+.,;"));
    char c64[66];
    memset(c64, 'z', 65);
    c64[64] = '\0';
    assert_true(pb_fair_client_seed_valid(c64));
    c64[64] = 'z';
    c64[65] = '\0';
    assert_false(pb_fair_client_seed_valid(c64)); /* 65 */
    assert_false(pb_fair_client_seed_valid(""));
    assert_false(pb_fair_client_seed_valid(NULL));
    assert_false(pb_fair_client_seed_valid("a:b"));         /* the separator */
    assert_false(pb_fair_client_seed_valid("a b"));         /* space */
    assert_false(pb_fair_client_seed_valid("a\tb"));        /* control */
    assert_false(pb_fair_client_seed_valid("caf\xc3\xa9")); /* not ASCII */
}

/* Bytes are consumed 4 at a time, in order, round after round. */
static void stream_order(void **state)
{
    (void)state;
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    pb_fair_stream s;
    pb_fair_stream_init(&s, &k, "player-1", 0);
    static const uint32_t want[16] = {
        0xe9afc7df, 0x38e949e8, 0xde616287, 0x5734c8ea,
        0x8122ca8d, 0x83ea728d, 0x66281374, 0xe168bc9e, /* round 0 */
        0x0f0a6b60, 0x187dc399, 0x8284db12, 0x2674c3dc,
        0x9950df43, 0x6b48070e, 0x4ccedb04, 0x00d5fc31, /* round 1 */
    };
    for (int i = 0; i < 16; i++)
        assert_int_equal(pb_fair_stream_u32(&s), want[i]);
    pb_fair_stream_init(&s, &k, "player-1", 0);
    double f = pb_fair_stream_float(&s);
    /* f = b0/256 + b1/256² + b2/256³ + b3/256⁴, exact */
    assert_true(f == 0xe9 / 256.0 + 0xaf / 65536.0 + 0xc7 / 16777216.0 + 0xdf / 4294967296.0);
}

/* floor(f·N) computed as (u·N) >> 32 equals the double formula for every N
 * the games use and u at the edges and at random. */
static void scale_is_floor(void **state)
{
    (void)state;
    static const uint32_t ns[] = {2, 25, 24, 16, 37, 40, 31, 10001, 16777216, 20};
    uint32_t us[64] = {0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    pb_fair_stream s;
    pb_fair_stream_init(&s, &k, "scale", 1);
    for (int i = 6; i < 64; i++)
        us[i] = pb_fair_stream_u32(&s);
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (int i = 0; i < 64; i++) {
            double f = us[i] / 4294967296.0;
            /* f·N is exact: N < 2^21 or a power of 2 */
            uint32_t by_double = (uint32_t)(f * ns[a]);
            if (ns[a] < (1u << 21) || (ns[a] & (ns[a] - 1)) == 0)
                assert_int_equal(pb_fair_scale(us[i], ns[a]), by_double);
            assert_true(pb_fair_scale(us[i], ns[a]) < ns[a]);
        }
}

/* The first draws of every game from the known stream (expected values from
 * the Python reimplementation of the formulas). */
static void game_draws(void **state)
{
    (void)state;
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    pb_fair_stream s;
    pb_fair_stream_init(&s, &k, "player-1", 0);
    assert_int_equal(pb_dice_roll(&s), 9129); /* 91.29 */
    pb_fair_stream_init(&s, &k, "player-1", 0);
    assert_int_equal(pb_limbo_result(&s, 9900), 108); /* 1.08x */
    pb_fair_stream_init(&s, &k, "player-1", 0);
    assert_int_equal(pb_roulette_spin(&s), 33);
    pb_fair_stream_init(&s, &k, "player-1", 0);
    uint8_t mines[PB_MINES_MAX];
    pb_mines_positions(&s, 3, mines);
    assert_int_equal(mines[0], 22);
    assert_int_equal(mines[1], 5);
    assert_int_equal(mines[2], 20);
    pb_fair_stream_init(&s, &k, "player-1", 0);
    uint8_t drawn[PB_KENO_DRAWN];
    pb_keno_draw(&s, drawn); /* 10 floats: rounds 0 and 1 */
    static const uint8_t want_keno[10] = {37, 9, 35, 14, 21, 22, 16, 36, 2, 4};
    assert_memory_equal(drawn, want_keno, 10);
    pb_fair_stream_init(&s, &k, "player-1", 0);
    uint32_t path;
    assert_int_equal(pb_plinko_drop(&s, 8, &path), 5);
    assert_int_equal(path, 0xb5); /* rows 0..7: 1,0,1,0,1,1,0,1 */
    pb_fair_stream_init(&s, &k, "player-1", 0);
    assert_int_equal(pb_plinko_drop(&s, 16, NULL), 7);
    assert_int_equal(pb_crash_point(SEED, "salt-0000", 9900), 121); /* h = 0xd0753201 */
}

/* Streams computed in bulk (pb_fair_stream_prime) give the bytes of the
 * one-at-a-time path, whatever the batch size and message length. */
static void bulk_equals_single(void **state)
{
    (void)state;
    pb_fair_key keys[2];
    pb_fair_key_init(&keys[0], SEED, 64);
    pb_fair_key_init(&keys[1], COMMIT, 64);
    static const char *clients[] = {
        "a", "player-1", "0123456789012345678901234567890123456789",
        "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"};
    for (size_t n = 1; n <= 40; n += (n < 18 ? 1 : 11)) {
        pb_fair_stream bulk[40], one[40];
        for (size_t i = 0; i < n; i++) {
            const pb_fair_key *k = &keys[i % 2];
            const char *c = clients[(i / 2) % 4];
            uint64_t nonce = i * 1000003u + (i % 3 ? UINT64_MAX - i : 0);
            pb_fair_stream_init(&bulk[i], k, c, nonce);
            pb_fair_stream_init(&one[i], k, c, nonce);
        }
        pb_fair_stream_prime(bulk, n, 1);
        for (size_t i = 0; i < n; i++)
            for (int w = 0; w < 12; w++) /* into round 1: computed singly after the bulk */
                assert_int_equal(pb_fair_stream_u32(&bulk[i]), pb_fair_stream_u32(&one[i]));
        pb_fair_stream_prime(bulk, n, 1); /* mid-block streams are left alone */
        for (size_t i = 0; i < n; i++)
            assert_int_equal(pb_fair_stream_u32(&bulk[i]), pb_fair_stream_u32(&one[i]));
    }
}

/* Several rounds per stream primed at once (pb_fair_stream_prime with 1..4
 * blocks: sixteen lanes are streams × rounds) equal the known answers of the
 * one-at-a-time path (openssl dgst -hmac, rounds 0..3 of player-1:0) and then
 * the single path word for word, for every block count, batch size and message
 * length around the one-block limit (55 bytes), primed again and again into
 * two-digit rounds. */
static void bulk_blocks_equal_single(void **state)
{
    (void)state;
    static const char *const want[4] = {
        ROUND0, ROUND1, "5c4ed24798f71db943c0a5cd1728d1b727fb1973b5993cf4ee9f90fc297172e5",
        "722cf291adb7855aa98837a97194c0626c084e1caaaea72c465f03613e36ae50"};
    pb_fair_key keys[2];
    pb_fair_key_init(&keys[0], SEED, 64);
    pb_fair_key_init(&keys[1], COMMIT, 64);
    for (unsigned blocks = 1; blocks <= PB_FAIR_STREAM_BLOCKS; blocks++) {
        pb_fair_stream ka[3];
        for (int i = 0; i < 3; i++)
            pb_fair_stream_init(&ka[i], &keys[0], "player-1", 0);
        pb_fair_stream_prime(ka, 3, blocks);
        for (unsigned b = 0; b < 4; b++) {
            char h[65];
            uint8_t raw[32];
            for (int w = 0; w < 8; w++) {
                uint32_t u = pb_fair_stream_u32(&ka[1]);
                raw[4 * w] = (uint8_t)(u >> 24), raw[4 * w + 1] = (uint8_t)(u >> 16);
                raw[4 * w + 2] = (uint8_t)(u >> 8), raw[4 * w + 3] = (uint8_t)u;
            }
            hex(raw, 32, h);
            assert_string_equal(h, want[b]);
        }
    }
    /* client lengths put "<client>:<nonce>:<round>" at 53..57 bytes: one or
     * two SHA-256 blocks, changing as the round gains a digit */
    char clients[6][PB_FAIR_CLIENT_SEED_MAX + 1];
    static const size_t clen[6] = {1, 8, 48, 49, 50, 64};
    for (int c = 0; c < 6; c++) {
        memset(clients[c], 'a' + c, clen[c]);
        clients[c][clen[c]] = '\0';
    }
    for (unsigned blocks = 1; blocks <= PB_FAIR_STREAM_BLOCKS; blocks++)
        for (size_t n = 1; n <= 37; n += (n < 17 ? 1 : 10)) {
            pb_fair_stream bulk[37], one[37];
            for (size_t i = 0; i < n; i++) {
                uint64_t nonce = i * 7919u + (i % 4 == 3 ? UINT64_MAX - i : 0);
                pb_fair_stream_init(&bulk[i], &keys[i % 2], clients[i % 6], nonce);
                pb_fair_stream_init(&one[i], &keys[i % 2], clients[i % 6], nonce);
            }
            for (int again = 0; again < 4; again++) {
                pb_fair_stream_prime(bulk, n, blocks);
                for (size_t i = 0; i < n; i++)
                    for (unsigned w = 0; w < 8 * blocks + (again == 3 ? 5 : 0); w++)
                        assert_int_equal(pb_fair_stream_u32(&bulk[i]), pb_fair_stream_u32(&one[i]));
            }
            /* a stream with unread bytes is left alone */
            pb_fair_stream_prime(bulk, n, blocks);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(pb_fair_stream_u32(&bulk[i]), pb_fair_stream_u32(&one[i]));
        }
}

/* pb_fair_stream_take hands out the primed bytes pb_fair_stream_u32 would
 * read, and nothing (NULL, no bytes consumed) past them. */
static void take_primed_bytes(void **state)
{
    (void)state;
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    pb_fair_stream s, one;
    pb_fair_stream_init(&s, &k, "player-1", 0);
    pb_fair_stream_init(&one, &k, "player-1", 0);
    assert_null(pb_fair_stream_take(&s, 1)); /* nothing primed yet */
    pb_fair_stream_prime(&s, 1, 2);
    const uint8_t *b = pb_fair_stream_take(&s, 3);
    assert_non_null(b);
    for (int i = 0; i < 3; i++) {
        uint32_t u = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
                     (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
        assert_int_equal(u, pb_fair_stream_u32(&one));
    }
    assert_null(pb_fair_stream_take(&s, 14)); /* 13 floats left */
    b = pb_fair_stream_take(&s, 13);
    assert_non_null(b);
    for (int i = 0; i < 13; i++)
        assert_int_equal((uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
                             (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3],
                         pb_fair_stream_u32(&one));
    assert_null(pb_fair_stream_take(&s, 1));
    assert_int_equal(pb_fair_stream_u32(&s), pb_fair_stream_u32(&one)); /* round 2, computed */
}

/* pb_fair_stream_reserve (the rest of a round's floats in bulk, after some
 * were read) gives the bytes of reading on one round at a time: from every
 * read position of a primed or unprimed stream, for counts up to more than
 * the buffer holds, messages of one and two blocks. */
static void reserve_equals_single(void **state)
{
    (void)state;
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    static const char *const clients[] = {
        "r", "0123456789012345678901234567890123456789012345678",
        "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"};
    for (int c = 0; c < 3; c++)
        for (unsigned primed = 0; primed <= 2; primed++)
            for (unsigned read = 0; read <= 17; read++)
                for (unsigned want = 1; want <= 8 * PB_FAIR_STREAM_BLOCKS + 9; want += 7) {
                    pb_fair_stream s, one;
                    uint64_t nonce = 1000u * read + want;
                    pb_fair_stream_init(&s, &k, clients[c], nonce);
                    pb_fair_stream_init(&one, &k, clients[c], nonce);
                    if (primed)
                        pb_fair_stream_prime(&s, 1, primed);
                    for (unsigned i = 0; i < read; i++)
                        assert_int_equal(pb_fair_stream_u32(&s), pb_fair_stream_u32(&one));
                    pb_fair_stream_reserve(&s, want);
                    unsigned held = (s.len - s.pos) / 4;
                    /* full: no room for a round */
                    assert_true(held >= want || s.len + 32 > sizeof s.buf);
                    for (unsigned i = 0; i < want + 3; i++)
                        assert_int_equal(pb_fair_stream_u32(&s), pb_fair_stream_u32(&one));
                }
}

/* Several streams reserved together (pb_fair_stream_reserve_many: their
 * rounds queued as lanes of the same kernel calls, as a simulation pools the
 * slot's free spins) hold the bytes of one round at a time: 1..9 streams of
 * different client seeds, read positions and wants, some already holding
 * what they want. */
static void reserve_many_equals_single(void **state)
{
    (void)state;
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    static const char *const clients[] = {
        "r", "0123456789012345678901234567890123456789012345678",
        "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", "bench"};
    for (size_t n = 1; n <= 9; n++)
        for (unsigned trial = 0; trial < 20; trial++) {
            pb_fair_stream s[9], one[9];
            pb_fair_stream *ps[9];
            unsigned want[9];
            for (size_t i = 0; i < n; i++) {
                uint64_t nonce = 977u * trial + 13u * i;
                const char *c = clients[(i + trial) % 4];
                pb_fair_stream_init(&s[i], &k, c, nonce);
                pb_fair_stream_init(&one[i], &k, c, nonce);
                pb_fair_stream_prime(&s[i], 1, 1 + (trial + i) % 2);
                for (unsigned r = 0; r < (trial * 3 + i) % 9; r++)
                    assert_int_equal(pb_fair_stream_u32(&s[i]), pb_fair_stream_u32(&one[i]));
                want[i] = (unsigned)((trial * 11 + i * 17) % 76);
                ps[i] = &s[i];
            }
            pb_fair_stream_reserve_many(ps, want, n);
            for (size_t i = 0; i < n; i++) {
                assert_true((s[i].len - s[i].pos) / 4 >= want[i] ||
                            s[i].len + 32 > sizeof s[i].buf); /* full: no room for a round */
                for (unsigned w = 0; w < want[i] + 3; w++)
                    assert_int_equal(pb_fair_stream_u32(&s[i]), pb_fair_stream_u32(&one[i]));
            }
        }
}

/* pb_fair_stream_set_nonce gives the stream pb_fair_stream_init gives: small
 * steps (carries, a digit more), big ones, backwards, up to and past UINT64_MAX. */
static void set_nonce_equals_init(void **state)
{
    (void)state;
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    static const uint64_t walk[] = {0,
                                    1,
                                    9,
                                    10,
                                    99,
                                    115,
                                    999,
                                    1000,
                                    9999999,
                                    10000016,
                                    10000016,
                                    10000000,
                                    5,
                                    2000005,
                                    99999999999ULL,
                                    100000000015ULL,
                                    UINT64_MAX - 20,
                                    UINT64_MAX - 4,
                                    UINT64_MAX,
                                    0,
                                    999984,
                                    1000000,
                                    18446744073709551599ULL,
                                    3};
    static const char *const clients[] = {
        "player-1", "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"};
    for (int c = 0; c < 2; c++) {
        pb_fair_stream s, fresh;
        pb_fair_stream_init(&s, &k, clients[c], 0);
        pb_fair_stream_u32(&s); /* mid-stream: set_nonce restarts it */
        for (size_t i = 0; i < sizeof walk / sizeof walk[0]; i++) {
            pb_fair_stream_set_nonce(&s, walk[i]);
            pb_fair_stream_init(&fresh, &k, clients[c], walk[i]);
            assert_int_equal(s.prefix_len, fresh.prefix_len);
            assert_memory_equal(s.msg, fresh.msg, fresh.prefix_len);
            for (int w = 0; w < 10; w++)
                assert_int_equal(pb_fair_stream_u32(&s), pb_fair_stream_u32(&fresh));
        }
    }
    /* pb_fair_stream_next_nonce: the stream of the next nonce, across 9s,
     * a digit more, and past UINT64_MAX to 0 */
    static const uint64_t starts[] = {0, 8, 95, 998, 9999990, UINT64_MAX - 12};
    for (int c = 0; c < 2; c++)
        for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
            pb_fair_stream s, fresh;
            pb_fair_stream_init(&s, &k, clients[c], starts[i]);
            for (uint64_t step = 1; step <= 25; step++) {
                pb_fair_stream_u32(&s);
                pb_fair_stream_next_nonce(&s);
                pb_fair_stream_init(&fresh, &k, clients[c], starts[i] + step);
                assert_true(s.nonce == starts[i] + step);
                assert_int_equal(s.prefix_len, fresh.prefix_len);
                assert_memory_equal(s.msg, fresh.msg, fresh.prefix_len);
                for (int w = 0; w < 10; w++)
                    assert_int_equal(pb_fair_stream_u32(&s), pb_fair_stream_u32(&fresh));
            }
        }
    /* round 3 of nonce UINT64_MAX reached by steps: openssl dgst -hmac */
    pb_fair_stream s;
    pb_fair_stream_init(&s, &k, "player-1", UINT64_MAX - 16);
    pb_fair_stream_set_nonce(&s, UINT64_MAX);
    for (int w = 0; w < 24; w++)
        pb_fair_stream_u32(&s);
    assert_int_equal(pb_fair_stream_u32(&s), 0x450f1bcf);
}

/* Keno's and mines' draws (bit masks: pdep with BMI2 under the default
 * PITBOSS_FAIR_SIMD, the portable loop under 0 and 1) equal the issue's
 * definition, taking index floor(f · r) out of an ascending array, for every
 * mine count and many nonces. */
static void draws_equal_array_removal(void **state)
{
    (void)state;
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    for (uint64_t nonce = 0; nonce < 3000; nonce++) {
        pb_fair_stream s, ref;
        pb_fair_stream_init(&s, &k, "draws", nonce);
        pb_fair_stream_init(&ref, &k, "draws", nonce);
        uint8_t drawn[PB_KENO_DRAWN], left[PB_KENO_NUMBERS];
        pb_keno_draw(&s, drawn);
        for (unsigned i = 0; i < PB_KENO_NUMBERS; i++)
            left[i] = (uint8_t)(i + 1);
        for (unsigned i = 0; i < PB_KENO_DRAWN; i++) {
            unsigned n = PB_KENO_NUMBERS - i, idx = pb_fair_scale(pb_fair_stream_u32(&ref), n);
            assert_int_equal(drawn[i], left[idx]);
            memmove(left + idx, left + idx + 1, n - idx - 1);
        }
        unsigned mines = 1 + (unsigned)(nonce % PB_MINES_MAX);
        uint8_t pos[PB_MINES_MAX], tiles[PB_MINES_TILES];
        pb_fair_stream_init(&s, &k, "draws", nonce);
        pb_fair_stream_init(&ref, &k, "draws", nonce);
        pb_mines_positions(&s, mines, pos);
        for (unsigned i = 0; i < PB_MINES_TILES; i++)
            tiles[i] = (uint8_t)i;
        for (unsigned i = 0; i < mines; i++) {
            unsigned n = PB_MINES_TILES - i, idx = pb_fair_scale(pb_fair_stream_u32(&ref), n);
            assert_int_equal(pos[i], tiles[idx]);
            memmove(tiles + idx, tiles + idx + 1, n - idx - 1);
        }
    }
}

/* Sixteen streams of one key (a simulation's batch) are primed with one
 * transpose for all their rounds (pb_fair_hmac_x16_digits under the default
 * mask): the bytes of one round at a time, for client seeds whose prefix
 * ends anywhere up to the one-block limit, nonces of one length or of
 * lengths 1..20 (the round digit in different words), every block count,
 * primed again while rounds keep one digit and past it, and batches that do
 * not qualify (two keys). */
static void digit_batch_equals_single(void **state)
{
    (void)state;
    pb_fair_key keys[2];
    pb_fair_key_init(&keys[0], SEED, 64);
    pb_fair_key_init(&keys[1], COMMIT, 64);
    static const size_t clen[] = {1, 3, 5, 8, 13, 30, 45, 46, 47};
    for (size_t c = 0; c < sizeof clen / sizeof clen[0]; c++)
        for (unsigned blocks = 1; blocks <= PB_FAIR_STREAM_BLOCKS; blocks++)
            for (int variant = 0; variant < 3; variant++) {
                char client[PB_FAIR_CLIENT_SEED_MAX + 1];
                memset(client, 'a' + (int)c, clen[c]);
                client[clen[c]] = '\0';
                pb_fair_stream bulk[16], one[16];
                for (size_t i = 0; i < 16; i++) {
                    /* variant 1: nonces of 1..20 digits; 2: two keys */
                    uint64_t nonce = 1000000 + 16 * blocks + i;
                    if (variant == 1) { /* 10^(d−1) + a little, d = 1..20 digits */
                        nonce = 1;
                        for (size_t d = 1; d < 1 + i * 19 / 15; d++)
                            nonce *= 10;
                        nonce += i % 7;
                    }
                    const pb_fair_key *k = &keys[variant == 2 ? i % 2 : 0];
                    pb_fair_stream_init(&bulk[i], k, client, nonce);
                    pb_fair_stream_init(&one[i], k, client, nonce);
                }
                for (int again = 0; again < 3; again++) {
                    pb_fair_stream_prime(bulk, 16, blocks);
                    for (size_t i = 0; i < 16; i++)
                        for (unsigned w = 0; w < 8 * blocks; w++)
                            assert_int_equal(pb_fair_stream_u32(&bulk[i]),
                                             pb_fair_stream_u32(&one[i]));
                }
            }
}

/* The k items drawn from `all` by the definition (index floor(f · r)
 * out of an ascending array of the r items left), the floats read from ref;
 * returns the items left as a mask. */
static uint64_t draw_by_removal(pb_fair_stream *ref, uint64_t all, unsigned k, uint8_t *out)
{
    uint8_t items[64];
    unsigned n = 0;
    for (unsigned b = 0; b < 64; b++)
        if (all >> b & 1)
            items[n++] = (uint8_t)b;
    for (unsigned i = 0; i < k; i++, n--) {
        unsigned idx = pb_fair_scale(pb_fair_stream_u32(ref), n);
        out[i] = items[idx];
        all &= ~((uint64_t)1 << items[idx]);
        memmove(items + idx, items + idx + 1, n - idx - 1);
    }
    return all;
}

/* Draws from primed streams (the batch path: the floats taken at once, the
 * indices and their one-hot words computed in vector registers with
 * AVX-512) and two streams at once (pb_games_draw2, the chains side by
 * side) equal the definition, for keno's and mines' sets, every
 * mine count, 64 items and up to 32 draws, streams primed with enough
 * rounds or too few (then read one float at a time), under every
 * PITBOSS_FAIR_SIMD path. */
static void primed_draws_equal_array_removal(void **state)
{
    (void)state;
    pb_fair_key k;
    pb_fair_key_init(&k, SEED, 64);
    static const uint64_t sets[] = {(((uint64_t)1 << 40) - 1) << 1, ((uint64_t)1 << 25) - 1,
                                    ~(uint64_t)0, 0x8000000000000001ULL | 0xf0f0f0f0ULL};
    for (uint64_t nonce = 0; nonce < 400; nonce++)
        for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++) {
            uint64_t all = sets[si];
            unsigned max = (unsigned)__builtin_popcountll(all) < 32
                               ? (unsigned)__builtin_popcountll(all)
                               : 32;
            unsigned kd = 1 + (unsigned)((nonce * 7 + si) % max);
            unsigned blocks = (kd + 7) / 8 - (nonce % 5 == 0 && kd > 8); /* sometimes one short */
            pb_fair_stream s[2], ref[2];
            uint8_t got[2][32], want[2][32];
            uint64_t left[2], want_left[2];
            for (int i = 0; i < 2; i++) {
                pb_fair_stream_init(&s[i], &k, "draws", nonce + 1000 * (uint64_t)i);
                pb_fair_stream_init(&ref[i], &k, "draws", nonce + 1000 * (uint64_t)i);
                want_left[i] = draw_by_removal(&ref[i], all, kd, want[i]);
            }
            pb_fair_stream_prime(s, 2, blocks);
            left[0] = pb_games_draw(&s[0], all, kd, got[0]);
            assert_int_equal(left[0], want_left[0]);
            assert_memory_equal(got[0], want[0], kd);
            for (int i = 0; i < 2; i++)
                pb_fair_stream_init(&s[i], &k, "draws", nonce + 1000 * (uint64_t)i);
            pb_fair_stream_prime(s, 2, blocks);
            pb_games_draw2(&s[0], &s[1], all, kd, got[0], got[1], left);
            for (int i = 0; i < 2; i++) {
                assert_int_equal(left[i], want_left[i]);
                assert_memory_equal(got[i], want[i], kd);
                /* both streams read exactly the k floats */
                assert_int_equal(pb_fair_stream_u32(&s[i]), pb_fair_stream_u32(&ref[i]));
            }
        }
}

/* Many keys at once (pb_fair_key_init_many: sixteen through AVX-512 when
 * the CPU has it) and one message under many keys (pb_fair_hmac_many) equal
 * the one-at-a-time functions, for every group size and messages of one and
 * two blocks. */
static void many_keys_equal_single(void **state)
{
    (void)state;
    enum { N = 37 };
    char keys[N][PB_FAIR_HASH_HEX_LEN + 1];
    const char *kp[N];
    pb_crash_chain_generate(SEED, N, keys);
    for (size_t i = 0; i < N; i++)
        kp[i] = keys[i];
    static const size_t lens[] = {0, 9, 55, 56, 64, 100};
    char msg[101];
    memset(msg, 's', sizeof msg);
    for (size_t n = 1; n <= N; n += (n < 18 ? 1 : 9)) {
        pb_fair_key many[N], one;
        pb_fair_key_init_many(many, kp, n);
        for (size_t i = 0; i < n; i++) {
            pb_fair_key_init(&one, keys[i], 64);
            assert_memory_equal(&many[i], &one, sizeof one);
        }
        for (size_t m = 0; m < sizeof lens / sizeof lens[0]; m++) {
            uint8_t out[N][32], want[32];
            pb_fair_hmac_many(many, n, msg, lens[m], out);
            for (size_t i = 0; i < n; i++) {
                pb_fair_hmac(&many[i], msg, lens[m], want);
                assert_memory_equal(out[i], want, 32);
            }
        }
    }
    /* the known answer: HMAC(key = SEED as a 64-character key, "salt-0000") */
    pb_fair_key k16[16];
    const char *same[16];
    for (int i = 0; i < 16; i++)
        same[i] = SEED;
    pb_fair_key_init_many(k16, same, 16);
    uint8_t d[16][32];
    pb_fair_hmac_many(k16, 16, "salt-0000", 9, d);
    char h[65];
    hex(d[15], 32, h);
    assert_string_equal(h, "d0753201326742696a3f32595e0f3bfbf19c5a6d9dd61f095650cc3be03244bd");
}

/* One crash h the long way: the stream's round 0 as a game hash in hex, then
 * pb_crash_point's steps one at a time (libcrypto). */
static uint32_t crash_h_single(const pb_fair_key *k, const char *client, uint64_t nonce,
                               const char *salt, size_t salt_len)
{
    uint8_t d[32];
    char game[65];
    pb_fair_block(k, client, strlen(client), nonce, 0, d);
    hex(d, 32, game);
    pb_fair_key gk;
    pb_fair_key_init(&gk, game, 64);
    pb_fair_hmac(&gk, salt, salt_len, d);
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

/* pb_fair_crash_h_many (the crash simulation's hashing, on every path) gives
 * the h of one game at a time: any count (odd ones leave a short group),
 * two keys across the lanes, nonces whose messages fit one block or not,
 * salts of one block or two; and the known answer computed outside. */
static void crash_h_many_equals_single(void **state)
{
    (void)state;
    enum { N = 37 };
    static const char *const clients[] = {
        "player-1", "c",
        "a-client-seed-of-fifty-characters-0123456789abcdef"}; /* its messages: 2 blocks */
    static const uint64_t nonces[] = {0, 8, 99999, 18446744073709551600u};
    static const size_t salt_lens[] = {0, 9, 55, 56, 64};
    char salt[65];
    memset(salt, 'q', sizeof salt - 1);
    salt[64] = '\0';
    pb_fair_key keys[2];
    pb_fair_key_init(&keys[0], SEED, 64);
    pb_fair_key_init(&keys[1], COMMIT, 64);
    for (size_t c = 0; c < sizeof clients / sizeof clients[0]; c++)
        for (size_t v = 0; v < sizeof nonces / sizeof nonces[0]; v++)
            for (size_t m = 0; m < sizeof salt_lens / sizeof salt_lens[0]; m++)
                for (size_t n = 1; n <= N; n += (n < 18 ? 1 : 9)) {
                    pb_fair_stream s[N];
                    uint32_t h[N];
                    for (size_t i = 0; i < n; i++)
                        pb_fair_stream_init(&s[i], &keys[i % 3 == 2], clients[c], nonces[v] + i);
                    pb_fair_crash_h_many(s, n, salt, salt_lens[m], h);
                    for (size_t i = 0; i < n; i++)
                        assert_int_equal(h[i], crash_h_single(&keys[i % 3 == 2], clients[c],
                                                              nonces[v] + i, salt, salt_lens[m]));
                }
    /* HMAC(SEED, "player-1:0:0") = ROUND0; printf 'salt-0000' | openssl dgst
     * -sha256 -hmac ROUND0 = 61213b72d5b0…: h 0x61213b72, the point 2.60 */
    pb_fair_stream s;
    uint32_t h;
    pb_fair_stream_init(&s, &keys[0], "player-1", 0);
    pb_fair_crash_h_many(&s, 1, "salt-0000", 9, &h);
    assert_int_equal(h, 0x61213b72);
    assert_int_equal(pb_crash_point(ROUND0, "salt-0000", 9900), 260);
    assert_int_equal(pb_crash_point_h(h, 9900), 260);
}

/* A chain's points in bulk (pb_fair_crash_h_hex_many: with SHA-NI, games
 * side by side, the salt's one or two blocks' schedule computed once; else
 * in lanes) equal pb_crash_point one game at a time, for every group size
 * and salts of one block, the longest of one (55), the shortest of two (56),
 * a chain's (64) and the longest of two (119), and past the kernel (120:
 * three blocks), under every PITBOSS_FAIR_SIMD path. */
static void crash_h_hex_many_equals_single(void **state)
{
    (void)state;
    enum { N = 41 };
    char chain[N][PB_FAIR_HASH_HEX_LEN + 1];
    pb_crash_chain_generate(SEED, N, chain);
    static const size_t salt_lens[] = {0, 9, 55, 56, 64, 119, 120};
    char salt[121];
    for (size_t i = 0; i < sizeof salt - 1; i++)
        salt[i] = "0123456789abcdef"[(i * 7) % 16];
    for (size_t m = 0; m < sizeof salt_lens / sizeof salt_lens[0]; m++) {
        char s[121];
        memcpy(s, salt, salt_lens[m]);
        s[salt_lens[m]] = '\0';
        for (size_t first = 0; first < 3; first++)
            for (size_t n = 1; first + n <= N; n += (n < 20 ? 1 : 7)) {
                uint32_t h[N];
                memset(h, 0, sizeof h);
                pb_fair_crash_h_hex_many(chain + first, n, s, salt_lens[m], h);
                for (size_t i = 0; i < n; i++) {
                    pb_fair_key gk;
                    uint8_t d[32];
                    pb_fair_key_init(&gk, chain[first + i], 64);
                    pb_fair_hmac(&gk, s, salt_lens[m], d);
                    uint32_t want = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
                                    (uint32_t)d[2] << 8 | d[3];
                    assert_int_equal(h[i], want);
                    assert_int_equal(pb_crash_point_h(h[i], 9900),
                                     pb_crash_point(chain[first + i], s, 9900));
                }
            }
    }
    /* printf 'salt-0000' | openssl dgst -sha256 -hmac ROUND0 = 61213b72d5b0…
     * (as in crash_h_many_equals_single), the point 2.60 */
    char round0[1][PB_FAIR_HASH_HEX_LEN + 1];
    memcpy(round0[0], ROUND0, sizeof round0[0]);
    uint32_t h;
    pb_fair_crash_h_hex_many((const char(*)[PB_FAIR_HASH_HEX_LEN + 1]) round0, 1, "salt-0000", 9,
                             &h);
    assert_int_equal(h, 0x61213b72);
}

/* A chain's steps in bulk (pb_fair_chain: with SHA-NI in registers) equal
 * pb_fair_sha256_hex one step at a time, every step kept or only the last,
 * in place, under every PITBOSS_FAIR_SIMD path. */
static void chain_steps_equal_single(void **state)
{
    (void)state;
    enum { N = 70 };
    char want[N + 1][PB_FAIR_HASH_HEX_LEN + 1], got[N][PB_FAIR_HASH_HEX_LEN + 1];
    memcpy(want[0], COMMIT, sizeof want[0]);
    for (size_t i = 1; i <= N; i++)
        pb_fair_sha256_hex(want[i - 1], PB_FAIR_HASH_HEX_LEN, want[i]);
    memset(got, 'x', sizeof got);
    pb_fair_chain(COMMIT, N, got, true);
    for (size_t i = 0; i < N; i++)
        assert_string_equal(got[i], want[i + 1]);
    for (size_t steps = 0; steps <= N; steps++) {
        char h[PB_FAIR_HASH_HEX_LEN + 1];
        memcpy(h, COMMIT, sizeof h);
        pb_fair_chain(h, steps, &h, false); /* in place */
        assert_string_equal(h, want[steps]);
    }
    /* from the seed: its first step is the commitment */
    pb_fair_chain(SEED, 1, got, true);
    assert_string_equal(got[0], COMMIT);
}

static void crash_chain(void **state)
{
    (void)state;
    enum { N = 50 };
    char chain[N][PB_FAIR_HASH_HEX_LEN + 1];
    pb_crash_chain_generate(SEED, N, chain);
    assert_string_equal(chain[0], SEED);
    assert_string_equal(chain[1], COMMIT); /* chain[1] = sha256hex(chain[0]) */
    char commitment[65];
    pb_fair_sha256_hex(chain[N - 1], 64, commitment); /* published before game 1 */
    uint64_t steps = 0;
    /* game g (1-based) plays chain[N − g]; it links to the commitment in g steps */
    for (int g = 1; g <= N; g++) {
        assert_true(pb_crash_chain_links(chain[N - g], commitment, N, &steps));
        assert_int_equal(steps, g);
    }
    /* each game's hash is the SHA-256 of the next game's */
    assert_true(pb_crash_chain_links(chain[10], chain[11], 1, &steps));
    assert_false(pb_crash_chain_links(chain[11], chain[10], 100, NULL));   /* not backwards */
    assert_false(pb_crash_chain_links(chain[0], commitment, N - 1, NULL)); /* too few steps */
    char forged[65];
    strcpy(forged, chain[5]);
    forged[0] = forged[0] == 'a' ? 'b' : 'a';
    assert_false(pb_crash_chain_links(forged, commitment, 2 * N, NULL));
    assert_false(pb_crash_chain_links("zz", commitment, 1, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_answers),
        cmocka_unit_test(commitment_and_rotation),
        cmocka_unit_test(seed_rules),
        cmocka_unit_test(stream_order),
        cmocka_unit_test(scale_is_floor),
        cmocka_unit_test(game_draws),
        cmocka_unit_test(bulk_equals_single),
        cmocka_unit_test(bulk_blocks_equal_single),
        cmocka_unit_test(set_nonce_equals_init),
        cmocka_unit_test(take_primed_bytes),
        cmocka_unit_test(reserve_equals_single),
        cmocka_unit_test(reserve_many_equals_single),
        cmocka_unit_test(draws_equal_array_removal),
        cmocka_unit_test(primed_draws_equal_array_removal),
        cmocka_unit_test(digit_batch_equals_single),
        cmocka_unit_test(many_keys_equal_single),
        cmocka_unit_test(crash_h_many_equals_single),
        cmocka_unit_test(crash_h_hex_many_equals_single),
        cmocka_unit_test(chain_steps_equal_single),
        cmocka_unit_test(crash_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
