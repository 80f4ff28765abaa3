/*
 * game.c — game money: the bet, win, rollback and round-close operations every
 * provider protocol drives (see wallet.h for the rules): the ledger command that
 * decides each operation. The request's hash, which tells a duplicate from a
 * conflict, is in game_hash.c. Their submission (shape checks,
 * accounts, the funding policy) and the owner lookups of a bet or round whose
 * launch is gone are in game_submit.c; a closed player's win or rollback is paid
 * as unclaimed funds by game_unclaimed.c.
 *
 * Flow: pb_wallet_game_submit_async() checks the request's shape, hashes it,
 * runs the player gate for bets and resolves the accounts and the brand's
 * funding policy on the caller's connection; then the operation runs as ONE
 * ledger command (ledger.h). Inside it, on the writer thread:
 *
 *   1. wallet_op by (provider, tx_id): the same hash → a duplicate: the stored
 *      outcome and response, byte for byte; another hash → IDEMPOTENCY_CONFLICT.
 *   2. the rules of the kind (bet / win / rollback / round close) read the bet
 *      and the player's round and decide. Rounds are per player: a provider
 *      may give every player at a live table the same round id, so a round is
 *      (provider, round id, player), and a bet, win or close on an id another
 *      player uses too is on the op's player's own round (a win or rollback
 *      naming another player's bet is ROUND_MISMATCH); a round has no
 *      wallet_round row until it is closed: its bets and wins are its
 *      operation rows (a win that leaves the round open writes none: the
 *      rollback's "the round had a win" reads the win's row,
 *      pb_store_wallet_round_has_win; earlier versions wrote a row per win).
 *      Money moves as a linked chain of ledger transfers (cash leg, bonus leg)
 *      in scope "game:<provider>", keyed "op:<ref>:c" / "op:<ref>:b" with ref
 *      a UUIDv7 the writer makes for the operation: time-ordered, so the
 *      ledger's key index takes them as appends (provider tx ids are random:
 *      keyed by them, every call cost the index a page of its own). A
 *      provider's transaction moves money once because wallet_op's (provider,
 *      tx_id) is unique and written in the same commit as the transfers.
 *      Transfers written by earlier versions keep the keys "<tx_id>:c" /
 *      "<tx_id>:b": nothing reads a game transfer's key back (the back office
 *      finds a transfer's game by its player's round, the reference);
 *   3. the adapter's render callback turns the outcome into its response, and a
 *      decided outcome is stored with it (wallet_op) — in the same commit as the
 *      transfers, the bet and the round.
 *
 * The done callback runs once the batch is durable. If the batch fails, nothing
 * of it happened: the op's result becomes the failure and its response is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/log.h"
#include "core/money.h"
#include "events/events.h"
#include "identity/identity.h"
#include "wallet/wallet_internal.h"

/* ---- inside the ledger command (writer thread) ---- */

/* Outcomes that are stored and replayed to duplicates (wallet.h): success and
 * every final refusal, the wallet's own and the adapter's (op->refusal) alike,
 * so a replayed request cannot get another answer later (a player unblocked, a
 * game or its provider switched back on). Not stored: what may resolve itself (BET_NOT_FOUND:
 * the bet may still arrive; ROUND_NOT_FOUND: a close before its round's first
 * bet: a round whose bets were all refused for good is closed, do_close;
 * ROUND_MISMATCH, PLAYER_NOT_FOUND), a conflict, and
 * the failures of ours (INTERNAL, STORE_UNAVAILABLE: nothing happened; they
 * never get here as a refusal, check_shape refuses them). */
static bool decided(pb_err e)
{
    switch (e) {
    case PB_OK:
    case PB_ERR_INSUFFICIENT_FUNDS:
    case PB_ERR_TRANSACTION_ROLLED_BACK:
    case PB_ERR_ROUND_HAS_WIN:
    case PB_ERR_ROUND_CLOSED:
    case PB_ERR_TRANSACTION_NOT_BET: /* a win or rollback naming the player's win: it stays one */
    case PB_ERR_BET_REFUSED:         /* a win naming the player's refused bet: its id stays taken */
    case PB_ERR_BET_LIMIT:
    /* the player gate's and the adapters' refusals */
    case PB_ERR_PLAYER_BLOCKED:
    case PB_ERR_PLAYER_SELF_EXCLUDED:
    case PB_ERR_TOKEN_EXPIRED:
    case PB_ERR_CURRENCY_MISMATCH:
    case PB_ERR_GAME_NOT_FOUND:
    case PB_ERR_GAME_DISABLED:
    case PB_ERR_GAME_MISMATCH:
    case PB_ERR_CURRENCY_NOT_ALLOWED: /* the catalog's: no limits in the currency */
    case PB_ERR_PROVIDER_DISABLED:
    case PB_ERR_FORBIDDEN: return true;
    default: return false;
    }
}

