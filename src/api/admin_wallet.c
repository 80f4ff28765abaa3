/*
 * admin_wallet.c — manual adjustments of a player's money by finance staff:
 *
 *   POST /v1/admin/players/{id}/adjustments   finance.adjust, brand-scoped
 *   {"balance":"cash"|"bonus","direction":"credit"|"debit","amount":"10.00",
 *    "reason":"…","idempotency_key":"…"}
 *
 * One ledger transfer between the player's cash or bonus account and the
 * brand's house account, in the player's currency, and its audit entry — both
 * in one ledger command, so they commit together or not at all. The staff
 * member's idempotency key makes a retry safe: the same key and request answer
 * the original transfer (replayed: true, no second audit entry); the same key
 * with another request is IDEMPOTENCY_CONFLICT. A debit beyond the balance is
 * INSUFFICIENT_FUNDS and changes nothing.
 *
 * Refused, nothing written:
 * - FOUR_EYES_VIOLATION: the staff member's e-mail is the player's (one person
 *   through two accounts, as the cashier refuses their own withdrawal's
 *   approval): their own money is adjusted by someone else;
 * - PLAYER_ERASED: the player is closed (erased). Nobody can withdraw from a
 *   closed account, so nothing may land in it (its money after the closure goes
 *   to the brand's unclaimed funds, wallet.h "Closed players"), and it holds
 *   nothing to debit. Decided again inside the ledger command, so an erasure
 *   committed just before is seen. The retry of an adjustment made before the
 *   erasure still gets its answer (replayed), as any retry does.
 * - SESSION_REVOKED / FORBIDDEN: the caller's session ended or the member was
 *   disabled or given another role after the authorizer ran: re-checked inside
 *   the ledger command (pb_identity_principal_check, as pb_admin_write does), so
 *   a change committed while the request waited for the writer is seen.
 * A blocked or self-excluded player stays adjustable: a correction or a refund
 * owed to them is staff's to make.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/admin.h"
#include "events/events.h"
#include "api/api.h"
#include "core/money.h"
#include "core/time.h"
#include "wallet/wallet.h"

json_t *pb_api_wallet_balance_json(const pb_wallet_balance *b, const pb_currency *cur);

typedef struct adjust_ctx {
    pb_http_request *req;
    const pb_principal *p;
    pb_player player;
    char brand[PB_BRAND_CODE_MAX + 1];
    const char *balance, *direction, *reason, *key;
    int64_t amount;
    const pb_currency *cur;
    pb_transfer t;
    pb_wallet_accounts acc;
    pb_wallet_balance before;
    pb_err refusal; /* decided in the command: nothing submitted */
} adjust_ctx;

/* Whether the adjustment is refused because the player is closed: closed, and
 * no adjustment under its key exists to be answered again (a retry of one made
 * before the erasure is the ledger's to replay, or to call a conflict). */
static pb_err closed_refused(pb_store_conn *c, const adjust_ctx *x, bool closed, bool *refused)
{
    *refused = false;
    if (!closed)
        return PB_OK;
    pb_ledger_record r;
    pb_err e = pb_ledger_transfer_by_key(c, x->t.scope, x->t.key, &r);
    if (e == PB_ERR_TRANSFER_NOT_FOUND) {
        *refused = true;
        return PB_OK;
    }
    return e == PB_OK ? PB_OK : PB_ERR_INTERNAL;
}

static json_t *side_json(const adjust_ctx *x, const pb_wallet_balance *b)
{
    return pb_api_wallet_balance_json(b, x->cur);
}

/* The player's balances at this point of the writer's batch. */
static pb_err balances_now(pb_ledger_tx *tx, const adjust_ctx *x, pb_wallet_balance *b)
{
    pb_ledger_account cash, bonus;
    pb_err e = pb_ledger_tx_account(tx, x->acc.cash, &cash);
    if (e == PB_OK)
        e = pb_ledger_tx_account(tx, x->acc.bonus, &bonus);
    if (e != PB_OK) /* a damaged account fails this command only, not the batch */
        return e == PB_ERR_STORE_CORRUPT ? e : PB_ERR_INTERNAL;
    memset(b, 0, sizeof *b);
    snprintf(b->currency, sizeof b->currency, "%s", x->player.currency);
    b->cash = cash.credits_posted - cash.debits_posted;
    b->held = cash.debits_pending;
    b->bonus = bonus.credits_posted - bonus.debits_posted - bonus.debits_pending;
    b->withdrawable = b->cash - b->held;
    b->total = b->withdrawable + b->bonus;
    return PB_OK;
}

