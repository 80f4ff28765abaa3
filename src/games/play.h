/*
 * play.h — the money side of pitboss's own provably fair games ("originals"):
 * players' seed pairs, bets and rounds through the wallet, mines, the crash
 * game's rounds, the RTP in force per game and brand, game control figures and
 * the public verification. The rules are src/games/games.h (pure); this is the
 * only door to everything around them that touches the database or money.
 *
 * Seeds. Each player has one active seed pair: a server seed (secret; only its
 * commitment, SHA-256 of the seed's hex text, is ever shown while active), a
 * client seed (random by default, the player may choose one) and the nonce of
 * the next bet (0 for a new pair, +1 per bet). The pair is created on first use.
 * Rotating (POST …/rotate, or setting a client seed, which rotates too: a
 * client seed belongs to one pair, so a new one starts a new pair) reveals the
 * old server seed with its client seed and last nonce and commits a new seed.
 *
 * Bets. Provider "pitboss" in the catalog holds the games (dice, limbo, keno,
 * plinko, roulette, slot, mines, crash); a bet must be playable there for the
 * player's brand and currency (game enabled, limits). A bet is a round:
 *
 *   1. recorded "pending" under the player's idempotency key (a ledger command);
 *   2. staked through the wallet's game money (pb_wallet_game_submit, provider
 *      "pitboss", transaction "<round>:bet", wallet round "<round>"), which runs
 *      THE player gate and the funding policy; a refusal deletes the round:
 *      a refused bet leaves nothing behind (INSUFFICIENT_FUNDS, PLAYER_BLOCKED…);
 *   3. decided in a ledger command: the nonce is allocated from the active pair
 *      (so each accepted bet gets exactly one nonce, in order, never reused),
 *      the RTP in force is read, the outcome and payout computed by games.h;
 *   4. paid through the wallet (transaction "<round>:win", possibly 0, which
 *      closes the wallet round), then marked settled.
 * Every step is idempotent (the wallet's by transaction id, ours by state), so
 * a retry with the same idempotency key returns the same round and moves money
 * at most once, and start-up drives every unfinished round to its end (while
 * running, so does the sweeper's periodic pass, play_sweep.c: play_retry_unfinished).
 *
 * Mines: start = steps 1..3 with the nonce taken and the round "active": its
 * mines are stored nowhere while it is in play (each step draws them again from
 * the pair's sealed server seed; play_bet.c), and the end writes them as its
 * outcome. Reveals and the cash-out are ledger commands that change the round
 * only from the state they read (so concurrent requests on one game are
 * serialised); a mine, a cash-out or the last safe tile settles it (step 4).
 *
 * Crash: one round at a time per brand whose crash game is enabled, from a
 * salted hash chain generated per brand at start-up (its commitment and salt
 * are public). A scheduler thread runs betting (PB_PLAY crash_betting_ms) →
 * running (the multiplier grows with time: m(t) = floor(100 · e^(k·t)) / 100
 * with t in ms since the start, k = crash_growth) → crashed at the point (the
 * first t with m(t) ≥ point) → the next round after crash_pause_ms. Players bet
 * during betting (an optional auto cash-out), cash out while running; at the
 * crash every bet is settled through the wallet: a cash-out (manual, or auto
 * when the auto target ≤ point) is paid bet × multiplier, the rest lose. A
 * cash-out's multiplier is at most PB_CRASH_TARGET_MAX (1,000,000.00x), and a
 * bet whose stake × that cap would overflow is refused: no payout can overflow.
 *
 * Abandoned mines. A mines game in play that nobody moves (no reveal, no
 * cash-out) for cfg.mines_abandon_s after its last action (default 24 h) is
 * cashed out by the system, exactly as the player's own cash-out: bet ×
 * multiplier(mines, safe revealed), through the same keyed wallet win
 * "<round>:win" (which closes the wallet round and emits round.settled). With
 * no tile revealed it pays the rules' value of that game, multiplier(mines, 0)
 * = the RTP (< 1x; the player cannot ask for it, the system can end it). The
 * move active → settling is one ledger command that re-reads the round and
 * acts only when it is still active and still untouched since before the
 * limit, so a reveal or cash-out of the player and the system's cash-out are
 * serialised: one ends the game, the other finds it over (a cash-out is
 * answered with the round, a reveal ROUND_CLOSED), and the win is paid once.
 * The same command writes the audit entry PB_PLAY_AUDIT_ABANDONED (actor
 * PB_PLAY_AUDIT_ACTOR). The sweeper's periodic pass (play_sweep.c: a thread of its own,
 * whether the crash scheduler runs or not) and start-up do it.
 *
 * Void ("malfunction voids all pays and plays"). A crash bet is in play when it
 * is accepted into its round (step 3, pending → active) while the round still
 * takes bets: it is then in the round from its start, a cash-out is open to it,
 * and the crash settles it. A bet whose stake was taken but whose acceptance
 * comes only after its round started — its decision failed (the store or the
 * wallet unavailable) and the retry pass or the next start decides it, or the
 * stake itself came back after the round started — never played: it is void,
 * not lost. Its round goes "voiding" (void_reason PB_PLAY_VOID_STARTED or
 * PB_PLAY_VOID_CRASHED) and its stake goes back through the wallet as a
 * rollback "<round>:void" of "<round>:bet" (exactly the bet's cash / bonus
 * split, keyed: a retry is a duplicate), its wallet round is closed ("<round>:close",
 * as a settlement's win closes it), then "void" with an audit entry
 * (PB_PLAY_AUDIT_VOID by the system actor PB_PLAY_AUDIT_ACTOR: the round, its
 * crash round, the stake and its split, the reason), written in the same
 * transaction as the move to "void", so once. Its auto cash-out does not
 * count, even when the point reached it: the bet was never in the round. The
 * seeded games have no such case: their outcome is fixed by the seed pair and
 * the nonce the decision takes, whenever it comes, and a mines game decided late
 * waits, in play, for the player's first reveal.
 *
 * Threads: a pb_play is shared by every HTTP worker. Functions that take a
 * pb_store_conn use it for reads (no transaction open on it); every write runs
 * in a ledger command.
 */
