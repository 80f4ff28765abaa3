/*
 * play_staff.c — staff remedies for a player's in-house round (src/api/games_admin.c):
 *
 *   pb_play_round_void    a round in play ends void, its stake given back; also
 *                         a round stuck "settling" whose win the wallet refused
 *                         for good (play.h, "Stuck settling")
 *   pb_play_round_settle  a "settling" round's payout retried now, through the
 *                         driver the sweeper uses, the wallet's answer reported
 *
 * A round stays "settling" only while its win "<round>:win" is not paid: the
 * wallet or the store unavailable (transient: the sweeper retries it every
 * retry_ms, doubling up to 60 s, until it is paid), or the wallet refusing the
 * win. A refusal of the wallet is final and stored under that transaction id
 * (src/wallet/game.c, decided()): every retry is answered the same refusal as
 * a duplicate, so the sweeper does not retry it (play_retry_unfinished: it
 * counts it in pitboss_games_rounds_stuck and logs games.round_stuck once). A native win of an
 * in-house bet can be refused only when something else acted on its wallet
 * round under the in-house provider's name before the win: its bet rolled back
 * (TRANSACTION_ROLLED_BACK) or its round closed (ROUND_CLOSED) — the in-house
 * provider "pitboss" is a native provider in the catalog, so whoever holds its
 * secret (staff with games.manage can set one) can send those calls. Such a
 * win can never be paid; the remedy is the void: the stake goes back through
 * the wallet's rollback "<round>:void" (or is back already, when the bet was
 * rolled back), the wallet round is closed, the round is "void" ("malfunction
 * voids all pays and plays", README), every money movement a wallet operation
 * (a ledger transfer), the staff's decision audited with its reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/log.h"
#include "games/play_internal.h"
#include "store/store_wallet.h"

/* staff void: active → voiding (PB_PLAY_VOID_STAFF) with the staff's audit
 * entry in the same transaction (pb_play_round_void); settling → voiding too
 * when the wallet refused the round's win for good (play_win_refused) */
typedef struct staff_void_ctx {
    const pb_audit_entry *who;
} staff_void_ctx;

static pb_err staff_void_step(pb_ledger_tx *tx, pb_store_game_round *row, void *ctx, pb_err *result)
{
    staff_void_ctx *x = ctx;
    if (strcmp(row->state, PLAY_SETTLED) == 0 || strcmp(row->state, PLAY_VOID) == 0) {
        *result = PB_ERR_ROUND_CLOSED;
        return PB_OK;
    }
    if (strcmp(row->state, PLAY_VOIDING) == 0)
        return PB_OK; /* void already decided: the driver goes on */
    char was[sizeof row->state], refused[PB_STORE_WALLET_RESULT_MAX + 1] = "";
    snprintf(was, sizeof was, "%s", row->state);
    if (strcmp(was, PLAY_SETTLING) == 0) {
        pb_err w = play_win_refused(pb_ledger_tx_conn(tx), row->id, refused, sizeof refused);
        if (w != PB_OK)
            return w;
        if (!refused[0]) {
            *result = PB_ERR_ROUND_STATE; /* its win is owed and may still be paid */
            return PB_OK;
        }
    } else if (strcmp(was, PLAY_ACTIVE) != 0) {
        *result = PB_ERR_ROUND_STATE; /* pending: its own driver ends it */
        return PB_OK;
    }
    int64_t now = pb_ledger_tx_now(tx);
    snprintf(row->state, sizeof row->state, PLAY_VOIDING);
    snprintf(row->void_reason, sizeof row->void_reason, PB_PLAY_VOID_STAFF);
    row->updated_at = now;
    row->has_payout = false; /* a refused win was never paid: void pays none */
    row->payout = 0;
    /* nor does a cash-out it made (a crash bet cashed out, its round not yet
     * crashed): the multiplier goes with it, so the history and the staff views
     * show no payout that did not happen; the audit's before keeps it */
    int64_t cashed = row->has_multiplier ? row->multiplier : -1;
    row->has_multiplier = false;
    row->multiplier = 0;
    if (pb_store_game_round_update(pb_ledger_tx_conn(tx), row, was) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    char txv[PB_ID_STR_LEN + 8], txc[PB_ID_STR_LEN + 8];
    snprintf(txv, sizeof txv, "%s:void", row->id);
    snprintf(txc, sizeof txc, "%s:close", row->id);
    json_t *after = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "state", PLAY_VOIDING,
                              "void_reason", PB_PLAY_VOID_STAFF, "game", row->game, "crash_round",
                              row->crash_round, "player", row->player, "amount",
                              (json_int_t)row->amount, "currency", row->currency, "wallet_rollback",
                              txv, "wallet_close", txc);
    if (after && refused[0])
        json_object_set_new(after, "win_refused", json_string(refused));
    char *after_text = play_json_text(after);
    char before[96];
    if (cashed >= 0)
        snprintf(before, sizeof before, "{\"state\":\"%s\",\"multiplier\":%lld}", was,
                 (long long)cashed);
    else
        snprintf(before, sizeof before, "{\"state\":\"%s\"}", was);
    pb_audit_entry en = *x->who;
    en.brand = row->brand;
    en.action = PB_PLAY_AUDIT_VOID;
    en.target_kind = "game_round";
    en.target_id = row->id;
    en.before = before;
    en.after = after_text;
    pb_err e = after_text ? pb_audit_append(pb_ledger_tx_conn(tx), &en, now) : PB_ERR_INTERNAL;
    free(after_text);
    return e; /* an entry refused (a bad reason) undoes the move */
}

