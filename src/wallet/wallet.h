/*
 * wallet.h — player wallets over the ledger: accounts, funding policy, the
 * player gate, balances, history, and the game-money operations (bet, win,
 * rollback, round close) that every provider protocol drives.
 *
 * Accounts (all in the ledger; brand = the brand's code):
 *   player cash     owner "player:<public id>", kind "player_cash",  DEBITS_MUST_NOT_EXCEED_CREDITS
 *   player bonus    owner "player:<public id>", kind "player_bonus", DEBITS_MUST_NOT_EXCEED_CREDITS
 *   provider        owner "provider:<code>",    kind "provider"      (the game side of bets and wins;
 *                                                                      its balance is the provider's GGR)
 *   PSP clearing    owner "psp:<code>",         kind "psp_clearing"  (the cashier's side of payments)
 *   house           owner "brand",              kind "house"         (adjustments, bonus funding)
 *   unclaimed funds owner "brand",              kind "unclaimed_funds" (a liability: money owed
 *                                                                      to closed players; below)
 *   remitted        owner "brand",              kind "remitted"      (only ever receives: unclaimed
 *                                                                      funds paid out to an authority,
 *                                                                      e.g. escheatment to the state;
 *                                                                      POST /v1/admin/unclaimed-funds/
 *                                                                      settlements, admin_unclaimed.c)
 * One currency per player (the player's). An account is created the first time
 * it is needed (pb_wallet_player_accounts / pb_wallet_system_account): for game
 * money, the first time money moves through it, never by a refused operation.
 *
 * Game money (pb_wallet_game_submit*): every operation runs as one ledger
 * command (ledger.h), so its checks, its transfers and its own rows (the
 * operation, the bet, the round, the stored response) commit together, and
 * operations on one round can never race. A bet is split between cash and bonus
 * by the brand's funding policy and the split is stored with the bet; a win or a
 * rollback of that bet is returned in the same proportions.
 *
 * Idempotency is by (provider, transaction id). The first outcome of an
 * operation that reached a decision is stored together with the response the
 * protocol adapter rendered for it, and a duplicate gets that response back
 * byte for byte, whatever changed since. Decisions: success, and every final
 * refusal — the wallet's own (INSUFFICIENT_FUNDS, TRANSACTION_ROLLED_BACK,
 * ROUND_HAS_WIN, ROUND_CLOSED, TRANSACTION_NOT_BET, BET_REFUSED), the player gate's (PLAYER_BLOCKED,
 * PLAYER_SELF_EXCLUDED) and the adapter's checks passed in op->refusal
 * (TOKEN_EXPIRED, CURRENCY_MISMATCH, GAME_NOT_FOUND, GAME_DISABLED,
 * GAME_MISMATCH, BET_LIMIT, CURRENCY_NOT_ALLOWED, FORBIDDEN, and the provider gate's PROVIDER_DISABLED): a request refused once stays refused
 * when it is replayed after the player was unblocked or the game switched back
 * on or the provider switched back on (a Hub88 request carries no timestamp:
 * it can be replayed at any time).
 * Not stored, decided again on a retry: BET_NOT_FOUND (the bet may still
 * arrive: the same win retried after it is paid, once, and stored then),
 * ROUND_NOT_FOUND (a close before the round's first bet: the same; a
 * close of a round whose bets were all refused for good closes it, below),
 * ROUND_MISMATCH, IDEMPOTENCY_CONFLICT, refusals before the wallet
 * (signature, parsing, an unknown token: no player to store them for), and
 * never our failures (INTERNAL, STORE_UNAVAILABLE: nothing happened, the
 * retry must be able to succeed). The same transaction id with a different
 * request is IDEMPOTENCY_CONFLICT and changes nothing; the currency the
 * request named is part of the request (a retry in another currency is a
 * conflict, not the stored answer). The identity is the request's own
 * content: a native win names no game, so none is hashed for it (its rows
 * take the bet's game), and the same win retried under another launch, or
 * after its launch was pruned, is the duplicate (game.c, request_hash).
 *
 * Rounds are per player: a provider may give every player at a live table the
 * same round id, so a round is (provider, round id, player), and one player's
 * bets, wins and close on an id never touch another player's round of it.
 *
 * Rules: a win names its bet (same player and round, else ROUND_MISMATCH; the
 * bet not rolled back; when the win names a game, the bet's, else GAME_MISMATCH,
 * stored) and pays into cash and bonus in the bet's proportions. A rollback names a bet
 * (when it names a game, the bet's, else GAME_MISMATCH, stored, as a win's)
 * and refunds exactly its split; an accepted rollback with close_round closes the
 * player's round of its id as a bet or win does (one already closed stays so;
 * a refused one closes nothing); a rollback of a bet never seen is recorded (a
 * tombstone) and the bet arriving later is refused with TRANSACTION_ROLLED_BACK,
 * unless the id is another player's operation (a bet of theirs that was refused):
 * ROUND_MISMATCH, as for another player's placed bet, nothing written. The
 * tombstone is its player's: another player's bet with that id is not its bet
 * (a provider's ids are unique per provider: its bug or a forged call) and is
 * refused IDEMPOTENCY_CONFLICT (the id is taken; not stored, nothing written),
 * never TRANSACTION_ROLLED_BACK. A win or rollback naming the player's own operation
 * that is not a bet (a win, a rollback, a close) is TRANSACTION_NOT_BET,
 * nothing written, stored (the id stays what it is); a win naming the player's
 * own bet that was refused (its refusal stored under its id: it can never be
 * placed) is BET_REFUSED, nothing paid or written, stored (a rollback of it is
 * the rollback of a bet never seen: a tombstone, nothing moves);
 * a rollback when the player's round already has a win is refused with
 * ROUND_HAS_WIN. A bet or win on the player's closed round is refused with
 * ROUND_CLOSED. A round close closes the player's round when it has a row (a
 * win paid, closed before) or an accepted bet of theirs, or when the player
 * played it without one: a bet of theirs on it was refused for good (its
 * refusal stored) or rolled back before it arrived (a tombstone) — nothing
 * moves, the round is recorded closed (later bets on it: ROUND_CLOSED) and the
 * answer is stored, else the provider would retry the close for ever; a round
 * id the player never played is ROUND_NOT_FOUND (not stored, nothing written:
 * one player's token cannot close a round id it never played). Wins and rollbacks need
 * no live launch token (the adapter does not check expiry for them), nor any
 * launch at all: launches are pruned 30 days after they expire, and a win or
 * rollback of a bet the wallet knows is still accepted then, for the bet's
 * player and with the token recorded on the bet (or on the operation's own
 * earlier attempt) (pb_wallet_owner_get; when a launch is there, its player must be the
 * bet's: ROUND_MISMATCH otherwise). Bets go
 * through the player gate, inside the command, after the duplicate check (so a
 * duplicate of an accepted bet is answered even if the player was blocked since).
 *
 * Closed players (an erased account: closed, no login, never reopened). A win
 * or rollback still comes for a bet of theirs when its round was settled enough
 * for the erasure (identity.h: closed, or idle PB_IDENTITY_ROUND_IDLE_DAYS) and
 * the provider sends more: it is accepted like any other (the same rules, the
 * provider's normal answer, stored and replayed byte for byte: the money is owed
 * and a settled bet cannot be refused), but nothing reaches the player's
 * accounts, which nobody can withdraw from any more. Its cash share is credited
 * to the brand's unclaimed-funds account in the currency (owner "brand", kind
 * "unclaimed_funds": a liability the operator settles by its own rules, e.g.
 * escheatment; not revenue); its bonus share is forfeited to the brand's house
 * account, the one bonus money is granted from (code BONUS_FORFEIT): bonus money
 * is a conditional promotional credit, not a debt, and an operator's bonus terms
 * forfeit it when the account closes, so holding it as a liability would
 * overstate what is owed. The answer shows the player's balances, unchanged,
 * and the parts as for any win or rollback. With it, in the same transaction:
 * the audit entry "funds.unclaimed" (system actor "provider:<code>", target the
 * player) and the event "funds.unclaimed" (finance.read), naming the provider,
 * the round, the operation, the amounts and the accounts they went to. Whether
 * the player is closed is decided inside the ledger command, with the money, so
 * an erasure committed just before is seen (and one committed after saw the
 * round as open, or idle). The two accounts are created beforehand (prepare in
 * game.c) when the player is closed and money would come back; a race with an
 * erasure in between is a transient failure (nothing written), and the retry
 * creates them.
 */
