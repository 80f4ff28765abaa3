/*
 * test_audit_tamper.c — pb_audit_verify against audit tables changed by SQL.
 *
 * Each case starts from a fresh database holding twelve entries (four shapes
 * cycling, see afx_sample) and one checkpoint, signed by the trusted key, that
 * covers seqs 1..10; seqs 11 and 12 are not yet signed. It checks verify is
 * clean, changes the rows directly as an attacker with database access would,
 * and asserts that verify reports the right violation and names the right
 * first broken entry (or checkpoint).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_fixture.h"

/* The common starting point: 12 entries, checkpoint 1 over seq 10, verify clean. */
static void build(afx *f)
{
    afx_fill(f, 10);
    afx_checkpoint(f);
    afx_fill(f, 2);
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.signed_upto, 10);
    assert_int_equal(sum.unsigned_entries, 2);
}

/* Changes one field of seq 3 with `sql` and expects exactly one hash_mismatch naming
 * seq 3 and its id, and "seq 3 (id …): hash mismatch" as the first broken entry. */
static void expect_seq3_mismatch(afx *f, const char *sql)
{
    build(f);
    pb_audit_record before = afx_entry(f, 3);
    char id[PB_ID_STR_LEN + 1], want[128];
    pb_id_to_string(&before.id, id);
    afx_sql(f, sql);
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_true(sum.violations >= 1);
    assert_int_equal(afx_count(&s, "hash_mismatch"), 1);
    for (int i = 0; i < s.n; i++)
        if (strcmp(s.kind[i], "hash_mismatch") == 0) {
            assert_true(afx_names(s.msg[i], "entry seq 3"));
            assert_non_null(strstr(s.msg[i], id));
        }
    assert_int_equal(sum.first_broken_seq, 3);
    snprintf(want, sizeof want, "seq 3 (id %s): hash mismatch", id);
    assert_string_equal(sum.first_broken, want);
    assert_int_equal(sum.first_broken_checkpoint, 0);
}

static void test_changed_action(void **state)
{
    expect_seq3_mismatch(*state, "UPDATE audit_entry SET action='staff.logout' WHERE seq=3");
}

static void test_changed_before(void **state)
{
    /* seq 4 is a player block with before/after; make seq 3 look like one */
    expect_seq3_mismatch(*state, "UPDATE audit_entry SET before='{\"status\":\"active\"}' "
                                 "WHERE seq=3");
}

static void test_changed_after(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "UPDATE audit_entry SET after='{\"amount\":\"9999.00\",\"currency\":\"EUR\"}' "
               "WHERE seq=5");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 1);
    assert_string_equal(s.kind[0], "hash_mismatch");
    assert_int_equal(sum.first_broken_seq, 5);
}

static void test_removed_after(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "UPDATE audit_entry SET after=NULL WHERE seq=4");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 1);
    assert_int_equal(sum.first_broken_seq, 4);
}

static void test_changed_reason(void **state)
{
    expect_seq3_mismatch(*state, "UPDATE audit_entry SET reason='routine check' WHERE seq=3");
}

static void test_changed_actor(void **state)
{
    expect_seq3_mismatch(*state, "UPDATE audit_entry SET actor_id='staff-bob' WHERE seq=3");
}

static void test_changed_actor_kind(void **state)
{
    expect_seq3_mismatch(*state, "UPDATE audit_entry SET actor_kind='system' WHERE seq=3");
}

static void test_changed_time(void **state)
{
    /* one microsecond later: still in order, so only the hash gives it away */
    expect_seq3_mismatch(*state, "UPDATE audit_entry SET at=at+1 WHERE seq=3");
}

static void test_backdated_time(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "UPDATE audit_entry SET at=at-3600000000 WHERE seq=3");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(afx_count(&s, "hash_mismatch"), 1);
    assert_int_equal(afx_count(&s, "time_order"), 1);
    assert_int_equal(sum.first_broken_seq, 3);
}

static void test_changed_brand(void **state)
{
    /* seq 3 is global (brand NULL): pin it on a brand */
    expect_seq3_mismatch(*state, "UPDATE audit_entry SET brand='demo' WHERE seq=3");
}

