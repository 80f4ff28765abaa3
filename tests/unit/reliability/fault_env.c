/* fault_env.c — see fault_env.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <unistd.h>

#include "fault_env.h"
#include "store/sqlite/faultvfs.h"

void fault_env_init(fault_env *e, const char *tmpl)
{
    assert_int_equal(pb_faultvfs_register("pbfault"), SQLITE_OK);
    pb_faultvfs_set_skip_disk_sync(true);
    pb_faultvfs_reset();
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "%s", tmpl);
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->path, sizeof e->path, "%s/ledger.db", e->dir);
    snprintf(e->url, sizeof e->url, "sqlite:%s?vfs=pbfault", e->path);
}

void fault_env_open(fault_env *e, const char *url, const pb_ledger_config *cfg)
{
    char err[256];
    e->store = pb_store_open(url, err, sizeof err);
    if (!e->store)
        fail_msg("store open: %s", err);
    assert_int_equal(pb_store_migrate(e->store, NULL, err, sizeof err), PB_STORE_OK);
    e->conn = pb_store_connect(e->store, err, sizeof err);
    assert_non_null(e->conn);
    e->ledger = pb_ledger_open(e->store, cfg, err, sizeof err);
    if (!e->ledger)
        fail_msg("ledger open: %s", err);
}

static int64_t account(fault_env *e, const char *owner, uint32_t flags)
{
    pb_ledger_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.brand, sizeof a.brand, "test");
    snprintf(a.owner, sizeof a.owner, "%s", owner);
    snprintf(a.kind, sizeof a.kind, "cash");
    snprintf(a.currency, sizeof a.currency, "EUR");
    a.flags = flags;
    pb_err rc = pb_ledger_account_create(e->ledger, &a);
    assert_string_equal(pb_err_code(rc), pb_err_code(PB_OK));
    return a.id;
}

void fault_env_accounts(fault_env *e)
{
    e->house = account(e, "house", 0);
    e->player = account(e, "player", PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
}

void fault_env_close(fault_env *e)
{
    if (e->ledger)
        pb_ledger_close(e->ledger);
    if (e->conn)
        pb_store_disconnect(e->conn);
    if (e->store)
        pb_store_close(e->store);
    e->ledger = NULL;
    e->conn = NULL;
    e->store = NULL;
}

void fault_env_remove(fault_env *e)
{
    fault_env_close(e);
    pb_faultvfs_reset();
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", "-writer.lock"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", e->path, suffix[i]);
        unlink(p);
    }
    rmdir(e->dir);
}
