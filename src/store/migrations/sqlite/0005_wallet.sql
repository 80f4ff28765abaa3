-- 0005 wallet: the game-money operations providers send (bet, win, rollback,
-- round close), the bets they refer to and the rounds they belong to. Written by
-- the wallet's ledger commands in the same transaction as their transfers.
-- Times are int64 microseconds since the Unix epoch (UTC); amounts are int64
-- minor units of the player's currency.

-- One row per (provider, transaction id) that reached a decision: the request's
-- hash (to tell a duplicate from a conflicting reuse of the id), the outcome,
-- and the response the protocol adapter rendered, returned again byte for byte
-- to a duplicate. INSERT-only.
-- A rowid table: rows (with their responses) are appended in the order they were
-- decided; the lookup by (provider, tx_id) goes through a narrow index.
CREATE TABLE wallet_op (
    seq             INTEGER PRIMARY KEY,
    provider        TEXT    NOT NULL,
    tx_id           TEXT    NOT NULL,
    kind            INTEGER NOT NULL,  -- 1 bet, 2 win, 3 rollback, 4 round close
    request_hash    BLOB    NOT NULL,  -- SHA-256 of the canonical request
    brand           TEXT    NOT NULL,
    player          TEXT    NOT NULL,  -- public id
    currency        TEXT    NOT NULL,
    round_id        TEXT    NOT NULL,
    bet_tx_id       TEXT    NOT NULL DEFAULT '',
    game            TEXT    NOT NULL DEFAULT '',
    amount          INTEGER NOT NULL,
    result          TEXT    NOT NULL,  -- 'OK' or the refusal's stable code
    cash_part       INTEGER NOT NULL,
    bonus_part      INTEGER NOT NULL,
    cash_after      INTEGER NOT NULL,
    bonus_after     INTEGER NOT NULL,
    held_after      INTEGER NOT NULL,
    bet_unknown     INTEGER NOT NULL DEFAULT 0,
    transfer_id     BLOB,              -- the first ledger transfer, NULL when none
    response_status INTEGER NOT NULL,
    response        BLOB    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX wallet_op_tx ON wallet_op (provider, tx_id);

-- A bet and what became of it. state: 'placed', 'rolled_back', or 'tombstone'
-- (a rollback arrived for a bet never seen: the bet is refused if it comes later).
-- The stake's split is kept so wins and refunds go back in the same proportions.
CREATE TABLE wallet_bet (
    provider    TEXT    NOT NULL,
    bet_tx_id   TEXT    NOT NULL,
    player      TEXT    NOT NULL,
    round_id    TEXT    NOT NULL,
    cash_part   INTEGER NOT NULL,
    bonus_part  INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('placed', 'rolled_back', 'tombstone')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, bet_tx_id)
) WITHOUT ROWID;

-- A provider's round once something happened to it besides bets: a win was paid
-- on it (a rollback is then refused) or it was closed (no more bets or wins). A
-- round with bets only has no row here: its bets (wallet_bet) say whose it is.
CREATE TABLE wallet_round (
    provider    TEXT    NOT NULL,
    round_id    TEXT    NOT NULL,
    player      TEXT    NOT NULL,
    game        TEXT    NOT NULL DEFAULT '',
    has_win     INTEGER NOT NULL DEFAULT 0,
    closed      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, round_id)
) WITHOUT ROWID;
