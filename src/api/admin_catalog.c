/*
 * admin_catalog.c — game providers, their games and where games are offered,
 * in the back office: the providers here, the games and the per-brand switch in
 * admin_catalog_games.c (the routes of both below, the rules shared).
 *
 *   GET   /v1/admin/providers                          games.read    providers (cursor pages)
 *   POST  /v1/admin/providers                          games.manage  create a provider
 *   GET   /v1/admin/providers/{code}                   games.read    one provider
 *   PATCH /v1/admin/providers/{code}                   games.manage  name, status, window, keys
 *   GET   /v1/admin/games                              games.read    games (filters, cursor pages)
 *   POST  /v1/admin/providers/{code}/games             games.manage  create a game
 *   GET   /v1/admin/providers/{code}/games/{game}      games.read    one game
 *   PATCH /v1/admin/providers/{code}/games/{game}      games.manage  change a game
 *   PUT   /v1/admin/brands/{brand}/games/{provider}/{game}  games.manage  switch a game on or
 *                                                                         off for a brand
 *
 * Scope: providers and games are platform configuration shared by every brand
 * (a new game is offered nowhere until a brand switches it on), so any member
 * with games.manage maintains them, whatever their brand scope. What a brand
 * offers is brand data: the switch, and the `brand` filter of the game list,
 * answer 403 BRAND_FORBIDDEN naming the field `brand` for a brand outside the
 * caller's scope and an unknown one alike (pb_admin_brand_in_scope).
 *
 * The in-house games' provider (PB_PLAY_PROVIDER) is registered by the server
 * and takes no keys: creating it, or setting its secret or public key, is
 * 422 PROVIDER_IN_HOUSE (its name, status and window may change); so is creating
 * a game under it (its games are the server's engines, registered by it; their
 * limits, status and brand switches change as any game's).
 *
 * Secrets: a native provider created without a secret gets 32 random bytes,
 * returned hex-encoded in that one 201 response and never again (reads show a
 * fingerprint). Every change is audited with the before and after views (which
 * carry no secret) in the same write transaction.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/catalog_json.h"
#include "core/money.h"
#include "core/time.h"
#include "games/play.h"

int pb_api_catalog_seal_open(pb_api_app *app, char *err, size_t errcap)
{
    uint8_t key[32];
    if (!app->identity) {
        snprintf(err, errcap, "catalog: the identity (keys directory) must be open first");
        return -1;
    }
    if (pb_identity_secret(app->identity, PB_CATALOG_SEAL_KEY_FILE, key, err, errcap) != PB_OK)
        return -1;
    pb_catalog_seal_set_key(key);
    sodium_memzero(key, sizeof key);
    int64_t sealed = 0;
    return pb_catalog_seal_existing(app->store, &sealed, err, errcap);
}

#define PAGE_DEFAULT 50
#define PAGE_MAX 100

/* ---- providers ------------------------------------------------------------ */

void pb_api_admin_providers_list(pb_http_request *req, void *app)
{
    (void)app;
    int64_t cursor = 0, limit = PAGE_DEFAULT;
    if (!pb_admin_query_int(req, "cursor", 1, INT64_MAX, &cursor) ||
        !pb_admin_query_int(req, "limit", 1, PAGE_MAX, &limit))
        return;
    pb_store_conn *c = pb_http_conn(req);
    size_t want = (size_t)limit + 1, n = 0; /* one more tells whether a next page exists */
    pb_provider *rows = calloc(want, sizeof *rows);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !rows ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK)
        e = pb_catalog_provider_list(c, cursor, rows, want, &n);
    int64_t next = 0;
    if (e == PB_OK && n > (size_t)limit) {
        n = (size_t)limit;
        next = rows[n - 1].id;
    }
    json_t *list = e == PB_OK ? json_array() : NULL;
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, pb_api_provider_json(&rows[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    if (rows)
        sodium_memzero(rows, want * sizeof *rows);
    free(rows);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200,
                       list ? json_pack("{s:o,s:o}", "providers", list, "next_cursor",
                                        pb_admin_cursor_json(next))
                            : NULL);
}

void pb_api_admin_provider_get(pb_http_request *req, void *app)
{
    (void)app;
    pb_store_conn *c = pb_http_conn(req);
    pb_provider *p = malloc(sizeof *p);
    pb_err e = !c ? PB_ERR_STORE_UNAVAILABLE : !p ? PB_ERR_INTERNAL : PB_OK;
    if (e == PB_OK)
        e = pb_catalog_provider_get(c, pb_http_param(req, "code"), p);
    json_t *body = e == PB_OK ? json_pack("{s:o}", "provider", pb_api_provider_json(p)) : NULL;
    if (p)
        sodium_memzero(p, sizeof *p);
    free(p);
    if (e != PB_OK) {
        pb_admin_fail(req, e, NULL);
        return;
    }
    pb_http_reply_json(req, 200, body);
}

