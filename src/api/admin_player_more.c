/*
 * admin_player_more.c — the player page's extra parts, as staff see them.
 *
 *   GET  /v1/admin/players/{id}/sessions  players.read   login sessions and devices
 *   GET  /v1/admin/players/{id}/notes     players.read   staff notes, newest first
 *   POST /v1/admin/players/{id}/notes     players.write  {text}: append a note (audited)
 *   GET  /v1/admin/players/{id}/rounds    players.read   game rounds of both sources
 *   POST /v1/admin/players/{id}/launches/revoke
 *                                         players.block  {reason}: every live game launch
 *                                                        ends now (audited)
 *   POST /v1/admin/players/{id}/sessions/revoke
 *                                         players.sessions.manage  {reason}: every
 *                                                        login session ends now (audited)
 *
 * Scope exactly as GET /v1/admin/players/{id}: a player outside the caller's
 * brand scope is 404 PLAYER_NOT_FOUND, like one that does not exist.
 *
 * Sessions: every session of the player (live, expired, revoked), newest first,
 * with a short device label parsed from the User-Agent ("Chrome on Windows").
 * The IP address and the User-Agent are personal data: without players.pii.read
 * the IP is masked ("203.0.*.*") and the User-Agent is null (the label stays).
 *
 * Notes are append-only (the table refuses UPDATE and DELETE); a note and its
 * audit entry (player.note_added) commit in one write transaction.
 *
 * Rounds: in-house rounds (game_round) and provider rounds (the player's wallet
 * operations grouped by round) in one list, newest started first. The store
 * orders both by (started_at, source, provider, id), so the cursor is that
 * position (hex-encoded, opaque) and pages never skip or repeat a round.
 *
 * Launches: ending them (pb_catalog_launch_revoke_player) makes the provider's
 * sessions, balances and bets with them TOKEN_EXPIRED at once, while the wins and
 * rollbacks of their bets are still paid; audited as player.launches_revoke with
 * how many were live, in the same write transaction. Blocking a player leaves the
 * launches alone (admin_players.c).
 *
 * Sessions: "log the player out everywhere" (a suspected account takeover, a
 * shared device): every session of theirs not yet revoked is revoked with its
 * refresh tokens (pb_identity_sessions_revoke_all), so their access tokens are
 * SESSION_REVOKED at once and no refresh works; the player can log in again
 * (blocking is players.block). Audited as player.sessions_revoke with how many
 * sessions ended, in the same write transaction.
 *
 * Unlock: support ends a player's login locks before they expire (the player
 * proved who they are another way): the account's failure count and lock and
 * every per-address count are cleared (pb_identity_login_unlock). Needs
 * players.sessions.manage (managing how a player gets in, like the revoke).
 * Audited as player.login_unlock with what was in force, in the same write
 * transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "catalog/catalog.h"
#include "core/money.h"
#include "core/time.h"
#include "games/play.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200
#define NOTE_CHARS_MAX 2000

/* The caller's right to personal data. */
static bool sees_pii(const pb_principal *p)
{
    return pb_rbac_allows(p->role, PB_PERM_PLAYERS_PII_READ);
}

/* The page size (?limit) and the player in scope; replies and returns false on error. */
static bool page_and_player(pb_http_request *req, const pb_principal *p, int64_t *limit,
                            pb_player *pl)
{
    *limit = PAGE_DEFAULT;
    if (!pb_admin_query_int(req, "limit", 1, PAGE_MAX, limit))
        return false;
    pb_store_conn *c = pb_http_conn(req);
    pb_err e = c ? pb_identity_player_get(c, &p->scope, pb_http_param(req, "id"), pl)
                 : PB_ERR_STORE_UNAVAILABLE;
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return false;
    }
    return true;
}

/* An amount as a decimal string in its currency; null when it cannot be shown. */
static json_t *amount_json(int64_t minor, const char *currency)
{
    const pb_currency *cur = pb_currency_find(currency);
    char buf[PB_MONEY_STR_MAX];
    if (!cur || pb_money_format(minor, cur, buf, sizeof buf) < 0)
        return json_null();
    return json_string(buf);
}

/* ---- sessions */

