/*
 * store_keys.c — dispatches the key check values' store calls to the backend.
 * Nothing here knows SQL; see sqlite/sqlite_keys.c.
 */
#include "store/backend.h"

pb_store_rc pb_store_key_check_get(pb_store_conn *c, const char *name,
                                   uint8_t kcv[PB_KEY_CHECK_LEN])
{
    return c->be->keys->key_check_get(c, name, kcv);
}

pb_store_rc pb_store_key_check_put(pb_store_conn *c, const char *name,
                                   const uint8_t kcv[PB_KEY_CHECK_LEN], int64_t now)
{
    return c->be->keys->key_check_put(c, name, kcv, now);
}
