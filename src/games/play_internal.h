/*
 * play_internal.h — what the money side's files share (private to src/games/play*.c):
 * the handle, the round driver and the helpers every command uses.
 *
 *   play.c         the handle, the round driver (wallet bet → decide →
 *                  wallet win → settled), recovery at start-up
 *   play_retry.c   the retry pass over unfinished rounds (play_retry_unfinished)
 *                  and its reads: stuck rounds, the wallet's final refusals
 *                  (play_win_refused, play_void_refused)
 *   play_seeds.c   players' seed pairs: made, read, rotated
 *   play_bet.c     instant bets and mines (placing, deciding, reveals, cash-out)
 *   play_crash.c   crash rounds, the scheduler thread, crash bets
 *   play_crash_chain.c  crash hash chains kept in memory
 *   play_sweep.c   the sweeper thread: the retry pass every retry_ms (stuck
 *                  rounds, abandoned mines), whether crash runs or not
 *   play_admin.c   RTP settings, game control, round lookups, public verify
 *   play_staff.c   staff remedies: void a round, retry a stuck payout
 *   play_catalog.c provider "pitboss" and its games in the catalog
 */
#ifndef PB_GAMES_PLAY_INTERNAL_H
#define PB_GAMES_PLAY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "games/play.h"
#include "ledger/ledger.h"

struct play_crash; /* play_crash.c: the scheduler's state */
struct play_sweep; /* play_sweep.c: the sweeper's state */

struct pb_play {
    pb_wallet *w;
    pb_ledger *l;
    pb_store *store;
    pb_play_config cfg;
    struct play_crash *crash;
    struct play_sweep *sweep;
    atomic_bool seeded; /* the originals are in the catalog */
    /* the retry of unfinished rounds while running (play_retry_unfinished) */
    atomic_uint_fast64_t retried, retry_failed, retry_waiting;
    atomic_uint_fast64_t abandoned; /* mines games cashed out as abandoned (pass, start-up) */
    /* rounds stuck (settling: their win refused for good; voiding: their
     * stake's rollback or round close refused for good) at the last complete
     * pass, and their ids (each logged once when first found); the ids are the
     * sweeper thread's alone */
    atomic_uint_fast64_t stuck;
    char (*stuck_ids)[PB_ID_STR_LEN + 1];
    size_t stuck_n;
};

/* Sets *err (may be NULL) and returns code. field/message may be NULL. */
pb_err play_fail(pb_play_error *err, pb_err code, const char *field, const char *message);

/* The round's state names. */
#define PLAY_PENDING "pending"
#define PLAY_ACTIVE "active"
#define PLAY_SETTLING "settling"
#define PLAY_SETTLED "settled"
#define PLAY_VOIDING "voiding" /* void: the stake owed back (the wallet's "<round>:void") */
#define PLAY_VOID "void"       /* void: the stake given back; finished */

/* A new public id (UUIDv7 text). */
void play_new_id(char out[PB_ID_STR_LEN + 1]);

/* The RTP in force for (brand, game) on c: configured or the game's default. */
pb_err play_rtp_in_force(pb_store_conn *c, int64_t brand_id, pb_game_kind kind, uint32_t *rtp_bp);

/* Registers the originals in the catalog (play_catalog.c) in a write
 * transaction on a connection of its own. only_if_known: only when the catalog
 * has them already (games added since are created); 1 when it did nothing for
 * that reason, 0 done, -1 with err. */
int play_catalog_ensure(pb_store *s, bool only_if_known, char *err, size_t errcap);

/* The player's active seed pair on c (inside a command), created when missing. */
/* seal.c — active server seeds sealed at rest under fair.key (see there). */
/* Sets the process's sealing key (pb_play_open); without one seeds are stored as given. */
void play_seal_set_key(const uint8_t key[32]);
bool play_seal_enabled(void);
/* The stored form of seed_hex (64 hex) bound to ad (a pair's id, a chain's
 * "crash:<terminal hash>") into out (cap >= 148 when sealing). */
pb_err play_seed_seal(const char *ad, const char *seed_hex, char *out, size_t cap);
/* In place: a stored seed → its 64 hex characters (a seed in the clear stays as is).
 * INTERNAL when it does not open (no key, another key or ad, a changed value). */
pb_err play_seed_open(const char *ad, char *seed, size_t cap);
/* The associated data a crash chain's sealed seed is bound to: "crash:" and its
 * public terminal hash (unique per chain, known before the row has an id). */
void play_chain_ad(const pb_store_crash_chain *ch, char *out, size_t cap);
/* The associated data a crash round's sealed game hash is bound to:
 * "crash-round:" and the round's public id (cap >= 49). */
void play_crash_round_ad(const char *round_id, char *out, size_t cap);
/* Seals what was stored in the clear before sealing existed (active pairs' and
 * crash chains' seeds, the game hashes of crash rounds not crashed: their point
 * becomes 0), in transactions of up to 256 rows of each; the count into *sealed.
 * -1 with err. */
int play_seal_existing(pb_store *s, int64_t *sealed, char *err, size_t errcap);

