/*
 * main.c — the pitboss binary: one executable, one subcommand per job.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/log.h"

static void usage(FILE *f)
{
    fputs(
        "usage: pitboss <command> [options]\n"
        "\n"
        "commands:\n"
        "  migrate [--db URL]              apply pending schema migrations\n"
        "  ledger verify [--db URL] [--keys-dir DIR] [--trust-key HEX]...\n"
        "                                  rebuild balances from transfers and check every invariant\n"
        "                                  and the signed anchors (signatures: with keys)\n"
        "  backup --to FILE [--db URL]     an online copy of the database while it runs, then checked\n"
        "  restore --from FILE [--db URL] [--replace] [--erasures FILE]\n"
        "                                  a backup put in place of the database, erasures re-applied\n"
        "  erasures [--db URL]             the erased players as JSON lines (for restore --erasures)\n"
        "  bench ledger [options]          durable transfer throughput and latency (see --help)\n"
        "  bench game [options]            wallet operations through the ledger, in process\n"
        "  bench wallet --url U [options]  signed native bet + win calls against a running server\n"
        "  bench players [options]         the staff player list's sorts over many players\n"
        "  demo [--db URL]                 create a demo brand's accounts and money, then verify\n"
        /* @cli-usage */
        /* @cli-usage-sim */
        "  sim provider [options]          play as a game provider against a running server and check\n"
        "                                  every balance against the simulator's books (see --help)\n"
        /* @cli-usage-provider-hub88 */
        /* @cli-usage-provider-native */
        /* @cli-usage-cashier */
        /* @cli-usage-catalog */
        "  provider create --code C --name N --protocol native|hub88 [--secret-hex H]\n"
        "                  [--public-key-file PEM] [--window S]; provider list\n"
        "                                  game providers (a native secret is generated if absent)\n"
        "  game create --provider P --code C --name N --category CAT --rtp-bp BP\n"
        "              --volatility V --limit CUR:MIN:MAX... [--block XX]...\n"
        "  game enable|disable --brand B --provider P --game G; game list\n"
        "                                  games and where they are offered\n"
        /* @cli-usage-wallet */
        /* @cli-usage-games-play */
        /* @cli-usage-games */
        "  fair verify --game G --server-seed S --client-seed C --nonce N [game options]\n"
        "              (crash: --hash H --salt S)  recompute a provably fair round as JSON\n"
        "  fair seed | fair commitment --server-seed S   a server seed and its SHA-256 commitment\n"
        "  sim rtp --game G --rounds N [--threads T]    Monte Carlo RTP and chi-square checks\n"
        "  bench fair                      provably fair outcomes per second per core\n"
        "  brand create --code C --name N --currency CUR [--currencies A,B] --jurisdiction CC\n"
        "                                  create a brand (tenant); brand list shows them\n"
        "  admin create --email E [--role R] [--brand CODE]...\n"
        "                                  create a staff member (the first admin); prints a one-time password\n"
        "  serve [options]                 the HTTP API until SIGTERM (see serve --help)\n"
        "  routes                          the HTTP route table as JSON lines\n"
        "  audit verify [options]          check the audit log's hash chain and signed checkpoints\n"
        "  audit export [options]          write the audit log as JSON lines for a regulator\n"
        "  audit checkpoint [options]      sign the audit log's head with the audit key\n"
        "  audit rotate-key [options]      retire the audit key for a new one (server stopped)\n"
        "  audit public-key [--keys-dir DIR]   the audit key's public half, for --trust-key\n"
        "\n"
        "The database URL is --db, else $PITBOSS_DB, else var/pitboss.db (SQLite).\n",
        f);
}

const char *pb_cli_db_url(const char *flag_value)
{
    if (flag_value && *flag_value)
        return flag_value;
    const char *env = getenv("PITBOSS_DB");
    return env && *env ? env : "var/pitboss.db";
}

const char *pb_cli_keys_dir(const char *flag_value)
{
    if (flag_value && *flag_value)
        return flag_value;
    const char *env = getenv("PITBOSS_KEYS_DIR");
    return env && *env ? env : "var/keys";
}

pb_store *pb_cli_open_store(const char *url, bool migrate)
{
    char err[512];
    /* a command that only reads must not leave an empty database behind a typo:
     * opening a missing SQLite file would create it */
    if (!migrate && !strstr(url, "://")) {
        const char *file = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
        char path[4096];
        snprintf(path, sizeof path, "%.*s", (int)strcspn(file, "?"), file);
        struct stat sb;
        if (stat(path, &sb) != 0) {
            fprintf(stderr, "pitboss: cannot open %s: %s\n", url, strerror(errno));
            return NULL;
        }
    }
    pb_store *s = pb_store_open(url, err, sizeof err);
    if (!s) {
        fprintf(stderr, "pitboss: cannot open %s: %s\n", url, err);
        return NULL;
    }
    if (migrate) {
        int applied = 0;
        if (pb_store_migrate(s, &applied, err, sizeof err) != PB_STORE_OK) {
            fprintf(stderr, "pitboss: migration failed: %s\n", err);
            pb_store_close(s);
            return NULL;
        }
        if (applied)
            pb_log(PB_LOG_INFO, "store.migrated", "applied %d migration(s) to %s", applied, url);
    }
    return s;
}

int main(int argc, char **argv)
{
    pb_log_init();
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    /* games (@cli-dispatch-games): `sim rtp` and `bench fair` must be seen before the
     * generic `sim` and `bench` dispatches below, which refuse other subcommands */
    if (strcmp(cmd, "sim") == 0 && argc >= 3 && strcmp(argv[2], "rtp") == 0)
        return pb_cmd_sim_rtp(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0 && argc >= 3 && strcmp(argv[2], "fair") == 0)
        return pb_cmd_bench_fair(argc - 2, argv + 2);
    if (strcmp(cmd, "migrate") == 0)
        return pb_cmd_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "ledger") == 0)
        return pb_cmd_ledger(argc - 1, argv + 1);
    if (strcmp(cmd, "backup") == 0)
        return pb_cmd_backup(argc - 1, argv + 1);
    if (strcmp(cmd, "restore") == 0)
        return pb_cmd_restore(argc - 1, argv + 1);
    if (strcmp(cmd, "erasures") == 0)
        return pb_cmd_erasures(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return pb_cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return pb_cmd_demo(argc - 1, argv + 1);
    /* @cli-dispatch */
    /* @cli-dispatch-sim */
    if (strcmp(cmd, "sim") == 0)
        return pb_cmd_sim(argc - 1, argv + 1);
    /* @cli-dispatch-provider-hub88 */
    /* @cli-dispatch-provider-native */
    /* @cli-dispatch-cashier */
    /* @cli-dispatch-catalog */
    if (strcmp(cmd, "provider") == 0)
        return pb_cmd_provider(argc - 1, argv + 1);
    if (strcmp(cmd, "game") == 0)
        return pb_cmd_game(argc - 1, argv + 1);
    /* @cli-dispatch-wallet */
    /* @cli-dispatch-games-play */
    /* @cli-dispatch-games */
    if (strcmp(cmd, "fair") == 0)
        return pb_cmd_fair(argc - 1, argv + 1);
    if (strcmp(cmd, "brand") == 0)
        return pb_cmd_brand(argc - 1, argv + 1);
    if (strcmp(cmd, "admin") == 0)
        return pb_cmd_admin(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return pb_cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "routes") == 0)
        return pb_cmd_routes(argc - 1, argv + 1);
    if (strcmp(cmd, "audit") == 0)
        return pb_cmd_audit(argc - 1, argv + 1);
    fprintf(stderr, "pitboss: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
