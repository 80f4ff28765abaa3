/*
 * test_ledger_damaged.c — a damaged transfer row (src/ledger/engine.c, "damaged
 * rows"; src/store/sqlite/sqlite_ledger.c, read_transfer).
 *
 * Each case builds a few holds, closes the ledger (so the holds are in
 * ledger_pending_open and not in the writer's memory when it opens again),
 * damages one row with SQL as a broken disk or tool would, and reopens:
 *  - a post or void of the damaged hold is refused STORE_CORRUPT, in the same
 *    batch as transfers that succeed; nothing is remembered under its key (the
 *    same request succeeds once the row is repaired), its accounts keep their
 *    counters; the same for a replayed key whose stored transfer is damaged;
 *  - the expiry sweep skips a due hold it cannot read or void, logs it once,
 *    counts it (expiry_skipped), expires the others and lets every batch run;
 *    the hold expires once its row is repaired and its retry comes;
 *  - verify reports the malformed row (test_ledger_verify has more);
 *  - a damaged account row (a text column, flags, a counter, a missing balance
 *    row) is never used: what touches it is refused STORE_CORRUPT, readers too.
 * Without the fix the damaged hold read as "not found" (PENDING_NOT_FOUND,
 * remembered for good) or as a wrong value (a void of amount 0), and a due one
 * failed every batch with INTERNAL.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"

#define assert_err(got, want) assert_string_equal(pb_err_code(got), pb_err_code(want))
#define SEC INT64_C(1000000)

typedef struct book {
    int64_t bank, player, house;
    pb_id h1, h2; /* seq 2 (100) and seq 3 (50) */
} book;

static pb_transfer hold_req(const char *key, int64_t dr, int64_t cr, int64_t amount,
                            int64_t timeout_s)
{
    pb_transfer t = fx_transfer(key, dr, cr, amount, PB_CODE_BET);
    t.flags = PB_TRANSFER_PENDING;
    t.timeout_s = timeout_s;
    return t;
}

static pb_transfer resolve_req(const char *key, uint32_t flag, const pb_id *pending)
{
    pb_transfer t = fx_transfer(key, 0, 0, 0, 0);
    t.currency[0] = 0;
    t.flags = flag;
    t.pending_id = *pending;
    return t;
}

/* seq 1 funds the player with 1000; seq 2 and 3 are holds of 100 and 50 (with
 * this timeout); seq 4 a deposit, so that no hold is the head of the chain. Then
 * the ledger is closed: the holds are only in ledger_pending_open. */
