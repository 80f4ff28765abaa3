/*
 * cmd_catalog.c — `pitboss provider …` and `pitboss game …`: the game catalog
 * from the command line, for operators and for `make run` to seed the demo.
 *
 *   pitboss provider create --code C --name N --protocol native|hub88
 *                           [--secret-hex HEX | (native: one is generated and printed once)]
 *                           [--public-key-file PEM] [--window S] [--db URL]
 *                           [--keys-dir DIR]
 *   pitboss provider list [--db URL]
 *   pitboss game create --provider P --code C --name N --category CAT --rtp-bp BP
 *                       --volatility low|medium|high --limit CUR:MIN:MAX ... [--block XX] ...
 *                       [--db URL]        (limits in minor units; MAX 0 = no maximum)
 *   pitboss game enable|disable --brand B --provider P --game G [--db URL]
 *   pitboss game list [--provider P] [--brand B] [--db URL]
 *
 * A native provider's key is stored sealed under the keys directory's
 * provider.key (catalog/secret.c), as the server does: --keys-dir, else
 * $PITBOSS_KEYS_DIR, else var/keys — the server must be given the same
 * directory (created 0700 with the key when missing).
 *
 * Every change runs in one write transaction with its audit entry (actor
 * "system", id "cli"), as the staff API does. Exit status: 0 done, 1 refused
 * (the stable error code is printed), 2 usage or the database could not be used.
 */
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "core/sealbox.h"
#include "core/time.h"
#include "games/play.h"
#include "tenancy/tenancy.h"

#define USAGE                                                                                  \
    "usage: pitboss provider create --code C --name N --protocol native|hub88\n"               \
    "                               [--secret-hex HEX] [--public-key-file PEM] [--window S]\n" \
    "                               [--db URL] [--keys-dir DIR]\n"                             \
    "       pitboss provider list [--db URL]\n"                                                \
    "       pitboss game create --provider P --code C --name N --category CAT --rtp-bp BP\n"   \
    "                           --volatility low|medium|high [--limit CUR:MIN:MAX]...\n"       \
    "                           [--block XX|XX-YYY]... [--db URL]\n"                           \
    "       pitboss game enable|disable --brand B --provider P --game G [--db URL]\n"          \
    "       pitboss game list [--provider P] [--brand B] [--db URL]\n"                         \
    "limits are in minor units (EUR:10:10000 = 0.10 to 100.00); MAX 0 = no maximum;\n"         \
    "a native provider created without --secret-hex gets a generated secret, printed once\n"

