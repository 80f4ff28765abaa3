/*
 * test_sealbox.c — src/core/sealbox.c's boxes: a box opens under its key and
 * associated data only, and peeking at a box's first bytes (no tag check) gives
 * exactly the sealed value's first bytes for an authentic box, under its key
 * only, never past the value's end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/sealbox.h"

#define MAX_VALUE 200

static void random_key(uint8_t key[PB_SEALBOX_KEY_LEN])
{
    randombytes_buf(key, PB_SEALBOX_KEY_LEN);
}

static void test_open_needs_key_and_ad(void **state)
{
    (void)state;
    uint8_t key[PB_SEALBOX_KEY_LEN], other[PB_SEALBOX_KEY_LEN];
    random_key(key);
    random_key(other);
    const uint8_t value[] = "Ada Lovelace";
    uint8_t box[sizeof value + PB_SEALBOX_OVERHEAD], plain[sizeof value];
    pb_sealbox_seal(key, "pii:p1:first_name", value, sizeof value, box);
    assert_int_equal(pb_sealbox_open(key, "pii:p1:first_name", box, sizeof box, plain), 0);
    assert_memory_equal(plain, value, sizeof value);
    assert_int_equal(pb_sealbox_open(key, "pii:p2:first_name", box, sizeof box, plain), -1);
    assert_int_equal(pb_sealbox_open(other, "pii:p1:first_name", box, sizeof box, plain), -1);
    box[sizeof box - 1] ^= 1;
    assert_int_equal(pb_sealbox_open(key, "pii:p1:first_name", box, sizeof box, plain), -1);
}

/* For values of every length up to MAX_VALUE, under fresh keys and nonces,
 * every prefix peeked is the value's prefix, and peeking past the end fails. */
static void test_peek_is_the_value_prefix(void **state)
{
    (void)state;
    uint8_t key[PB_SEALBOX_KEY_LEN], value[MAX_VALUE], box[MAX_VALUE + PB_SEALBOX_OVERHEAD],
        got[MAX_VALUE];
    for (size_t len = 1; len <= MAX_VALUE; len++) {
        random_key(key);
        randombytes_buf(value, len);
        pb_sealbox_seal(key, "ad", value, len, box);
        size_t box_len = len + PB_SEALBOX_OVERHEAD;
        for (size_t n = 0; n <= len; n += (n < 70 ? 1 : 13)) {
            memset(got, 0xa5, sizeof got);
            assert_int_equal(pb_sealbox_peek(key, box, box_len, n, got), 0);
            if (n)
                assert_memory_equal(got, value, n);
        }
        assert_int_equal(pb_sealbox_peek(key, box, box_len, len, got), 0);
        assert_memory_equal(got, value, len);
        assert_int_equal(pb_sealbox_peek(key, box, box_len, len + 1, got), -1);
    }
    assert_int_equal(pb_sealbox_peek(key, box, PB_SEALBOX_OVERHEAD - 1, 0, got), -1);
}

/* Under another key a peek gives other bytes: it rules the box out. */
static void test_peek_under_another_key_differs(void **state)
{
    (void)state;
    uint8_t key[PB_SEALBOX_KEY_LEN], other[PB_SEALBOX_KEY_LEN];
    const uint8_t value[32] = "Grace Hopper, rear admiral";
    uint8_t box[sizeof value + PB_SEALBOX_OVERHEAD], got[sizeof value];
    int same = 0;
    for (int i = 0; i < 64; i++) {
        random_key(key);
        random_key(other);
        pb_sealbox_seal(key, "", value, sizeof value, box);
        assert_int_equal(pb_sealbox_peek(other, box, sizeof box, sizeof value, got), 0);
        same += memcmp(got, value, sizeof value) == 0;
    }
    assert_int_equal(same, 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_needs_key_and_ad),
        cmocka_unit_test(test_peek_is_the_value_prefix),
        cmocka_unit_test(test_peek_under_another_key_differs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
