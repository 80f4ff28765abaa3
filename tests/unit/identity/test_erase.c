/*
 * test_erase.c — a player's erasure (src/identity/erase.c) called directly, over
 * the real money side: the store, the ledger, the wallet and the in-house games
 * (the games' play fixture, tests/unit/games/play_fixture.h: brand "alpha", two
 * EUR players, the originals in the catalog). The teardown asserts the ledger's
 * verify finds nothing.
 *
 *   in-house rounds   a mines game in play, a round decided and not paid, a round
 *                     recorded and not staked yet: each refuses the erasure
 *                     (PLAYER_HAS_OPEN_BETS, nothing written); once they ended, it
 *                     erases.
 *   provider rounds   a provider's bet, then a win on its round that does not close
 *                     it: still PLAYER_HAS_OPEN_BETS (more wins may come); erased
 *                     once the round is closed, or once its newest operation is
 *                     older than PB_IDENTITY_ROUND_IDLE_DAYS (not a day before).
 *   the open-bet read  starts from the operations of the idle window: a long history
 *                     before it is not read (a planted row there, which real data
 *                     cannot hold, goes unseen); a bet in the window, and an old bet
 *                     whose round had an operation in the window, are open.
 *   its record        called directly (no route in front of it), the erasure ends
 *                     the player's live launches, appends the audit entry and the
 *                     event "player.erased", all in the caller's transaction: a
 *                     rollback takes them back with the erasure; a refusal or bad
 *                     input writes none of them.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../games/play_fixture.h"
#include "catalog/catalog.h"
#include "core/time.h"
#include "games/play_internal.h"
#include "identity/identity.h"
#include "../wallet/game_render.h"

/* ---- helpers ---- */

static void sql(const char *q) { assert_int_equal(pb_store_exec_raw(G.f->conn, q), PB_STORE_OK); }

/* A count read with SQL on a connection of its own (what is committed). */
static int64_t count(const char *q)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(G.f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The audit entries and events of erasures, committed. */
static int64_t erased_records(void)
{
    return count("SELECT count(*) FROM audit_entry WHERE action='player.erased'") +
           count("SELECT count(*) FROM event_outbox WHERE type='player.erased'");
}

/* Brand alpha keeps no records past the last activity: only the other preconditions. */
static void no_retention(void) { sql("UPDATE brand SET settings='{\"erase_after_days\":0}'"); }

/* Who erases (a compliance officer, as the admin route says it). */
static const pb_identity_erase_actor BY = {.kind = "staff",
                                           .id = "0190a4c2-0000-7000-8000-00000000c0c0",
                                           .role = "compliance",
                                           .reason = "GDPR request 9",
                                           .trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
                                           .ip = "203.0.113.9"};

/* Player i's erasure at now in a write transaction of its own (committed: a
 * refusal must have written nothing). */
static pb_err erase_at(int i, int64_t now, pb_player *out)
{
    pb_player ignored;
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    pb_err e = pb_identity_player_erase(G.f->conn, NULL, G.players[i], &BY, now,
                                        out ? out : &ignored, NULL);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    return e;
}

static pb_err erase(int i, pb_player *out) { return erase_at(i, pb_time_now_us(), out); }

/* Whether player i is still there as a person (not erased, active). */
static bool intact(int i)
{
    char q[256];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM player WHERE public_id='%s' AND erased_at=0 AND status='active'",
             G.players[i]);
    return count(q) == 1;
}

/* Pays out whatever player i holds (to the house, as a withdrawal would). */
static void pay_out(int i)
{
    int64_t cash = gp_cash(i);
    if (cash == 0)
        return;
    pb_wallet_accounts acc;
    assert_int_equal(pb_wallet_player_accounts(G.w, G.f->conn, "alpha", G.players[i], "EUR", &acc),
                     PB_OK);
    char key[32];
    snprintf(key, sizeof key, "out-%d", G.n++);
    pb_transfer t = fx_transfer(key, acc.cash, G.house, cash, PB_CODE_ADJUSTMENT);
    assert_int_equal(fx_submit1(G.f, &t), PB_OK);
    assert_int_equal(gp_cash(i), 0);
}

