/* audit_fixture.h — a fresh migrated SQLite database and a signing key for each audit test. */
#ifndef PB_TEST_AUDIT_FIXTURE_H
#define PB_TEST_AUDIT_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "audit/audit.h"

#define AFX_MAXV 64

typedef struct afx {
    char dir[256];
    char path[320]; /* the database */
    char keys[320]; /* the keys directory */
    pb_store *store;
    pb_store_conn *conn;
    pb_audit_key *key; /* the trusted signing key (in keys/) */
    int64_t now;       /* the clock the helpers date entries with; +1 s per append */
} afx;

/* Violations collected by afx_verify(). */
typedef struct afx_seen {
    int n;
    char kind[AFX_MAXV][40];
    char msg[AFX_MAXV][512];
} afx_seen;

/* cmocka setup/teardown: *state becomes an afx*. */
int afx_setup(void **state);
int afx_teardown(void **state);

/* Sample entry i (deterministic, four shapes cycling: a staff member blocking a
 * player in brand "demo", a ledger adjustment in "demo2", a global staff login,
 * a failed login by an unknown actor). Strings live in `buf` (≥ 512 bytes). */
pb_audit_entry afx_sample(int i, char *buf, size_t cap);
/* Appends e in its own write transaction, dated f->now; advances f->now by 1 s. */
void afx_append(afx *f, const pb_audit_entry *e);
/* Appends samples 1..n (entry seq k is sample k on a fresh log). */
void afx_fill(afx *f, int n);
/* Signs a checkpoint with f->key; asserts one was written and returns it. */
pb_audit_checkpoint_record afx_checkpoint(afx *f);
/* Verifies trusting f->key only; collects violations into s and prints them as TAP
 * comments; asserts verify ran and that the summary counts what was reported. */
pb_audit_verify_summary afx_verify(afx *f, afx_seen *s);
/* Runs raw SQL on f->conn; asserts success. */
void afx_sql(afx *f, const char *sql);
/* How many violations of this kind were reported. */
int afx_count(const afx_seen *s, const char *kind);
/* Does msg contain needle not followed by a digit ("seq 3" does not match "seq 31")? */
int afx_names(const char *msg, const char *needle);
/* The stored entry with this seq (asserts it exists); before/after are not kept. */
pb_audit_record afx_entry(afx *f, int64_t seq);

#endif
