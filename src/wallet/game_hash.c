/*
 * game_hash.c — the hash of a game-money request (bet, win, rollback, round
 * close): what makes a provider's retry of a transaction id a duplicate (the
 * stored outcome, byte for byte) rather than a conflict. Used by the submission
 * (game_submit.c) and by the ledger command (game.c).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/sha256.h"
#include "wallet/wallet_internal.h"

/* ---- the request hash ---- */

/* SHA-256 over every field that defines the request, unit-separated:
 * "v1␟<kind>␟<amount>␟<close>" then "␟<field>" for each field below, with
 * `game` in the game's place. The bytes are laid out in one buffer (every
 * field is bounded by its array) and hashed in one call (core/sha256.h:
 * libcrypto, SHA-NI where the CPU has it); the digest is stored with the
 * operation, so the layout never changes.
 *
 * The currency hashed among the fields is the player's (op->currency, from
 * the launch), while the amount is in the currency the request named: a retry
 * of a transaction id in another currency with the same minor units hashed
 * the same and was answered as a duplicate. So the request's currency is a
 * ninth field, "␟<request currency>", but only when it differs from the
 * player's: a request in the player's currency (or naming none) hashes as
 * before, and a byte-identical retry of an operation an earlier version
 * stored still matches its row. The extra field cannot collide with the
 * eight-field layout: the fields hold no unit separator (check_shape), so the
 * count of separators tells the layouts apart.
 *
 * The game is the one the request named: a win of the native protocol names
 * none (op->game is ""; its rows take the bet's game, game_of). Earlier
 * versions hashed the launched game there, so the same win retried under
 * another launch (or none: pruned) was a conflict; such a stored row is
 * matched again by hashing the request with the row's own game
 * (pb_wallet_same_request). */
static void request_hash_with(const pb_wallet_op *op, const char *game, uint8_t out[32])
{
    char buf[64 + 9 * (1 + PB_WALLET_TXID_MAX + 1)];
    /* a rollback's close is no part of its identity: rollbacks were hashed with 0
     * before they could close (stored rows must still match their retries), and
     * Hub88's duplicate is another reference, amount, currency, round, user or game */
    bool close = op->close_round && op->kind != PB_WALLET_ROLLBACK;
    int n = snprintf(buf, 64, "v1\x1f%d\x1f%lld\x1f%d", (int)op->kind, (long long)op->amount,
                     close ? 1 : 0);
    size_t len = n > 0 && n < 64 ? (size_t)n : 0;
    const char *fields[] = {op->provider, op->tx_id,  op->round_id, op->bet_tx_id,       game,
                            op->brand,    op->player, op->currency, op->request_currency};
    size_t nfields = sizeof fields / sizeof fields[0];
    if (op->request_currency[0] == '\0' || strcmp(op->request_currency, op->currency) == 0)
        nfields--; /* the layout of earlier versions (above) */
    for (size_t i = 0; i < nfields; i++) {
        size_t k = strnlen(fields[i], PB_WALLET_TXID_MAX + 1); /* the longest field's cap */
        buf[len++] = '\x1f';
        memcpy(buf + len, fields[i], k);
        len += k;
    }
    pb_sha256(buf, len, out);
}

void pb_wallet_request_hash(const pb_wallet_op *op, uint8_t out[32])
{
    request_hash_with(op, op->game, out);
}

/* Whether the stored operation prev is this request: its hash, or, for a win
 * naming no game, the hash with the game prev was stored with (the launched
 * game an earlier version hashed; a row of this version stored the bet's game
 * and matches by the first comparison). */
bool pb_wallet_same_request(const pb_wallet_op *op, const pb_store_wallet_op *prev)
{
    if (sodium_memcmp(prev->request_hash, op->priv.request_hash, 32) == 0)
        return true;
    if (op->kind != PB_WALLET_WIN || prev->kind != PB_WALLET_WIN || op->game[0] != '\0' ||
        prev->game[0] == '\0')
        return false;
    uint8_t legacy[32];
    request_hash_with(op, prev->game, legacy);
    return sodium_memcmp(prev->request_hash, legacy, 32) == 0;
}