/* The ledger key of one leg of an operation: "op:<ref>:<leg>". */
static void leg_key(const pb_wallet_op *op, char leg, char *out, size_t cap)
{
    char ref[PB_ID_STR_LEN + 1];
    pb_id_to_string(&op->priv.leg_ref, ref);
    snprintf(out, cap, "op:%s:%c", ref, leg);
}

/* Fills a transfer leg of op: debit → credit, amount, code. */
static void leg(const pb_wallet_op *op, pb_transfer *t, char tag, int64_t debit, int64_t credit,
                int64_t amount, uint32_t code)
{
    memset(t, 0, sizeof *t);
    snprintf(t->scope, sizeof t->scope, PB_WALLET_SCOPE_GAME "%s", op->provider);
    leg_key(op, tag, t->key, sizeof t->key);
    t->debit_account_id = debit;
    t->credit_account_id = credit;
    t->amount = amount;
    pb_strlcpy(t->currency, op->currency, sizeof t->currency);
    t->code = code;
    snprintf(t->reference, sizeof t->reference, "%.*s", PB_LEDGER_REFERENCE_MAX, op->round_id);
    pb_strlcpy(t->trace_id, op->trace_id, sizeof t->trace_id);
}

/*
 * Moves (cash, bonus) between the payee's accounts and the provider's as one
 * linked chain: to_player = false takes a stake, true pays back. Zero legs are
 * left out; no legs at all is a success without transfers. *refusal receives
 * a business refusal of the ledger (INSUFFICIENT_FUNDS, ...); the return value
 * is INTERNAL only when the store failed.
 */
pb_err pb_wallet_move_to(pb_ledger_tx *tx, pb_wallet_op *op, const wallet_payee *to, bool to_player,
                         int64_t cash, int64_t bonus, uint32_t code, pb_err *refusal)
{
    pb_transfer t[2];
    size_t n = 0;
    int64_t prov = op->priv.provider_account;
    if (cash > 0) {
        leg(op, &t[n++], 'c', to_player ? prov : to->cash, to_player ? to->cash : prov, cash, code);
    }
    if (bonus > 0) {
        leg(op, &t[n++], 'b', to_player ? prov : to->bonus, to_player ? to->bonus : prov, bonus,
            to->forfeit_bonus ? PB_CODE_BONUS_FORFEIT : code);
    }
    *refusal = PB_OK;
    if (n == 0)
        return PB_OK;
    /* Accounts are created only for money about to move (prepare): a player
     * with a placed bet has both, and a bet's provider account is created when
     * the bet looked fundable; a closed player's unclaimed-funds and house
     * accounts when the player was closed then. One that is still missing here
     * is a race with that look (funds arrived meanwhile, the player erased
     * meanwhile): answered as a transient failure, nothing written, and the
     * retry creates it. */
    for (size_t i = 0; i < n; i++) {
        if (t[i].debit_account_id == 0 || t[i].credit_account_id == 0) {
            pb_log(PB_LOG_WARN, "wallet.account_missing",
                   "provider %s tx %s: an account of the transfer does not exist yet", op->provider,
                   op->tx_id);
            *refusal = PB_ERR_STORE_UNAVAILABLE;
            return PB_OK;
        }
    }
    if (n == 2)
        t[0].flags |= PB_TRANSFER_LINKED;
    pb_err e = pb_ledger_tx_submit(tx, t, n);
    if (e == PB_ERR_INTERNAL)
        return e;
    if (e == PB_OK) {
        for (size_t i = 0; i < n && *refusal == PB_OK; i++)
            if (t[i].result != PB_OK && t[i].result != PB_ERR_LINKED_EVENT_FAILED)
                *refusal = t[i].result;
        if (*refusal == PB_OK && t[0].result != PB_OK)
            *refusal = t[0].result;
    } else {
        *refusal = e;
    }
    if (*refusal == PB_OK) {
        op->outcome.transfer_id = t[0].record.id;
    } else if (*refusal != PB_ERR_INSUFFICIENT_FUNDS) {
        pb_log(PB_LOG_ERROR, "wallet.transfer_refused", "provider %s tx %s: ledger said %s",
               op->provider, op->tx_id, pb_err_code(*refusal));
    }
    return PB_OK;
}

/* pb_wallet_move_to with the player's own accounts. */
static pb_err move(pb_ledger_tx *tx, pb_wallet_op *op, bool to_player, int64_t cash, int64_t bonus,
                   uint32_t code, pb_err *refusal)
{
    const wallet_payee me = {.cash = op->priv.acc.cash, .bonus = op->priv.acc.bonus};
    return pb_wallet_move_to(tx, op, &me, to_player, cash, bonus, code, refusal);
}

