/*
 * play.c — the money side's handle, the round driver and start-up (see play.h
 * for the rules and play_internal.h for the file map; players' seed pairs are
 * play_seeds.c's, the retry pass over unfinished rounds while running and its
 * stuck / refusal reads play_retry.c's).
 *
 * The driver moves one round through its life, one idempotent step at a time:
 *
 *   pending  ──wallet bet "<id>:bet"──► decide (ledger command) ──► active | settling | voiding
 *      │ refused: the round is deleted (a refused bet leaves nothing)
 *   settling ──wallet win "<id>:win" (closes the wallet round)──► settled (ledger command)
 *   voiding  ──wallet rollback "<id>:void" of "<id>:bet"
 *            ──wallet round close "<id>:close"──► void + audit entry (ledger command)
 *
 * voiding: a crash bet whose acceptance came after its round started never
 * played (play.h, "Void"); its stake goes back, exactly its cash / bonus split,
 * and its wallet round is closed as a settlement's win closes it. The move to
 * void and its audit entry (a system decision that gave money back) commit
 * together, so the entry is written once however often the void is retried.
 *
 * A step that finds the round already moved on by someone else (a concurrent
 * retry, the crash scheduler) just reads where it is and goes on from there.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/log.h"
#include "core/time.h"
#include "games/play_internal.h"

/* ---- small shared helpers ---- */

pb_err play_fail(pb_play_error *err, pb_err code, const char *field, const char *message)
{
    if (err) {
        err->code = code;
        snprintf(err->field, sizeof err->field, "%s", field ? field : "");
        snprintf(err->message, sizeof err->message, "%s", message ? message : "");
    }
    return code;
}

void play_new_id(char out[PB_ID_STR_LEN + 1])
{
    pb_id id;
    pb_id_new(&id);
    pb_id_to_string(&id, out);
}

char *play_json_text(json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(v);
    return s;
}

void play_request_hash(const char *game, int64_t amount, const char *params_text, uint8_t out[32])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    char head[96];
    int n = snprintf(head, sizeof head, "v1\x1f%s\x1f%" PRId64 "\x1f", game, amount);
    crypto_hash_sha256_update(&h, (const unsigned char *)head, (unsigned long long)n);
    crypto_hash_sha256_update(&h, (const unsigned char *)params_text, strlen(params_text));
    crypto_hash_sha256_final(&h, out);
}

pb_err play_rtp_in_force(pb_store_conn *c, int64_t brand_id, pb_game_kind kind, uint32_t *rtp_bp)
{
    bool configured;
    return pb_play_rtp_get(c, brand_id, kind, rtp_bp, &configured);
}

pb_err play_round_params(const pb_store_game_round *r, pb_game_params *out)
{
    pb_game_kind kind = pb_game_parse(r->game);
    json_error_t je;
    json_t *j = r->params ? json_loads(r->params, 0, &je) : NULL;
    pb_game_error ge;
    pb_err e = kind == PB_GAME_NONE || !j
                   ? PB_ERR_FIELD_INVALID
                   : pb_game_params_from_json(kind, j, pb_currency_find(r->currency), out, &ge);
    json_decref(j);
    return e;
}

/* ---- recording a round ---- */

typedef struct record_ctx {
    pb_store_game_round *r;
    pb_store_game_round existing;
    bool found;
    pb_err result;
} record_ctx;

static pb_err record_cmd(pb_ledger_tx *tx, void *v)
{
    record_ctx *x = v;
    pb_store_conn *c = pb_ledger_tx_conn(tx);
    int64_t now = pb_ledger_tx_now(tx);
    x->result = PB_OK;
    x->found = false;
    pb_store_game_round_clear(&x->existing);
    pb_store_rc rc = pb_store_game_round_by_key(c, x->r->player, x->r->idempotency_key,
                                                &x->existing);
    if (rc == PB_STORE_OK) {
        if (sodium_memcmp(x->existing.request_hash, x->r->request_hash, 32) != 0)
            x->result = PB_ERR_IDEMPOTENCY_CONFLICT;
        else
            x->found = true;
        return PB_OK;
    }
    if (rc != PB_STORE_NOT_FOUND)
        return PB_ERR_INTERNAL;
    if (strcmp(x->r->game, "crash") == 0) {
        pb_store_crash_round cr;
        rc = pb_store_crash_round_latest(c, x->r->brand_id, &cr);
        if (rc != PB_STORE_OK && rc != PB_STORE_NOT_FOUND)
            return PB_ERR_INTERNAL;
        if (rc == PB_STORE_NOT_FOUND || strcmp(cr.state, "betting") != 0 ||
            now >= cr.betting_ends_at) {
            x->result = PB_ERR_ROUND_CLOSED;
            return PB_OK;
        }
        snprintf(x->r->crash_round, sizeof x->r->crash_round, "%s", cr.id);
    }
    snprintf(x->r->state, sizeof x->r->state, PLAY_PENDING);
    x->r->created_at = x->r->updated_at = now;
    x->r->settled_at = 0;
    return pb_store_game_round_insert(c, x->r) == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
}

