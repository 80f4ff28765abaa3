/*
 * admin.h — what the staff API files (admin_*.c) share; private to src/api/.
 *
 * The staff API (/v1/admin/…) is thin like every handler: parse → the
 * authorizer already checked the route's permission → brand scope → a domain
 * call → reply. What it adds is the audit trail: every change a staff member
 * makes is appended to the audit log INSIDE the same write transaction as the
 * change (pb_admin_write), so both commit or neither does. Operations whose
 * domain call runs its own transactions (logins, password changes, staff
 * creation: identity hashes passwords outside any transaction) are audited in
 * a transaction of their own right after.
 *
 * Brand scope: staff see the brands of their scope. A player, brand or staff
 * member outside it answers 404 (PLAYER_NOT_FOUND, BRAND_NOT_FOUND,
 * STAFF_NOT_FOUND) — the same answer as a missing one, so a scoped member
 * cannot learn what exists elsewhere. Asking for something that can only be
 * granted globally (creating a brand, an all-brands member, the full audit
 * export) is 403 BRAND_FORBIDDEN.
 */
#ifndef PB_API_ADMIN_H
#define PB_API_ADMIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "audit/audit.h"
#include "identity/identity.h"
#include "ledger/ledger.h"
#include "store/store_backoffice_people.h"
#include "store/store_identity.h"
#include "tenancy/tenancy.h"

/* How often a write transaction is tried when the database is busy. */
#define PB_ADMIN_TX_ATTEMPTS 5

/* The body of a write transaction: the domain change and its audit entry, on
 * c inside an open PB_STORE_WRITE transaction. It may run more than once (a
 * busy database retries it), so it must start from ctx afresh each time.
 * *bad_field (starts NULL) names the request field at fault on a 4xx. */
typedef pb_err (*pb_admin_tx_fn)(pb_store_conn *c, void *ctx, const char **bad_field);

/* Runs fn in a write transaction on the request's connection: begin, a re-check
 * of the request's principal as the transaction sees it (pb_identity_principal_check:
 * a caller disabled, demoted or logged out since the authorizer ran is refused with
 * SESSION_REVOKED / FORBIDDEN and nothing written), fn, commit; rolls back on any failure; retries a busy database (begin, a busy
 * statement reported as STORE_UNAVAILABLE, commit) PB_ADMIN_TX_ATTEMPTS times. */
pb_err pb_admin_write(pb_http_request *req, pb_admin_tx_fn fn, void *ctx, const char **bad_field);

/* An audit entry for this request: the staff caller p as actor (id, role),
 * action, the trace id and the client's IP. The caller adds brand, target,
 * before/after and reason. Pointers borrow from p and the request. */
void pb_admin_entry(pb_http_request *req, const pb_principal *p, const char *action,
                    pb_audit_entry *e);

/* The compact JSON text of v (for an audit entry's before/after) in request
 * memory, stealing the reference to v; NULL on OOM or when v is NULL. */
const char *pb_admin_json_text(pb_http_request *req, json_t *v);

/* Replies with a domain error: the code's status, naming field when given. */
void pb_admin_fail(pb_http_request *req, pb_err e, const char *field);

/* The brand a staff request names by code (a ?brand= filter, a {brand} in the
 * path, a body's brand), read on c into *out, if it is in p's scope. A brand
 * that does not exist and a brand outside the scope get the same answer,
 * BRAND_FORBIDDEN (403, field "brand"), whoever asks, so a member limited to
 * some brands cannot learn which other codes exist; NULL code is unknown.
 * INTERNAL / STORE_UNAVAILABLE on a store failure. THE check of a named brand
 * on every admin route (pb_api_bo_brands uses it): no copies. */
pb_err pb_admin_brand_in_scope(pb_store_conn *c, const pb_principal *p, const char *code,
                               pb_brand *out);

/* The code of brand `id` into out (NUL-terminated). BRAND_NOT_FOUND, INTERNAL. */
pb_err pb_admin_brand_code(pb_store_conn *c, int64_t id, char out[PB_BRAND_CODE_MAX + 1]);

/* Whether reason can be stored as an audit entry's reason for action as it is
 * (no control characters, not only spaces); replies 422 FIELD_INVALID naming
 * "reason" and returns false when not. Checked before anything is written. */
