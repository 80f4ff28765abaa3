/*
 * pii.c — a player's date of birth and names, sealed at rest.
 *
 * The database is read by more than the server (backups, replicas, copies for
 * support or analytics), and a name with a date of birth is enough to identify
 * a person. So identity seals them before the store writes them and opens them
 * after it reads them; the store moves opaque text (store_identity.h). The box
 * is core/sealbox.h's XChaCha20-Poly1305 under the keys directory's pii.key,
 * loaded through the identity's key set, with associated data naming the
 * player (public id, immutable) AND the field, so a value copied onto another
 * player or into another column does not open:
 *
 *     stored = "e1:" || hex( nonce (24) || ciphertext || tag (16) )
 *     ciphertext = the value padded (ISO/IEC 7816-4, sodium_pad) to a multiple
 *                  of 16 bytes, so a name's length shows only to 16 bytes
 *     associated data = "pii:" public_id ":" field   (field: date_of_birth,
 *                                                     first_name, last_name)
 *
 * A sealed value is at least 3 + 2 * (40 + 16) = 115 ASCII characters, and
 * lower-case hex after "e1:". A clear name has at most 100 characters and a
 * clear date of birth 10, so no clear value can be taken for a sealed one:
 * one an older version wrote is read as it is, and sealed when `serve` starts
 * (pb_identity_pii_open, in batches of one write transaction each). A name not
 * given stays '' (that a player gave no name is not worth a box).
 *
 * Email and country stay in the clear: the email is the login key (unique per
 * brand, looked up on every login) and the back office searches it by prefix;
 * the country drives geo rules and filters. Sealing either would need a keyed
 * blind index, which the rules that use them do not need yet.
 *
 * A sealed value that does not open (the database moved without its keys
 * directory, another directory given, a value copied between rows) is shown as
 * '' (null in the API), never as the sealed text; the player view says so
 * (pb_player.pii_unavailable) and the API logs it once per request.
 *
 * The back office's name search needs the opened names: pb_pii_name_match is
 * the matcher identity gives the store's search (store_backoffice_people.h).
 *
 * The key is process-wide: set once by pb_identity_pii_open (serve, at start,
 * before any request) and never changed after, except by tests. Without it
 * (a tool that never opened it) values are written as given and sealed values
 * do not open.
 */
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/sealbox.h"
#include "identity/identity_internal.h"

#define PREFIX "e1:"
#define PREFIX_LEN (sizeof PREFIX - 1)
#define PAD_BLOCK 16
#define SEALED_LEN(padded) (PREFIX_LEN + 2 * (PB_SEALBOX_OVERHEAD + (padded)))
#define SEALED_MIN SEALED_LEN(PAD_BLOCK)
#define PADDED_MAX(n) (((n) / PAD_BLOCK + 1) * PAD_BLOCK)
#define NAME_PADDED_MAX PADDED_MAX(PB_PLAYER_NAME_MAX)
#define SEAL_BATCH 256

_Static_assert(SEALED_LEN(NAME_PADDED_MAX) <= PB_PLAYER_NAME_STORED_MAX, "a sealed name fits");
_Static_assert(SEALED_LEN(PADDED_MAX(10)) <= PB_PLAYER_DOB_STORED_MAX, "a sealed date fits");
_Static_assert(SEALED_MIN > 100 * 1 && SEALED_MIN > 10, "sealed and clear values differ");

static uint8_t pii_key[PB_SEALBOX_KEY_LEN];
static atomic_bool pii_on;

/* The associated data of a player's field. */
static void ad_of(const char *public_id, const char *field, char *out, size_t cap)
{
    snprintf(out, cap, "pii:%s:%s", public_id, field);
}

bool pb_pii_is_sealed(const char *stored)
{
    size_t n = strlen(stored);
    if (n < SEALED_MIN || strncmp(stored, PREFIX, PREFIX_LEN) != 0 || (n - PREFIX_LEN) % 2)
        return false;
    size_t box = (n - PREFIX_LEN) / 2;
    if ((box - PB_SEALBOX_OVERHEAD) % PAD_BLOCK)
        return false;
    return strspn(stored + PREFIX_LEN, "0123456789abcdef") == n - PREFIX_LEN;
}