static book build(fx *f, int64_t timeout_s)
{
    book b;
    b.bank = fx_account(f, "bank", "cash", 0);
    b.player = fx_account(f, "player", "cash", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    b.house = fx_account(f, "house", "revenue", 0);
    pb_transfer t = fx_transfer("fund", b.bank, b.player, 1000, PB_CODE_DEPOSIT);
    assert_err(fx_submit1(f, &t), PB_OK);
    pb_transfer h1 = hold_req("bet:1", b.player, b.house, 100, timeout_s);
    pb_transfer h2 = hold_req("bet:2", b.player, b.house, 50, timeout_s);
    assert_err(fx_submit1(f, &h1), PB_OK);
    assert_err(fx_submit1(f, &h2), PB_OK);
    assert_int_equal(h1.record.seq, 2);
    assert_int_equal(h2.record.seq, 3);
    b.h1 = h1.record.id;
    b.h2 = h2.record.id;
    t = fx_transfer("fund:2", b.bank, b.player, 1, PB_CODE_DEPOSIT);
    assert_err(fx_submit1(f, &t), PB_OK);
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    /* the row as it was, to repair it from ("a backup") */
    fx_sql(f, "CREATE TABLE saved_row AS SELECT * FROM ledger_transfer WHERE seq=2");
    return b;
}

static void reopen(fx *f) { fx_restart(f); /* f->ledger is NULL: just opens */ }

static void repair(fx *f)
{
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    fx_sql(f, "UPDATE ledger_transfer SET (id,amount,flags,pending_id,hash)=(SELECT id,amount,"
              "flags,pending_id,hash FROM saved_row) WHERE seq=2");
    fx_sql(f, "DROP TABLE saved_row");
    reopen(f);
}

static pb_ledger_stats stats(fx *f)
{
    pb_ledger_stats s;
    pb_ledger_stats_get(f->ledger, &s);
    return s;
}

/* The hold seq 2 damaged by `damage`: its void is refused STORE_CORRUPT in a batch
 * where the other hold's void and a deposit succeed; nothing is remembered; after
 * the repair the same void succeeds. */
static void void_of_damaged_hold(fx *f, const char *damage)
{
    book b = build(f, 0);
    fx_sql(f, "%s", damage);
    reopen(f);

    pb_transfer t[3] = {
        resolve_req("void:1", PB_TRANSFER_VOID_PENDING, &b.h1),
        resolve_req("void:2", PB_TRANSFER_VOID_PENDING, &b.h2),
        fx_transfer("fund:3", b.bank, b.player, 10, PB_CODE_DEPOSIT),
    };
    assert_err(pb_ledger_submit(f->ledger, t, 3), PB_OK); /* one batch */
    assert_err(t[0].result, PB_ERR_STORE_CORRUPT);
    assert_false(t[0].replayed);
    assert_err(t[1].result, PB_OK);
    assert_err(t[2].result, PB_OK);
    /* the damaged hold still holds its 100; the other hold is released */
    pb_ledger_account a = fx_get(f, b.player);
    assert_int_equal(a.debits_pending, 100);
    assert_int_equal(a.credits_posted, 1011);
    assert_int_equal(fx_get(f, b.house).credits_pending, 100);
    /* not a business answer: nothing under the key, asked again it is checked again */
    pb_store_rejection rej;
    assert_int_equal(pb_store_rejection_by_key(f->conn, "test", "void:1", &rej),
                     PB_STORE_NOT_FOUND);
    pb_transfer again = resolve_req("void:1", PB_TRANSFER_VOID_PENDING, &b.h1);
    assert_err(fx_submit1(f, &again), PB_ERR_STORE_CORRUPT);
    assert_false(again.replayed);
    pb_transfer post = resolve_req("post:1", PB_TRANSFER_POST_PENDING, &b.h1);
    assert_err(fx_submit1(f, &post), PB_ERR_STORE_CORRUPT);
    assert_int_equal(stats(f).corrupt_refusals, 3);
    assert_true(fx_verify(f) > 0); /* verify names it (test_ledger_verify) */

    repair(f);
    again = resolve_req("void:1", PB_TRANSFER_VOID_PENDING, &b.h1);
    assert_err(fx_submit1(f, &again), PB_OK);
    assert_false(again.replayed);
    a = fx_get(f, b.player);
    assert_int_equal(a.debits_pending, 0);
    assert_int_equal(a.debits_posted, 0);
    assert_int_equal(fx_verify(f), 0);
}

static void test_hold_id_wrong_length(void **state)
{
    void_of_damaged_hold(*state, "UPDATE ledger_transfer SET id=x'0102' WHERE seq=2");
}

static void test_hold_id_not_its_own(void **state)
{
    /* 16 bytes, but not an id the ledger made for seq 2 */
    void_of_damaged_hold(*state, "UPDATE ledger_transfer SET id=zeroblob(16) WHERE seq=2");
}

static void test_hold_hash_wrong_length(void **state)
{
    void_of_damaged_hold(*state, "UPDATE ledger_transfer SET hash=x'00' WHERE seq=2");
}

static void test_hold_amount_not_a_number(void **state)
{
    void_of_damaged_hold(*state, "UPDATE ledger_transfer SET amount='lots' WHERE seq=2");
}

static void test_hold_pending_id_wrong_length(void **state)
{
    void_of_damaged_hold(*state, "UPDATE ledger_transfer SET pending_id=x'01' WHERE seq=2");
}

static void test_hold_lost_its_flag(void **state)
{
    /* well formed, but ledger_pending_open lists it as an open hold */
    void_of_damaged_hold(*state, "UPDATE ledger_transfer SET flags=0 WHERE seq=2");
}

/* A key whose stored transfer is damaged: the replay is refused STORE_CORRUPT
 * (not answered from a half-read row), its neighbour in the batch succeeds. */
static void test_replayed_key_damaged(void **state)
{
    fx *f = *state;
    book b = build(f, 0);
    fx_sql(f, "UPDATE ledger_transfer SET id=x'0102' WHERE seq=1");
    reopen(f);
    pb_transfer t[2] = {
        fx_transfer("fund", b.bank, b.player, 1000, PB_CODE_DEPOSIT), /* seq 1's key */
        fx_transfer("fund:3", b.bank, b.player, 10, PB_CODE_DEPOSIT),
    };
    assert_err(pb_ledger_submit(f->ledger, t, 2), PB_OK);
    assert_err(t[0].result, PB_ERR_STORE_CORRUPT);
    assert_false(t[0].replayed);
    assert_err(t[1].result, PB_OK);
    assert_int_equal(fx_get(f, b.player).credits_posted, 1011);
    pb_store_rejection rej;
    assert_int_equal(pb_store_rejection_by_key(f->conn, "test", "fund", &rej), PB_STORE_NOT_FOUND);
    /* readers are told too, rather than handed a zeroed id */
    pb_ledger_record r;
    assert_err(pb_ledger_transfer_by_key(f->conn, "test", "fund", &r), PB_ERR_STORE_CORRUPT);
}

/* Counts the lines of `path` that contain `needle`. */
static int count_lines(const char *path, const char *needle)
{
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, in))
        n += strstr(line, needle) != NULL;
    fclose(in);
    return n;
}

