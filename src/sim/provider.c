/*
 * provider.c — `pitboss sim provider`: plays rounds as a game provider would,
 * against a running pitboss, and checks every answer against its own books.
 *
 * Threads: --concurrency workers; worker w owns players w, w+C, w+2C, … and
 * plays one round of each in turn until their rounds are done, so rounds of
 * different players run concurrently while each player's calls stay in order
 * (their books are then exact after every answer). Every random choice comes
 * from the player's own stream (seeded from --seed and the player's index), so
 * a seed replays the same rounds whatever the thread timing.
 *
 * One call (call()): the body is signed with a fresh timestamp on every send.
 *   - with probability --timeout-rate an attempt waits only 0-1 ms for its
 *     answer, then drops the connection and retries the SAME body (same
 *     transaction id) on a new one — the server may or may not have applied
 *     the first delivery; either way the answer must be the one decision;
 *   - with probability --duplicate-rate the answered call is delivered again,
 *     half the time afterwards and half the time simultaneously on a second
 *     connection; both answers must be identical byte for byte (status, body,
 *     signature);
 *   - the answer's signature, status, error code, transaction id, cash part and
 *     balance are checked; an acknowledged call updates the books by what it
 *     did (a bet -stake, a win +payout, a rollback +the bet's stake).
 *
 * The rounds (weights out of 100) are in play_round().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/time.h"
#include "sim/sim_internal.h"

#define CALL_TIMEOUT_MS 15000
#define MAX_ATTEMPTS 8

typedef struct worker {
    sim_run *r;
    int id;
    pb_sim_conn conn, dup; /* the provider's two connections */
    sim_counters k;
    pthread_t th;
} worker;

/* What the simulator expects of one call. */
typedef struct expect {
    const char *code; /* NULL = success */
    int64_t ok_delta; /* what success does to the books */
    int64_t part;     /* success: the expected cash_part + bonus_part */
    bool bet_unknown; /* rollback: expect "bet_found": false */
} expect;

/* The outcome as the simulator saw it. */
typedef enum { OUT_OK, OUT_REFUSED, OUT_LOST } outcome;

/* ---- small helpers ---- */

static void fmt(const sim_player *pl, int64_t v, char *buf, size_t cap)
{
    if (pb_money_format(v, pl->cur, buf, cap) < 0)
        snprintf(buf, cap, "?");
}

