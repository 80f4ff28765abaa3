/*
 * admin_player_erase.c — erasing a player's personal data (GDPR Art. 17, "the right
 * to be forgotten") without breaking the ledger, which holds ids, not names.
 *
 *   POST /v1/admin/players/{id}/erase {reason}   players.erase (admin, compliance)
 *
 * What goes (pb_identity_player_erase, one write transaction with the audit entry
 * and the event): the email (replaced by "erased-<id>@erased.invalid": the account
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
 * at) and announced as the event "player.erased", so that systems fed by the events
 * can erase their copies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "catalog/catalog.h"
#include "core/time.h"
#include "events/events.h"

#define REASON_MAX 200

typedef struct erase_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const char *id, *reason;
    pb_player before, after;
    pb_brand brand;
    pb_identity_erase_refusal why; /* RETENTION_PERIOD: the period and its end */
} erase_ctx;

static pb_err erase_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    erase_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    pb_err e = pb_identity_player_get(c, &x->p->scope, x->id, &x->before);
    if (e == PB_OK)
        e = pb_tenancy_brand_get(c, x->before.brand_id, &x->brand);
    if (e == PB_ERR_BRAND_NOT_FOUND)
        e = PB_ERR_INTERNAL; /* a player whose brand is gone */
    if (e != PB_OK)
        return e;
    int64_t launches = 0;
    if ((e = pb_identity_player_erase(c, &x->p->scope, x->id, now, &x->after, &x->why)) != PB_OK ||
        (e = pb_catalog_launch_revoke_player(c, x->before.public_id, now, &launches)) != PB_OK)
        return e;
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "player.erased", &en);
    en.brand = x->brand.code;
    en.target_kind = "player";
    en.target_id = x->before.public_id;
    en.reason = x->reason;
    en.before = pb_admin_json_text(x->req, json_pack("{s:s}", "status",
                                                     pb_player_status_name(x->before.status)));
    en.after = pb_admin_json_text(x->req, json_pack("{s:s,s:o,s:I}", "status", "closed",
                                                    "erased_at", pb_admin_time_json(now),
                                                    "live_launches_ended", (json_int_t)launches));
    if (!en.before || !en.after)
        return PB_ERR_INTERNAL;
    if ((e = pb_audit_append(c, &en, now)) != PB_OK)
        return e;
    return pb_events_emit(c, "player.erased", x->brand.code, x->before.public_id,
                          pb_http_trace_id(x->req), now, PB_EV_STR("by", x->p->subject_public_id));
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