/* A due hold whose row is damaged: the sweep skips it (logged once, counted),
 * expires the other one, and every batch runs; once repaired it expires at its
 * next retry. */
static void test_expiry_skips_damaged_hold(void **state)
{
    fx *f = *state;
    book b = build(f, 10);
    fx_sql(f, "UPDATE ledger_transfer SET id=x'0102' WHERE seq=2");

    /* the writer's log goes to a file for the count */
    char logpath[320];
    snprintf(logpath, sizeof logpath, "%s/stderr.log", f->dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);

    /* no assertion while stderr is redirected: a failure would leave it so */
    reopen(f);
    f->clock_us += 20 * SEC; /* both holds are due */
    pb_transfer t[6];
    pb_err status[6];
    for (int i = 0; i < 6; i++) { /* batches, and idle sweeps between them */
        char key[32];
        snprintf(key, sizeof key, "more:%d", i);
        t[i] = fx_transfer(key, b.bank, b.player, i ? 1 : 10, PB_CODE_DEPOSIT);
        status[i] = pb_ledger_submit(f->ledger, &t[i], 1);
        usleep(50000);
    }
    pb_ledger_stats s = stats(f);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);

    for (int i = 0; i < 6; i++) { /* not INTERNAL: every batch ran */
        assert_err(status[i], PB_OK);
        assert_err(t[i].result, PB_OK);
    }
    pb_ledger_account a = fx_get(f, b.player);
    assert_int_equal(a.debits_pending, 100); /* hold 2 expired, hold 1 left as it was */
    assert_int_equal(a.credits_posted, 1016);
    assert_int_equal(fx_get(f, b.house).credits_pending, 100);
    assert_int_equal(s.expiry_skipped, 1);
    assert_int_equal(count_lines(logpath, "ledger.expiry_skipped"), 1);

    /* repaired (and restarted): the first sweep expires it */
    repair(f);
    for (int i = 0; i < 500 && fx_get(f, b.player).debits_pending != 0; i++)
        usleep(10000);
    a = fx_get(f, b.player);
    assert_int_equal(a.debits_pending, 0);
    assert_int_equal(a.debits_posted, 0);
    assert_int_equal(fx_verify(f), 0);
}

/* The same with the ledger left running (the skipped hold is remembered by the
 * writer, not re-read every batch) and the repair seen by its retry. */
static void test_expiry_retry_after_repair_while_running(void **state)
{
    fx *f = *state;
    book b = build(f, 10);
    fx_sql(f, "UPDATE ledger_transfer SET hash=x'00' WHERE seq=2");
    reopen(f);
    f->clock_us += 20 * SEC;
    fx_sync(f);
    fx_sync(f);
    assert_int_equal(stats(f).expiry_skipped, 1);
    assert_int_equal(fx_get(f, b.player).debits_pending, 100);
    /* repaired behind the writer's back (as an operator restoring one row) */
    fx_sql(f, "UPDATE ledger_transfer SET hash=(SELECT hash FROM saved_row) WHERE seq=2");
    fx_sync(f);
    assert_int_equal(fx_get(f, b.player).debits_pending, 100); /* not retried yet */
    f->clock_us += 61 * SEC;
    for (int i = 0; i < 500 && fx_get(f, b.player).debits_pending != 0; i++)
        usleep(10000);
    assert_int_equal(fx_get(f, b.player).debits_pending, 0);
    assert_int_equal(stats(f).expiry_skipped, 1);
    assert_int_equal(fx_verify(f), 0);
}

