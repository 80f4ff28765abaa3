/*
 * cmd_bench_game.c — `pitboss bench game`: the wallet's game money without
 * HTTP. Threads play rounds (a bet, then a win or a loss that closes the round)
 * for random funded players through pb_wallet_game_submit(), each call durable
 * before it returns, with a response rendered and stored as a provider adapter
 * would. Prints one JSON line: operations per second, latency percentiles, the
 * writer's CPU time per operation (what the HTTP benchmark cannot separate from
 * the server's other threads), and whether `ledger verify` passes afterwards.
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/id.h"
#include "core/time.h"
#include "ledger/ledger.h"
#include "store/sqlite/walbuf.h"
#include "store/store.h"
#include "tenancy/tenancy.h"
#include "wallet/wallet.h"

typedef struct game_opts {
    const char *dir;
    int threads;
    int players;
    double seconds;
} game_opts;

typedef struct player_row {
    char id[PB_ID_STR_LEN + 1];
} player_row;

typedef struct worker {
    pb_wallet *w;
    pb_store *store;
    const game_opts *o;
    const player_row *players;
    int index;
    int64_t deadline_us;
    uint64_t rng;
    int64_t *lat;
    size_t nlat, cap;
    uint64_t ok, refused;
    bool failed;
} worker;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int render(void *ctx, const pb_wallet_op *op, const pb_wallet_outcome *o,
                  pb_wallet_response *out)
{
    (void)ctx;
    char buf[256];
    int n = snprintf(buf, sizeof buf,
                     "{\"status\":\"%s\",\"transaction_id\":\"%s\",\"cash\":%lld,\"bonus\":%lld}",
                     o->result == PB_OK ? "OK" : pb_err_code(o->result), op->tx_id,
                     (long long)o->cash, (long long)o->bonus);
    out->status = 200;
    out->body = malloc((size_t)n + 1);
    if (!out->body)
        return -1;
    memcpy(out->body, buf, (size_t)n + 1);
    out->body_len = (size_t)n;
    return 0;
}

static void record(worker *k, int64_t us)
{
    if (k->nlat == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 4096;
        int64_t *p = realloc(k->lat, cap * sizeof *p);
        if (!p) {
            k->failed = true;
            return;
        }
        k->lat = p;
        k->cap = cap;
    }
    k->lat[k->nlat++] = us;
}

/* One operation; false when it failed for a reason a benchmark must not hide. */
static bool play(worker *k, pb_store_conn *c, pb_wallet_op *op)
{
    int64_t t0 = pb_time_mono_us();
    pb_err e = pb_wallet_game_submit(k->w, c, op);
    record(k, pb_time_mono_us() - t0);
    pb_wallet_op_release(op);
    if (e == PB_OK) {
        k->ok++;
        return true;
    }
    k->refused++;
    if (e != PB_ERR_INSUFFICIENT_FUNDS) {
        fprintf(stderr, "bench: %s refused: %s\n", op->tx_id, pb_err_code(e));
        return false;
    }
    return true;
}

