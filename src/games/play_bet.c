/*
 * play_bet.c — bets on the seeded games: instant rounds (dice, limbo, keno,
 * plinko, roulette, slot, and mines played in one shot with its tiles) and
 * interactive mines (start, reveal, cash out).
 *
 * Placing: the parameters are checked by the rules (games.h) and normalised
 * (the stored params are what the rules print back, so an equal request hashes
 * equal); the idempotency key is looked up first (a retry of the same request
 * is answered from its round, even if the game was switched off since); then
 * the catalog's playable check (game on for the brand, currency, limits); then
 * the round is recorded and driven (play.c).
 *
 * Deciding (inside the ledger writer, play_decide_seeded): the player's active
 * seed pair gives the nonce (next_nonce, then +1), the RTP in force is read,
 * and the rules compute outcome, multiplier and payout. Interactive mines only
 * takes its nonce and rests "active".
 *
 * Mines at rest: while a game is in play its mine positions are stored nowhere.
 * They follow from the round's seed pair and nonce (that is what provably fair
 * means), and the pair's server seed is stored sealed under fair.key (seal.c)
 * and cannot be rotated out while the game is in play (play.c). Each reveal and
 * the cash-out draw them again from the opened seed; the end of the game writes
 * them as its outcome in the clear (public anyway once the seed is revealed).
 * So a copy of the database (a backup, a replica, a support export) gives no
 * game in play away. Games an older version started stored their positions in
 * the outcome from the start: those are played from the stored positions, and
 * at start-up (play_mines_hide_stored) they are removed where the seed gives
 * the same ones.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>

#include "audit/audit.h"
#include "catalog/catalog.h"
#include "core/log.h"
#include "games/play_internal.h"

/* ---- deciding (writer thread) ---- */

/* The outcome JSON of a mines game: its mine positions in draw order. */
static json_t *mines_outcome_json(const pb_game_params *gp, const uint8_t *pos, unsigned mines)
{
    pb_game_outcome o;
    memset(&o, 0, sizeof o);
    o.kind = PB_GAME_MINES;
    o.u.mines.count = (uint8_t)mines;
    memcpy(o.u.mines.positions, pos, mines);
    return pb_game_outcome_json(gp, &o);
}