/* "Chrome on Windows" from a User-Agent; "Unknown device" when nothing is recognised. */
static void device_label(const char *ua, char *out, size_t cap)
{
    static const struct {
        const char *needle, *name;
    } BROWSERS[] = {{"Edg/", "Edge"},          {"OPR/", "Opera"},
                    {"Firefox/", "Firefox"},   {"Chrome/", "Chrome"},
                    {"CriOS/", "Chrome"},      {"Safari/", "Safari"},
                    {"curl/", "curl"},         {"python", "Python"},
                    {"okhttp", "Android app"}, {"HeadlessChrome", "Chrome"}},
      SYSTEMS[] = {{"Windows", "Windows"}, {"Android", "Android"}, {"iPhone", "iOS"},
                   {"iPad", "iPadOS"},     {"Mac OS X", "macOS"},  {"CrOS", "ChromeOS"},
                   {"Linux", "Linux"}};
    const char *browser = NULL, *os = NULL;
    for (size_t i = 0; !browser && i < sizeof BROWSERS / sizeof BROWSERS[0]; i++)
        if (strstr(ua, BROWSERS[i].needle))
            browser = BROWSERS[i].name;
    for (size_t i = 0; !os && i < sizeof SYSTEMS / sizeof SYSTEMS[0]; i++)
        if (strstr(ua, SYSTEMS[i].needle))
            os = SYSTEMS[i].name;
    if (browser && os)
        snprintf(out, cap, "%s on %s", browser, os);
    else if (browser || os)
        snprintf(out, cap, "%s", browser ? browser : os);
    else
        snprintf(out, cap, "%s", ua[0] ? "Unknown device" : "Unknown");
}

/* "203.0.*.*" / "2001:db8:*": the network, not the host. */
static void mask_ip(const char *ip, char *out, size_t cap)
{
    if (!ip[0]) {
        snprintf(out, cap, "%s", "");
        return;
    }
    const char *colon = strchr(ip, ':');
    if (colon) { /* IPv6: the first group */
        snprintf(out, cap, "%.*s:*", (int)(colon - ip), ip);
        return;
    }
    const char *dot = strchr(ip, '.');
    const char *dot2 = dot ? strchr(dot + 1, '.') : NULL;
    if (!dot2)
        snprintf(out, cap, "*");
    else
        snprintf(out, cap, "%.*s.*.*", (int)(dot2 - ip), ip);
}

json_t *pb_admin_session_json(const pb_store_session *s, bool pii, int64_t now)
{
    char label[64], ip[PB_IP_MAX + 8];
    device_label(s->user_agent, label, sizeof label);
    if (pii)
        snprintf(ip, sizeof ip, "%s", s->ip);
    else
        mask_ip(s->ip, ip, sizeof ip);
    bool idle = s->idle_s > 0 && s->last_seen_at + s->idle_s * 1000000 <= now;
    bool active = s->revoked_at == 0 && s->expires_at > now && !idle;
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:b}", "id", s->public_id, "scope",
                     s->scope, "created_at", pb_admin_time_json(s->created_at), "last_seen_at",
                     pb_admin_time_json(s->last_seen_at), "ip",
                     s->ip[0] ? json_string(ip) : json_null(), "device", label, "user_agent",
                     pii ? json_string(s->user_agent) : json_null(), "expires_at",
                     pb_admin_time_json(s->expires_at), "revoked_at",
                     pb_admin_time_json(s->revoked_at), "revoke_reason",
                     s->revoke_reason[0] ? json_string(s->revoke_reason) : json_null(), "active",
                     active);
}

/* The tail of a player's keyset page: rows holds n ≤ limit + 1 entries of size
 * bytes (one past limit says there is more; the cursor is id() of the last one
 * shown), each rendered by json(row, ctx) into the array `key`. Replies
 * {"player_id", key, "next_cursor"}, or the failure e / INTERNAL. */
typedef int64_t (*row_id_fn)(const void *row);
typedef json_t *(*row_json_fn)(const void *row, void *ctx);

static void reply_page(pb_http_request *req, const pb_player *pl, const char *key, pb_err e,
                       const void *rows, size_t size, size_t n, int64_t limit, row_id_fn id,
                       row_json_fn json, void *ctx)
{
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    const char *base = rows;
    int64_t next = n > (size_t)limit ? id(base + (size_t)(limit - 1) * size) : 0;
    if (n > (size_t)limit)
        n = (size_t)limit;
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, json(base + i * size, ctx)) != 0) {
            json_decref(list);
            list = NULL;
        }
    pb_http_reply_json(req, 200,
                       list ? json_pack("{s:s,s:o,s:o}", "player_id", pl->public_id, key, list,
                                        "next_cursor", pb_admin_cursor_json(next))
                            : NULL);
}

