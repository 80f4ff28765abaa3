/*
 * test_backoffice_people.c — the back office's people statements on a real
 * migrated SQLite store (store_backoffice_people.h), at the edges the API test
 * cannot reach: rounds of both sources started in the same microsecond
 * (the keyset's tie-breakers), rounds of the in-house provider and of other
 * players left out; the player search under every sort and direction with
 * equal keys (emails equal across brands, equal balances, never-logged-in
 * players), paged at every size from 1 to 4 — each page must continue exactly
 * where the previous one stopped; notes that refuse UPDATE and DELETE; a
 * player's sessions in any state, newest first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

typedef struct fx {
    char dir[64];
    char path[96];
    pb_store *store;
    pb_store_conn *c;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pbbop.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
    char err[256];
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(pb_store_migrate(f->store, NULL, err, sizeof err), PB_STORE_OK);
    f->c = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    pb_store_disconnect(f->c);
    pb_store_close(f->store);
    const char *suffix[] = {"", "-wal", "-shm", "-writer.lock"};
    for (int i = 0; i < 4; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void exec(fx *f, const char *sql)
{
    if (pb_store_exec_raw(f->c, sql) != PB_STORE_OK)
        fail_msg("%s: %s", sql, pb_store_errmsg(f->c));
}

/* ---- rounds */

static void add_game_round(fx *f, const char *player, const char *id, int64_t at, bool settled)
{
    char sql[768];
    snprintf(sql, sizeof sql,
             "INSERT INTO game_round(id,brand_id,brand,player,currency,game,idempotency_key,"
             "request_hash,params,amount,state,payout,multiplier,rtp_bp,created_at,updated_at,"
             "settled_at) VALUES('%s',1,'alpha','%s','EUR','dice','%s',x'00','{}',100,'%s',%s,"
             "%s,9900,%lld,%lld,%s)",
             id, player, id, settled ? "settled" : "active", settled ? "250" : "NULL",
             settled ? "25000" : "NULL", (long long)at, (long long)at,
             settled ? "1000000" : "NULL");
    exec(f, sql);
}

static void add_op(fx *f, const char *provider, const char *player, const char *tx,
                   const char *round, int kind, int64_t amount, int64_t at, const char *bet_tx)
{
    char sql[768];
    snprintf(sql, sizeof sql,
             "INSERT INTO wallet_op(provider,tx_id,kind,request_hash,brand,player,currency,"
             "round_id,bet_tx_id,game,amount,result,cash_part,bonus_part,cash_after,bonus_after,"
             "held_after,response_status,response,created_at) VALUES('%s','%s',%d,x'00','alpha',"
             "'%s','EUR','%s','%s','%s',%lld,'OK',0,0,0,0,0,200,x'00',%lld)",
             provider, tx, kind, player, round, bet_tx, kind == 1 ? "slot" : "", (long long)amount,
             (long long)at);
    exec(f, sql);
}

/* a is strictly before b in the list's order (newest first, then source, provider, id). */
static bool round_before(const pb_store_player_round *a, const pb_store_player_round *b)
{
    if (a->started_at != b->started_at)
        return a->started_at > b->started_at;
    int k = strcmp(a->source, b->source);
    if (k)
        return k > 0;
    k = strcmp(a->provider, b->provider);
    if (k)
        return k > 0;
    return strcmp(a->id, b->id) > 0;
}