static void *worker_main(void *arg)
{
    worker *k = arg;
    char err[256];
    pb_store_conn *c = pb_store_connect(k->store, err, sizeof err);
    if (!c) {
        k->failed = true;
        return NULL;
    }
    for (uint64_t round = 0; pb_time_mono_us() < k->deadline_us && !k->failed; round++) {
        const player_row *p = &k->players[next_rand(&k->rng) % (uint64_t)k->o->players];
        pb_wallet_op op;
        memset(&op, 0, sizeof op);
        op.kind = PB_WALLET_BET;
        snprintf(op.provider, sizeof op.provider, "bench-studio");
        snprintf(op.tx_id, sizeof op.tx_id, "b-%d-%" PRIu64, k->index, round);
        snprintf(op.round_id, sizeof op.round_id, "r-%d-%" PRIu64, k->index, round);
        snprintf(op.game, sizeof op.game, "bench-slot");
        snprintf(op.brand, sizeof op.brand, "bench");
        snprintf(op.player, sizeof op.player, "%s", p->id);
        snprintf(op.currency, sizeof op.currency, "EUR");
        op.amount = 100;
        op.render = render;
        if (!play(k, c, &op) || op.result != PB_OK) {
            if (op.result != PB_ERR_INSUFFICIENT_FUNDS)
                k->failed = true;
            continue;
        }
        op.kind = PB_WALLET_WIN;
        snprintf(op.bet_tx_id, sizeof op.bet_tx_id, "%s", op.tx_id);
        snprintf(op.tx_id, sizeof op.tx_id, "w-%d-%" PRIu64, k->index, round);
        op.game[0] = 0;
        op.amount = (int64_t)(next_rand(&k->rng) % 3) * 95; /* 0, 95 or 190: ~95% RTP */
        op.close_round = true;
        if (!play(k, c, &op))
            k->failed = true;
    }
    pb_store_disconnect(c);
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void no_violation(void *ctx, const char *kind, const char *message)
{
    (void)ctx;
    fprintf(stderr, "bench: VIOLATION %s: %s\n", kind, message);
}

/* Brand, players (rows written directly: no password hashing in a benchmark) and
 * their money. The players carry no names or date of birth: the rows bypass the
 * identity module, which would seal them (src/identity/pii.c). */
static int seed(pb_store *s, pb_ledger *l, pb_wallet *w, const game_opts *o, player_row *players)
{
    char err[256];
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    if (!c)
        return -1;
    pb_brand_spec spec = {
        .code = "bench", .name = "Bench", .default_currency = "EUR", .jurisdiction = "MT"};
    pb_brand b;
    int rc = -1;
    if (pb_store_begin(c, PB_STORE_WRITE) != PB_STORE_OK ||
        pb_tenancy_brand_create(c, &spec, pb_time_now_us(), &b, NULL) != PB_OK)
        goto out;
    for (int i = 0; i < o->players; i++) {
        pb_store_player p;
        memset(&p, 0, sizeof p);
        pb_id id;
        pb_id_new(&id);
        pb_id_to_string(&id, p.public_id);
        p.brand_id = b.id;
        snprintf(p.currency, sizeof p.currency, "EUR");
        snprintf(p.password_hash, sizeof p.password_hash, "-");
        snprintf(p.status, sizeof p.status, "active");
        snprintf(p.email, sizeof p.email, "p%d@bench.invalid", i);
        snprintf(p.country, sizeof p.country, "MT");
        p.created_at = p.updated_at = pb_time_now_us();
        if (pb_store_player_insert(c, &p) != PB_STORE_OK)
            goto out;
        snprintf(players[i].id, sizeof players[i].id, "%s", p.public_id);
    }
    if (pb_store_commit(c) != PB_STORE_OK)
        goto out;
    int64_t house;
    if (pb_wallet_system_account(w, c, "bench", PB_WALLET_OWNER_HOUSE, PB_WALLET_KIND_HOUSE, "EUR",
                                 &house) != PB_OK)
        goto out;
    for (int i = 0; i < o->players; i++) {
        pb_wallet_accounts acc;
        if (pb_wallet_player_accounts(w, c, "bench", players[i].id, "EUR", &acc) != PB_OK)
            goto out;
        pb_transfer t;
        memset(&t, 0, sizeof t);
        snprintf(t.scope, sizeof t.scope, "bench");
        snprintf(t.key, sizeof t.key, "fund-%d", i);
        t.debit_account_id = house;
        t.credit_account_id = acc.cash;
        t.amount = 100000000; /* 1,000,000.00 */
        snprintf(t.currency, sizeof t.currency, "EUR");
        t.code = PB_CODE_ADJUSTMENT;
        if (pb_ledger_submit(l, &t, 1) != PB_OK || t.result != PB_OK)
            goto out;
    }
    rc = 0;
out:
    pb_store_rollback(c);
    pb_store_disconnect(c);
    return rc;
}

static int run(const game_opts *o)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/bench-game.db", o->dir);
    const char *sfx[] = {"", "-wal", "-shm", "-writer.lock"};
    for (int i = 0; i < 4; i++) {
        char p[1100];
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
    pb_store *s = pb_store_open(path, err, sizeof err);
    if (!s || pb_store_migrate(s, NULL, err, sizeof err) != PB_STORE_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    pb_ledger_config lcfg = {.wal_reserve = true}; /* as `serve` runs it */
    pb_ledger *l = pb_ledger_open(s, &lcfg, err, sizeof err);
    pb_wallet *w = l ? pb_wallet_open(l, s, err, sizeof err) : NULL;
    player_row *players = calloc((size_t)o->players, sizeof *players);
    worker *k = calloc((size_t)o->threads, sizeof *k);
    pthread_t *th = calloc((size_t)o->threads, sizeof *th);
    if (!w || !players || !k || !th || seed(s, l, w, o, players) != 0) {
        fprintf(stderr, "bench: setup failed: %s\n", err);
        return 1;
    }
    pb_ledger_stats before, after;
    pb_ledger_stats_get(l, &before);
    unsigned long long wal_req0, wal_wr0, wal_req1, wal_wr1; /* the WAL buffer's counts */
    pb_walbuf_stats(&wal_req0, &wal_wr0);
    int64_t start = pb_time_mono_us();
    for (int i = 0; i < o->threads; i++) {
        k[i] = (worker){.w = w,
                        .store = s,
                        .o = o,
                        .players = players,
                        .index = i,
                        .deadline_us = start + (int64_t)(o->seconds * 1e6),
                        .rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1)};
        pthread_create(&th[i], NULL, worker_main, &k[i]);
    }
    for (int i = 0; i < o->threads; i++)
        pthread_join(th[i], NULL);
    double secs = (double)(pb_time_mono_us() - start) / 1e6;
    pb_ledger_stats_get(l, &after);
    pb_walbuf_stats(&wal_req1, &wal_wr1);
    size_t total = 0;
    uint64_t ok = 0, refused = 0;
    bool failed = false;
    for (int i = 0; i < o->threads; i++) {
        total += k[i].nlat;
        ok += k[i].ok;
        refused += k[i].refused;
        failed |= k[i].failed;
    }
    int64_t *all = malloc((total ? total : 1) * sizeof *all);
    size_t at = 0;
    for (int i = 0; i < o->threads; i++) {
        memcpy(all + at, k[i].lat, k[i].nlat * sizeof *all);
        at += k[i].nlat;
        free(k[i].lat);
    }
    qsort(all, total, sizeof *all, cmp_i64);
    double p50 = total ? (double)all[total / 2] / 1000.0 : 0;
    double p99 = total ? (double)all[(size_t)((double)total * 0.99)] / 1000.0 : 0;
    pb_wallet_close(w);
    pb_ledger_close(l);
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    pb_ledger_verify_summary vs = {0};
    pb_err ve = c ? pb_ledger_verify(c, no_violation, NULL, &vs) : PB_ERR_INTERNAL;
    pb_store_disconnect(c);
    pb_store_close(s);
    bool verified = ve == PB_OK && vs.violations == 0;
    printf("{\"bench\":\"game\",\"threads\":%d,\"players\":%d,\"ops\":%zu,\"seconds\":%.3f,"
           "\"ops_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"ok\":%" PRIu64
           ",\"refused\":%" PRIu64 ",\"avg_batch\":%.1f,\"writer_cpu_us_per_op\":%.2f,"
           "\"wal_pages_per_op\":%.2f,\"verify\":\"%s\"}\n",
           o->threads, o->players, total, secs, (double)total / secs, p50, p99, ok, refused,
           after.batches > before.batches ? (double)total / (double)(after.batches - before.batches)
                                          : 0.0,
           total ? (double)(after.cpu_us_total - before.cpu_us_total) / (double)total : 0.0,
           total ? (double)(wal_req1 - wal_req0) / 2.0 / (double)total : 0.0,
           verified ? "ok" : "FAILED");
    free(all);
    free(players);
    free(k);
    free(th);
    return verified && !failed ? 0 : 1;
}

int pb_cmd_bench_game(int argc, char **argv)
{
    game_opts o = {.dir = "var/bench", .threads = 64, .players = 1000, .seconds = 5};
    static const struct option longopts[] = {
        {"dir", required_argument, 0, 'd'},     {"threads", required_argument, 0, 't'},
        {"players", required_argument, 0, 'p'}, {"seconds", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': o.dir = optarg; break;
        case 't': o.threads = atoi(optarg); break;
        case 'p': o.players = atoi(optarg); break;
        case 's': o.seconds = atof(optarg); break;
        default:
            fprintf(ch == 'h' ? stdout : stderr,
                    "usage: pitboss bench game [--dir DIR] [--threads 64] [--players 1000] "
                    "[--seconds 5]\n");
            return ch == 'h' ? 0 : 2;
        }
    }
    if (o.threads < 1 || o.threads > 1024 || o.players < 1 || o.players > 1000000 ||
        o.seconds <= 0 || o.seconds > 600) {
        fprintf(stderr, "pitboss bench game: bad option value\n");
        return 2;
    }
    return run(&o);
}
