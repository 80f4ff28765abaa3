/*
 * fuzz_native.c — the native seamless wallet protocol (src/provider/native.c):
 * request signature verification, strict parsing of the six request bodies,
 * the request → wallet operation mapping and the hand-written response
 * renderers.
 *
 * Input: byte 0 picks the call (low 3 bits, mod 6), the rest is split at 0xFF
 * into timestamp header, signature header and body. Properties:
 *   - verify answers OK, SIGNATURE_INVALID or TIMESTAMP_STALE only, and OK
 *     only for exactly the signature pb_native_sign computes;
 *   - the body signed here with the timestamp verifies at that time, is stale
 *     301 s later, and fails with any one hex digit changed;
 *   - a parsed request keeps the protocol's rules (amount > 0 for a bet, >= 0
 *     for a win, a supported currency, ids of printable ASCII, the token's
 *     bound), maps onto a wallet op that copies its ids, and every rendered
 *     response (success, refusal with balance, error envelope) is a valid JSON
 *     object that echoes the transaction id byte for byte;
 *   - a refused body reports a 4xx code of the registry.
 */
#include "fuzz.h"

#include <jansson.h>

#include "provider/native.h"

static const uint8_t secret[] = "fuzz-native-secret-0123456789abcdef";
#define NOW_S 1700000000

static bool printable(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7E)
            return false;
    return true;
}

/* The rendered body is one JSON object; returns it (caller decrefs). */
static json_t *parse_rendered(const pb_wallet_response *r)
{
    FUZZ_CHECK(r->body && r->body_len == strlen(r->body));
    json_error_t je;
    json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        fprintf(stderr, "not JSON: %s (%s)\n", r->body, je.text);
    FUZZ_CHECK(json_is_object(j));
    return j;
}

static void check_signatures(const char *ts, const char *sig, const char *body, size_t len)
{
    pb_err rc = pb_native_verify(secret, sizeof secret - 1, 300, NOW_S, ts, sig, body, len);
    FUZZ_CHECK(rc == PB_OK || rc == PB_ERR_SIGNATURE_INVALID || rc == PB_ERR_TIMESTAMP_STALE);
    char want[PB_NATIVE_SIGNATURE_BUF];
    pb_native_sign(secret, sizeof secret - 1, ts, body, len, want);
    if (rc == PB_OK)
        FUZZ_CHECK(strcmp(sig, want) == 0);
    /* signed here: valid at its own time, whatever the body */
    size_t tl = strlen(ts);
    if (tl >= 1 && tl <= 12 && strspn(ts, "0123456789") == tl) {
        int64_t t = strtoll(ts, NULL, 10);
        FUZZ_CHECK(pb_native_verify(secret, sizeof secret - 1, 300, t, ts, want, body, len) ==
                   PB_OK);
        FUZZ_CHECK(pb_native_verify(secret, sizeof secret - 1, 300, t + 301, ts, want, body, len) ==
                   PB_ERR_TIMESTAMP_STALE);
        char bad[PB_NATIVE_SIGNATURE_BUF];
        memcpy(bad, want, sizeof bad);
        size_t at = 7 + (len ? (uint8_t)body[0] % 64 : 0);
        bad[at] = bad[at] == '0' ? '1' : '0';
        FUZZ_CHECK(pb_native_verify(secret, sizeof secret - 1, 300, t, ts, bad, body, len) ==
                   PB_ERR_SIGNATURE_INVALID);
    }
}

