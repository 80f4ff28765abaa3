/*
 * cmd_backup.c — `pitboss backup --to FILE`: an online, consistent copy of the
 * database while the server keeps running (pb_store_backup), then checked:
 * the copy's own integrity check and `ledger verify` run on the copy, so a
 * backup that would not restore is known now rather than on the day it is
 * needed. Prints one JSON line; exit 0 when the copy is made and checked, 1
 * when the copy was made but its ledger verification found violations (the
 * copy is kept: it is what the database held), 2 when no copy was made.
 *
 * The keys directory is not in the copy, on purpose: back it up apart from
 * the database's copies (README, Commands).
 *
 * `pitboss restore --from FILE`: the reverse (pb_store_restore), refusing a
 * database in use and keeping the one it replaces; 0 restored, 1 not restored
 * because the backup's ledger has violations, 2 not restored otherwise.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "ledger/ledger.h"

static const char backup_usage[] =
    "usage: pitboss backup --to FILE [--db URL] [--keys-dir DIR] [--no-verify]\n"
    "An online copy of the database as of one moment, taken while the server runs\n"
    "(writers are not blocked). FILE must not exist. The copy is one file; its\n"
    "integrity check, `ledger verify` and, when the keys directory holds the audit\n"
    "key, `audit verify` run on it unless --no-verify. Prints a JSON line: pages,\n"
    "bytes, copy_ms, the ledger's last transfer (seq and chain hash). `pitboss\n"
    "restore` puts a backup back. The keys directory is not in the copy.\n";

static const char restore_usage[] =
    "usage: pitboss restore --from FILE [--db URL] [--keys-dir DIR] [--replace]\n"
    "                       [--erasures FILE] [--no-verify]\n"
    "Puts a copy of the backup FILE (only read) in place of the database: made beside it,\n"
    "integrity-checked, ledger- and audit-verified as by `backup` (a copy with violations\n"
    "is not restored unless --no-verify, which skips those two verifications only), then\n"
    "renamed over it, and the old -wal and -shm removed. The keys directory (--keys-dir)\n"
    "must be the one the backup was taken with, --no-verify or not: a copy whose sealed\n"
    "data it cannot open is not restored (exit 2). An existing database is replaced only\n"
    "with --replace and only when nothing has it open (stop the server first); it is kept\n"
    "as <db>.replaced-<time>. Start the server with that keys directory.\n"
    "Players erased in the database it replaces, and those listed in --erasures FILE (the\n"
    "lines `pitboss erasures` prints), are erased again in the copy before it is put in\n"
    "place (the copy is migrated first): a backup never gives erased personal data back.\n";

static void print_violation(void *ctx, const char *kind, const char *message)
{
    (void)ctx;
    fprintf(stderr, "VIOLATION %s: %s\n", kind, message);
}

typedef struct copy_check {
    int rc; /* 0 clean, 1 violations, 2 could not run */
    pb_ledger_verify_summary sum;
    pb_store_transfer last;
    bool has_last;
    const char *keys_dir; /* where the audit key is looked for */
    bool check_keys;      /* restore: the copy's key check values against keys_dir */
    int audit;            /* 0 clean, 1 violations, -1 not checked (no audit key) */
    pb_audit_verify_summary audit_sum;
    /* restore: what is done to the accepted copy (cmd_erasures.c): the restore's event,
     * the erasures applied again */
    pb_cli_restore_fixup fix;
} copy_check;

/* The copy's audit chain against the keys directory's audit key (what serve signs
 * its checkpoints with): k->audit 0 clean, 1 violations, -1 not checked (no key);
 * false when the verification could not run. */
