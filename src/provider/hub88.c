/*
 * hub88.c — the Hub88 operator wallet protocol without HTTP or store:
 * RSA-SHA256 signatures (OpenSSL EVP), strict request parsing (the http
 * module's field specs plus the protocol's own rules), exact amount
 * conversion, the request → wallet operation mapping and the response
 * renderers. The wallet core decides everything about money; this file only
 * translates both ways.
 *
 * What the public reference says (docs.hub88.io, Developer Docs → Operator
 * API Reference: "Wallet API", "Seamless Wallet response statuses - Operator
 * API", "TransferWallet API"; Supplier API Overview for the signing scheme):
 *   - the operator implements POST /user/info, /user/balance,
 *     /transaction/bet, /transaction/win, /transaction/rollback below a
 *     callback base URL it gives Hub88;
 *   - "RSA-SHA256 is used to sign the request body using the private key",
 *     "encoded to BASE64", "placed in the X-Hub88-Signature header";
 *   - amounts: "The amount of money displayed in integer (Int64) format. To
 *     convert real float value to integer, it is multiplied by 100000.
 *     Example: $3.56 is represented as 356000" (TransferWallet API, amount);
 *   - responses {"user","status","request_uuid","currency","balance"} (the
 *     Wallet API's example {"user":"john12345","status":"RS_OK",
 *     "request_uuid":"583c…","currency":"USD","balance":100500}); "The Operator
 *     has to respond with the same request_uuid as the one received";
 *   - the statuses and their meaning: RS_OK, RS_ERROR_UNKNOWN ("general error
 *     status, for cases without a special error code"), INVALID_PARTNER,
 *     INVALID_TOKEN, INVALID_GAME, WRONG_CURRENCY, NOT_ENOUGH_MONEY ("please
 *     send the actual balance together with this status"), USER_DISABLED,
 *     INVALID_SIGNATURE, TOKEN_EXPIRED ("token validity must not be validated
 *     in case of wins and rollbacks"), WRONG_SYNTAX, WRONG_TYPES,
 *     DUPLICATE_TRANSACTION ("same transaction_uuid … but a different reference
 *     transaction ID, amount, currency, round, user or game"),
 *     TRANSACTION_DOES_NOT_EXIST ("the bet referenced in win request can't be
 *     found"), TRANSACTION_ROLLED_BACK; RS_ERROR_LIMIT_REACHED appears in the
 *     Wallet API's retry policy (a bet refused with it is not rolled back);
 *   - request fields: user, request_uuid, token, transaction_uuid,
 *     supplier_transaction_id, supplier_user, round, round_closed,
 *     reference_transaction_uuid, game_code, game_id, currency, amount, bet,
 *     is_free, is_aggregated, reward_uuid, meta; and, on bets and wins,
 *     is_supplier_promo (API changelog, May 2025: "Hub88 forwards the
 *     is_supplier_promo flag to the Operator API" on /transaction/bet and
 *     /transaction/win; true means a supplier's promotion, "treated as a
 *     freebet (i.e. is_free: true is implied)").
 *
 * Our decisions where the stored reference is silent or was not available in
 * full (assumptions, also listed in the report to the lead):
 *   - every protocol answer is HTTP 200 with the status in the body; only
 *     INTERNAL / STORE_UNAVAILABLE (nothing happened) are HTTP 500 / 503 with
 *     RS_ERROR_UNKNOWN, so Hub88 treats them like a network failure (retry,
 *     or roll the bet back) instead of a final answer;
 *   - a rollback of a transaction never seen is RS_OK with the balance: the
 *     wallet records it (a tombstone) so the bet arriving later is refused
 *     with RS_ERROR_TRANSACTION_ROLLED_BACK, and Hub88 stops retrying. The
 *     reference names RS_ERROR_TRANSACTION_DOES_NOT_EXIST for a win's bet only;
 *     a rollback is retried until it gets a final answer, and there is nothing
 *     to refund. A rollback of a bet that was refused (its status stored, it
 *     debited nothing) is the same RS_OK, moving nothing; the bet's retry gets
 *     its stored refusal (the wallet core's rule, the native protocol's too);
 *     a second rollback under a new transaction_uuid is RS_OK again for a
 *     transaction never placed (a fact that stays true: nothing was taken,
 *     nothing moves) and RS_ERROR_TRANSACTION_ROLLED_BACK for a bet placed and
 *     already refunded (the refund was paid under the first rollback's id;
 *     another RS_OK would read as a second one). The reference names the
 *     status but not this case; both answers are final, so Hub88 stops
 *     retrying either way (docs/native-protocol.md says the same of the
 *     native protocol);
 *     a refused bet is its user's: a rollback by another user naming it is
 *     answered as one naming that user's placed bet (RS_ERROR_UNKNOWN, below),
 *     recording nothing; the record of a rollback that came first is its
 *     user's too: another user's bet with that transaction_uuid is
 *     RS_ERROR_DUPLICATE_TRANSACTION (the id is taken; not stored, nothing
 *     recorded), not TRANSACTION_ROLLED_BACK; a win or rollback whose
 *     reference_transaction_uuid is the user's own win (or another operation
 *     that is not a bet) is RS_ERROR_WRONG_TYPES (the wallet's
 *     TRANSACTION_NOT_BET: nothing paid, refunded or recorded, stored);
 *     a win whose reference_transaction_uuid is the user's own bet that was
 *     refused (NOT_ENOUGH_MONEY, LIMIT_REACHED, INVALID_GAME, USER_DISABLED,
 *     ...: its status stored under that transaction_uuid) is
 *     RS_ERROR_TRANSACTION_DOES_NOT_EXIST with the balance: the reference's
 *     status for a win whose bet "can't be found", and no bet was ever placed
 *     under that id, nor can be (the bet's retry gets its stored refusal).
 *     Hub88 names no status of its own for it (the rollback of such a bet is
 *     RS_OK, above). Unlike the answer for a bet not seen yet, this one is
 *     final: stored (the wallet's BET_REFUSED), nothing paid or recorded, and
 *     a retry gets it byte for byte;
 *   - refusals without a dedicated status (rollback after a win on the round,
 *     bet on a closed round, a win or rollback naming a bet of another round or
 *     player) are RS_ERROR_UNKNOWN; a bet above the game's limit is
 *     RS_ERROR_LIMIT_REACHED; a game disabled for the brand or jurisdiction, or
 *     a bet on another game than the launch's (GAME_MISMATCH; a live game's
 *     launch may bet on another live game of its provider: Hub88's live lobby
 *     switches tables within one session) is RS_ERROR_INVALID_GAME, and so is a
 *     win or a rollback whose game_code is not its bet's (the wallet's
 *     GAME_MISMATCH, stored, nothing refunded; no live-lobby exception: the bet
 *     names the table it was placed at); a token of
 *     another user is RS_ERROR_INVALID_TOKEN; a provider switched off in the
 *     catalog (the wallet's one provider gate, pb_wallet_provider_gate) refuses
 *     user/info, user/balance and bets with RS_ERROR_INVALID_PARTNER, while wins
 *     and rollbacks of bets already placed still settle;
 *   - a duplicate (same transaction_uuid, same content) gets the original's
 *     stored response with the request_uuid replaced by the retry's (byte for
 *     byte the original otherwise, the balance included). Final refusals of a
 *     known user's transaction are stored like successes (USER_DISABLED,
 *     TOKEN_EXPIRED, WRONG_CURRENCY, INVALID_GAME, LIMIT_REACHED, a disabled
 *     provider's INVALID_PARTNER, free bets' UNKNOWN, ...): the signature has no timestamp, so a refused request can
 *     be replayed at any time, and it must get the same answer after the user
 *     is unblocked or the game switched on (the wallet core's rule, wallet.h,
 *     the same for the native protocol). Not stored: INVALID_TOKEN, syntax and
 *     signature errors, TRANSACTION_DOES_NOT_EXIST for a bet not seen (the
 *     bet may still come; for the user's refused bet it is stored, above),
 *     and HTTP 500 / 503 (nothing was decided);
 *   - a win or rollback whose launch was pruned (30 days after its expiry) is
 *     taken for the player of the bet it names when that is the request's
 *     user and the token the one the bet was placed with (or the one its own
 *     earlier attempt came with); RS_ERROR_INVALID_TOKEN otherwise, as for a
 *     token of another user while its launch is there: "token validity must
 *     not be validated in case of wins and rollbacks" (an expired token is
 *     taken), but it is still the player's token;
 *   - an amount that is not a whole number of minor units (EUR 1/100000 = 1
 *     unit, 0.001 cent) is RS_ERROR_WRONG_TYPES and changes nothing; balances
 *     of currencies finer than 1/100000 (BTC, ETH, USDT) are rounded toward
 *     zero on the way out;
 *   - unknown fields are refused (RS_ERROR_WRONG_SYNTAX); the documented
 *     optional ones are type-checked and ignored; round is required (the
 *     wallet keys rounds by it); round_closed absent = false; round_closed
 *     true closes the round on a bet, a win and an accepted rollback alike
 *     (the wallet's close, in the operation's command; no part of a
 *     rollback's identity, so a retry differing only there is the duplicate);
 *   - free bets (is_free true on a bet: Hub88 rewards) are not supported and
 *     answered RS_ERROR_UNKNOWN by the HTTP side, stored (the wallet's final
 *     refusal FORBIDDEN), nothing moves; so are a supplier's promotions
 *     (is_supplier_promo true, a free bet by definition) on a bet and on a win
 *     (a promotional win pays what no stake of the player's funded), whatever
 *     the amount: a free bet of 0 (its normal form: it stakes nothing of the
 *     player's) gets that same stored refusal, not WRONG_TYPES, so its replay
 *     is answered the same and other content under its transaction_uuid is
 *     RS_ERROR_DUPLICATE_TRANSACTION; an ordinary bet of 0 stays WRONG_TYPES
 *     (bad input, not stored). False or null is an ordinary call;
 *   - responses are not signed (the catalog holds only Hub88's public key).
 *
 * The renderers run on the ledger writer thread (pb_hub88_render is the
 * wallet's render callback), so they only format: bodies are written by hand
 * so that their bytes are fixed by this file.
 */