bool pb_pii_seal(const char *public_id, const char *field, const char *value, char *out, size_t cap)
{
    size_t n = strlen(value);
    if (n == 0 || !atomic_load(&pii_on)) { /* nothing to seal, or no key: as given */
        if (n >= cap)
            return false;
        memmove(out, value, n + 1);
        return true;
    }
    if (n > PB_PLAYER_NAME_MAX || SEALED_LEN(PADDED_MAX(n)) >= cap)
        return false;
    uint8_t plain[NAME_PADDED_MAX], box[PB_SEALBOX_OVERHEAD + NAME_PADDED_MAX];
    size_t padded = 0;
    memcpy(plain, value, n);
    if (sodium_pad(&padded, plain, n, PAD_BLOCK, sizeof plain) != 0)
        return false;
    char ad[PB_PUBLIC_ID_MAX + 40];
    ad_of(public_id, field, ad, sizeof ad);
    pb_sealbox_seal(pii_key, ad, plain, padded, box);
    sodium_memzero(plain, sizeof plain);
    memcpy(out, PREFIX, PREFIX_LEN);
    sodium_bin2hex(out + PREFIX_LEN, cap - PREFIX_LEN, box, PB_SEALBOX_OVERHEAD + padded);
    return true;
}

bool pb_pii_open(const char *public_id, const char *field, const char *stored, char *out,
                 size_t cap)
{
    out[0] = '\0';
    if (!pb_pii_is_sealed(stored)) { /* in the clear (an older version), or '' */
        size_t n = strlen(stored);
        if (n >= cap)
            return false;
        memcpy(out, stored, n + 1);
        return true;
    }
    size_t box_len = (strlen(stored) - PREFIX_LEN) / 2;
    if (!atomic_load(&pii_on) || box_len > PB_SEALBOX_OVERHEAD + NAME_PADDED_MAX)
        return false;
    uint8_t box[PB_SEALBOX_OVERHEAD + NAME_PADDED_MAX], plain[NAME_PADDED_MAX];
    size_t got = 0;
    char ad[PB_PUBLIC_ID_MAX + 40];
    ad_of(public_id, field, ad, sizeof ad);
    size_t len = 0;
    bool ok = sodium_hex2bin(box, sizeof box, stored + PREFIX_LEN, 2 * box_len, NULL, &got, NULL) ==
                  0 &&
              got == box_len && pb_sealbox_open(pii_key, ad, box, box_len, plain) == 0 &&
              sodium_unpad(&len, plain, box_len - PB_SEALBOX_OVERHEAD, PAD_BLOCK) == 0 && len < cap;
    if (ok) {
        memcpy(out, plain, len);
        out[len] = '\0';
    }
    sodium_memzero(plain, sizeof plain);
    return ok;
}

/* ASCII lower case, as the search always compared (SQLite's lower()). */
static unsigned char ascii_lower(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch + 32) : ch;
}

/* False when the name sealed in stored cannot start with prefix (ASCII case
 * folded), judged on its first strlen(prefix) bytes deciphered without the tag
 * check (pb_sealbox_peek): exact for an authentic box, so a "no" is final, while
 * a "yes" only means the box must be opened to tell. A clear value, an empty
 * prefix or a value that is no box of ours: true (the open decides). About a
 * third of an open's cost (two ChaCha20 blocks and a few hex digits, against
 * the whole box's digits, ChaCha20 and Poly1305). */
static bool may_start_with(const char *stored, const char *prefix)
{
    size_t n = strlen(prefix), len = strlen(stored);
    /* the sealed form's shape, without pb_pii_is_sealed's walk over every digit:
     * no clear name is that long, and a digit that is not hex among those decoded
     * below sends the row to the open as well */
    if (n == 0 || !atomic_load(&pii_on) || len < SEALED_MIN || len > SEALED_LEN(NAME_PADDED_MAX) ||
        memcmp(stored, PREFIX, PREFIX_LEN) != 0 || (len - PREFIX_LEN) % 2)
        return true;
    size_t box_len = (len - PREFIX_LEN) / 2;
    if ((box_len - PB_SEALBOX_OVERHEAD) % PAD_BLOCK)
        return true;
    if (n >= box_len - PB_SEALBOX_OVERHEAD)
        return false; /* padding adds at least a byte: the name is shorter than prefix */
    uint8_t head[PB_SEALBOX_OVERHEAD + NAME_PADDED_MAX], plain[NAME_PADDED_MAX];
    size_t head_len = PB_SEALBOX_NONCE_LEN + n, got = 0;
    if (sodium_hex2bin(head, sizeof head, stored + PREFIX_LEN, 2 * head_len, NULL, &got, NULL) !=
            0 ||
        got != head_len || pb_sealbox_peek(pii_key, head, box_len, n, plain) != 0)
        return true;
    bool may = true;
    for (size_t i = 0; i < n && may; i++)
        may = ascii_lower(plain[i]) == ascii_lower((unsigned char)prefix[i]);
    sodium_memzero(plain, sizeof plain);
    return may;
}

bool pb_pii_name_match(void *ctx, const char *public_id, const char *field, const char *stored,
                       const char *prefix)
{
    (void)ctx;
    if (!may_start_with(stored, prefix))
        return false; /* most rows of a search end here, without a full open */
    char name[NAME_PADDED_MAX + 1];
    if (!pb_pii_open(public_id, field, stored, name, sizeof name))
        return false; /* shown as null: found by no name either */
    const char *s = name;
    bool hit = true;
    for (; *prefix && hit; s++, prefix++)
        hit = ascii_lower((unsigned char)*s) == ascii_lower((unsigned char)*prefix);
    sodium_memzero(name, sizeof name);
    return hit;
}

