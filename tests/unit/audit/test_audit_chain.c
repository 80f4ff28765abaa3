/*
 * test_audit_chain.c — appending, the hash chain, validation, checkpoints and
 * the signing key: what pitboss writes verifies clean, every entry's hash
 * depends on its predecessor, an entry commits or rolls back with the caller's
 * transaction, bad entries are refused naming the field, checkpoints follow
 * their policy, and the key file is private and stable.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_fixture.h"

static void test_empty_log_verifies_clean(void **state)
{
    afx *f = *state;
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.entries, 0);
    assert_int_equal(sum.head_seq, 0);
    assert_int_equal(sum.first_broken_seq, 0);
}

static void test_append_then_verify_clean(void **state)
{
    afx *f = *state;
    afx_fill(f, 10);
    pb_audit_checkpoint_record cp = afx_checkpoint(f);
    assert_int_equal(cp.id, 1);
    assert_int_equal(cp.upto_seq, 10);
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.entries, 10);
    assert_int_equal(sum.head_seq, 10);
    assert_int_equal(sum.checkpoints, 1);
    assert_int_equal(sum.signed_upto, 10);
    assert_int_equal(sum.unsigned_entries, 0);
    assert_int_equal(sum.first_broken_seq, 0);
    assert_int_equal(sum.first_broken_checkpoint, 0);

    afx_fill(f, 3); /* entries after the checkpoint are unsigned, not broken */
    sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.head_seq, 13);
    assert_int_equal(sum.signed_upto, 10);
    assert_int_equal(sum.unsigned_entries, 3);
}

static void test_stored_fields_round_trip(void **state)
{
    afx *f = *state;
    afx_fill(f, 4); /* sample 1: demo2 adjustment ... sample 4: player block in demo */
    pb_audit_record r = afx_entry(f, 4);
    assert_int_equal(r.seq, 4);
    assert_false(r.malformed);
    assert_string_equal(r.actor_kind, "staff");
    assert_string_equal(r.actor_id, "staff-alice");
    assert_string_equal(r.actor_email, "alice@example.com");
    assert_string_equal(r.role, "support");
    assert_string_equal(r.brand, "demo");
    assert_string_equal(r.action, "player.block");
    assert_string_equal(r.target_kind, "player");
    assert_string_equal(r.target_id, "player-4");
    assert_string_equal(r.reason, "chargeback fraud — see ticket #42\nsecond line");
    assert_string_equal(r.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(r.ip, "203.0.113.7");
    assert_int_equal(r.at, 1795000000000000 + 3 * 1000000);
    pb_audit_record g = afx_entry(f, 3); /* the failed login: global, unknown actor */
    assert_string_equal(g.brand, "");
    assert_string_equal(g.actor_id, "");
    assert_string_equal(g.actor_email, "mallory@example.com");
    assert_string_equal(g.action, "staff.login_failed");
    assert_true(pb_id_unix_ms(&g.id) > 0);
}

typedef struct link_ctx {
    uint8_t prev[32];
    int checked;
} link_ctx;

/* For every entry: its hash is H(prev = predecessor's hash); any other prev, or any
 * changed field, gives a different hash. */
static int check_link(void *p, const pb_audit_record *e)
{
    link_ctx *x = p;
    uint8_t h[32], wrong_prev[32], other[32];
    pb_audit_entry_hash(e, x->prev, h);
    assert_memory_equal(h, e->hash, 32);
    memcpy(wrong_prev, x->prev, 32);
    wrong_prev[31] ^= 1;
    pb_audit_entry_hash(e, wrong_prev, other);
    assert_memory_not_equal(other, e->hash, 32);
    pb_audit_record changed = *e;
    changed.at += 1;
    pb_audit_entry_hash(&changed, x->prev, other);
    assert_memory_not_equal(other, e->hash, 32);
    changed = *e;
    changed.before = e->before ? NULL : "{}"; /* presence is covered, not just content */
    pb_audit_entry_hash(&changed, x->prev, other);
    assert_memory_not_equal(other, e->hash, 32);
    changed = *e;
    snprintf(changed.brand, sizeof changed.brand, "%s", e->brand[0] ? "" : "x");
    pb_audit_entry_hash(&changed, x->prev, other);
    assert_memory_not_equal(other, e->hash, 32);
    memcpy(x->prev, e->hash, 32);
    x->checked++;
    return 0;
}

static void test_chain_links_each_entry_to_its_predecessor(void **state)
{
    afx *f = *state;
    afx_fill(f, 8);
    link_ctx x = {.checked = 0}; /* seq 1's predecessor hash is all zero */
    assert_int_equal(pb_store_audit_entry_scan(f->conn, 0, check_link, &x), PB_STORE_OK);
    assert_int_equal(x.checked, 8);
    /* two entries with equal fields still differ: seq, id and prev are hashed */
    pb_audit_record a = afx_entry(f, 1), b = afx_entry(f, 5);
    assert_string_equal(a.action, b.action);
    assert_memory_not_equal(a.hash, b.hash, 32);
}

static void test_rolled_back_append_leaves_nothing(void **state)
{
    afx *f = *state;
    char buf[512];
    pb_audit_entry e = afx_sample(1, buf, sizeof buf);
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_audit_append(f->conn, &e, f->now), PB_OK);
    assert_int_equal(pb_audit_append(f->conn, &e, f->now), PB_OK);
    pb_store_rollback(f->conn);
    pb_audit_status st;
    assert_int_equal(pb_audit_status_get(f->conn, &st), PB_OK);
    assert_int_equal(st.head_seq, 0);

    afx_fill(f, 2);
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_audit_append(f->conn, &e, f->now), PB_OK);
    pb_store_rollback(f->conn);
    afx_append(f, &e); /* takes seq 3: the rolled-back seq 3 left no trace */
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.entries, 3);
    assert_int_equal(sum.head_seq, 3);
}