/* The request's fields of a provider. */
typedef struct provider_body {
    const char *code, *name, *protocol, *secret_hex, *pem, *status;
    int64_t window;
    bool has_window;
} provider_body;

typedef struct provider_ctx {
    pb_http_request *req;
    const pb_principal *p;
    const provider_body *pb;
    const char *path_code;
    bool generated; /* create: the secret was generated here */
    pb_provider *before, *after;
} provider_ctx;

/* Decodes a hex secret into p; replies and returns false when it is not 32..64
 * bytes of hex. */
static bool secret_from_hex(pb_http_request *req, const char *hex, pb_provider *p)
{
    size_t n = 0, len = strlen(hex);
    if (len % 2 != 0 ||
        sodium_hex2bin(p->secret, sizeof p->secret, hex, len, NULL, &n, NULL) != 0 ||
        n * 2 != len || n < PB_PROVIDER_SECRET_MIN || n > PB_PROVIDER_SECRET_MAX) {
        pb_http_reply_error_msg(req, PB_ERR_FIELD_INVALID, "secret",
                                "secret: 64 to 128 hexadecimal digits (32 to 64 bytes)");
        return false;
    }
    p->secret_len = n;
    return true;
}

static pb_err provider_audit(pb_store_conn *c, provider_ctx *x, const char *action, int64_t now)
{
    pb_audit_entry en;
    pb_admin_entry(x->req, x->p, action, &en);
    en.target_kind = "provider";
    en.target_id = x->after->code;
    en.before = x->before ? pb_admin_json_text(x->req, pb_api_provider_json(x->before)) : NULL;
    en.after = pb_admin_json_text(x->req, pb_api_provider_json(x->after));
    if ((x->before && !en.before) || !en.after)
        return PB_ERR_INTERNAL;
    return pb_audit_append(c, &en, now);
}

static pb_err provider_create_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    provider_ctx *x = ctx;
    int64_t now = pb_time_now_us();
    pb_provider *p = x->after; /* filled once by the handler; the domain only adds to it */
    pb_provider attempt = *p;
    pb_err e = pb_catalog_provider_create(c, &attempt, now, bad);
    if (e == PB_OK) {
        *p = attempt;
        e = provider_audit(c, x, "provider.create", now);
    }
    sodium_memzero(&attempt, sizeof attempt);
    return e;
}

void pb_api_admin_provider_create(pb_http_request *req, void *app)
{
    (void)app;
    provider_body b = {0};
    pb_json_field f[] = {
        {.name = "code",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_PROVIDER_CODE_MAX,
         .str = &b.code},
        {.name = "name",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_PROVIDER_NAME_MAX,
         .str = &b.name},
        {.name = "protocol",
         .type = PB_JSON_STRING,
         .required = true,
         .min_len = 1,
         .max_len = PB_PROVIDER_PROTOCOL_MAX,
         .str = &b.protocol},
        {.name = "secret",
         .type = PB_JSON_STRING,
         .min_len = 1,
         .max_len = 2 * PB_PROVIDER_SECRET_MAX,
         .str = &b.secret_hex},
        {.name = "public_key_pem",
         .type = PB_JSON_STRING,
         .min_len = 1,
         .max_len = PB_PROVIDER_PEM_MAX,
         .str = &b.pem},
        {.name = "timestamp_window_s",
         .type = PB_JSON_INT,
         .min = 1,
         .max = 3600,
         .i64 = &b.window,
         .present = &b.has_window},
        {.name = "status", .type = PB_JSON_STRING, .min_len = 1, .max_len = 15, .str = &b.status},
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]))
        return;
    if (pb_play_provider_is_house(b.code)) { /* registered by the games themselves */
        pb_http_reply_error_msg(req, PB_ERR_PROVIDER_IN_HOUSE, "code",
                                "code: " PB_PLAY_PROVIDER " is the in-house games' provider, "
                                "registered by the server");
        return;
    }
    provider_ctx x = {.req = req,
                      .p = pb_api_principal(req),
                      .pb = &b,
                      .after = pb_http_alloc(req, sizeof(pb_provider))};
    if (!x.after) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    pb_provider *p = x.after;
    snprintf(p->code, sizeof p->code, "%s", b.code);
    snprintf(p->name, sizeof p->name, "%s", b.name);
    snprintf(p->protocol, sizeof p->protocol, "%s", b.protocol);
    snprintf(p->status, sizeof p->status, "%s", b.status ? b.status : "active");
    if (b.pem)
        snprintf(p->public_key_pem, sizeof p->public_key_pem, "%s", b.pem);
    p->timestamp_window_s = b.has_window ? (int32_t)b.window : 0;
    if (b.secret_hex) {
        if (!secret_from_hex(req, b.secret_hex, p))
            return;
    } else if (strcmp(p->protocol, "native") == 0) {
        pb_catalog_secret_generate(p);
        x.generated = true;
    }
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, provider_create_tx, &x, &bad);
    if (e != PB_OK) {
        sodium_memzero(p, sizeof *p);
        pb_admin_fail(req, e, bad);
        return;
    }
    json_t *body = json_pack("{s:o}", "provider", pb_api_provider_json(p));
    if (body && x.generated) {
        char hex[2 * PB_PROVIDER_SECRET_MAX + 1];
        sodium_bin2hex(hex, sizeof hex, p->secret, p->secret_len);
        json_object_set_new(body, "secret", json_string(hex));
        sodium_memzero(hex, sizeof hex);
    }
    sodium_memzero(p->secret, sizeof p->secret);
    char location[64 + PB_PROVIDER_CODE_MAX];
    snprintf(location, sizeof location, "/v1/admin/providers/%s", p->code);
    pb_http_add_header(req, "Location", location);
    pb_http_add_header(req, "Cache-Control", "no-store");
    pb_http_reply_json(req, 201, body);
}

