/*
 * test_audit_export.c — the export reads the log in chunks, each in its own
 * short read transaction, and still writes what one snapshot taken at its start
 * would give (src/audit/export.c).
 *
 *   - the same bytes whatever the chunk size (1, 2, 3, 5 rows or the default),
 *     for the whole log and for time windows that cut through the checkpoints;
 *   - the bounds are fixed at begin: entries appended and checkpoints signed
 *     after it (one of them over the last exported seq) are not in the export;
 *   - no snapshot is held while the consumer is written to: from inside the
 *     consumer's writes, a writer appends and another connection's
 *     wal_checkpoint(TRUNCATE) completes and empties the WAL (with one snapshot
 *     for the whole export it is refused as busy);
 *   - a chunk also ends at 256 KiB of output: with entries of about 60 KB, a
 *     row changed after the first chunk was read is exported as changed from
 *     the sixth entry on;
 *   - verify reads in chunks too (src/audit/verify.c): between two of them a
 *     writer appends and wal_checkpoint(TRUNCATE) empties the WAL, and the
 *     entries appended meanwhile are not counted (the head is fixed first).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit_fixture.h"

#define BASE 1795000000000000LL /* f->now at setup: entry k is dated BASE + (k - 1) s */
#define NOW 1796000000000000LL  /* the header's exported_at, fixed so texts compare */

/* Exports with o on c into memory; asserts success; the caller frees the text. */
static char *export_on(pb_store_conn *c, const pb_audit_export_opts *o,
                       pb_audit_export_summary *sum)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_int_equal(pb_audit_export(c, o, m, sum), PB_OK);
    assert_int_equal(fclose(m), 0);
    return buf;
}

/* Counts occurrences of needle in s. */
static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_chunks_same_bytes(void **state)
{
    afx *f = *state;
    afx_fill(f, 10);
    afx_checkpoint(f); /* over 10 */
    afx_fill(f, 7);
    afx_checkpoint(f); /* over 17 */
    afx_fill(f, 2);
    afx_checkpoint(f); /* over 19 */
    afx_fill(f, 4);    /* 23 entries, the last 4 unsigned */
    const int64_t windows[][2] = {
        {0, 0},
        {BASE + 4000000, BASE + 12000000}, /* seqs 5..12: checkpoint 1 */
        {BASE + 10000000, 0},              /* seqs 11..23: checkpoints 2 and 3 */
        {0, BASE + 17000000},              /* seqs 1..17: the range ends on checkpoint 2 */
        {BASE + 100000000, 0},             /* nothing */
    };
    const size_t sizes[] = {1, 2, 3, 5};
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        pb_audit_export_opts o = {.since_us = windows[w][0],
                                  .until_us = windows[w][1],
                                  .now_us = NOW,
                                  .keys = pb_audit_key_public(f->key),
                                  .nkeys = 1};
        pb_audit_export_summary want_sum, sum;
        char *want = export_on(f->conn, &o, &want_sum); /* one chunk: 1,000 rows */
        assert_true(w == 4 ? want_sum.entries == 0 : want_sum.entries > 0);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            o.chunk_rows = sizes[i];
            char *got = export_on(f->conn, &o, &sum);
            if (strcmp(got, want) != 0)
                fail_msg("window %zu, chunks of %zu rows: the export differs:\n%s\n---\n%s", w,
                         sizes[i], got, want);
            assert_memory_equal(&sum, &want_sum, sizeof sum);
            free(got);
        }
        free(want);
    }
}

static void test_bounds_fixed_at_begin(void **state)
{
    afx *f = *state;
    afx_fill(f, 10);
    afx_checkpoint(f); /* over 10 */
    afx_fill(f, 5);    /* head 15 */
    pb_audit_export_opts o = {
        .now_us = NOW, .keys = pb_audit_key_public(f->key), .nkeys = 1, .chunk_rows = 2};
    pb_audit_export_summary want_sum, plan, sum;
    char *want = export_on(f->conn, &o, &want_sum);

    char err[256];
    pb_store_conn *c = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(c);
    pb_audit_exporter *x;
    assert_int_equal(pb_audit_export_begin(c, &o, &x, &plan), PB_OK);
    assert_int_equal(plan.entries, 15);
    assert_int_equal(plan.checkpoints, 1);
    /* after begin: a checkpoint over seq 15 (inside the range), more entries, another */
    pb_audit_checkpoint_record cp = afx_checkpoint(f);
    assert_int_equal(cp.upto_seq, 15);
    afx_fill(f, 3);
    afx_checkpoint(f);

    char *got = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&got, &len);
    assert_non_null(m);
    assert_int_equal(pb_audit_export_write(x, m, &sum), PB_OK);
    assert_int_equal(fclose(m), 0);
    pb_audit_export_end(x);
    pb_store_disconnect(c);
    if (strcmp(got, want) != 0)
        fail_msg("the export changed with what was written after begin:\n%s\n---\n%s", got, want);
    assert_int_equal(sum.entries, 15);
    assert_int_equal(sum.last_seq, 15);
    assert_int_equal(sum.checkpoints, 1);
    assert_int_equal(count(got, "\"type\":\"checkpoint\""), 1);
    free(got);
    free(want);
}

