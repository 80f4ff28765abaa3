/*
 * cmd_sim.c — `pitboss sim provider` (a game provider playing against a
 * running server, see src/sim/sim.h) and `pitboss bench wallet` (the wallet
 * load generator). Both are HTTP clients; with --db the simulator also runs
 * the ledger verification on a read connection of the server's database
 * (SQLite WAL lets it read while the server writes).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/money.h"
#include "ledger/ledger.h"
#include "sim/sim.h"
#include "sim/sim_client.h"

static const char *sim_usage =
    "usage: pitboss sim provider --url URL --provider CODE (--secret-hex HEX | --secret-file F)\n"
    "                            --brand B --game G [--players 20] [--rounds 200]\n"
    "                            [--concurrency 8] [--seed 1] [--duplicate-rate 0.05]\n"
    "                            [--timeout-rate 0.02] [--deposit 100.00] [--bet-min 0.10]\n"
    "                            [--bet-max 5.00] [--currency CUR] [--country MT]\n"
    "                            [--books FILE] [--db URL] [--verbose]\n"
    "                            [--email E --password P]\n"
    "       pitboss sim provider --check FILE --url URL --provider CODE (--secret-…) [--db URL]\n"
    "\n"
    "Plays as the game provider CODE (native protocol) against the server at URL:\n"
    "the players register, log in, deposit through the sandbox PSP and launch G; then\n"
    "rounds run concurrently (bets, second bets, wins, losses, rollbacks, rollbacks\n"
    "before their bet, refused rollbacks after a win, refused wins on rolled-back bets,\n"
    "bets on closed rounds, stakes beyond the balance) with duplicate deliveries and\n"
    "client timeouts that force retries with the same transaction id. Every answer is\n"
    "checked against the simulator's own books, and at the end each player's balance\n"
    "(native balance call and GET /v1/player/wallet). --books writes the books (with\n"
    "the players' credentials) to FILE; --check FILE only checks them again. --db runs\n"
    "`ledger verify` on the server's database. --seed fixes every choice. Failures\n"
    "are printed on stderr (the first 50; every one with --verbose).\n"
    "--email/--password: one EXISTING player of the brand plays (logged in, not\n"
    "registered) with the money they have; no deposit unless --deposit is given.\n"
    "Exit status: 0 when every check held, 1 on any failure, 2 when it could not run.\n";

static void verify_violation(void *ctx, const char *kind, const char *message)
{
    (void)ctx;
    fprintf(stderr, "sim: ledger VIOLATION %s: %s\n", kind, message);
}

/* `ledger verify` on a read connection. 0 when it passed. */
static int ledger_verify(const char *db)
{
    pb_store *s = pb_cli_open_store(pb_cli_db_url(db), false);
    if (!s)
        return 2;
    char err[256];
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    pb_ledger_verify_summary vs = {0};
    pb_err e = c ? pb_ledger_verify(c, verify_violation, NULL, &vs) : PB_ERR_INTERNAL;
    if (e != PB_OK)
        fprintf(stderr, "sim: ledger verify could not run: %s\n", pb_err_code(e));
    else
        printf("ledger verify: %" PRId64 " transfers, %" PRId64 " accounts, %" PRId64
               " violation(s)\n",
               vs.transfers, vs.accounts, vs.violations);
    pb_store_disconnect(c);
    pb_store_close(s);
    return e != PB_OK ? 2 : vs.violations ? 1 : 0;
}

static int parse_rate(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || v < 0 || v > 1)
        return -1;
    *out = v;
    return 0;
}