static void test_changed_trace_id(void **state)
{
    expect_seq3_mismatch(*state,
                         "UPDATE audit_entry SET trace_id='00000000000000000000000000000000' "
                         "WHERE seq=3");
}

static void test_changed_ip(void **state)
{
    expect_seq3_mismatch(*state, "UPDATE audit_entry SET ip='10.0.0.1' WHERE seq=3");
}

static void test_changed_target(void **state)
{
    expect_seq3_mismatch(*state, "UPDATE audit_entry SET target_kind='player', "
                                 "target_id='player-1' WHERE seq=3");
}

static void test_changed_id(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "UPDATE audit_entry SET id=randomblob(16) WHERE seq=3");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 1);
    assert_string_equal(s.kind[0], "hash_mismatch");
    assert_true(afx_names(s.msg[0], "entry seq 3"));
    assert_int_equal(sum.first_broken_seq, 3); /* named with the id it now has */
    assert_non_null(strstr(sum.first_broken, "hash mismatch"));
}

static void test_stored_hash_changed(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "UPDATE audit_entry SET hash=randomblob(32) WHERE seq=3");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    /* seq 3 no longer matches its hash, and seq 4 no longer links to seq 3 */
    assert_int_equal(afx_count(&s, "hash_mismatch"), 2);
    assert_int_equal(sum.first_broken_seq, 3);
}

static void test_deleted_entry_is_a_gap(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "DELETE FROM audit_entry WHERE seq=3");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(afx_count(&s, "seq_gap"), 1);
    assert_int_equal(afx_count(&s, "hash_mismatch"), 0); /* seq 4 itself is intact */
    for (int i = 0; i < s.n; i++)
        if (strcmp(s.kind[i], "seq_gap") == 0)
            assert_true(afx_names(s.msg[i], "entry seq 3"));
    assert_int_equal(sum.first_broken_seq, 3);
    assert_string_equal(sum.first_broken, "seq 3 (missing): deleted");
    assert_int_equal(sum.entries, 11);
}

static void test_deleted_first_entries(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "DELETE FROM audit_entry WHERE seq<=2");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(afx_count(&s, "seq_gap"), 1);
    assert_true(afx_names(s.msg[0], "seq 1..2"));
    assert_int_equal(sum.first_broken_seq, 1);
}

static void test_deleted_signed_last_entry(void **state)
{
    afx *f = *state;
    afx_fill(f, 10);
    afx_checkpoint(f); /* covers seq 10, the last entry */
    afx_sql(f, "DELETE FROM audit_entry WHERE seq=10");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 1);
    assert_string_equal(s.kind[0], "checkpoint_beyond_head");
    assert_true(afx_names(s.msg[0], "through seq 10"));
    assert_true(afx_names(s.msg[0], "ends at seq 9"));
    assert_int_equal(sum.first_broken_seq, 10);
    assert_non_null(strstr(sum.first_broken, "seq 10 (missing): removed from the end"));
}

static void test_deleted_signed_entries_with_unsigned_after_them(void **state)
{
    afx *f = *state;
    build(f); /* checkpoint at 10, entries 11 and 12 after it */
    afx_sql(f, "DELETE FROM audit_entry WHERE seq>=10");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(afx_count(&s, "checkpoint_beyond_head"), 1);
    assert_int_equal(sum.first_broken_seq, 10);
}

/* The boundary of what the log can prove: an entry no checkpoint covers yet can be
 * cut from the end unnoticed; verify reports such entries as unsigned, and the
 * checkpoint policy keeps that window short. */
static void test_unsigned_tail_is_reported_as_unsigned(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "DELETE FROM audit_entry WHERE seq=12");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.signed_upto, 10);
    assert_int_equal(sum.unsigned_entries, 1);
}

static void test_renumbered_entry(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "DELETE FROM audit_entry WHERE seq=5; UPDATE audit_entry SET seq=5 WHERE seq=6");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_true(afx_count(&s, "hash_mismatch") + afx_count(&s, "seq_gap") >= 1);
    assert_int_equal(sum.first_broken_seq, 5);
}

static void test_oversize_text_is_malformed(void **state)
{
    afx *f = *state;
    build(f);
    /* the first 1000 bytes hash like the original would: the reader must not trim */
    afx_sql(f, "UPDATE audit_entry SET reason=reason || printf('%.1200c', 'x') WHERE seq=3");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(afx_count(&s, "malformed"), 1);
    assert_int_equal(sum.first_broken_seq, 3);
    assert_non_null(strstr(sum.first_broken, "malformed"));
}