/* The account `id` as of now in the batch; zeros when it does not exist (id 0). */
static pb_err account_now(pb_ledger_tx *tx, int64_t id, pb_ledger_account *a)
{
    memset(a, 0, sizeof *a);
    if (id == 0)
        return PB_OK;
    pb_err e = pb_ledger_tx_account(tx, id, a);
    /* a damaged account (STORE_CORRUPT) fails this operation only, not the batch */
    return e == PB_OK || e == PB_ERR_STORE_CORRUPT ? e : PB_ERR_INTERNAL;
}

/* Reads the player's balances as of now in the batch into the outcome (zeros
 * for accounts that do not exist). */
static pb_err read_balances(pb_ledger_tx *tx, pb_wallet_op *op)
{
    pb_ledger_account a;
    pb_err e = account_now(tx, op->priv.acc.cash, &a); /* INTERNAL or STORE_CORRUPT */
    if (e != PB_OK)
        return e;
    op->outcome.cash = a.credits_posted - a.debits_posted;
    op->outcome.held = a.debits_pending;
    if ((e = account_now(tx, op->priv.acc.bonus, &a)) != PB_OK)
        return e;
    op->outcome.bonus = a.credits_posted - a.debits_posted;
    return PB_OK;
}

/* The op's accounts prepare did not find, as the batch sees them. */
static pb_err accounts_in_batch(pb_ledger_tx *tx, pb_wallet_op *op)
{
    char owner[PB_LEDGER_OWNER_MAX + 1];
    if (op->priv.acc.cash == 0 || op->priv.acc.bonus == 0) {
        snprintf(owner, sizeof owner, PB_WALLET_OWNER_PLAYER "%s", op->player);
        if (pb_wallet_account_in_batch(tx, op, owner, PB_WALLET_KIND_CASH, &op->priv.acc.cash) !=
                PB_OK ||
            pb_wallet_account_in_batch(tx, op, owner, PB_WALLET_KIND_BONUS, &op->priv.acc.bonus) !=
                PB_OK)
            return PB_ERR_INTERNAL;
    }
    if (op->priv.provider_account == 0) {
        snprintf(owner, sizeof owner, PB_WALLET_OWNER_PROVIDER "%s", op->provider);
        if (pb_wallet_account_in_batch(tx, op, owner, PB_WALLET_KIND_PROVIDER,
                                       &op->priv.provider_account) != PB_OK)
            return PB_ERR_INTERNAL;
    }
    return PB_OK;
}

static bool is_ok(pb_store_rc rc) { return rc == PB_STORE_OK; }

/* The game of op's rows: the one the request named, else its bet's (a native
 * win names none; "" for a rollback or a round close). */
static const char *game_of(const pb_wallet_op *op)
{
    return op->game[0] ? op->game : op->priv.bet_game;
}

/* A round row for op's player's round, as of now, open and without a win. */
static void new_round(const pb_wallet_op *op, pb_store_wallet_round *round, int64_t now)
{
    memset(round, 0, sizeof *round);
    pb_strlcpy(round->provider, op->provider, sizeof round->provider);
    pb_strlcpy(round->round_id, op->round_id, sizeof round->round_id);
    pb_strlcpy(round->player, op->player, sizeof round->player);
    pb_strlcpy(round->game, game_of(op), sizeof round->game);
    round->created_at = round->updated_at = now;
}

/* Whether op's player is closed (erased), as the batch sees it: after an
 * erasure committed before this command, never before it. A player the store
 * does not know is not closed (paid as before: named_bet found their bet). */
static pb_err player_closed(pb_ledger_tx *tx, const pb_wallet_op *op, bool *closed)
{
    pb_player_status st = PB_PLAYER_ACTIVE;
    pb_err e = pb_identity_player_status(pb_ledger_tx_conn(tx), op->player, &st);
    if (e != PB_OK && e != PB_ERR_PLAYER_NOT_FOUND)
        return PB_ERR_INTERNAL;
    *closed = e == PB_OK && st == PB_PLAYER_CLOSED;
    return PB_OK;
}

/* Pays (cash, bonus) of a win or rollback back: to the player's accounts, or,
 * when the player is closed (decided here, in the command), as unclaimed funds
 * (pb_wallet_pay_unclaimed, game_unclaimed.c). Returns and refuses as move. */
static pb_err pay_back(pb_ledger_tx *tx, pb_wallet_op *op, int64_t cash, int64_t bonus,
                       uint32_t code, pb_err *refusal)
{
    bool closed = false;
    if (player_closed(tx, op, &closed) != PB_OK)
        return PB_ERR_INTERNAL;
    if (!closed)
        return move(tx, op, true, cash, bonus, code, refusal);
    return pb_wallet_pay_unclaimed(tx, op, cash, bonus, code, refusal);
}

