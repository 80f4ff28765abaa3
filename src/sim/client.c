/*
 * client.c — the native protocol as a provider speaks it, and the player API
 * as a player uses it (see sim_client.h).
 *
 * Request bodies of the player API are built with jansson (emails and
 * passwords are escaped properly); the native bodies are built by the caller
 * (they are hot in the benchmark and contain only ids and amounts).
 */
#include "sim/sim_client.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/money.h"

/* ---- secrets and signatures ---- */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int pb_sim_secret_from_hex(const char *hex, uint8_t *out, size_t cap, size_t *n)
{
    while (isspace((unsigned char)*hex))
        hex++;
    size_t len = strlen(hex);
    while (len && isspace((unsigned char)hex[len - 1]))
        len--;
    if (len == 0 || len % 2 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hexval((unsigned char)hex[2 * i]), lo = hexval((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *n = len / 2;
    return 0;
}

int pb_sim_secret_from_file(const char *path, uint8_t *out, size_t cap, size_t *n, char *err,
                            size_t errcap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errcap, "cannot read %s", path);
        return -1;
    }
    char text[512];
    size_t k = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[k] = '\0';
    if (pb_sim_secret_from_hex(text, out, cap, n) != 0) {
        snprintf(err, errcap, "%s does not hold a hex secret of 1..%zu bytes", path, cap);
        return -1;
    }
    return 0;
}

void pb_sim_sign(const pb_sim_provider *p, const char *timestamp, const char *body, size_t len,
                 char out[PB_SIM_SIG_BUF])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (timestamp) {
        size_t tl = strlen(timestamp);
        char stack[4096];
        char *msg = tl + 1 + len <= sizeof stack ? stack : malloc(tl + 1 + len);
        if (!msg) {
            out[0] = '\0';
            return;
        }
        memcpy(msg, timestamp, tl);
        msg[tl] = '.';
        memcpy(msg + tl + 1, body, len);
        HMAC(EVP_sha256(), p->secret, (int)p->secret_len, (const unsigned char *)msg, tl + 1 + len,
             mac, &maclen);
        if (msg != stack)
            free(msg);
    } else {
        HMAC(EVP_sha256(), p->secret, (int)p->secret_len, (const unsigned char *)body, len, mac,
             &maclen);
    }
    static const char hx[] = "0123456789abcdef";
    memcpy(out, "sha256=", 7);
    for (unsigned i = 0; i < 32; i++) {
        out[7 + 2 * i] = hx[mac[i] >> 4];
        out[8 + 2 * i] = hx[mac[i] & 15];
    }
    out[71] = '\0';
}

bool pb_sim_response_signed(const pb_sim_provider *p, const pb_sim_resp *r)
{
    char got[128], want[PB_SIM_SIG_BUF];
    if (!pb_sim_resp_header(r, "X-Pitboss-Signature", got, sizeof got))
        return false;
    pb_sim_sign(p, NULL, r->body, r->body_len, want);
    return strlen(got) == 71 && CRYPTO_memcmp(got, want, 71) == 0;
}

int pb_sim_native_send(pb_sim_conn *c, const pb_sim_provider *p, const char *call, const char *body,
                       size_t len)
{
    char ts[24], sig[PB_SIM_SIG_BUF], path[128], headers[192];
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    pb_sim_sign(p, ts, body, len, sig);
    snprintf(path, sizeof path, "/v1/providers/%s/%s", p->code, call);
    snprintf(headers, sizeof headers, "X-Pitboss-Timestamp: %s\r\nX-Pitboss-Signature: %s\r\n", ts,
             sig);
    return pb_sim_conn_send(c, "POST", path, headers, body, len);
}

int pb_sim_native_call(pb_sim_conn *c, const pb_sim_provider *p, const char *call, const char *body,
                       size_t len, int timeout_ms, pb_sim_resp *out)
{
    char ts[24], sig[PB_SIM_SIG_BUF], path[128], headers[192];
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    pb_sim_sign(p, ts, body, len, sig);
    snprintf(path, sizeof path, "/v1/providers/%s/%s", p->code, call);
    snprintf(headers, sizeof headers, "X-Pitboss-Timestamp: %s\r\nX-Pitboss-Signature: %s\r\n", ts,
             sig);
    return pb_sim_conn_request(c, "POST", path, headers, body, len, timeout_ms, out);
}

