/*
 * cmd_serve.c — `pitboss serve` (the HTTP API) and `pitboss routes` (the route
 * table as JSON lines).
 *
 * serve: configuration comes from flags, else PITBOSS_* environment variables,
 * else defaults. Start-up migrates the database, opens the ledger writer, a
 * pool of store connections for the HTTP workers, and the server over
 * pb_api_routes. SIGTERM and SIGINT are blocked in every thread (they are
 * blocked before any thread starts, and threads inherit the mask) and taken
 * with sigwait() here: the server drains, then the ledger finishes what it
 * has queued (replying to any request still suspended on it), then everything
 * is closed in reverse order and the process exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "api/api.h"
#include "audit/audit.h"
#include "api/export_stream.h"
#include "catalog/catalog.h"
#include "wallet/wallet.h"
#include "cli/cli.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/sealbox.h"
#include "core/ticker.h"
#include "core/time.h"

typedef struct serve_opts {
    const char *listen, *db, *keys_dir, *log_level;
    const char *web_dir;    /* @web: --web-dir / PITBOSS_WEB_DIR (NULL: web/dist when it exists) */
    const char *backup_dir; /* --backup-dir / PITBOSS_BACKUP_DIR (NULL: no scheduled backups) */
    const char *trusted_proxies; /* --trusted-proxies / PITBOSS_TRUSTED_PROXIES (NULL: none) */
    unsigned long long threads, max_body, max_header, max_connections, max_per_ip, timeout_s,
        drain_s, pin_writer, idle_sync, coalesce, wal_reserve, session_history_days, max_exports,
        log_flush_ms, backup_every, backup_keep, request_sweep_s;
} serve_opts;