/* Prints the usage; 0 for --help, 2 otherwise. */
static int usage(int ch)
{
    fputs(USAGE, ch == 'h' ? stdout : stderr);
    return ch == 'h' ? 0 : 2;
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

static void disconnect(pb_store_conn *c, pb_store *s)
{
    pb_store_disconnect(c);
    pb_store_close(s);
}

/* One change: fn then its audit entry, in a write transaction. */
typedef pb_err (*change_fn)(pb_store_conn *c, void *ctx, int64_t now, const char **field,
                            pb_audit_entry *audit);

/* Runs fn in a write transaction and appends the entry it describes. Prints a
 * refusal; returns the exit status. */
static int run_change(pb_store_conn *c, change_fn fn, void *ctx, const char *what)
{
    const char *field = NULL;
    pb_audit_entry en = {.actor_kind = "system", .actor_id = "cli"};
    int64_t now = pb_time_now_us();
    pb_err e = pb_store_begin(c, PB_STORE_WRITE) != PB_STORE_OK ? PB_ERR_STORE_UNAVAILABLE
                                                                : fn(c, ctx, now, &field, &en);
    if (e == PB_OK)
        e = pb_audit_append(c, &en, now);
    if (e == PB_OK && pb_store_commit(c) != PB_STORE_OK)
        e = PB_ERR_STORE_UNAVAILABLE;
    pb_store_rollback(c);
    if (e == PB_OK)
        return 0;
    fprintf(stderr, "pitboss: %s: %s%s%s (%s)\n", what, pb_err_code(e), field ? " in " : "",
            field ? field : "", pb_err_message(e));
    return e == PB_ERR_INTERNAL || e == PB_ERR_STORE_UNAVAILABLE ? 2 : 1;
}

/* ---- providers ------------------------------------------------------------ */

static void print_provider(const pb_provider *p)
{
    printf("provider %s id=%lld name=\"%s\" protocol=%s window=%ds status=%s\n", p->code,
           (long long)p->id, p->name, p->protocol, (int)p->timestamp_window_s, p->status);
}

static pb_err provider_create_change(pb_store_conn *c, void *ctx, int64_t now, const char **field,
                                     pb_audit_entry *en)
{
    pb_provider *p = ctx;
    pb_err e = pb_catalog_provider_create(c, p, now, field);
    en->action = "provider.create";
    en->target_kind = "provider";
    en->target_id = p->code;
    return e;
}

/* Loads (or creates) dir's provider.key and sets it for the catalog; 0, or -1
 * with the reason on stderr. */
static int seal_key(const char *dir)
{
    char err[512];
    uint8_t key[PB_SEALBOX_KEY_LEN];
    if (pb_keyfile_make_dir(dir, err, sizeof err) != 0 ||
        pb_keyfile_secret(dir, PB_CATALOG_SEAL_KEY_FILE, key, err, sizeof err) != 0) {
        fprintf(stderr, "pitboss: %s\n", err);
        return -1;
    }
    pb_catalog_seal_set_key(key);
    sodium_memzero(key, sizeof key);
    return 0;
}

/* Reads a PEM file (at most PB_PROVIDER_PEM_MAX bytes) into p. */
static bool read_pem(const char *path, pb_provider *p)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return false;
    }
    size_t n = fread(p->public_key_pem, 1, sizeof p->public_key_pem, f);
    fclose(f);
    if (n >= sizeof p->public_key_pem) {
        fprintf(stderr, "pitboss: %s: larger than %d bytes\n", path, PB_PROVIDER_PEM_MAX);
        return false;
    }
    p->public_key_pem[n] = 0;
    return true;
}

static int provider_create(int argc, char **argv)
{
    static const struct option opts[] = {{"code", required_argument, 0, 'c'},
                                         {"name", required_argument, 0, 'n'},
                                         {"protocol", required_argument, 0, 'p'},
                                         {"secret-hex", required_argument, 0, 's'},
                                         {"public-key-file", required_argument, 0, 'k'},
                                         {"window", required_argument, 0, 'w'},
                                         {"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {"keys-dir", required_argument, 0, 'K'},
                                         {0, 0, 0, 0}};
    pb_provider *p = calloc(1, sizeof *p);
    if (!p)
        return 2;
    const char *db = NULL, *code = NULL, *name = NULL, *proto = NULL, *hex = NULL, *pem = NULL;
    const char *keys = NULL;
    char *end;
    long window = 0;
    int ch, rc = 2;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:n:p:s:k:w:d:K:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': code = optarg; break;
        case 'n': name = optarg; break;
        case 'p': proto = optarg; break;
        case 's': hex = optarg; break;
        case 'k': pem = optarg; break;
        case 'w':
            window = strtol(optarg, &end, 10);
            if (*end || window < 1 || window > 3600) {
                fprintf(stderr, "pitboss: --window: 1 to 3600 seconds\n");
                goto out;
            }
            break;
        case 'd': db = optarg; break;
        case 'K': keys = optarg; break;
        default: rc = usage(ch); goto out;
        }
    }
    if (!code || !name || !proto || optind != argc) {
        rc = usage('?');
        goto out;
    }
    if (pb_play_provider_is_house(code)) { /* registered by the server, as the staff API says */
        fprintf(stderr,
                "pitboss: %s: " PB_PLAY_PROVIDER " is the in-house games' provider, "
                "registered by the server\n",
                pb_err_code(PB_ERR_PROVIDER_IN_HOUSE));
        goto out;
    }
    snprintf(p->code, sizeof p->code, "%s", code);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->protocol, sizeof p->protocol, "%s", proto);
    p->timestamp_window_s = (int32_t)window;
    bool generated = false;
    if (hex) {
        size_t n = 0;
        if (sodium_hex2bin(p->secret, sizeof p->secret, hex, strlen(hex), NULL, &n, NULL) != 0 ||
            n * 2 != strlen(hex)) {
            fprintf(stderr, "pitboss: --secret-hex: 64 to 128 hexadecimal digits\n");
            goto out;
        }
        p->secret_len = n;
    } else if (strcmp(proto, "native") == 0) {
        pb_catalog_secret_generate(p);
        generated = true;
    }
    if (pem && !read_pem(pem, p))
        goto out;
    pb_store *s;
    pb_store_conn *c = connect_db(db, &s);
    if (!c)
        goto out;
    char kerr[768] = "";
    /* the secret is sealed under the keys directory's provider.key: this database's */
    if (p->secret_len &&
        (pb_cli_keys_check(s, pb_cli_keys_dir(keys), true, kerr, sizeof kerr) != 0 ||
         seal_key(pb_cli_keys_dir(keys)) != 0 ||
         pb_cli_keys_check(s, pb_cli_keys_dir(keys), true, kerr, sizeof kerr) != 0)) {
        if (kerr[0])
            fprintf(stderr, "pitboss: %s\n", kerr);
        disconnect(c, s);
        goto out;
    }
    rc = run_change(c, provider_create_change, p, "provider not created");
    disconnect(c, s);
    if (rc == 0) {
        print_provider(p);
        if (generated) {
            char out[2 * PB_PROVIDER_SECRET_MAX + 1];
            sodium_bin2hex(out, sizeof out, p->secret, p->secret_len);
            printf("secret (hex, shown once): %s\n", out);
            sodium_memzero(out, sizeof out);
        }
    }