static pb_err do_bet(pb_ledger_tx *tx, pb_wallet_op *op)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    /* the player gate, here in the writer: after the duplicate check (a duplicate
     * of an accepted bet gets its answer even if the player was blocked since),
     * and serialised with the block itself */
    pb_err g = pb_wallet_gate(c, op->player, PB_WALLET_ACTION_BET);
    if (pb_err_transient(g))
        return PB_ERR_INTERNAL;
    if (g != PB_OK) {
        op->result = g;
        return PB_OK;
    }
    /* pb_wallet_game_command found no operation row under this tx id: only wallet_bet's
     * own rows can hold it (a rollback's tombstone, the one that can precede a bet).
     * The player's own tombstone refuses the bet as rolled back (stored). Another
     * player's tombstone is not this bet's rollback: the id is taken by a record of
     * theirs (a provider's ids are unique per provider, so this is its bug or a
     * forged call), and the bet is IDEMPOTENCY_CONFLICT — refused, not claimed to
     * be rolled back, not stored under this player, nothing written; the tombstone
     * still refuses its own player's bet. The read is the one every bet makes. */
    pb_store_wallet_bet bet;
    pb_store_rc rc = pb_store_wallet_bet_record_get(c, op->provider, op->tx_id, &bet);
    if (rc == PB_STORE_OK) {
        op->result = strcmp(bet.state, "tombstone") == 0 && strcmp(bet.player, op->player) == 0
                         ? PB_ERR_TRANSACTION_ROLLED_BACK
                         : PB_ERR_IDEMPOTENCY_CONFLICT;
        return PB_OK;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    pb_store_wallet_round round; /* the player's own round of this id */
    rc = pb_store_wallet_round_get(c, op->provider, op->round_id, op->player, &round);
    bool fresh = rc == PB_STORE_NOT_FOUND;
    if (!fresh && !is_ok(rc))
        return PB_ERR_INTERNAL;
    if (!fresh && round.closed) {
        op->result = PB_ERR_ROUND_CLOSED;
        return PB_OK;
    }
    pb_ledger_account cash, bonus;                        /* zeros when missing: nothing to stake */
    pb_err e = account_now(tx, op->priv.acc.cash, &cash); /* INTERNAL or STORE_CORRUPT */
    if (e == PB_OK)
        e = account_now(tx, op->priv.acc.bonus, &bonus);
    if (e != PB_OK)
        return e;
    int64_t cp, bp;
    e = pb_wallet_split(op->priv.policy, op->amount, pb_ledger_available(&cash),
                        pb_ledger_available(&bonus), &cp, &bp);
    if (e != PB_OK) {
        op->result = e;
        return PB_OK;
    }
    pb_err refusal;
    if ((e = move(tx, op, false, cp, bp, PB_CODE_BET, &refusal)) != PB_OK)
        return e;
    if (refusal != PB_OK) {
        op->result = refusal;
        return PB_OK;
    }
    op->outcome.cash_part = cp; /* the placed bet is the operation row (store_op) */
    op->outcome.bonus_part = bp;
    if (op->close_round) { /* an open round needs no row of its own */
        if (fresh) {
            new_round(op, &round, now);
            if (!is_ok(pb_store_wallet_round_has_win(c, op->provider, op->round_id, op->player,
                                                     &round.has_win)))
                return PB_ERR_INTERNAL;
        }
        round.closed = true;
        round.updated_at = now;
        if (!is_ok(pb_store_wallet_round_put(c, &round)))
            return PB_ERR_INTERNAL;
    }
    op->result = PB_OK;
    return PB_OK;
}

/* The bet a win or rollback names, checked against the op's player and round
 * (ROUND_MISMATCH: another player's bet, or one of another round). *found =
 * false when there is none. PB_OK, a refusal in op->result, or INTERNAL. */
static pb_err named_bet(pb_ledger_tx *tx, pb_wallet_op *op, pb_store_wallet_bet *bet, bool *found)
{
    pb_store_rc rc = pb_store_wallet_bet_get(pb_ledger_tx_conn(tx), op->provider, op->bet_tx_id,
                                             bet);
    *found = rc == PB_STORE_OK;
    if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    if (*found &&
        (strcmp(bet->player, op->player) != 0 ||
         (strcmp(bet->state, "tombstone") != 0 && strcmp(bet->round_id, op->round_id) != 0)))
        op->result = PB_ERR_ROUND_MISMATCH;
    return PB_OK;
}

/* When named_bet found no placed bet (the rare path of a win or a rollback):
 * the stored operation of the named id, if any. Another player's operation
 * (a refused bet of theirs, or any other) → ROUND_MISMATCH, as their placed bet
 * is; the player's own operation that is not a bet (a win, a rollback, a
 * close) → TRANSACTION_NOT_BET. Otherwise (never seen, or a refused bet of the
 * player's) op->result stays PB_OK, and *refused_bet says which: a bet row
 * under that id is a refused one (bet_get sees every placed bet), stored
 * because its refusal was final, so the id can never become a placed bet.
 * PB_OK or INTERNAL. */
