/*
 * cmd_audit.c — `pitboss audit verify | export | checkpoint`.
 *
 *   verify      recompute the audit chain and check the signed checkpoints;
 *               exit 0 when intact, 1 with one "VIOLATION <kind>: …" line per
 *               problem and a "first broken entry: seq N …" line, 2 when it
 *               cannot run. Trusted keys: the key file in the keys directory
 *               (if present), the retired keys listed beside it (each for the
 *               checkpoints up to the seq it was retired at) and every
 *               --trust-key given (64 hex digits).
 *   export      the log as JSON lines (to --out FILE, created mode 0600, or stdout)
 *   checkpoint  sign the chain head now (creating the key file if missing)
 *   rotate-key  retire the signing key for a new one (pb_audit_key_rotate), after
 *               a last ledger anchor signed with it (the ledger is in the same
 *               database: what it signs through is printed)
 *   public-key  print the signing key's id and public key (64 hex digits): what an
 *               auditor is given for `audit verify` / `ledger verify --trust-key`
 *
 * The keys directory is --keys-dir, else $PITBOSS_KEYS_DIR, else var/keys.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "core/time.h"
#include "ledger/ledger.h"

#define MAX_TRUST 32

/* Opens the store and a connection; prints why and returns NULL on failure. */
static pb_store_conn *open_conn(const char *db, bool migrate, pb_store **s)
{
    char err[512];
    *s = pb_cli_open_store(pb_cli_db_url(db), migrate);
    if (!*s)
        return NULL;
    pb_store_conn *c = pb_store_connect(*s, err, sizeof err);
    if (!c) {
        fprintf(stderr, "pitboss: %s\n", err);
        pb_store_close(*s);
        *s = NULL;
    }
    return c;
}

/* Closes what open_conn opened. */
static void close_conn(pb_store *s, pb_store_conn *c)
{
    pb_store_disconnect(c);
    pb_store_close(s);
}

/* The verify callback: one VIOLATION line per problem. */
static void print_violation(void *ctx, const char *kind, const char *message)
{
    (void)ctx;
    printf("VIOLATION %s: %s\n", kind, message);
}

static const char verify_use[] =
    "usage: pitboss audit verify [--db URL] [--keys-dir DIR] [--trust-key HEX]...\n";

/* `audit verify`: 0 intact, 1 violations, 2 could not run. */
static int verify(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"keys-dir", required_argument, 0, 'k'},
                                         {"trust-key", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *dir = NULL;
    pb_audit_pubkey trusted[MAX_TRUST];
    size_t ntrusted = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:k:t:h", opts, NULL)) != -1) {
        if (ch == 'd') {
            db = optarg;
        } else if (ch == 'k') {
            dir = optarg;
        } else if (ch == 't' && ntrusted < MAX_TRUST &&
                   pb_audit_pubkey_parse(optarg, &trusted[ntrusted]) == 0) {
            ntrusted++;
        } else {
            if (ch == 't')
                fprintf(stderr, "pitboss: --trust-key wants 64 hex digits (at most %d keys)\n",
                        MAX_TRUST);
            fputs(verify_use, ch == 'h' ? stdout : stderr);
            return ch == 'h' ? 0 : 2;
        }
    }
    char err[512];
    /* the keys directory's key in use and retired keys, then every --trust-key */
    pb_audit_trust trust[PB_AUDIT_TRUST_MAX];
    size_t ntrust = 0;
    bool have_key = false;
    if (pb_audit_trust_load(pb_cli_keys_dir(dir), trust, PB_AUDIT_TRUST_MAX - ntrusted, &ntrust,
                            &have_key, err, sizeof err) != PB_OK) {
        fprintf(stderr, "pitboss: %s\n", err);
        return 2;
    }
    if (!have_key)
        fprintf(stderr, "pitboss: note: no audit signing key in %s; it is not trusted\n",
                pb_cli_keys_dir(dir));
    for (size_t i = 0; i < ntrusted; i++)
        trust[ntrust++] = (pb_audit_trust){.pk = trusted[i], .upto_max = INT64_MAX};
    if (ntrust == 0)
        fprintf(stderr, "pitboss: note: no trusted public key: no checkpoint can be accepted\n");
    pb_store *s;
    pb_store_conn *c = open_conn(db, false, &s);
    if (!c)
        return 2;
    pb_audit_verify_summary sum;
    int rc = 2;
    if (pb_audit_verify_trust(c, trust, ntrust, print_violation, NULL, &sum) != PB_OK) {
        fprintf(stderr, "pitboss: audit verification could not run: %s\n", pb_store_errmsg(c));
    } else {
        if (sum.first_broken_seq)
            printf("first broken entry: %s\n", sum.first_broken);
        if (sum.first_broken_checkpoint)
            printf("first broken checkpoint: %s\n", sum.first_broken_checkpoint_msg);
        printf("audit verify: %" PRId64 " entries (head seq %" PRId64 "), %" PRId64
               " checkpoint(s), signed through seq %" PRId64 ", %" PRId64 " unsigned, %" PRId64
               " violation(s)\n",
               sum.entries, sum.head_seq, sum.checkpoints, sum.signed_upto, sum.unsigned_entries,
               sum.violations);
        rc = sum.violations ? 1 : 0;
    }
    close_conn(s, c);
    return rc;
}