out:
    sodium_memzero(p, sizeof *p);
    free(p);
    return rc;
}

static int provider_list(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        if (ch != 'd')
            return usage(ch);
        db = optarg;
    }
    pb_store *s;
    pb_store_conn *c = connect_db(db, &s);
    if (!c)
        return 2;
    enum { PAGE = 16 };
    pb_provider *page = calloc(PAGE, sizeof *page);
    pb_err e = page ? PB_OK : PB_ERR_INTERNAL;
    int64_t after = 0;
    size_t n = PAGE;
    while (e == PB_OK && n == PAGE) {
        e = pb_catalog_provider_list(c, after, page, PAGE, &n);
        for (size_t i = 0; e == PB_OK && i < n; i++)
            print_provider(&page[i]);
        if (e == PB_OK && n)
            after = page[n - 1].id;
    }
    if (e != PB_OK)
        fprintf(stderr, "pitboss: %s\n", pb_err_code(e));
    if (page)
        sodium_memzero(page, PAGE * sizeof *page);
    free(page);
    disconnect(c, s);
    return e == PB_OK ? 0 : 2;
}

/* ---- games ------------------------------------------------------------------ */

static void print_game(const pb_game *g)
{
    printf("game %s/%s id=%lld name=\"%s\" category=%s rtp_bp=%d volatility=%s status=%s "
           "limits=",
           g->provider_code, g->code, (long long)g->id, g->name, g->category, (int)g->rtp_bp,
           g->volatility, g->status);
    for (size_t i = 0; i < g->nlimits; i++)
        printf("%s%s:%" PRId64 ":%" PRId64, i ? "," : "", g->limits[i].currency,
               g->limits[i].min_bet, g->limits[i].max_bet);
    printf(" blocked=");
    for (size_t i = 0; i < g->nblocked; i++)
        printf("%s%s", i ? "," : "", g->blocked[i]);
    printf("\n");
}

/* "EUR:10:10000" → a limit; false when malformed. */
static bool parse_limit(const char *s, pb_game_limit *l)
{
    char cur[8];
    long long min, max;
    int used = 0;
    if (sscanf(s, "%7[A-Z]:%lld:%lld%n", cur, &min, &max, &used) != 3 || s[used] != 0)
        return false;
    snprintf(l->currency, sizeof l->currency, "%s", cur);
    l->min_bet = min;
    l->max_bet = max;
    return true;
}

typedef struct create_args {
    pb_game *g;
    char target[PB_PROVIDER_CODE_MAX + PB_GAME_CODE_MAX + 2];
} create_args;

static pb_err game_create_change(pb_store_conn *c, void *ctx, int64_t now, const char **field,
                                 pb_audit_entry *en)
{
    create_args *a = ctx;
    snprintf(a->target, sizeof a->target, "%s/%s", a->g->provider_code, a->g->code);
    en->action = "game.create";
    en->target_kind = "game";
    en->target_id = a->target;
    return pb_catalog_game_create(c, a->g, now, field);
}