static int parse_count(const char *s, int min, int max, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* Reads --secret-hex / --secret-file into secret. 0, or -1 with a message. */
static int load_secret(const char *hex, const char *file, uint8_t *secret, size_t *len)
{
    char err[300];
    if (hex && !file) {
        if (pb_sim_secret_from_hex(hex, secret, 64, len) == 0)
            return 0;
        fprintf(stderr, "sim: --secret-hex is not 1..64 bytes of hex\n");
        return -1;
    }
    if (file && !hex) {
        if (pb_sim_secret_from_file(file, secret, 64, len, err, sizeof err) == 0)
            return 0;
        fprintf(stderr, "sim: %s\n", err);
        return -1;
    }
    fprintf(stderr, "sim: give exactly one of --secret-hex and --secret-file\n");
    return -1;
}

static int64_t parse_money_opt(const char *s, const char *what, int64_t *out)
{
    /* in the currency's units with up to 8 decimals: checked again per player */
    const pb_currency *any = pb_currency_find("BTC");
    int64_t v;
    if (!any || pb_money_parse(s, strlen(s), any, &v) != PB_MONEY_OK || v <= 0) {
        fprintf(stderr, "sim: %s %s is not a positive amount\n", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

int pb_cmd_sim(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "provider") != 0) {
        fputs(sim_usage, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    pb_sim_options o = {.players = 20,
                        .rounds = 200,
                        .concurrency = 8,
                        .seed = 1,
                        .duplicate_rate = 0.05,
                        .timeout_rate = 0.02,
                        .deposit = "100.00",
                        .country = "MT",
                        .out = stdout};
    const char *hex = NULL, *file = NULL, *db = NULL, *bet_min = "0.10", *bet_max = "5.00";
    bool deposit_given = false;
    static const struct option opts[] = {{"url", required_argument, 0, 'u'},
                                         {"provider", required_argument, 0, 'p'},
                                         {"secret-hex", required_argument, 0, 'x'},
                                         {"secret-file", required_argument, 0, 'f'},
                                         {"brand", required_argument, 0, 'b'},
                                         {"game", required_argument, 0, 'g'},
                                         {"players", required_argument, 0, 'n'},
                                         {"rounds", required_argument, 0, 'r'},
                                         {"concurrency", required_argument, 0, 'c'},
                                         {"seed", required_argument, 0, 's'},
                                         {"duplicate-rate", required_argument, 0, 'D'},
                                         {"timeout-rate", required_argument, 0, 'T'},
                                         {"deposit", required_argument, 0, 'd'},
                                         {"bet-min", required_argument, 0, 'm'},
                                         {"bet-max", required_argument, 0, 'M'},
                                         {"currency", required_argument, 0, 'C'},
                                         {"country", required_argument, 0, 'k'},
                                         {"books", required_argument, 0, 'B'},
                                         {"check", required_argument, 0, 'K'},
                                         {"db", required_argument, 0, 'z'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"help", no_argument, 0, 'h'},
                                         {"email", required_argument, 0, 'e'},
                                         {"password", required_argument, 0, 'P'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'u': o.url = optarg; break;
        case 'p': o.provider = optarg; break;
        case 'x': hex = optarg; break;
        case 'f': file = optarg; break;
        case 'b': o.brand = optarg; break;
        case 'g': o.game = optarg; break;
        case 'n': bad = parse_count(optarg, 1, 50000, &o.players); break;
        case 'r': bad = parse_count(optarg, 0, 100000000, &o.rounds); break;
        case 'c': bad = parse_count(optarg, 1, 256, &o.concurrency); break;
        case 's': o.seed = strtoull(optarg, NULL, 0); break;
        case 'D': bad = parse_rate(optarg, &o.duplicate_rate); break;
        case 'T': bad = parse_rate(optarg, &o.timeout_rate); break;
        case 'd':
            o.deposit = optarg;
            deposit_given = true;
            break;
        case 'm': bet_min = optarg; break;
        case 'M': bet_max = optarg; break;
        case 'C': o.currency = optarg; break;
        case 'k': o.country = optarg; break;
        case 'B': o.books_out = optarg; break;
        case 'K': o.check_books = optarg; break;
        case 'z': db = optarg; break;
        case 'v': o.verbose = 1; break;
        case 'e': o.email = optarg; break;
        case 'P': o.password = optarg; break;
        case 'h': fputs(sim_usage, stdout); return 0;
        default: fputs(sim_usage, stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "sim: bad option value: %s\n", optarg);
            fputs(sim_usage, stderr);
            return 2;
        }
    }
    if (!o.url || !o.provider || (!o.check_books && (!o.brand || !o.game))) {
        fputs(sim_usage, stderr);
        return 2;
    }
    if (load_secret(hex, file, o.secret, &o.secret_len) != 0)
        return 2;
    if (o.email) {
        if (!o.password) {
            fprintf(stderr, "sim: --email needs --password\n");
            return 2;
        }
        o.players = 1;
        if (!deposit_given)
            o.deposit = NULL;
    }
    /* stakes: decimal amounts in the players' currency; converted with its exponent */
    const pb_currency *cur = pb_currency_find(o.currency ? o.currency : "EUR");
    if (!cur || pb_money_parse(bet_min, strlen(bet_min), cur, &o.bet_min) != PB_MONEY_OK ||
        pb_money_parse(bet_max, strlen(bet_max), cur, &o.bet_max) != PB_MONEY_OK ||
        o.bet_min <= 0 || o.bet_max < o.bet_min) {
        fprintf(stderr, "sim: --bet-min/--bet-max must be amounts in %s with min <= max\n",
                cur ? cur->code : "the currency");
        return 2;
    }
    int64_t dep;
    if (o.deposit && parse_money_opt(o.deposit, "--deposit", &dep) != 0)
        return 2;
    pb_sim_summary s;
    int rc = pb_sim_provider_run(&o, &s);
    if (db && rc != 2) {
        int v = ledger_verify(db);
        if (v != 0 && rc == 0)
            rc = v == 2 ? 2 : 1;
        if (v != 0)
            printf("result: FAILED (ledger verify)\n");
    }
    return rc;
}

/* ---- pitboss bench wallet ---- */

static const char *bench_usage =
    "usage: pitboss bench wallet --url URL --provider CODE (--secret-hex HEX | --secret-file F)\n"
    "                            --brand B --game G [--connections 64] [--seconds 10]\n"
    "                            [--rate 0] [--stake 1.00] [--deposit 100.00] [--country MT]\n"
    "                            [--label TEXT] [--resend-ms 10000]\n"
    "\n"
    "Signed native bet + win pairs against the running server at URL, one player per\n"
    "keep-alive connection (registered, funded through the sandbox PSP and launched\n"
    "first), from one epoll thread. --rate 0: closed loop (each connection sends as soon\n"
    "as it is answered); --rate R: open loop at R calls/s, latency counted from each\n"
    "call's intended time. One warm-up second is not counted. After the last second, a\n"
    "call still unanswered --resend-ms after it was sent is sent again (the same\n"
    "transaction, a fresh connection) until it is answered (\"reconciled\" in the line).\n"
    "Prints one JSON line and one text line; exit 1 if any call was not answered 200 or\n"
    "a balance moved.\n";

int pb_cmd_bench_wallet(int argc, char **argv)
{
    pb_sim_bench_options o = {
        .connections = 64, .seconds = 10, .country = "MT", .deposit = "100.00", .out = stdout};
    const char *hex = NULL, *file = NULL, *stake = "1.00";
    static const struct option opts[] = {{"url", required_argument, 0, 'u'},
                                         {"provider", required_argument, 0, 'p'},
                                         {"secret-hex", required_argument, 0, 'x'},
                                         {"secret-file", required_argument, 0, 'f'},
                                         {"brand", required_argument, 0, 'b'},
                                         {"game", required_argument, 0, 'g'},
                                         {"connections", required_argument, 0, 'c'},
                                         {"seconds", required_argument, 0, 's'},
                                         {"rate", required_argument, 0, 'r'},
                                         {"stake", required_argument, 0, 'S'},
                                         {"deposit", required_argument, 0, 'd'},
                                         {"country", required_argument, 0, 'k'},
                                         {"label", required_argument, 0, 'l'},
                                         {"resend-ms", required_argument, 0, 'R'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'u': o.url = optarg; break;
        case 'p': o.provider = optarg; break;
        case 'x': hex = optarg; break;
        case 'f': file = optarg; break;
        case 'b': o.brand = optarg; break;
        case 'g': o.game = optarg; break;
        case 'c': bad = parse_count(optarg, 1, 4096, &o.connections); break;
        case 's':
            o.seconds = atof(optarg);
            bad = o.seconds <= 0 || o.seconds > 3600;
            break;
        case 'r':
            o.rate = atof(optarg);
            bad = o.rate < 0 || o.rate > 1e6;
            break;
        case 'S': stake = optarg; break;
        case 'd': o.deposit = optarg; break;
        case 'k': o.country = optarg; break;
        case 'l': o.label = optarg; break;
        case 'R': bad = parse_count(optarg, 100, 60000, &o.resend_ms); break;
        case 'h': fputs(bench_usage, stdout); return 0;
        default: fputs(bench_usage, stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "bench: bad option value: %s\n", optarg);
            return 2;
        }
    }
    if (!o.url || !o.provider || !o.brand || !o.game) {
        fputs(bench_usage, stderr);
        return 2;
    }
    if (load_secret(hex, file, o.secret, &o.secret_len) != 0)
        return 2;
    o.stake = stake;
    return pb_sim_bench_wallet_run(&o);
}