pb_err play_decide_seeded(pb_ledger_tx *tx, pb_store_game_round *r, pb_err *result)
{
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    pb_game_params gp;
    if (play_round_params(r, &gp) != PB_OK) {
        pb_log(PB_LOG_ERROR, "games.params_damaged", "round %s: stored params do not parse", r->id);
        *result = PB_ERR_INTERNAL;
        return PB_OK;
    }
    uint32_t rtp;
    pb_store_seed_pair pair;
    if (play_rtp_in_force(c, r->brand_id, gp.kind, &rtp) != PB_OK ||
        play_pair_ensure(c, r->brand_id, r->brand, r->player, now, &pair) != PB_OK)
        return PB_ERR_INTERNAL;
    int64_t nonce = pair.next_nonce;
    if (pb_store_seed_pair_set_nonce(c, pair.id, nonce + 1) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    snprintf(r->pair_id, sizeof r->pair_id, "%s", pair.id);
    snprintf(r->commitment, sizeof r->commitment, "%s", pair.commitment);
    snprintf(r->client_seed, sizeof r->client_seed, "%s", pair.client_seed);
    r->has_nonce = true;
    r->nonce = nonce;
    r->rtp_bp = (int32_t)rtp;
    r->updated_at = now;

    free(r->outcome);
    r->outcome = NULL;
    (void)result;
    if (gp.kind == PB_GAME_MINES && !pb_game_params_playable(&gp)) {
        /* in play: its mines are drawn again from the seed at each step, stored nowhere */
        sodium_memzero(pair.server_seed, sizeof pair.server_seed);
        snprintf(r->progress, sizeof r->progress, "[]");
        snprintf(r->state, sizeof r->state, PLAY_ACTIVE);
        return pb_store_game_round_update(c, r, PLAY_PENDING) == PB_STORE_OK ? PB_OK
                                                                             : PB_ERR_INTERNAL;
    }
    pb_fair_key key;
    pb_fair_key_init(&key, pair.server_seed, strlen(pair.server_seed));
    pb_game_input in = {.key = &key, .client_seed = pair.client_seed, .nonce = (uint64_t)nonce};
    pb_game_outcome o;
    int64_t payout = 0;
    pb_err e = pb_game_play(&gp, &in, rtp, &o);
    if (e == PB_OK)
        e = pb_game_payout(&gp, &o, r->amount, &payout);
    if (e != PB_OK) {
        /* checked when the bet was placed (max multiplier × stake fits): damage */
        pb_log(PB_LOG_ERROR, "games.play_failed", "round %s: %s", r->id, pb_err_code(e));
        return PB_ERR_INTERNAL;
    }
    r->outcome = play_json_text(pb_game_outcome_json(&gp, &o));
    r->has_multiplier = r->has_payout = true;
    r->multiplier = o.multiplier;
    r->payout = payout;
    snprintf(r->state, sizeof r->state, PLAY_SETTLING);
    if (!r->outcome)
        return PB_ERR_INTERNAL;
    return pb_store_game_round_update(c, r, PLAY_PENDING) == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
}

/* ---- placing ---- */

/* Names a parameter error "params.<field>". */
static pb_err params_fail(pb_play_error *err, const pb_game_error *ge)
{
    char field[64];
    snprintf(field, sizeof field, "params%s%.48s", ge->field[0] ? "." : "", ge->field);
    return play_fail(err, ge->code, field, ge->message);
}

/* Parses, checks and normalises a bet; fills r's request part. */
static pb_err prepare(const pb_play_player *who, const pb_play_bet *bet, pb_game_kind kind,
                      pb_store_game_round *r, pb_play_error *err)
{
    const pb_currency *cur = pb_currency_find(who->currency);
    pb_game_params gp;
    pb_game_error ge;
    memset(&ge, 0, sizeof ge);
    if (!cur)
        return play_fail(err, PB_ERR_INTERNAL, NULL, NULL);
    if (pb_game_params_from_json(kind, bet->params, cur, &gp, &ge) != PB_OK)
        return params_fail(err, &ge);
    bool interactive = kind == PB_GAME_MINES && !pb_game_params_playable(&gp);
    if (!interactive && !pb_game_params_playable(&gp))
        return play_fail(err, PB_ERR_FIELD_MISSING, "params",
                         "params: the game's choice is missing (picks, bets, tiles)");
    int64_t amount = bet->amount;
    if (kind == PB_GAME_ROULETTE) {
        int64_t total = pb_game_stake_total(&gp);
        if (total <= 0)
            return play_fail(err, PB_ERR_AMOUNT_OUT_OF_RANGE, "params.bets",
                             "params.bets: the stakes overflow");
        if (amount == 0)
            amount = total;
        else if (amount != total)
            return play_fail(err, PB_ERR_FIELD_INVALID, "amount",
                             "amount: must equal the total of the roulette bets");
    }
    if (amount <= 0)
        return play_fail(err, PB_ERR_AMOUNT_INVALID, "amount", NULL);
    /* the largest payout the game could owe must fit, at any RTP it may be set to */
    const pb_game_info *gi = pb_game_info_of(kind);
    int64_t mult = pb_game_max_multiplier(&gp, gi->max_rtp_bp), worst;
    if (kind == PB_GAME_MINES)
        mult = pb_mines_multiplier(gp.u.mines.mines, PB_MINES_TILES - gp.u.mines.mines,
                                   gi->max_rtp_bp);
    if (mult < 0 || pb_game_payout_of(amount, mult, &worst) != 0)
        return play_fail(err, PB_ERR_AMOUNT_OUT_OF_RANGE, "amount",
                         "amount: the largest possible payout would overflow");
    memset(r, 0, sizeof *r);
    play_new_id(r->id);
    r->brand_id = who->brand_id;
    snprintf(r->brand, sizeof r->brand, "%s", who->brand);
    snprintf(r->player, sizeof r->player, "%s", who->player);
    snprintf(r->currency, sizeof r->currency, "%s", who->currency);
    snprintf(r->game, sizeof r->game, "%s", gi->name);
    snprintf(r->idempotency_key, sizeof r->idempotency_key, "%s", bet->idempotency_key);
    r->params = play_json_text(pb_game_params_to_json(&gp, cur));
    if (!r->params)
        return play_fail(err, PB_ERR_INTERNAL, NULL, NULL);
    r->amount = amount;
    play_request_hash(r->game, amount, r->params, r->request_hash);
    return PB_OK;
}

static bool key_valid(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n == 0 || n > PB_PLAY_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
            return false;
    return true;
}

/* The retry of a known request (key seen with the same hash): drives it on. */
static pb_err replay(pb_play *p, pb_store_conn *c, pb_store_game_round *known,
                     const pb_store_game_round *asked, const char *trace, pb_store_game_round *out,
                     pb_play_error *err)
{
    if (memcmp(known->request_hash, asked->request_hash, 32) != 0)
        return play_fail(err, PB_ERR_IDEMPOTENCY_CONFLICT, "idempotency_key", NULL);
    pb_err e = play_drive(p, c, known, trace);
    pb_store_game_round_clear(out);
    *out = *known;
    memset(known, 0, sizeof *known);
    return play_fail(err, e, e == PB_ERR_INSUFFICIENT_FUNDS ? "amount" : NULL, NULL);
}

pb_err play_place(pb_play *p, pb_store_conn *c, pb_store_game_round *r, const char *trace,
                  pb_store_game_round *out, bool *replayed, pb_play_error *err)
{
    *replayed = false;
    pb_store_game_round known;
    memset(&known, 0, sizeof known);
    pb_store_rc rc = pb_store_game_round_by_key(c, r->player, r->idempotency_key, &known);
    if (rc == PB_STORE_OK) {
        *replayed = true;
        pb_err e = replay(p, c, &known, r, trace, out, err);
        pb_store_game_round_clear(&known);
        return e;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return play_fail(err, PB_ERR_STORE_UNAVAILABLE, NULL, NULL);
    pb_err e = pb_catalog_game_playable(c, PB_PLAY_PROVIDER, r->game, r->brand, r->currency,
                                        r->amount, NULL);
    if (e != PB_OK)
        return play_fail(err, e, e == PB_ERR_BET_LIMIT ? "amount" : NULL, NULL);
    bool existing = false;
    e = play_round_record(p, r, &existing);
    if (e != PB_OK)
        return play_fail(err, e, e == PB_ERR_IDEMPOTENCY_CONFLICT ? "idempotency_key" : NULL, NULL);
    *replayed = existing; /* a concurrent request with the same key recorded it first */
    e = play_drive(p, c, r, trace);
    pb_store_game_round_clear(out);
    *out = *r;
    memset(r, 0, sizeof *r);
    return play_fail(err, e, e == PB_ERR_INSUFFICIENT_FUNDS ? "amount" : NULL, NULL);
}

pb_err pb_play_bet_place(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                         const pb_play_bet *bet, pb_store_game_round *out, bool *replayed,
                         pb_play_error *err)
{
    *replayed = false;
    play_fail(err, PB_OK, NULL, NULL);
    pb_game_kind kind = pb_game_parse(bet->game ? bet->game : "");
    const pb_game_info *gi = pb_game_info_of(kind);
    if (!gi || gi->uses_hash_chain)
        return play_fail(err, PB_ERR_GAME_NOT_FOUND, NULL,
                         kind == PB_GAME_CRASH ? "crash bets go to /v1/player/originals/crash/bets"
                                               : NULL);
    if (!key_valid(bet->idempotency_key))
        return play_fail(err, PB_ERR_IDEMPOTENCY_KEY_INVALID, "idempotency_key", NULL);
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_err e = prepare(who, bet, kind, &r, err);
    if (e == PB_OK)
        e = play_place(p, c, &r, bet->trace_id, out, replayed, err);
    pb_store_game_round_clear(&r);
    return e;
}

/* ---- mines: reveals and the cash-out (each a step on the round) ---- */

typedef struct mines_ctx {
    const uint8_t *tiles;
    size_t n;
    bool cashout;
    /* the system's cash-out of an abandoned game (play_mines_abandon): only a
     * game still active and last moved before idle_before; zero reveals allowed */
    bool abandon;
    int64_t idle_before, limit_s;
    bool moved; /* out (abandon): this step ended the game */
} mines_ctx;

/* The revealed tiles of a round's progress text ("[3,7]") into out; count. */
static size_t progress_read(const char *text, uint8_t out[PB_MINES_TILES])
{
    size_t n = 0;
    json_error_t je;
    json_t *a = json_loads(text && *text ? text : "[]", 0, &je);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (n < PB_MINES_TILES && json_is_integer(v))
            out[n++] = (uint8_t)json_integer_value(v);
    }
    json_decref(a);
    return n;
}

static void progress_write(char *text, size_t cap, const uint8_t *tiles, size_t n)
{
    size_t used = (size_t)snprintf(text, cap, "[");
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(text + used, cap - used, "%s%u", i ? "," : "", tiles[i]);
    if (used < cap)
        snprintf(text + used, cap - used, "]");
}

/* The mines an older version stored in a round's outcome while it was in play, in
 * draw order; count (0: none stored). */
static size_t mines_read(const char *outcome, uint8_t out[PB_MINES_MAX])
{
    size_t n = 0;
    json_error_t je;
    json_t *o = outcome ? json_loads(outcome, 0, &je) : NULL;
    json_t *a = json_object_get(o, "result");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (n < PB_MINES_MAX && json_is_integer(v))
            out[n++] = (uint8_t)json_integer_value(v);
    }
    json_decref(o);
    return n;
}

