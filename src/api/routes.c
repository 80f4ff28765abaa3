/*
 * routes.c — the one route table of the pitboss API.
 *
 * Columns: method, path pattern, permission, handler, stable name.
 * Permission NULL = public; "player" = a player's access token; anything else
 * = a staff permission (see pb_route in http/http.h). Every row must also be
 * an operation in docs/openapi.yaml (checked by tests/api/test_ops.py).
 */
#include "api/api.h"

const pb_route pb_api_routes[] = {
    /* operations (public) */
    {"GET", "/healthz", NULL, pb_api_healthz, "healthz"},
    {"GET", "/readyz", NULL, pb_api_readyz, "readyz"},
    {"GET", "/metrics", NULL, pb_api_metrics, "metrics"},
    {"GET", "/openapi.yaml", NULL, pb_api_openapi, "openapi"},
    {"GET", "/docs", NULL, pb_api_docs, "docs"},
    /* @api-routes */
    /* @api-routes-player */
    {"GET", "/.well-known/jwks.json", NULL, pb_api_jwks, "jwks"},
    {"POST", "/v1/player/register", NULL, pb_api_player_register, "player.register"},
    {"POST", "/v1/player/login", NULL, pb_api_player_login, "player.login"},
    {"POST", "/v1/player/refresh", NULL, pb_api_player_refresh, "player.refresh"},
    {"POST", "/v1/player/logout", "player", pb_api_player_logout, "player.logout"},
    {"GET", "/v1/player/profile", "player", pb_api_player_profile, "player.profile"},
    {"GET", "/v1/player/sessions", "player", pb_api_player_sessions, "player.sessions"},
    {"DELETE", "/v1/player/sessions/{id}", "player", pb_api_player_session_revoke,
     "player.session_revoke"},
    /* @api-routes-admin */
    /* @api-routes-sim */
    /* @api-routes-provider-hub88 */
    {"POST", "/v1/providers/{provider}/hub88/user/info", NULL, pb_api_hub88_user_info,
     "provider.hub88.user_info"},
    {"POST", "/v1/providers/{provider}/hub88/user/balance", NULL, pb_api_hub88_user_balance,
     "provider.hub88.user_balance"},
    {"POST", "/v1/providers/{provider}/hub88/transaction/bet", NULL, pb_api_hub88_bet,
     "provider.hub88.bet"},
    {"POST", "/v1/providers/{provider}/hub88/transaction/win", NULL, pb_api_hub88_win,
     "provider.hub88.win"},
    {"POST", "/v1/providers/{provider}/hub88/transaction/rollback", NULL, pb_api_hub88_rollback,
     "provider.hub88.rollback"},
    /* @api-routes-provider-native */
    {"POST", "/v1/providers/{provider}/session", NULL, pb_api_native_session, "native.session"},
    {"POST", "/v1/providers/{provider}/balance", NULL, pb_api_native_balance, "native.balance"},
    {"POST", "/v1/providers/{provider}/bet", NULL, pb_api_native_bet, "native.bet"},
    {"POST", "/v1/providers/{provider}/win", NULL, pb_api_native_win, "native.win"},
    {"POST", "/v1/providers/{provider}/rollback", NULL, pb_api_native_rollback, "native.rollback"},
    {"POST", "/v1/providers/{provider}/round/close", NULL, pb_api_native_round_close,
     "native.round_close"},
    /* @api-routes-cashier */
    /* @api-routes-catalog */
    {"GET", "/v1/admin/providers", "games.read", pb_api_admin_providers_list,
     "admin.providers.list"},
    {"POST", "/v1/admin/providers", "games.manage", pb_api_admin_provider_create,
     "admin.providers.create"},
    {"GET", "/v1/admin/providers/{code}", "games.read", pb_api_admin_provider_get,
     "admin.providers.get"},
    {"PATCH", "/v1/admin/providers/{code}", "games.manage", pb_api_admin_provider_update,
     "admin.providers.update"},
    {"GET", "/v1/admin/games", "games.read", pb_api_admin_games_list, "admin.games.list"},
    {"POST", "/v1/admin/providers/{code}/games", "games.manage", pb_api_admin_game_create,
     "admin.games.create"},
    {"GET", "/v1/admin/providers/{code}/games/{game}", "games.read", pb_api_admin_game_get,
     "admin.games.get"},
    {"PATCH", "/v1/admin/providers/{code}/games/{game}", "games.manage",
     pb_api_admin_game_update, "admin.games.update"},
    {"PUT", "/v1/admin/brands/{brand}/games/{provider}/{game}", "games.manage",
     pb_api_admin_brand_game_set, "admin.brands.games.set"},
    {"GET", "/v1/player/games", "player", pb_api_player_games, "player.games"},
    {"POST", "/v1/player/games/{provider}/{game}/launch", "player", pb_api_player_game_launch,
     "player.games.launch"},
    /* @api-routes-wallet */
    {"GET", "/v1/player/wallet", "player", pb_api_player_wallet, "player.wallet"},
    {"GET", "/v1/player/transactions", "player", pb_api_player_transactions,
     "player.transactions.list"},
    {"GET", "/v1/player/transactions/{id}", "player", pb_api_player_transaction_get,
     "player.transactions.get"},
    {"POST", "/v1/admin/players/{id}/adjustments", "finance.adjust", pb_api_admin_player_adjust,
     "admin.players.adjust"},
    /* the staff API: "staff" = any staff session, setup included (self-service) */
    {"POST", "/v1/admin/login", NULL, pb_api_admin_login, "admin.login"},
    {"POST", "/v1/admin/refresh", NULL, pb_api_admin_refresh, "admin.refresh"},
    {"POST", "/v1/admin/logout", "staff", pb_api_admin_logout, "admin.logout"},
    {"GET", "/v1/admin/me", "staff", pb_api_admin_me, "admin.me"},
    {"POST", "/v1/admin/totp/enroll", "staff", pb_api_admin_totp_enroll, "admin.totp.enroll"},
    {"POST", "/v1/admin/totp/confirm", "staff", pb_api_admin_totp_confirm, "admin.totp.confirm"},
    {"POST", "/v1/admin/password", "staff", pb_api_admin_password, "admin.password"},
    {"GET", "/v1/admin/players", "players.read", pb_api_admin_players_list, "admin.players.list"},
    {"GET", "/v1/admin/players/{id}", "players.read", pb_api_admin_player_get,
     "admin.players.get"},
    {"POST", "/v1/admin/players/{id}/block", "players.block", pb_api_admin_player_block,
     "admin.players.block"},
    {"POST", "/v1/admin/players/{id}/unblock", "players.block", pb_api_admin_player_unblock,
     "admin.players.unblock"},
    {"GET", "/v1/admin/players/{id}/accounts", "players.ledger.read",
     pb_api_admin_player_accounts, "admin.players.accounts"},
    {"GET", "/v1/admin/players/{id}/transfers", "players.ledger.read",
     pb_api_admin_player_transfers, "admin.players.transfers"},
    {"GET", "/v1/admin/brands", "brands.read", pb_api_admin_brands_list, "admin.brands.list"},
    {"POST", "/v1/admin/brands", "brands.manage", pb_api_admin_brand_create,
     "admin.brands.create"},
    {"GET", "/v1/admin/brands/{code}", "brands.read", pb_api_admin_brand_get, "admin.brands.get"},
    {"PATCH", "/v1/admin/brands/{code}", "brands.manage", pb_api_admin_brand_update,
     "admin.brands.update"},
    {"GET", "/v1/admin/staff", "staff.read", pb_api_admin_staff_list, "admin.staff.list"},
    {"POST", "/v1/admin/staff", "staff.manage", pb_api_admin_staff_create, "admin.staff.create"},
    {"GET", "/v1/admin/staff/{id}", "staff.read", pb_api_admin_staff_get, "admin.staff.get"},
    {"PATCH", "/v1/admin/staff/{id}", "staff.manage", pb_api_admin_staff_update,
     "admin.staff.update"},
    {"GET", "/v1/admin/audit", "audit.read", pb_api_admin_audit_query, "admin.audit.query"},
    {"GET", "/v1/admin/audit/export", "audit.export", pb_api_admin_audit_export,
     "admin.audit.export"},
};

const size_t pb_api_route_count = sizeof pb_api_routes / sizeof pb_api_routes[0];