typedef struct session_view {
    bool pii;
    int64_t now;
} session_view;

static int64_t session_id(const void *row) { return ((const pb_store_session *)row)->id; }

static json_t *session_row_json(const void *row, void *ctx)
{
    const session_view *v = ctx;
    return pb_admin_session_json(row, v->pii, v->now);
}

void pb_api_admin_player_sessions(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    int64_t limit, cursor = 0;
    pb_player pl;
    if (!pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor) ||
        !page_and_player(req, p, &limit, &pl))
        return;
    pb_store_session *rows = calloc((size_t)limit + 1, sizeof *rows);
    size_t n = 0;
    pb_err e = rows ? PB_OK : PB_ERR_INTERNAL;
    if (e == PB_OK && pb_store_player_session_page(pb_http_conn(req), pl.id, cursor, rows,
                                                   (size_t)limit + 1, &n) != PB_STORE_OK)
        e = PB_ERR_STORE_UNAVAILABLE;
    session_view v = {.pii = sees_pii(p), .now = pb_time_now_us()};
    reply_page(req, &pl, "sessions", e, rows, sizeof *rows, n, limit, session_id, session_row_json,
               &v);
    free(rows);
}

/* ---- notes */

json_t *pb_admin_note_json(const pb_store_player_note *n)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)n->id);
    return json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", id, "text", n->text, "author_id", n->author_id,
                     "author_email", n->author_email, "created_at",
                     pb_admin_time_json(n->created_at));
}

static int64_t note_id(const void *row) { return ((const pb_store_player_note *)row)->id; }

static json_t *note_row_json(const void *row, void *ctx)
{
    (void)ctx;
    return pb_admin_note_json(row);
}

void pb_api_admin_player_notes_list(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    int64_t limit, cursor = 0;
    pb_player pl;
    if (!pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor) ||
        !page_and_player(req, p, &limit, &pl))
        return;
    pb_store_player_note *rows = calloc((size_t)limit + 1, sizeof *rows);
    size_t n = 0;
    pb_err e = rows ? PB_OK : PB_ERR_INTERNAL;
    if (e == PB_OK && pb_store_player_note_list(pb_http_conn(req), pl.id, cursor, rows,
                                                (size_t)limit + 1, &n) != PB_STORE_OK)
        e = PB_ERR_STORE_UNAVAILABLE;
    reply_page(req, &pl, "notes", e, rows, sizeof *rows, n, limit, note_id, note_row_json, NULL);
    free(rows);
}

typedef struct note_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const char *id, *text;
    pb_store_player_note note;
} note_ctx;

/* Reads the player and the author, appends the note and its audit entry. */
static pb_err note_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    note_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    pb_player pl;
    pb_staff s;
    pb_err e = pb_identity_player_get(c, &x->p->scope, x->id, &pl);
    if (e == PB_OK)
        e = pb_identity_staff_get(c, x->p->subject_public_id, &s);
    if (e != PB_OK)
        return e == PB_ERR_STAFF_NOT_FOUND ? PB_ERR_INTERNAL : e;
    char brand[PB_BRAND_CODE_MAX + 1];
    e = pb_admin_brand_code(c, pl.brand_id, brand);
    if (e != PB_OK)
        return e == PB_ERR_BRAND_NOT_FOUND ? PB_ERR_INTERNAL : e;
    pb_store_player_note *n = &x->note;
    memset(n, 0, sizeof *n);
    n->player_id = pl.id;
    n->brand_id = pl.brand_id;
    snprintf(n->author_id, sizeof n->author_id, "%s", s.public_id);
    snprintf(n->author_email, sizeof n->author_email, "%s", s.email);
    snprintf(n->text, sizeof n->text, "%s", x->text);
    n->created_at = now;
    pb_store_rc rc = pb_store_player_note_insert(c, n);
    if (rc != PB_STORE_OK)
        return rc == PB_STORE_BUSY ? PB_ERR_STORE_UNAVAILABLE : PB_ERR_INTERNAL;
    char note_id[24];
    snprintf(note_id, sizeof note_id, "%lld", (long long)n->id);
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "player.note_added", &en);
    en.brand = brand[0] ? brand : NULL;
    en.target_kind = "player";
    en.target_id = pl.public_id;
    en.after = pb_admin_json_text(x->req,
                                  json_pack("{s:s,s:s}", "note_id", note_id, "text", n->text));
    if (!en.after)
        return PB_ERR_INTERNAL;
    return pb_audit_append(c, &en, now);
}

