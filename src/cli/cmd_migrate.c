/* cmd_migrate.c — `pitboss migrate`: applies the numbered SQL migrations. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

int pb_cmd_migrate(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else {
            fprintf(c == 'h' ? stdout : stderr, "usage: pitboss migrate [--db URL]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    const char *url = pb_cli_db_url(db);
    char err[512];
    pb_store *s = pb_store_open(url, err, sizeof err);
    if (!s) {
        fprintf(stderr, "pitboss: cannot open %s: %s\n", url, err);
        return 1;
    }
    int applied = 0;
    pb_store_rc rc = pb_store_migrate(s, &applied, err, sizeof err);
    if (rc != PB_STORE_OK) {
        fprintf(stderr, "pitboss: migration failed: %s\n", err);
        pb_store_close(s);
        return 1;
    }
    pb_store_conn *conn = pb_store_connect(s, err, sizeof err);
    int cur = 0, latest = 0;
    if (conn)
        pb_store_schema_version(conn, &cur, &latest);
    printf("migrated %s: %d applied, schema version %d\n", url, applied, cur);
    pb_store_disconnect(conn);
    pb_store_close(s);
    return 0;
}