static pb_err named_operation(pb_ledger_tx *tx, pb_wallet_op *op, bool *refused_bet)
{
    *refused_bet = false;
    pb_store_wallet_op other;
    pb_store_rc rc = pb_store_wallet_op_get(pb_ledger_tx_conn(tx), op->provider, op->bet_tx_id,
                                            &other);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_OK;
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    free(other.response);
    if (strcmp(other.player, op->player) != 0)
        op->result = PB_ERR_ROUND_MISMATCH;
    else if (other.kind != (int)PB_WALLET_BET)
        op->result = PB_ERR_TRANSACTION_NOT_BET;
    else
        *refused_bet = true;
    return PB_OK;
}

static pb_err do_win(pb_ledger_tx *tx, pb_wallet_op *op)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    pb_store_wallet_bet bet;
    bool found;
    pb_err e = named_bet(tx, op, &bet, &found);
    if (e != PB_OK || op->result != PB_OK)
        return e;
    if (!found) {
        /* The rare path (the common one reads nothing more): an id that names
         * the player's own operation that is not a bet (a win, a rollback, a
         * close) can never become their bet: TRANSACTION_NOT_BET, stored
         * (decided), so the provider stops retrying it. Nor can the player's
         * own bet that was refused (INSUFFICIENT_FUNDS, BET_LIMIT, a game or
         * player refused, ...): its refusal is stored under its id, and every
         * retry of that bet gets it back. It took nothing, so the win pays
         * nothing: BET_REFUSED, stored (decided) for the same reason, whatever
         * round the win names (no round of that id holds the bet). Another
         * player's operation is ROUND_MISMATCH, as their placed bet is (not
         * stored). Only an id never seen is BET_NOT_FOUND: the bet may still
         * arrive. */
        bool refused_bet;
        if ((e = named_operation(tx, op, &refused_bet)) != PB_OK || op->result != PB_OK)
            return e;
        op->result = refused_bet ? PB_ERR_BET_REFUSED : PB_ERR_BET_NOT_FOUND;
        return PB_OK;
    }
    if (strcmp(bet.state, "placed") != 0) {
        op->result = PB_ERR_TRANSACTION_ROLLED_BACK;
        return PB_OK;
    }
    /* A win that names a game (Hub88's game_code) pays the bet of that game:
     * another one is GAME_MISMATCH, a final refusal like a bet's. No exception
     * for a live lobby's tables (the bet's own game_code names the table it was
     * placed at, and nothing documents a win naming another one). A native win
     * names none: it is the bet's. */
    if (op->game[0] != '\0' && bet.game[0] != '\0' && strcmp(op->game, bet.game) != 0) {
        op->result = PB_ERR_GAME_MISMATCH;
        return PB_OK;
    }
    /* the request named no game (hashed so): its rows take the bet's */
    pb_strlcpy(op->priv.bet_game, bet.game, sizeof op->priv.bet_game);
    pb_store_wallet_round round; /* the player's (named_bet: the bet's player and round) */
    pb_store_rc rc = pb_store_wallet_round_get(c, op->provider, op->round_id, op->player, &round);
    if (rc == PB_STORE_NOT_FOUND)
        new_round(op, &round, pb_ledger_tx_now(tx)); /* open: no row yet */
    else if (!is_ok(rc))
        return PB_ERR_INTERNAL;
    if (round.closed) {
        op->result = PB_ERR_ROUND_CLOSED;
        return PB_OK;
    }
    int64_t cash, bonus;
    if ((e = pb_wallet_split_payout(op->amount, bet.cash_part, bet.bonus_part, &cash, &bonus)) !=
        PB_OK) {
        op->result = e;
        return PB_OK;
    }
    pb_err refusal;
    if ((e = pay_back(tx, op, cash, bonus, PB_CODE_WIN, &refusal)) != PB_OK)
        return e;
    if (refusal != PB_OK) {
        op->result = refusal;
        return PB_OK;
    }
    op->outcome.cash_part = cash;
    op->outcome.bonus_part = bonus;
    /* The round is settled: a rollback is refused from now on. A win that leaves
     * the round open writes nothing more: its operation row (stored with it) is
     * what pb_store_wallet_round_has_win finds. One that closes it writes the
     * round's row, closed and with its win. */
    if (op->close_round) {
        round.has_win = true;
        round.closed = true;
        round.updated_at = pb_ledger_tx_now(tx);
        if (!is_ok(pb_store_wallet_round_put(c, &round)))
            return PB_ERR_INTERNAL;
    }
    op->result = PB_OK;
    return PB_OK;
}