#ifndef PB_WALLET_WALLET_H
#define PB_WALLET_WALLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/id.h"
#include "ledger/ledger.h"
#include "store/store.h"

#define PB_WALLET_KIND_CASH "player_cash"
#define PB_WALLET_KIND_BONUS "player_bonus"
#define PB_WALLET_KIND_PROVIDER "provider"
#define PB_WALLET_KIND_PSP "psp_clearing"
#define PB_WALLET_KIND_HOUSE "house"
#define PB_WALLET_KIND_UNCLAIMED "unclaimed_funds"
#define PB_WALLET_KIND_REMITTED "remitted"
#define PB_WALLET_OWNER_PLAYER "player:"     /* + the player's public id */
#define PB_WALLET_OWNER_PROVIDER "provider:" /* + the provider's code */
#define PB_WALLET_OWNER_PSP "psp:"           /* + the PSP's code */
#define PB_WALLET_OWNER_HOUSE "brand"

/* Ledger idempotency scope of game money: "game:<provider code>". */
#define PB_WALLET_SCOPE_GAME "game:"

/* Sizes of the identifiers a provider sends. */
#define PB_WALLET_PROVIDER_MAX 32
#define PB_WALLET_TXID_MAX 128
#define PB_WALLET_ROUND_MAX 128
#define PB_WALLET_GAME_MAX 64
#define PB_WALLET_BRAND_MAX 32