#include "provider/hub88.h"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- calls ---- */

const char *pb_hub88_call_path(pb_hub88_call call)
{
    static const char *const paths[] = {"user/info", "user/balance", "transaction/bet",
                                        "transaction/win", "transaction/rollback"};
    return (unsigned)call < sizeof paths / sizeof paths[0] ? paths[call] : "?";
}

bool pb_hub88_call_needs_live_token(pb_hub88_call call)
{
    return call == PB_HUB88_USER_BALANCE || call == PB_HUB88_BET;
}

/* ---- statuses ---- */

const char *pb_hub88_status_name(pb_hub88_status s)
{
    static const char *const names[] = {
#define PB_HUB88_NAME(name) #name,
        PB_HUB88_STATUSES(PB_HUB88_NAME)
#undef PB_HUB88_NAME
    };
    return (unsigned)s < PB_HUB88_STATUS_COUNT_ ? names[s] : "RS_ERROR_UNKNOWN";
}

pb_hub88_status pb_hub88_status_for(pb_err e)
{
    switch (e) {
    case PB_OK: return PB_HUB88_RS_OK;
    case PB_ERR_SIGNATURE_INVALID: return PB_HUB88_RS_ERROR_INVALID_SIGNATURE;
    case PB_ERR_TOKEN_INVALID: return PB_HUB88_RS_ERROR_INVALID_TOKEN;
    case PB_ERR_TOKEN_EXPIRED: return PB_HUB88_RS_ERROR_TOKEN_EXPIRED;
    case PB_ERR_CURRENCY_MISMATCH:
    case PB_ERR_CURRENCY_UNKNOWN:
    case PB_ERR_CURRENCY_NOT_ALLOWED: return PB_HUB88_RS_ERROR_WRONG_CURRENCY;
    case PB_ERR_GAME_NOT_FOUND:
    case PB_ERR_GAME_DISABLED:
    case PB_ERR_GAME_MISMATCH: return PB_HUB88_RS_ERROR_INVALID_GAME;
    case PB_ERR_PROVIDER_DISABLED: return PB_HUB88_RS_ERROR_INVALID_PARTNER;
    case PB_ERR_INSUFFICIENT_FUNDS: return PB_HUB88_RS_ERROR_NOT_ENOUGH_MONEY;
    case PB_ERR_PLAYER_BLOCKED:
    case PB_ERR_PLAYER_SELF_EXCLUDED: return PB_HUB88_RS_ERROR_USER_DISABLED;
    case PB_ERR_IDEMPOTENCY_CONFLICT: return PB_HUB88_RS_ERROR_DUPLICATE_TRANSACTION;
    case PB_ERR_BET_NOT_FOUND:
    case PB_ERR_BET_REFUSED: /* a win naming a refused bet: stored, unlike BET_NOT_FOUND */
        return PB_HUB88_RS_ERROR_TRANSACTION_DOES_NOT_EXIST;
    case PB_ERR_TRANSACTION_ROLLED_BACK: return PB_HUB88_RS_ERROR_TRANSACTION_ROLLED_BACK;
    case PB_ERR_BET_LIMIT: return PB_HUB88_RS_ERROR_LIMIT_REACHED;
    case PB_ERR_FIELD_INVALID:
    case PB_ERR_TRANSACTION_NOT_BET: /* a rollback naming a win: reference_transaction_uuid */
    case PB_ERR_AMOUNT_INVALID: return PB_HUB88_RS_ERROR_WRONG_TYPES;
    case PB_ERR_INVALID_JSON:
    case PB_ERR_INVALID_UTF8:
    case PB_ERR_INVALID_REQUEST:
    case PB_ERR_UNKNOWN_FIELD:
    case PB_ERR_FIELD_MISSING:
    case PB_ERR_UNSUPPORTED_MEDIA_TYPE: return PB_HUB88_RS_ERROR_WRONG_SYNTAX;
    default: return PB_HUB88_RS_ERROR_UNKNOWN;
    }
}

