/*
 * damaged.c — the ledger's damaged transfer rows: noting each one (logged once,
 * naming its seq) and refusing the one transfer that needs it STORE_CORRUPT while
 * the batch goes on. Used by the engine's key lookup (idempotency.c) and
 * validation (engine.c); the expiry sweep (expire.c) keeps its skipped holds in
 * the same list. Damaged account rows likewise (see "damaged accounts" below).
 */
#include <inttypes.h>

#include "core/id.h"
#include "core/log.h"
#include "ledger/ledger_internal.h"

/* A damaged transfer row (a column of the wrong type or size, a page SQLite
 * cannot decode, an id that does not name its own seq, a hold the open-pending
 * table lists without its pending flag or without its resolution) is no reason
 * to refuse the neighbours of the one transfer that needs it, nor a business
 * answer to remember: that transfer gets STORE_CORRUPT (transient: the same
 * request succeeds once the row is repaired from a backup; `pitboss ledger
 * verify` names the row) and the batch goes on. Each row is logged once, at
 * error level, naming its seq; the rows met are kept for that (and for the
 * expiry sweep's skipping, pb_ledger_engine_expire). */

damaged_row *pb_ledger_damaged_find(pb_ledger *l, int64_t seq)
{
    for (size_t i = 0; i < l->ndamaged; i++)
        if (l->damaged[i].seq == seq)
            return &l->damaged[i];
    return NULL;
}

/* Notes seq as damaged; true when it was not known yet (the caller logs then).
 * seq 0 (unknown, e.g. a page SQLite cannot decode) is never kept: logged each time. */
static bool damaged_note(pb_ledger *l, int64_t seq)
{
    if (seq <= 0)
        return true;
    if (pb_ledger_damaged_find(l, seq))
        return false;
    if (pb_ledger_engine_grow((void **)&l->damaged, &l->damaged_cap, l->ndamaged + 1,
                              sizeof *l->damaged) != 0)
        return true; /* out of memory: logged again next time */
    l->damaged[l->ndamaged++] = (damaged_row){.seq = seq, .retry_at = 0};
    return true;
}

/* Why a lookup answered CORRUPT: the store's message, or (a row read whole) that
 * its id does not name it (pb_ledger_transfer_by_id). */
const char *pb_ledger_damage_why(pb_ledger *l, const pb_store_transfer *p)
{
    if (p->seq > 0 && !p->malformed)
        return "its stored id does not name its seq";
    return pb_store_errmsg(l->wconn);
}

/* Refuses leg x with STORE_CORRUPT because the transfer row seq (0: unknown; id
 * names it when known) is damaged: logs it the first time (run_chain counts the
 * refusals). */
void pb_ledger_refuse_damaged(pb_ledger *l, const pb_transfer *x, int64_t seq, const pb_id *id,
                              const char *why, pb_err *result)
{
    char ids[PB_ID_STR_LEN + 1] = "";
    int64_t named;
    if (id)
        pb_id_to_string(id, ids);
    if (seq <= 0 && id && pb_ledger_txid_seq(l->ids.key, id, &named))
        seq = named;
    if (damaged_note(l, seq))
        pb_log(PB_LOG_ERROR, "ledger.damaged_row",
               "transfer seq %" PRId64 " (id %s) is damaged: %s. Transfers that need it are "
               "refused STORE_CORRUPT (this one: %s/%s) until it is repaired; run `pitboss "
               "ledger verify`",
               seq, ids[0] ? ids : "?", why, x->scope, x->key);
    *result = PB_ERR_STORE_CORRUPT;
}

/* ---------------------------------------------------------------- damaged accounts
 *
 * An account row (ledger_account and its ledger_balance row) with a column of the
 * wrong type or size, a negative counter, flags the ledger never sets, or no
 * balance row is never used for money: its currency could be a cut string, its
 * limits garbage, its counters anything. The writer's account cache never holds
 * one (cache.c: the row is re-read each time, so a repair is seen at once), a
 * transfer, post or void that touches it is refused STORE_CORRUPT (counted in
 * corrupt_refusals, never remembered under its key) while the rest of the batch
 * goes on, a command reading it (pb_ledger_tx_account) gets STORE_CORRUPT, and
 * readers (pb_ledger_account_get/find) get STORE_CORRUPT instead of its balances.
 * `pitboss ledger verify` reports it (account_malformed); the anchor writer does
 * not sign it. Each account is logged once, at error level, naming its id. */

const char *pb_ledger_account_damage(const pb_store_account *a)
{
    if (a->malformed)
        return a->malformed;
    uint32_t both = PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS |
                    PB_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
    if ((a->flags & ~both) || (a->flags & both) == both)
        return "flags";
    return NULL;
}

static bool damaged_acct_known(const pb_ledger *l, int64_t id, size_t *at)
{
    for (size_t i = 0; i < l->ndamaged_accts; i++)
        if (l->damaged_accts[i] == id) {
            *at = i;
            return true;
        }
    return false;
}

void pb_ledger_account_damaged(pb_ledger *l, const pb_store_account *a, const char *why)
{
    size_t at;
    if (damaged_acct_known(l, a->id, &at))
        return;
    if (pb_ledger_engine_grow((void **)&l->damaged_accts, &l->damaged_accts_cap,
                              l->ndamaged_accts + 1, sizeof *l->damaged_accts) == 0)
        l->damaged_accts[l->ndamaged_accts++] = a->id; /* out of memory: logged again */
    pb_log(PB_LOG_ERROR, "ledger.damaged_account",
           "account %" PRId64 " is damaged: its %s is not what the ledger writes (wrong type, "
           "too long, negative, unknown flags or missing). Transfers that touch it are refused "
           "STORE_CORRUPT and its balance is not shown until it is repaired; run `pitboss "
           "ledger verify`",
           a->id, why);
}

void pb_ledger_account_sound(pb_ledger *l, int64_t id)
{
    size_t at;
    if (l->ndamaged_accts && damaged_acct_known(l, id, &at))
        l->damaged_accts[at] = l->damaged_accts[--l->ndamaged_accts];
}
