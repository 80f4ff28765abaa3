/*
 * play_seeds.c — players' seed pairs (see play.h, "Seeds"): the active pair made
 * on first use, read, and rotated (the server seed revealed, a new pair made),
 * never while a game is in play on the pair: the scan for such games runs on the
 * caller's connection and the writer re-checks only what it found.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "games/play_internal.h"

/* ---- seed pairs ---- */

/* A fresh pair for the player: a new server seed, its commitment, the client
 * seed (NULL = 32 random hex characters), nonce 0. */
static void pair_new(pb_store_seed_pair *p, int64_t brand_id, const char *brand, const char *player,
                     const char *client_seed, int64_t now)
{
    memset(p, 0, sizeof *p);
    play_new_id(p->id);
    p->brand_id = brand_id;
    snprintf(p->brand, sizeof p->brand, "%s", brand);
    snprintf(p->player, sizeof p->player, "%s", player);
    pb_fair_server_seed_new(p->server_seed);
    pb_fair_sha256_hex(p->server_seed, strlen(p->server_seed), p->commitment);
    if (client_seed) {
        snprintf(p->client_seed, sizeof p->client_seed, "%s", client_seed);
    } else {
        uint8_t b[16];
        randombytes_buf(b, sizeof b);
        sodium_bin2hex(p->client_seed, sizeof p->client_seed, b, sizeof b);
    }
    p->active = true;
    p->created_at = now;
}

/* Stores a new pair with its server seed sealed; *p keeps the seed in the clear. */
static pb_err pair_insert(pb_store_conn *c, const pb_store_seed_pair *p)
{
    pb_store_seed_pair stored = *p;
    pb_err e = play_seed_seal(p->id, p->server_seed, stored.server_seed, sizeof stored.server_seed);
    if (e == PB_OK && pb_store_seed_pair_insert(c, &stored) != PB_STORE_OK)
        e = PB_ERR_INTERNAL;
    sodium_memzero(stored.server_seed, sizeof stored.server_seed);
    return e;
}

/* The player's active pair, its server seed opened; NOT_FOUND as the store says. */
static pb_store_rc pair_active(pb_store_conn *c, const char *player, pb_store_seed_pair *out)
{
    pb_store_rc rc = pb_store_seed_pair_active(c, player, out);
    if (rc == PB_STORE_OK &&
        play_seed_open(out->id, out->server_seed, sizeof out->server_seed) != PB_OK) {
        pb_log(PB_LOG_ERROR, "games.seed_sealed",
               "seed pair %s: the server seed does not open with this fair.key", out->id);
        sodium_memzero(out->server_seed, sizeof out->server_seed);
        return PB_STORE_ERROR;
    }
    return rc;
}

pb_err play_pair_ensure(pb_store_conn *c, int64_t brand_id, const char *brand, const char *player,
                        int64_t now, pb_store_seed_pair *out)
{
    pb_store_rc rc = pair_active(c, player, out);
    if (rc == PB_STORE_OK)
        return PB_OK;
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    pair_new(out, brand_id, brand, player, NULL, now);
    return pair_insert(c, out);
}

/*
 * Rotation and games in play. A mines game in play on the active pair keeps the
 * pair from rotating (its mines are drawn from the pair's seed). That decision
 * must be atomic with the rotation, so it is taken in the writer's command, but
 * the scan that finds such games reads every unfinished round of every player
 * (the active crash bets of a running round, every mines game in play): run on
 * the writer it delayed every money call while it ran. So the scan runs first,
 * off the writer, on the caller's connection in one read transaction (a
 * consistent snapshot): the active pair's id and next nonce, and the rounds
 * active on it (the candidates). The writer then only re-reads the pair and the
 * candidates by id. This is exact: a round becomes active on a pair only in the
 * command that takes the pair's next nonce (play_decide_seeded: a mines game
 * starts), and nonces only grow, so when the pair is the same with the same next
 * nonce, no game started on it since the snapshot, and the games in play on it
 * are the candidates still active. Otherwise (a bet or a rotation came in
 * between) the scan runs again; after ROTATE_SCANS tries the writer scans itself
 * (the old way, correct, rare).
 */