/* ---- in-house rounds ---- */

/* A player's in-house round that has not ended refuses the erasure. Its stake is
 * a posted transfer (the wallet's bet "<round>:bet" of provider "pitboss"), not a
 * hold: once the player staked everything the accounts are empty, and only the
 * open bet stands in the way. A mines game in play, then a round decided and its
 * win not paid ("settling"): each PLAYER_HAS_OPEN_BETS, nothing written; once
 * each ended (lost; paid by the next start), the player is erased. */
static void inhouse_rounds_refuse(void **state)
{
    (void)state;
    no_retention();
    /* a mines game in play with all the player's money */
    gp_fund(0, 1000);
    pb_store_game_round m = gp_mines_start(0, 3, 1000);
    assert_int_equal(gp_cash(0), 0);
    assert_int_equal(erase(0, NULL), PB_ERR_PLAYER_HAS_OPEN_BETS);
    assert_true(intact(0));
    /* lost on a mine: settled, paid 0 */
    bool is_mine[PB_MINES_TILES] = {false};
    gp_mines_of(m.id, is_mine);
    uint8_t mine = gp_a_mine(is_mine);
    pb_store_game_round o;
    memset(&o, 0, sizeof o);
    pb_play_error err;
    assert_int_equal(pb_play_mines_reveal(G.p, G.f->conn, &G.who[0], m.id, &mine, 1, &o, &err),
                     PB_OK);
    assert_string_equal(o.state, "settled");
    assert_int_equal(o.payout, 0);
    pb_store_game_round_clear(&o);
    pb_store_game_round_clear(&m);

    /* a dice round staked and decided, its win not paid yet (a stop before it) */
    gp_fund(0, 1000);
    pb_store_game_round d = gp_record_pending(0, DICE, 1000, "erase-settling");
    gp_stake(&d);
    assert_int_equal(pb_ledger_command(G.f->ledger, gp_decide_cmd, &d), PB_OK);
    assert_string_equal(d.state, "settling");
    assert_int_equal(gp_cash(0), 0);
    assert_int_equal(erase(0, NULL), PB_ERR_PLAYER_HAS_OPEN_BETS);
    assert_true(intact(0));
    /* the next start pays it (the payout decided, 0 or more) and it is settled */
    gp_reopen();
    pb_store_game_round s = gp_stored(d.id);
    assert_string_equal(s.state, "settled");
    assert_int_equal(gp_cash(0), s.payout);
    pb_store_game_round_clear(&s);
    pb_store_game_round_clear(&d);
    pay_out(0);
    pb_player out;
    assert_int_equal(erase(0, &out), PB_OK);
    assert_int_equal(out.status, PB_PLAYER_CLOSED);
    assert_false(intact(0));
}

/* ---- provider rounds ---- */

#define DAY (86400LL * 1000000LL)

/* An operation of provider "studio" for player i (game "starburst" on a bet). */
static pb_err provider_op(int i, pb_wallet_op_kind kind, const char *tx, const char *round,
                          const char *bet, int64_t amount, bool close)
{
    pb_wallet_op op;
    memset(&op, 0, sizeof op);
    op.kind = kind;
    snprintf(op.provider, sizeof op.provider, "studio");
    snprintf(op.tx_id, sizeof op.tx_id, "%s", tx);
    snprintf(op.round_id, sizeof op.round_id, "%s", round);
    snprintf(op.bet_tx_id, sizeof op.bet_tx_id, "%s", bet ? bet : "");
    snprintf(op.game, sizeof op.game, "%s", kind == PB_WALLET_BET ? "starburst" : "");
    snprintf(op.brand, sizeof op.brand, "alpha");
    snprintf(op.player, sizeof op.player, "%s", G.players[i]);
    snprintf(op.currency, sizeof op.currency, "EUR");
    op.amount = amount;
    op.close_round = close;
    op.render = game_render;
    pb_err e = pb_wallet_game_submit(G.w, G.f->conn, &op);
    pb_wallet_op_release(&op);
    return e;
}