static void test_entries_in_one_transaction_commit_together(void **state)
{
    afx *f = *state;
    char buf[512];
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    for (int i = 1; i <= 3; i++) {
        pb_audit_entry e = afx_sample(i, buf, sizeof buf);
        assert_int_equal(pb_audit_append(f->conn, &e, f->now + i), PB_OK);
    }
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.head_seq, 3);
}

static void test_time_never_goes_backwards(void **state)
{
    afx *f = *state;
    char buf[512];
    pb_audit_entry e = afx_sample(2, buf, sizeof buf);
    afx_append(f, &e);
    f->now -= 60 * 1000000; /* a clock stepped back a minute */
    afx_append(f, &e);
    assert_int_equal(afx_entry(f, 2).at, afx_entry(f, 1).at);
    afx_seen s;
    assert_int_equal(afx_verify(f, &s).violations, 0);
}

/* Expects validate and append to refuse e naming `field`, and nothing written. */
static void expect_refused(afx *f, const pb_audit_entry *e, const char *field)
{
    const char *bad = NULL;
    assert_int_equal(pb_audit_validate(e, &bad), PB_ERR_FIELD_INVALID);
    assert_non_null(bad);
    if (strcmp(bad, field) != 0)
        fail_msg("expected field %s to be named, got %s", field, bad);
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_audit_append(f->conn, e, f->now), PB_ERR_FIELD_INVALID);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    pb_audit_status st;
    assert_int_equal(pb_audit_status_get(f->conn, &st), PB_OK);
    assert_int_equal(st.head_seq, 0);
}

static void expect_accepted(afx *f, const pb_audit_entry *e)
{
    const char *bad = "unset";
    assert_int_equal(pb_audit_validate(e, &bad), PB_OK);
    assert_null(bad);
    (void)f;
}

/* A string of n copies of c (caller frees). */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