/* ---- signatures ---- */

struct pb_hub88_key {
    EVP_PKEY *pkey;
    size_t sig_len; /* the modulus size in bytes: every valid signature has it */
    atomic_int refs;
};

pb_err pb_hub88_key_load(const char *pem, size_t len, pb_hub88_key **out)
{
    *out = NULL;
    if (!pem || len == 0)
        return PB_ERR_FIELD_INVALID;
    EVP_PKEY *pkey = NULL;
    /* PEM "PUBLIC KEY" (SubjectPublicKeyInfo) or "RSA PUBLIC KEY" (PKCS#1) */
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA",
                                                           OSSL_KEYMGMT_SELECT_PUBLIC_KEY, NULL,
                                                           NULL);
    if (!dctx)
        return PB_ERR_INTERNAL;
    const unsigned char *data = (const unsigned char *)pem;
    size_t left = len;
    int ok = OSSL_DECODER_from_data(dctx, &data, &left);
    OSSL_DECODER_CTX_free(dctx);
    if (!ok || !pkey || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA ||
        EVP_PKEY_get_bits(pkey) < PB_HUB88_RSA_MIN_BITS || EVP_PKEY_get_size(pkey) <= 0) {
        EVP_PKEY_free(pkey);
        return PB_ERR_FIELD_INVALID;
    }
    pb_hub88_key *k = malloc(sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        return PB_ERR_INTERNAL;
    }
    k->pkey = pkey;
    k->sig_len = (size_t)EVP_PKEY_get_size(pkey);
    atomic_init(&k->refs, 1);
    *out = k;
    return PB_OK;
}