bool pb_admin_reason_ok(pb_http_request *req, const pb_principal *p, const char *action,
                        const char *reason);

/* The body fields every staff money request has (a field spec's entries, into the
 * const char * at dst): "reason" (required, 1..500 characters) and
 * "idempotency_key" (required, 1..100; check it with pb_admin_key_ok). */
#define PB_ADMIN_FIELD_REASON(dst)                                                                \
    {                                                                                             \
        .name = "reason", .type = PB_JSON_STRING, .required = true, .min_len = 1, .max_len = 500, \
        .str = (dst)                                                                              \
    }
#define PB_ADMIN_FIELD_KEY(dst)                                                            \
    {                                                                                      \
        .name = "idempotency_key", .type = PB_JSON_STRING, .required = true, .min_len = 1, \
        .max_len = 100, .str = (dst)                                                       \
    }

/* Whether a request's idempotency_key (its length checked by the body's field spec)
 * is printable ASCII without spaces, as every money route requires; replies 422
 * FIELD_INVALID naming "idempotency_key" and returns false when not. */
bool pb_admin_key_ok(pb_http_request *req, const char *key);

/* A body of exactly {reason} (1..max_len characters), checked with
 * pb_admin_reason_ok for action. Replies and returns false on error. */
bool pb_admin_parse_reason(pb_http_request *req, const pb_principal *p, const char *action,
                           size_t max_len, const char **reason);

/* A body-less POST: accepts an empty body or a JSON object without fields
 * (anything else is refused like any body). Replies and returns false on error. */
bool pb_admin_parse_empty(pb_http_request *req);
/* The start of a list handler (GET): the caller into *p and the request's
 * connection into *c, and a body only as pb_admin_parse_empty accepts it.
 * Replies (the body's error, else STORE_UNAVAILABLE without a connection, else
 * UNAUTHENTICATED without a caller) and returns false when any is missing. */
bool pb_admin_list_begin(pb_http_request *req, const pb_principal **p, pb_store_conn **c);

/* ---- staff e-mails in answers (admin_common.c) */

/* Staff e-mails already read for one answer (a page names few distinct staff):
 * zero-initialize one per answer and pass it to each lookup. */
#define PB_ADMIN_EMAILS_CACHED 16
typedef struct pb_admin_emails {
    size_t n;
    struct {
        char id[PB_ID_STR_LEN + 1];
        char email[PB_EMAIL_MAX + 1]; /* "": no such staff member */
    } e[PB_ADMIN_EMAILS_CACHED];
} pb_admin_emails;
/* The e-mail of staff member id (public id) read on c (or from cache) as JSON: a
 * string, or null when id is NULL or empty or there is no such staff member; NULL
 * on a store failure or OOM. For answers to staff only: finance staff (who may not
 * read the staff list) see who asked and who decided. Never put it in an audit
 * entry, an event or the player export. */
json_t *pb_admin_staff_email_json(pb_store_conn *c, pb_admin_emails *cache, const char *id);
/* Adds "requested_by_email" and "decided_by_email" (pb_admin_staff_email_json of
 * requested_by and decided_by) to a 4-eyes request record o for a staff answer.
 * Returns o, or NULL (o released) when o is NULL or on a store failure or OOM. */
json_t *pb_admin_request_emails(pb_store_conn *c, pb_admin_emails *cache, json_t *o,
                                const char *requested_by, const char *decided_by);

/* ---- 4-eyes requests: admin_4eyes.h */

/* ---- query parameters: each replies (422 FIELD_INVALID naming the parameter)
 * and returns false when the value is malformed; an absent one keeps *out. */

/* A whole decimal number in [min, max]. */
bool pb_admin_query_int(pb_http_request *req, const char *name, int64_t min, int64_t max,
                        int64_t *out);
/* An RFC 3339 date-time → µs since the epoch. */
bool pb_admin_query_time(pb_http_request *req, const char *name, int64_t *out);
/* A string of 1..max bytes without control characters; *out NULL when absent. */
bool pb_admin_query_str(pb_http_request *req, const char *name, size_t max, const char **out);
/* from < to when both are set; names `to_name` otherwise. */
bool pb_admin_query_range(pb_http_request *req, int64_t from, int64_t to, const char *to_name);

/* ---- JSON views */