typedef struct pb_wallet pb_wallet;

/* Opens the wallet over a running ledger and its store (an account-id cache
 * lives inside; thread-safe). NULL on failure with a reason in err. */
pb_wallet *pb_wallet_open(pb_ledger *l, pb_store *s, char *err, size_t errcap);
void pb_wallet_close(pb_wallet *w);
pb_ledger *pb_wallet_ledger(pb_wallet *w);

/* ---- funding policy ---- */

typedef enum {
    PB_FUNDING_CASH_FIRST = 0, /* default: cash, then bonus for the rest */
    PB_FUNDING_BONUS_FIRST,    /* bonus, then cash */
    PB_FUNDING_CASH_ONLY,      /* bonus money is never staked */
} pb_funding_policy;

/* The policy in a brand's settings object: "funding_policy": "cash_first" |
 * "bonus_first" | "cash_only" (absent = cash_first). FIELD_INVALID otherwise. */
pb_err pb_wallet_funding_policy_parse(const char *settings_json, pb_funding_policy *out);
const char *pb_wallet_funding_policy_name(pb_funding_policy p);

/* How a stake of `amount` is drawn from the available cash and bonus:
 * INSUFFICIENT_FUNDS when the policy's balances cannot cover it. */
pb_err pb_wallet_split(pb_funding_policy p, int64_t amount, int64_t cash_available,
                       int64_t bonus_available, int64_t *cash_part, int64_t *bonus_part);
/* A payout of `amount` for a bet staked as (cash_part, bonus_part), in the same
 * proportions: bonus share = floor(amount * bonus_part / (cash_part + bonus_part)),
 * the rest to cash (the rounding remainder favours cash); computed in 128 bits,
 * so it cannot overflow. AMOUNT_INVALID for a negative input or a stake whose
 * parts do not add up within int64. */
pb_err pb_wallet_split_payout(int64_t amount, int64_t cash_part, int64_t bonus_part,
                              int64_t *cash_out, int64_t *bonus_out);

/* ---- accounts ---- */

typedef struct pb_wallet_accounts {
    int64_t cash; /* ledger account ids */
    int64_t bonus;
} pb_wallet_accounts;

/* The player's cash and bonus account ids, created when missing. c is the
 * caller's connection (no transaction open on it). */
pb_err pb_wallet_player_accounts(pb_wallet *w, pb_store_conn *c, const char *brand,
                                 const char *player_public_id, const char *currency,
                                 pb_wallet_accounts *out);
/* A brand-side account (kind PB_WALLET_KIND_PROVIDER / PSP / HOUSE with its
 * owner), created when missing. */
pb_err pb_wallet_system_account(pb_wallet *w, pb_store_conn *c, const char *brand,
                                const char *owner, const char *kind, const char *currency,
                                int64_t *id);
/* The same two, found but never created: an id is 0 when its account does not
 * exist (yet). Game operations use these: an account is created only where
 * money is about to move (a refused request creates none). */
pb_err pb_wallet_player_accounts_find(pb_wallet *w, pb_store_conn *c, const char *brand,
                                      const char *player_public_id, const char *currency,
                                      pb_wallet_accounts *out);
pb_err pb_wallet_system_account_find(pb_wallet *w, pb_store_conn *c, const char *brand,
                                     const char *owner, const char *kind, const char *currency,
                                     int64_t *id);

