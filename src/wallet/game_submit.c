/*
 * game_submit.c — the caller's side of game money (game.c has the ledger command
 * that decides): the request's shape, the accounts and the brand's funding policy
 * read on the caller's connection, the submission to the ledger writer and its
 * answer; and the owner lookups of a bet or round whose launch token is gone
 * (wallet.h, pb_wallet_owner_get and pb_wallet_round_owner_get).
 */
#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "core/str.h"
#include "core/log.h"
#include "core/money.h"
#include "identity/identity.h"
#include "wallet/wallet_internal.h"

/* ---- shape checks (caller's thread) ---- */

static bool text_ok(const char *s, size_t cap, bool required)
{
    size_t n = strnlen(s, cap);
    if (n == cap || (required && n == 0))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

static pb_err check_shape(const pb_wallet_op *op)
{
    if (op->kind < PB_WALLET_BET || op->kind > PB_WALLET_ROUND_CLOSE || !op->render)
        return PB_ERR_INVALID_REQUEST;
    if (pb_err_transient(op->refusal))
        return PB_ERR_INVALID_REQUEST; /* not a refusal: the adapter failed */
    if (!text_ok(op->provider, sizeof op->provider, true) ||
        !text_ok(op->tx_id, sizeof op->tx_id, true) ||
        !text_ok(op->round_id, sizeof op->round_id, true) ||
        !text_ok(op->game, sizeof op->game, op->kind == PB_WALLET_BET) ||
        !text_ok(op->brand, sizeof op->brand, true) ||
        !text_ok(op->player, sizeof op->player, true) ||
        !text_ok(op->request_currency, sizeof op->request_currency, false) ||
        !text_ok(op->bet_tx_id, sizeof op->bet_tx_id,
                 op->kind == PB_WALLET_WIN || op->kind == PB_WALLET_ROLLBACK) ||
        !text_ok(op->trace_id, sizeof op->trace_id, false))
        return PB_ERR_INVALID_REQUEST;
    if (!pb_currency_find(op->currency))
        return PB_ERR_CURRENCY_UNKNOWN;
    switch (op->kind) {
    /* a bet of 0 only as one the adapter refuses (Hub88's free bet of 0: its
     * refusal is stored like any other's, and moves nothing) */
    case PB_WALLET_BET:
        return op->amount > 0 || (op->amount == 0 && op->refusal != PB_OK) ? PB_OK
                                                                           : PB_ERR_AMOUNT_INVALID;
    case PB_WALLET_WIN: return op->amount >= 0 ? PB_OK : PB_ERR_AMOUNT_INVALID;
    default: return op->amount == 0 ? PB_OK : PB_ERR_AMOUNT_INVALID;
    }
}

/* ---- submission ---- */

static void finish(pb_wallet_op *op) { op->priv.done(op->priv.done_ctx, op); }

static void on_done(void *ctx, pb_err status)
{
    pb_wallet_op *op = ctx;
    if (status != PB_OK) {
        /* nothing of this operation happened: the batch was rolled back, or the
         * operation alone failed before it wrote anything (STORE_CORRUPT: an account
         * of its is damaged, game.c) */
        free(op->response.body);
        memset(&op->response, 0, sizeof op->response);
        op->duplicate = false;
        op->result = status == PB_ERR_STORE_UNAVAILABLE || status == PB_ERR_STORE_CORRUPT
                         ? status
                         : PB_ERR_INTERNAL;
        op->outcome.result = op->result;
    }
    finish(op);
}

/* Whether a bet looks like it will take money, as committed now: the player
 * may bet and their accounts can fund it. Only asked when the provider's
 * account does not exist yet (its first bet in this brand and currency). */
static bool bet_fundable(pb_store_conn *c, const pb_wallet_op *op)
{
    if (op->priv.acc.cash == 0 || op->priv.acc.bonus == 0)
        return false; /* nothing to stake (accounts come with the first deposit) */
    pb_ledger_account cash, bonus;
    int64_t cp, bp;
    return pb_ledger_account_get(c, op->priv.acc.cash, &cash) == PB_OK &&
           pb_ledger_account_get(c, op->priv.acc.bonus, &bonus) == PB_OK &&
           pb_wallet_split(op->priv.policy, op->amount, pb_ledger_available(&cash),
                           pb_ledger_available(&bonus), &cp, &bp) == PB_OK &&
           pb_wallet_gate(c, op->player, PB_WALLET_ACTION_BET) == PB_OK;
}

/* A win or rollback of a closed player's placed bet that would pay money back
 * (as committed now): the accounts it goes to instead (pay_back) are created
 * here, the unclaimed-funds account for a cash share, the house account for a
 * bonus share. Anything else creates nothing: the command decides (and finds a
 * missing account a transient failure, for the retry to create it). */
static pb_err prepare_closed(pb_wallet *w, pb_store_conn *c, pb_wallet_op *op)
{
    pb_player_status st;
    pb_err e = pb_identity_player_status(c, op->player, &st);
    if (e == PB_ERR_PLAYER_NOT_FOUND || (e == PB_OK && st != PB_PLAYER_CLOSED))
        return PB_OK;
    if (e != PB_OK)
        return e;
    if (op->refusal != PB_OK)
        return PB_OK;
    pb_store_wallet_bet bet;
    pb_store_rc rc = pb_store_wallet_bet_get(c, op->provider, op->bet_tx_id, &bet);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_OK;
    if (rc != PB_STORE_OK)
        return rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
    if (strcmp(bet.state, "placed") != 0 || strcmp(bet.player, op->player) != 0)
        return PB_OK;
    int64_t cash = bet.cash_part, bonus = bet.bonus_part;
    if (op->kind == PB_WALLET_WIN &&
        pb_wallet_split_payout(op->amount, bet.cash_part, bet.bonus_part, &cash, &bonus) != PB_OK)
        return PB_OK;
    if (cash > 0)
        e = pb_wallet_system_account(w, c, op->brand, PB_WALLET_OWNER_HOUSE,
                                     PB_WALLET_KIND_UNCLAIMED, op->currency,
                                     &op->priv.unclaimed_account);
    if (e == PB_OK && bonus > 0)
        e = pb_wallet_system_account(w, c, op->brand, PB_WALLET_OWNER_HOUSE, PB_WALLET_KIND_HOUSE,
                                     op->currency, &op->priv.house_account);
    return e;
}

/* Account ids, the provider's account and the brand's funding policy.
 *
 * A refused request changes nothing, so an operation creates no account of
 * its own: the player's are found, not created (a player without them has
 * nothing to stake, and a win or rollback pays only a placed bet, whose
 * player has them); the provider's is created by a bet that looks fundable
 * (bet_fundable), the first money it takes in this brand and currency. The
 * writer looks up again what is missing here (accounts_in_batch). */
static pb_err prepare(pb_wallet *w, pb_store_conn *c, pb_wallet_op *op)
{
    pb_err e = pb_wallet_player_accounts_find(w, c, op->brand, op->player, op->currency,
                                              &op->priv.acc);
    if (e != PB_OK)
        return e;
    char owner[sizeof PB_WALLET_OWNER_PROVIDER + PB_WALLET_PROVIDER_MAX];
    snprintf(owner, sizeof owner, PB_WALLET_OWNER_PROVIDER "%s", op->provider);
    e = pb_wallet_system_account_find(w, c, op->brand, owner, PB_WALLET_KIND_PROVIDER, op->currency,
                                      &op->priv.provider_account);
    if (e != PB_OK)
        return e;
    if (op->kind == PB_WALLET_WIN || op->kind == PB_WALLET_ROLLBACK)
        return prepare_closed(w, c, op);
    if (op->kind != PB_WALLET_BET)
        return PB_OK;
    if ((e = pb_wallet_policy_of(w, c, op->brand, &op->priv.policy)) != PB_OK)
        return e;
    if (op->priv.provider_account == 0 && op->refusal == PB_OK && bet_fundable(c, op))
        e = pb_wallet_system_account(w, c, op->brand, owner, PB_WALLET_KIND_PROVIDER, op->currency,
                                     &op->priv.provider_account);
    return e;
}

pb_err pb_wallet_game_submit_async(pb_wallet *w, pb_store_conn *c, pb_wallet_op *op,
                                   void (*done)(void *ctx, pb_wallet_op *op), void *ctx)
{
    memset(&op->priv, 0, sizeof op->priv);
    memset(&op->outcome, 0, sizeof op->outcome);
    memset(&op->response, 0, sizeof op->response);
    op->duplicate = false;
    op->priv.w = w;
    op->priv.done = done;
    op->priv.done_ctx = ctx;
    op->result = check_shape(op);
    if (op->result == PB_OK)
        pb_wallet_request_hash(op, op->priv.request_hash);
    if (op->result == PB_OK)
        op->result = prepare(w, c, op);
    if (op->result != PB_OK) {
        op->outcome.result = op->result;
        finish(op);
        return PB_OK;
    }
    return pb_ledger_command_async(pb_wallet_ledger(w), pb_wallet_game_command, op, on_done, op);
}

typedef struct sync_wait {
    sem_t done;
} sync_wait;

static void sync_done(void *ctx, pb_wallet_op *op)
{
    (void)op;
    sem_post(&((sync_wait *)ctx)->done);
}

pb_err pb_wallet_game_submit(pb_wallet *w, pb_store_conn *c, pb_wallet_op *op)
{
    sync_wait sw;
    sem_init(&sw.done, 0, 0);
    pb_err e = pb_wallet_game_submit_async(w, c, op, sync_done, &sw);
    if (e != PB_OK) {
        sem_destroy(&sw.done);
        op->result = e;
        return e;
    }
    while (sem_wait(&sw.done) != 0)
        ;
    sem_destroy(&sw.done);
    return op->result;
}

void pb_wallet_op_release(pb_wallet_op *op)
{
    free(op->response.body);
    memset(&op->response, 0, sizeof op->response);
}

void pb_wallet_op_set_token(pb_wallet_op *op, const char *token)
{
    op->has_token = token && token[0];
    memset(op->token_hash, 0, sizeof op->token_hash);
    if (op->has_token)
        pb_sha256(token, strlen(token), op->token_hash);
}

/* Whether token is one of the digests recorded for an owner (wallet.h,
 * pb_wallet_owner_get): true when none is recorded (rows before 0032). */
static bool token_recorded(const pb_store_wallet_owner *o, const char *token)
{
    if (o->n_tokens == 0)
        return true;
    if (!token || !token[0])
        return false;
    uint8_t h[32];
    pb_sha256(token, strlen(token), h);
    bool found = false;
    for (size_t i = 0; i < o->n_tokens; i++)
        found |= sodium_memcmp(h, o->tokens[i], sizeof h) == 0;
    return found;
}

/* A store result of the owner lookups → pb_err (logged when it is a failure). */
static pb_err owner_rc(pb_store_conn *c, pb_store_rc rc, const char *provider, const char *id)
{
    if (rc == PB_STORE_OK)
        return PB_OK;
    if (rc == PB_STORE_NOT_FOUND)
        return PB_ERR_BET_NOT_FOUND;
    if (rc == PB_STORE_BUSY)
        return PB_ERR_STORE_UNAVAILABLE;
    pb_log(PB_LOG_ERROR, "wallet.owner", "provider %s %s: %s", provider, id, pb_store_errmsg(c));
    return PB_ERR_INTERNAL;
}

static void owner_copy(pb_wallet_owner *out, const pb_store_wallet_owner *o)
{
    pb_strlcpy(out->brand, o->brand, sizeof out->brand);
    pb_strlcpy(out->player, o->player, sizeof out->player);
    pb_strlcpy(out->currency, o->currency, sizeof out->currency);
    pb_strlcpy(out->game, o->game, sizeof out->game);
}

pb_err pb_wallet_round_owner_get(pb_store_conn *c, const char *provider, const char *tx_id,
                                 const char *round_id, const char *token, pb_wallet_owner *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return PB_ERR_STORE_UNAVAILABLE;
    if (!provider || !tx_id || !round_id)
        return PB_ERR_ROUND_NOT_FOUND;
    pb_store_wallet_owner o[2];
    pb_err e = owner_rc(c, pb_store_wallet_owner_get(c, provider, tx_id, NULL, &o[0]), provider,
                        tx_id);
    bool retry = e == PB_OK; /* the close itself is stored: its retry */
    if (!retry && e != PB_ERR_BET_NOT_FOUND)
        return e;
    if (!retry) {
        size_t n = 0;
        pb_store_rc rc = pb_store_wallet_round_owners(c, provider, round_id, o, 2, &n);
        if ((e = owner_rc(c, rc, provider, round_id)) != PB_OK)
            return e == PB_ERR_BET_NOT_FOUND ? PB_ERR_ROUND_NOT_FOUND : e;
        if (n == 0)
            return PB_ERR_ROUND_NOT_FOUND;
        if (n > 1)
            return PB_ERR_ROUND_MISMATCH; /* several players' round: whose cannot be told */
    }
    /* the token: one recorded on the player's bets of the round (or on the close's
     * own row, for its retry); any when none records one (rows before 0032) */
    uint8_t h[32] = {0};
    if (token && token[0])
        pb_sha256(token, strlen(token), h);
    size_t recorded = 0;
    bool match = false;
    if ((e = owner_rc(c,
                      pb_store_wallet_round_tokens(c, provider, round_id, o[0].player, h, &recorded,
                                                   &match),
                      provider, round_id)) != PB_OK)
        return e == PB_ERR_BET_NOT_FOUND ? PB_ERR_INTERNAL : e;
    bool own_match = false;
    for (size_t i = 0; retry && i < o[0].n_tokens; i++)
        own_match |= sodium_memcmp(h, o[0].tokens[i], sizeof h) == 0;
    if (recorded + (retry ? o[0].n_tokens : 0) > 0 &&
        (!token || !token[0] || !(match || own_match)))
        return PB_ERR_TOKEN_INVALID;
    owner_copy(out, &o[0]);
    return PB_OK;
}

pb_err pb_wallet_owner_get(pb_store_conn *c, const char *provider, const char *tx_id,
                           const char *bet_tx_id, const char *token, pb_wallet_owner *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return PB_ERR_STORE_UNAVAILABLE;
    if (!provider || !tx_id)
        return PB_ERR_BET_NOT_FOUND;
    pb_store_wallet_owner o;
    pb_store_rc rc = pb_store_wallet_owner_get(c, provider, tx_id, bet_tx_id, &o);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_ERR_BET_NOT_FOUND;
    if (rc == PB_STORE_BUSY)
        return PB_ERR_STORE_UNAVAILABLE;
    if (rc != PB_STORE_OK) {
        pb_log(PB_LOG_ERROR, "wallet.owner", "provider %s tx %s: %s", provider, tx_id,
               pb_store_errmsg(c));
        return PB_ERR_INTERNAL;
    }
    if (!token_recorded(&o, token))
        return PB_ERR_TOKEN_INVALID;
    owner_copy(out, &o);
    return PB_OK;
}
