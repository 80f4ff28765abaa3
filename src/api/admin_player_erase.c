/*
 * admin_player_erase.c — erasing a player's personal data (GDPR Art. 17, "the right
 * to be forgotten") without breaking the ledger, which holds ids, not names.
 *
 *   POST /v1/admin/players/{id}/erase {reason}   players.erase (admin, compliance)
 *
 * What goes (pb_identity_player_erase, which also writes the audit entry and the
 * event, all in this route's one write transaction): the email (replaced by "erased-<id>@erased.invalid": the account
 * can no longer log in, and the address may register again), the names, the date of
 * birth, the sessions' IP addresses and User-Agents (every session revoked), the
 * player's live game launches. The account is closed.
 *
 * What stays, under the id: the ledger, the game rounds, the payments and
 * withdrawals (records the operator must keep), the country (for the regulator's
 * reports by country), the staff notes and the audit log (both append-only by
 * design: write in them only what the record needs), and the backups until they
 * rotate out (--backup-keep).
 *
 * Refused (409, nothing written) by the domain (pb_identity_player_erase, erase.c:
 * the checks live there, so no other caller can skip them) while:
 * - PLAYER_HAS_FUNDS: an account of the player holds money or a hold (posted or
 *   pending, either way): pay it out or settle it first;
 * - PLAYER_HAS_OPEN_PAYMENTS: a deposit is pending, or a withdrawal is pending
 *   approval, approved or being paid;
 * - PLAYER_HAS_PENDING_ADJUSTMENT: a large staff adjustment of the player waits
 *   for its second approver (POST /v1/admin/adjustments/{id}/approve would move
 *   money on the erased account): approve or reject it first;
 * - PLAYER_HAS_OPEN_BETS: a game bet (a provider's, or an in-house round not ended)
 *   is not settled (no win, no rollback, its round not closed): a win for it would credit the closed, erased account (the
 *   money path does not ask for a name), so the round must end first;
 * - RETENTION_PERIOD: the brand's retention period has not passed since the
 *   player's last activity (registration, last login, newest transfer). The
 *   brand setting "erase_after_days" (a whole number >= 0; default 1826, five
 *   years: the EU's anti-money-laundering directive keeps customer due-diligence
 *   and transaction records for five years after the business relationship ends,
 *   Directive (EU) 2015/849 Art. 40) sets it; the message says from when;
 * - PLAYER_ERASED: it was erased already.
 * The checks run in the write transaction that erases, so they see what it changes.
 *
 * Audited as "player.erased" (the reason; before: the status; after: closed, erased
 * at, live launches ended) and announced as the event "player.erased", so that
 * systems fed by the events can erase their copies: both by the domain, so any
 * caller of it records the same. The route parses, says who acts, and answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "catalog/catalog.h"
#include "core/time.h"

#define REASON_MAX 200

typedef struct erase_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const char *id, *reason;
    pb_player after;
    pb_brand brand;
    pb_identity_erase_refusal why; /* RETENTION_PERIOD: the period and its end */
} erase_ctx;

static pb_err erase_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    erase_ctx *x = ctx;
    pb_audit_entry en; /* who acts, as every admin route records it */
    pb_admin_entry(x->req, x->p, "player.erased", &en);
    pb_identity_erase_actor by = {.kind = en.actor_kind,
                                  .id = en.actor_id,
                                  .role = en.role,
                                  .reason = x->reason,
                                  .trace_id = en.trace_id,
                                  .ip = en.ip};
    pb_err e = pb_identity_player_erase(c, &x->p->scope, x->id, &by, pb_time_now_us(), &x->after,
                                        &x->why);
    if (e == PB_OK) /* the answer's brand code */
        e = pb_tenancy_brand_get(c, x->after.brand_id, &x->brand);
    return e == PB_ERR_BRAND_NOT_FOUND ? PB_ERR_INTERNAL : e;
}

void pb_api_admin_player_erase(pb_http_request *req, void *app)
{
    (void)app;
    erase_ctx *x = pb_http_alloc(req, sizeof *x);
    if (!x) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    memset(x, 0, sizeof *x);
    x->req = req;
    x->p = pb_api_principal(req);
    x->id = pb_http_param(req, "id");
    if (!pb_admin_parse_reason(req, x->p, "player.erased", REASON_MAX, &x->reason))
        return;
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, erase_tx, x, &bad);
    if (e == PB_ERR_RETENTION_PERIOD) {
        json_t *t = pb_admin_time_json(x->why.erasable_from);
        char msg[160];
        snprintf(msg, sizeof msg,
                 "the brand keeps a player's records for %lld days after the last activity: "
                 "erasable from %s",
                 (long long)x->why.retention_days, t ? json_string_value(t) : "?");
        json_decref(t);
        pb_http_reply_error_msg(req, e, NULL, msg);
        return;
    }
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    pb_catalog_launch_cache_forget(); /* committed: stop answering from what was read */
    pb_http_reply_json(req, 200,
                       json_pack("{s:o}", "player",
                                 pb_admin_player_json(&x->after, x->brand.code, true)));
}