static int game_create(int argc, char **argv)
{
    static const struct option opts[] = {{"provider", required_argument, 0, 'p'},
                                         {"code", required_argument, 0, 'c'},
                                         {"name", required_argument, 0, 'n'},
                                         {"category", required_argument, 0, 't'},
                                         {"rtp-bp", required_argument, 0, 'r'},
                                         {"volatility", required_argument, 0, 'v'},
                                         {"limit", required_argument, 0, 'l'},
                                         {"block", required_argument, 0, 'b'},
                                         {"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    pb_game *g = calloc(1, sizeof *g);
    if (!g)
        return 2;
    const char *db = NULL;
    char *end;
    bool have[6] = {0};
    int ch, rc = 2;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "p:c:n:t:r:v:l:b:d:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            snprintf(g->provider_code, sizeof g->provider_code, "%s", optarg);
            have[0] = 1;
            break;
        case 'c':
            snprintf(g->code, sizeof g->code, "%s", optarg);
            have[1] = 1;
            break;
        case 'n':
            snprintf(g->name, sizeof g->name, "%s", optarg);
            have[2] = 1;
            break;
        case 't':
            snprintf(g->category, sizeof g->category, "%s", optarg);
            have[3] = 1;
            break;
        case 'r':
            g->rtp_bp = (int32_t)strtol(optarg, &end, 10);
            if (*end || !*optarg) {
                fprintf(stderr, "pitboss: --rtp-bp: basis points, e.g. 9650\n");
                goto out;
            }
            have[4] = 1;
            break;
        case 'v':
            snprintf(g->volatility, sizeof g->volatility, "%s", optarg);
            have[5] = 1;
            break;
        case 'l':
            if (g->nlimits == PB_GAME_LIMITS_MAX || !parse_limit(optarg, &g->limits[g->nlimits])) {
                fprintf(stderr, "pitboss: --limit: CUR:MIN:MAX in minor units (at most %d)\n",
                        PB_GAME_LIMITS_MAX);
                goto out;
            }
            g->nlimits++;
            break;
        case 'b':
            if (g->nblocked == PB_GAME_BLOCKED_MAX || strlen(optarg) >= sizeof g->blocked[0]) {
                fprintf(stderr, "pitboss: --block: XX or XX-YYY (at most %d)\n",
                        PB_GAME_BLOCKED_MAX);
                goto out;
            }
            snprintf(g->blocked[g->nblocked++], sizeof g->blocked[0], "%s", optarg);
            break;
        case 'd': db = optarg; break;
        default: rc = usage(ch); goto out;
        }
    }
    for (size_t i = 0; i < 6; i++)
        if (!have[i]) {
            rc = usage('?');
            goto out;
        }
    if (optind != argc) {
        rc = usage('?');
        goto out;
    }
    if (pb_play_provider_is_house(g->provider_code)) { /* as the staff API refuses it */
        fprintf(stderr,
                "pitboss: %s: " PB_PLAY_PROVIDER " is the in-house games' provider: its "
                "games are registered by the server\n",
                pb_err_code(PB_ERR_PROVIDER_IN_HOUSE));
        goto out;
    }
    pb_store *s;
    pb_store_conn *c = connect_db(db, &s);
    if (!c)
        goto out;
    create_args ca = {.g = g};
    rc = run_change(c, game_create_change, &ca, "game not created");
    disconnect(c, s);
    if (rc == 0)
        print_game(g);
out:
    free(g);
    return rc;
}

typedef struct switch_args {
    const char *brand, *provider, *game;
    bool enabled;
    char target[PB_PROVIDER_CODE_MAX + PB_GAME_CODE_MAX + 2];
    char brand_code[PB_BRAND_CODE_MAX + 1];
} switch_args;