/* The number of UTF-8 characters in s (its bytes are valid UTF-8: the parser checked). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void pb_api_admin_player_note_add(pb_http_request *req, void *app)
{
    (void)app;
    note_ctx *x = pb_http_alloc(req, sizeof *x);
    if (!x) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    memset(x, 0, sizeof *x);
    x->req = req;
    x->p = pb_api_principal(req);
    x->id = pb_http_param(req, "id");
    pb_json_field f[] = {{.name = "text",
                          .type = PB_JSON_STRING,
                          .required = true,
                          .min_len = 1,
                          .max_len = PB_NOTE_TEXT_MAX,
                          .str = &x->text}};
    if (!pb_http_parse_json(req, f, 1))
        return;
    size_t chars = utf8_chars(x->text);
    bool blank = strspn(x->text, " \t\r\n") == strlen(x->text);
    bool ctrl = false;
    for (const char *s = x->text; *s; s++)
        ctrl |= ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r') || *s == 0x7f;
    if (chars > NOTE_CHARS_MAX || blank || ctrl) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "text",
                                "text: 1 to 2000 characters, not only spaces, no control "
                                "characters except line breaks and tabs");
        return;
    }
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, note_tx, x, &bad);
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    pb_http_reply_json(req, 201, json_pack("{s:o}", "note", pb_admin_note_json(&x->note)));
}

/* ---- rounds */

/* The cursor: the hex of "started\x1fsource\x1fprovider\x1fid". */
static json_t *round_cursor_json(const pb_store_player_round *r)
{
    char raw[PB_ROUND_ID_MAX + PB_ROUND_TEXT_MAX + 64];
    int len = snprintf(raw, sizeof raw, "%lld\x1f%s\x1f%s\x1f%s", (long long)r->started_at,
                       r->source, r->provider, r->id);
    if (len < 0 || (size_t)len >= sizeof raw)
        return json_null();
    char hex[sizeof raw * 2 + 1];
    for (int i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)raw[i]);
    hex[2 * len] = 0;
    return json_string(hex);
}

/* Reads ?cursor into pos; replies and returns false when it is not one of ours. */
static bool round_cursor_parse(pb_http_request *req, pb_store_round_pos *pos)
{
    const char *v = pb_http_query(req, "cursor");
    if (!v)
        return true;
    char raw[PB_ROUND_ID_MAX + PB_ROUND_TEXT_MAX + 64];
    size_t len = strlen(v);
    bool ok = len > 0 && len % 2 == 0 && len / 2 < sizeof raw &&
              strspn(v, "0123456789abcdef") == len;
    for (size_t i = 0; ok && i < len / 2; i++) {
        unsigned x;
        ok = sscanf(v + 2 * i, "%2x", &x) == 1 && x != 0;
        raw[i] = (char)x;
    }
    if (ok)
        raw[len / 2] = 0;
    char *f[4] = {raw, NULL, NULL, NULL};
    for (int i = 1; ok && i < 4; i++) {
        char *sep = strchr(f[i - 1], '\x1f');
        ok = sep != NULL;
        if (ok) {
            *sep = 0;
            f[i] = sep + 1;
        }
    }
    char *end = NULL;
    long long started = ok ? strtoll(f[0], &end, 10) : 0;
    ok = ok && end && !*end && started > 0 && strchr(f[3], '\x1f') == NULL &&
         (strcmp(f[1], "original") == 0 || strcmp(f[1], "provider") == 0) &&
         strlen(f[2]) < sizeof pos->provider && strlen(f[3]) < sizeof pos->id;
    if (!ok) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "cursor",
                                "query parameter cursor is not a cursor of this list");
        return false;
    }
    pos->started_at = started;
    snprintf(pos->source, sizeof pos->source, "%s", f[1]);
    snprintf(pos->provider, sizeof pos->provider, "%s", f[2]);
    snprintf(pos->id, sizeof pos->id, "%s", f[3]);
    return true;
}