/* ---- a damaged account row ----
 *
 * The player's account row (ledger_account or its ledger_balance row) damaged by
 * `damage` (table victim holds the player's id) after build(): a transfer
 * debiting it, one crediting it and the void of its hold are refused
 * STORE_CORRUPT, in a batch where a transfer between two other accounts succeeds,
 * nothing of them applied or remembered; a command reading it and the readers get
 * STORE_CORRUPT; the account is logged once however often it is refused; verify
 * reports `kind` (naming `column` for account_malformed); once repaired the same
 * requests succeed. Without the fix the lookups answered OK and the engine used
 * the row as read: a blob currency as "EUR", flags of the wrong type as 0 (no
 * overdraw limit), a REAL counter truncated, a negative counter as money,
 * unknown flag bits as a limit, a missing balance row as ACCOUNT_NOT_FOUND
 * (remembered for good). */

static pb_err read_in_command(pb_ledger_tx *tx, void *ctx)
{
    pb_ledger_account a;
    return pb_ledger_tx_account(tx, *(int64_t *)ctx, &a);
}

static void damaged_account(fx *f, const char *damage, const char *kind, const char *column)
{
    book b = build(f, 0);
    long long p = (long long)b.player;
    fx_sql(f, "CREATE TABLE victim AS SELECT %lld AS id", p);
    fx_sql(f, "CREATE TABLE saved_acct AS SELECT * FROM ledger_account WHERE id=%lld", p);
    fx_sql(f, "CREATE TABLE saved_bal AS SELECT * FROM ledger_balance WHERE account_id=%lld", p);
    fx_sql(f, "%s", damage);

    /* the writer's log goes to a file for the count (no assertion while redirected) */
    char logpath[320];
    snprintf(logpath, sizeof logpath, "%s/stderr.log", f->dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved < 0 || fd < 0)
        fail_msg("cannot redirect stderr");
    dup2(fd, 2);
    close(fd);

    reopen(f);
    pb_transfer t[3] = {
        fx_transfer("bet:3", b.player, b.house, 10, PB_CODE_BET),
        resolve_req("void:1", PB_TRANSFER_VOID_PENDING, &b.h1),
        fx_transfer("fund:3", b.bank, b.house, 10, PB_CODE_DEPOSIT),
    };
    pb_err batch = pb_ledger_submit(f->ledger, t, 3); /* one batch */
    pb_transfer again = fx_transfer("bet:3", b.player, b.house, 10, PB_CODE_BET);
    pb_err again_status = pb_ledger_submit(f->ledger, &again, 1);
    pb_transfer in = fx_transfer("win:1", b.house, b.player, 5, PB_CODE_WIN); /* credit side */
    pb_err in_status = pb_ledger_submit(f->ledger, &in, 1);
    pb_err cmd = pb_ledger_command(f->ledger, read_in_command, &b.player);
    pb_ledger_stats s = stats(f);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);

    assert_err(batch, PB_OK);
    assert_err(t[0].result, PB_ERR_STORE_CORRUPT);
    assert_false(t[0].replayed);
    assert_err(t[1].result, PB_ERR_STORE_CORRUPT);
    assert_err(t[2].result, PB_OK);
    assert_err(again_status, PB_OK);
    assert_err(again.result, PB_ERR_STORE_CORRUPT);
    assert_false(again.replayed);
    assert_err(in_status, PB_OK);
    assert_err(in.result, PB_ERR_STORE_CORRUPT);
    assert_err(cmd, PB_ERR_STORE_CORRUPT);
    assert_int_equal(s.corrupt_refusals, 4);
    assert_int_equal(count_lines(logpath, "ledger.damaged_account"), 1);
    /* nothing of them applied, nothing remembered: the house got the deposit only */
    pb_ledger_account h = fx_get(f, b.house);
    assert_int_equal(h.credits_pending, 150);
    assert_int_equal(h.credits_posted, 10);
    assert_int_equal(h.debits_posted, 0);
    assert_int_equal(fx_get(f, b.bank).debits_posted, 1011);
    pb_store_rejection rej;
    assert_int_equal(pb_store_rejection_by_key(f->conn, "test", "bet:3", &rej), PB_STORE_NOT_FOUND);
    assert_int_equal(pb_store_rejection_by_key(f->conn, "test", "void:1", &rej),
                     PB_STORE_NOT_FOUND);
    assert_int_equal(pb_store_rejection_by_key(f->conn, "test", "win:1", &rej), PB_STORE_NOT_FOUND);
    /* readers are told, rather than shown the row's balances */
    pb_ledger_account a;
    assert_err(pb_ledger_account_get(f->conn, b.player, &a), PB_ERR_STORE_CORRUPT);
    if (strcmp(column, "currency") != 0) /* found by its names: they are intact */
        assert_err(pb_ledger_account_find(f->conn, "test", "player", "cash", "EUR", &a),
                   PB_ERR_STORE_CORRUPT);
    fx_seen seen = {0};
    pb_ledger_verify_summary sum;
    assert_err(pb_ledger_verify(f->conn, fx_collect, &seen, &sum), PB_OK);
    char needle[96];
    snprintf(needle, sizeof needle, "account %lld is damaged: column %s", p, column);
    fx_assert_seen(&seen, kind, strcmp(kind, "account_malformed") == 0 ? needle : NULL);

    /* repaired from "a backup": the same requests succeed */
    pb_ledger_close(f->ledger);
    f->ledger = NULL;
    fx_sql(f,
           "UPDATE ledger_account SET (brand,owner,kind,currency,flags,created_at)=(SELECT "
           "brand,owner,kind,currency,flags,created_at FROM saved_acct) WHERE id=%lld",
           p);
    fx_sql(f, "INSERT OR REPLACE INTO ledger_balance SELECT * FROM saved_bal");
    fx_sql(f, "DROP TABLE saved_acct");
    fx_sql(f, "DROP TABLE saved_bal");
    fx_sql(f, "DROP TABLE saved_row");
    fx_sql(f, "DROP TABLE victim");
    reopen(f);
    again = fx_transfer("bet:3", b.player, b.house, 10, PB_CODE_BET);
    assert_err(fx_submit1(f, &again), PB_OK);
    assert_false(again.replayed);
    pb_transfer v = resolve_req("void:1", PB_TRANSFER_VOID_PENDING, &b.h1);
    assert_err(fx_submit1(f, &v), PB_OK);
    in = fx_transfer("win:1", b.house, b.player, 5, PB_CODE_WIN);
    assert_err(fx_submit1(f, &in), PB_OK);
    a = fx_get(f, b.player);
    assert_int_equal(a.debits_pending, 50);
    assert_int_equal(a.debits_posted, 10);
    assert_int_equal(a.credits_posted, 1006);
    assert_int_equal(fx_verify(f), 0);
}

