/*
 * cmd_fair.c — `pitboss fair verify|seed|commitment`: an outside verifier's
 * view of the provably fair engine. verify recomputes a round from the
 * revealed server seed, the client seed and the nonce (crash: the game hash
 * and the salt) with the same library the server settles with, and prints
 * the outcome as one line of JSON ({"game":"dice","result":28.07}).
 *
 * Also here: the game-parameter options `sim rtp` and `bench fair` share
 * (pb_cli_game_param) and the --edge / --rtp-bp reading (pb_cli_game_rtp).
 * Bad arguments exit 2 with a message; a commitment that does not match
 * exits 1.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "games/games.h"

static const char *fair_usage =
    "usage: pitboss fair verify --game G --server-seed S --client-seed C --nonce N\n"
    "                           [--mines K] [--rows R --risk low|medium|high] [--edge E]\n"
    "                           [--target X --direction over|under] [--picks 1,2,..]\n"
    "                           [--tiles 0,5,..] [--bets JSON] [--params JSON]\n"
    "                           [--rtp-bp BP] [--currency CUR] [--commitment H]\n"
    "       pitboss fair verify --game crash --hash H --salt S [--edge E] [--cashout X]\n"
    "                           [--commitment EARLIER_HASH] [--max-steps N]\n"
    "       pitboss fair seed                  a new server seed and its commitment\n"
    "       pitboss fair commitment --server-seed S\n"
    "Games: dice limbo crash mines keno plinko roulette slot. --edge is the house edge\n"
    "in percent (1 = RTP 99.00%); the default is the game's default RTP. Prints the\n"
    "outcome as JSON: dice/limbo/roulette \"result\", mines and keno \"result\" = the\n"
    "positions in draw order, plinko \"bucket\" and \"multiplier\", crash \"point\".\n"
    "With --commitment, the server seed must hash to it (crash: the game hash must\n"
    "link to that earlier hash of its chain) or the command exits 1.\n";

/* Strict decimal uint64. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || (s[0] == '0' && s[1]))
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return 0;
}

/* "a,b,c" → JSON array of integers. */
static json_t *int_list(const char *s)
{
    json_t *a = json_array();
    const char *p = s;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char buf[24];
        uint64_t v;
        if (len == 0 || len >= sizeof buf)
            goto bad;
        memcpy(buf, p, len);
        buf[len] = '\0';
        if (parse_u64(buf, &v) != 0 || v > 1000)
            goto bad;
        json_array_append_new(a, json_integer((json_int_t)v));
        if (!end)
            return a;
        p = end + 1;
    }
bad:
    json_decref(a);
    return NULL;
}

int pb_cli_game_param(json_t *params, const char *opt, const char *value)
{
    json_t *v = NULL;
    if (strcmp(opt, "target") == 0 || strcmp(opt, "cashout") == 0 || strcmp(opt, "risk") == 0 ||
        strcmp(opt, "direction") == 0) {
        v = json_string(value);
    } else if (strcmp(opt, "mines") == 0 || strcmp(opt, "rows") == 0) {
        uint64_t n;
        if (parse_u64(value, &n) != 0 || n > 1000) {
            fprintf(stderr, "pitboss: --%s: not a small integer: %s\n", opt, value);
            return -1;
        }
        v = json_integer((json_int_t)n);
    } else if (strcmp(opt, "tiles") == 0 || strcmp(opt, "picks") == 0) {
        if (!(v = int_list(value))) {
            fprintf(stderr, "pitboss: --%s: a comma-separated list of integers: %s\n", opt, value);
            return -1;
        }
    } else if (strcmp(opt, "bets") == 0 || strcmp(opt, "params") == 0) {
        json_error_t je;
        v = json_loads(value, JSON_REJECT_DUPLICATES, &je);
        if (!v || (strcmp(opt, "bets") == 0 ? !json_is_array(v) : !json_is_object(v))) {
            fprintf(stderr, "pitboss: --%s: not a JSON %s: %s\n", opt,
                    strcmp(opt, "bets") == 0 ? "array" : "object", value);
            json_decref(v);
            return -1;
        }
        if (strcmp(opt, "params") == 0) {
            json_object_update(params, v);
            json_decref(v);
            return 0;
        }
    } else {
        fprintf(stderr, "pitboss: unknown game option --%s\n", opt);
        return -1;
    }
    json_object_set_new(params, opt, v);
    return 0;
}

