/*
 * cmd_bench.c — `pitboss bench ledger`: durable transfers through the real
 * writer on a fresh SQLite database (WAL, synchronous=FULL), from 1, 8 and 64
 * submitting threads.
 *
 * Each submitter loops for --seconds: it submits ONE transfer at a time (as an
 * HTTP worker serving one bet would) and waits for it to be durable, timing
 * each call. The mix: single-phase bets and wins between random players and
 * the house, pending holds, and posts (full or partial) and voids of the
 * submitter's own holds. Idempotency keys are time-ordered UUIDv7 strings by
 * default (what pitboss's own callers send); --random-keys uses random ones.
 * After each run `ledger verify` must pass, or the run is reported as failed.
 * Prints one JSON line per run.
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/sqlite/walbuf.h"
#include "core/cpu.h"
#include "core/id.h"
#include "core/time.h"
#include "ledger/ledger.h"

typedef struct bench_opts {
    const char *dir;
    int clients[8];
    int nclients;
    double seconds;
    int accounts;
    bool random_keys;
    int per_submit; /* transfers per pb_ledger_submit call */
    bool async;     /* submitters are in-flight async submissions, not threads */
    bool sync_in_writer;
    bool idle_sync_in_notifier; /* every batch's sync through the notifier */
    bool no_pin;                /* --no-pin: the writer shares the CPUs with everyone */
    bool no_wal_reserve;        /* --no-wal-reserve: the WAL grows with the commits */
    bool coalesce;              /* --coalesce: batches applied during a sync commit together */
    int balance_flush_ms;       /* the ledger's balance write-back delay; 0 = its default */
} bench_opts;

typedef struct client {
    pb_ledger *l;
    const bench_opts *o;
    int64_t house, first_player;
    int64_t deadline_us;
    uint64_t rng;
    /* results */
    int64_t *lat_us;
    size_t nlat, cap;
    uint64_t ok, rejected;
    pb_id open[64];
    size_t nopen;
    bool failed;
    /* async mode: the one transfer in flight, when it left, and the run's completion */
    pb_transfer t;
    int64_t t0;
    sem_t *finished;
} client;

static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void make_key(client *c, pb_transfer *t)
{
    snprintf(t->scope, sizeof t->scope, "bench");
    if (c->o->random_keys) {
        uint8_t b[16];
        randombytes_buf(b, sizeof b);
        sodium_bin2hex(t->key, sizeof t->key, b, sizeof b);
    } else {
        pb_id id;
        pb_id_new(&id);
        pb_id_to_string(&id, t->key);
    }
}

static void record(client *c, int64_t us)
{
    if (c->nlat == c->cap) {
        size_t n = c->cap ? c->cap * 2 : 65536;
        int64_t *p = realloc(c->lat_us, n * sizeof *p);
        if (!p) {
            c->failed = true;
            return;
        }
        c->lat_us = p;
        c->cap = n;
    }
    c->lat_us[c->nlat++] = us;
}

/* Fills one transfer of the mix; holds resolve earlier holds of this client. */
static void make_transfer(client *c, pb_transfer *tp)
{
    pb_transfer t;
    {
        memset(&t, 0, sizeof t);
        make_key(c, &t);
        uint64_t r = next_rand(&c->rng);
        int64_t player = c->first_player + (int64_t)(r % (uint64_t)c->o->accounts);
        int op = (int)((r >> 32) % 100);
        if (op >= 70 && c->nopen > 0) { /* resolve one of our holds */
            size_t i = (r >> 40) % c->nopen;
            t.pending_id = c->open[i];
            c->open[i] = c->open[--c->nopen];
            t.flags = op < 85 ? PB_TRANSFER_POST_PENDING : PB_TRANSFER_VOID_PENDING;
            if (op < 78)
                t.amount = 1; /* a partial post */
        } else {
            bool win = op < 30;
            t.debit_account_id = win ? c->house : player;
            t.credit_account_id = win ? player : c->house;
            t.amount = 1 + (int64_t)((r >> 20) % 100);
            t.code = win ? PB_CODE_WIN : PB_CODE_BET;
            snprintf(t.currency, sizeof t.currency, "EUR");
            if (op >= 50 && c->nopen + (size_t)c->o->per_submit <= 64) {
                t.flags = PB_TRANSFER_PENDING;
                t.timeout_s = 3600;
            }
        }
    }
    *tp = t;
}

