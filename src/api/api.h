/*
 * api.h — the HTTP API: the route table and its handlers, one file per
 * resource (ops.c: /healthz, /readyz, /metrics, /openapi.yaml, /docs).
 *
 * Handlers are thin and have one shape: parse with a field spec
 * (pb_http_parse_json) → the route's permission was already checked by the
 * authorizer → call a domain (a transaction on pb_http_conn(req), or the
 * ledger: suspend and reply from the pb_ledger_submit_async callback) → reply.
 * No business rule lives here.
 *
 * Adding a resource: write src/api/<resource>.c, declare its handlers below
 * the @api-handlers anchor, add its rows below the @api-routes anchor in
 * routes.c, and document every route in docs/openapi.yaml (the api_ops test
 * checks that the table and the document list the same operations).
 */
#ifndef PB_API_API_H
#define PB_API_API_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "ledger/ledger.h"
#include "store/embedded.h"
#include "store/store.h"

/* Everything a handler may need; handed to every handler as `app`. */
typedef struct pb_api_app {
    pb_store *store;      /* the database (handlers use pb_http_conn(req), not this) */
    pb_ledger *ledger;    /* the running ledger writer */
    pb_http_server *http; /* the server (for /metrics) */
    const char *keys_dir; /* where secrets and key files live (0700) */
    int64_t started_us;   /* wall-clock start of the process */
    /* @api-app-fields */
    /* @api-app-fields-player */
    struct pb_identity *identity;          /* players, staff, sessions, tokens (auth.c, player.c) */
    struct pb_ratelimit *rl_register_ip;   /* registrations per client IP (player.c; an IPv6
                                            client by its /64, pb_identity_addr_key); logins are
                                            limited per IP and per account inside identity */
    struct pb_ratelimit *rl_chain_walk_ip; /* public crash-chain checks per client IP
                                              (games_public.c) */
    int64_t auth_ip_interval_ms;           /* identity's per-IP refill interval: the Retry-After
                                            of a RATE_LIMITED that carries no wait of its own */
    /* @api-app-fields-admin */
    /* @api-app-fields-sim */
    /* @api-app-fields-provider-hub88 */
    struct pb_api_hub88 *hub88; /* Hub88 providers and their RSA keys, cached (provider_hub88.c) */
    /* @api-app-fields-provider-native */
    /* native providers and their secrets, cached (provider_native.c) */
    struct pb_api_native *native;
    /* @api-app-fields-cashier */
    struct pb_cashier *cashier;               /* deposits, withdrawals, PSPs (cashier/cashier.h) */
    struct pb_api_cashier_self *cashier_self; /* where the sandbox PSP posts its webhooks */
    /* @api-app-fields-catalog */
    int64_t launch_ttl_s; /* launch-token lifetime, s (player_games.c); 0 = the catalog's 4 h */
    /* @api-app-fields-wallet */
    /* @api-app-fields-events */
    struct pb_events *events; /* the outbox dispatcher and the staff stream (admin_events.c) */
    struct pb_jetstream *jetstream; /* the outbox relayed to NATS JetStream, when configured */
    /* @api-app-fields-games-play */
    /* @api-app-fields-backoffice */
    unsigned max_exports; /* streamed exports at once, process-wide (export_stream.c); 0 = 4 */
    /* @api-app-fields-web */
    struct pb_http_static *web; /* the back office UI's files at / (http/static.c) */
    struct pb_play *play;       /* the in-house games' money side (games/play.h; games_player.c) */
    struct pb_wallet *wallet;   /* player wallets and game money (wallet/wallet.h) */
    struct pb_audit_key *audit_key;     /* signs audit checkpoints (admin_audit.c) */
    struct pb_audit_trust *audit_trust; /* what verify trusts: audit_key, retired keys */
    char metrics_token[257]; /* "": /metrics is open; else it needs "Authorization: Bearer <it>" */
    size_t naudit_trust;
    struct pb_api_checkpointer *checkpointer;   /* signs the chain head periodically */
    struct pb_api_backups *backups;             /* serve --backup-dir: scheduled copies, or NULL */
    const pb_ledger_anchor_stats *anchors;      /* serve's ledger anchorer (/metrics), or NULL */
    struct pb_api_request_sweep *request_sweep; /* serve's expiry sweep (/metrics), or NULL */
} pb_api_app;

