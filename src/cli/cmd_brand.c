/*
 * cmd_brand.c — `pitboss brand create|list`: brands (tenants) from the command
 * line, for operators and for `make run` to create the demo brand.
 *
 *   pitboss brand create --code demo --name "Demo Casino" --currency EUR
 *                        [--currencies EUR,USD] --jurisdiction MT
 *                        [--settings JSON] [--db URL]
 *   pitboss brand list [--db URL]
 *
 * Exit status: 0 done, 1 refused (the stable error code is printed), 2 usage or
 * the database could not be used.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/time.h"
#include "tenancy/tenancy.h"

#define USAGE                                                                                 \
    "usage: pitboss brand create --code CODE --name NAME --currency CUR [--currencies A,B]\n" \
    "                            --jurisdiction CC [--settings JSON] [--db URL]\n"            \
    "       pitboss brand list [--db URL]\n"

/* Splits a comma-separated list in place into list[]; returns the count or -1. */
static int split_list(char *s, const char **list, int cap)
{
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == cap)
            return -1;
        list[n++] = tok;
    }
    return n;
}

/* Opens and migrates the database and connects; NULL (message printed) on failure. */
static pb_store_conn *connect_db(const char *db, pb_store **s)
{
    *s = pb_cli_open_store(pb_cli_db_url(db), true);
    if (!*s)
        return NULL;
    char err[512];
    pb_store_conn *c = pb_store_connect(*s, err, sizeof err);
    if (!c) {
        fprintf(stderr, "pitboss: %s\n", err);
        pb_store_close(*s);
    }
    return c;
}

/* Prints one brand as a line of key=value pairs. */
static void print_brand(const pb_brand *b)
{
    printf("brand %s id=%lld name=\"%s\" currency=%s currencies=", b->code, (long long)b->id,
           b->name, b->default_currency);
    for (size_t i = 0; i < b->ncurrencies; i++)
        printf("%s%s", i ? "," : "", b->currencies[i]);
    printf(" jurisdiction=%s status=%s\n", b->jurisdiction, b->status);
}

/* Parses the options and creates the brand in one transaction. */
static int brand_create(int argc, char **argv)
{
    static const struct option opts[] = {{"code", required_argument, 0, 'c'},
                                         {"name", required_argument, 0, 'n'},
                                         {"currency", required_argument, 0, 'u'},
                                         {"currencies", required_argument, 0, 'l'},
                                         {"jurisdiction", required_argument, 0, 'j'},
                                         {"settings", required_argument, 0, 's'},
                                         {"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    pb_brand_spec spec = {0};
    const char *db = NULL, *list[PB_BRAND_CURRENCIES_MAX];
    char *currencies = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:n:u:l:j:s:d:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': spec.code = optarg; break;
        case 'n': spec.name = optarg; break;
        case 'u': spec.default_currency = optarg; break;
        case 'l': currencies = optarg; break;
        case 'j': spec.jurisdiction = optarg; break;
        case 's': spec.settings = optarg; break;
        case 'd': db = optarg; break;
        default: fputs(USAGE, ch == 'h' ? stdout : stderr); return ch == 'h' ? 0 : 2;
        }
    }
    int n = currencies ? split_list(currencies, list, PB_BRAND_CURRENCIES_MAX) : 0;
    if (!spec.code || !spec.name || !spec.default_currency || !spec.jurisdiction || n < 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    spec.currencies = n ? list : NULL;
    spec.ncurrencies = (size_t)n;
    pb_store *s;
    pb_store_conn *c = connect_db(db, &s);
    if (!c)
        return 2;
    pb_brand *b = calloc(1, sizeof *b);
    const char *field = NULL;
    pb_err e = !b ? PB_ERR_INTERNAL
               : pb_store_begin(c, PB_STORE_WRITE) != PB_STORE_OK
                   ? PB_ERR_STORE_UNAVAILABLE
                   : pb_tenancy_brand_create(c, &spec, pb_time_now_us(), b, &field);
    if (e == PB_OK && pb_store_commit(c) != PB_STORE_OK)
        e = PB_ERR_STORE_UNAVAILABLE;
    pb_store_rollback(c);
    int rc = 0;
    if (e == PB_OK) {
        print_brand(b);
    } else {
        fprintf(stderr, "pitboss: brand not created: %s%s%s (%s)\n", pb_err_code(e),
                field ? " in " : "", field ? field : "", pb_err_message(e));
        rc = e == PB_ERR_INTERNAL || e == PB_ERR_STORE_UNAVAILABLE ? 2 : 1;
    }
    free(b);
    pb_store_disconnect(c);
    pb_store_close(s);
    return rc;
}

/* Prints every brand, a page at a time. */
static int brand_list(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        if (ch == 'd') {
            db = optarg;
        } else {
            fputs(USAGE, ch == 'h' ? stdout : stderr);
            return ch == 'h' ? 0 : 2;
        }
    }
    pb_store *s;
    pb_store_conn *c = connect_db(db, &s);
    if (!c)
        return 2;
    enum { PAGE = 32 };
    pb_brand *page = calloc(PAGE, sizeof *page);
    pb_err e = page ? PB_OK : PB_ERR_INTERNAL;
    int64_t after = 0;
    size_t n = PAGE;
    while (e == PB_OK && n == PAGE) {
        e = pb_tenancy_brand_list(c, NULL, after, page, PAGE, &n);
        for (size_t i = 0; e == PB_OK && i < n; i++)
            print_brand(&page[i]);
        if (n)
            after = page[n - 1].id;
    }
    if (e != PB_OK)
        fprintf(stderr, "pitboss: %s\n", pb_err_code(e));
    free(page);
    pb_store_disconnect(c);
    pb_store_close(s);
    return e == PB_OK ? 0 : 2;
}

/* Dispatches `pitboss brand <subcommand>`. */
int pb_cmd_brand(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return brand_create(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return brand_list(argc - 1, argv + 1);
    fputs(USAGE, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
    return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
