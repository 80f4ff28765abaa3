/*
 * cmd_demo.c — `pitboss demo`: what `make run` shows until the HTTP server
 * lands. Migrates the database, creates the demo brand's accounts (house,
 * PSP clearing, two players' cash accounts in EUR), moves money the way the
 * casino will (deposit, a bet held then settled, a win, a voided hold), prints
 * the balances and runs `ledger verify`. Safe to run again: accounts are found
 * and every transfer's idempotency key replays.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/money.h"
#include "ledger/ledger.h"

static int64_t account(pb_ledger *l, pb_store_conn *c, const char *owner, const char *kind,
                       uint32_t flags)
{
    pb_ledger_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.brand, sizeof a.brand, "demo");
    snprintf(a.owner, sizeof a.owner, "%s", owner);
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.currency, sizeof a.currency, "EUR");
    a.flags = flags;
    pb_err e = pb_ledger_account_create(l, &a);
    if (e == PB_ERR_ACCOUNT_EXISTS)
        e = pb_ledger_account_find(c, "demo", owner, kind, "EUR", &a);
    return e == PB_OK ? a.id : -1;
}

static pb_transfer transfer(const char *key, int64_t dr, int64_t cr, const char *amount,
                            uint32_t code, uint32_t flags)
{
    pb_transfer t;
    memset(&t, 0, sizeof t);
    snprintf(t.scope, sizeof t.scope, "demo");
    snprintf(t.key, sizeof t.key, "%s", key);
    t.debit_account_id = dr;
    t.credit_account_id = cr;
    if (amount)
        pb_money_parse(amount, strlen(amount), pb_currency_find("EUR"), &t.amount);
    t.code = code;
    t.flags = flags;
    if (!(flags & (PB_TRANSFER_POST_PENDING | PB_TRANSFER_VOID_PENDING)))
        snprintf(t.currency, sizeof t.currency, "EUR");
    return t;
}

static int submit(pb_ledger *l, pb_transfer *t)
{
    pb_err e = pb_ledger_submit(l, t, 1);
    if (e != PB_OK || t->result != PB_OK) {
        fprintf(stderr, "demo: transfer %s failed: %s\n", t->key,
                pb_err_code(e != PB_OK ? e : t->result));
        return -1;
    }
    return 0;
}

static void print_balance(pb_store_conn *c, int64_t id)
{
    pb_ledger_account a;
    if (pb_ledger_account_get(c, id, &a) != PB_OK)
        return;
    const pb_currency *eur = pb_currency_find("EUR");
    char posted[PB_MONEY_STR_MAX], held[PB_MONEY_STR_MAX];
    int64_t net = a.credits_posted - a.debits_posted;
    pb_money_format(net, eur, posted, sizeof posted);
    pb_money_format(a.debits_pending, eur, held, sizeof held);
    printf("  %-14s %-14s %12s EUR  (held %s)\n", a.owner, a.kind, posted, held);
}

int pb_cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'}, {0, 0, 0, 0}};
    const char *db = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:", opts, NULL)) != -1) {
        if (ch != 'd') {
            fprintf(stderr, "usage: pitboss demo [--db URL]\n");
            return 2;
        }
        db = optarg;
    }
    const char *url = pb_cli_db_url(db);
    pb_store *s = pb_cli_open_store(url, true);
    if (!s)
        return 1;
    char err[512];
    pb_ledger *l = pb_ledger_open(s, NULL, err, sizeof err);
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    if (!l || !c) {
        fprintf(stderr, "demo: %s\n", err);
        return 1;
    }
    int64_t house = account(l, c, "house", "house_revenue", 0);
    int64_t psp = account(l, c, "psp:sandbox", "psp_clearing", 0);
    int64_t alice = account(l, c, "player:alice", "player_cash",
                            PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    int64_t bob = account(l, c, "player:bob", "player_cash",
                          PB_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    int rc = (house < 0 || psp < 0 || alice < 0 || bob < 0) ? 1 : 0;

    pb_transfer t[4] = {
        transfer("deposit:alice:1", psp, alice, "100.00", PB_CODE_DEPOSIT, 0),
        transfer("deposit:bob:1", psp, bob, "50.00", PB_CODE_DEPOSIT, 0),
        transfer("bet:alice:1", alice, house, "10.00", PB_CODE_BET, PB_TRANSFER_PENDING),
        transfer("bet:bob:1", bob, house, "5.00", PB_CODE_BET, PB_TRANSFER_PENDING),
    };
    for (int i = 0; i < 4 && rc == 0; i++)
        rc = submit(l, &t[i]);
    if (rc == 0) {
        pb_transfer settle = transfer("settle:alice:1", 0, 0, NULL, 0, PB_TRANSFER_POST_PENDING);
        settle.pending_id = t[2].record.id;
        pb_transfer win = transfer("win:alice:1", house, alice, "36.00", PB_CODE_WIN, 0);
        pb_transfer voided = transfer("void:bob:1", 0, 0, NULL, 0, PB_TRANSFER_VOID_PENDING);
        voided.pending_id = t[3].record.id;
        rc = submit(l, &settle) || submit(l, &win) || submit(l, &voided);
        pb_transfer overdraw = transfer("bet:bob:too-much", bob, house, "1000.00", PB_CODE_BET, 0);
        pb_ledger_submit(l, &overdraw, 1);
        printf("pitboss demo on %s (brand \"demo\")\n", url);
        printf("  a bet of 1000.00 EUR by bob: %s\n", pb_err_code(overdraw.result));
    }
    pb_ledger_close(l);
    printf("balances:\n");
    print_balance(c, alice);
    print_balance(c, bob);
    print_balance(c, house);
    print_balance(c, psp);
    pb_ledger_verify_summary vs;
    if (pb_ledger_verify(c, NULL, NULL, &vs) != PB_OK || vs.violations)
        rc = 1;
    printf("ledger verify: %" PRId64 " transfers, %" PRId64 " violation(s)\n", vs.transfers,
           vs.violations);
    printf("The HTTP API: `make run` (or `pitboss serve`).\n");
    pb_store_disconnect(c);
    pb_store_close(s);
    return rc;
}
