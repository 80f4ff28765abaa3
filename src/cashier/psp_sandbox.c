/*
 * psp_sandbox.c — the built-in sandbox PSP: a payment provider that lives in
 * the process, so the whole cashier flow runs locally with real signatures.
 *
 * Deposits: a deposit intent gets the reference "sbxp_<uuid>"; the checkout URL
 * is the sandbox's own endpoint POST /v1/sandbox-psp/payments/{ref}/complete
 * (or /fail), which plays the payer and the PSP: it builds the PSP's event,
 * signs it exactly like a webhook and delivers it IN-PROCESS through
 * pb_cashier_webhook() — the very verify + handle function the public webhook
 * route POST /v1/cashier/webhooks/sandbox uses. Nothing takes a shortcut.
 *
 * Payouts: accepted at once with the reference "sbxo_<uuid>"; as soon as the
 * approval has committed and the reference is stored, the sandbox emits
 * payout.paid through the same path — or payout.failed when the amount's minor
 * units end in 13 (e.g. 50.13 EUR; a documented test knob).
 *
 * Webhooks: JSON {"id": "evt_…", "type": "deposit.succeeded" | "deposit.failed"
 * | "payout.paid" | "payout.failed", "created": <unix s>, "data": {"reference":
 * "…"}}, signed in the header
 *     X-Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 * (several v1= values may be given; one must match). The timestamp must be
 * within 300 s of the server's clock. The secret is the text of
 * keys_dir/sandbox-psp.secret (64 hex digits, the HMAC key as is), generated
 * with mode 0600 on first start.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cashier/cashier.h"
#include "core/log.h"
#include "core/time.h"

#define SECRET_FILE "sandbox-psp.secret"
#define SECRET_HEX 64
#define TOLERANCE_S 300
#define HEADER "X-Sandbox-Signature"

typedef struct sandbox {
    char secret[SECRET_HEX + 1];
} sandbox;

static void hmac_hex(const char *secret, const char *t, size_t tlen, const char *body,
                     size_t len, char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)t, tlen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
}

void pb_psp_sandbox_sign(const char *secret, const char *body, size_t len, int64_t t,
                         char *header, size_t cap)
{
    char ts[24], hex[65];
    int n = snprintf(ts, sizeof ts, "%lld", (long long)t);
    hmac_hex(secret, ts, (size_t)n, body, len, hex);
    snprintf(header, cap, "t=%s,v1=%s", ts, hex);
}

static pb_err sb_deposit_create(pb_psp *psp, const pb_store_payment *p,
                                char ref[PB_STORE_CASHIER_REF_MAX + 1])
{
    (void)psp;
    (void)p;
    pb_id id;
    char s[PB_ID_STR_LEN + 1];
    pb_id_new(&id);
    pb_id_to_string(&id, s);
    snprintf(ref, PB_STORE_CASHIER_REF_MAX + 1, "sbxp_%s", s);
    return PB_OK;
}

static void sb_checkout_url(pb_psp *psp, const pb_store_payment *p, char *url, size_t cap)
{
    (void)psp;
    snprintf(url, cap, "/v1/sandbox-psp/payments/%s/complete", p->psp_reference);
}

static pb_err sb_payout_send(pb_psp *psp, const pb_store_withdrawal *w,
                             char ref[PB_STORE_CASHIER_REF_MAX + 1])
{
    (void)psp;
    (void)w;
    pb_id id;
    char s[PB_ID_STR_LEN + 1];
    pb_id_new(&id);
    pb_id_to_string(&id, s);
    snprintf(ref, PB_STORE_CASHIER_REF_MAX + 1, "sbxo_%s", s);
    return PB_OK;
}

typedef struct one_header {
    const char *value;
} one_header;

static const char *own_header(void *ctx, const char *name)
{
    return strcasecmp(name, HEADER) == 0 ? ((one_header *)ctx)->value : NULL;
}

/* Builds, signs and delivers one event through the webhook entry point. */
static pb_err deliver(pb_psp *psp, pb_store_conn *c, const char *type, const char *reference,
                      pb_cashier_webhook_result *out)
{
    sandbox *sb = psp->ctx;
    pb_id id;
    char eid[PB_ID_STR_LEN + 1];
    pb_id_new(&id);
    pb_id_to_string(&id, eid);
    char evt[PB_ID_STR_LEN + 8];
    snprintf(evt, sizeof evt, "evt_%s", eid);
    int64_t now = pb_time_now_us() / 1000000;
    json_t *o = json_pack("{s:s,s:s,s:I,s:{s:s}}", "id", evt, "type", type, "created",
                          (json_int_t)now, "data", "reference", reference);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body)
        return PB_ERR_INTERNAL;
    char sig[128];
    pb_psp_sandbox_sign(sb->secret, body, strlen(body), now, sig, sizeof sig);
    one_header h = {sig};
    pb_err e = pb_cashier_webhook(psp->cashier, c, psp->code, body, strlen(body), own_header, &h,
                                  out);
    free(body);
    return e;
}

pb_err pb_psp_sandbox_deposit_event(pb_psp *psp, pb_store_conn *c, const char *reference,
                                    bool succeeded, pb_cashier_webhook_result *out)
{
    return deliver(psp, c, succeeded ? "deposit.succeeded" : "deposit.failed", reference, out);
}

static void sb_payout_sent(pb_psp *psp, pb_store_conn *c, const pb_store_withdrawal *w)
{
    pb_cashier_webhook_result r;
    bool fail = w->amount % 100 == 13; /* the test knob: minor units ending in 13 */
    pb_err e = deliver(psp, c, fail ? "payout.failed" : "payout.paid", w->psp_reference, &r);
    if (e != PB_OK)
        pb_log(PB_LOG_ERROR, "cashier.sandbox", "payout %s: confirmation not applied: %s",
               w->psp_reference, pb_err_code(e));
}