/* An RFC 3339 string, or null for 0 ("never"). */
json_t *pb_admin_time_json(int64_t us);
/* A page cursor as an opaque string, or null for 0 (the last page). */
json_t *pb_admin_cursor_json(int64_t cursor);
/* A staff member as the API shows it (no secrets), with the codes of their
 * brands read on c. NULL on a store failure or OOM. */
json_t *pb_admin_staff_json(pb_store_conn *c, const pb_staff *s);

/* The views of a player's pages, shared with the player export
 * (admin_player_export.c); each NULL on OOM or a value it cannot show. */
/* The player (admin_players.c); personal data in the clear when pii, else masked. */
json_t *pb_admin_player_json(const pb_player *pl, const char *brand, bool pii);
/* An amount as a decimal string in its currency (admin_player_ledger.c); NULL
 * when it cannot be shown. */
json_t *pb_admin_amount_json(int64_t minor, const char *currency);
/* [{address, locked_until}] of per-address login locks (pb_identity_login_locks):
 * address null when the client's address was unknown. NULL when out of memory. */
json_t *pb_admin_login_locks_json(const pb_store_login_lock *locks, size_t n);
/* Appends an unlock's audit entry (admin_players.c; the player and staff unlocks):
 * action ("player.login_unlock" / "staff.login_unlock") by p on target_kind
 * target_id, brand (NULL: none), with the reason; before {failed_logins,
 * locked_until (the account-wide lock in force, or null), address_locks (how
 * many were in force)}, after the same zeroed. INTERNAL when out of memory. */
pb_err pb_admin_unlock_audit(pb_store_conn *c, pb_http_request *req, const pb_principal *p,
                             const char *action, const char *brand, const char *target_kind,
                             const char *target_id, const char *reason, const pb_login_unlock *u,
                             int64_t now);
/* Runs an unlock's write (tx on ctx: the subject found in scope, its locks
 * cleared into *u, the entry appended, its public id left in public_id) and
 * answers: the failure, or 200 {<kind>: public_id, account_lock_cleared,
 * address_locks_cleared}. kind: "player" / "staff". */
void pb_admin_unlock_run(pb_http_request *req, pb_admin_tx_fn tx, void *ctx, const char *kind,
                         const char *public_id, const pb_login_unlock *u);
/* The player's ledger accounts that exist, in the order the pages show them: per
 * currency (the brand's, then the player's own when the brand no longer lists it)
 * the cash account, then the bonus account. At most PB_ADMIN_PLAYER_ACCOUNTS_MAX
 * into out (admin_players.c). A store failure as its error. */
#define PB_ADMIN_PLAYER_ACCOUNTS_MAX (2 * (PB_BRAND_CURRENCIES_MAX + 1))
pb_err pb_admin_player_accounts(pb_store_conn *c, const pb_brand *b, const pb_player *pl,
                                pb_ledger_account *out, size_t *n);
/* A ledger account with its balances (admin_players.c). */
json_t *pb_admin_account_json(const pb_ledger_account *a);
/* A transfer as seen from the player's account `account` (admin_players.c). */
json_t *pb_admin_transfer_json(const pb_ledger_record *t, int64_t account);
/* A login session (admin_player_more.c); IP and user agent in the clear when pii. */
json_t *pb_admin_session_json(const pb_store_session *s, bool pii, int64_t now);
/* A staff note on a player (admin_player_more.c). */
json_t *pb_admin_note_json(const pb_store_player_note *n);
/* A game round, provider's or in-house (admin_player_more.c). */
json_t *pb_admin_round_json(const pb_store_player_round *r);
/* An audit entry as GET /v1/admin/audit shows it (admin_audit.c). */
json_t *pb_admin_audit_entry_json(const pb_audit_record *r);

/* ---- brand scope */

/* True when every brand of `s` is in `scope` (an all-brands member only for an
 * all-brands caller). */
bool pb_admin_staff_visible(const pb_brand_scope *scope, const pb_staff *s);
/* The codes of the brands in a limited scope, into codes[PB_SCOPE_MAX_BRANDS]. */
pb_err pb_admin_scope_codes(pb_store_conn *c, const pb_brand_scope *scope,
                            char codes[][PB_BRAND_CODE_MAX + 1], size_t *n);

#endif
