/* cli.h — the pitboss subcommands (one file each) and their shared helpers. */
#ifndef PB_CLI_H
#define PB_CLI_H

#include "store/store.h"

int pb_cmd_migrate(int argc, char **argv);
int pb_cmd_ledger(int argc, char **argv);
int pb_cmd_bench(int argc, char **argv);
/* cmd_bench_game.c: `pitboss bench game` (called by pb_cmd_bench) */
int pb_cmd_bench_game(int argc, char **argv);
int pb_cmd_demo(int argc, char **argv);
/* @cli-commands */
/* @cli-commands-sim */
int pb_cmd_sim(int argc, char **argv);
int pb_cmd_bench_wallet(int argc, char **argv); /* cmd_sim.c, dispatched by cmd_bench.c */
/* @cli-commands-provider-hub88 */
/* @cli-commands-provider-native */
/* @cli-commands-cashier */
/* @cli-commands-catalog */
int pb_cmd_provider(int argc, char **argv);
int pb_cmd_game(int argc, char **argv);
/* @cli-commands-wallet */
/* @cli-commands-games-play */
/* @cli-commands-games */
int pb_cmd_brand(int argc, char **argv);
int pb_cmd_admin(int argc, char **argv);
int pb_cmd_serve(int argc, char **argv);
int pb_cmd_routes(int argc, char **argv);
int pb_cmd_audit(int argc, char **argv);

/* The database URL: --db, else $PITBOSS_DB, else var/pitboss.db. */
const char *pb_cli_db_url(const char *flag_value);
/* Opens and migrates the store; prints the reason and returns NULL on failure. */
pb_store *pb_cli_open_store(const char *url, bool migrate);

#endif