/* The mines of round r (its `mines` mines, in draw order) drawn again from its
 * seed pair's server seed (opened: it is sealed while the pair is active), client
 * seed and nonce, as the decision would have drawn them. INTERNAL (logged) when
 * the pair is not there or its seed does not open. */
static pb_err mines_draw(pb_store_conn *c, const pb_store_game_round *r, unsigned mines,
                         uint8_t out[PB_MINES_MAX])
{
    pb_store_seed_pair pair;
    pb_store_rc rc = r->pair_id[0] && r->has_nonce ? pb_store_seed_pair_get(c, r->pair_id, &pair)
                                                   : PB_STORE_NOT_FOUND;
    if (rc != PB_STORE_OK || mines < PB_MINES_MIN || mines > PB_MINES_MAX ||
        play_seed_open(pair.id, pair.server_seed, sizeof pair.server_seed) != PB_OK) {
        if (rc == PB_STORE_OK)
            sodium_memzero(pair.server_seed, sizeof pair.server_seed);
        pb_log(PB_LOG_ERROR, "games.mines_seed",
               "round %s: the mines cannot be drawn: seed pair %s %s", r->id, r->pair_id,
               rc != PB_STORE_OK ? "not found" : "does not open with this fair.key");
        return PB_ERR_INTERNAL;
    }
    pb_fair_key key;
    pb_fair_stream s;
    pb_fair_key_init(&key, pair.server_seed, strlen(pair.server_seed));
    pb_fair_stream_init(&s, &key, r->client_seed, (uint64_t)r->nonce);
    pb_mines_positions(&s, mines, out);
    sodium_memzero(&s, sizeof s);
    sodium_memzero(&key, sizeof key);
    sodium_memzero(pair.server_seed, sizeof pair.server_seed);
    return PB_OK;
}

