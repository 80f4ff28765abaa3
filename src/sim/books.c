/*
 * books.c — the simulator's players before and after play: setting them up
 * through the player API (register, log in, deposit, launch, native session),
 * the end-of-run balance check against the books, and the books file.
 *
 * Players' API calls come from their own loopback source address (127.1.x.y)
 * when the server is on loopback: the server limits registrations and logins
 * per client IP, and real players do not share one address. Provider calls
 * come from the default address, as a studio's servers would.
 *
 * The books file (--books FILE) is JSON:
 *   {"url","provider","game","run","players":[{"index","brand","email","password",
 *     "player_id","currency","launch_token","balance"}]}
 * and `--check FILE` checks those balances again later (after a restart, say).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

/* ---- shared helpers ---- */

void sim_fail(sim_run *r, const char *fmt, ...)
{
    pthread_mutex_lock(&r->mu);
    int n = r->logged++;
    pthread_mutex_unlock(&r->mu);
    if (n >= 50 && !r->o->verbose) {
        if (n == 50)
            fprintf(stderr, "sim: (further failures are only counted)\n");
        return;
    }
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sim: FAIL %s\n", line);
}

uint64_t sim_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

uint64_t sim_below(uint64_t *s, uint64_t n) { return n ? sim_rand(s) % n : 0; }

bool sim_chance(uint64_t *s, double p)
{
    if (p <= 0)
        return false;
    return (double)(sim_rand(s) >> 11) * (1.0 / 9007199254740992.0) < p;
}

uint32_t sim_source_for(int idx)
{
    /* 127.1.x.y, y in 1..254: 64,770 distinct addresses */
    uint32_t x = (uint32_t)(idx / 254) & 0xff, y = (uint32_t)(idx % 254) + 1;
    return (127u << 24) | (1u << 16) | (x << 8) | y;
}

static void api_error(sim_run *r, const sim_player *pl, const char *step, const pb_sim_api_error *e)
{
    sim_fail(r, "player %d (%s): %s failed: HTTP %d %s (%s)", pl->idx, pl->a.email, step, e->status,
             e->code[0] ? e->code : "-", e->detail);
}

/* ---- setting players up ---- */

/* Deposits through the cashier and checks the wallet shows it. */
static bool deposit(sim_run *r, sim_player *pl, pb_sim_conn *c, const char *amount)
{
    int64_t minor = 0;
    if (pb_money_parse(amount, strlen(amount), pl->cur, &minor) != PB_MONEY_OK || minor <= 0) {
        sim_fail(r, "--deposit %s is not an amount in %s", amount, pl->cur->code);
        return false;
    }
    pb_sim_api_error e = {0};
    char key[96];
    snprintf(key, sizeof key, "sim-%s-%d-deposit-%d", r->run_id, pl->idx, ++pl->deposits);
    if (pb_sim_player_deposit(c, &pl->a, amount, key, &e) != 0) {
        api_error(r, pl, "deposit", &e);
        return false;
    }
    pl->books += minor;
    pl->deposited += minor;
    pthread_mutex_lock(&r->mu);
    r->total.deposits++;
    pthread_mutex_unlock(&r->mu);
    return true;
}

static bool native_session(sim_run *r, sim_player *pl, pb_sim_conn *c)
{
    char body[512];
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", pl->a.launch_token);
    pb_sim_resp resp;
    if (pb_sim_native_call(c, &r->p, "session", body, strlen(body), 15000, &resp) !=
        PB_SIM_HTTP_OK) {
        sim_fail(r, "player %d: the native session call got no answer", pl->idx);
        return false;
    }
    if (resp.status != 200) {
        sim_fail(r, "player %d: native session: %d %.*s", pl->idx, resp.status, (int)resp.body_len,
                 resp.body);
        return false;
    }
    if (!pb_sim_response_signed(&r->p, &resp)) {
        sim_fail(r, "player %d: native session: the answer's signature does not match", pl->idx);
        return false;
    }
    json_t *j = pb_sim_json(&resp);
    const char *pid = json_string_value(json_object_get(j, "player_id"));
    const char *cur = json_string_value(json_object_get(j, "currency"));
    bool ok = pid && cur && strcmp(pid, pl->a.public_id) == 0 && strcmp(cur, pl->cur->code) == 0;
    json_decref(j);
    if (!ok)
        sim_fail(r, "player %d: native session names another player or currency: %.*s", pl->idx,
                 (int)resp.body_len, resp.body);
    return ok;
}

