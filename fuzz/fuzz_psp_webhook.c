/*
 * fuzz_psp_webhook.c — the sandbox PSP's webhook verification and event
 * parsing (webhook_verify of src/cashier/psp_sandbox.c: X-Sandbox-Signature
 * "t=<unix s>,v1=<hex HMAC-SHA256>", then the clock, then the event JSON).
 *
 * The PSP is created once with its secret in a private temp directory and no
 * delivery thread (no self URL): nothing leaves the process. Input: byte 0
 * (bit 0: also sign the body here), then header and body split at 0xFF.
 * Properties:
 *   - the fuzzed header verifies to OK, SIGNATURE_INVALID, TIMESTAMP_STALE or
 *     INVALID_REQUEST only, and an accepted event has printable id, type,
 *     reference and currency and a non-negative amount — exactly the body's;
 *   - the body signed here at the server's time is never SIGNATURE_INVALID
 *     (also after the fuzzed header's own parts, when they carry no v1= and
 *     the whole stays within the 1024 bytes accepted), is TIMESTAMP_STALE 301 s
 *     later, and SIGNATURE_INVALID with its HMAC changed in one digit.
 */
#include "fuzz.h"

#include <jansson.h>

#include "cashier/psp.h"

#define NOW_S 1700000000
static pb_psp *psp;
static char secret[65];

static const char *one_header(void *ctx, const char *name)
{
    return strcmp(name, PB_PSP_SANDBOX_HEADER) == 0 ? ctx : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    pb_psp_sandbox_config cfg = {.keys_dir = fuzz_tmpdir()};
    char err[256];
    psp = pb_psp_sandbox_new(&cfg, err, sizeof err);
    if (!psp)
        fprintf(stderr, "sandbox psp: %s\n", err);
    FUZZ_CHECK(psp != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", fuzz_tmpdir(), PB_PSP_SANDBOX_SECRET_FILE);
    FILE *f = fopen(path, "r");
    FUZZ_CHECK(f && fread(secret, 1, 64, f) == 64);
    fclose(f);
    return 0;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static pb_err verify(const char *header, const char *body, size_t len, int64_t now,
                     pb_psp_event *ev)
{
    pb_err rc = psp->webhook_verify(psp, body, len, one_header, (void *)header, now, ev);
    FUZZ_CHECK(rc == PB_OK || rc == PB_ERR_SIGNATURE_INVALID || rc == PB_ERR_TIMESTAMP_STALE ||
               rc == PB_ERR_INVALID_REQUEST);
    if (rc != PB_OK)
        return rc;
    FUZZ_CHECK(ev->event_id[0] && printable(ev->event_id) && printable(ev->type_name) &&
               ev->reference[0] && printable(ev->reference) && printable(ev->currency) &&
               ev->amount >= 0);
    json_t *o = json_loadb(body, len, 0, NULL);
    json_t *d = json_object_get(o, "data");
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(o, "id")), ev->event_id) == 0);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(d, "reference")), ev->reference) == 0);
    FUZZ_CHECK(json_integer_value(json_object_get(d, "amount")) == ev->amount);
    json_decref(o);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *f[2];
    size_t fl[2];
    size_t nf = fuzz_split(data + 1, size - 1, f, fl, 2);
    char *header = fuzz_strndup(f[0], fl[0]);
    const char *body = nf > 1 ? (const char *)f[1] : "";
    size_t len = nf > 1 ? fl[1] : 0;
    pb_psp_event ev;
    verify(header, body, len, NOW_S, &ev);
    FUZZ_CHECK(psp->webhook_verify(psp, body, len, one_header, NULL, NOW_S, &ev) ==
               PB_ERR_SIGNATURE_INVALID);

    if (data[0] & 1) {
        char signed_h[128];
        pb_psp_sandbox_sign(secret, body, len, NOW_S, signed_h, sizeof signed_h);
        FUZZ_CHECK(verify(signed_h, body, len, NOW_S, &ev) != PB_ERR_SIGNATURE_INVALID);
        FUZZ_CHECK(verify(signed_h, body, len, NOW_S + 301, &ev) == PB_ERR_TIMESTAMP_STALE);
        char *v = strstr(signed_h, "v1=");
        FUZZ_CHECK(v != NULL);
        v[3 + (len ? (uint8_t)body[0] % 64 : 0)] ^= 1; /* '0'<->'1', 'a'<->'`': never equal */
        FUZZ_CHECK(verify(signed_h, body, len, NOW_S, &ev) == PB_ERR_SIGNATURE_INVALID);
        v[3 + (len ? (uint8_t)body[0] % 64 : 0)] ^= 1;
        /* after the fuzzed header's own parts */
        if (!strstr(header, "v1=") && strlen(header) + 1 + strlen(signed_h) <= 1024) {
            size_t n = strlen(header) + 1 + strlen(signed_h) + 1;
            char *both = malloc(n);
            FUZZ_CHECK(both != NULL);
            memcpy(both, header, strlen(header));
            both[strlen(header)] = ',';
            memcpy(both + strlen(header) + 1, signed_h, strlen(signed_h) + 1);
            FUZZ_CHECK(verify(both, body, len, NOW_S, &ev) != PB_ERR_SIGNATURE_INVALID);
            free(both);
        }
    }
    free(header);
    return 0;
}
