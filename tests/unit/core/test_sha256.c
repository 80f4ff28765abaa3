/*
 * test_sha256.c — src/core/sha256.h: SHA-256 against FIPS 180-4's examples,
 * HMAC-SHA256 against RFC 4231's test cases, both against libsodium (the
 * implementation they replaced on the request path) for every length and
 * split of a message and every key length around the block size, from several
 * threads at once, across key switches (the context remembers its last key),
 * and the constant-time equality.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/sha256.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void sha256_known_answers(void **state)
{
    (void)state;
    static const struct {
        const char *msg, *want;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t d[32];
        char h[65];
        pb_sha256(v[i].msg, strlen(v[i].msg), d);
        hex(d, 32, h);
        assert_string_equal(h, v[i].want);
    }
}

static void hmac_rfc4231(void **state)
{
    (void)state;
    uint8_t k1[20], k3[20], k4[25], k5[20], k6[131], d3[50], d4[50];
    memset(k1, 0x0b, sizeof k1);
    memset(k3, 0xaa, sizeof k3);
    memset(d3, 0xdd, sizeof d3);
    for (size_t i = 0; i < sizeof k4; i++)
        k4[i] = (uint8_t)(i + 1);
    memset(d4, 0xcd, sizeof d4);
    memset(k5, 0x0c, sizeof k5);
    memset(k6, 0xaa, sizeof k6);
    static const char m7[] = "This is a test using a larger than block-size key and a larger than "
                             "block-size data. The key needs to be hashed before being used by "
                             "the HMAC algorithm.";
    const struct {
        const uint8_t *key;
        size_t klen;
        const void *data;
        size_t dlen;
        size_t cmp; /* hex digits compared (case 5 is truncated to 128 bits) */
        const char *want;
    } v[] = {
        {k1, 20, "Hi There", 8, 64,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {(const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, 64,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {k3, 20, d3, 50, 64, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {k4, 25, d4, 50, 64, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {k5, 20, "Test With Truncation", 20, 32, "a3b6167473100ee06e0c796c2955552b"},
        {k6, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54, 64,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {k6, 131, m7, sizeof m7 - 1, 64,
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t mac[32];
        char h[65];
        pb_sha256_part p = {v[i].data, v[i].dlen};
        pb_hmac_sha256(v[i].key, v[i].klen, &p, 1, mac);
        hex(mac, 32, h);
        assert_memory_equal(h, v[i].want, v[i].cmp);
    }
}

/* HMAC with libsodium over the concatenation, the reference. */
static void sodium_hmac(const uint8_t *key, size_t klen, const uint8_t *m, size_t n,
                        uint8_t out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, m, n);
    crypto_auth_hmacsha256_final(&st, out);
}

static void same_as_libsodium_for_every_length_and_split(void **state)
{
    (void)state;
    uint8_t key[200], msg[300];
    randombytes_buf(key, sizeof key);
    randombytes_buf(msg, sizeof msg);
    for (size_t n = 0; n <= sizeof msg; n++) {
        uint8_t a[32], b[32];
        pb_sha256(msg, n, a);
        crypto_hash_sha256(b, msg, n);
        assert_memory_equal(a, b, 32);
        size_t klen = n % sizeof key; /* 0 (an empty key) through 199: both sides of 64 */
        sodium_hmac(key, klen, msg, n, b);
        size_t cut1 = n / 3, cut2 = n - n / 5;
        pb_sha256_part parts[4] = {
            {msg, cut1}, {NULL, 0}, {msg + cut1, cut2 - cut1}, {msg + cut2, n - cut2}};
        pb_hmac_sha256(key, klen, parts, 4, a);
        assert_memory_equal(a, b, 32);
        pb_sha256_part whole = {msg, n};
        pb_hmac_sha256(key, klen, &whole, 1, a);
        assert_memory_equal(a, b, 32);
    }
}

typedef struct worker {
    int seed;
    int bad;
} worker;

static void *hash_loop(void *arg)
{
    worker *w = arg;
    uint8_t key[40], msg[100], a[32], b[32];
    for (int i = 0; i < 500; i++) {
        for (size_t j = 0; j < sizeof key; j++)
            key[j] = (uint8_t)(w->seed * 31 + i + j);
        for (size_t j = 0; j < sizeof msg; j++)
            msg[j] = (uint8_t)(w->seed + i * 7 + j);
        size_t klen = 1 + (size_t)i % sizeof key, n = (size_t)i % sizeof msg;
        pb_sha256_part p = {msg, n};
        pb_hmac_sha256(key, klen, &p, 1, a);
        sodium_hmac(key, klen, msg, n, b);
        w->bad += memcmp(a, b, 32) != 0;
        pb_sha256(msg, n, a);
        crypto_hash_sha256(b, msg, n);
        w->bad += memcmp(a, b, 32) != 0;
    }
    return NULL;
}

/* A thread's context remembers its last key: switching keys, a key that is a
 * prefix of the last one, the empty key and keys too long to remember all give
 * the MAC of the key asked for. */
static void key_switches(void **state)
{
    (void)state;
    uint8_t keys[5][150], msg[80];
    randombytes_buf(keys, sizeof keys);
    randombytes_buf(msg, sizeof msg);
    memcpy(keys[1], keys[0], 40); /* keys[1] of length 40 = the prefix of keys[0] of 41 */
    const size_t lens[5] = {41, 40, 0, 129, 150};
    static const int order[] = {0, 0, 1, 0, 1, 1, 2, 2, 0, 3, 3, 4, 3, 2, 4, 4, 1, 0};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        int k = order[i];
        uint8_t a[32], b[32];
        pb_sha256_part p = {msg, 1 + i * 4};
        pb_hmac_sha256(keys[k], lens[k], &p, 1, a);
        sodium_hmac(keys[k], lens[k], msg, p.len, b);
        assert_memory_equal(a, b, 32);
    }
}

static void threads_keep_their_own_contexts(void **state)
{
    (void)state;
    pthread_t t[6];
    worker w[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (worker){.seed = i};
        assert_int_equal(pthread_create(&t[i], NULL, hash_loop, &w[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
}

static void equal_compares_all_32_bytes(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    randombytes_buf(a, sizeof a);
    memcpy(b, a, sizeof b);
    assert_true(pb_sha256_equal(a, b));
    for (size_t i = 0; i < 32; i++) {
        b[i] ^= 0x80;
        assert_false(pb_sha256_equal(a, b));
        b[i] ^= 0x80;
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_known_answers),
        cmocka_unit_test(hmac_rfc4231),
        cmocka_unit_test(same_as_libsodium_for_every_length_and_split),
        cmocka_unit_test(key_switches),
        cmocka_unit_test(threads_keep_their_own_contexts),
        cmocka_unit_test(equal_compares_all_32_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