#define ROTATE_SCANS 3
#define ROTATE_CANDIDATES 16 /* games in play on one pair kept from the scan */

typedef struct pair_snapshot {
    bool have_pair; /* the player had an active pair */
    char pair_id[PB_ID_STR_LEN + 1];
    int64_t next_nonce;
    char candidates[ROTATE_CANDIDATES][PB_ID_STR_LEN + 1];
    size_t n;
    bool overflow; /* more candidates than kept */
} pair_snapshot;

typedef struct seeds_ctx {
    const pb_play_player *who;
    const char *client_seed; /* rotate: the next pair's (NULL = random) */
    bool rotate;
    const pair_snapshot *snap; /* rotate: the scan made off the writer; NULL = scan here */
    pb_store_game_round cand;  /* scratch for a candidate's row */
    pb_store_seed_pair *revealed, *next;
    bool stale;    /* rotate: the snapshot no longer holds (nothing changed): scan again */
    pb_err result; /* rotate: ROUND_STATE while a game on the pair is in play */
} seeds_ctx;

/* Calls fn(row, ctx) for each unfinished round (an indexed list: every
 * player's, short in the usual case) until fn returns false. */
static pb_err open_rounds_each(pb_store_conn *c, bool (*fn)(const pb_store_game_round *, void *),
                               void *ctx)
{
    pb_store_game_round *rows = calloc(64, sizeof *rows);
    if (!rows)
        return PB_ERR_INTERNAL;
    int64_t after = 0;
    size_t n = 64;
    bool go = true;
    pb_err e = PB_OK;
    while (go && n == 64) {
        if (pb_store_game_round_open(c, after, rows, 64, &n) != PB_STORE_OK) {
            e = PB_ERR_INTERNAL;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            after = rows[i].seq;
            if (go)
                go = fn(&rows[i], ctx);
            pb_store_game_round_clear(&rows[i]);
        }
    }
    free(rows);
    return e;
}

static bool in_play_on(const pb_store_game_round *r, const char *pair_id)
{
    return strcmp(r->state, PLAY_ACTIVE) == 0 && strcmp(r->pair_id, pair_id) == 0;
}

static bool find_in_play(const pb_store_game_round *r, void *ctx)
{
    pair_snapshot *s = ctx;
    if (!in_play_on(r, s->pair_id))
        return true;
    if (s->n == ROTATE_CANDIDATES) {
        s->overflow = true;
        return false;
    }
    memcpy(s->candidates[s->n++], r->id, PB_ID_STR_LEN + 1);
    return true;
}

/* The scan, off the writer: the player's active pair and the rounds in play on
 * it, in one read transaction on c. */
static pb_err pair_scan(pb_store_conn *c, const char *player, pair_snapshot *s)
{
    memset(s, 0, sizeof *s);
    if (pb_store_begin(c, PB_STORE_READ) != PB_STORE_OK)
        return PB_ERR_STORE_UNAVAILABLE;
    pb_store_seed_pair pair;
    pb_store_rc rc = pb_store_seed_pair_active(c, player, &pair); /* its seed stays sealed */
    pb_err e = rc == PB_STORE_OK || rc == PB_STORE_NOT_FOUND ? PB_OK : PB_ERR_STORE_UNAVAILABLE;
    if (rc == PB_STORE_OK) {
        s->have_pair = true;
        memcpy(s->pair_id, pair.id, sizeof s->pair_id);
        s->next_nonce = pair.next_nonce;
        e = open_rounds_each(c, find_in_play, s);
    }
    sodium_memzero(&pair, sizeof pair);
    pb_store_rollback(c);
    return e;
}

/* The writer's scan (no snapshot, or it kept going stale). */
static bool any_in_play(const pb_store_game_round *r, void *ctx)
{
    pair_snapshot *s = ctx;
    if (in_play_on(r, s->pair_id)) {
        s->n = 1;
        return false;
    }
    return true;
}

/* Whether a round decided on the active pair `pair` (read in this command) is
 * still in play ("active": a mines game): from the snapshot when it still holds
 * (*stale = false), else *stale, or with no snapshot by scanning here. Its
 * outcome is drawn already: revealing the pair's server seed would give it away. */
