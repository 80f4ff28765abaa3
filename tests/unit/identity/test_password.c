/*
 * test_password.c — argon2id hashing (a hash verifies, a wrong password does
 * not, hashes are salted), rehash detection, the cost of new hashes
 * (PITBOSS_PWHASH_COST's names, no downgrade), the password policy case by case,
 * and the one-time passwords given to new staff.
 */
#include <string.h>

#include "fixture.h"

static void hash_and_verify(void **state)
{
    (void)state;
    char h1[PB_PASSWORD_HASH_MAX + 1], h2[PB_PASSWORD_HASH_MAX + 1];
    assert_int_equal(pb_password_hash("correct horse battery", h1), PB_OK);
    assert_int_equal(pb_password_hash("correct horse battery", h2), PB_OK);
    assert_int_equal(strncmp(h1, "$argon2id$", 10), 0);
    assert_string_not_equal(h1, h2); /* salted */
    assert_true(pb_password_verify(h1, "correct horse battery"));
    assert_true(pb_password_verify(h2, "correct horse battery"));
    assert_false(pb_password_verify(h1, "correct horse batterY"));
    assert_false(pb_password_verify(h1, ""));
    assert_false(pb_password_verify("", "correct horse battery"));
    assert_false(pb_password_verify("$argon2id$garbage", "x"));
    assert_false(pb_password_needs_rehash(h1));
    char old[crypto_pwhash_STRBYTES];
    assert_int_equal(crypto_pwhash_str(old, "pw", 2, crypto_pwhash_OPSLIMIT_MIN,
                                       crypto_pwhash_MEMLIMIT_MIN),
                     0);
    assert_true(pb_password_needs_rehash(old));
}

/* The cost of new hashes: by name, never a downgrade at login, and back. */
static void hash_cost(void **state)
{
    (void)state;
    assert_string_equal(pb_password_cost(), "interactive"); /* the default */
    char strong[PB_PASSWORD_HASH_MAX + 1], weak[PB_PASSWORD_HASH_MAX + 1];
    char sensitive[crypto_pwhash_STRBYTES];
    assert_int_equal(pb_password_hash("correct horse battery", strong), PB_OK);
    assert_non_null(strstr(strong, "$m=65536,t=2,p=1$")); /* libsodium's INTERACTIVE */
    assert_int_equal(crypto_pwhash_str(sensitive, "pw", 2, crypto_pwhash_OPSLIMIT_MODERATE,
                                       crypto_pwhash_MEMLIMIT_MODERATE),
                     0);
    assert_false(pb_password_needs_rehash(sensitive)); /* stronger than today's: kept */

    assert_int_equal(pb_password_set_cost("bogus"), PB_ERR_FIELD_INVALID);
    assert_int_equal(pb_password_set_cost(NULL), PB_ERR_FIELD_INVALID);
    assert_string_equal(pb_password_cost(), "interactive"); /* a refused name changes nothing */

    assert_int_equal(pb_password_set_cost("min"), PB_OK);
    assert_string_equal(pb_password_cost(), "min");
    assert_int_equal(pb_password_hash("correct horse battery", weak), PB_OK);
    assert_non_null(strstr(weak, "$m=8,t=1,p=1$")); /* libsodium's minimum */
    assert_true(pb_password_verify(weak, "correct horse battery"));
    assert_false(pb_password_verify(weak, "correct horse batterY"));
    assert_false(pb_password_needs_rehash(weak));
    assert_false(pb_password_needs_rehash(strong)); /* never downgraded at login */
    assert_true(pb_password_verify(strong, "correct horse battery"));

    assert_int_equal(pb_password_set_cost("interactive"), PB_OK);
    assert_true(pb_password_needs_rehash(weak)); /* weaker than today's: upgraded */
    assert_false(pb_password_needs_rehash(strong));
    assert_true(pb_password_needs_rehash("$argon2i$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
    assert_true(pb_password_needs_rehash("$argon2id$garbage"));
    assert_true(pb_password_needs_rehash(""));
}

static void policy(void **state)
{
    (void)state;
    const char *weak[] = {
        "",                   /* empty */
        "short1!",            /* under 10 characters */
        "123456789012",       /* all digits */
        "aaaaaaaaaaaa",       /* too few distinct characters */
        "abababababab",       /* still too few */
        "Password123",        /* a well-known one */
        "qwertyuiop",         /* a well-known one */
        "tab\there and more", /* control character */
        "\xc3\x28 invalid utf8 sequence",
        "jonathan.smith-rocks", /* holds the email's local part (see below) */
    };
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++)
        if (pb_password_policy(weak[i], "jonathan.smith@example.com") != PB_ERR_PASSWORD_WEAK)
            fail_msg("accepted weak password #%zu", i);
    assert_int_equal(pb_password_policy(NULL, NULL), PB_ERR_PASSWORD_WEAK);
    char longpw[300];
    memset(longpw, 'x', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = 0;
    longpw[0] = 'a', longpw[1] = 'b', longpw[2] = 'c';
    assert_int_equal(pb_password_policy(longpw, NULL), PB_ERR_PASSWORD_WEAK); /* > 256 bytes */
    const char *fine[] = {"correct horse battery", "Tr0ub4dor&3x", "äöüßéèêàçñ", "twelve chars",
                          "jonathan.smith-rocks"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pb_password_policy(fine[i], "jonathan.smith@example.com"), PB_OK);
    assert_int_equal(pb_password_policy(fine[4], NULL), PB_OK); /* no email to compare */
    /* ten characters counted as characters, not bytes */
    assert_int_equal(pb_password_policy("äöüßéèêàç", NULL), PB_ERR_PASSWORD_WEAK); /* 9 */
}

static void one_time_passwords(void **state)
{
    (void)state;
    char a[PB_ONE_TIME_PASSWORD_MAX], b[PB_ONE_TIME_PASSWORD_MAX];
    pb_password_one_time(a);
    pb_password_one_time(b);
    assert_int_equal(strlen(a), 23);
    assert_true(a[5] == '-' && a[11] == '-' && a[17] == '-');
    assert_string_not_equal(a, b);
    assert_int_equal(strcspn(a, "0O1lI"), strlen(a));
    assert_int_equal(pb_password_policy(a, NULL), PB_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_and_verify),
        cmocka_unit_test(hash_cost),
        cmocka_unit_test(policy),
        cmocka_unit_test(one_time_passwords),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
