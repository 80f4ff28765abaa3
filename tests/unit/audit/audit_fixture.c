/* audit_fixture.c — see audit_fixture.h. Each test gets its own temporary directory. */
#include "audit_fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int afx_setup(void **state)
{
    afx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pbaudit.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/audit.db", f->dir);
    snprintf(f->keys, sizeof f->keys, "%s/keys", f->dir);
    char err[512];
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(pb_store_migrate(f->store, NULL, err, sizeof err), PB_STORE_OK);
    f->conn = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->conn);
    if (pb_audit_key_load_or_create(f->keys, &f->key, NULL, err, sizeof err) != PB_OK)
        fail_msg("key: %s", err);
    f->now = 1795000000000000; /* 2026-11-18T11:06:40Z */
    *state = f;
    return 0;
}

/* Removes every file in dir, then dir (one level of subdirectories). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[600];
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (unlink(p) != 0)
            remove_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

int afx_teardown(void **state)
{
    afx *f = *state;
    pb_audit_key_free(f->key);
    pb_store_disconnect(f->conn);
    pb_store_close(f->store);
    remove_tree(f->dir);
    free(f);
    return 0;
}

pb_audit_entry afx_sample(int i, char *buf, size_t cap)
{
    pb_audit_entry e;
    switch (i % 4) {
    case 0:
        snprintf(buf, cap, "player-%d", i);
        e = (pb_audit_entry){.actor_kind = "staff",
                             .actor_id = "staff-alice",
                             .actor_email = "alice@example.com",
                             .role = "support",
                             .brand = "demo",
                             .action = "player.block",
                             .target_kind = "player",
                             .target_id = buf,
                             .before = "{\"status\":\"active\"}",
                             .after = "{\"status\":\"blocked\"}",
                             .reason = "chargeback fraud — see ticket #42\nsecond line",
                             .trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
                             .ip = "203.0.113.7"};
        break;
    case 1:
        snprintf(buf, cap, "{\"amount\":\"%d.00\",\"currency\":\"EUR\"}", i);
        e = (pb_audit_entry){.actor_kind = "staff",
                             .actor_id = "staff-bob",
                             .actor_email = "bob@example.com",
                             .role = "finance",
                             .brand = "demo2",
                             .action = "ledger.adjustment",
                             .target_kind = "account",
                             .target_id = "42",
                             .after = buf,
                             .reason = "goodwill",
                             .ip = "2001:db8::1"};
        break;
    case 2:
        e = (pb_audit_entry){.actor_kind = "staff",
                             .actor_id = "staff-alice",
                             .actor_email = "alice@example.com",
                             .role = "support",
                             .action = "staff.login",
                             .ip = "203.0.113.7"};
        break;
    default:
        e = (pb_audit_entry){.actor_kind = "staff",
                             .actor_email = "mallory@example.com",
                             .action = "staff.login_failed",
                             .reason = "wrong password",
                             .ip = "198.51.100.23"};
        break;
    }
    return e;
}

void afx_append(afx *f, const pb_audit_entry *e)
{
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err err = pb_audit_append(f->conn, e, f->now);
    if (err != PB_OK) {
        pb_store_rollback(f->conn);
        fail_msg("append: %s", pb_err_code(err));
    }
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    f->now += 1000000;
}

void afx_fill(afx *f, int n)
{
    char buf[512];
    for (int i = 1; i <= n; i++) {
        pb_audit_entry e = afx_sample(i, buf, sizeof buf);
        afx_append(f, &e);
    }
}

pb_audit_checkpoint_record afx_checkpoint(afx *f)
{
    pb_audit_checkpoint_record cp;
    bool written = false;
    assert_int_equal(pb_audit_checkpoint(f->conn, f->key, f->now, &cp, &written), PB_OK);
    assert_true(written);
    return cp;
}

/* The verify callback: keeps each violation. */
static void collect(void *ctx, const char *kind, const char *message)
{
    afx_seen *s = ctx;
    if (s->n >= AFX_MAXV)
        return;
    snprintf(s->kind[s->n], sizeof s->kind[0], "%s", kind);
    snprintf(s->msg[s->n], sizeof s->msg[0], "%s", message);
    s->n++;
}

/* One verify with entries read chunk_rows at a time (0: the default). */
static pb_audit_verify_summary verify_chunked(afx *f, afx_seen *s, size_t chunk_rows)
{
    pb_audit_verify_summary sum;
    memset(s, 0, sizeof *s);
    pb_audit_verify_tune(chunk_rows, NULL, NULL);
    pb_err e = pb_audit_verify(f->conn, pb_audit_key_public(f->key), 1, collect, s, &sum);
    pb_audit_verify_tune(0, NULL, NULL);
    assert_int_equal(e, PB_OK);
    return sum;
}

pb_audit_verify_summary afx_verify(afx *f, afx_seen *s)
{
    pb_audit_verify_summary sum = verify_chunked(f, s, 0);
    for (int i = 0; i < s->n; i++)
        print_message("# violation %s: %s\n", s->kind[i], s->msg[i]);
    if (sum.first_broken_seq)
        print_message("# first broken entry: %s\n", sum.first_broken);
    assert_int_equal(sum.violations, s->n);
    /* read in chunks of 1 and 3 entries (each its own read transaction), the log
     * gives the same summary and the same violations, in the same order */
    static const size_t chunks[] = {1, 3};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        afx_seen again;
        pb_audit_verify_summary sum2 = verify_chunked(f, &again, chunks[i]);
        assert_memory_equal(&sum2, &sum, sizeof sum);
        assert_memory_equal(&again, s, sizeof again);
    }
    return sum;
}

void afx_sql(afx *f, const char *sql)
{
    if (pb_store_exec_raw(f->conn, sql) != PB_STORE_OK)
        fail_msg("%s: %s", sql, pb_store_errmsg(f->conn));
}

int afx_count(const afx_seen *s, const char *kind)
{
    int c = 0;
    for (int i = 0; i < s->n; i++)
        c += strcmp(s->kind[i], kind) == 0;
    return c;
}

int afx_names(const char *msg, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = strstr(msg, needle); p; p = strstr(p + 1, needle))
        if (p[n] < '0' || p[n] > '9')
            return 1;
    return 0;
}

typedef struct find_ctx {
    int64_t seq;
    pb_audit_record r;
    bool found;
} find_ctx;

/* Keeps the row with the wanted seq. */
static int find_row(void *p, const pb_audit_record *e)
{
    find_ctx *x = p;
    if (e->seq != x->seq)
        return 0;
    x->r = *e;
    x->r.before = x->r.after = NULL;
    x->found = true;
    return 1;
}

pb_audit_record afx_entry(afx *f, int64_t seq)
{
    find_ctx x = {.seq = seq};
    assert_int_equal(pb_store_audit_entry_scan(f->conn, seq - 1, find_row, &x), PB_STORE_OK);
    assert_true(x.found);
    return x.r;
}