/* The route table: every operation of the API, read by the server, the
 * authorizer, `pitboss routes`, /docs and the OpenAPI check. */
extern const pb_route pb_api_routes[];
extern const size_t pb_api_route_count;

/* docs/openapi.yaml, compiled in by scripts/embed.py ({NULL, NULL}-terminated). */
extern const pb_embedded_file pb_api_openapi_files[];

/* ---- ops.c: operations endpoints (public) ---- */
void pb_api_healthz(pb_http_request *req, void *app);
void pb_api_readyz(pb_http_request *req, void *app);
/* PITBOSS_METRICS_TOKEN: /metrics then answers only "Authorization: Bearer <token>"
 * (compared in constant time); 16..256 characters of A-Z a-z 0-9 . _ ~ + / = -
 * (a bearer token's), else -1 with the reason in err and nothing set (ops.c). */
int pb_api_metrics_token_set(pb_api_app *a, const char *token, char *err, size_t cap);
void pb_api_metrics(pb_http_request *req, void *app);
void pb_api_openapi(pb_http_request *req, void *app);
void pb_api_docs(pb_http_request *req, void *app);
/* Appends the ledger writer's counters in Prometheus text format. */
void pb_api_ledger_metrics(pb_ledger *ledger, pb_http_buf *out);

/* @api-handlers */
/* @api-handlers-player */
#include "identity/identity.h"

/* The permission strings the authorizer reads besides staff permissions
 * ("players.read", … see PB_PERMISSIONS in identity/identity.h). */
#define PB_API_PERM_PLAYER "player" /* a player's access token (/v1/player/…) */
#define PB_API_PERM_STAFF "staff"   /* any staff session, full or setup (self-service) */

/* ---- auth.c: the authorizer and the public keys ---- */
/* The pb_http_authorize_fn installed in serve (ctx: the pb_api_app): Bearer token
 * → principal, or UNAUTHENTICATED / TOKEN_INVALID / TOKEN_EXPIRED /
 * SESSION_REVOKED / FORBIDDEN with a WWW-Authenticate challenge, or PLAYER_BLOCKED
 * (403, a player token of a blocked or closed account). */
pb_err pb_api_authorize(void *ctx, pb_http_request *req, const pb_route *route);
/* The WWW-Authenticate challenge that goes with an error: every code whose
 * status is 401 has one (RFC 9110 §15.5.2), FORBIDDEN / BRAND_FORBIDDEN the
 * RFC 6750 insufficient_scope one; NULL for any other code. */
const char *pb_api_challenge_for(pb_err e);
/* Adds pb_api_challenge_for(e) (if any) as WWW-Authenticate, for a handler that
 * finds the session gone after the authorizer ran (pb_admin_fail). */
void pb_api_challenge(pb_http_request *req, pb_err e);
/* The pb_http_challenge_fn installed in serve (ctx unused): every 401 the server
 * sends without a challenge of its handler's gets pb_api_challenge_for(code). */
const char *pb_api_challenge_hook(void *ctx, pb_err code);
/* The caller the authorizer found (NULL on a public route). */
const pb_principal *pb_api_principal(const pb_http_request *req);
/* Checks that every route's permission is NULL, "player", "staff" or a known staff
 * permission. 0, or -1 with the route named in err. */
int pb_api_routes_check(const pb_route *routes, size_t n, char *err, size_t errcap);
/* Opens identity over keys_dir (player access tokens living player_access_ttl_s;
 * 0 = identity's default) and the registration limiter into app, after checking
 * the route table's permissions. 0, or -1 with a reason in err; pb_api_auth_close()
 * frees what was opened either way. */
