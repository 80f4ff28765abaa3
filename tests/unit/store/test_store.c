/*
 * test_store.c — the store layer on its own (src/store/store.c and the SQLite
 * backend), without the ledger: opening by path and "sqlite:" URL and the
 * refusals of a bad path and of "postgres://"; migrations (applied once, then
 * none) and the schema version; every ledger statement's round trip of every
 * field; the unique constraints (account tuple, transfer id, transfer key,
 * one resolution per pending, rejection key) reported as CONFLICT; the
 * open-pending projection's expiry order and limit; transaction semantics
 * (rollback discards, commit is visible to a second connection, readers do
 * not see uncommitted rows); the database being in WAL mode; and the WAL write
 * buffer (walbuf.h): a commit of many pages reaches the WAL in a few writes and
 * is whole for another connection, and a transaction rolled back after its
 * frames spilled leaves nothing behind; and the page cache shim (pcache.h):
 * commits whose rebalances swapped pages through the lock-byte page number
 * skip the truncation that would have walked the whole cache, while a
 * rollback that grew the file still drops the pages past its end.
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
#include <sqlite3.h>

#include "store/embedded.h"
#include "store/sqlite/pcache.h"
#include "store/sqlite/walbuf.h"
#include "store/store.h"

/* the migrations compiled into the store (build/migrations_sqlite.c) */
extern const pb_embedded_file pb_migrations_sqlite[];

typedef struct sfx {
    char dir[256];
    char path[300];
    pb_store *store;
    pb_store_conn *conn;
} sfx;

static void remove_db(const char *path)
{
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", "-writer.lock"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
}

/* A temp directory only: tests that open the store themselves use this. */
static int dir_setup(void **state)
{
    sfx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pbstore.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
    *state = f;
    return 0;
}

/* A migrated store with one connection. */
static int store_setup(void **state)
{
    dir_setup(state);
    sfx *f = *state;
    char err[256];
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(pb_store_migrate(f->store, NULL, err, sizeof err), PB_STORE_OK);
    f->conn = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->conn);
    return 0;
}

static int teardown(void **state)
{
    sfx *f = *state;
    pb_store_disconnect(f->conn);
    pb_store_close(f->store);
    remove_db(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static pb_store_account account(const char *owner, const char *currency)
{
    pb_store_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.brand, sizeof a.brand, "b");
    snprintf(a.owner, sizeof a.owner, "%s", owner);
    snprintf(a.kind, sizeof a.kind, "cash");
    snprintf(a.currency, sizeof a.currency, "%s", currency);
    a.flags = 1;
    a.created_at = 1700000000000000;
    return a;
}

static pb_store_transfer transfer(int64_t seq, const char *key)
{
    pb_store_transfer t;
    memset(&t, 0, sizeof t);
    t.seq = seq;
    pb_id_new(&t.id);
    snprintf(t.scope, sizeof t.scope, "s");
    snprintf(t.ikey, sizeof t.ikey, "%s", key);
    t.debit_account_id = 1;
    t.credit_account_id = 2;
    t.amount = 100 + seq;
    snprintf(t.currency, sizeof t.currency, "EUR");
    t.code = 10;
    t.created_at = 1700000000000000 + seq;
    memset(t.hash, (int)seq, sizeof t.hash);
    return t;
}

static void assert_transfer_equal(const pb_store_transfer *a, const pb_store_transfer *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_memory_equal(a->id.b, b->id.b, 16);
    assert_string_equal(a->scope, b->scope);
    assert_string_equal(a->ikey, b->ikey);
    assert_int_equal(a->debit_account_id, b->debit_account_id);
    assert_int_equal(a->credit_account_id, b->credit_account_id);
    assert_int_equal(a->amount, b->amount);
    assert_string_equal(a->currency, b->currency);
    assert_int_equal(a->code, b->code);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->has_pending_id, b->has_pending_id);
    if (a->has_pending_id)
        assert_memory_equal(a->pending_id.b, b->pending_id.b, 16);
    assert_int_equal(a->timeout_s, b->timeout_s);
    assert_int_equal(a->expires_at, b->expires_at);
    assert_string_equal(a->reference, b->reference);
    assert_string_equal(a->trace_id, b->trace_id);
    assert_int_equal(a->debit_prev_seq, b->debit_prev_seq);
    assert_int_equal(a->credit_prev_seq, b->credit_prev_seq);
    assert_int_equal(a->created_at, b->created_at);
    assert_memory_equal(a->hash, b->hash, 32);
}

/* ---- opening and migrating ---------------------------------------------- */

static void test_open_and_migrate(void **state)
{
    sfx *f = *state;
    char err[256] = "", url[320];
    snprintf(url, sizeof url, "sqlite:%s", f->path);
    f->store = pb_store_open(url, err, sizeof err);
    assert_non_null(f->store);
    assert_string_equal(pb_store_backend_name(f->store), "sqlite");
    f->conn = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->conn);
    int cur = -1, latest = -1;
    assert_int_equal(pb_store_schema_version(f->conn, &cur, &latest), PB_STORE_OK);
    assert_int_equal(cur, 0);
    assert_true(latest >= 1);
    int applied = -1;
    assert_int_equal(pb_store_migrate(f->store, &applied, err, sizeof err), PB_STORE_OK);
    assert_true(applied >= 1 && applied <= latest);
    assert_int_equal(pb_store_migrate(f->store, &applied, err, sizeof err), PB_STORE_OK);
    assert_int_equal(applied, 0);
    assert_int_equal(pb_store_schema_version(f->conn, &cur, &latest), PB_STORE_OK);
    assert_int_equal(cur, latest);
    /* a plain path opens the same database */
    pb_store *again = pb_store_open(f->path, err, sizeof err);
    assert_non_null(again);
    pb_store_conn *c2 = pb_store_connect(again, err, sizeof err);
    assert_non_null(c2);
    assert_int_equal(pb_store_schema_version(c2, &cur, &latest), PB_STORE_OK);
    assert_int_equal(cur, latest);
    pb_store_disconnect(c2);
    pb_store_close(again);
}

/* Runs sql on db; asserts it worked. */
static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* A database at path made by applying migrations 1..version as the runner does
 * (each recorded in schema_migrations), open for the test to fill. */
static sqlite3 *db_at_version(const char *path, int version)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    int old = 0;
    for (const pb_embedded_file *m = pb_migrations_sqlite; m->name; m++) {
        if (atoi(m->name) > version)
            continue;
        exec_ok(db, m->data);
        char ins[160];
        snprintf(ins, sizeof ins, "INSERT INTO schema_migrations VALUES(%d,'%s',0)", atoi(m->name),
                 m->name);
        exec_ok(db, ins);
        old++;
    }
    assert_int_equal(old, version);
    return db;
}

/* Migrates the database at f->path (made at an older version by db_at_version and
 * filled by the test) to the newest version through the store, as a start-up does,
 * and opens it again for the test's checks. */
static sqlite3 *upgrade_to_latest(sfx *f)
{
    char err[256] = "";
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    int applied = -1;
    assert_int_equal(pb_store_migrate(f->store, &applied, err, sizeof err), PB_STORE_OK);
    assert_true(applied >= 1);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    return db;
}

/* 1 when the statement's program builds an ephemeral table (an IN list compiled
 * into a b-tree, say), else 0. */