static void serve_usage(FILE *f)
{
    fputs(
        "usage: pitboss serve [options]\n"
        "\n"
        "Serves the HTTP API until SIGTERM or SIGINT, then stops accepting, lets the requests\n"
        "in flight finish (up to --drain-timeout) and exits 0. Each option falls back to its\n"
        "environment variable, then to its default.\n"
        "\n"
        "  --listen HOST:PORT       PITBOSS_LISTEN           address to listen on (default\n"
        "                                                    127.0.0.1:8080; port 0 = any free port)\n"
        "  --db URL                 PITBOSS_DB               the database (default var/pitboss.db),\n"
        "                                                    migrated at start-up\n"
        "  --threads N              PITBOSS_HTTP_THREADS     HTTP worker threads (default 4)\n"
        "  --max-body BYTES         PITBOSS_MAX_BODY         largest request body (default 1048576);\n"
        "                                                    larger ones get 413 PAYLOAD_TOO_LARGE\n"
        "  --max-header BYTES       PITBOSS_MAX_HEADER       memory for one request line and its\n"
        "                                                    headers (default 16384; libmicrohttpd\n"
        "                                                    clears it for every request)\n"
        "  --max-connections N      PITBOSS_MAX_CONNECTIONS  open connections in all (default 1024)\n"
        "  --max-per-ip N           PITBOSS_MAX_PER_IP       open connections per direct peer\n"
        "                                                    (TCP peer address, IPv6 by its /64;\n"
        "                                                    default 0 = no per-IP limit). A\n"
        "                                                    --trusted-proxies peer is exempt:\n"
        "                                                    its connections carry many clients\n"
        "  --timeout SECONDS        PITBOSS_HTTP_TIMEOUT     idle connection timeout (default 30)\n"
        "  --trusted-proxies LIST   PITBOSS_TRUSTED_PROXIES  reverse proxies (addresses or CIDR\n"
        "                                                    blocks, IPv4 or IPv6, comma-separated)\n"
        "                                                    whose X-Forwarded-For names the client:\n"
        "                                                    from such a peer the client is the\n"
        "                                                    right-most entry that is not itself a\n"
        "                                                    trusted proxy (a malformed header: the\n"
        "                                                    peer); it is the address the login\n"
        "                                                    lockout, the audit log and the request\n"
        "                                                    log use. Any other peer's header is\n"
        "                                                    ignored. Default: none (the TCP peer\n"
        "                                                    is always the client)\n"
        "  --max-exports N          PITBOSS_MAX_EXPORTS      back-office exports (transactions CSV,\n"
        "                                                    audit log) streaming at once (default\n"
        "                                                    4); one more gets 503 EXPORTS_BUSY\n"
        "  --drain-timeout SECONDS  PITBOSS_DRAIN_TIMEOUT    how long a stop waits for requests in\n"
        "                                                    flight (default 10)\n"
        "  --pin-writer 0|1         PITBOSS_PIN_WRITER       1: the ledger writer gets a CPU (the one\n"
        "                                                    with the fewest device interrupts) to\n"
        "                                                    itself, every other thread keeps off it\n"
        "                                                    (default 0; pays when the writer is the\n"
        "                                                    bottleneck and the CPUs are not)\n"
        "  --idle-sync 0|1          PITBOSS_IDLE_SYNC        1: a ledger batch committed while nothing\n"
        "                                                    else waits is synced by the writer\n"
        "                                                    itself, without a hand-off to the\n"
        "                                                    notifier thread (default 1)\n"
        "  --coalesce 0|1           PITBOSS_COALESCE         1: ledger batches applied while a sync\n"
        "                                                    runs are committed together at its end\n"
        "                                                    (less CPU a call, a longer path for\n"
        "                                                    each; default 0)\n"
        "  --wal-reserve 0|1        PITBOSS_WAL_RESERVE      1: at start, the SQLite write-ahead log\n"
        "                                                    file is grown with zeros to its restart\n"
        "                                                    size (~270 MB, once per database), so\n"
        "                                                    commits overwrite it and their syncs\n"
        "                                                    write data only (default 1)\n"
        "  --session-history-days N PITBOSS_SESSION_HISTORY_DAYS  login sessions are kept N days\n"
        "                                                    after they end (1..3650, default 90);\n"
        "                                                    expired refresh tokens one day\n"
        "  --keys-dir DIR           PITBOSS_KEYS_DIR         secrets and key files; created with mode\n"
        "                                                    0700 if missing (default var/keys)\n"
        "  --log-level LEVEL        PITBOSS_LOG_LEVEL        debug, info, warn or error (default info)\n"
        "  --log-flush-ms MS        PITBOSS_LOG_FLUSH_MS     info lines (the access log's among them)\n"
        "                                                    are written together at least this often\n"
        "                                                    (0..1000, default 100; 0: each at once);\n"
        "                                                    warn and error lines always at once\n"
        "  --backup-dir DIR         PITBOSS_BACKUP_DIR       back the database up into DIR (made 0700)\n"
        "                                                    on a schedule, each copy checked as by\n"
        "                                                    `pitboss backup` (default: none)\n"
        "  --backup-every S         PITBOSS_BACKUP_EVERY     seconds between two backups (1..604800,\n"
        "                                                    default 3600)\n"
        "  --backup-keep N          PITBOSS_BACKUP_KEEP      copies kept; older ones are removed after\n"
        "                                                    a good one (1..10000, default 24)\n"
        "  --request-sweep-seconds S PITBOSS_REQUEST_SWEEP_SECONDS  how often 4-eyes requests\n"
        "                                                    (staff adjustments, unclaimed-funds\n"
        "                                                    settlements) pending past their brand's\n"
        "                                                    expiry are marked expired (1..86400,\n"
        "                                                    default 60; also once at start)\n"
        "  --adjust-sweep-seconds S PITBOSS_ADJUST_SWEEP_SECONDS  the same (its older name)\n"
        "  --web-dir DIR            PITBOSS_WEB_DIR          the back office UI's files, served at /\n"
        "                                                    (default web/dist when it exists)\n"
        "                           PITBOSS_PLAYER_ACCESS_TTL  player access-token lifetime in seconds\n"
        "                                                    (1..900, default 900)\n"
        "                           PITBOSS_LAUNCH_TTL       game launch-token lifetime in seconds\n"
        "                                                    (60..86400, default 14400)\n"
        "                           PITBOSS_EXPLORER_SCAN    transfers one transactions-explorer page\n"
        "                                                    or export chunk reads at most (default\n"
        "                                                    50000; then a shorter page and a cursor)\n"
        "                           PITBOSS_LEDGER_ANCHOR_EVERY  seconds between two signed ledger\n"
        "                                                    anchors when something is new\n"
        "                                                    (1..3600, default 60)\n"
        "                           PITBOSS_PWHASH_COST      argon2id cost of new password hashes:\n"
        "                                                    interactive (default), moderate,\n"
        "                                                    sensitive, or min (test suites only)\n"
        "                           PITBOSS_SANDBOX_PSP      1 turns the built-in sandbox PSP and its\n"
        "                                                    public endpoints on — anyone who reaches\n"
        "                                                    them can complete a deposit: for demos\n"
        "                                                    and tests only (default 0: off)\n"
        "                           PITBOSS_SANDBOX_PAYOUT_DELAY_MS  how long the sandbox takes to\n"
        "                                                    confirm a payout (1..600000, default 1000)\n"
        "                           PITBOSS_PAYOUT_RETRY_MS  how often a payout the PSP did not take\n"
        "                                                    is sent again (100..3600000, default\n"
        "                                                    30000)\n"
        "                           PITBOSS_GAMES_RETRY_MS   how often the in-house games' unfinished\n"
        "                                                    rounds are retried (100..60000, default\n"
        "                                                    5000; doubling up to 60 s while some\n"
        "                                                    fail)\n"
        "                           PITBOSS_SANDBOX_STUCK_PAYOUTS  1 makes the sandbox refuse or\n"
        "                                                    lose payouts of amounts ending in 19,\n"
        "                                                    23, 29, 31 (tests of a staff resolve)\n"
        "                           PITBOSS_RECONCILE_AT     HH:MM (UTC): each PSP whose report can\n"
        "                                                    be fetched is reconciled daily for the\n"
        "                                                    previous UTC day after it (default: off)\n"
        "                           PITBOSS_METRICS_TOKEN    /metrics answers only requests with\n"
        "                                                    \"Authorization: Bearer <it>\" (16..256\n"
        "                                                    characters; default: none, open)\n"
        "                           PITBOSS_NATS_URL         relay the events to NATS JetStream\n"
        "                                                    (nats://host:4222; default: no relay);\n"
        "                                                    also PITBOSS_NATS_STREAM, _SUBJECT,\n"
        "                                                    _CREDS, _CA, _START, _CREATE_STREAM,\n"
        "                                                    _DUPLICATE_WINDOW_S (README, Events)\n"
        "  -h, --help                                        this text\n"
        "\n"
        "Logs are JSON lines on stderr: \"http.listening\" with the URL once ready, then one\n"
        "\"http.request\" line per request.\n",
        f);
}