/* An accepted rollback that asked to close its round (Hub88's round_closed):
 * closes the player's round op->round_id as a bet or win closing it does (its
 * row, with whether it had a win; the rollback's game when the round had none).
 * A round already closed is left as it is. PB_OK or INTERNAL. */
static pb_err rollback_closes(pb_ledger_tx *tx, pb_wallet_op *op)
{
    if (!op->close_round)
        return PB_OK;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    pb_store_wallet_round round;
    pb_store_rc rc = pb_store_wallet_round_get(c, op->provider, op->round_id, op->player, &round);
    if (rc == PB_STORE_NOT_FOUND) {
        new_round(op, &round, now);
        if (!is_ok(pb_store_wallet_round_has_win(c, op->provider, op->round_id, op->player,
                                                 &round.has_win)))
            return PB_ERR_INTERNAL;
    } else if (!is_ok(rc)) {
        return PB_ERR_INTERNAL;
    }
    if (round.closed)
        return PB_OK;
    round.closed = true;
    round.updated_at = now;
    return is_ok(pb_store_wallet_round_put(c, &round)) ? PB_OK : PB_ERR_INTERNAL;
}

static pb_err do_rollback(pb_ledger_tx *tx, pb_wallet_op *op)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    pb_store_wallet_bet bet;
    bool found;
    pb_err e = named_bet(tx, op, &bet, &found);
    if (e != PB_OK || op->result != PB_OK)
        return e;
    if (!found) {
        /* No placed bet of that id (a rare path: this read costs the common one
         * nothing). Its operation row may still be another player's: a bet of
         * theirs that was refused (bet_get sees placed bets only), or another
         * operation of theirs. That is answered as a rollback of another player's
         * placed bet is (ROUND_MISMATCH, not stored) and writes nothing: a
         * tombstone under this player would be a record of a bet that is not
         * theirs, on another player's transaction id. The player's own operation
         * that is not a bet (a win, a rollback, a round close) is
         * TRANSACTION_NOT_BET: nothing to roll back, nothing written. It is
         * stored (decided): that id names that operation for good, so no retry
         * can be answered otherwise, unlike BET_NOT_FOUND. A bet of theirs that
         * was refused took nothing: recorded below like a bet never seen (the
         * tombstone refuses nothing more: the bet's retry is answered by its
         * stored refusal before any rule runs). */
        bool refused_bet;
        if ((e = named_operation(tx, op, &refused_bet)) != PB_OK || op->result != PB_OK)
            return e;
        /* never seen: remember it, so that the bet is refused if it arrives later */
        memset(&bet, 0, sizeof bet);
        pb_strlcpy(bet.provider, op->provider, sizeof bet.provider);
        pb_strlcpy(bet.bet_tx_id, op->bet_tx_id, sizeof bet.bet_tx_id);
        pb_strlcpy(bet.player, op->player, sizeof bet.player);
        pb_strlcpy(bet.round_id, op->round_id, sizeof bet.round_id);
        snprintf(bet.state, sizeof bet.state, "tombstone");
        bet.created_at = bet.updated_at = now;
        if (!is_ok(pb_store_wallet_bet_insert(c, &bet)))
            return PB_ERR_INTERNAL;
        op->outcome.bet_unknown = true;
        op->result = PB_OK;
        return rollback_closes(tx, op);
    }
    if (strcmp(bet.state, "tombstone") == 0) {
        op->outcome.bet_unknown = true; /* another rollback of the same unseen bet */
        op->result = PB_OK;
        return rollback_closes(tx, op);
    }
    if (strcmp(bet.state, "rolled_back") == 0) {
        op->result = PB_ERR_TRANSACTION_ROLLED_BACK;
        return PB_OK;
    }
    /* A rollback that names a game (Hub88's game_code) refunds the bet of that
     * game, as a win pays only it: another one is GAME_MISMATCH, a final refusal
     * (stored), nothing moves. A native rollback names none. */
    if (op->game[0] != '\0' && bet.game[0] != '\0' && strcmp(op->game, bet.game) != 0) {
        op->result = PB_ERR_GAME_MISMATCH;
        return PB_OK;
    }
    bool had_win = false; /* the bet's round, of the bet's player (named_bet: op's) */
    if (!is_ok(pb_store_wallet_round_has_win(c, op->provider, bet.round_id, bet.player, &had_win)))
        return PB_ERR_INTERNAL;
    if (had_win) {
        op->result = PB_ERR_ROUND_HAS_WIN;
        return PB_OK;
    }
    pb_err refusal;
    if ((e = pay_back(tx, op, bet.cash_part, bet.bonus_part, PB_CODE_ROLLBACK, &refusal)) != PB_OK)
        return e;
    if (refusal != PB_OK) {
        op->result = refusal;
        return PB_OK;
    }
    op->outcome.cash_part = bet.cash_part;
    op->outcome.bonus_part = bet.bonus_part;
    if (!is_ok(pb_store_wallet_bet_set_state(c, op->provider, op->bet_tx_id, "rolled_back", now)))
        return PB_ERR_INTERNAL;
    op->result = PB_OK;
    return rollback_closes(tx, op);
}