static bool verify_audit(pb_store_conn *c, copy_check *k)
{
    char err[512];
    pb_audit_trust trust[PB_AUDIT_TRUST_MAX];
    size_t ntrust = 0;
    bool have_key = false;
    k->audit = -1;
    if (pb_audit_trust_load(k->keys_dir, trust, PB_AUDIT_TRUST_MAX, &ntrust, &have_key, err,
                            sizeof err) != PB_OK) {
        fprintf(stderr, "pitboss: %s\n", err);
        return false;
    }
    if (!have_key) {
        fprintf(stderr,
                "pitboss: note: no audit signing key in %s; the copy's audit chain is not "
                "checked\n",
                k->keys_dir ? k->keys_dir : "(none)");
        return true;
    }
    /* the key in use and the retired ones: a copy taken before a rotation verifies */
    if (pb_audit_verify_trust(c, trust, ntrust, print_violation, NULL, &k->audit_sum) != PB_OK) {
        fprintf(stderr, "pitboss: audit verify of the copy could not run: %s\n",
                pb_store_errmsg(c));
        return false;
    }
    k->audit = k->audit_sum.violations ? 1 : 0;
    return true;
}

/* A restore is only of use with the keys directory its data is sealed under
 * (0028_key_check): false, said on stderr, when the copy's key check values are
 * another directory's or the directory lacks a key they name. */
static bool keys_belong(pb_store *s, const char *keys_dir)
{
    char err[512];
    if (pb_cli_keys_check(s, keys_dir, false, err, sizeof err) == 0)
        return true;
    fprintf(stderr, "pitboss: the backup and the keys directory do not belong together: %s\n", err);
    return false;
}

/* Verifies the copy at path (its ledger, then its audit chain); k->rc 0 clean,
 * 1 violations, 2 could not run. */
static void verify_copy(const char *path, copy_check *k)
{
    char err[512];
    k->rc = 2;
    pb_store *s = pb_store_open(path, err, sizeof err);
    if (!s) {
        fprintf(stderr, "pitboss: cannot open the copy %s: %s\n", path, err);
        return;
    }
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    if (!c) {
        fprintf(stderr, "pitboss: cannot open the copy %s: %s\n", path, err);
        pb_store_close(s);
        return;
    }
    if (pb_ledger_verify(c, print_violation, NULL, &k->sum) != PB_OK) {
        fprintf(stderr, "pitboss: ledger verify of the copy could not run: %s\n",
                pb_store_errmsg(c));
    } else {
        pb_store_rc r = pb_store_transfer_last(c, &k->last);
        k->has_last = r == PB_STORE_OK;
        if (r != PB_STORE_OK && r != PB_STORE_NOT_FOUND)
            fprintf(stderr, "pitboss: reading the copy's last transfer: %s\n", pb_store_errmsg(c));
        else if (verify_audit(c, k))
            k->rc = k->sum.violations || k->audit == 1 ? 1 : 0;
    }
    pb_store_disconnect(c);
    if (k->rc != 2 && k->check_keys && !keys_belong(s, k->keys_dir))
        k->rc = 2;
    pb_store_close(s);
}

/* pb_store_backup's accept: the copy is kept when its ledger could be verified,
 * violations or not (it is what the database held); one that cannot even be
 * verified is abandoned. */
static bool accept_copy(void *ctx, const char *copy_path)
{
    copy_check *k = ctx;
    verify_copy(copy_path, k);
    return k->rc != 2;
}

/* Milliseconds to one decimal, from microseconds. */
static json_t *ms(int64_t us) { return json_real((double)(us / 100) / 10.0); }

static const char *verdict(int rc, bool bad)
{
    return rc == 2 ? "not run" : bad ? "violations" : "ok";
}

