/*
 * test_wallet.c — the wallet's accounts, gate, balances and history
 * (src/wallet/wallet.c, src/wallet/history.c) on a real SQLite database and a
 * running ledger: accounts created once with the right flags and then served
 * from the cache; concurrent first uses ending with one account each; the gate
 * for every player status and action; balances with holds; the cash and bonus
 * histories merged newest first, paged by cursor under filters; one entry and
 * who may see it. Every test ends with `ledger verify` clean.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ledger/fixture.h"
#include "core/id.h"
#include "store/store.h"
#include "tenancy/tenancy.h"
#include "wallet/wallet.h"

#define SEC 1000000LL

typedef struct wx {
    fx *f;
    pb_wallet *w;
    int64_t brand_id;
    char player[PB_ID_STR_LEN + 1]; /* active, EUR */
    int64_t player_row;
    char other[PB_ID_STR_LEN + 1]; /* another active player of the brand */
} wx;

static wx W;

/* Inserts a player of brand alpha with `status`; returns the row id. */
static int64_t add_player(const char *status, char public_id[PB_ID_STR_LEN + 1])
{
    static int n;
    pb_store_player p;
    memset(&p, 0, sizeof p);
    pb_id id;
    pb_id_new(&id);
    pb_id_to_string(&id, p.public_id);
    p.brand_id = W.brand_id;
    snprintf(p.currency, sizeof p.currency, "EUR");
    snprintf(p.password_hash, sizeof p.password_hash, "x");
    snprintf(p.status, sizeof p.status, "%s", status);
    snprintf(p.email, sizeof p.email, "p%d@example.com", n++);
    snprintf(p.country, sizeof p.country, "MT");
    snprintf(p.date_of_birth, sizeof p.date_of_birth, "1990-01-01");
    p.created_at = p.updated_at = 1;
    assert_int_equal(pb_store_begin(W.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_player_insert(W.f->conn, &p), PB_STORE_OK);
    assert_int_equal(pb_store_commit(W.f->conn), PB_STORE_OK);
    snprintf(public_id, PB_ID_STR_LEN + 1, "%s", p.public_id);
    return p.id;
}

static void set_status(int64_t row, const char *status)
{
    assert_int_equal(pb_store_begin(W.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_player_set_status(W.f->conn, row, status, "test", 2), PB_STORE_OK);
    assert_int_equal(pb_store_commit(W.f->conn), PB_STORE_OK);
}

static int setup(void **state)
{
    fx_setup(state);
    memset(&W, 0, sizeof W);
    W.f = *state;
    char err[256];
    W.w = pb_wallet_open(W.f->ledger, W.f->store, err, sizeof err);
    assert_non_null(W.w);
    assert_ptr_equal(pb_wallet_ledger(W.w), W.f->ledger);
    pb_brand_spec spec = {
        .code = "alpha", .name = "Alpha", .default_currency = "EUR", .jurisdiction = "MT"};
    pb_brand b;
    assert_int_equal(pb_store_begin(W.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_tenancy_brand_create(W.f->conn, &spec, 1, &b, NULL), PB_OK);
    assert_int_equal(pb_store_commit(W.f->conn), PB_STORE_OK);
    W.brand_id = b.id;
    W.player_row = add_player("active", W.player);
    add_player("active", W.other);
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(fx_verify(W.f), 0);
    pb_wallet_close(W.w);
    return fx_teardown(state);
}

static int64_t account_count(void)
{
    pb_ledger_verify_summary s;
    assert_int_equal(pb_ledger_verify(W.f->conn, NULL, NULL, &s), PB_OK);
    return s.accounts;
}

static int64_t house(void)
{
    int64_t id = 0;
    assert_int_equal(pb_wallet_system_account(W.w, W.f->conn, "alpha", PB_WALLET_OWNER_HOUSE,
                                              PB_WALLET_KIND_HOUSE, "EUR", &id),
                     PB_OK);
    return id;
}

static pb_wallet_accounts accounts_of(const char *player)
{
    pb_wallet_accounts a = {0, 0};
    assert_int_equal(pb_wallet_player_accounts(W.w, W.f->conn, "alpha", player, "EUR", &a), PB_OK);
    return a;
}

/* Submits one transfer at ledger time `at` (µs offset from the fixture's start). */
static pb_ledger_record move(const char *key, int64_t debit, int64_t credit, int64_t amount,
                             uint32_t code, uint32_t flags, int64_t at)
{
    static int64_t start;
    if (!start)
        start = W.f->clock_us;
    W.f->clock_us = start + at;
    pb_transfer t = fx_transfer(key, debit, credit, amount, code);
    t.flags = flags;
    assert_int_equal(fx_submit1(W.f, &t), PB_OK);
    return t.record;
}

/* ---- accounts ---- */

static void test_accounts_created_once_with_flags(void **state)
{
    (void)state;
    int64_t before = account_count();
    pb_wallet_accounts a = accounts_of(W.player);
    assert_true(a.cash > 0 && a.bonus > 0 && a.cash != a.bonus);
    assert_int_equal(account_count(), before + 2);
    pb_ledger_account cash = fx_get(W.f, a.cash), bonus = fx_get(W.f, a.bonus);
    char owner[64];
    snprintf(owner, sizeof owner, "player:%s", W.player);
    assert_string_equal(cash.owner, owner);
    assert_string_equal(cash.kind, PB_WALLET_KIND_CASH);
    assert_string_equal(bonus.kind, PB_WALLET_KIND_BONUS);
    assert_string_equal(cash.brand, "alpha");
    assert_string_equal(cash.currency, "EUR");
    assert_int_equal(cash.flags, PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    assert_int_equal(bonus.flags, PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    /* again: the same ids, nothing new */
    pb_wallet_accounts again = accounts_of(W.player);
    assert_int_equal(again.cash, a.cash);
    assert_int_equal(again.bonus, a.bonus);
    /* a fresh handle (empty cache) finds the same accounts */
    char err[256];
    pb_wallet *w2 = pb_wallet_open(W.f->ledger, W.f->store, err, sizeof err);
    assert_non_null(w2);
    pb_wallet_accounts third;
    assert_int_equal(pb_wallet_player_accounts(w2, W.f->conn, "alpha", W.player, "EUR", &third),
                     PB_OK);
    pb_wallet_close(w2);
    assert_int_equal(third.cash, a.cash);
    assert_int_equal(third.bonus, a.bonus);
    assert_int_equal(account_count(), before + 2);
    /* another currency or brand is another pair */
    pb_wallet_accounts usd;
    assert_int_equal(pb_wallet_player_accounts(W.w, W.f->conn, "alpha", W.player, "USD", &usd),
                     PB_OK);
    assert_true(usd.cash != a.cash && usd.bonus != a.bonus);
    assert_int_equal(account_count(), before + 4);
}

static void test_system_accounts(void **state)
{
    (void)state;
    int64_t h = house(), p = 0, psp = 0;
    assert_int_equal(pb_wallet_system_account(W.w, W.f->conn, "alpha", "provider:studio",
                                              PB_WALLET_KIND_PROVIDER, "EUR", &p),
                     PB_OK);
    assert_int_equal(pb_wallet_system_account(W.w, W.f->conn, "alpha", "psp:sandbox",
                                              PB_WALLET_KIND_PSP, "EUR", &psp),
                     PB_OK);
    assert_true(h > 0 && p > 0 && psp > 0 && h != p && p != psp && h != psp);
    pb_ledger_account a = fx_get(W.f, h);
    assert_int_equal(a.flags, 0); /* the brand's side may go negative: it is the counterparty */
    assert_string_equal(a.owner, PB_WALLET_OWNER_HOUSE);
    assert_string_equal(a.kind, PB_WALLET_KIND_HOUSE);
    assert_int_equal(fx_get(W.f, p).flags, 0);
    assert_int_equal(house(), h);
    /* names that cannot be stored are refused, nothing created */
    int64_t before = account_count(), id = 0;
    char longer[80];
    memset(longer, 'b', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    assert_int_equal(pb_wallet_system_account(W.w, W.f->conn, longer, PB_WALLET_OWNER_HOUSE,
                                              PB_WALLET_KIND_HOUSE, "EUR", &id),
                     PB_ERR_INVALID_REQUEST);
    assert_int_equal(pb_wallet_system_account(W.w, W.f->conn, "alpha", PB_WALLET_OWNER_HOUSE,
                                              PB_WALLET_KIND_HOUSE, "EURO12345", &id),
                     PB_ERR_INVALID_REQUEST);
    char big_id[300];
    memset(big_id, 'x', sizeof big_id - 1);
    big_id[sizeof big_id - 1] = 0;
    pb_wallet_accounts acc;
    assert_int_equal(pb_wallet_player_accounts(W.w, W.f->conn, "alpha", big_id, "EUR", &acc),
                     PB_ERR_INVALID_REQUEST);
    assert_int_equal(account_count(), before);
}

/* Served from the cache: once known, an account id does not need the database.
 * A connection to another (empty) database proves it: a lookup there would fail. */
static void test_accounts_are_remembered(void **state)
{
    (void)state;
    pb_wallet_accounts a = accounts_of(W.player);
    int64_t h = house();
    char dir[] = "/tmp/pbwallet.XXXXXX", path[64], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/empty.db", dir);
    pb_store *s2 = pb_store_open(path, err, sizeof err);
    assert_non_null(s2);
    assert_int_equal(pb_store_migrate(s2, NULL, err, sizeof err), PB_STORE_OK);
    pb_store_conn *c2 = pb_store_connect(s2, err, sizeof err);
    assert_non_null(c2);

    pb_wallet_accounts cached;
    assert_int_equal(pb_wallet_player_accounts(W.w, c2, "alpha", W.player, "EUR", &cached), PB_OK);
    assert_int_equal(cached.cash, a.cash);
    assert_int_equal(cached.bonus, a.bonus);
    int64_t hc = 0;
    assert_int_equal(pb_wallet_system_account(W.w, c2, "alpha", PB_WALLET_OWNER_HOUSE,
                                              PB_WALLET_KIND_HOUSE, "EUR", &hc),
                     PB_OK);
    assert_int_equal(hc, h);
    /* the control: a handle without the cache has to look, and finds nothing there */
    pb_wallet *w2 = pb_wallet_open(W.f->ledger, W.f->store, err, sizeof err);
    assert_non_null(w2);
    pb_wallet_accounts none;
    assert_int_not_equal(pb_wallet_player_accounts(w2, c2, "alpha", W.player, "EUR", &none), PB_OK);
    pb_wallet_close(w2);

    pb_store_disconnect(c2);
    pb_store_close(s2);
    const char *suffix[] = {"", "-wal", "-shm", "-writer.lock"};
    for (int i = 0; i < 4; i++) {
        char p[96];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

#define RACERS 8

typedef struct racer {
    pb_wallet *w; /* shared, or the racer's own (so every racer misses its cache) */
    pthread_barrier_t *go;
    const char *player;
    pb_wallet_accounts got;
    int64_t house;
    pb_err e;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    char err[256];
    pb_store_conn *c = pb_store_connect(W.f->store, err, sizeof err);
    if (!c) {
        r->e = PB_ERR_INTERNAL;
        return NULL;
    }
    pthread_barrier_wait(r->go);
    r->e = pb_wallet_player_accounts(r->w, c, "alpha", r->player, "EUR", &r->got);
    if (r->e == PB_OK)
        r->e = pb_wallet_system_account(r->w, c, "alpha", "provider:race", PB_WALLET_KIND_PROVIDER,
                                        "EUR", &r->house);
    pb_store_disconnect(c);
    return NULL;
}

static void run_race(bool own_handles, const char *player, int64_t new_accounts)
{
    int64_t before = account_count();
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    racer r[RACERS];
    pthread_t th[RACERS];
    char err[256];
    for (int i = 0; i < RACERS; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].w = own_handles ? pb_wallet_open(W.f->ledger, W.f->store, err, sizeof err) : W.w;
        assert_non_null(r[i].w);
        r[i].go = &go;
        r[i].player = player;
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < RACERS; i++) {
        assert_int_equal(r[i].e, PB_OK);
        assert_int_equal(r[i].got.cash, r[0].got.cash);
        assert_int_equal(r[i].got.bonus, r[0].got.bonus);
        assert_int_equal(r[i].house, r[0].house);
        if (own_handles)
            pb_wallet_close(r[i].w);
    }
    /* one of each, however many raced for it */
    assert_int_equal(account_count() - before, new_accounts);
    pb_wallet_accounts a = accounts_of(player);
    assert_int_equal(a.cash, r[0].got.cash);
    assert_int_equal(a.bonus, r[0].got.bonus);
}

static void test_concurrent_first_use_makes_one_account(void **state)
{
    (void)state;
    /* every racer misses its own cache: ACCOUNT_EXISTS → find */
    run_race(true, W.player, 3); /* cash, bonus and the provider's account */
    run_race(false, W.other, 2); /* one shared handle; the provider's exists by now */
}

/* ---- the gate ---- */

static void test_gate_per_status(void **state)
{
    (void)state;
    const pb_wallet_action all[] = {PB_WALLET_ACTION_BET, PB_WALLET_ACTION_DEPOSIT,
                                    PB_WALLET_ACTION_WITHDRAW};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(pb_wallet_gate(W.f->conn, W.player, all[i]), PB_OK);
    set_status(W.player_row, "blocked");
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(pb_wallet_gate(W.f->conn, W.player, all[i]), PB_ERR_PLAYER_BLOCKED);
    set_status(W.player_row, "closed");
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(pb_wallet_gate(W.f->conn, W.player, all[i]), PB_ERR_PLAYER_BLOCKED);
    set_status(W.player_row, "self_excluded");
    assert_int_equal(pb_wallet_gate(W.f->conn, W.player, PB_WALLET_ACTION_BET),
                     PB_ERR_PLAYER_SELF_EXCLUDED);
    assert_int_equal(pb_wallet_gate(W.f->conn, W.player, PB_WALLET_ACTION_DEPOSIT),
                     PB_ERR_PLAYER_SELF_EXCLUDED);
    /* a self-excluded player may still take their own money out */
    assert_int_equal(pb_wallet_gate(W.f->conn, W.player, PB_WALLET_ACTION_WITHDRAW), PB_OK);
    set_status(W.player_row, "active");
    assert_int_equal(pb_wallet_gate(W.f->conn, W.player, PB_WALLET_ACTION_BET), PB_OK);
    /* the other player was never touched */
    assert_int_equal(pb_wallet_gate(W.f->conn, W.other, PB_WALLET_ACTION_BET), PB_OK);
    assert_int_equal(pb_wallet_gate(W.f->conn, "0190aaaa-0000-7000-8000-000000000000",
                                    PB_WALLET_ACTION_BET),
                     PB_ERR_PLAYER_NOT_FOUND);
}

/* The provider gate: a switched-off provider (any status but "active") starts
 * nothing new (no session or balance, no bet) and settles what was staked. */
static void test_provider_gate(void **state)
{
    (void)state;
    const int all[] = {0, PB_WALLET_BET, PB_WALLET_WIN, PB_WALLET_ROLLBACK, PB_WALLET_ROUND_CLOSE};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_int_equal(pb_wallet_provider_gate("active", all[i]), PB_OK);
    const char *off[] = {"disabled", "suspended", "", NULL};
    for (size_t k = 0; k < sizeof off / sizeof off[0]; k++) {
        assert_int_equal(pb_wallet_provider_gate(off[k], 0), PB_ERR_PROVIDER_DISABLED);
        assert_int_equal(pb_wallet_provider_gate(off[k], PB_WALLET_BET), PB_ERR_PROVIDER_DISABLED);
        assert_int_equal(pb_wallet_provider_gate(off[k], PB_WALLET_WIN), PB_OK);
        assert_int_equal(pb_wallet_provider_gate(off[k], PB_WALLET_ROLLBACK), PB_OK);
        assert_int_equal(pb_wallet_provider_gate(off[k], PB_WALLET_ROUND_CLOSE), PB_OK);
    }
}

/* ---- balances ---- */

static void test_balance(void **state)
{
    (void)state;
    pb_wallet_balance b;
    memset(&b, 0x5a, sizeof b);
    assert_int_equal(pb_wallet_balance_get(W.f->conn, "alpha", W.player, "EUR", &b), PB_OK);
    assert_string_equal(b.currency, "EUR"); /* no accounts yet: zeros */
    assert_true(b.cash == 0 && b.bonus == 0 && b.held == 0 && b.withdrawable == 0 && b.total == 0);

    pb_wallet_accounts a = accounts_of(W.player);
    int64_t h = house();
    move("c1", h, a.cash, 1000, PB_CODE_DEPOSIT, 0, 0);
    move("b1", h, a.bonus, 500, PB_CODE_BONUS_GRANT, 0, 0);
    move("hold", a.cash, h, 300, PB_CODE_WITHDRAWAL, PB_TRANSFER_PENDING, 0);
    move("bhold", a.bonus, h, 50, PB_CODE_BET, PB_TRANSFER_PENDING, 0);
    move("x", h, accounts_of(W.other).cash, 777, PB_CODE_DEPOSIT, 0, 0); /* not theirs */
    assert_int_equal(pb_wallet_balance_get(W.f->conn, "alpha", W.player, "EUR", &b), PB_OK);
    assert_int_equal(b.cash, 1000); /* posted */
    assert_int_equal(b.held, 300);  /* held by the pending withdrawal */
    assert_int_equal(b.withdrawable, 700);
    assert_int_equal(b.bonus, 450);  /* bonus net of its own holds */
    assert_int_equal(b.total, 1150); /* what may be staked */
    /* another currency or brand sees nothing of it */
    assert_int_equal(pb_wallet_balance_get(W.f->conn, "alpha", W.player, "USD", &b), PB_OK);
    assert_string_equal(b.currency, "USD");
    assert_true(b.cash == 0 && b.bonus == 0 && b.total == 0);
    assert_int_equal(pb_wallet_balance_get(W.f->conn, "beta", W.player, "EUR", &b), PB_OK);
    assert_int_equal(b.total, 0);
    /* voiding the cash hold gives it back */
    pb_transfer v = fx_transfer("void-hold", 0, 0, 0, 0);
    v.flags = PB_TRANSFER_VOID_PENDING;
    pb_ledger_record held;
    assert_int_equal(pb_ledger_transfer_by_key(W.f->conn, "test", "hold", &held), PB_OK);
    v.pending_id = held.id;
    snprintf(v.currency, sizeof v.currency, "%s", "");
    assert_int_equal(fx_submit1(W.f, &v), PB_OK);
    assert_int_equal(pb_wallet_balance_get(W.f->conn, "alpha", W.player, "EUR", &b), PB_OK);
    assert_int_equal(b.held, 0);
    assert_int_equal(b.withdrawable, 1000);
    assert_int_equal(b.total, 1450);
}

/* ---- history ---- */

typedef struct story {
    pb_wallet_accounts a;
    int64_t h;
    pb_ledger_record c1, b1, foreign, bet, conv, hold, voided, bbet;
} story;

/* A player's life, one second apart, with another player's transfers in between. */
static story tell(void)
{
    story s;
    s.a = accounts_of(W.player);
    s.h = house();
    pb_wallet_accounts o = accounts_of(W.other);
    s.c1 = move("c1", s.h, s.a.cash, 1000, PB_CODE_DEPOSIT, 0, 0 * SEC);
    s.b1 = move("b1", s.h, s.a.bonus, 500, PB_CODE_BONUS_GRANT, 0, 1 * SEC);
    s.foreign = move("o1", s.h, o.cash, 700, PB_CODE_DEPOSIT, 0, 1 * SEC);
    s.bet = move("bet", s.a.cash, s.h, 200, PB_CODE_BET, 0, 2 * SEC);
    s.conv = move("conv", s.a.bonus, s.a.cash, 100, PB_CODE_BONUS_CONVERT, 0, 3 * SEC);
    move("o2", o.cash, s.h, 70, PB_CODE_BET, 0, 3 * SEC);
    s.hold = move("hold", s.a.cash, s.h, 300, PB_CODE_WITHDRAWAL, PB_TRANSFER_PENDING, 4 * SEC);
    pb_transfer v = fx_transfer("void", 0, 0, 0, 0);
    v.flags = PB_TRANSFER_VOID_PENDING;
    v.pending_id = s.hold.id;
    v.currency[0] = 0;
    W.f->clock_us += SEC;
    assert_int_equal(fx_submit1(W.f, &v), PB_OK);
    s.voided = v.record;
    s.bbet = move("bbet", s.a.bonus, s.h, 50, PB_CODE_BET, 0, 6 * SEC);
    return s;
}

static pb_err hist(const pb_wallet_history_query *q, pb_wallet_entry *out, size_t *n,
                   char next[PB_WALLET_CURSOR_MAX])
{
    return pb_wallet_history(W.f->conn, q, out, n, next);
}

/* Reads every page of `q` with page size `limit` into out; returns the count. */
static size_t all_pages(pb_wallet_history_query q, size_t limit, pb_wallet_entry *out, size_t cap)
{
    char cursor[PB_WALLET_CURSOR_MAX] = "", next[PB_WALLET_CURSOR_MAX];
    size_t total = 0;
    q.limit = limit;
    for (int page = 0; page < 64; page++) {
        q.cursor = cursor;
        size_t n = 0;
        pb_wallet_entry *buf = calloc(limit, sizeof *buf);
        assert_non_null(buf);
        assert_int_equal(hist(&q, buf, &n, next), PB_OK);
        assert_true(n <= limit);
        assert_true(total + n <= cap);
        memcpy(out + total, buf, n * sizeof *buf);
        free(buf);
        total += n;
        if (!next[0])
            return total;
        assert_true(n == limit); /* only a full page has a next one */
        snprintf(cursor, sizeof cursor, "%s", next);
    }
    fail_msg("the pages never end");
    return 0;
}

static void expect(const pb_wallet_entry *e, const pb_ledger_record *t, const char *balance,
                   int64_t amount)
{
    assert_int_equal(pb_id_cmp(&e->transfer_id, &t->id), 0);
    assert_int_equal(e->seq, t->seq);
    assert_int_equal(e->code, t->code);
    assert_string_equal(e->balance, balance);
    assert_int_equal(e->amount, amount);
    assert_int_equal(e->flags, t->flags);
    assert_int_equal(e->created_at, t->created_at);
}

static void test_history_merged_newest_first(void **state)
{
    (void)state;
    story s = tell();
    pb_wallet_entry e[32];
    size_t n = 0;
    char next[PB_WALLET_CURSOR_MAX];
    pb_wallet_history_query q = {
        .brand = "alpha", .player_public_id = W.player, .currency = "EUR", .limit = 200};
    assert_int_equal(hist(&q, e, &n, next), PB_OK);
    assert_string_equal(next, "");
    assert_int_equal(n, 8); /* the conversion appears once per balance; others' never */
    expect(&e[0], &s.bbet, "bonus", -50);
    expect(&e[1], &s.voided, "cash", -300);
    assert_true(e[1].flags & PB_TRANSFER_VOID_PENDING);
    expect(&e[2], &s.hold, "cash", -300);
    assert_true(e[2].flags & PB_TRANSFER_PENDING);
    expect(&e[3], &s.conv, "cash", 100); /* same transfer: cash first, then bonus */
    expect(&e[4], &s.conv, "bonus", -100);
    expect(&e[5], &s.bet, "cash", -200);
    expect(&e[6], &s.b1, "bonus", 500);
    expect(&e[7], &s.c1, "cash", 1000);
    /* the posted lines add up to the balances */
    int64_t cash = 0, bonus = 0;
    for (size_t i = 0; i < n; i++)
        if (!(e[i].flags & (PB_TRANSFER_PENDING | PB_TRANSFER_VOID_PENDING)))
            *(strcmp(e[i].balance, "cash") == 0 ? &cash : &bonus) += e[i].amount;
    pb_wallet_balance b;
    assert_int_equal(pb_wallet_balance_get(W.f->conn, "alpha", W.player, "EUR", &b), PB_OK);
    assert_int_equal(cash, b.cash);
    assert_int_equal(bonus, b.bonus);
    /* the other player's history holds only their own two lines */
    q.player_public_id = W.other;
    assert_int_equal(hist(&q, e, &n, next), PB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pb_id_cmp(&e[1].transfer_id, &s.foreign.id), 0);
    /* a player without accounts has an empty history */
    char nobody[PB_ID_STR_LEN + 1];
    add_player("active", nobody);
    q.player_public_id = nobody;
    assert_int_equal(hist(&q, e, &n, next), PB_OK);
    assert_int_equal(n, 0);
    assert_string_equal(next, "");
}

static void test_history_pages_by_cursor(void **state)
{
    (void)state;
    tell();
    pb_wallet_history_query q = {.brand = "alpha", .player_public_id = W.player, .currency = "EUR"};
    pb_wallet_entry full[32], paged[32];
    size_t n = all_pages(q, 200, full, 32);
    assert_int_equal(n, 8);
    /* every page size gives the same lines in the same order, none twice */
    for (size_t limit = 1; limit <= 9; limit++) {
        memset(paged, 0, sizeof paged);
        assert_int_equal(all_pages(q, limit, paged, 32), n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(paged[i].seq, full[i].seq);
            assert_string_equal(paged[i].balance, full[i].balance);
            assert_int_equal(paged[i].amount, full[i].amount);
        }
    }
    /* a page that ends between the two halves of the conversion resumes at the bonus half */
    pb_wallet_entry four[4], rest[8];
    char next[PB_WALLET_CURSOR_MAX];
    q.limit = 4;
    assert_int_equal(hist(&q, four, &n, next), PB_OK);
    assert_int_equal(n, 4);
    assert_int_equal(four[3].code, PB_CODE_BONUS_CONVERT);
    assert_string_equal(four[3].balance, "cash");
    assert_true(next[0]);
    q.cursor = next;
    q.limit = 8;
    char last[PB_WALLET_CURSOR_MAX];
    assert_int_equal(hist(&q, rest, &n, last), PB_OK);
    assert_int_equal(n, 4);
    assert_int_equal(rest[0].code, PB_CODE_BONUS_CONVERT);
    assert_string_equal(rest[0].balance, "bonus");
    assert_string_equal(last, "");
    /* the same cursor read twice gives the same page (it is a position, not a session) */
    pb_wallet_entry again[8];
    size_t n2 = 0;
    assert_int_equal(hist(&q, again, &n2, last), PB_OK);
    assert_int_equal(n2, n);
    assert_int_equal(again[3].seq, rest[3].seq);
}

static void test_history_filters(void **state)
{
    (void)state;
    story s = tell();
    int64_t t0 = s.c1.created_at;
    pb_wallet_history_query q = {.brand = "alpha", .player_public_id = W.player, .currency = "EUR"};
    pb_wallet_entry e[32];
    /* by type */
    q.code = PB_CODE_BONUS_CONVERT;
    size_t n = all_pages(q, 200, e, 32);
    assert_int_equal(n, 2);
    expect(&e[0], &s.conv, "cash", 100);
    expect(&e[1], &s.conv, "bonus", -100);
    q.code = PB_CODE_BET;
    n = all_pages(q, 1, e, 32); /* paged one at a time under the filter */
    assert_int_equal(n, 2);
    expect(&e[0], &s.bbet, "bonus", -50);
    expect(&e[1], &s.bet, "cash", -200);
    q.code = PB_CODE_ROLLBACK;
    assert_int_equal(all_pages(q, 5, e, 32), 0);
    /* by time: from inclusive, to exclusive */
    q.code = 0;
    q.from_us = t0 + 2 * SEC;
    q.to_us = t0 + 4 * SEC;
    n = all_pages(q, 200, e, 32);
    assert_int_equal(n, 3);
    expect(&e[0], &s.conv, "cash", 100);
    expect(&e[1], &s.conv, "bonus", -100);
    expect(&e[2], &s.bet, "cash", -200);
    assert_int_equal(all_pages(q, 1, e, 32), 3);
    assert_int_equal(e[2].seq, s.bet.seq);
    q.from_us = t0 + 5 * SEC; /* only a lower bound */
    q.to_us = 0;
    n = all_pages(q, 2, e, 32);
    assert_int_equal(n, 2);
    expect(&e[0], &s.bbet, "bonus", -50);
    expect(&e[1], &s.voided, "cash", -300);
    q.from_us = 0; /* only an upper bound */
    q.to_us = t0 + 1 * SEC;
    n = all_pages(q, 3, e, 32);
    assert_int_equal(n, 1);
    expect(&e[0], &s.c1, "cash", 1000);
    /* type and time together */
    q.code = PB_CODE_BET;
    q.from_us = t0 + 3 * SEC;
    q.to_us = 0;
    n = all_pages(q, 200, e, 32);
    assert_int_equal(n, 1);
    expect(&e[0], &s.bbet, "bonus", -50);
}

static void test_history_refusals(void **state)
{
    (void)state;
    story s = tell();
    pb_wallet_entry e[8];
    size_t n = 99;
    char next[PB_WALLET_CURSOR_MAX];
    pb_wallet_history_query q = {
        .brand = "alpha", .player_public_id = W.player, .currency = "EUR", .limit = 0};
    assert_int_equal(hist(&q, e, &n, next), PB_ERR_INVALID_REQUEST);
    assert_int_equal(n, 0);
    q.limit = 201;
    assert_int_equal(hist(&q, e, &n, next), PB_ERR_INVALID_REQUEST);
    q.limit = 8;
    char foreign[48], past_end[48];
    snprintf(foreign, sizeof foreign, "%lld.0", (long long)s.foreign.seq); /* another's line */
    snprintf(past_end, sizeof past_end, "0.%lld", (long long)(s.bbet.seq + 100));
    const char *bad[] = {"x",
                         "1",
                         "1.",
                         ".1",
                         "-1.2",
                         "1.-2",
                         "+1.2",
                         "0.0",
                         "1.2.3",
                         " 1.2",
                         "1.2 ",
                         "1e3.0",
                         "99999999999999999999.1",
                         foreign,
                         past_end};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q.cursor = bad[i];
        n = 99;
        assert_int_equal(hist(&q, e, &n, next), PB_ERR_INVALID_REQUEST);
        assert_int_equal(n, 0);
    }
    /* a cursor into a chain the player does not have */
    char nobody[PB_ID_STR_LEN + 1];
    add_player("active", nobody);
    q.player_public_id = nobody;
    q.cursor = "5.0";
    assert_int_equal(hist(&q, e, &n, next), PB_ERR_INVALID_REQUEST);
    /* a cursor of one player is no key to another's lines */
    q.player_public_id = W.player;
    q.cursor = NULL;
    q.limit = 1;
    assert_int_equal(hist(&q, e, &n, next), PB_OK);
    assert_true(next[0]);
    char mine[PB_WALLET_CURSOR_MAX];
    snprintf(mine, sizeof mine, "%s", next);
    q.player_public_id = W.other;
    q.cursor = mine;
    assert_int_equal(hist(&q, e, &n, next), PB_ERR_INVALID_REQUEST);
    assert_string_equal(next, "");
}

/* ---- one entry ---- */

static void test_entry_ownership(void **state)
{
    (void)state;
    story s = tell();
    pb_wallet_entry e;
    assert_int_equal(pb_wallet_entry_get(W.f->conn, "alpha", W.player, "EUR", &s.bet.id, &e),
                     PB_OK);
    expect(&e, &s.bet, "cash", -200);
    assert_string_equal(e.reference, s.bet.reference);
    assert_int_equal(pb_wallet_entry_get(W.f->conn, "alpha", W.player, "EUR", &s.b1.id, &e), PB_OK);
    expect(&e, &s.b1, "bonus", 500);
    /* a move between the player's own balances is shown from the cash side */
    assert_int_equal(pb_wallet_entry_get(W.f->conn, "alpha", W.player, "EUR", &s.conv.id, &e),
                     PB_OK);
    expect(&e, &s.conv, "cash", 100);
    /* another player's transfer is not found for this one, and found for its owner */
    assert_int_equal(pb_wallet_entry_get(W.f->conn, "alpha", W.player, "EUR", &s.foreign.id, &e),
                     PB_ERR_TRANSFER_NOT_FOUND);
    assert_int_equal(pb_wallet_entry_get(W.f->conn, "alpha", W.other, "EUR", &s.foreign.id, &e),
                     PB_OK);
    assert_int_equal(e.amount, 700);
    assert_int_equal(pb_wallet_entry_get(W.f->conn, "alpha", W.other, "EUR", &s.bet.id, &e),
                     PB_ERR_TRANSFER_NOT_FOUND);
    /* the same player under another brand or currency has no such line */
    assert_int_equal(pb_wallet_entry_get(W.f->conn, "beta", W.player, "EUR", &s.bet.id, &e),
                     PB_ERR_TRANSFER_NOT_FOUND);
    assert_int_equal(pb_wallet_entry_get(W.f->conn, "alpha", W.player, "USD", &s.bet.id, &e),
                     PB_ERR_TRANSFER_NOT_FOUND);
    /* an id that names nothing */
    pb_id unknown;
    pb_id_new(&unknown);
    assert_int_equal(pb_wallet_entry_get(W.f->conn, "alpha", W.player, "EUR", &unknown, &e),
                     PB_ERR_TRANSFER_NOT_FOUND);
    /* a player without accounts owns nothing */
    char nobody[PB_ID_STR_LEN + 1];
    add_player("active", nobody);
    assert_int_equal(pb_wallet_entry_get(W.f->conn, "alpha", nobody, "EUR", &s.c1.id, &e),
                     PB_ERR_TRANSFER_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accounts_created_once_with_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accounts_are_remembered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_first_use_makes_one_account, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gate_per_status, setup, teardown),
        cmocka_unit_test(test_provider_gate),
        cmocka_unit_test_setup_teardown(test_balance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_merged_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_pages_by_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_ownership, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