/* The mines of an active round: those an older version stored, else drawn from
 * the seed (mines_draw); *n receives their count. */
static pb_err mines_of(pb_store_conn *c, const pb_store_game_round *r, const pb_game_params *gp,
                       uint8_t out[PB_MINES_MAX], size_t *n)
{
    *n = mines_read(r->outcome, out);
    if (*n > 0)
        return PB_OK;
    *n = gp->u.mines.mines;
    return mines_draw(c, r, gp->u.mines.mines, out);
}

/* Ends a mines game: settling with the multiplier and payout, its mines written
 * as its outcome (in the clear from now on). */
static pb_err mines_end(pb_store_game_round *r, const pb_game_params *gp, const uint8_t *mines,
                        size_t nmines, int64_t mult, pb_err *result)
{
    int64_t payout = 0;
    if (pb_game_payout_of(r->amount, mult, &payout) != 0) {
        *result = PB_ERR_OVERFLOW; /* refused when the game started: cannot happen */
        return PB_OK;
    }
    char *outcome = play_json_text(mines_outcome_json(gp, mines, (unsigned)nmines));
    if (!outcome)
        return PB_ERR_INTERNAL;
    free(r->outcome);
    r->outcome = outcome;
    r->has_multiplier = r->has_payout = true;
    r->multiplier = mult;
    r->payout = payout;
    snprintf(r->state, sizeof r->state, PLAY_SETTLING);
    return PB_OK;
}