/* The JSON line of a backup or restore. */
static void print_result(const char *what, const char *from, const char *to,
                         const pb_store_backup_info *info, bool verify, const copy_check *k)
{
    json_t *j = json_pack("{s:s}", what, "ok");
    if (from)
        json_object_set_new(j, "from", json_string(from));
    json_object_set_new(j, "to", json_string(to));
    json_object_set_new(j, "pages", json_integer(info->pages));
    json_object_set_new(j, "bytes", json_integer(info->bytes));
    json_object_set_new(j, "copy_ms", ms(info->copy_us));
    if (info->check_us) {
        json_object_set_new(j, "integrity", json_string("ok"));
        json_object_set_new(j, "check_ms", ms(info->check_us));
    }
    if (verify) {
        json_object_set_new(j, "ledger_verify", json_string(verdict(k->rc, k->sum.violations > 0)));
        json_object_set_new(j, "transfers", json_integer(k->sum.transfers));
        json_object_set_new(j, "accounts", json_integer(k->sum.accounts));
        json_object_set_new(j, "violations", json_integer(k->sum.violations));
        json_object_set_new(j, "audit_verify",
                            json_string(k->rc != 2 && k->audit < 0 ? "skipped"
                                                                   : verdict(k->rc, k->audit > 0)));
        json_object_set_new(j, "audit_entries", json_integer(k->audit_sum.entries));
        if (k->has_last) {
            char h[65];
            sodium_bin2hex(h, sizeof h, k->last.hash, sizeof k->last.hash);
            json_object_set_new(j, "last_seq", json_integer(k->last.seq));
            json_object_set_new(j, "last_hash", json_string(h));
        }
    }
    if (info->previous[0])
        json_object_set_new(j, "previous", json_string(info->previous));
    if (k->check_keys) { /* a restore: its event, the erasures it applied again */
        json_object_set_new(j, "replaced", json_string(k->fix.replaced));
        json_object_set_new(j, "restored_event", json_integer(k->fix.event_id));
        if (k->fix.skipped_from) {
            json_object_set_new(j, "event_ids_skipped_from", json_integer(k->fix.skipped_from));
            json_object_set_new(j, "event_ids_skipped_to", json_integer(k->fix.skipped_to));
        }
        json_object_set_new(j, "erasures_listed", json_integer((json_int_t)k->fix.erasures.n));
        json_object_set_new(j, "erasures_reapplied", json_integer((json_int_t)k->fix.reapplied));
    }
    json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(12));
    fputc('\n', stdout);
    json_decref(j);
}

int pb_cmd_backup(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, 0, 't'},       {"db", required_argument, 0, 'd'},
        {"keys-dir", required_argument, 0, 'k'}, {"no-verify", no_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    const char *db = NULL, *to = NULL, *keys = NULL;
    bool verify = true;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 't': to = optarg; break;
        case 'd': db = optarg; break;
        case 'k': keys = optarg; break;
        case 'n': verify = false; break;
        case 'h': fputs(backup_usage, stdout); return 0;
        default: fputs(backup_usage, stderr); return 2;
        }
    }
    if (optind != argc || !to || !*to) {
        fputs(backup_usage, stderr);
        return 2;
    }
    const char *url = pb_cli_db_url(db);
    /* no migration, and a missing database is not created: a backup copies what is */
    pb_store *s = pb_cli_open_store(url, false);
    if (!s)
        return 2;
    char err[512];
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    if (!c) {
        fprintf(stderr, "pitboss: backup: %s\n", err);
        pb_store_close(s);
        return 2;
    }
    int cur = 0, latest = 0;
    if (pb_store_schema_version(c, &cur, &latest) != PB_STORE_OK || cur == 0) {
        fprintf(stderr, "pitboss: backup: %s holds no pitboss schema: nothing to back up\n", url);
        pb_store_disconnect(c);
        pb_store_close(s);
        return 2;
    }
    pb_store_backup_info info;
    copy_check k;
    memset(&k, 0, sizeof k);
    k.keys_dir = pb_cli_keys_dir(keys);
    pb_store_rc r = pb_store_backup(c, to, verify, verify ? accept_copy : NULL, &k, &info);
    if (r != PB_STORE_OK)
        fprintf(stderr, "pitboss: %s\n", pb_store_errmsg(c));
    pb_store_disconnect(c);
    pb_store_close(s);
    if (r != PB_STORE_OK)
        return 2;
    print_result("backup", NULL, to, &info, verify, &k);
    return k.rc;
}

/* The restore's accept: the restored copy must verify clean (a ledger with
 * violations is not put in place; --no-verify skips the verifications, not the key
 * check: accept_keys). */
/* The accepted copy's fix-up (cmd_erasures.c): the restore's event, and the erasures
 * the copy predates erased again (a copy that would give erased data back is not put in
 * place: k->rc 2). */
static bool erase_again(copy_check *k, const char *copy_path)
{
    char err[512] = "";
    if (pb_cli_restore_apply(copy_path, &k->fix, err, sizeof err) == 0)
        return true;
    fprintf(stderr, "pitboss: the copy is not restored: %s\n", err);
    k->rc = 2;
    return false;
}

