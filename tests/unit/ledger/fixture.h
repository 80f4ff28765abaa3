/* fixture.h — a fresh migrated SQLite database and a running ledger for each test. */
#ifndef PB_TEST_LEDGER_FIXTURE_H
#define PB_TEST_LEDGER_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ledger/ledger.h"

typedef struct fx {
    char dir[256];
    char path[300];
    pb_store *store;
    pb_store_conn *conn; /* a reader connection for queries and verify */
    pb_ledger *ledger;
    int64_t clock_us;     /* the ledger's clock; tests move it to expire holds */
    int balance_flush_ms; /* the ledger's balance write-back delay (0: its default) */
    int checkpoint_ms, wal_restart_frames; /* the ledger's WAL settings (0: its defaults) */
    bool idle_sync_in_notifier;            /* pb_ledger_config's, at the next fx_restart */
} fx;

/* SplitMix64: the next number of the seeded stream *state (the property tests'
 * generator; a seed reproduces a run). */
static inline uint64_t fx_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* cmocka setup/teardown: *state becomes a fx*. */
int fx_setup(void **state);
int fx_teardown(void **state);
/* Restarts the ledger on the same database (as after a process restart), with
 * the fixture's current settings (balance_flush_ms, checkpoint_ms,
 * wal_restart_frames). */
void fx_restart(fx *f);

/* Opens the store at f->path (through the SQLite VFS `vfs` when not NULL, e.g.
 * the fault VFS of faultvfs.h) and a reader connection on it, after the test
 * closed the previous ones. */
void fx_open_store(fx *f, const char *vfs);
/* A kill -9: the ledger goes on from a copy of its files taken while it runs
 * (every acknowledged commit is in the log; balance rows and the open-hold table
 * lag behind it; a write-back or sweep the writer was doing may be cut anywhere,
 * as a crash would cut it). The original ledger is closed and its database
 * removed; the copy is opened as fx_open_store(f, vfs) does, checked by verify
 * before a ledger replays anything onto it, and a ledger is opened on it. A
 * clean restart writes every row back at close, so only this makes the open
 * replay the log onto rows that lag. Returns how many balance rows the copy had
 * behind the log. Anything else holding the ledger (a wallet) must be closed
 * before and reopened after. */
int64_t fx_crash(fx *f, const char *vfs);

/* Inserts an active EUR player of brand_id (country MT, born 1990) with a new
 * public id and this email, on f->conn (in the caller's transaction, if any);
 * out receives the row, its id and public_id included. */
void fx_player(fx *f, int64_t brand_id, const char *email, pb_store_player *out);

/* Creates an account in EUR (or `currency`) and returns its id; asserts success. */
int64_t fx_account(fx *f, const char *owner, const char *kind, uint32_t flags);
int64_t fx_account_cur(fx *f, const char *owner, const char *kind, uint32_t flags,
                       const char *currency);
/* A single-phase transfer request in EUR with scope "test". */
pb_transfer fx_transfer(const char *key, int64_t debit, int64_t credit, int64_t amount,
                        uint32_t code);
/* A post or void (flag) of the hold `pending`: accounts, amount and currency its own. */
pb_transfer fx_resolve(const char *key, const pb_id *pending, uint32_t flag);

/* A small ledger the verify and anchor tests start from, eight transfers in EUR:
 *   1 dep:alice  psp → alice 100.00        2 dep:bob  psp → bob 50.00
 *   3 bet:alice  alice → house 10.00 hold  4 bet:bob  bob → house 5.00 hold
 *   5 post:alice (3, in full)              6 void:bob (4)
 *   7 win:alice  house → alice 20.00       8 bet:alice:2  alice → house 3.00, a hold
 *                                             still open (timeout 3600 s)
 * alice and bob are player_cash accounts that may not go below zero. */
typedef struct fx_book {
    int64_t house, psp, alice, bob;
    pb_id hold3, hold8; /* the ids of transfers 3 and 8 */
} fx_book;
/* Builds it through f->ledger; asserts every transfer and its seq. */
fx_book fx_book_build(fx *f);
/* Submits one transfer; asserts the submission itself succeeded; returns its result. */
pb_err fx_submit1(fx *f, pb_transfer *t);
/* Reads an account's committed state; asserts it exists. */
pb_ledger_account fx_get(fx *f, int64_t id);
/* Runs verify; returns the number of violations (asserts it could run). */
int64_t fx_verify(fx *f);
/* Waits until the writer has run at least one more batch (e.g. an expiry sweep). */
void fx_sync(fx *f);
/* Copies a file byte for byte (asserts); a missing source is an error unless
 * optional (then nothing is copied: e.g. a -wal that is not there). */
void fx_copy_file(const char *from, const char *to, bool optional);
/* Removes a database's files (path, -wal, -shm) and then its directory. */
void fx_remove_db(const char *dir, const char *path);

/* Runs one SQL statement (printf-style) on f->conn; fails the test if it fails.
 * The tamper tests forge and damage rows with it. */
void fx_sql(fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The violations a verify reported (fx_collect is its callback). */
#define FX_SEEN_MAX 64
typedef struct fx_seen {
    int n;
    char kind[FX_SEEN_MAX][40];
    char msg[FX_SEEN_MAX][512];
} fx_seen;
void fx_collect(void *ctx, const char *kind, const char *message);
/* Is there a violation of kind whose message names needle (NULL: any), not
 * followed by another digit ("seq 2" does not match "seq 21")? */
bool fx_seen_has(const fx_seen *s, const char *kind, const char *needle);
/* Fails the test unless fx_seen_has. */
void fx_assert_seen(const fx_seen *s, const char *kind, const char *needle);

#endif