/* Parses an RFC 3339 option value; prints the problem and returns -1 when malformed. */
static int parse_time_opt(const char *name, const char *v, int64_t *out)
{
    if (pb_time_parse(v, strlen(v), out) == 0 && *out > 0)
        return 0;
    fprintf(stderr, "pitboss: --%s wants an RFC 3339 time such as 2026-11-21T00:00:00Z\n", name);
    return -1;
}

/* Opens the export destination (created mode 0600: the log holds personal data). */
static FILE *open_out(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return stdout;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        perror(path);
        if (fd >= 0)
            close(fd);
    }
    return f;
}

static const char export_use[] =
    "usage: pitboss audit export [--db URL] [--since TIME] [--until TIME] [--out FILE]\n"
    "                            [--keys-dir DIR]\n"
    "TIME is RFC 3339 (2026-11-21T00:00:00Z); entries dated since <= at < until.\n";

/* `audit export`: 0 written, 2 on bad options or failure. */
static int export_log(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"since", required_argument, 0, 's'},
                                         {"until", required_argument, 0, 'u'},
                                         {"out", required_argument, 0, 'o'},
                                         {"keys-dir", required_argument, 0, 'k'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *path = NULL, *dir = NULL;
    pb_audit_export_opts o = {.now_us = pb_time_now_us()};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:s:u:o:k:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'd': db = optarg; break;
        case 's': bad = parse_time_opt("since", optarg, &o.since_us); break;
        case 'u': bad = parse_time_opt("until", optarg, &o.until_us); break;
        case 'o': path = optarg; break;
        case 'k': dir = optarg; break;
        default: bad = 1;
        }
        if (bad) {
            fputs(export_use, ch == 'h' ? stdout : stderr);
            return ch == 'h' ? 0 : 2;
        }
    }
    if (o.since_us && o.until_us && o.since_us >= o.until_us) {
        fprintf(stderr, "pitboss: --since must be before --until\n");
        return 2;
    }
    char err[512];
    pb_audit_key *k = NULL;
    pb_audit_pubkey configured;
    if (pb_audit_key_load(pb_cli_keys_dir(dir), &k, err, sizeof err) == PB_OK) {
        configured = *pb_audit_key_public(k);
        o.keys = &configured;
        o.nkeys = 1;
        pb_audit_key_free(k);
    }
    pb_store *s;
    pb_store_conn *c = open_conn(db, false, &s);
    if (!c)
        return 2;
    FILE *out = open_out(path);
    int rc = 2;
    pb_audit_export_summary sum;
    if (out) {
        pb_err e = pb_audit_export(c, &o, out, &sum);
        if (out != stdout && fclose(out) != 0)
            e = PB_ERR_INTERNAL;
        if (e != PB_OK) {
            fprintf(stderr, "pitboss: audit export failed: %s (%s)\n", pb_err_message(e),
                    pb_store_errmsg(c));
        } else {
            fprintf(stderr,
                    "audit export: %" PRId64 " entries (seq %" PRId64 "..%" PRId64 "), %" PRId64
                    " checkpoint(s) to %s\n",
                    sum.entries, sum.first_seq, sum.last_seq, sum.checkpoints,
                    path && strcmp(path, "-") != 0 ? path : "stdout");
            rc = 0;
        }
    }
    close_conn(s, c);
    return rc;
}

static const char pubkey_use[] = "usage: pitboss audit public-key [--keys-dir DIR]\n";