/* The audit entry of an abandoned game's cash-out: a system decision (actor
 * "system", the in-house games' provider) that ended a player's game and paid
 * it, written with the move to settling (so once, however often it is retried). */
static pb_err abandon_audit(pb_ledger_tx *tx, const pb_store_game_round *r, size_t nrev,
                            int64_t idle_since, int64_t limit_s)
{
    char txw[PB_ID_STR_LEN + 8];
    snprintf(txw, sizeof txw, "%s:win", r->id);
    json_t *after = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:s}", "state",
                              PLAY_SETTLING, "end_reason", PB_PLAY_END_ABANDONED, "game", r->game,
                              "player", r->player, "amount", (json_int_t)r->amount, "currency",
                              r->currency, "revealed", (json_int_t)nrev, "multiplier",
                              (json_int_t)r->multiplier, "payout", (json_int_t)r->payout,
                              "idle_since_us", (json_int_t)idle_since, "abandon_after_s",
                              (json_int_t)limit_s, "wallet_win", txw);
    char *after_text = play_json_text(after);
    char before[64];
    snprintf(before, sizeof before, "{\"state\":\"%s\"}", PLAY_ACTIVE);
    pb_audit_entry en = {.actor_kind = "system",
                         .actor_id = PB_PLAY_AUDIT_ACTOR,
                         .brand = r->brand,
                         .action = PB_PLAY_AUDIT_ABANDONED,
                         .target_kind = "game_round",
                         .target_id = r->id,
                         .before = before,
                         .after = after_text,
                         .reason = "mines game left untouched past the time limit: cashed out "
                                   "at its current value, as the player's own cash-out pays"};
    pb_err e = after_text ? pb_audit_append(pb_ledger_tx_conn(tx), &en, pb_ledger_tx_now(tx))
                          : PB_ERR_INTERNAL;
    free(after_text);
    if (e != PB_OK)
        pb_log(PB_LOG_ERROR, "games.abandon_audit", "round %s: the audit entry failed: %s", r->id,
               pb_err_code(e));
    return e == PB_OK ? PB_OK : PB_ERR_INTERNAL;
}