static pb_err do_close(pb_ledger_tx *tx, pb_wallet_op *op)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    pb_store_wallet_round round; /* the player's own round of this id */
    pb_store_rc rc = pb_store_wallet_round_get(c, op->provider, op->round_id, op->player, &round);
    if (rc == PB_STORE_NOT_FOUND) {
        /* No row: an open round (bets, maybe wins), or none of this player's. A
         * close of a round the player never played closes nothing:
         * ROUND_NOT_FOUND, not stored (a bet still in flight may arrive: the
         * retry then closes it), nothing written. A closed row under this player
         * would refuse their later bets on that id, and a token could close round
         * ids it never played. A round the player played without an accepted
         * bet is theirs all the same: every bet of theirs on it was refused for
         * good (its refusal stored: INSUFFICIENT_FUNDS, the player blocked, ...)
         * or rolled back before it arrived (the rollback's tombstone). Nothing
         * more is coming that could make the answer change, so ROUND_NOT_FOUND
         * would be retried by the provider for ever: the close closes it
         * (no money moves; later bets on it are ROUND_CLOSED) and is stored. The
         * second read is on this rare path only: the close of a round with an
         * accepted bet, the common one, reads as before. */
        bool has = false;
        if (!is_ok(pb_store_wallet_round_has_bets(c, op->provider, op->round_id, op->player, &has)))
            return PB_ERR_INTERNAL;
        if (!has &&
            !is_ok(pb_store_wallet_round_played(c, op->provider, op->round_id, op->player, &has)))
            return PB_ERR_INTERNAL;
        if (!has) {
            op->result = PB_ERR_ROUND_NOT_FOUND;
            return PB_OK;
        }
        new_round(op, &round, now);
        if (!is_ok(pb_store_wallet_round_has_win(c, op->provider, op->round_id, op->player,
                                                 &round.has_win)))
            return PB_ERR_INTERNAL;
    } else if (!is_ok(rc)) {
        return PB_ERR_INTERNAL;
    }
    round.closed = true;
    round.updated_at = now;
    if (!is_ok(pb_store_wallet_round_put(c, &round)))
        return PB_ERR_INTERNAL;
    op->result = PB_OK;
    return PB_OK;
}

/* The stored operation → op's outcome (for a duplicate). */
static void outcome_from_row(pb_wallet_op *op, const pb_store_wallet_op *r)
{
    pb_err e = strcmp(r->result, "OK") == 0 ? PB_OK : pb_err_from_code(r->result);
    op->result = e == PB_ERR_COUNT_ ? PB_ERR_INTERNAL : e;
    op->outcome.result = op->result;
    op->outcome.cash = r->cash_after;
    op->outcome.bonus = r->bonus_after;
    op->outcome.held = r->held_after;
    op->outcome.cash_part = r->cash_part;
    op->outcome.bonus_part = r->bonus_part;
    op->outcome.bet_unknown = r->bet_unknown;
    if (r->has_transfer)
        op->outcome.transfer_id = r->transfer_id;
    op->outcome.created_at = r->created_at;
}

static pb_err store_op(pb_ledger_tx *tx, pb_wallet_op *op)
{
    pb_store_wallet_op r;
    memset(&r, 0, sizeof r);
    pb_strlcpy(r.provider, op->provider, sizeof r.provider);
    pb_strlcpy(r.tx_id, op->tx_id, sizeof r.tx_id);
    r.kind = (int)op->kind;
    memcpy(r.request_hash, op->priv.request_hash, 32);
    pb_strlcpy(r.brand, op->brand, sizeof r.brand);
    pb_strlcpy(r.player, op->player, sizeof r.player);
    pb_strlcpy(r.currency, op->currency, sizeof r.currency);
    pb_strlcpy(r.round_id, op->round_id, sizeof r.round_id);
    pb_strlcpy(r.bet_tx_id, op->bet_tx_id, sizeof r.bet_tx_id);
    pb_strlcpy(r.game, game_of(op), sizeof r.game);
    r.amount = op->amount;
    pb_strlcpy(r.result, op->result == PB_OK ? "OK" : pb_err_code(op->result), sizeof r.result);
    r.cash_part = op->outcome.cash_part;
    r.bonus_part = op->outcome.bonus_part;
    r.cash_after = op->outcome.cash;
    r.bonus_after = op->outcome.bonus;
    r.held_after = op->outcome.held;
    r.bet_unknown = op->outcome.bet_unknown;
    static const pb_id zero;
    r.has_transfer = memcmp(&op->outcome.transfer_id, &zero, sizeof zero) != 0;
    r.transfer_id = op->outcome.transfer_id;
    r.response_status = op->response.status;
    r.response = op->response.body;
    r.response_len = op->response.body_len;
    r.created_at = op->outcome.created_at;
    r.has_token = op->has_token;
    memcpy(r.token_hash, op->token_hash, sizeof r.token_hash);
    return is_ok(pb_store_wallet_op_insert(pb_ledger_tx_conn(tx), &r)) ? PB_OK : PB_ERR_INTERNAL;
}