static int64_t amount_field(json_t *j, const char *key, const sim_player *pl, bool *ok)
{
    const char *s = json_string_value(json_object_get(j, key));
    int64_t v = 0;
    if (!s || pb_money_parse(s, strlen(s), pl->cur, &v) != PB_MONEY_OK)
        *ok = false;
    return v;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- one call ---- */

/* Checks an answer against the expectation and the books; updates the books.
 * Returns what happened. */
static outcome judge(worker *w, sim_player *pl, const char *call, const char *tx,
                     const pb_sim_resp *resp, const expect *x)
{
    sim_run *r = w->r;
    if (!pb_sim_response_signed(&r->p, resp)) {
        w->k.s.bad_signatures++;
        sim_fail(r, "player %d %s %s: the answer's X-Pitboss-Signature does not match its body",
                 pl->idx, call, tx);
    }
    json_t *j = pb_sim_json(resp);
    const char *status = json_string_value(json_object_get(j, "status"));
    bool ok = resp->status == 200 && status && strcmp(status, "OK") == 0;
    char code[64] = "";
    if (!ok) {
        const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
        snprintf(code, sizeof code, "%s", c ? c : "?");
    }
    if (ok)
        pl->books += x->ok_delta; /* the books follow what was acknowledged */
    bool as_expected = x->code ? (!ok && strcmp(code, x->code) == 0) : ok;
    if (!as_expected) {
        w->k.s.unexpected++;
        sim_fail(r, "player %d %s %s: expected %s, got %d %s: %.*s", pl->idx, call, tx,
                 x->code ? x->code : "OK", resp->status, ok ? "OK" : code,
                 (int)(resp->body_len > 300 ? 300 : resp->body_len), resp->body);
    }
    /* the balance shown must be the books' (on a refusal too, when it is there) */
    bool parsed = true;
    bool has_balance = json_object_get(j, "balance") != NULL;
    int64_t bal = has_balance ? amount_field(j, "balance", pl, &parsed) : 0;
    if (ok || has_balance) {
        if (!has_balance || !parsed || bal != pl->books) {
            char want[PB_MONEY_STR_MAX];
            fmt(pl, pl->books, want, sizeof want);
            w->k.s.mismatches++;
            sim_fail(r, "player %d %s %s: balance %s in the answer, the books say %s", pl->idx,
                     call, tx,
                     has_balance ? json_string_value(json_object_get(j, "balance")) : "(none)",
                     want);
        }
    }
    if (ok && as_expected) {
        bool fine = true;
        int64_t cash_part = amount_field(j, "cash_part", pl, &fine) +
                            amount_field(j, "bonus_part", pl, &fine);
        const char *t = json_string_value(json_object_get(j, "transaction_id"));
        json_t *bf = json_object_get(j, "bet_found");
        bool unknown = bf && json_is_false(bf);
        if (!fine || cash_part != x->part || !t || strcmp(t, tx) != 0 ||
            unknown != x->bet_unknown) {
            w->k.s.unexpected++;
            sim_fail(
                r,
                "player %d %s %s: wrong details (cash/bonus parts, transaction_id or bet_found;"
                " expected part %" PRId64 "): %.*s",
                pl->idx, call, tx, x->part, (int)resp->body_len, resp->body);
        }
    }
    json_decref(j);
    return ok ? OUT_OK : OUT_REFUSED;
}

static bool same_answer(const pb_sim_resp *a, const char *body, size_t len, int status,
                        const char *sig)
{
    char s2[128] = "";
    pb_sim_resp_header(a, "X-Pitboss-Signature", s2, sizeof s2);
    return a->status == status && a->body_len == len && memcmp(a->body, body, len) == 0 &&
           strcmp(s2, sig) == 0;
}

/*
 * Delivers one call until it is answered (timeouts and transport failures are
 * retried with the same body), checks it, and maybe delivers it again.
 */
static outcome call(worker *w, sim_player *pl, const char *name, const char *tx, const char *body,
                    const expect *x)
{
    sim_run *r = w->r;
    const pb_sim_options *o = r->o;
    size_t len = strlen(body);
    pb_sim_resp resp;
    bool simultaneous = false;
    int rc = PB_SIM_HTTP_ERROR;
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        bool short_wait = attempt < MAX_ATTEMPTS - 2 && sim_chance(&pl->rng, o->timeout_rate);
        int timeout = short_wait ? (int)sim_below(&pl->rng, 2) : CALL_TIMEOUT_MS;
        simultaneous = !short_wait && sim_chance(&pl->rng, o->duplicate_rate / 2);
        w->k.s.calls++;
        if (simultaneous) {
            /* the same delivery twice at once, on two connections */
            w->k.s.calls++;
            w->k.s.duplicates++;
            int a = pb_sim_native_send(&w->conn, &r->p, name, body, len);
            int b = pb_sim_native_send(&w->dup, &r->p, name, body, len);
            pb_sim_resp second;
            rc = a == PB_SIM_HTTP_OK ? pb_sim_conn_recv(&w->conn, timeout, &resp) : a;
            int rc2 = b == PB_SIM_HTTP_OK ? pb_sim_conn_recv(&w->dup, timeout, &second) : b;
            if (rc == PB_SIM_HTTP_OK && rc2 == PB_SIM_HTTP_OK) {
                char sig[128] = "";
                pb_sim_resp_header(&second, "X-Pitboss-Signature", sig, sizeof sig);
                if (!same_answer(&resp, second.body, second.body_len, second.status, sig)) {
                    w->k.s.duplicate_mismatches++;
                    sim_fail(r,
                             "player %d %s %s: two simultaneous deliveries were answered "
                             "differently: %d %.*s / %d %.*s",
                             pl->idx, name, tx, resp.status, (int)resp.body_len, resp.body,
                             second.status, (int)second.body_len, second.body);
                }
            } else if (rc == PB_SIM_HTTP_OK) {
                w->k.s.transport_errors++; /* the first answer is enough */
            } else if (rc2 == PB_SIM_HTTP_OK) {
                rc = rc2;
                resp = second;
            }
        } else {
            rc = pb_sim_native_call(&w->conn, &r->p, name, body, len, timeout, &resp);
        }
        if (rc == PB_SIM_HTTP_OK)
            break;
        w->k.s.retries++;
        if (rc == PB_SIM_HTTP_TIMEOUT && short_wait) {
            w->k.s.timeouts++;
        } else {
            w->k.s.transport_errors++;
            nap_ms(50 << (attempt < 5 ? attempt : 5));
        }
    }
    if (rc != PB_SIM_HTTP_OK) {
        w->k.s.unexpected++;
        sim_fail(r, "player %d %s %s: no answer after %d attempts", pl->idx, name, tx,
                 MAX_ATTEMPTS);
        return OUT_LOST;
    }
    /* keep the first answer's bytes: the connection's buffer is reused */
    int status = resp.status;
    size_t blen = resp.body_len;
    char *first = malloc(blen + 1);
    char sig[128] = "";
    pb_sim_resp_header(&resp, "X-Pitboss-Signature", sig, sizeof sig);
    if (!first) {
        w->k.s.transport_errors++;
        return OUT_LOST;
    }
    memcpy(first, resp.body, blen);
    outcome out = judge(w, pl, name, tx, &resp, x);

    if (!simultaneous && sim_chance(&pl->rng, o->duplicate_rate / 2)) {
        /* a late duplicate delivery: the stored answer, byte for byte */
        pb_sim_resp again;
        w->k.s.calls++;
        w->k.s.duplicates++;
        int a = pb_sim_native_call(&w->conn, &r->p, name, body, len, CALL_TIMEOUT_MS, &again);
        if (a != PB_SIM_HTTP_OK) {
            w->k.s.transport_errors++;
        } else if (!same_answer(&again, first, blen, status, sig)) {
            w->k.s.duplicate_mismatches++;
            sim_fail(r,
                     "player %d %s %s: a duplicate was answered differently: %d %.*s then %d "
                     "%.*s",
                     pl->idx, name, tx, status, (int)blen, first, again.status, (int)again.body_len,
                     again.body);
        }
    }
    free(first);
    return out;
}