static int uses_ephemeral(sqlite3 *db, const char *sql)
{
    char q[1024];
    snprintf(q, sizeof q, "EXPLAIN %s", sql);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    int found = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        if (strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral") == 0)
            found = 1;
    sqlite3_finalize(st);
    return found;
}

/* A database at schema version 13 (made by applying migrations 1..13 as the runner
 * does) with bets, provider rounds (wallet_round: per player from 0025, the rows
 * copied), events (the oldest pruned), in-house rounds and crash rounds (one
 * crashed, one taking bets with its hash and point in the clear, as written before
 * 0017), then migrated by the store: rows unchanged, event ids go on growing past
 * the newest, the state rules still hold, the crash round's rules at rest hold (no
 * point beside a sealed hash; crashed: a clear hash and a point ≥ 1.00x), and the
 * hot inserts no longer build an ephemeral table. */
static void test_upgrade_from_13(void **state)
{
    sfx *f = *state;
    sqlite3 *db = db_at_version(f->path, 13);
    assert_int_equal(uses_ephemeral(db, "INSERT INTO wallet_bet VALUES('p','t0','pl','r',1,0,"
                                        "'placed',1,1)"),
                     1); /* the cost 0014 removes */
    exec_ok(db, "INSERT INTO wallet_bet VALUES('studio','b1','pl1','r1',70,30,'placed',1,2),"
                "('studio','b2','pl1','r2',5,0,'rolled_back',3,4),"
                "('studio','b3','pl2','r3',0,0,'tombstone',5,5)");
    exec_ok(db, "INSERT INTO wallet_round VALUES('studio','r1','pl1','slot',1,1,1,2),"
                "('studio','r3','pl2','',0,1,5,6)");
    exec_ok(db, "INSERT INTO event_outbox(type,brand,subject,payload,created_at,trace_id) VALUES"
                "('bet.placed','a','s','{\"n\":1}',1,''),('bet.placed','a','s','{}',2,''),"
                "('round.settled','a','s','{}',3,'t'),('bet.placed','b','','{}',4,'')");
    exec_ok(db, "DELETE FROM event_outbox WHERE id < 3"); /* a prune: the newest stays */
    exec_ok(db, "INSERT INTO game_round(id,brand_id,brand,player,currency,game,idempotency_key,"
                "request_hash,params,amount,state,nonce,payout,rtp_bp,created_at,updated_at,"
                "settled_at) VALUES('g1',1,'a','pl1','EUR','dice','k1',x'01','{}',100,'settled',"
                "0,198,9900,1,2,3),('g2',1,'a','pl1','EUR','mines','k2',x'02','{}',5,'active',"
                "1,NULL,9900,4,5,NULL)");
    exec_ok(db, "INSERT INTO crash_chain(id,brand_id,brand,seed,salt,terminal_hash,length,"
                "next_position,created_at) VALUES(1,1,'a',printf('%064d',1),'salt','t',10,2,1)");
    exec_ok(db, "INSERT INTO crash_round(seq,id,brand_id,brand,chain_id,position,game_hash,point,"
                "rtp_bp,state,betting_ends_at,started_at,crashed_at,created_at) VALUES"
                "(7,'c1',1,'a',1,0,printf('%064d',7),123,9900,'crashed',1,2,3,1),"
                "(8,'c2',1,'a',1,1,printf('%064d',8),456,9900,'betting',9,NULL,NULL,4)");
    const char *dump =
        "SELECT group_concat(x, '|') FROM ("
        " SELECT quote(provider)||quote(bet_tx_id)||quote(player)||quote(round_id)"
        "  ||cash_part||bonus_part||state||created_at||updated_at AS x FROM wallet_bet"
        " UNION ALL SELECT quote(provider)||quote(round_id)||quote(player)||quote(game)"
        "  ||has_win||closed||created_at||updated_at FROM wallet_round"
        " UNION ALL SELECT id||type||brand||subject||payload||created_at||trace_id"
        "  FROM event_outbox"
        " UNION ALL SELECT seq||id||state||amount||coalesce(payout,'-')||"
        "  coalesce(settled_at,'-')||player||idempotency_key FROM game_round"
        " UNION ALL SELECT seq||id||brand_id||brand||chain_id||position||game_hash||"
        "  point||rtp_bp||state||betting_ends_at||coalesce(started_at,'-')||"
        "  coalesce(crashed_at,'-')||created_at FROM crash_round)";
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, dump, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *before = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);

    char err[256] = "";
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    int applied = -1, cur = -1, latest = -1;
    assert_int_equal(pb_store_migrate(f->store, &applied, err, sizeof err), PB_STORE_OK);
    f->conn = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->conn);
    assert_int_equal(pb_store_schema_version(f->conn, &cur, &latest), PB_STORE_OK);
    assert_int_equal(cur, latest);
    int newer = 0; /* the migrations after 13 (numbers may have gaps while branches merge) */
    for (const pb_embedded_file *m = pb_migrations_sqlite; m->name; m++)
        newer += atoi(m->name) > 13;
    assert_int_equal(applied, newer);

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, dump, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), before);
    sqlite3_finalize(st);
    free(before);
    /* ids go on after the newest, never below it */
    exec_ok(db, "INSERT INTO event_outbox(type,payload,created_at) VALUES('bet.placed','{}',5)");
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT max(id), count(*) FROM event_outbox", -1, &st,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 5);
    assert_int_equal(sqlite3_column_int(st, 1), 3);
    sqlite3_finalize(st);
    /* rounds are per player (0025): another player's round of the same id is a row
     * of its own; the same player's is still one */
    exec_ok(db, "INSERT INTO wallet_round VALUES('studio','r1','pl2','slot',0,1,3,4)");
    /* the rules still hold, without an ephemeral table */
    const char *bad[] = {
        "INSERT INTO wallet_bet VALUES('p','t9','pl','r',1,0,'bogus',1,1)",
        "INSERT INTO wallet_round VALUES('studio','r1','pl1','slot',0,0,9,9)",
        "UPDATE game_round SET state='done' WHERE id='g2'",
        "UPDATE crash_round SET state='done' WHERE id='c2'",
        /* a point beside a sealed hash */
        "UPDATE crash_round SET game_hash='s1:'||printf('%0144d',0) WHERE id='c2'",
        /* crashed without its hash in the clear, or without a point */
        "UPDATE crash_round SET state='crashed', game_hash='s1:'||printf('%0144d',0), point=0 "
        "WHERE id='c2'",
        "UPDATE crash_round SET state='crashed', point=0 WHERE id='c2'",
        "UPDATE crash_round SET point=99 WHERE id='c1'",
        "UPDATE crash_round SET point=-1 WHERE id='c2'",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sqlite3_exec(db, bad[i], NULL, NULL, NULL) != SQLITE_CONSTRAINT)
            fail_msg("not refused: %s", bad[i]);
    /* sealed until it crashes (point 0), then in the clear */
    exec_ok(db, "UPDATE crash_round SET game_hash='s1:'||printf('%0144d',0), point=0 "
                "WHERE id='c2'");
    exec_ok(db, "UPDATE crash_round SET state='running', started_at=10 WHERE id='c2'");
    exec_ok(db, "UPDATE crash_round SET state='crashed', crashed_at=11, "
                "game_hash=printf('%064d',8), point=456 WHERE id='c2'");
    assert_int_equal(uses_ephemeral(db, "INSERT INTO wallet_bet VALUES('p','t0','pl','r',1,0,"
                                        "'placed',1,1)"),
                     0);
    assert_int_equal(uses_ephemeral(db, "UPDATE wallet_bet SET state='rolled_back' WHERE "
                                        "provider='studio' AND bet_tx_id='b1'"),
                     0);
    assert_int_equal(uses_ephemeral(db, "UPDATE game_round SET state='settled' WHERE id='g2'"), 0);
    assert_int_equal(uses_ephemeral(db, "UPDATE crash_round SET state='running' WHERE id='c1'"), 0);
    sqlite3_close(db);
}

