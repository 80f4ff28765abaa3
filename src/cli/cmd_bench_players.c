/*
 * cmd_bench_players.c — `pitboss bench players`: the back office's player list
 * (GET /v1/admin/players) over a large brand, without HTTP. Seeds one brand
 * with N players (rows written directly, as `bench game` does: no password
 * hashing), a cash account each (pb_ledger_accounts_create, batched) and a
 * balance that comes from a ledger transfer (house → cash, batched submits;
 * the ledger is closed before measuring, which writes every balance row back).
 * Balances take ~1000 distinct values, so the balance order has long ties.
 *
 * Then, for each sort (created_at, email, last_login_at, balance in EUR) and
 * both directions, it times the store's search (pb_store_player_find, the query
 * behind the route, in a read transaction as the route runs it) for the first
 * page and for a deep page: the page after the row at 90% of the order (its
 * cursor computed from the seeded keys). One JSON line per case: the median and
 * the maximum of --reps runs in milliseconds, and the rows the page held.
 *
 * --reuse keeps the database of an earlier run with the same --players (a
 * newer binary migrates it on open), so that two builds can be compared on one
 * seed; otherwise the database is made afresh.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/id.h"
#include "core/time.h"
#include "ledger/ledger.h"
#include "store/store.h"
#include "tenancy/tenancy.h"
#include "wallet/wallet.h"

#define BATCH 4096

typedef struct players_opts {
    const char *dir;
    int players;
    int limit;
    int reps;
    bool reuse;
} players_opts;

/* One seeded player's sort keys. */
typedef struct seeded {
    int64_t id;
    int64_t created_at, last_login_at, balance;
    char email[40];
} seeded;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* The keys of player i (0-based): what the seed writes and the cursors use. */
static void keys_of(int i, int64_t t0, seeded *s)
{
    uint64_t h = mix((uint64_t)i + 1);
    s->created_at = t0 + i;                                            /* registration order */
    s->last_login_at = h % 4 == 0 ? 0 : t0 + (int64_t)(h % 100000000); /* 1/4 never */
    s->balance = (int64_t)((h >> 8) % 1000 + 1) * 100;                 /* 1.00 .. 1000.00 EUR */
    snprintf(s->email, sizeof s->email, "p%016" PRIx64 "@bench.invalid", mix(h));
}

static int seed(pb_store *s, const players_opts *o, int64_t t0, seeded *rows, int64_t *brand_id)
{
    char err[256];
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    if (!c)
        return -1;
    pb_brand_spec spec = {
        .code = "bench", .name = "Bench", .default_currency = "EUR", .jurisdiction = "MT"};
    pb_brand b;
    int rc = -1;
    char(*pids)[PB_ID_STR_LEN + 1] = calloc((size_t)o->players, sizeof *pids);
    pb_ledger_account *acc = calloc(BATCH, sizeof *acc);
    pb_err *res = calloc(BATCH, sizeof *res);
    pb_transfer *t = calloc(BATCH, sizeof *t);
    pb_ledger *l = NULL;
    pb_wallet *w = NULL;
    if (!pids || !acc || !res || !t || pb_store_begin(c, PB_STORE_WRITE) != PB_STORE_OK ||
        pb_tenancy_brand_create(c, &spec, pb_time_now_us(), &b, NULL) != PB_OK)
        goto out;
    *brand_id = b.id;
    for (int i = 0; i < o->players; i++) {
        pb_store_player p;
        memset(&p, 0, sizeof p);
        pb_id id;
        pb_id_new(&id);
        pb_id_to_string(&id, p.public_id);
        keys_of(i, t0, &rows[i]);
        p.brand_id = b.id;
        snprintf(p.currency, sizeof p.currency, "EUR");
        snprintf(p.password_hash, sizeof p.password_hash, "-");
        snprintf(p.status, sizeof p.status, "active");
        snprintf(p.email, sizeof p.email, "%s", rows[i].email);
        snprintf(p.country, sizeof p.country, "MT");
        p.created_at = p.updated_at = rows[i].created_at;
        p.last_login_at = rows[i].last_login_at;
        if (pb_store_player_insert(c, &p) != PB_STORE_OK)
            goto out;
        rows[i].id = p.id;
        snprintf(pids[i], sizeof pids[i], "%s", p.public_id);
    }
    if (pb_store_commit(c) != PB_STORE_OK)
        goto out;
    pb_ledger_config lcfg = {.wal_reserve = false};
    l = pb_ledger_open(s, &lcfg, err, sizeof err);
    w = l ? pb_wallet_open(l, s, err, sizeof err) : NULL;
    int64_t house;
    if (!w || pb_wallet_system_account(w, c, "bench", PB_WALLET_OWNER_HOUSE, PB_WALLET_KIND_HOUSE,
                                       "EUR", &house) != PB_OK)
        goto out;
    for (int at = 0; at < o->players; at += BATCH) {
        size_t n = (size_t)(o->players - at < BATCH ? o->players - at : BATCH);
        memset(acc, 0, n * sizeof *acc);
        for (size_t k = 0; k < n; k++) {
            snprintf(acc[k].brand, sizeof acc[k].brand, "bench");
            snprintf(acc[k].owner, sizeof acc[k].owner, PB_WALLET_OWNER_PLAYER "%s",
                     pids[at + (int)k]);
            snprintf(acc[k].kind, sizeof acc[k].kind, PB_WALLET_KIND_CASH);
            snprintf(acc[k].currency, sizeof acc[k].currency, "EUR");
            acc[k].flags = PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
        }
        if (pb_ledger_accounts_create(l, acc, n, res) != PB_OK)
            goto out;
        memset(t, 0, n * sizeof *t);
        for (size_t k = 0; k < n; k++) {
            if (res[k] != PB_OK)
                goto out;
            snprintf(t[k].scope, sizeof t[k].scope, "bench");
            snprintf(t[k].key, sizeof t[k].key, "fund-%d", at + (int)k);
            t[k].debit_account_id = house;
            t[k].credit_account_id = acc[k].id;
            t[k].amount = rows[at + (int)k].balance;
            snprintf(t[k].currency, sizeof t[k].currency, "EUR");
            t[k].code = PB_CODE_ADJUSTMENT;
        }
        if (pb_ledger_submit(l, t, n) != PB_OK)
            goto out;
        for (size_t k = 0; k < n; k++)
            if (t[k].result != PB_OK)
                goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "bench players: seeding failed %s\n", err);
    pb_store_rollback(c);
    pb_store_disconnect(c);
    pb_wallet_close(w);
    if (l)
        pb_ledger_close(l); /* writes every balance row back */
    free(pids);
    free(acc);
    free(res);
    free(t);
    return rc;
}