/* ---- a consumer that lets a writer and a checkpointer run between its writes */

typedef struct probe {
    afx *f;
    sqlite3 *db; /* another connection, as an operator's or the server's checkpointer */
    char *text;
    size_t len;
    int writes, appended, append_failed, checkpoints, refused;
    const char *update; /* SQL run once, at the first write holding an entry line */
    char vbuf[1024];    /* the FILE's buffer (glibc ignores the size without one) */
} probe;

/* The cookie's write: keeps the bytes, then appends an entry and runs a TRUNCATE
 * checkpoint, or runs p->update once. Failures are counted (asserted later:
 * cmocka must not jump out of stdio). */
static ssize_t probe_write(void *cookie, const char *buf, size_t size)
{
    probe *p = cookie;
    char *t = realloc(p->text, p->len + size + 1);
    if (!t)
        return -1;
    memcpy(t + p->len, buf, size);
    p->len += size;
    t[p->len] = 0;
    p->text = t;
    p->writes++;
    if (p->update) {
        if (strstr(p->text, "\"type\":\"entry\"")) {
            if (sqlite3_exec(p->db, p->update, NULL, NULL, NULL) != SQLITE_OK)
                p->append_failed++;
            p->update = NULL;
        }
        return (ssize_t)size;
    }
    char b[512];
    pb_audit_entry e = afx_sample(p->writes, b, sizeof b);
    bool ok = pb_store_begin(p->f->conn, PB_STORE_WRITE) == PB_STORE_OK &&
              pb_audit_append(p->f->conn, &e, NOW + p->writes) == PB_OK &&
              pb_store_commit(p->f->conn) == PB_STORE_OK;
    if (!ok)
        pb_store_rollback(p->f->conn);
    p->appended += ok;
    p->append_failed += !ok;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(p->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    /* busy, WAL frames, frames copied: 0, 0, 0 once the WAL is emptied */
    bool done = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 0 &&
                sqlite3_column_int(st, 1) == 0;
    sqlite3_finalize(st);
    p->checkpoints++;
    p->refused += !done;
    return (ssize_t)size;
}

/* A FILE* onto p, with a small buffer so that it writes many times. */
static FILE *probe_open(probe *p, afx *f)
{
    p->f = f;
    assert_int_equal(sqlite3_open_v2(f->path, &p->db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    FILE *out = fopencookie(p, "w", (cookie_io_functions_t){.write = probe_write});
    assert_non_null(out);
    assert_int_equal(setvbuf(out, p->vbuf, _IOFBF, sizeof p->vbuf), 0);
    return out;
}

static void test_no_snapshot_while_writing(void **state)
{
    afx *f = *state;
    afx_fill(f, 30);
    afx_checkpoint(f);
    pb_audit_export_opts o = {
        .now_us = NOW, .keys = pb_audit_key_public(f->key), .nkeys = 1, .chunk_rows = 3};
    pb_audit_export_summary want_sum, sum;
    char *want = export_on(f->conn, &o, &want_sum);

    char err[256];
    pb_store_conn *c = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(c);
    probe p = {0};
    FILE *out = probe_open(&p, f);
    assert_int_equal(pb_audit_export(c, &o, out, &sum), PB_OK);
    assert_int_equal(fclose(out), 0);
    pb_store_disconnect(c);
    sqlite3_close(p.db);

    assert_true(p.checkpoints > 10); /* a 19 KB export through a 1 KB buffer */
    assert_int_equal(p.append_failed, 0);
    assert_int_equal(p.appended, p.checkpoints);
    if (p.refused)
        fail_msg("%d of %d TRUNCATE checkpoints during the export could not empty the WAL: a "
                 "snapshot was held while the consumer was written to",
                 p.refused, p.checkpoints);
    struct stat st;
    char wal[400];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_equal(stat(wal, &st), 0);
    assert_int_equal(st.st_size, 0); /* the last checkpoint emptied it */
    /* and the export is what it was before the writer went on */
    assert_non_null(p.text);
    assert_string_equal(p.text, want);
    assert_int_equal(sum.entries, 30);
    free(p.text);
    free(want);
}

static void test_chunk_ends_at_256k(void **state)
{
    afx *f = *state;
    static char big[60020]; /* about 60 KB per line: the fifth passes 256 KiB */
    snprintf(big, sizeof big, "{\"note\":\"%60000d\"}", 7);
    for (int i = 0; i < 8; i++) {
        pb_audit_entry e = {.actor_kind = "staff",
                            .actor_id = "s1",
                            .action = "player.note",
                            .target_kind = "player",
                            .target_id = "p1",
                            .after = big,
                            .reason = "before"};
        afx_append(f, &e);
    }
    pb_audit_export_opts o = {.now_us = NOW}; /* the default: 1,000 rows or 256 KiB */
    char err[256];
    pb_store_conn *c = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(c);
    probe p = {.update = "UPDATE audit_entry SET reason='after'"};
    FILE *out = probe_open(&p, f);
    assert_int_equal(setvbuf(out, NULL, _IONBF, 0), 0); /* each chunk reaches the probe whole */
    pb_audit_export_summary sum;
    assert_int_equal(pb_audit_export(c, &o, out, &sum), PB_OK);
    assert_int_equal(fclose(out), 0);
    pb_store_disconnect(c);
    sqlite3_close(p.db);
    assert_int_equal(p.append_failed, 0);
    assert_int_equal(sum.entries, 8);
    assert_non_null(p.text);
    /* the first chunk (5 rows: 4 are under 256 KiB) was read before the change, the
     * rest after it: a row changed behind pitboss's back shows in the next chunk */
    assert_int_equal(count(p.text, "\"reason\":\"before\""), 5);
    assert_int_equal(count(p.text, "\"reason\":\"after\""), 3);
    free(p.text);
}

/* Between two chunks of a verify: the probe appends an entry and checkpoints. */
static void verify_between(void *ctx)
{
    probe *p = ctx;
    char one[1] = {0};
    probe_write(p, one, 0);
}

static void test_verify_holds_no_snapshot(void **state)
{
    afx *f = *state;
    afx_fill(f, 24);
    afx_checkpoint(f);
    char err[256];
    pb_store_conn *c = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(c);
    probe p = {.f = f};
    assert_int_equal(sqlite3_open_v2(f->path, &p.db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    pb_audit_verify_tune(5, verify_between, &p);
    pb_audit_verify_summary sum;
    pb_err e = pb_audit_verify(c, pb_audit_key_public(f->key), 1, NULL, NULL, &sum);
    pb_audit_verify_tune(0, NULL, NULL);
    pb_store_disconnect(c);
    sqlite3_close(p.db);
    free(p.text);
    assert_int_equal(e, PB_OK);
    assert_int_equal(p.checkpoints, 4); /* 24 entries in chunks of 5: 4 pauses */
    assert_int_equal(p.append_failed, 0);
    if (p.refused)
        fail_msg("%d of %d TRUNCATE checkpoints during verify could not empty the WAL: a "
                 "snapshot was held across the chunks",
                 p.refused, p.checkpoints);
    assert_int_equal(sum.violations, 0);
    assert_int_equal(sum.entries, 24); /* as of its start: not the 4 appended since */
    assert_int_equal(sum.head_seq, 24);
    assert_int_equal(sum.signed_upto, 24);
    /* the log, entries appended meanwhile included, verifies afterwards */
    afx_seen seen;
    pb_audit_verify_summary after = afx_verify(f, &seen);
    assert_int_equal(after.violations, 0);
    assert_int_equal(after.entries, 28);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, afx_setup, afx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_chunks_same_bytes),         T(test_bounds_fixed_at_begin),
        T(test_no_snapshot_while_writing), T(test_chunk_ends_at_256k),
        T(test_verify_holds_no_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