int pb_api_auth_open(pb_api_app *app, const char *keys_dir, int64_t player_access_ttl_s, char *err,
                     size_t errcap);
void pb_api_auth_close(pb_api_app *app);
/* GET /.well-known/jwks.json: the keys that verify access tokens, as a JWK Set. */
void pb_api_jwks(pb_http_request *req, void *app);

/* ---- player.c: the player API (/v1/player/…) ---- */
void pb_api_player_register(pb_http_request *req, void *app);
void pb_api_player_login(pb_http_request *req, void *app);
void pb_api_player_refresh(pb_http_request *req, void *app);
void pb_api_player_logout(pb_http_request *req, void *app);
void pb_api_player_profile(pb_http_request *req, void *app);
void pb_api_player_sessions(pb_http_request *req, void *app);
void pb_api_player_session_revoke(pb_http_request *req, void *app);
void pb_api_player_password(pb_http_request *req, void *app);
/* @api-handlers-admin */
/* @api-handlers-sim */
/* @api-handlers-provider-hub88 */
/* ---- provider_hub88.c: the Hub88-compatible operator wallet (RSA-signed, public) ---- */
typedef struct pb_api_hub88 pb_api_hub88;
/* The provider cache into app->hub88. 0, or -1 with a reason in err. */
int pb_api_hub88_open(pb_api_app *app, char *err, size_t errcap);
/* Frees app->hub88 (NULL is fine). */
void pb_api_hub88_close(pb_api_app *app);
void pb_api_hub88_user_info(pb_http_request *req, void *app);
void pb_api_hub88_user_balance(pb_http_request *req, void *app);
void pb_api_hub88_bet(pb_http_request *req, void *app);
void pb_api_hub88_win(pb_http_request *req, void *app);
void pb_api_hub88_rollback(pb_http_request *req, void *app);
/* @api-handlers-provider-native */
/* ---- provider_native.c: the pitboss native seamless wallet protocol (HMAC-signed, public) ---- */
typedef struct pb_api_native pb_api_native;
/* The provider cache into app->native. 0, or -1 with a reason in err. */
int pb_api_native_open(pb_api_app *app, char *err, size_t errcap);
/* admin_catalog.c: native providers' keys sealed at rest under the keys
 * directory's provider.key (catalog/secret.c): loads (or creates) the key, sets
 * it for the process and seals the keys stored in the clear. After the identity
 * opens, before anything reads or writes a provider. 0, or -1 with err. */
int pb_api_catalog_seal_open(pb_api_app *app, char *err, size_t errcap);
/* Frees app->native (NULL is fine). */
void pb_api_native_close(pb_api_app *app);
void pb_api_native_session(pb_http_request *req, void *app);
void pb_api_native_balance(pb_http_request *req, void *app);
void pb_api_native_bet(pb_http_request *req, void *app);
void pb_api_native_win(pb_http_request *req, void *app);
void pb_api_native_rollback(pb_http_request *req, void *app);
void pb_api_native_round_close(pb_http_request *req, void *app);
/* @api-handlers-cashier */
/* ---- cashier_player.c, cashier_webhook.c, admin_cashier.c: deposits and withdrawals ---- */
/* Opens the cashier into app->cashier (after app->wallet and app->http exist):
 * the sandbox PSP when sandbox, its payout webhooks POSTed to this server at
 * the host of `listen` after payout_delay_ms (0 = 1 s); payouts the PSP did not
 * take are sent again every payout_retry_ms (0 = 30 s); sandbox_stuck turns the
 * sandbox's stuck-payout test knobs on (psp.h). 0, or -1 with a reason
 * in err; pb_api_cashier_close() frees what was opened either way. */