/* In the ledger writer: the transfer, then (when it is new) its audit entry with
 * the exact balances before and after. */
static pb_err adjust_command(pb_ledger_tx *tx, void *arg)
{
    adjust_ctx *x = arg;
    /* the caller as the batch sees them, as pb_admin_write re-checks it: the
     * authorizer ran on an earlier snapshot, and a disable, role change or logout
     * committed since (while this command waited for the writer) refuses it */
    pb_err e = pb_identity_principal_check(pb_ledger_tx_conn(tx), x->p, pb_ledger_tx_now(tx));
    if (e == PB_ERR_INTERNAL || pb_err_transient(e))
        return PB_ERR_INTERNAL;
    if (e != PB_OK) { /* SESSION_REVOKED, FORBIDDEN: nothing submitted */
        x->refusal = e;
        return PB_OK;
    }
    /* the player as the batch sees them: after an erasure committed before it */
    pb_player_status st = PB_PLAYER_ACTIVE;
    bool refused = false;
    e = pb_identity_player_status(pb_ledger_tx_conn(tx), x->player.public_id, &st);
    if (e != PB_OK ||
        closed_refused(pb_ledger_tx_conn(tx), x, st == PB_PLAYER_CLOSED, &refused) != PB_OK)
        return PB_ERR_INTERNAL;
    if (refused) {
        x->refusal = PB_ERR_PLAYER_ERASED;
        return PB_OK;
    }
    if (balances_now(tx, x, &x->before) != PB_OK)
        return PB_ERR_INTERNAL;
    e = pb_ledger_tx_submit(tx, &x->t, 1);
    if (e != PB_OK || x->t.result != PB_OK || x->t.replayed)
        return e == PB_ERR_INTERNAL ? e : PB_OK;
    pb_wallet_balance after;
    if (balances_now(tx, x, &after) != PB_OK)
        return PB_ERR_INTERNAL;
    char tid[PB_ID_STR_LEN + 1];
    pb_id_to_string(&x->t.record.id, tid);
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "player.adjust", &en);
    en.brand = x->brand;
    en.target_kind = "player";
    en.target_id = x->player.public_id;
    en.before = pb_admin_json_text(x->req, side_json(x, &x->before));
    en.after = pb_admin_json_text(x->req,
                                  json_pack("{s:o*,s:s,s:s,s:s}", "balance", side_json(x, &after),
                                            "transfer_id", tid, "adjusted", x->balance, "direction",
                                            x->direction));
    en.reason = x->reason;
    if (!en.before || !en.after)
        return PB_ERR_INTERNAL;
    e = pb_audit_append(pb_ledger_tx_conn(tx), &en, pb_ledger_tx_now(tx));
    /* @backoffice: balance.adjusted, in the command's transaction with the money */
    if (e == PB_OK &&
        pb_events_emit(pb_ledger_tx_conn(tx), "balance.adjusted", x->brand, x->player.public_id,
                       pb_http_trace_id(x->req), pb_ledger_tx_now(tx),
                       PB_EV_STR("transfer_id", tid), PB_EV_STR("balance", x->balance),
                       PB_EV_STR("direction", x->direction),
                       PB_EV_STR("staff_id", x->p->subject_public_id),
                       PB_EV_MONEY("amount", x->amount, x->player.currency)) != PB_OK)
        e = PB_ERR_INTERNAL;
    return e;
}