static pb_store_player_sort g_sort;
static bool g_asc;

/* (key, id) in the case's order. */
static int cmp_rows(const void *pa, const void *pb)
{
    const seeded *a = pa, *b = pb;
    int r = 0;
    switch (g_sort) {
    case PB_STORE_SORT_EMAIL: r = strcmp(a->email, b->email); break;
    case PB_STORE_SORT_LAST_LOGIN:
        r = (a->last_login_at > b->last_login_at) - (a->last_login_at < b->last_login_at);
        break;
    case PB_STORE_SORT_BALANCE: r = (a->balance > b->balance) - (a->balance < b->balance); break;
    case PB_STORE_SORT_CREATED:
        r = (a->created_at > b->created_at) - (a->created_at < b->created_at);
        break;
    }
    if (r == 0)
        r = (a->id > b->id) - (a->id < b->id);
    return g_asc ? r : -r;
}

static int cmp_ms(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int measure(pb_store_conn *c, const players_opts *o, int64_t brand_id, seeded *rows)
{
    static const char *const NAMES[] = {"created_at", "email", "last_login_at", "balance"};
    pb_store_player_hit *hits = calloc((size_t)o->limit + 1, sizeof *hits);
    double *ms = calloc((size_t)o->reps, sizeof *ms);
    if (!hits || !ms)
        return -1;
    int rc = 0;
    for (int sort = 0; sort < 4; sort++)
        for (int asc = 0; asc < 2; asc++) {
            g_sort = (pb_store_player_sort)sort;
            g_asc = asc;
            qsort(rows, (size_t)o->players, sizeof *rows, cmp_rows);
            const seeded *deep = &rows[(size_t)o->players * 9 / 10];
            for (int page = 0; page < 2; page++) {
                pb_store_player_find_query q = {.all_brands = true,
                                                .brand_id = brand_id,
                                                .sort = g_sort,
                                                .asc = g_asc,
                                                .currency = sort == PB_STORE_SORT_BALANCE ? "EUR"
                                                                                          : NULL};
                if (page == 1) {
                    q.has_cursor = true;
                    q.cursor_id = deep->id;
                    q.cursor_text = deep->email;
                    q.cursor_int = sort == PB_STORE_SORT_LAST_LOGIN ? deep->last_login_at
                                   : sort == PB_STORE_SORT_BALANCE  ? deep->balance
                                                                    : deep->created_at;
                }
                size_t n = 0;
                bool right = true;
                for (int r = 0; r < o->reps; r++) {
                    int64_t t0 = pb_time_mono_us();
                    if (pb_store_begin(c, PB_STORE_READ) != PB_STORE_OK ||
                        pb_store_player_find(c, &q, hits, (size_t)o->limit + 1, &n) !=
                            PB_STORE_OK) {
                        pb_store_rollback(c);
                        fprintf(stderr, "bench players: the search failed\n");
                        rc = -1;
                        goto out;
                    }
                    pb_store_rollback(c);
                    ms[r] = (double)(pb_time_mono_us() - t0) / 1000.0;
                }
                /* the page must be the next rows of the order */
                const seeded *want = page ? deep + 1 : rows;
                size_t left = (size_t)(rows + o->players - want);
                right = n == (left < (size_t)o->limit + 1 ? left : (size_t)o->limit + 1);
                for (size_t i = 0; right && i < n; i++)
                    right = hits[i].id == want[i].id;
                qsort(ms, (size_t)o->reps, sizeof *ms, cmp_ms);
                printf("{\"bench\":\"players\",\"players\":%d,\"sort\":\"%s\",\"order\":\"%s\","
                       "\"page\":\"%s\",\"limit\":%d,\"rows\":%zu,\"median_ms\":%.3f,"
                       "\"max_ms\":%.3f,\"order_ok\":%s}\n",
                       o->players, NAMES[sort], asc ? "asc" : "desc", page ? "deep" : "first",
                       o->limit, n, ms[o->reps / 2], ms[o->reps - 1], right ? "true" : "false");
                fflush(stdout);
                if (!right)
                    rc = -1;
            }
        }
out:
    free(hits);
    free(ms);
    return rc;
}

static int run(const players_opts *o)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/bench-players-%d.db", o->dir, o->players);
    struct stat sb;
    bool reuse = o->reuse && stat(path, &sb) == 0;
    if (!reuse) {
        const char *sfx[] = {"", "-wal", "-shm", "-writer.lock"};
        for (int i = 0; i < 4; i++) {
            char p[1100];
            snprintf(p, sizeof p, "%s%s", path, sfx[i]);
            unlink(p);
        }
    }
    pb_store *s = pb_store_open(path, err, sizeof err);
    if (!s || pb_store_migrate(s, NULL, err, sizeof err) != PB_STORE_OK) {
        fprintf(stderr, "bench players: %s\n", err);
        return 1;
    }
    seeded *rows = calloc((size_t)o->players, sizeof *rows);
    int64_t t0 = 1700000000000000, brand_id = 0;
    int64_t s0 = pb_time_mono_us();
    pb_store_conn *c = NULL;
    int rc = 1;
    if (!rows)
        goto out;
    if (!reuse) {
        if (seed(s, o, t0, rows, &brand_id) != 0)
            goto out;
        fprintf(stderr, "bench players: seeded %d players in %.1f s\n", o->players,
                (double)(pb_time_mono_us() - s0) / 1e6);
    }
    c = pb_store_connect(s, err, sizeof err);
    if (!c)
        goto out;
    if (reuse) { /* the same seed: the keys again, the ids and the brand from the store */
        pb_brand b;
        if (pb_tenancy_brand_by_code(c, "bench", &b) != PB_OK)
            goto out;
        brand_id = b.id;
        pb_store_player_find_query q = {
            .all_brands = true, .brand_id = brand_id, .sort = PB_STORE_SORT_CREATED, .asc = true};
        pb_store_player_hit *h = calloc((size_t)o->players + 1, sizeof *h);
        size_t n = 0;
        if (!h || pb_store_player_find(c, &q, h, (size_t)o->players + 1, &n) != PB_STORE_OK ||
            n != (size_t)o->players) {
            fprintf(stderr, "bench players: %s is not a seed of %d players\n", path, o->players);
            free(h);
            goto out;
        }
        for (int i = 0; i < o->players; i++) {
            keys_of(i, t0, &rows[i]);
            rows[i].id = h[i].id;
        }
        free(h);
    }
    rc = measure(c, o, brand_id, rows) == 0 ? 0 : 1;
out:
    pb_store_disconnect(c);
    pb_store_close(s);
    free(rows);
    return rc;
}