pb_err pb_play_round_void(pb_play *p, pb_store_conn *c, const char *player, const char *round_id,
                          const pb_audit_entry *who, pb_store_game_round *out)
{
    staff_void_ctx x = {.who = who};
    pb_err e = play_step(p, round_id ? round_id : "", player, staff_void_step, &x, out);
    if (e != PB_OK)
        return e == PB_ERR_INTERNAL || pb_err_transient(e) || e == PB_ERR_ROUND_NOT_FOUND ||
                       e == PB_ERR_ROUND_CLOSED || e == PB_ERR_ROUND_STATE ||
                       e == PB_ERR_FIELD_INVALID
                   ? e
                   : PB_ERR_INTERNAL;
    pb_log(PB_LOG_WARN, "games.staff_void", "round %s (%s) of %s: void by %s %s", out->id,
           out->game, out->player, who->actor_kind ? who->actor_kind : "-",
           who->actor_id ? who->actor_id : "-");
    /* the void path every void takes; a wallet failure leaves it voiding for
     * the retry pass (the decision stands: *out says where it is) */
    pb_err refused = PB_OK;
    pb_err d = play_drive_refused(p, c, out, who->trace_id, &refused);
    if (d != PB_OK && refused != PB_OK)
        pb_log(PB_LOG_ERROR, "games.staff_void_refused",
               "round %s: left voiding, the wallet refused it (%s): when that refusal is final "
               "no retry finishes it (games.round_stuck)",
               out->id, pb_err_code(refused));
    else if (d != PB_OK)
        pb_log(PB_LOG_WARN, "games.staff_void_pending",
               "round %s: left voiding (%s), the retry pass finishes it", out->id, pb_err_code(d));
    return PB_OK;
}

pb_err pb_play_round_settle(pb_play *p, pb_store_conn *c, const char *player, const char *round_id,
                            const char *trace_id, pb_store_game_round *out, pb_err *refused)
{
    *refused = PB_OK;
    pb_err e = pb_play_round_get(c, player, round_id, out);
    if (e != PB_OK)
        return e;
    if (strcmp(out->state, PLAY_SETTLED) == 0 || strcmp(out->state, PLAY_VOID) == 0)
        return PB_ERR_ROUND_CLOSED;
    if (strcmp(out->state, PLAY_SETTLING) != 0)
        return PB_ERR_ROUND_STATE; /* pending, active, voiding: not a payout owed */
    /* the sweeper's path: the keyed win "<round>:win" (a duplicate when it was
     * paid before), then settled */
    pb_err d = play_drive_refused(p, c, out, trace_id, refused);
    pb_log(d == PB_OK ? PB_LOG_INFO : PB_LOG_WARN, "games.staff_settle",
           "round %s (%s) of %s: payout retried by staff: %s", out->id, out->game, out->player,
           d == PB_OK ? out->state : pb_err_code(*refused != PB_OK ? *refused : d));
    if (d == PB_OK)
        return PB_OK;
    if (*refused != PB_OK)
        return PB_ERR_WIN_REFUSED;
    return PB_ERR_STORE_UNAVAILABLE; /* the wallet or the store failing: the sweeper goes on */
}