/* ---- the calls ---- */

static void ids(const sim_player *pl, const char *run, const char *suffix, char *out, size_t cap)
{
    snprintf(out, cap, "%s-%d-%d%s", run, pl->idx, pl->round_no, suffix);
}

static outcome bet(worker *w, sim_player *pl, const char *round, const char *tx, int64_t stake,
                   int close, const char *want)
{
    char amount[PB_MONEY_STR_MAX], body[1024];
    fmt(pl, stake, amount, sizeof amount);
    const char *cr = close < 0 ? "" : close ? ",\"close_round\":true" : ",\"close_round\":false";
    snprintf(body, sizeof body,
             "{\"token\":\"%s\",\"transaction_id\":\"%s\",\"round_id\":\"%s\",\"game\":\"%s\","
             "\"currency\":\"%s\",\"amount\":\"%s\"%s}",
             pl->a.launch_token, tx, round, w->r->o->game, pl->cur->code, amount, cr);
    if (!want && pl->books < stake)
        want = "INSUFFICIENT_FUNDS";
    expect x = {.code = want, .ok_delta = -stake, .part = stake};
    return call(w, pl, "bet", tx, body, &x);
}

static outcome win(worker *w, sim_player *pl, const char *round, const char *tx, const char *bet_tx,
                   int64_t payout, int close, const char *want)
{
    char amount[PB_MONEY_STR_MAX], body[1024];
    fmt(pl, payout, amount, sizeof amount);
    const char *cr = close < 0 ? "" : close ? ",\"close_round\":true" : ",\"close_round\":false";
    snprintf(body, sizeof body,
             "{\"token\":\"%s\",\"transaction_id\":\"%s\",\"round_id\":\"%s\","
             "\"bet_transaction_id\":\"%s\",\"currency\":\"%s\",\"amount\":\"%s\"%s}",
             pl->a.launch_token, tx, round, bet_tx, pl->cur->code, amount, cr);
    expect x = {.code = want, .ok_delta = payout, .part = payout};
    return call(w, pl, "win", tx, body, &x);
}