static void test_open_refusals(void **state)
{
    sfx *f = *state;
    char err[256] = "", path[400];
    snprintf(path, sizeof path, "%s/no/such/dir/x.db", f->dir);
    assert_null(pb_store_open(path, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_non_null(strstr(err, path)); /* the message names what failed */
    err[0] = 0;
    assert_null(pb_store_open("postgres://x", err, sizeof err));
    assert_non_null(strstr(err, "PostgreSQL"));
    err[0] = 0;
    assert_null(pb_store_open("postgresql://u@h/db", err, sizeof err));
    assert_non_null(strstr(err, "PostgreSQL"));
    err[0] = 0;
    assert_null(pb_store_open("", err, sizeof err));
    assert_true(strlen(err) > 0);
}

static void test_wal_and_visibility(void **state)
{
    sfx *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);

    char err[256];
    pb_store_conn *other = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(other);
    pb_store_account a = account("p", "EUR"), got;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_account_insert(f->conn, &a), PB_STORE_OK);
    assert_int_equal(pb_store_account_get(f->conn, a.id, &got), PB_STORE_OK); /* own writes */
    assert_int_equal(pb_store_account_get(other, a.id, &got), PB_STORE_NOT_FOUND);
    /* a reader's snapshot taken before the commit keeps not seeing it */
    assert_int_equal(pb_store_begin(other, PB_STORE_READ), PB_STORE_OK);
    assert_int_equal(pb_store_account_get(other, a.id, &got), PB_STORE_NOT_FOUND);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    assert_int_equal(pb_store_account_get(other, a.id, &got), PB_STORE_NOT_FOUND);
    pb_store_rollback(other);
    assert_int_equal(pb_store_account_get(other, a.id, &got), PB_STORE_OK);
    assert_string_equal(got.owner, "p");
    pb_store_disconnect(other);
}

static void test_rollback_discards(void **state)
{
    sfx *f = *state;
    pb_store_account a = account("p", "EUR"), got;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_account_insert(f->conn, &a), PB_STORE_OK);
    pb_store_transfer t = transfer(1, "k");
    assert_int_equal(pb_store_transfer_insert(f->conn, &t), PB_STORE_OK);
    pb_store_rollback(f->conn);
    assert_int_equal(pb_store_account_get(f->conn, a.id, &got), PB_STORE_NOT_FOUND);
    pb_store_transfer r;
    assert_int_equal(pb_store_transfer_last(f->conn, &r), PB_STORE_NOT_FOUND);
    pb_store_rollback(f->conn); /* nothing open: harmless */
    /* after a rollback the connection works normally */
    a.id = 0;
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_store_account_insert(f->conn, &a), PB_STORE_OK);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    assert_int_equal(pb_store_account_get(f->conn, a.id, &got), PB_STORE_OK);
    /* raw SQL errors are reported, with a message */
    assert_int_not_equal(pb_store_exec_raw(f->conn, "SELECT * FROM no_such_table"), PB_STORE_OK);
    assert_non_null(strstr(pb_store_errmsg(f->conn), "no_such_table"));
}

/* ---- accounts ------------------------------------------------------------ */

static void test_accounts(void **state)
{
    sfx *f = *state;
    pb_store_account a = account("p", "EUR"), got;
    assert_int_equal(pb_store_account_insert(f->conn, &a), PB_STORE_OK);
    assert_true(a.id > 0);
    assert_int_equal(pb_store_account_get(f->conn, a.id, &got), PB_STORE_OK);
    assert_int_equal(got.id, a.id);
    assert_string_equal(got.brand, "b");
    assert_string_equal(got.owner, "p");
    assert_string_equal(got.kind, "cash");
    assert_string_equal(got.currency, "EUR");
    assert_int_equal(got.flags, 1);
    assert_int_equal(got.created_at, a.created_at);
    assert_int_equal(got.debits_pending + got.debits_posted + got.credits_pending +
                         got.credits_posted + got.last_seq,
                     0);
    pb_store_account dup = account("p", "EUR");
    assert_int_equal(pb_store_account_insert(f->conn, &dup), PB_STORE_CONFLICT);
    pb_store_account usd = account("p", "USD");
    assert_int_equal(pb_store_account_insert(f->conn, &usd), PB_STORE_OK);
    pb_store_account fixed = account("q", "EUR");
    fixed.id = 500;
    assert_int_equal(pb_store_account_insert(f->conn, &fixed), PB_STORE_OK);
    assert_int_equal(fixed.id, 500);
    pb_store_account same_id = account("r", "EUR");
    same_id.id = 500;
    assert_int_equal(pb_store_account_insert(f->conn, &same_id), PB_STORE_CONFLICT);

    assert_int_equal(pb_store_account_find(f->conn, "b", "p", "cash", "USD", &got), PB_STORE_OK);
    assert_int_equal(got.id, usd.id);
    assert_int_equal(pb_store_account_find(f->conn, "b", "p", "cash", "GBP", &got),
                     PB_STORE_NOT_FOUND);
    assert_int_equal(pb_store_account_get(f->conn, 99999, &got), PB_STORE_NOT_FOUND);

    a.debits_pending = 1;
    a.debits_posted = 2;
    a.credits_pending = 3;
    a.credits_posted = INT64_MAX;
    a.last_seq = 77;
    assert_int_equal(pb_store_balance_update(f->conn, &a), PB_STORE_OK);
    assert_int_equal(pb_store_account_get(f->conn, a.id, &got), PB_STORE_OK);
    assert_int_equal(got.debits_pending, 1);
    assert_int_equal(got.debits_posted, 2);
    assert_int_equal(got.credits_pending, 3);
    assert_int_equal(got.credits_posted, INT64_MAX);
    assert_int_equal(got.last_seq, 77);
    pb_store_account ghost = account("ghost", "EUR");
    ghost.id = 4242;
    assert_int_equal(pb_store_balance_update(f->conn, &ghost), PB_STORE_NOT_FOUND);
    int64_t orphans = -1;
    assert_int_equal(pb_store_balance_orphans(f->conn, &orphans), PB_STORE_OK);
    assert_int_equal(orphans, 0);
}

/* ---- transfers ----------------------------------------------------------- */