static void test_nul_byte_is_malformed(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "UPDATE audit_entry SET reason=CAST(reason || char(0) || 'hidden' AS TEXT) "
               "WHERE seq=4");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(afx_count(&s, "malformed"), 1);
    assert_int_equal(sum.first_broken_seq, 4);
}

static void test_forged_checkpoint_signature(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "UPDATE audit_checkpoint SET signature=randomblob(64) WHERE id=1");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 1);
    assert_string_equal(s.kind[0], "checkpoint_signature");
    assert_true(afx_names(s.msg[0], "checkpoint id 1"));
    assert_int_equal(sum.first_broken_checkpoint, 1);
    assert_int_equal(sum.first_broken_seq, 0); /* the entries themselves are intact */
    assert_int_equal(sum.signed_upto, 0);
    assert_int_equal(sum.unsigned_entries, 12);
}

static void test_checkpoint_moved_to_another_head(void **state)
{
    afx *f = *state;
    build(f);
    /* claim the checkpoint signed seq 12: the signature covers upto_seq and head_hash */
    afx_sql(f, "UPDATE audit_checkpoint SET upto_seq=12, "
               "head_hash=(SELECT hash FROM audit_entry WHERE seq=12)");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 1);
    assert_string_equal(s.kind[0], "checkpoint_signature");
    assert_int_equal(sum.signed_upto, 0);
}

static void test_checkpoint_key_id_changed(void **state)
{
    afx *f = *state;
    build(f);
    afx_sql(f, "UPDATE audit_checkpoint SET key_id='0000000000000000'");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 1);
    assert_string_equal(s.kind[0], "checkpoint_key_id");
    assert_int_equal(sum.first_broken_checkpoint, 1);
}

/* A second key pair in its own directory (the attacker's, or a retired one). */
static pb_audit_key *other_key(afx *f)
{
    char dir[400], err[512];
    pb_audit_key *k = NULL;
    snprintf(dir, sizeof dir, "%s/attacker", f->dir);
    if (pb_audit_key_load_or_create(dir, &k, NULL, err, sizeof err) != PB_OK)
        fail_msg("%s", err);
    return k;
}

static void test_checkpoint_by_untrusted_key(void **state)
{
    afx *f = *state;
    build(f);
    pb_audit_key *k = other_key(f);
    pb_audit_checkpoint_record cp;
    bool written = false;
    assert_int_equal(pb_audit_checkpoint(f->conn, k, f->now, &cp, &written), PB_OK);
    assert_true(written);
    assert_int_equal(cp.id, 2);
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 1);
    assert_string_equal(s.kind[0], "checkpoint_untrusted");
    assert_non_null(strstr(s.msg[0], pb_audit_key_id(k)));
    assert_int_equal(sum.first_broken_checkpoint, 2);
    assert_int_equal(sum.signed_upto, 10); /* only the trusted checkpoint vouches */

    /* a verifier that trusts both keys accepts both checkpoints */
    pb_audit_pubkey both[2] = {*pb_audit_key_public(f->key), *pb_audit_key_public(k)};
    assert_int_equal(pb_audit_verify(f->conn, both, 2, NULL, NULL, &sum), PB_OK);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.signed_upto, 12);
    /* and one that trusts nothing accepts neither */
    assert_int_equal(pb_audit_verify(f->conn, NULL, 0, NULL, NULL, &sum), PB_OK);
    assert_int_equal(sum.violations, 2);
    assert_int_equal(sum.signed_upto, 0);
    pb_audit_key_free(k);
}

typedef struct rehash_ctx {
    afx *f;
    int64_t from;
    uint8_t prev[32];
    char sql[64][160];
    int n;
} rehash_ctx;

/* The attacker's tool: recompute every hash from `from` on, as pitboss would. */
static int rehash_row(void *p, const pb_audit_record *e)
{
    rehash_ctx *x = p;
    if (e->seq >= x->from) {
        pb_audit_record r = *e;
        char hex[65];
        pb_audit_entry_hash(&r, x->prev, r.hash);
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", r.hash[i]);
        assert_true(x->n < 64);
        snprintf(x->sql[x->n++], sizeof x->sql[0],
                 "UPDATE audit_entry SET hash=X'%s' WHERE seq=%lld", hex, (long long)e->seq);
        memcpy(x->prev, r.hash, 32);
    } else {
        memcpy(x->prev, e->hash, 32);
    }
    return 0;
}