/* stake: what the books say the bet took (0 for a bet never placed) */
static outcome rollback(worker *w, sim_player *pl, const char *round, const char *tx,
                        const char *bet_tx, int64_t stake, const char *want)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"token\":\"%s\",\"transaction_id\":\"%s\",\"round_id\":\"%s\","
             "\"bet_transaction_id\":\"%s\",\"currency\":\"%s\"}",
             pl->a.launch_token, tx, round, bet_tx, pl->cur->code);
    expect x = {.code = want, .ok_delta = stake, .part = stake, .bet_unknown = stake == 0};
    return call(w, pl, "rollback", tx, body, &x);
}

static outcome close_round(worker *w, sim_player *pl, const char *round, const char *tx)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"transaction_id\":\"%s\",\"round_id\":\"%s\"}",
             pl->a.launch_token, tx, round);
    expect x = {0};
    return call(w, pl, "round/close", tx, body, &x);
}

/* ---- rounds ---- */

static int64_t pick_stake(sim_run *r, sim_player *pl)
{
    int64_t lo = r->o->bet_min, hi = r->o->bet_max;
    return lo + (int64_t)sim_below(&pl->rng, (uint64_t)(hi - lo + 1));
}

/* A slot-like payout: 55% nothing, else 0.5x to 3.5x the stake (about 90% back). */
static int64_t pick_payout(sim_player *pl, int64_t stake)
{
    if (sim_chance(&pl->rng, 0.55))
        return 0;
    return stake / 2 + (int64_t)sim_below(&pl->rng, (uint64_t)(stake * 3 + 1));
}

