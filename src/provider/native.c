/*
 * native.c — the native seamless wallet protocol without HTTP or store:
 * HMAC-SHA256 request and response signatures, strict request parsing (the
 * http module's declarative field specs, plus the protocol's own rules on ids
 * and amounts), the request → wallet operation mapping, and the response
 * renderers.
 *
 * The renderers run on the ledger writer thread (pb_native_render is the
 * wallet's render callback, called inside the batch), so they only format:
 * one growable buffer, no locks, no I/O. Bodies are written by hand rather
 * than with jansson so that their bytes (key order, no spaces) are fixed by
 * this file: a duplicate is answered with the stored bytes, and the tests
 * compare them exactly.
 */
#include "provider/native.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "core/time.h"

/* ---- calls ---- */

const char *pb_native_call_path(pb_native_call call)
{
    static const char *const paths[] = {"session", "balance",  "bet",
                                        "win",     "rollback", "round/close"};
    return (unsigned)call < sizeof paths / sizeof paths[0] ? paths[call] : "?";
}

bool pb_native_call_needs_live_token(pb_native_call call)
{
    return call == PB_NATIVE_SESSION || call == PB_NATIVE_BALANCE || call == PB_NATIVE_BET;
}

/* ---- signatures ---- */

#define SIG_PREFIX "sha256="
#define SIG_PREFIX_LEN 7
#define TIMESTAMP_DIGITS_MAX 12

/* HMAC-SHA256(secret, "<timestamp>." body), or over the body alone without a
 * timestamp (the responses). libcrypto's SHA-256 (src/core/sha256.h): this runs
 * twice per call (the request's check, the answer's signature). */
static void hmac(const uint8_t *secret, size_t secret_len, const char *timestamp, const char *body,
                 size_t body_len, uint8_t mac[32])
{
    pb_sha256_part parts[3] = {{NULL, 0}, {".", timestamp ? 1 : 0}, {body, body_len}};
    if (timestamp)
        parts[0] = (pb_sha256_part){timestamp, strlen(timestamp)};
    pb_hmac_sha256(secret, secret_len, parts, 3, mac);
}

void pb_native_sign(const uint8_t *secret, size_t secret_len, const char *timestamp,
                    const char *body, size_t body_len, char out[PB_NATIVE_SIGNATURE_BUF])
{
    uint8_t mac[32];
    hmac(secret, secret_len, timestamp, body, body_len, mac);
    memcpy(out, SIG_PREFIX, SIG_PREFIX_LEN);
    sodium_bin2hex(out + SIG_PREFIX_LEN, PB_NATIVE_SIGNATURE_BUF - SIG_PREFIX_LEN, mac, sizeof mac);
}