/* Registers (or, with --email, logs in) one player, funds them, launches the game
 * and opens the native session. The books start from the wallet: an existing
 * player's balance, then each deposit. */
static bool setup_one(sim_run *r, sim_player *pl, pb_sim_conn *native)
{
    const pb_sim_options *o = r->o;
    pb_sim_conn c;
    pb_sim_conn_init(&c, &r->t);
    if (r->t.loopback) {
        pl->source = sim_source_for(pl->idx);
        pb_sim_conn_set_source_ipv4(&c, pl->source);
    }
    snprintf(pl->a.brand, sizeof pl->a.brand, "%s", o->brand);
    if (o->email) {
        snprintf(pl->a.email, sizeof pl->a.email, "%s", o->email);
        snprintf(pl->a.password, sizeof pl->a.password, "%s", o->password ? o->password : "");
    } else {
        snprintf(pl->a.email, sizeof pl->a.email, "sim-%s-%d@example.org", r->run_id, pl->idx);
        snprintf(pl->a.password, sizeof pl->a.password, "horse battery staple %s", r->run_id);
    }
    snprintf(pl->a.currency, sizeof pl->a.currency, "%s", o->currency ? o->currency : "");
    pb_sim_api_error e = {0};
    bool ok = false;
    int64_t total = 0, cash = 0;
    if (pb_sim_player_enter(&c, &pl->a, !o->email, o->country, &e) != 0) {
        api_error(r, pl, o->email ? "login" : "registration", &e);
    } else if (!(pl->cur = pb_currency_find(pl->a.currency))) {
        sim_fail(r, "player %d: unknown currency %s", pl->idx, pl->a.currency);
    } else if (pb_sim_player_wallet(&c, &pl->a, &total, &cash, &e) != 0) {
        api_error(r, pl, "wallet", &e);
    } else if ((pl->books = total, !o->deposit || deposit(r, pl, &c, o->deposit))) {
        int64_t before = pl->books;
        if (pb_sim_player_wallet(&c, &pl->a, &total, &cash, &e) != 0) {
            api_error(r, pl, "wallet", &e);
        } else if (total != before) {
            sim_fail(r,
                     "player %d: after the deposit the wallet shows %" PRId64
                     " (minor units) to play with, the books %" PRId64,
                     pl->idx, total, before);
            pthread_mutex_lock(&r->mu);
            r->total.mismatches++;
            pthread_mutex_unlock(&r->mu);
        } else if (pb_sim_player_launch(&c, &pl->a, o->provider, o->game, &e) != 0) {
            api_error(r, pl, "launch", &e);
        } else {
            ok = native_session(r, pl, native);
        }
    }
    pb_sim_conn_free(&c);
    return ok;
}

static void *setup_main(void *arg)
{
    sim_run *r = arg;
    pb_sim_conn native;
    pb_sim_conn_init(&native, &r->t);
    for (;;) {
        pthread_mutex_lock(&r->mu);
        int i = r->next < r->nplayers ? r->next++ : -1;
        pthread_mutex_unlock(&r->mu);
        if (i < 0)
            break;
        sim_player *pl = &r->players[i];
        pl->ready = setup_one(r, pl, &native);
    }
    pb_sim_conn_free(&native);
    return NULL;
}

