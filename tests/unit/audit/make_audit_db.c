/*
 * make_audit_db.c — a test tool (not part of pitboss): builds an audit log for
 * the CLI tests, since no pitboss command appends audit entries by itself.
 *
 *   make_audit_db DB KEYS_DIR N SIGNED
 *
 * Migrates DB, appends SIGNED entries, signs a checkpoint with the key in
 * KEYS_DIR (created if missing), then appends N - SIGNED more. Entry k is dated
 * 2026-11-18T00:00:00Z + (k - 1) seconds; actions cycle through player.block
 * (brand demo), ledger.adjustment (brand demo2), staff.login and
 * staff.login_failed (global). Exit 0 on success, 1 with a message otherwise.
 */
#include <stdio.h>
#include <stdlib.h>

#include "audit/audit.h"

#define BASE_US 1794960000000000LL /* 2026-11-18T00:00:00Z */

/* Appends entry k (1-based) in its own write transaction. */
static int append(pb_store_conn *c, int k)
{
    char target[32];
    snprintf(target, sizeof target, "player-%d", k);
    pb_audit_entry e;
    switch (k % 4) {
    case 0:
        e = (pb_audit_entry){.actor_kind = "staff",
                             .actor_id = "staff-alice",
                             .role = "support",
                             .actor_email = "alice@example.com",
                             .brand = "demo",
                             .action = "player.block",
                             .target_kind = "player",
                             .target_id = target,
                             .before = "{\"status\":\"active\"}",
                             .after = "{\"status\":\"blocked\"}",
                             .reason = "chargeback fraud",
                             .trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
                             .ip = "203.0.113.7"};
        break;
    case 1:
        e = (pb_audit_entry){.actor_kind = "staff",
                             .actor_id = "staff-bob",
                             .role = "finance",
                             .brand = "demo2",
                             .action = "ledger.adjustment",
                             .target_kind = "account",
                             .target_id = "42",
                             .after = "{\"amount\":\"10.00\",\"currency\":\"EUR\"}",
                             .reason = "goodwill \"gesture\"",
                             .ip = "2001:db8::1"};
        break;
    case 2:
        e = (pb_audit_entry){.actor_kind = "staff",
                             .actor_id = "staff-alice",
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
    if (pb_store_begin(c, PB_STORE_WRITE) != PB_STORE_OK)
        return -1;
    if (pb_audit_append(c, &e, BASE_US + (int64_t)(k - 1) * 1000000) != PB_OK ||
        pb_store_commit(c) != PB_STORE_OK) {
        pb_store_rollback(c);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: make_audit_db DB KEYS_DIR N SIGNED\n");
        return 1;
    }
    int n = atoi(argv[3]), signed_upto = atoi(argv[4]);
    char err[512];
    pb_audit_key *key = NULL;
    pb_store *s = pb_store_open(argv[1], err, sizeof err);
    pb_store_conn *c = NULL;
    int rc = 1;
    if (!s || pb_store_migrate(s, NULL, err, sizeof err) != PB_STORE_OK ||
        !(c = pb_store_connect(s, err, sizeof err))) {
        fprintf(stderr, "make_audit_db: %s\n", err);
        goto out;
    }
    if (pb_audit_key_load_or_create(argv[2], &key, NULL, err, sizeof err) != PB_OK) {
        fprintf(stderr, "make_audit_db: %s\n", err);
        goto out;
    }
    for (int k = 1; k <= n; k++) {
        if (append(c, k) != 0) {
            fprintf(stderr, "make_audit_db: append %d failed: %s\n", k, pb_store_errmsg(c));
            goto out;
        }
        if (k == signed_upto &&
            pb_audit_checkpoint(c, key, BASE_US + (int64_t)k * 1000000, NULL, NULL) != PB_OK) {
            fprintf(stderr, "make_audit_db: checkpoint failed: %s\n", pb_store_errmsg(c));
            goto out;
        }
        /* the store's connections leave checkpointing to the ledger's thread, which this
         * tool has not got: without one the log of a big run grows to gigabytes */
        if (k % 10000 == 0 && pb_store_checkpoint(c) == PB_STORE_ERROR) {
            fprintf(stderr, "make_audit_db: WAL checkpoint failed: %s\n", pb_store_errmsg(c));
            goto out;
        }
    }
    printf("make_audit_db: %d entries, checkpoint through seq %d, key %s\n", n, signed_upto,
           pb_audit_key_id(key));
    rc = 0;
out:
    pb_audit_key_free(key);
    pb_store_disconnect(c);
    pb_store_close(s);
    return rc;
}
