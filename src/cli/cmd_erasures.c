/*
 * cmd_erasures.c — erasures a restore must not undo.
 *
 * A backup holds every player's personal data as it was when the copy was taken.
 * Restoring it after a player's erasure (GDPR Art. 17) would bring that data back,
 * so `pitboss restore` re-applies, to the restored copy and before it takes the
 * database's name, every erasure it is told of:
 *   - the erasures the database being replaced records (players with erased_at),
 *     read before it is taken out of use; when that database cannot be read (the
 *     reason for many restores) the restore says so and goes on with the rest;
 *   - the erasures listed in --erasures FILE: the JSON lines `pitboss erasures`
 *     prints ({"player": public id, "brand": code, "erased_at": RFC 3339}), for the
 *     day the database is lost with its disk. An operator keeps that list apart from
 *     the backups (and systems fed by the `player.erased` events have it too).
 * A listed player the copy holds and has not erased is erased again there, in a
 * transaction of its own, through the identity module's pb_identity_player_erase_again:
 * the same rows, launch revocation, audit entry and event as the staff route, by actor
 * "system" "restore" with the original erasure's time in the reason. A listed player
 * the copy does not hold (registered after the backup) or has erased already is left
 * alone. The copy is migrated to this binary's schema first (serve would at start).
 * Any failure leaves the restore undone: a copy that would give erased data back is
 * not put in place.
 *
 * `pitboss erasures [--db URL]` prints the list, one JSON line per erased player.
 */
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/time.h"
#include "events/events.h"
#include "identity/identity.h"

#define PAGE 256
#define FILE_LINE_MAX 4096

static const char usage[] =
    "usage: pitboss erasures [--db URL]\n"
    "Every player whose personal data was erased, one JSON line each: player (public id),\n"
    "brand, erased_at. Keep it apart from the backups: `pitboss restore --erasures FILE`\n"
    "re-applies these erasures to a restored copy taken before them.\n";

static int add(pb_cli_erasures *l, const char *id, int64_t erased_at)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        pb_cli_erasure *p = realloc(l->items, cap * sizeof *p);
        if (!p)
            return -1;
        l->items = p;
        l->cap = cap;
    }
    pb_cli_erasure *e = &l->items[l->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->player, sizeof e->player, "%s", id);
    e->erased_at = erased_at;
    return 0;
}

void pb_cli_erasures_free(pb_cli_erasures *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* Every erased player of c's database, page by page: fn(ctx, row) for each; 0, or -1
 * with the reason in err. */
static int each_erased(pb_store_conn *c, void (*fn)(void *, const pb_store_erased_player *),
                       void *ctx, char *err, size_t cap)
{
    pb_store_erased_player *page = malloc(PAGE * sizeof *page);
    if (!page) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    int64_t after = 0;
    int rc = 0;
    for (;;) {
        size_t n = 0;
        if (pb_store_players_erased(c, after, page, PAGE, &n) != PB_STORE_OK) {
            snprintf(err, cap, "reading the erased players: %s", pb_store_errmsg(c));
            rc = -1;
            break;
        }
        for (size_t i = 0; i < n; i++)
            fn(ctx, &page[i]);
        if (n < PAGE)
            break;
        after = page[n - 1].id;
    }
    free(page);
    return rc;
}

typedef struct collect_ctx {
    pb_cli_erasures *l;
    int failed;
} collect_ctx;

static void collect(void *ctx, const pb_store_erased_player *p)
{
    collect_ctx *x = ctx;
    if (add(x->l, p->public_id, p->erased_at) != 0)
        x->failed = 1;
}

int pb_cli_erasures_from_db(const char *url, pb_cli_erasures *l, int64_t *events_newest, char *err,
                            size_t cap)
{
    pb_store *s = pb_store_open(url, err, cap);
    if (!s)
        return -1;
    pb_store_conn *c = pb_store_connect(s, err, cap);
    int rc = -1;
    if (c) {
        collect_ctx x = {.l = l};
        rc = pb_store_begin(c, PB_STORE_READ) != PB_STORE_OK
                 ? (snprintf(err, cap, "%s", pb_store_errmsg(c)), -1)
                 : each_erased(c, collect, &x, err, cap);
        if (rc == 0 && pb_store_event_newest(c, events_newest) != PB_STORE_OK) {
            snprintf(err, cap, "reading the newest event: %s", pb_store_errmsg(c));
            rc = -1;
        }
        pb_store_rollback(c);
        if (rc == 0 && x.failed) {
            snprintf(err, cap, "out of memory");
            rc = -1;
        }
        pb_store_disconnect(c);
    }
    pb_store_close(s);
    return rc;
}

/* A player's public id as the API shows it: 1..36 of [0-9a-f-]. */
static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PB_PUBLIC_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isdigit((unsigned char)s[i]) || (s[i] >= 'a' && s[i] <= 'f') || s[i] == '-'))
            return false;
    return true;
}