/* `audit public-key`: the key in use, never created here; 0, or 2 without one. */
static int public_key(int argc, char **argv)
{
    static const struct option opts[] = {{"keys-dir", required_argument, 0, 'k'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        if (ch == 'k') {
            dir = optarg;
        } else {
            fputs(pubkey_use, ch == 'h' ? stdout : stderr);
            return ch == 'h' ? 0 : 2;
        }
    }
    if (optind != argc) {
        fputs(pubkey_use, stderr);
        return 2;
    }
    char err[512], pk[65];
    pb_audit_key *k = NULL;
    if (pb_audit_key_load(pb_cli_keys_dir(dir), &k, err, sizeof err) != PB_OK) {
        fprintf(stderr, "pitboss: %s\n", err);
        return 2;
    }
    pb_audit_pubkey_hex(pb_audit_key_public(k), pk);
    printf("key id %s public key %s\n", pb_audit_key_id(k), pk);
    pb_audit_key_free(k);
    return 0;
}

static const char checkpoint_use[] =
    "usage: pitboss audit checkpoint [--db URL] [--keys-dir DIR]\n";

/* `audit checkpoint`: 0 signed (or nothing new to sign), 2 on failure. */
static int checkpoint(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"keys-dir", required_argument, 0, 'k'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *dir = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:k:h", opts, NULL)) != -1) {
        if (ch == 'd') {
            db = optarg;
        } else if (ch == 'k') {
            dir = optarg;
        } else {
            fputs(checkpoint_use, ch == 'h' ? stdout : stderr);
            return ch == 'h' ? 0 : 2;
        }
    }
    char err[512], pk[65];
    pb_audit_key *k = NULL;
    bool created = false;
    if (pb_audit_key_load_or_create(pb_cli_keys_dir(dir), &k, &created, err, sizeof err) != PB_OK) {
        fprintf(stderr, "pitboss: %s\n", err);
        return 2;
    }
    pb_audit_pubkey_hex(pb_audit_key_public(k), pk);
    if (created)
        printf("created the audit signing key %s/%s (key id %s, public key %s)\n",
               pb_cli_keys_dir(dir), PB_AUDIT_KEY_FILE, pb_audit_key_id(k), pk);
    pb_store *s;
    pb_store_conn *c = open_conn(db, true, &s);
    if (!c) {
        pb_audit_key_free(k);
        return 2;
    }
    pb_audit_checkpoint_record cp;
    bool written = false;
    int rc = 2;
    pb_err e = pb_audit_checkpoint(c, k, pb_time_now_us(), &cp, &written);
    if (e != PB_OK) {
        fprintf(stderr, "pitboss: audit checkpoint failed: %s (%s)\n", pb_err_message(e),
                pb_store_errmsg(c));
    } else {
        if (written)
            printf("audit checkpoint: id %" PRId64 " signs the chain through seq %" PRId64
                   " (key id %s, public key %s)\n",
                   cp.id, cp.upto_seq, cp.key_id, pk);
        else if (cp.id)
            printf("audit checkpoint: nothing new to sign; checkpoint id %" PRId64
                   " covers the head, seq %" PRId64 "\n",
                   cp.id, cp.upto_seq);
        else
            printf("audit checkpoint: the audit log is empty; nothing to sign\n");
        rc = 0;
    }
    close_conn(s, c);
    pb_audit_key_free(k);
    return rc;
}

static void rotate_sign(void *ctx, const uint8_t *msg, size_t n, uint8_t sig[64])
{
    pb_audit_key_sign(ctx, msg, n, sig);
}

/* The ledger's last anchor with the key being retired (the same key serve signs
 * anchors with): without it the transfers, accounts and rejections since the
 * server's last anchor would be signed by the new key only. 0, or 2 with the
 * reason printed. */