/* A provider's round with a win it did not close is not settled: the provider may
 * send more wins on it. The erasure waits for its close, or for the round to be
 * idle PB_IDENTITY_ROUND_IDLE_DAYS (some providers never close rounds). */
static void provider_rounds_settle(void **state)
{
    (void)state;
    no_retention();
    /* player 0: all the money staked, a win of 0 that leaves the round open */
    gp_fund(0, 1000);
    assert_int_equal(provider_op(0, PB_WALLET_BET, "b0", "r0", NULL, 1000, false), PB_OK);
    assert_int_equal(gp_cash(0), 0);
    assert_int_equal(erase(0, NULL), PB_ERR_PLAYER_HAS_OPEN_BETS);
    assert_int_equal(provider_op(0, PB_WALLET_WIN, "w0", "r0", "b0", 0, false), PB_OK);
    int64_t t0 = pb_time_now_us();
    assert_int_equal(erase(0, NULL), PB_ERR_PLAYER_HAS_OPEN_BETS);
    assert_true(intact(0));
    /* a day short of the limit: still open */
    assert_int_equal(erase_at(0, t0 + (PB_IDENTITY_ROUND_IDLE_DAYS - 1) * DAY, NULL),
                     PB_ERR_PLAYER_HAS_OPEN_BETS);
    assert_true(intact(0));
    assert_int_equal(erased_records(), 0);

    /* player 1: the same, then the provider closes the round: settled, erased */
    gp_fund(1, 500);
    assert_int_equal(provider_op(1, PB_WALLET_BET, "b1", "r1", NULL, 500, false), PB_OK);
    assert_int_equal(provider_op(1, PB_WALLET_WIN, "w1", "r1", "b1", 0, false), PB_OK);
    assert_int_equal(erase(1, NULL), PB_ERR_PLAYER_HAS_OPEN_BETS);
    assert_int_equal(provider_op(1, PB_WALLET_ROUND_CLOSE, "c1", "r1", NULL, 0, false), PB_OK);
    assert_int_equal(erase(1, NULL), PB_OK);
    assert_false(intact(1));

    /* player 0's round, its newest operation older than the limit: abandoned, erased */
    assert_int_equal(erase_at(0, t0 + (PB_IDENTITY_ROUND_IDLE_DAYS + 1) * DAY, NULL), PB_OK);
    assert_false(intact(0));
}

/* A wallet operation of player i written directly (seq given): a bet (kind 1) or
 * a win (2) of provider "studio", accepted, created at `at`. */
static void op_row(int64_t seq, int i, int kind, const char *tx, const char *round, int64_t at)
{
    char q[768];
    snprintf(q, sizeof q,
             "INSERT INTO wallet_op(seq,provider,tx_id,kind,request_hash,brand,player,currency,"
             "round_id,amount,result,cash_part,bonus_part,cash_after,bonus_after,held_after,"
             "response_status,response,created_at) VALUES(%lld,'studio','%s',%d,x'00','alpha',"
             "'%s','EUR','%s',0,'OK',0,0,0,0,0,200,x'7b7d',%lld)",
             (long long)seq, tx, kind, G.players[i], round, (long long)at);
    sql(q);
}

/* The open-bet check reads the player's operations from the idle window on, not
 * the whole history: player 0 has 5,000 bets on rounds idle 60 days and, at seq 1,
 * a planted bet stamped now — a row real data cannot hold (operations are stamped
 * with the ledger's time, which never goes backwards along seq), there to tell
 * whether the history's rows are read: they are not, so it is not seen and the
 * erasure goes through. (Before, the check read every operation of the player and
 * refused: PLAYER_HAS_OPEN_BETS.) What the window holds is still found: a bet in
 * it, and an old bet whose round had a win in it. */