pb_err play_round_record(pb_play *p, pb_store_game_round *r, bool *existing)
{
    record_ctx x = {.r = r};
    pb_err e = pb_ledger_command(p->l, record_cmd, &x);
    *existing = false;
    if (e == PB_OK)
        e = x.result;
    if (e == PB_OK && x.found) {
        *existing = true;
        pb_store_game_round_clear(r);
        *r = x.existing;
        memset(&x.existing, 0, sizeof x.existing);
    }
    pb_store_game_round_clear(&x.existing);
    return e;
}

/* ---- steps: a ledger command on one round ---- */

typedef struct step_ctx {
    const char *id, *player;
    play_step_fn fn;
    void *fn_ctx;
    pb_store_game_round row;
    pb_err result;
} step_ctx;

static pb_err step_cmd(pb_ledger_tx *tx, void *v)
{
    step_ctx *x = v;
    x->result = PB_OK;
    pb_store_game_round_clear(&x->row);
    pb_store_rc rc = pb_store_game_round_get(pb_ledger_tx_conn(tx), x->id, &x->row);
    if (rc == PB_STORE_NOT_FOUND ||
        (rc == PB_STORE_OK && x->player && strcmp(x->row.player, x->player) != 0)) {
        x->result = PB_ERR_ROUND_NOT_FOUND;
        return PB_OK;
    }
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    return x->fn(tx, &x->row, x->fn_ctx, &x->result);
}

pb_err play_step(pb_play *p, const char *id, const char *player, play_step_fn fn, void *ctx,
                 pb_store_game_round *out)
{
    step_ctx x = {.id = id, .player = player, .fn = fn, .fn_ctx = ctx};
    pb_err e = pb_ledger_command(p->l, step_cmd, &x);
    if (e == PB_OK)
        e = x.result;
    if (out && x.row.id[0]) {
        pb_store_game_round_clear(out);
        *out = x.row;
    } else {
        pb_store_game_round_clear(&x.row);
    }
    return e;
}

/* decide: pending → active | settling, by the game's rules */
static pb_err decide_step(pb_ledger_tx *tx, pb_store_game_round *row, void *ctx, pb_err *result)
{
    pb_play *p = ctx;
    if (strcmp(row->state, PLAY_PENDING) != 0)
        return PB_OK; /* decided already: go on from where it is */
    if (strcmp(row->game, "crash") == 0)
        return play_decide_crash(p, tx, row, result);
    return play_decide_seeded(tx, row, result);
}

/* settled: settling → settled */
static pb_err settle_step(pb_ledger_tx *tx, pb_store_game_round *row, void *ctx, pb_err *result)
{
    (void)ctx;
    (void)result;
    if (strcmp(row->state, PLAY_SETTLING) != 0)
        return PB_OK;
    int64_t now = pb_ledger_tx_now(tx);
    snprintf(row->state, sizeof row->state, PLAY_SETTLED);
    row->updated_at = row->settled_at = now;
    pb_store_rc rc = pb_store_game_round_update(pb_ledger_tx_conn(tx), row, PLAY_SETTLING);
    return rc == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
}

/* What the void step records: the stake the wallet gave back (its rollback's
 * outcome, the same on a duplicate) and the caller's trace. */
typedef struct void_ctx {
    int64_t cash_part, bonus_part;
    const char *trace_id;
    bool moved; /* out: this step made it void (not a concurrent driver) */
} void_ctx;

/* The audit entry of a void: a system decision (actor "system", the in-house
 * games' provider) that gave the stake back, naming the round (the bet's round
 * id is the target; its crash round, stake and split and the reason in after). */