static pb_err pair_in_play(seeds_ctx *x, pb_store_conn *c, const pb_store_seed_pair *pair,
                           bool *in_play)
{
    *in_play = false;
    const pair_snapshot *s = x->snap;
    if (!s) {
        pair_snapshot w;
        memset(&w, 0, sizeof w);
        memcpy(w.pair_id, pair->id, sizeof w.pair_id);
        pb_err e = open_rounds_each(c, any_in_play, &w);
        *in_play = w.n > 0;
        return e;
    }
    if (!s->have_pair || strcmp(s->pair_id, pair->id) != 0 || s->next_nonce != pair->next_nonce) {
        x->stale = true; /* a game may have started on it since: scan again */
        return PB_OK;
    }
    for (size_t i = 0; i < s->n && !*in_play; i++) {
        pb_store_game_round_clear(&x->cand);
        pb_store_rc rc = pb_store_game_round_get(c, s->candidates[i], &x->cand);
        if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
            return PB_ERR_INTERNAL;
        *in_play = rc == PB_STORE_OK && in_play_on(&x->cand, pair->id);
    }
    pb_store_game_round_clear(&x->cand);
    if (!*in_play && s->overflow)
        x->stale = true; /* some games were not kept: the writer's scan decides */
    return PB_OK;
}

static pb_err seeds_cmd(pb_ledger_tx *tx, void *v)
{
    seeds_ctx *x = v;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    x->stale = false;
    x->result = PB_OK;
    if (!x->rotate)
        return play_pair_ensure(c, x->who->brand_id, x->who->brand, x->who->player, now, x->next);
    pb_store_rc rc = pair_active(c, x->who->player, x->revealed);
    bool fresh = rc == PB_STORE_NOT_FOUND; /* made here: no game was ever drawn from it */
    pb_err e = PB_OK;
    if (fresh) {
        pair_new(x->revealed, x->who->brand_id, x->who->brand, x->who->player, NULL, now);
        e = pair_insert(c, x->revealed);
    } else if (rc != PB_STORE_OK) {
        e = PB_ERR_INTERNAL;
    }
    if (e != PB_OK)
        return e;
    bool in_play = false;
    if (!fresh && (e = pair_in_play(x, c, x->revealed, &in_play)) != PB_OK)
        return e;
    if (x->stale || in_play) {
        if (in_play)
            x->result = PB_ERR_ROUND_STATE; /* a mines game on this pair: finish it first */
        /* nothing written (a fresh pair is not made stale: it has no games) */
        memset(x->revealed, 0, sizeof *x->revealed); /* its server seed stays here */
        return PB_OK;
    }
    if (pb_store_seed_pair_retire(c, x->revealed->id, now, x->revealed->server_seed) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    x->revealed->active = false;
    x->revealed->revealed_at = now;
    pair_new(x->next, x->who->brand_id, x->who->brand, x->who->player, x->client_seed, now);
    return pair_insert(c, x->next);
}

pb_err pb_play_seeds_get(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                         pb_store_seed_pair *out)
{
    pb_store_rc rc = pair_active(c, who->player, out);
    if (rc == PB_STORE_OK)
        return PB_OK;
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_STORE_UNAVAILABLE;
    seeds_ctx x = {.who = who, .next = out};
    return pb_ledger_command(p->l, seeds_cmd, &x);
}

pb_err pb_play_seeds_rotate(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                            const char *client_seed, pb_store_seed_pair *revealed,
                            pb_store_seed_pair *next)
{
    if (client_seed && !pb_fair_client_seed_valid(client_seed))
        return PB_ERR_FIELD_INVALID;
    pair_snapshot snap;
    seeds_ctx x = {
        .who = who, .client_seed = client_seed, .rotate = true, .revealed = revealed, .next = next};
    for (int attempt = 0;; attempt++) {
        /* the scan off the writer; the last try (or a failed scan) scans in the writer */
        x.snap = NULL;
        if (attempt < ROTATE_SCANS && pair_scan(c, who->player, &snap) == PB_OK)
            x.snap = &snap;
        pb_err e = pb_ledger_command(p->l, seeds_cmd, &x);
        if (e != PB_OK)
            return e;
        if (!x.stale) /* only a snapshot goes stale: the writer's own scan ends the loop */
            return x.result;
    }
}