int pb_api_cashier_open(pb_api_app *app, const char *listen, bool sandbox, bool sandbox_stuck,
                        int payout_delay_ms, int payout_retry_ms, char *err, size_t errcap);
void pb_api_cashier_close(pb_api_app *app);
/* Stops the cashier's payout retry: before the ledger closes (its passes submit
 * ledger commands; one that ran after the close used the freed ledger). */
void pb_api_cashier_stop(pb_api_app *app);
/* The server listens on port (serve calls it right after starting the server):
 * where the sandbox PSP posts its webhooks when the listen address left the port
 * to the kernel. Safe from any thread; a no-op without the sandbox. */
void pb_api_cashier_listening(pb_api_app *app, unsigned port);
void pb_api_player_deposit_create(pb_http_request *req, void *app);
void pb_api_player_deposit_get(pb_http_request *req, void *app);
void pb_api_player_withdrawal_create(pb_http_request *req, void *app);
void pb_api_player_withdrawals_list(pb_http_request *req, void *app);
void pb_api_player_withdrawal_cancel(pb_http_request *req, void *app);
void pb_api_cashier_webhook(pb_http_request *req, void *app);
void pb_api_sandbox_psp_complete(pb_http_request *req, void *app);
void pb_api_sandbox_psp_fail(pb_http_request *req, void *app);
void pb_api_sandbox_psp_payout_return(pb_http_request *req, void *app);
void pb_api_admin_withdrawals_list(pb_http_request *req, void *app);
void pb_api_admin_withdrawal_get(pb_http_request *req, void *app);
void pb_api_admin_withdrawal_approve(pb_http_request *req, void *app);
void pb_api_admin_withdrawal_reject(pb_http_request *req, void *app);
void pb_api_admin_withdrawal_resolve(pb_http_request *req, void *app);
void pb_api_admin_withdrawal_manual_state(pb_http_request *req, void *app);
void pb_api_admin_withdrawal_manual_confirm(pb_http_request *req, void *app);
void pb_api_admin_withdrawal_manual_withdraw(pb_http_request *req, void *app);
void pb_api_admin_payments_list(pb_http_request *req, void *app);
void pb_api_admin_payment_get(pb_http_request *req, void *app);
void pb_api_admin_payment_complete(pb_http_request *req, void *app);
/* admin_reconcile.c: the PSP reconciliation runs (finance) */
void pb_api_admin_reconciliation_run(pb_http_request *req, void *app);
void pb_api_admin_reconciliation_upload(pb_http_request *req, void *app);
void pb_api_admin_reconciliations_list(pb_http_request *req, void *app);
void pb_api_admin_reconciliation_get(pb_http_request *req, void *app);
void pb_api_admin_psps_list(pb_http_request *req, void *app);
/* cashier_webhook.c: the sandbox PSP's settlement report download (text/csv) */
void pb_api_sandbox_psp_report(pb_http_request *req, void *app);
/* @api-handlers-catalog */
/* ---- admin_catalog.c: providers, games, the per-brand switch (staff) ---- */
void pb_api_admin_providers_list(pb_http_request *req, void *app);
void pb_api_admin_provider_create(pb_http_request *req, void *app);
void pb_api_admin_provider_get(pb_http_request *req, void *app);
void pb_api_admin_provider_update(pb_http_request *req, void *app);
void pb_api_admin_games_list(pb_http_request *req, void *app);
void pb_api_admin_game_create(pb_http_request *req, void *app);
void pb_api_admin_game_get(pb_http_request *req, void *app);
void pb_api_admin_game_update(pb_http_request *req, void *app);
void pb_api_admin_brand_game_set(pb_http_request *req, void *app);
/* ---- player_games.c: the lobby and launches (players) ---- */
void pb_api_player_games(pb_http_request *req, void *app);
void pb_api_player_game_launch(pb_http_request *req, void *app);
/* @api-handlers-wallet */
/* @api-handlers-events */
/* ---- admin_events.c: the staff event stream (Server-Sent Events) ---- */
/* Opens the event dispatcher into app->events (PITBOSS_EVENTS_* settings, see
 * admin_events.c). 0, or -1 with a reason in err. Close after the HTTP server. */
