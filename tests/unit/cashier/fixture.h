/* fixture.h — a migrated database, a running ledger, the wallet and the cashier
 * with the sandbox PSP (no self URL: tests deliver the PSP's events themselves),
 * a brand "alpha" and two players, for the cashier's unit tests. */
#ifndef PB_TEST_CASHIER_FIXTURE_H
#define PB_TEST_CASHIER_FIXTURE_H

#include "../ledger/fixture.h"
#include "cashier/cashier.h"
#include "identity/identity.h"

typedef struct cx {
    fx *f;
    pb_wallet *w;
    pb_cashier *k;
    pb_psp *psp;
    char secret[65];
    int64_t brand_id;
    char players[2][PB_ID_STR_LEN + 1];
    int64_t player_rows[2];
    pb_cashier_player pl[2];
    int64_t house;
    int n; /* counter for keys and event ids */
} cx;

extern cx C;

int cx_setup(void **state);
int cx_teardown(void **state); /* asserts `ledger verify` is clean first */

/* Sets the brand's settings object (JSON text). */
void cx_settings(const char *json);
/* Sets player i's status ("active", "blocked", …). */
void cx_status(int i, const char *status);
/* Cash and bonus onto player i from the house. */
void cx_fund(int i, int64_t cash, int64_t bonus);
/* Player i's balances now. */
pb_wallet_balance cx_balance(int i);
/* A fresh idempotency key / event id. */
const char *cx_key(char *buf, size_t cap);

/* Delivers a sandbox event signed at unix time t (0 = now) through pb_cashier_webhook(). */
pb_err cx_event(const char *event_id, const char *type, const char *ref, int64_t amount,
                const char *currency, int64_t t, pb_cashier_webhook_result *out);
/* A deposit of amount for player i, pending. */
pb_store_payment cx_deposit(int i, int64_t amount);
/* A withdrawal of amount for player i by actor a (NULL = the player). */
pb_err cx_withdraw(int i, int64_t amount, const pb_cashier_actor *a, pb_store_withdrawal *out);
/* A finance actor with public id `id` (no principal: the command re-checks no session,
 * but judges the member by its staff row, approvals.c). */
pb_cashier_actor cx_staff(const char *id);
/* A principal for player i with a live session of public id sid (as the player API
 * authorizes it); *session: the session's row id (to revoke it). */
void cx_player_principal(int i, const char *sid, pb_principal *p, int64_t *session);
/* Inserts an active finance member with public id `id` whose scope is brand "alpha";
 * its staff row id. cx_setup makes fin-1, fin-2 and fin-agent. */
int64_t cx_finance_member(const char *id);
/* The withdrawal as stored now. */
pb_store_withdrawal cx_withdrawal(const char *id);
/* How many ledger transfers there are. */
int64_t cx_transfers(void);

#endif