json_t *pb_sim_json(const pb_sim_resp *r)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

void pb_sim_error_code(const pb_sim_resp *r, char *code, size_t cap)
{
    code[0] = '\0';
    json_t *j = pb_sim_json(r);
    const char *s = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    if (s)
        snprintf(code, cap, "%s", s);
    json_decref(j);
}

/* ---- the player API ---- */

#define API_TIMEOUT_MS 30000

static void api_fail(pb_sim_api_error *e, int status, const pb_sim_resp *r, const char *what)
{
    e->status = status;
    e->code[0] = '\0';
    if (r)
        pb_sim_error_code(r, e->code, sizeof e->code);
    snprintf(e->detail, sizeof e->detail, "%s", what);
}

/* One JSON call; *out is the parsed body of a 2xx answer (caller decrefs). Returns
 * the HTTP status, or 0 on a transport failure (e filled for every non-2xx). */
static int api_call(pb_sim_conn *c, const char *method, const char *path, const char *bearer,
                    json_t *body, json_t **out, pb_sim_api_error *e, const char *what)
{
    *out = NULL;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    char headers[2200] = "";
    if (bearer)
        snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\n", bearer);
    pb_sim_resp r;
    int rc = pb_sim_conn_request(c, method, path, headers, text, text ? strlen(text) : 0,
                                 API_TIMEOUT_MS, &r);
    free(text);
    if (rc != PB_SIM_HTTP_OK) {
        api_fail(e, 0, NULL, what);
        return 0;
    }
    if (r.status < 200 || r.status > 299) {
        api_fail(e, r.status, &r, what);
        return r.status;
    }
    *out = r.body_len ? pb_sim_json(&r) : json_object();
    if (!*out) {
        api_fail(e, r.status, NULL, what);
        snprintf(e->code, sizeof e->code, "BAD_JSON");
        return 0;
    }
    return r.status;
}

static void copy_str(json_t *obj, const char *key, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(obj, key));
    snprintf(out, cap, "%s", s ? s : "");
}

/* POST /v1/player/register; an email already taken is fine (the player exists). */
static int player_register(pb_sim_conn *c, pb_sim_player_auth *a, const char *country,
                           pb_sim_api_error *e)
{
    json_t *out = NULL;
    json_t *reg = json_pack("{s:s,s:s,s:s,s:s,s:s}", "brand", a->brand, "email", a->email,
                            "password", a->password, "country", country, "date_of_birth",
                            "1990-05-17");
    if (a->currency[0])
        json_object_set_new(reg, "currency", json_string(a->currency));
    int st = api_call(c, "POST", "/v1/player/register", NULL, reg, &out, e, "register");
    if (st == 201) {
        json_t *p = json_object_get(out, "player");
        copy_str(p, "id", a->public_id, sizeof a->public_id);
        copy_str(p, "currency", a->currency, sizeof a->currency);
    }
    json_decref(out);
    return st == 201 || (st == 409 && strcmp(e->code, "EMAIL_TAKEN") == 0) ? 0 : -1;
}

int pb_sim_player_enter(pb_sim_conn *c, pb_sim_player_auth *a, bool register_first,
                        const char *country, pb_sim_api_error *e)
{
    json_t *out = NULL;
    if (register_first && player_register(c, a, country, e) != 0)
        return -1;
    json_t *login = json_pack("{s:s,s:s,s:s,s:s}", "brand", a->brand, "email", a->email, "password",
                              a->password, "device", "pitboss-sim");
    int st = api_call(c, "POST", "/v1/player/login", NULL, login, &out, e, "login");
    if (st != 200)
        return -1;
    copy_str(out, "access_token", a->access_token, sizeof a->access_token);
    json_decref(out);
    if (!a->access_token[0]) {
        api_fail(e, 200, NULL, "login: no access_token");
        return -1;
    }
    if (!a->public_id[0] || !a->currency[0]) { /* an existing player: read the profile */
        st = api_call(c, "GET", "/v1/player/profile", a->access_token, NULL, &out, e, "profile");
        if (st != 200)
            return -1;
        json_t *p = json_object_get(out, "player") ? json_object_get(out, "player") : out;
        copy_str(p, "id", a->public_id, sizeof a->public_id);
        copy_str(p, "currency", a->currency, sizeof a->currency);
        json_decref(out);
    }
    return a->public_id[0] && a->currency[0] ? 0 : (api_fail(e, 200, NULL, "no player id"), -1);
}