int pb_api_events_open(pb_api_app *app, char *err, size_t errcap);
void pb_api_events_close(pb_api_app *app);
void pb_api_admin_events_stream(pb_http_request *req, void *app);
/* @api-handlers-games-play */
/* @api-handlers-backoffice */
/* ---- admin_dashboard.c, admin_transactions.c: the back office's money views (staff) ---- */
void pb_api_admin_dashboard(pb_http_request *req, void *app);
void pb_api_admin_transactions(pb_http_request *req, void *app);
/* admin_unclaimed.c: the brands' unclaimed funds (balances and entries) */
void pb_api_admin_unclaimed_funds(pb_http_request *req, void *app);
/* admin_unclaimed_settle.c: settlements of them, 4-eyes (request, approve, reject, read) */
void pb_api_admin_unclaimed_settle(pb_http_request *req, void *app);
void pb_api_admin_unclaimed_settlement_approve(pb_http_request *req, void *app);
void pb_api_admin_unclaimed_settlement_reject(pb_http_request *req, void *app);
void pb_api_admin_unclaimed_settlements_list(pb_http_request *req, void *app);
void pb_api_admin_unclaimed_settlement_get(pb_http_request *req, void *app);
void pb_api_admin_transactions_export(pb_http_request *req, void *app);
/* The brands a staff view covers: the one named by code (BRAND_FORBIDDEN when
 * unknown or outside p's scope: the same answer), else every brand of p's
 * scope. *out is malloc'd (free it), *n brands. */
pb_err pb_api_bo_brands(pb_store_conn *c, const pb_principal *p, const char *code,
                        pb_store_brand **out, size_t *n);
/* Waits until every running export (transactions, audit) has finished (their streams end
 * with the server's shutdown): call after the HTTP server is freed, before the
 * store is closed. */
void pb_api_bo_exports_wait(void);
/* ---- admin_player_more.c: the player page's sessions, notes and rounds (staff) ---- */
void pb_api_admin_player_sessions(pb_http_request *req, void *app);
void pb_api_admin_player_sessions_revoke(pb_http_request *req, void *app);
void pb_api_admin_player_unlock(pb_http_request *req, void *app);
void pb_api_admin_player_notes_list(pb_http_request *req, void *app);
void pb_api_admin_player_note_add(pb_http_request *req, void *app);
void pb_api_admin_player_rounds(pb_http_request *req, void *app);
void pb_api_admin_player_round_void(pb_http_request *req, void *app);
void pb_api_admin_player_round_settle(pb_http_request *req, void *app);
void pb_api_admin_player_export(pb_http_request *req, void *app);
void pb_api_player_export(pb_http_request *req, void *app);
void pb_api_admin_player_erase(pb_http_request *req, void *app);
/* admin_staff.c (backoffice-people): TOTP reset */
void pb_api_admin_staff_totp_reset(pb_http_request *req, void *app);
void pb_api_admin_staff_unlock(pb_http_request *req, void *app);
/* admin_audit.c (backoffice-people): the audit chain's status */
void pb_api_admin_audit_verify(pb_http_request *req, void *app);
/* @api-handlers-web */
/* ---- games_player.c, games_admin.c, games_public.c: the in-house games ("originals") ---- */
void pb_api_player_originals_seeds(pb_http_request *req, void *app);
void pb_api_player_originals_rotate(pb_http_request *req, void *app);
void pb_api_player_originals_client_seed(pb_http_request *req, void *app);
void pb_api_player_originals_bet(pb_http_request *req, void *app);
void pb_api_player_originals_mines_reveal(pb_http_request *req, void *app);
void pb_api_player_originals_mines_cashout(pb_http_request *req, void *app);
void pb_api_player_originals_crash(pb_http_request *req, void *app);
void pb_api_player_originals_crash_bet(pb_http_request *req, void *app);
void pb_api_player_originals_crash_cashout(pb_http_request *req, void *app);
void pb_api_player_originals_rounds(pb_http_request *req, void *app);
void pb_api_player_originals_round(pb_http_request *req, void *app);
void pb_api_admin_originals_list(pb_http_request *req, void *app);
void pb_api_admin_originals_rtp_set(pb_http_request *req, void *app);
void pb_api_admin_originals_control(pb_http_request *req, void *app);
void pb_api_fair_verify(pb_http_request *req, void *app);
void pb_api_fair_crash_rounds(pb_http_request *req, void *app);
/* Opens app->play over app->wallet (PITBOSS_CRASH=0 turns the crash scheduler
 * off; PITBOSS_CRASH_BETTING_MS, _PAUSE_MS, _GROWTH, _CHAIN_LENGTH tune it).
 * 0, or -1 with a reason in err. stop: before the ledger closes (the scheduler
 * submits ledger commands); close: after it. */
