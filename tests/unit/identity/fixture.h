/* fixture.h — a fresh migrated SQLite database, a keys directory, the demo brand
 * and an identity context on a test-controlled clock, for each identity test. */
#ifndef PB_TEST_IDENTITY_FIXTURE_H
#define PB_TEST_IDENTITY_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "identity/identity.h"
#include "identity/identity_internal.h"

#define IFX_PASSWORD "correct horse battery"
#define IFX_T0 1795000000000000 /* 2026-11-18T11:06:40Z */

typedef struct ifx {
    char dir[256];
    char path[300];
    char keys[300];
    pb_store *store;
    pb_store_conn *conn;
    pb_identity *id;
    pb_identity_config cfg;
    int64_t now;
    pb_brand demo; /* code "demo", EUR (default) and USD, MT */
} ifx;

/* cmocka setup/teardown: *state becomes an ifx*. */
int ifx_setup(void **state);
int ifx_teardown(void **state);
/* Replaces the identity context with one made from cfg (keys_dir is filled in). */
void ifx_reconfigure(ifx *f, pb_identity_config cfg);

/* Write transactions on f->conn around domain calls that run in the caller's one. */
void ifx_begin(ifx *f);
void ifx_commit(ifx *f);

/* Creates a brand; asserts success. */
pb_brand ifx_brand(ifx *f, const char *code, const char *currency);
/* Registers a player in brand `code` with IFX_PASSWORD; asserts success. */
pb_player ifx_player(ifx *f, const char *code, const char *email);
/* Logs a player in (brand "demo", IFX_PASSWORD unless password is given). */
pb_err ifx_login(ifx *f, const char *email, const char *password, pb_auth_tokens *out);

/* A staff member with a full session: created, password changed, TOTP enrolled,
 * logged in with a code. Returns the principal; *seed receives the TOTP seed and
 * *password the password set. brand may be NULL for every brand. */
pb_principal ifx_staff(ifx *f, const char *email, pb_role role, const char *brand,
                       uint8_t seed[PB_TOTP_SEED_BYTES], pb_auth_tokens *tokens);
/* The seed in an otpauth:// URI. */
void ifx_uri_seed(const char *uri, uint8_t seed[PB_TOTP_SEED_BYTES]);
/* A SQL count on f->conn's database, e.g. "SELECT count(*) FROM auth_session". */
int64_t ifx_count(ifx *f, const char *sql);

#endif