static void test_transfer_round_trip(void **state)
{
    sfx *f = *state;
    pb_store_transfer none;
    assert_int_equal(pb_store_transfer_last(f->conn, &none), PB_STORE_NOT_FOUND);
    pb_store_transfer p = transfer(1, "pending");
    p.flags = 2;
    p.timeout_s = 30;
    p.expires_at = 1700000030000000;
    snprintf(p.reference, sizeof p.reference, "round-1");
    snprintf(p.trace_id, sizeof p.trace_id, "0123456789abcdef0123456789abcdef");
    p.debit_prev_seq = 0;
    p.credit_prev_seq = 0;
    pb_store_transfer q = transfer(2, "post");
    q.flags = 4 | 1;
    q.has_pending_id = true;
    q.pending_id = p.id;
    q.amount = INT64_MAX;
    q.debit_prev_seq = 1;
    q.credit_prev_seq = 1;
    assert_int_equal(pb_store_transfer_insert(f->conn, &p), PB_STORE_OK);
    assert_int_equal(pb_store_transfer_insert(f->conn, &q), PB_STORE_OK);

    pb_store_transfer r;
    assert_int_equal(pb_store_transfer_by_seq(f->conn, 1, &r), PB_STORE_OK);
    assert_transfer_equal(&r, &p);
    assert_false(r.has_pending_id);
    /* ids carry their seq (the ledger deciphers them); random pre-0010 ids are
     * found in the legacy range only */
    assert_int_equal(pb_store_transfer_by_legacy_id(f->conn, &q.id, 3, &r), PB_STORE_OK);
    assert_transfer_equal(&r, &q);
    assert_int_equal(pb_store_transfer_by_legacy_id(f->conn, &q.id, 2, &r), PB_STORE_NOT_FOUND);
    uint8_t key[16], zero[16] = {0};
    int64_t below = 0;
    assert_int_equal(pb_store_ledger_ids(f->conn, key, &below), PB_STORE_OK);
    assert_int_equal(below, 1); /* a fresh database has no legacy ids */
    assert_memory_not_equal(key, zero, 16);
    assert_int_equal(pb_store_transfer_by_key(f->conn, "s", "pending", &r), PB_STORE_OK);
    assert_transfer_equal(&r, &p);
    assert_int_equal(pb_store_transfer_by_pending(f->conn, &p.id, &r), PB_STORE_OK);
    assert_transfer_equal(&r, &q);
    assert_int_equal(pb_store_transfer_last(f->conn, &r), PB_STORE_OK);
    assert_int_equal(r.seq, 2);
    assert_int_equal(pb_store_transfer_by_seq(f->conn, 3, &r), PB_STORE_NOT_FOUND);
    assert_int_equal(pb_store_transfer_by_pending(f->conn, &q.id, &r), PB_STORE_NOT_FOUND);
    assert_int_equal(pb_store_transfer_by_key(f->conn, "t", "pending", &r), PB_STORE_NOT_FOUND);
}

static void test_transfer_conflicts(void **state)
{
    sfx *f = *state;
    pb_store_transfer a = transfer(1, "a");
    assert_int_equal(pb_store_transfer_insert(f->conn, &a), PB_STORE_OK);
    /* (ids are unique by construction: the ledger derives each from its seq) */
    pb_store_transfer same_key = transfer(2, "a");
    assert_int_equal(pb_store_transfer_insert(f->conn, &same_key), PB_STORE_CONFLICT);
    pb_store_transfer same_seq = transfer(1, "c");
    assert_int_equal(pb_store_transfer_insert(f->conn, &same_seq), PB_STORE_CONFLICT);
    pb_store_transfer other_scope = transfer(2, "a");
    snprintf(other_scope.scope, sizeof other_scope.scope, "s2");
    assert_int_equal(pb_store_transfer_insert(f->conn, &other_scope), PB_STORE_OK);

    /* a pending is resolved at most once; transfers without a pending id are not limited */
    pb_store_transfer r1 = transfer(3, "r1"), r2 = transfer(4, "r2"), plain = transfer(5, "x");
    r1.has_pending_id = r2.has_pending_id = true;
    r1.pending_id = r2.pending_id = a.id;
    assert_int_equal(pb_store_transfer_insert(f->conn, &r1), PB_STORE_OK);
    assert_int_equal(pb_store_transfer_insert(f->conn, &r2), PB_STORE_CONFLICT);
    assert_int_equal(pb_store_transfer_insert(f->conn, &plain), PB_STORE_OK);
    assert_true(strlen(pb_store_errmsg(f->conn)) > 0);
    pb_store_transfer last;
    assert_int_equal(pb_store_transfer_last(f->conn, &last), PB_STORE_OK);
    assert_int_equal(last.seq, 5);
}

static int count_transfers(void *ctx, const pb_store_transfer *t)
{
    int64_t *v = ctx;
    v[0]++;
    v[1] = t->seq;
    return 0;
}

static void test_transfer_scan(void **state)
{
    sfx *f = *state;
    for (int64_t s = 1; s <= 6; s++) {
        char key[16];
        snprintf(key, sizeof key, "k%lld", (long long)s);
        pb_store_transfer t = transfer(s, key);
        assert_int_equal(pb_store_transfer_insert(f->conn, &t), PB_STORE_OK);
    }
    int64_t v[2] = {0, 0};
    assert_int_equal(pb_store_transfer_scan(f->conn, 2, count_transfers, v), PB_STORE_OK);
    assert_int_equal(v[0], 4);
    assert_int_equal(v[1], 6);
}

/* ---- rejections and open pendings --------------------------------------- */

static void test_rejection_round_trip(void **state)
{
    sfx *f = *state;
    pb_store_rejection r, got;
    memset(&r, 0, sizeof r);
    snprintf(r.scope, sizeof r.scope, "wallet");
    snprintf(r.ikey, sizeof r.ikey, "key-1");
    r.debit_account_id = 7;
    r.credit_account_id = 8;
    r.amount = 12345;
    snprintf(r.currency, sizeof r.currency, "USDT");
    r.code = 11;
    r.flags = 4 | 1;
    r.has_pending_id = true;
    pb_id_new(&r.pending_id);
    r.timeout_s = 99;
    snprintf(r.reference, sizeof r.reference, "ref");
    snprintf(r.error, sizeof r.error, "PENDING_ALREADY_POSTED");
    r.created_at = 1700000000123456;
    assert_int_equal(pb_store_rejection_insert(f->conn, &r), PB_STORE_OK);
    memset(&got, 0x5a, sizeof got);
    assert_int_equal(pb_store_rejection_by_key(f->conn, "wallet", "key-1", &got), PB_STORE_OK);
    assert_string_equal(got.scope, "wallet");
    assert_string_equal(got.ikey, "key-1");
    assert_int_equal(got.debit_account_id, 7);
    assert_int_equal(got.credit_account_id, 8);
    assert_int_equal(got.amount, 12345);
    assert_string_equal(got.currency, "USDT");
    assert_int_equal(got.code, 11);
    assert_int_equal(got.flags, 5);
    assert_true(got.has_pending_id);
    assert_memory_equal(got.pending_id.b, r.pending_id.b, 16);
    assert_int_equal(got.timeout_s, 99);
    assert_string_equal(got.reference, "ref");
    assert_string_equal(got.error, "PENDING_ALREADY_POSTED");
    assert_int_equal(got.created_at, 1700000000123456);

    pb_store_rejection plain = r; /* without a pending id */
    snprintf(plain.ikey, sizeof plain.ikey, "key-2");
    plain.has_pending_id = false;
    assert_int_equal(pb_store_rejection_insert(f->conn, &plain), PB_STORE_OK);
    assert_int_equal(pb_store_rejection_by_key(f->conn, "wallet", "key-2", &got), PB_STORE_OK);
    assert_false(got.has_pending_id);
    assert_int_equal(pb_store_rejection_insert(f->conn, &r), PB_STORE_CONFLICT);
    assert_int_equal(pb_store_rejection_by_key(f->conn, "wallet", "key-3", &got),
                     PB_STORE_NOT_FOUND);
    assert_int_equal(pb_store_rejection_by_key(f->conn, "other", "key-1", &got),
                     PB_STORE_NOT_FOUND);
}

