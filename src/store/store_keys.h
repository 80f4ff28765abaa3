/*
 * store_keys.h — which keys directory a database belongs to: for each secret that
 * seals data at rest (TOTP seeds, active server seeds, providers' HMAC keys,
 * players' names), a key check value — a keyed hash of a fixed message under
 * the key, which tells keys apart and reveals nothing of them (cli/keycheck.c).
 * Included by store.h.
 */
#ifndef PB_STORE_KEYS_H
#define PB_STORE_KEYS_H

#include <stdint.h>

#define PB_KEY_CHECK_NAME_MAX 63
#define PB_KEY_CHECK_LEN 16

/* The check value recorded for the key file `name`: OK, or NOT_FOUND. */
pb_store_rc pb_store_key_check_get(pb_store_conn *c, const char *name,
                                   uint8_t kcv[PB_KEY_CHECK_LEN]);
/* Records it unless one is recorded already (which stays): OK either way. */
pb_store_rc pb_store_key_check_put(pb_store_conn *c, const char *name,
                                   const uint8_t kcv[PB_KEY_CHECK_LEN], int64_t now);

/* What a backend implements for them (see backend.h). */
struct pb_store_keys_ops {
    pb_store_rc (*key_check_get)(pb_store_conn *c, const char *name, uint8_t kcv[PB_KEY_CHECK_LEN]);
    pb_store_rc (*key_check_put)(pb_store_conn *c, const char *name,
                                 const uint8_t kcv[PB_KEY_CHECK_LEN], int64_t now);
};

extern const struct pb_store_keys_ops pb_store_sqlite_keys_ops;

#endif