static pb_err mines_step(pb_ledger_tx *tx, pb_store_game_round *r, void *ctx, pb_err *result)
{
    mines_ctx *x = ctx;
    if (strcmp(r->game, "mines") != 0 || strcmp(r->state, PLAY_PENDING) == 0) {
        *result = PB_ERR_ROUND_NOT_FOUND;
        return PB_OK;
    }
    if (x->abandon && strcmp(r->state, PLAY_ACTIVE) != 0)
        return PB_OK; /* the player ended it first (or another pass did): nothing to do */
    if (strcmp(r->state, PLAY_ACTIVE) != 0) {
        /* over: a cash-out asked again is answered with its round; a lost game is closed
         * (multiplier 0; a cash-out's is > 0 even when its payout floors to 0) */
        bool cashed = r->has_multiplier && r->multiplier > 0;
        if (!(x->cashout && cashed))
            *result = PB_ERR_ROUND_CLOSED;
        return PB_OK;
    }
    uint8_t revealed[PB_MINES_TILES], mines[PB_MINES_MAX];
    size_t nrev = progress_read(r->progress, revealed), nmines = 0;
    pb_game_params gp;
    if (play_round_params(r, &gp) != PB_OK || gp.kind != PB_GAME_MINES) {
        pb_log(PB_LOG_ERROR, "games.params_damaged", "round %s: stored params do not parse", r->id);
        return PB_ERR_INTERNAL;
    }
    if (x->abandon && r->updated_at >= x->idle_before)
        return PB_OK; /* the player moved it since the pass read it: not abandoned */
    if (x->cashout && !x->abandon && nrev == 0) {
        *result = PB_ERR_ROUND_STATE; /* rules: a cash-out before any reveal pays < 1x */
        return PB_OK;
    }
    pb_err e = mines_of(pb_ledger_tx_conn(tx), r, &gp, mines, &nmines);
    if (e != PB_OK)
        return e;
    bool is_mine[PB_MINES_TILES] = {false}, seen[PB_MINES_TILES] = {false};
    for (size_t i = 0; i < nmines; i++)
        is_mine[mines[i] % PB_MINES_TILES] = true;
    for (size_t i = 0; i < nrev; i++)
        seen[revealed[i] % PB_MINES_TILES] = true;
    if (x->cashout) {
        e = mines_end(r, &gp, mines, nmines,
                      pb_mines_multiplier((unsigned)nmines, (unsigned)nrev, (uint32_t)r->rtp_bp),
                      result);
    } else {
        for (size_t i = 0; i < x->n && strcmp(r->state, PLAY_ACTIVE) == 0; i++) {
            uint8_t t = x->tiles[i];
            if (seen[t])
                continue;
            seen[t] = true;
            revealed[nrev++] = t;
            if (is_mine[t])
                e = mines_end(r, &gp, mines, nmines, 0, result);
            else if (nrev == PB_MINES_TILES - nmines) /* the last safe tile: cashed out */
                e = mines_end(r, &gp, mines, nmines,
                              pb_mines_multiplier((unsigned)nmines, (unsigned)nrev,
                                                  (uint32_t)r->rtp_bp),
                              result);
        }
    }
    sodium_memzero(mines, sizeof mines);
    sodium_memzero(is_mine, sizeof is_mine);
    if (e != PB_OK || *result != PB_OK)
        return e;
    int64_t idle_since = r->updated_at;
    progress_write(r->progress, sizeof r->progress, revealed, nrev);
    r->updated_at = pb_ledger_tx_now(tx);
    if (pb_store_game_round_update(pb_ledger_tx_conn(tx), r, PLAY_ACTIVE) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (!x->abandon)
        return PB_OK;
    e = abandon_audit(tx, r, nrev, idle_since, x->limit_s);
    x->moved = e == PB_OK;
    return e;
}

/* start-up: the mines an older version stored in the clear for a game in play go
 * from its row when its seed draws the same ones (else they stay: they are what
 * the game is played with, and the mismatch is logged) */
static pb_err hide_step(pb_ledger_tx *tx, pb_store_game_round *r, void *ctx, pb_err *result)
{
    bool *hidden = ctx;
    uint8_t stored[PB_MINES_MAX], drawn[PB_MINES_MAX];
    size_t n = strcmp(r->game, "mines") == 0 && strcmp(r->state, PLAY_ACTIVE) == 0
                   ? mines_read(r->outcome, stored)
                   : 0;
    pb_game_params gp;
    (void)result;
    if (n == 0)
        return PB_OK; /* nothing stored (or the game is over: its outcome is public) */
    if (play_round_params(r, &gp) != PB_OK || gp.kind != PB_GAME_MINES || gp.u.mines.mines != n ||
        mines_draw(pb_ledger_tx_conn(tx), r, gp.u.mines.mines, drawn) != PB_OK ||
        memcmp(stored, drawn, n) != 0) {
        pb_log(PB_LOG_ERROR, "games.mines_stored",
               "round %s: its stored mines are not those its seed draws: left as stored", r->id);
        return PB_OK;
    }
    sodium_memzero(stored, sizeof stored);
    sodium_memzero(drawn, sizeof drawn);
    free(r->outcome);
    r->outcome = NULL;
    r->updated_at = pb_ledger_tx_now(tx);
    if (pb_store_game_round_update(pb_ledger_tx_conn(tx), r, PLAY_ACTIVE) != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    *hidden = true;
    return PB_OK;
}

pb_err play_mines_hide_stored(pb_play *p, const pb_store_game_round *r, bool *hidden)
{
    *hidden = false;
    uint8_t stored[PB_MINES_MAX];
    if (strcmp(r->game, "mines") != 0 || strcmp(r->state, PLAY_ACTIVE) != 0 ||
        mines_read(r->outcome, stored) == 0)
        return PB_OK;
    return play_step(p, r->id, NULL, hide_step, hidden, NULL);
}

static pb_err mines_act(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                        const char *round_id, mines_ctx *x, pb_store_game_round *out,
                        pb_play_error *err)
{
    play_fail(err, PB_OK, NULL, NULL);
    pb_err e = play_step(p, round_id, who->player, mines_step, x, out);
    if (e == PB_OK && strcmp(out->state, PLAY_SETTLING) == 0)
        e = play_drive(p, c, out, NULL);
    return play_fail(err, e, NULL,
                     e == PB_ERR_ROUND_STATE ? "reveal a tile before cashing out" : NULL);
}

pb_err pb_play_mines_reveal(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                            const char *round_id, const uint8_t *tiles, size_t n,
                            pb_store_game_round *out, pb_play_error *err)
{
    if (n == 0 || n > PB_MINES_TILES)
        return play_fail(err, PB_ERR_FIELD_INVALID, "tiles", "tiles: 1..25 tiles");
    for (size_t i = 0; i < n; i++)
        if (tiles[i] >= PB_MINES_TILES)
            return play_fail(err, PB_ERR_FIELD_INVALID, "tiles", "tiles: each 0..24");
    mines_ctx x = {.tiles = tiles, .n = n};
    return mines_act(p, c, who, round_id, &x, out, err);
}

pb_err pb_play_mines_cashout(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                             const char *round_id, pb_store_game_round *out, pb_play_error *err)
{
    mines_ctx x = {.cashout = true};
    return mines_act(p, c, who, round_id, &x, out, err);
}

pb_err play_mines_abandon(pb_play *p, pb_store_conn *c, const char *round_id, int64_t idle_before,
                          bool *settled)
{
    *settled = false;
    mines_ctx x = {.cashout = true,
                   .abandon = true,
                   .idle_before = idle_before,
                   .limit_s = p->cfg.mines_abandon_s};
    pb_store_game_round r;
    memset(&r, 0, sizeof r);
    pb_err e = play_step(p, round_id, NULL, mines_step, &x, &r);
    if (e == PB_OK && x.moved)
        pb_log(PB_LOG_WARN, "games.mines_abandoned",
               "round %s: mines game untouched for %" PRId64 " s or more: cashed out at "
               "%" PRId64 "/10000x, %" PRId64 " %s paid",
               round_id, x.limit_s, r.multiplier, r.payout, r.currency);
    /* settling → settled through the same keyed wallet win "<round>:win" as the
     * player's own cash-out (a concurrent driver's is a duplicate); a transient
     * failure leaves it settling for the retry pass */
    if (e == PB_OK && strcmp(r.state, PLAY_SETTLING) == 0)
        e = play_drive(p, c, &r, NULL);
    *settled = e == PB_OK && x.moved;
    pb_store_game_round_clear(&r);
    return e;
}