int pb_cli_erasures_from_file(const char *path, pb_cli_erasures *l, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, cap, "%s: cannot be read", path);
        return -1;
    }
    char *line = malloc(FILE_LINE_MAX + 2);
    int rc = line ? 0 : -1;
    if (!line)
        snprintf(err, cap, "out of memory");
    for (long no = 1; rc == 0 && fgets(line, FILE_LINE_MAX + 2, f); no++) {
        size_t len = strlen(line);
        if (len > FILE_LINE_MAX && line[len - 1] != '\n') {
            snprintf(err, cap, "%s:%ld: a line over %d bytes", path, no, FILE_LINE_MAX);
            rc = -1;
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (!len)
            continue;
        json_error_t je;
        json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &je);
        const char *id = json_string_value(json_object_get(j, "player"));
        const char *at = json_string_value(json_object_get(j, "erased_at"));
        int64_t when = 0;
        if (!json_is_object(j) || !id || !id_ok(id) ||
            (json_object_get(j, "erased_at") &&
             (!at || pb_time_parse(at, strlen(at), &when) != 0))) {
            snprintf(err, cap,
                     "%s:%ld: not an erasure line (a JSON object with \"player\": a player's "
                     "public id, as `pitboss erasures` prints)",
                     path, no);
            rc = -1;
        } else if (add(l, id, when) != 0) {
            snprintf(err, cap, "out of memory");
            rc = -1;
        }
        json_decref(j);
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, cap, "%s: read error", path);
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

static int by_player(const void *a, const void *b)
{
    return strcmp(((const pb_cli_erasure *)a)->player, ((const pb_cli_erasure *)b)->player);
}

void pb_cli_erasures_unique(pb_cli_erasures *l)
{
    if (!l->n)
        return;
    qsort(l->items, l->n, sizeof *l->items, by_player);
    size_t w = 1;
    for (size_t i = 1; i < l->n; i++)
        if (strcmp(l->items[i].player, l->items[w - 1].player) != 0)
            l->items[w++] = l->items[i];
    l->n = w;
}

typedef struct newest_ctx {
    int64_t at;
} newest_ctx;

static int newest_at(void *ctx, const pb_store_event *e)
{
    ((newest_ctx *)ctx)->at = e->created_at;
    return 1;
}

/* The copy's `platform.restored`, at an id above every one the replaced database may
 * have issued (see the top); r->event_id, skipped_from/_to. */
static int mark_restored(pb_store_conn *c, pb_cli_restore_fixup *r, char *err, size_t cap)
{
    int64_t newest = 0, now = pb_time_now_us();
    newest_ctx nc = {0};
    if (pb_store_event_newest(c, &newest) != PB_STORE_OK ||
        (newest && pb_store_event_scan(c, newest - 1, newest, 1, newest_at, &nc) != PB_STORE_OK)) {
        snprintf(err, cap, "reading the copy's newest event: %s", pb_store_errmsg(c));
        return -1;
    }
    int64_t at = newest + 1;
    if (!strcmp(r->replaced, "read")) {
        if (r->replaced_newest >= at)
            at = r->replaced_newest + 1;
    } else if (nc.at && now > nc.at) { /* at most one event a microsecond since the copy's newest */
        at = newest + (now - nc.at);
    }
    r->event_id = at;
    r->skipped_from = at > newest + 1 ? newest + 1 : 0;
    r->skipped_to = at > newest + 1 ? at - 1 : 0;
    char last[PB_TIME_STR_MAX] = "";
    if (nc.at)
        pb_time_format(nc.at, last, sizeof last);
    pb_err e = pb_events_emit_at(c, at, "platform.restored", "", "", "", now,
                                 PB_EV_INT("copy_newest_event", newest),
                                 PB_EV_STR("copy_newest_event_at", last),
                                 PB_EV_INT("skipped_from", r->skipped_from),
                                 PB_EV_INT("skipped_to", r->skipped_to),
                                 PB_EV_STR("replaced", r->replaced));
    if (e != PB_OK)
        snprintf(err, cap, "the platform.restored event: %s (%s)", pb_err_code(e),
                 pb_store_errmsg(c));
    return e == PB_OK ? 0 : -1;
}