/* Plays one round of the player's; counts it. */
static void play_round(worker *w, sim_player *pl)
{
    sim_run *r = w->r;
    const char *run = r->run_id;
    char round[160], b1[170], b2[170], wn[170], rb[170], cl[170];
    pl->round_no++;
    ids(pl, run, "", round, sizeof round);
    ids(pl, run, "-b1", b1, sizeof b1);
    ids(pl, run, "-b2", b2, sizeof b2);
    ids(pl, run, "-w", wn, sizeof wn);
    ids(pl, run, "-rb", rb, sizeof rb);
    ids(pl, run, "-c", cl, sizeof cl);
    w->k.s.rounds++;

    if (pl->books < r->o->bet_min && !sim_top_up(r, pl, &w->k)) {
        /* broke and no cashier: the bet is refused, as it should be */
        bet(w, pl, round, b1, r->o->bet_min, -1, "INSUFFICIENT_FUNDS");
        return;
    }
    int64_t stake = pick_stake(r, pl);
    int kind = (int)sim_below(&pl->rng, 100);
    if (kind < 7 && pl->books + 1 >= r->o->bet_min && pl->books + 1 <= r->o->bet_max) {
        /* a stake one minor unit beyond the balance */
        bet(w, pl, round, b1, pl->books + 1, -1, "INSUFFICIENT_FUNDS");
        return;
    }
    if (kind < 52) { /* bet, then a win or a loss that closes the round */
        if (bet(w, pl, round, b1, stake, (int)sim_below(&pl->rng, 2) - 1, NULL) == OUT_OK)
            win(w, pl, round, wn, b1, pick_payout(pl, stake), sim_chance(&pl->rng, 0.5) ? -1 : 1,
                NULL);
    } else if (kind < 64) { /* two bets in one round, the win on the second */
        if (bet(w, pl, round, b1, stake, 0, NULL) != OUT_OK)
            return;
        int64_t stake2 = pick_stake(r, pl);
        if (bet(w, pl, round, b2, stake2, -1, NULL) == OUT_OK)
            win(w, pl, round, wn, b2, pick_payout(pl, stake + stake2), 1, NULL);
        else
            close_round(w, pl, round, cl);
    } else if (kind < 72) { /* the provider cancels the bet */
        if (bet(w, pl, round, b1, stake, 0, NULL) == OUT_OK) {
            rollback(w, pl, round, rb, b1, stake, NULL);
            close_round(w, pl, round, cl);
        }
    } else if (kind < 77) { /* the rollback overtakes its bet: the bet is then refused */
        rollback(w, pl, round, rb, b1, 0, NULL);
        bet(w, pl, round, b1, stake, 0, "TRANSACTION_ROLLED_BACK");
        /* the provider still closes the round: the player played it (the rollback
         * is theirs), so the close closes it with no money moved */
        close_round(w, pl, round, cl);
    } else if (kind < 82) { /* a rollback after the round's win is refused */
        bool placed = bet(w, pl, round, b1, stake, 0, NULL) == OUT_OK;
        if (placed && win(w, pl, round, wn, b1, pick_payout(pl, stake), 0, NULL) == OUT_OK)
            rollback(w, pl, round, rb, b1, stake, "ROUND_HAS_WIN");
        if (placed)
            close_round(w, pl, round, cl);
    } else if (kind < 87) { /* a win on a rolled-back bet is refused */
        bool placed = bet(w, pl, round, b1, stake, 0, NULL) == OUT_OK;
        if (placed && rollback(w, pl, round, rb, b1, stake, NULL) == OUT_OK)
            win(w, pl, round, wn, b1, stake, 1, "TRANSACTION_ROLLED_BACK");
        if (placed)
            close_round(w, pl, round, cl);
    } else if (kind < 92) { /* an instant game: the bet closes the round; more is refused */
        if (bet(w, pl, round, b1, stake, 1, NULL) == OUT_OK)
            bet(w, pl, round, b2, pick_stake(r, pl), -1, "ROUND_CLOSED");
    } else { /* a win that leaves the round open, then the explicit close */
        if (bet(w, pl, round, b1, stake, 0, NULL) == OUT_OK) {
            win(w, pl, round, wn, b1, pick_payout(pl, stake), 0, NULL);
            close_round(w, pl, round, cl);
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    sim_run *r = w->r;
    int C = r->o->concurrency < r->nplayers ? r->o->concurrency : r->nplayers;
    for (bool more = true; more;) {
        more = false;
        for (int i = w->id; i < r->nplayers; i += C) {
            sim_player *pl = &r->players[i];
            if (!pl->ready || pl->rounds_left <= 0)
                continue;
            play_round(w, pl);
            pl->rounds_left--;
            more = more || pl->rounds_left > 0;
        }
    }
    return NULL;
}

static void add_counters(pb_sim_summary *t, const pb_sim_summary *s)
{
    t->rounds += s->rounds;
    t->calls += s->calls;
    t->duplicates += s->duplicates;
    t->duplicate_mismatches += s->duplicate_mismatches;
    t->retries += s->retries;
    t->timeouts += s->timeouts;
    t->transport_errors += s->transport_errors;
    t->unexpected += s->unexpected;
    t->mismatches += s->mismatches;
    t->bad_signatures += s->bad_signatures;
    t->deposits += s->deposits;
}

/* Plays every player's rounds with the run's workers. */
static int play(sim_run *r)
{
    int C = r->o->concurrency < r->nplayers ? r->o->concurrency : r->nplayers;
    worker *ws = calloc((size_t)C, sizeof *ws);
    if (!ws)
        return 2;
    for (int i = 0; i < C; i++) {
        ws[i].r = r;
        ws[i].id = i;
        pb_sim_conn_init(&ws[i].conn, &r->t);
        pb_sim_conn_init(&ws[i].dup, &r->t);
        if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0) {
            C = i;
            break;
        }
    }
    for (int i = 0; i < C; i++) {
        pthread_join(ws[i].th, NULL);
        pb_sim_conn_free(&ws[i].conn);
        pb_sim_conn_free(&ws[i].dup);
        pthread_mutex_lock(&r->mu);
        add_counters(&r->total, &ws[i].k.s);
        pthread_mutex_unlock(&r->mu);
    }
    free(ws);
    return 0;
}

static void print_summary(const sim_run *r, const pb_sim_summary *s, bool ok)
{
    FILE *f = r->o->out ? r->o->out : stdout;
    fprintf(f,
            "pitboss sim provider: %" PRIu64 " players, %" PRIu64 " rounds, %" PRIu64
            " calls in %.1f s\n"
            "  duplicates %" PRIu64 ", retries %" PRIu64 " (after %" PRIu64
            " client timeouts and %" PRIu64 " transport errors), deposits %" PRIu64 "\n"
            "  unexpected answers %" PRIu64 ", balance mismatches %" PRIu64
            ", duplicate mismatches %" PRIu64 ", bad signatures %" PRIu64 "\n"
            "  result: %s\n",
            s->players, s->rounds, s->calls, s->seconds, s->duplicates, s->retries, s->timeouts,
            s->transport_errors, s->deposits, s->unexpected, s->mismatches, s->duplicate_mismatches,
            s->bad_signatures, ok ? "OK" : "FAILED");
    fprintf(f,
            "{\"sim\":\"provider\",\"players\":%" PRIu64 ",\"rounds\":%" PRIu64
            ",\"calls\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"retries\":%" PRIu64
            ",\"timeouts\":%" PRIu64 ",\"transport_errors\":%" PRIu64 ",\"deposits\":%" PRIu64
            ",\"unexpected\":%" PRIu64 ",\"mismatches\":%" PRIu64
            ",\"duplicate_mismatches\":%" PRIu64 ",\"bad_signatures\":%" PRIu64
            ",\"seconds\":%.3f,\"ok\":%s}\n",
            s->players, s->rounds, s->calls, s->duplicates, s->retries, s->timeouts,
            s->transport_errors, s->deposits, s->unexpected, s->mismatches, s->duplicate_mismatches,
            s->bad_signatures, s->seconds, ok ? "true" : "false");
    fflush(f);
}

int pb_sim_provider_run(const pb_sim_options *o, pb_sim_summary *out)
{
    sim_run r;
    memset(&r, 0, sizeof r);
    memset(out, 0, sizeof *out);
    r.o = o;
    pthread_mutex_init(&r.mu, NULL);
    char err[300];
    if (pb_sim_target_parse(o->url, &r.t, err, sizeof err) != 0) {
        fprintf(stderr, "sim: %s\n", err);
        return 2;
    }
    snprintf(r.p.code, sizeof r.p.code, "%s", o->provider);
    memcpy(r.p.secret, o->secret, o->secret_len);
    r.p.secret_len = o->secret_len;
    int64_t t0 = pb_time_mono_us();
    int rc = 0;
    if (o->check_books) {
        if (sim_books_load(&r, o->check_books) != 0)
            rc = 2;
    } else {
        /* a prefix unique to this run: emails and transaction ids never collide with
         * an earlier run's on the same server (the seed decides everything else) */
        snprintf(r.run_id, sizeof r.run_id, "s%08" PRIx64,
                 (uint64_t)(((uint64_t)(pb_time_now_us() / 1000) ^ ((uint64_t)getpid() << 20)) &
                            0xffffffffffu));
        r.nplayers = o->players;
        r.players = calloc((size_t)o->players, sizeof *r.players);
        if (!r.players) {
            rc = 2;
        } else {
            for (int i = 0; i < o->players; i++) {
                sim_player *pl = &r.players[i];
                pl->idx = i;
                pl->rng = o->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(i + 1));
                if (!pl->rng)
                    pl->rng = 1;
                pl->rounds_left = o->rounds / o->players + (i < o->rounds % o->players);
            }
            rc = sim_setup_players(&r);
            if (rc == 0)
                rc = play(&r);
        }
    }
    if (rc == 0) {
        sim_check_players(&r);
        if (o->books_out && sim_books_write(&r, o->books_out) != 0)
            rc = 2;
    }
    r.total.players = (uint64_t)r.nplayers;
    r.total.seconds = (double)(pb_time_mono_us() - t0) / 1e6;
    *out = r.total;
    const pb_sim_summary *s = &r.total;
    bool ok = rc == 0 && s->unexpected == 0 && s->mismatches == 0 && s->duplicate_mismatches == 0 &&
              s->bad_signatures == 0;
    print_summary(&r, s, ok);
    free(r.players);
    pthread_mutex_destroy(&r.mu);
    return rc ? rc : ok ? 0 : 1;
}
