/*
 * cmd_admin.c — `pitboss admin create`: creates a staff member from the command
 * line; it bootstraps the first admin before any back office exists.
 *
 *   pitboss admin create --email E [--role admin] [--brand CODE]... [--db URL]
 *
 * The database is migrated first. Without --brand, the member sees every brand
 * (admin and auditor only); with one or more --brand, only those. A random
 * one-time password is printed once: it is stored only as an argon2id hash, must
 * be changed at the first login, and TOTP enrolment is required before a full
 * session. The creation is audited ("staff.create" by system/cli, with the
 * member's email, role and scope) in the transaction that creates it, as the back
 * office's is. Exit status: 0 created, 1 refused (stable error code printed), 2
 * usage or database failure.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <stdlib.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "core/time.h"
#include "identity/identity.h"

#define USAGE                                                                                \
    "usage: pitboss admin create --email EMAIL [--role ROLE] [--brand CODE]... [--db URL]\n" \
    "roles: admin support finance risk compliance game_ops auditor (default admin);\n"       \
    "without --brand the member sees every brand (admin and auditor only)\n"

/* staff.create by system/cli, in the transaction that creates the member. */
static pb_err create_audited(pb_store_conn *c, const pb_staff *s, void *ctx)
{
    const char *const *codes = ctx; /* NULL-terminated */
    json_t *brands = json_array();
    for (size_t i = 0; !s->scope.all && brands && codes[i]; i++)
        json_array_append_new(brands, json_string(codes[i]));
    json_t *after = brands ? json_pack("{s:s,s:s,s:b,s:o}", "email", s->email, "role",
                                       pb_role_name(s->role), "all_brands", s->scope.all, "brands",
                                       brands)
                           : NULL;
    char *text = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(after);
    pb_audit_entry en = {.actor_kind = "system",
                         .actor_id = "cli",
                         .action = "staff.create",
                         .target_kind = "staff",
                         .target_id = s->public_id,
                         .after = text};
    pb_err e = text ? pb_audit_append(c, &en, pb_time_now_us()) : PB_ERR_INTERNAL;
    free(text);
    return e;
}

/* Parses the options, opens and migrates the database, creates the member, prints the password
 * once. */
static int admin_create(int argc, char **argv)
{
    static const struct option opts[] = {
        {"email", required_argument, 0, 'e'}, {"role", required_argument, 0, 'r'},
        {"brand", required_argument, 0, 'b'}, {"db", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *db = NULL, *email = NULL, *role_name = "admin";
    const char *brands[PB_SCOPE_MAX_BRANDS + 1] = {0}; /* NULL-terminated for the audit */
    size_t nbrands = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "e:r:b:d:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'e': email = optarg; break;
        case 'r': role_name = optarg; break;
        case 'b':
            if (nbrands == PB_SCOPE_MAX_BRANDS) {
                fputs(USAGE, stderr);
                return 2;
            }
            brands[nbrands++] = optarg;
            break;
        case 'd': db = optarg; break;
        default: fputs(USAGE, ch == 'h' ? stdout : stderr); return ch == 'h' ? 0 : 2;
        }
    }
    pb_role role;
    if (!email || optind != argc) {
        fputs(USAGE, stderr);
        return 2;
    }
    if (pb_role_parse(role_name, &role) != PB_OK) {
        fprintf(stderr, "pitboss: unknown role '%s'\n%s", role_name, USAGE);
        return 2;
    }
    if (nbrands == 0 && !pb_role_may_be_global(role)) {
        fprintf(stderr,
                "pitboss: a %s needs at least one --brand (only admin and auditor "
                "may see every brand)\n",
                role_name);
        return 2;
    }
    pb_store *s = pb_cli_open_store(pb_cli_db_url(db), true);
    if (!s)
        return 2;
    char err[512];
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    if (!c) {
        fprintf(stderr, "pitboss: %s\n", err);
        pb_store_close(s);
        return 2;
    }
    pb_staff_create req = {.email = email,
                           .role = role,
                           .all_brands = nbrands == 0,
                           .brand_codes = brands,
                           .nbrands = nbrands,
                           .in_tx = create_audited,
                           .in_tx_ctx = brands};
    pb_staff staff;
    char otp[PB_ONE_TIME_PASSWORD_MAX];
    const char *field = NULL;
    pb_err e = pb_identity_staff_create(c, &req, pb_time_now_us(), &staff, otp, &field);
    int rc = 0;
    if (e == PB_OK) {
        printf("created %s %s (id %s), %s\n", pb_role_name(staff.role), staff.email,
               staff.public_id, staff.scope.all ? "every brand" : "scoped brands");
        printf("one-time password: %s\n", otp);
        printf("It is shown only this once. At the first login it must be changed, and TOTP\n"
               "enrolment (an authenticator app) is required before a full session.\n");
    } else {
        fprintf(stderr, "pitboss: staff member not created: %s%s%s (%s)\n", pb_err_code(e),
                field ? " in " : "", field ? field : "", pb_err_message(e));
        rc = e == PB_ERR_INTERNAL || e == PB_ERR_STORE_UNAVAILABLE ? 2 : 1;
    }
    sodium_memzero(otp, sizeof otp);
    pb_store_disconnect(c);
    pb_store_close(s);
    return rc;
}

/* Dispatches `pitboss admin <subcommand>`. */
int pb_cmd_admin(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return admin_create(argc - 1, argv + 1);
    bool help = argc >= 2 && strcmp(argv[1], "--help") == 0;
    fputs(USAGE, help ? stdout : stderr);
    return help ? 0 : 2;
}