pb_hub88_key *pb_hub88_key_ref(pb_hub88_key *k)
{
    if (k)
        atomic_fetch_add(&k->refs, 1);
    return k;
}

void pb_hub88_key_unref(pb_hub88_key *k)
{
    if (!k || atomic_fetch_sub(&k->refs, 1) != 1)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

static bool b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Strict padded standard base64 of exactly `want` bytes → out (want bytes). */
static bool b64_decode_exact(const char *s, size_t want, unsigned char *out)
{
    size_t n = strlen(s);
    size_t enc = 4 * ((want + 2) / 3);
    size_t pad = (3 - want % 3) % 3;
    if (n != enc)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool tail = i >= n - pad;
        if (tail ? s[i] != '=' : !b64_char(s[i]))
            return false;
    }
    unsigned char *tmp = malloc(enc / 4 * 3 + 1);
    if (!tmp)
        return false;
    int got = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
    bool ok = got >= 0 && (size_t)got == enc / 4 * 3;
    if (ok)
        memcpy(out, tmp, want);
    free(tmp);
    return ok;
}

pb_err pb_hub88_verify(const pb_hub88_key *key, const char *signature_header, const char *body,
                       size_t body_len)
{
    if (!key || !signature_header)
        return PB_ERR_SIGNATURE_INVALID;
    unsigned char *sig = malloc(key->sig_len);
    if (!sig)
        return PB_ERR_INTERNAL;
    pb_err rc = PB_ERR_SIGNATURE_INVALID;
    EVP_MD_CTX *mctx = NULL;
    if (!b64_decode_exact(signature_header, key->sig_len, sig))
        goto out;
    if (!(mctx = EVP_MD_CTX_new())) {
        rc = PB_ERR_INTERNAL;
        goto out;
    }
    /* RSA keys verify with PKCS#1 v1.5 padding unless told otherwise */
    if (EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
        EVP_DigestVerify(mctx, sig, key->sig_len, (const unsigned char *)(body ? body : ""),
                         body_len) == 1)
        rc = PB_OK;
out:
    EVP_MD_CTX_free(mctx);
    free(sig);
    return rc;
}