int sim_setup_players(sim_run *r)
{
    int n = r->o->concurrency < r->nplayers ? r->o->concurrency : r->nplayers;
    if (n > 8)
        n = 8; /* registration hashes passwords: more threads only queue */
    pthread_t th[8];
    int started = 0;
    for (int i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, setup_main, r) == 0)
            started++;
    if (started == 0)
        setup_main(r);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    int ready = 0;
    for (int i = 0; i < r->nplayers; i++)
        ready += r->players[i].ready;
    if (ready != r->nplayers) {
        fprintf(stderr, "sim: %d of %d players could not be set up (see above)\n",
                r->nplayers - ready, r->nplayers);
        return 2;
    }
    r->can_deposit = true;
    return 0;
}

bool sim_top_up(sim_run *r, sim_player *pl, sim_counters *k)
{
    if (!r->can_deposit || !r->o->deposit)
        return false;
    pb_sim_conn c;
    pb_sim_conn_init(&c, &r->t);
    if (pl->source)
        pb_sim_conn_set_source_ipv4(&c, pl->source);
    bool ok = deposit(r, pl, &c, r->o->deposit);
    if (!ok)
        k->s.unexpected++;
    pb_sim_conn_free(&c);
    return ok;
}

/* ---- the end-of-run check ---- */

static void check_one(sim_run *r, sim_player *pl, pb_sim_conn *native, pb_sim_summary *s)
{
    char want[PB_MONEY_STR_MAX];
    if (pb_money_format(pl->books, pl->cur, want, sizeof want) < 0)
        snprintf(want, sizeof want, "?");
    /* the provider's view: the native balance call */
    char body[512];
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", pl->a.launch_token);
    pb_sim_resp resp;
    s->calls++;
    if (pb_sim_native_call(native, &r->p, "balance", body, strlen(body), 15000, &resp) !=
        PB_SIM_HTTP_OK) {
        s->unexpected++;
        sim_fail(r, "player %d: the native balance call got no answer", pl->idx);
    } else {
        json_t *j = pb_sim_json(&resp);
        const char *b = json_string_value(json_object_get(j, "balance"));
        int64_t v = 0;
        bool ok = resp.status == 200 && b && pb_money_parse(b, strlen(b), pl->cur, &v) == 0 &&
                  v == pl->books;
        if (resp.status == 200 && !pb_sim_response_signed(&r->p, &resp)) {
            s->bad_signatures++;
            sim_fail(r, "player %d: native balance: the answer's signature does not match",
                     pl->idx);
        }
        if (!ok) {
            s->mismatches++;
            sim_fail(r,
                     "MISMATCH player %d (%s): native balance answered %d %.*s; the books say %s",
                     pl->idx, pl->a.public_id, resp.status, (int)resp.body_len, resp.body, want);
        }
        json_decref(j);
    }
    /* the player's view: GET /v1/player/wallet (a fresh login when needed) */
    pb_sim_conn c;
    pb_sim_conn_init(&c, &r->t);
    if (pl->source)
        pb_sim_conn_set_source_ipv4(&c, pl->source);
    pb_sim_api_error e = {0};
    int64_t total = 0, cash = 0;
    int rc = pl->a.access_token[0] ? pb_sim_player_wallet(&c, &pl->a, &total, &cash, &e) : -1;
    if (rc != 0 && (e.status == 401 || !pl->a.access_token[0]) &&
        pb_sim_player_enter(&c, &pl->a, false, r->o->country, &e) == 0)
        rc = pb_sim_player_wallet(&c, &pl->a, &total, &cash, &e);
    if (rc != 0) {
        s->unexpected++;
        api_error(r, pl, "wallet (end check)", &e);
    } else if (total != pl->books) {
        char got[PB_MONEY_STR_MAX];
        pb_money_format(total, pl->cur, got, sizeof got);
        s->mismatches++;
        sim_fail(r,
                 "MISMATCH player %d (%s): the wallet shows %s to play with (cash %" PRId64
                 " minor units); the books say %s",
                 pl->idx, pl->a.public_id, got, cash, want);
    }
    pb_sim_conn_free(&c);
}