static bool printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static pb_err sb_verify(pb_psp *psp, const char *body, size_t len, pb_psp_header_fn header,
                        void *hctx, int64_t now_s, pb_psp_event *out)
{
    sandbox *sb = psp->ctx;
    memset(out, 0, sizeof *out);
    const char *h = header(hctx, HEADER);
    if (!h || strlen(h) > 1024)
        return PB_ERR_SIGNATURE_INVALID;
    const char *t = NULL;
    size_t tlen = 0;
    const char *v1[8];
    size_t nv1 = 0;
    for (const char *p = h; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 2 && strncmp(p, "t=", 2) == 0) {
            t = p + 2;
            tlen = n - 2;
        } else if (n == 3 + 64 && strncmp(p, "v1=", 3) == 0 && nv1 < 8) {
            v1[nv1++] = p + 3;
        }
        p += n + (end ? 1 : 0);
    }
    if (!t || tlen > 12 || nv1 == 0)
        return PB_ERR_SIGNATURE_INVALID;
    int64_t ts = 0;
    for (size_t i = 0; i < tlen; i++) {
        if (t[i] < '0' || t[i] > '9')
            return PB_ERR_SIGNATURE_INVALID;
        ts = ts * 10 + (t[i] - '0');
    }
    char want[65];
    hmac_hex(sb->secret, t, tlen, body, len, want);
    bool match = false;
    for (size_t i = 0; i < nv1; i++) {
        char got[65];
        for (size_t j = 0; j < 64; j++)
            got[j] = (char)((v1[i][j] >= 'A' && v1[i][j] <= 'F') ? v1[i][j] + 32 : v1[i][j]);
        got[64] = 0;
        if (CRYPTO_memcmp(got, want, 64) == 0)
            match = true;
    }
    if (!match)
        return PB_ERR_SIGNATURE_INVALID;
    if (ts < now_s - TOLERANCE_S || ts > now_s + TOLERANCE_S)
        return PB_ERR_TIMESTAMP_STALE;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *data = json_object_get(o, "data");
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *ref = json_string_value(json_object_get(data, "reference"));
    pb_err e = PB_ERR_INVALID_REQUEST;
    if (json_is_object(o) && id && type && ref && printable(id, PB_STORE_CASHIER_EVENT_MAX) &&
        printable(type, sizeof out->type_name - 1) && printable(ref, PB_STORE_CASHIER_REF_MAX)) {
        snprintf(out->event_id, sizeof out->event_id, "%s", id);
        snprintf(out->type_name, sizeof out->type_name, "%s", type);
        snprintf(out->reference, sizeof out->reference, "%s", ref);
        static const struct {
            const char *name;
            pb_psp_event_type type;
        } types[] = {{"deposit.succeeded", PB_PSP_DEPOSIT_SUCCEEDED},
                     {"deposit.failed", PB_PSP_DEPOSIT_FAILED},
                     {"payout.paid", PB_PSP_PAYOUT_PAID},
                     {"payout.failed", PB_PSP_PAYOUT_FAILED}};
        out->type = PB_PSP_EVENT_UNKNOWN;
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(type, types[i].name) == 0)
                out->type = types[i].type;
        e = PB_OK;
    }
    json_decref(o);
    return e;
}

static void sb_free(pb_psp *psp)
{
    if (!psp)
        return;
    sodium_memzero(psp->ctx, sizeof(sandbox));
    free(psp->ctx);
    free(psp);
}

/* Reads the secret, or creates it (0600) when the file does not exist. */
static int load_secret(const char *dir, char out[SECRET_HEX + 1], char *err, size_t errcap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, SECRET_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        struct stat st;
        char buf[SECRET_HEX + 2];
        ssize_t n = fstat(fd, &st) == 0 ? read(fd, buf, sizeof buf) : -1;
        close(fd);
        if (st.st_mode & 077) {
            snprintf(err, errcap, "%s: readable by group or others (want 0600)", path);
            return -1;
        }
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        if (n != SECRET_HEX) {
            snprintf(err, errcap, "%s: want %d hex digits", path, SECRET_HEX);
            return -1;
        }
        memcpy(out, buf, SECRET_HEX);
        out[SECRET_HEX] = 0;
        return 0;
    }
    if (errno != ENOENT) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, SECRET_HEX + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    char line[SECRET_HEX + 1];
    memcpy(line, out, SECRET_HEX);
    line[SECRET_HEX] = '\n';
    if (fd < 0 || write(fd, line, sizeof line) != (ssize_t)sizeof line || fsync(fd) != 0) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return -1;
    }
    close(fd);
    return 0;
}

pb_psp *pb_psp_sandbox_new(const char *keys_dir, char *err, size_t errcap)
{
    pb_psp *p = calloc(1, sizeof *p);
    sandbox *sb = calloc(1, sizeof *sb);
    if (!p || !sb) {
        free(p);
        free(sb);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    if (load_secret(keys_dir ? keys_dir : ".", sb->secret, err, errcap) != 0) {
        free(p);
        free(sb);
        return NULL;
    }
    snprintf(p->code, sizeof p->code, "sandbox");
    p->ctx = sb;
    p->deposit_create = sb_deposit_create;
    p->checkout_url = sb_checkout_url;
    p->payout_send = sb_payout_send;
    p->payout_sent = sb_payout_sent;
    p->webhook_verify = sb_verify;
    p->free = sb_free;
    return p;
}