void pb_identity_pii_log_unavailable(const char *trace_id, size_t players)
{
    pb_log(PB_LOG_ERROR, "identity.pii_unavailable",
           "%zu player(s): a stored date of birth or name does not open with %s (is the keys "
           "directory the one it was sealed under?); shown as null (trace %s)",
           players, atomic_load(&pii_on) ? "the keys directory's pii.key" : "no key",
           trace_id && *trace_id ? trace_id : "-");
}

/* Seals the clear values of one row in place; false when one cannot be (too long). */
static bool seal_row(pb_store_player_pii *r)
{
    struct {
        const char *field;
        char *value;
        size_t cap;
    } f[] = {{"date_of_birth", r->date_of_birth, sizeof r->date_of_birth},
             {"first_name", r->first_name, sizeof r->first_name},
             {"last_name", r->last_name, sizeof r->last_name}};
    bool ok = true;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].value[0] && !pb_pii_is_sealed(f[i].value) &&
            !pb_pii_seal(r->public_id, f[i].field, f[i].value, f[i].value, f[i].cap))
            ok = false;
    return ok;
}

/* One batch of pb_store_batched: seals the clear values among up to cap players
 * past *after that hold one. */
static pb_store_rc seal_batch(pb_store_conn *c, void *ctx, void *buf, size_t cap, int64_t *after,
                              size_t *n, int64_t *done)
{
    (void)ctx;
    pb_store_player_pii *rows = buf;
    pb_store_rc rc = pb_store_player_pii_unmarked(c, *after, PREFIX, SEALED_MIN, rows, cap, n);
    for (size_t i = 0; rc == PB_STORE_OK && i < *n; i++) {
        pb_store_player_pii *r = &rows[i];
        *after = r->id;
        if (!seal_row(r)) {
            pb_log(PB_LOG_WARN, "identity.pii_not_sealed",
                   "player %s: a stored date of birth or name is too long to seal; left as it is",
                   r->public_id);
            continue;
        }
        rc = pb_store_player_pii_set(c, r);
        (*done)++;
    }
    return rc;
}

/* Seals what an older version stored in the clear, batch by batch. */
static int seal_existing(pb_store *s, int64_t *sealed, char *err, size_t errcap)
{
    int ret = pb_store_batched(s, sizeof(pb_store_player_pii), SEAL_BATCH, seal_batch, NULL, sealed,
                               "identity: cannot seal the players' stored personal data", err,
                               errcap);
    if (ret == 0 && *sealed > 0)
        pb_log(PB_LOG_INFO, "identity.pii_sealed",
               "%lld player(s) whose date of birth or names were stored in the clear are now "
               "sealed under pii.key",
               (long long)*sealed);
    return ret;
}

/* Says at start, not at a player's first request, when pii.key is not the key the
 * stored data was sealed under: the newest player's date of birth must open. */
static void probe_key(pb_store *s)
{
    char err[256];
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    if (!c)
        return;
    pb_store_player_pii r;
    char dob[PB_PLAYER_DOB_STORED_MAX + 1];
    if (pb_store_begin(c, PB_STORE_READ) == PB_STORE_OK) {
        if (pb_store_player_pii_newest(c, &r) == PB_STORE_OK &&
            !pb_pii_open(r.public_id, "date_of_birth", r.date_of_birth, dob, sizeof dob))
            pb_log(PB_LOG_ERROR, "identity.pii_key_mismatch",
                   "the newest player's (%s) date of birth does not open with pii.key: is the "
                   "keys directory the one this database was sealed under? Players' names and "
                   "dates of birth will show as null",
                   r.public_id);
        pb_store_rollback(c);
    }
    sodium_memzero(&r, sizeof r);
    sodium_memzero(dob, sizeof dob);
    pb_store_disconnect(c);
}

int pb_identity_pii_open(pb_identity *id, pb_store *s, int64_t *sealed, char *err, size_t errcap)
{
    int64_t sink = 0;
    if (!sealed)
        sealed = &sink;
    *sealed = 0;
    uint8_t key[PB_SEALBOX_KEY_LEN];
    if (pb_keyset_secret(id->keys, PB_IDENTITY_PII_KEY_FILE, key, err, errcap) != PB_OK)
        return -1;
    memcpy(pii_key, key, sizeof pii_key);
    sodium_memzero(key, sizeof key);
    atomic_store(&pii_on, true);
    if (!s)
        return 0;
    if (seal_existing(s, sealed, err, errcap) != 0)
        return -1;
    probe_key(s);
    return 0;
}