static void test_pending_open(void **state)
{
    sfx *f = *state;
    /* seq: expires_at (0 = never) */
    static const int64_t rows[][2] = {{10, 500}, {11, 0},   {12, 300},
                                      {13, 300}, {14, 900}, {15, 100}};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(pb_store_pending_open_insert(f->conn, rows[i][0], rows[i][1]),
                         PB_STORE_OK);
    assert_int_equal(pb_store_pending_open_insert(f->conn, 12, 1), PB_STORE_CONFLICT);
    int64_t exp = -1;
    assert_int_equal(pb_store_pending_open_get(f->conn, 12, &exp), PB_STORE_OK);
    assert_int_equal(exp, 300);
    assert_int_equal(pb_store_pending_open_get(f->conn, 11, &exp), PB_STORE_OK);
    assert_int_equal(exp, 0);
    assert_int_equal(pb_store_pending_open_get(f->conn, 99, &exp), PB_STORE_NOT_FOUND);

    int64_t seqs[8];
    size_t n = 99;
    assert_int_equal(pb_store_pending_open_expired(f->conn, 500, seqs, 8, &n), PB_STORE_OK);
    assert_int_equal(n, 4); /* oldest expiry first, ties by seq; never-expiring 11 absent */
    const int64_t want[] = {15, 12, 13, 10};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(seqs[i], want[i]);
    assert_int_equal(pb_store_pending_open_expired(f->conn, 500, seqs, 2, &n), PB_STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(seqs[0], 15);
    assert_int_equal(seqs[1], 12);
    assert_int_equal(pb_store_pending_open_expired(f->conn, 299, seqs, 8, &n), PB_STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pb_store_pending_open_expired(f->conn, 99, seqs, 8, &n), PB_STORE_OK);
    assert_int_equal(n, 0);

    assert_int_equal(pb_store_pending_open_delete(f->conn, 15), PB_STORE_OK);
    assert_int_equal(pb_store_pending_open_delete(f->conn, 15), PB_STORE_NOT_FOUND);
    assert_int_equal(pb_store_pending_open_get(f->conn, 15, &exp), PB_STORE_NOT_FOUND);
    assert_int_equal(pb_store_pending_open_expired(f->conn, INT64_MAX, seqs, 8, &n), PB_STORE_OK);
    assert_int_equal(n, 4);
    assert_int_equal(seqs[0], 12);
    assert_int_equal(seqs[3], 14);
}

static long file_size(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fclose(fp);
    return n;
}

/* One durable commit of 8 rows of 3000 random bytes into scratch (~9 pages of log). */
static void commit_scratch_rows(pb_store_conn *c)
{
    assert_int_equal(pb_store_exec_raw(c, "BEGIN; INSERT INTO scratch SELECT randomblob(3000) FROM "
                                          "(WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k+1 "
                                          "FROM n WHERE k<8) SELECT k FROM n); COMMIT"),
                     PB_STORE_OK);
    assert_int_equal(pb_store_sync(c), PB_STORE_OK);
}

/* A writer that never pauses keeps its WAL bounded by restarting it itself
 * (pb_store_wal_restart), with deferred sync on, and loses nothing doing so. */
static void test_wal_restart_bounds_the_log(void **state)
{
    sfx *f = *state;
    char wal[400];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    /* the log the migrations left (the file outlives its connections) emptied first */
    assert_int_equal(pb_store_exec_raw(f->conn, "PRAGMA wal_checkpoint(TRUNCATE)"), PB_STORE_OK);
    assert_int_equal(file_size(wal), 0);
    assert_int_equal(pb_store_set_deferred_sync(f->conn, true), PB_STORE_OK);
    assert_int_equal(pb_store_exec_raw(f->conn, "CREATE TABLE scratch(x BLOB)"), PB_STORE_OK);
    long max_wal = 0;
    for (int i = 0; i < 300; i++) {
        commit_scratch_rows(f->conn);
        assert_int_equal(pb_store_wal_restart(f->conn, 64), PB_STORE_OK);
        long n = file_size(wal);
        if (n > max_wal)
            max_wal = n;
    }
    /* 300 commits × ~9 pages would be ~11 MB of log; restarts keep it near 64 + one commit */
    assert_true(max_wal > 0);
    assert_true(max_wal < (64 + 40) * 4200L);
    pb_store_conn *other = pb_store_connect(f->store, (char[64]){0}, 64);
    assert_non_null(other);
    assert_int_equal(pb_store_exec_raw(other, "CREATE TEMP TABLE c AS SELECT count(*) AS n FROM "
                                              "scratch; SELECT CASE WHEN (SELECT n FROM c)=2400 "
                                              "THEN 1 ELSE abs(-9223372036854775807-1) END"),
                     PB_STORE_OK);
    pb_store_disconnect(other);
    /* below the threshold it does nothing */
    assert_int_equal(pb_store_exec_raw(f->conn, "INSERT INTO scratch VALUES (x'00')"), PB_STORE_OK);
    long before = file_size(wal);
    assert_int_equal(pb_store_wal_restart(f->conn, 1000000), PB_STORE_OK);
    assert_int_equal(file_size(wal), before);
}

static int count_rows(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The WAL's path into wal; the log emptied, deferred sync on, a scratch table. */
static void scratch_log(sfx *f, char *wal, size_t cap)
{
    snprintf(wal, cap, "%s-wal", f->path);
    assert_int_equal(pb_store_exec_raw(f->conn, "PRAGMA wal_checkpoint(TRUNCATE)"), PB_STORE_OK);
    assert_int_equal(pb_store_set_deferred_sync(f->conn, true), PB_STORE_OK);
    assert_int_equal(pb_store_exec_raw(f->conn, "CREATE TABLE scratch(x BLOB)"), PB_STORE_OK);
}

/* pb_store_wal_reserve grows the WAL file with zeros ahead of the commits: the
 * commits that fit then overwrite it without growing it, SQLite reads the log
 * as before (the zeros are frames that do not match the header), the file
 * never shrinks on a later reserve, and it keeps its size when the store is
 * closed, so the next open has nothing to do; the data is all there after a
 * reopen, through the store and through plain SQLite. */
static void test_wal_reserve_grows_the_log_once(void **state)
{
    sfx *f = *state;
    char wal[400], err[256];
    scratch_log(f, wal, sizeof wal);
    assert_int_equal(pb_store_sync(f->conn), PB_STORE_OK);
    long before = file_size(wal);
    long want = 32 + 200L * (24 + 4096);
    assert_true(before >= 0 && before < want);
    assert_int_equal(pb_store_wal_reserve(f->conn, 200), PB_STORE_OK);
    long reserved = file_size(wal);
    assert_int_equal(reserved, want);
    assert_int_equal(pb_store_wal_reserve(f->conn, 200), PB_STORE_OK);
    assert_int_equal(pb_store_wal_reserve(f->conn, 50), PB_STORE_OK); /* never shrinks */
    assert_int_equal(file_size(wal), reserved);
    /* 15 commits of 8 rows of 3000 bytes: ~9 pages each, within the reserve */
    for (int i = 0; i < 15; i++) {
        commit_scratch_rows(f->conn);
    }
    assert_true(pb_store_wal_frames(f->conn) > 100); /* they are in the log ... */
    assert_int_equal(file_size(wal), reserved);      /* ... which did not grow */
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM scratch"), 120);
    pb_store_disconnect(f->conn);
    pb_store_close(f->store);
    assert_int_equal(file_size(wal), reserved); /* kept at its size when the store closes */
    f->store = pb_store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    f->conn = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(f->conn);
    assert_int_equal(pb_store_wal_reserve(f->conn, 200), PB_STORE_OK);
    assert_int_equal(file_size(wal), reserved);
    assert_int_equal(pb_store_exec_raw(f->conn, "SELECT CASE WHEN (SELECT count(*) FROM "
                                                "scratch)=120 THEN 1 ELSE "
                                                "abs(-9223372036854775807-1) END"),
                     PB_STORE_OK);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM scratch WHERE length(x)=3000"), 120);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A reader that holds one snapshot (a backup's copy) keeps the WAL from starting
 * over, so commits append beyond the reserve meanwhile; once the reader is gone and
 * the WAL has started over, its first commit cuts the file back to the reserve
 * (the reserving connection's journal_size_limit), and it stays there. */
static void test_wal_cut_back_to_the_reserve(void **state)
{
    sfx *f = *state;
    char wal[400], err[256];
    scratch_log(f, wal, sizeof wal);
    assert_int_equal(pb_store_wal_reserve(f->conn, 200), PB_STORE_OK);
    long reserved = file_size(wal);
    assert_int_equal(reserved, 32 + 200L * (24 + 4096));
    pb_store_conn *reader = pb_store_connect(f->store, err, sizeof err);
    assert_non_null(reader);
    assert_int_equal(pb_store_exec_raw(reader, "BEGIN; SELECT count(*) FROM scratch"), PB_STORE_OK);
    for (int i = 0; i < 40; i++) /* ~9 pages each: 360 frames, beyond the 200 reserved */
        commit_scratch_rows(f->conn);
    assert_int_equal(pb_store_checkpoint(f->conn), PB_STORE_OK); /* stops at the reader */
    commit_scratch_rows(f->conn);
    long grown = file_size(wal);
    assert_true(grown > reserved);
    assert_int_equal(pb_store_exec_raw(reader, "COMMIT"), PB_STORE_OK);
    pb_store_disconnect(reader);
    assert_int_equal(pb_store_checkpoint(f->conn), PB_STORE_OK); /* copies it all */
    commit_scratch_rows(f->conn);                                /* the WAL starts over: cut back */
    assert_int_equal(file_size(wal), reserved);
    commit_scratch_rows(f->conn);
    assert_int_equal(file_size(wal), reserved);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM scratch"), 43 * 8);
}

/* One commit of ~60 pages: SQLite asks for two writes per frame, the buffer
 * hands the file a few (the unix VFS takes at most 124 KiB per call); another
 * connection (plain VFS, its own descriptor) reads every row back. */
static void test_wal_buffer_coalesces_a_commit(void **state)
{
    sfx *f = *state;
    assert_int_equal(pb_store_exec_raw(f->conn, "CREATE TABLE scratch (b BLOB)"), PB_STORE_OK);
    unsigned long long req0, wr0, req1, wr1;
    pb_walbuf_stats(&req0, &wr0);
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    for (int i = 0; i < 60; i++)
        assert_int_equal(pb_store_exec_raw(f->conn,
                                           "INSERT INTO scratch VALUES (randomblob(3500))"),
                         PB_STORE_OK);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    pb_walbuf_stats(&req1, &wr1);
    assert_true(req1 - req0 >= 2 * 60); /* header + page per frame, ≥ 60 frames */
    assert_true(wr1 - wr0 <= (61 * 4120) / (31 * 4096) + 2); /* a few chunked writes */
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM scratch WHERE length(b) = 3500"),
                     60);
}

/* The end of the last frame of the WAL's current cycle (its header's salts
 * on every frame from offset 32), read from the file; *size the file's size. */
static long wal_frames_end(const char *wal, long *size)
{
    FILE *fp = fopen(wal, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    *size = ftell(fp);
    unsigned char hdr[32], fh[24];
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    assert_int_equal(fread(hdr, 1, 32, fp), 32);
    long end = 32;
    while (end + 24 + 4096 <= *size && fseek(fp, end, SEEK_SET) == 0 &&
           fread(fh, 1, 24, fp) == 24 && memcmp(fh + 8, hdr + 16, 8) == 0)
        end += 24 + 4096;
    fclose(fp);
    return end;
}

/* Each commit's write ends on a page boundary: the WAL file ends at the page
 * after the last frame, the bytes between are zeros, and a copy of the files
 * taken as they are (a crash: nothing checkpointed) recovers every commit. */
static void test_wal_buffer_pads_commits_to_pages(void **state)
{
    sfx *f = *state;
    long page = sysconf(_SC_PAGESIZE);
    assert_int_equal(pb_store_exec_raw(f->conn, "CREATE TABLE scratch (b BLOB)"), PB_STORE_OK);
    unsigned long long c0, c1;
    pb_walbuf_commits(&c0);
    static const int rows[] = {1, 1, 3, 7, 60, 2};
    int total = 0;
    char wal[1100];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
        for (int r = 0; r < rows[i]; r++)
            assert_int_equal(pb_store_exec_raw(f->conn, i % 2 ? "INSERT INTO scratch VALUES "
                                                                "(randomblob(3500))"
                                                              : "INSERT INTO scratch VALUES "
                                                                "(randomblob(100))"),
                             PB_STORE_OK);
        assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
        total += rows[i];
        long size, end = wal_frames_end(wal, &size);
        assert_true(end > 32);
        assert_int_equal(size % page, 0);                       /* the write ended on a page */
        assert_int_equal(size, (end + page - 1) / page * page); /* the page after the last frame */
        FILE *fp = fopen(wal, "rb");
        assert_non_null(fp);
        assert_int_equal(fseek(fp, end, SEEK_SET), 0);
        for (long at = end; at < size; at++)
            assert_int_equal(fgetc(fp), 0);
        fclose(fp);
    }
    pb_walbuf_commits(&c1);
    assert_true(c1 - c0 >= sizeof rows / sizeof rows[0]);
    /* a crash copy: the database and its WAL as they are */
    char copy[1100], copy_wal[1120], cmd[4400];
    snprintf(copy, sizeof copy, "%s.crash", f->path);
    snprintf(copy_wal, sizeof copy_wal, "%s-wal", copy);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s' '%s'", f->path, copy, wal, copy_wal);
    assert_int_equal(system(cmd), 0);
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) = %d FROM scratch", total);
    assert_int_equal(count_rows(copy, sql), 1);
    assert_int_equal(count_rows(copy, "SELECT count(*) FROM pragma_integrity_check "
                                      "WHERE integrity_check = 'ok'"),
                     1);
    unlink(copy_wal);
    unlink(copy);
}

/* A transaction big enough to spill frames into the WAL before its end, rolled
 * back: the other connection sees none of it, and the next commit is whole. */
static void test_wal_buffer_rollback_after_spill(void **state)
{
    sfx *f = *state;
    assert_int_equal(pb_store_exec_raw(f->conn, "PRAGMA cache_size = 10"), PB_STORE_OK);
    assert_int_equal(pb_store_exec_raw(f->conn, "CREATE TABLE scratch (b BLOB)"), PB_STORE_OK);
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(pb_store_exec_raw(f->conn,
                                           "INSERT INTO scratch VALUES (randomblob(3500))"),
                         PB_STORE_OK);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM scratch"), 0);
    pb_store_rollback(f->conn);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM scratch"), 0);
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(pb_store_exec_raw(f->conn, "INSERT INTO scratch VALUES (zeroblob(3500))"),
                         PB_STORE_OK);
    assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM scratch"), 5);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM pragma_integrity_check "
                                         "WHERE integrity_check = 'ok'"),
                     1);
}