static int anchor_ledger_with_old_key(pb_store_conn *c, const char *dir)
{
    char err[512];
    pb_audit_key *k = NULL;
    if (pb_audit_key_load(dir, &k, err, sizeof err) != PB_OK) {
        fprintf(stderr, "pitboss: audit key rotation failed: %s\n", err);
        return 2;
    }
    pb_ledger_signer s = {.sign = rotate_sign, .ctx = k};
    memcpy(s.public_key, pb_audit_key_public(k)->b, 32);
    pb_store_ledger_anchor a;
    bool written = false;
    pb_err e = pb_ledger_anchor(c, &s, pb_time_now_us(), &a, &written);
    pb_audit_key_free(k);
    if (e != PB_OK) {
        fprintf(stderr,
                "pitboss: audit key rotation refused, the key in use unchanged: the ledger's last "
                "anchor with it failed (%s); `pitboss ledger verify` says why, or rotate with "
                "--skip-ledger-anchor (the ledger since its last anchor is then signed by the "
                "new key only)\n",
                pb_err_message(e));
        return 2;
    }
    if (written)
        printf("ledger anchored with the key being retired: anchor %" PRId64
               " through transfer seq %" PRId64 ", account %" PRId64 ", rejection %" PRId64 "\n",
               a.id, a.transfer_seq, a.account_upto, a.rejection_upto);
    else
        printf("ledger already anchored through transfer seq %" PRId64
               ": nothing new to sign with the key being retired\n",
               a.transfer_seq);
    return 0;
}

static const char rotate_use[] =
    "usage: pitboss audit rotate-key [--db URL] [--keys-dir DIR] [--skip-ledger-anchor]\n"
    "Retires the audit signing key: anchors the ledger with it (what is new since the\n"
    "last ledger anchor; --skip-ledger-anchor goes on without, e.g. when the anchors are\n"
    "damaged and the key must go now), signs the audit chain's head with it, adds its public key\n"
    "to DIR/" PB_AUDIT_RETIRED_FILE " (trusted for the checkpoints up to that head only),\n"
    "and installs a new key in its place. Stop the server first (it keeps signing with\n"
    "the key it loaded); refused while one has the database open, and when the key in use\n"
    "and the retired ones already are the 64 keys a verifier trusts at most.\n";

/* `audit rotate-key`: 0 rotated, 2 on failure (the key in use unchanged unless said). */
static int rotate_key(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"keys-dir", required_argument, 0, 'k'},
                                         {"skip-ledger-anchor", no_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *dir = NULL;
    bool skip_anchor = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:k:h", opts, NULL)) != -1) {
        if (ch == 'd') {
            db = optarg;
        } else if (ch == 'k') {
            dir = optarg;
        } else if (ch == 's') {
            skip_anchor = true;
        } else {
            fputs(rotate_use, ch == 'h' ? stdout : stderr);
            return ch == 'h' ? 0 : 2;
        }
    }
    char err[512];
    pb_store *s;
    pb_store_conn *c = open_conn(db, true, &s);
    if (!c)
        return 2;
    /* a running server holds the writer lock, and signs with the key it loaded */
    if (pb_store_writer_claim(s, err, sizeof err) != PB_STORE_OK) {
        fprintf(stderr, "pitboss: %s; stop the server before rotating the audit key\n", err);
        close_conn(s, c);
        return 2;
    }
    pb_audit_pubkey old, fresh;
    int64_t head = 0;
    int rc = 2;
    if (!skip_anchor && anchor_ledger_with_old_key(c, pb_cli_keys_dir(dir)) != 0) {
        pb_store_writer_release(s);
        close_conn(s, c);
        return 2;
    }
    if (pb_audit_key_rotate(c, pb_cli_keys_dir(dir), pb_time_now_us(), &old, &fresh, &head, err,
                            sizeof err) != PB_OK) {
        fprintf(stderr, "pitboss: audit key rotation failed: %s\n", err);
    } else {
        char ohex[65], nhex[65], oid[PB_AUDIT_KEY_ID_LEN + 1], nid[PB_AUDIT_KEY_ID_LEN + 1];
        pb_audit_pubkey_hex(&old, ohex);
        pb_audit_pubkey_hex(&fresh, nhex);
        pb_audit_pubkey_id(&old, oid);
        pb_audit_pubkey_id(&fresh, nid);
        printf("audit key rotated: retired key %s (public key %s) trusted through seq %" PRId64
               "; new key %s (public key %s)\n",
               oid, ohex, head, nid, nhex);
        rc = 0;
    }
    pb_store_writer_release(s);
    close_conn(s, c);
    return rc;
}

/* `pitboss audit SUBCOMMAND …`. */
int pb_cmd_audit(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return verify(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "export") == 0)
        return export_log(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "checkpoint") == 0)
        return checkpoint(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "rotate-key") == 0)
        return rotate_key(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "public-key") == 0)
        return public_key(argc - 1, argv + 1);
    fputs(verify_use, stderr);
    fputs(export_use, stderr);
    fputs(checkpoint_use, stderr);
    fputs(rotate_use, stderr);
    fputs(pubkey_use, stderr);
    return 2;
}