int pb_cmd_bench_players(int argc, char **argv)
{
    players_opts o = {.dir = "var/bench", .players = 200000, .limit = 50, .reps = 5};
    static const struct option longopts[] = {{"dir", required_argument, 0, 'd'},
                                             {"players", required_argument, 0, 'p'},
                                             {"limit", required_argument, 0, 'l'},
                                             {"reps", required_argument, 0, 'r'},
                                             {"reuse", no_argument, 0, 'u'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': o.dir = optarg; break;
        case 'p': o.players = atoi(optarg); break;
        case 'l': o.limit = atoi(optarg); break;
        case 'r': o.reps = atoi(optarg); break;
        case 'u': o.reuse = true; break;
        default:
            fprintf(ch == 'h' ? stdout : stderr,
                    "usage: pitboss bench players [--dir DIR] [--players 200000] [--limit 50] "
                    "[--reps 5] [--reuse]\n"
                    "Times the staff player list's first and deep (90%%) page of each sort.\n");
            return ch == 'h' ? 0 : 2;
        }
    }
    if (o.players < 10 || o.players > 2000000 || o.limit < 1 || o.limit > 200 || o.reps < 1 ||
        o.reps > 100) {
        fprintf(stderr, "pitboss bench players: bad option value\n");
        return 2;
    }
    return run(&o);
}