void sim_check_players(sim_run *r)
{
    pb_sim_conn native;
    pb_sim_conn_init(&native, &r->t);
    pb_sim_summary s = {0};
    for (int i = 0; i < r->nplayers; i++)
        if (r->players[i].ready)
            check_one(r, &r->players[i], &native, &s);
    pb_sim_conn_free(&native);
    pthread_mutex_lock(&r->mu);
    r->total.calls += s.calls;
    r->total.unexpected += s.unexpected;
    r->total.mismatches += s.mismatches;
    r->total.bad_signatures += s.bad_signatures;
    pthread_mutex_unlock(&r->mu);
}

/* ---- the books file ---- */

int sim_books_write(const sim_run *r, const char *path)
{
    json_t *players = json_array();
    for (int i = 0; i < r->nplayers; i++) {
        const sim_player *pl = &r->players[i];
        if (!pl->ready)
            continue;
        char bal[PB_MONEY_STR_MAX];
        pb_money_format(pl->books, pl->cur, bal, sizeof bal);
        json_array_append_new(players,
                              json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "index", pl->idx,
                                        "brand", pl->a.brand, "email", pl->a.email, "password",
                                        pl->a.password, "player_id", pl->a.public_id, "currency",
                                        pl->cur->code, "launch_token", pl->a.launch_token,
                                        "balance", bal));
    }
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:o}", "url", r->o->url, "provider", r->o->provider,
                            "game", r->o->game ? r->o->game : "", "run", r->run_id, "players",
                            players);
    int rc = doc && json_dump_file(doc, path, JSON_INDENT(1)) == 0 ? 0 : -1;
    json_decref(doc);
    if (rc != 0)
        fprintf(stderr, "sim: cannot write the books to %s\n", path);
    return rc;
}

int sim_books_load(sim_run *r, const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    json_t *players = json_object_get(doc, "players");
    if (!json_is_array(players)) {
        fprintf(stderr, "sim: %s is not a books file (%s)\n", path, jerr.text);
        json_decref(doc);
        return -1;
    }
    const char *run = json_string_value(json_object_get(doc, "run"));
    snprintf(r->run_id, sizeof r->run_id, "%s", run ? run : "");
    size_t n = json_array_size(players);
    r->players = calloc(n ? n : 1, sizeof *r->players);
    r->nplayers = 0;
    for (size_t i = 0; r->players && i < n; i++) {
        json_t *p = json_array_get(players, i);
        sim_player *pl = &r->players[r->nplayers];
        const char *f[7];
        static const char *const keys[7] = {"brand",    "email",        "password", "player_id",
                                            "currency", "launch_token", "balance"};
        bool ok = true;
        for (int k = 0; k < 7; k++)
            ok = ok && (f[k] = json_string_value(json_object_get(p, keys[k])));
        pl->cur = ok ? pb_currency_find(f[4]) : NULL;
        if (!pl->cur || pb_money_parse(f[6], strlen(f[6]), pl->cur, &pl->books) != PB_MONEY_OK) {
            fprintf(stderr, "sim: %s: player %zu is incomplete\n", path, i);
            free(r->players);
            r->players = NULL;
            json_decref(doc);
            return -1;
        }
        pl->idx = (int)json_integer_value(json_object_get(p, "index"));
        snprintf(pl->a.brand, sizeof pl->a.brand, "%s", f[0]);
        snprintf(pl->a.email, sizeof pl->a.email, "%s", f[1]);
        snprintf(pl->a.password, sizeof pl->a.password, "%s", f[2]);
        snprintf(pl->a.public_id, sizeof pl->a.public_id, "%s", f[3]);
        snprintf(pl->a.currency, sizeof pl->a.currency, "%s", f[4]);
        snprintf(pl->a.launch_token, sizeof pl->a.launch_token, "%s", f[5]);
        if (r->t.loopback)
            pl->source = sim_source_for(pl->idx);
        pl->ready = true;
        r->nplayers++;
    }
    json_decref(doc);
    return r->players ? 0 : -1;
}