/* Changes the reason of seq `changed`, then re-hashes the chain from there on. */
static void change_and_rehash(afx *f, int64_t changed)
{
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE audit_entry SET reason='nothing to see' WHERE seq=%lld",
             (long long)changed);
    afx_sql(f, sql);
    rehash_ctx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    x->f = f;
    x->from = changed;
    assert_int_equal(pb_store_audit_entry_scan(f->conn, 0, rehash_row, x), PB_STORE_OK);
    for (int i = 0; i < x->n; i++)
        afx_sql(f, x->sql[i]);
    free(x);
}

static void test_rehashed_chain_is_caught_by_the_checkpoint(void **state)
{
    afx *f = *state;
    build(f);
    change_and_rehash(f, 3);
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(afx_count(&s, "hash_mismatch"), 0); /* the chain itself is consistent */
    assert_int_equal(afx_count(&s, "checkpoint_mismatch"), 1);
    assert_true(afx_names(s.msg[0], "checkpoint id 1"));
    assert_true(afx_names(s.msg[0], "seqs 1..10"));
    assert_int_equal(sum.first_broken_seq, 10);
    assert_non_null(strstr(sum.first_broken, "differs from the hash checkpoint id 1 signed"));
    assert_int_equal(sum.signed_upto, 0);
}

static void test_rehashed_chain_is_narrowed_between_checkpoints(void **state)
{
    afx *f = *state;
    afx_fill(f, 5);
    afx_checkpoint(f); /* id 1 over seq 5 */
    afx_fill(f, 5);
    afx_checkpoint(f); /* id 2 over seq 10 */
    change_and_rehash(f, 7);
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 1);
    assert_string_equal(s.kind[0], "checkpoint_mismatch");
    assert_true(afx_names(s.msg[0], "seqs 6..10"));
    assert_int_equal(sum.first_broken_seq, 10);
    assert_int_equal(sum.signed_upto, 5);
}

static void test_deleted_checkpoint_is_a_gap(void **state)
{
    afx *f = *state;
    afx_fill(f, 3);
    afx_checkpoint(f);
    afx_fill(f, 3);
    afx_checkpoint(f);
    afx_fill(f, 3);
    afx_checkpoint(f);
    afx_sql(f, "DELETE FROM audit_checkpoint WHERE id=2");
    afx_seen s;
    pb_audit_verify_summary sum = afx_verify(f, &s);
    assert_int_equal(sum.violations, 1);
    assert_string_equal(s.kind[0], "checkpoint_gap");
    assert_int_equal(sum.first_broken_checkpoint, 2);
    assert_int_equal(sum.signed_upto, 9);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, afx_setup, afx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_changed_action),
        T(test_changed_before),
        T(test_changed_after),
        T(test_removed_after),
        T(test_changed_reason),
        T(test_changed_actor),
        T(test_changed_actor_kind),
        T(test_changed_time),
        T(test_backdated_time),
        T(test_changed_brand),
        T(test_changed_trace_id),
        T(test_changed_ip),
        T(test_changed_target),
        T(test_changed_id),
        T(test_stored_hash_changed),
        T(test_deleted_entry_is_a_gap),
        T(test_deleted_first_entries),
        T(test_deleted_signed_last_entry),
        T(test_deleted_signed_entries_with_unsigned_after_them),
        T(test_unsigned_tail_is_reported_as_unsigned),
        T(test_renumbered_entry),
        T(test_oversize_text_is_malformed),
        T(test_nul_byte_is_malformed),
        T(test_forged_checkpoint_signature),
        T(test_checkpoint_moved_to_another_head),
        T(test_checkpoint_key_id_changed),
        T(test_checkpoint_by_untrusted_key),
        T(test_rehashed_chain_is_caught_by_the_checkpoint),
        T(test_rehashed_chain_is_narrowed_between_checkpoints),
        T(test_deleted_checkpoint_is_a_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
