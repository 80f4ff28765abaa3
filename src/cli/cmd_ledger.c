/* cmd_ledger.c — `pitboss ledger verify`: exit 0 when every invariant holds,
 * 1 with one line per violation otherwise, 2 when verification could not run.
 * The signed ledger anchors' signatures are checked when trusted public keys are
 * given, the same way as to `audit verify`: --keys-dir DIR (the audit key in use
 * there, if its file is present, and the retired ones, audit-retired.pub: a
 * directory holding only the public parts will do) and every --trust-key HEX
 * (64 hex digits, repeatable; a verifier's own list, usable without any keys
 * directory). Without either the anchors are checked against the ledger but not
 * their signatures, and the summary says so. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "ledger/ledger.h"

static void print_violation(void *ctx, const char *kind, const char *message)
{
    (void)ctx;
    printf("VIOLATION %s: %s\n", kind, message);
}

static const char usage[] =
    "usage: pitboss ledger verify [--db URL] [--keys-dir DIR] [--trust-key HEX]...\n";

#define MAX_TRUST 32 /* --trust-key, as audit verify */

/* The keys DIR says to trust, in rotation order (retired oldest first, the key in
 * use last) into trusted[0..*n), room for cap; -1 with the reason printed. */
static int load_trust(const char *dir, uint8_t (*trusted)[32], size_t cap, size_t *n)
{
    pb_audit_trust t[PB_AUDIT_TRUST_MAX];
    size_t nt = 0;
    bool have_key = false;
    char err[512];
    if (pb_audit_trust_load(dir, t, cap, &nt, &have_key, err, sizeof err) != PB_OK) {
        fprintf(stderr, "pitboss: %s\n", err);
        return -1;
    }
    if (!have_key)
        fprintf(stderr, "pitboss: note: no audit signing key in %s; it is not trusted\n", dir);
    *n = 0;
    for (size_t i = have_key ? 1 : 0; i < nt; i++) /* the retired ones, in the file's order */
        memcpy(trusted[(*n)++], t[i].pk.b, 32);
    if (have_key)
        memcpy(trusted[(*n)++], t[0].pk.b, 32);
    return 0;
}

static int verify(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"keys-dir", required_argument, 0, 'k'},
                                         {"trust-key", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *dir = NULL;
    pb_audit_pubkey named[MAX_TRUST];
    size_t nnamed = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:k:t:h", opts, NULL)) != -1) {
        if (c == 'd') {
            db = optarg;
        } else if (c == 'k') {
            dir = optarg;
        } else if (c == 't' && nnamed < MAX_TRUST &&
                   pb_audit_pubkey_parse(optarg, &named[nnamed]) == 0) {
            nnamed++;
        } else {
            if (c == 't')
                fprintf(stderr, "pitboss: --trust-key wants 64 hex digits (at most %d keys)\n",
                        MAX_TRUST);
            fputs(usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    /* the keys directory's keys in rotation order, then every --trust-key (any order) */
    uint8_t trusted[PB_AUDIT_TRUST_MAX][32];
    pb_ledger_verify_keys keys = {.trusted = (const uint8_t(*)[32])trusted,
                                  .check_signatures = dir != NULL || nnamed > 0};
    if (dir && load_trust(dir, trusted, PB_AUDIT_TRUST_MAX - nnamed, &keys.ntrusted) != 0)
        return 2;
    for (size_t i = 0; i < nnamed; i++)
        memcpy(trusted[keys.ntrusted++], named[i].b, 32);
    keys.nunordered = nnamed;
    if (keys.check_signatures && keys.ntrusted == 0)
        fprintf(stderr, "pitboss: note: no trusted public key: no anchor can be accepted\n");
    const char *url = pb_cli_db_url(db);
    pb_store *s = pb_cli_open_store(url, false);
    if (!s)
        return 2;
    char err[512];
    pb_store_conn *conn = pb_store_connect(s, err, sizeof err);
    if (!conn) {
        fprintf(stderr, "pitboss: %s\n", err);
        pb_store_close(s);
        return 2;
    }
    pb_ledger_verify_summary sum;
    pb_err e = pb_ledger_verify_anchored(conn, &keys, print_violation, NULL, &sum);
    int rc;
    if (e != PB_OK) {
        fprintf(stderr, "pitboss: verification could not run: %s\n", pb_store_errmsg(conn));
        rc = 2;
    } else {
        printf("ledger verify: %" PRId64 " transfers, %" PRId64 " accounts, %" PRId64
               " open pending, %" PRId64 " violation(s)\n",
               sum.transfers, sum.accounts, sum.open_pendings, sum.violations);
        if (sum.lagging_rows)
            printf("ledger verify: %" PRId64 " balance row(s) not yet written back (balance mark "
                   "at transfer %" PRId64 "; a running server holds them in memory)\n",
                   sum.lagging_rows, sum.balances_seq);
        if (sum.unlisted_pendings)
            printf("ledger verify: %" PRId64 " open pending transfer(s) not yet in "
                   "ledger_pending_open (pending mark at transfer %" PRId64
                   "; a running server holds them in memory)\n",
                   sum.unlisted_pendings, sum.pending_seq);
        printf("ledger verify: %" PRId64 " anchor(s), signed through transfer seq %" PRId64
               " (%" PRId64 " transfer(s) above it); signatures %s\n",
               sum.anchors, sum.anchored_seq,
               sum.transfers > sum.anchored_seq ? sum.transfers - sum.anchored_seq : 0,
               sum.signatures_checked ? "checked" : "not checked (no --keys-dir or --trust-key)");
        rc = sum.violations ? 1 : 0;
    }
    pb_store_disconnect(conn);
    pb_store_close(s);
    return rc;
}

int pb_cmd_ledger(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return verify(argc - 1, argv + 1);
    fputs(usage, stderr);
    return 2;
}
