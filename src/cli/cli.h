/* cli.h — the pitboss subcommands (one file each) and their shared helpers. */
#ifndef PB_CLI_H
#define PB_CLI_H

#include "store/store.h"

int pb_cmd_migrate(int argc, char **argv);
int pb_cmd_ledger(int argc, char **argv);
int pb_cmd_backup(int argc, char **argv);   /* cmd_backup.c: `pitboss backup` */
int pb_cmd_restore(int argc, char **argv);  /* cmd_backup.c: `pitboss restore` */
int pb_cmd_erasures(int argc, char **argv); /* cmd_erasures.c: `pitboss erasures` */

/* Erasures a restore re-applies (cmd_erasures.c, see its top). */
typedef struct pb_cli_erasure {
    char player[PB_PUBLIC_ID_MAX + 1]; /* public id */
    int64_t erased_at;                 /* when it was first erased; 0 unknown */
} pb_cli_erasure;
typedef struct pb_cli_erasures {
    pb_cli_erasure *items;
    size_t n, cap;
} pb_cli_erasures;
/* Adds the erased players of the database at url (and gives the newest event id it
 * holds) / of the JSON lines file at path; 0, or -1 with the reason in err (for a
 * file: its line). */
int pb_cli_erasures_from_db(const char *url, pb_cli_erasures *l, int64_t *events_newest, char *err,
                            size_t cap);
int pb_cli_erasures_from_file(const char *path, pb_cli_erasures *l, char *err, size_t cap);
/* Sorts the list and keeps each player once (both sources may list one). */
void pb_cli_erasures_unique(pb_cli_erasures *l);
void pb_cli_erasures_free(pb_cli_erasures *l);

/* What a restore does to the copy it accepted, before the copy takes the database's
 * name (cmd_erasures.c): migrated; the event `platform.restored` appended above every
 * event id the replaced database may have issued (read: above its newest; unreadable
 * or none: at most one a microsecond since the copy's newest event); then each listed
 * erasure applied again. */
typedef struct pb_cli_restore_fixup {
    pb_cli_erasures erasures;
    const char *replaced;    /* the replaced database: "read", "unreadable" or "none" */
    int64_t replaced_newest; /* "read": its newest event id */
    /* out */
    size_t reapplied;
    int64_t event_id, skipped_from, skipped_to; /* skipped: 0 when none */
} pb_cli_restore_fixup;
/* 0, or -1 with the reason in err. */
int pb_cli_restore_apply(const char *copy_path, pb_cli_restore_fixup *r, char *err, size_t cap);

int pb_cmd_bench(int argc, char **argv);
/* cmd_bench_game.c: `pitboss bench game` (called by pb_cmd_bench) */
int pb_cmd_bench_game(int argc, char **argv);
int pb_cmd_bench_players(int argc, char **argv);
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
/* cmd_fair.c: `pitboss fair verify|seed|commitment`; cmd_sim_rtp.c: `pitboss sim rtp`;
 * cmd_bench_fair.c: `pitboss bench fair` (main.c dispatches the last two before sim/bench) */
int pb_cmd_fair(int argc, char **argv);
int pb_cmd_sim_rtp(int argc, char **argv);
int pb_cmd_bench_fair(int argc, char **argv);
struct json_t;
/* Adds a game option (--target, --direction, --cashout, --mines, --tiles, --picks,
 * --risk, --rows, --bets, --params; opt without dashes) to a params object;
 * 0, or -1 with a message on stderr (cmd_fair.c). */
int pb_cli_game_param(struct json_t *params, const char *opt, const char *value);
/* The RTP for game kind (pb_game_kind) from --edge (percent) or --rtp-bp, else
 * the game's default; checked against the game's range. 0, or -1 with a message. */
int pb_cli_game_rtp(int kind, const char *edge, const char *rtp_bp, uint32_t *out);
int pb_cmd_brand(int argc, char **argv);
int pb_cmd_admin(int argc, char **argv);
int pb_cmd_serve(int argc, char **argv);
int pb_cmd_routes(int argc, char **argv);
int pb_cmd_audit(int argc, char **argv);

/* The database URL: --db, else $PITBOSS_DB, else var/pitboss.db. */
const char *pb_cli_db_url(const char *flag_value);
/* The keys directory: --keys-dir, else $PITBOSS_KEYS_DIR, else var/keys (as serve). */
const char *pb_cli_keys_dir(const char *flag_value);
/* The keys directory's sealing secrets against the check values the database
 * recorded (keycheck.c): 0 when each present file matches and none recorded is
 * missing (with record, the unrecorded present ones are recorded now); -1 with
 * the reason, naming the file, otherwise. Call it before anything may create a
 * secret, and again after, to record the new ones. */
int pb_cli_keys_check(pb_store *s, const char *keys_dir, bool record, char *err, size_t errcap);
/* Opens the store and, with migrate, migrates it; without, a missing database file is
 * an error (not created). Prints the reason and returns NULL on failure. */
pb_store *pb_cli_open_store(const char *url, bool migrate);

#endif