static void rounds_merge_and_page(void **state)
{
    fx *f = *state;
    /* 12 in-house rounds and 8 provider rounds (2 providers) on 5 distinct start times */
    for (int i = 0; i < 12; i++) {
        char id[16];
        snprintf(id, sizeof id, "g%02d", i);
        add_game_round(f, "P1", id, 1000 + i % 5, i % 3 != 0);
    }
    for (int i = 0; i < 8; i++) {
        char tx[16], rnd[16];
        snprintf(tx, sizeof tx, "b%d", i);
        snprintf(rnd, sizeof rnd, "r%d", i);
        const char *prov = i % 2 ? "studio" : "alpha-games";
        add_op(f, prov, "P1", tx, rnd, 1, 200, 1000 + i % 5, "");
        if (i == 1) { /* a win, then the close */
            add_op(f, prov, "P1", "w1", rnd, 2, 700, 1010, tx);
            exec(f, "INSERT INTO wallet_round(provider,round_id,player,game,has_win,closed,"
                    "created_at,updated_at) VALUES('studio','r1','P1','slot',1,1,1010,1020)");
        }
        if (i == 2) /* rolled back */
            add_op(f, prov, "P1", "rb2", rnd, 3, 0, 1011, tx);
    }
    /* a void in-house crash bet (never played, its stake given back: 0029_games_void) */
    exec(f, "INSERT INTO game_round(id,brand_id,brand,player,currency,game,idempotency_key,"
            "request_hash,params,amount,state,crash_round,created_at,updated_at,settled_at,"
            "void_reason) VALUES('gv',1,'alpha','P1','EUR','crash','gv',x'00','{}',100,'void',"
            "'cr1',1004,1004,1050,'crash_round_crashed')");
    /* left out: the in-house provider's own operations, and another player's rounds */
    add_op(f, "pitboss", "P1", "g00:bet", "g00", 1, 100, 1000, "");
    add_game_round(f, "P2", "other", 1003, true);
    add_op(f, "studio", "P2", "x1", "rx", 1, 100, 1003, "");
    /* another player's round of the same id as P1's open r3 (rounds are per
     * player), won and closed: P1's r3 stays open */
    add_op(f, "studio", "P2", "x3", "r3", 1, 100, 1003, "");
    exec(f, "INSERT INTO wallet_round(provider,round_id,player,game,has_win,closed,"
            "created_at,updated_at) VALUES('studio','r3','P2','slot',1,1,1003,1030)");

    pb_store_round_query q = {.player = "P1", .house_provider = "pitboss"};
    pb_store_player_round all[64];
    size_t n = 0;
    assert_int_equal(pb_store_player_round_page(f->c, &q, all, 64, &n), PB_STORE_OK);
    assert_int_equal(n, 21);
    for (size_t i = 1; i < n; i++)
        assert_true(round_before(&all[i - 1], &all[i]));
    for (size_t i = 0; i < n; i++) {
        pb_store_player_round *r = &all[i];
        if (strcmp(r->id, "r1") == 0) {
            assert_string_equal(r->status, "closed");
            assert_int_equal(r->win, 700);
            assert_int_equal(r->settled_at, 1020);
            assert_string_equal(r->game, "slot");
        } else if (strcmp(r->id, "r2") == 0) {
            assert_string_equal(r->status, "rolled_back");
            assert_int_equal(r->refunded, 200);
        } else if (strcmp(r->id, "gv") == 0) {
            /* void, not lost: the stake shown as refunded, nothing won */
            assert_string_equal(r->status, "void");
            assert_int_equal(r->bet, 100);
            assert_int_equal(r->refunded, 100);
            assert_int_equal(r->win, 0);
            assert_int_equal(r->settled_at, 1050);
        } else if (r->id[0] == 'r') {
            assert_string_equal(r->status, "open");
            assert_int_equal(r->bet, 200);
            assert_false(r->has_multiplier);
        } else {
            assert_string_equal(r->source, "original");
            assert_string_equal(r->provider, "pitboss");
            assert_true(r->has_rtp_bp);
            assert_int_equal(r->refunded, 0);
        }
    }
    /* every page size continues exactly where the previous page stopped */
    for (size_t size = 1; size <= 5; size++) {
        pb_store_round_query pq = q;
        size_t got = 0;
        for (int guard = 0; guard < 64; guard++) {
            pb_store_player_round page[8];
            size_t m = 0;
            assert_int_equal(pb_store_player_round_page(f->c, &pq, page, size, &m), PB_STORE_OK);
            for (size_t i = 0; i < m; i++, got++) {
                assert_true(got < n);
                assert_string_equal(page[i].id, all[got].id);
                assert_string_equal(page[i].source, all[got].source);
            }
            if (m < size)
                break;
            pb_store_player_round *last = &page[m - 1];
            pq.after.started_at = last->started_at;
            snprintf(pq.after.source, sizeof pq.after.source, "%s", last->source);
            snprintf(pq.after.provider, sizeof pq.after.provider, "%s", last->provider);
            snprintf(pq.after.id, sizeof pq.after.id, "%s", last->id);
        }
        assert_int_equal(got, n);
    }
    /* filters: one source, a time range */
    q.source = "provider";
    assert_int_equal(pb_store_player_round_page(f->c, &q, all, 64, &n), PB_STORE_OK);
    assert_int_equal(n, 8);
    q.source = NULL;
    q.from = 1001;
    q.to = 1003;
    assert_int_equal(pb_store_player_round_page(f->c, &q, all, 64, &n), PB_STORE_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(all[i].started_at >= 1001 && all[i].started_at < 1003);
    assert_int_equal(n, 9); /* times 1001, 1002: 5 in-house + 4 provider */
}

/* ---- the player search */

#define NPLAYERS 10

typedef struct seed {
    int brand;
    const char *email;
    int64_t login, balance; /* balance < 0: no account */
} seed;

static const seed SEEDS[NPLAYERS] = {
    {1, "ann@x.example", 0, 500},  {2, "ann@x.example", 30, 500},  {1, "bob@x.example", 0, -1},
    {1, "cid@x.example", 30, 0},   {2, "bob@x.example", 10, 1200}, {1, "dee@x.example", 0, 500},
    {2, "eve@x.example", 20, -1},  {1, "fay@x.example", 10, 1200}, {2, "ann@y.example", 0, 7},
    {1, "gus@x.example", 20, 500},
};

static void seed_players(fx *f)
{
    exec(f, "INSERT INTO brand(id,code,name,default_currency,jurisdiction,created_at,updated_at) "
            "VALUES(1,'alpha','A','EUR','MT',1,1),(2,'beta','B','EUR','MT',1,1)");
    for (int i = 0; i < NPLAYERS; i++) {
        const seed *s = &SEEDS[i];
        char sql[1024];
        snprintf(sql, sizeof sql,
                 "INSERT INTO player(id,public_id,brand_id,currency,password_hash,last_login_at,"
                 "created_at,updated_at) VALUES(%d,'p%02d',%d,'EUR','x',%lld,%d,%d);"
                 "INSERT INTO player_pii(player_id,brand_id,email,country,date_of_birth,"
                 "first_name,last_name) VALUES(%d,%d,'%s','MT','1990-01-01','N%d','L%d')",
                 i + 1, i + 1, s->brand, (long long)s->login, 100 + i % 3, 100 + i % 3, i + 1,
                 s->brand, s->email, i, i);
        exec(f, sql);
        if (s->balance >= 0) {
            snprintf(sql, sizeof sql,
                     "INSERT INTO ledger_account(id,brand,owner,kind,currency,flags,created_at) "
                     "VALUES(%d,'%s','player:p%02d','player_cash','EUR',0,1);"
                     "INSERT INTO ledger_balance(account_id,credits_posted,debits_posted,"
                     "debits_pending) VALUES(%d,%lld,5,5)",
                     i + 1, s->brand == 1 ? "alpha" : "beta", i + 1, i + 1,
                     (long long)s->balance + 10);
            exec(f, sql);
        }
    }
}

/* The sort key of player i (0-based) as an integer, or its email. */
static int64_t key_int(pb_store_player_sort sort, int i)
{
    switch (sort) {
    case PB_STORE_SORT_LAST_LOGIN: return SEEDS[i].login;
    case PB_STORE_SORT_BALANCE: return SEEDS[i].balance < 0 ? 0 : SEEDS[i].balance;
    default: return 100 + i % 3;
    }
}

/* Player a (0-based) comes before b in this order. */
static bool player_before(pb_store_player_sort sort, bool asc, int a, int b)
{
    int k;
    if (sort == PB_STORE_SORT_EMAIL)
        k = strcmp(SEEDS[a].email, SEEDS[b].email);
    else
        k = key_int(sort, a) < key_int(sort, b) ? -1 : key_int(sort, a) > key_int(sort, b);
    if (k == 0)
        k = a < b ? -1 : 1; /* then the id, same direction */
    return asc ? k < 0 : k > 0;
}

static void search_every_sort_and_page(void **state)
{
    fx *f = *state;
    seed_players(f);
    for (int sort = 0; sort <= PB_STORE_SORT_BALANCE; sort++) {
        for (int asc = 0; asc <= 1; asc++) {
            /* the expected order */
            int want[NPLAYERS];
            for (int i = 0; i < NPLAYERS; i++)
                want[i] = i;
            for (int i = 1; i < NPLAYERS; i++)
                for (int j = i; j > 0 && player_before(sort, asc, want[j], want[j - 1]); j--) {
                    int t = want[j];
                    want[j] = want[j - 1];
                    want[j - 1] = t;
                }
            for (size_t size = 1; size <= 4; size++) {
                pb_store_player_find_query q = {.all_brands = true,
                                                .sort = (pb_store_player_sort)sort,
                                                .asc = asc,
                                                .currency = "EUR"};
                int got = 0;
                char key[PB_EMAIL_MAX + 1] = "";
                for (int guard = 0; guard < 32; guard++) {
                    pb_store_player_hit hits[4];
                    size_t m = 0;
                    assert_int_equal(pb_store_player_find(f->c, &q, hits, size, &m), PB_STORE_OK);
                    for (size_t i = 0; i < m; i++, got++) {
                        assert_true(got < NPLAYERS);
                        if (hits[i].id != want[got] + 1)
                            fail_msg("sort %d asc %d size %zu: row %d is %lld, want %d", sort, asc,
                                     size, got, (long long)hits[i].id, want[got] + 1);
                    }
                    if (m < size)
                        break;
                    q.has_cursor = true;
                    q.cursor_id = hits[m - 1].id;
                    q.cursor_int = hits[m - 1].key_int;
                    snprintf(key, sizeof key, "%s", hits[m - 1].key_text);
                    q.cursor_text = key;
                }
                assert_int_equal(got, NPLAYERS);
            }
        }
    }
}

static void search_filters(void **state)
{
    fx *f = *state;
    seed_players(f);
    pb_store_player_hit hits[NPLAYERS];
    size_t n = 0;
    /* balance range in EUR, players without an account count as 0 */
    pb_store_player_find_query q = {.all_brands = true,
                                    .currency = "EUR",
                                    .has_min = true,
                                    .balance_min = 0,
                                    .has_max = true,
                                    .balance_max = 500};
    assert_int_equal(pb_store_player_find(f->c, &q, hits, NPLAYERS, &n), PB_STORE_OK);
    assert_int_equal(n, 8); /* everyone but the two with 1200 */
    q.balance_min = 1;
    assert_int_equal(pb_store_player_find(f->c, &q, hits, NPLAYERS, &n), PB_STORE_OK);
    assert_int_equal(n, 5); /* 500 ×4, 7 */
    /* a brand scope */
    int64_t beta = 2;
    q = (pb_store_player_find_query){.brand_ids = &beta, .nbrands = 1};
    assert_int_equal(pb_store_player_find(f->c, &q, hits, NPLAYERS, &n), PB_STORE_OK);
    assert_int_equal(n, 4);
    q.nbrands = 0; /* an empty scope sees nothing */
    assert_int_equal(pb_store_player_find(f->c, &q, hits, NPLAYERS, &n), PB_STORE_OK);
    assert_int_equal(n, 0);
    /* q: the exact id, an email prefix, a name prefix */
    q = (pb_store_player_find_query){.all_brands = true, .q_id = "p05"};
    assert_int_equal(pb_store_player_find(f->c, &q, hits, NPLAYERS, &n), PB_STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].id, 5);
    q = (pb_store_player_find_query){.all_brands = true, .q_id = "ann", .q_email = "ann"};
    assert_int_equal(pb_store_player_find(f->c, &q, hits, NPLAYERS, &n), PB_STORE_OK);
    assert_int_equal(n, 3);
    q = (pb_store_player_find_query){.all_brands = true, .q_id = "l7", .q_name = "l7"};
    assert_int_equal(pb_store_player_find(f->c, &q, hits, NPLAYERS, &n), PB_STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].id, 8);
}

