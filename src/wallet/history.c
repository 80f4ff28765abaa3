/*
 * history.c — a player's transaction history: the ledger transfers that moved
 * their cash or bonus, newest first, the two balances merged.
 *
 * Each account's transfers form a chain in the ledger (every transfer names the
 * previous one of each of its accounts), so a page is read by walking the two
 * chains from where the last page stopped — no scan, however long the history.
 * The cursor says where each walk resumes: "<cash seq>.<bonus seq>", 0 meaning
 * that chain is done; the ledger refuses a seq that is not in the account's chain.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wallet/wallet.h"

#define MAX_LIMIT 200

/* One position of the cursor: 1..18 decimal digits, nothing else (no sign,
 * no spaces, no overflow). Returns the end of the digits, or NULL. */
static const char *parse_seq(const char *s, int64_t *out)
{
    int64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (p - s == 18)
            return NULL;
        v = v * 10 + (*p - '0');
    }
    if (p == s)
        return NULL;
    *out = v;
    return p;
}

static pb_err parse_cursor(const char *s, int64_t *cash, int64_t *bonus)
{
    *cash = *bonus = 0;
    if (!s || !*s)
        return PB_OK;
    int64_t a = 0, b = 0;
    const char *p = parse_seq(s, &a);
    if (!p || *p != '.')
        return PB_ERR_INVALID_REQUEST;
    p = parse_seq(p + 1, &b);
    if (!p || *p || (a == 0 && b == 0))
        return PB_ERR_INVALID_REQUEST;
    *cash = a;
    *bonus = b;
    return PB_OK;
}

/* The entry a transfer makes in one of the player's balances. */
static void to_entry(const pb_ledger_record *t, int64_t account, const char *balance,
                     pb_wallet_entry *e)
{
    memset(e, 0, sizeof *e);
    e->transfer_id = t->id;
    e->seq = t->seq;
    e->code = t->code;
    snprintf(e->balance, sizeof e->balance, "%s", balance);
    e->amount = t->credit_account_id == account ? t->amount : -t->amount;
    e->flags = t->flags;
    snprintf(e->reference, sizeof e->reference, "%s", t->reference);
    e->created_at = t->created_at;
}

/* Up to q->limit + 1 entries of one account from `start` (0 = its newest; -1 = done). */
static pb_err walk(pb_store_conn *c, const pb_wallet_history_query *q, int64_t account,
                   int64_t start, pb_ledger_record *recs, size_t *n, int64_t *next)
{
    *n = 0;
    *next = 0;
    if (start < 0 || !account)
        return PB_OK;
    pb_ledger_history_query hq = {.account_id = account,
                                  .from_us = q->from_us,
                                  .to_us = q->to_us,
                                  .code = q->code,
                                  .cursor = start,
                                  .limit = q->limit};
    return pb_ledger_account_history(c, &hq, recs, n, next);
}

pb_err pb_wallet_history(pb_store_conn *c, const pb_wallet_history_query *q, pb_wallet_entry *out,
                         size_t *n, char next_cursor[PB_WALLET_CURSOR_MAX])
{
    /* the cursor is read before the outputs are cleared: it may be the caller's
     * next_cursor buffer of the previous page */
    int64_t cash_at, bonus_at;
    pb_err e = parse_cursor(q->cursor, &cash_at, &bonus_at);
    bool resumed = q->cursor && *q->cursor;
    *n = 0;
    next_cursor[0] = 0;
    if (e != PB_OK || q->limit == 0 || q->limit > MAX_LIMIT)
        return PB_ERR_INVALID_REQUEST;
    /* a resumed walk whose position is 0 is finished */
    if (resumed && cash_at == 0)
        cash_at = -1;
    if (resumed && bonus_at == 0)
        bonus_at = -1;

    char owner[PB_LEDGER_OWNER_MAX + 1];
    snprintf(owner, sizeof owner, PB_WALLET_OWNER_PLAYER "%s", q->player_public_id);
    int64_t ids[2] = {0, 0};
    const char *kinds[2] = {PB_WALLET_KIND_CASH, PB_WALLET_KIND_BONUS};
    for (int i = 0; i < 2; i++) {
        pb_ledger_account a;
        e = pb_ledger_account_find(c, q->brand, owner, kinds[i], q->currency, &a);
        if (e == PB_OK)
            ids[i] = a.id;
        else if (e != PB_ERR_ACCOUNT_NOT_FOUND)
            return e;
        else if ((i == 0 ? cash_at : bonus_at) > 0)
            return PB_ERR_INVALID_REQUEST; /* a cursor into an account that does not exist */
    }
    pb_ledger_record *recs = malloc(2 * q->limit * sizeof *recs);
    if (!recs)
        return PB_ERR_INTERNAL;
    pb_ledger_record *cr = recs, *br = recs + q->limit;
    size_t nc = 0, nb = 0;
    int64_t cash_next = 0, bonus_next = 0;
    e = walk(c, q, ids[0], cash_at, cr, &nc, &cash_next);
    if (e == PB_OK)
        e = walk(c, q, ids[1], bonus_at, br, &nb, &bonus_next);
    if (e != PB_OK) {
        free(recs);
        return e;
    }
    /* merge newest first; what is not taken is where the next page resumes */
    size_t i = 0, j = 0;
    while (*n < q->limit && (i < nc || j < nb)) {
        bool take_cash = j >= nb || (i < nc && cr[i].seq >= br[j].seq);
        if (take_cash) {
            to_entry(&cr[i], ids[0], "cash", &out[*n]);
            i++;
        } else {
            to_entry(&br[j], ids[1], "bonus", &out[*n]);
            j++;
        }
        (*n)++;
    }
    int64_t cash_resume = i < nc ? cr[i].seq : cash_next;
    int64_t bonus_resume = j < nb ? br[j].seq : bonus_next;
    free(recs);
    if (cash_resume || bonus_resume)
        snprintf(next_cursor, PB_WALLET_CURSOR_MAX, "%" PRId64 ".%" PRId64, cash_resume,
                 bonus_resume);
    return PB_OK;
}

pb_err pb_wallet_entry_get(pb_store_conn *c, const char *brand, const char *player_public_id,
                           const char *currency, const pb_id *transfer_id, pb_wallet_entry *out)
{
    pb_ledger_record t;
    pb_err e = pb_ledger_transfer_get(c, transfer_id, &t);
    if (e != PB_OK)
        return e;
    char owner[PB_LEDGER_OWNER_MAX + 1];
    snprintf(owner, sizeof owner, PB_WALLET_OWNER_PLAYER "%s", player_public_id);
    const char *kinds[2] = {PB_WALLET_KIND_CASH, PB_WALLET_KIND_BONUS};
    for (int i = 0; i < 2; i++) {
        pb_ledger_account a;
        e = pb_ledger_account_find(c, brand, owner, kinds[i], currency, &a);
        if (e == PB_ERR_ACCOUNT_NOT_FOUND)
            continue;
        if (e != PB_OK)
            return e;
        if (t.debit_account_id == a.id || t.credit_account_id == a.id) {
            to_entry(&t, a.id, i == 0 ? "cash" : "bonus", out);
            return PB_OK;
        }
    }
    return PB_ERR_TRANSFER_NOT_FOUND; /* not this player's: as if it did not exist */
}
