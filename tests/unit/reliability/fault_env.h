/*
 * fault_env.h — a ledger on a fresh database opened through the fault VFS
 * (store/sqlite/faultvfs.h), for the reliability tests: a temporary directory,
 * the store, a read connection, the ledger, and two accounts.
 */
#ifndef PB_TEST_FAULT_ENV_H
#define PB_TEST_FAULT_ENV_H

#include <stdint.h>

#include "ledger/ledger.h"

typedef struct fault_env {
    char dir[256], path[300], url[400]; /* url: the path through the shim */
    pb_store *store;
    pb_store_conn *conn;
    pb_ledger *ledger;
    int64_t house, player; /* "house" (no flags), "player" (debits <= credits) */
} fault_env;

/* Registers the shim as "pbfault" (the disk's own syncs skipped), forgets its
 * state, and makes a temporary directory from tmpl ("/tmp/name.XXXXXX"). */
void fault_env_init(fault_env *e, const char *tmpl);
/* Opens the store at url (e->url, or e->path without the shim), migrates it,
 * connects and opens the ledger with cfg. Fails the test on an error. */
void fault_env_open(fault_env *e, const char *url, const pb_ledger_config *cfg);
/* Makes the two accounts (house and player, EUR) through the ledger. */
void fault_env_accounts(fault_env *e);
/* Closes the ledger, the connection and the store (what of them is open). */
void fault_env_close(fault_env *e);
/* Closes what is open, resets the shim, removes the files and the directory. */
void fault_env_remove(fault_env *e);

#endif