static void open_bets_read_the_window(void **state)
{
    (void)state;
    no_retention();
    int64_t now = pb_time_now_us(), old = now - 60 * DAY;
    op_row(1, 0, 1, "planted", "planted-r", now);
    char q[768];
    snprintf(q, sizeof q,
             "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i+1 FROM n WHERE i<5001) "
             "INSERT INTO wallet_op(seq,provider,tx_id,kind,request_hash,brand,player,currency,"
             "round_id,amount,result,cash_part,bonus_part,cash_after,bonus_after,held_after,"
             "response_status,response,created_at) SELECT i,'studio','h'||i,1,x'00','alpha','%s',"
             "'EUR','hr'||i,0,'OK',0,0,0,0,0,200,zeroblob(300),%lld+i FROM n",
             G.players[0], (long long)old);
    sql(q);
    op_row(5002, 0, 1, "old-b", "old-r", old + 5002); /* its last bet, 60 days ago */
    /* the window: player 1's play */
    op_row(6000, 1, 1, "p1-b", "p1-r", now - DAY);
    op_row(6001, 1, 2, "p1-w", "p1-r", now - DAY);
    /* a bet in the window: open */
    op_row(6003, 0, 1, "new-b", "new-r", now - DAY);
    assert_int_equal(erase(0, NULL), PB_ERR_PLAYER_HAS_OPEN_BETS);
    sql("INSERT INTO wallet_round(provider,round_id,player,has_win,closed,created_at,updated_at) "
        "SELECT 'studio','new-r',player,0,1,created_at,created_at FROM wallet_op WHERE seq=6003");
    /* an old bet (before the window) whose round had a win of 0 in it: open */
    op_row(6004, 0, 2, "old-w", "old-r", now - DAY);
    assert_int_equal(erase(0, NULL), PB_ERR_PLAYER_HAS_OPEN_BETS);
    assert_true(intact(0));
    sql("INSERT INTO wallet_round(provider,round_id,player,has_win,closed,created_at,updated_at) "
        "SELECT 'studio','old-r',player,1,1,created_at,created_at FROM wallet_op WHERE seq=6004");
    /* the rest is history: the planted row goes unread */
    assert_int_equal(erase(0, NULL), PB_OK);
    assert_false(intact(0));
}

/* ---- the erasure's record ---- */

/* A live launch of player i (dice) issued at now, for 4 h; its token into tok. */
static void launch(int i, int64_t now, char tok[PB_LAUNCH_TOKEN_LEN + 1])
{
    pb_launch l;
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_catalog_launch_create(G.f->conn, PB_PLAY_PROVIDER, "dice", "alpha",
                                              G.players[i], "EUR", 0, now, &l),
                     PB_OK);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    snprintf(tok, PB_LAUNCH_TOKEN_LEN + 1, "%s", l.token);
}

/* The launch's expiry as the store holds it now. */
static int64_t expiry(const char *tok)
{
    pb_launch l;
    assert_int_equal(pb_catalog_launch_resolve(G.f->conn, PB_PLAY_PROVIDER, tok, &l), PB_OK);
    return l.expires_at;
}

/* One text column of the one row q selects. */
static void text_of(const char *q, char *out, size_t cap)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(G.f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, cap, "%s", t ? (const char *)t : "(null)");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A direct call of the domain (no route): the erasure, the end of the player's live
 * launches, the audit entry and the event, in the caller's one transaction. */