int pb_cli_game_rtp(int kind, const char *edge, const char *rtp_bp, uint32_t *out)
{
    const pb_game_info *info = pb_game_info_of((pb_game_kind)kind);
    if (!info)
        return -1;
    uint64_t rtp = info->default_rtp_bp;
    if (edge && rtp_bp) {
        fputs("pitboss: give --edge or --rtp-bp, not both\n", stderr);
        return -1;
    }
    if (rtp_bp && (parse_u64(rtp_bp, &rtp) != 0 || rtp > PB_RTP_ONE)) {
        fprintf(stderr, "pitboss: --rtp-bp: basis points 0..10000: %s\n", rtp_bp);
        return -1;
    }
    if (edge) { /* percent with at most 2 decimals */
        uint64_t ip = 0, fp = 0;
        const char *dot = strchr(edge, '.');
        char whole[16] = "";
        size_t wl = dot ? (size_t)(dot - edge) : strlen(edge);
        size_t fl = dot ? strlen(dot + 1) : 0;
        bool ok = wl > 0 && wl < sizeof whole && (!dot || (fl >= 1 && fl <= 2));
        if (ok) {
            memcpy(whole, edge, wl);
            whole[wl] = '\0';
            ok = parse_u64(whole, &ip) == 0 && ip <= 100;
        }
        for (size_t i = 0; ok && i < fl; i++)
            ok = dot[1 + i] >= '0' && dot[1 + i] <= '9';
        if (ok && fl)
            fp = (uint64_t)strtoul(dot + 1, NULL, 10) * (fl == 1 ? 10 : 1);
        if (!ok || ip * 100 + fp > PB_RTP_ONE) {
            fprintf(stderr, "pitboss: --edge: a percentage like 1 or 2.5: %s\n", edge);
            return -1;
        }
        rtp = PB_RTP_ONE - (ip * 100 + fp);
    }
    if (!pb_game_rtp_allowed((pb_game_kind)kind, (uint32_t)rtp)) {
        fprintf(
            stderr,
            "pitboss: %s allows an RTP of %u to %u basis points (edge %.2f%% to %.2f%%), not %u\n",
            info->name, info->min_rtp_bp, info->max_rtp_bp, (PB_RTP_ONE - info->max_rtp_bp) / 100.0,
            (PB_RTP_ONE - info->min_rtp_bp) / 100.0, (unsigned)rtp);
        return -1;
    }
    *out = (uint32_t)rtp;
    return 0;
}

static int print_json(json_t *j)
{
    char *s = pb_game_json_dumps(j);
    json_decref(j);
    if (!s)
        return 1;
    puts(s);
    free(s);
    return 0;
}

static int cmd_seed(void)
{
    char seed[PB_FAIR_SEED_HEX_LEN + 1], commit[PB_FAIR_HASH_HEX_LEN + 1];
    pb_fair_server_seed_new(seed);
    pb_fair_sha256_hex(seed, PB_FAIR_SEED_HEX_LEN, commit);
    return print_json(json_pack("{s:s, s:s}", "server_seed", seed, "commitment", commit));
}

static int cmd_commitment(int argc, char **argv)
{
    static const struct option opts[] = {{"server-seed", required_argument, 0, 's'}, {0, 0, 0, 0}};
    const char *seed = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch != 's') {
            fputs(fair_usage, stderr);
            return 2;
        }
        seed = optarg;
    }
    if (!pb_fair_hex64_valid(seed) || optind != argc) {
        fputs("pitboss: fair commitment needs --server-seed: 64 lowercase hex characters\n",
              stderr);
        return 2;
    }
    char commit[PB_FAIR_HASH_HEX_LEN + 1];
    pb_fair_sha256_hex(seed, strlen(seed), commit);
    return print_json(json_pack("{s:s, s:s}", "server_seed", seed, "commitment", commit));
}

enum {
    OPT_GAME = 256,
    OPT_SERVER,
    OPT_CLIENT,
    OPT_NONCE,
    OPT_HASH,
    OPT_SALT,
    OPT_EDGE,
    OPT_RTP,
    OPT_CURRENCY,
    OPT_COMMIT,
    OPT_STEPS,
    OPT_GAMEPARAM
};

