/* cmd_ledger.c — `pitboss ledger verify`: exit 0 when every invariant holds,
 * 1 with one line per violation otherwise, 2 when verification could not run. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ledger/ledger.h"

static void print_violation(void *ctx, const char *kind, const char *message)
{
    (void)ctx;
    printf("VIOLATION %s: %s\n", kind, message);
}

static int verify(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else {
            fprintf(c == 'h' ? stdout : stderr, "usage: pitboss ledger verify [--db URL]\n");
            return c == 'h' ? 0 : 2;
        }
    }
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
    pb_err e = pb_ledger_verify(conn, print_violation, NULL, &sum);
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
    fprintf(stderr, "usage: pitboss ledger verify [--db URL]\n");
    return 2;
}
