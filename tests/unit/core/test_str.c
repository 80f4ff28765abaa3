/*
 * test_str.c — pb_strlcpy (src/core/str.h): the copy snprintf("%s") made, with
 * its truncation and termination, and NULL as "".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/str.h"

static void copies_and_truncates_like_snprintf(void **state)
{
    (void)state;
    const char *inputs[] = {"", "a", "abcd", "abcde", "abcdefghij"};
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        for (size_t cap = 1; cap <= 8; cap++) {
            char a[8], b[8];
            memset(a, 'x', sizeof a);
            memset(b, 'x', sizeof b);
            int want = snprintf(a, cap, "%s", inputs[i]);
            size_t got = pb_strlcpy(b, inputs[i], cap);
            assert_memory_equal(a, b, cap); /* same bytes up to and with the NUL */
            assert_int_equal(got, (size_t)want < cap ? (size_t)want : cap - 1);
            if (cap < sizeof b)
                assert_int_equal(b[cap], 'x'); /* nothing written past the NUL */
        }
    }
}

static void null_is_empty_and_macro_uses_array_size(void **state)
{
    (void)state;
    char small[4];
    assert_int_equal(pb_strlcpy(small, NULL, sizeof small), 0);
    assert_string_equal(small, "");
    assert_int_equal(PB_STRCPY(small, "EURO"), 3);
    assert_string_equal(small, "EUR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copies_and_truncates_like_snprintf),
        cmocka_unit_test(null_is_empty_and_macro_uses_array_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