static void erasure_records_itself(void **state)
{
    (void)state;
    no_retention();
    int64_t t0 = pb_time_now_us();
    char mine[2][PB_LAUNCH_TOKEN_LEN + 1], other[PB_LAUNCH_TOKEN_LEN + 1];
    launch(0, t0, mine[0]);
    launch(0, t0, mine[1]);
    launch(1, t0, other);
    int64_t live = expiry(mine[0]);
    assert_true(live > t0 + 3600LL * 1000000);

    /* bad input: no actor, no reason, a reason the audit log refuses: nothing written */
    pb_identity_erase_actor bad = BY;
    bad.reason = "";
    pb_player out;
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_identity_player_erase(G.f->conn, NULL, G.players[0], NULL, t0, &out, NULL),
                     PB_ERR_FIELD_MISSING);
    assert_int_equal(pb_identity_player_erase(G.f->conn, NULL, G.players[0], &bad, t0, &out, NULL),
                     PB_ERR_FIELD_MISSING);
    char long_reason[1002];
    memset(long_reason, 'x', 1001); /* the audit log takes 1..1000 bytes */
    long_reason[1001] = '\0';
    bad.reason = long_reason;
    assert_int_equal(pb_identity_player_erase(G.f->conn, NULL, G.players[0], &bad, t0, &out, NULL),
                     PB_ERR_FIELD_INVALID);
    assert_int_equal(pb_store_commit(G.f->conn), PB_STORE_OK);
    /* a refusal (money on the account) writes none of it either */
    gp_fund(0, 100);
    assert_int_equal(erase(0, NULL), PB_ERR_PLAYER_HAS_FUNDS);
    assert_true(intact(0));
    assert_int_equal(erased_records(), 0);
    assert_int_equal(expiry(mine[0]), live);
    pay_out(0);

    /* erased, then rolled back by the caller: the record goes with the erasure */
    int64_t now = pb_time_now_us();
    assert_int_equal(pb_store_begin(G.f->conn, PB_STORE_WRITE), PB_STORE_OK);
    assert_int_equal(pb_identity_player_erase(G.f->conn, NULL, G.players[0], &BY, now, &out, NULL),
                     PB_OK);
    pb_store_rollback(G.f->conn);
    assert_true(intact(0));
    assert_int_equal(erased_records(), 0);
    assert_int_equal(expiry(mine[0]), live);

    /* erased and committed: the launches ended, the entry and the event are there */
    char hq[320];
    snprintf(hq, sizeof hq,
             "INSERT INTO password_history (subject_kind,subject_id,password_hash,replaced_at) "
             "SELECT 'player',player_id,'$argon2id$old',1 FROM player_pii JOIN player "
             "ON player.id=player_pii.player_id WHERE player.public_id='%s'",
             G.players[0]);
    sql(hq);
    sql("INSERT INTO password_history (subject_kind,subject_id,password_hash,replaced_at) "
        "VALUES ('staff',1,'$argon2id$staff',1)");
    assert_int_equal(count("SELECT count(*) FROM password_history"), 2);
    now = pb_time_now_us();
    assert_int_equal(erase_at(0, now, &out), PB_OK);
    assert_int_equal(out.status, PB_PLAYER_CLOSED);
    assert_true(out.erased_at == now);
    assert_false(intact(0));
    assert_true(expiry(mine[0]) == now && expiry(mine[1]) == now);
    assert_int_equal(expiry(other), live); /* another player's launch lives on */
    char q[512], got[512], want[512], at[PB_TIME_STR_MAX];
    assert_true(pb_time_format(now, at, sizeof at) > 0);
    snprintf(q, sizeof q,
             "SELECT actor_kind||'|'||actor_id||'|'||role||'|'||brand||'|'||target_kind||'|'||"
             "target_id||'|'||reason||'|'||trace_id||'|'||ip||'|'||before||'|'||after||'|'||at "
             "FROM audit_entry WHERE action='player.erased'");
    text_of(q, got, sizeof got);
    snprintf(want, sizeof want,
             "staff|%s|compliance|alpha|player|%s|GDPR request 9|%s|203.0.113.9|"
             "{\"status\":\"active\"}|"
             "{\"erased_at\":\"%s\",\"live_launches_ended\":2,\"status\":\"closed\"}|%lld",
             BY.id, G.players[0], BY.trace_id, at, (long long)now);
    assert_string_equal(got, want);
    snprintf(q, sizeof q,
             "SELECT brand||'|'||subject||'|'||trace_id||'|'||json_extract(payload,'$.by')||'|'"
             "||created_at FROM event_outbox WHERE type='player.erased'");
    text_of(q, got, sizeof got);
    snprintf(want, sizeof want, "alpha|%s|%s|%s|%lld", G.players[0], BY.trace_id, BY.id,
             (long long)now);
    assert_string_equal(got, want);
    /* the player's password history went with the erasure (a staff row stays) */
    assert_int_equal(count("SELECT count(*) FROM password_history WHERE subject_kind='player'"), 0);
    assert_int_equal(count("SELECT count(*) FROM password_history"), 1);
    /* erased already: refused, no second record */
    assert_int_equal(erase(0, NULL), PB_ERR_PLAYER_ERASED);
    assert_int_equal(erased_records(), 2);
}