static pb_err void_audit(pb_ledger_tx *tx, const pb_store_game_round *row, const void_ctx *x)
{
    char txv[PB_ID_STR_LEN + 8], txc[PB_ID_STR_LEN + 8];
    snprintf(txv, sizeof txv, "%s:void", row->id);
    snprintf(txc, sizeof txc, "%s:close", row->id);
    json_t *after = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:s,s:s}", "state", PLAY_VOID,
                              "void_reason", row->void_reason, "game", row->game, "crash_round",
                              row->crash_round, "player", row->player, "amount",
                              (json_int_t)row->amount, "currency", row->currency, "refunded_cash",
                              (json_int_t)x->cash_part, "refunded_bonus", (json_int_t)x->bonus_part,
                              "wallet_rollback", txv, "wallet_close", txc);
    char *after_text = play_json_text(after);
    char before[64];
    snprintf(before, sizeof before, "{\"state\":\"%s\"}", PLAY_VOIDING);
    const char *why = strcmp(row->void_reason, PB_PLAY_VOID_CRASHED) == 0
                          ? "crash bet accepted only after its round crashed: it never played, "
                            "its stake is given back"
                          : "crash bet accepted only after its round started: it never played, "
                            "its stake is given back";
    pb_audit_entry en = {.actor_kind = "system",
                         .actor_id = PB_PLAY_AUDIT_ACTOR,
                         .brand = row->brand,
                         .action = PB_PLAY_AUDIT_VOID,
                         .target_kind = "game_round",
                         .target_id = row->id,
                         .before = before,
                         .after = after_text,
                         .reason = why,
                         .trace_id = x->trace_id && x->trace_id[0] ? x->trace_id : NULL};
    pb_err e = after_text ? pb_audit_append(pb_ledger_tx_conn(tx), &en, pb_ledger_tx_now(tx))
                          : PB_ERR_INTERNAL;
    free(after_text);
    if (e != PB_OK)
        pb_log(PB_LOG_ERROR, "games.void_audit", "round %s: the audit entry failed: %s", row->id,
               pb_err_code(e));
    return e == PB_OK ? PB_OK : PB_ERR_INTERNAL;
}

/* void: voiding → void (the stake given back, the wallet round closed), with
 * its audit entry in the same transaction */
static pb_err void_step(pb_ledger_tx *tx, pb_store_game_round *row, void *ctx, pb_err *result)
{
    void_ctx *x = ctx;
    (void)result;
    x->moved = false;
    if (strcmp(row->state, PLAY_VOIDING) != 0)
        return PB_OK;
    int64_t now = pb_ledger_tx_now(tx);
    snprintf(row->state, sizeof row->state, PLAY_VOID);
    row->updated_at = now;
    row->has_multiplier = false; /* void pays nothing: no cash-out kept (staff_void_step) */
    row->multiplier = 0;
    if (!row->settled_at) /* set: a void from before 0035 finished late (its time kept) */
        row->settled_at = now;
    pb_store_rc rc = pb_store_game_round_update(pb_ledger_tx_conn(tx), row, PLAY_VOIDING);
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    /* a staff void was audited when staff decided it (staff_void_step) */
    pb_err e = strcmp(row->void_reason, PB_PLAY_VOID_STAFF) == 0 ? PB_OK : void_audit(tx, row, x);
    x->moved = e == PB_OK;
    return e;
}

/* a refused bet: the pending round goes */
static pb_err forget_step(pb_ledger_tx *tx, pb_store_game_round *row, void *ctx, pb_err *result)
{
    (void)ctx;
    (void)result;
    if (strcmp(row->state, PLAY_PENDING) != 0)
        return PB_OK;
    pb_store_rc rc = pb_store_game_round_delete_pending(pb_ledger_tx_conn(tx), row->id);
    return rc == PB_STORE_OK ? PB_OK : PB_ERR_INTERNAL;
}

/* ---- the wallet's game money ---- */

static bool transient(pb_err e) { return pb_err_transient(e); }

static int render(void *ctx, const pb_wallet_op *op, const pb_wallet_outcome *o,
                  pb_wallet_response *out)
{
    (void)ctx;
    (void)op;
    (void)o;
    out->status = 200;
    out->body = strdup("{}");
    out->body_len = 2;
    return out->body ? 0 : -1;
}

