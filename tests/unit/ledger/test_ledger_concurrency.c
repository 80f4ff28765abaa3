/*
 * test_ledger_concurrency.c — many submitting threads against one ledger writer.
 *
 * 1. test_random_mix: 16 threads for PB_TEST_SECONDS (default 3) submit a random
 *    mix against 50 EUR and 20 JPY player accounts (each currency with its own
 *    house and psp): bets and wins, holds (some with short timeouts while a
 *    clock thread moves the ledger's clock 1 s every 10 ms, so the writer's
 *    sweep expires them), full and partial posts and voids of their own holds
 *    and sometimes of another thread's, linked chains of 2-3 legs (some built to
 *    fail), replays of their own earlier requests, and batches of 2-20. Every
 *    result must be one the request allows. At the end: verify is clean; per
 *    currency the posted and pending sums balance; the transfer rows are exactly
 *    the funding + every new OK result + the expiry voids; each hold was
 *    resolved at most once, by the transfer its resolver was told about.
 * 2. test_hot_accounts: 8 threads hammer ONE player and ONE house account; the
 *    player's final counters equal funding - accepted debits + accepted credits.
 * 3. test_same_key_race: 16 threads submit the same requests at the same time:
 *    each key is written once and every thread gets the same record.
 *
 * Worker threads never call cmocka asserts: they record the first failure and
 * stop; the main thread asserts after joining.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <sched.h>

#include "core/cpu.h"
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "fixture.h"

#define NTHREADS 16
#define NEUR 50
#define NJPY 20
#define FUND 100000
#define HOLDS_CAP (1u << 18)
#define OWN_CAP 256
#define PAST_CAP 64

enum { K_BET, K_WIN, K_HOLD, K_POST, K_VOID, K_STOLEN, K_CHAIN, K_BATCH, K_REPLAY, K_REJECTED, NK };
static const char *kind_name[NK] = {"bet",    "win",       "hold",       "post",   "void",
                                    "stolen", "chain_leg", "batch_item", "replay", "rejected"};

/* ---- shared helpers ------------------------------------------------------- */

static double test_seconds(void)
{
    const char *s = getenv("PB_TEST_SECONDS");
    double d = s && *s ? strtod(s, NULL) : 3.0;
    return d > 0 && d < 3600 ? d : 3.0;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static int64_t between(uint64_t *s, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd(s) % (uint64_t)(hi - lo + 1));
}

static uint64_t seed_base(void)
{
    const char *s = getenv("PB_TEST_SEED");
    uint64_t v = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
    print_message("# seed %llu (set PB_TEST_SEED to repeat)\n", (unsigned long long)v);
    return v;
}

/* The fixture's clock reads clock_us plainly; this test moves it from another
 * thread, so it restarts the ledger with a clock that reads it atomically. The
 * writer gets a CPU of its own, as in `pitboss serve` and the benchmark (the
 * workers keep off it), so the mix also runs the pinned layout. */
static int64_t atomic_clock(void *ctx)
{
    return __atomic_load_n(&((fx *)ctx)->clock_us, __ATOMIC_RELAXED);
}

static void reopen_with_atomic_clock(fx *f)
{
    char err[256];
    pb_ledger_close(f->ledger);
    pb_ledger_config cfg = {
        .now_us = atomic_clock, .now_ctx = f, .expiry_interval_ms = 20, .pin_writer = true};
    f->ledger = pb_ledger_open(f->store, &cfg, err, sizeof err);
    if (!f->ledger)
        fail_msg("ledger open: %s", err);
}

static pb_transfer request(const char *scope, const char *key, int64_t dr, int64_t cr,
                           int64_t amount, uint32_t code, const char *cur, uint32_t flags)
{
    pb_transfer t = {.debit_account_id = dr,
                     .credit_account_id = cr,
                     .amount = amount,
                     .code = code,
                     .flags = flags};
    snprintf(t.scope, sizeof t.scope, "%s", scope);
    snprintf(t.key, sizeof t.key, "%s", key);
    snprintf(t.currency, sizeof t.currency, "%s", cur);
    return t;
}

/* Funds each player from psp in one submission; returns how many transfers that wrote. */
static int64_t fund(fx *f, int64_t psp, const int64_t *players, int n, const char *cur)
{
    pb_transfer t[NEUR];
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s:%d", cur, i);
        t[i] = request("fund", key, psp, players[i], FUND, PB_CODE_DEPOSIT, cur, 0);
    }
    assert_int_equal(pb_ledger_submit(f->ledger, t, (size_t)n), PB_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(t[i].result, PB_OK);
    return n;
}