static void *client_main(void *arg)
{
    client *c = arg;
    pb_cpu_avoid(pb_ledger_writer_cpu(c->l)); /* the writer's CPU is its own */
    size_t per = (size_t)c->o->per_submit;
    pb_transfer *t = calloc(per, sizeof *t);
    if (!t) {
        c->failed = true;
        return NULL;
    }
    while (pb_time_mono_us() < c->deadline_us && !c->failed) {
        for (size_t i = 0; i < per; i++)
            make_transfer(c, &t[i]);
        int64_t t0 = pb_time_mono_us();
        pb_err e = pb_ledger_submit(c->l, t, per);
        int64_t took = pb_time_mono_us() - t0;
        if (e != PB_OK) {
            fprintf(stderr, "bench: submit failed: %s\n", pb_err_code(e));
            c->failed = true;
            break;
        }
        for (size_t i = 0; i < per; i++) {
            record(c, took);
            if (t[i].result == PB_OK) {
                c->ok++;
                if ((t[i].flags & PB_TRANSFER_PENDING) && c->nopen < 64)
                    c->open[c->nopen++] = t[i].record.id;
            } else {
                c->rejected++;
            }
        }
    }
    free(t);
    return NULL;
}

/* Async mode: the ledger calls this when the client's transfer is durable; the
 * client records it and, until the deadline, submits its next one at once. */