void play_wallet_op(pb_wallet_op *op, const pb_store_game_round *r, bool win, const char *trace_id)
{
    memset(op, 0, sizeof *op);
    op->kind = win ? PB_WALLET_WIN : PB_WALLET_BET;
    snprintf(op->provider, sizeof op->provider, PB_PLAY_PROVIDER);
    snprintf(op->tx_id, sizeof op->tx_id, "%s:%s", r->id, win ? "win" : "bet");
    snprintf(op->round_id, sizeof op->round_id, "%s", r->id);
    if (win)
        snprintf(op->bet_tx_id, sizeof op->bet_tx_id, "%s:bet", r->id);
    snprintf(op->game, sizeof op->game, "%s", r->game);
    snprintf(op->brand, sizeof op->brand, "%s", r->brand);
    snprintf(op->player, sizeof op->player, "%s", r->player);
    snprintf(op->currency, sizeof op->currency, "%s", r->currency);
    op->amount = win ? r->payout : r->amount;
    op->close_round = win;
    snprintf(op->trace_id, sizeof op->trace_id, "%s", trace_id ? trace_id : "");
    op->render = render;
}

void play_wallet_void_op(pb_wallet_op *op, const pb_store_game_round *r, const char *trace_id)
{
    memset(op, 0, sizeof *op);
    op->kind = PB_WALLET_ROLLBACK;
    snprintf(op->provider, sizeof op->provider, PB_PLAY_PROVIDER);
    snprintf(op->tx_id, sizeof op->tx_id, "%s:void", r->id);
    snprintf(op->round_id, sizeof op->round_id, "%s", r->id);
    snprintf(op->bet_tx_id, sizeof op->bet_tx_id, "%s:bet", r->id);
    /* a rollback names no game (its rows take the bet's) and no amount: the bet's */
    snprintf(op->brand, sizeof op->brand, "%s", r->brand);
    snprintf(op->player, sizeof op->player, "%s", r->player);
    snprintf(op->currency, sizeof op->currency, "%s", r->currency);
    snprintf(op->trace_id, sizeof op->trace_id, "%s", trace_id ? trace_id : "");
    op->render = render;
}

void play_wallet_close_op(pb_wallet_op *op, const pb_store_game_round *r, const char *trace_id)
{
    memset(op, 0, sizeof *op);
    op->kind = PB_WALLET_ROUND_CLOSE;
    snprintf(op->provider, sizeof op->provider, PB_PLAY_PROVIDER);
    snprintf(op->tx_id, sizeof op->tx_id, "%s:close", r->id);
    snprintf(op->round_id, sizeof op->round_id, "%s", r->id);
    snprintf(op->game, sizeof op->game, "%s", r->game); /* the round row's game */
    snprintf(op->brand, sizeof op->brand, "%s", r->brand);
    snprintf(op->player, sizeof op->player, "%s", r->player);
    snprintf(op->currency, sizeof op->currency, "%s", r->currency);
    snprintf(op->trace_id, sizeof op->trace_id, "%s", trace_id ? trace_id : "");
    op->render = render;
}

typedef enum { MOVE_BET, MOVE_WIN, MOVE_VOID, MOVE_CLOSE } wallet_kind;

/* Stakes, pays, gives back (void) or closes round r through the wallet;
 * *moved (may be NULL) receives the operation's cash and bonus parts (a
 * duplicate's as stored). Returns the wallet's result. */
static pb_err wallet_move(pb_play *p, pb_store_conn *c, const pb_store_game_round *r,
                          wallet_kind kind, const char *trace_id, int64_t moved[2])
{
    pb_wallet_op *op = malloc(sizeof *op);
    if (!op)
        return PB_ERR_INTERNAL;
    if (kind == MOVE_VOID)
        play_wallet_void_op(op, r, trace_id);
    else if (kind == MOVE_CLOSE)
        play_wallet_close_op(op, r, trace_id);
    else
        play_wallet_op(op, r, kind == MOVE_WIN, trace_id);
    pb_err e = pb_wallet_game_submit(p->w, c, op);
    if (moved) {
        moved[0] = op->outcome.cash_part;
        moved[1] = op->outcome.bonus_part;
    }
    pb_wallet_op_release(op);
    free(op);
    return e;
}

/* A wallet refusal of a step that cannot be refused (a win, a void's rollback
 * or close): logged, kept in *refused (may be NULL) and INTERNAL (the round
 * stays; a retry goes on). */
static pb_err must_pass(pb_err e, const char *event, const char *id, pb_err *refused)
{
    if (e == PB_OK || transient(e))
        return e;
    pb_log(PB_LOG_ERROR, event, "round %s: the wallet said %s", id, pb_err_code(e));
    if (refused)
        *refused = e;
    return PB_ERR_INTERNAL;
}