/* ---- the player gate: THE one place that decides whether a player may move money ---- */

typedef enum {
    PB_WALLET_ACTION_BET = 0,
    PB_WALLET_ACTION_DEPOSIT,
    PB_WALLET_ACTION_WITHDRAW,
} pb_wallet_action;

/* PB_OK, PLAYER_NOT_FOUND, PLAYER_BLOCKED (blocked or closed: nothing in or
 * out), PLAYER_SELF_EXCLUDED (bets and deposits; a self-excluded player may
 * still withdraw their money). Later issues (limits, KYC, geo) extend this
 * function, not its callers. */
pb_err pb_wallet_gate(pb_store_conn *c, const char *player_public_id, pb_wallet_action action);

/* ---- the provider gate: THE one place that decides what a provider's catalog
 * status lets through (both protocol adapters ask it, whatever their protocol) ---- */

/*
 * A call of a provider whose catalog status is `status` ("active" | "disabled";
 * anything but "active" counts as switched off): kind is the wallet operation
 * the call drives, or 0 for a call that moves no money (native session and
 * balance, Hub88 user/info and user/balance).
 *   active: PB_OK for everything;
 *   switched off: PROVIDER_DISABLED for the calls that let a player start
 *   playing or stake (0 and PB_WALLET_BET); PB_OK for wins, rollbacks and round
 *   closes: they settle bets placed while the provider was on, money owed to the
 *   player (or given back) that must still reach them.
 * A bet refused here is a final refusal (stored like GAME_DISABLED: see
 * "Idempotency"): the adapter passes it in op->refusal, so the retry of a bet
 * accepted before the switch still gets its answer, and the refused one is
 * refused again when replayed after the provider is switched back on.
 */
pb_err pb_wallet_provider_gate(const char *status, int kind);

/* ---- reading ---- */

typedef struct pb_wallet_balance {
    char currency[8];
    int64_t cash;         /* posted cash */
    int64_t bonus;        /* posted bonus */
    int64_t held;         /* cash held by pending transfers (e.g. withdrawals in flight) */
    int64_t withdrawable; /* cash - held */
    int64_t total;        /* cash - held + bonus: what the player can stake */
} pb_wallet_balance;

/* Committed balances on the caller's connection; zeros when no account exists yet. */
pb_err pb_wallet_balance_get(pb_store_conn *c, const char *brand, const char *player_public_id,
                             const char *currency, pb_wallet_balance *out);

/* One line of a player's history: a ledger transfer that moved their cash or bonus. */
typedef struct pb_wallet_entry {
    pb_id transfer_id;
    int64_t seq;
    uint32_t code;   /* PB_CODE_DEPOSIT, PB_CODE_BET, ... */
    char balance[8]; /* "cash" | "bonus" */
    int64_t amount;  /* signed: + into the player's balance, - out of it */
    uint32_t flags;  /* the transfer's ledger flags (pending, post, void, ...) */
    char reference[PB_LEDGER_REFERENCE_MAX + 1];
    int64_t created_at;
} pb_wallet_entry;

/* An opaque page cursor: the next position in the cash and in the bonus chain. */
#define PB_WALLET_CURSOR_MAX 48

typedef struct pb_wallet_history_query {
    const char *brand, *player_public_id, *currency;
    uint32_t code;      /* 0 = any */
    int64_t from_us;    /* 0 = no bound */
    int64_t to_us;      /* 0 = no bound */
    const char *cursor; /* NULL or "" = newest; else the previous page's next_cursor */
    size_t limit;       /* 1..200 */
} pb_wallet_history_query;

/* Newest first, cash and bonus merged (a transfer between the player's two
 * balances appears once per balance). next_cursor is "" on the last page.
 * INVALID_REQUEST for a malformed or foreign cursor or a bad limit. */
pb_err pb_wallet_history(pb_store_conn *c, const pb_wallet_history_query *q, pb_wallet_entry *out,
                         size_t *n, char next_cursor[PB_WALLET_CURSOR_MAX]);
/* One transfer of the player's, by id: TRANSFER_NOT_FOUND when it is not theirs. */
pb_err pb_wallet_entry_get(pb_store_conn *c, const char *brand, const char *player_public_id,
                           const char *currency, const pb_id *transfer_id, pb_wallet_entry *out);

/* ---- game money ---- */