pb_err play_pair_ensure(pb_store_conn *c, int64_t brand_id, const char *brand, const char *player,
                        int64_t now, pb_store_seed_pair *out);

/* Parses a round's stored params for its game (never fails for a stored row
 * unless the data was damaged: then FIELD_INVALID). */
pb_err play_round_params(const pb_store_game_round *r, pb_game_params *out);

/* The JSON text of v (compact, sorted keys) in a new heap string, stealing v. NULL on OOM. */
char *play_json_text(json_t *v);

/* SHA-256 of a request: "v1", game, amount and the normalised params text. */
void play_request_hash(const char *game, int64_t amount, const char *params_text, uint8_t out[32]);

/*
 * Records a new round (state pending) under its idempotency key, in a ledger
 * command: r is filled by the caller except state/times. When the key exists
 * with the same request hash, *existing receives that round (r is not
 * inserted, PB_OK); with another hash IDEMPOTENCY_CONFLICT. For crash bets
 * (r->game "crash") the brand's current crash round must be taking bets
 * (ROUND_CLOSED otherwise) and r->crash_round is set to it.
 */
pb_err play_round_record(pb_play *p, pb_store_game_round *r, bool *existing);

/*
 * Drives a round from its state to where it rests: "settled", "void" (a crash
 * bet not accepted before its round started: its stake given back), or "active"
 * (mines in play, a crash bet in its round). r (in/out) is the round as the
 * caller knows it; on return it is the round as stored (or, on a refusal of
 * the wallet, the deleted pending round: the refusal is returned). Every step
 * is idempotent, so concurrent drivers of one round and a retry after a crash
 * are safe. Returns PB_OK, the wallet's refusal, or INTERNAL / STORE_UNAVAILABLE
 * (the round stays where it was; a retry or the next start-up goes on).
 */
pb_err play_drive(pb_play *p, pb_store_conn *c, pb_store_game_round *r, const char *trace_id);
/* play_drive, with the wallet's refusal of a step that cannot be refused (a
 * win, a void's rollback or close: play_drive answers INTERNAL for it) in
 * *refused (PB_OK when none). */
pb_err play_drive_refused(pb_play *p, pb_store_conn *c, pb_store_game_round *r,
                          const char *trace_id, pb_err *refused);

/* Places a round whose request part (id, who, game, key, params, amount, hash)
 * the caller filled: a known key is answered from its round (driven on), else
 * the catalog's playable check, then play_round_record and play_drive. *out
 * receives the round; r's heap strings move into it. */
pb_err play_place(pb_play *p, pb_store_conn *c, pb_store_game_round *r, const char *trace,
                  pb_store_game_round *out, bool *replayed, pb_play_error *err);

/* Fills a wallet operation that stakes (win = false) or pays (win = true) round r. */
void play_wallet_op(pb_wallet_op *op, const pb_store_game_round *r, bool win, const char *trace_id);
/* Fills the wallet operation that gives a void round's stake back: a rollback
 * "<round>:void" of its bet "<round>:bet" (the wallet returns exactly the bet's
 * cash / bonus split, once: a retry is a duplicate). */
void play_wallet_void_op(pb_wallet_op *op, const pb_store_game_round *r, const char *trace_id);
/* Fills the wallet operation that closes a void round's wallet round: a round
 * close "<round>:close" (a settlement's win closes it; a retry is a duplicate). */
void play_wallet_close_op(pb_wallet_op *op, const pb_store_game_round *r, const char *trace_id);

/* Decides a pending round inside the writer (play_bet.c: instant games and
 * mines; play_crash.c: crash bets). Updates *r (copy of the stored pending row)
 * to its next state and writes it; a business refusal goes into *result. */
pb_err play_decide_seeded(pb_ledger_tx *tx, pb_store_game_round *r, pb_err *result);
pb_err play_decide_crash(pb_play *p, pb_ledger_tx *tx, pb_store_game_round *r, pb_err *result);

/* Start-up (play_bet.c): an active mines game r whose outcome holds its mine
 * positions in the clear (stored by an older version when it started) has them
 * removed from its row when its seed pair draws the same ones (each step draws
 * them from the seed); *hidden says whether it did. A round without stored
 * positions is left alone. */
pb_err play_mines_hide_stored(pb_play *p, const pb_store_game_round *r, bool *hidden);

/* Runs a ledger command that moves round `id` from `from` with fn(tx, row, ctx)
 * (row re-read inside the command; fn returns INTERNAL on a store failure and
 * puts a refusal into *result). *out receives the round after it. */
typedef pb_err (*play_step_fn)(pb_ledger_tx *tx, pb_store_game_round *row, void *ctx,
                               pb_err *result);
pb_err play_step(pb_play *p, const char *id, const char *player, play_step_fn fn, void *ctx,
                 pb_store_game_round *out);