#ifndef PB_GAMES_PLAY_H
#define PB_GAMES_PLAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "audit/audit.h"
#include "core/error.h"
#include "games/games.h"
#include "store/store.h"
#include "wallet/wallet.h"

#define PB_PLAY_PROVIDER "pitboss" /* the in-house provider's code in the catalog */
#define PB_PLAY_KEY_MAX 100        /* idempotency keys: 1..100 printable ASCII */
#define PB_PLAY_PAGE_MAX 200

/* True for the in-house games' provider code. Its wallet operations come from
 * this process only: the external provider APIs (/v1/providers/{provider}/...,
 * every protocol) answer it as an unknown provider, and the staff catalog sets
 * no secret or key for it (PROVIDER_IN_HOUSE). */
static inline bool pb_play_provider_is_house(const char *code)
{
    return code && strcmp(code, PB_PLAY_PROVIDER) == 0;
}

typedef struct pb_play pb_play;

typedef struct pb_play_config {
    bool crash; /* run the crash scheduler */
    /* run the sweeper (play_sweep.c): the periodic retry of unfinished rounds and
     * the cash-out of abandoned mines games, whether crash runs or not (serve
     * does; tools and tests that drive passes themselves leave it off) */
    bool sweep;
    int crash_betting_ms;       /* betting phase; 0 = 5000 */
    int crash_pause_ms;         /* after a crash, before the next betting phase; 0 = 3000 */
    double crash_growth;        /* k of m(t) = e^(k·t), per ms; 0 = 0.00006 */
    int64_t crash_chain_length; /* games per hash chain; 0 = 100000 */
    /* The sweeper's retry of rounds a transient failure left unfinished
     * (pending / settling, untouched for this long): first after retry_ms, then
     * doubling while some still fail, up to retry_max_ms; 0 = 5000. */
    int retry_ms;
    /* The longest wait between two retry passes while some still fail; 0 =
     * 60000 (serve leaves it so; tests shorten it to wait less after a failure
     * ends). */
    int retry_max_ms;
    /* Mines: a game in play untouched (no reveal, no cash-out) for this many
     * seconds is abandoned: the retry pass (and start-up) cashes it out at its
     * current value; 0 = PB_PLAY_MINES_ABANDON_S (24 h). */
    int64_t mines_abandon_s;
    /* 32 bytes that seal active server seeds at rest (the keys directory's
     * fair.key, src/games/seal.c); NULL: stored in the clear (tools and tests
     * without a keys directory; serve always gives one) */
    const uint8_t *seal_key;
} pb_play_config;

/*
 * Opens the money side over a running wallet: when the catalog has provider
 * "pitboss" already, creates the games added since (otherwise they are all
 * registered on first use: see pb_play_catalog_ensure), drives every
 * unfinished round to its end, and starts the crash scheduler. Games are
 * created once, with default limits (0.01 .. 10,000.00 in 16 common
 * currencies); games created while a brand "demo" exists are switched on for
 * it (the demo casino). NULL with a reason in err on failure.
 */