int pb_cli_restore_apply(const char *copy_path, pb_cli_restore_fixup *r, char *err, size_t cap)
{
    r->reapplied = 0;
    pb_store *s = pb_store_open(copy_path, err, cap);
    if (!s)
        return -1;
    if (pb_store_migrate(s, NULL, err, cap) != PB_STORE_OK) {
        pb_store_close(s);
        return -1;
    }
    pb_store_conn *c = pb_store_connect(s, err, cap);
    if (!c) {
        pb_store_close(s);
        return -1;
    }
    /* the jump first: the erasures' events below come after it */
    int rc = pb_store_begin(c, PB_STORE_WRITE) != PB_STORE_OK ? -1 : mark_restored(c, r, err, cap);
    if (rc == 0 && pb_store_commit(c) != PB_STORE_OK)
        rc = -1;
    if (rc != 0 && !err[0])
        snprintf(err, cap, "%s", pb_store_errmsg(c));
    pb_store_rollback(c);
    for (size_t i = 0; rc == 0 && i < r->erasures.n; i++) {
        const pb_cli_erasure *x = &r->erasures.items[i];
        char when[PB_TIME_STR_MAX] = "an unknown time", reason[160];
        if (x->erased_at)
            pb_time_format(x->erased_at, when, sizeof when);
        snprintf(reason, sizeof reason, "re-applied at restore: erased at %s", when);
        pb_identity_erase_actor by = {.kind = "system", .id = "restore", .reason = reason};
        bool done = false;
        int64_t now = pb_time_now_us();
        pb_err e = pb_store_begin(c, PB_STORE_WRITE) != PB_STORE_OK
                       ? PB_ERR_STORE_UNAVAILABLE
                       : pb_identity_player_erase_again(c, x->player, &by, now, &done);
        if (e == PB_OK && pb_store_commit(c) != PB_STORE_OK)
            e = PB_ERR_STORE_UNAVAILABLE;
        pb_store_rollback(c);
        if (e != PB_OK) {
            snprintf(err, cap, "erasing player %s again: %s (%s)", x->player, pb_err_code(e),
                     pb_store_errmsg(c));
            rc = -1;
        } else if (done) {
            r->reapplied++;
        }
    }
    pb_store_disconnect(c);
    pb_store_close(s);
    return rc;
}

static void print_erased(void *ctx, const pb_store_erased_player *p)
{
    (void)ctx;
    char at[PB_TIME_STR_MAX] = "";
    pb_time_format(p->erased_at, at, sizeof at);
    json_t *j = json_pack("{s:s,s:s,s:s}", "player", p->public_id, "brand", p->brand, "erased_at",
                          at);
    if (j) {
        json_dumpf(j, stdout, JSON_COMPACT);
        fputc('\n', stdout);
    }
    json_decref(j);
}

int pb_cmd_erasures(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    pb_store *s = pb_cli_open_store(pb_cli_db_url(db), false);
    if (!s)
        return 2;
    char err[512] = "";
    pb_store_conn *c = pb_store_connect(s, err, sizeof err);
    int rc = 2;
    if (!c) {
        fprintf(stderr, "pitboss: erasures: %s\n", err);
    } else {
        if (pb_store_begin(c, PB_STORE_READ) == PB_STORE_OK &&
            each_erased(c, print_erased, NULL, err, sizeof err) == 0)
            rc = 0;
        else
            fprintf(stderr, "pitboss: erasures: %s\n", err[0] ? err : pb_store_errmsg(c));
        pb_store_rollback(c);
        pb_store_disconnect(c);
    }
    pb_store_close(s);
    if (fflush(stdout) != 0)
        rc = 2;
    return rc;
}
