/*
 * play_retry.c — the retry pass over unfinished rounds while running
 * (play_retry_unfinished, run by the sweeper: play_sweep.c) and the reads it
 * rests on: the wallet's stored, final refusals of a round's win
 * (play_win_refused) and of a void round's stake back or round close
 * (play_void_refused), and the set of rounds found stuck (counted in
 * rounds_stuck, logged once). The driver it calls (play_drive_refused) is
 * play.c's; the file map is in play_internal.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "games/play_internal.h"
#include "store/store_wallet.h"

/* The stored answer of the wallet to operation "<id>:<suffix>" of the in-house
 * provider into out: its result when it is a refusal ("" when none stored, or
 * OK). With `want` (the request the driver sends under that id), a stored
 * operation that is another request (its kind, player, round or bet differ)
 * is IDEMPOTENCY_CONFLICT: the id is taken for good, so the wallet answers
 * every retry of the driver's request that way (not stored, but final all the
 * same: nothing can free the id). */
static pb_err stored_refusal(pb_store_conn *c, const char *id, const char *suffix,
                             const pb_wallet_op *want, char *out, size_t cap)
{
    char tx[PB_ID_STR_LEN + 8];
    snprintf(tx, sizeof tx, "%s:%s", id, suffix);
    out[0] = '\0';
    pb_store_wallet_op op;
    memset(&op, 0, sizeof op);
    pb_store_rc rc = pb_store_wallet_op_get(c, PB_PLAY_PROVIDER, tx, &op);
    if (rc == PB_STORE_NOT_FOUND)
        return PB_OK;
    if (rc != PB_STORE_OK)
        return PB_ERR_INTERNAL;
    if (want &&
        (op.kind != (int)want->kind || strcmp(op.player, want->player) != 0 ||
         strcmp(op.round_id, want->round_id) != 0 || strcmp(op.bet_tx_id, want->bet_tx_id) != 0))
        snprintf(out, cap, "%s", pb_err_code(PB_ERR_IDEMPOTENCY_CONFLICT));
    else if (strcmp(op.result, "OK") != 0)
        snprintf(out, cap, "%s", op.result);
    free(op.response);
    return PB_OK;
}

pb_err play_void_refused(pb_store_conn *c, const pb_store_game_round *r, char *out, size_t cap,
                         bool *close)
{
    *close = false;
    pb_wallet_op *want = malloc(sizeof *want); /* large: not on the stack */
    if (!want)
        return PB_ERR_INTERNAL;
    play_wallet_void_op(want, r, NULL);
    pb_err e = stored_refusal(c, r->id, "void", want, out, cap);
    /* its bet rolled back before: the driver counts the stake as back (play_drive) */
    if (e == PB_OK && strcmp(out, pb_err_code(PB_ERR_TRANSACTION_ROLLED_BACK)) == 0)
        out[0] = '\0';
    if (e == PB_OK && !out[0]) {
        *close = true;
        play_wallet_close_op(want, r, NULL);
        e = stored_refusal(c, r->id, "close", want, out, cap);
    }
    free(want);
    return e;
}

pb_err play_win_refused(pb_store_conn *c, const char *id, char *out, size_t cap)
{
    return stored_refusal(c, id, "win", NULL, out, cap);
}

/* The rounds found stuck by a pass (their ids), against those the last
 * complete pass found (p->stuck_ids): a new one is logged once at error level. */
typedef struct stuck_set {
    char (*ids)[PB_ID_STR_LEN + 1];
    size_t n, cap;
} stuck_set;

static bool stuck_known(const pb_play *p, const char *id)
{
    for (size_t i = 0; i < p->stuck_n; i++)
        if (strcmp(p->stuck_ids[i], id) == 0)
            return true;
    return false;
}

/* Round r whose next step the wallet refused for good (`why`, its stored
 * answer): settling, its win; voiding, its stake's rollback (or, `close`, its
 * wallet round's close). Counted, and logged when no earlier pass found it.
 * Out of memory: counted, logged again later. */
static void stuck_found(pb_play *p, stuck_set *s, const pb_store_game_round *r, const char *why,
                        bool close)
{
    if (stuck_known(p, r->id)) {
        /* logged by an earlier pass */
    } else if (strcmp(r->state, PLAY_VOIDING) == 0) {
        pb_log(PB_LOG_ERROR, "games.round_stuck",
               "round %s (%s) of %s: stuck voiding (%s), the wallet refused %s for good (%s): "
               "no retry and no staff action in pitboss can end it; an operator must resolve "
               "it (README, \"Stuck settling\")",
               r->id, r->game, r->player, r->void_reason,
               close ? "the close of its wallet round" : "to give its stake back", why);
    } else {
        pb_log(PB_LOG_ERROR, "games.round_stuck",
               "round %s (%s) of %s: stuck settling, the wallet refused its win %" PRId64
               " %s for good (%s): no retry can pay it; void it (POST "
               "/v1/admin/players/{id}/rounds/{round}/void gives the stake back)",
               r->id, r->game, r->player, r->payout, r->currency, why);
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        void *m = realloc(s->ids, cap * sizeof *s->ids);
        if (!m) {
            s->n++; /* counted; its id not kept */
            return;
        }
        s->ids = m;
        s->cap = cap;
    }
    if (s->n < s->cap)
        snprintf(s->ids[s->n], sizeof s->ids[s->n], "%s", r->id);
    s->n++;
}