int pb_api_games_open(pb_api_app *app, char *err, size_t errcap);
void pb_api_games_stop(pb_api_app *app);
void pb_api_games_close(pb_api_app *app);
/* ---- wallet_player.c: the player's wallet; admin_adjust.c: staff adjustments ---- */
void pb_api_player_wallet(pb_http_request *req, void *app);
void pb_api_player_transactions(pb_http_request *req, void *app);
void pb_api_player_transaction_get(pb_http_request *req, void *app);
void pb_api_admin_player_adjust(pb_http_request *req, void *app);
/* 4-eyes for adjustments at or above the brand's threshold (admin_adjust_4eyes.c) */
void pb_api_admin_adjustment_approve(pb_http_request *req, void *app);
void pb_api_admin_adjustment_reject(pb_http_request *req, void *app);
void pb_api_admin_adjustments_list(pb_http_request *req, void *app);
void pb_api_admin_adjustment_get(pb_http_request *req, void *app);
/* admin_request_sweep.c: serve's sweep of the 4-eyes requests pending past their
 * brand's expiry: per pass the staff adjustment requests, then the unclaimed-funds
 * settlement requests, each marked expired as the decision that finds it so would
 * mark it, audited as the system (PB_API_ADJUST_SWEEP_ACTOR, PB_API_SETTLE_SWEEP_ACTOR):
 * a pass at start, then one every interval_s seconds (<= 0:
 * PB_API_REQUEST_SWEEP_DEFAULT_S) on its own connection to store; each request marked
 * in a ledger command of its own. NULL with a reason in err. Stop lets the command
 * under way finish. Metrics: NULL prints nothing. */
#define PB_API_REQUEST_SWEEP_DEFAULT_S 60
#define PB_API_REQUEST_SWEEP_BATCH 100 /* requests of a kind read at a time */
#define PB_API_ADJUST_SWEEP_ACTOR "adjustments.sweep"
#define PB_API_SETTLE_SWEEP_ACTOR "settlements.sweep"
typedef struct pb_api_request_sweep pb_api_request_sweep;
pb_api_request_sweep *pb_api_request_sweep_start(pb_store *store, pb_ledger *l, int interval_s,
                                                 char *err, size_t errcap);
void pb_api_request_sweep_stop(pb_api_request_sweep *s);
void pb_api_request_sweep_metrics(pb_api_request_sweep *s, pb_http_buf *out);
/* One pass on c (every brand, every due request of both kinds): *adjustments and
 * *settlements count those marked. PB_OK, or the first failure (the adjustments'
 * before the settlements'; the rest of that kind left to the next pass). */
pb_err pb_api_request_sweep_once(pb_store_conn *c, pb_ledger *l, size_t *adjustments,
                                 size_t *settlements);