static pb_err provider_update_tx(pb_store_conn *c, void *ctx, const char **bad)
{
    provider_ctx *x = ctx;
    const provider_body *b = x->pb;
    int64_t now = pb_time_now_us();
    pb_err e = pb_catalog_provider_get(c, x->path_code ? x->path_code : "", x->before);
    if (e != PB_OK)
        return e;
    pb_provider *p = x->after;
    *p = *x->before;
    if (b->name)
        snprintf(p->name, sizeof p->name, "%s", b->name);
    if (b->status)
        snprintf(p->status, sizeof p->status, "%s", b->status);
    if (b->pem)
        snprintf(p->public_key_pem, sizeof p->public_key_pem, "%s", b->pem);
    if (b->has_window)
        p->timestamp_window_s = (int32_t)b->window;
    if (b->secret_hex) { /* checked by the handler already */
        size_t n = 0;
        sodium_hex2bin(p->secret, sizeof p->secret, b->secret_hex, strlen(b->secret_hex), NULL, &n,
                       NULL);
        p->secret_len = n;
    }
    e = pb_catalog_provider_update(c, p, now, bad);
    if (e == PB_OK)
        e = pb_catalog_provider_get(c, p->code, p);
    return e == PB_OK ? provider_audit(c, x, "provider.update", now) : e;
}

void pb_api_admin_provider_update(pb_http_request *req, void *app)
{
    (void)app;
    provider_body b = {0};
    pb_json_field f[] = {
        {.name = "name",
         .type = PB_JSON_STRING,
         .min_len = 1,
         .max_len = PB_PROVIDER_NAME_MAX,
         .str = &b.name},
        {.name = "secret",
         .type = PB_JSON_STRING,
         .min_len = 1,
         .max_len = 2 * PB_PROVIDER_SECRET_MAX,
         .str = &b.secret_hex},
        {.name = "public_key_pem",
         .type = PB_JSON_STRING,
         .min_len = 1,
         .max_len = PB_PROVIDER_PEM_MAX,
         .str = &b.pem},
        {.name = "timestamp_window_s",
         .type = PB_JSON_INT,
         .min = 1,
         .max = 3600,
         .i64 = &b.window,
         .present = &b.has_window},
        {.name = "status", .type = PB_JSON_STRING, .min_len = 1, .max_len = 15, .str = &b.status},
    };
    if (!pb_http_parse_json(req, f, sizeof f / sizeof f[0]))
        return;
    if (!b.name && !b.secret_hex && !b.pem && !b.has_window && !b.status) {
        pb_http_reply_error_msg(req, PB_ERR_INVALID_REQUEST, NULL, "nothing to change");
        return;
    }
    /* the in-house games' provider signs nothing: its key would only let
     * whoever holds it act on in-house rounds (the provider APIs refuse it) */
    if (pb_play_provider_is_house(pb_http_param(req, "code")) && (b.secret_hex || b.pem)) {
        pb_http_reply_error_msg(req, PB_ERR_PROVIDER_IN_HOUSE,
                                b.secret_hex ? "secret" : "public_key_pem",
                                "the in-house games' provider takes no secret or key");
        return;
    }
    provider_ctx x = {.req = req,
                      .p = pb_api_principal(req),
                      .pb = &b,
                      .path_code = pb_http_param(req, "code"),
                      .before = pb_http_alloc(req, sizeof(pb_provider)),
                      .after = pb_http_alloc(req, sizeof(pb_provider))};
    if (!x.before || !x.after) {
        pb_admin_fail(req, PB_ERR_INTERNAL, NULL);
        return;
    }
    if (b.secret_hex && !secret_from_hex(req, b.secret_hex, x.after))
        return;
    const char *bad = NULL;
    pb_err e = pb_admin_write(req, provider_update_tx, &x, &bad);
    json_t *body = e == PB_OK ? json_pack("{s:o}", "provider", pb_api_provider_json(x.after))
                              : NULL;
    sodium_memzero(x.before, sizeof *x.before);
    sodium_memzero(x.after, sizeof *x.after);
    if (e != PB_OK) {
        pb_admin_fail(req, e, bad);
        return;
    }
    pb_http_reply_json(req, 200, body);
}