void play_retry_unfinished(pb_play *p, pb_store_conn *c, int64_t touched_before,
                           int64_t abandoned_before, size_t *driven, size_t *failed,
                           size_t *abandoned)
{
    *driven = *failed = *abandoned = 0;
    pb_store_game_round *rows = calloc(64, sizeof *rows);
    if (!rows) {
        (*failed)++;
        return;
    }
    int64_t after = 0;
    size_t n = 64;
    stuck_set found = {0};
    bool complete = true; /* every round seen: the stuck count is the whole */
    while (n == 64) {
        if (pb_store_game_round_open(c, after, rows, 64, &n) != PB_STORE_OK) {
            (*failed)++; /* the list itself: the next pass reads it again */
            complete = false;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            after = rows[i].seq;
            pb_store_game_round *r = &rows[i];
            bool stuck = (strcmp(r->state, PLAY_PENDING) == 0 ||
                          strcmp(r->state, PLAY_SETTLING) == 0 ||
                          strcmp(r->state, PLAY_VOIDING) == 0) &&
                         r->updated_at < touched_before;
            bool idle = strcmp(r->state, PLAY_ACTIVE) == 0 && strcmp(r->game, "mines") == 0 &&
                        r->updated_at < abandoned_before;
            if (idle) {
                bool settled = false;
                pb_err e = play_mines_abandon(p, c, r->id, abandoned_before, &settled);
                if (e == PB_OK && settled)
                    (*abandoned)++;
                else if (e != PB_OK)
                    (*failed)++;
            }
            char why[PB_STORE_WALLET_RESULT_MAX + 1] = "";
            if (strcmp(r->state, PLAY_SETTLING) == 0) {
                /* its win refused for good: not driven (a retry is answered the
                 * stored refusal again), whatever its age */
                if (play_win_refused(c, r->id, why, sizeof why) != PB_OK) {
                    (*failed)++; /* the read: the next pass reads it again */
                    complete = false;
                    stuck = false;
                } else if (why[0]) {
                    stuck_found(p, &found, r, why, false);
                    stuck = false;
                }
            } else if (strcmp(r->state, PLAY_VOIDING) == 0) {
                /* its stake's rollback (or its round's close) refused for good:
                 * the same, no retry can give the stake back */
                bool close = false;
                if (play_void_refused(c, r, why, sizeof why, &close) != PB_OK) {
                    (*failed)++;
                    complete = false;
                    stuck = false;
                } else if (why[0]) {
                    stuck_found(p, &found, r, why, close);
                    stuck = false;
                }
            }
            if (stuck) {
                char id[PB_ID_STR_LEN + 1], was[sizeof r->state];
                snprintf(id, sizeof id, "%s", r->id);
                snprintf(was, sizeof was, "%s", r->state);
                pb_err refused = PB_OK;
                pb_err e = play_drive_refused(p, c, r, NULL, &refused);
                bool close = false;
                if (refused != PB_OK && strcmp(r->state, PLAY_SETTLING) == 0) {
                    /* refused now, by this pass's own try (logged
                     * games.win_refused): stuck from here on */
                    stuck_found(p, &found, r, pb_err_code(refused), false);
                } else if (refused != PB_OK && strcmp(r->state, PLAY_VOIDING) == 0 &&
                           play_void_refused(c, r, why, sizeof why, &close) == PB_OK && why[0]) {
                    /* refused now for good (logged games.void_refused or
                     * games.void_close_refused; stored): stuck from here on. A
                     * refusal the wallet does not store (it may resolve) is a
                     * failure, tried again. */
                    stuck_found(p, &found, r, why, close);
                } else if (e == PB_OK || !pb_err_transient(e)) {
                    (*driven)++;
                    pb_log(PB_LOG_INFO, "games.round_retried", "round %s (%s, was %s): %s", id,
                           r->game, was, e == PB_OK ? r->state : pb_err_code(e));
                } else {
                    (*failed)++;
                }
            }
            pb_store_game_round_clear(r);
        }
    }
    free(rows);
    if (complete && found.n <= found.cap) {
        /* the rounds stuck now: those no longer found (voided) are forgotten */
        free(p->stuck_ids);
        p->stuck_ids = found.ids;
        p->stuck_n = found.n;
        atomic_store(&p->stuck, found.n);
    } else {
        /* a partial pass (or ids not kept): the gauge and the known ids stay,
         * those found added (no log for them again) */
        for (size_t i = 0; i < found.n && i < found.cap; i++)
            if (!stuck_known(p, found.ids[i])) {
                void *m = realloc(p->stuck_ids, (p->stuck_n + 1) * sizeof *p->stuck_ids);
                if (!m)
                    break;
                p->stuck_ids = m;
                snprintf(p->stuck_ids[p->stuck_n++], sizeof *p->stuck_ids, "%s", found.ids[i]);
            }
        if (complete)
            atomic_store(&p->stuck, found.n);
        free(found.ids);
    }
    atomic_fetch_add(&p->retried, *driven);
    atomic_fetch_add(&p->abandoned, *abandoned);
    atomic_fetch_add(&p->retry_failed, *failed);
    atomic_store(&p->retry_waiting, *failed);
}