pb_play *pb_play_open(pb_wallet *w, pb_store *s, const pb_play_config *cfg, char *err,
                      size_t errcap);
/* Makes sure provider "pitboss" and its games are in the catalog (the first
 * call on a database without them registers them; later calls cost an atomic
 * load). Every originals API route calls it first, so an operator switches the
 * games on for a brand (PUT /v1/admin/brands/{brand}/games/pitboss/{game}) after
 * a first look at GET /v1/admin/brands/{brand}/originals. */
pb_err pb_play_catalog_ensure(pb_play *p);

/* The retry of unfinished rounds while running (the sweeper's pass: a
 * crash bet whose stake, decision, win or mark failed for a transient reason,
 * or any other round left pending / settling), and the abandoned mines games
 * cashed out. Counters since the start. */
typedef struct pb_play_stats {
    uint64_t rounds_retried;  /* driven to rest (or refused and gone) by the retry */
    uint64_t retry_failures;  /* rounds a pass could not drive on (tried again later) */
    uint64_t rounds_waiting;  /* at the last pass: rounds still unfinished after it */
    uint64_t mines_abandoned; /* mines games cashed out as abandoned (the passes, start-up) */
    /* at the last complete pass: rounds no retry can finish (not retried):
     * settling, their win refused by the wallet for good (the staff void ends
     * them: pb_play_round_void), or voiding, their stake's rollback "<round>:void"
     * or round close "<round>:close" refused for good (nothing ends them: an
     * operator's matter, README "Stuck settling") */
    uint64_t rounds_stuck;
} pb_play_stats;
void pb_play_stats_get(pb_play *p, pb_play_stats *out);

/* Why a round is void (pb_store_game_round.void_reason; the API shows it). */
#define PB_PLAY_VOID_STARTED "crash_round_started" /* accepted after its round started */
#define PB_PLAY_VOID_CRASHED "crash_round_crashed" /* ... after its round crashed */
#define PB_PLAY_VOID_STAFF "staff"                 /* ended by staff (pb_play_round_void) */
/* A void's audit entry: action, and the system actor that decided it. */
#define PB_PLAY_AUDIT_VOID "game_round.voided"
/* Mines abandoned (see "Abandoned mines" above): the default time limit after the
 * game's last action, the audit action of the system's cash-out (same actor as a
 * void) and the end_reason it names. */
#define PB_PLAY_MINES_ABANDON_S ((int64_t)24 * 3600)
#define PB_PLAY_AUDIT_ABANDONED "game_round.abandoned"
#define PB_PLAY_END_ABANDONED "abandoned"
#define PB_PLAY_AUDIT_ACTOR "provider:" PB_PLAY_PROVIDER

/*
 * Staff end a player's round by hand (a mines game left open, a crash bet whose
 * round went wrong): round_id of player, still "active", goes "voiding"
 * (void_reason PB_PLAY_VOID_STAFF) in one ledger command together with the
 * staff's audit entry `who` (actor, reason, trace and IP filled by the caller;
 * action PB_PLAY_AUDIT_VOID, brand, target, before and after filled here), and
 * then takes the same path as every void (play.c's driver): the stake back as
 * the wallet rollback "<round>:void" of "<round>:bet", the wallet round closed
 * ("<round>:close"), then "void". That last move writes no second audit entry
 * for a staff void: the staff's entry is the decision. When the wallet is not
 * reachable the round stays "voiding" and the retry pass finishes it; *out is
 * the round as it is. A round already "voiding" is driven on (no new entry).
 * A round "settling" whose win the wallet refused for good (its stored answer
 * to "<round>:win" is a refusal: see pb_play_round_settle) is void the same
 * way (the staff's entry names the refusal as "win_refused"); a rollback of a
 * bet that was rolled back already counts as the stake given back.
 * ROUND_NOT_FOUND (no such round of this player), ROUND_CLOSED (settled or
 * void already), ROUND_STATE (pending, or settling with its win still owed:
 * its own driver pays it), STORE_UNAVAILABLE.
 */
pb_err pb_play_round_void(pb_play *p, pb_store_conn *c, const char *player, const char *round_id,
                          const pb_audit_entry *who, pb_store_game_round *out);