json_t *pb_admin_round_json(const pb_store_player_round *r)
{
    /* state: an in-house round's own state (status keeps its coarse open for
     * the unfinished ones); null for a provider round */
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o}", "id", r->id,
                     "source", r->source, "provider", r->provider, "game", r->game, "currency",
                     r->currency, "bet", amount_json(r->bet, r->currency), "win",
                     amount_json(r->win, r->currency), "refunded",
                     amount_json(r->refunded, r->currency), "status", r->status, "state",
                     r->state[0] ? json_string(r->state) : json_null(), "started_at",
                     pb_admin_time_json(r->started_at), "settled_at",
                     pb_admin_time_json(r->settled_at), "multiplier",
                     r->has_multiplier ? json_integer(r->multiplier) : json_null(), "rtp_bp",
                     r->has_rtp_bp ? json_integer(r->rtp_bp) : json_null());
}

void pb_api_admin_player_rounds(pb_http_request *req, void *app)
{
    (void)app;
    const pb_principal *p = pb_api_principal(req);
    pb_store_round_query q = {.house_provider = PB_PLAY_PROVIDER};
    int64_t limit;
    pb_player pl;
    if (!pb_admin_query_str(req, "source", 16, &q.source) ||
        !pb_admin_query_str(req, "game", PB_ROUND_TEXT_MAX, &q.game) ||
        !pb_admin_query_time(req, "from", &q.from) || !pb_admin_query_time(req, "to", &q.to) ||
        !pb_admin_query_range(req, q.from, q.to, "to") || !round_cursor_parse(req, &q.after))
        return;
    if (q.source && strcmp(q.source, "original") != 0 && strcmp(q.source, "provider") != 0) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "source",
                                "query parameter source must be original or provider");
        return;
    }
    if (!page_and_player(req, p, &limit, &pl))
        return;
    q.player = pl.public_id;
    pb_store_player_round *rows = calloc((size_t)limit + 1, sizeof *rows);
    size_t n = 0;
    pb_err e = rows ? PB_OK : PB_ERR_INTERNAL;
    if (e == PB_OK && pb_store_player_round_page(pb_http_conn(req), &q, rows, (size_t)limit + 1,
                                                 &n) != PB_STORE_OK)
        e = PB_ERR_STORE_UNAVAILABLE;
    json_t *next = e == PB_OK && n > (size_t)limit ? round_cursor_json(&rows[limit - 1])
                                                   : json_null();
    if (n > (size_t)limit)
        n = (size_t)limit;
    json_t *list = e == PB_OK ? json_array() : NULL;
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, pb_admin_round_json(&rows[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    free(rows);
    if (e != PB_OK || !list) {
        json_decref(next);
        pb_admin_fail(req, e != PB_OK ? e : PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:s,s:o,s:o}", "player_id", pl.public_id, "rounds", list,
                                 "next_cursor", next));
}

typedef struct revoke_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const char *id, *reason;
    pb_player player;
    int64_t revoked;
    char brand[PB_BRAND_CODE_MAX + 1];
} revoke_ctx;

/* ---- game launches ---- */

/* Finds the player in the caller's scope, ends their live launches, appends the
 * entry. */
static pb_err revoke_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    revoke_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    pb_err e = pb_identity_player_get(c, &x->p->scope, x->id, &x->player);
    if (e == PB_OK)
        e = pb_catalog_launch_revoke_player(c, x->player.public_id, now, &x->revoked);
    if (e == PB_OK && (e = pb_admin_brand_code(c, x->player.brand_id, x->brand)) != PB_OK)
        e = e == PB_ERR_BRAND_NOT_FOUND ? PB_ERR_INTERNAL : e;
    if (e != PB_OK)
        return e;
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "player.launches_revoke", &en);
    en.brand = x->brand[0] ? x->brand : NULL;
    en.target_kind = "player";
    en.target_id = x->player.public_id;
    en.before = pb_admin_json_text(x->req,
                                   json_pack("{s:I}", "live_launches", (json_int_t)x->revoked));
    en.after = pb_admin_json_text(x->req, json_pack("{s:i}", "live_launches", 0));
    en.reason = x->reason;
    if (!en.before || !en.after)
        return PB_ERR_INTERNAL;
    return pb_audit_append(c, &en, now);
}

/* ---- login sessions ---- */