pb_err play_drive(pb_play *p, pb_store_conn *c, pb_store_game_round *r, const char *trace_id)
{
    return play_drive_refused(p, c, r, trace_id, NULL);
}

pb_err play_drive_refused(pb_play *p, pb_store_conn *c, pb_store_game_round *r,
                          const char *trace_id, pb_err *refused)
{
    if (refused)
        *refused = PB_OK;
    char id[PB_ID_STR_LEN + 1];
    snprintf(id, sizeof id, "%s", r->id);
    for (int guard = 0; guard < 8; guard++) {
        pb_err e;
        if (strcmp(r->state, PLAY_PENDING) == 0) {
            e = wallet_move(p, c, r, MOVE_BET, trace_id, NULL);
            if (e == PB_OK) {
                e = play_step(p, id, NULL, decide_step, p, r);
            } else if (!transient(e)) {
                pb_err f = play_step(p, id, NULL, forget_step, NULL, NULL);
                if (f != PB_OK && f != PB_ERR_ROUND_NOT_FOUND)
                    return f;
                return e;
            }
        } else if (strcmp(r->state, PLAY_SETTLING) == 0) {
            e = must_pass(wallet_move(p, c, r, MOVE_WIN, trace_id, NULL), "games.win_refused", id,
                          refused);
            if (e == PB_OK)
                e = play_step(p, id, NULL, settle_step, NULL, r);
        } else if (strcmp(r->state, PLAY_VOIDING) == 0) {
            /* never in play: the stake back, keyed "<id>:void", then its wallet
             * round closed, keyed "<id>:close" (a retry of either is a duplicate:
             * nothing moves twice), then void with its audit entry */
            int64_t back[2] = {0, 0};
            e = wallet_move(p, c, r, MOVE_VOID, trace_id, back);
            if (e == PB_ERR_TRANSACTION_ROLLED_BACK) {
                /* its bet "<id>:bet" was rolled back by another rollback (a
                 * ledger transfer that gave the stake back already, e.g. one
                 * sent as the in-house provider before a refused win): nothing
                 * is owed back twice; the round is closed and void as any void */
                pb_log(PB_LOG_WARN, "games.void_already_back",
                       "round %s: its bet was rolled back before: the stake is back already", id);
                e = PB_OK;
                back[0] = back[1] = 0;
            }
            e = must_pass(e, "games.void_refused", id, refused);
            if (e == PB_OK)
                e = must_pass(wallet_move(p, c, r, MOVE_CLOSE, trace_id, NULL),
                              "games.void_close_refused", id, refused);
            void_ctx vx = {.cash_part = back[0], .bonus_part = back[1], .trace_id = trace_id};
            if (e == PB_OK)
                e = play_step(p, id, NULL, void_step, &vx, r);
            if (e == PB_OK && vx.moved)
                pb_log(PB_LOG_WARN, "games.bet_void",
                       "round %s (%s, crash round %s): void (%s), stake %" PRId64 " %s given back",
                       id, r->game, r->crash_round[0] ? r->crash_round : "-", r->void_reason,
                       r->amount, r->currency);
        } else {
            return PB_OK; /* active, settled or void: resting */
        }
        if (e != PB_OK)
            return e;
    }
    pb_log(PB_LOG_ERROR, "games.drive_loop", "round %s did not come to rest", id);
    return PB_ERR_INTERNAL;
}

void pb_play_stats_get(pb_play *p, pb_play_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!p)
        return;
    out->rounds_retried = atomic_load(&p->retried);
    out->retry_failures = atomic_load(&p->retry_failed);
    out->rounds_waiting = atomic_load(&p->retry_waiting);
    out->mines_abandoned = atomic_load(&p->abandoned);
    out->rounds_stuck = atomic_load(&p->stuck);
}

/* ---- start-up: unfinished rounds, the catalog ---- */

/* Drives every round that is not settled (and not resting active); removes the
 * mines an older version stored in the clear for games in play (play_bet.c). */