/* ---- amounts ---- */

/* 10^n for n in 0..18. */
static int64_t pow10_i64(unsigned n)
{
    int64_t v = 1;
    while (n--)
        v *= 10;
    return v;
}

pb_err pb_hub88_amount_to_minor(int64_t amount, const pb_currency *cur, int64_t *minor)
{
    if (!cur || amount < 0 || cur->exponent > 18 + PB_HUB88_AMOUNT_DIGITS)
        return PB_ERR_AMOUNT_INVALID;
    if (cur->exponent <= PB_HUB88_AMOUNT_DIGITS) {
        int64_t d = pow10_i64(PB_HUB88_AMOUNT_DIGITS - cur->exponent);
        if (amount % d != 0)
            return PB_ERR_AMOUNT_INVALID;
        *minor = amount / d;
        return PB_OK;
    }
    int64_t v;
    if (__builtin_mul_overflow(amount, pow10_i64(cur->exponent - PB_HUB88_AMOUNT_DIGITS), &v))
        return PB_ERR_AMOUNT_INVALID;
    *minor = v;
    return PB_OK;
}

int64_t pb_hub88_amount_from_minor(int64_t minor, const pb_currency *cur)
{
    if (!cur)
        return 0;
    if (cur->exponent <= PB_HUB88_AMOUNT_DIGITS) {
        int64_t v;
        if (__builtin_mul_overflow(minor, pow10_i64(PB_HUB88_AMOUNT_DIGITS - cur->exponent), &v))
            return minor < 0 ? INT64_MIN : INT64_MAX;
        return v;
    }
    if (cur->exponent - PB_HUB88_AMOUNT_DIGITS > 18)
        return 0;
    return minor / pow10_i64(cur->exponent - PB_HUB88_AMOUNT_DIGITS); /* toward zero */
}