static void async_done(void *ctx, pb_err status)
{
    client *c = ctx;
    record(c, pb_time_mono_us() - c->t0);
    if (status != PB_OK) {
        fprintf(stderr, "bench: submit failed: %s\n", pb_err_code(status));
        c->failed = true;
    } else if (c->t.result == PB_OK) {
        c->ok++;
        if ((c->t.flags & PB_TRANSFER_PENDING) && c->nopen < 64)
            c->open[c->nopen++] = c->t.record.id;
    } else {
        c->rejected++;
    }
    if (c->failed || pb_time_mono_us() >= c->deadline_us) {
        sem_post(c->finished);
        return;
    }
    make_transfer(c, &c->t);
    c->t0 = pb_time_mono_us();
    if (pb_ledger_submit_async(c->l, &c->t, 1, async_done, c) != PB_OK) {
        c->failed = true;
        sem_post(c->finished);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int setup_accounts(pb_ledger *l, int n, int64_t *house, int64_t *first_player)
{
    pb_ledger_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.brand, sizeof a.brand, "bench");
    snprintf(a.currency, sizeof a.currency, "EUR");
    snprintf(a.owner, sizeof a.owner, "house");
    snprintf(a.kind, sizeof a.kind, "house_revenue");
    if (pb_ledger_account_create(l, &a) != PB_OK)
        return -1;
    *house = a.id;
    memset(a.owner, 0, sizeof a.owner);
    snprintf(a.owner, sizeof a.owner, "psp");
    snprintf(a.kind, sizeof a.kind, "psp_clearing");
    a.id = 0;
    if (pb_ledger_account_create(l, &a) != PB_OK)
        return -1;
    int64_t psp = a.id;
    /* the players' accounts queued a chunk at a time (pb_ledger_accounts_create:
     * they share the writer's commits), then funded a chunk at a time */
    pb_ledger_account *acc = calloc(PB_LEDGER_MAX_SUBMIT, sizeof *acc);
    pb_err *res = calloc(PB_LEDGER_MAX_SUBMIT, sizeof *res);
    pb_transfer *t = calloc(PB_LEDGER_MAX_SUBMIT, sizeof *t);
    int rc = acc && res && t ? 0 : -1;
    for (int i = 0; i < n && rc == 0;) {
        size_t k = 0;
        for (; k < PB_LEDGER_MAX_SUBMIT && i + (int)k < n; k++) {
            acc[k] = a;
            acc[k].id = 0;
            snprintf(acc[k].owner, sizeof acc[k].owner, "player:%d", i + (int)k);
            snprintf(acc[k].kind, sizeof acc[k].kind, "player_cash");
            acc[k].flags = PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
        }
        if (pb_ledger_accounts_create(l, acc, k, res) != PB_OK)
            rc = -1;
        for (size_t j = 0; j < k && rc == 0; j++) {
            if (i == 0 && j == 0 && res[0] == PB_OK)
                *first_player = acc[0].id;
            /* the bench picks players as first_player + k: the ids must follow on */
            if (res[j] != PB_OK || acc[j].id != *first_player + i + (int64_t)j) {
                rc = -1;
                break;
            }
            pb_transfer *d = &t[j];
            memset(d, 0, sizeof *d);
            snprintf(d->scope, sizeof d->scope, "bench.setup");
            snprintf(d->key, sizeof d->key, "deposit:%d", i + (int)j);
            d->debit_account_id = psp;
            d->credit_account_id = acc[j].id;
            d->amount = 100000000; /* 1,000,000.00 EUR each */
            d->code = PB_CODE_DEPOSIT;
            snprintf(d->currency, sizeof d->currency, "EUR");
        }
        if (rc == 0 && pb_ledger_submit(l, t, k) != PB_OK)
            rc = -1;
        i += (int)k;
    }
    free(acc);
    free(res);
    free(t);
    return rc;
}

static void remove_db(const char *path)
{
    char p[1100];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-writer.lock", path);
    unlink(p);
}

static void count_violation(void *ctx, const char *kind, const char *message)
{
    (void)ctx;
    fprintf(stderr, "bench: VIOLATION %s: %s\n", kind, message);
}

static int run_once(const bench_opts *o, int nclients)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bench-ledger-%d.db", o->dir, nclients);
    remove_db(path);
    pb_store *s = pb_cli_open_store(path, true);
    if (!s)
        return 1;
    char err[512];
    pb_ledger_config cfg = {.sync_in_writer = o->sync_in_writer,
                            .idle_sync_in_notifier = o->idle_sync_in_notifier,
                            .balance_flush_ms = o->balance_flush_ms,
                            .coalesce = o->coalesce,
                            .pin_writer = !o->no_pin,
                            .wal_reserve = !o->no_wal_reserve};
    pb_ledger *l = pb_ledger_open(s, &cfg, err, sizeof err);
    if (!l) {
        fprintf(stderr, "bench: %s\n", err);
        pb_store_close(s);
        return 1;
    }
    int64_t house = 0, first = 0;
    if (setup_accounts(l, o->accounts, &house, &first) != 0) {
        fprintf(stderr, "bench: account setup failed\n");
        pb_ledger_close(l);
        pb_store_close(s);
        return 1;
    }
    int writer_cpu = pb_ledger_writer_cpu(l);
    pb_ledger_stats before, after;
    pb_ledger_stats_get(l, &before);
    unsigned long long wal_req0, wal_wr0, wal_req1, wal_wr1; /* the WAL buffer's counts */
    pb_walbuf_stats(&wal_req0, &wal_wr0);
    unsigned long long commits0, commits1;
    pb_walbuf_commits(&commits0);
    client *cl = calloc((size_t)nclients, sizeof *cl);
    pthread_t *th = calloc((size_t)nclients, sizeof *th);
    pb_cpu_times cpu0, cpu1; /* the machine's CPU time over the run */
    bool have_cpu = pb_cpu_times_read(&cpu0) == 0;
    int64_t start = pb_time_mono_us();
    int64_t deadline = start + (int64_t)(o->seconds * 1e6);
    sem_t finished;
    sem_init(&finished, 0, 0);
    for (int i = 0; i < nclients; i++) {
        cl[i] = (client){.l = l,
                         .o = o,
                         .house = house,
                         .first_player = first,
                         .deadline_us = deadline,
                         .rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1),
                         .finished = &finished};
        if (!o->async) {
            pthread_create(&th[i], NULL, client_main, &cl[i]);
            continue;
        }
        make_transfer(&cl[i], &cl[i].t);
        cl[i].t0 = pb_time_mono_us();
        if (pb_ledger_submit_async(l, &cl[i].t, 1, async_done, &cl[i]) != PB_OK) {
            cl[i].failed = true;
            sem_post(&finished);
        }
    }
    for (int i = 0; i < nclients; i++) {
        if (o->async)
            sem_wait(&finished);
        else
            pthread_join(th[i], NULL);
    }
    sem_destroy(&finished);
    double secs = (double)(pb_time_mono_us() - start) / 1e6;
    have_cpu = have_cpu && pb_cpu_times_read(&cpu1) == 0;
    pb_cpu_share cpu = have_cpu ? pb_cpu_times_share(&cpu0, &cpu1) : (pb_cpu_share){0};
    pb_ledger_stats_get(l, &after);
    pb_walbuf_stats(&wal_req1, &wal_wr1);
    pb_walbuf_commits(&commits1);
    pb_ledger_close(l);

    size_t total = 0;
    uint64_t ok = 0, rejected = 0;
    bool failed = false;
    for (int i = 0; i < nclients; i++) {
        total += cl[i].nlat;
        ok += cl[i].ok;
        rejected += cl[i].rejected;
        failed |= cl[i].failed;
    }
    int64_t *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < nclients; i++) {
        memcpy(all + k, cl[i].lat_us, cl[i].nlat * sizeof *all);
        k += cl[i].nlat;
        free(cl[i].lat_us);
    }
    qsort(all, total, sizeof *all, cmp_i64);
    double p50 = total ? (double)all[total / 2] / 1000.0 : 0;
    double p99 = total ? (double)all[(size_t)((double)total * 0.99)] / 1000.0 : 0;
    uint64_t batches = after.batches - before.batches;

    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    pb_ledger_verify_summary vs = {0};
    pb_err ve = c ? pb_ledger_verify(c, count_violation, NULL, &vs) : PB_ERR_INTERNAL;
    if (ve != PB_OK)
        fprintf(stderr, "bench: ledger verify could not run: %s (%s)\n", pb_err_code(ve),
                c ? pb_store_errmsg(c) : err);
    pb_store_disconnect(c);
    pb_store_close(s);
    bool verified = ve == PB_OK && vs.violations == 0;

    printf(
        "{\"bench\":\"ledger\",\"clients\":%d,\"transfers\":%zu,\"seconds\":%.3f,"
        "\"transfers_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
        "\"accepted\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"avg_batch\":%.1f,"
        "\"per_submit\":%d,\"mode\":\"%s\",\"sync\":\"%s\",\"writer_busy\":%.2f,\"writer_cpu_us_per_transfer\":%.2f,\"balance_flush_ms\":%d,\"keys\":\"%s\",\"accounts\":%d,"
        "\"wal_pages_per_transfer\":%.2f,\"wal_writes_per_commit\":%.2f,"
        "\"coalesce\":%s,\"commits_per_sync\":%.2f,"
        "\"syncs_per_s\":%.0f,\"transfers_per_sync\":%.1f,\"sync_ms_mean\":%.3f,\"syncs_inline_pct\":%.1f,\"writer_cpu\":%d,\"wal_reserve\":%s,"
        "\"cpu_busy_pct\":%.1f,\"cpu_iowait_pct\":%.1f,\"cpu_steal_pct\":%.1f,\"verify\":\"%s\"}\n",
        nclients, total, secs, (double)total / secs, p50, p99, ok, rejected,
        batches ? (double)(after.transfers - before.transfers) / (double)batches : 0.0,
        o->per_submit, o->async ? "async" : "threads", o->sync_in_writer ? "writer" : "pipelined",
        (double)(after.commit_us_total - before.commit_us_total) / (secs * 1e6),
        total ? (double)(after.cpu_us_total - before.cpu_us_total) / (double)total : 0.0,
        o->balance_flush_ms ? o->balance_flush_ms : 1000, o->random_keys ? "random" : "uuidv7",
        o->accounts,
        /* SQLite writes a frame as two calls (header, page) */
        total ? (double)(wal_req1 - wal_req0) / 2.0 / (double)total : 0.0,
        batches ? (double)(wal_wr1 - wal_wr0) / (double)batches : 0.0,
        o->coalesce && !o->sync_in_writer ? "true" : "false",
        after.syncs > before.syncs
            ? (double)(commits1 - commits0) / (double)(after.syncs - before.syncs)
            : 0.0,
        (double)(after.syncs - before.syncs) / secs,
        after.syncs > before.syncs
            ? (double)(after.transfers - before.transfers) / (double)(after.syncs - before.syncs)
            : 0.0,
        after.syncs > before.syncs ? (double)(after.sync_us_total - before.sync_us_total) / 1000.0 /
                                         (double)(after.syncs - before.syncs)
                                   : 0.0,
        after.syncs > before.syncs ? 100.0 * (double)(after.syncs_inline - before.syncs_inline) /
                                         (double)(after.syncs - before.syncs)
                                   : 0.0,
        writer_cpu, o->no_wal_reserve ? "false" : "true", cpu.busy_pct, cpu.iowait_pct,
        cpu.steal_pct, verified ? "ok" : "FAILED");
    fflush(stdout);
    free(all);
    free(cl);
    free(th);
    remove_db(path);
    return failed || !verified;
}