/* ---- test 1: the random mix ----------------------------------------------- */

typedef struct hold {
    pb_id id;
    int64_t amount;
    int ready;    /* published (release) once id and amount are written */
    int resolved; /* OK resolutions, counted by whoever got them */
    pb_id by;     /* the resolving transfer, written by the first resolver */
} hold;

typedef struct cur_set {
    const char *cur;
    int64_t house, psp, players[NEUR];
    int n;
} cur_set;

typedef struct world {
    fx *f;
    cur_set eur, jpy;
    hold *holds;
    size_t nholds; /* atomic */
    int64_t deadline;
    int stop_clock; /* atomic */
} world;

typedef struct worker {
    world *w;
    int idx;
    uint64_t rng, nkey;
    size_t own[OWN_CAP], nown;  /* indices into w->holds of this thread's open holds */
    pb_transfer past[PAST_CAP]; /* requests to replay */
    size_t npast;
    int64_t ok_new, count[NK]; /* ok_new: new transfer rows this thread caused */
    char why[512];             /* the first failure, "" when none */
} worker;

__attribute__((format(printf, 2, 3))) static void failed(worker *k, const char *fmt, ...)
{
    if (k->why[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(k->why, sizeof k->why, "thread %d: ", k->idx);
    vsnprintf(k->why + n, sizeof k->why - (size_t)n, fmt, ap);
    va_end(ap);
}

static pb_transfer new_req(worker *k, int64_t dr, int64_t cr, int64_t amount, uint32_t code,
                           const char *cur, uint32_t flags)
{
    char key[48];
    snprintf(key, sizeof key, "w%d-%llu", k->idx, (unsigned long long)++k->nkey);
    return request("conc", key, dr, cr, amount, code, cur, flags);
}

/* Keeps a request whose outcome the ledger stores (OK or a remembered rejection), to replay. */
static void remember(worker *k, const pb_transfer *t)
{
    pb_err e = t->result;
    if (e != PB_OK && e != PB_ERR_INSUFFICIENT_FUNDS && e != PB_ERR_PENDING_ALREADY_POSTED &&
        e != PB_ERR_PENDING_ALREADY_VOIDED && e != PB_ERR_PENDING_EXPIRED)
        return;
    size_t i = k->npast < PAST_CAP ? k->npast++ : (size_t)(rnd(&k->rng) % PAST_CAP);
    k->past[i] = *t;
}

static const cur_set *pick_cur(worker *k)
{
    return rnd(&k->rng) % 10 < 7 ? &k->w->eur : &k->w->jpy;
}

static int64_t pick_player(worker *k, const cur_set *c)
{
    return c->players[rnd(&k->rng) % (uint64_t)c->n];
}

/* A bet, a win or a hold between a random player and the house. *kind says which. */
static pb_transfer random_simple(worker *k, int *kind)
{
    const cur_set *c = pick_cur(k);
    int64_t p = pick_player(k, c);
    int r = (int)(rnd(&k->rng) % 3);
    *kind = r == 0 ? K_BET : r == 1 ? K_WIN : K_HOLD;
    if (*kind == K_WIN)
        return new_req(k, c->house, p, between(&k->rng, 1, 1500), PB_CODE_WIN, c->cur, 0);
    pb_transfer t = new_req(k, p, c->house, between(&k->rng, 1, 2000), PB_CODE_BET, c->cur,
                            *kind == K_HOLD ? PB_TRANSFER_PENDING : 0);
    if (*kind == K_HOLD) {
        int64_t to[] = {0, 1, 2, 3, 3600};
        t.timeout_s = to[rnd(&k->rng) % 5];
    }
    return t;
}

/* Publishes an accepted hold so that its owner (and others) can resolve it. */
static void publish_hold(worker *k, const pb_transfer *t)
{
    world *w = k->w;
    size_t i = __atomic_fetch_add(&w->nholds, 1, __ATOMIC_RELAXED);
    if (i >= HOLDS_CAP) {
        failed(k, "more than %u holds: raise HOLDS_CAP", HOLDS_CAP);
        return;
    }
    w->holds[i].id = t->record.id;
    w->holds[i].amount = t->record.amount;
    __atomic_store_n(&w->holds[i].ready, 1, __ATOMIC_RELEASE);
    if (k->nown < OWN_CAP)
        k->own[k->nown++] = i;
}

/* Checks and counts the result of a bet, win or hold submitted as `kind`. */
static void check_simple(worker *k, const pb_transfer *t, int kind, int tally)
{
    bool ok = t->result == PB_OK;
    if (!ok && !(kind != K_WIN && t->result == PB_ERR_INSUFFICIENT_FUNDS)) {
        failed(k, "%s %s: unexpected %s", kind_name[kind], t->key, pb_err_code(t->result));
        return;
    }
    if (t->replayed)
        failed(k, "%s %s: a new key came back replayed", kind_name[kind], t->key);
    remember(k, t);
    if (!ok) {
        k->count[K_REJECTED]++;
        return;
    }
    if (t->record.amount != t->amount || t->record.debit_account_id != t->debit_account_id ||
        t->record.seq <= 0)
        failed(k, "%s %s: the record does not match the request", kind_name[kind], t->key);
    k->ok_new++;
    k->count[tally]++;
    if (kind == K_HOLD)
        publish_hold(k, t);
}

static void op_simple(worker *k)
{
    int kind;
    pb_transfer t = random_simple(k, &kind);
    if (pb_ledger_submit(k->w->f->ledger, &t, 1) != PB_OK)
        failed(k, "submit failed");
    check_simple(k, &t, kind, kind);
}

static void op_resolve(worker *k)
{
    world *w = k->w;
    size_t hi;
    bool stolen = rnd(&k->rng) % 10 == 0 || k->nown == 0;
    if (stolen) {
        size_t n = __atomic_load_n(&w->nholds, __ATOMIC_RELAXED);
        if (n == 0 || n > HOLDS_CAP)
            return;
        hi = (size_t)(rnd(&k->rng) % n);
        if (!__atomic_load_n(&w->holds[hi].ready, __ATOMIC_ACQUIRE))
            return;
    } else {
        size_t j = (size_t)(rnd(&k->rng) % k->nown);
        hi = k->own[j];
        k->own[j] = k->own[--k->nown];
    }
    hold *h = &w->holds[hi];
    int r = (int)(rnd(&k->rng) % 3);
    uint32_t flag = r == 2 ? PB_TRANSFER_VOID_PENDING : PB_TRANSFER_POST_PENDING;
    int64_t amount = r == 1 ? between(&k->rng, 1, h->amount) : 0; /* 1: a partial post */
    pb_transfer t = new_req(k, 0, 0, amount, 0, "", flag);
    t.pending_id = h->id;
    if (pb_ledger_submit(w->f->ledger, &t, 1) != PB_OK)
        failed(k, "submit failed");
    if (t.result != PB_OK && t.result != PB_ERR_PENDING_ALREADY_POSTED &&
        t.result != PB_ERR_PENDING_ALREADY_VOIDED && t.result != PB_ERR_PENDING_EXPIRED) {
        failed(k, "%s of hold %zu: unexpected %s", r == 2 ? "void" : "post", hi,
               pb_err_code(t.result));
        return;
    }
    remember(k, &t);
    if (t.result != PB_OK) {
        k->count[K_REJECTED]++;
        return;
    }
    int64_t want = r == 1 ? amount : h->amount;
    if (t.replayed || !t.record.has_pending_id || pb_id_cmp(&t.record.pending_id, &h->id) != 0 ||
        t.record.amount != want || t.record.flags != flag)
        failed(k, "resolution %s of hold %zu: wrong record (amount %lld, want %lld)", t.key, hi,
               (long long)t.record.amount, (long long)want);
    if (__atomic_fetch_add(&h->resolved, 1, __ATOMIC_ACQ_REL) == 0)
        h->by = t.record.id;
    k->ok_new++;
    k->count[stolen ? K_STOLEN : flag == PB_TRANSFER_VOID_PENDING ? K_VOID : K_POST]++;
}

/* A linked chain of 2-3 legs; with `doomed` its last leg overdraws a player. */
static void op_chain(worker *k)
{
    pb_transfer t[3];
    int kinds[3];
    size_t n = (size_t)between(&k->rng, 2, 3);
    bool doomed = rnd(&k->rng) % 4 == 0;
    for (size_t i = 0; i < n; i++) {
        t[i] = random_simple(k, &kinds[i]);
        if (i + 1 < n)
            t[i].flags |= PB_TRANSFER_LINKED;
    }
    if (doomed) {
        const cur_set *c = pick_cur(k);
        t[n - 1] = new_req(k, pick_player(k, c), c->house, INT64_C(1000000000000), PB_CODE_BET,
                           c->cur, 0);
        kinds[n - 1] = K_BET;
    }
    if (pb_ledger_submit(k->w->f->ledger, t, n) != PB_OK)
        failed(k, "submit failed");
    size_t nok = 0, nlinked = 0, failing = n;
    for (size_t i = 0; i < n; i++) {
        if (t[i].result == PB_OK)
            nok++;
        else if (t[i].result == PB_ERR_LINKED_EVENT_FAILED)
            nlinked++;
        else
            failing = i;
    }
    if (nok == n && !doomed) {
        for (size_t i = 0; i < n; i++)
            check_simple(k, &t[i], kinds[i], K_CHAIN);
        return;
    }
    /* all or nothing: exactly one leg says why, the others say LINKED_EVENT_FAILED */
    if (nok != 0 || nlinked != n - 1 || failing == n ||
        t[failing].result != PB_ERR_INSUFFICIENT_FUNDS) {
        failed(k, "chain %s..: %zu ok, %zu linked-failed, failing leg %s", t[0].key, nok, nlinked,
               failing < n ? pb_err_code(t[failing].result) : "none");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (t[i].replayed)
            failed(k, "chain leg %s replayed", t[i].key);
    remember(k, &t[failing]);
    k->count[K_REJECTED]++;
}

static void op_batch(worker *k)
{
    pb_transfer t[20];
    int kinds[20];
    size_t n = (size_t)between(&k->rng, 2, 20);
    for (size_t i = 0; i < n; i++)
        t[i] = random_simple(k, &kinds[i]);
    if (pb_ledger_submit(k->w->f->ledger, t, n) != PB_OK)
        failed(k, "submit failed");
    for (size_t i = 0; i < n; i++)
        check_simple(k, &t[i], kinds[i], K_BATCH);
}

static void op_replay(worker *k)
{
    if (k->npast == 0)
        return;
    const pb_transfer *p = &k->past[rnd(&k->rng) % k->npast];
    pb_transfer t = *p;
    t.flags &= ~(uint32_t)PB_TRANSFER_LINKED;
    memset(&t.record, 0, sizeof t.record);
    if (pb_ledger_submit(k->w->f->ledger, &t, 1) != PB_OK)
        failed(k, "submit failed");
    if (!t.replayed || t.result != p->result) {
        failed(k, "replay of %s: %s replayed=%d, first time %s", p->key, pb_err_code(t.result),
               t.replayed, pb_err_code(p->result));
        return;
    }
    if (p->result == PB_OK &&
        (pb_id_cmp(&t.record.id, &p->record.id) != 0 || t.record.seq != p->record.seq))
        failed(k, "replay of %s returned another record (seq %lld, first %lld)", p->key,
               (long long)t.record.seq, (long long)p->record.seq);
    k->count[K_REPLAY]++;
}

static void *mix_main(void *arg)
{
    worker *k = arg;
    assert_int_equal(pb_cpu_avoid(pb_ledger_writer_cpu(k->w->f->ledger)), 0);
    while (!k->why[0] && mono_us() < k->w->deadline) {
        int op = (int)(rnd(&k->rng) % 100);
        if (op < 35)
            op_simple(k);
        else if (op < 60)
            op_resolve(k);
        else if (op < 75)
            op_chain(k);
        else if (op < 88)
            op_replay(k);
        else
            op_batch(k);
    }
    return NULL;
}

static void *clock_main(void *arg)
{
    world *w = arg;
    while (!__atomic_load_n(&w->stop_clock, __ATOMIC_RELAXED)) {
        usleep(10000);
        __atomic_add_fetch(&w->f->clock_us, 1000000, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void make_set(fx *f, cur_set *c, const char *cur, int n)
{
    char owner[32];
    c->cur = cur;
    c->n = n;
    c->house = fx_account_cur(f, "house", "house_revenue", 0, cur);
    c->psp = fx_account_cur(f, "psp", "psp_clearing", 0, cur);
    for (int i = 0; i < n; i++) {
        snprintf(owner, sizeof owner, "player:%d", i);
        c->players[i] = fx_account_cur(f, owner, "player_cash",
                                       PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS, cur);
    }
}

/* Transfer rows by origin: [0] all, [1] funding, [2] workers, [3] expiries, [4] other. */
static int count_row(void *ctx, const pb_store_transfer *t)
{
    int64_t *c = ctx;
    bool expiry = strcmp(t->scope, "ledger") == 0 && (t->flags & PB_TRANSFER_EXPIRED);
    c[0]++;
    c[!strcmp(t->scope, "fund") ? 1 : !strcmp(t->scope, "conc") ? 2 : expiry ? 3 : 4]++;
    return 0;
}

/* The CPUs thread `name` of this process may run on; false while no thread has
 * that name. */
static bool thread_cpus_now(const char *name, cpu_set_t *set)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    CPU_ZERO(set);
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        char path[300], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *fp = fopen(path, "r");
        if (!fp)
            continue;
        if (fgets(comm, sizeof comm, fp))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(fp);
        if (strcmp(comm, name) == 0) {
            assert_int_equal(sched_getaffinity(atoi(e->d_name), sizeof *set, set), 0);
            found = true;
        }
    }
    closedir(d);
    return found;
}

/* The CPUs thread `name` of this process may run on. The ledger's threads name
 * themselves once placed, and a loaded machine may not have run one yet when the
 * ledger has answered (the writer syncs a lone commit itself, without the
 * notifier): waits up to 10 s for the name. */
static cpu_set_t thread_cpus(const char *name)
{
    cpu_set_t set;
    for (int i = 0; i < 1000; i++) {
        if (thread_cpus_now(name, &set))
            return set;
        usleep(10000);
    }
    fail_msg("no thread named %s", name);
    return set;
}

/* pin_writer: with two CPUs or more the writer runs only on the quietest one and the
 * ledger's other threads never there; with one, nothing is pinned. */
static void test_pinned_writer(void **state)
{
    fx *f = *state;
    reopen_with_atomic_clock(f);
    int cpu = pb_ledger_writer_cpu(f->ledger);
    if (pb_cpu_allowed_count() < 2) {
        assert_int_equal(cpu, -1);
        return;
    }
    /* one of ours: the one with the fewest device interrupts when the ledger
     * opened (pb_cpu_quietest_allowed; the counts move, so only its range here —
     * the choice itself is test_core_cpu's) */
    cpu_set_t mine_now;
    assert_int_equal(sched_getaffinity(0, sizeof mine_now, &mine_now), 0);
    assert_true(cpu >= 0 && CPU_ISSET(cpu, &mine_now));
    int64_t a = fx_account(f, "p1", "player", 0), b = fx_account(f, "p2", "player", 0);
    pb_transfer t = fx_transfer("pin-1", a, b, 1, PB_CODE_DEPOSIT);
    assert_int_equal(fx_submit1(f, &t), PB_OK); /* the pinned writer committed it */
    assert_int_equal(fx_get(f, b).credits_posted, 1);
    cpu_set_t w = thread_cpus("pb-ledger-write");
    assert_int_equal(CPU_COUNT(&w), 1);
    assert_true(CPU_ISSET(cpu, &w));
    const char *others[] = {"pb-ledger-wake", "pb-ledger-ckpt"};
    for (size_t i = 0; i < 2; i++) {
        cpu_set_t o = thread_cpus(others[i]);
        assert_false(CPU_ISSET(cpu, &o));
        assert_true(CPU_COUNT(&o) >= 1);
    }
    /* the test thread itself keeps off it too (then gets its CPUs back) */
    cpu_set_t saved, me;
    assert_int_equal(sched_getaffinity(0, sizeof saved, &saved), 0);
    assert_int_equal(pb_cpu_avoid(cpu), 0);
    assert_int_equal(sched_getaffinity(0, sizeof me, &me), 0);
    assert_false(CPU_ISSET(cpu, &me));
    assert_int_equal(CPU_COUNT(&me), CPU_COUNT(&saved) - 1);
    assert_int_equal(sched_setaffinity(0, sizeof saved, &saved), 0);
}

static void test_random_mix(void **state)
{
    fx *f = *state;
    reopen_with_atomic_clock(f);
    world w;
    memset(&w, 0, sizeof w);
    w.f = f;
    make_set(f, &w.eur, "EUR", NEUR);
    make_set(f, &w.jpy, "JPY", NJPY);
    int64_t funded = fund(f, w.eur.psp, w.eur.players, NEUR, "EUR") +
                     fund(f, w.jpy.psp, w.jpy.players, NJPY, "JPY");
    w.holds = calloc(HOLDS_CAP, sizeof *w.holds);
    worker *k = calloc(NTHREADS, sizeof *k);
    assert_non_null(w.holds);
    assert_non_null(k);

    uint64_t seed = seed_base();
    w.deadline = mono_us() + (int64_t)(test_seconds() * 1e6);
    pthread_t th[NTHREADS], clk;
    assert_int_equal(pthread_create(&clk, NULL, clock_main, &w), 0);
    for (int i = 0; i < NTHREADS; i++) {
        k[i].w = &w;
        k[i].idx = i;
        k[i].rng = (seed + (uint64_t)i + 1) * 0x9E3779B97F4A7C15ull | 1;
        assert_int_equal(pthread_create(&th[i], NULL, mix_main, &k[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    __atomic_store_n(&w.stop_clock, 1, __ATOMIC_RELAXED);
    pthread_join(clk, NULL);
    /* stop the writer: nothing may change (no more expiry sweeps) while we count */
    pb_ledger_close(f->ledger);
    f->ledger = NULL;

    int64_t ok_new = 0, count[NK] = {0};
    for (int i = 0; i < NTHREADS; i++) {
        if (k[i].why[0])
            fail_msg("%s", k[i].why);
        ok_new += k[i].ok_new;
        for (int j = 0; j < NK; j++)
            count[j] += k[i].count[j];
    }
    for (int j = 0; j < NK; j++) { /* every kind of operation was exercised */
        print_message("# %s: %lld\n", kind_name[j], (long long)count[j]);
        if (j != K_STOLEN && count[j] == 0)
            fail_msg("no successful %s in %.1f s", kind_name[j], test_seconds());
    }

    /* each hold resolved at most once, by the transfer its resolver saw; the rest
     * are open or were expired by the ledger */
    size_t nholds = w.nholds, open = 0, expired = 0;
    for (size_t i = 0; i < nholds; i++) {
        hold *h = &w.holds[i];
        pb_store_transfer r;
        pb_store_rc rc = pb_store_transfer_by_pending(f->conn, &h->id, &r);
        assert_in_range(h->resolved, 0, 1);
        if (h->resolved == 1) {
            assert_int_equal(rc, PB_STORE_OK);
            assert_int_equal(pb_id_cmp(&r.id, &h->by), 0);
            assert_false(r.flags & PB_TRANSFER_EXPIRED);
        } else if (rc == PB_STORE_NOT_FOUND) {
            open++;
        } else {
            assert_int_equal(rc, PB_STORE_OK);
            if (!(r.flags & PB_TRANSFER_EXPIRED))
                fail_msg("hold %zu was resolved by seq %lld, which nobody was told about", i,
                         (long long)r.seq);
            expired++;
        }
    }
    print_message("# holds %zu, open %zu, expired %zu\n", nholds, open, expired);
    assert_true(expired > 0); /* the clock moved 100 s per second: short holds expired */

    pb_ledger_verify_summary vs;
    assert_int_equal(pb_ledger_verify(f->conn, NULL, NULL, &vs), PB_OK);
    assert_int_equal(vs.violations, 0);
    assert_int_equal(vs.open_pendings, (int64_t)open);
    assert_int_equal(vs.accounts, 2 * 2 + NEUR + NJPY);
    assert_int_equal(vs.transfers, funded + ok_new + (int64_t)expired);
    int64_t rows[5] = {0};
    assert_int_equal(pb_store_transfer_scan(f->conn, 0, count_row, rows), PB_STORE_OK);
    assert_int_equal(rows[0], vs.transfers);
    assert_int_equal(rows[1], funded);
    assert_int_equal(rows[2], ok_new);
    assert_int_equal(rows[3], (int64_t)expired);
    assert_int_equal(rows[4], 0);

    /* per currency: posted money is conserved, pending debits equal pending credits,
     * and no player is below zero (vs.accounts says these are all the accounts) */
    for (int i = 0; i < 2; i++) {
        const cur_set *c = i ? &w.jpy : &w.eur;
        __int128 net = 0, dp = 0, cp = 0;
        for (int j = -2; j < c->n; j++) {
            pb_ledger_account a = fx_get(f, j == -2 ? c->house : j == -1 ? c->psp : c->players[j]);
            assert_string_equal(a.currency, c->cur);
            net += (__int128)a.credits_posted - a.debits_posted;
            dp += a.debits_pending;
            cp += a.credits_pending;
            if (j >= 0 && pb_ledger_available(&a) < 0)
                fail_msg("%s player %d is at %lld", c->cur, j, (long long)pb_ledger_available(&a));
        }
        if (net != 0 || dp != cp)
            fail_msg("%s: posted net %lld, pending debits %lld != credits %lld", c->cur,
                     (long long)net, (long long)dp, (long long)cp);
    }
    free(w.holds);
    free(k);
}

/* ---- test 2: two hot accounts --------------------------------------------- */

typedef struct hot {
    fx *f;
    int64_t player, house;
    int64_t deadline;
    int idx;
    uint64_t rng, nkey;
    int64_t debits, credits, ok, insufficient;
    char why[256];
} hot;

static void *hot_main(void *arg)
{
    hot *h = arg;
    while (!h->why[0] && mono_us() < h->deadline) {
        pb_transfer t[5];
        size_t n = rnd(&h->rng) % 5 == 0 ? (size_t)between(&h->rng, 2, 5) : 1;
        for (size_t i = 0; i < n; i++) {
            char key[48];
            snprintf(key, sizeof key, "hot%d-%llu", h->idx, (unsigned long long)++h->nkey);
            bool bet = rnd(&h->rng) % 2 == 0;
            t[i] = bet ? request("hot", key, h->player, h->house, between(&h->rng, 1, 3000),
                                 PB_CODE_BET, "EUR", 0)
                       : request("hot", key, h->house, h->player, between(&h->rng, 1, 1000),
                                 PB_CODE_WIN, "EUR", 0);
        }
        if (pb_ledger_submit(h->f->ledger, t, n) != PB_OK) {
            snprintf(h->why, sizeof h->why, "thread %d: submit failed", h->idx);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            bool bet = t[i].debit_account_id == h->player;
            if (t[i].result == PB_OK && !t[i].replayed && t[i].record.amount == t[i].amount) {
                h->ok++;
                if (bet)
                    h->debits += t[i].amount;
                else
                    h->credits += t[i].amount;
            } else if (bet && t[i].result == PB_ERR_INSUFFICIENT_FUNDS) {
                h->insufficient++;
            } else {
                snprintf(h->why, sizeof h->why, "thread %d: %s %s: %s", h->idx, bet ? "bet" : "win",
                         t[i].key, pb_err_code(t[i].result));
            }
        }
    }
    return NULL;
}

static void test_hot_accounts(void **state)
{
    fx *f = *state;
    int64_t psp = fx_account(f, "psp", "psp_clearing", 0);
    int64_t house = fx_account(f, "house", "house_revenue", 0);
    int64_t player = fx_account(f, "player:hot", "player_cash",
                                PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_transfer dep = fx_transfer("fund", psp, player, 10000, PB_CODE_DEPOSIT);
    assert_int_equal(fx_submit1(f, &dep), PB_OK);

    enum { N = 8 };
    hot h[N];
    pthread_t th[N];
    uint64_t seed = seed_base();
    int64_t deadline = mono_us() + (int64_t)(test_seconds() * 1e6);
    for (int i = 0; i < N; i++) {
        h[i] = (hot){.f = f,
                     .player = player,
                     .house = house,
                     .deadline = deadline,
                     .idx = i,
                     .rng = (seed + (uint64_t)i + 101) * 0xBF58476D1CE4E5B9ull | 1};
        assert_int_equal(pthread_create(&th[i], NULL, hot_main, &h[i]), 0);
    }
    int64_t debits = 0, credits = 0, ok = 0, insufficient = 0;
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        if (h[i].why[0])
            fail_msg("%s", h[i].why);
        debits += h[i].debits, credits += h[i].credits;
        ok += h[i].ok, insufficient += h[i].insufficient;
    }
    print_message("# hot: %lld accepted (debits %lld, credits %lld), %lld insufficient\n",
                  (long long)ok, (long long)debits, (long long)credits, (long long)insufficient);
    assert_true(debits > 0);
    assert_true(credits > 0);
    assert_true(insufficient > 0); /* bets outweigh wins: the floor was hit */

    pb_ledger_account p = fx_get(f, player), hs = fx_get(f, house);
    assert_int_equal(p.credits_posted, 10000 + credits);
    assert_int_equal(p.debits_posted, debits);
    assert_int_equal(p.debits_pending, 0);
    assert_true(pb_ledger_available(&p) >= 0);
    assert_int_equal(hs.credits_posted, debits);
    assert_int_equal(hs.debits_posted, credits);
    pb_ledger_verify_summary vs;
    assert_int_equal(pb_ledger_verify(f->conn, NULL, NULL, &vs), PB_OK);
    assert_int_equal(vs.violations, 0);
    assert_int_equal(vs.transfers, 1 + ok);
}

/* ---- test 3: the same keys from every thread at once ---------------------- */

#define RACE_KEYS 50

typedef struct racer {
    fx *f;
    pthread_barrier_t *go;
    pb_transfer t[RACE_KEYS];
    pb_err submit;
} racer;

static void *race_main(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(r->go);
    r->submit = PB_OK;
    for (int i = 0; i < RACE_KEYS && r->submit == PB_OK; i++)
        r->submit = pb_ledger_submit(r->f->ledger, &r->t[i], 1);
    return NULL;
}

static void test_same_key_race(void **state)
{
    fx *f = *state;
    int64_t psp = fx_account(f, "psp", "psp_clearing", 0);
    int64_t player = fx_account(f, "player:race", "player_cash",
                                PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    racer *r = calloc(NTHREADS, sizeof *r);
    assert_non_null(r);
    pthread_barrier_t go;
    pthread_t th[NTHREADS];
    pthread_barrier_init(&go, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        r[i] = (racer){.f = f, .go = &go};
        for (int k = 0; k < RACE_KEYS; k++) {
            char key[16];
            snprintf(key, sizeof key, "same-%d", k);
            r[i].t[k] = request("race", key, psp, player, 100 + k, PB_CODE_BET, "EUR", 0);
        }
        assert_int_equal(pthread_create(&th[i], NULL, race_main, &r[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);

    int64_t total = 0;
    for (int k = 0; k < RACE_KEYS; k++) {
        int fresh = 0;
        for (int i = 0; i < NTHREADS; i++) {
            assert_int_equal(r[i].submit, PB_OK);
            assert_int_equal(r[i].t[k].result, PB_OK);
            assert_int_equal(pb_id_cmp(&r[i].t[k].record.id, &r[0].t[k].record.id), 0);
            assert_int_equal(r[i].t[k].record.seq, r[0].t[k].record.seq);
            fresh += !r[i].t[k].replayed;
        }
        assert_int_equal(fresh, 1); /* written once, replayed to the 15 others */
        total += 100 + k;
    }
    free(r);
    pb_ledger_account p = fx_get(f, player);
    assert_int_equal(p.credits_posted, total);
    pb_ledger_verify_summary vs;
    assert_int_equal(pb_ledger_verify(f->conn, NULL, NULL, &vs), PB_OK);
    assert_int_equal(vs.violations, 0);
    assert_int_equal(vs.transfers, RACE_KEYS);
}

/* Readers on their own connections keep reading a lagging account (through the
 * live table) while the ledger closes: the close waits for the readers that hold
 * the table before freeing it (store.c), so none reads freed memory (ASan tells),
 * and after the close they read the written-back row. */
typedef struct live_reader {
    fx *f;
    int64_t account;
    _Atomic bool *stop;
    _Atomic long reads, wrong;
} live_reader;

/* Waits (at most 10 s: a loaded machine, a sanitizer build) until every reader
 * has read more than floor[i] times; false if one has not. */
static bool readers_past(live_reader *r, const long *floor, int n)
{
    for (int waited = 0; waited < 10000; waited++) {
        int behind = 0;
        for (int i = 0; i < n; i++)
            behind += atomic_load(&r[i].reads) <= floor[i];
        if (!behind)
            return true;
        usleep(1000);
    }
    return false;
}

static void *read_during_close(void *arg)
{
    live_reader *r = arg;
    char err[256];
    pb_store_conn *c = pb_store_connect(r->f->store, err, sizeof err);
    while (c && !atomic_load(r->stop)) {
        pb_ledger_account a;
        if (pb_ledger_account_get(c, r->account, &a) != PB_OK || a.credits_posted != 500)
            atomic_fetch_add(&r->wrong, 1);
        atomic_fetch_add(&r->reads, 1);
    }
    pb_store_disconnect(c);
    return NULL;
}

static void test_readers_during_close(void **state)
{
    fx *f = *state;
    int64_t psp = fx_account(f, "psp", "psp_clearing", 0);
    int64_t p = fx_account(f, "player:1", "player_cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    pb_transfer dep = fx_transfer("dep", psp, p, 500, PB_CODE_DEPOSIT);
    assert_int_equal(fx_submit1(f, &dep), PB_OK);
    _Atomic bool stop = false;
    enum { R = 4 };
    live_reader r[R];
    pthread_t th[R];
    for (int i = 0; i < R; i++) {
        r[i] = (live_reader){.f = f, .account = p, .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, read_during_close, &r[i]), 0);
    }
    /* every reader reading before the close and after it (waited for, not slept:
     * under load a thread may take long to start); the threads are joined before
     * any assertion, so a failure never frees the store under a running reader */
    long floor[R] = {0};
    bool before = readers_past(r, floor, R);
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    for (int i = 0; i < R; i++)
        floor[i] = atomic_load(&r[i].reads);
    bool after = readers_past(r, floor, R);
    atomic_store(&stop, true);
    for (int i = 0; i < R; i++)
        pthread_join(th[i], NULL);
    assert_true(before);
    assert_true(after);
    for (int i = 0; i < R; i++)
        assert_int_equal(atomic_load(&r[i].wrong), 0);
    fx_restart(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_readers_during_close, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pinned_writer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_random_mix, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_hot_accounts, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_same_key_race, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