/* Finds the player in the caller's scope, revokes their sessions, appends the entry. */
static pb_err sessions_revoke_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    revoke_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    size_t n = 0;
    pb_err e = pb_identity_player_get(c, &x->p->scope, x->id, &x->player);
    if (e == PB_OK)
        e = pb_identity_sessions_revoke_all(c, PB_SUBJECT_PLAYER, x->player.id, now, &n);
    if (e == PB_OK && (e = pb_admin_brand_code(c, x->player.brand_id, x->brand)) != PB_OK)
        e = e == PB_ERR_BRAND_NOT_FOUND ? PB_ERR_INTERNAL : e;
    if (e != PB_OK)
        return e;
    x->revoked = (int64_t)n;
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, "player.sessions_revoke", &en);
    en.brand = x->brand[0] ? x->brand : NULL;
    en.target_kind = "player";
    en.target_id = x->player.public_id;
    en.after = pb_admin_json_text(x->req,
                                  json_pack("{s:I}", "sessions_revoked", (json_int_t)x->revoked));
    en.reason = x->reason;
    if (!en.after)
        return PB_ERR_INTERNAL;
    return pb_audit_append(c, &en, now);
}

/* POST …/sessions/revoke: {reason}; answers how many sessions ended. */
void pb_api_admin_player_sessions_revoke(pb_http_request *req, void *app)
{
    (void)app;
    revoke_ctx *x = pb_http_alloc(req, sizeof *x);
    if (!x) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    *x = (revoke_ctx){.req = req, .p = pb_api_principal(req), .id = pb_http_param(req, "id")};
    if (!pb_admin_parse_reason(req, x->p, "player.sessions_revoke", PB_REASON_MAX, &x->reason))
        return;
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, sessions_revoke_tx, x, &bad);
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    pb_http_reply_json(req, 200,
                       json_pack("{s:s,s:I}", "player", x->player.public_id, "revoked",
                                 (json_int_t)x->revoked));
}

/* ---- login locks ---- */

typedef struct unlock_ctx {
    revoke_ctx x;
    pb_login_unlock u;
} unlock_ctx;

/* Finds the player in the caller's scope, clears their locks, appends the entry. */
static pb_err unlock_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    (void)bad;
    unlock_ctx *t = ctx;
    revoke_ctx *x = &t->x;
    int64_t now = pb_time_now_us();
    pb_err e = pb_identity_player_get(c, &x->p->scope, x->id, &x->player);
    if (e == PB_OK)
        e = pb_identity_login_unlock(c, PB_SUBJECT_PLAYER, x->player.id, now, &t->u);
    if (e == PB_OK && (e = pb_admin_brand_code(c, x->player.brand_id, x->brand)) != PB_OK)
        e = e == PB_ERR_BRAND_NOT_FOUND ? PB_ERR_INTERNAL : e;
    if (e != PB_OK)
        return e;
    return pb_admin_unlock_audit(c, x->req, x->p, "player.login_unlock", x->brand, "player",
                                 x->player.public_id, x->reason, &t->u, now);
}

/* POST …/unlock: {reason}; answers what was cleared. */
void pb_api_admin_player_unlock(pb_http_request *req, void *app)
{
    (void)app;
    unlock_ctx *t = pb_http_alloc(req, sizeof *t);
    if (!t) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    *t = (unlock_ctx){
        .x = {.req = req, .p = pb_api_principal(req), .id = pb_http_param(req, "id")}};
    if (!pb_admin_parse_reason(req, t->x.p, "player.login_unlock", PB_REASON_MAX, &t->x.reason))
        return;
    pb_admin_unlock_run(req, unlock_tx, t, "player", t->x.player.public_id, &t->u);
}

/* POST …/launches/revoke: {reason}; answers how many launches were live. */
void pb_api_admin_player_launches_revoke(pb_http_request *req, void *app)
{
    (void)app;
    revoke_ctx *x = pb_http_alloc(req, sizeof *x);
    if (!x) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    *x = (revoke_ctx){.req = req, .p = pb_api_principal(req), .id = pb_http_param(req, "id")};
    if (!pb_admin_parse_reason(req, x->p, "player.launches_revoke", PB_REASON_MAX, &x->reason))
        return;
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, revoke_tx, x, &bad);
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    pb_catalog_launch_cache_forget(); /* committed: stop answering from what was read */
    pb_http_reply_json(req, 200,
                       json_pack("{s:s,s:I}", "player", x->player.public_id, "revoked",
                                 (json_int_t)x->revoked));
}