static int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"game", required_argument, 0, OPT_GAME},
                                         {"server-seed", required_argument, 0, OPT_SERVER},
                                         {"client-seed", required_argument, 0, OPT_CLIENT},
                                         {"nonce", required_argument, 0, OPT_NONCE},
                                         {"hash", required_argument, 0, OPT_HASH},
                                         {"salt", required_argument, 0, OPT_SALT},
                                         {"edge", required_argument, 0, OPT_EDGE},
                                         {"rtp-bp", required_argument, 0, OPT_RTP},
                                         {"currency", required_argument, 0, OPT_CURRENCY},
                                         {"commitment", required_argument, 0, OPT_COMMIT},
                                         {"max-steps", required_argument, 0, OPT_STEPS},
                                         {"target", required_argument, 0, OPT_GAMEPARAM},
                                         {"direction", required_argument, 0, OPT_GAMEPARAM},
                                         {"cashout", required_argument, 0, OPT_GAMEPARAM},
                                         {"mines", required_argument, 0, OPT_GAMEPARAM},
                                         {"tiles", required_argument, 0, OPT_GAMEPARAM},
                                         {"picks", required_argument, 0, OPT_GAMEPARAM},
                                         {"risk", required_argument, 0, OPT_GAMEPARAM},
                                         {"rows", required_argument, 0, OPT_GAMEPARAM},
                                         {"bets", required_argument, 0, OPT_GAMEPARAM},
                                         {"params", required_argument, 0, OPT_GAMEPARAM},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *game = NULL, *server = NULL, *client = NULL, *nonce_s = NULL, *hash = NULL,
               *salt = NULL, *edge = NULL, *rtp_s = NULL, *currency = "EUR", *commitment = NULL,
               *steps_s = NULL;
    json_t *params = json_object();
    int ch, idx = 0, rc = 2;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, &idx)) != -1) {
        switch (ch) {
        case OPT_GAME: game = optarg; break;
        case OPT_SERVER: server = optarg; break;
        case OPT_CLIENT: client = optarg; break;
        case OPT_NONCE: nonce_s = optarg; break;
        case OPT_HASH: hash = optarg; break;
        case OPT_SALT: salt = optarg; break;
        case OPT_EDGE: edge = optarg; break;
        case OPT_RTP: rtp_s = optarg; break;
        case OPT_CURRENCY: currency = optarg; break;
        case OPT_COMMIT: commitment = optarg; break;
        case OPT_STEPS: steps_s = optarg; break;
        case OPT_GAMEPARAM:
            if (pb_cli_game_param(params, opts[idx].name, optarg) != 0)
                goto out;
            break;
        case 'h':
            fputs(fair_usage, stdout);
            rc = 0;
            goto out;
        default: fputs(fair_usage, stderr); goto out;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "pitboss: fair verify: unexpected argument '%s'\n", argv[optind]);
        goto out;
    }
    pb_game_kind kind = pb_game_parse(game);
    if (!kind) {
        fprintf(stderr, "pitboss: fair verify: --game is one of dice limbo crash mines keno "
                        "plinko roulette slot\n");
        goto out;
    }
    uint32_t rtp;
    if (pb_cli_game_rtp(kind, edge, rtp_s, &rtp) != 0)
        goto out;
    const pb_currency *cur = pb_currency_find(currency);
    if (!cur) {
        fprintf(stderr, "pitboss: fair verify: unknown currency %s\n", currency);
        goto out;
    }
    pb_game_params p;
    pb_game_error perr;
    if (pb_game_params_from_json(kind, params, cur, &p, &perr) != PB_OK) {
        fprintf(stderr, "pitboss: fair verify: %s: %s\n", perr.field, perr.message);
        goto out;
    }
    pb_game_input in = {0};
    pb_fair_key key;
    if (kind == PB_GAME_CRASH) {
        if (!pb_fair_hex64_valid(hash) || !salt) {
            fputs("pitboss: fair verify: crash needs --hash (64 lowercase hex) and --salt\n",
                  stderr);
            goto out;
        }
        if (server || client || nonce_s) {
            fputs("pitboss: fair verify: crash takes --hash and --salt, not a seed pair\n", stderr);
            goto out;
        }
        uint64_t steps = 10000000;
        if (steps_s && (parse_u64(steps_s, &steps) != 0 || steps == 0)) {
            fprintf(stderr, "pitboss: fair verify: --max-steps: a positive integer\n");
            goto out;
        }
        if (commitment) {
            if (!pb_fair_hex64_valid(commitment)) {
                fputs("pitboss: fair verify: --commitment: 64 lowercase hex characters\n", stderr);
                goto out;
            }
            if (!pb_crash_chain_links(hash, commitment, steps, NULL)) {
                fprintf(stderr,
                        "pitboss: fair verify: the hash does not lead to %s within %llu steps\n",
                        commitment, (unsigned long long)steps);
                rc = 1;
                goto out;
            }
        }
        in.crash_hash = hash;
        in.crash_salt = salt;
    } else {
        uint64_t nonce;
        if (!pb_fair_hex64_valid(server)) {
            fputs("pitboss: fair verify: --server-seed: 64 lowercase hex characters\n", stderr);
            goto out;
        }
        if (!pb_fair_client_seed_valid(client)) {
            fputs("pitboss: fair verify: --client-seed: 1 to 64 printable ASCII characters, "
                  "no spaces, no ':'\n",
                  stderr);
            goto out;
        }
        if (parse_u64(nonce_s, &nonce) != 0) {
            fputs("pitboss: fair verify: --nonce: a decimal integer 0..2^64-1\n", stderr);
            goto out;
        }
        if (hash || salt) {
            fputs("pitboss: fair verify: --hash and --salt are for crash only\n", stderr);
            goto out;
        }
        if (commitment && !pb_fair_commitment_matches(server, commitment)) {
            fputs("pitboss: fair verify: SHA-256 of the server seed is not the commitment\n",
                  stderr);
            rc = 1;
            goto out;
        }
        pb_fair_key_init(&key, server, strlen(server));
        in.key = &key;
        in.client_seed = client;
        in.nonce = nonce;
    }
    pb_game_outcome o;
    if (pb_game_play(&p, &in, rtp, &o) != PB_OK) {
        fputs("pitboss: fair verify: these parameters cannot be played\n", stderr);
        goto out;
    }
    rc = print_json(pb_game_outcome_json(&p, &o));
out:
    json_decref(params);
    return rc;
}

int pb_cmd_fair(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "seed") == 0 && argc == 2)
        return cmd_seed();
    if (argc >= 2 && strcmp(argv[1], "commitment") == 0)
        return cmd_commitment(argc - 1, argv + 1);
    bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    fputs(fair_usage, help ? stdout : stderr);
    return help ? 0 : 2;
}