static void test_invalid_entries_are_refused_naming_the_field(void **state)
{
    afx *f = *state;
    const pb_audit_entry ok = {.actor_kind = "staff", .actor_id = "s1", .action = "brand.update"};
    char *long65 = repeat('a', 65), *long33 = repeat('b', 33), *long1001 = repeat('r', 1001);
    char *json_big = repeat(' ', PB_AUDIT_JSON_MAX + 1);
    json_big[0] = '1';
    pb_audit_entry e;
#define REFUSE(member, value, field)  \
    do {                              \
        e = ok;                       \
        e.member = (value);           \
        expect_refused(f, &e, field); \
    } while (0)
    REFUSE(actor_kind, NULL, "actor_kind");
    REFUSE(actor_kind, "admin", "actor_kind");
    REFUSE(actor_id, "has space", "actor_id");
    REFUSE(actor_id, long65, "actor_id");
    REFUSE(actor_email, "\xff@example.com", "actor_email");
    REFUSE(actor_email, "a@b\nc", "actor_email");
    REFUSE(role, "Support", "role");
    REFUSE(brand, "de mo", "brand");
    REFUSE(brand, long33, "brand");
    REFUSE(action, NULL, "action");
    REFUSE(action, "player", "action");
    REFUSE(action, "Player.block", "action");
    REFUSE(action, "player..block", "action");
    REFUSE(action, "player.block.", "action");
    REFUSE(action, ".player.block", "action");
    REFUSE(action, long65, "action");
    REFUSE(target_kind, "Player", "target_kind");
    REFUSE(target_id, "p1", "target_id"); /* without a target_kind */
    REFUSE(before, "{bad json", "before");
    REFUSE(before, "", "before");
    REFUSE(before, "{\"a\":1} trailing", "before");
    REFUSE(before, json_big, "before");
    REFUSE(after, "[1,2", "after");
    REFUSE(reason, long1001, "reason");
    REFUSE(reason, "bell\a", "reason");
    REFUSE(reason, "\xc0\xaf overlong", "reason");
    REFUSE(trace_id, "not a trace!", "trace_id");
    REFUSE(ip, "300.1.1.1", "ip");
    REFUSE(ip, "localhost", "ip");
#undef REFUSE

    /* the limits themselves are accepted */
    char *reason1000 = repeat('r', 1000), *json_max = repeat(' ', PB_AUDIT_JSON_MAX);
    json_max[0] = '{';
    json_max[PB_AUDIT_JSON_MAX - 1] = '}';
    e = ok;
    e.reason = reason1000;
    e.before = json_max;
    e.after = "42"; /* any JSON value */
    e.actor_email = "ünïcödé@例え.jp";
    e.ip = "::1";
    e.target_kind = "brand";
    e.target_id = "demo";
    e.brand = "demo";
    e.role = "risk_aml";
    expect_accepted(f, &e);
    e = ok;
    e.actor_id = ""; /* an unknown actor */
    e.action = "a.b.c_d";
    expect_accepted(f, &e);
    afx_append(f, &e);
    free(long65);
    free(long33);
    free(long1001);
    free(json_big);
    free(reason1000);
    free(json_max);
}

static void test_checkpoint_due_policy(void **state)
{
    (void)state;
    int64_t t = 1795000000000000;
    pb_audit_checkpoint_record last = {.id = 1, .upto_seq = 100, .at = t};
    assert_false(pb_audit_checkpoint_due(NULL, 0, t));
    assert_true(pb_audit_checkpoint_due(NULL, 1, t));
    assert_false(pb_audit_checkpoint_due(&last, 100, t + PB_AUDIT_CHECKPOINT_EVERY_US * 5));
    assert_false(pb_audit_checkpoint_due(&last, 100 + PB_AUDIT_CHECKPOINT_EVERY_ENTRIES - 1,
                                         t + PB_AUDIT_CHECKPOINT_EVERY_US - 1));
    assert_true(pb_audit_checkpoint_due(&last, 100 + PB_AUDIT_CHECKPOINT_EVERY_ENTRIES, t + 1));
    assert_true(pb_audit_checkpoint_due(&last, 101, t + PB_AUDIT_CHECKPOINT_EVERY_US));
}

static void test_checkpoint_signs_only_new_heads(void **state)
{
    afx *f = *state;
    pb_audit_checkpoint_record cp;
    bool written = true;
    assert_int_equal(pb_audit_checkpoint(f->conn, f->key, f->now, &cp, &written), PB_OK);
    assert_false(written);
    assert_int_equal(cp.id, 0); /* an empty log has nothing to sign */

    afx_fill(f, 3);
    cp = afx_checkpoint(f);
    assert_int_equal(cp.id, 1);
    assert_int_equal(cp.upto_seq, 3);
    assert_string_equal(cp.key_id, pb_audit_key_id(f->key));
    assert_memory_equal(cp.public_key, pb_audit_key_public(f->key)->b, 32);
    assert_memory_equal(cp.head_hash, afx_entry(f, 3).hash, 32);

    assert_int_equal(pb_audit_checkpoint(f->conn, f->key, f->now, &cp, &written), PB_OK);
    assert_false(written); /* the head is already covered */
    assert_int_equal(cp.id, 1);

    afx_fill(f, 2);
    int64_t first_at = cp.at;
    assert_int_equal(pb_audit_checkpoint_if_due(f->conn, f->key, first_at + 1000000, &cp, &written),
                     PB_OK);
    assert_false(written);
    assert_int_equal(pb_audit_checkpoint_if_due(f->conn, f->key,
                                                first_at + PB_AUDIT_CHECKPOINT_EVERY_US, &cp,
                                                &written),
                     PB_OK);
    assert_true(written);
    assert_int_equal(cp.id, 2);
    assert_int_equal(cp.upto_seq, 5);

    pb_audit_status st;
    assert_int_equal(pb_audit_status_get(f->conn, &st), PB_OK);
    assert_int_equal(st.head_seq, 5);
    assert_int_equal(st.last_checkpoint.id, 2);
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.checkpoints, 2);
    assert_int_equal(sum.signed_upto, 5);
    assert_int_equal(sum.unsigned_entries, 0);
}