#define VICTIM_ACCT " WHERE id=(SELECT id FROM victim)"
#define VICTIM_BAL " WHERE account_id=(SELECT id FROM victim)"

static void test_account_currency_a_blob(void **state)
{
    /* the same three bytes, but not text: read as "EUR" before */
    damaged_account(*state, "UPDATE ledger_account SET currency=CAST('EUR' AS BLOB)" VICTIM_ACCT,
                    "account_malformed", "currency");
}

static void test_account_currency_too_long(void **state)
{
    damaged_account(*state, "UPDATE ledger_account SET currency='EURO-ZONE'" VICTIM_ACCT,
                    "account_malformed", "currency");
}

static void test_account_flags_not_a_number(void **state)
{
    /* read as 0 before: the player's overdraw limit gone */
    damaged_account(*state, "UPDATE ledger_account SET flags='none'" VICTIM_ACCT,
                    "account_malformed", "flags");
}

static void test_account_flags_unknown_bits(void **state)
{
    damaged_account(*state, "UPDATE ledger_account SET flags=flags|4" VICTIM_ACCT,
                    "account_malformed", "flags");
}

static void test_account_counter_not_an_integer(void **state)
{
    /* a REAL stays REAL in an INTEGER column: read as a million before */
    damaged_account(*state, "UPDATE ledger_balance SET credits_posted=1000000.5" VICTIM_BAL,
                    "account_malformed", "credits_posted");
}

static void test_account_counter_negative(void **state)
{
    /* spendable money before */
    damaged_account(*state, "UPDATE ledger_balance SET debits_posted=-1000000" VICTIM_BAL,
                    "account_malformed", "debits_posted");
}

static void test_account_last_seq_negative(void **state)
{
    damaged_account(*state, "UPDATE ledger_balance SET last_seq=-1" VICTIM_BAL, "account_malformed",
                    "last_seq");
}

static void test_account_balance_row_missing(void **state)
{
    /* ACCOUNT_NOT_FOUND before, remembered under the key; verify names the orphan */
    damaged_account(*state, "DELETE FROM ledger_balance" VICTIM_BAL, "balance_orphan",
                    "balance row");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hold_id_wrong_length, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_hold_id_not_its_own, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_hold_hash_wrong_length, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_hold_amount_not_a_number, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_hold_pending_id_wrong_length, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_hold_lost_its_flag, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_replayed_key_damaged, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expiry_skips_damaged_hold, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expiry_retry_after_repair_while_running, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_account_currency_a_blob, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_account_currency_too_long, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_account_flags_not_a_number, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_account_flags_unknown_bits, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_account_counter_not_an_integer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_account_counter_negative, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_account_last_seq_negative, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_account_balance_row_missing, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