int pb_sim_player_launch(pb_sim_conn *c, pb_sim_player_auth *a, const char *provider,
                         const char *game, pb_sim_api_error *e)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/player/games/%s/%s/launch", provider, game);
    json_t *out = NULL;
    int st = api_call(c, "POST", path, a->access_token, json_object(), &out, e, "launch");
    if (st < 200 || st > 299)
        return -1;
    json_t *l = json_object_get(out, "launch") ? json_object_get(out, "launch") : out;
    copy_str(l, "token", a->launch_token, sizeof a->launch_token);
    json_decref(out);
    if (!a->launch_token[0]) {
        api_fail(e, st, NULL, "launch: no token in the answer");
        return -1;
    }
    return 0;
}

static int parse_amount(json_t *obj, const char *key, const char *currency, int64_t *out)
{
    const char *s = json_string_value(json_object_get(obj, key));
    const pb_currency *cur = pb_currency_find(currency);
    return s && cur && pb_money_parse(s, strlen(s), cur, out) == PB_MONEY_OK ? 0 : -1;
}

int pb_sim_player_wallet(pb_sim_conn *c, const pb_sim_player_auth *a, int64_t *total, int64_t *cash,
                         pb_sim_api_error *e)
{
    json_t *out = NULL;
    int st = api_call(c, "GET", "/v1/player/wallet", a->access_token, NULL, &out, e, "wallet");
    if (st != 200)
        return -1;
    int rc = parse_amount(out, "total", a->currency, total) == 0 &&
                     parse_amount(out, "cash", a->currency, cash) == 0
                 ? 0
                 : -1;
    json_decref(out);
    if (rc != 0)
        api_fail(e, st, NULL, "wallet: no total/cash amounts in the answer");
    return rc;
}

int pb_sim_player_deposit(pb_sim_conn *c, pb_sim_player_auth *a, const char *amount,
                          const char *key, pb_sim_api_error *e)
{
    json_t *out = NULL;
    json_t *req = json_pack("{s:s,s:s}", "amount", amount, "idempotency_key", key);
    int st = api_call(c, "POST", "/v1/player/deposits", a->access_token, req, &out, e, "deposit");
    if (st != 201 && st != 200)
        return -1;
    char id[128], url[512], status[32];
    copy_str(out, "id", id, sizeof id);
    copy_str(out, "redirect_url", url, sizeof url);
    copy_str(out, "status", status, sizeof status);
    json_decref(out);
    if (strcmp(status, "completed") == 0) /* a retry of a deposit already paid */
        return 0;
    if (!id[0] || !url[0] || url[0] != '/') {
        api_fail(e, st, NULL, "deposit: no id or sandbox redirect_url in the answer");
        return -1;
    }
    /* the payer "pays" at the sandbox PSP; its webhook credits the wallet */
    st = api_call(c, "POST", url, NULL, NULL, &out, e, "sandbox PSP complete");
    json_decref(out);
    if (st != 200)
        return -1;
    char path[256];
    snprintf(path, sizeof path, "/v1/player/deposits/%s", id);
    for (int i = 0; i < 200; i++) { /* until the deposit is completed (10 s at most) */
        st = api_call(c, "GET", path, a->access_token, NULL, &out, e, "deposit status");
        if (st != 200)
            return -1;
        copy_str(out, "status", status, sizeof status);
        json_decref(out);
        if (strcmp(status, "completed") == 0)
            return 0;
        if (strcmp(status, "failed") == 0) {
            api_fail(e, st, NULL, "deposit: the sandbox PSP failed it");
            return -1;
        }
        usleep(50000);
    }
    api_fail(e, st, NULL, "deposit: still not completed after 10 s");
    return -1;
}