int64_t pb_hub88_balance(int64_t cash, int64_t held, int64_t bonus, const pb_currency *cur)
{
    int64_t v;
    if (__builtin_sub_overflow(cash, held, &v) || __builtin_add_overflow(v, bonus, &v))
        v = cash < 0 ? INT64_MIN : INT64_MAX;
    return pb_hub88_amount_from_minor(v, cur);
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

/* True when the string field `name` (if present) holds printable ASCII only. */
static bool printable_field(json_t *doc, const char *name)
{
    json_t *v = json_object_get(doc, name);
    if (!v || !json_is_string(v))
        return true;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* 1..PB_HUB88_REQUEST_UUID_MAX of [A-Za-z0-9-]: safe to echo verbatim. */
static bool request_uuid_ok(const char *s, size_t n)
{
    if (n < 1 || n > PB_HUB88_REQUEST_UUID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}

#define FIELDS_MAX 20

pb_err pb_hub88_parse(pb_hub88_call call, const char *body, size_t len, const char *content_type,
                      pb_hub88_request *out, pb_json_error *err)
{
    memset(out, 0, sizeof *out);
    out->call = call;
    if ((unsigned)call > PB_HUB88_ROLLBACK)
        return fail(err, PB_ERR_INVALID_REQUEST, NULL, "unknown call");
    bool tx = call >= PB_HUB88_BET, money = call == PB_HUB88_BET || call == PB_HUB88_WIN;
    int64_t amount = 0;
    bool is_free = false, is_supplier_promo = false, round_closed = false;
    pb_json_field f[FIELDS_MAX];
    size_t n = 0;
    /* laid out by hand, not by clang-format: the request's fields, one statement each */
    /* clang-format off */
    f[n++] = (pb_json_field){"user", PB_JSON_STRING, .required = true, .min_len = 1,
                             .max_len = PB_HUB88_USER_MAX, .str = &out->user};
    f[n++] = (pb_json_field){"request_uuid", PB_JSON_STRING, .required = true, .min_len = 1,
                             .max_len = PB_HUB88_REQUEST_UUID_MAX, .str = &out->request_uuid};
    if (call != PB_HUB88_USER_INFO) {
        f[n++] = (pb_json_field){"token", PB_JSON_STRING, .required = true, .min_len = 1,
                                 .max_len = PB_HUB88_TOKEN_MAX, .str = &out->token};
        f[n++] = (pb_json_field){"game_code", PB_JSON_STRING, .required = tx,
                                 .nullable = !tx, .min_len = 1, .max_len = PB_WALLET_GAME_MAX,
                                 .str = &out->game_code};
        f[n++] = (pb_json_field){"game_id", PB_JSON_INT, .nullable = true};
        f[n++] = (pb_json_field){"supplier_user", PB_JSON_STRING, .nullable = true,
                                 .max_len = 255};
    }
    if (tx) {
        f[n++] = (pb_json_field){"transaction_uuid", PB_JSON_STRING, .required = true,
                                 .min_len = 1, .max_len = PB_WALLET_TXID_MAX,
                                 .str = &out->transaction_uuid};
        f[n++] = (pb_json_field){"supplier_transaction_id", PB_JSON_STRING, .nullable = true,
                                 .max_len = 255};
        f[n++] = (pb_json_field){"round", PB_JSON_STRING, .required = true, .min_len = 1,
                                 .max_len = PB_WALLET_ROUND_MAX, .str = &out->round};
        f[n++] = (pb_json_field){"round_closed", PB_JSON_BOOL, .nullable = true,
                                 .b = &round_closed};
        f[n++] = (pb_json_field){"meta", PB_JSON_OBJECT, .nullable = true};
    }
    if (call == PB_HUB88_WIN || call == PB_HUB88_ROLLBACK)
        f[n++] = (pb_json_field){"reference_transaction_uuid", PB_JSON_STRING, .required = true,
                                 .min_len = 1, .max_len = PB_WALLET_TXID_MAX,
                                 .str = &out->reference_transaction_uuid};
    if (money) {
        f[n++] = (pb_json_field){"currency", PB_JSON_STRING, .required = true, .min_len = 1,
                                 .max_len = 16, .str = &out->currency};
        f[n++] = (pb_json_field){"amount", PB_JSON_INT, .required = true, .i64 = &amount};
        f[n++] = (pb_json_field){"bet", PB_JSON_STRING, .nullable = true, .max_len = 255};
        f[n++] = (pb_json_field){"is_free", PB_JSON_BOOL, .nullable = true, .b = &is_free};
        f[n++] = (pb_json_field){"is_aggregated", PB_JSON_BOOL, .nullable = true};
        f[n++] = (pb_json_field){"is_supplier_promo", PB_JSON_BOOL, .nullable = true,
                                 .b = &is_supplier_promo};
        f[n++] = (pb_json_field){"reward_uuid", PB_JSON_STRING, .nullable = true,
                                 .max_len = 255};
    }
    /* clang-format on */

    pb_err rc = pb_json_parse(body, len, content_type, f, n, &out->doc, err);
    if (rc != PB_OK) {
        memset(out, 0, sizeof *out);
        out->call = call;
        return rc;
    }
    const char *why = NULL, *field = NULL;
    static const char *const ids[] = {"user",  "token",     "transaction_uuid",
                                      "round", "game_code", "reference_transaction_uuid"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0] && !why; i++)
        if (!printable_field(out->doc, ids[i])) {
            field = ids[i];
            why = "must be printable ASCII characters without spaces";
        }
    if (!why && !request_uuid_ok(out->request_uuid, strlen(out->request_uuid))) {
        field = "request_uuid";
        why = "must be 1..64 letters, digits or dashes";
    }
    if (why) {
        pb_hub88_request_free(out);
        out->call = call;
        return fail(err, PB_ERR_FIELD_INVALID, field, why);
    }
    out->round_closed = round_closed;
    out->is_free = is_free;
    out->is_supplier_promo = is_supplier_promo;
    if (money) {
        out->cur = pb_currency_find(out->currency);
        if (!out->cur) {
            pb_hub88_request_free(out);
            out->call = call;
            return fail(err, PB_ERR_CURRENCY_UNKNOWN, "currency", "unsupported currency");
        }
        out->amount = amount;
        /* a bet of 0 is refused here, unless it is a free bet (is_free or
         * is_supplier_promo: a reward's bet stakes nothing of the player's), which
         * the HTTP side refuses like any free bet: stored, so its replay gets the
         * same answer and other content under its transaction_uuid is a duplicate */
        if ((call == PB_HUB88_BET && amount == 0 && !is_free && !is_supplier_promo) ||
            pb_hub88_amount_to_minor(amount, out->cur, &out->amount_minor) != PB_OK) {
            pb_hub88_request_free(out);
            out->call = call;
            return fail(err, PB_ERR_AMOUNT_INVALID, "amount",
                        "must be a non-negative whole number of the currency's minor units "
                        "(in 1/100000 of its unit), and positive for a bet");
        }
    }
    return PB_OK;
}

void pb_hub88_request_free(pb_hub88_request *r)
{
    json_decref(r->doc);
    memset(r, 0, sizeof *r);
}

void pb_hub88_peek_request_uuid(const char *body, size_t len,
                                char out[PB_HUB88_REQUEST_UUID_MAX + 1])
{
    out[0] = '\0';
    if (!body || len == 0)
        return;
    /* integers as reals: a number beyond int64 elsewhere in the body does not hide it */
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, NULL);
    json_t *v = json_object_get(doc, "request_uuid");
    if (json_is_string(v) && request_uuid_ok(json_string_value(v), json_string_length(v)))
        memcpy(out, json_string_value(v), json_string_length(v) + 1);
    json_decref(doc);
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

pb_err pb_hub88_to_op(const pb_hub88_request *r, const char *provider, const pb_hub88_player *who,
                      const char *trace_id, pb_wallet_op *op)
{
    memset(op, 0, sizeof *op);
    switch (r->call) {
    case PB_HUB88_BET: op->kind = PB_WALLET_BET; break;
    case PB_HUB88_WIN: op->kind = PB_WALLET_WIN; break;
    case PB_HUB88_ROLLBACK: op->kind = PB_WALLET_ROLLBACK; break;
    default: return PB_ERR_INVALID_REQUEST;
    }
    if (!copy(op->provider, sizeof op->provider, provider) ||
        !copy(op->tx_id, sizeof op->tx_id, r->transaction_uuid) ||
        !copy(op->round_id, sizeof op->round_id, r->round) ||
        !copy(op->bet_tx_id, sizeof op->bet_tx_id, r->reference_transaction_uuid) ||
        !copy(op->game, sizeof op->game, r->game_code) ||
        !copy(op->brand, sizeof op->brand, who->brand) ||
        !copy(op->player, sizeof op->player, who->player) ||
        !copy(op->currency, sizeof op->currency, who->currency) ||
        !copy(op->request_currency, sizeof op->request_currency, r->currency) ||
        !copy(op->trace_id, sizeof op->trace_id, trace_id))
        return PB_ERR_INVALID_REQUEST;
    op->amount = r->call == PB_HUB88_ROLLBACK ? 0 : r->amount_minor;
    op->close_round = r->round_closed;    /* a rollback's too: the wallet closes the round */
    pb_wallet_op_set_token(op, r->token); /* recorded with the operation (wallet.h) */
    op->render = pb_hub88_render;
    op->render_ctx = (void *)r->request_uuid;
    return PB_OK;
}

/* ---- responses ---- */

/* Appends s as a JSON string. */
static void put_str(pb_http_buf *b, const char *s)
{
    size_t n = strlen(s), run = 0;
    pb_http_buf_append(b, "\"", 1);
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

int pb_hub88_render_status(int http_status, pb_hub88_status status, const char *user,
                           const char *request_uuid, const pb_currency *cur, int64_t balance,
                           pb_wallet_response *out)
{
    pb_http_buf b = {0};
    pb_http_buf_puts(&b, "{");
    if (user) {
        pb_http_buf_puts(&b, "\"user\":");
        put_str(&b, user);
        pb_http_buf_puts(&b, ",");
    }
    pb_http_buf_printf(&b, "\"status\":\"%s\"", pb_hub88_status_name(status));
    if (request_uuid && *request_uuid) {
        pb_http_buf_puts(&b, ",\"request_uuid\":");
        put_str(&b, request_uuid);
    }
    if (cur) {
        pb_http_buf_puts(&b, ",\"currency\":");
        put_str(&b, cur->code);
        pb_http_buf_printf(&b, ",\"balance\":%lld", (long long)balance);
    }
    pb_http_buf_puts(&b, "}");
    if (b.failed || !b.data) {
        pb_http_buf_free(&b);
        return -1;
    }
    out->status = http_status;
    out->body = b.data;
    out->body_len = b.len;
    return 0;
}

int pb_hub88_render_info(const char *user, const char *request_uuid, const char *country,
                         const char *sub_partner_id, pb_wallet_response *out)
{
    pb_http_buf b = {0};
    pb_http_buf_puts(&b, "{\"user\":");
    put_str(&b, user);
    pb_http_buf_puts(&b, ",\"status\":\"RS_OK\",\"request_uuid\":");
    put_str(&b, request_uuid);
    if (country && *country) {
        pb_http_buf_puts(&b, ",\"country\":");
        put_str(&b, country);
    }
    if (sub_partner_id && *sub_partner_id) {
        pb_http_buf_puts(&b, ",\"sub_partner_id\":");
        put_str(&b, sub_partner_id);
    }
    pb_http_buf_puts(&b, "}");
    if (b.failed || !b.data) {
        pb_http_buf_free(&b);
        return -1;
    }
    out->status = 200;
    out->body = b.data;
    out->body_len = b.len;
    return 0;
}

/* Results the wallet decides inside its ledger command, after reading the
 * player's balances: their outcome carries a balance worth showing. */
static bool outcome_has_balance(pb_err e)
{
    switch (e) {
    case PB_OK:
    case PB_ERR_INSUFFICIENT_FUNDS:
    case PB_ERR_TRANSACTION_ROLLED_BACK:
    case PB_ERR_ROUND_HAS_WIN:
    case PB_ERR_ROUND_CLOSED:
    case PB_ERR_ROUND_MISMATCH:
    case PB_ERR_BET_LIMIT:
    case PB_ERR_BET_NOT_FOUND:
    case PB_ERR_BET_REFUSED:
    case PB_ERR_TRANSACTION_NOT_BET:
    case PB_ERR_IDEMPOTENCY_CONFLICT: return true;
    default: return false;
    }
}

int pb_hub88_render(void *ctx, const pb_wallet_op *op, const pb_wallet_outcome *o,
                    pb_wallet_response *out)
{
    const char *request_uuid = ctx;
    const pb_currency *cur = pb_currency_find(op->currency);
    bool bal = cur && outcome_has_balance(o->result);
    return pb_hub88_render_status(200, pb_hub88_status_for(o->result), op->player, request_uuid,
                                  bal ? cur : NULL,
                                  bal ? pb_hub88_balance(o->cash, o->held, o->bonus, cur) : 0, out);
}

int pb_hub88_with_request_uuid(const char *body, size_t len, const char *request_uuid,
                               pb_wallet_response *out)
{
    static const char key[] = "\"request_uuid\":\"";
    const size_t klen = sizeof key - 1;
    const char *start = NULL;
    for (size_t i = 0; i + klen <= len; i++)
        if (memcmp(body + i, key, klen) == 0) {
            start = body + i + klen;
            break;
        }
    if (!start)
        return -1;
    const char *end = memchr(start, '"', len - (size_t)(start - body));
    if (!end)
        return -1;
    pb_http_buf b = {0};
    pb_http_buf_append(&b, body, (size_t)(start - body));
    pb_http_buf_puts(&b, request_uuid);
    pb_http_buf_append(&b, end, len - (size_t)(end - body));
    if (b.failed || !b.data) {
        pb_http_buf_free(&b);
        return -1;
    }
    out->status = 200;
    out->body = b.data;
    out->body_len = b.len;
    return 0;
}

int pb_hub88_answer(const pb_wallet_op *op, const char *request_uuid, pb_wallet_response *out)
{
    memset(out, 0, sizeof *out);
    if (pb_err_transient(op->result))
        return pb_hub88_render_status(op->result == PB_ERR_STORE_UNAVAILABLE ? 503 : 500,
                                      PB_HUB88_RS_ERROR_UNKNOWN, NULL, request_uuid, NULL, 0, out);
    if (op->response.status != 0 && op->response.body) {
        /* a duplicate: this request's request_uuid in the original's bytes (a stored
         * body without one is sent as it is) */
        if (op->duplicate && pb_hub88_with_request_uuid(op->response.body, op->response.body_len,
                                                        request_uuid, out) == 0) {
            out->status = op->response.status;
            return 0;
        }
        char *copy_ = malloc(op->response.body_len + 1);
        if (!copy_)
            return -1;
        memcpy(copy_, op->response.body, op->response.body_len);
        copy_[op->response.body_len] = '\0';
        out->status = op->response.status;
        out->body = copy_;
        out->body_len = op->response.body_len;
        return 0;
    }
    pb_wallet_outcome o = op->outcome;
    o.result = op->result;
    return pb_hub88_render((void *)request_uuid, op, &o, out);
}