static void check_render(const pb_wallet_op *op, const pb_native_request *r)
{
    pb_wallet_outcome o = {.result = PB_OK,
                           .cash = 1234,
                           .bonus = 5,
                           .held = 1,
                           .cash_part = r->amount,
                           .bet_unknown = r->call == PB_NATIVE_ROLLBACK};
    pb_wallet_response resp = {0};
    FUZZ_CHECK(pb_native_render(NULL, op, &o, &resp) == 0);
    FUZZ_CHECK(resp.status == 200);
    json_t *j = parse_rendered(&resp);
    const char *txid = json_string_value(json_object_get(j, "transaction_id"));
    FUZZ_CHECK(txid && strcmp(txid, op->tx_id) == 0);
    json_decref(j);
    free(resp.body);

    o.result = PB_ERR_INSUFFICIENT_FUNDS;
    resp = (pb_wallet_response){0};
    FUZZ_CHECK(pb_native_render(NULL, op, &o, &resp) == 0);
    FUZZ_CHECK(resp.status == pb_err_http_status(PB_ERR_INSUFFICIENT_FUNDS));
    json_decref(parse_rendered(&resp));
    free(resp.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pb_native_call call = (pb_native_call)((data[0] & 7) % 6);
    const uint8_t *f[3];
    size_t fl[3];
    size_t nf = fuzz_split(data + 1, size - 1, f, fl, 3);
    char *ts = fuzz_strndup(f[0], fl[0]);
    char *sig = nf > 1 ? fuzz_strndup(f[1], fl[1]) : NULL;
    const char *body = nf > 2 ? (const char *)f[2] : "";
    size_t len = nf > 2 ? fl[2] : 0;

    check_signatures(ts, sig ? sig : "", body, len);
    FUZZ_CHECK(pb_native_verify(secret, sizeof secret - 1, 300, NOW_S, NULL, sig, body, len) ==
               PB_ERR_SIGNATURE_INVALID);

    pb_native_request r;
    pb_json_error err;
    pb_err rc = pb_native_parse(call, body, len, (data[0] & 8) ? NULL : "application/json", &r,
                                &err);
    if (rc != PB_OK) {
        FUZZ_CHECK(err.code == rc);
        int st = pb_err_http_status(rc);
        FUZZ_CHECK(st >= 400 && st < 500);
    } else {
        FUZZ_CHECK(r.call == call && r.doc != NULL);
        if (r.token)
            FUZZ_CHECK(strlen(r.token) <= PB_NATIVE_TOKEN_MAX);
        if (r.transaction_id)
            FUZZ_CHECK(printable(r.transaction_id, 128));
        if (r.round_id)
            FUZZ_CHECK(printable(r.round_id, 128));
        if (r.bet_transaction_id)
            FUZZ_CHECK(printable(r.bet_transaction_id, 128));
        if (r.game)
            FUZZ_CHECK(printable(r.game, 64));
        if (call == PB_NATIVE_BET)
            FUZZ_CHECK(r.amount > 0 && r.cur && strcmp(r.cur->code, r.currency) == 0);
        if (call == PB_NATIVE_WIN)
            FUZZ_CHECK(r.amount >= 0 && r.cur);
        pb_native_player who = {.brand = "demo",
                                .player = "0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6a7b",
                                .currency = r.currency ? r.currency : "EUR",
                                .game = "g"};
        pb_wallet_op op;
        memset(&op, 0, sizeof op);
        pb_err oe = pb_native_to_op(&r, "acme", &who, "4bf92f3577b34da6a3ce929d0e0e4736", &op);
        if (call == PB_NATIVE_SESSION || call == PB_NATIVE_BALANCE) {
            FUZZ_CHECK(oe == PB_ERR_INVALID_REQUEST);
        } else if (oe == PB_OK) {
            FUZZ_CHECK(r.transaction_id && strcmp(op.tx_id, r.transaction_id) == 0);
            FUZZ_CHECK(op.render == pb_native_render);
            check_render(&op, &r);
        }
        pb_native_request_free(&r);
    }
    /* the error envelope, with whatever the body says as the message */
    char *msg = fuzz_strndup((const uint8_t *)body, len < 200 ? len : 200);
    pb_native_balance bal = {.currency = "EUR", .cash = -1, .bonus = INT64_MAX, .held = 7};
    pb_wallet_response resp = {0};
    if (pb_utf8_valid(msg, strlen(msg))) {
        FUZZ_CHECK(pb_native_render_error(PB_ERR_FIELD_INVALID, msg, msg,
                                          "4bf92f3577b34da6a3ce929d0e0e4736", &bal, &resp) == 0);
        json_t *j = parse_rendered(&resp);
        json_t *e = json_object_get(j, "error");
        FUZZ_CHECK(json_is_object(e));
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(e, "message")), msg) == 0);
        json_decref(j);
        free(resp.body);
    }
    free(msg);
    free(ts);
    free(sig);
    return 0;
}