typedef enum {
    PB_WALLET_BET = 1,
    PB_WALLET_WIN,
    PB_WALLET_ROLLBACK,
    PB_WALLET_ROUND_CLOSE,
} pb_wallet_op_kind;

/* What a protocol adapter stores as the answer to an operation and sends back
 * (again, byte for byte, for a duplicate). */
typedef struct pb_wallet_response {
    int status; /* HTTP status */
    char *body; /* malloc'd; owned by the op after rendering */
    size_t body_len;
} pb_wallet_response;

struct pb_wallet_op;

/* The outcome the adapter renders its response from. */
typedef struct pb_wallet_outcome {
    pb_err result; /* PB_OK or the refusal */
    /* the player's posted balances after the operation (or now, on a refusal) */
    int64_t cash, bonus;
    int64_t held; /* cash held */
    /* this operation's movement of cash (bet: staked; win/rollback: paid back) */
    int64_t cash_part;
    int64_t bonus_part; /* ... of bonus */
    bool bet_unknown;   /* rollback: the bet was never seen (a tombstone was recorded) */
    pb_id transfer_id;  /* the first ledger transfer of the operation (zero when none) */
    int64_t created_at; /* when the operation was recorded */
} pb_wallet_outcome;

/* Renders the response for an outcome. Runs on the ledger writer thread, inside
 * the batch: pure and quick (format JSON, sign), no I/O. Returns 0, or -1 on
 * OOM (the batch then fails with INTERNAL). */
typedef int (*pb_wallet_render_fn)(void *ctx, const struct pb_wallet_op *op,
                                   const pb_wallet_outcome *o, pb_wallet_response *out);

typedef struct pb_wallet_op {
    /* request, filled by the adapter */
    pb_wallet_op_kind kind;
    char provider[PB_WALLET_PROVIDER_MAX + 1]; /* provider code: the idempotency scope */
    char tx_id[PB_WALLET_TXID_MAX + 1];        /* the provider's transaction id */
    char round_id[PB_WALLET_ROUND_MAX + 1];
    char bet_tx_id[PB_WALLET_TXID_MAX + 1]; /* win, rollback: the bet's transaction id */
    /* the game the request named ("" for a rollback, a round close, a native win:
     * then a win's rows take its bet's game) */
    char game[PB_WALLET_GAME_MAX + 1];
    char brand[PB_WALLET_BRAND_MAX + 1]; /* brand code */
    char player[PB_ID_STR_LEN + 1];      /* player public id */
    char currency[8];                    /* the player's (the launch's): the accounts' */
    /* the currency the request named ("" when it named none): part of the
     * request's identity (request_hash in game.c), not the accounts' */
    char request_currency[8];
    int64_t amount; /* bet, win: > 0 (a win may be 0: a losing round's close; a bet
                         0 only with a refusal: a free bet's, stored, nothing moves);
                         rollback, round close: 0 */
    /* bet, win or rollback: close the player's round after this operation (a
     * rollback's only when accepted; no part of a rollback's identity) */
    bool close_round;
    /* A refusal the adapter decided before the wallet (token expired, wrong
     * currency, game not playable or outside its limits, ...). It is applied
     * inside the command AFTER the duplicate check, so that a duplicate of an
     * accepted operation still gets its stored answer; a final one (all of
     * those above: see "Idempotency") is then stored like the wallet's own, so
     * its own duplicate gets it again. PB_OK: none. */
    pb_err refusal;
    char trace_id[PB_LEDGER_TRACE_MAX + 1];
    /* The launch token the request carried, as its SHA-256 (pb_wallet_op_set_token;
     * has_token false: none). Stored with the operation and no part of its
     * identity (a win may come with any of its player's live tokens): once the
     * launch is pruned, it is what says the token of a later win or rollback is
     * the player's (pb_wallet_owner_get). */
    bool has_token;
    uint8_t token_hash[32];
    pb_wallet_render_fn render;
    void *render_ctx;

    /* outcome, filled by the wallet */
    /* PB_OK, a refusal, or INTERNAL / STORE_UNAVAILABLE (nothing happened) */
    pb_err result;
    bool duplicate; /* the stored response of an earlier identical request */
    pb_wallet_outcome outcome;
    pb_wallet_response response; /* status 0 when none was rendered (unstored refusals:
                                    the adapter renders those itself from result) */

    /* private to the wallet */
    struct {
        pb_wallet *w;
        pb_wallet_accounts acc;
        int64_t provider_account;
        int64_t unclaimed_account; /* a closed player's win or refund: its cash (0: none yet) */
        int64_t house_account;     /* ... its bonus share, forfeited (0: none yet) */
        pb_funding_policy policy;
        uint8_t request_hash[32];
        pb_id leg_ref;                         /* its ledger keys' reference (game.c) */
        char bet_game[PB_WALLET_GAME_MAX + 1]; /* a win's bet's game (its rows' when
                                                  the request named none) */
        void (*done)(void *ctx, struct pb_wallet_op *op);
        void *done_ctx;
    } priv;
} pb_wallet_op;