static void test_key_file_is_created_private_and_reloaded(void **state)
{
    afx *f = *state;
    char dir[400], path[500], err[512];
    snprintf(dir, sizeof dir, "%s/other-keys", f->dir);
    snprintf(path, sizeof path, "%s/%s", dir, PB_AUDIT_KEY_FILE);
    pb_audit_key *k = NULL, *again = NULL;
    assert_int_equal(pb_audit_key_load(dir, &k, err, sizeof err), PB_ERR_AUDIT_KEY_MISSING);
    assert_null(k);
    bool created = false;
    assert_int_equal(pb_audit_key_load_or_create(dir, &k, &created, err, sizeof err), PB_OK);
    assert_true(created);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(pb_audit_key_load_or_create(dir, &again, &created, err, sizeof err), PB_OK);
    assert_false(created);
    assert_memory_equal(pb_audit_key_public(k)->b, pb_audit_key_public(again)->b, 32);
    assert_memory_not_equal(pb_audit_key_public(k)->b, pb_audit_key_public(f->key)->b, 32);

    /* key id: hex of the first 8 bytes of SHA-256(public key) */
    uint8_t h[32];
    char hex[17];
    crypto_hash_sha256(h, pb_audit_key_public(k)->b, 32);
    sodium_bin2hex(hex, sizeof hex, h, 8);
    assert_string_equal(pb_audit_key_id(k), hex);

    char pkhex[65];
    pb_audit_pubkey parsed;
    pb_audit_pubkey_hex(pb_audit_key_public(k), pkhex);
    assert_int_equal(pb_audit_pubkey_parse(pkhex, &parsed), 0);
    assert_memory_equal(parsed.b, pb_audit_key_public(k)->b, 32);
    assert_int_equal(pb_audit_pubkey_parse("abc", &parsed), -1);
    pkhex[10] = 'z';
    assert_int_equal(pb_audit_pubkey_parse(pkhex, &parsed), -1);
    pb_audit_key_free(k);
    pb_audit_key_free(again);
}

static void test_insecure_or_malformed_key_files_are_refused(void **state)
{
    afx *f = *state;
    char path[500], err[512];
    snprintf(path, sizeof path, "%s/%s", f->keys, PB_AUDIT_KEY_FILE);
    pb_audit_key *k = NULL;
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(pb_audit_key_load(f->keys, &k, err, sizeof err), PB_ERR_AUDIT_KEY_MISSING);
    assert_non_null(strstr(err, "chmod 600"));
    /* an existing but unusable key is never replaced by a new one */
    assert_int_equal(pb_audit_key_load_or_create(f->keys, &k, NULL, err, sizeof err),
                     PB_ERR_AUDIT_KEY_MISSING);
    assert_null(k);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(pb_audit_key_load(f->keys, &k, err, sizeof err), PB_OK);
    assert_memory_equal(pb_audit_key_public(k)->b, pb_audit_key_public(f->key)->b, 32);
    pb_audit_key_free(k);

    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not-a-key\n", 10), 10);
    close(fd);
    k = NULL;
    assert_int_equal(pb_audit_key_load(f->keys, &k, err, sizeof err), PB_ERR_AUDIT_KEY_MISSING);
    assert_non_null(strstr(err, "malformed"));
    assert_null(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_log_verifies_clean, afx_setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_append_then_verify_clean, afx_setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_stored_fields_round_trip, afx_setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_chain_links_each_entry_to_its_predecessor, afx_setup,
                                        afx_teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_append_leaves_nothing, afx_setup,
                                        afx_teardown),
        cmocka_unit_test_setup_teardown(test_entries_in_one_transaction_commit_together, afx_setup,
                                        afx_teardown),
        cmocka_unit_test_setup_teardown(test_time_never_goes_backwards, afx_setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_entries_are_refused_naming_the_field,
                                        afx_setup, afx_teardown),
        cmocka_unit_test(test_checkpoint_due_policy),
        cmocka_unit_test_setup_teardown(test_checkpoint_signs_only_new_heads, afx_setup,
                                        afx_teardown),
        cmocka_unit_test_setup_teardown(test_key_file_is_created_private_and_reloaded, afx_setup,
                                        afx_teardown),
        cmocka_unit_test_setup_teardown(test_insecure_or_malformed_key_files_are_refused, afx_setup,
                                        afx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