static void insert_random_keys(sfx *f, int transactions, int rows)
{
    for (int t = 0; t < transactions; t++) {
        assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
        for (int i = 0; i < rows; i++)
            assert_int_equal(pb_store_exec_raw(f->conn, "INSERT INTO kv VALUES "
                                                        "(hex(randomblob(16)), randomblob(60))"),
                             PB_STORE_OK);
        assert_int_equal(pb_store_commit(f->conn), PB_STORE_OK);
    }
}

/* Random keys make SQLite rebalance index pages, and some rebalances swap two
 * new pages through the lock-byte page number; the commits after them truncate
 * nothing, and the shim tells pcache1 nothing (it would have walked every
 * cached page each time). The rows are all there and the file is sound. */
static void test_page_cache_commits_skip_needless_truncation(void **state)
{
    sfx *f = *state;
    assert_int_equal(pb_sq_pcache_install(), SQLITE_OK);
    assert_int_equal(pb_store_exec_raw(f->conn, "CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) "
                                                "WITHOUT ROWID"),
                     PB_STORE_OK);
    unsigned long long fwd0, skip0, swap0, fwd1, skip1, swap1;
    pb_sq_pcache_stats(&fwd0, &skip0, &swap0);
    insert_random_keys(f, 30, 300);
    pb_sq_pcache_stats(&fwd1, &skip1, &swap1);
    assert_true(swap1 > swap0);
    assert_int_equal(fwd1, fwd0);
    assert_true(skip1 - skip0 >= 30);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM kv"), 9000);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM pragma_integrity_check "
                                         "WHERE integrity_check = 'ok'"),
                     1);
}