/* One lower-case hex digit, or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* "sha256=<64 lower-case hex>" exactly → 32 bytes. */
static bool signature_decode(const char *s, uint8_t out[32])
{
    if (strncmp(s, SIG_PREFIX, SIG_PREFIX_LEN) != 0 || strlen(s) != SIG_PREFIX_LEN + 64)
        return false;
    s += SIG_PREFIX_LEN;
    for (size_t i = 0; i < 32; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* 1..12 decimal digits → seconds. */
static bool timestamp_parse(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n < 1 || n > TIMESTAMP_DIGITS_MAX)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

pb_err pb_native_verify(const uint8_t *secret, size_t secret_len, int32_t window_s, int64_t now_s,
                        const char *timestamp_header, const char *signature_header,
                        const char *body, size_t body_len)
{
    int64_t ts;
    uint8_t given[32], mac[32];
    /* an empty secret would let anyone sign: such a provider accepts nothing */
    if (!secret || secret_len == 0 || !timestamp_header || !signature_header ||
        !timestamp_parse(timestamp_header, &ts) || !signature_decode(signature_header, given))
        return PB_ERR_SIGNATURE_INVALID;
    hmac(secret, secret_len, timestamp_header, body, body_len, mac);
    if (!pb_sha256_equal(mac, given))
        return PB_ERR_SIGNATURE_INVALID;
    int64_t window = window_s > 0 ? window_s : PB_NATIVE_DEFAULT_WINDOW_S;
    int64_t skew = now_s > ts ? now_s - ts : ts - now_s;
    return skew > window ? PB_ERR_TIMESTAMP_STALE : PB_OK;
}

/* ---- requests ---- */

static pb_err fail(pb_json_error *err, pb_err code, const char *field, const char *message)
{
    err->code = code;
    if (field) {
        snprintf(err->field_buf, sizeof err->field_buf, "%s", field);
        err->field = err->field_buf;
    } else {
        err->field = NULL;
    }
    snprintf(err->message, sizeof err->message, "%s", message);
    return code;
}

/* True when the string field `name` (if present) is 1..max printable ASCII bytes. */
static bool printable_field(json_t *doc, const char *name)
{
    json_t *v = json_object_get(doc, name);
    if (!v)
        return true;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

pb_err pb_native_parse(pb_native_call call, const char *body, size_t len, const char *content_type,
                       pb_native_request *out, pb_json_error *err)
{
    memset(out, 0, sizeof *out);
    out->call = call;
    if ((unsigned)call > PB_NATIVE_ROUND_CLOSE)
        return fail(err, PB_ERR_INVALID_REQUEST, NULL, "unknown call");
    bool money = call == PB_NATIVE_BET || call == PB_NATIVE_WIN || call == PB_NATIVE_ROLLBACK;
    bool close_present = false, close_round = false;
    pb_json_field f[8];
    size_t n = 0;
    f[n++] = (pb_json_field){"token",
                             PB_JSON_STRING,
                             .required = true,
                             .min_len = 1,
                             .max_len = PB_NATIVE_TOKEN_MAX,
                             .str = &out->token};
    if (call >= PB_NATIVE_BET) {
        f[n++] = (pb_json_field){"transaction_id",
                                 PB_JSON_STRING,
                                 .required = true,
                                 .min_len = 1,
                                 .max_len = PB_WALLET_TXID_MAX,
                                 .str = &out->transaction_id};
        f[n++] = (pb_json_field){"round_id",
                                 PB_JSON_STRING,
                                 .required = true,
                                 .min_len = 1,
                                 .max_len = PB_WALLET_ROUND_MAX,
                                 .str = &out->round_id};
    }
    if (call == PB_NATIVE_WIN || call == PB_NATIVE_ROLLBACK)
        f[n++] = (pb_json_field){"bet_transaction_id",
                                 PB_JSON_STRING,
                                 .required = true,
                                 .min_len = 1,
                                 .max_len = PB_WALLET_TXID_MAX,
                                 .str = &out->bet_transaction_id};
    if (call == PB_NATIVE_BET)
        f[n++] = (pb_json_field){"game",
                                 PB_JSON_STRING,
                                 .required = true,
                                 .min_len = 1,
                                 .max_len = PB_WALLET_GAME_MAX,
                                 .str = &out->game};
    if (money)
        f[n++] = (pb_json_field){"currency", PB_JSON_CURRENCY, .required = true,
                                 .str = &out->currency, .cur = &out->cur};
    if (call == PB_NATIVE_BET || call == PB_NATIVE_WIN) {
        /* a bet stakes something; a win may pay nothing (a lost round's settlement) */
        f[n++] = (pb_json_field){"amount",
                                 PB_JSON_MONEY,
                                 .required = true,
                                 .currency = "currency",
                                 .min = call == PB_NATIVE_BET ? 1 : 0,
                                 .max = INT64_MAX,
                                 .i64 = &out->amount};
        f[n++] = (pb_json_field){"close_round", PB_JSON_BOOL, .b = &close_round,
                                 .present = &close_present};
    }

    pb_err rc = pb_json_parse(body, len, content_type, f, n, &out->doc, err);
    if (rc != PB_OK) {
        /* a string that is not an amount of the currency (or out of range) */
        json_t *probe = NULL;
        if (rc == PB_ERR_FIELD_INVALID && err->field && strcmp(err->field, "amount") == 0 &&
            (probe = json_loadb(body, len, JSON_DECODE_ANY, NULL)) != NULL &&
            json_is_string(json_object_get(probe, "amount")))
            err->code = rc = PB_ERR_AMOUNT_INVALID;
        json_decref(probe);
        memset(out, 0, sizeof *out);
        out->call = call;
        return rc;
    }
    static const char *const ids[] = {"transaction_id", "round_id", "bet_transaction_id", "game"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        if (!printable_field(out->doc, ids[i])) {
            pb_native_request_free(out);
            out->call = call;
            return fail(err, PB_ERR_FIELD_INVALID, ids[i],
                        "must be printable ASCII characters only");
        }
    }
    if (call == PB_NATIVE_BET || call == PB_NATIVE_WIN)
        out->close_round = close_present ? close_round : call == PB_NATIVE_WIN;
    else
        out->close_round = call == PB_NATIVE_ROUND_CLOSE;
    return PB_OK;
}

void pb_native_request_free(pb_native_request *r)
{
    json_decref(r->doc);
    memset(r, 0, sizeof *r);
}

/* Copies s into dst[cap]; false when it does not fit. */
static bool copy(char *dst, size_t cap, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= cap)
        return false;
    memcpy(dst, s ? s : "", n + 1);
    return true;
}

pb_err pb_native_to_op(const pb_native_request *r, const char *provider,
                       const pb_native_player *who, const char *trace_id, pb_wallet_op *op)
{
    memset(op, 0, sizeof *op);
    switch (r->call) {
    case PB_NATIVE_BET: op->kind = PB_WALLET_BET; break;
    case PB_NATIVE_WIN: op->kind = PB_WALLET_WIN; break;
    case PB_NATIVE_ROLLBACK: op->kind = PB_WALLET_ROLLBACK; break;
    case PB_NATIVE_ROUND_CLOSE: op->kind = PB_WALLET_ROUND_CLOSE; break;
    default: return PB_ERR_INVALID_REQUEST;
    }
    /* the game the request named: only a bet names one (a win's rows take its
     * bet's; the launched game is no part of a win's identity) */
    const char *game = r->call == PB_NATIVE_BET ? r->game : "";
    if (!copy(op->provider, sizeof op->provider, provider) ||
        !copy(op->tx_id, sizeof op->tx_id, r->transaction_id) ||
        !copy(op->round_id, sizeof op->round_id, r->round_id) ||
        !copy(op->bet_tx_id, sizeof op->bet_tx_id, r->bet_transaction_id) ||
        !copy(op->game, sizeof op->game, game) || !copy(op->brand, sizeof op->brand, who->brand) ||
        !copy(op->player, sizeof op->player, who->player) ||
        !copy(op->currency, sizeof op->currency, who->currency) ||
        !copy(op->request_currency, sizeof op->request_currency, r->currency) ||
        !copy(op->trace_id, sizeof op->trace_id, trace_id))
        return PB_ERR_INVALID_REQUEST;
    op->amount = r->call == PB_NATIVE_BET || r->call == PB_NATIVE_WIN ? r->amount : 0;
    op->close_round = r->close_round;
    pb_wallet_op_set_token(op, r->token); /* recorded with the operation (wallet.h) */
    op->render = pb_native_render;
    op->render_ctx = NULL;
    return PB_OK;
}

/* ---- responses ---- */

/* Appends s (n bytes) as a JSON string. */
static void put_str(pb_http_buf *b, const char *s, size_t n)
{
    pb_http_buf_append(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        pb_http_buf_append(b, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            pb_http_buf_append(b, esc, 2);
        } else {
            pb_http_buf_printf(b, "\\u%04x", c);
        }
    }
    pb_http_buf_append(b, s + run, n - run);
    pb_http_buf_append(b, "\"", 1);
}

/* Appends ,"key":"value" (key is a literal without escapes). */
static void put_kv(pb_http_buf *b, const char *key, const char *value)
{
    pb_http_buf_append(b, ",\"", 2);
    pb_http_buf_puts(b, key);
    pb_http_buf_append(b, "\":", 2);
    put_str(b, value, strlen(value));
}

/* Appends ,"key":"<amount>"; false when the currency is unknown. */
static bool put_money(pb_http_buf *b, const char *key, int64_t minor, const pb_currency *cur)
{
    char s[PB_MONEY_STR_MAX];
    if (!cur || pb_money_format(minor, cur, s, sizeof s) < 0)
        return false;
    pb_http_buf_append(b, ",\"", 2);
    pb_http_buf_puts(b, key);
    pb_http_buf_append(b, "\":\"", 3);
    pb_http_buf_puts(b, s);
    pb_http_buf_append(b, "\"", 1);
    return true;
}

/* cash - held + bonus, saturating (the ledger keeps each within int64). */
static int64_t stakeable(int64_t cash, int64_t held, int64_t bonus)
{
    int64_t v;
    if (__builtin_sub_overflow(cash, held, &v) || __builtin_add_overflow(v, bonus, &v))
        return cash < 0 ? INT64_MIN : INT64_MAX;
    return v;
}

/* Appends ,"balance","cash","bonus" for bal. */
static bool put_balances(pb_http_buf *b, const pb_native_balance *bal, const pb_currency *cur)
{
    return put_money(b, "balance", stakeable(bal->cash, bal->held, bal->bonus), cur) &&
           put_money(b, "cash", bal->cash, cur) && put_money(b, "bonus", bal->bonus, cur);
}

/* Hands the buffer to out; -1 when an allocation failed. */
static int finish(pb_http_buf *b, int status, pb_wallet_response *out)
{
    if (b->failed || !b->data) {
        pb_http_buf_free(b);
        return -1;
    }
    out->status = status;
    out->body = b->data;
    out->body_len = b->len;
    return 0;
}

int pb_native_render_error(pb_err code, const char *field, const char *message,
                           const char *trace_id, const pb_native_balance *bal,
                           pb_wallet_response *out)
{
    pb_http_buf b = {0};
    const char *msg = message ? message : pb_err_message(code);
    pb_http_buf_printf(&b, "{\"error\":{\"code\":\"%s\",\"message\":", pb_err_code(code));
    put_str(&b, msg, strlen(msg));
    if (field)
        put_kv(&b, "field", field);
    put_kv(&b, "trace_id", trace_id ? trace_id : "");
    pb_http_buf_append(&b, "}", 1);
    const pb_currency *cur = bal ? pb_currency_find(bal->currency) : NULL;
    if (cur) {
        if (!put_balances(&b, bal, cur)) {
            pb_http_buf_free(&b);
            return -1;
        }
        put_kv(&b, "currency", cur->code);
    }
    pb_http_buf_append(&b, "}", 1);
    return finish(&b, pb_err_http_status(code), out);
}

int pb_native_render_session(const pb_native_player *who, const pb_native_balance *bal,
                             pb_wallet_response *out)
{
    const pb_currency *cur = pb_currency_find(bal->currency);
    if (!cur)
        return -1;
    pb_http_buf b = {0};
    pb_http_buf_puts(&b, "{\"player_id\":");
    put_str(&b, who->player, strlen(who->player));
    put_kv(&b, "brand", who->brand);
    put_kv(&b, "currency", cur->code);
    put_kv(&b, "game", who->game);
    put_balances(&b, bal, cur);
    pb_http_buf_append(&b, "}", 1);
    return finish(&b, 200, out);
}

int pb_native_render(void *ctx, const pb_wallet_op *op, const pb_wallet_outcome *o,
                     pb_wallet_response *out)
{
    (void)ctx;
    pb_native_balance bal = {
        .currency = op->currency, .cash = o->cash, .bonus = o->bonus, .held = o->held};
    if (o->result != PB_OK)
        return pb_native_render_error(o->result, NULL, NULL, op->trace_id, &bal, out);
    const pb_currency *cur = pb_currency_find(op->currency);
    char when[PB_TIME_STR_MAX];
    if (!cur || pb_time_format(o->created_at, when, sizeof when) < 0)
        return -1;
    pb_http_buf b = {0};
    pb_http_buf_puts(&b, "{\"status\":\"OK\"");
    put_kv(&b, "transaction_id", op->tx_id);
    put_kv(&b, "player_id", op->player);
    put_kv(&b, "currency", cur->code);
    put_balances(&b, &bal, cur);
    put_money(&b, "cash_part", o->cash_part, cur);
    put_money(&b, "bonus_part", o->bonus_part, cur);
    put_kv(&b, "created_at", when);
    if (op->kind == PB_WALLET_ROLLBACK && o->bet_unknown)
        pb_http_buf_puts(&b, ",\"bet_found\":false");
    pb_http_buf_append(&b, "}", 1);
    return finish(&b, 200, out);
}
