/*
 * keycheck.c — a database and its keys directory belong together.
 *
 * Four secrets in the keys directory seal data at rest: totp.key (staff TOTP
 * seeds), fair.key (the active server seeds), provider.key (native providers'
 * HMAC keys) and pii.key (players' names and dates of birth). Each is created
 * with random bytes the first time it is needed. Started with a keys directory
 * that was lost (a new machine, a restore without it) or another database's,
 * the server would create new secrets and seal new data under them, while the
 * old data could never be opened again — found only when a staff member
 * cannot log in or a provider's calls fail.
 *
 * So the database records a key check value for each secret when it first
 * sees it (store_keys.h: BLAKE2b-128 keyed with the secret over a fixed
 * message; it tells keys apart and says nothing about them), and a start whose
 * file is missing or different is refused, naming the file, before anything
 * is sealed. A secret not recorded yet is recorded (an upgrade records the
 * files as they are). `pitboss restore` checks a backup's values against the
 * keys directory the same way, recording nothing.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "cli/cli.h"
#include "core/sealbox.h"
#include "core/time.h"
#include "identity/identity.h"

static const char *const SEALING[] = {"totp.key", "fair.key", PB_CATALOG_SEAL_KEY_FILE,
                                      PB_IDENTITY_PII_KEY_FILE};

static void check_value(const uint8_t key[PB_SEALBOX_KEY_LEN], uint8_t kcv[PB_KEY_CHECK_LEN])
{
    static const char MSG[] = "pitboss key check value v1";
    crypto_generichash(kcv, PB_KEY_CHECK_LEN, (const uint8_t *)MSG, sizeof MSG - 1, key,
                       PB_SEALBOX_KEY_LEN);
}

int pb_cli_keys_check(pb_store *s, const char *keys_dir, bool record, char *err, size_t errcap)
{
    char why[512];
    pb_store_conn *c = pb_store_connect(s, why, sizeof why);
    if (!c) {
        snprintf(err, errcap, "%s", why);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof SEALING / sizeof *SEALING; i++) {
        uint8_t key[PB_SEALBOX_KEY_LEN], have[PB_KEY_CHECK_LEN], kept[PB_KEY_CHECK_LEN];
        int r = pb_keyfile_read(keys_dir, SEALING[i], key, why, sizeof why);
        if (r < 0) {
            snprintf(err, errcap, "%s", why);
            rc = -1;
            break;
        }
        if (r == 0)
            check_value(key, have);
        sodium_memzero(key, sizeof key);
        pb_store_rc g = pb_store_key_check_get(c, SEALING[i], kept);
        if (g == PB_STORE_OK && r == 1) {
            snprintf(err, errcap,
                     "%s/%s is missing, but this database has data sealed under it: start with "
                     "the keys directory this database was used with (restore it from its "
                     "backup); a new key would leave that data unreadable",
                     keys_dir, SEALING[i]);
            rc = -1;
        } else if (g == PB_STORE_OK && sodium_memcmp(have, kept, sizeof have) != 0) {
            snprintf(err, errcap,
                     "%s/%s is not the key this database's data is sealed under (another "
                     "database's keys directory?): start with the keys directory this database "
                     "was used with",
                     keys_dir, SEALING[i]);
            rc = -1;
        } else if (g == PB_STORE_NOT_FOUND && r == 0 && record) {
            /* read back in the same transaction: another process with another keys
             * directory may have recorded its value first (the insert then does
             * nothing), and this one must not go on to seal under its own key */
            if (pb_store_begin(c, PB_STORE_WRITE) != PB_STORE_OK ||
                pb_store_key_check_put(c, SEALING[i], have, pb_time_now_us()) != PB_STORE_OK ||
                pb_store_key_check_get(c, SEALING[i], kept) != PB_STORE_OK ||
                pb_store_commit(c) != PB_STORE_OK) {
                snprintf(err, errcap, "recording the check value of %s: %s", SEALING[i],
                         pb_store_errmsg(c));
                pb_store_rollback(c);
                rc = -1;
            } else if (sodium_memcmp(have, kept, sizeof have) != 0) {
                snprintf(err, errcap,
                         "%s/%s is not the key this database's data is sealed under (another "
                         "process recorded another key at the same moment): start with the keys "
                         "directory this database was used with",
                         keys_dir, SEALING[i]);
                rc = -1;
            }
        } else if (g != PB_STORE_OK && g != PB_STORE_NOT_FOUND) {
            snprintf(err, errcap, "reading the check value of %s: %s", SEALING[i],
                     pb_store_errmsg(c));
            rc = -1;
        }
    }
    pb_store_disconnect(c);
    return rc;
}