static bool accept_clean(void *ctx, const char *copy_path)
{
    copy_check *k = ctx;
    verify_copy(copy_path, k);
    return k->rc == 0 && erase_again(k, copy_path);
}

/* The restore's accept with --no-verify: the ledger and the audit chain are not
 * verified, but the keys directory must still be the copy's (a wrong one would leave
 * its sealed data unreadable). */
static bool accept_keys(void *ctx, const char *copy_path)
{
    copy_check *k = ctx;
    char err[512];
    k->rc = 2;
    pb_store *s = pb_store_open(copy_path, err, sizeof err);
    if (!s) {
        fprintf(stderr, "pitboss: cannot open the copy %s: %s\n", copy_path, err);
        return false;
    }
    if (keys_belong(s, k->keys_dir))
        k->rc = 0;
    pb_store_close(s);
    return k->rc == 0 && erase_again(k, copy_path);
}

/* What the replaced database tells (cmd_erasures.c): its erasures and newest event id,
 * read now, before it is taken out of use; one that cannot be read is said
 * (fix.replaced "unreadable") and the restore goes on: it may be why it is restored.
 * Then the erasures of the file (bad lines: false, nothing restored). */
static bool collect_erasures(const char *url, bool replace, const char *file, copy_check *k)
{
    char err[512], why[512];
    struct stat sb;
    /* the target's file, as pb_store_restore reads the url (it refuses any other) */
    const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
    k->fix.replaced = "none";
    if (replace && !strstr(url, "://") && !strchr(url, '?') && stat(path, &sb) == 0) {
        k->fix.replaced = "read";
        if (pb_cli_erasures_from_db(url, &k->fix.erasures, &k->fix.replaced_newest, why,
                                    sizeof why) != 0) {
            k->fix.replaced = "unreadable";
            fprintf(stderr,
                    "pitboss: warning: the database being replaced could not be read (%s): "
                    "only the erasures of --erasures are applied again, and the event ids "
                    "skip as after a lost database\n",
                    why);
        }
    }
    if (file && pb_cli_erasures_from_file(file, &k->fix.erasures, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss: restore: --erasures %s\n", err);
        pb_cli_erasures_free(&k->fix.erasures);
        return false;
    }
    pb_cli_erasures_unique(&k->fix.erasures);
    return true;
}

int pb_cmd_restore(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, 0, 'f'},     {"db", required_argument, 0, 'd'},
        {"keys-dir", required_argument, 0, 'k'}, {"replace", no_argument, 0, 'r'},
        {"no-verify", no_argument, 0, 'n'},      {"erasures", required_argument, 0, 'e'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    const char *db = NULL, *from = NULL, *keys = NULL, *erasures = NULL;
    bool verify = true, replace = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': from = optarg; break;
        case 'd': db = optarg; break;
        case 'k': keys = optarg; break;
        case 'r': replace = true; break;
        case 'n': verify = false; break;
        case 'e': erasures = optarg; break;
        case 'h': fputs(restore_usage, stdout); return 0;
        default: fputs(restore_usage, stderr); return 2;
        }
    }
    if (optind != argc || !from || !*from) {
        fputs(restore_usage, stderr);
        return 2;
    }
    const char *url = pb_cli_db_url(db);
    pb_store_backup_info info;
    copy_check k;
    memset(&k, 0, sizeof k);
    k.keys_dir = pb_cli_keys_dir(keys);
    k.check_keys = true;
    char err[1024];
    if (!collect_erasures(url, replace, erasures, &k))
        return 2;
    pb_store_rc r = pb_store_restore(url, from, replace, verify ? accept_clean : accept_keys, &k,
                                     &info, err, sizeof err);
    if (r != PB_STORE_OK) {
        fprintf(stderr, "pitboss: %s\n", err);
        pb_cli_erasures_free(&k.fix.erasures);
        return verify && k.rc == 1 ? 1 : 2;
    }
    print_result("restore", from, url, &info, verify, &k);
    pb_cli_erasures_free(&k.fix.erasures);
    return 0;
}