/* admin_adjust_4eyes.c: in a ledger command of its own, the adjustment request r, as
 * read before (by pb_store_request_due), re-read and marked expired when it is still
 * pending past expiry_us (*marked; r receives the row as the command left it); a
 * request decided since is left alone (pb_admin_request_expire, admin_4eyes.c).
 * PB_OK, or the command's failure. */
pb_err pb_api_adjust_expire(pb_ledger *l, pb_store_adjustment *r, int64_t expiry_us, bool *marked);
/* admin_unclaimed_settle.c: the same for the settlement request r. */
pb_err pb_api_settle_expire(pb_ledger *l, pb_store_settlement *r, int64_t expiry_us, bool *marked);
/* ---- admin_*.c: the staff API (/v1/admin/…); see src/api/admin.h ---- */
void pb_api_admin_login(pb_http_request *req, void *app);
void pb_api_admin_refresh(pb_http_request *req, void *app);
void pb_api_admin_logout(pb_http_request *req, void *app);
void pb_api_admin_me(pb_http_request *req, void *app);
void pb_api_admin_totp_enroll(pb_http_request *req, void *app);
void pb_api_admin_totp_confirm(pb_http_request *req, void *app);
void pb_api_admin_password(pb_http_request *req, void *app);
void pb_api_admin_players_list(pb_http_request *req, void *app);
void pb_api_admin_player_get(pb_http_request *req, void *app);
void pb_api_admin_player_block(pb_http_request *req, void *app);
void pb_api_admin_player_unblock(pb_http_request *req, void *app);
void pb_api_admin_player_launches_revoke(pb_http_request *req, void *app);
void pb_api_admin_player_accounts(pb_http_request *req, void *app);
void pb_api_admin_player_transfers(pb_http_request *req, void *app);
void pb_api_admin_brands_list(pb_http_request *req, void *app);
void pb_api_admin_brand_create(pb_http_request *req, void *app);
void pb_api_admin_brand_get(pb_http_request *req, void *app);
void pb_api_admin_brand_update(pb_http_request *req, void *app);
void pb_api_admin_staff_list(pb_http_request *req, void *app);
void pb_api_admin_staff_create(pb_http_request *req, void *app);
void pb_api_admin_staff_get(pb_http_request *req, void *app);
void pb_api_admin_staff_update(pb_http_request *req, void *app);
void pb_api_admin_audit_query(pb_http_request *req, void *app);
void pb_api_admin_audit_export(pb_http_request *req, void *app);
/* The audit signing key (loaded, or created on first start, in keys_dir) and the
 * checkpointer thread (its own connection to store) into app. 0, or -1 with a
 * reason in err; pb_api_admin_close() frees what was opened either way. */
typedef struct pb_api_checkpointer pb_api_checkpointer;
int pb_api_admin_open(pb_api_app *app, pb_store *store, const char *keys_dir, char *err,
                      size_t errcap);
/* Stops the checkpointer (signing the chain head first) and frees the key. */
void pb_api_admin_close(pb_api_app *app);

/* backups.c: scheduled backups (serve --backup-dir): every every_s seconds an
 * online backup of store into dir (created 0700 if missing) as
 * pitboss-<UTC time>.db, integrity-checked, ledger-verified and, with
 * trust[0..ntrust) (the key serve signs audit checkpoints with and the retired
 * ones; none: not checked), audit-verified; the oldest beyond keep removed after
 * each clean one. NULL with a reason in err. Stop waits for a backup under way.
 * Metrics: NULL prints nothing. */
typedef struct pb_api_backups pb_api_backups;
struct pb_audit_trust;
pb_api_backups *pb_api_backups_start(pb_store *store, const char *dir, int every_s, int keep,
                                     const struct pb_audit_trust *trust, size_t ntrust, char *err,
                                     size_t errcap);
void pb_api_backups_stop(pb_api_backups *b);
void pb_api_backups_metrics(pb_api_backups *b, pb_http_buf *out);

#endif