static void recover(pb_play *p)
{
    char err[256];
    pb_store_conn *c = pb_store_connect(p->store, err, sizeof err);
    pb_store_game_round *rows = calloc(64, sizeof *rows);
    if (!c || !rows) {
        pb_log(PB_LOG_ERROR, "games.recover", "cannot start: %s", c ? "out of memory" : err);
        free(rows);
        if (c)
            pb_store_disconnect(c);
        return;
    }
    int64_t after = 0, abandoned_before = pb_time_now_us() - p->cfg.mines_abandon_s * 1000000;
    size_t n = 64, driven = 0, failed = 0, hidden = 0, abandoned = 0;
    while (n == 64) {
        if (pb_store_game_round_open(c, after, rows, 64, &n) != PB_STORE_OK)
            break;
        for (size_t i = 0; i < n; i++) {
            after = rows[i].seq;
            bool h = false;
            if (strcmp(rows[i].state, PLAY_ACTIVE) != 0) {
                pb_err e = play_drive(p, c, &rows[i], NULL);
                if (e == PB_OK || !transient(e))
                    driven++;
                else
                    failed++;
            } else if (play_mines_hide_stored(p, &rows[i], &h) == PB_OK && h) {
                hidden++;
            }
            bool settled = false;
            if (strcmp(rows[i].state, PLAY_ACTIVE) == 0 && strcmp(rows[i].game, "mines") == 0 &&
                rows[i].updated_at < abandoned_before &&
                play_mines_abandon(p, c, rows[i].id, abandoned_before, &settled) == PB_OK &&
                settled)
                abandoned++;
            pb_store_game_round_clear(&rows[i]);
        }
    }
    if (driven || failed)
        pb_log(PB_LOG_INFO, "games.recover", "%zu unfinished rounds driven on, %zu failed", driven,
               failed);
    atomic_fetch_add(&p->abandoned, abandoned);
    if (abandoned)
        pb_log(PB_LOG_INFO, "games.recover", "%zu abandoned mines game(s) cashed out", abandoned);
    if (hidden)
        pb_log(PB_LOG_INFO, "games.mines_hidden",
               "%zu mines game(s) in play stored their mines in the clear (an older version): "
               "removed, drawn from the sealed seed from now on",
               hidden);
    free(rows);
    pb_store_disconnect(c);
}

pb_play *pb_play_open(pb_wallet *w, pb_store *s, const pb_play_config *cfg, char *err,
                      size_t errcap)
{
    pb_play *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    p->w = w;
    p->l = pb_wallet_ledger(w);
    p->store = s;
    if (cfg)
        p->cfg = *cfg;
    if (p->cfg.seal_key)
        play_seal_set_key(p->cfg.seal_key);
    p->cfg.seal_key = NULL; /* not kept beyond this call */
    if (p->cfg.crash_betting_ms <= 0)
        p->cfg.crash_betting_ms = 5000;
    if (p->cfg.crash_pause_ms <= 0)
        p->cfg.crash_pause_ms = 3000;
    if (!(p->cfg.crash_growth > 0))
        p->cfg.crash_growth = 0.00006;
    if (p->cfg.crash_chain_length <= 0)
        p->cfg.crash_chain_length = 100000;
    if (p->cfg.retry_ms <= 0)
        p->cfg.retry_ms = 5000;
    if (p->cfg.retry_max_ms <= 0)
        p->cfg.retry_max_ms = 60000;
    if (p->cfg.mines_abandon_s <= 0)
        p->cfg.mines_abandon_s = PB_PLAY_MINES_ABANDON_S;
    int64_t sealed = 0;
    if (play_seal_existing(s, &sealed, err, errcap) != 0) {
        free(p);
        return NULL;
    }
    if (sealed)
        pb_log(PB_LOG_INFO, "games.seeds_sealed",
               "%lld seed(s) and crash round hash(es) stored in the clear are now sealed "
               "under fair.key",
               (long long)sealed);
    int rc = play_catalog_ensure(s, true, err, errcap);
    if (rc < 0) {
        free(p);
        return NULL;
    }
    atomic_store(&p->seeded, rc == 0);
    recover(p);
    if ((p->cfg.sweep && play_sweep_start(p, err, errcap) != 0) ||
        (p->cfg.crash && play_crash_start(p, err, errcap) != 0)) {
        pb_play_close(p);
        return NULL;
    }
    return p;
}

void pb_play_stop(pb_play *p)
{
    if (p) {
        play_crash_stop(p);
        play_sweep_stop(p);
    }
}

void pb_play_close(pb_play *p)
{
    if (!p)
        return;
    play_crash_stop(p);
    play_sweep_stop(p);
    play_crash_free(p);
    play_sweep_free(p);
    free(p->stuck_ids);
    free(p);
}
