/*
 * game_unclaimed.c — game money of a closed (erased) player (wallet.h, "Closed
 * players"): a win or rollback that pays such a player back, decided inside the
 * ledger command (game.c's pay_back, which reads whether the player is closed),
 * moves the cash to the brand's unclaimed funds and forfeits the bonus to its
 * house account, and records it (audit entry and event "funds.unclaimed"). A
 * rare path: the common one, paying the player's own accounts, is in game.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "audit/audit.h"
#include "events/events.h"
#include "wallet/wallet_internal.h"

/* The record of a closed player's money paid elsewhere: the audit entry
 * "funds.unclaimed" (the system actor "provider:<code>", as the in-house games'
 * void is audited; target the player) and the event "funds.unclaimed", naming
 * the provider, the round, the operation, the amounts and the accounts. In the
 * command's transaction: they commit with the money, once (a duplicate is
 * answered before it gets here). */
static pb_err unclaimed_record(pb_ledger_tx *tx, const pb_wallet_op *op, const wallet_payee *to,
                               int64_t cash, int64_t bonus)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    const char *kind = op->kind == PB_WALLET_WIN ? "win" : "rollback";
    char tid[PB_ID_STR_LEN + 1], actor[sizeof "provider:" + PB_WALLET_PROVIDER_MAX];
    pb_id_to_string(&op->outcome.transfer_id, tid);
    snprintf(actor, sizeof actor, "provider:%s", op->provider);
    json_t *after = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:s,s:I,s:I,s:o,s:s}", "kind",
                              kind, "provider", op->provider, "round_id", op->round_id, "tx_id",
                              op->tx_id, "bet_tx_id", op->bet_tx_id, "player", op->player, "amount",
                              (json_int_t)(cash + bonus), "currency", op->currency, "cash",
                              (json_int_t)cash, "account", PB_WALLET_KIND_UNCLAIMED, "account_id",
                              (json_int_t)(cash > 0 ? to->cash : 0), "bonus_forfeited",
                              (json_int_t)bonus, "bonus_account_id",
                              bonus > 0 ? json_integer(to->bonus) : json_null(), "transfer_id",
                              tid);
    char *text = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(after);
    if (!text)
        return PB_ERR_INTERNAL;
    pb_audit_entry en = {.actor_kind = "system",
                         .actor_id = actor,
                         .brand = op->brand,
                         .action = "funds.unclaimed",
                         .target_kind = "player",
                         .target_id = op->player,
                         .after = text,
                         .reason = op->kind == PB_WALLET_WIN
                                       ? "a win for a closed (erased) player: its cash share is "
                                         "held as unclaimed funds, its bonus share forfeited"
                                       : "a refund for a closed (erased) player: its cash share "
                                         "is held as unclaimed funds, its bonus share forfeited",
                         .trace_id = op->trace_id[0] ? op->trace_id : NULL};
    if (en.trace_id && pb_audit_validate(&en, NULL) != PB_OK)
        en.trace_id = NULL; /* a provider's trace id the audit log does not take: not a reason
                               to refuse money that is owed */
    pb_err e = pb_audit_append(c, &en, now);
    free(text);
    if (e == PB_OK)
        e = pb_events_emit(c, "funds.unclaimed", op->brand, op->player, op->trace_id, now,
                           PB_EV_STR("kind", kind), PB_EV_STR("provider", op->provider),
                           PB_EV_STR("round_id", op->round_id), PB_EV_STR("tx_id", op->tx_id),
                           PB_EV_STR("bet_tx_id", op->bet_tx_id),
                           PB_EV_MONEY("amount", cash + bonus, op->currency),
                           PB_EV_MONEY("cash", cash, op->currency),
                           PB_EV_STR("account", PB_WALLET_KIND_UNCLAIMED),
                           PB_EV_INT("account_id", cash > 0 ? to->cash : 0),
                           PB_EV_MONEY("bonus_forfeited", bonus, op->currency),
                           PB_EV_INT("bonus_account_id", bonus > 0 ? to->bonus : 0));
    if (e != PB_OK) {
        pb_log(PB_LOG_ERROR, "wallet.unclaimed_record", "provider %s tx %s: %s", op->provider,
               op->tx_id, pb_err_code(e));
        return PB_ERR_INTERNAL;
    }
    pb_log(PB_LOG_WARN, "wallet.unclaimed",
           "provider %s tx %s: %s of %lld (cash %lld, bonus %lld) for closed player %s held as "
           "unclaimed funds",
           op->provider, op->tx_id, kind, (long long)(cash + bonus), (long long)cash,
           (long long)bonus, op->player);
    return PB_OK;
}

/* The closed player's side of pay_back (game.c): the cash of a win or rollback
 * to the brand's unclaimed funds, the bonus to its house account (forfeited),
 * with the record. Returns and refuses as pb_wallet_move_to. */
pb_err pb_wallet_pay_unclaimed(pb_ledger_tx *tx, pb_wallet_op *op, int64_t cash, int64_t bonus,
                               uint32_t code, pb_err *refusal)
{
    if (pb_wallet_account_in_batch(tx, op, PB_WALLET_OWNER_HOUSE, PB_WALLET_KIND_UNCLAIMED,
                                   &op->priv.unclaimed_account) != PB_OK ||
        pb_wallet_account_in_batch(tx, op, PB_WALLET_OWNER_HOUSE, PB_WALLET_KIND_HOUSE,
                                   &op->priv.house_account) != PB_OK)
        return PB_ERR_INTERNAL;
    const wallet_payee to = {.cash = op->priv.unclaimed_account,
                             .bonus = op->priv.house_account,
                             .forfeit_bonus = true};
    pb_err e = pb_wallet_move_to(tx, op, &to, true, cash, bonus, code, refusal);
    if (e != PB_OK || *refusal != PB_OK || cash + bonus == 0)
        return e;
    return unclaimed_record(tx, op, &to, cash, bonus);
}