/* A rolled-back transaction that grew the file leaves pages past the file's
 * end in the cache: that truncation is forwarded, and what is written next
 * (over the same page numbers, after more swapping rebalances) is sound. */
static void test_page_cache_rollback_still_truncates(void **state)
{
    sfx *f = *state;
    assert_int_equal(pb_store_exec_raw(f->conn, "CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) "
                                                "WITHOUT ROWID"),
                     PB_STORE_OK);
    insert_random_keys(f, 3, 300);
    unsigned long long fwd0, fwd1;
    pb_sq_pcache_stats(&fwd0, NULL, NULL);
    assert_int_equal(pb_store_begin(f->conn, PB_STORE_WRITE), PB_STORE_OK);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(pb_store_exec_raw(f->conn, "INSERT INTO kv VALUES "
                                                    "(hex(randomblob(16)), randomblob(300))"),
                         PB_STORE_OK);
    pb_store_rollback(f->conn);
    pb_sq_pcache_stats(&fwd1, NULL, NULL);
    assert_true(fwd1 > fwd0);
    insert_random_keys(f, 5, 300);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM kv"), 2400);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM pragma_integrity_check "
                                         "WHERE integrity_check = 'ok'"),
                     1);
}

/* A database at schema version 33 with three brands' settings and a withdrawal as
 * 0033 left them. 0038 rebuilds the withdrawal table (its status CHECK gains
 * 'returned'): the row and every index come through, and 'returned' is taken.
 * Three brands' settings:
 * a threshold of its own (GBP), none (the built-in default was 100000) and the
 * per-currency map already (a brand created by this version before its database
 * was migrated is not possible, but a rerun must not change it). 0034 moves the
 * single value to the brand's default currency and leaves the map alone; the
 * other settings stay as they were (0041 then makes own's deposit_min per currency). */
static void test_upgrade_4eyes_per_currency(void **state)
{
    sfx *f = *state;
    sqlite3 *db = db_at_version(f->path, 33);
    exec_ok(db, "INSERT INTO brand(id,code,name,default_currency,jurisdiction,settings,created_at,"
                "updated_at) VALUES"
                "(1,'own','Own','GBP','MT','{\"deposit_min\":500,"
                "\"withdrawal_4eyes_threshold\":25000}',1,1),"
                "(2,'none','None','EUR','MT','{}',1,1),"
                "(3,'map','Map','SEK','MT','{\"withdrawal_4eyes_thresholds\":{\"SEK\":70}}',1,1)");
    exec_ok(db, "INSERT INTO withdrawal(seq,id,brand_id,brand,player,currency,amount,"
                "idempotency_key,hold_id,approvals_required,requested_by,checks,status,psp,"
                "psp_reference,reason,created_at,updated_at) VALUES(5,'w1',1,'own','pl1','GBP',"
                "700,'k1',x'0102',2,'pl1','[]','paid','sandbox','ref1','',10,20)");
    sqlite3_close(db);

    db = upgrade_to_latest(f);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(code||'='||settings, ' | ') FROM "
                                        "(SELECT code, settings FROM brand ORDER BY id)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0),
                        "own={\"deposit_mins\":{\"GBP\":500},"
                        "\"withdrawal_4eyes_thresholds\":{\"GBP\":25000}}"
                        " | none={\"withdrawal_4eyes_thresholds\":{\"EUR\":100000}}"
                        " | map={\"withdrawal_4eyes_thresholds\":{\"SEK\":70}}");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(
                         db,
                         "SELECT seq||id||brand_id||brand||player||currency||amount||"
                         "idempotency_key||hex(hold_id)||approvals_required||requested_by||checks||"
                         "status||psp||psp_reference||reason||created_at||updated_at,"
                         "(SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                         "WHERE type='index' AND tbl_name='withdrawal' AND sql IS NOT NULL "
                         "ORDER BY name)) FROM withdrawal",
                         -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0),
                        "5w11ownpl1GBP700k101022pl1[]paidsandboxref11020");
    assert_string_equal((const char *)sqlite3_column_text(st, 1),
                        "withdrawal_brand_status,withdrawal_open,withdrawal_paid,withdrawal_player,"
                        "withdrawal_player_key,withdrawal_psp_reference,withdrawal_settled_psp,"
                        "withdrawal_status"); /* withdrawal_settled_psp: 0056 */
    sqlite3_finalize(st);
    exec_ok(db, "UPDATE withdrawal SET status='returned' WHERE id='w1'");
    char *msg = NULL;
    assert_int_not_equal(sqlite3_exec(db, "UPDATE withdrawal SET status='lost' WHERE id='w1'", NULL,
                                      NULL, &msg),
                         SQLITE_OK); /* the CHECK still holds */
    sqlite3_free(msg);
    sqlite3_close(db);
}

/* A database at schema version 38 with a recorded PSP event. 0039 rebuilds
 * payment_event (its outcome CHECK gains 'deferred': a payout.returned that came
 * before its payout.paid): the row and the unique key come through, the partial
 * index by reference is there, 'deferred' is taken and another word still not. */
static void test_upgrade_payment_event_deferred(void **state)
{
    sfx *f = *state;
    sqlite3 *db = db_at_version(f->path, 38);
    exec_ok(db, "INSERT INTO payment_event(seq,psp,event_id,type,reference,amount,currency,"
                "payload_hash,outcome,received_at) VALUES(7,'sandbox','evt1','payout.paid',"
                "'sbxo_1',700,'EUR',x'0102','applied',30)");
    sqlite3_close(db);
    db = upgrade_to_latest(f);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT seq||psp||event_id||type||reference||amount||currency||"
                           "hex(payload_hash)||outcome||received_at,"
                           "(SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                           "WHERE type='index' AND tbl_name='payment_event' AND sql IS NOT NULL "
                           "ORDER BY name)) FROM payment_event",
                           -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0),
                        "7sandboxevt1payout.paidsbxo_1700EUR0102applied30");
    assert_string_equal((const char *)sqlite3_column_text(st, 1),
                        "payment_event_deferred,payment_event_id");
    sqlite3_finalize(st);
    exec_ok(db, "UPDATE payment_event SET outcome='deferred' WHERE seq=7");
    char *msg = NULL;
    assert_int_not_equal(sqlite3_exec(db, "UPDATE payment_event SET outcome='lost' WHERE seq=7",
                                      NULL, NULL, &msg),
                         SQLITE_OK); /* the CHECK still holds */
    sqlite3_free(msg);
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO payment_event(psp,event_id,type,reference,"
                                      "amount,currency,payload_hash,outcome,received_at) "
                                      "VALUES('sandbox','evt1','x','y',1,'EUR',x'00','applied',1)",
                                      NULL, NULL, &msg),
                         SQLITE_OK); /* (psp, event_id) still unique */
    sqlite3_free(msg);
    sqlite3_close(db);
}