/*
 * Runs an operation: reads what it needs on c (the brand's funding policy,
 * account ids), then runs the operation as a ledger
 * command and, once it is durable, calls done(ctx, op) on a ledger thread.
 * done is always called exactly once (on the calling thread when the operation
 * was refused before reaching the ledger). PB_OK when done was or will be
 * called; INTERNAL (done not called) on OOM.
 */
pb_err pb_wallet_game_submit_async(pb_wallet *w, pb_store_conn *c, pb_wallet_op *op,
                                   void (*done)(void *ctx, pb_wallet_op *op), void *ctx);
/* The same, waiting for the outcome. Returns op->result. */
pb_err pb_wallet_game_submit(pb_wallet *w, pb_store_conn *c, pb_wallet_op *op);
/* Frees op->response.body. */
void pb_wallet_op_release(pb_wallet_op *op);
/* Records the request's launch token on op: its SHA-256, the digest the catalog
 * keys launches by. NULL or "": none. */
void pb_wallet_op_set_token(pb_wallet_op *op, const char *token);

/* Whose an operation is when no launch says it (a win or rollback arriving
 * after its launch was pruned). */
typedef struct pb_wallet_owner {
    char brand[PB_WALLET_BRAND_MAX + 1];
    char player[PB_ID_STR_LEN + 1]; /* public id */
    char currency[8];               /* the player's: the accounts' */
    char game[PB_WALLET_GAME_MAX + 1];
} pb_wallet_owner;

/*
 * The owner of provider's operation tx_id if it is stored (its retry), else of
 * the bet bet_tx_id (NULL: none) if it was stored, placed or refused (so the
 * rollback of a refused bet completes after the prune too), for a request
 * carrying the launch token `token`.
 *
 * The token: with its launch there, a win or rollback may carry any token of
 * the bet's player (of this provider, expired or not; the adapter checks the
 * launch's player, the wallet the bet's). Once the launch is pruned, the
 * player of an unknown token cannot be told, so it must be a token the wallet
 * recorded for this player: the one the bet came with, or the one the
 * operation itself came with (its retry). Rows written before 0032 record
 * none; when neither row has one, any token is taken (the behaviour before).
 *
 * PB_OK; TOKEN_INVALID when a token is recorded and `token` is none of them
 * (out left zeroed); BET_NOT_FOUND when the wallet knows neither operation;
 * STORE_UNAVAILABLE or INTERNAL. Reads on c.
 */
pb_err pb_wallet_owner_get(pb_store_conn *c, const char *provider, const char *tx_id,
                           const char *bet_tx_id, const char *token, pb_wallet_owner *out);

/*
 * Whose a round close is when no launch says it (a native close names only its
 * round; its launch was pruned): the owner of provider's operation tx_id if it
 * is stored (the close's retry), else the one player whose accepted bets are on
 * round_id (when there are none, whose stored refusals or accepted rollbacks
 * are: a round whose bets were all refused or rolled back before they arrived),
 * for a request carrying the launch token `token`: as for a win
 * (pb_wallet_owner_get), it must be a token the wallet recorded for that
 * player, on one of those rows or on the close's own row
 * (its retry); when none of those rows records one (before 0032), any token is
 * taken. PB_OK; ROUND_NOT_FOUND when the wallet knows neither; ROUND_MISMATCH
 * when several players have bets on that round id (a live table's provider
 * gives them all the same one: rounds are per player, and the id alone cannot
 * say whose round to close); TOKEN_INVALID when a token is recorded and
 * `token` is none of them (out left zeroed); STORE_UNAVAILABLE or INTERNAL.
 * Reads on c.
 */
pb_err pb_wallet_round_owner_get(pb_store_conn *c, const char *provider, const char *tx_id,
                                 const char *round_id, const char *token, pb_wallet_owner *out);

#endif
