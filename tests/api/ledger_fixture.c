/*
 * ledger_fixture.c — a test tool (not part of pitboss): puts money on a
 * player's ledger accounts for the staff API tests, since no API moves money yet.
 *
 *   ledger_fixture DB BRAND OWNER CURRENCY
 *
 * Run it while no server uses DB (the ledger writer owns the chain). Creates
 * OWNER's player_cash and player_bonus accounts in BRAND/CURRENCY and a house
 * account, then, in this order: deposits of 100.00, 50.00 and 25.50, a bet of
 * 10.00, a win of 5.00, a pending hold of 7.00 (left open) on the cash account,
 * and a bonus grant of 20.00 on the bonus account. Prints
 * {"cash":ID,"bonus":ID,"house":ID}. Exit 0, or 1 with a message.
 */
#include <stdio.h>
#include <string.h>

#include "ledger/ledger.h"

/* Creates one account; its id, or 0 (reported). */
static int64_t account(pb_ledger *l, const char *brand, const char *owner, const char *kind,
                       const char *currency, uint32_t flags)
{
    pb_ledger_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.brand, sizeof a.brand, "%s", brand);
    snprintf(a.owner, sizeof a.owner, "%s", owner);
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.currency, sizeof a.currency, "%s", currency);
    a.flags = flags;
    pb_err e = pb_ledger_account_create(l, &a);
    if (e != PB_OK) {
        fprintf(stderr, "ledger_fixture: account %s %s: %s\n", owner, kind, pb_err_code(e));
        return 0;
    }
    return a.id;
}

/* Submits one transfer and waits for it; 0 or -1 (reported). */
static int transfer(pb_ledger *l, int n, int64_t debit, int64_t credit, int64_t amount,
                    const char *currency, uint32_t code, uint32_t flags)
{
    pb_transfer t;
    memset(&t, 0, sizeof t);
    snprintf(t.scope, sizeof t.scope, "fixture");
    snprintf(t.key, sizeof t.key, "fixture-%d", n);
    snprintf(t.currency, sizeof t.currency, "%s", currency);
    snprintf(t.reference, sizeof t.reference, "fixture-ref-%d", n);
    t.debit_account_id = debit;
    t.credit_account_id = credit;
    t.amount = amount;
    t.code = code;
    t.flags = flags;
    pb_err e = pb_ledger_submit(l, &t, 1);
    if (e != PB_OK || t.result != PB_OK) {
        fprintf(stderr, "ledger_fixture: transfer %d: %s\n", n,
                pb_err_code(e != PB_OK ? e : t.result));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: ledger_fixture DB BRAND OWNER CURRENCY\n");
        return 1;
    }
    const char *brand = argv[2], *owner = argv[3], *cur = argv[4];
    char err[512];
    pb_store *s = pb_store_open(argv[1], err, sizeof err);
    pb_ledger *l = s ? pb_ledger_open(s, NULL, err, sizeof err) : NULL;
    if (!l) {
        fprintf(stderr, "ledger_fixture: %s\n", err);
        pb_store_close(s);
        return 1;
    }
    const uint32_t player = PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
    int64_t cash = account(l, brand, owner, "player_cash", cur, player);
    int64_t bonus = account(l, brand, owner, "player_bonus", cur, player);
    int64_t house = account(l, brand, "house:fixture", "house_cash", cur, 0);
    int rc = cash && bonus && house ? 0 : 1;
    if (rc == 0)
        rc = transfer(l, 1, house, cash, 10000, cur, PB_CODE_DEPOSIT, 0) ||
             transfer(l, 2, house, cash, 5000, cur, PB_CODE_DEPOSIT, 0) ||
             transfer(l, 3, house, cash, 2550, cur, PB_CODE_DEPOSIT, 0) ||
             transfer(l, 4, cash, house, 1000, cur, PB_CODE_BET, 0) ||
             transfer(l, 5, house, cash, 500, cur, PB_CODE_WIN, 0) ||
             transfer(l, 6, cash, house, 700, cur, PB_CODE_BET, PB_TRANSFER_PENDING) ||
             transfer(l, 7, house, bonus, 2000, cur, PB_CODE_BONUS_GRANT, 0);
    pb_ledger_close(l);
    pb_store_close(s);
    if (rc == 0)
        printf("{\"cash\":%lld,\"bonus\":%lld,\"house\":%lld}\n", (long long)cash, (long long)bonus,
               (long long)house);
    return rc ? 1 : 0;
}