/* A database at schema version 54 with four payments: completed late (its
 * payment.completed audit entry with the reason "late completion: ..."), completed
 * in time (the entry without a reason), completed after a failure (another reason),
 * and pending. 0055 stores completed_late from what was recorded then: only the
 * first is late, whatever a brand's deposit_expiry_minutes says now; the column
 * takes 0 or 1 only and is 0 for a new row. */
static void test_upgrade_payment_completed_late(void **state)
{
    sfx *f = *state;
    sqlite3 *db = db_at_version(f->path, 54);
    exec_ok(db, "INSERT INTO payment(seq,id,brand_id,brand,player,currency,amount,"
                "idempotency_key,psp,psp_reference,status,transfer_id,created_at,updated_at) "
                "VALUES(1,'p-late',1,'a','pl','EUR',100,'k1','sandbox','r1','completed',x'01',1,"
                "90000000001),(2,'p-ontime',1,'a','pl','EUR',100,'k2','sandbox','r2','completed',"
                "x'02',1,2),(3,'p-after-failed',1,'a','pl','EUR',100,'k3','sandbox','r3',"
                "'completed',x'03',1,90000000001),(4,'p-pending',1,'a','pl','EUR',100,'k4',"
                "'sandbox','r4','pending',NULL,1,1)");
    exec_ok(db,
            "INSERT INTO audit_entry(id,at,actor_kind,actor_id,brand,action,target_kind,"
            "target_id,reason,hash) VALUES"
            "(x'a1',1,'system','psp:sandbox','a','payment.created','payment','p-late','',x'00'),"
            "(x'a2',2,'system','psp:sandbox','a','payment.completed','payment','p-late',"
            "'late completion: deposit.succeeded after the deposit intent expired; the PSP "
            "captured the money, credited',x'00'),"
            "(x'a3',3,'system','psp:sandbox','a','payment.completed','payment','p-ontime','',"
            "x'00'),"
            "(x'a4',4,'system','psp:sandbox','a','payment.completed','payment',"
            "'p-after-failed','deposit.succeeded after deposit.failed: the PSP holds the "
            "money',x'00'),"
            /* the same words on another action or target: not a late completion */
            "(x'a5',5,'system','psp:sandbox','a','payment.failed','payment','p-pending',"
            "'late completion: no',x'00')");
    sqlite3_close(db);
    db = upgrade_to_latest(f);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(id||'='||completed_late, ',') FROM "
                                        "(SELECT id, completed_late FROM payment ORDER BY seq)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0),
                        "p-late=1,p-ontime=0,p-after-failed=0,p-pending=0");
    sqlite3_finalize(st);
    char *msg = NULL;
    assert_int_not_equal(sqlite3_exec(db, "UPDATE payment SET completed_late=2 WHERE seq=2", NULL,
                                      NULL, &msg),
                         SQLITE_OK); /* 0 or 1 only */
    sqlite3_free(msg);
    exec_ok(db, "INSERT INTO payment(id,brand_id,brand,player,currency,amount,idempotency_key,"
                "psp,psp_reference,status,created_at,updated_at) VALUES('p-new',1,'a','pl','EUR',"
                "1,'k5','sandbox','r5','pending',1,1)");
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT completed_late FROM payment WHERE id='p-new'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A database at schema version 40 with four brands' settings as 0040 left them:
 * both single deposit limits among other settings (three currencies accepted,
 * EUR the default), only a minimum (no brand_currency row: its default alone),
 * none, and only a maximum. 0041 gives every currency the brand accepts the
 * value it had, as "deposit_mins" / "deposit_maxes", drops the single keys, keeps
 * the rest and the keys in sorted order (the canonical form tenancy stores), and
 * leaves a brand without limits alone. (That this is valid and canonical as it
 * stands: tenancy's test "create", the brand "mig".) */
static void test_upgrade_deposit_limits_per_currency(void **state)
{
    sfx *f = *state;
    sqlite3 *db = db_at_version(f->path, 40);
    exec_ok(db, "INSERT INTO brand(id,code,name,default_currency,jurisdiction,settings,created_at,"
                "updated_at) VALUES"
                "(1,'both','Both','EUR','MT','{\"deposit_expiry_minutes\":30,\"deposit_max\":20000,"
                "\"deposit_min\":500,\"funding_policy\":\"cash_only\","
                "\"withdrawal_4eyes_thresholds\":{\"EUR\":100000}}',1,1),"
                "(2,'min','Min','GBP','MT','{\"deposit_min\":700}',1,1),"
                "(3,'none','None','SEK','MT','{\"erase_after_days\":9}',1,1),"
                "(4,'max','Max','USD','MT','{\"deposit_max\":90000}',1,1)");
    exec_ok(db, "INSERT INTO brand_currency(brand_id,currency) VALUES(1,'USD'),(1,'EUR'),"
                "(1,'JPY'),(3,'SEK'),(4,'USD')");
    sqlite3_close(db);
    db = upgrade_to_latest(f);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(code||'='||settings, ' | ') FROM "
                                        "(SELECT code, settings FROM brand ORDER BY id)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(
        (const char *)sqlite3_column_text(st, 0),
        "both={\"deposit_expiry_minutes\":30,\"deposit_maxes\":{\"EUR\":20000,\"JPY\":20000,"
        "\"USD\":20000},\"deposit_mins\":{\"EUR\":500,\"JPY\":500,\"USD\":500},"
        "\"funding_policy\":\"cash_only\",\"withdrawal_4eyes_thresholds\":{\"EUR\":100000}}"
        " | min={\"deposit_mins\":{\"GBP\":700}}"
        " | none={\"erase_after_days\":9}"
        " | max={\"deposit_maxes\":{\"USD\":90000}}");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_and_migrate, dir_setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_13, dir_setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_4eyes_per_currency, dir_setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_payment_event_deferred, dir_setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_payment_completed_late, dir_setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_deposit_limits_per_currency, dir_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_refusals, dir_setup, teardown),
#define T(name) cmocka_unit_test_setup_teardown(name, store_setup, teardown)
        T(test_wal_and_visibility),
        T(test_rollback_discards),
        T(test_accounts),
        T(test_transfer_round_trip),
        T(test_transfer_conflicts),
        T(test_transfer_scan),
        T(test_rejection_round_trip),
        T(test_pending_open),
        T(test_wal_restart_bounds_the_log),
        T(test_wal_reserve_grows_the_log_once),
        T(test_wal_cut_back_to_the_reserve),
        T(test_wal_buffer_coalesces_a_commit),
        T(test_wal_buffer_pads_commits_to_pages),
        T(test_wal_buffer_rollback_after_spill),
        T(test_page_cache_commits_skip_needless_truncation),
        T(test_page_cache_rollback_still_truncates),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