/* ---- deposit intents ---- */

/* A pending deposit intent of player i made at `at` (stored "pending"). */
static void deposit_intent(int i, const char *id, int64_t at)
{
    pb_store_payment p = {
        .brand_id = G.brand_id, .amount = 1000, .created_at = at, .updated_at = at};
    snprintf(p.id, sizeof p.id, "%s", id);
    snprintf(p.brand, sizeof p.brand, "alpha");
    snprintf(p.player, sizeof p.player, "%s", G.players[i]);
    snprintf(p.currency, sizeof p.currency, "EUR");
    snprintf(p.idempotency_key, sizeof p.idempotency_key, "dep-%s", id);
    snprintf(p.psp, sizeof p.psp, "sandbox");
    snprintf(p.psp_reference, sizeof p.psp_reference, "sbxp_%s", id);
    snprintf(p.status, sizeof p.status, "pending");
    assert_int_equal(pb_store_payment_insert(G.f->conn, &p), PB_STORE_OK);
}

/* A deposit intent pending and not expired refuses the erasure
 * (PLAYER_HAS_OPEN_PAYMENTS, nothing written); one pending past the brand's
 * deposit_expiry_minutes (default 24 h) — "expired" as the cashier reads it, the
 * row still "pending" for ever — does not: a late PSP success for the closed
 * player goes to the brand's unclaimed funds (the cashier's test). */
static void deposit_intents(void **state)
{
    (void)state;
    no_retention();
    pay_out(0);
    pay_out(1);
    const int64_t MIN = 60LL * 1000000, at = pb_time_now_us() - 60 * MIN;
    deposit_intent(0, "0190a4c2-0000-7000-8000-0000000d0001", at);
    assert_int_equal(erase_at(0, at + 60 * MIN, NULL), PB_ERR_PLAYER_HAS_OPEN_PAYMENTS);
    assert_int_equal(erase_at(0, at + 1440 * MIN - 1, NULL), PB_ERR_PLAYER_HAS_OPEN_PAYMENTS);
    assert_true(intact(0));
    assert_int_equal(erased_records(), 0);
    assert_int_equal(erase_at(0, at + 1440 * MIN, NULL), PB_OK); /* expired: erased */
    assert_false(intact(0));
    /* the brand's own expiry: 30 minutes; the newest intent is the one that counts */
    sql("UPDATE brand SET settings='{\"erase_after_days\":0,\"deposit_expiry_minutes\":30}'");
    deposit_intent(1, "0190a4c2-0000-7000-8000-0000000d0002", at - 60 * MIN);
    deposit_intent(1, "0190a4c2-0000-7000-8000-0000000d0003", at);
    assert_int_equal(erase_at(1, at + 30 * MIN - 1, NULL), PB_ERR_PLAYER_HAS_OPEN_PAYMENTS);
    assert_true(intact(1));
    assert_int_equal(erase_at(1, at + 30 * MIN, NULL), PB_OK);
    assert_false(intact(1));
    assert_int_equal(erased_records(), 4);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, gp_setup, gp_teardown)
    const struct CMUnitTest tests[] = {
        T(inhouse_rounds_refuse),  T(provider_rounds_settle), T(open_bets_read_the_window),
        T(erasure_records_itself), T(deposit_intents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