/* Drives on every unfinished round that is not resting (pending, settling, voiding: a
 * transient failure stopped it, e.g. the store or the wallet unavailable when a
 * crash round settled) and was last moved before touched_before (µs; its own
 * request or the scheduler may still be moving a younger one). Each step is
 * keyed and idempotent (the wallet's transaction ids "<round>:bet" / ":win"),
 * so a round paid before and not yet marked is answered as a duplicate, never
 * paid twice. Mines games active and last moved before abandoned_before (µs; 0 =
 * none) are cashed out as abandoned (play_mines_abandon). Counts into *driven
 * (came to rest, or refused and gone), *abandoned (abandoned games this pass
 * ended) and *failed (still unfinished, or an abandoned game not ended: a later
 * pass tries again); p's counters too. A settling round whose win the wallet
 * refused for good (play_win_refused: its stored answer, final) is not driven:
 * no retry can pay it, only the staff void ends it (play.h, "Stuck settling");
 * it is counted in the rounds_stuck gauge and logged once at error level
 * (games.round_stuck) when first found. A voiding round whose stake's rollback
 * or wallet round's close the wallet refused for good (play_void_refused) is
 * treated the same way (not driven, counted in rounds_stuck, logged once);
 * nothing in pitboss ends it (README, "Stuck settling"). Run by the sweeper
 * (play_sweep.c). */
/* The wallet's final refusal of round id's win "<id>:win" into out (its
 * stored result, e.g. ROUND_CLOSED; "" when none: not sent yet, paid, or only
 * failed for a transient reason, which stores nothing). A read on c. */
pb_err play_win_refused(pb_store_conn *c, const char *id, char *out, size_t cap);
/* The wallet's final refusal of void round r's stake back "<id>:void" (a
 * stored refusal other than TRANSACTION_ROLLED_BACK, which the driver takes as
 * the stake back already: in practice ROUND_HAS_WIN) or, when none, of its
 * wallet round's close "<id>:close" (*close true then) into out ("" when
 * neither is refused for good). IDEMPOTENCY_CONFLICT when the id holds another
 * request (not the rollback or close the driver sends for r): the wallet does
 * not store that answer, but no retry can get another. A read on c. */
pb_err play_void_refused(pb_store_conn *c, const pb_store_game_round *r, char *out, size_t cap,
                         bool *close);

void play_retry_unfinished(pb_play *p, pb_store_conn *c, int64_t touched_before,
                           int64_t abandoned_before, size_t *driven, size_t *failed,
                           size_t *abandoned);

/* Cashes out an abandoned mines game (play.h, "Abandoned mines"): when round_id is
 * still active and was last moved before idle_before (µs), ends it as the player's
 * cash-out would (zero reveals: multiplier(mines, 0)) with its audit entry, then
 * pays it (play_drive: the keyed "<round>:win"). *settled: this call ended it.
 * PB_OK when there was nothing to do (the player moved or ended it meanwhile). */
pb_err play_mines_abandon(pb_play *p, pb_store_conn *c, const char *round_id, int64_t idle_before,
                          bool *settled);

/* Crash: start / stop the scheduler (play_crash.c); stop waits for the thread. */
int play_crash_start(pb_play *p, char *err, size_t errcap);
void play_crash_stop(pb_play *p);
void play_crash_free(pb_play *p);
/* The sweeper: the periodic pass of play_retry_unfinished, on a thread of its
 * own whether the crash scheduler runs or not (play_sweep.c); stop waits for it. */
int play_sweep_start(pb_play *p, char *err, size_t errcap);
void play_sweep_stop(pb_play *p);
void play_sweep_free(pb_play *p);
/* The multiplier (hundredths) t ms after the start under growth k. */
int64_t play_crash_m(double k, int64_t t_ms);
/* In place: a crash round as stored → its game hash in the clear and its point
 * (computed from the hash, the chain's salt and the round's rtp_bp by the code
 * that computed it at the round's creation). A crashed round is already in the
 * clear and is left as is. INTERNAL (logged) when the hash does not open (no
 * key, another key or round, a changed value) or a stored point disagrees. */
pb_err play_crash_round_open(pb_store_crash_round *r);

/* ---- crash hash chains in memory (play_crash_chain.c; the scheduler's thread) ---- */

#define CKPT 1024 /* hashes between two kept in memory */

typedef struct chain_mem {
    int64_t brand_id;
    int64_t chain_id;
    int64_t length;
    char (*ckpt)[PB_FAIR_HASH_HEX_LEN + 1]; /* c[0], c[CKPT], c[2·CKPT], … */
} chain_mem;

/* Frees m's checkpoints and clears it. */
void play_chain_free(chain_mem *m);
/* The hash of the game at play position pos (c[n−1−pos]). */
void play_chain_hash(const chain_mem *m, int64_t pos, char out[PB_FAIR_HASH_HEX_LEN + 1]);
/* The brand's chain with a game left, from chains[0..*nchains) (a new slot when
 * the brand has none, up to cap): loaded from the store (its sealed seed opened)
 * or made (length games, its row written in its own transaction on c). NULL on
 * failure. */
chain_mem *play_chain_for(chain_mem *chains, size_t *nchains, size_t cap, pb_store_conn *c,
                          int64_t brand_id, const char *brand, int64_t length);

#endif