/*
 * Staff retry a round stuck "settling" (its win "<round>:win" unpaid) now,
 * through the driver the sweeper uses (play_drive: the keyed win, then
 * settled; a win paid before is a duplicate, never paid twice). PB_OK: *out
 * is the round, settled. WIN_REFUSED: the wallet refused the win (*refused:
 * its answer, e.g. TRANSACTION_ROLLED_BACK, ROUND_CLOSED); that answer is
 * stored and final, so no retry can pay it: the remedy is pb_play_round_void.
 * The sweeper does not retry such a round at all: each pass counts it
 * (pb_play_stats.rounds_stuck, /metrics pitboss_games_rounds_stuck) and the
 * first pass of a process that finds it logs games.round_stuck at error level
 * (start-up's recovery tries its win once more: games.win_refused).
 * STORE_UNAVAILABLE: the wallet or the store failing (the sweeper goes on).
 * ROUND_NOT_FOUND, ROUND_CLOSED (settled or void), ROUND_STATE (not settling).
 * The caller audits the attempt (src/api/games_admin.c).
 */
pb_err pb_play_round_settle(pb_play *p, pb_store_conn *c, const char *player, const char *round_id,
                            const char *trace_id, pb_store_game_round *out, pb_err *refused);
#define PB_PLAY_AUDIT_SETTLE "game_round.settle_retried"

/* Stops the crash scheduler (it submits ledger commands: call this before the
 * ledger closes). Idempotent. */
void pb_play_stop(pb_play *p);
/* Stops the scheduler if still running and frees (after the ledger closed: its
 * last callbacks may still use the handle). */
void pb_play_close(pb_play *p);

/* Who plays: a player of a brand, in their currency. */
typedef struct pb_play_player {
    int64_t brand_id;
    const char *brand;  /* brand code */
    const char *player; /* public id */
    const char *currency;
} pb_play_player;

/* ---- seeds ---- */

/* The player's active pair (created when there is none). Never returns the
 * server seed to callers that show it: the API shows commitment, client seed
 * and next nonce only. */
pb_err pb_play_seeds_get(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                         pb_store_seed_pair *out);
/* Rotates: the active pair is revealed into *revealed (server seed included;
 * next_nonce − 1 was its last nonce, none when 0) and a new pair with
 * client_seed (NULL = random; FIELD_INVALID when not a valid client seed) is
 * made active into *next. ROUND_STATE while a mines game drawn from the active
 * pair is in play (its seed would give the mines away): finish it first. */
pb_err pb_play_seeds_rotate(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                            const char *client_seed, pb_store_seed_pair *revealed,
                            pb_store_seed_pair *next);

/* ---- bets ---- */

/* Why a request was refused, for the API: the code, the field at fault
 * ("amount", "params.target", …; "" when none) and a message ("" = the code's). */
typedef struct pb_play_error {
    pb_err code;
    char field[64];
    char message[128];
} pb_play_error;

/* One bet request. params: the game's parameters (games.h
 * pb_game_params_from_json); amount: the stake in minor units of the player's
 * currency (roulette: 0 = the total of its bets, otherwise it must equal it). */
typedef struct pb_play_bet {
    const char *game;
    const json_t *params;
    int64_t amount;
    const char *idempotency_key;
    const char *trace_id;
} pb_play_bet;

/*
 * Places a bet on an instant game (dice, limbo, keno, plinko, roulette, slot)
 * or starts a mines game (params {"mines": k}; the round stays "active"). On
 * PB_OK *out is the round (settled for instant games) and *replayed says that
 * the key had been used for the same request. Refusals: the game's parameter
 * errors (FIELD_INVALID, FIELD_MISSING, UNKNOWN_FIELD naming "params.…"),
 * GAME_NOT_FOUND, GAME_DISABLED, BET_LIMIT, CURRENCY_NOT_ALLOWED,
 * IDEMPOTENCY_CONFLICT, and the wallet's: INSUFFICIENT_FUNDS, PLAYER_BLOCKED,
 * PLAYER_SELF_EXCLUDED — none of them leaves a round. The caller clears *out
 * (pb_store_game_round_clear).
 */
pb_err pb_play_bet_place(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                         const pb_play_bet *bet, pb_store_game_round *out, bool *replayed,
                         pb_play_error *err);

/* Mines: reveals tiles (0..24, in order) of the player's active game. A tile
 * already revealed is skipped; a mine ends the game (lost); revealing the last
 * safe tile cashes out. ROUND_NOT_FOUND, ROUND_CLOSED (the game is over),
 * FIELD_INVALID. *out is the round after the reveal. */
pb_err pb_play_mines_reveal(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                            const char *round_id, const uint8_t *tiles, size_t n,
                            pb_store_game_round *out, pb_play_error *err);
/* Mines: cashes out (bet × multiplier(mines, safe revealed)); at least one tile
 * must be revealed (ROUND_STATE). A game already cashed out answers its round
 * again. ROUND_NOT_FOUND, ROUND_CLOSED (lost). */