static pb_err switch_change(pb_store_conn *c, void *ctx, int64_t now, const char **field,
                            pb_audit_entry *en)
{
    switch_args *a = ctx;
    pb_brand *b = malloc(sizeof *b);
    pb_game *g = malloc(sizeof *g);
    pb_err e = b && g ? pb_tenancy_brand_by_code(c, a->brand, b) : PB_ERR_INTERNAL;
    if (e == PB_ERR_BRAND_NOT_FOUND)
        *field = "brand";
    if (e == PB_OK)
        e = pb_catalog_game_get(c, a->provider, a->game, g);
    bool was = false;
    if (e == PB_OK)
        e = pb_catalog_game_brand_enabled(c, g->id, b->id, &was);
    if (e == PB_OK)
        e = pb_catalog_game_set_brand(c, g->id, b->id, a->enabled, now);
    if (e == PB_OK) {
        snprintf(a->brand_code, sizeof a->brand_code, "%s", b->code);
        snprintf(a->target, sizeof a->target, "%s/%s", g->provider_code, g->code);
        en->action = a->enabled ? "game.brand_enable" : "game.brand_disable";
        en->brand = a->brand_code;
        en->target_kind = "game";
        en->target_id = a->target;
        en->before = was ? "{\"enabled\":true}" : "{\"enabled\":false}";
        en->after = a->enabled ? "{\"enabled\":true}" : "{\"enabled\":false}";
    }
    free(b);
    free(g);
    return e;
}

static int game_switch(int argc, char **argv, bool enabled)
{
    static const struct option opts[] = {
        {"brand", required_argument, 0, 'b'}, {"provider", required_argument, 0, 'p'},
        {"game", required_argument, 0, 'g'},  {"db", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    switch_args a = {.enabled = enabled};
    const char *db = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "b:p:g:d:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': a.brand = optarg; break;
        case 'p': a.provider = optarg; break;
        case 'g': a.game = optarg; break;
        case 'd': db = optarg; break;
        default: return usage(ch);
        }
    }
    if (!a.brand || !a.provider || !a.game || optind != argc)
        return usage('?');
    pb_store *s;
    pb_store_conn *c = connect_db(db, &s);
    if (!c)
        return 2;
    int rc = run_change(c, switch_change, &a, enabled ? "game not enabled" : "game not disabled");
    disconnect(c, s);
    if (rc == 0)
        printf("game %s/%s %s for brand %s\n", a.provider, a.game, enabled ? "enabled" : "disabled",
               a.brand);
    return rc;
}

static int game_list(int argc, char **argv)
{
    static const struct option opts[] = {{"provider", required_argument, 0, 'p'},
                                         {"brand", required_argument, 0, 'b'},
                                         {"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    pb_catalog_game_filter f = {0};
    const char *db = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "p:b:d:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p': f.provider_code = optarg; break;
        case 'b': f.brand_code = optarg; break;
        case 'd': db = optarg; break;
        default: return usage(ch);
        }
    }
    pb_store *s;
    pb_store_conn *c = connect_db(db, &s);
    if (!c)
        return 2;
    enum { PAGE = 32 };
    pb_game *page = calloc(PAGE, sizeof *page);
    pb_err e = page ? PB_OK : PB_ERR_INTERNAL;
    int64_t after = 0;
    size_t n = PAGE;
    const char *field = NULL;
    while (e == PB_OK && n == PAGE) {
        e = pb_catalog_game_list(c, &f, after, page, PAGE, &n, &field);
        for (size_t i = 0; e == PB_OK && i < n; i++)
            print_game(&page[i]);
        if (e == PB_OK && n)
            after = page[n - 1].id;
    }
    if (e != PB_OK)
        fprintf(stderr, "pitboss: %s%s%s\n", pb_err_code(e), field ? " in " : "",
                field ? field : "");
    free(page);
    disconnect(c, s);
    return e == PB_OK ? 0 : e == PB_ERR_INTERNAL || e == PB_ERR_STORE_UNAVAILABLE ? 2 : 1;
}

/* ---- dispatch ----------------------------------------------------------------- */

int pb_cmd_provider(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return provider_create(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return provider_list(argc - 1, argv + 1);
    return usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? 'h' : '?');
}

int pb_cmd_game(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return game_create(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "enable") == 0)
        return game_switch(argc - 1, argv + 1, true);
    if (argc >= 2 && strcmp(argv[1], "disable") == 0)
        return game_switch(argc - 1, argv + 1, false);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return game_list(argc - 1, argv + 1);
    return usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? 'h' : '?');
}