/* ---- notes and sessions */

static void notes_append_only(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 3; i++) {
        pb_store_player_note n = {.player_id = 7, .brand_id = 1, .created_at = 10 + i};
        snprintf(n.author_id, sizeof n.author_id, "s1");
        snprintf(n.author_email, sizeof n.author_email, "s@x");
        snprintf(n.text, sizeof n.text, "note %d", i);
        assert_int_equal(pb_store_player_note_insert(f->c, &n), PB_STORE_OK);
        assert_true(n.id > 0);
    }
    pb_store_player_note out[4];
    size_t n = 0;
    assert_int_equal(pb_store_player_note_list(f->c, 7, 0, out, 4, &n), PB_STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].text, "note 2");
    assert_int_equal(pb_store_player_note_list(f->c, 7, out[0].id, out, 4, &n), PB_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].text, "note 1");
    assert_int_not_equal(pb_store_exec_raw(f->c, "UPDATE player_note SET text='x'"), PB_STORE_OK);
    assert_non_null(strstr(pb_store_errmsg(f->c), "append-only"));
    assert_int_not_equal(pb_store_exec_raw(f->c, "DELETE FROM player_note"), PB_STORE_OK);
    assert_int_equal(pb_store_player_note_list(f->c, 7, 0, out, 4, &n), PB_STORE_OK);
    assert_int_equal(n, 3);
}