pb_err pb_play_mines_cashout(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                             const char *round_id, pb_store_game_round *out, pb_play_error *err);

/* ---- crash ---- */

/* The brand's current crash round (betting, running or just crashed) and, while
 * running, the multiplier now (hundredths; crashed: the point), never above
 * PB_CRASH_TARGET_MAX: the multiplier shown is what a cash-out pays, and a round
 * whose point is above the cap runs on to its point showing the cap. Its
 * game_hash and point only once it crashed ("" and 0 before: they are secret
 * until then; the point as the hash gives it, above the cap too). ROUND_NOT_FOUND
 * when none runs; INTERNAL when a running round's sealed hash does not open. */
pb_err pb_play_crash_current(pb_play *p, pb_store_conn *c, int64_t brand_id,
                             pb_store_crash_round *out, int64_t *multiplier_now);
/* A bet on the current crash round while it takes bets (ROUND_CLOSED
 * otherwise); auto_cashout in hundredths (0 = none, else 101..PB_CRASH_TARGET_MAX).
 * The round (state "active") in *out. */
pb_err pb_play_crash_bet(pb_play *p, pb_store_conn *c, const pb_play_player *who, int64_t amount,
                         int64_t auto_cashout, const char *idempotency_key, const char *trace_id,
                         pb_store_game_round *out, bool *replayed, pb_play_error *err);
/* Cashes a crash bet out at the multiplier now, at most PB_CRASH_TARGET_MAX
 * (1,000,000.00x: the most a cash-out pays). ROUND_NOT_FOUND, ROUND_STATE
 * (still betting), ROUND_CLOSED (crashed). A bet already cashed out answers its
 * round again. The multiplier is in out->multiplier once decided. */
pb_err pb_play_crash_cashout(pb_play *p, pb_store_conn *c, const pb_play_player *who,
                             const char *round_id, pb_store_game_round *out, pb_play_error *err);
/* m(t) in hundredths for t ms after the start, under p's growth. */
int64_t pb_play_crash_multiplier_at(const pb_play *p, int64_t t_ms);
/* k of m(t) = floor(100 · e^(k·t)) / 100, per ms. */
double pb_play_crash_growth(const pb_play *p);

/* ---- rounds ---- */

/* A player's round by id (ROUND_NOT_FOUND when it is not theirs). */
pb_err pb_play_round_get(pb_store_conn *c, const char *player, const char *round_id,
                         pb_store_game_round *out);

/* ---- RTP and game control ---- */

/* The configured RTP of a game on a brand (the game's default when none set). */
pb_err pb_play_rtp_get(pb_store_conn *c, int64_t brand_id, pb_game_kind kind, uint32_t *rtp_bp,
                       bool *configured);
/* Sets it (inside the caller's write transaction): FIELD_INVALID "rtp_bp"
 * outside the game's range. *before receives the previous RTP in force. */
pb_err pb_play_rtp_set(pb_store_conn *c, int64_t brand_id, pb_game_kind kind, uint32_t rtp_bp,
                       const char *by, int64_t now, uint32_t *before);

/* One line of game control: a game in a currency on a brand. */
typedef struct pb_play_control_line {
    pb_store_game_totals t;
    int64_t ggr;            /* turnover − payout */
    uint32_t target_rtp_bp; /* configured now */
    double expected_rtp;    /* RTP in force over these rounds, weighted by turnover */
    double actual_rtp;      /* payout / turnover (0 without turnover) */
    double deviation;       /* actual − expected */
} pb_play_control_line;

/* Game control of a brand for settled rounds in [from_us, to_us) (0 = open). */
pb_err pb_play_control(pb_store_conn *c, int64_t brand_id, int64_t from_us, int64_t to_us,
                       pb_play_control_line *out, size_t cap, size_t *n);

/* ---- verification (public) ---- */

/*
 * Recomputes an outcome exactly as `pitboss fair verify` does, from a JSON
 * object with the CLI's inputs under the same names: game, server_seed,
 * client_seed, nonce (crash: hash, salt), edge or rtp_bp, currency, commitment,
 * and the game options target, direction, cashout, mines, tiles, picks, risk,
 * rows, bets, or params (the round's parameters; the options override them).
 * *out receives the outcome JSON (new reference). FIELD_INVALID / FIELD_MISSING /
 * UNKNOWN_FIELD naming the field in err.
 */
pb_err pb_play_verify(const json_t *in, json_t **out, pb_play_error *err);

#endif