static int parse_clients(const char *s, bench_opts *o)
{
    o->nclients = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int n = atoi(tok);
        if (n < 1 || n > 1024 || o->nclients == 8)
            return -1;
        o->clients[o->nclients++] = n;
    }
    return o->nclients ? 0 : -1;
}

int pb_cmd_bench(int argc, char **argv)
{
    static const char *use =
        "usage: pitboss bench ledger [--dir DIR] [--clients 1,8,64] [--seconds 5]\n"
        "                            [--accounts 10000] [--per-submit 1] [--random-keys] [--async]\n"
        "                            [--sync-in-writer] [--idle-sync-in-notifier] [--balance-flush-ms 1000] [--no-pin]\n"
        "                            [--no-wal-reserve] [--coalesce]\n"
        "--async: each submitter is one submission kept in flight with pb_ledger_submit_async\n"
        "(resubmitted from its completion callback), the shape of the HTTP server's suspended\n"
        "requests; without it each submitter is a thread blocking in pb_ledger_submit.\n"
        "--balance-flush-ms: how long a balance row may lag before the writer writes it back\n"
        "(-1: at every commit, the eager way).\n"
        "--no-pin: do not give the writer a CPU of its own (by default, with two CPUs or more,\n"
        "the writer is pinned to the one with the fewest device interrupts and the submitters\n"
        "keep off it; writer_cpu = -1 in the output when it is not pinned).\n"
        "--no-wal-reserve: let the write-ahead log grow with the commits instead of reserving\n"
        "it when the ledger opens, as `serve --wal-reserve 0` does (wal_reserve in the output).\n"
        "--coalesce: hold the commit back while the notifier syncs, so that the batches applied\n"
        "meanwhile commit together (coalesce in the output; commits_per_sync counts the commits).\n";
    if (argc >= 2 && strcmp(argv[1], "game") == 0)
        return pb_cmd_bench_game(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "players") == 0)
        return pb_cmd_bench_players(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "wallet") == 0) /* src/cli/cmd_sim.c */
        return pb_cmd_bench_wallet(argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "ledger") != 0) {
        fputs(use, stderr);
        fputs("       pitboss bench game --help: the wallet's game money without HTTP\n", stderr);
        fputs("       pitboss bench players --help: the staff player list's pages by sort\n",
              stderr);
        fputs("       pitboss bench wallet --help: signed native bet + win calls over HTTP\n",
              stderr);
        return 2;
    }
    bench_opts o = {.dir = "var/bench", .seconds = 5, .accounts = 10000, .per_submit = 1};
    parse_clients("1,8,64", &o);
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"clients", required_argument, 0, 'c'},
                                         {"seconds", required_argument, 0, 's'},
                                         {"accounts", required_argument, 0, 'a'},
                                         {"random-keys", no_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {"per-submit", required_argument, 0, 'p'},
                                         {"async", no_argument, 0, 'y'},
                                         {"sync-in-writer", no_argument, 0, 'w'},
                                         {"idle-sync-in-notifier", no_argument, 0, 'I'},
                                         {"balance-flush-ms", required_argument, 0, 'b'},
                                         {"no-pin", no_argument, 0, 'n'},
                                         {"no-wal-reserve", no_argument, 0, 'R'},
                                         {"coalesce", no_argument, 0, 'C'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc - 1, argv + 1, "d:c:s:a:p:b:rywnRICh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': o.dir = optarg; break;
        case 'c':
            if (parse_clients(optarg, &o) != 0) {
                fputs(use, stderr);
                return 2;
            }
            break;
        case 's': o.seconds = atof(optarg); break;
        case 'a': o.accounts = atoi(optarg); break;
        case 'r': o.random_keys = true; break;
        case 'p': o.per_submit = atoi(optarg); break;
        case 'y': o.async = true; break;
        case 'w': o.sync_in_writer = true; break;
        case 'I': o.idle_sync_in_notifier = true; break;
        case 'n': o.no_pin = true; break;
        case 'R': o.no_wal_reserve = true; break;
        case 'C': o.coalesce = true; break;
        case 'b':
            o.balance_flush_ms = atoi(optarg);
            if (o.balance_flush_ms < -1 || o.balance_flush_ms > 600000 ||
                (o.balance_flush_ms == 0 && strcmp(optarg, "0") != 0)) {
                fputs(use, stderr);
                return 2;
            }
            break;
        default: fputs(use, ch == 'h' ? stdout : stderr); return ch == 'h' ? 0 : 2;
        }
    }
    if (o.seconds <= 0 || o.seconds > 600 || o.accounts < 1 || o.accounts > 10000000 ||
        o.per_submit < 1 || o.per_submit > 64 || (o.async && o.per_submit != 1)) {
        fputs(use, stderr);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    int rc = 0;
    for (int i = 0; i < o.nclients; i++)
        rc |= run_once(&o, o.clients[i]);
    return rc;
}