pb_err pb_wallet_game_command(pb_ledger_tx *tx, void *ctx)
{
    pb_wallet_op *op = ctx;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    memset(&op->outcome, 0, sizeof op->outcome);
    op->outcome.created_at = pb_ledger_tx_now(tx);
    op->result = PB_OK;
    op->duplicate = false;

    if (accounts_in_batch(tx, op) != PB_OK)
        return PB_ERR_INTERNAL;
    pb_store_wallet_op prev;
    pb_store_rc rc = pb_store_wallet_op_get(c, op->provider, op->tx_id, &prev);
    if (rc == PB_STORE_OK) {
        if (pb_wallet_same_request(op, &prev)) {
            op->duplicate = true;
            outcome_from_row(op, &prev);
            op->response.status = prev.response_status;
            op->response.body = prev.response;
            op->response.body_len = prev.response_len;
            return PB_OK;
        }
        free(prev.response);
        op->result = PB_ERR_IDEMPOTENCY_CONFLICT;
        op->outcome.result = op->result;
        return read_balances(tx, op);
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    pb_id_new(&op->priv.leg_ref); /* on the writer thread: each one above the last */

    pb_err e = PB_OK;
    switch (op->refusal != PB_OK ? 0 : (int)op->kind) {
    case 0:
        op->result = op->refusal; /* the adapter's, now that this is no duplicate */
        break;
    case PB_WALLET_BET: e = do_bet(tx, op); break;
    case PB_WALLET_WIN: e = do_win(tx, op); break;
    case PB_WALLET_ROLLBACK: e = do_rollback(tx, op); break;
    default: e = do_close(tx, op); break;
    }
    /* a damaged account (STORE_CORRUPT, ledger.h) fails this operation only: do_bet
     * reads the balances before it writes anything; any other failure rolls the
     * batch back */
    if (e != PB_OK)
        return e == PB_ERR_STORE_CORRUPT && op->kind == PB_WALLET_BET ? e : PB_ERR_INTERNAL;
    if (op->result != PB_OK) {
        op->outcome.cash_part = op->outcome.bonus_part = 0;
        memset(&op->outcome.transfer_id, 0, sizeof op->outcome.transfer_id);
    }
    op->outcome.result = op->result;
    if (read_balances(tx, op) != PB_OK) /* after the money moved: all or nothing */
        return PB_ERR_INTERNAL;
    if (!decided(op->result))
        return PB_OK; /* decided again on a retry: nothing stored, the adapter renders it */
    if (op->render(op->render_ctx, op, &op->outcome, &op->response) != 0 || !op->response.body)
        return PB_ERR_INTERNAL;
    /* @events: an accepted bet or win (the round's settlement), in this command's
     * transaction, so the event commits with the money */
    if (op->result == PB_OK && (op->kind == PB_WALLET_BET || op->kind == PB_WALLET_WIN) &&
        pb_events_emit(c, op->kind == PB_WALLET_BET ? "bet.placed" : "round.settled", op->brand,
                       op->player, op->trace_id, pb_ledger_tx_now(tx),
                       PB_EV_STR("provider", op->provider), PB_EV_STR("game", game_of(op)),
                       PB_EV_STR("round_id", op->round_id), PB_EV_STR("tx_id", op->tx_id),
                       PB_EV_MONEY("amount", op->amount, op->currency)) != PB_OK)
        return PB_ERR_INTERNAL;
    /* @backoffice: an accepted rollback that gave a stake back (not one of a bet
     * never seen); amount = the stake returned (cash + bonus) */
    if (op->result == PB_OK && op->kind == PB_WALLET_ROLLBACK && !op->outcome.bet_unknown &&
        pb_events_emit(c, "bet.rolled_back", op->brand, op->player, op->trace_id,
                       pb_ledger_tx_now(tx), PB_EV_STR("provider", op->provider),
                       PB_EV_STR("round_id", op->round_id), PB_EV_STR("tx_id", op->tx_id),
                       PB_EV_STR("bet_tx_id", op->bet_tx_id),
                       PB_EV_MONEY("amount", op->outcome.cash_part + op->outcome.bonus_part,
                                   op->currency)) != PB_OK)
        return PB_ERR_INTERNAL;
    return store_op(tx, op);
}