/* Parses a whole decimal number within [min, max]; prints why not. */
static int parse_num(const char *what, const char *s, unsigned long long min,
                     unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *s == '-' || *end || errno || v < min || v > max) {
        fprintf(stderr, "pitboss serve: %s must be a number from %llu to %llu (got '%s')\n", what,
                min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* An environment variable, NULL when unset or empty. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Creates dir (and missing parents) with mode 0700 (core/sealbox.h); warns when
 * others may read an existing one. 0, or -1 with the reason in err. */
static int make_keys_dir(const char *dir, char *err, size_t errcap)
{
    if (pb_keyfile_make_dir(dir, err, errcap) != 0)
        return -1;
    struct stat st;
    if (stat(dir, &st) == 0 && (st.st_mode & 077))
        pb_log(PB_LOG_WARN, "serve.keys_dir", "%s is readable by others (mode %03o); use 0700", dir,
               (unsigned)(st.st_mode & 0777));
    return 0;
}

/* Table of the numeric options: flag, environment variable, bounds, field. */
typedef struct num_opt {
    const char *flag, *env;
    unsigned long long min, max;
    size_t offset;
} num_opt;

static const num_opt num_opts[] = {
    {"threads", "PITBOSS_HTTP_THREADS", 1, 256, offsetof(serve_opts, threads)},
    {"max-body", "PITBOSS_MAX_BODY", 1, 1ull << 30, offsetof(serve_opts, max_body)},
    {"max-header", "PITBOSS_MAX_HEADER", 4096, 1u << 20, offsetof(serve_opts, max_header)},
    {"max-connections", "PITBOSS_MAX_CONNECTIONS", 1, 1000000,
     offsetof(serve_opts, max_connections)},
    {"max-per-ip", "PITBOSS_MAX_PER_IP", 0, 1000000, offsetof(serve_opts, max_per_ip)},
    {"timeout", "PITBOSS_HTTP_TIMEOUT", 1, 86400, offsetof(serve_opts, timeout_s)},
    {"drain-timeout", "PITBOSS_DRAIN_TIMEOUT", 0, 3600, offsetof(serve_opts, drain_s)},
    {"pin-writer", "PITBOSS_PIN_WRITER", 0, 1, offsetof(serve_opts, pin_writer)},
    {"idle-sync", "PITBOSS_IDLE_SYNC", 0, 1, offsetof(serve_opts, idle_sync)},
    {"coalesce", "PITBOSS_COALESCE", 0, 1, offsetof(serve_opts, coalesce)},
    {"wal-reserve", "PITBOSS_WAL_RESERVE", 0, 1, offsetof(serve_opts, wal_reserve)},
    {"session-history-days", "PITBOSS_SESSION_HISTORY_DAYS", 1, 3650,
     offsetof(serve_opts, session_history_days)},
    {"max-exports", "PITBOSS_MAX_EXPORTS", 1, 1000, offsetof(serve_opts, max_exports)},
    {"log-flush-ms", "PITBOSS_LOG_FLUSH_MS", 0, 1000, offsetof(serve_opts, log_flush_ms)},
    {"backup-every", "PITBOSS_BACKUP_EVERY", 1, 604800, offsetof(serve_opts, backup_every)},
    {"backup-keep", "PITBOSS_BACKUP_KEEP", 1, 10000, offsetof(serve_opts, backup_keep)},
    /* the older name first: given both, the newer wins */
    {"adjust-sweep-seconds", "PITBOSS_ADJUST_SWEEP_SECONDS", 1, 86400,
     offsetof(serve_opts, request_sweep_s)},
    {"request-sweep-seconds", "PITBOSS_REQUEST_SWEEP_SECONDS", 1, 86400,
     offsetof(serve_opts, request_sweep_s)},
};
#define NNUM (sizeof num_opts / sizeof num_opts[0])

/* Fills o from defaults, the environment, then argv. 0, 1 (--help shown) or -1. */
static int read_opts(int argc, char **argv, serve_opts *o)
{
    *o = (serve_opts){.listen = "127.0.0.1:8080",
                      .keys_dir = "var/keys",
                      .threads = 4,
                      .max_body = 1u << 20,
                      .max_header = 16u << 10,
                      .max_connections = 1024,
                      .max_per_ip = 0,
                      .timeout_s = 30,
                      .drain_s = 10,
                      .idle_sync = 1,
                      .wal_reserve = 1,
                      .session_history_days = PB_IDENTITY_SESSION_HISTORY_DAYS,
                      .max_exports = PB_API_EXPORTS_MAX_DEFAULT,
                      .log_flush_ms = 100,
                      .backup_every = 3600,
                      .backup_keep = 24,
                      .request_sweep_s = PB_API_REQUEST_SWEEP_DEFAULT_S};
    if (env("PITBOSS_LISTEN"))
        o->listen = env("PITBOSS_LISTEN");
    if (env("PITBOSS_KEYS_DIR"))
        o->keys_dir = env("PITBOSS_KEYS_DIR");
    o->log_level = env("PITBOSS_LOG_LEVEL");
    o->web_dir = env("PITBOSS_WEB_DIR");
    o->backup_dir = env("PITBOSS_BACKUP_DIR");
    o->trusted_proxies = env("PITBOSS_TRUSTED_PROXIES");
    for (size_t i = 0; i < NNUM; i++)
        if (env(num_opts[i].env) &&
            parse_num(num_opts[i].env, env(num_opts[i].env), num_opts[i].min, num_opts[i].max,
                      (unsigned long long *)((char *)o + num_opts[i].offset)) != 0)
            return -1;

    struct option lopts[NNUM + 9];
    for (size_t i = 0; i < NNUM; i++)
        lopts[i] = (struct option){num_opts[i].flag, required_argument, 0, (int)(256 + i)};
    lopts[NNUM] = (struct option){"listen", required_argument, 0, 'l'};
    lopts[NNUM + 1] = (struct option){"db", required_argument, 0, 'd'};
    lopts[NNUM + 2] = (struct option){"keys-dir", required_argument, 0, 'k'};
    lopts[NNUM + 3] = (struct option){"log-level", required_argument, 0, 'L'};
    lopts[NNUM + 4] = (struct option){"help", no_argument, 0, 'h'};
    lopts[NNUM + 5] = (struct option){"web-dir", required_argument, 0, 'w'};
    lopts[NNUM + 6] = (struct option){"backup-dir", required_argument, 0, 'b'};
    lopts[NNUM + 7] = (struct option){"trusted-proxies", required_argument, 0, 'P'};
    lopts[NNUM + 8] = (struct option){0, 0, 0, 0};
    int c;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        if (c >= 256 && c < 256 + (int)NNUM) {
            const num_opt *n = &num_opts[c - 256];
            char what[40];
            snprintf(what, sizeof what, "--%s", n->flag);
            if (parse_num(what, optarg, n->min, n->max,
                          (unsigned long long *)((char *)o + n->offset)) != 0)
                return -1;
        } else if (c == 'l') {
            o->listen = optarg;
        } else if (c == 'd') {
            o->db = optarg;
        } else if (c == 'k') {
            o->keys_dir = optarg;
        } else if (c == 'L') {
            o->log_level = optarg;
        } else if (c == 'w') {
            o->web_dir = optarg;
        } else if (c == 'b') {
            o->backup_dir = optarg;
        } else if (c == 'P') {
            o->trusted_proxies = optarg;
        } else if (c == 'h') {
            serve_usage(stdout);
            return 1;
        } else {
            serve_usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pitboss serve: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (o->log_level) {
        static const char *const levels[] = {"debug", "info", "warn", "error"};
        size_t i = 0;
        while (i < 4 && strcasecmp(o->log_level, levels[i]) != 0)
            i++;
        if (i == 4) {
            fprintf(stderr, "pitboss serve: --log-level must be debug, info, warn or error\n");
            return -1;
        }
        pb_log_set_level((pb_log_level)i);
    }
    return 0;
}

/* Everything serve opens, closed in reverse order by serve_close(). */
/* The ledger anchorer: every period (PB_LEDGER_ANCHOR_PERIOD_MS, or
 * PITBOSS_LEDGER_ANCHOR_EVERY seconds), on its own thread and connection, signs
 * the ledger's head and new accounts with the audit key (src/ledger/anchor.c)
 * when something is new; once more when serve stops. What it did is on /metrics
 * (stats); a failure is logged by pb_ledger_anchor (a warning when the database
 * was busy: retried with backoff) and, when three in a row failed or the one at
 * stop did, as an error naming what is left unsigned. */
typedef struct serve_anchorer {
    pb_store_conn *conn;
    const pb_audit_key *key;
    pb_ledger_signer signer;
    pb_ticker *ticker;
    int failed_in_row;
    pb_ledger_anchor_stats stats;
} serve_anchorer;

static void anchor_sign(void *ctx, const uint8_t *msg, size_t n, uint8_t sig[64])
{
    pb_audit_key_sign(ctx, msg, n, sig);
}

/* One attempt: the stats kept, a failure logged. at_stop: the last one. */
static bool anchorer_once(serve_anchorer *a, bool at_stop, int64_t retry_ms)
{
    pb_store_ledger_anchor out;
    bool written = false;
    if (pb_ledger_anchor(a->conn, &a->signer, pb_time_now_us(), &out, &written) == PB_OK) {
        a->failed_in_row = 0;
        if (written) {
            atomic_store(&a->stats.seq, out.transfer_seq);
            atomic_store(&a->stats.created_at, out.created_at);
            atomic_fetch_add(&a->stats.written, 1);
        }
        return true;
    }
    atomic_fetch_add(&a->stats.failures, 1);
    a->failed_in_row++;
    if (at_stop)
        pb_log(PB_LOG_ERROR, "ledger.anchor",
               "the ledger could not be anchored at stop: it is signed through transfer seq "
               "%lld only; the next start anchors the rest",
               (long long)atomic_load(&a->stats.seq));
    else if (a->failed_in_row >= 3)
        pb_log(PB_LOG_ERROR, "ledger.anchor",
               "the ledger could not be anchored %d times in a row: it is signed through "
               "transfer seq %lld only; next attempt in %lld s",
               a->failed_in_row, (long long)atomic_load(&a->stats.seq),
               (long long)(retry_ms / 1000));
    return false;
}

static bool anchorer_pass(void *arg, int64_t retry_ms)
{
    return anchorer_once(arg, false, retry_ms);
}

static void anchorer_leave(void *arg) { anchorer_once(arg, true, 0); /* anchor the rest */ }

/* Starts the anchorer with app's audit key, every period_ms. 0, or -1 with the
 * reason in err. */
static int anchorer_start(serve_anchorer *a, pb_store *store, const pb_audit_key *key,
                          int64_t period_ms, char *err, size_t errcap)
{
    char why[400];
    a->key = key;
    memcpy(a->signer.public_key, pb_audit_key_public(key)->b, 32);
    a->signer.sign = anchor_sign;
    a->signer.ctx = (void *)key;
    if (!(a->conn = pb_store_connect(store, why, sizeof why))) {
        snprintf(err, errcap, "ledger anchorer: %s", why);
        return -1;
    }
    /* the newest anchor already there (an earlier run's): /metrics shows it at once */
    pb_store_ledger_anchor last;
    if (pb_store_ledger_anchor_last(a->conn, &last) == PB_STORE_OK && !last.malformed) {
        atomic_store(&a->stats.seq, last.transfer_seq);
        atomic_store(&a->stats.created_at, last.created_at);
    }
    pb_ticker_spec spec = {.name = "ledger-anchor",
                           .clock = CLOCK_MONOTONIC,
                           .interval_ms = period_ms,
                           .backoff_max_ms = 10 * period_ms,
                           .pass = anchorer_pass,
                           .leave = anchorer_leave,
                           .arg = a};
    if (!(a->ticker = pb_ticker_start(&spec))) {
        snprintf(err, errcap, "cannot start the ledger anchorer thread");
        pb_store_disconnect(a->conn);
        a->conn = NULL;
        return -1;
    }
    return 0;
}

static void anchorer_stop(serve_anchorer *a)
{
    if (a->ticker)
        pb_ticker_stop(a->ticker); /* its last act: an anchor over the rest */
    if (a->conn)
        pb_store_disconnect(a->conn);
    memset(a, 0, sizeof *a);
}

typedef struct serve_state {
    pb_store *store;
    serve_anchorer anchorer;
    pb_ledger *ledger;
    pb_store_pool *pool;
    pb_http_server *http;
    pb_identity_pruner *pruner;
    pb_api_app app;
} serve_state;

static void serve_close(serve_state *s)
{
    /* games-play: the crash scheduler submits ledger commands: it stops first */
    pb_api_games_stop(&s->app);
    pb_api_request_sweep_stop(s->app.request_sweep); /* so does the expiry sweep */
    s->app.request_sweep = NULL;
    pb_api_cashier_stop(&s->app); /* and the payout retry (its passes re-check in the ledger) */
    pb_ledger_close(s->ledger);   /* replies to whatever is still suspended on it */
    pb_http_server_free(s->http);
    /* @serve-close-admin */
    /* @serve-close-sim */
    /* @serve-close-provider-hub88 */
    pb_api_hub88_close(&s->app);
    /* @serve-close-provider-native */
    pb_api_native_close(&s->app);
    /* @serve-close-cashier */
    pb_api_cashier_close(&s->app); /* after the server: its thread only speaks HTTP to it */
    /* @serve-close-catalog */
    /* @serve-close-wallet */
    /* @serve-close-events */
    pb_api_events_close(&s->app); /* after the server: its streams are ended by then */
    /* @serve-close-games-play */
    /* @serve-close-backoffice */
    pb_api_bo_exports_wait(); /* exports still writing (their streams have ended) */
    /* @serve-close-web */
    pb_http_static_free(s->app.web);     /* after the server: no request reads it any more */
    pb_api_games_close(&s->app);         /* after the ledger: its last callbacks may use it */
    pb_wallet_close(s->app.wallet);      /* after the ledger: its last callbacks may use it */
    anchorer_stop(&s->anchorer);         /* after the ledger: anchors its last transfers */
    pb_api_admin_close(&s->app);         /* signs the audit chain head, then frees the key */
    pb_api_backups_stop(s->app.backups); /* a backup under way finishes */
    pb_identity_pruner_stop(s->pruner);  /* a chunk under way finishes */
    /* @serve-close-player */
    pb_api_auth_close(&s->app);
    pb_store_pool_free(s->pool);
    pb_store_close(s->store);
}

/* Opens the store, the ledger, the pool and the server. 0 or -1 (reason printed). */
static int serve_open(const serve_opts *o, serve_state *s)
{
    char err[512];
    const char *url = pb_cli_db_url(o->db);
    if (!(s->store = pb_cli_open_store(url, true)))
        return -1;
    /* the keys directory must be this database's before anything seals under it */
    if (pb_cli_keys_check(s->store, o->keys_dir, true, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    pb_ledger_config lcfg = {.pin_writer = o->pin_writer != 0,
                             .idle_sync_in_notifier = o->idle_sync == 0,
                             .coalesce = o->coalesce != 0,
                             .wal_reserve = o->wal_reserve != 0};
    if (!(s->ledger = pb_ledger_open(s->store, &lcfg, err, sizeof err))) {
        fprintf(stderr, "pitboss serve: cannot start the ledger: %s\n", err);
        return -1;
    }
    /* every thread started from here on (the HTTP workers, the dispatchers)
     * inherits this thread's CPUs: off the pinned writer's */
    if (pb_cpu_avoid(pb_ledger_writer_cpu(s->ledger)) != 0)
        pb_log(PB_LOG_WARN, "serve.cpu", "cannot keep off the writer's CPU %d",
               pb_ledger_writer_cpu(s->ledger));
    /* one connection per worker at a time, plus a few for replies after a suspension */
    if (!(s->pool = pb_store_pool_new(s->store, (int)o->threads + 4))) {
        fprintf(stderr, "pitboss serve: out of memory\n");
        return -1;
    }
    s->app = (pb_api_app){.store = s->store,
                          .ledger = s->ledger,
                          .keys_dir = o->keys_dir,
                          .started_us = pb_time_now_us(),
                          .max_exports = (unsigned)o->max_exports};
    pb_http_config cfg = {.listen = o->listen,
                          .threads = (unsigned)o->threads,
                          .max_body = (size_t)o->max_body,
                          .max_header = (size_t)o->max_header,
                          .max_connections = (unsigned)o->max_connections,
                          .max_per_ip = (unsigned)o->max_per_ip,
                          .timeout_s = (unsigned)o->timeout_s,
                          .trusted_proxies = o->trusted_proxies};
    s->http = pb_http_server_new(&cfg, pb_api_routes, pb_api_route_count, &s->app, s->pool, err,
                                 sizeof err);
    if (!s->http) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    s->app.http = s->http;
    /* @serve-open-player: identity, rate limiters and the authorizer are set up here */
    {
        /* PITBOSS_PLAYER_ACCESS_TTL: player access-token lifetime, s (1..900; default 900) */
        unsigned long long ttl_s = 0;
        const char *ttl = env("PITBOSS_PLAYER_ACCESS_TTL");
        if (ttl && parse_num("PITBOSS_PLAYER_ACCESS_TTL", ttl, 1, 900, &ttl_s) != 0)
            return -1;
        if (pb_api_auth_open(&s->app, o->keys_dir, (int64_t)ttl_s, err, sizeof err) != 0) {
            fprintf(stderr, "pitboss serve: %s\n", err);
            return -1;
        }
        pb_http_server_set_authorizer(s->http, pb_api_authorize, &s->app);
        pb_http_server_set_challenge(s->http, pb_api_challenge_hook, NULL);
    }
    /* @serve-open-admin: the audit key and the checkpoint timer are set up here */
    if (pb_api_admin_open(&s->app, s->store, o->keys_dir, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    /* the ledger anchors, signed with the same audit key (stopped before it is freed);
     * PITBOSS_LEDGER_ANCHOR_EVERY: seconds between two (1..3600; default 60) */
    {
        unsigned long long every_s = PB_LEDGER_ANCHOR_PERIOD_MS / 1000;
        const char *every = env("PITBOSS_LEDGER_ANCHOR_EVERY");
        if (every && parse_num("PITBOSS_LEDGER_ANCHOR_EVERY", every, 1, 3600, &every_s) != 0)
            return -1;
        if (anchorer_start(&s->anchorer, s->store, s->app.audit_key, (int64_t)every_s * 1000, err,
                           sizeof err) != 0) {
            fprintf(stderr, "pitboss serve: %s\n", err);
            return -1;
        }
        s->app.anchors = &s->anchorer.stats;
    }
    /* provider keys sealed at rest: before the games open (they create a provider) */
    if (pb_api_catalog_seal_open(&s->app, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    /* players' dates of birth and names sealed at rest (pii.key), clear ones sealed now */
    if (pb_identity_pii_open(s->app.identity, s->store, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    /* @serve-open-wallet */
    s->app.wallet = pb_wallet_open(s->ledger, s->store, err, sizeof err);
    if (!s->app.wallet) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    /* @serve-open-events */
    if (pb_api_events_open(&s->app, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    /* @serve-open-backoffice */
    /* @serve-open-web */
    {
        /* the UI at /: --web-dir, PITBOSS_WEB_DIR, else web/dist (a 503 page while missing) */
        struct stat wst;
        const char *dir = o->web_dir;
        if (!dir && stat("web/dist", &wst) == 0)
            dir = "web/dist";
        if (dir) {
            if (!(s->app.web = pb_http_static_new(dir))) {
                fprintf(stderr, "pitboss serve: out of memory\n");
                return -1;
            }
            pb_http_server_set_fallback(s->http, pb_http_static_serve, s->app.web);
        }
    }
    const char *mt = env("PITBOSS_METRICS_TOKEN");
    if (mt && pb_api_metrics_token_set(&s->app, mt, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    /* @serve-open-games-play */
    if (pb_api_games_open(&s->app, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    /* @serve-open-catalog */
    {
        /* PITBOSS_LAUNCH_TTL: game launch-token lifetime, s (60..86400; default 14400 = 4 h) */
        unsigned long long ttl_s = PB_LAUNCH_TTL_DEFAULT_S;
        const char *ttl = env("PITBOSS_LAUNCH_TTL");
        if (ttl && parse_num("PITBOSS_LAUNCH_TTL", ttl, 60, 86400, &ttl_s) != 0)
            return -1;
        s->app.launch_ttl_s = (int64_t)ttl_s;
    }
    /* @serve-open-cashier */
    {
        /* PITBOSS_SANDBOX_PSP: 1 turns the built-in sandbox PSP (and its public endpoints,
         * which complete a deposit for whoever calls them) on; off unless asked for, so that
         * no deployment takes money it was never paid;
         * PITBOSS_SANDBOX_PAYOUT_DELAY_MS: how long it takes to confirm a payout (default 1000) */
        const char *sb = env("PITBOSS_SANDBOX_PSP");
        if (sb && strcmp(sb, "0") != 0 && strcmp(sb, "1") != 0) {
            fprintf(stderr, "pitboss serve: PITBOSS_SANDBOX_PSP must be 0 or 1, not \"%s\"\n", sb);
            return -1;
        }
        bool sandbox = sb && strcmp(sb, "1") == 0;
        if (sandbox)
            pb_log(PB_LOG_WARN, "cashier.sandbox",
                   "the sandbox PSP is on (PITBOSS_SANDBOX_PSP=1): anyone who reaches "
                   "/v1/sandbox-psp/ can complete a deposit — for demos and tests only");
        unsigned long long delay_ms = 1000;
        const char *delay = env("PITBOSS_SANDBOX_PAYOUT_DELAY_MS");
        if (delay && parse_num("PITBOSS_SANDBOX_PAYOUT_DELAY_MS", delay, 1, 600000, &delay_ms) != 0)
            return -1;
        /* PITBOSS_PAYOUT_RETRY_MS: how often payouts a PSP did not take are sent again
         * (default 30000, PB_CASHIER_DEFAULT_PAYOUT_RETRY_MS) */
        unsigned long long retry_ms = 30000;
        const char *retry = env("PITBOSS_PAYOUT_RETRY_MS");
        if (retry && parse_num("PITBOSS_PAYOUT_RETRY_MS", retry, 100, 3600000, &retry_ms) != 0)
            return -1;
        /* PITBOSS_SANDBOX_STUCK_PAYOUTS: 1 turns the sandbox's test knobs for payouts that
         * staff must resolve on (amounts ending in 19, 23, 29, 31: see cashier/psp.h) */
        const char *stuck = env("PITBOSS_SANDBOX_STUCK_PAYOUTS");
        if (stuck && strcmp(stuck, "0") != 0 && strcmp(stuck, "1") != 0) {
            fprintf(stderr, "pitboss serve: PITBOSS_SANDBOX_STUCK_PAYOUTS must be 0 or 1\n");
            return -1;
        }
        if (pb_api_cashier_open(&s->app, o->listen, sandbox, stuck && strcmp(stuck, "1") == 0,
                                (int)delay_ms, (int)retry_ms, err, sizeof err) != 0) {
            fprintf(stderr, "pitboss serve: cashier: %s\n", err);
            return -1;
        }
    }
    /* @serve-open-provider-native */
    if (pb_api_native_open(&s->app, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    /* @serve-open-provider-hub88 */
    if (pb_api_hub88_open(&s->app, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    /* @serve-open-sim */
    if (o->backup_dir && *o->backup_dir &&
        !(s->app.backups = pb_api_backups_start(s->store, o->backup_dir, (int)o->backup_every,
                                                (int)o->backup_keep, s->app.audit_trust,
                                                s->app.naudit_trust, err, sizeof err))) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    /* 4-eyes requests past their time marked expired (admin_request_sweep.c) */
    if (!(s->app.request_sweep = pb_api_request_sweep_start(s->store, s->ledger,
                                                            (int)o->request_sweep_s, err,
                                                            sizeof err))) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    if (!(s->pruner = pb_identity_pruner_start(s->store,
                                               (int64_t)o->session_history_days * 86400 * 1000000,
                                               0, err, sizeof err))) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    if (pb_http_server_start(s->http, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    pb_api_cashier_listening(&s->app, pb_http_server_port(s->http));
    /* the secrets this start created, recorded */
    if (pb_cli_keys_check(s->store, o->keys_dir, true, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss serve: %s\n", err);
        return -1;
    }
    return 0;
}

int pb_cmd_serve(int argc, char **argv)
{
    serve_opts o;
    int rc = read_opts(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    char kerr[512];
    if (make_keys_dir(o.keys_dir, kerr, sizeof kerr) != 0) {
        fprintf(stderr, "pitboss serve: the keys directory: %s\n", kerr);
        return 1;
    }

    /* before any thread exists: every thread inherits this mask */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    serve_state s = {0};
    if (serve_open(&o, &s) != 0) {
        if (s.http)
            pb_http_server_shutdown(s.http, 0);
        serve_close(&s);
        return 1;
    }
    /* from here the info lines are written together (the access log's: one write per
     * request otherwise); the listening line above went out at once */
    if (pb_log_buffer_start((unsigned)o.log_flush_ms) != 0)
        pb_log(PB_LOG_WARN, "serve.log_buffer",
               "cannot buffer the log: each line is written at once");
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    pb_log(PB_LOG_INFO, "serve.stopping", "%s received: draining for up to %llu s",
           sig == SIGINT ? "SIGINT" : "SIGTERM", o.drain_s);
    pb_http_server_shutdown(s.http, (int)(o.drain_s * 1000));
    serve_close(&s);
    pb_log(PB_LOG_INFO, "serve.stopped", "clean exit");
    pb_log_buffer_stop();
    return 0;
}

int pb_cmd_routes(int argc, char **argv)
{
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        fprintf(help ? stdout : stderr,
                "usage: pitboss routes\n\nPrints the HTTP route table, one JSON object per "
                "line: {\"method\",\"pattern\",\"permission\",\"name\"} (permission null = "
                "public).\n");
        return help ? 0 : 2;
    }
    for (size_t i = 0; i < pb_api_route_count; i++) {
        const pb_route *r = &pb_api_routes[i];
        json_t *j = json_pack("{s:s,s:s,s:s?,s:s}", "method", r->method, "pattern", r->pattern,
                              "permission", r->permission, "name", r->name);
        char *line = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(j);
        if (!line)
            return 1;
        puts(line);
        free(line);
    }
    return 0;
}