static void sessions_any_state(void **state)
{
    fx *f = *state;
    exec(f, "INSERT INTO auth_session(public_id,subject_kind,subject_id,user_agent,ip,created_at,"
            "last_seen_at,idle_s,expires_at,revoked_at,revoke_reason) VALUES"
            "('s1','player',3,'ua1','1.2.3.4',1,1,60,100,50,'logout'),"
            "('s2','player',3,'ua2','1.2.3.5',2,2,60,100,0,''),"
            "('s3','staff',3,'ua3','1.2.3.6',3,3,60,100,0,''),"
            "('s4','player',4,'ua4','1.2.3.7',4,4,60,100,0,'')");
    pb_store_session out[4];
    size_t n = 0;
    assert_int_equal(pb_store_player_session_page(f->c, 3, 0, out, 4, &n), PB_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].public_id, "s2");
    assert_string_equal(out[1].public_id, "s1");
    assert_string_equal(out[1].revoke_reason, "logout");
    assert_int_equal(pb_store_player_session_page(f->c, 3, out[0].id, out, 1, &n), PB_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].public_id, "s1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rounds_merge_and_page, setup, teardown),
        cmocka_unit_test_setup_teardown(search_every_sort_and_page, setup, teardown),
        cmocka_unit_test_setup_teardown(search_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(notes_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(sessions_any_state, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