void pb_api_admin_player_adjust(pb_http_request *req, void *app)
{
    pb_api_app *a = app;
    adjust_ctx *x = pb_http_alloc(req, sizeof *x);
    if (!x) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    x->req = req;
    x->p = pb_api_principal(req);
    const char *amount_s = NULL;
    pb_json_field f[] = {
        {.name = "balance",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 8,
         .str = &x->balance},
        {.name = "direction",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 8,
         .str = &x->direction},
        {.name = "amount",
         .type = PB_JSON_STRING,
         .required = true,
         .max_len = 40,
         .str = &amount_s},
        {.name = "reason",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 500,
         .str = &x->reason},
        {.name = "idempotency_key",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = 100,
         .str = &x->key},
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]))
        return;
    if (strcmp(x->balance, "cash") != 0 && strcmp(x->balance, "bonus") != 0) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "balance", "balance: cash or bonus");
        return;
    }
    if (strcmp(x->direction, "credit") != 0 && strcmp(x->direction, "debit") != 0) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "direction",
                                "direction: credit or debit");
        return;
    }
    if (!pb_admin_reason_ok(req, x->p, "player.adjust", x->reason))
        return;
    for (const char *k = x->key; *k; k++)
        if ((unsigned char)*k < 0x21 || (unsigned char)*k > 0x7e) {
            pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "idempotency_key",
                                    "idempotency_key: 1..100 printable ASCII characters");
            return;
        }
    pb_store_conn *c = pb_http_conn(req);
    pb_err e = c ? pb_identity_player_get(c, &x->p->scope, pb_http_param(req, "id"), &x->player)
                 : PB_ERR_STORE_UNAVAILABLE;
    pb_brand *b = e == PB_OK ? pb_http_alloc(req, sizeof *b) : NULL;
    if (e == PB_OK && !b)
        e = PB_ERR_INTERNAL;
    if (e == PB_OK)
        e = pb_tenancy_brand_get(c, x->player.brand_id, b);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    snprintf(x->brand, sizeof x->brand, "%s", b->code);
    /* the staff member's own player account (both e-mails normalised when stored) */
    pb_staff *me = pb_http_alloc(req, sizeof *me);
    e = me ? pb_identity_staff_get(c, x->p->subject_public_id, me) : PB_ERR_INTERNAL;
    if (e != PB_OK && e != PB_ERR_STAFF_NOT_FOUND) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    if (e == PB_OK && me->email[0] && strcmp(me->email, x->player.email) == 0) {
        pb_http_reply_error_msg(req, PB_ERR_FOUR_EYES_VIOLATION, NULL,
                                "a staff member's own player account is adjusted by another "
                                "staff member");
        return;
    }
    x->cur = pb_currency_find(x->player.currency);
    if (!x->cur) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    if (pb_money_parse(amount_s, strlen(amount_s), x->cur, &x->amount) != PB_MONEY_OK ||
        x->amount <= 0) {
        pb_http_reply_error(req, PB_ERR_AMOUNT_INVALID, "amount");
        return;
    }
    pb_transfer *t = &x->t;
    snprintf(t->scope, sizeof t->scope, "adjustment:%s", x->brand);
    snprintf(t->key, sizeof t->key, "%s", x->key);
    bool refused = false; /* before any account is created for a closed player */
    e = closed_refused(c, x, x->player.status == PB_PLAYER_CLOSED, &refused);
    if (e == PB_OK && refused)
        e = PB_ERR_PLAYER_ERASED;
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_wallet_accounts acc;
    int64_t house = 0;
    e = pb_wallet_player_accounts(a->wallet, c, x->brand, x->player.public_id, x->player.currency,
                                  &acc);
    x->acc = acc;
    if (e == PB_OK)
        e = pb_wallet_system_account(a->wallet, c, x->brand, PB_WALLET_OWNER_HOUSE,
                                     PB_WALLET_KIND_HOUSE, x->player.currency, &house);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    int64_t mine = strcmp(x->balance, "cash") == 0 ? acc.cash : acc.bonus;
    bool credit = strcmp(x->direction, "credit") == 0;
    t->debit_account_id = credit ? house : mine;
    t->credit_account_id = credit ? mine : house;
    t->amount = x->amount;
    snprintf(t->currency, sizeof t->currency, "%s", x->player.currency);
    t->code = strcmp(x->balance, "bonus") == 0 && credit ? PB_CODE_BONUS_GRANT : PB_CODE_ADJUSTMENT;
    snprintf(t->reference, sizeof t->reference, "player:%.40s", x->player.public_id);
    snprintf(t->trace_id, sizeof t->trace_id, "%s", pb_http_trace_id(req));
    e = pb_ledger_command(a->ledger, adjust_command, x);
    if (e == PB_OK && x->refusal != PB_OK)
        e = x->refusal;
    else if (e == PB_OK && t->result != PB_OK)
        e = t->result;
    if (e != PB_OK) {
        pb_admin_fail(req, e, e == PB_ERR_INSUFFICIENT_FUNDS ? "amount" : NULL);
        return;
    }
    pb_wallet_balance now;
    e = pb_wallet_balance_get(c, x->brand, x->player.public_id, x->player.currency, &now);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    char tid[PB_ID_STR_LEN + 1];
    pb_id_to_string(&t->record.id, tid);
    pb_http_reply_json(req, t->replayed ? 200 : 201,
                       json_pack("{s:s,s:b,s:o*}", "transfer_id", tid, "replayed", t->replayed,
                                 "balance", pb_api_wallet_balance_json(&now, x->cur)));
}
